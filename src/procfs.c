/*
 * procfs.c: the /proc/PID files of a process, rendered in Linux 6.x's
 * formats from the VMA tree, the page tables and the frame descriptors.
 *
 * Owns: um_proc_maps, um_proc_smaps, um_proc_status, um_pagemap,
 * um_kpagecount and vma_name. Nothing here changes state: every function
 * of a process walks under its mm lock held shared, as Linux's readers
 * hold mmap_lock for read, and reads PTEs and frame counts atomically
 * because faults may change them concurrently. um_kpagecount belongs to no
 * process and, like Linux's kpagecount_read, takes no lock: it reads one
 * frame's count atomically.
 *
 * Output goes through a writer with snprintf's contract, so a caller can
 * ask for the length with a zero-sized buffer and then render the file.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cred.h"
#include "frame.h"
#include "fs.h"
#include "hugetlb.h"
#include "mm.h"
#include "oom.h"
#include "pgtable.h"
#include "swap.h"
#include "system.h"
#include "vma.h"

/*
 * Linux keeps Pss in fixed point, (PAGE_SIZE << PSS_SHIFT) / mapcount per
 * page, and prints it shifted back: the rounding of the printed value
 * depends on this, so it is replicated exactly.
 */
#define PSS_SHIFT 12

/* maps: the name starts after padding to this column and one space (seq_pad). */
#define MAPS_NAME_PAD 72

/* pagemap entry bits (fs/proc/task_mmu.c). */
#define PM_PFRAME_MASK	  ((1ULL << 55) - 1)
#define PM_SOFT_DIRTY	  (1ULL << 55)
#define PM_MMAP_EXCLUSIVE (1ULL << 56)
#define PM_FILE		  (1ULL << 61)
#define PM_GUARD_REGION	  (1ULL << 58)
#define PM_SWAP		  (1ULL << 62) /* a swap entry (and guard markers, as Linux's PTE markers) */
#define PM_PRESENT	  (1ULL << 63)

/* ---------------------------------------------------------------- writer */

/*
 * An append-only text sink with snprintf's contract: len counts every byte
 * produced, at most size - 1 of them land in buf, and wr_finish() puts the
 * terminating NUL.
 */
struct wr {
	char *buf;
	size_t size;
	uint64_t len;
};

static void wr_init(struct wr *w, char *buf, size_t size)
{
	w->buf = buf;
	w->size = size;
	w->len = 0;
}

/* Room for content bytes (the last byte of buf is kept for the NUL). */
static size_t wr_room(const struct wr *w)
{
	if (w->size == 0 || w->len >= w->size - 1)
		return 0;
	return (size_t)(w->size - 1 - w->len);
}

static void wr_putc(struct wr *w, char c)
{
	if (wr_room(w))
		w->buf[w->len] = c;
	w->len++;
}

static void wr_puts(struct wr *w, const char *s)
{
	while (*s)
		wr_putc(w, *s++);
}

static void wr_printf(struct wr *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void wr_printf(struct wr *w, const char *fmt, ...)
{
	size_t room = wr_room(w);
	va_list ap;
	int n;

	va_start(ap, fmt);
	/* room + 1: vsnprintf's NUL may take the byte reserved for ours. */
	if (room)
		n = vsnprintf(w->buf + w->len, room + 1, fmt, ap);
	else
		n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		w->len += (uint64_t)n;
}

/* Pads the current line with spaces up to column col (seq_pad without the char). */
static void wr_pad_to(struct wr *w, uint64_t line_start, unsigned col)
{
	while (w->len - line_start < col)
		wr_putc(w, ' ');
}

/* NUL-terminates and returns the full length, as snprintf does. */
static int64_t wr_finish(struct wr *w)
{
	if (w->size) {
		uint64_t at = w->len < w->size - 1 ? w->len : w->size - 1;

		w->buf[at] = '\0';
	}
	return (int64_t)w->len;
}

/* Writes s with the characters Linux's seq_path escapes ("\n") as \ooo. */
static void wr_path(struct wr *w, const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			wr_puts(w, "\\012");
		else
			wr_putc(w, *s);
	}
}

/* ------------------------------------------------------------ VMA naming */

/*
 * The name Linux prints for v before escaping, or NULL. Shared anonymous
 * memory is an unlinked shmem file that Linux names after /dev/zero. The
 * anonymous VMA that holds the break is [heap] (there is no main stack or
 * prctl(PR_SET_VMA_ANON_NAME) here yet).
 */
static const char *vma_name_raw(const struct vma *v)
{
	const struct inode *ino = v->vm_inode;
	const struct mm *mm = v->vm_mm;

	if (!ino) {
		if (mm && v->vm_start <= mm->brk && v->vm_end >= mm->start_brk)
			return "[heap]";
		return NULL;
	}
	if (ino->path)
		return ino->path;
	if (ino->shmem)
		return "/dev/zero (deleted)";
	if (ino->type == INODE_HUGETLB)
		return "/anon_hugepage (deleted)";
	return NULL;
}

/*
 * vma_name: the name of v as the maps file shows it, escaped, copied into
 * buf (n bytes, truncated, NUL-terminated); returns buf, or NULL when v has
 * no name or buf cannot hold even the NUL.
 */
const char *vma_name(const struct vma *v, char *buf, size_t n)
{
	const char *name = vma_name_raw(v);
	struct wr w;

	if (!name || !buf || n == 0)
		return NULL;
	wr_init(&w, buf, n);
	wr_path(&w, name);
	wr_finish(&w);
	return buf;
}

/* Device numbers Linux shows for v: the shmem mount is 00:01, anonymous 00:00. */
static void vma_dev(const struct vma *v, unsigned *major, unsigned *minor, uint64_t *ino)
{
	const struct inode *f = v->vm_inode;

	*major = *minor = 0;
	*ino = 0;
	if (!f)
		return;
	if (f->shmem && !f->path) {
		*minor = 1;
	} else {
		*major = (unsigned)f->dev_major;
		*minor = (unsigned)f->dev_minor;
	}
	*ino = f->ino;
}

/* One maps line for v, as show_map_vma() prints it. */
static void show_map_vma(struct wr *w, const struct um_system *sys, const struct vma *v)
{
	uint64_t line_start = w->len;
	uint64_t flags = v->vm_flags;
	unsigned long long pgoff = 0;
	unsigned major, minor;
	const char *name;
	uint64_t ino;

	vma_dev(v, &major, &minor, &ino);
	/* Only file-backed VMAs show an offset: vm_pgoff of anonymous ones is an address. */
	if (v->vm_inode)
		pgoff = pg_bytes(&sys->geom, v->vm_pgoff);

	wr_printf(w, "%08llx-%08llx %c%c%c%c %08llx %02x:%02x %llu ",
		  (unsigned long long)v->vm_start, (unsigned long long)v->vm_end,
		  flags & VM_READ ? 'r' : '-', flags & VM_WRITE ? 'w' : '-',
		  flags & VM_EXEC ? 'x' : '-', flags & VM_MAYSHARE ? 's' : 'p', pgoff, major, minor,
		  (unsigned long long)ino);

	name = vma_name_raw(v);
	if (name) {
		wr_pad_to(w, line_start, MAPS_NAME_PAD);
		wr_putc(w, ' ');
		wr_path(w, name);
	}
	wr_putc(w, '\n');
}

/* ----------------------------------------------------------------- locks */

/* Validates p and takes its mm lock shared; returns 0 or a negative errno. */
static int proc_read_lock(struct um_proc *p)
{
	if (!p || !p->mm || !p->sys)
		return -EINVAL;
	if (pthread_rwlock_rdlock(&p->mm->lock))
		return -EAGAIN;
	return 0;
}

static void proc_read_unlock(struct um_proc *p)
{
	pthread_rwlock_unlock(&p->mm->lock);
}

/* ------------------------------------------------------------------ maps */

/*
 * The one walk of maps and smaps (seq_file's show_map / show_smap): show
 * renders each VMA, in address order, under the mm lock held shared.
 */
typedef void vma_show_fn(struct wr *w, struct um_proc *p, const struct vma *v);

static int64_t proc_show_vmas(struct um_proc *p, char *buf, size_t size, vma_show_fn *show)
{
	const struct vma *v;
	struct wr w;
	int err;

	if (!buf && size)
		return -EFAULT;
	err = proc_read_lock(p);
	if (err)
		return err;
	wr_init(&w, buf, size);
	for (v = p->mm->vmas.first; v; v = v->next)
		show(&w, p, v);
	proc_read_unlock(p);
	return wr_finish(&w);
}

static void show_map(struct wr *w, struct um_proc *p, const struct vma *v)
{
	show_map_vma(w, p->sys, v);
}

int64_t um_proc_maps(struct um_proc *p, char *buf, size_t size)
{
	return proc_show_vmas(p, buf, size, show_map);
}

/* ----------------------------------------------------------------- smaps */

/* struct mem_size_stats, restricted to what exists here. Bytes, Pss in fixed point. */
struct mss {
	uint64_t resident;
	uint64_t shared_clean, shared_dirty;
	uint64_t private_clean, private_dirty;
	uint64_t referenced;
	uint64_t anonymous;
	uint64_t lazyfree;
	uint64_t swap;
	uint64_t pss, pss_dirty, pss_locked, swap_pss;
};

/*
 * The frame a present PTE maps, when it is a normal page (vm_normal_page):
 * the zero frame is special and belongs to no one, so it is never counted.
 */
static struct frame *pte_normal_frame(struct frame_pool *fp, pte_t pte)
{
	uint32_t pfn;
	struct frame *f;

	if (!(pte & PTE_PRESENT) || (pte & PTE_SPECIAL))
		return NULL;
	pfn = pte_pfn(pte);
	if (pfn == ZERO_PFN || pfn >= fp->nframes)
		return NULL;
	f = pfn_frame(fp, pfn);
	if (atomic_load_explicit(&f->flags, memory_order_relaxed) & PG_RESERVED)
		return NULL;
	return f;
}

/* Adds one page of size bytes with Pss share pss (smaps_page_accumulate). */
static void mss_page(struct mss *m, uint64_t size, uint64_t pss, bool dirty, bool locked,
		     bool private)
{
	m->pss += pss;
	if (locked)
		m->pss_locked += pss;
	if (dirty) {
		m->pss_dirty += pss;
		if (private)
			m->private_dirty += size;
		else
			m->shared_dirty += size;
	} else {
		if (private)
			m->private_clean += size;
		else
			m->shared_clean += size;
	}
}

/* Accounts one present PTE mapping frame f (smaps_account for a small page). */
static void mss_account(struct mss *m, uint64_t page_size, const struct frame *f, pte_t pte,
			bool locked)
{
	uint32_t fl = atomic_load_explicit(&f->flags, memory_order_relaxed);
	int32_t refs = atomic_load_explicit(&f->refcount, memory_order_relaxed);
	int32_t mapcount = atomic_load_explicit(&f->mapcount, memory_order_relaxed);
	bool dirty = (pte & PTE_DIRTY) || (fl & PG_DIRTY);
	uint64_t pss = page_size << PSS_SHIFT;

	if (fl & PG_ANON) {
		m->anonymous += page_size;
		/* MADV_FREE'd anon pages lose PG_SWAPBACKED: reclaim may drop them clean. */
		if (!(fl & PG_SWAPBACKED) && !dirty)
			m->lazyfree += page_size;
	}
	m->resident += page_size;
	if ((pte & PTE_ACCESSED) || (fl & PG_REFERENCED))
		m->referenced += page_size;

	/* A single reference means a single mapping, whatever mapcount says meanwhile. */
	if (refs == 1) {
		mss_page(m, page_size, pss, dirty, locked, true);
		return;
	}
	if (mapcount >= 2)
		pss /= (uint64_t)mapcount;
	mss_page(m, page_size, pss, dirty, locked, mapcount < 2);
}

/*
 * A swap entry (smaps_pte_entry): Swap counts the page, SwapPss its share
 * among the references to the slot (swp_swapcount).
 */
static void mss_swap(struct mss *m, struct um_system *sys, uint64_t page_size, uint64_t entry)
{
	uint32_t refs = swap_count(sys, entry);
	uint64_t pss = page_size << PSS_SHIFT;

	m->swap += page_size;
	m->swap_pss += refs >= 2 ? pss / refs : pss;
}

/* Walks v's page tables, skipping absent tables a table at a time. */
static void smap_gather_stats(struct mm *mm, const struct vma *v, struct mss *m)
{
	struct frame_pool *fp = &mm->sys->fp;
	uint64_t page_size = mm->sys->geom.size;
	bool locked = v->vm_flags & VM_LOCKED;
	uint64_t va = v->vm_start;

	while (va < v->vm_end) {
		uint64_t span_end;
		_Atomic pte_t *slot = pgtable_span(&mm->pt, va, v->vm_end, &span_end, false);

		if (span_end <= va)
			break; /* defensive: a span that does not advance */
		if (!slot) {
			va = span_end;
			continue;
		}
		for (; va < span_end; va += page_size, slot++) {
			pte_t pte = atomic_load_explicit(slot, memory_order_relaxed);
			const struct frame *f = pte_normal_frame(fp, pte);

			if (f)
				mss_account(m, page_size, f, pte, locked);
			else if (pte_is_swap(pte))
				mss_swap(m, mm->sys, page_size, pte_to_swp_entry(pte));
		}
	}
}

/*
 * smaps_hugetlb_range: each huge page mapped counts whole, shared when more
 * than one mapping has it (folio_maybe_mapped_shared); the walk leaves Rss
 * and the rest at zero. Linux 6.18 also asks hugetlb_pmd_shared, which for
 * a 1 GiB page reads its PUD table's share count: the kernel back end was
 * seen to call one unshared 1 GiB page shared in some runs, private in
 * others (pagemap's exclusive bit too).
 */
static void smap_gather_hugetlb(struct mm *mm, const struct vma *v, uint64_t *shared,
				uint64_t *priv)
{
	uint64_t hsize = vma_hpage_mask(v) + 1;

	for (uint64_t va = v->vm_start; va < v->vm_end; va += hsize) {
		_Atomic pte_t *ptep = pgtable_walk(&mm->pt, va, false);
		pte_t pte = ptep ? atomic_load_explicit(ptep, memory_order_relaxed) : 0;

		if (!(pte & PTE_PRESENT))
			continue;
		if (atomic_load(&pfn_frame(&mm->sys->fp, pte_pfn(pte))->mapcount) > 1)
			*shared += hsize;
		else
			*priv += hsize;
	}
}

/* One "Name:   value kB" line: Linux's seq_put_decimal_ull_width(m, label, kB, 8). */
static void smap_line(struct wr *w, const char *label, uint64_t bytes)
{
	wr_printf(w, "%s%8llu kB\n", label, (unsigned long long)(bytes >> 10));
}

/*
 * VmFlags mnemonics in bit order, as x86-64 Linux 6.x names them; bits
 * with no entry print "??" and bits named "" (protection keys) print nothing.
 */
/* clang-format off */
static const char *const vm_flag_names[64] = {
	[0] = "rd", [1] = "wr", [2] = "ex", [3] = "sh", [4] = "mr", [5] = "mw",
	[6] = "me", [7] = "ms", [8] = "gd", [9] = "um", [10] = "pf", [11] = "gu",
	[12] = "uw", [13] = "lo", [14] = "io", [15] = "sr", [16] = "rr", [17] = "dc", [18] = "de",
	[19] = "lf", [20] = "ac", [21] = "nr", [22] = "ht", [23] = "sf", [24] = "ar",
	[25] = "wf", [26] = "dd", [27] = "sd", [28] = "mm", [29] = "hg", [30] = "nh",
	[31] = "mg", [32] = "", [33] = "", [34] = "", [35] = "", [37] = "ss",
	[40] = "dp", [41] = "ui", [42] = "sl",
};
/* clang-format on */

static void show_smap_vma_flags(struct wr *w, uint64_t flags)
{
	unsigned i;

	wr_puts(w, "VmFlags: ");
	for (i = 0; i < 64; i++) {
		const char *name = vm_flag_names[i] ? vm_flag_names[i] : "??";

		if (!(flags & (1ULL << i)) || !name[0])
			continue;
		wr_puts(w, name);
		wr_putc(w, ' ');
	}
	wr_putc(w, '\n');
}

/* One smaps record: the maps line, the counters, THPeligible and VmFlags. */
static void show_smap(struct wr *w, struct mm *mm, const struct vma *v)
{
	/* vma_kernel_pagesize: a hugetlb VMA's pages are its huge pages. */
	uint64_t page_size = vma_hpage_mask(v) ? vma_hpage_mask(v) + 1 : mm->sys->geom.size;
	struct mss m;

	uint64_t shared_huge = 0, private_huge = 0;

	memset(&m, 0, sizeof(m));
	if (v->vm_flags & VM_HUGETLB)
		smap_gather_hugetlb(mm, v, &shared_huge, &private_huge);
	else
		smap_gather_stats(mm, v, &m);

	show_map_vma(w, mm->sys, v);
	smap_line(w, "Size:           ", v->vm_end - v->vm_start);
	smap_line(w, "KernelPageSize: ", page_size);
	smap_line(w, "MMUPageSize:    ", page_size);
	smap_line(w, "Rss:            ", m.resident);
	smap_line(w, "Pss:            ", m.pss >> PSS_SHIFT);
	smap_line(w, "Pss_Dirty:      ", m.pss_dirty >> PSS_SHIFT);
	smap_line(w, "Shared_Clean:   ", m.shared_clean);
	smap_line(w, "Shared_Dirty:   ", m.shared_dirty);
	smap_line(w, "Private_Clean:  ", m.private_clean);
	smap_line(w, "Private_Dirty:  ", m.private_dirty);
	smap_line(w, "Referenced:     ", m.referenced);
	smap_line(w, "Anonymous:      ", m.anonymous);
	smap_line(w, "KSM:            ", 0);
	smap_line(w, "LazyFree:       ", m.lazyfree);
	smap_line(w, "AnonHugePages:  ", 0);
	smap_line(w, "ShmemPmdMapped: ", 0);
	smap_line(w, "FilePmdMapped:  ", 0);
	smap_line(w, "Shared_Hugetlb: ", shared_huge);
	/* Linux prints this one label a character longer, with a value width of 7. */
	wr_printf(w, "Private_Hugetlb: %7llu kB\n", (unsigned long long)(private_huge >> 10));
	smap_line(w, "Swap:           ", m.swap);
	smap_line(w, "SwapPss:        ", m.swap_pss >> PSS_SHIFT);
	smap_line(w, "Locked:         ", m.pss_locked >> PSS_SHIFT);
	/* No transparent huge pages here: no VMA is eligible. */
	wr_printf(w, "THPeligible:    %8u\n", 0u);
	show_smap_vma_flags(w, v->vm_flags);
}

static void show_smaps(struct wr *w, struct um_proc *p, const struct vma *v)
{
	show_smap(w, p->mm, v);
}

int64_t um_proc_smaps(struct um_proc *p, char *buf, size_t size)
{
	return proc_show_vmas(p, buf, size, show_smaps);
}

/* ---------------------------------------------------------------- status */

/* A counter that may be transiently negative reads as 0 (get_mm_counter). */
static uint64_t mm_counter(struct mm *mm, int which)
{
	int64_t v = atomic_load_explicit(&mm->rss[which], memory_order_relaxed);

	return v > 0 ? (uint64_t)v : 0;
}

static void status_line(struct wr *w, const char *label, uint64_t kb)
{
	wr_printf(w, "%s:\t%8llu kB\n", label, (unsigned long long)kb);
}

int64_t um_proc_status(struct um_proc *p, char *buf, size_t size)
{
	uint64_t data = 0, stack = 0, exec = 0, anon, file, shmem;
	unsigned kshift;
	const struct vma *v;
	struct mm *mm;
	struct wr w;
	int err;

	if (!buf && size)
		return -EFAULT;
	err = proc_read_lock(p);
	if (err)
		return err;
	mm = p->mm;
	kshift = p->sys->geom.shift - 10;

	/*
	 * Linux keeps data_vm, stack_vm and exec_vm as running counters
	 * (vm_stat_account); a recount from the VMAs gives the same values.
	 */
	for (v = mm->vmas.first; v; v = v->next) {
		uint64_t bytes = v->vm_end - v->vm_start;

		if (is_exec_mapping(v->vm_flags))
			exec += bytes;
		else if (is_stack_mapping(v->vm_flags))
			stack += bytes;
		else if (is_data_mapping(v->vm_flags))
			data += bytes;
	}
	anon = mm_counter(mm, MM_ANONPAGES);
	file = mm_counter(mm, MM_FILEPAGES);
	shmem = mm_counter(mm, MM_SHMEMPAGES);

	wr_init(&w, buf, size);
	status_line(&w, "VmSize", mm->total_vm << kshift);
	status_line(&w, "VmLck", mm->locked_vm << kshift);
	status_line(&w, "VmPin", 0);
	status_line(&w, "VmRSS", (anon + file + shmem) << kshift);
	status_line(&w, "RssAnon", anon << kshift);
	status_line(&w, "RssFile", file << kshift);
	status_line(&w, "RssShmem", shmem << kshift);
	status_line(&w, "VmData", data >> 10);
	status_line(&w, "VmStk", stack >> 10);
	/* No executable image: Linux's text is 0 and all of exec_vm counts as VmLib. */
	status_line(&w, "VmExe", 0);
	status_line(&w, "VmLib", exec >> 10);
	status_line(&w, "VmPTE", pgtable_bytes(&mm->pt) >> 10);
	status_line(&w, "VmSwap", mm_counter(mm, MM_SWAPENTS) << kshift);
	status_line(&w, "HugetlbPages", mm_counter(mm, MM_HUGETLBPAGES) << kshift);
	proc_read_unlock(p);
	return wr_finish(&w);
}

/* --------------------------------------------------------------- pagemap */

/* The pagemap entry of a PTE inside v (pte_to_pagemap_entry). */
static uint64_t pte_to_pagemap_entry(struct frame_pool *fp, const struct vma *v, pte_t pte)
{
	uint64_t frame = 0, flags = 0;
	const struct frame *f = NULL;

	if (pte == PTE_GUARD)
		flags |= PM_SWAP | PM_GUARD_REGION; /* a PTE marker reads as a swap entry */
	/* A swap entry: its type in bits 0-4 and offset above (swp_type | offset << 5). */
	if (pte_is_swap(pte)) {
		frame = pte_to_swp_entry(pte);
		flags |= PM_SWAP;
	}
	if (pte & PTE_PRESENT) {
		frame = pte_pfn(pte);
		flags |= PM_PRESENT;
		if (pte & PTE_SOFT_DIRTY)
			flags |= PM_SOFT_DIRTY;
		f = pte_normal_frame(fp, pte);
	}
	if (f) {
		/* Linux reports every page that is not anonymous, shmem too, as a file page. */
		if (!(atomic_load_explicit(&f->flags, memory_order_relaxed) & PG_ANON))
			flags |= PM_FILE;
		if (atomic_load_explicit(&f->mapcount, memory_order_relaxed) == 1)
			flags |= PM_MMAP_EXCLUSIVE;
	}
	if (v->vm_flags & VM_SOFTDIRTY)
		flags |= PM_SOFT_DIRTY;
	return (frame & PM_PFRAME_MASK) | flags;
}

/* Fills out[0 .. (end - va) / page) for [va, end) inside v. */
static void pagemap_vma(struct mm *mm, const struct vma *v, uint64_t va, uint64_t end,
			uint64_t *out)
{
	uint64_t page_size = mm->sys->geom.size;
	/* Holes in the page tables of a soft-dirty VMA still report soft-dirty. */
	uint64_t hole = (v->vm_flags & VM_SOFTDIRTY) ? PM_SOFT_DIRTY : 0;

	while (va < end) {
		uint64_t span_end;
		_Atomic pte_t *slot = pgtable_span(&mm->pt, va, end, &span_end, false);

		if (span_end <= va)
			span_end = end; /* defensive: a span that does not advance */
		for (; va < span_end; va += page_size, out++) {
			if (slot) {
				pte_t pte = atomic_load_explicit(slot++, memory_order_relaxed);

				*out = pte_to_pagemap_entry(&mm->sys->fp, v, pte);
			} else {
				*out = hole;
			}
		}
	}
}

int64_t um_pagemap(struct um_proc *p, uint64_t addr, uint64_t npages, uint64_t *out)
{
	uint64_t page_size, end, va, n;
	const struct vma *v;
	struct mm *mm;
	int err;

	if (!p || !p->sys)
		return -EINVAL;
	page_size = p->sys->geom.size;
	if (!page_aligned(&p->sys->geom, addr))
		return -EINVAL;
	if (npages && !out)
		return -EFAULT;

	/* As Linux, the file ends at the top of the user address space. */
	if (addr >= p->sys->task_size)
		return 0;
	n = pg_count(&p->sys->geom, p->sys->task_size - addr);
	if (npages < n)
		n = npages;
	if (n == 0)
		return 0;
	end = addr + pg_bytes(&p->sys->geom, n);

	err = proc_read_lock(p);
	if (err)
		return err;
	mm = p->mm;
	va = addr;
	v = vma_find(&mm->vmas, va);
	while (va < end) {
		uint64_t stop;

		/* Outside every VMA: no entry at all, not even soft-dirty. */
		stop = (v && v->vm_start < end) ? v->vm_start : end;
		for (; va < stop; va += page_size)
			*out++ = 0;
		if (va >= end)
			break;
		stop = v->vm_end < end ? v->vm_end : end;
		pagemap_vma(mm, v, va, stop, out);
		out += pg_count(&p->sys->geom, stop - va);
		va = stop;
		v = v->next;
	}
	proc_read_unlock(p);
	return (int64_t)n;
}

/* ------------------------------------------------------------ kpagecount */

int64_t um_kpagecount(struct um_system *sys, uint64_t pfn)
{
	const struct frame *f;
	int32_t mapcount;

	if (!sys || pfn >= sys->fp.nframes)
		return -EINVAL;
	/* Free frames count 0, and so does the zero frame: special PTEs are not counted. */
	f = pfn_frame(&sys->fp, (uint32_t)pfn);
	mapcount = atomic_load_explicit(&f->mapcount, memory_order_relaxed);
	return mapcount > 0 ? mapcount : 0;
}

/*
 * oom_score_adj_write (__set_oom_adj): below oom_score_adj_min needs
 * CAP_SYS_RESOURCE, whose holder's write also becomes the new minimum.
 */
int um_set_oom_score_adj(struct um_proc *p, int adj)
{
	bool cap;

	if (!p)
		return -EINVAL;
	if (adj < OOM_SCORE_ADJ_MIN || adj > OOM_SCORE_ADJ_MAX)
		return -EINVAL;
	if (proc_oom_killed(p))
		return -ESRCH;
	cap = mm_capable(p->mm, UM_CAP_SYS_RESOURCE);
	pthread_mutex_lock(&p->cred_lock);
	if (adj < atomic_load(&p->oom_score_adj_min) && !cap) {
		pthread_mutex_unlock(&p->cred_lock);
		return -EACCES;
	}
	atomic_store(&p->oom_score_adj, adj);
	if (cap)
		atomic_store(&p->oom_score_adj_min, adj);
	pthread_mutex_unlock(&p->cred_lock);
	return 0;
}

int um_oom_score_adj(const struct um_proc *p)
{
	return p ? atomic_load(&p->oom_score_adj) : -EINVAL;
}

/* proc_oom_score: the badness in [0, 2000] as Linux has long reported it, times 2/3. */
int64_t um_oom_score(struct um_proc *p)
{
	uint64_t total;
	int64_t badness;

	if (!p)
		return -EINVAL;
	total = oom_totalpages(p->sys);
	badness = oom_badness(p, total);
	if (badness == INT64_MIN)
		return 0;
	return (1000 + badness * 1000 / (int64_t)total) * 2 / 3;
}
