/*
 * fuzz_run.h: one scenario on both back ends for `usermm fuzz`
 * (fuzz_run.c): the outcome, both transcripts, and the kind of a
 * difference.
 */
#ifndef USERMM_TOOL_FUZZ_RUN_H
#define USERMM_TOOL_FUZZ_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * A transcript as `usermm diff` compares it: lines, and each line's command
 * word; cut: set with ncut, the lines up to and including the first record
 * marked host_dependent (a read or write onto its own source: what it left
 * in memory is the host CPU's doing, so nothing after it is compared).
 */
struct tr {
	char **v;
	char **tag;
	size_t n;
	bool cut;
	size_t ncut;
	bool no_residency; /* a config phys scenario: residency lines left out */
};

enum outcome {
	SAME,
	DIFFERS,
	BAD_SCRIPT, /* does not parse */
	BE_ERROR,   /* a back end could not start */
};

/* A kind of difference (class_key), how often it came, and its first seed. */
struct dclass {
	char *key;
	uint64_t count;
	uint64_t first_seed;
};

/* What a run of `usermm fuzz` keeps across its scenarios. */
struct fz {
	uint64_t tests; /* runs on both back ends, shrinking included */
	bool cut;	/* the last try_text compared only up to a host-dependent call */
	FILE *errs;
	struct dclass *cls; /* differences by kind */
	size_t ncls;
};

/* Frees t's lines and empties it. */
void tr_free(struct tr *t);

/*
 * Parses and runs text on both back ends. Returns the outcome; for
 * DIFFERS, *tag is the command of the first differing line (malloc'd)
 * when tag is non-NULL, and the transcripts stay in sim and ker when
 * those are non-NULL. Both transcripts end at the sim's cut when it has
 * one (struct tr; f->cut says so): the sim knows the mappings and sees
 * the overlap, and where it cuts is the same on every host.
 */
enum outcome try_text(struct fz *f, const char *text, char **tag, struct tr *sim_out,
		      struct tr *ker_out);

/* The kind of a difference: its first differing lines, normalized. */
char *class_key(const char *tag, const struct tr *sim, const struct tr *ker);

#endif /* USERMM_TOOL_FUZZ_RUN_H */
