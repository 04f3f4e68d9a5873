/*
 * Internal structures of usermm, named as Linux names them.
 *
 * Locking, outermost first:
 *   1. mm->lock (mmap_lock): shared for faults and accesses, exclusive for
 *      calls that change VMAs (mmap, munmap, mprotect, fork of the parent,
 *      exec, exit).
 *   2. inode->lock: the page-cache tree of one inode.
 *   3. frame_pool->lock: the free list.
 * Page-table entries are changed with compare-and-swap under a shared mm
 * lock, or plainly under the exclusive one. Frame reference and map counts
 * are atomic.
 */
#ifndef UM_INTERNAL_H
#define UM_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "usermm.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define UM_INTERNAL __attribute__((visibility("hidden")))

/* x86-64 user address space: 47 bits, less the top page (um_system.task_size). */
#define USER_VA_END (1ULL << 47)
#define STACK_GAP_MIN (128ULL << 20)

/* ---------------------------------------------------------------- frames */

/* Frame flags (struct page flags). */
enum {
	PG_ANON = 1u << 0,	  /* owner is an anon_vma */
	PG_DIRTY = 1u << 1,	  /* page-cache page newer than its file */
	PG_UPTODATE = 1u << 2,	  /* contents valid */
	PG_RESERVED = 1u << 3,	  /* the zero frame: never freed, never counted */
	PG_SWAPBACKED = 1u << 4,  /* shmem or anonymous */
	PG_WRITEBACK = 1u << 5,	  /* being written to its file */
	PG_MLOCKED = 1u << 6,	  /* mapped by a VM_LOCKED VMA */
	PG_LRU = 1u << 7,	  /* on an LRU list */
	PG_ACTIVE = 1u << 8,	  /* on the active list */
	PG_REFERENCED = 1u << 9,  /* referenced since last scan */
	PG_FREE = 1u << 10,	  /* on the free list */
	PG_NEEDZERO = 1u << 11,	  /* held data once: zero before reuse for anon */
	PG_ANON_EXCL = 1u << 12,  /* anon frame mapped by exactly one mm (PageAnonExclusive) */
	PG_READAHEAD = 1u << 13,  /* cache page: touching it starts asynchronous read-ahead */
	PG_HUGETLB = 1u << 14,	  /* a base page of a huge page of the hugetlb pool */
};

/*
 * A cache page belongs to a folio of 2^order pages, aligned on its size in
 * the file, as read-ahead allocated it; the order lives in the flags (every
 * page of the folio carries it, and PG_READAHEAD too when the folio has it).
 */
#define PG_ORDER_SHIFT 24
#define PG_ORDER_MASK (0xfu << PG_ORDER_SHIFT)
#define pg_order(flags) (((flags) & PG_ORDER_MASK) >> PG_ORDER_SHIFT)

/*
 * One physical frame (struct page). 32 bytes: this size per frame is a
 * published figure (docs/performance.md), keep it.
 */
struct frame {
	_Atomic uint32_t flags;
	_Atomic int32_t refcount; /* page-table maps + cache + transient pins */
	_Atomic int32_t mapcount; /* page-table entries that map this frame */
	uint32_t index;		  /* page index in owner (file pages) */
	void *owner;		  /* struct inode * (file/shmem) or struct anon_vma * */
	uint32_t lru_next;	  /* free list / LRU links (frame numbers) */
	uint32_t lru_prev;
};

#define FRAME_NONE UINT32_MAX
#define ZERO_PFN 0u

/*
 * One huge page size's pool (struct hstate): huge pages of 2^order frames,
 * aligned on their size, taken from the top of physical memory when the
 * machine is made (as vm.nr_hugepages at boot). Under frame_pool.hlock.
 * A huge page is free when none of its frames holds a reference.
 */
struct hstate {
	uint32_t order;		/* log2(frames per huge page) */
	uint32_t base;		/* first frame of the pool */
	uint32_t nr;		/* huge pages (HugePages_Total) */
	uint32_t nr_free;	/* HugePages_Free */
	int64_t resv;		/* reserved, not yet faulted in (HugePages_Rsvd) */
	uint32_t *free_stack;	/* free huge page numbers, nr_free of them */
	uint32_t *live;		/* per huge page: its frames with a reference */
	uint8_t *restore;	/* per huge page: give a reservation back when freed */
};

#define HSTATE_PMD 0
#define HSTATE_PUD 1

struct frame_pool {
	unsigned char *base;	/* frame memory: one host reservation */
	struct frame *frames;	/* descriptors: one host reservation */
	uint64_t nframes;
	uint64_t limit;		/* frames [limit, nframes) are the huge page pools */
	struct hstate hs[2];	/* HSTATE_PMD, HSTATE_PUD */
	pthread_mutex_t hlock;	/* hugetlb_lock: the pools */
	uint32_t page_shift;
	size_t reserve_bytes;	/* of base */
	size_t desc_bytes;	/* of frames */
	_Atomic uint64_t bump;	/* frames [bump, nframes) never handed out (zero) */
	_Atomic uint64_t free_top; /* free stack through lru_next: (ABA tag << 32) | pfn */
	_Atomic uint64_t nr_free;
};

/* frame.c */
/* huge[HSTATE_*]: the huge pages to set aside for each pool. */
UM_INTERNAL int frame_pool_init(struct frame_pool *fp, uint64_t bytes, uint32_t page_shift,
				const uint32_t huge[2]);
/*
 * Takes a free huge page of hs off its pool: its first frame, or
 * FRAME_NONE when the pool is empty. The caller holds fp->hlock and has
 * settled the reservation; then, without the lock, huge_page_prepare
 * zeroes it and gives each of its frames refcount 1 and mapcount 0.
 */
UM_INTERNAL uint32_t huge_page_take(struct hstate *hs);
UM_INTERNAL void huge_page_prepare(struct frame_pool *fp, struct hstate *hs, uint32_t pfn);
/* The pool that pfn's frame belongs to (its PG_HUGETLB flag set). */
UM_INTERNAL struct hstate *pfn_hstate(struct frame_pool *fp, uint32_t pfn);
UM_INTERNAL void frame_pool_destroy(struct frame_pool *fp);
/* Allocates a frame with refcount 1, mapcount 0; zeroed when zero is true. */
UM_INTERNAL uint32_t frame_alloc(struct frame_pool *fp, bool zero);
UM_INTERNAL void frame_free(struct frame_pool *fp, uint32_t pfn);
/* Drops one reference; frees the frame when it was the last. */
UM_INTERNAL void frame_put(struct frame_pool *fp, uint32_t pfn);
UM_INTERNAL int frame_pool_check(struct frame_pool *fp, char *why, size_t n);

static inline struct frame *pfn_frame(struct frame_pool *fp, uint32_t pfn)
{
	return &fp->frames[pfn];
}

static inline unsigned char *pfn_host(struct frame_pool *fp, uint32_t pfn)
{
	return fp->base + ((size_t)pfn << fp->page_shift);
}

/* ----------------------------------------------------------- page tables */

/*
 * A leaf entry (PTE). Present entries hold the frame number above the flag
 * bits; the layout follows x86-64 for the low bits.
 */
typedef uint64_t pte_t;

#define PTE_PRESENT (1ULL << 0)
#define PTE_WRITE (1ULL << 1)
#define PTE_USER (1ULL << 2)
#define PTE_ACCESSED (1ULL << 5)
#define PTE_DIRTY (1ULL << 6)
#define PTE_SPECIAL (1ULL << 9)	/* the zero frame: no refcount, not in RSS */
#define PTE_SOFT_DIRTY (1ULL << 11)
/* A guard region's PTE marker (MADV_GUARD_INSTALL): not present, no frame. */
#define PTE_GUARD (1ULL << 10)
#define PTE_PFN_SHIFT 12
#define PTE_PFN_MASK 0x000ffffffffff000ULL

static inline uint32_t pte_pfn(pte_t pte)
{
	return (uint32_t)((pte & PTE_PFN_MASK) >> PTE_PFN_SHIFT);
}

static inline pte_t pfn_pte(uint32_t pfn, uint64_t bits)
{
	return ((uint64_t)pfn << PTE_PFN_SHIFT) | bits;
}

/*
 * Page-table geometry for a page size: levels of page_size/8 entries, as
 * hardware builds them (x86-64's four levels of 512 for 4 KiB pages; three
 * levels for 16 and 64 KiB pages, as arm64). The top level may be partial.
 */
struct pgtable {
	struct um_system *sys;
	_Atomic uint64_t *root;		/* top-level table */
	uint32_t levels;
	uint32_t page_shift;
	uint32_t bits_per_level;	/* log2(entries per table) */
	uint32_t top_bits;		/* bits resolved by the top level */
	uint8_t shift[8];		/* per level: the address bit its index starts at */
	uint64_t mask[8];		/* per level: entries - 1 */
	_Atomic uint64_t nr_tables;	/* tables allocated below the root */
};

/* pagetable.c */
UM_INTERNAL int pgtable_init(struct pgtable *pt, struct um_system *sys, uint32_t page_shift);
/* Frees every table; the caller has already dropped the frames. */
UM_INTERNAL void pgtable_destroy(struct pgtable *pt);
/*
 * The leaf slot for va, allocating missing tables when alloc is true
 * (concurrent callers under a shared mm lock are safe). NULL when a table is
 * missing and alloc is false, or on allocation failure.
 */
UM_INTERNAL _Atomic pte_t *pgtable_walk(struct pgtable *pt, uint64_t va, bool alloc);
/*
 * The leaf slots for [va, *span_end) where *span_end = min(end, end of va's
 * leaf table). When the leaf table is absent (and alloc is false) returns NULL
 * with *span_end at the end of the absent region (clipped to end), so that
 * holes are skipped a table at a time.
 */
UM_INTERNAL _Atomic pte_t *pgtable_span(struct pgtable *pt, uint64_t va, uint64_t end,
					uint64_t *span_end, bool alloc);
/*
 * Moves the entries of [old, old + len) to [new, new + len) (ranges that do
 * not overlap, page aligned): whole leaf tables where both sides are aligned
 * to one, entries elsewhere. Every table it needs is made before anything
 * moves: -ENOMEM leaves the entries where they were. The mm lock is held
 * exclusive.
 */
UM_INTERNAL int pgtable_move(struct pgtable *pt, uint64_t old, uint64_t new, uint64_t len);
/* Frees leaf and interior tables wholly inside [start, end) that are empty. */
UM_INTERNAL void pgtable_free_range(struct pgtable *pt, uint64_t start, uint64_t end);
/* What one leaf table maps: the bytes of a PMD entry on x86-64 (2 MiB with 4 KiB pages). */
UM_INTERNAL uint64_t pgtable_leaf_span(const struct pgtable *pt);
/* Bytes of tables below the root (Linux's VmPTE counts PTE, PMD and PUD tables). */
UM_INTERNAL uint64_t pgtable_bytes(const struct pgtable *pt);
UM_INTERNAL int pgtable_check(const struct pgtable *pt, char *why, size_t n);

/* ------------------------------------------------------------------ VMAs */

/* vm_flags, with Linux's values. */
#define VM_READ 0x00000001ULL
#define VM_WRITE 0x00000002ULL
#define VM_EXEC 0x00000004ULL
#define VM_SHARED 0x00000008ULL
#define VM_MAYREAD 0x00000010ULL
#define VM_MAYWRITE 0x00000020ULL
#define VM_MAYEXEC 0x00000040ULL
#define VM_MAYSHARE 0x00000080ULL
#define VM_GROWSDOWN 0x00000100ULL
#define VM_MAYBE_GUARD 0x00000800ULL /* may hold guard markers: merges keep it, fork copies its PTEs */
#define VM_LOCKED 0x00002000ULL
#define VM_SEQ_READ 0x00008000ULL
#define VM_RAND_READ 0x00010000ULL
#define VM_DONTCOPY 0x00020000ULL
#define VM_DONTEXPAND 0x00040000ULL
#define VM_LOCKONFAULT 0x00080000ULL
#define VM_ACCOUNT 0x00100000ULL
#define VM_NORESERVE 0x00200000ULL
#define VM_HUGETLB 0x00400000ULL
#define VM_SYNC 0x00800000ULL
#define VM_WIPEONFORK 0x02000000ULL
#define VM_DONTDUMP 0x04000000ULL
#define VM_SOFTDIRTY 0x08000000ULL
#define VM_HUGEPAGE 0x20000000ULL
#define VM_NOHUGEPAGE 0x40000000ULL
#define VM_MERGEABLE 0x80000000ULL
#define VM_DROPPABLE (1ULL << 40)

#define VM_ACCESS_FLAGS (VM_READ | VM_WRITE | VM_EXEC)
#define VM_LOCKED_MASK (VM_LOCKED | VM_LOCKONFAULT)
/* Mappings that never merge, grow or lock (Linux adds VM_IO, VM_PFNMAP, VM_MIXEDMAP). */
#define VM_SPECIAL VM_DONTEXPAND
/* x86-64's VM_STACK is VM_GROWSDOWN. */
#define VM_STACK VM_GROWSDOWN

/*
 * Linux's classification of VMAs for data_vm, stack_vm and exec_vm
 * (mm/internal.h): RLIMIT_DATA counts the data mappings.
 */
static inline bool is_data_mapping(uint64_t flags)
{
	return (flags & (VM_WRITE | VM_SHARED | VM_STACK)) == VM_WRITE;
}

static inline bool is_stack_mapping(uint64_t flags)
{
	return (flags & VM_STACK) == VM_STACK;
}

static inline bool is_exec_mapping(uint64_t flags)
{
	return (flags & (VM_EXEC | VM_WRITE | VM_STACK)) == VM_EXEC;
}

/*
 * The anonymous-memory object of a private VMA (anon_vma): created on the
 * first fault that needs one, shared by the pieces of a split VMA. Two VMAs
 * with different anon_vmas never merge, as on Linux.
 */
struct anon_vma {
	_Atomic int32_t refcount;
	uint64_t id;
};

struct inode;
struct hugetlb_resv;

struct vma {
	uint64_t vm_start;
	uint64_t vm_end;	/* exclusive */
	uint64_t vm_flags;
	uint64_t vm_pgoff;	/* in pages; for anonymous VMAs vm_start's page number */
	struct inode *vm_file;	/* file or shmem inode, or NULL */
	struct file *vm_filp;	/* a regular file's open file (its read-ahead state), or NULL */
	struct anon_vma *anon_vma;
	bool anon_forked;	/* anon_vma chain longer than one (after fork) */
	struct hugetlb_resv *hresv;	/* hugetlb private: the owner's reservations, or NULL */
	bool hugetlb_unmapped;		/* hugetlb private: the owner took a page back (SIGBUS) */
	/* tree (vma.c) */
	struct vma *left, *right;
	struct vma *prev, *next;	/* address order */
	int height;
	uint64_t gap;			/* vm_start - prev->vm_end (prev NULL: vm_start) */
	uint64_t max_gap;		/* largest gap in this subtree */
	/* the inode's i_mmap list (rmap for file pages), under inode->i_mmap_lock */
	struct vma *i_mmap_next, *i_mmap_prev;
	struct mm *vm_mm;
	bool i_mmap_linked;
};

struct vma_tree {
	struct vma *root;
	struct vma *first, *last;
	uint32_t count;
};

/* vma.c */
/*
 * The pages inside [start, end) of the VMAs whose flags hold every bit of
 * mask; mask 0: of every VMA (count_vma_pages_range).
 */
UM_INTERNAL uint64_t vma_pages_in(const struct mm *mm, uint64_t start, uint64_t end,
				  uint64_t mask);
UM_INTERNAL void vma_tree_init(struct vma_tree *t);
/* The first VMA with vm_end > addr (find_vma), or NULL. */
UM_INTERNAL struct vma *vma_find(const struct vma_tree *t, uint64_t addr);
/* The VMA containing addr, or NULL. */
UM_INTERNAL struct vma *vma_lookup(const struct vma_tree *t, uint64_t addr);
/* Inserts v, which must not overlap any VMA in t. */
UM_INTERNAL void vma_insert(struct vma_tree *t, struct vma *v);
UM_INTERNAL void vma_remove(struct vma_tree *t, struct vma *v);
/* Call after changing v->vm_start or v->vm_end in place (order kept). */
UM_INTERNAL void vma_bounds_changed(struct vma_tree *t, struct vma *v);
/*
 * The highest address a with [a, a+len) free and inside [low, high), or 0
 * when there is none (top-down search, as unmapped_area_topdown).
 */
UM_INTERNAL uint64_t vma_gap_topdown(const struct vma_tree *t, uint64_t len, uint64_t low,
				     uint64_t high);
/* Is [start, end) free of VMAs? */
UM_INTERNAL bool vma_range_free(const struct vma_tree *t, uint64_t start, uint64_t end);
UM_INTERNAL int vma_tree_check(const struct vma_tree *t, char *why, size_t n);

/* -------------------------------------------------------------- inodes */

/*
 * A file, a shmem object or a device, with its page cache (index -> frame).
 * Files are real files under the sandbox directory, one inode per host
 * file (keyed by host device and inode number), so every open and every
 * mapping of a file shares one cache, as on Linux.
 */
struct pc_node;

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

/* inode.c */
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

/* host.c: the only file that calls host file I/O */
enum host_op { HOST_OPEN, HOST_READ, HOST_WRITE, HOST_SYNC, HOST_TRUNCATE, HOST_NR_OPS };

/* The n-th host call (counting the ops selected) fails with err (tests). */
struct host_faults {
	bool armed;
	bool sticky;		/* every call after the n-th fails too */
	uint32_t ops;		/* bit mask of host_op */
	uint64_t fail_at;
	int err;
	_Atomic uint64_t count;
};

/*
 * The n-th heap allocation (um_malloc, um_calloc) fails, as SQLite's and
 * Lua's test harnesses make it (tests, alloc.c). Counts only while armed;
 * fail_at 0 just counts.
 */
struct alloc_faults {
	bool armed;
	bool sticky;		/* every allocation after the n-th fails too */
	uint64_t fail_at;
	_Atomic uint64_t count;	/* allocations seen while armed */
	_Atomic uint64_t failed; /* allocations refused while armed */
};

struct iovec;
struct stat;
UM_INTERNAL int host_open_beneath(struct um_system *sys, const char *path, int flags,
				  unsigned mode);
UM_INTERNAL int64_t host_pread(struct um_system *sys, int fd, void *buf, uint64_t n, uint64_t off);
UM_INTERNAL int64_t host_preadv(struct um_system *sys, int fd, const struct iovec *iov, int cnt,
				uint64_t off);
UM_INTERNAL int64_t host_pwrite(struct um_system *sys, int fd, const void *buf, uint64_t n,
				uint64_t off);
UM_INTERNAL int host_fdatasync(struct um_system *sys, int fd);
/* The read_ahead_kb of the host disk holding device dev, or UINT32_MAX when it has none. */
UM_INTERNAL uint32_t host_read_ahead_kb(uint64_t dev);
UM_INTERNAL int host_fsync(struct um_system *sys, int fd);
UM_INTERNAL int host_ftruncate(struct um_system *sys, int fd, uint64_t len);
UM_INTERNAL int host_punch_hole(struct um_system *sys, int fd, uint64_t off, uint64_t len);
/* Does [off, off + len) of the host file hold no data (a hole, or past its end)? */
UM_INTERNAL bool host_is_hole(int fd, uint64_t off, uint64_t len);
UM_INTERNAL int host_fstat(int fd, struct stat *st);
/* Sets the host file's permission bits; best effort (the inode holds the truth). */
UM_INTERNAL void host_fchmod(int fd, uint32_t mode);
/* The effective uid and gid of the program running the library. */
UM_INTERNAL void host_ids(uint32_t *uid, uint32_t *gid);
UM_INTERNAL void host_close(int fd);
/* The absolute path the host resolved for fd (as /proc/self/fd shows it). */
UM_INTERNAL int host_fd_path(int fd, char *buf, size_t n);
UM_INTERNAL int host_sandbox_open(struct um_system *sys, const char *dir);
UM_INTERNAL void host_sandbox_close(struct um_system *sys);
/* bytes of zeroed host memory reserved, not committed (MAP_NORESERVE), or NULL; huge: ask for THP. */
UM_INTERNAL void *host_reserve(size_t bytes, bool huge);
UM_INTERNAL void host_release(void *p, size_t bytes);
/* The membarrier(2) command that makes every thread of this process pass a full barrier. */
UM_INTERNAL int host_membarrier_register(void);
UM_INTERNAL void host_membarrier(int cmd);

/* inode.c */
UM_INTERNAL struct inode *shmem_inode_new(struct um_system *sys, uint64_t size);
/* A new inode of type with one reference, its locks made, no cache, no host file. */
UM_INTERNAL struct inode *inode_alloc(struct um_system *sys, enum inode_type type);

/* hugetlb.c */
/* The huge page shift MAP_HUGETLB's size field names (0: the default), or -EINVAL. */
UM_INTERNAL int hugetlb_shift(const struct um_system *sys, uint64_t map_flags);
/* hugetlb_file_setup: the O_RDWR file of a new anonymous hugetlb inode, or NULL. */
UM_INTERNAL struct file *hugetlb_file_new(struct um_system *sys, uint64_t size, unsigned shift);
/* The mask of v's huge page size (huge_page_mask's complement), 0 for other VMAs. */
static inline uint64_t vma_hpage_mask(const struct vma *v)
{
	return (v->vm_flags & VM_HUGETLB) ? (1ULL << v->vm_file->hpage_shift) - 1 : 0;
}
/*
 * hugetlbfs_file_mmap's checks and reservation for v (not yet inserted),
 * made after MAP_FIXED has unmapped the range: -EINVAL, -ENOMEM or 0.
 */
UM_INTERNAL int hugetlb_mmap_checks(struct um_system *sys, struct inode *ino, struct vma *v,
				    uint64_t pgoff, uint64_t len, uint64_t vm_flags);
/* hugetlb_vm_op_close: the owner gives back the reservations v never used. */
UM_INTERNAL void hugetlb_vma_close(struct um_system *sys, struct vma *v);
/*
 * n, a piece or copy of v, shares v's private reservations and flags
 * (vm_private_data, hugetlb_vm_op_open).
 */
UM_INTERNAL void hugetlb_vma_share_resv(struct vma *n, const struct vma *v);
/* v no longer owns reservations, giving none back (clear_vma_resv_huge_pages). */
UM_INTERNAL void hugetlb_vma_clear_resv(struct um_system *sys, struct vma *v);
/* The unlinked inode of the internal hugetlbfs mount for huge pages of 2^shift bytes. */
UM_INTERNAL struct inode *hugetlb_inode_new(struct um_system *sys, uint64_t size, unsigned shift);
/* Before [start, end) of v is zapped: the owner's pages will restore reservations. */
UM_INTERNAL void hugetlb_zap_prepare(struct mm *mm, struct vma *v, uint64_t start, uint64_t end);
/*
 * A hole is about to be punched in a hugetlb inode over base pages [first,
 * first + nr), whole huge pages: the pages it removes leave the resv_map.
 */
UM_INTERNAL void hugetlb_punch_prepare(struct um_system *sys, struct inode *ino, uint64_t first,
				       uint64_t nr);
UM_INTERNAL void inode_get(struct inode *ino);
UM_INTERNAL void inode_put(struct um_system *sys, struct inode *ino);
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
 * Finds or creates the frame at index alone: shmem pages start
 * zero-filled, file pages are read from the host file (a major fault:
 * *major set) without read-ahead, as write(), MADV_WILLNEED and the like
 * need them. Returns the frame with one extra reference for the caller,
 * or FRAME_NONE with *err (-ENOMEM, -EIO ...).
 */
/*
 * ext4 zeroes the tail of the block at EOF when a size change leaves it
 * partial (the old EOF growing, the new one shrinking): when that block is
 * a hole its page is left in the cache, not uptodate. mincore counts it
 * out, fault-around and read-ahead pass it by, the next access reads it.
 * inode->lock held.
 */
UM_INTERNAL void pagecache_add_eof_block(struct um_system *sys, struct inode *ino, uint64_t index);
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
struct vm_fault;
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
UM_INTERNAL void pagecache_for_each(struct inode *ino, void (*fn)(uint32_t pfn, void *arg),
				    void *arg);
UM_INTERNAL int pagecache_check(struct um_system *sys, struct inode *ino, char *why, size_t n);
/* Puts the n frames from pfn (a huge page, its references the cache's) at [index, +n). */
UM_INTERNAL int pagecache_insert_huge(struct um_system *sys, struct inode *ino, uint64_t index,
				      uint32_t pfn, uint64_t n);

/* ------------------------------------------------------------------ TLB */

/*
 * A thread's TLB: one mm at a time, as a CPU without ASIDs. The hot part
 * (generation, geometry, entries, the busy flag) is the public struct
 * um_tlb, so that embedders can probe it inline; an entry caches a page's
 * host address with separate read and write tags, as QEMU's softmmu does.
 * busy is set while a store is in flight, so that a shootdown can wait
 * for it (mm_tlb_sync); the thread's TLB is on a process-wide registry
 * from its first fill until the thread exits.
 */
#define TLB_SIZE UM_TLB_SIZE
#define TLB_INVALID (~0ULL)
#define tlb_entry um_tlb_entry

struct tlb {
	struct um_tlb h;
	const struct mm *_Atomic mm;
	bool registered;
	struct tlb *reg_next, *reg_prev;
};

/*
 * Frames unmapped by a zap, kept until every TLB that may still hold them
 * has been shot down (mmu_gather).
 */
#define MMU_GATHER_MAX 512

struct mmu_gather {
	struct mm *mm;
	uint32_t n;
	uint32_t pfn[MMU_GATHER_MAX];
};

/* ------------------------------------------------------------------ mm */

/* The RSS counters, and hugetlb's pages (HugetlbPages), which RSS leaves out. */
enum { MM_FILEPAGES, MM_ANONPAGES, MM_SHMEMPAGES, MM_HUGETLBPAGES, NR_MM_COUNTERS };

/* The mm counter a frame with these flags is charged to (mm_counter()). */
static inline int frame_mm_counter(uint32_t flags)
{
	if (flags & PG_HUGETLB)
		return MM_HUGETLBPAGES;
	if (flags & PG_ANON)
		return MM_ANONPAGES;
	return (flags & PG_SWAPBACKED) ? MM_SHMEMPAGES : MM_FILEPAGES;
}

/*
 * A process's resource limits (signal_struct's rlim): read without a lock,
 * as Linux's rlimit() reads them; um_setrlimit changes a pair under the
 * system lock.
 */
struct rlimits {
	_Atomic uint64_t cur[UM_RLIM_NLIMITS];
	_Atomic uint64_t max[UM_RLIM_NLIMITS];
};

struct mm {
	struct um_system *sys;
	const struct rlimits *rlim;	/* its process's limits */
	pthread_rwlock_t lock;		/* mmap_lock */
	pthread_mutex_t pt_lock;	/* page_table_lock: anon_vma_prepare under a shared lock */
	/* under lock */
	struct vma_tree vmas;
	struct pgtable pt;
	uint64_t mmap_base;
	uint64_t total_vm;		/* pages */
	uint64_t data_vm;		/* pages of data mappings (is_data_mapping) */
	uint64_t locked_vm;		/* pages */
	uint64_t locked_vm_stale;	/* of those, in no VM_LOCKED VMA (DONTUNMAP leaves them, as Linux) */
	uint64_t def_flags;		/* VM_LOCKED after mlockall(MCL_FUTURE) */
	uint64_t start_brk, brk;	/* the heap: [start_brk, brk) */
	struct um_proc *owner;		/* whose credentials its calls use (mm->owner) */
	/* atomic; tlb_gen alone on its line: every access reads it */
	_Alignas(64) _Atomic uint64_t tlb_gen;	/* shootdown generation */
	_Alignas(64) char gen_pad;
	_Atomic int64_t rss[NR_MM_COUNTERS];	/* pages */
	_Atomic uint64_t min_flt;
	_Atomic uint64_t maj_flt;
};

struct um_proc {
	struct um_system *sys;
	int pid;
	struct mm *mm;
	struct fdtable files;
	pthread_mutex_t cred_lock;	/* cred: changed by set*id and umask, copied by readers */
	struct um_cred cred;
	struct um_proc *next_proc, *prev_proc;	/* system's process list */
	struct rlimits rlim;
	_Atomic uint64_t sigpending;		/* bit signo - 1: sent by a call, not taken */
};

/* resource.c */
/* The soft limit of resource res (Linux's rlimit()). */
static inline uint64_t rlimit(const struct mm *mm, unsigned res)
{
	return atomic_load_explicit(&mm->rlim->cur[res], memory_order_relaxed);
}
/* A new process's limits: Linux's defaults, RLIMIT_MEMLOCK the configuration's. */
UM_INTERNAL void rlimits_init(const struct um_system *sys, struct rlimits *r);
UM_INTERNAL void rlimits_copy(struct rlimits *dst, const struct rlimits *src);
/* send_sig: makes sig pending on p, for um_signal_take. */
UM_INTERNAL void send_sig(struct um_proc *p, int sig);

/* -------------------------------------------------------------- system */

struct um_system {
	struct um_config cfg;
	uint32_t page_shift;
	uint64_t page_size;
	uint64_t page_mask;		/* page_size - 1 */
	uint64_t task_size;		/* end of user space: USER_VA_END - page_size */
	struct frame_pool fp;
	pthread_mutex_t lock;		/* process list, pid and id counters */
	struct um_proc *procs;
	uint64_t nr_procs;
	int next_pid;
	_Atomic uint64_t next_id;	/* inode numbers, anon_vma ids */
	_Atomic uint64_t pgfault, pgmajfault, cow_copies;
	_Atomic uint64_t committed;	/* pages charged (Committed_AS) */
	/* files */
	int sandbox_fd;
	char *sandbox_path;
	bool sandbox_owned;		/* made by us: removed at um_system_free */
	pthread_mutex_t inode_lock;	/* the inode table */
	struct inode *inodes;
	struct inode *zero;		/* /dev/zero */
	struct host_faults host_faults;
	struct alloc_faults alloc_faults;
	pthread_mutex_t hugetlb_mutex;	/* hugetlb_fault_mutex: huge page faults, one at a time */
};

/* commit.c */
UM_INTERNAL uint64_t vm_commit_limit(const struct um_system *sys);
/* Charges pages to the committed total if the policy allows; 0 or -ENOMEM. */
UM_INTERNAL int vm_enough_memory(struct mm *mm, uint64_t pages);
UM_INTERNAL void vm_unacct_memory(struct um_system *sys, uint64_t pages);

/* Allocation: one place, so tests can fail the n-th call (alloc.c). */
UM_INTERNAL void *um_malloc(struct um_system *sys, size_t n);
UM_INTERNAL void *um_calloc(struct um_system *sys, size_t n, size_t size);
UM_INTERNAL void um_free(struct um_system *sys, void *p);

/* A generation number never used before in this host process (tlb.c). */
UM_INTERNAL uint64_t um_gen_next(void);

/* mm.c */
/*
 * may_expand_vm: may mm map npages more pages with flags vm_flags, under
 * RLIMIT_AS (total_vm) and, for a data mapping, RLIMIT_DATA (data_vm)?
 */
UM_INTERNAL bool may_expand_vm(const struct mm *mm, uint64_t vm_flags, uint64_t npages);
/* vm_stat_account: npages (negative: fewer) mapped with flags vm_flags. */
UM_INTERNAL void vm_stat_account(struct mm *mm, uint64_t vm_flags, int64_t npages);
/* Whether a new VM_LOCKED range of len bytes fits RLIMIT_MEMLOCK (mlock_future_ok). */
UM_INTERNAL bool mlock_future_ok(const struct mm *mm, uint64_t vm_flags, uint64_t len);
/* A new empty mm under the limits rlim (its process's, which outlive it). */
UM_INTERNAL struct mm *mm_new(struct um_system *sys, const struct rlimits *rlim);
/* Frees an mm whose mappings are gone (exit_mmap). */
UM_INTERNAL void mm_free(struct mm *mm);
/*
 * Invalidates every thread's TLB entries for mm: each thread drops its TLB
 * when it next sees the new generation. Enough when no write right was
 * taken away (a COW break replaces a read-only PTE).
 */
static inline void mm_tlb_flush(struct mm *mm)
{
	atomic_store_explicit(&mm->tlb_gen, um_gen_next(), memory_order_release);
}

/* tlb.c */
/*
 * The full shootdown: mm_tlb_flush, then waits until no other thread can
 * still be storing through an entry of mm it read before the flush. Call
 * after taking rights away from PTEs (munmap, mprotect, fork) and before
 * freeing their frames. The mm lock is held exclusive.
 */
UM_INTERNAL void mm_tlb_sync(struct mm *mm);
/*
 * Invalidates the translation of one page: only this thread's entry when
 * no other thread's TLB holds mm, else every TLB of mm (mm_tlb_flush).
 */
UM_INTERNAL void mm_tlb_flush_page(struct mm *mm, uint64_t va);
/* Empties t and points it at mm's generation gen; registers it on first use. */
UM_INTERNAL void tlb_reset(struct tlb *t, const struct mm *mm, uint64_t gen);
UM_INTERNAL void tlb_gather_init(struct mmu_gather *g, struct mm *mm);
/* Queues a frame whose PTE was cleared; its reference is dropped after a sync. */
UM_INTERNAL void tlb_gather_add(struct mmu_gather *g, uint32_t pfn);
UM_INTERNAL void tlb_gather_finish(struct mmu_gather *g);
UM_INTERNAL int mm_check(struct mm *mm, char *why, size_t n);
/*
 * Zaps the PTEs of [start, end): counters and map counts drop now, the
 * frames go to g, released after the shootdown. even_cows false keeps the
 * anonymous pages (private copies) and zaps only file pages. The mm lock
 * is held exclusive, or the page's inode i_mmap lock (truncate).
 */
UM_INTERNAL void mm_zap_range(struct mm *mm, struct mmu_gather *g, uint64_t start, uint64_t end,
			      bool even_cows);

/* guard.c: guard regions; the mm lock is held exclusive. */
UM_INTERNAL int madvise_guard_install(struct mm *mm, struct vma *v, uint64_t start, uint64_t end);
UM_INTERNAL int madvise_guard_remove(struct mm *mm, struct vma *v, uint64_t start, uint64_t end);
/* Clears the guard markers of [start, end) (munmap: zapping keeps them). */
UM_INTERNAL void guard_markers_clear(struct mm *mm, uint64_t start, uint64_t end);

/* vma_ops.c: VMA life cycle in an mm */
UM_INTERNAL struct vma *vma_alloc(struct um_system *sys);
UM_INTERNAL void vma_free(struct um_system *sys, struct vma *v);
/*
 * Splits v at addr (vm_start < addr < vm_end); v keeps the lower part when
 * new_below is false, the upper part otherwise. Returns 0 or -ENOMEM
 * (allocation, or max_map_count reached).
 */
UM_INTERNAL int vma_split(struct mm *mm, struct vma *v, uint64_t addr, bool new_below);
/* The same without the max_map_count check (munmap may pass it briefly). */
UM_INTERNAL int __vma_split(struct mm *mm, struct vma *v, uint64_t addr, bool new_below);
/*
 * vma_modify_flags: [start, end) of v gets newflags: split off (max_map_count
 * applies: -ENOMEM), set, merged with its neighbours where Linux would.
 */
UM_INTERNAL int vma_modify_flags(struct mm *mm, struct vma *v, uint64_t start, uint64_t end,
				 uint64_t newflags);
/* Can a and b (a directly below b) merge into one VMA? */
UM_INTERNAL bool vma_can_merge(const struct mm *mm, const struct vma *a, const struct vma *b);
/*
 * Everything a merge of a (directly below b) needs but anon_vma
 * compatibility, their flags compared but for those in ignore (vma.c).
 */
UM_INTERNAL bool vma_props_mergeable(const struct mm *mm, const struct vma *a,
				     const struct vma *b, uint64_t ignore);
/* Merges v with prev and/or next where Linux would; returns the result. */
UM_INTERNAL struct vma *vma_merge_neighbours(struct mm *mm, struct vma *v);
/*
 * vma_merge_extend: v has just grown at its end in place (mremap); only the
 * VMA after it may merge, never the one before (Linux's vma_merge_extend).
 */
UM_INTERNAL struct vma *vma_merge_extend(struct mm *mm, struct vma *v);
/* rmap.c */
/* v's anon_vma: a compatible neighbour's (find_mergeable_anon_vma) or a new one. */
UM_INTERNAL int anon_vma_prepare(struct mm *mm, struct vma *v);
/* anon_vma_prepare under a shared mm lock (a fault's). */
UM_INTERNAL int anon_vma_prepare_shared(struct mm *mm, struct vma *v);
/* A new anon_vma for v (fork's child VMAs). */
UM_INTERNAL int anon_vma_new(struct mm *mm, struct vma *v);
UM_INTERNAL void anon_vma_put(struct um_system *sys, struct anon_vma *av);

/* fault.c */
enum fault_access { FAULT_READ = 0, FAULT_WRITE = 1 };

/*
 * One page fault, carried through the handler (fault.c), the page cache's
 * ->fault (pagecache_fault) and hugetlb_fault, as Linux's struct vm_fault.
 * Filled by handle_mm_fault; the handlers read it and set what they learn.
 */
struct vm_fault {
	struct mm *mm;
	struct vma *vma;		/* contains address, and allows acc */
	uint64_t address;		/* the faulting address */
	uint64_t pgoff;			/* its page in the VMA's file (linear_page_index) */
	enum fault_access acc;
	_Atomic pte_t *pte;		/* address's slot; NULL while no table covers it */
	pte_t orig_pte;			/* what the slot held when the handler read it */
	bool pmd_none;			/* no page table covered address (pmd_none) */
	bool tried;			/* the retry after a major fault (FAULT_FLAG_TRIED) */
	bool major;			/* a page was read from the file (VM_FAULT_MAJOR) */
	struct um_siginfo *si;		/* where a failing fault reports its signal */
};

/*
 * hugetlb_fault for vmf (the access already allowed by the VMA): 0,
 * -ENOSPC (no huge page: SIGBUS) or -ENOMEM. The mm lock is held shared.
 */
UM_INTERNAL int hugetlb_fault(struct vm_fault *vmf);
/*
 * handle_mm_fault: resolves a fault at addr. Mm lock held shared.
 * Returns 0 (the PTE now allows the access) or -EFAULT with si set.
 */
UM_INTERNAL int handle_mm_fault(struct mm *mm, uint64_t addr, enum fault_access acc,
				struct um_siginfo *si);
/* The same, handing back the PTE slot of addr (valid while the mm lock is held). */
UM_INTERNAL int handle_mm_fault_pte(struct mm *mm, uint64_t addr, enum fault_access acc,
				    struct um_siginfo *si, _Atomic pte_t **ptep_out);
/*
 * handle_mm_fault answers -EAGAIN (with si set to SEGV_MAPERR) for an
 * address just below a MAP_GROWSDOWN VMA: the caller takes the mm lock
 * exclusive, calls expand_stack, and faults again; if it does not, the
 * access is the SIGSEGV si describes.
 */
UM_INTERNAL int expand_stack(struct mm *mm, uint64_t addr);
/*
 * copy_from_user with page faults disabled (copy_folio_from_iter_atomic):
 * copies from process memory at src while its pages are mapped readable,
 * stopping at the first that is not, without faulting. Returns the bytes
 * copied. Takes the mm lock shared.
 */
UM_INTERNAL size_t copy_from_user_nofault(struct um_proc *p, void *dst, uint64_t src, size_t len);
/* Linux's protection check of an access against a VMA (x86-64: write implies read). */
UM_INTERNAL bool vma_access_ok(const struct vma *v, enum fault_access acc);

/*
 * Anonymous memory (Linux's vma_is_anonymous: no vm_ops): no file, or a
 * private mapping of /dev/zero, which keeps its file for maps and madvise.
 */
static inline bool vma_is_anonymous(const struct vma *v)
{
	return !v->vm_file || v->vm_file->type == INODE_ZERO;
}

/* gup.c */
/*
 * Faults in every page of [start, end) as __mm_populate does: a write
 * fault for private writable VMAs (breaking COW), else a read fault; PROT_NONE
 * VMAs and holes end it. Takes the mm lock shared. Returns 0, -EFAULT for
 * a page that cannot be had (PROT_NONE, SIGBUS) or -ENOMEM when out of
 * memory; ignore_errors (MAP_POPULATE) goes on past both.
 */
UM_INTERNAL int mm_populate(struct mm *mm, uint64_t start, uint64_t end, bool ignore_errors);
/* The same with the mm lock already held (shared or exclusive). */
UM_INTERNAL int __mm_populate(struct mm *mm, uint64_t start, uint64_t end, bool ignore_errors);

/* mlock.c */
UM_INTERNAL bool can_do_mlock(const struct mm *mm);

/* mmap.c helpers shared by mprotect/munmap */
UM_INTERNAL int do_munmap(struct mm *mm, uint64_t start, uint64_t len);
/* Unmaps everything (exit, exec, a failed fork); mm lock held exclusive or mm unshared. */
UM_INTERNAL void exit_mmap(struct mm *mm);
/* The top of the mmap area exec gives a process whose RLIMIT_STACK is stack_limit. */
UM_INTERNAL uint64_t mmap_base_at_exec(const struct um_system *sys, uint64_t stack_limit);
/*
 * Which huge-page placement get_unmapped_area applies: none (shmem), the
 * anonymous one (length a multiple of the PMD size, no hint), or the file
 * one (thp_get_unmapped_area at the mapping's offset).
 */
enum thp_align { THP_NONE, THP_ANON, THP_FILE };

/* The placement for a mapping of ino (NULL: anonymous), shared or private. */
static inline enum thp_align thp_align_of(const struct inode *ino, bool shared)
{
	if (!ino)
		return shared ? THP_NONE : THP_ANON;
	if (ino->type == INODE_REG || (ino->type == INODE_ZERO && !shared))
		return THP_FILE;
	return THP_NONE;
}

/* A free range for len bytes (get_unmapped_area), or a negative errno. */
UM_INTERNAL int64_t get_unmapped_area(struct mm *mm, uint64_t addr, uint64_t len, int flags,
				      enum thp_align thp, uint64_t pgoff);
UM_INTERNAL uint64_t calc_vm_prot_bits(int prot);

/* procfs.c */
UM_INTERNAL const char *vma_name(const struct vma *v, char *buf, size_t n);

#endif /* UM_INTERNAL_H */
