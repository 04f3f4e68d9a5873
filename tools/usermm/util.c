/*
 * util.c: checked allocation, the growable buffer and string escaping
 * declared in util.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

static void oom(size_t n)
{
	fprintf(stderr, "usermm: out of memory (%zu bytes)\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom(n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom(n);
	return q;
}

char *xstrndup(const char *s, size_t n)
{
	char *d = xmalloc(n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

void fill_offsets(void *buf, size_t n, uint64_t off)
{
	unsigned char *b = buf;

	for (size_t i = 0; i < n; i++) {
		uint64_t o = off + i;
		uint64_t w = o & ~(uint64_t)7;

		b[i] = (unsigned char)(w >> (8 * (o & 7)));
	}
}

void sb_init(struct sbuf *b)
{
	b->s = NULL;
	b->len = 0;
	b->cap = 0;
}

void sb_free(struct sbuf *b)
{
	free(b->s);
	sb_init(b);
}

void sb_reset(struct sbuf *b)
{
	b->len = 0;
	if (b->s)
		b->s[0] = '\0';
}

/* Makes room for n more bytes and the NUL. */
static void sb_grow(struct sbuf *b, size_t n)
{
	size_t need = b->len + n + 1;

	if (need < b->len)
		oom(SIZE_MAX);
	if (need <= b->cap)
		return;
	if (b->cap * 2 > need)
		need = b->cap * 2;
	if (need < 64)
		need = 64;
	b->s = xrealloc(b->s, need);
	b->cap = need;
}

void sb_putn(struct sbuf *b, const void *p, size_t n)
{
	sb_grow(b, n);
	if (n)
		memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void sb_putc(struct sbuf *b, char c)
{
	sb_putn(b, &c, 1);
}

void sb_puts(struct sbuf *b, const char *s)
{
	sb_putn(b, s, strlen(s));
}

void sb_vprintf(struct sbuf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	sb_grow(b, (size_t)n);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sb_vprintf(b, fmt, ap);
	va_end(ap);
}

char *sb_steal(struct sbuf *b)
{
	char *s = b->s ? b->s : xstrdup("");

	sb_init(b);
	return s;
}

const char *sb_str(const struct sbuf *b)
{
	return b->s ? b->s : "";
}

/* Appends one byte escaped for a C string; next is the byte after it (-1: none). */
static void put_escaped(struct sbuf *b, unsigned char c, int next)
{
	switch (c) {
	case '\n':
		sb_puts(b, "\\n");
		return;
	case '\t':
		sb_puts(b, "\\t");
		return;
	case '\r':
		sb_puts(b, "\\r");
		return;
	case '\\':
		sb_puts(b, "\\\\");
		return;
	case '"':
		sb_puts(b, "\\\"");
		return;
	case '\0':
		/* "\0" followed by an octal digit would read as one escape. */
		if (next >= '0' && next <= '7')
			sb_puts(b, "\\x00");
		else
			sb_puts(b, "\\0");
		return;
	default:
		if (c >= 0x20 && c < 0x7f)
			sb_putc(b, (char)c);
		else
			sb_printf(b, "\\x%02x", c);
	}
}

int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int c_unescape(const char *s, size_t n, size_t *used, const char **why)
{
	/* Each escape letter and the byte it stands for. */
	static const char simple[][2] = {{'n', '\n'}, {'t', '\t'},  {'r', '\r'},   {'a', '\a'},
					 {'b', '\b'}, {'f', '\f'},  {'v', '\v'},   {'e', 0x1b},
					 {'\\', '\\'}, {'"', '"'}, {'\'', '\''}, {'?', '?'}};
	unsigned v = 0;
	size_t i;

	*why = NULL;
	if (n == 0) {
		*why = "unterminated string";
		return -1;
	}
	for (i = 0; i < ARRAY_SIZE(simple); i++)
		if (s[0] == simple[i][0]) {
			*used = 1;
			return (unsigned char)simple[i][1];
		}
	if (s[0] == 'x') {
		if (n < 3 || hexval((unsigned char)s[1]) < 0 || hexval((unsigned char)s[2]) < 0) {
			*why = "\\x takes exactly two hex digits";
			return -1;
		}
		*used = 3;
		return hexval((unsigned char)s[1]) * 16 + hexval((unsigned char)s[2]);
	}
	for (i = 0; i < 3 && i < n && s[i] >= '0' && s[i] <= '7'; i++)
		v = v * 8 + (unsigned)(s[i] - '0');
	if (i == 0)
		return -1; /* unknown: the caller names the byte */
	if (v > 255) {
		*why = "octal escape out of range";
		return -1;
	}
	*used = i;
	return (int)v;
}

#define RUN_MIN 32

void sb_cstring(struct sbuf *b, const void *p, size_t n)
{
	const unsigned char *s = p;
	bool open = false, any = false;
	size_t i = 0;

	while (i < n) {
		size_t run = 1;

		while (i + run < n && s[i + run] == s[i])
			run++;
		if (run >= RUN_MIN) {
			if (open)
				sb_puts(b, "\" ");
			else if (any)
				sb_putc(b, ' ');
			sb_putc(b, '"');
			put_escaped(b, s[i], -1);
			sb_printf(b, "\"*%zu", run);
			open = false;
			any = true;
			i += run;
			continue;
		}
		if (!open) {
			if (any)
				sb_putc(b, ' ');
			sb_putc(b, '"');
			open = true;
			any = true;
		}
		put_escaped(b, s[i], i + 1 < n ? s[i + 1] : -1);
		i++;
	}
	if (open)
		sb_putc(b, '"');
	if (!any)
		sb_puts(b, "\"\"");
}

void sb_json_string(struct sbuf *b, const char *s)
{
	sb_putc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			sb_printf(b, "\\%c", c);
		else if (c == '\n')
			sb_puts(b, "\\n");
		else if (c == '\t')
			sb_puts(b, "\\t");
		else if (c < 0x20 || c == 0x7f)
			sb_printf(b, "\\u%04x", c);
		else
			sb_putc(b, (char)c);
	}
	sb_putc(b, '"');
}

int open_beneath(int dirfd, const char *path, int flags, unsigned mode)
{
	struct open_how how;
	long fd;

	if (!strcmp(path, "/dev/zero")) {
		fd = openat(AT_FDCWD, path, flags | O_CLOEXEC, mode);
		return fd < 0 ? -errno : (int)fd;
	}
	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)(flags | O_CLOEXEC);
	how.mode = ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) ? mode : 0;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	if (fd < 0)
		return errno == EXDEV ? -EACCES : -errno;
	return (int)fd;
}

/*
 * Is dir on a file system whose page cache the library does not model: a
 * tmpfs or ramfs (its files are shmem), an overlay (a mapping or a read
 * goes to the file below, through a file of its own per open)? No when it
 * cannot be told.
 */
static bool unmodelled_fs(const char *dir)
{
	struct statfs st;

	if (statfs(dir, &st))
		return false;
	return st.f_type == TMPFS_MAGIC || st.f_type == RAMFS_MAGIC ||
	       st.f_type == OVERLAYFS_SUPER_MAGIC;
}

void sandbox_tmpdir_on_disk(void)
{
	const char *tmp = getenv("TMPDIR");

	if (tmp && *tmp)
		return;
	if (unmodelled_fs("/tmp") && access("/var/tmp", W_OK | X_OK) == 0 &&
	    !unmodelled_fs("/var/tmp"))
		setenv("TMPDIR", "/var/tmp", 1);
}
