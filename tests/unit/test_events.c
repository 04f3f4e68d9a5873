/*
 * Events (um_set_event_handler): each kind fires exactly when its counter
 * moves, once per page, with the process, address, frame and file page it
 * is about; nothing reaches a handler once it is cleared. Frames are
 * compared with what pagemap says is mapped there.
 */
#include "harness.h"

#define MIB	(1ULL << 20)
#define LOG_MAX 64

struct event_log {
	uint64_t n[UM_EVENT_OOM_KILL + 1]; /* per type, every event */
	uint64_t total;
	struct um_event ev[LOG_MAX]; /* the first LOG_MAX */
};

static void record(void *arg, const struct um_event *ev)
{
	struct event_log *log = arg;

	assert_true(ev->type >= UM_EVENT_FAULT_MINOR && ev->type <= UM_EVENT_OOM_KILL);
	if (log->total < LOG_MAX)
		log->ev[log->total] = *ev;
	log->total++;
	log->n[ev->type]++;
}

static void log_clear(struct event_log *log)
{
	memset(log, 0, sizeof(*log));
}

static uint64_t frame_at(struct um_proc *p, uint64_t addr)
{
	uint64_t ent = 0;

	assert_ret(um_pagemap(p, addr, 1, &ent), 1);
	assert_true(ent & PM_PRESENT);
	return ent & PM_PFN_MASK;
}

static void assert_event(const struct um_event *ev, enum um_event_type type, int pid, uint64_t addr,
			 uint64_t pfn)
{
	assert_int_equal(ev->type, type);
	assert_int_equal(ev->pid, pid);
	assert_int_equal(ev->addr, addr);
	assert_int_equal(ev->pfn, pfn);
}

/* A read of untouched anonymous memory maps the zero frame; a write, a frame of its own. */
static void anon_faults_are_minor_with_the_frame_they_map(void **state)
{
	struct env *e = boot_default(state);
	struct event_log log;
	int pid = um_getpid(e->p);

	log_clear(&log);
	um_set_event_handler(e->sys, record, &log);
	uint64_t a = MAP(e->p, 2 * PG, RW, AP, -1, 0);
	assert_int_equal(log.total, 0);
	assert_int_equal(load_ok(e->p, a + 5, 1, __LINE__), 0);
	store_ok(e->p, a + PG + 8, 1, 7, __LINE__);
	store_ok(e->p, a + PG + 9, 1, 7, __LINE__); /* no fault: the TLB has it */
	assert_int_equal(log.total, 2);
	assert_event(&log.ev[0], UM_EVENT_FAULT_MINOR, pid, a + 5, 0);
	assert_event(&log.ev[1], UM_EVENT_FAULT_MINOR, pid, a + PG + 8, frame_at(e->p, a + PG));
	assert_int_equal(sys_stats(e->sys).pgfault, 2);
	CHECK(e);
	finish(e);
}

/* A file page read from the file is a major fault; mapped again from the cache, a minor one. */
static void file_read_is_major_then_minor_from_the_cache(void **state)
{
	struct env *e = boot_default(state);
	struct event_log log;
	int fd = OPEN_PATTERN(e, "f", PG, UM_O_RDONLY);
	int pid = um_getpid(e->p);

	log_clear(&log);
	um_set_event_handler(e->sys, record, &log);
	uint64_t a = MAP(e->p, PG, UM_PROT_READ, UM_MAP_PRIVATE, fd, 0);
	assert_int_equal(load_ok(e->p, a, 1, __LINE__), 'A');
	uint64_t pfn = frame_at(e->p, a);
	assert_int_equal(log.total, 1);
	assert_event(&log.ev[0], UM_EVENT_FAULT_MAJOR, pid, a, pfn);
	assert_ret(um_munmap(e->p, a, PG), 0);
	a = MAP(e->p, PG, UM_PROT_READ, UM_MAP_PRIVATE, fd, 0);
	assert_int_equal(load_ok(e->p, a, 1, __LINE__), 'A');
	assert_int_equal(log.total, 2);
	assert_event(&log.ev[1], UM_EVENT_FAULT_MINOR, pid, a, pfn);
	assert_int_equal(log.n[UM_EVENT_FAULT_MAJOR], sys_stats(e->sys).pgmajfault);
	CHECK(e);
	finish(e);
}

/* The child's write to a page shared after fork: the copy, then the fault that made it. */
static void cow_break_reports_the_copy_before_its_fault(void **state)
{
	struct env *e = boot_default(state);
	struct event_log log;
	struct um_proc *child = NULL;
	uint64_t a = MAP(e->p, PG, RW, AP, -1, 0);

	store_ok(e->p, a, 1, 1, __LINE__);
	uint64_t old = frame_at(e->p, a);
	assert_ret(um_fork(e->p, &child), 0);
	log_clear(&log);
	um_set_event_handler(e->sys, record, &log);
	store_ok(child, a + 3, 1, 2, __LINE__);
	uint64_t copy = frame_at(child, a);
	assert_true(copy != old);
	assert_int_equal(frame_at(e->p, a), old);
	assert_int_equal(log.total, 2);
	assert_event(&log.ev[0], UM_EVENT_COW, um_getpid(child), a + 3, copy);
	assert_event(&log.ev[1], UM_EVENT_FAULT_MINOR, um_getpid(child), a + 3, copy);
	/* The parent's page is its own again: a write reuses it, no copy. */
	store_ok(e->p, a, 1, 3, __LINE__);
	assert_int_equal(log.n[UM_EVENT_COW], 1);
	CHECK(e);
	um_exit(child);
	finish(e);
}

/* fsync writes back each dirty page once, naming its file and index; clean pages never. */
static void fsync_reports_each_dirty_page_written(void **state)
{
	struct env *e = boot_default(state);
	struct event_log log;
	struct um_stat st;
	int fd = OPEN_PATTERN(e, "f", 3 * PG, UM_O_RDWR);
	uint64_t a = MAP(e->p, 3 * PG, RW, UM_MAP_SHARED, fd, 0);

	assert_ret(um_fstat(e->p, fd, &st), 0);
	store_ok(e->p, a, 1, 'x', __LINE__);
	store_ok(e->p, a + 2 * PG, 1, 'y', __LINE__);
	log_clear(&log);
	um_set_event_handler(e->sys, record, &log);
	assert_ret(um_fsync(e->p, fd), 0);
	assert_int_equal(log.total, 2);
	for (int i = 0; i < 2; i++) {
		assert_event(&log.ev[i], UM_EVENT_WRITEBACK, 0, 0, frame_at(e->p, a + 2 * i * PG));
		assert_int_equal(log.ev[i].ino, st.st_ino);
		assert_int_equal(log.ev[i].index, 2 * i);
	}
	assert_ret(um_fsync(e->p, fd), 0);
	assert_int_equal(log.total, 2);
	CHECK(e);
	finish(e);
}

/* Each page reclaim drops is one eviction, of the page the cache held at that index. */
static void reclaim_reports_each_page_it_drops(void **state)
{
	struct env *e = boot_default(state);
	struct event_log log;
	struct um_stat st;
	int fd = OPEN_PATTERN(e, "f", 4 * PG, UM_O_RDONLY);
	uint64_t a = MAP(e->p, 4 * PG, UM_PROT_READ, UM_MAP_SHARED, fd, 0);
	uint64_t pfn[4];

	assert_ret(um_fstat(e->p, fd, &st), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(load_ok(e->p, a + (uint64_t)i * PG, 1, __LINE__), 'A' + i);
		pfn[i] = frame_at(e->p, a + (uint64_t)i * PG);
	}
	assert_ret(um_munmap(e->p, a, 4 * PG), 0);
	log_clear(&log);
	um_set_event_handler(e->sys, record, &log);
	assert_ret(um_reclaim(e->sys, 4), 4);
	assert_int_equal(log.total, 4);
	assert_int_equal(log.n[UM_EVENT_EVICT], 4);
	for (int i = 0; i < 4; i++) {
		const struct um_event *ev = &log.ev[i];

		assert_int_equal(ev->type, UM_EVENT_EVICT);
		assert_int_equal(ev->ino, st.st_ino);
		assert_true(ev->index < 4);
		assert_int_equal(ev->pfn, pfn[ev->index]);
		assert_int_equal(ev->pid, 0);
	}
	assert_int_equal(sys_stats(e->sys).cached_pages, 0);
	CHECK(e);
	finish(e);
}

/* Out of frames: one OOM kill, naming the victim, and never the process that survives. */
static void oom_kill_names_its_victim(void **state)
{
	struct env *e = boot_default(state); /* 64 MiB */
	struct um_proc *big = e->p, *small = new_proc(e);
	struct event_log log;
	uint64_t a = MAP(big, 48 * MIB, RW, AP, -1, 0);
	uint64_t b = MAP(small, 16 * MIB, RW, AP, -1, 0);

	for (uint64_t off = 0; off < 48 * MIB; off += PG)
		store_ok(big, a + off, 1, 1, __LINE__);
	log_clear(&log);
	um_set_event_handler(e->sys, record, &log);
	for (uint64_t off = 0; off < 16 * MIB; off += PG)
		store_ok(small, b + off, 1, 1, __LINE__);
	assert_int_equal(log.n[UM_EVENT_OOM_KILL], 1);
	assert_int_equal(log.n[UM_EVENT_FAULT_MINOR], 16 * MIB / PG + 1); /* one retried */
	for (uint64_t i = 0; i < LOG_MAX; i++)
		if (log.ev[i].type == UM_EVENT_OOM_KILL)
			assert_event(&log.ev[i], UM_EVENT_OOM_KILL, um_getpid(big), 0,
				     UM_EVENT_NO_PFN);
	assert_int_equal(sys_stats(e->sys).oom_kills, 1);
	um_exit(big);
	CHECK(e);
	um_exit(small);
	finish(e);
}

/* A cleared handler hears nothing, while the counters go on counting. */
static void cleared_handler_hears_nothing(void **state)
{
	struct env *e = boot_default(state);
	struct event_log log;
	uint64_t a = MAP(e->p, PG, RW, AP, -1, 0);

	log_clear(&log);
	um_set_event_handler(e->sys, record, &log);
	um_set_event_handler(e->sys, NULL, &log);
	store_ok(e->p, a, 1, 1, __LINE__);
	assert_int_equal(log.total, 0);
	assert_int_equal(sys_stats(e->sys).pgfault, 1);
	CHECK(e);
	finish(e);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, env_setup, env_teardown)
	const struct CMUnitTest tests[] = {
	    T(anon_faults_are_minor_with_the_frame_they_map),
	    T(file_read_is_major_then_minor_from_the_cache),
	    T(cow_break_reports_the_copy_before_its_fault),
	    T(fsync_reports_each_dirty_page_written),
	    T(reclaim_reports_each_page_it_drops),
	    T(oom_kill_names_its_victim),
	    T(cleared_handler_hears_nothing),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
