/*
 * access.c: the software MMU: loads, stores and copies through the
 * thread's TLB (tlb.c).
 *
 * The hit path takes no lock: it compares the TLB's generation with the
 * mm's tlb_gen, which every change that takes rights away from a PTE bumps;
 * a thread that sees a new generation drops its whole TLB. A load re-reads
 * the generation after reading the data and retries on the slow path when
 * it moved, so it never returns bytes of a frame that was unmapped before
 * the load completed. A store marks the thread busy while it is in flight
 * (store_begin/store_end), so that a shootdown (mm_tlb_sync) can wait for
 * it: stores cannot be undone.
 *
 * The slow path takes the mm lock shared, walks the page table, calls the
 * fault handler when the PTE does not allow the access, and refills.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "fault.h"
#include "frame.h"
#include "mm.h"
#include "pgtable.h"
#include "system.h"
#include "tlb.h"

/*
 * This thread's TLB: here, beside the hit path that reads it inline; the
 * registry (tlb.c) knows it from its first fill on.
 */
static _Thread_local struct tlb tls_tlb;

/* A store is in flight: a shootdown must wait for it. */
static inline void store_begin(struct tlb *t)
{
	__atomic_store_n(&t->h.busy, 1, __ATOMIC_RELAXED);
	atomic_signal_fence(memory_order_seq_cst);
}

static inline void store_end(struct tlb *t)
{
	__atomic_store_n(&t->h.busy, 0, __ATOMIC_RELEASE);
}

static int sigsegv(struct um_siginfo *si, int code, uint64_t addr)
{
	if (si) {
		si->signo = UM_SIGSEGV;
		si->code = code;
		si->addr = addr;
	}
	return -EFAULT;
}

/* x86-64: a non-canonical address is a general protection fault (SI_KERNEL, address 0). */
#define SI_KERNEL UM_SI_KERNEL

static inline bool canonical(uint64_t va)
{
	uint64_t top = va >> 47;

	return top == 0 || top == 0x1ffff;
}

/*
 * Are the first and last byte of an access canonical? An access that wraps
 * past 2^64 passes (both ends are), and then faults on its first byte, in
 * the kernel half: SEGV_MAPERR at that address, as Linux reports it.
 */
static inline bool canonical_span(uint64_t va, unsigned size)
{
	return canonical(va) && canonical(va + size - 1);
}

static int bad_address(uint64_t va, struct um_siginfo *si)
{
	uint64_t top = va >> 47;

	if (top != 0 && top != 0x1ffff)
		return sigsegv(si, SI_KERNEL, 0);
	return sigsegv(si, UM_SEGV_MAPERR, va);
}

/*
 * Makes the page of va allow acc and loads it into this thread's TLB.
 * Returns the host address of va, or NULL with *err set and si filled.
 */
static unsigned char *tlb_fill(struct mm *mm, uint64_t va, enum fault_access acc,
			       struct um_siginfo *si, int *err)
{
	/*
	 * A write translation is returned with the thread marked busy (set
	 * under the mm lock, so no shootdown can slip in between); the caller
	 * ends the store with store_end().
	 */
	struct tlb *t = &tls_tlb;
	const struct page_geom *g = &mm->sys->geom;
	uint64_t page = page_align_down(g, va);
	unsigned char *host = NULL;

	if (va >= mm->sys->task_size) {
		*err = bad_address(va, si);
		return NULL;
	}
	pthread_rwlock_rdlock(&mm->lock);
	if (unlikely(atomic_load_explicit(&mm->oom_killed, memory_order_relaxed))) {
		/* OOM-killed: even a page still mapped is out of reach (oom_kill.c). */
		pthread_rwlock_unlock(&mm->lock);
		if (si) {
			si->signo = UM_SIGKILL;
			si->code = 0;
			si->addr = va;
		}
		*err = -EFAULT;
		return NULL;
	}
	for (_Atomic pte_t *known = NULL;;) {
		uint64_t gen = atomic_load_explicit(&mm->tlb_gen, memory_order_acquire);
		_Atomic pte_t *ptep;
		pte_t pte;

		if (t->mm != mm || t->h.gen != gen)
			tlb_reset(t, mm, gen);
		/* After a fault the slot is known; tables go only under the exclusive lock. */
		ptep = known ? known : pgtable_walk(&mm->pt, va, false);
		pte = ptep ? atomic_load_explicit(ptep, memory_order_acquire) : 0;
		if ((pte & PTE_PRESENT) && (pte & PTE_USER) &&
		    (acc == FAULT_READ || (pte & PTE_WRITE))) {
			struct tlb_entry *e = &t->h.e[pg_count(g, va) & (TLB_SIZE - 1)];

			/*
			 * What the hardware does as it loads a translation: the
			 * accessed bit, and the dirty bit on the first write
			 * through a clean PTE. Reclaim and MADV_COLD clear the
			 * accessed bit and shoot the TLB down, so the next access
			 * comes here and sets it again.
			 */
			pte_t want = PTE_ACCESSED | (acc == FAULT_WRITE ? PTE_DIRTY : 0);

			if ((pte & want) != want) {
				if (!atomic_compare_exchange_strong(ptep, &pte, pte | want))
					continue;
				pte |= want;
			}
			host = pfn_host(&mm->sys->fp, pte_pfn(pte));
			e->addend = (uintptr_t)host - (uintptr_t)page;
			e->va_read = page;
			e->va_write = (pte & PTE_WRITE) && (pte & PTE_DIRTY) ? page : TLB_INVALID;
			host += va - page;
			if (acc == FAULT_WRITE)
				store_begin(t);
			break;
		}
		*err = handle_mm_fault_pte(mm, va, acc, si, &known);
		if (*err == -EAGAIN) {
			/* Grow the stack VMA above, which needs the lock exclusive. */
			pthread_rwlock_unlock(&mm->lock);
			mmap_write_lock(mm);
			*err = expand_stack(mm, va) ? -EFAULT : 0;
			mmap_write_unlock(mm);
			pthread_rwlock_rdlock(&mm->lock);
			known = NULL;
			if (*err)
				break;
			continue;
		}
		if (*err)
			break;
	}
	pthread_rwlock_unlock(&mm->lock);
	return host;
}

/* The host address of va for acc from the TLB, or NULL on a miss. */
static inline unsigned char *tlb_hit(const struct mm *mm, uint64_t va, enum fault_access acc,
				     uint64_t *gen)
{
	struct tlb *t = &tls_tlb;
	struct tlb_entry *e;
	uint64_t page;

	*gen = atomic_load_explicit(&mm->tlb_gen, memory_order_acquire);
	if (unlikely(t->mm != mm || t->h.gen != *gen))
		return NULL;
	page = va & ~t->h.page_mask;
	e = &t->h.e[(va >> t->h.shift) & (TLB_SIZE - 1)];
	if ((acc == FAULT_READ ? e->va_read : e->va_write) != page)
		return NULL;
	return (unsigned char *)(uintptr_t)(va + e->addend);
}

/* Still coherent? (A load's data is good if no shootdown happened meanwhile.) */
static inline bool tlb_still(const struct mm *mm, uint64_t gen)
{
	atomic_thread_fence(memory_order_acquire);
	return atomic_load_explicit(&mm->tlb_gen, memory_order_relaxed) == gen;
}

/*
 * Guest memory. Two guest threads racing on one address is the guest's
 * business, as it is on hardware, so the accesses that carry guest data
 * are not instrumented by ThreadSanitizer (make check-tsan): its reports
 * are then about the library's own structures only.
 */
#if defined(__SANITIZE_THREAD__)
#define GUEST_ACCESS __attribute__((no_sanitize_thread, noinline))

static GUEST_ACCESS void guest_copy(void *dst, const void *src, size_t n)
{
	volatile unsigned char *d = dst;
	const volatile unsigned char *s = src;

	while (n--)
		*d++ = *s++;
}
#else
#define GUEST_ACCESS inline
#define guest_copy memcpy
#endif

static GUEST_ACCESS uint64_t read_n(const unsigned char *h, unsigned size)
{
	uint8_t b;
	uint16_t w;
	uint32_t d;
	uint64_t q;

	switch (size) {
	case 1:
		memcpy(&b, h, 1);
		return b;
	case 2:
		memcpy(&w, h, 2);
		return w;
	case 4:
		memcpy(&d, h, 4);
		return d;
	default:
		memcpy(&q, h, 8);
		return q;
	}
}

static GUEST_ACCESS void write_n(unsigned char *h, unsigned size, uint64_t v)
{
	uint8_t b = (uint8_t)v;
	uint16_t w = (uint16_t)v;
	uint32_t d = (uint32_t)v;

	switch (size) {
	case 1:
		memcpy(h, &b, 1);
		break;
	case 2:
		memcpy(h, &w, 2);
		break;
	case 4:
		memcpy(h, &d, 4);
		break;
	default:
		memcpy(h, &v, 8);
		break;
	}
}

static inline bool size_ok(unsigned size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

/*
 * The host address of va for a store, with this thread marked busy until
 * store_end(); NULL with *err and si set when the store faults.
 */
static inline unsigned char *write_begin(struct mm *mm, uint64_t va, struct um_siginfo *si,
					 int *err)
{
	struct tlb *t = &tls_tlb;
	unsigned char *h;
	uint64_t gen;

	store_begin(t);
	h = tlb_hit(mm, va, FAULT_WRITE, &gen);
	if (likely(h))
		return h;
	store_end(t);
	return tlb_fill(mm, va, FAULT_WRITE, si, err);
}

/* Host address of va for acc, with no store in flight afterwards. */
static unsigned char *translate(struct mm *mm, uint64_t va, enum fault_access acc,
				struct um_siginfo *si, int *err)
{
	uint64_t gen;
	unsigned char *h = tlb_hit(mm, va, acc, &gen);

	if (h)
		return h;
	h = tlb_fill(mm, va, acc, si, err);
	if (h && acc == FAULT_WRITE)
		store_end(&tls_tlb);
	return h;
}

static __attribute__((noinline)) int load_slow(struct um_proc *p, uint64_t addr, unsigned size,
					      uint64_t *val, struct um_siginfo *si)
{
	struct mm *mm = p->mm;
	const struct page_geom *g = &mm->sys->geom;
	uint64_t v = 0, gen;
	unsigned char *h;
	int err = 0;

	if (unlikely(!size_ok(size)))
		return -EINVAL;
	if (likely(offset_in_page(g, addr) + size <= g->size)) {
		h = tlb_hit(mm, addr, FAULT_READ, &gen);
		if (likely(h)) {
			v = read_n(h, size);
			if (likely(tlb_still(mm, gen))) {
				*val = v;
				return 0;
			}
		}
		for (;;) {
			h = tlb_fill(mm, addr, FAULT_READ, si, &err);
			if (!h)
				return err;
			gen = atomic_load_explicit(&mm->tlb_gen, memory_order_acquire);
			v = read_n(h, size);
			if (tlb_still(mm, gen))
				break;
		}
		*val = v;
		return 0;
	}
	/*
	 * Crosses a page boundary: byte by byte, little-endian. x86 checks the
	 * whole access for canonical addresses before any page is walked.
	 */
	if (!canonical_span(addr, size))
		return sigsegv(si, SI_KERNEL, 0);
	for (unsigned i = 0; i < size; i++) {
		uint64_t b;

		err = load_slow(p, addr + i, 1, &b, si);
		if (err)
			return err;
		v |= b << (8 * i);
	}
	*val = v;
	return 0;
}

static __attribute__((noinline)) int store_slow(struct um_proc *p, uint64_t addr, unsigned size,
					       uint64_t val, struct um_siginfo *si)
{
	struct mm *mm = p->mm;
	const struct page_geom *g = &mm->sys->geom;
	unsigned char *h, *h2;
	int err = 0;

	if (unlikely(!size_ok(size)))
		return -EINVAL;
	if (likely(offset_in_page(g, addr) + size <= g->size)) {
		h = write_begin(mm, addr, si, &err);
		if (unlikely(!h))
			return err;
		write_n(h, size, val);
		store_end(&tls_tlb);
		return 0;
	}
	/*
	 * Crosses a page boundary: both pages must allow the write before any
	 * byte lands, then each part is stored as its own access (a racing
	 * munmap of the second page in another thread can still cut the store
	 * in two, as on hardware).
	 */
	{
		uint64_t split = page_align_down(g, addr) + g->size;
		unsigned first = (unsigned)(split - addr);

		if (!canonical_span(addr, size))
			return sigsegv(si, SI_KERNEL, 0);
		if (!translate(mm, addr, FAULT_WRITE, si, &err) ||
		    !translate(mm, split, FAULT_WRITE, si, &err))
			return err;
		h = write_begin(mm, addr, si, &err);
		if (!h)
			return err;
		for (unsigned i = 0; i < first; i++)
			h[i] = (uint8_t)(val >> (8 * i));
		store_end(&tls_tlb);
		h2 = write_begin(mm, split, si, &err);
		if (!h2)
			return err;
		for (unsigned i = first; i < size; i++)
			h2[i - first] = (uint8_t)(val >> (8 * i));
		store_end(&tls_tlb);
	}
	return 0;
}

/*
 * The hit paths: a naturally aligned access whose page is in this thread's
 * TLB. Everything else (misses, faults, unaligned accesses, bad sizes) goes
 * to the slow functions above, kept out of line so these stay small.
 *
 * Two tricks keep them short. Generations are unique across every mm
 * (um_gen_next), so t->h.gen == mm->tlb_gen alone proves the TLB holds this
 * mm's entries. And, as in QEMU, the tag compare includes the low address
 * bits below the access size: a misaligned address cannot equal a page
 * address, so one compare checks page and alignment.
 */
int um_load(struct um_proc *p, uint64_t addr, unsigned size, uint64_t *val, struct um_siginfo *si)
{
	const struct mm *mm = p->mm;
	struct tlb *t = &tls_tlb;
	uint64_t gen = atomic_load_explicit(&mm->tlb_gen, memory_order_acquire);
	const struct tlb_entry *e;
	uint64_t v;

	if (unlikely(t->h.gen != gen))
		goto slow;
	e = &t->h.e[(addr >> t->h.shift) & (TLB_SIZE - 1)];
	if (unlikely(e->va_read != (addr & (~t->h.page_mask | (size - 1)))))
		goto slow;
	if (likely(size == 8))
		v = read_n((const unsigned char *)(uintptr_t)(addr + e->addend), 8);
	else if (size == 4 || size == 2 || size == 1)
		v = read_n((const unsigned char *)(uintptr_t)(addr + e->addend), size);
	else
		goto slow;
	if (unlikely(!tlb_still(mm, gen)))
		goto slow;
	*val = v;
	return 0;
slow:
	return load_slow(p, addr, size, val, si);
}

int um_store(struct um_proc *p, uint64_t addr, unsigned size, uint64_t val, struct um_siginfo *si)
{
	const struct mm *mm = p->mm;
	struct tlb *t = &tls_tlb;
	const struct tlb_entry *e;
	uint64_t gen;

	store_begin(t);
	gen = atomic_load_explicit(&mm->tlb_gen, memory_order_acquire);
	if (unlikely(t->h.gen != gen))
		goto slow;
	e = &t->h.e[(addr >> t->h.shift) & (TLB_SIZE - 1)];
	if (unlikely(e->va_write != (addr & (~t->h.page_mask | (size - 1)))))
		goto slow;
	switch (size) {
	case 8:
	case 4:
	case 2:
	case 1:
		write_n((unsigned char *)(uintptr_t)(addr + e->addend), size, val);
		store_end(t);
		return 0;
	default:
		break;
	}
slow:
	store_end(t);
	return store_slow(p, addr, size, val, si);
}

int um_copy_from(struct um_proc *p, void *dst, uint64_t src, size_t len, struct um_siginfo *si)
{
	struct mm *mm = p->mm;
	const struct page_geom *g = &mm->sys->geom;
	unsigned char *out = dst;
	int err = 0;

	while (len) {
		size_t chunk = (size_t)(g->size - offset_in_page(g, src));
		unsigned char *h;
		uint64_t gen;

		if (chunk > len)
			chunk = len;
		for (;;) {
			h = tlb_hit(mm, src, FAULT_READ, &gen);
			if (!h) {
				h = tlb_fill(mm, src, FAULT_READ, si, &err);
				if (!h)
					return err;
				gen = atomic_load_explicit(&mm->tlb_gen, memory_order_acquire);
			}
			guest_copy(out, h, chunk);
			if (tlb_still(mm, gen))
				break;
		}
		out += chunk;
		src += chunk;
		len -= chunk;
	}
	return 0;
}

size_t copy_from_user_nofault(struct um_proc *p, void *dst, uint64_t src, size_t len)
{
	struct mm *mm = p->mm;
	const struct page_geom *g = &mm->sys->geom;
	size_t done = 0;

	while (done < len) {
		uint64_t va = src + done;
		size_t chunk = (size_t)(g->size - offset_in_page(g, va));
		_Atomic pte_t *ptep;
		pte_t pte;

		if (chunk > len - done)
			chunk = len - done;
		if (va >= mm->sys->task_size || !canonical(va))
			break;
		pthread_rwlock_rdlock(&mm->lock);
		ptep = pgtable_walk(&mm->pt, va, false);
		pte = ptep ? atomic_load_explicit(ptep, memory_order_acquire) : 0;
		if (!(pte & PTE_PRESENT) || !(pte & PTE_USER)) {
			pthread_rwlock_unlock(&mm->lock);
			break;
		}
		/* The mm lock keeps the frame mapped, hence alive, while it is read. */
		guest_copy((unsigned char *)dst + done,
			   pfn_host(&mm->sys->fp, pte_pfn(pte)) + offset_in_page(g, va), chunk);
		pthread_rwlock_unlock(&mm->lock);
		done += chunk;
	}
	return done;
}

int um_copy_to(struct um_proc *p, uint64_t dst, const void *src, size_t len, struct um_siginfo *si)
{
	struct mm *mm = p->mm;
	const struct page_geom *g = &mm->sys->geom;
	const unsigned char *in = src;
	int err = 0;

	while (len) {
		size_t chunk = (size_t)(g->size - offset_in_page(g, dst));
		unsigned char *h = write_begin(mm, dst, si, &err);

		if (!h)
			return err;
		if (chunk > len)
			chunk = len;
		guest_copy(h, in, chunk);
		store_end(&tls_tlb);
		in += chunk;
		dst += chunk;
		len -= chunk;
	}
	return 0;
}

int um_translate(struct um_proc *p, uint64_t addr, int write, void **host, struct um_siginfo *si)
{
	int err = 0;
	unsigned char *h = translate(p->mm, addr, write ? FAULT_WRITE : FAULT_READ, si, &err);

	if (!h)
		return err;
	*host = h;
	return 0;
}

struct um_tlb *um_tlb_self(void)
{
	return &tls_tlb.h;
}

const uint64_t *um_tlb_gen(const struct um_proc *p)
{
	/* The generation word is only ever read through atomic loads. */
	return (const uint64_t *)&p->mm->tlb_gen;
}
