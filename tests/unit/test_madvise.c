/*
 * madvise (madvise.c): the answers Linux 6.18 gives on this machine
 * (checked with a small program), and what each advice does to pages.
 */
#include "harness.h"

#define LOAD(p, a) load_ok(p, a, 8, __LINE__)
#define STORE(p, a, v) store_ok(p, a, 8, v, __LINE__)

/* madvise(0, 0, advice) answers whether the advice is known: Linux 6.18's list. */
static void known_advice_as_linux(void **state)
{
	struct env e;
	static const int known[] = { 0, 1, 2, 3, 4, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
				     20, 21, 22, 23, 24, 25, 102, 103 };
	static const int unknown[] = { 5, 6, 7, 26, 100, 101, 104, 1212, -1 };

	(void)state;
	boot_plain(&e, 32, 1);
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		assert_int_equal(um_madvise(e.p, 0, 0, known[i]), 0);
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		assert_int_equal(um_madvise(e.p, 0, 0, unknown[i]), -EINVAL);
	uint64_t a = MAP(e.p, 4 * PG, RW, AP, -1, 0);
	assert_int_equal(um_madvise(e.p, a + 1, PG, UM_MADV_NORMAL), -EINVAL);
	assert_int_equal(um_madvise(e.p, a, (uint64_t)-1, UM_MADV_NORMAL), -EINVAL);
	finish(&e);
}

static void holes_advise_the_mapped_part_then_enomem(void **state)
{
	struct env e;

	(void)state;
	boot_plain(&e, 32, 1);
	uint64_t a = MAP(e.p, 4 * PG, RW, AP, -1, 0);
	STORE(e.p, a + 2 * PG, 5);
	assert_int_equal(um_munmap(e.p, a + PG, PG), 0);
	assert_int_equal(um_madvise(e.p, a, 4 * PG, UM_MADV_DONTNEED), -ENOMEM);
	/* The page after the hole was advised: it reads zero now. */
	assert_int_equal(LOAD(e.p, a + 2 * PG), 0);
	assert_int_equal(um_madvise(e.p, a, 4 * PG, UM_MADV_NORMAL), -ENOMEM);
	finish(&e);
}

static void dontneed_private_zero_shared_kept_file_reread(void **state)
{
	struct env e;

	(void)state;
	boot_plain(&e, 32, 1);
	uint64_t a = MAP(e.p, 2 * PG, RW, AP, -1, 0);
	STORE(e.p, a, 7);
	assert_int_equal(um_madvise(e.p, a, 2 * PG, UM_MADV_DONTNEED), 0);
	assert_int_equal(proc_stats(e.p).rss_anon, 0);
	assert_int_equal(LOAD(e.p, a), 0);
	uint64_t s = MAP(e.p, PG, RW, AS, -1, 0);
	STORE(e.p, s, 8);
	assert_int_equal(um_madvise(e.p, s, PG, UM_MADV_DONTNEED), 0);
	assert_int_equal(LOAD(e.p, s), 8);
	int fd = um_open(e.p, "f", UM_O_RDWR | UM_O_CREAT, 0644);
	assert_int_equal(um_pwrite(e.p, fd, "filedata", 8, 0), 8);
	assert_int_equal(um_ftruncate(e.p, fd, PG), 0);
	uint64_t f = MAP(e.p, PG, RW, UM_MAP_PRIVATE, fd, 0);
	STORE(e.p, f, 0x4141414141414141ULL);
	assert_int_equal(um_madvise(e.p, f, PG, UM_MADV_DONTNEED), 0);
	assert_int_equal(LOAD(e.p, f), 0x61746164656c6966ULL); /* "filedata" again */
	finish(&e);
}

static void locked_and_kind_errors_as_linux(void **state)
{
	struct env e;

	(void)state;
	boot_plain(&e, 32, 1);
	uint64_t s = MAP(e.p, PG, RW, AS, -1, 0);
	assert_int_equal(um_madvise(e.p, s, PG, UM_MADV_FREE), -EINVAL);
	assert_int_equal(um_madvise(e.p, s, PG, UM_MADV_WIPEONFORK), -EINVAL);
	uint64_t a = MAP(e.p, PG, RW, AP, -1, 0);
	assert_int_equal(um_madvise(e.p, a, PG, UM_MADV_REMOVE), -EINVAL);
	assert_int_equal(um_madvise(e.p, s, PG, UM_MADV_REMOVE), 0);
	/* Read-only but shared and may-write: REMOVE is allowed. */
	uint64_t r = MAP(e.p, PG, UM_PROT_READ, AS, -1, 0);
	assert_int_equal(um_madvise(e.p, r, PG, UM_MADV_REMOVE), 0);
	uint64_t l = MAP(e.p, PG, RW, AP, -1, 0);
	assert_int_equal(um_mlock(e.p, l, PG), 0);
	assert_int_equal(um_madvise(e.p, l, PG, UM_MADV_DONTNEED), -EINVAL);
	assert_int_equal(um_madvise(e.p, l, PG, UM_MADV_FREE), -EINVAL);
	assert_int_equal(um_madvise(e.p, l, PG, UM_MADV_REMOVE), -EINVAL);
	assert_int_equal(um_madvise(e.p, l, PG, UM_MADV_DONTNEED_LOCKED), 0);
	assert_int_equal(um_madvise(e.p, r, PG, UM_MADV_POPULATE_WRITE), -EINVAL);
	uint64_t n = MAP(e.p, PG, UM_PROT_NONE, AP, -1, 0);
	assert_int_equal(um_madvise(e.p, n, PG, UM_MADV_POPULATE_READ), -EINVAL);
	int fd = um_open(e.p, "f", UM_O_RDWR | UM_O_CREAT, 0644);
	assert_int_equal(um_ftruncate(e.p, fd, 100), 0);
	uint64_t f = MAP(e.p, 3 * PG, UM_PROT_READ, UM_MAP_SHARED, fd, 0);
	assert_int_equal(um_madvise(e.p, f, 3 * PG, UM_MADV_POPULATE_READ), -EFAULT);
	assert_int_equal(um_madvise(e.p, f, PG, UM_MADV_FREE), -EINVAL);
	finish(&e);
}

static void remove_punches_shmem_pages(void **state)
{
	struct env e;
	struct um_proc *c;

	(void)state;
	boot_plain(&e, 32, 1);
	uint64_t s = MAP(e.p, 2 * PG, RW, AS, -1, 0);
	STORE(e.p, s, 1);
	STORE(e.p, s + PG, 2);
	assert_int_equal(um_fork(e.p, &c), 0);
	assert_int_equal(LOAD(c, s + PG), 2);
	assert_int_equal(um_madvise(e.p, s + PG, PG, UM_MADV_REMOVE), 0);
	/* Gone for every process that maps it. */
	assert_int_equal(LOAD(c, s + PG), 0);
	assert_int_equal(LOAD(e.p, s), 1);
	um_exit(c);
	finish(&e);
}

static void flag_advice_splits_merges_and_forks(void **state)
{
	struct env e;
	struct um_proc *c;
	struct um_proc_stats st;
	struct um_siginfo si;
	uint64_t v;

	(void)state;
	boot_plain(&e, 32, 1);
	uint64_t a = MAP(e.p, 3 * PG, RW, AP, -1, 0);
	for (int i = 0; i < 3; i++)
		STORE(e.p, a + i * PG, 10 + i);
	assert_int_equal(um_madvise(e.p, a + PG, PG, UM_MADV_DONTFORK), 0);
	um_proc_stats(e.p, &st);
	assert_int_equal(st.map_count, 3);
	assert_int_equal(um_madvise(e.p, a + 2 * PG, PG, UM_MADV_WIPEONFORK), 0);
	assert_int_equal(um_fork(e.p, &c), 0);
	assert_int_equal(LOAD(c, a), 10);
	assert_int_equal(um_load(c, a + PG, 8, &v, &si), -EFAULT); /* DONTFORK: absent */
	assert_int_equal(si.code, UM_SEGV_MAPERR);
	assert_int_equal(LOAD(c, a + 2 * PG), 0); /* WIPEONFORK: zero in the child */
	assert_int_equal(LOAD(e.p, a + 2 * PG), 12);
	um_exit(c);
	assert_int_equal(um_madvise(e.p, a, 3 * PG, UM_MADV_DOFORK), 0);
	assert_int_equal(um_madvise(e.p, a, 3 * PG, UM_MADV_KEEPONFORK), 0);
	um_proc_stats(e.p, &st);
	assert_int_equal(st.map_count, 1);
	finish(&e);
}

static void free_keeps_data_until_reclaim(void **state)
{
	struct env e;

	(void)state;
	boot_plain(&e, 32, 1);
	uint64_t a = MAP(e.p, 2 * PG, RW, AP, -1, 0);
	STORE(e.p, a, 3);
	assert_int_equal(um_madvise(e.p, a, 2 * PG, UM_MADV_FREE), 0);
	/* No reclaim has run: the data is still there, and writing keeps the page. */
	assert_int_equal(LOAD(e.p, a), 3);
	STORE(e.p, a, 4);
	assert_int_equal(LOAD(e.p, a), 4);
	finish(&e);
}

/* Guard markers fault as unmapped pages, outlive DONTNEED, follow fork, and go with munmap. */
static void guard_markers_as_linux(void **state)
{
	struct env e;
	struct um_proc *child;

	(void)state;
	boot_plain(&e, 32, 1);
	uint64_t a = MAP(e.p, 4 * PG, RW, AP, -1, 0);
	STORE(e.p, a + PG, 7);
	assert_int_equal(um_madvise(e.p, a + PG, 2 * PG, UM_MADV_GUARD_INSTALL), 0);
	/* The page there went, and nothing is charged for the markers. */
	assert_int_equal(proc_stats(e.p).rss_anon, 0);
	assert_load_fault(e.p, a + PG, 8, UM_SIGSEGV, UM_SEGV_MAPERR, a + PG);
	assert_store_fault(e.p, a + 2 * PG, 8, UM_SIGSEGV, UM_SEGV_MAPERR, a + 2 * PG);
	assert_int_equal(LOAD(e.p, a), 0);
	assert_int_equal(um_madvise(e.p, a, 4 * PG, UM_MADV_DONTNEED), 0);
	assert_load_fault(e.p, a + PG, 8, UM_SIGSEGV, UM_SEGV_MAPERR, a + PG);
	CHECK(&e);
	assert_int_equal(um_fork(e.p, &child), 0);
	assert_load_fault(child, a + 2 * PG, 8, UM_SIGSEGV, UM_SEGV_MAPERR, a + 2 * PG);
	um_exit(child);
	/* Removing one page leaves the other guarded. */
	assert_int_equal(um_madvise(e.p, a + PG, PG, UM_MADV_GUARD_REMOVE), 0);
	assert_int_equal(LOAD(e.p, a + PG), 0);
	assert_load_fault(e.p, a + 2 * PG, 8, UM_SIGSEGV, UM_SEGV_MAPERR, a + 2 * PG);
	/* munmap takes the markers: a new mapping there is plain memory. */
	assert_int_equal(um_munmap(e.p, a + 2 * PG, PG), 0);
	assert_int_equal(map_ok(e.p, a + 2 * PG, PG, RW, AP | UM_MAP_FIXED, -1, 0, __LINE__),
			 a + 2 * PG);
	assert_int_equal(LOAD(e.p, a + 2 * PG), 0);
	/* Installing on a locked range is refused; removing is not. */
	assert_int_equal(um_mlock(e.p, a, PG), 0);
	assert_int_equal(um_madvise(e.p, a, PG, UM_MADV_GUARD_INSTALL), -EINVAL);
	assert_int_equal(um_madvise(e.p, a, PG, UM_MADV_GUARD_REMOVE), 0);
	CHECK(&e);
	finish(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(known_advice_as_linux),
		cmocka_unit_test(holes_advise_the_mapped_part_then_enomem),
		cmocka_unit_test(dontneed_private_zero_shared_kept_file_reread),
		cmocka_unit_test(locked_and_kind_errors_as_linux),
		cmocka_unit_test(remove_punches_shmem_pages),
		cmocka_unit_test(flag_advice_splits_merges_and_forks),
		cmocka_unit_test(free_keeps_data_until_reclaim),
		cmocka_unit_test(guard_markers_as_linux),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
