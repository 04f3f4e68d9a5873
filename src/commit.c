/*
 * commit.c: overcommit accounting (mm/util.c __vm_enough_memory).
 *
 * Private writable mappings (VM_ACCOUNT) and shared anonymous memory are
 * charged to the system's committed total when they are made, whether or
 * not they are ever touched. The policy decides whether a charge may pass:
 *   0 (guess)   one charge fails only when it exceeds RAM + swap
 *   1 (always)  never fails
 *   2 (never)   the total may not pass CommitLimit = RAM * ratio / 100 + swap,
 *               less the admin reserve (unprivileged) and a user reserve
 *
 * Invariant: sys->committed equals the pages of every VM_ACCOUNT VMA of
 * every mm plus the charged size of every live shmem inode.
 */
#include <errno.h>

#include "cred.h"
#include "mm.h"
#include "system.h"

#define ADMIN_RESERVE_BYTES (8ULL << 20)
#define USER_RESERVE_BYTES (128ULL << 20)

/* total_swap_pages: every swap device's slots (swapfile.c keeps the sum). */
static uint64_t swap_pages(const struct um_system *sys)
{
	return __atomic_load_n(&sys->swap.nr_pages, __ATOMIC_RELAXED);
}

uint64_t vm_commit_limit(const struct um_system *sys)
{
	return sys->fp.nframes * sys->cfg.overcommit_ratio / 100 + swap_pages(sys);
}

int vm_enough_memory(struct mm *mm, uint64_t pages)
{
	struct um_system *sys = mm->sys;
	uint64_t total = atomic_fetch_add(&sys->committed, pages) + pages;
	uint64_t allowed, reserve;

	switch (sys->cfg.overcommit_memory) {
	case UM_OVERCOMMIT_ALWAYS:
		return 0;
	case UM_OVERCOMMIT_GUESS:
		if (pages <= sys->fp.nframes + swap_pages(sys))
			return 0;
		break;
	default:
		allowed = vm_commit_limit(sys);
		if (!mm_capable(mm, UM_CAP_SYS_ADMIN)) {
			/* admin_reserve_kbytes: min(3% of memory, 8 MiB) */
			reserve = sys->fp.nframes * 3 / 100;
			if (reserve > pg_count(&sys->geom, ADMIN_RESERVE_BYTES))
				reserve = pg_count(&sys->geom, ADMIN_RESERVE_BYTES);
			allowed = allowed > reserve ? allowed - reserve : 0;
		}
		/* user_reserve_kbytes: min(total_vm / 32, 128 MiB) */
		reserve = mm->total_vm / 32;
		if (reserve > pg_count(&sys->geom, USER_RESERVE_BYTES))
			reserve = pg_count(&sys->geom, USER_RESERVE_BYTES);
		allowed = allowed > reserve ? allowed - reserve : 0;
		if (total < allowed)
			return 0;
		break;
	}
	atomic_fetch_sub(&sys->committed, pages);
	return -ENOMEM;
}

void vm_unacct_memory(struct um_system *sys, uint64_t pages)
{
	atomic_fetch_sub(&sys->committed, pages);
}
