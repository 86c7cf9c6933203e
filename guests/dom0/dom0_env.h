/*
 * dom0_env.h — the C library functions Dom0's portable parts (the FAT code,
 * the config reader) need, from wherever they run: the guest runtime inside
 * Dom0, or the host's libc in the kit's unit tests, which compile them with
 * -DDOM0_HOSTED.
 */
#ifndef DOM0_ENV_H
#define DOM0_ENV_H

#ifdef DOM0_HOSTED
#include <stdio.h>
#include <string.h>
#define dom0_snprintf snprintf
#else
#include "guest.h"
#define dom0_snprintf gsnprintf
#endif

#endif
