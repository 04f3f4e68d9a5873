/*
 * mm.c: an address space (mm_struct): creation, zapping PTEs, the counts of
 * mapped memory (total_vm, data_vm, locked_vm) and the limits they are held
 * to (may_expand_vm, vm_stat_account, mlock_future_ok), and the checker that
 * recounts it.
 *
 * Invariants (mm_check):
 *   1. The VMA tree is sound (vma_tree_check).
 *   2. Every present PTE lies inside a VMA; the VMA's protection allows
 *      what the PTE allows (no PTE_WRITE outside VM_WRITE, no PTE_USER
 *      in a PROT_NONE VMA).
 *   3. rss[] equals the recount of present, non-special PTEs by kind.
 *   4. PTE_WRITE implies a private frame is anonymous and not shared
 *      (refcount 1) or the VMA is shared.
 *   5. total_vm equals the pages of all VMAs; locked_vm those of VM_LOCKED
 *      ones plus locked_vm_stale, the pages MREMAP_DONTUNMAP unlocked but
 *      left counted (Linux does not uncount them); data_vm those of data
 *      mappings (is_data_mapping), which RLIMIT_DATA limits.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cred.h"
#include "frame.h"
#include "host.h"
#include "mm.h"
#include "pgtable.h"
#include "swap.h"
#include "system.h"
#include "tlb.h"
#include "vma.h"

struct mm *mm_new(struct um_system *sys, const struct rlimits *rlim)
{
	struct mm *mm = um_calloc(sys, 1, sizeof(*mm));

	if (!mm)
		return NULL;
	mm->sys = sys;
	mm->rlim = rlim;
	if (pgtable_init(&mm->pt, sys, &sys->fp, &sys->geom)) {
		um_free(sys, mm);
		return NULL;
	}
	pthread_rwlock_init(&mm->lock, NULL);
	pthread_mutex_init(&mm->pt_lock, NULL);
	vma_tree_init(&mm->vmas);
	mm->mmap_base = sys->cfg.mmap_base;
	mm->start_brk = mm->brk = sys->cfg.brk_start;
	atomic_init(&mm->tlb_gen, um_gen_next());
	return mm;
}

/* The mm counter a frame is charged to (mm_counter()). */
static int frame_counter(const struct frame *f)
{
	return frame_mm_counter(atomic_load_explicit(&f->flags, memory_order_relaxed));
}

void mm_zap_range(struct mm *mm, struct mmu_gather *g, uint64_t start, uint64_t end,
		  bool even_cows)
{
	struct frame_pool *fp = &mm->sys->fp;
	int64_t dec[NR_MM_COUNTERS] = {0};
	uint64_t va = start, span_end;
	int i;

	while (va < end) {
		_Atomic pte_t *ptep = pgtable_span(&mm->pt, va, end, &span_end, false);

		if (ptep) {
			uint64_t n = pg_count(&mm->sys->geom, span_end - va);

			for (uint64_t k = 0; k < n; k++) {
				pte_t pte = atomic_load_explicit(&ptep[k], memory_order_relaxed);
				uint32_t pfn;
				struct frame *f;

				/* A guard marker outlives a zap: munmap clears it apart. */
				if (!pte || pte == PTE_GUARD)
					continue;
				if (!even_cows && (pte & PTE_PRESENT) && !(pte & PTE_SPECIAL) &&
				    (atomic_load_explicit(&pfn_frame(fp, pte_pfn(pte))->flags,
							  memory_order_relaxed) &
				     PG_ANON))
					continue; /* a private copy stays (hole punching) */
				/*
				 * Exchange, not store: truncate may zap the same PTE from
				 * another mm's side (it holds only the i_mmap lock).
				 */
				pte = atomic_exchange_explicit(&ptep[k], 0, memory_order_acq_rel);
				if (!pte)
					continue;
				if (pte_is_swap(pte)) {
					/* zap_nonpresent_ptes: free_swap_and_cache. */
					dec[MM_SWAPENTS]++;
					swap_put(mm->sys, pte_to_swp_entry(pte));
					continue;
				}
				if (!(pte & PTE_PRESENT) || (pte & PTE_SPECIAL))
					continue;
				pfn = pte_pfn(pte);
				f = pfn_frame(fp, pfn);
				/*
				 * A store through a writable shmem PTE dirtied only the PTE:
				 * the page keeps that when the PTE goes (zap_present_ptes'
				 * folio_mark_dirty), so smaps shows it dirty where it is
				 * mapped again.
				 */
				if ((pte & PTE_DIRTY) &&
				    !(atomic_load_explicit(&f->flags, memory_order_relaxed) & PG_ANON))
					atomic_fetch_or_explicit(&f->flags, PG_DIRTY,
								 memory_order_relaxed);
				dec[frame_counter(f)]++;
				/*
				 * The last mapping of a page the swap cache holds: the
				 * cache lets go too when no entry refers to it
				 * (free_swap_cache); the gather still holds the map's.
				 */
				if (atomic_fetch_sub_explicit(&f->mapcount, 1, memory_order_relaxed) == 1 &&
				    (atomic_load_explicit(&f->flags, memory_order_relaxed) & PG_SWAPCACHE))
					swap_try_free(mm->sys, pfn);
				tlb_gather_add(g, pfn);
			}
		}
		va = span_end;
	}
	for (i = 0; i < NR_MM_COUNTERS; i++)
		if (dec[i])
			atomic_fetch_sub_explicit(&mm->rss[i], dec[i], memory_order_relaxed);
}

void mm_free(struct mm *mm)
{
	pgtable_destroy(&mm->pt);
	pthread_rwlock_destroy(&mm->lock);
	pthread_mutex_destroy(&mm->pt_lock);
	um_free(mm->sys, mm);
}

static int check_pte(struct mm *mm, const struct vma *v, uint64_t at, pte_t pte,
		     int64_t *count, char *why, size_t n)
{
	struct frame_pool *fp = &mm->sys->fp;
	struct frame *f;

	if (!v || v->vm_start > at) {
		snprintf(why, n, "PTE outside any VMA at %#llx", (unsigned long long)at);
		return -EUCLEAN;
	}
	if (pte == PTE_GUARD) {
		if (v->vm_flags & VM_MAYBE_GUARD)
			return 0;
		snprintf(why, n, "guard marker in a VMA without VM_MAYBE_GUARD at %#llx",
			 (unsigned long long)at);
		return -EUCLEAN;
	}
	if (pte_is_swap(pte)) {
		/* A swapped page of anonymous memory: the slot is swap_recount_check's. */
		if (!v->anon_vma) {
			snprintf(why, n, "swap entry in a VMA without anon_vma at %#llx",
				 (unsigned long long)at);
			return -EUCLEAN;
		}
		count[MM_SWAPENTS]++;
		return 0;
	}
	if (!(pte & PTE_PRESENT)) {
		snprintf(why, n, "stray non-present PTE %#llx at %#llx", (unsigned long long)pte,
			 (unsigned long long)at);
		return -EUCLEAN;
	}
	if ((pte & PTE_WRITE) && !(v->vm_flags & VM_WRITE)) {
		snprintf(why, n, "writable PTE in a read-only VMA at %#llx", (unsigned long long)at);
		return -EUCLEAN;
	}
	if ((pte & PTE_USER) && !(v->vm_flags & VM_ACCESS_FLAGS)) {
		snprintf(why, n, "accessible PTE in a PROT_NONE VMA at %#llx",
			 (unsigned long long)at);
		return -EUCLEAN;
	}
	if (pte & PTE_SPECIAL) {
		if (pte_pfn(pte) != ZERO_PFN || (pte & PTE_WRITE)) {
			snprintf(why, n, "bad special PTE at %#llx", (unsigned long long)at);
			return -EUCLEAN;
		}
		return 0;
	}
	if (pte_pfn(pte) >= fp->nframes || pte_pfn(pte) == ZERO_PFN) {
		snprintf(why, n, "PTE frame out of range at %#llx", (unsigned long long)at);
		return -EUCLEAN;
	}
	f = pfn_frame(fp, pte_pfn(pte));
	if (atomic_load(&f->flags) & PG_FREE) {
		snprintf(why, n, "PTE maps a free frame at %#llx", (unsigned long long)at);
		return -EUCLEAN;
	}
	/* Reclaim may put a page in the swap cache and then fail to unmap it. */
	if ((pte & PTE_WRITE) && !(v->vm_flags & VM_SHARED) &&
	    (!(atomic_load(&f->flags) & PG_ANON) ||
	     atomic_load(&f->refcount) != 1 + !!(atomic_load(&f->flags) & PG_SWAPCACHE))) {
		snprintf(why, n, "writable PTE to a shared private frame at %#llx",
			 (unsigned long long)at);
		return -EUCLEAN;
	}
	count[frame_counter(f)]++;
	return 0;
}

/* Every PTE of the mm, in address order, against the VMA that holds it. */
static int check_ptes(struct mm *mm, int64_t *count, char *why, size_t n)
{
	const struct vma *v = mm->vmas.first;
	const struct page_geom *g = &mm->sys->geom;
	uint64_t va = 0, span_end;

	while (va < mm->sys->task_size) {
		_Atomic pte_t *ptep = pgtable_span(&mm->pt, va, mm->sys->task_size, &span_end, false);

		const uint64_t nr_ptes = pg_count(g, span_end - va);
		for (uint64_t k = 0; ptep && k < nr_ptes; k++) {
			pte_t pte = atomic_load_explicit(&ptep[k], memory_order_relaxed);
			uint64_t at = va + pg_bytes(g, k);
			int err;

			if (!pte)
				continue;
			while (v && v->vm_end <= at)
				v = v->next;
			err = check_pte(mm, v, at, pte, count, why, n);
			if (err)
				return err;
		}
		va = span_end;
	}
	return 0;
}

/* The counts kept from the VMAs: total_vm, data_vm, locked_vm (invariant 5). */
static int check_vm_counts(const struct mm *mm, char *why, size_t n)
{
	uint64_t total = 0, locked = 0, data = 0;
	const struct vma *v;

	for (v = mm->vmas.first; v; v = v->next) {
		total += pg_count(&mm->sys->geom, v->vm_end - v->vm_start);
		if (v->vm_flags & VM_LOCKED)
			locked += pg_count(&mm->sys->geom, v->vm_end - v->vm_start);
		if (is_data_mapping(v->vm_flags))
			data += pg_count(&mm->sys->geom, v->vm_end - v->vm_start);
	}
	if (locked + mm->locked_vm_stale != mm->locked_vm) {
		snprintf(why, n, "locked_vm %llu, recount %llu + stale %llu",
			 (unsigned long long)mm->locked_vm, (unsigned long long)locked,
			 (unsigned long long)mm->locked_vm_stale);
		return -EUCLEAN;
	}
	if (total != mm->total_vm) {
		snprintf(why, n, "total_vm %llu, recount %llu", (unsigned long long)mm->total_vm,
			 (unsigned long long)total);
		return -EUCLEAN;
	}
	if (data != mm->data_vm) {
		snprintf(why, n, "data_vm %llu, recount %llu", (unsigned long long)mm->data_vm,
			 (unsigned long long)data);
		return -EUCLEAN;
	}
	return 0;
}

int mm_check(struct mm *mm, char *why, size_t n)
{
	int64_t count[NR_MM_COUNTERS] = {0};
	int err, i;

	err = vma_tree_check(&mm->vmas, why, n);
	if (!err)
		err = pgtable_check(&mm->pt, why, n);
	if (!err)
		err = check_vm_counts(mm, why, n);
	if (!err)
		err = check_ptes(mm, count, why, n);
	if (err)
		return err;
	for (i = 0; i < NR_MM_COUNTERS; i++)
		if (count[i] != atomic_load(&mm->rss[i])) {
			snprintf(why, n, "rss counter %d is %lld, recount %lld", i,
				 (long long)atomic_load(&mm->rss[i]), (long long)count[i]);
			return -EUCLEAN;
		}
	return 0;
}

void validate_mm(struct mm *mm)
{
	char why[256];
	int err;

	if (mm->vmas.count > 1024 && (++mm->vm_changes & 1023))
		return;
	err = vma_tree_check(&mm->vmas, why, sizeof(why));
	if (!err)
		err = check_vm_counts(mm, why, sizeof(why));
	if (err) {
		fprintf(stderr, "usermm: validate_mm: %s\n", why);
		abort();
	}
}

bool may_expand_vm(const struct mm *mm, uint64_t vm_flags, uint64_t npages)
{
	const struct page_geom *g = &mm->sys->geom;
	uint64_t data = rlimit(mm, UM_RLIMIT_DATA), data_max;

	if (mm->total_vm + npages > pg_count(g, rlimit(mm, UM_RLIMIT_AS)))
		return false;
	if (!is_data_mapping(vm_flags) || mm->data_vm + npages <= pg_count(g, data))
		return true;
	/*
	 * Valgrind sets the soft limit to 0 and keeps the hard one: then the
	 * hard one counts. (The ignore_rlimit_data boot option, off by
	 * default, would only warn.)
	 */
	data_max = atomic_load_explicit(&mm->rlim->max[UM_RLIMIT_DATA], memory_order_relaxed);
	return data == 0 && mm->data_vm + npages <= pg_count(g, data_max);
}

void vm_stat_account(struct mm *mm, uint64_t vm_flags, int64_t npages)
{
	mm->total_vm = (uint64_t)((int64_t)mm->total_vm + npages);
	/* Linux also keeps exec_vm and stack_vm; only data_vm has a limit of its own. */
	if (is_data_mapping(vm_flags))
		mm->data_vm = (uint64_t)((int64_t)mm->data_vm + npages);
}

bool mlock_future_ok(const struct mm *mm, uint64_t vm_flags, uint64_t len)
{
	const struct um_system *sys = mm->sys;

	if (!(vm_flags & VM_LOCKED) || mm_capable(mm, UM_CAP_IPC_LOCK))
		return true;
	return pg_count(&sys->geom, len) + mm->locked_vm <=
	       pg_count(&sys->geom, rlimit(mm, UM_RLIMIT_MEMLOCK));
}
