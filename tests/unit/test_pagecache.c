/*
 * The page cache (pagecache.c), from inside: read-around windows, write()
 * reading only what it needs, truncation dropping exactly the cut pages,
 * and the radix tree growing past one node.
 */
#include "fault.h"
#include "frame.h"
#include "fs.h"
#include "mm.h"
#include "pagecache.h"
#include "system.h"
#include "vma.h"
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
	cfg.readahead_kb = 128; /* ra_pages 32, whatever the host disk says */
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

/*
 * A fault at index through a VMA with vm_flags over file pages [pgoff,
 * pgend), mapped from an open file whose read-ahead state is ra.
 */
static uint32_t fault_in(struct pc_env *e, struct file_ra_state *ra, uint64_t vm_flags,
			 uint64_t index, uint64_t pgoff, uint64_t pgend, bool *major)
{
	struct file f = { .inode = e->ino, .f_ra = *ra };
	struct vma v = { .vm_start = pgoff * PG, .vm_end = pgend * PG, .vm_pgoff = pgoff,
			 .vm_flags = vm_flags, .vm_inode = e->ino, .vm_file = &f };
	struct mm mm = { .sys = e->sys };
	struct vm_fault vmf = { .mm = &mm, .vma = &v, .address = index * PG, .pgoff = index };
	uint32_t pfn;
	int err;

	pfn = pagecache_fault(&vmf, &err);
	*ra = f.f_ra;
	*major = vmf.major;
	return pfn;
}

/* A fault through a read-only mapping of the whole file, with a fresh open file's state. */
static uint32_t fault_at(struct pc_env *e, struct file_ra_state *ra, uint64_t vm_flags,
			 uint64_t index, bool *major)
{
	return fault_in(e, ra, vm_flags, index, 0, 1000, major);
}

static void fault_reads_a_window_centred_on_the_page(void **state)
{
	struct file_ra_state ra;
	struct pc_env e;
	bool major;

	(void)state;
	boot_file(&e, 100);
	file_ra_state_init(&ra, e.ino);
	uint32_t pfn = fault_at(&e, &ra, VM_READ, 50, &major);
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
	/* The last quarter of the window is read ahead: its first page is marked. */
	assert_true(pagecache_readahead_marked(e.sys, pagecache_lookup(e.ino, 58)));
	assert_false(pagecache_readahead_marked(e.sys, pagecache_lookup(e.ino, 57)));
	frame_put(&e.sys->fp, pfn);
	/* A second fault is a hit: no read, same frame. */
	assert_int_equal(fault_at(&e, &ra, VM_READ, 50, &major), pfn);
	assert_false(major);
	frame_put(&e.sys->fp, pfn);
	free_checked(e.sys);
}

static void touching_the_marker_reads_the_next_window_in_larger_folios(void **state)
{
	struct file_ra_state ra;
	struct pc_env e;
	bool major;

	(void)state;
	boot_file(&e, 200);
	file_ra_state_init(&ra, e.ino);
	frame_put(&e.sys->fp, fault_at(&e, &ra, VM_READ, 0, &major));
	/* 0 .. 31, marker at 24: the hit there reads 32 .. 63 in folios of 4. */
	assert_int_equal(e.ino->nr_pages, 32);
	frame_put(&e.sys->fp, fault_at(&e, &ra, VM_READ, 24, &major));
	assert_false(major);
	assert_false(pagecache_readahead_marked(e.sys, pagecache_lookup(e.ino, 24)));
	assert_int_equal(e.ino->nr_pages, 64);
	assert_int_equal(ra.start, 32);
	assert_int_equal(ra.size, 32);
	assert_int_equal(ra.order, 2);
	for (uint64_t i = 32; i < 36; i++)
		assert_true(pagecache_readahead_marked(e.sys, pagecache_lookup(e.ino, i)));
	assert_false(pagecache_readahead_marked(e.sys, pagecache_lookup(e.ino, 36)));
	free_checked(e.sys);
}

static void exec_fault_reads_from_the_page_to_the_end_of_the_vma(void **state)
{
	struct file_ra_state ra;
	struct pc_env e;
	bool major;

	(void)state;
	boot_file(&e, 100);
	file_ra_state_init(&ra, e.ino);
	frame_put(&e.sys->fp, fault_in(&e, &ra, VM_READ | VM_EXEC, 50, 40, 60, &major));
	assert_int_equal(e.ino->nr_pages, 10);
	assert_int_equal(pagecache_lookup(e.ino, 49), FRAME_NONE);
	assert_int_not_equal(pagecache_lookup(e.ino, 59), FRAME_NONE);
	free_checked(e.sys);
}

static void random_read_reads_only_what_it_asks(void **state)
{
	struct pc_env e;
	char buf[8];

	(void)state;
	boot_file(&e, 100);
	/* Far from the last read and with nothing cached before it: a random read. */
	assert_int_equal(um_pread(e.p, e.fd, buf, 8, 50 * PG), 8);
	assert_int_equal(e.ino->nr_pages, 1);
	/* At the start of the file: a first window of 4 pages for a 1-page read. */
	assert_int_equal(um_pread(e.p, e.fd, buf, 8, 0), 8);
	assert_int_equal(e.ino->nr_pages, 5);
	free_checked(e.sys);
}

static void write_reads_one_page(void **state)
{
	struct pc_env e;
	bool major;
	int err;

	(void)state;
	boot_file(&e, 100);
	uint32_t pfn = pagecache_get(e.sys, e.ino, 5, &major, &err);
	assert_int_equal(e.ino->nr_pages, 1);
	assert_int_equal(pfn_host(&e.sys->fp, pfn)[0], 6);
	frame_put(&e.sys->fp, pfn);
	/* Past EOF: a zero page, nothing read. */
	pfn = pagecache_get(e.sys, e.ino, 200, &major, &err);
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
		frame_put(&e.sys->fp, pagecache_get(e.sys, e.ino, k, &major, &err));
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
		cmocka_unit_test(touching_the_marker_reads_the_next_window_in_larger_folios),
		cmocka_unit_test(exec_fault_reads_from_the_page_to_the_end_of_the_vma),
		cmocka_unit_test(random_read_reads_only_what_it_asks),
		cmocka_unit_test(write_reads_one_page),
		cmocka_unit_test(truncate_drops_exactly_the_cut_pages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
