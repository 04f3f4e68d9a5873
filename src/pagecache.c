/*
 * pagecache.c: the page cache of an inode (address_space).
 *
 * The cache of an inode maps a page index to a frame through a radix tree
 * of 64-way nodes (an xarray without its tags, yet). An interior slot holds
 * a child node pointer; a leaf slot holds pfn + 1 (0 is empty).
 *
 * Invariants (pagecache_check):
 *   1. Each cached frame holds one reference for the cache, has owner ==
 *      inode and index == its slot's index.
 *   2. nr_pages counts the leaf slots in use.
 *   3. A page read ahead in a folio of order k (frame flags, PG_ORDER_*)
 *      sits in an aligned run of at most 2^k cached pages (truncation may
 *      have cut it) that all carry k, and PG_READAHEAD on all or none.
 * inode->lock guards the tree and the read-ahead state of the inode's open
 * files (struct file_ra_state); frames are reference-counted atomically.
 *
 * Read-ahead follows Linux 6.18's mm/readahead.c (page_cache_sync_ra,
 * page_cache_async_ra, page_cache_ra_order) and filemap.c's callers
 * (filemap_get_pages, do_sync_mmap_readahead, do_async_mmap_readahead).
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>

#include "fault.h"
#include "frame.h"
#include "fs.h"
#include "host.h"
#include "lru.h"
#include "mm.h"
#include "oom.h"
#include "pagecache.h"
#include "swap.h"
#include "system.h"
#include "vma.h"
#include "vmscan.h"

#define PC_BITS 6
#define PC_SLOTS (1u << PC_BITS)

struct pc_node {
	uint64_t slot[PC_SLOTS];
};

/*
 * A leaf slot holds a frame (its number + 1) or, in a shmem object, the
 * swap entry its page went to (PC_SWAP set: Linux's xa_value swap entry).
 */
#define PC_SWAP (1ULL << 63)

static inline bool slot_is_frame(uint64_t s)
{
	return s && !(s & PC_SWAP);
}

/* The leaf slot for index; NULL when absent and create is false or on ENOMEM. */
static uint64_t *slot_of(struct um_system *sys, struct inode *ino, uint64_t index, bool create)
{
	struct pc_node *node;
	uint32_t h;

	if (!ino->cache) {
		if (!create)
			return NULL;
		ino->cache = um_calloc(sys, 1, sizeof(struct pc_node));
		if (!ino->cache)
			return NULL;
		ino->cache_height = 1;
	}
	while (ino->cache_height * PC_BITS < 64 && (index >> (ino->cache_height * PC_BITS))) {
		struct pc_node *top;

		if (!create)
			return NULL;
		top = um_calloc(sys, 1, sizeof(*top));
		if (!top)
			return NULL;
		top->slot[0] = (uint64_t)(uintptr_t)ino->cache;
		ino->cache = top;
		ino->cache_height++;
	}
	node = ino->cache;
	for (h = ino->cache_height; h > 1; h--) {
		uint64_t *s = &node->slot[(index >> ((h - 1) * PC_BITS)) & (PC_SLOTS - 1)];

		if (!*s) {
			struct pc_node *child;

			if (!create)
				return NULL;
			child = um_calloc(sys, 1, sizeof(*child));
			if (!child)
				return NULL;
			*s = (uint64_t)(uintptr_t)child;
		}
		node = (struct pc_node *)(uintptr_t)*s;
	}
	return &node->slot[index & (PC_SLOTS - 1)];
}

uint32_t pagecache_lookup_locked(struct inode *ino, uint64_t index)
{
	uint64_t *s = slot_of(NULL, ino, index, false);

	return s && slot_is_frame(*s) ? (uint32_t)(*s - 1) : FRAME_NONE;
}

void pagecache_zero_eof(struct um_system *sys, struct inode *ino, uint64_t old_size,
			uint64_t new_size)
{
	uint64_t page_end = page_align_down(&sys->geom, old_size) + sys->geom.size;
	uint32_t pfn;

	if (page_aligned(&sys->geom, old_size) || new_size <= old_size)
		return;
	pfn = pagecache_lookup_locked(ino, pg_count(&sys->geom, old_size));
	if (pfn != FRAME_NONE)
		memset(pfn_host(&sys->fp, pfn) + offset_in_page(&sys->geom, old_size), 0,
		       (new_size < page_end ? new_size : page_end) - old_size);
	else
		pagecache_add_eof_block(sys, ino, pg_count(&sys->geom, old_size));
}


uint32_t pagecache_lookup(struct inode *ino, uint64_t index)
{
	uint64_t *s;
	uint32_t pfn;

	pthread_mutex_lock(&ino->lock);
	s = slot_of(NULL, ino, index, false);
	pfn = s && slot_is_frame(*s) ? (uint32_t)(*s - 1) : FRAME_NONE;
	pthread_mutex_unlock(&ino->lock);
	return pfn;
}

/* Puts a fresh frame for (ino, index) into slot s; the cache holds its one reference. */
static void cache_insert(struct um_system *sys, struct inode *ino, uint64_t *s, uint64_t index,
			 uint32_t pfn)
{
	struct frame *f = pfn_frame(&sys->fp, pfn);

	f->owner = ino;
	f->index = (uint32_t)index;
	atomic_store_explicit(&f->flags, PG_UPTODATE | (ino->shmem ? PG_SWAPBACKED : 0),
			      memory_order_relaxed);
	*s = (uint64_t)pfn + 1;
	ino->nr_pages++;
	if (ino->type == INODE_REG || ino->shmem)
		lru_add(&sys->lru, &sys->fp, pfn);
}

int pagecache_insert_huge(struct um_system *sys, struct inode *ino, uint64_t index, uint32_t pfn,
			  uint64_t n)
{
	uint64_t k, *s;

	pthread_mutex_lock(&ino->lock);
	/* Every slot first, so that a failure leaves the cache as it was. */
	for (k = 0; k < n; k++)
		if (!slot_of(sys, ino, index + k, true)) {
			pthread_mutex_unlock(&ino->lock);
			return -ENOMEM;
		}
	for (k = 0; k < n; k++) {
		struct frame *f = pfn_frame(&sys->fp, pfn + (uint32_t)k);

		s = slot_of(sys, ino, index + k, false);
		f->owner = ino;
		f->index = (uint32_t)(index + k);
		*s = (uint64_t)pfn + k + 1;
	}
	ino->nr_pages += n;
	pthread_mutex_unlock(&ino->lock);
	return 0;
}

void pagecache_add_eof_block(struct um_system *sys, struct inode *ino, uint64_t index)
{
	uint64_t *s;
	uint32_t pfn;

	if (ino->type != INODE_REG)
		return;
	s = slot_of(sys, ino, index, true);
	if (!s || *s)
		return;
	pfn = frame_alloc(&sys->fp, true);
	if (pfn == FRAME_NONE)
		return; /* nothing to see: the page would only have been in the way */
	cache_insert(sys, ino, s, index, pfn);
	atomic_fetch_and_explicit(&pfn_frame(&sys->fp, pfn)->flags, ~(uint32_t)PG_UPTODATE,
				  memory_order_relaxed);
}

#define READ_CHUNK 32 /* pages per host preadv */
#define MAX_PAGECACHE_ORDER 9 /* a PMD's worth of 4 KiB pages, as on x86-64 */
#define MMAP_LOTSAMISS 100

/*
 * Reads the run [index, index + n) of missing pages (n <= READ_CHUNK, all
 * below EOF, or one page past it, which reads as zero) from the host file
 * into new frames with one preadv; each page gets the flags extra (a
 * folio's order, PG_READAHEAD). The bytes past EOF in the last page are
 * zero. inode->lock is held.
 */
static int read_run(struct um_system *sys, struct inode *ino, uint64_t index, uint64_t n,
		    uint32_t extra, bool needed)
{
	uint64_t size = inode_size(ino), ps = sys->geom.size, i;
	uint32_t pfns[READ_CHUNK];
	struct iovec iov[READ_CHUNK];
	int64_t got;

	if (n == 0 || n > READ_CHUNK)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		/*
		 * Read-ahead is a hint (__GFP_NORETRY): it takes no frame below
		 * the min watermark, which direct reclaim keeps for the page
		 * a fault or a read needs (needed).
		 */
		pfns[i] = !needed && vmscan_wanted(sys) ? FRAME_NONE : frame_alloc(&sys->fp, false);
		if (pfns[i] == FRAME_NONE) {
			if (i == 0)
				return -ENOMEM;
			n = i; /* read what there are frames for */
			break;
		}
		iov[i].iov_base = pfn_host(&sys->fp, pfns[i]);
		iov[i].iov_len = ps;
	}
	got = pg_bytes(&sys->geom, index) < size
		  ? host_preadv(sys, ino->host_fd, iov, (int)n, pg_bytes(&sys->geom, index))
		  : 0;
	if (got < 0) {
		for (i = 0; i < n; i++)
			frame_put(&sys->fp, pfns[i]);
		return (int)got;
	}
	for (i = 0; i < n; i++) {
		uint64_t have = (uint64_t)got > i * ps ? (uint64_t)got - i * ps : 0;
		uint64_t *s;

		if (have < ps)
			memset((char *)iov[i].iov_base + have, 0, ps - have);
		s = slot_of(sys, ino, index + i, true);
		if (!s || *s) {
			frame_put(&sys->fp, pfns[i]);
			if (i == 0) {
				/* The page itself cannot be cached: the read-ahead frames go back too. */
				while (++i < n)
					frame_put(&sys->fp, pfns[i]);
				return -ENOMEM;
			}
			continue;
		}
		cache_insert(sys, ino, s, index + i, pfns[i]);
		atomic_fetch_or_explicit(&pfn_frame(&sys->fp, pfns[i])->flags, extra,
					 memory_order_relaxed);
	}
	return 0;
}

static uint32_t frame_flags(struct um_system *sys, uint32_t pfn)
{
	return atomic_load_explicit(&pfn_frame(&sys->fp, pfn)->flags, memory_order_relaxed);
}

static bool cached(struct inode *ino, uint64_t index)
{
	uint64_t *s = slot_of(NULL, ino, index, false);

	return s && *s;
}

static uint64_t eof_pages(struct um_system *sys, struct inode *ino)
{
	return pg_count_up(&sys->geom, inode_size(ino));
}

/* Reads the folio [index, index + 2^order) with the flags extra, chunk by chunk. */
static int read_folio_range(struct um_system *sys, struct inode *ino, uint64_t index,
			    uint64_t n, uint32_t extra)
{
	for (uint64_t done = 0; done < n; done += READ_CHUNK) {
		int err = read_run(sys, ino, index + done, n - done < READ_CHUNK ? n - done : READ_CHUNK,
				   extra, false);

		if (err)
			return err;
	}
	return 0;
}

/*
 * page_cache_ra_unbounded: reads the missing pages of [index, index + nr)
 * one page per folio; the page mark gets PG_READAHEAD. Read errors are
 * ignored: the caller reads the page it needs again.
 */
static void ra_unbounded(struct um_system *sys, struct inode *ino, uint64_t index, uint64_t nr,
			 uint64_t mark)
{
	for (uint64_t i = index; i < index + nr;) {
		uint64_t j;

		if (cached(ino, i)) {
			i++;
			continue;
		}
		/* A run of missing pages, cut before and after the mark. */
		for (j = i + 1; j < index + nr && j - i < READ_CHUNK && !cached(ino, j) && j != mark;
		     j++)
			;
		if (i == mark)
			j = i + 1;
		if (read_run(sys, ino, i, j - i, i == mark ? PG_READAHEAD : 0, false))
			return;
		i = j;
	}
}

/* do_page_cache_ra: ra_unbounded clamped to the end of the file. */
static void do_page_cache_ra(struct um_system *sys, struct inode *ino, uint64_t index, uint64_t nr,
			     uint64_t lookahead)
{
	uint64_t eof = eof_pages(sys, ino);

	if (index >= eof)
		return;
	if (nr > eof - index)
		nr = eof - index;
	ra_unbounded(sys, ino, index, nr, lookahead ? index + nr - lookahead : UINT64_MAX);
}

static unsigned ilog2_u64(uint64_t v)
{
	unsigned r = 0;

	while (v >>= 1)
		r++;
	return r;
}

static uint64_t lowbit_order(uint64_t v)
{
	unsigned r = 0;

	while (!(v & 1)) {
		v >>= 1;
		r++;
	}
	return r;
}

/*
 * page_cache_ra_order: reads the window of ra in folios of up to
 * 2^ra->order pages (ext4 has large folios), each aligned on its size,
 * smaller where the start is not aligned or where EOF comes first; the
 * folio holding start + size - async_size gets PG_READAHEAD. Linux 6.18
 * ends a window of large folios on a boundary of that order (the window
 * shrinks to it, as the kernel back end shows). A page already cached in
 * the way ends the large folios: the rest is read page by page.
 */
static void ra_submit(struct um_system *sys, struct inode *ino, struct file_ra_state *ra)
{
	uint64_t start = ra->start, index = start, eof = eof_pages(sys, ino), limit, mark, end;
	unsigned new_order;

	if (!eof || start >= eof)
		return;
	if (ra->size < 4) {
		do_page_cache_ra(sys, ino, start, ra->size, ra->async_size);
		return;
	}
	mark = start + ra->size - ra->async_size;
	new_order = ra->order < MAX_PAGECACHE_ORDER ? ra->order : MAX_PAGECACHE_ORDER;
	if (new_order > ilog2_u64(ra->size))
		new_order = ilog2_u64(ra->size);
	ra->order = new_order;
	end = (start + ra->size) & ~((1ULL << new_order) - 1);
	if (end > start && end < start + ra->size) {
		ra->size = end - start;
		if (ra->async_size > ra->size)
			ra->async_size = ra->size;
	}
	limit = start + ra->size - 1;
	if (limit > eof - 1)
		limit = eof - 1;
	while (index <= limit) {
		unsigned order = new_order;
		uint64_t n, i;

		if (index & ((1ULL << order) - 1))
			order = (unsigned)lowbit_order(index);
		while (order > 0 && index + (1ULL << order) - 1 > limit)
			order--;
		n = 1ULL << order;
		for (i = 0; i < n && !cached(ino, index + i); i++)
			;
		if (i < n)
			break;
		if (read_folio_range(sys, ino, index, n,
				     ((uint32_t)order << PG_ORDER_SHIFT) |
					     (index == (mark & ~(n - 1)) ? PG_READAHEAD : 0)))
			return;
		index += n;
	}
	if (index <= limit && ra->size > index - start)
		do_page_cache_ra(sys, ino, index, ra->size - (index - start), ra->async_size);
}

static uint64_t get_init_ra_size(uint64_t size, uint64_t max)
{
	uint64_t n = 1;

	while (n < size)
		n <<= 1;
	if (n <= max / 32)
		return n * 4;
	if (n <= max / 4)
		return n * 2;
	return max;
}

static uint64_t get_next_ra_size(const struct file_ra_state *ra, uint64_t max)
{
	if (ra->size < max / 16)
		return 4 * ra->size;
	if (ra->size <= max / 2)
		return 2 * ra->size;
	return max;
}

/*
 * page_cache_sync_ra: a miss at index by a request of req pages. The start
 * of the file, a request larger than the window, or one right after the
 * last read starts a new window; otherwise the cache is asked how many
 * pages before index a stream would have left, and a small random read
 * reads just what it asks for.
 */
static void sync_ra(struct um_system *sys, struct inode *ino, struct file_ra_state *ra,
		    uint64_t index, uint64_t req)
{
	uint64_t max = ra->ra_pages, prev = pg_count(&sys->geom, ra->prev_pos), miss, contig;

	if (!max) {
		do_page_cache_ra(sys, ino, index, 1, 0);
		return;
	}
	if (!index || req > max || index - prev <= 1) {
		ra->start = index;
		ra->size = get_init_ra_size(req, max);
		ra->async_size = ra->size > req ? ra->size - req : ra->size >> 1;
	} else {
		for (miss = index - 1; miss + max >= index && cached(ino, miss); miss--)
			if (!miss) {
				miss = UINT64_MAX; /* cached from the start of the file */
				break;
			}
		contig = index - miss - 1;
		if (contig <= req) {
			do_page_cache_ra(sys, ino, index, req, 0);
			return;
		}
		if (miss == UINT64_MAX)
			contig *= 2;
		ra->start = index;
		ra->size = contig + req < max ? contig + req : max;
		ra->async_size = 1;
	}
	ra->order = 0;
	ra_submit(sys, ino, ra);
}

/*
 * page_cache_async_ra: a hit at index on the folio [head, head + 2^order)
 * carrying PG_READAHEAD. The marker goes; when it is where the window
 * expects it the next window follows this one, twice or four times as
 * large and in larger folios.
 */
static void async_ra(struct um_system *sys, struct inode *ino, struct file_ra_state *ra,
		     uint64_t index, uint64_t head, unsigned order, uint64_t req)
{
	uint64_t max = ra->ra_pages, n = 1ULL << order, expected, start;

	if (!max)
		return;
	for (uint64_t i = head; i < head + n; i++) {
		uint32_t pfn = pagecache_lookup_locked(ino, i);

		if (pfn != FRAME_NONE)
			atomic_fetch_and_explicit(&pfn_frame(&sys->fp, pfn)->flags,
						  ~(uint32_t)PG_READAHEAD, memory_order_relaxed);
	}
	expected = (ra->start + ra->size - ra->async_size) & ~(n - 1);
	if (index == expected) {
		ra->start += ra->size;
		ra->size = get_next_ra_size(ra, max);
		ra->async_size = ra->size;
	} else {
		/* A marker without its window (another reader's): size one from the cache. */
		for (start = index + 1; start <= index + max && cached(ino, start); start++)
			;
		if (start - index > max)
			return;
		ra->start = start;
		ra->size = start - index + req;
		ra->size = get_next_ra_size(ra, max);
		ra->async_size = ra->size;
	}
	ra->order += 2;
	ra_submit(sys, ino, ra);
}

bool pagecache_readahead_marked(struct um_system *sys, uint32_t pfn)
{
	return frame_flags(sys, pfn) & PG_READAHEAD;
}

bool pagecache_mappable(struct um_system *sys, uint32_t pfn)
{
	return (frame_flags(sys, pfn) & (PG_UPTODATE | PG_READAHEAD)) == PG_UPTODATE;
}

void pagecache_willneed(struct um_system *sys, struct inode *ino, uint64_t index, uint64_t nr)
{
	pthread_mutex_lock(&ino->lock);
	do_page_cache_ra(sys, ino, index, nr, 0);
	pthread_mutex_unlock(&ino->lock);
}

void file_ra_state_init(struct file_ra_state *ra, const struct inode *ino)
{
	memset(ra, 0, sizeof(*ra));
	ra->ra_pages = ino->ra_pages;
	ra->prev_pos = -1;
}

/* Reads a cached page that is not uptodate (an EOF block ext4 zeroed) from the file. */
static int read_stale(struct um_system *sys, struct inode *ino, uint32_t pfn, uint64_t index)
{
	uint64_t ps = sys->geom.size, size = inode_size(ino), off = pg_bytes(&sys->geom, index);
	unsigned char *p = pfn_host(&sys->fp, pfn);
	int64_t got = 0;

	if (off < size)
		got = host_pread(sys, ino->host_fd, p, ps, off);
	if (got < 0)
		return (int)got;
	memset(p + got, 0, ps - (uint64_t)got);
	atomic_fetch_or_explicit(&pfn_frame(&sys->fp, pfn)->flags, PG_UPTODATE,
				 memory_order_relaxed);
	return 0;
}

/* Reads index alone when read-ahead left it out (or failed on it), or brings it up to date. */
static int read_missing(struct um_system *sys, struct inode *ino, uint64_t index)
{
	uint32_t pfn = pagecache_lookup_locked(ino, index);

	if (pfn == FRAME_NONE)
		return read_run(sys, ino, index, 1, 0, true);
	if (!(frame_flags(sys, pfn) & PG_UPTODATE))
		return read_stale(sys, ino, pfn, index);
	return 0;
}

/* The cached frame at index with a reference for the caller; inode->lock held. */
static uint32_t cache_ref(struct um_system *sys, struct inode *ino, uint64_t index)
{
	uint32_t pfn = pagecache_lookup_locked(ino, index);

	atomic_fetch_add_explicit(&pfn_frame(&sys->fp, pfn)->refcount, 1, memory_order_relaxed);
	return pfn;
}

/*
 * do_sync_mmap_readahead: which window a fault miss reads. MADV_HUGEPAGE
 * reads two PMD-sized folios (one after MADV_RANDOM) whatever the rest
 * says; MADV_RANDOM nothing more; MADV_SEQUENTIAL a read(2)-like window;
 * an executable mapping from the page to the end of the VMA's part of the
 * window (no read-behind); any other the window centred on the page.
 */
static void sync_mmap_ra(struct um_system *sys, struct inode *ino, struct file_ra_state *ra,
			 uint64_t vm_flags, uint64_t index, uint64_t vm_pgoff, uint64_t vm_pgend)
{
	uint64_t pmd = 1ULL << MAX_PAGECACHE_ORDER;

	if (vm_flags & VM_HUGEPAGE) {
		ra->start = index & ~(pmd - 1);
		ra->size = (vm_flags & VM_RAND_READ) ? pmd : 2 * pmd;
		ra->async_size = pmd;
		ra->order = MAX_PAGECACHE_ORDER;
		ra_submit(sys, ino, ra);
		return;
	}
	if ((vm_flags & VM_RAND_READ) || !ra->ra_pages)
		return;
	if (vm_flags & VM_SEQ_READ) {
		sync_ra(sys, ino, ra, index, ra->ra_pages);
		return;
	}
	if (ra->mmap_miss < MMAP_LOTSAMISS * 10)
		ra->mmap_miss++;
	if (ra->mmap_miss > MMAP_LOTSAMISS)
		return;
	if (vm_flags & VM_EXEC) {
		uint64_t end = index + ra->ra_pages;

		ra->start = index > vm_pgoff ? index : vm_pgoff;
		if (end > vm_pgend)
			end = vm_pgend;
		ra->size = end - ra->start;
		ra->async_size = 0;
	} else {
		ra->start = index > ra->ra_pages / 2 ? index - ra->ra_pages / 2 : 0;
		ra->size = ra->ra_pages;
		ra->async_size = ra->ra_pages / 4;
	}
	ra->order = 0;
	ra_submit(sys, ino, ra);
}

uint32_t pagecache_fault(struct vm_fault *vmf, int *err)
{
	const struct vma *v = vmf->vma;
	struct um_system *sys = vmf->mm->sys;
	struct inode *ino = v->vm_inode;
	struct file_ra_state *ra = &v->vm_file->f_ra;
	uint64_t vm_flags = v->vm_flags, index = vmf->pgoff;
	uint64_t vm_pgend = v->vm_pgoff + pg_count(&sys->geom, v->vm_end - v->vm_start);
	bool *major = &vmf->major, tried = vmf->tried;
	uint32_t pfn;

	*major = false;
	pthread_mutex_lock(&ino->lock);
	pfn = pagecache_lookup_locked(ino, index);
	if (pfn != FRAME_NONE) {
		/* do_async_mmap_readahead, before the retry's second look. */
		if (!tried && !(vm_flags & VM_RAND_READ) && ra->ra_pages) {
			uint32_t fl = frame_flags(sys, pfn);

			if (ra->mmap_miss)
				ra->mmap_miss--;
			if (fl & PG_READAHEAD) {
				unsigned order = pg_order(fl);

				async_ra(sys, ino, ra, index, index & ~((1ULL << order) - 1), order,
					 ra->ra_pages);
			}
		}
		/* Found but not uptodate: read it alone, a minor fault still. */
		*err = read_missing(sys, ino, index);
		if (*err) {
			pthread_mutex_unlock(&ino->lock);
			return FRAME_NONE;
		}
	} else {
		*major = true;
		sync_mmap_ra(sys, ino, ra, vm_flags, index, v->vm_pgoff, vm_pgend);
		*err = read_missing(sys, ino, index);
		if (*err) {
			pthread_mutex_unlock(&ino->lock);
			return FRAME_NONE;
		}
	}
	pfn = cache_ref(sys, ino, index);
	pthread_mutex_unlock(&ino->lock);
	return pfn;
}

/*
 * filemap_get_pages: the pages from index on that one pass of read(2)
 * copies, ending at last (exclusive, in pages), at the first hole, or
 * after a folio carrying PG_READAHEAD, which starts the next window.
 * Returns how many, at least 1, or a negative errno.
 */
static int64_t read_batch(struct um_system *sys, struct inode *ino, struct file_ra_state *ra,
			  uint64_t index, uint64_t last)
{
	uint64_t i;
	uint32_t fl = 0;
	int err;

	if (!cached(ino, index)) {
		sync_ra(sys, ino, ra, index, last - index);
		err = read_missing(sys, ino, index);
		if (err)
			return err;
	}
	for (i = index; i < last; i++) {
		uint32_t pfn = pagecache_lookup_locked(ino, i);

		if (pfn == FRAME_NONE)
			break;
		fl = frame_flags(sys, pfn);
		if (!(fl & PG_UPTODATE)) {
			/* filemap_update_page: read it, and the batch ends with it. */
			err = read_stale(sys, ino, pfn, i);
			if (err && i == index)
				return err;
			if (!err)
				i++;
			break;
		}
		if (fl & PG_READAHEAD) {
			uint64_t head = i & ~((1ULL << pg_order(fl)) - 1);

			async_ra(sys, ino, ra, head, head, pg_order(fl), last - head);
			i = head + (1ULL << pg_order(fl));
			break;
		}
	}
	return (int64_t)(i - index);
}

/*
 * filemap_read: batch by batch (read_batch, which reads ahead), each
 * batch's bytes handed to copy before the next batch is looked up, so a
 * copy that faults stops the read where Linux stops it. ra->prev_pos
 * moves only at the end, to where the last copy got (last_pos: where the
 * read started when the first copy took nothing). The inode lock
 * is dropped around copy, which may fault (on this very file too); the
 * frame is held by a reference meanwhile.
 */
int64_t pagecache_read(struct um_system *sys, struct file *f, uint64_t pos, uint64_t count,
		       read_actor_t copy, void *arg)
{
	struct inode *ino = f->inode;
	struct file_ra_state *ra = &f->f_ra;
	uint64_t done = 0, ps = sys->geom.size, last = pg_count_up(&sys->geom, pos + count);
	int64_t last_pos = ra->prev_pos, err = 0;
	int passes = 0;

	if (!count)
		return 0;
	pthread_mutex_lock(&ino->lock);
	while (done < count && pos + done < inode_size(ino)) {
		uint64_t index = pg_count(&sys->geom, pos + done), end;
		int64_t n;

		if (vmscan_pending(sys)) {
			/* Reclaim takes inode locks: it runs with none held. */
			pthread_mutex_unlock(&ino->lock);
			vmscan_prepare_alloc(sys);
			pthread_mutex_lock(&ino->lock);
		}
		n = read_batch(sys, ino, ra, index, last);

		if (n == -ENOMEM) {
			/* No frame: reclaim, then the OOM killer, as a fault would. */
			pthread_mutex_unlock(&ino->lock);
			bool again = alloc_retry(sys, NULL, &passes);
			pthread_mutex_lock(&ino->lock);
			if (again)
				continue;
		}
		if (n < 0) {
			err = n;
			break;
		}
		passes = 0;
		/* The size is read once per batch, after its pages were found. */
		end = inode_size(ino) < pos + count ? inode_size(ino) : pos + count;
		for (uint64_t i = index; i < index + (uint64_t)n && pos + done < end; i++) {
			uint64_t at = pos + done, off = offset_in_page(&sys->geom, at),
				 len = ps - off, got;
			uint32_t pfn = pagecache_lookup_locked(ino, i);

			if (pfn == FRAME_NONE)
				break; /* truncated meanwhile: look it up again */
			if (len > end - at)
				len = end - at;
			atomic_fetch_add_explicit(&pfn_frame(&sys->fp, pfn)->refcount, 1,
						  memory_order_relaxed);
			pthread_mutex_unlock(&ino->lock);
			mark_page_accessed(&sys->lru, &sys->fp, pfn);
			got = copy(arg, done, pfn_host(&sys->fp, pfn) + off, len);
			frame_put(&sys->fp, pfn);
			pthread_mutex_lock(&ino->lock);
			done += got;
			last_pos = (int64_t)(pos + done);
			if (got < len) {
				err = -EFAULT;
				goto out;
			}
		}
	}
out:
	ra->prev_pos = last_pos;
	pthread_mutex_unlock(&ino->lock);
	return done ? (int64_t)done : err;
}

/*
 * shmem_swapin_folio: the page whose swap entry slot s holds is read back
 * (or found in the swap cache), leaves the swap cache for the page cache,
 * dirty (its swap copy goes), and the entry's slot is freed. ino->lock held.
 */
static int shmem_swapin(struct um_system *sys, struct inode *ino, uint64_t *s, uint64_t index,
			bool *major)
{
	uint64_t entry = *s & ~PC_SWAP;
	uint32_t pfn;
	int err;

	for (;;) {
		pfn = swapin(sys, entry, major, &err);
		if (pfn == FRAME_NONE)
			return err == -ENOMEM ? -ENOMEM : -EIO;
		/* Our reference becomes the page cache's; the swap cache's goes with it. */
		if (swap_cache_take(sys, pfn, entry, ino, index))
			break;
		/* Reclaim holds it isolated: once it lets go, look again. */
		frame_put(&sys->fp, pfn);
		sched_yield();
	}
	*s = (uint64_t)pfn + 1;
	ino->nr_pages++;
	return 0;
}

bool shmem_swapout_locked(struct um_system *sys, struct inode *ino, uint64_t index, uint32_t pfn)
{
	uint64_t *s = slot_of(NULL, ino, index, false);
	struct frame *f = pfn_frame(&sys->fp, pfn);
	uint64_t entry;

	if (!s || *s != (uint64_t)pfn + 1 || !swap_add(sys, pfn))
		return false;
	entry = swap_entry_of(sys, pfn);
	swap_dup(sys, entry);
	*s = PC_SWAP | entry;
	ino->nr_pages--;
	/* A swap cache page now, like an anonymous one nobody maps. */
	atomic_fetch_or(&f->flags, PG_ANON);
	f->owner = NULL;
	atomic_fetch_sub(&f->refcount, 1); /* the page cache's: never the last */
	return true;
}

uint32_t pagecache_get(struct um_system *sys, struct inode *ino, uint64_t index, bool *major,
		       int *err)
{
	uint64_t *s;
	uint32_t pfn;

	*major = false;
	pthread_mutex_lock(&ino->lock);
	s = slot_of(sys, ino, index, true);
	if (!s) {
		pthread_mutex_unlock(&ino->lock);
		*err = -ENOMEM;
		return FRAME_NONE;
	}
	if (!*s) {
		if (ino->type == INODE_REG) {
			*err = read_run(sys, ino, index, 1, 0, true);
			if (*err) {
				pthread_mutex_unlock(&ino->lock);
				return FRAME_NONE;
			}
			*major = true;
			s = slot_of(sys, ino, index, false);
		} else {
			/* shmem: a new page of shared memory is zero */
			pfn = frame_alloc(&sys->fp, true);
			if (pfn == FRAME_NONE) {
				pthread_mutex_unlock(&ino->lock);
				*err = -ENOMEM;
				return FRAME_NONE;
			}
			cache_insert(sys, ino, s, index, pfn);
		}
	} else if (*s & PC_SWAP) {
		*err = shmem_swapin(sys, ino, s, index, major);
		if (*err) {
			pthread_mutex_unlock(&ino->lock);
			return FRAME_NONE;
		}
	}
	pfn = (uint32_t)(*s - 1);
	if (!(frame_flags(sys, pfn) & PG_UPTODATE)) {
		*err = read_stale(sys, ino, pfn, index);
		if (*err) {
			pthread_mutex_unlock(&ino->lock);
			return FRAME_NONE;
		}
	}
	atomic_fetch_add_explicit(&pfn_frame(&sys->fp, pfn)->refcount, 1, memory_order_relaxed);
	pthread_mutex_unlock(&ino->lock);
	return pfn;
}

/* Drops the cache's frames at index in [start, end] below node; returns whether node is now empty. */
static bool truncate_node(struct um_system *sys, struct inode *ino, struct pc_node *node,
			  uint32_t height, uint64_t base, uint64_t start, uint64_t end)
{
	bool empty = true;

	for (uint32_t i = 0; i < PC_SLOTS; i++) {
		uint64_t s = node->slot[i];
		uint64_t first = ((base << PC_BITS) | i) << ((height - 1) * PC_BITS);
		uint64_t span = 1ULL << ((height - 1) * PC_BITS);

		if (!s)
			continue;
		if (first + span <= start || first > end) {
			empty = false;
			continue;
		}
		if (height > 1) {
			struct pc_node *child = (struct pc_node *)(uintptr_t)s;

			if (truncate_node(sys, ino, child, height - 1, (base << PC_BITS) | i, start,
					  end)) {
				um_free(sys, child);
				node->slot[i] = 0;
			} else {
				empty = false;
			}
			continue;
		}
		if (s & PC_SWAP) {
			/* shmem_free_swap: the page on swap goes with its slot. */
			swap_put(sys, s & ~PC_SWAP);
			node->slot[i] = 0;
		} else {
			struct frame *f = pfn_frame(&sys->fp, (uint32_t)(s - 1));

			page_cancel_dirty(sys, ino, (uint32_t)(s - 1));
			f->owner = NULL;
			lru_del(&sys->lru, &sys->fp, (uint32_t)(s - 1));
			frame_put(&sys->fp, (uint32_t)(s - 1));
			node->slot[i] = 0;
			ino->nr_pages--;
		}
	}
	return empty;
}

void pagecache_truncate(struct um_system *sys, struct inode *ino, uint64_t start)
{
	pagecache_remove_range(sys, ino, start, UINT64_MAX);
}

void pagecache_remove_range(struct um_system *sys, struct inode *ino, uint64_t start, uint64_t end)
{
	pthread_mutex_lock(&ino->lock);
	if (ino->cache && truncate_node(sys, ino, ino->cache, ino->cache_height, 0, start, end)) {
		um_free(sys, ino->cache);
		ino->cache = NULL;
		ino->cache_height = 0;
	}
	pthread_mutex_unlock(&ino->lock);
}

static void range_node(struct pc_node *node, uint32_t height, uint64_t base, uint64_t start,
		       uint64_t end, void (*fn)(uint64_t, uint32_t, void *), void *arg)
{
	for (uint32_t i = 0; i < PC_SLOTS; i++) {
		uint64_t s = node->slot[i];
		uint64_t first = ((base << PC_BITS) | i) << ((height - 1) * PC_BITS);
		uint64_t span = 1ULL << ((height - 1) * PC_BITS);

		if (!s || first + span <= start || first > end || (height == 1 && (s & PC_SWAP)))
			continue;
		if (height > 1)
			range_node((struct pc_node *)(uintptr_t)s, height - 1, (base << PC_BITS) | i,
				   start, end, fn, arg);
		else
			fn(first, (uint32_t)(s - 1), arg);
	}
}

void pagecache_for_range(struct inode *ino, uint64_t start, uint64_t end,
			 void (*fn)(uint64_t index, uint32_t pfn, void *arg), void *arg)
{
	if (ino->cache)
		range_node(ino->cache, ino->cache_height, 0, start, end, fn, arg);
}

/* Frees the whole tree, dropping the cache's references (the inode is dying). */
static void node_free(struct um_system *sys, struct inode *ino, struct pc_node *node,
		      uint32_t height)
{
	for (uint32_t i = 0; i < PC_SLOTS; i++) {
		uint64_t s = node->slot[i];

		if (!s)
			continue;
		if (height > 1) {
			node_free(sys, ino, (struct pc_node *)(uintptr_t)s, height - 1);
		} else if (s & PC_SWAP) {
			swap_put(sys, s & ~PC_SWAP);
		} else {
			struct frame *f = pfn_frame(&sys->fp, (uint32_t)(s - 1));

			/* A page whose write-back failed: lost with its inode (folio_cancel_dirty). */
			page_cancel_dirty(sys, ino, (uint32_t)(s - 1));
			f->owner = NULL;
			lru_del(&sys->lru, &sys->fp, (uint32_t)(s - 1));
			frame_put(&sys->fp, (uint32_t)(s - 1));
		}
	}
	um_free(sys, node);
}

void pagecache_free_all(struct um_system *sys, struct inode *ino)
{
	if (ino->cache)
		node_free(sys, ino, ino->cache, ino->cache_height);
	ino->cache = NULL;
	ino->cache_height = 0;
	ino->nr_pages = 0;
}

static int check_node(struct um_system *sys, struct inode *ino, struct pc_node *node,
		      uint32_t height, uint64_t base, uint64_t *pages, char *why, size_t n)
{
	uint32_t i;

	for (i = 0; i < PC_SLOTS; i++) {
		uint64_t s = node->slot[i];
		uint64_t index = (base << PC_BITS) | i;

		if (!s)
			continue;
		if (height > 1) {
			if (check_node(sys, ino, (struct pc_node *)(uintptr_t)s, height - 1, index,
				       pages, why, n))
				return -EUCLEAN;
			continue;
		}
		if (s & PC_SWAP)
			continue; /* a shmem page on swap: swap_recount_check's */
		if (s - 1 >= sys->fp.nframes) {
			snprintf(why, n, "inode %llu caches a frame out of range",
				 (unsigned long long)ino->ino);
			return -EUCLEAN;
		}
		{
			struct frame *f = pfn_frame(&sys->fp, (uint32_t)(s - 1));

			if (f->owner != ino || f->index != (uint32_t)index ||
			    atomic_load(&f->refcount) < 1 || (atomic_load(&f->flags) & PG_FREE)) {
				snprintf(why, n, "inode %llu page %llu: frame %llu not owned",
					 (unsigned long long)ino->ino, (unsigned long long)index,
					 (unsigned long long)(s - 1));
				return -EUCLEAN;
			}
		}
		(*pages)++;
	}
	return 0;
}

int pagecache_check(struct um_system *sys, struct inode *ino, char *why, size_t n)
{
	uint64_t pages = 0;
	int err = 0;

	pthread_mutex_lock(&ino->lock);
	if (ino->cache)
		err = check_node(sys, ino, ino->cache, ino->cache_height, 0, &pages, why, n);
	if (!err && pages != ino->nr_pages) {
		snprintf(why, n, "inode %llu: nr_pages %llu, recount %llu",
			 (unsigned long long)ino->ino, (unsigned long long)ino->nr_pages,
			 (unsigned long long)pages);
		err = -EUCLEAN;
	}
	pthread_mutex_unlock(&ino->lock);
	return err;
}

static void each_node(struct pc_node *node, uint32_t height, void (*fn)(uint32_t, void *),
		      void *arg)
{
	for (uint32_t i = 0; i < PC_SLOTS; i++) {
		uint64_t s = node->slot[i];

		if (!s)
			continue;
		if (height > 1)
			each_node((struct pc_node *)(uintptr_t)s, height - 1, fn, arg);
		else if (slot_is_frame(s))
			fn((uint32_t)(s - 1), arg);
	}
}

static void swap_slots(struct pc_node *node, uint32_t height, uint64_t base,
		       void (*fn)(uint64_t, uint64_t, void *), void *arg)
{
	for (uint32_t i = 0; i < PC_SLOTS; i++) {
		uint64_t s = node->slot[i];

		if (s && height > 1)
			swap_slots((struct pc_node *)(uintptr_t)s, height - 1, (base << PC_BITS) | i,
				   fn, arg);
		else if (s & PC_SWAP)
			fn((base << PC_BITS) | i, s & ~PC_SWAP, arg);
	}
}

void pagecache_for_each_swap(struct inode *ino, void (*fn)(uint64_t index, uint64_t entry,
							  void *arg),
			     void *arg)
{
	pthread_mutex_lock(&ino->lock);
	if (ino->cache)
		swap_slots(ino->cache, ino->cache_height, 0, fn, arg);
	pthread_mutex_unlock(&ino->lock);
}

struct unuse_list {
	uint32_t type;
	uint64_t *index;
	size_t n, cap;
	bool nomem;
};

static void note_unuse(uint64_t index, uint64_t entry, void *arg)
{
	struct unuse_list *ul = arg;

	if (swp_type(entry) != ul->type || ul->nomem)
		return;
	if (ul->n == ul->cap) {
		size_t cap = ul->cap ? 2 * ul->cap : 64;
		uint64_t *grown = um_realloc(NULL, ul->index, cap * sizeof(*grown));

		if (!grown) {
			ul->nomem = true;
			return;
		}
		ul->index = grown;
		ul->cap = cap;
	}
	ul->index[ul->n++] = index;
}

/* shmem_unuse for one object: each of its pages on device type read back in. */
static int shmem_unuse_inode(struct um_system *sys, struct inode *ino, uint32_t type)
{
	struct unuse_list ul = { .type = type };
	int err = 0;

	pagecache_for_each_swap(ino, note_unuse, &ul);
	for (size_t i = 0; i < ul.n && !err; i++) {
		bool major;
		uint32_t pfn = pagecache_get(sys, ino, ul.index[i], &major, &err);

		if (pfn != FRAME_NONE)
			frame_put(&sys->fp, pfn);
	}
	um_free(NULL, ul.index);
	return ul.nomem ? -ENOMEM : err;
}

int pagecache_shmem_unuse(struct um_system *sys, uint32_t type)
{
	int err = 0;

	for (struct um_proc *p = sys->procs; p && !err; p = p->next_proc)
		for (struct vma *v = p->mm->vmas.first; v && !err; v = v->next)
			if (v->vm_inode && v->vm_inode->shmem)
				err = shmem_unuse_inode(sys, v->vm_inode, type);
	return err;
}

void pagecache_for_each(struct inode *ino, void (*fn)(uint32_t pfn, void *arg), void *arg)
{
	pthread_mutex_lock(&ino->lock);
	if (ino->cache)
		each_node(ino->cache, ino->cache_height, fn, arg);
	pthread_mutex_unlock(&ino->lock);
}

bool pagecache_delete_locked(struct um_system *sys, struct inode *ino, uint64_t index,
			     uint32_t pfn)
{
	uint64_t *s = slot_of(NULL, ino, index, false);
	struct frame *f = pfn_frame(&sys->fp, pfn);

	if (!s || *s != (uint64_t)pfn + 1)
		return false;
	/* The node stays: a caller up the stack may hold a slot of it. */
	*s = 0;
	ino->nr_pages--;
	f->owner = NULL;
	return true;
}
