/*
 * mlock.c: mlock, mlock2, munlock, mlockall, munlockall (mm/mlock.c).
 *
 * Locking marks VMAs VM_LOCKED (VM_LOCKONFAULT for the on-fault variants),
 * splitting and merging them like mprotect, counts the pages in locked_vm
 * (VmLck), and then faults the range in with the mm lock dropped. As on
 * Linux, the two halves can fail separately: a hole in the range is
 * ENOMEM after the VMAs before it were locked, and a range that cannot be
 * populated (PROT_NONE, pages past EOF) is ENOMEM with its VMAs locked.
 * Locks do not nest, are not inherited by fork, and go with munmap and
 * exec. Reclaim never takes pages of a VM_LOCKED VMA.
 */
#include <errno.h>

#include "cred.h"
#include "fault.h"
#include "mm.h"
#include "system.h"
#include "vma.h"

bool can_do_mlock(const struct mm *mm)
{
	return rlimit(mm, UM_RLIMIT_MEMLOCK) != 0 || mm_capable(mm, UM_CAP_IPC_LOCK);
}

/* Gives [start, end) of v the lock flags of newflags (mlock_fixup). */
static int mlock_fixup(struct mm *mm, struct vma *v, uint64_t start, uint64_t end,
		       uint64_t newflags)
{
	uint64_t oldflags = v->vm_flags;
	int64_t pages = (int64_t)pg_count(&mm->sys->geom, end - start);
	int err;

	/* Special, hugetlb and droppable mappings are never locked, nor counted (nor split). */
	if (newflags == oldflags || (oldflags & (VM_SPECIAL | VM_HUGETLB | VM_DROPPABLE)))
		return 0;
	err = vma_modify_flags(mm, v, start, end, newflags);
	if (err)
		return err;
	if (!(newflags & VM_LOCKED))
		pages = -pages;
	else if (oldflags & VM_LOCKED)
		pages = 0;
	mm->locked_vm = (uint64_t)((int64_t)mm->locked_vm + pages);
	return 0;
}

/* apply_vma_lock_flags: the lock flags of [start, start + len). */
static int apply_vma_lock_flags(struct mm *mm, uint64_t start, uint64_t len, uint64_t flags)
{
	uint64_t end = start + len, tmp;
	struct vma *v;

	if (end < start)
		return -EINVAL;
	if (end == start)
		return 0;
	v = vma_lookup(&mm->vmas, start);
	if (!v)
		return -ENOMEM;
	tmp = start;
	while (v && v->vm_start < end) {
		uint64_t nstart = tmp > v->vm_start ? tmp : v->vm_start;
		uint64_t nend = v->vm_end < end ? v->vm_end : end;
		int err;

		if (v->vm_start > tmp)
			return -ENOMEM;
		err = mlock_fixup(mm, v, nstart, nend, (v->vm_flags & ~VM_LOCKED_MASK) | flags);
		if (err)
			return err;
		tmp = nend;
		/* v may have merged with what follows: look tmp up afresh. */
		v = tmp < end ? vma_find(&mm->vmas, tmp) : NULL;
	}
	return tmp < end ? -ENOMEM : 0;
}

static int do_mlock(struct um_proc *p, uint64_t start, uint64_t len, uint64_t flags)
{
	struct um_system *sys = p->sys;
	struct mm *mm = p->mm;
	uint64_t limit = pg_count(&sys->geom, rlimit(mm, UM_RLIMIT_MEMLOCK)), locked;
	bool capable = mm_capable(mm, UM_CAP_IPC_LOCK);
	int err = -ENOMEM;

	if (proc_oom_killed(p))
		return -ESRCH;
	if (!can_do_mlock(mm))
		return -EPERM;
	/* PAGE_ALIGN wraps: a length that rounds past 2^64 becomes 0, and locks nothing. */
	len = page_align(&sys->geom, len + offset_in_page(&sys->geom, start));
	start = page_align_down(&sys->geom, start);
	locked = pg_count(&sys->geom, len);
	mmap_write_lock(mm);
	locked += mm->locked_vm;
	if (locked > limit && !capable)
		/* What is already locked in the range does not count twice. */
		locked -= vma_pages_in(mm, start, start + len, VM_LOCKED);
	if (locked <= limit || capable)
		err = apply_vma_lock_flags(mm, start, len, flags);
	mmap_write_unlock(mm);
	if (err)
		return err;
	/*
	 * Always populate: VMAs locked on fault are passed over, but a range
	 * that could not take the lock (hugetlb) still faults.
	 * __mlock_posix_error_return: EFAULT is ENOMEM, ENOMEM is EAGAIN.
	 */
	err = mm_populate(mm, start, start + len, false);
	return err == -EFAULT ? -ENOMEM : err == -ENOMEM ? -EAGAIN : err;
}

int um_mlock(struct um_proc *p, uint64_t addr, uint64_t length)
{
	return do_mlock(p, addr, length, VM_LOCKED);
}

int um_mlock2(struct um_proc *p, uint64_t addr, uint64_t length, unsigned flags)
{
	if (flags & ~(unsigned)UM_MLOCK_ONFAULT)
		return -EINVAL;
	return do_mlock(p, addr, length,
			VM_LOCKED | ((flags & UM_MLOCK_ONFAULT) ? VM_LOCKONFAULT : 0));
}

int um_munlock(struct um_proc *p, uint64_t addr, uint64_t length)
{
	struct um_system *sys = p->sys;
	struct mm *mm = p->mm;
	int err;

	if (proc_oom_killed(p))
		return -ESRCH;
	length = page_align(&sys->geom, length + offset_in_page(&sys->geom, addr));
	addr = page_align_down(&sys->geom, addr);
	mmap_write_lock(mm);
	err = apply_vma_lock_flags(mm, addr, length, 0);
	mmap_write_unlock(mm);
	return err;
}

/* apply_mlockall_flags: def_flags for MCL_FUTURE, every VMA for MCL_CURRENT. */
static void apply_mlockall_flags(struct mm *mm, int flags)
{
	uint64_t to_add = 0;

	mm->def_flags &= ~VM_LOCKED_MASK;
	if (flags & UM_MCL_FUTURE) {
		mm->def_flags |= VM_LOCKED;
		if (flags & UM_MCL_ONFAULT)
			mm->def_flags |= VM_LOCKONFAULT;
		if (!(flags & UM_MCL_CURRENT))
			return;
	}
	if (flags & UM_MCL_CURRENT) {
		to_add |= VM_LOCKED;
		if (flags & UM_MCL_ONFAULT)
			to_add |= VM_LOCKONFAULT;
	}
	for (struct vma *v = mm->vmas.first; v;) {
		uint64_t end = v->vm_end;

		/* Errors (the map count) are ignored, as Linux ignores them. */
		mlock_fixup(mm, v, v->vm_start, v->vm_end, (v->vm_flags & ~VM_LOCKED_MASK) | to_add);
		v = vma_find(&mm->vmas, end);
	}
}

int um_mlockall(struct um_proc *p, int flags)
{
	struct um_system *sys = p->sys;
	struct mm *mm = p->mm;
	int err = -ENOMEM;

	if (proc_oom_killed(p))
		return -ESRCH;
	if (!flags || (flags & ~(UM_MCL_CURRENT | UM_MCL_FUTURE | UM_MCL_ONFAULT)) ||
	    flags == UM_MCL_ONFAULT)
		return -EINVAL;
	if (!can_do_mlock(mm))
		return -EPERM;
	mmap_write_lock(mm);
	if (!(flags & UM_MCL_CURRENT) ||
	    mm->total_vm <= pg_count(&sys->geom, rlimit(mm, UM_RLIMIT_MEMLOCK)) ||
	    mm_capable(mm, UM_CAP_IPC_LOCK)) {
		apply_mlockall_flags(mm, flags);
		err = 0;
	}
	mmap_write_unlock(mm);
	if (!err && (flags & UM_MCL_CURRENT) && !(flags & UM_MCL_ONFAULT))
		mm_populate(mm, 0, sys->task_size, true);
	return err;
}

int um_munlockall(struct um_proc *p)
{
	struct mm *mm = p->mm;

	if (proc_oom_killed(p))
		return -ESRCH;
	mmap_write_lock(mm);
	apply_mlockall_flags(mm, 0);
	mmap_write_unlock(mm);
	return 0;
}
