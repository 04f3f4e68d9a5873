/*
 * brk.c: brk() — the heap of a process (mm/mmap.c, SYSCALL brk).
 *
 * The heap is an anonymous private VMA from start_brk to the page-rounded
 * break; it is made on the first growth and grows by extending itself (or
 * a new VMA that merges with it). Shrinking always works. Growth fails,
 * leaving the break where it was, when the new end would come within a
 * page (plus a stack's guard gap) of the next mapping, below start_brk,
 * beyond the commit or map count limits, RLIMIT_AS, or RLIMIT_DATA. The
 * raw system call answers the break in every case: the new one on success,
 * the old one on failure.
 *
 * RLIMIT_DATA is checked twice, as Linux does: the heap and the data
 * segment against it before anything else (check_data_rlimit, which even
 * a shrink must pass), and the new pages with every other data mapping
 * (may_expand_vm). The library has no program image, so its data segment
 * is empty.
 */
#include <errno.h>

#include "fault.h"
#include "mm.h"
#include "system.h"
#include "vma.h"

#define STACK_GUARD_GAP_PAGES 256

/* do_brk_flags: [addr, addr + len) of anonymous memory, extending the heap VMA when it can. */
static int do_brk(struct mm *mm, uint64_t addr, uint64_t len)
{
	struct um_system *sys = mm->sys;
	uint64_t flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT |
			 VM_SOFTDIRTY | mm->def_flags;
	uint64_t pages = pg_count(&sys->geom, len);
	struct vma *prev, *v;

	if (!may_expand_vm(mm, flags, pages))
		return -ENOMEM;
	if (mm->vmas.count > sys->cfg.max_map_count)
		return -ENOMEM;
	if (vm_enough_memory(mm, pages))
		return -ENOMEM;
	prev = vma_find(&mm->vmas, addr - 1);
	if (prev && prev->vm_end == addr && !prev->vm_inode && prev->vm_flags == flags &&
	    !prev->anon_forked) {
		/* Expand the heap in place. */
		prev->vm_end += len;
		vma_bounds_changed(&mm->vmas, prev);
		v = prev;
	} else {
		v = vma_alloc(sys);
		if (!v) {
			vm_unacct_memory(sys, pages);
			return -ENOMEM;
		}
		v->vm_start = addr;
		v->vm_end = addr + len;
		v->vm_flags = flags;
		v->vm_pgoff = pg_count(&sys->geom, addr);
		v->vm_mm = mm;
		vma_insert(&mm->vmas, v);
	}
	vm_stat_account(mm, flags, (int64_t)pages);
	if (flags & VM_LOCKED)
		mm->locked_vm += pages;
	vma_merge_neighbours(mm, v);
	return 0;
}

uint64_t um_brk(struct um_proc *p, uint64_t brk)
{
	struct um_system *sys = p->sys;
	struct mm *mm = p->mm;
	uint64_t origbrk, newbrk, oldbrk, gap = pg_bytes(&sys->geom, STACK_GUARD_GAP_PAGES);
	uint64_t data;
	bool populate = false;
	struct vma *next;

	mmap_write_lock(mm);
	origbrk = mm->brk;
	if (brk < mm->start_brk || brk > sys->task_size)
		goto out;
	/* check_data_rlimit, on the unrounded break (so an unaligned limit holds). */
	data = rlimit(mm, UM_RLIMIT_DATA);
	if (data != UM_RLIM_INFINITY && brk - mm->start_brk > data)
		goto out;
	newbrk = page_align(&sys->geom, brk);
	oldbrk = page_align(&sys->geom, mm->brk);
	if (oldbrk == newbrk) {
		mm->brk = brk;
		goto success;
	}
	if (brk <= mm->brk) {
		/* Shrinking always works, unless a mapping that is not the heap is in the way. */
		struct vma *v = vma_find(&mm->vmas, newbrk);

		if (!v || v->vm_start >= oldbrk)
			goto out;
		if (do_munmap(mm, newbrk, oldbrk - newbrk))
			goto out;
		mm->brk = brk;
		goto success;
	}
	/* Growing: not into, nor within a page (and a stack's guard gap) of, the next mapping. */
	if (newbrk - oldbrk > sys->task_size - oldbrk)
		goto out;
	if (!mlock_future_ok(mm, mm->def_flags, newbrk - oldbrk))
		goto out;
	next = vma_find(&mm->vmas, oldbrk);
	if (next) {
		uint64_t start_gap = next->vm_start;

		if (next->vm_flags & VM_GROWSDOWN)
			start_gap = start_gap > gap ? start_gap - gap : 0;
		if (newbrk + sys->geom.size > start_gap)
			goto out;
	}
	if (do_brk(mm, oldbrk, newbrk - oldbrk))
		goto out;
	mm->brk = brk;
	populate = mm->def_flags & VM_LOCKED;
success:
	mmap_write_unlock(mm);
	if (populate)
		mm_populate(mm, oldbrk, newbrk, true);
	return brk;
out:
	mm->brk = origbrk;
	mmap_write_unlock(mm);
	return origbrk;
}
