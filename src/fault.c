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

#include "fault.h"
#include "frame.h"
#include "fs.h"
#include "hugetlb.h"
#include "lru.h"
#include "mm.h"
#include "oom.h"
#include "pagecache.h"
#include "pgtable.h"
#include "swap.h"
#include "system.h"
#include "tlb.h"
#include "vma.h"
#include "vmscan.h"

/* The fault fails with signal signo, code, at the faulting address. */
static int fault_signal(struct vm_fault *vmf, int signo, int code)
{
	if (vmf->si) {
		vmf->si->signo = signo;
		vmf->si->code = code;
		vmf->si->addr = vmf->address;
	}
	return -EFAULT;
}

/* Out of memory inside a fault: Linux's OOM killer would end the process. */
static int fault_oom(struct vm_fault *vmf)
{
	return fault_signal(vmf, UM_SIGKILL, 0);
}

/* The pid events name for mm (um_set_event_handler). */
static int mm_pid(const struct mm *mm)
{
	return mm->owner ? mm->owner->pid : 0;
}

/* UM_EVENT_COW: the fault at vmf->address copied a frame into pfn. */
static void cow_event(const struct vm_fault *vmf, uint32_t pfn)
{
	sys_event(vmf->mm->sys, UM_EVENT_COW, mm_pid(vmf->mm), vmf->address, pfn, 0, 0);
}

/*
 * UM_EVENT_FAULT_MINOR or _MAJOR for the fault vmf counted, with the frame
 * its address maps now. Out of line: the fault path pays only the test.
 */
static __attribute__((noinline, cold)) void fault_event(struct vm_fault *vmf)
{
	struct mm *mm = vmf->mm;
	_Atomic pte_t *ptep = vmf->pte ? vmf->pte : pgtable_walk(&mm->pt, vmf->address, false);
	pte_t pte = ptep ? atomic_load_explicit(ptep, memory_order_relaxed) : 0;

	sys_event(mm->sys, vmf->major ? UM_EVENT_FAULT_MAJOR : UM_EVENT_FAULT_MINOR, mm_pid(mm),
		  vmf->address, (pte & PTE_PRESENT) ? pte_pfn(pte) : UM_EVENT_NO_PFN, 0, 0);
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

/*
 * A new anonymous frame for the faulting page (zeroed, or a copy of src
 * when src is not NULL), in the reverse map of its VMA's anon_vma.
 */
static uint32_t anon_frame_new(struct vm_fault *vmf, const void *src)
{
	struct mm *mm = vmf->mm;
	struct frame_pool *fp = &mm->sys->fp;
	uint32_t pfn = frame_alloc(fp, src == NULL);
	struct frame *f;

	if (pfn == FRAME_NONE)
		return pfn;
	if (src)
		memcpy(pfn_host(fp, pfn), src, mm->sys->geom.size);
	f = pfn_frame(fp, pfn);
	/*
	 * A MAP_DROPPABLE page is never swap-backed: it sits on the file
	 * lists, and reclaim drops it, written or not (folio_add_new_anon_rmap).
	 */
	atomic_store_explicit(&f->flags,
			      PG_ANON | PG_UPTODATE |
				      (vmf->vma->vm_flags & VM_DROPPABLE ? 0 : PG_SWAPBACKED),
			      memory_order_relaxed);
	atomic_store_explicit(&f->mapcount, 1, memory_order_relaxed);
	anon_frame_set_rmap(mm->sys, pfn, vmf->vma, vmf->address);
	return pfn;
}

/*
 * One mapping of pfn and its reference gone (a COW break, a lost race): a
 * page in the swap cache that nothing maps any more leaves it when no
 * entry refers to it (free_swap_cache), or it would stay there for good.
 */
static void anon_frame_unmapped(struct um_system *sys, uint32_t pfn)
{
	struct frame *f = pfn_frame(&sys->fp, pfn);

	if (atomic_fetch_sub_explicit(&f->mapcount, 1, memory_order_acq_rel) == 1 &&
	    (atomic_load_explicit(&f->flags, memory_order_relaxed) & PG_SWAPCACHE))
		swap_try_free(sys, pfn);
	frame_put(&sys->fp, pfn);
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

static int do_anonymous_page(struct vm_fault *vmf)
{
	struct mm *mm = vmf->mm;
	_Atomic pte_t *ptep = vmf->pte;
	uint32_t pfn;
	pte_t pte;

	if (vmf->acc == FAULT_READ) {
		/* Reads of untouched private memory map the shared zero frame. */
		pte = pfn_pte(ZERO_PFN, PTE_BASE | PTE_SPECIAL);
		pte_install(ptep, 0, pte);
		return 0;
	}
	if (anon_vma_prepare_shared(mm, vmf->vma))
		return fault_oom(vmf);
	pfn = anon_frame_new(vmf, NULL);
	if (pfn == FRAME_NONE)
		return fault_oom(vmf);
	pte = pfn_pte(pfn, PTE_BASE | PTE_WRITE | PTE_DIRTY);
	if (!pte_install(ptep, 0, pte)) {
		anon_frame_drop(mm, pfn);
		return 0; /* another thread got there first: retry */
	}
	lru_add_batched(&mm->sys->lru, &mm->sys->fp, pfn);
	atomic_fetch_add_explicit(&mm->rss[MM_ANONPAGES], 1, memory_order_relaxed);
	return 0;
}

/* The page index in v's file of addr. */
static inline uint64_t linear_index(const struct mm *mm, const struct vma *v, uint64_t addr)
{
	return v->vm_pgoff + pg_count(&mm->sys->geom, addr - v->vm_start);
}

/*
 * The cache frame for a file fault (->fault), or FRAME_NONE with the fault
 * reported in *ret; vmf->major says whether it was read from the file.
 */
static uint32_t fault_page(struct vm_fault *vmf, int *ret)
{
	struct vma *v = vmf->vma;
	int err;
	uint32_t pfn;

	if (v->vm_inode->type == INODE_REG && v->vm_file)
		pfn = pagecache_fault(vmf, &err);
	else
		pfn = pagecache_get(vmf->mm->sys, v->vm_inode, vmf->pgoff, &vmf->major, &err);
	if (pfn == FRAME_NONE)
		/* A read error is SIGBUS, as filemap_fault answers VM_FAULT_SIGBUS. */
		*ret = err == -ENOMEM ? fault_oom(vmf) : fault_signal(vmf, UM_SIGBUS, UM_BUS_ADRERR);
	return pfn;
}

/* Maps cache frame pfn at ptep (one more mapping); false when the PTE changed first. */
static bool map_cache_page(struct mm *mm, struct inode *ino, _Atomic pte_t *ptep, uint32_t pfn,
			   pte_t pte)
{
	struct frame *f = pfn_frame(&mm->sys->fp, pfn);

	atomic_fetch_add_explicit(&f->mapcount, 1, memory_order_relaxed);
	if (!pte_install(ptep, 0, pte)) {
		atomic_fetch_sub_explicit(&f->mapcount, 1, memory_order_relaxed);
		frame_put(&mm->sys->fp, pfn);
		return false;
	}
	atomic_fetch_add_explicit(&mm->rss[ino->shmem ? MM_SHMEMPAGES : MM_FILEPAGES], 1,
				  memory_order_relaxed);
	return true;
}

#define FAULT_AROUND_BYTES 65536

/*
 * Linux 6.18's filemap_map_pages installs a missing page table (through
 * filemap_map_pmd) only when the first folio it finds to map lies wholly
 * before the file's last page, so as not to map across i_size (shmem
 * excepted); otherwise, with no table, it maps nothing. index is that
 * folio's page, eof the file's size in pages.
 */
static bool may_install_table(struct um_system *sys, struct inode *ino, uint32_t pfn,
			      uint64_t index, uint64_t eof)
{
	uint32_t fl = atomic_load_explicit(&pfn_frame(&sys->fp, pfn)->flags, memory_order_relaxed);
	uint64_t nr = 1ULL << pg_order(fl);

	return ino->shmem || (index & ~(nr - 1)) + nr < eof;
}

/*
 * filemap_map_folio_range maps a large folio whole, past the fault-around
 * window, when it lies before the file's last page (shmem: anywhere),
 * inside the VMA and inside one leaf table. pfn is the page of it at file
 * index index, whose PTE is slot slot of the leaf table. Sets [*lo, *hi)
 * to the folio's slots when so.
 */
static void whole_folio(const struct mm *mm, const struct vma *v, uint32_t pfn, uint64_t index,
			uint64_t eof, uint64_t slot, uint64_t *lo, uint64_t *hi)
{
	struct um_system *sys = mm->sys;
	uint32_t fl = atomic_load_explicit(&pfn_frame(&sys->fp, pfn)->flags, memory_order_relaxed);
	uint64_t nr = 1ULL << pg_order(fl), head = index & ~(nr - 1);
	uint64_t vma_pages = pg_count(&sys->geom, v->vm_end - v->vm_start);

	if (nr == 1 || !may_install_table(sys, v->vm_inode, pfn, index, eof) ||
	    head < v->vm_pgoff || head + nr > v->vm_pgoff + vma_pages || slot < index - head ||
	    slot - (index - head) + nr > sys->geom.size / 8)
		return;
	*lo = slot - (index - head);
	*hi = *lo + nr;
}

/*
 * do_fault_around: before a read fault on a file page, map the pages of
 * the surrounding 64 KiB (aligned in the address space, clamped to the
 * VMA, the page table and the end of the file) that are already cached,
 * read-only, as filemap_map_pages does. vmf->pmd_none: this fault found
 * no page table there (cleared once one is installed). Returns true when
 * the faulting page itself got mapped.
 */
static bool do_fault_around(struct vm_fault *vmf)
{
	struct mm *mm = vmf->mm;
	struct vma *v = vmf->vma;
	struct um_system *sys = mm->sys;
	struct inode *ino = v->vm_inode;
	uint64_t addr = vmf->address;
	uint64_t nr = pg_count(&sys->geom, FAULT_AROUND_BYTES), ptes = sys->geom.size / 8;
	uint64_t pte_off = pg_count(&sys->geom, addr) & (ptes - 1);
	uint64_t vma_off = pg_count(&sys->geom, addr - v->vm_start);
	uint64_t vma_pages = pg_count(&sys->geom, v->vm_end - v->vm_start);
	uint64_t from, to, eof, pgoff = vmf->pgoff;
	_Atomic pte_t *base;
	uint32_t found = 0;
	bool mapped_self = false;
	/* With the VMA's page protection: writable only for shared writable shmem. */
	pte_t bits = PTE_BASE | (ino->shmem && (v->vm_flags & VM_SHARED) && (v->vm_flags & VM_WRITE)
					 ? PTE_WRITE
					 : 0);

	if (nr <= 1)
		return false;
	from = pte_off & ~(nr - 1);
	if (from < pte_off - (pte_off < vma_off ? pte_off : vma_off))
		from = pte_off - (pte_off < vma_off ? pte_off : vma_off);
	to = from + nr;
	if (to > ptes)
		to = ptes;
	if (to > pte_off + vma_pages - vma_off)
		to = pte_off + vma_pages - vma_off;
	eof = pg_count_up(&sys->geom, inode_size(ino));
	pthread_mutex_lock(&ino->lock);
	if (vmf->pmd_none) {
		uint64_t i;
		uint32_t pfn = FRAME_NONE;

		for (i = from; i < to && pgoff + i - pte_off < eof; i++) {
			pfn = pagecache_lookup_locked(ino, pgoff + i - pte_off);
			if (pfn != FRAME_NONE && pagecache_mappable(sys, pfn))
				break;
		}
		if (i == to || pgoff + i - pte_off >= eof ||
		    !may_install_table(sys, ino, pfn, pgoff + i - pte_off, eof)) {
			pthread_mutex_unlock(&ino->lock);
			return false;
		}
		vmf->pmd_none = false;
	}
	base = pgtable_walk(&mm->pt, addr, true);
	if (!base) {
		pthread_mutex_unlock(&ino->lock);
		return false;
	}
	base -= pte_off;
	for (uint64_t i = from; i < to; i++) {
		uint64_t index = pgoff + i - pte_off, lo = i, hi = i + 1;
		uint32_t pfn;

		if (index >= eof)
			break;
		pfn = pagecache_lookup_locked(ino, index);
		/*
		 * A folio marked for read-ahead waits for the fault that starts
		 * it; one not uptodate for the fault that reads it.
		 */
		if (pfn == FRAME_NONE || !pagecache_mappable(sys, pfn))
			continue;
		whole_folio(mm, v, pfn, index, eof, i, &lo, &hi);
		for (uint64_t j = lo; j < hi; j++) {
			uint32_t p = j == i ? pfn : pagecache_lookup_locked(ino, pgoff + j - pte_off);

			if (p == FRAME_NONE || !pagecache_mappable(sys, p))
				continue;
			found++;
			if (atomic_load_explicit(&base[j], memory_order_relaxed))
				continue;
			atomic_fetch_add_explicit(&pfn_frame(&sys->fp, p)->refcount, 1,
						  memory_order_relaxed);
			if (map_cache_page(mm, ino, &base[j], p, pfn_pte(p, bits)) && j == pte_off)
				mapped_self = true;
		}
		if (hi > i + 1)
			i = hi - 1;
	}
	/* Pages found cached, mapped or not, are hits: they pay back the misses of read-around. */
	if (v->vm_file) {
		struct file_ra_state *ra = &v->vm_file->f_ra;

		ra->mmap_miss = ra->mmap_miss > found ? ra->mmap_miss - found : 0;
	}
	pthread_mutex_unlock(&ino->lock);
	return mapped_self;
}

/*
 * A fault on a not-present page of a file or shmem VMA (do_read_fault,
 * do_cow_fault, do_shared_fault). Regular files are mapped read-only on a
 * read even when shared and writable, so the first write faults and
 * dirties the page (writenotify); shmem pages are mapped writable at once.
 */
static int do_file_fault(struct vm_fault *vmf)
{
	struct mm *mm = vmf->mm;
	struct vma *v = vmf->vma;
	struct frame_pool *fp = &mm->sys->fp;
	struct inode *ino = v->vm_inode;
	_Atomic pte_t *ptep = vmf->pte;
	enum fault_access acc = vmf->acc;
	bool shared = v->vm_flags & VM_SHARED;
	uint32_t pfn, copy;
	pte_t pte;
	int ret = 0;

	if (acc == FAULT_READ && do_fault_around(vmf))
		return 0;
	pfn = fault_page(vmf, &ret);
	if (pfn == FRAME_NONE)
		return ret;
	if (acc == FAULT_READ && vmf->major) {
		/*
		 * Linux drops the mmap lock for the read and retries the fault
		 * (FAULT_FLAG_TRIED), and the retry maps the whole fault-around
		 * window, now cached.
		 */
		frame_put(fp, pfn);
		if (do_fault_around(vmf))
			return 0;
		vmf->tried = true;
		pfn = fault_page(vmf, &ret);
		vmf->major = true;
		if (pfn == FRAME_NONE)
			return ret;
	}
	if (acc == FAULT_READ || shared) {
		pte = pfn_pte(pfn, PTE_BASE);
		if (shared && (v->vm_flags & VM_WRITE) && (acc == FAULT_WRITE || ino->shmem))
			pte |= PTE_WRITE | (acc == FAULT_WRITE ? PTE_DIRTY : 0);
		if (map_cache_page(mm, ino, ptep, pfn, pte) && acc == FAULT_WRITE)
			vmf->dirtied = page_mark_dirty(mm->sys, ino, pfn);
		return 0;
	}
	/* A private write: a copy of the file page (do_cow_fault). */
	if (anon_vma_prepare_shared(mm, v)) {
		frame_put(fp, pfn);
		return fault_oom(vmf);
	}
	copy = anon_frame_new(vmf, pfn_host(fp, pfn));
	frame_put(fp, pfn);
	if (copy == FRAME_NONE)
		return fault_oom(vmf);
	pte = pfn_pte(copy, PTE_BASE | PTE_WRITE | PTE_DIRTY);
	if (!pte_install(ptep, 0, pte)) {
		anon_frame_drop(mm, copy);
		return 0;
	}
	lru_add_batched(&mm->sys->lru, fp, copy);
	atomic_fetch_add_explicit(&mm->rss[MM_ANONPAGES], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&mm->sys->cow_copies, 1, memory_order_relaxed);
	if (sys_events_on(mm->sys))
		cow_event(vmf, copy);
	return 0;
}

/* A write to a present, read-only PTE in a writable VMA. */
static int do_wp_page(struct vm_fault *vmf)
{
	struct mm *mm = vmf->mm;
	struct vma *v = vmf->vma;
	_Atomic pte_t *ptep = vmf->pte;
	pte_t old = vmf->orig_pte;
	struct frame_pool *fp = &mm->sys->fp;
	uint32_t pfn = pte_pfn(old), copy;
	struct frame *f = pfn_frame(fp, pfn);
	uint32_t flags;
	int counter;

	if (v->vm_flags & VM_SHARED) {
		/* A shared VMA's page is a file's or shmem's: its owner is the inode. */
		if (pte_install(ptep, old, old | PTE_WRITE | PTE_DIRTY))
			vmf->dirtied = page_mark_dirty(mm->sys, f->owner, pfn);
		return 0;
	}
	flags = (old & PTE_SPECIAL) ? 0 : atomic_load_explicit(&f->flags, memory_order_relaxed);
	/*
	 * wp_can_reuse_anon_folio: a page still in the swap cache that no
	 * other entry refers to leaves it (folio_free_swap), so that a page
	 * mapped once can be reused.
	 */
	if ((flags & PG_SWAPCACHE) && atomic_load(&f->mapcount) == 1)
		swap_try_free(mm->sys, pfn);
	/*
	 * Ours alone: no other PTE and no cache holds the frame. The mm lock
	 * is held shared, so no fork can add a sharer meanwhile.
	 */
	if ((flags & PG_ANON) && atomic_load_explicit(&f->refcount, memory_order_acquire) == 1) {
		pte_install(ptep, old, old | PTE_WRITE | PTE_DIRTY);
		return 0;
	}
	if (anon_vma_prepare_shared(mm, v))
		return fault_oom(vmf);
	copy = anon_frame_new(vmf, (old & PTE_SPECIAL) ? NULL : pfn_host(fp, pfn));
	if (copy == FRAME_NONE)
		return fault_oom(vmf);
	if (!pte_install(ptep, old, pfn_pte(copy, PTE_BASE | PTE_WRITE | PTE_DIRTY))) {
		anon_frame_drop(mm, copy);
		return 0;
	}
	lru_add_batched(&mm->sys->lru, fp, copy);
	/* Other threads may hold the old frame in their TLBs. */
	mm_tlb_flush_page(mm, vmf->address);
	atomic_fetch_add_explicit(&mm->rss[MM_ANONPAGES], 1, memory_order_relaxed);
	if (old & PTE_SPECIAL)
		return 0;
	counter = frame_mm_counter(flags);
	atomic_fetch_sub_explicit(&mm->rss[counter], 1, memory_order_relaxed);
	anon_frame_unmapped(mm->sys, pfn);
	atomic_fetch_add_explicit(&mm->sys->cow_copies, 1, memory_order_relaxed);
	if (sys_events_on(mm->sys))
		cow_event(vmf, copy);
	return 0;
}

/* Is the faulting page of the file or shmem object wholly past its end? */
static bool past_eof(const struct vm_fault *vmf)
{
	const struct um_system *sys = vmf->mm->sys;

	return vmf->pgoff >= pg_count_up(&sys->geom, inode_size(vmf->vma->vm_inode));
}

/*
 * A fault on a page past the end of the file: SIGBUS, as ->fault answers.
 * A read fault goes through do_read_fault, which maps the cached pages
 * around first (fault-around stops at EOF, so never the page itself); a
 * private write through do_cow_fault, which makes the anon_vma first.
 */
static int fault_past_eof(struct vm_fault *vmf)
{
	if (vmf->acc == FAULT_READ)
		do_fault_around(vmf);
	/*
	 * A private write goes through do_cow_fault, which prepares the
	 * anon_vma before ->fault answers: it stays (fork copies the PTEs).
	 */
	else if (!(vmf->vma->vm_flags & VM_SHARED) && anon_vma_prepare_shared(vmf->mm, vmf->vma))
		return fault_oom(vmf);
	return fault_signal(vmf, UM_SIGBUS, UM_BUS_ADRERR);
}

/*
 * The fault proper (handle_pte_fault), with the VMA checked and the file's
 * invalidate_lock held when it has a file. vmf->pte: the address's slot,
 * when its page table exists; else the table is made here, as the fault
 * will map a page there (a fault that ends in SIGBUS past EOF makes none).
 */
/*
 * do_swap_page: the PTE holds a swap entry. The page comes from the swap
 * cache (a minor fault) or is read from the swap file with its neighbours
 * (a major one; a read error is SIGBUS BUS_ADRERR, as Linux's
 * VM_FAULT_SIGBUS for a folio that is not uptodate), and is mapped
 * read-only in place of the entry, whose reference the PTE gives up. A
 * write then goes through do_wp_page, which takes the page out of the
 * swap cache and reuses it when nothing else refers to it, else copies.
 */
static int do_swap_page(struct vm_fault *vmf)
{
	struct mm *mm = vmf->mm;
	struct um_system *sys = mm->sys;
	uint64_t entry = pte_to_swp_entry(vmf->orig_pte);
	bool major;
	int err;
	uint32_t pfn = swapin(sys, entry, &major, &err);
	struct frame *f;
	pte_t pte;

	if (pfn == FRAME_NONE) {
		if (err == -EAGAIN)
			return 0; /* the entry went meanwhile: look again */
		if (err == -ENOMEM)
			return fault_oom(vmf);
		return fault_signal(vmf, UM_SIGBUS, UM_BUS_ADRERR);
	}
	vmf->major = major;
	f = pfn_frame(&sys->fp, pfn);
	/* A page read ahead, never mapped, is not in the reverse map yet. */
	if (!__atomic_load_n(&f->owner, __ATOMIC_ACQUIRE))
		anon_frame_set_rmap(sys, pfn, vmf->vma, vmf->address);
	pte = pfn_pte(pfn, PTE_BASE);
	atomic_fetch_add(&f->mapcount, 1);
	if (!pte_install(vmf->pte, vmf->orig_pte, pte)) {
		anon_frame_unmapped(sys, pfn);
		return 0;
	}
	atomic_fetch_sub_explicit(&mm->rss[MM_SWAPENTS], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&mm->rss[MM_ANONPAGES], 1, memory_order_relaxed);
	swap_put(sys, entry);
	if (vmf->acc != FAULT_WRITE || !(vmf->vma->vm_flags & VM_WRITE))
		return 0;
	vmf->orig_pte = pte;
	return do_wp_page(vmf);
}

static int fault_locked(struct vm_fault *vmf)
{
	struct vma *v = vmf->vma;
	pte_t pte;

	if (!vmf->pte)
		vmf->pte = pgtable_walk(&vmf->mm->pt, vmf->address, true);
	if (!vmf->pte)
		return fault_oom(vmf);
	pte = atomic_load_explicit(vmf->pte, memory_order_acquire);
	vmf->orig_pte = pte;
	if (pte_is_swap(pte))
		return do_swap_page(vmf);
	if (!(pte & PTE_PRESENT)) {
		if (!v->vm_inode || v->vm_inode->type == INODE_ZERO)
			return do_anonymous_page(vmf);
		return do_file_fault(vmf);
	}
	if (!(pte & PTE_USER)) {
		/* The VMA allows access again (mprotect): so does the PTE. */
		if (!pte_install(vmf->pte, pte, pte | PTE_USER))
			return 0;
		vmf->orig_pte = pte | PTE_USER;
	}
	if (vmf->acc == FAULT_WRITE && !(vmf->orig_pte & PTE_WRITE))
		return do_wp_page(vmf);
	return 0;
}

#define STACK_GUARD_GAP_PAGES 256

int expand_stack(struct mm *mm, uint64_t addr)
{
	struct um_system *sys = mm->sys;
	struct vma *v = vma_find(&mm->vmas, addr), *prev;
	uint64_t gap = pg_bytes(&sys->geom, STACK_GUARD_GAP_PAGES), grow;

	addr = page_align_down(&sys->geom, addr);
	if (!v || !(v->vm_flags & VM_GROWSDOWN) || addr >= v->vm_start)
		return v && addr >= v->vm_start ? 0 : -EFAULT;
	if (addr < sys->cfg.mmap_min_addr)
		return -EPERM;
	/* The guard gap above an accessible mapping that is not itself a stack. */
	prev = v->prev;
	if (prev && !(prev->vm_flags & VM_GROWSDOWN) && (prev->vm_flags & VM_ACCESS_FLAGS) &&
	    (addr < prev->vm_end || addr - prev->vm_end < gap))
		return -ENOMEM;
	/* expand_downwards gives the stack its anon_vma first, even when growth then fails. */
	if (anon_vma_prepare(mm, v))
		return -ENOMEM;
	grow = pg_count(&sys->geom, v->vm_start - addr);
	/*
	 * acct_stack_growth: RLIMIT_AS (a stack is no data mapping), the
	 * stack's whole size against RLIMIT_STACK, RLIMIT_MEMLOCK, the commit.
	 */
	if (!may_expand_vm(mm, v->vm_flags, grow))
		return -ENOMEM;
	if (v->vm_end - addr > rlimit(mm, UM_RLIMIT_STACK))
		return -ENOMEM;
	if (!mlock_future_ok(mm, v->vm_flags, pg_bytes(&sys->geom, grow)))
		return -ENOMEM;
	if ((v->vm_flags & VM_ACCOUNT) && vm_enough_memory(mm, grow))
		return -ENOMEM;
	vma_bounds_lock(v);
	v->vm_start = addr;
	v->vm_pgoff -= grow;
	vma_bounds_unlock(v);
	vma_bounds_changed(&mm->vmas, v);
	vm_stat_account(mm, v->vm_flags, (int64_t)grow);
	if (v->vm_flags & VM_LOCKED)
		mm->locked_vm += grow;
	return 0;
}

/*
 * Linux maps the vDSO (vvar, vdso) just above the top of the mmap area at
 * exec, and a process's first use of it fills its page table: the leaf
 * table over the top of the mmap area is there from the start (fork copies
 * it), though the library maps nothing above the top.
 */
static bool vdso_table(const struct mm *mm, uint64_t addr)
{
	uint64_t span = pgtable_leaf_span(&mm->pt);

	return addr < mm->mmap_base && (mm->mmap_base & (span - 1)) &&
	       (addr & ~(span - 1)) == (mm->mmap_base & ~(span - 1));
}

int handle_mm_fault(struct mm *mm, uint64_t addr, enum fault_access acc, struct um_siginfo *si)
{
	return handle_mm_fault_pte(mm, addr, acc, si, NULL);
}

static int do_handle_mm_fault(struct mm *mm, uint64_t addr, enum fault_access acc,
			      struct um_siginfo *si, _Atomic pte_t **ptep_out)
{
	struct vm_fault vmf = {
		.mm = mm,
		.vma = vma_lookup(&mm->vmas, addr),
		.address = addr,
		.acc = acc,
		.si = si,
	};
	struct vma *v = vmf.vma;
	struct inode *ino;
	int ret;

	if (!v) {
		struct vma *above = vma_find(&mm->vmas, addr);

		fault_signal(&vmf, UM_SIGSEGV, UM_SEGV_MAPERR);
		/* Below a MAP_GROWSDOWN VMA: the caller may expand it (write lock). */
		return above && (above->vm_flags & VM_GROWSDOWN) ? -EAGAIN : -EFAULT;
	}
	if (!vma_access_ok(v, acc))
		return fault_signal(&vmf, UM_SIGSEGV, UM_SEGV_ACCERR);
	vmf.pgoff = linear_index(mm, v, addr);
	if (v->vm_flags & VM_HUGETLB) {
		atomic_fetch_add_explicit(&mm->sys->pgfault, 1, memory_order_relaxed);
		ret = hugetlb_fault(&vmf);
		/* No huge page to give: SIGBUS (VM_FAULT_SIGBUS from -ENOSPC). */
		if (ret == -ENOSPC)
			return fault_signal(&vmf, UM_SIGBUS, UM_BUS_ADRERR);
		if (ret)
			return fault_oom(&vmf);
		atomic_fetch_add_explicit(&mm->min_flt, 1, memory_order_relaxed);
		if (ptep_out)
			*ptep_out = pgtable_walk(&mm->pt, addr, false);
		if (sys_events_on(mm->sys))
			fault_event(&vmf);
		return 0;
	}
	/* kswapd's step or direct reclaim, before the file's locks: they take inode locks. */
	vmscan_prepare_alloc(mm->sys);
	vmf.pte = pgtable_walk(&mm->pt, addr, false);
	vmf.pmd_none = !vmf.pte && !vdso_table(mm, addr);
	/* A guard region: as if nothing were mapped there (see guard.c). */
	if (vmf.pte && atomic_load_explicit(vmf.pte, memory_order_relaxed) == PTE_GUARD) {
		if (ptep_out)
			*ptep_out = vmf.pte;
		return fault_signal(&vmf, UM_SIGSEGV, UM_SEGV_MAPERR);
	}
	atomic_fetch_add_explicit(&mm->sys->pgfault, 1, memory_order_relaxed);
	ino = v->vm_inode && v->vm_inode->type == INODE_REG ? v->vm_inode : NULL;
	if (v->vm_inode && v->vm_inode->type == INODE_SHMEM && past_eof(&vmf)) {
		/* Past the shmem object (a grown or offset shared mapping), as shmem_fault. */
		ret = fault_past_eof(&vmf);
	} else if (!ino) {
		ret = fault_locked(&vmf);
	} else {
		/* Size and cache stay put while the page is mapped (truncate waits). */
		pthread_rwlock_rdlock(&ino->invalidate_lock);
		ret = past_eof(&vmf) ? fault_past_eof(&vmf) : fault_locked(&vmf);
		pthread_rwlock_unlock(&ino->invalidate_lock);
	}
	/* fault_dirty_shared_page: the file's locks are dropped, the writer may be throttled. */
	if (vmf.dirtied)
		balance_dirty_pages_ratelimited(mm->sys);
	if (ptep_out)
		*ptep_out = vmf.pte;
	if (vmf.major) {
		atomic_fetch_add_explicit(&mm->maj_flt, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&mm->sys->pgmajfault, 1, memory_order_relaxed);
	} else {
		atomic_fetch_add_explicit(&mm->min_flt, 1, memory_order_relaxed);
	}
	if (sys_events_on(mm->sys))
		fault_event(&vmf);
	return ret;
}

/*
 * A fault that found no frame (SIGKILL) runs reclaim again, then the OOM
 * killer (oom_kill.c), and retries while either gave memory back; it ends
 * in SIGKILL when this process is the victim or nothing can go. A killed
 * process's faults fail at once: it gains no page.
 */
int handle_mm_fault_pte(struct mm *mm, uint64_t addr, enum fault_access acc,
			struct um_siginfo *si, _Atomic pte_t **ptep_out)
{
	struct um_siginfo own;
	struct um_siginfo *s = si ? si : &own;
	int ret, passes = 0;

	for (;;) {
		if (atomic_load_explicit(&mm->oom_killed, memory_order_relaxed)) {
			s->signo = UM_SIGKILL;
			s->code = 0;
			s->addr = addr;
			return -EFAULT;
		}
		s->signo = 0;
		ret = do_handle_mm_fault(mm, addr, acc, s, ptep_out);
		if (ret != -EFAULT || s->signo != UM_SIGKILL)
			return ret;
		if (!alloc_retry(mm->sys, mm, &passes))
			return ret;
	}
}
