/*
 * The page cache: declarations of pagecache.c (the per-inode cache tree,
 * read-ahead, filemap_fault's lookup). Layer: pagecache, beside inode/fs.
 */
#ifndef UM_PAGECACHE_H
#define UM_PAGECACHE_H

#include "internal.h"

struct file;
struct file_ra_state;
struct inode;
struct um_system;
struct vm_fault;

/* The cached frame at index, or FRAME_NONE. Takes no reference. */
UM_INTERNAL uint32_t pagecache_lookup(struct inode *ino, uint64_t index);
UM_INTERNAL uint32_t pagecache_lookup_locked(struct inode *ino, uint64_t index);
/*
 * The size grows from old_size to new_size: zero the part of the old last
 * page the file now covers, which may hold bytes stored through a mapping
 * past the old EOF (pagecache_isize_extended). inode->lock is held.
 */
UM_INTERNAL void pagecache_zero_eof(struct um_system *sys, struct inode *ino, uint64_t old_size,
				   uint64_t new_size);
/*
 * ext4 zeroes the tail of the block at EOF when a size change leaves it
 * partial (the old EOF growing, the new one shrinking): when that block is
 * a hole its page is left in the cache, not uptodate. mincore counts it
 * out, fault-around and read-ahead pass it by, the next access reads it.
 * inode->lock held.
 */
UM_INTERNAL void pagecache_add_eof_block(struct um_system *sys, struct inode *ino, uint64_t index);
/*
 * Finds or creates the frame at index alone: shmem pages start
 * zero-filled, file pages are read from the host file (a major fault:
 * *major set) without read-ahead, as write(), MADV_WILLNEED and the like
 * need them. Returns the frame with one extra reference for the caller,
 * or FRAME_NONE with *err (-ENOMEM, -EIO ...).
 */
UM_INTERNAL uint32_t pagecache_get(struct um_system *sys, struct inode *ino, uint64_t index,
				   bool *major, int *err);
/*
 * filemap_fault's lookup for the fault vmf on a regular file, with the
 * read-ahead state of the file the VMA was mapped from: a hit on a
 * PG_READAHEAD page starts asynchronous read-ahead, a miss the mmap
 * read-around (or the window the VMA's advice or VM_EXEC asks for) and is
 * a major fault (vmf->major). vmf->tried: the retry after a major fault,
 * which reads nothing more. Returns the frame with a reference, or
 * FRAME_NONE with *err set.
 */
UM_INTERNAL uint32_t pagecache_fault(struct vm_fault *vmf, int *err);
/*
 * Where read(2) puts what it read: copies len bytes from src to offset off
 * of the reader's buffer and answers how many it copied (fewer when the
 * buffer faults).
 */
typedef uint64_t (*read_actor_t)(void *arg, uint64_t off, const void *src, uint64_t len);
/*
 * read(2) of count bytes at pos through the cache with f's read-ahead
 * state (filemap_read), handed to copy a page at a time. Returns the bytes
 * copied, or a negative errno (-EFAULT when copy took nothing).
 */
UM_INTERNAL int64_t pagecache_read(struct um_system *sys, struct file *f, uint64_t pos,
				   uint64_t count, read_actor_t copy, void *arg);
/* Does the cache page carry PG_READAHEAD (fault-around passes it by)? */
UM_INTERNAL bool pagecache_readahead_marked(struct um_system *sys, uint32_t pfn);
/* May fault-around map the cache page: uptodate and not marked for read-ahead? */
UM_INTERNAL bool pagecache_mappable(struct um_system *sys, uint32_t pfn);
/*
 * MADV_WILLNEED on a file (force_page_cache_ra): reads the missing pages
 * of [index, index + nr); pages already cached, uptodate or not, stay as
 * they are.
 */
UM_INTERNAL void pagecache_willneed(struct um_system *sys, struct inode *ino, uint64_t index,
				    uint64_t nr);
/* The read-ahead state of a new open file of ino. */
UM_INTERNAL void file_ra_state_init(struct file_ra_state *ra, const struct inode *ino);
UM_INTERNAL void pagecache_free_all(struct um_system *sys, struct inode *ino);
/* Removes cached pages with index in [start, end]; they must be unmapped. */
UM_INTERNAL void pagecache_remove_range(struct um_system *sys, struct inode *ino, uint64_t start,
					uint64_t end);
/* Removes cached pages with index >= start (truncate); they must be unmapped. */
UM_INTERNAL void pagecache_truncate(struct um_system *sys, struct inode *ino, uint64_t start);
/* Calls fn for every cached frame of ino with index in [start, end], under inode->lock. */
UM_INTERNAL void pagecache_for_range(struct inode *ino, uint64_t start, uint64_t end,
				     void (*fn)(uint64_t index, uint32_t pfn, void *arg),
				     void *arg);
/* Calls fn for every cached frame of ino. */
/*
 * swapoff's shmem_unuse: every page of swap device type that a shmem
 * object some process maps holds is read back into its cache. sys->lock
 * held; 0 or -ENOMEM / -EIO.
 */
UM_INTERNAL int pagecache_shmem_unuse(struct um_system *sys, uint32_t type);
/* fn for each swap entry a shmem object's cache holds, with its page index. */
UM_INTERNAL void pagecache_for_each_swap(struct inode *ino,
					 void (*fn)(uint64_t index, uint64_t entry, void *arg),
					 void *arg);
/*
 * shmem_writeout: the shmem page pfn at index, unmapped, which only the
 * cache and the caller hold, goes into the swap cache and its cache slot
 * holds its swap entry instead (one reference to the slot). False when no
 * slot is free or the page moved. ino->lock held.
 */
UM_INTERNAL bool shmem_swapout_locked(struct um_system *sys, struct inode *ino, uint64_t index,
				      uint32_t pfn);
UM_INTERNAL void pagecache_for_each(struct inode *ino, void (*fn)(uint32_t pfn, void *arg),
				    void *arg);
/*
 * Takes the page pfn at index out of the cache (__filemap_remove_folio for
 * reclaim), leaving the tree's nodes; the caller owns the cache's
 * reference, which it has frozen. False when the slot holds another page.
 * inode->lock held.
 */
UM_INTERNAL bool pagecache_delete_locked(struct um_system *sys, struct inode *ino, uint64_t index,
					 uint32_t pfn);
UM_INTERNAL int pagecache_check(struct um_system *sys, struct inode *ino, char *why, size_t n);
/* Puts the n frames from pfn (a huge page, its references the cache's) at [index, +n). */
UM_INTERNAL int pagecache_insert_huge(struct um_system *sys, struct inode *ino, uint64_t index,
				      uint32_t pfn, uint64_t n);

#endif /* UM_PAGECACHE_H */
