/*
 * MAP_GROWSDOWN (fault.c expand_stack): a touch below the VMA grows it down
 * to the touched page, unless that comes within the stack guard gap (256
 * pages) of an accessible mapping below: then SIGSEGV SEGV_MAPERR. Checked
 * on Linux 6.18 with the same addresses.
 */
#include "harness.h"

static void growsdown_grows_to_the_touched_page_and_respects_the_gap(void **state)
{
	struct um_config cfg;
	struct um_system *sys;
	struct um_proc *p;
	struct um_siginfo si;
	char maps[2048];
	const uint64_t below = 0x20000000, g = 0x20400000;

	(void)state;
	um_config_init(&cfg);
	cfg.phys_bytes = 16ULL << 20;
	assert_int_equal(um_system_new(&cfg, &sys), 0);
	assert_int_equal(um_proc_new(sys, &p), 0);
	assert_int_equal(um_mmap(p, below, PG, UM_PROT_READ,
				 UM_MAP_PRIVATE | UM_MAP_ANONYMOUS | UM_MAP_FIXED, -1, 0),
			 (int64_t)below);
	assert_int_equal(um_mmap(p, g, PG, UM_PROT_READ | UM_PROT_WRITE,
				 UM_MAP_PRIVATE | UM_MAP_ANONYMOUS | UM_MAP_GROWSDOWN | UM_MAP_FIXED,
				 -1, 0),
			 (int64_t)g);
	assert_int_equal(um_store(p, g - 1, 1, 1, &si), 0);
	assert_int_equal(um_store(p, g - 10 * PG, 1, 1, &si), 0);
	assert_true(um_proc_maps(p, maps, sizeof(maps)) > 0);
	assert_non_null(strstr(maps, "203f6000-20401000 rw-p 00000000 00:00 0"));
	/* Within 1 MiB of the mapping below: refused. Exactly 1 MiB away: allowed. */
	assert_store_fault(p, below + 0x100000, 1, UM_SIGSEGV, UM_SEGV_MAPERR, below + 0x100000);
	assert_int_equal(um_store(p, below + 0x101000, 1, 1, &si), 0);
	free_checked(sys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(growsdown_grows_to_the_touched_page_and_respects_the_gap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
