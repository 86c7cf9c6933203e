/**
 * @file xl_config.h
 * @brief The domain configuration file `xl create` reads, in xl.cfg(5) syntax.
 *
 * A config is lines of `KEY = VALUE`, `#` comments, values that are numbers,
 * strings in '...' or "...", or lists `[ v, v ]` (which may span lines):
 *
 *     name = "hello"
 *     type = "pv"
 *     memory = 16
 *     kernel = "/guests/hello.elf"
 *     cmdline = "nonce=42"
 *     disk = [ 'disk/hello.img,raw,xvda,rw' ]
 *     on_crash = "preserve"
 *
 * The keys are Xen's (docs/man/xl.cfg.5.pod in Xen's tree) and keep Xen's
 * defaults; a key xl knows but the kit does not, a key nobody knows, a value
 * of the wrong kind or a missing `name` is refused with the line and the key,
 * and nothing is created from a config that failed.
 */
#ifndef DOM0_XL_CONFIG_H
#define DOM0_XL_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#define XL_NAME_MAX 64      /**< a domain name's bytes, with its NUL */
#define XL_PATH_MAX 256     /**< a file on Dom0's disk */
#define XL_CMDLINE_MAX 1024 /**< the guest's command line */
#define XL_DISKS_MAX 4      /**< disks a domain may have */
#define XL_ERROR_MAX 200    /**< an error message */

/** type = ... (xl.cfg "type"). */
enum xl_type { XL_TYPE_PV, XL_TYPE_PVH, XL_TYPE_HVM };

/** What the toolstack does when the domain stops (xl.cfg "on_poweroff" and the rest). */
enum xl_action {
	XL_ACTION_DESTROY,
	XL_ACTION_RESTART,
	XL_ACTION_RENAME_RESTART,
	XL_ACTION_PRESERVE,
	XL_ACTION_COREDUMP_DESTROY,
	XL_ACTION_COREDUMP_RESTART,
};

/** One disk = [ '...' ] entry (Xen's docs/misc/xl-disk-configuration.txt). */
struct xl_disk {
	char target[XL_PATH_MAX]; /**< the image file on Dom0's disk */
	char vdev[16];            /**< the guest's name for it: xvda, xvdb, ... */
	bool readonly;            /**< access=ro (default rw) */
};

/** A parsed config: every field has Xen's default unless the file set it. */
struct xl_config {
	char name[XL_NAME_MAX];
	enum xl_type type;             /**< default pv */
	uint64_t memory_mib;           /**< default 128 */
	uint32_t vcpus;                /**< default 1 (the only count the kit runs) */
	char kernel[XL_PATH_MAX];
	char ramdisk[XL_PATH_MAX];
	char cmdline[XL_CMDLINE_MAX];
	struct xl_disk disks[XL_DISKS_MAX];
	int disk_count;
	enum xl_action on_poweroff;    /**< default destroy */
	enum xl_action on_reboot;      /**< default restart */
	enum xl_action on_crash;       /**< default destroy */
	enum xl_action on_watchdog;    /**< default destroy */
};

/**
 * Parse @p text (@p length bytes, from the file @p file_name) into @p config.
 * @return 0, or -1 with a message naming the file, line and key in @p error.
 */
int xl_config_parse(const char *file_name, const char *text, uint64_t length, struct xl_config *config,
		    char *error);
/** The word xl.cfg uses for @p action ("destroy", "restart", ...). */
const char *xl_action_name(enum xl_action action);
/** "pv", "pvh" or "hvm". */
const char *xl_type_name(enum xl_type type);

#endif
