/*
 * native.h — functions shared by the native shim's files.
 */
#ifndef GUEST_NATIVE_H
#define GUEST_NATIVE_H

#include <stdint.h>

/* Install the exception handlers (idt.c). */
void idt_init(void);
/* Initialise COM1 and mask the legacy interrupt controllers (platform.c). */
void platform_init(void);

#endif
