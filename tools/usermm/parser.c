/*
 * parser.c: the scenario language's command table, lexer, parser and
 * static checker (script.h).
 *
 * A line is, in order: an optional process prefix "NAME:", an optional
 * binding "SYM =", a command word, its arguments (words or "strings"), an
 * optional expectation "=> TEXT", and an optional comment "# ...". `proc`,
 * `echo` and `config` have forms of their own. Arguments are read by the
 * command's signature (struct cmd_spec.sig), so a word like "---" is a
 * protection where one is expected and an error elsewhere.
 *
 * Invariants:
 *   1. Nothing here does I/O or keeps state outside its arguments.
 *   2. Every index into a line is checked against its length; a NUL byte
 *      or a byte outside printable ASCII outside a string is an error.
 *   3. line_parse changes the scope only after the whole line checked out.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "script.h"

/* clang-format off */
static const struct cmd_spec cmds[] = {
	{ "mmap", OP_MMAP, "ALpf[DO]", CF_BIND_ADDR, "mmap ADDR LEN PROT FLAGS [FD OFF]",
	  "map memory; the result is the address" },
	{ "munmap", OP_MUNMAP, "AL", 0, "munmap ADDR LEN", "unmap a range" },
	{ "mprotect", OP_MPROTECT, "ALp", 0, "mprotect ADDR LEN PROT", "change protection" },
	{ "msync", OP_MSYNC, "ALs", 0, "msync ADDR LEN FLAGS", "write back a shared file mapping" },
	{ "mremap", OP_MREMAP, "ALLr[A]", CF_BIND_ADDR, "mremap OLD OLDLEN NEWLEN FLAGS [NEWADDR]",
	  "grow, shrink or move a mapping" },
	{ "madvise", OP_MADVISE, "ALa", 0, "madvise ADDR LEN ADVICE", "give advice about a range" },
	{ "mincore", OP_MINCORE, "AL", 0, "mincore ADDR LEN", "residency, one digit per page" },
	{ "mlock", OP_MLOCK, "AL[l]", 0, "mlock ADDR LEN [MLOCK_ONFAULT]",
	  "lock pages in memory (mlock2 with flags)" },
	{ "munlock", OP_MUNLOCK, "AL", 0, "munlock ADDR LEN", "unlock pages" },
	{ "mlockall", OP_MLOCKALL, "c", 0, "mlockall FLAGS", "lock the whole address space" },
	{ "munlockall", OP_MUNLOCKALL, "", 0, "munlockall", "unlock the whole address space" },
	{ "brk", OP_BRK, "A", CF_BIND_ADDR, "brk ADDR", "set the break; brk 0 asks for it" },
	{ "remap_file_pages", OP_REMAP_FILE_PAGES, "ALpNf", 0,
	  "remap_file_pages ADDR SIZE PROT PGOFF FLAGS",
	  "deprecated: maps the file again at page PGOFF (PROT must be 0)" },
	{ "file", OP_FILE, "HN[X]", CF_NO_PROC, "file PATH SIZE [BYTE | \"CONTENT\" | offsets]",
	  "create or replace a file in the sandbox" },
	{ "open", OP_OPEN, "Ho[M]", CF_BIND_NUM, "open PATH FLAGS [MODE]",
	  "open a file; the result is the descriptor" },
	{ "close", OP_CLOSE, "D", 0, "close FD", "close a descriptor" },
	{ "read", OP_READ, "DN", 0, "read FD LEN", "read bytes, printed as a string" },
	{ "read", OP_READ_USER, "DAN", CF_BIND_NUM, "read FD ADDR LEN",
	  "read into the process's memory: the count" },
	{ "pread", OP_PREAD, "DNN", 0, "pread FD LEN OFF", "read at an offset" },
	{ "write", OP_WRITE, "DS", CF_BIND_NUM, "write FD \"STR\"", "write bytes: the count" },
	{ "write", OP_WRITE_USER, "DAN", CF_BIND_NUM, "write FD ADDR LEN",
	  "write from the process's memory: the count" },
	{ "pwrite", OP_PWRITE, "DSN", CF_BIND_NUM, "pwrite FD \"STR\" OFF", "write at an offset" },
	{ "lseek", OP_LSEEK, "DNw", CF_BIND_NUM, "lseek FD OFF WHENCE", "move the file offset" },
	{ "ftruncate", OP_FTRUNCATE, "DN", 0, "ftruncate FD LEN", "set a file's size" },
	{ "fsync", OP_FSYNC, "D", 0, "fsync FD", "write a file back and flush it" },
	{ "fdatasync", OP_FDATASYNC, "D", 0, "fdatasync FD", "write a file's data back" },
	{ "fstat", OP_FSTAT, "D", 0, "fstat FD", "a file's mode, owner, group and size" },
	{ "chmod", OP_CHMOD, "HM", 0, "chmod PATH MODE",
	  "set a file's mode bits (its owner, or CAP_FOWNER)" },
	{ "fchmod", OP_FCHMOD, "DM", 0, "fchmod FD MODE", "chmod through a descriptor" },
	{ "chown", OP_CHOWN, "HNN", 0, "chown PATH UID GID",
	  "set a file's owner and group (-1: unchanged; CAP_CHOWN)" },
	{ "fchown", OP_FCHOWN, "DNN", 0, "fchown FD UID GID", "chown through a descriptor" },
	{ "umask", OP_UMASK, "M", 0, "umask MASK",
	  "set the mask O_CREAT takes from modes; the result is the old one" },
	{ "cat", OP_CAT, "H[NN]", CF_NO_PROC, "cat PATH [OFF LEN]",
	  "a file's bytes through the page cache" },
	{ "load8", OP_LOAD8, "A", CF_BIND_NUM, "load8 ADDR", "load a byte (unsigned decimal)" },
	{ "load16", OP_LOAD16, "A", CF_BIND_NUM, "load16 ADDR", "load 2 bytes" },
	{ "load32", OP_LOAD32, "A", CF_BIND_NUM, "load32 ADDR", "load 4 bytes" },
	{ "load64", OP_LOAD64, "A", CF_BIND_NUM, "load64 ADDR", "load 8 bytes" },
	{ "store8", OP_STORE8, "AV", 0, "store8 ADDR VALUE", "store a byte" },
	{ "store16", OP_STORE16, "AV", 0, "store16 ADDR VALUE", "store 2 bytes" },
	{ "store32", OP_STORE32, "AV", 0, "store32 ADDR VALUE", "store 4 bytes" },
	{ "store64", OP_STORE64, "AV", 0, "store64 ADDR VALUE", "store 8 bytes" },
	{ "load", OP_LOAD, "AN", 0, "load ADDR LEN", "load bytes, printed as a string" },
	{ "store", OP_STORE, "AS", 0, "store ADDR \"STR\"", "store bytes" },
	{ "fill", OP_FILL, "ANY", 0, "fill ADDR LEN BYTE|offsets",
	  "store LEN copies of a byte, or offsets: each 8-byte word its offset from ADDR" },
	{ "check", OP_CHECK, "ANY", 0, "check ADDR LEN BYTE|offsets",
	  "read LEN bytes back: ok when each is BYTE (or the fill offsets pattern), else the first that is not" },
	{ "touch", OP_TOUCH, "AN[W]", 0, "touch ADDR LEN [read|write]",
	  "one access per page, stopping at the first fault" },
	{ "fork", OP_FORK, "I", 0, "fork NAME", "NAME becomes a copy of this process" },
	{ "exec", OP_EXEC, "", 0, "exec", "replace the image: every mapping is gone" },
	{ "exit", OP_EXIT, "", 0, "exit", "end the process" },
	{ "setrlimit", OP_SETRLIMIT, "uUU", 0, "setrlimit RESOURCE SOFT HARD",
	  "set a limit: RLIMIT_AS _DATA _STACK _MEMLOCK _FSIZE, in bytes or unlimited" },
	{ "getrlimit", OP_GETRLIMIT, "u", 0, "getrlimit RESOURCE",
	  "a resource limit: soft, then hard" },
	{ "oom_score_adj", OP_OOM_SCORE_ADJ, "[N]", 0, "oom_score_adj [ADJ]",
	  "set /proc/PID/oom_score_adj (-1000 to 1000; below the floor: EACCES), or read it" },
	{ "oom_score", OP_OOM_SCORE, "", 0, "oom_score", "/proc/PID/oom_score: the OOM killer's badness" },
	{ "setuid", OP_SETUID, "N", 0, "setuid UID",
	  "set the user ids (CAP_SETUID: all; else the effective one to the real or saved)" },
	{ "setgid", OP_SETGID, "N", 0, "setgid GID", "set the group ids (CAP_SETGID), as setuid" },
	{ "setresuid", OP_SETRESUID, "NNN", 0, "setresuid RUID EUID SUID",
	  "set the real, effective and saved user ids (-1: unchanged)" },
	{ "setresgid", OP_SETRESGID, "NNN", 0, "setresgid RGID EGID SGID",
	  "set the real, effective and saved group ids (-1: unchanged)" },
	{ "maps", OP_MAPS, "", 0, "maps", "/proc/PID/maps lines of the scenario's mappings" },
	{ "smaps", OP_SMAPS, "A", 0, "smaps ADDR", "/proc/PID/smaps fields of one mapping" },
	{ "pagemap", OP_PAGEMAP, "AL", 0, "pagemap ADDR LEN",
	  "per page: present, swapped, frame label" },
	{ "status", OP_STATUS, "", 0, "status", "VmSize VmRSS RssAnon RssFile RssShmem VmLck VmSwap" },
	{ "disk", OP_DISK, "H[NN]", CF_SIM_ONLY | CF_NO_PROC, "disk PATH [OFF LEN]",
	  "the backing file's bytes as written back (sim only)" },
	{ "meminfo", OP_MEMINFO, "[KKKKKK]", CF_SIM_ONLY | CF_NO_PROC | CF_SOME_ARGS, "meminfo [FIELD...]",
	  "/proc/meminfo, or the fields named on one line (sim only)" },
	{ "vmstat", OP_VMSTAT, "[KKKKKK]", CF_SIM_ONLY | CF_NO_PROC | CF_SOME_ARGS, "vmstat [NAME...]",
	  "/proc/vmstat counters the library keeps, or those named on one line (sim only)" },
	{ "hugepages", OP_HUGEPAGES, "", CF_NO_PROC, "hugepages",
	  "the default huge page size's pool: HugePages_Total, _Free, _Rsvd, _Surp" },
	{ "reclaim", OP_RECLAIM, "N", CF_SIM_ONLY | CF_NO_PROC, "reclaim N",
	  "reclaim up to N page-cache pages, answering how many (sim only)" },
	{ "events", OP_EVENTS, "[E]", CF_SIM_ONLY | CF_NO_PROC, "events [all]",
	  "events since the last events, counted by kind; all: one line each (sim only)" },
	{ "sleep", OP_SLEEP, "N", CF_NO_PROC, "sleep MS",
	  "let MS milliseconds pass: the sim's clock moves and its flusher runs; the kernel sleeps" },
	{ "swapon", OP_SWAPON, "HN", CF_SIM_ONLY | CF_NO_PROC, "swapon PATH SIZE",
	  "make a swap file of SIZE bytes and swap on it, answering its type (sim only)" },
	{ "swapoff", OP_SWAPOFF, "H", CF_SIM_ONLY | CF_NO_PROC, "swapoff PATH",
	  "bring every page on the swap file back and remove it (sim only)" },
};
/* clang-format on */

const struct cmd_spec *cmd_table(size_t *n)
{
	*n = ARRAY_SIZE(cmds);
	return cmds;
}

/* ------------------------------------------------------------ diagnostics */

void diag_free(struct diag *d)
{
	free(d->file);
	free(d->msg);
	free(d->src);
	memset(d, 0, sizeof(*d));
}

void diag_print(FILE *f, const struct diag *d)
{
	const char *src = d->src ? d->src : "";
	int i;

	fprintf(f, "%s:%d:%d: %s\n", d->file ? d->file : "-", d->line, d->col,
		d->msg ? d->msg : "error");
	if (!d->src)
		return;
	fprintf(f, "%s\n", src);
	/* Copy tabs so that the caret lines up whatever the tab width. */
	for (i = 1; i < d->col && src[i - 1]; i++)
		fputc(src[i - 1] == '\t' ? '\t' : ' ', f);
	fputs("^\n", f);
}

/* The state of one line being parsed. */
struct lx {
	const char *s;
	size_t len;
	size_t pos;
	const char *file;
	int lineno;
	struct diag *d;
};

/* Source line fit for printing: NULs and control bytes shown as '?'. */
static char *printable_src(const char *s, size_t n)
{
	char *p = xstrndup(s, n);
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 && p[i] != '\t')
			p[i] = '?';
	return p;
}

static int lx_error(struct lx *lx, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records an error at byte offset at of the line; returns -1. */
static int lx_error(struct lx *lx, size_t at, const char *fmt, ...)
{
	struct sbuf b;
	va_list ap;

	if (lx->d->msg)
		return -1; /* keep the first */
	sb_init(&b);
	va_start(ap, fmt);
	sb_vprintf(&b, fmt, ap);
	va_end(ap);
	lx->d->file = xstrdup(lx->file ? lx->file : "-");
	lx->d->line = lx->lineno;
	lx->d->col = (int)(at > lx->len ? lx->len : at) + 1;
	lx->d->msg = sb_steal(&b);
	lx->d->src = printable_src(lx->s, lx->len);
	return -1;
}

/* ------------------------------------------------------------------ lexer */

static bool is_ident_start(int c)
{
	return isalpha(c) || c == '_';
}

static bool is_ident(int c)
{
	return isalnum(c) || c == '_';
}

static int lx_peek(const struct lx *lx, size_t at)
{
	return at < lx->len ? (unsigned char)lx->s[at] : -1;
}

static void lx_skip_ws(struct lx *lx)
{
	while (lx->pos < lx->len && (lx->s[lx->pos] == ' ' || lx->s[lx->pos] == '\t'))
		lx->pos++;
}

/* True at the end of the line or at a comment. */
static bool lx_at_end(const struct lx *lx)
{
	return lx->pos >= lx->len || lx->s[lx->pos] == '#';
}

/* Length of the identifier at at, 0 when none. */
static size_t ident_len(const struct lx *lx, size_t at)
{
	size_t n = 0;

	if (!is_ident_start(lx_peek(lx, at)))
		return 0;
	while (is_ident(lx_peek(lx, at + n)))
		n++;
	return n;
}

/* A word: [start, end) in the line; for a string token, its unescaped bytes. */
struct word {
	size_t start, end;
	bool is_str;
	char *str;
	size_t slen;
};

/*
 * Reads the string token at lx->pos (on its opening quote): C escapes \n
 * \t \r \\ \" \' \a \b \f \v \e, octal \N..\NNN, and \xNN (exactly two hex
 * digits). Leaves pos after the closing quote. On failure nothing is left
 * allocated in w.
 */
static int lex_string(struct lx *lx, struct word *w)
{
	struct sbuf b;
	size_t i = lx->pos + 1;

	sb_init(&b);
	w->start = lx->pos;
	for (;;) {
		int c = lx_peek(lx, i), v;
		const char *why;
		size_t used;

		if (c < 0) {
			sb_free(&b);
			return lx_error(lx, w->start, "unterminated string");
		}
		if (c == '"')
			break;
		if (c == '\0') {
			sb_free(&b);
			return lx_error(lx, i, "NUL byte in string");
		}
		if (c != '\\') {
			sb_putc(&b, (char)c);
			i++;
			continue;
		}
		v = c_unescape(lx->s + i + 1, lx->len - i - 1, &used, &why);
		if (v < 0) {
			sb_free(&b);
			c = lx_peek(lx, i + 1);
			if (c < 0)
				return lx_error(lx, w->start, "unterminated string");
			if (why)
				return lx_error(lx, i, "%s", why);
			return lx_error(lx, i, "unknown escape '\\%c'", isprint(c) ? c : '?');
		}
		sb_putc(&b, (char)v);
		i += 1 + used;
	}
	lx->pos = i + 1;
	w->end = lx->pos;
	w->is_str = true;
	w->slen = b.len;
	if (lx->pos < lx->len && lx->s[lx->pos] != ' ' && lx->s[lx->pos] != '\t') {
		sb_free(&b);
		return lx_error(lx, lx->pos, "expected a space after the string");
	}
	w->str = b.s ? sb_steal(&b) : xstrdup("");
	return 0;
}

/* Reads the word at lx->pos: a string token or a run of printable non-space bytes. */
static int lex_word(struct lx *lx, struct word *w)
{
	memset(w, 0, sizeof(*w));
	if (lx_peek(lx, lx->pos) == '"')
		return lex_string(lx, w);
	w->start = lx->pos;
	while (lx->pos < lx->len && lx->s[lx->pos] != ' ' && lx->s[lx->pos] != '\t') {
		unsigned char c = (unsigned char)lx->s[lx->pos];

		if (c == '"')
			return lx_error(lx, lx->pos, "unexpected quote inside a word");
		if (c < 0x21 || c > 0x7e)
			return lx_error(lx, lx->pos, "unexpected byte 0x%02x", c);
		lx->pos++;
	}
	w->end = lx->pos;
	return 0;
}

static bool word_is(const struct lx *lx, const struct word *w, const char *s)
{
	size_t n = strlen(s);

	return !w->is_str && w->end - w->start == n && !memcmp(lx->s + w->start, s, n);
}

/* ---------------------------------------------------------------- numbers */

/*
 * Parses an unsigned C number with an optional unit suffix (K M G: powers
 * of 1024, P: pages) from s[0..n). Returns 0, or -1 with *why set.
 */
static int parse_unumber(const char *s, size_t n, uint64_t *v, bool *pages, const char **why)
{
	unsigned base = 10, mult_shift = 0;
	uint64_t acc = 0;
	size_t i = 0;

	*pages = false;
	if (n == 0) {
		*why = "expected a number";
		return -1;
	}
	switch (s[n - 1]) {
	case 'K':
	case 'k':
		mult_shift = 10;
		n--;
		break;
	case 'M':
	case 'm':
		mult_shift = 20;
		n--;
		break;
	case 'G':
	case 'g':
		mult_shift = 30;
		n--;
		break;
	case 'P':
	case 'p':
		*pages = true;
		n--;
		break;
	default:
		break;
	}
	if (n == 0 || !isdigit((unsigned char)s[0])) {
		*why = "expected a number";
		return -1;
	}
	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	} else if (n > 1 && s[0] == '0') {
		base = 8;
		i = 1;
	}
	for (; i < n; i++) {
		int d = hexval((unsigned char)s[i]);

		if (d < 0 || (unsigned)d >= base) {
			*why = base == 8 ? "bad digit in an octal number" : "bad digit in a number";
			return -1;
		}
		if (acc > (UINT64_MAX - (unsigned)d) / base) {
			*why = "number out of range";
			return -1;
		}
		acc = acc * base + (unsigned)d;
	}
	if (mult_shift && acc > (UINT64_MAX >> mult_shift)) {
		*why = "number out of range";
		return -1;
	}
	if (*pages && acc > (1ULL << 47)) {
		*why = "number out of range";
		return -1;
	}
	*v = acc << mult_shift;
	return 0;
}

/* Parses an expression word: NULL, NUM, -NUM, SYM, SYM+NUM, SYM-NUM. */
static int parse_expr(struct lx *lx, const struct word *w, bool allow_null, struct expr *e)
{
	const char *s = lx->s + w->start;
	size_t n = w->end - w->start, id;
	const char *why = NULL;

	memset(e, 0, sizeof(*e));
	if (w->is_str)
		return lx_error(lx, w->start, "expected a number, not a string");
	if (n == 4 && !memcmp(s, "NULL", 4)) {
		if (!allow_null)
			return lx_error(lx, w->start,
					"NULL is an address; a number is expected here");
		e->null = true;
		return 0;
	}
	id = ident_len(lx, w->start);
	if (id) {
		if (id > n)
			id = n;
		e->sym = xstrndup(s, id);
		if (id == n)
			return 0;
		if (s[id] != '+' && s[id] != '-') {
			free(e->sym);
			e->sym = NULL;
			return lx_error(lx, w->start + id, "expected + or - after a symbol");
		}
		e->neg = s[id] == '-';
		if (parse_unumber(s + id + 1, n - id - 1, &e->num, &e->pages, &why)) {
			free(e->sym);
			e->sym = NULL;
			return lx_error(lx, w->start + id + 1, "%s", why);
		}
		return 0;
	}
	if (s[0] == '-') {
		e->neg = true;
		if (parse_unumber(s + 1, n - 1, &e->num, &e->pages, &why))
			return lx_error(lx, w->start + 1, "%s", why);
		return 0;
	}
	if (parse_unumber(s, n, &e->num, &e->pages, &why))
		return lx_error(lx, w->start, "%s", why);
	return 0;
}

int expr_parse(const char *s, size_t n, struct expr *out)
{
	struct diag d = {0};
	struct lx lx = {.s = s, .len = n, .d = &d};
	struct word w = {.start = 0, .end = n};
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e || s[i] == '"')
			return -1;
	rc = parse_expr(&lx, &w, true, out);
	diag_free(&d);
	return rc;
}

void expr_free(struct expr *e)
{
	free(e->sym);
	e->sym = NULL;
}

/* Rejects a literal that cannot fit in bits bits, signed or unsigned. */
static int check_width(struct lx *lx, const struct word *w, const struct expr *e, unsigned bits)
{
	uint64_t max;

	if (e->sym || e->pages || bits >= 64)
		return 0;
	max = (1ULL << bits) - 1;
	if ((!e->neg && e->num > max) || (e->neg && e->num > (1ULL << (bits - 1))))
		return lx_error(lx, w->start, "value does not fit in %u bits", bits);
	return 0;
}

/* ------------------------------------------------------------------ scope */

struct sproc {
	char *name;
	bool alive;
	char **syms;
	size_t nsyms;
};

struct scope {
	struct sproc *procs;
	size_t nprocs;
	long cur;      /* index of the current process, -1: none */
	bool any_proc; /* a proc line has been seen */
};

struct scope *scope_new(void)
{
	struct scope *sc = xcalloc(1, sizeof(*sc));

	sc->cur = -1;
	return sc;
}

static void sproc_clear_syms(struct sproc *p)
{
	size_t i;

	for (i = 0; i < p->nsyms; i++)
		free(p->syms[i]);
	free(p->syms);
	p->syms = NULL;
	p->nsyms = 0;
}

void scope_free(struct scope *sc)
{
	size_t i;

	if (!sc)
		return;
	for (i = 0; i < sc->nprocs; i++) {
		sproc_clear_syms(&sc->procs[i]);
		free(sc->procs[i].name);
	}
	free(sc->procs);
	free(sc);
}

const char *scope_current(const struct scope *sc)
{
	return sc->cur >= 0 ? sc->procs[sc->cur].name : NULL;
}

static long scope_find(const struct scope *sc, const char *name)
{
	size_t i;

	for (i = 0; i < sc->nprocs; i++)
		if (!strcmp(sc->procs[i].name, name))
			return (long)i;
	return -1;
}

static bool sproc_has(const struct sproc *p, const char *sym)
{
	size_t i;

	if (!strcmp(sym, "top"))
		return true;
	for (i = 0; i < p->nsyms; i++)
		if (!strcmp(p->syms[i], sym))
			return true;
	return false;
}

static void sproc_add(struct sproc *p, const char *sym)
{
	if (sproc_has(p, sym))
		return;
	p->syms = xrealloc(p->syms, (p->nsyms + 1) * sizeof(*p->syms));
	p->syms[p->nsyms++] = xstrdup(sym);
}

/* Finds or makes a process slot named name, alive, with no symbols. */
static long scope_new_proc(struct scope *sc, const char *name)
{
	long i = scope_find(sc, name);

	if (i < 0) {
		sc->procs = xrealloc(sc->procs, (sc->nprocs + 1) * sizeof(*sc->procs));
		i = (long)sc->nprocs++;
		memset(&sc->procs[i], 0, sizeof(sc->procs[i]));
		sc->procs[i].name = xstrdup(name);
	}
	sproc_clear_syms(&sc->procs[i]);
	sc->procs[i].alive = true;
	return i;
}

/* ------------------------------------------------------------------ lines */

void line_free(struct line *l)
{
	int i;
	size_t j;

	free(l->proc);
	free(l->bind);
	for (i = 0; i < l->nargs; i++) {
		free(l->args[i].e.sym);
		free(l->args[i].str);
	}
	free(l->expect);
	free(l->text);
	for (j = 0; j < l->ncfg; j++) {
		free(l->cfg[j].key);
		free(l->cfg[j].val.sym);
	}
	free(l->cfg);
	free(l->src);
	memset(l, 0, sizeof(*l));
}

static void word_free(struct word *w)
{
	free(w->str);
	w->str = NULL;
}

static enum flag_kind sig_flag_kind(char c)
{
	switch (c) {
	case 'p':
		return FK_PROT;
	case 'f':
		return FK_MAP;
	case 's':
		return FK_MS;
	case 'r':
		return FK_MREMAP;
	case 'a':
		return FK_MADV;
	case 'c':
		return FK_MCL;
	case 'l':
		return FK_MLOCK;
	case 'o':
		return FK_O;
	case 'u':
		return FK_RLIMIT;
	default:
		return FK_SEEK;
	}
}

/* Store widths by op, for literal range checks. */
static unsigned store_bits(enum op op)
{
	switch (op) {
	case OP_STORE8:
		return 8;
	case OP_STORE16:
		return 16;
	case OP_STORE32:
		return 32;
	default:
		return 64;
	}
}

/* Parses word w as argument letter c of command spec into *a. */
static int parse_arg(struct lx *lx, const struct cmd_spec *spec, char c, struct word *w,
		     struct arg *a)
{
	memset(a, 0, sizeof(*a));
	a->col = (int)w->start + 1;
	switch (c) {
	case 'A':
		a->type = AT_ADDR;
		return parse_expr(lx, w, true, &a->e);
	case 'L':
	case 'O':
	case 'N':
	case 'V':
	case 'D':
	case 'B':
	case 'M':
		a->type = c == 'L'   ? AT_LEN
			  : c == 'O' ? AT_OFF
			  : c == 'N' ? AT_NUM
			  : c == 'V' ? AT_VAL
			  : c == 'D' ? AT_FD
			  : c == 'B' ? AT_BYTE
				     : AT_MODE;
		if (parse_expr(lx, w, false, &a->e))
			return -1;
		if (c == 'V')
			return check_width(lx, w, &a->e, store_bits(spec->op));
		if (c == 'B')
			return check_width(lx, w, &a->e, 8);
		if (c == 'D' || c == 'M')
			return check_width(lx, w, &a->e, 32);
		return 0;
	case 'Y':
		if (w->is_str)
			return lx_error(lx, w->start, "expected a byte or offsets");
		/* fall through */
	case 'X':
		if (w->is_str) {
			a->type = AT_BYTE_OR_STR;
			a->is_str = true;
			a->str = w->str;
			a->slen = w->slen;
			w->str = NULL;
			return 0;
		}
		a->type = AT_BYTE_OR_STR;
		if (word_is(lx, w, "offsets")) {
			a->offsets = true;
			return 0;
		}
		if (parse_expr(lx, w, false, &a->e))
			return -1;
		return check_width(lx, w, &a->e, 8);
	case 'S':
		if (!w->is_str)
			return lx_error(lx, w->start, "expected a \"string\"");
		a->type = AT_STR;
		a->str = w->str;
		a->slen = w->slen;
		w->str = NULL;
		return 0;
	case 'H':
		a->type = AT_PATH;
		if (w->is_str) {
			if (memchr(w->str, '\0', w->slen))
				return lx_error(lx, w->start, "a path cannot hold a NUL byte");
			if (w->slen == 0)
				return lx_error(lx, w->start, "empty path");
			a->str = w->str;
			a->slen = w->slen;
			w->str = NULL;
		} else {
			a->str = xstrndup(lx->s + w->start, w->end - w->start);
			a->slen = w->end - w->start;
		}
		return 0;
	case 'I': {
		size_t n = w->end - w->start;

		if (w->is_str || ident_len(lx, w->start) != n)
			return lx_error(lx, w->start, "expected a process name");
		a->type = AT_NAME;
		a->str = xstrndup(lx->s + w->start, n);
		a->slen = n;
		return 0;
	}
	case 'U':
		/* RLIM_INFINITY by name, or any number (-1 is RLIM_INFINITY too). */
		a->type = AT_LIMIT;
		if (word_is(lx, w, "unlimited") || word_is(lx, w, "RLIM_INFINITY")) {
			memset(&a->e, 0, sizeof(a->e));
			a->e.num = UINT64_MAX;
			return 0;
		}
		return parse_expr(lx, w, false, &a->e);
	case 'E':
		a->type = AT_ALL;
		if (!word_is(lx, w, "all"))
			return lx_error(lx, w->start, "expected all");
		return 0;
	case 'K': {
		/* A /proc/meminfo or /proc/vmstat name: letters, digits, _ ( ). */
		size_t n = w->end - w->start;

		for (size_t i = 0; i < n && !w->is_str; i++) {
			char ch = lx->s[w->start + i];

			if (!isalnum((unsigned char)ch) && ch != '_' && ch != '(' && ch != ')')
				return lx_error(lx, w->start + i, "expected a field name");
		}
		if (w->is_str || !n)
			return lx_error(lx, w->start, "expected a field name");
		a->type = AT_FIELD;
		a->str = xstrndup(lx->s + w->start, n);
		a->slen = n;
		return 0;
	}
	case 'W':
		a->type = AT_TOUCH;
		if (word_is(lx, w, "read"))
			a->write = false;
		else if (word_is(lx, w, "write"))
			a->write = true;
		else
			return lx_error(lx, w->start, "expected read or write");
		return 0;
	default: {
		size_t off = 0, blen = 0;

		a->type = AT_FLAGS;
		a->fk = sig_flag_kind(c);
		if (w->is_str)
			return lx_error(lx, w->start, "expected %s, not a string",
					flag_kind_desc(a->fk));
		if (flags_parse(a->fk, lx->s + w->start, w->end - w->start, &a->flags, &off, &blen))
			return lx_error(lx, w->start + off, "unknown %s '%.*s'",
					flag_kind_desc(a->fk), (int)blen, lx->s + w->start + off);
		return 0;
	}
	}
}

/* Minimum and maximum argument counts of a signature. */
static void sig_arity(const char *sig, int *min, int *max)
{
	int n = 0;

	*min = -1;
	for (; *sig; sig++) {
		if (*sig == '[') {
			*min = n;
			continue;
		}
		if (*sig != ']')
			n++;
	}
	*max = n;
	if (*min < 0)
		*min = n;
}

/*
 * Normalises an expectation: drops a comment (a '#' that starts a word,
 * outside quotes, not followed by a digit: "#2" is a frame label), trims,
 * and collapses blanks outside quotes to one space.
 */
static char *normalise_expect(const char *s, size_t n)
{
	struct sbuf b;
	bool quoted = false, space = false;
	size_t i;

	sb_init(&b);
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!quoted && c == '#' && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t') &&
		    !(i + 1 < n && isdigit((unsigned char)s[i + 1])))
			break;
		if (!quoted && (c == ' ' || c == '\t')) {
			space = b.len > 0;
			continue;
		}
		if (space)
			sb_putc(&b, ' ');
		space = false;
		sb_putc(&b, c);
		if (c == '\\' && quoted && i + 1 < n) {
			sb_putc(&b, s[++i]);
			continue;
		}
		if (c == '"')
			quoted = !quoted;
	}
	return sb_steal(&b);
}

/* Checks the symbols an argument uses against process p. */
static int check_syms(struct lx *lx, const struct sproc *p, const struct expr *e, int col)
{
	if (!e->sym)
		return 0;
	if (!p)
		return lx_error(lx, (size_t)col - 1, "no process to look up '%s' in", e->sym);
	if (!sproc_has(p, e->sym))
		return lx_error(lx, (size_t)col - 1, "'%s' is not a symbol of process %s", e->sym,
				p->name);
	return 0;
}

static bool reserved_symbol(const char *s)
{
	return !strcmp(s, "top") || !strcmp(s, "NULL");
}

/* Is lx at "=>" followed by a blank or the end? */
static bool at_expect(const struct lx *lx)
{
	return lx_peek(lx, lx->pos) == '=' && lx_peek(lx, lx->pos + 1) == '>' &&
	       (lx_peek(lx, lx->pos + 2) == ' ' || lx_peek(lx, lx->pos + 2) == '\t' ||
		lx_peek(lx, lx->pos + 2) < 0);
}

/* Reads "=> EXPECTED" at lx->pos, to the end of the line, into out. */
static int parse_expect(struct lx *lx, struct line *out)
{
	out->expect_col = (int)lx->pos + 1;
	out->expect = normalise_expect(lx->s + lx->pos + 2, lx->len - lx->pos - 2);
	if (!out->expect[0])
		return lx_error(lx, lx->pos, "expected a result after =>");
	lx->pos = lx->len;
	return 0;
}

/*
 * The keys config takes (the sim back end's machine; hugepages and
 * hugepages_pud also size the kernel's pools), then older spellings still
 * taken. A key is checked here, before anything runs: on the kernel back
 * end, where most keys answer n/a, a misspelt one would pass unnoticed.
 */
static const char *const config_keys[] = {
    "phys",
    "page_size",
    "max_map_count",
    "overcommit_memory",
    "overcommit_ratio",
    "mmap_min_addr",
    "mmap_base",
    "brk_start",
    "rlimit_memlock",
    "privileged",
    "hugepages",
    "hugepages_pud",
    "va_bits",
    "swap",
    "memcg",
    "dirty_expire_centisecs",
    "dirty_writeback_centisecs",
    "dirty_background_ratio",
    "dirty_ratio",
    NULL,
};
static const char *const config_key_aliases[] = {
    "phys_bytes", "memory", "pagesize", "overcommit", "memlock", "nr_hugepages", NULL,
};

/* Is s[0..n) one of the words of NULL-terminated list? */
static bool word_in(const char *const *list, const char *s, size_t n)
{
	for (; *list; list++)
		if (strlen(*list) == n && !memcmp(*list, s, n))
			return true;
	return false;
}

/* Parses the words of a config line: KEY=VALUE ... [=> EXPECTED] */
static int parse_config(struct lx *lx, struct line *out)
{
	while (lx_skip_ws(lx), !lx_at_end(lx)) {
		struct word w;
		struct word vw;
		struct cfg_item *it;
		size_t eq;

		if (at_expect(lx)) {
			if (parse_expect(lx, out))
				return -1;
			break;
		}
		if (lex_word(lx, &w))
			return -1;
		if (w.is_str) {
			word_free(&w);
			return lx_error(lx, w.start, "expected KEY=VALUE");
		}
		for (eq = w.start; eq < w.end && lx->s[eq] != '='; eq++)
			;
		if (eq == w.start || eq >= w.end - 1 || ident_len(lx, w.start) != eq - w.start)
			return lx_error(lx, w.start, "expected KEY=VALUE");
		if (!word_in(config_keys, lx->s + w.start, eq - w.start) &&
		    !word_in(config_key_aliases, lx->s + w.start, eq - w.start)) {
			struct sbuf keys;
			const char *const *k;
			int rc;

			sb_init(&keys);
			for (k = config_keys; *k; k++)
				sb_printf(&keys, "%s%s", k == config_keys ? "" : " ", *k);
			rc = lx_error(lx, w.start, "unknown config key '%.*s' (keys: %s)",
				      (int)(eq - w.start), lx->s + w.start, sb_str(&keys));
			sb_free(&keys);
			return rc;
		}
		out->cfg = xrealloc(out->cfg, (out->ncfg + 1) * sizeof(*out->cfg));
		it = &out->cfg[out->ncfg++];
		memset(it, 0, sizeof(*it));
		it->key = xstrndup(lx->s + w.start, eq - w.start);
		it->col = (int)w.start + 1;
		vw.start = eq + 1;
		vw.end = w.end;
		vw.is_str = false;
		vw.str = NULL;
		if (parse_expr(lx, &vw, false, &it->val))
			return -1;
		if (it->val.sym)
			return lx_error(lx, eq + 1, "expected a number");
	}
	if (out->ncfg == 0)
		return lx_error(lx, lx->pos, "config takes KEY=VALUE ...");
	return 0;
}

/* Parses echo's text: a "string", or the rest of the line up to a comment. */
static int parse_echo(struct lx *lx, struct line *out)
{
	size_t end;

	lx_skip_ws(lx);
	if (lx_peek(lx, lx->pos) == '"') {
		struct word w;

		if (lex_string(lx, &w))
			return -1;
		lx_skip_ws(lx);
		if (!lx_at_end(lx)) {
			word_free(&w);
			return lx_error(lx, lx->pos, "unexpected text after echo's string");
		}
		if (memchr(w.str, '\0', w.slen)) {
			word_free(&w);
			return lx_error(lx, w.start, "echo text cannot hold a NUL byte");
		}
		out->text = w.str;
		return 0;
	}
	for (end = lx->pos; end < lx->len; end++) {
		unsigned char c = (unsigned char)lx->s[end];

		if (c == '#' && (end == lx->pos || lx->s[end - 1] == ' ' || lx->s[end - 1] == '\t'))
			break;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return lx_error(lx, end, "unexpected byte 0x%02x", c);
	}
	while (end > lx->pos && (lx->s[end - 1] == ' ' || lx->s[end - 1] == '\t'))
		end--;
	out->text = xstrndup(lx->s + lx->pos, end - lx->pos);
	return 0;
}

/* Looks up the spec of command name for nwords arguments; sets *any if the name exists. */
static const struct cmd_spec *find_spec(const char *name, size_t n, int nwords, bool *any)
{
	size_t i;

	*any = false;
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		int min, max;

		if (strlen(cmds[i].name) != n || memcmp(cmds[i].name, name, n))
			continue;
		*any = true;
		sig_arity(cmds[i].sig, &min, &max);
		if (nwords >= min && nwords <= max &&
		    (nwords == min || nwords == max || (cmds[i].flags & CF_SOME_ARGS)))
			return &cmds[i];
	}
	return NULL;
}

/* Usage of every form of command name, for an arity error. */
static void usage_of(struct sbuf *b, const char *name, size_t n)
{
	size_t i;
	int k = 0;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		if (strlen(cmds[i].name) != n || memcmp(cmds[i].name, name, n))
			continue;
		if (k++)
			sb_puts(b, " or ");
		sb_puts(b, cmds[i].usage);
	}
}

#define MAX_WORDS 16

/*
 * The syntax of one line, into *out (no scope checks). prefix_at and
 * bind_at receive the offsets of the prefix and binding, for messages.
 */
static int parse_syntax(struct lx *lx, struct line *out, size_t *prefix_at, size_t *bind_at,
			size_t *cmd_at)
{
	struct word words[MAX_WORDS];
	int nwords = 0, i, rc = -1;
	size_t id, k, cmd_start, cmd_len;
	bool any;

	lx_skip_ws(lx);
	if (lx_at_end(lx)) {
		out->kind = LK_BLANK;
		return 0;
	}

	/* NAME: */
	id = ident_len(lx, lx->pos);
	k = lx->pos + id;
	while (id && (lx_peek(lx, k) == ' ' || lx_peek(lx, k) == '\t'))
		k++;
	if (id && lx_peek(lx, k) == ':') {
		*prefix_at = lx->pos;
		out->proc = xstrndup(lx->s + lx->pos, id);
		lx->pos = k + 1;
		lx_skip_ws(lx);
		if (lx_at_end(lx)) {
			out->kind = LK_SELECT;
			return 0;
		}
	}

	/* proc NAME */
	id = ident_len(lx, lx->pos);
	if (id == 4 && !memcmp(lx->s + lx->pos, "proc", 4) &&
	    (lx_peek(lx, lx->pos + 4) == ' ' || lx_peek(lx, lx->pos + 4) == '\t' ||
	     lx_peek(lx, lx->pos + 4) < 0)) {
		size_t at = lx->pos;

		if (out->proc)
			return lx_error(lx, *prefix_at, "proc takes no process prefix");
		lx->pos += 4;
		lx_skip_ws(lx);
		id = ident_len(lx, lx->pos);
		if (!id)
			return lx_error(lx, lx->pos, "proc takes a process name");
		out->kind = LK_PROC;
		out->proc = xstrndup(lx->s + lx->pos, id);
		*cmd_at = at;
		lx->pos += id;
		lx_skip_ws(lx);
		if (!lx_at_end(lx))
			return lx_error(lx, lx->pos, "unexpected text after proc NAME");
		return 0;
	}

	/* SYM = (not "echo =", whose text may start with '=') */
	k = lx->pos + id;
	while (id && (lx_peek(lx, k) == ' ' || lx_peek(lx, k) == '\t'))
		k++;
	if (id && !(id == 4 && !memcmp(lx->s + lx->pos, "echo", 4)) && lx_peek(lx, k) == '=' &&
	    lx_peek(lx, k + 1) != '>' && lx_peek(lx, k + 1) != '=') {
		*bind_at = lx->pos;
		out->bind = xstrndup(lx->s + lx->pos, id);
		lx->pos = k + 1;
		lx_skip_ws(lx);
		if (lx_at_end(lx))
			return lx_error(lx, lx->pos, "expected a command after '='");
		id = ident_len(lx, lx->pos);
	}

	/* The command word. */
	cmd_start = lx->pos;
	*cmd_at = cmd_start;
	cmd_len = id;
	if (!cmd_len ||
	    (lx_peek(lx, cmd_start + cmd_len) >= 0 && lx_peek(lx, cmd_start + cmd_len) != ' ' &&
	     lx_peek(lx, cmd_start + cmd_len) != '\t'))
		return lx_error(lx, cmd_start, "expected a command");
	lx->pos += cmd_len;

	if (cmd_len == 4 && !memcmp(lx->s + cmd_start, "echo", 4)) {
		if (out->bind)
			return lx_error(lx, *bind_at, "echo has no result to bind");
		out->kind = LK_ECHO;
		return parse_echo(lx, out);
	}
	if (cmd_len == 6 && !memcmp(lx->s + cmd_start, "config", 6)) {
		if (out->bind)
			return lx_error(lx, *bind_at, "config has no result to bind");
		if (out->proc)
			return lx_error(lx, *prefix_at, "config takes no process prefix");
		out->kind = LK_CONFIG;
		return parse_config(lx, out);
	}

	/* Arguments up to "=>" or a comment. */
	for (;;) {
		lx_skip_ws(lx);
		if (lx_at_end(lx))
			break;
		if (at_expect(lx)) {
			if (parse_expect(lx, out))
				goto out;
			break;
		}
		if (nwords == MAX_WORDS) {
			lx_error(lx, lx->pos, "too many arguments");
			goto out;
		}
		if (lex_word(lx, &words[nwords])) {
			word_free(&words[nwords]);
			goto out;
		}
		nwords++;
	}

	out->spec = find_spec(lx->s + cmd_start, cmd_len, nwords, &any);
	if (!out->spec) {
		struct sbuf b;

		if (!any) {
			lx_error(lx, cmd_start, "unknown command '%.*s'", (int)cmd_len,
				 lx->s + cmd_start);
			goto out;
		}
		sb_init(&b);
		usage_of(&b, lx->s + cmd_start, cmd_len);
		lx_error(lx, nwords ? words[nwords - 1].start : cmd_start, "usage: %s", sb_str(&b));
		sb_free(&b);
		goto out;
	}
	out->kind = LK_CMD;
	{
		const char *sig = out->spec->sig;

		for (i = 0; i < nwords; i++) {
			while (*sig == '[' || *sig == ']')
				sig++;
			if (parse_arg(lx, out->spec, *sig, &words[i], &out->args[i])) {
				out->nargs = i + 1;
				goto out;
			}
			out->nargs = i + 1;
			sig++;
		}
	}
	if (out->bind && !(out->spec->flags & (CF_BIND_ADDR | CF_BIND_NUM))) {
		lx_error(lx, *bind_at, "%s has no result to bind", out->spec->name);
		goto out;
	}
	if (out->bind && reserved_symbol(out->bind)) {
		lx_error(lx, *bind_at, "'%s' is reserved", out->bind);
		goto out;
	}
	rc = 0;
out:
	for (i = 0; i < nwords; i++)
		word_free(&words[i]);
	return rc;
}

int line_parse(struct scope *sc, const char *file, int lineno, const char *text, size_t len,
	       struct line *out, struct diag *d)
{
	struct lx lx = {.s = text, .len = len, .file = file, .lineno = lineno, .d = d};
	size_t prefix_at = 0, bind_at = 0, cmd_at = 0, i;
	const struct sproc *p = NULL;
	long pi = -1;

	memset(out, 0, sizeof(*out));
	memset(d, 0, sizeof(*d));
	out->lineno = lineno;
	if (memchr(text, '\0', len)) {
		lx_error(&lx, (size_t)((const char *)memchr(text, '\0', len) - text), "NUL byte");
		goto fail;
	}
	if (parse_syntax(&lx, out, &prefix_at, &bind_at, &cmd_at))
		goto fail;
	out->src = printable_src(text, len);

	switch (out->kind) {
	case LK_BLANK:
		return 0;
	case LK_CONFIG:
		if (sc->any_proc) {
			lx_error(&lx, cmd_at, "config must come before the first proc");
			goto fail;
		}
		return 0;
	case LK_PROC:
		pi = scope_find(sc, out->proc);
		if (pi >= 0 && sc->procs[pi].alive) {
			lx_error(&lx, cmd_at, "process %s already exists", out->proc);
			goto fail;
		}
		if (reserved_symbol(out->proc)) {
			lx_error(&lx, cmd_at, "'%s' is reserved", out->proc);
			goto fail;
		}
		sc->cur = scope_new_proc(sc, out->proc);
		sc->any_proc = true;
		return 0;
	case LK_ECHO:
		free(out->proc);
		out->proc = NULL;
		return 0;
	default:
		break;
	}

	/* LK_SELECT and LK_CMD: find the process. */
	if (out->proc) {
		pi = scope_find(sc, out->proc);
		if (pi < 0) {
			lx_error(&lx, prefix_at, "no process named %s", out->proc);
			goto fail;
		}
		if (!sc->procs[pi].alive) {
			lx_error(&lx, prefix_at, "process %s has exited", out->proc);
			goto fail;
		}
	} else if (sc->cur >= 0) {
		pi = sc->cur;
		if (!sc->procs[pi].alive && !(out->spec && (out->spec->flags & CF_NO_PROC))) {
			lx_error(&lx, cmd_at, "process %s has exited", sc->procs[pi].name);
			goto fail;
		}
		if (sc->procs[pi].alive)
			out->proc = xstrdup(sc->procs[pi].name);
		else
			pi = -1;
	} else if (!(out->spec && (out->spec->flags & CF_NO_PROC))) {
		lx_error(&lx, cmd_at, "no process yet: start with proc NAME");
		goto fail;
	}
	if (pi >= 0)
		p = &sc->procs[pi];
	if (out->kind == LK_SELECT) {
		sc->cur = pi;
		return 0;
	}

	for (i = 0; i < (size_t)out->nargs; i++)
		if (check_syms(&lx, p, &out->args[i].e, out->args[i].col))
			goto fail;
	if (out->spec->op == OP_FORK) {
		long ci = scope_find(sc, out->args[0].str);

		if (ci >= 0 && sc->procs[ci].alive) {
			lx_error(&lx, (size_t)out->args[0].col - 1, "process %s already exists",
				 out->args[0].str);
			goto fail;
		}
		if (reserved_symbol(out->args[0].str)) {
			lx_error(&lx, (size_t)out->args[0].col - 1, "'%s' is reserved",
				 out->args[0].str);
			goto fail;
		}
	}

	/* Checked: apply. */
	if (pi >= 0)
		sc->cur = pi;
	if (out->spec->op == OP_FORK) {
		long ci = scope_new_proc(sc, out->args[0].str);
		struct sproc *parent = &sc->procs[pi]; /* re-read: the array may have moved */

		for (i = 0; i < parent->nsyms; i++)
			sproc_add(&sc->procs[ci], parent->syms[i]);
	}
	if (out->bind && pi >= 0)
		sproc_add(&sc->procs[pi], out->bind);
	if (out->spec->op == OP_EXIT && pi >= 0)
		sc->procs[pi].alive = false;
	return 0;

fail:
	line_free(out);
	return -1;
}

void script_free(struct script *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->nlines; i++)
		line_free(&s->lines[i]);
	free(s->lines);
	free(s->file);
	free(s);
}

int script_parse(const char *file, const char *buf, size_t len, struct script **out, struct diag *d)
{
	struct scope *sc = scope_new();
	struct script *s = xcalloc(1, sizeof(*s));
	size_t pos = 0, cap = 0;
	int lineno = 0;

	s->file = xstrdup(file ? file : "-");
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - buf) : len, n = end - pos;
		struct line l;

		lineno++;
		if (n && buf[pos + n - 1] == '\r')
			n--;
		if (line_parse(sc, s->file, lineno, buf + pos, n, &l, d)) {
			scope_free(sc);
			script_free(s);
			return -1;
		}
		if (l.kind == LK_BLANK) {
			line_free(&l);
		} else {
			if (s->nlines == cap) {
				cap = cap ? cap * 2 : 32;
				s->lines = xrealloc(s->lines, cap * sizeof(*s->lines));
			}
			s->lines[s->nlines++] = l;
		}
		pos = end + 1;
	}
	scope_free(sc);
	*out = s;
	return 0;
}
