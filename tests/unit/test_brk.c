/*
 * brk (brk.c): the heap grows and shrinks, answers the old break when it
 * cannot move, and shows as [heap] in maps.
 */
#include "harness.h"

#define START 0x555555559000ULL

static int access_code(struct um_proc *p, uint64_t addr)
{
	struct um_siginfo si;

	return um_store(p, addr, 8, 1, &si) ? si.code : 0;
}

static void brk_grows_shrinks_and_shows_heap(void **state)
{
	struct env e;
	char maps[1024];

	(void)state;
	boot_plain(&e, 32, 0);
	assert_int_equal(um_brk(e.p, 0), START);
	/* Nothing mapped until the heap grows. */
	assert_int_equal(access_code(e.p, START), UM_SEGV_MAPERR);
	assert_int_equal(um_brk(e.p, START + 3 * PG + 10), START + 3 * PG + 10);
	assert_int_equal(access_code(e.p, START + 3 * PG + 100), 0); /* the page is whole */
	assert_int_equal(access_code(e.p, START + 4 * PG), UM_SEGV_MAPERR);
	assert_true(um_proc_maps(e.p, maps, sizeof(maps)) > 0);
	assert_non_null(strstr(maps, "555555559000-55555555d000 rw-p 00000000 00:00 0"));
	assert_non_null(strstr(maps, "[heap]"));
	/* Growing again extends the same VMA. */
	assert_int_equal(um_brk(e.p, START + 5 * PG), START + 5 * PG);
	struct um_proc_stats st;
	um_proc_stats(e.p, &st);
	assert_int_equal(st.map_count, 1);
	/* Shrinking unmaps the tail. */
	assert_int_equal(um_brk(e.p, START + PG), START + PG);
	assert_int_equal(access_code(e.p, START + PG), UM_SEGV_MAPERR);
	assert_int_equal(access_code(e.p, START), 0);
	/* Below the start of the heap: the old break. */
	assert_int_equal(um_brk(e.p, START - PG), START + PG);
	finish(&e);
}

static void brk_refuses_to_come_near_a_mapping(void **state)
{
	struct env e;

	(void)state;
	boot_plain(&e, 32, 0);
	/* A mapping 4 pages above the start: the heap may grow to 3 pages, not 4. */
	assert_int_equal(um_mmap(e.p, START + 4 * PG, PG, UM_PROT_READ,
				 UM_MAP_PRIVATE | UM_MAP_ANONYMOUS | UM_MAP_FIXED, -1, 0),
			 (int64_t)(START + 4 * PG));
	assert_int_equal(um_brk(e.p, START + 4 * PG), START);
	assert_int_equal(um_brk(e.p, START + 3 * PG), START + 3 * PG);
	assert_int_equal(um_brk(e.p, START + 3 * PG + 1), START + 3 * PG);
	finish(&e);
}

static void fork_copies_the_heap_and_exec_resets_it(void **state)
{
	struct env e;
	struct um_proc *c;
	struct um_siginfo si;
	uint64_t v;

	(void)state;
	boot_plain(&e, 32, 0);
	assert_int_equal(um_brk(e.p, START + 2 * PG), START + 2 * PG);
	assert_int_equal(um_store(e.p, START, 8, 42, &si), 0);
	assert_int_equal(um_fork(e.p, &c), 0);
	assert_int_equal(um_brk(c, 0), START + 2 * PG);
	assert_int_equal(um_load(c, START, 8, &v, &si), 0);
	assert_int_equal(v, 42);
	assert_int_equal(um_exec(c), 0);
	assert_int_equal(um_brk(c, 0), START);
	um_exit(c);
	finish(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(brk_grows_shrinks_and_shows_heap),
		cmocka_unit_test(brk_refuses_to_come_near_a_mapping),
		cmocka_unit_test(fork_copies_the_heap_and_exec_resets_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
