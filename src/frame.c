/*
 * frame.c: physical frames (struct page) and the page allocator.
 *
 * Frame memory is one host reservation made with MAP_NORESERVE, so an idle
 * machine costs only what it has touched; the descriptors are a second one.
 *
 * Invariants:
 *   1. Frame ZERO_PFN is the shared zero frame: PG_RESERVED, never freed,
 *      never written, not counted in RSS.
 *   2. Frames [bump, nframes) were never handed out: their memory is zero.
 *   3. A frame on the free list has PG_FREE, refcount 0 and mapcount 0; no
 *      PTE and no cache holds it. Its memory may hold old data (PG_NEEDZERO),
 *      so frame_alloc(zero=true) clears it before it backs anything.
 *   4. nr_free = frames on the free list + (nframes - bump).
 *
 * The free list is a lock-free stack (Treiber's): its top word carries a
 * tag that every pop and push changes, so a pop that read a stale next
 * link loses its compare-and-swap instead of corrupting the list (ABA).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "host.h"
#include "lru.h"

#if defined(__x86_64__) && defined(__SSE2__)
#include <emmintrin.h>

/*
 * Zeroes len bytes at p (64-byte aligned, a multiple of 64) with
 * non-temporal stores. A huge page is larger than the caches close to the
 * core, and streaming stores skip reading every line before writing it
 * (read-for-ownership): out of cache, 2 MiB this way cost about a third of
 * memset's rep stosb on the machine of docs/performance.md. The fence
 * orders them before the stores that publish the page (the PTEs' release
 * stores do not order non-temporal ones).
 */
static void zero_streaming(void *p, size_t len)
{
	const __m128i z = _mm_setzero_si128();
	char *c = p;

	for (size_t i = 0; i < len; i += 64) {
		_mm_stream_si128((__m128i *)(c + i), z);
		_mm_stream_si128((__m128i *)(c + i + 16), z);
		_mm_stream_si128((__m128i *)(c + i + 32), z);
		_mm_stream_si128((__m128i *)(c + i + 48), z);
	}
	_mm_sfence();
}
#else
static void zero_streaming(void *p, size_t len)
{
	memset(p, 0, len);
}
#endif

_Static_assert(sizeof(struct frame) == 32, "a frame descriptor is 32 bytes");

/*
 * Sets aside nr huge pages of 2^order frames for hs below fp->limit, aligned
 * on their size (hugetlb_hstate_alloc_pages). Leaves at least a frame for
 * the zero page and one to allocate.
 */
static int hstate_init(struct frame_pool *fp, struct hstate *hs, uint32_t order, uint32_t nr)
{
	uint64_t size = 1ULL << order, top = fp->limit & ~(size - 1);

	hs->order = order;
	if (!nr)
		return 0;
	if (order >= 32 || (uint64_t)nr > (top >> order) || top - ((uint64_t)nr << order) < 2)
		return -EINVAL;
	hs->base = (uint32_t)(top - ((uint64_t)nr << order));
	/* No system yet to count against: the injector is armed only later. */
	hs->free_stack = um_calloc(NULL, nr, sizeof(*hs->free_stack));
	hs->live = um_calloc(NULL, nr, sizeof(*hs->live));
	hs->restore = um_calloc(NULL, nr, 1);
	if (!hs->free_stack || !hs->live || !hs->restore)
		return -ENOMEM;
	hs->nr = nr;
	for (uint32_t i = 0; i < nr; i++) {
		/* The lowest huge page is handed out first. */
		hs->free_stack[i] = nr - 1 - i;
		for (uint64_t k = 0; k < size; k++) {
			struct frame *f = &fp->frames[hs->base + ((uint64_t)i << order) + k];

			atomic_store(&f->flags, PG_HUGETLB | PG_FREE);
			f->lru_next = FRAME_NONE;
			f->lru_prev = FRAME_NONE;
		}
	}
	hs->nr_free = nr;
	fp->limit = hs->base;
	return 0;
}

static void hstate_destroy(struct hstate *hs)
{
	um_free(NULL, hs->free_stack);
	um_free(NULL, hs->live);
	um_free(NULL, hs->restore);
}

int frame_pool_init(struct frame_pool *fp, uint64_t bytes, const struct page_geom *geom,
		    const uint32_t huge[2])
{
	uint64_t n = pg_count(geom, bytes);
	int err;

	memset(fp, 0, sizeof(*fp));
	if (n < 2 || n > FRAME_NONE)
		return -EINVAL;
	fp->geom = geom;
	fp->nframes = n;
	fp->limit = n;
	fp->reserve_bytes = pg_bytes(geom, n);
	fp->desc_bytes = (size_t)n * sizeof(struct frame);
	/* Transparent huge pages: first use of frame memory costs about a memset. */
	fp->base = host_reserve(fp->reserve_bytes, true);
	if (!fp->base)
		return -ENOMEM;
	fp->frames = host_reserve(fp->desc_bytes, false);
	if (!fp->frames) {
		host_release(fp->base, fp->reserve_bytes);
		fp->base = NULL;
		return -ENOMEM;
	}
	atomic_init(&fp->free_top, FRAME_NONE);
	/* The zero frame. */
	atomic_store(&fp->frames[ZERO_PFN].flags, PG_RESERVED | PG_UPTODATE);
	atomic_store(&fp->frames[ZERO_PFN].refcount, 1);
	fp->frames[ZERO_PFN].lru_next = FRAME_NONE;
	fp->frames[ZERO_PFN].lru_prev = FRAME_NONE;
	atomic_store(&fp->bump, 1);
	pthread_mutex_init(&fp->hlock, NULL);
	/* The gigantic pages first, from the top, then the PMD-sized ones below. */
	err = hstate_init(fp, &fp->hs[HSTATE_PUD], 2 * (geom->shift - 3), huge[HSTATE_PUD]);
	if (!err)
		err = hstate_init(fp, &fp->hs[HSTATE_PMD], geom->shift - 3, huge[HSTATE_PMD]);
	if (err) {
		frame_pool_destroy(fp);
		return err;
	}
	atomic_store(&fp->nr_free, fp->limit - 1);
	return 0;
}

void frame_pool_destroy(struct frame_pool *fp)
{
	if (fp->nframes) {
		hstate_destroy(&fp->hs[HSTATE_PMD]);
		hstate_destroy(&fp->hs[HSTATE_PUD]);
		pthread_mutex_destroy(&fp->hlock);
	}
	if (fp->base)
		host_release(fp->base, fp->reserve_bytes);
	if (fp->frames)
		host_release(fp->frames, fp->desc_bytes);
	memset(fp, 0, sizeof(*fp));
}

static inline uint32_t top_pfn(uint64_t top)
{
	return (uint32_t)top;
}

static inline uint64_t top_make(uint64_t old, uint32_t pfn)
{
	return ((old >> 32) + 1) << 32 | pfn;
}

/* Pops the free stack; FRAME_NONE when empty. */
static uint32_t free_pop(struct frame_pool *fp)
{
	uint64_t top = atomic_load_explicit(&fp->free_top, memory_order_acquire);

	while (top_pfn(top) != FRAME_NONE) {
		/* May read a frame just popped by another thread: the tag makes the CAS fail. */
		uint32_t next =
		    __atomic_load_n(&fp->frames[top_pfn(top)].lru_next, __ATOMIC_RELAXED);

		if (atomic_compare_exchange_weak_explicit(&fp->free_top, &top, top_make(top, next),
							  memory_order_acq_rel,
							  memory_order_acquire))
			return top_pfn(top);
	}
	return FRAME_NONE;
}

static void free_push(struct frame_pool *fp, uint32_t pfn)
{
	uint64_t top = atomic_load_explicit(&fp->free_top, memory_order_relaxed);

	do
		__atomic_store_n(&fp->frames[pfn].lru_next, top_pfn(top), __ATOMIC_RELAXED);
	while (!atomic_compare_exchange_weak_explicit(&fp->free_top, &top, top_make(top, pfn),
						      memory_order_release, memory_order_relaxed));
}

uint32_t frame_alloc(struct frame_pool *fp, bool zero)
{
	uint32_t pfn = free_pop(fp);
	struct frame *f;
	bool dirty;

	if (pfn == FRAME_NONE) {
		uint64_t b = atomic_fetch_add_explicit(&fp->bump, 1, memory_order_relaxed);

		if (b >= fp->limit) {
			atomic_fetch_sub_explicit(&fp->bump, 1, memory_order_relaxed);
			/* A frame may have been freed meanwhile. */
			pfn = free_pop(fp);
			if (pfn == FRAME_NONE)
				return FRAME_NONE;
		} else {
			pfn = (uint32_t)b;
		}
	}
	/* wakeup_kswapd: this allocation leaves fewer than low free frames. */
	if (atomic_fetch_sub_explicit(&fp->nr_free, 1, memory_order_relaxed) <= fp->wmark_low &&
	    !atomic_load_explicit(&fp->kswapd_woken, memory_order_relaxed))
		atomic_store_explicit(&fp->kswapd_woken, true, memory_order_relaxed);
	f = &fp->frames[pfn];
	dirty = atomic_load_explicit(&f->flags, memory_order_relaxed) & PG_NEEDZERO;
	if (zero && dirty)
		memset(pfn_host(fp, pfn), 0, fp->geom->size);
	atomic_store_explicit(&f->flags, zero ? 0u : PG_NEEDZERO, memory_order_relaxed);
	atomic_store_explicit(&f->refcount, 1, memory_order_relaxed);
	atomic_store_explicit(&f->mapcount, 0, memory_order_relaxed);
	/* Read without a lock by reclaim's isolation (the owner and index it finds). */
	__atomic_store_n(&f->index, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&f->owner, NULL, __ATOMIC_RELAXED);
	f->lru_prev = FRAME_NONE;
	return pfn;
}

struct hstate *pfn_hstate(struct frame_pool *fp, uint32_t pfn)
{
	struct hstate *hs = &fp->hs[HSTATE_PMD];

	return pfn >= hs->base && pfn - hs->base < ((uint64_t)hs->nr << hs->order)
		   ? hs
		   : &fp->hs[HSTATE_PUD];
}

uint32_t huge_page_take(struct hstate *hs)
{
	uint32_t h;

	if (!hs->nr_free)
		return FRAME_NONE;
	h = hs->free_stack[--hs->nr_free];
	__atomic_store_n(&hs->live[h], 1u << hs->order, __ATOMIC_RELAXED);
	hs->restore[h] = 0;
	return hs->base + (h << hs->order);
}

void huge_page_prepare(struct frame_pool *fp, struct hstate *hs, uint32_t pfn)
{
	uint64_t size = 1ULL << hs->order;

	/* clear_huge_page: a huge page is zeroed whenever it is handed out. */
	zero_streaming(pfn_host(fp, pfn), pg_bytes(fp->geom, size));
	for (uint64_t k = 0; k < size; k++) {
		struct frame *f = &fp->frames[pfn + k];

		atomic_store_explicit(&f->flags, PG_HUGETLB | PG_UPTODATE, memory_order_relaxed);
		atomic_store_explicit(&f->refcount, 1, memory_order_relaxed);
		atomic_store_explicit(&f->mapcount, 0, memory_order_relaxed);
		f->index = 0;
		f->owner = NULL;
	}
}

/*
 * A frame of a huge page lost its last reference: the huge page goes back
 * to its pool when it was the last of its frames (free_huge_folio), with
 * the reservation a zap marked it to restore.
 */
static void huge_frame_free(struct frame_pool *fp, uint32_t pfn)
{
	struct hstate *hs = pfn_hstate(fp, pfn);
	uint32_t h = (pfn - hs->base) >> hs->order;

	fp->frames[pfn].owner = NULL;
	atomic_store_explicit(&fp->frames[pfn].flags, PG_HUGETLB | PG_FREE, memory_order_relaxed);
	/* Only the last frame of the huge page takes the pool's lock. */
	if (__atomic_sub_fetch(&hs->live[h], 1, __ATOMIC_ACQ_REL))
		return;
	pthread_mutex_lock(&fp->hlock);
	if (hs->restore[h])
		hs->resv++;
	hs->restore[h] = 0;
	hs->free_stack[hs->nr_free++] = h;
	pthread_mutex_unlock(&fp->hlock);
}

void frame_free(struct frame_pool *fp, uint32_t pfn)
{
	struct frame *f = &fp->frames[pfn];

	if (atomic_load_explicit(&f->flags, memory_order_relaxed) & PG_HUGETLB) {
		huge_frame_free(fp, pfn);
		return;
	}
	f->owner = NULL;
	/* Every frame that was handed out may hold data: zero before reuse. */
	atomic_store_explicit(&f->flags, PG_FREE | PG_NEEDZERO, memory_order_relaxed);
	free_push(fp, pfn);
	atomic_fetch_add_explicit(&fp->nr_free, 1, memory_order_relaxed);
}

void frame_put(struct frame_pool *fp, uint32_t pfn)
{
	struct frame *f = &fp->frames[pfn];
	uint32_t fl;

	if (atomic_fetch_sub_explicit(&f->refcount, 1, memory_order_acq_rel) != 1)
		return;
	fl = atomic_load_explicit(&f->flags, memory_order_acquire);
	/* Still on the add batch: whichever of us and the drain comes second frees it. */
	if ((fl & PG_LRU_PENDING) &&
	    (atomic_fetch_or(&f->flags, PG_PUT_DEFERRED) & PG_LRU_PENDING))
		return;
	/* __folio_put: off its LRU list first (an anonymous page, listed by the drain). */
	if (fl & (PG_LRU | PG_LRU_PENDING))
		lru_del(fp->lru, fp, pfn);
	frame_free(fp, pfn);
}

/*
 * Each pool: free huge pages listed once, none with a live frame, and the
 * live counts equal to the frames not free; reservations within the free.
 */
static int hstate_check(struct frame_pool *fp, char *why, size_t n)
{
	int err = 0;

	pthread_mutex_lock(&fp->hlock);
	for (int i = 0; i < 2 && !err; i++) {
		struct hstate *hs = &fp->hs[i];
		uint64_t free = 0;

		for (uint32_t h = 0; h < hs->nr && !err; h++) {
			uint32_t live = 0;

			for (uint64_t k = 0; k < (1ULL << hs->order); k++)
				live += !(atomic_load(
					      &fp->frames[hs->base + ((uint64_t)h << hs->order) + k]
						   .flags) &
					  PG_FREE);
			free += !live;
			if (live != __atomic_load_n(&hs->live[h], __ATOMIC_RELAXED))
				err = -EUCLEAN;
		}
		for (uint32_t j = 0; j < hs->nr_free && !err; j++)
			if (__atomic_load_n(&hs->live[hs->free_stack[j]], __ATOMIC_RELAXED))
				err = -EUCLEAN;
		/* resv may dip below 0: a zap restores before the close gives back. */
		if (!err && (free != hs->nr_free || hs->resv > (int64_t)hs->nr_free))
			err = -EUCLEAN;
		if (err)
			snprintf(why, n,
				 "huge page pool %d: %u free of %u, %lld reserved, inconsistent", i,
				 hs->nr_free, hs->nr, (long long)hs->resv);
	}
	pthread_mutex_unlock(&fp->hlock);
	return err;
}

int frame_pool_check(struct frame_pool *fp, char *why, size_t n)
{
	uint64_t listed = 0;
	uint32_t pfn;

	uint64_t bump = atomic_load(&fp->bump) < fp->limit ? atomic_load(&fp->bump) : fp->limit;

	for (pfn = top_pfn(atomic_load(&fp->free_top)); pfn != FRAME_NONE;
	     pfn = fp->frames[pfn].lru_next) {
		struct frame *f = &fp->frames[pfn];

		if (pfn >= bump || !(atomic_load(&f->flags) & PG_FREE) ||
		    atomic_load(&f->refcount) != 0 || atomic_load(&f->mapcount) != 0) {
			snprintf(why, n, "frame %u on the free list is in use", pfn);
			return -EUCLEAN;
		}
		if (++listed > fp->nframes) {
			snprintf(why, n, "free list has a cycle");
			return -EUCLEAN;
		}
	}
	if (listed + (fp->limit - bump) != atomic_load(&fp->nr_free)) {
		snprintf(why, n, "nr_free %llu, but %llu listed and %llu never used",
			 (unsigned long long)atomic_load(&fp->nr_free), (unsigned long long)listed,
			 (unsigned long long)(fp->limit - bump));
		return -EUCLEAN;
	}
	return hstate_check(fp, why, n);
}
