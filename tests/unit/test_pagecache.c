/*
 * The page cache (pagecache.c), from inside: read-around windows, write()
 * reading only what it needs, truncation dropping exactly the cut pages,
 * and the radix tree growing past one node.
 */
#include "internal.h"
#include "harness.h"

struct pc_env {
	struct um_system *sys;
	struct um_proc *p;
	struct inode *ino;
	int fd;
};

/* A file of npages pages, byte i of page k = k + 1, and its inode. */
static void boot_file(struct pc_env *e, uint64_t npages)
{
	struct um_config cfg;
	unsigned char page[PG];
	struct file *f;

	um_config_init(&cfg);
	cfg.phys_bytes = 64ULL << 20;
	assert_int_equal(um_system_new(&cfg, &e->sys), 0);
	assert_int_equal(um_proc_new(e->sys, &e->p), 0);
	e->fd = um_open(e->p, "f", UM_O_RDWR | UM_O_CREAT, 0644);
	assert_true(e->fd >= 0);
	for (uint64_t k = 0; k < npages; k++) {
		memset(page, (int)(k + 1), PG);
		assert_int_equal(um_write(e->p, e->fd, page, PG), PG);
	}
	/* Write back and drop the cache, so reads come from the host file. */
	assert_int_equal(um_fsync(e->p, e->fd), 0);
	f = fget(e->p, e->fd);
	e->ino = f->inode;
	fput(e->sys, f);
	pagecache_truncate(e->sys, e->ino, 0);
	assert_int_equal(e->ino->nr_pages, 0);
}

static void fault_reads_a_window_centred_on_the_page(void **state)
{
	struct pc_env e;
	bool major;
	int err;

	(void)state;
	boot_file(&e, 100);
	uint32_t pfn = pagecache_get(e.sys, e.ino, 50, PC_FAULT, &major, &err);
	assert_int_not_equal(pfn, FRAME_NONE);
	assert_true(major);
	assert_int_equal(pfn_host(&e.sys->fp, pfn)[0], 51);
	/* ra_pages (32) centred on 50: pages 34 .. 65. */
	assert_int_equal(e.ino->nr_pages, 32);
	assert_int_equal(pagecache_lookup(e.ino, 33), FRAME_NONE);
	assert_int_not_equal(pagecache_lookup(e.ino, 34), FRAME_NONE);
	assert_int_not_equal(pagecache_lookup(e.ino, 65), FRAME_NONE);
	assert_int_equal(pagecache_lookup(e.ino, 66), FRAME_NONE);
	assert_int_equal(pfn_host(&e.sys->fp, pagecache_lookup(e.ino, 65))[100], 66);
	frame_put(&e.sys->fp, pfn);
	/* A second get is a hit: no read, same frame. */
	assert_int_equal(pagecache_get(e.sys, e.ino, 50, PC_FAULT, &major, &err), pfn);
	assert_false(major);
	frame_put(&e.sys->fp, pfn);
	free_checked(e.sys);
}

static void read_reads_ahead_and_write_reads_one_page(void **state)
{
	struct pc_env e;
	bool major;
	int err;

	(void)state;
	boot_file(&e, 100);
	uint32_t pfn = pagecache_get(e.sys, e.ino, 90, PC_READ, &major, &err);
	/* From 90 to the end of the file: 10 pages. */
	assert_int_equal(e.ino->nr_pages, 10);
	frame_put(&e.sys->fp, pfn);
	pfn = pagecache_get(e.sys, e.ino, 5, PC_WRITE, &major, &err);
	assert_int_equal(e.ino->nr_pages, 11);
	assert_int_equal(pfn_host(&e.sys->fp, pfn)[0], 6);
	frame_put(&e.sys->fp, pfn);
	/* Past EOF: a zero page, nothing read. */
	pfn = pagecache_get(e.sys, e.ino, 200, PC_WRITE, &major, &err);
	assert_int_not_equal(pfn, FRAME_NONE);
	assert_int_equal(pfn_host(&e.sys->fp, pfn)[7], 0);
	frame_put(&e.sys->fp, pfn);
	free_checked(e.sys);
}

static void truncate_drops_exactly_the_cut_pages(void **state)
{
	struct pc_env e;
	bool major;
	int err;

	(void)state;
	boot_file(&e, 300); /* past one 64-slot node: a tree of height 2 */
	for (uint64_t k = 0; k < 300; k++)
		frame_put(&e.sys->fp, pagecache_get(e.sys, e.ino, k, PC_WRITE, &major, &err));
	assert_int_equal(e.ino->nr_pages, 300);
	assert_int_equal(e.ino->cache_height, 2);
	pagecache_truncate(e.sys, e.ino, 130);
	assert_int_equal(e.ino->nr_pages, 130);
	assert_int_not_equal(pagecache_lookup(e.ino, 129), FRAME_NONE);
	assert_int_equal(pagecache_lookup(e.ino, 130), FRAME_NONE);
	assert_int_equal(pagecache_lookup(e.ino, 299), FRAME_NONE);
	free_checked(e.sys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fault_reads_a_window_centred_on_the_page),
		cmocka_unit_test(read_reads_ahead_and_write_reads_one_page),
		cmocka_unit_test(truncate_drops_exactly_the_cut_pages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
