/*
 * pagecache.c: inodes and their page caches (address_space).
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

#include "internal.h"

#define PC_BITS 6
#define PC_SLOTS (1u << PC_BITS)

struct pc_node {
	uint64_t slot[PC_SLOTS];
};

static struct inode *inode_new(struct um_system *sys)
{
	struct inode *ino = um_calloc(sys, 1, sizeof(*ino));

	if (!ino)
		return NULL;
	atomic_init(&ino->refcount, 1);
	pthread_mutex_init(&ino->lock, NULL);
	ino->ino = atomic_fetch_add(&sys->next_id, 1);
	return ino;
}

struct inode *shmem_inode_new(struct um_system *sys, uint64_t size)
{
	struct inode *ino = inode_new(sys);

	if (!ino)
		return NULL;
	ino->shmem = true;
	ino->size = size;
	ino->dev_major = 0;
	ino->dev_minor = 1;
	return ino;
}

void inode_get(struct inode *ino)
{
	atomic_fetch_add_explicit(&ino->refcount, 1, memory_order_relaxed);
}

static void node_free(struct um_system *sys, struct pc_node *node, uint32_t height)
{
	uint32_t i;

	for (i = 0; i < PC_SLOTS; i++) {
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

void inode_put(struct um_system *sys, struct inode *ino)
{
	if (atomic_fetch_sub_explicit(&ino->refcount, 1, memory_order_acq_rel) != 1)
		return;
	if (ino->cache)
		node_free(sys, ino->cache, ino->cache_height);
	if (ino->charged)
		vm_unacct_memory(sys, ino->charged);
	pthread_mutex_destroy(&ino->lock);
	um_free(sys, ino->path);
	um_free(sys, ino);
}

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

uint32_t pagecache_get(struct um_system *sys, struct inode *ino, uint64_t index)
{
	uint64_t *s;
	uint32_t pfn;
	struct frame *f;

	pthread_mutex_lock(&ino->lock);
	s = slot_of(sys, ino, index, true);
	if (!s) {
		pthread_mutex_unlock(&ino->lock);
		return FRAME_NONE;
	}
	if (*s) {
		pfn = (uint32_t)(*s - 1);
		atomic_fetch_add_explicit(&pfn_frame(&sys->fp, pfn)->refcount, 1,
					  memory_order_relaxed);
		pthread_mutex_unlock(&ino->lock);
		return pfn;
	}
	/* Only shmem reaches here: a new page of shared memory is zero. */
	pfn = frame_alloc(&sys->fp, true);
	if (pfn == FRAME_NONE) {
		pthread_mutex_unlock(&ino->lock);
		return FRAME_NONE;
	}
	f = pfn_frame(&sys->fp, pfn);
	f->owner = ino;
	f->index = (uint32_t)index;
	atomic_store_explicit(&f->flags, PG_UPTODATE | (ino->shmem ? PG_SWAPBACKED : 0),
			      memory_order_relaxed);
	atomic_store_explicit(&f->refcount, 2, memory_order_relaxed); /* cache + caller */
	*s = (uint64_t)pfn + 1;
	ino->nr_pages++;
	pthread_mutex_unlock(&ino->lock);
	return pfn;
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
