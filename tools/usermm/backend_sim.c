/*
 * backend_sim.c: the `sim` back end: a scenario run on the usermm library.
 * One um_system per run, made with the configuration the script's config
 * lines set; one um_proc per scenario process.
 *
 * Only the public API (usermm.h) is used.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
	free(be->events);
	free(be->pids);
	free(be);
}

_Static_assert(BE_EV_FAULT_MINOR == (int)UM_EVENT_FAULT_MINOR &&
		       BE_EV_FAULT_MAJOR == (int)UM_EVENT_FAULT_MAJOR && BE_EV_COW == (int)UM_EVENT_COW &&
		       BE_EV_WRITEBACK == (int)UM_EVENT_WRITEBACK &&
		       BE_EV_EVICT == (int)UM_EVENT_EVICT && BE_EV_OOM_KILL == (int)UM_EVENT_OOM_KILL &&
		       BE_EV_SWAP_OUT == (int)UM_EVENT_SWAP_OUT &&
		       BE_EV_SWAP_IN == (int)UM_EVENT_SWAP_IN,
	       "the tool's event types are the library's");

/* The library's event handler: counts each event, keeps the first ones. */
static void sim_event(void *arg, const struct um_event *ev)
{
	struct sim_events *log = arg;

	if ((int)ev->type <= 0 || (int)ev->type >= (int)BE_EV_NTYPES)
		return;
	log->n[ev->type]++;
	if (log->kept < SIM_EVENTS_KEPT)
		log->ev[log->kept++] = *ev;
	else
		log->dropped++;
}

static void pid_add(struct backend *be, struct be_proc *bp)
{
	be->pids = xrealloc(be->pids, (be->npids + 1) * sizeof(*be->pids));
	be->pids[be->npids++] = (struct sim_pid){ um_getpid(bp->p), bp };
}

static void pid_del(struct backend *be, struct be_proc *bp)
{
	for (size_t i = 0; i < be->npids; i++)
		if (be->pids[i].bp == bp) {
			be->pids[i] = be->pids[--be->npids];
			return;
		}
}

static struct be_proc *pid_proc(struct backend *be, int pid)
{
	for (size_t i = 0; i < be->npids; i++)
		if (be->pids[i].pid == pid)
			return be->pids[i].bp;
	return NULL;
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
	be->events = xcalloc(1, sizeof(*be->events));
	um_set_event_handler(be->sys, sim_event, be->events);
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
	else if (!strcmp(key, "dirty_expire_centisecs"))
		c->dirty_expire_centisecs = (uint32_t)val;
	else if (!strcmp(key, "dirty_writeback_centisecs"))
		c->dirty_writeback_centisecs = (uint32_t)val;
	else if (!strcmp(key, "dirty_background_ratio"))
		c->dirty_background_ratio = (uint32_t)val;
	else if (!strcmp(key, "dirty_ratio"))
		c->dirty_ratio = (uint32_t)val;
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
		if (e) {
			free(bp);
		} else {
			pid_add(be, bp);
			*out = bp;
		}
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

	if (e) {
		free(c);
		be_res_err(res, -e);
		return;
	}
	pid_add(be, c);
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
	pid_del(be, p);
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

/* Bytes [done, done + n) of fill's pattern: the byte, or the offsets from ADDR. */
static void fill_pattern(unsigned char *buf, size_t n, uint64_t done, uint8_t byte, bool offsets)
{
	if (offsets)
		fill_offsets(buf, n, done);
	else
		memset(buf, byte, n);
}

/*
 * fill and check: write the pattern over [addr, addr + len), or read it
 * back, FILL_CHUNK bytes at a time; check answers where it first differs.
 */
static void sim_fill(struct um_proc *p, uint64_t addr, uint64_t len, uint8_t byte, bool offsets,
		     bool check, struct be_res *res)
{
	unsigned char *buf = xmalloc(FILL_CHUNK), *got = check ? xmalloc(FILL_CHUNK) : NULL;
	struct um_siginfo si = {0};
	uint64_t done = 0, differs = len;
	int rc = 0;

	while (done < len && !rc && differs == len) {
		uint64_t n = len - done < FILL_CHUNK ? len - done : FILL_CHUNK;

		fill_pattern(buf, (size_t)n, done, byte, offsets);
		if (!check) {
			rc = um_copy_to(p, addr + done, buf, (size_t)n, &si);
		} else {
			rc = um_copy_from(p, got, addr + done, (size_t)n, &si);
			for (uint64_t i = 0; !rc && i < n && differs == len; i++)
				if (got[i] != buf[i])
					differs = done + i;
		}
		done += n;
	}
	free(buf);
	free(got);
	if (rc)
		access_result(rc, &si, res);
	else if (check)
		check_result(res, len, differs);
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

/* One line of a /proc file: its name, its value, and how fs/proc prints it. */
struct proc_field {
	const char *name;
	uint64_t val;
	int style; /* FIELD_KB: "Name:" padded to 16, 8 columns, " kB"; FIELD_COUNT: %5 */
};

enum { FIELD_KB, FIELD_COUNT, FIELD_VMSTAT };

/*
 * Prints the fields of f (n of them): those c names (by argument
 * position) on one line, "Name: V kB" or "name V", or EINVAL for a name
 * not among them; with no name, head then one line each as the file
 * shows it.
 */
static void print_fields(const struct proc_field *f, size_t n, const struct be_call *c,
			 const char *head, struct be_res *res)
{
	res->kind = RK_TEXT;
	if (c->nargs > 0) {
		for (int i = 0; i < c->nargs; i++) {
			size_t k = 0;

			while (k < n && strcmp(f[k].name, c->words[i]))
				k++;
			if (k == n) {
				sb_free(&res->bytes);
				be_res_err(res, EINVAL);
				return;
			}
			sb_printf(&res->bytes, "%s%s%s %" PRIu64 "%s", i ? " " : "", f[k].name,
				  f[k].style == FIELD_VMSTAT ? "" : ":", f[k].val,
				  f[k].style == FIELD_KB ? " kB" : "");
		}
		return;
	}
	sb_puts(&res->bytes, head);
	for (size_t k = 0; k < n; k++) {
		char label[32];

		snprintf(label, sizeof(label), "%s:", f[k].name);
		if (f[k].style == FIELD_KB)
			sb_printf(&res->bytes, "\n%-16s%8" PRIu64 " kB", label, f[k].val);
		else if (f[k].style == FIELD_COUNT)
			sb_printf(&res->bytes, "\n%-16s%8" PRIu64, label, f[k].val);
		else
			sb_printf(&res->bytes, "\n%s %" PRIu64, f[k].name, f[k].val);
	}
}

/*
 * meminfo [FIELD...]: /proc/meminfo (fs/proc/meminfo.c), in its order,
 * with the fields the library keeps. The swap branch's fields go where the
 * comments say: SwapCached after Cached, Active(anon) and Inactive(anon)
 * after Inactive, SwapTotal and SwapFree after Mlocked.
 */
static void sim_meminfo(struct backend *be, const struct be_call *c, struct be_res *res)
{
	struct um_sys_stats st;
	uint64_t kb = um_page_size(be->sys) >> 10;
	struct sbuf head;

	um_system_stats(be->sys, &st);
	const struct proc_field f[] = {
		{ "MemTotal", st.frames_total * kb, FIELD_KB },
		{ "MemFree", st.frames_free * kb, FIELD_KB },
		{ "MemAvailable", st.mem_available * kb, FIELD_KB },
		/* Linux's Cached holds shmem too. */
		{ "Cached", (st.cached_pages + st.shmem_pages) * kb, FIELD_KB },
		{ "SwapCached", st.swap_cached * kb, FIELD_KB },
		{ "Active", (st.active_anon + st.active_file) * kb, FIELD_KB },
		{ "Inactive", (st.inactive_anon + st.inactive_file) * kb, FIELD_KB },
		{ "Active(anon)", st.active_anon * kb, FIELD_KB },
		{ "Inactive(anon)", st.inactive_anon * kb, FIELD_KB },
		{ "Active(file)", st.active_file * kb, FIELD_KB },
		{ "Inactive(file)", st.inactive_file * kb, FIELD_KB },
		{ "Unevictable", st.unevictable * kb, FIELD_KB },
		{ "Mlocked", st.mlocked_pages * kb, FIELD_KB },
		{ "SwapTotal", st.swap_total * kb, FIELD_KB },
		{ "SwapFree", st.swap_free * kb, FIELD_KB },
		{ "Dirty", st.dirty_pages * kb, FIELD_KB },
		/* Write-back is synchronous: no page is under it between calls. */
		{ "Writeback", st.writeback_pages * kb, FIELD_KB },
		{ "AnonPages", st.anon_pages * kb, FIELD_KB },
		{ "Mapped", st.mapped_pages * kb, FIELD_KB },
		{ "Shmem", st.shmem_pages * kb, FIELD_KB },
		{ "PageTables", st.page_tables >> 10, FIELD_KB },
		{ "CommitLimit", st.commit_limit >> 10, FIELD_KB },
		{ "Committed_AS", st.committed_as >> 10, FIELD_KB },
		{ "HugePages_Total", st.hugepages_total, FIELD_COUNT },
		{ "HugePages_Free", st.hugepages_free, FIELD_COUNT },
		{ "HugePages_Rsvd", st.hugepages_rsvd, FIELD_COUNT },
		{ "HugePages_Surp", 0, FIELD_COUNT }, /* the pools have no surplus pages */
		{ "Hugepagesize", st.hugepage_size >> 10, FIELD_KB },
		{ "Hugetlb", st.hugetlb_bytes >> 10, FIELD_KB },
	};

	sb_init(&head);
	sb_printf(&head, "MemTotal: %" PRIu64 " kB MemFree: %" PRIu64 " kB MemAvailable: %" PRIu64 " kB",
		  f[0].val, f[1].val, f[2].val);
	print_fields(f, ARRAY_SIZE(f), c, sb_str(&head), res);
	sb_free(&head);
}

/*
 * vmstat [NAME...]: the /proc/vmstat counters the library keeps, in
 * vmstat_text's order (zone, node, then event counters), then the one of
 * its own: usermm_cow_copies (Linux counts no copy-on-write).
 */
static void sim_vmstat(struct backend *be, const struct be_call *c, struct be_res *res)
{
	struct um_sys_stats st;
	struct sbuf head;

	um_system_stats(be->sys, &st);
	const struct proc_field f[] = {
		{ "nr_free_pages", st.frames_free, FIELD_VMSTAT },
		{ "nr_mlock", st.mlocked_pages, FIELD_VMSTAT },
		{ "nr_inactive_anon", st.inactive_anon, FIELD_VMSTAT },
		{ "nr_active_anon", st.active_anon, FIELD_VMSTAT },
		{ "nr_inactive_file", st.inactive_file, FIELD_VMSTAT },
		{ "nr_active_file", st.active_file, FIELD_VMSTAT },
		{ "nr_unevictable", st.unevictable, FIELD_VMSTAT },
		{ "nr_anon_pages", st.anon_pages, FIELD_VMSTAT },
		{ "nr_mapped", st.mapped_pages, FIELD_VMSTAT },
		{ "nr_file_pages", st.cached_pages + st.shmem_pages, FIELD_VMSTAT },
		{ "nr_dirty", st.dirty_pages, FIELD_VMSTAT },
		{ "nr_shmem", st.shmem_pages, FIELD_VMSTAT },
		{ "nr_dirtied", st.nr_dirtied, FIELD_VMSTAT },
		{ "nr_written", st.nr_written, FIELD_VMSTAT },
		{ "nr_page_table_pages", st.page_tables / um_page_size(be->sys), FIELD_VMSTAT },
		{ "nr_swapcached", st.swap_cached, FIELD_VMSTAT },
		{ "nr_dirty_threshold", st.dirty_threshold, FIELD_VMSTAT },
		{ "nr_dirty_background_threshold", st.dirty_background_threshold, FIELD_VMSTAT },
		{ "pswpin", st.pswpin, FIELD_VMSTAT },
		{ "pswpout", st.pswpout, FIELD_VMSTAT },
		{ "pgactivate", st.pgactivate, FIELD_VMSTAT },
		{ "pgdeactivate", st.pgdeactivate, FIELD_VMSTAT },
		{ "pgfault", st.pgfault, FIELD_VMSTAT },
		{ "pgmajfault", st.pgmajfault, FIELD_VMSTAT },
		{ "pgrefill", st.pgrefill, FIELD_VMSTAT },
		{ "pgsteal_kswapd", st.pgsteal_kswapd, FIELD_VMSTAT },
		{ "pgsteal_direct", st.pgsteal_direct, FIELD_VMSTAT },
		{ "pgsteal_proactive", st.pgsteal_proactive, FIELD_VMSTAT },
		{ "pgscan_kswapd", st.pgscan_kswapd, FIELD_VMSTAT },
		{ "pgscan_direct", st.pgscan_direct, FIELD_VMSTAT },
		{ "pgscan_proactive", st.pgscan_proactive, FIELD_VMSTAT },
		{ "pgscan_anon", st.pgscan_anon, FIELD_VMSTAT },
		{ "pgscan_file", st.pgscan_file, FIELD_VMSTAT },
		{ "pgsteal_anon", st.pgsteal_anon, FIELD_VMSTAT },
		{ "pgsteal_file", st.pgsteal_file, FIELD_VMSTAT },
		{ "pageoutrun", st.pageoutrun, FIELD_VMSTAT },
		{ "oom_kill", st.oom_kills, FIELD_VMSTAT },
		{ "usermm_cow_copies", st.cow_copies, FIELD_VMSTAT },
		{ "usermm_written_periodic", st.written_periodic, FIELD_VMSTAT },
		{ "usermm_written_background", st.written_background, FIELD_VMSTAT },
		{ "usermm_written_throttle", st.written_throttle, FIELD_VMSTAT },
		{ "usermm_dirty_throttled", st.dirty_throttled, FIELD_VMSTAT },
	};

	sb_init(&head);
	sb_printf(&head, "%zu counters", ARRAY_SIZE(f));
	print_fields(f, ARRAY_SIZE(f), c, sb_str(&head), res);
	sb_free(&head);
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

/*
 * The path under dir (shown as rel) of the regular file with inode number
 * ino, or NULL: the sandbox is small, and looked through only for
 * `events all`.
 */
static char *path_of_ino(const char *dir, const char *rel, uint64_t ino)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char *found = NULL;

	while (d && !found && (de = readdir(d))) {
		struct sbuf full, sub;
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		sb_init(&full);
		sb_init(&sub);
		sb_printf(&full, "%s/%s", dir, de->d_name);
		sb_printf(&sub, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
		if (!lstat(sb_str(&full), &st)) {
			if (S_ISREG(st.st_mode) && st.st_ino == ino)
				found = sb_steal(&sub);
			else if (S_ISDIR(st.st_mode))
				found = path_of_ino(sb_str(&full), sb_str(&sub), ino);
		}
		sb_free(&full);
		sb_free(&sub);
	}
	if (d)
		closedir(d);
	return found;
}

/*
 * events [all]: the events since the last `events`, counted by type
 * ("minor 2 major 1 cow 0 writeback 0 evict 0 oom-kill 0 swapout 0 swapin 0"); with all, one
 * be_event each (the runner prints them), the first SIM_EVENTS_KEPT.
 */
static void sim_events(struct backend *be, const struct be_call *c, struct be_res *res)
{
	struct sim_events *log = be->events;

	res->kind = RK_TEXT;
	sb_printf(&res->bytes,
		  "minor %" PRIu64 " major %" PRIu64 " cow %" PRIu64 " writeback %" PRIu64
		  " evict %" PRIu64 " oom-kill %" PRIu64 " swapout %" PRIu64 " swapin %" PRIu64,
		  log->n[BE_EV_FAULT_MINOR], log->n[BE_EV_FAULT_MAJOR], log->n[BE_EV_COW],
		  log->n[BE_EV_WRITEBACK], log->n[BE_EV_EVICT], log->n[BE_EV_OOM_KILL],
		  log->n[BE_EV_SWAP_OUT], log->n[BE_EV_SWAP_IN]);
	if (c->nargs > 0 && log->kept) {
		res->events = xcalloc(log->kept, sizeof(*res->events));
		res->nevents = log->kept;
		res->events_dropped = log->dropped;
		for (size_t i = 0; i < log->kept; i++) {
			const struct um_event *ev = &log->ev[i];
			struct be_event *out = &res->events[i];

			out->type = (enum be_event_type)ev->type;
			out->pid = ev->pid;
			out->proc = ev->pid ? pid_proc(be, ev->pid) : NULL;
			out->addr = ev->addr;
			out->pfn = ev->pfn;
			out->index = ev->index;
			out->ino = ev->ino;
			if (ev->type == UM_EVENT_WRITEBACK || ev->type == UM_EVENT_EVICT) {
				/* The one before named the same file, most often. */
				if (i && log->ev[i - 1].ino == ev->ino && res->events[i - 1].path)
					out->path = xstrdup(res->events[i - 1].path);
				else
					out->path = path_of_ino(um_sandbox_dir(be->sys), "", ev->ino);
			}
		}
	}
	memset(log, 0, sizeof(*log));
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
	case OP_CHECK:
		sim_fill(p, a[0], a[1], (uint8_t)a[2], c->offsets, c->op == OP_CHECK, res);
		return;
	case OP_TOUCH:
		sim_touch(be, p, a[0], a[1], c->nargs > 2 && a[2], res);
		return;
	case OP_MEMINFO:
		sim_meminfo(be, c, res);
		return;
	case OP_VMSTAT:
		sim_vmstat(be, c, res);
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
		sim_events(be, c, res);
		return;
	case OP_SLEEP:
		rc = um_advance_clock(be->sys, a[0]);
		break;
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
