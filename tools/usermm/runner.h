/*
 * runner.h: runs parsed scenario lines on a back end and turns each into a
 * transcript record: it owns the scenario's processes and their symbols,
 * resolves arguments to numbers, prints commands and results canonically,
 * binds symbols and checks expectations.
 */
#ifndef USERMM_TOOL_RUNNER_H
#define USERMM_TOOL_RUNNER_H

#include <stdio.h>

#include "backend.h"
#include "script.h"
#include "transcript.h"

struct run_cfg {
	const struct be_ops *be;
	/* Receives each record; the runner frees it when emit returns. */
	void (*emit)(void *ctx, struct rec *r);
	void *ctx;
	/* Where failed expectations and back end failures are reported. */
	FILE *errs;
	/* Do not report failed expectations (usermm diff compares transcripts only). */
	bool quiet;
};

struct run;

/* A run on cfg->be. Returns 0, or -1 with a message in err. */
int run_new(const struct run_cfg *cfg, struct run **out, struct sbuf *err);
/*
 * Runs one line of file. Returns 0, or -1 when the line cannot run (a
 * process that cannot start, a command beyond the tool's limits): the
 * reason is reported on cfg->errs, and a script's run stops there.
 */
int run_line(struct run *r, const char *file, const struct line *l);
/* Expectations that failed so far. */
unsigned run_failures(const struct run *r);
void run_free(struct run *r);

/*
 * Runs a whole script: returns 0 when every expectation held, 1 when some
 * failed, 2 when the back end could not start, RUN_UNAVAILABLE when a
 * config line asked for what this machine cannot give (the kernel back
 * end's huge page pools), RUN_STOPPED when a line could not run (see
 * run_line): the run stopped there, with the reason on cfg->errs.
 */
#define RUN_UNAVAILABLE 3
#define RUN_STOPPED	4
int run_script(const struct run_cfg *cfg, const struct script *s);

#endif /* USERMM_TOOL_RUNNER_H */
