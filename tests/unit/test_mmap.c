/*
 * mmap, munmap and mprotect on anonymous memory: every errno Linux gives,
 * placement, rounding, splitting and merging of VMAs, and max_map_count.
 *
 * Every errno asserted here was first confirmed on Linux 6.18 x86-64 with
 * raw syscall(2) calls; where Linux differs from the man page, these tests
 * follow Linux (each such place says so).
 */
#include <signal.h>
#include <sys/wait.h>

#include "mm.h" /* e->p->mm->total_vm: the debug-build test breaks it */
#include "harness.h"

/* 8-byte accesses; the faulting ones are 1 byte, at the address they report. */
#define LOAD(p, a) load_ok(p, a, 8, __LINE__)
#define STORE(p, a, v) store_ok(p, a, 8, v, __LINE__)
#define LOAD_FAULTS(p, a, code) assert_load_fault(p, a, 1, UM_SIGSEGV, code, a)
#define STORE_FAULTS(p, a, code) assert_store_fault(p, a, 1, UM_SIGSEGV, code, a)

static uint64_t map_count(struct um_proc *p)
{
	return proc_stats(p).map_count;
}

static uint64_t vm_size(struct um_proc *p)
{
	return proc_stats(p).vm_size;
}

static int64_t mmap_anon(struct um_proc *p, uint64_t addr, uint64_t len, int prot, int flags)
{
	return um_mmap(p, addr, len, prot, flags | UM_MAP_ANONYMOUS, -1, 0);
}

/* ------------------------------------------------------- mmap errors */

static void mmap_zero_length_einval(void **state)
{
	struct env *e = boot_default(state);
	assert_ret(um_mmap(e->p, 0, 0, RW, AP, -1, 0), -EINVAL);
	assert_ret(um_mmap(e->p, 0, 0, RW, AS, -1, 0), -EINVAL);
	assert_ret(um_mmap(e->p, 0x10000000, 0, RW, AP | UM_MAP_FIXED, -1, 0), -EINVAL);
	assert_ret(um_mmap(e->p, 0x10000001, 0, RW, AP | UM_MAP_FIXED, -1, 0), -EINVAL);
	assert_ret(map_count(e->p), 0);
	finish(e);
}

static void mmap_unaligned_offset_einval(void **state)
{
	struct env *e = boot_default(state);
	assert_ret(um_mmap(e->p, 0, PG, RW, AP, -1, 1), -EINVAL);
	assert_ret(um_mmap(e->p, 0, PG, RW, AP, -1, 2048), -EINVAL);
	assert_ret(um_mmap(e->p, 0, PG, RW, AS, -1, PG + 1), -EINVAL);
	/* Linux checks the offset before it looks at the fd. */
	assert_ret(um_mmap(e->p, 0, PG, RW, UM_MAP_PRIVATE, -1, 1), -EINVAL);
	assert_ret(um_mmap(e->p, BASE - PG, PG, RW, AP | UM_MAP_FIXED, -1, 1), -EINVAL);
	assert_ret(map_count(e->p), 0);
	finish(e);
}

static void mmap_anonymous_ignores_aligned_offset(void **state)
{
	struct env *e = boot_default(state);
	assert_ret(um_mmap(e->p, 0, PG, RW, AP, -1, (int64_t)PG), BASE - PG);
	assert_ret(um_mmap(e->p, 0, PG, UM_PROT_READ, AS, -1, (int64_t)(16 * PG)), BASE - 2 * PG);
	assert_ret(LOAD(e->p, BASE - PG), 0);
	assert_ret(LOAD(e->p, BASE - 2 * PG), 0);
	finish(e);
}

static void mmap_without_shared_or_private_einval(void **state)
{
	struct env *e = boot_default(state);
	assert_ret(um_mmap(e->p, 0, PG, RW, UM_MAP_ANONYMOUS, -1, 0), -EINVAL);
	assert_ret(um_mmap(e->p, 0x10000000, PG, RW, UM_MAP_ANONYMOUS | UM_MAP_FIXED, -1, 0),
		   -EINVAL);
	/* 0x0f: a map type no kernel defines. */
	assert_ret(um_mmap(e->p, 0, PG, RW, UM_MAP_ANONYMOUS | UM_MAP_TYPE, -1, 0), -EINVAL);
	assert_ret(map_count(e->p), 0);
	finish(e);
}

static void mmap_shared_validate_anonymous_einval(void **state)
{
	struct env *e = boot_default(state);
	/* Linux 6.x: MAP_SHARED_VALIDATE is only for files; with anon it is EINVAL. */
	assert_ret(um_mmap(e->p, 0, PG, RW, UM_MAP_SHARED_VALIDATE | UM_MAP_ANONYMOUS, -1, 0),
		   -EINVAL);
	/* MAP_PRIVATE | MAP_SHARED is the value of MAP_SHARED_VALIDATE. */
	assert_ret(um_mmap(e->p, 0, PG, RW, AP | UM_MAP_SHARED, -1, 0), -EINVAL);
	assert_ret(map_count(e->p), 0);
	finish(e);
}

static void mmap_shared_validate_anonymous_unknown_flag_einval(void **state)
{
	struct env *e = boot_default(state);
	/*
	 * EOPNOTSUPP is what a file mapping gets; for anonymous memory Linux
	 * rejects the map type first and answers EINVAL.
	 */
	assert_ret(um_mmap(e->p, 0, PG, RW,
			   UM_MAP_SHARED_VALIDATE | UM_MAP_ANONYMOUS | UNKNOWN_FLAG, -1, 0),
		   -EINVAL);
	assert_ret(map_count(e->p), 0);
	finish(e);
}

static void mmap_unknown_flags_ignored_without_shared_validate(void **state)
{
	struct env *e = boot_default(state);
	assert_ret(um_mmap(e->p, 0, PG, RW, AP | UNKNOWN_FLAG, -1, 0), BASE - PG);
	assert_ret(um_mmap(e->p, 0, PG, RW, AS | UNKNOWN_FLAG, -1, 0), BASE - 2 * PG);
	STORE(e->p, BASE - PG, 5);
	STORE(e->p, BASE - 2 * PG, 6);
	assert_ret(LOAD(e->p, BASE - PG), 5);
	assert_ret(LOAD(e->p, BASE - 2 * PG), 6);
	finish(e);
}

static void mmap_shared_anonymous_growsdown_einval(void **state)
{
	struct env *e = boot_default(state);
	assert_ret(um_mmap(e->p, 0, PG, RW, AS | UM_MAP_GROWSDOWN, -1, 0), -EINVAL);
	assert_ret(map_count(e->p), 0);
	finish(e);
}

static void mmap_bad_fd_without_anonymous_ebadf(void **state)
{
	struct env *e = boot_default(state);
	assert_ret(um_mmap(e->p, 0, PG, RW, UM_MAP_PRIVATE, -1, 0), -EBADF);
	assert_ret(um_mmap(e->p, 0, PG, RW, UM_MAP_SHARED, -1, 0), -EBADF);
	assert_ret(um_mmap(e->p, 0, PG, RW, UM_MAP_PRIVATE, 9999, 0), -EBADF);
	assert_ret(um_mmap(e->p, 0, PG, RW, UM_MAP_SHARED_VALIDATE, -1, 0), -EBADF);
	/* Linux looks the fd up before it checks flags or length. */
	assert_ret(um_mmap(e->p, 0, PG, RW, UM_MAP_SHARED_VALIDATE | UNKNOWN_FLAG, -1, 0), -EBADF);
	assert_ret(um_mmap(e->p, 0, PG, RW, 0, -1, 0), -EBADF);
	assert_ret(um_mmap(e->p, 0, 0, RW, UM_MAP_PRIVATE, -1, 0), -EBADF);
	assert_ret(map_count(e->p), 0);
	finish(e);
}

static void mmap_fixed_unaligned_einval(void **state)
{
	struct env *e = boot_default(state);
	assert_ret(um_mmap(e->p, 0x10000001, PG, RW, AP | UM_MAP_FIXED, -1, 0), -EINVAL);
	assert_ret(um_mmap(e->p, 0x10000800, PG, RW, AS | UM_MAP_FIXED, -1, 0), -EINVAL);
	assert_ret(map_count(e->p), 0);
	finish(e);
}

static void mmap_fixed_noreplace_unaligned_einval(void **state)
{
	struct env *e = boot_default(state);
	assert_ret(um_mmap(e->p, 0x10000064, PG, RW, AP | UM_MAP_FIXED_NOREPLACE, -1, 0), -EINVAL);
	assert_ret(um_mmap(e->p, 0x10000064, PG, RW,
			   AP | UM_MAP_FIXED_NOREPLACE | UM_MAP_FIXED, -1, 0),
		   -EINVAL);
	assert_ret(map_count(e->p), 0);
	finish(e);
}

static void mmap_fixed_noreplace_over_mapping_eexist(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = 0x10000000;
	assert_ret(mmap_anon(e->p, a, 4 * PG, RW, UM_MAP_PRIVATE | UM_MAP_FIXED), a);
	FILL_PAGES(e->p, a, 4, 0x1000);
	/* exactly over it, inside it, straddling either end */
	assert_ret(mmap_anon(e->p, a, 4 * PG, RW, UM_MAP_PRIVATE | UM_MAP_FIXED_NOREPLACE),
		   -EEXIST);
	assert_ret(mmap_anon(e->p, a + PG, PG, RW, UM_MAP_PRIVATE | UM_MAP_FIXED_NOREPLACE),
		   -EEXIST);
	assert_ret(mmap_anon(e->p, a - PG, 2 * PG, RW, UM_MAP_PRIVATE | UM_MAP_FIXED_NOREPLACE),
		   -EEXIST);
	assert_ret(mmap_anon(e->p, a + 3 * PG, 2 * PG, RW,
			     UM_MAP_SHARED | UM_MAP_FIXED_NOREPLACE),
		   -EEXIST);
	assert_ret(mmap_anon(e->p, a - PG, 6 * PG, UM_PROT_READ,
			     UM_MAP_PRIVATE | UM_MAP_FIXED_NOREPLACE),
		   -EEXIST);
	/* nothing changed */
	assert_ret(map_count(e->p), 1);
	assert_ret(vm_size(e->p), 4 * PG);
	EXPECT_PAGES(e->p, a, 4, 0x1000);
	LOAD_FAULTS(e->p, a - PG, UM_SEGV_MAPERR);
	LOAD_FAULTS(e->p, a + 4 * PG, UM_SEGV_MAPERR);
	finish(e);
}

static void mmap_fixed_noreplace_into_free_range_maps_it(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = 0x10000000;
	assert_ret(mmap_anon(e->p, a, 2 * PG, RW, UM_MAP_PRIVATE | UM_MAP_FIXED_NOREPLACE), a);
	/* right next to it is free: allowed, and merges */
	assert_ret(mmap_anon(e->p, a + 2 * PG, PG, RW, UM_MAP_PRIVATE | UM_MAP_FIXED_NOREPLACE),
		   a + 2 * PG);
	assert_ret(map_count(e->p), 1);
	assert_ret(vm_size(e->p), 3 * PG);
	STORE(e->p, a + 2 * PG, 9);
	assert_ret(LOAD(e->p, a + 2 * PG), 9);
	finish(e);
}

static void mmap_fixed_replaces_old_pages(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = 0x10000000;
	assert_ret(mmap_anon(e->p, a, 4 * PG, RW, UM_MAP_PRIVATE | UM_MAP_FIXED), a);
	for (uint64_t i = 0; i < 4; i++)
		for (uint64_t off = 0; off < PG; off += 512)
			STORE(e->p, a + i * PG + off, 0xa5a5a5a5a5a5a5a5ULL);
	uint64_t used = frames_used(e->sys);

	/* Same protection: the new page merges back into one VMA. */
	assert_ret(mmap_anon(e->p, a + PG, PG, RW, UM_MAP_PRIVATE | UM_MAP_FIXED), a + PG);
	assert_ret(map_count(e->p), 1);
	assert_ret(vm_size(e->p), 4 * PG);
	assert_ret(frames_used(e->sys), used - 1); /* the old page is gone */
	for (uint64_t off = 0; off < PG; off += 8)
		assert_ret(LOAD(e->p, a + PG + off), 0);
	assert_ret(LOAD(e->p, a), 0xa5a5a5a5a5a5a5a5ULL);
	assert_ret(LOAD(e->p, a + 2 * PG), 0xa5a5a5a5a5a5a5a5ULL);
	assert_ret(LOAD(e->p, a + 3 * PG + PG - 512), 0xa5a5a5a5a5a5a5a5ULL);

	/* Another protection: a VMA of its own, zero-filled, read-only. */
	assert_ret(mmap_anon(e->p, a + 2 * PG, PG, UM_PROT_READ, UM_MAP_PRIVATE | UM_MAP_FIXED),
		   a + 2 * PG);
	assert_ret(map_count(e->p), 3);
	assert_ret(LOAD(e->p, a + 2 * PG + 64), 0);
	STORE_FAULTS(e->p, a + 2 * PG + 64, UM_SEGV_ACCERR);
	assert_ret(LOAD(e->p, a + 3 * PG), 0xa5a5a5a5a5a5a5a5ULL);

	/* A shared mapping over a private one, spanning two VMAs. */
	assert_ret(mmap_anon(e->p, a + PG, 2 * PG, RW, UM_MAP_SHARED | UM_MAP_FIXED), a + PG);
	assert_ret(map_count(e->p), 3);
	assert_ret(LOAD(e->p, a + PG), 0);
	assert_ret(LOAD(e->p, a + 2 * PG), 0);
	assert_ret(vm_size(e->p), 4 * PG);
	finish(e);
}

/* ---------------------------------------------------------- placement */

static void mmap_null_places_top_down_from_mmap_base(void **state)
{
	struct env *e = boot_default(state);
	assert_ret(um_mmap(e->p, 0, 4 * PG, RW, AP, -1, 0), BASE - 4 * PG);
	assert_ret(um_mmap(e->p, 0, 2 * PG, RW, AP, -1, 0), BASE - 6 * PG);
	/* Adjacent anonymous mappings with the same attributes merge. */
	assert_ret(map_count(e->p), 1);
	assert_ret(um_mmap(e->p, 0, 3 * PG, UM_PROT_READ, AP, -1, 0), BASE - 9 * PG);
	assert_ret(map_count(e->p), 2);
	assert_ret(um_mmap(e->p, 0, PG, RW, AS, -1, 0), BASE - 10 * PG);
	assert_ret(map_count(e->p), 3);
	assert_ret(vm_size(e->p), 10 * PG);
	/* a hole left by munmap is reused: highest gap that fits */
	assert_ret(um_munmap(e->p, BASE - 4 * PG, 2 * PG), 0);
	assert_ret(um_mmap(e->p, 0, 3 * PG, RW, AP, -1, 0), BASE - 13 * PG);
	assert_ret(um_mmap(e->p, 0, 2 * PG, UM_PROT_READ, AP, -1, 0), BASE - 4 * PG);
	/* everything from BASE - 13 pages up is full now */
	assert_ret(um_mmap(e->p, 0, PG, UM_PROT_NONE, AP, -1, 0), BASE - 14 * PG);
	finish(e);
}

static void mmap_hint_used_when_free(void **state)
{
	struct env *e = boot_default(state);
	assert_ret(um_mmap(e->p, 0x10000000, 2 * PG, RW, AP, -1, 0), 0x10000000);
	/* also above the mmap base, as long as it is user space */
	assert_ret(um_mmap(e->p, 0x7fffff000000, PG, RW, AP, -1, 0), 0x7fffff000000);
	assert_ret(map_count(e->p), 2);
	STORE(e->p, 0x10000000 + PG, 3);
	assert_ret(LOAD(e->p, 0x10000000 + PG), 3);
	finish(e);
}

static void mmap_unaligned_hint_rounded_down(void **state)
{
	struct env *e = boot_default(state);
	assert_ret(um_mmap(e->p, 0x10000123, PG, RW, AP, -1, 0), 0x10000000);
	assert_ret(um_mmap(e->p, 0x20000fff, PG, RW, AS, -1, 0), 0x20000000);
	finish(e);
}

static void mmap_hint_ignored_when_occupied(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t h = 0x10000000;
	assert_ret(um_mmap(e->p, h, 2 * PG, RW, AP, -1, 0), h);
	/* exactly occupied, and occupied only at its end: top-down placement */
	assert_ret(um_mmap(e->p, h, PG, RW, AP, -1, 0), BASE - PG);
	assert_ret(um_mmap(e->p, h - PG, 2 * PG, UM_PROT_READ, AP, -1, 0), BASE - 3 * PG);
	assert_ret(um_mmap(e->p, h + 123, PG, UM_PROT_NONE, AP, -1, 0), BASE - 4 * PG);
	/* the first mapping is untouched */
	assert_ret(LOAD(e->p, h), 0);
	LOAD_FAULTS(e->p, h - PG, UM_SEGV_MAPERR);
	finish(e);
}

static void mmap_hint_beyond_user_space_ignored(void **state)
{
	struct env *e = boot_default(state);
	assert_ret(um_mmap(e->p, 0x800000000000ULL, PG, RW, AP, -1, 0), BASE - PG);
	assert_ret(um_mmap(e->p, TASK_SIZE, PG, RW, AP, -1, 0), BASE - 2 * PG);
	finish(e);
}

static void mmap_length_rounded_up_to_pages(void **state)
{
	struct env *e = boot_default(state);
	assert_ret(um_mmap(e->p, 0, 1, RW, AP, -1, 0), BASE - PG);
	assert_ret(vm_size(e->p), PG);
	STORE(e->p, BASE - 8, 0x1122334455667788ULL);
	assert_ret(LOAD(e->p, BASE - 8), 0x1122334455667788ULL);
	LOAD_FAULTS(e->p, BASE, UM_SEGV_MAPERR);
	assert_ret(um_mmap(e->p, 0, PG + 1, UM_PROT_READ, AP, -1, 0), BASE - 3 * PG);
	assert_ret(vm_size(e->p), 3 * PG);
	assert_ret(map_count(e->p), 2);
	assert_ret(LOAD(e->p, BASE - 2 * PG + 8), 0);
	finish(e);
}

static void mmap_overflowing_length_enomem(void **state)
{
	struct env *e = boot_default(state);
	assert_ret(um_mmap(e->p, 0, UINT64_MAX, RW, AP, -1, 0), -ENOMEM);
	assert_ret(um_mmap(e->p, 0, UINT64_MAX - PG + 1, RW, AP, -1, 0), -ENOMEM);
	assert_ret(um_mmap(e->p, 0, UINT64_MAX, RW, AS, -1, 0), -ENOMEM);
	assert_ret(um_mmap(e->p, 0, 0x800000000000ULL, RW, AP, -1, 0), -ENOMEM);
	assert_ret(um_mmap(e->p, 0, TASK_SIZE, RW, AP, -1, 0), -ENOMEM);
	assert_ret(um_mmap(e->p, 0x10000000, UINT64_MAX, RW, AP | UM_MAP_FIXED, -1, 0), -ENOMEM);
	/* Linux checks the length before the alignment of a fixed address. */
	assert_ret(um_mmap(e->p, 0x10000001, UINT64_MAX, RW, AP | UM_MAP_FIXED, -1, 0), -ENOMEM);
	assert_ret(map_count(e->p), 0);
	assert_ret(vm_size(e->p), 0);
	finish(e);
}

static void mmap_fixed_beyond_user_space_enomem(void **state)
{
	struct env *e = boot_default(state);
	assert_ret(um_mmap(e->p, 0x800000000000ULL, PG, RW, AP | UM_MAP_FIXED, -1, 0), -ENOMEM);
	assert_ret(um_mmap(e->p, TASK_SIZE, PG, RW, AP | UM_MAP_FIXED, -1, 0), -ENOMEM);
	assert_ret(um_mmap(e->p, TASK_SIZE - PG, 2 * PG, RW, AP | UM_MAP_FIXED, -1, 0), -ENOMEM);
	assert_ret(um_mmap(e->p, 0xfffffffffffff000ULL, PG, RW, AP | UM_MAP_FIXED, -1, 0), -ENOMEM);
	assert_ret(um_mmap(e->p, 0x800000000000ULL, PG, RW, AP | UM_MAP_FIXED_NOREPLACE, -1, 0),
		   -ENOMEM);
	assert_ret(map_count(e->p), 0);
	finish(e);
}

static void mmap_fixed_last_user_page_succeeds(void **state)
{
	struct env *e = boot_default(state);
	assert_ret(um_mmap(e->p, TASK_SIZE - PG, PG, RW, AP | UM_MAP_FIXED_NOREPLACE, -1, 0),
		   TASK_SIZE - PG);
	STORE(e->p, TASK_SIZE - 8, 42);
	assert_ret(LOAD(e->p, TASK_SIZE - 8), 42);
	assert_ret(map_count(e->p), 1);
	finish(e);
}

/*
 * An unprivileged process (no CAP_SYS_RAWIO) cannot map below
 * vm.mmap_min_addr: EPERM, which Linux checks before the map type (checked
 * on Linux as uid 65534 at address 0).
 */
static void mmap_fixed_below_mmap_min_addr_eperm(void **state)
{
	struct env *e = boot_default(state);
	assert_ret(um_mmap(e->p, 0, PG, RW, AP | UM_MAP_FIXED, -1, 0), -EPERM);
	assert_ret(um_mmap(e->p, MIN_ADDR - PG, PG, RW, AP | UM_MAP_FIXED, -1, 0), -EPERM);
	assert_ret(um_mmap(e->p, MIN_ADDR - PG, 2 * PG, RW, AS | UM_MAP_FIXED, -1, 0), -EPERM);
	assert_ret(um_mmap(e->p, 0, PG, RW, AP | UM_MAP_FIXED_NOREPLACE, -1, 0), -EPERM);
	assert_ret(um_mmap(e->p, 0, PG, RW, UM_MAP_ANONYMOUS | UM_MAP_FIXED, -1, 0), -EPERM);
	/* a zero length is EINVAL first */
	assert_ret(um_mmap(e->p, 0, 0, RW, AP | UM_MAP_FIXED, -1, 0), -EINVAL);
	assert_ret(map_count(e->p), 0);
	/* at mmap_min_addr itself it is allowed */
	assert_ret(um_mmap(e->p, MIN_ADDR, PG, RW, AP | UM_MAP_FIXED, -1, 0), MIN_ADDR);
	finish(e);
}

/* ------------------------------------------------------------- munmap */

static void munmap_unaligned_einval(void **state)
{
	struct env *e = boot_default(state);
	assert_ret(um_mmap(e->p, 0, 2 * PG, RW, AP, -1, 0), BASE - 2 * PG);
	assert_ret(um_munmap(e->p, BASE - 2 * PG + 1, PG), -EINVAL);
	assert_ret(um_munmap(e->p, BASE - PG - 8, 8), -EINVAL);
	assert_ret(map_count(e->p), 1);
	assert_ret(vm_size(e->p), 2 * PG);
	finish(e);
}

static void munmap_zero_length_einval(void **state)
{
	struct env *e = boot_default(state);
	assert_ret(um_mmap(e->p, 0, 2 * PG, RW, AP, -1, 0), BASE - 2 * PG);
	assert_ret(um_munmap(e->p, BASE - 2 * PG, 0), -EINVAL);
	assert_ret(um_munmap(e->p, BASE - 2 * PG + 1, 0), -EINVAL);
	assert_ret(um_munmap(e->p, 0x10000000, 0), -EINVAL);
	assert_ret(vm_size(e->p), 2 * PG);
	finish(e);
}

static void munmap_beyond_user_space_einval(void **state)
{
	struct env *e = boot_default(state);
	assert_ret(um_mmap(e->p, 0, 2 * PG, RW, AP, -1, 0), BASE - 2 * PG);
	assert_ret(um_munmap(e->p, 0x800000000000ULL, PG), -EINVAL);
	assert_ret(um_munmap(e->p, TASK_SIZE, PG), -EINVAL);
	assert_ret(um_munmap(e->p, TASK_SIZE - PG, 2 * PG), -EINVAL);
	assert_ret(um_munmap(e->p, BASE - 2 * PG, UINT64_MAX), -EINVAL);
	assert_ret(um_munmap(e->p, 0, UINT64_MAX), -EINVAL);
	assert_ret(vm_size(e->p), 2 * PG);
	finish(e);
}

static void munmap_empty_range_returns_zero(void **state)
{
	struct env *e = boot_default(state);
	assert_ret(um_munmap(e->p, 0x100000, PG), 0);
	assert_ret(um_munmap(e->p, 0, PG), 0);
	assert_ret(um_munmap(e->p, TASK_SIZE - PG, PG), 0);
	assert_ret(um_mmap(e->p, 0, PG, RW, AP, -1, 0), BASE - PG);
	assert_ret(um_munmap(e->p, BASE - 3 * PG, 2 * PG), 0); /* just below it */
	assert_ret(um_munmap(e->p, BASE, 16 * PG), 0);	       /* just above it */
	assert_ret(map_count(e->p), 1);
	finish(e);
}

/*
 * before:  AAAA
 * after:   A.AA
 */
static void munmap_middle_splits_mapping(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 4, RW, AP);
	for (uint64_t i = 0; i < 4; i++)
		STORE(e->p, a + i * PG + 16, 0x100 + i);
	uint64_t used = frames_used(e->sys);
	assert_ret(um_munmap(e->p, a + PG, PG), 0);
	assert_ret(map_count(e->p), 2);
	assert_ret(vm_size(e->p), 3 * PG);
	assert_ret(frames_used(e->sys), used - 1);
	LOAD_FAULTS(e->p, a + PG, UM_SEGV_MAPERR);
	LOAD_FAULTS(e->p, a + PG + 16, UM_SEGV_MAPERR);
	LOAD_FAULTS(e->p, a + 2 * PG - 1, UM_SEGV_MAPERR);
	STORE_FAULTS(e->p, a + PG + 5, UM_SEGV_MAPERR);
	assert_ret(LOAD(e->p, a + 16), 0x100);
	assert_ret(LOAD(e->p, a + 2 * PG + 16), 0x102);
	assert_ret(LOAD(e->p, a + 3 * PG + 16), 0x103);
	finish(e);
}

static void munmap_head_and_tail_shrink_mapping(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 4, RW, AP);
	FILL_PAGES(e->p, a, 4, 0x200);
	assert_ret(um_munmap(e->p, a, PG), 0);
	assert_ret(map_count(e->p), 1);
	assert_ret(vm_size(e->p), 3 * PG);
	assert_ret(um_munmap(e->p, a + 3 * PG, PG), 0);
	assert_ret(map_count(e->p), 1);
	assert_ret(vm_size(e->p), 2 * PG);
	LOAD_FAULTS(e->p, a, UM_SEGV_MAPERR);
	LOAD_FAULTS(e->p, a + 3 * PG, UM_SEGV_MAPERR);
	assert_ret(LOAD(e->p, a + PG), 0x201);
	assert_ret(LOAD(e->p, a + 2 * PG), 0x202);
	finish(e);
}

static void munmap_length_rounded_up(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 3, RW, AP);
	assert_ret(um_munmap(e->p, a + PG, 1), 0);
	assert_ret(map_count(e->p), 2);
	assert_ret(vm_size(e->p), 2 * PG);
	LOAD_FAULTS(e->p, a + 2 * PG - 8, UM_SEGV_MAPERR);
	assert_ret(LOAD(e->p, a + 2 * PG), 0);
	finish(e);
}

/*
 * before:  AABBCC   (B read-only)
 * munmap:   ^^^^    [a+PG, a+5PG)
 * after:   A....C
 */
static void munmap_range_over_several_mappings_removes_all(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 6, RW, AP);
	FILL_PAGES(e->p, a, 6, 0x300);
	assert_ret(um_mprotect(e->p, a + 2 * PG, 2 * PG, UM_PROT_READ), 0);
	assert_ret(map_count(e->p), 3);
	assert_ret(um_munmap(e->p, a + PG, 4 * PG), 0);
	assert_ret(map_count(e->p), 2);
	assert_ret(vm_size(e->p), 2 * PG);
	for (uint64_t i = 1; i < 5; i++)
		LOAD_FAULTS(e->p, a + i * PG, UM_SEGV_MAPERR);
	assert_ret(LOAD(e->p, a), 0x300);
	assert_ret(LOAD(e->p, a + 5 * PG), 0x305);
	finish(e);
}

static void munmap_range_with_holes_removes_every_mapping(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = 0x10000000;
	assert_ret(mmap_anon(e->p, a, PG, RW, UM_MAP_PRIVATE | UM_MAP_FIXED), a);
	assert_ret(mmap_anon(e->p, a + 2 * PG, 2 * PG, RW, UM_MAP_SHARED | UM_MAP_FIXED), a + 2 * PG);
	assert_ret(mmap_anon(e->p, a + 6 * PG, PG, UM_PROT_READ, UM_MAP_PRIVATE | UM_MAP_FIXED),
		   a + 6 * PG);
	STORE(e->p, a, 1);
	STORE(e->p, a + 3 * PG, 2);
	assert_ret(LOAD(e->p, a + 6 * PG), 0);
	assert_ret(map_count(e->p), 3);
	assert_ret(um_munmap(e->p, a - 2 * PG, 10 * PG), 0);
	assert_ret(map_count(e->p), 0);
	assert_ret(vm_size(e->p), 0);
	assert_ret(frames_used(e->sys), 0);
	LOAD_FAULTS(e->p, a, UM_SEGV_MAPERR);
	LOAD_FAULTS(e->p, a + 3 * PG, UM_SEGV_MAPERR);
	finish(e);
}

static void munmap_then_mmap_reads_zero(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 2, RW, AP);
	STORE(e->p, a + 8, 0xdeadbeef);
	assert_ret(um_munmap(e->p, a, 2 * PG), 0);
	assert_ret(um_mmap(e->p, 0, 2 * PG, RW, AP, -1, 0), a);
	assert_ret(LOAD(e->p, a + 8), 0);
	finish(e);
}

/* ----------------------------------------------------------- mprotect */

static void mprotect_unaligned_einval(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 2, RW, AP);
	assert_ret(um_mprotect(e->p, a + 1, PG, UM_PROT_READ), -EINVAL);
	assert_ret(um_mprotect(e->p, a + 1, 0, UM_PROT_READ), -EINVAL);
	/* an unaligned address is EINVAL even where nothing is mapped */
	assert_ret(um_mprotect(e->p, 0x10000001, PG, UM_PROT_READ), -EINVAL);
	STORE(e->p, a, 1);
	assert_ret(map_count(e->p), 1);
	finish(e);
}

static void mprotect_zero_length_returns_zero(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 2, RW, AP);
	assert_ret(um_mprotect(e->p, a, 0, UM_PROT_NONE), 0);
	assert_ret(um_mprotect(e->p, 0x10000000, 0, UM_PROT_NONE), 0); /* unmapped */
	STORE(e->p, a, 1);
	assert_ret(map_count(e->p), 1);
	finish(e);
}

static void mprotect_unmapped_range_enomem(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 2, RW, AP);
	assert_ret(um_mprotect(e->p, 0x100000, PG, UM_PROT_READ), -ENOMEM);
	assert_ret(um_mprotect(e->p, a, UINT64_MAX, UM_PROT_READ), -ENOMEM);
	assert_ret(um_mprotect(e->p, TASK_SIZE, PG, UM_PROT_READ), -ENOMEM);
	assert_ret(um_mprotect(e->p, 0x800000000000ULL, PG, UM_PROT_READ), -ENOMEM);
	STORE(e->p, a, 1); /* still writable */
	assert_ret(map_count(e->p), 1);
	finish(e);
}

static void mprotect_unknown_prot_bits_einval(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 2, RW, AP);
	assert_ret(um_mprotect(e->p, a, PG, UM_PROT_READ | 0x10), -EINVAL);
	assert_ret(um_mprotect(e->p, a, PG, UM_PROT_READ | UM_PROT_GROWSDOWN | UM_PROT_GROWSUP),
		   -EINVAL);
	/* x86-64 has no VM_GROWSUP; the mapping is not MAP_GROWSDOWN */
	assert_ret(um_mprotect(e->p, a, PG, UM_PROT_READ | UM_PROT_GROWSUP), -EINVAL);
	assert_ret(um_mprotect(e->p, a, PG, UM_PROT_READ | UM_PROT_GROWSDOWN), -EINVAL);
	STORE(e->p, a, 1);
	assert_ret(map_count(e->p), 1);
	finish(e);
}

/*
 * before:  AAAA (rw)
 * middle:  ArrA  -> 3 VMAs
 * back:    AAAA  -> 1 VMA
 */
static void mprotect_middle_splits_and_remerges(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 4, RW, AP);
	FILL_PAGES(e->p, a, 4, 0x400);
	assert_ret(um_mprotect(e->p, a + PG, 2 * PG, UM_PROT_READ), 0);
	assert_ret(map_count(e->p), 3);
	assert_ret(vm_size(e->p), 4 * PG);
	STORE_FAULTS(e->p, a + PG + 7, UM_SEGV_ACCERR);
	STORE_FAULTS(e->p, a + 3 * PG - 1, UM_SEGV_ACCERR);
	assert_ret(LOAD(e->p, a + PG), 0x401);
	assert_ret(LOAD(e->p, a + 2 * PG), 0x402);
	STORE(e->p, a, 0x500);
	STORE(e->p, a + 3 * PG, 0x503);
	assert_ret(um_mprotect(e->p, a + PG, 2 * PG, RW), 0);
	assert_ret(map_count(e->p), 1);
	STORE(e->p, a + PG, 0x501);
	assert_ret(LOAD(e->p, a + PG), 0x501);
	assert_ret(LOAD(e->p, a + 2 * PG), 0x402);
	assert_ret(LOAD(e->p, a + 3 * PG), 0x503);
	finish(e);
}

static void mprotect_head_and_tail_split_in_two(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 4, RW, AP);
	assert_ret(um_mprotect(e->p, a, PG, UM_PROT_READ), 0);
	assert_ret(map_count(e->p), 2);
	assert_ret(um_mprotect(e->p, a + 3 * PG, PG, UM_PROT_READ), 0);
	assert_ret(map_count(e->p), 3);
	/* the whole range at once: one VMA again */
	assert_ret(um_mprotect(e->p, a, 4 * PG, UM_PROT_READ), 0);
	assert_ret(map_count(e->p), 1);
	STORE_FAULTS(e->p, a + 2 * PG, UM_SEGV_ACCERR);
	finish(e);
}

static void mprotect_length_rounded_up(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 2, RW, AP);
	assert_ret(um_mprotect(e->p, a, 1, UM_PROT_READ), 0);
	assert_ret(map_count(e->p), 2);
	STORE_FAULTS(e->p, a + PG - 1, UM_SEGV_ACCERR);
	STORE(e->p, a + PG, 1);
	finish(e);
}

/*
 * before:  AA.B     mprotect [a, a+4PG) read-only
 * after:   rr.B     -ENOMEM, but A already changed (Linux is not atomic)
 */
static void mprotect_over_hole_enomem_after_changing_part_before(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 4, RW, AP);
	assert_ret(um_munmap(e->p, a + 2 * PG, PG), 0);
	assert_ret(um_mprotect(e->p, a, 4 * PG, UM_PROT_READ), -ENOMEM);
	STORE_FAULTS(e->p, a, UM_SEGV_ACCERR);
	STORE_FAULTS(e->p, a + PG, UM_SEGV_ACCERR);
	STORE(e->p, a + 3 * PG, 1);
	assert_ret(LOAD(e->p, a + 3 * PG), 1);
	assert_ret(map_count(e->p), 2);
	finish(e);
}

static void mprotect_starting_in_hole_enomem_changes_nothing(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 4, RW, AP);
	assert_ret(um_munmap(e->p, a + 2 * PG, PG), 0);
	assert_ret(um_mprotect(e->p, a + 2 * PG, 2 * PG, UM_PROT_NONE), -ENOMEM);
	STORE(e->p, a + 3 * PG, 1);
	assert_ret(map_count(e->p), 2);
	finish(e);
}

static void mprotect_past_end_of_mapping_enomem_after_changing_it(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 2, RW, AP);
	assert_ret(um_mprotect(e->p, a, 3 * PG, UM_PROT_READ), -ENOMEM);
	STORE_FAULTS(e->p, a, UM_SEGV_ACCERR);
	STORE_FAULTS(e->p, a + PG, UM_SEGV_ACCERR);
	assert_ret(um_mprotect(e->p, a, 2 * PG, RW), 0);
	assert_ret(um_mprotect(e->p, a + PG, 2 * PG, UM_PROT_READ), -ENOMEM);
	STORE(e->p, a, 1);
	STORE_FAULTS(e->p, a + PG, UM_SEGV_ACCERR);
	assert_ret(map_count(e->p), 2);
	finish(e);
}

static void mprotect_prot_none_is_guard_page(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 3, RW, AP);
	STORE(e->p, a + PG + 8, 77); /* populated before it is guarded */
	assert_ret(um_mprotect(e->p, a + PG, PG, UM_PROT_NONE), 0);
	assert_ret(map_count(e->p), 3);
	LOAD_FAULTS(e->p, a + PG, UM_SEGV_ACCERR);
	LOAD_FAULTS(e->p, a + PG + 8, UM_SEGV_ACCERR);
	STORE_FAULTS(e->p, a + 2 * PG - 1, UM_SEGV_ACCERR);
	assert_ret(LOAD(e->p, a), 0);
	assert_ret(LOAD(e->p, a + 2 * PG), 0);
	/* a PROT_NONE mapping made by mmap */
	assert_ret(um_mmap(e->p, 0, PG, UM_PROT_NONE, AP, -1, 0), a - PG);
	LOAD_FAULTS(e->p, a - PG + 100, UM_SEGV_ACCERR);
	STORE_FAULTS(e->p, a - PG + 100, UM_SEGV_ACCERR);
	/* the guard page kept its contents */
	assert_ret(um_mprotect(e->p, a + PG, PG, UM_PROT_READ), 0);
	assert_ret(LOAD(e->p, a + PG + 8), 77);
	finish(e);
}

static void mprotect_read_only_store_accerr(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 1, RW, AP);
	STORE(e->p, a + 24, 0x1234);
	assert_ret(um_mprotect(e->p, a, PG, UM_PROT_READ), 0);
	assert_ret(LOAD(e->p, a + 24), 0x1234);
	STORE_FAULTS(e->p, a + 24, UM_SEGV_ACCERR);
	assert_ret(LOAD(e->p, a + 24), 0x1234); /* the faulting store stored nothing */
	/* never-touched read-only page */
	assert_ret(um_mmap(e->p, 0, PG, UM_PROT_READ, AP, -1, 0), a - PG);
	assert_ret(LOAD(e->p, a - PG + 40), 0);
	STORE_FAULTS(e->p, a - PG + 40, UM_SEGV_ACCERR);
	finish(e);
}

static void prot_write_implies_read(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 1, UM_PROT_WRITE, AP);
	assert_ret(LOAD(e->p, a + 8), 0);
	STORE(e->p, a + 8, 99);
	assert_ret(LOAD(e->p, a + 8), 99);
	assert_ret(um_mmap(e->p, 0, PG, RW, AP, -1, 0), a - PG);
	STORE(e->p, a - PG, 7);
	assert_ret(um_mprotect(e->p, a - PG, PG, UM_PROT_WRITE), 0);
	assert_ret(LOAD(e->p, a - PG), 7);
	finish(e);
}

/* ------------------------------------------------------ max_map_count */

#define LIMIT 10
#define SINGLES 0x100000000ULL /* single pages, two apart: one VMA each */
#define TARGETS 0x200000000ULL /* 3-page mappings, four apart */

static struct env *boot_limited(void **state)
{
	struct um_config cfg;
	base_config(&cfg);
	cfg.max_map_count = LIMIT;
	return boot(state, &cfg);
}

/* n 3-page mappings to split, then single pages up to map_count == total. */
static void fill(struct env *e, unsigned targets, uint64_t total)
{
	for (unsigned i = 0; i < targets; i++) {
		uint64_t t = TARGETS + i * 4 * PG;
		assert_ret(mmap_anon(e->p, t, 3 * PG, RW, UM_MAP_PRIVATE | UM_MAP_FIXED_NOREPLACE), t);
		for (uint64_t j = 0; j < 3; j++)
			STORE(e->p, t + j * PG, 0x600 + j);
	}
	for (uint64_t i = 0; map_count(e->p) < total; i++) {
		uint64_t s = SINGLES + i * 2 * PG;
		assert_ret(mmap_anon(e->p, s, PG, RW, UM_MAP_PRIVATE | UM_MAP_FIXED_NOREPLACE), s);
	}
	assert_ret(map_count(e->p), total);
}

static void assert_target_intact(struct env *e, unsigned i)
{
	uint64_t t = TARGETS + i * 4 * PG;
	for (uint64_t j = 0; j < 3; j++) {
		assert_ret(LOAD(e->p, t + j * PG), 0x600 + j);
		STORE(e->p, t + j * PG + 8, 1); /* still writable */
	}
}

/*
 * Linux 6.18 refuses a new mapping only once map_count is already above
 * max_map_count (do_mmap: map_count > sysctl_max_map_count), so a process
 * reaches max_map_count + 1 VMAs: with the limit at 65530, the 65531st
 * mmap succeeds and the next one fails.
 */
static void mmap_beyond_max_map_count_enomem(void **state)
{
	struct env *e = boot_limited(state);
	for (uint64_t i = 0; i < LIMIT + 1; i++) {
		uint64_t s = SINGLES + i * 2 * PG;
		assert_ret(mmap_anon(e->p, s, PG, RW, UM_MAP_PRIVATE | UM_MAP_FIXED_NOREPLACE), s);
	}
	assert_ret(map_count(e->p), LIMIT + 1);
	assert_ret(um_mmap(e->p, 0, PG, RW, AP, -1, 0), -ENOMEM);
	assert_ret(um_mmap(e->p, 0, PG, RW, AS, -1, 0), -ENOMEM);
	assert_ret(mmap_anon(e->p, 0x300000000ULL, PG, RW, UM_MAP_PRIVATE | UM_MAP_FIXED), -ENOMEM);
	assert_ret(map_count(e->p), LIMIT + 1);
	assert_ret(vm_size(e->p), (LIMIT + 1) * PG);
	/* one fewer VMA: mmap works again */
	assert_ret(um_munmap(e->p, SINGLES, PG), 0);
	assert_ret(um_mmap(e->p, 0, PG, RW, AP, -1, 0), BASE - PG);
	finish(e);
}

static void mmap_merging_with_neighbour_succeeds_at_max_map_count(void **state)
{
	struct env *e = boot_limited(state);
	fill(e, 1, LIMIT);
	/* right after the target, same attributes: it grows, no new VMA */
	assert_ret(mmap_anon(e->p, TARGETS + 3 * PG, PG, RW, UM_MAP_PRIVATE | UM_MAP_FIXED),
		   TARGETS + 3 * PG);
	assert_ret(map_count(e->p), LIMIT);
	/* right before the first single page */
	assert_ret(mmap_anon(e->p, SINGLES - PG, PG, RW, UM_MAP_PRIVATE | UM_MAP_FIXED_NOREPLACE),
		   SINGLES - PG);
	assert_ret(map_count(e->p), LIMIT);
	STORE(e->p, TARGETS + 3 * PG, 1);
	STORE(e->p, SINGLES - PG, 1);
	finish(e);
}

/* Linux: once above the limit, even a mapping that would merge fails. */
static void mmap_merging_fails_once_max_map_count_exceeded(void **state)
{
	struct env *e = boot_limited(state);
	fill(e, 1, LIMIT + 1);
	assert_ret(mmap_anon(e->p, TARGETS + 3 * PG, PG, RW, UM_MAP_PRIVATE | UM_MAP_FIXED),
		   -ENOMEM);
	assert_ret(map_count(e->p), LIMIT + 1);
	LOAD_FAULTS(e->p, TARGETS + 3 * PG, UM_SEGV_MAPERR);
	finish(e);
}

static void munmap_split_at_max_map_count_enomem(void **state)
{
	struct env *e = boot_limited(state);
	fill(e, 1, LIMIT);
	assert_ret(um_munmap(e->p, TARGETS + PG, PG), -ENOMEM);
	assert_ret(map_count(e->p), LIMIT);
	assert_target_intact(e, 0);
	/* shrinking needs no new VMA: fine at the limit */
	assert_ret(um_munmap(e->p, TARGETS + 2 * PG, PG), 0);
	assert_ret(map_count(e->p), LIMIT);
	assert_ret(um_munmap(e->p, TARGETS, PG), 0);
	assert_ret(map_count(e->p), LIMIT);
	assert_ret(LOAD(e->p, TARGETS + PG), 0x601);
	finish(e);
}

static void munmap_head_or_tail_succeeds_above_max_map_count(void **state)
{
	struct env *e = boot_limited(state);
	fill(e, 1, LIMIT + 1);
	assert_ret(um_munmap(e->p, TARGETS + PG, PG), -ENOMEM);
	assert_ret(um_munmap(e->p, TARGETS + 2 * PG, PG), 0);
	assert_ret(um_munmap(e->p, TARGETS, PG), 0);
	assert_ret(map_count(e->p), LIMIT + 1);
	assert_ret(vm_size(e->p), LIMIT * PG + PG);
	finish(e);
}

static void mprotect_split_at_max_map_count_enomem(void **state)
{
	struct env *e = boot_limited(state);
	fill(e, 1, LIMIT);
	assert_ret(um_mprotect(e->p, TARGETS + PG, PG, UM_PROT_READ), -ENOMEM);
	assert_ret(um_mprotect(e->p, TARGETS + 2 * PG, PG, UM_PROT_READ), -ENOMEM);
	assert_ret(um_mprotect(e->p, TARGETS, PG, UM_PROT_READ), -ENOMEM);
	assert_ret(map_count(e->p), LIMIT);
	assert_target_intact(e, 0);
	/* the whole VMA needs no split */
	assert_ret(um_mprotect(e->p, TARGETS, 3 * PG, UM_PROT_READ), 0);
	assert_ret(map_count(e->p), LIMIT);
	STORE_FAULTS(e->p, TARGETS + PG, UM_SEGV_ACCERR);
	finish(e);
}

/*
 * One below the limit, protecting the middle needs two splits: Linux makes
 * the first, fails the second with ENOMEM and leaves the VMA split in two,
 * both parts with the old protection.
 */
static void mprotect_middle_one_below_max_map_count_enomem_after_one_split(void **state)
{
	struct env *e = boot_limited(state);
	fill(e, 1, LIMIT - 1);
	assert_ret(um_mprotect(e->p, TARGETS + PG, PG, UM_PROT_READ), -ENOMEM);
	assert_target_intact(e, 0);
	assert_ret(map_count(e->p), LIMIT);
	finish(e);
}

static void mmap_fixed_split_at_max_map_count_enomem(void **state)
{
	struct env *e = boot_limited(state);
	fill(e, 1, LIMIT);
	assert_ret(mmap_anon(e->p, TARGETS + PG, PG, UM_PROT_READ, UM_MAP_PRIVATE | UM_MAP_FIXED),
		   -ENOMEM);
	assert_ret(mmap_anon(e->p, TARGETS + PG, PG, RW, UM_MAP_PRIVATE | UM_MAP_FIXED), -ENOMEM);
	assert_ret(map_count(e->p), LIMIT);
	assert_target_intact(e, 0);
	finish(e);
}

/* ---------------------------------------------------- debug builds */

/*
 * The library the tests link is built with UM_DEBUG: a change to an mm
 * whose counts no longer match its VMAs aborts at the change's end
 * (validate_mm), before anything else can build on the broken state.
 */
static void a_change_to_a_broken_mm_aborts_in_debug_builds(void **state)
{
	struct env *e = boot_default(state);
	int status;
	pid_t pid;

	assert_true(mmap_anon(e->p, 0, 4 * PG, RW, UM_MAP_PRIVATE) > 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		e->p->mm->total_vm++;
		mmap_anon(e->p, 0, PG, RW, UM_MAP_PRIVATE);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
	finish(e);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, env_setup, env_teardown)
	const struct CMUnitTest tests[] = {
		T(a_change_to_a_broken_mm_aborts_in_debug_builds),
		T(mmap_zero_length_einval),
		T(mmap_unaligned_offset_einval),
		T(mmap_anonymous_ignores_aligned_offset),
		T(mmap_without_shared_or_private_einval),
		T(mmap_shared_validate_anonymous_einval),
		T(mmap_shared_validate_anonymous_unknown_flag_einval),
		T(mmap_unknown_flags_ignored_without_shared_validate),
		T(mmap_shared_anonymous_growsdown_einval),
		T(mmap_bad_fd_without_anonymous_ebadf),
		T(mmap_fixed_unaligned_einval),
		T(mmap_fixed_noreplace_unaligned_einval),
		T(mmap_fixed_noreplace_over_mapping_eexist),
		T(mmap_fixed_noreplace_into_free_range_maps_it),
		T(mmap_fixed_replaces_old_pages),
		T(mmap_null_places_top_down_from_mmap_base),
		T(mmap_hint_used_when_free),
		T(mmap_unaligned_hint_rounded_down),
		T(mmap_hint_ignored_when_occupied),
		T(mmap_hint_beyond_user_space_ignored),
		T(mmap_length_rounded_up_to_pages),
		T(mmap_overflowing_length_enomem),
		T(mmap_fixed_beyond_user_space_enomem),
		T(mmap_fixed_last_user_page_succeeds),
		T(mmap_fixed_below_mmap_min_addr_eperm),
		T(munmap_unaligned_einval),
		T(munmap_zero_length_einval),
		T(munmap_beyond_user_space_einval),
		T(munmap_empty_range_returns_zero),
		T(munmap_middle_splits_mapping),
		T(munmap_head_and_tail_shrink_mapping),
		T(munmap_length_rounded_up),
		T(munmap_range_over_several_mappings_removes_all),
		T(munmap_range_with_holes_removes_every_mapping),
		T(munmap_then_mmap_reads_zero),
		T(mprotect_unaligned_einval),
		T(mprotect_zero_length_returns_zero),
		T(mprotect_unmapped_range_enomem),
		T(mprotect_unknown_prot_bits_einval),
		T(mprotect_middle_splits_and_remerges),
		T(mprotect_head_and_tail_split_in_two),
		T(mprotect_length_rounded_up),
		T(mprotect_over_hole_enomem_after_changing_part_before),
		T(mprotect_starting_in_hole_enomem_changes_nothing),
		T(mprotect_past_end_of_mapping_enomem_after_changing_it),
		T(mprotect_prot_none_is_guard_page),
		T(mprotect_read_only_store_accerr),
		T(prot_write_implies_read),
		T(mmap_beyond_max_map_count_enomem),
		T(mmap_merging_with_neighbour_succeeds_at_max_map_count),
		T(mmap_merging_fails_once_max_map_count_exceeded),
		T(munmap_split_at_max_map_count_enomem),
		T(munmap_head_or_tail_succeeds_above_max_map_count),
		T(mprotect_split_at_max_map_count_enomem),
		T(mprotect_middle_one_below_max_map_count_enomem_after_one_split),
		T(mmap_fixed_split_at_max_map_count_enomem),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
