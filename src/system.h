/*
 * The machine: declarations of system.c (struct um_system) and procfs.c.
 * Layer: system, procfs, the highest.
 */
#ifndef UM_SYSTEM_H
#define UM_SYSTEM_H

#include "frame.h"
#include "fs.h"
#include "host.h"
#include "lru.h"
#include "swap.h"

struct inode;
struct um_proc;
struct vma;

/* system.c */
struct um_system {
	struct um_config cfg;
	struct page_geom geom;		/* the page size, kept here only */
	uint64_t task_size;		/* end of user space: USER_VA_END - page size */
	struct frame_pool fp;
	pthread_mutex_t lock;		/* process list, pid and id counters */
	struct um_proc *procs;
	uint64_t nr_procs;
	int next_pid;
	_Atomic uint64_t next_id;	/* inode numbers, anon_vma ids */
	_Atomic uint64_t pgfault, pgmajfault, cow_copies;
	_Atomic uint64_t committed;	/* pages charged (Committed_AS) */
	_Atomic uint64_t oom_kills;	/* processes the OOM killer chose (oom_kill in vmstat) */
	/* Reclaim's vmstat counters (vmscan.c), by who reclaims: RECLAIM_KSWAPD, _DIRECT, _PROACTIVE. */
	_Atomic uint64_t pgscan[3][2], pgsteal[3][2], pgrefill; /* [reclaimer][anon 0, file 1] */
	_Atomic uint64_t pageoutrun;	/* kswapd steps run (balance_pgdat calls) */
	/* files */
	int sandbox_fd;
	char *sandbox_path;
	bool sandbox_owned;		/* made by us: removed at um_system_free */
	pthread_mutex_t inode_lock;	/* the inode table */
	struct inode *inodes;
	struct inode *zero;		/* /dev/zero */
	struct host_faults host_faults;
	struct alloc_faults alloc_faults;
	pthread_mutex_t hugetlb_mutex;	/* hugetlb_fault_mutex: huge page faults, one at a time */
	struct lruvec lru;		/* page-cache LRU lists and watermarks (lru.c, vmscan.c) */
	/* The embedder's event handler (um_set_event_handler): set while no call runs. */
	void (*event_fn)(void *arg, const struct um_event *ev);
	void *event_arg;
	/*
	 * The virtual clock, in ms since the machine was made (jiffies at
	 * HZ=1000): it moves only by um_advance_clock, through the flusher's
	 * timer (wb_advance_clock), so every run of a script sees one history.
	 */
	_Atomic uint64_t jiffies;
	struct bdi_writeback wb;	/* the flusher, dirty inodes, write-back counters */
	/*
	 * An anon_vma family root is freed under it exclusive; rmap walkers
	 * hold it shared while they find a frame's root (rmap.c, Linux's RCU).
	 */
	pthread_rwlock_t anon_free_lock;
	struct swap_state swap;		/* swap devices and the swap cache (swapfile.c) */
};

/*
 * Reports one event to the embedder's handler when there is one: callers
 * test sys_events_on first, so that with no handler an event costs that
 * one branch and nothing it would have to compute.
 */
static inline bool sys_events_on(const struct um_system *sys)
{
	return unlikely(sys->event_fn != NULL);
}

static inline void sys_event(struct um_system *sys, enum um_event_type type, int pid,
			     uint64_t addr, uint64_t pfn, uint64_t ino, uint64_t index)
{
	struct um_event ev = {
		.type = type, .pid = pid, .addr = addr, .pfn = pfn, .ino = ino, .index = index,
	};

	if (sys->event_fn)
		sys->event_fn(sys->event_arg, &ev);
}

/* procfs.c */
UM_INTERNAL const char *vma_name(const struct vma *v, char *buf, size_t n);

#endif /* UM_SYSTEM_H */
