/*
 * names.c: tables of Linux x86-64 constant names and their values, with
 * parsing and canonical printing of flag words. The values are written out
 * rather than taken from the host headers, so that the tool prints the
 * same names whatever the libc defines (glibc 2.36 lacks several).
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "names.h"

struct name_val {
	const char *name;
	uint64_t val;
};

/* Tables are in canonical printing order; aliases come after the canonical name. */
/* clang-format off */
static const struct name_val prot_names[] = {
	{ "PROT_READ", 0x1 },	      { "PROT_WRITE", 0x2 },	    { "PROT_EXEC", 0x4 },
	{ "PROT_SEM", 0x8 },	      { "PROT_GROWSDOWN", 0x01000000 },
	{ "PROT_GROWSUP", 0x02000000 }, { "PROT_NONE", 0 },	    { NULL, 0 },
};

static const struct name_val map_types[] = {
	{ "MAP_SHARED", 1 },	   { "MAP_PRIVATE", 2 },   { "MAP_SHARED_VALIDATE", 3 },
	{ "MAP_DROPPABLE", 8 },	   { "shared", 1 },	   { "private", 2 },
	{ NULL, 0 },
};

static const struct name_val map_bits[] = {
	{ "MAP_FIXED", 0x10 },
	{ "MAP_ANONYMOUS", 0x20 },
	{ "MAP_32BIT", 0x40 },
	{ "MAP_GROWSDOWN", 0x100 },
	{ "MAP_DENYWRITE", 0x800 },
	{ "MAP_EXECUTABLE", 0x1000 },
	{ "MAP_LOCKED", 0x2000 },
	{ "MAP_NORESERVE", 0x4000 },
	{ "MAP_POPULATE", 0x8000 },
	{ "MAP_NONBLOCK", 0x10000 },
	{ "MAP_STACK", 0x20000 },
	{ "MAP_HUGETLB", 0x40000 },
	{ "MAP_SYNC", 0x80000 },
	{ "MAP_FIXED_NOREPLACE", 0x100000 },
	{ "MAP_UNINITIALIZED", 0x4000000 },
	{ "MAP_ANON", 0x20 },
	{ "MAP_FILE", 0 },
	{ "anon", 0x20 },
	{ "fixed", 0x10 },
	{ "noreplace", 0x100000 },
	{ "populate", 0x8000 },
	{ "noreserve", 0x4000 },
	{ "locked", 0x2000 },
	{ "growsdown", 0x100 },
	{ NULL, 0 },
};

/* MAP_HUGE_*: a 6-bit page-size field at bit 26, which overlaps MAP_UNINITIALIZED. */
#define MAP_HUGE_SHIFT 26
#define MAP_HUGE_MASK (0x3fULL << MAP_HUGE_SHIFT)
static const struct name_val map_huge[] = {
	{ "MAP_HUGE_64KB", 16ULL << 26 }, { "MAP_HUGE_512KB", 19ULL << 26 },
	{ "MAP_HUGE_1MB", 20ULL << 26 },  { "MAP_HUGE_2MB", 21ULL << 26 },
	{ "MAP_HUGE_8MB", 23ULL << 26 },  { "MAP_HUGE_16MB", 24ULL << 26 },
	{ "MAP_HUGE_32MB", 25ULL << 26 }, { "MAP_HUGE_256MB", 28ULL << 26 },
	{ "MAP_HUGE_512MB", 29ULL << 26 }, { "MAP_HUGE_1GB", 30ULL << 26 },
	{ "MAP_HUGE_2GB", 31ULL << 26 },  { "MAP_HUGE_16GB", 34ULL << 26 },
	{ NULL, 0 },
};

static const struct name_val ms_names[] = {
	{ "MS_ASYNC", 1 },
	{ "MS_INVALIDATE", 2 },
	{ "MS_SYNC", 4 },
	{ NULL, 0 },
};

static const struct name_val mremap_names[] = {
	{ "MREMAP_MAYMOVE", 1 },
	{ "MREMAP_FIXED", 2 },
	{ "MREMAP_DONTUNMAP", 4 },
	{ NULL, 0 },
};

static const struct name_val madv_names[] = {
	{ "MADV_NORMAL", 0 },	      { "MADV_RANDOM", 1 },	    { "MADV_SEQUENTIAL", 2 },
	{ "MADV_WILLNEED", 3 },	      { "MADV_DONTNEED", 4 },	    { "MADV_FREE", 8 },
	{ "MADV_REMOVE", 9 },	      { "MADV_DONTFORK", 10 },	    { "MADV_DOFORK", 11 },
	{ "MADV_MERGEABLE", 12 },     { "MADV_UNMERGEABLE", 13 },   { "MADV_HUGEPAGE", 14 },
	{ "MADV_NOHUGEPAGE", 15 },    { "MADV_DONTDUMP", 16 },	    { "MADV_DODUMP", 17 },
	{ "MADV_WIPEONFORK", 18 },    { "MADV_KEEPONFORK", 19 },    { "MADV_COLD", 20 },
	{ "MADV_PAGEOUT", 21 },	      { "MADV_POPULATE_READ", 22 }, { "MADV_POPULATE_WRITE", 23 },
	{ "MADV_DONTNEED_LOCKED", 24 }, { "MADV_COLLAPSE", 25 },    { "MADV_HWPOISON", 100 },
	{ "MADV_SOFT_OFFLINE", 101 }, { "MADV_GUARD_INSTALL", 102 }, { "MADV_GUARD_REMOVE", 103 },
	{ NULL, 0 },
};

static const struct name_val mcl_names[] = {
	{ "MCL_CURRENT", 1 },
	{ "MCL_FUTURE", 2 },
	{ "MCL_ONFAULT", 4 },
	{ NULL, 0 },
};

static const struct name_val mlock_names[] = {
	{ "MLOCK_ONFAULT", 1 },
	{ NULL, 0 },
};

static const struct name_val o_modes[] = {
	{ "O_RDONLY", 0 },
	{ "O_WRONLY", 1 },
	{ "O_RDWR", 2 },
	{ NULL, 0 },
};

/* Multi-bit names first, so that printing prefers them. */
static const struct name_val o_bits[] = {
	{ "O_SYNC", 04010000 },	    { "O_TMPFILE", 020200000 }, { "O_CREAT", 0100 },
	{ "O_EXCL", 0200 },	    { "O_NOCTTY", 0400 },	{ "O_TRUNC", 01000 },
	{ "O_APPEND", 02000 },	    { "O_NONBLOCK", 04000 },	{ "O_DSYNC", 010000 },
	{ "O_ASYNC", 020000 },	    { "O_DIRECT", 040000 },	{ "O_LARGEFILE", 0100000 },
	{ "O_DIRECTORY", 0200000 }, { "O_NOFOLLOW", 0400000 },	{ "O_NOATIME", 01000000 },
	{ "O_CLOEXEC", 02000000 },  { "O_PATH", 010000000 },	{ "O_NDELAY", 04000 },
	{ "O_RSYNC", 04010000 },    { NULL, 0 },
};

static const struct name_val seek_names[] = {
	{ "SEEK_SET", 0 }, { "SEEK_CUR", 1 }, { "SEEK_END", 2 },
	{ "SEEK_DATA", 3 }, { "SEEK_HOLE", 4 }, { NULL, 0 },
};

/* The resources whose limits the library enforces; others go by number. */
static const struct name_val rlimit_names[] = {
	{ "RLIMIT_FSIZE", 1 }, { "RLIMIT_DATA", 2 }, { "RLIMIT_STACK", 3 },
	{ "RLIMIT_MEMLOCK", 8 }, { "RLIMIT_AS", 9 }, { NULL, 0 },
};

/* clang-format on */

const char *flag_kind_desc(enum flag_kind k)
{
	static const char *const desc[FK_COUNT] = {
	    [FK_PROT] = "protection",	  [FK_MAP] = "mmap flags",	[FK_MS] = "msync flags",
	    [FK_MREMAP] = "mremap flags", [FK_MADV] = "madvise advice", [FK_MCL] = "mlockall flags",
	    [FK_MLOCK] = "mlock flags",	  [FK_O] = "open flags",	[FK_SEEK] = "whence",
	    [FK_RLIMIT] = "resource",
	};

	return k < FK_COUNT ? desc[k] : "flags";
}

static int lookup(const struct name_val *t, const char *s, size_t n, uint64_t *v)
{
	for (; t && t->name; t++) {
		if (strlen(t->name) == n && !memcmp(t->name, s, n)) {
			*v = t->val;
			return 0;
		}
	}
	return -1;
}

/* A plain number inside a flag word: decimal, 0x hex or 0 octal. */
static int parse_plain_number(const char *s, size_t n, uint64_t *v)
{
	unsigned base = 10;
	uint64_t acc = 0;
	size_t i = 0;

	if (n == 0)
		return -1;
	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	} else if (n > 1 && s[0] == '0') {
		base = 8;
		i = 1;
	}
	for (; i < n; i++) {
		unsigned d;

		if (isdigit((unsigned char)s[i]))
			d = (unsigned)(s[i] - '0');
		else if (base == 16 && isxdigit((unsigned char)s[i]))
			d = (unsigned)(tolower((unsigned char)s[i]) - 'a' + 10);
		else
			return -1;
		if (d >= base)
			return -1;
		if (acc > (UINT64_MAX - d) / base)
			return -1;
		acc = acc * base + d;
	}
	*v = acc;
	return 0;
}

/* The tables a kind's names come from (up to three; unused ones NULL). */
static void kind_tables(enum flag_kind k, const struct name_val **a, const struct name_val **b,
			const struct name_val **c)
{
	*a = NULL;
	*b = NULL;
	*c = NULL;
	switch (k) {
	case FK_PROT:
		*a = prot_names;
		break;
	case FK_MAP:
		*a = map_types;
		*b = map_bits;
		*c = map_huge;
		break;
	case FK_MS:
		*a = ms_names;
		break;
	case FK_MREMAP:
		*a = mremap_names;
		break;
	case FK_MADV:
		*a = madv_names;
		break;
	case FK_MCL:
		*a = mcl_names;
		break;
	case FK_MLOCK:
		*a = mlock_names;
		break;
	case FK_O:
		*a = o_modes;
		*b = o_bits;
		break;
	case FK_SEEK:
		*a = seek_names;
		break;
	case FK_RLIMIT:
		*a = rlimit_names;
		break;
	default:
		break;
	}
}

/* maps-style protection letters: r or -, w or -, x or -. */
static int parse_prot_letters(const char *s, size_t n, uint64_t *v)
{
	if (n != 3 || (s[0] != 'r' && s[0] != '-') || (s[1] != 'w' && s[1] != '-') ||
	    (s[2] != 'x' && s[2] != '-'))
		return -1;
	*v = (s[0] == 'r' ? 1 : 0) | (s[1] == 'w' ? 2 : 0) | (s[2] == 'x' ? 4 : 0);
	return 0;
}

int flags_parse(enum flag_kind k, const char *word, size_t len, uint64_t *out, size_t *bad_off,
		size_t *bad_len)
{
	const struct name_val *ta, *tb, *tc;
	uint64_t acc = 0;
	size_t i = 0;

	kind_tables(k, &ta, &tb, &tc);
	if (k == FK_PROT && parse_prot_letters(word, len, out) == 0)
		return 0;
	for (;;) {
		size_t j = i;
		uint64_t v;

		while (j < len && word[j] != '|')
			j++;
		if (lookup(ta, word + i, j - i, &v) && lookup(tb, word + i, j - i, &v) &&
		    lookup(tc, word + i, j - i, &v) && parse_plain_number(word + i, j - i, &v)) {
			*bad_off = i;
			*bad_len = j - i;
			return -1;
		}
		acc |= v;
		if (j >= len)
			break;
		i = j + 1;
	}
	*out = acc;
	return 0;
}

/* Appends the names of the bits of table t found in *v, clearing them. */
static void put_bits(struct sbuf *b, const struct name_val *t, uint64_t *v, int *n)
{
	for (; t->name; t++) {
		if (!t->val || (*v & t->val) != t->val || !(t->name[0] >= 'A' && t->name[0] <= 'Z'))
			continue;
		if ((*n)++)
			sb_putc(b, '|');
		sb_puts(b, t->name);
		*v &= ~t->val;
	}
}

static void put_rest(struct sbuf *b, uint64_t v, int n)
{
	if (!v)
		return;
	if (n)
		sb_putc(b, '|');
	sb_printf(b, "%#llx", (unsigned long long)v);
}

/* Canonical name of value v in an enumeration table, or NULL. */
static const char *enum_name(const struct name_val *t, uint64_t v)
{
	for (; t->name; t++)
		if (t->val == v)
			return t->name;
	return NULL;
}

void flags_format(struct sbuf *b, enum flag_kind k, uint64_t v)
{
	const char *name;
	int n = 0;

	switch (k) {
	case FK_PROT:
		if (v == 0) {
			sb_puts(b, "PROT_NONE");
			return;
		}
		put_bits(b, prot_names, &v, &n);
		put_rest(b, v, n);
		return;
	case FK_MAP: {
		uint64_t type = v & 0xf;

		name = type ? enum_name(map_types, type) : NULL;
		if (name) {
			sb_puts(b, name);
			n++;
			v &= ~0xfULL;
		}
		/* A known huge-page size takes the whole field; else bit 26 is a flag. */
		name = enum_name(map_huge, v & MAP_HUGE_MASK);
		if (name && (v & MAP_HUGE_MASK)) {
			if (n++)
				sb_putc(b, '|');
			sb_puts(b, name);
			v &= ~MAP_HUGE_MASK;
		}
		put_bits(b, map_bits, &v, &n);
		if (n == 0 && v == 0) {
			sb_putc(b, '0');
			return;
		}
		put_rest(b, v, n);
		return;
	}
	case FK_O:
		if ((v & 3) == 3) {
			sb_putc(b, '3');
			n++;
		} else {
			sb_puts(b, enum_name(o_modes, v & 3));
			n++;
		}
		v &= ~3ULL;
		put_bits(b, o_bits, &v, &n);
		put_rest(b, v, n);
		return;
	case FK_MADV:
	case FK_SEEK:
	case FK_RLIMIT: {
		const struct name_val *ta, *tb, *tc;

		/* Values, not bits: one name, or the number. */
		kind_tables(k, &ta, &tb, &tc);
		name = enum_name(ta, v);
		if (name)
			sb_puts(b, name);
		else
			sb_printf(b, "%llu", (unsigned long long)v);
		return;
	}
	default: {
		const struct name_val *ta, *tb, *tc;

		kind_tables(k, &ta, &tb, &tc);
		if (v == 0) {
			sb_putc(b, '0');
			return;
		}
		put_bits(b, ta, &v, &n);
		put_rest(b, v, n);
		return;
	}
	}
}

void flags_list(struct sbuf *b, enum flag_kind k)
{
	const struct name_val *t[3];
	int i, n = 0;

	kind_tables(k, &t[0], &t[1], &t[2]);
	for (i = 0; i < 3; i++) {
		const struct name_val *e;

		for (e = t[i]; e && e->name; e++) {
			if (n++)
				sb_putc(b, ' ');
			sb_puts(b, e->name);
		}
	}
}

void rlim_format(struct sbuf *b, uint64_t v)
{
	if (v == UINT64_MAX)
		sb_puts(b, "unlimited");
	else
		sb_printf(b, "%#llx", (unsigned long long)v);
}

/* clang-format off */
#define E(x) [x] = #x
static const char *const errno_names[] = {
	E(EPERM),	E(ENOENT),	 E(ESRCH),	  E(EINTR),	    E(EIO),
	E(ENXIO),	E(E2BIG),	 E(ENOEXEC),	  E(EBADF),	    E(ECHILD),
	E(EAGAIN),	E(ENOMEM),	 E(EACCES),	  E(EFAULT),	    E(ENOTBLK),
	E(EBUSY),	E(EEXIST),	 E(EXDEV),	  E(ENODEV),	    E(ENOTDIR),
	E(EISDIR),	E(EINVAL),	 E(ENFILE),	  E(EMFILE),	    E(ENOTTY),
	E(ETXTBSY),	E(EFBIG),	 E(ENOSPC),	  E(ESPIPE),	    E(EROFS),
	E(EMLINK),	E(EPIPE),	 E(EDOM),	  E(ERANGE),	    E(EDEADLK),
	E(ENAMETOOLONG), E(ENOLCK),	 E(ENOSYS),	  E(ENOTEMPTY),	    E(ELOOP),
	E(ENOMSG),	E(EIDRM),	 E(ENOSTR),	  E(ENODATA),	    E(ETIME),
	E(ENOSR),	E(EREMOTE),	 E(ENOLINK),	  E(EPROTO),	    E(EBADMSG),
	E(EOVERFLOW),	E(EILSEQ),	 E(EUSERS),	  E(ENOTSOCK),	    E(EDESTADDRREQ),
	E(EMSGSIZE),	E(EPROTOTYPE),	 E(ENOPROTOOPT),  E(EPROTONOSUPPORT), E(EOPNOTSUPP),
	E(EAFNOSUPPORT), E(EADDRINUSE),	 E(EADDRNOTAVAIL), E(ENETDOWN),	    E(ENETUNREACH),
	E(ECONNRESET),	E(ENOBUFS),	 E(EISCONN),	  E(ENOTCONN),	    E(ETIMEDOUT),
	E(ECONNREFUSED), E(EHOSTUNREACH), E(EALREADY),	  E(EINPROGRESS),   E(ESTALE),
	E(EDQUOT),	E(ECANCELED),	 E(EOWNERDEAD),	  E(ENOTRECOVERABLE), E(ERFKILL),
	E(EHWPOISON),	E(EUCLEAN),	 E(ENOTUNIQ),	  E(EBADFD),	    E(ENOKEY),
};
#undef E
/* clang-format on */

const char *errno_name(int e)
{
	if (e <= 0 || (size_t)e >= ARRAY_SIZE(errno_names))
		return NULL;
	return errno_names[e];
}

const char *signal_name(int sig)
{
	switch (sig) {
	case SIGSEGV:
		return "SIGSEGV";
	case SIGBUS:
		return "SIGBUS";
	case SIGKILL:
		return "SIGKILL";
	case SIGILL:
		return "SIGILL";
	case SIGFPE:
		return "SIGFPE";
	case SIGTRAP:
		return "SIGTRAP";
	case SIGABRT:
		return "SIGABRT";
	case SIGTERM:
		return "SIGTERM";
	case SIGXFSZ:
		return "SIGXFSZ";
	default:
		return NULL;
	}
}

const char *si_code_name(int sig, int code)
{
	if (code == 0x80)
		return "SI_KERNEL";
	if (code == 0)
		return "SI_USER";
	if (sig == SIGSEGV) {
		static const char *const segv[] = {NULL, "SEGV_MAPERR", "SEGV_ACCERR",
						   "SEGV_BNDERR", "SEGV_PKUERR"};

		if (code > 0 && (size_t)code < ARRAY_SIZE(segv))
			return segv[code];
	}
	if (sig == SIGBUS) {
		static const char *const bus[] = {NULL,		"BUS_ADRALN",	 "BUS_ADRERR",
						  "BUS_OBJERR", "BUS_MCEERR_AR", "BUS_MCEERR_AO"};

		if (code > 0 && (size_t)code < ARRAY_SIZE(bus))
			return bus[code];
	}
	return NULL;
}
