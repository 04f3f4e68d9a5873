/*
 * writeback.c: dirty page-cache pages to their files (fsync, msync, sync,
 * and the last reference to an inode).
 *
 * A page is dirty when PG_DIRTY is set: write() sets it, and so does the
 * write fault that makes a shared file PTE writable (shared file mappings
 * are mapped read-only until written, as with Linux's writenotify). To
 * write a page back, every PTE that maps it is first made clean and
 * read-only (page_mkclean, walking the inode's i_mmap list) and the TLBs of
 * those mms are shot down, so a store after that point faults and dirties
 * the page again instead of being lost. Then PG_DIRTY is cleared and the
 * page, up to the end of the file, is written with pwrite. As ext4 does,
 * the bytes of the last page past EOF are zeroed at each write-back: they
 * never reach the file.
 *
 * A failed write leaves the page dirty and records the error on the inode;
 * the next fsync or msync reports it. The inode's invalidate_lock is held
 * exclusive for the whole pass, so no fault can map the page writable
 * between page_mkclean and the clearing of PG_DIRTY.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "fs.h"
#include "host.h"
#include "mm.h"
#include "pagecache.h"
#include "pgtable.h"
#include "system.h"
#include "tlb.h"
#include "vma.h"

/* Write-protects and cleans every PTE mapping (ino, index) -> pfn. i_mmap_lock is held. */
static void page_mkclean(struct um_system *sys, struct inode *ino, uint64_t index, uint32_t pfn)
{
	for (struct vma *v = ino->i_mmap; v; v = v->i_mmap_next) {
		uint64_t pages = pg_count(&sys->geom, v->vm_end - v->vm_start);
		_Atomic pte_t *ptep;
		uint64_t addr;
		pte_t pte;

		if (!(v->vm_flags & VM_SHARED) || index < v->vm_pgoff || index >= v->vm_pgoff + pages)
			continue;
		addr = v->vm_start + pg_bytes(&sys->geom, index - v->vm_pgoff);
		ptep = pgtable_walk(&v->vm_mm->pt, addr, false);
		if (!ptep)
			continue;
		pte = atomic_load(ptep);
		while ((pte & PTE_PRESENT) && pte_pfn(pte) == pfn && (pte & (PTE_WRITE | PTE_DIRTY))) {
			if (atomic_compare_exchange_weak(ptep, &pte, pte & ~(PTE_WRITE | PTE_DIRTY))) {
				mm_tlb_sync(v->vm_mm);
				break;
			}
		}
	}
}

struct wb_pass {
	struct um_system *sys;
	struct inode *ino;
	int err;
};

/* Writes back one cached page if it is dirty (the cache walk's callback; inode->lock held). */
static void writeback_page(uint64_t index, uint32_t pfn, void *arg)
{
	struct wb_pass *w = arg;
	struct um_system *sys = w->sys;
	struct inode *ino = w->ino;
	struct frame *f = pfn_frame(&sys->fp, pfn);
	uint64_t size = inode_size(ino), pos = pg_bytes(&sys->geom, index), len;
	unsigned char *page = pfn_host(&sys->fp, pfn);
	int64_t r;

	if (!(atomic_load(&f->flags) & PG_DIRTY))
		return;
	pthread_mutex_lock(&ino->i_mmap_lock);
	page_mkclean(sys, ino, index, pfn);
	pthread_mutex_unlock(&ino->i_mmap_lock);
	atomic_fetch_and(&f->flags, ~(uint32_t)PG_DIRTY);
	if (pos >= size)
		return; /* wholly past EOF: nothing of it belongs to the file */
	len = size - pos < sys->geom.size ? size - pos : sys->geom.size;
	if (len < sys->geom.size)
		memset(page + len, 0, sys->geom.size - len);
	atomic_fetch_or(&f->flags, PG_WRITEBACK);
	r = host_pwrite(sys, ino->host_fd, page, len, pos);
	atomic_fetch_and(&f->flags, ~(uint32_t)PG_WRITEBACK);
	if (r < 0) {
		atomic_fetch_or(&f->flags, PG_DIRTY);
		if (!w->err)
			w->err = (int)r;
		ino->wb_err = (int)r;
	} else if (sys_events_on(sys)) {
		sys_event(sys, UM_EVENT_WRITEBACK, 0, 0, pfn, ino->ino, index);
	}
}

int writeback_range(struct um_system *sys, struct inode *ino, uint64_t start, uint64_t end,
		    bool sync)
{
	struct wb_pass w = { sys, ino, 0 };
	int err;

	if (ino->type != INODE_REG)
		return 0;
	pthread_rwlock_wrlock(&ino->invalidate_lock);
	pthread_mutex_lock(&ino->lock);
	/* In place, page by page: a write-back needs no memory of its own. */
	pagecache_for_range(ino, start, end, writeback_page, &w);
	err = w.err;
	if (sync && !err) {
		int r = host_fdatasync(sys, ino->host_fd);

		if (r) {
			err = r;
			ino->wb_err = r;
		}
	}
	if (!err && ino->wb_err) {
		/* An earlier write-back failed and nothing has cleared it since. */
		err = ino->wb_err;
	}
	if (sync)
		ino->wb_err = 0;
	pthread_mutex_unlock(&ino->lock);
	pthread_rwlock_unlock(&ino->invalidate_lock);
	return err;
}
