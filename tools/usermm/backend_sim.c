/*
 * backend_sim.c: the `sim` back end: a scenario run on the usermm library.
 * One um_system per run, made with the configuration the script's config
 * lines set; one um_proc per scenario process.
 *
 * Only the public API (usermm.h) is used.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "sim.h"

#define FILL_CHUNK 65536

static int sim_open(struct backend **out, struct sbuf *err)
{
	struct backend *be = xcalloc(1, sizeof(*be));

	(void)err;
	sandbox_tmpdir_on_disk();
	um_config_init(&be->cfg);
	/*
	 * Where the first mmap(NULL) of a fresh process ends on Linux 6.x
	 * x86-64 without ASLR: mmap_base less the vvar, vvar_vclock and vdso
	 * pages that exec maps at the top. The same top, not only the same
	 * offsets, makes alignment-dependent placement (THP-aligned mappings)
	 * agree between the back ends.
	 */
	be->cfg.mmap_base = 0x7ffff7ff7000ULL;
	be->zero_pfn = UINT64_MAX;
	*out = be;
	return 0;
}

static void sim_close(struct backend *be)
{
	if (be->sys)
		um_system_free(be->sys);
	free(be);
}

/*
 * Learns the zero frame's number the way a user of the API can: a private
 * anonymous page read before it is written maps the shared zero frame.
 * The probe process is gone before the scenario's first one is made.
 */
static void probe_zero_pfn(struct backend *be)
{
	struct um_proc *p;
	uint64_t v, ent = 0;
	int64_t a;

	if (um_proc_new(be->sys, &p))
		return;
	a = um_mmap(p, 0, um_page_size(be->sys), UM_PROT_READ, UM_MAP_PRIVATE | UM_MAP_ANONYMOUS,
		    -1, 0);
	if (a >= 0 && um_load(p, (uint64_t)a, 1, &v, NULL) == 0 &&
	    um_pagemap(p, (uint64_t)a, 1, &ent) == 1 && (ent >> 63))
		be->zero_pfn = ent & ((1ULL << 55) - 1);
	um_exit(p);
}

int sim_system(struct backend *be)
{
	int err;

	if (be->sys)
		return 0;
	err = um_system_new(&be->cfg, &be->sys);
	if (err)
		return err;
	probe_zero_pfn(be);
	um_system_stats(be->sys, &be->last);
	return 0;
}

/* config KEY=VALUE: the um_config field of that name. */
static void sim_config(struct backend *be, const char *key, uint64_t val, struct be_res *res)
{
	struct um_config *c = &be->cfg;

	res->kind = RK_OK;
	if (be->sys) {
		be_res_err(res, EBUSY);
		return;
	}
	if (!strcmp(key, "phys") || !strcmp(key, "phys_bytes") || !strcmp(key, "memory"))
		c->phys_bytes = val;
	else if (!strcmp(key, "page_size") || !strcmp(key, "pagesize"))
		c->page_size = (uint32_t)val;
	else if (!strcmp(key, "max_map_count"))
		c->max_map_count = (uint32_t)val;
	else if (!strcmp(key, "overcommit_memory") || !strcmp(key, "overcommit"))
		c->overcommit_memory = (int)val;
	else if (!strcmp(key, "overcommit_ratio"))
		c->overcommit_ratio = (uint32_t)val;
	else if (!strcmp(key, "mmap_min_addr"))
		c->mmap_min_addr = val;
	else if (!strcmp(key, "mmap_base"))
		c->mmap_base = val;
	else if (!strcmp(key, "brk_start"))
		c->brk_start = val;
	else if (!strcmp(key, "rlimit_memlock") || !strcmp(key, "memlock"))
		c->rlimit_memlock = val;
	else if (!strcmp(key, "privileged"))
		c->privileged = val != 0;
	else if (!strcmp(key, "hugepages") || !strcmp(key, "nr_hugepages"))
		c->nr_hugepages = (uint32_t)val;
	else if (!strcmp(key, "hugepages_pud"))
		c->nr_hugepages_pud = (uint32_t)val;
	else if (!strcmp(key, "va_bits")) {
		/* x86-64 with 4-level paging: the only user space the library has. */
		if (val != 47) {
			be_res_err(res, EINVAL);
			sb_puts(&res->bytes, "the library's user addresses have 47 bits");
		}
	} else if (!strcmp(key, "memcg")) {
		/* The kernel back end's: run under a memory cgroup limited to phys, or not at all. */
	} else if (!strcmp(key, "swap")) {
		/* A swap file of val bytes in the sandbox, on from the start (0: none). */
		c->swap_bytes = val;
		if (val && val < 2 * (uint64_t)c->page_size) {
			be_res_err(res, EINVAL);
			sb_puts(&res->bytes, "a swap file needs two pages (its header and a slot)");
		}
	} else {
		/* The parser takes only known keys (config_keys). */
		be_res_err(res, EINVAL);
		sb_puts(&res->bytes, "unknown key");
	}
}

static uint32_t sim_page_size(struct backend *be)
{
	return be->sys ? um_page_size(be->sys) : be->cfg.page_size;
}

static int sim_proc_new(struct backend *be, struct be_proc **out, struct sbuf *err)
{
	struct be_proc *bp;
	int e = sim_system(be);

	if (!e) {
		bp = xcalloc(1, sizeof(*bp));
		e = um_proc_new(be->sys, &bp->p);
		if (e)
			free(bp);
		else
			*out = bp;
	}
	if (e && !be->sys)
		sb_printf(err, "the machine the config lines ask for: %s", strerror(-e));
	else if (e)
		sb_printf(err, "%s", strerror(-e));
	return e ? -1 : 0;
}

static void sim_fork(struct backend *be, struct be_proc *parent, struct be_proc **child,
		     struct be_res *res)
{
	struct be_proc *c = xcalloc(1, sizeof(*c));
	int e = um_fork(parent->p, &c->p);

	(void)be;
	if (e) {
		free(c);
		be_res_err(res, -e);
		return;
	}
	*child = c;
	res->kind = RK_OK;
}

static void sim_exec(struct backend *be, struct be_proc *p, struct be_res *res)
{
	int e = um_exec(p->p);

	(void)be;
	if (e)
		be_res_err(res, -e);
	else
		res->kind = RK_OK;
}

static void sim_exit(struct backend *be, struct be_proc *p, struct be_res *res)
{
	(void)be;
	um_exit(p->p);
	free(p);
	res->kind = RK_OK;
}

static bool sim_killed(struct backend *be, struct be_proc *p)
{
	(void)be;
	return um_proc_killed(p->p);
}

static uint64_t sim_top(struct backend *be, struct be_proc *p)
{
	(void)be;
	return um_mmap_base(p->p);
}

/* A fault or an error from an access call. */
static void access_result(int rc, const struct um_siginfo *si, struct be_res *res)
{
	if (rc == -EFAULT && si->signo) {
		res->kind = RK_SIG;
		res->signo = si->signo;
		res->code = si->code;
		res->addr = si->addr;
	} else {
		be_res_err(res, -rc);
	}
}

static void sim_fill(struct um_proc *p, uint64_t addr, uint64_t len, uint8_t byte,
		     struct be_res *res)
{
	unsigned char *buf = xmalloc(FILL_CHUNK);
	struct um_siginfo si = {0};
	uint64_t done = 0;
	int rc = 0;

	memset(buf, byte, FILL_CHUNK);
	while (done < len && !rc) {
		uint64_t n = len - done < FILL_CHUNK ? len - done : FILL_CHUNK;

		rc = um_copy_to(p, addr + done, buf, (size_t)n, &si);
		done += n;
	}
	free(buf);
	if (rc)
		access_result(rc, &si, res);
	else
		res->kind = RK_OK;
}

/* touch: one access per page from addr, as a translation for reading or writing. */
static void sim_touch(struct backend *be, struct um_proc *p, uint64_t addr, uint64_t len, int write,
		      struct be_res *res)
{
	uint64_t ps = um_page_size(be->sys), end = addr + len, at = addr;
	struct um_siginfo si = {0};
	void *host;
	int rc;

	res->kind = RK_OK;
	while (at < end && at >= addr) {
		rc = um_translate(p, at, write, &host, &si);
		if (rc) {
			access_result(rc, &si, res);
			return;
		}
		at = (at & ~(ps - 1)) + ps;
	}
}

/*
 * mincore: one digit per page, 1 resident. A range of more than
 * BE_MAX_PAGES pages is asked a chunk of that many pages at a time, as
 * Linux's own loop copies the vector out a page at a time: each chunk is
 * checked (start aligned, range inside the address space) and walked, so
 * the range fails where one call would, with its errno (ENOMEM at the
 * first page not mapped, which a range past the end of the address space
 * always reaches). Only the vector of such a range, when it succeeds, is
 * too long to print: RK_LIMIT.
 */
static void sim_mincore(struct backend *be, struct um_proc *p, uint64_t addr, uint64_t len,
			struct be_res *res)
{
	uint64_t ps = um_page_size(be->sys), n = len / ps + !!(len % ps), i;
	uint64_t chunk = (uint64_t)BE_MAX_PAGES * ps, left = len;
	unsigned char *vec = xcalloc(n < BE_MAX_PAGES ? (size_t)n + 1 : BE_MAX_PAGES, 1);
	int rc;

	do {
		uint64_t k = left < chunk ? left : chunk;

		rc = um_mincore(p, addr, k, vec);
		addr += k;
		left -= k;
	} while (!rc && left);
	if (rc) {
		be_res_err(res, -rc);
	} else if (n > BE_MAX_PAGES) {
		res->kind = RK_LIMIT;
	} else {
		res->kind = RK_TEXT;
		for (i = 0; i < n; i++)
			sb_putc(&res->bytes, (vec[i] & 1) ? '1' : '0');
		if (!n)
			sb_puts(&res->bytes, "\"\"");
	}
	free(vec);
}

static void sim_meminfo(struct backend *be, struct be_res *res)
{
	struct um_sys_stats st;
	uint64_t kb = um_page_size(be->sys) >> 10;

	um_system_stats(be->sys, &st);
	res->kind = RK_TEXT;
	sb_printf(&res->bytes,
		  "MemTotal %" PRIu64 " kB MemFree %" PRIu64 " kB MemUsed %" PRIu64
		  " kB Committed_AS %" PRIu64 " kB CommitLimit %" PRIu64 " kB",
		  st.frames_total * kb, st.frames_free * kb, st.frames_used * kb,
		  st.committed_as >> 10, st.commit_limit >> 10);
	sb_printf(&res->bytes,
		  " Cached %" PRIu64 " kB Dirty %" PRIu64 " kB Active(file) %" PRIu64
		  " kB Inactive(file) %" PRIu64 " kB Unevictable %" PRIu64 " kB",
		  st.cached_pages * kb, st.dirty_pages * kb, st.active_file * kb,
		  st.inactive_file * kb, st.unevictable * kb);
	sb_printf(&res->bytes, " Active(anon) %" PRIu64 " kB Inactive(anon) %" PRIu64 " kB",
		  st.active_anon * kb, st.inactive_anon * kb);
	sb_printf(&res->bytes,
		  " SwapTotal %" PRIu64 " kB SwapFree %" PRIu64 " kB SwapCached %" PRIu64 " kB",
		  st.swap_total * kb, st.swap_free * kb, st.swap_cached * kb);
}

/* The line both back ends print for `hugepages` (the HugePages_* of /proc/meminfo). */
static void sim_hugepages(struct backend *be, struct be_res *res)
{
	struct um_sys_stats st;

	um_system_stats(be->sys, &st);
	res->kind = RK_TEXT;
	sb_printf(&res->bytes, "Total %" PRIu64 " Free %" PRIu64 " Rsvd %" PRIu64 " Surp 0",
		  st.hugepages_total, st.hugepages_free, st.hugepages_rsvd);
}

static void sim_events(struct backend *be, struct be_res *res)
{
	struct um_sys_stats st;

	um_system_stats(be->sys, &st);
	res->kind = RK_TEXT;
	sb_printf(&res->bytes, "pgfault %" PRIu64 " pgmajfault %" PRIu64 " cow %" PRIu64,
		  st.pgfault - be->last.pgfault, st.pgmajfault - be->last.pgmajfault,
		  st.cow_copies - be->last.cow_copies);
	be->last = st;
}

static int sim_maps(struct backend *be, struct be_proc *p, bool smaps, struct vma_list *out);

/*
 * Is read (or write) FD ADDR LEN, about to run in p, one whose bytes land
 * on their own source: some byte of the move is, through a mapping of the
 * same file in the buffer (shared, for a read; any, for a write, whose
 * private pages are the cache's until written), the source or destination
 * of another? Then what it leaves there is the host CPU's copy's doing on
 * Linux, not the kernel's (src/file.c, alias_bounce), and the record says
 * so (host_dependent). Over-approximates: the count may come short (EOF),
 * a private page may be a copy already, and a write to an O_APPEND file,
 * whose flags the API does not tell, is taken to go at the offset or at
 * the end. A buffer that maps the very bytes it moves (no shift) is fine.
 */
static bool rw_onto_own_source(struct be_proc *p, const struct be_call *c)
{
	bool write = c->op == OP_WRITE_USER, hit = false;
	int fd = (int)c->a[0];
	uint64_t addr = c->a[1], len = c->a[2];
	int64_t pos = um_lseek(p->p, fd, 0, UM_SEEK_CUR);
	struct vma_list l = {0};
	struct um_stat st;

	if (!len || addr + len < addr || pos < 0 || um_fstat(p->p, fd, &st) ||
	    sim_maps(NULL, p, false, &l))
		return false;
	for (size_t k = 0; k < l.n && !hit; k++) {
		const struct vma_info *v = &l.v[k];
		uint64_t s = v->start > addr ? v->start : addr;
		uint64_t e = v->end < addr + len ? v->end : addr + len;

		if (s >= e || v->inode != st.st_ino || v->major != major(st.st_dev) ||
		    v->minor != minor(st.st_dev) || (!write && v->perms[3] != 's'))
			continue;
		/*
		 * Byte i of the move, i in [lo, hi), has its buffer byte at file
		 * offset at + i + d and its file byte at at + i: the buffer byte
		 * is the file byte of byte i + d of the move, another byte of it
		 * when d is not 0 and 0 <= i + d < len.
		 */
		for (int end = 0; end <= write && !hit; end++) {
			int64_t at = end ? (int64_t)st.st_size : pos;
			int64_t lo = (int64_t)(s - addr), hi = (int64_t)(e - addr);
			int64_t d = (int64_t)(v->offset + (s - v->start)) - (at + lo);

			hit = d && lo + d < (int64_t)len && hi + d > 0;
		}
	}
	vma_list_free(&l);
	return hit;
}

static void sim_call(struct backend *be, struct be_proc *bp, const struct be_call *c,
		     struct be_res *res)
{
	struct um_proc *p = bp ? bp->p : NULL;
	struct um_siginfo si = {0};
	const uint64_t *a = c->a;
	uint64_t val = 0;
	int64_t r;
	int rc;

	if (!be->sys && (rc = sim_system(be))) {
		be_res_err(res, -rc);
		return;
	}
	switch (c->op) {
	case OP_MMAP:
		r = um_mmap(p, a[0], a[1], (int)a[2], a[3], c->nargs > 4 ? (int)a[4] : -1,
			    c->nargs > 4 ? (int64_t)a[5] : 0);
		if (r < 0 && r >= -4095) {
			be_res_err(res, (int)-r);
		} else {
			res->kind = RK_VAL;
			res->val = (uint64_t)r;
		}
		return;
	case OP_MUNMAP:
		rc = um_munmap(p, a[0], a[1]);
		break;
	case OP_MPROTECT:
		rc = um_mprotect(p, a[0], a[1], (int)a[2]);
		break;
	case OP_LOAD8:
	case OP_LOAD16:
	case OP_LOAD32:
	case OP_LOAD64: {
		unsigned size = c->op == OP_LOAD8    ? 1
				: c->op == OP_LOAD16 ? 2
				: c->op == OP_LOAD32 ? 4
						     : 8;

		rc = um_load(p, a[0], size, &val, &si);
		if (rc) {
			access_result(rc, &si, res);
		} else {
			res->kind = RK_VAL;
			res->val = val;
		}
		return;
	}
	case OP_STORE8:
	case OP_STORE16:
	case OP_STORE32:
	case OP_STORE64: {
		unsigned size = c->op == OP_STORE8    ? 1
				: c->op == OP_STORE16 ? 2
				: c->op == OP_STORE32 ? 4
						      : 8;

		rc = um_store(p, a[0], size, a[1], &si);
		if (rc)
			access_result(rc, &si, res);
		else
			res->kind = RK_OK;
		return;
	}
	case OP_LOAD: {
		char *buf = xmalloc(a[1] ? (size_t)a[1] : 1);

		rc = um_copy_from(p, buf, a[0], (size_t)a[1], &si);
		if (rc) {
			access_result(rc, &si, res);
		} else {
			res->kind = RK_BYTES;
			sb_putn(&res->bytes, buf, (size_t)a[1]);
		}
		free(buf);
		return;
	}
	case OP_STORE:
		rc = um_copy_to(p, a[0], c->data, c->dlen, &si);
		if (rc)
			access_result(rc, &si, res);
		else
			res->kind = RK_OK;
		return;
	case OP_FILL:
		sim_fill(p, a[0], a[1], (uint8_t)a[2], res);
		return;
	case OP_TOUCH:
		sim_touch(be, p, a[0], a[1], c->nargs > 2 && a[2], res);
		return;
	case OP_MEMINFO:
		sim_meminfo(be, res);
		return;
	case OP_RECLAIM: {
		int64_t got = um_reclaim(be->sys, a[0]);

		if (got < 0) {
			be_res_err(res, (int)-got);
		} else {
			res->kind = RK_VAL;
			res->val = (uint64_t)got;
		}
		return;
	}
	case OP_EVENTS:
		sim_events(be, res);
		return;
	case OP_SWAPON:
		rc = um_swapon(be->sys, c->path, a[1]);
		if (rc < 0) {
			be_res_err(res, -rc);
		} else {
			res->kind = RK_VAL;
			res->val = (uint64_t)rc;
		}
		return;
	case OP_SWAPOFF:
		rc = um_swapoff(be->sys, c->path);
		break;
	case OP_HUGEPAGES:
		sim_hugepages(be, res);
		return;
	case OP_READ_USER:
	case OP_WRITE_USER:
		res->host_dependent = bp && rw_onto_own_source(bp, c);
		/* fall through */
	case OP_FILE:
	case OP_OPEN:
	case OP_CLOSE:
	case OP_READ:
	case OP_PREAD:
	case OP_WRITE:
	case OP_PWRITE:
	case OP_LSEEK:
	case OP_FTRUNCATE:
	case OP_FSYNC:
	case OP_FDATASYNC:
	case OP_CAT:
	case OP_DISK:
	case OP_MSYNC:
	case OP_FSTAT:
	case OP_CHMOD:
	case OP_FCHMOD:
	case OP_CHOWN:
	case OP_FCHOWN:
	case OP_UMASK:
		sim_file_call(be, p, c, res);
		/* A write or truncate past RLIMIT_FSIZE sent SIGXFSZ with EFBIG. */
		if (p)
			res->sent = um_signal_take(p);
		return;
	case OP_SETUID:
		rc = um_setuid(p, (uint32_t)a[0]);
		break;
	case OP_SETGID:
		rc = um_setgid(p, (uint32_t)a[0]);
		break;
	case OP_SETRESUID:
		rc = um_setresuid(p, (uint32_t)a[0], (uint32_t)a[1], (uint32_t)a[2]);
		break;
	case OP_SETRESGID:
		rc = um_setresgid(p, (uint32_t)a[0], (uint32_t)a[1], (uint32_t)a[2]);
		break;
	case OP_MREMAP:
		r = um_mremap(p, a[0], a[1], a[2], (int)a[3], c->nargs > 4 ? a[4] : 0);
		if (r < 0 && r >= -4095) {
			be_res_err(res, (int)-r);
		} else {
			res->kind = RK_VAL;
			res->val = (uint64_t)r;
		}
		return;
	case OP_MADVISE:
		rc = um_madvise(p, a[0], a[1], (int)a[2]);
		break;
	case OP_MINCORE:
		sim_mincore(be, p, a[0], a[1], res);
		return;
	case OP_MLOCK:
		rc = c->nargs > 2 ? um_mlock2(p, a[0], a[1], (unsigned)a[2])
				  : um_mlock(p, a[0], a[1]);
		break;
	case OP_MUNLOCK:
		rc = um_munlock(p, a[0], a[1]);
		break;
	case OP_MLOCKALL:
		rc = um_mlockall(p, (int)a[0]);
		break;
	case OP_MUNLOCKALL:
		rc = um_munlockall(p);
		break;
	case OP_BRK:
		res->kind = RK_VAL;
		res->val = um_brk(p, a[0]);
		return;
	case OP_REMAP_FILE_PAGES:
		rc = um_remap_file_pages(p, a[0], a[1], (int)a[2], a[3], (int)a[4]);
		break;
	case OP_SETRLIMIT:
		rc = um_setrlimit(p, (unsigned)a[0], a[1], a[2]);
		break;
	case OP_GETRLIMIT: {
		uint64_t soft, hard;

		rc = um_getrlimit(p, (unsigned)a[0], &soft, &hard);
		if (rc)
			break;
		be_res_rlimit(res, soft, hard);
		return;
	}
	case OP_OOM_SCORE_ADJ:
		if (c->nargs == 0) {
			be_res_int(res, um_oom_score_adj(p));
			return;
		}
		/* As /proc's write: kstrtoint, then the range check, both EINVAL. */
		if ((int64_t)a[0] < -1000 || (int64_t)a[0] > 1000)
			rc = -EINVAL;
		else
			rc = um_set_oom_score_adj(p, (int)a[0]);
		break;
	case OP_OOM_SCORE:
		be_res_int(res, um_oom_score(p));
		return;
	default:
		be_res_err(res, ENOSYS);
		return;
	}
	if (rc)
		be_res_err(res, -rc);
	else
		res->kind = RK_OK;
}

/* Renders one of the library's /proc files into a string. */
static int render(int64_t (*fn)(struct um_proc *, char *, size_t), struct um_proc *p, char **out,
		  size_t *len)
{
	int64_t n = fn(p, NULL, 0);
	char *buf;

	if (n < 0)
		return (int)n;
	buf = xmalloc((size_t)n + 1);
	n = fn(p, buf, (size_t)n + 1);
	if (n < 0) {
		free(buf);
		return (int)n;
	}
	*out = buf;
	*len = (size_t)n;
	return 0;
}

static int sim_maps(struct backend *be, struct be_proc *p, bool smaps, struct vma_list *out)
{
	char *text;
	size_t len;
	int err = render(smaps ? um_proc_smaps : um_proc_maps, p->p, &text, &len);

	(void)be;
	if (err)
		return err;
	err = vma_list_parse(text, len, out) ? -EIO : 0;
	free(text);
	return err;
}

static int sim_status(struct backend *be, struct be_proc *p, struct status_info *out)
{
	char *text;
	size_t len;
	int err = render(um_proc_status, p->p, &text, &len);

	(void)be;
	if (err)
		return err;
	status_parse(text, len, out);
	free(text);
	return 0;
}

static int sim_pagemap(struct backend *be, struct be_proc *p, uint64_t addr, uint64_t n,
		       uint64_t *out)
{
	int64_t got = um_pagemap(p->p, addr, n, out);

	(void)be;
	if (got < 0)
		return (int)got;
	for (; (uint64_t)got < n; got++)
		out[got] = 0;
	return 0;
}

static uint64_t sim_zero_pfn(struct backend *be)
{
	return be->zero_pfn;
}

static int64_t sim_mapcount(struct backend *be, uint64_t pfn)
{
	return be->sys ? um_kpagecount(be->sys, pfn) : -ENODEV;
}

static const char *sim_sandbox_dir(struct backend *be)
{
	return be->sys ? sim_sandbox(be) : NULL;
}

const struct be_ops be_sim = {
    .name = "sim",
    .open = sim_open,
    .close = sim_close,
    .config = sim_config,
    .page_size = sim_page_size,
    .proc_new = sim_proc_new,
    .fork = sim_fork,
    .exec = sim_exec,
    .exit = sim_exit,
    .top = sim_top,
    .killed = sim_killed,
    .call = sim_call,
    .maps = sim_maps,
    .status = sim_status,
    .pagemap = sim_pagemap,
    .zero_pfn = sim_zero_pfn,
    .mapcount = sim_mapcount,
    .sandbox = sim_sandbox_dir,
};
