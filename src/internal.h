/*
 * What every file of the library shares: the public API, the attributes,
 * the address-space constants and the page-size helpers. Each concept's structures and functions
 * are declared in its own header, next to its sources, named as Linux
 * names them; a file includes the headers of what it uses.
 *
 * The headers, with the layer of their sources (docs/architecture.md,
 * "Layers"; a header includes only headers of lower layers, and names the
 * structures of higher ones by forward declaration only):
 *   host.h       host.c, alloc.c                               1
 *   frame.h      frame.c                                       2
 *   lru.h        lru.c                                         2
 *   pgtable.h    pagetable.c                                   2
 *   tlb.h        tlb.c, access.c                               2, 9
 *   cred.h       cred.c                                        3
 *   vma.h        vma.c, rmap.c, vma_ops.c                      4, 7
 *   pagecache.h  pagecache.c                                   5
 *   vmscan.h     vmscan.c                                      5
 *   oom.h        oom_kill.c                                    5
 *   fs.h         inode.c, fdtable.c, writeback.c, truncate.c   5, 6
 *   mm.h         mm.c, commit.c, resource.c, guard.c, and the  4, 3, 6, 10
 *                system calls: mmap.c, mprotect.c, mremap.c,
 *                mlock.c, madvise.c, brk.c, mincore.c, process.c
 *   hugetlb.h    hugetlb.c                                     6
 *   fault.h      fault.c, gup.c                                8, 9
 *   namei.h      namei.c, attr.c                               10
 *   system.h     system.c, procfs.c                            11
 *
 * Locking, outermost first:
 *   1. mm->lock (mmap_lock): shared for faults and accesses, exclusive for
 *      calls that change VMAs (mmap, munmap, mprotect, fork of the parent,
 *      exec, exit).
 *   2. mm->pt_lock: anon_vma_prepare under a shared mm lock.
 *   3. inode->lock: the page-cache tree of one inode.
 *   4. frame_pool.hlock: the huge page pools (the free list of frames is
 *      a lock-free stack).
 *   5. lruvec.lock (lru_lock): the LRU lists of page-cache frames.
 * An inode's invalidate_lock is taken outside its lock (faults shared,
 * under the mm lock; write-back and truncate exclusive), its i_mmap_lock
 * inside it (write-back).
 * Page-table entries are changed with compare-and-swap under a shared mm
 * lock, or plainly under the exclusive one. Frame reference and map counts
 * are atomic.
 */
#ifndef UM_INTERNAL_H
#define UM_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "usermm.h"

/*
 * UM_DEBUG=1 (the sanitizer build the unit tests link, make check): every
 * change of an mm's VMAs is followed by validate_mm, as Linux's
 * CONFIG_DEBUG_VM_MAPLE_TREE does.
 */
#ifndef UM_DEBUG
#define UM_DEBUG 0
#endif

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define UM_INTERNAL __attribute__((visibility("hidden")))

/* x86-64 user address space: 47 bits, less the top page (um_system.task_size). */
#define USER_VA_END (1ULL << 47)
#define STACK_GAP_MIN (128ULL << 20)

/*
 * The page size of a system, kept once (um_system.geom, set by
 * um_system_new); the frame pool and the page tables read it through a
 * pointer. The TLB keeps its own copy in struct um_tlb, for the inline
 * probes of embedders.
 */
struct page_geom {
	uint32_t shift;		/* PAGE_SHIFT: 12 .. 16 */
	uint64_t size;		/* PAGE_SIZE: 1 << shift */
	uint64_t mask;		/* size - 1: the offset bits (Linux's PAGE_MASK is ~mask) */
};

/* Bytes to whole pages, rounded down (PHYS_PFN, PFN_DOWN). */
static inline uint64_t pg_count(const struct page_geom *g, uint64_t bytes)
{
	return bytes >> g->shift;
}

/* Bytes to pages, rounded up (PFN_UP); bytes <= UINT64_MAX - mask. */
static inline uint64_t pg_count_up(const struct page_geom *g, uint64_t bytes)
{
	return (bytes + g->mask) >> g->shift;
}

/* Pages to bytes (PFN_PHYS). */
static inline uint64_t pg_bytes(const struct page_geom *g, uint64_t pages)
{
	return pages << g->shift;
}

/* x rounded up to a page boundary (PAGE_ALIGN); x <= UINT64_MAX - mask. */
static inline uint64_t page_align(const struct page_geom *g, uint64_t x)
{
	return (x + g->mask) & ~g->mask;
}

/* x rounded down to a page boundary (PAGE_ALIGN_DOWN). */
static inline uint64_t page_align_down(const struct page_geom *g, uint64_t x)
{
	return x & ~g->mask;
}

/* x's offset in its page (offset_in_page). */
static inline uint64_t offset_in_page(const struct page_geom *g, uint64_t x)
{
	return x & g->mask;
}

/* Whether x is on a page boundary (PAGE_ALIGNED). */
static inline bool page_aligned(const struct page_geom *g, uint64_t x)
{
	return !(x & g->mask);
}

#endif /* UM_INTERNAL_H */
