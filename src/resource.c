/*
 * resource.c: resource limits (kernel/sys.c: do_prlimit, for getrlimit and
 * setrlimit) and the signals a system call sends its process (send_sig).
 *
 * A process's limits live in its um_proc, as Linux keeps them in the
 * signal_struct; its mm points at them, because the checks run where only
 * the mm is at hand. fork copies them, exec keeps them. Who enforces what:
 *   RLIMIT_AS       may_expand_vm (mmap.c): mmap, mremap, brk, stack growth
 *   RLIMIT_DATA     may_expand_vm for data mappings, mprotect making one
 *                   (mprotect.c), and brk's own check_data_rlimit (brk.c)
 *   RLIMIT_STACK    acct_stack_growth (fault.c); exec's mmap_base (mmap.c)
 *   RLIMIT_MEMLOCK  mlock.c, and MAP_LOCKED, MCL_FUTURE and mremap through
 *                   mlock_future_ok
 *   RLIMIT_FSIZE    write and ftruncate (file.c): SIGXFSZ, then EFBIG
 * The other resources are kept, not enforced.
 *
 * Invariant: cur[r] <= max[r] for every resource r.
 */
#include <errno.h>

#include "cred.h"
#include "mm.h"
#include "system.h"

#define RLIMIT_NOFILE 7
/* fs.nr_open: no RLIMIT_NOFILE above it, privileged or not. */
#define NR_OPEN (1u << 20)

/*
 * Linux's INIT_RLIMITS that are not unlimited. (RLIMIT_NPROC and
 * RLIMIT_SIGPENDING, which Linux sizes from the machine's memory at boot,
 * are unlimited here.)
 */
static const struct {
	unsigned res;
	uint64_t cur, max;
} init_rlimits[] = {
    {UM_RLIMIT_STACK, 8ULL << 20, UM_RLIM_INFINITY}, /* _STK_LIM */
    {4, 0, UM_RLIM_INFINITY},			     /* RLIMIT_CORE */
    {RLIMIT_NOFILE, 1024, 4096},		     /* INR_OPEN_CUR, INR_OPEN_MAX */
    {12, 819200, 819200},			     /* RLIMIT_MSGQUEUE: MQ_BYTES_MAX */
    {13, 0, 0},					     /* RLIMIT_NICE */
    {14, 0, 0},					     /* RLIMIT_RTPRIO */
};

void rlimits_init(const struct um_system *sys, struct rlimits *r)
{
	for (unsigned i = 0; i < UM_RLIM_NLIMITS; i++) {
		atomic_init(&r->cur[i], UM_RLIM_INFINITY);
		atomic_init(&r->max[i], UM_RLIM_INFINITY);
	}
	for (size_t i = 0; i < sizeof(init_rlimits) / sizeof(init_rlimits[0]); i++) {
		atomic_init(&r->cur[init_rlimits[i].res], init_rlimits[i].cur);
		atomic_init(&r->max[init_rlimits[i].res], init_rlimits[i].max);
	}
	atomic_init(&r->cur[UM_RLIMIT_MEMLOCK], sys->cfg.rlimit_memlock);
	atomic_init(&r->max[UM_RLIMIT_MEMLOCK], sys->cfg.rlimit_memlock);
}

void rlimits_copy(struct rlimits *dst, const struct rlimits *src)
{
	for (unsigned i = 0; i < UM_RLIM_NLIMITS; i++) {
		atomic_init(&dst->cur[i], atomic_load(&src->cur[i]));
		atomic_init(&dst->max[i], atomic_load(&src->max[i]));
	}
}

/*
 * do_prlimit: the checks before anything changes, then the pair under the
 * system lock (Linux's task_lock), so that a hard limit raised by another
 * thread cannot slip between the check and the store.
 */
int um_setrlimit(struct um_proc *p, unsigned resource, uint64_t soft, uint64_t hard)
{
	struct um_system *sys = p->sys;
	int err = 0;

	if (resource >= UM_RLIM_NLIMITS || soft > hard)
		return -EINVAL;
	if (resource == RLIMIT_NOFILE && hard > NR_OPEN)
		return -EPERM;
	pthread_mutex_lock(&sys->lock);
	/* Only CAP_SYS_RESOURCE raises a hard limit; anyone may lower one, for good. */
	if (hard > atomic_load(&p->rlim.max[resource]) && !mm_capable(p->mm, UM_CAP_SYS_RESOURCE)) {
		err = -EPERM;
	} else {
		atomic_store(&p->rlim.cur[resource], soft);
		atomic_store(&p->rlim.max[resource], hard);
	}
	pthread_mutex_unlock(&sys->lock);
	return err;
}

int um_getrlimit(struct um_proc *p, unsigned resource, uint64_t *soft, uint64_t *hard)
{
	struct um_system *sys = p->sys;

	if (resource >= UM_RLIM_NLIMITS)
		return -EINVAL;
	pthread_mutex_lock(&sys->lock);
	*soft = atomic_load(&p->rlim.cur[resource]);
	*hard = atomic_load(&p->rlim.max[resource]);
	pthread_mutex_unlock(&sys->lock);
	return 0;
}

void send_sig(struct um_proc *p, int sig)
{
	atomic_fetch_or(&p->sigpending, 1ULL << (sig - 1));
}

int um_signal_take(struct um_proc *p)
{
	uint64_t pending = atomic_load(&p->sigpending), bit;

	while (pending) {
		bit = pending & -pending;
		if (atomic_compare_exchange_weak(&p->sigpending, &pending, pending & ~bit))
			return __builtin_ctzll(bit) + 1;
	}
	return 0;
}
