/*
 * driver.c: the kernel back end's driver, a small statically linked program
 * that performs a scenario process's system calls and memory accesses on
 * the real kernel, as the runner asks over the socket at DRV_FD (proto.h).
 *
 * Its address space holds only its image, its break, its stack and the
 * vvar/vdso pages, so every other mapping is the scenario's. It allocates
 * nothing after start-up: all buffers are static. Each system call goes
 * through syscall(2) with every argument explicit (glibc 2.36's mremap
 * wrapper would pass a stray fifth argument). Faulting accesses are caught
 * with sigsetjmp and reported with their signal, si_code and address.
 *
 * Start-up makes the process comparable with the sim back end's default
 * machine: the library's default resource limits whatever the runner
 * inherited (set first, so that the re-exec below lays the address space
 * out by them: set_limits), no address randomization (personality, then a
 * re-exec), no transparent huge pages, no execute-only memory whatever the
 * CPU (take_pkeys), and the sim's new process's credentials: the runner's
 * uid and gid, no supplementary groups, umask 022, and only the
 * capabilities the runner names (none, an unprivileged process:
 * mmap_min_addr, RLIMIT_MEMLOCK and the file mode bits apply, and hard
 * limits cannot be raised; or the library's privileged set). An exec the
 * scenario asks for (DRV_EXEC) keeps the scenario's limits and what the
 * kernel's exec left it.
 *
 * SIGXFSZ, which a write or truncate past RLIMIT_FSIZE sends, is caught
 * and reported with the call that caused it (drv_rep.sent).
 *
 * The signal handlers' state is the only mutable global state that is not
 * a buffer; it is what a handler needs.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "proto.h"

#define MIB (1UL << 20)
/* argv[1] of a driver exec'd by DRV_EXEC: its limits are the scenario's. */
#define EXEC_ARG "exec"

static unsigned char req_data[DRV_MAX_DATA + 1];
static unsigned char rep_data[DRV_MAX_DATA];

/* Fault state: written by on_fault, read after siglongjmp. */
static sigjmp_buf fault_env;
static volatile sig_atomic_t fault_armed;
static volatile int fault_signo;
static volatile int fault_code;
static volatile uintptr_t fault_addr;

/* Set by on_xfsz, read and cleared after each request. */
static volatile sig_atomic_t xfsz_sent;

static void on_xfsz(int sig)
{
	(void)sig;
	xfsz_sent = 1;
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (!fault_armed) {
		/* A fault in the driver itself: die of it on return. */
		signal(sig, SIG_DFL);
		return;
	}
	fault_armed = 0;
	fault_signo = sig;
	fault_code = si->si_code;
	fault_addr = (uintptr_t)si->si_addr;
	siglongjmp(fault_env, 1);
}

static void die(void)
{
	_exit(111);
}

static void write_all(int fd, const void *p, size_t n)
{
	const unsigned char *s = p;

	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die();
		s += w;
		n -= (size_t)w;
	}
}

static void read_all(int fd, void *p, size_t n)
{
	unsigned char *s = p;

	while (n) {
		ssize_t r = read(fd, s, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			_exit(0); /* the runner has gone: end quietly */
		s += r;
		n -= (size_t)r;
	}
}

static void reply(struct drv_rep *rep, const void *data)
{
	write_all(DRV_FD, rep, sizeof(*rep));
	if (rep->len)
		write_all(DRV_FD, data, rep->len);
}

/* Sets rep from a raw syscall return. */
static void set_ret(struct drv_rep *rep, long r)
{
	rep->ret = r;
	rep->err = r == -1 ? errno : 0;
}

/*
 * Writes v in decimal to /proc/self/oom_score_adj, as a shell's echo would:
 * the kernel checks the writer's CAP_SYS_RESOURCE, so the driver writes it.
 * Returns 0 or -1 with errno.
 */
static long write_oom_score_adj(int64_t v)
{
	char buf[24], *s = buf + sizeof(buf);
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
	long r;
	int fd, err;

	*--s = '\n';
	do
		*--s = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--s = '-';
	fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = write(fd, s, (size_t)(buf + sizeof(buf) - s));
	err = errno;
	close(fd);
	errno = err;
	return r < 0 ? -1 : 0;
}

/* ------------------------------------------------------------ start-up */

/*
 * A new process's credentials: no supplementary groups (setgroups needs
 * CAP_SETGID: first), umask 022, and the capabilities in keep alone, in
 * the effective and permitted sets and in the bounding set, so that an
 * exec by uid 0 gives back these and no others. A runner that is not
 * root has none to drop.
 */
static void set_cred(uint64_t keep)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];
	int cap;

	syscall(SYS_setgroups, 0L, NULL);
	umask(022);
	for (cap = 0; cap < 64; cap++)
		if (!((keep >> cap) & 1) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno == EINVAL)
			break;
	memset(data, 0, sizeof(data));
	data[0].effective = data[0].permitted = (uint32_t)keep;
	data[1].effective = data[1].permitted = (uint32_t)(keep >> 32);
	syscall(SYS_capset, &hdr, data);
}

/*
 * Sets limit res to cur, the hard limit to max (0: kept, raised to cur if
 * below). Unprivileged, a hard limit cannot rise: then cur as near as the
 * hard limit allows. Returns whether the soft limit changed.
 */
static bool pin_limit(int res, rlim_t cur, rlim_t max)
{
	struct rlimit old, rl;

	if (getrlimit(res, &old))
		return false;
	rl.rlim_cur = cur;
	rl.rlim_max = max ? max : old.rlim_max < cur ? cur : old.rlim_max;
	if (old.rlim_cur == rl.rlim_cur && old.rlim_max == rl.rlim_max)
		return false;
	if (setrlimit(res, &rl)) {
		rl.rlim_max = old.rlim_max;
		rl.rlim_cur = cur < old.rlim_max ? cur : old.rlim_max;
		if (setrlimit(res, &rl))
			return false;
	}
	return rl.rlim_cur != old.rlim_cur;
}

/*
 * The limits the sim's machine assumes, whatever the host's login or
 * container gave the runner: RLIMIT_STACK 8 MiB (exec places mmap_base
 * below a gap of the stack limit, 128 MiB at least, and an unlimited one
 * turns the layout bottom-up; a MAP_GROWSDOWN mapping grows up to it),
 * RLIMIT_MEMLOCK 8 MiB soft and hard, RLIMIT_AS and RLIMIT_DATA unlimited
 * (either fails large mappings), RLIMIT_NOFILE 1024 (the library's
 * descriptor table ends there). Run while still privileged: raising a
 * hard limit needs CAP_SYS_RESOURCE. Returns whether RLIMIT_STACK changed,
 * when the layout exec made follows the old one: the driver must exec
 * again.
 */
static bool set_limits(void)
{
	bool stack = pin_limit(RLIMIT_STACK, 8 * MIB, RLIM_INFINITY);

	pin_limit(RLIMIT_MEMLOCK, 8 * MIB, 8 * MIB);
	pin_limit(RLIMIT_AS, RLIM_INFINITY, RLIM_INFINITY);
	pin_limit(RLIMIT_DATA, RLIM_INFINITY, RLIM_INFINITY);
	pin_limit(RLIMIT_FSIZE, RLIM_INFINITY, RLIM_INFINITY);
	pin_limit(RLIMIT_NOFILE, 1024, 0);
	return stack;
}

/*
 * On a CPU with protection keys (PKU, enabled: OSPKE) Linux makes a
 * PROT_EXEC-only mapping execute-only: it gives the mapping a key of the
 * process's own that denies reads (SEGV_PKUERR), where without them such
 * a mapping can be read, as the library's can (x86-64 without protection
 * keys). The kernel takes that key from the process's free ones
 * (execute_only_pkey), so a process holding all of them gets readable
 * exec mappings on either CPU. Without PKU pkey_alloc fails at once. The
 * keys go with exec (main takes them again) and come with fork.
 */
static void take_pkeys(void)
{
	for (int i = 0; i < 16 && syscall(SYS_pkey_alloc, 0UL, 0UL) >= 0; i++)
		;
}

static void catch_faults(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	/* Linux's default action would end the driver: it is reported instead. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_xfsz;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGXFSZ, &sa, NULL);
	signal(SIGCHLD, SIG_IGN); /* forked drivers are reaped by the kernel */
	signal(SIGPIPE, SIG_IGN);
}

/* The top of the mmap area: where the first mmap(NULL) of one page ends. */
static uint64_t probe_top(void)
{
	long page = sysconf(_SC_PAGESIZE);
	long a = syscall(SYS_mmap, 0L, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1L, 0L);

	if (a == -1)
		return 0;
	syscall(SYS_munmap, a, page);
	return (uint64_t)a + (uint64_t)page;
}

/* The ready message: the top of the mmap area (probed only by a fresh image) and the pid. */
static void send_ready(int probe)
{
	struct drv_rep rep;

	memset(&rep, 0, sizeof(rep));
	rep.ret = probe ? (int64_t)probe_top() : 0;
	rep.addr = (uint64_t)getpid();
	reply(&rep, NULL);
}

/* ---------------------------------------------------------------- files */

/*
 * Does path stay in the working directory (the run's sandbox)? An O_PATH
 * openat2 with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS finds out, with the
 * process's own right to search the directories on the way. Returns 0, or
 * -1 with errno set (EXDEV, what would leave, reported as EACCES as the
 * library does; ENOENT, EACCES ... as the lookup ends).
 */
static int check_beneath(const char *path, int nofollow)
{
	struct open_how how;
	long fd;

	memset(&how, 0, sizeof(how));
	how.flags = O_PATH | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0);
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	fd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
	if (fd < 0 && errno == EXDEV)
		errno = EACCES;
	if (fd < 0)
		return -1;
	close((int)fd);
	return 0;
}

/*
 * open(2) below the working directory (the run's sandbox), refusing what
 * would leave it as the library does: openat2 with RESOLVE_BENEATH |
 * RESOLVE_NO_MAGICLINKS, EXDEV reported as EACCES; "/dev/zero" is opened
 * as it is. openat2 refuses flag bits and modes that open(2) ignores
 * (EINVAL): then the path is checked (check_beneath) and opened with
 * openat(2). Returns the descriptor, or -1 with errno set.
 */
static long open_sandboxed(const char *path, int flags, unsigned mode)
{
	struct open_how how;
	long fd;

	if (!strcmp(path, "/dev/zero"))
		return syscall(SYS_openat, AT_FDCWD, path, (long)flags, (long)mode);
	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)(unsigned)flags;
	how.mode = ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) ? mode : 0;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	fd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
	if (fd >= 0 || errno != EINVAL) {
		if (fd < 0 && errno == EXDEV)
			errno = EACCES;
		return fd;
	}
	if (check_beneath(path, flags & O_NOFOLLOW))
		return -1;
	return syscall(SYS_openat, AT_FDCWD, path, (long)flags, (long)mode);
}

/* fstat(2), told as struct drv_stat in rep_data. */
static void do_fstat(int fd, struct drv_rep *rep)
{
	struct drv_stat ds;
	struct stat st;

	set_ret(rep, syscall(SYS_fstat, (long)fd, &st));
	if (rep->ret)
		return;
	memset(&ds, 0, sizeof(ds));
	ds.mode = st.st_mode;
	ds.uid = st.st_uid;
	ds.gid = st.st_gid;
	ds.size = (uint64_t)st.st_size;
	memcpy(rep_data, &ds, sizeof(ds));
	rep->len = sizeof(ds);
}

/* --------------------------------------------------------- memory access */

static uint64_t load(uintptr_t a, unsigned size)
{
	switch (size) {
	case 1:
		return *(volatile uint8_t *)a;
	case 2:
		return *(volatile uint16_t *)a;
	case 4:
		return *(volatile uint32_t *)a;
	default:
		return *(volatile uint64_t *)a;
	}
}

static void store(uintptr_t a, unsigned size, uint64_t v)
{
	switch (size) {
	case 1:
		*(volatile uint8_t *)a = (uint8_t)v;
		break;
	case 2:
		*(volatile uint16_t *)a = (uint16_t)v;
		break;
	case 4:
		*(volatile uint32_t *)a = (uint32_t)v;
		break;
	default:
		*(volatile uint64_t *)a = v;
		break;
	}
}

/* A write access that leaves the byte as it was: one write fault, no read fault first. */
static void touch_write(uintptr_t a)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ volatile("lock orb $0, %0" : "+m"(*(volatile uint8_t *)a) : : "memory");
#else
	__atomic_fetch_or((uint8_t *)a, 0, __ATOMIC_SEQ_CST);
#endif
}

static void copy_from(uintptr_t a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		rep_data[i] = *(volatile uint8_t *)(a + i);
}

static void copy_to(uintptr_t a, const unsigned char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		*(volatile uint8_t *)(a + i) = s[i];
}

/* Byte i of the offsets pattern: each 8-byte word holds its offset (le64). */
static uint8_t pattern_byte(uint64_t i, uint8_t byte, int offsets)
{
	return offsets ? (uint8_t)((i & ~(uint64_t)7) >> (8 * (i & 7))) : byte;
}

static void fill(uintptr_t a, size_t n, uint8_t byte, int offsets)
{
	size_t i;

	for (i = 0; i < n; i++)
		*(volatile uint8_t *)(a + i) = pattern_byte(i, byte, offsets);
}

static uint64_t check(uintptr_t a, uint64_t n, uint8_t byte, int offsets)
{
	uint64_t i;

	for (i = 0; i < n; i++)
		if (*(volatile uint8_t *)(a + i) != pattern_byte(i, byte, offsets))
			break;
	return i;
}

static void touch(uintptr_t a, uint64_t len, int write, uint64_t page)
{
	uint64_t end = a + len, at = a;

	while (at < end && at >= a) {
		if (write)
			touch_write(at);
		else
			(void)*(volatile uint8_t *)at;
		at = (at & ~(page - 1)) + page;
	}
}

/*
 * Performs the memory access q asks for. On a fault, sets rep's signal
 * fields and ret to -1. Nothing but q and rep (pointers not changed after
 * sigsetjmp) is used across the jump.
 */
static void do_access(const struct drv_req *q, struct drv_rep *rep)
{
	if (sigsetjmp(fault_env, 1)) {
		rep->ret = -1;
		rep->signo = fault_signo;
		rep->code = fault_code;
		rep->addr = (uint64_t)fault_addr;
		return;
	}
	fault_armed = 1;
	switch (q->op) {
	case DRV_LOAD:
		rep->ret = (int64_t)load((uintptr_t)q->a[0], (unsigned)q->a[1]);
		break;
	case DRV_STORE:
		store((uintptr_t)q->a[0], (unsigned)q->a[1], q->a[2]);
		break;
	case DRV_COPY_FROM:
		copy_from((uintptr_t)q->a[0], (size_t)q->a[1]);
		break;
	case DRV_COPY_TO:
		copy_to((uintptr_t)q->a[0], req_data, q->len);
		break;
	case DRV_FILL:
		fill((uintptr_t)q->a[0], (size_t)q->a[1], (uint8_t)q->a[2], (int)q->a[3]);
		break;
	case DRV_CHECK:
		rep->ret = (int64_t)check((uintptr_t)q->a[0], q->a[1], (uint8_t)q->a[2], (int)q->a[3]);
		break;
	case DRV_TOUCH:
		touch((uintptr_t)q->a[0], q->a[1], (int)q->a[2], q->a[3] ? q->a[3] : 4096);
		break;
	default:
		break;
	}
	fault_armed = 0;
}

/*
 * mincore over any range, DRV_MAX_DATA pages of it at a time into
 * rep_data, as the kernel's own loop copies the vector out a page at a
 * time. The kernel checks each chunk (start aligned, the range inside the
 * address space) and walks it, so the range fails where one call over it
 * would, with that errno: EINVAL, or ENOMEM at the first page not mapped,
 * which a range past the end of the address space always reaches before
 * its chunks could wrap. The vector is sent only when it fits.
 */
static void do_mincore(const struct drv_req *q, struct drv_rep *rep)
{
	uint64_t page = q->a[2] ? q->a[2] : 4096, addr = q->a[0], left = q->a[1];
	uint64_t chunk = (uint64_t)DRV_MAX_DATA * page, n = left / page + !!(left % page);

	do {
		uint64_t k = left < chunk ? left : chunk;

		set_ret(rep, syscall(SYS_mincore, (long)addr, (long)k, rep_data));
		addr += k;
		left -= k;
	} while (rep->ret == 0 && left);
	if (rep->ret == 0 && n <= DRV_MAX_DATA)
		rep->len = (uint32_t)n;
}

/* --------------------------------------------------------------- requests */

/* Receives a request header, and the descriptor DRV_FORK carries (else -1). */
static void recv_req(struct drv_req *req, int *fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = {req, sizeof(*req)};
	struct msghdr msg;
	struct cmsghdr *c;
	ssize_t r;

	*fd = -1;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	do
		r = recvmsg(DRV_FD, &msg, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		_exit(0);
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	if ((size_t)r < sizeof(*req))
		read_all(DRV_FD, (unsigned char *)req + r, sizeof(*req) - (size_t)r);
	if (req->len > DRV_MAX_DATA)
		die();
	read_all(DRV_FD, req_data, req->len);
	req_data[req->len] = '\0';
}

static char *const exec_argv[] = {"usermm-driver", EXEC_ARG, NULL};
static char *const exec_envp[] = {NULL};

/* Handles one request; returns when the reply is sent. */
static void serve(const struct drv_req *q, int fd)
{
	struct drv_rep rep;
	const void *data = NULL;

	memset(&rep, 0, sizeof(rep));
	switch (q->op) {
	case DRV_SYSCALL:
		set_ret(&rep, syscall((long)q->a[0], q->a[1], q->a[2], q->a[3], q->a[4], q->a[5],
				      q->a[6]));
		break;
	case DRV_OPEN:
		set_ret(&rep,
			open_sandboxed((const char *)req_data, (int)q->a[0], (unsigned)q->a[1]));
		break;
	case DRV_FSTAT:
		do_fstat((int)q->a[0], &rep);
		if (rep.len)
			data = rep_data;
		break;
	case DRV_PATHAT:
		if (check_beneath((const char *)req_data, 0))
			set_ret(&rep, -1);
		else
			set_ret(&rep, syscall((long)q->a[0], (long)AT_FDCWD, req_data, q->a[1],
					      q->a[2], q->a[3]));
		break;
	case DRV_READ:
	case DRV_PREAD:
		if (q->a[1] > DRV_MAX_DATA)
			die(); /* a broken protocol (proto.h) */
		if (q->op == DRV_READ)
			set_ret(&rep, syscall(SYS_read, (long)q->a[0], rep_data, (long)q->a[1]));
		else
			set_ret(&rep, syscall(SYS_pread64, (long)q->a[0], rep_data, (long)q->a[1],
					      (long)q->a[2]));
		if (rep.ret > 0) {
			rep.len = (uint32_t)rep.ret;
			data = rep_data;
		}
		break;
	case DRV_WRITE:
		set_ret(&rep, syscall(SYS_write, (long)q->a[0], req_data, (long)q->len));
		break;
	case DRV_PWRITE:
		set_ret(&rep, syscall(SYS_pwrite64, (long)q->a[0], req_data, (long)q->len,
				      (long)q->a[1]));
		break;
	case DRV_MINCORE:
		do_mincore(q, &rep);
		data = rep_data;
		break;
	case DRV_COPY_FROM:
		if (q->a[1] > DRV_MAX_DATA)
			die(); /* a broken protocol (proto.h) */
		do_access(q, &rep);
		if (!rep.signo) {
			rep.len = (uint32_t)q->a[1];
			data = rep_data;
		}
		break;
	case DRV_LOAD:
	case DRV_STORE:
	case DRV_COPY_TO:
	case DRV_FILL:
	case DRV_CHECK:
	case DRV_TOUCH:
		do_access(q, &rep);
		break;
	case DRV_FORK: {
		pid_t pid;

		if (fd < 0) {
			rep.ret = -1;
			rep.err = EBADF;
			break;
		}
		pid = fork();
		if (pid == 0) {
			if (dup2(fd, DRV_FD) < 0)
				die();
			close(fd);
			send_ready(
			    0); /* the parent's top: a probe now would land below its mappings */
			return;
		}
		close(fd);
		set_ret(&rep, pid);
		break;
	}
	case DRV_EXEC:
		execve("/proc/self/exe", exec_argv, exec_envp);
		set_ret(&rep, -1);
		break;
	case DRV_EXIT:
		_exit(0);
	case DRV_SETRLIMIT: {
		struct rlimit rl = {q->a[1], q->a[2]};

		set_ret(&rep, syscall(SYS_setrlimit, (long)q->a[0], &rl));
		break;
	}
	case DRV_GETRLIMIT: {
		struct rlimit rl;
		uint64_t v[2];

		set_ret(&rep, syscall(SYS_getrlimit, (long)q->a[0], &rl));
		if (rep.ret == 0) {
			v[0] = rl.rlim_cur;
			v[1] = rl.rlim_max;
			memcpy(rep_data, v, sizeof(v));
			rep.len = sizeof(v);
			data = rep_data;
		}
		break;
	}
	case DRV_OOM_SCORE_ADJ:
		set_ret(&rep, write_oom_score_adj((int64_t)q->a[0]));
		break;
	default:
		rep.ret = -1;
		rep.err = ENOSYS;
		break;
	}
	if (xfsz_sent) {
		rep.sent = SIGXFSZ;
		xfsz_sent = 0;
	}
	reply(&rep, data);
}

int main(int argc, char **argv)
{
	int pers = personality(0xffffffff);
	/* Started by the runner (with the capabilities to keep), not exec'd by a scenario. */
	bool fresh = argc < 2 || strcmp(argv[1], EXEC_ARG);
	bool again = fresh && set_limits();

	if (pers != -1 && !(pers & ADDR_NO_RANDOMIZE) &&
	    personality((unsigned long)pers | ADDR_NO_RANDOMIZE) != -1)
		again = true;
	if (again)
		execv("/proc/self/exe", argv); /* on failure, go on as laid out */
	prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
	take_pkeys();
	if (fresh)
		set_cred(argc > 1 ? strtoull(argv[1], NULL, 16) : 0);
	catch_faults();
	send_ready(1);
	for (;;) {
		struct drv_req req;
		int fd;

		recv_req(&req, &fd);
		serve(&req, fd);
		if (fd >= 0 && req.op != DRV_FORK)
			close(fd);
	}
}
