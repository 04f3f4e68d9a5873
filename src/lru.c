/*
 * lru.c: the LRU lists (mm/swap.c, include/linux/mm_inline.h).
 *
 * Every frame of a regular file's or shmem object's cache and every
 * anonymous frame (hugetlb pages aside) is on exactly one of five lists,
 * linked through the frame's lru_next (towards the tail, the oldest) and
 * lru_prev (towards the head), which the free stack uses only while a
 * frame is free:
 *
 *   inactive anon  new anonymous and shmem pages (swap-backed); the active
 *                  anon list's leftovers; reclaim takes them with swap only
 *   active anon    swap-backed pages referenced twice
 *   inactive file  new page-cache pages (folio_add_lru), lazily freeable
 *                  (MADV_FREE) anonymous pages, and pages the active list
 *                  gives back; reclaim takes pages from its tail
 *   active file    pages referenced twice (mark_page_accessed, or mapped
 *                  and found young twice by reclaim)
 *   unevictable    pages reclaim found mapped by a VM_LOCKED VMA
 *
 * Which side a page is on is its PG_SWAPBACKED bit (folio_is_file_lru).
 * New anonymous pages are batched: a fault pushes its page on the lruvec's
 * add batch with one compare-and-swap, and every LRU_BATCH pages (or when
 * reclaim, a check or the statistics look) a drain lists them under one
 * lock, as Linux's per-CPU folio_batch does.
 *
 * Invariants (lruvec_check; um_check adds which frames):
 *   1. A frame on a list has PG_LRU, and PG_ACTIVE / PG_UNEVICTABLE /
 *      PG_SWAPBACKED exactly as its list says; the links of each list agree
 *      both ways and its count is the number of frames on it.
 *   2. A frame on the add batch has PG_LRU_PENDING and is on no list.
 *   3. After a drain, every frame named above is listed, except for the
 *      moment reclaim holds it isolated (PG_LRU clear, a reference held).
 * lv->lock guards the lists and the PG_LRU, PG_ACTIVE and PG_UNEVICTABLE
 * bits of listed frames; it is the innermost lock.
 */
#include <errno.h>
#include <stdio.h>

#include "frame.h"
#include "lru.h"

#define LRU_FLAGS (PG_LRU | PG_ACTIVE | PG_UNEVICTABLE)
/* Pages a fault adds before it drains the batch itself (Linux's folio_batch holds 31). */
#define LRU_BATCH 31

void lruvec_init(struct lruvec *lv)
{
	pthread_mutex_init(&lv->lock, NULL);
	for (int l = 0; l < NR_LRU_LISTS; l++) {
		lv->lists[l].head = FRAME_NONE;
		lv->lists[l].tail = FRAME_NONE;
		lv->lists[l].nr = 0;
	}
	atomic_init(&lv->add_head, FRAME_NONE);
	atomic_init(&lv->add_nr, 0);
}

void lruvec_destroy(struct lruvec *lv)
{
	pthread_mutex_destroy(&lv->lock);
}

/* The inactive list of a page's kind (folio_lru_list without the active bit). */
static enum lru_list inactive_of(uint32_t flags)
{
	return flags & PG_SWAPBACKED ? LRU_INACTIVE_ANON : LRU_INACTIVE_FILE;
}

enum lru_list lru_of(uint32_t flags)
{
	if (flags & PG_UNEVICTABLE)
		return LRU_UNEVICTABLE;
	return inactive_of(flags) + (flags & PG_ACTIVE ? 1 : 0);
}

static uint32_t list_flags(enum lru_list l)
{
	if (l == LRU_UNEVICTABLE)
		return PG_UNEVICTABLE;
	return l == LRU_ACTIVE_FILE || l == LRU_ACTIVE_ANON ? PG_ACTIVE : 0;
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
	struct frame *f = pfn_frame(fp, pfn);

	pthread_mutex_lock(&lv->lock);
	atomic_fetch_and_explicit(&f->flags, ~(uint32_t)LRU_FLAGS, memory_order_relaxed);
	link_head(lv, fp, pfn, inactive_of(atomic_load_explicit(&f->flags, memory_order_relaxed)));
	pthread_mutex_unlock(&lv->lock);
}

void lru_add_batched(struct lruvec *lv, struct frame_pool *fp, uint32_t pfn)
{
	struct frame *f = pfn_frame(fp, pfn);
	uint32_t head = atomic_load_explicit(&lv->add_head, memory_order_relaxed);

	atomic_fetch_or_explicit(&f->flags, PG_LRU_PENDING, memory_order_relaxed);
	/* Push only, and the drain takes the whole stack: no ABA. */
	do
		set_next(f, head);
	while (!atomic_compare_exchange_weak_explicit(&lv->add_head, &head, pfn,
						      memory_order_release, memory_order_relaxed));
	if (atomic_fetch_add_explicit(&lv->add_nr, 1, memory_order_relaxed) + 1 >= LRU_BATCH)
		lru_add_drain(lv, fp);
}

void lru_add_drain(struct lruvec *lv, struct frame_pool *fp)
{
	uint32_t pfn, next, dead = FRAME_NONE;

	if (atomic_load_explicit(&lv->add_head, memory_order_relaxed) == FRAME_NONE)
		return;
	pthread_mutex_lock(&lv->lock);
	pfn = atomic_exchange_explicit(&lv->add_head, FRAME_NONE, memory_order_acquire);
	for (; pfn != FRAME_NONE; pfn = next) {
		struct frame *f = pfn_frame(fp, pfn);
		uint32_t fl;

		next = f->lru_next;
		atomic_fetch_sub_explicit(&lv->add_nr, 1, memory_order_relaxed);
		fl = atomic_fetch_and(&f->flags, ~(uint32_t)PG_LRU_PENDING);
		if (fl & PG_PUT_DEFERRED) {
			/* Its last reference went while it waited: ours to free, after the lock. */
			set_next(f, dead);
			dead = pfn;
			continue;
		}
		atomic_fetch_and_explicit(&f->flags, ~(uint32_t)LRU_FLAGS, memory_order_relaxed);
		link_head(lv, fp, pfn, lru_of(fl & ~(uint32_t)LRU_FLAGS));
	}
	pthread_mutex_unlock(&lv->lock);
	for (pfn = dead; pfn != FRAME_NONE; pfn = next) {
		next = pfn_frame(fp, pfn)->lru_next;
		frame_free(fp, pfn);
	}
}

/* Moves a listed frame to the head of list l (PG_LRU kept). lv->lock held. */
static void move_to(struct lruvec *lv, struct frame_pool *fp, uint32_t pfn, enum lru_list l)
{
	uint32_t fl = atomic_load_explicit(&pfn_frame(fp, pfn)->flags, memory_order_relaxed);

	unlink_frame(lv, fp, pfn, lru_of(fl));
	link_head(lv, fp, pfn, l);
}

/*
 * A frame's kind changes (PG_SWAPBACKED and the flags in set and clear): a
 * listed one moves to the head of list to; an unevictable one stays, and
 * a pending or isolated one is listed by whoever lists it, from its flags.
 */
static void change_kind(struct lruvec *lv, struct frame_pool *fp, uint32_t pfn, uint32_t set,
			uint32_t clear, enum lru_list to)
{
	struct frame *f = pfn_frame(fp, pfn);
	uint32_t fl;
	bool move;

	pthread_mutex_lock(&lv->lock);
	fl = atomic_load_explicit(&f->flags, memory_order_relaxed);
	move = (fl & PG_LRU) && !(fl & PG_UNEVICTABLE);
	if (move)
		unlink_frame(lv, fp, pfn, lru_of(fl));
	atomic_fetch_and(&f->flags, ~clear);
	atomic_fetch_or(&f->flags, set);
	if (move)
		link_head(lv, fp, pfn, to);
	pthread_mutex_unlock(&lv->lock);
}

void lru_lazyfree(struct lruvec *lv, struct frame_pool *fp, uint32_t pfn)
{
	change_kind(lv, fp, pfn, 0, PG_SWAPBACKED | PG_ACTIVE | PG_REFERENCED, LRU_INACTIVE_FILE);
}

void lru_set_swapbacked(struct lruvec *lv, struct frame_pool *fp, uint32_t pfn)
{
	change_kind(lv, fp, pfn, PG_SWAPBACKED, 0, LRU_ACTIVE_ANON);
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
		move_to(lv, fp, pfn, lru_of(fl | PG_ACTIVE));
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
		move_to(lv, fp, pfn, inactive_of(fl));
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
			    lru_of(fl) != (enum lru_list)l ||
			    (fl & (PG_FREE | PG_HUGETLB | PG_LRU_PENDING)) ||
			    (!f->owner && !(fl & PG_SWAPCACHE)) ||
			    ++count > fp->nframes) {
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
