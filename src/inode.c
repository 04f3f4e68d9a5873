/*
 * inode.c: inodes: real files under the sandbox, shmem objects, /dev/zero;
 * the system's inode table; and i_mmap, the list of VMAs that map an inode
 * (Linux's address_space->i_mmap), which write-back and truncate walk to
 * find every PTE of a page.
 *
 * Invariants:
 *   1. One inode per host file: the table is keyed by host (st_dev, st_ino),
 *      and every file inode with a reference is in it.
 *   2. An inode's refcount counts open files, VMAs, and for file inodes one
 *      held by the table: like Linux's inode cache, a file's cached pages
 *      outlive its last close, so a later open finds them (a minor fault).
 *      The table lets go at um_system_free (inode_table_release), and the
 *      last put writes back the dirty pages and closes the host file.
 *   3. A VMA with vm_inode is on its inode's i_mmap list from the moment it
 *      is in an mm until it is freed (i_mmap_linked).
 *   4. A file or directory inode's owner, group and mode (i_uid, i_gid,
 *      i_mode) are the host file's when the inode is made, and the
 *      library's from then on (namei.c, attr.c): permission checks never
 *      ask the host again.
 * Locks: sys->inode_lock guards the table (and the final refcount drop of
 * file inodes); inode->i_mmap_lock guards i_mmap and the bounds of the VMAs
 * on it while the mm lock is held exclusive by whoever changes them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "fs.h"
#include "host.h"
#include "mm.h"
#include "pagecache.h"
#include "system.h"
#include "vma.h"

struct inode *inode_alloc(struct um_system *sys, enum inode_type type)
{
	struct inode *ino = um_calloc(sys, 1, sizeof(*ino));

	if (!ino)
		return NULL;
	atomic_init(&ino->refcount, 1);
	pthread_mutex_init(&ino->lock, NULL);
	pthread_mutex_init(&ino->i_mmap_lock, NULL);
	pthread_rwlock_init(&ino->invalidate_lock, NULL);
	ino->type = type;
	ino->shmem = type == INODE_SHMEM;
	ino->host_fd = -1;
	return ino;
}

struct inode *shmem_inode_new(struct um_system *sys, uint64_t size)
{
	struct inode *ino = inode_alloc(sys, INODE_SHMEM);

	if (!ino)
		return NULL;
	ino->ino = atomic_fetch_add(&sys->next_id, 1);
	atomic_store(&ino->size, size);
	ino->dev_major = 0;
	ino->dev_minor = 1;
	return ino;
}

static void inode_destroy(struct um_system *sys, struct inode *ino);

struct inode *zero_inode_new(struct um_system *sys)
{
	struct inode *ino = inode_alloc(sys, INODE_ZERO);
	struct stat st;

	if (!ino)
		return NULL;
	/*
	 * maps shows the device and inode of the file system /dev/zero lives
	 * on; take the host's, so both back ends of a scenario print the same.
	 */
	if (host_stat("/dev/zero", &st) == 0) {
		ino->dev = (uint64_t)st.st_dev;
		ino->ino = (uint64_t)st.st_ino;
		ino->i_mode = (uint32_t)st.st_mode;
		ino->i_uid = (uint32_t)st.st_uid;
		ino->i_gid = (uint32_t)st.st_gid;
	} else {
		ino->dev = makedev(0, 5);
		ino->ino = 4;
		ino->i_mode = S_IFCHR | 0666;
	}
	ino->dev_major = (int)major(ino->dev);
	ino->dev_minor = (int)minor(ino->dev);
	ino->path = um_malloc(sys, sizeof("/dev/zero"));
	if (!ino->path) {
		inode_destroy(sys, ino);
		return NULL;
	}
	memcpy(ino->path, "/dev/zero", sizeof("/dev/zero"));
	return ino;
}

void inode_get(struct inode *ino)
{
	atomic_fetch_add_explicit(&ino->refcount, 1, memory_order_relaxed);
}

static void inode_destroy(struct um_system *sys, struct inode *ino)
{
	if (ino->type == INODE_REG) {
		/* Nothing is lost: the last reference writes back what is dirty. */
		writeback_range(sys, ino, 0, UINT64_MAX, false);
	}
	if (ino->evict_inode) {
		uint64_t cached = ino->nr_pages;

		pagecache_free_all(sys, ino);
		ino->evict_inode(sys, ino, cached);
	}
	pagecache_free_all(sys, ino);
	wb_inode_del(sys, ino);
	if (ino->charged)
		vm_unacct_memory(sys, ino->charged);
	if (ino->host_fd >= 0)
		host_close(ino->host_fd);
	pthread_mutex_destroy(&ino->lock);
	pthread_mutex_destroy(&ino->i_mmap_lock);
	pthread_rwlock_destroy(&ino->invalidate_lock);
	um_free(sys, ino->path);
	um_free(sys, ino);
}

void inode_put(struct um_system *sys, struct inode *ino)
{
	if (atomic_fetch_sub_explicit(&ino->refcount, 1, memory_order_acq_rel) == 1)
		inode_destroy(sys, ino);
}

void inode_table_release(struct um_system *sys)
{
	struct inode *ino;

	pthread_mutex_lock(&sys->inode_lock);
	while ((ino = sys->inodes)) {
		sys->inodes = ino->table_next;
		pthread_mutex_unlock(&sys->inode_lock);
		inode_put(sys, ino);
		pthread_mutex_lock(&sys->inode_lock);
	}
	pthread_mutex_unlock(&sys->inode_lock);
}

/*
 * The disk's read-ahead window in pages (bdi->ra_pages): the configured
 * read_ahead_kb, else the host disk's (the kernel back end's files live
 * there), else the kernel's default of 128 KiB.
 */
static uint32_t inode_ra_pages(struct um_system *sys, uint64_t dev)
{
	uint32_t kb = sys->cfg.readahead_kb;

	if (!kb)
		kb = host_read_ahead_kb(dev);
	if (kb == UINT32_MAX)
		kb = 128;
	return (uint32_t)pg_count(&sys->geom, (uint64_t)kb << 10);
}

int inode_from_host(struct um_system *sys, int host_fd, bool writable, const char *relpath,
		    struct inode **out)
{
	char resolved[4096];
	struct inode *ino;
	struct stat st;
	size_t n;
	int err = host_fstat(host_fd, &st);

	if (err) {
		host_close(host_fd);
		return err;
	}
	pthread_mutex_lock(&sys->inode_lock);
	for (ino = sys->inodes; ino; ino = ino->table_next) {
		if (ino->dev == (uint64_t)st.st_dev && ino->ino == (uint64_t)st.st_ino) {
			inode_get(ino);
			pthread_mutex_unlock(&sys->inode_lock);
			/* Keep one descriptor: the writable one, for write-back. */
			pthread_mutex_lock(&ino->lock);
			if (writable && !ino->host_writable) {
				int old = ino->host_fd;

				ino->host_fd = host_fd;
				ino->host_writable = true;
				host_fd = old;
			}
			pthread_mutex_unlock(&ino->lock);
			host_close(host_fd);
			*out = ino;
			return 0;
		}
	}
	ino = inode_alloc(sys, S_ISDIR(st.st_mode) ? INODE_DIR : INODE_REG);
	/* maps shows the path the host resolved, not the one given to open. */
	if (host_fd_path(host_fd, resolved, sizeof(resolved)))
		snprintf(resolved, sizeof(resolved), "%s/%s", sys->sandbox_path, relpath);
	n = strlen(resolved) + 1;
	if (ino)
		ino->path = um_malloc(sys, n);
	if (!ino || !ino->path) {
		pthread_mutex_unlock(&sys->inode_lock);
		if (ino)
			um_free(sys, ino);
		host_close(host_fd);
		return -ENOMEM;
	}
	memcpy(ino->path, resolved, n);
	ino->dev = (uint64_t)st.st_dev;
	ino->ino = (uint64_t)st.st_ino;
	/* The library keeps the attributes from here on (namei.c, attr.c). */
	ino->i_mode = (uint32_t)st.st_mode;
	ino->i_uid = (uint32_t)st.st_uid;
	ino->i_gid = (uint32_t)st.st_gid;
	ino->dev_major = (int)major(st.st_dev);
	ino->dev_minor = (int)minor(st.st_dev);
	atomic_store(&ino->size, S_ISDIR(st.st_mode) ? 0 : (uint64_t)st.st_size);
	ino->host_fd = host_fd;
	ino->host_writable = writable;
	ino->ra_pages = inode_ra_pages(sys, ino->dev);
	atomic_store(&ino->refcount, 2); /* the caller's and the table's */
	ino->table_next = sys->inodes;
	sys->inodes = ino;
	pthread_mutex_unlock(&sys->inode_lock);
	*out = ino;
	return 0;
}

void i_mmap_link(struct vma *v)
{
	struct inode *ino = v->vm_inode;

	if (!ino || v->i_mmap_linked)
		return;
	pthread_mutex_lock(&ino->i_mmap_lock);
	v->i_mmap_prev = NULL;
	v->i_mmap_next = ino->i_mmap;
	if (ino->i_mmap)
		ino->i_mmap->i_mmap_prev = v;
	ino->i_mmap = v;
	v->i_mmap_linked = true;
	pthread_mutex_unlock(&ino->i_mmap_lock);
}

void i_mmap_unlink(struct vma *v)
{
	struct inode *ino = v->vm_inode;

	if (!ino || !v->i_mmap_linked)
		return;
	pthread_mutex_lock(&ino->i_mmap_lock);
	if (v->i_mmap_prev)
		v->i_mmap_prev->i_mmap_next = v->i_mmap_next;
	else
		ino->i_mmap = v->i_mmap_next;
	if (v->i_mmap_next)
		v->i_mmap_next->i_mmap_prev = v->i_mmap_prev;
	v->i_mmap_linked = false;
	pthread_mutex_unlock(&ino->i_mmap_lock);
}
