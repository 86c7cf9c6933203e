/**
 * @file ioport.h
 * @brief Emulated port-I/O devices for guests: one table, any backend.
 *
 * Whether the guest's IN/OUT arrived as a \#GP (pv) or an IOIO intercept
 * (svm/vmx), the backend ends up calling ioport_read()/ioport_write(), which
 * route the access to the device that claims the port.
 */
#ifndef HYPATIA_IOPORT_H
#define HYPATIA_IOPORT_H

#include "types.h"

struct domain;

/** An emulated device's port handlers. @p size is 1, 2 or 4 bytes. */
struct ioport_device {
	const char *name;   /**< for logs */
	uint16_t first;     /**< first port claimed */
	uint16_t count;     /**< number of ports claimed */
	/** Read @p size bytes at @p port. */
	uint32_t (*read)(struct domain *d, uint16_t port, unsigned size);
	/** Write @p value (@p size bytes) to @p port. */
	void (*write)(struct domain *d, uint16_t port, unsigned size, uint32_t value);
};

/** A guest reads @p size bytes from @p port; unclaimed ports read all-ones, as on a PC bus. */
uint32_t ioport_read(struct domain *d, uint16_t port, unsigned size);
/** A guest writes @p value to @p port; writes to unclaimed ports are dropped. */
void ioport_write(struct domain *d, uint16_t port, unsigned size, uint32_t value);

/** The real ports passed through to @p d: Dom0's disk (ATA 0x1f0-0x1f7, 0x3f6); none for any other domain. */
bool ioport_passed_through(const struct domain *d, uint16_t port);
/** Clear, in an SVM IOPM or a VMX I/O bitmap (one bit per port, set = exit), the bits of Dom0's ports. */
void ioport_open_passthrough(uint8_t *bitmap);

#endif
