/*
 * access.c: the software MMU: per-thread TLBs, loads, stores, copies.
 *
 * Each thread has its own TLB (thread-local, as each CPU has its own),
 * holding one mm's translations at a time. An entry caches a page's host
 * address with separate read and write tags, as QEMU's softmmu does. The
 * hit path takes no lock: it compares the TLB's generation with the mm's
 * tlb_gen, which every change that takes rights away from a PTE bumps
 * (mm_tlb_flush: the shootdown); a thread that sees a new generation drops
 * its whole TLB. A load re-reads the generation after reading the data and
 * retries on the slow path when it moved, so it never returns bytes of a
 * frame that was unmapped before the load completed.
 *
 * The slow path takes the mm lock shared, walks the page table, calls the
 * fault handler when the PTE does not allow the access, and refills.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

static _Thread_local struct tlb tls_tlb;
static _Thread_local uint32_t tls_shift;

static void tlb_reset(struct tlb *t, const struct mm *mm, uint64_t gen)
{
	for (uint32_t i = 0; i < TLB_SIZE; i++) {
		t->e[i].va_read = TLB_INVALID;
		t->e[i].va_write = TLB_INVALID;
	}
	t->mm = mm;
	t->gen = gen;
	tls_shift = mm->sys->page_shift;
}

static int sigsegv(struct um_siginfo *si, int code, uint64_t addr)
{
	if (si) {
		si->si_signo = UM_SIGSEGV;
		si->si_code = code;
		si->si_addr = addr;
	}
	return -EFAULT;
}

/* x86-64: a non-canonical address is a general protection fault (SI_KERNEL, address 0). */
#define SI_KERNEL 0x80

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
	struct tlb *t = &tls_tlb;
	uint32_t shift = mm->sys->page_shift;
	uint64_t page = va & ~(mm->sys->page_mask);
	unsigned char *host = NULL;

	if (va >= mm->sys->task_size) {
		*err = bad_address(va, si);
		return NULL;
	}
	pthread_rwlock_rdlock(&mm->lock);
	for (;;) {
		uint64_t gen = atomic_load_explicit(&mm->tlb_gen, memory_order_acquire);
		_Atomic pte_t *ptep;
		pte_t pte;

		if (t->mm != mm || t->gen != gen)
			tlb_reset(t, mm, gen);
		ptep = pgtable_walk(&mm->pt, va, false);
		pte = ptep ? atomic_load_explicit(ptep, memory_order_acquire) : 0;
		if ((pte & PTE_PRESENT) && (pte & PTE_USER) &&
		    (acc == FAULT_READ || (pte & PTE_WRITE))) {
			struct tlb_entry *e = &t->e[(va >> shift) & (TLB_SIZE - 1)];

			if (acc == FAULT_WRITE && !(pte & PTE_DIRTY)) {
				/* What the hardware does on the first write through a clean PTE. */
				if (!atomic_compare_exchange_strong(ptep, &pte, pte | PTE_DIRTY))
					continue;
				pte |= PTE_DIRTY;
			}
			host = pfn_host(&mm->sys->fp, pte_pfn(pte));
			e->addend = (uintptr_t)host - (uintptr_t)page;
			e->va_read = page;
			e->va_write = (pte & PTE_WRITE) && (pte & PTE_DIRTY) ? page : TLB_INVALID;
			host += va - page;
			break;
		}
		*err = handle_mm_fault(mm, va, acc, si);
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
	if (unlikely(t->mm != mm || t->gen != *gen))
		return NULL;
	page = va & ~((1ULL << tls_shift) - 1);
	e = &t->e[(va >> tls_shift) & (TLB_SIZE - 1)];
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

static inline uint64_t read_n(const unsigned char *h, unsigned size)
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

static inline void write_n(unsigned char *h, unsigned size, uint64_t v)
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

/* Host address of va for acc: TLB hit, else the slow path. */
static unsigned char *translate(struct mm *mm, uint64_t va, enum fault_access acc,
				struct um_siginfo *si, int *err)
{
	uint64_t gen;
	unsigned char *h = tlb_hit(mm, va, acc, &gen);

	return h ? h : tlb_fill(mm, va, acc, si, err);
}

int um_load(struct um_proc *p, uint64_t addr, unsigned size, uint64_t *val, struct um_siginfo *si)
{
	struct mm *mm = p->mm;
	uint64_t mask = mm->sys->page_mask, v = 0, gen;
	unsigned char *h;
	int err = 0;

	if (unlikely(!size_ok(size)))
		return -EINVAL;
	if (likely((addr & mask) + size <= mask + 1)) {
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
	/* Crosses a page boundary: byte by byte, little-endian. */
	for (unsigned i = 0; i < size; i++) {
		uint64_t b;

		err = um_load(p, addr + i, 1, &b, si);
		if (err)
			return err;
		v |= b << (8 * i);
	}
	*val = v;
	return 0;
}

int um_store(struct um_proc *p, uint64_t addr, unsigned size, uint64_t val, struct um_siginfo *si)
{
	struct mm *mm = p->mm;
	uint64_t mask = mm->sys->page_mask, gen;
	unsigned char *h, *h2;
	int err = 0;

	if (unlikely(!size_ok(size)))
		return -EINVAL;
	if (likely((addr & mask) + size <= mask + 1)) {
		h = tlb_hit(mm, addr, FAULT_WRITE, &gen);
		if (unlikely(!h)) {
			h = tlb_fill(mm, addr, FAULT_WRITE, si, &err);
			if (!h)
				return err;
		}
		write_n(h, size, val);
		return 0;
	}
	/* Crosses a page boundary: both pages must allow the write before any byte lands. */
	{
		uint64_t split = (addr | mask) + 1;
		unsigned first = (unsigned)(split - addr);

		h = translate(mm, addr, FAULT_WRITE, si, &err);
		if (!h)
			return err;
		h2 = translate(mm, split, FAULT_WRITE, si, &err);
		if (!h2)
			return err;
		/* The second fill may have evicted or flushed the first: translate again. */
		h = translate(mm, addr, FAULT_WRITE, si, &err);
		if (!h)
			return err;
		for (unsigned i = 0; i < size; i++)
			(i < first ? h : h2 - first)[i] = (uint8_t)(val >> (8 * i));
	}
	return 0;
}

int um_copy_from(struct um_proc *p, void *dst, uint64_t src, size_t len, struct um_siginfo *si)
{
	struct mm *mm = p->mm;
	uint64_t mask = mm->sys->page_mask;
	unsigned char *out = dst;
	int err = 0;

	while (len) {
		size_t chunk = (size_t)((mask + 1) - (src & mask));
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
			memcpy(out, h, chunk);
			if (tlb_still(mm, gen))
				break;
		}
		out += chunk;
		src += chunk;
		len -= chunk;
	}
	return 0;
}

int um_copy_to(struct um_proc *p, uint64_t dst, const void *src, size_t len, struct um_siginfo *si)
{
	struct mm *mm = p->mm;
	uint64_t mask = mm->sys->page_mask;
	const unsigned char *in = src;
	int err = 0;

	while (len) {
		size_t chunk = (size_t)((mask + 1) - (dst & mask));
		unsigned char *h = translate(mm, dst, FAULT_WRITE, si, &err);

		if (!h)
			return err;
		if (chunk > len)
			chunk = len;
		memcpy(h, in, chunk);
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
