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
