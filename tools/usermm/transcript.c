/*
 * transcript.c: symbols, symbolic addresses, labels, records and their
 * text and JSON forms, expectation matching and the unified diff
 * (transcript.h).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "transcript.h"

/* ---------------------------------------------------------------- symbols */

void symtab_free(struct symtab *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->s[i].name);
	free(t->s);
	t->s = NULL;
	t->n = 0;
}

void symtab_copy(struct symtab *to, const struct symtab *from)
{
	size_t i;

	symtab_free(to);
	to->s = xcalloc(from->n ? from->n : 1, sizeof(*to->s));
	for (i = 0; i < from->n; i++) {
		to->s[i] = from->s[i];
		to->s[i].name = xstrdup(from->s[i].name);
	}
	to->n = from->n;
}

const struct sym *symtab_get(const struct symtab *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->s[i].name, name))
			return &t->s[i];
	return NULL;
}

void symtab_bind(struct symtab *t, const char *name, uint64_t val, uint64_t len, bool addr,
		 uint64_t seq)
{
	struct sym *s = (struct sym *)symtab_get(t, name);

	if (!s) {
		t->s = xrealloc(t->s, (t->n + 1) * sizeof(*t->s));
		s = &t->s[t->n++];
		s->name = xstrdup(name);
	}
	s->val = val;
	s->len = len;
	s->addr = addr;
	s->seq = seq;
}

/*
 * How far below top addresses print relative to it: where mmap(NULL) puts
 * mappings. Elsewhere (low addresses, above top where the kernel keeps its
 * vdso) an address is the same number on both back ends: printed as it is.
 */
#define TOP_ZONE (1ULL << 40)

void fmt_addr(struct sbuf *b, const struct symtab *t, uint64_t top, uint64_t v, bool end)
{
	const struct sym *best = NULL;
	size_t i;

	if (v == 0) {
		sb_puts(b, "NULL");
		return;
	}
	for (i = 0; i < t->n; i++) {
		const struct sym *s = &t->s[i];

		if (s->addr && s->val == v && (!best || s->seq > best->seq))
			best = s;
	}
	if (best) {
		sb_puts(b, best->name);
		return;
	}
	for (i = 0; i < t->n; i++) {
		const struct sym *s = &t->s[i];
		bool in;

		if (!s->addr || !s->len || s->val + s->len < s->val)
			continue;
		in = end ? (v > s->val && v <= s->val + s->len)
			 : (v > s->val && v < s->val + s->len);
		if (in && (!best || s->seq > best->seq))
			best = s;
	}
	if (best) {
		sb_printf(b, "%s+%#" PRIx64, best->name, v - best->val);
		return;
	}
	if (v == top && top)
		sb_puts(b, "top");
	else if (v < top && top - v <= TOP_ZONE)
		sb_printf(b, "top-%#" PRIx64, top - v);
	else
		sb_printf(b, "%#" PRIx64, v);
}

/* ----------------------------------------------------------------- labels */

/*
 * An open-addressing map from 64-bit keys to label numbers, with linear
 * probing. A forgotten key keeps its slot, marked LABEL_DEAD, so that the
 * keys probed past it are still found; seen again, it takes a new number
 * in that slot. Growing the table drops the dead slots.
 */
#define LABEL_DEAD UINT64_MAX

struct lmap {
	uint64_t *keys;
	uint64_t *vals; /* 0: empty slot; LABEL_DEAD: a forgotten key */
	size_t cap;
	size_t used; /* slots not empty: live and dead */
	size_t live;
	uint64_t last; /* the last number given */
};

struct labels {
	struct lmap m[2];
};

struct labels *labels_new(void)
{
	return xcalloc(1, sizeof(struct labels));
}

void labels_free(struct labels *l)
{
	int i;

	if (!l)
		return;
	for (i = 0; i < 2; i++) {
		free(l->m[i].keys);
		free(l->m[i].vals);
	}
	free(l);
}

static size_t lhash(uint64_t k, size_t cap)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return (size_t)(k & (cap - 1));
}

/* The slot of key: the one holding it (live or dead), else the empty one where it goes. */
static size_t lmap_find(const struct lmap *m, uint64_t key)
{
	size_t i = lhash(key, m->cap);

	while (m->vals[i] && m->keys[i] != key)
		i = (i + 1) & (m->cap - 1);
	return i;
}

/* Rehashes the live keys into a table at most a quarter full. */
static void lmap_rehash(struct lmap *m)
{
	struct lmap old = *m;
	size_t i, j;

	m->cap = 64;
	while ((old.live + 1) * 4 > m->cap)
		m->cap *= 2;
	m->keys = xcalloc(m->cap, sizeof(*m->keys));
	m->vals = xcalloc(m->cap, sizeof(*m->vals));
	for (i = 0; i < old.cap; i++) {
		if (!old.vals[i] || old.vals[i] == LABEL_DEAD)
			continue;
		j = lmap_find(m, old.keys[i]);
		m->keys[j] = old.keys[i];
		m->vals[j] = old.vals[i];
	}
	m->used = old.live;
	free(old.keys);
	free(old.vals);
}

uint64_t labels_get(struct labels *l, int which, uint64_t key)
{
	struct lmap *m = &l->m[which ? 1 : 0];
	size_t i;

	if ((m->used + 1) * 2 > m->cap)
		lmap_rehash(m);
	i = lmap_find(m, key);
	if (m->vals[i] && m->vals[i] != LABEL_DEAD)
		return m->vals[i];
	if (!m->vals[i])
		m->used++;
	m->keys[i] = key;
	m->vals[i] = ++m->last;
	m->live++;
	return m->vals[i];
}

void labels_forget(struct labels *l, int which, bool (*gone)(void *ctx, uint64_t key), void *ctx)
{
	struct lmap *m = &l->m[which ? 1 : 0];
	size_t i;

	for (i = 0; i < m->cap && m->live; i++) {
		if (!m->vals[i] || m->vals[i] == LABEL_DEAD || !gone(ctx, m->keys[i]))
			continue;
		m->vals[i] = LABEL_DEAD;
		m->live--;
	}
}

/* ---------------------------------------------------------------- records */

void rec_add_detail(struct rec *r, char *line)
{
	r->detail = xrealloc(r->detail, (r->ndetail + 1) * sizeof(*r->detail));
	r->detail[r->ndetail++] = line;
}

void rec_free(struct rec *r)
{
	size_t i;

	free(r->proc);
	free(r->bind);
	free(r->cmd);
	free(r->result);
	for (i = 0; i < r->ndetail; i++)
		free(r->detail[i]);
	free(r->detail);
	free(r->got_note);
	memset(r, 0, sizeof(*r));
}

void rec_head(struct sbuf *b, const struct rec *r)
{
	if (r->is_echo) {
		sb_puts(b, r->cmd);
		return;
	}
	if (r->proc)
		sb_printf(b, "%s: ", r->proc);
	if (r->bind)
		sb_printf(b, "%s = ", r->bind);
	sb_puts(b, r->cmd);
	if (r->result)
		sb_printf(b, " = %s", r->result);
}

void rec_text(struct sbuf *b, const struct rec *r)
{
	size_t i;

	rec_head(b, r);
	sb_putc(b, '\n');
	for (i = 0; i < r->ndetail; i++)
		sb_printf(b, "    %s\n", r->detail[i]);
}

static void json_field(struct sbuf *b, const char *key, const char *val, bool *first)
{
	if (!val)
		return;
	sb_printf(b, "%s\"%s\":", *first ? "" : ",", key);
	sb_json_string(b, val);
	*first = false;
}

void rec_json(struct sbuf *b, const struct rec *r)
{
	bool first = true;
	size_t i;

	sb_putc(b, '{');
	sb_printf(b, "\"line\":%d", r->line);
	first = false;
	if (r->is_echo) {
		json_field(b, "echo", r->cmd, &first);
	} else {
		json_field(b, "proc", r->proc, &first);
		json_field(b, "bind", r->bind, &first);
		json_field(b, "command", r->cmd, &first);
		json_field(b, "result", r->result, &first);
	}
	if (r->ndetail) {
		sb_puts(b, ",\"detail\":[");
		for (i = 0; i < r->ndetail; i++) {
			if (i)
				sb_putc(b, ',');
			sb_json_string(b, r->detail[i]);
		}
		sb_putc(b, ']');
	}
	if (r->sim_only)
		sb_puts(b, ",\"sim_only\":true");
	if (r->expect) {
		json_field(b, "expect", r->expect, &first);
		sb_printf(b, ",\"pass\":%s", r->expect_ok ? "true" : "false");
	}
	sb_putc(b, '}');
}

/*
 * Byte strings in results and expectations are compared by their bytes,
 * not by their spelling: "\x78V" and "xV", "ab" "c" and "abc", "\0"*3 and
 * "\0\0\0" are the same. A text splits into tokens: a word (a run of
 * non-blanks), or a byte string: one or more quoted segments side by side,
 * each with the parser's escapes and an optional count, "X"*N. A byte
 * string is held as runs of equal bytes, merged, so that equal bytes give
 * equal runs however they were written, and "X"*N is one run whatever N.
 */
struct byte_run {
	unsigned char c;
	uint64_t n;
};

struct token {
	const char *word; /* a word: [word, word + len); NULL for a byte string */
	size_t len;
	struct byte_run *runs; /* a byte string's bytes */
	size_t nruns;
};

struct tokens {
	struct token *t;
	size_t n;
};

/* Most runs a repeated segment of several runs ("ab"*N) may give: beyond, no byte string. */
#define MAX_REPEAT_RUNS 65536

static void tokens_free(struct tokens *ts)
{
	size_t i;

	for (i = 0; i < ts->n; i++)
		free(ts->t[i].runs);
	free(ts->t);
}

/* Appends n bytes c to t, merging with the run before. */
static void runs_add(struct token *t, unsigned char c, uint64_t n)
{
	if (!n)
		return;
	if (t->nruns && t->runs[t->nruns - 1].c == c) {
		t->runs[t->nruns - 1].n += n;
		return;
	}
	t->runs = xrealloc(t->runs, (t->nruns + 1) * sizeof(*t->runs));
	t->runs[t->nruns++] = (struct byte_run){c, n};
}

/*
 * Appends the segment "..."[*N] at s + *at (on its quote) to t and moves
 * *at past it. Returns 0, or -1 when it is not one: unterminated, a bad
 * escape or count, or a count too large for the bytes it repeats.
 */
static int segment_read(const char *s, size_t *at, struct token *t)
{
	struct token seg = {0};
	size_t i = *at + 1, k, used;
	uint64_t rep = 1, r;
	const char *why;
	int v, rc = -1;

	while (s[i] != '"') {
		if (!s[i])
			goto out;
		if (s[i] != '\\') {
			runs_add(&seg, (unsigned char)s[i++], 1);
			continue;
		}
		v = c_unescape(s + i + 1, strlen(s + i + 1), &used, &why);
		if (v < 0)
			goto out;
		runs_add(&seg, (unsigned char)v, 1);
		i += 1 + used;
	}
	i++;
	if (s[i] == '*') {
		if (s[i + 1] < '0' || s[i + 1] > '9')
			goto out;
		for (rep = 0, i++; s[i] >= '0' && s[i] <= '9'; i++) {
			if (rep > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
				goto out;
			rep = rep * 10 + (uint64_t)(s[i] - '0');
		}
	}
	if (seg.nruns == 1 && rep) {
		if (seg.runs[0].n > UINT64_MAX / rep)
			goto out;
		runs_add(t, seg.runs[0].c, seg.runs[0].n * rep);
	} else if (seg.nruns > 1) {
		if (rep > MAX_REPEAT_RUNS / seg.nruns)
			goto out;
		for (r = 0; r < rep; r++)
			for (k = 0; k < seg.nruns; k++)
				runs_add(t, seg.runs[k].c, seg.runs[k].n);
	}
	*at = i;
	rc = 0;
out:
	free(seg.runs);
	return rc;
}

/* Splits s into tokens. Returns 0, or -1 (nothing kept) when a quoted part is malformed. */
static int tokens_read(const char *s, struct tokens *ts)
{
	size_t i = 0;

	ts->t = NULL;
	ts->n = 0;
	for (;;) {
		struct token *t;

		while (s[i] == ' ')
			i++;
		if (!s[i])
			return 0;
		ts->t = xrealloc(ts->t, (ts->n + 1) * sizeof(*ts->t));
		t = &ts->t[ts->n++];
		memset(t, 0, sizeof(*t));
		if (s[i] != '"') {
			t->word = s + i;
			while (s[i] && s[i] != ' ')
				i++;
			t->len = (size_t)(s + i - t->word);
			continue;
		}
		for (;;) {
			if (segment_read(s, &i, t)) {
				tokens_free(ts);
				return -1;
			}
			if (s[i] != ' ' || s[i + 1] != '"')
				break;
			i++;
		}
		if (s[i] && s[i] != ' ') {
			tokens_free(ts);
			return -1;
		}
	}
}

static bool token_equal(const struct token *a, const struct token *b)
{
	size_t i;

	if (a->word || b->word)
		return a->word && b->word && a->len == b->len && !memcmp(a->word, b->word, a->len);
	if (a->nruns != b->nruns)
		return false;
	for (i = 0; i < a->nruns; i++)
		if (a->runs[i].c != b->runs[i].c || a->runs[i].n != b->runs[i].n)
			return false;
	return true;
}

bool expect_text_match(const char *text, const char *e)
{
	size_t n = strlen(e), i;
	struct tokens tt, te;
	bool ok;

	if (!text)
		return false;
	/* With a byte string in it, an expectation is compared token by token. */
	if (strchr(e, '"') && !tokens_read(text, &tt)) {
		if (tokens_read(e, &te)) {
			tokens_free(&tt);
			return false;
		}
		ok = te.n && te.n <= tt.n;
		for (i = 0; ok && i < te.n; i++)
			ok = token_equal(&te.t[i], &tt.t[i]);
		tokens_free(&tt);
		tokens_free(&te);
		return ok;
	}
	if (!strcmp(text, e))
		return true;
	if (!strncmp(text, e, n) && text[n] == ' ')
		return true;
	if (!strstr(text, "  "))
		return false;
	/* Runs of blanks in the result count as one, as in EXPECTED: /proc's padded columns. */
	char *c = xstrdup(text), *w = c;

	for (const char *r = text; *r; r++)
		if (*r != ' ' || w == c || w[-1] != ' ')
			*w++ = *r;
	*w = 0;
	ok = !strcmp(c, e) || (!strncmp(c, e, n) && c[n] == ' ');
	free(c);
	return ok;
}

/* ------------------------------------------------------------------- diff */

/* One edit of the diff script: ' ' keep, '-' only in a, '+' only in b. */
struct edit {
	char op;
	size_t ai, bi;
};

/* Bails out to "everything changed" above this many cells of the LCS table. */
#define DIFF_MAX_CELLS (64u << 20)

/* Computes the edit script of a and b (LCS, after trimming common ends). */
static struct edit *diff_edits(char *const *a, size_t na, char *const *b, size_t nb, size_t *ne)
{
	size_t pre = 0, suf = 0, n, m, i, j, k = 0;
	struct edit *e = xmalloc((na + nb + 1) * sizeof(*e));
	uint32_t *t = NULL;

	while (pre < na && pre < nb && !strcmp(a[pre], b[pre]))
		pre++;
	while (suf < na - pre && suf < nb - pre && !strcmp(a[na - 1 - suf], b[nb - 1 - suf]))
		suf++;
	n = na - pre - suf;
	m = nb - pre - suf;
	for (i = 0; i < pre; i++)
		e[k++] = (struct edit){' ', i, i};
	if (n && m && (n + 1) * (m + 1) <= DIFF_MAX_CELLS) {
		/* t[i][j]: LCS length of a[pre+i..] and b[pre+j..]. */
		t = xcalloc((n + 1) * (m + 1), sizeof(*t));
		for (i = n; i-- > 0;)
			for (j = m; j-- > 0;) {
				if (!strcmp(a[pre + i], b[pre + j]))
					t[i * (m + 1) + j] = t[(i + 1) * (m + 1) + j + 1] + 1;
				else if (t[(i + 1) * (m + 1) + j] >= t[i * (m + 1) + j + 1])
					t[i * (m + 1) + j] = t[(i + 1) * (m + 1) + j];
				else
					t[i * (m + 1) + j] = t[i * (m + 1) + j + 1];
			}
	}
	i = 0;
	j = 0;
	while (i < n || j < m) {
		if (t && i < n && j < m && !strcmp(a[pre + i], b[pre + j])) {
			e[k++] = (struct edit){' ', pre + i, pre + j};
			i++;
			j++;
		} else if (i < n &&
			   (j >= m || !t || t[(i + 1) * (m + 1) + j] >= t[i * (m + 1) + j + 1])) {
			e[k++] = (struct edit){'-', pre + i, pre + j};
			i++;
		} else {
			e[k++] = (struct edit){'+', pre + i, pre + j};
			j++;
		}
	}
	for (i = 0; i < suf; i++)
		e[k++] = (struct edit){' ', na - suf + i, nb - suf + i};
	free(t);
	*ne = k;
	return e;
}

/* Appends one entry of diff_json's lines: a line of a, of b, or of both. */
static void json_entry(struct sbuf *out, bool *first, int line, const char *name_a,
		       const char *a, const char *name_b, const char *b, bool differs)
{
	sb_printf(out, "%s{\"line\":%d", *first ? "" : ",", line);
	*first = false;
	if (a) {
		sb_printf(out, ",\"%s\":", name_a);
		sb_json_string(out, a);
	}
	if (b) {
		sb_printf(out, ",\"%s\":", name_b);
		sb_json_string(out, b);
	}
	sb_printf(out, ",\"differs\":%s}", differs ? "true" : "false");
}

bool diff_json(struct sbuf *out, const char *name_a, char *const *a, const int *line_a, size_t na,
	       const char *name_b, char *const *b, const int *line_b, size_t nb)
{
	size_t ne, i = 0, j, k;
	struct edit *e = diff_edits(a, na, b, nb, &ne);
	struct sbuf lines;
	bool first = true;
	int first_diff = 0;

	sb_init(&lines);
	while (i < ne) {
		if (e[i].op == ' ') {
			json_entry(&lines, &first, line_a[e[i].ai], name_a, a[e[i].ai], name_b,
				   b[e[i].bi], false);
			i++;
			continue;
		}
		/*
		 * A changed block: its lines of a and of b, each in script order,
		 * merged by the script line they come from, so that the two answers
		 * to one line sit in one entry.
		 */
		for (k = i; k < ne && e[k].op != ' '; k++)
			;
		if (!first_diff)
			first_diff = e[i].op == '-' ? line_a[e[i].ai] : line_b[e[i].bi];
		for (j = i;;) {
			while (i < k && e[i].op != '-')
				i++;
			while (j < k && e[j].op != '+')
				j++;
			if (i == k && j == k)
				break;
			if (j == k || (i < k && line_a[e[i].ai] < line_b[e[j].bi])) {
				json_entry(&lines, &first, line_a[e[i].ai], name_a, a[e[i].ai],
					   name_b, NULL, true);
				i++;
			} else if (i == k || line_b[e[j].bi] < line_a[e[i].ai]) {
				json_entry(&lines, &first, line_b[e[j].bi], name_a, NULL, name_b,
					   b[e[j].bi], true);
				j++;
			} else {
				json_entry(&lines, &first, line_a[e[i].ai], name_a, a[e[i].ai],
					   name_b, b[e[j].bi], true);
				i++;
				j++;
			}
		}
	}
	if (first_diff)
		sb_printf(out, "\"same\":false,\"first_difference\":%d", first_diff);
	else
		sb_puts(out, "\"same\":true,\"first_difference\":null");
	sb_printf(out, ",\"lines\":[%s]", sb_str(&lines));
	sb_free(&lines);
	free(e);
	return first_diff != 0;
}

#define CONTEXT 3

int unified_diff(FILE *out, const char *name_a, char *const *a, size_t na, const char *name_b,
		 char *const *b, size_t nb)
{
	size_t ne, i = 0;
	struct edit *e = diff_edits(a, na, b, nb, &ne);
	bool header = false;

	while (i < ne) {
		size_t first, last, h, ac = 0, bc = 0, as, bs;

		while (i < ne && e[i].op == ' ')
			i++;
		if (i >= ne)
			break;
		/* A hunk: from CONTEXT before this change to CONTEXT after the last change
		 * that is closer than 2 * CONTEXT to the one before it. */
		first = i >= CONTEXT ? i - CONTEXT : 0;
		last = i;
		for (h = i; h < ne; h++) {
			if (e[h].op != ' ')
				last = h;
			else if (h - last > 2 * CONTEXT)
				break;
		}
		h = last + CONTEXT + 1 < ne ? last + CONTEXT + 1 : ne;
		as = e[first].ai;
		bs = e[first].bi;
		for (i = first; i < h; i++) {
			if (e[i].op != '+')
				ac++;
			if (e[i].op != '-')
				bc++;
		}
		if (!header) {
			fprintf(out, "--- %s\n+++ %s\n", name_a, name_b);
			header = true;
		}
		fprintf(out, "@@ -%zu,%zu +%zu,%zu @@\n", ac ? as + 1 : as, ac, bc ? bs + 1 : bs,
			bc);
		for (i = first; i < h; i++)
			fprintf(out, "%c%s\n", e[i].op, e[i].op == '+' ? b[e[i].bi] : a[e[i].ai]);
		i = h;
	}
	free(e);
	return header ? 1 : 0;
}
