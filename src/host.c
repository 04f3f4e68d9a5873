/*
 * host.c: the only file that calls the host kernel: file I/O, the
 * reservation of physical memory, and the barrier of TLB shootdowns.
 *
 * Everything usermm does to real files goes through these functions, so
 * that tests can make the n-th call fail (EIO, ENOSPC, a short read) and
 * check that nothing is half-done. Paths are resolved with openat2(2)
 * and RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS below the sandbox directory:
 * the host kernel itself refuses "..", absolute paths and symbolic links
 * that lead out, so no check here can be raced.
 *
 * Each function returns a non-negative result or a negative errno.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/membarrier.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "host.h"
#include "system.h"

/* Counts a host call and says whether the injector makes it fail. */
static int injected(struct um_system *sys, enum host_op op)
{
	struct host_faults *hf = &sys->host_faults;
	uint64_t n;

	if (!hf->armed || !(hf->ops & (1u << op)))
		return 0;
	n = atomic_fetch_add(&hf->count, 1) + 1;
	if (n == hf->fail_at || (hf->sticky && n > hf->fail_at))
		return -hf->err;
	return 0;
}

int host_open_beneath(struct um_system *sys, const char *path, int flags, unsigned mode)
{
	struct open_how how;
	long fd;
	int err = injected(sys, HOST_OPEN);

	if (err)
		return err;
	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)(flags | O_CLOEXEC);
	/* O_TMPFILE includes O_DIRECTORY's bit: test it whole. */
	how.mode = ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) ? mode : 0;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	fd = syscall(SYS_openat2, sys->sandbox_fd, path, &how, sizeof(how));
	if (fd < 0)
		return errno == EXDEV ? -EACCES : -errno; /* EXDEV: it would leave the sandbox */
	return (int)fd;
}

static int64_t pread_op(struct um_system *sys, enum host_op op, int fd, void *buf, uint64_t n,
		       uint64_t off)
{
	ssize_t r;
	int err = injected(sys, op);

	if (err)
		return err;
	do
		r = pread(fd, buf, n, (off_t)off);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

int64_t host_pread(struct um_system *sys, int fd, void *buf, uint64_t n, uint64_t off)
{
	return pread_op(sys, HOST_READ, fd, buf, n, off);
}

int64_t host_swap_pread(struct um_system *sys, int fd, void *buf, uint64_t n, uint64_t off)
{
	return pread_op(sys, HOST_SWAP_READ, fd, buf, n, off);
}

int64_t host_preadv(struct um_system *sys, int fd, const struct iovec *iov, int cnt, uint64_t off)
{
	ssize_t r;
	int err = injected(sys, HOST_READ);

	if (err)
		return err;
	do
		r = preadv(fd, iov, cnt, (off_t)off);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

static int64_t pwrite_op(struct um_system *sys, enum host_op op, int fd, const void *buf,
			 uint64_t n, uint64_t off)
{
	const char *p = buf;
	uint64_t done = 0;
	int err = injected(sys, op);

	if (err)
		return err;
	while (done < n) {
		ssize_t r = pwrite(fd, p + done, n - done, (off_t)(off + done));

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EIO;
		done += (uint64_t)r;
	}
	return (int64_t)done;
}

int64_t host_pwrite(struct um_system *sys, int fd, const void *buf, uint64_t n, uint64_t off)
{
	return pwrite_op(sys, HOST_WRITE, fd, buf, n, off);
}

int64_t host_swap_pwrite(struct um_system *sys, int fd, const void *buf, uint64_t n, uint64_t off)
{
	return pwrite_op(sys, HOST_SWAP_WRITE, fd, buf, n, off);
}

int host_unlink(struct um_system *sys, const char *path)
{
	return unlinkat(sys->sandbox_fd, path, 0) ? -errno : 0;
}

int host_fd_path(int fd, char *buf, size_t n)
{
	char link[64];
	ssize_t r;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	r = readlink(link, buf, n - 1);
	if (r < 0)
		return -errno;
	if ((size_t)r >= n - 1)
		return -ENAMETOOLONG;
	buf[r] = 0;
	return 0;
}

int host_fdatasync(struct um_system *sys, int fd)
{
	int err = injected(sys, HOST_SYNC);

	if (err)
		return err;
	return fdatasync(fd) ? -errno : 0;
}

int host_fsync(struct um_system *sys, int fd)
{
	int err = injected(sys, HOST_SYNC);

	if (err)
		return err;
	return fsync(fd) ? -errno : 0;
}

int host_ftruncate(struct um_system *sys, int fd, uint64_t len)
{
	int err = injected(sys, HOST_TRUNCATE);

	if (err)
		return err;
	return ftruncate(fd, (off_t)len) ? -errno : 0;
}

int host_punch_hole(struct um_system *sys, int fd, uint64_t off, uint64_t len)
{
	int err = injected(sys, HOST_TRUNCATE);

	if (err)
		return err;
	return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len)
		       ? -errno
		       : 0;
}

bool host_is_hole(int fd, uint64_t off, uint64_t len)
{
	off_t data = lseek(fd, (off_t)off, SEEK_DATA);

	if (data < 0)
		return errno == ENXIO; /* no data from off to the end of the file */
	return (uint64_t)data >= off + len;
}

int host_fstat(int fd, struct stat *st)
{
	return fstat(fd, st) ? -errno : 0;
}

int host_stat(const char *path, struct stat *st)
{
	return stat(path, st) ? -errno : 0;
}

void host_fchmod(int fd, uint32_t mode)
{
	/* On failure the host file keeps its mode: the library's inode has the new one. */
	(void)fchmod(fd, (mode_t)mode);
}

void host_ids(uint32_t *uid, uint32_t *gid)
{
	*uid = (uint32_t)geteuid();
	*gid = (uint32_t)getegid();
}

uint32_t host_read_ahead_kb(uint64_t dev)
{
	/* A whole disk has queue/; a partition's is its disk's, one level up. */
	static const char *const where[] = {"/sys/dev/block/%u:%u/queue/read_ahead_kb",
					    "/sys/dev/block/%u:%u/../queue/read_ahead_kb"};
	char path[96];
	unsigned kb;

	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		FILE *f;
		int ok;

		snprintf(path, sizeof(path), where[i], major((dev_t)dev), minor((dev_t)dev));
		f = fopen(path, "re");
		if (!f)
			continue;
		ok = fscanf(f, "%u", &kb) == 1;
		fclose(f);
		if (ok)
			return kb;
	}
	return UINT32_MAX;
}

void host_close(int fd)
{
	close(fd);
}

int host_sandbox_open(struct um_system *sys, const char *dir)
{
	char tmpl[] = "/tmp/usermm.XXXXXX";
	const char *base = getenv("TMPDIR");
	char *path;
	int fd;

	if (dir) {
		path = realpath(dir, NULL);
		if (!path)
			return -errno;
	} else {
		if (base && *base) {
			size_t n = strlen(base) + sizeof("/usermm.XXXXXX");

			path = malloc(n);
			if (!path)
				return -ENOMEM;
			snprintf(path, n, "%s/usermm.XXXXXX", base);
		} else {
			path = strdup(tmpl);
			if (!path)
				return -ENOMEM;
		}
		if (!mkdtemp(path)) {
			int err = -errno;

			free(path);
			return err;
		}
		sys->sandbox_owned = true;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int err = -errno;

		if (sys->sandbox_owned)
			rmdir(path);
		free(path);
		return err;
	}
	sys->sandbox_fd = fd;
	sys->sandbox_path = path;
	return 0;
}

/* Removes what a directory (fd, consumed) holds, depth first. */
static void remove_tree(int dfd)
{
	DIR *d = fdopendir(dfd);
	struct dirent *e;

	if (!d) {
		close(dfd);
		return;
	}
	while ((e = readdir(d))) {
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);

			if (sub >= 0)
				remove_tree(sub);
			unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
		} else {
			unlinkat(dirfd(d), e->d_name, 0);
		}
	}
	closedir(d);
}

void host_sandbox_close(struct um_system *sys)
{
	if (sys->sandbox_fd >= 0) {
		if (sys->sandbox_owned) {
			remove_tree(dup(sys->sandbox_fd));
			rmdir(sys->sandbox_path);
		}
		close(sys->sandbox_fd);
	}
	free(sys->sandbox_path);
	sys->sandbox_fd = -1;
	sys->sandbox_path = NULL;
}

void *host_reserve(size_t bytes, bool huge)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	/* Advice only: a host without THP still works, page by page. */
	if (huge)
		madvise(p, bytes, MADV_HUGEPAGE);
	return p;
}

void host_release(void *p, size_t bytes)
{
	munmap(p, bytes);
}

int host_membarrier_register(void)
{
	/* Prefer the cheap private barrier; fall back to the global one. */
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0)
		return MEMBARRIER_CMD_PRIVATE_EXPEDITED;
	return MEMBARRIER_CMD_GLOBAL;
}

void host_membarrier(int cmd)
{
	syscall(SYS_membarrier, cmd, 0, 0);
}
