/*
 * The OOM killer (oom_kill.c): out of frames, the process of the highest
 * badness dies and its private memory comes back at once, so the fault
 * that ran out retries and succeeds; oom_score_adj -1000 protects; a
 * killed process answers SIGKILL and -ESRCH until um_exit; oom_score as
 * /proc shows it. um_check clean after every step, no frame left after.
 */
#include "harness.h"

#define MIB (1ULL << 20)

/* Stores one byte into each page of [a, a + len); the first failure's result, or 0. */
static int touch(struct um_proc *p, uint64_t a, uint64_t len, struct um_siginfo *si)
{
	for (uint64_t off = 0; off < len; off += PG) {
		int r = um_store(p, a + off, 1, 1, si);

		if (r)
			return r;
	}
	return 0;
}

/*
 *   big:   48 MiB touched        small: 16 MiB touched, past what is left
 * The big one dies, the small one's every store lands.
 */
static void big_process_dies_and_small_store_succeeds(void **state)
{
	struct env *e = boot_default(state); /* 64 MiB */
	struct um_proc *big = e->p, *small = new_proc(e);
	struct um_siginfo si = {0, 0, 0};
	uint64_t a = MAP(big, 48 * MIB, RW, AP, -1, 0);
	uint64_t b = MAP(small, 16 * MIB, RW, AP, -1, 0);

	assert_ret(touch(big, a, 48 * MIB, &si), 0);
	CHECK(e);
	assert_ret(touch(small, b, 16 * MIB, &si), 0);
	CHECK(e);
	assert_int_equal(um_proc_killed(big), 1);
	assert_int_equal(um_proc_killed(small), 0);
	assert_int_equal(sys_stats(e->sys).oom_kills, 1);
	/* Reaped at once: the big one holds no page, though its VMA stays. */
	assert_int_equal(proc_stats(big).rss_anon, 0);
	assert_store_fault(big, a, 1, UM_SIGKILL, 0, a);
	assert_load_fault(big, a, 1, UM_SIGKILL, 0, a);
	assert_ret(um_mmap(big, 0, PG, RW, AP, -1, 0), -ESRCH);
	assert_ret(um_munmap(big, a, PG), -ESRCH);
	assert_ret(um_fork(big, &(struct um_proc *){NULL}), -ESRCH);
	assert_ret(um_set_oom_score_adj(big, 0), -ESRCH);
	CHECK(e);
	um_exit(big);
	CHECK(e);
	assert_int_equal(load_ok(small, b + 16 * MIB - PG, 1, __LINE__), 1);
	um_exit(small);
	assert_int_equal(frames_used(e->sys), 0);
	finish(e);
}

/* A MAP_POPULATE hog keeps nothing it took once a small process runs out. */
static void populate_hog_is_the_victim(void **state)
{
	struct env *e = boot_default(state);
	struct um_proc *small = e->p, *hog = new_proc(e);
	struct um_siginfo si = {0, 0, 0};
	uint64_t b = MAP(small, 24 * MIB, RW, AP, -1, 0);

	assert_ret(touch(small, b, 8 * MIB, &si), 0);
	MAP(hog, 52 * MIB, RW, AP | UM_MAP_POPULATE, -1, 0);
	CHECK(e);
	assert_ret(touch(small, b, 24 * MIB, &si), 0);
	assert_int_equal(um_proc_killed(hog), 1);
	assert_int_equal(um_proc_killed(small), 0);
	CHECK(e);
	um_exit(hog);
	um_exit(small);
	assert_int_equal(frames_used(e->sys), 0);
	finish(e);
}

/* oom_score_adj -1000: the big one is never chosen; the faulting one dies instead. */
static void score_adj_min_protects_a_process(void **state)
{
	struct env *e = boot_default(state);
	struct um_proc *big = e->p, *small = new_proc(e);
	struct um_siginfo si = {0, 0, 0};
	struct um_cred c;
	uint64_t a = MAP(big, 48 * MIB, RW, AP, -1, 0);
	uint64_t b = MAP(small, 20 * MIB, RW, AP, -1, 0);

	assert_ret(touch(big, a, 48 * MIB, &si), 0);
	um_proc_cred(big, &c); /* CAP_SYS_RESOURCE, to go below 0 */
	c.cap_effective |= 1ULL << UM_CAP_SYS_RESOURCE;
	c.cap_permitted |= 1ULL << UM_CAP_SYS_RESOURCE;
	c.cap_bset |= 1ULL << UM_CAP_SYS_RESOURCE;
	assert_ret(um_proc_set_cred(big, &c), 0);
	assert_ret(um_set_oom_score_adj(big, -1000), 0);
	assert_int_equal(um_oom_score(big), 0);
	assert_ret(touch(small, b, 20 * MIB, &si), -EFAULT);
	assert_int_equal(si.signo, UM_SIGKILL);
	assert_int_equal(um_proc_killed(small), 1);
	assert_int_equal(um_proc_killed(big), 0);
	CHECK(e);
	um_exit(small);
	CHECK(e);
	assert_int_equal(load_ok(big, a + 48 * MIB - PG, 1, __LINE__), 1);
	um_exit(big);
	assert_int_equal(frames_used(e->sys), 0);
	finish(e);
}

/* Two equal processes: the younger goes, as select_bad_process's walk decides. */
static void tie_goes_to_the_younger_process(void **state)
{
	struct env *e = boot_default(state);
	struct um_proc *old = e->p, *young = new_proc(e), *small = new_proc(e);
	struct um_siginfo si = {0, 0, 0};
	uint64_t a = MAP(old, 24 * MIB, RW, AP, -1, 0);
	uint64_t b = MAP(young, 24 * MIB, RW, AP, -1, 0);
	uint64_t c = MAP(small, 16 * MIB, RW, AP, -1, 0);

	assert_ret(touch(old, a, 24 * MIB, &si), 0);
	assert_ret(touch(young, b, 24 * MIB, &si), 0);
	assert_int_equal(um_oom_score(old), um_oom_score(young));
	assert_ret(touch(small, c, 16 * MIB, &si), 0);
	assert_int_equal(um_proc_killed(young), 1);
	assert_int_equal(um_proc_killed(old), 0);
	CHECK(e);
	um_exit(young);
	um_exit(old);
	um_exit(small);
	assert_int_equal(frames_used(e->sys), 0);
	finish(e);
}

/*
 * oom_score = (1000 + badness * 1000 / total) * 2 / 3, total 16384 pages:
 * 666 for an empty process; 4 MiB (1024 pages, PMD-aligned, so two leaf
 * tables, a middle and an upper one: 4 table pages) gives 1000 +
 * 1028000 / 16384 = 1062, so 708; adj 500 adds 500 * 16 pages.
 */
static void oom_score_follows_rss_and_adj(void **state)
{
	struct env e2 = {0};
	struct env *e = boot_default(state);
	struct um_siginfo si = {0, 0, 0};
	struct um_proc *child = NULL;

	assert_int_equal(um_oom_score(e->p), 666);
	assert_int_equal(um_oom_score_adj(e->p), 0);
	uint64_t a = MAP(e->p, 4 * MIB, RW, AP, -1, 0);
	assert_ret(touch(e->p, a, 4 * MIB, &si), 0);
	assert_int_equal(um_oom_score(e->p), (1000 + (1024 + 4) * 1000 / 16384) * 2 / 3);
	assert_ret(um_set_oom_score_adj(e->p, 500), 0);
	assert_int_equal(um_oom_score(e->p), (1000 + (1028 + 500 * 16) * 1000 / 16384) * 2 / 3);
	assert_ret(um_set_oom_score_adj(e->p, 1001), -EINVAL);
	assert_ret(um_set_oom_score_adj(e->p, -1001), -EINVAL);
	assert_ret(um_fork(e->p, &child), 0);
	assert_int_equal(um_oom_score_adj(child), 500);
	um_exit(child);
	CHECK(e);
	finish(e);

	/* Unprivileged: down to 0 (the minimum) is fine, below it EACCES. */
	boot_plain(&e2, 64, 0);
	assert_ret(um_set_oom_score_adj(e2.p, 300), 0);
	assert_ret(um_set_oom_score_adj(e2.p, 0), 0);
	assert_ret(um_set_oom_score_adj(e2.p, -1), -EACCES);
	assert_int_equal(um_oom_score_adj(e2.p), 0);
	free_checked(e2.sys);
}

/*
 * Page tables are frames of physical memory, as PageTables and MemFree
 * show: three pages a GiB apart need a PMD table and a PTE table each
 * under one PUD table, beside the root; the munmap of all three gives
 * every table under the root back.
 */
static void page_tables_are_charged_to_memory(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t GIB = 1ULL << 30, base = 0x100000000ULL;
	struct um_sys_stats st = sys_stats(e->sys);
	uint64_t free0 = st.frames_free;

	assert_int_equal(st.page_tables, PG); /* the root */
	for (int i = 0; i < 3; i++) {
		map_ok(e->p, base + i * GIB, PG, RW, UM_MAP_PRIVATE | UM_MAP_ANONYMOUS | UM_MAP_FIXED,
		       -1, 0, __LINE__);
		store_ok(e->p, base + i * GIB, 8, i + 1, __LINE__);
	}
	st = sys_stats(e->sys);
	assert_int_equal(st.page_tables, 8 * PG);
	assert_int_equal(free0 - st.frames_free, 3 + 7);
	assert_int_equal(proc_stats(e->p).vm_pte, 7 * PG);
	CHECK(e);
	for (int i = 0; i < 3; i++)
		assert_ret(um_munmap(e->p, base + i * GIB, PG), 0);
	st = sys_stats(e->sys);
	assert_int_equal(st.page_tables, PG);
	assert_int_equal(st.frames_free, free0);
	CHECK(e);
	finish(e);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, env_setup, env_teardown)
	const struct CMUnitTest tests[] = {
	    T(big_process_dies_and_small_store_succeeds),
	    T(populate_hog_is_the_victim),
	    T(score_adj_min_protects_a_process),
	    T(tie_goes_to_the_younger_process),
	    T(oom_score_follows_rss_and_adj),
	    T(page_tables_are_charged_to_memory),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
