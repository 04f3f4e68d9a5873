/*
 * Injected faults: the n-th heap allocation of the library (alloc.c's
 * injector, sys->alloc_faults) or the n-th host I/O call (host.c's,
 * sys->host_faults) fails, for every n, over one whole workload of library
 * calls across several processes: anonymous private and shared mappings,
 * loads and stores, fork and copy-on-write, mprotect and munmap splits,
 * mremap grow, shrink and move (FIXED, DONTUNMAP, the middle of a VMA,
 * across page tables), madvise DONTNEED/DONTFORK/WIPEONFORK/POPULATE/
 * WILLNEED/REMOVE, mlock, brk, a stack that grows down, MAP_FIXED over
 * mappings, files (open, write, mmap shared and private, msync,
 * ftruncate, fsync, fdatasync, sync, read and write to process memory,
 * a sparse file, remap_file_pages, a growing descriptor table), exec and
 * exit.
 *
 * After every call of every run:
 *   - the call succeeded, or failed with the error Linux gives it for that
 *     failure (ENOMEM; EAGAIN for madvise's splits and mlock's populate,
 *     where Linux turns ENOMEM into it; the injected EIO or ENOSPC; an
 *     access: SIGKILL, as the OOM killer, for an allocation that failed
 *     inside a fault, SIGSEGV when it was the anon_vma a growing stack
 *     needs first, SIGBUS for a host read that failed), and it never
 *     failed when no injected failure happened inside it;
 *   - um_check holds;
 *   - a failed call that Linux makes atomic (mmap, munmap, mremap, brk,
 *     fork, exec, mlock of one whole VMA, ftruncate, write, a faulting
 *     access) changed nothing observable: maps, the process's and the
 *     system's counters (RSS, VmSize, frames in use, Committed_AS, the
 *     process count) and the file's size are as before. One thing may
 *     differ, as on Linux: a VMA left split in two (maps compared with the
 *     pieces of one mapping joined), because Linux does not undo the first
 *     split when the second fails. mprotect, madvise and mlock over several
 *     VMAs are not compared: Linux applies them in part.
 * After each run, um_system_free leaves no leak (LeakSanitizer).
 *
 * Three sweeps. Once: only the n-th allocation fails; a call that failed
 * is called again, must then succeed, and the workload goes on checking
 * every value it reads, so a failure that left something half-done shows
 * as a wrong value later. Sticky: the n-th and every later allocation
 * fail; the workload goes on with what it has (calls on what could not be
 * made are skipped, values are no longer checked) and ends with every
 * process exiting under failing allocations. Host: the n-th host call
 * fails with EIO (every kind) or ENOSPC (writes only), once, and is
 * retried as above. Every n from 1 to one past the workload's count is
 * tried (the last fails in the teardown, if at all), sampled only past
 * 3000.
 *
 * Known library bugs are listed below, each with its name: known_errnos
 * (a wrong errno, tolerated and counted) and known_bads (a broken state:
 * the run ends there, reported, not failed), keyed by the call and the
 * symptom, not by n, which moves whenever the library's allocations do.
 *
 * Environment, for hunting a bug: UM_INJECT_ONLY="once:123" (or sticky:,
 * host-eio:, host-enospc:, clean:0) runs that one run and logs each call;
 * UM_INJECT_FORK=1 runs each run in a child process, so that a crash or a
 * leak is reported with its n and the sweep goes on.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <time.h>

#include "host.h"
#include "system.h" /* sys->alloc_faults, sys->host_faults: the injectors */
#include "harness.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define HAVE_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/lsan_interface.h>
#define HAVE_LSAN 1
#endif
#endif

#define MS	  UM_MAP_SHARED
#define MP	  UM_MAP_PRIVATE
#define NPROC	  6
#define MAPS_SZ	  16384
#define MMAP_BASE 0x7fe00000ULL /* the top of the mmap area: below 2 GiB */
#define BRK_START 0x50000000ULL

/* ------------------------------------------------------------ the runs */

enum mode { M_CLEAN, M_ONCE, M_STICKY };
enum inj { I_NONE, I_ALLOC, I_HOST };

/*
 * What a call is, for what its failure may be and what it may leave:
 * the errno an injected allocation failure may give (Linux's), and
 * whether a failure must leave everything as it was.
 */
enum cls {
	C_PROC_NEW,    /* ENOMEM, atomic (the process count) */
	C_FORK,	       /* ENOMEM, atomic for the parent and the system */
	C_EXEC,	       /* ENOMEM, atomic */
	C_MMAP,	       /* ENOMEM, atomic */
	C_MUNMAP,      /* ENOMEM, atomic */
	C_MREMAP,      /* ENOMEM, atomic */
	C_MPROTECT,    /* ENOMEM, may be partial */
	C_MADV_FLAGS,  /* a split failed: EAGAIN (madvise_vma_behavior turns ENOMEM into it) */
	C_MADV_NOFAIL, /* DONTNEED, WILLNEED: cannot fail (WILLNEED ignores read errors) */
	C_MADV_POP,    /* POPULATE_*: ENOMEM (madvise_populate), may be partial */
	C_MADV_REMOVE, /* the hole punch: the host's error, ENOMEM (returned as is) */
	C_MLOCK_VMA,   /* mlock of one whole VMA: no split, so only the populate can
			* fail: EAGAIN (__mlock_posix_error_return); maps unchanged */
	C_MUNLOCK,     /* a split: ENOMEM */
	C_BRK,	       /* the old break; atomic */
	C_OPEN,	       /* ENOMEM or the host's error */
	C_CLOSE,       /* cannot fail */
	C_WRITE,       /* a short count, ENOMEM or the host's error */
	C_READ,	       /* the same */
	C_RW_USER,     /* read/write to process memory: also EFAULT (a fault that ran out
			* of memory in copy_to/from_user is an exception fixup) */
	C_FTRUNCATE,   /* the host's error; atomic (size, frames) */
	C_SYNC,	       /* msync MS_SYNC, fsync, fdatasync, sync: the host's error */
	C_ACCESS,      /* must succeed: SIGKILL (allocation) or SIGBUS (host read); atomic */
	C_ACCESS_GROW, /* the same below a MAP_GROWSDOWN VMA: the stack may stay grown
			* when the fault after the growth fails, as on Linux */
	C_FAULT,       /* must fault with the signal the workload names */
	C_VOID,	       /* exit: cannot report */
	C_NR
};

static const char *const cls_name[C_NR] = {
    "proc_new",
    "fork",
    "exec",
    "mmap",
    "munmap",
    "mremap",
    "mprotect",
    "madvise(flags)",
    "madvise(DONTNEED/WILLNEED)",
    "madvise(POPULATE)",
    "madvise(REMOVE)",
    "mlock(one VMA)",
    "munlock",
    "brk",
    "open",
    "close",
    "write",
    "read",
    "read/write_user",
    "ftruncate",
    "sync",
    "access",
    "access growing the stack",
    "faulting access",
    "exit",
};

/* The errno an injected allocation failure gives the call on Linux (0: it cannot fail). */
static int alloc_errno(enum cls c)
{
	switch (c) {
	case C_PROC_NEW:
	case C_FORK:
	case C_EXEC:
	case C_MMAP:
	case C_MUNMAP:
	case C_MREMAP:
	case C_MPROTECT:
	case C_MADV_POP:
	case C_MADV_REMOVE:
	case C_MUNLOCK:
	case C_OPEN:
	case C_WRITE:
	case C_READ:
	case C_RW_USER:
	case C_FTRUNCATE:
		return ENOMEM;
	case C_MADV_FLAGS:
	case C_MLOCK_VMA:
		return EAGAIN;
	default:
		return 0;
	}
}

/* Does the host's error reach the caller of this call? */
static bool host_errno_ok(enum cls c)
{
	return c == C_OPEN || c == C_WRITE || c == C_READ || c == C_RW_USER || c == C_FTRUNCATE ||
	       c == C_SYNC || c == C_MADV_REMOVE;
}

static bool cls_atomic(enum cls c)
{
	switch (c) {
	case C_PROC_NEW:
	case C_FORK:
	case C_EXEC:
	case C_MMAP:
	case C_MUNMAP:
	case C_MREMAP:
	case C_MLOCK_VMA:
	case C_BRK:
	case C_FTRUNCATE:
	case C_ACCESS:
	case C_ACCESS_GROW:
		return true;
	default:
		return false;
	}
}

/* What is observable of a process and the system, to compare across a failed call. */
struct snap {
	char maps[MAPS_SZ];
	struct um_proc_stats st;
	struct um_sys_stats ss;
	int64_t fsize; /* of the descriptor the call names, or -1 */
};

struct run {
	enum mode mode;
	enum inj inj;
	uint64_t n; /* the failing call (allocation or host call); 0: none */
	int host_err;
	uint32_t host_ops;
	bool verbose;
	struct um_system *sys;
	struct um_proc *p[NPROC];
	jmp_buf out; /* a problem: end the run */
	bool problem;
	bool diverged; /* a call failed and was not redone (sticky) */
	uint64_t calls, failed_calls, retries;
	/* the call in progress */
	enum cls cls;
	const char *what;
	int line;
	struct um_proc *cp;
	int cfd;
	uint64_t af0, hf0;
	bool retrying;
	bool last_fired; /* an injected failure happened inside the last call's last attempt */
	struct snap before, after;
	/* an access's results */
	struct um_siginfo si;
	uint64_t val;
	int want_signo, want_code;
	uint64_t want_addr;
};

/* Problems found, over all runs: printed as they are found, counted for the verdict. */
static unsigned problems;

static const char *mode_name(const struct run *r)
{
	if (r->inj == I_HOST)
		return r->host_err == ENOSPC ? "host-enospc" : "host-eio";
	return r->mode == M_ONCE ? "once" : r->mode == M_STICKY ? "sticky" : "clean";
}

/*
 * Known library bugs that end a run (its state is no longer sound), until
 * the lead fixes them and removes the line: the call (as the workload
 * writes it) and the start of what the check found. A run that meets one
 * ends there, is reported as a known bug and is not a failure; any other
 * problem in that call still is.
 */
struct known_bad {
	const char *call;
	const char *symptom;
	const char *bug;
	unsigned seen;
};

static struct known_bad known_bads[] = {
    /* Fixed: inject-3 (read_run's leak), inject-4 (munmap's late end split). */
    {NULL, NULL, NULL, 0},
};

/* Runs ended by a known bug, over all sweeps. */
static unsigned known_runs;

__attribute__((format(printf, 2, 3))) static void problem(struct run *r, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	for (struct known_bad *k = known_bads; k->call; k++) {
		if (!r->what || !strstr(r->what, k->call) ||
		    strncmp(msg, k->symptom, strlen(k->symptom)))
			continue;
		k->seen++;
		known_runs++;
		fprintf(stderr, "inject: [%s n=%llu] line %d: known bug %s\n", mode_name(r),
			(unsigned long long)r->n, r->line, k->bug);
		r->problem = false;
		longjmp(r->out, 1);
	}
	fprintf(stderr, "INJECT BUG [%s n=%llu] line %d, %s `%s`%s: %s\n", mode_name(r),
		(unsigned long long)r->n, r->line, cls_name[r->cls], r->what ? r->what : "",
		r->retrying ? " (called again)" : "", msg);
	problems++;
	r->problem = true;
	longjmp(r->out, 1);
}

static void take_snap(struct run *r, struct snap *s)
{
	struct um_stat st;

	s->maps[0] = 0;
	if (r->cp) {
		int64_t len = um_proc_maps(r->cp, s->maps, sizeof s->maps);

		if (len < 0 || len >= (int64_t)sizeof s->maps)
			problem(r, "um_proc_maps = %lld", (long long)len);
		um_proc_stats(r->cp, &s->st);
	} else {
		memset(&s->st, 0, sizeof s->st);
	}
	um_system_stats(r->sys, &s->ss);
	s->fsize = -1;
	if (r->cp && r->cfd >= 0 && um_fstat(r->cp, r->cfd, &st) == 0)
		s->fsize = (int64_t)st.st_size;
}

/* The first line of maps that differs, for the report. */
static void maps_diff(const char *a, const char *b, char *out, size_t n)
{
	while (*a && *a == *b) {
		const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');

		if (!ea || !eb || ea - a != eb - b || memcmp(a, b, (size_t)(ea - a)))
			break;
		a = ea + 1;
		b = eb + 1;
	}
	snprintf(out, n, "before: \"%.*s\" after: \"%.*s\"", (int)strcspn(a, "\n"), a,
		 (int)strcspn(b, "\n"), b);
}

/*
 * maps with adjacent lines of one mapping joined: the same permissions,
 * device, inode and name, and offsets that continue (anonymous lines show
 * offset 0). A failed munmap or mmap over existing mappings may leave a
 * VMA split in two on Linux (vms_gather_munmap_vmas does not undo the
 * first split when the second fails), and so may usermm; nothing else
 * may differ.
 */
static void maps_joined(const char *in, char *out, size_t n)
{
	unsigned long long s0 = 0, e0 = 0, off0 = 0, s, e, off, ino;
	char perms[8], dev[16], name[512], rest0[600] = "", rest[600];
	bool open = false;
	size_t used = 0;

	out[0] = 0;
	while (*in) {
		const char *eol = strchr(in, '\n');
		size_t len = eol ? (size_t)(eol - in) : strlen(in);
		char line[700];
		int k;

		snprintf(line, sizeof line, "%.*s", (int)len, in);
		in += len + (eol ? 1 : 0);
		name[0] = 0;
		k = sscanf(line, "%llx-%llx %7s %llx %15s %llu %511[^\n]", &s, &e, perms, &off, dev,
			   &ino, name);
		if (k < 6)
			continue;
		snprintf(rest, sizeof rest, "%s %s %llu %s", perms, dev, ino, name);
		if (open && s == e0 && !strcmp(rest, rest0) &&
		    (ino ? off == off0 + (e0 - s0) : off == 0 && off0 == 0)) {
			e0 = e; /* the next piece of the same mapping */
			continue;
		}
		if (open)
			used += (size_t)snprintf(out + used, used < n ? n - used : 0,
						 "%llx-%llx %llx %s\n", s0, e0, off0, rest0);
		open = true;
		s0 = s;
		e0 = e;
		off0 = off;
		snprintf(rest0, sizeof rest0, "%s", rest);
	}
	if (open)
		snprintf(out + used, used < n ? n - used : 0, "%llx-%llx %llx %s\n", s0, e0, off0,
			 rest0);
}

/* A counter a failed call must leave as it was. */
static void same(struct run *r, uint64_t before, uint64_t after, const char *name)
{
	if (before != after)
		problem(r, "failed, but %s changed: %llu -> %llu", name, (unsigned long long)before,
			(unsigned long long)after);
}

/* Failed calls that left a VMA split (as Linux may): counted, not a problem. */
static unsigned splits_left;

/*
 * The frames holding data: a failed fault may leave the page tables it
 * made (as Linux's does), and a table is a frame too.
 */
static uint64_t snap_frames(const struct snap *s)
{
	return s->ss.frames_used - s->ss.page_tables / PG;
}

/* A failed atomic call changed nothing observable. */
static void compare_snaps(struct run *r)
{
	const struct snap *b = &r->before, *a = &r->after;
	static char jb[MAPS_SZ], ja[MAPS_SZ];
	char d[512];

	if (r->cls == C_ACCESS_GROW) {
		/* expand_stack happened, the fault after it failed: only what the fault did */
		if (b->st.rss_anon != a->st.rss_anon || snap_frames(b) != snap_frames(a))
			problem(r, "failed, but RssAnon %llu -> %llu, frames in use %llu -> %llu",
				(unsigned long long)b->st.rss_anon,
				(unsigned long long)a->st.rss_anon,
				(unsigned long long)snap_frames(b),
				(unsigned long long)snap_frames(a));
		return;
	}
	if (strcmp(b->maps, a->maps)) {
		maps_joined(b->maps, jb, sizeof jb);
		maps_joined(a->maps, ja, sizeof ja);
		if (strcmp(jb, ja)) {
			maps_diff(b->maps, a->maps, d, sizeof d);
			problem(r, "failed, but maps changed: %s", d);
		}
		splits_left++;
		if (r->verbose || splits_left == 1)
			fprintf(stderr,
				"inject: note [%s n=%llu] line %d %s failed and left a split "
				"(as Linux may)\n",
				mode_name(r), (unsigned long long)r->n, r->line, cls_name[r->cls]);
	}
	if (r->cls == C_MLOCK_VMA)
		return; /* Linux leaves the VMA locked and what was populated */
	same(r, b->st.vm_size, a->st.vm_size, "VmSize");
	same(r, b->st.rss_anon, a->st.rss_anon, "RssAnon");
	same(r, b->st.rss_file, a->st.rss_file, "RssFile");
	same(r, b->st.rss_shmem, a->st.rss_shmem, "RssShmem");
	same(r, snap_frames(b), snap_frames(a), "frames in use");
	same(r, b->ss.committed_as, a->ss.committed_as, "Committed_AS");
	same(r, b->ss.nr_procs, a->ss.nr_procs, "the process count");
	same(r, (uint64_t)b->fsize, (uint64_t)a->fsize, "the file size");
}

static void check_invariants(struct run *r)
{
	char why[512] = "";
	int rc = um_check(r->sys, why, sizeof why);

	if (rc != 0)
		problem(r, "um_check = %d: %s", rc, why);
}

/*
 * Known library bugs in the errno of a failed call, tolerated until fixed
 * (the lead removes each line with its fix): the call, the errno the
 * library gives, Linux's, and how many times a sweep met it.
 */
struct known_errno {
	enum cls cls;
	int got, linux_errno;
	const char *bug;
	unsigned seen;
};

static struct known_errno known_errnos[] = {
    /* Fixed: inject-2 (mlock's populate OOM is EAGAIN now). */
    {C_NR, 0, 0, NULL, 0},
};

static bool known_errno(enum cls c, int got)
{
	for (struct known_errno *k = known_errnos; k->bug; k++)
		if (k->cls == c && k->got == got) {
			k->seen++;
			return true;
		}
	return false;
}

static void report_known(void)
{
	for (struct known_errno *k = known_errnos; k->bug; k++)
		if (k->seen)
			fprintf(stderr, "inject: known bug met %u times: %s\n", k->seen, k->bug);
}

/* Did an injected failure happen since call_begin? */
static bool fired(struct run *r)
{
	if (r->inj == I_ALLOC)
		return atomic_load(&r->sys->alloc_faults.failed) > r->af0;
	if (r->inj == I_HOST) {
		uint64_t c = atomic_load(&r->sys->host_faults.count);

		if (r->mode == M_STICKY)
			return c >= r->n && c > r->hf0;
		return r->hf0 < r->n && c >= r->n;
	}
	return false;
}

static void call_begin(struct run *r, enum cls c, struct um_proc *p, int fd, const char *what,
		       int line)
{
	r->cls = c;
	r->cp = p;
	r->cfd = fd;
	r->what = what;
	r->line = line;
	r->retrying = false;
	r->si = (struct um_siginfo){0, 0, 0};
	if (cls_atomic(c)) {
		take_snap(r, &r->before);
	} else if (c == C_WRITE) {
		struct um_stat st;

		r->before.fsize = fd >= 0 && um_fstat(p, fd, &st) == 0 ? (int64_t)st.st_size : -1;
	}
	r->af0 = atomic_load(&r->sys->alloc_faults.failed);
	r->hf0 = atomic_load(&r->sys->host_faults.count);
	r->calls++;
}

/* Did the call fail? rv is its result, as the workload gets it. */
static bool call_failed(const struct run *r, int64_t rv)
{
	switch (r->cls) {
	case C_BRK:
		return false; /* the workload compares the break itself (brk_call) */
	case C_VOID:
		return false;
	case C_FAULT:
		return !(rv == -EFAULT && r->si.signo == r->want_signo &&
			 r->si.code == r->want_code && r->si.addr == r->want_addr);
	default:
		return rv < 0;
	}
}

/*
 * Judges the call that returned rv. Returns true when the caller must call
 * it again (once: it failed because of the injected failure).
 */
static bool call_end(struct run *r, int64_t rv, bool failed_brk)
{
	bool failed = failed_brk || call_failed(r, rv);
	bool inj = fired(r);

	r->last_fired = inj; /* of this attempt: a call redone after a failure starts afresh */

	if (r->verbose)
		fprintf(stderr, "  line %d %s `%s` = %lld%s%s\n", r->line, cls_name[r->cls],
			r->what, (long long)rv, failed ? " FAILED" : "", inj ? " (injected)" : "");
	check_invariants(r);
	if (!failed)
		return false;
	r->failed_calls++;
	if (r->cls == C_FAULT) {
		/*
		 * A SIGSEGV is decided before anything is allocated. A SIGBUS
		 * (past the end of a file or shmem object) is decided by the
		 * VMA's fault handler, after Linux has allocated the page-table
		 * levels (and __do_fault the PTE table): SIGKILL when one of
		 * those fails, and the access may be made again.
		 */
		if (inj && r->inj == I_ALLOC && r->want_signo == UM_SIGBUS && rv == -EFAULT &&
		    r->si.signo == UM_SIGKILL) {
			if (r->mode == M_ONCE && !r->retrying) {
				r->retrying = true;
				r->retries++;
				r->af0 = atomic_load(&r->sys->alloc_faults.failed);
				r->si = (struct um_siginfo){0, 0, 0};
				return true;
			}
			r->diverged = r->mode != M_ONCE;
			return false;
		}
		if (!r->diverged)
			problem(r,
				"= %lld {signo %d, code %d, addr %#llx}, expected -EFAULT "
				"{signo %d, code %d, addr %#llx}",
				(long long)rv, r->si.signo, r->si.code,
				(unsigned long long)r->si.addr, r->want_signo, r->want_code,
				(unsigned long long)r->want_addr);
		return false;
	}
	if (!inj) {
		if (!r->diverged)
			problem(r, "= %lld {signo %d, code %d} with no injected failure inside it",
				(long long)rv, r->si.signo, r->si.code);
	} else if (r->cls == C_ACCESS || r->cls == C_ACCESS_GROW) {
		int want = r->inj == I_ALLOC ? UM_SIGKILL : UM_SIGBUS;
		/*
		 * expand_downwards allocates the stack's anon_vma before it grows;
		 * when that fails the access is a bad area: SIGSEGV, as on Linux.
		 */
		bool grow_failed = r->cls == C_ACCESS_GROW && r->inj == I_ALLOC &&
				   r->si.signo == UM_SIGSEGV && r->si.code == UM_SEGV_MAPERR;

		if (rv != -EFAULT || (r->si.signo != want && !grow_failed))
			problem(r,
				"= %lld {signo %d, code %d, addr %#llx}, expected success or "
				"-EFAULT with signal %d",
				(long long)rv, r->si.signo, r->si.code,
				(unsigned long long)r->si.addr, want);
	} else if (r->cls != C_BRK) {
		int want = r->inj == I_ALLOC	   ? alloc_errno(r->cls)
			   : host_errno_ok(r->cls) ? r->host_err
						   : 0;
		bool ok = want && rv == -want;

		if (!ok && r->inj == I_ALLOC && r->cls == C_RW_USER && rv == -EFAULT)
			ok = true;
		if (!ok && r->inj == I_ALLOC && known_errno(r->cls, (int)-rv))
			ok = true;
		if (!ok)
			problem(r, "= %lld (%s), expected success%s%s", (long long)rv,
				strerror((int)-rv), want ? " or -" : "",
				want ? strerrorname_np(want) : "");
	}
	if (cls_atomic(r->cls)) {
		take_snap(r, &r->after);
		compare_snaps(r);
	} else if (r->cls == C_WRITE && r->cfd >= 0 && r->before.fsize >= 0) {
		struct um_stat st;

		/* A write that failed wrote nothing: the size is as it was. */
		if (um_fstat(r->cp, r->cfd, &st) == 0 && (int64_t)st.st_size != r->before.fsize)
			problem(r, "failed, but the file size changed: %lld -> %llu",
				(long long)r->before.fsize, (unsigned long long)st.st_size);
	}
	if (r->mode == M_ONCE) {
		if (r->retrying)
			problem(r, "failed again");
		r->retrying = true;
		r->retries++;
		/* The snapshot is still right: nothing changed. */
		r->af0 = atomic_load(&r->sys->alloc_faults.failed);
		r->hf0 = atomic_load(&r->sys->host_faults.count);
		r->si = (struct um_siginfo){0, 0, 0};
		return true;
	}
	r->diverged = true;
	return false;
}

/* A call of class cls by process p (fd: the descriptor it works on, or -1). */
#define CALLF(r, cls, p, fd, expr)                                                                 \
	({                                                                                         \
		int64_t rv_;                                                                       \
		call_begin(r, cls, p, fd, #expr, __LINE__);                                        \
		do                                                                                 \
			rv_ = (int64_t)(expr);                                                     \
		while (call_end(r, rv_, false));                                                   \
		rv_;                                                                               \
	})
#define CALL(r, cls, p, expr) CALLF(r, cls, p, -1, expr)

/* A value the workload checks: only while it is on its track. */
#define EXPECT(r, got, want)                                                                       \
	do {                                                                                       \
		long long g_ = (long long)(got), w_ = (long long)(want);                           \
		if (!(r)->diverged && g_ != w_) {                                                  \
			(r)->line = __LINE__;                                                      \
			(r)->what = #got;                                                          \
			problem(r, "%s = %lld (%#llx), expected %s = %lld (%#llx)", #got, g_,      \
				(unsigned long long)g_, #want, w_, (unsigned long long)w_);        \
		}                                                                                  \
	} while (0)

/* Accesses: 8 bytes. LD returns the value, 0 when the access failed (sticky). */
#define ST(r, p, a, v) CALL(r, C_ACCESS, p, um_store(p, a, 8, v, &(r)->si))
#define LD(r, p, a)                                                                                \
	({                                                                                         \
		(r)->val = 0;                                                                      \
		CALL(r, C_ACCESS, p, um_load(p, a, 8, &(r)->val, &(r)->si)) ? 0 : (r)->val;        \
	})
#define LD1(r, p, a)                                                                               \
	({                                                                                         \
		(r)->val = 0;                                                                      \
		CALL(r, C_ACCESS, p, um_load(p, a, 1, &(r)->val, &(r)->si)) ? 0 : (r)->val;        \
	})
#define FAULTS(r, p, expr, signo, code, a)                                                         \
	do {                                                                                       \
		(r)->want_signo = (signo);                                                         \
		(r)->want_code = (code);                                                           \
		(r)->want_addr = (a);                                                              \
		CALL(r, C_FAULT, p, expr);                                                         \
	} while (0)
#define ST_FAULT(r, p, a, signo, code)                                                             \
	FAULTS(r, p, um_store(p, a, 8, 0x5555555555555555ULL, &(r)->si), signo, code, a)
#define LD_FAULT(r, p, a, signo, code)                                                             \
	FAULTS(r, p, um_load(p, a, 8, &(r)->val, &(r)->si), signo, code, a)

/* mmap: the address, 0 when it failed (sticky). */
#define MMAP(r, p, len, prot, flags, fd, off)                                                      \
	({                                                                                         \
		int64_t a_ = CALL(r, C_MMAP, p, um_mmap(p, 0, len, prot, flags, fd, off));         \
		a_ > 0 ? (uint64_t)a_ : 0;                                                         \
	})

/* brk(addr): the result must be addr or the old break, and the old break changes nothing. */
static uint64_t brk_call(struct run *r, struct um_proc *p, uint64_t addr, int line)
{
	uint64_t old, got;

	call_begin(r, C_BRK, p, -1, "um_brk(p, addr)", line);
	old = um_brk(p, 0);
	do {
		got = um_brk(p, addr);
		if (got != addr && got != old)
			problem(r, "= %#llx, neither %#llx nor the old break %#llx",
				(unsigned long long)got, (unsigned long long)addr,
				(unsigned long long)old);
	} while (call_end(r, (int64_t)got, got != addr));
	return got;
}

/* pwrite of all of buf, a short count at a time if so. */
static void write_all(struct run *r, struct um_proc *p, int fd, const void *buf, uint64_t len,
		      int64_t off)
{
	uint64_t done = 0;

	while (done < len) {
		int64_t w = CALLF(
		    r, C_WRITE, p, fd,
		    um_pwrite(p, fd, (const char *)buf + done, len - done, off + (int64_t)done));

		if (w <= 0) {
			if (!r->diverged)
				problem(r, "pwrite = %lld", (long long)w);
			return;
		}
		done += (uint64_t)w;
	}
}

/* um_exit: a void call, checked after. */
#define EXIT(r, i)                                                                                 \
	do {                                                                                       \
		if ((r)->p[i]) {                                                                   \
			struct um_proc *q_ = (r)->p[i];                                            \
			(r)->p[i] = NULL;                                                          \
			CALL(r, C_VOID, NULL, (um_exit(q_), 0));                                   \
		}                                                                                  \
	} while (0)

/* ------------------------------------------------------------ workload */

static void workload_more(struct run *r);

/* The host path of name in sys's sandbox (valid until the next call). */
static const char *hpath_of(struct um_system *sys, const char *name)
{
	static char path[4096];

	snprintf(path, sizeof path, "%s/%s", um_sandbox_dir(sys), name);
	return path;
}

/*
 * The workload. Values are checked while no call has failed for good
 * (always, but in the sticky sweep). Resources a failed call did not make
 * are 0, and the steps that need them are skipped.
 */
static void workload(struct run *r)
{
	const uint64_t P = PG;
	struct um_proc *p0, *p1 = NULL, *p2 = NULL, *p3 = NULL;
	uint64_t a, s, fsh = 0, fpr = 0, ro, m, m2 = 0, l, heap, z;
	static unsigned char buf[3 * PG];
	int fd = -1, fd2, fd3;
	int64_t rv;

	/* ---- a process with anonymous memory, private and shared */
	if (CALL(r, C_PROC_NEW, NULL, um_proc_new(r->sys, &r->p[0])) < 0)
		return;
	p0 = r->p[0];
	a = MMAP(r, p0, 8 * P, RW, AP, -1, 0);
	EXPECT(r, a, MMAP_BASE - 8 * P);
	if (a) {
		for (uint64_t i = 0; i < 8; i++)
			ST(r, p0, a + i * P, 0xA0 + i);
		EXPECT(r, LD(r, p0, a + 3 * P), 0xA3);
	}
	s = MMAP(r, p0, 4 * P, RW, AS, -1, 0);
	if (s) {
		ST(r, p0, s, 0x51);
		ST(r, p0, s + P, 0x52);
	}
	ro = MMAP(r, p0, P, UM_PROT_READ, AP, -1, 0);
	if (ro) {
		EXPECT(r, LD(r, p0, ro), 0);
		ST_FAULT(r, p0, ro, UM_SIGSEGV, UM_SEGV_ACCERR);
	}

	/* ---- a file, written, mapped shared and private */
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (unsigned char)('A' + i / P);
	rv = CALL(r, C_OPEN, p0, um_open(p0, "data", UM_O_RDWR | UM_O_CREAT | UM_O_TRUNC, 0644));
	if (rv >= 0) {
		fd = (int)rv;
		EXPECT(r, fd, 0);
		write_all(r, p0, fd, buf, sizeof buf, 0);
		fsh = MMAP(r, p0, 3 * P, RW, MS, fd, 0);
		fpr = MMAP(r, p0, 3 * P, RW, MP, fd, 0);
	}
	if (fsh) {
		EXPECT(r, LD1(r, p0, fsh), 'A');
		ST(r, p0, fsh + P, 0x5a);
	}
	if (fpr) {
		ST(r, p0, fpr + 2 * P, 0x77);
		EXPECT(r, LD(r, p0, fpr + P), fsh ? 0x5a : 0x4242424242424242ULL);
		EXPECT(r, LD(r, p0, fpr + 2 * P), 0x77);
	}

	/* ---- the heap */
	heap = um_brk(p0, 0);
	if (brk_call(r, p0, heap + 3 * P, __LINE__) == heap + 3 * P) {
		ST(r, p0, heap, 0x4ea9);
		ST(r, p0, heap + 2 * P, 0x4eab);
	}

	/* ---- fork: copy-on-write both ways, shared memory shared */
	if (CALL(r, C_FORK, p0, um_fork(p0, &r->p[1])) == 0)
		p1 = r->p[1];
	if (p1 && a) {
		ST(r, p1, a + P, 0xB1);
		EXPECT(r, LD(r, p0, a + P), 0xA1);
		EXPECT(r, LD(r, p1, a + P), 0xB1);
		ST(r, p0, a + 2 * P, 0xC2);
		EXPECT(r, LD(r, p1, a + 2 * P), 0xA2);
		EXPECT(r, LD(r, p0, a + 2 * P), 0xC2);
	}
	if (p1 && s) {
		ST(r, p1, s, 0x61);
		EXPECT(r, LD(r, p0, s), 0x61);
	}
	if (p1 && fsh) {
		EXPECT(r, LD1(r, p1, fsh + P), 0x5a);
		ST(r, p1, fsh + 2 * P, 0x5b);
		EXPECT(r, LD(r, p0, fsh + 2 * P), 0x5b);
	}
	if (p1 && fpr)
		EXPECT(r, LD(r, p1, fpr + 2 * P), 0x77);
	if (p1 && heap)
		EXPECT(r, LD(r, p1, heap + 2 * P), 0x4eab);

	/* ---- mprotect and munmap splits */
	if (a) {
		CALL(r, C_MPROTECT, p0, um_mprotect(p0, a + 2 * P, 2 * P, UM_PROT_READ));
		if (!r->diverged)
			ST_FAULT(r, p0, a + 2 * P, UM_SIGSEGV, UM_SEGV_ACCERR);
		EXPECT(r, LD(r, p0, a + 3 * P), 0xA3);
		CALL(r, C_MUNMAP, p0, um_munmap(p0, a + 5 * P, P));
		if (!r->diverged)
			LD_FAULT(r, p0, a + 5 * P, UM_SIGSEGV, UM_SEGV_MAPERR);
		CALL(r, C_MPROTECT, p0, um_mprotect(p0, a + 2 * P, 2 * P, RW));
		ST(r, p0, a + 3 * P, 0xC3);
		EXPECT(r, LD(r, p1 ? p1 : p0, a + 3 * P), p1 ? 0xA3 : 0xC3);
	}

	/* ---- mremap: grow (moves: the space above is taken), shrink, grow in place */
	m = MMAP(r, p0, 2 * P, RW, AP, -1, 0);
	if (m) {
		ST(r, p0, m, 0xD0);
		ST(r, p0, m + P, 0xD1);
		rv = CALL(r, C_MREMAP, p0, um_mremap(p0, m, 2 * P, 4 * P, UM_MREMAP_MAYMOVE, 0));
		m2 = rv > 0 ? (uint64_t)rv : 0;
		if (!m2)
			m2 = m;
		else if (!r->diverged && m2 == m)
			problem(r, "mremap did not move");
	}
	if (m2) {
		EXPECT(r, LD(r, p0, m2), 0xD0);
		EXPECT(r, LD(r, p0, m2 + P), 0xD1);
		if (!r->diverged) {
			LD_FAULT(r, p0, m, UM_SIGSEGV, UM_SEGV_MAPERR);
			ST(r, p0, m2 + 3 * P, 0xD3);
			rv = CALL(r, C_MREMAP, p0, um_mremap(p0, m2, 4 * P, 3 * P, 0, 0));
			EXPECT(r, rv, m2);
			rv = CALL(r, C_MREMAP, p0, um_mremap(p0, m2, 3 * P, 4 * P, 0, 0));
			EXPECT(r, rv, m2);
			EXPECT(r, LD(r, p0, m2 + 3 * P), 0);
		}
	}

	/* ---- madvise */
	if (a) {
		CALL(r, C_MADV_NOFAIL, p0, um_madvise(p0, a, P, UM_MADV_DONTNEED));
		EXPECT(r, LD(r, p0, a), 0);
		CALL(r, C_MADV_FLAGS, p0, um_madvise(p0, a + 6 * P, 2 * P, UM_MADV_DONTFORK));
	}
	if (s)
		CALL(r, C_MADV_POP, p0, um_madvise(p0, s, 4 * P, UM_MADV_POPULATE_WRITE));
	z = MMAP(r, p0, 3 * P, RW, AP, -1, 0);
	if (z) {
		CALL(r, C_MADV_POP, p0, um_madvise(p0, z, 3 * P, UM_MADV_POPULATE_WRITE));
		EXPECT(r, proc_stats(p0).rss_anon >= 3 * P, 1);
		CALL(r, C_MADV_FLAGS, p0, um_madvise(p0, z + P, P, UM_MADV_WIPEONFORK));
	}

	/* ---- mlock */
	l = MMAP(r, p0, 2 * P, RW, AP, -1, 0);
	if (l) {
		CALL(r, C_MLOCK_VMA, p0, um_mlock(p0, l, 2 * P));
		ST(r, p0, l, 0xE0);
		CALL(r, C_MUNLOCK, p0, um_munlock(p0, l, P));
	}

	/* ---- the file: msync, truncate under the mappings, grow again, fsync, close */
	if (fsh) {
		unsigned char c = 0;

		/* a split of a file VMA: the pieces stay on the file's i_mmap */
		CALL(r, C_MPROTECT, p0, um_mprotect(p0, fsh + P, P, UM_PROT_READ));
		if (!r->diverged)
			ST_FAULT(r, p0, fsh + P, UM_SIGSEGV, UM_SEGV_ACCERR);
		CALL(r, C_MPROTECT, p0, um_mprotect(p0, fsh + P, P, RW));
		CALLF(r, C_SYNC, p0, fd, um_msync(p0, fsh, 3 * P, UM_MS_SYNC));
		if (!r->diverged) {
			EXPECT(r, file_pread(hpath_of(r->sys, "data"), &c, 1, (off_t)P), 1);
			EXPECT(r, c, 0x5a);
			EXPECT(r, file_pread(hpath_of(r->sys, "data"), &c, 1, (off_t)(2 * P)), 1);
			EXPECT(r, c, 0x5b);
		}
		CALLF(r, C_FTRUNCATE, p0, fd, um_ftruncate(p0, fd, (int64_t)P + 100));
		if (!r->diverged) {
			LD_FAULT(r, p0, fsh + 2 * P, UM_SIGBUS, UM_BUS_ADRERR);
			if (fpr)
				LD_FAULT(r, p0, fpr + 2 * P, UM_SIGBUS, UM_BUS_ADRERR);
		}
		EXPECT(r, LD1(r, p0, fsh + P), 0x5a);
		EXPECT(r, LD1(r, p0, fsh + P + 100), 0);
		CALLF(r, C_FTRUNCATE, p0, fd, um_ftruncate(p0, fd, 4 * (int64_t)P));
		EXPECT(r, LD(r, p0, fsh + 2 * P), 0);
		ST(r, p0, fsh + 2 * P, 0x5c);
	}
	rv = CALL(r, C_OPEN, p0, um_open(p0, "data", UM_O_RDONLY, 0));
	if (rv >= 0) {
		unsigned char c = 0;

		fd2 = (int)rv;
		if (fsh) {
			EXPECT(r, CALLF(r, C_READ, p0, fd2, um_pread(p0, fd2, &c, 1, (int64_t)P)),
			       1);
			EXPECT(r, c, 0x5a);
		}
		CALL(r, C_CLOSE, p0, um_close(p0, fd2));
	}
	if (fd >= 0) {
		CALLF(r, C_SYNC, p0, fd, um_fsync(p0, fd));
		CALL(r, C_CLOSE, p0, um_close(p0, fd));
	}
	fd3 = (int)CALL(r, C_OPEN, p0, um_open(p0, "data", UM_O_RDWR | UM_O_CLOEXEC, 0));

	/* ---- processes: fork of the child, exec, DONTFORK, exit */
	if (p1 && CALL(r, C_FORK, p1, um_fork(p1, &r->p[2])) == 0)
		p2 = r->p[2];
	if (p2 && a) {
		EXPECT(r, LD(r, p2, a + P), 0xB1);
		ST(r, p2, a + P, 0xB2);
		EXPECT(r, LD(r, p1, a + P), 0xB1);
	}
	if (p2) {
		uint64_t x;

		CALL(r, C_EXEC, p2, um_exec(p2));
		EXPECT(r, proc_stats(p2).map_count, 0);
		x = MMAP(r, p2, 2 * P, RW, AP, -1, 0);
		if (x) {
			ST(r, p2, x + P, 0xF1);
			EXPECT(r, LD(r, p2, x + P), 0xF1);
		}
		heap = um_brk(p2, 0);
		if (brk_call(r, p2, heap + 2 * P, __LINE__) == heap + 2 * P)
			ST(r, p2, heap + P, 0xF2);
	}
	if (p1 && a)
		EXPECT(r, LD(r, p1, a + 6 * P), 0xA6);
	if (CALL(r, C_FORK, p0, um_fork(p0, &r->p[3])) == 0)
		p3 = r->p[3];
	if (p3 && a && !r->diverged) {
		LD_FAULT(r, p3, a + 6 * P, UM_SIGSEGV, UM_SEGV_MAPERR);
		EXPECT(r, LD(r, p3, a + 3 * P), 0xC3);
	}
	if (p3 && z && !r->diverged) {
		EXPECT(r, LD(r, p3, z), 0);
		ST(r, p3, z + P, 0x2a);
	}
	EXIT(r, 3);
	EXIT(r, 2);
	if (p1 && s)
		EXPECT(r, LD(r, p1, s + P), 0x52);
	EXIT(r, 1);

	/* ---- exec of the first process: close-on-exec, a new image */
	CALL(r, C_EXEC, p0, um_exec(p0));
	if (fd3 >= 0)
		EXPECT(r, um_close(p0, fd3), -EBADF);
	a = MMAP(r, p0, 4 * P, RW, AP | UM_MAP_POPULATE, -1, 0);
	if (a)
		ST(r, p0, a + 3 * P, 0x99);
	/* p0 stays: um_system_free ends it and writes the dirty page back. */
	workload_more(r);
}

/*
 * More of the library in a fresh process: page tables far apart, MAP_FIXED
 * over a mapping, /dev/zero shared (a shmem object), a sparse file whose
 * page-cache tree is several levels deep, WILLNEED, REMOVE, remap_file_pages,
 * read and write from process memory, mremap FIXED and DONTUNMAP, a
 * descriptor table that grows, MAP_LOCKED, a stack that grows down.
 */
/* 40 pages where every byte of page i is 'a' + i % 26. */
static const unsigned char *pre_bytes(void)
{
	static unsigned char pre[40 * PG];

	if (!pre[0])
		for (size_t i = 0; i < sizeof pre; i++)
			pre[i] = (unsigned char)('a' + (i / PG) % 26);
	return pre;
}

static void workload_more(struct run *r)
{
	const uint64_t P = PG, F1 = 0x40000000ULL, F2 = 0x40400000ULL, MR = 0x60000000ULL;
	const uint64_t STK = 0x70000000ULL, BIG = 5000;	       /* the sparse file's last page */
	const uint64_t X1 = 0x40600000ULL, X2 = 0x40a00000ULL; /* page-table boundaries */
	struct um_proc *p4, *p5 = NULL;
	uint64_t f1, f2, zs = 0, bm = 0, mr, mr2 = 0, x, mid;
	int zfd = -1, bfd = -1, fds[15];
	int64_t rv;

	if (CALL(r, C_PROC_NEW, NULL, um_proc_new(r->sys, &r->p[4])) < 0)
		return;
	p4 = r->p[4];
	rv = CALL(r, C_MMAP, p4, um_mmap(p4, F1, 2 * P, RW, AP | UM_MAP_FIXED, -1, 0));
	f1 = rv > 0 ? (uint64_t)rv : 0;
	rv = CALL(r, C_MMAP, p4, um_mmap(p4, F2, P, RW, AP | UM_MAP_FIXED, -1, 0));
	f2 = rv > 0 ? (uint64_t)rv : 0;
	if (f1) {
		ST(r, p4, f1, 0x1111);
		ST(r, p4, f1 + P, 0x1112);
		/* MAP_FIXED over the second page: a fresh zero page, read-only */
		CALL(r, C_MMAP, p4, um_mmap(p4, f1 + P, P, UM_PROT_READ, AP | UM_MAP_FIXED, -1, 0));
		EXPECT(r, LD(r, p4, f1 + P), 0);
		EXPECT(r, LD(r, p4, f1), 0x1111);
	}
	if (f2)
		ST(r, p4, f2 + 8, 0x2222);

	/* /dev/zero shared: a shmem object; REMOVE punches a page out of it */
	rv = CALL(r, C_OPEN, p4, um_open(p4, "/dev/zero", UM_O_RDWR, 0));
	if (rv >= 0) {
		zfd = (int)rv;
		zs = MMAP(r, p4, 2 * P, RW, MS, zfd, 0);
	}
	if (zs) {
		ST(r, p4, zs, 0x2e0);
		ST(r, p4, zs + P, 0x2e1);
		CALL(r, C_MADV_REMOVE, p4, um_madvise(p4, zs, P, UM_MADV_REMOVE));
		EXPECT(r, LD(r, p4, zs), 0);
		EXPECT(r, LD(r, p4, zs + P), 0x2e1);
		rv = CALL(r, C_MREMAP, p4, um_mremap(p4, zs, 2 * P, 4 * P, UM_MREMAP_MAYMOVE, 0));
		if (rv > 0) {
			zs = (uint64_t)rv;
			EXPECT(r, LD(r, p4, zs + P), 0x2e1);
			/* the shmem object keeps its size: past it, SIGBUS (as Linux) */
			if (!r->diverged)
				LD_FAULT(r, p4, zs + 3 * P, UM_SIGBUS, UM_BUS_ADRERR);
		}
	}

	/*
	 * A file made behind usermm's back, so that nothing of it is cached:
	 * a fault reads it with read-around (a major fault), read() with
	 * read-ahead, a write of part of a page reads that page first.
	 */
	file_put(hpath_of(r->sys, "pre"), pre_bytes(), 8 * PG);
	rv = CALL(r, C_OPEN, p4, um_open(p4, "pre", UM_O_RDWR, 0));
	if (rv >= 0) {
		int pfd = (int)rv;
		uint64_t pm = MMAP(r, p4, 8 * P, RW, MP, pfd, 0);
		unsigned char c[2] = {0, 0};

		if (pm) {
			EXPECT(r, LD1(r, p4, pm + 5 * P), 'f');
			ST(r, p4, pm + 5 * P, 0x5f); /* a private copy */
			EXPECT(r, LD1(r, p4, pm + 4 * P), 'e');
		}
		write_all(r, p4, pfd, "XY", 2, (int64_t)(6 * P + 10));
		{
			/* read(): read-ahead from the page on */
			static unsigned char rb[2 * PG];

			file_put(hpath_of(r->sys, "pre2"), pre_bytes(), 40 * PG);
			rv = CALL(r, C_OPEN, p4, um_open(p4, "pre2", UM_O_RDONLY, 0));
			if (rv >= 0) {
				int qfd = (int)rv;

				EXPECT(r,
				       CALLF(r, C_READ, p4, qfd,
					     um_pread(p4, qfd, rb, 2 * P, 3 * (int64_t)P)),
				       2 * P);
				EXPECT(r, rb[0], 'd');
				EXPECT(r, rb[P], 'e');
				CALL(r, C_CLOSE, p4, um_close(p4, qfd));
			}
		}
		EXPECT(r, CALLF(r, C_READ, p4, pfd, um_pread(p4, pfd, c, 2, (int64_t)(6 * P + 9))),
		       2);
		EXPECT(r, c[0], 'g');
		EXPECT(r, c[1], 'X');
		if (pm)
			EXPECT(r, LD1(r, p4, pm + 6 * P + 11), 'Y');
		CALL(r, C_CLOSE, p4, um_close(p4, pfd));
	}

	/* a sparse file: the cache tree grows to the page at BIG */
	rv = CALL(r, C_OPEN, p4, um_open(p4, "big", UM_O_RDWR | UM_O_CREAT, 0644));
	if (rv >= 0) {
		bfd = (int)rv;
		write_all(r, p4, bfd, "bigfile!", 8, (int64_t)(BIG * P));
		bm = MMAP(r, p4, 4 * P, RW, MS, bfd, (int64_t)((BIG - 3) * P));
	}
	if (bm) {
		CALL(r, C_MADV_NOFAIL, p4, um_madvise(p4, bm, 4 * P, UM_MADV_WILLNEED));
		EXPECT(r, LD(r, p4, bm + 3 * P), 0x21656c6966676962ULL); /* "bigfile!" */
		ST(r, p4, bm + P, 0xb1);
		ST(r, p4, bm + 2 * P, 0xb2);
		CALLF(r, C_SYNC, p4, bfd, um_msync(p4, bm, 4 * P, UM_MS_SYNC));
		CALL(r, C_MADV_REMOVE, p4, um_madvise(p4, bm + P, P, UM_MADV_REMOVE));
		EXPECT(r, LD(r, p4, bm + P), 0);
		EXPECT(r, LD(r, p4, bm + 2 * P), 0xb2);
		/* the third page of the window shows page BIG - 2 at bm + 2P's place */
		CALL(r, C_MMAP, p4, um_remap_file_pages(p4, bm + 2 * P, P, 0, BIG, 0));
		EXPECT(r, LD(r, p4, bm + 2 * P), 0x21656c6966676962ULL);
		ST(r, p4, bm, 0xb0);
		CALLF(r, C_SYNC, p4, bfd, um_fdatasync(p4, bfd));
		CALL(r, C_SYNC, NULL, um_sync(r->sys));
	}
	if (bfd >= 0 && f1 && f2) {
		int64_t got;

		CALLF(r, C_RW_USER, p4, bfd, um_lseek(p4, bfd, 0, UM_SEEK_SET));
		got = CALLF(r, C_RW_USER, p4, bfd, um_write_user(p4, bfd, f1, 16));
		EXPECT(r, got, 16);
		CALLF(r, C_RW_USER, p4, bfd, um_lseek(p4, bfd, 0, UM_SEEK_SET));
		got = CALLF(r, C_RW_USER, p4, bfd, um_read_user(p4, bfd, f2 + P / 2, 16));
		EXPECT(r, got, 16);
		EXPECT(r, LD(r, p4, f2 + P / 2), 0x1111);
		EXPECT(r, LD(r, p4, f2 + 8), 0x2222);
	}

	/* mremap: to a fixed place, then a copy that leaves the old range empty */
	mr = MMAP(r, p4, 2 * P, RW, AP, -1, 0);
	if (mr) {
		ST(r, p4, mr + P, 0x3e1);
		rv = CALL(r, C_MREMAP, p4,
			  um_mremap(p4, mr, 2 * P, 2 * P, UM_MREMAP_MAYMOVE | UM_MREMAP_FIXED, MR));
		mr2 = rv > 0 ? (uint64_t)rv : 0;
		EXPECT(r, mr2, MR);
	}
	if (mr2) {
		EXPECT(r, LD(r, p4, MR + P), 0x3e1);
		rv = CALL(
		    r, C_MREMAP, p4,
		    um_mremap(p4, MR, 2 * P, 2 * P, UM_MREMAP_MAYMOVE | UM_MREMAP_DONTUNMAP, 0));
		if (rv > 0) {
			EXPECT(r, LD(r, p4, (uint64_t)rv + P), 0x3e1);
			EXPECT(r, LD(r, p4, MR + P), 0);
		}
	}

	/*
	 * Splits and moves at their edges: a mapping across a page-table
	 * boundary moved to another such place (the new range needs two
	 * tables), the middle of a mapping moved out (the old range is
	 * unmapped by splitting in three), MAP_FIXED and munmap over parts of
	 * several mappings, DONTNEED across mappings.
	 */
	rv = CALL(r, C_MMAP, p4, um_mmap(p4, X1 - 2 * P, 4 * P, RW, AP | UM_MAP_FIXED, -1, 0));
	if (rv > 0) {
		for (uint64_t i = 0; i < 4; i++)
			ST(r, p4, X1 - 2 * P + i * P, 0x700 + i);
		rv = CALL(r, C_MREMAP, p4,
			  um_mremap(p4, X1 - 2 * P, 4 * P, 4 * P,
				    UM_MREMAP_MAYMOVE | UM_MREMAP_FIXED, X2 - 2 * P));
		if (rv > 0)
			for (uint64_t i = 0; i < 4; i++)
				EXPECT(r, LD(r, p4, X2 - 2 * P + i * P), 0x700 + i);
	}
	mid = MMAP(r, p4, 5 * P, RW, AP, -1, 0);
	if (mid) {
		for (uint64_t i = 0; i < 5; i++)
			ST(r, p4, mid + i * P, 0x800 + i);
		/* pages 1-2 move out, grown to 3 pages: the rest stays, in two pieces */
		rv = CALL(r, C_MREMAP, p4,
			  um_mremap(p4, mid + P, 2 * P, 3 * P, UM_MREMAP_MAYMOVE, 0));
		if (rv > 0) {
			/*
			 * When splitting the old range out failed after the move,
			 * Linux's move_vma leaves it mapped, empty ("OOM: unable to
			 * split vma, just get accounts right"), and succeeds.
			 */
			bool kept = r->last_fired;

			EXPECT(r, LD(r, p4, (uint64_t)rv + P), 0x802);
			EXPECT(r, LD(r, p4, (uint64_t)rv + 2 * P), 0);
			if (!r->diverged && !kept)
				LD_FAULT(r, p4, mid + P, UM_SIGSEGV, UM_SEGV_MAPERR);
			if (!r->diverged && kept)
				EXPECT(r, LD(r, p4, mid + P), 0);
		}
		EXPECT(r, LD(r, p4, mid + 3 * P), 0x803);
		/* a fresh page over the last page of mid, another over page 0 */
		CALL(r, C_MMAP, p4, um_mmap(p4, mid + 4 * P, P, RW, AP | UM_MAP_FIXED, -1, 0));
		CALL(r, C_MMAP, p4, um_mmap(p4, mid, P, UM_PROT_READ, AP | UM_MAP_FIXED, -1, 0));
		EXPECT(r, LD(r, p4, mid + 4 * P), 0);
		EXPECT(r, LD(r, p4, mid + 3 * P), 0x803);
		CALL(r, C_MADV_NOFAIL, p4, um_madvise(p4, mid + 3 * P, 2 * P, UM_MADV_DONTNEED));
		EXPECT(r, LD(r, p4, mid + 3 * P), 0);
	}
	if (mid && f1) {
		/* munmap from the middle of one mapping into the middle of the next */
		rv = CALL(r, C_MMAP, p4,
			  um_mmap(p4, F1 + 2 * P, 3 * P, RW, AP | UM_MAP_FIXED, -1, 0));
		if (rv > 0) {
			ST(r, p4, F1 + 3 * P, 0x903);
			ST(r, p4, F1 + 4 * P, 0x904);
			CALL(r, C_MUNMAP, p4, um_munmap(p4, F1 + P, 3 * P));
			EXPECT(r, LD(r, p4, F1 + 4 * P), 0x904);
			EXPECT(r, LD(r, p4, F1), 0x1111);
		}
	}

	if (X2 && !r->diverged) {
		/* MAP_FIXED over a whole mapping and the head of the next (split) */
		rv = CALL(r, C_MMAP, p4,
			  um_mmap(p4, X2 - 3 * P, P, UM_PROT_READ, AP | UM_MAP_FIXED, -1, 0));
		if (rv > 0) {
			CALL(r, C_MMAP, p4,
			     um_mmap(p4, X2 - 3 * P, 3 * P, RW, AP | UM_MAP_FIXED, -1, 0));
			EXPECT(r, LD(r, p4, X2 - 2 * P), 0);
			EXPECT(r, LD(r, p4, X2), 0x702);
		}
	}

	/* a descriptor table past its first 16 slots (zfd and bfd are 0 and 1) */
	for (int i = 0; i < 15; i++)
		fds[i] = (int)CALL(r, C_OPEN, p4, um_open(p4, "/dev/zero", UM_O_RDONLY, 0));
	EXPECT(r, fds[14], 16);
	for (int i = 0; i < 15; i += 7)
		if (fds[i] >= 0)
			CALL(r, C_CLOSE, p4, um_close(p4, fds[i]));

	/* MAP_LOCKED, a stack that grows down */
	x = MMAP(r, p4, 2 * P, RW, AP | UM_MAP_LOCKED, -1, 0);
	if (x)
		EXPECT(r, LD(r, p4, x + P), 0);
	rv = CALL(r, C_MMAP, p4,
		  um_mmap(p4, STK, 4 * P, RW, AP | UM_MAP_FIXED | UM_MAP_GROWSDOWN, -1, 0));
	if (rv > 0) {
		ST(r, p4, STK + 3 * P, 0x57);
		/* grows the stack by a page */
		if (CALL(r, C_ACCESS_GROW, p4, um_store(p4, STK - P, 8, 0x56, &r->si)) == 0)
			EXPECT(r, LD(r, p4, STK - P), 0x56);
	}

	/* fork: the descriptors, the shmem object and the file are shared */
	if (CALL(r, C_FORK, p4, um_fork(p4, &r->p[5])) == 0)
		p5 = r->p[5];
	if (p5 && zs) {
		ST(r, p5, zs + P, 0x2e2);
		EXPECT(r, LD(r, p4, zs + P), 0x2e2);
	}
	if (p5 && bm) {
		EXPECT(r, LD(r, p5, bm), 0xb0);
		ST(r, p5, bm + 3 * P, 0xb3);
	}
	if (p5 && f1) {
		ST(r, p5, f1, 0x1113);
		EXPECT(r, LD(r, p4, f1), 0x1111);
	}
	if (p5 && zfd >= 0)
		CALL(r, C_CLOSE, p5, um_close(p5, zfd));
	EXIT(r, 5);
	if (bfd >= 0)
		CALL(r, C_CLOSE, p4, um_close(p4, bfd));
	/* p4 stays, with its descriptors open: um_system_free ends it */
}

/* --------------------------------------------------------------- driver */

static struct um_system *new_system(void)
{
	struct um_config cfg;
	struct um_system *sys = NULL;

	base_config(&cfg);
	cfg.phys_bytes = 16ULL << 20;
	/*
	 * Everything in one 1 GiB page-table region (the mappings below
	 * MMAP_BASE, the heap and the fixed mappings above 1 GiB): um_check,
	 * after every call, walks the entries of every table present, so
	 * fewer tables make the sweep faster.
	 */
	cfg.mmap_base = MMAP_BASE;
	cfg.brk_start = BRK_START;
	if (um_system_new(&cfg, &sys) != 0)
		return NULL;
	return sys;
}

static void arm(struct run *r)
{
	struct alloc_faults *af = &r->sys->alloc_faults;
	struct host_faults *hf = &r->sys->host_faults;

	af->armed = false;
	atomic_store(&af->count, 0);
	atomic_store(&af->failed, 0);
	af->sticky = r->mode == M_STICKY;
	af->fail_at = r->inj == I_ALLOC ? r->n : 0;
	af->armed = true; /* counts in every mode */

	hf->armed = false;
	atomic_store(&hf->count, 0);
	hf->ops = r->host_ops ? r->host_ops : (1u << HOST_NR_OPS) - 1;
	hf->err = r->host_err;
	hf->fail_at = r->inj == I_HOST ? r->n : 0;
	hf->sticky = r->mode == M_STICKY;
	hf->armed = true;
}

struct totals {
	uint64_t allocs;     /* allocations the workload made */
	uint64_t host_calls; /* host calls (of the ops armed) */
	uint64_t calls, failed_calls, retries;
};

/* One run: 0, or 1 when it found a problem. */
static int one_run(enum mode mode, enum inj inj, uint64_t n, int host_err, uint32_t host_ops,
		   bool verbose, struct totals *t)
{
	struct run *r = calloc(1, sizeof *r);
	int bad;

	assert_non_null(r);
	r->mode = mode;
	r->inj = inj;
	r->n = n;
	r->host_err = host_err;
	r->host_ops = host_ops;
	r->verbose = verbose;
	r->sys = new_system();
	assert_non_null(r->sys);
	arm(r);
	if (setjmp(r->out) == 0)
		workload(r);
	if (t) {
		t->allocs = atomic_load(&r->sys->alloc_faults.count);
		t->host_calls = atomic_load(&r->sys->host_faults.count);
		t->calls += r->calls;
		t->failed_calls += r->failed_calls;
		t->retries += r->retries;
	}
	if (verbose)
		fprintf(stderr, "  %llu allocations, %llu host calls, %llu calls, %llu failed\n",
			(unsigned long long)atomic_load(&r->sys->alloc_faults.count),
			(unsigned long long)atomic_load(&r->sys->host_faults.count),
			(unsigned long long)r->calls, (unsigned long long)r->failed_calls);
	/* Teardown under the same injector: exit of every process, write-back. */
	um_system_free(r->sys);
	bad = r->problem;
	free(r);
	return bad;
}

/* A leak since the last check (LeakSanitizer), reported once. */
static bool leaked(void)
{
#ifdef HAVE_LSAN
	static bool reported;

	if (reported)
		return false;
	if (__lsan_do_recoverable_leak_check()) {
		reported = true;
		return true;
	}
#endif
	return false;
}

/* ----------------------------------------------------------- sweeps */

static bool fork_each(void)
{
	const char *e = getenv("UM_INJECT_FORK");

	return e && *e && *e != '0';
}

/*
 * One run of the sweep, in this process or (UM_INJECT_FORK) in a child, so
 * that a crash or a leak is reported with its n and the sweep goes on.
 */
static void sweep_one(const char *name, enum mode mode, enum inj inj, uint64_t n, int host_err,
		      uint32_t host_ops)
{
	if (fork_each()) {
		pid_t pid;
		int status;

		fflush(stderr);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			int bad = one_run(mode, inj, n, host_err, host_ops, false, NULL);

			_exit(bad ? 1 : 0); /* LeakSanitizer runs at exit (exit code 23) */
		}
		assert_ret(waitpid(pid, &status, 0), pid);
		if (WIFSIGNALED(status)) {
			fprintf(stderr, "INJECT BUG [%s n=%llu] crashed: signal %d\n", name,
				(unsigned long long)n, WTERMSIG(status));
			problems++;
		} else if (WEXITSTATUS(status) == 23) {
			fprintf(stderr, "INJECT BUG [%s n=%llu] leaks (LeakSanitizer above)\n",
				name, (unsigned long long)n);
			problems++;
		} else if (WEXITSTATUS(status) == 1) {
			problems++; /* the child printed it */
		} else if (WEXITSTATUS(status) != 0) {
			fprintf(stderr, "INJECT BUG [%s n=%llu] exit status %d (a sanitizer?)\n",
				name, (unsigned long long)n, WEXITSTATUS(status));
			problems++;
		}
		return;
	}
	one_run(mode, inj, n, host_err, host_ops, false, NULL);
	if (leaked()) {
		fprintf(stderr, "INJECT BUG [%s n=%llu] leaks (LeakSanitizer above)\n", name,
			(unsigned long long)n);
		problems++;
	}
}

/*
 * The n to try among 1..N (and N + 1: a failure after the workload, in the
 * teardown): all of them up to 3000; beyond, the first and last 200 and a
 * deterministic stride between.
 */
static bool sampled(uint64_t n, uint64_t N)
{
	uint64_t stride;

	if (N <= 3000 || n <= 200 || n + 200 > N)
		return true;
	stride = (N - 400) / 2600 + 1;
	return (n - 200) % stride == 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sweep(const char *name, enum mode mode, enum inj inj, uint64_t N, int host_err,
		  uint32_t host_ops)
{
	unsigned before = problems, runs = 0, known_before = known_runs;
	double t0 = now();

	for (uint64_t n = 1; n <= N + 1; n++) {
		if (!sampled(n, N + 1))
			continue;
		runs++;
		sweep_one(name, mode, inj, n, host_err, host_ops);
	}
	fprintf(stderr,
		"inject: %s sweep: %u runs over n = 1..%llu, %.1f s, %u problems, %u runs ended "
		"by a known bug\n",
		name, runs, (unsigned long long)N + 1, now() - t0, problems - before,
		known_runs - known_before);
	if (splits_left)
		fprintf(stderr, "inject: %u failed calls left a VMA split in two (as Linux may)\n",
			splits_left);
	report_known();
	splits_left = 0;
	for (struct known_errno *k = known_errnos; k->bug; k++)
		k->seen = 0;
}

/* The clean run: what the sweeps sweep over. */
static struct totals clean_totals(uint32_t host_ops)
{
	struct totals t = {0};

	assert_ret(one_run(M_CLEAN, I_NONE, 0, 0, host_ops, false, &t), 0);
	return t;
}

/* UM_INJECT_ONLY="mode:n": one run, with its log. */
static bool only(void)
{
	const char *e = getenv("UM_INJECT_ONLY");
	char name[32];
	unsigned long long n;

	if (!e || sscanf(e, "%31[a-z-]:%llu", name, &n) != 2)
		return false;
	if (!strcmp(name, "once"))
		one_run(M_ONCE, I_ALLOC, n, 0, 0, true, NULL);
	else if (!strcmp(name, "sticky"))
		one_run(M_STICKY, I_ALLOC, n, 0, 0, true, NULL);
	else if (!strcmp(name, "host-eio"))
		one_run(M_ONCE, I_HOST, n, EIO, (1u << HOST_NR_OPS) - 1, true, NULL);
	else if (!strcmp(name, "host-enospc"))
		one_run(M_ONCE, I_HOST, n, ENOSPC, 1u << HOST_WRITE, true, NULL);
	else if (!strcmp(name, "clean"))
		one_run(M_CLEAN, I_NONE, 0, 0, 0, true, NULL);
	else
		fail_msg("UM_INJECT_ONLY=%s: mode once, sticky, host-eio, host-enospc or clean", e);
	if (leaked())
		problems++;
	return true;
}

/* ------------------------------------------------------------- tests */

static void injector_fails_the_nth_allocation_once_or_sticky(void **state)
{
	struct um_system *sys = new_system();
	struct alloc_faults *af;
	struct um_proc *p = NULL;

	(void)state;
	assert_non_null(sys);
	af = &sys->alloc_faults;
	/* counting only */
	af->fail_at = 0;
	af->armed = true;
	assert_ret(um_proc_new(sys, &p), 0);
	assert_true(atomic_load(&af->count) >= 2); /* the process and its mm */
	assert_ret(atomic_load(&af->failed), 0);
	/* the first allocation fails, the next does not */
	af->armed = false;
	atomic_store(&af->count, 0);
	af->fail_at = 1;
	af->sticky = false;
	af->armed = true;
	assert_ret(um_fork(p, &(struct um_proc *){NULL}), -ENOMEM);
	assert_ret(atomic_load(&af->failed), 1);
	/* sticky: every one from the first fails */
	assert_ret(um_mmap(p, 0, PG, RW, AP, -1, 0), MMAP_BASE - PG);
	af->armed = false;
	atomic_store(&af->count, 0);
	atomic_store(&af->failed, 0);
	af->sticky = true;
	af->armed = true;
	assert_ret(um_proc_new(sys, &(struct um_proc *){NULL}), -ENOMEM);
	assert_ret(um_proc_new(sys, &(struct um_proc *){NULL}), -ENOMEM);
	assert_ret(atomic_load(&af->failed), 2);
	assert_ret(um_mmap(p, 0, PG, RW, AP, -1, 0), -ENOMEM);
	assert_fault(um_store(p, MMAP_BASE - PG, 8, 1, &si_), UM_SIGKILL, 0, MMAP_BASE - PG);
	af->armed = false;
	free_checked(sys);
}

static void workload_without_injection_runs_clean(void **state)
{
	struct totals t = clean_totals(0);

	(void)state;
	assert_ret(problems, 0);
	assert_true(t.allocs > 50);
	assert_true(t.host_calls > 5);
	fprintf(stderr, "inject: the workload: %llu calls, %llu allocations, %llu host calls\n",
		(unsigned long long)t.calls, (unsigned long long)t.allocs,
		(unsigned long long)t.host_calls);
}

static void every_allocation_failing_once(void **state)
{
	struct totals t = clean_totals(0);

	(void)state;
	unsigned before = problems;

	sweep("once", M_ONCE, I_ALLOC, t.allocs, 0, 0);
	assert_ret(problems - before, 0);
}

static void every_allocation_failing_from_n_on(void **state)
{
	struct totals t = clean_totals(0);

	(void)state;
	unsigned before = problems;

	sweep("sticky", M_STICKY, I_ALLOC, t.allocs, 0, 0);
	assert_ret(problems - before, 0);
}

static void every_host_call_failing_with_eio(void **state)
{
	const uint32_t ops = (1u << HOST_NR_OPS) - 1;
	struct totals t = clean_totals(ops);

	(void)state;
	unsigned before = problems;

	sweep("host-eio", M_ONCE, I_HOST, t.host_calls, EIO, ops);
	assert_ret(problems - before, 0);
}

static void every_host_write_failing_with_enospc(void **state)
{
	const uint32_t ops = 1u << HOST_WRITE;
	struct totals t;

	(void)state;
	t = clean_totals(ops); /* the writes alone */
	unsigned before = problems;

	sweep("host-enospc", M_ONCE, I_HOST, t.host_calls, ENOSPC, ops);
	assert_ret(problems - before, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(injector_fails_the_nth_allocation_once_or_sticky),
	    cmocka_unit_test(workload_without_injection_runs_clean),
	    cmocka_unit_test(every_allocation_failing_once),
	    cmocka_unit_test(every_allocation_failing_from_n_on),
	    cmocka_unit_test(every_host_call_failing_with_eio),
	    cmocka_unit_test(every_host_write_failing_with_enospc),
	};

	/*
	 * Each run makes a fresh sandbox and syncs its files several times: on
	 * tmpfs, where fsync costs nothing, when there is one.
	 */
	if (access("/dev/shm", W_OK | X_OK) == 0)
		setenv("TMPDIR", "/dev/shm", 1);
	if (only())
		return problems ? 1 : 0;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
