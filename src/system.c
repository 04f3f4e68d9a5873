/*
 * system.c: the machine (um_system): configuration, creation, teardown,
 * statistics and the whole-system checker um_check().
 *
 * Invariants checked by um_check, beyond each structure's own checker:
 *   1. A frame's mapcount equals the number of PTEs, in all mms, that map it.
 *   2. A frame's refcount equals its mapcount plus one per page cache that
 *      holds it; frames with neither are on the free list.
 *   3. Every anonymous frame's PTEs are exactly those its reverse map
 *      finds (rmap.c), and every VMA with an anon_vma is on its family's list.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cred.h"
#include "frame.h"
#include "fs.h"
#include "host.h"
#include "lru.h"
#include "mm.h"
#include "pagecache.h"
#include "pgtable.h"
#include "system.h"
#include "vma.h"
#include "vmscan.h"

#define DEFAULT_PHYS (1ULL << 30)

void um_config_init(struct um_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->phys_bytes = DEFAULT_PHYS;
	cfg->page_size = 4096;
	cfg->max_map_count = 65530;
	cfg->overcommit_memory = UM_OVERCOMMIT_GUESS;
	cfg->overcommit_ratio = 50;
	cfg->mmap_min_addr = 65536;
	cfg->mmap_base = 0;
	cfg->rlimit_memlock = 8ULL << 20;
	cfg->brk_start = 0x555555559000ULL;
	cfg->privileged = 0;
	cfg->sandbox_dir = NULL;
	cfg->dirty_expire_centisecs = 3000;
	cfg->dirty_writeback_centisecs = 500;
	cfg->dirty_background_ratio = 10;
	cfg->dirty_ratio = 20;
}

/* What um_system_new made before the swap state: freed, as um_system_free would. */
static void um_system_free_early(struct um_system *sys)
{
	inode_put(sys, sys->zero);
	host_sandbox_close(sys);
	wb_destroy(sys);
	lruvec_destroy(&sys->lru);
	frame_pool_destroy(&sys->fp);
	pthread_mutex_destroy(&sys->inode_lock);
	pthread_mutex_destroy(&sys->lock);
	pthread_mutex_destroy(&sys->hugetlb_mutex);
	pthread_rwlock_destroy(&sys->anon_free_lock);
	um_free(NULL, sys);
}

int um_system_new(const struct um_config *cfg, struct um_system **out)
{
	struct um_system *sys;
	uint32_t shift = 0;
	int err;

	if (!cfg || !out)
		return -EINVAL;
	if (cfg->page_size < 4096 || cfg->page_size > 65536 ||
	    (cfg->page_size & (cfg->page_size - 1)))
		return -EINVAL;
	if (cfg->overcommit_memory < 0 || cfg->overcommit_memory > 2 || cfg->max_map_count == 0)
		return -EINVAL;
	/* The sysctls' ranges: ratios 0..100; times up to a day, so the clock never wraps. */
	if (cfg->dirty_ratio > 100 || cfg->dirty_background_ratio > 100 ||
	    cfg->dirty_expire_centisecs > 8640000 || cfg->dirty_writeback_centisecs > 8640000)
		return -EINVAL;
	while ((1u << shift) < cfg->page_size)
		shift++;
	/* No system yet to count against: the injector is armed only later. */
	sys = um_calloc(NULL, 1, sizeof(*sys));
	if (!sys)
		return -ENOMEM;
	sys->cfg = *cfg;
	sys->cfg.sandbox_dir = NULL; /* not kept: the caller owns the string */
	sys->geom.shift = shift;
	sys->geom.size = cfg->page_size;
	sys->geom.mask = cfg->page_size - 1;
	sys->task_size = USER_VA_END - cfg->page_size;
	if (sys->cfg.mmap_base == 0)
		sys->cfg.mmap_base = sys->task_size - STACK_GAP_MIN;
	sys->cfg.mmap_base = page_align_down(&sys->geom, sys->cfg.mmap_base);
	sys->cfg.brk_start = page_align(&sys->geom, sys->cfg.brk_start);
	if (sys->cfg.mmap_base > sys->task_size || sys->cfg.mmap_base < sys->cfg.mmap_min_addr ||
	    sys->cfg.brk_start < sys->cfg.mmap_min_addr || sys->cfg.brk_start >= sys->task_size) {
		um_free(NULL, sys);
		return -EINVAL;
	}
	err = frame_pool_init(&sys->fp, cfg->phys_bytes, &sys->geom,
			      (const uint32_t[2]){cfg->nr_hugepages, cfg->nr_hugepages_pud});
	if (err) {
		um_free(NULL, sys);
		return err;
	}
	lruvec_init(&sys->lru);
	sys->fp.lru = &sys->lru;
	vmscan_init(sys);
	wb_init(sys);
	sys->sandbox_fd = -1;
	err = host_sandbox_open(sys, cfg->sandbox_dir);
	if (!err) {
		sys->zero = zero_inode_new(sys);
		if (!sys->zero)
			err = -ENOMEM;
	}
	if (err) {
		host_sandbox_close(sys);
		wb_destroy(sys);
		lruvec_destroy(&sys->lru);
		frame_pool_destroy(&sys->fp);
		um_free(NULL, sys);
		return err;
	}
	pthread_mutex_init(&sys->inode_lock, NULL);
	pthread_mutex_init(&sys->lock, NULL);
	pthread_mutex_init(&sys->hugetlb_mutex, NULL);
	pthread_rwlock_init(&sys->anon_free_lock, NULL);
	sys->next_pid = 1;
	atomic_init(&sys->next_id, 1);
	err = swap_init(sys);
	if (err) {
		um_system_free_early(sys);
		return err;
	}
	sys->swap.shmem_unuse = pagecache_shmem_unuse;
	if (cfg->swap_bytes) {
		err = um_swapon(sys, SWAPFILE_NAME, cfg->swap_bytes);
		if (err < 0) {
			um_system_free(sys);
			return err;
		}
	}
	*out = sys;
	return 0;
}

void um_system_free(struct um_system *sys)
{
	if (!sys)
		return;
	while (sys->procs)
		um_exit(sys->procs);
	/* An orderly shutdown loses nothing: every dirty page is written back. */
	inode_table_release(sys);
	swap_destroy(sys);
	um_system_free_early(sys);
}

void um_set_event_handler(struct um_system *sys, void (*fn)(void *arg, const struct um_event *ev),
			  void *arg)
{
	sys->event_fn = fn;
	sys->event_arg = arg;
}

uint32_t um_page_size(const struct um_system *sys)
{
	return (uint32_t)sys->geom.size;
}

int um_advance_clock(struct um_system *sys, uint64_t ms)
{
	uint64_t now = atomic_load(&sys->jiffies);

	if (ms > (UINT64_C(1) << 63) - now)
		return -EINVAL;
	wb_advance_clock(sys, now + ms);
	return 0;
}

uint64_t um_clock(struct um_system *sys)
{
	return atomic_load(&sys->jiffies);
}

/* Write-back's counters and the dirty limits of now (vmstat). */
static void writeback_stats(struct um_system *sys, struct um_sys_stats *st)
{
	struct dirty_limits dl;

	global_dirty_limits(sys, &dl);
	st->dirty_threshold = dl.thresh;
	st->dirty_background_threshold = dl.bg_thresh;
	st->writeback_pages = 0; /* synchronous: nothing in flight between calls */
	st->nr_dirtied = atomic_load(&sys->wb.nr_dirtied);
	st->nr_written = atomic_load(&sys->wb.nr_written);
	st->written_periodic = atomic_load(&sys->wb.written[WB_REASON_PERIODIC]);
	st->written_background = atomic_load(&sys->wb.written[WB_REASON_BACKGROUND]);
	st->written_throttle = atomic_load(&sys->wb.written[WB_REASON_THROTTLE]);
	st->dirty_throttled = atomic_load(&sys->wb.dirty_throttled);
	st->clock_ms = atomic_load(&sys->jiffies);
}

static void count_dirty(uint32_t pfn, void *arg)
{
	struct um_system *sys = ((void **)arg)[0];
	uint64_t *dirty = ((void **)arg)[1];

	*dirty += (atomic_load(&pfn_frame(&sys->fp, pfn)->flags) & PG_DIRTY) != 0;
}

/* Cached, Dirty and the LRU lists of /proc/meminfo. */
static void page_cache_stats(struct um_system *sys, struct um_sys_stats *st)
{
	uint64_t cached = 0, dirty = 0;
	void *arg[2] = { sys, &dirty };

	pthread_mutex_lock(&sys->inode_lock);
	for (struct inode *ino = sys->inodes; ino; ino = ino->table_next) {
		if (ino->type != INODE_REG)
			continue;
		pthread_mutex_lock(&ino->lock);
		cached += ino->nr_pages;
		pthread_mutex_unlock(&ino->lock);
		pagecache_for_each(ino, count_dirty, arg);
	}
	pthread_mutex_unlock(&sys->inode_lock);
	st->cached_pages = cached;
	st->dirty_pages = dirty;
	pthread_mutex_lock(&sys->lru.lock);
	st->active_file = sys->lru.lists[LRU_ACTIVE_FILE].nr;
	st->inactive_file = sys->lru.lists[LRU_INACTIVE_FILE].nr;
	st->unevictable = sys->lru.lists[LRU_UNEVICTABLE].nr;
	st->active_anon = sys->lru.lists[LRU_ACTIVE_ANON].nr;
	st->inactive_anon = sys->lru.lists[LRU_INACTIVE_ANON].nr;
	pthread_mutex_unlock(&sys->lru.lock);
	pthread_mutex_lock(&sys->swap.lock);
	st->swap_total = sys->swap.nr_pages;
	st->swap_free = sys->swap.nr_pages - sys->swap.nr_inuse;
	st->swap_cached = sys->swap.nr_cached;
	pthread_mutex_unlock(&sys->swap.lock);
	st->pswpin = atomic_load(&sys->swap.pswpin);
	st->pswpout = atomic_load(&sys->swap.pswpout);
}

/*
 * AnonPages, Mapped and Shmem: one look at every frame ever handed out
 * (the huge page pools apart). A frame that is not free and not anonymous
 * belongs to a page cache; PG_SWAPBACKED says shmem. No lock: the flags
 * and map counts are atomic, and the answer is a snapshot.
 */
static void frame_stats(struct um_system *sys, struct um_sys_stats *st)
{
	struct frame_pool *fp = &sys->fp;
	uint64_t end = atomic_load(&fp->bump);

	if (end > fp->limit)
		end = fp->limit;
	for (uint64_t pfn = 1; pfn < end; pfn++) {
		struct frame *f = pfn_frame(fp, (uint32_t)pfn);
		uint32_t fl = atomic_load_explicit(&f->flags, memory_order_relaxed);
		bool mapped = atomic_load_explicit(&f->mapcount, memory_order_relaxed) > 0;

		if (fl & (PG_FREE | PG_RESERVED | PG_HUGETLB))
			continue;
		if (fl & PG_ANON) {
			st->anon_pages += mapped;
			continue;
		}
		st->mapped_pages += mapped;
		st->shmem_pages += (fl & PG_SWAPBACKED) != 0;
	}
}

/*
 * Mlocked: the frames some VM_LOCKED VMA maps, each once (a bitmap over
 * the frames). Takes each mm lock shared in turn, under sys->lock.
 */
static void mlocked_stats(struct um_system *sys, struct um_sys_stats *st)
{
	const struct page_geom *g = &sys->geom;
	uint8_t *seen = um_calloc(NULL, sys->fp.nframes / 8 + 1, 1);

	if (!seen)
		return;
	pthread_mutex_lock(&sys->lock);
	for (struct um_proc *p = sys->procs; p; p = p->next_proc) {
		struct mm *mm = p->mm;

		pthread_rwlock_rdlock(&mm->lock);
		for (const struct vma *v = mm->vmas.first; v; v = v->next) {
			uint64_t va = v->vm_start, span_end;

			if (!(v->vm_flags & VM_LOCKED))
				continue;
			while (va < v->vm_end) {
				_Atomic pte_t *ptep = pgtable_span(&mm->pt, va, v->vm_end, &span_end, false);

				for (uint64_t k = 0; ptep && k < pg_count(g, span_end - va); k++) {
					pte_t pte = atomic_load(&ptep[k]);
					uint32_t pfn = pte_pfn(pte);

					if (!(pte & PTE_PRESENT) || (pte & PTE_SPECIAL) ||
					    (seen[pfn / 8] & (1u << (pfn % 8))))
						continue;
					seen[pfn / 8] |= (uint8_t)(1u << (pfn % 8));
					st->mlocked_pages++;
				}
				va = span_end;
			}
		}
		pthread_rwlock_unlock(&mm->lock);
	}
	pthread_mutex_unlock(&sys->lock);
	um_free(NULL, seen);
}

/*
 * si_mem_available: the free pages above the reserve (the high watermark:
 * Linux's totalreserve_pages with one zone), plus the file LRU less what
 * must stay (half of it, at most the low watermark). No slab to add.
 */
static uint64_t mem_available(const struct um_system *sys, const struct um_sys_stats *st)
{
	int64_t avail = (int64_t)st->frames_free - (int64_t)sys->lru.wmark_high;
	uint64_t cache = st->active_file + st->inactive_file;

	cache -= cache / 2 < sys->lru.wmark_low ? cache / 2 : sys->lru.wmark_low;
	avail += (int64_t)cache;
	return avail < 0 ? 0 : (uint64_t)avail;
}

void um_system_stats(struct um_system *sys, struct um_sys_stats *st)
{
	memset(st, 0, sizeof(*st));
	/* The add batch's pages are listed, and those already put are freed. */
	lru_add_drain(&sys->lru, &sys->fp);
	st->frames_total = sys->fp.nframes;
	st->frames_free = atomic_load(&sys->fp.nr_free);
	st->frames_used = st->frames_total - st->frames_free - 1;
	st->pgfault = atomic_load(&sys->pgfault);
	st->pgmajfault = atomic_load(&sys->pgmajfault);
	st->cow_copies = atomic_load(&sys->cow_copies);
	st->oom_kills = atomic_load(&sys->oom_kills);
	pthread_mutex_lock(&sys->lock);
	/* Each mm's tables and its root: Linux's PageTables counts the pgd, VmPTE does not. */
	for (struct um_proc *p = sys->procs; p; p = p->next_proc)
		st->page_tables += pgtable_bytes(&p->mm->pt) + sys->geom.size;
	pthread_mutex_unlock(&sys->lock);
	st->frame_desc_bytes = sizeof(struct frame);
	st->committed_as = pg_bytes(&sys->geom, atomic_load(&sys->committed));
	st->commit_limit = pg_bytes(&sys->geom, vm_commit_limit(sys));
	pthread_mutex_lock(&sys->fp.hlock);
	st->hugepages_total = sys->fp.hs[HSTATE_PMD].nr;
	st->hugepages_free = sys->fp.hs[HSTATE_PMD].nr_free;
	st->hugepages_rsvd = (uint64_t)sys->fp.hs[HSTATE_PMD].resv;
	pthread_mutex_unlock(&sys->fp.hlock);
	st->hugepage_size = 1ULL << (2 * sys->geom.shift - 3);
	pthread_mutex_lock(&sys->lock);
	st->nr_procs = sys->nr_procs;
	pthread_mutex_unlock(&sys->lock);
	page_cache_stats(sys, st);
	for (int file = 0; file < 2; file++) {
		uint64_t k = atomic_load(&sys->pgscan[RECLAIM_KSWAPD][file]);
		uint64_t d = atomic_load(&sys->pgscan[RECLAIM_DIRECT][file]);
		uint64_t p = atomic_load(&sys->pgscan[RECLAIM_PROACTIVE][file]);
		uint64_t ks = atomic_load(&sys->pgsteal[RECLAIM_KSWAPD][file]);
		uint64_t ds = atomic_load(&sys->pgsteal[RECLAIM_DIRECT][file]);
		uint64_t ps = atomic_load(&sys->pgsteal[RECLAIM_PROACTIVE][file]);

		st->pgscan_kswapd += k;
		st->pgscan_direct += d;
		st->pgscan_proactive += p;
		st->pgsteal_kswapd += ks;
		st->pgsteal_direct += ds;
		st->pgsteal_proactive += ps;
		*(file ? &st->pgscan_file : &st->pgscan_anon) = k + d + p;
		*(file ? &st->pgsteal_file : &st->pgsteal_anon) = ks + ds + ps;
	}
	st->pageoutrun = atomic_load(&sys->pageoutrun);
	st->pgrefill = atomic_load(&sys->pgrefill);
	pthread_mutex_lock(&sys->lru.lock);
	st->pgactivate = sys->lru.pgactivate;
	st->pgdeactivate = sys->lru.pgdeactivate;
	pthread_mutex_unlock(&sys->lru.lock);
	pthread_mutex_lock(&sys->fp.hlock);
	for (int h = 0; h < 2; h++)
		st->hugetlb_bytes +=
			pg_bytes(&sys->geom, (uint64_t)sys->fp.hs[h].nr << sys->fp.hs[h].order);
	pthread_mutex_unlock(&sys->fp.hlock);
	frame_stats(sys, st);
	mlocked_stats(sys, st);
	st->mem_available = mem_available(sys, st);
	writeback_stats(sys, st);
}

struct recount {
	int32_t *map;	/* expected mapcount per frame */
	int32_t *ref;	/* expected refcount per frame */
	uint64_t committed;	/* pages charged */
	struct swap_recount swap;	/* references found per swap slot */
	struct um_system *sys;
	uint64_t bad_swap;	/* a swap PTE naming no slot in use, or 0 */
};

/* A page table's frame: one reference, no mapping. */
static void count_table(uint32_t pfn, void *arg)
{
	struct recount *rc = arg;

	rc->ref[pfn]++;
}

static void count_mapped(struct mm *mm, struct recount *rc)
{
	const struct page_geom *g = &mm->sys->geom;
	uint64_t va = 0, span_end;

	while (va < mm->sys->task_size) {
		_Atomic pte_t *ptep = pgtable_span(&mm->pt, va, mm->sys->task_size, &span_end, false);

		const uint64_t nr_ptes = pg_count(g, span_end - va);
		for (uint64_t k = 0; ptep && k < nr_ptes; k++) {
			pte_t pte = atomic_load(&ptep[k]);

			if ((pte & PTE_PRESENT) && !(pte & PTE_SPECIAL)) {
				rc->map[pte_pfn(pte)]++;
				rc->ref[pte_pfn(pte)]++;
			} else if (pte_is_swap(pte) &&
				   !swap_recount_note(mm->sys, &rc->swap, pte_to_swp_entry(pte)) &&
				   !rc->bad_swap) {
				rc->bad_swap = pte;
			}
		}
		va = span_end;
	}
	pgtable_each_table(&mm->pt, count_table, rc);
}

static void count_cached(uint32_t pfn, void *arg)
{
	struct recount *rc = arg;

	rc->ref[pfn]++;
}

/* A shmem object's cache slot holding a swap entry: one reference to the slot. */
static void count_shmem_swap(uint64_t index, uint64_t entry, void *arg)
{
	struct recount *rc = arg;

	(void)index;
	if (!swap_recount_note(rc->sys, &rc->swap, entry) && !rc->bad_swap)
		rc->bad_swap = entry;
}

struct lru_count {
	struct frame_pool *fp;
	bool file;		/* a regular file's or shmem cache: its pages belong on the LRU */
	uint64_t listed;	/* those cached frames, and the anonymous frames */
	uint32_t bad;		/* a frame on the wrong side of that, or FRAME_NONE */
};

/* Every anonymous frame (hugetlb aside) belongs on the LRU (lru.c, invariant 3). */
static void count_anon_lru(struct frame_pool *fp, struct lru_count *lc)
{
	uint64_t bump = atomic_load(&fp->bump);

	for (uint64_t pfn = 1; pfn < bump && pfn < fp->limit; pfn++) {
		uint32_t fl = atomic_load(&pfn_frame(fp, (uint32_t)pfn)->flags);

		if (!(fl & PG_ANON) || (fl & (PG_HUGETLB | PG_FREE)))
			continue;
		lc->listed++;
		if (!(fl & PG_LRU) && lc->bad == FRAME_NONE)
			lc->bad = (uint32_t)pfn;
	}
}

static void count_lru(uint32_t pfn, void *arg)
{
	struct lru_count *lc = arg;
	bool on = atomic_load(&pfn_frame(lc->fp, pfn)->flags) & PG_LRU;

	lc->listed += lc->file;
	if (on != lc->file && lc->bad == FRAME_NONE)
		lc->bad = pfn;
}

struct inode_set {
	struct inode **v;
	size_t n, cap;
};

/* Adds ino unless present; returns 1 when added, 0 when present, -ENOMEM. */
static int inode_set_add(struct inode_set *set, struct inode *ino)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i] == ino)
			return 0;
	if (set->n == set->cap) {
		size_t cap = set->cap ? 2 * set->cap : 16;
		struct inode **grown = um_realloc(NULL, set->v, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		set->v = grown;
		set->cap = cap;
	}
	set->v[set->n++] = ino;
	return 1;
}

/*
 * The LRU (lru.c, invariant 3): each list sound, every regular file's and
 * shmem object's cached frame and every anonymous frame on one of them
 * and no other frame, so the lists hold exactly those.
 */
static int lru_pages_check(struct um_system *sys, struct lru_count *lc, char *why, size_t n)
{
	uint64_t listed;
	int err = lruvec_check(&sys->lru, &sys->fp, &listed, why, n);

	if (err)
		return err;
	if (lc->bad != FRAME_NONE) {
		snprintf(why, n, "frame %u %s the LRU", lc->bad,
			 atomic_load(&pfn_frame(&sys->fp, lc->bad)->flags) & PG_LRU ? "on" : "off");
		return -EUCLEAN;
	}
	if (listed != lc->listed) {
		snprintf(why, n, "LRU lists hold %llu frames, caches and anonymous memory %llu",
			 (unsigned long long)listed, (unsigned long long)lc->listed);
		return -EUCLEAN;
	}
	return 0;
}

/*
 * Every inode once (the table's and those only VMAs reach, shmem): checks
 * its cache and counts the cache's frame references and commit charges.
 */
static int count_inodes(struct um_system *sys, struct recount *rc, char *why, size_t n)
{
	struct inode_set set = { 0 };
	int err = 0;

	pthread_mutex_lock(&sys->inode_lock);
	for (struct inode *ino = sys->inodes; ino && err >= 0; ino = ino->table_next)
		err = inode_set_add(&set, ino);
	pthread_mutex_unlock(&sys->inode_lock);
	for (struct um_proc *p = sys->procs; p && err >= 0; p = p->next_proc)
		for (const struct vma *v = p->mm->vmas.first; v && err >= 0; v = v->next)
			if (v->vm_inode)
				err = inode_set_add(&set, v->vm_inode);
	if (err < 0) {
		um_free(NULL, set.v);
		return err;
	}
	err = 0;
	struct lru_count lc = { &sys->fp, false, 0, FRAME_NONE };

	for (size_t i = 0; i < set.n && !err; i++) {
		rc->committed += set.v[i]->charged;
		err = pagecache_check(sys, set.v[i], why, n);
		if (!err)
			pagecache_for_each(set.v[i], count_cached, rc);
		lc.file = set.v[i]->type == INODE_REG || set.v[i]->shmem;
		if (!err)
			pagecache_for_each(set.v[i], count_lru, &lc);
		if (!err)
			pagecache_for_each_swap(set.v[i], count_shmem_swap, rc);
	}
	um_free(NULL, set.v);
	count_anon_lru(&sys->fp, &lc);
	if (!err)
		err = lru_pages_check(sys, &lc, why, n);
	return err;
}

int um_check(struct um_system *sys, char *why, size_t whylen)
{
	char scratch[8];
	struct recount rc;
	struct frame_pool *fp = &sys->fp;
	int err;

	if (!why) {
		why = scratch;
		whylen = sizeof(scratch);
	}
	if (whylen)
		why[0] = 0;
	lru_add_drain(&sys->lru, &sys->fp);
	pthread_mutex_lock(&sys->lock);
	for (struct um_proc *p = sys->procs; p; p = p->next_proc)
		pthread_rwlock_rdlock(&p->mm->lock);
	err = frame_pool_check(fp, why, whylen);
	for (struct um_proc *p = sys->procs; p && !err; p = p->next_proc) {
		err = mm_check(p->mm, why, whylen);
		if (!err)
			err = anon_vma_check(p->mm, why, whylen);
		if (!err)
			err = cred_check(p, why, whylen);
	}
	if (err)
		goto out;
	/* The checker's scratch is not the library's work: the injector never refuses it. */
	rc.map = um_calloc(NULL, fp->nframes, sizeof(int32_t));
	rc.ref = um_calloc(NULL, fp->nframes, sizeof(int32_t));
	if (!rc.map || !rc.ref) {
		err = -ENOMEM;
		goto done;
	}
	rc.committed = 0;
	rc.bad_swap = 0;
	rc.sys = sys;
	err = swap_recount_init(sys, &rc.swap);
	if (err)
		goto done;
	for (struct um_proc *p = sys->procs; p; p = p->next_proc) {
		count_mapped(p->mm, &rc);
		rc.committed += vma_pages_in(p->mm, 0, sys->task_size, VM_ACCOUNT);
	}
	err = count_inodes(sys, &rc, why, whylen);
	if (!err)
		err = wb_check(sys, why, whylen);
	swap_cache_for_each(sys, count_cached, &rc);
	if (!err)
		err = swap_recount_check(sys, &rc.swap, why, whylen);
	else
		swap_recount_check(sys, &rc.swap, NULL, 0);
	if (!err && rc.bad_swap) {
		snprintf(why, whylen, "swap entry %#llx names no slot", (unsigned long long)rc.bad_swap);
		err = -EUCLEAN;
	}
	if (!err && rc.committed != atomic_load(&sys->committed)) {
		snprintf(why, whylen, "committed %llu pages, recount %llu",
			 (unsigned long long)atomic_load(&sys->committed),
			 (unsigned long long)rc.committed);
		err = -EUCLEAN;
	}
	for (uint64_t pfn = 1; pfn < fp->nframes && !err; pfn++) {
		struct frame *f = pfn_frame(fp, (uint32_t)pfn);

		/* Past the frames ever handed out, up to the huge page pools. */
		if (pfn >= atomic_load(&fp->bump) && pfn < fp->limit) {
			pfn = fp->limit - 1;
			continue;
		}
		bool is_free = atomic_load(&f->flags) & PG_FREE;

		if (is_free ? rc.ref[pfn] != 0
			    : (atomic_load(&f->mapcount) != rc.map[pfn] ||
			       atomic_load(&f->refcount) != rc.ref[pfn])) {
			snprintf(why, whylen,
				 "frame %llu: refcount %d mapcount %d%s, but %d references and "
				 "%d mappings found",
				 (unsigned long long)pfn, atomic_load(&f->refcount),
				 atomic_load(&f->mapcount), is_free ? " (free)" : "", rc.ref[pfn],
				 rc.map[pfn]);
			err = -EUCLEAN;
		}
		if (!err && !is_free)
			err = anon_rmap_check(sys, (uint32_t)pfn, why, whylen);
	}
done:
	um_free(NULL, rc.map);
	um_free(NULL, rc.ref);
out:
	for (struct um_proc *p = sys->procs; p; p = p->next_proc)
		pthread_rwlock_unlock(&p->mm->lock);
	pthread_mutex_unlock(&sys->lock);
	return err;
}
