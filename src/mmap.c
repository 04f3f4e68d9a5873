/*
 * mmap.c: mmap() and munmap().
 *
 * The argument checks follow Linux's order (arch sys_mmap, ksys_mmap_pgoff,
 * do_mmap, __get_unmapped_area, mmap_region), because the order decides
 * which errno a call with several bad arguments gets.
 *
 * A call either succeeds or changes nothing: the VMA a mapping needs is
 * allocated before MAP_FIXED unmaps what was there, and munmap checks the
 * map count before it splits anything. (Linux itself may leave a partial
 * effect only where semantics.md says so; none of these are such cases.)
 */
#include <errno.h>
#include <string.h>

#include "cred.h"
#include "fault.h"
#include "fs.h"
#include "hugetlb.h"
#include "mm.h"
#include "pgtable.h"
#include "system.h"
#include "tlb.h"
#include "vma.h"

#define STACK_GUARD_GAP_PAGES 256

uint64_t calc_vm_prot_bits(int prot)
{
	return (prot & UM_PROT_READ ? VM_READ : 0) | (prot & UM_PROT_WRITE ? VM_WRITE : 0) |
	       (prot & UM_PROT_EXEC ? VM_EXEC : 0);
}

static uint64_t calc_vm_flag_bits(uint64_t flags)
{
	/* Since Linux 6.7 a stack is never backed by huge pages: MAP_STACK sets VM_NOHUGEPAGE. */
	return (flags & UM_MAP_GROWSDOWN ? VM_GROWSDOWN : 0) |
	       (flags & UM_MAP_LOCKED ? VM_LOCKED : 0) | (flags & UM_MAP_SYNC ? VM_SYNC : 0) |
	       (flags & UM_MAP_STACK ? VM_NOHUGEPAGE : 0);
}

/*
 * arch_pick_mmap_layout's mmap_base: the mmap area ends a gap below the top
 * that leaves room for a stack of RLIMIT_STACK and its guard gap, at least
 * 128 MiB (the gap of the configured mmap_base), at most five sixths of
 * the user space (an unlimited stack). Linux without randomization.
 */
uint64_t mmap_base_at_exec(const struct um_system *sys, uint64_t stack_limit)
{
	uint64_t pad = pg_bytes(&sys->geom, STACK_GUARD_GAP_PAGES), gap = stack_limit;
	uint64_t gap_max = sys->task_size / 6 * 5, lower;

	if (gap + pad > gap) /* an unlimited stack would wrap */
		gap += pad;
	if (gap <= STACK_GAP_MIN)
		return sys->cfg.mmap_base;
	if (gap > gap_max)
		gap = gap_max;
	/* PAGE_ALIGN(task_size - gap): the base rounds up, the gap down. */
	lower = page_align_down(&sys->geom, gap - STACK_GAP_MIN);
	return lower < sys->cfg.mmap_base ? sys->cfg.mmap_base - lower : sys->cfg.mmap_base;
}

/* The lowest address a mapping may start at, gap below a stack included. */
static uint64_t vm_start_gap(const struct mm *mm, const struct vma *v)
{
	uint64_t gap = pg_bytes(&mm->sys->geom, STACK_GUARD_GAP_PAGES);

	if ((v->vm_flags & VM_GROWSDOWN) && v->vm_start > gap)
		return v->vm_start - gap;
	return (v->vm_flags & VM_GROWSDOWN) ? 0 : v->vm_start;
}

/*
 * The lowest free [a, a + len) inside [low, high) whose start is aligned
 * to align + 1 (arch_get_unmapped_area, x86 MAP_32BIT; align 0: any page).
 */
static uint64_t gap_bottomup(const struct mm *mm, uint64_t len, uint64_t align, uint64_t low,
			     uint64_t high)
{
	uint64_t start = (low + align) & ~align;

	for (const struct vma *v = mm->vmas.first; v; v = v->next) {
		if (v->vm_end <= start)
			continue;
		if (v->vm_start >= start + len)
			break;
		start = (v->vm_end + align) & ~align;
	}
	return start + len <= high && start >= low ? start : 0;
}

/*
 * unmapped_area_topdown: the highest free range, keeping the guard gap
 * below a MAP_GROWSDOWN VMA: a fit that would end inside it is searched
 * for again below the gap, as Linux retries.
 */
static uint64_t gap_topdown(struct mm *mm, uint64_t len, uint64_t align, uint64_t low,
			    uint64_t high)
{
	uint64_t pad = page_align_down(&mm->sys->geom, align);

	for (;;) {
		/*
		 * An aligned start needs a gap of len plus the alignment less a
		 * page (unmapped_area_topdown's align_mask): the highest such
		 * gap, whose end less len is then aligned down.
		 */
		uint64_t found = vma_gap_topdown(&mm->vmas, len + pad, low, high);
		struct vma *above;

		if (!found)
			return 0;
		found = (found + pad) & ~align;
		above = vma_find(&mm->vmas, found + len);
		if (!above || found + len <= vm_start_gap(mm, above))
			return found;
		high = vm_start_gap(mm, above);
		if (high < low + len)
			return 0;
	}
}

/* Is the hint usable: free, below end, clear of a stack's guard gap? */
static bool hint_free(struct mm *mm, uint64_t addr, uint64_t len, uint64_t end)
{
	struct vma *v;

	if (addr > end - len)
		return false;
	v = vma_find(&mm->vmas, addr);
	return !v || addr + len <= vm_start_gap(mm, v);
}

/*
 * arch_get_unmapped_area_topdown for an mm: MAP_FIXED is taken as given;
 * MAP_32BIT searches bottom-up in [1 GiB, 2 GiB) as x86 does; a hint is
 * used when the range is free; otherwise the highest free range below
 * mmap_base (unmapped_area_topdown), then anywhere.
 */
static int64_t arch_get_unmapped_area(struct mm *mm, uint64_t addr, uint64_t len, int flags,
				      uint64_t align)
{
	struct um_system *sys = mm->sys;
	uint64_t low =
	    sys->cfg.mmap_min_addr > sys->geom.size ? sys->cfg.mmap_min_addr : sys->geom.size;
	uint64_t found;

	low = page_align(&sys->geom, low);
	if (flags & UM_MAP_32BIT) {
		const uint64_t begin = 0x40000000ULL, end = 0x80000000ULL;

		if (len > end)
			return -ENOMEM;
		if (addr) {
			addr = page_align(&sys->geom, addr);
			if (hint_free(mm, addr, len, end))
				return (int64_t)addr;
		}
		found = gap_bottomup(mm, len, align, begin, end);
		return found ? (int64_t)found : -ENOMEM;
	}
	if (addr) {
		addr = page_align_down(&sys->geom, addr);
		if (hint_free(mm, addr, len, sys->task_size))
			return (int64_t)addr;
	}
	found = gap_topdown(mm, len, align, low, mm->mmap_base);
	if (!found)
		found = gap_topdown(mm, len, align, low, sys->task_size);
	return found ? (int64_t)found : -ENOMEM;
}

/* The checks __get_unmapped_area makes of any placement. */
static int64_t unmapped_area_checks(struct mm *mm, int64_t r, uint64_t len)
{
	struct um_system *sys = mm->sys;

	if (r < 0)
		return r;
	if ((uint64_t)r > sys->task_size - len)
		return -ENOMEM;
	if (!page_aligned(&sys->geom, r))
		return -EINVAL;
	if ((uint64_t)r < sys->cfg.mmap_min_addr && !mm_capable(mm, UM_CAP_SYS_RAWIO))
		return -EPERM; /* security_mmap_addr */
	return r;
}

/*
 * __thp_get_unmapped_area: a range whose address is congruent to the file
 * offset off modulo the PMD size (2 MiB with 4 KiB pages), so that the
 * PMD-aligned part of [off, off + len) can be mapped by huge pages. Only
 * when that part holds a whole PMD: search for len plus one PMD, then move
 * the start up to the congruent address (by a whole PMD when it already is
 * one, as the search is top-down). A hint whose padded range is free is
 * taken as is. 0 when it does not apply or the padded search fails.
 */
static uint64_t thp_get_unmapped_area(struct mm *mm, uint64_t addr, uint64_t len, uint64_t off,
				      int flags)
{
	struct um_system *sys = mm->sys;
	uint64_t pmd = sys->geom.size * (sys->geom.size / 8);
	uint64_t off_end = off + len, off_align = (off + pmd - 1) & ~(pmd - 1);
	uint64_t pad = len + pmd, sub;
	int64_t r;

	if (off_align < off || off_end < off || off_end <= off_align || off_end - off_align < pmd)
		return 0;
	if (pad < len || off + pad < off)
		return 0;
	r = arch_get_unmapped_area(mm, addr, pad, flags, 0);
	if (r < 0)
		return 0;
	if ((uint64_t)r == addr)
		return addr;
	sub = (off - (uint64_t)r) & (pmd - 1);
	return (uint64_t)r + (sub ? sub : pmd);
}

/*
 * __get_unmapped_area: the checks around the search, and the placements
 * that let huge pages map the range (thp_get_unmapped_area): a private
 * anonymous mapping without a hint whose length is a multiple of the PMD
 * size (since Linux 6.7), and a mapping of a file whose get_unmapped_area
 * is thp_get_unmapped_area (ext4 files with large folios, a private
 * /dev/zero mapping) at its offset pgoff. Shared anonymous memory is shmem,
 * placed as usual (shmem huge pages are off).
 */
int64_t get_unmapped_area(struct mm *mm, uint64_t addr, uint64_t len, int flags,
			  enum thp_align thp, uint64_t pgoff)
{
	struct um_system *sys = mm->sys;
	uint64_t pmd = sys->geom.size * (sys->geom.size / 8);
	int64_t r;

	if (len > sys->task_size)
		return -ENOMEM;
	if (flags & UM_MAP_FIXED) {
		if (addr > sys->task_size - len)
			return -ENOMEM;
		if (!page_aligned(&sys->geom, addr))
			return -EINVAL;
		if (addr < sys->cfg.mmap_min_addr && !mm_capable(mm, UM_CAP_SYS_RAWIO))
			return -EPERM; /* security_mmap_addr */
		return (int64_t)addr;
	}
	r = 0;
	if (thp == THP_ANON && !addr && !(len % pmd))
		r = (int64_t)thp_get_unmapped_area(mm, 0, len, 0, flags);
	else if (thp == THP_FILE && pgoff <= pg_count(&sys->geom, UINT64_MAX))
		r = (int64_t)thp_get_unmapped_area(mm, addr, len, pg_bytes(&sys->geom, pgoff),
						   flags);
	/* 0: no alignment, or the padding is what failed: search again without it. */
	if (!r)
		r = arch_get_unmapped_area(mm, addr, len, flags, 0);
	return unmapped_area_checks(mm, r, len);
}

/*
 * hugetlb_get_unmapped_area: whole huge pages, at a huge page boundary (a
 * MAP_FIXED address too, EINVAL otherwise); a hint is aligned up first.
 */
static int64_t hugetlb_get_unmapped_area(struct mm *mm, uint64_t addr, uint64_t len, int flags,
					 uint64_t hmask)
{
	struct um_system *sys = mm->sys;
	int64_t r;

	if (len & hmask)
		return -EINVAL;
	if ((flags & UM_MAP_FIXED) && (addr & hmask))
		return -EINVAL;
	if (len > sys->task_size)
		return -ENOMEM;
	if (flags & UM_MAP_FIXED) {
		r = (int64_t)addr;
	} else {
		addr = addr + hmask < addr ? 0 : (addr + hmask) & ~hmask;
		r = arch_get_unmapped_area(mm, addr, len, flags, hmask);
	}
	return unmapped_area_checks(mm, r, len);
}

/* MAP_SHARED drops the flags Linux does not know of; MAP_SHARED_VALIDATE refuses them. */
#define LEGACY_MAP_MASK                                                                            \
	(uint64_t)(UM_MAP_SHARED | UM_MAP_PRIVATE | UM_MAP_FIXED | UM_MAP_ANONYMOUS | UM_MAP_DENYWRITE |     \
	 UM_MAP_EXECUTABLE | UM_MAP_UNINITIALIZED | UM_MAP_GROWSDOWN | UM_MAP_LOCKED |             \
	 UM_MAP_NORESERVE | UM_MAP_POPULATE | UM_MAP_NONBLOCK | UM_MAP_STACK | UM_MAP_HUGETLB |    \
	 UM_MAP_32BIT | 0x80 /* MAP_ABOVE4G */ | (31u << 26) /* MAP_HUGE_2MB | MAP_HUGE_1GB */)

/*
 * The file part of do_mmap's checks. *vm_flags gains VM_SHARED and loses
 * VM_MAYWRITE as Linux decides; *mapfile is the file's inode (the caller
 * swaps a shared /dev/zero mapping's for a new shmem object).
 */
static int mmap_file_checks(struct file *file, int prot, uint64_t flags, int64_t off, uint64_t len,
			    uint64_t *vm_flags, struct inode **mapfile)
{
	struct inode *ino = file->inode;
	/* Regular files (ext4's FOP_MMAP_SYNC) take MAP_SYNC under MAP_SHARED_VALIDATE. */
	uint64_t flags_mask = LEGACY_MAP_MASK | (ino->type == INODE_REG ? UM_MAP_SYNC : 0);

	/*
	 * file_mmap_ok(): the mapped range must fit the file's largest offset,
	 * MAX_LFS_FILESIZE for files; a negative offset never does.
	 */
	if (off < 0 || len > (uint64_t)INT64_MAX || (uint64_t)off > (uint64_t)INT64_MAX - len)
		return -EOVERFLOW;
	switch (flags & UM_MAP_TYPE) {
	case UM_MAP_SHARED:
		/* Unknown flags are dropped here (VM_SYNC is already set). */
		flags &= LEGACY_MAP_MASK;
		/* fall through */
	case UM_MAP_SHARED_VALIDATE:
		if (flags & ~flags_mask)
			return -EOPNOTSUPP;
		if ((prot & UM_PROT_WRITE) && !FMODE_WRITE(file))
			return -EACCES;
		*vm_flags |= VM_SHARED | VM_MAYSHARE;
		if (!FMODE_WRITE(file))
			*vm_flags &= ~(VM_MAYWRITE | VM_SHARED);
		/* fall through */
	case UM_MAP_PRIVATE:
		if (!FMODE_READ(file))
			return -EACCES;
		if (ino->type == INODE_DIR)
			return -ENODEV;
		if (*vm_flags & VM_GROWSDOWN)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	*mapfile = ino;
	return 0;
}

/*
 * The file's ->mmap (call_mmap), run once MAP_FIXED has emptied the range:
 * hugetlbfs takes its reservations (when it fails, the range stays empty,
 * as Linux leaves it) and marks the VMA; ext4 refuses VM_SYNC, as no usermm
 * file has DAX.
 */
static int mmap_file(struct mm *mm, struct inode *file, struct vma *v, uint64_t pgoff,
		     uint64_t len, uint64_t *vm_flags)
{
	int err;

	if (!file)
		return 0;
	if (file->type == INODE_HUGETLB) {
		err = hugetlb_mmap_checks(mm->sys, file, v, pgoff, len, *vm_flags);
		if (err)
			return err;
		*vm_flags |= VM_HUGETLB | VM_DONTEXPAND;
	}
	if (file->type == INODE_REG && (*vm_flags & VM_SYNC))
		return -EOPNOTSUPP;
	return 0;
}

/*
 * mmap_region: maps [addr, addr + len) with vm_flags at page pgoff of
 * mapfile (NULL: anonymous memory, or a new shmem object when shared),
 * opened as filp; the range is checked and placed (do_mmap). Everything
 * that can fail is prepared before anything is unmapped. Returns addr or
 * a negative errno.
 */
static int64_t mmap_region(struct mm *mm, struct file *filp, struct inode *mapfile,
			   uint64_t addr, uint64_t len, uint64_t vm_flags, uint64_t pgoff)
{
	struct um_system *sys = mm->sys;
	struct inode *file = NULL;
	struct vma *v = NULL;
	uint64_t charged = 0;
	int err;

	/*
	 * RLIMIT_AS and RLIMIT_DATA count what the mapping adds: not the pages
	 * MAP_FIXED replaces (__mmap_setup, before the commit is charged),
	 * counted only when the whole length does not fit.
	 */
	if (!may_expand_vm(mm, vm_flags, pg_count(&sys->geom, len)) &&
	    !may_expand_vm(mm, vm_flags,
			   pg_count(&sys->geom, len) - vma_pages_in(mm, addr, addr + len, 0)))
		return -ENOMEM;
	/*
	 * The policy judges the charge less the accounted pages that MAP_FIXED
	 * replaces (as mmap_region does); those are added unchecked, since the
	 * munmap below hands them back.
	 */
	if (vm_flags & VM_ACCOUNT) {
		uint64_t overlap = vma_pages_in(mm, addr, addr + len, VM_ACCOUNT);

		charged = pg_count(&sys->geom, len);
		if (vm_enough_memory(mm, charged - overlap))
			return -ENOMEM;
		atomic_fetch_add(&sys->committed, overlap);
	}
	v = vma_alloc(sys);
	if (!v)
		goto nomem;
	if (mapfile) {
		file = mapfile;
		inode_get(file);
		/* A regular file's faults read ahead with the state of the file it was mapped from. */
		if (file->type == INODE_REG) {
			v->vm_file = filp;
			file_get(filp);
		}
	} else if (vm_flags & VM_SHARED) {
		/* Shared anonymous memory, or /dev/zero shared: a shmem object (shmem_zero_setup). */
		file = shmem_inode_new(sys, len);
		if (!file)
			goto nomem;
		if (!(vm_flags & VM_NORESERVE)) {
			if (vm_enough_memory(mm, pg_count(&sys->geom, len)))
				goto nomem;
			file->charged = pg_count(&sys->geom, len);
		}
	}
	if (!vma_range_free(&mm->vmas, addr, addr + len)) {
		err = do_munmap(mm, addr, len);
		if (err)
			goto fail;
	}
	err = mmap_file(mm, file, v, pgoff, len, &vm_flags);
	if (err)
		goto fail;
	/* Huge and droppable pages never lock (nor count as locked). */
	if (vm_flags & (VM_HUGETLB | VM_DROPPABLE))
		vm_flags &= ~VM_LOCKED_MASK;
	v->vm_start = addr;
	v->vm_end = addr + len;
	v->vm_flags = vm_flags;
	v->vm_pgoff = pgoff;
	v->vm_inode = file;
	v->vm_mm = mm;
	vma_insert(&mm->vmas, v);
	i_mmap_link(v);
	vm_stat_account(mm, vm_flags, (int64_t)pg_count(&sys->geom, len));
	if (vm_flags & VM_LOCKED)
		mm->locked_vm += pg_count(&sys->geom, len);
	vma_merge_neighbours(mm, v);
	return (int64_t)addr;
nomem:
	err = -ENOMEM;
fail:
	if (file)
		inode_put(sys, file);
	vma_free(sys, v);
	if (charged)
		vm_unacct_memory(sys, charged);
	return err;
}

/*
 * The flags of an anonymous mapping of type flags & UM_MAP_TYPE, and its
 * pgoff (the address's page: anonymous VMAs merge where they touch), or a
 * negative errno for a type or flag combination Linux refuses.
 */
static int anon_mmap_flags(uint64_t flags, uint64_t addr, const struct page_geom *g,
			   uint64_t *vm_flags, uint64_t *pgoff)
{
	switch (flags & UM_MAP_TYPE) {
	case UM_MAP_SHARED:
		if (*vm_flags & VM_GROWSDOWN)
			return -EINVAL;
		*pgoff = 0;
		*vm_flags |= VM_SHARED | VM_MAYSHARE;
		return 0;
	case UM_MAP_DROPPABLE:
		/*
		 * Pages that may go at any time: never locked, reserved,
		 * inherited or dumped; no stack, no huge pages.
		 */
		if (flags & (UM_MAP_LOCKED | UM_MAP_HUGETLB))
			return -EINVAL;
		if (*vm_flags & VM_GROWSDOWN)
			return -EINVAL;
		*vm_flags |= VM_DROPPABLE | VM_NORESERVE | VM_WIPEONFORK | VM_DONTDUMP;
		/* fall through */
	case UM_MAP_PRIVATE:
		*pgoff = pg_count(g, addr);
		return 0;
	default:
		return -EINVAL;
	}
}

/*
 * do_mmap: checks the arguments, turns prot and flags into vm_flags,
 * places the mapping (get_unmapped_area) and maps it (mmap_region). Sets
 * *populate to the length to fault in afterwards. The mm lock is held
 * exclusive; filp (NULL: anonymous) is the caller's reference.
 */
static int64_t do_mmap(struct mm *mm, uint64_t addr, uint64_t len, int prot, uint64_t flags,
		       int64_t off, struct file *filp, uint64_t *populate)
{
	struct um_system *sys = mm->sys;
	uint64_t vm_flags, pgoff = pg_count(&sys->geom, off);
	struct inode *mapfile = NULL;
	bool huge = filp && filp->inode->type == INODE_HUGETLB;
	int64_t a;
	int err;

	if (len == 0)
		return -EINVAL;
	if (flags & UM_MAP_FIXED_NOREPLACE)
		flags |= UM_MAP_FIXED;
	if (!(flags & UM_MAP_FIXED) && addr) {
		/* round_hint_to_min() */
		addr = page_align_down(&sys->geom, addr);
		if (addr < sys->cfg.mmap_min_addr)
			addr = page_align(&sys->geom, sys->cfg.mmap_min_addr);
	}
	if (len > UINT64_MAX - sys->geom.mask)
		return -ENOMEM;
	len = page_align(&sys->geom, len);
	if (pgoff + pg_count(&sys->geom, len) < pgoff)
		return -EOVERFLOW;
	if (mm->vmas.count > sys->cfg.max_map_count)
		return -ENOMEM;
	vm_flags = calc_vm_prot_bits(prot) | calc_vm_flag_bits(flags) | mm->def_flags | VM_MAYREAD |
		   VM_MAYWRITE | VM_MAYEXEC;
	if (huge)
		a = hugetlb_get_unmapped_area(mm, addr, len, (int)(flags & 0xffffffffu),
					      (1ULL << filp->inode->hpage_shift) - 1);
	else
		a = get_unmapped_area(mm, addr, len, (int)(flags & 0xffffffffu),
				      thp_align_of(filp ? filp->inode : NULL, flags & UM_MAP_SHARED),
				      pgoff);
	if (a < 0)
		return a;
	addr = (uint64_t)a;
	if ((flags & UM_MAP_FIXED_NOREPLACE) && !vma_range_free(&mm->vmas, addr, addr + len))
		return -EEXIST;
	if ((flags & UM_MAP_LOCKED) && !can_do_mlock(mm))
		return -EPERM;
	if (!mlock_future_ok(mm, vm_flags, len))
		return -EAGAIN;
	if (filp) {
		err = mmap_file_checks(filp, prot, flags, off, len, &vm_flags, &mapfile);
		if (err)
			return err;
		if (filp->inode->type == INODE_ZERO && (vm_flags & VM_SHARED)) {
			/*
			 * /dev/zero shared is shmem (shmem_zero_setup), keeping the
			 * offset; private keeps the /dev/zero file but is anonymous
			 * memory (vma_set_anonymous).
			 */
			mapfile = NULL;
		}
	} else {
		err = anon_mmap_flags(flags, addr, &sys->geom, &vm_flags, &pgoff);
		if (err)
			return err;
	}
	/*
	 * Under policy 2 (never overcommit) MAP_NORESERVE is ignored, except
	 * by hugetlb, whose pool is its own strict accounting. Huge pages are
	 * never charged to the commit.
	 */
	if ((flags & UM_MAP_NORESERVE) &&
	    (sys->cfg.overcommit_memory != UM_OVERCOMMIT_NEVER || huge))
		vm_flags |= VM_NORESERVE;
	if (!(vm_flags & VM_SHARED) && (vm_flags & VM_WRITE) && !(vm_flags & VM_NORESERVE) && !huge)
		vm_flags |= VM_ACCOUNT;
	vm_flags |= VM_SOFTDIRTY;
	a = mmap_region(mm, filp, mapfile, addr, len, vm_flags, pgoff);
	/*
	 * A lock (MAP_LOCKED, mlockall's MCL_FUTURE) populates; mm_populate
	 * passes over a VMA locked on fault, not one that could not lock.
	 */
	if (a >= 0 && ((vm_flags & VM_LOCKED) ||
		       (flags & (UM_MAP_POPULATE | UM_MAP_NONBLOCK)) == UM_MAP_POPULATE))
		*populate = len;
	return a;
}

int64_t um_mmap(struct um_proc *p, uint64_t addr, uint64_t len, int prot, uint64_t flags, int fd,
		int64_t off)
{
	struct mm *mm = p->mm;
	struct file *file = NULL;
	uint64_t populate = 0;
	int64_t ret;

	if (proc_oom_killed(p))
		return -ESRCH;
	if (!page_aligned(&p->sys->geom, off))
		return -EINVAL;
	if (!(flags & UM_MAP_ANONYMOUS)) {
		file = fget(p, fd);
		if (!file)
			return -EBADF;
		if (flags & UM_MAP_HUGETLB) {
			/* No hugetlbfs here: every file is a plain one. */
			fput(p->sys, file);
			return -EINVAL;
		}
	} else if (flags & UM_MAP_HUGETLB) {
		int shift = hugetlb_shift(p->sys, flags);
		uint64_t hmask;

		if (shift < 0)
			return shift;
		/* The length rounds up to whole huge pages (to 0 when it wraps). */
		hmask = (1ULL << shift) - 1;
		len = (len + hmask) & ~hmask;
		file = hugetlb_file_new(p->sys, len, (unsigned)shift);
		if (!file)
			return -ENOMEM;
	}
	mmap_write_lock(mm);
	ret = do_mmap(mm, addr, len, prot, flags, off, file, &populate);
	mmap_write_unlock(mm);
	if (file)
		fput(p->sys, file);
	/* MAP_POPULATE and MAP_LOCKED fault the mapping in; errors are ignored. */
	if (ret >= 0 && populate)
		mm_populate(mm, (uint64_t)ret, (uint64_t)ret + populate, true);
	return ret;
}

/*
 * free_pgtables after an unmap of [start, end): the leaf tables there go,
 * but one that also maps part of a VMA left beside the range stays, empty
 * or not (Linux's floor and ceiling: the previous VMA's end, the next
 * one's start, rounded out to whole leaf tables).
 */
static void free_pgtables(struct mm *mm, uint64_t start, uint64_t end)
{
	uint64_t span = pgtable_leaf_span(&mm->pt);
	uint64_t lo = start & ~(span - 1), hi = ((end - 1) | (span - 1)) + 1;
	struct vma *next = vma_find(&mm->vmas, end);
	struct vma *prev = next ? next->prev : mm->vmas.last;

	if (prev && prev->vm_end > lo)
		lo += span;
	if (next && next->vm_start < hi)
		hi -= span;
	if (lo < hi)
		pgtable_free_range(&mm->pt, lo, hi);
}

/*
 * Unmaps [start, start + len) (page aligned, non-empty). Fails with ENOMEM,
 * changing nothing, when a split in the middle of a VMA would pass
 * max_map_count. The mm lock is held exclusive.
 */
int do_munmap(struct mm *mm, uint64_t start, uint64_t len)
{
	uint64_t end = start + len;
	struct vma *v = vma_find(&mm->vmas, start), *next;
	struct mmu_gather g;
	int err;

	/* do_vmi_munmap's range check: mremap's shrink may ask for a tail past the top. */
	if (start > mm->sys->task_size || len > mm->sys->task_size - start)
		return -EINVAL;
	if (!v || v->vm_start >= end)
		return 0;
	if (start > v->vm_start) {
		/* A hole punched in the middle: one VMA more after the call. */
		if (end < v->vm_end && mm->vmas.count >= mm->sys->cfg.max_map_count)
			return -ENOMEM;
		/* Going past the limit briefly frees resources, as Linux allows. */
		err = __vma_split(mm, v, start, true);
		if (err)
			return err;
	}
	/*
	 * Both splits before anything goes, as vms_gather_munmap_vmas makes
	 * them: a failed second split leaves at most one VMA split in two.
	 */
	{
		struct vma *last = vma_find(&mm->vmas, end - 1);

		if (last && last->vm_start < end && last->vm_end > end) {
			err = __vma_split(mm, last, end, true);
			if (err)
				return err; /* ENOMEM from allocation only */
		}
	}
	v = vma_find(&mm->vmas, start); /* the splits may have moved v past the range */
	tlb_gather_init(&g, mm);
	for (; v && v->vm_start < end; v = next) {
		next = v->next;
		hugetlb_zap_prepare(mm, v, v->vm_start, v->vm_end);
		mm_zap_range(mm, &g, v->vm_start, v->vm_end, true);
		if (v->vm_flags & VM_MAYBE_GUARD)
			guard_markers_clear(mm, v->vm_start, v->vm_end);
		vm_stat_account(mm, v->vm_flags,
				-(int64_t)pg_count(&mm->sys->geom, v->vm_end - v->vm_start));
		if (v->vm_flags & VM_LOCKED)
			mm->locked_vm -= pg_count(&mm->sys->geom, v->vm_end - v->vm_start);
		if (v->vm_flags & VM_ACCOUNT)
			vm_unacct_memory(mm->sys,
					 pg_count(&mm->sys->geom, v->vm_end - v->vm_start));
		vma_remove(&mm->vmas, v);
		vma_free(mm->sys, v);
	}
	free_pgtables(mm, start, end);
	tlb_gather_finish(&g);
	return 0;
}

/*
 * exit_mmap: tears down every mapping of mm at exit or exec, or of a fork
 * child that failed; the mm lock is held exclusive or mm is unshared.
 */
void exit_mmap(struct mm *mm)
{
	struct mmu_gather g;
	struct vma *v, *next;

	tlb_gather_init(&g, mm);
	for (v = mm->vmas.first; v; v = next) {
		next = v->next;
		hugetlb_zap_prepare(mm, v, v->vm_start, v->vm_end);
		mm_zap_range(mm, &g, v->vm_start, v->vm_end, true);
		if (v->vm_flags & VM_ACCOUNT)
			vm_unacct_memory(mm->sys,
					 pg_count(&mm->sys->geom, v->vm_end - v->vm_start));
		vma_remove(&mm->vmas, v);
		vma_free(mm->sys, v);
	}
	pgtable_free_range(&mm->pt, 0, mm->sys->task_size);
	mm->total_vm = 0;
	mm->data_vm = 0;
	mm->locked_vm = 0;
	mm->locked_vm_stale = 0;
	tlb_gather_finish(&g);
}

int um_munmap(struct um_proc *p, uint64_t addr, uint64_t len)
{
	struct um_system *sys = p->sys;
	struct mm *mm = p->mm;
	int err;

	if (proc_oom_killed(p))
		return -ESRCH;
	if (!page_aligned(&sys->geom, addr) || addr > p->sys->task_size ||
	    len > p->sys->task_size - addr)
		return -EINVAL;
	len = page_align(&sys->geom, len);
	if (len == 0)
		return -EINVAL;
	mmap_write_lock(mm);
	err = do_munmap(mm, addr, len);
	mmap_write_unlock(mm);
	return err;
}

/*
 * remap_file_pages(): deprecated, and emulated as Linux has since 3.16: the
 * pages of a shared file mapping are "rearranged" by mapping the file
 * again, MAP_SHARED | MAP_FIXED | MAP_POPULATE, at pgoff over the range, so
 * the range becomes a VMA of its own. prot must be 0; the range must lie
 * in shared VMAs of one file with the same flags.
 */
int um_remap_file_pages(struct um_proc *p, uint64_t start, uint64_t size, int prot,
			uint64_t pgoff, int flags)
{
	struct um_system *sys = p->sys;
	struct mm *mm = p->mm;
	uint64_t populate = 0;
	struct file file = { 0 };
	struct vma *v, *next;
	struct file *filp;
	int64_t ret = -EINVAL;

	if (proc_oom_killed(p))
		return -ESRCH;
	if (prot)
		return -EINVAL;
	start = page_align_down(&sys->geom, start);
	size = page_align_down(&sys->geom, size);
	if (start + size <= start)
		return -EINVAL;
	if (pgoff + pg_count(&sys->geom, size) < pgoff)
		return -EINVAL;
	mmap_write_lock(mm);
	v = vma_lookup(&mm->vmas, start);
	if (!v || !(v->vm_flags & VM_SHARED) || !v->vm_inode)
		goto out;
	for (next = v; start + size > next->vm_end;) {
		struct vma *n = next->next;

		if (!n || n->vm_start != next->vm_end || n->vm_inode != v->vm_inode ||
		    n->vm_flags != v->vm_flags)
			goto out;
		next = n;
	}
	prot = (v->vm_flags & VM_READ ? UM_PROT_READ : 0) | (v->vm_flags & VM_WRITE ? UM_PROT_WRITE : 0) |
	       (v->vm_flags & VM_EXEC ? UM_PROT_EXEC : 0);
	flags = (flags & UM_MAP_NONBLOCK) | UM_MAP_SHARED | UM_MAP_FIXED | UM_MAP_POPULATE |
		(v->vm_flags & VM_LOCKED ? UM_MAP_LOCKED : 0);
	/* VM_SHARED means the file was open for writing when it was mapped. */
	file.inode = v->vm_inode;
	file.flags = UM_O_RDWR;
	atomic_init(&file.refcount, 1);
	inode_get(file.inode);
	/*
	 * A regular file keeps the open file it was mapped from (its
	 * read-ahead state), held here: the new mapping replaces v.
	 */
	filp = v->vm_file ? v->vm_file : &file;
	if (v->vm_file)
		file_get(filp);
	ret = do_mmap(mm, start, size, prot, flags, (int64_t)pg_bytes(&sys->geom, pgoff), filp,
		      &populate);
	if (filp != &file)
		fput(sys, filp);
	inode_put(sys, file.inode);
out:
	mmap_write_unlock(mm);
	if (ret >= 0 && populate)
		mm_populate(mm, (uint64_t)ret, (uint64_t)ret + populate, true);
	return ret < 0 ? (int)ret : 0;
}
