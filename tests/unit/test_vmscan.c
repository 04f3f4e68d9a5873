/*
 * Page reclaim (vmscan.c, lru.c): the LRU lists of page-cache pages and
 * their second chance, reclaim unmapping a clean page from every process
 * that maps it (the next access refaults the same bytes, a major fault),
 * dirty pages written to the host file before they go, mlocked pages kept,
 * um_check clean after every step and no frame left after the end.
 */
#include "harness.h"

#define MS UM_MAP_SHARED
#define MP UM_MAP_PRIVATE

static uint64_t pages(uint64_t bytes)
{
	return bytes / PG;
}

/* A first read(2) references a page, a second moves it to the active list. */
static void read_twice_activates_a_page(void **state)
{
	struct env *e = boot_default(state);
	int fd = OPEN_PATTERN(e, "f", 4 * PG, UM_O_RDONLY);
	char buf[8];

	assert_ret(um_pread(e->p, fd, buf, 8, 0), 8);
	struct um_sys_stats st = sys_stats(e->sys);
	assert_int_equal(st.active_file, 0);
	assert_int_equal(st.inactive_file, st.cached_pages);
	CHECK(e);
	assert_ret(um_pread(e->p, fd, buf, 8, 0), 8);
	st = sys_stats(e->sys);
	assert_int_equal(st.active_file, 1);
	assert_int_equal(st.inactive_file + 1, st.cached_pages);
	assert_int_equal(buf[0], 'A');
	CHECK(e);
	finish(e);
}

/*
 * Page 1 read once by read(2), page 0 mapped and touched: reclaim takes
 * the unmapped page first; the mapped one, young, gets a second chance,
 * then goes, and the next load refaults it from the file.
 */
static void mapped_young_page_outlives_an_unmapped_one(void **state)
{
	struct env *e = boot_default(state);
	int fd = OPEN_PATTERN(e, "f", 2 * PG, UM_O_RDONLY);
	char buf[4];

	assert_ret(um_pread(e->p, fd, buf, 4, PG), 4);
	uint64_t a = MAP(e->p, PG, UM_PROT_READ, MP, fd, 0);
	assert_ret(um_madvise(e->p, a, PG, UM_MADV_RANDOM), 0);
	assert_int_equal(load_ok(e->p, a, 1, __LINE__), 'A');
	assert_int_equal(sys_stats(e->sys).cached_pages, 2);
	assert_ret(um_reclaim(e->sys, 1), 1);
	CHECK(e);
	assert_int_equal(sys_stats(e->sys).cached_pages, 1);
	assert_int_equal(pages(proc_stats(e->p).rss_file), 1);
	uint64_t maj = proc_stats(e->p).maj_flt;
	assert_ret(um_reclaim(e->sys, 1), 1);
	CHECK(e);
	assert_int_equal(sys_stats(e->sys).cached_pages, 0);
	assert_int_equal(proc_stats(e->p).rss_file, 0);
	assert_int_equal(load_ok(e->p, a + 17, 1, __LINE__), 'A');
	assert_int_equal(proc_stats(e->p).maj_flt, maj + 1);
	CHECK(e);
	finish(e);
}

/* A clean page mapped by two processes leaves both; each reads it back. */
static void reclaim_unmaps_a_clean_page_from_two_processes(void **state)
{
	struct env *e = boot_default(state);
	struct um_proc *q = new_proc(e);
	int fd = OPEN_PATTERN(e, "f", PG, UM_O_RDONLY);
	int fq = um_open(q, "f", UM_O_RDONLY, 0);

	assert_true(fq >= 0);
	uint64_t a = MAP(e->p, PG, UM_PROT_READ, MS, fd, 0);
	uint64_t b = MAP(q, PG, UM_PROT_READ, MS, fq, 0);
	assert_int_equal(load_ok(e->p, a, 1, __LINE__), 'A');
	assert_int_equal(load_ok(q, b, 1, __LINE__), 'A');
	assert_int_equal(pages(proc_stats(q).rss_file), 1);
	CHECK(e);
	assert_ret(um_reclaim(e->sys, 8), 1);
	CHECK(e);
	assert_int_equal(proc_stats(e->p).rss_file, 0);
	assert_int_equal(proc_stats(q).rss_file, 0);
	assert_int_equal(sys_stats(e->sys).cached_pages, 0);
	uint64_t maj = proc_stats(q).maj_flt;
	assert_int_equal(load_ok(q, b + PG - 1, 1, __LINE__), 'A');
	assert_int_equal(proc_stats(q).maj_flt, maj + 1);
	maj = proc_stats(e->p).maj_flt;
	assert_int_equal(load_ok(e->p, a + 5, 1, __LINE__), 'A');
	assert_int_equal(proc_stats(e->p).maj_flt, maj); /* cached again by q: minor */
	CHECK(e);
	um_exit(q);
	finish(e);
}

/* A page stored through a shared mapping reaches the file before it goes. */
static void dirty_page_is_written_back_before_it_goes(void **state)
{
	struct env *e = boot_default(state);
	int fd = OPEN_PATTERN(e, "f", PG, UM_O_RDWR);
	char got[4];

	uint64_t a = MAP(e->p, PG, RW, MS, fd, 0);
	store_ok(e->p, a + 8, 4, 0x21212121, __LINE__);
	assert_int_equal(sys_stats(e->sys).dirty_pages, 1);
	assert_ret(um_reclaim(e->sys, 1), 1);
	CHECK(e);
	assert_int_equal(sys_stats(e->sys).cached_pages, 0);
	assert_ret(hfile_pread(e, "f", got, 4, 8), 4);
	assert_memory_equal(got, "!!!!", 4);
	assert_int_equal(load_ok(e->p, a + 8, 4, __LINE__), 0x21212121);
	assert_int_equal(load_ok(e->p, a, 1, __LINE__), 'A');
	CHECK(e);
	finish(e);
}

/* An mlocked page stays (unevictable) until munlock. */
static void mlocked_page_stays_until_munlock(void **state)
{
	struct env e;

	(void)state;
	boot_plain(&e, 64, 1);
	host_pattern(&e, "f", 2 * PG);
	int fd = OPEN(e.p, "f", UM_O_RDONLY);
	uint64_t a = MAP(e.p, 2 * PG, UM_PROT_READ, MS, fd, 0);
	assert_ret(um_mlock(e.p, a, 2 * PG), 0);
	assert_ret(um_reclaim(e.sys, 16), 0);
	CHECK(&e);
	assert_int_equal(sys_stats(e.sys).unevictable, 2);
	assert_int_equal(pages(proc_stats(e.p).rss_file), 2);
	assert_ret(um_munlock(e.p, a, 2 * PG), 0);
	assert_ret(um_reclaim(e.sys, 16), 2);
	CHECK(&e);
	assert_int_equal(sys_stats(e.sys).unevictable, 0);
	assert_int_equal(load_ok(e.p, a + PG, 1, __LINE__), 'B');
	finish(&e);
}

/* Reclaim empties the cache of an exited process's files: no frame is left. */
static void nothing_is_left_after_exit_and_reclaim(void **state)
{
	struct env *e = boot_default(state);
	int fd = OPEN_PATTERN(e, "f", 64 * PG, UM_O_RDWR);
	char buf[64 * PG];

	assert_ret(um_read(e->p, fd, buf, sizeof buf), (long long)sizeof buf);
	uint64_t a = MAP(e->p, 64 * PG, RW, MS, fd, 0);
	store_ok(e->p, a + 3 * PG, 8, 7, __LINE__);
	um_exit(e->p);
	e->p = NULL;
	CHECK(e);
	assert_true(um_reclaim(e->sys, 1000) >= 64);
	CHECK(e);
	assert_int_equal(frames_used(e->sys), 0);
	assert_ret(um_reclaim(e->sys, 1), 0);
	finish(e);
}

/*
 * MADV_COLD: an active page-cache page mapped once goes back to the
 * inactive list with its accessed bit and PG_REFERENCED cleared; reclaim
 * then takes it, and the next load reads it back.
 */
static void madvise_cold_deactivates_a_mapped_page(void **state)
{
	struct env *e = boot_default(state);
	int fd = OPEN_PATTERN(e, "f", 2 * PG, UM_O_RDONLY);
	char buf[4];

	assert_ret(um_pread(e->p, fd, buf, 4, 0), 4);
	assert_ret(um_pread(e->p, fd, buf, 4, 0), 4);
	uint64_t a = MAP(e->p, PG, UM_PROT_READ, MP, fd, 0);
	assert_int_equal(load_ok(e->p, a, 1, __LINE__), 'A');
	assert_int_equal(sys_stats(e->sys).active_file, 1);
	assert_ret(um_madvise(e->p, a, PG, UM_MADV_COLD), 0);
	CHECK(e);
	struct um_sys_stats st = sys_stats(e->sys);
	assert_int_equal(st.active_file, 0);
	assert_int_equal(st.inactive_file, st.cached_pages);
	assert_int_equal(pages(proc_stats(e->p).rss_file), 1);
	assert_ret(um_reclaim(e->sys, 16), (long long)st.cached_pages);
	CHECK(e);
	assert_int_equal(proc_stats(e->p).rss_file, 0);
	assert_int_equal(load_ok(e->p, a + 1, 1, __LINE__), 'A');
	CHECK(e);
	finish(e);
}

/*
 * MADV_PAGEOUT with no swap: of four written anonymous pages, the two
 * MADV_FREE made lazyfree are discarded (their frames freed, reads see
 * zero), the others stay; a clean file page mapped once is dropped, a
 * dirty one is unmapped but stays cached, dirty, until written back.
 */
static void madvise_pageout_discards_lazyfree_and_clean_file_pages(void **state)
{
	struct env *e = boot_default(state);
	int fd = OPEN_PATTERN(e, "f", 2 * PG, UM_O_RDWR);

	uint64_t a = MAP(e->p, 4 * PG, RW, MP | UM_MAP_ANONYMOUS, -1, 0);
	fill_pages(e->p, a, 4, 1, __LINE__);
	uint64_t used = frames_used(e->sys);
	assert_ret(um_madvise(e->p, a, 2 * PG, UM_MADV_FREE), 0);
	assert_ret(um_madvise(e->p, a, 4 * PG, UM_MADV_PAGEOUT), 0);
	CHECK(e);
	assert_int_equal(frames_used(e->sys), used - 2);
	assert_int_equal(pages(proc_stats(e->p).rss_anon), 2);
	assert_int_equal(load_ok(e->p, a + PG, 8, __LINE__), 0);
	assert_int_equal(load_ok(e->p, a + 2 * PG, 8, __LINE__), 3);

	uint64_t f = MAP(e->p, 2 * PG, RW, MS, fd, 0);
	assert_int_equal(load_ok(e->p, f, 1, __LINE__), 'A');
	store_ok(e->p, f + PG, 1, 'z', __LINE__);
	assert_int_equal(pages(proc_stats(e->p).rss_file), 2);
	assert_ret(um_madvise(e->p, f, 2 * PG, UM_MADV_PAGEOUT), 0);
	CHECK(e);
	assert_int_equal(proc_stats(e->p).rss_file, 0);
	assert_int_equal(sys_stats(e->sys).cached_pages, 1);
	assert_int_equal(sys_stats(e->sys).dirty_pages, 1);
	assert_int_equal(load_ok(e->p, f + PG, 1, __LINE__), 'z');
	CHECK(e);
	finish(e);
}

/*
 * The accessed bit is set by the TLB fill, as hardware sets it: a mapped
 * page whose bit was cleared (by MADV_COLD, then by reclaim's scan, each
 * of which shoots the TLB down) and that is loaded again is young again,
 * so reclaim keeps it and takes a page read once by read(2) instead.
 */
static void reloaded_page_is_young_again(void **state)
{
	struct env *e = boot_default(state);
	int fd = OPEN_PATTERN(e, "f", 3 * PG, UM_O_RDONLY);
	char buf[4];

	uint64_t a = MAP(e->p, PG, UM_PROT_READ, MP, fd, 0);
	assert_ret(um_madvise(e->p, a, PG, UM_MADV_RANDOM), 0);
	assert_int_equal(load_ok(e->p, a, 1, __LINE__), 'A');
	assert_ret(um_madvise(e->p, a, PG, UM_MADV_COLD), 0);
	assert_int_equal(load_ok(e->p, a + 1, 1, __LINE__), 'A');
	assert_ret(um_pread(e->p, fd, buf, 4, PG), 4);
	/* Page 0, the oldest, is young again: page 1 goes. */
	assert_ret(um_reclaim(e->sys, 1), 1);
	CHECK(e);
	assert_int_equal(pages(proc_stats(e->p).rss_file), 1);
	assert_int_equal(sys_stats(e->sys).cached_pages, 1);
	/* That scan cleared its bit: a load sets it again, and page 2 goes. */
	assert_int_equal(load_ok(e->p, a + 2, 1, __LINE__), 'A');
	assert_ret(um_pread(e->p, fd, buf, 4, 2 * PG), 4);
	assert_ret(um_reclaim(e->sys, 1), 1);
	CHECK(e);
	assert_int_equal(pages(proc_stats(e->p).rss_file), 1);
	assert_int_equal(sys_stats(e->sys).cached_pages, 1);
	finish(e);
}

/*
 * Memory pressure with no swap takes lazily freeable pages: 12 MiB of a
 * 16 MiB machine written then MADV_FREE'd, 12 MiB more written: kswapd's
 * step, run by the faults, drops the old pages (their reads see zero)
 * instead of running out of frames; a page written again after the advice
 * survives, and the anon LRU lists count every anonymous page.
 */
static void reclaim_drops_lazyfree_pages(void **state)
{
	struct env e;
	const uint64_t n = (12ULL << 20) / PG;

	(void)state;
	boot_plain(&e, 16, 0);
	uint64_t a = MAP(e.p, n * PG, RW, MP | UM_MAP_ANONYMOUS, -1, 0);
	fill_pages(e.p, a, n, 1, __LINE__);
	struct um_sys_stats st = sys_stats(e.sys);
	assert_int_equal(st.inactive_anon + st.active_anon, n);
	assert_ret(um_madvise(e.p, a, n * PG, UM_MADV_FREE), 0);
	st = sys_stats(e.sys);
	assert_int_equal(st.inactive_anon + st.active_anon, 0);
	assert_int_equal(st.inactive_file, n);
	store_ok(e.p, a + 5 * PG, 8, 55, __LINE__);
	CHECK(&e);
	uint64_t b = MAP(e.p, n * PG, RW, MP | UM_MAP_ANONYMOUS, -1, 0);
	fill_pages(e.p, b, n, 1000, __LINE__);
	CHECK(&e);
	expect_pages(e.p, b, n, 1000, __LINE__);
	assert_int_equal(load_ok(e.p, a + 5 * PG, 8, __LINE__), 55);
	assert_int_equal(load_ok(e.p, a, 8, __LINE__), 0);
	/* Reclaim stops at the high watermark: some lazyfree pages are left. */
	assert_true(sys_stats(e.sys).inactive_file < n / 2);
	CHECK(&e);
	free_checked(e.sys);
}

/*
 * kswapd (wakeup_kswapd, balance_pgdat): a 24 MiB file read through a
 * mapping on a 16 MiB machine (watermarks min 128, low 160, high 192
 * frames). The fault that leaves fewer than low free frames wakes kswapd;
 * the next fault runs its step first, which reclaims up to high: free
 * frames go at most one below min (read-ahead stops at min), and reclaim
 * counts as kswapd's, never direct (that is for a batch kswapd's step
 * left below min, or an allocation that finds no frame).
 * um_kswapd_run balances at once, and finds nothing to do when balanced.
 */
static void kswapd_reclaims_below_low_before_direct(void **state)
{
	struct env e;
	const uint64_t n = (24ULL << 20) / PG, min = 128, low = 160, high = 192;
	uint64_t lowest = UINT64_MAX;

	(void)state;
	boot_plain(&e, 16, 0);
	int fd = OPEN_PATTERN(&e, "big", n * PG, UM_O_RDONLY);
	uint64_t a = MAP(e.p, n * PG, UM_PROT_READ, MS, fd, 0);
	for (uint64_t i = 0; i < n; i++) {
		load_ok(e.p, a + i * PG, 1, __LINE__);
		uint64_t free = sys_stats(e.sys).frames_free;
		if (free < lowest)
			lowest = free;
	}
	struct um_sys_stats st = sys_stats(e.sys);
	/* Read-ahead takes frames down to min, the faulting page one more. */
	assert_true(lowest >= min - 1 && lowest < low);
	assert_true(st.pgsteal_kswapd > n / 4); /* 1.5 times the machine read */
	assert_true(st.pgscan_kswapd >= st.pgsteal_kswapd);
	assert_true(st.pageoutrun > 0);
	assert_int_equal(st.pgscan_direct, 0);
	assert_int_equal(st.pgsteal_direct, 0);
	CHECK(&e);
	assert_true(um_kswapd_run(e.sys) >= 0);
	st = sys_stats(e.sys);
	assert_true(st.frames_free >= high);
	uint64_t runs = st.pageoutrun, stolen = st.pgsteal_kswapd;
	assert_ret(um_kswapd_run(e.sys), 0);
	st = sys_stats(e.sys);
	assert_int_equal(st.pageoutrun, runs + 1);
	assert_int_equal(st.pgsteal_kswapd, stolen);
	assert_ret(um_kswapd_run(NULL), -EINVAL);
	CHECK(&e);
	assert_ret(um_close(e.p, fd), 0);
	free_checked(e.sys);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, env_setup, env_teardown)
	const struct CMUnitTest tests[] = {
	    T(read_twice_activates_a_page),
	    T(mapped_young_page_outlives_an_unmapped_one),
	    T(reclaim_unmaps_a_clean_page_from_two_processes),
	    T(dirty_page_is_written_back_before_it_goes),
	    T(mlocked_page_stays_until_munlock),
	    T(nothing_is_left_after_exit_and_reclaim),
	    T(madvise_cold_deactivates_a_mapped_page),
	    T(madvise_pageout_discards_lazyfree_and_clean_file_pages),
	    T(reloaded_page_is_young_again),
	    T(reclaim_drops_lazyfree_pages),
	    T(kswapd_reclaims_below_low_before_direct),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
