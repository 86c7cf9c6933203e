/*
 * native.h — functions shared by the native shim's files.
 */
#ifndef GUEST_NATIVE_H
#define GUEST_NATIVE_H

#include <stdint.h>

/* (platform_init() and arch_init() are declared in platform.h.) */

#endif
