/*
 * oom_kill.c: the OOM killer (mm/oom_kill.c) and its reaper.
 *
 * When a fault finds no free frame and reclaim frees none, the machine
 * chooses a process to kill, as Linux 6.x does:
 *   - oom_badness: the pages the process would give back (RSS of every
 *     kind, swap entries, page tables in pages), moved by oom_score_adj
 *     scaled to the machine (adj * totalpages / 1000); adj -1000 never.
 *   - select_bad_process: the highest badness over every process; on a
 *     tie the youngest (Linux walks the tasks oldest first and lets an equal
 *     score replace the one chosen; the system's list is youngest first
 *     and only a higher score replaces).
 *   - the victim is marked killed (mm->oom_killed, its tsk_is_oom_victim
 *     and MMF_OOM_SKIP at once): from then on its accesses end in SIGKILL
 *     and its memory calls answer -ESRCH, until the embedder's um_exit.
 *   - the reaper (__oom_reap_task_mm) zaps the PTEs of every VMA but
 *     hugetlb and shared ones, so its private frames come back at once.
 *     It needs the victim's mm lock exclusive (the library's zap does),
 *     taken with a trylock as Linux's reaper takes mmap_read_trylock; a
 *     victim whose lock is busy keeps its memory until um_exit.
 *
 * Invariant: a killed mm gains no page (its faults fail before they look).
 */
#include <errno.h>

#include "hugetlb.h"
#include "mm.h"
#include "oom.h"
#include "pgtable.h"
#include "system.h"
#include "tlb.h"
#include "vma.h"
#include "vmscan.h"

/* totalram_pages() + total_swap_pages, as oom_kill.c's constrained_alloc. */
uint64_t oom_totalpages(const struct um_system *sys)
{
	return sys->fp.nframes + __atomic_load_n(&sys->swap.nr_pages, __ATOMIC_RELAXED);
}

int64_t oom_badness(struct um_proc *p, uint64_t totalpages)
{
	struct mm *mm = p->mm;
	int64_t adj = atomic_load_explicit(&p->oom_score_adj, memory_order_relaxed);
	int64_t points = 0;

	if (adj == OOM_SCORE_ADJ_MIN || atomic_load(&mm->oom_killed))
		return INT64_MIN;
	for (int i = MM_FILEPAGES; i <= MM_SHMEMPAGES; i++)
		points += atomic_load_explicit(&mm->rss[i], memory_order_relaxed);
	points += atomic_load_explicit(&mm->rss[MM_SWAPENTS], memory_order_relaxed);
	points += (int64_t)pg_count(&mm->sys->geom, pgtable_bytes(&mm->pt));
	/* Linux divides first: adj moves the score in steps of totalpages / 1000. */
	adj *= (int64_t)(totalpages / 1000);
	return points + adj;
}

/* __oom_reap_task_mm: zaps the private memory of mm, whose lock is held exclusive. */
static void oom_reap(struct mm *mm)
{
	struct mmu_gather g;

	tlb_gather_init(&g, mm);
	for (struct vma *v = mm->vmas.first; v; v = v->next) {
		if (v->vm_flags & (VM_HUGETLB | VM_SHARED))
			continue;
		mm_zap_range(mm, &g, v->vm_start, v->vm_end, true);
	}
	tlb_gather_finish(&g);
}

bool out_of_memory(struct um_system *sys, struct mm *mm)
{
	uint64_t totalpages = oom_totalpages(sys);
	struct um_proc *chosen = NULL;
	int64_t chosen_points = INT64_MIN;
	struct mm *victim;

	pthread_mutex_lock(&sys->lock);
	for (struct um_proc *p = sys->procs; p; p = p->next_proc) {
		int64_t points = oom_badness(p, totalpages);

		if (points == INT64_MIN || (chosen && points <= chosen_points))
			continue;
		chosen = p;
		chosen_points = points;
	}
	if (!chosen) {
		pthread_mutex_unlock(&sys->lock);
		return false;
	}
	victim = chosen->mm;
	atomic_store(&victim->oom_killed, true);
	atomic_fetch_add_explicit(&sys->oom_kills, 1, memory_order_relaxed);
	if (sys_events_on(sys))
		sys_event(sys, UM_EVENT_OOM_KILL, chosen->pid, 0, UM_EVENT_NO_PFN, 0, 0);
	if (victim == mm || pthread_rwlock_trywrlock(&victim->lock)) {
		pthread_mutex_unlock(&sys->lock);
		return false;
	}
	/* Still under the system lock: um_exit cannot free the victim meanwhile. */
	oom_reap(victim);
	mmap_write_unlock(victim);
	pthread_mutex_unlock(&sys->lock);
	return true;
}

bool alloc_retry(struct um_system *sys, struct mm *mm, int *passes)
{
	if ((*passes)++ < 16 && vmscan_direct(sys))
		return true;
	/* Not for an allocation that failed with frames to spare (the host's). */
	return vmscan_wanted(sys) && out_of_memory(sys, mm);
}
