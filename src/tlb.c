/*
 * tlb.c: the per-thread TLBs, the shootdown, and the mmu_gather that holds
 * unmapped frames until no TLB can still reach them.
 *
 * Each thread has its own TLB (thread-local, as each CPU has its own),
 * holding one mm's translations at a time: an entry caches a page's host
 * address with separate read and write tags, as QEMU's softmmu does.
 * Every change that takes rights away from a PTE bumps the mm's tlb_gen
 * (mm_tlb_flush), to a number no TLB has seen (um_gen_next); a thread that
 * sees a new generation drops its whole TLB (access.c).
 *
 * Stores cannot be undone, so a thread marks itself busy while a store is
 * in flight, and a shootdown that takes rights away (mm_tlb_sync: munmap,
 * mprotect, fork) waits, after bumping the generation, for every other
 * thread using the mm to be outside a store. The hit path pays for this
 * with two plain thread-local stores and no fence: the shootdown side
 * issues membarrier(2) (host.c), which makes every thread of the host
 * process pass a full barrier, as userspace RCU does. Frames unmapped by
 * munmap are released only after that wait (mmu_gather), so no store ever
 * lands in a frame that was freed and handed to someone else.
 *
 * Invariants:
 *   1. A TLB is on the registry from its first fill until its thread exits.
 *   2. A TLB whose h.gen equals its mm's tlb_gen holds only translations
 *      that the mm's PTEs still allow.
 *   3. A frame queued on an mmu_gather is released only after mm_tlb_sync.
 */
#include <pthread.h>
#include <sched.h>

#include "frame.h"
#include "host.h"
#include "mm.h"
#include "system.h"
#include "tlb.h"

/*
 * The generation counter: process-wide, so that a generation is never
 * reused by any mm of any system, and a TLB that held a freed mm's
 * translations can never match a new mm's generation.
 */
static _Atomic uint64_t gen_counter = 1;

uint64_t um_gen_next(void)
{
	return atomic_fetch_add_explicit(&gen_counter, 1, memory_order_relaxed) + 1;
}


/*
 * The registry of thread TLBs: process-wide, as the threads are. It is the
 * one piece of mutable global state in the library besides the generation
 * counter, because a thread's TLB outlives any one system.
 */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tlb *registry;
static _Atomic int registry_count;
static pthread_once_t registry_once = PTHREAD_ONCE_INIT;
static pthread_key_t registry_key;
static int membarrier_cmd;

static void tlb_unregister(void *arg)
{
	struct tlb *t = arg;

	pthread_mutex_lock(&registry_lock);
	if (t->reg_prev)
		t->reg_prev->reg_next = t->reg_next;
	else
		registry = t->reg_next;
	if (t->reg_next)
		t->reg_next->reg_prev = t->reg_prev;
	t->registered = false;
	atomic_fetch_sub(&registry_count, 1);
	pthread_mutex_unlock(&registry_lock);
}

static void registry_init(void)
{
	pthread_key_create(&registry_key, tlb_unregister);
	membarrier_cmd = host_membarrier_register();
}

static void tlb_register(struct tlb *t)
{
	pthread_once(&registry_once, registry_init);
	pthread_mutex_lock(&registry_lock);
	t->reg_prev = NULL;
	t->reg_next = registry;
	if (registry)
		registry->reg_prev = t;
	registry = t;
	t->registered = true;
	atomic_fetch_add(&registry_count, 1);
	pthread_mutex_unlock(&registry_lock);
	pthread_setspecific(registry_key, t);
}

void tlb_reset(struct tlb *t, const struct mm *mm, uint64_t gen)
{
	for (uint32_t i = 0; i < TLB_SIZE; i++) {
		t->h.e[i].va_read = TLB_INVALID;
		t->h.e[i].va_write = TLB_INVALID;
	}
	if (!t->registered)
		tlb_register(t);
	atomic_store_explicit(&t->mm, mm, memory_order_relaxed);
	t->h.gen = gen;
	/* The TLB's own copy of the geometry, for embedders' inline probes. */
	t->h.shift = mm->sys->geom.shift;
	t->h.page_mask = mm->sys->geom.mask;
}

/*
 * This thread's TLB when it is on the registry, else NULL: one that never
 * filled holds nothing to shoot down. The thread-local TLB itself lives
 * with the hit path (access.c); the registry knows it by its key.
 */
static struct tlb *registered_self(int *count)
{
	*count = atomic_load(&registry_count);
	return *count ? pthread_getspecific(registry_key) : NULL;
}

void mm_tlb_sync(struct mm *mm)
{
	struct tlb *self, *t;
	bool others = false;
	int count;

	mm_tlb_flush(mm);
	self = registered_self(&count);
	if (count <= (self ? 1 : 0))
		return;
	pthread_mutex_lock(&registry_lock);
	for (t = registry; t && !others; t = t->reg_next)
		others = t != self && atomic_load_explicit(&t->mm, memory_order_relaxed) == mm;
	if (others) {
		/* Every thread passes a full barrier: its busy flag is now visible. */
		host_membarrier(membarrier_cmd);
		for (t = registry; t; t = t->reg_next) {
			if (t == self || atomic_load_explicit(&t->mm, memory_order_relaxed) != mm)
				continue;
			while (__atomic_load_n(&t->h.busy, __ATOMIC_ACQUIRE))
				sched_yield();
		}
	}
	pthread_mutex_unlock(&registry_lock);
}

/* Does another thread's TLB hold mm? (Single-threaded use answers without a lock.) */
static bool tlb_others(const struct mm *mm, struct tlb *self, int count)
{
	struct tlb *t;
	bool others = false;

	if (count <= (self ? 1 : 0))
		return false;
	pthread_mutex_lock(&registry_lock);
	for (t = registry; t && !others; t = t->reg_next)
		others = t != self && atomic_load_explicit(&t->mm, memory_order_relaxed) == mm;
	pthread_mutex_unlock(&registry_lock);
	return others;
}

void mm_tlb_flush_page(struct mm *mm, uint64_t va)
{
	int count;
	struct tlb *t = registered_self(&count);

	if (tlb_others(mm, t, count)) {
		mm_tlb_flush(mm);
		return;
	}
	if (t && t->mm == mm) {
		struct tlb_entry *e = &t->h.e[(va >> t->h.shift) & (TLB_SIZE - 1)];

		e->va_read = TLB_INVALID;
		e->va_write = TLB_INVALID;
	}
}

void tlb_gather_init(struct mmu_gather *g, struct mm *mm)
{
	g->mm = mm;
	g->n = 0;
}

static void gather_release(struct mmu_gather *g)
{
	mm_tlb_sync(g->mm);
	for (uint32_t i = 0; i < g->n; i++)
		frame_put(&g->mm->sys->fp, g->pfn[i]);
	g->n = 0;
}

void tlb_gather_add(struct mmu_gather *g, uint32_t pfn)
{
	if (g->n == MMU_GATHER_MAX)
		gather_release(g);
	g->pfn[g->n++] = pfn;
}

void tlb_gather_finish(struct mmu_gather *g)
{
	gather_release(g);
}
