/*
 * fork, exec and exit: copy-on-write of private anonymous pages, shared
 * anonymous memory that stays shared, exec and exit dropping every mapping,
 * and frame reference counts returning to zero.
 *
 * Linux behaviours relied on: after fork both sides map the same frame
 * read-only; the first write by either side copies that one page
 * (do_wp_page), and a write by the last process still mapping the old frame
 * reuses it without a copy (wp_can_reuse_anon_folio).
 */
#include "harness.h"

/* 8-byte accesses; the faulting ones at the address they report. */
#define LOAD(p, a) load_ok(p, a, 8, __LINE__)
#define STORE(p, a, v) store_ok(p, a, 8, v, __LINE__)
#define LOAD_FAULTS(p, a, code) assert_load_fault(p, a, 8, UM_SIGSEGV, code, a)
#define STORE_FAULTS(p, a, code) assert_store_fault(p, a, 8, UM_SIGSEGV, code, a)

/* ---------------------------------------------------------------- tests */

static void fork_private_page_written_before_fork_reads_same_in_both(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 4, RW, AP);
	for (uint64_t i = 0; i < 4; i++)
		STORE(e->p, a + i * PG + 8 * i, 0xc0de0000 + i);
	uint64_t used = frames_used(e->sys);
	struct um_proc *c = FORK(e->p);
	assert_true(um_getpid(c) != um_getpid(e->p));
	/* no frame is copied by fork itself */
	assert_ret(frames_used(e->sys), used);
	assert_ret(sys_stats(e->sys).nr_procs, 2);
	for (uint64_t i = 0; i < 4; i++) {
		assert_ret(LOAD(c, a + i * PG + 8 * i), 0xc0de0000 + i);
		assert_ret(LOAD(e->p, a + i * PG + 8 * i), 0xc0de0000 + i);
	}
	assert_ret(proc_stats(c).map_count, 1);
	assert_ret(proc_stats(c).vm_size, 4 * PG);
	assert_ret(sys_stats(e->sys).cow_copies, 0);
	CHECK(e);
	finish(e);
}

static void child_write_copies_only_that_page(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 4, RW, AP);
	FILL_PAGES(e->p, a, 4, 0x100);
	struct um_proc *c = FORK(e->p);
	struct um_sys_stats before = sys_stats(e->sys);

	STORE(c, a + PG, 0x999);
	struct um_sys_stats after = sys_stats(e->sys);
	assert_ret(after.cow_copies, before.cow_copies + 1);
	assert_ret(after.frames_used, before.frames_used + 1);
	assert_ret(LOAD(c, a + PG), 0x999);
	assert_ret(LOAD(e->p, a + PG), 0x101);
	for (uint64_t i = 0; i < 4; i++) {
		if (i == 1)
			continue;
		assert_ret(LOAD(c, a + i * PG), 0x100 + i);
		assert_ret(LOAD(e->p, a + i * PG), 0x100 + i);
	}
	/* the copy is the child's own now: writing it again copies nothing */
	STORE(c, a + PG + 8, 0x998);
	assert_ret(sys_stats(e->sys).cow_copies, before.cow_copies + 1);
	assert_ret(LOAD(e->p, a + PG + 8), 0);
	CHECK(e);
	finish(e);
}

static void parent_write_after_fork_child_reads_old_value(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 2, RW, AP);
	STORE(e->p, a, 1);		  /* the parent's TLB now allows writes */
	assert_ret(LOAD(e->p, a), 1);
	struct um_proc *c = FORK(e->p);
	uint64_t cows = sys_stats(e->sys).cow_copies;
	STORE(e->p, a, 2);
	assert_ret(sys_stats(e->sys).cow_copies, cows + 1);
	assert_ret(LOAD(e->p, a), 2);
	assert_ret(LOAD(c, a), 1);
	/* the untouched second page reads zero on both sides */
	assert_ret(LOAD(c, a + PG), 0);
	STORE(e->p, a + PG, 3);
	assert_ret(LOAD(c, a + PG), 0);
	CHECK(e);
	finish(e);
}

static void last_sharer_write_reuses_page_without_copy(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 1, RW, AP);
	STORE(e->p, a, 10);
	struct um_proc *c = FORK(e->p);
	uint64_t cows = sys_stats(e->sys).cow_copies;
	STORE(c, a, 11); /* copies */
	assert_ret(sys_stats(e->sys).cow_copies, cows + 1);
	uint64_t used = frames_used(e->sys);
	STORE(e->p, a, 12); /* the old frame is the parent's alone: reused */
	assert_ret(sys_stats(e->sys).cow_copies, cows + 1);
	assert_ret(frames_used(e->sys), used);
	assert_ret(LOAD(e->p, a), 12);
	assert_ret(LOAD(c, a), 11);
	/* likewise after the other side exits */
	STORE(e->p, a + 8, 20);
	struct um_proc *c2 = FORK(e->p);
	um_exit(c2);
	STORE(e->p, a + 16, 21);
	assert_ret(sys_stats(e->sys).cow_copies, cows + 1);
	assert_ret(LOAD(c, a + 8), 0);
	CHECK(e);
	finish(e);
}

/* The seed's example: parent stores 1, child reads 1 and stores 2, child
 * munmaps and exits, parent reads 2. */
static void shared_anonymous_mapping_stays_shared(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 1, RW, AS);
	STORE(e->p, a, 1);
	struct um_proc *c = FORK(e->p);
	assert_ret(LOAD(c, a), 1);
	STORE(c, a, 2);
	assert_ret(LOAD(e->p, a), 2);
	assert_ret(sys_stats(e->sys).cow_copies, 0);
	assert_ret(um_munmap(c, a, PG), 0);
	um_exit(c);
	assert_ret(LOAD(e->p, a), 2);
	STORE(e->p, a, 3);
	assert_ret(LOAD(e->p, a), 3);
	assert_ret(sys_stats(e->sys).nr_procs, 1);
	CHECK(e);
	finish(e);
}

static void shared_anonymous_page_first_touched_after_fork_is_shared(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 2, RW, AS);
	struct um_proc *c = FORK(e->p);
	assert_ret(LOAD(e->p, a + PG), 0); /* a read first, then a write */
	STORE(c, a + PG, 7);
	assert_ret(LOAD(e->p, a + PG), 7);
	STORE(e->p, a, 8);
	assert_ret(LOAD(c, a), 8);
	/* a grandchild shares it too */
	struct um_proc *g = FORK(c);
	STORE(g, a + 8, 9);
	assert_ret(LOAD(e->p, a + 8), 9);
	/* the parent unmaps: the others keep the memory */
	assert_ret(um_munmap(e->p, a, 2 * PG), 0);
	assert_ret(LOAD(c, a + 8), 9);
	um_exit(c);
	assert_ret(LOAD(g, a + PG), 7);
	assert_ret(sys_stats(e->sys).cow_copies, 0);
	CHECK(e);
	um_exit(g);
	assert_ret(frames_used(e->sys), 0);
	finish(e);
}

static void private_and_shared_mappings_mixed_across_fork(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t priv = BASE - PG;
	const uint64_t shr = BASE - 2 * PG;
	assert_ret(um_mmap(e->p, 0, PG, RW, AP, -1, 0), priv);
	assert_ret(um_mmap(e->p, 0, PG, RW, AS, -1, 0), shr);
	STORE(e->p, priv, 1);
	STORE(e->p, shr, 1);
	struct um_proc *c = FORK(e->p);
	STORE(c, priv, 2);
	STORE(c, shr, 2);
	assert_ret(LOAD(e->p, priv), 1);
	assert_ret(LOAD(e->p, shr), 2);
	assert_ret(proc_stats(c).map_count, 2);
	CHECK(e);
	finish(e);
}

static void fork_keeps_layout_and_protections(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 4, RW, AP);
	STORE(e->p, a + PG, 5);
	assert_ret(um_mprotect(e->p, a + PG, PG, UM_PROT_READ), 0);
	assert_ret(um_mprotect(e->p, a + 2 * PG, PG, UM_PROT_NONE), 0);
	assert_ret(um_munmap(e->p, a + 3 * PG, PG), 0);
	struct um_proc *c = FORK(e->p);
	assert_ret(proc_stats(c).map_count, proc_stats(e->p).map_count);
	assert_ret(proc_stats(c).vm_size, 3 * PG);
	assert_ret(um_mmap_base(c), um_mmap_base(e->p));
	assert_ret(LOAD(c, a + PG), 5);
	STORE_FAULTS(c, a + PG, UM_SEGV_ACCERR);
	LOAD_FAULTS(c, a + 2 * PG, UM_SEGV_ACCERR);
	LOAD_FAULTS(c, a + 3 * PG, UM_SEGV_MAPERR);
	STORE(c, a, 6);
	assert_ret(LOAD(e->p, a), 0);
	/* the child places new mappings as the parent would: in the hole */
	assert_ret(um_mmap(c, 0, PG, RW, AP, -1, 0), BASE - PG);
	assert_ret(um_mmap(e->p, 0, PG, RW, AP, -1, 0), BASE - PG);
	STORE(c, BASE - PG, 1);
	assert_ret(LOAD(e->p, BASE - PG), 0);
	CHECK(e);
	finish(e);
}

static void exec_drops_every_mapping(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 4, RW, AP);
	assert_ret(um_mmap(e->p, 0, PG, RW, AS, -1, 0), a - PG);
	assert_ret(um_mprotect(e->p, a, PG, UM_PROT_READ), 0);
	STORE(e->p, a + PG, 1);
	STORE(e->p, a - PG, 2);
	int pid = um_getpid(e->p);
	assert_ret(um_exec(e->p), 0);
	assert_ret(um_getpid(e->p), pid);
	struct um_proc_stats st = proc_stats(e->p);
	assert_ret(st.map_count, 0);
	assert_ret(st.vm_size, 0);
	assert_ret(st.rss_anon, 0);
	assert_ret(st.rss_shmem, 0);
	LOAD_FAULTS(e->p, a + PG, UM_SEGV_MAPERR);
	LOAD_FAULTS(e->p, a - PG, UM_SEGV_MAPERR);
	STORE_FAULTS(e->p, a, UM_SEGV_MAPERR);
	assert_ret(frames_used(e->sys), 0);
	/* a fresh address space: mmap places from the base again */
	assert_ret(um_mmap(e->p, 0, PG, RW, AP, -1, 0), BASE - PG);
	assert_ret(LOAD(e->p, BASE - PG), 0);
	CHECK(e);
	finish(e);
}

static void exec_in_child_leaves_parent_intact(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = BASE - 2 * PG;
	assert_ret(um_mmap(e->p, 0, PG, RW, AP, -1, 0), BASE - PG);
	assert_ret(um_mmap(e->p, 0, PG, RW, AS, -1, 0), a);
	STORE(e->p, BASE - PG, 1);
	STORE(e->p, a, 2);
	struct um_proc *c = FORK(e->p);
	assert_ret(um_exec(c), 0);
	assert_ret(proc_stats(c).map_count, 0);
	assert_ret(LOAD(e->p, BASE - PG), 1);
	assert_ret(LOAD(e->p, a), 2);
	STORE(e->p, BASE - PG, 3); /* sole owner again: no copy */
	assert_ret(sys_stats(e->sys).cow_copies, 0);
	assert_ret(frames_used(e->sys), 2);
	CHECK(e);
	finish(e);
}

static void frames_return_to_zero_after_every_process_exits(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = BASE - 8 * PG;
	assert_ret(um_mmap(e->p, 0, 4 * PG, RW, AS, -1, 0), BASE - 4 * PG);
	assert_ret(um_mmap(e->p, 0, 4 * PG, RW, AP, -1, 0), a);
	FILL_PAGES(e->p, a, 8, 0);
	struct um_proc *c1 = FORK(e->p);
	struct um_proc *c2 = FORK(e->p);
	struct um_proc *g = FORK(c1);
	STORE(c1, a, 100);
	STORE(c2, a + PG, 200);
	STORE(g, a + 2 * PG, 300);
	STORE(g, a + 4 * PG, 301); /* shared */
	assert_ret(LOAD(c2, a + 4 * PG), 301);
	assert_ret(sys_stats(e->sys).nr_procs, 4);
	assert_true(frames_used(e->sys) > 0);
	CHECK(e);
	um_exit(c1); /* the middle of the tree first */
	CHECK(e);
	um_exit(e->p);
	e->p = NULL;
	CHECK(e);
	assert_ret(LOAD(g, a), 0);
	assert_ret(LOAD(g, a + 2 * PG), 300);
	assert_ret(LOAD(c2, a + PG), 200);
	um_exit(g);
	um_exit(c2);
	struct um_sys_stats st = sys_stats(e->sys);
	assert_ret(st.frames_used, 0);
	assert_ret(st.nr_procs, 0);
	finish(e);
}

/*
 * gen 0 writes page 0, forks gen 1, which writes page 1, forks gen 2 ...
 * Each generation sees the values of its ancestors and zero after itself.
 */
#define GENERATIONS 24

static void fork_chain_of_many_generations(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, GENERATIONS, RW, AP);
	struct um_proc *gen[GENERATIONS];
	gen[0] = e->p;
	for (int g = 0; g < GENERATIONS; g++) {
		if (g > 0)
			gen[g] = FORK(gen[g - 1]);
		STORE(gen[g], a + (uint64_t)g * PG, 0x1000 + (uint64_t)g);
		/* and overwrite the shared page 0 with its own number */
		STORE(gen[g], a + 8, (uint64_t)g);
	}
	for (int g = 0; g < GENERATIONS; g++) {
		for (int k = 0; k < GENERATIONS; k++)
			assert_ret(LOAD(gen[g], a + (uint64_t)k * PG), k <= g ? 0x1000 + k : 0);
		assert_ret(LOAD(gen[g], a + 8), g);
	}
	CHECK(e);
	/* exit every other generation, then check the rest again */
	for (int g = 1; g < GENERATIONS; g += 2)
		um_exit(gen[g]);
	CHECK(e);
	for (int g = 0; g < GENERATIONS; g += 2) {
		for (int k = 0; k < GENERATIONS; k++)
			assert_ret(LOAD(gen[g], a + (uint64_t)k * PG), k <= g ? 0x1000 + k : 0);
		STORE(gen[g], a + 16, (uint64_t)g);
	}
	for (int g = 0; g < GENERATIONS; g += 2)
		assert_ret(LOAD(gen[g], a + 16), g);
	for (int g = 0; g < GENERATIONS; g += 2)
		um_exit(gen[g]);
	e->p = NULL;
	assert_ret(frames_used(e->sys), 0);
	assert_ret(sys_stats(e->sys).nr_procs, 0);
	finish(e);
}

static void many_children_of_one_parent_copy_independently(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 1, RW, AP);
	enum { N = 16 };
	struct um_proc *c[N];
	STORE(e->p, a, 0xabc);
	for (int i = 0; i < N; i++)
		c[i] = FORK(e->p);
	uint64_t cows = sys_stats(e->sys).cow_copies;
	for (int i = 0; i < N; i++)
		STORE(c[i], a, (uint64_t)i);
	/* the parent still maps the old frame: every child's write copies */
	assert_ret(sys_stats(e->sys).cow_copies, cows + N);
	for (int i = 0; i < N; i++)
		assert_ret(LOAD(c[i], a), i);
	assert_ret(LOAD(e->p, a), 0xabc);
	for (int i = 0; i < N; i++)
		um_exit(c[i]);
	assert_ret(frames_used(e->sys), 1);
	CHECK(e);
	finish(e);
}

static void fork_of_untouched_mapping_reads_zero_in_child(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 2, RW, AP);
	assert_ret(LOAD(e->p, a), 0); /* maps the zero page */
	struct um_proc *c = FORK(e->p);
	assert_ret(LOAD(c, a), 0);
	assert_ret(LOAD(c, a + PG), 0);
	STORE(c, a, 1);
	assert_ret(LOAD(e->p, a), 0);
	STORE(e->p, a + PG, 2);
	assert_ret(LOAD(c, a + PG), 0);
	assert_ret(frames_used(e->sys), 2);
	CHECK(e);
	finish(e);
}

static void child_exit_leaves_parent_data_and_counts_intact(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 4, RW, AP);
	FILL_PAGES(e->p, a, 4, 0x50);
	struct um_proc_stats pst = proc_stats(e->p);
	struct um_proc *c = FORK(e->p);
	FILL_PAGES(c, a, 4, 0x60);
	assert_ret(frames_used(e->sys), 8);
	um_exit(c);
	assert_ret(frames_used(e->sys), 4);
	EXPECT_PAGES(e->p, a, 4, 0x50);
	assert_ret(proc_stats(e->p).rss_anon, pst.rss_anon);
	assert_ret(proc_stats(e->p).rss_anon, 4 * PG);
	CHECK(e);
	finish(e);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, env_setup, env_teardown)
	const struct CMUnitTest tests[] = {
		T(fork_private_page_written_before_fork_reads_same_in_both),
		T(child_write_copies_only_that_page),
		T(parent_write_after_fork_child_reads_old_value),
		T(last_sharer_write_reuses_page_without_copy),
		T(shared_anonymous_mapping_stays_shared),
		T(shared_anonymous_page_first_touched_after_fork_is_shared),
		T(private_and_shared_mappings_mixed_across_fork),
		T(fork_keeps_layout_and_protections),
		T(exec_drops_every_mapping),
		T(exec_in_child_leaves_parent_intact),
		T(frames_return_to_zero_after_every_process_exits),
		T(fork_chain_of_many_generations),
		T(many_children_of_one_parent_copy_independently),
		T(fork_of_untouched_mapping_reads_zero_in_child),
		T(child_exit_leaves_parent_data_and_counts_intact),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
