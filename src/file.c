/*
 * file.c: the file system calls: open, close, read, write, pread, pwrite,
 * lseek, ftruncate, fsync, fdatasync, fstat. open's lookup, creation and
 * permission checks are namei.c's; descriptors and open files, fdtable.c's.
 *
 * read() and write() go through the page cache, as on Linux, so they and
 * every shared mapping of a file see each other at once; write() only
 * dirties cached pages, which reach the host file on write-back (fsync,
 * msync, sync, the flusher by age or amount, a throttled writer, or the
 * system's shutdown: writeback.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "cred.h"
#include "frame.h"
#include "fs.h"
#include "host.h"
#include "mm.h"
#include "namei.h"
#include "oom.h"
#include "pagecache.h"
#include "system.h"
#include "lru.h"
#include "tlb.h"
#include "vma.h"
#include "vmscan.h"

int um_open(struct um_proc *p, const char *path, int flags, unsigned mode)
{
	struct um_system *sys = p->sys;
	struct inode *ino;
	struct file *f;
	int fd, err;

	if (!path)
		return -EFAULT;
	if (!*path)
		return -ENOENT;
	if (!strcmp(path, "/dev/zero")) {
		ino = sys->zero;
		inode_get(ino);
	} else {
		struct um_cred c;

		cred_get(p, &c);
		err = do_filp_open(sys, &c, path, flags, mode & S_IALLUGO, &ino);
		if (err)
			return err;
	}
	f = file_new(sys, ino, flags & ~(UM_O_CREAT | UM_O_EXCL | UM_O_TRUNC | UM_O_NOCTTY));
	if (!f) {
		inode_put(sys, ino);
		return -ENOMEM;
	}
	fd = fd_install(sys, &p->files, f, flags & UM_O_CLOEXEC);
	if (fd < 0)
		fput(sys, f);
	return fd;
}

int um_close(struct um_proc *p, int fd)
{
	struct fdtable *t = &p->files;
	struct file *f = NULL;

	pthread_mutex_lock(&t->lock);
	if (fd >= 0 && fd < t->size) {
		f = t->fd[fd];
		t->fd[fd] = NULL;
		t->cloexec[fd] = 0;
	}
	pthread_mutex_unlock(&t->lock);
	if (!f)
		return -EBADF;
	fput(p->sys, f);
	return 0;
}

/* The read actor of a read into a buffer of the library's caller. */
static uint64_t copy_to_buf(void *arg, uint64_t off, const void *src, uint64_t len)
{
	memcpy((char *)arg + off, src, len);
	return len;
}

/*
 * Reads up to count bytes at pos of f's file through the cache, handing
 * them to copy (see read_actor_t). Returns the bytes read or a negative
 * errno.
 */
static int64_t file_read(struct um_system *sys, struct file *f, uint64_t count, uint64_t pos,
			 read_actor_t copy, void *arg)
{
	static const unsigned char zeros[4096];
	uint64_t done = 0;

	if (f->inode->type == INODE_ZERO) {
		while (done < count) {
			uint64_t n = count - done < sizeof(zeros) ? count - done : sizeof(zeros);
			uint64_t got = copy(arg, done, zeros, n);

			done += got;
			if (got < n)
				return done ? (int64_t)done : -EFAULT;
		}
		return (int64_t)count;
	}
	if (f->inode->type == INODE_DIR)
		return -EISDIR;
	if (f->inode->type == INODE_REG)
		return pagecache_read(sys, f, pos, count, copy, arg);
	/* Other cache objects (hugetlbfs) have no read-ahead: page by page. */
	while (done < count) {
		uint64_t size = inode_size(f->inode), at = pos + done, n, got;
		uint64_t off = offset_in_page(&sys->geom, at);
		uint32_t pfn;
		bool major;
		int err;

		if (at >= size)
			break;
		n = sys->geom.size - off;
		if (n > count - done)
			n = count - done;
		if (n > size - at)
			n = size - at;
		pfn = pagecache_get(sys, f->inode, pg_count(&sys->geom, at), &major, &err);
		if (pfn == FRAME_NONE)
			return done ? (int64_t)done : err;
		got = copy(arg, done, pfn_host(&sys->fp, pfn) + off, n);
		frame_put(&sys->fp, pfn);
		done += got;
		if (got < n)
			return done ? (int64_t)done : -EFAULT;
	}
	return (int64_t)done;
}

/* Writes count bytes of buf at pos into the cache, dirtying the pages. */
static int64_t inode_write(struct um_system *sys, struct inode *ino, const void *buf,
			   uint64_t count, uint64_t pos)
{
	uint64_t done = 0, ps = sys->geom.size;
	int passes = 0;

	if (ino->type == INODE_ZERO)
		return (int64_t)count;
	if (count) {
		/* A write past EOF: the gap in the old last page reads as zero. */
		pthread_mutex_lock(&ino->lock);
		pagecache_zero_eof(sys, ino, inode_size(ino), pos);
		pthread_mutex_unlock(&ino->lock);
	}
	while (done < count) {
		uint64_t at = pos + done, off = offset_in_page(&sys->geom, at), n = ps - off;
		uint32_t pfn;
		bool major, dirtied;
		int err;

		if (n > count - done)
			n = count - done;
		vmscan_prepare_alloc(sys);
		pthread_rwlock_rdlock(&ino->invalidate_lock);
		pfn = pagecache_get(sys, ino, pg_count(&sys->geom, at), &major, &err);
		if (pfn == FRAME_NONE) {
			pthread_rwlock_unlock(&ino->invalidate_lock);
			/* No frame: reclaim, then the OOM killer, as a fault would. */
			if (err == -ENOMEM && alloc_retry(sys, NULL, &passes))
				continue;
			return done ? (int64_t)done : err;
		}
		passes = 0;
		if (ino->type == INODE_REG)
			mark_page_accessed(&sys->lru, &sys->fp, pfn);
		memcpy(pfn_host(&sys->fp, pfn) + off, (const char *)buf + done, n);
		dirtied = page_mark_dirty(sys, ino, pfn);
		pthread_mutex_lock(&ino->lock);
		if (at + n > inode_size(ino))
			atomic_store(&ino->size, at + n);
		pthread_mutex_unlock(&ino->lock);
		pthread_rwlock_unlock(&ino->invalidate_lock);
		frame_put(&sys->fp, pfn);
		done += n;
		/* generic_perform_write: after each folio, with the file's locks dropped. */
		if (dirtied)
			balance_dirty_pages_ratelimited(sys);
	}
	return (int64_t)done;
}

/*
 * The file at fd for reading (or writing) at offset, with a reference; NULL
 * with *err EBADF (no such descriptor, or not open for that) or EINVAL (a
 * negative offset).
 */
static struct file *fget_for(struct um_proc *p, int fd, bool write, int64_t offset, int64_t *err)
{
	struct file *f = fget(p, fd);

	*err = -EBADF;
	if (!f)
		return NULL;
	if (!(write ? FMODE_WRITE(f) : FMODE_READ(f))) {
		fput(p->sys, f);
		return NULL;
	}
	if (offset < 0) {
		fput(p->sys, f);
		*err = -EINVAL;
		return NULL;
	}
	return f;
}

static int64_t do_read(struct um_proc *p, int fd, void *buf, uint64_t count, int64_t offset,
		       bool positional)
{
	int64_t r;
	struct file *f = fget_for(p, fd, false, positional ? offset : 0, &r);

	if (!f)
		return r;
	if (positional) {
		r = file_read(p->sys, f, count, (uint64_t)offset, copy_to_buf, buf);
	} else {
		pthread_mutex_lock(&f->pos_lock);
		r = file_read(p->sys, f, count, f->pos, copy_to_buf, buf);
		if (r > 0)
			f->pos += (uint64_t)r;
		pthread_mutex_unlock(&f->pos_lock);
	}
	fput(p->sys, f);
	return r;
}

/*
 * generic_write_check_limits: a regular file's write may reach
 * RLIMIT_FSIZE and no further. One that would cross it is cut short at the
 * limit (*count); one that starts at or past it sends SIGXFSZ and fails,
 * EFBIG. Writing nothing is never refused. Returns 0 or -EFBIG.
 */
static int write_check_limits(struct um_proc *p, const struct inode *ino, uint64_t pos,
			      uint64_t *count)
{
	uint64_t limit = rlimit(p->mm, UM_RLIMIT_FSIZE);

	if (ino->type != INODE_REG || !*count || limit == UM_RLIM_INFINITY)
		return 0;
	if (pos >= limit) {
		send_sig(p, UM_SIGXFSZ);
		return -EFBIG;
	}
	if (*count > limit - pos)
		*count = limit - pos;
	return 0;
}

static int64_t do_write(struct um_proc *p, int fd, const void *buf, uint64_t count,
			int64_t offset, bool positional)
{
	int64_t r;
	struct file *f = fget_for(p, fd, true, positional ? offset : 0, &r);
	uint64_t pos;

	if (!f)
		return r;
	if (positional) {
		/* Linux: pwrite on an O_APPEND file appends, and leaves the offset alone. */
		pos = (f->flags & UM_O_APPEND) ? inode_size(f->inode) : (uint64_t)offset;
		r = write_check_limits(p, f->inode, pos, &count);
		if (!r)
			r = inode_write(p->sys, f->inode, buf, count, pos);
	} else {
		pthread_mutex_lock(&f->pos_lock);
		if (f->flags & UM_O_APPEND)
			f->pos = inode_size(f->inode);
		r = write_check_limits(p, f->inode, f->pos, &count);
		if (!r)
			r = inode_write(p->sys, f->inode, buf, count, f->pos);
		if (r > 0)
			f->pos += (uint64_t)r;
		pthread_mutex_unlock(&f->pos_lock);
	}
	fput(p->sys, f);
	return r;
}

int64_t um_read(struct um_proc *p, int fd, void *buf, uint64_t count)
{
	return do_read(p, fd, buf, count, 0, false);
}

int64_t um_write(struct um_proc *p, int fd, const void *buf, uint64_t count)
{
	return do_write(p, fd, buf, count, 0, false);
}

int64_t um_pread(struct um_proc *p, int fd, void *buf, uint64_t count, int64_t offset)
{
	return do_read(p, fd, buf, count, offset, true);
}

int64_t um_pwrite(struct um_proc *p, int fd, const void *buf, uint64_t count, int64_t offset)
{
	return do_write(p, fd, buf, count, offset, true);
}

#define BOUNCE 4096

/* What one read or write moves at most (Linux's MAX_RW_COUNT: INT_MAX, page-aligned). */
#define MAX_RW_COUNT 0x7ffff000ULL

/*
 * x86-64's access_ok(): the whole buffer ends at or below TASK_SIZE_MAX
 * without wrapping. read(2) and write(2) check it before anything else
 * happens, even for a count of 0.
 */
static bool access_ok(const struct um_system *sys, uint64_t addr, uint64_t count)
{
	return addr + count >= addr && addr + count <= sys->task_size;
}

/*
 * Does a VMA of [addr, addr + count) map ino (shared only: a store to a
 * private mapping goes to a copy), so the buffer may alias the file's pages?
 */
static bool buffer_maps_inode(struct um_proc *p, uint64_t addr, uint64_t count,
			      const struct inode *ino, bool shared_only)
{
	struct mm *mm = p->mm;
	bool found = false;

	pthread_rwlock_rdlock(&mm->lock);
	for (const struct vma *v = vma_find(&mm->vmas, addr); v && v->vm_start < addr + count;
	     v = v->next)
		if (v->vm_inode == ino && (!shared_only || (v->vm_flags & VM_SHARED))) {
			found = true;
			break;
		}
	pthread_rwlock_unlock(&mm->lock);
	return found;
}

/*
 * A read or write whose buffer maps the file's own cached pages (a shared
 * mapping, for a read; for a write a private one too, whose pages not yet
 * copied are the cache's) may move bytes onto their own source. The
 * library moves each page of the file as if through a buffer: every byte
 * the call moves within one page is read before any is written (memmove),
 * and the pages go in file order. Linux copies between the buffer and
 * the cache a page at a time for a read (copy_page_to_iter) and a folio at
 * a time for a write (copy_folio_from_iter_atomic; the library writes
 * single pages), each piece one copy_to_user or copy_from_user, and how
 * that copy treats an overlap is the host CPU's: `rep movsb` repeated the
 * bytes of a forward overlap on an AMD host and moved them as memmove does
 * on an Intel one. The library gives the one answer, Intel's, on every host.
 *
 * alias_bounce: the page to move through, when the buffer may alias the
 * file (buffer_maps_inode), else NULL. *err: -ENOMEM when the buffer
 * aliases and no page could be had, else 0.
 */
static unsigned char *alias_bounce(struct um_proc *p, uint64_t addr, uint64_t count,
				   const struct inode *ino, bool shared_only, int64_t *err)
{
	unsigned char *bounce = NULL;

	*err = 0;
	if (buffer_maps_inode(p, addr, count, ino, shared_only)) {
		bounce = um_malloc(p->sys, p->sys->geom.size);
		if (!bounce)
			*err = -ENOMEM;
	}
	return bounce;
}

/* A read(2) into process memory: where its bytes go. */
struct user_buf {
	struct um_proc *p;
	uint64_t addr;
	unsigned char *bounce; /* the buffer maps the file being read, shared (alias_bounce) */
};

/*
 * copy_folio_to_iter into process memory, faulting as a store does. src is
 * (part of) one cached page; when the buffer may map that page, the bytes
 * go through u->bounce first, so the move is a memmove (alias_bounce).
 */
static uint64_t copy_to_user_buf(void *arg, uint64_t off, const void *src, uint64_t len)
{
	struct user_buf *u = arg;
	uint64_t dst = u->addr + off;
	struct um_siginfo si;

	if (u->bounce) {
		memcpy(u->bounce, src, len);
		src = u->bounce;
	}
	if (!um_copy_to(u->p, dst, src, (size_t)len, &si))
		return len;
	return si.addr > dst ? si.addr - dst : 0;
}

int64_t um_read_user(struct um_proc *p, int fd, uint64_t addr, uint64_t count)
{
	struct user_buf u = { .p = p, .addr = addr };
	int64_t r = 0;
	struct file *f = fget_for(p, fd, false, 0, &r);

	if (!f)
		return r;
	if (!access_ok(p->sys, addr, count)) {
		fput(p->sys, f);
		return -EFAULT;
	}
	u.bounce = alias_bounce(p, addr, count, f->inode, true, &r);
	if (r) {
		fput(p->sys, f);
		return r;
	}
	pthread_mutex_lock(&f->pos_lock);
	r = file_read(p->sys, f, count, f->pos, copy_to_user_buf, &u);
	if (r > 0)
		f->pos += (uint64_t)r;
	pthread_mutex_unlock(&f->pos_lock);
	um_free(p->sys, u.bounce);
	fput(p->sys, f);
	return r;
}

/* The largest folio a buffered write takes (mapping_max_folio_size: a PMD). */
#define WRITE_CHUNK (2ULL << 20)

/*
 * A round of a buffered write whose copy from user memory took nothing at
 * file position pos (generic_perform_write): Linux has already prepared
 * the folio at pos (ext4's write_begin: read in, or zero past EOF) before
 * the copy, and write_end of nothing leaves it cached and, past EOF, moves
 * i_size up to pos. Where the page's block was a hole, write_begin
 * reserved it (a new delayed block on an uptodate page is marked dirty),
 * so the page is dirty; a page whose block holds data is dirty only if it
 * already was (a dirty page is a delayed block, no hole). len is what the
 * round asked for. Returns where the folio ends (the round's bytes stop
 * there). Best effort: the write goes on whatever happens here.
 */
static uint64_t write_fault_at(struct um_system *sys, struct inode *ino, uint64_t pos,
			       uint64_t len)
{
	uint64_t index = pg_count(&sys->geom, pos), first, nr;
	unsigned order = 0;
	bool dirtied = false;

	if (ino->type != INODE_REG)
		return page_align_down(&sys->geom, pos) + sys->geom.size;
	/*
	 * ext4 has large folios: write_begin takes a folio sized for the
	 * round (fgf_set_order), aligned to its size, so the pages around pos
	 * come with it.
	 */
	while ((2ULL << (order + sys->geom.shift)) <= len)
		order++;
	if (index & ((1ULL << order) - 1))
		order = (unsigned)__builtin_ctzll(index);
	if (pos > inode_size(ino) && truncate_setsize(sys, ino, pos))
		return page_align_down(&sys->geom, pos) + sys->geom.size;
	pthread_rwlock_rdlock(&ino->invalidate_lock);
	/*
	 * A folio already cached at pos is the one used (a page here); a new
	 * one shrinks until it overlaps no cached page (filemap_add_folio's
	 * EEXIST, retried at a lower order).
	 */
	for (;; order--) {
		bool busy = false;

		nr = 1ULL << order;
		first = index & ~(nr - 1);
		for (uint64_t i = first; i < first + nr && !busy; i++)
			busy = pagecache_lookup(ino, i) != FRAME_NONE;
		if (!busy || !order)
			break;
	}
	for (uint64_t i = first; i < first + nr; i++) {
		bool major;
		int err;
		uint32_t pfn = pagecache_get(sys, ino, i, &major, &err);

		if (pfn == FRAME_NONE)
			break;
		if (host_is_hole(ino->host_fd, pg_bytes(&sys->geom, i), sys->geom.size))
			dirtied |= page_mark_dirty(sys, ino, pfn);
		frame_put(&sys->fp, pfn);
	}
	pthread_rwlock_unlock(&ino->invalidate_lock);
	if (dirtied)
		balance_dirty_pages_ratelimited(sys);
	return pg_bytes(&sys->geom, first + nr);
}

/*
 * fault_in_readable: reads the first byte of [addr, addr + len) and the
 * first of each page after it, faulting them in, up to the first that
 * faults. Answers whether the first one could be read.
 */
static bool fault_in_readable(struct um_proc *p, uint64_t addr, uint64_t len)
{
	const struct page_geom *g = &p->sys->geom;
	uint64_t v;
	struct um_siginfo si;

	if (um_load(p, addr, 1, &v, &si))
		return false;
	for (uint64_t a = page_align_down(g, addr) + g->size; a > addr && a < addr + len;
	     a += g->size)
		if (um_load(p, a, 1, &v, &si))
			break;
	return true;
}

/*
 * write(2) from process memory, as generic_perform_write goes: each round
 * copies from the buffer with faults disabled (copy_from_user_nofault) and
 * writes what it got. A round that gets nothing has still prepared the
 * folio at the position (write_fault_at); then the buffer is faulted in
 * (fault_in_readable) for the rest of that folio and the round tried
 * again. The faults thus come after write_begin, which may have moved
 * i_size: fault-around may then map the new folio. EFAULT when the fault
 * cannot bring in the first byte.
 */
int64_t um_write_user(struct um_proc *p, int fd, uint64_t addr, uint64_t count)
{
	unsigned char stack_bounce[BOUNCE], *alias, *bounce = stack_bounce;
	uint64_t done = 0, chunk = BOUNCE, round = WRITE_CHUNK, ps = p->sys->geom.size;
	int64_t r = 0;
	struct file *f = fget_for(p, fd, true, 0, &r);
	unsigned idle = 0;

	if (!f)
		return r;
	if (!access_ok(p->sys, addr, count)) {
		fput(p->sys, f);
		return -EFAULT;
	}
	if (f->inode->type == INODE_ZERO) {
		/* write_zero never reads the buffer: any user range is taken whole. */
		fput(p->sys, f);
		return (int64_t)(count < MAX_RW_COUNT ? count : MAX_RW_COUNT);
	}
	/*
	 * A round's bytes stay within one page of the file, read whole into
	 * the bounce before any is written: a buffer that maps the file over
	 * the bytes being written moves each page as memmove does
	 * (alias_bounce), through a whole page then.
	 */
	alias = alias_bounce(p, addr, count, f->inode, false, &r);
	if (r) {
		fput(p->sys, f);
		return r;
	}
	if (alias) {
		bounce = alias;
		chunk = ps;
	}
	pthread_mutex_lock(&f->pos_lock);
	if (f->flags & UM_O_APPEND)
		f->pos = inode_size(f->inode);
	r = write_check_limits(p, f->inode, f->pos, &count);
	if (r)
		count = 0;
	while (done < count) {
		uint64_t n = count - done < chunk ? count - done : chunk, bytes, end;

		if (n > ps - (f->pos & (ps - 1)))
			n = ps - (f->pos & (ps - 1));
		n = copy_from_user_nofault(p, bounce, addr + done, (size_t)n);
		if (n) {
			r = inode_write(p->sys, f->inode, bounce, n, f->pos);
			if (r < 0)
				break;
			f->pos += (uint64_t)r;
			done += (uint64_t)r;
			idle = 0;
			continue;
		}
		/*
		 * Nothing copied at f->pos: write_begin and write_end of nothing,
		 * the round shrinks (chunk /= 2), and the buffer is faulted in
		 * for the bytes of the folio. A guard against a livelock Linux
		 * would spin in: a buffer that faults in but never copies.
		 */
		bytes = round - (f->pos & (round - 1));
		if (bytes > count - done)
			bytes = count - done;
		end = write_fault_at(p->sys, f->inode, f->pos, bytes);
		if (end > f->pos && bytes > end - f->pos)
			bytes = end - f->pos;
		if (round > p->sys->geom.size)
			round /= 2;
		if (!fault_in_readable(p, addr + done, bytes) || ++idle > 8) {
			r = -EFAULT;
			break;
		}
	}
	pthread_mutex_unlock(&f->pos_lock);
	um_free(p->sys, alias);
	fput(p->sys, f);
	if (done)
		return (int64_t)done;
	return r < 0 ? r : 0;
}

int64_t um_lseek(struct um_proc *p, int fd, int64_t offset, int whence)
{
	struct file *f = fget(p, fd);
	int64_t base, r;

	if (!f)
		return -EBADF;
	if (f->inode->type == INODE_ZERO) {
		/* /dev/zero: every seek succeeds and lands at 0 (noop_llseek's cousin). */
		fput(p->sys, f);
		return 0;
	}
	pthread_mutex_lock(&f->pos_lock);
	switch (whence) {
	case UM_SEEK_SET:
		base = 0;
		break;
	case UM_SEEK_CUR:
		base = (int64_t)f->pos;
		break;
	case UM_SEEK_END:
		base = (int64_t)inode_size(f->inode);
		break;
	default:
		base = -1;
		break;
	}
	if (base < 0 || (offset > 0 && base > INT64_MAX - offset) || base + offset < 0) {
		r = -EINVAL;
	} else {
		f->pos = (uint64_t)(base + offset);
		r = base + offset;
	}
	pthread_mutex_unlock(&f->pos_lock);
	fput(p->sys, f);
	return r;
}

int um_ftruncate(struct um_proc *p, int fd, int64_t length)
{
	struct file *f = fget(p, fd);
	int err;

	if (!f)
		return -EBADF;
	if (length < 0 || f->inode->type != INODE_REG || !FMODE_WRITE(f)) {
		err = -EINVAL;
	} else if ((uint64_t)length > inode_size(f->inode) &&
		   (uint64_t)length > rlimit(p->mm, UM_RLIMIT_FSIZE)) {
		/* inode_newsize_ok: growing past RLIMIT_FSIZE (reaching it is fine). */
		send_sig(p, UM_SIGXFSZ);
		err = -EFBIG;
	} else {
		err = truncate_setsize(p->sys, f->inode, (uint64_t)length);
	}
	fput(p->sys, f);
	return err;
}

static int do_fsync(struct um_proc *p, int fd, bool datasync)
{
	struct file *f = fget(p, fd);
	int err = 0;

	if (!f)
		return -EBADF;
	if (f->inode->type == INODE_REG) {
		err = writeback_range(p->sys, f->inode, 0, UINT64_MAX, true);
		if (!err && !datasync)
			err = host_fsync(p->sys, f->inode->host_fd);
	} else if (f->inode->type == INODE_ZERO) {
		err = -EINVAL;
	}
	fput(p->sys, f);
	return err;
}

int um_fsync(struct um_proc *p, int fd)
{
	return do_fsync(p, fd, false);
}

int um_fdatasync(struct um_proc *p, int fd)
{
	return do_fsync(p, fd, true);
}

int um_fstat(struct um_proc *p, int fd, struct um_stat *st)
{
	struct file *f = fget(p, fd);
	struct inode *ino;
	struct stat hs;

	if (!f)
		return -EBADF;
	ino = f->inode;
	memset(st, 0, sizeof(*st));
	st->st_ino = ino->ino;
	st->st_size = inode_size(ino);
	pthread_mutex_lock(&ino->lock);
	st->st_mode = ino->i_mode;
	st->st_uid = ino->i_uid;
	st->st_gid = ino->i_gid;
	pthread_mutex_unlock(&ino->lock);
	switch (ino->type) {
	case INODE_ZERO:
		st->st_dev = ino->dev; /* the host's /dev/zero: maps prints the same */
		st->st_size = 0;
		break;
	default:
		st->st_dev = ino->dev;
		if (ino->host_fd >= 0 && host_fstat(ino->host_fd, &hs) == 0)
			st->st_blocks = (uint64_t)hs.st_blocks;
		break;
	}
	fput(p->sys, f);
	return 0;
}

int um_sync(struct um_system *sys)
{
	return wb_sync_all(sys);
}

const char *um_sandbox_dir(const struct um_system *sys)
{
	return sys->sandbox_path;
}
