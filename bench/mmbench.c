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
 * The file cases (rfault-*, wfault-*, msync*, read-seq) work on a file of
 * their own on each side, written and fsync'ed in the set-up: the
 * kernel's in a temporary directory, usermm's in the machine's sandbox,
 * both under $TMPDIR or /tmp (one file system). See "files" below.
 *
 * hugefault maps MAP_HUGETLB on both sides: the kernel side sizes the
 * machine's huge page pool (vm.nr_hugepages) for the case and puts it back;
 * see "hugetlb" below.
 *
 * reclaim-clean and reclaim-dirty reclaim that file from the page cache:
 * the kernel side in a memory cgroup of its own (tools/usermm/memcg.c),
 * else by posix_fadvise. seq-1g and rand-1g read a 1 GiB file through
 * 64 MiB (usermm phys_bytes; the kernel in a 64 MiB memory cgroup) and run
 * only when named. See "reclaim" and "a big file through little memory".
 *
 * reclaim-anon (MADV_PAGEOUT of written anonymous pages) and swapin (the
 * paged-out region read back) run only when named in full, or with --swap:
 * their kernel side, as root, swaps on a file in /var/tmp for the case,
 * swapped off and removed after it, at exit and on SIGINT/SIGTERM/SIGHUP;
 * vm.page-cluster is pinned to 3 for it. The default run never touches the
 * host's swap. See "swap".
 *
 * Exit status: 0 when every case ran and every check passed, 1 when a case
 * failed or a check found a library bug (reported after the table), 2 on a
 * usage error. A side that this machine cannot run (hugefault's kernel side
 * without root or without memory for the pool; the swap cases' kernel side
 * without root, where swapon fails, or swapin's without a memory cgroup) is
 * reported under "not run:" and does not change the exit status.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/swap.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "memcg.h" /* tools/usermm: the kernel side's memory cgroup */
#include "usermm.h"

#define MIB (UINT64_C(1024) * UINT64_C(1024))
#define GIB (UINT64_C(1024) * MIB)

/* ------------------------------------------------------------ settings */

static int g_quick;
static uint64_t g_batch_ns = UINT64_C(200000000); /* one batch runs at least this */
static uint64_t g_case_batch_ns;		  /* the current case's: see case_batch_ns */
static uint64_t g_region = 256 * MIB;		  /* fault, fork, cow */
static uint64_t g_miss_bytes = 64 * MIB;	  /* load-miss */
static uint64_t g_file_bytes = 256 * MIB;	  /* the file cases' file */
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
static struct note g_notrun[8]; /* sides of cases this machine cannot run, and why */
static int g_nnotrun;
static int g_bad; /* a case failed or a check found a bug */

static void vadd_note(struct note *v, int cap, int *n, const char *fmt, va_list ap)
{
	if (*n >= cap)
		return;
	vsnprintf(v[*n].text, sizeof v[0].text, fmt, ap);
	(*n)++;
}

/* A problem: a case failed or a check found a bug (listed under "problems:"). */
static void add_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void add_note(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vadd_note(g_notes, (int)(sizeof g_notes / sizeof g_notes[0]), &g_nnotes, fmt, ap);
	va_end(ap);
}

/* A side that this machine cannot run (listed under "not run:", not a problem). */
static void add_notrun(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void add_notrun(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vadd_note(g_notrun, (int)(sizeof g_notrun / sizeof g_notrun[0]), &g_nnotrun, fmt, ap);
	va_end(ap);
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
	/* file cases */
	int kfile; /* kfd is open on the kernel side's file */
	int kfd;
	int ufile; /* ufd is open on the usermm side's file */
	int ufd;
	int hfd;	/* usermm side: the host file behind ufd, read-only, or -1 */
	int shared;	/* rfault: map shared */
	uint64_t dirty; /* msync: pages dirtied per op */
	/* mremap moves: the populated mapping is at mv_from and moves to mv_to */
	uint64_t mv_from, mv_to, mv_len;
	unsigned char *vec; /* mincore: one byte per page, freed after the case */
	/* what a batch reports besides its time (ns of a part, a count), per op in best_aux */
	uint64_t aux[2];
	double best_aux[2];
	/* hugefault */
	uint32_t nr_huge; /* usermm side: um_config.nr_hugepages of the case's machine */
	struct kpool {	  /* kernel side: the huge page pool (k_huge_setup) */
		int fd;	  /* HUGETLB_LOCK, locked exclusive, when locked is set */
		int locked;
		int set;  /* nr_hugepages was written: old goes back after the case */
		long old; /* nr_hugepages before the case */
		long nr;  /* the pool the case runs with */
	} pool;
	int skip; /* the kernel side cannot run on this machine (g_err says why) */
	/* usermm side: the case's machine, when not the default one */
	uint64_t phys;	     /* phys_bytes, 0: g_phys */
	const char *sandbox; /* sandbox_dir, NULL: a fresh one */
	int big;	     /* seq-1g, rand-1g: hfd is open on the shared file */
	int rnd;	     /* rand-1g: pages in random order, MADV_RANDOM */
	uint64_t swap;	     /* swap_bytes of the case's machine (reclaim-anon, swapin) */
	int swapin;	     /* swapin: the pass reads the paged-out region back (timed) */
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
				return ufail(rc, &si, "um_load(p, 0x%" PRIx64 ", 8, ...)",
					     base + off);
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

/* ------------------------------------------------------------ files */

/*
 * The file cases work on one file of g_file_bytes on each side, written
 * and fsync'ed in the case's set-up (outside the clock), so the data is on
 * the disk and in the page cache: the kernel's file in a temporary
 * directory of its own (g_kdir), usermm's in its machine's sandbox
 * (um_sandbox_dir), both under $TMPDIR or /tmp, so on one file system.
 *
 * The content, in 4 KiB units: unit i starts with the 8-byte word
 * file_word(i), the rest of it is 0xa5.
 */
#define FILE_NAME "mmbench.dat"
#define RD_BUF	  (128 * 1024) /* read-seq buffer; also the chunk the set-up writes */

static char g_kdir[512];       /* the kernel side's directory, "" while none */
static char g_kpath[600];      /* the kernel side's file, "" while none */
static char g_udir[512];       /* the last usermm sandbox, for the notes */
static int g_same_fs = -1;     /* 1: g_kdir and the sandbox are on one file system */
static long g_kfs_type;	       /* statfs f_type of g_kdir */
static unsigned char *g_rdbuf; /* RD_BUF bytes, page aligned */
/*
 * The size of the write() calls that make the kernel side's file. The
 * kernel sizes page-cache folios by the write where the file system has
 * large folios (ext4 on this kernel does), and a fault maps a whole cached
 * folio: 4 KiB writes give 4 KiB folios, like usermm's 4 KiB page cache,
 * and the 16-page fault-around of the issue; --large-folios writes RD_BUF
 * at a time (measured here: 32 pages mapped per read or shared write fault).
 */
static uint64_t g_kwrite = 4096;

/* Minor and major faults of the last timed pass of a fault case, per side. */
struct pass_faults {
	int set;
	uint64_t minflt, majflt, pages;
};
static struct pass_faults g_pf[2]; /* 0: kernel, 1: usermm */

static uint64_t file_word(uint64_t unit)
{
	return (unit << 8) | 0x5a;
}

/* The file's bytes from 4 KiB unit first on, len bytes (a multiple of 4 KiB). */
static void file_chunk(unsigned char *buf, uint64_t len, uint64_t first)
{
	memset(buf, 0xa5, len);
	for (uint64_t j = 0; j < len / 4096; j++) {
		uint64_t w = file_word(first + j);
		memcpy(buf + j * 4096, &w, 8);
	}
}

static int rdbuf_get(void)
{
	if (g_rdbuf)
		return 0;
	void *b = mmap(NULL, RD_BUF, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b == MAP_FAILED)
		return kfail("mmap(NULL, %d, RW, PRIVATE|ANON) for the read buffer", RD_BUF);
	memset(b, 0, RD_BUF);
	g_rdbuf = b;
	return 0;
}

static const char *fs_name(long t)
{
	switch ((unsigned long)t) {
	case 0xEF53:
		return "ext4";
	case 0x01021994:
		return "tmpfs";
	case 0x9123683E:
		return "btrfs";
	case 0x58465342:
		return "xfs";
	case 0x794c7630:
		return "overlayfs";
	default:
		return "?";
	}
}

static int k_dir(void)
{
	if (g_kdir[0])
		return 0;
	const char *base = getenv("TMPDIR");
	snprintf(g_kdir, sizeof g_kdir, "%s/mmbench.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(g_kdir)) {
		int r = kfail("mkdtemp(\"%s\")", g_kdir);
		g_kdir[0] = 0;
		return r;
	}
	struct statfs sf;
	if (statfs(g_kdir, &sf) == 0)
		g_kfs_type = (long)sf.f_type;
	return 0;
}

static void k_dir_remove(void)
{
	if (g_kdir[0])
		rmdir(g_kdir);
	g_kdir[0] = 0;
}

static int k_file_setup(struct bstate *s)
{
	char path[600];
	uint64_t pg = (uint64_t)g_kpage;

	if (k_dir() != 0 || rdbuf_get() != 0)
		return -1;
	snprintf(path, sizeof path, "%s/" FILE_NAME, g_kdir);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return kfail("open(\"%s\", O_RDWR|O_CREAT|O_TRUNC)", path);
	snprintf(g_kpath, sizeof g_kpath, "%s", path);
	s->kfd = fd;
	s->kfile = 1;
	for (uint64_t off = 0; off < g_file_bytes; off += RD_BUF) {
		file_chunk(g_rdbuf, RD_BUF, off / 4096);
		for (uint64_t o = 0; o < RD_BUF; o += g_kwrite) {
			ssize_t w = pwrite(fd, g_rdbuf + o, g_kwrite, (off_t)(off + o));
			if (w < 0)
				return kfail("pwrite(fd, buf, %" PRIu64 ", %" PRIu64 ")", g_kwrite,
					     off + o);
			if (w != (ssize_t)g_kwrite) {
				snprintf(g_err, sizeof g_err,
					 "pwrite(fd, buf, %" PRIu64 ", %" PRIu64 ") returned %zd",
					 g_kwrite, off + o, w);
				return -1;
			}
		}
	}
	if (fsync(fd) != 0)
		return kfail("fsync(fd)");
	/* The data must be in the page cache: check with mincore. */
	void *a = mmap(NULL, g_file_bytes, PROT_READ, MAP_SHARED, fd, 0);
	if (a == MAP_FAILED)
		return kfail("mmap(NULL, %" PRIu64 ", PROT_READ, MAP_SHARED, fd, 0)", g_file_bytes);
	uint64_t np = g_file_bytes / pg, in = 0;
	unsigned char *vec = malloc(np);
	if (vec && mincore(a, g_file_bytes, vec) == 0)
		for (uint64_t i = 0; i < np; i++)
			in += vec[i] & 1;
	free(vec);
	munmap(a, g_file_bytes);
	if (in != np)
		add_note("kernel: only %" PRIu64 " of %" PRIu64
			 " pages of the new file were in the page cache (mincore)",
			 in, np);
	s->len = g_file_bytes;
	s->npages = np;
	return 0;
}

/* Closes and removes the kernel side's file (its dirty pages are dropped, not written). */
static void k_file_close(struct bstate *s)
{
	if (s->kfile)
		close(s->kfd);
	s->kfile = 0;
	if (g_kpath[0])
		unlink(g_kpath);
	g_kpath[0] = 0;
}

/* Maps the kernel side's file: the whole of it, 4 KiB pages. */
static void *k_file_map(struct bstate *s, int prot, int flags)
{
	void *a = mmap(NULL, g_file_bytes, prot, flags, s->kfd, 0);
	if (a == MAP_FAILED) {
		kfail("mmap(NULL, %" PRIu64 ", prot %d, flags 0x%x, fd, 0)", g_file_bytes, prot,
		      flags);
		return NULL;
	}
	if (madvise(a, g_file_bytes, MADV_NOHUGEPAGE) != 0 && errno != EINVAL) {
		kfail("madvise(%p, %" PRIu64 ", MADV_NOHUGEPAGE)", a, g_file_bytes);
		munmap(a, g_file_bytes);
		return NULL;
	}
	return a;
}

static int k_file_unmap(void *a)
{
	if (munmap(a, g_file_bytes) != 0)
		return kfail("munmap(%p, %" PRIu64 ")", a, g_file_bytes);
	return 0;
}

static void k_faults(struct rusage *r)
{
	getrusage(RUSAGE_SELF, r);
}

static void pass_faults(int side, uint64_t minflt, uint64_t majflt, uint64_t pages)
{
	g_pf[side].set = 1;
	g_pf[side].minflt = minflt;
	g_pf[side].majflt = majflt;
	g_pf[side].pages = pages;
}

static int u_file_setup(struct bstate *s)
{
	struct um_stat st;
	struct um_sys_stats ss;
	char path[600];
	int64_t r;

	s->hfd = -1;
	if (rdbuf_get() != 0)
		return -1;
	int fd = um_open(s->p, FILE_NAME, UM_O_RDWR | UM_O_CREAT | UM_O_TRUNC | UM_O_CLOEXEC, 0600);
	if (fd < 0)
		return ufail(fd, NULL,
			     "um_open(p, \"" FILE_NAME "\", O_RDWR|O_CREAT|O_TRUNC, 0600)");
	s->ufd = fd;
	s->ufile = 1;
	for (uint64_t off = 0; off < g_file_bytes; off += RD_BUF) {
		file_chunk(g_rdbuf, RD_BUF, off / 4096);
		r = um_write(s->p, fd, g_rdbuf, RD_BUF);
		if (r != RD_BUF)
			return r < 0 ? ufail(r, NULL, "um_write(p, fd, buf, %d) at offset %" PRIu64,
					     RD_BUF, off)
				     : uwrong("um_write(p, fd, buf, %d) at offset %" PRIu64
					      " returned %" PRId64,
					      RD_BUF, off, r);
	}
	int rc = um_fsync(s->p, fd);
	if (rc != 0)
		return ufail(rc, NULL, "um_fsync(p, fd)");
	rc = um_fstat(s->p, fd, &st);
	if (rc != 0)
		return ufail(rc, NULL, "um_fstat(p, fd, &st)");
	if (st.st_size != g_file_bytes)
		return uwrong("after um_write of %" PRIu64 " bytes, um_fstat st_size is %" PRIu64,
			      g_file_bytes, st.st_size);
	/* The whole file is in usermm's page cache: one frame per page. */
	um_system_stats(s->sys, &ss);
	if (ss.frames_used < g_file_bytes / s->upage)
		return uwrong("after um_write of %" PRIu64
			      " bytes and um_fsync, frames_used is %" PRIu64
			      ", expected at least the file's %" PRIu64 " pages in the page cache",
			      g_file_bytes, ss.frames_used, g_file_bytes / s->upage);
	/* The host file behind it, to check what msync wrote; and the file system. */
	const char *dir = um_sandbox_dir(s->sys);
	if (!dir)
		return uwrong("um_sandbox_dir(sys) returned NULL");
	snprintf(g_udir, sizeof g_udir, "%s", dir);
	snprintf(path, sizeof path, "%s/" FILE_NAME, dir);
	s->hfd = open(path, O_RDONLY | O_CLOEXEC);
	if (s->hfd < 0)
		return kfail("open(\"%s\", O_RDONLY) (the host file behind the sandbox's " FILE_NAME
			     ")",
			     path);
	struct stat a, b;
	if (g_kdir[0] && stat(g_kdir, &a) == 0 && stat(dir, &b) == 0)
		g_same_fs = a.st_dev == b.st_dev;
	s->len = 0; /* u_after unmaps s->ua only when a case maps it */
	s->npages = g_file_bytes / s->upage;
	return 0;
}

/* Reads the 8-byte word at offset off of the file with um_pread. */
static int u_pread_word(struct bstate *s, uint64_t off, uint64_t *v)
{
	int64_t r = um_pread(s->p, s->ufd, v, 8, (int64_t)off);
	if (r != 8)
		return r < 0 ? ufail(r, NULL, "um_pread(p, fd, &v, 8, %" PRIu64 ")", off)
			     : uwrong("um_pread(p, fd, &v, 8, %" PRIu64 ") returned %" PRId64, off,
				      r);
	return 0;
}

static int u_file_map(struct bstate *s, int prot, int flags, uint64_t *addr)
{
	int64_t a = um_mmap(s->p, 0, g_file_bytes, prot, flags, s->ufd, 0);
	if (a < 0)
		return ufail(a, NULL,
			     "um_mmap(p, 0, %" PRIu64 ", prot %d, flags 0x%x, fd, 0) of the file",
			     g_file_bytes, prot, flags);
	if (a == 0 || (uint64_t)a % s->upage != 0)
		return uwrong("um_mmap of the file returned 0x%" PRIx64
			      ", not a page-aligned address",
			      (uint64_t)a);
	*addr = (uint64_t)a;
	return 0;
}

static int u_file_unmap(struct bstate *s, uint64_t a)
{
	int rc = um_munmap(s->p, a, g_file_bytes);
	if (rc != 0)
		return ufail(rc, NULL, "um_munmap(p, 0x%" PRIx64 ", %" PRIu64 ")", a, g_file_bytes);
	return 0;
}

/* ------------------------------------------------------------ file read faults */

static int k_rfault_priv_setup(struct bstate *s)
{
	s->shared = 0;
	return k_file_setup(s);
}

static int k_rfault_shared_setup(struct bstate *s)
{
	s->shared = 1;
	return k_file_setup(s);
}

static int u_rfault_priv_setup(struct bstate *s)
{
	s->shared = 0;
	return u_file_setup(s);
}

static int u_rfault_shared_setup(struct bstate *s)
{
	s->shared = 1;
	return u_file_setup(s);
}

/*
 * One pass: map the whole file (private read-only, or shared read-write),
 * load the first 8 bytes of every page in order (timed), check them, unmap.
 */
static int k_rfault(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	uint64_t total = 0, pg = (uint64_t)g_kpage, np = g_file_bytes / pg, upp = pg / 4096;
	int prot = s->shared ? PROT_READ | PROT_WRITE : PROT_READ;
	int flags = s->shared ? MAP_SHARED : MAP_PRIVATE;
	for (uint64_t k = 0; k < n; k++) {
		unsigned char *b = k_file_map(s, prot, flags);
		if (!b)
			return -1;
		struct rusage r0, r1;
		uint64_t bad = 0;
		k_faults(&r0);
		uint64_t t0 = now_ns();
		for (uint64_t i = 0; i < np; i++)
			bad |= *(volatile const uint64_t *)(b + i * pg) ^ file_word(i * upp);
		total += now_ns() - t0;
		k_faults(&r1);
		pass_faults(0, (uint64_t)(r1.ru_minflt - r0.ru_minflt),
			    (uint64_t)(r1.ru_majflt - r0.ru_majflt), np);
		if (k_file_unmap(b) != 0)
			return -1;
		if (bad) {
			snprintf(g_err, sizeof g_err, "the kernel's mapping read wrong data");
			return -1;
		}
	}
	*ns = total;
	*ops = n * np;
	return 0;
}

static int u_rfault(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	uint64_t total = 0, pg = s->upage, np = g_file_bytes / pg, upp = pg / 4096;
	int prot = s->shared ? UM_PROT_READ | UM_PROT_WRITE : UM_PROT_READ;
	int flags = s->shared ? UM_MAP_SHARED : UM_MAP_PRIVATE;
	struct um_proc *p = s->p;
	struct um_siginfo si;
	for (uint64_t k = 0; k < n; k++) {
		uint64_t a;
		if (u_file_map(s, prot, flags, &a) != 0)
			return -1;
		struct um_proc_stats st0, st1;
		uint64_t bad = 0, v;
		um_proc_stats(p, &st0);
		uint64_t t0 = now_ns();
		for (uint64_t i = 0; i < np; i++) {
			int rc = um_load(p, a + i * pg, 8, &v, &si);
			if (rc != 0)
				return ufail(rc, &si, "um_load(p, 0x%" PRIx64 ", 8, ...)",
					     a + i * pg);
			bad |= v ^ file_word(i * upp);
		}
		total += now_ns() - t0;
		um_proc_stats(p, &st1);
		pass_faults(1, st1.min_flt - st0.min_flt, st1.maj_flt - st0.maj_flt, np);
		if (bad) {
			for (uint64_t i = 0; i < np; i++) {
				um_load(p, a + i * pg, 8, &v, &si);
				if (v != file_word(i * upp))
					return uwrong(
					    "um_load(p, 0x%" PRIx64 ", 8) of page %" PRIu64
					    " of a %s mapping of the file read 0x%" PRIx64
					    ", expected 0x%" PRIx64,
					    a + i * pg, i, s->shared ? "shared" : "private", v,
					    file_word(i * upp));
			}
			return uwrong("um_load of the file mapping read wrong data once");
		}
		if (st1.rss_file != g_file_bytes)
			return uwrong("after um_load of every page of a %s mapping of the %" PRIu64
				      "-byte file, rss_file is %" PRIu64 ", expected %" PRIu64,
				      s->shared ? "shared" : "private", g_file_bytes, st1.rss_file,
				      g_file_bytes);
		if (u_file_unmap(s, a) != 0)
			return -1;
	}
	*ns = total;
	*ops = n * np;
	return 0;
}

/* ------------------------------------------------------------ file write faults */

/* gen: the low byte the next pass stores (file_word has 0x5a there). */
static int k_wfault_setup(struct bstate *s)
{
	s->gen = 1;
	return k_file_setup(s);
}

static int u_wfault_setup(struct bstate *s)
{
	s->gen = 1;
	return u_file_setup(s);
}

/*
 * One pass of wfault-share: a fresh shared read-write mapping of the whole
 * file, one 8-byte store at the start of every page (timed), unmap. The
 * pages stay in the page cache, dirty; nothing is written back meanwhile.
 */
static int k_wfault_shared(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	uint64_t total = 0, pg = (uint64_t)g_kpage, np = g_file_bytes / pg;
	for (uint64_t k = 0; k < n; k++) {
		unsigned char *b = k_file_map(s, PROT_READ | PROT_WRITE, MAP_SHARED);
		if (!b)
			return -1;
		uint64_t g = s->gen & 0xff;
		struct rusage r0, r1;
		k_faults(&r0);
		uint64_t t0 = now_ns();
		for (uint64_t i = 0; i < np; i++)
			*(volatile uint64_t *)(b + i * pg) = (i << 8) | g;
		total += now_ns() - t0;
		k_faults(&r1);
		pass_faults(0, (uint64_t)(r1.ru_minflt - r0.ru_minflt),
			    (uint64_t)(r1.ru_majflt - r0.ru_majflt), np);
		s->gen++;
		if (k_file_unmap(b) != 0)
			return -1;
	}
	*ns = total;
	*ops = n * np;
	return 0;
}

static int u_wfault_shared(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	uint64_t total = 0, pg = s->upage, np = g_file_bytes / pg;
	struct um_proc *p = s->p;
	struct um_siginfo si;
	for (uint64_t k = 0; k < n; k++) {
		uint64_t a;
		if (u_file_map(s, UM_PROT_READ | UM_PROT_WRITE, UM_MAP_SHARED, &a) != 0)
			return -1;
		uint64_t g = s->gen & 0xff;
		struct um_proc_stats st0, st1;
		um_proc_stats(p, &st0);
		uint64_t t0 = now_ns();
		for (uint64_t i = 0; i < np; i++) {
			int rc = um_store(p, a + i * pg, 8, (i << 8) | g, &si);
			if (rc != 0)
				return ufail(rc, &si, "um_store(p, 0x%" PRIx64 ", 8, ...)",
					     a + i * pg);
		}
		total += now_ns() - t0;
		um_proc_stats(p, &st1);
		pass_faults(1, st1.min_flt - st0.min_flt, st1.maj_flt - st0.maj_flt, np);
		s->gen++;
		if (st1.rss_file != g_file_bytes)
			return uwrong(
			    "after um_store to every page of a shared mapping of the %" PRIu64
			    "-byte file, rss_file is %" PRIu64 ", expected %" PRIu64,
			    g_file_bytes, st1.rss_file, g_file_bytes);
		/* The page cache is unified: um_pread sees the stores at once. */
		uint64_t probe[3] = {0, np / 2, np - 1};
		for (int j = 0; j < 3; j++) {
			uint64_t v = 0;
			if (u_pread_word(s, probe[j] * pg, &v) != 0)
				return -1;
			if (v != ((probe[j] << 8) | g))
				return uwrong(
				    "after um_store(p, 0x%" PRIx64 ", 8, 0x%" PRIx64
				    ") through a shared file mapping, um_pread at offset %" PRIu64
				    " reads 0x%" PRIx64,
				    a + probe[j] * pg, (probe[j] << 8) | g, probe[j] * pg, v);
		}
		if (u_file_unmap(s, a) != 0)
			return -1;
	}
	*ns = total;
	*ops = n * np;
	return 0;
}

/*
 * One pass of wfault-priv: a fresh private read-write mapping of the whole
 * file, one 1-byte store at the start of every page (timed): every store
 * copies the cached file page into a new anonymous page.
 */
static int k_wfault_priv(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	uint64_t total = 0, pg = (uint64_t)g_kpage, np = g_file_bytes / pg;
	for (uint64_t k = 0; k < n; k++) {
		unsigned char *b = k_file_map(s, PROT_READ | PROT_WRITE, MAP_PRIVATE);
		if (!b)
			return -1;
		unsigned char v = (unsigned char)s->gen;
		struct rusage r0, r1;
		k_faults(&r0);
		uint64_t t0 = now_ns();
		for (uint64_t i = 0; i < np; i++)
			*(volatile unsigned char *)(b + i * pg) = v;
		total += now_ns() - t0;
		k_faults(&r1);
		pass_faults(0, (uint64_t)(r1.ru_minflt - r0.ru_minflt),
			    (uint64_t)(r1.ru_majflt - r0.ru_majflt), np);
		s->gen++;
		if (k_file_unmap(b) != 0)
			return -1;
	}
	*ns = total;
	*ops = n * np;
	return 0;
}

static int u_wfault_priv(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	uint64_t total = 0, pg = s->upage, np = g_file_bytes / pg, upp = pg / 4096;
	struct um_proc *p = s->p;
	struct um_siginfo si;
	for (uint64_t k = 0; k < n; k++) {
		uint64_t a;
		if (u_file_map(s, UM_PROT_READ | UM_PROT_WRITE, UM_MAP_PRIVATE, &a) != 0)
			return -1;
		uint64_t g = s->gen & 0xff;
		struct um_proc_stats st0, st1;
		struct um_sys_stats ss0, ss1;
		um_proc_stats(p, &st0);
		um_system_stats(s->sys, &ss0);
		uint64_t t0 = now_ns();
		for (uint64_t i = 0; i < np; i++) {
			int rc = um_store(p, a + i * pg, 1, g, &si);
			if (rc != 0)
				return ufail(rc, &si, "um_store(p, 0x%" PRIx64 ", 1, ...)",
					     a + i * pg);
		}
		total += now_ns() - t0;
		um_proc_stats(p, &st1);
		um_system_stats(s->sys, &ss1);
		pass_faults(1, st1.min_flt - st0.min_flt, st1.maj_flt - st0.maj_flt, np);
		s->gen++;
		if (ss1.cow_copies - ss0.cow_copies != np)
			return uwrong("%" PRIu64 " um_store, one per page of a fresh private file "
				      "mapping, made cow_copies grow by %" PRIu64
				      ", expected %" PRIu64,
				      np, ss1.cow_copies - ss0.cow_copies, np);
		if (st1.rss_anon != g_file_bytes)
			return uwrong(
			    "after um_store to every page of a private mapping of the %" PRIu64
			    "-byte file, rss_anon is %" PRIu64 ", expected %" PRIu64,
			    g_file_bytes, st1.rss_anon, g_file_bytes);
		/* The mapping sees its copy; the file keeps its bytes. */
		uint64_t probe[3] = {0, np / 2, np - 1};
		for (int j = 0; j < 3; j++) {
			uint64_t i = probe[j], v = 0, want = (file_word(i * upp) & ~0xffULL) | g;
			int rc = um_load(p, a + i * pg, 8, &v, &si);
			if (rc != 0)
				return ufail(rc, &si, "um_load(p, 0x%" PRIx64 ", 8, ...)",
					     a + i * pg);
			if (v != want)
				return uwrong(
				    "after um_store(p, 0x%" PRIx64 ", 1, 0x%02" PRIx64
				    ") to a private file mapping, um_load of 8 bytes there "
				    "reads 0x%" PRIx64 ", expected 0x%" PRIx64,
				    a + i * pg, g, v, want);
			if (u_pread_word(s, i * pg, &v) != 0)
				return -1;
			if (v != file_word(i * upp))
				return uwrong(
				    "after um_store(p, 0x%" PRIx64 ", 1, 0x%02" PRIx64
				    ") to a PRIVATE file mapping, um_pread at offset %" PRIu64
				    " reads 0x%" PRIx64 ", expected the file's 0x%" PRIx64,
				    a + i * pg, g, i * pg, v, file_word(i * upp));
		}
		if (u_file_unmap(s, a) != 0)
			return -1;
	}
	*ns = total;
	*ops = n * np;
	return 0;
}

/* ------------------------------------------------------------ msync */

/*
 * The whole file mapped shared read-write for the whole case, every page
 * read once (so each page is mapped, clean and read-only: a store to it is
 * a write-protect fault, as after any msync). One op: an 8-byte store to
 * each of s->dirty consecutive pages, then msync(MS_SYNC) of those pages;
 * the next op takes the next s->dirty pages, wrapping at the end.
 */
static int k_msync_setup_n(struct bstate *s, uint64_t dirty)
{
	if (k_file_setup(s) != 0)
		return -1;
	unsigned char *b = k_file_map(s, PROT_READ | PROT_WRITE, MAP_SHARED);
	if (!b)
		return -1;
	s->ka = b;
	s->len = g_file_bytes;
	uint64_t sum = 0;
	for (uint64_t i = 0; i < s->npages; i++)
		sum += *(volatile const uint64_t *)(b + i * (uint64_t)g_kpage);
	g_sink += sum;
	s->dirty = dirty;
	s->idx = 0;
	s->gen = 1;
	return 0;
}

static int u_msync_setup_n(struct bstate *s, uint64_t dirty)
{
	struct um_siginfo si;
	if (u_file_setup(s) != 0)
		return -1;
	if (u_file_map(s, UM_PROT_READ | UM_PROT_WRITE, UM_MAP_SHARED, &s->ua) != 0)
		return -1;
	s->len = g_file_bytes;
	for (uint64_t i = 0; i < s->npages; i++) {
		uint64_t v;
		int rc = um_load(s->p, s->ua + i * s->upage, 8, &v, &si);
		if (rc != 0)
			return ufail(rc, &si, "um_load(p, 0x%" PRIx64 ", 8, ...)",
				     s->ua + i * s->upage);
	}
	s->dirty = dirty;
	s->idx = 0;
	s->gen = 1;
	return 0;
}

static int k_msync1_setup(struct bstate *s)
{
	return k_msync_setup_n(s, 1);
}
static int k_msync64_setup(struct bstate *s)
{
	return k_msync_setup_n(s, 64);
}
static int k_msync4096_setup(struct bstate *s)
{
	return k_msync_setup_n(s, 4096);
}
static int u_msync1_setup(struct bstate *s)
{
	return u_msync_setup_n(s, 1);
}
static int u_msync64_setup(struct bstate *s)
{
	return u_msync_setup_n(s, 64);
}
static int u_msync4096_setup(struct bstate *s)
{
	return u_msync_setup_n(s, 4096);
}

/* The word op gen stores in page i. */
static uint64_t msync_word(uint64_t i, uint64_t gen)
{
	return (gen << 40) | (i << 8) | 0xcc;
}

static int k_msync(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	uint64_t pg = (uint64_t)g_kpage, np = s->npages, d = s->dirty, idx = s->idx, gen = s->gen;
	unsigned char *b = s->ka;
	uint64_t t0 = now_ns();
	for (uint64_t k = 0; k < n; k++) {
		unsigned char *r = b + idx * pg;
		for (uint64_t j = 0; j < d; j++)
			*(volatile uint64_t *)(r + j * pg) = msync_word(idx + j, gen);
		if (msync(r, d * pg, MS_SYNC) != 0)
			return kfail("msync(%p, %" PRIu64 ", MS_SYNC)", (void *)r, d * pg);
		gen++;
		idx += d;
		if (idx + d > np)
			idx = 0;
	}
	*ns = now_ns() - t0;
	*ops = n;
	s->idx = idx;
	s->gen = gen;
	return 0;
}

static int u_msync(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	uint64_t pg = s->upage, np = s->npages, d = s->dirty, idx = s->idx, gen = s->gen;
	uint64_t last = idx;
	struct um_proc *p = s->p;
	struct um_siginfo si;
	uint64_t t0 = now_ns();
	for (uint64_t k = 0; k < n; k++) {
		uint64_t r = s->ua + idx * pg;
		for (uint64_t j = 0; j < d; j++) {
			int rc = um_store(p, r + j * pg, 8, msync_word(idx + j, gen), &si);
			if (rc != 0)
				return ufail(rc, &si, "um_store(p, 0x%" PRIx64 ", 8, ...)",
					     r + j * pg);
		}
		int rc = um_msync(p, r, d * pg, UM_MS_SYNC);
		if (rc != 0)
			return ufail(rc, NULL, "um_msync(p, 0x%" PRIx64 ", %" PRIu64 ", MS_SYNC)",
				     r, d * pg);
		last = idx;
		gen++;
		idx += d;
		if (idx + d > np)
			idx = 0;
	}
	*ns = now_ns() - t0;
	*ops = n;
	s->idx = idx;
	s->gen = gen;
	/* MS_SYNC returned: the last op's words are in the host file. */
	uint64_t probe[2] = {last, last + d - 1};
	for (int j = 0; j < 2; j++) {
		uint64_t v = 0, want = msync_word(probe[j], gen - 1);
		ssize_t r = pread(s->hfd, &v, 8, (off_t)(probe[j] * pg));
		if (r != 8)
			return kfail("pread(host file, 8, %" PRIu64 ")", probe[j] * pg);
		if (v != want)
			return uwrong("after um_store(p, 0x%" PRIx64 ", 8, 0x%" PRIx64
				      ") and um_msync(p, 0x%" PRIx64 ", %" PRIu64
				      ", MS_SYNC) returned 0, the host file holds 0x%" PRIx64
				      " at offset %" PRIu64,
				      s->ua + probe[j] * pg, want, s->ua + last * pg, d * pg, v,
				      probe[j] * pg);
	}
	return 0;
}

/* ------------------------------------------------------------ sequential read */

static uint64_t g_read_sum; /* the sum of file_word over the file's 4 KiB units */

static void read_sum_init(void)
{
	g_read_sum = 0;
	for (uint64_t i = 0; i < g_file_bytes / 4096; i++)
		g_read_sum += file_word(i);
}

static int k_read_setup(struct bstate *s)
{
	read_sum_init();
	return k_file_setup(s);
}

static int u_read_setup(struct bstate *s)
{
	read_sum_init();
	return u_file_setup(s);
}

/* Adds the word at every 4 KiB boundary of the file in buf (file bytes pos .. pos + len). */
static uint64_t unit_sum(const unsigned char *buf, uint64_t pos, uint64_t len)
{
	uint64_t sum = 0, v;
	for (uint64_t off = (4096 - (pos & 4095)) & 4095; off + 8 <= len; off += 4096) {
		memcpy(&v, buf + off, 8);
		sum += v;
	}
	return sum;
}

/* One op: 4 KiB of the file; a pass reads the whole file from offset 0, RD_BUF at a time. */
static int k_read(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	uint64_t total = 0;
	for (uint64_t k = 0; k < n; k++) {
		if (lseek(s->kfd, 0, SEEK_SET) != 0)
			return kfail("lseek(fd, 0, SEEK_SET)");
		uint64_t pos = 0, sum = 0;
		uint64_t t0 = now_ns();
		for (;;) {
			ssize_t r = read(s->kfd, g_rdbuf, RD_BUF);
			if (r <= 0) {
				if (r < 0)
					return kfail("read(fd, buf, %d)", RD_BUF);
				break;
			}
			sum += unit_sum(g_rdbuf, pos, (uint64_t)r);
			pos += (uint64_t)r;
		}
		total += now_ns() - t0;
		if (pos != g_file_bytes || sum != g_read_sum) {
			snprintf(g_err, sizeof g_err,
				 "read() of the kernel's file: %" PRIu64 " bytes, sum 0x%" PRIx64
				 " (expected %" PRIu64 ", 0x%" PRIx64 ")",
				 pos, sum, g_file_bytes, g_read_sum);
			return -1;
		}
	}
	*ns = total;
	*ops = n * (g_file_bytes / 4096);
	return 0;
}

static int u_read(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	uint64_t total = 0;
	struct um_proc *p = s->p;
	int fd = s->ufd;
	for (uint64_t k = 0; k < n; k++) {
		int64_t o = um_lseek(p, fd, 0, UM_SEEK_SET);
		if (o != 0)
			return ufail(o, NULL, "um_lseek(p, fd, 0, SEEK_SET)");
		uint64_t pos = 0, sum = 0;
		uint64_t t0 = now_ns();
		for (;;) {
			int64_t r = um_read(p, fd, g_rdbuf, RD_BUF);
			if (r <= 0) {
				if (r < 0)
					return ufail(r, NULL,
						     "um_read(p, fd, buf, %d) at offset %" PRIu64,
						     RD_BUF, pos);
				break;
			}
			sum += unit_sum(g_rdbuf, pos, (uint64_t)r);
			pos += (uint64_t)r;
		}
		total += now_ns() - t0;
		if (pos != g_file_bytes || sum != g_read_sum)
			return uwrong("um_read of the whole %" PRIu64 "-byte file in %d-byte reads "
				      "returned %" PRIu64 " bytes, word sum 0x%" PRIx64
				      " (expected 0x%" PRIx64 ")",
				      g_file_bytes, RD_BUF, pos, sum, g_read_sum);
	}
	*ns = total;
	*ops = n * (g_file_bytes / 4096);
	return 0;
}

/* ------------------------------------------------------------ mremap, mlock, madvise, mincore */

/*
 * The cases of issue 5. Each side does the same calls on mappings of the
 * same sizes; whatever is not the call under test (mapping, populating,
 * unlocking, unmapping, checking) is outside the clock. Sizes are in
 * bytes, so both sides work on the same number of 4 KiB pages.
 */
static uint64_t g_grow_max = 64 * MIB;	 /* mremap-grow: 4 KiB doubled up to this */
static uint64_t g_move_big = 256 * MIB;	 /* mremap-256m* */
static uint64_t g_lock_bytes = 64 * MIB; /* mlock, dontneed */
static uint64_t g_mincore_bytes = GIB;	 /* mincore */
static uint64_t g_memlock;		 /* RLIMIT_MEMLOCK of the run (both sides) */
static int g_ipc_lock;			 /* the bench holds CAP_IPC_LOCK (both sides) */
#define PMD_BYTES (2 * MIB)		 /* what one x86-64 page-table page maps */
#define MOVE_SKEW 4096			 /* mremap-256mu: target 1 page off PMD alignment */

/* A kernel-side result that is wrong although the call succeeded. */
static int kwrong(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int kwrong(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(g_err, sizeof g_err, fmt, ap);
	va_end(ap);
	return -1;
}

/* The byte mremap-grow and dontneed store into page i. Never 0: a lost page reads 0. */
static unsigned char page_byte(uint64_t i, uint64_t gen)
{
	return (unsigned char)(((i + gen) & 0x7f) | 1);
}

/* Page indexes the checks read back: first, middle, last. */
static void probes(uint64_t npages, uint64_t pr[3])
{
	pr[0] = 0;
	pr[1] = npages / 2;
	pr[2] = npages - 1;
}

static int k_map_at(void *addr, uint64_t len, int prot, int flags, void **out)
{
	void *a = mmap(addr, len, prot, flags | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED)
		return kfail("mmap(%p, %" PRIu64 ", 0x%x, MAP_PRIVATE|MAP_ANONYMOUS|0x%x, -1, 0)",
			     addr, len, prot, flags);
	if (addr && a != addr) {
		munmap(a, len);
		return kwrong("mmap(%p, %" PRIu64 ", 0x%x, 0x%x) returned %p", addr, len, prot,
			      flags, a);
	}
	/* 4 KiB pages on both sides; EINVAL: a kernel without THP. */
	if ((prot & PROT_WRITE) && madvise(a, len, MADV_NOHUGEPAGE) != 0 && errno != EINVAL) {
		int r = kfail("madvise(%p, %" PRIu64 ", MADV_NOHUGEPAGE)", a, len);
		munmap(a, len);
		return r;
	}
	*out = a;
	return 0;
}

static int u_map_at(struct bstate *s, uint64_t addr, uint64_t len, int prot, int flags,
		    uint64_t *out)
{
	int64_t a = um_mmap(s->p, addr, len, prot,
			    (uint64_t)flags | UM_MAP_PRIVATE | UM_MAP_ANONYMOUS, -1, 0);
	if (a < 0)
		return ufail(a, NULL,
			     "um_mmap(p, 0x%" PRIx64 ", %" PRIu64 ", 0x%x, "
			     "MAP_PRIVATE|MAP_ANONYMOUS|0x%x, -1, 0)",
			     addr, len, prot, flags);
	if ((addr && (uint64_t)a != addr) || (uint64_t)a % s->upage != 0)
		return uwrong("um_mmap(p, 0x%" PRIx64 ", %" PRIu64
			      ", 0x%x, 0x%x) returned 0x%" PRIx64,
			      addr, len, prot, flags, (uint64_t)a);
	*out = (uint64_t)a;
	return 0;
}

/* Kernel side: is [a, a + len) resident page by page as expected (1: every page, 0: none)? */
static int k_resident(void *a, uint64_t len, int want)
{
	uint64_t np = len / (uint64_t)g_kpage;
	unsigned char vec[4096];
	for (uint64_t i = 0; i < np; i += sizeof vec) {
		uint64_t k = np - i < sizeof vec ? np - i : sizeof vec;
		void *at = (unsigned char *)a + i * (uint64_t)g_kpage;
		if (mincore(at, k * (uint64_t)g_kpage, vec) != 0)
			return kfail("mincore(%p, %" PRIu64 ", vec)", at, k * (uint64_t)g_kpage);
		for (uint64_t j = 0; j < k; j++)
			if ((vec[j] & 1) != want)
				return kwrong("mincore says page %" PRIu64 " of %p is%s resident",
					      i + j, a, want ? " not" : "");
	}
	return 0;
}

/* The same through um_mincore. */
static int u_resident(struct bstate *s, uint64_t a, uint64_t len, int want)
{
	uint64_t np = len / s->upage;
	unsigned char vec[4096];
	for (uint64_t i = 0; i < np; i += sizeof vec) {
		uint64_t k = np - i < sizeof vec ? np - i : sizeof vec;
		uint64_t at = a + i * s->upage;
		int rc = um_mincore(s->p, at, k * s->upage, vec);
		if (rc != 0)
			return ufail(rc, NULL, "um_mincore(p, 0x%" PRIx64 ", %" PRIu64 ", vec)", at,
				     k * s->upage);
		for (uint64_t j = 0; j < k; j++)
			if (vec[j] != want)
				return uwrong("um_mincore says page %" PRIu64 " of 0x%" PRIx64
					      " is%s resident",
					      i + j, a, want ? " not" : "");
	}
	return 0;
}

/* Reads byte 0 of page i at a (usermm side) into *v. */
static int u_byte(struct bstate *s, uint64_t a, uint64_t i, uint64_t size, uint64_t *v)
{
	struct um_siginfo si;
	int rc = um_load(s->p, a + i * s->upage, (unsigned)size, v, &si);
	if (rc != 0)
		return ufail(rc, &si, "um_load(p, 0x%" PRIx64 ", %" PRIu64 ", ...)",
			     a + i * s->upage, size);
	return 0;
}

/*
 * mremap-grow. One op: a 4 KiB private anonymous mapping with a PROT_NONE
 * page right after it (one 2-page mmap, the second page mprotect'ed: so the
 * first growth cannot be in place), grown by mremap(MREMAP_MAYMOVE) to
 * 8 KiB, 16 KiB, ... g_grow_max. Only the mremap calls are timed. After
 * each growth one byte is stored to every new page (outside the clock), so
 * every mremap that moves carries populated page-table entries, as a
 * growing buffer's would. Whether a growth is in place or moves is left to
 * each side's placement (top-down, as Linux); aux[0] counts the moves.
 */
static int k_grow(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	uint64_t total = 0, moves = 0, pg = (uint64_t)g_kpage;
	for (uint64_t k = 0; k < n; k++) {
		void *m;
		if (k_map_at(NULL, 2 * pg, PROT_READ | PROT_WRITE, 0, &m) != 0)
			return -1;
		unsigned char *a = m, *guard = a + pg;
		if (mprotect(guard, pg, PROT_NONE) != 0) {
			int r = kfail("mprotect(%p, %" PRIu64 ", PROT_NONE)", (void *)guard, pg);
			munmap(a, 2 * pg);
			return r;
		}
		a[0] = page_byte(0, k);
		uint64_t len = pg;
		while (len < g_grow_max) {
			uint64_t t0 = now_ns();
			void *r = mremap(a, len, 2 * len, MREMAP_MAYMOVE);
			total += now_ns() - t0;
			if (r == MAP_FAILED) {
				int e =
				    kfail("mremap(%p, %" PRIu64 ", %" PRIu64 ", MREMAP_MAYMOVE)",
					  (void *)a, len, 2 * len);
				munmap(a, len);
				munmap(guard, pg);
				return e;
			}
			moves += r != (void *)a;
			a = r;
			for (uint64_t i = len / pg; i < 2 * len / pg; i++)
				a[i * pg] = page_byte(i, k);
			len *= 2;
		}
		uint64_t pr[3];
		probes(len / pg, pr);
		for (int j = 0; j < 3; j++)
			if (a[pr[j] * pg] != page_byte(pr[j], k)) {
				int e =
				    kwrong("after mremap growth to %" PRIu64 " bytes, page %" PRIu64
					   " holds 0x%02x, expected 0x%02x",
					   len, pr[j], a[pr[j] * pg], page_byte(pr[j], k));
				munmap(a, len);
				munmap(guard, pg);
				return e;
			}
		if (munmap(a, len) != 0)
			return kfail("munmap(%p, %" PRIu64 ")", (void *)a, len);
		if (munmap(guard, pg) != 0)
			return kfail("munmap(%p, %" PRIu64 ")", (void *)guard, pg);
	}
	s->aux[0] = moves;
	*ns = total;
	*ops = n;
	return 0;
}

static int u_grow(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	uint64_t total = 0, moves = 0, pg = s->upage;
	struct um_siginfo si;
	for (uint64_t k = 0; k < n; k++) {
		uint64_t a, guard, len = pg, v;
		if (u_map_at(s, 0, 2 * pg, UM_PROT_READ | UM_PROT_WRITE, 0, &a) != 0)
			return -1;
		guard = a + pg;
		int rc = um_mprotect(s->p, guard, pg, UM_PROT_NONE);
		if (rc != 0)
			return ufail(rc, NULL,
				     "um_mprotect(p, 0x%" PRIx64 ", %" PRIu64 ", PROT_NONE)", guard,
				     pg);
		rc = um_store(s->p, a, 1, page_byte(0, k), &si);
		if (rc != 0)
			return ufail(rc, &si, "um_store(p, 0x%" PRIx64 ", 1, ...)", a);
		while (len < g_grow_max) {
			uint64_t t0 = now_ns();
			int64_t r = um_mremap(s->p, a, len, 2 * len, UM_MREMAP_MAYMOVE, 0);
			total += now_ns() - t0;
			if (r < 0)
				return ufail(r, NULL,
					     "um_mremap(p, 0x%" PRIx64 ", %" PRIu64 ", %" PRIu64
					     ", MREMAP_MAYMOVE, 0)",
					     a, len, 2 * len);
			moves += (uint64_t)r != a;
			a = (uint64_t)r;
			for (uint64_t i = len / pg; i < 2 * len / pg; i++) {
				rc = um_store(s->p, a + i * pg, 1, page_byte(i, k), &si);
				if (rc != 0)
					return ufail(rc, &si, "um_store(p, 0x%" PRIx64 ", 1, ...)",
						     a + i * pg);
			}
			len *= 2;
		}
		uint64_t pr[3];
		probes(len / pg, pr);
		for (int j = 0; j < 3; j++) {
			if (u_byte(s, a, pr[j], 1, &v) != 0)
				return -1;
			if (v != page_byte(pr[j], k))
				return uwrong("after um_mremap growth to %" PRIu64
					      " bytes, page %" PRIu64 " holds 0x%02" PRIx64
					      ", expected 0x%02x",
					      len, pr[j], v, page_byte(pr[j], k));
		}
		rc = um_munmap(s->p, a, len);
		if (rc != 0)
			return ufail(rc, NULL, "um_munmap(p, 0x%" PRIx64 ", %" PRIu64 ")", a, len);
		rc = um_munmap(s->p, guard, pg);
		if (rc != 0)
			return ufail(rc, NULL, "um_munmap(p, 0x%" PRIx64 ", %" PRIu64 ")", guard,
				     pg);
	}
	s->aux[0] = moves;
	*ns = total;
	*ops = n;
	return 0;
}

/*
 * mremap-4k, mremap-256m, mremap-256mu. A PROT_NONE reservation holds two
 * slots of the case's size: slot A (2 MiB aligned) mapped read-write with
 * every page written, slot B a PROT_NONE placeholder. One op moves the
 * populated mapping onto the other slot with MREMAP_MAYMOVE|MREMAP_FIXED
 * (which unmaps the placeholder there, as a move into a reserved range
 * does); outside the clock, the vacated slot gets its placeholder back
 * (MAP_FIXED_NOREPLACE: nothing else may have taken it), and the next op
 * moves the pages back. B starts right after A (mremap-256m: both 2 MiB
 * aligned, so Linux can move whole page-table pages) or one page further
 * (mremap-256mu: Linux must move entry by entry).
 */
static int k_move_setup_n(struct bstate *s, uint64_t len, uint64_t skew)
{
	uint64_t total = 2 * len + skew + PMD_BYTES;
	void *r;
	if (k_map_at(NULL, total, PROT_NONE, MAP_NORESERVE, &r) != 0)
		return -1;
	s->ka = r;
	s->len = total;
	uintptr_t a = ((uintptr_t)r + PMD_BYTES - 1) & ~(uintptr_t)(PMD_BYTES - 1);
	void *m;
	if (k_map_at((void *)a, len, PROT_READ | PROT_WRITE, MAP_FIXED, &m) != 0)
		return -1;
	s->mv_from = a;
	s->mv_to = a + len + skew;
	s->mv_len = len;
	s->npages = len / (uint64_t)g_kpage;
	for (uint64_t i = 0; i < s->npages; i++)
		*(volatile uint64_t *)(a + i * (uint64_t)g_kpage) = i << 8;
	return 0;
}

static int u_move_setup_n(struct bstate *s, uint64_t len, uint64_t skew)
{
	uint64_t total = 2 * len + skew + PMD_BYTES, r, a, m;
	if (u_map_at(s, 0, total, UM_PROT_NONE, UM_MAP_NORESERVE, &r) != 0)
		return -1;
	s->ua = r;
	s->len = total;
	a = (r + PMD_BYTES - 1) & ~(PMD_BYTES - 1);
	if (u_map_at(s, a, len, UM_PROT_READ | UM_PROT_WRITE, UM_MAP_FIXED, &m) != 0)
		return -1;
	s->mv_from = a;
	s->mv_to = a + len + skew;
	s->mv_len = len;
	s->npages = len / s->upage;
	struct um_siginfo si;
	for (uint64_t i = 0; i < s->npages; i++) {
		int rc = um_store(s->p, a + i * s->upage, 8, i << 8, &si);
		if (rc != 0)
			return ufail(rc, &si, "um_store(p, 0x%" PRIx64 ", 8, ...)",
				     a + i * s->upage);
	}
	return 0;
}

static int k_move4k_setup(struct bstate *s)
{
	return k_move_setup_n(s, 4096, 0);
}

static int k_move256_setup(struct bstate *s)
{
	return k_move_setup_n(s, g_move_big, 0);
}

static int k_move256u_setup(struct bstate *s)
{
	return k_move_setup_n(s, g_move_big, MOVE_SKEW);
}

static int u_move4k_setup(struct bstate *s)
{
	return u_move_setup_n(s, 4096, 0);
}

static int u_move256_setup(struct bstate *s)
{
	return u_move_setup_n(s, g_move_big, 0);
}

static int u_move256u_setup(struct bstate *s)
{
	return u_move_setup_n(s, g_move_big, MOVE_SKEW);
}

static int k_move(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	uint64_t total = 0, len = s->mv_len, pg = (uint64_t)g_kpage;
	for (uint64_t i = 0; i < n; i++) {
		void *from = (void *)s->mv_from, *to = (void *)s->mv_to, *h;
		uint64_t t0 = now_ns();
		void *r = mremap(from, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, to);
		total += now_ns() - t0;
		if (r == MAP_FAILED)
			return kfail("mremap(%p, %" PRIu64 ", %" PRIu64
				     ", MREMAP_MAYMOVE|MREMAP_FIXED, %p)",
				     from, len, len, to);
		if (r != to)
			return kwrong("mremap(%p, ..., MREMAP_FIXED, %p) returned %p", from, to, r);
		if (k_map_at(from, len, PROT_NONE, MAP_NORESERVE | MAP_FIXED_NOREPLACE, &h) != 0)
			return -1;
		s->mv_from = (uintptr_t)to;
		s->mv_to = (uintptr_t)from;
	}
	uint64_t pr[3];
	probes(s->npages, pr);
	for (int j = 0; j < 3; j++) {
		uint64_t v = *(volatile uint64_t *)(s->mv_from + pr[j] * pg);
		if (v != pr[j] << 8)
			return kwrong("after %" PRIu64 " mremap moves, page %" PRIu64
				      " holds 0x%" PRIx64 ", expected 0x%" PRIx64,
				      n, pr[j], v, pr[j] << 8);
	}
	*ns = total;
	*ops = n;
	return 0;
}

static int u_move(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	uint64_t total = 0, len = s->mv_len, h, v;
	struct um_proc_stats st;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t from = s->mv_from, to = s->mv_to;
		uint64_t t0 = now_ns();
		int64_t r =
		    um_mremap(s->p, from, len, len, UM_MREMAP_MAYMOVE | UM_MREMAP_FIXED, to);
		total += now_ns() - t0;
		if (r < 0)
			return ufail(r, NULL,
				     "um_mremap(p, 0x%" PRIx64 ", %" PRIu64 ", %" PRIu64
				     ", MREMAP_MAYMOVE|MREMAP_FIXED, 0x%" PRIx64 ")",
				     from, len, len, to);
		if ((uint64_t)r != to)
			return uwrong("um_mremap(p, 0x%" PRIx64 ", ..., MREMAP_FIXED, 0x%" PRIx64
				      ") returned 0x%" PRIx64,
				      from, to, (uint64_t)r);
		if (u_map_at(s, from, len, UM_PROT_NONE, UM_MAP_NORESERVE | UM_MAP_FIXED_NOREPLACE,
			     &h) != 0)
			return -1;
		s->mv_from = to;
		s->mv_to = from;
	}
	uint64_t pr[3];
	probes(s->npages, pr);
	for (int j = 0; j < 3; j++) {
		if (u_byte(s, s->mv_from, pr[j], 8, &v) != 0)
			return -1;
		if (v != pr[j] << 8)
			return uwrong("after %" PRIu64 " um_mremap moves, page %" PRIu64
				      " holds 0x%" PRIx64 ", expected 0x%" PRIx64,
				      n, pr[j], v, pr[j] << 8);
	}
	/* A move never copies nor drops a frame. */
	um_proc_stats(s->p, &st);
	if (st.rss_anon != len)
		return uwrong("after %" PRIu64 " um_mremap moves of %" PRIu64
			      " populated bytes, rss_anon is %" PRIu64,
			      n, len, st.rss_anon);
	*ns = total;
	*ops = n;
	return 0;
}

/*
 * mlock. One op: mlock of a fresh, never touched g_lock_bytes private
 * anonymous mapping, which faults every page in (timed); then, outside
 * the clock, mincore checks that every page is resident, and munlock and
 * munmap free it.
 */
static int k_mlock(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	uint64_t total = 0, len = g_lock_bytes;
	(void)s;
	for (uint64_t i = 0; i < n; i++) {
		void *a;
		if (k_map_at(NULL, len, PROT_READ | PROT_WRITE, 0, &a) != 0)
			return -1;
		uint64_t t0 = now_ns();
		int rc = mlock(a, len);
		total += now_ns() - t0;
		if (rc != 0) {
			int e = kfail("mlock(%p, %" PRIu64 ")", a, len);
			munmap(a, len);
			return e;
		}
		rc = k_resident(a, len, 1);
		if (rc == 0 && munlock(a, len) != 0)
			rc = kfail("munlock(%p, %" PRIu64 ")", a, len);
		if (munmap(a, len) != 0 && rc == 0)
			rc = kfail("munmap(%p, %" PRIu64 ")", a, len);
		if (rc != 0)
			return -1;
	}
	*ns = total;
	*ops = n;
	return 0;
}

static int u_mlock(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	uint64_t total = 0, len = g_lock_bytes;
	struct um_proc_stats st;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t a;
		if (u_map_at(s, 0, len, UM_PROT_READ | UM_PROT_WRITE, 0, &a) != 0)
			return -1;
		uint64_t t0 = now_ns();
		int rc = um_mlock(s->p, a, len);
		total += now_ns() - t0;
		if (rc != 0)
			return ufail(rc, NULL, "um_mlock(p, 0x%" PRIx64 ", %" PRIu64 ")", a, len);
		um_proc_stats(s->p, &st);
		if (st.rss_anon != len)
			return uwrong("after um_mlock of %" PRIu64
				      " untouched bytes, rss_anon is %" PRIu64,
				      len, st.rss_anon);
		if (u_resident(s, a, len, 1) != 0)
			return -1;
		rc = um_munlock(s->p, a, len);
		if (rc != 0)
			return ufail(rc, NULL, "um_munlock(p, 0x%" PRIx64 ", %" PRIu64 ")", a, len);
		rc = um_munmap(s->p, a, len);
		if (rc != 0)
			return ufail(rc, NULL, "um_munmap(p, 0x%" PRIx64 ", %" PRIu64 ")", a, len);
	}
	*ns = total;
	*ops = n;
	return 0;
}

/*
 * dontneed. A g_lock_bytes private anonymous mapping, every page written in
 * the set-up. One op: madvise(MADV_DONTNEED) of all of it (timed: aux[0]),
 * then a 1-byte store to every page (the refault: timed, aux[1]); the row
 * is the sum. Outside the clock: after the madvise, mincore must find no
 * page resident; after the refault the first, middle and last pages must
 * hold the stored byte and zeros (byte 1 is set non-zero after each check,
 * so a page that kept its old contents is caught next time).
 */
static int k_dontneed_setup(struct bstate *s)
{
	if (k_map(s, g_lock_bytes) != 0)
		return -1;
	k_fill(s);
	return 0;
}

static int u_dontneed_setup(struct bstate *s)
{
	if (u_map_case(s, g_lock_bytes) != 0)
		return -1;
	return u_fill(s);
}

static int k_dontneed(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	uint64_t madv = 0, refault = 0, pg = (uint64_t)g_kpage, np = s->npages, pr[3];
	unsigned char *b = s->ka;
	probes(np, pr);
	for (uint64_t k = 0; k < n; k++) {
		uint64_t gen = ++s->gen;
		uint64_t t0 = now_ns();
		int rc = madvise(b, s->len, MADV_DONTNEED);
		madv += now_ns() - t0;
		if (rc != 0)
			return kfail("madvise(%p, %" PRIu64 ", MADV_DONTNEED)", (void *)b, s->len);
		if (k_resident(b, s->len, 0) != 0)
			return -1;
		t0 = now_ns();
		for (uint64_t i = 0; i < np; i++)
			*(volatile unsigned char *)(b + i * pg) = page_byte(i, gen);
		refault += now_ns() - t0;
		for (int j = 0; j < 3; j++) {
			volatile uint64_t *w = (volatile uint64_t *)(b + pr[j] * pg);
			if (*w != page_byte(pr[j], gen))
				return kwrong("after MADV_DONTNEED and a 1-byte store of 0x%02x, "
					      "page %" PRIu64 " starts with 0x%" PRIx64,
					      page_byte(pr[j], gen), pr[j], *w);
			*w |= 0xa500;
		}
	}
	s->aux[0] = madv;
	s->aux[1] = refault;
	*ns = madv + refault;
	*ops = n;
	return 0;
}

static int u_dontneed(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	uint64_t madv = 0, refault = 0, pg = s->upage, np = s->npages, pr[3], v;
	struct um_siginfo si;
	struct um_proc_stats st;
	probes(np, pr);
	for (uint64_t k = 0; k < n; k++) {
		uint64_t gen = ++s->gen;
		uint64_t t0 = now_ns();
		int rc = um_madvise(s->p, s->ua, s->len, UM_MADV_DONTNEED);
		madv += now_ns() - t0;
		if (rc != 0)
			return ufail(rc, NULL,
				     "um_madvise(p, 0x%" PRIx64 ", %" PRIu64 ", MADV_DONTNEED)",
				     s->ua, s->len);
		um_proc_stats(s->p, &st);
		if (st.rss_anon != 0)
			return uwrong(
			    "after um_madvise(MADV_DONTNEED) of the whole mapping, rss_anon "
			    "is %" PRIu64,
			    st.rss_anon);
		if (u_resident(s, s->ua, s->len, 0) != 0)
			return -1;
		t0 = now_ns();
		for (uint64_t i = 0; i < np; i++) {
			rc = um_store(s->p, s->ua + i * pg, 1, page_byte(i, gen), &si);
			if (rc != 0)
				return ufail(rc, &si, "um_store(p, 0x%" PRIx64 ", 1, ...)",
					     s->ua + i * pg);
		}
		refault += now_ns() - t0;
		for (int j = 0; j < 3; j++) {
			if (u_byte(s, s->ua, pr[j], 8, &v) != 0)
				return -1;
			if (v != page_byte(pr[j], gen))
				return uwrong("after MADV_DONTNEED and a 1-byte store of 0x%02x, "
					      "page %" PRIu64 " starts with 0x%" PRIx64,
					      page_byte(pr[j], gen), pr[j], v);
			rc = um_store(s->p, s->ua + pr[j] * pg, 8, v | 0xa500, &si);
			if (rc != 0)
				return ufail(rc, &si, "um_store(p, 0x%" PRIx64 ", 8, ...)",
					     s->ua + pr[j] * pg);
		}
	}
	s->aux[0] = madv;
	s->aux[1] = refault;
	*ns = madv + refault;
	*ops = n;
	return 0;
}

/*
 * mincore. A g_mincore_bytes private anonymous MAP_NORESERVE mapping with
 * every 4th page written in the set-up. One op: mincore of all of it into
 * a host vector (poisoned outside the clock before each call); after the
 * batch every byte of the last vector is checked.
 */
#define MINCORE_EVERY 4

static int k_mincore_setup(struct bstate *s)
{
	void *a;
	if (k_map_at(NULL, g_mincore_bytes, PROT_READ | PROT_WRITE, MAP_NORESERVE, &a) != 0)
		return -1;
	s->ka = a;
	s->len = g_mincore_bytes;
	s->npages = s->len / (uint64_t)g_kpage;
	for (uint64_t i = 0; i < s->npages; i += MINCORE_EVERY)
		s->ka[i * (uint64_t)g_kpage] = 1;
	s->vec = malloc(s->npages);
	if (!s->vec)
		return kfail("malloc(%" PRIu64 ")", s->npages);
	return 0;
}

static int u_mincore_setup(struct bstate *s)
{
	struct um_siginfo si;
	if (u_map_at(s, 0, g_mincore_bytes, UM_PROT_READ | UM_PROT_WRITE, UM_MAP_NORESERVE,
		     &s->ua) != 0)
		return -1;
	s->len = g_mincore_bytes;
	s->npages = s->len / s->upage;
	for (uint64_t i = 0; i < s->npages; i += MINCORE_EVERY) {
		int rc = um_store(s->p, s->ua + i * s->upage, 1, 1, &si);
		if (rc != 0)
			return ufail(rc, &si, "um_store(p, 0x%" PRIx64 ", 1, 1)",
				     s->ua + i * s->upage);
	}
	s->vec = malloc(s->npages);
	if (!s->vec)
		return uwrong("malloc(%" PRIu64 ") failed", s->npages);
	return 0;
}

/* The first page whose vector byte is wrong (bit 0 on the kernel side), or npages. */
static uint64_t mincore_bad(const struct bstate *s, unsigned char mask)
{
	for (uint64_t i = 0; i < s->npages; i++)
		if ((s->vec[i] & mask) != (i % MINCORE_EVERY == 0))
			return i;
	return s->npages;
}

static int k_mincore(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	uint64_t total = 0;
	for (uint64_t i = 0; i < n; i++) {
		memset(s->vec, 0xee, s->npages);
		uint64_t t0 = now_ns();
		int rc = mincore(s->ka, s->len, s->vec);
		total += now_ns() - t0;
		if (rc != 0)
			return kfail("mincore(%p, %" PRIu64 ", vec)", (void *)s->ka, s->len);
	}
	uint64_t bad = mincore_bad(s, 1);
	if (bad < s->npages)
		return kwrong("mincore: page %" PRIu64 " has vector byte 0x%02x", bad, s->vec[bad]);
	*ns = total;
	*ops = n;
	return 0;
}

static int u_mincore(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	uint64_t total = 0;
	for (uint64_t i = 0; i < n; i++) {
		memset(s->vec, 0xee, s->npages);
		uint64_t t0 = now_ns();
		int rc = um_mincore(s->p, s->ua, s->len, s->vec);
		total += now_ns() - t0;
		if (rc != 0)
			return ufail(rc, NULL, "um_mincore(p, 0x%" PRIx64 ", %" PRIu64 ", vec)",
				     s->ua, s->len);
	}
	uint64_t bad = mincore_bad(s, 0xff);
	if (bad < s->npages)
		return uwrong("um_mincore: page %" PRIu64 " has vector byte 0x%02x", bad,
			      s->vec[bad]);
	*ns = total;
	*ops = n;
	return 0;
}

/* ------------------------------------------------------------ hugetlb */

/*
 * hugefault. One op: a fresh g_huge_bytes MAP_PRIVATE|MAP_ANONYMOUS|
 * MAP_HUGETLB mapping (2 MiB pages), a 1-byte store to byte 0 of each huge
 * page (one hugetlb fault each, which takes a page from the pool and zeroes
 * its 2 MiB: the timed part, the row), then munmap. mmap and munmap are
 * timed apart (aux[0], aux[1]). Outside the clock, after each step, the
 * pool's counters (HugePages_Free and _Rsvd of /proc/meminfo; usermm's
 * um_sys_stats): mmap reserves every page, the faults take them, munmap
 * gives them back. After the stores every huge page must hold the stored
 * byte at 0 and zeros at its middle and last bytes, and the first, middle
 * and last huge pages zeros everywhere after byte 0; then the middle and
 * last bytes are dirtied, so a page handed out again without being zeroed
 * is caught next time.
 *
 * The kernel side needs a pool of huge pages, which is the machine's:
 * other usermm runs (tools/usermm's kernel back end) hold HUGETLB_LOCK
 * shared while they run and exclusive while they size the pool. The case
 * takes it exclusive, sets vm.nr_hugepages to at least the pages it maps,
 * waits until the pool has settled (every page free, none reserved or
 * surplus) and puts the old size back after its kernel side, also when it
 * fails or is interrupted (SIGINT, SIGTERM, SIGHUP). Where the pool cannot
 * be had (not root, no memory for it, the lock held for a minute) the
 * kernel side is reported as not run, and usermm's side still runs.
 */
#define HUGE_BYTES	  (2 * MIB)
#define HUGETLB_LOCK	  "/tmp/usermm-hugetlb.lock"
#define HUGETLB_LOCK_WAIT 60 /* seconds */
static const char g_pool_file[] = "/proc/sys/vm/nr_hugepages";
static uint64_t g_huge_bytes = 64 * MIB; /* hugefault: 32 huge pages */

/* What the kernel side's pool was, for the notes: nr -1 when it never ran. */
static long g_kpool_nr = -1, g_kpool_old = -1;

enum { HP_TOTAL, HP_FREE, HP_RSVD, HP_SURP, HP_SIZE_KB, HP_N };

/* The HugePages_* and Hugepagesize lines of /proc/meminfo; -1 with errno. */
static int meminfo_huge(long long v[HP_N])
{
	static const char *const keys[HP_N] = {
	    "HugePages_Total:", "HugePages_Free:", "HugePages_Rsvd:", "HugePages_Surp:",
	    "Hugepagesize:"};
	char line[256];
	FILE *f = fopen("/proc/meminfo", "r");
	if (!f)
		return -1;
	for (int i = 0; i < HP_N; i++)
		v[i] = -1;
	while (fgets(line, sizeof line, f))
		for (int i = 0; i < HP_N; i++)
			if (!strncmp(line, keys[i], strlen(keys[i])))
				v[i] = strtoll(line + strlen(keys[i]), NULL, 10);
	fclose(f);
	return 0;
}

/* The number a /proc/sys (or /sys) file starts with, or -1. */
static long read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;
	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static long pool_read(void)
{
	return read_long(g_pool_file);
}

/* Writes v to vm.nr_hugepages with plain system calls (also from a signal handler). */
static int pool_write(long v)
{
	char buf[24];
	int n = (int)sizeof buf;
	buf[--n] = '\n';
	do {
		buf[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0 && n > 0);
	int fd = open(g_pool_file, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t w = write(fd, buf + n, sizeof buf - (size_t)n);
	int e = errno;
	if (close(fd) != 0 && w >= 0)
		return -1;
	errno = e;
	return w == (ssize_t)(sizeof buf - (size_t)n) ? 0 : -1;
}

/* The old pool size a signal puts back while the case holds the pool; -1: none. */
static volatile sig_atomic_t g_pool_restore = -1;
static struct sigaction g_pool_oldsa[3];
static const int g_pool_sigs[3] = {SIGINT, SIGTERM, SIGHUP};

static void pool_on_signal(int sig)
{
	if (g_pool_restore >= 0)
		pool_write(g_pool_restore);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void pool_guard(long old)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = pool_on_signal;
	sigemptyset(&sa.sa_mask);
	g_pool_restore = old;
	for (int i = 0; i < 3; i++)
		sigaction(g_pool_sigs[i], &sa, &g_pool_oldsa[i]);
}

static void pool_unguard(void)
{
	for (int i = 0; i < 3; i++)
		sigaction(g_pool_sigs[i], &g_pool_oldsa[i], NULL);
	g_pool_restore = -1;
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* flock(fd, LOCK_EX), giving up after secs seconds (EINTR). */
static int lock_ex_timed(int fd, unsigned secs)
{
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm; /* no SA_RESTART: the alarm ends the wait */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &old);
	alarm(secs);
	int rc = flock(fd, LOCK_EX);
	int e = errno;
	alarm(0);
	sigaction(SIGALRM, &old, NULL);
	errno = e;
	return rc;
}

/*
 * Waits (up to 5 s) until the pool is nr huge pages, all free, none
 * reserved or surplus: a process of another run may still be giving its
 * pages back. v: the last reading.
 */
static int pool_settled(long nr, long long v[HP_N])
{
	for (int i = 0; i < 5000; i++) {
		if (meminfo_huge(v) == 0 && v[HP_TOTAL] == nr && v[HP_FREE] == nr &&
		    v[HP_RSVD] == 0 && v[HP_SURP] == 0)
			return 1;
		usleep(1000);
	}
	return 0;
}

/* Kernel side: the pool, or s->skip with the reason in g_err. */
static int k_huge_setup(struct bstate *s)
{
	long want = (long)(g_huge_bytes / HUGE_BYTES), nr;
	long long v[HP_N];

	s->skip = 1; /* until the pool is ready, a failure means "cannot run here" */
	if (meminfo_huge(v) != 0)
		return kfail("fopen(/proc/meminfo)");
	if (v[HP_SIZE_KB] != (long long)(HUGE_BYTES / 1024))
		return kwrong("the kernel's default huge page size is %lld kB, not %" PRIu64
			      " kB (Hugepagesize in /proc/meminfo)",
			      v[HP_SIZE_KB], HUGE_BYTES / 1024);
	int fd = open(HUGETLB_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0)
		fd = open(HUGETLB_LOCK, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kfail("open(%s)", HUGETLB_LOCK);
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		fprintf(stderr,
			"mmbench: hugefault: waiting up to %d s for %s (another usermm "
			"run uses the huge page pool)\n",
			HUGETLB_LOCK_WAIT, HUGETLB_LOCK);
		if (lock_ex_timed(fd, HUGETLB_LOCK_WAIT) != 0) {
			int r = kfail("flock(%s, LOCK_EX) within %d s", HUGETLB_LOCK,
				      HUGETLB_LOCK_WAIT);
			close(fd);
			return r;
		}
	}
	s->pool.fd = fd;
	s->pool.locked = 1;
	s->pool.old = pool_read();
	if (s->pool.old < 0)
		return kfail("reading %s", g_pool_file);
	nr = s->pool.old >= want ? s->pool.old : want;
	s->pool.nr = nr;
	if (nr != s->pool.old) {
		/* Set before the write: even a write that fails half-way is undone. */
		s->pool.set = 1;
		pool_guard(s->pool.old);
		if (pool_write(nr) != 0)
			return kfail("writing %ld to %s (as root?)", nr, g_pool_file);
	}
	if (pool_read() != nr || !pool_settled(nr, v))
		return kwrong("%s is %ld after setting it to %ld (was %ld), and the pool did not "
			      "settle: HugePages_Total %lld, Free %lld, Rsvd %lld, Surp %lld "
			      "(expected %ld, %ld, 0, 0; no memory for it?)",
			      g_pool_file, pool_read(), nr, s->pool.old, v[HP_TOTAL], v[HP_FREE],
			      v[HP_RSVD], v[HP_SURP], nr, nr);
	s->skip = 0;
	return 0;
}

/* Kernel side, after the case (whatever happened): the old pool size back, the lock released. */
static void k_huge_release(struct bstate *s)
{
	if (!s->pool.locked)
		return;
	g_kpool_nr = s->skip ? -1 : s->pool.nr;
	g_kpool_old = s->pool.old;
	if (s->pool.set) {
		/* A write that failed changed nothing: the old size stands. */
		if (pool_read() != s->pool.old &&
		    (pool_write(s->pool.old) != 0 || pool_read() != s->pool.old)) {
			int e = errno;
			add_note("hugefault: putting %s back to %ld failed (it reads %ld): "
				 "errno %d (%s)",
				 g_pool_file, s->pool.old, pool_read(), e, errname(e));
			g_bad = 1;
		}
		pool_unguard();
	}
	close(s->pool.fd);
	memset(&s->pool, 0, sizeof s->pool);
}

/* Kernel side: are HugePages_Free and _Rsvd as expected? */
static int k_pool_is(long long nfree, long long rsvd, const char *when)
{
	long long v[HP_N];
	if (meminfo_huge(v) != 0)
		return kfail("fopen(/proc/meminfo)");
	if (v[HP_FREE] != nfree || v[HP_RSVD] != rsvd)
		return kwrong(
		    "%s: HugePages_Free %lld, HugePages_Rsvd %lld (expected %lld and %lld)", when,
		    v[HP_FREE], v[HP_RSVD], nfree, rsvd);
	return 0;
}

/* The offsets of a huge page that every check reads: first, middle and last byte. */
static const uint64_t g_hoff[3] = {0, HUGE_BYTES / 2, HUGE_BYTES - 1};

/* What byte off of huge page i holds after the store of generation gen. */
static unsigned char huge_want(uint64_t i, uint64_t off, uint64_t gen)
{
	return off ? 0 : page_byte(i, gen);
}

/* The first byte of huge page i (all of it at pg) that is not huge_want, or HUGE_BYTES. */
static uint64_t huge_first_bad(const unsigned char *pg, uint64_t i, uint64_t gen)
{
	if (pg[0] != huge_want(i, 0, gen))
		return 0;
	for (uint64_t off = 8; off < HUGE_BYTES; off += 8) {
		uint64_t w;
		memcpy(&w, pg + off, 8);
		if (w)
			for (;; off++)
				if (pg[off])
					return off;
	}
	for (uint64_t off = 1; off < 8; off++)
		if (pg[off])
			return off;
	return HUGE_BYTES;
}

/* Either side: byte off of huge page i read got. */
static int huge_wrong(uint64_t i, uint64_t off, unsigned got, uint64_t gen)
{
	return kwrong("huge page %" PRIu64 " of the mapping: byte %" PRIu64 " reads 0x%02x after "
		      "a 1-byte store of 0x%02x to byte 0 of a fresh page (expected 0x%02x)",
		      i, off, got, page_byte(i, gen), huge_want(i, off, gen));
}

static int k_huge_check(unsigned char *b, uint64_t np, uint64_t gen)
{
	uint64_t pr[3];
	probes(np, pr);
	for (uint64_t i = 0; i < np; i++) {
		unsigned char *pg = b + i * HUGE_BYTES;
		for (int j = 0; j < 3; j++)
			if (pg[g_hoff[j]] != huge_want(i, g_hoff[j], gen))
				return huge_wrong(i, g_hoff[j], pg[g_hoff[j]], gen);
		if (i == pr[0] || i == pr[1] || i == pr[2]) {
			uint64_t off = huge_first_bad(pg, i, gen);
			if (off < HUGE_BYTES)
				return huge_wrong(i, off, pg[off], gen);
		}
		pg[g_hoff[1]] = 0xa5;
		pg[g_hoff[2]] = 0x5a;
	}
	return 0;
}

static int k_hugefault(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	uint64_t tmap = 0, tfault = 0, tunmap = 0, len = g_huge_bytes, np = len / HUGE_BYTES;
	long long nr = s->pool.nr;
	for (uint64_t k = 0; k < n; k++) {
		uint64_t gen = ++s->gen;
		uint64_t t0 = now_ns();
		void *a = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		tmap += now_ns() - t0;
		if (a == MAP_FAILED)
			return kfail("mmap(NULL, %" PRIu64 ", PROT_READ|PROT_WRITE, "
				     "MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB, -1, 0)",
				     len);
		unsigned char *b = a;
		int rc = k_pool_is(nr, (long long)np, "after mmap");
		if (rc == 0) {
			t0 = now_ns();
			for (uint64_t i = 0; i < np; i++)
				*(volatile unsigned char *)(b + i * HUGE_BYTES) = page_byte(i, gen);
			tfault += now_ns() - t0;
			rc = k_pool_is(nr - (long long)np, 0, "after the stores");
		}
		if (rc == 0)
			rc = k_huge_check(b, np, gen);
		t0 = now_ns();
		int urc = munmap(a, len);
		tunmap += now_ns() - t0;
		if (rc != 0)
			return -1;
		if (urc != 0)
			return kfail("munmap(%p, %" PRIu64 ")", a, len);
		if (k_pool_is(nr, 0, "after munmap") != 0)
			return -1;
	}
	s->aux[0] = tmap;
	s->aux[1] = tunmap;
	*ns = tfault;
	*ops = n;
	return 0;
}

/* usermm side: are um_sys_stats's hugepages_free and _rsvd as expected? */
static int u_pool_is(struct bstate *s, uint64_t nfree, uint64_t rsvd, const char *when)
{
	struct um_sys_stats st;
	um_system_stats(s->sys, &st);
	if (st.hugepages_free != nfree || st.hugepages_rsvd != rsvd)
		return uwrong("%s: um_system_stats says hugepages_free %" PRIu64
			      ", hugepages_rsvd %" PRIu64 " (expected %" PRIu64 " and %" PRIu64 ")",
			      when, st.hugepages_free, st.hugepages_rsvd, nfree, rsvd);
	return 0;
}

static int u_huge_setup(struct bstate *s)
{
	struct um_sys_stats st;
	um_system_stats(s->sys, &st);
	if (st.hugepage_size != HUGE_BYTES || st.hugepages_total != s->nr_huge)
		return uwrong("um_system_stats: hugepage_size %" PRIu64 ", hugepages_total %" PRIu64
			      " (expected %" PRIu64 " and %u)",
			      st.hugepage_size, st.hugepages_total, HUGE_BYTES, s->nr_huge);
	s->vec = malloc(HUGE_BYTES);
	if (!s->vec)
		return uwrong("malloc(%" PRIu64 ") failed", HUGE_BYTES);
	return 0;
}

static int u_huge_check(struct bstate *s, uint64_t a, uint64_t np, uint64_t gen)
{
	struct um_siginfo si;
	uint64_t pr[3], v;
	int rc;
	probes(np, pr);
	for (uint64_t i = 0; i < np; i++) {
		uint64_t pg = a + i * HUGE_BYTES;
		for (int j = 0; j < 3; j++) {
			rc = um_load(s->p, pg + g_hoff[j], 1, &v, &si);
			if (rc != 0)
				return ufail(rc, &si, "um_load(p, 0x%" PRIx64 ", 1, ...)",
					     pg + g_hoff[j]);
			if (v != huge_want(i, g_hoff[j], gen))
				return huge_wrong(i, g_hoff[j], (unsigned)v, gen);
		}
		if (i == pr[0] || i == pr[1] || i == pr[2]) {
			rc = um_copy_from(s->p, s->vec, pg, HUGE_BYTES, &si);
			if (rc != 0)
				return ufail(rc, &si,
					     "um_copy_from(p, buf, 0x%" PRIx64 ", %" PRIu64 ")", pg,
					     HUGE_BYTES);
			uint64_t off = huge_first_bad(s->vec, i, gen);
			if (off < HUGE_BYTES)
				return huge_wrong(i, off, s->vec[off], gen);
		}
		for (int j = 1; j < 3; j++) {
			rc = um_store(s->p, pg + g_hoff[j], 1, j == 1 ? 0xa5 : 0x5a, &si);
			if (rc != 0)
				return ufail(rc, &si, "um_store(p, 0x%" PRIx64 ", 1, ...)",
					     pg + g_hoff[j]);
		}
	}
	return 0;
}

static int u_hugefault(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	uint64_t tmap = 0, tfault = 0, tunmap = 0, len = g_huge_bytes, np = len / HUGE_BYTES;
	struct um_siginfo si;
	struct um_proc_stats pst;
	for (uint64_t k = 0; k < n; k++) {
		uint64_t gen = ++s->gen;
		uint64_t t0 = now_ns();
		int64_t a = um_mmap(s->p, 0, len, UM_PROT_READ | UM_PROT_WRITE,
				    UM_MAP_PRIVATE | UM_MAP_ANONYMOUS | UM_MAP_HUGETLB, -1, 0);
		tmap += now_ns() - t0;
		if (a < 0)
			return ufail(a, NULL,
				     "um_mmap(p, 0, %" PRIu64 ", PROT_READ|PROT_WRITE, "
				     "MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB, -1, 0)",
				     len);
		if (a == 0 || (uint64_t)a % HUGE_BYTES != 0)
			return uwrong("um_mmap(p, 0, %" PRIu64 ", RW, PRIVATE|ANON|HUGETLB) "
				      "returned 0x%" PRIx64 ", not a huge page boundary",
				      len, (uint64_t)a);
		if (u_pool_is(s, s->nr_huge, np, "after um_mmap") != 0)
			return -1;
		t0 = now_ns();
		for (uint64_t i = 0; i < np; i++) {
			int rc =
			    um_store(s->p, (uint64_t)a + i * HUGE_BYTES, 1, page_byte(i, gen), &si);
			if (rc != 0)
				return ufail(rc, &si, "um_store(p, 0x%" PRIx64 ", 1, ...)",
					     (uint64_t)a + i * HUGE_BYTES);
		}
		tfault += now_ns() - t0;
		if (u_pool_is(s, s->nr_huge - np, 0, "after the stores") != 0)
			return -1;
		um_proc_stats(s->p, &pst);
		if (pst.hugetlb != len)
			return uwrong("after a store to each huge page, um_proc_stats says hugetlb "
				      "%" PRIu64 " bytes (expected %" PRIu64 ")",
				      pst.hugetlb, len);
		if (u_huge_check(s, (uint64_t)a, np, gen) != 0)
			return -1;
		t0 = now_ns();
		int rc = um_munmap(s->p, (uint64_t)a, len);
		tunmap += now_ns() - t0;
		if (rc != 0)
			return ufail(rc, NULL, "um_munmap(p, 0x%" PRIx64 ", %" PRIu64 ")",
				     (uint64_t)a, len);
		if (u_pool_is(s, s->nr_huge, 0, "after um_munmap") != 0)
			return -1;
	}
	s->aux[0] = tmap;
	s->aux[1] = tunmap;
	*ns = tfault;
	*ops = n;
	return 0;
}

/* ------------------------------------------------------------ reclaim */

/*
 * reclaim-clean, reclaim-dirty. The file cases' file (g_file_bytes), all
 * of it in the page cache, is reclaimed whole; one op = one page.
 *
 * usermm: um_reclaim(sys, pages) is timed; before it, the file is cached
 * clean (read back with um_pread after the previous pass) or, for -dirty,
 * rewritten with um_pwrite (every page dirty: write-back + drop).
 *
 * Kernel, where a memory cgroup can be made (memcg.c, as the usermm tool's
 * kernel back end does for config phys=N): each pass moves the bench into
 * a child cgroup of its own, reads the file (or rewrites it) so that its
 * pages are charged there, moves back out, then times the cgroup's
 * reclaim: v1 memory.force_empty (the cgroup holds no process, so all of
 * it goes), v2 memory.reclaim of the file's size. Without a cgroup:
 * posix_fadvise(POSIX_FADV_DONTNEED) of the clean file, which is
 * invalidation, not reclaim (for -dirty: fdatasync first, timed too).
 * The notes say which one ran. After each pass both sides check that the
 * file left the cache (mincore, um_system_stats) and read back the words
 * that the pass wrote.
 */
static struct memcg g_cg;      /* the kernel side's cgroup, dir "" while none */
static char g_cg_why[512];     /* why there is none, when there could be none */
static const char *g_kmethod;  /* reclaim-*: how the kernel side reclaimed */
static uint64_t g_k_reclaimed; /* reclaim-*: pages the last kernel pass freed (cgroup usage) */

/* Makes g_cg limited to limit bytes, or says why not in g_cg_why. 0 or -1. */
static int k_cg_make(uint64_t limit)
{
	struct sbuf e;
	sb_init(&e);
	int rc = memcg_create(&g_cg, limit, &e);
	if (rc != 0)
		snprintf(g_cg_why, sizeof g_cg_why, "%s", sb_str(&e));
	sb_free(&e);
	return rc;
}

static int k_cg_enter(void)
{
	int e = memcg_enter(&g_cg);
	if (e != 0) {
		errno = -e;
		return kfail("moving the bench into %s", g_cg.dir);
	}
	return 0;
}

static int k_cg_leave(void)
{
	int e = memcg_leave(&g_cg);
	if (e != 0) {
		errno = -e;
		return kfail("moving the bench out of %s", g_cg.dir);
	}
	return 0;
}

/* The word that unit i of the file starts with after pass gen of a -dirty case (0: set-up). */
static uint64_t gen_word(uint64_t unit, uint64_t gen)
{
	return file_word(unit) ^ (gen << 40);
}

static void gen_chunk(unsigned char *buf, uint64_t len, uint64_t first, uint64_t gen)
{
	file_chunk(buf, len, first);
	for (uint64_t j = 0; j < len / 4096; j++) {
		uint64_t w = gen_word(first + j, gen);
		memcpy(buf + j * 4096, &w, 8);
	}
}

/* Kernel: pages of fd's first len bytes in the page cache (mincore), or -1. */
static int64_t k_cached(int fd, uint64_t len)
{
	uint64_t np = len / (uint64_t)g_kpage, in = 0;
	void *a = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (a == MAP_FAILED)
		return kfail("mmap(NULL, %" PRIu64 ", PROT_READ, MAP_SHARED, fd, 0)", len);
	unsigned char *vec = malloc(np);
	int rc = vec ? mincore(a, len, vec) : -1;
	if (rc == 0)
		for (uint64_t i = 0; i < np; i++)
			in += vec[i] & 1;
	else
		kfail("mincore of the file");
	free(vec);
	munmap(a, len);
	return rc == 0 ? (int64_t)in : -1;
}

static int k_drop(int fd)
{
	int e = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	if (e != 0) {
		errno = e;
		return kfail("posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)");
	}
	return 0;
}

static int k_reclaim_setup_n(struct bstate *s, int dirty)
{
	s->dirty = (uint64_t)dirty;
	if (k_file_setup(s) != 0)
		return -1;
	/* No limit to speak of: the cgroup is there to be reclaimed on demand. */
	g_kmethod = k_cg_make(4 * g_file_bytes + 256 * MIB) == 0
			? (g_cg.v2 ? "cgroup v2 memory.reclaim" : "cgroup v1 memory.force_empty")
		    : dirty ? "fdatasync + posix_fadvise(POSIX_FADV_DONTNEED) (invalidation)"
			    : "posix_fadvise(POSIX_FADV_DONTNEED) (invalidation, not reclaim)";
	/*
	 * 4 KiB folios, as usermm's pages (see g_kwrite): the -dirty passes
	 * write g_kwrite at a time; the -clean passes read with read-ahead off
	 * (POSIX_FADV_RANDOM: the kernel then reads order-0 folios), else its
	 * read-ahead fills large folios and reclaims many pages per folio.
	 */
	if (g_kwrite == 4096) {
		int e = posix_fadvise(s->kfd, 0, 0, POSIX_FADV_RANDOM);
		if (e != 0) {
			errno = e;
			return kfail("posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM)");
		}
	}
	/* The set-up's pages are charged to the bench's own cgroup: out with them. */
	return k_drop(s->kfd);
}

static int k_reclaim_clean_setup(struct bstate *s)
{
	return k_reclaim_setup_n(s, 0);
}

static int k_reclaim_dirty_setup(struct bstate *s)
{
	return k_reclaim_setup_n(s, 1);
}

/* Reads (or, dirty, rewrites with generation gen) the whole file with pread/pwrite. */
static int k_fill_cache(struct bstate *s, int dirty, uint64_t gen)
{
	for (uint64_t off = 0; off < g_file_bytes; off += RD_BUF) {
		ssize_t r = 0;
		if (dirty) {
			gen_chunk(g_rdbuf, RD_BUF, off / 4096, gen);
			for (uint64_t o = 0; o < RD_BUF; o += g_kwrite) {
				ssize_t w = pwrite(s->kfd, g_rdbuf + o, g_kwrite, (off_t)(off + o));
				if (w != (ssize_t)g_kwrite) {
					r = w < 0 ? w : r + w;
					break;
				}
				r += w;
			}
		} else {
			r = pread(s->kfd, g_rdbuf, RD_BUF, (off_t)off);
		}
		if (r != RD_BUF)
			return r < 0 ? kfail("%s(fd, buf, %d, %" PRIu64 ")",
					     dirty ? "pwrite" : "pread", RD_BUF, off)
				     : kwrong("%s(fd, buf, %d, %" PRIu64 ") returned %zd",
					      dirty ? "pwrite" : "pread", RD_BUF, off, r);
	}
	return 0;
}

static int k_reclaim(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	uint64_t total = 0, np = g_file_bytes / (uint64_t)g_kpage, pr[3];
	int dirty = s->dirty != 0;

	probes(g_file_bytes / 4096, pr);
	for (uint64_t k = 0; k < n; k++) {
		uint64_t gen = ++s->gen;
		if (g_cg.dir[0] && k_cg_enter() != 0)
			return -1;
		int rc = k_fill_cache(s, dirty, gen);
		if (g_cg.dir[0] && k_cg_leave() != 0)
			return -1;
		if (rc != 0)
			return -1;
		int64_t in = k_cached(s->kfd, g_file_bytes);
		if (in < 0)
			return -1;
		if ((uint64_t)in != np)
			return kwrong("before the reclaim, %" PRId64 " of the file's %" PRIu64
				      " pages were in the page cache (mincore)",
				      in, np);
		int64_t u0 = g_cg.dir[0] ? memcg_usage(&g_cg) : 0;
		uint64_t t0 = now_ns();
		if (g_cg.dir[0]) {
			int e = memcg_reclaim(&g_cg, g_file_bytes + 16 * MIB);
			/* v2: EAGAIN when less than asked could go (the file is all there is). */
			if (e != 0 && !(g_cg.v2 && e == -EAGAIN)) {
				errno = -e;
				return kfail("reclaim of %s", g_cg.dir);
			}
		} else {
			if (dirty && fdatasync(s->kfd) != 0)
				return kfail("fdatasync(fd)");
			if (k_drop(s->kfd) != 0)
				return -1;
		}
		total += now_ns() - t0;
		int64_t u1 = g_cg.dir[0] ? memcg_usage(&g_cg) : 0;
		g_k_reclaimed = u0 > u1 ? (uint64_t)(u0 - u1) / (uint64_t)g_kpage : 0;
		in = k_cached(s->kfd, g_file_bytes);
		if (in < 0)
			return -1;
		if ((uint64_t)in > np / 100)
			return kwrong("after the reclaim, %" PRId64 " of the file's %" PRIu64
				      " pages were still in the page cache (mincore)",
				      in, np);
		/* What the pass wrote is on the disk: read back from it. */
		for (int j = 0; j < 3; j++) {
			uint64_t w = 0, want = gen_word(pr[j], dirty ? gen : 0);
			if (pread(s->kfd, &w, 8, (off_t)(pr[j] * 4096)) != 8)
				return kfail("pread(fd, &w, 8, %" PRIu64 ")", pr[j] * 4096);
			if (w != want)
				return kwrong("after the reclaim, 4 KiB unit %" PRIu64
					      " of the file starts with 0x%" PRIx64
					      " (expected 0x%" PRIx64 ")",
					      pr[j], w, want);
		}
		if (k_drop(s->kfd) != 0)
			return -1;
	}
	*ns = total;
	*ops = n * np;
	return 0;
}

static int u_reclaim_setup_n(struct bstate *s, int dirty)
{
	s->dirty = (uint64_t)dirty;
	return u_file_setup(s);
}

static int u_reclaim_clean_setup(struct bstate *s)
{
	return u_reclaim_setup_n(s, 0);
}

static int u_reclaim_dirty_setup(struct bstate *s)
{
	return u_reclaim_setup_n(s, 1);
}

/* Reads the whole file with um_pread (caching it) and checks every unit's word. */
static int u_read_check(struct bstate *s, uint64_t gen)
{
	for (uint64_t off = 0; off < g_file_bytes; off += RD_BUF) {
		int64_t r = um_pread(s->p, s->ufd, g_rdbuf, RD_BUF, (int64_t)off);
		if (r != RD_BUF)
			return r < 0 ? ufail(r, NULL, "um_pread(p, fd, buf, %d, %" PRIu64 ")",
					     RD_BUF, off)
				     : uwrong("um_pread(p, fd, buf, %d, %" PRIu64
					      ") returned %" PRId64,
					      RD_BUF, off, r);
		for (uint64_t j = 0; j < RD_BUF / 4096; j++) {
			uint64_t w, u = off / 4096 + j;
			memcpy(&w, g_rdbuf + j * 4096, 8);
			if (w != gen_word(u, gen))
				return uwrong("after um_reclaim, 4 KiB unit %" PRIu64
					      " of the file starts with 0x%" PRIx64
					      " (expected 0x%" PRIx64 ")",
					      u, w, gen_word(u, gen));
		}
	}
	return 0;
}

static int u_reclaim(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	uint64_t total = 0, np = g_file_bytes / s->upage;
	int dirty = s->dirty != 0;
	struct um_sys_stats st;

	for (uint64_t k = 0; k < n; k++) {
		uint64_t gen = ++s->gen;
		if (dirty)
			for (uint64_t off = 0; off < g_file_bytes; off += RD_BUF) {
				gen_chunk(g_rdbuf, RD_BUF, off / 4096, gen);
				int64_t r = um_pwrite(s->p, s->ufd, g_rdbuf, RD_BUF, (int64_t)off);
				if (r != RD_BUF)
					return ufail(r, NULL, "um_pwrite(p, fd, buf, %d, %" PRIu64 ")",
						     RD_BUF, off);
			}
		um_system_stats(s->sys, &st);
		if (st.cached_pages != np || st.dirty_pages != (dirty ? np : 0))
			return uwrong("before um_reclaim: Cached %" PRIu64 ", Dirty %" PRIu64
				      " pages (expected %" PRIu64 ", %" PRIu64 ")",
				      st.cached_pages, st.dirty_pages, np, dirty ? np : 0);
		uint64_t t0 = now_ns();
		int64_t r = um_reclaim(s->sys, np);
		total += now_ns() - t0;
		if (r != (int64_t)np)
			return r < 0 ? ufail(r, NULL, "um_reclaim(sys, %" PRIu64 ")", np)
				     : uwrong("um_reclaim(sys, %" PRIu64 ") of the cached file "
					      "returned %" PRId64,
					      np, r);
		um_system_stats(s->sys, &st);
		if (st.cached_pages != 0)
			return uwrong("after um_reclaim of every page: Cached %" PRIu64 " pages",
				      st.cached_pages);
		/* Read back (from the host file) and cached again for the next pass. */
		if (u_read_check(s, dirty ? gen : 0) != 0)
			return -1;
	}
	*ns = total;
	*ops = n * np;
	return 0;
}

/* ------------------------------------------------------------ a big file through little memory */

/*
 * seq-1g, rand-1g: one read pass over a g_big_bytes file mapping (an
 * 8-byte load at the start of every page) through g_big_phys of memory;
 * sequential, or in a fixed-seed random permutation of the pages. One op
 * = one page. Both sides read one file, written once (g_kwrite at a time)
 * and fsync'ed in a directory of its own under $TMPDIR or /var/tmp (never
 * tmpfs: checked), removed at the end of the run.
 *
 * Kernel: each pass runs in a memory cgroup limited to g_big_phys (the
 * bench moves in before the mmap and out after the munmap); without a
 * cgroup the whole file can stay cached, and the notes say so. usermm: a
 * machine with phys_bytes g_big_phys whose sandbox is that directory.
 * Before every pass the file leaves the caches on both sides
 * (posix_fadvise(POSIX_FADV_DONTNEED) of the host file; usermm's page
 * cache with um_reclaim), so both read it from the same disk: usermm's
 * misses with pread, the kernel's with its own read-ahead. The sum of the
 * words loaded is checked after every pass.
 *
 * rand-1g maps with MADV_RANDOM on both sides: without it the kernel reads
 * around every fault (ra_pages, 128 KiB here) and in a cgroup of a few
 * times that, each fault reclaims what the last ones read; measured with
 * --quick (64 MiB through 16 MiB): 5.4 ms a page against 65 us with
 * MADV_RANDOM, so a 1 GiB pass would take about 24 minutes.
 */
static uint64_t g_big_bytes = GIB;
static uint64_t g_big_phys = 64 * MIB;
static char g_bigdir[512]; /* "" while none */
static char g_bigpath[600];
static long g_big_fs;	 /* statfs f_type of g_bigdir */
static uint64_t g_big_sum; /* sum of file_word over the file's 4 KiB units */
static uint32_t *g_perm;   /* rand-1g: the order of the pages */
static int g_big_cg = -1;  /* 1: the kernel's passes ran in a cgroup; 0: not; -1: not run */

static void big_remove(void)
{
	if (g_bigpath[0])
		unlink(g_bigpath);
	if (g_bigdir[0])
		rmdir(g_bigdir);
	g_bigpath[0] = g_bigdir[0] = 0;
	free(g_perm);
	g_perm = NULL;
}

/* The pages in pass order: identity for seq-1g, a Fisher-Yates shuffle (xorshift64, seed 1). */
static void big_order(uint64_t np, int rnd)
{
	free(g_perm);
	g_perm = malloc(np * sizeof *g_perm);
	if (!g_perm)
		return;
	for (uint64_t i = 0; i < np; i++)
		g_perm[i] = (uint32_t)i;
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	for (uint64_t i = np - 1; rnd && i > 0; i--) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint64_t j = x % (i + 1);
		uint32_t t = g_perm[i];
		g_perm[i] = g_perm[j];
		g_perm[j] = t;
	}
}

/* Makes the file once (both sides read it). 0, or -1 (g_err says why; s->skip on tmpfs). */
static int big_file(struct bstate *s, int rnd)
{
	uint64_t np = g_big_bytes / (uint64_t)g_kpage;
	big_order(np, rnd);
	if (!g_perm)
		return kfail("malloc of the page order");
	if (g_bigpath[0])
		return 0;
	if (rdbuf_get() != 0)
		return -1;
	const char *base = getenv("TMPDIR");
	snprintf(g_bigdir, sizeof g_bigdir, "%s/mmbench-big.XXXXXX",
		 base && *base ? base : "/var/tmp");
	if (!mkdtemp(g_bigdir)) {
		int r = kfail("mkdtemp(\"%s\")", g_bigdir);
		g_bigdir[0] = 0;
		return r;
	}
	struct statfs sf;
	if (statfs(g_bigdir, &sf) != 0)
		return kfail("statfs(\"%s\")", g_bigdir);
	g_big_fs = (long)sf.f_type;
	if ((unsigned long)sf.f_type == 0x01021994UL || (unsigned long)sf.f_type == 0x858458f6UL) {
		snprintf(g_err, sizeof g_err,
			 "%s is on tmpfs/ramfs: the file would be memory, not a disk "
			 "(set TMPDIR to a disk)",
			 g_bigdir);
		s->skip = 1;
		return -1;
	}
	snprintf(g_bigpath, sizeof g_bigpath, "%s/" FILE_NAME, g_bigdir);
	int fd = open(g_bigpath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return kfail("open(\"%s\", O_RDWR|O_CREAT|O_TRUNC)", g_bigpath);
	g_big_sum = 0;
	for (uint64_t off = 0; off < g_big_bytes; off += RD_BUF) {
		file_chunk(g_rdbuf, RD_BUF, off / 4096);
		for (uint64_t o = 0; o < RD_BUF; o += g_kwrite)
			if (pwrite(fd, g_rdbuf + o, g_kwrite, (off_t)(off + o)) !=
			    (ssize_t)g_kwrite) {
				int r = kfail("pwrite(fd, buf, %" PRIu64 ", %" PRIu64 ")", g_kwrite,
					      off + o);
				close(fd);
				return r;
			}
	}
	for (uint64_t u = 0; u < g_big_bytes / 4096; u++)
		g_big_sum += file_word(u);
	int rc = fsync(fd) != 0 ? kfail("fsync(fd)") : k_drop(fd);
	close(fd);
	return rc;
}

/* The sum of the words at the start of every kernel page of the file. */
static uint64_t big_page_sum(void)
{
	uint64_t sum = 0, upp = (uint64_t)g_kpage / 4096;
	for (uint64_t p = 0; p < g_big_bytes / (uint64_t)g_kpage; p++)
		sum += file_word(p * upp);
	return sum;
}

static int k_big_setup_n(struct bstate *s, int rnd)
{
	s->rnd = rnd;
	if (big_file(s, rnd) != 0)
		return -1;
	s->kfd = open(g_bigpath, O_RDONLY | O_CLOEXEC);
	if (s->kfd < 0)
		return kfail("open(\"%s\", O_RDONLY)", g_bigpath);
	s->kfile = 1; /* closed by k_file_close, which removes g_kpath only */
	g_big_cg = k_cg_make(g_big_phys) == 0;
	s->npages = g_big_bytes / (uint64_t)g_kpage;
	return 0;
}

static int k_seq_setup(struct bstate *s)
{
	return k_big_setup_n(s, 0);
}

static int k_rand_setup(struct bstate *s)
{
	return k_big_setup_n(s, 1);
}

static int k_big(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	uint64_t total = 0, pg = (uint64_t)g_kpage, np = s->npages, want = big_page_sum();
	for (uint64_t k = 0; k < n; k++) {
		if (k_drop(s->kfd) != 0)
			return -1;
		if (g_cg.dir[0] && k_cg_enter() != 0)
			return -1;
		unsigned char *a = mmap(NULL, g_big_bytes, PROT_READ, MAP_SHARED, s->kfd, 0);
		if (a == MAP_FAILED) {
			kfail("mmap(NULL, %" PRIu64 ", PROT_READ, MAP_SHARED, fd, 0)", g_big_bytes);
			if (g_cg.dir[0])
				memcg_leave(&g_cg);
			return -1;
		}
		madvise(a, g_big_bytes, MADV_NOHUGEPAGE);
		/* rand-1g: no read-around (see the comment above); EINVAL cannot happen here. */
		if (s->rnd && madvise(a, g_big_bytes, MADV_RANDOM) != 0) {
			kfail("madvise(%p, %" PRIu64 ", MADV_RANDOM)", (void *)a, g_big_bytes);
			munmap(a, g_big_bytes);
			if (g_cg.dir[0])
				memcg_leave(&g_cg);
			return -1;
		}
		uint64_t sum = 0, t0 = now_ns();
		for (uint64_t i = 0; i < np; i++)
			sum += *(volatile uint64_t *)(a + (uint64_t)g_perm[i] * pg);
		total += now_ns() - t0;
		munmap(a, g_big_bytes);
		if (g_cg.dir[0] && k_cg_leave() != 0)
			return -1;
		if (sum != want)
			return kwrong("a pass over the file summed 0x%" PRIx64 " (expected 0x%" PRIx64
				      ")",
				      sum, want);
	}
	*ns = total;
	*ops = n * np;
	return 0;
}

static int u_big_setup_n(struct bstate *s, int rnd)
{
	s->rnd = rnd;
	if (big_file(s, rnd) != 0)
		return -1;
	int fd = um_open(s->p, FILE_NAME, UM_O_RDONLY | UM_O_CLOEXEC, 0);
	if (fd < 0)
		return ufail(fd, NULL, "um_open(p, \"" FILE_NAME "\", O_RDONLY)");
	s->ufd = fd;
	s->hfd = open(g_bigpath, O_RDONLY | O_CLOEXEC);
	if (s->hfd < 0)
		return kfail("open(\"%s\", O_RDONLY)", g_bigpath);
	s->npages = g_big_bytes / s->upage;
	return 0;
}

static int u_seq_setup(struct bstate *s)
{
	return u_big_setup_n(s, 0);
}

static int u_rand_setup(struct bstate *s)
{
	return u_big_setup_n(s, 1);
}

static int u_big(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	uint64_t total = 0, pg = s->upage, np = s->npages, want = big_page_sum();
	struct um_siginfo si;
	struct um_sys_stats st;
	for (uint64_t k = 0; k < n; k++) {
		if (k_drop(s->hfd) != 0)
			return -1;
		int64_t a = um_mmap(s->p, 0, g_big_bytes, UM_PROT_READ, UM_MAP_SHARED, s->ufd, 0);
		if (a < 0)
			return ufail(a, NULL, "um_mmap(p, 0, %" PRIu64 ", PROT_READ, MAP_SHARED, fd, 0)",
				     g_big_bytes);
		if (s->rnd) {
			int rc = um_madvise(s->p, (uint64_t)a, g_big_bytes, UM_MADV_RANDOM);
			if (rc != 0)
				return ufail(rc, NULL, "um_madvise(p, 0x%" PRIx64 ", %" PRIu64
					     ", MADV_RANDOM)", (uint64_t)a, g_big_bytes);
		}
		uint64_t sum = 0, t0 = now_ns();
		for (uint64_t i = 0; i < np; i++) {
			uint64_t v, va = (uint64_t)a + (uint64_t)g_perm[i] * pg;
			int rc = um_load(s->p, va, 8, &v, &si);
			if (rc != 0)
				return ufail(rc, &si, "um_load(p, 0x%" PRIx64 ", 8, ...)", va);
			sum += v;
		}
		total += now_ns() - t0;
		int rc = um_munmap(s->p, (uint64_t)a, g_big_bytes);
		if (rc != 0)
			return ufail(rc, NULL, "um_munmap(p, 0x%" PRIx64 ", %" PRIu64 ")",
				     (uint64_t)a, g_big_bytes);
		if (sum != want)
			return uwrong("a pass over the file summed 0x%" PRIx64 " (expected 0x%" PRIx64
				      ")",
				      sum, want);
		/* The next pass starts with nothing cached, as the kernel's does. */
		um_system_stats(s->sys, &st);
		int64_t r = um_reclaim(s->sys, st.cached_pages);
		if (r != (int64_t)st.cached_pages)
			return uwrong("um_reclaim(sys, %" PRIu64 ") with nothing mapped returned %" PRId64,
				      st.cached_pages, r);
	}
	*ns = total;
	*ops = n * np;
	return 0;
}

/* ------------------------------------------------------------ swap */

/*
 * reclaim-anon, swapin (issue 14's swap rows). They run only when named in
 * full or with --swap (then any prefix that selects them): the kernel side
 * swaps on a file of the host, and the default run must not.
 *
 * One pass: a fresh g_swap_region private anonymous mapping, every page
 * written (8 bytes: page index and pass), then MADV_PAGEOUT over all of it;
 * pswpout must rise by at least every page. reclaim-anon times the
 * MADV_PAGEOUT call: one op = one page. swapin then reads the region back
 * in order, one 8-byte load per page, each word checked; that is timed,
 * one op = one page, and the major faults and pages read from swap per
 * page are reported.
 *
 * usermm: a machine whose um_config.swap_bytes (g_swap_file) makes its
 * swap file in the sandbox; um_madvise(UM_MADV_PAGEOUT) writes each page
 * to it (pwrite) and frees it before it returns; a read fault reads the
 * page's aligned cluster of 2^3 slots (swap_cluster_readahead).
 *
 * Kernel, as root: a swap file of g_swap_file in /var/tmp (mkstemp,
 * fallocate, mode 600, a version-1 swap header as mkswap writes, swapon),
 * swapped off and removed after the case, at exit, and on SIGINT, SIGTERM
 * and SIGHUP. Without root, or where swapon fails, the kernel side is not
 * run. vm.page-cluster is set to 3 (usermm's cluster of 8) for the case
 * when it is not, and put back. Each pass writes the region inside a
 * memory cgroup of its own (memcg.c) and leaves it; after MADV_PAGEOUT,
 * whose writes are still in flight when it returns, swapin reclaims the
 * cgroup (v1 memory.force_empty, v2 memory.reclaim), which waits for them
 * and drops the swap cache, so that every page read back is a major
 * fault; after munmap the cgroup is reclaimed again (slots that only the
 * swap cache holds). swapin does not run without the cgroup.
 */
static uint64_t g_swap_region = 64 * MIB; /* reclaim-anon, swapin */
static uint64_t g_swap_file;		  /* 2 x region + 1 MiB: set in main */
static int g_swap_flag;			  /* --swap */
static char g_swfile[64];		  /* the kernel side's swap file, "" while none */
static volatile sig_atomic_t g_swon;	  /* it is swapped on */
static long g_pc_old = -1;		  /* vm.page-cluster before the case */
static long g_pc = -1;			  /* during it */
static volatile sig_atomic_t g_pc_set;	  /* written: g_pc_oldtxt goes back */
static char g_pc_oldtxt[24];
static char g_vma_ra[8];	 /* /sys/kernel/mm/swap/vma_ra_enabled */
static const char *g_swap_cgwhy; /* kernel swapin: no cgroup, why */
#define PAGE_CLUSTER "/proc/sys/vm/page-cluster"

/* Async-signal-safe: swapoff, unlink, vm.page-cluster back. */
static void k_swap_cleanup(void)
{
	if (g_swon && swapoff(g_swfile) == 0)
		g_swon = 0;
	if (g_swfile[0] && !g_swon) {
		unlink(g_swfile);
		g_swfile[0] = 0;
	}
	if (g_pc_set) {
		int fd = open(PAGE_CLUSTER, O_WRONLY);
		if (fd >= 0) {
			if (write(fd, g_pc_oldtxt, strlen(g_pc_oldtxt)) > 0)
				g_pc_set = 0;
			close(fd);
		}
	}
}

static void k_swap_signal(int sig)
{
	k_swap_cleanup();
	if (g_cg.dir[0])
		rmdir(g_cg.dir); /* best effort: fails while the bench is in it */
	signal(sig, SIG_DFL);
	raise(sig);
}

/* A number from a "key value" (vmstat) or "key: value kB" (meminfo) line, or -1. */
static int64_t proc_value(const char *file, const char *key)
{
	FILE *f = fopen(file, "r");
	char line[256];
	int64_t v = -1;
	size_t l = strlen(key);
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, key, l) && (line[l] == ' ' || line[l] == ':')) {
			long long x;
			if (sscanf(line + l + 1, "%lld", &x) == 1)
				v = x;
			break;
		}
	fclose(f);
	return v;
}

/* Swaps on a g_swap_file swap file in /var/tmp. 0, or -1 with s->skip set (g_err says why). */
static int k_swap_on(struct bstate *s)
{
	static int hooked;
	s->skip = 1; /* until swap is on, a failure means "cannot run here" */
	if (geteuid() != 0)
		return kwrong("swapon needs root (euid %u)", (unsigned)geteuid());
	if (!hooked) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = k_swap_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		atexit(k_swap_cleanup);
		hooked = 1;
	}
	snprintf(g_swfile, sizeof g_swfile, "/var/tmp/mmbench-swap.XXXXXX");
	int fd = mkstemp(g_swfile);
	if (fd < 0) {
		g_swfile[0] = 0;
		return kfail("mkstemp(/var/tmp/mmbench-swap.XXXXXX)");
	}
	int rc = 0;
	unsigned char *h = calloc(1, (size_t)g_kpage);
	if (fchmod(fd, 0600) != 0)
		rc = kfail("fchmod(%s, 0600)", g_swfile);
	if (rc == 0) {
		int e = posix_fallocate(fd, 0, (off_t)g_swap_file);
		if (e != 0) {
			errno = e;
			rc = kfail("posix_fallocate(%s, 0, %" PRIu64 ")", g_swfile, g_swap_file);
		}
	}
	if (rc == 0 && !h)
		rc = kfail("calloc(1, %ld)", g_kpage);
	if (rc == 0) {
		/* union swap_header: version 1, last_page, nr_badpages 0; the magic ends page 0. */
		uint32_t w[3] = {1, (uint32_t)(g_swap_file / (uint64_t)g_kpage - 1), 0};
		memcpy(h + 1024, w, sizeof w);
		memcpy(h + g_kpage - 10, "SWAPSPACE2", 10);
		if (pwrite(fd, h, (size_t)g_kpage, 0) != (ssize_t)g_kpage || fsync(fd) != 0)
			rc = kfail("writing the swap header of %s", g_swfile);
	}
	free(h);
	close(fd);
	if (rc == 0 && swapon(g_swfile, 0) != 0)
		rc = kfail("swapon(%s, 0)", g_swfile);
	if (rc != 0) {
		unlink(g_swfile);
		g_swfile[0] = 0;
		return -1;
	}
	g_swon = 1;
	/* usermm reads clusters of 2^3: the kernel the same. */
	g_pc_old = read_long(PAGE_CLUSTER);
	snprintf(g_pc_oldtxt, sizeof g_pc_oldtxt, "%ld\n", g_pc_old);
	if (g_pc_old != 3 && g_pc_old >= 0) {
		int pfd = open(PAGE_CLUSTER, O_WRONLY);
		if (pfd >= 0) {
			g_pc_set = write(pfd, "3\n", 2) == 2;
			close(pfd);
		}
	}
	g_pc = read_long(PAGE_CLUSTER);
	FILE *f = fopen("/sys/kernel/mm/swap/vma_ra_enabled", "r");
	snprintf(g_vma_ra, sizeof g_vma_ra, "?");
	if (f) {
		if (fscanf(f, "%7s", g_vma_ra) != 1)
			snprintf(g_vma_ra, sizeof g_vma_ra, "?");
		fclose(f);
	}
	s->skip = 0;
	return 0;
}

static int k_swap_setup_n(struct bstate *s, int swapin)
{
	s->swapin = swapin;
	if (k_swap_on(s) != 0)
		return -1;
	if (k_cg_make(4 * g_swap_region + 256 * MIB) != 0) {
		g_swap_cgwhy = g_cg_why;
		if (swapin) {
			s->skip = 1;
			return kwrong("no memory cgroup to drop the swap cache with (%s): every "
				      "read would be a minor fault",
				      g_cg_why);
		}
	}
	return 0;
}

static int k_swap_reclaim_setup(struct bstate *s)
{
	return k_swap_setup_n(s, 0);
}

static int k_swapin_setup(struct bstate *s)
{
	return k_swap_setup_n(s, 1);
}

static uint64_t swap_word(uint64_t i, uint64_t gen)
{
	return (i << 16) | (gen & 0xffff) | 1;
}

static int k_cg_drop(void)
{
	if (!g_cg.dir[0])
		return 0;
	int e = memcg_reclaim(&g_cg, 4 * g_swap_region);
	if (e != 0 && !(g_cg.v2 && e == -EAGAIN)) {
		errno = -e;
		return kfail("reclaim of %s", g_cg.dir);
	}
	return 0;
}

static int k_swap(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	uint64_t total = 0, np = g_swap_region / (uint64_t)g_kpage;
	for (uint64_t k = 0; k < n; k++) {
		uint64_t gen = ++s->gen;
		if (g_cg.dir[0] && k_cg_enter() != 0)
			return -1;
		int rc = k_map(s, g_swap_region);
		if (rc == 0)
			for (uint64_t i = 0; i < np; i++)
				*(volatile uint64_t *)(s->ka + i * (uint64_t)g_kpage) =
				    swap_word(i, gen);
		if (g_cg.dir[0] && k_cg_leave() != 0)
			return -1;
		if (rc != 0)
			return -1;
		int64_t o0 = proc_value("/proc/vmstat", "pswpout");
		uint64_t t0 = now_ns();
		if (madvise(s->ka, s->len, MADV_PAGEOUT) != 0)
			return kfail("madvise(%p, %" PRIu64 ", MADV_PAGEOUT)", s->ka, s->len);
		uint64_t t1 = now_ns();
		int64_t o1 = proc_value("/proc/vmstat", "pswpout");
		/*
		 * Pages still in another CPU's LRU-add batch (the bench moved between
		 * the stores and the call) are not isolated: up to 1% may stay.
		 */
		if (o0 < 0 || o1 - o0 < (int64_t)(np - np / 100))
			return kwrong("MADV_PAGEOUT of %" PRIu64 " written pages: pswpout rose by "
				      "%" PRId64,
				      np, o1 - o0);
		if (!s->swapin) {
			total += t1 - t0;
			s->aux[1] += (uint64_t)(o1 - o0);
		} else {
			if (k_cg_drop() != 0)
				return -1;
			int64_t sc = proc_value("/proc/meminfo", "SwapCached");
			if (sc < 0 || (uint64_t)sc * 1024 > g_swap_region / 10)
				return kwrong("after the cgroup reclaim, SwapCached is %" PRId64
					      " kB (expected < 10%% of the region)",
					      sc);
			struct rusage r0, r1;
			int64_t i0 = proc_value("/proc/vmstat", "pswpin");
			getrusage(RUSAGE_SELF, &r0);
			uint64_t bad = np, sum = 0;
			t0 = now_ns();
			for (uint64_t i = 0; i < np; i++) {
				uint64_t v = *(volatile uint64_t *)(s->ka + i * (uint64_t)g_kpage);
				if (v != swap_word(i, gen) && bad == np)
					bad = i;
				sum += v;
			}
			t1 = now_ns();
			getrusage(RUSAGE_SELF, &r1);
			int64_t i1 = proc_value("/proc/vmstat", "pswpin");
			g_sink += sum;
			total += t1 - t0;
			if (bad != np)
				return kwrong("after swap-in, page %" PRIu64
					      " starts with 0x%" PRIx64 " (expected 0x%" PRIx64 ")",
					      bad, *(uint64_t *)(s->ka + bad * (uint64_t)g_kpage),
					      swap_word(bad, gen));
			s->aux[0] += (uint64_t)(r1.ru_majflt - r0.ru_majflt);
			s->aux[1] += i1 > i0 ? (uint64_t)(i1 - i0) : 0;
		}
		if (k_unmap(s) != 0 || k_cg_drop() != 0)
			return -1;
	}
	*ns = total;
	*ops = n * np;
	return 0;
}

static int u_swap_setup_n(struct bstate *s, int swapin)
{
	struct um_sys_stats st;
	s->swapin = swapin;
	um_system_stats(s->sys, &st);
	if (st.swap_total * s->upage < 2 * g_swap_region)
		return uwrong("um_config.swap_bytes %" PRIu64 ": SwapTotal %" PRIu64 " pages",
			      s->swap, st.swap_total);
	return 0;
}

static int u_swap_reclaim_setup(struct bstate *s)
{
	return u_swap_setup_n(s, 0);
}

static int u_swapin_setup(struct bstate *s)
{
	return u_swap_setup_n(s, 1);
}

static int u_swap(struct bstate *s, uint64_t n, uint64_t *ops, uint64_t *ns)
{
	uint64_t total = 0, np = g_swap_region / s->upage;
	struct um_sys_stats st;
	struct um_siginfo si;
	for (uint64_t k = 0; k < n; k++) {
		uint64_t gen = ++s->gen;
		if (u_map_case(s, g_swap_region) != 0)
			return -1;
		for (uint64_t i = 0; i < np; i++) {
			uint64_t a = s->ua + i * s->upage;
			int rc = um_store(s->p, a, 8, swap_word(i, gen), &si);
			if (rc != 0)
				return ufail(rc, &si, "um_store(p, 0x%" PRIx64 ", 8, ...)", a);
		}
		um_system_stats(s->sys, &st);
		uint64_t o0 = st.pswpout;
		uint64_t t0 = now_ns();
		int rc = um_madvise(s->p, s->ua, s->len, UM_MADV_PAGEOUT);
		uint64_t t1 = now_ns();
		if (rc != 0)
			return ufail(rc, NULL,
				     "um_madvise(p, 0x%" PRIx64 ", %" PRIu64 ", MADV_PAGEOUT)",
				     s->ua, s->len);
		um_system_stats(s->sys, &st);
		if (st.pswpout - o0 < np || st.swap_cached != 0)
			return uwrong("MADV_PAGEOUT of %" PRIu64 " written pages: pswpout rose by "
				      "%" PRIu64 ", SwapCached %" PRIu64 " pages",
				      np, st.pswpout - o0, st.swap_cached);
		if (!s->swapin) {
			total += t1 - t0;
			s->aux[1] += st.pswpout - o0;
		} else {
			/*
			 * The swap file (src/swap.h's SWAPFILE_NAME in the sandbox) out of the
			 * host's page cache, as the kernel's swap is out of its own: both
			 * sides read the same disk.
			 */
			char path[1024];
			snprintf(path, sizeof path, "%s/.usermm-swap", um_sandbox_dir(s->sys));
			int fd = open(path, O_RDONLY);
			if (fd < 0)
				return uwrong("open(%s): %s", path, strerror(errno));
			int e = fdatasync(fd) != 0 ? errno
						   : posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
			close(fd);
			if (e != 0)
				return uwrong("fdatasync + POSIX_FADV_DONTNEED of %s: %s", path,
					      strerror(e));
			uint64_t m0 = st.pgmajfault, i0 = st.pswpin, bad = np, badv = 0, sum = 0;
			t0 = now_ns();
			for (uint64_t i = 0; i < np; i++) {
				uint64_t v = 0, a = s->ua + i * s->upage;
				rc = um_load(s->p, a, 8, &v, &si);
				if (rc != 0)
					return ufail(rc, &si, "um_load(p, 0x%" PRIx64 ", 8, ...)",
						     a);
				if (v != swap_word(i, gen) && bad == np) {
					bad = i;
					badv = v;
				}
				sum += v;
			}
			t1 = now_ns();
			g_sink += sum;
			total += t1 - t0;
			if (bad != np)
				return uwrong("after swap-in, page %" PRIu64
					      " starts with 0x%" PRIx64 " (expected 0x%" PRIx64 ")",
					      bad, badv, swap_word(bad, gen));
			um_system_stats(s->sys, &st);
			s->aux[0] += st.pgmajfault - m0;
			s->aux[1] += st.pswpin - i0;
		}
		rc = um_munmap(s->p, s->ua, s->len);
		if (rc != 0)
			return ufail(rc, NULL, "um_munmap(p, 0x%" PRIx64 ", %" PRIu64 ")", s->ua,
				     s->len);
		s->ua = 0;
	}
	*ns = total;
	*ops = n * np;
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
    {"load-inline", "8-byte load, TLB hit, inline um_load64_hit", k_hit_setup, k_hit, u_hit_setup,
     u_hit_inline, T_NS, 3},
    {"load-miss", "8-byte load, TLB miss (page stride)", k_miss_setup, k_miss, u_miss_setup, u_miss,
     T_NONE, 0},
    {"rfault-priv", "read fault, private file map, cached, per pg", k_rfault_priv_setup, k_rfault,
     u_rfault_priv_setup, u_rfault, T_VS_KERNEL, 1},
    {"rfault-share", "read fault, shared file map, cached, per pg", k_rfault_shared_setup, k_rfault,
     u_rfault_shared_setup, u_rfault, T_VS_KERNEL, 1},
    {"wfault-share", "write fault, shared file map, per page", k_wfault_setup, k_wfault_shared,
     u_wfault_setup, u_wfault_shared, T_VS_KERNEL, 0.25},
    {"wfault-priv", "COW write fault, private file map, per page", k_wfault_setup, k_wfault_priv,
     u_wfault_setup, u_wfault_priv, T_VS_KERNEL, 0.25},
    {"msync1", "store to 1 page + msync MS_SYNC", k_msync1_setup, k_msync, u_msync1_setup, u_msync,
     T_VS_KERNEL, 1.1},
    {"msync64", "stores to 64 pages + msync MS_SYNC", k_msync64_setup, k_msync, u_msync64_setup,
     u_msync, T_VS_KERNEL, 1.1},
    {"msync4096", "stores to 4096 pages + msync MS_SYNC", k_msync4096_setup, k_msync,
     u_msync4096_setup, u_msync, T_VS_KERNEL, 1.1},
    {"read-seq", "read() | um_read, whole file, ns per 4 KiB", k_read_setup, k_read, u_read_setup,
     u_read, T_VS_KERNEL, 1.5},
    {"mremap-grow", "mremap MAYMOVE, 4 KiB doubled up to 64 MiB", NULL, k_grow, NULL, u_grow,
     T_VS_KERNEL, 1},
    {"mremap-4k", "mremap FIXED move of 1 populated page", k_move4k_setup, k_move, u_move4k_setup,
     u_move, T_VS_KERNEL, 1},
    {"mremap-256m", "mremap FIXED move, 256 MiB populated, 2M al.", k_move256_setup, k_move,
     u_move256_setup, u_move, T_VS_KERNEL, 1},
    {"mremap-256mu", "mremap FIXED move, 256 MiB populated, unal.", k_move256u_setup, k_move,
     u_move256u_setup, u_move, T_VS_KERNEL, 1},
    {"mlock", "mlock 64 MiB untouched (faults it all in)", NULL, k_mlock, NULL, u_mlock,
     T_VS_KERNEL, 1},
    {"dontneed", "MADV_DONTNEED 64 MiB + refault: the sum", k_dontneed_setup, k_dontneed,
     u_dontneed_setup, u_dontneed, T_VS_KERNEL, 1},
    {"mincore", "mincore 1 GiB, every 4th page resident", k_mincore_setup, k_mincore,
     u_mincore_setup, u_mincore, T_VS_KERNEL, 1},
    {"hugefault", "hugetlb fault: 64 MiB MAP_HUGETLB, 32 pages", k_huge_setup, k_hugefault,
     u_huge_setup, u_hugefault, T_VS_KERNEL, 1},
    {"reclaim-clean", "reclaim of clean cached file pages, per page", k_reclaim_clean_setup,
     k_reclaim, u_reclaim_clean_setup, u_reclaim, T_VS_KERNEL, 0.25},
    {"reclaim-dirty", "reclaim of dirty file pages (write-back+drop)", k_reclaim_dirty_setup,
     k_reclaim, u_reclaim_dirty_setup, u_reclaim, T_NONE, 0},
    {"reclaim-anon", "MADV_PAGEOUT of written anon pages, per page", k_swap_reclaim_setup, k_swap,
     u_swap_reclaim_setup, u_swap, T_NONE, 0},
    {"swapin", "swap-in read fault, sequential, per page", k_swapin_setup, k_swap, u_swapin_setup,
     u_swap, T_NONE, 0},
    {"seq-1g", "sequential read pass, 1 GiB file map, per pg", k_seq_setup, k_big, u_seq_setup,
     u_big, T_VS_KERNEL, 1.2},
    {"rand-1g", "random-order read pass, 1 GiB file map, per pg", k_rand_setup, k_big,
     u_rand_setup, u_big, T_NONE, 0},
};
#define NCASES ((int)(sizeof g_cases / sizeof g_cases[0]))

struct result {
	int ran;
	int k_ok, u_ok;
	int k_skip; /* the kernel side could not run on this machine */
	double k_ns, u_ns;
	struct pass_faults pf[2]; /* file fault cases: faults in the last pass */
	double aux[2][2];	  /* [side][j]: best_aux of the reported batch */
};
static struct result g_res[NCASES];
static double g_aux[2][2]; /* the current case's best_aux, 0: kernel, 1: usermm */

/* ------------------------------------------------------------ the driver */

/*
 * Runs one operation as a warm-up (first use of memory, on either side,
 * can cost far more than steady state and must not set the batch size),
 * calibrates n so that one batch takes at least g_case_batch_ns, then keeps the
 * best of g_reps batches of n.
 */
static int measure(batch_fn fn, struct bstate *s, double *best)
{
	uint64_t n = 1, ops = 0, ns = 0;
	/* Batches of one long pass (seq-1g, rand-1g): the calibration's pass is the warm-up. */
	if (g_case_batch_ns > 1 && fn(s, 1, &ops, &ns) != 0)
		return -1;
	for (;;) {
		if (fn(s, n, &ops, &ns) != 0)
			return -1;
		if (ns >= g_case_batch_ns)
			break;
		uint64_t nn =
		    ns ? (uint64_t)((double)n * 1.2 * (double)g_case_batch_ns / (double)ns) + 1
		       : n * 100;
		if (nn > n * 100)
			nn = n * 100;
		if (nn <= n)
			nn = n + 1;
		n = nn;
	}
	*best = -1;
	for (int r = 0; r < g_reps; r++) {
		s->aux[0] = s->aux[1] = 0;
		if (fn(s, n, &ops, &ns) != 0)
			return -1;
		if (ops == 0) {
			snprintf(g_err, sizeof g_err, "a batch did no operation");
			return -1;
		}
		double v = (double)ns / (double)ops;
		if (*best < 0 || v < *best) {
			*best = v;
			/* The parts and counts of the batch that is reported. */
			for (int j = 0; j < 2; j++)
				s->best_aux[j] = (double)s->aux[j] / (double)ops;
		}
	}
	return 0;
}

/* 0: measured, -1: failed, 1: cannot run on this machine (g_err says why). */
static int run_kernel(const struct bcase *c, double *res)
{
	struct bstate s;
	memset(&s, 0, sizeof s);
	int rc = 0;
	if (c->k_setup)
		rc = c->k_setup(&s);
	if (rc == 0)
		rc = measure(c->k_batch, &s, res);
	memcpy(g_aux[0], s.best_aux, sizeof g_aux[0]);
	free(s.vec);
	if (s.ka) {
		char keep[sizeof g_err];
		memcpy(keep, g_err, sizeof keep);
		if (k_unmap(&s) != 0 && rc == 0)
			rc = -1;
		else if (rc != 0)
			memcpy(g_err, keep, sizeof keep);
	}
	k_file_close(&s);
	k_huge_release(&s);
	if (g_cg.dir[0]) {
		memcg_leave(&g_cg); /* never killed by its own clean-up */
		memcg_destroy(&g_cg);
	}
	if (c->k_batch == k_swap)
		k_swap_cleanup(); /* swapoff, the file removed, vm.page-cluster back */
	return s.skip ? 1 : rc;
}

static int u_machine(struct bstate *s)
{
	struct um_config cfg;
	um_config_init(&cfg);
	cfg.phys_bytes = s->phys ? s->phys : g_phys;
	cfg.sandbox_dir = s->sandbox;
	/* mlock: the limit and the privilege the kernel side runs with. */
	cfg.rlimit_memlock = g_memlock;
	cfg.privileged = g_ipc_lock;
	cfg.nr_hugepages = s->nr_huge;
	cfg.swap_bytes = s->swap;
	int rc = um_system_new(&cfg, &s->sys);
	if (rc != 0)
		return ufail(rc, NULL, "um_system_new(phys_bytes = %" PRIu64 ")", cfg.phys_bytes);
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
	if ((s->ufile || s->big) && s->hfd >= 0)
		close(s->hfd);
	if (measured_ok && s->ufile) {
		/*
		 * Nothing is mapped now: the frames in use are the file's pages in
		 * the page cache, which outlives the process (as Linux's does),
		 * and the process's page tables (its root at least). Truncating
		 * the file to 0 drops them, so that after um_exit no frame may be
		 * left.
		 */
		struct um_sys_stats st;
		uint64_t fpages = g_file_bytes / s->upage;
		um_system_stats(s->sys, &st);
		if (st.frames_used - st.page_tables / s->upage != fpages) {
			add_note("%s: with the %" PRIu64 "-page file cached and nothing mapped, "
				 "um_system_stats says frames_used %" PRIu64 " less %" PRIu64
				 " of page tables (expected %" PRIu64 ")",
				 c->name, fpages, st.frames_used, st.page_tables / s->upage, fpages);
			g_bad = 1;
		}
		rc = um_ftruncate(s->p, s->ufd, 0);
		if (rc != 0) {
			ufail(rc, NULL, "um_ftruncate(p, fd, 0)");
			add_note("%s: teardown: %s", c->name, g_err);
			g_bad = 1;
		}
		rc = um_close(s->p, s->ufd);
		if (rc != 0) {
			ufail(rc, NULL, "um_close(p, fd)");
			add_note("%s: teardown: %s", c->name, g_err);
			g_bad = 1;
		}
	}
	if (measured_ok && s->p) {
		um_exit(s->p);
		s->p = NULL;
		struct um_sys_stats st;
		um_system_stats(s->sys, &st);
		/* The huge page pool's frames are set aside: never free, never leaked. */
		uint64_t pool = st.hugepages_total * (st.hugepage_size / s->upage);
		if (st.nr_procs != 0 || st.frames_used != pool ||
		    st.hugepages_free != st.hugepages_total || st.hugepages_rsvd != 0) {
			add_note("%s: after um_exit of every process, um_system_stats says "
				 "nr_procs %" PRIu64 ", frames_used %" PRIu64
				 ", hugepages_free %" PRIu64 " of %" PRIu64
				 ", hugepages_rsvd %" PRIu64 " (expected 0, %" PRIu64
				 " (the huge page pool), all free, 0: leaked frames?)",
				 c->name, st.nr_procs, st.frames_used, st.hugepages_free,
				 st.hugepages_total, st.hugepages_rsvd, pool);
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
	if (c->u_batch == u_hugefault)
		s.nr_huge = (uint32_t)(g_huge_bytes / HUGE_BYTES);
	if (c->u_batch == u_swap)
		s.swap = g_swap_file;
	int rc = 0;
	if (c->u_batch == u_big) {
		/* The machine's sandbox is the file's directory: made before the machine. */
		rc = big_file(&s, c->u_setup == u_rand_setup);
		s.phys = g_big_phys;
		s.sandbox = g_bigdir;
		s.big = 1;
		s.hfd = -1;
	}
	if (rc == 0)
		rc = u_machine(&s);
	if (rc == 0 && c->u_setup)
		rc = c->u_setup(&s);
	if (rc == 0)
		rc = measure(c->u_batch, &s, res);
	memcpy(g_aux[1], s.best_aux, sizeof g_aux[1]);
	free(s.vec);
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

/* Sub-rows: the parts of a case's batches in aux (name, what), with the 1x target or not. */
static void print_parts(const struct result *r, const char *const part[2][2], int target)
{
	char kb[32], ub[32], rb[32];
	for (int j = 0; j < 2; j++) {
		double k = r->aux[0][j], u = r->aux[1][j];
		sig3(kb, sizeof kb, k);
		sig3(ub, sizeof ub, u);
		if (r->k_ok && r->u_ok && k > 0)
			sig3(rb, sizeof rb, u / k);
		else
			snprintf(rb, sizeof rb, "-");
		printf("%-13s %-44s %12s %12s %13s  %s\n", part[j][0], part[j][1],
		       r->k_ok ? kb : "-", r->u_ok ? ub : "-", rb,
		       target && r->k_ok && r->u_ok && k > 0
			   ? (u <= k ? "<= 1x kernel: ok" : "<= 1x kernel: MISSED")
			   : "-");
	}
}

static void print_row(int i)
{
	const struct bcase *c = &g_cases[i];
	const struct result *r = &g_res[i];
	char kb[32], ub[32], rb[32], tb[96];

	if (r->k_ok)
		sig3(kb, sizeof kb, r->k_ns);
	else
		snprintf(kb, sizeof kb, r->k_skip ? "NOT RUN" : "FAILED");
	if (c->tk == T_REF) {
		printf("%-13s %-44s %12s %12s %13s  %s\n", c->name, c->what, kb, "-", "-",
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
	printf("%-13s %-44s %12s %12s %13s  %s\n", c->name, c->what, kb, ub, rb, tb);
	/* The two timed parts of the same batches, each per op: dontneed's sum to the row. */
	static const char *const dontneed_part[2][2] = {
	    {" madvise", "MADV_DONTNEED part"},
	    {" refault", "refault part: 1-byte store per page"},
	};
	static const char *const huge_part[2][2] = {
	    {" mmap", "mmap part (not in the row)"},
	    {" munmap", "munmap part (not in the row)"},
	};
	if (c->k_batch == k_dontneed)
		print_parts(r, dontneed_part, 1);
	else if (c->k_batch == k_hugefault)
		print_parts(r, huge_part, 0);
	fflush(stdout);
}

/*
 * mremap-grow's untimed stores (one first-touch fault per new page: about
 * 170 times the time of the timed mremap calls on the kernel side) would
 * make its 0.2 s batches last half a minute each: its batches are 10 times
 * shorter, still about a hundred growth sequences each.
 */
static uint64_t case_batch_ns(const struct bcase *c)
{
	if (c->k_batch == k_big)
		return 1; /* one pass (seconds) per batch */
	return c->k_batch == k_grow || c->k_batch == k_reclaim ? g_batch_ns / 10 : g_batch_ns;
}

static int case_index(const char *name)
{
	for (int i = 0; i < NCASES; i++)
		if (!strcmp(g_cases[i].name, name))
			return i;
	return -1;
}

static void print_file_notes(void)
{
	int any = 0;
	for (int i = 0; i < NCASES; i++)
		if (g_res[i].ran && g_cases[i].k_setup &&
		    (g_cases[i].k_setup == k_rfault_priv_setup ||
		     g_cases[i].k_setup == k_rfault_shared_setup ||
		     g_cases[i].k_setup == k_wfault_setup || g_cases[i].k_batch == k_msync ||
		     g_cases[i].k_batch == k_read))
			any = 1;
	if (!any)
		return;
	printf("  file cases: a fresh %" PRIu64 " MiB file per case and side, written and "
	       "fsync'ed before the clock\n  starts (so on disk and in the page cache); "
	       "kernel: %s,\n  usermm: %s (its sandbox, one per case); same file system: %s "
	       "(%s).\n  The "
	       "kernel's file is written %" PRIu64 " KiB per write(), so its page cache holds %s\n"
	       "  (usermm's: 4 KiB pages)%s.\n",
	       g_file_bytes / MIB, g_kdir[0] ? g_kdir : "-", g_udir[0] ? g_udir : "-",
	       g_same_fs == 1	? "yes"
	       : g_same_fs == 0 ? "NO"
				: "?",
	       fs_name(g_kfs_type), g_kwrite / 1024,
	       g_kwrite == 4096 ? "4 KiB folios" : "large folios",
	       g_kwrite == 4096 ? "" : "; --large-folios");
	printf("  rfault/wfault: one op = one page of a fresh mapping of the whole file, touched "
	       "in order:\n  8-byte load (rfault; -share maps PROT_READ|PROT_WRITE), 8-byte store "
	       "(wfault-share),\n  1-byte store (wfault-priv: copies the page). Faults in the "
	       "last pass (minor/major):\n");
	for (int i = 0; i < NCASES; i++) {
		const struct result *r = &g_res[i];
		if (!r->ran || !(r->pf[0].set || r->pf[1].set))
			continue;
		char kb[96] = "-", ub[96] = "-", x[32], y[32];
		if (r->pf[0].set && r->pf[0].minflt + r->pf[0].majflt)
			snprintf(kb, sizeof kb, "%" PRIu64 "/%" PRIu64 " (%s pages per fault)",
				 r->pf[0].minflt, r->pf[0].majflt,
				 sig3(x, sizeof x,
				      (double)r->pf[0].pages /
					  (double)(r->pf[0].minflt + r->pf[0].majflt)));
		if (r->pf[1].set && r->pf[1].minflt + r->pf[1].majflt)
			snprintf(ub, sizeof ub, "%" PRIu64 "/%" PRIu64 " (%s pages per fault)",
				 r->pf[1].minflt, r->pf[1].majflt,
				 sig3(y, sizeof y,
				      (double)r->pf[1].pages /
					  (double)(r->pf[1].minflt + r->pf[1].majflt)));
		printf("    %-12s kernel %s, usermm %s\n", g_cases[i].name, kb, ub);
	}
	printf("  msyncN: the file mapped shared rw and read through once before the clock; one "
	       "op = an\n  8-byte store to each of N consecutive pages (a write-protect fault "
	       "each) + msync(MS_SYNC)\n  of those N pages; the next op takes the next N "
	       "pages. Both sides write to the real disk.\n");
	int ri = case_index("read-seq");
	if (ri >= 0 && g_res[ri].ran) {
		const struct result *r = &g_res[ri];
		char a[32], b[32];
		printf("  read-seq: ns per 4 KiB, %d KiB buffer, file offset 0 to EOF per pass; "
		       "kernel read() %s MB/s,\n  um_read %s MB/s (MB = 10^6 bytes).\n",
		       RD_BUF / 1024, r->k_ok ? sig3(a, sizeof a, 4096e3 / r->k_ns) : "-",
		       r->u_ok ? sig3(b, sizeof b, 4096e3 / r->u_ns) : "-");
	}
}

/* "a ns, b ns" per unit for one case's two sides, or "-" for a side that failed. */
static void per_unit(const struct result *r, double units, char *buf, size_t n)
{
	char a[32] = "-", b[32] = "-";
	if (r->k_ok)
		sig3(a, sizeof a, r->k_ns / units);
	if (r->u_ok)
		sig3(b, sizeof b, r->u_ns / units);
	snprintf(buf, n, "kernel %s ns, usermm %s ns", a, b);
}

static void print_vm_notes(void)
{
	char buf[128];
	int i = case_index("mremap-grow");
	if (i >= 0 && g_res[i].ran) {
		const struct result *r = &g_res[i];
		uint64_t steps = 0;
		for (uint64_t l = 4096; l < g_grow_max; l *= 2)
			steps++;
		per_unit(r, (double)steps, buf, sizeof buf);
		printf(
		    "  mremap-grow: one op = %" PRIu64 " mremap(MREMAP_MAYMOVE) calls doubling a "
		    "private anon mapping\n  from 4 KiB to %" PRIu64 " MiB, a PROT_NONE page "
		    "right after it (the first growth must move);\n  only the calls are timed; "
		    "after each, 1 byte is stored to every new page (untimed).\n  Per call: %s.\n"
		    "  Calls that moved, per op: kernel %.3g, usermm %.3g (the others grew in "
		    "place).\n",
		    steps, g_grow_max / MIB, buf, r->aux[0][0], r->aux[1][0]);
	}
	int any = 0;
	static const char *const mv[] = {"mremap-4k", "mremap-256m", "mremap-256mu"};
	for (int j = 0; j < 3; j++) {
		i = case_index(mv[j]);
		if (i < 0 || !g_res[i].ran)
			continue;
		if (!any)
			printf(
			    "  mremap-4k/256m/256mu: one op = one "
			    "mremap(MREMAP_MAYMOVE|MREMAP_FIXED) "
			    "of a populated private anon\n  mapping onto a PROT_NONE placeholder "
			    "(which the call unmaps); the next op moves it back.\n  256m: old and "
			    "new addresses 2 MiB aligned; 256mu: the new one a page off. Per moved "
			    "page:\n");
		any = 1;
		per_unit(&g_res[i], strcmp(mv[j], "mremap-4k") ? (double)(g_move_big / 4096) : 1,
			 buf, sizeof buf);
		printf("    %-12s %s\n", mv[j], buf);
	}
	i = case_index("mlock");
	if (i >= 0 && g_res[i].ran) {
		per_unit(&g_res[i], (double)(g_lock_bytes / 4096), buf, sizeof buf);
		printf("  mlock: a fresh %" PRIu64 " MiB mapping per op, never touched; munlock, "
		       "munmap untimed. Per page: %s.\n  Both sides: RLIMIT_MEMLOCK %" PRIu64
		       " MiB, CAP_IPC_LOCK %s (usermm: rlimit_memlock, privileged = %d).\n",
		       g_lock_bytes / MIB, buf, g_memlock / MIB, g_ipc_lock ? "held" : "not held",
		       g_ipc_lock);
	}
	i = case_index("dontneed");
	if (i >= 0 && g_res[i].ran) {
		const struct result *r = &g_res[i];
		double np = (double)(g_lock_bytes / 4096);
		char a[32], b[32], c[32], d[32];
		printf("  dontneed: %" PRIu64
		       " MiB, every page written before; the parts are of the "
		       "same batches. Per page:\n    madvise kernel %s ns, usermm %s ns; refault "
		       "kernel %s ns, usermm %s ns.\n",
		       g_lock_bytes / MIB, sig3(a, sizeof a, r->aux[0][0] / np),
		       sig3(b, sizeof b, r->aux[1][0] / np), sig3(c, sizeof c, r->aux[0][1] / np),
		       sig3(d, sizeof d, r->aux[1][1] / np));
	}
	i = case_index("mincore");
	if (i >= 0 && g_res[i].ran) {
		per_unit(&g_res[i], (double)(g_mincore_bytes / 4096), buf, sizeof buf);
		printf("  mincore: %" PRIu64
		       " MiB MAP_NORESERVE, one page in %d written before. Per "
		       "page: %s.\n",
		       g_mincore_bytes / MIB, MINCORE_EVERY, buf);
	}
	i = case_index("hugefault");
	if (i >= 0 && g_res[i].ran) {
		const struct result *r = &g_res[i];
		uint64_t np = g_huge_bytes / HUGE_BYTES;
		char t[2][2][32];
		for (int side = 0; side < 2; side++)
			for (int j = 0; j < 2; j++)
				if (side ? r->u_ok : r->k_ok)
					sig3(t[side][j], sizeof t[0][0], r->aux[side][j]);
				else
					snprintf(t[side][j], sizeof t[0][0], "-");
		per_unit(r, (double)np, buf, sizeof buf);
		printf("  hugefault: a fresh %" PRIu64 " MiB MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB "
		       "mapping per op; a 1-byte store\n  to each of its %" PRIu64
		       " huge pages of 2 MiB is timed (one fault each: a page from the pool, "
		       "zeroed);\n  mmap and munmap are timed apart. Per huge page: %s.\n"
		       "  mmap, munmap per mapping: kernel %s, %s ns; usermm %s, %s ns.\n",
		       g_huge_bytes / MIB, np, buf, t[0][0], t[0][1], t[1][0], t[1][1]);
		if (g_kpool_nr >= 0)
			printf("  Kernel: vm.nr_hugepages %ld for the case (it was %ld: put back "
			       "after it).\n",
			       g_kpool_nr, g_kpool_old);
		else
			printf("  Kernel: no huge page pool (see \"not run\").\n");
		printf("  usermm: nr_hugepages %" PRIu64 ", phys_bytes %" PRIu64 " MiB.\n", np,
		       g_phys / MIB);
	}
}

static void print_pressure_notes(void)
{
	int i = case_index("reclaim-clean"), j = case_index("reclaim-dirty");
	const char *nocg = g_cg_why[0] ? g_cg_why : "-";
	if ((i >= 0 && g_res[i].ran) || (j >= 0 && g_res[j].ran)) {
		printf("  reclaim-clean/-dirty: the %" PRIu64 " MiB file (%" PRIu64
		       " pages) cached, then reclaimed whole;\n  one op = one page. -clean: "
		       "read back before each pass; -dirty: rewritten before each pass\n  "
		       "(write-back + drop). usermm: um_reclaim(sys, pages). Kernel: %s.\n",
		       g_file_bytes / MIB, g_file_bytes / 4096, g_kmethod ? g_kmethod : "-");
		if (g_kmethod && !strncmp(g_kmethod, "posix", 5))
			printf("  (no cgroup: %s)\n", nocg);
		if (g_k_reclaimed)
			printf("  Kernel: the last pass's cgroup usage fell by %" PRIu64 " pages.\n",
			       g_k_reclaimed);
	}
	i = case_index("reclaim-anon");
	j = case_index("swapin");
	if ((i >= 0 && g_res[i].ran) || (j >= 0 && g_res[j].ran)) {
		printf("  reclaim-anon/swapin: a fresh %" PRIu64 " MiB private anon mapping per "
		       "pass, every page written,\n  then MADV_PAGEOUT over it (reclaim-anon: "
		       "that call timed, per page); swapin: then an\n  8-byte load per page in "
		       "order (timed, per page). usermm: um_madvise(UM_MADV_PAGEOUT),\n  "
		       "um_config.swap_bytes %" PRIu64 " MiB, cluster read-around of 8. Kernel: "
		       "swap file %" PRIu64 " MiB\n  in /var/tmp (swapped off and removed after "
		       "the case), vm.page-cluster %ld (was %ld),\n  vma_ra_enabled %s; swap "
		       "cache dropped before the reads by %s.\n",
		       g_swap_region / MIB, g_swap_file / MIB, g_swap_file / MIB, g_pc, g_pc_old,
		       g_vma_ra[0] ? g_vma_ra : "-",
		       g_swap_cgwhy ? "nothing (no cgroup)" : "a memory cgroup's reclaim");
		if (i >= 0 && g_res[i].ran)
			printf(
			    "  reclaim-anon: pages written to swap (pswpout) per page:\n  kernel "
			    "%.3g, usermm %.3g.\n",
			    g_res[i].k_ok ? g_res[i].aux[0][1] : -1.0,
			    g_res[i].u_ok ? g_res[i].aux[1][1] : -1.0);
		if (j >= 0 && g_res[j].ran) {
			const struct result *r = &g_res[j];
			printf(
			    "  swapin per page: major faults kernel %.3g, usermm %.3g; pages read "
			    "from swap (pswpin)\n  kernel %.3g, usermm %.3g.\n",
			    r->k_ok ? r->aux[0][0] : -1.0, r->u_ok ? r->aux[1][0] : -1.0,
			    r->k_ok ? r->aux[0][1] : -1.0, r->u_ok ? r->aux[1][1] : -1.0);
		}
	}
	i = case_index("seq-1g");
	j = case_index("rand-1g");
	if ((i >= 0 && g_res[i].ran) || (j >= 0 && g_res[j].ran)) {
		printf("  seq-1g/rand-1g: a %" PRIu64 " MiB file in %s (%s), one 8-byte load per "
		       "page of a shared\n  read-only mapping of it, in order or in a fixed-seed "
		       "random order (rand-1g: MADV_RANDOM\n  on both sides); both caches dropped "
		       "before each pass; one pass per batch.\n  usermm: phys_bytes %" PRIu64
		       " MiB. Kernel: %s.\n",
		       g_big_bytes / MIB, g_bigdir[0] ? g_bigdir : "-", fs_name(g_big_fs),
		       g_big_phys / MIB,
		       g_big_cg == 1	 ? "each pass in a memory cgroup limited to the same size"
		       : g_big_cg == 0 ? "NO memory cgroup (the whole file may stay cached)"
				       : "-");
		if (g_big_cg == 0)
			printf("  (no cgroup: %s)\n", nocg);
	}
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

/*
 * mlock: the kernel side needs RLIMIT_MEMLOCK above the locked size unless
 * it holds CAP_IPC_LOCK. The limit is raised when it can be (raising the
 * hard limit takes CAP_SYS_RESOURCE); usermm gets the limit and the
 * privilege the kernel side has (u_machine), whatever they end up being.
 */
static int memlock_setup(void)
{
	struct rlimit rl;
	uint64_t want = 4 * g_lock_bytes;
	FILE *f = fopen("/proc/self/status", "r");
	if (f) {
		char line[256];
		unsigned long long cap;
		while (fgets(line, sizeof line, f))
			if (sscanf(line, "CapEff: %llx", &cap) == 1)
				g_ipc_lock = (cap >> 14) & 1; /* CAP_IPC_LOCK */
		fclose(f);
	}
	if (getrlimit(RLIMIT_MEMLOCK, &rl) != 0) {
		perror("mmbench: getrlimit(RLIMIT_MEMLOCK)");
		return -1;
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		struct rlimit nl = rl;
		nl.rlim_cur = want;
		if (nl.rlim_max != RLIM_INFINITY && nl.rlim_max < want)
			nl.rlim_max = want;
		if (setrlimit(RLIMIT_MEMLOCK, &nl) != 0) {
			/* Without the hard limit, the soft one up to it. */
			nl = rl;
			nl.rlim_cur = rl.rlim_max;
			if (setrlimit(RLIMIT_MEMLOCK, &nl) != 0)
				nl = rl;
		}
		rl = nl;
	}
	g_memlock = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mmbench [--quick] [--large-folios] [--swap] [CASE-PREFIX...]\n"
		"  --quick   smoke run: tiny sizes and short batches (a few seconds)\n"
		"  --large-folios  the kernel side writes its file %d KiB at a time (not 4 KiB),\n"
		"            so ext4 caches it in large folios and maps a whole folio per fault\n"
		"  CASE-PREFIX runs only the cases whose name starts with it;\n"
		"  memset and memcpy (the references) always run; seq-1g and rand-1g (1 GiB\n"
		"  of disk, minutes) only when named.\n"
		"  --swap    lets a prefix select reclaim-anon and swapin, which otherwise run\n"
		"            only when named in full: their kernel side (root) swaps on a file\n"
		"            in /var/tmp for the case (swapped off and removed after it, at\n"
		"            exit and on SIGINT/SIGTERM/SIGHUP); the default run never does.\n"
		"cases:",
		RD_BUF / 1024);
	for (int i = 0; i < NCASES; i++)
		fprintf(f, " %s", g_cases[i].name);
	fprintf(f, "\n");
}

int main(int argc, char **argv)
{
	int nfilt = 0, nswapskip = 0;
	int sel[NCASES];

	g_kpage = sysconf(_SC_PAGESIZE);
	if (g_kpage < 4096) {
		fprintf(stderr, "mmbench: sysconf(_SC_PAGESIZE) returned %ld\n", g_kpage);
		return 1;
	}
	for (int i = 0; i < NCASES; i++)
		sel[i] = 0;
	for (int a = 1; a < argc; a++)
		if (!strcmp(argv[a], "--swap"))
			g_swap_flag = 1;
	for (int a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--quick")) {
			g_quick = 1;
		} else if (!strcmp(argv[a], "--swap")) {
			g_swap_flag = 1;
		} else if (!strcmp(argv[a], "--large-folios")) {
			g_kwrite = RD_BUF;
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
					/* The swap cases: named in full, or --swap. */
					if (g_cases[i].k_batch == k_swap && !g_swap_flag &&
					    strcmp(g_cases[i].name, argv[a])) {
						nswapskip++;
						continue;
					}
					sel[i] = 1;
					hit = 1;
				}
			if (!hit) {
				fprintf(stderr, "mmbench: no case matches '%s'%s\n", argv[a],
					nswapskip ? " (reclaim-anon and swapin: name them in full, "
						    "or --swap)"
						  : "");
				usage(stderr);
				return 2;
			}
			nfilt++;
		}
	}
	/* seq-1g and rand-1g (a 1 GiB file, seconds a pass) run only when named. */
	for (int i = 0; i < NCASES; i++)
		if ((nfilt == 0 && g_cases[i].k_batch != k_big && g_cases[i].k_batch != k_swap) ||
		    g_cases[i].tk == T_REF)
			sel[i] = 1;
	if (g_quick) {
		g_batch_ns = UINT64_C(4000000); /* 4 ms */
		g_region = 4 * MIB;
		g_miss_bytes = 4 * MIB;	 /* 1024 pages: 4x a 256-entry TLB */
		g_file_bytes = 16 * MIB; /* 4096 pages: msync4096 syncs the whole file */
		g_grow_max = 4 * MIB;
		g_move_big = 4 * MIB;
		g_lock_bytes = 4 * MIB;
		g_mincore_bytes = 64 * MIB;
		g_huge_bytes = 8 * MIB;
		g_big_bytes = 64 * MIB;
		g_big_phys = 16 * MIB;
		g_swap_region = 4 * MIB;
	}
	g_swap_file = 2 * g_swap_region + MIB;
	if (memlock_setup() != 0)
		return 1;

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
	       ">= %.3g s each (mremap-grow: %.3g s); best of %d batches\n",
	       (double)g_batch_ns / 1e9, (double)g_batch_ns / 1e10, g_reps);
	printf("sizes: fault/fork/cow over %" PRIu64 " MiB written; load-miss over %" PRIu64
	       " MiB with page stride; load-hit over %d pages;\n       file cases on a %" PRIu64
	       " MiB file in the page cache\n",
	       g_region / MIB, g_miss_bytes / MIB, HIT_PAGES, g_file_bytes / MIB);
	printf("\n%-12s %-44s %12s %12s %13s  %s\n", "case", "one op", "kernel ns", "usermm ns",
	       "usermm/kernel", "target");

	for (int i = 0; i < NCASES; i++) {
		const struct bcase *c = &g_cases[i];
		struct result *r = &g_res[i];
		if (!sel[i])
			continue;
		r->ran = 1;
		g_err[0] = 0;
		memset(g_pf, 0, sizeof g_pf);
		memset(g_aux, 0, sizeof g_aux);
		g_case_batch_ns = case_batch_ns(c);
		int krc = run_kernel(c, &r->k_ns);
		r->k_ok = krc == 0;
		r->k_skip = krc > 0;
		if (r->k_skip) {
			add_notrun("%s: kernel side: %s", c->name, g_err);
		} else if (!r->k_ok) {
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
		memcpy(r->pf, g_pf, sizeof g_pf);
		memcpy(r->aux, g_aux, sizeof g_aux);
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
	print_file_notes();
	print_vm_notes();
	print_pressure_notes();
	if (g_nnotrun) {
		printf("\nnot run (this machine cannot; not counted as a failure):\n");
		for (int i = 0; i < g_nnotrun; i++)
			printf("  %s\n", g_notrun[i].text);
	}
	if (g_nnotes) {
		printf("\nproblems:\n");
		for (int i = 0; i < g_nnotes; i++)
			printf("  %s\n", g_notes[i].text);
	}
	g_sink += 0;
	k_dir_remove();
	big_remove();
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
