/*
 * gup.c: faulting in ranges on behalf of a system call (__mm_populate):
 * MAP_POPULATE, MAP_LOCKED, mlock, mlockall.
 */
#include <errno.h>

#include "fault.h"
#include "mm.h"
#include "pgtable.h"
#include "system.h"
#include "vma.h"

/* Does the PTE at va already allow acc? */
static bool pte_allows(struct mm *mm, uint64_t va, enum fault_access acc)
{
	_Atomic pte_t *ptep = pgtable_walk(&mm->pt, va, false);
	pte_t pte = ptep ? atomic_load_explicit(ptep, memory_order_acquire) : 0;

	return (pte & PTE_PRESENT) && (pte & PTE_USER) && (acc == FAULT_READ || (pte & PTE_WRITE));
}

int __mm_populate(struct mm *mm, uint64_t start, uint64_t end, bool ignore_errors)
{
	uint64_t ps = mm->sys->geom.size, va = start;

	while (va < end) {
		struct vma *v = vma_find(&mm->vmas, va);
		enum fault_access acc;
		uint64_t stop;

		if (!v || v->vm_start >= end)
			break;
		if (va < v->vm_start)
			va = v->vm_start;
		stop = v->vm_end < end ? v->vm_end : end;
		if (v->vm_flags & VM_LOCKONFAULT) {
			/* Locked on fault: populate_vma_page_range leaves it alone. */
			va = stop;
			continue;
		}
		if (!(v->vm_flags & VM_ACCESS_FLAGS)) {
			/* PROT_NONE cannot be populated: get_user_pages fails. */
			if (!ignore_errors)
				return -EFAULT;
			va = stop;
			continue;
		}
		/* Break COW in private writable mappings; shared ones need no copy. */
		acc = (v->vm_flags & (VM_WRITE | VM_SHARED)) == VM_WRITE ? FAULT_WRITE : FAULT_READ;
		for (; va < stop; va += ps) {
			struct um_siginfo si;

			if (pte_allows(mm, va, acc))
				continue;
			if (handle_mm_fault(mm, va, acc, &si)) {
				/* Out of memory, or a page that cannot be had (SIGBUS). */
				if (!ignore_errors)
					return si.signo == UM_SIGKILL ? -ENOMEM : -EFAULT;
				va = stop;
				break;
			}
		}
	}
	return 0;
}

int mm_populate(struct mm *mm, uint64_t start, uint64_t end, bool ignore_errors)
{
	int ret;

	pthread_rwlock_rdlock(&mm->lock);
	ret = __mm_populate(mm, start, end, ignore_errors);
	pthread_rwlock_unlock(&mm->lock);
	return ret;
}
