/*
 * pagetable.c: multi-level page tables as hardware walks them.
 *
 * A table is one page of 64-bit entries (page_size / 8 of them). An interior
 * entry holds the host address of the next table with bit 0 set; a leaf
 * entry is a pte_t (pgtable.h). For 4 KiB pages this is x86-64's four
 * levels of 512 entries over a 47-bit user space (the top level uses 256);
 * 16 KiB and 64 KiB pages give three levels, as on arm64.
 *
 * Invariants:
 *   1. Every interior entry is 0 or (table address | 1); tables are owned by
 *      exactly one parent entry.
 *   2. nr_tables counts the tables below the root.
 *   3. Tables are added with compare-and-swap (callers may hold the mm lock
 *      shared) and removed only under the exclusive mm lock.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "frame.h"
#include "host.h"
#include "pgtable.h"

#define USER_VA_BITS 47
#define TABLE_PRESENT 1ULL

static inline size_t table_bytes(const struct pgtable *pt)
{
	return pt->geom->size;
}

static inline uint32_t level_shift(const struct pgtable *pt, uint32_t level)
{
	return pt->shift[level];
}

static inline uint32_t level_entries(const struct pgtable *pt, uint32_t level)
{
	return 1u << (level == 0 ? pt->top_bits : pt->bits_per_level);
}

static inline uint64_t level_index(const struct pgtable *pt, uint32_t level, uint64_t va)
{
	return (va >> pt->shift[level]) & pt->mask[level];
}

static inline _Atomic uint64_t *entry_table(uint64_t e)
{
	return (_Atomic uint64_t *)(uintptr_t)(e & ~TABLE_PRESENT);
}

/*
 * A table is a frame of physical memory, as on hardware: it counts against
 * MemFree (and shows as PageTables), and a table that cannot be had is an
 * allocation failure like a page's. The injector counts each as a heap
 * allocation.
 */
static _Atomic uint64_t *table_alloc(struct pgtable *pt)
{
	uint32_t pfn;

	if (um_alloc_injected(pt->sys))
		return NULL;
	pfn = frame_alloc(pt->fp, true);
	if (pfn == FRAME_NONE)
		return NULL;
	atomic_store_explicit(&pfn_frame(pt->fp, pfn)->flags, PG_TABLE, memory_order_relaxed);
	return (_Atomic uint64_t *)(void *)pfn_host(pt->fp, pfn);
}

static uint32_t table_pfn(const struct pgtable *pt, const _Atomic uint64_t *t)
{
	return (uint32_t)pg_count(pt->geom, (uint64_t)((const unsigned char *)t - pt->fp->base));
}

static void table_free(struct pgtable *pt, _Atomic uint64_t *t)
{
	frame_put(pt->fp, table_pfn(pt, t));
}

int pgtable_init(struct pgtable *pt, struct um_system *sys, struct frame_pool *fp,
		 const struct page_geom *geom)
{
	uint32_t bits = USER_VA_BITS - geom->shift;

	memset(pt, 0, sizeof(*pt));
	pt->sys = sys;
	pt->fp = fp;
	pt->geom = geom;
	pt->bits_per_level = geom->shift - 3;
	pt->levels = (bits + pt->bits_per_level - 1) / pt->bits_per_level;
	pt->top_bits = bits - (pt->levels - 1) * pt->bits_per_level;
	for (uint32_t l = 0; l < pt->levels; l++) {
		pt->shift[l] = (uint8_t)(geom->shift + (pt->levels - 1 - l) * pt->bits_per_level);
		pt->mask[l] = (1ULL << (l == 0 ? pt->top_bits : pt->bits_per_level)) - 1;
	}
	pt->root = table_alloc(pt);
	return pt->root ? 0 : -ENOMEM;
}

static void table_free_all(struct pgtable *pt, _Atomic uint64_t *t, uint32_t level)
{
	uint32_t i, n = level_entries(pt, level);

	if (level + 1 < pt->levels) {
		for (i = 0; i < n; i++) {
			uint64_t e = atomic_load_explicit(&t[i], memory_order_relaxed);

			if (e)
				table_free_all(pt, entry_table(e), level + 1);
		}
	}
	if (level > 0)
		atomic_fetch_sub_explicit(&pt->nr_tables, 1, memory_order_relaxed);
	table_free(pt, t);
}

void pgtable_destroy(struct pgtable *pt)
{
	if (pt->root)
		table_free_all(pt, pt->root, 0);
	pt->root = NULL;
}

/* The next-level table under slot, allocating it when alloc is set. */
static _Atomic uint64_t *descend(struct pgtable *pt, _Atomic uint64_t *slot, bool alloc)
{
	uint64_t e = atomic_load_explicit(slot, memory_order_acquire);
	_Atomic uint64_t *t;
	uint64_t expect = 0;

	if (e)
		return entry_table(e);
	if (!alloc)
		return NULL;
	t = table_alloc(pt);
	if (!t)
		return NULL;
	if (atomic_compare_exchange_strong_explicit(slot, &expect, (uint64_t)(uintptr_t)t |
							    TABLE_PRESENT,
						    memory_order_acq_rel, memory_order_acquire)) {
		atomic_fetch_add_explicit(&pt->nr_tables, 1, memory_order_relaxed);
		return t;
	}
	/* Another thread installed one first. */
	table_free(pt, t);
	return entry_table(expect);
}

_Atomic pte_t *pgtable_walk(struct pgtable *pt, uint64_t va, bool alloc)
{
	_Atomic uint64_t *t = pt->root;
	uint32_t level, last = pt->levels - 1;

	for (level = 0; level < last; level++) {
		_Atomic uint64_t *slot = &t[(va >> pt->shift[level]) & pt->mask[level]];
		uint64_t e = atomic_load_explicit(slot, memory_order_acquire);

		/* The common case, a table that exists, without a call. */
		t = likely(e) ? entry_table(e) : descend(pt, slot, alloc);
		if (!t)
			return NULL;
	}
	return (_Atomic pte_t *)&t[(va >> pt->shift[last]) & pt->mask[last]];
}

_Atomic pte_t *pgtable_span(struct pgtable *pt, uint64_t va, uint64_t end, uint64_t *span_end,
			    bool alloc)
{
	_Atomic uint64_t *t = pt->root;
	uint32_t level;
	uint64_t cover, stop;

	for (level = 0; level + 1 < pt->levels; level++) {
		_Atomic uint64_t *next = descend(pt, &t[level_index(pt, level, va)], alloc);

		if (!next) {
			cover = 1ULL << level_shift(pt, level);
			stop = (va | (cover - 1)) + 1;
			*span_end = stop < end ? stop : end;
			return NULL;
		}
		t = next;
	}
	cover = 1ULL << level_shift(pt, pt->levels - 2 + (pt->levels == 1));
	stop = (va | (cover - 1)) + 1;
	*span_end = stop < end ? stop : end;
	return (_Atomic pte_t *)&t[level_index(pt, pt->levels - 1, va)];
}

static bool table_empty(const struct pgtable *pt, _Atomic uint64_t *t, uint32_t level)
{
	uint32_t i, n = level_entries(pt, level);

	for (i = 0; i < n; i++)
		if (atomic_load_explicit(&t[i], memory_order_relaxed))
			return false;
	return true;
}

/* Frees the empty tables under t (at level) that [start, end) touches. */
static void free_range(struct pgtable *pt, _Atomic uint64_t *t, uint32_t level, uint64_t start,
		       uint64_t end)
{
	uint32_t shift = level_shift(pt, level);
	uint64_t cover = 1ULL << shift;
	uint64_t va = start;

	while (va < end) {
		_Atomic uint64_t *slot = &t[level_index(pt, level, va)];
		uint64_t e = atomic_load_explicit(slot, memory_order_relaxed);
		uint64_t next = (va | (cover - 1)) + 1;
		_Atomic uint64_t *child;

		if (next > end || next == 0)
			next = end;
		if (e) {
			child = entry_table(e);
			if (level + 2 < pt->levels)
				free_range(pt, child, level + 1, va, next);
			if (table_empty(pt, child, level + 1)) {
				atomic_store_explicit(slot, 0, memory_order_relaxed);
				atomic_fetch_sub_explicit(&pt->nr_tables, 1, memory_order_relaxed);
				table_free(pt, child);
			}
		}
		va = next;
	}
}

void pgtable_free_range(struct pgtable *pt, uint64_t start, uint64_t end)
{
	if (pt->levels > 1 && start < end)
		free_range(pt, pt->root, 0, start, end);
}

uint64_t pgtable_leaf_span(const struct pgtable *pt)
{
	return pt->levels > 1 ? 1ULL << pt->shift[pt->levels - 2] : 1ULL << 47;
}

uint64_t pgtable_bytes(const struct pgtable *pt)
{
	return atomic_load_explicit(&pt->nr_tables, memory_order_relaxed) * table_bytes(pt);
}

static uint64_t count_tables(const struct pgtable *pt, _Atomic uint64_t *t, uint32_t level,
			     int *bad)
{
	uint32_t i, n = level_entries(pt, level);
	uint64_t total = 0;

	for (i = n; i < table_bytes(pt) / 8; i++)
		if (atomic_load_explicit(&t[i], memory_order_relaxed))
			*bad = 1; /* entries beyond the top level's span */
	if (level + 1 >= pt->levels)
		return 0;
	for (i = 0; i < n; i++) {
		uint64_t e = atomic_load_explicit(&t[i], memory_order_relaxed);

		if (!e)
			continue;
		if (!(e & TABLE_PRESENT))
			*bad = 1;
		total += 1 + count_tables(pt, entry_table(e), level + 1, bad);
	}
	return total;
}

int pgtable_check(const struct pgtable *pt, char *why, size_t n)
{
	int bad = 0;
	uint64_t tables = count_tables(pt, pt->root, 0, &bad);

	if (bad) {
		snprintf(why, n, "page table has a malformed interior entry");
		return -EUCLEAN;
	}
	if (tables != atomic_load(&pt->nr_tables)) {
		snprintf(why, n, "page table count %llu, recount %llu",
			 (unsigned long long)atomic_load(&pt->nr_tables),
			 (unsigned long long)tables);
		return -EUCLEAN;
	}
	return 0;
}

/*
 * The slot that points to va's leaf table (a PMD entry with 4 KiB pages),
 * making the interior tables above it when alloc is set; NULL when one is
 * missing (or cannot be made).
 */
static _Atomic uint64_t *leaf_parent(struct pgtable *pt, uint64_t va, bool alloc)
{
	_Atomic uint64_t *t = pt->root;

	for (uint32_t level = 0; level + 2 < pt->levels; level++) {
		t = descend(pt, &t[level_index(pt, level, va)], alloc);
		if (!t)
			return NULL;
	}
	return &t[level_index(pt, pt->levels - 2, va)];
}

/*
 * Moves the entries s[] of [src, src + bytes) (one leaf table's worth at
 * most) to dst, a destination table at a time. The first pass (!doit) only
 * makes the destination tables: for every source table, empty or not, as
 * move_page_tables allocates one for each source PMD that has a table.
 */
static int move_entries(struct pgtable *pt, _Atomic pte_t *s, uint64_t dst, uint64_t bytes,
			bool doit)
{
	const struct page_geom *g = pt->geom;
	uint64_t k, kend, dend;

	for (k = 0; k < bytes; k = kend) {
		_Atomic pte_t *d = pgtable_span(pt, dst + k, dst + bytes, &dend, false);
		uint64_t first = pg_count(g, k);

		kend = dend - dst;
		if (!doit) {
			if (!d && !pgtable_span(pt, dst + k, dst + bytes, &dend, true))
				return -ENOMEM;
			continue;
		}
		const uint64_t nr_ptes = pg_count(g, kend);
		for (uint64_t i = first; i < nr_ptes; i++) {
			/* Exchange: truncate may zap the entry from another mm's side. */
			pte_t pte = atomic_load_explicit(&s[i], memory_order_relaxed) ?
					    atomic_exchange_explicit(&s[i], 0, memory_order_acq_rel) : 0;

			if (pte)
				atomic_store_explicit(&d[i - first], pte, memory_order_release);
		}
	}
	return 0;
}

int pgtable_move(struct pgtable *pt, uint64_t old, uint64_t new, uint64_t len)
{
	uint64_t leaf = 1ULL << pt->shift[pt->levels - 2]; /* what one leaf table maps */
	uint64_t off, next, span_end;

	for (int doit = 0; doit < 2; doit++) {
		for (off = 0; off < len; off = next) {
			_Atomic pte_t *s = pgtable_span(pt, old + off, old + len, &span_end, false);
			uint64_t bytes = span_end - (old + off);

			next = off + bytes;
			if (!s)
				continue;
			/*
			 * A whole leaf table on both sides, and none yet at the
			 * destination: move the table itself, one entry above
			 * (move_pgt_entry). Nothing else changes hands.
			 */
			if (bytes == leaf && !((old + off) & (leaf - 1)) && !((new + off) & (leaf - 1))) {
				_Atomic uint64_t *dp = leaf_parent(pt, new + off, true);

				if (!dp)
					return -ENOMEM;
				if (!atomic_load_explicit(dp, memory_order_relaxed)) {
					if (doit) {
						_Atomic uint64_t *sp = leaf_parent(pt, old + off, false);

						atomic_store_explicit(dp, atomic_load(sp), memory_order_release);
						atomic_store_explicit(sp, 0, memory_order_release);
					}
					continue;
				}
			}
			if (move_entries(pt, s, new + off, bytes, doit))
				return -ENOMEM;
		}
	}
	return 0;
}

static void each_table(const struct pgtable *pt, _Atomic uint64_t *t, uint32_t level,
		       void (*fn)(uint32_t pfn, void *arg), void *arg)
{
	fn(table_pfn(pt, t), arg);
	if (level + 1 >= pt->levels)
		return;
	for (uint32_t i = 0, n = level_entries(pt, level); i < n; i++) {
		uint64_t e = atomic_load_explicit(&t[i], memory_order_relaxed);

		if (e & TABLE_PRESENT)
			each_table(pt, entry_table(e), level + 1, fn, arg);
	}
}

void pgtable_each_table(const struct pgtable *pt, void (*fn)(uint32_t pfn, void *arg), void *arg)
{
	if (pt->root)
		each_table(pt, pt->root, 0, fn, arg);
}
