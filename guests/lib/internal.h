/*
 * internal.h — functions shared between the runtime's own files.
 */
#ifndef GUEST_LIB_INTERNAL_H
#define GUEST_LIB_INTERNAL_H

/* Keep a private copy of the command line (cmdline.c); truncates to
 * HYPATIA_CMDLINE_MAX - 1 bytes. */
void cmdline_set(const char *line);

#endif
