/*
 * names.h: the C names of the Linux x86-64 constants the scenario language
 * reads and prints: protection bits, mmap/msync/mremap/mlock/open flags,
 * madvise advice, lseek whence, resource limits, errno values, signals and
 * si_code values.
 */
#ifndef USERMM_TOOL_NAMES_H
#define USERMM_TOOL_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum flag_kind {
	FK_PROT,   /* PROT_* bits, or maps letters rwx */
	FK_MAP,	   /* MAP_* (type in the low nibble, then bits) */
	FK_MS,	   /* MS_* bits */
	FK_MREMAP, /* MREMAP_* bits */
	FK_MADV,   /* MADV_* values (not bits) */
	FK_MCL,	   /* MCL_* bits */
	FK_MLOCK,  /* MLOCK_* bits (mlock2) */
	FK_O,	   /* O_* (access mode, then bits) */
	FK_SEEK,   /* SEEK_* values */
	FK_RLIMIT, /* RLIMIT_* resources (values) */
	FK_COUNT
};

/* What the flags of a kind are called in messages ("mmap flags"). */
const char *flag_kind_desc(enum flag_kind k);

/*
 * Parses word[0..len) as flags of kind k: names (C names, or the short
 * forms of mmap flags) and numbers joined by '|'. Returns 0 and *out, or
 * -1 with *bad_off and *bad_len locating the part that is not understood.
 */
int flags_parse(enum flag_kind k, const char *word, size_t len, uint64_t *out, size_t *bad_off,
		size_t *bad_len);
/* Appends v in canonical form: C names joined by '|', unknown bits in hex. */
void flags_format(struct sbuf *b, enum flag_kind k, uint64_t v);
/* Lists the names of kind k, separated by spaces (for help texts). */
void flags_list(struct sbuf *b, enum flag_kind k);

/* A resource limit: "unlimited" for RLIM_INFINITY, else hex like a length. */
void rlim_format(struct sbuf *b, uint64_t v);

/* "EINVAL" for 22; NULL when unknown. */
const char *errno_name(int e);
/* "SIGSEGV" for 11; NULL when unknown. */
const char *signal_name(int sig);
/* "SEGV_MAPERR" for (SIGSEGV, 1), "SI_KERNEL" for 0x80; NULL when unknown. */
const char *si_code_name(int sig, int code);

#endif /* USERMM_TOOL_NAMES_H */
