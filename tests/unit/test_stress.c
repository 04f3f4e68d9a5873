/*
 * Eight threads at once on one machine: each maps, touches, protects,
 * remaps and unmaps its own mappings in a shared process (so their calls
 * and faults contend for one mm), and every fourth forks children that do
 * the same in theirs; every tenth step maps, writes and unmaps a huge page
 * of the machine's pool. Each thread checks its own data after every step;
 * at the end every invariant holds and every frame is free again. Built
 * with ASan in make test and with ThreadSanitizer in make check-tsan.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "usermm.h"

#define PG 4096ULL
#define NTHREADS 8
#define STEPS 3000

struct worker {
	struct um_system *sys;
	struct um_proc *p;
	int id;
	char err[256];
};

/* Records the first failure; the main thread asserts after the join. */
static void fail_at(struct worker *w, const char *what, int step, long long got)
{
	if (!w->err[0])
		snprintf(w->err, sizeof(w->err), "thread %d step %d: %s (%lld)", w->id, step, what,
			 got);
}

static void one_round(struct worker *w, struct um_proc *p, unsigned *seed, int step)
{
	struct um_siginfo si;
	uint64_t npages = 1 + (uint64_t)(rand_r(seed) % 8), v;
	int64_t a = um_mmap(p, 0, npages * PG, UM_PROT_READ | UM_PROT_WRITE,
			    UM_MAP_PRIVATE | UM_MAP_ANONYMOUS, -1, 0);

	if (a < 0) {
		fail_at(w, "mmap", step, a);
		return;
	}
	for (uint64_t i = 0; i < npages; i++)
		if (um_store(p, (uint64_t)a + i * PG + 8, 8, ((uint64_t)w->id << 32) | i, &si))
			fail_at(w, "store", step, si.code);
	/* Grow or move first: mremap takes one VMA, and mprotect below splits it. */
	if (rand_r(seed) % 4 == 0) {
		int64_t n = um_mremap(p, (uint64_t)a, npages * PG, (npages + 1) * PG,
				      UM_MREMAP_MAYMOVE, 0);

		if (n < 0)
			fail_at(w, "mremap", step, n);
		else
			a = n, npages++;
	}
	if (npages > 2 && um_mprotect(p, (uint64_t)a + PG, PG, UM_PROT_READ))
		fail_at(w, "mprotect", step, 0);
	for (uint64_t i = 0; i + 1 < npages; i++) {
		if (um_load(p, (uint64_t)a + i * PG + 8, 8, &v, &si))
			fail_at(w, "load", step, si.code);
		else if (v != (((uint64_t)w->id << 32) | i))
			fail_at(w, "data", step, (long long)v);
	}
	if (um_munmap(p, (uint64_t)a, npages * PG))
		fail_at(w, "munmap", step, 0);
}

/*
 * A shared and a private hugetlb mapping (2 MiB each) from the pool, which
 * holds a page per thread: mmap may find the others have reserved them all
 * (ENOMEM); both are written, read back and unmapped.
 */
static void huge_round(struct worker *w, struct um_proc *p, int step)
{
	const uint64_t hp = 2ULL << 20;
	struct um_siginfo si;
	uint64_t v;
	int64_t a = um_mmap(p, 0, hp, UM_PROT_READ | UM_PROT_WRITE,
			    (((step / 10) & 1) ? UM_MAP_SHARED : UM_MAP_PRIVATE) | UM_MAP_ANONYMOUS |
				UM_MAP_HUGETLB,
			    -1, 0);

	if (a == -ENOMEM)
		return;
	if (a < 0) {
		fail_at(w, "hugetlb mmap", step, a);
		return;
	}
	for (uint64_t off = 8; off < hp; off += hp / 4)
		if (um_store(p, (uint64_t)a + off, 8, ((uint64_t)w->id << 32) | off, &si))
			fail_at(w, "hugetlb store", step, si.code);
	for (uint64_t off = 8; off < hp; off += hp / 4) {
		if (um_load(p, (uint64_t)a + off, 8, &v, &si))
			fail_at(w, "hugetlb load", step, si.code);
		else if (v != (((uint64_t)w->id << 32) | off))
			fail_at(w, "hugetlb data", step, (long long)v);
	}
	if (um_munmap(p, (uint64_t)a, hp))
		fail_at(w, "hugetlb munmap", step, 0);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	unsigned seed = (unsigned)w->id * 7919u + 1;

	for (int step = 0; step < STEPS && !w->err[0]; step++) {
		if (w->id % 4 == 3 && step % 50 == 0) {
			/* A child that does a few rounds in its own address space. */
			struct um_proc *c;

			if (um_fork(w->p, &c)) {
				fail_at(w, "fork", step, 0);
				break;
			}
			for (int k = 0; k < 5; k++)
				one_round(w, c, &seed, step);
			um_exit(c);
			continue;
		}
		if (step % 10 == 5)
			huge_round(w, w->p, step);
		one_round(w, w->p, &seed, step);
	}
	return NULL;
}

static void eight_threads_map_fault_protect_remap_and_fork(void **state)
{
	struct um_config cfg;
	struct um_system *sys;
	struct um_proc *p;
	struct um_sys_stats st;
	struct worker w[NTHREADS];
	pthread_t th[NTHREADS];
	char why[256] = "";

	(void)state;
	um_config_init(&cfg);
	cfg.phys_bytes = 64ULL << 20;
	cfg.nr_hugepages = NTHREADS;
	assert_int_equal(um_system_new(&cfg, &sys), 0);
	assert_int_equal(um_proc_new(sys, &p), 0);
	for (int i = 0; i < NTHREADS; i++) {
		w[i] = (struct worker){ .sys = sys, .p = p, .id = i };
		assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < NTHREADS; i++)
		if (w[i].err[0])
			fail_msg("%s", w[i].err);
	if (um_check(sys, why, sizeof(why)))
		fail_msg("um_check: %s", why);
	um_exit(p);
	um_system_stats(sys, &st);
	/* Only the huge page pool is set aside, every huge page free, none reserved. */
	assert_int_equal(st.frames_used, NTHREADS * (2ULL << 20) / PG);
	assert_int_equal(st.hugepages_free, NTHREADS);
	assert_int_equal(st.hugepages_rsvd, 0);
	um_system_free(sys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(eight_threads_map_fault_protect_remap_and_fork),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
