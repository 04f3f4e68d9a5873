/*
 * hugetlb.c: MAP_HUGETLB (mm/hugetlb.c, fs/hugetlbfs): huge pages from the
 * pools the machine set aside (um_config.nr_hugepages and
 * nr_hugepages_pud; frame.c keeps them), reserved at mmap and faulted in
 * whole.
 *
 * An anonymous MAP_HUGETLB mapping is a mapping of an unlinked hugetlbfs
 * file (hugetlb_inode_new), so it behaves as a file mapping in maps
 * (`/anon_hugepage (deleted)`, with an offset) and everywhere else. Its
 * VMAs carry VM_HUGETLB and VM_DONTEXPAND: they never merge, grow or lock,
 * they split only on a huge page boundary (EINVAL elsewhere: munmap,
 * mprotect, madvise and mlock all meet that), and mremap works on whole
 * huge pages. The huge page sizes are those of the page-table levels
 * above a PTE: the PMD (2 MiB with 4 KiB pages, the default) and the PUD
 * (1 GiB).
 *
 * A huge page is mapped by the PTEs of its base frames, which lie
 * contiguous and aligned in physical memory, so pagemap, mincore and every
 * walker see what Linux shows; the frames are charged to HugetlbPages, not
 * RSS, and the huge page goes back to its pool when its last frame does.
 *
 * Reservations follow Linux's resv_map (hugetlb_reserve_pages):
 *   - a shared mapping reserves, in its inode's map, the huge pages of its
 *     range not reserved yet; a fault takes the reservation; a hole punched
 *     (MADV_REMOVE) frees pages and drops their indices (an index reserved
 *     and never faulted stays reserved); the inode's end gives back what
 *     was reserved and never faulted;
 *   - a private mapping's creator owns a map of the pages it has consumed
 *     (its pieces after a split share it, mremap moves it, fork does not
 *     copy it); a fault of an unconsumed page takes the reservation, the
 *     close of a VMA gives back what it never consumed, and a zap of a page
 *     it consumed restores the reservation when the page is freed;
 *   - MAP_NORESERVE reserves nothing; a fault without a reservation takes a
 *     free page not reserved by anyone, and a copy-on-write break always
 *     does, or raises SIGBUS (the pool has no surplus pages).
 * mmap answers ENOMEM when the pool's free pages cannot cover the
 * reservations. When the owner's copy-on-write break finds no free page,
 * it takes the page back from its fork children (unmap_ref_private), whose
 * later faults in that VMA raise SIGBUS, and keeps the page.
 */
#include <errno.h>
#include <string.h>

#include "fault.h"
#include "frame.h"
#include "fs.h"
#include "host.h"
#include "hugetlb.h"
#include "mm.h"
#include "pagecache.h"
#include "pgtable.h"
#include "system.h"
#include "tlb.h"
#include "vma.h"

#define MAP_HUGE_SHIFT 26
#define MAP_HUGE_MASK  0x3f

int hugetlb_shift(const struct um_system *sys, uint64_t map_flags)
{
	unsigned level = sys->geom.shift - 3; /* bits each table level resolves */
	unsigned pmd = sys->geom.shift + level, pud = pmd + level;
	unsigned log = (unsigned)(map_flags >> MAP_HUGE_SHIFT) & MAP_HUGE_MASK;

	if (log == 0)
		return (int)pmd;
	return log == pmd || log == pud ? (int)log : -EINVAL;
}

/*
 * A resv_map: one flag per huge page index of a file in [first, first + n).
 * Shared (the inode's): reserved or present. Private (the owner VMA's):
 * consumed by a fault.
 */
struct hugetlb_resv {
	int32_t refs; /* VMAs sharing it (a private map's split pieces) */
	uint64_t first, n;
	uint8_t *map;
};

static struct hstate *inode_hstate(struct um_system *sys, const struct inode *ino)
{
	return &sys->fp
		    .hs[(int)ino->hpage_shift == hugetlb_shift(sys, 0) ? HSTATE_PMD : HSTATE_PUD];
}

/* Huge pages per base page shift: the order of ino's huge pages. */
static inline unsigned hpage_order(const struct um_system *sys, const struct inode *ino)
{
	return ino->hpage_shift - sys->geom.shift;
}

/* The huge page index in v's file of addr (vma_hugecache_offset). */
static uint64_t vma_hindex(const struct um_system *sys, const struct vma *v, uint64_t addr)
{
	return ((addr - v->vm_start) >> v->vm_inode->hpage_shift) +
	       (v->vm_pgoff >> hpage_order(sys, v->vm_inode));
}

static struct hugetlb_resv *resv_new(struct um_system *sys, uint64_t first, uint64_t n)
{
	struct hugetlb_resv *r = um_calloc(sys, 1, sizeof(*r));

	if (!r)
		return NULL;
	r->map = um_calloc(sys, n ? n : 1, 1);
	if (!r->map) {
		um_free(sys, r);
		return NULL;
	}
	r->refs = 1;
	r->first = first;
	r->n = n;
	return r;
}

static void resv_put(struct um_system *sys, struct hugetlb_resv *r)
{
	if (r && --r->refs == 0) {
		um_free(sys, r->map);
		um_free(sys, r);
	}
}

/*
 * The inode's resv_map, made on first need over its whole size (and at
 * least to index to): NULL when it cannot be. hugetlb_mutex is held.
 */
static struct hugetlb_resv *inode_resv(struct um_system *sys, struct inode *ino, uint64_t to)
{
	if (!ino->hresv) {
		uint64_t size = atomic_load(&ino->size) >> ino->hpage_shift;

		ino->hresv = resv_new(sys, 0, size > to ? size : to);
	}
	return ino->hresv;
}

/* Is index in the map (an index outside it is not)? */
static bool resv_has(const struct hugetlb_resv *r, uint64_t index)
{
	return r && index - r->first < r->n && r->map[index - r->first];
}

static void resv_set(struct hugetlb_resv *r, uint64_t index, bool on)
{
	if (r && index - r->first < r->n)
		r->map[index - r->first] = on;
}

/* Indices of [from, to) in the map, clearing them when clear is set. */
static uint64_t resv_count(struct hugetlb_resv *r, uint64_t from, uint64_t to, bool clear)
{
	uint64_t n = 0;

	for (uint64_t i = from; r && i < to; i++) {
		n += resv_has(r, i);
		if (clear)
			resv_set(r, i, false);
	}
	return n;
}

/* hugetlb_acct_memory: reserve delta more pages if the free ones cover them. */
static int acct_reserve(struct frame_pool *fp, struct hstate *hs, uint64_t delta)
{
	int err = 0;

	pthread_mutex_lock(&fp->hlock);
	/*
	 * gather_surplus_pages, then allowed_mems_nr: the free pages must
	 * cover the reservations and, on their own, the new ones (which
	 * matters while a zap's restored reservation leaves resv below 0).
	 */
	if (hs->resv + (int64_t)delta > (int64_t)hs->nr_free || delta > hs->nr_free)
		err = -ENOMEM;
	else
		hs->resv += (int64_t)delta;
	pthread_mutex_unlock(&fp->hlock);
	return err;
}

/* Adds delta (negative: gives reservations back) to the reserved pages. */
static void acct_adjust(struct frame_pool *fp, struct hstate *hs, int64_t delta)
{
	pthread_mutex_lock(&fp->hlock);
	hs->resv += delta;
	pthread_mutex_unlock(&fp->hlock);
}

int hugetlb_mmap_checks(struct um_system *sys, struct inode *ino, struct vma *v, uint64_t pgoff,
			uint64_t len, uint64_t vm_flags)
{
	uint64_t hmask = (1ULL << ino->hpage_shift) - 1;
	struct hstate *hs = inode_hstate(sys, ino);
	uint64_t from, to, chg;
	int err;

	/* The offset must be a whole number of huge pages. */
	if (pg_bytes(&sys->geom, pgoff) & hmask || pgoff >= (1ULL << (63 - sys->geom.shift)))
		return -EINVAL;
	if (len + pg_bytes(&sys->geom, pgoff) < len)
		return -EINVAL;
	/* hugetlb_reserve_pages: MAP_NORESERVE reserves nothing. */
	if (vm_flags & VM_NORESERVE)
		return 0;
	from = pgoff >> hpage_order(sys, ino);
	to = from + (len >> ino->hpage_shift);
	if (vm_flags & VM_MAYSHARE) {
		/* The inode's map is shared with faults in other mms (after fork). */
		pthread_mutex_lock(&sys->hugetlb_mutex);
		err = inode_resv(sys, ino, to) ? 0 : -ENOMEM;
		if (!err) {
			chg = (to - from) - resv_count(ino->hresv, from, to, false);
			err = acct_reserve(&sys->fp, hs, chg);
		}
		if (!err)
			for (uint64_t i = from; i < to; i++)
				resv_set(ino->hresv, i, true);
		pthread_mutex_unlock(&sys->hugetlb_mutex);
		return err;
	}
	v->hresv = resv_new(sys, from, to - from);
	if (!v->hresv)
		return -ENOMEM;
	err = acct_reserve(&sys->fp, hs, to - from);
	if (err) {
		resv_put(sys, v->hresv);
		v->hresv = NULL;
	}
	return err;
}

void hugetlb_vma_close(struct um_system *sys, struct vma *v)
{
	struct hugetlb_resv *r = v->hresv;

	if (!r)
		return;
	/* hugetlb_vm_op_close: what the owner never consumed goes back. */
	if (v->vm_inode) {
		uint64_t from = vma_hindex(sys, v, v->vm_start), to = vma_hindex(sys, v, v->vm_end);

		acct_adjust(&sys->fp, inode_hstate(sys, v->vm_inode),
			    -(int64_t)((to - from) - resv_count(r, from, to, false)));
	}
	v->hresv = NULL;
	resv_put(sys, r);
}

void hugetlb_vma_share_resv(struct vma *n, const struct vma *v)
{
	n->hugetlb_unmapped = v->hugetlb_unmapped;
	n->hresv = v->hresv;
	if (n->hresv)
		n->hresv->refs++;
}

void hugetlb_vma_clear_resv(struct um_system *sys, struct vma *v)
{
	resv_put(sys, v->hresv);
	v->hresv = NULL;
}

static void hugetlb_inode_evict(struct um_system *sys, struct inode *ino, uint64_t cached_pages)
{
	struct hugetlb_resv *r = ino->hresv;

	if (!r)
		return;
	/* hugetlb_unreserve_pages: reserved minus freed, the reservations never used. */
	acct_adjust(
	    &sys->fp, inode_hstate(sys, ino),
	    -(int64_t)(resv_count(r, 0, r->n, true) - (cached_pages >> hpage_order(sys, ino))));
	ino->hresv = NULL;
	resv_put(sys, r);
}

void hugetlb_zap_prepare(struct mm *mm, struct vma *v, uint64_t start, uint64_t end)
{
	struct um_system *sys = mm->sys;
	uint64_t hsize, a;

	if (!(v->vm_flags & VM_HUGETLB) || !v->hresv || (v->vm_flags & VM_MAYSHARE))
		return;
	hsize = 1ULL << v->vm_inode->hpage_shift;
	for (a = start; a < end; a += hsize) {
		_Atomic pte_t *ptep = pgtable_walk(&mm->pt, a, false);
		pte_t pte = ptep ? atomic_load(ptep) : 0;
		struct hstate *hs;
		uint32_t pfn;

		if (!(pte & PTE_PRESENT))
			continue;
		pfn = pte_pfn(pte);
		if (!(atomic_load(&pfn_frame(&sys->fp, pfn)->flags) & PG_ANON))
			continue;
		/*
		 * __unmap_hugepage_range: the owner's page gets its reservation
		 * back when it is freed, and the index reads as unconsumed.
		 */
		hs = pfn_hstate(&sys->fp, pfn);
		pthread_mutex_lock(&sys->fp.hlock);
		hs->restore[(pfn - hs->base) >> hs->order] = 1;
		pthread_mutex_unlock(&sys->fp.hlock);
		resv_set(v->hresv, vma_hindex(sys, v, a), false);
	}
}

void hugetlb_punch_prepare(struct um_system *sys, struct inode *ino, uint64_t first, uint64_t nr)
{
	unsigned order = hpage_order(sys, ino);

	/*
	 * remove_inode_single_folio: each page removed takes its index out of
	 * the map, and its reservation was consumed: nothing to give back. A
	 * reserved index without a page stays reserved.
	 */
	for (uint64_t i = first >> order; i < (first + nr) >> order; i++)
		if (pagecache_lookup(ino, i << order) != FRAME_NONE)
			resv_set(ino->hresv, i, false);
}

/*
 * alloc_hugetlb_folio: a huge page for a fault, on a reservation when
 * use_resv is set, else from the pages nobody reserved; FRAME_NONE when
 * there is none.
 */
static uint32_t hugetlb_alloc(struct frame_pool *fp, struct hstate *hs, bool use_resv)
{
	uint32_t pfn = FRAME_NONE;

	pthread_mutex_lock(&fp->hlock);
	if (use_resv || (int64_t)hs->nr_free > hs->resv) {
		pfn = huge_page_take(hs);
		if (pfn != FRAME_NONE && use_resv)
			hs->resv--;
	}
	pthread_mutex_unlock(&fp->hlock);
	/* Zeroing 2 MiB (or 1 GiB) is no work for the pool's lock. */
	if (pfn != FRAME_NONE)
		huge_page_prepare(fp, hs, pfn);
	return pfn;
}

/* Maps the n frames from pfn at haddr: one PTE each, one more reference each. */
static int map_huge(struct mm *mm, uint64_t haddr, uint32_t pfn, uint64_t n, pte_t bits,
		    bool new_ref)
{
	struct frame_pool *fp = &mm->sys->fp;
	uint64_t k = 0, span_end;

	while (k < n) {
		uint64_t va = haddr + pg_bytes(&mm->sys->geom, k);
		_Atomic pte_t *ptep =
		    pgtable_span(&mm->pt, va, haddr + pg_bytes(&mm->sys->geom, n), &span_end, true);
		uint64_t cnt = pg_count(&mm->sys->geom, span_end - va);

		if (!ptep)
			return -ENOMEM;
		for (uint64_t i = 0; i < cnt; i++, k++) {
			struct frame *f = pfn_frame(fp, pfn + (uint32_t)k);

			if (new_ref)
				atomic_fetch_add_explicit(&f->refcount, 1, memory_order_relaxed);
			atomic_fetch_add_explicit(&f->mapcount, 1, memory_order_relaxed);
			atomic_store_explicit(&ptep[i], pfn_pte(pfn + (uint32_t)k, bits),
					      memory_order_release);
		}
	}
	atomic_fetch_add_explicit(&mm->rss[MM_HUGETLBPAGES], (int64_t)n, memory_order_relaxed);
	return 0;
}

/* Tables for every PTE of the huge page at haddr, made before anything maps. */
static bool tables_ready(struct mm *mm, uint64_t haddr, uint64_t hsize)
{
	uint64_t va = haddr, span_end;

	for (; va < haddr + hsize; va = span_end)
		if (!pgtable_span(&mm->pt, va, haddr + hsize, &span_end, true))
			return false;
	return true;
}

/* Drops the n frames of a huge page that a failed fault took. */
static void huge_release(struct frame_pool *fp, uint32_t pfn, uint64_t n, int refs)
{
	for (uint64_t k = 0; k < n; k++)
		for (int i = 0; i < refs; i++)
			frame_put(fp, pfn + (uint32_t)k);
}

/* hugetlb_no_page: the first access to a huge page of v. */
static int hugetlb_no_page(struct mm *mm, struct vma *v, uint64_t haddr, enum fault_access acc)
{
	struct um_system *sys = mm->sys;
	struct frame_pool *fp = &sys->fp;
	struct inode *ino = v->vm_inode;
	struct hstate *hs = inode_hstate(sys, ino);
	uint64_t n = 1ULL << hs->order, index = vma_hindex(sys, v, haddr);
	uint64_t first = index << hs->order;
	pte_t bits = PTE_PRESENT | PTE_USER | PTE_ACCESSED;
	uint32_t pfn;

	/* The owner took a page of this fork child's back: no fault succeeds here. */
	if (v->hugetlb_unmapped)
		return -ENOSPC;
	if (!tables_ready(mm, haddr, pg_bytes(&sys->geom, n)))
		return -ENOMEM;
	if (!(v->vm_flags & VM_MAYSHARE)) {
		/* A private page: anonymous, on the owner's reservation when unconsumed. */
		if (anon_vma_prepare_shared(mm, v))
			return -ENOMEM;
		pfn = hugetlb_alloc(fp, hs, v->hresv && !resv_has(v->hresv, index));
		if (pfn == FRAME_NONE)
			return -ENOSPC;
		resv_set(v->hresv, index, true);
		for (uint64_t k = 0; k < n; k++)
			atomic_fetch_or_explicit(&pfn_frame(fp, pfn + (uint32_t)k)->flags, PG_ANON,
						 memory_order_relaxed);
		if (acc == FAULT_WRITE)
			bits |= PTE_WRITE | PTE_DIRTY;
		return map_huge(mm, haddr, pfn, n, bits, false);
	}
	pfn = pagecache_lookup(ino, first);
	if (pfn == FRAME_NONE) {
		/* A shared page: into the inode's cache, on its reservation when it has one. */
		bool reserved = resv_has(ino->hresv, index);

		pfn = hugetlb_alloc(fp, hs, reserved);
		if (pfn == FRAME_NONE)
			return -ENOSPC;
		if (!inode_resv(sys, ino, index + 1) ||
		    pagecache_insert_huge(sys, ino, first, pfn, n)) {
			huge_release(fp, pfn, n, 1);
			if (reserved)
				acct_adjust(fp, hs, 1); /* the reservation stays unused */
			return -ENOMEM;
		}
		resv_set(ino->hresv, index, true);
	}
	/* make_huge_pte: a writable shared mapping maps it writable and dirty. */
	if (v->vm_flags & VM_WRITE)
		bits |= PTE_WRITE | PTE_DIRTY;
	return map_huge(mm, haddr, pfn, n, bits, true);
}

/* Sets bits in every PTE of the huge page at haddr (all present). */
static void huge_ptes_set(struct mm *mm, uint64_t haddr, uint64_t hsize, pte_t bits)
{
	uint64_t va, span_end;

	for (va = haddr; va < haddr + hsize; va = span_end) {
		_Atomic pte_t *ptep = pgtable_span(&mm->pt, va, haddr + hsize, &span_end, false);

		const uint64_t nr_ptes = pg_count(&mm->sys->geom, span_end - va);
		for (uint64_t i = 0; ptep && i < nr_ptes; i++)
			atomic_fetch_or_explicit(&ptep[i], bits, memory_order_relaxed);
	}
}

/*
 * unmap_ref_private: the owner of a private mapping could not copy the
 * huge page at haddr for want of a free page. Every other private,
 * non-owner VMA of the file that maps this very page at the same address
 * (its fork children) loses it, and is marked so that its later faults
 * raise SIGBUS rather than show a zero page where its data was.
 */
static void unmap_ref_private(struct mm *mm, struct vma *v, uint64_t haddr, uint32_t pfn)
{
	struct um_system *sys = mm->sys;
	struct inode *ino = v->vm_inode;
	uint64_t hsize = 1ULL << ino->hpage_shift;
	uint64_t pgoff = v->vm_pgoff + pg_count(&sys->geom, haddr - v->vm_start);

	pthread_mutex_lock(&ino->i_mmap_lock);
	for (struct vma *iv = ino->i_mmap; iv; iv = iv->i_mmap_next) {
		uint64_t pages = pg_count(&sys->geom, iv->vm_end - iv->vm_start);
		_Atomic pte_t *ptep;
		struct mmu_gather g;

		if (iv == v || (iv->vm_flags & VM_MAYSHARE) || iv->hresv ||
		    pgoff - iv->vm_pgoff >= pages || haddr < iv->vm_start || haddr >= iv->vm_end)
			continue;
		ptep = pgtable_walk(&iv->vm_mm->pt, haddr, false);
		if (!ptep || !(atomic_load(ptep) & PTE_PRESENT) ||
		    pte_pfn(atomic_load(ptep)) != pfn)
			continue;
		iv->hugetlb_unmapped = true;
		tlb_gather_init(&g, iv->vm_mm);
		mm_zap_range(iv->vm_mm, &g, haddr, haddr + hsize, true);
		tlb_gather_finish(&g);
	}
	pthread_mutex_unlock(&ino->i_mmap_lock);
}

/* hugetlb_wp: a write to a present, read-only huge page of v. */
static int hugetlb_wp(struct mm *mm, struct vma *v, uint64_t haddr, pte_t old)
{
	struct um_system *sys = mm->sys;
	struct frame_pool *fp = &sys->fp;
	struct hstate *hs = inode_hstate(sys, v->vm_inode);
	uint64_t n = 1ULL << hs->order, hsize = pg_bytes(&sys->geom, n);
	uint32_t pfn = pte_pfn(old), copy;
	struct frame *f = pfn_frame(fp, pfn);
	bool unmapped = false;

	/* Shared, or private and ours alone: the same page becomes writable. */
retry:
	if ((v->vm_flags & VM_MAYSHARE) ||
	    atomic_load_explicit(&f->refcount, memory_order_acquire) == 1) {
		huge_ptes_set(mm, haddr, hsize, PTE_WRITE | PTE_DIRTY);
		return 0;
	}
	/* A copy, never on a reservation (the owner's was consumed already). */
	copy = hugetlb_alloc(fp, hs, false);
	if (copy == FRAME_NONE && v->hresv && !unmapped) {
		/* The owner takes the page back from its children, then tries again. */
		unmap_ref_private(mm, v, haddr, pfn);
		unmapped = true;
		goto retry;
	}
	if (copy == FRAME_NONE)
		return -ENOSPC;
	memcpy(pfn_host(fp, copy), pfn_host(fp, pfn), hsize);
	for (uint64_t k = 0; k < n; k++) {
		atomic_fetch_or_explicit(&pfn_frame(fp, copy + (uint32_t)k)->flags, PG_ANON,
					 memory_order_relaxed);
		atomic_fetch_sub_explicit(&pfn_frame(fp, pfn + (uint32_t)k)->mapcount, 1,
					  memory_order_relaxed);
	}
	atomic_fetch_sub_explicit(&mm->rss[MM_HUGETLBPAGES], (int64_t)n, memory_order_relaxed);
	map_huge(mm, haddr, copy, n, PTE_PRESENT | PTE_USER | PTE_ACCESSED | PTE_WRITE | PTE_DIRTY,
		 false);
	mm_tlb_flush(mm);
	huge_release(fp, pfn, n, 1);
	atomic_fetch_add_explicit(&sys->cow_copies, 1, memory_order_relaxed);
	if (sys_events_on(sys))
		sys_event(sys, UM_EVENT_COW, mm->owner ? mm->owner->pid : 0, haddr, copy, 0, 0);
	return 0;
}

int hugetlb_fault(struct vm_fault *vmf)
{
	struct mm *mm = vmf->mm;
	struct vma *v = vmf->vma;
	struct um_system *sys = mm->sys;
	enum fault_access acc = vmf->acc;
	uint64_t haddr = vmf->address & ~vma_hpage_mask(v);
	_Atomic pte_t *ptep;
	pte_t pte;
	int ret = 0;

	/* hugetlb_fault_mutex: one fault at a time builds or copies a huge page. */
	pthread_mutex_lock(&sys->hugetlb_mutex);
	ptep = pgtable_walk(&mm->pt, haddr, false);
	pte = ptep ? atomic_load_explicit(ptep, memory_order_acquire) : 0;
	if ((pte & PTE_PRESENT) && !(pte & PTE_USER)) {
		/* The VMA allows access again (mprotect): so does the huge page. */
		huge_ptes_set(mm, haddr, vma_hpage_mask(v) + 1, PTE_USER);
		pte |= PTE_USER;
	}
	if (!(pte & PTE_PRESENT))
		ret = hugetlb_no_page(mm, v, haddr, acc);
	else if (acc == FAULT_WRITE && !(pte & PTE_WRITE))
		ret = hugetlb_wp(mm, v, haddr, pte);
	pthread_mutex_unlock(&sys->hugetlb_mutex);
	return ret;
}

/*
 * The file behind an anonymous MAP_HUGETLB mapping (hugetlb_file_setup): an
 * unlinked inode of the kernel's internal hugetlbfs mount for that huge
 * page size. maps shows that mount's device: 00:11 for 2 MiB pages and
 * 00:12 for 1 GiB ones on an x86-64 Linux 6.x, whose early pseudo file
 * systems take the anonymous device numbers before them in a fixed order.
 */
static struct inode *hugetlb_inode_new(struct um_system *sys, uint64_t size, unsigned shift)
{
	struct inode *ino = inode_alloc(sys, INODE_HUGETLB);

	if (!ino)
		return NULL;
	ino->ino = atomic_fetch_add(&sys->next_id, 1);
	atomic_store(&ino->size, size);
	ino->hpage_shift = (uint8_t)shift;
	ino->dev_major = 0;
	ino->dev_minor = (int)shift == hugetlb_shift(sys, 0) ? 0x11 : 0x12;
	ino->evict_inode = hugetlb_inode_evict;
	return ino;
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
