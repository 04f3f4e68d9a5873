/*
 * runner.c: the execution of scenario lines (runner.h).
 *
 * For each command line: resolve the arguments with the symbols of the
 * process as they are before the line, print the command canonically, ask
 * the back end, print the result with those same symbols, check the
 * expectation, and only then bind the line's symbol. Frame and inode
 * labels are shared by all processes of the run, so a frame shared by two
 * processes has one label. After each command, the labels of frames that
 * no page table maps any more are forgotten: whether a freed frame comes
 * back is the allocator's business, which the back ends do not share.
 *
 * Invariants:
 *   1. A record is built from back end answers only, never from a back
 *      end's internals, so both back ends print comparable records.
 *   2. Every length that sizes a buffer here is bounded first
 *      (BE_MAX_BYTES, BE_MAX_PAGES): a script cannot make the runner
 *      allocate without limit. A command beyond them stops the run with
 *      a message naming the limit; it never answers with an errno, which
 *      would read as the call's.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

struct rproc {
	char *name;
	struct be_proc *h;
	bool alive;
	struct symtab syms;
};

struct run {
	struct run_cfg cfg;
	struct backend *be;
	struct rproc *procs;
	size_t nprocs;
	struct labels *labels;
	uint64_t seq;
	unsigned failures;
	bool unavailable; /* a config line this machine cannot honour stopped the run */
};

void be_res_init(struct be_res *r)
{
	memset(r, 0, sizeof(*r));
	sb_init(&r->bytes);
}

void be_res_free(struct be_res *r)
{
	sb_free(&r->bytes);
	for (size_t i = 0; i < r->nevents; i++)
		free(r->events[i].path);
	free(r->events);
	r->events = NULL;
	r->nevents = 0;
}

void be_res_err(struct be_res *r, int err)
{
	r->kind = RK_ERR;
	r->err = err;
}

void check_result(struct be_res *r, uint64_t len, uint64_t differs)
{
	if (differs >= len) {
		r->kind = RK_OK;
		return;
	}
	r->kind = RK_TEXT;
	sb_reset(&r->bytes);
	sb_printf(&r->bytes, "differs at +%#" PRIx64, differs);
}

void be_res_rlimit(struct be_res *r, uint64_t soft, uint64_t hard)
{
	r->kind = RK_TEXT;
	sb_reset(&r->bytes);
	rlim_format(&r->bytes, soft);
	sb_putc(&r->bytes, ' ');
	rlim_format(&r->bytes, hard);
}

void be_res_int(struct be_res *r, int64_t v)
{
	r->kind = RK_TEXT;
	sb_reset(&r->bytes);
	sb_printf(&r->bytes, "%" PRId64, v);
}

void be_res_stat(struct be_res *r, uint32_t mode, uint32_t uid, uint32_t gid, uint64_t size)
{
	r->kind = RK_TEXT;
	sb_printf(&r->bytes, "mode 0%o uid %" PRIu32 " gid %" PRIu32 " size %" PRIu64, mode, uid,
		  gid, size);
}

int run_new(const struct run_cfg *cfg, struct run **out, struct sbuf *err)
{
	struct run *r = xcalloc(1, sizeof(*r));

	r->cfg = *cfg;
	if (!r->cfg.errs)
		r->cfg.errs = stderr;
	if (cfg->be->open(&r->be, err)) {
		free(r);
		return -1;
	}
	r->labels = labels_new();
	*out = r;
	return 0;
}

void run_free(struct run *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->nprocs; i++) {
		if (r->procs[i].alive && r->procs[i].h) {
			struct be_res res;

			be_res_init(&res);
			r->cfg.be->exit(r->be, r->procs[i].h, &res);
			be_res_free(&res);
		}
		free(r->procs[i].name);
		symtab_free(&r->procs[i].syms);
	}
	free(r->procs);
	r->cfg.be->close(r->be);
	labels_free(r->labels);
	free(r);
}

unsigned run_failures(const struct run *r)
{
	return r->failures;
}

static struct rproc *find_proc(struct run *r, const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	for (i = r->nprocs; i-- > 0;)
		if (!strcmp(r->procs[i].name, name))
			return &r->procs[i];
	return NULL;
}

/* A new process record named name (replacing a dead one of that name). */
static struct rproc *add_proc(struct run *r, const char *name, struct be_proc *h)
{
	struct rproc *p = find_proc(r, name);

	if (!p) {
		r->procs = xrealloc(r->procs, (r->nprocs + 1) * sizeof(*r->procs));
		p = &r->procs[r->nprocs++];
		memset(p, 0, sizeof(*p));
		p->name = xstrdup(name);
	}
	symtab_free(&p->syms);
	p->h = h;
	p->alive = true;
	return p;
}

static uint64_t page_size(struct run *r)
{
	return r->cfg.be->page_size(r->be);
}

static uint64_t proc_top(struct run *r, struct rproc *p)
{
	return p && p->h ? r->cfg.be->top(r->be, p->h) : 0;
}

/* The value of e in process p (symbols as bound so far). */
static uint64_t eval(struct run *r, struct rproc *p, const struct expr *e)
{
	uint64_t base = 0, m;

	if (e->null)
		return 0;
	if (e->sym) {
		if (!strcmp(e->sym, "top")) {
			base = proc_top(r, p);
		} else if (p) {
			const struct sym *s = symtab_get(&p->syms, e->sym);

			base = s ? s->val : 0;
		}
	}
	m = e->num * (e->pages ? page_size(r) : 1);
	return e->neg ? base - m : base + m;
}

static const struct symtab empty_syms;

static const struct symtab *syms_of(const struct rproc *p)
{
	return p ? &p->syms : &empty_syms;
}

/* A path as a word when it is one, else as a string. */
static void fmt_path(struct sbuf *b, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!(c > 0x20 && c < 0x7f && c != '"' && c != '#' && c != '\\'))
			break;
	}
	if (n && i == n)
		sb_putn(b, s, n);
	else
		sb_cstring(b, s, n);
}

static unsigned op_width(enum op op)
{
	switch (op) {
	case OP_LOAD8:
	case OP_STORE8:
		return 8;
	case OP_LOAD16:
	case OP_STORE16:
		return 16;
	case OP_LOAD32:
	case OP_STORE32:
		return 32;
	default:
		return 64;
	}
}

static uint64_t width_mask(unsigned bits)
{
	return bits >= 64 ? UINT64_MAX : (1ULL << bits) - 1;
}

/* Appends argument a (value v) in canonical form. */
static void fmt_arg(struct run *r, struct rproc *p, const struct line *l, const struct arg *a,
		    uint64_t v, struct sbuf *b)
{
	switch (a->type) {
	case AT_ADDR:
		fmt_addr(b, syms_of(p), proc_top(r, p), v, false);
		return;
	case AT_LEN:
		sb_printf(b, "%#" PRIx64, v);
		return;
	case AT_OFF:
		if ((int64_t)v < 0)
			sb_printf(b, "-%#" PRIx64, -v);
		else
			sb_printf(b, "%#" PRIx64, v);
		return;
	case AT_NUM:
		if ((int64_t)v < 0)
			sb_printf(b, "%" PRId64, (int64_t)v);
		else
			sb_printf(b, "%" PRIu64, v);
		return;
	case AT_VAL:
		sb_printf(b, "%" PRIu64, v & width_mask(op_width(l->spec->op)));
		return;
	case AT_FD:
		sb_printf(b, "%d", (int)v);
		return;
	case AT_BYTE:
		sb_printf(b, "%u", (unsigned)(v & 0xff));
		return;
	case AT_MODE:
		sb_printf(b, "0%o", (unsigned)v);
		return;
	case AT_FLAGS:
		flags_format(b, a->fk, a->flags);
		return;
	case AT_STR:
		sb_cstring(b, a->str, a->slen);
		return;
	case AT_PATH:
		fmt_path(b, a->str, a->slen);
		return;
	case AT_NAME:
		sb_puts(b, a->str);
		return;
	case AT_TOUCH:
		sb_puts(b, a->write ? "write" : "read");
		return;
	case AT_ALL:
		sb_puts(b, "all");
		return;
	case AT_FIELD:
		sb_puts(b, a->str);
		return;
	case AT_BYTE_OR_STR:
		if (a->is_str)
			sb_cstring(b, a->str, a->slen);
		else if (a->offsets)
			sb_puts(b, "offsets");
		else
			sb_printf(b, "%u", (unsigned)(v & 0xff));
		return;
	case AT_LIMIT:
		rlim_format(b, v);
		return;
	}
}

/* ------------------------------------------------------------ procfs output */

/* A mapping's name as the scenario sees it: sandbox paths relative to the sandbox. */
static void fmt_vma_name(struct run *r, const char *name, struct sbuf *b)
{
	const char *sb = r->cfg.be->sandbox ? r->cfg.be->sandbox(r->be) : NULL;
	size_t n = sb ? strlen(sb) : 0;

	if (sb && n && !strncmp(name, sb, n) && name[n] == '/')
		name += n + 1;
	sb_puts(b, name);
}

/* One maps line, symbolic: "a-a+0x2000 rw-p 00000000 00:00 0 [name]". */
static void fmt_vma(struct run *r, struct rproc *p, const struct vma_info *v, struct sbuf *b)
{
	uint64_t top = proc_top(r, p);

	fmt_addr(b, syms_of(p), top, v->start, false);
	sb_putc(b, '-');
	fmt_addr(b, syms_of(p), top, v->end, true);
	sb_printf(b, " %s %08" PRIx64 " %02x:%02x ", v->perms, v->offset, v->major, v->minor);
	/* Labelled by device and inode: two files may share an inode number (sim's
	 * /dev/zero and a shmem object, files on two file systems). */
	if (v->inode)
		sb_printf(
		    b, "i%" PRIu64,
		    labels_get(r->labels, 1,
			       v->inode ^ ((uint64_t)v->major << 52) ^ ((uint64_t)v->minor << 40)));
	else
		sb_putc(b, '0');
	if (v->name) {
		sb_putc(b, ' ');
		fmt_vma_name(r, v->name, b);
	}
}

static void do_maps(struct run *r, struct rproc *p, struct rec *rec)
{
	struct vma_list l = {0};
	struct sbuf b;
	size_t i;
	int err = r->cfg.be->maps(r->be, p->h, false, &l);

	sb_init(&b);
	if (err) {
		rec->result = xstrdup(errno_name(-err) ? errno_name(-err) : "error");
		return;
	}
	sb_printf(&b, "%zu mapping%s", l.n, l.n == 1 ? "" : "s");
	rec->result = sb_steal(&b);
	for (i = 0; i < l.n; i++) {
		fmt_vma(r, p, &l.v[i], &b);
		rec_add_detail(rec, sb_steal(&b));
	}
	vma_list_free(&l);
}

/*
 * VmFlags without "sd": soft-dirty tracking is a kernel build option
 * (CONFIG_MEM_SOFT_DIRTY), so whether it shows says nothing about mappings.
 */
static void fmt_vmflags(struct sbuf *b, const char *flags)
{
	const char *s = flags ? flags : "";

	while (*s) {
		size_t n = strcspn(s, " ");

		if (n && !(n == 2 && !memcmp(s, "sd", 2)))
			sb_printf(b, " %.*s", (int)n, s);
		s += n;
		while (*s == ' ')
			s++;
	}
}

static void do_smaps(struct run *r, struct rproc *p, uint64_t addr, struct rec *rec)
{
	struct vma_list l = {0};
	struct sbuf b;
	size_t i;
	int f, err = r->cfg.be->maps(r->be, p->h, true, &l);

	sb_init(&b);
	if (err) {
		rec->result = xstrdup(errno_name(-err) ? errno_name(-err) : "error");
		return;
	}
	for (i = 0; i < l.n; i++)
		if (addr >= l.v[i].start && addr < l.v[i].end)
			break;
	if (i == l.n) {
		rec->result = xstrdup("no mapping");
		vma_list_free(&l);
		return;
	}
	fmt_vma(r, p, &l.v[i], &b);
	rec->result = sb_steal(&b);
	for (f = 0; f < SM_COUNT; f++) {
		if (f >= SM_SHARED_HUGETLB && !l.v[i].kb[f])
			continue;
		sb_printf(&b, "%s: %" PRIu64 " kB", smaps_field_name((enum smaps_field)f),
			  l.v[i].kb[f]);
		rec_add_detail(rec, sb_steal(&b));
	}
	sb_puts(&b, "VmFlags:");
	fmt_vmflags(&b, l.v[i].vmflags);
	rec_add_detail(rec, sb_steal(&b));
	vma_list_free(&l);
}

static void do_status(struct run *r, struct rproc *p, struct rec *rec)
{
	struct status_info st;
	struct sbuf b;
	int f, err = r->cfg.be->status(r->be, p->h, &st);

	if (err) {
		rec->result = xstrdup(errno_name(-err) ? errno_name(-err) : "error");
		return;
	}
	sb_init(&b);
	for (f = 0; f < ST_COUNT; f++)
		if (f != ST_HUGETLB || st.kb[f])
			sb_printf(&b, "%s%s %" PRIu64 " kB", f ? " " : "",
				  status_field_name((enum status_field)f), st.kb[f]);
	rec->result = sb_steal(&b);
}

/* pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst). */
#define PM_PRESENT   (1ULL << 63)
#define PM_SWAP	     (1ULL << 62)
#define PM_FILE	     (1ULL << 61)
#define PM_EXCLUSIVE (1ULL << 56)
#define PM_PFN_MASK  ((1ULL << 55) - 1)

/*
 * The pages pagemap ADDR LEN shows: from ADDR's page to the end of the
 * range. A range that wraps ends at the top of the 64-bit space: a read of
 * /proc/PID/pagemap there gives nothing past the end of user space (Linux
 * clamps it to task_size), so those pages show as not present.
 */
static uint64_t pagemap_pages(uint64_t addr, uint64_t len, uint64_t ps)
{
	uint64_t start = addr & ~(ps - 1);
	uint64_t bytes = addr + len < addr ? 0 - start : addr + len - start;

	return bytes / ps + (bytes % ps != 0);
}

static void do_pagemap(struct run *r, struct rproc *p, uint64_t addr, uint64_t len, struct rec *rec)
{
	uint64_t ps = page_size(r), start = addr & ~(ps - 1), n, i, *ents;
	uint64_t zero = r->cfg.be->zero_pfn(r->be), top = proc_top(r, p);
	struct sbuf sum, b;
	int err;

	if (len == 0) {
		rec->result = xstrdup("0 pages");
		return;
	}
	n = pagemap_pages(addr, len, ps); /* bounded by beyond_limits */
	ents = xcalloc(n, sizeof(*ents));
	err = r->cfg.be->pagemap(r->be, p->h, start, n, ents);
	if (err) {
		free(ents);
		rec->result = xstrdup(errno_name(-err) ? errno_name(-err) : "error");
		return;
	}
	sb_init(&sum);
	sb_init(&b);
	for (i = 0; i < n; i++) {
		uint64_t e = ents[i], pfn = e & PM_PFN_MASK;

		if (i)
			sb_putc(&sum, ' ');
		fmt_addr(&b, syms_of(p), top, start + i * ps, false);
		if (e & PM_PRESENT) {
			if (pfn == zero) {
				sb_puts(&sum, "zero");
				sb_puts(&b, " present zero");
			} else {
				uint64_t lab = labels_get(r->labels, 0, pfn);

				sb_printf(&sum, "#%" PRIu64, lab);
				sb_printf(&b, " present #%" PRIu64 " %s%s", lab,
					  e & PM_FILE ? "file" : "anon",
					  e & PM_EXCLUSIVE ? " exclusive" : "");
			}
		} else if (e & PM_SWAP) {
			sb_puts(&sum, "swap");
			sb_puts(&b, " swapped");
		} else {
			sb_putc(&sum, '-');
			sb_puts(&b, " absent");
		}
		rec_add_detail(rec, sb_steal(&b));
	}
	rec->result = sb_steal(&sum);
	free(ents);
}

/* ----------------------------------------------------------------- results */

static bool op_returns_addr(enum op op)
{
	return op == OP_MMAP || op == OP_MREMAP || op == OP_BRK;
}

/* Formats a back end answer as a result string. */
static char *fmt_result(struct run *r, struct rproc *p, enum op op, const struct be_res *res)
{
	struct sbuf b;
	const char *name;

	sb_init(&b);
	switch (res->kind) {
	case RK_OK:
		sb_puts(&b, "ok");
		break;
	case RK_VAL:
		if (op_returns_addr(op))
			fmt_addr(&b, syms_of(p), proc_top(r, p), res->val, false);
		else if (op == OP_UMASK)
			sb_printf(&b, "0%" PRIo64, res->val); /* a mode, as modes print */
		else
			sb_printf(&b, "%" PRIu64, res->val);
		break;
	case RK_ERR:
		name = errno_name(res->err);
		if (name)
			sb_puts(&b, name);
		else
			sb_printf(&b, "errno %d", res->err);
		break;
	case RK_SIG:
		name = signal_name(res->signo);
		if (name)
			sb_puts(&b, name);
		else
			sb_printf(&b, "signal %d", res->signo);
		if (res->signo == 7 || res->signo == 11) {
			name = si_code_name(res->signo, res->code);
			if (name)
				sb_printf(&b, " %s", name);
			else
				sb_printf(&b, " code %d", res->code);
			sb_puts(&b, " at ");
			fmt_addr(&b, syms_of(p), proc_top(r, p), res->addr, false);
		}
		break;
	case RK_BYTES:
		sb_cstring(&b, res->bytes.s ? res->bytes.s : "", res->bytes.len);
		break;
	case RK_TEXT:
		sb_puts(&b, sb_str(&res->bytes));
		break;
	case RK_NA:
		sb_puts(&b, "n/a");
		break;
	case RK_UNAVAILABLE:
		sb_puts(&b, "unavailable");
		break;
	case RK_LIMIT:
		sb_puts(&b, "beyond the tool's limits");
		break;
	case RK_DIED:
		sb_puts(&b, "process died");
		break;
	}
	/* A signal the call sent (SIGXFSZ with EFBIG) follows what it returned. */
	if (res->sent && res->kind != RK_SIG) {
		name = signal_name(res->sent);
		if (name)
			sb_printf(&b, " %s", name);
		else
			sb_printf(&b, " signal %d", res->sent);
	}
	return sb_steal(&b);
}

/*
 * A back end's text answer of several lines (meminfo, vmstat): the first
 * is the result, the others its indented lines.
 */
static void split_lines(struct rec *rec)
{
	char *nl = rec->result ? strchr(rec->result, '\n') : NULL;

	if (!nl)
		return;
	*nl = 0;
	for (char *s = nl + 1; *s;) {
		char *e = strchr(s, '\n');
		size_t n = e ? (size_t)(e - s) : strlen(s);

		rec_add_detail(rec, xstrndup(s, n));
		s += n + (e != NULL);
	}
}

static char *xasprintf_u64(const char *fmt, uint64_t v)
{
	struct sbuf b;

	sb_init(&b);
	sb_printf(&b, fmt, v);
	return sb_steal(&b);
}

/* The scenario process whose back-end handle is h, or NULL. */
static struct rproc *proc_of_handle(struct run *r, const struct be_proc *h)
{
	for (size_t i = 0; h && i < r->nprocs; i++)
		if (r->procs[i].h == h)
			return &r->procs[i];
	return NULL;
}

/*
 * One line of `events all`: "fault minor p a+0x5 pfn 12", "fault major
 * ...", "cow p ADDR pfn N", "writeback PATH page I pfn N", "evict PATH
 * page I pfn N", "oom-kill p", "swapout slot T:O pfn N", "swapin slot T:O
 * pfn N". A process gone since prints as "pid N".
 */
static char *fmt_event(struct run *r, const struct be_event *ev)
{
	static const char *const kind[] = {
		[BE_EV_FAULT_MINOR] = "fault minor", [BE_EV_FAULT_MAJOR] = "fault major",
		[BE_EV_COW] = "cow",			[BE_EV_WRITEBACK] = "writeback",
		[BE_EV_EVICT] = "evict",		[BE_EV_OOM_KILL] = "oom-kill",
		[BE_EV_SWAP_OUT] = "swapout",		[BE_EV_SWAP_IN] = "swapin",
	};
	struct rproc *p = proc_of_handle(r, ev->proc);
	struct sbuf b;

	sb_init(&b);
	sb_puts(&b, ev->type > 0 && ev->type < BE_EV_NTYPES ? kind[ev->type] : "event");
	if (ev->type == BE_EV_SWAP_OUT || ev->type == BE_EV_SWAP_IN) {
		/* the slot: the device's type and the offset on it */
		sb_printf(&b, " slot %" PRIu64 ":%" PRIu64 " pfn %" PRIu64, ev->ino, ev->index,
			  ev->pfn);
		return sb_steal(&b);
	}
	if (ev->type == BE_EV_WRITEBACK || ev->type == BE_EV_EVICT) {
		sb_putc(&b, ' ');
		if (ev->path)
			fmt_path(&b, ev->path, strlen(ev->path));
		else
			sb_puts(&b, "?");
		sb_printf(&b, " page %" PRIu64, ev->index);
	} else if (p) {
		sb_printf(&b, " %s", p->name);
	} else {
		sb_printf(&b, " pid %d", ev->pid);
	}
	if (ev->type != BE_EV_WRITEBACK && ev->type != BE_EV_EVICT &&
	    ev->type != BE_EV_OOM_KILL) {
		sb_putc(&b, ' ');
		if (p)
			fmt_addr(&b, syms_of(p), proc_top(r, p), ev->addr, false);
		else
			sb_printf(&b, "0x%" PRIx64, ev->addr);
	}
	if (ev->pfn != UINT64_MAX)
		sb_printf(&b, " pfn %" PRIu64, ev->pfn);
	return sb_steal(&b);
}

/* ------------------------------------------------------------ expectations */

/* Does the expectation hold: textually on the result or a detail line, or by value? */
static bool expect_holds(struct run *r, struct rproc *p, const struct rec *rec,
			 const struct be_res *res, bool have_res, const char *e)
{
	struct expr x;
	size_t i;
	bool ok = false;

	if (expect_text_match(rec->result, e))
		return true;
	for (i = 0; i < rec->ndetail; i++)
		if (expect_text_match(rec->detail[i], e))
			return true;
	if (!have_res || res->kind != RK_VAL || expr_parse(e, strlen(e), &x))
		return false;
	if (!x.sym || !strcmp(x.sym, "top") || (p && symtab_get(&p->syms, x.sym)))
		ok = eval(r, p, &x) == res->val;
	expr_free(&x);
	return ok;
}

static void check_expect(struct run *r, struct rproc *p, const char *file, const struct line *l,
			 struct rec *rec, const struct be_res *res, bool have_res)
{
	if (!l->expect)
		return;
	rec->expect = l->expect;
	rec->expect_ok = expect_holds(r, p, rec, res, have_res, l->expect);
	if (!rec->expect_ok) {
		struct sbuf b;

		r->failures++;
		sb_init(&b);
		sb_printf(&b, "%s:%d: expected %s, got %s", file, l->lineno, l->expect,
			  rec->result ? rec->result : "nothing");
		rec->got_note = sb_steal(&b);
	}
}

/* ---------------------------------------------------------------- commands */

static uint64_t round_up(uint64_t v, uint64_t ps)
{
	return (v + ps - 1) & ~(ps - 1);
}

/*
 * Says in why (and returns true) when line l's command, its arguments
 * resolved to v and c, is beyond what the tool carries, checked before it runs:
 * the byte strings it would return or pass, the pages pagemap would print.
 * mincore is not checked here: it runs on any range, as on Linux, and only
 * a vector too long to print comes back as RK_LIMIT.
 */
static bool beyond_limits(struct run *r, const struct line *l, const uint64_t *v,
			  const struct be_call *c, struct sbuf *why)
{
	uint64_t n = 0, ps = page_size(r);

	switch (l->spec->op) {
	case OP_LOAD:
	case OP_READ:
	case OP_PREAD:
		n = v[1];
		break;
	case OP_STORE:
	case OP_WRITE:
	case OP_PWRITE:
		n = c->dlen;
		break;
	case OP_CAT:
	case OP_DISK:
		n = l->nargs == 3 ? v[2] : 0;
		break;
	case OP_PAGEMAP:
		n = v[1] ? pagemap_pages(v[0], v[1], ps) : 0;
		if (n <= BE_MAX_PAGES)
			return false;
		sb_printf(why, "%" PRIu64 " pages, and the tool prints at most %u", n,
			  BE_MAX_PAGES);
		return true;
	default:
		return false;
	}
	if (n <= BE_MAX_BYTES)
		return false;
	sb_printf(why, "a byte string of %" PRIu64 " bytes, and the tool carries at most %u", n,
		  BE_MAX_BYTES);
	return true;
}

/* Says in why what a back end's RK_LIMIT answer to line l (arguments v) means. */
static void limit_reason(struct run *r, const struct line *l, const uint64_t *v, struct sbuf *why)
{
	uint64_t ps = page_size(r);

	if (l->spec->op == OP_MINCORE)
		sb_printf(why, "a vector of %" PRIu64 " pages, and the tool prints at most %u",
			  v[1] / ps + !!(v[1] % ps), BE_MAX_PAGES);
	else
		sb_printf(why, "a byte string of more than %u bytes, and the tool carries at most %u",
			  BE_MAX_BYTES, BE_MAX_BYTES);
}

/*
 * Reports that line l (what: as printed) could not run, and why, on the
 * run's error stream. Returns -1, what run_line returns then: the run
 * stops there.
 */
static int run_stop(struct run *r, const char *file, const struct line *l, const char *what,
		    const char *why)
{
	fflush(stdout);
	fprintf(r->cfg.errs, "%s:%d: %s: %s; the %s run stops here\n", file, l->lineno, what, why,
		r->cfg.be->name);
	return -1;
}

/* Hands rec to the sink, then reports its failed expectation, and frees it. */
static void emit(struct run *r, struct rec *rec)
{
	r->cfg.emit(r->cfg.ctx, rec);
	if (rec->got_note && !r->cfg.quiet) {
		fflush(stdout);
		fprintf(r->cfg.errs, "%s\n", rec->got_note);
	}
	rec_free(rec);
}

/*
 * After a command on a back end with an OOM killer of its own (sim): each
 * process it killed gets the detail line "oom-kill NAME" on the command's
 * record, once, and is then ended and gone, as a driver the kernel killed
 * is ("process died" from then on).
 */
static void oom_victims(struct run *r, struct rec *rec)
{
	struct sbuf b;
	size_t i;

	for (i = 0; i < r->nprocs; i++) {
		struct rproc *q = &r->procs[i];
		struct be_res xr;

		if (!q->alive || !q->h || !r->cfg.be->killed(r->be, q->h))
			continue;
		sb_init(&b);
		sb_printf(&b, "oom-kill %s", q->name);
		rec_add_detail(rec, sb_steal(&b));
		be_res_init(&xr);
		r->cfg.be->exit(r->be, q->h, &xr);
		be_res_free(&xr);
		q->alive = false;
		q->h = NULL;
	}
}

/*
 * Runs command line l (checked by the parser: its process, if it needs one,
 * was alive then and its symbols exist) and emits its record. A process
 * that has died since answers "process died". Returns 0, or -1 when the
 * command is beyond the tool's limits (reported, no record emitted).
 */
static int run_cmd(struct run *r, const char *file, const struct line *l)
{
	const struct be_ops *be = r->cfg.be;
	struct rproc *p = find_proc(r, l->proc);
	enum op op = l->spec->op;
	uint64_t v[MAX_ARGS] = {0};
	struct be_call c;
	struct be_res res;
	struct rec rec;
	struct sbuf b, what;
	bool have_res = false;
	int i;

	if (p && !p->alive)
		p = NULL;
	memset(&rec, 0, sizeof(rec));
	memset(&c, 0, sizeof(c));
	be_res_init(&res);
	sb_init(&b);
	rec.file = file;
	rec.line = l->lineno;
	rec.proc = l->proc ? xstrdup(l->proc) : NULL;
	rec.bind = l->bind ? xstrdup(l->bind) : NULL;
	rec.sim_only = l->spec->flags & CF_SIM_ONLY;

	/* Resolve and print the command with the symbols before the line. */
	sb_puts(&b, l->spec->name);
	c.op = op;
	c.nargs = l->nargs;
	for (i = 0; i < l->nargs; i++) {
		const struct arg *a = &l->args[i];

		if (a->type == AT_FLAGS)
			v[i] = a->flags;
		else if (a->type == AT_TOUCH)
			v[i] = a->write;
		else if (a->type == AT_ALL)
			v[i] = 1;
		else if (a->type != AT_STR && a->type != AT_PATH && a->type != AT_NAME &&
			 a->type != AT_FIELD &&
			 !(a->type == AT_BYTE_OR_STR && (a->is_str || a->offsets)))
			v[i] = eval(r, p, &a->e);
		if (a->type == AT_STR || (a->type == AT_BYTE_OR_STR && a->is_str)) {
			c.data = a->str;
			c.dlen = a->slen;
			c.has_content = a->type == AT_BYTE_OR_STR;
		}
		if (a->type == AT_BYTE_OR_STR && a->offsets)
			c.offsets = true;
		if (a->type == AT_PATH)
			c.path = a->str;
		if (a->type == AT_FIELD)
			c.words[i] = a->str;
		c.a[i] = v[i];
		sb_putc(&b, ' ');
		fmt_arg(r, p, l, a, v[i], &b);
	}
	rec.cmd = sb_steal(&b);

	if (beyond_limits(r, l, v, &c, &b))
		goto stop;
	if (l->proc && !p) {
		/* Killed (SIGKILL) or died since the checker saw it alive. */
		res.kind = RK_DIED;
		have_res = true;
		rec.result = fmt_result(r, NULL, op, &res);
		goto done;
	}

	switch (op) {
	case OP_FORK: {
		struct be_proc *child = NULL;

		be->fork(r->be, p->h, &child, &res);
		have_res = true;
		if (res.kind == RK_OK) {
			/* p may move when the array grows: find it again after. */
			struct symtab syms = {0};
			struct rproc *cp;

			symtab_copy(&syms, &p->syms);
			cp = add_proc(r, l->args[0].str, child);
			cp->syms = syms;
			p = find_proc(r, l->proc);
		}
		rec.result = fmt_result(r, p, op, &res);
		break;
	}
	case OP_EXEC:
		be->exec(r->be, p->h, &res);
		have_res = true;
		rec.result = fmt_result(r, p, op, &res);
		break;
	case OP_EXIT:
		be->exit(r->be, p->h, &res);
		have_res = true;
		p->alive = false;
		p->h = NULL;
		rec.result = fmt_result(r, NULL, op, &res);
		break;
	case OP_MAPS:
		do_maps(r, p, &rec);
		break;
	case OP_SMAPS:
		do_smaps(r, p, v[0], &rec);
		break;
	case OP_STATUS:
		do_status(r, p, &rec);
		break;
	case OP_PAGEMAP:
		do_pagemap(r, p, v[0], v[1], &rec);
		break;
	default:
		be->call(r->be, p ? p->h : NULL, &c, &res);
		if (res.kind == RK_LIMIT) {
			limit_reason(r, l, v, &b);
			goto stop;
		}
		have_res = true;
		if (op == OP_LOAD8 || op == OP_LOAD16 || op == OP_LOAD32 || op == OP_LOAD64)
			res.val &= width_mask(op_width(op));
		rec.result = fmt_result(r, p, op, &res);
		split_lines(&rec);
		for (size_t k = 0; k < res.nevents; k++)
			rec_add_detail(&rec, fmt_event(r, &res.events[k]));
		if (res.events_dropped)
			rec_add_detail(&rec, xasprintf_u64("and %" PRIu64 " more", res.events_dropped));
		break;
	}

done:
	if (be->killed)
		oom_victims(r, &rec);
	check_expect(r, p, file, l, &rec, &res, have_res);

	if (l->bind && p) {
		uint64_t val = 0, len = 0;
		bool addr = l->spec->flags & CF_BIND_ADDR;

		if (res.kind == RK_VAL) {
			val = res.val;
			if (op == OP_MMAP)
				len = round_up(v[1], page_size(r));
			else if (op == OP_MREMAP)
				len = round_up(v[2], page_size(r));
		} else if (res.kind == RK_ERR) {
			val = UINT64_MAX; /* what the C call returns: MAP_FAILED, -1 */
		}
		symtab_bind(&p->syms, l->bind, val, len, addr, ++r->seq);
	}
	if (res.kind == RK_SIG && res.signo == 9 && p && p->alive) {
		/* SIGKILL (the OOM killer): the process is gone, as on Linux. */
		struct be_res xr;

		be_res_init(&xr);
		be->exit(r->be, p->h, &xr);
		be_res_free(&xr);
		p->alive = false;
		p->h = NULL;
	}
	rec.host_dependent = res.host_dependent;
	emit(r, &rec);
	be_res_free(&res);
	return 0;

stop:
	/* Named as printed, with no result yet: "p: load a 0x200000". */
	sb_init(&what);
	rec_head(&what, &rec);
	run_stop(r, file, l, sb_str(&what), sb_str(&b));
	sb_free(&what);
	sb_free(&b);
	rec_free(&rec);
	be_res_free(&res);
	return -1;
}

static bool frame_unmapped(void *ctx, uint64_t pfn)
{
	struct run *r = ctx;

	return r->cfg.be->mapcount(r->be, pfn) == 0;
}

/*
 * Runs config line l and emits its record. A key the back end refuses
 * (RK_ERR: sim's swap, say) stops the run, as one its machine cannot give
 * (RK_UNAVAILABLE, which the caller tells apart by r->unavailable): a
 * scenario run on another machine than it asks for would prove nothing.
 * Returns 0, or -1 when the run stops.
 */
static int run_config(struct run *r, const char *file, const struct line *l)
{
	struct rec rec;
	struct sbuf b;
	char *result = NULL;
	size_t i;

	memset(&rec, 0, sizeof(rec));
	sb_init(&b);
	rec.file = file;
	rec.line = l->lineno;
	rec.sim_only = true;
	sb_puts(&b, "config");
	for (i = 0; i < l->ncfg; i++) {
		struct be_res res;
		uint64_t val = eval(r, NULL, &l->cfg[i].val);

		sb_printf(&b, " %s=%" PRIu64, l->cfg[i].key, val);
		be_res_init(&res);
		r->cfg.be->config(r->be, l->cfg[i].key, val, &res);
		if (res.kind == RK_UNAVAILABLE) {
			fprintf(r->cfg.errs ? r->cfg.errs : stderr,
				"%s:%d: config %s: the %s back end cannot run this here: %s\n", file,
				l->lineno, l->cfg[i].key, r->cfg.be->name, sb_str(&res.bytes));
			r->unavailable = true;
			be_res_free(&res);
			sb_free(&b);
			free(result);
			return -1;
		}
		if (res.kind == RK_ERR) {
			char *name = fmt_result(r, NULL, OP_NONE, &res);
			struct sbuf why;

			sb_init(&why);
			sb_printf(&why, "%s%s%s", name, res.bytes.len ? ": " : "", sb_str(&res.bytes));
			run_stop(r, file, l, sb_str(&b), sb_str(&why));
			sb_free(&why);
			free(name);
			be_res_free(&res);
			sb_free(&b);
			free(result);
			return -1;
		}
		if (!result || (res.kind != RK_OK && !strcmp(result, "ok"))) {
			free(result);
			result = fmt_result(r, NULL, OP_NONE, &res);
		}
		be_res_free(&res);
	}
	rec.cmd = sb_steal(&b);
	rec.result = result;
	check_expect(r, NULL, file, l, &rec, NULL, false);
	emit(r, &rec);
	return 0;
}

int run_line(struct run *r, const char *file, const struct line *l)
{
	struct rec rec;

	memset(&rec, 0, sizeof(rec));
	rec.file = file;
	rec.line = l->lineno;
	switch (l->kind) {
	case LK_BLANK:
	case LK_SELECT:
		return 0;
	case LK_ECHO:
		rec.is_echo = true;
		rec.cmd = xstrdup(l->text ? l->text : "");
		emit(r, &rec);
		return 0;
	case LK_CONFIG:
		return run_config(r, file, l);
	case LK_PROC: {
		struct be_proc *h = NULL;
		struct sbuf err, what;

		sb_init(&err);
		sb_init(&what);
		sb_puts(&err, "cannot start the process: "); /* proc_new appends why */
		if (r->cfg.be->proc_new(r->be, &h, &err)) {
			sb_printf(&what, "proc %s", l->proc);
			run_stop(r, file, l, sb_str(&what), sb_str(&err));
			sb_free(&what);
			sb_free(&err);
			return -1;
		}
		sb_free(&err);
		add_proc(r, l->proc, h);
		rec.cmd = xmalloc(strlen(l->proc) + 6);
		sprintf(rec.cmd, "proc %s", l->proc);
		rec.result = xstrdup("ok");
		emit(r, &rec);
		return 0;
	}
	case LK_CMD: {
		int rc = run_cmd(r, file, l);

		/* An unknown map count (-errno) keeps the label: never forgetting is safe. */
		labels_forget(r->labels, 0, frame_unmapped, r);
		return rc;
	}
	}
	return 0;
}

int run_script(const struct run_cfg *cfg, const struct script *s)
{
	struct run *r;
	struct sbuf err;
	size_t i;
	int rc = 0;

	sb_init(&err);
	if (run_new(cfg, &r, &err)) {
		fprintf(cfg->errs ? cfg->errs : stderr, "%s: cannot start the %s back end: %s\n",
			s->file, cfg->be->name, sb_str(&err));
		sb_free(&err);
		return 2;
	}
	sb_free(&err);
	for (i = 0; i < s->nlines; i++) {
		if (run_line(r, s->file, &s->lines[i])) {
			rc = RUN_STOPPED;
			break;
		}
	}
	if (!rc && run_failures(r))
		rc = 1;
	if (r->unavailable)
		rc = RUN_UNAVAILABLE;
	run_free(r);
	return rc;
}
