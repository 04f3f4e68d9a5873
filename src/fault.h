/*
 * The fault path: declarations of fault.c (handle_mm_fault, stack
 * expansion) and gup.c (populating ranges). Layer: fault, and gup above it.
 */
#ifndef UM_FAULT_H
#define UM_FAULT_H

#include "pgtable.h"

struct mm;
struct um_siginfo;
struct vma;

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
	bool dirtied;			/* a clean file page turned dirty (fault_dirty_shared_page) */
	struct um_siginfo *si;		/* where a failing fault reports its signal */
};

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
/* Linux's protection check of an access against a VMA (x86-64: write implies read). */
UM_INTERNAL bool vma_access_ok(const struct vma *v, enum fault_access acc);

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

#endif /* UM_FAULT_H */
