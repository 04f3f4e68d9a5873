/*
 * fuzz_gen.h: the scenario generator of `usermm fuzz` (fuzz_gen.c): a
 * seed's random scenario as text, and the known differences it can stay
 * away from.
 */
#ifndef USERMM_TOOL_FUZZ_GEN_H
#define USERMM_TOOL_FUZZ_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A known difference: its --avoid name, its AV_ bit, and what differs. */
struct known {
	const char *name;
	unsigned bit;
	const char *what;
};

/* The AV_ bits of fuzz_known[]. */
#define AV_PRESSURE_ANON 1u /* --pressure: anonymous pages Linux's reclaim drops */

/* The known differences, ended by an entry whose name is NULL. */
extern const struct known fuzz_known[];

/* The number of entries of fuzz_known[] before its terminator. */
size_t fuzz_nknown(void);

/*
 * The scenario of seed: its text (malloc'd). avoid: AV_ bits of
 * fuzz_known[]. pressure: --pressure's lines too (a small config phys,
 * reclaim, limits; see fuzz_gen.c), the others unchanged.
 */
char *fuzz_generate(uint64_t seed, unsigned max_ops, unsigned avoid, bool pressure);

#endif /* USERMM_TOOL_FUZZ_GEN_H */
