/*
 * usermm: the Linux memory-mapping system in user space.
 *
 * This is the only public header. Every entry point is um_*, takes the
 * object it works on, and returns 0 (or a value) on success or a negative
 * errno on failure, exactly as the Linux system call of the same name would
 * fail. The library never touches the global errno.
 *
 * Objects:
 *   struct um_system  one machine: physical frames, configuration, processes
 *   struct um_proc    one process: an address space (mm) and its counters
 *
 * Constants have the numeric values of the Linux x86-64 ABI, so an embedder
 * on Linux may pass <sys/mman.h> values unchanged.
 *
 * Threads: every call may be made from any thread. Calls on one process are
 * serialised by its mm lock (faults and accesses take it shared, calls that
 * change the address space take it exclusive), as Linux's mmap_lock does.
 */
#ifndef USERMM_H
#define USERMM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define UM_API __attribute__((visibility("default")))
#else
#define UM_API
#endif

#define UM_VERSION_MAJOR 0
#define UM_VERSION_MINOR 1

/* Protections (mmap, mprotect). */
#define UM_PROT_NONE 0x0
#define UM_PROT_READ 0x1
#define UM_PROT_WRITE 0x2
#define UM_PROT_EXEC 0x4
#define UM_PROT_GROWSDOWN 0x01000000
#define UM_PROT_GROWSUP 0x02000000

/* mmap flags. */
#define UM_MAP_SHARED 0x01
#define UM_MAP_PRIVATE 0x02
#define UM_MAP_DROPPABLE 0x08 /* Linux 6.11: private anonymous memory reclaim may drop */
#define UM_MAP_SHARED_VALIDATE 0x03
#define UM_MAP_TYPE 0x0f
#define UM_MAP_FIXED 0x10
#define UM_MAP_ANONYMOUS 0x20
#define UM_MAP_32BIT 0x40
#define UM_MAP_GROWSDOWN 0x0100
#define UM_MAP_DENYWRITE 0x0800
#define UM_MAP_EXECUTABLE 0x1000
#define UM_MAP_LOCKED 0x2000
#define UM_MAP_NORESERVE 0x4000
#define UM_MAP_POPULATE 0x8000
#define UM_MAP_NONBLOCK 0x10000
#define UM_MAP_STACK 0x20000
#define UM_MAP_HUGETLB 0x40000
#define UM_MAP_SYNC 0x80000
#define UM_MAP_FIXED_NOREPLACE 0x100000
#define UM_MAP_UNINITIALIZED 0x4000000
#define UM_MAP_FILE 0

/* Signals and si_code values reported by faulting accesses. */
#define UM_SIGBUS 7
#define UM_SIGSEGV 11
#define UM_SEGV_MAPERR 1
#define UM_SEGV_ACCERR 2
#define UM_BUS_ADRERR 2
#define UM_SI_KERNEL 0x80 /* x86-64: a non-canonical address (#GP); addr is 0 */
#define UM_SIGKILL 9	  /* out of memory inside a fault: the OOM killer's answer */
#define UM_SIGXFSZ 25	  /* sent by a write or truncate past RLIMIT_FSIZE (um_signal_take) */

/* open() flags, lseek() whence, msync() flags. */
#define UM_O_RDONLY 00
#define UM_O_WRONLY 01
#define UM_O_RDWR 02
#define UM_O_ACCMODE 03
#define UM_O_CREAT 0100
#define UM_O_EXCL 0200
#define UM_O_NOCTTY 0400
#define UM_O_TRUNC 01000
#define UM_O_APPEND 02000
#define UM_O_NONBLOCK 04000
#define UM_O_DSYNC 010000
#define UM_O_DIRECTORY 0200000
#define UM_O_NOFOLLOW 0400000
#define UM_O_CLOEXEC 02000000
#define UM_O_SYNC 04010000
#define UM_SEEK_SET 0
#define UM_SEEK_CUR 1
#define UM_SEEK_END 2
#define UM_MS_ASYNC 1
#define UM_MS_INVALIDATE 2
#define UM_MS_SYNC 4

/* mremap() flags. */
#define UM_MREMAP_MAYMOVE 1
#define UM_MREMAP_FIXED 2
#define UM_MREMAP_DONTUNMAP 4

/* mlockall() and mlock2() flags. */
#define UM_MCL_CURRENT 1
#define UM_MCL_FUTURE 2
#define UM_MCL_ONFAULT 4
#define UM_MLOCK_ONFAULT 1

/* Overcommit policies (vm.overcommit_memory). */
#define UM_OVERCOMMIT_GUESS 0
#define UM_OVERCOMMIT_ALWAYS 1
#define UM_OVERCOMMIT_NEVER 2

/*
 * Machine configuration. Fill with um_config_init() and change what you
 * need; fields left at their defaults behave as a stock x86-64 Linux.
 */
struct um_config {
	uint64_t phys_bytes;		/* physical memory (default 1 GiB) */
	uint32_t page_size;		/* 4096 .. 65536, a power of two (default 4096) */
	uint32_t max_map_count;		/* vm.max_map_count (default 65530) */
	int overcommit_memory;		/* UM_OVERCOMMIT_* (default GUESS) */
	uint32_t overcommit_ratio;	/* percent, for policy NEVER (default 50) */
	uint64_t mmap_min_addr;		/* vm.mmap_min_addr (default 65536) */
	uint64_t mmap_base;		/* top of the mmap area; 0: task size - 128 MiB
					 * stack gap, page aligned, as Linux without ASLR */
	uint64_t brk_start;		/* where the heap starts, after the program image
					 * (default 0x555555559000, as a small PIE without ASLR) */
	uint64_t rlimit_memlock;	/* RLIMIT_MEMLOCK in bytes, soft and hard, of every
					 * new process (default 8 MiB; um_setrlimit) */
	int privileged;			/* processes start with UM_CAP_PRIVILEGED: as root
					 * with its capabilities; 0 (default): with none,
					 * as the kernel back end's driver */
	const char *sandbox_dir;	/* files live here; NULL: a fresh temporary dir */
	uint32_t readahead_kb;		/* read_ahead_kb of the files' disk; 0 (default):
					 * the host disk's, as the kernel reads them */
	uint32_t nr_hugepages;		/* vm.nr_hugepages: huge pages of the default size
					 * (a PMD's span: 2 MiB with 4 KiB pages) set aside
					 * for MAP_HUGETLB at start (default 0) */
	uint32_t nr_hugepages_pud;	/* gigantic pages (a PUD's span: 1 GiB) set aside */
	/*
	 * Write-back of dirty page-cache pages by age and amount, the vm.dirty_*
	 * sysctls (times on the virtual clock, see um_advance_clock):
	 */
	uint32_t dirty_expire_centisecs;    /* an inode dirty this long is written (default 3000) */
	uint32_t dirty_writeback_centisecs; /* the flusher's period; 0: never wakes (default 500) */
	uint32_t dirty_background_ratio;    /* percent of dirtyable memory (free + file cache)
					     * above which the flusher writes (default 10) */
	uint32_t dirty_ratio;		    /* percent above which writers are throttled (default 20) */
	uint64_t swap_bytes;		/* a swap file of this size made in the sandbox and
					 * swapped on at start, removed at the end (0:
					 * none; um_swapon adds more) */
};

struct um_system;
struct um_proc;

/*
 * What a faulting access reports instead of crashing: the signal Linux
 * would deliver (siginfo's si_signo), its si_code and si_addr. The fields
 * are not named si_* because <signal.h> defines si_addr as a macro.
 */
struct um_siginfo {
	int signo;
	int code;
	uint64_t addr;
};

/* System-wide counters (a subset of /proc/meminfo and /proc/vmstat). */
struct um_sys_stats {
	uint64_t frames_total;		/* physical frames */
	uint64_t frames_free;		/* frames on no list: free for allocation */
	uint64_t frames_used;		/* frames_total - frames_free, zero frame excluded */
	uint64_t pgfault;		/* all faults */
	uint64_t pgmajfault;		/* faults that read from a file or swap */
	uint64_t cow_copies;		/* copy-on-write breaks that copied a frame */
	uint64_t frame_desc_bytes;	/* sizeof one frame descriptor */
	uint64_t nr_procs;		/* live processes */
	uint64_t committed_as;		/* bytes charged to the commit (Committed_AS) */
	uint64_t commit_limit;		/* bytes (CommitLimit, enforced under policy NEVER) */
	/* The default huge page size's pool (HugePages_* of /proc/meminfo). */
	uint64_t hugepages_total;
	uint64_t hugepages_free;
	uint64_t hugepages_rsvd;	/* reserved by mappings, not yet faulted in */
	uint64_t hugepage_size;		/* bytes (Hugepagesize) */
	/* The page cache of regular files, in pages (shmem is not counted). */
	uint64_t cached_pages;		/* Cached */
	uint64_t dirty_pages;		/* Dirty */
	uint64_t active_file;		/* Active(file) */
	uint64_t inactive_file;		/* Inactive(file): with lazily freeable (MADV_FREE) pages */
	uint64_t unevictable;		/* Unevictable: pages reclaim found a VM_LOCKED VMA maps */
	/* The anon LRU lists, in pages: anonymous and shmem pages (swap-backed). */
	uint64_t active_anon;		/* Active(anon) */
	uint64_t inactive_anon;		/* Inactive(anon) */
	/* Swap, in pages (/proc/meminfo's Swap*, /proc/vmstat's pswp*). */
	uint64_t swap_total;		/* SwapTotal: every device's slots but the headers */
	uint64_t swap_free;		/* SwapFree */
	uint64_t swap_cached;		/* SwapCached: pages in memory and in the swap cache */
	uint64_t pswpin;		/* pages read from swap */
	uint64_t pswpout;		/* pages written to swap */
	uint64_t page_tables;		/* PageTables: bytes of every process's page tables, roots included; frames of physical memory */
	uint64_t oom_kills;		/* processes the OOM killer chose (vmstat oom_kill) */
	/*
	 * /proc/vmstat events the library counts, since the machine was made.
	 * Reclaim is kswapd's (an allocation that leaves free memory below the
	 * low watermark wakes kswapd, whose step the next fault, read(2) batch
	 * or write(2) page runs before it allocates, reclaiming up to the high
	 * watermark; or um_kswapd_run), direct (an allocation that still finds
	 * free memory below the min watermark, or none, reclaims before it goes
	 * on) or proactive (um_reclaim, as memory.reclaim is counted since
	 * Linux 6.15).
	 */
	uint64_t pgactivate;		/* page-cache pages moved to the active list */
	uint64_t pgdeactivate;		/* moved from the active list to the inactive one */
	uint64_t pgrefill;		/* active pages reclaim looked at (shrink_active_list) */
	uint64_t pgscan_kswapd;		/* inactive pages kswapd looked at */
	uint64_t pgsteal_kswapd;	/* pages it freed */
	uint64_t pageoutrun;		/* kswapd steps (balance_pgdat runs) */
	uint64_t pgscan_direct;		/* inactive pages direct reclaim looked at */
	uint64_t pgsteal_direct;	/* pages it freed */
	uint64_t pgscan_proactive;	/* the same for um_reclaim */
	uint64_t pgsteal_proactive;
	uint64_t pgscan_anon;		/* of those scanned, from the anon lists */
	uint64_t pgscan_file;		/* from the file lists (lazily freeable pages too) */
	uint64_t pgsteal_anon;		/* of those freed, from the anon lists */
	uint64_t pgsteal_file;
	/* More of /proc/meminfo, in pages (a snapshot: faults in flight may move them). */
	uint64_t mem_available;		/* MemAvailable: si_mem_available's estimate */
	uint64_t shmem_pages;		/* Shmem: pages of shmem objects (shared anonymous memory) */
	uint64_t mapped_pages;		/* Mapped: page-cache pages (files and shmem) some PTE maps */
	uint64_t anon_pages;		/* AnonPages: anonymous pages some PTE maps */
	uint64_t mlocked_pages;		/* Mlocked: pages a VM_LOCKED VMA maps */
	uint64_t hugetlb_bytes;		/* Hugetlb: the huge pages of every pool */
	/*
	 * Write-back. It is synchronous (a page is written within the call that
	 * writes it), so no page is under write-out between calls: Writeback
	 * is always 0 here.
	 */
	uint64_t writeback_pages;	/* Writeback */
	uint64_t nr_dirtied;		/* vmstat nr_dirtied: pages that turned dirty */
	uint64_t nr_written;		/* vmstat nr_written: pages written to their files */
	uint64_t written_periodic;	/* of those: by the flusher, for age (kupdate) */
	uint64_t written_background;	/* by the flusher, above the background threshold */
	uint64_t written_throttle;	/* by writers throttled above the freerun ceiling */
	uint64_t dirty_throttled;	/* times a writer was throttled (balance_dirty_pages) */
	uint64_t dirty_threshold;	/* vmstat nr_dirty_threshold, pages */
	uint64_t dirty_background_threshold; /* vmstat nr_dirty_background_threshold, pages */
	uint64_t clock_ms;		/* the virtual clock (um_clock) */
};

/* Per-process counters (/proc/PID/status and /proc/PID/stat fields). */
struct um_proc_stats {
	uint64_t min_flt;
	uint64_t maj_flt;
	uint64_t vm_size;		/* bytes mapped (VmSize) */
	uint64_t rss_anon;		/* bytes (RssAnon) */
	uint64_t rss_file;		/* bytes (RssFile) */
	uint64_t rss_shmem;		/* bytes (RssShmem) */
	uint64_t vm_pte;		/* bytes of page tables (VmPTE) */
	uint64_t map_count;		/* VMAs */
	uint64_t hugetlb;		/* bytes of hugetlb pages mapped (HugetlbPages) */
	uint64_t vm_swap;		/* bytes of its pages on swap (VmSwap) */
};

/* ---- the machine ---- */

UM_API void um_config_init(struct um_config *cfg);
UM_API int um_system_new(const struct um_config *cfg, struct um_system **out);
/* Ends every process still alive and frees the machine. */
UM_API void um_system_free(struct um_system *sys);
UM_API void um_system_stats(struct um_system *sys, struct um_sys_stats *st);
/*
 * Reclaims up to nr_pages clean or dirty page-cache pages (dirty ones are
 * written back first), oldest first, as memory pressure would; mapped
 * pages are unmapped, mlocked ones stay. Returns the pages reclaimed
 * (fewer when no more can go), or -EINVAL.
 */
UM_API int64_t um_reclaim(struct um_system *sys, uint64_t nr_pages);
/*
 * Runs kswapd's step now (balance_pgdat): reclaims, counted as kswapd's,
 * until free memory reaches the high watermark, and takes back any pending
 * wake-up. The library runs the same step itself, synchronously, at the
 * next fault, read(2) batch or write(2) page after an allocation left free
 * memory below the low watermark; an embedder with an idle thread may call
 * this to reclaim ahead of its allocations. Returns the pages reclaimed
 * (0 when free memory is at high already), or -EINVAL.
 */
UM_API int64_t um_kswapd_run(struct um_system *sys);
/*
 * The machine's clock, in milliseconds since um_system_new. It moves only
 * when told: um_advance_clock moves it ms forward, and the flusher (Linux's
 * wb_workfn) runs at each of its wake-ups on the way, at its time: every
 * dirty_writeback_centisecs while some inode is dirty, writing back inodes
 * dirty for dirty_expire_centisecs, and, when started by a writer that
 * passed the background threshold, at once, writing until the dirty pages
 * are below it. Returns 0, or -EINVAL when the clock would pass 2^63 ms.
 */
UM_API int um_advance_clock(struct um_system *sys, uint64_t ms);
UM_API uint64_t um_clock(struct um_system *sys);
/*
 * swapon(2): path, a file in the sandbox, becomes a swap device. With size
 * not 0 the file is made (it must not exist) with that many bytes and is
 * removed again at swapoff; with size 0 an existing file is used whole.
 * Its first page is the header, as on Linux: size / page size - 1 slots.
 * Returns the device's type (0 .. 31, as pagemap's swap entries name it),
 * or -EBUSY (already on), -EPERM (32 devices on), -EINVAL (under two
 * pages), an error of open or ftruncate, -ENOMEM.
 */
UM_API int um_swapon(struct um_system *sys, const char *path, uint64_t size);
/*
 * swapoff(2): every page on the device is read back and mapped again in
 * each process that has it, then the device goes. -EINVAL when path is
 * not a swap device; -ENOMEM, with nothing changed, when the free frames
 * cannot hold its pages (Linux's vm_enough_memory check); -ENOMEM or a read
 * error midway leaves the device on, the pages read so far mapped.
 */
UM_API int um_swapoff(struct um_system *sys, const char *path);
UM_API uint32_t um_page_size(const struct um_system *sys);
/*
 * Checks every invariant of the machine (VMA trees ordered and
 * non-overlapping, page tables inside VMAs, frame reference and map counts
 * equal to what page tables and caches hold, counters equal to a recount).
 * Returns 0, or -EUCLEAN with a description of the first broken invariant
 * written to why (at most whylen bytes, NUL-terminated) when why is non-NULL.
 * Takes every mm lock shared: do not call with accesses in flight.
 */
UM_API int um_check(struct um_system *sys, char *why, size_t whylen);

/*
 * Events: what happens inside the machine, as it happens. An embedder that
 * wants to watch (a trace, a teaching view) registers one handler; the
 * library calls it once per event, in the thread that caused it, in the
 * order they happen. With no handler each event costs one branch.
 *
 *   UM_EVENT_FAULT_MINOR  a page fault that read nothing from a file (every
 *                         fault /proc/vmstat counts in pgfault, less major
 *                         ones): pid, addr (the faulting address), pfn (the
 *                         frame mapped there afterwards; UM_EVENT_NO_PFN when
 *                         none, as for a fault that ends in a signal; 0 is
 *                         the shared zero frame)
 *   UM_EVENT_FAULT_MAJOR  a page fault that read its page from a file
 *                         (pgmajfault): the same fields
 *   UM_EVENT_COW          a copy-on-write break that copied a frame (the
 *                         copy of a private file page at its first write
 *                         too): pid, addr, pfn (the new copy); reported
 *                         before the fault that made it
 *   UM_EVENT_WRITEBACK    a dirty page-cache page written to its file
 *                         (fsync, msync, sync, reclaim, the inode's end): pfn,
 *                         ino (the file's inode number, as um_fstat's
 *                         st_ino), index (the page's index in the file);
 *                         pid 0 (the writer is the system)
 *   UM_EVENT_EVICT        reclaim (memory pressure, um_reclaim,
 *                         MADV_PAGEOUT) dropped a page-cache page: pfn, ino,
 *                         index; pid 0. The next access is a major fault.
 *   UM_EVENT_OOM_KILL     the OOM killer chose process pid
 *   UM_EVENT_SWAP_OUT     an anonymous or shmem page written to a swap slot
 *                         (pswpout): pfn, ino (the swap device's type, as
 *                         um_swapon answers it), index (the slot's offset
 *                         on it); pid 0
 *   UM_EVENT_SWAP_IN      a swap slot read into a frame (pswpin: the
 *                         faulting page and its read-around, swapoff):
 *                         the same fields
 *
 * Fields an event has not are 0 (pfn: UM_EVENT_NO_PFN).
 *
 * Context: the handler runs inside the library with its locks held: the
 * faulting process's mm lock (shared) for faults and COW breaks, the file's
 * page-cache locks for write-back and eviction, the system's process-list
 * lock for an OOM kill; other threads may report events at the same time.
 * So the handler must not call any um_* function of the same system (it
 * may deadlock), nor block for long; copying the event somewhere and
 * returning is what it is for. Set or clear the handler (fn NULL) only
 * while no other thread is in a call on this system.
 */
enum um_event_type {
	UM_EVENT_FAULT_MINOR = 1,
	UM_EVENT_FAULT_MAJOR,
	UM_EVENT_COW,
	UM_EVENT_WRITEBACK,
	UM_EVENT_EVICT,
	UM_EVENT_OOM_KILL,
	UM_EVENT_SWAP_OUT,
	UM_EVENT_SWAP_IN,
};

#define UM_EVENT_NO_PFN UINT64_MAX

struct um_event {
	enum um_event_type type;
	int pid;		/* the process it happened in, 0 for none */
	uint64_t addr;		/* virtual address in pid, when there is one */
	uint64_t pfn;		/* the frame (um_pagemap's frame numbers) */
	uint64_t ino;		/* page-cache events: the file's inode number */
	uint64_t index;		/* page-cache events: the page's index in the file */
};

UM_API void um_set_event_handler(struct um_system *sys,
				 void (*fn)(void *arg, const struct um_event *ev), void *arg);

/* ---- processes ---- */

/* A new process with an empty address space. */
UM_API int um_proc_new(struct um_system *sys, struct um_proc **out);
/*
 * fork(): the child gets every mapping of the parent with the same
 * attributes; shared mappings stay shared, private ones become
 * copy-on-write in both.
 */
UM_API int um_fork(struct um_proc *parent, struct um_proc **child);
/* execve(): every mapping is gone; the process is otherwise kept. */
UM_API int um_exec(struct um_proc *p);
/* _exit(): the address space is torn down and p is freed. */
UM_API void um_exit(struct um_proc *p);
UM_API int um_getpid(const struct um_proc *p);
UM_API void um_proc_stats(struct um_proc *p, struct um_proc_stats *st);
/* The top of the mmap area, from which mmap(NULL) places mappings downwards. */
UM_API uint64_t um_mmap_base(const struct um_proc *p);

/*
 * The OOM killer. When a fault (an access, a populate, a read into memory)
 * finds no free frame and reclaim frees none, the library kills the
 * process of the highest badness (Linux's oom_badness: resident pages,
 * swap entries and page-table pages, plus oom_score_adj * total pages /
 * 1000), frees its private memory at once, and lets the fault retry. The
 * victim's struct um_proc stays valid: its accesses (and reads into its
 * memory) fail with SIGKILL (-EFAULT); mmap, munmap, remap_file_pages,
 * mprotect, mremap, madvise, mlock and friends, msync, mincore, fork, exec
 * and um_set_oom_score_adj with -ESRCH; observation calls (maps, stats,
 * oom_score) and calls on descriptors and credentials still answer, until
 * the embedder calls um_exit on it. When the faulting process is itself the victim, its
 * access ends with SIGKILL.
 */
/* Nonzero once p was killed by the OOM killer (it waits for um_exit). */
UM_API int um_proc_killed(const struct um_proc *p);
/*
 * /proc/PID/oom_score_adj: -1000 (never killed) to 1000; 0 for a new
 * process, inherited by fork. EINVAL out of range; EACCES below the lowest
 * value a CAP_SYS_RESOURCE holder set (0 at first) without that capability.
 */
UM_API int um_set_oom_score_adj(struct um_proc *p, int adj);
UM_API int um_oom_score_adj(const struct um_proc *p);
/* /proc/PID/oom_score: the badness scaled as Linux 6.x, (1000 + points * 1000 / total) * 2 / 3; 0 for adj -1000. */
UM_API int64_t um_oom_score(struct um_proc *p);

/* ---- credentials (struct cred) ---- */

/*
 * Capabilities: bit n of a set is Linux's capability n. The library acts
 * on these; um_config.privileged starts every process with all of them.
 */
#define UM_CAP_CHOWN 0		/* chown any file */
#define UM_CAP_DAC_OVERRIDE 1	/* pass the mode bits (execute: when some x bit is set) */
#define UM_CAP_DAC_READ_SEARCH 2 /* read any file, search any directory */
#define UM_CAP_FOWNER 3		/* chmod a file one does not own */
#define UM_CAP_FSETID 4		/* keep S_ISGID on chmod outside the file's group */
#define UM_CAP_SETGID 6		/* setgid/setresgid to any group */
#define UM_CAP_SETUID 7		/* setuid/setresuid to any user */
#define UM_CAP_IPC_LOCK 14	/* mlock past RLIMIT_MEMLOCK */
#define UM_CAP_SYS_RAWIO 17	/* map below vm.mmap_min_addr */
#define UM_CAP_SYS_ADMIN 21	/* the overcommit admin reserve */
/*
 * Raise a hard resource limit (um_setrlimit). Not in UM_CAP_PRIVILEGED:
 * the kernel back end cannot count on it (a container's bounding set often
 * lacks it); give it with um_proc_set_cred.
 */
#define UM_CAP_SYS_RESOURCE 24
#define UM_CAP_PRIVILEGED                                                                          \
	((1ULL << UM_CAP_CHOWN) | (1ULL << UM_CAP_DAC_OVERRIDE) | (1ULL << UM_CAP_DAC_READ_SEARCH) | \
	 (1ULL << UM_CAP_FOWNER) | (1ULL << UM_CAP_FSETID) | (1ULL << UM_CAP_SETGID) |             \
	 (1ULL << UM_CAP_SETUID) | (1ULL << UM_CAP_IPC_LOCK) | (1ULL << UM_CAP_SYS_RAWIO) |        \
	 (1ULL << UM_CAP_SYS_ADMIN))

/*
 * A process's credentials. A new process has the host program's effective
 * uid and gid in every field (0 when run as root, as the kernel back end's
 * driver has its runner's), no supplementary groups, umask 022, and
 * UM_CAP_PRIVILEGED in all three capability sets when the system is
 * privileged, else none. fork copies them; exec recomputes the
 * capabilities as Linux does for a program without file capabilities.
 */
struct um_cred {
	uint32_t uid, euid, suid, fsuid;
	uint32_t gid, egid, sgid, fsgid;
	uint64_t cap_effective;
	uint64_t cap_permitted;
	uint64_t cap_bset;	/* the bounding set: what exec may give back */
	uint32_t umask;
};

UM_API void um_proc_cred(struct um_proc *p, struct um_cred *out);
/*
 * Sets every credential at once, as the program that starts a process
 * does (no permission check). EINVAL for a uid or gid of -1, a umask
 * beyond 0777, or a capability past Linux's last (40).
 */
UM_API int um_proc_set_cred(struct um_proc *p, const struct um_cred *c);
/*
 * setuid(), setgid(), setresuid(), setresgid(): Linux's rules, including
 * the capabilities a uid change takes away (or gives back). -1 leaves a
 * field of setres*id as it is.
 */
UM_API int um_setuid(struct um_proc *p, uint32_t uid);
UM_API int um_setgid(struct um_proc *p, uint32_t gid);
UM_API int um_setresuid(struct um_proc *p, uint32_t ruid, uint32_t euid, uint32_t suid);
UM_API int um_setresgid(struct um_proc *p, uint32_t rgid, uint32_t egid, uint32_t sgid);
/* umask(): sets the mask (& 0777) and returns the old one. */
UM_API uint32_t um_umask(struct um_proc *p, uint32_t mask);

/* ---- memory-mapping system calls ---- */

/* Returns the address of the new mapping, or a negative errno. */
UM_API int64_t um_mmap(struct um_proc *p, uint64_t addr, uint64_t length, int prot, uint64_t flags,
		       int fd, int64_t offset);
UM_API int um_munmap(struct um_proc *p, uint64_t addr, uint64_t length);
UM_API int um_mprotect(struct um_proc *p, uint64_t addr, uint64_t length, int prot);

/*
 * mremap(): shrink in place, grow in place when the space after is free,
 * else move with MREMAP_MAYMOVE (page-table entries move; frames are never
 * copied). MREMAP_FIXED moves to new_addr, MREMAP_DONTUNMAP leaves the old
 * range mapped and empty; old_length 0 on a shared mapping duplicates it.
 * Returns the new address or a negative errno.
 */
UM_API int64_t um_mremap(struct um_proc *p, uint64_t old_addr, uint64_t old_length,
			 uint64_t new_length, int flags, uint64_t new_addr);

/* madvise() advice (the Linux values). */
#define UM_MADV_NORMAL 0
#define UM_MADV_RANDOM 1
#define UM_MADV_SEQUENTIAL 2
#define UM_MADV_WILLNEED 3
#define UM_MADV_DONTNEED 4
#define UM_MADV_FREE 8
#define UM_MADV_REMOVE 9
#define UM_MADV_DONTFORK 10
#define UM_MADV_DOFORK 11
#define UM_MADV_MERGEABLE 12
#define UM_MADV_UNMERGEABLE 13
#define UM_MADV_HUGEPAGE 14
#define UM_MADV_NOHUGEPAGE 15
#define UM_MADV_DONTDUMP 16
#define UM_MADV_DODUMP 17
#define UM_MADV_WIPEONFORK 18
#define UM_MADV_KEEPONFORK 19
#define UM_MADV_COLD 20
#define UM_MADV_PAGEOUT 21
#define UM_MADV_POPULATE_READ 22
#define UM_MADV_POPULATE_WRITE 23
#define UM_MADV_DONTNEED_LOCKED 24
#define UM_MADV_COLLAPSE 25
#define UM_MADV_GUARD_INSTALL 102
#define UM_MADV_GUARD_REMOVE 103

/*
 * madvise(): Linux's answers, including its partial effects (the mapped
 * parts of a range with holes are advised, then ENOMEM). madvise(0, 0, A)
 * tells whether advice A is known.
 */
UM_API int um_madvise(struct um_proc *p, uint64_t addr, uint64_t length, int advice);

/*
 * remap_file_pages(): deprecated, emulated as Linux does since 3.16 by
 * mapping the file again at pgoff over [start, start + size) (a VMA of its
 * own). prot must be 0.
 */
UM_API int um_remap_file_pages(struct um_proc *p, uint64_t start, uint64_t size, int prot,
			       uint64_t pgoff, int flags);

/*
 * brk(): sets the program break to addr and returns the new break; on
 * failure (a mapping in the way, below the start of the heap, out of
 * commit) returns the current one, as the raw system call does. brk(0)
 * asks for it. The heap is the anonymous VMA [heap] from brk_start.
 */
UM_API uint64_t um_brk(struct um_proc *p, uint64_t addr);

/*
 * mlock() and friends, as Linux: the range's VMAs get VM_LOCKED (split and
 * merged as needed) and their pages are faulted in (not with
 * MLOCK_ONFAULT / MCL_ONFAULT). Over RLIMIT_MEMLOCK without the privilege:
 * ENOMEM, or EPERM when the limit is 0. A hole in the range: ENOMEM, after
 * the VMAs before it changed (as Linux).
 */
UM_API int um_mlock(struct um_proc *p, uint64_t addr, uint64_t length);
UM_API int um_mlock2(struct um_proc *p, uint64_t addr, uint64_t length, unsigned flags);
UM_API int um_munlock(struct um_proc *p, uint64_t addr, uint64_t length);
UM_API int um_mlockall(struct um_proc *p, int flags);
UM_API int um_munlockall(struct um_proc *p);

/* Resource limits (the Linux values). */
#define UM_RLIMIT_FSIZE 1	/* bytes a write or truncate may reach: SIGXFSZ, EFBIG */
#define UM_RLIMIT_DATA 2	/* private writable memory and the heap: ENOMEM */
#define UM_RLIMIT_STACK 3	/* how far a MAP_GROWSDOWN mapping grows: SIGSEGV */
#define UM_RLIMIT_MEMLOCK 8	/* locked memory: ENOMEM, EAGAIN, EPERM at 0 */
#define UM_RLIMIT_AS 9		/* the whole address space (VmSize): ENOMEM */
#define UM_RLIM_NLIMITS 16
#define UM_RLIM_INFINITY UINT64_MAX

/*
 * setrlimit()/getrlimit() of process p, as Linux's prlimit does. A new
 * process starts with Linux's defaults: RLIMIT_STACK 8 MiB (hard
 * unlimited), RLIMIT_MEMLOCK the configuration's, the others unlimited;
 * fork copies the limits and exec keeps them (exec also places the mmap
 * area below a stack of RLIMIT_STACK, as Linux does). The library enforces
 * the five above; the other resources below UM_RLIM_NLIMITS are only kept.
 * EINVAL for an unknown resource or soft > hard; EPERM for raising the
 * hard limit without the privilege (CAP_SYS_RESOURCE). Lowering a limit
 * never takes back what is already mapped, locked or written.
 */
UM_API int um_setrlimit(struct um_proc *p, unsigned resource, uint64_t soft, uint64_t hard);
UM_API int um_getrlimit(struct um_proc *p, unsigned resource, uint64_t *soft, uint64_t *hard);
/*
 * The lowest-numbered signal a system call sent p and that p has not taken
 * yet (Linux's send_sig: UM_SIGXFSZ when a write or truncate met
 * RLIMIT_FSIZE, the call then failing with EFBIG), cleared as it is
 * returned; 0 when none is pending. Linux's default action for it would end
 * the process: the embedder decides.
 */
UM_API int um_signal_take(struct um_proc *p);
/*
 * mincore(): one byte per page of [addr, addr + length) into vec (a host
 * buffer of at least length/page-size rounded up bytes): 1 when the page
 * is resident (mapped, or in the page cache for file and shmem pages).
 * EINVAL for an unaligned addr, ENOMEM for unmapped pages (after filling
 * vec for the mapped pages before them).
 */
UM_API int um_mincore(struct um_proc *p, uint64_t addr, uint64_t length, unsigned char *vec);

/* ---- memory accesses through the software MMU ---- */

/*
 * Loads or stores size bytes (1, 2, 4 or 8, little-endian, any alignment)
 * at addr. Returns 0, or -EFAULT with si describing the signal Linux would
 * deliver (SIGSEGV with SEGV_MAPERR or SEGV_ACCERR, SIGBUS with BUS_ADRERR);
 * si may be NULL. A store that faults stores nothing.
 */
UM_API int um_load(struct um_proc *p, uint64_t addr, unsigned size, uint64_t *val,
		   struct um_siginfo *si);
UM_API int um_store(struct um_proc *p, uint64_t addr, unsigned size, uint64_t val,
		    struct um_siginfo *si);
/*
 * copy_from_user / copy_to_user: len bytes between the process's memory and
 * a host buffer. On a fault returns -EFAULT with si set; the bytes before
 * si->addr were copied.
 */
UM_API int um_copy_from(struct um_proc *p, void *dst, uint64_t src, size_t len,
			struct um_siginfo *si);
UM_API int um_copy_to(struct um_proc *p, uint64_t dst, const void *src, size_t len,
		      struct um_siginfo *si);
/*
 * Faults in the page holding addr for reading (write == 0) or writing and
 * returns in *host a host pointer to addr. The pointer stays valid until the
 * page's mapping changes (munmap, mprotect, fork, exec, exit, reclaim) and
 * reaches at most the end of the page.
 */
UM_API int um_translate(struct um_proc *p, uint64_t addr, int write, void **host,
			struct um_siginfo *si);

/* ---- files (paths are relative to the system's sandbox directory) ---- */

/* fstat() fields usermm keeps. */
struct um_stat {
	uint64_t st_dev;	/* makedev(major, minor) */
	uint64_t st_ino;
	uint32_t st_mode;	/* S_IFREG | permission bits, S_IFDIR, S_IFCHR */
	uint64_t st_size;
	uint64_t st_blocks;	/* 512-byte blocks of the host file */
	uint32_t st_uid;	/* the owner (see um_open, um_chown) */
	uint32_t st_gid;
};

/*
 * open(): a file under the sandbox directory, or "/dev/zero". A path that
 * resolves outside the sandbox (.., an absolute path, a symbolic link
 * leading out) is refused with EACCES or ENOENT and never opened. Returns
 * the lowest free descriptor or a negative errno.
 *
 * Files have an owner, a group and a mode, checked against the process's
 * credentials as Linux checks them (search permission on every directory
 * of the path, then read or write permission on the file; a file made by
 * O_CREAT is opened without a check). A new file gets mode & ~umask, the
 * process's fsuid and fsgid. Files the system did not make take their
 * owner and mode from the host file when first seen. The owner and group
 * live in the library (the host file keeps the host's); the mode is also
 * set on the host file.
 */
UM_API int um_open(struct um_proc *p, const char *path, int flags, unsigned mode);
UM_API int um_close(struct um_proc *p, int fd);
/* read()/write()/pread()/pwrite() with a host buffer, through the page cache. */
UM_API int64_t um_read(struct um_proc *p, int fd, void *buf, uint64_t count);
UM_API int64_t um_write(struct um_proc *p, int fd, const void *buf, uint64_t count);
UM_API int64_t um_pread(struct um_proc *p, int fd, void *buf, uint64_t count, int64_t offset);
UM_API int64_t um_pwrite(struct um_proc *p, int fd, const void *buf, uint64_t count,
			 int64_t offset);
/*
 * read()/write() with the buffer in the process's own memory at addr, as
 * the system calls take it: EFAULT when no byte of the buffer can be
 * accessed, else the count done up to the first bad byte. A buffer that
 * maps the bytes being moved (a mapping of the same file) gets them moved
 * a page of the file at a time, each page as memmove moves it; on Linux
 * that is up to the host CPU's copy.
 */
UM_API int64_t um_read_user(struct um_proc *p, int fd, uint64_t addr, uint64_t count);
UM_API int64_t um_write_user(struct um_proc *p, int fd, uint64_t addr, uint64_t count);
UM_API int64_t um_lseek(struct um_proc *p, int fd, int64_t offset, int whence);
UM_API int um_ftruncate(struct um_proc *p, int fd, int64_t length);
UM_API int um_fsync(struct um_proc *p, int fd);
UM_API int um_fdatasync(struct um_proc *p, int fd);
UM_API int um_fstat(struct um_proc *p, int fd, struct um_stat *st);
/*
 * chmod(), fchmod(): the owner, or a process with CAP_FOWNER, sets the mode
 * bits (07777), else EPERM; S_ISGID is dropped outside the file's group
 * without CAP_FSETID. /dev/zero's mode and owner never change (EPERM, for
 * chown too): the kernel back end's /dev/zero is the machine's.
 */
UM_API int um_chmod(struct um_proc *p, const char *path, uint32_t mode);
UM_API int um_fchmod(struct um_proc *p, int fd, uint32_t mode);
/*
 * chown(), fchown(): uid and gid, -1 for unchanged. The owner may give a
 * file to itself and to a group it is in, CAP_CHOWN anything, else EPERM.
 * A file that is not a directory loses S_ISUID, and S_ISGID when group
 * execution is on (or its owner is outside its group without
 * CAP_FSETID), as on Linux, root's chown included.
 */
UM_API int um_chown(struct um_proc *p, const char *path, uint32_t uid, uint32_t gid);
UM_API int um_fchown(struct um_proc *p, int fd, uint32_t uid, uint32_t gid);

/* msync(): MS_ASYNC, MS_SYNC, MS_INVALIDATE, with Linux's errors. */
UM_API int um_msync(struct um_proc *p, uint64_t addr, uint64_t length, int flags);
/* sync(): writes back every dirty page of the system. */
UM_API int um_sync(struct um_system *sys);
/* The sandbox directory of the system (a host path). */
UM_API const char *um_sandbox_dir(const struct um_system *sys);

/* ---- the TLB hit path, inline, for CPU loops (emulators, JITs) ---- */

/*
 * Each thread has its own software TLB. A CPU loop that makes hundreds of
 * millions of accesses a second can probe it inline, as QEMU's softmmu
 * does, and call um_load/um_store only on a miss:
 *
 *	struct um_tlb *tlb = um_tlb_self();           once per thread
 *	const uint64_t *gen = um_tlb_gen(p);         once per process, again after um_exec
 *	...
 *	if (um_load64_hit(tlb, gen, addr, &v) != 0)
 *		err = um_load(p, addr, 8, &v, &si);
 *
 * The fields are the library's: read them only through these functions.
 */
#define UM_TLB_SIZE 256

struct um_tlb_entry {
	uint64_t va_read;	/* page address when reads may use this entry */
	uint64_t va_write;	/* page address when writes may */
	uintptr_t addend;	/* host address = guest address + addend */
};

struct um_tlb {
	uint64_t gen;		/* the process generation this TLB is coherent with */
	/*
	 * The page geometry, copied from the system at each reset: the TLB's
	 * own cache of it, so that the probes below need no other pointer.
	 */
	uint64_t page_mask;	/* page size - 1 */
	uint32_t shift;		/* log2(page size) */
	int busy;		/* a store is in flight (accessed atomically) */
	struct um_tlb_entry e[UM_TLB_SIZE];
};

/* This thread's TLB. */
UM_API struct um_tlb *um_tlb_self(void);
/* The generation word of p's address space (a new one after um_exec). */
UM_API const uint64_t *um_tlb_gen(const struct um_proc *p);

/*
 * 0 and *val on a TLB hit of a naturally aligned 8-byte load, else 1 (call
 * um_load). A hit re-reads the generation after the data, so it never
 * returns bytes of a page unmapped meanwhile.
 */
static inline int um_load64_hit(const struct um_tlb *t, const uint64_t *gen, uint64_t addr,
				uint64_t *val)
{
	uint64_t g = __atomic_load_n(gen, __ATOMIC_ACQUIRE), v;
	const struct um_tlb_entry *e = &t->e[(addr >> t->shift) & (UM_TLB_SIZE - 1)];

	if (t->gen != g || e->va_read != (addr & (~t->page_mask | 7)))
		return 1;
	__builtin_memcpy(&v, (const void *)(uintptr_t)(addr + e->addend), 8);
	if (__atomic_load_n(gen, __ATOMIC_ACQUIRE) != g)
		return 1;
	*val = v;
	return 0;
}

/* 0 on a TLB hit of a naturally aligned 8-byte store (done), else 1 (call um_store). */
static inline int um_store64_hit(struct um_tlb *t, const uint64_t *gen, uint64_t addr,
				 uint64_t val)
{
	const struct um_tlb_entry *e = &t->e[(addr >> t->shift) & (UM_TLB_SIZE - 1)];
	int hit;

	/* busy tells a shootdown in another thread to wait for this store. */
	__atomic_store_n(&t->busy, 1, __ATOMIC_RELAXED);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	hit = t->gen == __atomic_load_n(gen, __ATOMIC_ACQUIRE) &&
	      e->va_write == (addr & (~t->page_mask | 7));
	if (hit)
		__builtin_memcpy((void *)(uintptr_t)(addr + e->addend), &val, 8);
	__atomic_store_n(&t->busy, 0, __ATOMIC_RELEASE);
	return !hit;
}

/* ---- looking inside: /proc/PID files in Linux's formats ---- */

/*
 * Each renders the file into buf (at most size bytes, NUL-terminated when
 * size > 0) and returns the full length it needs, like snprintf, or a
 * negative errno.
 */
UM_API int64_t um_proc_maps(struct um_proc *p, char *buf, size_t size);
UM_API int64_t um_proc_smaps(struct um_proc *p, char *buf, size_t size);
UM_API int64_t um_proc_status(struct um_proc *p, char *buf, size_t size);
/*
 * /proc/PID/pagemap: one 64-bit entry per page from addr (page aligned) for
 * npages pages, in Linux's format: bit 63 present, 62 swapped, 61 file-page
 * or shared-anon, 56 exclusively mapped, 55 soft-dirty, bits 0-54 the frame
 * number. Returns the number of entries written or a negative errno.
 */
UM_API int64_t um_pagemap(struct um_proc *p, uint64_t addr, uint64_t npages, uint64_t *out);
/*
 * /proc/kpagecount: how many page-table entries map frame pfn (the frame
 * numbers of um_pagemap), counted as Linux's kpagecount counts them: 0 for
 * a free frame, the shared zero frame, or a frame held only by a page
 * cache. Returns the count, or -EINVAL when pfn is past the last frame.
 * The count is a snapshot: faults in other threads may change it.
 */
UM_API int64_t um_kpagecount(struct um_system *sys, uint64_t pfn);

#ifdef __cplusplus
}
#endif

#endif /* USERMM_H */
