/*
 * swapfile.c: swap devices, their slots and the swap cache (mm/swapfile.c,
 * mm/swap_state.c, mm/page_io.c).
 *
 * A swap device is a file in the sandbox (um_swapon, or `config swap=N`,
 * which makes one), its first page the header as on Linux, so a file of N
 * bytes gives N / page - 1 slots. Each slot has a count in swap_map: the
 * references to it (swap PTEs; shmem would add its cache slots) and the
 * SWAP_HAS_CACHE bit while a frame holding its data is in the swap cache.
 * A slot is free when its count is 0.
 *
 * The swap cache maps an entry to the frame that holds its data while both
 * exist: reclaim puts a page there before it unmaps it (add_to_swap), so
 * that every PTE of a page shared by several processes (fork) becomes the
 * same entry and the page is written once; a fault finds it there (a minor
 * fault) or reads it in (a major one) with its neighbours (read-around,
 * vm.page-cluster 3: the aligned 8 slots around it that are in use), so
 * another process faulting the same entry maps the same frame. The cache
 * holds one reference to its frame; the frame's PG_SWAPCACHE says so and
 * entry_of[pfn] (beside the frame, which stays 32 bytes) names the entry.
 *
 * Invariants (swap_recount_check, from um_check):
 *   1. A slot's count (SWAP_COUNT_MASK) equals the swap PTEs that hold its
 *      entry; SWAP_HAS_CACHE is set exactly when cache[slot] names a frame.
 *   2. A cached frame has PG_SWAPCACHE and entry_of its entry; inuse,
 *      nr_inuse and nr_cached equal a recount.
 *   3. The header slot (0) is never in use.
 * Locks: swap_state.lock is taken inside an anon_vma root's lock and an
 * inode's, outside the lru_lock; no I/O is done under it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "frame.h"
#include "host.h"
#include "lru.h"
#include "mm.h"
#include "pgtable.h"
#include "swap.h"
#include "system.h"
#include "vma.h"

int swap_init(struct um_system *sys)
{
	struct swap_state *ss = &sys->swap;

	memset(ss, 0, sizeof(*ss));
	ss->entry_of = um_calloc(sys, sys->fp.nframes, sizeof(uint64_t));
	if (!ss->entry_of)
		return -ENOMEM;
	pthread_mutex_init(&ss->lock, NULL);
	ss->page_cluster = 3;
	return 0;
}

static void swap_info_free(struct um_system *sys, struct swap_info *si)
{
	if (si->fd >= 0)
		host_close(si->fd);
	if (si->created)
		host_unlink(sys, si->path);
	um_free(sys, si->path);
	um_free(sys, si->map);
	um_free(sys, si->cache);
	um_free(sys, si);
}

void swap_destroy(struct um_system *sys)
{
	struct swap_state *ss = &sys->swap;

	for (int t = 0; t < MAX_SWAPFILES; t++)
		if (ss->si[t])
			swap_info_free(sys, ss->si[t]);
	um_free(sys, ss->entry_of);
	pthread_mutex_destroy(&ss->lock);
}

uint64_t swap_free_pages(struct um_system *sys)
{
	struct swap_state *ss = &sys->swap;

	return __atomic_load_n(&ss->nr_pages, __ATOMIC_RELAXED) -
	       __atomic_load_n(&ss->nr_inuse, __ATOMIC_RELAXED);
}

/* The device and slot of entry, or NULL for an entry that names none. ss->lock held. */
static struct swap_info *swap_slot(struct swap_state *ss, uint64_t entry, uint64_t *off)
{
	struct swap_info *si = ss->si[swp_type(entry)];

	*off = swp_offset(entry);
	return si && *off && *off < si->pages ? si : NULL;
}

static void slot_set(struct swap_state *ss, struct swap_info *si, uint64_t off, uint16_t v)
{
	/* nr_inuse is read without the lock (swap_free_pages). */
	if (!si->map[off] && v) {
		si->inuse++;
		__atomic_fetch_add(&ss->nr_inuse, 1, __ATOMIC_RELAXED);
	} else if (si->map[off] && !v) {
		si->inuse--;
		__atomic_fetch_sub(&ss->nr_inuse, 1, __ATOMIC_RELAXED);
	}
	si->map[off] = v;
}

/* scan_swap_map_slots, one slot: the first free one from the cursor on. ss->lock held. */
static uint64_t slot_alloc(struct swap_state *ss, uint32_t *type)
{
	for (int t = 0; t < MAX_SWAPFILES; t++) {
		struct swap_info *si = ss->si[t];

		if (!si || si->off || si->inuse == si->pages - 1)
			continue;
		for (uint64_t k = 0; k < si->pages - 1; k++) {
			uint64_t off = 1 + (si->cursor - 1 + k) % (si->pages - 1);

			if (!si->map[off]) {
				si->cursor = off + 1 < si->pages ? off + 1 : 1;
				*type = (uint32_t)t;
				return off;
			}
		}
	}
	return 0;
}

/* The frame enters the cache for entry (add_to_swap_cache). ss->lock held. */
static void cache_insert(struct um_system *sys, struct swap_info *si, uint64_t entry,
			 uint32_t pfn)
{
	struct swap_state *ss = &sys->swap;
	uint64_t off = swp_offset(entry);

	slot_set(ss, si, off, (uint16_t)(si->map[off] | SWAP_HAS_CACHE));
	si->cache[off] = pfn + 1;
	ss->entry_of[pfn] = entry;
	ss->nr_cached++;
	atomic_fetch_add(&pfn_frame(&sys->fp, pfn)->refcount, 1);
	atomic_fetch_or(&pfn_frame(&sys->fp, pfn)->flags, PG_SWAPCACHE);
}

/*
 * The frame leaves the cache (__delete_from_swap_cache and put_swap_folio):
 * the caller drops the cache's reference after the lock. ss->lock held.
 */
static void cache_delete(struct um_system *sys, struct swap_info *si, uint64_t off, uint32_t pfn)
{
	struct swap_state *ss = &sys->swap;

	atomic_fetch_and(&pfn_frame(&sys->fp, pfn)->flags, ~(uint32_t)PG_SWAPCACHE);
	si->cache[off] = 0;
	ss->entry_of[pfn] = 0;
	ss->nr_cached--;
	slot_set(ss, si, off, (uint16_t)(si->map[off] & ~SWAP_HAS_CACHE));
}

bool swap_add(struct um_system *sys, uint32_t pfn)
{
	struct swap_state *ss = &sys->swap;
	uint32_t type = 0;
	uint64_t off;

	pthread_mutex_lock(&ss->lock);
	off = slot_alloc(ss, &type);
	if (off)
		cache_insert(sys, ss->si[type], swp_entry(type, off), pfn);
	pthread_mutex_unlock(&ss->lock);
	return off != 0;
}

uint64_t swap_entry_of(struct um_system *sys, uint32_t pfn)
{
	return sys->swap.entry_of[pfn];
}

void swap_dup(struct um_system *sys, uint64_t entry)
{
	struct swap_state *ss = &sys->swap;
	struct swap_info *si;
	uint64_t off;

	pthread_mutex_lock(&ss->lock);
	si = swap_slot(ss, entry, &off);
	if (si)
		slot_set(ss, si, off, (uint16_t)(si->map[off] + 1));
	pthread_mutex_unlock(&ss->lock);
}

uint32_t swap_count(struct um_system *sys, uint64_t entry)
{
	struct swap_state *ss = &sys->swap;
	struct swap_info *si;
	uint64_t off;
	uint32_t n = 0;

	pthread_mutex_lock(&ss->lock);
	si = swap_slot(ss, entry, &off);
	if (si)
		n = si->map[off] & SWAP_COUNT_MASK;
	pthread_mutex_unlock(&ss->lock);
	return n;
}

void swap_put(struct um_system *sys, uint64_t entry)
{
	struct swap_state *ss = &sys->swap;
	uint32_t drop = FRAME_NONE;
	struct swap_info *si;
	uint64_t off;

	pthread_mutex_lock(&ss->lock);
	si = swap_slot(ss, entry, &off);
	if (si && (si->map[off] & SWAP_COUNT_MASK)) {
		slot_set(ss, si, off, (uint16_t)(si->map[off] - 1));
		/* The last reference: a cached frame nobody maps goes too. */
		if (si->map[off] == SWAP_HAS_CACHE) {
			uint32_t pfn = si->cache[off] - 1;

			if (!atomic_load(&pfn_frame(&sys->fp, pfn)->mapcount)) {
				cache_delete(sys, si, off, pfn);
				drop = pfn;
			}
		}
	}
	pthread_mutex_unlock(&ss->lock);
	if (drop != FRAME_NONE)
		frame_put(&sys->fp, drop);
}

bool swap_try_free(struct um_system *sys, uint32_t pfn)
{
	struct swap_state *ss = &sys->swap;
	struct swap_info *si;
	bool freed = false;
	uint64_t off;

	if (!(atomic_load(&pfn_frame(&sys->fp, pfn)->flags) & PG_SWAPCACHE))
		return false;
	pthread_mutex_lock(&ss->lock);
	si = swap_slot(ss, ss->entry_of[pfn], &off);
	if ((atomic_load(&pfn_frame(&sys->fp, pfn)->flags) & PG_SWAPCACHE) && si &&
	    si->map[off] == SWAP_HAS_CACHE) {
		cache_delete(sys, si, off, pfn);
		freed = true;
	}
	pthread_mutex_unlock(&ss->lock);
	if (freed)
		frame_put(&sys->fp, pfn);
	return freed;
}

bool swap_cache_reclaim(struct um_system *sys, uint32_t pfn)
{
	struct swap_state *ss = &sys->swap;
	struct frame *f = pfn_frame(&sys->fp, pfn);
	struct swap_info *si;
	bool gone = false;
	uint64_t off;

	pthread_mutex_lock(&ss->lock);
	si = swap_slot(ss, ss->entry_of[pfn], &off);
	/* cache_get takes its reference under this lock: 2 now means 2 until we let go. */
	if (si && (atomic_load(&f->flags) & PG_SWAPCACHE) && !atomic_load(&f->mapcount) &&
	    atomic_load(&f->refcount) == 2 && !(atomic_load(&f->flags) & PG_DIRTY)) {
		cache_delete(sys, si, off, pfn);
		atomic_fetch_sub(&f->refcount, 1);
		gone = true;
	}
	pthread_mutex_unlock(&ss->lock);
	return gone;
}

bool swap_cache_take(struct um_system *sys, uint32_t pfn, uint64_t entry, void *owner,
		     uint64_t index)
{
	struct swap_state *ss = &sys->swap;
	struct frame *f = pfn_frame(&sys->fp, pfn);
	struct swap_info *si;
	bool taken = false;
	uint64_t off;

	pthread_mutex_lock(&ss->lock);
	si = swap_slot(ss, entry, &off);
	pthread_mutex_lock(&sys->lru.lock);
	/* Isolated by reclaim (PG_LRU clear): not while it decides on the page. */
	if (si && si->cache[off] == pfn + 1 && (atomic_load(&f->flags) & PG_LRU)) {
		cache_delete(sys, si, off, pfn);
		atomic_fetch_sub(&f->refcount, 1); /* the swap cache's; the caller holds one */
		slot_set(ss, si, off, (uint16_t)(si->map[off] - 1));
		atomic_fetch_and(&f->flags, ~(uint32_t)PG_ANON);
		atomic_fetch_or(&f->flags, PG_DIRTY);
		f->owner = owner;
		f->index = (uint32_t)index;
		taken = true;
	}
	pthread_mutex_unlock(&sys->lru.lock);
	pthread_mutex_unlock(&ss->lock);
	return taken;
}

/* The device's fd and the byte offset of entry's slot, or -EINVAL. */
static int slot_io(struct um_system *sys, uint64_t entry, uint64_t *pos)
{
	struct swap_state *ss = &sys->swap;
	struct swap_info *si;
	uint64_t off;
	int fd = -EINVAL;

	pthread_mutex_lock(&ss->lock);
	si = swap_slot(ss, entry, &off);
	if (si) {
		fd = si->fd;
		*pos = pg_bytes(&sys->geom, off);
	}
	pthread_mutex_unlock(&ss->lock);
	return fd;
}

int swap_writepage(struct um_system *sys, uint32_t pfn)
{
	uint64_t pos = 0;
	int fd = slot_io(sys, sys->swap.entry_of[pfn], &pos);
	int64_t r;

	if (fd < 0)
		return fd;
	r = host_swap_pwrite(sys, fd, pfn_host(&sys->fp, pfn), sys->geom.size, pos);
	if (r < 0)
		return (int)r;
	atomic_fetch_add(&sys->swap.pswpout, 1);
	if (sys_events_on(sys)) {
		uint64_t e = sys->swap.entry_of[pfn];

		sys_event(sys, UM_EVENT_SWAP_OUT, 0, 0, pfn, swp_type(e), swp_offset(e));
	}
	return 0;
}

/* Reads entry's slot into frame pfn (swap_read_folio): 0 or -errno. */
static int swap_readpage(struct um_system *sys, uint64_t entry, uint32_t pfn)
{
	uint64_t pos = 0;
	int fd = slot_io(sys, entry, &pos);
	int64_t r;

	if (fd < 0)
		return fd;
	r = host_swap_pread(sys, fd, pfn_host(&sys->fp, pfn), sys->geom.size, pos);
	if (r < 0)
		return (int)r;
	if ((uint64_t)r < sys->geom.size)
		memset(pfn_host(&sys->fp, pfn) + r, 0, sys->geom.size - (uint64_t)r);
	atomic_fetch_add(&sys->swap.pswpin, 1);
	if (sys_events_on(sys))
		sys_event(sys, UM_EVENT_SWAP_IN, 0, 0, pfn, swp_type(entry), swp_offset(entry));
	return 0;
}

/*
 * The cached frame of entry with a reference for the caller, or
 * FRAME_NONE; *in_use tells whether the slot has references.
 */
static uint32_t cache_get(struct um_system *sys, uint64_t entry, bool *in_use)
{
	struct swap_state *ss = &sys->swap;
	uint32_t pfn = FRAME_NONE;
	struct swap_info *si;
	uint64_t off;

	pthread_mutex_lock(&ss->lock);
	si = swap_slot(ss, entry, &off);
	*in_use = si && (si->map[off] & SWAP_COUNT_MASK);
	if (si && si->cache[off]) {
		pfn = si->cache[off] - 1;
		atomic_fetch_add(&pfn_frame(&sys->fp, pfn)->refcount, 1);
	}
	pthread_mutex_unlock(&ss->lock);
	return pfn;
}

/*
 * __read_swap_cache_async: a new frame for entry, read from the file and
 * put in the cache and on the inactive anon list, with a reference for the
 * caller; FRAME_NONE with *err when no frame or the read failed (nothing
 * kept), or when another got there first (*err 0: look in the cache).
 */
static uint32_t read_into_cache(struct um_system *sys, uint64_t entry, int *err)
{
	struct swap_state *ss = &sys->swap;
	uint32_t pfn = frame_alloc(&sys->fp, false);
	struct swap_info *si;
	uint64_t off;
	bool raced;

	*err = -ENOMEM;
	if (pfn == FRAME_NONE)
		return pfn;
	*err = swap_readpage(sys, entry, pfn);
	if (*err) {
		frame_put(&sys->fp, pfn);
		return FRAME_NONE;
	}
	atomic_store(&pfn_frame(&sys->fp, pfn)->flags, PG_ANON | PG_SWAPBACKED | PG_UPTODATE);
	pthread_mutex_lock(&ss->lock);
	si = swap_slot(ss, entry, &off);
	raced = !si || si->cache[off] || !(si->map[off] & SWAP_COUNT_MASK);
	if (!raced)
		cache_insert(sys, si, entry, pfn);
	pthread_mutex_unlock(&ss->lock);
	if (raced) {
		frame_put(&sys->fp, pfn);
		return FRAME_NONE;
	}
	lru_add(&sys->lru, &sys->fp, pfn);
	return pfn;
}

bool swap_incore(struct um_system *sys, uint64_t entry)
{
	bool in_use;
	uint32_t pfn = cache_get(sys, entry, &in_use);

	if (pfn != FRAME_NONE)
		frame_put(&sys->fp, pfn);
	return pfn != FRAME_NONE;
}

uint32_t swapin(struct um_system *sys, uint64_t entry, bool *major, int *err)
{
	uint64_t off = swp_offset(entry), n = 1ULL << sys->swap.page_cluster;
	uint64_t first = off & ~(n - 1);
	bool in_use;
	uint32_t pfn;

	*major = false;
	*err = 0;
	for (;;) {
		pfn = cache_get(sys, entry, &in_use);
		if (pfn != FRAME_NONE)
			return pfn;
		if (!in_use) {
			*err = -EAGAIN; /* the entry went: the PTE changed under us */
			return FRAME_NONE;
		}
		*major = true;
		/* swap_cluster_readahead: the aligned cluster's other slots in use first. */
		for (uint64_t k = first; k < first + n; k++) {
			uint64_t e = swp_entry(swp_type(entry), k);
			uint32_t ra;
			int ra_err;

			if (!k || k == off || atomic_load(&sys->fp.nr_free) < sys->lru.wmark_min)
				continue;
			ra = cache_get(sys, e, &in_use);
			if (ra != FRAME_NONE) {
				frame_put(&sys->fp, ra);
				continue;
			}
			if (!in_use)
				continue;
			ra = read_into_cache(sys, e, &ra_err);
			if (ra != FRAME_NONE)
				frame_put(&sys->fp, ra);
		}
		pfn = read_into_cache(sys, entry, err);
		if (pfn != FRAME_NONE || *err)
			return pfn;
	}
}

void swap_cache_for_each(struct um_system *sys, void (*fn)(uint32_t pfn, void *arg), void *arg)
{
	struct swap_state *ss = &sys->swap;

	pthread_mutex_lock(&ss->lock);
	for (int t = 0; t < MAX_SWAPFILES; t++)
		for (uint64_t off = 1; ss->si[t] && off < ss->si[t]->pages; off++)
			if (ss->si[t]->cache[off])
				fn(ss->si[t]->cache[off] - 1, arg);
	pthread_mutex_unlock(&ss->lock);
}

int swap_recount_init(struct um_system *sys, struct swap_recount *rc)
{
	struct swap_state *ss = &sys->swap;
	int err = 0;

	memset(rc, 0, sizeof(*rc));
	pthread_mutex_lock(&ss->lock);
	for (int t = 0; t < MAX_SWAPFILES && !err; t++)
		if (ss->si[t]) {
			rc->count[t] = um_calloc(NULL, ss->si[t]->pages, sizeof(uint32_t));
			err = rc->count[t] ? 0 : -ENOMEM;
		}
	pthread_mutex_unlock(&ss->lock);
	for (int t = 0; t < MAX_SWAPFILES && err; t++)
		um_free(NULL, rc->count[t]);
	return err;
}

bool swap_recount_note(struct um_system *sys, struct swap_recount *rc, uint64_t entry)
{
	uint32_t t = swp_type(entry);
	uint64_t off = swp_offset(entry);
	struct swap_info *si = sys->swap.si[t];

	if (!si || !rc->count[t] || !off || off >= si->pages)
		return false;
	rc->count[t][off]++;
	return true;
}

/* Invariants 1 and 3 for one device; *inuse and *cached: its recount. ss->lock held. */
static int swap_info_check(struct um_system *sys, int t, const uint32_t *count,
			   uint64_t *inuse, uint64_t *cached, char *why, size_t n)
{
	struct swap_info *si = sys->swap.si[t];

	if (si->map[0]) {
		snprintf(why, n, "swap %d: header slot in use", t);
		return -EUCLEAN;
	}
	for (uint64_t off = 1; off < si->pages; off++) {
		uint32_t pfn = si->cache[off] - 1;

		if ((si->map[off] & SWAP_COUNT_MASK) != count[off] ||
		    !(si->map[off] & SWAP_HAS_CACHE) != !si->cache[off]) {
			snprintf(why, n, "swap %d slot %llu: map %#x, %u references found%s", t,
				 (unsigned long long)off, si->map[off], count[off],
				 si->cache[off] ? ", cached" : "");
			return -EUCLEAN;
		}
		if (si->cache[off] &&
		    (!(atomic_load(&pfn_frame(&sys->fp, pfn)->flags) & PG_SWAPCACHE) ||
		     sys->swap.entry_of[pfn] != swp_entry((uint32_t)t, off))) {
			snprintf(why, n, "swap %d slot %llu: cached frame %u not marked so", t,
				 (unsigned long long)off, pfn);
			return -EUCLEAN;
		}
		*inuse += si->map[off] != 0;
		*cached += si->cache[off] != 0;
	}
	return 0;
}

int swap_recount_check(struct um_system *sys, struct swap_recount *rc, char *why, size_t n)
{
	struct swap_state *ss = &sys->swap;
	uint64_t inuse = 0, cached = 0, total = 0;
	int err = 0;

	pthread_mutex_lock(&ss->lock);
	for (int t = 0; t < MAX_SWAPFILES && !err; t++) {
		uint64_t dev_inuse = 0;

		if (!ss->si[t])
			continue;
		err = swap_info_check(sys, t, rc->count[t], &dev_inuse, &cached, why, n);
		if (!err && dev_inuse != ss->si[t]->inuse) {
			snprintf(why, n, "swap %d: %llu slots in use, recount %llu", t,
				 (unsigned long long)ss->si[t]->inuse,
				 (unsigned long long)dev_inuse);
			err = -EUCLEAN;
		}
		inuse += dev_inuse;
		total += ss->si[t]->pages - 1;
	}
	if (!err && (inuse != ss->nr_inuse || cached != ss->nr_cached || total != ss->nr_pages)) {
		snprintf(why, n, "swap: %llu/%llu slots in use, %llu cached; recount %llu/%llu, %llu",
			 (unsigned long long)ss->nr_inuse, (unsigned long long)ss->nr_pages,
			 (unsigned long long)ss->nr_cached, (unsigned long long)inuse,
			 (unsigned long long)total, (unsigned long long)cached);
		err = -EUCLEAN;
	}
	pthread_mutex_unlock(&ss->lock);
	for (int t = 0; t < MAX_SWAPFILES; t++)
		um_free(NULL, rc->count[t]);
	return err;
}

/* The device swapped on at path, or -1. ss->lock held. */
static int swap_find(struct swap_state *ss, const char *path)
{
	for (int t = 0; t < MAX_SWAPFILES; t++)
		if (ss->si[t] && !strcmp(ss->si[t]->path, path))
			return t;
	return -1;
}

/*
 * A device for path: made with size bytes when size is not 0 (then
 * removed at swapoff), else the existing file's whole size.
 */
static int swap_info_new(struct um_system *sys, const char *path, uint64_t size,
			 struct swap_info **out)
{
	struct swap_info *si = um_calloc(sys, 1, sizeof(*si));
	struct stat st;
	int err = -ENOMEM;

	if (!si)
		return err;
	si->fd = -1;
	si->path = um_malloc(sys, strlen(path) + 1);
	if (!si->path)
		goto fail;
	strcpy(si->path, path);
	si->fd = host_open_beneath(sys, path, size ? O_RDWR | O_CREAT | O_EXCL : O_RDWR, 0600);
	if (si->fd < 0) {
		err = si->fd;
		goto fail;
	}
	si->created = size != 0;
	if (size) {
		err = host_ftruncate(sys, si->fd, size);
		if (err)
			goto fail;
	} else {
		err = host_fstat(si->fd, &st);
		if (err)
			goto fail;
		size = (uint64_t)st.st_size;
	}
	si->pages = pg_count(&sys->geom, size);
	err = -EINVAL;
	if (si->pages < 2)
		goto fail;
	err = -ENOMEM;
	si->map = um_calloc(sys, si->pages, sizeof(uint16_t));
	si->cache = um_calloc(sys, si->pages, sizeof(uint32_t));
	if (!si->map || !si->cache)
		goto fail;
	si->cursor = 1;
	*out = si;
	return 0;
fail:
	swap_info_free(sys, si);
	return err;
}

int um_swapon(struct um_system *sys, const char *path, uint64_t size)
{
	struct swap_state *ss;
	struct swap_info *si;
	int t, err;

	if (!sys || !path)
		return -EINVAL;
	ss = &sys->swap;
	pthread_mutex_lock(&ss->lock);
	t = swap_find(ss, path);
	pthread_mutex_unlock(&ss->lock);
	if (t >= 0)
		return -EBUSY;
	err = swap_info_new(sys, path, size, &si);
	if (err)
		return err;
	pthread_mutex_lock(&ss->lock);
	for (t = 0; t < MAX_SWAPFILES && ss->si[t]; t++)
		;
	if (t < MAX_SWAPFILES && swap_find(ss, path) < 0) {
		ss->si[t] = si;
		__atomic_store_n(&ss->nr_pages, ss->nr_pages + si->pages - 1, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&ss->lock);
	if (t == MAX_SWAPFILES || ss->si[t] != si) {
		swap_info_free(sys, si);
		return t == MAX_SWAPFILES ? -EPERM : -EBUSY;
	}
	return t;
}

/*
 * unuse_pte: the swap PTE at ptep of v (entry) maps frame pfn (in the swap
 * cache, our reference given to the mapping), old and read-only, as
 * Linux's unuse_pte maps it; the page is dirty, its only copy in memory
 * once the slot goes.
 */
static void unuse_pte(struct um_system *sys, struct vma *v, uint64_t addr, _Atomic pte_t *ptep,
		      uint64_t entry, uint32_t pfn)
{
	struct frame *f = pfn_frame(&sys->fp, pfn);
	pte_t pte = PTE_PRESENT | ((v->vm_flags & VM_ACCESS_FLAGS) ? PTE_USER : 0);

	if (!__atomic_load_n(&f->owner, __ATOMIC_ACQUIRE))
		anon_frame_set_rmap(sys, pfn, v, addr);
	atomic_fetch_or(&f->flags, PG_DIRTY);
	atomic_fetch_add(&f->mapcount, 1);
	atomic_store(ptep, pfn_pte(pfn, pte));
	atomic_fetch_sub(&v->vm_mm->rss[MM_SWAPENTS], 1);
	atomic_fetch_add(&v->vm_mm->rss[MM_ANONPAGES], 1);
	swap_put(sys, entry);
}

/* unuse_mm: every swap PTE of device type in mm mapped again. mm->lock held exclusive. */
static int unuse_mm(struct um_system *sys, struct mm *mm, uint32_t type)
{
	for (struct vma *v = mm->vmas.first; v; v = v->next) {
		for (uint64_t va = v->vm_start, span_end; va < v->vm_end; va = span_end) {
			_Atomic pte_t *ptep = pgtable_span(&mm->pt, va, v->vm_end, &span_end, false);
			uint64_t nr = pg_count(&sys->geom, span_end - va);

			for (uint64_t k = 0; ptep && k < nr; k++) {
				pte_t pte = atomic_load(&ptep[k]);
				uint64_t entry = pte_to_swp_entry(pte);
				uint32_t pfn;
				bool major;
				int err;

				if (!pte_is_swap(pte) || swp_type(entry) != type)
					continue;
				pfn = swapin(sys, entry, &major, &err);
				if (pfn == FRAME_NONE)
					return err == -EAGAIN ? 0 : -ENOMEM;
				unuse_pte(sys, v, va + pg_bytes(&sys->geom, k), &ptep[k], entry, pfn);
			}
		}
	}
	return 0;
}

/* The slots of device t whose data is only on the device (in use, not cached). */
static uint64_t slots_out(struct swap_info *si)
{
	uint64_t n = 0;

	for (uint64_t off = 1; off < si->pages; off++)
		n += si->map[off] && !si->cache[off];
	return n;
}

/* Takes device t off the list; its slots no longer count (its pages are all in). */
static void swap_info_remove(struct um_system *sys, int t)
{
	struct swap_state *ss = &sys->swap;
	struct swap_info *si;

	pthread_mutex_lock(&ss->lock);
	si = ss->si[t];
	ss->si[t] = NULL;
	__atomic_store_n(&ss->nr_pages, ss->nr_pages - (si->pages - 1), __ATOMIC_RELAXED);
	pthread_mutex_unlock(&ss->lock);
	swap_info_free(sys, si);
}

/*
 * Every cached frame of device t whose slot no PTE refers to leaves the
 * cache. False when some slot is still referenced.
 */
static bool drop_cache_of(struct um_system *sys, int t)
{
	struct swap_info *si = sys->swap.si[t];
	bool clean = true;

	for (uint64_t off = 1; off < si->pages; off++) {
		uint32_t pfn;

		pthread_mutex_lock(&sys->swap.lock);
		pfn = si->cache[off] ? si->cache[off] - 1 : FRAME_NONE;
		clean &= !(si->map[off] & SWAP_COUNT_MASK);
		pthread_mutex_unlock(&sys->swap.lock);
		if (pfn != FRAME_NONE)
			swap_try_free(sys, pfn);
	}
	return clean;
}

/* Device t stops (or starts again) handing out slots. */
static void set_off(struct swap_state *ss, int t, bool off)
{
	pthread_mutex_lock(&ss->lock);
	ss->si[t]->off = off;
	pthread_mutex_unlock(&ss->lock);
}

int um_swapoff(struct um_system *sys, const char *path)
{
	struct swap_state *ss;
	uint64_t out;
	int t, err = 0;

	if (!sys || !path)
		return -EINVAL;
	ss = &sys->swap;
	lru_add_drain(&sys->lru, &sys->fp);
	pthread_mutex_lock(&sys->lock);
	pthread_mutex_lock(&ss->lock);
	t = swap_find(ss, path);
	out = t >= 0 ? slots_out(ss->si[t]) : 0;
	pthread_mutex_unlock(&ss->lock);
	if (t < 0) {
		pthread_mutex_unlock(&sys->lock);
		return -EINVAL;
	}
	/* Room for every page first (security_vm_enough_memory_mm): else nothing changes. */
	if (out + sys->lru.wmark_min > atomic_load(&sys->fp.nr_free)) {
		pthread_mutex_unlock(&sys->lock);
		return -ENOMEM;
	}
	set_off(ss, t, true);
	for (struct um_proc *p = sys->procs; p && !err; p = p->next_proc) {
		mmap_write_lock(p->mm);
		err = unuse_mm(sys, p->mm, (uint32_t)t);
		mmap_write_unlock(p->mm);
	}
	if (!err && ss->shmem_unuse)
		err = ss->shmem_unuse(sys, (uint32_t)t);
	pthread_mutex_unlock(&sys->lock);
	/* A failure midway leaves the device on, with what came in mapped (as Linux). */
	if (!drop_cache_of(sys, t) || err) {
		set_off(ss, t, false);
		return err ? err : -ENOMEM;
	}
	swap_info_remove(sys, t);
	return 0;
}
