/*
 * guard.c: guard regions (MADV_GUARD_INSTALL and MADV_GUARD_REMOVE, Linux
 * 6.13; file mappings since 6.15; VM_MAYBE_GUARD since 6.18).
 *
 * A guard region is a run of PTE markers: not present, no frame, and any
 * access that passes the VMA's protection raises SIGSEGV (SEGV_MAPERR), as
 * if the page were unmapped, while the VMA stays whole and nothing is
 * charged. Installing one zaps the pages there first (as MADV_DONTNEED
 * does). The markers belong to the page tables, not to the VMA: they stay
 * through MADV_DONTNEED, MADV_FREE, mprotect, hole punching and truncation,
 * move with mremap, are copied by fork, and go only with MADV_GUARD_REMOVE,
 * munmap (also MAP_FIXED) and exit or exec. A VMA that ever had markers
 * carries VM_MAYBE_GUARD (smaps `gu`): a merge keeps it, and fork copies
 * such a VMA's page tables even without anonymous pages.
 *
 * Neither works on hugetlb VMAs; installing on an mlocked VMA is EINVAL
 * too (its pages could not be zapped), removing is allowed.
 */
#include <errno.h>

#include "mm.h"
#include "pgtable.h"
#include "system.h"
#include "tlb.h"
#include "vma.h"

/* is_valid_guard_vma */
static bool guard_vma_ok(const struct vma *v, bool allow_locked)
{
	uint64_t forbidden = VM_SPECIAL | VM_HUGETLB | (allow_locked ? 0 : VM_LOCKED);

	return !(v->vm_flags & forbidden);
}

int madvise_guard_install(struct mm *mm, struct vma *v, uint64_t start, uint64_t end)
{
	uint64_t va = start, span_end;
	struct mmu_gather g;

	if (!guard_vma_ok(v, false))
		return -EINVAL;
	/*
	 * An anonymous VMA gets its anon_vma now, as if faulted: it decides
	 * how the VMA merges and moves from here on (Linux does the same,
	 * after setting the flag, which the neighbour it shares with has).
	 */
	v->vm_flags |= VM_MAYBE_GUARD;
	if (vma_is_anonymous(v) && anon_vma_prepare(mm, v))
		return -ENOMEM;
	tlb_gather_init(&g, mm);
	mm_zap_range(mm, &g, start, end, true);
	tlb_gather_finish(&g);
	while (va < end) {
		_Atomic pte_t *ptep = pgtable_span(&mm->pt, va, end, &span_end, true);

		if (!ptep)
			return -ENOMEM; /* markers so far stay, as Linux leaves them */
		const uint64_t nr_ptes = pg_count(&mm->sys->geom, span_end - va);
		for (uint64_t k = 0; k < nr_ptes; k++)
			atomic_store_explicit(&ptep[k], PTE_GUARD, memory_order_relaxed);
		va = span_end;
	}
	return 0;
}

void guard_markers_clear(struct mm *mm, uint64_t start, uint64_t end)
{
	uint64_t va = start, span_end;

	while (va < end) {
		_Atomic pte_t *ptep = pgtable_span(&mm->pt, va, end, &span_end, false);

		const uint64_t nr_ptes = pg_count(&mm->sys->geom, span_end - va);
		for (uint64_t k = 0; ptep && k < nr_ptes; k++)
			if (atomic_load_explicit(&ptep[k], memory_order_relaxed) == PTE_GUARD)
				atomic_store_explicit(&ptep[k], 0, memory_order_relaxed);
		va = span_end;
	}
}

int madvise_guard_remove(struct mm *mm, struct vma *v, uint64_t start, uint64_t end)
{
	if (!guard_vma_ok(v, true))
		return -EINVAL;
	if (v->vm_flags & VM_MAYBE_GUARD)
		guard_markers_clear(mm, start, end);
	return 0;
}
