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
 * Invariants:
 *   1. refcount is the number of VMAs whose anon_vma this is.
 *   2. v->anon_vma, once set, is published with release order: a fault
 *      reads it without the lock (anon_vma_prepare_shared).
 */
#include <errno.h>

#include "host.h"
#include "mm.h"
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
		return 0;
	}
	return anon_vma_new(mm, v);
}

int anon_vma_new(struct mm *mm, struct vma *v)
{
	struct anon_vma *av;

	av = um_calloc(mm->sys, 1, sizeof(*av));
	if (!av)
		return -ENOMEM;
	atomic_init(&av->refcount, 1);
	av->id = atomic_fetch_add(&mm->sys->next_id, 1);
	__atomic_store_n(&v->anon_vma, av, __ATOMIC_RELEASE);
	return 0;
}

void anon_vma_put(struct um_system *sys, struct anon_vma *av)
{
	if (atomic_fetch_sub(&av->refcount, 1) == 1)
		um_free(sys, av);
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
