/*
 * Files: declarations of inode.c (inodes, shmem, /dev/zero, i_mmap),
 * fdtable.c (open file descriptions and descriptor tables), writeback.c and
 * truncate.c. file.c and msync.c declare nothing here (their calls are
 * public); namei.c and attr.c have namei.h.
 * Layer: inode/fs, above vma (truncate.c sits higher, with hugetlb).
 */
#ifndef UM_FS_H
#define UM_FS_H

#include "internal.h"

struct hugetlb_resv;
struct pc_node;
struct um_proc;
struct um_system;
struct vma;

/* inode.c */

/*
 * A file, a shmem object or a device, with its page cache (index -> frame).
 * Files are real files under the sandbox directory, one inode per host
 * file (keyed by host device and inode number), so every open and every
 * mapping of a file shares one cache, as on Linux.
 */
enum inode_type { INODE_REG, INODE_DIR, INODE_SHMEM, INODE_ZERO, INODE_HUGETLB };

struct inode {
	_Atomic int32_t refcount;
	enum inode_type type;
	bool shmem;		/* type == INODE_SHMEM */
	uint8_t hpage_shift;	/* INODE_HUGETLB: log2 of its huge page size */
	struct hugetlb_resv *hresv;	/* INODE_HUGETLB: huge pages reserved or present */
	uint64_t ino;		/* host inode number (files) or a system id */
	uint64_t dev;		/* host st_dev (files); makedev(0, 1) for shmem */
	int host_fd;		/* files: open O_RDWR when the host allows, else O_RDONLY */
	bool host_writable;
	_Atomic uint64_t size;	/* i_size, bytes */
	pthread_mutex_t lock;	/* the cache tree, size changes, write-back, attributes */
	uint32_t i_mode;	/* S_IFREG etc. | permission bits (namei.c, attr.c) */
	uint32_t i_uid, i_gid;
	pthread_rwlock_t invalidate_lock; /* faults shared, truncate exclusive */
	struct pc_node *cache;	/* radix tree root */
	uint32_t cache_height;
	uint64_t nr_pages;	/* frames in the cache */
	uint64_t charged;	/* pages charged to the commit (shmem), returned at free */
	int wb_err;		/* sticky write-back error, reported by the next fsync */
	uint32_t ra_pages;	/* the backing device's read_ahead_kb, in pages */
	pthread_mutex_t i_mmap_lock;
	struct vma *i_mmap;	/* VMAs mapping this inode */
	int dev_major, dev_minor;
	char *path;		/* absolute host path, for maps; NULL for anonymous shmem */
	struct inode *table_next;	/* the system's inode table */
	/*
	 * Write-back (writeback.c): the regular file's dirty pages (the
	 * mapping's PAGECACHE_TAG_DIRTY count), and, under the flusher's
	 * list_lock, its place on b_dirty (I_DIRTY_PAGES), when it went
	 * there (dirtied_when, ms of the virtual clock) and where the next
	 * cyclic write-back starts (mapping->writeback_index).
	 */
	_Atomic uint64_t nr_dirty;
	bool wb_listed;
	struct inode *wb_prev, *wb_next;
	uint64_t dirtied_when;
	uint64_t writeback_index;
	/*
	 * What the inode's file system does at its end, after its cache of
	 * cached_pages pages is freed (super_operations.evict_inode):
	 * hugetlbfs gives back the reservations never used. NULL: nothing.
	 */
	void (*evict_inode)(struct um_system *sys, struct inode *ino, uint64_t cached_pages);
};

/* The inode of an open host file (fd consumed), found or added in the table. */
UM_INTERNAL int inode_from_host(struct um_system *sys, int host_fd, bool writable,
				const char *relpath, struct inode **out);
UM_INTERNAL struct inode *zero_inode_new(struct um_system *sys);
/* Drops the table's references (um_system_free): dirty pages are written back. */
UM_INTERNAL void inode_table_release(struct um_system *sys);
UM_INTERNAL void i_mmap_link(struct vma *v);
UM_INTERNAL void i_mmap_unlink(struct vma *v);
static inline uint64_t inode_size(struct inode *ino)
{
	return atomic_load_explicit(&ino->size, memory_order_acquire);
}
UM_INTERNAL struct inode *shmem_inode_new(struct um_system *sys, uint64_t size);
/* A new inode of type with one reference, its locks made, no cache, no host file. */
UM_INTERNAL struct inode *inode_alloc(struct um_system *sys, enum inode_type type);
UM_INTERNAL void inode_get(struct inode *ino);
UM_INTERNAL void inode_put(struct um_system *sys, struct inode *ino);
/*
 * A reference to ino unless it is already dying (igrab): for those who
 * find an inode on a list that holds none (the LRU, b_dirty).
 */
static inline bool inode_tryget(struct inode *ino)
{
	int32_t r = atomic_load(&ino->refcount);

	while (r > 0)
		if (atomic_compare_exchange_weak(&ino->refcount, &r, r + 1))
			return true;
	return false;
}

/* file.c */

/*
 * Read-ahead state of an open file (struct file_ra_state), under the
 * inode's lock: the current window [start, start + size), whose last
 * async_size pages are read ahead of need (the first of them carries
 * PG_READAHEAD), the folio order the next window grows from, the misses of
 * mmap faults, and where the last read(2) ended (-1: none yet).
 */
struct file_ra_state {
	uint64_t start;
	uint64_t size;
	uint64_t async_size;
	uint32_t ra_pages;
	uint32_t mmap_miss;
	uint32_t order;
	int64_t prev_pos;
};

/* An open file description (struct file): shared by dup and fork. */
struct file {
	_Atomic int32_t refcount;
	struct inode *inode;
	int flags;		/* open flags: access mode, O_APPEND ... */
	pthread_mutex_t pos_lock;
	uint64_t pos;
	struct file_ra_state f_ra;
};

/* Access mode 3 gives a descriptor for neither reading nor writing, as on Linux. */
#define FMODE_READ(f) (((f)->flags & UM_O_ACCMODE) == UM_O_RDONLY || ((f)->flags & UM_O_ACCMODE) == UM_O_RDWR)
#define FMODE_WRITE(f) (((f)->flags & UM_O_ACCMODE) == UM_O_WRONLY || ((f)->flags & UM_O_ACCMODE) == UM_O_RDWR)

/* A process's descriptor table. */
struct fdtable {
	pthread_mutex_t lock;
	int size;
	struct file **fd;
	uint8_t *cloexec;
};

/* fdtable.c */
UM_INTERNAL int fdtable_init(struct um_system *sys, struct fdtable *t);
/* A new open file description of ino (whose reference it takes over), or NULL. */
UM_INTERNAL struct file *file_new(struct um_system *sys, struct inode *ino, int flags);
UM_INTERNAL int fdtable_dup(struct um_system *sys, struct fdtable *dst, struct fdtable *src);
UM_INTERNAL void fdtable_close_on_exec(struct um_system *sys, struct fdtable *t);
UM_INTERNAL void fdtable_destroy(struct um_system *sys, struct fdtable *t);
/* The file at fd with a reference, or NULL. */
UM_INTERNAL struct file *fget(struct um_proc *p, int fd);
/* Installs f at the lowest free descriptor of t; consumes the reference on success. */
UM_INTERNAL int fd_install(struct um_system *sys, struct fdtable *t, struct file *f,
			   bool cloexec);
UM_INTERNAL void fput(struct um_system *sys, struct file *f);
/* One more reference to an open file (get_file). */
static inline void file_get(struct file *f)
{
	atomic_fetch_add_explicit(&f->refcount, 1, memory_order_relaxed);
}

/* writeback.c */

/*
 * Why pages were written by the flusher's kind of work (the reasons of
 * Linux's writeback tracepoints; throttle is a writer's own, see
 * balance_dirty_pages).
 */
enum wb_reason { WB_REASON_PERIODIC, WB_REASON_BACKGROUND, WB_REASON_THROTTLE, WB_REASON_MAX };

/*
 * The machine's one flusher and its disk (struct bdi_writeback; Linux has
 * one per disk and cgroup). list_lock guards b_dirty, each inode's
 * wb_listed, wb_prev, wb_next and dirtied_when, and the timer fields; it
 * is taken alone (innermost, beside the lru_lock). work_lock makes one
 * wb_workfn run at a time (the work item's non-reentrancy).
 */
struct bdi_writeback {
	pthread_mutex_t list_lock;
	struct inode *b_dirty, *b_dirty_tail;	/* oldest dirtied_when first */
	uint64_t last_old_flush;	/* ms: the last kupdate-style pass */
	uint64_t wakeup_at;		/* ms: the delayed work's timer; UINT64_MAX: none */
	pthread_mutex_t work_lock;
	_Atomic uint64_t nr_dirty;	/* NR_FILE_DIRTY: dirty regular file pages */
	_Atomic uint64_t nr_dirtied;	/* NR_DIRTIED: pages that turned dirty, ever */
	_Atomic uint64_t nr_written;	/* NR_WRITTEN: pages written to their files, ever */
	_Atomic uint64_t written[WB_REASON_MAX]; /* of those, by the flusher's work and throttling */
	_Atomic uint64_t dirty_throttled; /* balance_dirty_pages calls that throttled a writer */
};

/* The dirty limits of the moment, in pages (global_dirty_limits). */
struct dirty_limits {
	uint64_t avail;		/* global_dirtyable_memory */
	uint64_t thresh;	/* dirty_ratio of it: a writer above is throttled */
	uint64_t bg_thresh;	/* dirty_background_ratio of it: the flusher writes down to it */
};

UM_INTERNAL void wb_init(struct um_system *sys);
UM_INTERNAL void wb_destroy(struct um_system *sys);
/*
 * folio_mark_dirty for a page of ino's cache: sets PG_DIRTY; a regular
 * file's page that was clean is accounted (NR_FILE_DIRTY, NR_DIRTIED) and
 * its inode goes on b_dirty if it was not there (__mark_inode_dirty).
 * ino may be NULL (a page no longer cached). Answers whether the page
 * was a regular file's and clean: the caller then balances
 * (balance_dirty_pages_ratelimited) once it holds no inode lock.
 */
UM_INTERNAL bool page_mark_dirty(struct um_system *sys, struct inode *ino, uint32_t pfn);
/* folio_cancel_dirty: clears PG_DIRTY, unaccounted (truncation, the inode's end). */
UM_INTERNAL void page_cancel_dirty(struct um_system *sys, struct inode *ino, uint32_t pfn);
/* global_dirty_limits: the thresholds from the free and file LRU pages of now. */
UM_INTERNAL void global_dirty_limits(struct um_system *sys, struct dirty_limits *dl);
/*
 * After a page was newly dirtied, with no inode lock held (a mm lock is
 * fine): starts the flusher past the background threshold, and throttles
 * the writer past the freerun ceiling (see writeback.c).
 */
UM_INTERNAL void balance_dirty_pages_ratelimited(struct um_system *sys);
/*
 * Moves the virtual clock to target (ms), running the flusher at each of
 * its wake-ups on the way, at its time. Caller holds no lock.
 */
UM_INTERNAL void wb_advance_clock(struct um_system *sys, uint64_t target);
/*
 * sync(2): writes back every regular file (wb_writeback, WB_SYNC_ALL) and
 * flushes it; inodes found clean leave b_dirty. Returns the first error.
 */
UM_INTERNAL int wb_sync_all(struct um_system *sys);
/* The inode's end: off b_dirty (inode_io_list_del). */
UM_INTERNAL void wb_inode_del(struct um_system *sys, struct inode *ino);
/* Counters against a recount of the dirty pages, b_dirty's links and order. */
UM_INTERNAL int wb_check(struct um_system *sys, char *why, size_t n);

/*
 * Writes back the dirty cached pages of ino in [start, end] (page indexes)
 * and, when sync, flushes the host file (fdatasync). Pages that fail stay
 * dirty. Returns 0 or the first error (EIO, ENOSPC ...), also the sticky
 * one of an earlier failure, which it clears.
 */
UM_INTERNAL int writeback_range(struct um_system *sys, struct inode *ino, uint64_t start,
				uint64_t end, bool sync);

/* truncate.c */
/* ftruncate on an inode: size, cache, and every mapping of the cut pages. */
UM_INTERNAL int truncate_setsize(struct um_system *sys, struct inode *ino, uint64_t size);
/*
 * Punches pages [first, first + nr) out of ino (fallocate PUNCH_HOLE |
 * KEEP_SIZE, shmem or file): unmapped everywhere but private copies, out
 * of the cache, a hole in the host file. MADV_REMOVE.
 */
UM_INTERNAL int punch_hole(struct um_system *sys, struct inode *ino, uint64_t first, uint64_t nr);

#endif /* UM_FS_H */
