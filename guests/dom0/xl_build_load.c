/*
 * xl_build_load.c — lab 4's step of the domain builder: put the kernel's
 * segments into the new domain's memory.
 *
 * The hypervisor made an empty domain and gave it frames; Dom0 cannot see
 * them until it maps them into its own guest-physical space, a page at a
 * time (xl_guest_page(): a foreign mapping, XENMAPSPACE_gmfn_foreign). This
 * is the heart of Xen's libxenguest (xc_dom_core.c, xc_dom_elfloader.c).
 */
#include "xl_build.h"

/*
 * LAB 4: copy every PT_LOAD segment of build->kernel into the new domain.
 *
 * A segment's bytes go to guest-physical build->...paddr: its first filesz
 * bytes from the file at offset, then zeros up to memsz (.bss; the frames
 * come zeroed, but write them: a builder must not rely on it). A segment
 * spans pages, and need not start on a page boundary: for each guest page
 * it touches, get a pointer with xl_guest_page(build, paddr / 4096) and copy
 * the part that falls in that page. xl_build.c already checked that every
 * segment lies inside the file and inside the domain.
 *
 * Return 0, or -1 if xl_guest_page() failed (it said why).
 * See: labs/lab4/README.md, "The builder"; System V ABI, "Program Header".
 */
int xl_load_segments(struct xl_build *build)
{
	(void)build;
	gprintf("xl create: LAB 4: xl_load_segments() is not written yet (guests/dom0/xl_build_load.c)\n");
	return -1;
}
