/*
 * The software TLB and its inline hit paths (usermm.h um_load64_hit,
 * um_store64_hit): they hit after a fill, miss on anything not filled or
 * not aligned, and every change that takes rights away makes them miss.
 */
#include "harness.h"

struct tlb_env {
	struct um_system *sys;
	struct um_proc *p;
	struct um_tlb *t;
	uint64_t a;
};

static void boot_tlb(struct tlb_env *e)
{
	struct um_config cfg;

	um_config_init(&cfg);
	cfg.phys_bytes = 16ULL << 20;
	assert_int_equal(um_system_new(&cfg, &e->sys), 0);
	assert_int_equal(um_proc_new(e->sys, &e->p), 0);
	e->t = um_tlb_self();
	e->a = (uint64_t)um_mmap(e->p, 0, 4 * PG, RW, AP, -1, 0);
	assert_true((int64_t)e->a > 0);
}

static void inline_paths_hit_after_a_fill_and_miss_before(void **state)
{
	struct tlb_env e;
	struct um_siginfo si;
	uint64_t v = 0;

	(void)state;
	boot_tlb(&e);
	const uint64_t *gen = um_tlb_gen(e.p);
	/* Nothing filled yet: both miss and change nothing. */
	assert_int_equal(um_load64_hit(e.t, gen, e.a, &v), 1);
	assert_int_equal(um_store64_hit(e.t, gen, e.a, 5), 1);
	assert_int_equal(um_store(e.p, e.a, 8, 7, &si), 0);
	assert_int_equal(um_load64_hit(e.t, gen, e.a + 8, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(um_store64_hit(e.t, gen, e.a + 8, 9), 0);
	assert_int_equal(um_load(e.p, e.a + 8, 8, &v, &si), 0);
	assert_int_equal(v, 9);
	/* Misaligned: always the slow path. */
	assert_int_equal(um_load64_hit(e.t, gen, e.a + 4, &v), 1);
	assert_int_equal(um_store64_hit(e.t, gen, e.a + 4, 1), 1);
	/* A read fault on an untouched page fills a read entry only (the zero frame). */
	assert_int_equal(um_load(e.p, e.a + PG, 8, &v, &si), 0);
	assert_int_equal(um_load64_hit(e.t, gen, e.a + PG, &v), 0);
	assert_int_equal(um_store64_hit(e.t, gen, e.a + PG, 1), 1);
	free_checked(e.sys);
}

static void rights_taken_away_make_inline_paths_miss(void **state)
{
	struct tlb_env e;
	struct um_siginfo si;
	struct um_proc *c;
	uint64_t v;

	(void)state;
	boot_tlb(&e);
	const uint64_t *gen = um_tlb_gen(e.p);
	assert_int_equal(um_store(e.p, e.a, 8, 1, &si), 0);
	assert_int_equal(um_store(e.p, e.a + PG, 8, 2, &si), 0);
	assert_int_equal(um_store64_hit(e.t, gen, e.a + PG, 3), 0);
	/* mprotect read-only: stores miss (and then fault), loads still hit after a refill. */
	assert_int_equal(um_mprotect(e.p, e.a, PG, UM_PROT_READ), 0);
	assert_int_equal(um_store64_hit(e.t, gen, e.a, 4), 1);
	assert_int_equal(um_store(e.p, e.a, 8, 4, &si), -EFAULT);
	assert_int_equal(si.code, UM_SEGV_ACCERR);
	/* fork write-protects: the parent's store misses and copies on the slow path. */
	assert_int_equal(um_store(e.p, e.a + PG, 8, 5, &si), 0);
	assert_int_equal(um_fork(e.p, &c), 0);
	assert_int_equal(um_store64_hit(e.t, gen, e.a + PG, 6), 1);
	assert_int_equal(um_store(e.p, e.a + PG, 8, 6, &si), 0);
	assert_int_equal(um_load(c, e.a + PG, 8, &v, &si), 0);
	assert_int_equal(v, 5);
	um_exit(c);
	/* munmap: both miss, and the slow path faults. */
	assert_int_equal(um_load(e.p, e.a + PG, 8, &v, &si), 0);
	assert_int_equal(um_munmap(e.p, e.a + PG, PG), 0);
	assert_int_equal(um_load64_hit(e.t, gen, e.a + PG, &v), 1);
	assert_int_equal(um_load(e.p, e.a + PG, 8, &v, &si), -EFAULT);
	assert_int_equal(si.code, UM_SEGV_MAPERR);
	free_checked(e.sys);
}

/* exec gives the process a new address space, and a new generation word. */
static void exec_gives_a_new_generation(void **state)
{
	struct tlb_env e;
	struct um_siginfo si;
	uint64_t v;

	(void)state;
	boot_tlb(&e);
	const uint64_t *gen = um_tlb_gen(e.p);
	assert_int_equal(um_store(e.p, e.a, 8, 1, &si), 0);
	assert_int_equal(um_exec(e.p), 0);
	assert_ptr_not_equal(um_tlb_gen(e.p), gen);
	assert_int_equal(um_load64_hit(e.t, um_tlb_gen(e.p), e.a, &v), 1);
	assert_int_equal(um_load(e.p, e.a, 8, &v, &si), -EFAULT);
	free_checked(e.sys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(inline_paths_hit_after_a_fill_and_miss_before),
		cmocka_unit_test(rights_taken_away_make_inline_paths_miss),
		cmocka_unit_test(exec_gives_a_new_generation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
