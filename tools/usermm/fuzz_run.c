/*
 * fuzz_run.c: one scenario on both back ends for `usermm fuzz`
 * (fuzz_run.h): the text parsed as any script and run in-process on the
 * sim and the kernel back ends with the runner (runner.h), both
 * transcripts collected as `usermm diff` does (sim-only records left out)
 * and compared, up to the sim's cut when it has one; and the kind of a
 * difference, by which the shrinker knows it still has the same one and
 * the summary groups them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_run.h"
#include "runner.h"

/* Keeps the first n lines of t (n <= t->n). */
static void tr_truncate(struct tr *t, size_t n)
{
	while (t->n > n) {
		t->n--;
		free(t->v[t->n]);
		free(t->tag[t->n]);
	}
}

void tr_free(struct tr *t)
{
	tr_truncate(t, 0);
	free(t->v);
	free(t->tag);
	memset(t, 0, sizeof(*t));
}

static void tr_add(struct tr *t, char *line, const char *tag)
{
	t->v = xrealloc(t->v, (t->n + 1) * sizeof(*t->v));
	t->tag = xrealloc(t->tag, (t->n + 1) * sizeof(*t->tag));
	t->v[t->n] = line;
	t->tag[t->n] = xstrdup(tag);
	t->n++;
}

/*
 * Commands whose result is residency (or follows from it: oom_score is
 * the resident pages' badness), which differs by design under config
 * phys (docs/scenario-language.md, Back ends).
 */
static bool residency_cmd(const char *cmd)
{
	static const char *const res[] = {"mincore", "smaps", "status", "pagemap", "oom_score"};

	for (size_t i = 0; i < sizeof(res) / sizeof(res[0]); i++)
		if (!strcmp(cmd, res[i]))
			return true;
	return false;
}

static void emit_tr(void *ctx, struct rec *r)
{
	struct tr *t = ctx;
	char tag[32];
	struct sbuf b;
	size_t i;

	if (r->sim_only)
		return;
	snprintf(tag, sizeof(tag), "%.*s", (int)strcspn(r->cmd ? r->cmd : "", " "),
		 r->cmd ? r->cmd : "");
	if (t->no_residency && residency_cmd(tag))
		return;
	sb_init(&b);
	rec_head(&b, r);
	tr_add(t, sb_steal(&b), tag);
	for (i = 0; i < r->ndetail; i++) {
		sb_printf(&b, "    %s", r->detail[i]);
		tr_add(t, sb_steal(&b), tag);
	}
	if (r->host_dependent && !t->cut) {
		t->cut = true;
		t->ncut = t->n;
	}
}

enum outcome try_text(struct fz *f, const char *text, char **tag, struct tr *sim_out,
		      struct tr *ker_out)
{
	struct tr sim = {0}, ker = {0};
	struct script *s;
	struct diag d;
	enum outcome o = SAME;
	size_t i;
	int r1, r2;

	if (sim_out)
		memset(sim_out, 0, sizeof(*sim_out));
	if (ker_out)
		memset(ker_out, 0, sizeof(*ker_out));
	sim.no_residency = ker.no_residency = strstr(text, "\nconfig phys=") != NULL;
	if (script_parse("fuzz", text, strlen(text), &s, &d)) {
		diag_free(&d);
		return BAD_SCRIPT;
	}
	{
		struct run_cfg cs = {
		    .be = &be_sim, .emit = emit_tr, .ctx = &sim, .errs = f->errs, .quiet = true};
		struct run_cfg ck = {
		    .be = &be_kernel, .emit = emit_tr, .ctx = &ker, .errs = f->errs, .quiet = true};

		r1 = run_script(&cs, s);
		r2 = run_script(&ck, s);
	}
	script_free(s);
	f->tests++;
	f->cut = sim.cut;
	/* A back end that could not start, or a pool this machine cannot give. */
	if (r1 == 2 || r2 == 2 || r1 == RUN_UNAVAILABLE || r2 == RUN_UNAVAILABLE) {
		o = BE_ERROR;
		goto out;
	}
	if (sim.cut) {
		tr_truncate(&sim, sim.ncut);
		if (ker.n > sim.ncut)
			tr_truncate(&ker, sim.ncut);
	}
	for (i = 0; i < sim.n && i < ker.n; i++)
		if (strcmp(sim.v[i], ker.v[i]))
			break;
	if (i < sim.n || i < ker.n) {
		o = DIFFERS;
		if (tag)
			*tag = xstrdup(i < sim.n ? sim.tag[i] : ker.tag[i]);
	}
out:
	if (sim_out)
		*sim_out = sim;
	else
		tr_free(&sim);
	if (ker_out)
		*ker_out = ker;
	else
		tr_free(&ker);
	return o;
}

/*
 * Normalizes a transcript line for grouping differences: symbols and
 * processes become S, numbers N; a command line keeps only its command word
 * and its result.
 */
static void norm_line(struct sbuf *b, const char *tag, const char *line)
{
	const char *s = line, *eq = strstr(line, " = ");

	if (line[0] != ' ' && eq) {
		const char *last;

		while ((last = strstr(eq + 3, " = ")))
			eq = last;
		sb_printf(b, "%s = ", tag);
		s = eq + 3;
	}
	while (*s) {
		if ((*s >= 'a' && *s <= 'z') && s[1] >= '0' && s[1] <= '9' &&
		    (s == line || !((s[-1] >= 'a' && s[-1] <= 'z') || (s[-1] >= 'A' && s[-1] <= 'Z') ||
				    s[-1] == '_'))) {
			sb_putc(b, 'S');
			s++;
			while (*s >= '0' && *s <= '9')
				s++;
		} else if (*s == '0' && s[1] == 'x') {
			sb_putc(b, 'N');
			s += 2;
			while ((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'))
				s++;
		} else if (*s >= '0' && *s <= '9') {
			sb_putc(b, 'N');
			while (*s >= '0' && *s <= '9')
				s++;
		} else {
			sb_putc(b, *s++);
		}
	}
}

char *class_key(const char *tag, const struct tr *sim, const struct tr *ker)
{
	struct sbuf b;
	size_t i;

	for (i = 0; i < sim->n && i < ker->n; i++)
		if (strcmp(sim->v[i], ker->v[i]))
			break;
	sb_init(&b);
	sb_puts(&b, "sim: ");
	norm_line(&b, tag, i < sim->n ? sim->v[i] : "(nothing)");
	sb_puts(&b, " | kernel: ");
	norm_line(&b, tag, i < ker->n ? ker->v[i] : "(nothing)");
	return sb_steal(&b);
}
