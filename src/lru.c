/*
 * lru.c: the LRU lists of page-cache frames (mm/swap.c, include/linux/mm_inline.h).
 *
 * A regular file's cached frame is on exactly one of three lists, linked
 * through the frame's lru_next (towards the tail, the oldest) and lru_prev
 * (towards the head), which the free stack uses only while a frame is free:
 *
 *   inactive file  new pages (folio_add_lru), and pages the active list
 *                  gives back; reclaim takes pages from its tail
 *   active file    pages referenced twice (mark_page_accessed, or mapped
 *                  and found young twice by reclaim)
 *   unevictable    pages reclaim found mapped by a VM_LOCKED VMA
 *
 * Invariants (lruvec_check):
 *   1. A frame on a list has PG_LRU, and PG_ACTIVE / PG_UNEVICTABLE exactly
 *      as its list says; the links of each list agree both ways and its
 *      count is the number of frames on it.
 *   2. Only regular files' cache pages are listed (shmem, anonymous and
 *      hugetlb frames never are): every such cached frame is listed, except
 *      for the moment reclaim holds it isolated (PG_LRU clear, a reference
 *      held).
 * lv->lock guards the lists and the PG_LRU, PG_ACTIVE and PG_UNEVICTABLE
 * bits of listed frames; it is the innermost lock.
 */
#include <errno.h>
#include <stdio.h>

#include "frame.h"
#include "lru.h"

#define LRU_FLAGS (PG_LRU | PG_ACTIVE | PG_UNEVICTABLE)

void lruvec_init(struct lruvec *lv)
{
	pthread_mutex_init(&lv->lock, NULL);
	for (int l = 0; l < NR_LRU_LISTS; l++) {
		lv->lists[l].head = FRAME_NONE;
		lv->lists[l].tail = FRAME_NONE;
		lv->lists[l].nr = 0;
	}
}

void lruvec_destroy(struct lruvec *lv)
{
	pthread_mutex_destroy(&lv->lock);
}

enum lru_list lru_of(uint32_t flags)
{
	if (flags & PG_UNEVICTABLE)
		return LRU_UNEVICTABLE;
	return flags & PG_ACTIVE ? LRU_ACTIVE_FILE : LRU_INACTIVE_FILE;
}

static uint32_t list_flags(enum lru_list l)
{
	return l == LRU_UNEVICTABLE ? PG_UNEVICTABLE : l == LRU_ACTIVE_FILE ? PG_ACTIVE : 0;
}

/* lru_next is read without a lock by the free stack's pop (a stale read loses its CAS). */
static void set_next(struct frame *f, uint32_t next)
{
	__atomic_store_n(&f->lru_next, next, __ATOMIC_RELAXED);
}

static void link_head(struct lruvec *lv, struct frame_pool *fp, uint32_t pfn, enum lru_list l)
{
	struct lru_head *h = &lv->lists[l];
	struct frame *f = pfn_frame(fp, pfn);

	f->lru_prev = FRAME_NONE;
	set_next(f, h->head);
	if (h->head != FRAME_NONE)
		pfn_frame(fp, h->head)->lru_prev = pfn;
	else
		h->tail = pfn;
	h->head = pfn;
	h->nr++;
	atomic_fetch_and_explicit(&f->flags, ~(uint32_t)LRU_FLAGS, memory_order_relaxed);
	atomic_fetch_or_explicit(&f->flags, PG_LRU | list_flags(l), memory_order_relaxed);
}

static void unlink_frame(struct lruvec *lv, struct frame_pool *fp, uint32_t pfn, enum lru_list l)
{
	struct lru_head *h = &lv->lists[l];
	struct frame *f = pfn_frame(fp, pfn);

	if (f->lru_prev != FRAME_NONE)
		set_next(pfn_frame(fp, f->lru_prev), f->lru_next);
	else
		h->head = f->lru_next;
	if (f->lru_next != FRAME_NONE)
		pfn_frame(fp, f->lru_next)->lru_prev = f->lru_prev;
	else
		h->tail = f->lru_prev;
	f->lru_prev = FRAME_NONE;
	set_next(f, FRAME_NONE);
	h->nr--;
	atomic_fetch_and_explicit(&f->flags, ~(uint32_t)PG_LRU, memory_order_relaxed);
}

void lru_add(struct lruvec *lv, struct frame_pool *fp, uint32_t pfn)
{
	pthread_mutex_lock(&lv->lock);
	atomic_fetch_and_explicit(&pfn_frame(fp, pfn)->flags, ~(uint32_t)LRU_FLAGS,
				  memory_order_relaxed);
	link_head(lv, fp, pfn, LRU_INACTIVE_FILE);
	pthread_mutex_unlock(&lv->lock);
}

void lru_del(struct lruvec *lv, struct frame_pool *fp, uint32_t pfn)
{
	struct frame *f = pfn_frame(fp, pfn);
	uint32_t fl;

	pthread_mutex_lock(&lv->lock);
	fl = atomic_load_explicit(&f->flags, memory_order_relaxed);
	if (fl & PG_LRU)
		unlink_frame(lv, fp, pfn, lru_of(fl));
	atomic_fetch_and_explicit(&f->flags, ~(uint32_t)LRU_FLAGS, memory_order_relaxed);
	pthread_mutex_unlock(&lv->lock);
}

void mark_page_accessed(struct lruvec *lv, struct frame_pool *fp, uint32_t pfn)
{
	struct frame *f = pfn_frame(fp, pfn);
	uint32_t fl;

	pthread_mutex_lock(&lv->lock);
	fl = atomic_load_explicit(&f->flags, memory_order_relaxed);
	if (!(fl & PG_REFERENCED)) {
		atomic_fetch_or_explicit(&f->flags, PG_REFERENCED, memory_order_relaxed);
	} else if (!(fl & (PG_ACTIVE | PG_UNEVICTABLE)) && (fl & PG_LRU)) {
		/* folio_activate; an isolated page is left to the one holding it. */
		unlink_frame(lv, fp, pfn, LRU_INACTIVE_FILE);
		link_head(lv, fp, pfn, LRU_ACTIVE_FILE);
		atomic_fetch_and_explicit(&f->flags, ~(uint32_t)PG_REFERENCED,
					  memory_order_relaxed);
		lv->pgactivate++;
	}
	pthread_mutex_unlock(&lv->lock);
}

uint32_t lru_isolate_tail(struct lruvec *lv, struct frame_pool *fp, enum lru_list l)
{
	uint32_t pfn = lv->lists[l].tail;

	if (pfn != FRAME_NONE)
		unlink_frame(lv, fp, pfn, l);
	return pfn;
}

bool lru_isolate_locked(struct lruvec *lv, struct frame_pool *fp, uint32_t pfn)
{
	uint32_t fl = atomic_load_explicit(&pfn_frame(fp, pfn)->flags, memory_order_relaxed);

	if (!(fl & PG_LRU))
		return false;
	unlink_frame(lv, fp, pfn, lru_of(fl));
	return true;
}

void lru_deactivate(struct lruvec *lv, struct frame_pool *fp, uint32_t pfn)
{
	struct frame *f = pfn_frame(fp, pfn);
	uint32_t fl;

	pthread_mutex_lock(&lv->lock);
	atomic_fetch_and_explicit(&f->flags, ~(uint32_t)PG_REFERENCED, memory_order_relaxed);
	fl = atomic_load_explicit(&f->flags, memory_order_relaxed);
	/* Only an active page moves; an isolated one is left to the one holding it. */
	if ((fl & PG_LRU) && (fl & PG_ACTIVE) && !(fl & PG_UNEVICTABLE)) {
		unlink_frame(lv, fp, pfn, LRU_ACTIVE_FILE);
		link_head(lv, fp, pfn, LRU_INACTIVE_FILE);
		lv->pgdeactivate++;
	}
	pthread_mutex_unlock(&lv->lock);
}

void lru_putback_locked(struct lruvec *lv, struct frame_pool *fp, uint32_t pfn, enum lru_list l)
{
	link_head(lv, fp, pfn, l);
}

int lruvec_check(struct lruvec *lv, struct frame_pool *fp, uint64_t *listed, char *why, size_t n)
{
	int err = 0;

	*listed = 0;
	pthread_mutex_lock(&lv->lock);
	for (int l = 0; l < NR_LRU_LISTS && !err; l++) {
		struct lru_head *h = &lv->lists[l];
		uint32_t prev = FRAME_NONE, pfn;
		uint64_t count = 0;

		for (pfn = h->head; pfn != FRAME_NONE && !err; pfn = pfn_frame(fp, pfn)->lru_next) {
			struct frame *f;
			uint32_t fl;

			if (pfn >= fp->nframes) {
				snprintf(why, n, "LRU list %d: frame %u out of range", l, pfn);
				err = -EUCLEAN;
				break;
			}
			f = pfn_frame(fp, pfn);
			fl = atomic_load(&f->flags);
			if (f->lru_prev != prev || !(fl & PG_LRU) ||
			    lru_of(fl) != (enum lru_list)l || (fl & (PG_FREE | PG_ANON)) ||
			    !f->owner || ++count > fp->nframes) {
				snprintf(why, n, "LRU list %d: frame %u misplaced (flags %#x)", l,
					 pfn, fl);
				err = -EUCLEAN;
			}
			prev = pfn;
		}
		if (!err && (prev != h->tail || count != h->nr)) {
			snprintf(why, n, "LRU list %d: %llu frames counted, %llu found", l,
				 (unsigned long long)h->nr, (unsigned long long)count);
			err = -EUCLEAN;
		}
		*listed += count;
	}
	pthread_mutex_unlock(&lv->lock);
	return err;
}
