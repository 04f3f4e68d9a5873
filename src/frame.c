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
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

_Static_assert(sizeof(struct frame) == 32, "a frame descriptor is 32 bytes");

int frame_pool_init(struct frame_pool *fp, uint64_t bytes, uint32_t page_shift)
{
	uint64_t n = bytes >> page_shift;

	memset(fp, 0, sizeof(*fp));
	if (n < 2 || n > FRAME_NONE)
		return -EINVAL;
	fp->page_shift = page_shift;
	fp->nframes = n;
	fp->reserve_bytes = (size_t)n << page_shift;
	fp->desc_bytes = (size_t)n * sizeof(struct frame);
	fp->base = mmap(NULL, fp->reserve_bytes, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (fp->base == MAP_FAILED)
		return -ENOMEM;
	fp->frames = mmap(NULL, fp->desc_bytes, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (fp->frames == MAP_FAILED) {
		munmap(fp->base, fp->reserve_bytes);
		return -ENOMEM;
	}
	/*
	 * Transparent huge pages make the host fault in 2 MiB at a time, so
	 * first use of frame memory costs about a memset rather than a host
	 * page fault per frame. Advice only: ignore failure.
	 */
	madvise(fp->base, fp->reserve_bytes, MADV_HUGEPAGE);
	atomic_init(&fp->free_top, FRAME_NONE);
	/* The zero frame. */
	atomic_store(&fp->frames[ZERO_PFN].flags, PG_RESERVED | PG_UPTODATE);
	atomic_store(&fp->frames[ZERO_PFN].refcount, 1);
	fp->frames[ZERO_PFN].lru_next = FRAME_NONE;
	fp->frames[ZERO_PFN].lru_prev = FRAME_NONE;
	atomic_store(&fp->bump, 1);
	atomic_store(&fp->nr_free, n - 1);
	return 0;
}

void frame_pool_destroy(struct frame_pool *fp)
{
	if (fp->base && fp->base != MAP_FAILED)
		munmap(fp->base, fp->reserve_bytes);
	if (fp->frames && fp->frames != MAP_FAILED)
		munmap(fp->frames, fp->desc_bytes);
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
		uint32_t next = __atomic_load_n(&fp->frames[top_pfn(top)].lru_next, __ATOMIC_RELAXED);

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

		if (b >= fp->nframes) {
			atomic_fetch_sub_explicit(&fp->bump, 1, memory_order_relaxed);
			/* A frame may have been freed meanwhile. */
			pfn = free_pop(fp);
			if (pfn == FRAME_NONE)
				return FRAME_NONE;
		} else {
			pfn = (uint32_t)b;
		}
	}
	atomic_fetch_sub_explicit(&fp->nr_free, 1, memory_order_relaxed);
	f = &fp->frames[pfn];
	dirty = atomic_load_explicit(&f->flags, memory_order_relaxed) & PG_NEEDZERO;
	if (zero && dirty)
		memset(pfn_host(fp, pfn), 0, (size_t)1 << fp->page_shift);
	atomic_store_explicit(&f->flags, zero ? 0u : PG_NEEDZERO, memory_order_relaxed);
	atomic_store_explicit(&f->refcount, 1, memory_order_relaxed);
	atomic_store_explicit(&f->mapcount, 0, memory_order_relaxed);
	f->index = 0;
	f->owner = NULL;
	f->lru_prev = FRAME_NONE;
	return pfn;
}

void frame_free(struct frame_pool *fp, uint32_t pfn)
{
	struct frame *f = &fp->frames[pfn];

	f->owner = NULL;
	/* Every frame that was handed out may hold data: zero before reuse. */
	atomic_store_explicit(&f->flags, PG_FREE | PG_NEEDZERO, memory_order_relaxed);
	free_push(fp, pfn);
	atomic_fetch_add_explicit(&fp->nr_free, 1, memory_order_relaxed);
}

void frame_put(struct frame_pool *fp, uint32_t pfn)
{
	struct frame *f = &fp->frames[pfn];

	if (atomic_fetch_sub_explicit(&f->refcount, 1, memory_order_acq_rel) == 1)
		frame_free(fp, pfn);
}

int frame_pool_check(struct frame_pool *fp, char *why, size_t n)
{
	uint64_t listed = 0;
	uint32_t pfn;

	uint64_t bump = atomic_load(&fp->bump) < fp->nframes ? atomic_load(&fp->bump) : fp->nframes;

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
	if (listed + (fp->nframes - bump) != atomic_load(&fp->nr_free)) {
		snprintf(why, n, "nr_free %llu, but %llu listed and %llu never used",
			 (unsigned long long)atomic_load(&fp->nr_free), (unsigned long long)listed,
			 (unsigned long long)(fp->nframes - bump));
		return -EUCLEAN;
	}
	return 0;
}
