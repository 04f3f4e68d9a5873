/*
 * mremap.c: mremap() — shrink in place, grow in place, or move.
 *
 * A move never copies a frame: the page-table entries move from the old
 * range to the new one (pgtable_move: whole leaf tables where both ranges
 * are aligned to one), so the cost is that of the VMA bookkeeping plus
 * one entry (or one table) per page (or 2 MiB), whatever the bytes.
 * Frame reference and map counts and RSS are unchanged by a move.
 *
 * The order of the checks is Linux 6.18's (do_mremap: the lengths
 * page-aligned first, check_mremap_params, check_prep_vma, mremap_to,
 * move_vma), because it decides which errno a call with several bad
 * arguments gets; every check on the old range comes before anything is
 * unmapped. Locks carry over to the new range; accounted
 * (VM_ACCOUNT) memory is charged only for growth. Growth, and the copy a
 * DONTUNMAP move leaves behind, must fit RLIMIT_MEMLOCK (EAGAIN, for a
 * locked mapping) and RLIMIT_AS and RLIMIT_DATA (ENOMEM).
 */
#include <errno.h>

#include "fault.h"
#include "fs.h"
#include "hugetlb.h"
#include "mm.h"
#include "pgtable.h"
#include "system.h"
#include "tlb.h"
#include "vma.h"

/* The huge-page placement a move of v gets (get_unmapped_area on its file). */
static enum thp_align vma_thp_align(const struct vma *v)
{
	return thp_align_of(v->vm_inode, v->vm_flags & VM_MAYSHARE);
}

/* The file page that addr in v maps. */
static uint64_t vma_pgoff_at(const struct mm *mm, const struct vma *v, uint64_t addr)
{
	return v->vm_pgoff + pg_count(&mm->sys->geom, addr - v->vm_start);
}

/*
 * check_prep_vma: may v, the VMA at addr, give [addr, addr + old_len) a
 * new_len-long place? Only a move or a growth is checked: shrinking in
 * place and resizing to the same size always may. A shrink that moves
 * checks only the part it keeps, since the tail is unmapped first and may
 * span other mappings. Runs before anything is unmapped.
 */
static int check_prep_vma(struct mm *mm, struct vma *v, uint64_t addr, uint64_t old_len,
			  uint64_t new_len, int flags)
{
	uint64_t pgoff;

	if (!v)
		return -EFAULT;
	if (new_len <= old_len && !(flags & (UM_MREMAP_FIXED | UM_MREMAP_DONTUNMAP)))
		return 0;
	/* Duplicating a private mapping would make an unrelated new one: refused. */
	if (!old_len && !(v->vm_flags & (VM_SHARED | VM_MAYSHARE)))
		return -EINVAL;
	if ((flags & UM_MREMAP_DONTUNMAP) && (v->vm_flags & VM_DONTEXPAND))
		return -EINVAL;
	if (new_len < old_len)
		old_len = new_len;
	if (old_len > v->vm_end - addr) /* one VMA only */
		return -EFAULT;
	if (new_len == old_len)
		return 0;
	pgoff = v->vm_pgoff + pg_count(&mm->sys->geom, addr - v->vm_start);
	if (pgoff + pg_count(&mm->sys->geom, new_len) < pgoff)
		return -EINVAL;
	if (v->vm_flags & VM_DONTEXPAND)
		return -EFAULT;
	if (!mlock_future_ok(mm, v->vm_flags, new_len - old_len))
		return -EAGAIN;
	if (!may_expand_vm(mm, v->vm_flags, pg_count(&mm->sys->geom, new_len - old_len)))
		return -ENOMEM;
	return 0;
}

/*
 * A DONTUNMAP move keeps the old range mapped: the new one is all growth,
 * checked against RLIMIT_AS and RLIMIT_DATA once the target is cleared.
 */
static int dontunmap_may_expand(struct mm *mm, const struct vma *v, uint64_t len, int flags)
{
	if ((flags & UM_MREMAP_DONTUNMAP) &&
	    !may_expand_vm(mm, v->vm_flags, pg_count(&mm->sys->geom, len)))
		return -ENOMEM;
	return 0;
}

/* copy_vma: a VMA like v for [new, new + len), inserted (not yet merged). */
static struct vma *copy_vma(struct mm *mm, struct vma *v, uint64_t old, uint64_t new, uint64_t len)
{
	struct vma *n = vma_alloc(mm->sys);

	if (!n)
		return NULL;
	n->vm_start = new;
	n->vm_end = new + len;
	n->vm_flags = v->vm_flags;
	n->vm_pgoff = v->vm_pgoff + pg_count(&mm->sys->geom, old - v->vm_start);
	/*
	 * An anonymous VMA never faulted takes the new place's offset: it may
	 * merge there (copy_vma). A private /dev/zero mapping too, file and all.
	 */
	if (vma_is_anonymous(v) && !v->anon_vma)
		n->vm_pgoff = pg_count(&mm->sys->geom, new);
	n->vm_inode = v->vm_inode;
	if (n->vm_inode)
		inode_get(n->vm_inode);
	n->vm_file = v->vm_file;
	if (n->vm_file)
		file_get(n->vm_file);
	n->anon_vma = v->anon_vma;
	if (n->anon_vma)
		atomic_fetch_add(&n->anon_vma->refcount, 1);
	n->anon_forked = v->anon_forked;
	hugetlb_vma_share_resv(n, v);
	n->vm_mm = mm;
	vma_insert(&mm->vmas, n);
	i_mmap_link(n);
	anon_vma_link(n);
	return n;
}

/*
 * dontunmap_complete: the old range of a DONTUNMAP move stays mapped, empty.
 * As Linux does, the whole VMA holding it loses its lock flags, not split
 * and without a merge, and locked_vm keeps counting it: the pages the
 * munmap of a VMA without VM_LOCKED would uncount stay counted for good.
 * VM_ACCOUNT stays. The anon_vma goes when every page of the VMA moved.
 */
static void dontunmap_complete(struct mm *mm, uint64_t old, uint64_t old_len)
{
	struct vma *v = vma_lookup(&mm->vmas, old);

	if (!v)
		return;
	if (v->vm_flags & VM_LOCKED)
		mm->locked_vm_stale += pg_count(&mm->sys->geom, v->vm_end - v->vm_start);
	v->vm_flags &= ~VM_LOCKED_MASK;
	if (v->anon_vma && v->vm_start == old && v->vm_end == old + old_len) {
		anon_vma_unlink(v);
		anon_vma_put(mm->sys, v->anon_vma);
		v->anon_vma = NULL;
		v->anon_forked = false;
	}
}

/* move_vma: the move proper. The mm lock is held exclusive. */
static int64_t move_vma(struct mm *mm, struct vma *v, uint64_t old, uint64_t old_len,
			uint64_t new_len, uint64_t new, int flags, bool *locked)
{
	struct um_system *sys = mm->sys;
	uint64_t vm_flags = v->vm_flags, charge = 0, old_pages = pg_count(&sys->geom, old_len);
	struct vma *n;

	if (mm->vmas.count + 3 >= sys->cfg.max_map_count)
		return -ENOMEM;
	if (vm_flags & VM_ACCOUNT) {
		/* The old reservation moves along; growth, or a kept old range, is new. */
		charge = (flags & UM_MREMAP_DONTUNMAP) ? pg_count(&sys->geom, new_len)
						       : pg_count(&sys->geom, new_len - old_len);
		if (charge && vm_enough_memory(mm, charge))
			return -ENOMEM;
	}
	n = copy_vma(mm, v, old, new, new_len);
	if (!n || pgtable_move(&mm->pt, old, new, old_len)) {
		if (n) {
			vma_remove(&mm->vmas, n);
			vma_free(sys, n);
			pgtable_free_range(&mm->pt, new, new + new_len);
		}
		if (charge)
			vm_unacct_memory(sys, charge);
		return -ENOMEM;
	}
	vm_stat_account(mm, vm_flags, (int64_t)pg_count(&sys->geom, new_len));
	mm_tlb_sync(mm);
	/* The new range is counted locked; the old one stays counted either way (vrm_stat_account). */
	if (vm_flags & VM_LOCKED) {
		mm->locked_vm += pg_count(&sys->geom, new_len);
		*locked = true;
	}
	if (flags & UM_MREMAP_DONTUNMAP) {
		/*
		 * copy_vma merges the new VMA before the old one is seen to: when
		 * it absorbed the old VMA, that merged VMA is the one unlocked.
		 */
		vma_merge_neighbours(mm, n);
		dontunmap_complete(mm, old, old_len);
		return (int64_t)new;
	}
	/* The old VMA's reservations moved along: its munmap gives none back. */
	v = vma_lookup(&mm->vmas, old);
	if (v && (v->vm_flags & VM_HUGETLB))
		hugetlb_vma_clear_resv(sys, v);
	/* The munmap below returns the old charge: it belongs to the new range now. */
	if (vm_flags & VM_ACCOUNT)
		atomic_fetch_add(&sys->committed, old_pages);
	if (old_len) /* old_len 0 duplicates: the original stays whole */
		do_munmap(mm, old, old_len);
	n = vma_lookup(&mm->vmas, new);
	if (n)
		vma_merge_neighbours(mm, n);
	return (int64_t)new;
}

/*
 * mremap_to: MREMAP_FIXED or MREMAP_DONTUNMAP, the old range checked by
 * check_prep_vma. The target is cleared first, then a shrink unmaps the
 * tail, whatever it spans; only the part kept moves.
 */
static int64_t mremap_to(struct mm *mm, uint64_t addr, uint64_t old_len, uint64_t new_addr,
			 uint64_t new_len, int flags, bool *locked)
{
	struct vma *v;
	int64_t r;
	int err;

	if (flags & UM_MREMAP_FIXED) {
		err = do_munmap(mm, new_addr, new_len);
		if (err)
			return err;
	}
	if (old_len > new_len) {
		err = do_munmap(mm, addr + new_len, old_len - new_len);
		if (err)
			return err;
		old_len = new_len;
	}
	/* Either munmap may have split the old VMA. */
	v = vma_lookup(&mm->vmas, addr);
	if (!v)
		return -EFAULT;
	err = dontunmap_may_expand(mm, v, old_len, flags);
	if (err)
		return err;
	r = get_unmapped_area(mm, new_addr, new_len,
			      (flags & UM_MREMAP_FIXED ? UM_MAP_FIXED : 0) |
				      (v->vm_flags & VM_MAYSHARE ? UM_MAP_SHARED : UM_MAP_PRIVATE),
			      vma_thp_align(v), vma_pgoff_at(mm, v, addr));
	if (r < 0)
		return r;
	if (!(flags & UM_MREMAP_FIXED))
		new_addr = (uint64_t)r;
	return move_vma(mm, v, addr, old_len, new_len, new_addr, flags, locked);
}

/*
 * A same-size MREMAP_FIXED move of a range over several mappings (Linux
 * 6.17): each mapping moves to the same offset in the new range, and what
 * lies in the new range opposite a hole stays. The range must start in a
 * mapping (checked by the caller).
 */
static int64_t move_several(struct mm *mm, uint64_t addr, uint64_t len, uint64_t new_addr,
			    int flags, bool *locked)
{
	uint64_t end = addr + len, at = addr;

	while (at < end) {
		struct vma *v = vma_find(&mm->vmas, at);
		uint64_t ps, pe, target;
		int64_t r;
		int err;

		if (!v || v->vm_start >= end)
			break;
		ps = v->vm_start > at ? v->vm_start : at;
		pe = v->vm_end < end ? v->vm_end : end;
		target = new_addr + (ps - addr);
		if (v->vm_flags & VM_HUGETLB) {
			/* align_hugetlb, piece by piece: whole huge pages at huge page addresses. */
			uint64_t hmask = vma_hpage_mask(v);

			if ((ps & hmask) || (target & hmask))
				return -EINVAL;
			pe = ps + ((pe - ps + hmask) & ~hmask);
		}
		/* check_prep_vma, for each piece (hugetlb moves too, but not DONTUNMAP). */
		err = check_prep_vma(mm, v, ps, pe - ps, pe - ps, flags);
		if (err)
			return err;
		/*
		 * vma_multi_allowed: a file with its own placement that may not
		 * honour MREMAP_FIXED (/dev/zero's, for a private mapping) moves
		 * only alone: not after another VMA, nor with more after it.
		 */
		if (v->vm_inode && v->vm_inode->type == INODE_ZERO && (at > addr || v->vm_end < end))
			return -EFAULT;
		err = do_munmap(mm, target, pe - ps);
		if (err)
			return err;
		v = vma_lookup(&mm->vmas, ps);
		if (!v)
			return -EFAULT;
		err = dontunmap_may_expand(mm, v, pe - ps, flags);
		if (err)
			return err;
		r = move_vma(mm, v, ps, pe - ps, pe - ps, target, flags, locked);
		if (r < 0)
			return r;
		at = pe;
	}
	return (int64_t)new_addr;
}

/* Can v grow by delta in place (vma_expandable)? */
static bool vma_expandable(struct mm *mm, struct vma *v, uint64_t delta)
{
	uint64_t end = v->vm_end + delta;

	if (end < v->vm_end || end > mm->sys->task_size)
		return false;
	return !v->next || v->next->vm_start >= end;
}

/*
 * check_mremap_params: every argument, before any VMA is looked at. The
 * lengths are page-aligned already (PAGE_ALIGN wraps: a length within a
 * page of 2^64 becomes 0).
 */
static int check_mremap_params(const struct um_system *sys, uint64_t addr, uint64_t old_len,
			       uint64_t new_len, int flags, uint64_t new_addr)
{
	if (flags & ~(UM_MREMAP_FIXED | UM_MREMAP_MAYMOVE | UM_MREMAP_DONTUNMAP))
		return -EINVAL;
	if (!page_aligned(&sys->geom, addr))
		return -EINVAL;
	if (!new_len || new_len > sys->task_size)
		return -EINVAL;
	if (!(flags & (UM_MREMAP_FIXED | UM_MREMAP_DONTUNMAP)))
		return 0;
	if (new_addr > sys->task_size - new_len || !page_aligned(&sys->geom, new_addr))
		return -EINVAL;
	if (!(flags & UM_MREMAP_MAYMOVE))
		return -EINVAL;
	/* DONTUNMAP compares the rounded lengths: 0x2174 and 0x3000 are equal. */
	if ((flags & UM_MREMAP_DONTUNMAP) && old_len != new_len)
		return -EINVAL;
	if (addr + old_len > new_addr && new_addr + new_len > addr)
		return -EINVAL;
	return 0;
}

/* Grows v, whose last old_len bytes start at addr, by new_len - old_len in place. */
static int64_t expand_in_place(struct mm *mm, struct vma *v, uint64_t addr, uint64_t old_len,
			       uint64_t new_len, bool *locked)
{
	uint64_t pages = pg_count(&mm->sys->geom, new_len - old_len);

	if ((v->vm_flags & VM_ACCOUNT) && vm_enough_memory(mm, pages))
		return -ENOMEM;
	vma_bounds_lock(v);
	v->vm_end += new_len - old_len;
	vma_bounds_unlock(v);
	vma_bounds_changed(&mm->vmas, v);
	vm_stat_account(mm, v->vm_flags, (int64_t)pages);
	if (v->vm_flags & VM_LOCKED) {
		mm->locked_vm += pages;
		*locked = true;
	}
	vma_merge_extend(mm, v);
	return (int64_t)addr;
}

int64_t um_mremap(struct um_proc *p, uint64_t addr, uint64_t old_len, uint64_t new_len, int flags,
		  uint64_t new_addr)
{
	struct um_system *sys = p->sys;
	struct mm *mm = p->mm;
	bool locked = false;
	struct vma *v;
	int64_t ret;

	if (proc_oom_killed(p))
		return -ESRCH;
	old_len = page_align(&sys->geom, old_len);
	new_len = page_align(&sys->geom, new_len);
	ret = check_mremap_params(sys, addr, old_len, new_len, flags, new_addr);
	if (ret)
		return ret;
	mmap_write_lock(mm);
	/* Both the target and the old range may split: room for two more, and move_vma's three. */
	ret = -ENOMEM;
	if ((flags & (UM_MREMAP_FIXED | UM_MREMAP_DONTUNMAP)) &&
	    mm->vmas.count + 2 >= sys->cfg.max_map_count - 3)
		goto out;
	v = vma_lookup(&mm->vmas, addr);
	if (v && (v->vm_flags & VM_HUGETLB)) {
		/*
		 * align_hugetlb: whole huge pages at huge page addresses (the
		 * new address is checked as given, even without MREMAP_FIXED),
		 * and no growth: a reservation cannot be split.
		 */
		uint64_t hmask = vma_hpage_mask(v);

		old_len = (old_len + hmask) & ~hmask;
		new_len = (new_len + hmask) & ~hmask;
		ret = -EINVAL;
		if ((addr & hmask) || (new_addr & hmask) || new_len > old_len)
			goto out;
	}
	/* Linux 6.17: a same-size MREMAP_FIXED move may span several mappings. */
	if (v && (flags & UM_MREMAP_FIXED) && old_len == new_len && old_len > v->vm_end - addr) {
		ret = move_several(mm, addr, old_len, new_addr, flags, &locked);
		goto out;
	}
	ret = check_prep_vma(mm, v, addr, old_len, new_len, flags);
	if (ret)
		goto out;
	if (flags & (UM_MREMAP_FIXED | UM_MREMAP_DONTUNMAP)) {
		ret = mremap_to(mm, addr, old_len, new_addr, new_len, flags, &locked);
		new_addr = (uint64_t)ret;
		goto out;
	}
	/* Shrinking always works: it unmaps the tail, whatever it spans. */
	if (old_len >= new_len) {
		ret = old_len == new_len ? 0 : do_munmap(mm, addr + new_len, old_len - new_len);
		if (!ret)
			ret = (int64_t)addr;
		goto out;
	}
	/* Growing the whole tail of a VMA into free space: in place. */
	if (old_len == v->vm_end - addr && vma_expandable(mm, v, new_len - old_len)) {
		ret = expand_in_place(mm, v, addr, old_len, new_len, &locked);
		new_addr = addr;
		goto out;
	}
	ret = -ENOMEM;
	if (flags & UM_MREMAP_MAYMOVE) {
		ret = get_unmapped_area(mm, 0, new_len,
					v->vm_flags & VM_MAYSHARE ? UM_MAP_SHARED : UM_MAP_PRIVATE,
					vma_thp_align(v), vma_pgoff_at(mm, v, addr));
		if (ret >= 0) {
			new_addr = (uint64_t)ret;
			ret = move_vma(mm, v, addr, old_len, new_len, new_addr, flags, &locked);
		}
	}
out:
	mmap_write_unlock(mm);
	if (ret >= 0 && locked && new_len > old_len)
		mm_populate(mm, new_addr + old_len, new_addr + new_len, true);
	return ret;
}
