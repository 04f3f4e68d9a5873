/*
 * The reverse map of anonymous memory (rmap.c): from an anonymous frame to
 * every PTE, in every process, that maps it, through fork, copy-on-write,
 * mremap, munmap, exec, and VMA splits and merges. Each test names the
 * places it expects and compares them with what rmap_walk_anon finds, both
 * ways: a place missed and a place too many both fail.
 */
#include "frame.h"
#include "mm.h"
#include "pgtable.h"
#include "system.h"
#include "vma.h"

#include "harness.h"

#define LOAD(p, a) load_ok(p, a, 8, __LINE__)
#define STORE(p, a, v) store_ok(p, a, 8, v, __LINE__)

/* The frame p maps at a (its PTE present), or FRAME_NONE. */
static uint32_t frame_at(struct um_proc *p, uint64_t a)
{
	_Atomic pte_t *ptep = pgtable_walk(&p->mm->pt, a, false);
	pte_t pte = ptep ? atomic_load(ptep) : 0;

	return (pte & PTE_PRESENT) ? pte_pfn(pte) : FRAME_NONE;
}

struct place {
	struct mm *mm;
	uint64_t addr;
};

struct found {
	struct place at[16];
	int n;
};

static bool note_place(struct vma *v, uint64_t addr, _Atomic uint64_t *ptep, void *arg)
{
	struct found *fd = arg;

	(void)ptep;
	if (fd->n < 16)
		fd->at[fd->n] = (struct place){ v->vm_mm, addr };
	fd->n++;
	return true;
}

/*
 * The frame that want[0] maps is mapped exactly at the n places of want
 * (process, address), no more, no fewer, and the walk's count agrees.
 */
static void expect_rmap(struct env *e, int line, int n, const struct um_proc *const *procs,
			const uint64_t *addrs)
{
	uint32_t pfn = frame_at((struct um_proc *)procs[0], addrs[0]);
	struct found fd = { .n = 0 };
	uint64_t calls;

	if (pfn == FRAME_NONE)
		fail_msg("line %d: nothing mapped at %#llx", line, (unsigned long long)addrs[0]);
	calls = rmap_walk_anon(e->sys, pfn, note_place, &fd);
	if ((int)calls != fd.n || fd.n != n)
		fail_msg("line %d: frame %u: rmap finds %d places (%llu calls), expected %d", line,
			 pfn, fd.n, (unsigned long long)calls, n);
	for (int i = 0; i < n; i++) {
		bool seen = false;

		for (int j = 0; j < fd.n; j++)
			seen |= fd.at[j].mm == procs[i]->mm && fd.at[j].addr == addrs[i];
		if (!seen || frame_at((struct um_proc *)procs[i], addrs[i]) != pfn)
			fail_msg("line %d: frame %u: pid %d at %#llx not found", line, pfn,
				 um_getpid((struct um_proc *)procs[i]), (unsigned long long)addrs[i]);
	}
	assert_int_equal(atomic_load(&pfn_frame(&e->sys->fp, pfn)->mapcount), n);
}

#define EXPECT_RMAP(e, n, ...)                                                                     \
	expect_rmap(e, __LINE__, n, (const struct um_proc *const[]){ __VA_ARGS__ },                \
		    (const uint64_t[]){ RMAP_ADDRS })

/* ---------------------------------------------------------------- tests */

/*
 * A page written before two forks (parent P, child C, grandchild G) is
 * mapped by all three; a write in C gives C a copy only it maps; a child
 * that exits or execs leaves the others' entries alone.
 */
static void rmap_follows_fork_cow_exit_and_exec(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 2, RW, AP);

	STORE(e->p, a, 1);
	STORE(e->p, a + PG, 2);
	struct um_proc *c = FORK(e->p);
	struct um_proc *g = FORK(c);
#define RMAP_ADDRS a, a, a
	EXPECT_RMAP(e, 3, e->p, c, g);
	CHECK(e);
	STORE(c, a, 10);
#undef RMAP_ADDRS
#define RMAP_ADDRS a
	EXPECT_RMAP(e, 1, c);
#undef RMAP_ADDRS
#define RMAP_ADDRS a, a
	EXPECT_RMAP(e, 2, e->p, g);
	CHECK(e);
	assert_ret(um_exec(g), 0);
#undef RMAP_ADDRS
#define RMAP_ADDRS a
	EXPECT_RMAP(e, 1, e->p);
#undef RMAP_ADDRS
#define RMAP_ADDRS a + PG, a + PG
	EXPECT_RMAP(e, 2, e->p, c);
	CHECK(e);
	um_exit(c);
#undef RMAP_ADDRS
#define RMAP_ADDRS a + PG
	EXPECT_RMAP(e, 1, e->p);
#undef RMAP_ADDRS
	um_exit(g);
	CHECK(e);
	finish(e);
}

/*
 * mremap moves the parent's pages to a new address, vm_pgoff kept: the
 * frames it still shares with its child are found at the new address in
 * the parent and the old one in the child; then the child's munmap leaves
 * only the parent's entry.
 */
static void rmap_follows_mremap_and_munmap(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 4, RW, AP);

	for (uint64_t i = 0; i < 4; i++)
		STORE(e->p, a + i * PG, 100 + i);
	struct um_proc *c = FORK(e->p);
	const uint64_t b = a - 64 * PG;
	assert_ret(um_mremap(e->p, a, 4 * PG, 4 * PG, UM_MREMAP_MAYMOVE | UM_MREMAP_FIXED, b), b);
#define RMAP_ADDRS b + 2 * PG, a + 2 * PG
	EXPECT_RMAP(e, 2, e->p, c);
	CHECK(e);
	/* Moved back within the parent, then its first page written (a copy). */
	assert_ret(um_mremap(e->p, b + 2 * PG, 2 * PG, 2 * PG,
			     UM_MREMAP_MAYMOVE | UM_MREMAP_FIXED, b + 32 * PG),
		   b + 32 * PG);
#undef RMAP_ADDRS
#define RMAP_ADDRS b + 32 * PG, a + 2 * PG
	EXPECT_RMAP(e, 2, e->p, c);
	STORE(e->p, b + 32 * PG, 7);
#undef RMAP_ADDRS
#define RMAP_ADDRS b + 32 * PG
	EXPECT_RMAP(e, 1, e->p);
	CHECK(e);
	assert_ret(um_munmap(c, a, 4 * PG), 0);
#undef RMAP_ADDRS
#define RMAP_ADDRS b + 33 * PG
	EXPECT_RMAP(e, 1, e->p);
#undef RMAP_ADDRS
#define RMAP_ADDRS b
	EXPECT_RMAP(e, 1, e->p);
#undef RMAP_ADDRS
	assert_int_equal(LOAD(e->p, b + 33 * PG), 103);
	CHECK(e);
	um_exit(c);
	finish(e);
}

/*
 * mprotect splits a VMA in three and merges it back, in the parent after a
 * fork: every page is found in both processes throughout, and a page first
 * written in the split-off middle (then merged) too.
 */
static void rmap_follows_split_and_merge(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 3, RW, AP);

	STORE(e->p, a, 1);
	STORE(e->p, a + 2 * PG, 3);
	struct um_proc *c = FORK(e->p);
	assert_ret(um_mprotect(e->p, a + PG, PG, UM_PROT_READ), 0);
#define RMAP_ADDRS a + 2 * PG, a + 2 * PG
	EXPECT_RMAP(e, 2, e->p, c);
	CHECK(e);
	assert_ret(um_mprotect(e->p, a + PG, PG, RW), 0);
	STORE(e->p, a + PG, 2);
	assert_ret(um_mprotect(e->p, a, 2 * PG, UM_PROT_READ), 0);
#undef RMAP_ADDRS
#define RMAP_ADDRS a + PG
	EXPECT_RMAP(e, 1, e->p);
#undef RMAP_ADDRS
#define RMAP_ADDRS a, a
	EXPECT_RMAP(e, 2, c, e->p);
	CHECK(e);
	/* The child's pages, split from its own VMA, too. */
	assert_ret(um_mprotect(c, a + 2 * PG, PG, UM_PROT_READ), 0);
#undef RMAP_ADDRS
#define RMAP_ADDRS a + 2 * PG, a + 2 * PG
	EXPECT_RMAP(e, 2, c, e->p);
#undef RMAP_ADDRS
	CHECK(e);
	um_exit(c);
	finish(e);
}

/* A private file mapping's copies are anonymous: found by their file index. */
static void rmap_finds_private_file_copies_and_stack_pages(void **state)
{
	struct env *e = boot_default(state);
	int fd = OPEN_PATTERN(e, "f", 8 * PG, UM_O_RDWR);
	const uint64_t a = MAP(e->p, 4 * PG, RW, UM_MAP_PRIVATE, fd, 4 * PG);

	STORE(e->p, a + 3 * PG, 9);
	struct um_proc *c = FORK(e->p);
#define RMAP_ADDRS a + 3 * PG, a + 3 * PG
	EXPECT_RMAP(e, 2, c, e->p);
#undef RMAP_ADDRS
	CHECK(e);
	/* A stack grows down: vm_pgoff moves with vm_start, the old pages stay found. */
	const uint64_t s =
	    MAP(e->p, PG, RW, UM_MAP_PRIVATE | UM_MAP_ANONYMOUS | UM_MAP_GROWSDOWN, -1, 0);
	STORE(e->p, s, 5);
	STORE(e->p, s - 2 * PG, 6);
#define RMAP_ADDRS s
	EXPECT_RMAP(e, 1, e->p);
#undef RMAP_ADDRS
#define RMAP_ADDRS s - 2 * PG
	EXPECT_RMAP(e, 1, e->p);
#undef RMAP_ADDRS
	CHECK(e);
	um_exit(c);
	finish(e);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, env_setup, env_teardown)
	const struct CMUnitTest tests[] = {
		T(rmap_follows_fork_cow_exit_and_exec),
		T(rmap_follows_mremap_and_munmap),
		T(rmap_follows_split_and_merge),
		T(rmap_finds_private_file_copies_and_stack_pages),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
