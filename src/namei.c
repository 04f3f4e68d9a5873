/*
 * namei.c: permission to reach and open files (fs/namei.c): the mode bits
 * against a process's credentials (generic_permission), the search
 * permission path resolution needs on every directory (link_path_walk's
 * may_lookup), and open's lookup: creating with O_CREAT (may_o_create,
 * inode_init_owner), checking an existing file (may_open), O_TRUNC.
 *
 * The host resolves paths (openat2 below the sandbox, host.c). To check
 * search permission with the library's own attributes, a walk asks the
 * host for each directory of the path in turn, so every directory a walk
 * passes through gets an inode in the system's table, as an opened file
 * does.
 *
 * Attributes: an inode's i_mode, i_uid and i_gid are the host file's when
 * the inode is made and the library's from then on, under ino->lock. A
 * file made by O_CREAT gets its creator's fsuid, its fsgid (the
 * directory's group when the directory has S_ISGID) and mode & ~umask;
 * the host file gets the same permission bits (fchmod: the host program's
 * umask must not count) but keeps the host's owner.
 *
 * Checks run in Linux's order, since the order decides the errno of a
 * call that breaks several rules: search permission from the sandbox
 * down (EACCES, or ENOENT/ENOTDIR for a missing or wrong directory), then
 * for O_CREAT the creation if the file is missing (write and search
 * permission on its directory, asked for only then), then EEXIST
 * (O_EXCL), EISDIR (O_CREAT of a directory), and may_open on a file that
 * existed: EISDIR for a directory opened to write, else its mode bits.
 * A file made by this open is not checked: open(O_RDWR|O_CREAT, 0)
 * gives a descriptor.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "cred.h"
#include "fs.h"
#include "host.h"
#include "mm.h"
#include "namei.h"
#include "system.h"

/* acl_permission_check, with no ACLs: the owner's, group's or others' bits. */
static int acl_permission_check(const struct um_cred *c, uint32_t mode, uint32_t uid, uint32_t gid,
				int mask)
{
	mask &= MAY_READ | MAY_WRITE | MAY_EXEC;
	if (c->fsuid == uid)
		return (mask & ~(mode >> 6)) ? -EACCES : 0;
	/* The group matters only where its bits differ from the others'. */
	if ((mask & (mode ^ (mode >> 3))) && in_group_p(c, gid))
		mode >>= 3;
	return (mask & ~mode) ? -EACCES : 0;
}

int inode_permission(const struct um_cred *c, struct inode *ino, int mask)
{
	uint32_t mode, uid, gid;

	pthread_mutex_lock(&ino->lock);
	mode = ino->i_mode;
	uid = ino->i_uid;
	gid = ino->i_gid;
	pthread_mutex_unlock(&ino->lock);
	if (!acl_permission_check(c, mode, uid, gid, mask))
		return 0;
	/* generic_permission: what capabilities override. */
	if (S_ISDIR(mode)) {
		if (!(mask & MAY_WRITE) && cred_capable(c, UM_CAP_DAC_READ_SEARCH))
			return 0;
		return cred_capable(c, UM_CAP_DAC_OVERRIDE) ? 0 : -EACCES;
	}
	if (mask == MAY_READ && cred_capable(c, UM_CAP_DAC_READ_SEARCH))
		return 0;
	/* Reading and writing are always overridable, executing when some x bit is set. */
	if ((!(mask & MAY_EXEC) || (mode & 0111)) && cred_capable(c, UM_CAP_DAC_OVERRIDE))
		return 0;
	return -EACCES;
}

/* The inode of directory relpath ("." for the sandbox), found or added in the table. */
static int dir_inode(struct um_system *sys, const char *relpath, struct inode **out)
{
	int fd = host_open_beneath(sys, relpath, O_RDONLY | O_DIRECTORY, 0);

	/* A host program that may search but not read the directory: a path descriptor. */
	if (fd == -EACCES)
		fd = host_open_beneath(sys, relpath, O_PATH | O_DIRECTORY, 0);
	if (fd < 0)
		return fd;
	return inode_from_host(sys, fd, false, relpath, out);
}

/*
 * The directory that holds path's last component, with a reference, after
 * checking that c may search every directory path passes through (the
 * sandbox directory first). A negative errno (EACCES, ENOENT, ENOTDIR)
 * when the walk stops.
 */
static int path_parent(struct um_system *sys, const struct um_cred *c, const char *path,
		       struct inode **dir)
{
	char prefix[PATH_MAX];
	size_t last = strlen(path);
	struct inode *d;
	int err;

	/* RESOLVE_BENEATH refuses an absolute path before any lookup (EXDEV, told as EACCES). */
	if (path[0] == '/')
		return -EACCES;
	if (last >= sizeof(prefix))
		return -ENAMETOOLONG;
	/* Where the last component starts; trailing slashes are part of it ("a/" names a). */
	while (last && path[last - 1] == '/')
		last--;
	while (last && path[last - 1] != '/')
		last--;
	err = dir_inode(sys, ".", &d);
	if (err)
		return err;
	for (size_t i = 0;; i++) {
		err = inode_permission(c, d, MAY_EXEC);
		if (err)
			break;
		/* The next directory is the path up to the next slash before the last component. */
		while (i < last && path[i] != '/')
			i++;
		if (i >= last)
			break;
		memcpy(prefix, path, i);
		prefix[i] = '\0';
		inode_put(sys, d);
		err = dir_inode(sys, prefix, &d);
		if (err)
			return err;
		while (i + 1 < last && path[i + 1] == '/')
			i++;
	}
	if (err) {
		inode_put(sys, d);
		return err;
	}
	*dir = d;
	return 0;
}

/*
 * The existing file at path: open O_RDWR when the host allows (write-back
 * needs it), else read-only, with *werr saying why not.
 */
static int open_existing(struct um_system *sys, const char *path, int hflags, bool *writable,
			 int *werr)
{
	int fd = host_open_beneath(sys, path, hflags | O_RDWR, 0);

	*writable = fd >= 0;
	*werr = 0;
	if (fd == -EISDIR || fd == -EACCES || fd == -EROFS || fd == -ETXTBSY) {
		*werr = fd;
		fd = host_open_beneath(sys, path, hflags, 0);
	}
	return fd;
}

int path_lookup(struct um_system *sys, const struct um_cred *c, const char *path,
		struct inode **out)
{
	struct inode *dir;
	bool writable;
	int fd, werr, err = path_parent(sys, c, path, &dir);

	if (err)
		return err;
	inode_put(sys, dir);
	fd = open_existing(sys, path, 0, &writable, &werr);
	if (fd < 0)
		return fd;
	return inode_from_host(sys, fd, writable, path, out);
}

/*
 * The group and mode of a file c makes in dir (vfs_prepare_mode,
 * inode_init_owner): in a directory with S_ISGID the file takes the
 * directory's group, and keeps S_ISGID (with S_IXGRP) only when c is in
 * that group or has CAP_FSETID; then the umask takes its bits.
 */
static uint32_t create_attrs(const struct um_cred *c, struct inode *dir, uint32_t mode,
			     uint32_t *gid)
{
	uint32_t dmode, dgid;

	pthread_mutex_lock(&dir->lock);
	dmode = dir->i_mode;
	dgid = dir->i_gid;
	pthread_mutex_unlock(&dir->lock);
	*gid = c->fsgid;
	if (dmode & S_ISGID) {
		*gid = dgid;
		if ((mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP) && !in_group_p(c, dgid) &&
		    !cred_capable(c, UM_CAP_FSETID))
			mode &= ~(uint32_t)S_ISGID;
	}
	return mode & ~c->umask;
}

/* The access open asks for (ACC_MODE; O_TRUNC asks to write, as build_open_flags says). */
static int open_acc_mode(int flags)
{
	static const int acc[4] = {MAY_READ, MAY_WRITE, MAY_READ | MAY_WRITE, MAY_READ | MAY_WRITE};

	return acc[flags & UM_O_ACCMODE] | ((flags & UM_O_TRUNC) ? MAY_WRITE : 0);
}

/* may_open: may c open existing ino as flags ask? */
static int may_open(const struct um_cred *c, struct inode *ino, int flags)
{
	int acc = open_acc_mode(flags);

	if (ino->type == INODE_DIR && (acc & MAY_WRITE))
		return -EISDIR;
	return inode_permission(c, ino, acc);
}

int do_filp_open(struct um_system *sys, const struct um_cred *c, const char *path, int flags,
		 unsigned mode, struct inode **out)
{
	int hflags = flags & (O_DIRECTORY | O_NOFOLLOW);
	int create_err = 0, werr = 0, fd = -ENOENT, err;
	bool created = false, writable = false;
	struct inode *dir, *ino;
	uint32_t gid = 0;

	/* build_open_flags, since Linux 6.4: open makes no directories. */
	if ((flags & (UM_O_CREAT | UM_O_DIRECTORY)) == (UM_O_CREAT | UM_O_DIRECTORY))
		return -EINVAL;
	err = path_parent(sys, c, path, &dir);
	if (err)
		return err;
	if (flags & UM_O_CREAT) {
		/* lookup_open: the right to create counts only if the file is missing. */
		create_err = inode_permission(c, dir, MAY_WRITE | MAY_EXEC);
		mode = create_attrs(c, dir, mode, &gid);
		if (!create_err)
			fd = host_open_beneath(sys, path, hflags | O_CREAT | O_EXCL | O_RDWR, mode);
		created = writable = fd >= 0;
	}
	inode_put(sys, dir);
	if (!created && fd != -ENOENT && (fd != -EEXIST || (flags & UM_O_EXCL)))
		return fd;
	if (!created) {
		bool named = fd == -EEXIST;

		fd = open_existing(sys, path, hflags, &writable, &werr);
		if (fd == -ENOENT && named && !(flags & UM_O_EXCL)) {
			/* The name is a dangling symbolic link: O_CREAT makes its target. */
			fd = host_open_beneath(sys, path, hflags | O_CREAT | O_RDWR, mode);
			created = writable = fd >= 0;
		} else if (fd == -ENOENT && create_err) {
			fd = create_err;
		} else if (fd >= 0 && (flags & UM_O_CREAT) && (flags & UM_O_EXCL)) {
			host_close(fd);
			fd = -EEXIST;
		}
		if (fd < 0)
			return fd;
	}
	if (created)
		host_fchmod(fd, mode);
	err = inode_from_host(sys, fd, writable, path, &ino);
	if (err)
		return err;
	if (created) {
		pthread_mutex_lock(&ino->lock);
		ino->i_mode = S_IFREG | mode;
		ino->i_uid = c->fsuid;
		ino->i_gid = gid;
		pthread_mutex_unlock(&ino->lock);
		*out = ino;
		return 0;
	}
	if ((flags & UM_O_CREAT) && ino->type == INODE_DIR)
		err = -EISDIR;
	else
		err = may_open(c, ino, flags);
	/* The host would not open it for writing (a host program that is not root). */
	if (!err && (open_acc_mode(flags) & MAY_WRITE) && !ino->host_writable)
		err = werr ? werr : -EACCES;
	if (!err && (flags & UM_O_TRUNC) && ino->type == INODE_REG && inode_size(ino))
		err = truncate_setsize(sys, ino, 0);
	if (err) {
		inode_put(sys, ino);
		return err;
	}
	*out = ino;
	return 0;
}
