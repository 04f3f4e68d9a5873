/*
 * Swap (swapfile.c, vmscan.c, fault.c's do_swap_page): anonymous memory
 * larger than the machine goes out to a swap file and comes back byte for
 * byte; a page forked processes share is written once, read once and
 * mapped by both from the swap cache; swapoff brings everything back, or
 * refuses with ENOMEM and changes nothing; a failed swap write keeps the
 * page in memory, a failed read is SIGBUS; every slot is free again when
 * the processes are gone. um_check after each step checks the swap map
 * against the swap entries in the page tables.
 */
#include "frame.h"
#include "host.h"
#include "swap.h"
#include "system.h"

#include "harness.h"

#include <pthread.h>

#define MIB (1ULL << 20)

/* A machine of phys_mib MiB with a swap file of swap_mib MiB, mmap placements exact. */
static void boot_swap(struct env *e, uint64_t phys_mib, uint64_t swap_mib)
{
	struct um_config cfg;

	base_config(&cfg);
	cfg.phys_bytes = phys_mib * MIB;
	cfg.swap_bytes = swap_mib * MIB;
	env_boot(e, &cfg);
}

/* The 8-byte word each page of a pattern starts with: page i of seed s. */
static uint64_t word(uint64_t seed, uint64_t i)
{
	return (seed << 32) ^ (i * 0x9e3779b97f4a7c15ULL);
}

static void write_pattern(struct um_proc *p, uint64_t a, uint64_t n, uint64_t seed, int line)
{
	for (uint64_t i = 0; i < n; i++) {
		store_ok(p, a + i * PG, 8, word(seed, i), line);
		store_ok(p, a + i * PG + PG - 8, 8, ~word(seed, i), line);
	}
}

static void expect_pattern(struct um_proc *p, uint64_t a, uint64_t n, uint64_t seed, int line)
{
	for (uint64_t i = 0; i < n; i++) {
		uint64_t v = load_ok(p, a + i * PG, 8, line), w = load_ok(p, a + i * PG + PG - 8, 8, line);

		if (v != word(seed, i) || w != ~word(seed, i))
			fail_msg("line %d: page %llu holds %#llx/%#llx, expected %#llx", line,
				 (unsigned long long)i, (unsigned long long)v,
				 (unsigned long long)w, (unsigned long long)word(seed, i));
	}
}

/* After every process: no frame and no slot in use. */
static void expect_all_free(struct env *e)
{
	struct um_sys_stats st = sys_stats(e->sys);

	/* Which frames are left, when some are: what a failure needs to be understood. */
	for (uint64_t pfn = 1; st.frames_used && pfn < atomic_load(&e->sys->fp.bump); pfn++) {
		struct frame *f = pfn_frame(&e->sys->fp, (uint32_t)pfn);

		if (!(atomic_load(&f->flags) & PG_FREE))
			fprintf(stderr, "frame %llu left: flags %#x refcount %d mapcount %d\n",
				(unsigned long long)pfn, atomic_load(&f->flags),
				atomic_load(&f->refcount), atomic_load(&f->mapcount));
	}
	assert_int_equal(st.frames_used, 0);
	assert_int_equal(st.swap_free, st.swap_total);
	assert_int_equal(st.swap_cached, 0);
}

/*
 * 48 MiB written on a 16 MiB machine with 64 MiB of swap: most of it goes
 * out (VmSwap, SwapFree, pswpout), and reading it back in order faults it
 * in, major faults, each byte as written.
 */
static void anonymous_memory_three_times_the_machine_reads_back(void **state)
{
	struct env e;
	const uint64_t n = 48 * MIB / PG;

	(void)state;
	boot_swap(&e, 16, 64);
	struct um_sys_stats st = sys_stats(e.sys);
	assert_int_equal(st.swap_total, 64 * MIB / PG - 1);
	uint64_t a = MAP(e.p, n * PG, RW, UM_MAP_PRIVATE | UM_MAP_ANONYMOUS, -1, 0);
	write_pattern(e.p, a, n, 1, __LINE__);
	CHECK(&e);
	st = sys_stats(e.sys);
	struct um_proc_stats ps = proc_stats(e.p);
	assert_true(ps.vm_swap >= 32 * MIB);
	assert_int_equal(ps.vm_swap / PG + ps.rss_anon / PG, n);
	assert_true(st.pswpout >= ps.vm_swap / PG);
	assert_true(st.swap_free <= st.swap_total - ps.vm_swap / PG);
	uint64_t maj = ps.maj_flt;
	expect_pattern(e.p, a, n, 1, __LINE__);
	CHECK(&e);
	assert_true(proc_stats(e.p).maj_flt > maj);
	assert_true(sys_stats(e.sys).pswpin > 0);
	um_exit(e.p);
	CHECK(&e);
	expect_all_free(&e);
	free_checked(e.sys);
}

/*
 * Pages swapped out before a fork are shared by the swap entry: each is
 * written once, and read once (the second process maps the frame the
 * first one brought into the swap cache: a minor fault). A write in the
 * child then copies; the parent keeps its data.
 */
static void forked_processes_share_swapped_pages(void **state)
{
	struct env e;
	const uint64_t n = 64;

	(void)state;
	boot_swap(&e, 64, 16);
	uint64_t a = MAP(e.p, n * PG, RW, UM_MAP_PRIVATE | UM_MAP_ANONYMOUS, -1, 0);
	write_pattern(e.p, a, n, 2, __LINE__);
	assert_ret(um_madvise(e.p, a, n * PG, UM_MADV_PAGEOUT), 0);
	CHECK(&e);
	struct um_sys_stats st = sys_stats(e.sys);
	assert_int_equal(st.pswpout, n);
	assert_int_equal(proc_stats(e.p).vm_swap, n * PG);
	assert_int_equal(proc_stats(e.p).rss_anon, 0);
	struct um_proc *c = FORK(e.p);
	assert_int_equal(proc_stats(c).vm_swap, n * PG);
	assert_int_equal(sys_stats(e.sys).swap_free, st.swap_free);
	CHECK(&e);
	expect_pattern(c, a, n, 2, __LINE__);
	uint64_t pmaj = proc_stats(e.p).maj_flt;
	expect_pattern(e.p, a, n, 2, __LINE__);
	CHECK(&e);
	assert_int_equal(proc_stats(e.p).maj_flt, pmaj);
	assert_int_equal(sys_stats(e.sys).pswpin, n);
	assert_int_equal(sys_stats(e.sys).pswpout, n);
	/*
	 * Both map each frame; read faults leave the pages in the swap cache
	 * (should_try_to_free_swap: only a write, mlock or a swap half full
	 * frees them), so their slots stay taken: SwapCached.
	 */
	assert_int_equal(sys_stats(e.sys).swap_cached, n);
	assert_int_equal(sys_stats(e.sys).swap_free, sys_stats(e.sys).swap_total - n);
	store_ok(c, a, 8, 99, __LINE__);
	assert_int_equal(load_ok(e.p, a, 8, __LINE__), word(2, 0));
	CHECK(&e);
	um_exit(c);
	um_exit(e.p);
	expect_all_free(&e);
	free_checked(e.sys);
}

/*
 * swapoff brings every page back into every process that has it, then the
 * device goes; with too little memory for them it answers ENOMEM first and
 * changes nothing.
 */
static void swapoff_brings_pages_back_or_refuses(void **state)
{
	struct env e;
	const uint64_t n = 24 * MIB / PG;

	(void)state;
	boot_swap(&e, 16, 64);
	uint64_t a = MAP(e.p, n * PG, RW, UM_MAP_PRIVATE | UM_MAP_ANONYMOUS, -1, 0);
	write_pattern(e.p, a, n, 3, __LINE__);
	struct um_sys_stats before = sys_stats(e.sys);
	uint64_t swapped = proc_stats(e.p).vm_swap;
	assert_true(swapped > 8 * MIB);
	assert_ret(um_swapoff(e.sys, SWAPFILE_NAME), -ENOMEM);
	CHECK(&e);
	assert_int_equal(proc_stats(e.p).vm_swap, swapped);
	assert_int_equal(sys_stats(e.sys).swap_free, before.swap_free);
	assert_ret(um_swapoff(e.sys, "nothing"), -EINVAL);
	/* A second device takes what the first cannot give back. */
	assert_ret(um_swapon(e.sys, "swap2", 64 * MIB), 1);
	assert_ret(um_swapon(e.sys, "swap2", 64 * MIB), -EBUSY);
	assert_ret(um_munmap(e.p, a + 12 * MIB, 12 * MIB), 0);
	struct um_proc *c = FORK(e.p);
	uint64_t in_use = sys_stats(e.sys).swap_total - sys_stats(e.sys).swap_free;
	assert_true(in_use > 0);
	CHECK(&e);
	assert_ret(um_swapoff(e.sys, SWAPFILE_NAME), 0);
	CHECK(&e);
	assert_int_equal(proc_stats(e.p).vm_swap, 0);
	assert_int_equal(proc_stats(c).vm_swap, 0);
	assert_int_equal(sys_stats(e.sys).swap_total, 64 * MIB / PG - 1);
	expect_pattern(c, a, n / 2, 3, __LINE__);
	expect_pattern(e.p, a, n / 2, 3, __LINE__);
	CHECK(&e);
	um_exit(c);
	um_exit(e.p);
	expect_all_free(&e);
	free_checked(e.sys);
}

/*
 * A swap write that fails keeps the page: it stays in the swap cache,
 * dirty, and the process reads its data back; the next reclaim writes it.
 * A swap read that fails is SIGBUS BUS_ADRERR at the faulting address, and
 * the entry stays for the next try.
 */
static void swap_io_errors_lose_nothing(void **state)
{
	struct env e;
	const uint64_t n = 8;

	(void)state;
	boot_swap(&e, 64, 16);
	uint64_t a = MAP(e.p, n * PG, RW, UM_MAP_PRIVATE | UM_MAP_ANONYMOUS, -1, 0);
	write_pattern(e.p, a, n, 4, __LINE__);
	inject(&e, 1u << HOST_SWAP_WRITE, EIO, 1, true);
	assert_ret(um_madvise(e.p, a, n * PG, UM_MADV_PAGEOUT), 0);
	disarm(&e);
	CHECK(&e);
	assert_int_equal(sys_stats(e.sys).pswpout, 0);
	assert_int_equal(sys_stats(e.sys).swap_cached, n);
	assert_int_equal(frames_used(e.sys), n);
	expect_pattern(e.p, a, n, 4, __LINE__);
	assert_int_equal(proc_stats(e.p).maj_flt, 0);
	CHECK(&e);
	assert_ret(um_madvise(e.p, a, n * PG, UM_MADV_PAGEOUT), 0);
	assert_int_equal(sys_stats(e.sys).pswpout, n);
	assert_int_equal(frames_used(e.sys), 0);
	CHECK(&e);
	inject(&e, 1u << HOST_SWAP_READ, EIO, 1, true);
	assert_load_fault(e.p, a + 3 * PG + 16, 8, UM_SIGBUS, UM_BUS_ADRERR, a + 3 * PG + 16);
	disarm(&e);
	CHECK(&e);
	assert_int_equal(proc_stats(e.p).vm_swap, n * PG);
	expect_pattern(e.p, a, n, 4, __LINE__);
	CHECK(&e);
	um_exit(e.p);
	expect_all_free(&e);
	free_checked(e.sys);
}

/*
 * What a swapped page looks like: pagemap's swap bit with the type and
 * offset (Linux's bits 0-4 and 5-54), mincore 0 once the page has left the
 * swap cache, smaps Swap and SwapPss (shared by a fork: half each).
 */
static void swapped_pages_in_pagemap_mincore_and_smaps(void **state)
{
	struct env e;
	uint64_t pm[2];
	unsigned char vec[2];
	char buf[16384];

	(void)state;
	boot_swap(&e, 64, 16);
	uint64_t a = MAP(e.p, 2 * PG, RW, UM_MAP_PRIVATE | UM_MAP_ANONYMOUS, -1, 0);
	write_pattern(e.p, a, 2, 5, __LINE__);
	assert_ret(um_madvise(e.p, a, PG, UM_MADV_PAGEOUT), 0);
	assert_ret(um_pagemap(e.p, a, 2, pm), 2);
	assert_true(pm[0] & PM_SWAP);
	assert_false(pm[0] & PM_PRESENT);
	assert_int_equal(pm[0] & 31, 0);		/* type 0 */
	assert_int_equal((pm[0] & PM_PFN_MASK) >> 5, 1); /* the first slot past the header */
	assert_true(pm[1] & PM_PRESENT);
	assert_ret(um_mincore(e.p, a, 2 * PG, vec), 0);
	assert_int_equal(vec[0], 0);
	assert_int_equal(vec[1], 1);
	struct um_proc *c = FORK(e.p);
	int64_t len = um_proc_smaps(e.p, buf, sizeof(buf));
	assert_true(len > 0 && len < (int64_t)sizeof(buf));
	assert_non_null(strstr(buf, "Swap:                  4 kB"));
	assert_non_null(strstr(buf, "SwapPss:               2 kB"));
	CHECK(&e);
	um_exit(c);
	um_exit(e.p);
	expect_all_free(&e);
	free_checked(e.sys);
}

/*
 * Shared anonymous memory (shmem) swaps too: its object's cache slots hold
 * the swap entries (shmem_writeout); both processes of a fork read their
 * shared data back, a write by one is seen by the other, swapoff brings
 * the pages back into the object, and its end frees every slot.
 */
static void shmem_pages_swap_out_and_back(void **state)
{
	struct env e;
	const uint64_t n = 24 * MIB / PG;

	(void)state;
	boot_swap(&e, 16, 64);
	uint64_t a = MAP(e.p, n * PG, RW, UM_MAP_SHARED | UM_MAP_ANONYMOUS, -1, 0);
	struct um_proc *c = FORK(e.p);
	write_pattern(e.p, a, n, 6, __LINE__);
	CHECK(&e);
	struct um_sys_stats st = sys_stats(e.sys);
	assert_true(st.pswpout > n / 4);
	assert_true(st.swap_free < st.swap_total);
	expect_pattern(c, a, n, 6, __LINE__);
	CHECK(&e);
	store_ok(c, a + 7 * PG, 8, 777, __LINE__);
	write_pattern(e.p, a + PG, 1, 7, __LINE__);
	assert_int_equal(load_ok(e.p, a + 7 * PG, 8, __LINE__), 777);
	expect_pattern(c, a + PG, 1, 7, __LINE__);
	CHECK(&e);
	/* Half unmapped in both: the pages past it stay in the object. */
	assert_ret(um_munmap(e.p, a + n / 2 * PG, n / 2 * PG), 0);
	assert_ret(um_munmap(c, a + n / 2 * PG, n / 2 * PG), 0);
	assert_ret(um_swapoff(e.sys, SWAPFILE_NAME), -ENOMEM);
	um_exit(c);
	CHECK(&e);
	assert_int_equal(load_ok(e.p, a + 7 * PG, 8, __LINE__), 777);
	um_exit(e.p);
	expect_all_free(&e);
	free_checked(e.sys);
}

/* MADV_PAGEOUT swaps shmem pages out; swapoff brings them back into the object's cache. */
static void swapoff_brings_shmem_pages_back(void **state)
{
	struct env e;
	const uint64_t n = 64;

	(void)state;
	boot_swap(&e, 64, 16);
	uint64_t a = MAP(e.p, n * PG, RW, UM_MAP_SHARED | UM_MAP_ANONYMOUS, -1, 0);
	write_pattern(e.p, a, n, 8, __LINE__);
	/* MADV_PAGEOUT with swap writes shmem pages out too. */
	assert_ret(um_madvise(e.p, a, n * PG, UM_MADV_PAGEOUT), 0);
	assert_int_equal(sys_stats(e.sys).pswpout, n);
	assert_int_equal(proc_stats(e.p).rss_shmem, 0);
	CHECK(&e);
	assert_int_equal(sys_stats(e.sys).swap_free, sys_stats(e.sys).swap_total - n);
	assert_ret(um_swapoff(e.sys, SWAPFILE_NAME), 0);
	CHECK(&e);
	assert_int_equal(sys_stats(e.sys).swap_total, 0);
	assert_int_equal(proc_stats(e.p).maj_flt, 0);
	expect_pattern(e.p, a, n, 8, __LINE__);
	assert_int_equal(proc_stats(e.p).maj_flt, 0);
	CHECK(&e);
	um_exit(e.p);
	expect_all_free(&e);
	free_checked(e.sys);
}

/*
 * The OOM killer counts swap: a process whose pages are all on swap scores
 * as one that holds them in memory (oom_badness adds MM_SWAPENTS), and the
 * scale is frames plus swap slots.
 */
static void oom_badness_counts_swap_entries(void **state)
{
	struct env e;
	const uint64_t n = 1024;

	(void)state;
	boot_swap(&e, 64, 64);
	struct um_proc *q = NULL;
	assert_ret(um_proc_new(e.sys, &q), 0);
	uint64_t a = MAP(e.p, n * PG, RW, UM_MAP_PRIVATE | UM_MAP_ANONYMOUS, -1, 0);
	uint64_t b = MAP(q, n * PG, RW, UM_MAP_PRIVATE | UM_MAP_ANONYMOUS, -1, 0);
	write_pattern(e.p, a, n, 9, __LINE__);
	write_pattern(q, b, n, 9, __LINE__);
	int64_t before = um_oom_score(e.p);
	assert_ret(um_oom_score(q), before);
	assert_ret(um_madvise(e.p, a, n * PG, UM_MADV_PAGEOUT), 0);
	assert_int_equal(proc_stats(e.p).vm_swap, n * PG);
	assert_ret(um_oom_score(e.p), before);
	/* (1000 + 1024 pages * 1000 / (16384 frames + 16383 slots)) * 2 / 3 */
	assert_ret(before, (1000 + (n + 1) * 1000 / (16384 + 16383)) * 2 / 3);
	CHECK(&e);
	um_exit(q);
	um_exit(e.p);
	expect_all_free(&e);
	free_checked(e.sys);
}

/* One thread of threads_share_swapped_memory: its slice of the mapping, written and read. */
struct swap_worker {
	struct um_proc *p;
	uint64_t a, n, seed;
	int rounds;
};

static void *swap_worker_main(void *arg)
{
	struct swap_worker *w = arg;

	for (int r = 0; r < w->rounds; r++) {
		write_pattern(w->p, w->a, w->n, w->seed + (uint64_t)r, __LINE__);
		expect_pattern(w->p, w->a, w->n, w->seed + (uint64_t)r, __LINE__);
	}
	return NULL;
}

/*
 * Four threads of one process and one of a forked child write and read
 * their own slices of memory three times the machine, concurrently: the
 * faults of each swap in what reclaim in the others swapped out, and every
 * byte comes back.
 */
static void threads_share_swapped_memory(void **state)
{
	struct env e;
	const uint64_t n = 8 * MIB / PG;
	struct swap_worker w[5];
	pthread_t th[5];

	(void)state;
	boot_swap(&e, 16, 64);
	uint64_t a = MAP(e.p, 5 * n * PG, RW, UM_MAP_PRIVATE | UM_MAP_ANONYMOUS, -1, 0);
	uint64_t s = MAP(e.p, n * PG, RW, UM_MAP_SHARED | UM_MAP_ANONYMOUS, -1, 0);
	struct um_proc *c = FORK(e.p);
	for (int i = 0; i < 5; i++) {
		w[i] = (struct swap_worker){ i == 4 ? c : e.p, a + (uint64_t)i * n * PG, n,
					     (uint64_t)(10 + 10 * i), 3 };
		if (i == 3)
			w[i].a = s; /* shmem, shared with the child */
	}
	for (int i = 0; i < 5; i++)
		assert_int_equal(pthread_create(&th[i], NULL, swap_worker_main, &w[i]), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	CHECK(&e);
	assert_true(sys_stats(e.sys).pswpout > n);
	um_exit(c);
	um_exit(e.p);
	expect_all_free(&e);
	free_checked(e.sys);
}

int main(void)
{
#define T(f) cmocka_unit_test(f)
	const struct CMUnitTest tests[] = {
		T(anonymous_memory_three_times_the_machine_reads_back),
		T(forked_processes_share_swapped_pages),
		T(swapoff_brings_pages_back_or_refuses),
		T(swap_io_errors_lose_nothing),
		T(swapped_pages_in_pagemap_mincore_and_smaps),
		T(shmem_pages_swap_out_and_back),
		T(swapoff_brings_shmem_pages_back),
		T(oom_badness_counts_swap_entries),
		T(threads_share_swapped_memory),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
