/*
 * guest.h for the host — the few guest-runtime functions that the guest
 * library code under test (guests/lib/xenbus.c, blkfront.c) calls, from
 * libc. The kit's host tests put this directory first on the include path
 * and compile with -DDOM0_HOSTED.
 */
#ifndef HOSTED_GUEST_H
#define HOSTED_GUEST_H

#include "dom0_env.h"
#define gsnprintf snprintf

#endif
