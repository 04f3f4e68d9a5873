/*
 * Physical frames: declarations of frame.c (frame descriptors, the page
 * allocator, the huge page pools). Layer: frame, above host/alloc.
 */
#ifndef UM_FRAME_H
#define UM_FRAME_H

#include "internal.h"

/* Frame flags (struct page flags). */
enum {
	PG_ANON = 1u << 0,	  /* owner is an anon_vma */
	PG_DIRTY = 1u << 1,	  /* page-cache page newer than its file */
	PG_UPTODATE = 1u << 2,	  /* contents valid */
	PG_RESERVED = 1u << 3,	  /* the zero frame: never freed, never counted */
	PG_SWAPBACKED = 1u << 4,  /* shmem or anonymous */
	PG_WRITEBACK = 1u << 5,	  /* being written to its file */
	PG_MLOCKED = 1u << 6,	  /* mapped by a VM_LOCKED VMA */
	PG_LRU = 1u << 7,	  /* on an LRU list */
	PG_ACTIVE = 1u << 8,	  /* on the active list */
	PG_REFERENCED = 1u << 9,  /* referenced since last scan */
	PG_FREE = 1u << 10,	  /* on the free list */
	PG_NEEDZERO = 1u << 11,	  /* held data once: zero before reuse for anon */
	PG_ANON_EXCL = 1u << 12,  /* anon frame mapped by exactly one mm (PageAnonExclusive) */
	PG_READAHEAD = 1u << 13,  /* cache page: touching it starts asynchronous read-ahead */
	PG_HUGETLB = 1u << 14,	  /* a base page of a huge page of the hugetlb pool */
	PG_UNEVICTABLE = 1u << 15, /* on the unevictable LRU list: a VM_LOCKED VMA maps it */
	PG_LRU_PENDING = 1u << 16, /* on the lruvec's add batch, not yet listed (lru_add_batched) */
	PG_PUT_DEFERRED = 1u << 17, /* lost its last reference while pending: the drain frees it */
	PG_SWAPCACHE = 1u << 18,  /* in the swap cache (swapfile.c): one reference is the cache's */
	PG_TABLE = 1u << 19,	  /* a page table (pagetable.c): PageTables, one reference */
};

/*
 * A cache page belongs to a folio of 2^order pages, aligned on its size in
 * the file, as read-ahead allocated it; the order lives in the flags (every
 * page of the folio carries it, and PG_READAHEAD too when the folio has it).
 */
#define PG_ORDER_SHIFT 24
#define PG_ORDER_MASK (0xfu << PG_ORDER_SHIFT)
#define pg_order(flags) (((flags) & PG_ORDER_MASK) >> PG_ORDER_SHIFT)

/*
 * One physical frame (struct page). 32 bytes: this size per frame is a
 * published figure (docs/performance.md), keep it.
 */
struct frame {
	_Atomic uint32_t flags;
	_Atomic int32_t refcount; /* page-table maps + cache + transient pins */
	_Atomic int32_t mapcount; /* page-table entries that map this frame */
	uint32_t index;		  /* page index in owner: file offset, or anon linear index */
	void *owner;		  /* struct inode * (file/shmem), or the anon_vma family root
				   * (anonymous; NULL for a swap-cache page never mapped) */
	uint32_t lru_next;	  /* free list / LRU links (frame numbers) */
	uint32_t lru_prev;
};

#define FRAME_NONE UINT32_MAX
#define ZERO_PFN 0u

/*
 * One huge page size's pool (struct hstate): huge pages of 2^order frames,
 * aligned on their size, taken from the top of physical memory when the
 * machine is made (as vm.nr_hugepages at boot). Under frame_pool.hlock.
 * A huge page is free when none of its frames holds a reference.
 */
struct hstate {
	uint32_t order;		/* log2(frames per huge page) */
	uint32_t base;		/* first frame of the pool */
	uint32_t nr;		/* huge pages (HugePages_Total) */
	uint32_t nr_free;	/* HugePages_Free */
	int64_t resv;		/* reserved, not yet faulted in (HugePages_Rsvd) */
	uint32_t *free_stack;	/* free huge page numbers, nr_free of them */
	uint32_t *live;		/* per huge page: its frames with a reference */
	uint8_t *restore;	/* per huge page: give a reservation back when freed */
};

#define HSTATE_PMD 0
#define HSTATE_PUD 1

struct lruvec;

struct frame_pool {
	unsigned char *base;	/* frame memory: one host reservation */
	struct lruvec *lru;	/* the system's LRU lists: a frame freed while listed leaves them */
	struct frame *frames;	/* descriptors: one host reservation */
	uint64_t nframes;
	uint64_t limit;		/* frames [limit, nframes) are the huge page pools */
	struct hstate hs[2];	/* HSTATE_PMD, HSTATE_PUD */
	pthread_mutex_t hlock;	/* hugetlb_lock: the pools */
	const struct page_geom *geom;	/* the system's (um_system.geom) */
	size_t reserve_bytes;	/* of base */
	size_t desc_bytes;	/* of frames */
	_Atomic uint64_t bump;	/* frames [bump, nframes) never handed out (zero) */
	_Atomic uint64_t free_top; /* free stack through lru_next: (ABA tag << 32) | pfn */
	_Atomic uint64_t nr_free;
	/*
	 * wakeup_kswapd: an allocation that leaves fewer than wmark_low free
	 * frames (the lruvec's, set by vmscan_init) sets kswapd_woken; the
	 * kswapd step (vmscan.c) clears it when it runs.
	 */
	uint64_t wmark_low;
	_Atomic bool kswapd_woken;
};

/*
 * huge[HSTATE_*]: the huge pages to set aside for each pool. geom is kept,
 * not copied: it outlives the pool.
 */
UM_INTERNAL int frame_pool_init(struct frame_pool *fp, uint64_t bytes,
				const struct page_geom *geom, const uint32_t huge[2]);
/*
 * Takes a free huge page of hs off its pool: its first frame, or
 * FRAME_NONE when the pool is empty. The caller holds fp->hlock and has
 * settled the reservation; then, without the lock, huge_page_prepare
 * zeroes it and gives each of its frames refcount 1 and mapcount 0.
 */
UM_INTERNAL uint32_t huge_page_take(struct hstate *hs);
UM_INTERNAL void huge_page_prepare(struct frame_pool *fp, struct hstate *hs, uint32_t pfn);
/* The pool that pfn's frame belongs to (its PG_HUGETLB flag set). */
UM_INTERNAL struct hstate *pfn_hstate(struct frame_pool *fp, uint32_t pfn);
UM_INTERNAL void frame_pool_destroy(struct frame_pool *fp);
/* Allocates a frame with refcount 1, mapcount 0; zeroed when zero is true. */
UM_INTERNAL uint32_t frame_alloc(struct frame_pool *fp, bool zero);
UM_INTERNAL void frame_free(struct frame_pool *fp, uint32_t pfn);
/* Drops one reference; frees the frame when it was the last. */
UM_INTERNAL void frame_put(struct frame_pool *fp, uint32_t pfn);
UM_INTERNAL int frame_pool_check(struct frame_pool *fp, char *why, size_t n);

static inline struct frame *pfn_frame(struct frame_pool *fp, uint32_t pfn)
{
	return &fp->frames[pfn];
}

static inline unsigned char *pfn_host(struct frame_pool *fp, uint32_t pfn)
{
	return fp->base + pg_bytes(fp->geom, pfn);
}

#endif /* UM_FRAME_H */
