/*
 * Swap: declarations of swapfile.c (swap devices, the slot allocator and
 * its swap_map, the swap cache, swap I/O and read-around, swapoff).
 * Layer: mappings, beside mm.c (whose zap frees slots) and rmap.c.
 */
#ifndef UM_SWAP_H
#define UM_SWAP_H

#include "internal.h"

struct um_system;

/* The file um_config.swap_bytes makes in the sandbox. */
#define SWAPFILE_NAME ".usermm-swap"

/* Linux's limits: 32 devices (MAX_SWAPFILES_SHIFT 5 bits of type). */
#define MAX_SWAPFILES 32
#define SWP_TYPE_BITS 5

/*
 * A swap entry (swp_entry_t): type in bits 0-4, slot offset above, as
 * /proc/PID/pagemap shows it. Offset 0 is each device's header, never
 * handed out, so 0 is no entry.
 */
static inline uint64_t swp_entry(uint32_t type, uint64_t offset)
{
	return type | (offset << SWP_TYPE_BITS);
}

static inline uint32_t swp_type(uint64_t entry)
{
	return (uint32_t)(entry & (MAX_SWAPFILES - 1));
}

static inline uint64_t swp_offset(uint64_t entry)
{
	return entry >> SWP_TYPE_BITS;
}

/* swap_map values: references (PTEs, shmem slots) and the cache's bit. */
#define SWAP_HAS_CACHE 0x8000u
#define SWAP_COUNT_MASK 0x7fffu

/* One swap file (swap_info_struct). Guarded by swap_state.lock. */
struct swap_info {
	int fd;
	char *path;		/* relative to the sandbox */
	bool created;		/* made by the library (config swap): removed at swapoff */
	uint64_t pages;		/* slots, the header's included */
	uint64_t inuse;		/* slots with references or cached */
	uint64_t cursor;	/* where the next slot search starts (scan_swap_map) */
	uint16_t *map;		/* swap_map, per slot */
	uint32_t *cache;	/* per slot: the swap cache's frame + 1, or 0 */
	bool off;		/* being swapped off: no new slots from it */
};

struct swap_state {
	pthread_mutex_t lock;		/* swap_lock: devices, maps, the cache */
	struct swap_info *si[MAX_SWAPFILES];
	uint64_t *entry_of;		/* per frame: its entry while PG_SWAPCACHE */
	uint64_t nr_pages;		/* slots of every device (headers excluded): SwapTotal */
	uint64_t nr_inuse;		/* of those, taken */
	uint64_t nr_cached;		/* frames in the swap cache (SwapCached) */
	_Atomic uint64_t pswpin, pswpout;
	uint32_t page_cluster;		/* vm.page-cluster: 2^N pages read around (3) */
	/*
	 * shmem_unuse, which swapoff calls (sys->lock held) to bring back the
	 * pages of device type that shmem objects hold: a hook pagecache.c's
	 * pagecache_shmem_unuse fills in, as the layers go (system.c sets it).
	 */
	int (*shmem_unuse)(struct um_system *sys, uint32_t type);
};

UM_INTERNAL int swap_init(struct um_system *sys);
/* Every device off (no process left), created files removed, memory freed. */
UM_INTERNAL void swap_destroy(struct um_system *sys);
/* Free slots of every device (get_nr_swap_pages), without the lock. */
UM_INTERNAL uint64_t swap_free_pages(struct um_system *sys);
/*
 * add_to_swap for an anonymous frame we hold: a free slot, with the frame
 * in the swap cache (PG_SWAPCACHE, one reference for the cache). False
 * when no slot is free.
 */
UM_INTERNAL bool swap_add(struct um_system *sys, uint32_t pfn);
/* The entry of a frame in the swap cache. */
UM_INTERNAL uint64_t swap_entry_of(struct um_system *sys, uint32_t pfn);
/* swap_duplicate: one more reference (a PTE) to entry. */
UM_INTERNAL void swap_dup(struct um_system *sys, uint64_t entry);
/*
 * free_swap_and_cache: one reference to entry less; the last one frees
 * the slot, and drops the cache's frame when no PTE maps it.
 */
UM_INTERNAL void swap_put(struct um_system *sys, uint64_t entry);
/* Is entry's data in the swap cache (mincore of a swap PTE)? */
UM_INTERNAL bool swap_incore(struct um_system *sys, uint64_t entry);
/* The references to entry (swap_swapcount). */
UM_INTERNAL uint32_t swap_count(struct um_system *sys, uint64_t entry);
/*
 * folio_free_swap: a frame in the swap cache that no swap entry refers to
 * any more leaves the cache (and its slot is freed). True when it left.
 */
UM_INTERNAL bool swap_try_free(struct um_system *sys, uint32_t pfn);
/*
 * __remove_mapping for a swap cache page reclaim holds: out of the cache
 * when nobody else holds it (unmapped, no other reference) and it is clean;
 * the cache's reference is dropped, the caller's left. False otherwise.
 */
UM_INTERNAL bool swap_cache_reclaim(struct um_system *sys, uint32_t pfn);
/*
 * shmem_swapin_folio's hand-over: the swap cache frame pfn of entry,
 * which the caller holds and reclaim does not (on its list), leaves the
 * swap cache for owner's page cache at index (not anonymous any more,
 * dirty), the swap cache's reference dropped and the slot's one reference
 * (the shmem slot's) with it. False when reclaim holds it or it moved.
 */
UM_INTERNAL bool swap_cache_take(struct um_system *sys, uint32_t pfn, uint64_t entry, void *owner,
				 uint64_t index);
/* Writes the cached frame pfn to its slot (swap_writepage): 0 or -errno. */
UM_INTERNAL int swap_writepage(struct um_system *sys, uint32_t pfn);
/*
 * The frame holding entry, with a reference for the caller, or FRAME_NONE
 * with *err set: from the swap cache, else read from the swap file with
 * the page-cluster pages around it that are in use (swap_cluster_readahead),
 * into the cache and onto the inactive anon list; *major tells which.
 */
UM_INTERNAL uint32_t swapin(struct um_system *sys, uint64_t entry, bool *major, int *err);
/*
 * The recount um_check makes of every slot's references: noted per swap
 * PTE and shmem cache slot found, then compared with swap_map.
 */
struct swap_recount {
	uint32_t *count[MAX_SWAPFILES];
};

UM_INTERNAL int swap_recount_init(struct um_system *sys, struct swap_recount *rc);
/* One reference to entry found; false when entry names no slot in use. */
UM_INTERNAL bool swap_recount_note(struct um_system *sys, struct swap_recount *rc, uint64_t entry);
/*
 * Invariants of swap: each slot's count equals the references found, its
 * cache bit says whether the cache holds a frame, which has PG_SWAPCACHE
 * and this entry; the counters equal a recount. Frees rc.
 */
UM_INTERNAL int swap_recount_check(struct um_system *sys, struct swap_recount *rc, char *why,
				   size_t n);
/* Calls fn for every frame the swap cache holds (one reference each). */
UM_INTERNAL void swap_cache_for_each(struct um_system *sys, void (*fn)(uint32_t pfn, void *arg),
				     void *arg);

#endif /* UM_SWAP_H */
