/*
 * The VMA tree (vma.c), tested from inside: insertion, removal, bounds
 * changes and the top-down gap search, against a plain sorted array that
 * is obviously right. Drawings show the address space in pages:
 * letters are VMAs, dots are free.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vma.h"

#define P 4096ULL

static struct vma *mk(uint64_t start_pg, uint64_t end_pg)
{
	struct vma *v = calloc(1, sizeof(*v));

	v->vm_start = start_pg * P;
	v->vm_end = end_pg * P;
	return v;
}

static void check(const struct vma_tree *t)
{
	char why[256] = "";
	int err = vma_tree_check(t, why, sizeof(why));

	if (err)
		fail_msg("vma_tree_check: %s", why);
}

static void free_all(struct vma_tree *t)
{
	while (t->first) {
		struct vma *v = t->first;

		vma_remove(t, v);
		free(v);
	}
}

/*   ..AA..BBB...C   find_vma answers with the first VMA ending above addr. */
static void find_returns_first_vma_ending_above(void **state)
{
	struct vma_tree t;
	struct vma *a = mk(2, 4), *b = mk(6, 9), *c = mk(12, 13);

	(void)state;
	vma_tree_init(&t);
	vma_insert(&t, b);
	vma_insert(&t, c);
	vma_insert(&t, a);
	check(&t);
	assert_ptr_equal(vma_find(&t, 0), a);
	assert_ptr_equal(vma_find(&t, 2 * P), a);
	assert_ptr_equal(vma_find(&t, 4 * P), b);
	assert_ptr_equal(vma_find(&t, 8 * P + 100), b);
	assert_ptr_equal(vma_find(&t, 9 * P), c);
	assert_null(vma_find(&t, 13 * P));
	assert_null(vma_lookup(&t, 5 * P));
	assert_ptr_equal(vma_lookup(&t, 12 * P), c);
	assert_ptr_equal(t.first, a);
	assert_ptr_equal(t.last, c);
	assert_ptr_equal(a->next, b);
	assert_ptr_equal(c->prev, b);
	assert_true(vma_range_free(&t, 4 * P, 6 * P));
	assert_false(vma_range_free(&t, 4 * P, 7 * P));
	free_all(&t);
}

/*   ..AA..BBB...C   with high at page 14: the top-down search takes the highest fit. */
static void gap_topdown_takes_highest_fit(void **state)
{
	struct vma_tree t;

	(void)state;
	vma_tree_init(&t);
	vma_insert(&t, mk(2, 4));
	vma_insert(&t, mk(6, 9));
	vma_insert(&t, mk(12, 13));
	check(&t);
	assert_int_equal(vma_gap_topdown(&t, P, P, 14 * P), 13 * P);
	assert_int_equal(vma_gap_topdown(&t, P, P, 13 * P), 11 * P);
	assert_int_equal(vma_gap_topdown(&t, 3 * P, P, 14 * P), 9 * P);
	assert_int_equal(vma_gap_topdown(&t, 2 * P, P, 12 * P), 10 * P);
	assert_int_equal(vma_gap_topdown(&t, 2 * P, P, 9 * P), 4 * P);
	/* Only [1, 2) and [0, 2) below A: low bounds it. */
	assert_int_equal(vma_gap_topdown(&t, P, P, 3 * P), P);
	assert_int_equal(vma_gap_topdown(&t, 2 * P, P, 3 * P), 0);
	assert_int_equal(vma_gap_topdown(&t, 4 * P, P, 14 * P), 0);
	free_all(&t);
}

/* A random model: insert, remove, shrink; after each, the tree and a brute force agree. */
struct model {
	uint8_t used[512];
};

static uint64_t brute_topdown(const struct model *m, uint64_t len, uint64_t low, uint64_t high)
{
	for (uint64_t a = high - len; a + 1 > low && a + len <= high; a--) {
		uint64_t i;

		for (i = a; i < a + len && !m->used[i]; i++)
			;
		if (i == a + len)
			return a;
		if (a == 0)
			break;
	}
	return UINT64_MAX;
}

static void random_ops_agree_with_brute_force(void **state)
{
	struct vma_tree t;
	struct model m;
	unsigned seed = 12345;

	(void)state;
	vma_tree_init(&t);
	memset(&m, 0, sizeof(m));
	for (int step = 0; step < 20000; step++) {
		unsigned op = rand_r(&seed) % 3;
		uint64_t s = rand_r(&seed) % 500 + 1, len = rand_r(&seed) % 8 + 1, e = s + len;

		if (op == 0 && e <= 512) {
			uint64_t i;

			for (i = s; i < e && !m.used[i]; i++)
				;
			if (i == e) {
				vma_insert(&t, mk(s, e));
				memset(&m.used[s], 1, len);
			}
		} else if (op == 1) {
			struct vma *v = vma_find(&t, s * P);

			if (v) {
				memset(&m.used[v->vm_start / P], 0, (v->vm_end - v->vm_start) / P);
				vma_remove(&t, v);
				free(v);
			}
		} else {
			struct vma *v = vma_find(&t, s * P);

			if (v && v->vm_end - v->vm_start > P) {
				/* shrink from one end, as a partial munmap does */
				if (rand_r(&seed) & 1) {
					m.used[v->vm_start / P] = 0;
					v->vm_start += P;
				} else {
					m.used[v->vm_end / P - 1] = 0;
					v->vm_end -= P;
				}
				vma_bounds_changed(&t, v);
			}
		}
		if (step % 64 == 0)
			check(&t);
		{
			uint64_t want = rand_r(&seed) % 12 + 1, lo = rand_r(&seed) % 100 + 1;
			uint64_t hi = lo + rand_r(&seed) % 420 + want;
			uint64_t got, exp;

			if (hi > 512)
				hi = 512;
			got = vma_gap_topdown(&t, want * P, lo * P, hi * P);
			exp = brute_topdown(&m, want, lo, hi);
			assert_int_equal(got, exp == UINT64_MAX ? 0 : exp * P);
		}
	}
	check(&t);
	free_all(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(find_returns_first_vma_ending_above),
		cmocka_unit_test(gap_topdown_takes_highest_fit),
		cmocka_unit_test(random_ops_agree_with_brute_force),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
