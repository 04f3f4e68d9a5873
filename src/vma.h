/*
 * VMAs: declarations of vma.c (the VMA tree), vma_ops.c (split, merge, the
 * life cycle of a VMA in an mm) and rmap.c (anon_vma). Layer: vma; rmap.c
 * sits higher, beside mm, and vma_ops.c above hugetlb, but what they declare
 * needs no header above vma's.
 */
#ifndef UM_VMA_H
#define UM_VMA_H

#include "internal.h"

struct file;
struct hugetlb_resv;
struct inode;
struct mm;
struct um_system;

/* vma.c */

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
 * with different anon_vmas never merge, as on Linux. A fork child's
 * anon_vma joins its parent's family: they share a root, and the root lists
 * every VMA of the family (rmap.c), which is where an anonymous frame's
 * PTEs can be.
 */
struct anon_vma {
	_Atomic int32_t refcount;	/* VMAs; on a root, also the family's other anon_vmas */
	uint64_t id;
	struct anon_vma *root;		/* the family's first anon_vma: itself for a root */
	/* a root's only */
	pthread_mutex_t lock;		/* the list below, and its VMAs' bounds */
	struct vma *vmas;		/* every VMA whose anon_vma has this root */
};

struct vma {
	uint64_t vm_start;
	uint64_t vm_end;	/* exclusive */
	uint64_t vm_flags;
	uint64_t vm_pgoff;	/* in pages; for anonymous VMAs vm_start's page number */
	struct inode *vm_inode;	/* file or shmem inode, or NULL */
	struct file *vm_file;	/* a regular file's open file (its read-ahead state), or NULL */
	struct anon_vma *anon_vma;
	bool anon_forked;	/* anon_vma chain longer than one (after fork) */
	bool anon_linked;	/* on anon_vma->root->vmas */
	struct vma *anon_next, *anon_prev;	/* that list, under the root's lock */
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
/*
 * Everything a merge of a (directly below b) needs but anon_vma
 * compatibility, their flags compared but for those in ignore (vma.c).
 */
UM_INTERNAL bool vma_props_mergeable(const struct mm *mm, const struct vma *a,
				     const struct vma *b, uint64_t ignore);

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
/* Merges v with prev and/or next where Linux would; returns the result. */
UM_INTERNAL struct vma *vma_merge_neighbours(struct mm *mm, struct vma *v);
/*
 * Held while v's bounds (vm_start, vm_end, vm_pgoff) change: the locks
 * under which rmap walkers read them (i_mmap_lock, the anon_vma family's).
 */
UM_INTERNAL void vma_bounds_lock(const struct vma *v);
UM_INTERNAL void vma_bounds_unlock(const struct vma *v);
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
/*
 * A new anon_vma for v, in parent's family (anon_vma_fork: parent is the
 * anon_vma of the VMA v copies), or a family of its own (parent NULL).
 * v is linked once its bounds are set (anon_vma_link).
 */
UM_INTERNAL int anon_vma_new(struct mm *mm, struct vma *v, struct anon_vma *parent);
UM_INTERNAL void anon_vma_put(struct um_system *sys, struct anon_vma *av);
/*
 * Puts v, whose bounds are set, on its anon_vma's family list (nothing when
 * it has none or is on it); anon_vma_unlink takes it off. The mm lock is
 * held exclusive, or the mm's pt_lock under a shared one.
 */
UM_INTERNAL void anon_vma_link(struct vma *v);
UM_INTERNAL void anon_vma_unlink(struct vma *v);
/* The root lock of v's family, held while v's bounds change (none: no-op). */
UM_INTERNAL void anon_vma_lock(const struct vma *v);
UM_INTERNAL void anon_vma_unlock(const struct vma *v);
/*
 * Each PTE that maps an anonymous frame, for rmap_walk_anon: fn returns
 * false to stop the walk. addr is the page's address in v.
 */
typedef bool (*rmap_one_fn)(struct vma *v, uint64_t addr, _Atomic uint64_t *ptep, void *arg);
/*
 * rmap_walk_anon: calls fn for every PTE, in every mm, that maps the
 * anonymous frame pfn, under its family's lock. The caller holds a
 * reference to the frame (or every mm lock); a frame no PTE maps is
 * skipped. Returns the number of calls.
 */
UM_INTERNAL uint64_t rmap_walk_anon(struct um_system *sys, uint32_t pfn, rmap_one_fn fn,
				    void *arg);
/*
 * The anonymous frame pfn, new in v at addr, gets its owner (v's family
 * root) and page index (linear_page_index), as folio_add_new_anon_rmap.
 */
UM_INTERNAL void anon_frame_set_rmap(struct um_system *sys, uint32_t pfn, const struct vma *v,
				     uint64_t addr);
/*
 * Every VMA of mm with an anon_vma is on its family list and the lists
 * hold only VMAs of their family; every anonymous frame's mapcount equals
 * the PTEs rmap_walk_anon finds (um_check, every mm lock held).
 */
UM_INTERNAL int anon_vma_check(struct mm *mm, char *why, size_t n);
UM_INTERNAL int anon_rmap_check(struct um_system *sys, uint32_t pfn, char *why, size_t n);

#endif /* UM_VMA_H */
