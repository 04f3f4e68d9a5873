/*
 * mremap (mremap.c): every errno case checked against Linux 6.18 with a
 * small program on this machine, and the moves themselves: page-table
 * entries move, frames and counters do not change, locks carry over.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "usermm.h"

#define PG 4096ULL
#define RW (UM_PROT_READ | UM_PROT_WRITE)
#define AP (UM_MAP_PRIVATE | UM_MAP_ANONYMOUS)
#define MAYMOVE UM_MREMAP_MAYMOVE
#define FIXED UM_MREMAP_FIXED
#define DONTUNMAP UM_MREMAP_DONTUNMAP

struct env {
	struct um_system *sys;
	struct um_proc *p;
};

static void boot(struct env *e)
{
	struct um_config cfg;

	um_config_init(&cfg);
	cfg.phys_bytes = 64ULL << 20;
	cfg.privileged = 1;
	assert_int_equal(um_system_new(&cfg, &e->sys), 0);
	assert_int_equal(um_proc_new(e->sys, &e->p), 0);
}

static void finish(struct env *e)
{
	char why[256] = "";

	if (um_check(e->sys, why, sizeof(why)))
		fail_msg("um_check: %s", why);
	um_system_free(e->sys);
}

static uint64_t map(struct env *e, uint64_t addr, uint64_t len, int flags)
{
	int64_t a = um_mmap(e->p, addr, len, RW, flags, -1, 0);

	assert_true(a > 0);
	return (uint64_t)a;
}

static void store(struct env *e, uint64_t addr, uint64_t v)
{
	struct um_siginfo si;

	assert_int_equal(um_store(e->p, addr, 8, v, &si), 0);
}

static uint64_t load(struct env *e, uint64_t addr)
{
	struct um_siginfo si;
	uint64_t v = 0;
	int r = um_load(e->p, addr, 8, &v, &si);

	if (r)
		fail_msg("load %#llx: signal %d code %d", (unsigned long long)addr, si.signo,
			 si.code);
	return v;
}

static int load_code(struct env *e, uint64_t addr)
{
	struct um_siginfo si;
	uint64_t v;

	return um_load(e->p, addr, 8, &v, &si) ? si.code : 0;
}

static uint64_t frames_used(struct env *e)
{
	struct um_sys_stats st;

	um_system_stats(e->sys, &st);
	return st.frames_used;
}

static uint64_t pfn_of(struct env *e, uint64_t addr)
{
	uint64_t ent = 0;

	assert_int_equal(um_pagemap(e->p, addr, 1, &ent), 1);
	return ent & ((1ULL << 55) - 1);
}

static void errno_cases_as_linux(void **state)
{
	struct env e;

	(void)state;
	boot(&e);
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
	boot(&e);
	uint64_t a = map(&e, 0x10000000, 4 * PG, AP);
	map(&e, a + 4 * PG, PG, AP | UM_MAP_FIXED); /* blocks growth in place */
	for (uint64_t i = 0; i < 4; i++)
		store(&e, a + i * PG, 100 + i);
	uint64_t used = frames_used(&e), pfn = pfn_of(&e, a + 2 * PG);
	um_proc_stats(e.p, &before);
	int64_t n = um_mremap(e.p, a, 4 * PG, 8 * PG, MAYMOVE, 0);
	assert_true(n > 0 && (uint64_t)n != a);
	for (uint64_t i = 0; i < 4; i++)
		assert_int_equal(load(&e, (uint64_t)n + i * PG), 100 + i);
	assert_int_equal(load(&e, (uint64_t)n + 6 * PG), 0);
	assert_int_equal(pfn_of(&e, (uint64_t)n + 2 * PG), pfn);
	assert_int_equal(frames_used(&e), used);
	um_proc_stats(e.p, &after);
	assert_int_equal(after.rss_anon, before.rss_anon);
	assert_int_equal(after.vm_size, before.vm_size + 4 * PG);
	assert_int_equal(load_code(&e, a), UM_SEGV_MAPERR);
	finish(&e);
}

static void grow_in_place_shrink_and_fixed(void **state)
{
	struct env e;

	(void)state;
	boot(&e);
	uint64_t a = map(&e, 0x10000000, 2 * PG, AP);
	store(&e, a, 7);
	assert_int_equal(um_mremap(e.p, a, 2 * PG, 4 * PG, 0, 0), (int64_t)a);
	assert_int_equal(load(&e, a), 7);
	assert_int_equal(load(&e, a + 3 * PG), 0);
	assert_int_equal(um_mremap(e.p, a, 4 * PG, PG, 0, 0), (int64_t)a);
	assert_int_equal(load_code(&e, a + PG), UM_SEGV_MAPERR);
	/* MREMAP_FIXED clobbers what is at the target. */
	uint64_t t = map(&e, 0x20000000, 2 * PG, AP);
	store(&e, t + PG, 9);
	assert_int_equal(um_mremap(e.p, a, PG, PG, FIXED | MAYMOVE, t), (int64_t)t);
	assert_int_equal(load(&e, t), 7);
	assert_int_equal(load(&e, t + PG), 9);
	finish(&e);
}

static void dontunmap_leaves_old_range_mapped_and_empty(void **state)
{
	struct env e;

	(void)state;
	boot(&e);
	uint64_t a = map(&e, 0x10000000, 2 * PG, AP);
	store(&e, a, 5);
	int64_t n = um_mremap(e.p, a, 2 * PG, 2 * PG, DONTUNMAP | MAYMOVE, 0);
	assert_true(n > 0);
	assert_int_equal(load(&e, (uint64_t)n), 5);
	assert_int_equal(load(&e, a), 0);
	finish(&e);
}

static void old_len_zero_duplicates_a_shared_mapping(void **state)
{
	struct env e;

	(void)state;
	boot(&e);
	uint64_t s = map(&e, 0, 2 * PG, UM_MAP_SHARED | UM_MAP_ANONYMOUS);
	store(&e, s, 11);
	int64_t d = um_mremap(e.p, s, 0, 2 * PG, MAYMOVE, 0);
	assert_true(d > 0 && (uint64_t)d != s);
	assert_int_equal(load(&e, (uint64_t)d), 11);
	store(&e, (uint64_t)d + PG, 12);
	assert_int_equal(load(&e, s + PG), 12);
	finish(&e);
}

static void locks_carry_over(void **state)
{
	struct env e;
	char buf[2048];

	(void)state;
	boot(&e);
	uint64_t a = map(&e, 0x10000000, 2 * PG, AP | UM_MAP_LOCKED);
	map(&e, a + 2 * PG, PG, AP | UM_MAP_FIXED);
	int64_t n = um_mremap(e.p, a, 2 * PG, 3 * PG, MAYMOVE, 0);
	assert_true(n > 0);
	assert_true(um_proc_status(e.p, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "VmLck:\t      12 kB"));
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
	boot(&e);
	int fd = um_open(e.p, "f", UM_O_RDWR | UM_O_CREAT, 0644);
	for (int k = 0; k < 4; k++) {
		memset(page, 'A' + k, PG);
		assert_int_equal(um_write(e.p, fd, page, PG), PG);
	}
	assert_int_equal(um_fstat(e.p, fd, &st), 0);
	int64_t a = um_mmap(e.p, 0x10000000, 4 * PG, RW, UM_MAP_SHARED, fd, 0);
	assert_int_equal(a, 0x10000000);
	assert_int_equal(um_remap_file_pages(e.p, (uint64_t)a, PG, 0, 3, 0), 0);
	assert_int_equal(load(&e, (uint64_t)a) & 0xff, 'D');
	assert_int_equal(load(&e, (uint64_t)a + PG) & 0xff, 'B');
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
		cmocka_unit_test(grow_in_place_shrink_and_fixed),
		cmocka_unit_test(dontunmap_leaves_old_range_mapped_and_empty),
		cmocka_unit_test(old_len_zero_duplicates_a_shared_mapping),
		cmocka_unit_test(locks_carry_over),
		cmocka_unit_test(remap_file_pages_is_an_mmap_at_pgoff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
