/*
 * fuzz_gen.c: the scenario generator of `usermm fuzz` (fuzz_gen.h): the
 * random stream, the model of each process's symbols, arena and files it
 * keeps while it writes (struct gen), every command it emits, and the
 * known differences it can stay away from (--avoid).
 *
 * A seed's scenario is a pure function of the seed, --max-ops and --avoid:
 * the generator draws from a splitmix64 stream and writes scenario text,
 * which `usermm fuzz` runs on both back ends (fuzz_run.c).
 *
 * Safety on the kernel back end. Each driver is a real process whose image
 * (at 4 MiB), break, stack, vvar and vdso must never be touched, so every
 * address a scenario uses is a symbol plus an offset inside the range that
 * symbol was bound to:
 *   - the first lines reserve G (one PROT_NONE page, the topmost mapping,
 *     just below the driver's vvar) and R (the arena, a big PROT_NONE
 *     reservation below G); MAP_FIXED, MAP_FIXED_NOREPLACE, mmap hints and
 *     MREMAP_FIXED targets are only ever inside R. G keeps every scenario
 *     mapping away from the vvar above top, where the kernel has pages the
 *     library does not (an mremap growing in place would otherwise stop
 *     there on Linux and not on sim). The lines that bind G and R are never
 *     deleted or simplified by the shrinker;
 *   - other symbols come from mmap (NULL or a hint in R) and mremap, whose
 *     results are the scenario's own mappings below G, or -1 on failure:
 *     then SYM+offset is a low address (offsets stay below 2 MiB), below
 *     the driver's image, and never page aligned, so the calls that change
 *     mappings refuse it with EINVAL;
 *   - no brk (the heap is the driver's), no mlockall(MCL_CURRENT) (it would
 *     lock the driver's own image and stack into RLIMIT_MEMLOCK);
 *   - exec re-reserves G and R.
 * Deleting lines keeps these properties: each line on its own obeys them.
 *
 * Fairness: what the host does on its own is kept out of the transcripts.
 * `file` only creates files (rewriting one truncates it, and ext4's
 * auto_da_alloc then writes it back at close, at a moment of its choosing),
 * and ftruncate never goes to 0 for the same reason; a closed descriptor's
 * symbol is not used again (its number goes to the next open). A read or
 * write whose buffer maps the bytes it moves leaves in memory what the
 * host CPU's copy makes of the overlap, so the sim marks such a call
 * (backend_sim.c, rw_onto_own_source) and both transcripts are compared
 * only up to it: the scenarios stay as their seeds make them, and where
 * the comparison stops is the same on every host.
 *
 * --pressure adds to each scenario, from a stream of its own, a small
 * config phys, a file larger than it read through a mapping (Z), and the
 * commands reclaim (sim only), oom_score_adj, getrlimit/setrlimit
 * RLIMIT_MEMLOCK and a few credential changes (see g_pressure); the lines
 * of the scenario without it stay as they were. Residency is compared
 * by neither (fuzz_run.c: what reclaim keeps differs by design).
 *
 * Left out on purpose: MADV_PAGEOUT (built in the library since session
 * 4, for a machine without swap, but not generated: adding it to the
 * advice table would change every seed's scenario; it needs a stream of
 * its own, as the huge page pools have), MADV_HWPOISON/SOFT_OFFLINE (need
 * CAP_SYS_ADMIN, which the driver drops), brk and mlockall(MCL_CURRENT)
 * (see above). Known differences (below) can be avoided with --avoid.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_gen.h"
#include "util.h"

#define PAGE ((uint64_t)4096)
#define MAX_PROCS 8 /* processes made in one scenario (p, then c1 ...) */
#define MAX_ALIVE 3
#define NFILES 3

/* ---------------------------------------------------------------- random */

static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n); 0 when n is 0. */
static uint64_t below(uint64_t *s, uint64_t n)
{
	return n ? rnd(s) % n : 0;
}

/* Uniform in [lo, hi]. */
static uint64_t between(uint64_t *s, uint64_t lo, uint64_t hi)
{
	return hi <= lo ? lo : lo + below(s, hi - lo + 1);
}

static bool chance(uint64_t *s, unsigned percent)
{
	return below(s, 100) < percent;
}

/* --------------------------------------------------------- known differences */

/*
 * Differences already found and reported, which the generator can stay
 * away from (--avoid NAME,...), so that a run finds the others. The
 * random stream is drawn the same either way: an avoided choice is
 * replaced, not skipped, so a seed's scenario changes only where it
 * would have used the avoided feature.
 */
const struct known fuzz_known[] = {
    /* An entry is {"name", AV_ bit, "what differs"}. */
    {"pressure-anon", AV_PRESSURE_ANON,
     "--pressure only: reclaim drops MAP_DROPPABLE and MADV_FREE pages (they read back 0) "
     "in an order of its own, which the library's follows only roughly, so a load of one "
     "may differ (tests/diff/memcg_droppable_dropped_under_pressure.ums shows the order "
     "that agrees); avoided: private, MADV_NORMAL"},
    {NULL, 0, NULL},
};

size_t fuzz_nknown(void)
{
	size_t n = 0;

	while (fuzz_known[n].name)
		n++;
	return n;
}

/* ------------------------------------------------------------- generator */

struct gsym {
	char name[12];
	bool fd;	 /* a descriptor; else an address */
	bool arena;	 /* R: MAP_FIXED and hints go here */
	bool devzero;	 /* a descriptor of /dev/zero */
	uint64_t pages;	 /* an address: pages in the range it was bound to */
};

struct gproc {
	char name[16];
	bool alive;
	bool execd; /* exec'd: the --pressure mapping Z is gone */
	struct gsym *s;
	size_t n;
};

struct gen {
	uint64_t rs;
	struct sbuf out;
	struct gproc p[MAX_PROCS];
	int np;	 /* processes made */
	int cur; /* the process the next line runs in */
	unsigned nsym;
	uint64_t arena; /* pages of R */
	bool file_made[NFILES];
	unsigned avoid; /* AV_* */
	/*
	 * A huge page pool (config hugepages=N) in some scenarios, with draws
	 * of its own stream, so that the scenarios without one stay as they
	 * were for their seeds.
	 */
	unsigned hugepages;
	uint64_t hrs;
	/*
	 * --pressure: a small config phys, a file larger than it mapped as Z
	 * and read through, and the commands of memory pressure and limits
	 * (reclaim, oom_score_adj, RLIMIT_MEMLOCK, credentials), drawn from a
	 * stream of their own and kept out of the model (Z is no symbol of
	 * it, its descriptor is closed at once): the rest of each scenario is
	 * the one its seed gives without --pressure, line for line.
	 */
	bool pressure;
	uint64_t prs;
	uint64_t zbytes; /* bytes of Z, mapped in p */
};

static struct gproc *cur(struct gen *g)
{
	return &g->p[g->cur];
}

static int alive_count(const struct gen *g)
{
	int i, n = 0;

	for (i = 0; i < g->np; i++)
		n += g->p[i].alive;
	return n;
}

static struct gsym *add_sym(struct gproc *p, const char *name, bool fd, bool arena,
			    uint64_t pages)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (!strcmp(p->s[i].name, name))
			break;
	if (i == p->n)
		p->s = xrealloc(p->s, ++p->n * sizeof(*p->s));
	memset(&p->s[i], 0, sizeof(p->s[i]));
	snprintf(p->s[i].name, sizeof(p->s[i].name), "%s", name);
	p->s[i].fd = fd;
	p->s[i].arena = arena;
	p->s[i].pages = pages;
	return &p->s[i];
}

/* A line in the current process. */
static void emit(struct gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(struct gen *g, const char *fmt, ...)
{
	va_list ap;

	sb_printf(&g->out, "%s: ", cur(g)->name);
	va_start(ap, fmt);
	sb_vprintf(&g->out, fmt, ap);
	va_end(ap);
	sb_putc(&g->out, '\n');
}

/* SYM+OFF, OFF in bytes: SYM, SYM+3P, or SYM+0x2005. */
static void fmt_at(char *buf, size_t n, const char *sym, uint64_t off)
{
	if (!off)
		snprintf(buf, n, "%s", sym);
	else if (off % PAGE == 0)
		snprintf(buf, n, "%s+%" PRIu64 "P", sym, off / PAGE);
	else
		snprintf(buf, n, "%s+%#" PRIx64, sym, off);
}

/* A length in bytes: 3P, or 0x2005. */
static void fmt_len(char *buf, size_t n, uint64_t len)
{
	if (len && len % PAGE == 0)
		snprintf(buf, n, "%" PRIu64 "P", len / PAGE);
	else
		snprintf(buf, n, "%#" PRIx64, len);
}

/* A mapping length in pages: mostly small, sometimes big. */
static uint64_t some_pages(struct gen *g)
{
	uint64_t r = below(&g->rs, 100);

	if (r < 30)
		return 1;
	if (r < 70)
		return between(&g->rs, 2, 4);
	if (r < 95)
		return between(&g->rs, 5, 16);
	return between(&g->rs, 17, 64);
}

static const char *some_prot(struct gen *g)
{
	static const char *const prot[] = {"r--", "rw-", "rw-", "rw-", "r--", "---",
					   "r-x", "rwx", "-w-", "--x", "-wx"};

	return prot[below(&g->rs, ARRAY_SIZE(prot))];
}

/* An address symbol of the current process (R more often than the others), or NULL. */
static const struct gsym *pick_region(struct gen *g)
{
	struct gproc *p = cur(g);
	const struct gsym *r = NULL;
	size_t i, n = 0, k;

	for (i = 0; i < p->n; i++) {
		if (p->s[i].fd)
			continue;
		if (p->s[i].arena)
			r = &p->s[i];
		else
			n++;
	}
	if (r && (n == 0 || chance(&g->rs, 35)))
		return r;
	if (n == 0)
		return NULL;
	k = below(&g->rs, n);
	for (i = 0; i < p->n; i++)
		if (!p->s[i].fd && !p->s[i].arena && k-- == 0)
			return &p->s[i];
	return r;
}

static const struct gsym *arena_of(struct gen *g)
{
	struct gproc *p = cur(g);
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->s[i].arena)
			return &p->s[i];
	return NULL;
}

static const struct gsym *pick_fd(struct gen *g)
{
	struct gproc *p = cur(g);
	size_t i, n = 0, k;

	for (i = 0; i < p->n; i++)
		n += p->s[i].fd;
	if (!n)
		return NULL;
	k = below(&g->rs, n);
	for (i = 0; i < p->n; i++)
		if (p->s[i].fd && k-- == 0)
			return &p->s[i];
	return NULL;
}

/*
 * A range inside region s: *off and *len in bytes, with off + len within
 * the region. Mostly page-aligned; sometimes a length with a partial last
 * page, an unaligned start, or length 0.
 */
static void pick_range(struct gen *g, const struct gsym *s, uint64_t maxpages, uint64_t *off,
		       uint64_t *len)
{
	uint64_t o = below(&g->rs, s->pages), room = s->pages - o, l;

	l = between(&g->rs, 1, room < maxpages ? room : maxpages);
	if (chance(&g->rs, 20))
		l = room < maxpages ? room : maxpages; /* to the end: whole mappings */
	*off = o * PAGE;
	*len = l * PAGE;
	if (chance(&g->rs, 6))
		*len -= between(&g->rs, 1, PAGE - 1);
	else if (chance(&g->rs, 3))
		*len = 0;
	if (chance(&g->rs, 3) && *len >= PAGE) {
		*off += between(&g->rs, 1, PAGE - 1);
		*len -= PAGE;
		if (!*len)
			*len = 1;
	}
}

/* An offset for an access of w bytes in s: page starts, page ends (crossing), or anywhere. */
static uint64_t pick_access(struct gen *g, const struct gsym *s, uint64_t w)
{
	uint64_t size = s->pages * PAGE, pg = below(&g->rs, s->pages) * PAGE, r, off;

	r = below(&g->rs, 100);
	if (r < 35)
		off = pg;
	else if (r < 45)
		off = pg + PAGE - (w > 1 ? between(&g->rs, 1, w - 1) : 1); /* crosses a page end */
	else if (r < 70)
		off = pg + below(&g->rs, PAGE / w) * w;
	else
		off = pg + below(&g->rs, PAGE);
	if (off + w > size)
		off = size - w;
	return off;
}

static void rand_word(struct gen *g, char *buf, size_t maxlen)
{
	static const char cs[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	size_t n = between(&g->rs, 1, maxlen), i;

	for (i = 0; i < n; i++)
		buf[i] = cs[below(&g->rs, sizeof(cs) - 1)];
	buf[n] = '\0';
}

static void new_name(struct gen *g, char *buf, size_t n, char kind)
{
	snprintf(buf, n, "%c%u", kind, ++g->nsym);
}

/* ------------------------------------------------------------ commands */

static void g_mmap(struct gen *g)
{
	const struct gsym *ar = arena_of(g), *fd = NULL;
	char name[12], at[48], lenw[24], flags[160], fdpart[48] = "";
	uint64_t pages = some_pages(g), len = pages * PAGE, r, off;
	const char *type = "private";
	bool anon = true, fixed_ok = ar != NULL;

	if (chance(&g->rs, 2))
		pages = 512, len = 2ULL << 20; /* a PMD: THP-aligned placement */
	r = below(&g->rs, 100);
	if (r < 40) {
		type = "private";
	} else if (r < 55) {
		type = "shared";
	} else if (r < 90 && (fd = pick_fd(g))) {
		anon = false;
		type = chance(&g->rs, 55) ? "shared" : "private";
	} else if (r < 93) {
		type = "MAP_SHARED_VALIDATE";
	} else if (r < 94) {
		type = g->pressure && (g->avoid & AV_PRESSURE_ANON) ? "private" : "MAP_DROPPABLE";
	} else {
		type = chance(&g->rs, 50) ? "private" : "shared";
	}
	snprintf(flags, sizeof(flags), "%s%s", type, anon ? "|anon" : "");

	/* Where: NULL, a hint in R, MAP_FIXED or MAP_FIXED_NOREPLACE in R. */
	r = below(&g->rs, 100);
	if (!fixed_ok || r < 55 || pages > ar->pages) {
		snprintf(at, sizeof(at), "NULL");
		if (chance(&g->rs, 3))
			strcat(flags, "|MAP_32BIT");
	} else {
		uint64_t o = below(&g->rs, ar->pages - pages + 1);

		fmt_at(at, sizeof(at), ar->name, o * PAGE);
		if (r < 65)
			; /* a hint */
		else if (r < 90)
			strcat(flags, "|fixed");
		else
			strcat(flags, "|noreplace");
	}
	if (chance(&g->rs, 10))
		strcat(flags, "|populate");
	if (chance(&g->rs, 8))
		strcat(flags, "|noreserve");
	if (chance(&g->rs, 4))
		strcat(flags, "|locked");
	if (chance(&g->rs, 2) && anon)
		strcat(flags, "|growsdown");
	if (chance(&g->rs, 2))
		strcat(flags, "|MAP_STACK");
	if (chance(&g->rs, 2)) {
		/* Without a pool only MAP_NORESERVE lets a hugetlb mapping exist. */
		strcat(flags, "|MAP_HUGETLB");
		if (!g->hugepages && !strstr(flags, "noreserve") && chance(&g->rs, 75))
			strcat(flags, "|noreserve");
	} else if (g->hugepages && chance(&g->hrs, 25)) {
		strcat(flags, "|MAP_HUGETLB");
	}
	if (chance(&g->rs, 1))
		strcat(flags, "|MAP_SYNC");
	if (chance(&g->rs, 1))
		strcat(flags, "|0x400000");

	if (chance(&g->rs, 3))
		len = 0;
	else if (chance(&g->rs, 8))
		len -= between(&g->rs, 1, PAGE - 1);
	fmt_len(lenw, sizeof(lenw), len);
	if (fd) {
		off = below(&g->rs, 8) * PAGE;
		if (chance(&g->rs, 3))
			off += between(&g->rs, 1, PAGE - 1);
		snprintf(fdpart, sizeof(fdpart), " %s %#" PRIx64, fd->name, off);
	}
	new_name(g, name, sizeof(name), 'a');
	emit(g, "%s = mmap %s %s %s %s%s", name, at, lenw, some_prot(g), flags, fdpart);
	add_sym(cur(g), name, false, false, pages);
}

static bool range_cmd(struct gen *g, const char *cmd, uint64_t maxpages, const char *tail)
{
	const struct gsym *s = pick_region(g);
	char at[48], lenw[24];
	uint64_t off, len;

	if (!s)
		return false;
	pick_range(g, s, maxpages, &off, &len);
	fmt_at(at, sizeof(at), s->name, off);
	fmt_len(lenw, sizeof(lenw), len);
	emit(g, "%s %s %s%s%s", cmd, at, lenw, tail ? " " : "", tail ? tail : "");
	return true;
}

static void g_mprotect(struct gen *g)
{
	const char *prot = some_prot(g);

	if (chance(&g->rs, 2))
		prot = chance(&g->rs, 50) ? "PROT_READ|PROT_GROWSDOWN" : "PROT_READ|PROT_GROWSUP";
	range_cmd(g, "mprotect", 64, prot);
}

static void g_mremap(struct gen *g)
{
	const struct gsym *s = pick_region(g), *ar = arena_of(g);
	char name[12], at[48], olen[24], nlen[24], flags[64], to[48] = "";
	uint64_t off, len, newpages = some_pages(g), r;

	if (!s)
		return;
	pick_range(g, s, 16, &off, &len);
	r = below(&g->rs, 100);
	if (r < 22) {
		snprintf(flags, sizeof(flags), "0");
	} else if (r < 55) {
		snprintf(flags, sizeof(flags), "MREMAP_MAYMOVE");
	} else if (r < 80 && ar && newpages <= ar->pages) {
		uint64_t o = below(&g->rs, ar->pages - newpages + 1);

		snprintf(flags, sizeof(flags), "MREMAP_MAYMOVE|MREMAP_FIXED");
		fmt_at(to, sizeof(to), ar->name, o * PAGE);
	} else if (r < 92) {
		snprintf(flags, sizeof(flags), "MREMAP_MAYMOVE|MREMAP_DONTUNMAP");
		if (chance(&g->rs, 70))
			newpages = (len + PAGE - 1) / PAGE; /* DONTUNMAP needs equal lengths */
		if (ar && chance(&g->rs, 30) && newpages && newpages <= ar->pages) {
			uint64_t o = below(&g->rs, ar->pages - newpages + 1);

			snprintf(flags, sizeof(flags),
				 "MREMAP_MAYMOVE|MREMAP_FIXED|MREMAP_DONTUNMAP");
			fmt_at(to, sizeof(to), ar->name, o * PAGE);
		}
	} else {
		snprintf(flags, sizeof(flags), "MREMAP_MAYMOVE");
		len = 0; /* duplicates a shared mapping */
		off &= ~(PAGE - 1);
	}
	if (chance(&g->rs, 3))
		newpages = 0;
	fmt_at(at, sizeof(at), s->name, off);
	fmt_len(olen, sizeof(olen), len);
	fmt_len(nlen, sizeof(nlen), newpages * PAGE);
	new_name(g, name, sizeof(name), 'a');
	emit(g, "%s = mremap %s %s %s %s%s%s", name, at, olen, nlen, flags, to[0] ? " " : "", to);
	add_sym(cur(g), name, false, false, newpages ? newpages : 1);
}

static void g_msync(struct gen *g)
{
	static const char *const f[] = {"MS_ASYNC",
					"MS_SYNC",
					"MS_SYNC",
					"MS_INVALIDATE",
					"MS_ASYNC|MS_INVALIDATE",
					"MS_SYNC|MS_INVALIDATE",
					"0",
					"MS_ASYNC|MS_SYNC"};

	range_cmd(g, "msync", 64, f[below(&g->rs, ARRAY_SIZE(f))]);
}

static void g_madvise(struct gen *g)
{
	static const char *const adv[] = {
	    "MADV_NORMAL",	   "MADV_RANDOM",	  "MADV_SEQUENTIAL",	"MADV_WILLNEED",
	    "MADV_DONTNEED",	   "MADV_DONTNEED",	  "MADV_FREE",		"MADV_FREE",
	    "MADV_REMOVE",	   "MADV_DONTFORK",	  "MADV_DOFORK",	"MADV_MERGEABLE",
	    "MADV_UNMERGEABLE",	   "MADV_HUGEPAGE",	  "MADV_NOHUGEPAGE",	"MADV_DONTDUMP",
	    "MADV_DODUMP",	   "MADV_WIPEONFORK",	  "MADV_KEEPONFORK",	"MADV_COLD",
	    "MADV_POPULATE_READ",  "MADV_POPULATE_WRITE", "MADV_DONTNEED_LOCKED", "MADV_COLLAPSE",
	    "MADV_POPULATE_WRITE", "MADV_REMOVE",	  "77",	"MADV_GUARD_INSTALL",
	    "MADV_GUARD_INSTALL",  "MADV_GUARD_REMOVE"};

	const char *a = adv[below(&g->rs, ARRAY_SIZE(adv))];

	if (g->pressure && (g->avoid & AV_PRESSURE_ANON) && !strcmp(a, "MADV_FREE"))
		a = "MADV_NORMAL";
	range_cmd(g, "madvise", 64, a);
}

static void g_mlock(struct gen *g)
{
	range_cmd(g, "mlock", 64, chance(&g->rs, 30) ? "MLOCK_ONFAULT" : NULL);
}

static void g_remap_file_pages(struct gen *g)
{
	const struct gsym *s = pick_region(g);
	char at[48], lenw[24];
	uint64_t off, len, pgoff;

	if (!s)
		return;
	pick_range(g, s, 8, &off, &len);
	pgoff = below(&g->rs, 6);
	fmt_at(at, sizeof(at), s->name, off);
	fmt_len(lenw, sizeof(lenw), len);
	emit(g, "remap_file_pages %s %s 0 %" PRIu64 " 0", at, lenw, pgoff);
}

static void g_load_store(struct gen *g, bool store)
{
	static const unsigned widths[] = {1, 2, 4, 8};
	const struct gsym *s = pick_region(g);
	unsigned w = widths[below(&g->rs, 4)];
	char at[48];

	if (!s)
		return;
	fmt_at(at, sizeof(at), s->name, pick_access(g, s, w));
	if (store) {
		uint64_t v = rnd(&g->rs);

		if (w < 8)
			v &= (1ULL << (8 * w)) - 1;
		if (chance(&g->rs, 50))
			v &= 0xff;
		emit(g, "store%u %s %" PRIu64, 8 * w, at, v);
	} else {
		emit(g, "load%u %s", 8 * w, at);
	}
}

static void g_bytes(struct gen *g)
{
	const struct gsym *s = pick_region(g);
	uint64_t r = below(&g->rs, 100), size, off, len;
	char at[48], word[16];

	if (!s)
		return;
	size = s->pages * PAGE;
	off = pick_access(g, s, 1);
	len = between(&g->rs, 1, chance(&g->rs, 70) ? 64 : 2 * PAGE);
	if (off + len > size)
		len = size - off;
	fmt_at(at, sizeof(at), s->name, off);
	if (r < 25) {
		emit(g, "load %s %" PRIu64, at, len);
	} else if (r < 50) {
		rand_word(g, word, 12);
		if (off + strlen(word) > size)
			word[size - off] = '\0';
		emit(g, "store %s \"%s\"", at, word);
	} else if (r < 70) {
		emit(g, "fill %s %" PRIu64 " %" PRIu64, at, len, below(&g->rs, 256));
	} else {
		char lenw[24];

		pick_range(g, s, 64, &off, &len);
		fmt_at(at, sizeof(at), s->name, off);
		fmt_len(lenw, sizeof(lenw), len);
		emit(g, "touch %s %s %s", at, lenw, chance(&g->rs, 50) ? "write" : "read");
	}
}

static uint64_t some_file_size(struct gen *g)
{
	uint64_t n = below(&g->rs, 7) * PAGE;

	if (chance(&g->rs, 35))
		n += between(&g->rs, 1, PAGE - 1);
	return n;
}

/*
 * file PATH ...: only for a file that does not exist yet. Rewriting an
 * existing one truncates it to 0 first (O_TRUNC), and ext4 (auto_da_alloc)
 * then starts writing it back at close: its pages turn clean on the kernel
 * at a moment of the host's choosing, which no library can follow.
 */
static void g_file(struct gen *g)
{
	unsigned f = (unsigned)below(&g->rs, NFILES), k;
	char lenw[24];

	for (k = 0; k < NFILES && g->file_made[f]; k++)
		f = (f + 1) % NFILES;
	if (g->file_made[f])
		return;
	fmt_len(lenw, sizeof(lenw), some_file_size(g));
	if (chance(&g->rs, 20)) {
		char word[16];

		rand_word(g, word, 12);
		emit(g, "file f%u %s \"%s\"", f + 1, lenw, word);
	} else {
		emit(g, "file f%u %s %" PRIu64, f + 1, lenw, between(&g->rs, 'A', 'Z'));
	}
	g->file_made[f] = true;
}

static void g_open(struct gen *g)
{
	static const char *const modes[] = {"O_RDWR", "O_RDWR", "O_RDWR", "O_RDONLY", "O_WRONLY",
					    "O_RDWR|O_CREAT 0644"};
	unsigned f = (unsigned)below(&g->rs, NFILES);
	bool dz = chance(&g->rs, 8);
	const char *mode;
	char name[12];

	new_name(g, name, sizeof(name), 'd');
	mode = modes[below(&g->rs, ARRAY_SIZE(modes))];
	if (dz) {
		emit(g, "%s = open /dev/zero O_RDWR", name);
	} else {
		emit(g, "%s = open f%u %s", name, f + 1, mode);
		if (strstr(mode, "O_CREAT"))
			g->file_made[f] = true;
	}
	add_sym(cur(g), name, true, false, 0)->devzero = dz;
}

static void g_fileop(struct gen *g)
{
	const struct gsym *fd = pick_fd(g), *s;
	uint64_t r = below(&g->rs, 100);
	char word[16], at[48];

	if (!fd) {
		g_open(g);
		return;
	}
	if (r < 18) {
		rand_word(g, word, 12);
		emit(g, "write %s \"%s\"", fd->name, word);
	} else if (r < 38) {
		rand_word(g, word, 12);
		emit(g, "pwrite %s \"%s\" %" PRIu64, fd->name, word,
		     below(&g->rs, 8 * PAGE + PAGE / 2));
	} else if (r < 48) {
		/* Draws in sequence: the order of a call's arguments is unspecified. */
		uint64_t n = between(&g->rs, 1, 48), pos = below(&g->rs, 7 * PAGE);

		emit(g, "pread %s %" PRIu64 " %" PRIu64, fd->name, n, pos);
	} else if (r < 53) {
		emit(g, "read %s %" PRIu64, fd->name, between(&g->rs, 1, 48));
	} else if (r < 58) {
		uint64_t to = below(&g->rs, 6 * PAGE);
		bool end = chance(&g->rs, 30);

		emit(g, "lseek %s %" PRIu64 " %s", fd->name, to, end ? "SEEK_END" : "SEEK_SET");
	} else if (r < 75) {
		/* Never to 0: ext4 would write the file back at its last close (auto_da_alloc). */
		uint64_t n = some_file_size(g);

		emit(g, "ftruncate %s %" PRIu64, fd->name, n ? n : 1);
	} else if (r < 80) {
		emit(g, "%s %s", chance(&g->rs, 50) ? "fsync" : "fdatasync", fd->name);
	} else if (r < 95 && (s = pick_region(g))) {
		uint64_t off, len;
		bool wr;

		pick_range(g, s, 3, &off, &len);
		wr = chance(&g->rs, 50);
		fmt_at(at, sizeof(at), s->name, off);
		emit(g, "%s %s %s %" PRIu64, wr ? "write" : "read", fd->name, at, len);
	} else {
		/*
		 * The symbol is dropped: its number goes to the next open, and a later
		 * use would reach that file (or /dev/zero) unknown to the generator.
		 */
		struct gproc *p = cur(g);
		size_t i;

		emit(g, "close %s", fd->name);
		for (i = 0; i < p->n; i++) {
			if (&p->s[i] == fd) {
				p->s[i] = p->s[--p->n];
				break;
			}
		}
	}
}

static void g_cat(struct gen *g)
{
	unsigned f = (unsigned)below(&g->rs, NFILES);

	if (chance(&g->rs, 50)) {
		emit(g, "cat f%u", f + 1);
	} else {
		uint64_t off = below(&g->rs, 6 * PAGE), n = between(&g->rs, 1, 64);

		emit(g, "cat f%u %" PRIu64 " %" PRIu64, f + 1, off, n);
	}
}

static void g_fork(struct gen *g)
{
	struct gproc *c, *p;

	if (g->np >= MAX_PROCS || alive_count(g) >= MAX_ALIVE)
		return;
	c = &g->p[g->np];
	snprintf(c->name, sizeof(c->name), "c%d", g->np);
	emit(g, "fork %s", c->name);
	p = cur(g);
	c->alive = true;
	c->n = p->n;
	c->s = xcalloc(p->n ? p->n : 1, sizeof(*c->s));
	memcpy(c->s, p->s, p->n * sizeof(*c->s));
	g->np++;
	if (chance(&g->rs, 50))
		g->cur = g->np - 1;
}

static void switch_proc(struct gen *g)
{
	int n = alive_count(g), k = (int)below(&g->rs, (uint64_t)n), i;

	for (i = 0; i < g->np; i++)
		if (g->p[i].alive && k-- == 0)
			g->cur = i;
}

static void g_exit(struct gen *g)
{
	if (alive_count(g) < 2)
		return;
	emit(g, "exit");
	cur(g)->alive = false;
	switch_proc(g);
}

/* G, one PROT_NONE page below the driver's vvar, then the arena R below it. */
static void reserve(struct gen *g)
{
	emit(g, "G = mmap NULL 1P --- private|anon");
	emit(g, "R = mmap NULL %" PRIu64 "P --- private|anon|noreserve", g->arena);
	add_sym(cur(g), "R", false, true, g->arena);
}

static void g_exec(struct gen *g)
{
	struct gproc *p = cur(g);
	size_t i, n = 0;

	emit(g, "exec");
	p->execd = true;
	for (i = 0; i < p->n; i++)
		if (p->s[i].fd)
			p->s[n++] = p->s[i]; /* descriptors stay; mappings are gone */
	p->n = n;
	reserve(g);
}

static void g_probe(struct gen *g)
{
	const struct gsym *s = pick_region(g);
	uint64_t r = below(&g->rs, 100), off, len;
	char at[48], lenw[24];

	if (r < 25 || !s) {
		emit(g, "maps");
	} else if (r < 50) {
		fmt_at(at, sizeof(at), s->name, below(&g->rs, s->pages) * PAGE);
		emit(g, "smaps %s", at);
	} else if (r < 75) {
		pick_range(g, s, 16, &off, &len);
		fmt_at(at, sizeof(at), s->name, off);
		fmt_len(lenw, sizeof(lenw), len ? len : 1);
		emit(g, "pagemap %s %s", at, lenw);
	} else if (r < 88) {
		if (g->hugepages && chance(&g->hrs, 30))
			emit(g, "hugepages");
		else
			emit(g, "status");
	} else {
		range_cmd(g, "mincore", 64, NULL);
	}
}

enum gop {
	G_MMAP,
	G_MUNMAP,
	G_MPROTECT,
	G_MREMAP,
	G_MSYNC,
	G_MADVISE,
	G_MINCORE,
	G_MLOCK,
	G_MUNLOCK,
	G_MLOCKALL,
	G_MUNLOCKALL,
	G_REMAP,
	G_LOAD,
	G_STORE,
	G_BYTES,
	G_FILE,
	G_OPEN,
	G_FILEOP,
	G_CAT,
	G_FORK,
	G_EXIT,
	G_EXEC,
	G_PROBE,
	G_SWITCH,
	G_COUNT
};

static const unsigned weights[G_COUNT] = {
    [G_MMAP] = 120,   [G_MUNMAP] = 45,	[G_MPROTECT] = 50,   [G_MREMAP] = 50,
    [G_MSYNC] = 25,   [G_MADVISE] = 50, [G_MINCORE] = 15,    [G_MLOCK] = 22,
    [G_MUNLOCK] = 12, [G_MLOCKALL] = 3, [G_MUNLOCKALL] = 4,  [G_REMAP] = 5,
    [G_LOAD] = 90,    [G_STORE] = 100,	[G_BYTES] = 55,	     [G_FILE] = 15,
    [G_OPEN] = 20,    [G_FILEOP] = 70,	[G_CAT] = 10,	     [G_FORK] = 18,
    [G_EXIT] = 7,     [G_EXEC] = 2,	[G_PROBE] = 95,	     [G_SWITCH] = 40,
};

/* --pressure: the machine, and Z in p (see struct gen). */
static void pressure_setup(struct gen *g)
{
	static const unsigned phys_mib[] = {12, 16, 24};
	unsigned phys = phys_mib[below(&g->prs, ARRAY_SIZE(phys_mib))] + 2 * g->hugepages;

	sb_printf(&g->out, "config phys=%uM\n", phys);
	g->zbytes = (uint64_t)(phys + (unsigned)between(&g->prs, 2, 12)) << 20;
}

static void pressure_map(struct gen *g)
{
	emit(g, "file zf %" PRIu64 "P offsets", g->zbytes / PAGE);
	emit(g, "zd = open zf O_RDONLY");
	emit(g, "Z = mmap NULL %" PRIu64 "P r-- shared zd 0", g->zbytes / PAGE);
	emit(g, "close zd");
}

/* One command of memory pressure or limits, in the current process. */
static void g_pressure(struct gen *g)
{
	static const int adj[] = {-1000, -500, -1, 0, 1, 300, 1000};
	static const uint64_t lim[] = {0, 4096, 65536, 1 << 20, 8 << 20, 64 << 20};
	struct gproc *p = cur(g);
	uint64_t r = below(&g->prs, 100), zp = g->zbytes / PAGE;
	bool z = g->cur == 0 && !p->execd && zp;
	char at[48];

	if (!p->alive)
		return;
	if (r < 30 && z) {
		/* Through Z: a run of pages, often all of it (more than memory). */
		uint64_t o = below(&g->prs, zp), n = chance(&g->prs, 40) ? zp - o : between(&g->prs, 1, zp - o);

		if (chance(&g->prs, 30))
			o = 0, n = zp;
		fmt_at(at, sizeof(at), "Z", o * PAGE);
		emit(g, "touch %s %" PRIu64 "P read", at, n);
	} else if (r < 50 && z) {
		/* A word of Z: its own offset, read back after reclaim. */
		uint64_t off = below(&g->prs, g->zbytes / 8) * 8;

		fmt_at(at, sizeof(at), "Z", off);
		emit(g, "load64 %s", at);
	} else if (r < 65) {
		static const uint64_t n[] = {1, 16, 256, 4096, 1000000};

		emit(g, "reclaim %" PRIu64, n[below(&g->prs, ARRAY_SIZE(n))]);
	} else if (r < 78) {
		if (chance(&g->prs, 30))
			emit(g, "oom_score_adj");
		else
			emit(g, "oom_score_adj %d", adj[below(&g->prs, ARRAY_SIZE(adj))]);
	} else if (r < 90) {
		uint64_t hard = lim[below(&g->prs, ARRAY_SIZE(lim))];
		uint64_t soft = chance(&g->prs, 20) ? hard + PAGE : hard >> below(&g->prs, 3);

		if (chance(&g->prs, 30))
			emit(g, "getrlimit RLIMIT_MEMLOCK");
		else
			emit(g, "setrlimit RLIMIT_MEMLOCK %" PRIu64 " %" PRIu64, soft, hard);
	} else {
		static const char *const cred[] = {"setuid 0",	       "setuid 1000",
						   "setgid 0",	       "setgid 100",
						   "setresuid -1 0 -1", "setresuid 1000 -1 -1",
						   "umask 027",	       "umask 022"};

		emit(g, "%s", cred[below(&g->prs, ARRAY_SIZE(cred))]);
	}
}

static void g_op(struct gen *g)
{
	unsigned total = 0, r, i;

	for (i = 0; i < G_COUNT; i++)
		total += weights[i];
	r = (unsigned)below(&g->rs, total);
	for (i = 0; i < G_COUNT && r >= weights[i]; i++)
		r -= weights[i];
	switch ((enum gop)i) {
	case G_MMAP:
		g_mmap(g);
		break;
	case G_MUNMAP:
		range_cmd(g, "munmap", 64, NULL);
		break;
	case G_MPROTECT:
		g_mprotect(g);
		break;
	case G_MREMAP:
		g_mremap(g);
		break;
	case G_MSYNC:
		g_msync(g);
		break;
	case G_MADVISE:
		g_madvise(g);
		break;
	case G_MINCORE:
		range_cmd(g, "mincore", 64, NULL);
		break;
	case G_MLOCK:
		g_mlock(g);
		break;
	case G_MUNLOCK:
		range_cmd(g, "munlock", 64, NULL);
		break;
	case G_MLOCKALL:
		emit(g, "mlockall %s", chance(&g->rs, 50) ? "MCL_FUTURE" : "MCL_FUTURE|MCL_ONFAULT");
		break;
	case G_MUNLOCKALL:
		emit(g, "munlockall");
		break;
	case G_REMAP:
		g_remap_file_pages(g);
		break;
	case G_LOAD:
		g_load_store(g, false);
		break;
	case G_STORE:
		g_load_store(g, true);
		break;
	case G_BYTES:
		g_bytes(g);
		break;
	case G_FILE:
		g_file(g);
		break;
	case G_OPEN:
		g_open(g);
		break;
	case G_FILEOP:
		g_fileop(g);
		break;
	case G_CAT:
		g_cat(g);
		break;
	case G_FORK:
		g_fork(g);
		break;
	case G_EXIT:
		g_exit(g);
		break;
	case G_EXEC:
		g_exec(g);
		break;
	case G_PROBE:
		g_probe(g);
		break;
	case G_SWITCH:
	case G_COUNT:
		switch_proc(g);
		break;
	}
}

char *fuzz_generate(uint64_t seed, unsigned max_ops, unsigned avoid, bool pressure)
{
	static const uint64_t arenas[] = {16, 32, 64, 128, 256};
	struct gen g;
	unsigned nops, i;
	int k;

	memset(&g, 0, sizeof(g));
	g.avoid = avoid;
	g.rs = seed * 0x2545f4914f6cdd1dULL + 0x1234567;
	rnd(&g.rs);
	sb_init(&g.out);
	g.arena = arenas[below(&g.rs, ARRAY_SIZE(arenas))];
	nops = max_ops < 4 ? max_ops : (unsigned)between(&g.rs, max_ops / 4, max_ops);

	sb_printf(&g.out, "# usermm fuzz --seed %" PRIu64 " --max-ops %u", seed, max_ops);
	if (avoid) {
		const char *sep = " --avoid ";

		for (k = 0; k < (int)fuzz_nknown(); k++) {
			if (avoid & fuzz_known[k].bit) {
				sb_printf(&g.out, "%s%s", sep, fuzz_known[k].name);
				sep = ",";
			}
		}
	}
	sb_puts(&g.out, pressure ? " --pressure --print\n" : " --print\n");
	snprintf(g.p[0].name, sizeof(g.p[0].name), "p");
	g.p[0].alive = true;
	g.np = 1;
	g.hrs = seed * 0x9e3779b97f4a7c15ULL ^ 0x4855474550414745ULL;
	rnd(&g.hrs);
	if (chance(&g.hrs, 15)) {
		g.hugepages = (unsigned)between(&g.hrs, 1, 4);
		sb_printf(&g.out, "config hugepages=%u\n", g.hugepages);
	}
	g.pressure = pressure;
	if (pressure) {
		g.prs = seed * 0xd1342543de82ef95ULL ^ 0x5052455353555245ULL;
		rnd(&g.prs);
		pressure_setup(&g);
	}
	sb_puts(&g.out, "proc p\n");
	reserve(&g);
	if (pressure)
		pressure_map(&g);
	for (k = 0; k < NFILES; k++)
		if (chance(&g.rs, 60))
			g_file(&g);
	if (chance(&g.rs, 60))
		g_open(&g);
	for (i = 0; i < nops; i++) {
		if (pressure && chance(&g.prs, 15))
			g_pressure(&g);
		g_op(&g);
	}
	if (chance(&g.rs, 50))
		emit(&g, "maps");
	for (k = 0; k < g.np; k++)
		free(g.p[k].s);
	return sb_steal(&g.out);
}
