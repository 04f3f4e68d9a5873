/*
 * fuzz_shrink.h: the shrinker of `usermm fuzz` (fuzz_shrink.c): a
 * scenario as lines, made smaller while it differs the same way.
 */
#ifndef USERMM_TOOL_FUZZ_SHRINK_H
#define USERMM_TOOL_FUZZ_SHRINK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct fz;

/* A scenario's lines, without its comments and empty lines. */
struct lines {
	char **v;
	size_t n;
};

/* Splits text into l (comments and empty lines left out). */
void lines_split(struct lines *l, const char *text);
/* Frees l's lines and empties it. */
void lines_free(struct lines *l);
/* The lines, without those in [skip, skip + nskip), and with line rep_at replaced by rep. */
char *lines_join(const struct lines *l, size_t skip, size_t nskip, size_t rep_at, const char *rep);

/* One shrink: the difference it keeps and what it may spend. */
struct shrink {
	struct fz *f;
	const char *key; /* the kind of difference (class_key) that must stay */
	unsigned avoid;	 /* what the generator stayed away from: the shrinker must too */
	uint64_t budget; /* runs left */
	time_t deadline;
};

/*
 * Shrinks l while the scenario still differs as sh->key says: up to four
 * rounds of deleting lines then simplifying words, until a round changes
 * nothing or sh's budget or deadline is spent.
 */
void shrink_scenario(struct shrink *sh, struct lines *l);

#endif /* USERMM_TOOL_FUZZ_SHRINK_H */
