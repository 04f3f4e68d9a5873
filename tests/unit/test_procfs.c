/*
 * test_procfs.c: /proc/PID/maps, smaps, status and pagemap as usermm renders
 * them, against what Linux 6.x prints for the same sequence of calls.
 *
 * The expected values were taken from a real Linux (6.18, x86-64) running
 * the same mmap/mprotect/store/fork program: see the comments of each test.
 * Only the public API is used.
 */
#include <inttypes.h>
#include <pthread.h>

#include "harness.h"

#define LOAD(p, a) load_ok(p, a, 8, __LINE__)
#define STORE(p, a, v) store_ok(p, a, 8, v, __LINE__)

/* The layout every test builds (fixed addresses make the expected text exact). */
#define A 0x10000000ULL /* private anon, 4 pages; pages 0-2 written */
#define S 0x20000000ULL /* shared anon, 2 pages, both written; page 1 made read-only */
#define C 0x30000000ULL /* private anon, 4 pages; pages 0 and 3 written; page 1 read-only */

/* The default machine: every mapping here is at a fixed address. */
static int setup(void **state)
{
	struct um_config cfg;

	if (env_setup(state))
		return -1;
	um_config_init(&cfg);
	boot(state, &cfg);
	return 0;
}

static int teardown(void **state)
{
	/* Reading /proc files must leave every invariant of the machine intact. */
	finish(*state);
	return env_teardown(state);
}

/* Maps and touches the layout above. */
static void build_layout(struct um_proc *p)
{
	const int rw = UM_PROT_READ | UM_PROT_WRITE;
	const int fixed = UM_MAP_ANONYMOUS | UM_MAP_FIXED;

	assert_int_equal(um_mmap(p, A, 4 * PG, rw, UM_MAP_PRIVATE | fixed, -1, 0), (int64_t)A);
	assert_int_equal(um_mmap(p, S, 2 * PG, rw, UM_MAP_SHARED | fixed, -1, 0), (int64_t)S);
	assert_int_equal(um_mmap(p, C, 4 * PG, rw, UM_MAP_PRIVATE | fixed, -1, 0), (int64_t)C);
	STORE(p, A, 1);
	STORE(p, A + PG, 2);
	STORE(p, A + 2 * PG, 3);
	STORE(p, S, 4);
	STORE(p, S + PG, 5);
	STORE(p, C, 6);
	STORE(p, C + 3 * PG, 7);
	assert_int_equal(um_mprotect(p, C + PG, PG, UM_PROT_READ), 0);
	assert_int_equal(um_mprotect(p, S + PG, PG, UM_PROT_READ), 0);
}

typedef int64_t (*render_fn)(struct um_proc *, char *, size_t);

/* Renders a file into a fresh buffer, checking the snprintf-like contract on the way. */
static char *render(render_fn fn, struct um_proc *p)
{
	int64_t len = fn(p, NULL, 0);
	char *buf;

	assert_true(len > 0);
	buf = malloc((size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(fn(p, buf, (size_t)len + 1), len);
	assert_int_equal(strlen(buf), (size_t)len);
	return buf;
}

/* The smaps record of the VMA starting at start, up to its end; NULL if none. */
static const char *smaps_record(const char *smaps, uint64_t start)
{
	char head[32];
	const char *s = smaps;
	size_t n;

	n = (size_t)snprintf(head, sizeof(head), "%08" PRIx64 "-", start);
	while (s && *s) {
		if (!strncmp(s, head, n))
			return s;
		s = strchr(s, '\n');
		if (s)
			s++;
	}
	return NULL;
}

/* A "Field:  N kB" value of the smaps record at start. */
static uint64_t smaps_kb(const char *smaps, uint64_t start, const char *field)
{
	const char *rec = smaps_record(smaps, start);
	const char *end, *at;
	char key[64];
	unsigned long long v;

	if (!rec)
		fail_msg("no smaps record at %" PRIx64, start);
	end = strstr(rec, "\nVmFlags:");
	assert_non_null(end);
	snprintf(key, sizeof(key), "\n%s:", field);
	at = strstr(rec, key);
	if (!at || at > end)
		fail_msg("no %s in the record at %" PRIx64, field, start);
	assert_int_equal(sscanf(at + strlen(key), " %llu kB", &v), 1);
	return v;
}

/* A "Field:\t  N kB" value of status. */
static uint64_t status_kb(const char *status, const char *field)
{
	char key[64];
	const char *at;
	unsigned long long v;

	snprintf(key, sizeof(key), "%s:\t", field);
	at = strstr(status, key);
	if (!at)
		fail_msg("no %s in status", field);
	assert_int_equal(sscanf(at + strlen(key), "%llu kB", &v), 1);
	return v;
}

/* ------------------------------------------------------------------ maps */

/* The inode number of the shmem object behind the shared mapping (from its maps line). */
static unsigned long long shmem_ino(const char *maps)
{
	const char *line = strstr(maps, "20000000-20001000 ");
	unsigned long long ino;

	assert_non_null(line);
	assert_int_equal(sscanf(line, "20000000-20001000 rw-s 00000000 00:01 %llu", &ino), 1);
	return ino;
}

/*
 * Linux 6.18 prints for this layout:
 *   10000000-10004000 rw-p 00000000 00:00 0
 *   20000000-20001000 rw-s 00000000 00:01 1026            ...      /dev/zero (deleted)
 *   20001000-20002000 r--s 00001000 00:01 1026            ...      /dev/zero (deleted)
 *   30000000-30001000 rw-p 00000000 00:00 0
 *   30001000-30002000 r--p 00000000 00:00 0
 *   30002000-30004000 rw-p 00000000 00:00 0
 * with the shmem name starting at column 73.
 */
static void test_maps_lines(void **state)
{
	struct env *f = *state;
	char expect[1024], shm[2][160];
	unsigned long long ino;
	const char *line;
	char *maps;
	int i;

	build_layout(f->p);
	maps = render(um_proc_maps, f->p);
	ino = shmem_ino(maps);
	for (i = 0; i < 2; i++) {
		int n = snprintf(shm[i], sizeof(shm[i]), "2000%d000-2000%d000 %s %08x 00:01 %llu ",
				 i, i + 1, i ? "r--s" : "rw-s", i ? 0x1000 : 0, ino);

		while (n < 73)
			shm[i][n++] = ' ';
		snprintf(shm[i] + n, sizeof(shm[i]) - (size_t)n, "/dev/zero (deleted)\n");
	}
	snprintf(expect, sizeof(expect),
		 "10000000-10004000 rw-p 00000000 00:00 0 \n"
		 "%s%s"
		 "30000000-30001000 rw-p 00000000 00:00 0 \n"
		 "30001000-30002000 r--p 00000000 00:00 0 \n"
		 "30002000-30004000 rw-p 00000000 00:00 0 \n",
		 shm[0], shm[1]);
	assert_string_equal(maps, expect);
	/* The name starts at column 73, after padding to 72 and one space (seq_pad). */
	line = strstr(maps, "\n20000000-") + 1;
	assert_memory_equal(line + 71, "  /dev/zero (deleted)\n", 22);
	free(maps);
}

/* The snprintf contract: full length always, at most size bytes, NUL-terminated. */
static void test_maps_truncation(void **state)
{
	struct env *f = *state;
	char small[16], *maps;
	int64_t len;

	build_layout(f->p);
	maps = render(um_proc_maps, f->p);
	len = (int64_t)strlen(maps);
	memset(small, 'X', sizeof(small));
	assert_int_equal(um_proc_maps(f->p, small, 10), len);
	assert_int_equal(strlen(small), 9);
	assert_memory_equal(small, maps, 9);
	assert_int_equal(small[10], 'X');
	assert_int_equal(um_proc_maps(f->p, small, 1), len);
	assert_int_equal(small[0], '\0');
	assert_int_equal(um_proc_maps(f->p, NULL, 0), len);
	assert_int_equal(um_proc_maps(f->p, NULL, 10), -EFAULT);
	free(maps);
}

/* An empty address space renders as an empty file. */
static void test_maps_empty(void **state)
{
	struct env *f = *state;
	char buf[8] = "X";

	assert_int_equal(um_proc_maps(f->p, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(um_proc_smaps(f->p, buf, sizeof(buf)), 0);
}

/* ----------------------------------------------------------------- smaps */

/*
 * Before any fork: every written page is private and dirty. Linux prints
 * this record exactly (VmFlags aside) for the first mapping.
 */
static void test_smaps_record_format(void **state)
{
	struct env *f = *state;
	const char *rec, *flags;
	char *smaps;

	build_layout(f->p);
	smaps = render(um_proc_smaps, f->p);
	rec = smaps_record(smaps, A);
	assert_non_null(rec);
	flags = strstr(rec, "VmFlags: ");
	assert_non_null(flags);
	assert_memory_equal(rec,
			    "10000000-10004000 rw-p 00000000 00:00 0 \n"
			    "Size:                 16 kB\n"
			    "KernelPageSize:        4 kB\n"
			    "MMUPageSize:           4 kB\n"
			    "Rss:                  12 kB\n"
			    "Pss:                  12 kB\n"
			    "Pss_Dirty:            12 kB\n"
			    "Shared_Clean:          0 kB\n"
			    "Shared_Dirty:          0 kB\n"
			    "Private_Clean:         0 kB\n"
			    "Private_Dirty:        12 kB\n"
			    "Referenced:           12 kB\n"
			    "Anonymous:            12 kB\n"
			    "KSM:                   0 kB\n"
			    "LazyFree:              0 kB\n"
			    "AnonHugePages:         0 kB\n"
			    "ShmemPmdMapped:        0 kB\n"
			    "FilePmdMapped:         0 kB\n"
			    "Shared_Hugetlb:        0 kB\n"
			    "Private_Hugetlb:       0 kB\n"
			    "Swap:                  0 kB\n"
			    "SwapPss:               0 kB\n"
			    "Locked:                0 kB\n"
			    "THPeligible:           0\n"
			    "VmFlags: ",
			    (size_t)(flags + strlen("VmFlags: ") - rec));
	/* x86-64 Linux lists rd wr mr mw me first for a private writable mapping. */
	assert_memory_equal(flags, "VmFlags: rd wr mr mw me ", 24);
	flags = strstr(smaps_record(smaps, S), "VmFlags: ");
	assert_memory_equal(flags, "VmFlags: rd wr sh mr mw me ms ", 30);

	/* Shared anonymous memory is shmem: resident, but not Anonymous. */
	assert_int_equal(smaps_kb(smaps, S, "Rss"), 4);
	assert_int_equal(smaps_kb(smaps, S, "Private_Dirty"), 4);
	assert_int_equal(smaps_kb(smaps, S, "Anonymous"), 0);
	/* The read-only split piece of C was never written. */
	assert_int_equal(smaps_kb(smaps, C + PG, "Size"), 4);
	assert_int_equal(smaps_kb(smaps, C + PG, "Rss"), 0);
	assert_int_equal(smaps_kb(smaps, C + 2 * PG, "Size"), 8);
	assert_int_equal(smaps_kb(smaps, C + 2 * PG, "Private_Dirty"), 4);
	free(smaps);
}

/*
 * Linux 6.18, after fork() where the child writes A's page 0 (breaking
 * COW) and reads both pages of S, shows in both processes:
 *   A:     Rss 12, Pss 8, Pss_Dirty 8, Shared_Dirty 8, Private_Dirty 4
 *   S, S+P: Rss 4, Pss 2, Shared_Dirty 4 (the child's clean PTE maps a dirty shmem page)
 *   C:     Rss 4, Pss 2, Shared_Dirty 4;  C+P: Rss 0;  C+2P: Rss 4, Pss 2, Shared_Dirty 4
 */
static void check_after_fork(const char *smaps)
{
	static const struct {
		uint64_t start;
		uint64_t rss, pss, pss_dirty;
		uint64_t shared_clean, shared_dirty, private_clean, private_dirty;
	} want[] = {
		{A, 12, 8, 8, 0, 8, 0, 4},
		{S, 4, 2, 2, 0, 4, 0, 0},
		{S + PG, 4, 2, 2, 0, 4, 0, 0},
		{C, 4, 2, 2, 0, 4, 0, 0},
		{C + PG, 0, 0, 0, 0, 0, 0, 0},
		{C + 2 * PG, 4, 2, 2, 0, 4, 0, 0},
	};
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		uint64_t s = want[i].start;

		assert_int_equal(smaps_kb(smaps, s, "Rss"), want[i].rss);
		assert_int_equal(smaps_kb(smaps, s, "Pss"), want[i].pss);
		assert_int_equal(smaps_kb(smaps, s, "Pss_Dirty"), want[i].pss_dirty);
		assert_int_equal(smaps_kb(smaps, s, "Shared_Clean"), want[i].shared_clean);
		assert_int_equal(smaps_kb(smaps, s, "Shared_Dirty"), want[i].shared_dirty);
		assert_int_equal(smaps_kb(smaps, s, "Private_Clean"), want[i].private_clean);
		assert_int_equal(smaps_kb(smaps, s, "Private_Dirty"), want[i].private_dirty);
	}
	assert_int_equal(smaps_kb(smaps, A, "Anonymous"), 12);
	assert_int_equal(smaps_kb(smaps, S, "Anonymous"), 0);
}

static void test_smaps_after_fork(void **state)
{
	struct env *f = *state;
	struct um_proc *child;
	char *smaps;

	build_layout(f->p);
	assert_int_equal(um_fork(f->p, &child), 0);
	STORE(child, A, 100);
	assert_int_equal(LOAD(child, S), 4);
	assert_int_equal(LOAD(child, S + PG), 5);
	/* The parent still sees its own value in the page the child copied. */
	assert_int_equal(LOAD(f->p, A), 1);

	smaps = render(um_proc_smaps, f->p);
	check_after_fork(smaps);
	free(smaps);
	smaps = render(um_proc_smaps, child);
	check_after_fork(smaps);
	free(smaps);
	um_exit(child);

	/* With the child gone every page is the parent's alone again. */
	smaps = render(um_proc_smaps, f->p);
	assert_int_equal(smaps_kb(smaps, A, "Pss"), 12);
	assert_int_equal(smaps_kb(smaps, A, "Private_Dirty"), 12);
	assert_int_equal(smaps_kb(smaps, A, "Shared_Dirty"), 0);
	assert_int_equal(smaps_kb(smaps, S, "Pss"), 4);
	free(smaps);
}

/*
 * Pss is kept in Linux's fixed point: three pages each mapped by three
 * processes give 3 x ((4096 << 12) / 3) >> 22 = 3 kB, not 4 (checked on
 * Linux 6.18 with two forked children).
 */
static void test_smaps_pss_rounding(void **state)
{
	struct env *f = *state;
	struct um_proc *c1, *c2;
	char *smaps;

	assert_int_equal(um_mmap(f->p, A, 3 * PG, UM_PROT_READ | UM_PROT_WRITE,
				 UM_MAP_PRIVATE | UM_MAP_ANONYMOUS | UM_MAP_FIXED, -1, 0),
			 (int64_t)A);
	STORE(f->p, A, 1);
	STORE(f->p, A + PG, 2);
	STORE(f->p, A + 2 * PG, 3);
	assert_int_equal(um_fork(f->p, &c1), 0);
	assert_int_equal(um_fork(f->p, &c2), 0);
	smaps = render(um_proc_smaps, f->p);
	assert_int_equal(smaps_kb(smaps, A, "Rss"), 12);
	assert_int_equal(smaps_kb(smaps, A, "Pss"), 3);
	assert_int_equal(smaps_kb(smaps, A, "Pss_Dirty"), 3);
	assert_int_equal(smaps_kb(smaps, A, "Shared_Dirty"), 12);
	assert_int_equal(smaps_kb(smaps, A, "Private_Dirty"), 0);
	free(smaps);
	um_exit(c2);
	um_exit(c1);
}

/*
 * Locked is the Pss of a VM_LOCKED mapping. (Linux 6.18 also populates a
 * MAP_LOCKED mapping at mmap time, giving Rss 8 kB and VmLck 8 kB here; that
 * is mmap's business, so only the procfs relation is checked.)
 */
static void test_smaps_locked(void **state)
{
	struct env *f = *state;
	char *smaps;

	assert_int_equal(um_mmap(f->p, A, 2 * PG, UM_PROT_READ | UM_PROT_WRITE,
				 UM_MAP_PRIVATE | UM_MAP_ANONYMOUS | UM_MAP_FIXED | UM_MAP_LOCKED,
				 -1, 0),
			 (int64_t)A);
	STORE(f->p, A, 1);
	smaps = render(um_proc_smaps, f->p);
	assert_int_equal(smaps_kb(smaps, A, "Locked"), smaps_kb(smaps, A, "Pss"));
	assert_true(smaps_kb(smaps, A, "Locked") >= 4);
	assert_non_null(strstr(smaps_record(smaps, A), " lo "));
	free(smaps);
}

/* ---------------------------------------------------------------- status */

/*
 * For the layout: VmSize 40 kB (16 + 8 + 16), RssAnon 5 pages, RssShmem 2
 * pages, VmData the private writable pieces (16 + 4 + 8), VmPTE one PUD,
 * one PMD and three PTE tables (the mappings sit in three 2 MiB regions of
 * the first GiB).
 */
static void test_status(void **state)
{
	struct env *f = *state;
	struct um_proc *child;
	char *status;

	build_layout(f->p);
	status = render(um_proc_status, f->p);
	assert_string_equal(status, "VmSize:\t      40 kB\n"
				    "VmLck:\t       0 kB\n"
				    "VmPin:\t       0 kB\n"
				    "VmRSS:\t      28 kB\n"
				    "RssAnon:\t      20 kB\n"
				    "RssFile:\t       0 kB\n"
				    "RssShmem:\t       8 kB\n"
				    "VmData:\t      28 kB\n"
				    "VmStk:\t       0 kB\n"
				    "VmExe:\t       0 kB\n"
				    "VmLib:\t       0 kB\n"
				    "VmPTE:\t      20 kB\n"
				    "VmSwap:\t       0 kB\n"
				    "HugetlbPages:\t       0 kB\n");
	free(status);

	/* The child, once it has touched the shared pages, counts the same. */
	assert_int_equal(um_fork(f->p, &child), 0);
	STORE(child, A, 100);
	(void)LOAD(child, S);
	(void)LOAD(child, S + PG);
	status = render(um_proc_status, child);
	assert_int_equal(status_kb(status, "VmSize"), 40);
	assert_int_equal(status_kb(status, "VmRSS"), 28);
	assert_int_equal(status_kb(status, "RssAnon"), 20);
	assert_int_equal(status_kb(status, "RssShmem"), 8);
	assert_int_equal(status_kb(status, "VmData"), 28);
	free(status);
	um_exit(child);
}

/* --------------------------------------------------------------- pagemap */

static void test_pagemap(void **state)
{
	struct env *f = *state;
	struct um_proc *child;
	uint64_t pm[4], cm[4], sm[2], hole[2];

	build_layout(f->p);
	/* Untouched page 3 of A read: the shared zero page, present but nobody's. */
	assert_int_equal(LOAD(f->p, A + 3 * PG), 0);
	assert_int_equal(um_pagemap(f->p, A, 4, pm), 4);
	assert_true(pm[0] & PM_PRESENT);
	assert_true(pm[0] & PM_EXCLUSIVE);
	assert_false(pm[0] & (PM_FILE | PM_SWAP));
	assert_true(pm[3] & PM_PRESENT);
	assert_false(pm[3] & (PM_EXCLUSIVE | PM_FILE));
	assert_int_not_equal(pm[0] & PM_PFN_MASK, pm[1] & PM_PFN_MASK);

	/* Shared anonymous pages are reported as file pages (PM_FILE). */
	assert_int_equal(um_pagemap(f->p, S, 2, sm), 2);
	assert_true(sm[0] & PM_PRESENT);
	assert_true(sm[0] & PM_FILE);

	/* Unwritten and unmapped pages: no entry (soft-dirty aside inside a VMA). */
	assert_int_equal(um_pagemap(f->p, C + PG, 1, hole), 1);
	assert_int_equal(hole[0] & ~PM_SOFT_DIRTY, 0);
	assert_int_equal(um_pagemap(f->p, 0x40000000, 2, hole), 2);
	assert_int_equal(hole[0], 0);
	assert_int_equal(hole[1], 0);

	/* After fork and a COW break: page 0 differs, page 1 is one shared frame. */
	assert_int_equal(um_fork(f->p, &child), 0);
	STORE(child, A, 100);
	assert_int_equal(um_pagemap(f->p, A, 4, pm), 4);
	assert_int_equal(um_pagemap(child, A, 4, cm), 4);
	assert_int_not_equal(pm[0] & PM_PFN_MASK, cm[0] & PM_PFN_MASK);
	assert_true(pm[0] & PM_EXCLUSIVE);
	assert_true(cm[0] & PM_EXCLUSIVE);
	assert_int_equal(pm[1] & PM_PFN_MASK, cm[1] & PM_PFN_MASK);
	assert_false(pm[1] & PM_EXCLUSIVE);
	assert_false(cm[1] & PM_EXCLUSIVE);
	um_exit(child);

	assert_int_equal(um_pagemap(f->p, A + 1, 1, pm), -EINVAL);
	assert_int_equal(um_pagemap(f->p, A, 0, NULL), 0);
}

/* ------------------------------------------------------------ kpagecount */

/* The frame number that um_pagemap reports for the page at addr (present). */
static uint64_t pfn_at(struct um_proc *p, uint64_t addr)
{
	uint64_t ent = 0;

	assert_int_equal(um_pagemap(p, addr, 1, &ent), 1);
	assert_true(ent & PM_PRESENT);
	return ent & PM_PFN_MASK;
}

/* Map counts follow faults, fork, a COW break, exit and munmap. */
static void test_kpagecount(void **state)
{
	struct env *f = *state;
	struct um_sys_stats st;
	struct um_proc *child;
	uint64_t a0, a1, s0, copy;

	build_layout(f->p);
	a0 = pfn_at(f->p, A);
	a1 = pfn_at(f->p, A + PG);
	s0 = pfn_at(f->p, S);
	assert_ret(um_kpagecount(f->sys, a0), 1);
	assert_ret(um_kpagecount(f->sys, s0), 1);
	/* The zero frame, read-mapped, is counted by no one. */
	assert_int_equal(LOAD(f->p, A + 3 * PG), 0);
	assert_ret(um_kpagecount(f->sys, pfn_at(f->p, A + 3 * PG)), 0);

	/*
	 * fork copies the PTEs of private (COW) pages; those of a shared mapping
	 * are left for the child to fault in, as Linux does.
	 */
	assert_int_equal(um_fork(f->p, &child), 0);
	assert_ret(um_kpagecount(f->sys, a0), 2);
	assert_ret(um_kpagecount(f->sys, a1), 2);
	assert_ret(um_kpagecount(f->sys, s0), 1);
	assert_int_equal(LOAD(child, S), 4);
	assert_ret(um_kpagecount(f->sys, s0), 2);
	/* The child's write breaks COW: a new frame for it, the old one mapped once. */
	STORE(child, A, 100);
	copy = pfn_at(child, A);
	assert_int_not_equal(copy, a0);
	assert_ret(um_kpagecount(f->sys, copy), 1);
	assert_ret(um_kpagecount(f->sys, a0), 1);
	um_exit(child);
	assert_ret(um_kpagecount(f->sys, copy), 0);
	assert_ret(um_kpagecount(f->sys, a1), 1);
	assert_ret(um_kpagecount(f->sys, s0), 1);

	assert_int_equal(um_munmap(f->p, A, 2 * PG), 0);
	assert_ret(um_kpagecount(f->sys, a0), 0);
	assert_ret(um_kpagecount(f->sys, a1), 0);

	um_system_stats(f->sys, &st);
	assert_ret(um_kpagecount(f->sys, st.frames_total - 1), 0);
	assert_ret(um_kpagecount(f->sys, st.frames_total), -EINVAL);
	assert_ret(um_kpagecount(NULL, 0), -EINVAL);
}

/* ------------------------------------------------------------ concurrency */

struct churn {
	struct um_proc *p;
	int rounds;
};

/* Faults pages in and splits and re-merges the mapping while the main thread reads. */
static void *churn_main(void *arg)
{
	struct churn *c = arg;
	int r, i;

	for (r = 0; r < c->rounds; r++) {
		for (i = 0; i < 16; i++)
			if (um_store(c->p, A + (uint64_t)i * PG, 8, (uint64_t)r, NULL))
				return (void *)1;
		if (um_mprotect(c->p, A + 4 * PG, 4 * PG, UM_PROT_READ) ||
		    um_mprotect(c->p, A + 4 * PG, 4 * PG, UM_PROT_READ | UM_PROT_WRITE))
			return (void *)1;
	}
	return NULL;
}

/* The readers take the mm lock shared: they run beside faults and mprotect. */
static void test_concurrent_readers(void **state)
{
	struct env *f = *state;
	struct churn c = {f->p, 200};
	uint64_t pm[16];
	pthread_t t;
	void *ret;
	char *smaps;
	int i;

	assert_int_equal(um_mmap(f->p, A, 16 * PG, UM_PROT_READ | UM_PROT_WRITE,
				 UM_MAP_PRIVATE | UM_MAP_ANONYMOUS | UM_MAP_FIXED, -1, 0),
			 (int64_t)A);
	assert_int_equal(pthread_create(&t, NULL, churn_main, &c), 0);
	for (i = 0; i < 200; i++) {
		assert_true(um_proc_maps(f->p, NULL, 0) > 0);
		assert_true(um_proc_smaps(f->p, NULL, 0) > 0);
		assert_true(um_proc_status(f->p, NULL, 0) > 0);
		assert_int_equal(um_pagemap(f->p, A, 16, pm), 16);
	}
	assert_int_equal(pthread_join(t, &ret), 0);
	assert_null(ret);
	smaps = render(um_proc_smaps, f->p);
	assert_int_equal(smaps_kb(smaps, A, "Rss"), 64);
	assert_int_equal(smaps_kb(smaps, A, "Private_Dirty"), 64);
	free(smaps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_maps_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_maps_truncation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_maps_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_smaps_record_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_smaps_after_fork, setup, teardown),
		cmocka_unit_test_setup_teardown(test_smaps_pss_rounding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_smaps_locked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pagemap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kpagecount, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_readers, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
