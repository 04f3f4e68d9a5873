/*
 * Threads: concurrent faults in one process (first touches racing on the
 * same page), mmap/munmap in one region while other threads fault in
 * another, TLB coherence across threads after munmap, mprotect and fork,
 * and concurrent copy-on-write breaks in several processes.
 *
 * Worker threads never call cmocka's assertions (they longjmp); they record
 * the first failure, and the main thread fails the test after joining.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#include "harness.h"

#define NTHREADS 4

#define LOAD(p, a) load_ok(p, a, 8, __LINE__)

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
static int t_reported(int r, const struct um_siginfo *si, const char *call, uint64_t addr,
		      const char *what)
{
	if (r != 0)
		report("%s: %s(%#llx) = %d {signo %d, code %d, addr %#llx}", what, call,
		       (unsigned long long)addr, r, si->signo, si->code,
		       (unsigned long long)si->addr);
	return r;
}

static int t_load(struct um_proc *p, uint64_t addr, uint64_t *v, const char *what)
{
	struct um_siginfo si = { 0, 0, 0 };
	int r = um_load(p, addr, 8, v, &si);
	return t_reported(r, &si, "um_load", addr, what);
}

static int t_store(struct um_proc *p, uint64_t addr, uint64_t v, const char *what)
{
	struct um_siginfo si = { 0, 0, 0 };
	int r = um_store(p, addr, 8, v, &si);
	return t_reported(r, &si, "um_store", addr, what);
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

/* Boots the default machine with the watchdog armed for the test that calls it. */
#define boot_watched(state) boot_named(state, __func__)
static struct env *boot_named(void **state, const char *name)
{
	watchdog_arm(name);
	return boot_default(state);
}

static int threads_teardown(void **state)
{
	atomic_store(&watchdog_deadline, 0);
	return env_teardown(state);
}

/* What each worker thread is given. */
struct worker {
	struct um_proc *p; /* the process it works in */
	uint64_t base;	   /* the area it works in */
	int id;
	pthread_barrier_t *go; /* every worker starts at once */
	char what[64];	       /* its name in reports */
	int read_first;	       /* fault workers: read the shared pages before writing them */
	atomic_int *stop;      /* snapshot writer: stop writing */
	atomic_int *started;   /* snapshot writer: the first round is written */
};

/* Names the worker (role and number) and waits for the others; returns the name. */
static const char *worker_start(struct worker *w, const char *role)
{
	snprintf(w->what, sizeof w->what, "%s %d", role, w->id);
	pthread_barrier_wait(w->go);
	return w->what;
}

static void start_threads(pthread_t *t, int n, void *(*fn)(void *), struct worker *args)
{
	for (int i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, fn, &args[i]) != 0)
			fail_msg("pthread_create failed");
}

static void join_threads(pthread_t *t, int n)
{
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
}

/*
 * Runs fn on each of the NTHREADS args (which start together on go), waits
 * for them all, then fails the test on the first error any of them reported.
 */
static void run_workers(void *(*fn)(void *), struct worker *args, pthread_barrier_t *go)
{
	pthread_t th[NTHREADS];
	start_threads(th, NTHREADS, fn, args);
	join_threads(th, NTHREADS);
	pthread_barrier_destroy(go);
	assert_no_thread_errors();
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
	struct worker *a = argp;
	const char *what = worker_start(a, "thread");
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
	/* the watchdog names the test, not this helper */
	const char *name = read_first ? "threads_read_then_write_same_pages_concurrently"
				      : "threads_fault_own_and_shared_pages_concurrently";
	struct env *e = boot_named(state, name);
	const uint64_t npages = NTHREADS * OWN + SHARED;
	const uint64_t base = MAP_BELOW_BASE(e, npages, RW, AP);

	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, NTHREADS);
	struct worker args[NTHREADS];
	for (int t = 0; t < NTHREADS; t++)
		args[t] = (struct worker){ .p = e->p, .base = base, .id = t, .go = &go,
					   .read_first = read_first };
	run_workers(fault_worker, args, &go);

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
	assert_ret(frames_used(e->sys), npages);
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

/* Workers 0 and 1 fault in the region; workers 2 and 3 map and unmap beside it. */
#define REGION 128
#define MAPPER_ITERS 150

static void *mix_worker(void *argp)
{
	struct worker *a = argp;
	const char *what = worker_start(a, "thread");
	if (a->id < 2) {
		/* faulter: its half of the region, several passes */
		uint64_t first = (uint64_t)a->id * (REGION / 2);
		for (int r = 0; r < 6; r++)
			for (uint64_t i = first; i < first + REGION / 2; i++) {
				uint64_t addr = a->base + i * PG + (uint64_t)r * 8;
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
		if (addr + n * PG > a->base && addr < a->base + REGION * PG) {
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
	struct env *e = boot_watched(state);
	const uint64_t region = MAP_BELOW_BASE(e, REGION, RW, AP);

	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, NTHREADS);
	struct worker args[NTHREADS];
	for (int t = 0; t < NTHREADS; t++)
		args[t] = (struct worker){ .p = e->p, .base = region, .id = t, .go = &go };
	run_workers(mix_worker, args, &go);

	CHECK(e);
	for (uint64_t i = 0; i < REGION; i++)
		for (int r = 0; r < 6; r++)
			assert_ret(LOAD(e->p, region + i * PG + (uint64_t)r * 8), (i << 8) | (uint64_t)r);
	/* every mapper mapping is gone, and so are its frames */
	assert_ret(proc_stats(e->p).map_count, 1);
	assert_ret(proc_stats(e->p).vm_size, REGION * PG);
	assert_ret(frames_used(e->sys), REGION);
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

/*
 * What one access by the helper answered: kept, so that the test asserts
 * on it once the helper has stopped (a failed assertion does not return).
 */
struct answer {
	int r;
	struct um_siginfo si;
	uint64_t val; /* what a load read */
};

static struct answer helper_load(struct helper *h)
{
	helper_step(h, h_load);
	return (struct answer){ h->r, h->si, h->val };
}

static struct answer helper_store(struct helper *h, uint64_t v)
{
	h->val = v;
	helper_step(h, h_store);
	return (struct answer){ h->r, h->si, h->val };
}

/* The access faulted with SIGSEGV and want_code at the helper's address. */
#define assert_answer_fault(ans, h, want_code)                                                     \
	do {                                                                                       \
		if ((ans).r != -EFAULT || (ans).si.signo != UM_SIGSEGV ||                          \
		    (ans).si.code != (want_code) || (ans).si.addr != (h)->addr)                    \
			fail_msg("helper access = %d {signo %d, code %d, addr %#llx}, expected "   \
				 "-EFAULT {SIGSEGV, %d, %#llx}",                                   \
				 (ans).r, (ans).si.signo, (ans).si.code,                           \
				 (unsigned long long)(ans).si.addr, (want_code),                   \
				 (unsigned long long)(h)->addr);                                   \
	} while (0)

static void munmap_by_one_thread_is_seen_by_another(void **state)
{
	struct env *e = boot_watched(state);
	const uint64_t a = MAP_BELOW_BASE(e, 2, RW, AP);
	struct helper h;
	helper_start(&h, e->p, a + 40);
	assert_ret(helper_store(&h, 0x77).r, 0); /* the helper's TLB caches a write entry */
	struct answer ld = helper_load(&h);
	assert_ret(ld.r, 0);
	assert_ret(ld.val, 0x77);
	assert_ret(um_munmap(e->p, a, PG), 0);
	ld = helper_load(&h);
	struct answer st = helper_store(&h, 0);
	helper_stop(&h);
	assert_answer_fault(st, &h, UM_SEGV_MAPERR);
	assert_answer_fault(ld, &h, UM_SEGV_MAPERR);
	/* a new mapping at the same place reads zero in the helper too */
	assert_ret(um_mmap(e->p, a, PG, RW, AP | UM_MAP_FIXED, -1, 0), a);
	helper_start(&h, e->p, a + 40);
	ld = helper_load(&h);
	helper_stop(&h);
	assert_ret(ld.r, 0);
	assert_ret(ld.val, 0);
	CHECK(e);
	finish(e);
}

static void mprotect_by_one_thread_revokes_write_in_another(void **state)
{
	struct env *e = boot_watched(state);
	const uint64_t a = MAP_BELOW_BASE(e, 1, RW, AP);
	struct helper h;
	helper_start(&h, e->p, a + 8);
	assert_ret(helper_store(&h, 5).r, 0);
	assert_ret(um_mprotect(e->p, a, PG, UM_PROT_READ), 0);
	struct answer st = helper_store(&h, 6);
	struct answer ld = helper_load(&h);
	assert_ret(um_mprotect(e->p, a, PG, UM_PROT_NONE), 0);
	struct answer none = helper_load(&h);
	helper_stop(&h);
	assert_answer_fault(none, &h, UM_SEGV_ACCERR);
	assert_answer_fault(st, &h, UM_SEGV_ACCERR);
	assert_ret(ld.r, 0);
	assert_ret(ld.val, 5);
	CHECK(e);
	finish(e);
}

static void fork_by_one_thread_write_protects_for_another(void **state)
{
	struct env *e = boot_watched(state);
	const uint64_t a = MAP_BELOW_BASE(e, 1, RW, AP);
	struct helper h;
	helper_start(&h, e->p, a);
	assert_ret(helper_store(&h, 1).r, 0); /* write entry cached in the helper's TLB */
	struct um_proc *c = NULL;
	assert_ret(um_fork(e->p, &c), 0);
	struct answer st = helper_store(&h, 2);
	helper_stop(&h);
	assert_ret(st.r, 0);
	assert_ret(LOAD(e->p, a), 2);
	assert_ret(LOAD(c, a), 1);
	assert_ret(sys_stats(e->sys).cow_copies, 1);
	CHECK(e);
	finish(e);
}

/* -------------------------- copy-on-write breaks in several processes */

#define COW_PAGES 64

static void *cow_worker(void *argp)
{
	struct worker *a = argp;
	const char *what = worker_start(a, "child");
	for (uint64_t i = 0; i < COW_PAGES; i++) {
		uint64_t p = (i + (uint64_t)a->id * 11) % COW_PAGES;
		t_expect(a->p, a->base + p * PG, 0xf000 + p, what);
		t_store(a->p, a->base + p * PG + 8, ((uint64_t)a->id << 16) | p, what);
	}
	for (uint64_t p = 0; p < COW_PAGES; p++) {
		t_expect(a->p, a->base + p * PG, 0xf000 + p, what);
		t_expect(a->p, a->base + p * PG + 8, ((uint64_t)a->id << 16) | p, what);
	}
	pthread_barrier_wait(a->go);
	um_exit(a->p); /* concurrently with the other children */
	return NULL;
}

static void children_break_cow_concurrently(void **state)
{
	struct env *e = boot_watched(state);
	const uint64_t a = MAP_BELOW_BASE(e, COW_PAGES, RW, AP);
	for (uint64_t p = 0; p < COW_PAGES; p++)
		assert_ret(um_store(e->p, a + p * PG, 8, 0xf000 + p, NULL), 0);
	struct worker args[NTHREADS];
	pthread_t th[NTHREADS];
	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, NTHREADS + 1);
	for (int t = 0; t < NTHREADS; t++) {
		struct um_proc *c = NULL;
		assert_ret(um_fork(e->p, &c), 0);
		args[t] = (struct worker){ .p = c, .base = a, .id = t, .go = &go };
	}
	start_threads(th, NTHREADS, cow_worker, args);
	pthread_barrier_wait(&go); /* start */
	pthread_barrier_wait(&go); /* all written, not yet exited */
	join_threads(th, NTHREADS);
	pthread_barrier_destroy(&go);
	assert_no_thread_errors();
	/* the parent kept the old frames mapped: every child write copied */
	assert_ret(sys_stats(e->sys).cow_copies, NTHREADS * COW_PAGES);
	assert_ret(sys_stats(e->sys).nr_procs, 1);
	assert_ret(frames_used(e->sys), COW_PAGES);
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

static void *snap_writer(void *argp)
{
	struct worker *a = argp;
	pthread_barrier_wait(a->go);
	for (uint64_t r = 1; r == 1 || !atomic_load(a->stop); r++) {
		for (uint64_t p = 0; p < SNAP_PAGES; p++)
			if (t_store(a->p, a->base + p * PG, r, "writer") != 0) {
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
	struct worker *a = argp;
	const char *what = worker_start(a, "forker");
	while (!atomic_load(a->started))
		sched_yield();
	for (int k = 0; k < FORKS_PER_THREAD; k++) {
		struct um_proc *c = NULL;
		int r = um_fork(a->p, &c);
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
	struct env *e = boot_watched(state);
	const uint64_t a = MAP_BELOW_BASE(e, SNAP_PAGES, RW, AP);
	atomic_int stop = 0, started = 0;
	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, NTHREADS);
	struct worker args[NTHREADS];
	pthread_t th[NTHREADS];
	for (int t = 0; t < NTHREADS; t++)
		args[t] = (struct worker){ .p = e->p, .base = a, .id = t, .go = &go,
					   .stop = &stop, .started = &started };
	if (pthread_create(&th[0], NULL, snap_writer, &args[0]) != 0)
		fail_msg("pthread_create failed");
	start_threads(th + 1, NTHREADS - 1, snap_forker, args + 1);
	join_threads(th + 1, NTHREADS - 1);
	atomic_store(&stop, 1);
	pthread_join(th[0], NULL);
	pthread_barrier_destroy(&go);
	assert_no_thread_errors();
	assert_ret(sys_stats(e->sys).nr_procs, 1);
	assert_ret(frames_used(e->sys), SNAP_PAGES);
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
#define T(f) cmocka_unit_test_setup_teardown(f, env_setup, threads_teardown)
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
