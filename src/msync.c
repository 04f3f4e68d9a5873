/*
 * msync.c: msync().
 *
 * As on Linux 6.x: MS_ASYNC does nothing (dirty pages are already known to
 * the page cache, and write-back will take them); MS_SYNC writes back the
 * file range behind every shared file mapping in the range and flushes the
 * file (vfs_fsync_range with datasync); MS_INVALIDATE only fails with EBUSY
 * on a locked mapping. Unmapped pages in the range do not stop the walk:
 * the mapped parts are synced and the call returns ENOMEM at the end.
 */
#include <errno.h>

#include "fs.h"
#include "mm.h"
#include "system.h"
#include "vma.h"

int um_msync(struct um_proc *p, uint64_t start, uint64_t len, int flags)
{
	struct um_system *sys = p->sys;
	struct mm *mm = p->mm;
	int unmapped_error = 0, error = -EINVAL;
	uint64_t end;
	struct vma *v;

	if (proc_oom_killed(p))
		return -ESRCH;
	if (flags & ~(UM_MS_ASYNC | UM_MS_INVALIDATE | UM_MS_SYNC))
		return -EINVAL;
	if (!page_aligned(&sys->geom, start))
		return -EINVAL;
	if ((flags & UM_MS_ASYNC) && (flags & UM_MS_SYNC))
		return -EINVAL;
	if (len > UINT64_MAX - sys->geom.mask)
		return -ENOMEM;
	len = page_align(&sys->geom, len);
	end = start + len;
	if (end < start)
		return -ENOMEM;
	if (end == start)
		return 0;
	error = -ENOMEM;
	pthread_rwlock_rdlock(&mm->lock);
	v = vma_find(&mm->vmas, start);
	for (;;) {
		struct inode *file;
		uint64_t fstart, fend;

		if (!v) {
			/*
			 * Unmapped to the end. Linux finds the stack VMA above every
			 * mapping of a real process here and answers ENOMEM; a usermm
			 * process need not have one, so answer as if it did.
			 */
			error = -ENOMEM;
			break;
		}
		if (start < v->vm_start) {
			/* Linux 6.18 answers ENOMEM for any hole, the tail of the range too. */
			unmapped_error = -ENOMEM;
			if (flags == UM_MS_ASYNC)
				break;
			start = v->vm_start;
			if (start >= end)
				break;
		}
		if ((flags & UM_MS_INVALIDATE) && (v->vm_flags & VM_LOCKED)) {
			error = -EBUSY;
			break;
		}
		file = v->vm_inode;
		fstart = v->vm_pgoff + pg_count(&sys->geom, start - v->vm_start);
		fend =
		    fstart + pg_count(&sys->geom, (end < v->vm_end ? end : v->vm_end) - start) - 1;
		start = v->vm_end;
		if ((flags & UM_MS_SYNC) && file && file->type == INODE_REG &&
		    (v->vm_flags & VM_SHARED)) {
			/* The file outlives the unlocked write-back: take a reference. */
			inode_get(file);
			pthread_rwlock_unlock(&mm->lock);
			error = writeback_range(sys, file, fstart, fend, true);
			inode_put(sys, file);
			if (error || start >= end)
				return error ? error : unmapped_error;
			pthread_rwlock_rdlock(&mm->lock);
			v = vma_find(&mm->vmas, start);
		} else {
			if (start >= end) {
				error = 0;
				break;
			}
			v = v->next;
		}
	}
	pthread_rwlock_unlock(&mm->lock);
	return error ? error : unmapped_error;
}
