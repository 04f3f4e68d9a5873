/*
 * attr.c: changing a file's attributes: chmod, fchmod, chown and fchown
 * (fs/open.c chmod_common and chown_common, fs/attr.c setattr_prepare).
 *
 * The attributes live in the inode (namei.c says where they come from);
 * a new mode is also set on the host file, best effort, so that the host
 * shows what the library holds.
 */
#include <errno.h>
#include <sys/stat.h>

#include "cred.h"
#include "fs.h"
#include "host.h"
#include "mm.h"
#include "namei.h"
#include "system.h"

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

/*
 * Gives ino owner uid and group gid (-1: unchanged) for c: the owner may
 * give it to itself and to a group it is in, CAP_CHOWN anything, else
 * EPERM. A file that is not a directory loses S_ISUID, and S_ISGID when
 * it has S_IXGRP or c is outside its group without CAP_FSETID; that
 * change of mode asks what chmod asks (the owner or CAP_FOWNER, and
 * S_ISGID only inside the new group or with CAP_FSETID).
 */
static int inode_chown(const struct um_cred *c, struct inode *ino, uint32_t uid, uint32_t gid)
{
	bool owner, kill;
	uint32_t mode;
	int err = 0;

	if (ino->type == INODE_ZERO)
		return -EPERM;
	pthread_mutex_lock(&ino->lock);
	owner = c->fsuid == ino->i_uid;
	mode = ino->i_mode;
	if (!S_ISDIR(mode)) {
		mode &= ~(uint32_t)S_ISUID;
		if ((mode & S_ISGID) && ((mode & S_IXGRP) || (!in_group_p(c, ino->i_gid) &&
							      !cred_capable(c, UM_CAP_FSETID))))
			mode &= ~(uint32_t)S_ISGID;
	}
	kill = mode != ino->i_mode;
	if (uid != UINT32_MAX && !(owner && uid == ino->i_uid) && !cred_capable(c, UM_CAP_CHOWN))
		err = -EPERM;
	else if (gid != UINT32_MAX && !(owner && (gid == ino->i_gid || in_group_p(c, gid))) &&
		 !cred_capable(c, UM_CAP_CHOWN))
		err = -EPERM;
	else if (kill && !owner && !cred_capable(c, UM_CAP_FOWNER))
		err = -EPERM;
	if (!err) {
		if (kill && !in_group_p(c, gid != UINT32_MAX ? gid : ino->i_gid) &&
		    !cred_capable(c, UM_CAP_FSETID))
			mode &= ~(uint32_t)S_ISGID;
		if (uid != UINT32_MAX)
			ino->i_uid = uid;
		if (gid != UINT32_MAX)
			ino->i_gid = gid;
		ino->i_mode = mode;
	}
	pthread_mutex_unlock(&ino->lock);
	if (!err && kill && ino->host_fd >= 0)
		host_fchmod(ino->host_fd, mode & S_IALLUGO);
	return err;
}

/* What a call changes (struct iattr): the mode, or the owner and group (-1: unchanged). */
struct iattr {
	bool chmod;
	uint32_t mode, uid, gid;
};

static int notify_change(const struct um_cred *c, struct inode *ino, const struct iattr *ia)
{
	return ia->chmod ? inode_chmod(c, ino, ia->mode) : inode_chown(c, ino, ia->uid, ia->gid);
}

/* chmod, chown: the file path names (a last symbolic link followed). */
static int path_setattr(struct um_proc *p, const char *path, const struct iattr *ia)
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
	err = notify_change(&c, ino, ia);
	inode_put(p->sys, ino);
	return err;
}

/* fchmod, fchown: the file of descriptor fd, whatever its access mode. */
static int fd_setattr(struct um_proc *p, int fd, const struct iattr *ia)
{
	struct file *f = fget(p, fd);
	struct um_cred c;
	int err;

	if (!f)
		return -EBADF;
	cred_get(p, &c);
	err = notify_change(&c, f->inode, ia);
	fput(p->sys, f);
	return err;
}

int um_chmod(struct um_proc *p, const char *path, uint32_t mode)
{
	const struct iattr ia = {.chmod = true, .mode = mode};

	return path_setattr(p, path, &ia);
}

int um_fchmod(struct um_proc *p, int fd, uint32_t mode)
{
	const struct iattr ia = {.chmod = true, .mode = mode};

	return fd_setattr(p, fd, &ia);
}

int um_chown(struct um_proc *p, const char *path, uint32_t uid, uint32_t gid)
{
	const struct iattr ia = {.uid = uid, .gid = gid};

	return path_setattr(p, path, &ia);
}

int um_fchown(struct um_proc *p, int fd, uint32_t uid, uint32_t gid)
{
	const struct iattr ia = {.uid = uid, .gid = gid};

	return fd_setattr(p, fd, &ia);
}
