/*
 * hugetlb.c: MAP_HUGETLB (mm/hugetlb.c, fs/hugetlbfs) with no huge page
 * pool, as on a machine whose HugePages_Total is 0.
 *
 * An anonymous MAP_HUGETLB mapping is a mapping of an unlinked hugetlbfs
 * file (hugetlb_inode_new), so it behaves as a file mapping in maps
 * (`/anon_hugepage (deleted)`, with an offset) and everywhere else. Its
 * VMAs carry VM_HUGETLB and VM_DONTEXPAND: they never merge, grow or lock,
 * they split only on a huge page boundary (EINVAL elsewhere: munmap,
 * mprotect, madvise and mlock all meet that), and mremap works on whole
 * huge pages. Without a pool the huge pages cannot be reserved: mmap
 * answers ENOMEM unless MAP_NORESERVE skips the reservation, and then
 * every access that reaches a present VMA raises SIGBUS (BUS_ADRERR),
 * since no page can be allocated. The huge page sizes are those of the
 * page-table levels above a PTE: the PMD (2 MiB with 4 KiB pages, the
 * default) and the PUD (1 GiB).
 */
#include <errno.h>

#include "internal.h"

#define MAP_HUGE_SHIFT 26
#define MAP_HUGE_MASK 0x3f

int hugetlb_shift(const struct um_system *sys, uint64_t map_flags)
{
	unsigned level = sys->page_shift - 3; /* bits each table level resolves */
	unsigned pmd = sys->page_shift + level, pud = pmd + level;
	unsigned log = (unsigned)(map_flags >> MAP_HUGE_SHIFT) & MAP_HUGE_MASK;

	if (log == 0)
		return (int)pmd;
	return log == pmd || log == pud ? (int)log : -EINVAL;
}

int hugetlb_mmap_checks(const struct um_system *sys, const struct inode *ino, uint64_t pgoff,
			uint64_t len, uint64_t vm_flags)
{
	uint64_t hmask = (1ULL << ino->hpage_shift) - 1;

	/* The offset must be a whole number of huge pages. */
	if ((pgoff << sys->page_shift) & hmask || pgoff >= (1ULL << (63 - sys->page_shift)))
		return -EINVAL;
	if (len + (pgoff << sys->page_shift) < len)
		return -EINVAL;
	/* hugetlb_reserve_pages: the pool has no pages to reserve. */
	if (!(vm_flags & VM_NORESERVE))
		return -ENOMEM;
	return 0;
}

struct file *hugetlb_file_new(struct um_system *sys, uint64_t size, unsigned shift)
{
	struct inode *ino = hugetlb_inode_new(sys, size, shift);
	struct file *f;

	if (!ino)
		return NULL;
	f = file_new(sys, ino, UM_O_RDWR);
	if (!f)
		inode_put(sys, ino);
	return f;
}
