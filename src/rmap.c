/*
 * rmap.c: the anon_vma, the object that names a private VMA's anonymous
 * memory (mm/rmap.c).
 *
 * A VMA gets its anon_vma on the first fault that needs one (or when its
 * stack grows), shares it with the pieces it splits into, and with a
 * neighbour it could merge with but for its protection, so that the two
 * merge again once their protections agree (find_mergeable_anon_vma). A
 * fork gives the child's VMAs new ones. Two VMAs with different anon_vmas
 * never merge, as on Linux.
 *
 * The reverse map of anonymous memory (rmap_walk_anon): a new anonymous
 * frame records the root of its VMA's anon_vma family as its owner and
 * its linear page index (vm_pgoff + the page's offset in the VMA) as its
 * index. A fork child's anon_vma joins its parent's family (same root),
 * and the root lists every VMA of the family. Every PTE that maps the
 * frame is in one of those VMAs, at the address of that index: fork copies
 * vm_start and vm_pgoff, mremap moves PTEs with vm_pgoff kept, split and
 * merge keep vm_pgoff contiguous, stack growth lowers it with vm_start.
 * Linux keeps one anon_vma_chain per (VMA, anon_vma) pair so that a walk
 * looks only at the VMAs that can map the page; the family list is the
 * simpler superset, and the walk checks each PTE's frame, so it finds
 * exactly the PTEs that map the frame. The index is kept in 32 bits (the
 * frame is 32 bytes): a VMA over 2^32 pages is looked at in each place
 * that matches them.
 *
 * Invariants (anon_vma_check, anon_rmap_check):
 *   1. refcount is the number of VMAs whose anon_vma this is, plus, for a
 *      root, the other anon_vmas of its family (each holds its root).
 *   2. v->anon_vma, once set, is published with release order: a fault
 *      reads it without the lock (anon_vma_prepare_shared).
 *   3. A VMA with an anon_vma, in an mm and with its bounds set, is on its
 *      root's list (anon_linked); the list holds no other VMA. Its bounds
 *      change under the root's lock (anon_vma_lock).
 *   4. An anonymous frame some PTE maps has owner == the root of the
 *      family of every VMA that maps it, and rmap_walk_anon finds as many
 *      PTEs as its mapcount.
 *   5. A root is freed under sys->anon_free_lock exclusive, after the last
 *      VMA of its family has gone (so after every PTE that mapped its
 *      frames was zapped): a walker that holds the lock shared and sees a
 *      frame mapped may use its owner.
 */
#include <errno.h>
#include <stdio.h>

#include "frame.h"
#include "host.h"
#include "mm.h"
#include "pgtable.h"
#include "system.h"
#include "vma.h"

/*
 * reusable_anon_vma: the anon_vma of old, a neighbour of v, when the two
 * could merge but for their protection, and old's anon_vma was not
 * inherited through fork (anon_vma_compatible, list_is_singular).
 */
static struct anon_vma *reusable_anon_vma(const struct mm *mm, const struct vma *old,
					  const struct vma *a, const struct vma *b)
{
	struct anon_vma *av = __atomic_load_n(&old->anon_vma, __ATOMIC_ACQUIRE);

	if (!av || old->anon_forked || !vma_props_mergeable(mm, a, b, VM_ACCESS_FLAGS))
		return NULL;
	return av;
}

int anon_vma_prepare(struct mm *mm, struct vma *v)
{
	struct anon_vma *av;

	if (v->anon_vma)
		return 0;
	/*
	 * find_mergeable_anon_vma: share a neighbour's, the next one's first,
	 * so that the two can merge again once their protections agree.
	 */
	av = v->next ? reusable_anon_vma(mm, v->next, v, v->next) : NULL;
	if (!av && v->prev)
		av = reusable_anon_vma(mm, v->prev, v->prev, v);
	if (av) {
		atomic_fetch_add(&av->refcount, 1);
		__atomic_store_n(&v->anon_vma, av, __ATOMIC_RELEASE);
	} else {
		int err = anon_vma_new(mm, v, NULL);

		if (err)
			return err;
	}
	/* v is in the tree with its bounds: a walker may look at it from now. */
	anon_vma_link(v);
	return 0;
}

int anon_vma_new(struct mm *mm, struct vma *v, struct anon_vma *parent)
{
	struct anon_vma *av;

	av = um_calloc(mm->sys, 1, sizeof(*av));
	if (!av)
		return -ENOMEM;
	atomic_init(&av->refcount, 1);
	av->id = atomic_fetch_add(&mm->sys->next_id, 1);
	if (parent) {
		av->root = parent->root;
		atomic_fetch_add(&av->root->refcount, 1);
	} else {
		av->root = av;
		pthread_mutex_init(&av->lock, NULL);
	}
	__atomic_store_n(&v->anon_vma, av, __ATOMIC_RELEASE);
	return 0;
}

void anon_vma_put(struct um_system *sys, struct anon_vma *av)
{
	struct anon_vma *root = av->root;

	if (atomic_fetch_sub(&av->refcount, 1) != 1)
		return;
	if (av != root) {
		um_free(sys, av);
		anon_vma_put(sys, root);
		return;
	}
	/*
	 * Invariant 5: no walker is between reading a frame's owner and this
	 * root's lock; one that took the lock before has let go after ours.
	 */
	pthread_rwlock_wrlock(&sys->anon_free_lock);
	pthread_rwlock_unlock(&sys->anon_free_lock);
	pthread_mutex_lock(&av->lock);
	pthread_mutex_unlock(&av->lock);
	pthread_mutex_destroy(&av->lock);
	um_free(sys, av);
}

void anon_vma_link(struct vma *v)
{
	struct anon_vma *root;

	if (!v->anon_vma || v->anon_linked)
		return;
	root = v->anon_vma->root;
	pthread_mutex_lock(&root->lock);
	v->anon_prev = NULL;
	v->anon_next = root->vmas;
	if (root->vmas)
		root->vmas->anon_prev = v;
	root->vmas = v;
	v->anon_linked = true;
	pthread_mutex_unlock(&root->lock);
}

void anon_vma_unlink(struct vma *v)
{
	struct anon_vma *root;

	if (!v->anon_linked)
		return;
	root = v->anon_vma->root;
	pthread_mutex_lock(&root->lock);
	if (v->anon_prev)
		v->anon_prev->anon_next = v->anon_next;
	else
		root->vmas = v->anon_next;
	if (v->anon_next)
		v->anon_next->anon_prev = v->anon_prev;
	v->anon_next = v->anon_prev = NULL;
	v->anon_linked = false;
	pthread_mutex_unlock(&root->lock);
}

void anon_vma_lock(const struct vma *v)
{
	if (v->anon_linked)
		pthread_mutex_lock(&v->anon_vma->root->lock);
}

void anon_vma_unlock(const struct vma *v)
{
	if (v->anon_linked)
		pthread_mutex_unlock(&v->anon_vma->root->lock);
}

void anon_frame_set_rmap(struct um_system *sys, uint32_t pfn, const struct vma *v, uint64_t addr)
{
	struct frame *f = pfn_frame(&sys->fp, pfn);

	/* A page read ahead into the swap cache is on the LRU already: reclaim may look. */
	__atomic_store_n(&f->index, (uint32_t)(v->vm_pgoff + pg_count(&sys->geom, addr - v->vm_start)),
			 __ATOMIC_RELAXED);
	__atomic_store_n(&f->owner, v->anon_vma->root, __ATOMIC_RELEASE);
}

/*
 * Calls fn for each PTE of v that maps pfn, whose page index is index
 * modulo 2^32 (the frame's). False when fn stopped the walk.
 */
static bool rmap_one_vma(struct um_system *sys, struct vma *v, uint32_t index, uint32_t pfn,
			 rmap_one_fn fn, void *arg, uint64_t *calls)
{
	uint64_t pages = pg_count(&sys->geom, v->vm_end - v->vm_start);
	uint64_t delta = (uint32_t)(index - (uint32_t)v->vm_pgoff);

	for (; delta < pages; delta += 1ULL << 32) {
		uint64_t addr = v->vm_start + pg_bytes(&sys->geom, delta);
		_Atomic pte_t *ptep = pgtable_walk(&v->vm_mm->pt, addr, false);
		pte_t pte = ptep ? atomic_load(ptep) : 0;

		if (!(pte & PTE_PRESENT) || (pte & PTE_SPECIAL) || pte_pfn(pte) != pfn)
			continue;
		++*calls;
		if (!fn(v, addr, ptep, arg))
			return false;
	}
	return true;
}

uint64_t rmap_walk_anon(struct um_system *sys, uint32_t pfn, rmap_one_fn fn, void *arg)
{
	struct frame *f = pfn_frame(&sys->fp, pfn);
	struct anon_vma *root;
	uint64_t calls = 0;

	pthread_rwlock_rdlock(&sys->anon_free_lock);
	root = __atomic_load_n(&f->owner, __ATOMIC_ACQUIRE);
	if (!atomic_load(&f->mapcount) || !root ||
	    !(atomic_load(&f->flags) & PG_ANON)) {
		pthread_rwlock_unlock(&sys->anon_free_lock);
		return 0;
	}
	pthread_mutex_lock(&root->lock);
	pthread_rwlock_unlock(&sys->anon_free_lock);
	for (struct vma *v = root->vmas; v; v = v->anon_next)
		if (!rmap_one_vma(sys, v, __atomic_load_n(&f->index, __ATOMIC_RELAXED), pfn, fn, arg,
				  &calls))
			break;
	pthread_mutex_unlock(&root->lock);
	return calls;
}

static bool rmap_count_one(struct vma *v, uint64_t addr, _Atomic pte_t *ptep, void *arg)
{
	(void)v;
	(void)addr;
	(void)ptep;
	(void)arg;
	return true;
}

int anon_rmap_check(struct um_system *sys, uint32_t pfn, char *why, size_t n)
{
	struct frame *f = pfn_frame(&sys->fp, pfn);
	uint32_t fl = atomic_load(&f->flags);
	int32_t mapped = atomic_load(&f->mapcount);
	uint64_t found;

	if (!(fl & PG_ANON) || (fl & (PG_HUGETLB | PG_FREE)) || !mapped)
		return 0;
	found = rmap_walk_anon(sys, pfn, rmap_count_one, NULL);
	if (found != (uint64_t)mapped) {
		snprintf(why, n, "anonymous frame %u (index %u): mapcount %d, rmap finds %llu",
			 pfn, f->index, mapped, (unsigned long long)found);
		return -EUCLEAN;
	}
	return 0;
}

int anon_vma_check(struct mm *mm, char *why, size_t n)
{
	for (struct vma *v = mm->vmas.first; v; v = v->next) {
		struct anon_vma *root = v->anon_vma ? v->anon_vma->root : NULL;
		bool found = false, foreign = false;

		if (!root)
			continue;
		pthread_mutex_lock(&root->lock);
		for (struct vma *w = root->vmas; w; w = w->anon_next) {
			found |= w == v;
			foreign |= !w->anon_linked || !w->anon_vma || w->anon_vma->root != root;
		}
		pthread_mutex_unlock(&root->lock);
		if (!found || foreign || !v->anon_linked) {
			snprintf(why, n, "VMA %#llx-%#llx: not on its anon_vma family list",
				 (unsigned long long)v->vm_start, (unsigned long long)v->vm_end);
			return -EUCLEAN;
		}
	}
	return 0;
}

/* anon_vma_prepare under a shared mm lock: pt_lock serialises racing faults. */
int anon_vma_prepare_shared(struct mm *mm, struct vma *v)
{
	int err;

	/* Checked without the lock first: an atomic read, published by anon_vma_prepare. */
	if (__atomic_load_n(&v->anon_vma, __ATOMIC_ACQUIRE))
		return 0;
	pthread_mutex_lock(&mm->pt_lock);
	err = anon_vma_prepare(mm, v);
	pthread_mutex_unlock(&mm->pt_lock);
	return err;
}
