/*
 * vma_ops.c: the life of a VMA inside an mm: allocation, split and merge
 * (the anon_vma that names its anonymous memory is rmap.c's).
 *
 * Merge rules (Linux's, so that /proc/PID/maps prints the same lines):
 * two VMAs a (below) and b merge when they touch, their vm_flags are equal
 * but for VM_SOFTDIRTY, they map the same file (or none) at contiguous
 * offsets (anonymous VMAs carry vm_pgoff = vm_start >> PAGE_SHIFT from
 * their creation, so a moved one no longer merges with its new neighbours),
 * and their anon_vmas are compatible: equal, or one absent while the other
 * is not inherited through fork (vma_had_uncowed_parents()).
 * The mm lock is held exclusive by every caller here.
 */
#include <errno.h>
#include <string.h>

#include "fs.h"
#include "host.h"
#include "hugetlb.h"
#include "mm.h"
#include "system.h"
#include "vma.h"

struct vma *vma_alloc(struct um_system *sys)
{
	return um_calloc(sys, 1, sizeof(struct vma));
}

void vma_free(struct um_system *sys, struct vma *v)
{
	if (!v)
		return;
	i_mmap_unlink(v);
	anon_vma_unlink(v);
	hugetlb_vma_close(sys, v);
	if (v->vm_inode)
		inode_put(sys, v->vm_inode);
	if (v->vm_file)
		fput(sys, v->vm_file);
	if (v->anon_vma)
		anon_vma_put(sys, v->anon_vma);
	um_free(sys, v);
}

/*
 * rmap walkers read a VMA's bounds under its file's i_mmap_lock and its
 * anon_vma family's lock: both held while they change.
 */
void vma_bounds_lock(const struct vma *v)
{
	if (v->vm_inode)
		pthread_mutex_lock(&v->vm_inode->i_mmap_lock);
	anon_vma_lock(v);
}

void vma_bounds_unlock(const struct vma *v)
{
	anon_vma_unlock(v);
	if (v->vm_inode)
		pthread_mutex_unlock(&v->vm_inode->i_mmap_lock);
}

static inline uint64_t vma_pages(const struct vma *v, uint32_t shift)
{
	return (v->vm_end - v->vm_start) >> shift;
}

int __vma_split(struct mm *mm, struct vma *v, uint64_t addr, bool new_below)
{
	struct um_system *sys = mm->sys;
	struct vma *n;

	/* hugetlb_vm_op_split: a hugetlb VMA splits only between huge pages. */
	if (addr & vma_hpage_mask(v))
		return -EINVAL;
	n = vma_alloc(sys);
	if (!n)
		return -ENOMEM;
	n->vm_flags = v->vm_flags;
	n->vm_inode = v->vm_inode;
	n->vm_file = v->vm_file;
	if (n->vm_file)
		file_get(n->vm_file);
	n->vm_mm = mm;
	n->anon_vma = v->anon_vma;
	n->anon_forked = v->anon_forked;
	hugetlb_vma_share_resv(n, v);
	if (n->vm_inode)
		inode_get(n->vm_inode);
	if (n->anon_vma)
		atomic_fetch_add(&n->anon_vma->refcount, 1);
	vma_bounds_lock(v);
	if (new_below) {
		n->vm_start = v->vm_start;
		n->vm_end = addr;
		n->vm_pgoff = v->vm_pgoff;
		v->vm_pgoff += pg_count(&sys->geom, addr - v->vm_start);
		v->vm_start = addr;
	} else {
		n->vm_start = addr;
		n->vm_end = v->vm_end;
		n->vm_pgoff = v->vm_pgoff + pg_count(&sys->geom, addr - v->vm_start);
		v->vm_end = addr;
	}
	vma_bounds_unlock(v);
	vma_bounds_changed(&mm->vmas, v);
	vma_insert(&mm->vmas, n);
	i_mmap_link(n);
	anon_vma_link(n);
	return 0;
}

int vma_split(struct mm *mm, struct vma *v, uint64_t addr, bool new_below)
{
	if (mm->vmas.count >= mm->sys->cfg.max_map_count)
		return -ENOMEM;
	return __vma_split(mm, v, addr, new_below);
}

int vma_modify_flags(struct mm *mm, struct vma *v, uint64_t start, uint64_t end,
		     uint64_t newflags)
{
	int err;

	if (start > v->vm_start) {
		err = vma_split(mm, v, start, true);
		if (err)
			return err;
	}
	if (end < v->vm_end) {
		err = vma_split(mm, v, end, false);
		if (err)
			return err;
	}
	v->vm_flags = newflags;
	vma_merge_neighbours(mm, v);
	return 0;
}

/* is_mergeable_anon_vma(): equal, or one absent and the other not inherited through fork. */
static bool anon_compatible(const struct vma *a, const struct vma *b)
{
	if (a->anon_vma == b->anon_vma)
		return true;
	if (!a->anon_vma)
		return !b->anon_forked;
	if (!b->anon_vma)
		return !a->anon_forked;
	return false;
}

bool vma_can_merge(const struct mm *mm, const struct vma *a, const struct vma *b)
{
	return vma_props_mergeable(mm, a, b, 0) && anon_compatible(a, b);
}

/* Absorbs b (directly above a) into a; b is removed and freed. */
static void absorb(struct mm *mm, struct vma *a, struct vma *b)
{
	vma_remove(&mm->vmas, b);
	i_mmap_unlink(b);
	anon_vma_unlink(b);
	if (!a->anon_vma && b->anon_vma) {
		a->anon_vma = b->anon_vma;
		a->anon_forked = b->anon_forked;
		b->anon_vma = NULL;
	}
	a->vm_flags |= b->vm_flags & (VM_SOFTDIRTY | VM_MAYBE_GUARD);
	vma_bounds_lock(a);
	a->vm_end = b->vm_end;
	vma_bounds_unlock(a);
	/* a, grown, is on its family's list before b's pages are a's to walk. */
	anon_vma_link(a);
	vma_bounds_changed(&mm->vmas, a);
	vma_free(mm->sys, b);
}

struct vma *vma_merge_neighbours(struct mm *mm, struct vma *v)
{
	struct vma *prev = v->prev, *next = v->next;
	bool left = prev && vma_can_merge(mm, prev, v);
	bool right = next && vma_can_merge(mm, v, next);

	if (left && right && !anon_compatible(prev, next))
		right = false;
	if (left) {
		absorb(mm, prev, v);
		v = prev;
	}
	if (right)
		absorb(mm, v, next);
	return v;
}

struct vma *vma_merge_extend(struct mm *mm, struct vma *v)
{
	struct vma *next = v->next;

	if (!next || !vma_props_mergeable(mm, v, next, 0))
		return v;
	/*
	 * The grown part is a new range carrying v's anon_vma: v itself is
	 * not the merge's source, so v having been forked does not stop it.
	 */
	if (next->anon_vma && (v->anon_vma ? v->anon_vma != next->anon_vma : next->anon_forked))
		return v;
	absorb(mm, v, next);
	return v;
}
