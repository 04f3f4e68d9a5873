/*
 * vmscan.c: page reclaim (mm/vmscan.c), for page-cache pages of regular
 * files and lazily freeable (MADV_FREE) anonymous pages, which sit on the
 * file lists and are judged and unmapped through the anonymous reverse
 * map (rmap.c). Other anonymous and shmem pages need swap: they wait on
 * the anon lists, which nothing scans yet.
 *
 * Policy, as Linux 6.x for the file LRU (lru.c holds the lists):
 *   - Reclaim scans the inactive list from its tail (the oldest) in
 *     batches of SWAP_CLUSTER_MAX, and first ages the active list into the
 *     inactive one whenever that is the smaller (inactive_is_low: the
 *     inactive_ratio is 1 below 1 GiB, every machine the library makes).
 *   - folio_check_references decides each page: a page some PTE maps
 *     young (PTE_ACCESSED, cleared as it is read) is kept for another round
 *     with PG_REFERENCED set, and activated when it was referenced before,
 *     mapped young twice, or mapped executable; an unmapped page referenced
 *     by read(2)/write(2) (mark_page_accessed) goes if it is clean; any
 *     other goes. A page mapped by a VM_LOCKED VMA goes to the unevictable
 *     list, and back to the inactive one when reclaim finds it no longer
 *     locked (Linux moves it at munlock; the library at the next reclaim).
 *   - A dirty page is written back first (writeback_range: page_mkclean,
 *     pwrite), then dropped in the same pass (Linux's kswapd writes it and
 *     frees it when the write ends).
 *   - Dropping (try_to_unmap, __remove_mapping): under the inode's lock,
 *     every PTE that maps the page is cleared through i_mmap (its dirty bit
 *     moved to the page, RSS, map count and reference fixed, the mm's TLBs
 *     shot down); then the reference count is frozen from "the cache and
 *     us" to 0, which fails when anyone else holds the page (a fault about
 *     to map it, a read(2) copying it), and the page leaves the cache.
 *
 * Watermarks (__setup_per_zone_wmarks from calculate_min_free_kbytes):
 * min_free_kbytes = sqrt(16 * managed kB), Linux's formula without its
 * 128 kB floor, and at most 1/32 of the machine (a 16 MiB machine: 512 kB,
 * 128 pages; 64 MiB: 1 MiB); low = min + delta, high = min + 2 * delta,
 * delta = max(min / 4, managed * watermark_scale_factor (10) / 10000).
 * kswapd without a thread (wakeup_kswapd, balance_pgdat): an allocation
 * that leaves fewer than low free frames wakes kswapd (frame_alloc sets
 * fp.kswapd_woken); the next allocation batch (the top of a fault, of a
 * read(2) batch, of a write(2) page) that finds it woken runs the kswapd
 * step synchronously, before anything else: it reclaims, counted as
 * kswapd's (pgscan_kswapd, pgsteal_kswapd; one pageoutrun per step), until
 * the free frames reach high. Then, free frames still below min (kswapd
 * could not keep up, or many frames went within one batch) make the batch
 * reclaim directly up to high (pgscan_direct, pgsteal_direct), and so does
 * an allocation that finds no frame (alloc_retry). Allocations may still go
 * down to the last frame, and a fault out of frames is SIGKILL as before.
 * An embedder may run the step itself (um_kswapd_run).
 *
 * Locks: reclaim is entered holding no inode lock (vmscan_prepare_alloc's
 * callers: the top of a fault, under the mm lock shared; read(2) between
 * batches, write(2) between pages) and takes, per page: the inode's
 * i_mmap_lock alone to read the accessed bits; the invalidate_lock
 * exclusive (through writeback_range) for a dirty page; the inode's lock
 * by trylock, then its i_mmap_lock, to drop it. The lru_lock is taken
 * alone, to isolate a page and to put it back.
 */
#include <errno.h>

#include "frame.h"
#include "fs.h"
#include "lru.h"
#include "mm.h"
#include "pagecache.h"
#include "pgtable.h"
#include "swap.h"
#include "system.h"
#include "tlb.h"
#include "vma.h"
#include "vmscan.h"

#define SWAP_CLUSTER_MAX 32
#define SWAPPINESS 60
#define WATERMARK_SCALE_FACTOR 10
#define MAX_RECLAIM_RETRIES 16

struct scan_control {
	uint64_t nr_to_reclaim;
	uint64_t nr_reclaimed;
	uint64_t nr_scanned;	/* pages of every list looked at */
	uint64_t nr_active;	/* of the active lists (pgrefill) */
	uint64_t nr_inactive[2];	/* of the inactive lists, anon and file (pgscan_*) */
	uint64_t nr_freed[2];	/* reclaimed from them (pgsteal_*) */
	int reclaimer;		/* RECLAIM_KSWAPD, _DIRECT or _PROACTIVE */
};

/* What shrink_page asks done with a page: a list, or it is gone. */
#define PAGE_GONE (-1)	  /* left the cache under us: only our reference is left */
#define PAGE_FREED (-2)	  /* reclaimed */

static uint64_t int_sqrt(uint64_t x)
{
	uint64_t r = 0;

	while ((r + 1) * (r + 1) <= x)
		r++;
	return r;
}

void vmscan_init(struct um_system *sys)
{
	struct lruvec *lv = &sys->lru;
	uint64_t managed = sys->fp.limit, kb = pg_bytes(&sys->geom, managed) >> 10;
	uint64_t min = pg_count(&sys->geom, int_sqrt(kb * 16) << 10), delta;

	if (min > managed / 32)
		min = managed / 32;
	delta = managed * WATERMARK_SCALE_FACTOR / 10000;
	if (delta < min / 4)
		delta = min / 4;
	lv->wmark_min = min;
	lv->wmark_low = min + delta;
	lv->wmark_high = min + 2 * delta;
	sys->fp.wmark_low = lv->wmark_low;
}

struct rmap_result {
	int young;		/* PTEs found with PTE_ACCESSED (now cleared) */
	bool locked;		/* mapped by a VM_LOCKED VMA */
	bool clear;		/* clear the accessed bits found */
	uint64_t vm_flags;	/* of the VMAs that mapped it young */
};

/* An rmap walk that unmaps a page: lazyfree_one, swapout_one. */
struct lazyfree_walk {
	struct frame *f;
	uint32_t pfn;
	int result;		/* PAGE_FREED while every PTE so far was cleared, else a list */
	struct um_system *sys;
	uint64_t entry;		/* swapout_one: the page's swap entry */
};

/* The address of page index of v's file, or 0 when v does not cover it. */
static uint64_t vma_address(struct um_system *sys, const struct vma *v, uint64_t index)
{
	uint64_t pages = pg_count(&sys->geom, v->vm_end - v->vm_start);

	if (index < v->vm_pgoff || index >= v->vm_pgoff + pages)
		return 0;
	return v->vm_start + pg_bytes(&sys->geom, index - v->vm_pgoff);
}

/*
 * folio_referenced for the page pfn at index of ino: counts and clears the
 * young PTEs that map it, and whether a VM_LOCKED VMA maps it. A cleared
 * bit invalidates the mm's TLBs (as arm64's ptep_clear_flush_young; x86
 * skips the flush and counts on its TLB's turnover, which the library's
 * TLB, kept until a shootdown, does not have), so that the next access
 * loads the translation again and sets the bit. Takes i_mmap_lock.
 */
static void page_referenced(struct um_system *sys, struct inode *ino, uint64_t index,
			    uint32_t pfn, bool clear, struct rmap_result *rr)
{
	rr->young = 0;
	rr->locked = false;
	rr->vm_flags = 0;
	pthread_mutex_lock(&ino->i_mmap_lock);
	for (struct vma *v = ino->i_mmap; v; v = v->i_mmap_next) {
		uint64_t addr = vma_address(sys, v, index);
		_Atomic pte_t *ptep = addr ? pgtable_walk(&v->vm_mm->pt, addr, false) : NULL;
		pte_t pte = ptep ? atomic_load(ptep) : 0;

		if (!(pte & PTE_PRESENT) || pte_pfn(pte) != pfn)
			continue;
		if (v->vm_flags & VM_LOCKED)
			rr->locked = true;
		if (!(pte & PTE_ACCESSED))
			continue;
		rr->young++;
		rr->vm_flags |= v->vm_flags;
		if (!clear)
			continue;
		while ((pte & PTE_ACCESSED) &&
		       !atomic_compare_exchange_weak(ptep, &pte, pte & ~PTE_ACCESSED))
			;
		/* The mm's threads drop their TLBs: their next access sets the bit again. */
		mm_tlb_flush(v->vm_mm);
	}
	pthread_mutex_unlock(&ino->i_mmap_lock);
}

/* folio_referenced's rmap_one for an anonymous page: as page_referenced's loop. */
static bool referenced_one(struct vma *v, uint64_t addr, _Atomic pte_t *ptep, void *arg)
{
	struct rmap_result *rr = arg;
	pte_t pte = atomic_load(ptep);

	(void)addr;
	if (v->vm_flags & VM_LOCKED)
		rr->locked = true;
	if (!(pte & PTE_ACCESSED))
		return true;
	rr->young++;
	rr->vm_flags |= v->vm_flags;
	if (!rr->clear)
		return true;
	while ((pte & PTE_ACCESSED) &&
	       !atomic_compare_exchange_weak(ptep, &pte, pte & ~PTE_ACCESSED))
		;
	mm_tlb_flush(v->vm_mm); /* as page_referenced */
	return true;
}

/* page_referenced for a page found by the anonymous reverse map (ino NULL). */
static void any_referenced(struct um_system *sys, struct inode *ino, uint64_t index,
			   uint32_t pfn, bool clear, struct rmap_result *rr)
{
	if (ino) {
		page_referenced(sys, ino, index, pfn, clear, rr);
		return;
	}
	*rr = (struct rmap_result){ .clear = clear };
	rmap_walk_anon(sys, pfn, referenced_one, rr);
}

/*
 * try_to_unmap_one for a lazily freeable page: a PTE found dirty (or the
 * page dirty) makes it swap-backed again and stops the walk, as does a
 * VM_LOCKED VMA or a reference beyond the mappings' and ours (a pin);
 * otherwise the PTE is cleared, the page discarded from that mm.
 */
/*
 * Whether an unmapping walk must stop at a PTE of v: a VM_LOCKED VMA
 * (unevictable), or a reference beyond the mappings' and the held ones (a
 * pin: the page goes back on list pinned).
 */
static bool unmap_refused(const struct vma *v, struct lazyfree_walk *lw, int32_t held, int pinned)
{
	if (v->vm_flags & VM_LOCKED)
		lw->result = LRU_UNEVICTABLE;
	else if (atomic_load(&lw->f->refcount) != atomic_load(&lw->f->mapcount) + held)
		lw->result = pinned;
	else
		return false;
	return true;
}

static bool lazyfree_one(struct vma *v, uint64_t addr, _Atomic pte_t *ptep, void *arg)
{
	struct lazyfree_walk *lw = arg;
	struct frame *f = lw->f;
	pte_t pte = atomic_load(ptep);

	(void)addr;
	for (;;) {
		if (unmap_refused(v, lw, 1, LRU_INACTIVE_FILE))
			return false;
		/* A MAP_DROPPABLE page goes written or not (try_to_unmap_one). */
		if (!(v->vm_flags & VM_DROPPABLE) &&
		    ((pte & PTE_DIRTY) || (atomic_load(&f->flags) & PG_DIRTY))) {
			lw->result = LRU_ACTIVE_ANON;
			return false;
		}
		if (atomic_compare_exchange_weak(ptep, &pte, 0))
			break;
		if (!(pte & PTE_PRESENT) || pte_pfn(pte) != lw->pfn)
			return true;
	}
	mm_tlb_sync(v->vm_mm);
	atomic_fetch_sub(&v->vm_mm->rss[MM_ANONPAGES], 1);
	atomic_fetch_sub(&f->mapcount, 1);
	atomic_fetch_sub(&f->refcount, 1); /* never the last: reclaim holds one */
	return true;
}

/*
 * The lazyfree case of shrink_folio_list for an isolated anonymous page
 * not swap-backed (we hold a reference): discarded from every mapping
 * while clean and unpinned (PAGE_FREED, our reference gone with it);
 * written again, it is swap-backed again and activated.
 */
static int drop_lazyfree(struct um_system *sys, uint32_t pfn)
{
	struct lazyfree_walk lw = { pfn_frame(&sys->fp, pfn), pfn, PAGE_FREED, sys, 0 };

	rmap_walk_anon(sys, pfn, lazyfree_one, &lw);
	if (lw.result == LRU_ACTIVE_ANON)
		atomic_fetch_or(&lw.f->flags, PG_SWAPBACKED);
	if (lw.result != PAGE_FREED)
		return lw.result;
	if (atomic_load(&lw.f->mapcount))
		return LRU_INACTIVE_FILE; /* mapped again meanwhile */
	frame_put(&sys->fp, pfn);
	return PAGE_FREED;
}

/*
 * try_to_unmap: clears every PTE that maps pfn at index of ino, moving a
 * dirty bit to the page. False, with nothing unmapped there, when a
 * VM_LOCKED VMA maps it. inode->lock held; takes i_mmap_lock.
 */
static bool page_unmap(struct um_system *sys, struct inode *ino, uint64_t index, uint32_t pfn)
{
	struct frame *f = pfn_frame(&sys->fp, pfn);
	bool ok = true;

	pthread_mutex_lock(&ino->i_mmap_lock);
	for (struct vma *v = ino->i_mmap; v && ok; v = v->i_mmap_next) {
		uint64_t addr = vma_address(sys, v, index);
		_Atomic pte_t *ptep = addr ? pgtable_walk(&v->vm_mm->pt, addr, false) : NULL;
		pte_t pte = ptep ? atomic_load(ptep) : 0;

		while ((pte & PTE_PRESENT) && pte_pfn(pte) == pfn) {
			if (v->vm_flags & VM_LOCKED) {
				ok = false;
				break;
			}
			if (!atomic_compare_exchange_weak(ptep, &pte, 0))
				continue;
			if (pte & PTE_DIRTY)
				page_mark_dirty(sys, ino, pfn);
			mm_tlb_sync(v->vm_mm);
			atomic_fetch_sub(&v->vm_mm->rss[frame_mm_counter(atomic_load(&f->flags))],
					 1);
			atomic_fetch_sub(&f->mapcount, 1);
			atomic_fetch_sub(&f->refcount, 1); /* never the last: the cache holds one */
			break;
		}
	}
	pthread_mutex_unlock(&ino->i_mmap_lock);
	return ok;
}

static bool page_dirty(struct frame *f)
{
	return atomic_load(&f->flags) & PG_DIRTY;
}

static int drop_page(struct um_system *sys, struct inode *ino, uint64_t index, uint32_t pfn,
		     int dirty_list);

/* What folio_check_references answers for a page reclaim may take (FOLIOREF_RECLAIM). */
#define PAGE_RECLAIM (-3)

/*
 * folio_check_references for an isolated page of list inactive (ino NULL:
 * an anonymous page): mapped by a VM_LOCKED VMA → unevictable; mapped
 * young (the accessed bits read and cleared) → kept with PG_REFERENCED,
 * activated when it was referenced before, mapped young twice, or an
 * executable file page; else PAGE_RECLAIM. *referenced: PG_REFERENCED as
 * it was. With check_refs false (MADV_PAGEOUT) young mappings do not count.
 */
static int check_references(struct um_system *sys, struct inode *ino, uint64_t index,
			    uint32_t pfn, enum lru_list inactive, bool check_refs, bool *referenced)
{
	struct frame *f = pfn_frame(&sys->fp, pfn);
	struct rmap_result rr;

	any_referenced(sys, ino, index, pfn, check_refs, &rr);
	if (rr.locked)
		return LRU_UNEVICTABLE;
	*referenced = atomic_fetch_and(&f->flags, ~(uint32_t)PG_REFERENCED) & PG_REFERENCED;
	if (!check_refs || !rr.young)
		return PAGE_RECLAIM;
	atomic_fetch_or(&f->flags, PG_REFERENCED);
	if (*referenced || rr.young > 1 ||
	    (inactive == LRU_INACTIVE_FILE && (rr.vm_flags & VM_EXEC)))
		return inactive + 1;
	return inactive;
}

/*
 * shrink_folio_list for one isolated inactive page (we hold a reference to
 * it and to ino): returns the list to put it back on, PAGE_GONE or
 * PAGE_FREED (then our reference went with it).
 */
static int shrink_page(struct um_system *sys, struct inode *ino, uint64_t index, uint32_t pfn)
{
	struct frame *f = pfn_frame(&sys->fp, pfn);
	bool referenced_page;
	int l = check_references(sys, ino, index, pfn, LRU_INACTIVE_FILE, true, &referenced_page);

	if (l != PAGE_RECLAIM)
		return l;
	if (page_dirty(f)) {
		/* FOLIOREF_RECLAIM_CLEAN: a page read lately waits while dirty. */
		if (referenced_page)
			return LRU_INACTIVE_FILE;
		/* pageout(); the trylock keeps a caller's own shared hold from deadlocking. */
		if (pthread_rwlock_trywrlock(&ino->invalidate_lock))
			return LRU_INACTIVE_FILE;
		pthread_rwlock_unlock(&ino->invalidate_lock);
		writeback_range(sys, ino, index, index, false);
		if (page_dirty(f))
			return LRU_INACTIVE_FILE;
	}
	return drop_page(sys, ino, index, pfn, LRU_INACTIVE_FILE);
}

/* lock_and_unmap's answer: unmapped, the inode's lock held. */
#define PAGE_UNMAPPED (-4)

/*
 * Takes the inode's lock (trylock: busy, the page goes back on list busy)
 * and unmaps the cache page pfn at index from every mapping: PAGE_UNMAPPED
 * with the lock held, or PAGE_GONE (it left the cache) or unevictable
 * (a VM_LOCKED VMA maps it), the lock let go.
 */
static int lock_and_unmap(struct um_system *sys, struct inode *ino, uint64_t index, uint32_t pfn,
			  int busy)
{
	if (pthread_mutex_trylock(&ino->lock))
		return busy;
	if (pagecache_lookup_locked(ino, index) != pfn) {
		pthread_mutex_unlock(&ino->lock);
		return PAGE_GONE;
	}
	if (!page_unmap(sys, ino, index, pfn)) {
		pthread_mutex_unlock(&ino->lock);
		return LRU_UNEVICTABLE;
	}
	return PAGE_UNMAPPED;
}

/*
 * The end of shrink_folio_list for a page that is to go: unmapped under
 * the inode's lock, then dropped from the cache when clean and nobody but
 * the cache and us holds it. A page found dirty after the unmap goes back
 * on list dirty_list.
 */
static int drop_page(struct um_system *sys, struct inode *ino, uint64_t index, uint32_t pfn,
		     int dirty_list)
{
	struct frame *f = pfn_frame(&sys->fp, pfn);
	int32_t two = 2;
	int l = lock_and_unmap(sys, ino, index, pfn, LRU_INACTIVE_FILE);

	if (l != PAGE_UNMAPPED)
		return l;
	if (page_dirty(f)) {
		pthread_mutex_unlock(&ino->lock);
		return dirty_list;
	}
	/* __remove_mapping: nobody but the cache and us, and still clean. */
	if (!atomic_compare_exchange_strong(&f->refcount, &two, 0)) {
		pthread_mutex_unlock(&ino->lock);
		return LRU_INACTIVE_FILE;
	}
	if (page_dirty(f)) {
		atomic_store(&f->refcount, 2);
		pthread_mutex_unlock(&ino->lock);
		return LRU_INACTIVE_FILE;
	}
	pagecache_delete_locked(sys, ino, index, pfn);
	if (sys_events_on(sys))
		sys_event(sys, UM_EVENT_EVICT, 0, 0, pfn, ino->ino, index);
	pthread_mutex_unlock(&ino->lock);
	frame_free(&sys->fp, pfn);
	return PAGE_FREED;
}

/*
 * A page reclaim holds: isolated, with a reference to it and, for a cache
 * page, to its inode (ino NULL: an anonymous page, found by rmap.c).
 */
struct victim {
	uint32_t pfn;
	struct inode *ino;
	uint64_t index;
	bool skip;		/* rotated, not taken: its inode is going */
};

/*
 * Takes the tail page of list l off it with a reference to it and to its
 * inode (isolate_lru_folios, one page): false when the list is empty.
 * A page whose inode is going is rotated instead (skip), and counts as scanned.
 */
static bool isolate_one(struct um_system *sys, enum lru_list l, struct victim *vc)
{
	struct lruvec *lv = &sys->lru;
	bool got = false;

	pthread_mutex_lock(&lv->lock);
	vc->pfn = lru_isolate_tail(lv, &sys->fp, l);
	if (vc->pfn != FRAME_NONE) {
		struct frame *f = pfn_frame(&sys->fp, vc->pfn);
		bool anon = atomic_load(&f->flags) & PG_ANON;

		vc->ino = anon ? NULL : f->owner;
		vc->index = __atomic_load_n(&f->index, __ATOMIC_RELAXED);
		vc->skip = !anon && !(vc->ino && inode_tryget(vc->ino));
		if (vc->skip)
			lru_putback_locked(lv, &sys->fp, vc->pfn, l);
		else
			atomic_fetch_add(&f->refcount, 1);
		got = true;
	}
	pthread_mutex_unlock(&lv->lock);
	return got;
}

static bool lru_active(int l)
{
	return l == LRU_ACTIVE_FILE || l == LRU_ACTIVE_ANON;
}

/*
 * folio_putback_lru: back on list l if still cached; drops our references.
 * A move from an inactive list to an active one counts in pgactivate, the
 * other way in pgdeactivate (the page kept its list's flags while isolated).
 */
static void putback(struct um_system *sys, struct inode *ino, uint32_t pfn, int l)
{
	struct lruvec *lv = &sys->lru;

	if (l >= 0) {
		struct frame *f = pfn_frame(&sys->fp, pfn);

		pthread_mutex_lock(&lv->lock);
		/*
		 * A truncation clears the owner before it takes the page off the
		 * lists; an anonymous page we hold stays ours to put back.
		 */
		if (!ino || f->owner == ino || (atomic_load(&f->flags) & PG_SWAPCACHE)) {
			enum lru_list from = lru_of(atomic_load(&f->flags));

			lru_putback_locked(lv, &sys->fp, pfn, (enum lru_list)l);
			if (lru_active(l) && !lru_active(from) && from != LRU_UNEVICTABLE)
				lv->pgactivate++;
			else if (!lru_active(l) && l != LRU_UNEVICTABLE && lru_active(from))
				lv->pgdeactivate++;
		}
		pthread_mutex_unlock(&lv->lock);
	}
	if (l != PAGE_FREED)
		frame_put(&sys->fp, pfn);
	if (ino)
		inode_put(sys, ino);
}

static uint64_t list_size(struct um_system *sys, enum lru_list l)
{
	uint64_t n;

	pthread_mutex_lock(&sys->lru.lock);
	n = sys->lru.lists[l].nr;
	pthread_mutex_unlock(&sys->lru.lock);
	return n;
}

/*
 * shrink_active_list: up to nr pages from the active tail go to the
 * inactive list, but an executable mapping's young page stays active.
 */
static void shrink_active(struct um_system *sys, struct scan_control *sc, enum lru_list active,
			  uint64_t nr)
{
	for (uint64_t i = 0; i < nr; i++) {
		struct rmap_result rr;
		struct victim vc;
		int l = active - 1; /* its inactive list */

		if (!isolate_one(sys, active, &vc))
			return;
		sc->nr_scanned++;
		sc->nr_active++;
		if (vc.skip)
			continue;
		any_referenced(sys, vc.ino, vc.index, vc.pfn, true, &rr);
		if (rr.locked)
			l = LRU_UNEVICTABLE;
		else if (rr.young && (rr.vm_flags & VM_EXEC) && active == LRU_ACTIVE_FILE)
			l = LRU_ACTIVE_FILE;
		putback(sys, vc.ino, vc.pfn, l);
	}
}

/*
 * folio_check_references and the lazyfree case of shrink_folio_list for an
 * anonymous page on the inactive file list (MADV_FREE'd).
 */
static int shrink_lazyfree_page(struct um_system *sys, uint32_t pfn)
{
	bool referenced_page;
	int l = check_references(sys, NULL, 0, pfn, LRU_INACTIVE_FILE, true, &referenced_page);

	return l != PAGE_RECLAIM ? l : drop_lazyfree(sys, pfn);
}

/*
 * try_to_unmap_one for a swap-backed page in the swap cache: each PTE
 * becomes the page's swap entry (one more reference to the slot), its dirty
 * bit moved to the page. A VM_LOCKED VMA, or a reference beyond the
 * mappings', the cache's and ours (a pin), stops the walk.
 */
static bool swapout_one(struct vma *v, uint64_t addr, _Atomic pte_t *ptep, void *arg)
{
	struct lazyfree_walk *lw = arg;
	struct frame *f = lw->f;
	pte_t pte = atomic_load(ptep);

	(void)addr;
	if (unmap_refused(v, lw, 2, LRU_ACTIVE_ANON))
		return false;
	swap_dup(lw->sys, lw->entry);
	while (!atomic_compare_exchange_weak(ptep, &pte, swp_entry_to_pte(lw->entry)))
		if (!(pte & PTE_PRESENT) || pte_pfn(pte) != lw->pfn) {
			swap_put(lw->sys, lw->entry);
			return true;
		}
	if (pte & PTE_DIRTY)
		atomic_fetch_or(&f->flags, PG_DIRTY);
	mm_tlb_sync(v->vm_mm);
	atomic_fetch_sub(&v->vm_mm->rss[MM_ANONPAGES], 1);
	atomic_fetch_add(&v->vm_mm->rss[MM_SWAPENTS], 1);
	atomic_fetch_sub(&f->mapcount, 1);
	atomic_fetch_sub(&f->refcount, 1); /* never the last: the cache and reclaim hold theirs */
	return true;
}

/*
 * pageout() and __remove_mapping for an unmapped page in the swap cache
 * that reclaim holds: written to its slot when dirty (always: its only
 * copy), then freed when only the cache and reclaim hold it. A failed
 * write leaves it dirty in the cache and activated (nothing is lost).
 */
static int pageout_swap(struct um_system *sys, uint32_t pfn, bool always)
{
	struct frame *f = pfn_frame(&sys->fp, pfn);

	if ((atomic_fetch_and(&f->flags, ~(uint32_t)PG_DIRTY) & PG_DIRTY) || always) {
		if (swap_writepage(sys, pfn)) {
			atomic_fetch_or(&f->flags, PG_DIRTY);
			return LRU_ACTIVE_ANON;
		}
	}
	if (!swap_cache_reclaim(sys, pfn))
		return LRU_INACTIVE_ANON;
	frame_put(&sys->fp, pfn);
	return PAGE_FREED;
}

/*
 * shrink_folio_list for an isolated swap-backed anonymous page (we hold a
 * reference), references looked at when check_refs (reclaim; MADV_PAGEOUT
 * ignores them): put in the swap cache (add_to_swap; no free slot:
 * activated), unmapped through the reverse map, written to its slot when
 * dirty (an I/O error keeps it in the cache, dirty, activated: the data
 * is not lost, a fault finds it there), then freed when nobody but the
 * cache and us holds it (__remove_mapping).
 */
static int shrink_anon_page(struct um_system *sys, uint32_t pfn, bool check_refs)
{
	struct frame *f = pfn_frame(&sys->fp, pfn);
	struct lazyfree_walk lw = { f, pfn, PAGE_FREED, sys, 0 };
	bool referenced_page;
	int l = check_references(sys, NULL, 0, pfn, LRU_INACTIVE_ANON, check_refs,
				 &referenced_page);

	if (l != PAGE_RECLAIM)
		return l;
	if (!(atomic_load(&f->flags) & PG_SWAPCACHE) && !swap_add(sys, pfn))
		return LRU_ACTIVE_ANON;
	lw.entry = swap_entry_of(sys, pfn);
	rmap_walk_anon(sys, pfn, swapout_one, &lw);
	if (lw.result != PAGE_FREED)
		return lw.result;
	if (atomic_load(&f->mapcount))
		return LRU_ACTIVE_ANON; /* mapped again meanwhile */
	return pageout_swap(sys, pfn, false);
}

/*
 * shrink_folio_list for an isolated shmem page (we hold it and its inode):
 * kept when young or no swap slot is free; else, under the inode's lock
 * (trylock), unmapped through i_mmap, moved to the swap cache with its
 * cache slot holding the swap entry (shmem_writeout), written, and freed.
 * A failed write leaves it in the swap cache, dirty: a fault finds it.
 */
static int shrink_shmem_page(struct um_system *sys, struct inode *ino, uint64_t index,
			     uint32_t pfn, bool check_refs)
{
	struct frame *f = pfn_frame(&sys->fp, pfn);
	bool referenced_page, out;
	int l = check_references(sys, ino, index, pfn, LRU_INACTIVE_ANON, check_refs,
				 &referenced_page);

	if (l != PAGE_RECLAIM)
		return l;
	if (!swap_free_pages(sys))
		return LRU_ACTIVE_ANON;
	l = lock_and_unmap(sys, ino, index, pfn, LRU_INACTIVE_ANON);
	if (l != PAGE_UNMAPPED)
		return l;
	/* Nobody but the cache and us: no mapping, no pin. */
	out = atomic_load(&f->refcount) == 2 && shmem_swapout_locked(sys, ino, index, pfn);
	pthread_mutex_unlock(&ino->lock);
	if (!out)
		return LRU_ACTIVE_ANON;
	/* Its only copy from now on: written whether or not it was dirty. */
	return pageout_swap(sys, pfn, true);
}

static void shrink_inactive(struct um_system *sys, struct scan_control *sc,
			    enum lru_list inactive, uint64_t nr)
{
	for (uint64_t i = 0; i < nr && sc->nr_reclaimed < sc->nr_to_reclaim; i++) {
		struct victim vc;
		int l;

		if (!isolate_one(sys, inactive, &vc))
			return;
		sc->nr_scanned++;
		sc->nr_inactive[inactive == LRU_INACTIVE_FILE]++;
		if (vc.skip)
			continue;
		if (vc.ino && inactive == LRU_INACTIVE_ANON)
			l = shrink_shmem_page(sys, vc.ino, vc.index, vc.pfn, true);
		else if (vc.ino)
			l = shrink_page(sys, vc.ino, vc.index, vc.pfn);
		else if (inactive == LRU_INACTIVE_ANON)
			l = shrink_anon_page(sys, vc.pfn, true);
		else
			l = shrink_lazyfree_page(sys, vc.pfn);
		if (l == PAGE_FREED) {
			sc->nr_reclaimed++;
			sc->nr_freed[inactive == LRU_INACTIVE_FILE]++;
		}
		putback(sys, vc.ino, vc.pfn, l);
	}
}

/*
 * check_move_unevictable_folios: pages no VM_LOCKED VMA maps any more go
 * back to the inactive list.
 */
static void rescue_unevictable(struct um_system *sys)
{
	uint64_t n = list_size(sys, LRU_UNEVICTABLE);

	for (uint64_t i = 0; i < n; i++) {
		struct rmap_result rr;
		struct victim vc;

		if (!isolate_one(sys, LRU_UNEVICTABLE, &vc))
			return;
		if (vc.skip)
			continue;
		any_referenced(sys, vc.ino, vc.index, vc.pfn, false, &rr);
		putback(sys, vc.ino, vc.pfn,
			rr.locked ? LRU_UNEVICTABLE
				  : lru_of(atomic_load(&pfn_frame(&sys->fp, vc.pfn)->flags) &
					   PG_SWAPBACKED));
	}
}

/*
 * One batch from the inactive list of a kind (inactive + 1 is its active
 * list), after ageing the active list when the inactive one is the smaller.
 */
static void shrink_list(struct um_system *sys, struct scan_control *sc, enum lru_list inactive,
			uint64_t nr)
{
	if (list_size(sys, inactive) < list_size(sys, inactive + 1))
		shrink_active(sys, sc, inactive + 1, nr);
	shrink_inactive(sys, sc, inactive, nr);
}

/*
 * get_scan_count, simplified: with no free swap slot only the file lists
 * are scanned; with some, each batch of SWAP_CLUSTER_MAX is split between
 * anon and file in proportion to swappiness (60) and 200 - swappiness, each
 * side weighted by its lists' size, and the anon side alone when the file
 * lists are empty (Linux's SCAN_ANON when file pages are too few).
 */
static uint64_t anon_share(struct um_system *sys, uint64_t file)
{
	uint64_t anon = list_size(sys, LRU_INACTIVE_ANON) + list_size(sys, LRU_ACTIVE_ANON);
	uint64_t ap, fp, share;

	if (!anon || !swap_free_pages(sys))
		return 0;
	if (!file)
		return SWAP_CLUSTER_MAX;
	ap = SWAPPINESS * anon;
	fp = (200 - SWAPPINESS) * file;
	share = SWAP_CLUSTER_MAX * ap / (ap + fp);
	return share ? share : 1;
}

/*
 * shrink_lruvec until nr pages are reclaimed or every page was looked at a
 * few times; counts what it scanned and freed as reclaimer's.
 */
static uint64_t shrink_lruvec(struct um_system *sys, uint64_t nr, int reclaimer)
{
	struct scan_control sc = { .nr_to_reclaim = nr, .reclaimer = reclaimer };
	uint64_t max_scan;

	max_scan = 4 * (list_size(sys, LRU_INACTIVE_FILE) + list_size(sys, LRU_ACTIVE_FILE)) +
		   2 * SWAP_CLUSTER_MAX;
	if (swap_free_pages(sys))
		max_scan += 4 * (list_size(sys, LRU_INACTIVE_ANON) + list_size(sys, LRU_ACTIVE_ANON));
	while (sc.nr_reclaimed < sc.nr_to_reclaim && sc.nr_scanned < max_scan) {
		uint64_t file = list_size(sys, LRU_INACTIVE_FILE) + list_size(sys, LRU_ACTIVE_FILE);
		uint64_t anon = anon_share(sys, file);

		if (!file && !anon)
			break;
		if (anon)
			shrink_list(sys, &sc, LRU_INACTIVE_ANON, anon);
		if (file && anon < SWAP_CLUSTER_MAX)
			shrink_list(sys, &sc, LRU_INACTIVE_FILE, SWAP_CLUSTER_MAX - anon);
	}
	for (int file = 0; file < 2; file++) {
		atomic_fetch_add_explicit(&sys->pgscan[reclaimer][file], sc.nr_inactive[file],
					  memory_order_relaxed);
		atomic_fetch_add_explicit(&sys->pgsteal[reclaimer][file], sc.nr_freed[file],
					  memory_order_relaxed);
	}
	atomic_fetch_add_explicit(&sys->pgrefill, sc.nr_active, memory_order_relaxed);
	return sc.nr_reclaimed;
}

/*
 * do_try_to_free_pages: one pass ages as much as it frees (a page mapped
 * young and referenced before is activated, then deactivated, then found
 * unreferenced), so a pass that falls short is followed by others, up to
 * MAX_RECLAIM_RETRIES (should_reclaim_retry) in all.
 */
static uint64_t try_to_free_pages(struct um_system *sys, uint64_t nr, int reclaimer)
{
	uint64_t got = 0;

	lru_add_drain(&sys->lru, &sys->fp);
	rescue_unevictable(sys);
	for (int retry = 0; retry < MAX_RECLAIM_RETRIES && got < nr; retry++) {
		if (!list_size(sys, LRU_INACTIVE_FILE) && !list_size(sys, LRU_ACTIVE_FILE) &&
		    !anon_share(sys, 0))
			break;
		got += shrink_lruvec(sys, nr - got, reclaimer);
	}
	return got;
}

/*
 * reclaim_pages (MADV_PAGEOUT) for a page-cache page of a regular file:
 * taken off its list and judged without its references; unmapped, then
 * dropped when clean. A dirty one stays in the cache, unmapped, and is
 * activated: only kswapd writes file pages back from reclaim
 * (shrink_folio_list's folio_is_file_lru case), and madvise is not kswapd.
 * The caller holds its mm lock and maps the page once. True when freed.
 */
/*
 * folio_isolate_lru for a cache page found by its PTE, with a reference to
 * it and to its inode: the inode, or NULL when it was on no list or its
 * inode is going.
 */
static struct inode *isolate_cache_page(struct um_system *sys, uint32_t pfn, uint64_t *index)
{
	struct lruvec *lv = &sys->lru;
	struct frame *f = pfn_frame(&sys->fp, pfn);
	struct inode *ino = NULL;

	pthread_mutex_lock(&lv->lock);
	if (lru_isolate_locked(lv, &sys->fp, pfn)) {
		ino = f->owner;
		*index = f->index;
		if (ino && inode_tryget(ino)) {
			atomic_fetch_add(&f->refcount, 1);
		} else {
			lru_putback_locked(lv, &sys->fp, pfn,
					   lru_of(atomic_load_explicit(&f->flags, memory_order_relaxed)));
			ino = NULL;
		}
	}
	pthread_mutex_unlock(&lv->lock);
	return ino;
}

bool vmscan_pageout_file(struct um_system *sys, uint32_t pfn)
{
	uint64_t index = 0;
	struct inode *ino = isolate_cache_page(sys, pfn, &index);
	int l;

	if (!ino)
		return false;
	l = drop_page(sys, ino, index, pfn, LRU_ACTIVE_FILE);
	putback(sys, ino, pfn, l);
	return l == PAGE_FREED;
}

bool vmscan_pageout_shmem(struct um_system *sys, uint32_t pfn)
{
	uint64_t index = 0;
	struct inode *ino = isolate_cache_page(sys, pfn, &index);
	int l;

	if (!ino)
		return false;
	l = shrink_shmem_page(sys, ino, index, pfn, false);
	putback(sys, ino, pfn, l);
	return l == PAGE_FREED;
}

bool vmscan_pageout_anon(struct um_system *sys, uint32_t pfn)
{
	struct lruvec *lv = &sys->lru;
	bool isolated;
	int l;

	lru_add_drain(lv, &sys->fp);
	pthread_mutex_lock(&lv->lock);
	isolated = lru_isolate_locked(lv, &sys->fp, pfn);
	if (isolated)
		atomic_fetch_add(&pfn_frame(&sys->fp, pfn)->refcount, 1);
	pthread_mutex_unlock(&lv->lock);
	if (!isolated)
		return false;
	l = shrink_anon_page(sys, pfn, false);
	putback(sys, NULL, pfn, l);
	return l == PAGE_FREED;
}

bool vmscan_wanted(struct um_system *sys)
{
	return atomic_load_explicit(&sys->fp.nr_free, memory_order_relaxed) < sys->lru.wmark_min;
}

_Static_assert(NR_RECLAIMERS == sizeof(((struct um_system *)0)->pgscan) /
				   sizeof(((struct um_system *)0)->pgscan[0]),
	       "one pgscan row per reclaimer");

/*
 * balance_pgdat: reclaims, as kswapd, until the free frames reach the high
 * watermark (or nothing more can go). Each call is one pageoutrun.
 */
static uint64_t balance_pgdat(struct um_system *sys)
{
	uint64_t free = atomic_load_explicit(&sys->fp.nr_free, memory_order_relaxed);

	atomic_fetch_add_explicit(&sys->pageoutrun, 1, memory_order_relaxed);
	if (free >= sys->lru.wmark_high)
		return 0;
	return try_to_free_pages(sys, sys->lru.wmark_high - free, RECLAIM_KSWAPD);
}

/*
 * The kswapd step: runs balance_pgdat once for the wake-ups since it last
 * ran; one caller at a time takes the wake-up (Linux's one kswapd thread).
 */
static uint64_t vmscan_kswapd(struct um_system *sys)
{
	if (!atomic_exchange_explicit(&sys->fp.kswapd_woken, false, memory_order_relaxed))
		return 0;
	return balance_pgdat(sys);
}

bool vmscan_pending(struct um_system *sys)
{
	return atomic_load_explicit(&sys->fp.kswapd_woken, memory_order_relaxed) ||
	       vmscan_wanted(sys);
}

void vmscan_prepare_alloc(struct um_system *sys)
{
	if (atomic_load_explicit(&sys->fp.kswapd_woken, memory_order_relaxed))
		vmscan_kswapd(sys);
	vmscan_direct(sys);
}

uint64_t vmscan_direct(struct um_system *sys)
{
	uint64_t free = atomic_load_explicit(&sys->fp.nr_free, memory_order_relaxed);

	if (free >= sys->lru.wmark_min)
		return 0;
	return try_to_free_pages(sys, sys->lru.wmark_high - free, RECLAIM_DIRECT);
}

int64_t um_kswapd_run(struct um_system *sys)
{
	if (!sys)
		return -EINVAL;
	atomic_store_explicit(&sys->fp.kswapd_woken, false, memory_order_relaxed);
	return (int64_t)balance_pgdat(sys);
}

int64_t um_reclaim(struct um_system *sys, uint64_t nr_pages)
{
	if (!sys)
		return -EINVAL;
	return (int64_t)try_to_free_pages(sys, nr_pages, RECLAIM_PROACTIVE);
}
