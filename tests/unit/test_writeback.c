/*
 * Write-back by age and by amount (writeback.c), on the virtual clock:
 * the dirty limits computed as Linux's domain_dirty_limits computes them
 * from the free and file LRU pages of the moment; an inode written by the
 * flusher once dirty for dirty_expire_centisecs, not before, and dated by
 * its first dirtying until the flusher finds it clean; the background
 * flusher writing the oldest inodes until the dirty pages are below its
 * threshold; a writer past the freerun ceiling throttled into writing
 * back itself. um_check after every step.
 */
#include "harness.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "system.h"

/* pwrite of n pages of byte c from page first of fd, through the cache. */
static void write_pages(struct um_proc *p, int fd, uint64_t first, uint64_t n, char c)
{
	char buf[PG];

	memset(buf, c, sizeof(buf));
	for (uint64_t i = 0; i < n; i++)
		assert_ret(um_pwrite(p, fd, buf, PG, (int64_t)((first + i) * PG)), PG);
}

/* The first byte of name's host file, past the page cache. */
static char disk_byte(struct env *e, const char *name, uint64_t off)
{
	char c = 0;

	assert_ret(hfile_pread(e, name, &c, 1, (off_t)off), 1);
	return c;
}

/* domain_dirty_limits over global_dirtyable_memory, recomputed by the test. */
static void expect_limits(struct env *e, uint32_t ratio, uint32_t bg_ratio)
{
	struct um_sys_stats st = sys_stats(e->sys);
	uint64_t reserve = e->sys->lru.wmark_high;
	uint64_t avail = st.frames_free - (st.frames_free < reserve ? st.frames_free : reserve) +
			 st.active_file + st.inactive_file + 1;
	uint64_t thresh = (ratio * PG / 100) * avail / PG;
	uint64_t bg = (bg_ratio * PG / 100) * avail / PG;

	if (bg >= thresh)
		bg = thresh / 2;
	assert_int_equal(st.dirty_threshold, thresh);
	assert_int_equal(st.dirty_background_threshold, bg);
}

/*
 * 64 MiB: 16384 frames, high watermark 384. 20% and 10% taken per page
 * (819 and 409 of 4096), of free - reserve + file pages + 1; the file
 * pages count as dirtyable, so reading a file changes nothing, and a
 * background ratio not below the dirty ratio is half of it.
 */
static void dirty_limits_follow_domain_dirty_limits(void **state)
{
	struct env *e = boot_default(state);
	struct um_sys_stats st = sys_stats(e->sys);
	uint64_t avail = st.frames_free - e->sys->lru.wmark_high + 1;
	char buf[8];

	assert_int_equal(e->sys->lru.wmark_high, 384);
	assert_int_equal(st.dirty_threshold, 819 * avail / 4096);
	assert_int_equal(st.dirty_background_threshold, 409 * avail / 4096);
	expect_limits(e, 20, 10);
	int fd = OPEN_PATTERN(e, "f", 64 * PG, UM_O_RDONLY);
	assert_ret(um_pread(e->p, fd, buf, 8, 0), 8);
	assert_true(sys_stats(e->sys).cached_pages > 0);
	expect_limits(e, 20, 10);
	uint64_t a = MAP_BELOW_BASE(e, 256, RW, AP);
	FILL_PAGES(e->p, a, 256, 0);
	expect_limits(e, 20, 10);
	assert_int_equal(sys_stats(e->sys).dirty_threshold, 819 * (avail - 256) / 4096);
	CHECK(e);
	finish(e);

	struct um_config cfg;
	base_config(&cfg);
	cfg.dirty_ratio = 5;
	cfg.dirty_background_ratio = 30;
	boot(state, &cfg);
	expect_limits(e, 5, 30);
	st = sys_stats(e->sys);
	assert_int_equal(st.dirty_background_threshold, st.dirty_threshold / 2);
	finish(e);
	cfg.dirty_ratio = 101;
	assert_ret(um_system_new(&cfg, &e->sys), -EINVAL);
	e->sys = NULL;
}

/*
 * Dirtied at 0: the flusher wakes every 5 s and writes the inode at 30 s,
 * when it is dirty_expire_centisecs old, not a millisecond before.
 */
static void inode_is_written_once_expired(void **state)
{
	struct env *e = boot_default(state);
	int fd = OPEN_TEXT(e, "f", "old!", UM_O_RDWR);

	write_pages(e->p, fd, 0, 2, 'n');
	assert_int_equal(sys_stats(e->sys).dirty_pages, 2);
	assert_ret(um_advance_clock(e->sys, 29999), 0);
	CHECK(e);
	assert_int_equal(um_clock(e->sys), 29999);
	assert_int_equal(disk_byte(e, "f", 0), 'o');
	assert_int_equal(sys_stats(e->sys).dirty_pages, 2);
	assert_ret(um_advance_clock(e->sys, 1), 0);
	CHECK(e);
	assert_int_equal(disk_byte(e, "f", 0), 'n');
	assert_int_equal(disk_byte(e, "f", PG), 'n');
	struct um_sys_stats st = sys_stats(e->sys);
	assert_int_equal(st.dirty_pages, 0);
	assert_int_equal(st.nr_dirtied, 2);
	assert_int_equal(st.nr_written, 2);
	assert_int_equal(st.written_periodic, 2);
	assert_int_equal(st.written_background + st.written_throttle + st.dirty_throttled, 0);
	assert_int_equal(st.writeback_pages, 0);
	finish(e);
}

/*
 * fsync cleans the pages but, as on ext4, leaves the inode on b_dirty with
 * its date: dirtied again at 20 s, it is written at 30 s, not at 50 s. Once
 * the flusher found it clean, the next dirtying dates it anew.
 */
static void inode_keeps_its_age_until_the_flusher_finds_it_clean(void **state)
{
	struct env *e = boot_default(state);
	int fd = OPEN_TEXT(e, "f", "old!", UM_O_RDWR);

	write_pages(e->p, fd, 0, 1, 'a');
	assert_ret(um_advance_clock(e->sys, 10000), 0);
	assert_ret(um_fsync(e->p, fd), 0);
	assert_int_equal(disk_byte(e, "f", 0), 'a');
	assert_ret(um_advance_clock(e->sys, 10000), 0);
	write_pages(e->p, fd, 0, 1, 'b');
	CHECK(e);
	assert_ret(um_advance_clock(e->sys, 9999), 0);
	assert_int_equal(disk_byte(e, "f", 0), 'a');
	assert_ret(um_advance_clock(e->sys, 1), 0);
	assert_int_equal(disk_byte(e, "f", 0), 'b');
	/* t = 30 s: clean, off b_dirty. Dirtied at 32 s, due at 62 s (wakeups at 37, 42 ...). */
	assert_ret(um_advance_clock(e->sys, 2000), 0);
	write_pages(e->p, fd, 0, 1, 'c');
	assert_ret(um_advance_clock(e->sys, 29999), 0);
	assert_int_equal(disk_byte(e, "f", 0), 'b');
	assert_ret(um_advance_clock(e->sys, 5000), 0);
	assert_int_equal(disk_byte(e, "f", 0), 'c');
	assert_int_equal(sys_stats(e->sys).written_periodic, 2);
	CHECK(e);
	finish(e);
}

/* dirty_writeback_centisecs=0: the flusher never wakes for age. */
static void zero_interval_turns_periodic_writeback_off(void **state)
{
	struct um_config cfg;
	base_config(&cfg);
	cfg.dirty_writeback_centisecs = 0;
	struct env *e = boot(state, &cfg);
	int fd = OPEN_TEXT(e, "f", "old!", UM_O_RDWR);

	write_pages(e->p, fd, 0, 1, 'n');
	assert_ret(um_advance_clock(e->sys, 3600 * 1000), 0);
	CHECK(e);
	assert_int_equal(disk_byte(e, "f", 0), 'o');
	assert_int_equal(sys_stats(e->sys).dirty_pages, 1);
	assert_int_equal(sys_stats(e->sys).written_periodic, 0);
	finish(e);
}

/*
 * Past the background threshold the flusher is due at once: at the next
 * move of the clock it writes the oldest inodes, whole (a chunk is at
 * least 4 MiB), until the dirty pages are at or below the threshold.
 */
static void background_flusher_writes_oldest_inodes_down_to_threshold(void **state)
{
	struct env *e = boot_default(state);
	uint64_t bg = sys_stats(e->sys).dirty_background_threshold;
	uint64_t per = bg / 3 + 1; /* three files pass bg, two do not */
	int fd[4];
	char name[2] = "a";

	for (int i = 0; i < 4; i++) {
		name[0] = (char)('a' + i);
		fd[i] = OPEN_TEXT(e, name, "old!", UM_O_RDWR);
		write_pages(e->p, fd[i], 0, per, (char)('0' + i));
		assert_ret(um_advance_clock(e->sys, 1), 0); /* each a millisecond younger */
	}
	CHECK(e);
	/*
	 * The third file passed bg: the next tick wrote the oldest, a, which
	 * was enough; the fourth passed it again, and the last tick wrote b.
	 */
	struct um_sys_stats st = sys_stats(e->sys);
	assert_true(st.dirty_pages <= st.dirty_background_threshold);
	assert_int_equal(st.written_background, 2 * per);
	assert_int_equal(disk_byte(e, "a", 0), '0');
	assert_int_equal(disk_byte(e, "b", 0), '1');
	assert_int_equal(disk_byte(e, "c", 0), 'o');
	assert_int_equal(disk_byte(e, "d", 0), 'o');
	assert_int_equal(st.dirty_pages, 2 * per);
	assert_int_equal(st.written_periodic + st.written_throttle + st.dirty_throttled, 0);
	finish(e);
}

/*
 * Writers run free up to (thresh + bg_thresh) / 2. The page that passes
 * it throttles its writer, who writes back (the oldest inode first) until
 * the dirty pages are at or below the background threshold, and goes on.
 * A write fault on a shared mapping is throttled the same way.
 */
static void writer_past_freerun_ceiling_is_throttled(void **state)
{
	struct env *e = boot_default(state);
	struct um_sys_stats st = sys_stats(e->sys);
	int fd = OPEN_TEXT(e, "f", "old!", UM_O_RDWR);
	uint64_t i;

	for (i = 0;; i++) {
		write_pages(e->p, fd, i, 1, 'w');
		struct um_sys_stats now = sys_stats(e->sys);
		uint64_t freerun = (now.dirty_threshold + now.dirty_background_threshold) / 2;

		if (now.dirty_throttled) {
			/*
			 * That page passed the ceiling; the writer wrote a chunk
			 * (4 MiB: MIN_WRITEBACK_PAGES) of the file from its start,
			 * which brought the dirty pages under bg_thresh.
			 */
			assert_int_equal(i + 1, freerun + 1);
			assert_int_equal(now.dirty_throttled, 1);
			assert_int_equal(now.written_throttle, 1024);
			assert_int_equal(now.dirty_pages, i + 1 - 1024);
			assert_true(now.dirty_pages <= now.dirty_background_threshold);
			break;
		}
		assert_int_equal(now.dirty_pages, i + 1);
		assert_true(i < st.dirty_threshold);
	}
	CHECK(e);
	assert_int_equal(disk_byte(e, "f", 1023 * PG), 'w');
	assert_int_equal(host_size(e, "f"), 1024 * PG);
	assert_int_equal(um_clock(e->sys), 0); /* no time passed */

	/* Now through a shared mapping of another file. */
	uint64_t len = 2 * (i + 1) * PG;
	int fm = OPEN_TEXT(e, "m", "", UM_O_RDWR);
	assert_ret(um_ftruncate(e->p, fm, (int64_t)len), 0);
	uint64_t a = MAP(e->p, len, RW, UM_MAP_SHARED, fm, 0);
	for (uint64_t off = 0; off < len; off += PG)
		store_ok(e->p, a + off, 1, 'm', __LINE__);
	st = sys_stats(e->sys);
	assert_true(st.dirty_throttled >= 2);
	assert_true(st.dirty_pages <= (st.dirty_threshold + st.dirty_background_threshold) / 2);
	assert_int_equal(st.nr_dirtied, i + 1 + len / PG);
	assert_int_equal(st.nr_written, st.written_throttle);
	assert_int_equal(st.written_throttle + st.dirty_pages, st.nr_dirtied);
	assert_int_equal(disk_byte(e, "m", 0), 'm');
	CHECK(e);
	finish(e);
}

struct racer {
	struct env *e;
	uint64_t a;
	_Atomic uint64_t completed;	/* rounds stored */
	_Atomic int done;
};

#define RACE_PAGES 16
#define RACE_ROUNDS 200

/*
 * Stores round r into every page, RACE_ROUNDS times over, each round
 * once the clock reached r * 10 ms: the flusher runs between and during
 * the rounds.
 */
static void *race_stores(void *arg)
{
	struct racer *r = arg;

	for (uint64_t round = 1; round <= RACE_ROUNDS; round++) {
		while (um_clock(r->e->sys) < round * 10)
			sched_yield();
		for (uint64_t i = 0; i < RACE_PAGES; i++)
			store_ok(r->e->p, r->a + i * PG + 8 * (round % 8), 8, round, __LINE__);
		atomic_store(&r->completed, round);
	}
	atomic_store(&r->done, 1);
	return NULL;
}

/*
 * The flusher (every 10 ms of the clock, everything expired) writes the
 * pages back while another thread stores into them, a round of stores
 * per 10 ms: page_mkclean makes each
 * PTE read-only before the page is written, so a store after that faults
 * and dirties the page again. When the stores end, a last write-back puts
 * exactly the last values on disk.
 */
static void flusher_races_stores_without_losing_one(void **state)
{
	struct um_config cfg;
	base_config(&cfg);
	cfg.dirty_expire_centisecs = 0;
	cfg.dirty_writeback_centisecs = 1;
	struct env *e = boot(state, &cfg);
	int fd = OPEN_TEXT(e, "f", "", UM_O_RDWR);
	assert_ret(um_ftruncate(e->p, fd, RACE_PAGES * PG), 0);
	struct racer r = { e, MAP(e->p, RACE_PAGES * PG, RW, UM_MAP_SHARED, fd, 0), 0, 0 };
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, race_stores, &r), 0);
	/* The clock runs at most two rounds ahead of the stores: flusher runs overlap them. */
	while (!atomic_load(&r.done)) {
		if (um_clock(e->sys) / 10 <= atomic_load(&r.completed) + 2)
			assert_ret(um_advance_clock(e->sys, 10), 0);
		else
			sched_yield();
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	CHECK(e);
	assert_true(sys_stats(e->sys).written_periodic > 0);
	assert_ret(um_advance_clock(e->sys, 10), 0);
	assert_int_equal(sys_stats(e->sys).dirty_pages, 0);
	for (uint64_t i = 0; i < RACE_PAGES; i++)
		for (uint64_t k = 0; k < 8; k++) {
			uint64_t v = 0;
			uint64_t want = RACE_ROUNDS - (RACE_ROUNDS % 8 + 8 - k) % 8;

			assert_ret(hfile_pread(e, "f", &v, 8, (off_t)(i * PG + 8 * k)), 8);
			assert_int_equal(v, want);
		}
	CHECK(e);
	finish(e);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, env_setup, env_teardown)
	const struct CMUnitTest tests[] = {
	    T(dirty_limits_follow_domain_dirty_limits),
	    T(inode_is_written_once_expired),
	    T(inode_keeps_its_age_until_the_flusher_finds_it_clean),
	    T(zero_interval_turns_periodic_writeback_off),
	    T(background_flusher_writes_oldest_inodes_down_to_threshold),
	    T(writer_past_freerun_ceiling_is_throttled),
	    T(flusher_races_stores_without_losing_one),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
