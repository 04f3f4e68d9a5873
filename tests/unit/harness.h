/*
 * What the unit tests share: a machine with one process for each test
 * (struct env, made by env_setup() and boot(), or by boot_plain() on the
 * stack; finish() checks every invariant and frees it), assertions whose
 * messages print both the value got and the value wanted, accesses that
 * must succeed or must fault, counters, and the host side of the sandbox
 * for the file tests.
 *
 * Everything here is a macro or static inline, so that each test program
 * takes what it uses and the compiler says nothing of the rest. A test that
 * reaches into the library includes the private headers of what it tests
 * (under src/) before this one; the helpers that need internals (the host I/O
 * fault injector, which needs "system.h") exist only then.
 */
#ifndef UM_TEST_HARNESS_H
#define UM_TEST_HARNESS_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "usermm.h"

#define PG	     4096ULL
#define BASE	     0x7ffff7fff000ULL /* mmap_base, set explicitly: placements are exact */
#define MIN_ADDR     65536ULL	       /* mmap_min_addr, as Linux's default */
#define TASK_SIZE    0x7ffffffff000ULL
#define RW	     (UM_PROT_READ | UM_PROT_WRITE)
#define AP	     (UM_MAP_PRIVATE | UM_MAP_ANONYMOUS)
#define AS	     (UM_MAP_SHARED | UM_MAP_ANONYMOUS)
#define UNKNOWN_FLAG 0x800000 /* no MAP_* flag has this bit on x86-64 */

/* /proc/PID/pagemap entry bits, as Linux defines them. */
#define PM_PFN_MASK   ((1ULL << 55) - 1)
#define PM_SOFT_DIRTY (1ULL << 55)
#define PM_EXCLUSIVE  (1ULL << 56)
#define PM_FILE	      (1ULL << 61)
#define PM_SWAP	      (1ULL << 62)
#define PM_PRESENT    (1ULL << 63)

/* ------------------------------------------------------------ assertions */

/* Results and addresses are compared as long long and printed in decimal and hex. */
#define assert_ret(expr, want)                                                                     \
	do {                                                                                       \
		long long got_ = (long long)(expr);                                                \
		long long want_ = (long long)(want);                                               \
		if (got_ != want_)                                                                 \
			fail_msg("%s = %lld (%#llx), expected %s = %lld (%#llx)", #expr, got_,     \
				 (unsigned long long)got_, #want, want_,                           \
				 (unsigned long long)want_);                                       \
	} while (0)

#define assert_bytes(got, want, n)                                                                 \
	do {                                                                                       \
		if (memcmp((got), (want), (n)) != 0)                                               \
			fail_msg("%s differs from %s in its first %zu bytes", #got, #want,         \
				 (size_t)(n));                                                     \
	} while (0)

/* call is evaluated with a struct um_siginfo si_ in scope, for it to fill. */
#define assert_fault(call, want_signo, want_code, want_addr)                                       \
	do {                                                                                       \
		struct um_siginfo si_ = {0, 0, 0};                                                 \
		int r_ = (call);                                                                   \
		if (r_ != -EFAULT || si_.signo != (want_signo) || si_.code != (want_code) ||       \
		    si_.addr != (uint64_t)(want_addr))                                             \
			fail_msg("%s = %d {signo %d, code %d, addr %#llx}, expected -EFAULT "      \
				 "{signo %d, code %d, addr %#llx}",                                \
				 #call, r_, si_.signo, si_.code, (unsigned long long)si_.addr,     \
				 (want_signo), (want_code), (unsigned long long)(want_addr));      \
	} while (0)

/*
 * A load or store of size bytes at a that must fault with signo and code at
 * the address at. The store's value has every byte non-zero, so that a store
 * that wrongly lands, even in part, changes what a later load reads.
 */
#define assert_load_fault(p, a, size, signo, code, at)                                             \
	assert_fault(um_load(p, a, size, &(uint64_t){0}, &si_), signo, code, at)
#define assert_store_fault(p, a, size, signo, code, at)                                            \
	assert_fault(um_store(p, a, size, 0x5555555555555555ULL, &si_), signo, code, at)

/*
 * Accesses that must succeed. Each test file names its own LOAD and STORE
 * on these with the access width it works in; line is the caller's.
 */
static inline uint64_t load_ok(struct um_proc *p, uint64_t addr, unsigned size, int line)
{
	struct um_siginfo si = {0, 0, 0};
	uint64_t v = 0;
	int r = um_load(p, addr, size, &v, &si);
	if (r != 0)
		fail_msg("line %d: um_load(pid %d, %#llx, %u) = %d {signo %d, code %d, addr %#llx}",
			 line, um_getpid(p), (unsigned long long)addr, size, r, si.signo, si.code,
			 (unsigned long long)si.addr);
	return v;
}

static inline void store_ok(struct um_proc *p, uint64_t addr, unsigned size, uint64_t val,
			    int line)
{
	struct um_siginfo si = {0, 0, 0};
	int r = um_store(p, addr, size, val, &si);
	if (r != 0)
		fail_msg("line %d: um_store(pid %d, %#llx, %u) = %d "
			 "{signo %d, code %d, addr %#llx}",
			 line, um_getpid(p), (unsigned long long)addr, size, r, si.signo, si.code,
			 (unsigned long long)si.addr);
}

/* mmap that must succeed; returns the address. */
static inline uint64_t map_ok(struct um_proc *p, uint64_t addr, uint64_t len, int prot, int flags,
			      int fd, int64_t off, int line)
{
	int64_t a = um_mmap(p, addr, len, prot, flags, fd, off);
	if (a <= 0)
		fail_msg("line %d: um_mmap(%#llx, len %#llx, prot %d, flags %#x, fd %d, "
			 "off %lld) = %lld",
			 line, (unsigned long long)addr, (unsigned long long)len, prot, flags, fd,
			 (long long)off, (long long)a);
	return (uint64_t)a;
}

/* The same at an address the kernel chooses. */
#define MAP(p, len, prot, flags, fd, off) map_ok(p, 0, len, prot, flags, fd, off, __LINE__)

/* Page i of the n pages from a gets first + i in its first 8 bytes. */
static inline void fill_pages(struct um_proc *p, uint64_t a, uint64_t n, uint64_t first, int line)
{
	for (uint64_t i = 0; i < n; i++)
		store_ok(p, a + i * PG, 8, first + i, line);
}
#define FILL_PAGES(p, a, n, first) fill_pages(p, a, n, first, __LINE__)

/* A fork that must succeed: the child. */
static inline struct um_proc *fork_ok(struct um_proc *parent, int line)
{
	struct um_proc *child = NULL;
	int r = um_fork(parent, &child);
	if (r != 0 || child == NULL)
		fail_msg("line %d: um_fork = %d", line, r);
	return child;
}
#define FORK(p) fork_ok(p, __LINE__)

/* ... and still holds it. */
static inline void expect_pages(struct um_proc *p, uint64_t a, uint64_t n, uint64_t first,
				int line)
{
	for (uint64_t i = 0; i < n; i++) {
		uint64_t v = load_ok(p, a + i * PG, 8, line);
		if (v != first + i)
			fail_msg("line %d: page %llu at %#llx holds %#llx, expected %#llx", line,
				 (unsigned long long)i, (unsigned long long)(a + i * PG),
				 (unsigned long long)v, (unsigned long long)(first + i));
	}
}
#define EXPECT_PAGES(p, a, n, first) expect_pages(p, a, n, first, __LINE__)

/* -------------------------------------------------------------- counters */

static inline struct um_sys_stats sys_stats(struct um_system *sys)
{
	struct um_sys_stats st;
	um_system_stats(sys, &st);
	return st;
}

static inline struct um_proc_stats proc_stats(struct um_proc *p)
{
	struct um_proc_stats st;
	um_proc_stats(p, &st);
	return st;
}

/*
 * Frames holding data: in use, less the page tables' (a table is a frame
 * too, and a fault that fails may leave the tables it made, as Linux's do).
 */
static inline uint64_t data_frames(const struct um_sys_stats *st, struct um_system *sys)
{
	return st->frames_used - st->page_tables / um_page_size(sys);
}

static inline uint64_t frames_used(struct um_system *sys)
{
	struct um_sys_stats st = sys_stats(sys);

	return data_frames(&st, sys);
}

/* --------------------------------------------------------------- machine */

struct env {
	struct um_system *sys;
	struct um_proc *p;
	char top[64]; /* a directory made by the test (sandbox tests), removed at teardown */
};

/*
 * 64 MiB, and mmap_base and mmap_min_addr set, so that every placement is
 * exact; read-ahead as on a disk at Linux's default read_ahead_kb (128),
 * whatever the disk under the test's files says.
 */
static inline void base_config(struct um_config *cfg)
{
	um_config_init(cfg);
	cfg->phys_bytes = 64ULL << 20;
	cfg->mmap_base = BASE;
	cfg->mmap_min_addr = MIN_ADDR;
	cfg->readahead_kb = 128;
}

/* Boots a system with cfg and one process into e. */
static inline void env_boot(struct env *e, const struct um_config *cfg)
{
	assert_ret(um_system_new(cfg, &e->sys), 0);
	assert_ret(um_proc_new(e->sys, &e->p), 0);
	assert_ret(um_page_size(e->sys), PG);
	if (cfg->mmap_base)
		assert_ret(um_mmap_base(e->p), cfg->mmap_base);
}

/* The same into the env that env_setup made. */
static inline struct env *boot(void **state, const struct um_config *cfg)
{
	struct env *e = *state;
	env_boot(e, cfg);
	return e;
}

static inline struct env *boot_default(void **state)
{
	struct um_config cfg;
	base_config(&cfg);
	return boot(state, &cfg);
}

/*
 * Boots e, a struct env of the test's own, with the library's defaults but
 * mib MiB of memory; privileged: its processes hold CAP_IPC_LOCK (mlock).
 */
static inline void boot_plain(struct env *e, uint64_t mib, int privileged)
{
	struct um_config cfg;
	um_config_init(&cfg);
	cfg.phys_bytes = mib << 20;
	cfg.privileged = privileged;
	cfg.readahead_kb = 128; /* as base_config */
	env_boot(e, &cfg);
}

/*
 * mmap(NULL, npages) of anonymous memory in a fresh address space, which
 * must land where Linux puts it: right below BASE. Returns that address.
 */
static inline uint64_t map_below_base(struct env *e, uint64_t npages, int prot, int flags,
				      int line)
{
	const uint64_t want = BASE - npages * PG;
	int64_t a = um_mmap(e->p, 0, npages * PG, prot, flags, -1, 0);
	if (a != (int64_t)want)
		fail_msg("line %d: um_mmap(%llu pages, prot %d, flags %#x) = %lld (%#llx), "
			 "expected BASE - %llu pages = %#llx",
			 line, (unsigned long long)npages, prot, flags, (long long)a,
			 (unsigned long long)a, (unsigned long long)npages,
			 (unsigned long long)want);
	return want;
}
#define MAP_BELOW_BASE(e, npages, prot, flags) map_below_base(e, npages, prot, flags, __LINE__)

/* Another process of the machine, with an empty address space. */
static inline struct um_proc *new_proc(struct env *e)
{
	struct um_proc *q = NULL;
	assert_ret(um_proc_new(e->sys, &q), 0);
	return q;
}

/* Checks every invariant, then frees the machine (ASan finds leaks); fails after freeing. */
static inline void free_checked(struct um_system *sys)
{
	char why[512] = "";
	int rc = um_check(sys, why, sizeof why);
	um_system_free(sys);
	if (rc != 0)
		fail_msg("um_check = %d: %s", rc, why);
}

static inline void finish(struct env *e)
{
	struct um_system *sys = e->sys;
	e->sys = NULL; /* freed, whatever the check says: not again at teardown */
	free_checked(sys);
}

/* um_check in the middle of a test, with every process still alive. */
static inline void check_now(struct env *e, int line)
{
	char why[512] = "";
	int rc = um_check(e->sys, why, sizeof why);
	if (rc != 0)
		fail_msg("line %d: um_check = %d: %s", line, rc, why);
}
#define CHECK(e) check_now(e, __LINE__)

static inline int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline int env_setup(void **state)
{
	*state = calloc(1, sizeof(struct env));
	return *state ? 0 : -1;
}

static inline int env_teardown(void **state)
{
	struct env *e = *state;
	if (e->sys)
		um_system_free(e->sys); /* the test failed before finish() */
	if (e->top[0])
		nftw(e->top, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(e);
	return 0;
}

/* ------------------------------------------------------------ host files */

/*
 * The file tests look at the host file behind a usermm file with libc,
 * never through usermm, to see what reached it.
 */

/* Creates (or replaces) the host file at path with len bytes of data. */
static inline void file_put(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	assert_true(fd >= 0);
	assert_ret(write(fd, data, len), (long long)len);
	close(fd);
}

/* The host file's bytes [off, off + n) read with libc; returns the count or -errno. */
static inline long long file_pread(const char *path, void *buf, size_t n, off_t off)
{
	int fd = open(path, O_RDONLY);
	long long r;
	if (fd < 0)
		return -errno;
	r = pread(fd, buf, n, off);
	close(fd);
	return r;
}

/*
 * Boots the default machine with its sandbox in a fresh directory made from
 * tmpl (mkdtemp), kept in e->top: so that the test can read what reached the
 * host files after finish(), and teardown still removes the directory.
 */
static inline struct env *boot_in_fresh_dir(void **state, const char *tmpl)
{
	struct env *e = *state;
	struct um_config cfg;
	snprintf(e->top, sizeof e->top, "%s", tmpl);
	assert_non_null(mkdtemp(e->top));
	base_config(&cfg);
	cfg.sandbox_dir = e->top;
	return boot(state, &cfg);
}

/* The host path of name in the sandbox (valid until the next call). */
static inline const char *hpath(struct env *e, const char *name)
{
	static char buf[4096];
	snprintf(buf, sizeof buf, "%s/%s", um_sandbox_dir(e->sys), name);
	return buf;
}

/* Behind usermm's back, so nothing of it is cached. */
static inline void host_put(struct env *e, const char *name, const void *data, size_t len)
{
	file_put(hpath(e, name), data, len);
}

static inline long long hfile_pread(struct env *e, const char *name, void *buf, size_t n, off_t off)
{
	return file_pread(hpath(e, name), buf, n, off);
}

static inline long long host_size(struct env *e, const char *name)
{
	struct stat st;
	if (stat(hpath(e, name), &st))
		return -errno;
	return (long long)st.st_size;
}

/* A file of len bytes where every byte of page i is 'A' + i % 26. */
static inline void host_pattern(struct env *e, const char *name, size_t len)
{
	char *b = malloc(len ? len : 1);
	assert_non_null(b);
	for (size_t i = 0; i < len; i++)
		b[i] = (char)('A' + (i / PG) % 26);
	host_put(e, name, b, len);
	free(b);
}

/* um_open of a file that must open; returns the descriptor. */
static inline int open_ok(struct um_proc *p, const char *name, int flags, int line)
{
	int fd = um_open(p, name, flags, 0);
	if (fd < 0)
		fail_msg("line %d: um_open(\"%s\", %#x) = %d", line, name, flags, fd);
	return fd;
}
#define OPEN(p, name, flags) open_ok(p, name, flags, __LINE__)

/* The file name made of len bytes of host_pattern, opened with flags. */
static inline int open_pattern(struct env *e, const char *name, size_t len, int flags, int line)
{
	host_pattern(e, name, len);
	return open_ok(e->p, name, flags, line);
}
#define OPEN_PATTERN(e, name, len, flags) open_pattern(e, name, len, flags, __LINE__)

/* The file name holding text, opened with flags. */
static inline int open_text(struct env *e, const char *name, const char *text, int flags, int line)
{
	host_put(e, name, text, strlen(text));
	return open_ok(e->p, name, flags, line);
}
#define OPEN_TEXT(e, name, text, flags) open_text(e, name, text, flags, __LINE__)

#ifdef UM_SYSTEM_H
/* Arms the injector: the fail_at-th host call among ops fails with err (0: just count). */
static inline void inject(struct env *e, uint32_t ops, int err, uint64_t fail_at, bool sticky)
{
	struct host_faults *hf = &e->sys->host_faults;
	hf->armed = false;
	atomic_store(&hf->count, 0);
	hf->ops = ops;
	hf->err = err;
	hf->fail_at = fail_at;
	hf->sticky = sticky;
	hf->armed = true;
}

static inline void disarm(struct env *e)
{
	e->sys->host_faults.armed = false;
}
#endif

#endif /* UM_TEST_HARNESS_H */
