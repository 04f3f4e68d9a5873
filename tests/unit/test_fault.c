/*
 * The software MMU's answers: which signal, which si_code and which si_addr
 * an access outside a mapping or against its protection reports, what an
 * unaligned access across a page boundary does, copies that stop at a
 * fault, zero-filled fresh pages, and host pointers from um_translate.
 *
 * The fault addresses follow x86-64 Linux (checked with a SIGSEGV handler
 * on Linux 6.18): si_addr is the first byte of the access that lies in the
 * faulting page, so an 8-byte access at page_end - 4 that runs into an
 * unmapped page reports page_end, and the faulting store writes nothing.
 */
#include "harness.h"

/* Accesses of any width; the faulting ones name the address they report. */
#define LOAD(p, a, size) load_ok(p, a, size, __LINE__)
#define STORE(p, a, size, v) store_ok(p, a, size, v, __LINE__)
#define LOAD_FAULTS(p, a, size, code, at) assert_load_fault(p, a, size, UM_SIGSEGV, code, at)
#define STORE_FAULTS(p, a, size, code, at) assert_store_fault(p, a, size, UM_SIGSEGV, code, at)

static const unsigned sizes[] = { 1, 2, 4, 8 };

/* ------------------------------------------------- outside mappings */

static void load_outside_mappings_segv_maperr(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 2, RW, AP);
	const uint64_t addrs[] = { 0, 0x10, 65536, 0x10000000, a - PG, a - 1 - 7, BASE, BASE + 123,
				   TASK_SIZE - PG };
	for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++)
		for (size_t s = 0; s < 4; s++)
			LOAD_FAULTS(e->p, addrs[i], sizes[s], UM_SEGV_MAPERR, addrs[i]);
	/* an empty process faults everywhere too */
	struct um_proc *q = new_proc(e);
	LOAD_FAULTS(q, a, 8, UM_SEGV_MAPERR, a);
	um_exit(q);
	finish(e);
}

static void store_outside_mappings_segv_maperr(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 2, RW, AP);
	const uint64_t addrs[] = { 0, 0x18, 65536, 0x10000000, a - PG, a - 8, BASE, BASE + 4000,
				   TASK_SIZE - 8 };
	for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++)
		for (size_t s = 0; s < 4; s++)
			STORE_FAULTS(e->p, addrs[i], sizes[s], UM_SEGV_MAPERR, addrs[i]);
	assert_ret(frames_used(e->sys), 0);
	finish(e);
}

static void faulting_access_with_null_siginfo_returns_efault(void **state)
{
	struct env *e = boot_default(state);
	uint64_t v = 0;
	assert_ret(um_load(e->p, 0x10000000, 8, &v, NULL), -EFAULT);
	assert_ret(um_store(e->p, 0x10000000, 8, 1, NULL), -EFAULT);
	finish(e);
}

static void access_after_munmap_segv_maperr(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 2, RW, AP);
	STORE(e->p, a + 64, 8, 1234); /* the translation is now cached */
	assert_ret(LOAD(e->p, a + 64, 8), 1234);
	STORE(e->p, a + PG, 8, 5678);
	assert_ret(um_munmap(e->p, a, 2 * PG), 0);
	LOAD_FAULTS(e->p, a + 64, 8, UM_SEGV_MAPERR, a + 64);
	STORE_FAULTS(e->p, a + 64, 4, UM_SEGV_MAPERR, a + 64);
	LOAD_FAULTS(e->p, a + PG, 1, UM_SEGV_MAPERR, a + PG);
	STORE_FAULTS(e->p, a + PG + 1, 2, UM_SEGV_MAPERR, a + PG + 1);
	assert_ret(frames_used(e->sys), 0);
	finish(e);
}

static void prot_none_access_segv_accerr(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 1, UM_PROT_NONE, AP);
	for (size_t s = 0; s < 4; s++) {
		LOAD_FAULTS(e->p, a + 100, sizes[s], UM_SEGV_ACCERR, a + 100);
		STORE_FAULTS(e->p, a + PG - sizes[s], sizes[s], UM_SEGV_ACCERR, a + PG - sizes[s]);
	}
	finish(e);
}

/*
 * Above user space (checked on Linux 6.18 x86-64 with a SIGSEGV handler):
 * canonical kernel-half addresses fault like unmapped memory (SEGV_MAPERR
 * at the address); non-canonical ones raise #GP, which Linux reports as
 * SIGSEGV with si_code UM_SI_KERNEL and si_addr 0 -- also for an access that
 * starts in the last user page and runs past 0x800000000000.
 */

static void access_to_kernel_half_segv_maperr(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t addrs[] = { TASK_SIZE, TASK_SIZE + PG - 8, 0xffff800000000000ULL,
				   0xffffffffff600000ULL, 0xfffffffffffff000ULL };
	for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
		LOAD_FAULTS(e->p, addrs[i], 8, UM_SEGV_MAPERR, addrs[i]);
		STORE_FAULTS(e->p, addrs[i], 8, UM_SEGV_MAPERR, addrs[i]);
	}
	finish(e);
}

static void access_to_noncanonical_address_segv_si_kernel(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t addrs[] = { 0x800000000000ULL, 0x8000000000000000ULL, 0x0001000000000000ULL,
				   0xfff0000000000000ULL };
	for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
		LOAD_FAULTS(e->p, addrs[i], 8, UM_SI_KERNEL, 0);
		STORE_FAULTS(e->p, addrs[i], 1, UM_SI_KERNEL, 0);
	}
	/* from the last page of the lower half into the hole */
	LOAD_FAULTS(e->p, TASK_SIZE + PG - 4, 8, UM_SI_KERNEL, 0);
	STORE_FAULTS(e->p, TASK_SIZE + PG - 1, 2, UM_SI_KERNEL, 0);
	finish(e);
}

/* ------------------------------------------------ unaligned accesses */

/*
 *   a            a+PG
 *   [ mapped    ][ unmapped ]
 *            ^^^^^^^^ 8 bytes at a+PG-4
 */
static void unaligned_load_straddling_into_unmapped_page_faults_at_its_first_byte(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 1, RW, AP);
	STORE(e->p, a + PG - 8, 8, 0x1111111111111111ULL);
	LOAD_FAULTS(e->p, a + PG - 4, 8, UM_SEGV_MAPERR, a + PG);
	LOAD_FAULTS(e->p, a + PG - 1, 2, UM_SEGV_MAPERR, a + PG);
	LOAD_FAULTS(e->p, a + PG - 3, 4, UM_SEGV_MAPERR, a + PG);
	LOAD_FAULTS(e->p, a + PG - 7, 8, UM_SEGV_MAPERR, a + PG);
	/* the other way round: the first bytes are the unmapped ones */
	LOAD_FAULTS(e->p, a - 2, 4, UM_SEGV_MAPERR, a - 2);
	LOAD_FAULTS(e->p, a - 1, 8, UM_SEGV_MAPERR, a - 1);
	finish(e);
}

static void unaligned_store_straddling_into_unmapped_page_stores_nothing(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 1, RW, AP);
	STORE(e->p, a + PG - 8, 8, 0x1111111111111111ULL);
	STORE_FAULTS(e->p, a + PG - 4, 8, UM_SEGV_MAPERR, a + PG);
	STORE_FAULTS(e->p, a + PG - 1, 2, UM_SEGV_MAPERR, a + PG);
	STORE_FAULTS(e->p, a + PG - 2, 4, UM_SEGV_MAPERR, a + PG);
	assert_ret(LOAD(e->p, a + PG - 8, 8), 0x1111111111111111ULL);
	STORE(e->p, a, 8, 0x2222222222222222ULL);
	STORE_FAULTS(e->p, a - 3, 8, UM_SEGV_MAPERR, a - 3);
	assert_ret(LOAD(e->p, a, 8), 0x2222222222222222ULL);
	finish(e);
}

static void unaligned_store_straddling_into_read_only_page_segv_accerr(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 2, RW, AP);
	STORE(e->p, a + PG - 8, 8, 0x3333333333333333ULL);
	STORE(e->p, a + PG, 8, 0x4444444444444444ULL);
	assert_ret(um_mprotect(e->p, a + PG, PG, UM_PROT_READ), 0);
	STORE_FAULTS(e->p, a + PG - 4, 8, UM_SEGV_ACCERR, a + PG);
	assert_ret(LOAD(e->p, a + PG - 8, 8), 0x3333333333333333ULL);
	assert_ret(LOAD(e->p, a + PG, 8), 0x4444444444444444ULL);
	/* the load is allowed */
	assert_ret(LOAD(e->p, a + PG - 4, 8), 0x4444444433333333ULL);
	assert_ret(um_mprotect(e->p, a + PG, PG, UM_PROT_NONE), 0);
	LOAD_FAULTS(e->p, a + PG - 4, 8, UM_SEGV_ACCERR, a + PG);
	finish(e);
}

static void unaligned_access_across_two_mapped_pages_works(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 2, RW, AP);
	STORE(e->p, a + PG - 3, 8, 0x0807060504030201ULL);
	assert_ret(LOAD(e->p, a + PG - 3, 8), 0x0807060504030201ULL);
	/* little-endian bytes, three in the first page, five in the second */
	assert_ret(LOAD(e->p, a + PG - 3, 1), 0x01);
	assert_ret(LOAD(e->p, a + PG - 1, 1), 0x03);
	assert_ret(LOAD(e->p, a + PG, 1), 0x04);
	assert_ret(LOAD(e->p, a + PG - 1, 2), 0x0403);
	assert_ret(LOAD(e->p, a + PG + 1, 4), 0x08070605);
	/* also across two VMAs */
	assert_ret(um_mprotect(e->p, a, PG, UM_PROT_READ | UM_PROT_WRITE | UM_PROT_EXEC), 0);
	STORE(e->p, a + PG - 2, 4, 0xa1b2c3d4);
	assert_ret(LOAD(e->p, a + PG - 2, 4), 0xa1b2c3d4);
	assert_ret(LOAD(e->p, a + PG, 2), 0xa1b2);
	finish(e);
}

/* -------------------------------------------------------------- copies */

static void copy_to_across_boundary_copies_bytes_before_fault(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 1, RW, AP);
	unsigned char src[64];
	for (size_t i = 0; i < sizeof src; i++)
		src[i] = (unsigned char)(0x80 + i);
	assert_fault(um_copy_to(e->p, a + PG - 24, src, sizeof src, &si_), UM_SIGSEGV,
		     UM_SEGV_MAPERR, a + PG);
	for (uint64_t i = 0; i < 24; i++)
		assert_ret(LOAD(e->p, a + PG - 24 + i, 1), 0x80 + i);
	/* into a read-only page */
	assert_ret(um_mmap(e->p, 0, PG, UM_PROT_READ, AP, -1, 0), a - PG);
	assert_fault(um_copy_to(e->p, a - 10, src, sizeof src, &si_), UM_SIGSEGV, UM_SEGV_ACCERR,
		     a - 10);
	assert_ret(LOAD(e->p, a - 10, 8), 0);
	assert_ret(LOAD(e->p, a, 8), 0); /* the copy stopped at a - 10: nothing reached a */
	finish(e);
}

static void copy_from_across_boundary_copies_bytes_before_fault(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 1, RW, AP);
	for (uint64_t i = 0; i < 40; i++)
		STORE(e->p, a + PG - 40 + i, 1, 0x40 + i);
	unsigned char dst[100];
	memset(dst, 0xee, sizeof dst);
	assert_fault(um_copy_from(e->p, dst, a + PG - 40, sizeof dst, &si_), UM_SIGSEGV,
		     UM_SEGV_MAPERR, a + PG);
	for (size_t i = 0; i < 40; i++)
		assert_ret(dst[i], 0x40 + i);
	/* starting in a PROT_NONE page: nothing copied */
	assert_ret(um_mprotect(e->p, a, PG, UM_PROT_NONE), 0);
	assert_fault(um_copy_from(e->p, dst, a + 8, 16, &si_), UM_SIGSEGV, UM_SEGV_ACCERR, a + 8);
	finish(e);
}

static void copy_across_pages_round_trips(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 4, RW, AP);
	size_t n = 3 * PG + 100;
	unsigned char *src = malloc(n), *dst = malloc(n);
	assert_non_null(src);
	assert_non_null(dst);
	for (size_t i = 0; i < n; i++)
		src[i] = (unsigned char)(i * 7 + 3);
	assert_ret(um_copy_to(e->p, a + 50, src, n, NULL), 0);
	memset(dst, 0, n);
	assert_ret(um_copy_from(e->p, dst, a + 50, n, NULL), 0);
	int same = memcmp(src, dst, n) == 0;
	assert_ret(LOAD(e->p, a + 50 + PG, 1), (unsigned char)(PG * 7 + 3));
	assert_ret(LOAD(e->p, a + 49, 1), 0);
	assert_ret(LOAD(e->p, a + 50 + n, 1), 0);
	int rc_to = um_copy_to(e->p, a, "", 0, NULL);
	int rc_from = um_copy_from(e->p, dst, 0x10000000, 0, NULL);
	free(src);
	free(dst);
	assert_true(same);
	assert_ret(rc_to, 0);
	assert_ret(rc_from, 0);
	finish(e);
}

/* --------------------------------------------------- fresh pages are zero */

static void fresh_anonymous_pages_read_zero(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 16, RW, AP);
	for (uint64_t i = 0; i < 16; i++)
		for (size_t s = 0; s < 4; s++)
			assert_ret(LOAD(e->p, a + i * PG + (PG / 2) + s, sizes[s]), 0);
	/* a page first written at one byte is zero elsewhere */
	STORE(e->p, a + 5, 1, 0xff);
	static unsigned char page[PG];
	assert_ret(um_copy_from(e->p, page, a, PG, NULL), 0);
	for (size_t i = 0; i < PG; i++)
		if (page[i] != (i == 5 ? 0xff : 0))
			fail_msg("byte %zu of a fresh page is %#x", i, page[i]);
	/* shared anonymous memory too */
	assert_ret(um_mmap(e->p, 0, 2 * PG, RW, UM_MAP_SHARED | UM_MAP_ANONYMOUS, -1, 0),
		   a - 2 * PG);
	assert_ret(LOAD(e->p, a - 2 * PG, 8), 0);
	STORE(e->p, a - PG + 8, 8, 1);
	assert_ret(LOAD(e->p, a - PG, 8), 0);
	finish(e);
}

/*
 * A small machine (512 frames): the first process fills 384 pages with
 * 0xa5 and exits; the second maps as many, so most of its frames are the
 * ones the first used. Every byte it reads must be zero.
 */
static void fresh_pages_after_other_process_exit_read_zero(void **state)
{
	struct um_config cfg;
	base_config(&cfg);
	cfg.phys_bytes = 512 * PG;
	struct env *e = boot(state, &cfg);
	const uint64_t n = 384;
	const uint64_t a = MAP_BELOW_BASE(e, n, RW, AP);
	static unsigned char page[PG];

	memset(page, 0xa5, sizeof page);
	for (uint64_t i = 0; i < n; i++)
		assert_ret(um_copy_to(e->p, a + i * PG, page, PG, NULL), 0);
	assert_ret(frames_used(e->sys), n);
	um_exit(e->p);
	assert_ret(frames_used(e->sys), 0);

	for (int round = 0; round < 2; round++) {
		/* round 0 writes one byte first, round 1 only reads */
		assert_ret(um_proc_new(e->sys, &e->p), 0);
		assert_ret(um_mmap(e->p, 0, n * PG, RW, AP, -1, 0), a);
		for (uint64_t i = 0; i < n; i++) {
			if (round == 0)
				STORE(e->p, a + i * PG + PG - 1, 1, 0x01);
			memset(page, 0xcc, sizeof page);
			assert_ret(um_copy_from(e->p, page, a + i * PG, PG, NULL), 0);
			for (size_t j = 0; j < PG; j++) {
				unsigned want = round == 0 && j == PG - 1 ? 1 : 0;
				if (page[j] != want)
					fail_msg("round %d page %llu byte %zu: %#x, expected %#x",
						 round, (unsigned long long)i, j, page[j], want);
			}
		}
		if (round == 0)
			assert_ret(frames_used(e->sys), n);
		/* the same process unmaps, maps again: zero again */
		assert_ret(um_munmap(e->p, a, n * PG), 0);
		assert_ret(um_mmap(e->p, 0, n * PG, RW, AP, -1, 0), a);
		assert_ret(LOAD(e->p, a + PG - 1, 1), 0);
		assert_ret(LOAD(e->p, a + 7 * PG - 8, 8), 0);
		um_exit(e->p);
		assert_ret(frames_used(e->sys), 0);
	}
	e->p = NULL;
	finish(e);
}

/* ----------------------------------------------------------- translate */

static void translate_gives_host_pointer_that_sees_stores(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 2, RW, AP);
	void *h = NULL;
	assert_ret(um_translate(e->p, a + PG + 16, 1, &h, NULL), 0);
	assert_non_null(h);
	uint64_t v = 0x0123456789abcdefULL;
	memcpy(h, &v, 8);
	assert_ret(LOAD(e->p, a + PG + 16, 8), 0x0123456789abcdefULL);
	STORE(e->p, a + PG + 24, 8, 0xfedcba9876543210ULL);
	memcpy(&v, (unsigned char *)h + 8, 8);
	assert_ret(v, 0xfedcba9876543210ULL);
	/* the pointer reaches the end of the page */
	((unsigned char *)h)[PG - 16 - 1] = 0x5a;
	assert_ret(LOAD(e->p, a + 2 * PG - 1, 1), 0x5a);
	/* a read translation of a written page sees the same bytes */
	void *r = NULL;
	assert_ret(um_translate(e->p, a + PG + 16, 0, &r, NULL), 0);
	memcpy(&v, r, 8);
	assert_ret(v, 0x0123456789abcdefULL);
	finish(e);
}

static void translate_of_untouched_page_reads_zero(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 1, RW, AP);
	void *h = NULL;
	assert_ret(um_translate(e->p, a, 0, &h, NULL), 0);
	static const unsigned char zero[PG];
	assert_true(memcmp(h, zero, PG) == 0);
	assert_ret(um_translate(e->p, a, 1, &h, NULL), 0);
	assert_true(memcmp(h, zero, PG) == 0);
	((unsigned char *)h)[100] = 7;
	assert_ret(LOAD(e->p, a + 100, 1), 7);
	finish(e);
}

static void translate_reports_faults(void **state)
{
	struct env *e = boot_default(state);
	const uint64_t a = MAP_BELOW_BASE(e, 2, UM_PROT_READ, AP);
	void *h = NULL;
	assert_fault(um_translate(e->p, a + 8, 1, &h, &si_), UM_SIGSEGV, UM_SEGV_ACCERR, a + 8);
	assert_ret(um_translate(e->p, a + 8, 0, &h, NULL), 0);
	assert_fault(um_translate(e->p, BASE + 8, 0, &h, &si_), UM_SIGSEGV, UM_SEGV_MAPERR,
		     BASE + 8);
	assert_fault(um_translate(e->p, 0, 1, &h, &si_), UM_SIGSEGV, UM_SEGV_MAPERR, 0);
	assert_ret(um_mprotect(e->p, a + PG, PG, UM_PROT_NONE), 0);
	assert_fault(um_translate(e->p, a + PG, 0, &h, &si_), UM_SIGSEGV, UM_SEGV_ACCERR, a + PG);
	finish(e);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, env_setup, env_teardown)
	const struct CMUnitTest tests[] = {
		T(load_outside_mappings_segv_maperr),
		T(store_outside_mappings_segv_maperr),
		T(faulting_access_with_null_siginfo_returns_efault),
		T(access_after_munmap_segv_maperr),
		T(prot_none_access_segv_accerr),
		T(access_to_kernel_half_segv_maperr),
		T(access_to_noncanonical_address_segv_si_kernel),
		T(unaligned_load_straddling_into_unmapped_page_faults_at_its_first_byte),
		T(unaligned_store_straddling_into_unmapped_page_stores_nothing),
		T(unaligned_store_straddling_into_read_only_page_segv_accerr),
		T(unaligned_access_across_two_mapped_pages_works),
		T(copy_to_across_boundary_copies_bytes_before_fault),
		T(copy_from_across_boundary_copies_bytes_before_fault),
		T(copy_across_pages_round_trips),
		T(fresh_anonymous_pages_read_zero),
		T(fresh_pages_after_other_process_exit_read_zero),
		T(translate_gives_host_pointer_that_sees_stores),
		T(translate_of_untouched_page_reads_zero),
		T(translate_reports_faults),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
