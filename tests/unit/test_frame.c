/*
 * The frame allocator (frame.c), from inside: frames come zeroed when asked,
 * freed frames are reused, counts stay exact, exhaustion is answered, and
 * four threads allocating and freeing at once lose nothing.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "frame.h"

static const struct page_geom geom_4k = { .shift = 12, .size = 4096, .mask = 4095 };

static void check(struct frame_pool *fp)
{
	char why[256] = "";

	if (frame_pool_check(fp, why, sizeof(why)))
		fail_msg("frame_pool_check: %s", why);
}

static void freed_frame_is_reused_and_zeroed_on_request(void **state)
{
	struct frame_pool fp;

	(void)state;
	assert_int_equal(frame_pool_init(&fp, 64 * 4096, &geom_4k, (const uint32_t[2]){ 0, 0 }), 0);
	assert_int_equal(atomic_load(&fp.nr_free), 63); /* frame 0 is the zero frame */
	uint32_t a = frame_alloc(&fp, true);
	assert_int_not_equal(a, ZERO_PFN);
	assert_int_equal(atomic_load(&pfn_frame(&fp, a)->refcount), 1);
	memset(pfn_host(&fp, a), 0xa5, 4096);
	frame_put(&fp, a);
	check(&fp);
	/* LIFO: the same frame comes back, and zero=true clears the old data. */
	uint32_t b = frame_alloc(&fp, true);
	assert_int_equal(b, a);
	for (int i = 0; i < 4096; i++)
		assert_int_equal(pfn_host(&fp, b)[i], 0);
	frame_put(&fp, b);
	check(&fp);
	frame_pool_destroy(&fp);
}

static void exhaustion_answers_frame_none(void **state)
{
	struct frame_pool fp;
	uint32_t got[8];

	(void)state;
	assert_int_equal(frame_pool_init(&fp, 8 * 4096, &geom_4k, (const uint32_t[2]){ 0, 0 }), 0);
	for (int i = 0; i < 7; i++) {
		got[i] = frame_alloc(&fp, false);
		assert_int_not_equal(got[i], FRAME_NONE);
	}
	assert_int_equal(frame_alloc(&fp, false), FRAME_NONE);
	assert_int_equal(atomic_load(&fp.nr_free), 0);
	frame_put(&fp, got[3]);
	assert_int_equal(frame_alloc(&fp, false), got[3]);
	for (int i = 0; i < 7; i++)
		frame_put(&fp, got[i]);
	assert_int_equal(atomic_load(&fp.nr_free), 7);
	check(&fp);
	frame_pool_destroy(&fp);
}

struct churn {
	struct frame_pool *fp;
	unsigned seed;
	int bad;
};

static void *churn_main(void *arg)
{
	struct churn *c = arg;
	uint32_t held[32];
	int n = 0;

	for (int i = 0; i < 200000; i++) {
		if (n < 32 && (n == 0 || rand_r(&c->seed) % 2)) {
			uint32_t pfn = frame_alloc(c->fp, false);

			if (pfn == FRAME_NONE)
				continue;
			/* A frame is ours alone: mark it and check nobody else wrote it. */
			*(uint32_t *)pfn_host(c->fp, pfn) = (uint32_t)(uintptr_t)c;
			held[n++] = pfn;
		} else {
			uint32_t pfn = held[--n];

			if (*(uint32_t *)pfn_host(c->fp, pfn) != (uint32_t)(uintptr_t)c)
				c->bad = 1;
			frame_put(c->fp, pfn);
		}
	}
	while (n)
		frame_put(c->fp, held[--n]);
	return NULL;
}

static void four_threads_churning_lose_no_frame(void **state)
{
	struct frame_pool fp;
	struct churn c[4];
	pthread_t th[4];

	(void)state;
	assert_int_equal(frame_pool_init(&fp, 256 * 4096, &geom_4k, (const uint32_t[2]){ 0, 0 }), 0);
	for (int i = 0; i < 4; i++) {
		c[i] = (struct churn){ &fp, (unsigned)i + 1, 0 };
		pthread_create(&th[i], NULL, churn_main, &c[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(c[i].bad, 0);
	}
	assert_int_equal(atomic_load(&fp.nr_free), 255);
	check(&fp);
	frame_pool_destroy(&fp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(freed_frame_is_reused_and_zeroed_on_request),
		cmocka_unit_test(exhaustion_answers_frame_none),
		cmocka_unit_test(four_threads_churning_lose_no_frame),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
