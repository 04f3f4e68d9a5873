/*
 * The LRU lists of page-cache and anonymous frames: declarations of lru.c
 * (mm/swap.c's folio_add_lru, folio_mark_accessed, lru_add/del, the add
 * batch). Layer: frame, beside frame.c.
 */
#ifndef UM_LRU_H
#define UM_LRU_H

#include "internal.h"

struct frame_pool;

/*
 * Linux's lists, in its order: swap-backed pages (anonymous and shmem) on
 * the anon lists, page-cache pages of regular files and lazily freeable
 * (MADV_FREE) anonymous pages on the file lists, pages a VM_LOCKED VMA
 * maps on the unevictable one.
 */
enum lru_list {
	LRU_INACTIVE_ANON,
	LRU_ACTIVE_ANON,
	LRU_INACTIVE_FILE,
	LRU_ACTIVE_FILE,
	LRU_UNEVICTABLE,
	NR_LRU_LISTS
};

struct lru_head {
	uint32_t head;		/* most recently added: frame number or FRAME_NONE */
	uint32_t tail;		/* oldest: where reclaim scans from */
	uint64_t nr;
};

/*
 * The machine's one lruvec (a node's, Linux has one per node and memcg),
 * with the watermarks vmscan.c derives from its size (a zone's, in pages).
 * lock (lru_lock) is the innermost lock of the library: taken under an
 * inode's lock, never the other way round.
 */
struct lruvec {
	pthread_mutex_t lock;
	struct lru_head lists[NR_LRU_LISTS];
	uint64_t wmark_min, wmark_low, wmark_high;
	/* vmstat's pgactivate and pgdeactivate: moves between the file lists, under lock. */
	uint64_t pgactivate, pgdeactivate;
	/*
	 * The add batch (Linux's per-CPU lru_add folio_batch): new anonymous
	 * pages wait here, linked through lru_next, pushed without the lock,
	 * until a drain lists them all under one lock.
	 */
	_Atomic uint32_t add_head;
	_Atomic uint32_t add_nr;
};

UM_INTERNAL void lruvec_init(struct lruvec *lv);
UM_INTERNAL void lruvec_destroy(struct lruvec *lv);
/*
 * A new cache page: at the head of the inactive list of its kind (file, or
 * anon for a swap-backed one), PG_LRU set (folio_add_lru).
 */
UM_INTERNAL void lru_add(struct lruvec *lv, struct frame_pool *fp, uint32_t pfn);
/*
 * A new anonymous page, mapped: onto the add batch without the lock
 * (PG_LRU_PENDING set); every LRU_BATCH pages the adder drains the batch.
 * The page stays off the lists until a drain, and a frame_put that frees
 * it meanwhile leaves the freeing to the drain (PG_PUT_DEFERRED).
 */
UM_INTERNAL void lru_add_batched(struct lruvec *lv, struct frame_pool *fp, uint32_t pfn);
/* lru_add_drain: lists every page of the add batch; frees those put meanwhile. */
UM_INTERNAL void lru_add_drain(struct lruvec *lv, struct frame_pool *fp);
/*
 * MADV_FREE (folio_mark_lazyfree): an anonymous page loses PG_SWAPBACKED,
 * PG_ACTIVE and PG_REFERENCED and moves to the head of the inactive file list.
 */
UM_INTERNAL void lru_lazyfree(struct lruvec *lv, struct frame_pool *fp, uint32_t pfn);
/*
 * A lazily freeable page written again (PG_SWAPBACKED set again) goes to
 * the active anon list (try_to_unmap_one's lazyfree case, then activate).
 */
UM_INTERNAL void lru_set_swapbacked(struct lruvec *lv, struct frame_pool *fp, uint32_t pfn);
/* Off its list, if on one; PG_LRU, PG_ACTIVE, PG_UNEVICTABLE cleared. */
UM_INTERNAL void lru_del(struct lruvec *lv, struct frame_pool *fp, uint32_t pfn);
/*
 * folio_mark_accessed: a first reference sets PG_REFERENCED, a second on
 * an inactive page moves it to the active list (clearing the bit).
 */
UM_INTERNAL void mark_page_accessed(struct lruvec *lv, struct frame_pool *fp, uint32_t pfn);
/*
 * Takes the oldest frame of list l off it (isolate_lru_folios): PG_LRU
 * cleared, its list flags kept. FRAME_NONE when the list is empty. lv->lock held.
 */
UM_INTERNAL uint32_t lru_isolate_tail(struct lruvec *lv, struct frame_pool *fp, enum lru_list l);
/*
 * folio_isolate_lru for a frame found by its PTE: takes it off its list
 * (PG_LRU cleared, its list flags kept). False when it was on none. lv->lock held.
 */
UM_INTERNAL bool lru_isolate_locked(struct lruvec *lv, struct frame_pool *fp, uint32_t pfn);
/*
 * folio_deactivate for MADV_COLD: PG_REFERENCED cleared, and a page on an
 * active list moved to the head of the inactive one of its kind.
 */
UM_INTERNAL void lru_deactivate(struct lruvec *lv, struct frame_pool *fp, uint32_t pfn);
/* Puts an isolated frame at the head of list l, with that list's flags. lv->lock held. */
UM_INTERNAL void lru_putback_locked(struct lruvec *lv, struct frame_pool *fp, uint32_t pfn,
				    enum lru_list l);
/* The list a frame's flags put it on. */
UM_INTERNAL enum lru_list lru_of(uint32_t flags);
/* Each list's links, flags and count; *listed: the frames on all of them. */
UM_INTERNAL int lruvec_check(struct lruvec *lv, struct frame_pool *fp, uint64_t *listed,
			     char *why, size_t n);

#endif /* UM_LRU_H */
