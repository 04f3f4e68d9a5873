/*
 * attr.c: changing a file's attributes: chmod and fchmod (fs/open.c
 * chmod_common, fs/attr.c setattr_prepare).
 *
 * The attributes live in the inode (namei.c says where they come from);
 * a new mode is also set on the host file, best effort, so that the host
 * shows what the library holds.
 */
#include <errno.h>
#include <sys/stat.h>

#include "cred.h"
#include "namei.h"

/*
 * Gives ino the permission bits of mode for c: the owner or a process with
 * CAP_FOWNER may, else EPERM; S_ISGID stays only for a member of the
 * file's group or a process with CAP_FSETID.
 */
static int inode_chmod(const struct um_cred *c, struct inode *ino, uint32_t mode)
{
	int err = 0;

	/* The kernel back end's /dev/zero is the machine's: neither changes. */
	if (ino->type == INODE_ZERO)
		return -EPERM;
	mode &= S_IALLUGO;
	pthread_mutex_lock(&ino->lock);
	if (c->fsuid != ino->i_uid && !cred_capable(c, UM_CAP_FOWNER)) {
		err = -EPERM;
	} else {
		if (!in_group_p(c, ino->i_gid) && !cred_capable(c, UM_CAP_FSETID))
			mode &= ~(uint32_t)S_ISGID;
		ino->i_mode = (ino->i_mode & ~S_IALLUGO) | mode;
	}
	pthread_mutex_unlock(&ino->lock);
	if (!err && ino->host_fd >= 0)
		host_fchmod(ino->host_fd, mode);
	return err;
}

int um_chmod(struct um_proc *p, const char *path, uint32_t mode)
{
	struct um_cred c;
	struct inode *ino;
	int err;

	if (!path)
		return -EFAULT;
	if (!*path)
		return -ENOENT;
	cred_get(p, &c);
	err = path_lookup(p->sys, &c, path, &ino);
	if (err)
		return err;
	err = inode_chmod(&c, ino, mode);
	inode_put(p->sys, ino);
	return err;
}

int um_fchmod(struct um_proc *p, int fd, uint32_t mode)
{
	struct file *f = fget(p, fd);
	struct um_cred c;
	int err;

	if (!f)
		return -EBADF;
	cred_get(p, &c);
	err = inode_chmod(&c, f->inode, mode);
	fput(p->sys, f);
	return err;
}
