/*
 * Resource limits (resource.c, and where each is enforced): um_setrlimit
 * and um_getrlimit as Linux's prlimit, per process, through fork and exec;
 * RLIMIT_AS and RLIMIT_DATA (may_expand_vm, brk's check_data_rlimit),
 * RLIMIT_STACK (stack growth, exec's layout), RLIMIT_MEMLOCK per process,
 * RLIMIT_FSIZE (short writes, then SIGXFSZ and EFBIG). The boundaries are
 * exact here; tests/diff/rlimit_*.ums check the same rules against Linux
 * 6.18 with margins for the kernel driver's own pages.
 */
#include "harness.h"

#define INF  UM_RLIM_INFINITY
#define HEAP 0x555555559000ULL /* brk_start */

/* getrlimit that must succeed, compared with the pair wanted. */
#define assert_rlimit(p, res, soft, hard)                                                          \
	do {                                                                                       \
		uint64_t s_ = 0, h_ = 0;                                                           \
		assert_ret(um_getrlimit((p), (res), &s_, &h_), 0);                                 \
		assert_ret(s_, (soft));                                                            \
		assert_ret(h_, (hard));                                                            \
	} while (0)

static void new_process_starts_with_linux_defaults_and_the_configured_memlock(void **state)
{
	struct um_config cfg;
	struct env *e;

	um_config_init(&cfg);
	cfg.rlimit_memlock = 1 << 20;
	e = boot(state, &cfg);
	assert_rlimit(e->p, UM_RLIMIT_STACK, 8 << 20, INF);
	assert_rlimit(e->p, UM_RLIMIT_MEMLOCK, 1 << 20, 1 << 20);
	assert_rlimit(e->p, UM_RLIMIT_AS, INF, INF);
	assert_rlimit(e->p, UM_RLIMIT_DATA, INF, INF);
	assert_rlimit(e->p, UM_RLIMIT_FSIZE, INF, INF);
	assert_rlimit(e->p, 7, 1024, 4096); /* RLIMIT_NOFILE, kept only */
	assert_rlimit(e->p, 4, 0, INF);	    /* RLIMIT_CORE */
	finish(e);
}

static void setrlimit_checks_the_resource_then_the_order_then_the_privilege(void **state)
{
	struct env *e = boot_default(state);
	uint64_t s = 1, h = 1;

	assert_ret(um_getrlimit(e->p, UM_RLIM_NLIMITS, &s, &h), -EINVAL);
	assert_ret(s, 1); /* untouched */
	assert_ret(um_setrlimit(e->p, UM_RLIM_NLIMITS, 0, 0), -EINVAL);
	assert_ret(um_setrlimit(e->p, 0xffffffffu, 0, 0), -EINVAL);
	/* soft > hard is EINVAL even where raising the hard limit would be EPERM. */
	assert_ret(um_setrlimit(e->p, UM_RLIMIT_MEMLOCK, 32 << 20, 16 << 20), -EINVAL);
	assert_ret(um_setrlimit(e->p, UM_RLIMIT_MEMLOCK, 8 << 20, 16 << 20), -EPERM);
	assert_rlimit(e->p, UM_RLIMIT_MEMLOCK, 8 << 20, 8 << 20);
	/* The soft limit moves under the hard one; the hard one goes down for good. */
	assert_ret(um_setrlimit(e->p, UM_RLIMIT_MEMLOCK, 0, 8 << 20), 0);
	assert_ret(um_setrlimit(e->p, UM_RLIMIT_MEMLOCK, 8 << 20, 8 << 20), 0);
	assert_ret(um_setrlimit(e->p, UM_RLIMIT_AS, 1 << 20, 2 << 20), 0);
	assert_ret(um_setrlimit(e->p, UM_RLIMIT_AS, 2 << 20, 2 << 20), 0);
	assert_ret(um_setrlimit(e->p, UM_RLIMIT_AS, 2 << 20, (2 << 20) + 1), -EPERM);
	assert_rlimit(e->p, UM_RLIMIT_AS, 2 << 20, 2 << 20);
	/* Resources the library does not enforce are kept; NOFILE has fs.nr_open above it. */
	assert_ret(um_setrlimit(e->p, 7, 10, 20), 0);
	assert_rlimit(e->p, 7, 10, 20);
	finish(e);
}

static void a_privileged_process_may_raise_a_hard_limit(void **state)
{
	struct env e;
	struct um_cred c;

	(void)state;
	boot_plain(&e, 16, 1);
	/* privileged alone (UM_CAP_PRIVILEGED) does not hold CAP_SYS_RESOURCE. */
	assert_ret(um_setrlimit(e.p, UM_RLIMIT_MEMLOCK, 16 << 20, INF), -EPERM);
	um_proc_cred(e.p, &c);
	c.cap_effective |= 1ULL << UM_CAP_SYS_RESOURCE;
	c.cap_permitted |= 1ULL << UM_CAP_SYS_RESOURCE;
	c.cap_bset |= 1ULL << UM_CAP_SYS_RESOURCE;
	assert_ret(um_proc_set_cred(e.p, &c), 0);
	assert_ret(um_setrlimit(e.p, UM_RLIMIT_MEMLOCK, 16 << 20, INF), 0);
	assert_rlimit(e.p, UM_RLIMIT_MEMLOCK, 16 << 20, INF);
	assert_ret(um_setrlimit(e.p, UM_RLIMIT_AS, 2, 1), -EINVAL);
	assert_ret(um_setrlimit(e.p, 7, 1 << 20, (1 << 20) + 1), -EPERM);
	finish(&e);
}

static void limits_go_with_fork_and_stay_across_exec(void **state)
{
	struct env *e = boot_default(state);
	struct um_proc *c, *q;

	assert_ret(um_setrlimit(e->p, UM_RLIMIT_FSIZE, 100, 200), 0);
	assert_ret(um_fork(e->p, &c), 0);
	assert_rlimit(c, UM_RLIMIT_FSIZE, 100, 200);
	assert_ret(um_setrlimit(c, UM_RLIMIT_FSIZE, 50, 50), 0);
	assert_rlimit(e->p, UM_RLIMIT_FSIZE, 100, 200);
	assert_ret(um_exec(c), 0);
	assert_rlimit(c, UM_RLIMIT_FSIZE, 50, 50);
	q = new_proc(e);
	assert_rlimit(q, UM_RLIMIT_FSIZE, INF, INF);
	um_exit(q);
	um_exit(c);
	finish(e);
}

static void exec_places_the_mmap_area_below_a_stack_of_rlimit_stack(void **state)
{
	struct env *e = boot_default(state);

	/* Up to 127 MiB the gap (with the 1 MiB guard gap) is the smallest, 128 MiB. */
	assert_ret(um_setrlimit(e->p, UM_RLIMIT_STACK, 127 << 20, INF), 0);
	assert_ret(um_exec(e->p), 0);
	assert_ret(um_mmap_base(e->p), BASE);
	/* 512 MiB (and a byte: the base rounds up to a page): 385 MiB lower. */
	assert_ret(um_setrlimit(e->p, UM_RLIMIT_STACK, (512 << 20) + 1, INF), 0);
	assert_ret(um_exec(e->p), 0);
	assert_ret(um_mmap_base(e->p), BASE - (385ULL << 20));
	assert_ret(um_mmap(e->p, 0, PG, RW, AP, -1, 0), BASE - (385ULL << 20) - PG);
	/* Unlimited: the largest gap, five sixths of the user space. */
	assert_ret(um_setrlimit(e->p, UM_RLIMIT_STACK, INF, INF), 0);
	assert_ret(um_exec(e->p), 0);
	assert_ret(um_mmap_base(e->p), 0x155555556000ULL);
	finish(e);
}

static void rlimit_as_counts_every_mapping_to_the_page(void **state)
{
	struct env *e = boot_default(state);
	uint64_t a;

	assert_ret(um_setrlimit(e->p, UM_RLIMIT_AS, 16 * PG + PG - 1, INF), 0);
	a = MAP_BELOW_BASE(e, 8, RW, AP);
	/* 8 + 8 pages: exactly the limit (an unaligned limit holds its whole pages). */
	assert_ret(um_mmap(e->p, 0, 8 * PG, UM_PROT_READ, AS, -1, 0), (int64_t)(BASE - 16 * PG));
	assert_ret(um_mmap(e->p, 0, PG, UM_PROT_NONE, AP, -1, 0), -ENOMEM);
	/* MAP_FIXED counts what it adds: the same pages, nothing. */
	assert_ret(um_mmap(e->p, a, 8 * PG, RW, AP | UM_MAP_FIXED, -1, 0), (int64_t)a);
	assert_ret(um_mremap(e->p, a, 8 * PG, 9 * PG, UM_MREMAP_MAYMOVE, 0), -ENOMEM);
	assert_ret(um_brk(e->p, HEAP + PG), HEAP);
	assert_ret(um_mremap(e->p, a, 8 * PG, 7 * PG, 0, 0), (int64_t)a);
	assert_ret(um_brk(e->p, HEAP + PG), HEAP + PG);
	assert_ret(um_brk(e->p, HEAP + 2 * PG), HEAP + PG);
	finish(e);
}

static void rlimit_data_counts_private_writable_mappings_only(void **state)
{
	struct env *e = boot_default(state);
	uint64_t r;

	assert_ret(um_setrlimit(e->p, UM_RLIMIT_DATA, 4 * PG, INF), 0);
	MAP_BELOW_BASE(e, 4, RW, AP);
	assert_ret(um_mmap(e->p, 0, PG, RW, AP, -1, 0), -ENOMEM);
	/* Shared, read-only and stack mappings are no data. */
	assert_true(um_mmap(e->p, 0, 8 * PG, RW, AS, -1, 0) > 0);
	r = (uint64_t)um_mmap(e->p, 0, 8 * PG, UM_PROT_READ, AP, -1, 0);
	assert_true((int64_t)r > 0);
	assert_true(um_mmap(e->p, 0, 8 * PG, RW, AP | UM_MAP_GROWSDOWN, -1, 0) > 0);
	/* mprotect making private memory writable turns it into data. */
	assert_ret(um_mprotect(e->p, r, PG, RW), -ENOMEM);
	assert_ret(um_mprotect(e->p, r, PG, UM_PROT_READ | UM_PROT_EXEC), 0);
	/* The soft limit 0: the hard one counts (valgrind). */
	assert_ret(um_setrlimit(e->p, UM_RLIMIT_DATA, 0, 6 * PG), 0);
	assert_ret(um_mprotect(e->p, r, 2 * PG, RW), 0);
	assert_ret(um_mprotect(e->p, r + 2 * PG, PG, RW), -ENOMEM);
	/* Taking write away gives the room back. */
	assert_ret(um_mprotect(e->p, r, PG, UM_PROT_READ), 0);
	assert_ret(um_mprotect(e->p, r + 2 * PG, PG, RW), 0);
	finish(e);
}

static void brk_checks_rlimit_data_on_the_break_and_on_the_pages(void **state)
{
	struct env *e = boot_default(state);

	assert_ret(um_setrlimit(e->p, UM_RLIMIT_DATA, 2 * PG + 1, INF), 0);
	/* check_data_rlimit passes (2 pages and a byte), the third page does not fit. */
	assert_ret(um_brk(e->p, HEAP + 2 * PG + 1), HEAP);
	assert_ret(um_brk(e->p, HEAP + 2 * PG), HEAP + 2 * PG);
	assert_ret(um_brk(e->p, HEAP + 2 * PG + 2), HEAP + 2 * PG);
	/* Lowered below the heap: even a shrink must pass check_data_rlimit. */
	assert_ret(um_setrlimit(e->p, UM_RLIMIT_DATA, PG, INF), 0);
	assert_ret(um_brk(e->p, HEAP + PG + 1), HEAP + 2 * PG);
	assert_ret(um_brk(e->p, HEAP + PG), HEAP + PG);
	finish(e);
}

static void stack_growth_stops_at_rlimit_stack_and_rlimit_as(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t g = 0x20000000;
	struct um_siginfo si;

	assert_ret(um_mmap(e->p, g, PG, RW, AP | UM_MAP_GROWSDOWN | UM_MAP_FIXED, -1, 0),
		   (int64_t)g);
	assert_ret(um_setrlimit(e->p, UM_RLIMIT_STACK, 4 * PG, INF), 0);
	assert_ret(um_store(e->p, g - 3 * PG, 1, 1, &si), 0);
	assert_store_fault(e->p, g - 4 * PG, 1, UM_SIGSEGV, UM_SEGV_MAPERR, g - 4 * PG);
	assert_ret(um_setrlimit(e->p, UM_RLIMIT_STACK, INF, INF), 0);
	assert_ret(um_setrlimit(e->p, UM_RLIMIT_AS, 6 * PG, INF), 0);
	assert_ret(um_store(e->p, g - 5 * PG, 1, 1, &si), 0);
	assert_store_fault(e->p, g - 6 * PG, 1, UM_SIGSEGV, UM_SEGV_MAPERR, g - 6 * PG);
	assert_ret(proc_stats(e->p).vm_size, 6 * PG);
	finish(e);
}

static void mlock_follows_each_process_memlock_limit(void **state)
{
	struct env *e = boot_default(state);
	struct um_proc *q = new_proc(e);
	uint64_t a = MAP_BELOW_BASE(e, 4, RW, AP);

	assert_ret(um_setrlimit(e->p, UM_RLIMIT_MEMLOCK, 2 * PG, 2 * PG), 0);
	assert_ret(um_mlock(e->p, a, 3 * PG), -ENOMEM);
	assert_ret(um_mlock(e->p, a, 2 * PG), 0);
	assert_ret(um_mmap(e->p, 0, PG, RW, AP | UM_MAP_LOCKED, -1, 0), -EAGAIN);
	assert_ret(um_setrlimit(e->p, UM_RLIMIT_MEMLOCK, 0, 2 * PG), 0);
	assert_ret(um_mlock(e->p, a, PG), -EPERM);
	assert_ret(um_mlockall(e->p, UM_MCL_FUTURE), -EPERM);
	/* Another process keeps the default, 8 MiB. */
	a = (uint64_t)um_mmap(q, 0, 3 * PG, RW, AP, -1, 0);
	assert_ret(um_mlock(q, a, 3 * PG), 0);
	um_exit(q);
	finish(e);
}

static void write_past_rlimit_fsize_is_cut_short_then_efbig_with_sigxfsz(void **state)
{
	struct env *e = boot_default(state);
	int fd = um_open(e->p, "f", UM_O_RDWR | UM_O_CREAT, 0644), zero;
	struct um_stat st;
	uint64_t m;

	assert_true(fd >= 0);
	assert_ret(um_setrlimit(e->p, UM_RLIMIT_FSIZE, 10, INF), 0);
	assert_ret(um_write(e->p, fd, "abcdefgh", 8), 8);
	assert_ret(um_write(e->p, fd, "ijkl", 4), 2);
	assert_ret(um_signal_take(e->p), 0);
	assert_ret(um_write(e->p, fd, "", 0), 0);
	assert_ret(um_signal_take(e->p), 0);
	assert_ret(um_write(e->p, fd, "m", 1), -EFBIG);
	assert_ret(um_signal_take(e->p), UM_SIGXFSZ);
	assert_ret(um_signal_take(e->p), 0);
	assert_ret(um_pwrite(e->p, fd, "xyz", 3, 9), 1);
	assert_ret(um_pwrite(e->p, fd, "x", 1, 1000), -EFBIG);
	/* From the process's memory alike. */
	m = MAP_BELOW_BASE(e, 1, RW, AP);
	assert_ret(um_lseek(e->p, fd, 7, UM_SEEK_SET), 7);
	assert_ret(um_write_user(e->p, fd, m, 8), 3);
	assert_ret(um_write_user(e->p, fd, m, 8), -EFBIG);
	/* A truncate may reach the limit, not pass it; shrinking always may. */
	assert_ret(um_ftruncate(e->p, fd, 11), -EFBIG);
	assert_ret(um_fstat(e->p, fd, &st), 0);
	assert_ret(st.st_size, 10);
	assert_ret(um_ftruncate(e->p, fd, 2), 0);
	assert_ret(um_ftruncate(e->p, fd, 10), 0);
	/* Both signals came as one (signals do not queue). */
	assert_ret(um_signal_take(e->p), UM_SIGXFSZ);
	assert_ret(um_signal_take(e->p), 0);
	zero = um_open(e->p, "/dev/zero", UM_O_WRONLY, 0);
	assert_ret(um_write(e->p, zero, "0123456789abcdef", 16), 16);
	finish(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		new_process_starts_with_linux_defaults_and_the_configured_memlock, env_setup,
		env_teardown),
	    cmocka_unit_test_setup_teardown(
		setrlimit_checks_the_resource_then_the_order_then_the_privilege, env_setup,
		env_teardown),
	    cmocka_unit_test(a_privileged_process_may_raise_a_hard_limit),
	    cmocka_unit_test_setup_teardown(limits_go_with_fork_and_stay_across_exec, env_setup,
					    env_teardown),
	    cmocka_unit_test_setup_teardown(exec_places_the_mmap_area_below_a_stack_of_rlimit_stack,
					    env_setup, env_teardown),
	    cmocka_unit_test_setup_teardown(rlimit_as_counts_every_mapping_to_the_page, env_setup,
					    env_teardown),
	    cmocka_unit_test_setup_teardown(rlimit_data_counts_private_writable_mappings_only,
					    env_setup, env_teardown),
	    cmocka_unit_test_setup_teardown(brk_checks_rlimit_data_on_the_break_and_on_the_pages,
					    env_setup, env_teardown),
	    cmocka_unit_test_setup_teardown(stack_growth_stops_at_rlimit_stack_and_rlimit_as,
					    env_setup, env_teardown),
	    cmocka_unit_test_setup_teardown(mlock_follows_each_process_memlock_limit, env_setup,
					    env_teardown),
	    cmocka_unit_test_setup_teardown(
		write_past_rlimit_fsize_is_cut_short_then_efbig_with_sigxfsz, env_setup,
		env_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
