/*
 * A randomized integrity test of reclaim and swap: up to four processes
 * (made by fork) write known patterns to anonymous, private file, shared
 * file and shared anonymous (shmem) mappings that together are more than
 * eight times the machine's memory (4 MiB), with munmap, mremap, msync, exits and swapoff and
 * swapon in between. Every page is checked against a model as it goes and
 * at the end; the shared file's bytes on the host after um_system_free;
 * and once every process has exited no frame but the page cache's and no
 * swap slot is left. um_check runs every few steps.
 */
#include "frame.h"
#include "host.h"
#include "swap.h"
#include "system.h"

#include "harness.h"

#define MIB (1ULL << 20)
#define WORDS (PG / 8)
#define MAX_PROCS 4
#define ANON_PAGES 2048		/* 8 MiB per process */
#define PF_PAGES 512		/* the private file mapping: 2 MiB */
#define SF_PAGES 1024		/* the shared file: 4 MiB */
#define SHM_PAGES 1024		/* 4 MiB */
#define STEPS 20000

enum kind { K_ANON, K_PRIV_FILE, K_SHARED_FILE, K_SHMEM, NR_KINDS };

/* A mapping of a process and what each page holds: a version (0: the original). */
struct region {
	uint64_t addr, npages;
	uint32_t *ver;		/* private kinds: the process's own; shared: the object's */
};

struct model_proc {
	struct um_proc *p;
	struct region r[NR_KINDS];
};

struct model {
	struct env *e;
	struct model_proc procs[MAX_PROCS];
	int n;
	uint32_t sf_ver[SF_PAGES], shm_ver[SHM_PAGES];
	uint32_t next_ver;
	uint64_t rng;
	int swap_gen;		/* the swap file's name: "swap<gen>" */
};

static uint64_t rnd(struct model *m, uint64_t n)
{
	m->rng ^= m->rng << 13;
	m->rng ^= m->rng >> 7;
	m->rng ^= m->rng << 17;
	return m->rng % n;
}

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* What page index of a kind holds at version ver (0: the original: zero or the file's). */
static void page_content(enum kind k, uint64_t index, uint32_t ver, uint64_t *w)
{
	for (uint64_t i = 0; i < WORDS; i++) {
		if (ver)
			w[i] = mix(((uint64_t)ver << 20) ^ i);
		else if (k == K_ANON || k == K_SHMEM)
			w[i] = 0;
		else
			w[i] = mix(((uint64_t)k << 40) ^ (index << 12) ^ i);
	}
}

static void put_file(struct env *e, const char *name, enum kind k, uint64_t npages)
{
	uint64_t *buf = malloc(npages * PG);

	for (uint64_t i = 0; i < npages; i++)
		page_content(k, i, 0, buf + i * WORDS);
	host_put(e, name, buf, npages * PG);
	free(buf);
}

static void check_page(struct model *m, struct model_proc *mp, enum kind k, uint64_t i, int line)
{
	uint64_t want[WORDS], got[WORDS];
	struct region *r = &mp->r[k];
	struct um_siginfo si = { 0, 0, 0 };
	int rc;

	(void)m;
	page_content(k, i, r->ver[i], want);
	rc = um_copy_from(mp->p, got, r->addr + i * PG, PG, &si);
	if (rc)
		fail_msg("line %d: pid %d kind %d page %llu: copy_from = %d (signal %d)", line,
			 um_getpid(mp->p), k, (unsigned long long)i, rc, si.signo);
	if (memcmp(got, want, PG))
		fail_msg("line %d: pid %d kind %d page %llu (version %u): wrong data", line,
			 um_getpid(mp->p), k, (unsigned long long)i, r->ver[i]);
}

static void write_page(struct model *m, struct model_proc *mp, enum kind k, uint64_t i)
{
	uint64_t w[WORDS];
	struct um_siginfo si = { 0, 0, 0 };
	uint32_t ver = ++m->next_ver;

	page_content(k, i, ver, w);
	assert_ret(um_copy_to(mp->p, mp->r[k].addr + i * PG, w, PG, &si), 0);
	mp->r[k].ver[i] = ver;
}

static void check_all(struct model *m, int line)
{
	for (int j = 0; j < m->n; j++)
		for (int k = 0; k < NR_KINDS; k++)
			for (uint64_t i = 0; i < m->procs[j].r[k].npages; i++)
				check_page(m, &m->procs[j], (enum kind)k, i, line);
}

static uint32_t *ver_copy(const uint32_t *v, uint64_t n)
{
	uint32_t *c = calloc(n ? n : 1, sizeof(*c));

	memcpy(c, v, n * sizeof(*c));
	return c;
}

static void first_proc(struct model *m)
{
	struct env *e = m->e;
	struct model_proc *mp = &m->procs[0];
	int pf = um_open(e->p, "pf", UM_O_RDWR, 0), sf = um_open(e->p, "sf", UM_O_RDWR, 0);

	assert_true(pf >= 0 && sf >= 0);
	mp->p = e->p;
	mp->r[K_ANON] = (struct region){ MAP(e->p, ANON_PAGES * PG, RW, AP, -1, 0), ANON_PAGES,
					 calloc(ANON_PAGES, sizeof(uint32_t)) };
	mp->r[K_PRIV_FILE] = (struct region){ MAP(e->p, PF_PAGES * PG, RW, UM_MAP_PRIVATE, pf, 0),
					      PF_PAGES, calloc(PF_PAGES, sizeof(uint32_t)) };
	mp->r[K_SHARED_FILE] = (struct region){ MAP(e->p, SF_PAGES * PG, RW, UM_MAP_SHARED, sf, 0),
						SF_PAGES, m->sf_ver };
	mp->r[K_SHMEM] = (struct region){ MAP(e->p, SHM_PAGES * PG, RW, AS, -1, 0), SHM_PAGES,
					  m->shm_ver };
	m->n = 1;
}

static void do_fork(struct model *m)
{
	struct model_proc *parent = &m->procs[rnd(m, m->n)], *child = &m->procs[m->n];

	child->p = FORK(parent->p);
	for (int k = 0; k < NR_KINDS; k++) {
		child->r[k] = parent->r[k];
		if (k == K_ANON || k == K_PRIV_FILE)
			child->r[k].ver = ver_copy(parent->r[k].ver, parent->r[k].npages);
	}
	m->n++;
}

static void free_private(struct model_proc *mp)
{
	free(mp->r[K_ANON].ver);
	free(mp->r[K_PRIV_FILE].ver);
}

static void do_exit(struct model *m)
{
	int j = (int)rnd(m, m->n);

	um_exit(m->procs[j].p);
	free_private(&m->procs[j]);
	m->procs[j] = m->procs[--m->n];
	/* e->p must stay a live process for the harness. */
	m->e->p = m->procs[0].p;
}

/* munmap of the anonymous region's last quarter. */
static void do_munmap(struct model *m)
{
	struct model_proc *mp = &m->procs[rnd(m, m->n)];
	struct region *r = &mp->r[K_ANON];
	uint64_t cut = r->npages / 4;

	if (!cut)
		return;
	assert_ret(um_munmap(mp->p, r->addr + (r->npages - cut) * PG, cut * PG), 0);
	r->npages -= cut;
}

/* mremap of the anonymous region elsewhere, grown by some zero pages. */
static void do_mremap(struct model *m)
{
	struct model_proc *mp = &m->procs[rnd(m, m->n)];
	struct region *r = &mp->r[K_ANON];
	uint64_t grow = rnd(m, 64), n = r->npages + grow;
	int64_t to;

	if (!r->npages || n > ANON_PAGES)
		return;
	to = um_mremap(mp->p, r->addr, r->npages * PG, n * PG, UM_MREMAP_MAYMOVE, 0);
	assert_true(to > 0);
	r->ver = realloc(r->ver, n * sizeof(uint32_t));
	memset(r->ver + r->npages, 0, grow * sizeof(uint32_t));
	r->addr = (uint64_t)to;
	r->npages = n;
}

/* swapoff, and a new swap file on success (ENOMEM: the old one stays). */
static void do_swap_cycle(struct model *m)
{
	char name[32], next[32];
	int rc;

	snprintf(name, sizeof name, "swap%d", m->swap_gen);
	rc = um_swapoff(m->e->sys, name);
	assert_true(rc == 0 || rc == -ENOMEM);
	if (rc)
		return;
	snprintf(next, sizeof next, "swap%d", ++m->swap_gen);
	assert_ret(um_swapon(m->e->sys, next, 96 * MIB), 0);
}

static void random_step(struct model *m, int step)
{
	uint64_t op = rnd(m, 1000);
	struct model_proc *mp = &m->procs[rnd(m, m->n)];
	enum kind k = (enum kind)rnd(m, NR_KINDS);

	if (op < 600) {
		if (mp->r[k].npages)
			write_page(m, mp, k, rnd(m, mp->r[k].npages));
	} else if (op < 940) {
		if (mp->r[k].npages)
			check_page(m, mp, k, rnd(m, mp->r[k].npages), __LINE__);
	} else if (op < 950) {
		if (m->n < MAX_PROCS)
			do_fork(m);
	} else if (op < 956) {
		if (m->n > 1)
			do_exit(m);
	} else if (op < 966) {
		do_munmap(m);
	} else if (op < 980) {
		do_mremap(m);
	} else if (op < 995) {
		assert_ret(um_msync(mp->p, mp->r[K_SHARED_FILE].addr, SF_PAGES * PG, UM_MS_SYNC), 0);
	} else if (step > STEPS / 4) {
		do_swap_cycle(m);
	}
}

static void random_workload_keeps_every_byte(void **state)
{
	struct env *e = *state;
	struct model *m = calloc(1, sizeof(*m));
	struct um_config cfg;
	uint64_t *buf = malloc(SF_PAGES * PG);

	snprintf(e->top, sizeof e->top, "/tmp/usermm-swapint-XXXXXX");
	assert_non_null(mkdtemp(e->top));
	base_config(&cfg);
	cfg.sandbox_dir = e->top;
	cfg.phys_bytes = 4 * MIB;
	env_boot(e, &cfg);
	put_file(e, "pf", K_PRIV_FILE, PF_PAGES);
	put_file(e, "sf", K_SHARED_FILE, SF_PAGES);
	assert_ret(um_swapon(e->sys, "swap0", 96 * MIB), 0);
	m->e = e;
	/* UM_SWAPINT_SEED runs another workload (a soak: loop over seeds). */
	m->rng = getenv("UM_SWAPINT_SEED") ? mix(strtoull(getenv("UM_SWAPINT_SEED"), NULL, 0))
					   : 0x2545f4914f6cdd1dULL;
	first_proc(m);
	/* Every private page written once: 8 times the machine. */
	for (int j = 0; j < 2; j++)
		do_fork(m);
	for (int j = 0; j < m->n; j++)
		for (uint64_t i = 0; i < ANON_PAGES; i++)
			write_page(m, &m->procs[j], K_ANON, i);
	CHECK(e);
	for (int step = 0; step < STEPS; step++) {
		random_step(m, step);
		if (step % 500 == 0)
			CHECK(e);
	}
	check_all(m, __LINE__);
	CHECK(e);
	struct um_sys_stats mid = sys_stats(e->sys);
	/* The workload did swap: pages went out and came back. */
	assert_true(mid.pswpout > 2 * ANON_PAGES);
	assert_true(mid.pswpin > ANON_PAGES);
	/*
	 * One process left with little memory mapped: swapoff must bring its
	 * pages back; then a fresh swap file, filled again.
	 */
	while (m->n > 1)
		do_exit(m);
	struct model_proc *last = &m->procs[0];
	struct region *pf = &last->r[K_PRIV_FILE], *an = &last->r[K_ANON];
	assert_ret(um_munmap(last->p, pf->addr, pf->npages * PG), 0);
	pf->npages = 0;
	if (an->npages > 256) {
		assert_ret(um_munmap(last->p, an->addr + 256 * PG, (an->npages - 256) * PG), 0);
		an->npages = 256;
	}
	/* MADV_REMOVE punches most of the shmem object: what was on swap there goes. */
	struct region *shm = &last->r[K_SHMEM];
	assert_ret(um_madvise(last->p, shm->addr + 256 * PG, (SHM_PAGES - 256) * PG,
			      UM_MADV_REMOVE),
		   0);
	memset(shm->ver + 256, 0, (SHM_PAGES - 256) * sizeof(uint32_t));
	shm->npages = 256; /* reading the hole would fill memory with zero pages again */
	CHECK(e);
	char swapname[32];
	snprintf(swapname, sizeof swapname, "swap%d", m->swap_gen);
	assert_ret(um_swapoff(e->sys, swapname), 0);
	assert_int_equal(sys_stats(e->sys).swap_total, 0);
	check_all(m, __LINE__);
	CHECK(e);
	assert_ret(um_swapon(e->sys, "swap-last", 16 * MIB), 0);
	uint64_t out = sys_stats(e->sys).pswpout;
	for (uint64_t i = 0; i < an->npages; i++)
		write_page(m, last, K_ANON, i);
	for (uint64_t i = 0; i < SF_PAGES; i++)
		write_page(m, last, K_SHARED_FILE, i);
	check_all(m, __LINE__);
	CHECK(e);
	assert_true(sys_stats(e->sys).pswpout > out);
	assert_ret(um_msync(m->procs[0].p, m->procs[0].r[K_SHARED_FILE].addr, SF_PAGES * PG,
			    UM_MS_SYNC),
		   0);
	while (m->n > 1)
		do_exit(m);
	um_exit(m->procs[0].p);
	free_private(&m->procs[0]);
	e->p = NULL;
	struct um_sys_stats st = sys_stats(e->sys);
	assert_int_equal(st.frames_used, st.cached_pages);
	assert_int_equal(st.swap_free, st.swap_total);
	assert_int_equal(st.swap_cached, 0);
	CHECK(e);
	um_system_free(e->sys);
	e->sys = NULL;
	char path[128];
	/* The shared file on the host holds exactly the model's pages. */
	snprintf(path, sizeof path, "%s/sf", e->top);
	assert_ret(file_pread(path, buf, SF_PAGES * PG, 0), (long long)(SF_PAGES * PG));
	for (uint64_t i = 0; i < SF_PAGES; i++) {
		uint64_t want[WORDS];

		page_content(K_SHARED_FILE, i, m->sf_ver[i], want);
		if (memcmp(buf + i * WORDS, want, PG))
			fail_msg("shared file page %llu (version %u) wrong on the host",
				 (unsigned long long)i, m->sf_ver[i]);
	}
	snprintf(path, sizeof path, "%s/pf", e->top);
	assert_ret(file_pread(path, buf, PF_PAGES * PG, 0), (long long)(PF_PAGES * PG));
	for (uint64_t i = 0; i < PF_PAGES; i++) {
		uint64_t want[WORDS];

		page_content(K_PRIV_FILE, i, 0, want);
		if (memcmp(buf + i * WORDS, want, PG))
			fail_msg("private file page %llu changed on the host", (unsigned long long)i);
	}
	free(buf);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(random_workload_keeps_every_byte, env_setup,
						env_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
