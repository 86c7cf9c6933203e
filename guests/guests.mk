# guests.mk — build the test guests, three times from the same object file.
#
# Included by the top-level Makefile (`include guests/guests.mk`), or used
# alone: `make -f guests/guests.mk` from the repository root. Produces, for
# every guests/tests/NAME.c:
#   $(BUILD_GUESTS)/native/NAME.elf    ELF64 multiboot kernel (GRUB, GDB symbols)
#   $(BUILD_GUESTS)/native/NAME.elf32  the same as ELF32, for QEMU's -kernel
#                                      (which refuses ELF64 files)
#   $(BUILD_GUESTS)/image/NAME.elf     Hypatia guest image (ELF64 + note), run
#                                      deprivileged: port I/O, CLI/STI trap
#   $(BUILD_GUESTS)/pv/NAME.elf        the same image, paravirtualized: the
#                                      platform layer uses hypercalls and the
#                                      shared-info page (guests/pv/platform.c)
# Adding a test guest = adding guests/tests/NAME.c; see docs/guests.md.

# Where this fragment lives, so it works from whichever Makefile includes it.
GUESTS_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

# Guests do not depend on which lab solutions are overlaid (SOL=...), so all
# build variants share one copy; grader/build.py looks for it here.
BUILD_GUESTS ?= build/guests

GUEST_CC ?= gcc
GUEST_LD ?= ld
OBJCOPY ?= objcopy

GUEST_TESTS := $(sort $(basename $(notdir $(wildcard $(GUESTS_DIR)/tests/*.c))))

GUEST_CFLAGS := -std=gnu11 -ffreestanding -fno-pic -fno-pie -no-pie \
	-mno-red-zone -mgeneral-regs-only -fno-stack-protector \
	-fno-omit-frame-pointer -fno-tree-loop-distribute-patterns \
	-O2 -g -Wall -Wextra -Werror \
	-nostdlib -nostdinc -isystem $(shell $(GUEST_CC) -print-file-name=include) \
	-I$(GUESTS_DIR)/include -MMD -MP
GUEST_LDFLAGS := -nostdlib -z max-page-size=0x1000 --no-warn-rwx-segments

GUEST_OBJ := $(BUILD_GUESTS)/obj

# Objects: the runtime and the tests are shared by all builds; each build
# adds its own platform layer and start code (pv reuses image's entry code
# and linker script: only its platform.c differs).
GUEST_LIB_OBJS := $(patsubst $(GUESTS_DIR)/%,$(GUEST_OBJ)/%.o, \
	$(wildcard $(GUESTS_DIR)/lib/*.S $(GUESTS_DIR)/lib/*.c))
GUEST_NATIVE_OBJS := $(patsubst $(GUESTS_DIR)/%,$(GUEST_OBJ)/%.o, \
	$(wildcard $(GUESTS_DIR)/native/*.S $(GUESTS_DIR)/native/*.c))
GUEST_IMAGE_OBJS := $(patsubst $(GUESTS_DIR)/%,$(GUEST_OBJ)/%.o, \
	$(wildcard $(GUESTS_DIR)/image/*.S $(GUESTS_DIR)/image/*.c))
GUEST_PV_OBJS := $(GUEST_OBJ)/image/entry.S.o $(patsubst $(GUESTS_DIR)/%,$(GUEST_OBJ)/%.o, \
	$(wildcard $(GUESTS_DIR)/pv/*.c))

GUEST_NATIVE_ELFS := $(GUEST_TESTS:%=$(BUILD_GUESTS)/native/%.elf)
GUEST_NATIVE_ELF32S := $(GUEST_TESTS:%=$(BUILD_GUESTS)/native/%.elf32)
GUEST_IMAGES := $(GUEST_TESTS:%=$(BUILD_GUESTS)/image/%.elf)
GUEST_PV_IMAGES := $(GUEST_TESTS:%=$(BUILD_GUESTS)/pv/%.elf)

.PHONY: guests clean-guests
guests: $(GUEST_NATIVE_ELFS) $(GUEST_NATIVE_ELF32S) $(GUEST_IMAGES) $(GUEST_PV_IMAGES)

clean-guests:
	rm -rf $(BUILD_GUESTS)

# name.c -> obj/dir/name.c.o, name.S -> obj/dir/name.S.o: the suffix stays
# in the object's name so that a .c and a .S of the same name cannot collide.
$(GUEST_OBJ)/%.c.o: $(GUESTS_DIR)/%.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(GUEST_OBJ)/%.S.o: $(GUESTS_DIR)/%.S
	@mkdir -p $(@D)
	@echo "  AS      $<"
	@$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD_GUESTS)/native/%.elf: $(GUESTS_DIR)/native/native.ld $(GUEST_NATIVE_OBJS) \
		$(GUEST_LIB_OBJS) $(GUEST_OBJ)/tests/%.c.o
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(GUEST_LD) $(GUEST_LDFLAGS) -T $< -o $@ $(filter %.o,$^)

# QEMU's -kernel accepts only 32-bit ELF for multiboot. The code is the same;
# only the file format changes (addresses are below 4 GiB). Debug info stays
# in NAME.elf, the file to give GDB.
$(BUILD_GUESTS)/native/%.elf32: $(BUILD_GUESTS)/native/%.elf
	@echo "  OBJCOPY $@"
	@$(OBJCOPY) -O elf32-i386 --strip-debug $< $@

$(BUILD_GUESTS)/image/%.elf: $(GUESTS_DIR)/image/image.ld $(GUEST_IMAGE_OBJS) \
		$(GUEST_LIB_OBJS) $(GUEST_OBJ)/tests/%.c.o
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(GUEST_LD) $(GUEST_LDFLAGS) -T $< -o $@ $(filter %.o,$^)

$(BUILD_GUESTS)/pv/%.elf: $(GUESTS_DIR)/image/image.ld $(GUEST_PV_OBJS) \
		$(GUEST_LIB_OBJS) $(GUEST_OBJ)/tests/%.c.o
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(GUEST_LD) $(GUEST_LDFLAGS) -T $< -o $@ $(filter %.o,$^)

# Dom0 (guests/dom0/, DESIGN §10): the privileged domain of labs 4-6, built on the
# same runtime, natively (its drivers tested on QEMU alone) and as a guest image.
DOM0_OBJS := $(patsubst $(GUESTS_DIR)/%,$(GUEST_OBJ)/%.o,$(wildcard $(GUESTS_DIR)/dom0/*.c))
DOM0_ELFS := $(BUILD_GUESTS)/dom0/native/dom0.elf $(BUILD_GUESTS)/dom0/native/dom0.elf32 \
	$(BUILD_GUESTS)/dom0/image/dom0.elf
guests: $(DOM0_ELFS)

$(BUILD_GUESTS)/dom0/native/dom0.elf: $(GUESTS_DIR)/native/native.ld $(GUEST_NATIVE_OBJS) $(GUEST_LIB_OBJS) \
		$(DOM0_OBJS)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(GUEST_LD) $(GUEST_LDFLAGS) -T $< -o $@ $(filter %.o,$^)

$(BUILD_GUESTS)/dom0/native/dom0.elf32: $(BUILD_GUESTS)/dom0/native/dom0.elf
	@echo "  OBJCOPY $@"
	@$(OBJCOPY) -O elf32-i386 --strip-debug $< $@

$(BUILD_GUESTS)/dom0/image/dom0.elf: $(GUESTS_DIR)/image/image.ld $(GUEST_IMAGE_OBJS) $(GUEST_LIB_OBJS) \
		$(DOM0_OBJS)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(GUEST_LD) $(GUEST_LDFLAGS) -T $< -o $@ $(filter %.o,$^)

# Keep the objects (make would delete them as intermediates).
.SECONDARY: $(GUEST_LIB_OBJS) $(GUEST_NATIVE_OBJS) $(GUEST_IMAGE_OBJS) $(GUEST_PV_OBJS) $(DOM0_OBJS) \
	$(GUEST_TESTS:%=$(GUEST_OBJ)/tests/%.c.o)

-include $(wildcard $(GUEST_OBJ)/*/*.d)
