/*
 * process.c: processes: creation, fork, exec, exit.
 *
 * fork (dup_mmap + copy_page_range): the child gets a copy of every VMA
 * but those marked VM_DONTCOPY, without locks. Shared VMAs keep pointing
 * at the same shmem or file pages; their PTEs are not copied (the child
 * faults them in, as Linux does when a VMA has no anon_vma). Private VMAs
 * with anonymous pages have every PTE copied and write-protected in both
 * processes: the first write by either copies that one page (fault.c).
 * The child has a copy of its parent's credentials; exec keeps them but
 * for the capabilities (cred.c).
 */
#include <errno.h>
#include <string.h>

#include "cred.h"
#include "frame.h"
#include "fs.h"
#include "host.h"
#include "mm.h"
#include "pgtable.h"
#include "swap.h"
#include "system.h"
#include "tlb.h"
#include "vma.h"

static void proc_link(struct um_system *sys, struct um_proc *p)
{
	pthread_mutex_lock(&sys->lock);
	p->pid = sys->next_pid++;
	p->next_proc = sys->procs;
	p->prev_proc = NULL;
	if (sys->procs)
		sys->procs->prev_proc = p;
	sys->procs = p;
	sys->nr_procs++;
	pthread_mutex_unlock(&sys->lock);
}

static void proc_unlink(struct um_system *sys, struct um_proc *p)
{
	pthread_mutex_lock(&sys->lock);
	if (p->prev_proc)
		p->prev_proc->next_proc = p->next_proc;
	else
		sys->procs = p->next_proc;
	if (p->next_proc)
		p->next_proc->prev_proc = p->prev_proc;
	sys->nr_procs--;
	pthread_mutex_unlock(&sys->lock);
}

int um_proc_new(struct um_system *sys, struct um_proc **out)
{
	struct um_proc *p = um_calloc(sys, 1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->sys = sys;
	rlimits_init(sys, &p->rlim);
	p->mm = mm_new(sys, &p->rlim);
	if (!p->mm) {
		um_free(sys, p);
		return -ENOMEM;
	}
	p->mm->owner = p;
	pthread_mutex_init(&p->cred_lock, NULL);
	cred_init(sys, &p->cred);
	fdtable_init(sys, &p->files);
	proc_link(sys, p);
	*out = p;
	return 0;
}

int um_getpid(const struct um_proc *p)
{
	return p->pid;
}

uint64_t um_mmap_base(const struct um_proc *p)
{
	return p->mm->mmap_base;
}

/*
 * Copies the PTEs of parent VMA v into child (copy_page_range). Private
 * writable PTEs are write-protected in both. Returns 0 or -ENOMEM (a
 * missing page table); the caller then tears the child down.
 */
static int copy_ptes(struct mm *dst, struct mm *src, const struct vma *v)
{
	struct frame_pool *fp = &src->sys->fp;
	const struct page_geom *g = &src->sys->geom;
	bool cow = !(v->vm_flags & VM_SHARED);
	int64_t add[NR_MM_COUNTERS] = {0};
	uint64_t va = v->vm_start, span_end, se;
	int i;

	while (va < v->vm_end) {
		_Atomic pte_t *s = pgtable_span(&src->pt, va, v->vm_end, &span_end, false);
		_Atomic pte_t *d;
		uint64_t n;

		if (!s) {
			va = span_end;
			continue;
		}
		n = pg_count(g, span_end - va);
		/* copy_pte_range makes the child's table wherever the parent has one. */
		d = pgtable_span(&dst->pt, va, v->vm_end, &se, true);
		if (!d)
			goto nomem;
		for (uint64_t k = 0; k < n; k++) {
			pte_t pte = atomic_load_explicit(&s[k], memory_order_relaxed);
			struct frame *f;
			uint32_t fl;

			if (pte_is_swap(pte)) {
				/* copy_nonpresent_pte: one more reference to the slot. */
				swap_dup(src->sys, pte_to_swp_entry(pte));
				add[MM_SWAPENTS]++;
			} else if (!(pte & PTE_PRESENT) && pte != PTE_GUARD) {
				continue;
			}
			if ((pte & PTE_PRESENT) && !(pte & PTE_SPECIAL)) {
				f = pfn_frame(fp, pte_pfn(pte));
				fl = atomic_load_explicit(&f->flags, memory_order_relaxed);
				atomic_fetch_add_explicit(&f->refcount, 1, memory_order_relaxed);
				atomic_fetch_add_explicit(&f->mapcount, 1, memory_order_relaxed);
				add[frame_mm_counter(fl)]++;
				if (cow && (pte & PTE_WRITE)) {
					pte &= ~PTE_WRITE;
					atomic_store_explicit(&s[k], pte, memory_order_relaxed);
				}
			}
			atomic_store_explicit(&d[k], pte & ~PTE_ACCESSED, memory_order_relaxed);
		}
		va = span_end;
	}
	for (i = 0; i < NR_MM_COUNTERS; i++)
		atomic_fetch_add_explicit(&dst->rss[i], add[i], memory_order_relaxed);
	return 0;
nomem:
	for (i = 0; i < NR_MM_COUNTERS; i++)
		atomic_fetch_add_explicit(&dst->rss[i], add[i], memory_order_relaxed);
	return -ENOMEM;
}

/* dup_mmap: the child's VMAs and PTEs. Both mm locks are held exclusive. */
static int dup_mmap(struct mm *dst, struct mm *src)
{
	struct um_system *sys = src->sys;
	const struct vma *v;

	dst->mmap_base = src->mmap_base;
	dst->start_brk = src->start_brk;
	dst->brk = src->brk;
	for (v = src->vmas.first; v; v = v->next) {
		struct vma *n;

		if (v->vm_flags & VM_DONTCOPY)
			continue;
		if ((v->vm_flags & VM_ACCOUNT) &&
		    vm_enough_memory(dst, pg_count(&sys->geom, v->vm_end - v->vm_start)))
			return -ENOMEM;
		n = vma_alloc(sys);
		if (!n) {
			if (v->vm_flags & VM_ACCOUNT)
				vm_unacct_memory(sys,
						 pg_count(&sys->geom, v->vm_end - v->vm_start));
			return -ENOMEM;
		}
		n->vm_start = v->vm_start;
		n->vm_end = v->vm_end;
		n->vm_flags = v->vm_flags & ~(VM_LOCKED | VM_LOCKONFAULT);
		n->vm_pgoff = v->vm_pgoff;
		n->vm_inode = v->vm_inode;
		n->vm_mm = dst;
		if (n->vm_inode)
			inode_get(n->vm_inode);
		n->vm_file = v->vm_file;
		if (n->vm_file)
			file_get(n->vm_file);
		if (v->anon_vma && !(v->vm_flags & VM_WIPEONFORK)) {
			/* anon_vma_fork: a new anon_vma, chained to the parent's. */
			if (anon_vma_new(dst, n, v->anon_vma)) {
				if (n->vm_flags & VM_ACCOUNT)
					vm_unacct_memory(
					    sys, pg_count(&sys->geom, n->vm_end - n->vm_start));
				vma_free(sys, n);
				return -ENOMEM;
			}
			n->anon_forked = true;
		}
		vma_insert(&dst->vmas, n);
		/* On i_mmap before its PTEs exist, so a truncate cannot miss them. */
		i_mmap_link(n);
		anon_vma_link(n);
		vm_stat_account(dst, n->vm_flags,
				(int64_t)pg_count(&sys->geom, n->vm_end - n->vm_start));
		/* vma_needs_copy: anonymous pages, or guard markers (VM_MAYBE_GUARD). */
		if ((v->anon_vma || (v->vm_flags & VM_MAYBE_GUARD)) && !(v->vm_flags & VM_WIPEONFORK)) {
			struct inode *ino = v->vm_inode && v->vm_inode->type == INODE_REG ? v->vm_inode
										: NULL;
			int err;

			if (ino)
				pthread_rwlock_rdlock(&ino->invalidate_lock);
			err = copy_ptes(dst, src, v);
			if (ino)
				pthread_rwlock_unlock(&ino->invalidate_lock);
			if (err)
				return err;
		}
	}
	return 0;
}

/* The last user of mm is done with it (mmput): its mappings, then itself. */
static void mmput(struct mm *mm)
{
	exit_mmap(mm);
	mm_free(mm);
}

int um_fork(struct um_proc *parent, struct um_proc **out)
{
	struct um_system *sys = parent->sys;
	struct um_proc *child = um_calloc(sys, 1, sizeof(*child));
	struct mm *src = parent->mm, *dst;
	int err;

	if (!child)
		return -ENOMEM;
	if (proc_oom_killed(parent)) {
		um_free(sys, child);
		return -ESRCH;
	}
	child->sys = sys;
	/* The limits go with the child; its pending signals do not. */
	rlimits_copy(&child->rlim, &parent->rlim);
	atomic_init(&child->oom_score_adj, atomic_load(&parent->oom_score_adj));
	atomic_init(&child->oom_score_adj_min, atomic_load(&parent->oom_score_adj_min));
	dst = mm_new(sys, &child->rlim);
	if (!dst) {
		um_free(sys, child);
		return -ENOMEM;
	}
	child->mm = dst;
	dst->owner = child;
	pthread_mutex_init(&child->cred_lock, NULL);
	cred_get(parent, &child->cred);
	fdtable_init(sys, &child->files);
	err = fdtable_dup(sys, &child->files, &parent->files);
	if (err) {
		fdtable_destroy(sys, &child->files);
		mmput(dst);
		pthread_mutex_destroy(&child->cred_lock);
		um_free(sys, child);
		return err;
	}
	mmap_write_lock(src);
	err = dup_mmap(dst, src);
	/*
	 * The parent's writable PTEs became read-only: no thread of the parent
	 * may go on storing into frames the child now shares.
	 */
	mm_tlb_sync(src);
	mmap_write_unlock(src);
	if (err) {
		mmput(dst);
		fdtable_destroy(sys, &child->files);
		pthread_mutex_destroy(&child->cred_lock);
		um_free(sys, child);
		return err;
	}
	proc_link(sys, child);
	*out = child;
	return 0;
}

int um_exec(struct um_proc *p)
{
	struct mm *mm, *old = p->mm;

	if (proc_oom_killed(p))
		return -ESRCH;
	mm = mm_new(p->sys, &p->rlim);
	if (!mm)
		return -ENOMEM;
	/* The limits stay, and the new image's layout follows RLIMIT_STACK. */
	mm->mmap_base = mmap_base_at_exec(p->sys, rlimit(mm, UM_RLIMIT_STACK));
	mm->owner = p;
	/* The old image goes away only once the new one exists (exec_mmap). */
	mmap_write_lock(old);
	p->mm = mm;
	mmap_write_unlock(old);
	mmput(old);
	fdtable_close_on_exec(p->sys, &p->files);
	cred_exec(p);
	return 0;
}

void um_exit(struct um_proc *p)
{
	struct um_system *sys = p->sys;

	proc_unlink(sys, p);
	mmput(p->mm);
	fdtable_destroy(sys, &p->files);
	pthread_mutex_destroy(&p->cred_lock);
	um_free(sys, p);
}

int um_proc_killed(const struct um_proc *p)
{
	return p && proc_oom_killed(p);
}

void um_proc_stats(struct um_proc *p, struct um_proc_stats *st)
{
	struct mm *mm = p->mm;
	const struct page_geom *g = &p->sys->geom;

	pthread_rwlock_rdlock(&mm->lock);
	st->min_flt = atomic_load(&mm->min_flt);
	st->maj_flt = atomic_load(&mm->maj_flt);
	st->vm_size = pg_bytes(g, mm->total_vm);
	st->rss_anon = pg_bytes(g, atomic_load(&mm->rss[MM_ANONPAGES]));
	st->rss_file = pg_bytes(g, atomic_load(&mm->rss[MM_FILEPAGES]));
	st->rss_shmem = pg_bytes(g, atomic_load(&mm->rss[MM_SHMEMPAGES]));
	st->vm_pte = pgtable_bytes(&mm->pt);
	st->hugetlb = pg_bytes(g, atomic_load(&mm->rss[MM_HUGETLBPAGES]));
	st->vm_swap = pg_bytes(g, atomic_load(&mm->rss[MM_SWAPENTS]));
	st->map_count = mm->vmas.count;
	pthread_rwlock_unlock(&mm->lock);
}
