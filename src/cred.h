/*
 * cred.h: declarations of cred.c: a process's credentials (Linux's struct
 * cred, kept in um_proc.cred as a struct um_cred): user and group ids,
 * capability sets, umask; and the questions asked of them (capable,
 * in_group_p). The permission checks on files that use them are in namei.h.
 */
#ifndef UM_CRED_H
#define UM_CRED_H

#include <stdbool.h>
#include <stdint.h>

#include "internal.h"

struct mm;
struct um_proc;
struct um_system;

/* CAP_LAST_CAP of Linux 6.x (CAP_CHECKPOINT_RESTORE): sets hold bits 0..40. */
#define CAP_LAST_CAP   40
#define CAP_VALID_MASK ((2ULL << CAP_LAST_CAP) - 1)

/* A new process's credentials in sys (see struct um_cred). */
UM_INTERNAL void cred_init(const struct um_system *sys, struct um_cred *c);
/* A copy of p's credentials as they are now (current_cred()). */
UM_INTERNAL void cred_get(struct um_proc *p, struct um_cred *c);
/* exec: the capabilities a program without file capabilities gets. */
UM_INTERNAL void cred_exec(struct um_proc *p);
/* The invariants of cred.c for p: 0, or -EUCLEAN with why. */
UM_INTERNAL int cred_check(struct um_proc *p, char *why, size_t whylen);

static inline bool cred_capable(const struct um_cred *c, int cap)
{
	return (c->cap_effective >> cap) & 1;
}

/* Is gid the process's fsgid? (It has no supplementary groups.) */
static inline bool in_group_p(const struct um_cred *c, uint32_t gid)
{
	return c->fsgid == gid;
}

/* capable(cap) for a call on mm: its owner's effective set. */
UM_INTERNAL bool mm_capable(const struct mm *mm, int cap);

#endif /* UM_CRED_H */
