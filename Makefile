# Hypatia — the one entry point.
#
#   make              build the hypervisor (your code: build/stub/)
#   make qemu         boot it in QEMU, serial console on this terminal (Ctrl-a x quits)
#   make qemu-gdb     the same, stopped, waiting for GDB;   make gdb   attach GDB
#   make bochs        boot it in Bochs (the VMX + EPT path of lab 3)
#   make grade LAB=n  grade lab n;   make test   the whole test suite
#   make demo         the reference system running (builds with every solution)
#   make bench, make docs, make handout OUT=dir, make handin, make batch, make deps, make clean
#   make grade-under-load   every lab graded 4 times at once: same scores as alone
#
#   SOL=all or SOL=0,1   build with the reference solutions of those labs overlaid
#                        (instructors; a handout has no solutions/)

PYTHON   := /usr/bin/python3
CC       := gcc
LD       := ld
OBJCOPY  := objcopy
NM       := nm
QEMU     := qemu-system-x86_64
GDB      := gdb
VERSION  := 0.1.0

comma := ,
empty :=
space := $(empty) $(empty)

# --- which solutions are overlaid -------------------------------------------
LAB_NUMBERS := $(sort $(patsubst labs/lab%,%,$(wildcard labs/lab[0-9]*)))
SOL ?=
SOL_LABS := $(if $(filter all,$(SOL)),$(LAB_NUMBERS),$(subst $(comma),$(space),$(SOL)))
VARIANT  := $(if $(strip $(SOL_LABS)),sol-$(subst $(space),-,$(strip $(SOL_LABS))),stub)
BUILD    := build/$(VARIANT)
SOL_ALL_VARIANT := sol-$(subst $(space),-,$(strip $(LAB_NUMBERS)))
# A student file's source: the reference version of the latest overlaid lab
# that has one, else the file in kernel/ itself.
reverse  = $(if $(1),$(call reverse,$(wordlist 2,$(words $(1)),$(1))) $(firstword $(1)))
pick_src = $(firstword $(wildcard $(foreach n,$(call reverse,$(SOL_LABS)),solutions/lab$(n)/$(1))) $(1))

# --- the hypervisor -----------------------------------------------------------
KERNEL_SRCS := $(sort $(shell find kernel -name '*.c' -o -name '*.S'))
KERNEL_OBJS := $(patsubst %,$(BUILD)/%.o,$(KERNEL_SRCS))
KERNEL      := $(BUILD)/kernel/hypatia.elf
KERNEL32    := $(BUILD)/kernel/hypatia32.elf

KERNEL_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror \
	-ffreestanding -nostdinc -isystem $(shell $(CC) -print-file-name=include) \
	-fno-pic -fno-pie -mcmodel=kernel -mno-red-zone -mgeneral-regs-only \
	-fno-stack-protector -fno-omit-frame-pointer -fno-optimize-sibling-calls \
	-fno-tree-loop-distribute-patterns -fno-asynchronous-unwind-tables \
	-Ikernel/include -idirafter guests/include -MMD -MP \
	-DHYPATIA_VERSION='"$(VERSION)"' -DHYPATIA_BUILD='"$(VARIANT)"'
KERNEL_LDFLAGS := -nostdlib -z max-page-size=0x1000 -z noexecstack --no-warn-rwx-segments -T kernel/kernel.ld

.DEFAULT_GOAL := all
all: $(KERNEL32) guests dom0-image
.PHONY: all

# One rule per source, so an overlaid solution compiles to the same object path
# and finds the private headers beside the file it replaces (-iquote).
define compile_rule
$(BUILD)/$(1).o: $(call pick_src,$(1)) Makefile | deps-quiet
	@mkdir -p $$(dir $$@)
	@echo "  CC      $$<"
	@$(CC) $(KERNEL_CFLAGS) -iquote $(dir $(1)) -c $$< -o $$@
endef
$(foreach src,$(KERNEL_SRCS),$(eval $(call compile_rule,$(src))))

# Two links, as Linux's kallsyms: the first gives the addresses of the
# functions, from which gen-ksyms builds the symbol table the second link
# includes. The table sits after all code (kernel.ld), so no function moves;
# the cmp proves it.
$(KERNEL): $(KERNEL_OBJS) kernel/kernel.ld scripts/gen-ksyms
	@echo "  LD      $@"
	@printf '\t.section .ksyms, "a"\n\t.globl ksym_count, ksym_addresses, ksym_name_offsets, ksym_names\nksym_count: .quad 0\nksym_addresses:\nksym_name_offsets:\nksym_names:\n' \
		| $(CC) -c -x assembler - -o $(BUILD)/kernel/ksyms-empty.o
	@$(LD) $(KERNEL_LDFLAGS) -o $@.pass1 $(KERNEL_OBJS) $(BUILD)/kernel/ksyms-empty.o
	@$(NM) -n --defined-only $@.pass1 | $(PYTHON) scripts/gen-ksyms > $(BUILD)/kernel/ksyms.S
	@$(CC) -c $(BUILD)/kernel/ksyms.S -o $(BUILD)/kernel/ksyms.o
	@$(LD) $(KERNEL_LDFLAGS) -o $@ $(KERNEL_OBJS) $(BUILD)/kernel/ksyms.o
	@$(NM) -n --defined-only $@.pass1 | grep -i ' t ' | grep -v ksym_ > $@.syms1
	@$(NM) -n --defined-only $@ | grep -i ' t ' | grep -v ksym_ > $@.syms2
	@cmp -s $@.syms1 $@.syms2 || { echo "error: functions moved between the two links"; exit 1; }

# QEMU's -kernel loader refuses ELF64 images; the same image as ELF32 boots.
$(KERNEL32): $(KERNEL)
	@$(OBJCOPY) -O elf32-i386 $< $@

-include $(KERNEL_OBJS:.o=.d)
-include guests/guests.mk

# --- running it -----------------------------------------------------------------
QEMU_CPU   := qemu64,+svm,+npt,+umip
QEMU_FLAGS := -machine pc -cpu $(QEMU_CPU) -m 128M -nodefaults -display none -no-reboot \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04
HV_ARGS    ?= nonce=1 selftest=all
# GUESTS="hello primes" boots those test guests as domains (image builds;
# "pv/hello" for a paravirtualized one); QEMU_EXTRA adds any QEMU option.
GUESTS     ?=
QEMU_EXTRA ?=
guest_module = build/guests/$(if $(findstring /,$(1)),$(1),image/$(1)).elf name=$(notdir $(1)) nonce=1
GUEST_INITRD = $(if $(strip $(GUESTS)),-initrd "$(subst $(space),$(comma),$(foreach g,$(GUESTS),$(subst $(space),@,$(call guest_module,$(g)))))")
GDBPORT    := $(shell expr `id -u` % 5000 + 25000)

qemu: $(KERNEL32) guests
	@$(PYTHON) scripts/qemu-status $(QEMU) $(QEMU_FLAGS) -serial mon:stdio -kernel $(KERNEL32) -append "$(HV_ARGS)" $(subst @, ,$(GUEST_INITRD)) $(QEMU_EXTRA)

qemu-gdb: $(KERNEL32) guests .gdbinit
	@echo "*** QEMU is stopped at the first instruction, waiting for GDB on port $(GDBPORT)."
	@echo "*** In another terminal, in this directory, run: make gdb"
	@$(PYTHON) scripts/qemu-status $(QEMU) $(QEMU_FLAGS) -serial mon:stdio -kernel $(KERNEL32) -append "$(HV_ARGS)" $(subst @, ,$(GUEST_INITRD)) $(QEMU_EXTRA) -S -gdb tcp::$(GDBPORT)

.gdbinit: scripts/gdbinit.tmpl Makefile
	@sed -e "s|@GDBPORT@|$(GDBPORT)|g" -e "s|@KERNEL@|$(KERNEL)|g" $< > $@

# -n -x: read only the kit's .gdbinit, whatever GDB's auto-load safe-path says.
gdb: .gdbinit
	$(GDB) -q -n -x .gdbinit

bochs: $(KERNEL)
	@scripts/bochs-run --kernel $(KERNEL) --cmdline "$(HV_ARGS)"

bochs-dbg: $(KERNEL)
	@scripts/bochs-run --kernel $(KERNEL) --cmdline "$(HV_ARGS)" --debugger

demo: deps
	@$(MAKE) --no-print-directory SOL=all all
	@$(PYTHON) scripts/demo --build build/sol-$(subst $(space),-,$(strip $(LAB_NUMBERS)))

.PHONY: qemu qemu-gdb gdb bochs bochs-dbg demo

# --- Linux as a guest (docs/linux.md) ---------------------------------------------------
# Debian's own kernel and busybox-static, fetched with apt-get download into
# build/linux (once), booted as an HVM domain: `make linux` (your build; SOL=all
# for the reference), LINUX_MODE=shadow for shadow paging. Ctrl-a x quits.
LINUX_DIR  := build/linux
LINUX_MODE ?= nested
LINUX_ARGS ?= console=ttyS0 earlyprintk=ttyS0 acpi=off pci=off noapic tsc=reliable nopv
LINUX_HV_ARGS ?= nonce=1
LINUX_MODULES = $(LINUX_DIR)/vmlinuz name=linux mem=256M type=hvm mode=$(LINUX_MODE) $(LINUX_ARGS),$(LINUX_DIR)/initramfs.cpio.gz initrd

$(LINUX_DIR)/vmlinuz $(LINUX_DIR)/busybox:
	@scripts/fetch-linux $(LINUX_DIR)

$(LINUX_DIR)/initramfs.cpio.gz: $(LINUX_DIR)/busybox scripts/mkinitramfs
	@$(PYTHON) scripts/mkinitramfs $(LINUX_DIR)/busybox $@

linux-files: $(LINUX_DIR)/vmlinuz $(LINUX_DIR)/initramfs.cpio.gz

linux: $(KERNEL32) linux-files
	@echo "*** Debian's $$(cat $(LINUX_DIR)/version) on $(BUILD), mode=$(LINUX_MODE): the shell comes in 10-20 s."
	@echo "*** 'poweroff' ends it, Ctrl-a x quits QEMU."
	@$(PYTHON) scripts/qemu-status $(QEMU) $(QEMU_FLAGS) -m 512M -serial mon:stdio -kernel $(KERNEL32) -append "$(LINUX_HV_ARGS)" -initrd "$(LINUX_MODULES)" $(QEMU_EXTRA)

.PHONY: linux linux-files

# --- grading and tests --------------------------------------------------------------
LAB ?= 0
GRADE_ARGS ?=
grade: all
	@$(PYTHON) -m grader --lab $(LAB) --build $(BUILD) $(GRADE_ARGS)

test: deps
	@$(PYTHON) scripts/run-tests

bench: all
	@$(PYTHON) scripts/bench --build $(BUILD)

# Same work, same score on a busy machine: every lab graded COPIES times at once,
# solutions and stubs (docs/grading.md). Minutes, not seconds: a check, not a test.
COPIES ?= 4
grade-under-load: deps-quiet
	@$(MAKE) --no-print-directory -s all
	@$(MAKE) --no-print-directory -s SOL=all all
	@$(PYTHON) scripts/grade-under-load --copies $(COPIES) $(if $(LAB),--labs $(LAB))

.PHONY: grade test bench grade-under-load

# --- Dom0 (labs 4-6; docs/dom0.md) --------------------------------------------------------
# Dom0's disk: FAT32, configs + DomU kernels + disk images, readable with mtools.
DOM0_DISK := build/dom0/disk.img
$(DOM0_DISK): guests scripts/mkdom0disk
	@scripts/mkdom0disk $@
dom0-disk: $(DOM0_DISK)

# Dom0 as the hypervisor boots it (domain 0), with this build's version of its student
# file (lab 4's builder step; solutions/lab4/ with SOL=4 or all): $(BUILD)/guests/dom0.elf.
DOM0_STUDENT_SRCS := guests/dom0/xl_build_load.c
DOM0_IMAGE := $(BUILD)/guests/dom0.elf
DOM0_VARIANT_OBJS := $(DOM0_STUDENT_SRCS:%=$(BUILD)/%.o)
define dom0_student_rule
$(BUILD)/$(1).o: $(call pick_src,$(1)) Makefile
	@mkdir -p $$(dir $$@)
	@echo "  CC      $$<"
	@$(GUEST_CC) $(GUEST_CFLAGS) -iquote $(dir $(1)) -c $$< -o $$@
endef
$(foreach src,$(DOM0_STUDENT_SRCS),$(eval $(call dom0_student_rule,$(src))))
$(DOM0_IMAGE): guests/image/image.ld $(GUEST_IMAGE_OBJS) $(GUEST_LIB_OBJS) $(DOM0_OBJS) $(DOM0_VARIANT_OBJS)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(GUEST_LD) $(GUEST_LDFLAGS) -T $< -o $@ $(filter-out $(DOM0_STUDENT_SRCS:guests/%=$(GUEST_OBJ)/%.o),$(filter %.o,$^))
dom0-image: $(DOM0_IMAGE)

# The reference system to Dom0's prompt: the hypervisor with every solution, Dom0 as
# domain 0 and its disk (a copy: what you change stays until the next make dom0).
# Try: xl create /configs/hello-pv.cfg, xl list, xl create /configs/hello-hvm.cfg.
DOM0_HV_ARGS ?= nonce=1
dom0: deps-quiet
	@$(MAKE) --no-print-directory -s SOL=all all
	@$(MAKE) --no-print-directory -s $(DOM0_DISK)
	@cp $(DOM0_DISK) build/dom0/disk-run.img
	@echo "*** Hypatia with Dom0 (domain 0) and its disk build/dom0/disk-run.img. Try: xl create /configs/hello-pv.cfg, xl list. Ctrl-a x quits."
	@$(PYTHON) scripts/qemu-status $(QEMU) $(QEMU_FLAGS) -serial mon:stdio -kernel build/$(SOL_ALL_VARIANT)/kernel/hypatia32.elf \
		-append "$(DOM0_HV_ARGS)" -initrd "build/$(SOL_ALL_VARIANT)/guests/dom0.elf name=Domain-0 dom0 mem=32M nonce=1" \
		-drive file=build/dom0/disk-run.img,format=raw,if=ide,index=0 $(QEMU_EXTRA)

# Dom0 on QEMU alone, its disk as the IDE master: its drivers, filesystem and shell
# without the hypervisor (a copy of the disk, so that the build's stays as made).
dom0-native: guests $(DOM0_DISK)
	@cp $(DOM0_DISK) build/dom0/disk-native.img
	@echo "*** Dom0 natively on QEMU, build/dom0/disk-native.img as its disk: try help, ls /configs, xl help. Ctrl-a x quits."
	@$(QEMU) -machine pc -cpu qemu64 -m 64M -nodefaults -display none -no-reboot \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 -serial mon:stdio \
		-kernel build/guests/dom0/native/dom0.elf32 -append "nonce=1" \
		-drive file=build/dom0/disk-native.img,format=raw,if=ide,index=0 || true

# Several hosts on one wire, their consoles here (scripts/cluster; docs/dom0.md).
HOSTS ?= 3
cluster: guests $(DOM0_DISK)
	@scripts/cluster --hosts $(HOSTS)

.PHONY: dom0-disk dom0-native dom0-image dom0 cluster

# --- docs, handouts, dependencies ----------------------------------------------------------
docs: deps-quiet
	@mkdir -p build/docs
	@PWD=$(CURDIR) doxygen docs/Doxyfile
	@echo "  DOCS    build/docs/html/index.html"

OUT ?=
handout:
	@test -n "$(OUT)" || { echo "usage: make handout OUT=dir [LABS=0,1]"; exit 2; }
	@$(PYTHON) scripts/make-handout --out "$(OUT)" $(if $(LABS),--labs $(LABS))

HANDIN_ARGS ?=
handin:
	@$(PYTHON) scripts/handin $(HANDIN_ARGS)

SUBMISSIONS ?=
BATCH_ARGS ?=
batch:
	@test -n "$(SUBMISSIONS)" || { echo "usage: make batch LAB=n SUBMISSIONS=dir [OUT=grades] [SOL=0,1] [BATCH_ARGS='-j 2 --shard 1/4']"; exit 2; }
	@$(PYTHON) -m grader.batch --lab $(LAB) --out $(or $(OUT),grades) $(if $(strip $(SOL_LABS)),--sol $(subst $(space),$(comma),$(strip $(SOL_LABS)))) $(BATCH_ARGS) $(SUBMISSIONS)
.PHONY: handin batch

deps:
	@scripts/install-deps

# Before compiling: only check that the compiler exists, quietly.
deps-quiet:
	@command -v $(CC) >/dev/null || { echo "gcc is missing: run 'make deps'"; exit 1; }

clean:
	rm -rf build .gdbinit

.PHONY: docs handout deps deps-quiet clean
