/*
 * madvise.c: madvise() (mm/madvise.c).
 *
 * Advice that changes VMA flags (NORMAL, RANDOM, SEQUENTIAL, DONTFORK,
 * DOFORK, WIPEONFORK, KEEPONFORK, DONTDUMP, DODUMP, HUGEPAGE, NOHUGEPAGE,
 * MERGEABLE, UNMERGEABLE) splits and merges VMAs as mprotect does. Advice
 * that acts on pages: DONTNEED zaps the range (private anonymous memory
 * reads zero afterwards, file pages come back from the cache), FREE marks
 * private anonymous pages lazily freeable (they keep their data until
 * reclaim needs the frame; a write keeps them), REMOVE punches the range
 * out of its shmem object or file, WILLNEED reads file pages into the
 * cache, POPULATE_READ/WRITE fault the range in. COLD deactivates the
 * pages this mm alone maps (accessed bits and PG_REFERENCED cleared, active
 * page-cache pages to the inactive list); PAGEOUT reclaims them now, as
 * Linux does with no swap: clean lazyfree anonymous pages are discarded,
 * clean file pages dropped, dirty ones and other anonymous pages stay (see
 * pageout_one). COLLAPSE is EINVAL (no transparent huge pages); GUARD_INSTALL/REMOVE (Linux 6.13) install and remove guard markers in the
 * page tables (guard.c).
 *
 * The range is walked as madvise_walk_vmas does: unmapped parts are
 * skipped and the call ends with ENOMEM after advising the mapped ones.
 */
#include <errno.h>

#include "cred.h"
#include "fault.h"
#include "frame.h"
#include "fs.h"
#include "hugetlb.h"
#include "lru.h"
#include "mm.h"
#include "namei.h"
#include "pagecache.h"
#include "pgtable.h"
#include "swap.h"
#include "system.h"
#include "tlb.h"
#include "vma.h"
#include "vmscan.h"

enum {
	MADV_NORMAL = 0, MADV_RANDOM = 1, MADV_SEQUENTIAL = 2, MADV_WILLNEED = 3,
	MADV_DONTNEED = 4, MADV_FREE = 8, MADV_REMOVE = 9, MADV_DONTFORK = 10,
	MADV_DOFORK = 11, MADV_MERGEABLE = 12, MADV_UNMERGEABLE = 13, MADV_HUGEPAGE = 14,
	MADV_NOHUGEPAGE = 15, MADV_DONTDUMP = 16, MADV_DODUMP = 17, MADV_WIPEONFORK = 18,
	MADV_KEEPONFORK = 19, MADV_COLD = 20, MADV_PAGEOUT = 21, MADV_POPULATE_READ = 22,
	MADV_POPULATE_WRITE = 23, MADV_DONTNEED_LOCKED = 24, MADV_COLLAPSE = 25,
	MADV_GUARD_INSTALL = 102, MADV_GUARD_REMOVE = 103,
};

/* The advice Linux 6.18 on x86-64 knows (madvise_behavior_valid, this kernel's config). */
static bool advice_valid(int advice)
{
	switch (advice) {
	case MADV_NORMAL: case MADV_RANDOM: case MADV_SEQUENTIAL: case MADV_WILLNEED:
	case MADV_DONTNEED: case MADV_FREE: case MADV_REMOVE: case MADV_DONTFORK:
	case MADV_DOFORK: case MADV_MERGEABLE: case MADV_UNMERGEABLE: case MADV_HUGEPAGE:
	case MADV_NOHUGEPAGE: case MADV_DONTDUMP: case MADV_DODUMP: case MADV_WIPEONFORK:
	case MADV_KEEPONFORK: case MADV_COLD: case MADV_PAGEOUT: case MADV_POPULATE_READ:
	case MADV_POPULATE_WRITE: case MADV_DONTNEED_LOCKED: case MADV_COLLAPSE:
	case MADV_GUARD_INSTALL: case MADV_GUARD_REMOVE:
		return true;
	default:
		return false;
	}
}

/* The VMA flags an advice sets, or -EINVAL for this VMA; 1 when the advice is not a flag change. */
static int advice_flags(const struct vma *v, int advice, uint64_t *flags)
{
	uint64_t f = v->vm_flags;

	switch (advice) {
	case MADV_NORMAL:
		f &= ~(VM_RAND_READ | VM_SEQ_READ);
		break;
	case MADV_SEQUENTIAL:
		f = (f & ~VM_RAND_READ) | VM_SEQ_READ;
		break;
	case MADV_RANDOM:
		f = (f & ~VM_SEQ_READ) | VM_RAND_READ;
		break;
	case MADV_DONTFORK:
		f |= VM_DONTCOPY;
		break;
	case MADV_DOFORK:
		f &= ~VM_DONTCOPY;
		break;
	case MADV_WIPEONFORK:
		/* Anonymous private memory only. */
		if (v->vm_inode || (v->vm_flags & VM_SHARED))
			return -EINVAL;
		f |= VM_WIPEONFORK;
		break;
	case MADV_KEEPONFORK:
		if (f & VM_DROPPABLE)
			return -EINVAL;
		f &= ~VM_WIPEONFORK;
		break;
	case MADV_DONTDUMP:
		f |= VM_DONTDUMP;
		break;
	case MADV_DODUMP:
		if (f & VM_DROPPABLE)
			return -EINVAL;
		f &= ~VM_DONTDUMP;
		break;
	case MADV_HUGEPAGE:
		f = (f & ~VM_NOHUGEPAGE) | VM_HUGEPAGE;
		break;
	case MADV_NOHUGEPAGE:
		f = (f & ~VM_HUGEPAGE) | VM_NOHUGEPAGE;
		break;
	case MADV_MERGEABLE:
		/*
		 * vma_ksm_compatible: KSM ignores shared memory, special,
		 * hugetlb and droppable mappings: no flag, no split.
		 */
		if (!(f & (VM_SHARED | VM_MAYSHARE | VM_SPECIAL | VM_HUGETLB | VM_DROPPABLE)))
			f |= VM_MERGEABLE;
		break;
	case MADV_UNMERGEABLE:
		f &= ~VM_MERGEABLE;
		break;
	default:
		return 1;
	}
	*flags = f;
	return 0;
}

/*
 * MADV_FREE: the private anonymous pages of the range become lazily
 * freeable: PTE clean and old, frame no longer swap-backed. Pages shared
 * with a fork child or parent too (madvise_free_pte_range skips a shared
 * folio only when the folio itself is dirty, which an anonymous one is
 * not without swap): reclaim would not free them while others map them,
 * but this mm's PTE is clean now (smaps Shared_Clean).
 */
static void mark_lazyfree(struct mm *mm, uint64_t start, uint64_t end)
{
	struct frame_pool *fp = &mm->sys->fp;
	uint64_t va = start, span_end;

	while (va < end) {
		_Atomic pte_t *ptep = pgtable_span(&mm->pt, va, end, &span_end, false);

		const uint64_t nr_ptes = pg_count(&mm->sys->geom, span_end - va);
		for (uint64_t k = 0; ptep && k < nr_ptes; k++) {
			pte_t pte = atomic_load_explicit(&ptep[k], memory_order_relaxed);
			struct frame *f;

			if (pte_is_swap(pte)) {
				/* A page on swap is dropped now (free_swap_and_cache): it reads zero. */
				atomic_store_explicit(&ptep[k], 0, memory_order_relaxed);
				atomic_fetch_sub(&mm->rss[MM_SWAPENTS], 1);
				swap_put(mm->sys, pte_to_swp_entry(pte));
				continue;
			}
			if (!(pte & PTE_PRESENT) || (pte & PTE_SPECIAL))
				continue;
			f = pfn_frame(fp, pte_pfn(pte));
			if (!(atomic_load(&f->flags) & PG_ANON))
				continue;
			/* In the swap cache: out of it first, or left alone (madvise_free_pte_range). */
			if ((atomic_load(&f->flags) & PG_SWAPCACHE) && !swap_try_free(mm->sys, pte_pfn(pte)))
				continue;
			/* Clean and old: reclaim may drop it; a later write makes it dirty again. */
			atomic_store_explicit(&ptep[k], pte & ~(PTE_DIRTY | PTE_ACCESSED | PTE_WRITE),
					      memory_order_relaxed);
			lru_lazyfree(&mm->sys->lru, fp, pte_pfn(pte));
		}
		va = span_end;
	}
}

/*
 * can_do_file_pageout: page-cache pages are paged out only for a file the
 * caller owns (or has CAP_FOWNER over) or could open for writing; others'
 * shared files would otherwise open a side channel.
 */
static bool can_do_file_pageout(struct mm *mm, const struct vma *v)
{
	struct um_cred c;

	if (!v->vm_inode)
		return false;
	cred_get(mm->owner, &c);
	return c.fsuid == v->vm_inode->i_uid || cred_capable(&c, UM_CAP_FOWNER) ||
	       inode_permission(&c, v->vm_inode, MAY_WRITE) == 0;
}

/*
 * MADV_PAGEOUT on one page mapped once by this mm at va (reclaim_pages,
 * ignoring references): a lazyfree anonymous page still clean is
 * discarded (try_to_unmap_one's lazyfree case; the next read maps the
 * zero page), one written again since is swap-backed again and stays, as
 * any other anonymous page does with no swap; a regular file's page is
 * unmapped and dropped when clean (vmscan_pageout_file); a shmem page is
 * unmapped and stays cached (its writeout has no swap to go to).
 */
static void pageout_one(struct mm *mm, uint64_t va, pte_t pte, bool file_ok)
{
	struct um_system *sys = mm->sys;
	struct frame *f = pfn_frame(&sys->fp, pte_pfn(pte));
	uint32_t fl = atomic_load(&f->flags);
	struct inode *ino = f->owner;
	struct mmu_gather g;

	if (fl & PG_ANON) {
		/* With swap, a swap-backed page goes out (shrink_folio_list's add_to_swap). */
		if ((fl & PG_SWAPBACKED) && ((fl & PG_SWAPCACHE) || swap_free_pages(sys)))
			vmscan_pageout_anon(sys, pte_pfn(pte));
		if (fl & PG_SWAPBACKED)
			return;
		if ((pte & PTE_DIRTY) || (fl & PG_DIRTY)) {
			lru_set_swapbacked(&sys->lru, &sys->fp, pte_pfn(pte));
			return;
		}
		/* The only references are the mappings': no pin holds it. */
		if (atomic_load(&f->refcount) != atomic_load(&f->mapcount))
			return;
	} else if (!file_ok || !ino) {
		return;
	} else if (ino->type == INODE_REG) {
		vmscan_pageout_file(sys, pte_pfn(pte));
		return;
	} else if (ino->type != INODE_SHMEM) {
		return;
	} else if (swap_free_pages(sys) && vmscan_pageout_shmem(sys, pte_pfn(pte))) {
		return; /* with swap, a shmem page goes out too */
	}
	tlb_gather_init(&g, mm);
	mm_zap_range(mm, &g, va, va + sys->geom.size, true);
	tlb_gather_finish(&g);
}

/*
 * MADV_COLD (pageout false) and MADV_PAGEOUT on [start, end) of v
 * (madvise_cold_or_pageout_pte_range): pages some other mapping also maps
 * are left alone. COLD clears the PTE's accessed bit and the page's
 * PG_REFERENCED, and moves an active page-cache page to the inactive list
 * (anonymous and shmem pages are on no list here); PAGEOUT reclaims now.
 */
static void cold_or_pageout(struct mm *mm, struct vma *v, uint64_t start, uint64_t end,
			    bool pageout)
{
	struct um_system *sys = mm->sys;
	bool file_ok = vma_is_anonymous(v) || can_do_file_pageout(mm, v);

	for (uint64_t va = start, span_end; va < end; va = span_end) {
		_Atomic pte_t *ptep = pgtable_span(&mm->pt, va, end, &span_end, false);

		const uint64_t nr_ptes = pg_count(&sys->geom, span_end - va);
		for (uint64_t k = 0; ptep && k < nr_ptes; k++) {
			pte_t pte = atomic_load_explicit(&ptep[k], memory_order_relaxed);
			struct frame *f;

			if (!(pte & PTE_PRESENT) || (pte & PTE_SPECIAL))
				continue;
			f = pfn_frame(&sys->fp, pte_pfn(pte));
			if (atomic_load(&f->mapcount) != 1 || (atomic_load(&f->flags) & PG_HUGETLB))
				continue;
			if (pageout) {
				pageout_one(mm, va + pg_bytes(&sys->geom, k), pte, file_ok);
				continue;
			}
			while ((pte & PTE_ACCESSED) &&
			       !atomic_compare_exchange_weak(&ptep[k], &pte, pte & ~PTE_ACCESSED))
				;
			lru_deactivate(&sys->lru, &sys->fp, pte_pfn(pte));
		}
	}
	if (!pageout)
		mm_tlb_sync(mm);
}

/* Page advice on [start, end) of v. The mm lock is held exclusive. */
static int advise_pages(struct mm *mm, struct vma *v, uint64_t start, uint64_t end, int advice)
{
	struct um_system *sys = mm->sys;
	struct mmu_gather g;

	switch (advice) {
	case MADV_DONTNEED:
	case MADV_DONTNEED_LOCKED:
	case MADV_FREE:
		if (v->vm_flags & VM_HUGETLB) {
			/*
			 * Whole huge pages only: the start must be one's, and the
			 * end rounds down, so that no data beyond the range goes.
			 */
			if (advice == MADV_FREE || (start & vma_hpage_mask(v)))
				return -EINVAL;
			end &= ~vma_hpage_mask(v);
			if (end <= start)
				return 0;
		}
		if ((v->vm_flags & VM_LOCKED) && advice != MADV_DONTNEED_LOCKED)
			return -EINVAL;
		if (advice == MADV_FREE) {
			/* Anonymous private memory only (vma_is_anonymous). */
			if (!vma_is_anonymous(v) || (v->vm_flags & VM_SHARED))
				return -EINVAL;
			mark_lazyfree(mm, start, end);
			mm_tlb_sync(mm);
			return 0;
		}
		tlb_gather_init(&g, mm);
		hugetlb_zap_prepare(mm, v, start, end);
		mm_zap_range(mm, &g, start, end, true);
		tlb_gather_finish(&g);
		return 0;
	case MADV_REMOVE:
		if (v->vm_flags & VM_LOCKED)
			return -EINVAL;
		/* A private /dev/zero mapping has its file: EACCES below, not EINVAL. */
		if (!v->vm_inode)
			return -EINVAL;
		if (!(v->vm_flags & VM_SHARED) || !(v->vm_flags & VM_MAYWRITE))
			return -EACCES;
		return punch_hole(sys, v->vm_inode,
				  v->vm_pgoff + pg_count(&sys->geom, start - v->vm_start),
				  pg_count(&sys->geom, end - start));
	case MADV_WILLNEED:
		if (v->vm_inode && v->vm_inode->type == INODE_REG) {
			uint64_t first = v->vm_pgoff + pg_count(&sys->geom, start - v->vm_start);
			uint64_t eof = pg_count_up(&sys->geom, inode_size(v->vm_inode));

			uint64_t nr = pg_count(&sys->geom, end - start);

			if (first < eof)
				pagecache_willneed(sys, v->vm_inode, first,
						   nr < eof - first ? nr : eof - first);
		}
		return 0;
	case MADV_COLD:
	case MADV_PAGEOUT:
		/* They move pages on the LRU lists; never those of a locked or hugetlb range. */
		if (v->vm_flags & (VM_LOCKED | VM_HUGETLB))
			return -EINVAL;
		/* Another's shared file: nothing (madvise_pageout). */
		if (advice == MADV_PAGEOUT && !vma_is_anonymous(v) &&
		    (v->vm_flags & VM_MAYSHARE) && !can_do_file_pageout(mm, v))
			return 0;
		cold_or_pageout(mm, v, start, end, advice == MADV_PAGEOUT);
		return 0;
	case MADV_COLLAPSE:
		/* No transparent huge pages here: nothing can be collapsed, as in a THP-less process. */
		return -EINVAL;
	case MADV_GUARD_INSTALL:
		return madvise_guard_install(mm, v, start, end);
	case MADV_GUARD_REMOVE:
		return madvise_guard_remove(mm, v, start, end);
	default:
		return 0;
	}
}

static int madvise_vma(struct mm *mm, struct vma *v, uint64_t start, uint64_t end, int advice)
{
	uint64_t flags;
	int r = advice_flags(v, advice, &flags);

	if (r < 0)
		return r;
	if (r == 0) {
		/* madvise answers a refused split (map count) with EAGAIN. */
		r = flags == v->vm_flags ? 0 : vma_modify_flags(mm, v, start, end, flags);
		return r == -ENOMEM ? -EAGAIN : r;
	}
	return advise_pages(mm, v, start, end, advice);
}

/*
 * GUP's FOLL_TOUCH for a write: a page already mapped writable but clean
 * (shmem maps its pages writable on a read fault) takes no fault, so GUP
 * marks the page itself dirty (set_page_dirty), as the write would have.
 */
static void populate_touch_dirty(struct mm *mm, uint64_t va)
{
	_Atomic pte_t *ptep = pgtable_walk(&mm->pt, va, false);
	pte_t pte = ptep ? atomic_load_explicit(ptep, memory_order_acquire) : 0;

	if ((pte & PTE_PRESENT) && (pte & PTE_WRITE) && !(pte & (PTE_DIRTY | PTE_SPECIAL))) {
		struct frame *f = pfn_frame(&mm->sys->fp, pte_pfn(pte));

		/* Shmem only: a regular file's writable PTE is dirty from its fault on. */
		if (!(atomic_load(&f->flags) & PG_ANON))
			page_mark_dirty(mm->sys, f->owner, pte_pfn(pte));
		else
			atomic_fetch_or(&f->flags, PG_DIRTY);
	}
}

/*
 * MADV_POPULATE_READ / WRITE: fault the range in (madvise_populate, which
 * is GUP with FOLL_MADV_POPULATE). A hole is ENOMEM; a VMA without the
 * right asked for is EINVAL: GUP checks VM_READ or VM_WRITE itself, not
 * the hardware's rule that any right allows a read; a fault that fails is
 * EFAULT (SIGBUS, SIGSEGV) or ENOMEM (out of memory). The pages before the
 * failure stay populated.
 */
static int madvise_populate(struct mm *mm, uint64_t start, uint64_t end, bool write)
{
	uint64_t ps = mm->sys->geom.size, need = write ? VM_WRITE : VM_READ;
	int ret = 0;

	pthread_rwlock_rdlock(&mm->lock);
	for (uint64_t va = start; va < end && !ret; va += ps) {
		struct vma *v = vma_lookup(&mm->vmas, va);
		struct um_siginfo si;

		if (!v) {
			ret = -ENOMEM;
			break;
		}
		if (!(v->vm_flags & need)) {
			ret = -EINVAL;
			break;
		}
		if (handle_mm_fault(mm, va, write ? FAULT_WRITE : FAULT_READ, &si))
			ret = si.signo == UM_SIGKILL ? -ENOMEM : -EFAULT;
		else if (write)
			populate_touch_dirty(mm, va);
	}
	pthread_rwlock_unlock(&mm->lock);
	return ret;
}

int um_madvise(struct um_proc *p, uint64_t start, uint64_t len, int advice)
{
	struct um_system *sys = p->sys;
	struct mm *mm = p->mm;
	int unmapped_error = 0, err = 0;
	uint64_t end;
	struct vma *v;

	if (proc_oom_killed(p))
		return -ESRCH;
	if (!advice_valid(advice))
		return -EINVAL;
	if (!page_aligned(&sys->geom, start))
		return -EINVAL;
	if (len > UINT64_MAX - sys->geom.mask)
		return -EINVAL; /* a small negative length rounds up to zero */
	len = page_align(&sys->geom, len);
	end = start + len;
	if (end < start)
		return -EINVAL;
	if (end == start)
		return 0;
	if (advice == MADV_POPULATE_READ || advice == MADV_POPULATE_WRITE)
		return madvise_populate(mm, start, end, advice == MADV_POPULATE_WRITE);
	mmap_write_lock(mm);
	v = vma_find(&mm->vmas, start);
	for (;;) {
		uint64_t tmp;

		/* Unmapped to the end: ENOMEM (a real process has its stack above). */
		if (!v) {
			err = -ENOMEM;
			break;
		}
		if (start < v->vm_start) {
			unmapped_error = -ENOMEM;
			start = v->vm_start;
			if (start >= end)
				break;
		}
		tmp = v->vm_end < end ? v->vm_end : end;
		err = madvise_vma(mm, v, start, tmp, advice);
		if (err)
			break;
		start = tmp;
		if (start >= end)
			break;
		v = vma_find(&mm->vmas, start);
	}
	mmap_write_unlock(mm);
	return err ? err : unmapped_error;
}
