/*
 * Page tables: declarations of pagetable.c (PTEs and the multi-level
 * tables). Layer: pgtable, above host/alloc.
 */
#ifndef UM_PGTABLE_H
#define UM_PGTABLE_H

#include "internal.h"

struct frame_pool;
struct um_system;

/*
 * A leaf entry (PTE). Present entries hold the frame number above the flag
 * bits; the layout follows x86-64 for the low bits.
 */
typedef uint64_t pte_t;

#define PTE_PRESENT (1ULL << 0)
#define PTE_WRITE (1ULL << 1)
#define PTE_USER (1ULL << 2)
#define PTE_ACCESSED (1ULL << 5)
#define PTE_DIRTY (1ULL << 6)
#define PTE_SPECIAL (1ULL << 9)	/* the zero frame: no refcount, not in RSS */
#define PTE_SOFT_DIRTY (1ULL << 11)
/* A guard region's PTE marker (MADV_GUARD_INSTALL): not present, no frame. */
#define PTE_GUARD (1ULL << 10)
/*
 * A swap entry (swapfile.c): not present, bit 7 set, the entry (type and
 * offset, as swap.h encodes it) from bit 12 up. Distinct from PTE_GUARD.
 */
#define PTE_SWAPENT (1ULL << 7)
#define PTE_SWP_SHIFT 12

static inline bool pte_is_swap(uint64_t pte)
{
	return (pte & (PTE_SWAPENT | 1ULL)) == PTE_SWAPENT;
}

static inline uint64_t swp_entry_to_pte(uint64_t entry)
{
	return (entry << PTE_SWP_SHIFT) | PTE_SWAPENT;
}

static inline uint64_t pte_to_swp_entry(uint64_t pte)
{
	return pte >> PTE_SWP_SHIFT;
}
#define PTE_PFN_SHIFT 12
#define PTE_PFN_MASK 0x000ffffffffff000ULL

static inline uint32_t pte_pfn(pte_t pte)
{
	return (uint32_t)((pte & PTE_PFN_MASK) >> PTE_PFN_SHIFT);
}

static inline pte_t pfn_pte(uint32_t pfn, uint64_t bits)
{
	return ((uint64_t)pfn << PTE_PFN_SHIFT) | bits;
}

/*
 * Page-table geometry for a page size: levels of page_size/8 entries, as
 * hardware builds them (x86-64's four levels of 512 for 4 KiB pages; three
 * levels for 16 and 64 KiB pages, as arm64). The top level may be partial.
 */
struct pgtable {
	struct um_system *sys;
	struct frame_pool *fp;		/* the frames its tables are made of */
	_Atomic uint64_t *root;		/* top-level table */
	uint32_t levels;
	const struct page_geom *geom;	/* the system's (um_system.geom) */
	uint32_t bits_per_level;	/* log2(entries per table) */
	uint32_t top_bits;		/* bits resolved by the top level */
	uint8_t shift[8];		/* per level: the address bit its index starts at */
	uint64_t mask[8];		/* per level: entries - 1 */
	_Atomic uint64_t nr_tables;	/* tables allocated below the root */
};

/* geom is kept, not copied: it outlives the tables. */
UM_INTERNAL int pgtable_init(struct pgtable *pt, struct um_system *sys, struct frame_pool *fp,
			     const struct page_geom *geom);
/* Frees every table; the caller has already dropped the frames. */
UM_INTERNAL void pgtable_destroy(struct pgtable *pt);
/*
 * The leaf slot for va, allocating missing tables when alloc is true
 * (concurrent callers under a shared mm lock are safe). NULL when a table is
 * missing and alloc is false, or on allocation failure.
 */
UM_INTERNAL _Atomic pte_t *pgtable_walk(struct pgtable *pt, uint64_t va, bool alloc);
/*
 * The leaf slots for [va, *span_end) where *span_end = min(end, end of va's
 * leaf table). When the leaf table is absent (and alloc is false) returns NULL
 * with *span_end at the end of the absent region (clipped to end), so that
 * holes are skipped a table at a time.
 */
UM_INTERNAL _Atomic pte_t *pgtable_span(struct pgtable *pt, uint64_t va, uint64_t end,
					uint64_t *span_end, bool alloc);
/*
 * Moves the entries of [old, old + len) to [new, new + len) (ranges that do
 * not overlap, page aligned): whole leaf tables where both sides are aligned
 * to one, entries elsewhere. Every table it needs is made before anything
 * moves: -ENOMEM leaves the entries where they were. The mm lock is held
 * exclusive.
 */
UM_INTERNAL int pgtable_move(struct pgtable *pt, uint64_t old, uint64_t new, uint64_t len);
/* Frees leaf and interior tables wholly inside [start, end) that are empty. */
UM_INTERNAL void pgtable_free_range(struct pgtable *pt, uint64_t start, uint64_t end);
/* What one leaf table maps: the bytes of a PMD entry on x86-64 (2 MiB with 4 KiB pages). */
UM_INTERNAL uint64_t pgtable_leaf_span(const struct pgtable *pt);
/* Bytes of tables below the root (Linux's VmPTE counts PTE, PMD and PUD tables). */
UM_INTERNAL uint64_t pgtable_bytes(const struct pgtable *pt);
/* Calls fn with the frame of every table, the root's included (um_check's recount). */
UM_INTERNAL void pgtable_each_table(const struct pgtable *pt, void (*fn)(uint32_t pfn, void *arg),
				    void *arg);
UM_INTERNAL int pgtable_check(const struct pgtable *pt, char *why, size_t n);

#endif /* UM_PGTABLE_H */
