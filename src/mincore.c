/*
 * mincore.c: mincore() — which pages of a range are resident.
 *
 * A page is resident when its PTE is present (the zero frame included),
 * or, for file and shmem VMAs, when the page cache holds the page the
 * VMA would map there. Walks the range VMA by VMA as do_mincore does: the
 * bytes for the pages before a hole are filled, then ENOMEM.
 */
#include <errno.h>

#include "frame.h"
#include "fs.h"
#include "mm.h"
#include "pagecache.h"
#include "pgtable.h"
#include "swap.h"
#include "system.h"
#include "vma.h"

/*
 * Fills vec for [start, end) inside v. The mm lock is held shared. The
 * walk goes a leaf table at a time (pgtable_span), not a page at a time:
 * one descent per 512 pages, and a missing table answers for all of its
 * pages at once.
 */
/* mincore_page: a cached page counts when it is uptodate (an EOF block ext4 zeroed is not). */
static unsigned char cache_incore(struct um_system *sys, struct inode *ino, uint64_t index)
{
	uint32_t pfn = pagecache_lookup(ino, index);

	return pfn != FRAME_NONE &&
	       (atomic_load_explicit(&pfn_frame(&sys->fp, pfn)->flags, memory_order_relaxed) &
		PG_UPTODATE);
}

static void mincore_vma(struct mm *mm, struct vma *v, uint64_t start, uint64_t end,
			unsigned char *vec)
{
	struct um_system *sys = mm->sys;
	/* mincore_hugetlb: a huge page is in core where a PTE maps it, nowhere else. */
	struct inode *ino = v->vm_inode && v->vm_inode->type != INODE_ZERO &&
				    v->vm_inode->type != INODE_HUGETLB ? v->vm_inode : NULL;
	uint64_t va = start, span_end;

	while (va < end) {
		_Atomic pte_t *ptep = pgtable_span(&mm->pt, va, end, &span_end, false);
		uint64_t n = pg_count(&sys->geom, span_end - va);

		for (uint64_t k = 0; k < n; k++, va += sys->geom.size) {
			pte_t pte = ptep ? atomic_load_explicit(&ptep[k], memory_order_relaxed) : 0;
			unsigned char r = 0;

			if (pte & PTE_PRESENT)
				r = 1;
			else if (pte_is_swap(pte))
				r = swap_incore(sys, pte_to_swp_entry(pte)); /* in the swap cache */
			else if (ino)
				r = cache_incore(
				    sys, ino, v->vm_pgoff + pg_count(&sys->geom, va - v->vm_start));
			*vec++ = r;
		}
	}
}

int um_mincore(struct um_proc *p, uint64_t start, uint64_t len, unsigned char *vec)
{
	struct um_system *sys = p->sys;
	struct mm *mm = p->mm;
	uint64_t end;
	int err = 0;

	if (proc_oom_killed(p))
		return -ESRCH;
	if (!page_aligned(&sys->geom, start))
		return -EINVAL;
	if (start > sys->task_size || len > sys->task_size - start)
		return -ENOMEM;
	end = start + page_align(&sys->geom, len);
	pthread_rwlock_rdlock(&mm->lock);
	while (start < end) {
		struct vma *v = vma_lookup(&mm->vmas, start);
		uint64_t stop;

		if (!v) {
			err = -ENOMEM;
			break;
		}
		stop = v->vm_end < end ? v->vm_end : end;
		mincore_vma(mm, v, start, stop, vec);
		vec += pg_count(&sys->geom, stop - start);
		start = stop;
	}
	pthread_rwlock_unlock(&mm->lock);
	return err;
}
