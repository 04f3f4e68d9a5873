/*
 * mprotect.c: mprotect().
 *
 * Like Linux, mprotect is not atomic across VMAs: it walks the VMAs of the
 * range in order, changing each, and stops at the first error. A hole in
 * the range gives ENOMEM after the VMAs before it have changed.
 *
 * PTEs follow the new protection at once where rights are taken away (a
 * write-protect, or PROT_NONE, which clears PTE_USER and makes every access
 * fault, as x86's protnone PTEs do). Rights given back are taken lazily:
 * the next fault restores them after checking the VMA.
 */
#include <errno.h>

#include "fault.h"
#include "fs.h"
#include "mm.h"
#include "pgtable.h"
#include "system.h"
#include "tlb.h"
#include "vma.h"

#define PROT_SEM 0x8

static void change_ptes(struct mm *mm, const struct inode *file, uint64_t start, uint64_t end,
			uint64_t newflags)
{
	uint64_t va = start, span_end;
	pte_t clear = 0, set = 0;

	if (!(newflags & VM_WRITE))
		clear |= PTE_WRITE;
	if (!(newflags & VM_ACCESS_FLAGS))
		clear |= PTE_USER | PTE_WRITE;
	/*
	 * Shared shmem memory needs no write notification (no dirty
	 * accounting): its new protection goes into the PTEs at once, so a
	 * write after it takes no fault and does not dirty the page itself,
	 * only the PTE (smaps tells the two apart).
	 */
	if ((newflags & (VM_SHARED | VM_WRITE)) == (VM_SHARED | VM_WRITE) && file &&
	    file->type == INODE_SHMEM)
		set = PTE_USER | PTE_WRITE;
	if (!clear && !set)
		return;
	while (va < end) {
		_Atomic pte_t *ptep = pgtable_span(&mm->pt, va, end, &span_end, false);

		const uint64_t nr_ptes = pg_count(&mm->sys->geom, span_end - va);
		for (uint64_t k = 0; ptep && k < nr_ptes; k++) {
			pte_t pte = atomic_load_explicit(&ptep[k], memory_order_relaxed);

			if (pte & PTE_PRESENT)
				atomic_store_explicit(&ptep[k], (pte & ~clear) | set,
						      memory_order_relaxed);
		}
		va = span_end;
	}
}

/*
 * mprotect_fixup: gives [start, end) of v the flags newflags. Making
 * private memory writable charges it to the commit (VM_ACCOUNT); taking
 * write away from anonymous memory never faulted (no anon_vma) gives the
 * charge back, since nothing was written that would need it.
 */
static int mprotect_fixup(struct mm *mm, struct vma *v, uint64_t start, uint64_t end,
			  uint64_t newflags)
{
	uint64_t oldflags = v->vm_flags, charged = 0, pages = pg_count(&mm->sys->geom, end - start);
	const struct inode *file = v->vm_inode; /* v may merge away below */
	int err;

	if (newflags == oldflags)
		return 0;
	if (newflags & VM_WRITE) {
		/*
		 * Memory turning into data must fit RLIMIT_DATA. (Not asked when
		 * RLIMIT_AS refuses the old flags as well: Linux asks both ways.)
		 */
		if (!may_expand_vm(mm, newflags, pages) && may_expand_vm(mm, oldflags, pages))
			return -ENOMEM;
		if (!(oldflags & (VM_ACCOUNT | VM_WRITE | VM_HUGETLB | VM_SHARED | VM_NORESERVE))) {
			charged = pages;
			if (vm_enough_memory(mm, charged))
				return -ENOMEM;
			newflags |= VM_ACCOUNT;
		}
	} else if ((oldflags & VM_ACCOUNT) && vma_is_anonymous(v) && !v->anon_vma) {
		newflags &= ~VM_ACCOUNT;
	}
	err = vma_modify_flags(mm, v, start, end, newflags);
	if (err) {
		if (charged)
			vm_unacct_memory(mm->sys, charged);
		return err;
	}
	change_ptes(mm, file, start, end, newflags);
	vm_stat_account(mm, oldflags, -(int64_t)pages);
	vm_stat_account(mm, newflags, (int64_t)pages);
	if ((oldflags & VM_ACCOUNT) && !(newflags & VM_ACCOUNT))
		vm_unacct_memory(mm->sys, pages);
	/* A locked private range made writable is faulted in for writing now (breaks COW). */
	if ((oldflags & (VM_WRITE | VM_SHARED | VM_LOCKED)) == VM_LOCKED && (newflags & VM_WRITE))
		__mm_populate(mm, start, end, true);
	return 0;
}

int um_mprotect(struct um_proc *p, uint64_t start, uint64_t len, int prot)
{
	struct um_system *sys = p->sys;
	struct mm *mm = p->mm;
	int grows = prot & (UM_PROT_GROWSDOWN | UM_PROT_GROWSUP);
	uint64_t end, tmp, newflags;
	struct vma *v;
	int err;

	if (proc_oom_killed(p))
		return -ESRCH;
	prot &= ~grows;
	if (grows == (UM_PROT_GROWSDOWN | UM_PROT_GROWSUP))
		return -EINVAL;
	if (!page_aligned(&sys->geom, start))
		return -EINVAL;
	if (!len)
		return 0;
	if (len > UINT64_MAX - sys->geom.mask)
		return -ENOMEM;
	len = page_align(&sys->geom, len);
	end = start + len;
	if (end <= start)
		return -ENOMEM;
	if (prot & ~(UM_PROT_READ | UM_PROT_WRITE | UM_PROT_EXEC | PROT_SEM))
		return -EINVAL;

	mmap_write_lock(mm);
	err = -ENOMEM;
	v = vma_find(&mm->vmas, start);
	if (!v)
		goto out;
	if (grows & UM_PROT_GROWSDOWN) {
		if (v->vm_start >= end)
			goto out;
		start = v->vm_start;
		err = -EINVAL;
		if (!(v->vm_flags & VM_GROWSDOWN))
			goto out;
	} else if (v->vm_start > start) {
		goto out;
	} else if (grows & UM_PROT_GROWSUP) {
		err = -EINVAL; /* no VM_GROWSUP on x86-64 */
		goto out;
	}
	tmp = start;
	err = 0;
	while (v && v->vm_start < end) {
		uint64_t nstart = tmp > v->vm_start ? tmp : v->vm_start;
		uint64_t nend = v->vm_end < end ? v->vm_end : end;

		if (v->vm_start > tmp) {
			err = -ENOMEM;
			break;
		}
		newflags = calc_vm_prot_bits(prot) | (v->vm_flags & ~VM_ACCESS_FLAGS);
		/* VM_MAY* sit four bits above the rights they allow. */
		if ((newflags & ~(newflags >> 4)) & VM_ACCESS_FLAGS) {
			err = -EACCES;
			break;
		}
		err = mprotect_fixup(mm, v, nstart, nend, newflags);
		if (err)
			break;
		tmp = nend;
		/* v may have merged with what follows: look tmp up afresh. */
		v = tmp < end ? vma_find(&mm->vmas, tmp) : NULL;
	}
	if (!err && tmp < end)
		err = -ENOMEM;
	mm_tlb_sync(mm);
out:
	mmap_write_unlock(mm);
	return err;
}
