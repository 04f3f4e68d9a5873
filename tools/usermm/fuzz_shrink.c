/*
 * fuzz_shrink.c: the shrinker of `usermm fuzz` (fuzz_shrink.h). A
 * differing scenario is shrunk as lines deleted (chunks, then single
 * lines), then numbers, flag lists and strings simplified, each step kept
 * only if the scenario still parses and still differs the same way (the
 * same first differing lines, symbols and numbers aside: class_key). The
 * lines that bind G and R, the scenario's safety (fuzz_gen.c), are never
 * deleted or changed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_run.h"
#include "fuzz_shrink.h"
#include "util.h"

void lines_split(struct lines *l, const char *text)
{
	const char *s = text;

	memset(l, 0, sizeof(*l));
	while (*s) {
		size_t n = strcspn(s, "\n");

		if (n && s[0] != '#') {
			l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
			l->v[l->n++] = xstrndup(s, n);
		}
		s += n;
		if (*s)
			s++;
	}
}

void lines_free(struct lines *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

char *lines_join(const struct lines *l, size_t skip, size_t nskip, size_t rep_at, const char *rep)
{
	struct sbuf b;
	size_t i;

	sb_init(&b);
	for (i = 0; i < l->n; i++) {
		if (i >= skip && i < skip + nskip)
			continue;
		sb_puts(&b, i == rep_at && rep ? rep : l->v[i]);
		sb_putc(&b, '\n');
	}
	return sb_steal(&b);
}

/*
 * Lines the shrinker never deletes or changes: those that bind G or R
 * (the scenario's safety).
 */
static bool protected_line(const char *s)
{
	const char *c = strchr(s, ':');

	if (c)
		s = c + 1;
	while (*s == ' ')
		s++;
	return !strncmp(s, "G = ", 4) || !strncmp(s, "R = ", 4);
}

static bool shrink_live(struct shrink *sh)
{
	return sh->budget > 0 && time(NULL) < sh->deadline;
}

/* Does text still parse and differ the same way (the same kind of first difference)? */
static bool still_differs(struct shrink *sh, const char *text)
{
	struct tr sim, ker;
	char *tag = NULL, *key;
	bool ok = false;

	if (!shrink_live(sh))
		return false;
	sh->budget--;
	if (try_text(sh->f, text, &tag, &sim, &ker) == DIFFERS && tag) {
		key = class_key(tag, &sim, &ker);
		ok = !strcmp(key, sh->key);
		free(key);
	}
	tr_free(&sim);
	tr_free(&ker);
	free(tag);
	return ok;
}

static bool any_protected(const struct lines *l, size_t at, size_t n)
{
	size_t i;

	for (i = at; i < at + n && i < l->n; i++)
		if (protected_line(l->v[i]))
			return true;
	return false;
}

static void lines_delete(struct lines *l, size_t at, size_t n)
{
	size_t i;

	for (i = at; i < at + n; i++)
		free(l->v[i]);
	memmove(&l->v[at], &l->v[at + n], (l->n - at - n) * sizeof(*l->v));
	l->n -= n;
}

/* Deletes chunks of lines, halving the chunk size, until no single line can go. */
static bool shrink_lines(struct shrink *sh, struct lines *l)
{
	size_t chunk = l->n / 2 ? l->n / 2 : 1;
	bool any = false;

	while (shrink_live(sh)) {
		bool progress = false;
		size_t i = 0;

		while (i < l->n && shrink_live(sh)) {
			size_t n = chunk < l->n - i ? chunk : l->n - i;
			char *text;

			if (any_protected(l, i, n)) {
				/* Try the parts around the protected lines at smaller sizes. */
				i += n;
				continue;
			}
			text = lines_join(l, i, n, SIZE_MAX, NULL);
			if (still_differs(sh, text)) {
				lines_delete(l, i, n);
				progress = any = true;
			} else {
				i += n;
			}
			free(text);
		}
		if (chunk == 1 && !progress)
			break;
		if (!progress || chunk > 1)
			chunk = chunk / 2 ? chunk / 2 : 1;
	}
	return any;
}

/* The words of a line, split on blanks outside quotes. */
struct words {
	char **w;
	size_t n;
};

static void words_split(struct words *ws, const char *s)
{
	memset(ws, 0, sizeof(*ws));
	while (*s) {
		const char *b;
		bool q = false;

		while (*s == ' ')
			s++;
		if (!*s)
			break;
		b = s;
		while (*s && (q || *s != ' ')) {
			if (*s == '\\' && q && s[1])
				s++;
			else if (*s == '"')
				q = !q;
			s++;
		}
		ws->w = xrealloc(ws->w, (ws->n + 1) * sizeof(*ws->w));
		ws->w[ws->n++] = xstrndup(b, (size_t)(s - b));
	}
}

static void words_free(struct words *ws)
{
	size_t i;

	for (i = 0; i < ws->n; i++)
		free(ws->w[i]);
	free(ws->w);
}

static char *words_join(const struct words *ws, size_t at, const char *rep)
{
	struct sbuf b;
	size_t i;

	sb_init(&b);
	for (i = 0; i < ws->n; i++) {
		if (i)
			sb_putc(&b, ' ');
		sb_puts(&b, i == at ? rep : ws->w[i]);
	}
	return sb_steal(&b);
}

/* Simpler forms of one word: smaller numbers and offsets, shorter flag lists and strings. */
static size_t candidates(const char *w, char out[][96], size_t max)
{
	size_t n = 0, len = strlen(w);
	const char *num = w, *plus;
	char sym[48] = "";
	uint64_t v, c[4];
	char *end;
	bool hex;
	size_t i, k;

	if (w[0] == '"') {
		if (len > 3 && n < max)
			snprintf(out[n++], 96, "\"x\"");
		return n;
	}
	if (strchr(w, '|')) {
		const char *s = w;

		while (*s && n < max) {
			size_t part = strcspn(s, "|");
			struct sbuf b;

			sb_init(&b);
			sb_putn(&b, w, (size_t)(s - w));
			if (s[part])
				sb_puts(&b, s + part + 1);
			else if (b.len)
				b.s[--b.len] = '\0'; /* the '|' before the last part */
			if (b.len && b.len < 96)
				snprintf(out[n++], 96, "%s", b.s);
			sb_free(&b);
			s += part;
			if (*s)
				s++;
		}
		return n;
	}
	plus = strchr(w, '+');
	if (plus) {
		snprintf(sym, sizeof(sym), "%.*s", (int)(plus - w), w);
		num = plus + 1;
	}
	if (!(num[0] >= '0' && num[0] <= '9'))
		return 0;
	hex = num[0] == '0' && (num[1] == 'x' || num[1] == 'X');
	errno = 0;
	v = strtoull(num, &end, 0);
	if (errno || (*end && strcmp(end, "P") && strcmp(end, "K")) || v == 0)
		return 0;
	if (sym[0] && n < max)
		snprintf(out[n++], 96, "%s", sym);
	c[0] = 0;
	c[1] = 1;
	c[2] = v / 2;
	c[3] = v - 1;
	for (i = 0; i < 4 && n < max; i++) {
		if (c[i] >= v || (sym[0] && c[i] == 0))
			continue;
		for (k = 0; k < i; k++)
			if (c[k] == c[i])
				break;
		if (k < i)
			continue;
		if (sym[0])
			snprintf(out[n++], 96, hex ? "%s+%#" PRIx64 "%s" : "%s+%" PRIu64 "%s", sym,
				 c[i], end);
		else if (c[i] == 0)
			snprintf(out[n++], 96, "0");
		else
			snprintf(out[n++], 96, hex ? "%#" PRIx64 "%s" : "%" PRIu64 "%s", c[i], end);
	}
	return n;
}

/* Simplifies the words of every line, one at a time, while the scenario still differs. */
static bool shrink_words(struct shrink *sh, struct lines *l)
{
	bool any = false;
	size_t i;

	for (i = 0; i < l->n && shrink_live(sh); i++) {
		struct words ws;
		size_t k, first = 0;

		if (protected_line(l->v[i]))
			continue;
		words_split(&ws, l->v[i]);
		/* Skip "p:", "SYM =" and the command word. */
		if (first < ws.n && ws.w[first][strlen(ws.w[first]) - 1] == ':')
			first++;
		if (first + 1 < ws.n && !strcmp(ws.w[first + 1], "="))
			first += 2;
		first++;
		for (k = first; k < ws.n && shrink_live(sh); k++) {
			char cand[8][96];
			size_t nc, j;

			nc = candidates(ws.w[k], cand, 8);

			for (j = 0; j < nc; j++) {
				char *line = words_join(&ws, k, cand[j]);
				char *text = lines_join(l, SIZE_MAX, 0, i, line);

				if (still_differs(sh, text)) {
					free(ws.w[k]);
					ws.w[k] = xstrdup(cand[j]);
					free(l->v[i]);
					l->v[i] = line;
					any = true;
					free(text);
					/* Again from the simplest candidate of the new word. */
					nc = candidates(ws.w[k], cand, 8);
					j = (size_t)-1;
					continue;
				}
				free(line);
				free(text);
			}
		}
		words_free(&ws);
	}
	return any;
}

void shrink_scenario(struct shrink *sh, struct lines *l)
{
	int round;

	for (round = 0; round < 4; round++) {
		bool a = shrink_lines(sh, l);
		bool b = shrink_words(sh, l);

		if (!a && !b)
			break;
	}
}
