/*
 * namei.h: who may do what to a file (namei.c: permission and open;
 * attr.c: chmod). The checks take a copy of the caller's credentials
 * (cred_get) and an inode's attributes, read under the inode's lock.
 */
#ifndef UM_NAMEI_H
#define UM_NAMEI_H

#include "internal.h"

struct inode;
struct um_proc;
struct um_system;

/* The access a check asks for (Linux's MAY_* values). */
#define MAY_EXEC  1
#define MAY_WRITE 2
#define MAY_READ  4

#define S_IALLUGO 07777u

/*
 * inode_permission: may c have the access of mask (MAY_*) to ino? 0 or
 * -EACCES, from the mode bits that apply to c (owner, group or other) and
 * c's capabilities (generic_permission).
 */
UM_INTERNAL int inode_permission(const struct um_cred *c, struct inode *ino, int mask);
/*
 * open(2)'s lookup, creation and checks for c (path_openat): the inode of
 * path with a reference, created (O_CREAT), checked (may_open) and
 * emptied (O_TRUNC) as flags ask. mode: the creation mode, & 07777.
 */
UM_INTERNAL int do_filp_open(struct um_system *sys, const struct um_cred *c, const char *path,
			     int flags, unsigned mode, struct inode **out);
/* The inode of an existing path (following a last symbolic link), its directories searched. */
UM_INTERNAL int path_lookup(struct um_system *sys, const struct um_cred *c, const char *path,
			    struct inode **out);

#endif /* UM_NAMEI_H */
