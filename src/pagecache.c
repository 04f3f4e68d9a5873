/*
 * pagecache.c: the page cache of an inode (address_space).
 *
 * The cache of an inode maps a page index to a frame through a radix tree
 * of 64-way nodes (an xarray without its tags, yet). An interior slot holds
 * a child node pointer; a leaf slot holds pfn + 1 (0 is empty).
 *
 * Invariants (pagecache_check):
 *   1. Each cached frame holds one reference for the cache, has owner ==
 *      inode and index == its slot's index.
 *   2. nr_pages counts the leaf slots in use.
 * inode->lock guards the tree; frames are reference-counted atomically.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>

#include "internal.h"

#define PC_BITS 6
#define PC_SLOTS (1u << PC_BITS)

struct pc_node {
	uint64_t slot[PC_SLOTS];
};

/* The leaf slot for index; NULL when absent and create is false or on ENOMEM. */
static uint64_t *slot_of(struct um_system *sys, struct inode *ino, uint64_t index, bool create)
{
	struct pc_node *node;
	uint32_t h;

	if (!ino->cache) {
		if (!create)
			return NULL;
		ino->cache = um_calloc(sys, 1, sizeof(struct pc_node));
		if (!ino->cache)
			return NULL;
		ino->cache_height = 1;
	}
	while (ino->cache_height * PC_BITS < 64 && (index >> (ino->cache_height * PC_BITS))) {
		struct pc_node *top;

		if (!create)
			return NULL;
		top = um_calloc(sys, 1, sizeof(*top));
		if (!top)
			return NULL;
		top->slot[0] = (uint64_t)(uintptr_t)ino->cache;
		ino->cache = top;
		ino->cache_height++;
	}
	node = ino->cache;
	for (h = ino->cache_height; h > 1; h--) {
		uint64_t *s = &node->slot[(index >> ((h - 1) * PC_BITS)) & (PC_SLOTS - 1)];

		if (!*s) {
			struct pc_node *child;

			if (!create)
				return NULL;
			child = um_calloc(sys, 1, sizeof(*child));
			if (!child)
				return NULL;
			*s = (uint64_t)(uintptr_t)child;
		}
		node = (struct pc_node *)(uintptr_t)*s;
	}
	return &node->slot[index & (PC_SLOTS - 1)];
}

uint32_t pagecache_lookup_locked(struct inode *ino, uint64_t index)
{
	uint64_t *s = slot_of(NULL, ino, index, false);

	return s && *s ? (uint32_t)(*s - 1) : FRAME_NONE;
}

void pagecache_zero_eof(struct um_system *sys, struct inode *ino, uint64_t old_size,
			uint64_t new_size)
{
	uint64_t page_end = (old_size | sys->page_mask) + 1;
	uint32_t pfn;

	if (!(old_size & sys->page_mask) || new_size <= old_size)
		return;
	pfn = pagecache_lookup_locked(ino, old_size >> sys->page_shift);
	if (pfn != FRAME_NONE)
		memset(pfn_host(&sys->fp, pfn) + (old_size & sys->page_mask), 0,
		       (new_size < page_end ? new_size : page_end) - old_size);
}

uint32_t pagecache_lookup(struct inode *ino, uint64_t index)
{
	uint64_t *s;
	uint32_t pfn;

	pthread_mutex_lock(&ino->lock);
	s = slot_of(NULL, ino, index, false);
	pfn = s && *s ? (uint32_t)(*s - 1) : FRAME_NONE;
	pthread_mutex_unlock(&ino->lock);
	return pfn;
}

/* Puts a fresh frame for (ino, index) into slot s; the cache holds its one reference. */
static void cache_insert(struct um_system *sys, struct inode *ino, uint64_t *s, uint64_t index,
			 uint32_t pfn)
{
	struct frame *f = pfn_frame(&sys->fp, pfn);

	f->owner = ino;
	f->index = (uint32_t)index;
	atomic_store_explicit(&f->flags, PG_UPTODATE | (ino->shmem ? PG_SWAPBACKED : 0),
			      memory_order_relaxed);
	*s = (uint64_t)pfn + 1;
	ino->nr_pages++;
}

#define READAHEAD_PAGES 32 /* 128 KiB with 4 KiB pages: Linux's default ra_pages */

/*
 * Reads the run [index, index + n) of missing pages (all below EOF, or
 * one page past it, which reads as zero) from the host file into new
 * frames with one preadv. The bytes past EOF in the last page are zero.
 * inode->lock is held.
 */
static int read_run(struct um_system *sys, struct inode *ino, uint64_t index, uint64_t n)
{
	uint64_t size = inode_size(ino), ps = sys->page_size, i;
	uint32_t pfns[READAHEAD_PAGES];
	struct iovec iov[READAHEAD_PAGES];
	int64_t got;

	if (n == 0 || n > READAHEAD_PAGES)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		pfns[i] = frame_alloc(&sys->fp, false);
		if (pfns[i] == FRAME_NONE) {
			if (i == 0)
				return -ENOMEM;
			n = i; /* read what there are frames for */
			break;
		}
		iov[i].iov_base = pfn_host(&sys->fp, pfns[i]);
		iov[i].iov_len = ps;
	}
	got = (index << sys->page_shift) < size
		      ? host_preadv(sys, ino->host_fd, iov, (int)n, index << sys->page_shift)
		      : 0;
	if (got < 0) {
		for (i = 0; i < n; i++)
			frame_put(&sys->fp, pfns[i]);
		return (int)got;
	}
	for (i = 0; i < n; i++) {
		uint64_t have = (uint64_t)got > i * ps ? (uint64_t)got - i * ps : 0;
		uint64_t *s;

		if (have < ps)
			memset((char *)iov[i].iov_base + have, 0, ps - have);
		s = slot_of(sys, ino, index + i, true);
		if (!s || *s) {
			frame_put(&sys->fp, pfns[i]);
			if (i == 0) {
				/* The page itself cannot be cached: the read-ahead frames go back too. */
				while (++i < n)
					frame_put(&sys->fp, pfns[i]);
				return -ENOMEM;
			}
			continue;
		}
		cache_insert(sys, ino, s, index + i, pfns[i]);
	}
	return 0;
}

static bool cached(struct inode *ino, uint64_t index)
{
	uint64_t *s = slot_of(NULL, ino, index, false);

	return s && *s;
}

/*
 * Brings index into the cache, and with it, for faults and reads, the
 * missing pages of a read-ahead window: for a fault Linux's mmap
 * "read-around" (ra_pages centred on the page), for read() the ra_pages
 * from the page on. Errors on pages other than index are ignored.
 */
static int read_pages(struct um_system *sys, struct inode *ino, uint64_t index, enum pc_mode mode)
{
	uint64_t eof = (inode_size(ino) + sys->page_mask) >> sys->page_shift;
	uint64_t start = index, end = index + 1, i;
	int err;

	if (mode == PC_FAULT) {
		start = index >= READAHEAD_PAGES / 2 ? index - READAHEAD_PAGES / 2 : 0;
		end = start + READAHEAD_PAGES;
	} else if (mode == PC_READ || mode == PC_FAULT_SEQ) {
		end = index + READAHEAD_PAGES;
	}
	if (end > eof)
		end = eof > index ? eof : index + 1;
	/* The page itself first: its error is the caller's. */
	for (i = index + 1; i < end && i < index + READAHEAD_PAGES && !cached(ino, i); i++)
		;
	err = read_run(sys, ino, index, i - index);
	if (err)
		return err;
	/* Then the runs of missing pages in the rest of the window. */
	for (i = start; i < end;) {
		uint64_t j;

		if (cached(ino, i)) {
			i++;
			continue;
		}
		for (j = i + 1; j < end && j - i < READAHEAD_PAGES && !cached(ino, j); j++)
			;
		if (read_run(sys, ino, i, j - i))
			break;
		i = j;
	}
	return 0;
}

uint32_t pagecache_get(struct um_system *sys, struct inode *ino, uint64_t index,
		       enum pc_mode mode, bool *major, int *err)
{
	uint64_t *s;
	uint32_t pfn;

	*major = false;
	pthread_mutex_lock(&ino->lock);
	s = slot_of(sys, ino, index, true);
	if (!s) {
		pthread_mutex_unlock(&ino->lock);
		*err = -ENOMEM;
		return FRAME_NONE;
	}
	if (!*s) {
		if (ino->type == INODE_REG) {
			*err = read_pages(sys, ino, index, mode);
			if (*err) {
				pthread_mutex_unlock(&ino->lock);
				return FRAME_NONE;
			}
			*major = true;
			s = slot_of(sys, ino, index, false);
		} else {
			/* shmem: a new page of shared memory is zero */
			pfn = frame_alloc(&sys->fp, true);
			if (pfn == FRAME_NONE) {
				pthread_mutex_unlock(&ino->lock);
				*err = -ENOMEM;
				return FRAME_NONE;
			}
			cache_insert(sys, ino, s, index, pfn);
		}
	}
	pfn = (uint32_t)(*s - 1);
	atomic_fetch_add_explicit(&pfn_frame(&sys->fp, pfn)->refcount, 1, memory_order_relaxed);
	pthread_mutex_unlock(&ino->lock);
	return pfn;
}

/* Drops the cache's frames at index in [start, end] below node; returns whether node is now empty. */
static bool truncate_node(struct um_system *sys, struct inode *ino, struct pc_node *node,
			  uint32_t height, uint64_t base, uint64_t start, uint64_t end)
{
	bool empty = true;

	for (uint32_t i = 0; i < PC_SLOTS; i++) {
		uint64_t s = node->slot[i];
		uint64_t first = ((base << PC_BITS) | i) << ((height - 1) * PC_BITS);
		uint64_t span = 1ULL << ((height - 1) * PC_BITS);

		if (!s)
			continue;
		if (first + span <= start || first > end) {
			empty = false;
			continue;
		}
		if (height > 1) {
			struct pc_node *child = (struct pc_node *)(uintptr_t)s;

			if (truncate_node(sys, ino, child, height - 1, (base << PC_BITS) | i, start,
					  end)) {
				um_free(sys, child);
				node->slot[i] = 0;
			} else {
				empty = false;
			}
			continue;
		}
		{
			struct frame *f = pfn_frame(&sys->fp, (uint32_t)(s - 1));

			f->owner = NULL;
			atomic_fetch_and(&f->flags, ~(uint32_t)PG_DIRTY);
			frame_put(&sys->fp, (uint32_t)(s - 1));
			node->slot[i] = 0;
			ino->nr_pages--;
		}
	}
	return empty;
}

void pagecache_truncate(struct um_system *sys, struct inode *ino, uint64_t start)
{
	pagecache_remove_range(sys, ino, start, UINT64_MAX);
}

void pagecache_remove_range(struct um_system *sys, struct inode *ino, uint64_t start, uint64_t end)
{
	pthread_mutex_lock(&ino->lock);
	if (ino->cache && truncate_node(sys, ino, ino->cache, ino->cache_height, 0, start, end)) {
		um_free(sys, ino->cache);
		ino->cache = NULL;
		ino->cache_height = 0;
	}
	pthread_mutex_unlock(&ino->lock);
}

static void range_node(struct pc_node *node, uint32_t height, uint64_t base, uint64_t start,
		       uint64_t end, void (*fn)(uint64_t, uint32_t, void *), void *arg)
{
	for (uint32_t i = 0; i < PC_SLOTS; i++) {
		uint64_t s = node->slot[i];
		uint64_t first = ((base << PC_BITS) | i) << ((height - 1) * PC_BITS);
		uint64_t span = 1ULL << ((height - 1) * PC_BITS);

		if (!s || first + span <= start || first > end)
			continue;
		if (height > 1)
			range_node((struct pc_node *)(uintptr_t)s, height - 1, (base << PC_BITS) | i,
				   start, end, fn, arg);
		else
			fn(first, (uint32_t)(s - 1), arg);
	}
}

void pagecache_for_range(struct inode *ino, uint64_t start, uint64_t end,
			 void (*fn)(uint64_t index, uint32_t pfn, void *arg), void *arg)
{
	if (ino->cache)
		range_node(ino->cache, ino->cache_height, 0, start, end, fn, arg);
}

/* Frees the whole tree, dropping the cache's references (the inode is dying). */
static void node_free(struct um_system *sys, struct pc_node *node, uint32_t height)
{
	for (uint32_t i = 0; i < PC_SLOTS; i++) {
		uint64_t s = node->slot[i];

		if (!s)
			continue;
		if (height > 1) {
			node_free(sys, (struct pc_node *)(uintptr_t)s, height - 1);
		} else {
			struct frame *f = pfn_frame(&sys->fp, (uint32_t)(s - 1));

			f->owner = NULL;
			frame_put(&sys->fp, (uint32_t)(s - 1));
		}
	}
	um_free(sys, node);
}

void pagecache_free_all(struct um_system *sys, struct inode *ino)
{
	if (ino->cache)
		node_free(sys, ino->cache, ino->cache_height);
	ino->cache = NULL;
	ino->cache_height = 0;
	ino->nr_pages = 0;
}

static int check_node(struct um_system *sys, struct inode *ino, struct pc_node *node,
		      uint32_t height, uint64_t base, uint64_t *pages, char *why, size_t n)
{
	uint32_t i;

	for (i = 0; i < PC_SLOTS; i++) {
		uint64_t s = node->slot[i];
		uint64_t index = (base << PC_BITS) | i;

		if (!s)
			continue;
		if (height > 1) {
			if (check_node(sys, ino, (struct pc_node *)(uintptr_t)s, height - 1, index,
				       pages, why, n))
				return -EUCLEAN;
			continue;
		}
		if (s - 1 >= sys->fp.nframes) {
			snprintf(why, n, "inode %llu caches a frame out of range",
				 (unsigned long long)ino->ino);
			return -EUCLEAN;
		}
		{
			struct frame *f = pfn_frame(&sys->fp, (uint32_t)(s - 1));

			if (f->owner != ino || f->index != (uint32_t)index ||
			    atomic_load(&f->refcount) < 1 || (atomic_load(&f->flags) & PG_FREE)) {
				snprintf(why, n, "inode %llu page %llu: frame %llu not owned",
					 (unsigned long long)ino->ino, (unsigned long long)index,
					 (unsigned long long)(s - 1));
				return -EUCLEAN;
			}
		}
		(*pages)++;
	}
	return 0;
}

int pagecache_check(struct um_system *sys, struct inode *ino, char *why, size_t n)
{
	uint64_t pages = 0;
	int err = 0;

	pthread_mutex_lock(&ino->lock);
	if (ino->cache)
		err = check_node(sys, ino, ino->cache, ino->cache_height, 0, &pages, why, n);
	if (!err && pages != ino->nr_pages) {
		snprintf(why, n, "inode %llu: nr_pages %llu, recount %llu",
			 (unsigned long long)ino->ino, (unsigned long long)ino->nr_pages,
			 (unsigned long long)pages);
		err = -EUCLEAN;
	}
	pthread_mutex_unlock(&ino->lock);
	return err;
}

static void each_node(struct pc_node *node, uint32_t height, void (*fn)(uint32_t, void *),
		      void *arg)
{
	for (uint32_t i = 0; i < PC_SLOTS; i++) {
		uint64_t s = node->slot[i];

		if (!s)
			continue;
		if (height > 1)
			each_node((struct pc_node *)(uintptr_t)s, height - 1, fn, arg);
		else
			fn((uint32_t)(s - 1), arg);
	}
}

void pagecache_for_each(struct inode *ino, void (*fn)(uint32_t pfn, void *arg), void *arg)
{
	pthread_mutex_lock(&ino->lock);
	if (ino->cache)
		each_node(ino->cache, ino->cache_height, fn, arg);
	pthread_mutex_unlock(&ino->lock);
}
