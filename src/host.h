/*
 * The host and the heap: declarations of host.c (the only file that calls
 * host file I/O, with its fault injector) and alloc.c (all heap allocation).
 * Layer: host/alloc, the lowest.
 */
#ifndef UM_HOST_H
#define UM_HOST_H

#include "internal.h"

struct iovec;
struct stat;
struct um_system;

/* host.c: the only file that calls host file I/O */
enum host_op {
	HOST_OPEN,
	HOST_READ,
	HOST_WRITE,
	HOST_SYNC,
	HOST_TRUNCATE,
	HOST_SWAP_READ,		/* a swap file's: swap-in */
	HOST_SWAP_WRITE,	/* swap-out */
	HOST_NR_OPS
};

/* The n-th host call (counting the ops selected) fails with err (tests). */
struct host_faults {
	bool armed;
	bool sticky;		/* every call after the n-th fails too */
	uint32_t ops;		/* bit mask of host_op */
	uint64_t fail_at;
	int err;
	_Atomic uint64_t count;
};

UM_INTERNAL int host_open_beneath(struct um_system *sys, const char *path, int flags,
				  unsigned mode);
UM_INTERNAL int64_t host_pread(struct um_system *sys, int fd, void *buf, uint64_t n, uint64_t off);
UM_INTERNAL int64_t host_preadv(struct um_system *sys, int fd, const struct iovec *iov, int cnt,
				uint64_t off);
UM_INTERNAL int64_t host_pwrite(struct um_system *sys, int fd, const void *buf, uint64_t n,
				uint64_t off);
/* The same on a swap file: injected apart (HOST_SWAP_READ, HOST_SWAP_WRITE). */
UM_INTERNAL int64_t host_swap_pread(struct um_system *sys, int fd, void *buf, uint64_t n,
				    uint64_t off);
UM_INTERNAL int64_t host_swap_pwrite(struct um_system *sys, int fd, const void *buf, uint64_t n,
				     uint64_t off);
/* Removes the sandbox file path. */
UM_INTERNAL int host_unlink(struct um_system *sys, const char *path);
UM_INTERNAL int host_fdatasync(struct um_system *sys, int fd);
/* The read_ahead_kb of the host disk holding device dev, or UINT32_MAX when it has none. */
UM_INTERNAL uint32_t host_read_ahead_kb(uint64_t dev);
UM_INTERNAL int host_fsync(struct um_system *sys, int fd);
UM_INTERNAL int host_ftruncate(struct um_system *sys, int fd, uint64_t len);
UM_INTERNAL int host_punch_hole(struct um_system *sys, int fd, uint64_t off, uint64_t len);
/* Does [off, off + len) of the host file hold no data (a hole, or past its end)? */
UM_INTERNAL bool host_is_hole(int fd, uint64_t off, uint64_t len);
UM_INTERNAL int host_fstat(int fd, struct stat *st);
/* stat(2) of a host path outside the sandbox (a device file: /dev/zero). */
UM_INTERNAL int host_stat(const char *path, struct stat *st);
/* Sets the host file's permission bits; best effort (the inode holds the truth). */
UM_INTERNAL void host_fchmod(int fd, uint32_t mode);
/* The effective uid and gid of the program running the library. */
UM_INTERNAL void host_ids(uint32_t *uid, uint32_t *gid);
UM_INTERNAL void host_close(int fd);
/* The absolute path the host resolved for fd (as /proc/self/fd shows it). */
UM_INTERNAL int host_fd_path(int fd, char *buf, size_t n);
UM_INTERNAL int host_sandbox_open(struct um_system *sys, const char *dir);
UM_INTERNAL void host_sandbox_close(struct um_system *sys);
/* bytes of zeroed host memory reserved, not committed (MAP_NORESERVE), or NULL; huge: ask for THP. */
UM_INTERNAL void *host_reserve(size_t bytes, bool huge);
UM_INTERNAL void host_release(void *p, size_t bytes);
/* The membarrier(2) command that makes every thread of this process pass a full barrier. */
UM_INTERNAL int host_membarrier_register(void);
UM_INTERNAL void host_membarrier(int cmd);

/* alloc.c */
/*
 * The n-th heap allocation (um_malloc, um_calloc) fails, as SQLite's and
 * Lua's test harnesses make it (tests, alloc.c). Counts only while armed;
 * fail_at 0 just counts.
 */
struct alloc_faults {
	bool armed;
	bool sticky;		/* every allocation after the n-th fails too */
	uint64_t fail_at;
	_Atomic uint64_t count;	/* allocations seen while armed */
	_Atomic uint64_t failed; /* allocations refused while armed */
};

/* Allocation: one place, so tests can fail the n-th call (alloc.c). */
UM_INTERNAL void *um_malloc(struct um_system *sys, size_t n);
/*
 * Counts an allocation the library makes other than from the heap (a page
 * table's frame) as um_malloc does: true when the injector refuses it.
 */
UM_INTERNAL bool um_alloc_injected(struct um_system *sys);
UM_INTERNAL void *um_calloc(struct um_system *sys, size_t n, size_t size);
/* p grown or shrunk to n bytes, or NULL with p untouched. */
UM_INTERNAL void *um_realloc(struct um_system *sys, void *p, size_t n);
UM_INTERNAL void um_free(struct um_system *sys, void *p);

#endif /* UM_HOST_H */
