/**
 * @file mmio.h
 * @brief Memory-mapped devices for hardware-assisted guests (lab 3).
 *
 * Guest-physical addresses outside a domain's RAM are not in its nested page
 * table, so a guest's load or store there is a nested page fault; the
 * hypervisor decodes the instruction (virt/decode.c), performs the access on
 * the emulated device, and steps past it — as KVM does for MMIO.
 */
#ifndef HYPATIA_MMIO_H
#define HYPATIA_MMIO_H

#include "types.h"

struct vcpu;

/** Guest-physical base of the kit's test device (a free spot below the LAPIC). */
#define MMIO_TEST_DEVICE_BASE 0xfeb00000ull
/** Size of its register window. */
#define MMIO_TEST_DEVICE_SIZE 0x1000ull

/** @name Registers of the test device (offsets from the base)
 *  @{ */
#define MMIO_TEST_ID 0x00       /**< read: 0x41505948, "HYPA" in little-endian bytes */
#define MMIO_TEST_SCRATCH 0x08  /**< read/write: 64 bits the guest can store and read back */
#define MMIO_TEST_CONSOLE 0x10  /**< write: one character to the domain's console */
#define MMIO_TEST_ACCESSES 0x18 /**< read: how many accesses the device has seen, this one included */
/** @} */

/** True if a device claims guest-physical @p gpa for @p vcpu: its local APIC's page (lapic.h) or the test device. */
bool mmio_claims(const struct vcpu *vcpu, uint64_t gpa);
/** @p vcpu reads @p size bytes at @p gpa; returns the value (all-ones where no register is). */
uint64_t mmio_read(struct vcpu *vcpu, uint64_t gpa, unsigned size);
/** @p vcpu writes @p value (@p size bytes) at @p gpa. */
void mmio_write(struct vcpu *vcpu, uint64_t gpa, unsigned size, uint64_t value);

#endif
