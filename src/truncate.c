/*
 * truncate.c: changing a file's size under its mappings (truncate_setsize,
 * unmap_mapping_range, truncate_inode_pages).
 *
 * Shrinking a file removes, from every process that maps it, every PTE of
 * the pages wholly past the new end, private copies included (Linux's
 * "even_cows"): an access there is then SIGBUS, because the fault handler
 * finds the page past EOF. The cut pages leave the page cache, and the
 * tail of the new last page is zeroed, so that growing the file again
 * shows zeros there. Growing zeroes what the file newly covers of its old
 * last page: bytes stored there through a mapping never become file data.
 *
 * The inode's invalidate_lock is held exclusive throughout: no fault can
 * map a page of the file while its size changes.
 */
#include <errno.h>
#include <string.h>

#include "frame.h"
#include "fs.h"
#include "host.h"
#include "hugetlb.h"
#include "mm.h"
#include "pagecache.h"
#include "system.h"
#include "tlb.h"
#include "vma.h"

/* Zaps the PTEs of v for page indexes in [first, last]. i_mmap_lock is held. */
static void unmap_vma_pages(struct um_system *sys, struct vma *v, uint64_t first, uint64_t last,
			    bool even_cows)
{
	uint64_t pages = pg_count(&sys->geom, v->vm_end - v->vm_start);
	struct mmu_gather g;
	uint64_t start, end;

	if (first >= v->vm_pgoff + pages || last < v->vm_pgoff)
		return;
	start = first <= v->vm_pgoff ? v->vm_start
				     : v->vm_start + pg_bytes(&sys->geom, first - v->vm_pgoff);
	end = last - v->vm_pgoff >= pages - 1
		  ? v->vm_end
		  : v->vm_start + pg_bytes(&sys->geom, last + 1 - v->vm_pgoff);
	tlb_gather_init(&g, v->vm_mm);
	mm_zap_range(v->vm_mm, &g, start, end, even_cows);
	tlb_gather_finish(&g);
}

/*
 * unmap_mapping_range: the PTEs of pages [first, last] of ino in every
 * mapping; private copies too when even_cows (truncate), not for a hole
 * punch, as Linux.
 */
static void unmap_mapping_pages(struct um_system *sys, struct inode *ino, uint64_t first,
				uint64_t last, bool even_cows)
{
	pthread_mutex_lock(&ino->i_mmap_lock);
	for (struct vma *v = ino->i_mmap; v; v = v->i_mmap_next)
		unmap_vma_pages(sys, v, first, last, even_cows);
	pthread_mutex_unlock(&ino->i_mmap_lock);
}

int punch_hole(struct um_system *sys, struct inode *ino, uint64_t first, uint64_t nr)
{
	bool huge = ino->type == INODE_HUGETLB;
	int err = 0;

	if (huge) {
		/* hugetlbfs_punch_hole: whole huge pages only; the rest stays. */
		uint64_t hmask = (1ULL << (ino->hpage_shift - sys->geom.shift)) - 1;
		uint64_t end = (first + nr) & ~hmask;

		first = (first + hmask) & ~hmask;
		nr = end > first ? end - first : 0;
	}
	if (!nr)
		return 0;
	pthread_rwlock_wrlock(&ino->invalidate_lock);
	if (huge)
		pthread_mutex_lock(&sys->hugetlb_mutex); /* no fault adds a page meanwhile */
	if (ino->type == INODE_REG)
		err = host_punch_hole(sys, ino->host_fd, pg_bytes(&sys->geom, first),
				      pg_bytes(&sys->geom, nr));
	if (!err) {
		unmap_mapping_pages(sys, ino, first, first + nr - 1, false);
		if (huge)
			hugetlb_punch_prepare(sys, ino, first, nr);
		pagecache_remove_range(sys, ino, first, first + nr - 1);
	}
	if (huge)
		pthread_mutex_unlock(&sys->hugetlb_mutex);
	pthread_rwlock_unlock(&ino->invalidate_lock);
	return err;
}

int truncate_setsize(struct um_system *sys, struct inode *ino, uint64_t size)
{
	uint64_t old, ps = sys->geom.size;
	int err;

	if (ino->type != INODE_REG)
		return -EINVAL;
	pthread_rwlock_wrlock(&ino->invalidate_lock);
	pthread_mutex_lock(&ino->lock);
	old = inode_size(ino);
	err = host_ftruncate(sys, ino->host_fd, size);
	if (err) {
		pthread_mutex_unlock(&ino->lock);
		pthread_rwlock_unlock(&ino->invalidate_lock);
		return err;
	}
	atomic_store(&ino->size, size);
	pagecache_zero_eof(sys, ino, old, size);
	if (size < old && !page_aligned(&sys->geom, size)) {
		/* The new last page keeps its head; its tail is zero from now on. */
		uint32_t pfn = pagecache_lookup_locked(ino, pg_count(&sys->geom, size));

		if (pfn != FRAME_NONE)
			memset(pfn_host(&sys->fp, pfn) + offset_in_page(&sys->geom, size), 0,
			       ps - offset_in_page(&sys->geom, size));
		else
			pagecache_add_eof_block(sys, ino, pg_count(&sys->geom, size));
	}
	pthread_mutex_unlock(&ino->lock);
	if (size < old) {
		uint64_t first = pg_count_up(&sys->geom, size);

		unmap_mapping_pages(sys, ino, first, UINT64_MAX, true);
		pagecache_truncate(sys, ino, first);
	}
	pthread_rwlock_unlock(&ino->invalidate_lock);
	return 0;
}
