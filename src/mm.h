/*
 * Address spaces and their calls: declarations of mm.c (struct mm, zap),
 * mmap.c, mprotect.c, mremap.c, mlock.c, madvise.c, brk.c, mincore.c,
 * guard.c, commit.c, resource.c and process.c (struct um_proc). mprotect.c,
 * mremap.c, madvise.c, brk.c, mincore.c and process.c define no function
 * beyond the public API. Layer: mm (commit.c sits lower, beside vma; the
 * system calls higher, above the fault path).
 */
#ifndef UM_MM_H
#define UM_MM_H

#include "frame.h"
#include "fs.h"
#include "pgtable.h"
#include "tlb.h"
#include "vma.h"

struct rlimits;
struct um_proc;
struct um_system;

/* mm.c */

/* The RSS counters, and hugetlb's pages (HugetlbPages), which RSS leaves out. */
enum { MM_FILEPAGES, MM_ANONPAGES, MM_SHMEMPAGES, MM_HUGETLBPAGES, MM_SWAPENTS, NR_MM_COUNTERS };

/* The mm counter a frame with these flags is charged to (mm_counter()). */
static inline int frame_mm_counter(uint32_t flags)
{
	if (flags & PG_HUGETLB)
		return MM_HUGETLBPAGES;
	if (flags & PG_ANON)
		return MM_ANONPAGES;
	return (flags & PG_SWAPBACKED) ? MM_SHMEMPAGES : MM_FILEPAGES;
}

struct mm {
	struct um_system *sys;
	const struct rlimits *rlim;	/* its process's limits */
	pthread_rwlock_t lock;		/* mmap_lock */
	pthread_mutex_t pt_lock;	/* page_table_lock: anon_vma_prepare under a shared lock */
	/* under lock */
	struct vma_tree vmas;
	struct pgtable pt;
	uint64_t mmap_base;
	uint64_t total_vm;		/* pages */
	uint64_t data_vm;		/* pages of data mappings (is_data_mapping) */
	uint64_t locked_vm;		/* pages */
	uint64_t locked_vm_stale;	/* of those, in no VM_LOCKED VMA (DONTUNMAP leaves them, as Linux) */
	uint64_t def_flags;		/* VM_LOCKED after mlockall(MCL_FUTURE) */
	uint64_t start_brk, brk;	/* the heap: [start_brk, brk) */
	struct um_proc *owner;		/* whose credentials its calls use (mm->owner) */
	uint64_t vm_changes;		/* exclusive sections ended (validate_mm's pace) */
	/* atomic; tlb_gen alone on its line: every access reads it */
	_Alignas(64) _Atomic uint64_t tlb_gen;	/* shootdown generation */
	_Alignas(64) char gen_pad;
	_Atomic int64_t rss[NR_MM_COUNTERS];	/* pages */
	_Atomic uint64_t min_flt;
	_Atomic uint64_t maj_flt;
	_Atomic bool oom_killed;	/* chosen by the OOM killer (oom_kill.c): faults fail */
};

/*
 * may_expand_vm: may mm map npages more pages with flags vm_flags, under
 * RLIMIT_AS (total_vm) and, for a data mapping, RLIMIT_DATA (data_vm)?
 */
UM_INTERNAL bool may_expand_vm(const struct mm *mm, uint64_t vm_flags, uint64_t npages);
/* vm_stat_account: npages (negative: fewer) mapped with flags vm_flags. */
UM_INTERNAL void vm_stat_account(struct mm *mm, uint64_t vm_flags, int64_t npages);
/* Whether a new VM_LOCKED range of len bytes fits RLIMIT_MEMLOCK (mlock_future_ok). */
UM_INTERNAL bool mlock_future_ok(const struct mm *mm, uint64_t vm_flags, uint64_t len);
/* A new empty mm under the limits rlim (its process's, which outlive it). */
UM_INTERNAL struct mm *mm_new(struct um_system *sys, const struct rlimits *rlim);
/* Frees an mm whose mappings are gone (exit_mmap). */
UM_INTERNAL void mm_free(struct mm *mm);
/*
 * Invalidates every thread's TLB entries for mm: each thread drops its TLB
 * when it next sees the new generation. Enough when no write right was
 * taken away (a COW break replaces a read-only PTE).
 */
static inline void mm_tlb_flush(struct mm *mm)
{
	atomic_store_explicit(&mm->tlb_gen, um_gen_next(), memory_order_release);
}
UM_INTERNAL int mm_check(struct mm *mm, char *why, size_t n);
/*
 * validate_mm: the VMA tree and the counts kept from it (total_vm, data_vm,
 * locked_vm) are sound, or the library aborts with the reason: a broken
 * invariant. O(VMAs): after every change while the mm has at most 1024
 * VMAs, after every 1024th above (a test that makes 65,530 would be
 * quadratic). mm_check adds the page tables and RSS, for um_check.
 */
UM_INTERNAL void validate_mm(struct mm *mm);

/*
 * The mm lock held exclusive, to change VMAs (mmap_write_lock). Its unlock
 * validates the mm first in debug builds (UM_DEBUG).
 */
static inline void mmap_write_lock(struct mm *mm)
{
	pthread_rwlock_wrlock(&mm->lock);
}

static inline void mmap_write_unlock(struct mm *mm)
{
	if (UM_DEBUG)
		validate_mm(mm);
	pthread_rwlock_unlock(&mm->lock);
}
/*
 * Zaps the PTEs of [start, end): counters and map counts drop now, the
 * frames go to g, released after the shootdown. even_cows false keeps the
 * anonymous pages (private copies) and zaps only file pages. The mm lock
 * is held exclusive, or the page's inode i_mmap lock (truncate).
 */
UM_INTERNAL void mm_zap_range(struct mm *mm, struct mmu_gather *g, uint64_t start, uint64_t end,
			      bool even_cows);

/* resource.c */
/*
 * A process's resource limits (signal_struct's rlim): read without a lock,
 * as Linux's rlimit() reads them; um_setrlimit changes a pair under the
 * system lock.
 */
struct rlimits {
	_Atomic uint64_t cur[UM_RLIM_NLIMITS];
	_Atomic uint64_t max[UM_RLIM_NLIMITS];
};

/* The soft limit of resource res (Linux's rlimit()). */
static inline uint64_t rlimit(const struct mm *mm, unsigned res)
{
	return atomic_load_explicit(&mm->rlim->cur[res], memory_order_relaxed);
}
/* A new process's limits: Linux's defaults, RLIMIT_MEMLOCK the configuration's. */
UM_INTERNAL void rlimits_init(const struct um_system *sys, struct rlimits *r);
UM_INTERNAL void rlimits_copy(struct rlimits *dst, const struct rlimits *src);
/* send_sig: makes sig pending on p, for um_signal_take. */
UM_INTERNAL void send_sig(struct um_proc *p, int sig);

/* process.c */
struct um_proc {
	struct um_system *sys;
	int pid;
	struct mm *mm;
	struct fdtable files;
	pthread_mutex_t cred_lock;	/* cred: changed by set*id and umask, copied by readers */
	struct um_cred cred;
	struct um_proc *next_proc, *prev_proc;	/* system's process list */
	struct rlimits rlim;
	_Atomic uint64_t sigpending;		/* bit signo - 1: sent by a call, not taken */
	_Atomic int oom_score_adj;		/* -1000..1000, signal_struct's; fork copies */
	_Atomic int oom_score_adj_min;		/* lowest an unprivileged write may set */
};

/* Killed by the OOM killer: memory calls answer -ESRCH until um_exit. */
static inline bool proc_oom_killed(const struct um_proc *p)
{
	return atomic_load_explicit(&p->mm->oom_killed, memory_order_relaxed);
}

/* commit.c */
UM_INTERNAL uint64_t vm_commit_limit(const struct um_system *sys);
/* Charges pages to the committed total if the policy allows; 0 or -ENOMEM. */
UM_INTERNAL int vm_enough_memory(struct mm *mm, uint64_t pages);
UM_INTERNAL void vm_unacct_memory(struct um_system *sys, uint64_t pages);

/* guard.c: guard regions; the mm lock is held exclusive. */
UM_INTERNAL int madvise_guard_install(struct mm *mm, struct vma *v, uint64_t start, uint64_t end);
UM_INTERNAL int madvise_guard_remove(struct mm *mm, struct vma *v, uint64_t start, uint64_t end);
/* Clears the guard markers of [start, end) (munmap: zapping keeps them). */
UM_INTERNAL void guard_markers_clear(struct mm *mm, uint64_t start, uint64_t end);

/* An inline of no source, for the mapping calls (madvise, mprotect, mremap, guard). */
/*
 * Anonymous memory (Linux's vma_is_anonymous: no vm_ops): no file, or a
 * private mapping of /dev/zero, which keeps its file for maps and madvise.
 */
static inline bool vma_is_anonymous(const struct vma *v)
{
	return !v->vm_inode || v->vm_inode->type == INODE_ZERO;
}

/* mlock.c */
UM_INTERNAL bool can_do_mlock(const struct mm *mm);

/* mmap.c */
UM_INTERNAL int do_munmap(struct mm *mm, uint64_t start, uint64_t len);
/* Unmaps everything (exit, exec, a failed fork); mm lock held exclusive or mm unshared. */
UM_INTERNAL void exit_mmap(struct mm *mm);
/* The top of the mmap area exec gives a process whose RLIMIT_STACK is stack_limit. */
UM_INTERNAL uint64_t mmap_base_at_exec(const struct um_system *sys, uint64_t stack_limit);
/*
 * Which huge-page placement get_unmapped_area applies: none (shmem), the
 * anonymous one (length a multiple of the PMD size, no hint), or the file
 * one (thp_get_unmapped_area at the mapping's offset).
 */
enum thp_align { THP_NONE, THP_ANON, THP_FILE };

/* The placement for a mapping of ino (NULL: anonymous), shared or private. */
static inline enum thp_align thp_align_of(const struct inode *ino, bool shared)
{
	if (!ino)
		return shared ? THP_NONE : THP_ANON;
	if (ino->type == INODE_REG || (ino->type == INODE_ZERO && !shared))
		return THP_FILE;
	return THP_NONE;
}

/* A free range for len bytes (get_unmapped_area), or a negative errno. */
UM_INTERNAL int64_t get_unmapped_area(struct mm *mm, uint64_t addr, uint64_t len, int flags,
				      enum thp_align thp, uint64_t pgoff);
UM_INTERNAL uint64_t calc_vm_prot_bits(int prot);

#endif /* UM_MM_H */
