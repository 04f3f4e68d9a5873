/*
 * util.h: small helpers shared by every part of the usermm tool: checked
 * allocation, a growable byte buffer (sbuf), and the C-escaped rendering
 * of byte strings that transcripts use.
 *
 * Allocation failure in the tool is fatal (xmalloc prints and aborts): the
 * tool is a short-lived command, and every caller may then assume success.
 */
#ifndef USERMM_TOOL_UTIL_H
#define USERMM_TOOL_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* Duplicates n bytes of s and NUL-terminates the copy. */
char *xstrndup(const char *s, size_t n);
char *xstrdup(const char *s);

/* A growable buffer; s is always NUL-terminated (when non-NULL) past len. */
struct sbuf {
	char *s;
	size_t len;
	size_t cap;
};

/*
 * The bytes [off, off + n) of a file whose every 8-byte word holds its own
 * offset, little-endian (`file PATH SIZE offsets`), into buf.
 */
void fill_offsets(void *buf, size_t n, uint64_t off);

void sb_init(struct sbuf *b);
void sb_free(struct sbuf *b);
void sb_reset(struct sbuf *b);
void sb_putc(struct sbuf *b, char c);
void sb_putn(struct sbuf *b, const void *p, size_t n);
void sb_puts(struct sbuf *b, const char *s);
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vprintf(struct sbuf *b, const char *fmt, va_list ap);
/* The contents as a malloc'd string (never NULL); b is left empty. */
char *sb_steal(struct sbuf *b);
/* The contents, "" when empty (valid until the next change of b). */
const char *sb_str(const struct sbuf *b);

/*
 * Appends bytes p[0..n) as a transcript string: quoted segments with C
 * escapes (\n \t \r \\ \" \0 \xNN), and any run of at least 32 equal bytes
 * as a segment of its own, "X"*N. An empty string is "".
 */
void sb_cstring(struct sbuf *b, const void *p, size_t n);
/* The value of hex digit c, or -1. */
int hexval(int c);
/*
 * Decodes one escape of a string as scripts and transcripts spell it;
 * s[0..n) follows the backslash. The forms: \n \t \r \a \b \f \v \e \\ \"
 * \' \?, octal \N to \NNN (at most \377), \xNN with exactly two hex digits.
 * Returns the byte with *used set to the bytes of s it took, or -1 with
 * *why saying why (NULL: s[0] is no escape letter).
 */
int c_unescape(const char *s, size_t n, size_t *used, const char **why);
/* Appends s as a JSON string literal. */
void sb_json_string(struct sbuf *b, const char *s);

/*
 * Opens path below directory dirfd as the library opens sandbox files:
 * openat2 with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS, so that "..", an
 * absolute path or a symbolic link leading out is refused (EACCES, as the
 * library reports it); "/dev/zero" is the one path opened as it is.
 * Returns a descriptor (close-on-exec) or a negative errno.
 */
int open_beneath(int dirfd, const char *path, int flags, unsigned mode);

/*
 * Both back ends make their sandboxes under $TMPDIR, else /tmp (the
 * library's rule, src/host.c), so their files share a disk and a device
 * number. The library models ext4's page cache (read-ahead, major faults,
 * write_begin, write-back); where /tmp is a tmpfs (Debian 13, Fedora,
 * Arch) or an overlay (a container), the kernel back end's files would
 * behave otherwise. Then TMPDIR is set to /var/tmp, on disk by the FHS,
 * when it is on neither, for both back ends of the process. A TMPDIR
 * already set is the user's choice and stays. Call before a back end
 * makes its sandbox.
 */
void sandbox_tmpdir_on_disk(void);

#endif /* USERMM_TOOL_UTIL_H */
