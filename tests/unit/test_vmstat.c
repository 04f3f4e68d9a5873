/*
 * The /proc/vmstat and /proc/meminfo counters of um_system_stats: reclaim's
 * scans and steals by who reclaims (direct under memory pressure, proactive
 * for um_reclaim), moves between the file lists, and the page counts
 * (AnonPages, Mapped, Shmem, Mlocked, MemAvailable, Hugetlb) after
 * mappings of every kind.
 */
#include "harness.h"

#define MIB (1ULL << 20)

/* um_reclaim is proactive reclaim: it scans and frees under that name only. */
static void um_reclaim_counts_as_proactive(void **state)
{
	struct env *e = boot_default(state);
	int fd = OPEN_PATTERN(e, "f", 4 * PG, UM_O_RDONLY);
	char buf[4 * PG];

	assert_ret(um_read(e->p, fd, buf, sizeof(buf)), sizeof(buf));
	struct um_sys_stats st = sys_stats(e->sys);
	assert_int_equal(st.cached_pages, 4);
	assert_ret(um_reclaim(e->sys, 4), 4);
	st = sys_stats(e->sys);
	assert_int_equal(st.pgsteal_proactive, 4);
	assert_int_equal(st.pgscan_proactive, 4);
	assert_int_equal(st.pgscan_direct, 0);
	assert_int_equal(st.pgsteal_direct, 0);
	CHECK(e);
	finish(e);
}

/*
 * Anonymous memory wanted past the free frames: faults that leave free
 * memory below the low watermark wake kswapd, whose step (run by the next
 * fault) reclaims the cache; free memory never reaches min, so nothing is
 * reclaimed directly.
 */
static void memory_pressure_counts_as_kswapd(void **state)
{
	struct env *e = boot_default(state); /* 64 MiB */
	int fd = OPEN_PATTERN(e, "big", 40 * MIB, UM_O_RDONLY);
	char *buf = malloc(MIB);

	assert_non_null(buf);
	for (uint64_t off = 0; off < 40 * MIB; off += MIB)
		assert_ret(um_pread(e->p, fd, buf, MIB, (int64_t)off), MIB);
	free(buf);
	uint64_t a = MAP(e->p, 40 * MIB, RW, AP, -1, 0);
	for (uint64_t off = 0; off < 40 * MIB; off += PG)
		store_ok(e->p, a + off, 1, 1, __LINE__);
	struct um_sys_stats st = sys_stats(e->sys);
	assert_true(st.pgsteal_kswapd > 0);
	assert_true(st.pgscan_kswapd >= st.pgsteal_kswapd);
	assert_true(st.pageoutrun > 0);
	assert_int_equal(st.pgscan_direct, 0);
	assert_int_equal(st.pgsteal_direct, 0);
	assert_int_equal(st.pgscan_proactive, 0);
	assert_int_equal(st.pgsteal_proactive, 0);
	assert_int_equal(st.anon_pages, 40 * MIB / PG);
	CHECK(e);
	finish(e);
}

/* A second read(2) activates a page; MADV_COLD deactivates it. */
static void list_moves_count_in_pgactivate_and_pgdeactivate(void **state)
{
	struct env *e = boot_default(state);
	int fd = OPEN_PATTERN(e, "f", PG, UM_O_RDONLY);
	char c;

	assert_ret(um_pread(e->p, fd, &c, 1, 0), 1);
	assert_int_equal(sys_stats(e->sys).pgactivate, 0);
	assert_ret(um_pread(e->p, fd, &c, 1, 0), 1);
	assert_int_equal(sys_stats(e->sys).pgactivate, 1);
	uint64_t a = MAP(e->p, PG, UM_PROT_READ, UM_MAP_PRIVATE, fd, 0);
	assert_int_equal(load_ok(e->p, a, 1, __LINE__), 'A');
	assert_ret(um_madvise(e->p, a, PG, UM_MADV_COLD), 0);
	struct um_sys_stats st = sys_stats(e->sys);
	assert_int_equal(st.pgactivate, 1);
	assert_int_equal(st.pgdeactivate, 1);
	CHECK(e);
	finish(e);
}

/*
 *   anon 2 pages written   shmem 3 pages written   file 1 page read   locked: anon
 * AnonPages 2, Shmem 3, Mapped 4 (shmem and file), Mlocked 2; a forked
 * child mapping the same pages counts nothing twice.
 */
static void page_counts_follow_mappings(void **state)
{
	struct um_config cfg;
	base_config(&cfg);
	cfg.privileged = 1; /* mlock */
	struct env *e = boot(state, &cfg);
	int fd = OPEN_PATTERN(e, "f", PG, UM_O_RDONLY);
	struct um_proc *child = NULL;

	struct um_sys_stats st0 = sys_stats(e->sys);
	uint64_t a = MAP(e->p, 2 * PG, RW, AP, -1, 0);
	uint64_t s = MAP(e->p, 3 * PG, RW, AS, -1, 0);
	uint64_t f = MAP(e->p, PG, UM_PROT_READ, UM_MAP_PRIVATE, fd, 0);

	FILL_PAGES(e->p, a, 2, 1);
	FILL_PAGES(e->p, s, 3, 1);
	assert_int_equal(load_ok(e->p, f, 1, __LINE__), 'A');
	assert_ret(um_mlock(e->p, a, 2 * PG), 0);
	assert_ret(um_fork(e->p, &child), 0);
	struct um_sys_stats st = sys_stats(e->sys);
	assert_int_equal(st.anon_pages - st0.anon_pages, 2);
	assert_int_equal(st.shmem_pages - st0.shmem_pages, 3);
	assert_int_equal(st.mapped_pages - st0.mapped_pages, 4);
	assert_int_equal(st.mlocked_pages, 2);
	assert_ret(um_munlock(e->p, a, 2 * PG), 0);
	assert_int_equal(sys_stats(e->sys).mlocked_pages, 0);
	um_exit(child);
	assert_ret(um_munmap(e->p, s, 3 * PG), 0);
	st = sys_stats(e->sys);
	assert_int_equal(st.shmem_pages, st0.shmem_pages);
	assert_int_equal(st.mapped_pages - st0.mapped_pages, 1);
	CHECK(e);
	finish(e);
}

/*
 * MemAvailable of a 64 MiB machine (watermarks: min 256 pages, low 320,
 * high 384): the free pages less high, plus the file LRU less the
 * smaller of its half and low.
 */
static void mem_available_is_si_mem_available(void **state)
{
	struct env *e = boot_default(state);
	int fd = OPEN_PATTERN(e, "f", 8 * MIB, UM_O_RDONLY);
	char *buf = malloc(8 * MIB);

	struct um_sys_stats st = sys_stats(e->sys);
	assert_int_equal(st.mem_available, st.frames_free - 384);
	assert_non_null(buf);
	assert_ret(um_read(e->p, fd, buf, 8 * MIB), 8 * MIB);
	free(buf);
	st = sys_stats(e->sys);
	uint64_t lru = st.active_file + st.inactive_file;
	assert_int_equal(lru, 8 * MIB / PG);
	assert_int_equal(st.mem_available, st.frames_free - 384 + lru - 320);
	CHECK(e);
	finish(e);
}

/* Hugetlb counts every pool: two 2 MiB pages and one 1 GiB page. */
static void hugetlb_counts_every_pool(void **state)
{
	struct um_config cfg;
	base_config(&cfg);
	cfg.phys_bytes = 3072 * MIB;
	cfg.nr_hugepages = 2;
	cfg.nr_hugepages_pud = 1;
	struct env *e = boot(state, &cfg);

	assert_int_equal(sys_stats(e->sys).hugetlb_bytes, 4 * MIB + 1024 * MIB);
	finish(e);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, env_setup, env_teardown)
	const struct CMUnitTest tests[] = {
	    T(um_reclaim_counts_as_proactive),
	    T(memory_pressure_counts_as_kswapd),
	    T(list_moves_count_in_pgactivate_and_pgdeactivate),
	    T(page_counts_follow_mappings),
	    T(mem_available_is_si_mem_available),
	    T(hugetlb_counts_every_pool),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
