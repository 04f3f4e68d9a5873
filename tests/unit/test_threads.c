/*
 * Threads: concurrent faults in one process (first touches racing on the
 * same page), mmap/munmap in one region while other threads fault in
 * another, TLB coherence across threads after munmap, mprotect and fork,
 * and concurrent copy-on-write breaks in several processes.
 *
 * Worker threads never call cmocka's assertions (they longjmp); they record
 * the first failure, and the main thread fails the test after joining.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "usermm.h"

#define PG 4096ULL
#define BASE 0x7ffff7fff000ULL
#define RW (UM_PROT_READ | UM_PROT_WRITE)
#define AP (UM_MAP_PRIVATE | UM_MAP_ANONYMOUS)
#define AS (UM_MAP_SHARED | UM_MAP_ANONYMOUS)
#define NTHREADS 4

struct env {
	struct um_system *sys;
	struct um_proc *p;
};

#define assert_ret(expr, want)                                                                   \
	do {                                                                                     \
		long long got_ = (long long)(expr);                                              \
		long long want_ = (long long)(want);                                             \
		if (got_ != want_)                                                               \
			fail_msg("%s = %lld (%#llx), expected %s = %lld (%#llx)", #expr, got_,   \
				 (unsigned long long)got_, #want, want_,                         \
				 (unsigned long long)want_);                                     \
	} while (0)

/* ------------------------------------------------ errors from threads */

struct errs {
	pthread_mutex_t lock;
	int n;
	char first[512];
};

static struct errs errs = { PTHREAD_MUTEX_INITIALIZER, 0, "" };

static void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void report(const char *fmt, ...)
{
	va_list ap;
	pthread_mutex_lock(&errs.lock);
	if (errs.n++ == 0) {
		va_start(ap, fmt);
		vsnprintf(errs.first, sizeof errs.first, fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&errs.lock);
}

static void assert_no_thread_errors(void)
{
	pthread_mutex_lock(&errs.lock);
	int n = errs.n;
	char msg[512];
	memcpy(msg, errs.first, sizeof msg);
	errs.n = 0;
	errs.first[0] = '\0';
	pthread_mutex_unlock(&errs.lock);
	if (n != 0)
		fail_msg("%d failure(s) in threads; first: %s", n, msg);
}

/* Loads and stores that report instead of asserting; return 0 on success. */
static int t_load(struct um_proc *p, uint64_t addr, uint64_t *v, const char *what)
{
	struct um_siginfo si = { 0, 0, 0 };
	int r = um_load(p, addr, 8, v, &si);
	if (r != 0)
		report("%s: um_load(%#llx) = %d {signo %d, code %d, addr %#llx}", what,
		       (unsigned long long)addr, r, si.signo, si.code,
		       (unsigned long long)si.addr);
	return r;
}

static int t_store(struct um_proc *p, uint64_t addr, uint64_t v, const char *what)
{
	struct um_siginfo si = { 0, 0, 0 };
	int r = um_store(p, addr, 8, v, &si);
	if (r != 0)
		report("%s: um_store(%#llx) = %d {signo %d, code %d, addr %#llx}", what,
		       (unsigned long long)addr, r, si.signo, si.code,
		       (unsigned long long)si.addr);
	return r;
}

static void t_expect(struct um_proc *p, uint64_t addr, uint64_t want, const char *what)
{
	uint64_t v = 0;
	if (t_load(p, addr, &v, what) == 0 && v != want)
		report("%s: load %#llx = %#llx, expected %#llx", what, (unsigned long long)addr,
		       (unsigned long long)v, (unsigned long long)want);
}

static void t_expect_fault(int r, const struct um_siginfo *si, int code, uint64_t addr,
			   const char *what)
{
	if (r != -EFAULT || si->signo != UM_SIGSEGV || si->code != code ||
	    si->addr != addr)
		report("%s: %d {signo %d, code %d, addr %#llx}, expected -EFAULT {SIGSEGV, %d, "
		       "%#llx}",
		       what, r, si->signo, si->code, (unsigned long long)si->addr, code,
		       (unsigned long long)addr);
}

/* ------------------------------------------------------------ helpers */

static uint64_t load_ok(struct um_proc *p, uint64_t addr, int line)
{
	struct um_siginfo si = { 0, 0, 0 };
	uint64_t v = 0;
	int r = um_load(p, addr, 8, &v, &si);
	if (r != 0)
		fail_msg("line %d: um_load(%#llx) = %d {signo %d, code %d, addr %#llx}", line,
			 (unsigned long long)addr, r, si.signo, si.code,
			 (unsigned long long)si.addr);
	return v;
}
#define LOAD(p, a) load_ok(p, a, __LINE__)

static struct um_sys_stats sys_stats(struct um_system *sys)
{
	struct um_sys_stats st;
	um_system_stats(sys, &st);
	return st;
}

static struct um_proc_stats proc_stats(struct um_proc *p)
{
	struct um_proc_stats st;
	um_proc_stats(p, &st);
	return st;
}

/*
 * A deadlock must fail the run, not hang it: each test arms a watchdog
 * (a thread that never calls the library) that names the test and exits.
 * (No SIGALRM handler: <signal.h> defines si_addr as a macro, which breaks
 * struct um_siginfo.)
 */
#define WATCHDOG_SECONDS 120

static _Atomic long long watchdog_deadline; /* time(NULL) limit; 0: disarmed */
static const char *_Atomic current_test = "?";

static void *watchdog_main(void *arg)
{
	(void)arg;
	for (;;) {
		sleep(1);
		long long d = atomic_load(&watchdog_deadline);
		if (d != 0 && (long long)time(NULL) > d) {
			fflush(stdout);
			fprintf(stderr, "\nwatchdog: test %s did not finish in %d s (deadlock?)\n",
				atomic_load(&current_test), WATCHDOG_SECONDS);
			fflush(stderr);
			_exit(3);
		}
	}
	return NULL;
}

static void watchdog_arm(const char *name)
{
	atomic_store(&current_test, name);
	atomic_store(&watchdog_deadline, (long long)time(NULL) + WATCHDOG_SECONDS);
}

#define boot(state) boot_(state, __func__)
static struct env *boot_(void **state, const char *name)
{
	struct env *e = *state;
	watchdog_arm(name);
	struct um_config cfg;
	um_config_init(&cfg);
	cfg.phys_bytes = 64ULL << 20;
	cfg.mmap_base = BASE;
	cfg.mmap_min_addr = 65536;
	assert_ret(um_system_new(&cfg, &e->sys), 0);
	assert_ret(um_proc_new(e->sys, &e->p), 0);
	assert_ret(um_page_size(e->sys), PG);
	return e;
}

static void check_now(struct env *e, int line)
{
	char why[512] = "";
	int rc = um_check(e->sys, why, sizeof why);
	if (rc != 0)
		fail_msg("line %d: um_check = %d: %s", line, rc, why);
}
#define CHECK(e) check_now(e, __LINE__)

static void finish(struct env *e)
{
	char why[512] = "";
	int rc = um_check(e->sys, why, sizeof why);
	um_system_free(e->sys);
	e->sys = NULL;
	if (rc != 0)
		fail_msg("um_check = %d: %s", rc, why);
}

static int env_setup(void **state)
{
	*state = calloc(1, sizeof(struct env));
	return *state ? 0 : -1;
}

static int env_teardown(void **state)
{
	struct env *e = *state;
	atomic_store(&watchdog_deadline, 0);
	if (e->sys)
		um_system_free(e->sys);
	free(e);
	return 0;
}

static void start_threads(pthread_t *t, int n, void *(*fn)(void *), void *args, size_t argsize)
{
	for (int i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, fn, (char *)args + (size_t)i * argsize) != 0)
			fail_msg("pthread_create failed");
}

static void join_threads(pthread_t *t, int n)
{
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
}

/* ----------------------------------- concurrent faults in one process */

/*
 * One mapping: NTHREADS private areas of OWN pages, then SHARED pages that
 * every thread writes (its own 64-byte slot in each).
 *
 *   [ t0 own ][ t1 own ][ t2 own ][ t3 own ][ shared ]
 */
#define OWN 64
#define SHARED 16
#define ROUNDS 4

struct fault_arg {
	struct um_proc *p;
	uint64_t base;
	int id;
	pthread_barrier_t *go;
	int read_first;
};

static uint64_t own_val(int t, uint64_t i, int r)
{
	return ((uint64_t)(t + 1) << 48) | (i << 16) | (uint64_t)r;
}

static uint64_t own_page(uint64_t base, int t, uint64_t i)
{
	return base + ((uint64_t)t * OWN + i) * PG;
}

static uint64_t shared_slot(uint64_t base, uint64_t j, int t, int r)
{
	return base + (NTHREADS * OWN + j) * PG + (uint64_t)t * 64 + (uint64_t)r * 8;
}

static void *fault_worker(void *argp)
{
	struct fault_arg *a = argp;
	char what[64];
	snprintf(what, sizeof what, "thread %d", a->id);
	pthread_barrier_wait(a->go);
	if (a->read_first) {
		/* every thread reads every shared page first (zero page), then
		 * they all write: racing upgrades of the same PTEs */
		for (uint64_t j = 0; j < SHARED; j++)
			t_expect(a->p, shared_slot(a->base, j, a->id, 0), 0, what);
	}
	for (int r = 0; r < ROUNDS; r++) {
		for (uint64_t k = 0; k < SHARED; k++) {
			uint64_t j = (k + (uint64_t)a->id * 5) % SHARED; /* start apart */
			uint64_t s = shared_slot(a->base, j, a->id, r);
			if (t_store(a->p, s, own_val(a->id, j, r), what) == 0)
				t_expect(a->p, s, own_val(a->id, j, r), what);
		}
		for (uint64_t i = 0; i < OWN; i++) {
			uint64_t o = own_page(a->base, a->id, i) + (uint64_t)r * 8;
			if (t_store(a->p, o, own_val(a->id, i, r), what) == 0)
				t_expect(a->p, o, own_val(a->id, i, r), what);
		}
		/* peek at another thread's pages: zero or its value, never junk */
		int other = (a->id + 1) % NTHREADS;
		for (uint64_t i = 0; i < OWN; i += 7) {
			uint64_t v = 0;
			uint64_t o = own_page(a->base, other, i);
			if (t_load(a->p, o, &v, what) == 0 && v != 0 && v != own_val(other, i, 0))
				report("%s: peek %#llx = %#llx", what, (unsigned long long)o,
				       (unsigned long long)v);
		}
	}
	return NULL;
}

static void run_fault_workers(void **state, int read_first)
{
	struct env *e = boot_(state, read_first ? "threads_read_then_write_same_pages_concurrently"
					       : "threads_fault_own_and_shared_pages_concurrently");
	const uint64_t npages = NTHREADS * OWN + SHARED;
	const uint64_t base = BASE - npages * PG;
	assert_ret(um_mmap(e->p, 0, npages * PG, RW, AP, -1, 0), base);

	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, NTHREADS);
	struct fault_arg args[NTHREADS];
	pthread_t th[NTHREADS];
	for (int t = 0; t < NTHREADS; t++)
		args[t] = (struct fault_arg){ e->p, base, t, &go, read_first };
	start_threads(th, NTHREADS, fault_worker, args, sizeof args[0]);
	join_threads(th, NTHREADS);
	pthread_barrier_destroy(&go);
	assert_no_thread_errors();

	CHECK(e);
	for (int t = 0; t < NTHREADS; t++) {
		for (uint64_t i = 0; i < OWN; i++)
			for (int r = 0; r < ROUNDS; r++)
				assert_ret(LOAD(e->p, own_page(base, t, i) + (uint64_t)r * 8),
					   own_val(t, i, r));
		for (uint64_t j = 0; j < SHARED; j++)
			for (int r = 0; r < ROUNDS; r++)
				assert_ret(LOAD(e->p, shared_slot(base, j, t, r)), own_val(t, j, r));
	}
	/* every page was written: one frame each, none lost or doubled */
	assert_ret(sys_stats(e->sys).frames_used, npages);
	assert_ret(proc_stats(e->p).rss_anon, npages * PG);
	assert_ret(proc_stats(e->p).map_count, 1);
	finish(e);
}

static void threads_fault_own_and_shared_pages_concurrently(void **state)
{
	run_fault_workers(state, 0);
}

static void threads_read_then_write_same_pages_concurrently(void **state)
{
	run_fault_workers(state, 1);
}

/* --------------------------- mmap/munmap beside faults in another region */

#define REGION 128
#define MAPPER_ITERS 150

struct mix_arg {
	struct um_proc *p;
	uint64_t region;
	int id; /* 0, 1: faulters; 2, 3: mappers */
	pthread_barrier_t *go;
};

static void *mix_worker(void *argp)
{
	struct mix_arg *a = argp;
	char what[64];
	snprintf(what, sizeof what, "thread %d", a->id);
	pthread_barrier_wait(a->go);
	if (a->id < 2) {
		/* faulter: its half of the region, several passes */
		uint64_t first = (uint64_t)a->id * (REGION / 2);
		for (int r = 0; r < 6; r++)
			for (uint64_t i = first; i < first + REGION / 2; i++) {
				uint64_t addr = a->region + i * PG + (uint64_t)r * 8;
				if (t_store(a->p, addr, (i << 8) | (uint64_t)r, what) == 0)
					t_expect(a->p, addr, (i << 8) | (uint64_t)r, what);
			}
		return NULL;
	}
	for (int it = 0; it < MAPPER_ITERS; it++) {
		uint64_t n = 1 + (uint64_t)((it * 7 + a->id) % 8);
		int flags = it % 3 == 0 ? AS : AP;
		int64_t m = um_mmap(a->p, 0, n * PG, RW, flags, -1, 0);
		if (m < 0) {
			report("%s: um_mmap(%llu pages) = %lld", what, (unsigned long long)n,
			       (long long)m);
			return NULL;
		}
		uint64_t addr = (uint64_t)m;
		if (addr + n * PG > a->region && addr < a->region + REGION * PG) {
			report("%s: um_mmap returned %#llx inside the busy region", what,
			       (unsigned long long)addr);
			return NULL;
		}
		for (uint64_t i = 0; i < n; i++) {
			t_expect(a->p, addr + i * PG + 8, 0, what); /* fresh: zero */
			t_store(a->p, addr + i * PG + 8, ((uint64_t)a->id << 32) | i, what);
		}
		if (n > 2) {
			struct um_siginfo si = { 0, 0, 0 };
			int r = um_mprotect(a->p, addr + PG, PG, UM_PROT_READ);
			if (r != 0)
				report("%s: um_mprotect = %d", what, r);
			r = um_store(a->p, addr + PG + 16, 8, 1, &si);
			t_expect_fault(r, &si, UM_SEGV_ACCERR, addr + PG + 16, what);
		}
		for (uint64_t i = 0; i < n; i++)
			t_expect(a->p, addr + i * PG + 8, ((uint64_t)a->id << 32) | i, what);
		int r = um_munmap(a->p, addr, n * PG);
		if (r != 0)
			report("%s: um_munmap = %d", what, r);
	}
	return NULL;
}

static void mmap_munmap_while_other_threads_fault(void **state)
{
	struct env *e = boot(state);
	const uint64_t region = BASE - REGION * PG;
	assert_ret(um_mmap(e->p, 0, REGION * PG, RW, AP, -1, 0), region);

	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, NTHREADS);
	struct mix_arg args[NTHREADS];
	pthread_t th[NTHREADS];
	for (int t = 0; t < NTHREADS; t++)
		args[t] = (struct mix_arg){ e->p, region, t, &go };
	start_threads(th, NTHREADS, mix_worker, args, sizeof args[0]);
	join_threads(th, NTHREADS);
	pthread_barrier_destroy(&go);
	assert_no_thread_errors();

	CHECK(e);
	for (uint64_t i = 0; i < REGION; i++)
		for (int r = 0; r < 6; r++)
			assert_ret(LOAD(e->p, region + i * PG + (uint64_t)r * 8), (i << 8) | (uint64_t)r);
	/* every mapper mapping is gone, and so are its frames */
	assert_ret(proc_stats(e->p).map_count, 1);
	assert_ret(proc_stats(e->p).vm_size, REGION * PG);
	assert_ret(sys_stats(e->sys).frames_used, REGION);
	finish(e);
}

/* ------------------------------------------------------ TLB coherence */

/*
 * A helper thread that performs one step each time the main thread lets it:
 * main calls step(), which runs fn in the helper with the helper's own TLB.
 */
struct helper {
	pthread_t th;
	pthread_mutex_t m;
	pthread_cond_t cv;
	void (*fn)(struct helper *);
	int pending, quit;
	struct um_proc *p;
	uint64_t addr;
	int r;
	uint64_t val;
	struct um_siginfo si;
};

static void *helper_main(void *argp)
{
	struct helper *h = argp;
	pthread_mutex_lock(&h->m);
	for (;;) {
		while (!h->pending && !h->quit)
			pthread_cond_wait(&h->cv, &h->m);
		if (h->pending) {
			pthread_mutex_unlock(&h->m);
			h->fn(h);
			pthread_mutex_lock(&h->m);
			h->pending = 0;
			pthread_cond_broadcast(&h->cv);
			continue;
		}
		break;
	}
	pthread_mutex_unlock(&h->m);
	return NULL;
}

static void helper_start(struct helper *h, struct um_proc *p, uint64_t addr)
{
	memset(h, 0, sizeof *h);
	pthread_mutex_init(&h->m, NULL);
	pthread_cond_init(&h->cv, NULL);
	h->p = p;
	h->addr = addr;
	if (pthread_create(&h->th, NULL, helper_main, h) != 0)
		fail_msg("pthread_create failed");
}

static void helper_step(struct helper *h, void (*fn)(struct helper *))
{
	pthread_mutex_lock(&h->m);
	h->fn = fn;
	h->pending = 1;
	memset(&h->si, 0, sizeof h->si);
	pthread_cond_broadcast(&h->cv);
	while (h->pending)
		pthread_cond_wait(&h->cv, &h->m);
	pthread_mutex_unlock(&h->m);
}

static void helper_stop(struct helper *h)
{
	pthread_mutex_lock(&h->m);
	h->quit = 1;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->m);
	pthread_join(h->th, NULL);
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->m);
}

static void h_load(struct helper *h)
{
	h->val = 0;
	h->r = um_load(h->p, h->addr, 8, &h->val, &h->si);
}

static void h_store(struct helper *h)
{
	h->r = um_store(h->p, h->addr, 8, h->val, &h->si);
}

#define assert_helper_fault(h, want_code)                                                             \
	do {                                                                                     \
		if ((h)->r != -EFAULT || (h)->si.signo != UM_SIGSEGV ||                       \
		    (h)->si.code != (want_code) || (h)->si.addr != (h)->addr)                   \
			fail_msg("helper access = %d {want_signo %d, want_code %d, want_addr %#llx}, expected " \
				 "-EFAULT {SIGSEGV, %d, %#llx}",                                 \
				 (h)->r, (h)->si.signo, (h)->si.code,                      \
				 (unsigned long long)(h)->si.addr, (want_code),                    \
				 (unsigned long long)(h)->addr);                                 \
	} while (0)

static void munmap_by_one_thread_is_seen_by_another(void **state)
{
	struct env *e = boot(state);
	const uint64_t a = BASE - 2 * PG;
	assert_ret(um_mmap(e->p, 0, 2 * PG, RW, AP, -1, 0), a);
	struct helper h;
	helper_start(&h, e->p, a + 40);
	h.val = 0x77;
	helper_step(&h, h_store); /* the helper's TLB caches a write entry */
	assert_ret(h.r, 0);
	helper_step(&h, h_load);
	assert_ret(h.r, 0);
	assert_ret(h.val, 0x77);
	assert_ret(um_munmap(e->p, a, PG), 0);
	helper_step(&h, h_load);
	int r1 = h.r;
	struct um_siginfo s1 = h.si;
	helper_step(&h, h_store);
	helper_stop(&h);
	assert_helper_fault(&h, UM_SEGV_MAPERR);
	h.r = r1;
	h.si = s1;
	assert_helper_fault(&h, UM_SEGV_MAPERR);
	/* a new mapping at the same place reads zero in the helper too */
	assert_ret(um_mmap(e->p, a, PG, RW, AP | UM_MAP_FIXED, -1, 0), a);
	helper_start(&h, e->p, a + 40);
	helper_step(&h, h_load);
	helper_stop(&h);
	assert_ret(h.r, 0);
	assert_ret(h.val, 0);
	CHECK(e);
	finish(e);
}

static void mprotect_by_one_thread_revokes_write_in_another(void **state)
{
	struct env *e = boot(state);
	const uint64_t a = BASE - PG;
	assert_ret(um_mmap(e->p, 0, PG, RW, AP, -1, 0), a);
	struct helper h;
	helper_start(&h, e->p, a + 8);
	h.val = 5;
	helper_step(&h, h_store);
	assert_ret(h.r, 0);
	assert_ret(um_mprotect(e->p, a, PG, UM_PROT_READ), 0);
	h.val = 6;
	helper_step(&h, h_store);
	int rs = h.r;
	struct um_siginfo ss = h.si;
	helper_step(&h, h_load);
	int rl = h.r;
	uint64_t vl = h.val;
	assert_ret(um_mprotect(e->p, a, PG, UM_PROT_NONE), 0);
	helper_step(&h, h_load);
	helper_stop(&h);
	assert_helper_fault(&h, UM_SEGV_ACCERR);
	h.r = rs;
	h.si = ss;
	assert_helper_fault(&h, UM_SEGV_ACCERR);
	assert_ret(rl, 0);
	assert_ret(vl, 5);
	CHECK(e);
	finish(e);
}

static void fork_by_one_thread_write_protects_for_another(void **state)
{
	struct env *e = boot(state);
	const uint64_t a = BASE - PG;
	assert_ret(um_mmap(e->p, 0, PG, RW, AP, -1, 0), a);
	struct helper h;
	helper_start(&h, e->p, a);
	h.val = 1;
	helper_step(&h, h_store); /* write entry cached in the helper's TLB */
	assert_ret(h.r, 0);
	struct um_proc *c = NULL;
	assert_ret(um_fork(e->p, &c), 0);
	h.val = 2;
	helper_step(&h, h_store);
	helper_stop(&h);
	assert_ret(h.r, 0);
	assert_ret(LOAD(e->p, a), 2);
	assert_ret(LOAD(c, a), 1);
	assert_ret(sys_stats(e->sys).cow_copies, 1);
	CHECK(e);
	finish(e);
}

/* -------------------------- copy-on-write breaks in several processes */

#define COW_PAGES 64

struct cow_arg {
	struct um_proc *child;
	uint64_t base;
	int id;
	pthread_barrier_t *go;
};

static void *cow_worker(void *argp)
{
	struct cow_arg *a = argp;
	char what[64];
	snprintf(what, sizeof what, "child %d", a->id);
	pthread_barrier_wait(a->go);
	for (uint64_t i = 0; i < COW_PAGES; i++) {
		uint64_t p = (i + (uint64_t)a->id * 11) % COW_PAGES;
		t_expect(a->child, a->base + p * PG, 0xf000 + p, what);
		t_store(a->child, a->base + p * PG + 8, ((uint64_t)a->id << 16) | p, what);
	}
	for (uint64_t p = 0; p < COW_PAGES; p++) {
		t_expect(a->child, a->base + p * PG, 0xf000 + p, what);
		t_expect(a->child, a->base + p * PG + 8, ((uint64_t)a->id << 16) | p, what);
	}
	pthread_barrier_wait(a->go);
	um_exit(a->child); /* concurrently with the other children */
	return NULL;
}

static void children_break_cow_concurrently(void **state)
{
	struct env *e = boot(state);
	const uint64_t a = BASE - COW_PAGES * PG;
	assert_ret(um_mmap(e->p, 0, COW_PAGES * PG, RW, AP, -1, 0), a);
	for (uint64_t p = 0; p < COW_PAGES; p++)
		assert_ret(um_store(e->p, a + p * PG, 8, 0xf000 + p, NULL), 0);
	struct cow_arg args[NTHREADS];
	pthread_t th[NTHREADS];
	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, NTHREADS + 1);
	for (int t = 0; t < NTHREADS; t++) {
		struct um_proc *c = NULL;
		assert_ret(um_fork(e->p, &c), 0);
		args[t] = (struct cow_arg){ c, a, t, &go };
	}
	start_threads(th, NTHREADS, cow_worker, args, sizeof args[0]);
	pthread_barrier_wait(&go); /* start */
	pthread_barrier_wait(&go); /* all written, not yet exited */
	join_threads(th, NTHREADS);
	pthread_barrier_destroy(&go);
	assert_no_thread_errors();
	/* the parent kept the old frames mapped: every child write copied */
	assert_ret(sys_stats(e->sys).cow_copies, NTHREADS * COW_PAGES);
	assert_ret(sys_stats(e->sys).nr_procs, 1);
	assert_ret(sys_stats(e->sys).frames_used, COW_PAGES);
	for (uint64_t p = 0; p < COW_PAGES; p++) {
		assert_ret(LOAD(e->p, a + p * PG), 0xf000 + p);
		assert_ret(LOAD(e->p, a + p * PG + 8), 0);
	}
	CHECK(e);
	finish(e);
}

/*
 * One thread keeps writing round numbers over every page of the parent, in
 * page order; other threads fork the parent meanwhile. A child's memory is
 * a snapshot: pages hold round r+1 up to some page and round r after it,
 * and it never changes while the parent keeps writing.
 */
#define SNAP_PAGES 32
#define FORKS_PER_THREAD 12

struct snap_arg {
	struct um_proc *parent;
	uint64_t base;
	int id;
	atomic_int *stop;
	atomic_int *started; /* the writer finished its first round */
	pthread_barrier_t *go;
};

static void *snap_writer(void *argp)
{
	struct snap_arg *a = argp;
	pthread_barrier_wait(a->go);
	for (uint64_t r = 1; r == 1 || !atomic_load(a->stop); r++) {
		for (uint64_t p = 0; p < SNAP_PAGES; p++)
			if (t_store(a->parent, a->base + p * PG, r, "writer") != 0) {
				atomic_store(a->started, 1);
				return NULL;
			}
		atomic_store(a->started, 1);
	}
	return NULL;
}

static int read_snapshot(struct um_proc *c, uint64_t base, uint64_t *out, const char *what)
{
	for (uint64_t p = 0; p < SNAP_PAGES; p++)
		if (t_load(c, base + p * PG, &out[p], what) != 0)
			return -1;
	return 0;
}

static void *snap_forker(void *argp)
{
	struct snap_arg *a = argp;
	char what[64];
	snprintf(what, sizeof what, "forker %d", a->id);
	pthread_barrier_wait(a->go);
	while (!atomic_load(a->started))
		sched_yield();
	for (int k = 0; k < FORKS_PER_THREAD; k++) {
		struct um_proc *c = NULL;
		int r = um_fork(a->parent, &c);
		if (r != 0) {
			report("%s: um_fork = %d", what, r);
			return NULL;
		}
		uint64_t s1[SNAP_PAGES], s2[SNAP_PAGES];
		if (read_snapshot(c, a->base, s1, what) == 0) {
			for (uint64_t p = 1; p < SNAP_PAGES; p++)
				if (s1[p] > s1[p - 1] || s1[0] - s1[p] > 1)
					report("%s: torn snapshot: page %llu = %llu after %llu, page 0 "
					       "= %llu",
					       what, (unsigned long long)p, (unsigned long long)s1[p],
					       (unsigned long long)s1[p - 1],
					       (unsigned long long)s1[0]);
			/* let the writer go on, then look again */
			for (int spin = 0; spin < 2000; spin++)
				(void)um_load(c, a->base + (uint64_t)(spin % SNAP_PAGES) * PG + 64, 8,
					      &(uint64_t){ 0 }, NULL);
			if (read_snapshot(c, a->base, s2, what) == 0 &&
			    memcmp(s1, s2, sizeof s1) != 0)
				report("%s: the child's memory changed after fork", what);
		}
		um_exit(c);
	}
	return NULL;
}

static void fork_while_another_thread_writes_gives_stable_snapshot(void **state)
{
	struct env *e = boot(state);
	const uint64_t a = BASE - SNAP_PAGES * PG;
	assert_ret(um_mmap(e->p, 0, SNAP_PAGES * PG, RW, AP, -1, 0), a);
	atomic_int stop = 0, started = 0;
	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, NTHREADS);
	struct snap_arg args[NTHREADS];
	pthread_t th[NTHREADS];
	for (int t = 0; t < NTHREADS; t++)
		args[t] = (struct snap_arg){ e->p, a, t, &stop, &started, &go };
	if (pthread_create(&th[0], NULL, snap_writer, &args[0]) != 0)
		fail_msg("pthread_create failed");
	start_threads(th + 1, NTHREADS - 1, snap_forker, args + 1, sizeof args[0]);
	join_threads(th + 1, NTHREADS - 1);
	atomic_store(&stop, 1);
	pthread_join(th[0], NULL);
	pthread_barrier_destroy(&go);
	assert_no_thread_errors();
	assert_ret(sys_stats(e->sys).nr_procs, 1);
	assert_ret(sys_stats(e->sys).frames_used, SNAP_PAGES);
	uint64_t last = LOAD(e->p, a + (SNAP_PAGES - 1) * PG);
	for (uint64_t p = 0; p < SNAP_PAGES; p++)
		assert_ret(LOAD(e->p, a + p * PG), last);
	CHECK(e);
	finish(e);
}

int main(void)
{
	pthread_t wd;
	if (pthread_create(&wd, NULL, watchdog_main, NULL) == 0)
		pthread_detach(wd);
#define T(f) cmocka_unit_test_setup_teardown(f, env_setup, env_teardown)
	const struct CMUnitTest tests[] = {
		T(threads_fault_own_and_shared_pages_concurrently),
		T(threads_read_then_write_same_pages_concurrently),
		T(mmap_munmap_while_other_threads_fault),
		T(munmap_by_one_thread_is_seen_by_another),
		T(mprotect_by_one_thread_revokes_write_in_another),
		T(fork_by_one_thread_write_protects_for_another),
		T(children_break_cow_concurrently),
		T(fork_while_another_thread_writes_gives_stable_snapshot),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
