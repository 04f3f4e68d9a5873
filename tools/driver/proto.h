/*
 * proto.h: the protocol between the usermm runner and its kernel driver
 * (tools/driver/driver.c), over one AF_UNIX stream socket per driver
 * process, always at descriptor DRV_FD in the driver.
 *
 * The runner sends a request (struct drv_req, then len bytes); the driver
 * answers with a reply (struct drv_rep, then len bytes). A driver that
 * starts (spawned, forked or exec'd) first sends a reply unasked, its
 * "ready" message: ret is the top of its mmap area (0 from a forked child,
 * which has its parent's), addr its pid. DRV_FORK
 * carries the child's end of a new socket as SCM_RIGHTS; DRV_EXIT has no
 * reply: the runner reads until end of file, which comes after the
 * driver's address space is gone.
 *
 * The runner starts a driver with one argument, the capabilities it is to
 * keep (a hexadecimal mask of capability numbers: 0 for none); a driver
 * that exec's itself has none, and leaves its credentials as the kernel's
 * exec made them.
 */
#ifndef USERMM_DRIVER_PROTO_H
#define USERMM_DRIVER_PROTO_H

#include <stdint.h>

#define DRV_FD	     1000
/*
 * The most bytes a request or a reply carries. A read or copy asking for
 * more breaks the protocol (the runner keeps within its own, smaller or
 * equal limits): the driver dies of it, as of a request too long.
 */
#define DRV_MAX_DATA (1u << 20)

enum drv_op {
	DRV_SYSCALL = 1, /* a[0] = number, a[1..6] = arguments */
	DRV_OPEN,	 /* data = path; a[0] flags, a[1] mode */
	DRV_READ,	 /* a[0] fd, a[1] count: reply data = bytes */
	DRV_PREAD,	 /* a[0] fd, a[1] count, a[2] offset */
	DRV_WRITE,	 /* a[0] fd, data = bytes */
	DRV_PWRITE,	 /* a[0] fd, a[1] offset, data = bytes */
	DRV_MINCORE,	 /* a[0] addr, a[1] len, a[2] page size: reply data = vec, when
			    it has at most DRV_MAX_DATA pages (any range runs) */
	DRV_LOAD,	 /* a[0] addr, a[1] size (1, 2, 4, 8): ret = value */
	DRV_STORE,	 /* a[0] addr, a[1] size, a[2] value */
	DRV_COPY_FROM,	 /* a[0] addr, a[1] len: reply data = bytes */
	DRV_COPY_TO,	 /* a[0] addr, data = bytes */
	DRV_FILL,	 /* a[0] addr, a[1] len, a[2] byte, a[3] 1: the offsets pattern instead */
	DRV_CHECK,	 /* as DRV_FILL, reading: ret = offset of the first byte that differs,
			    or a[1] when none does */
	DRV_TOUCH,	 /* a[0] addr, a[1] len, a[2] write, a[3] page size */
	DRV_FORK,	 /* SCM_RIGHTS: the child's socket; ret = child pid */
	DRV_EXEC,	 /* the driver execs itself: a ready message follows */
	DRV_EXIT,	 /* _exit(0); no reply */
	DRV_SETRLIMIT,	 /* a[0] resource, a[1] soft, a[2] hard */
	DRV_GETRLIMIT,	 /* a[0] resource: reply data = soft, hard (two uint64_t) */
	DRV_FSTAT,	 /* a[0] fd: reply data = struct drv_stat */
	DRV_PATHAT,	 /* a[0] number of an *at call, data = path: the call (AT_FDCWD, path,
			  * a[1], a[2], a[3]) for a path that stays in the sandbox */
	DRV_OOM_SCORE_ADJ, /* a[0] value (signed): written to /proc/self/oom_score_adj by
			    * the driver itself, so its own privilege decides */
};

/* What fstat tells of a file. */
struct drv_stat {
	uint32_t mode;
	uint32_t uid;
	uint32_t gid;
	uint32_t pad;
	uint64_t size;
};

struct drv_req {
	uint32_t op;
	uint32_t len;
	uint64_t a[7];
};

/*
 * ret: the return value, or -1 with err set to the errno. A faulting
 * access sets signo, code and addr from its siginfo (ret is then -1 and
 * err 0). sent: a signal the call made the kernel send the driver, which
 * caught it (SIGXFSZ from a write or truncate past RLIMIT_FSIZE), or 0.
 */
struct drv_rep {
	int64_t ret;
	int32_t err;
	int32_t signo;
	int32_t code;
	uint32_t len;
	uint64_t addr;
	int32_t sent;
};

#endif /* USERMM_DRIVER_PROTO_H */
