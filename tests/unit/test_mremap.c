/*
 * mremap (mremap.c): every errno case checked against Linux 6.18 with a
 * small program on this machine, and the moves themselves: page-table
 * entries move, frames and counters do not change, locks carry over.
 */
#include "harness.h"

#define MAYMOVE UM_MREMAP_MAYMOVE
#define FIXED UM_MREMAP_FIXED
#define DONTUNMAP UM_MREMAP_DONTUNMAP

#define LOAD(p, a) load_ok(p, a, 8, __LINE__)
#define STORE(p, a, v) store_ok(p, a, 8, v, __LINE__)

/* Read-write anonymous or not as flags say, at the hint addr. */
static uint64_t map(struct env *e, uint64_t addr, uint64_t len, int flags)
{
	return map_ok(e->p, addr, len, RW, flags, -1, 0, __LINE__);
}

static int load_code(struct env *e, uint64_t addr)
{
	struct um_siginfo si;
	uint64_t v;

	return um_load(e->p, addr, 8, &v, &si) ? si.code : 0;
}

static uint64_t pfn_of(struct env *e, uint64_t addr)
{
	uint64_t ent = 0;

	assert_int_equal(um_pagemap(e->p, addr, 1, &ent), 1);
	return ent & PM_PFN_MASK;
}

static void errno_cases_as_linux(void **state)
{
	struct env e;

	(void)state;
	boot_plain(&e, 64, 1);
	uint64_t a = map(&e, 0, 4 * PG, AP);
	assert_int_equal(um_mremap(e.p, a, PG, PG, 8, 0), -EINVAL);
	assert_int_equal(um_mremap(e.p, a, PG, PG, FIXED, 0), -EINVAL);
	assert_int_equal(um_mremap(e.p, a, PG, PG, DONTUNMAP, 0), -EINVAL);
	assert_int_equal(um_mremap(e.p, a, PG, 2 * PG, DONTUNMAP | MAYMOVE, 0), -EINVAL);
	assert_int_equal(um_mremap(e.p, a + 1, PG, PG, 0, 0), -EINVAL);
	assert_int_equal(um_mremap(e.p, a, PG, 0, 0, 0), -EINVAL);
	assert_int_equal(um_mremap(e.p, a, 0, PG, MAYMOVE, 0), -EINVAL); /* private duplicate */
	assert_int_equal(um_mremap(e.p, 0x10000, PG, 2 * PG, 0, 0), -EFAULT);
	assert_int_equal(um_mremap(e.p, 0x10000, 2 * PG, PG, 0, 0), -EFAULT);
	assert_int_equal(um_mremap(e.p, a, 8 * PG, 9 * PG, MAYMOVE, 0), -EFAULT);
	assert_int_equal(um_mremap(e.p, a, PG, PG, 0, 0), (int64_t)a);
	assert_int_equal(um_mremap(e.p, a, PG, PG, FIXED | MAYMOVE, a + 100 * PG + 1), -EINVAL);
	/* Overlapping old and new ranges. */
	assert_int_equal(um_mremap(e.p, a, 2 * PG, 2 * PG, FIXED | MAYMOVE, a + PG), -EINVAL);
	/* Growth blocked by the mapping after, without MAYMOVE. */
	uint64_t b = map(&e, a - PG, PG, AP | UM_MAP_FIXED);
	assert_int_equal(um_mremap(e.p, b, PG, 2 * PG, 0, 0), -ENOMEM);
	finish(&e);
}

static void move_carries_pages_without_copying_frames(void **state)
{
	struct env e;
	struct um_proc_stats before, after;

	(void)state;
	boot_plain(&e, 64, 1);
	uint64_t a = map(&e, 0x10000000, 4 * PG, AP);
	map(&e, a + 4 * PG, PG, AP | UM_MAP_FIXED); /* blocks growth in place */
	for (uint64_t i = 0; i < 4; i++)
		STORE(e.p, a + i * PG, 100 + i);
	uint64_t used = frames_used(e.sys), pfn = pfn_of(&e, a + 2 * PG);
	um_proc_stats(e.p, &before);
	int64_t n = um_mremap(e.p, a, 4 * PG, 8 * PG, MAYMOVE, 0);
	assert_true(n > 0 && (uint64_t)n != a);
	for (uint64_t i = 0; i < 4; i++)
		assert_int_equal(LOAD(e.p, (uint64_t)n + i * PG), 100 + i);
	assert_int_equal(LOAD(e.p, (uint64_t)n + 6 * PG), 0);
	assert_int_equal(pfn_of(&e, (uint64_t)n + 2 * PG), pfn);
	assert_int_equal(frames_used(e.sys), used);
	um_proc_stats(e.p, &after);
	assert_int_equal(after.rss_anon, before.rss_anon);
	assert_int_equal(after.vm_size, before.vm_size + 4 * PG);
	assert_int_equal(load_code(&e, a), UM_SEGV_MAPERR);
	finish(&e);
}

/*
 * Moves between 2 MiB-aligned ranges take whole leaf tables, others go
 * entry by entry; either way every page arrives with its frame, the page
 * table count stays, and the invariants hold.
 */
static void move_whole_tables_and_entries(void **state)
{
	const uint64_t M2 = 512 * PG, n = 1024 + 3; /* two whole tables and a tail */
	struct env e;

	(void)state;
	boot_plain(&e, 64, 1);
	uint64_t a = map(&e, 0x40000000, n * PG, AP);
	FILL_PAGES(e.p, a, n, 7000);
	uint64_t pfn = pfn_of(&e, a + 600 * PG), used = frames_used(e.sys);
	/* Aligned to aligned. */
	int64_t b = um_mremap(e.p, a, n * PG, n * PG, MAYMOVE | UM_MREMAP_FIXED, 0x50000000);
	assert_int_equal(b, 0x50000000);
	EXPECT_PAGES(e.p, (uint64_t)b, n, 7000);
	assert_int_equal(pfn_of(&e, (uint64_t)b + 600 * PG), pfn);
	assert_int_equal(load_code(&e, a + M2), UM_SEGV_MAPERR);
	CHECK(&e);
	/* Aligned to one page off, and back to aligned from there. */
	int64_t c = um_mremap(e.p, (uint64_t)b, n * PG, n * PG, MAYMOVE | UM_MREMAP_FIXED,
			      0x60001000);
	assert_int_equal(c, 0x60001000);
	EXPECT_PAGES(e.p, (uint64_t)c, n, 7000);
	CHECK(&e);
	int64_t d = um_mremap(e.p, (uint64_t)c, n * PG, n * PG, MAYMOVE | UM_MREMAP_FIXED,
			      0x70000000);
	assert_int_equal(d, 0x70000000);
	EXPECT_PAGES(e.p, (uint64_t)d, n, 7000);
	assert_int_equal(pfn_of(&e, (uint64_t)d + 600 * PG), pfn);
	assert_int_equal(frames_used(e.sys), used);
	CHECK(&e);
	finish(&e);
}

static void grow_in_place_shrink_and_fixed(void **state)
{
	struct env e;

	(void)state;
	boot_plain(&e, 64, 1);
	uint64_t a = map(&e, 0x10000000, 2 * PG, AP);
	STORE(e.p, a, 7);
	assert_int_equal(um_mremap(e.p, a, 2 * PG, 4 * PG, 0, 0), (int64_t)a);
	assert_int_equal(LOAD(e.p, a), 7);
	assert_int_equal(LOAD(e.p, a + 3 * PG), 0);
	assert_int_equal(um_mremap(e.p, a, 4 * PG, PG, 0, 0), (int64_t)a);
	assert_int_equal(load_code(&e, a + PG), UM_SEGV_MAPERR);
	/* MREMAP_FIXED clobbers what is at the target. */
	uint64_t t = map(&e, 0x20000000, 2 * PG, AP);
	STORE(e.p, t + PG, 9);
	assert_int_equal(um_mremap(e.p, a, PG, PG, FIXED | MAYMOVE, t), (int64_t)t);
	assert_int_equal(LOAD(e.p, t), 7);
	assert_int_equal(LOAD(e.p, t + PG), 9);
	finish(&e);
}

static void dontunmap_leaves_old_range_mapped_and_empty(void **state)
{
	struct env e;

	(void)state;
	boot_plain(&e, 64, 1);
	uint64_t a = map(&e, 0x10000000, 2 * PG, AP);
	STORE(e.p, a, 5);
	int64_t n = um_mremap(e.p, a, 2 * PG, 2 * PG, DONTUNMAP | MAYMOVE, 0);
	assert_true(n > 0);
	assert_int_equal(LOAD(e.p, (uint64_t)n), 5);
	assert_int_equal(LOAD(e.p, a), 0);
	finish(&e);
}

static void old_len_zero_duplicates_a_shared_mapping(void **state)
{
	struct env e;

	(void)state;
	boot_plain(&e, 64, 1);
	uint64_t s = map(&e, 0, 2 * PG, UM_MAP_SHARED | UM_MAP_ANONYMOUS);
	STORE(e.p, s, 11);
	int64_t d = um_mremap(e.p, s, 0, 2 * PG, MAYMOVE, 0);
	assert_true(d > 0 && (uint64_t)d != s);
	assert_int_equal(LOAD(e.p, (uint64_t)d), 11);
	STORE(e.p, (uint64_t)d + PG, 12);
	assert_int_equal(LOAD(e.p, s + PG), 12);
	finish(&e);
}

static void locks_carry_over(void **state)
{
	struct env e;
	char buf[2048];

	(void)state;
	boot_plain(&e, 64, 1);
	uint64_t a = map(&e, 0x10000000, 2 * PG, AP | UM_MAP_LOCKED);
	map(&e, a + 2 * PG, PG, AP | UM_MAP_FIXED);
	int64_t n = um_mremap(e.p, a, 2 * PG, 3 * PG, MAYMOVE, 0);
	assert_true(n > 0);
	assert_true(um_proc_status(e.p, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "VmLck:\t      12 kB"));
	finish(&e);
}

/* The lines of /proc/PID/maps, joined: "start-end perms" each, a space between. */
static void maps_brief(struct env *e, char *out, size_t n)
{
	char buf[4096], *line, *save = NULL;
	size_t used = 0;

	assert_true(um_proc_maps(e->p, buf, sizeof(buf)) > 0);
	out[0] = '\0';
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int k = snprintf(out + used, n - used, "%s%.*s", used ? " " : "", 22, line);

		assert_true(k > 0 && (size_t)k < n - used);
		used += (size_t)k;
	}
}

static void assert_vmlck_kb(struct env *e, const char *want)
{
	char buf[2048];

	assert_true(um_proc_status(e->p, buf, sizeof(buf)) > 0);
	if (!strstr(buf, want))
		fail_msg("status has no \"%s\":\n%s", want, buf);
}

/*
 *   LLLL  ->  L'  UUUU     DONTUNMAP of the second page of a locked VMA: the
 *                          whole old VMA is unlocked, not split; VmLck counts
 *                          the old four pages and the new one, and keeps them.
 */
static void dontunmap_of_locked_part_unlocks_whole_vma(void **state)
{
	struct env e;
	char maps[512];

	(void)state;
	boot_plain(&e, 64, 0);
	uint64_t a = map(&e, 0x10000000, 4 * PG, AP);
	assert_int_equal(um_mlock(e.p, a, 4 * PG), 0);
	int64_t n = um_mremap(e.p, a + PG, PG, PG, DONTUNMAP | MAYMOVE | FIXED, 0x20000000);
	assert_int_equal(n, 0x20000000);
	maps_brief(&e, maps, sizeof(maps));
	assert_string_equal(maps, "10000000-10004000 rw-p 20000000-20001000 rw-p");
	assert_vmlck_kb(&e, "VmLck:\t      20 kB");
	CHECK(&e);
	assert_int_equal(um_munlock(e.p, a, 4 * PG), 0);
	assert_int_equal(um_munmap(e.p, a, 4 * PG), 0);
	assert_vmlck_kb(&e, "VmLck:\t      20 kB");
	assert_int_equal(um_munmap(e.p, (uint64_t)n, PG), 0);
	assert_vmlck_kb(&e, "VmLck:\t      16 kB");
	finish(&e);
}

/*
 *   AAAA.BB  ->  A......  and A' at the target: a FIXED shrink unmaps the
 *                tail first (across the hole and B); only the page kept moves.
 */
static void fixed_shrink_unmaps_tail_across_mappings(void **state)
{
	struct env e;
	char maps[512];

	(void)state;
	boot_plain(&e, 64, 1);
	uint64_t a = map(&e, 0x10000000, 4 * PG, AP);
	map(&e, a + 5 * PG, 2 * PG, AP | UM_MAP_FIXED);
	STORE(e.p, a + PG, 3);
	/* The kept part must be one VMA: nothing changes when it is not. */
	assert_int_equal(um_mremap(e.p, a + 3 * PG, 4 * PG, 2 * PG, MAYMOVE | FIXED, 0x20000000),
			 -EFAULT);
	maps_brief(&e, maps, sizeof(maps));
	assert_string_equal(maps, "10000000-10004000 rw-p 10005000-10007000 rw-p");
	assert_int_equal(um_mremap(e.p, a + PG, 6 * PG, PG, MAYMOVE | FIXED, 0x20000000),
			 0x20000000);
	maps_brief(&e, maps, sizeof(maps));
	assert_string_equal(maps, "10000000-10001000 rw-p 20000000-20001000 rw-p");
	assert_int_equal(LOAD(e.p, 0x20000000), 3);
	finish(&e);
}

/*
 *   AAbb  ->  AAAA   the first fault in b takes A's anon_vma (only the rights
 *                    differ), so mprotect making them equal merges the two.
 */
static void first_fault_shares_neighbours_anon_vma(void **state)
{
	struct env e;
	char maps[512];

	(void)state;
	boot_plain(&e, 64, 1);
	uint64_t a = map(&e, 0x10000000, 4 * PG, AP);
	assert_int_equal(um_mprotect(e.p, a + 2 * PG, 2 * PG, RW | UM_PROT_EXEC), 0);
	STORE(e.p, a, 1);
	STORE(e.p, a + 3 * PG, 2);
	assert_int_equal(um_mprotect(e.p, a + 2 * PG, 2 * PG, RW), 0);
	maps_brief(&e, maps, sizeof(maps));
	assert_string_equal(maps, "10000000-10004000 rw-p");
	finish(&e);
}

/*
 *   LLUU  fork->  AABB  ->  AABBB   in the child the two halves are alike but
 *                                   unmerged; growing B in place merges it
 *                                   with what follows only, never with A.
 */
static void grow_in_place_merges_with_next_only(void **state)
{
	struct env e;
	struct um_proc *c;
	char maps[512];

	(void)state;
	boot_plain(&e, 64, 1);
	uint64_t a = map_ok(e.p, 0x10000000, 4 * PG, UM_PROT_READ, AP, -1, 0, __LINE__);
	assert_int_equal(um_mlock(e.p, a, 2 * PG), 0);
	assert_int_equal(um_fork(e.p, &c), 0);
	um_exit(e.p);
	e.p = c;
	assert_int_equal(um_mremap(c, a + 2 * PG, 2 * PG, 3 * PG, 0, 0), (int64_t)(a + 2 * PG));
	maps_brief(&e, maps, sizeof(maps));
	assert_string_equal(maps, "10000000-10002000 r--p 10002000-10005000 r--p");
	finish(&e);
}

/* remap_file_pages maps the file again at pgoff: maps shows a VMA of its own (Linux 6.18). */
static void remap_file_pages_is_an_mmap_at_pgoff(void **state)
{
	struct env e;
	unsigned char page[PG];
	char maps[4096];
	struct um_stat st;

	(void)state;
	boot_plain(&e, 64, 1);
	int fd = um_open(e.p, "f", UM_O_RDWR | UM_O_CREAT, 0644);
	for (int k = 0; k < 4; k++) {
		memset(page, 'A' + k, PG);
		assert_int_equal(um_write(e.p, fd, page, PG), PG);
	}
	assert_int_equal(um_fstat(e.p, fd, &st), 0);
	int64_t a = um_mmap(e.p, 0x10000000, 4 * PG, RW, UM_MAP_SHARED, fd, 0);
	assert_int_equal(a, 0x10000000);
	assert_int_equal(um_remap_file_pages(e.p, (uint64_t)a, PG, 0, 3, 0), 0);
	assert_int_equal(LOAD(e.p, (uint64_t)a) & 0xff, 'D');
	assert_int_equal(LOAD(e.p, (uint64_t)a + PG) & 0xff, 'B');
	assert_true(um_proc_maps(e.p, maps, sizeof(maps)) > 0);
	assert_non_null(strstr(maps, "10000000-10001000 rw-s 00003000"));
	assert_non_null(strstr(maps, "10001000-10004000 rw-s 00001000"));
	assert_int_equal(um_remap_file_pages(e.p, (uint64_t)a, PG, UM_PROT_READ, 3, 0), -EINVAL);
	int64_t pr = um_mmap(e.p, 0, PG, UM_PROT_READ, UM_MAP_PRIVATE, fd, 0);
	assert_true(pr > 0);
	assert_int_equal(um_remap_file_pages(e.p, (uint64_t)pr, PG, 0, 1, 0), -EINVAL);
	finish(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(errno_cases_as_linux),
		cmocka_unit_test(move_carries_pages_without_copying_frames),
		cmocka_unit_test(move_whole_tables_and_entries),
		cmocka_unit_test(grow_in_place_shrink_and_fixed),
		cmocka_unit_test(dontunmap_leaves_old_range_mapped_and_empty),
		cmocka_unit_test(old_len_zero_duplicates_a_shared_mapping),
		cmocka_unit_test(locks_carry_over),
		cmocka_unit_test(dontunmap_of_locked_part_unlocks_whole_vma),
		cmocka_unit_test(fixed_shrink_unmaps_tail_across_mappings),
		cmocka_unit_test(first_fault_shares_neighbours_anon_vma),
		cmocka_unit_test(grow_in_place_merges_with_next_only),
		cmocka_unit_test(remap_file_pages_is_an_mmap_at_pgoff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
