/*
 * memcg.h: a memory cgroup for one kernel run (config phys=N): made under
 * the runner's own, limited to N bytes with no swap on top, entered by
 * each driver the runner spawns before it execs, and removed at the end.
 */
#ifndef USERMM_MEMCG_H
#define USERMM_MEMCG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

struct memcg {
	char dir[4096]; /* the cgroup's directory; "" when none was made */
	bool v2;	/* cgroup v2 (memory.max) rather than v1 (memory.limit_in_bytes) */
};

/*
 * Makes cg->dir, limited to limit bytes of memory and none of swap.
 * Returns 0, or -1 with why in err (no controller, not root ...), cg->dir
 * left "".
 */
int memcg_create(struct memcg *cg, uint64_t limit, struct sbuf *err);

/* Moves the calling process into cg (a spawned driver, before it execs). 0 or -errno. */
int memcg_enter(const struct memcg *cg);

/* Moves the calling process back to cg's parent. 0 or -errno. */
int memcg_leave(const struct memcg *cg);

/* The bytes charged to cg (v1 memory.usage_in_bytes, v2 memory.current), or -errno. */
int64_t memcg_usage(const struct memcg *cg);

/*
 * Reclaims from cg: v1 writes memory.force_empty (everything it can, the
 * cgroup best empty of processes), v2 writes bytes to memory.reclaim.
 * 0 or -errno.
 */
int memcg_reclaim(const struct memcg *cg, uint64_t bytes);

/*
 * Removes cg->dir: what still runs there (drivers of this run only) is
 * killed first. Safe on a cgroup never made.
 */
void memcg_destroy(struct memcg *cg);

#endif
