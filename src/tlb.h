/*
 * The software TLB: declarations of tlb.c (per-thread TLBs, shootdown,
 * mmu_gather) and access.c (the software MMU). Layer: tlb (access.c itself
 * sits above the fault path, but declares only copy_from_user_nofault).
 */
#ifndef UM_TLB_H
#define UM_TLB_H

#include "internal.h"

struct mm;
struct um_proc;

/* tlb.c */

/*
 * A thread's TLB: one mm at a time, as a CPU without ASIDs. The hot part
 * (generation, geometry, entries, the busy flag) is the public struct
 * um_tlb, so that embedders can probe it inline; an entry caches a page's
 * host address with separate read and write tags, as QEMU's softmmu does.
 * busy is set while a store is in flight, so that a shootdown can wait
 * for it (mm_tlb_sync); the thread's TLB is on a process-wide registry
 * from its first fill until the thread exits.
 */
#define TLB_SIZE UM_TLB_SIZE
#define TLB_INVALID (~0ULL)
#define tlb_entry um_tlb_entry

struct tlb {
	struct um_tlb h;
	const struct mm *_Atomic mm;
	bool registered;
	struct tlb *reg_next, *reg_prev;
};

/*
 * Frames unmapped by a zap, kept until every TLB that may still hold them
 * has been shot down (mmu_gather).
 */
#define MMU_GATHER_MAX 512

struct mmu_gather {
	struct mm *mm;
	uint32_t n;
	uint32_t pfn[MMU_GATHER_MAX];
};

/* A generation number never used before in this host process (tlb.c). */
UM_INTERNAL uint64_t um_gen_next(void);
/*
 * The full shootdown: mm_tlb_flush, then waits until no other thread can
 * still be storing through an entry of mm it read before the flush. Call
 * after taking rights away from PTEs (munmap, mprotect, fork) and before
 * freeing their frames. The mm lock is held exclusive.
 */
UM_INTERNAL void mm_tlb_sync(struct mm *mm);
/*
 * Invalidates the translation of one page: only this thread's entry when
 * no other thread's TLB holds mm, else every TLB of mm (mm_tlb_flush).
 */
UM_INTERNAL void mm_tlb_flush_page(struct mm *mm, uint64_t va);
/* Empties t and points it at mm's generation gen; registers it on first use. */
UM_INTERNAL void tlb_reset(struct tlb *t, const struct mm *mm, uint64_t gen);
UM_INTERNAL void tlb_gather_init(struct mmu_gather *g, struct mm *mm);
/* Queues a frame whose PTE was cleared; its reference is dropped after a sync. */
UM_INTERNAL void tlb_gather_add(struct mmu_gather *g, uint32_t pfn);
UM_INTERNAL void tlb_gather_finish(struct mmu_gather *g);

/* access.c */
/*
 * copy_from_user with page faults disabled (copy_folio_from_iter_atomic):
 * copies from process memory at src while its pages are mapped readable,
 * stopping at the first that is not, without faulting. Returns the bytes
 * copied. Takes the mm lock shared.
 */
UM_INTERNAL size_t copy_from_user_nofault(struct um_proc *p, void *dst, uint64_t src, size_t len);

#endif /* UM_TLB_H */
