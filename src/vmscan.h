/*
 * Page reclaim: declarations of vmscan.c (watermarks, direct reclaim,
 * shrink_folio_list for page-cache pages). Layer: pagecache/fs, beside
 * pagecache.c and writeback.c, whose calls it makes.
 */
#ifndef UM_VMSCAN_H
#define UM_VMSCAN_H

#include "internal.h"

struct um_system;

/* Who reclaims, as vmstat counts it (reclaimer_offset): the index of sys->pgscan, pgsteal. */
enum { RECLAIM_KSWAPD, RECLAIM_DIRECT, RECLAIM_PROACTIVE, NR_RECLAIMERS };

/* Sets the watermarks from the machine's size (calculate_min_free_kbytes). */
UM_INTERNAL void vmscan_init(struct um_system *sys);
/*
 * Before an allocation batch (the top of a fault, of a read(2) batch, of a
 * write(2) page): the kswapd step when an allocation woke kswapd since it
 * last ran (vmscan_kswapd), then direct reclaim when the free frames are
 * still below min (vmscan_direct). Locks as vmscan_direct. Costs two
 * relaxed loads when neither is due.
 */
UM_INTERNAL void vmscan_prepare_alloc(struct um_system *sys);
/* Would vmscan_prepare_alloc reclaim (kswapd woken, or free frames below min)? */
UM_INTERNAL bool vmscan_pending(struct um_system *sys);
/*
 * Direct reclaim: when the free frames are below the min watermark,
 * reclaims page-cache pages until they reach the high one (or nothing more
 * can go). The caller holds no inode lock and no invalidate_lock (an mm
 * lock, shared, is fine). Returns the pages reclaimed.
 */
UM_INTERNAL uint64_t vmscan_direct(struct um_system *sys);
/*
 * MADV_PAGEOUT's reclaim of one page-cache page of a regular file, mapped
 * once by the caller's mm (whose lock it holds): unmapped, and freed when
 * clean (true); a dirty one stays cached. The caller holds no inode lock.
 */
UM_INTERNAL bool vmscan_pageout_file(struct um_system *sys, uint32_t pfn);
/*
 * reclaim_pages (MADV_PAGEOUT) for a swap-backed anonymous page mapped
 * once by the caller, who holds its mm lock: swapped out, references
 * ignored (shrink_anon_page). True when freed.
 */
UM_INTERNAL bool vmscan_pageout_anon(struct um_system *sys, uint32_t pfn);
/* The same for a shmem page: unmapped everywhere and swapped out (shmem_writeout). */
UM_INTERNAL bool vmscan_pageout_shmem(struct um_system *sys, uint32_t pfn);
/* Is free memory below the min watermark (direct reclaim would run)? */
UM_INTERNAL bool vmscan_wanted(struct um_system *sys);

#endif /* UM_VMSCAN_H */
