/*
 * test_hugetlb.c: MAP_HUGETLB with a configured pool: reservations, whole
 * huge pages faulted in contiguous frames, copy-on-write across fork, the
 * pool's counters, and um_check after every step (tests/diff/hugetlb_pool.ums
 * shows the same against Linux).
 */
#include "harness.h"

#define HP	       (2ULL << 20)
#define HUGE_AP	       (AP | UM_MAP_HUGETLB)
#define HUGE_AS	       (AS | UM_MAP_HUGETLB)
#define LOAD(p, a)     load_ok(p, a, 1, __LINE__)
#define STORE(p, a, v) store_ok(p, a, 1, v, __LINE__)

static void boot_pool(struct env *e, uint32_t nr)
{
	struct um_config cfg;

	um_config_init(&cfg);
	cfg.phys_bytes = 64ULL << 20;
	cfg.nr_hugepages = nr;
	env_boot(e, &cfg);
}

static void expect_pool(struct env *e, uint64_t free, uint64_t rsvd, int line)
{
	struct um_sys_stats st = sys_stats(e->sys);

	if (st.hugepages_free != free || st.hugepages_rsvd != rsvd)
		fail_msg("line %d: HugePages_Free %llu Rsvd %llu, want %llu %llu", line,
			 (unsigned long long)st.hugepages_free,
			 (unsigned long long)st.hugepages_rsvd, (unsigned long long)free,
			 (unsigned long long)rsvd);
	check_now(e, line);
}
#define POOL(e, free, rsvd) expect_pool(e, free, rsvd, __LINE__)

static void pool_is_set_aside_and_counted(void **state)
{
	struct env e;
	struct um_sys_stats st;

	(void)state;
	boot_pool(&e, 4);
	st = sys_stats(e.sys);
	assert_int_equal(st.hugepages_total, 4);
	assert_int_equal(st.hugepage_size, HP);
	/*
	 * The pool is out of the page allocator's reach: 8 MiB of 64 gone; so
	 * are the zero frame and the process's top page table.
	 */
	assert_int_equal(st.frames_free, ((64ULL << 20) - 4 * HP) / PG - 2);
	POOL(&e, 4, 0);
	finish(&e);
	/* A pool that does not fit is refused. */
	{
		struct um_config cfg;
		struct um_system *sys;

		um_config_init(&cfg);
		cfg.phys_bytes = 8ULL << 20;
		cfg.nr_hugepages = 4;
		assert_int_equal(um_system_new(&cfg, &sys), -EINVAL);
	}
}

static void private_reserve_fault_fork_cow(void **state)
{
	struct env e;
	struct um_proc *child;
	uint64_t pm[2];

	(void)state;
	boot_pool(&e, 3);
	uint64_t a = MAP(e.p, 2 * HP, RW, HUGE_AP, -1, 0);
	assert_int_equal(a % HP, 0);
	POOL(&e, 3, 2);
	/* Too much to reserve: ENOMEM, nothing changes. */
	assert_int_equal(um_mmap(e.p, 0, 3 * HP, RW, HUGE_AP, -1, 0), -ENOMEM);
	POOL(&e, 3, 2);
	STORE(e.p, a + 5, 7);
	POOL(&e, 2, 1);
	/* One huge page: contiguous frames, every base page present. */
	assert_int_equal(um_pagemap(e.p, a + HP - PG, 1, pm), 1);
	assert_int_equal(um_pagemap(e.p, a, 1, &pm[1]), 1);
	assert_true(pm[0] & PM_PRESENT);
	assert_int_equal((pm[0] & PM_PFN_MASK) - (pm[1] & PM_PFN_MASK), HP / PG - 1);
	assert_false(pm[1] & PM_FILE);
	assert_int_equal(proc_stats(e.p).hugetlb, HP);
	assert_int_equal(proc_stats(e.p).rss_anon, 0);
	/* fork: the child shares the page copy-on-write, and owns no reservation. */
	assert_int_equal(um_fork(e.p, &child), 0);
	assert_int_equal(LOAD(child, a + 5), 7);
	STORE(child, a + 5, 8);
	POOL(&e, 1, 1);
	assert_int_equal(LOAD(e.p, a + 5), 7);
	/* The last free page is the parent's reservation: the child's fault gets SIGBUS. */
	assert_store_fault(child, a + HP, 8, UM_SIGBUS, UM_BUS_ADRERR, a + HP);
	um_exit(child);
	POOL(&e, 2, 1);
	/* DONTNEED of the owner's page restores its reservation. */
	assert_int_equal(um_madvise(e.p, a, HP, UM_MADV_DONTNEED), 0);
	POOL(&e, 3, 2);
	assert_int_equal(LOAD(e.p, a + 5), 0);
	POOL(&e, 2, 1);
	/* Whole huge pages only. */
	assert_int_equal(um_munmap(e.p, a + PG, PG), -EINVAL);
	assert_int_equal(um_munmap(e.p, a + HP, HP), 0);
	POOL(&e, 2, 0);
	assert_int_equal(um_munmap(e.p, a, HP), 0);
	POOL(&e, 3, 0);
	finish(&e);
}

static void shared_reserve_remove_and_end(void **state)
{
	struct env e;
	struct um_proc *child;

	(void)state;
	boot_pool(&e, 3);
	uint64_t s = MAP(e.p, 2 * HP, RW, HUGE_AS, -1, 0);
	POOL(&e, 3, 2);
	STORE(e.p, s + HP, 5);
	POOL(&e, 2, 1);
	/* DONTNEED unmaps; the page stays in the file. */
	assert_int_equal(um_madvise(e.p, s + HP, HP, UM_MADV_DONTNEED), 0);
	POOL(&e, 2, 1);
	assert_int_equal(LOAD(e.p, s + HP), 5);
	assert_int_equal(um_fork(e.p, &child), 0);
	STORE(child, s + HP, 6);
	um_exit(child);
	assert_int_equal(LOAD(e.p, s + HP), 6);
	/* MADV_REMOVE frees the page; the unfaulted index stays reserved. */
	assert_int_equal(um_madvise(e.p, s + HP, HP, UM_MADV_REMOVE), 0);
	POOL(&e, 3, 1);
	assert_int_equal(um_madvise(e.p, s, HP, UM_MADV_REMOVE), 0);
	POOL(&e, 3, 1);
	assert_int_equal(LOAD(e.p, s + HP), 0);
	POOL(&e, 2, 1);
	/* The inode's end gives back the reservation never used. */
	assert_int_equal(um_munmap(e.p, s, 2 * HP), 0);
	POOL(&e, 3, 0);
	finish(&e);
}

static void noreserve_and_mremap_move(void **state)
{
	struct env e;

	(void)state;
	boot_pool(&e, 2);
	uint64_t a = MAP(e.p, 2 * HP, RW, HUGE_AP, -1, 0);
	STORE(e.p, a, 1);
	POOL(&e, 1, 1);
	/* The reservation moves with the mapping. */
	uint64_t m = (uint64_t)um_mremap(e.p, a, 2 * HP, 2 * HP,
					 UM_MREMAP_MAYMOVE | UM_MREMAP_FIXED, a + 8 * HP);
	assert_int_equal(m, a + 8 * HP);
	POOL(&e, 1, 1);
	assert_int_equal(LOAD(e.p, m), 1);
	/* No page left for anyone without a reservation. */
	uint64_t n = MAP(e.p, HP, RW, HUGE_AP | UM_MAP_NORESERVE, -1, 0);
	POOL(&e, 1, 1);
	assert_store_fault(e.p, n, 8, UM_SIGBUS, UM_BUS_ADRERR, n);
	STORE(e.p, m + HP, 2);
	POOL(&e, 0, 0);
	assert_int_equal(um_exec(e.p), 0);
	POOL(&e, 2, 0);
	finish(&e);
}

static void owner_takes_the_page_back(void **state)
{
	struct env e;
	struct um_proc *child;

	(void)state;
	boot_pool(&e, 2);
	uint64_t a = MAP(e.p, HP, RW, HUGE_AP, -1, 0);
	uint64_t b = MAP(e.p, HP, RW, HUGE_AP, -1, 0);
	STORE(e.p, a, 7);
	assert_int_equal(um_fork(e.p, &child), 0);
	POOL(&e, 1, 1);
	/*
	 * The owner's copy finds no page nobody reserved (b holds the last):
	 * the child loses the page, the owner keeps it and writes.
	 */
	STORE(e.p, a, 8);
	POOL(&e, 1, 1);
	assert_int_equal(proc_stats(child).hugetlb, 0);
	assert_load_fault(child, a, 8, UM_SIGBUS, UM_BUS_ADRERR, a);
	assert_int_equal(LOAD(e.p, a), 8);
	/* The child's other mappings are unaffected; b's page is the parent's reservation. */
	assert_store_fault(child, b, 8, UM_SIGBUS, UM_BUS_ADRERR, b);
	STORE(e.p, b, 1);
	POOL(&e, 0, 0);
	um_exit(child);
	POOL(&e, 0, 0);
	finish(&e);
}

/* A zap's restored reservation can take resv below zero for a while, as on Linux. */
static void restore_before_free_and_fork(void **state)
{
	struct env e;
	struct um_proc *child;

	(void)state;
	boot_pool(&e, 1);
	uint64_t a = MAP(e.p, HP, RW, HUGE_AP, -1, 0);
	STORE(e.p, a, 7);
	assert_int_equal(um_fork(e.p, &child), 0);
	/* The owner's VMA goes while the child still maps the page. */
	assert_int_equal(um_munmap(e.p, a, HP), 0);
	assert_int_equal(sys_stats(e.sys).hugepages_rsvd, (uint64_t)-1);
	CHECK(&e);
	/* No free page: a new reservation is refused. */
	assert_int_equal(um_mmap(e.p, 0, HP, RW, HUGE_AS, -1, 0), -ENOMEM);
	assert_int_equal(LOAD(child, a), 7);
	um_exit(child);
	/* The page is freed with its restored reservation: all square. */
	POOL(&e, 1, 0);
	finish(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(pool_is_set_aside_and_counted),
	    cmocka_unit_test(private_reserve_fault_fork_cow),
	    cmocka_unit_test(shared_reserve_remove_and_end),
	    cmocka_unit_test(noreserve_and_mremap_move),
	    cmocka_unit_test(owner_takes_the_page_back),
	    cmocka_unit_test(restore_before_free_and_fork),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
