/*
 * mmbench: the same memory-mapping operations through usermm and through
 * the Linux kernel's system calls, side by side, in one run.
 *
 *   build/bench/mmbench [--quick] [CASE-PREFIX...]
 *
 * Every case is measured on both sides the same way: a batch of n
 * operations is timed with CLOCK_MONOTONIC (only the operations themselves:
 * set-up such as mapping a fresh region or ending a fork child is outside
 * the clock), one operation is run as a warm-up, n is calibrated so that
 * one batch runs for at least 0.2 s, then three batches are run and the
 * best (lowest) ns per op is reported with three significant figures.
 *
 * Kernel-side regions get MADV_NOHUGEPAGE so both sides work in 4 KiB
 * pages. Each usermm case runs on a machine of its own (um_system_new with
 * phys_bytes = 2 GiB, freed after the case), so the kernel side of every
 * case runs while no usermm machine holds host memory (this matters for the
 * kernel's fork, which copies the whole bench process). After each usermm
 * case the machine is checked with um_check and for leaked frames.
 *
 * Exit status: 0 when every case ran and every check passed, 1 when a case
 * failed or a check found a library bug (reported after the table), 2 on a
 * usage error.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "usermm.h"

#define MIB (UINT64_C(1024) * UINT64_C(1024))
#define GIB (UINT64_C(1024) * MIB)

/* ------------------------------------------------------------ settings */

static int g_quick;
static uint64_t g_batch_ns = UINT64_C(200000000); /* one batch runs at least this */
static uint64_t g_region = 256 * MIB;		  /* fault, fork, cow */
static uint64_t g_miss_bytes = 64 * MIB;	  /* load-miss */
static const int g_reps = 3;
static const uint64_t g_phys = 2 * GIB;
static long g_kpage; /* the kernel's page size */

static volatile uint64_t g_sink; /* keeps loads and copies alive */

/* ------------------------------------------------------------ errors */

static char g_err[1024]; /* why the current side failed */

struct note {
	char text[1200];
};
static struct note g_notes[64];
static int g_nnotes;
static int g_bad; /* a case failed or a check found a bug */

static void add_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void add_note(const char *fmt, ...)
{
	if (g_nnotes >= (int)(sizeof g_notes / sizeof g_notes[0]))
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(g_notes[g_nnotes].text, sizeof g_notes[0].text, fmt, ap);
	va_end(ap);
	g_nnotes++;
}

static const char *errname(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "?";
}

/* A kernel-side failure: the message and errno (read first). */
static int kfail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int kfail(const char *fmt, ...)
{
	int e = errno;
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	snprintf(g_err, sizeof g_err, "%s failed: errno %d (%s: %s)", what, e, errname(e),
		 strerror(e));
	return -1;
}

/* A usermm call that failed: the call, its return value and the siginfo. */
static int ufail(int64_t rc, const struct um_siginfo *si, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int ufail(int64_t rc, const struct um_siginfo *si, const char *fmt, ...)
{
	char call[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(call, sizeof call, fmt, ap);
	va_end(ap);
	int n;
	if (rc < 0 && rc > -4096)
		n = snprintf(g_err, sizeof g_err, "%s returned %" PRId64 " (%s: %s)", call, rc,
			     errname((int)-rc), strerror((int)-rc));
	else
		n = snprintf(g_err, sizeof g_err, "%s returned %" PRId64, call, rc);
	if (si && rc == -EFAULT && n > 0 && (size_t)n < sizeof g_err)
		snprintf(g_err + n, sizeof g_err - (size_t)n,
			 "; siginfo si_signo=%d si_code=%d si_addr=0x%" PRIx64, si->signo, si->code,
			 si->addr);
	return -1;
}

/* A usermm result that is wrong although the call succeeded. */
static int uwrong(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int uwrong(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(g_err, sizeof g_err, fmt, ap);
	va_end(ap);
	return -1;
}

/* ------------------------------------------------------------ time */

static uint64_t now_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
		perror("mmbench: clock_gettime(CLOCK_MONOTONIC)");
		exit(1);
	}
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Three significant figures, without exponents (no libm). */
static const char *sig3(char *buf, size_t n, double v)
{
	if (!(v >= 0) || v > 1e18) {
		snprintf(buf, n, "?");
		return buf;
	}
	if (v == 0) {
		snprintf(buf, n, "0");
		return buf;
	}
	int e = 0;
	double a = v;
	while (a >= 10) {
		a /= 10;
		e++;
	}
	while (a < 1) {
		a *= 10;
		e--;
	}
	if (e >= 2) {
		double scale = 1;
		for (int i = 0; i < e - 2; i++)
			scale *= 10;
		uint64_t r = (uint64_t)(v / scale + 0.5);
		snprintf(buf, n, "%.0f", (double)r * scale);
	} else {
		snprintf(buf, n, "%.*f", 2 - e, v);
	}
	return buf;
}

/* ------------------------------------------------------------ state */

struct bstate {
	/* usermm side */
	struct um_system *sys;
	struct um_proc *p;
	uint64_t upage;
	uint64_t ua; /* the case's mapping, 0: none */
	/* kernel side */
	unsigned char *ka; /* the case's mapping, NULL: none */
	/* both */
	uint64_t len;	 /* bytes of the case's mapping */
	uint64_t npages; /* pages in it */
	uint64_t gen;	 /* cow: the byte value the next pass writes */
	uint64_t idx;	 /* load-miss: next page */
};

typedef int (*setup_fn)(struct bstate *s);
typedef int (*batch_fn)(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns);

enum target_kind {
	T_NONE,
	T_VS_KERNEL, /* usermm / kernel <= x */
	T_VS_MEMSET, /* usermm / memset 4 KiB <= x */
	T_VS_MEMCPY, /* usermm / memcpy 4 KiB <= x */
	T_NS,	     /* usermm ns <= x */
	T_REF,	     /* a host reference row */
};

struct bcase {
	const char *name;
	const char *what;
	setup_fn k_setup;
	batch_fn k_batch;
	setup_fn u_setup;
	batch_fn u_batch;
	enum target_kind tk;
	double target;
};

/* ------------------------------------------------------------ kernel helpers */

static int k_map(struct bstate *s, uint64_t len)
{
	void *a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED)
		return kfail("mmap(NULL, %" PRIu64 ", PROT_READ|PROT_WRITE, "
			     "MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)",
			     len);
	/* 4 KiB pages on both sides; EINVAL: a kernel without THP. */
	if (madvise(a, len, MADV_NOHUGEPAGE) != 0 && errno != EINVAL) {
		int r = kfail("madvise(%p, %" PRIu64 ", MADV_NOHUGEPAGE)", a, len);
		munmap(a, len);
		return r;
	}
	s->ka = a;
	s->len = len;
	s->npages = len / (uint64_t)g_kpage;
	return 0;
}

static int k_unmap(struct bstate *s)
{
	if (!s->ka)
		return 0;
	void *a = s->ka;
	s->ka = NULL;
	if (munmap(a, s->len) != 0)
		return kfail("munmap(%p, %" PRIu64 ")", a, s->len);
	return 0;
}

/* Writes the first 8 bytes of every page: page index << 8 (low byte 0). */
static void k_fill(struct bstate *s)
{
	for (uint64_t i = 0; i < s->npages; i++)
		*(volatile uint64_t *)(s->ka + i * (uint64_t)g_kpage) = i << 8;
}

static uint64_t rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, rss = 0;
	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &rss) != 2)
		rss = 0;
	fclose(f);
	return (uint64_t)rss * (uint64_t)g_kpage;
}

/* ------------------------------------------------------------ usermm helpers */

static int u_map(struct bstate *s, uint64_t len, uint64_t *addr)
{
	int64_t a = um_mmap(s->p, 0, len, UM_PROT_READ | UM_PROT_WRITE,
			    UM_MAP_PRIVATE | UM_MAP_ANONYMOUS, -1, 0);
	if (a < 0)
		return ufail(a, NULL,
			     "um_mmap(p, 0, %" PRIu64 ", PROT_READ|PROT_WRITE, "
			     "MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)",
			     len);
	if (a == 0 || (uint64_t)a % s->upage != 0)
		return uwrong("um_mmap(p, 0, %" PRIu64 ", RW, PRIVATE|ANON) returned 0x%" PRIx64
			      ", not a page-aligned address",
			      len, (uint64_t)a);
	*addr = (uint64_t)a;
	return 0;
}

static int u_map_case(struct bstate *s, uint64_t len)
{
	if (u_map(s, len, &s->ua) != 0)
		return -1;
	s->len = len;
	s->npages = len / s->upage;
	return 0;
}

/* Writes the first 8 bytes of every page (page index << 8) and reads them back. */
static int u_fill(struct bstate *s)
{
	struct um_siginfo si;
	for (uint64_t i = 0; i < s->npages; i++) {
		uint64_t a = s->ua + i * s->upage;
		int rc = um_store(s->p, a, 8, i << 8, &si);
		if (rc != 0)
			return ufail(rc, &si, "um_store(p, 0x%" PRIx64 ", 8, ...)", a);
	}
	for (uint64_t i = 0; i < s->npages; i++) {
		uint64_t a = s->ua + i * s->upage, v = ~0ULL;
		int rc = um_load(s->p, a, 8, &v, &si);
		if (rc != 0)
			return ufail(rc, &si, "um_load(p, 0x%" PRIx64 ", 8, ...)", a);
		if (v != i << 8)
			return uwrong("um_load(p, 0x%" PRIx64 ", 8) read 0x%" PRIx64
				      " after um_store of 0x%" PRIx64,
				      a, v, i << 8);
	}
	return 0;
}

/* ------------------------------------------------------------ reference rows */

static unsigned char g_buf[2][4096] __attribute__((aligned(4096)));

static int ref_memset(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	(void)s;
	unsigned char *d = g_buf[0];
	uint64_t t0 = now_ns();
	for (uint64_t i = 0; i < n; i++) {
		memset(d, (int)(i & 0xff), 4096);
		__asm__ __volatile__("" : : "r"(d) : "memory");
	}
	*ns = now_ns() - t0;
	*ops = n;
	g_sink += d[100];
	return 0;
}

static int ref_memcpy(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	(void)s;
	unsigned char *d = g_buf[0], *src = g_buf[1];
	uint64_t t0 = now_ns();
	for (uint64_t i = 0; i < n; i++) {
		memcpy(d, src, 4096);
		__asm__ __volatile__("" : : "r"(d), "r"(src) : "memory");
	}
	*ns = now_ns() - t0;
	*ops = n;
	g_sink += d[100];
	return 0;
}

/*
 * The same 4 KiB memset and memcpy, but sweeping a region as large as the
 * fault and cow cases' (pre-faulted, so no fault is timed): the cost of
 * zeroing or copying a page that is not in the cache, which a fault over
 * 256 MiB must pay on either side.
 */
static int ref_sweep_setup(struct bstate *s)
{
	if (k_map(s, 2 * g_region) != 0)
		return -1;
	memset(s->ka, 1, 2 * g_region);
	s->npages = g_region / 4096; /* 4 KiB units in each half */
	s->idx = 0;
	return 0;
}

static int ref_memset_sweep(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	unsigned char *b = s->ka;
	uint64_t idx = s->idx, np = s->npages;
	uint64_t t0 = now_ns();
	for (uint64_t i = 0; i < n; i++) {
		unsigned char *d = b + idx * 4096;
		memset(d, (int)(i & 0xff), 4096);
		__asm__ __volatile__("" : : "r"(d) : "memory");
		if (++idx == np)
			idx = 0;
	}
	*ns = now_ns() - t0;
	*ops = n;
	s->idx = idx;
	g_sink += b[100];
	return 0;
}

static int ref_memcpy_sweep(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	unsigned char *src = s->ka, *dst = s->ka + g_region;
	uint64_t idx = s->idx, np = s->npages;
	uint64_t t0 = now_ns();
	for (uint64_t i = 0; i < n; i++) {
		unsigned char *d = dst + idx * 4096, *sr = src + idx * 4096;
		memcpy(d, sr, 4096);
		__asm__ __volatile__("" : : "r"(d), "r"(sr) : "memory");
		if (++idx == np)
			idx = 0;
	}
	*ns = now_ns() - t0;
	*ops = n;
	s->idx = idx;
	g_sink += dst[100];
	return 0;
}

/* ------------------------------------------------------------ mmap+munmap */

static int k_mmap_n(uint64_t pages, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	uint64_t len = pages * (uint64_t)g_kpage;
	uint64_t t0 = now_ns();
	for (uint64_t i = 0; i < n; i++) {
		void *a =
		    mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (a == MAP_FAILED)
			return kfail("mmap(NULL, %" PRIu64 ", RW, PRIVATE|ANON)", len);
		if (munmap(a, len) != 0)
			return kfail("munmap(%p, %" PRIu64 ")", a, len);
	}
	*ns = now_ns() - t0;
	*ops = n;
	return 0;
}

static int u_mmap_n(struct bstate *s, uint64_t pages, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	uint64_t len = pages * s->upage;
	uint64_t t0 = now_ns();
	for (uint64_t i = 0; i < n; i++) {
		int64_t a = um_mmap(s->p, 0, len, UM_PROT_READ | UM_PROT_WRITE,
				    UM_MAP_PRIVATE | UM_MAP_ANONYMOUS, -1, 0);
		if (a < 0)
			return ufail(a, NULL,
				     "um_mmap(p, 0, %" PRIu64 ", PROT_READ|PROT_WRITE, "
				     "MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) (op %" PRIu64 ")",
				     len, i);
		int rc = um_munmap(s->p, (uint64_t)a, len);
		if (rc != 0)
			return ufail(rc, NULL, "um_munmap(p, 0x%" PRIx64 ", %" PRIu64 ")",
				     (uint64_t)a, len);
	}
	*ns = now_ns() - t0;
	*ops = n;
	return 0;
}

static int k_mmap1(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	(void)s;
	return k_mmap_n(1, n, ops, ns);
}

static int k_mmap16(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	(void)s;
	return k_mmap_n(16, n, ops, ns);
}

static int u_mmap1(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	return u_mmap_n(s, 1, n, ops, ns);
}

static int u_mmap16(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	return u_mmap_n(s, 16, n, ops, ns);
}

/* ------------------------------------------------------------ mprotect split + merge */

/* A 3-page mapping, every page written. */
static int k_mprot_setup(struct bstate *s)
{
	if (k_map(s, 3 * (uint64_t)g_kpage) != 0)
		return -1;
	k_fill(s);
	return 0;
}

static int k_mprot(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	unsigned char *mid = s->ka + g_kpage;
	size_t pg = (size_t)g_kpage;
	uint64_t t0 = now_ns();
	for (uint64_t i = 0; i < n; i++) {
		if (mprotect(mid, pg, PROT_READ) != 0)
			return kfail("mprotect(%p, %zu, PROT_READ)", (void *)mid, pg);
		if (mprotect(mid, pg, PROT_READ | PROT_WRITE) != 0)
			return kfail("mprotect(%p, %zu, PROT_READ|PROT_WRITE)", (void *)mid, pg);
	}
	*ns = now_ns() - t0;
	*ops = n;
	return 0;
}

static int u_mprot_setup(struct bstate *s)
{
	struct um_proc_stats st;
	if (u_map_case(s, 3 * s->upage) != 0 || u_fill(s) != 0)
		return -1;
	um_proc_stats(s->p, &st);
	if (st.map_count != 1)
		return uwrong("after one um_mmap of 3 pages, um_proc_stats map_count is %" PRIu64
			      ", expected 1",
			      st.map_count);
	return 0;
}

static int u_mprot(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	uint64_t mid = s->ua + s->upage;
	struct um_proc_stats st;
	uint64_t t0 = now_ns();
	for (uint64_t i = 0; i < n; i++) {
		int rc = um_mprotect(s->p, mid, s->upage, UM_PROT_READ);
		if (rc != 0)
			return ufail(rc, NULL,
				     "um_mprotect(p, 0x%" PRIx64 ", %" PRIu64
				     ", PROT_READ) (op %" PRIu64 ")",
				     mid, s->upage, i);
		rc = um_mprotect(s->p, mid, s->upage, UM_PROT_READ | UM_PROT_WRITE);
		if (rc != 0)
			return ufail(rc, NULL,
				     "um_mprotect(p, 0x%" PRIx64 ", %" PRIu64
				     ", PROT_READ|PROT_WRITE) (op %" PRIu64 ")",
				     mid, s->upage, i);
	}
	*ns = now_ns() - t0;
	*ops = n;
	/* Linux splits into 3 VMAs and merges back into 1: so must usermm. */
	um_proc_stats(s->p, &st);
	if (st.map_count != 1)
		return uwrong("after um_mprotect(mid page, PROT_READ) then back to "
			      "PROT_READ|PROT_WRITE, map_count is %" PRIu64
			      ", expected 1 (Linux merges the VMAs back)",
			      st.map_count);
	return 0;
}

/* ------------------------------------------------------------ first-touch faults */

static int k_fault(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	uint64_t total = 0, pg = (uint64_t)g_kpage;
	for (uint64_t k = 0; k < n; k++) {
		if (k_map(s, g_region) != 0)
			return -1;
		unsigned char *b = s->ka;
		uint64_t np = s->npages;
		uint64_t t0 = now_ns();
		for (uint64_t i = 0; i < np; i++)
			*(volatile uint64_t *)(b + i * pg) = i;
		total += now_ns() - t0;
		if (k_unmap(s) != 0)
			return -1;
	}
	*ns = total;
	*ops = n * (g_region / pg);
	return 0;
}

static int u_fault(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	uint64_t total = 0;
	struct um_siginfo si;
	struct um_proc_stats st;
	for (uint64_t k = 0; k < n; k++) {
		uint64_t a;
		if (u_map(s, g_region, &a) != 0)
			return -1;
		uint64_t np = g_region / s->upage, pg = s->upage;
		uint64_t t0 = now_ns();
		for (uint64_t i = 0; i < np; i++) {
			int rc = um_store(s->p, a + i * pg, 8, i, &si);
			if (rc != 0)
				return ufail(rc, &si, "um_store(p, 0x%" PRIx64 ", 8, ...)",
					     a + i * pg);
		}
		total += now_ns() - t0;
		um_proc_stats(s->p, &st);
		if (st.rss_anon != g_region)
			return uwrong("after um_store to each of %" PRIu64
				      " pages of a fresh mapping, rss_anon is %" PRIu64
				      " bytes, expected %" PRIu64,
				      np, st.rss_anon, g_region);
		int rc = um_munmap(s->p, a, g_region);
		if (rc != 0)
			return ufail(rc, NULL, "um_munmap(p, 0x%" PRIx64 ", %" PRIu64 ")", a,
				     g_region);
	}
	*ns = total;
	*ops = n * (g_region / s->upage);
	return 0;
}

/* ------------------------------------------------------------ fork */

static int k_region_setup(struct bstate *s)
{
	if (k_map(s, g_region) != 0)
		return -1;
	k_fill(s);
	return 0;
}

static int u_region_setup(struct bstate *s)
{
	if (u_map_case(s, g_region) != 0)
		return -1;
	return u_fill(s);
}

static int k_wait(pid_t pid)
{
	int st;
	pid_t r;
	do
		r = waitpid(pid, &st, 0);
	while (r < 0 && errno == EINTR);
	if (r != pid)
		return kfail("waitpid(%d)", (int)pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(g_err, sizeof g_err, "fork child %d ended with wait status 0x%x", (int)pid,
			 st);
		return -1;
	}
	return 0;
}

static uint64_t g_fork_rss; /* bench process RSS when the kernel's fork was measured */

static int k_fork_setup(struct bstate *s)
{
	if (k_region_setup(s) != 0)
		return -1;
	g_fork_rss = rss_bytes();
	return 0;
}

static int k_fork(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	(void)s;
	fflush(NULL); /* no stdio buffer is duplicated into the child */
	uint64_t t0 = now_ns();
	for (uint64_t i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0)
			return kfail("fork()");
		if (pid == 0)
			_exit(0);
		if (k_wait(pid) != 0)
			return -1;
	}
	*ns = now_ns() - t0;
	*ops = n;
	return 0;
}

static int u_fork(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	uint64_t t0 = now_ns();
	for (uint64_t i = 0; i < n; i++) {
		struct um_proc *c = NULL;
		int rc = um_fork(s->p, &c);
		if (rc != 0)
			return ufail(rc, NULL, "um_fork(p, &child) (op %" PRIu64 ")", i);
		if (!c)
			return uwrong("um_fork(p, &child) returned 0 with child NULL");
		um_exit(c);
	}
	*ns = now_ns() - t0;
	*ops = n;
	return 0;
}

/* ------------------------------------------------------------ COW faults after fork */

static int k_cow(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	uint64_t total = 0, pg = (uint64_t)g_kpage;
	fflush(NULL);
	for (uint64_t k = 0; k < n; k++) {
		int fds[2];
		if (pipe(fds) != 0)
			return kfail("pipe()");
		pid_t pid = fork();
		if (pid < 0) {
			int r = kfail("fork()");
			close(fds[0]);
			close(fds[1]);
			return r;
		}
		if (pid == 0) {
			/* The child lives, touching nothing, until the parent is done. */
			char c;
			ssize_t r;
			close(fds[1]);
			do
				r = read(fds[0], &c, 1);
			while (r < 0 && errno == EINTR);
			_exit(r == 0 ? 0 : 3);
		}
		close(fds[0]);
		unsigned char *b = s->ka;
		uint64_t np = s->npages;
		unsigned char v = (unsigned char)s->gen;
		uint64_t t0 = now_ns();
		for (uint64_t i = 0; i < np; i++)
			*(volatile unsigned char *)(b + i * pg) = v;
		total += now_ns() - t0;
		s->gen++;
		close(fds[1]); /* EOF: the child exits */
		if (k_wait(pid) != 0)
			return -1;
	}
	*ns = total;
	*ops = n * s->npages;
	return 0;
}

static int u_cow_setup(struct bstate *s)
{
	s->gen = 1; /* u_fill left every page's low byte 0 */
	return u_region_setup(s);
}

static int k_cow_setup(struct bstate *s)
{
	s->gen = 1;
	return k_region_setup(s);
}

/* Page i's first 8 bytes in a process that last saw pass gen - 1. */
static uint64_t cow_expect(uint64_t i, uint64_t gen)
{
	return (i << 8) | ((gen - 1) & 0xff);
}

static int u_cow_check(struct bstate *s, struct um_proc *child)
{
	uint64_t probe[3] = {0, s->npages / 2, s->npages - 1};
	struct um_siginfo si;
	for (int j = 0; j < 3; j++) {
		uint64_t i = probe[j], a = s->ua + i * s->upage, v = 0;
		int rc = um_load(child, a, 8, &v, &si);
		if (rc != 0)
			return ufail(rc, &si, "um_load(child, 0x%" PRIx64 ", 8, ...)", a);
		/* the child must still see what the parent had at fork */
		if (v != cow_expect(i, s->gen - 1))
			return uwrong("COW: after the parent's um_store(p, 0x%" PRIx64
				      ", 1, 0x%02" PRIx64 ") the child reads 0x%" PRIx64
				      ", expected 0x%" PRIx64,
				      a, (s->gen - 1) & 0xff, v, cow_expect(i, s->gen - 1));
		rc = um_load(s->p, a, 8, &v, &si);
		if (rc != 0)
			return ufail(rc, &si, "um_load(p, 0x%" PRIx64 ", 8, ...)", a);
		if (v != cow_expect(i, s->gen))
			return uwrong("COW: after um_store(p, 0x%" PRIx64 ", 1, 0x%02" PRIx64
				      ") the parent reads 0x%" PRIx64 ", expected 0x%" PRIx64,
				      a, (s->gen - 1) & 0xff, v, cow_expect(i, s->gen));
	}
	return 0;
}

static int u_cow(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	uint64_t total = 0;
	struct um_siginfo si;
	struct um_sys_stats st0, st1;
	for (uint64_t k = 0; k < n; k++) {
		struct um_proc *c = NULL;
		int rc = um_fork(s->p, &c);
		if (rc != 0)
			return ufail(rc, NULL, "um_fork(p, &child)");
		if (!c)
			return uwrong("um_fork(p, &child) returned 0 with child NULL");
		um_system_stats(s->sys, &st0);
		uint64_t np = s->npages, pg = s->upage, base = s->ua;
		uint64_t v = s->gen & 0xff;
		uint64_t t0 = now_ns();
		for (uint64_t i = 0; i < np; i++) {
			rc = um_store(s->p, base + i * pg, 1, v, &si);
			if (rc != 0) {
				ufail(rc, &si, "um_store(p, 0x%" PRIx64 ", 1, ...)", base + i * pg);
				um_exit(c);
				return -1;
			}
		}
		total += now_ns() - t0;
		s->gen++;
		um_system_stats(s->sys, &st1);
		rc = u_cow_check(s, c);
		um_exit(c);
		if (rc != 0)
			return -1;
		if (st1.cow_copies - st0.cow_copies != np)
			return uwrong("COW: %" PRIu64 " parent stores (one per page, child alive) "
				      "made cow_copies grow by %" PRIu64 ", expected %" PRIu64,
				      np, st1.cow_copies - st0.cow_copies, np);
	}
	*ns = total;
	*ops = n * s->npages;
	return 0;
}

/* ------------------------------------------------------------ loads */

#define HIT_PAGES 4

static int k_hit_setup(struct bstate *s)
{
	if (k_map(s, HIT_PAGES * (uint64_t)g_kpage) != 0)
		return -1;
	k_fill(s);
	return 0;
}

static int u_hit_setup(struct bstate *s)
{
	if (u_map_case(s, HIT_PAGES * s->upage) != 0)
		return -1;
	return u_fill(s);
}

/* Op i loads from page i % 4, at 8-byte slot (i / 4) % 512. */
static int k_hit(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	const unsigned char *b = s->ka;
	uint64_t pg = (uint64_t)g_kpage, sum = 0;
	uint64_t t0 = now_ns();
	for (uint64_t i = 0; i < n; i++) {
		uint64_t off = (i & (HIT_PAGES - 1)) * pg + (((i >> 2) & 511) << 3);
		sum += *(volatile const uint64_t *)(b + off);
	}
	*ns = now_ns() - t0;
	*ops = n;
	g_sink += sum;
	return 0;
}

static int u_hit(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	struct um_proc *p = s->p;
	uint64_t base = s->ua, pg = s->upage, sum = 0;
	struct um_siginfo si;
	uint64_t t0 = now_ns();
	for (uint64_t i = 0; i < n; i++) {
		uint64_t off = (i & (HIT_PAGES - 1)) * pg + (((i >> 2) & 511) << 3), v;
		int rc = um_load(p, base + off, 8, &v, &si);
		if (rc != 0)
			return ufail(rc, &si, "um_load(p, 0x%" PRIx64 ", 8, ...)", base + off);
		sum += v;
	}
	*ns = now_ns() - t0;
	*ops = n;
	g_sink += sum;
	return 0;
}

/* The same loads through the public header's inline hit path (um_load64_hit). */
static int u_hit_inline(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	struct um_proc *p = s->p;
	struct um_tlb *t = um_tlb_self();
	const uint64_t *gen = um_tlb_gen(p);
	uint64_t base = s->ua, pg = s->upage, sum = 0;
	struct um_siginfo si;
	uint64_t t0 = now_ns();
	for (uint64_t i = 0; i < n; i++) {
		uint64_t off = (i & (HIT_PAGES - 1)) * pg + (((i >> 2) & 511) << 3), v;
		if (um_load64_hit(t, gen, base + off, &v)) {
			int rc = um_load(p, base + off, 8, &v, &si);
			if (rc != 0)
				return ufail(rc, &si, "um_load(p, 0x%" PRIx64 ", 8, ...)", base + off);
		}
		sum += v;
	}
	*ns = now_ns() - t0;
	*ops = n;
	g_sink += sum;
	return 0;
}

static int k_miss_setup(struct bstate *s)
{
	if (k_map(s, g_miss_bytes) != 0)
		return -1;
	k_fill(s);
	s->idx = 0;
	return 0;
}

static int u_miss_setup(struct bstate *s)
{
	s->idx = 0;
	if (u_map_case(s, g_miss_bytes) != 0)
		return -1;
	return u_fill(s);
}

/* Op i loads the first 8 bytes of page i % npages: every load on another page. */
static int k_miss(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	const unsigned char *b = s->ka;
	uint64_t pg = (uint64_t)g_kpage, np = s->npages, idx = s->idx, sum = 0;
	uint64_t t0 = now_ns();
	for (uint64_t i = 0; i < n; i++) {
		sum += *(volatile const uint64_t *)(b + idx * pg);
		if (++idx == np)
			idx = 0;
	}
	*ns = now_ns() - t0;
	*ops = n;
	s->idx = idx;
	g_sink += sum;
	return 0;
}

static int u_miss(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	struct um_proc *p = s->p;
	uint64_t base = s->ua, pg = s->upage, np = s->npages, idx = s->idx, sum = 0;
	struct um_siginfo si;
	uint64_t t0 = now_ns();
	for (uint64_t i = 0; i < n; i++) {
		uint64_t v;
		int rc = um_load(p, base + idx * pg, 8, &v, &si);
		if (rc != 0)
			return ufail(rc, &si, "um_load(p, 0x%" PRIx64 ", 8, ...)", base + idx * pg);
		sum += v;
		if (++idx == np)
			idx = 0;
	}
	*ns = now_ns() - t0;
	*ops = n;
	s->idx = idx;
	g_sink += sum;
	return 0;
}

/* ------------------------------------------------------------ the cases */

static struct bcase g_cases[] = {
    {"memset", "memset 4 KiB, hot buffer (host reference)", NULL, ref_memset, NULL, NULL, T_REF, 0},
    {"memcpy", "memcpy 4 KiB, hot buffers (host reference)", NULL, ref_memcpy, NULL, NULL, T_REF,
     0},
    {"memset-sweep", "memset 4 KiB, sweeping the fault region size", ref_sweep_setup,
     ref_memset_sweep, NULL, NULL, T_REF, 0},
    {"memcpy-sweep", "memcpy 4 KiB, sweeping the cow region size", ref_sweep_setup,
     ref_memcpy_sweep, NULL, NULL, T_REF, 0},
    {"mmap1", "mmap+munmap 1 page, private anon rw", NULL, k_mmap1, NULL, u_mmap1, T_VS_KERNEL,
     0.1},
    {"mmap16", "mmap+munmap 16 pages, private anon rw", NULL, k_mmap16, NULL, u_mmap16, T_VS_KERNEL,
     0.1},
    {"mprotect", "mprotect mid of 3 pages to R, back to RW", k_mprot_setup, k_mprot, u_mprot_setup,
     u_mprot, T_NONE, 0},
    {"fault", "first-touch write fault, per page", NULL, k_fault, NULL, u_fault, T_VS_MEMSET, 2},
    {"fork", "fork+_exit+waitpid | um_fork+um_exit", k_fork_setup, k_fork, u_region_setup, u_fork,
     T_VS_KERNEL, 0.1},
    {"cow", "COW write fault after fork, per page", k_cow_setup, k_cow, u_cow_setup, u_cow,
     T_VS_MEMCPY, 2},
    {"load-hit", "8-byte load, TLB hit (4 pages)", k_hit_setup, k_hit, u_hit_setup, u_hit, T_NS, 3},
    {"load-inline", "8-byte load, TLB hit, inline um_load64_hit", k_hit_setup, k_hit,
     u_hit_setup, u_hit_inline, T_NS, 3},
    {"load-miss", "8-byte load, TLB miss (page stride)", k_miss_setup, k_miss, u_miss_setup, u_miss,
     T_NONE, 0},
};
#define NCASES ((int)(sizeof g_cases / sizeof g_cases[0]))

struct result {
	int ran;
	int k_ok, u_ok;
	double k_ns, u_ns;
};
static struct result g_res[NCASES];

/* ------------------------------------------------------------ the driver */

/*
 * Runs one operation as a warm-up (first use of memory, on either side,
 * can cost far more than steady state and must not set the batch size),
 * calibrates n so that one batch takes at least g_batch_ns, then keeps the
 * best of g_reps batches of n.
 */
static int measure(batch_fn fn, struct bstate *s, double *best)
{
	uint64_t n = 1, ops = 0, ns = 0;
	if (fn(s, 1, &ops, &ns) != 0)
		return -1;
	for (;;) {
		if (fn(s, n, &ops, &ns) != 0)
			return -1;
		if (ns >= g_batch_ns)
			break;
		uint64_t nn = ns ? (uint64_t)((double)n * 1.2 * (double)g_batch_ns / (double)ns) + 1
				 : n * 100;
		if (nn > n * 100)
			nn = n * 100;
		if (nn <= n)
			nn = n + 1;
		n = nn;
	}
	*best = -1;
	for (int r = 0; r < g_reps; r++) {
		if (fn(s, n, &ops, &ns) != 0)
			return -1;
		if (ops == 0) {
			snprintf(g_err, sizeof g_err, "a batch did no operation");
			return -1;
		}
		double v = (double)ns / (double)ops;
		if (*best < 0 || v < *best)
			*best = v;
	}
	return 0;
}

static int run_kernel(const struct bcase *c, double *res)
{
	struct bstate s;
	memset(&s, 0, sizeof s);
	int rc = 0;
	if (c->k_setup)
		rc = c->k_setup(&s);
	if (rc == 0)
		rc = measure(c->k_batch, &s, res);
	if (s.ka) {
		char keep[sizeof g_err];
		memcpy(keep, g_err, sizeof keep);
		if (k_unmap(&s) != 0 && rc == 0)
			rc = -1;
		else if (rc != 0)
			memcpy(g_err, keep, sizeof keep);
	}
	return rc;
}

static int u_machine(struct bstate *s)
{
	struct um_config cfg;
	um_config_init(&cfg);
	cfg.phys_bytes = g_phys;
	int rc = um_system_new(&cfg, &s->sys);
	if (rc != 0)
		return ufail(rc, NULL, "um_system_new(phys_bytes = %" PRIu64 ")", g_phys);
	if (!s->sys)
		return uwrong("um_system_new returned 0 with *out NULL");
	s->upage = um_page_size(s->sys);
	if (s->upage < 4096 || (s->upage & (s->upage - 1)))
		return uwrong("um_page_size returned %" PRIu64, s->upage);
	rc = um_proc_new(s->sys, &s->p);
	if (rc != 0)
		return ufail(rc, NULL, "um_proc_new(sys, &p)");
	if (!s->p)
		return uwrong("um_proc_new returned 0 with *out NULL");
	return 0;
}

/* The checks after a usermm case: invariants and frames left after teardown. */
static void u_after(const struct bcase *c, struct bstate *s, int measured_ok)
{
	char why[512];
	int rc;

	if (!s->sys)
		return;
	if (measured_ok) {
		why[0] = 0;
		rc = um_check(s->sys, why, sizeof why);
		if (rc != 0) {
			add_note("%s: um_check(sys) after the case returned %d (%s): %s", c->name,
				 rc, errname(-rc), why);
			g_bad = 1;
		}
	}
	if (measured_ok && s->ua) {
		rc = um_munmap(s->p, s->ua, s->len);
		if (rc != 0) {
			ufail(rc, NULL, "um_munmap(p, 0x%" PRIx64 ", %" PRIu64 ")", s->ua, s->len);
			add_note("%s: teardown: %s", c->name, g_err);
			g_bad = 1;
		}
	}
	if (measured_ok && s->p) {
		um_exit(s->p);
		s->p = NULL;
		struct um_sys_stats st;
		um_system_stats(s->sys, &st);
		if (st.nr_procs != 0 || st.frames_used != 0) {
			add_note("%s: after um_exit of every process, um_system_stats says "
				 "nr_procs %" PRIu64 ", frames_used %" PRIu64
				 " (expected 0 and 0: leaked frames?)",
				 c->name, st.nr_procs, st.frames_used);
			g_bad = 1;
		}
		why[0] = 0;
		rc = um_check(s->sys, why, sizeof why);
		if (rc != 0) {
			add_note("%s: um_check(sys) after um_exit returned %d (%s): %s", c->name,
				 rc, errname(-rc), why);
			g_bad = 1;
		}
	}
	um_system_free(s->sys);
	s->sys = NULL;
}

static int run_usermm(const struct bcase *c, double *res)
{
	struct bstate s;
	memset(&s, 0, sizeof s);
	int rc = u_machine(&s);
	if (rc == 0 && c->u_setup)
		rc = c->u_setup(&s);
	if (rc == 0)
		rc = measure(c->u_batch, &s, res);
	u_after(c, &s, rc == 0);
	return rc;
}

/* ------------------------------------------------------------ output */

static double ref_ns(const char *name)
{
	for (int i = 0; i < NCASES; i++)
		if (!strcmp(g_cases[i].name, name) && g_res[i].ran && g_res[i].k_ok)
			return g_res[i].k_ns;
	return -1;
}

static void print_row(int i)
{
	const struct bcase *c = &g_cases[i];
	const struct result *r = &g_res[i];
	char kb[32], ub[32], rb[32], tb[96];

	if (r->k_ok)
		sig3(kb, sizeof kb, r->k_ns);
	else
		snprintf(kb, sizeof kb, "FAILED");
	if (c->tk == T_REF) {
		printf("%-12s %-44s %12s %12s %13s  %s\n", c->name, c->what, kb, "-", "-",
		       "reference");
		fflush(stdout);
		return;
	}
	if (r->u_ok)
		sig3(ub, sizeof ub, r->u_ns);
	else
		snprintf(ub, sizeof ub, "FAILED");
	if (r->k_ok && r->u_ok && r->k_ns > 0)
		sig3(rb, sizeof rb, r->u_ns / r->k_ns);
	else
		snprintf(rb, sizeof rb, "-");

	double ref, sweep;
	switch (c->tk) {
	case T_VS_KERNEL:
		if (r->k_ok && r->u_ok && r->k_ns > 0)
			snprintf(tb, sizeof tb, "<= %gx kernel: %s", c->target,
				 r->u_ns / r->k_ns <= c->target ? "ok" : "MISSED");
		else
			snprintf(tb, sizeof tb, "<= %gx kernel: -", c->target);
		break;
	case T_VS_MEMSET:
	case T_VS_MEMCPY:
		ref = ref_ns(c->tk == T_VS_MEMSET ? "memset" : "memcpy");
		sweep = ref_ns(c->tk == T_VS_MEMSET ? "memset-sweep" : "memcpy-sweep");
		if (r->u_ok && ref > 0) {
			char y[32], z[48] = "";
			double m = r->u_ns / ref;
			if (sweep > 0) {
				char w[32];
				snprintf(z, sizeof z, " (%sx the sweep)",
					 sig3(w, sizeof w, r->u_ns / sweep));
			}
			snprintf(tb, sizeof tb, "<= %.0fx %s: %sx, %s%s", c->target,
				 c->tk == T_VS_MEMSET ? "memset" : "memcpy", sig3(y, sizeof y, m),
				 m <= c->target ? "ok" : "MISSED", z);
		} else {
			snprintf(tb, sizeof tb, "<= %.0fx %s: -", c->target,
				 c->tk == T_VS_MEMSET ? "memset" : "memcpy");
		}
		break;
	case T_NS:
		if (r->u_ok)
			snprintf(tb, sizeof tb, "<= %.0f ns: %s", c->target,
				 r->u_ns <= c->target ? "ok" : "MISSED");
		else
			snprintf(tb, sizeof tb, "<= %.0f ns: -", c->target);
		break;
	default:
		snprintf(tb, sizeof tb, "-");
		break;
	}
	printf("%-12s %-44s %12s %12s %13s  %s\n", c->name, c->what, kb, ub, rb, tb);
	fflush(stdout);
}

static void print_machine(void)
{
	char model[256] = "unknown CPU";
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (f) {
		char line[512];
		while (fgets(line, sizeof line, f)) {
			if (!strncmp(line, "model name", 10)) {
				char *p = strchr(line, ':');
				if (p) {
					p++;
					while (*p == ' ' || *p == '\t')
						p++;
					p[strcspn(p, "\n")] = 0;
					snprintf(model, sizeof model, "%s", p);
				}
				break;
			}
		}
		fclose(f);
	}
	struct utsname u;
	const char *rel = uname(&u) == 0 ? u.release : "?";
	printf("machine: %s, %ld CPUs online, Linux %s, kernel page size %ld\n", model,
	       sysconf(_SC_NPROCESSORS_ONLN), rel, g_kpage);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: mmbench [--quick] [CASE-PREFIX...]\n"
		   "  --quick   smoke run: tiny sizes and short batches (a few seconds)\n"
		   "  CASE-PREFIX runs only the cases whose name starts with it;\n"
		   "  memset and memcpy (the references) always run.\n"
		   "cases:");
	for (int i = 0; i < NCASES; i++)
		fprintf(f, " %s", g_cases[i].name);
	fprintf(f, "\n");
}

int main(int argc, char **argv)
{
	int nfilt = 0;
	int sel[NCASES];

	g_kpage = sysconf(_SC_PAGESIZE);
	if (g_kpage < 4096) {
		fprintf(stderr, "mmbench: sysconf(_SC_PAGESIZE) returned %ld\n", g_kpage);
		return 1;
	}
	for (int i = 0; i < NCASES; i++)
		sel[i] = 0;
	for (int a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--quick")) {
			g_quick = 1;
		} else if (!strcmp(argv[a], "--help") || !strcmp(argv[a], "-h")) {
			usage(stdout);
			return 0;
		} else if (argv[a][0] == '-') {
			fprintf(stderr, "mmbench: unknown option %s\n", argv[a]);
			usage(stderr);
			return 2;
		} else {
			int hit = 0;
			size_t l = strlen(argv[a]);
			for (int i = 0; i < NCASES; i++)
				if (!strncmp(g_cases[i].name, argv[a], l)) {
					sel[i] = 1;
					hit = 1;
				}
			if (!hit) {
				fprintf(stderr, "mmbench: no case matches '%s'\n", argv[a]);
				usage(stderr);
				return 2;
			}
			nfilt++;
		}
	}
	for (int i = 0; i < NCASES; i++)
		if (nfilt == 0 || g_cases[i].tk == T_REF)
			sel[i] = 1;
	if (g_quick) {
		g_batch_ns = UINT64_C(4000000); /* 4 ms */
		g_region = 4 * MIB;
		g_miss_bytes = 4 * MIB; /* 1024 pages: 4x a 256-entry TLB */
	}

	printf("mmbench: usermm vs the Linux kernel, same operations, ns per op%s\n",
	       g_quick ? " (--quick: tiny sizes, short batches; not for publishing)" : "");
	print_machine();

	/* The frame descriptor size, from a machine of its own. */
	struct bstate s0;
	memset(&s0, 0, sizeof s0);
	uint64_t fdesc = 0;
	if (u_machine(&s0) != 0) {
		fprintf(stderr, "mmbench: cannot set up a usermm machine: %s\n", g_err);
		if (s0.sys)
			um_system_free(s0.sys);
		return 1;
	}
	{
		struct um_sys_stats st;
		um_system_stats(s0.sys, &st);
		fdesc = st.frame_desc_bytes;
		printf("usermm: phys_bytes %" PRIu64 " MiB (%" PRIu64 " frames), page size %" PRIu64
		       ", frame descriptor %" PRIu64 " bytes (target <= 32: %s)\n",
		       g_phys / MIB, st.frames_total, s0.upage, fdesc,
		       fdesc <= 32 ? "ok" : "MISSED");
		if (fdesc == 0 || st.frames_total == 0) {
			add_note("um_system_stats: frame_desc_bytes %" PRIu64
				 ", frames_total %" PRIu64 " (expected non-zero)",
				 fdesc, st.frames_total);
			g_bad = 1;
		}
		um_exit(s0.p);
		um_system_free(s0.sys);
	}
	printf("timing: CLOCK_MONOTONIC; one warm-up op, then batches calibrated to run "
	       ">= %.3g s each; best of %d batches\n",
	       (double)g_batch_ns / 1e9, g_reps);
	printf("sizes: fault/fork/cow over %" PRIu64 " MiB written; load-miss over %" PRIu64
	       " MiB with page stride; load-hit over %d pages\n",
	       g_region / MIB, g_miss_bytes / MIB, HIT_PAGES);
	printf("\n%-12s %-44s %12s %12s %13s  %s\n", "case", "one op", "kernel ns", "usermm ns",
	       "usermm/kernel", "target");

	for (int i = 0; i < NCASES; i++) {
		const struct bcase *c = &g_cases[i];
		struct result *r = &g_res[i];
		if (!sel[i])
			continue;
		r->ran = 1;
		g_err[0] = 0;
		r->k_ok = run_kernel(c, &r->k_ns) == 0;
		if (!r->k_ok) {
			add_note("%s: kernel side failed: %s", c->name, g_err);
			g_bad = 1;
		}
		if (c->u_batch) {
			g_err[0] = 0;
			r->u_ok = run_usermm(c, &r->u_ns) == 0;
			if (!r->u_ok) {
				add_note("%s: usermm side failed (library bug?): %s", c->name,
					 g_err);
				g_bad = 1;
			}
		}
		print_row(i);
	}

	printf("\nnotes:\n");
	printf("  ns per op, 3 significant figures; kernel = the same operations as Linux "
	       "system calls\n  (or plain loads/stores); memset/memcpy rows are host "
	       "references shown in the kernel column.\n");
	printf("  fork: kernel = fork() + child _exit(0) + parent waitpid(); usermm = um_fork() + "
	       "um_exit(child).\n");
	if (g_fork_rss)
		printf("  fork: the bench process had %" PRIu64
		       " MiB resident when the kernel's fork was measured.\n",
		       g_fork_rss / MIB);
	printf("  fault/cow: per page; kernel stores 8 bytes (fault) or 1 byte (cow) per page, "
	       "usermm um_store\n  of the same size; cow writes in the parent while the child "
	       "lives. Kernel regions: MADV_NOHUGEPAGE.\n");
	printf("  targets for fault/cow: against the hot 4 KiB memset/memcpy (the issue's "
	       "reference); the\n  -sweep rows do the same 4 KiB memset/memcpy page after page "
	       "over a region as large as\n  the fault/cow region (out of cache, as a fault "
	       "over that region must be).\n");
	printf("  load-miss: the kernel side also misses the hardware TLB's L1; the ratio is "
	       "expected to be large.\n");
	if (g_nnotes) {
		printf("\nproblems:\n");
		for (int i = 0; i < g_nnotes; i++)
			printf("  %s\n", g_notes[i].text);
	}
	g_sink += 0;
	printf("\ncommand:");
	for (int a = 0; a < argc; a++)
		printf(" %s", argv[a]);
	printf("\n");
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("mmbench: stdout");
		return 1;
	}
	return g_bad ? 1 : 0;
}
