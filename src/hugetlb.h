/*
 * Huge pages: declarations of hugetlb.c (MAP_HUGETLB, hugetlbfs inodes,
 * reservations, the huge page fault). Layer: hugetlb, above mm.
 */
#ifndef UM_HUGETLB_H
#define UM_HUGETLB_H

#include "fs.h"
#include "vma.h"

struct file;
struct inode;
struct mm;
struct um_system;
struct vm_fault;
struct vma;

/* The huge page shift MAP_HUGETLB's size field names (0: the default), or -EINVAL. */
UM_INTERNAL int hugetlb_shift(const struct um_system *sys, uint64_t map_flags);
/* hugetlb_file_setup: the O_RDWR file of a new anonymous hugetlb inode, or NULL. */
UM_INTERNAL struct file *hugetlb_file_new(struct um_system *sys, uint64_t size, unsigned shift);
/* The mask of v's huge page size (huge_page_mask's complement), 0 for other VMAs. */
static inline uint64_t vma_hpage_mask(const struct vma *v)
{
	return (v->vm_flags & VM_HUGETLB) ? (1ULL << v->vm_inode->hpage_shift) - 1 : 0;
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
/* Before [start, end) of v is zapped: the owner's pages will restore reservations. */
UM_INTERNAL void hugetlb_zap_prepare(struct mm *mm, struct vma *v, uint64_t start, uint64_t end);
/*
 * A hole is about to be punched in a hugetlb inode over base pages [first,
 * first + nr), whole huge pages: the pages it removes leave the resv_map.
 */
UM_INTERNAL void hugetlb_punch_prepare(struct um_system *sys, struct inode *ino, uint64_t first,
				       uint64_t nr);

/*
 * hugetlb_fault for vmf (the access already allowed by the VMA): 0,
 * -ENOSPC (no huge page: SIGBUS) or -ENOMEM. The mm lock is held shared.
 */
UM_INTERNAL int hugetlb_fault(struct vm_fault *vmf);

#endif /* UM_HUGETLB_H */
