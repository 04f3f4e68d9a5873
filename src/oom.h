/*
 * The OOM killer: declarations of oom_kill.c (oom_badness, out_of_memory,
 * the reaper). Layer: pagecache/fs, beside vmscan.c, which runs first.
 */
#ifndef UM_OOM_H
#define UM_OOM_H

#include "internal.h"

struct mm;
struct um_proc;
struct um_system;

/* OOM_SCORE_ADJ_MIN and _MAX: -1000 never chosen, 1000 chosen first. */
#define OOM_SCORE_ADJ_MIN (-1000)
#define OOM_SCORE_ADJ_MAX 1000

/* Pages the badness is scaled by: the machine's frames and swap slots. */
UM_INTERNAL uint64_t oom_totalpages(const struct um_system *sys);
/*
 * oom_badness: p's resident pages (every RSS counter), swap entries
 * (MM_SWAPENTS) and page-table pages, plus oom_score_adj * totalpages / 1000;
 * INT64_MIN when p may not be chosen (adj -1000, or killed already).
 */
UM_INTERNAL int64_t oom_badness(struct um_proc *p, uint64_t totalpages);
/*
 * out_of_memory: a fault of mm found no frame and reclaim freed none.
 * Chooses the process of the highest badness (select_bad_process), kills
 * it and reaps its private memory (__oom_reap_task_mm). The caller holds
 * mm's lock shared and no other lock. Returns true when another process
 * was killed and reaped (the caller retries), false when the victim is
 * mm's own process (marked killed, not reaped: its lock is held) or no
 * process may be chosen.
 */
UM_INTERNAL bool out_of_memory(struct um_system *sys, struct mm *mm);
/*
 * An allocation for mm (NULL: one made holding no mm lock, as read(2)'s
 * and write(2)'s page cache) found no frame: reclaims, up to 16 passes
 * counted in *passes (should_reclaim_retry), then, when free memory is
 * still below the min watermark, calls the OOM killer. True when the
 * caller should try again; false when it should fail (-ENOMEM, or SIGKILL
 * for a fault). The caller holds no inode lock.
 */
UM_INTERNAL bool alloc_retry(struct um_system *sys, struct mm *mm, int *passes);

#endif /* UM_OOM_H */
