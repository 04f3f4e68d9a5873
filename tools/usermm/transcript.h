/*
 * transcript.h: the canonical transcript. A run produces one record per
 * line of the script; this module owns how records look (text and JSON),
 * how addresses print symbolically, how frames and inodes get labels, how
 * an expectation matches a record, and the unified diff of two transcripts.
 */
#ifndef USERMM_TOOL_TRANSCRIPT_H
#define USERMM_TOOL_TRANSCRIPT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "util.h"

/* A symbol of one process: a value, and for an address the range it was bound to. */
struct sym {
	char *name;
	uint64_t val;
	uint64_t len; /* bytes of the range [val, val + len); 0: none */
	bool addr;    /* an address (mmap, mremap, brk), used to print addresses */
	uint64_t seq; /* binding order: the last bound wins */
};

struct symtab {
	struct sym *s;
	size_t n;
};

void symtab_free(struct symtab *t);
void symtab_copy(struct symtab *to, const struct symtab *from);
/* Binds name (replacing an older binding of it). */
void symtab_bind(struct symtab *t, const char *name, uint64_t val, uint64_t len, bool addr,
		 uint64_t seq);
/* The symbol called name, or NULL. */
const struct sym *symtab_get(const struct symtab *t, const char *name);

/*
 * Appends address v symbolically: NULL for 0; SYM when a symbol's value
 * is v (the last bound wins); SYM+0xN inside the range a symbol was bound
 * to (end: v may be the range's end, for the end of a maps line); top or
 * top-0xN within 1 TiB below the top of the mmap area; else a plain 0xN.
 */
void fmt_addr(struct sbuf *b, const struct symtab *t, uint64_t top, uint64_t v, bool end);

/*
 * Labels by first appearance in a run: frames #1 #2 ..., inodes i1 i2 ...
 * A label can be forgotten: its key, seen again, gets the next number, as
 * a key never seen would. Numbers are never given twice.
 */
struct labels;

struct labels *labels_new(void);
void labels_free(struct labels *l);
/* The label number of key in table which (0 frames, 1 inodes), made on first sight. */
uint64_t labels_get(struct labels *l, int which, uint64_t key);
/*
 * Forgets every label of table which whose key gone(ctx, key) answers true
 * for; gone is asked once per live label, and not at all when there is none.
 */
void labels_forget(struct labels *l, int which, bool (*gone)(void *ctx, uint64_t key), void *ctx);

/* One line of a transcript. */
struct rec {
	const char *file;
	int line;
	char *proc;    /* NULL for echo and config */
	char *bind;    /* "a" of "a = mmap ..." */
	char *cmd;     /* the command as understood: "mmap NULL 0x2000 ..." */
	char *result;  /* after " = "; NULL for echo */
	char **detail; /* the indented lines */
	size_t ndetail;
	bool sim_only;	    /* a sim-only command: diff ignores it */
	bool is_echo;	    /* echo: cmd is the text, printed alone */
	bool host_dependent; /* the back end's be_res.host_dependent (not printed) */
	const char *expect; /* the expectation, or NULL */
	bool expect_ok;
	char *got_note; /* FILE:LINE: expected X, got Y; NULL when none failed */
};

void rec_add_detail(struct rec *r, char *line);
void rec_free(struct rec *r);
/* The first line of r as printed: "p: a = mmap ... = top-0x2000". */
void rec_head(struct sbuf *b, const struct rec *r);
/* Appends r's lines (head, then details indented by four spaces), each ending in '\n'. */
void rec_text(struct sbuf *b, const struct rec *r);
/* Appends r as one JSON object (no newline). */
void rec_json(struct sbuf *b, const struct rec *r);

/* Does text match expectation e: equal, or text starts with e and a space? */
bool expect_text_match(const char *text, const char *e);

/*
 * Writes a unified diff (3 lines of context) of line arrays a and b to out,
 * headed by names; writes nothing when they are equal. Returns 1 when they
 * differ, 0 when equal.
 */
int unified_diff(FILE *out, const char *name_a, char *const *a, size_t na, const char *name_b,
		 char *const *b, size_t nb);

/*
 * Appends to out the JSON members "same", "first_difference" and "lines"
 * comparing line arrays a and b, whose lines came from the script lines
 * line_a and line_b: lines holds one object per line of the merged
 * transcripts, {"line":N, name_a:..., name_b:..., "differs":false} for a
 * line both have, and where they differ the lines of a and of b, paired
 * when they come from the same script line, else alone, with "differs":
 * true; first_difference is the script line of the first difference, or
 * null. Returns whether they differ.
 */
bool diff_json(struct sbuf *out, const char *name_a, char *const *a, const int *line_a, size_t na,
	       const char *name_b, char *const *b, const int *line_b, size_t nb);

#endif /* USERMM_TOOL_TRANSCRIPT_H */
