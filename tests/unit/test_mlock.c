/*
 * mlock, mlock2, munlock, mlockall, munlockall, MAP_LOCKED and mincore,
 * asserting what Linux 6.18 answers (checked with small programs on the
 * kernel, as root and as an unprivileged user with RLIMIT_MEMLOCK set).
 */
#include "harness.h"

static void boot_mlock(struct env *e, int privileged, uint64_t rlimit)
{
	struct um_config cfg;

	um_config_init(&cfg);
	cfg.phys_bytes = 32ULL << 20;
	cfg.privileged = privileged;
	cfg.rlimit_memlock = rlimit;
	env_boot(e, &cfg);
}

static uint64_t map(struct env *e, uint64_t len, int prot, int flags)
{
	return map_ok(e->p, 0, len, prot, flags, -1, 0, __LINE__);
}

/* VmLck, Rss and VMA count from the process's counters and status. */
static uint64_t vmlck_kb(struct um_proc *p)
{
	char buf[2048], *l;
	unsigned long long kb = ~0ULL;

	assert_true(um_proc_status(p, buf, sizeof(buf)) > 0);
	l = strstr(buf, "VmLck:");
	assert_non_null(l);
	assert_int_equal(sscanf(l + 6, "%llu", &kb), 1);
	return kb;
}

static uint64_t rss(struct um_proc *p)
{
	struct um_proc_stats st = proc_stats(p);

	return st.rss_anon + st.rss_file + st.rss_shmem;
}

static uint64_t vmas(struct um_proc *p)
{
	return proc_stats(p).map_count;
}

static void mlock_faults_in_splits_and_munlock_merges(void **state)
{
	struct env e;

	(void)state;
	boot_mlock(&e, 1, 8 << 20);
	uint64_t a = map(&e, 4 * PG, RW, AP);
	assert_int_equal(rss(e.p), 0);
	assert_int_equal(um_mlock(e.p, a + PG, 2 * PG), 0);
	assert_int_equal(vmas(e.p), 3);
	assert_int_equal(rss(e.p), 2 * PG);
	assert_int_equal(vmlck_kb(e.p), 8);
	/* Locks do not nest: a second mlock changes nothing, one munlock undoes it. */
	assert_int_equal(um_mlock(e.p, a + PG, 2 * PG), 0);
	assert_int_equal(vmlck_kb(e.p), 8);
	assert_int_equal(um_munlock(e.p, a, 4 * PG), 0);
	assert_int_equal(vmas(e.p), 1);
	assert_int_equal(vmlck_kb(e.p), 0);
	/* addr is rounded down and len up: mlock(a + 100, 10) locks page a. */
	assert_int_equal(um_mlock(e.p, a + 100, 10), 0);
	assert_int_equal(vmlck_kb(e.p), 4);
	assert_int_equal(um_mlock(e.p, a, 0), 0);
	finish(&e);
}

static void mlock_partial_effects_as_linux(void **state)
{
	struct env e;
	uint64_t a, b;

	(void)state;
	boot_mlock(&e, 1, 8 << 20);
	/* PROT_NONE: the VMA is locked, populating fails: ENOMEM with VmLck counted. */
	a = map(&e, 4 * PG, UM_PROT_NONE, AP);
	assert_int_equal(um_mlock(e.p, a, PG), -ENOMEM);
	assert_int_equal(vmlck_kb(e.p), 4);
	/* A hole: the part before it is locked, then ENOMEM. */
	b = map(&e, 4 * PG, RW, AP);
	assert_int_equal(um_munmap(e.p, b + PG, PG), 0);
	assert_int_equal(um_mlock(e.p, b, 4 * PG), -ENOMEM);
	assert_int_equal(vmlck_kb(e.p), 8);
	/* Starting in the hole: nothing changes. */
	assert_int_equal(um_mlock(e.p, b + PG, PG), -ENOMEM);
	assert_int_equal(vmlck_kb(e.p), 8);
	assert_int_equal(um_munlock(e.p, b, 4 * PG), -ENOMEM);
	assert_int_equal(vmlck_kb(e.p), 4);
	finish(&e);
}

static void mlock_file_pages_past_eof_enomem_with_vma_locked(void **state)
{
	struct env e;

	(void)state;
	boot_mlock(&e, 1, 8 << 20);
	int fd = um_open(e.p, "f", UM_O_RDWR | UM_O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(um_ftruncate(e.p, fd, 100), 0);
	int64_t f = um_mmap(e.p, 0, 3 * PG, UM_PROT_READ, UM_MAP_SHARED, fd, 0);
	assert_true(f > 0);
	assert_int_equal(um_mlock(e.p, (uint64_t)f, 3 * PG), -ENOMEM);
	assert_int_equal(vmlck_kb(e.p), 12);
	/* A locked range refuses MS_INVALIDATE. */
	assert_int_equal(um_msync(e.p, (uint64_t)f, PG, UM_MS_INVALIDATE), -EBUSY);
	assert_int_equal(um_msync(e.p, (uint64_t)f, PG, UM_MS_SYNC), 0);
	finish(&e);
}

static void flags_checked_as_linux(void **state)
{
	struct env e;

	(void)state;
	boot_mlock(&e, 1, 8 << 20);
	uint64_t a = map(&e, PG, RW, AP);
	assert_int_equal(um_mlockall(e.p, 0), -EINVAL);
	assert_int_equal(um_mlockall(e.p, UM_MCL_ONFAULT), -EINVAL);
	assert_int_equal(um_mlockall(e.p, 8), -EINVAL);
	assert_int_equal(um_mlock2(e.p, a, PG, 2), -EINVAL);
	finish(&e);
}

/* An unprivileged process with RLIMIT_MEMLOCK of 2 pages. */
static void rlimit_memlock_enomem_eagain_and_eperm(void **state)
{
	struct env e;

	(void)state;
	boot_mlock(&e, 0, 2 * PG);
	uint64_t b = map(&e, 4 * PG, RW, AP);
	assert_int_equal(um_mlock(e.p, b, 3 * PG), -ENOMEM);
	assert_int_equal(vmlck_kb(e.p), 0);
	assert_int_equal(um_mlock(e.p, b, 2 * PG), 0);
	/* What is already locked does not count twice. */
	assert_int_equal(um_mlock(e.p, b, 2 * PG), 0);
	assert_int_equal(um_mlock(e.p, b + 2 * PG, PG), -ENOMEM);
	assert_int_equal(um_mmap(e.p, 0, PG, RW, AP | UM_MAP_LOCKED, -1, 0), -EAGAIN);
	assert_int_equal(um_munlock(e.p, b, 4 * PG), 0);
	/* MCL_FUTURE: later mappings are locked, and refused past the limit. */
	assert_int_equal(um_mlockall(e.p, UM_MCL_FUTURE), 0);
	assert_int_equal(um_mmap(e.p, 0, 3 * PG, RW, AP, -1, 0), -EAGAIN);
	assert_true(um_mmap(e.p, 0, PG, RW, AP, -1, 0) > 0);
	assert_int_equal(vmlck_kb(e.p), 4);
	assert_int_equal(um_munlockall(e.p), 0);
	assert_int_equal(vmlck_kb(e.p), 0);
	/* MCL_CURRENT with more mapped than the limit. */
	assert_int_equal(um_mlockall(e.p, UM_MCL_CURRENT), -ENOMEM);
	finish(&e);

	boot_mlock(&e, 0, 0);
	b = map(&e, PG, RW, AP);
	assert_int_equal(um_mlock(e.p, b, PG), -EPERM);
	assert_int_equal(um_mmap(e.p, 0, PG, RW, AP | UM_MAP_LOCKED, -1, 0), -EPERM);
	assert_int_equal(um_mlockall(e.p, UM_MCL_CURRENT), -EPERM);
	assert_int_equal(um_munlock(e.p, b, PG), 0);
	finish(&e);
}

static void map_locked_populates_and_onfault_does_not(void **state)
{
	struct env e;
	struct um_proc *c;

	(void)state;
	boot_mlock(&e, 1, 8 << 20);
	uint64_t a = map(&e, 2 * PG, RW, AP | UM_MAP_LOCKED);
	assert_int_equal(rss(e.p), 2 * PG);
	assert_int_equal(vmlck_kb(e.p), 8);
	uint64_t b = map(&e, 2 * PG, RW, AP);
	assert_int_equal(um_mlock2(e.p, b, 2 * PG, UM_MLOCK_ONFAULT), 0);
	assert_int_equal(rss(e.p), 2 * PG);
	assert_int_equal(vmlck_kb(e.p), 16);
	/* MAP_POPULATE faults in without locking. */
	map(&e, 3 * PG, RW, AP | UM_MAP_POPULATE);
	assert_int_equal(rss(e.p), 5 * PG);
	/* fork does not inherit locks; munmap and exec drop them. */
	assert_int_equal(um_fork(e.p, &c), 0);
	assert_int_equal(vmlck_kb(c), 0);
	um_exit(c);
	assert_int_equal(um_munmap(e.p, a, PG), 0);
	assert_int_equal(vmlck_kb(e.p), 12);
	assert_int_equal(um_exec(e.p), 0);
	assert_int_equal(vmlck_kb(e.p), 0);
	finish(&e);
}

static void mincore_reports_residency_as_linux(void **state)
{
	struct env e;
	struct um_siginfo si;
	unsigned char vec[8];
	uint64_t v;

	(void)state;
	boot_mlock(&e, 1, 8 << 20);
	uint64_t a = map(&e, 4 * PG, RW, AP);
	assert_int_equal(um_store(e.p, a, 1, 1, &si), 0);
	assert_int_equal(um_load(e.p, a + 2 * PG, 1, &v, &si), 0); /* the zero frame counts */
	memset(vec, 9, sizeof(vec));
	assert_int_equal(um_mincore(e.p, a, 4 * PG, vec), 0);
	assert_memory_equal(vec, "\1\0\1\0", 4);
	assert_int_equal(um_mincore(e.p, a + 1, PG, vec), -EINVAL);
	assert_int_equal(um_mincore(e.p, a, 0, vec), 0);
	assert_int_equal(um_mincore(e.p, 0x10000, PG, vec), -ENOMEM);
	assert_int_equal(um_mincore(e.p, 0x7ffffffff000ULL, 2 * PG, vec), -ENOMEM);
	/* A hole: the pages before it are reported, then ENOMEM. */
	assert_int_equal(um_munmap(e.p, a + PG, PG), 0);
	memset(vec, 9, sizeof(vec));
	assert_int_equal(um_mincore(e.p, a, 4 * PG, vec), -ENOMEM);
	assert_int_equal(vec[0], 1);
	assert_int_equal(vec[1], 9);
	/* File pages: resident when cached, mapped or not. */
	int fd = um_open(e.p, "f", UM_O_RDWR | UM_O_CREAT, 0644);
	assert_int_equal(um_write(e.p, fd, "hello", 5), 5);
	assert_int_equal(um_ftruncate(e.p, fd, 3 * PG), 0);
	int64_t f = um_mmap(e.p, 0, 3 * PG, UM_PROT_READ, UM_MAP_SHARED, fd, 0);
	assert_true(f > 0);
	assert_int_equal(um_mincore(e.p, (uint64_t)f, 3 * PG, vec), 0);
	assert_memory_equal(vec, "\1\0\0", 3);
	finish(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mlock_faults_in_splits_and_munlock_merges),
		cmocka_unit_test(mlock_partial_effects_as_linux),
		cmocka_unit_test(mlock_file_pages_past_eof_enomem_with_vma_locked),
		cmocka_unit_test(flags_checked_as_linux),
		cmocka_unit_test(rlimit_memlock_enomem_eagain_and_eperm),
		cmocka_unit_test(map_locked_populates_and_onfault_does_not),
		cmocka_unit_test(mincore_reports_residency_as_linux),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
