/*
 * domain.c — creating and ending domains.
 *
 * A domain is created from a guest image and a handful of options; either
 * it is created whole, or a line says what was wrong and nothing is left
 * behind. Its memory is a set of frames that need not be contiguous: the
 * p2m ("physical to machine", Xen's name) array maps each guest frame
 * number to the host frame that backs it.
 */
#include "console.h"
#include "cpu.h"
#include "domain.h"
#include "grant_table.h"
#include "image.h"
#include "linux_boot.h"
#include "mm.h"
#include "paging.h"
#include "string.h"
#include "svm.h"
#include "vcpu.h"
#include "vmx.h"
#include "x86.h"

#define DEFAULT_MEMORY (16ull << 20)
#define MAX_MEMORY (1ull << 30) /* 1 GiB: what the initial identity tables cover */
#define GUEST_CMDLINE_MAX 512

unsigned next_domain_id = 1; /* Dom0 is 0; DomUs from 1, never reused while the host runs */

/* "16M", "4096K", "2G" or bytes. Returns 0 for nonsense. */
static uint64_t parse_size(const char *s)
{
	const char *end;
	uint64_t n = parse_u64(s, &end);
	switch (*end) {
	case 'K': case 'k': n <<= 10; end++; break;
	case 'M': case 'm': n <<= 20; end++; break;
	case 'G': case 'g': n <<= 30; end++; break;
	}
	return *end ? 0 : n;
}

struct domain_config {
	char name[DOMAIN_NAME_MAX];
	uint64_t memory;
	enum paging_mode paging;
	bool hvm;
	bool dirty_logging;
	bool umip;
	bool shadow_cache;
	bool dom0;          /* the module marked "dom0": domain 0, the privileged one (DESIGN §10) */
	bool type_given;    /* type= or mode= was said: Dom0's default (hvm, nested) does not apply */
	char guest_cmdline[GUEST_CMDLINE_MAX];
};

/* Split a module's command line into the hypervisor's options (name= mem=
 * mode=) and the guest's command line (everything else). The first word is
 * the module's file name (QEMU and GRUB put it there). */
static const char *parse_config(const char *options, struct domain_config *cfg)
{
	char word[128];
	ksnprintf(cfg->name, sizeof(cfg->name), "d%u", next_domain_id);
	cfg->memory = DEFAULT_MEMORY;
	cfg->paging = PAGING_DIRECT;
	cfg->hvm = false;
	cfg->dirty_logging = false;
	cfg->umip = true;
	cfg->shadow_cache = true;
	cfg->dom0 = false;
	cfg->type_given = false;
	cfg->guest_cmdline[0] = '\0';
	bool named = false;
	size_t used = 0;
	bool first = true;
	size_t n;
	for (const char *p = options, *start; (start = next_word(&p, &n));) {
		if (n >= sizeof(word))
			return "an option is too long";
		memcpy(word, start, n);
		word[n] = '\0';
		bool file_name = first && !strchr(word, '=');
		first = false;
		if (file_name)
			continue;
		if (strncmp(word, "name=", 5) == 0) {
			if (!word[5] || strlcpy(cfg->name, word + 5, sizeof(cfg->name)) >= sizeof(cfg->name))
				return "name= must have 1 to 31 characters";
			named = true;
		} else if (strcmp(word, "dom0") == 0) {
			cfg->dom0 = true;
		} else if (strncmp(word, "mem=", 4) == 0) {
			cfg->memory = parse_size(word + 4);
			if (cfg->memory < (1ull << 20) || cfg->memory > MAX_MEMORY || cfg->memory % PAGE_SIZE)
				return "mem= must be a multiple of 4K between 1M and 1G";
		} else if (strcmp(word, "dirtylog=1") == 0) {
			cfg->dirty_logging = true;
		} else if (strcmp(word, "type=pv") == 0 || strcmp(word, "type=hvm") == 0) {
			cfg->hvm = word[5] == 'h';
			cfg->type_given = true;
		} else if (strcmp(word, "umip=0") == 0 || strcmp(word, "umip=1") == 0) {
			cfg->umip = word[5] == '1';
		} else if (strcmp(word, "shadowcache=0") == 0 || strcmp(word, "shadowcache=1") == 0) {
			cfg->shadow_cache = word[12] == '1';
		} else if (strncmp(word, "mode=", 5) == 0) {
			cfg->type_given = true;
			if (strcmp(word + 5, "pv") == 0)
				cfg->paging = PAGING_DIRECT;
			else if (strcmp(word + 5, "shadow") == 0)
				cfg->paging = PAGING_SHADOW;
			else if (strcmp(word + 5, "nested") == 0)
				cfg->paging = PAGING_NESTED;
			else
				return "mode= must be one of pv, shadow, nested";
		} else {
			if (used + n + 2 > sizeof(cfg->guest_cmdline))
				return "the guest's command line is too long";
			if (used)
				cfg->guest_cmdline[used++] = ' ';
			memcpy(cfg->guest_cmdline + used, word, n + 1);
			used += n;
		}
	}
	/* Dom0 is an HVM guest on nested paging unless told otherwise (DESIGN §10). */
	if (cfg->dom0 && !cfg->type_given)
		cfg->hvm = true, cfg->paging = PAGING_NESTED;
	if (cfg->dom0 && !named)
		strlcpy(cfg->name, "Domain-0", sizeof(cfg->name));
	/* Nested paging needs the hardware; direct mapping needs a deprivileged guest. */
	if (cfg->paging == PAGING_NESTED)
		cfg->hvm = true;
	if (cfg->hvm && cfg->paging == PAGING_DIRECT)
		return "type=hvm needs mode=shadow or mode=nested";
	return NULL;
}

paddr_t domain_gpa_to_hpa(const struct domain *d, uint64_t gpa)
{
	if (gpa >= d->memory_bytes || !d->p2m[gpa / PAGE_SIZE])
		return 0;
	return d->p2m[gpa / PAGE_SIZE] + gpa % PAGE_SIZE;
}

void domain_mark_dirty(struct domain *d, uint64_t gpa)
{
	uint64_t gfn = gpa / PAGE_SIZE;
	if (!d->dirty_logging || gfn >= d->page_count || (d->dirty_bitmap[gfn / 8] & (1u << (gfn % 8))))
		return;
	d->dirty_bitmap[gfn / 8] |= (uint8_t)(1u << (gfn % 8));
	d->dirty_pages++;
}

bool domain_map_nested(struct domain *d, uint64_t gpa, paddr_t hpa, bool writable)
{
	gpa = ALIGN_DOWN(gpa, PAGE_SIZE), hpa = ALIGN_DOWN(hpa, PAGE_SIZE);
	if (d->ept) /* Intel's format (kernel/vmx/ept.c) */
		return ept_map(d->pml4, gpa, hpa, writable);
	/* AMD's: an x86 page table, whose entries need U=1 (APM §15.25.5). */
	return paging_map(d->pml4, gpa, hpa, PTE_USER | (writable ? PTE_WRITE : 0));
}

bool domain_populate(struct domain *d, uint64_t gpa)
{
	uint64_t gfn = gpa / PAGE_SIZE;
	if (gpa >= d->memory_bytes || d->p2m[gfn])
		return false;
	paddr_t frame = frame_alloc();
	/* Under dirty logging a page starts read-only: its first write faults
	 * and is recorded (see exit_nested_page_fault). */
	if (!frame || !domain_map_nested(d, gfn * PAGE_SIZE, frame, !d->dirty_logging)) {
		if (frame)
			frame_free(frame);
		domain_crash(d, "out of host memory for its guest-physical page 0x%lx", gfn * PAGE_SIZE);
		return false;
	}
	d->p2m[gfn] = frame;
	d->pages_populated++;
	return true;
}

/* Copy between guest memory and a hypervisor buffer, page by page (guest
 * frames are not contiguous in host memory). A page the guest never touched
 * reads as zeros; writing one populates it. */
static bool copy_guest(struct domain *d, uint64_t gpa, void *buf, size_t size, bool to_guest)
{
	if (gpa > d->memory_bytes || size > d->memory_bytes - gpa)
		return false;
	uint8_t *p = buf;
	while (size) {
		size_t chunk = MIN(size, PAGE_SIZE - gpa % PAGE_SIZE);
		if (!domain_gpa_to_hpa(d, gpa)) {
			if (!to_guest) {
				memset(p, 0, chunk);
				gpa += chunk, p += chunk, size -= chunk;
				continue;
			}
			if (!domain_populate(d, gpa))
				return false;
		}
		void *host = phys_to_virt(domain_gpa_to_hpa(d, gpa));
		if (to_guest && grant_gpa_readonly(d, gpa)) /* a grant mapped read-only: not even the hypervisor writes it */
			return false;
		if (to_guest)
			domain_mark_dirty(d, gpa);
		if (to_guest)
			memcpy(host, p, chunk);
		else
			memcpy(p, host, chunk);
		gpa += chunk, p += chunk, size -= chunk;
	}
	return true;
}

bool domain_read(const struct domain *d, uint64_t gpa, void *dst, size_t size)
{
	return copy_guest((struct domain *)d, gpa, dst, size, false); /* reads never populate */
}

bool domain_write(struct domain *d, uint64_t gpa, const void *src, size_t size)
{
	return copy_guest(d, gpa, (void *)src, size, true);
}

const struct vcpu_ops *domain_backend(bool hvm)
{
	return !hvm ? &pv_vcpu_ops : cpu.vmx && cpu.ept && !cpu.svm ? &vmx_vcpu_ops : &svm_vcpu_ops;
}

bool domain_alloc_tables(struct domain *d)
{
	d->page_count = d->memory_bytes / PAGE_SIZE;
	d->p2m = kzalloc(d->page_count * sizeof(uint64_t));
	/* An HVM guest at CPL 0 on shadow tables must not find the hypervisor's
	 * half in them: its root is its own. */
	d->pml4 = d->ept ? ept_create()
		: d->hvm && d->paging == PAGING_SHADOW ? paging_create_guest_root() : paging_create_address_space();
	return d->p2m && d->pml4;
}

/* Give the domain its frames and, for pv, an address space mapping them at
 * guest-virtual == guest-physical with U=1. Page 0 stays unmapped so that a
 * guest's NULL dereference faults, as it would natively under the shim. */
static bool allocate_memory(struct domain *d)
{
	if (!domain_alloc_tables(d))
		return false;
	/* Nested paging: RAM comes on first touch, by nested page
	 * fault (domain_populate), as Linux KVM populates guest memory. */
	if (d->lazy_memory)
		return true;
	for (uint64_t gfn = 0; gfn < d->page_count; gfn++) {
		d->p2m[gfn] = frame_alloc();
		if (!d->p2m[gfn])
			return false;
		/* direct: the guest's address space, page 0 left out so NULL faults.
		 * nested: the nested page table, every frame (the guest's own tables
		 * decide what page 0 is); NPT entries need U=1 (APM §15.25.5).
		 * shadow: starts empty, every page comes by fault. */
		bool map = (d->paging == PAGING_DIRECT && gfn) || d->paging == PAGING_NESTED;
		if (map && !paging_map(d->pml4, gfn * PAGE_SIZE, d->p2m[gfn], PTE_USER | PTE_WRITE))
			return false;
	}
	return true;
}

bool domain_start_vcpu(struct domain *d, uint64_t rip, uint64_t rsp, uint64_t rdi, bool shadow_cache)
{
	if (!d->vcpu && !(d->vcpu = vcpu_create(d, domain_backend(d->hvm))))
		return false;
	d->vcpu->regs.rip = rip;
	d->vcpu->regs.rsp = rsp;
	d->vcpu->regs.rdi = rdi;
	d->vcpu->regs.rflags = 0x2;
	/* HVM: long mode on identity tables of the hypervisor's making (shadow.c). */
	if (d->paging != PAGING_DIRECT && !(d->vcpu->cr3 = shadow_build_initial_tables(d)))
		return false;
	if (d->paging == PAGING_SHADOW)
		shadow_init(d, shadow_cache);
	if (d->vcpu->ops == &svm_vcpu_ops) /* vmx loads CR3 from the vcpu at every entry */
		svm_load_guest_cr3(d->vcpu);
	return true;
}

void domain_destroy(struct domain *d)
{
	if (!d)
		return;
	foreign_unmap_all(d); /* Dom0's mappings of it, or (Dom0) its mappings of others */
	evtchn_release(d); /* destroyed while running (XEN_DOMCTL_destroydomain): its peers are told too */
	grant_table_destroy(d); /* no p2m, its own or another's, may lead to its frames once they are freed */
	if (d->vcpu)
		vcpu_destroy(d->vcpu);
	shadow_destroy(d); /* mode=shadow: every cached shadow root, d->pml4 among them */
	if (d->pml4 && d->ept)
		ept_destroy(d->pml4);
	else if (d->pml4)
		paging_destroy_address_space(d->pml4);
	for (uint64_t gfn = 0; d->p2m && gfn < d->page_count; gfn++)
		if (d->p2m[gfn])
			frame_free(d->p2m[gfn]);
	kfree(d->p2m);
	kfree(d->dirty_bitmap);
	kfree(d);
}

struct domain *domain_create(const void *image, size_t size, const char *options)
{
	return domain_create_with_initrd(image, size, options, NULL, 0);
}

struct domain *domain_create_with_initrd(const void *image, size_t size, const char *options, const void *initrd,
					 size_t initrd_size)
{
	static struct domain_config cfg;
	static struct linux_boot linux_info;
	struct image_info info;
	const char *problem = parse_config(options, &cfg);
	/* A bzImage is an unmodified Linux kernel (dom/linux_boot.c). */
	bool bzimage = !problem && linux_is_bzimage(image, size);
	if (!problem && !bzimage && linux_foreign_kernel(image, size))
		problem = linux_foreign_kernel(image, size)[0] == 'a' ? "a Linux kernel for arm64, not x86-64"
								       : "a Linux kernel for RISC-V, not x86-64";
	/* An ELF32 is a native multiboot kernel, which only the hardware can run
	 * unmodified (DESIGN §5: the very binary QEMU boots natively). */
	bool multiboot = !problem && !bzimage && size > 4 && ((const uint8_t *)image)[4] == 1;
	if (!problem && bzimage) {
		problem = linux_check(image, size, initrd_size, cfg.memory, &linux_info);
		info = (struct image_info){.entry = linux_info.entry};
	} else if (!problem) {
		problem = multiboot ? multiboot_image_check(image, size, cfg.memory, &info)
				    : image_check(image, size, cfg.memory, &info);
	}
	if (!problem && initrd_size && !bzimage)
		problem = "an initrd goes only with a Linux bzImage";
	if (!problem && bzimage && (!cfg.hvm || !(cpu.svm || (cpu.vmx && cpu.ept))))
		problem = "a Linux bzImage runs only as type=hvm (mode=nested or mode=shadow), under AMD SVM or Intel VMX "
			  "with EPT";
	/* Under VMX the emulated MOV to CR4 refuses PCIDE, which Linux sets when CPUID offers
	 * PCID (docs/linux.md, "Under Intel VMX"): shadow paging does not boot it yet. */
	if (!problem && bzimage && !cpu.svm && cfg.paging == PAGING_SHADOW)
		problem = "a Linux bzImage under VMX runs only with mode=nested (so far)";
	if (!problem && multiboot && cfg.paging != PAGING_NESTED)
		problem = "a native multiboot kernel runs only with mode=nested";
	if (!problem && cfg.hvm && !(cpu.svm ? svm_enable() : vmx_enable()))
		problem = "type=hvm and mode=nested need AMD SVM with nested paging or Intel VMX with EPT";
	/* A multiboot kernel starts with paging off: VMX runs that only with
	 * "unrestricted guest" (SVM always can). */
	if (!problem && multiboot && !cpu.svm && !vmx_unrestricted_guest())
		problem = "a native multiboot kernel starts with paging off, which needs VMX's unrestricted guest; "
			  "this CPU lacks it";
	if (!problem && cfg.dom0 && domain_lookup(0))
		problem = "there is a Dom0 already (one module only may say dom0)";
	if (problem) {
		kprintf("[hv] domain '%s' refused: %s\n", cfg.name, problem);
		return NULL;
	}

	struct domain *d = kzalloc(sizeof(*d));
	if (!d) {
		kprintf("[hv] domain '%s' refused: out of memory\n", cfg.name);
		return NULL;
	}
	d->id = cfg.dom0 ? 0 : next_domain_id;
	d->privileged = cfg.dom0;
	strlcpy(d->name, cfg.name, sizeof(d->name));
	d->memory_bytes = cfg.memory;
	d->paging = cfg.paging;
	d->hvm = cfg.hvm;
	d->umip = cfg.umip;
	const struct vcpu_ops *ops = domain_backend(d->hvm);
	d->lazy_memory = d->paging == PAGING_NESTED;
	d->ept = d->lazy_memory && ops == &vmx_vcpu_ops;
	/* Dirty logging rides on the nested page table's write protection
	 * (the hook lab 6's live migration needs). */
	d->dirty_logging = cfg.dirty_logging && d->lazy_memory;
	if (cfg.dirty_logging && !d->dirty_logging) {
		kprintf("[hv] domain '%s' refused: dirtylog=1 needs mode=nested\n", cfg.name);
		kfree(d);
		return NULL;
	}
	d->state = DOMAIN_RUNNABLE;

	/* The guest's command line goes in its last page; RDI points at it. */
	uint64_t cmdline_gpa = d->memory_bytes - PAGE_SIZE;
	if (d->dirty_logging && !(d->dirty_bitmap = kzalloc(d->memory_bytes / PAGE_SIZE / 8 + 1))) {
		kprintf("[hv] domain '%s' refused: out of memory\n", cfg.name);
		kfree(d);
		return NULL;
	}
	if (!allocate_memory(d) ||
	    !(bzimage     ? linux_load(d, image, initrd, cfg.guest_cmdline, &linux_info)
	      : multiboot ? multiboot_image_load(d, image)
			  : image_load(d, image)) ||
	    !domain_write(d, cmdline_gpa, cfg.guest_cmdline, strlen(cfg.guest_cmdline) + 1) ||
	    !domain_start_vcpu(d, info.entry, info.note.stack_top, cmdline_gpa, cfg.shadow_cache)) {
		kprintf("[hv] domain '%s' refused: out of memory\n", cfg.name);
		domain_destroy(d);
		return NULL;
	}
	if (multiboot) {
		/* Multiboot spec §3.2: EAX the magic, EBX the information block. */
		(d->ept ? vmx_enter_protected_mode : svm_enter_protected_mode)(d->vcpu);
		d->vcpu->regs = (struct vcpu_regs){.rip = info.entry, .rax = 0x2badb002,
						   .rbx = multiboot_build_info(d, cfg.guest_cmdline),
						   .rflags = d->vcpu->regs.rflags};
	}
	if (bzimage)
		linux_enter(d->vcpu, &linux_info);
	if (d->dirty_logging) { /* the log starts with the guest: what loading it wrote does not count */
		memset(d->dirty_bitmap, 0, d->memory_bytes / PAGE_SIZE / 8 + 1);
		d->dirty_pages = 0;
	}
	if (!cfg.dom0)
		next_domain_id++;
	kprintf("[hv] d%u '%s' created: %lu KiB, mode %s%s, entry 0x%lx, cmdline \"%s\"\n", d->id, d->name,
		d->memory_bytes >> 10, d->vcpu->ops->name, d->paging == PAGING_SHADOW ? " (shadow paging)" : "",
		info.entry, cfg.guest_cmdline);
	return d;
}

void domain_console_putc(struct domain *d, char c)
{
	if (c == '\r')
		return;
	if (c != '\n' && d->console_length < sizeof(d->console) - 1) {
		d->console[d->console_length++] = c;
		return;
	}
	d->console[d->console_length] = '\0';
	if (d->created_tsc) { /* made by Dom0's builder: how long from createdomain to its first line */
		kprintf("[hv] d%u first console line %lu TSC cycles after createdomain\n", d->id,
			rdtsc() - d->created_tsc);
		d->created_tsc = 0;
	}
	kprintf("[d%u] %s\n", d->id, d->console);
	d->console_length = 0;
	if (c != '\n')
		d->console[d->console_length++] = c;
}

static void flush_console(struct domain *d)
{
	if (d->console_length)
		domain_console_putc(d, '\n');
	vuart_end_line(d); /* an interactive console's half line (a prompt) */
}

void domain_exit(struct domain *d, uint32_t code)
{
	if (d->state != DOMAIN_RUNNABLE)
		return;
	flush_console(d);
	d->state = DOMAIN_EXITED;
	grant_table_release(d), evtchn_release(d); /* lab 4: a dying domain lets go of others */
	d->exit_code = code;
	d->shutdown_reason = code; /* SCHEDOP_shutdown with one of Xen's reasons says which after us */
	kprintf("[hv] d%u exited: code 0x%x\n", d->id, code);
}

void domain_crash(struct domain *d, const char *fmt, ...)
{
	if (d->state != DOMAIN_RUNNABLE)
		return;
	flush_console(d);
	d->state = DOMAIN_CRASHED;
	d->shutdown_reason = SHUTDOWN_crash;
	grant_table_release(d), evtchn_release(d); /* lab 4: a dying domain lets go of others */
	kprintf("[hv] d%u crashed: ", d->id);
	va_list ap;
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf(" at RIP 0x%lx\n", d->vcpu ? d->vcpu->regs.rip : 0);
}
