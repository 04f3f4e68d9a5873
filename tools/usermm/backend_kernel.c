/*
 * backend_kernel.c: the `kernel` back end: a scenario run on real Linux.
 * Each scenario process is a driver process (tools/driver/driver.c), a
 * static program the runner talks to over a socket (proto.h). `proc`
 * spawns a fresh driver; `fork` is a real fork of the driver; `exec` makes
 * the driver exec itself; `exit` ends it.
 *
 * maps, smaps, status and pagemap are read by the runner from the
 * driver's /proc/PID files while the driver waits for its next request.
 * They keep only the scenario's mappings: a mapping is the driver's own
 * when it overlaps one the driver had when it reported ready, or is a
 * kernel-named one ([heap], [stack], [vvar], [vdso] ...). status subtracts
 * the driver's own mappings (their smaps sizes) from the kernel's counters.
 *
 * Files live in a fresh private directory per run (the driver's working
 * directory); `file` and `cat` are done by the runner on that directory,
 * as root with its capabilities. Drivers have the runner's uid and gid
 * and no capabilities, or the library's privileged ones after `config
 * privileged=1`.
 *
 * Frame map counts come from /proc/kpagecount, open for the whole run (it
 * needs root, as pagemap's frame numbers do).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../driver/proto.h"
#include "backend.h"
#include "memcg.h"
#include "usermm.h"

/* The runner keeps byte strings and vectors within what one message carries. */
_Static_assert(BE_MAX_BYTES <= DRV_MAX_DATA && BE_MAX_PAGES <= DRV_MAX_DATA,
	       "a byte string or a mincore vector the runner takes must fit one driver message");

struct range {
	uint64_t start, end;
};

struct be_proc {
	pid_t pid;
	int fd; /* the runner's end of the driver's socket */
	uint64_t top;
	bool dead;	   /* the driver died: every call answers RK_DIED */
	bool ours;	   /* a child of the runner (spawned): reaped with waitpid */
	struct range *own; /* the driver's mappings when it reported ready */
	size_t nown;
};

struct backend {
	char *driver;
	char sandbox[PATH_MAX];
	int dirfd; /* the sandbox, for the runner's own file commands */
	uint32_t page;
	uint64_t zero_pfn;
	uint64_t caps;	  /* the capabilities drivers keep: 0, or UM_CAP_PRIVILEGED */
	int pool_lock;	  /* HUGETLB_LOCK, shared; exclusive once the run sets a pool */
	long pool_old[2]; /* the pools' sizes before the run set them; -1: untouched */
	int kpagecount; /* /proc/kpagecount, or -1 */
	struct memcg cg;  /* config phys=N: the drivers' memory cgroup (memcg.c) */
	bool cg_asked;	  /* config phys was given */
	bool cg_required; /* config memcg=1: a run without the cgroup is not run */
	char cg_why[256]; /* why config phys could not make it */
};

/*
 * The huge page pools are the machine's: a run that sizes one (config
 * hugepages=N) holds this lock exclusive until it ends and puts the old
 * size back; every other run holds it shared, so that no pool appears
 * under a scenario that expects none.
 */
#define HUGETLB_LOCK "/tmp/usermm-hugetlb.lock"
static const char *const pool_files[2] = {
    "/proc/sys/vm/nr_hugepages",
    "/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages",
};
/* Surplus pages: with these above 0, a pool grows on demand past its size. */
static const char *const surplus_files[2] = {
    "/proc/sys/vm/nr_overcommit_hugepages",
    "/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_overcommit_hugepages",
};

/* The number a /proc/sys (or /sys) file holds, or -1. */
static long sysctl_read(const char *path)
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

static long pool_read(int which)
{
	return sysctl_read(pool_files[which]);
}

static int pool_write(int which, long v)
{
	FILE *f = fopen(pool_files[which], "w");
	int err = 0;

	if (!f)
		return -errno;
	if (fprintf(f, "%ld\n", v) < 0)
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

/* ------------------------------------------------------------- set-up */

/* The driver program: $USERMM_DRIVER, or next to this program, or in ../lib/usermm. */
static char *find_driver(void)
{
	static const char *const rel[] = {"usermm-driver", "../lib/usermm/usermm-driver"};
	const char *env = getenv("USERMM_DRIVER");
	char self[PATH_MAX], *slash;
	ssize_t n;
	size_t i;

	if (env && *env)
		return xstrdup(env);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return NULL;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return NULL;
	slash[1] = '\0';
	for (i = 0; i < ARRAY_SIZE(rel); i++) {
		struct sbuf b;

		sb_init(&b);
		sb_printf(&b, "%s%s", self, rel[i]);
		if (access(b.s, X_OK) == 0)
			return sb_steal(&b);
		sb_free(&b);
	}
	return NULL;
}

/* The frame of the shared zero page, learnt in the runner's own address space. */
static uint64_t probe_zero_pfn(uint32_t page)
{
	uint64_t ent = 0, pfn = UINT64_MAX;
	volatile unsigned char *a;
	int fd;

	a = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED)
		return pfn;
	(void)a[0];
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (pread(fd, &ent, sizeof(ent), (off_t)((uintptr_t)a / page * 8)) ==
			(ssize_t)sizeof(ent) &&
		    (ent >> 63) && (ent & ((1ULL << 55) - 1)))
			pfn = ent & ((1ULL << 55) - 1);
		close(fd);
	}
	munmap((void *)a, page);
	return pfn;
}

static int k_open(struct backend **out, struct sbuf *err)
{
	struct backend *be = xcalloc(1, sizeof(*be));
	const char *tmp;

	be->driver = find_driver();
	if (!be->driver) {
		sb_puts(err, "cannot find the driver program usermm-driver (set USERMM_DRIVER)");
		free(be);
		return -1;
	}
	be->page = (uint32_t)sysconf(_SC_PAGESIZE);
	sandbox_tmpdir_on_disk();
	tmp = getenv("TMPDIR");
	snprintf(be->sandbox, sizeof(be->sandbox), "%s/usermm-kernel-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(be->sandbox)) {
		sb_printf(err, "mkdtemp %s: %s", be->sandbox, strerror(errno));
		free(be->driver);
		free(be);
		return -1;
	}
	be->dirfd = open(be->sandbox, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (be->dirfd < 0) {
		sb_printf(err, "open %s: %s", be->sandbox, strerror(errno));
		rmdir(be->sandbox);
		free(be->driver);
		free(be);
		return -1;
	}
	be->zero_pfn = probe_zero_pfn(be->page);
	be->pool_old[0] = be->pool_old[1] = -1;
	be->pool_lock = open(HUGETLB_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (be->pool_lock >= 0)
		flock(be->pool_lock, LOCK_SH);
	be->kpagecount = open("/proc/kpagecount", O_RDONLY | O_CLOEXEC);
	*out = be;
	return 0;
}

/* Removes dir and everything under it (no symbolic links are followed). */
static void remove_tree(int parent, const char *name)
{
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;
	struct dirent *e;

	if (fd < 0) {
		unlinkat(parent, name, 0);
		return;
	}
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (e->d_type == DT_DIR)
			remove_tree(fd, e->d_name);
		else
			unlinkat(fd, e->d_name, 0);
	}
	closedir(d);
	unlinkat(parent, name, AT_REMOVEDIR);
}

static void k_close(struct backend *be)
{
	memcg_destroy(&be->cg);
	for (int i = 0; i < 2; i++)
		if (be->pool_old[i] >= 0)
			pool_write(i, be->pool_old[i]);
	if (be->pool_lock >= 0)
		close(be->pool_lock);
	if (be->kpagecount >= 0)
		close(be->kpagecount);
	close(be->dirfd);
	remove_tree(AT_FDCWD, be->sandbox);
	free(be->driver);
	free(be);
}

/* The HugePages_Total, _Free, _Rsvd and _Surp of /proc/meminfo; -errno. */
static int meminfo_hugepages(unsigned long long v[4])
{
	static const char *const keys[] = {
	    "HugePages_Total:", "HugePages_Free:", "HugePages_Rsvd:", "HugePages_Surp:"};
	char line[256];
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
			if (!strncmp(line, keys[i], strlen(keys[i])))
				v[i] = strtoull(line + strlen(keys[i]), NULL, 10);
	fclose(f);
	return 0;
}

/* hugepages: the HugePages_* lines of /proc/meminfo. */
static void k_hugepages(struct be_res *res)
{
	unsigned long long v[4] = {0, 0, 0, 0};
	int err = meminfo_hugepages(v);

	if (err) {
		be_res_err(res, -err);
		return;
	}
	res->kind = RK_TEXT;
	sb_printf(&res->bytes, "Total %llu Free %llu Rsvd %llu Surp %llu", v[0], v[1], v[2], v[3]);
}

/*
 * Waits (up to 5 s) until the default pool is nr huge pages, all free,
 * none reserved or surplus: a process of an earlier run may still be
 * giving its pages back.
 */
static bool pool_settled(long nr)
{
	for (int i = 0; i < 5000; i++) {
		unsigned long long v[4] = {0, 0, 0, 0};

		if (meminfo_hugepages(v) == 0 && v[0] == (unsigned long long)nr &&
		    v[1] == (unsigned long long)nr && v[2] == 0 && v[3] == 0)
			return true;
		usleep(1000);
	}
	return false;
}

/*
 * A setting of the whole machine that a run checks and does not change
 * (other work runs there, or nothing can change it): a scenario whose
 * results depend on it is not run (RK_UNAVAILABLE) where it is not val.
 *   overcommit_memory: the heuristic's refusals, and VM_NORESERVE, which
 *     policy 2 ignores;
 *   va_bits: 47 with 4-level paging, 56 with 5-level (a CPU with LA57 and
 *     a kernel that uses it), which decides where user space ends and
 *     which addresses are canonical;
 *   dirty_expire_centisecs, dirty_writeback_centisecs,
 *   dirty_background_ratio, dirty_ratio: when the flusher writes dirty
 *     pages back, which a script that sleeps may see on disk.
 */
static void k_config_check(const char *name, long have, uint64_t val, struct be_res *res)
{
	if (have >= 0 && (uint64_t)have == val) {
		res->kind = RK_OK;
		return;
	}
	res->kind = RK_UNAVAILABLE;
	sb_printf(&res->bytes, "%s is %ld here, the scenario needs %" PRIu64, name, have, val);
}

/* SwapTotal of /proc/meminfo in bytes, or -1 when unread. */
static long swap_total(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	long kb = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "SwapTotal: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb < 0 ? -1 : kb * 1024;
}

/* 56 when a hint above 47 bits is taken (5-level paging), else 47. */
static long user_va_bits(uint32_t page)
{
	void *p = mmap((void *)(1UL << 47), page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long bits = p != MAP_FAILED && (uintptr_t)p >= (1UL << 47) ? 56 : 47;

	if (p != MAP_FAILED)
		munmap(p, page);
	return bits;
}

/*
 * config privileged=1: the drivers keep the library's privileged
 * capabilities, which they can only when the runner holds them (root).
 */
static void k_privileged(struct backend *be, uint64_t val, struct be_res *res)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];
	uint64_t have;

	res->kind = RK_OK;
	be->caps = 0;
	if (!val)
		return;
	memset(data, 0, sizeof(data));
	have = syscall(SYS_capget, &hdr, data)
		   ? 0
		   : data[0].effective | (uint64_t)data[1].effective << 32;
	if ((have & UM_CAP_PRIVILEGED) != UM_CAP_PRIVILEGED) {
		res->kind = RK_UNAVAILABLE;
		sb_printf(&res->bytes, "the runner lacks capabilities %#" PRIx64 " (not root?)",
			  (uint64_t)(UM_CAP_PRIVILEGED & ~have));
		return;
	}
	be->caps = UM_CAP_PRIVILEGED;
}

/*
 * config phys=N: the drivers run in a memory cgroup limited to N (memcg.c),
 * or, where none can be made, n/a as before: the run then compares only
 * what does not need the limit. config memcg=1 makes a missing cgroup stop
 * the run (RK_UNAVAILABLE) instead.
 */
static void k_memcg(struct backend *be, const char *key, uint64_t val, struct be_res *res)
{
	res->kind = RK_OK;
	if (!strcmp(key, "memcg")) {
		be->cg_required = val != 0;
	} else {
		struct sbuf why;

		sb_init(&why);
		be->cg_asked = true;
		be->cg_why[0] = '\0';
		if (memcg_create(&be->cg, val, &why)) {
			snprintf(be->cg_why, sizeof(be->cg_why), "%s", sb_str(&why));
			res->kind = RK_NA;
		}
		sb_free(&why);
	}
	if (be->cg_required && be->cg_asked && !be->cg.dir[0]) {
		res->kind = RK_UNAVAILABLE;
		sb_printf(&res->bytes, "no memory cgroup for config phys: %s", be->cg_why);
	}
}

/*
 * config: the huge page pools are sized as asked (exclusively: see
 * HUGETLB_LOCK) or the run reports why not; the privilege is given to the
 * drivers (k_privileged); overcommit_memory, va_bits and swap=0 are checked
 * (k_config_check); other keys are the sim's only.
 */
static void k_config(struct backend *be, const char *key, uint64_t val, struct be_res *res)
{
	int which = !strcmp(key, "hugepages") || !strcmp(key, "nr_hugepages") ? 0
		    : !strcmp(key, "hugepages_pud")			      ? 1
									      : -1;
	int err;

	if (!strcmp(key, "privileged")) {
		k_privileged(be, val, res);
		return;
	}
	if (!strcmp(key, "overcommit_memory") || !strcmp(key, "overcommit")) {
		k_config_check("vm.overcommit_memory",
			       sysctl_read("/proc/sys/vm/overcommit_memory"), val, res);
		return;
	}
	/* swap=0, the one swap the sim has, is checked; others are the sim's (n/a). */
	if (!strcmp(key, "swap") && val == 0) {
		k_config_check("the swap space in bytes", swap_total(), val, res);
		return;
	}
	if (!strcmp(key, "va_bits")) {
		k_config_check("the user address width in bits", user_va_bits(be->page), val, res);
		return;
	}
	if (!strncmp(key, "dirty_", 6)) {
		char path[64], name[40];

		snprintf(path, sizeof(path), "/proc/sys/vm/%s", key);
		snprintf(name, sizeof(name), "vm.%s", key);
		k_config_check(name, sysctl_read(path), val, res);
		return;
	}
	if (!strcmp(key, "phys") || !strcmp(key, "phys_bytes") || !strcmp(key, "memory") ||
	    !strcmp(key, "memcg")) {
		k_memcg(be, key, val, res);
		return;
	}
	if (which < 0) {
		res->kind = RK_NA;
		return;
	}
	if (be->pool_lock < 0 || flock(be->pool_lock, LOCK_EX)) {
		res->kind = RK_UNAVAILABLE;
		sb_printf(&res->bytes, "cannot lock %s: %s", HUGETLB_LOCK, strerror(errno));
		return;
	}
	if (be->pool_old[which] < 0)
		be->pool_old[which] = pool_read(which);
	err = pool_write(which, (long)val);
	if (!err && (pool_read(which) != (long)val || (which == 0 && !pool_settled((long)val))))
		err = -ENOMEM;
	if (err) {
		/* The machine (not root, or no memory for the pages): not a difference. */
		res->kind = RK_UNAVAILABLE;
		sb_printf(&res->bytes, "cannot set %s to %" PRIu64 ": %s", pool_files[which], val,
			  strerror(-err));
		return;
	}
	/* The library's pools have no surplus pages; the machine's setting is only checked. */
	k_config_check(surplus_files[which], sysctl_read(surplus_files[which]), 0, res);
}

static uint32_t k_page_size(struct backend *be)
{
	return be->page;
}

/* ------------------------------------------------------------ messages */

static int send_all(int fd, const void *p, size_t n)
{
	const unsigned char *s = p;

	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

static int recv_all(int fd, void *p, size_t n)
{
	unsigned char *s = p;

	while (n) {
		ssize_t r = read(fd, s, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		s += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Reads one reply and its data (appended to data when non-NULL). */
static int recv_rep(int fd, struct drv_rep *rep, struct sbuf *data)
{
	if (recv_all(fd, rep, sizeof(*rep)))
		return -1;
	if (rep->len > DRV_MAX_DATA)
		return -1;
	if (rep->len) {
		char *buf = xmalloc(rep->len);

		if (recv_all(fd, buf, rep->len)) {
			free(buf);
			return -1;
		}
		if (data)
			sb_putn(data, buf, rep->len);
		free(buf);
	}
	return 0;
}

/* Reaps a driver the runner spawned. */
static void reap(struct be_proc *p)
{
	if (p->ours && p->pid > 0) {
		while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
			;
		p->ours = false;
	}
}

static void mark_dead(struct be_proc *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	p->dead = true;
	reap(p);
}

/*
 * Sends request q (with data) to p and reads the reply into rep (its data
 * into out). Returns 0, or -1 when the driver is gone (p is marked dead).
 */
static int transact(struct be_proc *p, struct drv_req *q, const void *data, struct drv_rep *rep,
		    struct sbuf *out)
{
	if (p->dead)
		return -1;
	if (send_all(p->fd, q, sizeof(*q)) || (q->len && send_all(p->fd, data, q->len)) ||
	    recv_rep(p->fd, rep, out)) {
		mark_dead(p);
		return -1;
	}
	return 0;
}

/* Reads a whole /proc/PID file. Returns 0 or -errno. */
static int read_proc(pid_t pid, const char *what, struct sbuf *out)
{
	char path[64], buf[65536];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		sb_putn(out, buf, (size_t)n);
	close(fd);
	return n < 0 ? -errno : 0;
}

/* Records the driver's own mappings, as they are now. */
static int record_own(struct be_proc *p)
{
	struct vma_list l;
	struct sbuf text;
	size_t i;
	int err;

	sb_init(&text);
	err = read_proc(p->pid, "maps", &text);
	if (!err && vma_list_parse(sb_str(&text), text.len, &l))
		err = -EIO;
	sb_free(&text);
	if (err)
		return err;
	free(p->own);
	p->own = xcalloc(l.n ? l.n : 1, sizeof(*p->own));
	for (i = 0; i < l.n; i++)
		p->own[i] = (struct range){l.v[i].start, l.v[i].end};
	p->nown = l.n;
	vma_list_free(&l);
	return 0;
}

/*
 * Reads the ready message a starting driver sends. A fresh image (spawned
 * or exec'd) reports its top and gets its own mappings recorded; a forked
 * child (from != NULL) has its parent's: its other mappings are the
 * scenario's, inherited.
 */
static int wait_ready(struct be_proc *p, const struct be_proc *from, struct sbuf *err)
{
	struct drv_rep rep;

	if (recv_rep(p->fd, &rep, NULL)) {
		sb_puts(err, "the driver did not start");
		return -1;
	}
	if (rep.ret < 0) {
		/* Not a ready message: the request before (exec) failed. */
		sb_printf(err, "the driver could not start: %s", strerror(rep.err));
		return -1;
	}
	p->pid = (pid_t)rep.addr;
	if (from) {
		p->top = from->top;
		free(p->own);
		p->own = xcalloc(from->nown ? from->nown : 1, sizeof(*p->own));
		memcpy(p->own, from->own, from->nown * sizeof(*p->own));
		p->nown = from->nown;
		return 0;
	}
	p->top = (uint64_t)rep.ret;
	if (!p->top) {
		sb_puts(err, "the driver could not find the top of its mmap area");
		return -1;
	}
	if (record_own(p)) {
		sb_printf(err, "cannot read /proc/%d/maps", (int)p->pid);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ processes */

static void free_proc(struct be_proc *p)
{
	if (p->fd >= 0)
		close(p->fd);
	reap(p);
	free(p->own);
	free(p);
}

static int k_proc_new(struct backend *be, struct be_proc **out, struct sbuf *err)
{
	struct be_proc *p = xcalloc(1, sizeof(*p));
	char caps[32];
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		sb_printf(err, "socketpair: %s", strerror(errno));
		free(p);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		sb_printf(err, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		free(p);
		return -1;
	}
	if (pid == 0) {
		/* The driver's only descriptor: a scenario process starts with none, as in sim. */
		if (dup2(sv[1], DRV_FD) < 0)
			_exit(127);
		syscall(SYS_close_range, 0U, DRV_FD - 1U, 0U);
		syscall(SYS_close_range, DRV_FD + 1U, ~0U, 0U);
		if (chdir(be->sandbox) || memcg_enter(&be->cg))
			_exit(127);
		snprintf(caps, sizeof(caps), "%" PRIx64, be->caps);
		execl(be->driver, "usermm-driver", caps, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	p->fd = sv[0];
	p->pid = pid;
	p->ours = true;
	if (wait_ready(p, NULL, err)) {
		sb_printf(err, " (%s)", be->driver);
		free_proc(p);
		return -1;
	}
	*out = p;
	return 0;
}

static void k_fork(struct backend *be, struct be_proc *parent, struct be_proc **child,
		   struct be_res *res)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct drv_req q = {.op = DRV_FORK};
	struct iovec iov = {&q, sizeof(q)};
	struct msghdr msg;
	struct cmsghdr *c;
	struct drv_rep rep;
	struct be_proc *cp;
	struct sbuf err;
	int sv[2];

	(void)be;
	if (parent->dead) {
		res->kind = RK_DIED;
		return;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		be_res_err(res, errno);
		return;
	}
	memset(&msg, 0, sizeof(msg));
	memset(&cm, 0, sizeof(cm));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &sv[1], sizeof(int));
	if (sendmsg(parent->fd, &msg, MSG_NOSIGNAL) != (ssize_t)sizeof(q) ||
	    recv_rep(parent->fd, &rep, NULL)) {
		close(sv[0]);
		close(sv[1]);
		mark_dead(parent);
		res->kind = RK_DIED;
		return;
	}
	close(sv[1]);
	if (rep.ret < 0) {
		close(sv[0]);
		be_res_err(res, rep.err);
		return;
	}
	cp = xcalloc(1, sizeof(*cp));
	cp->fd = sv[0];
	sb_init(&err);
	if (wait_ready(cp, parent, &err)) {
		sb_free(&err);
		free_proc(cp);
		be_res_err(res, EIO);
		return;
	}
	sb_free(&err);
	*child = cp;
	res->kind = RK_OK;
}

static void k_exec(struct backend *be, struct be_proc *p, struct be_res *res)
{
	struct drv_req q = {.op = DRV_EXEC};
	struct sbuf err;

	(void)be;
	if (p->dead || send_all(p->fd, &q, sizeof(q))) {
		mark_dead(p);
		res->kind = RK_DIED;
		return;
	}
	sb_init(&err);
	if (wait_ready(p, NULL, &err)) {
		mark_dead(p);
		res->kind = RK_DIED;
	} else {
		res->kind = RK_OK;
	}
	sb_free(&err);
}

/*
 * Waits (up to 2 s) until pid, which is not our child, has finished
 * exiting: a zombie, or gone. Its descriptors close (the end of file on its
 * socket) before the files its mappings held are released
 * (exit_task_work runs the deferred fput after exit_files), and releasing
 * a hugetlb file is what gives its huge pages back to the pool.
 */
static void wait_exited(pid_t pid)
{
	char path[64], stat[512];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	for (int i = 0; i < 2000; i++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, stat, sizeof(stat) - 1) : -1;
		const char *paren;

		if (fd >= 0)
			close(fd);
		if (n <= 0)
			return;
		stat[n] = '\0';
		paren = strrchr(stat, ')');
		if (!paren || paren[1] != ' ' || paren[2] == 'Z' || paren[2] == 'X')
			return;
		usleep(1000);
	}
}

static void k_exit(struct backend *be, struct be_proc *p, struct be_res *res)
{
	struct drv_req q = {.op = DRV_EXIT};
	char buf[256];

	(void)be;
	if (!p->dead && send_all(p->fd, &q, sizeof(q)) == 0) {
		/* End of file comes after the driver's address space is torn down. */
		while (read(p->fd, buf, sizeof(buf)) > 0 || errno == EINTR)
			;
		if (!p->ours)
			wait_exited(p->pid);
	}
	free_proc(p);
	res->kind = RK_OK;
}

static uint64_t k_top(struct backend *be, struct be_proc *p)
{
	(void)be;
	return p->top;
}

/* ----------------------------------------------------------------- calls */

/* Turns a driver reply into a result: a signal, an errno or a value. */
static void from_rep(const struct drv_rep *rep, struct be_res *res, bool ok_is_zero)
{
	res->sent = rep->sent;
	if (rep->signo) {
		res->kind = RK_SIG;
		res->signo = rep->signo;
		res->code = rep->code;
		res->addr = rep->addr;
	} else if (rep->ret == -1 && rep->err) {
		be_res_err(res, rep->err);
	} else if (ok_is_zero && rep->ret == 0) {
		res->kind = RK_OK;
	} else {
		res->kind = RK_VAL;
		res->val = (uint64_t)rep->ret;
	}
}

static void do_syscall(struct be_proc *p, struct be_res *res, bool ok_is_zero, long nr, uint64_t a1,
		       uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, uint64_t a6)
{
	struct drv_req q = {.op = DRV_SYSCALL, .a = {(uint64_t)nr, a1, a2, a3, a4, a5, a6}};
	struct drv_rep rep;

	if (transact(p, &q, NULL, &rep, NULL)) {
		res->kind = RK_DIED;
		return;
	}
	from_rep(&rep, res, ok_is_zero);
}

/* A request q of the driver's own that answers 0 or -1 with errno. */
static void do_syscall_req(struct be_proc *p, struct drv_req *q, struct be_res *res)
{
	struct drv_rep rep;

	if (transact(p, q, NULL, &rep, NULL))
		res->kind = RK_DIED;
	else
		from_rep(&rep, res, true);
}

/* A /proc/PID file holding one decimal (oom_score_adj, oom_score), read as root. */
static void k_proc_int(struct be_proc *p, const char *what, struct be_res *res)
{
	struct sbuf text;
	int err;

	sb_init(&text);
	err = read_proc(p->pid, what, &text);
	if (err)
		be_res_err(res, -err);
	else
		be_res_int(res, strtoll(sb_str(&text), NULL, 10));
	sb_free(&text);
}

/* A request q that carries a path (open, chmod). */
static void do_path(struct be_proc *p, struct drv_req *q, const char *path, struct be_res *res,
		    bool ok_is_zero)
{
	struct drv_rep rep;

	q->len = (uint32_t)strlen(path);
	if (transact(p, q, path, &rep, NULL))
		res->kind = RK_DIED;
	else
		from_rep(&rep, res, ok_is_zero);
}

/* A request whose reply carries bytes (reads, loads, mincore). */
static void do_bytes(struct be_proc *p, struct drv_req *q, const void *data, struct be_res *res)
{
	struct drv_rep rep;
	struct sbuf out;

	sb_init(&out);
	if (transact(p, q, data, &rep, &out)) {
		sb_free(&out);
		res->kind = RK_DIED;
		return;
	}
	from_rep(&rep, res, false);
	if (res->kind == RK_VAL || (res->kind == RK_OK && q->op == DRV_MINCORE)) {
		res->kind = RK_BYTES;
		sb_free(&res->bytes);
		res->bytes = out;
		return;
	}
	sb_free(&out);
}

/*
 * file PATH SIZE [BYTE | "CONTENT"], written by the runner in the sandbox,
 * one page per write: a bigger write makes the page cache of a file system
 * with large folios (ext4 since Linux 6.16) hold the file in large folios,
 * which the kernel then maps, writes back and cleans a folio at a time
 * (fault-around maps whole folios, msync of one page cleans its
 * neighbours), where the library's page cache, like a file written page by
 * page, holds single pages.
 */
static void host_file(struct backend *be, const struct be_call *c, struct be_res *res)
{
	uint64_t size = c->a[1], done = 0;
	unsigned char buf[4096];
	int fd;

	/* A new file is 0644 whatever the runner's umask (the sim's helper has 022). */
	fd = open_beneath(be->dirfd, c->path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd >= 0)
		fchmod(fd, 0644);
	else if (fd == -EEXIST)
		fd = open_beneath(be->dirfd, c->path, O_WRONLY | O_TRUNC, 0);
	if (fd < 0) {
		be_res_err(res, -fd);
		return;
	}
	memset(buf, c->nargs > 2 && !c->has_content && !c->offsets ? (int)(c->a[2] & 0xff) : 0,
	       sizeof(buf));
	if (c->has_content) {
		uint64_t n = c->dlen < size ? c->dlen : size;

		while (done < n) {
			uint64_t k = n - done < sizeof(buf) ? n - done : sizeof(buf);

			if (pwrite(fd, (const char *)c->data + done, (size_t)k, (off_t)done) !=
			    (ssize_t)k)
				goto err;
			done += k;
		}
		memset(buf, 0, sizeof(buf));
	}
	if (c->offsets || (c->nargs > 2 && !c->has_content && (c->a[2] & 0xff))) {
		while (done < size) {
			uint64_t n = size - done < sizeof(buf) ? size - done : sizeof(buf);

			if (c->offsets)
				fill_offsets(buf, n, done);
			if (pwrite(fd, buf, (size_t)n, (off_t)done) != (ssize_t)n)
				goto err;
			done += n;
		}
	}
	if (ftruncate(fd, (off_t)size))
		goto err;
	if (be->cg.dir[0]) {
		/*
		 * Page cache is charged to the cgroup that first reads it in: left
		 * in the cache, these pages would be the runner's, outside the
		 * drivers' limit.
		 */
		if (fsync(fd))
			goto err;
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	}
	close(fd);
	res->kind = RK_OK;
	return;
err:
	be_res_err(res, errno);
	close(fd);
}

/* cat PATH [OFF LEN]: read by the runner, through the host's page cache. */
static void host_cat(struct backend *be, const struct be_call *c, struct be_res *res)
{
	bool whole = c->nargs <= 2;
	uint64_t off = whole ? 0 : c->a[1], want = whole ? (uint64_t)BE_MAX_BYTES + 1 : c->a[2];
	char buf[65536];
	int fd = open_beneath(be->dirfd, c->path, O_RDONLY, 0);

	if (fd < 0) {
		be_res_err(res, -fd);
		return;
	}
	res->kind = RK_BYTES;
	while (res->bytes.len < want) {
		uint64_t n =
		    want - res->bytes.len < sizeof(buf) ? want - res->bytes.len : sizeof(buf);
		ssize_t r = pread(fd, buf, (size_t)n, (off_t)(off + res->bytes.len));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			be_res_err(res, errno);
			break;
		}
		if (r == 0)
			break;
		sb_putn(&res->bytes, buf, (size_t)r);
	}
	close(fd);
	if (res->kind == RK_BYTES && res->bytes.len > BE_MAX_BYTES)
		res->kind = RK_LIMIT;
}

/* sleep MS: real time passes (the sim's clock only moves; both let the flusher run). */
static void k_sleep(uint64_t ms, struct be_res *res)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	res->kind = RK_OK;
}

/* Is descriptor fd of driver p a device (for fchmod, which must not touch the machine's)? */
static bool fd_is_device(const struct be_proc *p, uint64_t fd)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)p->pid, (int)fd);
	return !stat(path, &st) && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode));
}

static void k_call(struct backend *be, struct be_proc *p, const struct be_call *c,
		   struct be_res *res)
{
	const uint64_t *a = c->a;
	struct drv_req q;

	memset(&q, 0, sizeof(q));
	switch (c->op) {
	case OP_FILE:
		host_file(be, c, res);
		return;
	case OP_CAT:
		host_cat(be, c, res);
		return;
	case OP_DISK:
	case OP_MEMINFO:
	case OP_RECLAIM:
	case OP_EVENTS:
	case OP_VMSTAT:
	case OP_SWAPON:
	case OP_SWAPOFF:
		res->kind = RK_NA;
		return;
	case OP_HUGEPAGES:
		k_hugepages(res);
		return;
	case OP_SLEEP:
		k_sleep(a[0], res);
		return;
	default:
		break;
	}
	if (!p || p->dead) {
		res->kind = RK_DIED;
		return;
	}
	switch (c->op) {
	case OP_MMAP:
		do_syscall(p, res, false, SYS_mmap, a[0], a[1], a[2], a[3],
			   c->nargs > 4 ? a[4] : (uint64_t)-1, c->nargs > 4 ? a[5] : 0);
		return;
	case OP_MUNMAP:
		do_syscall(p, res, true, SYS_munmap, a[0], a[1], 0, 0, 0, 0);
		return;
	case OP_MPROTECT:
		do_syscall(p, res, true, SYS_mprotect, a[0], a[1], a[2], 0, 0, 0);
		return;
	case OP_MSYNC:
		do_syscall(p, res, true, SYS_msync, a[0], a[1], a[2], 0, 0, 0);
		return;
	case OP_MREMAP:
		do_syscall(p, res, false, SYS_mremap, a[0], a[1], a[2], a[3],
			   c->nargs > 4 ? a[4] : 0, 0);
		return;
	case OP_MADVISE:
		do_syscall(p, res, true, SYS_madvise, a[0], a[1], a[2], 0, 0, 0);
		return;
	case OP_MLOCK:
		if (c->nargs > 2)
			do_syscall(p, res, true, SYS_mlock2, a[0], a[1], a[2], 0, 0, 0);
		else
			do_syscall(p, res, true, SYS_mlock, a[0], a[1], 0, 0, 0, 0);
		return;
	case OP_MUNLOCK:
		do_syscall(p, res, true, SYS_munlock, a[0], a[1], 0, 0, 0, 0);
		return;
	case OP_MLOCKALL:
		do_syscall(p, res, true, SYS_mlockall, a[0], 0, 0, 0, 0, 0);
		return;
	case OP_MUNLOCKALL:
		do_syscall(p, res, true, SYS_munlockall, 0, 0, 0, 0, 0, 0);
		return;
	case OP_BRK:
		do_syscall(p, res, false, SYS_brk, a[0], 0, 0, 0, 0, 0);
		return;
	case OP_REMAP_FILE_PAGES:
		do_syscall(p, res, true, SYS_remap_file_pages, a[0], a[1], a[2], a[3], a[4], 0);
		return;
	case OP_SETRLIMIT:
		q.op = DRV_SETRLIMIT;
		memcpy(q.a, a, 3 * sizeof(*a));
		do_syscall_req(p, &q, res);
		return;
	case OP_GETRLIMIT: {
		uint64_t v[2];

		q.op = DRV_GETRLIMIT;
		q.a[0] = a[0];
		do_bytes(p, &q, NULL, res);
		if (res->kind == RK_BYTES && res->bytes.len == sizeof(v)) {
			memcpy(v, res->bytes.s, sizeof(v));
			be_res_rlimit(res, v[0], v[1]);
		}
		return;
	}
	case OP_OOM_SCORE_ADJ:
		if (c->nargs == 0) {
			k_proc_int(p, "oom_score_adj", res);
			return;
		}
		q.op = DRV_OOM_SCORE_ADJ;
		q.a[0] = a[0];
		do_syscall_req(p, &q, res);
		return;
	case OP_OOM_SCORE:
		k_proc_int(p, "oom_score", res);
		return;
	case OP_CLOSE:
		do_syscall(p, res, true, SYS_close, a[0], 0, 0, 0, 0, 0);
		return;
	case OP_LSEEK:
		do_syscall(p, res, false, SYS_lseek, a[0], a[1], a[2], 0, 0, 0);
		return;
	case OP_FTRUNCATE:
		do_syscall(p, res, true, SYS_ftruncate, a[0], a[1], 0, 0, 0, 0);
		return;
	case OP_FSYNC:
		do_syscall(p, res, true, SYS_fsync, a[0], 0, 0, 0, 0, 0);
		return;
	case OP_FDATASYNC:
		do_syscall(p, res, true, SYS_fdatasync, a[0], 0, 0, 0, 0, 0);
		return;
	case OP_READ_USER:
		do_syscall(p, res, false, SYS_read, a[0], a[1], a[2], 0, 0, 0);
		return;
	case OP_WRITE_USER:
		do_syscall(p, res, false, SYS_write, a[0], a[1], a[2], 0, 0, 0);
		return;
	case OP_OPEN:
		q.op = DRV_OPEN;
		q.a[0] = a[1];
		q.a[1] = c->nargs > 2 ? a[2] : 0;
		do_path(p, &q, c->path, res, false);
		return;
	case OP_SETUID:
		do_syscall(p, res, true, SYS_setuid, a[0], 0, 0, 0, 0, 0);
		return;
	case OP_SETGID:
		do_syscall(p, res, true, SYS_setgid, a[0], 0, 0, 0, 0, 0);
		return;
	case OP_SETRESUID:
		do_syscall(p, res, true, SYS_setresuid, a[0], a[1], a[2], 0, 0, 0);
		return;
	case OP_SETRESGID:
		do_syscall(p, res, true, SYS_setresgid, a[0], a[1], a[2], 0, 0, 0);
		return;
	case OP_UMASK:
		do_syscall(p, res, false, SYS_umask, a[0], 0, 0, 0, 0, 0);
		return;
	case OP_FCHMOD:
	case OP_FCHOWN:
		/* The machine's /dev/zero (or any device) is not the scenario's to change. */
		if (fd_is_device(p, a[0]))
			be_res_err(res, EPERM);
		else if (c->op == OP_FCHMOD)
			do_syscall(p, res, true, SYS_fchmod, a[0], a[1], 0, 0, 0, 0);
		else
			do_syscall(p, res, true, SYS_fchown, a[0], a[1], a[2], 0, 0, 0);
		return;
	case OP_CHMOD:
	case OP_CHOWN:
		q.op = DRV_PATHAT;
		q.a[0] = c->op == OP_CHMOD ? SYS_fchmodat : SYS_fchownat;
		q.a[1] = a[1];
		q.a[2] = a[2]; /* chown's gid; fchownat's flags (a[3]) stay 0 */
		do_path(p, &q, c->path, res, true);
		return;
	case OP_FSTAT: {
		struct drv_stat ds;

		q.op = DRV_FSTAT;
		q.a[0] = a[0];
		do_bytes(p, &q, NULL, res);
		if (res->kind == RK_BYTES && res->bytes.len == sizeof(ds)) {
			memcpy(&ds, res->bytes.s, sizeof(ds));
			sb_reset(&res->bytes);
			be_res_stat(res, ds.mode, ds.uid, ds.gid, ds.size);
		}
		return;
	}
	case OP_READ:
	case OP_PREAD:
		q.op = c->op == OP_READ ? DRV_READ : DRV_PREAD;
		q.a[0] = a[0];
		q.a[1] = a[1];
		q.a[2] = a[2];
		do_bytes(p, &q, NULL, res);
		if (res->kind == RK_OK) {
			res->kind = RK_BYTES; /* read 0 bytes: "" */
			sb_reset(&res->bytes);
		}
		return;
	case OP_WRITE:
	case OP_PWRITE: {
		struct drv_rep rep;

		q.op = c->op == OP_WRITE ? DRV_WRITE : DRV_PWRITE;
		q.a[0] = a[0];
		q.a[1] = c->op == OP_PWRITE ? a[2] : 0;
		q.len = (uint32_t)c->dlen; /* at most BE_MAX_BYTES: the runner checked */
		if (transact(p, &q, c->data, &rep, NULL))
			res->kind = RK_DIED;
		else
			from_rep(&rep, res, false);
		return;
	}
	case OP_MINCORE: {
		size_t i;

		/* The driver runs any range; it sends the vector only when it is printable. */
		q.op = DRV_MINCORE;
		q.a[0] = a[0];
		q.a[1] = a[1];
		q.a[2] = be->page;
		do_bytes(p, &q, NULL, res);
		if ((res->kind == RK_BYTES || res->kind == RK_OK) &&
		    a[1] / be->page + !!(a[1] % be->page) > BE_MAX_PAGES) {
			res->kind = RK_LIMIT;
		} else if (res->kind == RK_BYTES || res->kind == RK_OK) {
			for (i = 0; i < res->bytes.len; i++)
				res->bytes.s[i] = (res->bytes.s[i] & 1) ? '1' : '0';
			res->kind = RK_TEXT;
			if (!res->bytes.len)
				sb_puts(&res->bytes, "\"\"");
		}
		return;
	}
	case OP_LOAD8:
	case OP_LOAD16:
	case OP_LOAD32:
	case OP_LOAD64:
	case OP_STORE8:
	case OP_STORE16:
	case OP_STORE32:
	case OP_STORE64: {
		static const unsigned size[] = {1, 2, 4, 8};
		bool is_load = c->op <= OP_LOAD64;
		struct drv_rep rep;

		q.op = is_load ? DRV_LOAD : DRV_STORE;
		q.a[0] = a[0];
		q.a[1] = size[is_load ? c->op - OP_LOAD8 : c->op - OP_STORE8];
		q.a[2] = a[1];
		if (transact(p, &q, NULL, &rep, NULL)) {
			res->kind = RK_DIED;
			return;
		}
		from_rep(&rep, res, false);
		if (!is_load && res->kind == RK_VAL)
			res->kind = RK_OK;
		return;
	}
	case OP_LOAD:
		q.op = DRV_COPY_FROM;
		q.a[0] = a[0];
		q.a[1] = a[1];
		do_bytes(p, &q, NULL, res);
		if (res->kind == RK_OK) {
			res->kind = RK_BYTES;
			sb_reset(&res->bytes);
		}
		return;
	case OP_CHECK: {
		struct drv_rep rep;

		q.op = DRV_CHECK;
		q.a[0] = a[0];
		q.a[1] = a[1];
		q.a[2] = a[2];
		q.a[3] = c->offsets;
		if (transact(p, &q, NULL, &rep, NULL)) {
			res->kind = RK_DIED;
			return;
		}
		from_rep(&rep, res, false);
		if (res->kind == RK_VAL)
			check_result(res, a[1], res->val);
		return;
	}
	case OP_STORE:
	case OP_FILL:
	case OP_TOUCH: {
		struct drv_rep rep;

		q.op = c->op == OP_STORE ? DRV_COPY_TO : c->op == OP_FILL ? DRV_FILL : DRV_TOUCH;
		q.a[0] = a[0];
		q.a[1] = a[1];
		q.a[2] = c->op == OP_TOUCH ? (c->nargs > 2 && a[2]) : a[2];
		q.a[3] = c->op == OP_FILL ? c->offsets : be->page;
		if (c->op == OP_STORE)
			q.len = (uint32_t)c->dlen; /* at most BE_MAX_BYTES: the runner checked */
		if (transact(p, &q, c->data, &rep, NULL)) {
			res->kind = RK_DIED;
			return;
		}
		from_rep(&rep, res, true);
		if (res->kind == RK_VAL)
			res->kind = RK_OK;
		return;
	}
	default:
		be_res_err(res, ENOSYS);
		return;
	}
}

/* --------------------------------------------------------------- /proc */

static bool kernel_named(const char *name)
{
	static const char *const names[] = {"[heap]", "[stack]",    "[vvar]",	"[vvar_vclock]",
					    "[vdso]", "[vsyscall]", "[uprobes]"};
	size_t i;

	if (!name)
		return false;
	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

/* Is v one of the driver's own mappings rather than the scenario's? */
static bool is_own(const struct be_proc *p, const struct vma_info *v)
{
	size_t i;

	if (kernel_named(v->name))
		return true;
	for (i = 0; i < p->nown; i++)
		if (v->start < p->own[i].end && p->own[i].start < v->end)
			return true;
	return false;
}

/* All of p's mappings from /proc (smaps: with their fields). */
static int read_vmas(struct be_proc *p, bool smaps, struct vma_list *all)
{
	struct sbuf text;
	int err;

	if (p->dead)
		return -ESRCH;
	sb_init(&text);
	err = read_proc(p->pid, smaps ? "smaps" : "maps", &text);
	if (!err && vma_list_parse(sb_str(&text), text.len, all))
		err = -EIO;
	sb_free(&text);
	return err;
}

static int k_maps(struct backend *be, struct be_proc *p, bool smaps, struct vma_list *out)
{
	struct vma_list all;
	size_t i;
	int err = read_vmas(p, smaps, &all);

	(void)be;
	out->v = NULL;
	out->n = 0;
	if (err)
		return err;
	for (i = 0; i < all.n; i++)
		if (!is_own(p, &all.v[i]))
			vma_list_take(out, &all, i);
	vma_list_free(&all);
	return 0;
}

/* Does the VmFlags list flags hold the two-letter flag f? */
static bool has_vmflag(const char *flags, const char *f)
{
	size_t i;

	for (i = 0; flags && flags[i] && flags[i + 1]; i += 3) {
		if (flags[i] == f[0] && flags[i + 1] == f[1])
			return true;
		if (!flags[i + 2])
			break;
	}
	return false;
}

static uint64_t sub(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

/*
 * status, less what the driver's own mappings account for: their sizes,
 * their resident pages (anonymous ones as RssAnon, the rest as RssFile),
 * their locked sizes and their swap.
 */
static int k_status(struct backend *be, struct be_proc *p, struct status_info *out)
{
	struct vma_list all;
	struct sbuf text;
	uint64_t size = 0, anon = 0, file = 0, lck = 0, swap = 0;
	size_t i;
	int err;

	(void)be;
	if (p->dead)
		return -ESRCH;
	sb_init(&text);
	err = read_proc(p->pid, "status", &text);
	if (err) {
		sb_free(&text);
		return err;
	}
	status_parse(sb_str(&text), text.len, out);
	sb_free(&text);
	err = read_vmas(p, true, &all);
	if (err)
		return err;
	for (i = 0; i < all.n; i++) {
		const struct vma_info *v = &all.v[i];

		/* [vsyscall] is a gate area, not a VMA: not in VmSize. */
		if (!is_own(p, v) || (v->name && !strcmp(v->name, "[vsyscall]")))
			continue;
		size += v->kb[SM_SIZE];
		anon += v->kb[SM_ANONYMOUS];
		file += sub(v->kb[SM_RSS], v->kb[SM_ANONYMOUS]);
		swap += v->kb[SM_SWAP];
		if (has_vmflag(v->vmflags, "lo"))
			lck += v->kb[SM_SIZE];
	}
	vma_list_free(&all);
	out->kb[ST_VMSIZE] = sub(out->kb[ST_VMSIZE], size);
	out->kb[ST_RSSANON] = sub(out->kb[ST_RSSANON], anon);
	out->kb[ST_RSSFILE] = sub(out->kb[ST_RSSFILE], file);
	out->kb[ST_VMLCK] = sub(out->kb[ST_VMLCK], lck);
	out->kb[ST_VMSWAP] = sub(out->kb[ST_VMSWAP], swap);
	out->kb[ST_VMRSS] = out->kb[ST_RSSANON] + out->kb[ST_RSSFILE] + out->kb[ST_RSSSHMEM];
	return 0;
}

static int k_pagemap(struct backend *be, struct be_proc *p, uint64_t addr, uint64_t n,
		     uint64_t *out)
{
	char path[64];
	ssize_t got;
	int fd;

	if (p->dead)
		return -ESRCH;
	/* Without CAP_SYS_ADMIN the kernel shows every frame number as 0. */
	if (geteuid() != 0)
		return -EPERM;
	memset(out, 0, n * sizeof(*out));
	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)p->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	got = pread(fd, out, n * sizeof(*out), (off_t)(addr / be->page * sizeof(*out)));
	close(fd);
	return got < 0 ? -errno : 0;
}

static uint64_t k_zero_pfn(struct backend *be)
{
	return be->zero_pfn;
}

static int64_t k_mapcount(struct backend *be, uint64_t pfn)
{
	uint64_t count;
	ssize_t got;

	if (be->kpagecount < 0)
		return -ENODEV;
	if (pfn > (uint64_t)INT64_MAX / sizeof(count))
		return -EINVAL;
	got = pread(be->kpagecount, &count, sizeof(count), (off_t)(pfn * sizeof(count)));
	if (got < 0)
		return -errno;
	if (got != (ssize_t)sizeof(count) || count > (uint64_t)INT64_MAX)
		return -EINVAL;
	return (int64_t)count;
}

static const char *k_sandbox(struct backend *be)
{
	return be->sandbox;
}

const struct be_ops be_kernel = {
    .name = "kernel",
    .open = k_open,
    .close = k_close,
    .config = k_config,
    .page_size = k_page_size,
    .proc_new = k_proc_new,
    .fork = k_fork,
    .exec = k_exec,
    .exit = k_exit,
    .top = k_top,
    .call = k_call,
    .maps = k_maps,
    .status = k_status,
    .pagemap = k_pagemap,
    .zero_pfn = k_zero_pfn,
    .mapcount = k_mapcount,
    .sandbox = k_sandbox,
};
