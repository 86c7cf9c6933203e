/*
 * xl_config_tool.c — Dom0's config reader (guests/dom0/xl_config.c) on the
 * host: reads a config file and prints every field, or the error and exit
 * status 1. Built by grader/unit/test_dom0_xl_config.py.
 */
#include <stdio.h>

#include "xl_config.h"

int main(int argc, char **argv)
{
	static char text[1 << 16];
	static struct xl_config c;
	char error[XL_ERROR_MAX];
	if (argc != 2)
		return 2;
	FILE *f = fopen(argv[1], "rb");
	if (!f)
		return 2;
	size_t n = fread(text, 1, sizeof(text), f);
	fclose(f);
	if (xl_config_parse("vm.cfg", text, n, &c, error)) {
		printf("error: %s\n", error);
		return 1;
	}
	printf("name=%s\ntype=%s\nmemory=%llu\nvcpus=%u\nkernel=%s\nramdisk=%s\ncmdline=%s\n", c.name,
	       xl_type_name(c.type), (unsigned long long)c.memory_mib, c.vcpus, c.kernel, c.ramdisk, c.cmdline);
	for (int i = 0; i < c.disk_count; i++)
		printf("disk=%s %s %s\n", c.disks[i].target, c.disks[i].vdev, c.disks[i].readonly ? "ro" : "rw");
	printf("on_poweroff=%s\non_reboot=%s\non_crash=%s\non_watchdog=%s\n", xl_action_name(c.on_poweroff),
	       xl_action_name(c.on_reboot), xl_action_name(c.on_crash), xl_action_name(c.on_watchdog));
	return 0;
}
