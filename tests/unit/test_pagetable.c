/*
 * Page tables (pagetable.c), tested from inside: the geometry for each page
 * size, walks that allocate, spans that skip holes a table at a time, and
 * freeing empty tables.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <cmocka.h>

#include "pgtable.h"
#include "system.h"

static struct um_system *sys_with_page(uint32_t page_size)
{
	struct um_config cfg;
	struct um_system *sys;

	um_config_init(&cfg);
	cfg.page_size = page_size;
	cfg.phys_bytes = 16ULL << 20;
	assert_int_equal(um_system_new(&cfg, &sys), 0);
	return sys;
}

static void check(const struct pgtable *pt)
{
	char why[256] = "";

	if (pgtable_check(pt, why, sizeof(why)))
		fail_msg("pgtable_check: %s", why);
}

/* x86-64: 4 levels of 512; 16 KiB and 64 KiB pages: 3 levels, as arm64. */
static void geometry_follows_page_size(void **state)
{
	static const struct {
		uint32_t page, levels, bits, top;
	} want[] = {
		{4096, 4, 9, 8}, {8192, 4, 10, 4}, {16384, 3, 11, 11}, {32768, 3, 12, 8},
		{65536, 3, 13, 5},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct um_system *sys = sys_with_page(want[i].page);
		struct pgtable pt;

		assert_int_equal(pgtable_init(&pt, sys, &sys->fp, &sys->geom), 0);
		assert_int_equal(pt.levels, want[i].levels);
		assert_int_equal(pt.bits_per_level, want[i].bits);
		assert_int_equal(pt.top_bits, want[i].top);
		/* The highest user page and the lowest both resolve to distinct slots. */
		_Atomic pte_t *hi = pgtable_walk(&pt, sys->task_size - want[i].page, true);
		_Atomic pte_t *lo = pgtable_walk(&pt, 0, true);

		assert_non_null(hi);
		assert_non_null(lo);
		assert_ptr_not_equal(hi, lo);
		atomic_store(hi, 0x1000 | PTE_PRESENT);
		assert_ptr_equal(pgtable_walk(&pt, sys->task_size - want[i].page, false), hi);
		assert_int_equal(atomic_load(pgtable_walk(&pt, sys->task_size - 1, false)),
				 0x1000 | PTE_PRESENT);
		check(&pt);
		atomic_store(hi, 0);
		pgtable_destroy(&pt);
		um_system_free(sys);
	}
}

/* 4 KiB pages: one leaf table is 2 MiB, one table above it 1 GiB. */
static void walk_allocates_only_when_asked(void **state)
{
	struct um_system *sys = sys_with_page(4096);
	struct pgtable pt;

	(void)state;
	assert_int_equal(pgtable_init(&pt, sys, &sys->fp, &sys->geom), 0);
	assert_null(pgtable_walk(&pt, 0x40000000, false));
	assert_int_equal(pgtable_bytes(&pt), 0);
	assert_non_null(pgtable_walk(&pt, 0x40000000, true));
	/* PUD, PMD and PTE tables: three below the root. */
	assert_int_equal(pgtable_bytes(&pt), 3 * 4096);
	assert_non_null(pgtable_walk(&pt, 0x40000000 + (2 << 20), true));
	assert_int_equal(pgtable_bytes(&pt), 4 * 4096);
	check(&pt);
	pgtable_destroy(&pt);
	um_system_free(sys);
}

static void span_skips_missing_tables(void **state)
{
	struct um_system *sys = sys_with_page(4096);
	struct pgtable pt;
	uint64_t end;

	(void)state;
	assert_int_equal(pgtable_init(&pt, sys, &sys->fp, &sys->geom), 0);
	/* Nothing mapped: the first span ends at the 512 GiB boundary of the top level. */
	assert_null(pgtable_span(&pt, 0x1000, sys->task_size, &end, false));
	assert_int_equal(end, 1ULL << 39);
	assert_non_null(pgtable_walk(&pt, 0x200000 + 5 * 4096, true));
	assert_null(pgtable_span(&pt, 0x1000, sys->task_size, &end, false));
	assert_int_equal(end, 0x200000); /* the missing leaf table below it */
	_Atomic pte_t *s = pgtable_span(&pt, 0x200000 + 4096, sys->task_size, &end, false);
	assert_non_null(s);
	assert_int_equal(end, 0x400000);
	assert_ptr_equal(s + 4, pgtable_walk(&pt, 0x200000 + 5 * 4096, false));
	/* Clipped to end. */
	assert_non_null(pgtable_span(&pt, 0x200000, 0x203000, &end, false));
	assert_int_equal(end, 0x203000);
	pgtable_destroy(&pt);
	um_system_free(sys);
}

static void free_range_frees_empty_tables_only(void **state)
{
	struct um_system *sys = sys_with_page(4096);
	struct pgtable pt;

	(void)state;
	assert_int_equal(pgtable_init(&pt, sys, &sys->fp, &sys->geom), 0);
	_Atomic pte_t *a = pgtable_walk(&pt, 0x200000, true);
	_Atomic pte_t *b = pgtable_walk(&pt, 0x400000, true);

	atomic_store(a, 0x5000 | PTE_PRESENT);
	atomic_store(b, 0x6000 | PTE_PRESENT);
	assert_int_equal(pgtable_bytes(&pt), 4 * 4096);
	/* b's table still holds an entry: nothing goes. */
	pgtable_free_range(&pt, 0x400000, 0x600000);
	assert_int_equal(pgtable_bytes(&pt), 4 * 4096);
	atomic_store(b, 0);
	pgtable_free_range(&pt, 0x400000, 0x600000);
	assert_int_equal(pgtable_bytes(&pt), 3 * 4096);
	atomic_store(a, 0);
	pgtable_free_range(&pt, 0, sys->task_size);
	assert_int_equal(pgtable_bytes(&pt), 0);
	check(&pt);
	pgtable_destroy(&pt);
	um_system_free(sys);
}

struct racer {
	struct pgtable *pt;
	_Atomic pte_t *got[64];
};

static void *race_walk(void *arg)
{
	struct racer *r = arg;

	for (int i = 0; i < 64; i++)
		r->got[i] = pgtable_walk(r->pt, (uint64_t)i << 30, true);
	return NULL;
}

/* Four threads allocating the same tables at once end with one table per slot. */
static void concurrent_walks_install_one_table(void **state)
{
	struct um_system *sys = sys_with_page(4096);
	struct pgtable pt;
	struct racer r[4];
	pthread_t th[4];

	(void)state;
	assert_int_equal(pgtable_init(&pt, sys, &sys->fp, &sys->geom), 0);
	for (int i = 0; i < 4; i++) {
		r[i].pt = &pt;
		pthread_create(&th[i], NULL, race_walk, &r[i]);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 64; i++)
		for (int k = 1; k < 4; k++)
			assert_ptr_equal(r[0].got[i], r[k].got[i]);
	/* 64 GiB-apart addresses: 1 PUD table, 64 PMD tables, 64 PTE tables. */
	assert_int_equal(pgtable_bytes(&pt), (1 + 64 + 64) * 4096);
	check(&pt);
	pgtable_destroy(&pt);
	um_system_free(sys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(geometry_follows_page_size),
		cmocka_unit_test(walk_allocates_only_when_asked),
		cmocka_unit_test(span_skips_missing_tables),
		cmocka_unit_test(free_range_frees_empty_tables_only),
		cmocka_unit_test(concurrent_walks_install_one_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
