/*
 * The machine: declarations of system.c (struct um_system) and procfs.c.
 * Layer: system, procfs, the highest.
 */
#ifndef UM_SYSTEM_H
#define UM_SYSTEM_H

#include "frame.h"
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
	/*
	 * An anon_vma family root is freed under it exclusive; rmap walkers
	 * hold it shared while they find a frame's root (rmap.c, Linux's RCU).
	 */
	pthread_rwlock_t anon_free_lock;
	struct swap_state swap;		/* swap devices and the swap cache (swapfile.c) */
};

/* procfs.c */
UM_INTERNAL const char *vma_name(const struct vma *v, char *buf, size_t n);

#endif /* UM_SYSTEM_H */
