/*
 * fdtable.c: open files (struct file) and a process's descriptor table
 * (fs/file_table.c and fs/file.c): file_new, fget and fput, installing,
 * duplicating (fork) and closing (exec, exit) descriptors.
 *
 * Invariants:
 *   1. A descriptor table slot holds one reference to its struct file; a
 *      struct file holds one reference to its inode.
 *   2. fork shares each struct file (and its offset) with the child; exec
 *      closes the descriptors marked close-on-exec.
 */
#include <errno.h>
#include <string.h>

#include "fs.h"
#include "host.h"
#include "mm.h"
#include "pagecache.h"
#include "system.h"

#define NR_OPEN_MAX 1024 /* RLIMIT_NOFILE's usual soft limit */

int fdtable_init(struct um_system *sys, struct fdtable *t)
{
	(void)sys;
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	return 0;
}

void fput(struct um_system *sys, struct file *f)
{
	if (atomic_fetch_sub_explicit(&f->refcount, 1, memory_order_acq_rel) != 1)
		return;
	inode_put(sys, f->inode);
	pthread_mutex_destroy(&f->pos_lock);
	um_free(sys, f);
}

static int fdtable_grow(struct um_system *sys, struct fdtable *t, int want)
{
	int size = t->size ? t->size : 16;
	struct file **fd;
	uint8_t *ce;

	while (size <= want)
		size *= 2;
	if (size > NR_OPEN_MAX)
		size = NR_OPEN_MAX;
	if (want >= size)
		return -EMFILE;
	fd = um_calloc(sys, (size_t)size, sizeof(*fd));
	ce = um_calloc(sys, (size_t)size, 1);
	if (!fd || !ce) {
		um_free(sys, fd);
		um_free(sys, ce);
		return -ENOMEM;
	}
	if (t->size) {
		memcpy(fd, t->fd, (size_t)t->size * sizeof(*fd));
		memcpy(ce, t->cloexec, (size_t)t->size);
	}
	um_free(sys, t->fd);
	um_free(sys, t->cloexec);
	t->fd = fd;
	t->cloexec = ce;
	t->size = size;
	return 0;
}

/* Installs f at the lowest free descriptor; consumes the reference on success. */
int fd_install(struct um_system *sys, struct fdtable *t, struct file *f, bool cloexec)
{
	int fd, err;

	pthread_mutex_lock(&t->lock);
	for (fd = 0; fd < t->size && t->fd[fd]; fd++)
		;
	if (fd == t->size) {
		err = fdtable_grow(sys, t, fd);
		if (err) {
			pthread_mutex_unlock(&t->lock);
			return err;
		}
	}
	t->fd[fd] = f;
	t->cloexec[fd] = cloexec;
	pthread_mutex_unlock(&t->lock);
	return fd;
}

int fdtable_dup(struct um_system *sys, struct fdtable *dst, struct fdtable *src)
{
	int err = 0;

	pthread_mutex_lock(&src->lock);
	if (src->size) {
		err = fdtable_grow(sys, dst, src->size - 1);
		for (int fd = 0; !err && fd < src->size; fd++) {
			if (!src->fd[fd])
				continue;
			atomic_fetch_add(&src->fd[fd]->refcount, 1);
			dst->fd[fd] = src->fd[fd];
			dst->cloexec[fd] = src->cloexec[fd];
		}
	}
	pthread_mutex_unlock(&src->lock);
	return err;
}

void fdtable_close_on_exec(struct um_system *sys, struct fdtable *t)
{
	pthread_mutex_lock(&t->lock);
	for (int fd = 0; fd < t->size; fd++) {
		if (t->fd[fd] && t->cloexec[fd]) {
			fput(sys, t->fd[fd]);
			t->fd[fd] = NULL;
			t->cloexec[fd] = 0;
		}
	}
	pthread_mutex_unlock(&t->lock);
}

void fdtable_destroy(struct um_system *sys, struct fdtable *t)
{
	for (int fd = 0; fd < t->size; fd++)
		if (t->fd[fd])
			fput(sys, t->fd[fd]);
	um_free(sys, t->fd);
	um_free(sys, t->cloexec);
	pthread_mutex_destroy(&t->lock);
	memset(t, 0, sizeof(*t));
}

struct file *fget(struct um_proc *p, int fd)
{
	struct fdtable *t = &p->files;
	struct file *f = NULL;

	pthread_mutex_lock(&t->lock);
	if (fd >= 0 && fd < t->size && t->fd[fd]) {
		f = t->fd[fd];
		atomic_fetch_add(&f->refcount, 1);
	}
	pthread_mutex_unlock(&t->lock);
	return f;
}

struct file *file_new(struct um_system *sys, struct inode *ino, int flags)
{
	struct file *f = um_calloc(sys, 1, sizeof(*f));

	if (!f)
		return NULL;
	atomic_init(&f->refcount, 1);
	pthread_mutex_init(&f->pos_lock, NULL);
	f->inode = ino;
	f->flags = flags;
	file_ra_state_init(&f->f_ra, ino);
	return f;
}
