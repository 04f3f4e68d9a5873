/*
 * writeback.c: dirty page-cache pages to their files: on demand (fsync,
 * msync, sync, reclaim, the last reference to an inode), by age and by
 * amount (the flusher, fs/fs-writeback.c's wb_workfn), and by writers that
 * dirty too fast (balance_dirty_pages, mm/page-writeback.c).
 *
 * Writing a page. A page is dirty when PG_DIRTY is set: write() sets it,
 * and so does the write fault that makes a shared file PTE writable
 * (shared file mappings are mapped read-only until written, as with
 * Linux's writenotify), both through page_mark_dirty. To write a page
 * back, every PTE that maps it is first made clean and read-only
 * (page_mkclean, walking the inode's i_mmap list) and the TLBs of those
 * mms are shot down, so a store after that point faults and dirties the
 * page again instead of being lost. Then PG_DIRTY is cleared and the page,
 * up to the end of the file, is written with pwrite. As ext4 does, the
 * bytes of the last page past EOF are zeroed at each write-back: they
 * never reach the file. A failed write leaves the page dirty and records
 * the error on the inode; the next fsync or msync reports it. The inode's
 * invalidate_lock is held exclusive for the whole pass, so no fault can
 * map the page writable between page_mkclean and the clearing of PG_DIRTY.
 * The write is synchronous: no page is under write-out (PG_WRITEBACK,
 * meminfo's Writeback) once the call that writes it returns.
 *
 * Accounting (folio_account_dirtied, folio_account_cleaned): a regular
 * file's page that turns dirty counts in its inode's nr_dirty and in
 * NR_FILE_DIRTY (wb.nr_dirty) and NR_DIRTIED; one that turns clean leaves
 * both, and counts in NR_WRITTEN when its bytes reached the file. Shmem
 * and hugetlbfs pages are dirty too but never written back, and not
 * counted, as Linux's noop_dirty_folio does not count them.
 *
 * Dirty inodes (__mark_inode_dirty). The first page of an inode to turn
 * dirty puts the inode at the tail of b_dirty with dirtied_when = now, the
 * virtual clock (struct um_system.jiffies); later pages leave both alone,
 * so b_dirty is ordered by dirtied_when and an inode's age is that of its
 * oldest dirtying since it was last found clean. Only the flusher and
 * sync(2) find an inode clean and take it off (requeue_inode,
 * __writeback_single_inode); fsync, msync and reclaim write pages and
 * leave the inode where it is, as ext4's fsync does.
 *
 * The flusher (wb_workfn), run by the clock (wb_advance_clock). Its timer
 * is armed dirty_writeback_centisecs after an inode is dirtied on a
 * b_dirty that was empty (wb_wakeup_delayed), and again after each run
 * while b_dirty holds an inode; a writer past the background threshold
 * makes it due at once (wb_start_background_writeback). Time moves only
 * when told, so a run "at once" is at the next um_advance_clock, before
 * the clock moves. Each run, as wb_do_writeback:
 *   1. wb_check_old_data_flush (kupdate): when dirty_writeback_centisecs
 *      passed since the last such pass, writes back every inode dirtied at
 *      least dirty_expire_centisecs ago (dirtied_when <= now - expire), the
 *      oldest first, each whole.
 *   2. wb_check_background_flush: while the dirty pages are above the
 *      background threshold (wb_over_bg_thresh), writes back inodes, the
 *      oldest first, whatever their age.
 * Either writes an inode a chunk at a time (writeback_chunk_size: at
 * least MIN_WRITEBACK_PAGES, 4 MiB, from where the last pass over the
 * inode stopped: range_cyclic), and checks its stop condition between
 * chunks (Linux checks every 100 ms of writing, which the library's
 * instant writes never reach). An inode left with dirty pages keeps its
 * place when its chunk ran out (b_more_io), else goes to the tail
 * (redirty_tail); one left clean leaves b_dirty.
 *
 * Limits (domain_dirty_limits, global_dirtyable_memory): dirtyable memory
 * is the free frames less the reserve (totalreserve_pages: the high
 * watermark), plus the file LRU pages, plus 1; each ratio is taken per
 * PAGE_SIZE (ratio * page size / 100) and applied to it; a background
 * threshold not below the dirty one is halved from it.
 *
 * Throttling (balance_dirty_pages), simplified: after each page a writer
 * newly dirties (write(2), a write fault on a shared file page; Linux
 * polls every few pages), the dirty pages are compared with the limits.
 * Above the background threshold the flusher is started. Above the
 * freerun ceiling, (thresh + bg_thresh) / 2, Linux pauses the writer for
 * a time that grows from there to the limit, while the flusher writes;
 * the library cannot let time pass inside a call, so the throttled writer
 * does the flusher's background work itself, down to the background
 * threshold, and goes on (counted in dirty_throttled and written[THROTTLE]).
 *
 * Locks: wb.list_lock is taken alone (innermost, beside the lru_lock);
 * wb.work_lock is outermost, held by the clock's thread for the flusher's
 * runs. The flusher and throttled writers write each inode under its
 * invalidate_lock exclusive, then its lock, as every write-back does, and
 * hold no other inode's lock meanwhile; a throttled writer in a fault
 * holds its mm lock shared, as direct reclaim's writer does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "fs.h"
#include "host.h"
#include "lru.h"
#include "mm.h"
#include "pagecache.h"
#include "pgtable.h"
#include "system.h"
#include "tlb.h"
#include "vma.h"

/* Write-protects and cleans every PTE mapping (ino, index) -> pfn. i_mmap_lock is held. */
static void page_mkclean(struct um_system *sys, struct inode *ino, uint64_t index, uint32_t pfn)
{
	for (struct vma *v = ino->i_mmap; v; v = v->i_mmap_next) {
		uint64_t pages = pg_count(&sys->geom, v->vm_end - v->vm_start);
		_Atomic pte_t *ptep;
		uint64_t addr;
		pte_t pte;

		if (!(v->vm_flags & VM_SHARED) || index < v->vm_pgoff || index >= v->vm_pgoff + pages)
			continue;
		addr = v->vm_start + pg_bytes(&sys->geom, index - v->vm_pgoff);
		ptep = pgtable_walk(&v->vm_mm->pt, addr, false);
		if (!ptep)
			continue;
		pte = atomic_load(ptep);
		while ((pte & PTE_PRESENT) && pte_pfn(pte) == pfn && (pte & (PTE_WRITE | PTE_DIRTY))) {
			if (atomic_compare_exchange_weak(ptep, &pte, pte & ~(PTE_WRITE | PTE_DIRTY))) {
				mm_tlb_sync(v->vm_mm);
				break;
			}
		}
	}
}

/* ---------------------------------------------------------------- accounting */

/* folio_account_dirtied: a regular file's page turned dirty. */
static void account_dirtied(struct um_system *sys, struct inode *ino, bool count_dirtied)
{
	atomic_fetch_add_explicit(&ino->nr_dirty, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&sys->wb.nr_dirty, 1, memory_order_relaxed);
	if (count_dirtied)
		atomic_fetch_add_explicit(&sys->wb.nr_dirtied, 1, memory_order_relaxed);
}

/* folio_account_cleaned (or clear_page_dirty_for_io's share of it). */
static void account_cleaned(struct um_system *sys, struct inode *ino)
{
	atomic_fetch_sub_explicit(&ino->nr_dirty, 1, memory_order_relaxed);
	atomic_fetch_sub_explicit(&sys->wb.nr_dirty, 1, memory_order_relaxed);
}

static uint64_t now_ms(struct um_system *sys)
{
	return atomic_load_explicit(&sys->jiffies, memory_order_relaxed);
}

static uint64_t centisecs_ms(uint32_t cs)
{
	return (uint64_t)cs * 10;
}

/* b_dirty: list_lock held. */
static void wb_list_append(struct bdi_writeback *wb, struct inode *ino)
{
	ino->wb_prev = wb->b_dirty_tail;
	ino->wb_next = NULL;
	if (wb->b_dirty_tail)
		wb->b_dirty_tail->wb_next = ino;
	else
		wb->b_dirty = ino;
	wb->b_dirty_tail = ino;
	ino->wb_listed = true;
}

static void wb_list_del(struct bdi_writeback *wb, struct inode *ino)
{
	if (ino->wb_prev)
		ino->wb_prev->wb_next = ino->wb_next;
	else
		wb->b_dirty = ino->wb_next;
	if (ino->wb_next)
		ino->wb_next->wb_prev = ino->wb_prev;
	else
		wb->b_dirty_tail = ino->wb_prev;
	ino->wb_prev = ino->wb_next = NULL;
	ino->wb_listed = false;
}

/* wb_wakeup_delayed: the timer, unless it is already set (queue_delayed_work). list_lock held. */
static void wb_wakeup_delayed_locked(struct um_system *sys)
{
	uint64_t interval = centisecs_ms(sys->cfg.dirty_writeback_centisecs);

	if (interval && sys->wb.wakeup_at == UINT64_MAX)
		sys->wb.wakeup_at = now_ms(sys) + interval;
}

/* wb_wakeup (mod_delayed_work with no delay): the flusher is due now. */
static void wb_wakeup(struct um_system *sys)
{
	uint64_t now = now_ms(sys);

	pthread_mutex_lock(&sys->wb.list_lock);
	if (sys->wb.wakeup_at > now)
		sys->wb.wakeup_at = now;
	pthread_mutex_unlock(&sys->wb.list_lock);
}

bool page_mark_dirty(struct um_system *sys, struct inode *ino, uint32_t pfn)
{
	struct bdi_writeback *wb = &sys->wb;
	uint32_t old = atomic_fetch_or(&pfn_frame(&sys->fp, pfn)->flags, PG_DIRTY);

	/* A page truncation took out of its cache (owner NULL) counts nowhere. */
	if ((old & PG_DIRTY) || !ino || ino->type != INODE_REG)
		return false;
	account_dirtied(sys, ino, true);
	/* __mark_inode_dirty(I_DIRTY_PAGES): the first dirtying dates the inode. */
	pthread_mutex_lock(&wb->list_lock);
	if (!ino->wb_listed) {
		bool was_idle = !wb->b_dirty;

		ino->dirtied_when = now_ms(sys);
		wb_list_append(wb, ino);
		if (was_idle)
			wb_wakeup_delayed_locked(sys);
	}
	pthread_mutex_unlock(&wb->list_lock);
	return true;
}

void page_cancel_dirty(struct um_system *sys, struct inode *ino, uint32_t pfn)
{
	uint32_t old = atomic_fetch_and(&pfn_frame(&sys->fp, pfn)->flags, ~(uint32_t)PG_DIRTY);

	if ((old & PG_DIRTY) && ino->type == INODE_REG)
		account_cleaned(sys, ino);
}

/* ------------------------------------------------------------ writing pages */

struct wb_pass {
	struct um_system *sys;
	struct inode *ino;
	int err;
	int64_t nr_to_write;	/* pages this pass may still write (wbc->nr_to_write) */
	uint64_t written;	/* pages whose bytes reached the file */
	uint64_t next_index;	/* after the last page written */
	int reason;		/* enum wb_reason, or -1: a caller's own (fsync, msync, reclaim) */
};

/* Writes back one cached page if it is dirty (the cache walk's callback; inode->lock held). */
static void writeback_page(uint64_t index, uint32_t pfn, void *arg)
{
	struct wb_pass *w = arg;
	struct um_system *sys = w->sys;
	struct inode *ino = w->ino;
	struct frame *f = pfn_frame(&sys->fp, pfn);
	uint64_t size = inode_size(ino), pos = pg_bytes(&sys->geom, index), len;
	unsigned char *page = pfn_host(&sys->fp, pfn);
	int64_t r;

	if (!(atomic_load(&f->flags) & PG_DIRTY) || w->nr_to_write <= 0)
		return;
	w->nr_to_write--;
	w->next_index = index + 1;
	pthread_mutex_lock(&ino->i_mmap_lock);
	page_mkclean(sys, ino, index, pfn);
	pthread_mutex_unlock(&ino->i_mmap_lock);
	page_cancel_dirty(sys, ino, pfn);
	if (pos >= size)
		return; /* wholly past EOF: nothing of it belongs to the file */
	len = size - pos < sys->geom.size ? size - pos : sys->geom.size;
	if (len < sys->geom.size)
		memset(page + len, 0, sys->geom.size - len);
	atomic_fetch_or(&f->flags, PG_WRITEBACK);
	r = host_pwrite(sys, ino->host_fd, page, len, pos);
	atomic_fetch_and(&f->flags, ~(uint32_t)PG_WRITEBACK);
	if (r < 0) {
		/* folio_redirty_for_writepage: dirty again, not dirtied anew. */
		if (!(atomic_fetch_or(&f->flags, PG_DIRTY) & PG_DIRTY))
			account_dirtied(sys, ino, false);
		if (!w->err)
			w->err = (int)r;
		ino->wb_err = (int)r;
		return;
	}
	if (sys_events_on(sys))
		sys_event(sys, UM_EVENT_WRITEBACK, 0, 0, pfn, ino->ino, index);
	w->written++;
	atomic_fetch_add_explicit(&sys->wb.nr_written, 1, memory_order_relaxed);
	if (w->reason >= 0)
		atomic_fetch_add_explicit(&sys->wb.written[w->reason], 1, memory_order_relaxed);
}

int writeback_range(struct um_system *sys, struct inode *ino, uint64_t start, uint64_t end,
		    bool sync)
{
	struct wb_pass w = { sys, ino, 0, INT64_MAX, 0, 0, -1 };
	int err;

	if (ino->type != INODE_REG)
		return 0;
	pthread_rwlock_wrlock(&ino->invalidate_lock);
	pthread_mutex_lock(&ino->lock);
	/* In place, page by page: a write-back needs no memory of its own. */
	pagecache_for_range(ino, start, end, writeback_page, &w);
	err = w.err;
	if (sync && !err) {
		int r = host_fdatasync(sys, ino->host_fd);

		if (r) {
			err = r;
			ino->wb_err = r;
		}
	}
	if (!err && ino->wb_err) {
		/* An earlier write-back failed and nothing has cleared it since. */
		err = ino->wb_err;
	}
	if (sync)
		ino->wb_err = 0;
	pthread_mutex_unlock(&ino->lock);
	pthread_rwlock_unlock(&ino->invalidate_lock);
	return err;
}

/* ------------------------------------------------------------ dirty limits */

/* Linux's INIT_BW (100 MB/s) and MIN_WRITEBACK_PAGES (4 MiB), in pages; DIRTY_SCOPE. */
#define INIT_BW_BYTES (100ULL << 20)
#define MIN_WRITEBACK_BYTES (4ULL << 20)
#define DIRTY_SCOPE 8

/* global_dirtyable_memory: free less the reserve, plus the file LRU lists, plus 1. */
static uint64_t global_dirtyable_memory(struct um_system *sys)
{
	uint64_t x = atomic_load_explicit(&sys->fp.nr_free, memory_order_relaxed);
	uint64_t reserve = sys->lru.wmark_high; /* totalreserve_pages: one zone, no lowmem_reserve */

	x -= x < reserve ? x : reserve;
	pthread_mutex_lock(&sys->lru.lock);
	x += sys->lru.lists[LRU_INACTIVE_FILE].nr + sys->lru.lists[LRU_ACTIVE_FILE].nr;
	pthread_mutex_unlock(&sys->lru.lock);
	return x + 1;
}

void global_dirty_limits(struct um_system *sys, struct dirty_limits *dl)
{
	uint64_t ps = sys->geom.size;
	/* The ratios per PAGE_SIZE, for precision (domain_dirty_limits). */
	uint64_t ratio = (uint64_t)sys->cfg.dirty_ratio * ps / 100;
	uint64_t bg_ratio = (uint64_t)sys->cfg.dirty_background_ratio * ps / 100;

	dl->avail = global_dirtyable_memory(sys);
	dl->thresh = ratio * dl->avail / ps;
	dl->bg_thresh = bg_ratio * dl->avail / ps;
	if (dl->thresh > UINT32_MAX)
		dl->thresh = UINT32_MAX;
	if (dl->bg_thresh >= dl->thresh)
		dl->bg_thresh = dl->thresh / 2;
}

/* NR_FILE_DIRTY + NR_WRITEBACK (none between calls: write-back is synchronous). */
static uint64_t global_dirty(struct um_system *sys)
{
	return atomic_load_explicit(&sys->wb.nr_dirty, memory_order_relaxed);
}

/* wb_over_bg_thresh, for the one disk: the dirty pages above the background threshold. */
static bool wb_over_bg_thresh(struct um_system *sys)
{
	struct dirty_limits dl;

	global_dirty_limits(sys, &dl);
	return global_dirty(sys) > dl.bg_thresh;
}

/*
 * writeback_chunk_size for WB_SYNC_NONE work: what the disk writes in half
 * a second (its estimated bandwidth; the library's disk is never measured,
 * so Linux's initial estimate, INIT_BW), at most an eighth of the dirty
 * limit and the work's budget, rounded down to MIN_WRITEBACK_PAGES after
 * adding as much.
 */
static int64_t writeback_chunk_size(struct um_system *sys, int64_t nr_pages)
{
	uint64_t min_pages = MIN_WRITEBACK_BYTES >> sys->geom.shift;
	uint64_t pages = (INIT_BW_BYTES >> sys->geom.shift) / 2;
	struct dirty_limits dl;

	global_dirty_limits(sys, &dl);
	if (pages > dl.thresh / DIRTY_SCOPE)
		pages = dl.thresh / DIRTY_SCOPE;
	if (pages > (uint64_t)nr_pages)
		pages = (uint64_t)nr_pages;
	return (int64_t)((pages + min_pages) / min_pages * min_pages);
}

/* ------------------------------------------------------------ the flusher */

/*
 * __writeback_single_inode and requeue_inode: writes up to chunk dirty
 * pages of ino from its writeback_index on, wrapping to the start
 * (range_cyclic), then puts the inode where the outcome says. Answers the
 * pages written; *progress: pages written, or the inode left b_dirty.
 */
static uint64_t writeback_single_inode(struct um_system *sys, struct inode *ino, int64_t chunk,
				       enum wb_reason reason, bool *progress)
{
	struct bdi_writeback *wb = &sys->wb;
	struct wb_pass w = { sys, ino, 0, chunk, 0, 0, (int)reason };
	uint64_t start;

	pthread_rwlock_wrlock(&ino->invalidate_lock);
	pthread_mutex_lock(&ino->lock);
	start = ino->writeback_index;
	pagecache_for_range(ino, start, UINT64_MAX, writeback_page, &w);
	if (w.nr_to_write > 0 && start > 0)
		pagecache_for_range(ino, 0, start - 1, writeback_page, &w);
	ino->writeback_index = w.nr_to_write > 0 ? 0 : w.next_index;
	pthread_mutex_unlock(&ino->lock);
	pthread_rwlock_unlock(&ino->invalidate_lock);

	*progress = w.written > 0;
	pthread_mutex_lock(&wb->list_lock);
	if (ino->wb_listed) {
		if (!atomic_load_explicit(&ino->nr_dirty, memory_order_relaxed)) {
			/* Clean: off the writeback lists. */
			wb_list_del(wb, ino);
			*progress = true;
		} else if (w.nr_to_write > 0) {
			/*
			 * redirty_tail: dirty again meanwhile, or a write failed. It
			 * goes behind the others, dated now if it was older than the
			 * newest, so that b_dirty stays in order.
			 */
			wb_list_del(wb, ino);
			if (wb->b_dirty_tail && ino->dirtied_when < wb->b_dirty_tail->dirtied_when)
				ino->dirtied_when = now_ms(sys);
			wb_list_append(wb, ino);
		}
		/* Else its slice ran out: it keeps its place for the next turn (requeue_io). */
	}
	pthread_mutex_unlock(&wb->list_lock);
	return w.written;
}

/* A wb_writeback_work, WB_SYNC_NONE and range_cyclic: a budget and what stops it. */
struct wb_work {
	int64_t nr_pages;
	bool for_kupdate;	/* only inodes dirty for dirty_expire_centisecs */
	bool for_background;	/* until the dirty pages are at the background threshold */
	enum wb_reason reason;
};

/*
 * wb_writeback: writes inodes of b_dirty, the oldest first, until the
 * budget is spent, the stop condition holds, no inode is old enough, or
 * a turn makes no progress. Returns the pages written.
 */
static uint64_t wb_writeback(struct um_system *sys, struct wb_work *work)
{
	struct bdi_writeback *wb = &sys->wb;
	uint64_t wrote = 0;

	while (work->nr_pages > 0) {
		int64_t dirtied_before = (int64_t)now_ms(sys);
		struct inode *ino;
		bool progress;
		uint64_t n;

		if (work->for_background && !wb_over_bg_thresh(sys))
			break;
		if (work->for_kupdate)
			dirtied_before -= (int64_t)centisecs_ms(sys->cfg.dirty_expire_centisecs);
		pthread_mutex_lock(&wb->list_lock);
		ino = wb->b_dirty;
		/* inode_dirtied_after: too young for this work. A dying inode writes itself. */
		if (ino && ((int64_t)ino->dirtied_when > dirtied_before || !inode_tryget(ino)))
			ino = NULL;
		pthread_mutex_unlock(&wb->list_lock);
		if (!ino)
			break;
		n = writeback_single_inode(sys, ino, writeback_chunk_size(sys, work->nr_pages),
					   work->reason, &progress);
		inode_put(sys, ino);
		work->nr_pages -= (int64_t)n;
		wrote += n;
		if (!progress)
			break;
	}
	return wrote;
}

/* get_nr_dirty_pages: the dirty pages and the dirty inodes (each is a turn). */
static int64_t nr_dirty_pages_and_inodes(struct um_system *sys)
{
	int64_t n = (int64_t)global_dirty(sys);

	pthread_mutex_lock(&sys->wb.list_lock);
	for (struct inode *ino = sys->wb.b_dirty; ino; ino = ino->wb_next)
		n++;
	pthread_mutex_unlock(&sys->wb.list_lock);
	return n;
}

/* wb_check_old_data_flush: kupdate, once per dirty_writeback_centisecs. */
static void wb_check_old_data_flush(struct um_system *sys)
{
	uint64_t interval = centisecs_ms(sys->cfg.dirty_writeback_centisecs);
	struct wb_work work = { 0, true, false, WB_REASON_PERIODIC };

	if (!interval || now_ms(sys) < sys->wb.last_old_flush + interval)
		return;
	sys->wb.last_old_flush = now_ms(sys);
	work.nr_pages = nr_dirty_pages_and_inodes(sys);
	if (work.nr_pages)
		wb_writeback(sys, &work);
}

/* wb_check_background_flush. */
static void wb_check_background_flush(struct um_system *sys)
{
	struct wb_work work = { INT64_MAX, false, true, WB_REASON_BACKGROUND };

	if (wb_over_bg_thresh(sys))
		wb_writeback(sys, &work);
}

/* wb_workfn: one run of the flusher, then its timer again while inodes are dirty. */
static void wb_workfn(struct um_system *sys)
{
	struct bdi_writeback *wb = &sys->wb;

	wb_check_old_data_flush(sys);
	wb_check_background_flush(sys);
	pthread_mutex_lock(&wb->list_lock);
	if (wb->b_dirty)
		wb_wakeup_delayed_locked(sys);
	pthread_mutex_unlock(&wb->list_lock);
}

void wb_advance_clock(struct um_system *sys, uint64_t target)
{
	struct bdi_writeback *wb = &sys->wb;

	pthread_mutex_lock(&wb->work_lock);
	for (;;) {
		uint64_t due;

		pthread_mutex_lock(&wb->list_lock);
		due = wb->wakeup_at;
		if (due <= target)
			wb->wakeup_at = UINT64_MAX; /* running: no longer pending */
		pthread_mutex_unlock(&wb->list_lock);
		if (due > target)
			break;
		if (due > now_ms(sys))
			atomic_store_explicit(&sys->jiffies, due, memory_order_relaxed);
		wb_workfn(sys);
	}
	atomic_store_explicit(&sys->jiffies, target, memory_order_relaxed);
	pthread_mutex_unlock(&wb->work_lock);
}

/* ------------------------------------------------------------ throttling */

/* dirty_freerun_ceiling: below it writers run free. */
static uint64_t dirty_freerun_ceiling(uint64_t thresh, uint64_t bg_thresh)
{
	return (thresh + bg_thresh) / 2;
}

void balance_dirty_pages_ratelimited(struct um_system *sys)
{
	struct wb_work work = { INT64_MAX, false, true, WB_REASON_THROTTLE };
	struct dirty_limits dl;
	uint64_t dirty = global_dirty(sys);

	global_dirty_limits(sys, &dl);
	if (dirty > dl.bg_thresh)
		wb_wakeup(sys); /* wb_start_background_writeback */
	if (dirty <= dirty_freerun_ceiling(dl.thresh, dl.bg_thresh))
		return;
	/* The pause: the writer does what the flusher does meanwhile (see the top). */
	atomic_fetch_add_explicit(&sys->wb.dirty_throttled, 1, memory_order_relaxed);
	wb_writeback(sys, &work);
}

/* ------------------------------------------------------------ sync, life, checks */

int wb_sync_all(struct um_system *sys)
{
	int err = 0;

	pthread_mutex_lock(&sys->inode_lock);
	for (struct inode *ino = sys->inodes; ino; ino = ino->table_next) {
		int e;

		/* The table's reference keeps ino alive; write-back takes its own locks. */
		pthread_mutex_unlock(&sys->inode_lock);
		e = writeback_range(sys, ino, 0, UINT64_MAX, true);
		if (e && !err)
			err = e;
		pthread_mutex_lock(&sys->wb.list_lock);
		if (ino->wb_listed && !atomic_load(&ino->nr_dirty))
			wb_list_del(&sys->wb, ino);
		pthread_mutex_unlock(&sys->wb.list_lock);
		pthread_mutex_lock(&sys->inode_lock);
	}
	pthread_mutex_unlock(&sys->inode_lock);
	return err;
}

void wb_inode_del(struct um_system *sys, struct inode *ino)
{
	pthread_mutex_lock(&sys->wb.list_lock);
	if (ino->wb_listed)
		wb_list_del(&sys->wb, ino);
	pthread_mutex_unlock(&sys->wb.list_lock);
}

void wb_init(struct um_system *sys)
{
	struct bdi_writeback *wb = &sys->wb;

	pthread_mutex_init(&wb->list_lock, NULL);
	pthread_mutex_init(&wb->work_lock, NULL);
	wb->wakeup_at = UINT64_MAX;
	wb->last_old_flush = 0; /* wb_init: the disk's birth */
}

void wb_destroy(struct um_system *sys)
{
	pthread_mutex_destroy(&sys->wb.list_lock);
	pthread_mutex_destroy(&sys->wb.work_lock);
}

static void count_dirty_page(uint32_t pfn, void *arg)
{
	void **a = arg;
	struct um_system *sys = a[0];
	uint64_t *n = a[1];

	*n += (atomic_load(&pfn_frame(&sys->fp, pfn)->flags) & PG_DIRTY) != 0;
}

/*
 * Invariants of write-back:
 *   1. A regular file's nr_dirty equals its dirty cached pages, and
 *      wb.nr_dirty the sum over every regular file.
 *   2. b_dirty is a sound doubly linked list of inodes of the table, each
 *      with wb_listed set, in order of dirtied_when.
 *   3. A regular file with a dirty page is on b_dirty, and then the
 *      flusher's timer is set (or it is asleep with periodic write-back off).
 */
int wb_check(struct um_system *sys, char *why, size_t n)
{
	struct bdi_writeback *wb = &sys->wb;
	uint64_t total = 0, listed = 0, on_list = 0;
	int err = 0;

	pthread_mutex_lock(&sys->inode_lock);
	/* The counts first, under each inode's lock, which is taken outside list_lock. */
	for (struct inode *ino = sys->inodes; ino && !err; ino = ino->table_next) {
		uint64_t dirty = 0;
		void *arg[2] = { sys, &dirty };

		if (ino->type != INODE_REG) {
			if (atomic_load(&ino->nr_dirty)) {
				snprintf(why, n, "inode %llu: not a regular file, but counted dirty",
					 (unsigned long long)ino->ino);
				err = -EUCLEAN;
			}
			continue;
		}
		pagecache_for_each(ino, count_dirty_page, arg);
		total += dirty;
		if (dirty != atomic_load(&ino->nr_dirty)) {
			snprintf(why, n, "inode %llu: %llu dirty pages counted, %llu found",
				 (unsigned long long)ino->ino,
				 (unsigned long long)atomic_load(&ino->nr_dirty),
				 (unsigned long long)dirty);
			err = -EUCLEAN;
		}
	}
	if (!err && total != atomic_load(&wb->nr_dirty)) {
		snprintf(why, n, "NR_FILE_DIRTY %llu, but %llu dirty file pages found",
			 (unsigned long long)atomic_load(&wb->nr_dirty), (unsigned long long)total);
		err = -EUCLEAN;
	}
	pthread_mutex_lock(&wb->list_lock);
	for (struct inode *ino = sys->inodes; ino && !err; ino = ino->table_next) {
		listed += ino->wb_listed;
		if (ino->wb_listed && ino->type != INODE_REG) {
			snprintf(why, n, "inode %llu: not a regular file, but on b_dirty",
				 (unsigned long long)ino->ino);
			err = -EUCLEAN;
		} else if (atomic_load(&ino->nr_dirty) && !ino->wb_listed) {
			snprintf(why, n, "inode %llu: dirty pages, not on b_dirty",
				 (unsigned long long)ino->ino);
			err = -EUCLEAN;
		}
	}
	for (struct inode *ino = wb->b_dirty; ino && !err; ino = ino->wb_next) {
		on_list++;
		if (!ino->wb_listed ||
		    (ino->wb_next ? ino->wb_next->wb_prev != ino : wb->b_dirty_tail != ino) ||
		    (ino->wb_next && ino->wb_next->dirtied_when < ino->dirtied_when) ||
		    on_list > listed) {
			snprintf(why, n, "b_dirty broken at inode %llu", (unsigned long long)ino->ino);
			err = -EUCLEAN;
		}
	}
	if (!err && on_list != listed) {
		snprintf(why, n, "%llu inodes of the table marked on b_dirty, %llu on it",
			 (unsigned long long)listed, (unsigned long long)on_list);
		err = -EUCLEAN;
	}
	if (!err && wb->b_dirty && wb->wakeup_at == UINT64_MAX &&
	    sys->cfg.dirty_writeback_centisecs && !pthread_mutex_trylock(&wb->work_lock)) {
		/* Not in a run of the flusher (which re-arms at its end): the timer must be set. */
		snprintf(why, n, "dirty inodes and no flusher timer");
		err = -EUCLEAN;
		pthread_mutex_unlock(&wb->work_lock);
	}
	pthread_mutex_unlock(&wb->list_lock);
	pthread_mutex_unlock(&sys->inode_lock);
	return err;
}
