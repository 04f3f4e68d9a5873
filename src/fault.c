/*
 * fault.c: the page-fault handler (handle_mm_fault and its cases).
 *
 * Entered with the mm lock held shared, from the software MMU on a TLB miss
 * whose PTE does not allow the access. Several threads may fault on one mm
 * at once: a PTE is installed or replaced with compare-and-swap against the
 * value the handler read, and the loser undoes what it prepared and retries.
 * A failed fault leaves nothing behind.
 *
 * The cases, as in mm/memory.c:
 *   no VMA, or below it             SIGSEGV SEGV_MAPERR
 *   protection forbids the access   SIGSEGV SEGV_ACCERR
 *   anonymous, not present          read: the zero frame, read-only
 *                                   write: a zeroed frame (do_anonymous_page)
 *   shmem, not present              the cache frame (do_shared_fault)
 *   write to a read-only PTE        shared: make writable and dirty
 *                                   private: reuse when the anonymous frame is
 *                                   ours alone, else copy (do_wp_page)
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

static int fault_signal(struct um_siginfo *si, int signo, int code, uint64_t addr)
{
	if (si) {
		si->signo = signo;
		si->code = code;
		si->addr = addr;
	}
	return -EFAULT;
}

/* Out of memory inside a fault: Linux's OOM killer would end the process. */
static int fault_oom(struct um_siginfo *si, uint64_t addr)
{
	return fault_signal(si, UM_SIGKILL, 0, addr);
}

bool vma_access_ok(const struct vma *v, enum fault_access acc)
{
	if (acc == FAULT_WRITE)
		return v->vm_flags & VM_WRITE;
	/* x86-64 without protection keys: write and exec imply read. */
	return v->vm_flags & VM_ACCESS_FLAGS;
}

/* What every PTE the handler installs carries. */
#define PTE_BASE (PTE_PRESENT | PTE_USER | PTE_ACCESSED)

/* A new anonymous frame for v (zeroed, or a copy of src when src is not NULL). */
static uint32_t anon_frame_new(struct mm *mm, const void *src)
{
	struct frame_pool *fp = &mm->sys->fp;
	uint32_t pfn = frame_alloc(fp, src == NULL);
	struct frame *f;

	if (pfn == FRAME_NONE)
		return pfn;
	if (src)
		memcpy(pfn_host(fp, pfn), src, mm->sys->page_size);
	f = pfn_frame(fp, pfn);
	atomic_store_explicit(&f->flags, PG_ANON | PG_SWAPBACKED | PG_UPTODATE,
			      memory_order_relaxed);
	atomic_store_explicit(&f->mapcount, 1, memory_order_relaxed);
	return pfn;
}

/* Undoes anon_frame_new when the PTE changed under us. */
static void anon_frame_drop(struct mm *mm, uint32_t pfn)
{
	struct frame *f = pfn_frame(&mm->sys->fp, pfn);

	atomic_store_explicit(&f->mapcount, 0, memory_order_relaxed);
	frame_put(&mm->sys->fp, pfn);
}

static inline bool pte_install(_Atomic pte_t *ptep, pte_t old, pte_t new)
{
	return atomic_compare_exchange_strong_explicit(ptep, &old, new, memory_order_acq_rel,
						       memory_order_relaxed);
}

static int do_anonymous_page(struct mm *mm, struct vma *v, _Atomic pte_t *ptep,
			     enum fault_access acc, uint64_t addr, struct um_siginfo *si)
{
	uint32_t pfn;
	pte_t pte;

	if (acc == FAULT_READ) {
		/* Reads of untouched private memory map the shared zero frame. */
		pte = pfn_pte(ZERO_PFN, PTE_BASE | PTE_SPECIAL);
		pte_install(ptep, 0, pte);
		return 0;
	}
	if (!v->anon_vma) {
		int err;

		pthread_mutex_lock(&mm->pt_lock);
		err = anon_vma_prepare(mm, v);
		pthread_mutex_unlock(&mm->pt_lock);
		if (err)
			return fault_oom(si, addr);
	}
	pfn = anon_frame_new(mm, NULL);
	if (pfn == FRAME_NONE)
		return fault_oom(si, addr);
	pte = pfn_pte(pfn, PTE_BASE | PTE_WRITE | PTE_DIRTY);
	if (!pte_install(ptep, 0, pte)) {
		anon_frame_drop(mm, pfn);
		return 0; /* another thread got there first: retry */
	}
	atomic_fetch_add_explicit(&mm->rss[MM_ANONPAGES], 1, memory_order_relaxed);
	return 0;
}

static int do_shared_fault(struct mm *mm, struct vma *v, _Atomic pte_t *ptep,
			   enum fault_access acc, uint64_t addr, struct um_siginfo *si)
{
	struct inode *ino = v->vm_file;
	uint64_t index = v->vm_pgoff + ((addr - v->vm_start) >> mm->sys->page_shift);
	uint32_t pfn = pagecache_get(mm->sys, ino, index);
	struct frame *f;
	pte_t pte;

	if (pfn == FRAME_NONE)
		return fault_oom(si, addr);
	f = pfn_frame(&mm->sys->fp, pfn);
	pte = pfn_pte(pfn, PTE_BASE);
	if (v->vm_flags & VM_WRITE)
		pte |= PTE_WRITE | (acc == FAULT_WRITE ? PTE_DIRTY : 0);
	atomic_fetch_add_explicit(&f->mapcount, 1, memory_order_relaxed);
	if (!pte_install(ptep, 0, pte)) {
		atomic_fetch_sub_explicit(&f->mapcount, 1, memory_order_relaxed);
		frame_put(&mm->sys->fp, pfn);
		return 0;
	}
	if (acc == FAULT_WRITE)
		atomic_fetch_or_explicit(&f->flags, PG_DIRTY, memory_order_relaxed);
	atomic_fetch_add_explicit(&mm->rss[ino->shmem ? MM_SHMEMPAGES : MM_FILEPAGES], 1,
				  memory_order_relaxed);
	return 0;
}

/* A private read of a file page maps the cache frame read-only (do_read_fault). */
static int do_cow_fault(struct mm *mm, struct vma *v, _Atomic pte_t *ptep, enum fault_access acc,
			uint64_t addr, struct um_siginfo *si)
{
	struct frame_pool *fp = &mm->sys->fp;
	struct inode *ino = v->vm_file;
	uint64_t index = v->vm_pgoff + ((addr - v->vm_start) >> mm->sys->page_shift);
	uint32_t pfn = pagecache_get(mm->sys, ino, index), copy;
	pte_t pte;

	if (pfn == FRAME_NONE)
		return fault_oom(si, addr);
	if (acc == FAULT_READ) {
		atomic_fetch_add_explicit(&pfn_frame(fp, pfn)->mapcount, 1, memory_order_relaxed);
		if (!pte_install(ptep, 0, pfn_pte(pfn, PTE_BASE))) {
			atomic_fetch_sub_explicit(&pfn_frame(fp, pfn)->mapcount, 1,
						  memory_order_relaxed);
			frame_put(fp, pfn);
			return 0;
		}
		atomic_fetch_add_explicit(&mm->rss[ino->shmem ? MM_SHMEMPAGES : MM_FILEPAGES], 1,
					  memory_order_relaxed);
		return 0;
	}
	if (!v->anon_vma) {
		int err;

		pthread_mutex_lock(&mm->pt_lock);
		err = anon_vma_prepare(mm, v);
		pthread_mutex_unlock(&mm->pt_lock);
		if (err) {
			frame_put(fp, pfn);
			return fault_oom(si, addr);
		}
	}
	copy = anon_frame_new(mm, pfn_host(fp, pfn));
	frame_put(fp, pfn);
	if (copy == FRAME_NONE)
		return fault_oom(si, addr);
	pte = pfn_pte(copy, PTE_BASE | PTE_WRITE | PTE_DIRTY);
	if (!pte_install(ptep, 0, pte)) {
		anon_frame_drop(mm, copy);
		return 0;
	}
	atomic_fetch_add_explicit(&mm->rss[MM_ANONPAGES], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&mm->sys->cow_copies, 1, memory_order_relaxed);
	return 0;
}

/* A write to a present, read-only PTE in a writable VMA. */
static int do_wp_page(struct mm *mm, struct vma *v, _Atomic pte_t *ptep, pte_t old, uint64_t addr,
		      struct um_siginfo *si)
{
	struct frame_pool *fp = &mm->sys->fp;
	uint32_t pfn = pte_pfn(old), copy;
	struct frame *f = pfn_frame(fp, pfn);
	uint32_t flags;
	int counter;

	if (v->vm_flags & VM_SHARED) {
		if (pte_install(ptep, old, old | PTE_WRITE | PTE_DIRTY))
			atomic_fetch_or_explicit(&f->flags, PG_DIRTY, memory_order_relaxed);
		return 0;
	}
	flags = (old & PTE_SPECIAL) ? 0 : atomic_load_explicit(&f->flags, memory_order_relaxed);
	/*
	 * Ours alone: no other PTE and no cache holds the frame. The mm lock
	 * is held shared, so no fork can add a sharer meanwhile.
	 */
	if ((flags & PG_ANON) && atomic_load_explicit(&f->refcount, memory_order_acquire) == 1) {
		pte_install(ptep, old, old | PTE_WRITE | PTE_DIRTY);
		return 0;
	}
	if (!v->anon_vma) {
		int err;

		pthread_mutex_lock(&mm->pt_lock);
		err = anon_vma_prepare(mm, v);
		pthread_mutex_unlock(&mm->pt_lock);
		if (err)
			return fault_oom(si, addr);
	}
	copy = anon_frame_new(mm, (old & PTE_SPECIAL) ? NULL : pfn_host(fp, pfn));
	if (copy == FRAME_NONE)
		return fault_oom(si, addr);
	if (!pte_install(ptep, old, pfn_pte(copy, PTE_BASE | PTE_WRITE | PTE_DIRTY))) {
		anon_frame_drop(mm, copy);
		return 0;
	}
	/* Other threads may hold the old frame in their TLBs. */
	mm_tlb_flush(mm);
	atomic_fetch_add_explicit(&mm->rss[MM_ANONPAGES], 1, memory_order_relaxed);
	if (old & PTE_SPECIAL)
		return 0;
	counter = (flags & PG_ANON) ? MM_ANONPAGES
				    : (flags & PG_SWAPBACKED) ? MM_SHMEMPAGES : MM_FILEPAGES;
	atomic_fetch_sub_explicit(&mm->rss[counter], 1, memory_order_relaxed);
	atomic_fetch_sub_explicit(&f->mapcount, 1, memory_order_relaxed);
	frame_put(fp, pfn);
	atomic_fetch_add_explicit(&mm->sys->cow_copies, 1, memory_order_relaxed);
	return 0;
}

int handle_mm_fault(struct mm *mm, uint64_t addr, enum fault_access acc, struct um_siginfo *si)
{
	struct vma *v = vma_lookup(&mm->vmas, addr);
	_Atomic pte_t *ptep;
	pte_t pte;

	if (!v)
		return fault_signal(si, UM_SIGSEGV, UM_SEGV_MAPERR, addr);
	if (!vma_access_ok(v, acc))
		return fault_signal(si, UM_SIGSEGV, UM_SEGV_ACCERR, addr);
	ptep = pgtable_walk(&mm->pt, addr, true);
	if (!ptep)
		return fault_oom(si, addr);
	atomic_fetch_add_explicit(&mm->sys->pgfault, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&mm->min_flt, 1, memory_order_relaxed);
	pte = atomic_load_explicit(ptep, memory_order_acquire);
	if (!(pte & PTE_PRESENT)) {
		if (!v->vm_file)
			return do_anonymous_page(mm, v, ptep, acc, addr, si);
		if (v->vm_flags & VM_SHARED)
			return do_shared_fault(mm, v, ptep, acc, addr, si);
		return do_cow_fault(mm, v, ptep, acc, addr, si);
	}
	if (!(pte & PTE_USER)) {
		/* The VMA allows access again (mprotect): so does the PTE. */
		if (!pte_install(ptep, pte, pte | PTE_USER))
			return 0;
		pte |= PTE_USER;
	}
	if (acc == FAULT_WRITE && !(pte & PTE_WRITE))
		return do_wp_page(mm, v, ptep, pte, addr, si);
	return 0;
}
