/*
 * fat_env.h — the C library functions the FAT code needs, from wherever it
 * runs: the guest runtime inside Dom0, the host's libc in the kit's unit test
 * (which compiles this code with -DFAT_HOSTED).
 */
#ifndef DOM0_FAT_ENV_H
#define DOM0_FAT_ENV_H

#ifdef FAT_HOSTED
#include <string.h>
#else
#include "guest.h"
#endif

#endif
