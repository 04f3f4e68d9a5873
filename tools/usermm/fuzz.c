/*
 * fuzz.c: `usermm fuzz`, seeded random differential testing of the library
 * against Linux (fuzz.h).
 *
 * Scenario i of a run has seed S + i and is a pure function of it (and of
 * --max-ops and --avoid): the generator draws from a splitmix64 stream and
 * writes scenario text. The text is parsed as any script and run in-process
 * on the sim and the kernel back ends with the runner (runner.h), collecting
 * both transcripts as `usermm diff` does (sim-only records left out). When
 * they differ, the scenario is shrunk — lines deleted (chunks, then single
 * lines), then numbers, flag lists and strings simplified, each step kept
 * only if the scenario still parses and still differs the same way (the
 * same first differing lines, symbols and numbers aside) — and saved as
 * DIR/seed-S.ums with the seed, the original size and the diff in its
 * header.
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
 * Left out on purpose: MADV_PAGEOUT (the library has no reclaim: Linux
 * really drops clean file pages), MADV_HWPOISON/SOFT_OFFLINE (need
 * CAP_SYS_ADMIN, which the driver drops), brk and mlockall(MCL_CURRENT)
 * (see above). Known differences (below) can be avoided with --avoid.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"
#include "runner.h"

#define PAGE ((uint64_t)4096)
#define MAX_PROCS 8 /* processes made in one scenario (p, then c1 ...) */
#define MAX_ALIVE 3
#define NFILES 3
#define DEFAULT_MAX_OPS 60
#define DEFAULT_OUT "tests/diff/found"

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
static const struct known {
	const char *name;
	unsigned bit;
	const char *what;
} known[] = {
    /* None open now; an entry is {"name", AV_ bit, "what differs"}. */
    {NULL, 0, NULL},
};

/* The number of entries of known[] before its terminator. */
static size_t nknown(void)
{
	size_t n = 0;

	while (known[n].name)
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
		type = "MAP_DROPPABLE";
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

/* The scenario of seed: its text (malloc'd). */
static char *generate(uint64_t seed, unsigned max_ops, unsigned avoid)
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

		for (k = 0; k < (int)nknown(); k++) {
			if (avoid & known[k].bit) {
				sb_printf(&g.out, "%s%s", sep, known[k].name);
				sep = ",";
			}
		}
	}
	sb_puts(&g.out, " --print\n");
	snprintf(g.p[0].name, sizeof(g.p[0].name), "p");
	g.p[0].alive = true;
	g.np = 1;
	g.hrs = seed * 0x9e3779b97f4a7c15ULL ^ 0x4855474550414745ULL;
	rnd(&g.hrs);
	if (chance(&g.hrs, 15)) {
		g.hugepages = (unsigned)between(&g.hrs, 1, 4);
		sb_printf(&g.out, "config hugepages=%u\n", g.hugepages);
	}
	sb_puts(&g.out, "proc p\n");
	reserve(&g);
	for (k = 0; k < NFILES; k++)
		if (chance(&g.rs, 60))
			g_file(&g);
	if (chance(&g.rs, 60))
		g_open(&g);
	for (i = 0; i < nops; i++)
		g_op(&g);
	if (chance(&g.rs, 50))
		emit(&g, "maps");
	for (k = 0; k < g.np; k++)
		free(g.p[k].s);
	return sb_steal(&g.out);
}

/* -------------------------------------------------------------- running */

/*
 * A transcript as `usermm diff` compares it: lines, and each line's command
 * word; cut: set with ncut, the lines up to and including the first record
 * marked host_dependent (a read or write onto its own source: what it left
 * in memory is the host CPU's doing, so nothing after it is compared).
 */
struct tr {
	char **v;
	char **tag;
	size_t n;
	bool cut;
	size_t ncut;
};

/* Keeps the first n lines of t (n <= t->n). */
static void tr_truncate(struct tr *t, size_t n)
{
	while (t->n > n) {
		t->n--;
		free(t->v[t->n]);
		free(t->tag[t->n]);
	}
}

static void tr_free(struct tr *t)
{
	tr_truncate(t, 0);
	free(t->v);
	free(t->tag);
	memset(t, 0, sizeof(*t));
}

static void tr_add(struct tr *t, char *line, const char *tag)
{
	t->v = xrealloc(t->v, (t->n + 1) * sizeof(*t->v));
	t->tag = xrealloc(t->tag, (t->n + 1) * sizeof(*t->tag));
	t->v[t->n] = line;
	t->tag[t->n] = xstrdup(tag);
	t->n++;
}

static void emit_tr(void *ctx, struct rec *r)
{
	struct tr *t = ctx;
	char tag[32];
	struct sbuf b;
	size_t i;

	if (r->sim_only)
		return;
	snprintf(tag, sizeof(tag), "%.*s", (int)strcspn(r->cmd ? r->cmd : "", " "),
		 r->cmd ? r->cmd : "");
	sb_init(&b);
	rec_head(&b, r);
	tr_add(t, sb_steal(&b), tag);
	for (i = 0; i < r->ndetail; i++) {
		sb_printf(&b, "    %s", r->detail[i]);
		tr_add(t, sb_steal(&b), tag);
	}
	if (r->host_dependent && !t->cut) {
		t->cut = true;
		t->ncut = t->n;
	}
}

enum outcome {
	SAME,
	DIFFERS,
	BAD_SCRIPT, /* does not parse */
	BE_ERROR,   /* a back end could not start */
};

struct dclass {
	char *key;
	uint64_t count;
	uint64_t first_seed;
};

struct fz {
	uint64_t tests; /* runs on both back ends, shrinking included */
	bool cut;	/* the last try_text compared only up to a host-dependent call */
	FILE *errs;
	struct dclass *cls; /* differences by kind */
	size_t ncls;
};

/*
 * Parses and runs text on both back ends. Returns the outcome; for
 * DIFFERS, *tag is the command of the first differing line (malloc'd)
 * when tag is non-NULL, and the transcripts stay in sim and ker when
 * those are non-NULL. Both transcripts end at the sim's cut when it has
 * one (struct tr; f->cut says so): the sim knows the mappings and sees
 * the overlap, and where it cuts is the same on every host.
 */
static enum outcome try_text(struct fz *f, const char *text, char **tag, struct tr *sim_out,
			     struct tr *ker_out)
{
	struct tr sim = {0}, ker = {0};
	struct script *s;
	struct diag d;
	enum outcome o = SAME;
	size_t i;
	int r1, r2;

	if (sim_out)
		memset(sim_out, 0, sizeof(*sim_out));
	if (ker_out)
		memset(ker_out, 0, sizeof(*ker_out));
	if (script_parse("fuzz", text, strlen(text), &s, &d)) {
		diag_free(&d);
		return BAD_SCRIPT;
	}
	{
		struct run_cfg cs = {
		    .be = &be_sim, .emit = emit_tr, .ctx = &sim, .errs = f->errs, .quiet = true};
		struct run_cfg ck = {
		    .be = &be_kernel, .emit = emit_tr, .ctx = &ker, .errs = f->errs, .quiet = true};

		r1 = run_script(&cs, s);
		r2 = run_script(&ck, s);
	}
	script_free(s);
	f->tests++;
	f->cut = sim.cut;
	/* A back end that could not start, or a pool this machine cannot give. */
	if (r1 == 2 || r2 == 2 || r1 == RUN_UNAVAILABLE || r2 == RUN_UNAVAILABLE) {
		o = BE_ERROR;
		goto out;
	}
	if (sim.cut) {
		tr_truncate(&sim, sim.ncut);
		if (ker.n > sim.ncut)
			tr_truncate(&ker, sim.ncut);
	}
	for (i = 0; i < sim.n && i < ker.n; i++)
		if (strcmp(sim.v[i], ker.v[i]))
			break;
	if (i < sim.n || i < ker.n) {
		o = DIFFERS;
		if (tag)
			*tag = xstrdup(i < sim.n ? sim.tag[i] : ker.tag[i]);
	}
out:
	if (sim_out)
		*sim_out = sim;
	else
		tr_free(&sim);
	if (ker_out)
		*ker_out = ker;
	else
		tr_free(&ker);
	return o;
}

/*
 * Normalizes a transcript line for grouping differences: symbols and
 * processes become S, numbers N; a command line keeps only its command word
 * and its result.
 */
static void norm_line(struct sbuf *b, const char *tag, const char *line)
{
	const char *s = line, *eq = strstr(line, " = ");

	if (line[0] != ' ' && eq) {
		const char *last;

		while ((last = strstr(eq + 3, " = ")))
			eq = last;
		sb_printf(b, "%s = ", tag);
		s = eq + 3;
	}
	while (*s) {
		if ((*s >= 'a' && *s <= 'z') && s[1] >= '0' && s[1] <= '9' &&
		    (s == line || !((s[-1] >= 'a' && s[-1] <= 'z') || (s[-1] >= 'A' && s[-1] <= 'Z') ||
				    s[-1] == '_'))) {
			sb_putc(b, 'S');
			s++;
			while (*s >= '0' && *s <= '9')
				s++;
		} else if (*s == '0' && s[1] == 'x') {
			sb_putc(b, 'N');
			s += 2;
			while ((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'))
				s++;
		} else if (*s >= '0' && *s <= '9') {
			sb_putc(b, 'N');
			while (*s >= '0' && *s <= '9')
				s++;
		} else {
			sb_putc(b, *s++);
		}
	}
}

/* The kind of a difference: its first differing lines, normalized. */
static char *class_key(const char *tag, const struct tr *sim, const struct tr *ker)
{
	struct sbuf b;
	size_t i;

	for (i = 0; i < sim->n && i < ker->n; i++)
		if (strcmp(sim->v[i], ker->v[i]))
			break;
	sb_init(&b);
	sb_puts(&b, "sim: ");
	norm_line(&b, tag, i < sim->n ? sim->v[i] : "(nothing)");
	sb_puts(&b, " | kernel: ");
	norm_line(&b, tag, i < ker->n ? ker->v[i] : "(nothing)");
	return sb_steal(&b);
}

/* ------------------------------------------------------------- shrinking */

struct lines {
	char **v;
	size_t n;
};

static void lines_split(struct lines *l, const char *text)
{
	const char *s = text;

	memset(l, 0, sizeof(*l));
	while (*s) {
		size_t n = strcspn(s, "\n");

		if (n && s[0] != '#') {
			l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
			l->v[l->n++] = xstrndup(s, n);
		}
		s += n;
		if (*s)
			s++;
	}
}

static void lines_free(struct lines *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* The lines, without those in [skip, skip + nskip), and with line rep_at replaced by rep. */
static char *lines_join(const struct lines *l, size_t skip, size_t nskip, size_t rep_at,
			const char *rep)
{
	struct sbuf b;
	size_t i;

	sb_init(&b);
	for (i = 0; i < l->n; i++) {
		if (i >= skip && i < skip + nskip)
			continue;
		sb_puts(&b, i == rep_at && rep ? rep : l->v[i]);
		sb_putc(&b, '\n');
	}
	return sb_steal(&b);
}

struct shrink {
	struct fz *f;
	const char *key; /* the kind of difference (class_key) that must stay */
	unsigned avoid;	 /* what the generator stayed away from: the shrinker must too */
	uint64_t budget; /* runs left */
	time_t deadline;
};

/*
 * Lines the shrinker never deletes or changes: those that bind G or R
 * (the scenario's safety).
 */
static bool protected_line(const char *s)
{
	const char *c = strchr(s, ':');

	if (c)
		s = c + 1;
	while (*s == ' ')
		s++;
	return !strncmp(s, "G = ", 4) || !strncmp(s, "R = ", 4);
}

static bool shrink_live(struct shrink *sh)
{
	return sh->budget > 0 && time(NULL) < sh->deadline;
}

/* Does text still parse and differ the same way (the same kind of first difference)? */
static bool still_differs(struct shrink *sh, const char *text)
{
	struct tr sim, ker;
	char *tag = NULL, *key;
	bool ok = false;

	if (!shrink_live(sh))
		return false;
	sh->budget--;
	if (try_text(sh->f, text, &tag, &sim, &ker) == DIFFERS && tag) {
		key = class_key(tag, &sim, &ker);
		ok = !strcmp(key, sh->key);
		free(key);
	}
	tr_free(&sim);
	tr_free(&ker);
	free(tag);
	return ok;
}

static bool any_protected(const struct lines *l, size_t at, size_t n)
{
	size_t i;

	for (i = at; i < at + n && i < l->n; i++)
		if (protected_line(l->v[i]))
			return true;
	return false;
}

static void lines_delete(struct lines *l, size_t at, size_t n)
{
	size_t i;

	for (i = at; i < at + n; i++)
		free(l->v[i]);
	memmove(&l->v[at], &l->v[at + n], (l->n - at - n) * sizeof(*l->v));
	l->n -= n;
}

/* Deletes chunks of lines, halving the chunk size, until no single line can go. */
static bool shrink_lines(struct shrink *sh, struct lines *l)
{
	size_t chunk = l->n / 2 ? l->n / 2 : 1;
	bool any = false;

	while (shrink_live(sh)) {
		bool progress = false;
		size_t i = 0;

		while (i < l->n && shrink_live(sh)) {
			size_t n = chunk < l->n - i ? chunk : l->n - i;
			char *text;

			if (any_protected(l, i, n)) {
				/* Try the parts around the protected lines at smaller sizes. */
				i += n;
				continue;
			}
			text = lines_join(l, i, n, SIZE_MAX, NULL);
			if (still_differs(sh, text)) {
				lines_delete(l, i, n);
				progress = any = true;
			} else {
				i += n;
			}
			free(text);
		}
		if (chunk == 1 && !progress)
			break;
		if (!progress || chunk > 1)
			chunk = chunk / 2 ? chunk / 2 : 1;
	}
	return any;
}

/* The words of a line, split on blanks outside quotes. */
struct words {
	char **w;
	size_t n;
};

static void words_split(struct words *ws, const char *s)
{
	memset(ws, 0, sizeof(*ws));
	while (*s) {
		const char *b;
		bool q = false;

		while (*s == ' ')
			s++;
		if (!*s)
			break;
		b = s;
		while (*s && (q || *s != ' ')) {
			if (*s == '\\' && q && s[1])
				s++;
			else if (*s == '"')
				q = !q;
			s++;
		}
		ws->w = xrealloc(ws->w, (ws->n + 1) * sizeof(*ws->w));
		ws->w[ws->n++] = xstrndup(b, (size_t)(s - b));
	}
}

static void words_free(struct words *ws)
{
	size_t i;

	for (i = 0; i < ws->n; i++)
		free(ws->w[i]);
	free(ws->w);
}

static char *words_join(const struct words *ws, size_t at, const char *rep)
{
	struct sbuf b;
	size_t i;

	sb_init(&b);
	for (i = 0; i < ws->n; i++) {
		if (i)
			sb_putc(&b, ' ');
		sb_puts(&b, i == at ? rep : ws->w[i]);
	}
	return sb_steal(&b);
}

/* Simpler forms of one word: smaller numbers and offsets, shorter flag lists and strings. */
static size_t candidates(const char *w, char out[][96], size_t max)
{
	size_t n = 0, len = strlen(w);
	const char *num = w, *plus;
	char sym[48] = "";
	uint64_t v, c[4];
	char *end;
	bool hex;
	size_t i, k;

	if (w[0] == '"') {
		if (len > 3 && n < max)
			snprintf(out[n++], 96, "\"x\"");
		return n;
	}
	if (strchr(w, '|')) {
		const char *s = w;

		while (*s && n < max) {
			size_t part = strcspn(s, "|");
			struct sbuf b;

			sb_init(&b);
			sb_putn(&b, w, (size_t)(s - w));
			if (s[part])
				sb_puts(&b, s + part + 1);
			else if (b.len)
				b.s[--b.len] = '\0'; /* the '|' before the last part */
			if (b.len && b.len < 96)
				snprintf(out[n++], 96, "%s", b.s);
			sb_free(&b);
			s += part;
			if (*s)
				s++;
		}
		return n;
	}
	plus = strchr(w, '+');
	if (plus) {
		snprintf(sym, sizeof(sym), "%.*s", (int)(plus - w), w);
		num = plus + 1;
	}
	if (!(num[0] >= '0' && num[0] <= '9'))
		return 0;
	hex = num[0] == '0' && (num[1] == 'x' || num[1] == 'X');
	errno = 0;
	v = strtoull(num, &end, 0);
	if (errno || (*end && strcmp(end, "P") && strcmp(end, "K")) || v == 0)
		return 0;
	if (sym[0] && n < max)
		snprintf(out[n++], 96, "%s", sym);
	c[0] = 0;
	c[1] = 1;
	c[2] = v / 2;
	c[3] = v - 1;
	for (i = 0; i < 4 && n < max; i++) {
		if (c[i] >= v || (sym[0] && c[i] == 0))
			continue;
		for (k = 0; k < i; k++)
			if (c[k] == c[i])
				break;
		if (k < i)
			continue;
		if (sym[0])
			snprintf(out[n++], 96, hex ? "%s+%#" PRIx64 "%s" : "%s+%" PRIu64 "%s", sym,
				 c[i], end);
		else if (c[i] == 0)
			snprintf(out[n++], 96, "0");
		else
			snprintf(out[n++], 96, hex ? "%#" PRIx64 "%s" : "%" PRIu64 "%s", c[i], end);
	}
	return n;
}

/* Simplifies the words of every line, one at a time, while the scenario still differs. */
static bool shrink_words(struct shrink *sh, struct lines *l)
{
	bool any = false;
	size_t i;

	for (i = 0; i < l->n && shrink_live(sh); i++) {
		struct words ws;
		size_t k, first = 0;

		if (protected_line(l->v[i]))
			continue;
		words_split(&ws, l->v[i]);
		/* Skip "p:", "SYM =" and the command word. */
		if (first < ws.n && ws.w[first][strlen(ws.w[first]) - 1] == ':')
			first++;
		if (first + 1 < ws.n && !strcmp(ws.w[first + 1], "="))
			first += 2;
		first++;
		for (k = first; k < ws.n && shrink_live(sh); k++) {
			char cand[8][96];
			size_t nc, j;

			nc = candidates(ws.w[k], cand, 8);

			for (j = 0; j < nc; j++) {
				char *line = words_join(&ws, k, cand[j]);
				char *text = lines_join(l, SIZE_MAX, 0, i, line);

				if (still_differs(sh, text)) {
					free(ws.w[k]);
					ws.w[k] = xstrdup(cand[j]);
					free(l->v[i]);
					l->v[i] = line;
					any = true;
					free(text);
					/* Again from the simplest candidate of the new word. */
					nc = candidates(ws.w[k], cand, 8);
					j = (size_t)-1;
					continue;
				}
				free(line);
				free(text);
			}
		}
		words_free(&ws);
	}
	return any;
}

/* ---------------------------------------------------------------- saving */

static int mkdirs(const char *path)
{
	char buf[4096];
	size_t i, n = strlen(path);

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] == '/' || buf[i] == '\0') {
			char c = buf[i];

			buf[i] = '\0';
			if (mkdir(buf, 0777) && errno != EEXIST)
				return -1;
			buf[i] = c;
		}
	}
	return 0;
}

static void count_class(struct fz *f, char *key, uint64_t seed)
{
	size_t i;

	for (i = 0; i < f->ncls; i++) {
		if (!strcmp(f->cls[i].key, key)) {
			f->cls[i].count++;
			free(key);
			return;
		}
	}
	f->cls = xrealloc(f->cls, (f->ncls + 1) * sizeof(*f->cls));
	f->cls[f->ncls++] = (struct dclass){key, 1, seed};
}

/* The unified diff of two transcripts, as text. */
static char *diff_text(const struct tr *sim, const struct tr *ker)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		return xstrdup("");
	unified_diff(m, "sim", sim->v, sim->n, "kernel", ker->v, ker->n);
	fclose(m);
	return buf ? buf : xstrdup("");
}

struct opts {
	unsigned avoid;
	const char *avoid_arg;
	uint64_t seed;
	uint64_t count;
	unsigned max_ops;
	const char *out;
	double seconds;
	bool print;
	uint64_t shrink_runs;	 /* runs one shrink may take */
	unsigned shrink_seconds; /* and seconds */
	unsigned max_saved;	 /* differences shrunk and saved; later ones are only counted */
};

/*
 * Shrinks the differing scenario of seed and saves it. Prints what was
 * found. Returns 0, or -1 when it could not be saved.
 */
static int found(struct fz *f, const struct opts *o, uint64_t seed, const char *text,
		 const char *tag, const char *key, bool flaky)
{
	struct shrink sh = {.f = f, .key = key, .avoid = o->avoid, .budget = o->shrink_runs};
	struct lines l;
	struct tr sim, ker;
	char *min, *diff, path[4200];
	size_t orig, d;
	struct sbuf out;
	FILE *fp;
	const char *s;
	int round;

	lines_split(&l, text);
	orig = l.n;
	sh.deadline = time(NULL) + (time_t)o->shrink_seconds;
	if (!flaky) {
		for (round = 0; round < 4; round++) {
			bool a = shrink_lines(&sh, &l);
			bool b = shrink_words(&sh, &l);

			if (!a && !b)
				break;
		}
	}
	min = lines_join(&l, SIZE_MAX, 0, SIZE_MAX, NULL);
	if (try_text(f, min, NULL, &sim, &ker) != DIFFERS && !flaky) {
		/* Cannot happen but with a flaky difference: keep the generated scenario. */
		tr_free(&sim);
		tr_free(&ker);
		lines_free(&l);
		lines_split(&l, text);
		free(min);
		min = lines_join(&l, SIZE_MAX, 0, SIZE_MAX, NULL);
		try_text(f, min, NULL, &sim, &ker);
		flaky = true;
	}
	diff = diff_text(&sim, &ker);
	count_class(f, xstrdup(key), seed);
	tr_free(&sim);
	tr_free(&ker);

	sb_init(&out);
	sb_printf(&out,
		  "# Found by usermm fuzz: seed %" PRIu64 " (usermm fuzz --seed %" PRIu64
		  " --count 1 --max-ops %u%s%s).\n"
		  "# The generated scenario had %zu lines; minimized to %zu%s.\n"
		  "# The sim and kernel transcripts differ at `%s` (usermm diff; - sim, + kernel):\n",
		  seed, seed, o->max_ops, o->avoid_arg ? " --avoid " : "",
		  o->avoid_arg ? o->avoid_arg : "", orig, l.n,
		  flaky ? " (not minimized: the difference did not reproduce on a second run)" : "",
		  tag);
	for (s = diff; *s;) {
		size_t n = strcspn(s, "\n");

		sb_printf(&out, "#   %.*s\n", (int)n, s);
		s += n;
		if (*s)
			s++;
	}
	sb_puts(&out, min);

	if (mkdirs(o->out)) {
		fprintf(stderr, "usermm fuzz: cannot make %s: %s\n", o->out, strerror(errno));
		fputs(sb_str(&out), stdout);
		sb_free(&out);
		free(min);
		free(diff);
		lines_free(&l);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/seed-%" PRIu64 ".ums", o->out, seed);
	fp = fopen(path, "w");
	if (!fp || fputs(sb_str(&out), fp) < 0 || fclose(fp)) {
		fprintf(stderr, "usermm fuzz: %s: %s\n", path, strerror(errno));
		fputs(sb_str(&out), stdout);
	} else {
		printf("seed %" PRIu64 ": sim and kernel differ at `%s`%s; %zu lines minimized to "
		       "%zu: %s\n",
		       seed, tag, flaky ? " (once: not reproduced)" : "", orig, l.n, path);
		for (s = diff, d = 0; *s && d < 12; d++) {
			size_t n = strcspn(s, "\n");

			printf("    %.*s\n", (int)n, s);
			s += n;
			if (*s)
				s++;
		}
	}
	fflush(stdout);
	sb_free(&out);
	free(min);
	free(diff);
	lines_free(&l);
	return 0;
}

/* --------------------------------------------------------------- command */

void usage_fuzz(FILE *out)
{
	fprintf(out,
		"usage: usermm fuzz --seed S --count N [--max-ops K] [--out DIR] [--seconds T]\n"
		"       usermm fuzz --seed S --print [--max-ops K]\n"
		"\n"
		"Writes N random scenarios, with seeds S, S+1 ... S+N-1, runs each on the sim\n"
		"and the kernel back ends, and compares their transcripts as `usermm diff`\n"
		"does. A scenario whose transcripts differ is shrunk to a minimal one that\n"
		"still differs (lines deleted, then numbers simplified) and saved as\n"
		"DIR/seed-S.ums, with the seed, its original size and the diff in its header\n"
		"(the first 20 differences of a run: --max-saved; later ones are listed by\n"
		"seed only). A read or write whose buffer maps the bytes it moves leaves\n"
		"what the host CPU makes of the overlap: transcripts are compared only up\n"
		"to the first such call (counted before the last line).\n"
		"The same seed always gives the same scenario. Ends with the line\n"
		"`N scenarios, M differences`; a progress bar is shown on a terminal.\n"
		"\n"
		"  --seed S        the first seed (default 1)\n"
		"  --count N       how many scenarios (default 100; 0 with --seconds: no limit)\n"
		"  --max-ops K     at most K operations per scenario (default %d)\n"
		"  --out DIR       where minimized scenarios go (default %s)\n"
		"  --seconds T     stop after T seconds, even before N scenarios\n"
		"  --max-saved M   shrink and save at most M differences (default 20)\n"
		"  --print         print scenario S and stop (runs nothing)\n"
		"  --avoid LIST    stay away from these known differences (comma-separated,\n"
		"                  all, or none), so that a run finds the others:\n",
		DEFAULT_MAX_OPS, DEFAULT_OUT);
	{
		size_t k;

		for (k = 0; k < nknown(); k++)
			fprintf(out, "      %-12s %s\n", known[k].name, known[k].what);
		if (!nknown())
			fprintf(out, "      (none is open now)\n");
	}
	fprintf(out, "\n"
		     "Exit status: 0 no difference, 1 a difference (or a back end that could not\n"
		     "start), 2 bad arguments.\n");
}

/* NAME,NAME...: the known differences to stay away from ("none": none, "all": all). */
static int parse_avoid(const char *s, unsigned *out)
{
	*out = 0;
	while (*s) {
		size_t n = strcspn(s, ","), k;

		if (n == 3 && !strncmp(s, "all", 3)) {
			for (k = 0; k < nknown(); k++)
				*out |= known[k].bit;
		} else if (!(n == 4 && !strncmp(s, "none", 4)) && n) {
			for (k = 0; k < nknown(); k++)
				if (strlen(known[k].name) == n && !strncmp(s, known[k].name, n))
					break;
			if (k == nknown()) {
				fprintf(stderr, "usermm fuzz: --avoid: unknown difference %.*s\n", (int)n,
					s);
				return -1;
			}
			*out |= known[k].bit;
		}
		s += n;
		if (*s)
			s++;
	}
	return 0;
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return !errno && !*end;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress(const struct opts *o, uint64_t done, uint64_t diffs, double t0, bool final)
{
	double el = now() - t0, frac;
	char bar[31];
	int i, fill;

	if (o->count && (!o->seconds || (double)done / (double)o->count > el / o->seconds))
		frac = (double)done / (double)o->count;
	else
		frac = o->seconds > 0 ? el / o->seconds : 0;
	if (frac > 1)
		frac = 1;
	fill = (int)(frac * 30);
	for (i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = '\0';
	printf("\r\033[K[%s] %3d%%  %" PRIu64 " scenarios, %" PRIu64 " differences  %.0fs%s", bar,
	       (int)(frac * 100), done, diffs, el, final ? "\n" : "");
	fflush(stdout);
}

/* The seed being run, for the crash report: the library runs in this process. */
static volatile uint64_t crash_seed;

/* A crash (of the library, most likely) names its seed before the process dies of it. */
static void on_crash(int sig)
{
	char buf[80], num[24];
	static const char head[] = "usermm fuzz: crashed running the scenario of seed ";
	uint64_t v = crash_seed;
	size_t n = 0, k = 0;

	do
		num[k++] = (char)('0' + v % 10);
	while ((v /= 10) && k < sizeof(num));
	memcpy(buf, head, sizeof(head) - 1);
	n = sizeof(head) - 1;
	while (k && n < sizeof(buf) - 2)
		buf[n++] = num[--k];
	buf[n++] = '\n';
	if (write(STDERR_FILENO, buf, n) < 0)
		n = 0;
	signal(sig, SIG_DFL);
	raise(sig);
}

int cmd_fuzz(int argc, char **argv)
{
	struct opts o = {.seed = 1,
			 .count = 100,
			 .max_ops = DEFAULT_MAX_OPS,
			 .out = DEFAULT_OUT,
			 .shrink_runs = 3000,
			 .shrink_seconds = 60,
			 .max_saved = 20};
	struct fz f = {.errs = stderr};
	uint64_t done = 0, diffs = 0, errors = 0, cuts = 0, v;
	bool tty = isatty(STDOUT_FILENO), count_given = false;
	double t0;
	int i;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage_fuzz(stdout);
			return 0;
		} else if (!strcmp(a, "--print")) {
			o.print = true;
			continue;
		} else if (!strcmp(a, "--seed") && parse_u64(val, &v)) {
			o.seed = v;
		} else if (!strcmp(a, "--count") && parse_u64(val, &v)) {
			o.count = v;
			count_given = true;
		} else if (!strcmp(a, "--max-ops") && parse_u64(val, &v) && v > 0 && v <= 100000) {
			o.max_ops = (unsigned)v;
		} else if (!strcmp(a, "--out") && val && *val) {
			o.out = val;
		} else if (!strcmp(a, "--max-saved") && parse_u64(val, &v) && v <= 1000000) {
			o.max_saved = (unsigned)v;
		} else if (!strcmp(a, "--seconds") && parse_u64(val, &v)) {
			o.seconds = (double)v;
		} else if (!strcmp(a, "--avoid") && val && parse_avoid(val, &o.avoid) == 0) {
			o.avoid_arg = o.avoid ? val : NULL;
		} else {
			fprintf(stderr, "usermm fuzz: bad argument %s%s%s\n", a, val ? " " : "",
				val ? val : "");
			usage_fuzz(stderr);
			return 2;
		}
		i++;
	}
	if (o.print) {
		char *text = generate(o.seed, o.max_ops, o.avoid);

		fputs(text, stdout);
		free(text);
		return 0;
	}
	if (o.seconds > 0 && !count_given)
		o.count = 0;
	if (!o.count && !(o.seconds > 0)) {
		fprintf(stderr, "usermm fuzz: --count 0 needs --seconds\n");
		return 2;
	}
	if (geteuid() != 0)
		fprintf(stderr, "usermm fuzz: not root: the kernel back end cannot read frame "
				"numbers, so pagemap lines will differ\n");

	signal(SIGSEGV, on_crash);
	signal(SIGBUS, on_crash);
	signal(SIGABRT, on_crash);
	t0 = now();
	for (v = o.seed;; v++) {
		char *text, *tag = NULL;
		enum outcome out;

		if (o.count && done >= o.count)
			break;
		if (o.seconds > 0 && now() - t0 >= o.seconds)
			break;
		if (tty && done % 4 == 0)
			progress(&o, done, diffs, t0, false);
		crash_seed = v;
		text = generate(v, o.max_ops, o.avoid);
		struct tr sim, ker;
		char *key = NULL;

		out = try_text(&f, text, &tag, &sim, &ker);
		if (out == DIFFERS)
			key = class_key(tag, &sim, &ker);
		cuts += f.cut;
		tr_free(&sim);
		tr_free(&ker);
		done++;
		if (out == BAD_SCRIPT) {
			/* A generator bug: every scenario it writes must parse. */
			struct script *s;
			struct diag d;

			if (tty)
				printf("\r\033[K");
			if (script_parse("fuzz", text, strlen(text), &s, &d) == 0) {
				script_free(s);
			} else {
				fprintf(stderr, "usermm fuzz: seed %" PRIu64 ": generated a bad script:\n",
					v);
				diag_print(stderr, &d);
				diag_free(&d);
			}
			errors++;
		} else if (out == BE_ERROR) {
			if (tty)
				printf("\r\033[K");
			fprintf(stderr, "usermm fuzz: seed %" PRIu64 ": a back end could not start\n",
				v);
			errors++;
		} else if (out == DIFFERS) {
			char *tag2 = NULL, *key2 = NULL;
			bool flaky = true;

			diffs++;
			if (tty)
				printf("\r\033[K");
			/* Run it again: a difference that does not come back is reported as such. */
			if (try_text(&f, text, &tag2, &sim, &ker) == DIFFERS && tag2) {
				key2 = class_key(tag2, &sim, &ker);
				flaky = strcmp(key, key2) != 0;
			}
			tr_free(&sim);
			tr_free(&ker);
			free(tag2);
			free(key2);
			if (diffs > o.max_saved) {
				/* Something broke everywhere: count, do not spend minutes on each. */
				printf("seed %" PRIu64 ": sim and kernel differ at `%s` (not shrunk: more "
				       "than %u differences in this run)\n",
				       v, tag, o.max_saved);
				count_class(&f, xstrdup(key), v);
			} else if (found(&f, &o, v, text, tag, key, flaky)) {
				errors++;
			}
		}
		free(key);
		free(tag);
		free(text);
	}
	if (tty)
		progress(&o, done, diffs, t0, true);
	if (f.ncls) {
		size_t k;

		printf("differences by kind (first differing lines, normalized):\n");
		for (k = 0; k < f.ncls; k++) {
			printf("  %4" PRIu64 " x  %s  (first: seed %" PRIu64 ")\n", f.cls[k].count,
			       f.cls[k].key, f.cls[k].first_seed);
			free(f.cls[k].key);
		}
		free(f.cls);
	}
	if (cuts)
		printf("%" PRIu64 " compared only up to a read or write onto its own source "
		       "(what it leaves is the host CPU's)\n",
		       cuts);
	printf("%" PRIu64 " scenarios, %" PRIu64 " differences\n", done, diffs);
	if (errors)
		fprintf(stderr, "usermm fuzz: %" PRIu64 " errors (bad scripts or back ends)\n",
			errors);
	return diffs || errors ? 1 : 0;
}
