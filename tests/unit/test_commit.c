/*
 * Overcommit accounting (commit.c): what is charged, when, and what policy
 * 2 (never overcommit) refuses.
 */
#include "harness.h"

static struct um_system *boot_policy(int policy, uint64_t mib)
{
	struct um_config cfg;
	struct um_system *sys;

	um_config_init(&cfg);
	cfg.phys_bytes = mib << 20;
	cfg.overcommit_memory = policy;
	cfg.overcommit_ratio = 50;
	cfg.privileged = 1; /* no admin reserve: the limit is exactly half of memory */
	assert_int_equal(um_system_new(&cfg, &sys), 0);
	return sys;
}

static uint64_t committed(struct um_system *sys)
{
	return sys_stats(sys).committed_as;
}

/* Private writable and shared anonymous memory are charged; read-only and NORESERVE are not. */
static void charges_follow_linux_accountable_mapping(void **state)
{
	struct um_system *sys = boot_policy(UM_OVERCOMMIT_GUESS, 64);
	struct um_proc *p;

	(void)state;
	assert_int_equal(um_proc_new(sys, &p), 0);
	int64_t a = um_mmap(p, 0, 4 * PG, RW, AP, -1, 0);
	assert_true(a > 0);
	assert_int_equal(committed(sys), 4 * PG);
	assert_true(um_mmap(p, 0, 4 * PG, UM_PROT_READ, AP, -1, 0) > 0);
	assert_int_equal(committed(sys), 4 * PG);
	assert_true(um_mmap(p, 0, 4 * PG, RW, AP | UM_MAP_NORESERVE, -1, 0) > 0);
	assert_int_equal(committed(sys), 4 * PG);
	int64_t s = um_mmap(p, 0, 2 * PG, RW, AS, -1, 0);
	assert_true(s > 0);
	assert_int_equal(committed(sys), 6 * PG);
	/* A partial munmap returns its part. */
	assert_int_equal(um_munmap(p, (uint64_t)a, PG), 0);
	assert_int_equal(committed(sys), 5 * PG);
	/* A fork charges the child's accounted VMAs. */
	struct um_proc *c;
	assert_int_equal(um_fork(p, &c), 0);
	assert_int_equal(committed(sys), 8 * PG);
	um_exit(c);
	assert_int_equal(committed(sys), 5 * PG);
	/* Shared memory is returned when its last mapping goes. */
	assert_int_equal(um_munmap(p, (uint64_t)s, 2 * PG), 0);
	assert_int_equal(committed(sys), 3 * PG);
	um_exit(p);
	assert_int_equal(committed(sys), 0);
	free_checked(sys);
}

/*
 * mprotect taking write away from anonymous memory never faulted returns
 * its charge (VM_ACCOUNT goes); once a page was written, the charge stays.
 * Giving write back charges again.
 */
static void mprotect_returns_charge_of_unfaulted_anonymous_memory(void **state)
{
	struct um_system *sys = boot_policy(UM_OVERCOMMIT_GUESS, 64);
	struct um_proc *p;
	struct um_siginfo si;

	(void)state;
	assert_int_equal(um_proc_new(sys, &p), 0);
	int64_t a = um_mmap(p, 0, 4 * PG, RW, AP, -1, 0);
	assert_true(a > 0);
	assert_int_equal(committed(sys), 4 * PG);
	assert_int_equal(um_mprotect(p, (uint64_t)a, 2 * PG, UM_PROT_READ), 0);
	assert_int_equal(committed(sys), 2 * PG);
	assert_int_equal(um_mprotect(p, (uint64_t)a, PG, RW), 0);
	assert_int_equal(committed(sys), 3 * PG);
	assert_int_equal(um_store(p, (uint64_t)a + 3 * PG, 1, 1, &si), 0);
	assert_int_equal(um_mprotect(p, (uint64_t)a + 2 * PG, 2 * PG, UM_PROT_READ), 0);
	assert_int_equal(committed(sys), 3 * PG);
	um_exit(p);
	assert_int_equal(committed(sys), 0);
	free_checked(sys);
}

/* Policy 2: CommitLimit = 50% of 64 MiB = 32 MiB. */
static void never_policy_refuses_past_commit_limit(void **state)
{
	struct um_system *sys = boot_policy(UM_OVERCOMMIT_NEVER, 64);
	struct um_sys_stats st;
	struct um_proc *p, *c;

	(void)state;
	um_system_stats(sys, &st);
	assert_int_equal(st.commit_limit, 32ULL << 20);
	assert_int_equal(um_proc_new(sys, &p), 0);
	assert_int_equal(um_mmap(p, 0, 40ULL << 20, RW, AP, -1, 0), -ENOMEM);
	/* MAP_NORESERVE does not help under policy 2. */
	assert_int_equal(um_mmap(p, 0, 40ULL << 20, RW, AP | UM_MAP_NORESERVE, -1, 0), -ENOMEM);
	assert_int_equal(um_mmap(p, 0, 40ULL << 20, RW, AS, -1, 0), -ENOMEM);
	/* Read-only is free; making it writable is charged, and refused. */
	int64_t r = um_mmap(p, 0, 40ULL << 20, UM_PROT_READ, AP, -1, 0);
	assert_true(r > 0);
	assert_int_equal(um_mprotect(p, (uint64_t)r, 40ULL << 20, RW), -ENOMEM);
	assert_int_equal(committed(sys), 0);
	/* 20 MiB fits; a fork would need 20 more. */
	assert_true(um_mmap(p, 0, 20ULL << 20, RW, AP, -1, 0) > 0);
	assert_int_equal(um_fork(p, &c), -ENOMEM);
	assert_int_equal(committed(sys), 20ULL << 20);
	/* The failed calls changed nothing. */
	struct um_proc_stats ps;
	um_proc_stats(p, &ps);
	assert_int_equal(ps.map_count, 2);
	free_checked(sys);
}

/* Policy 1 never refuses; policy 0 refuses only one request beyond all memory. */
static void always_and_guess_policies(void **state)
{
	struct um_system *sys = boot_policy(UM_OVERCOMMIT_ALWAYS, 16);
	struct um_proc *p;

	(void)state;
	assert_int_equal(um_proc_new(sys, &p), 0);
	assert_true(um_mmap(p, 0, 1ULL << 30, RW, AP, -1, 0) > 0);
	free_checked(sys);

	sys = boot_policy(UM_OVERCOMMIT_GUESS, 16);
	assert_int_equal(um_proc_new(sys, &p), 0);
	assert_int_equal(um_mmap(p, 0, 17ULL << 20, RW, AP, -1, 0), -ENOMEM);
	assert_true(um_mmap(p, 0, 16ULL << 20, RW, AP, -1, 0) > 0);
	assert_true(um_mmap(p, 0, 16ULL << 20, RW, AP, -1, 0) > 0);
	free_checked(sys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(charges_follow_linux_accountable_mapping),
		cmocka_unit_test(mprotect_returns_charge_of_unfaulted_anonymous_memory),
		cmocka_unit_test(never_policy_refuses_past_commit_limit),
		cmocka_unit_test(always_and_guess_policies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
