/*
 * cred.c: process credentials: setuid, setgid, setresuid, setresgid
 * (kernel/sys.c), the capability changes that follow a uid change or an
 * exec (security/commoncap.c), umask, and the embedder's view of them.
 *
 * A process's credentials are p->cred, under p->cred_lock: a call copies
 * them once (cred_get) and decides with the copy, as Linux's calls use
 * the cred they found at entry. Nothing else is ever locked inside
 * cred_lock, so it may be taken under any other lock.
 *
 * Invariants (cred_check):
 *   1. cap_effective is a subset of cap_permitted; the three sets hold
 *      only bits 0..CAP_LAST_CAP.
 *   2. umask holds permission bits only (0777).
 *   3. p->mm->owner is p: calls on the mm use p's credentials.
 *
 * The fs ids follow the effective ones in every call here, as setuid and
 * friends make them (there is no setfsuid); only um_proc_set_cred may set
 * them apart.
 *
 * Capabilities follow uids as Linux's "root semantics" do
 * (cap_emulate_setxuid): a process that leaves uid 0 in all of its real,
 * effective and saved uids loses every capability for good; one whose
 * effective uid leaves 0 loses its effective set (getting the permitted
 * one back if it returns to 0). exec gives a process whose real or
 * effective uid is 0 its bounding set, effective only when the effective
 * uid is 0; any other process nothing. The saved ids become the
 * effective ones at exec.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cred.h"
#include "host.h"
#include "mm.h"
#include "system.h"

#define UID_INVALID UINT32_MAX

void cred_init(const struct um_system *sys, struct um_cred *c)
{
	uint32_t uid, gid;

	memset(c, 0, sizeof(*c));
	host_ids(&uid, &gid);
	c->uid = c->euid = c->suid = c->fsuid = uid;
	c->gid = c->egid = c->sgid = c->fsgid = gid;
	if (sys->cfg.privileged)
		c->cap_effective = c->cap_permitted = c->cap_bset = UM_CAP_PRIVILEGED;
	c->umask = 022;
}

void cred_get(struct um_proc *p, struct um_cred *c)
{
	pthread_mutex_lock(&p->cred_lock);
	*c = p->cred;
	pthread_mutex_unlock(&p->cred_lock);
}

bool mm_capable(const struct mm *mm, int cap)
{
	struct um_cred c;

	cred_get(mm->owner, &c);
	return cred_capable(&c, cap);
}

int cred_check(struct um_proc *p, char *why, size_t whylen)
{
	struct um_cred c;

	cred_get(p, &c);
	if ((c.cap_effective & ~c.cap_permitted) ||
	    ((c.cap_effective | c.cap_permitted | c.cap_bset) & ~CAP_VALID_MASK) ||
	    (c.umask & ~0777u) || p->mm->owner != p) {
		snprintf(why, whylen,
			 "pid %d: capabilities %#llx/%#llx/%#llx, umask %#o, mm owner %s", p->pid,
			 (unsigned long long)c.cap_effective, (unsigned long long)c.cap_permitted,
			 (unsigned long long)c.cap_bset, c.umask,
			 p->mm->owner == p ? "ok" : "wrong");
		return -EUCLEAN;
	}
	return 0;
}

void um_proc_cred(struct um_proc *p, struct um_cred *out)
{
	cred_get(p, out);
}

int um_proc_set_cred(struct um_proc *p, const struct um_cred *c)
{
	const uint32_t ids[] = {c->uid, c->euid, c->suid, c->fsuid,
				c->gid, c->egid, c->sgid, c->fsgid};

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (ids[i] == UID_INVALID)
			return -EINVAL;
	if ((c->umask & ~0777u) ||
	    ((c->cap_effective | c->cap_permitted | c->cap_bset) & ~CAP_VALID_MASK) ||
	    (c->cap_effective & ~c->cap_permitted))
		return -EINVAL;
	pthread_mutex_lock(&p->cred_lock);
	p->cred = *c;
	pthread_mutex_unlock(&p->cred_lock);
	return 0;
}

/* cap_emulate_setxuid: the capabilities after a uid change from old to c. */
static void cap_fix_setuid(struct um_cred *c, const struct um_cred *old)
{
	if ((old->uid == 0 || old->euid == 0 || old->suid == 0) && c->uid != 0 && c->euid != 0 &&
	    c->suid != 0)
		c->cap_permitted = c->cap_effective = 0;
	if (old->euid == 0 && c->euid != 0)
		c->cap_effective = 0;
	if (old->euid != 0 && c->euid == 0)
		c->cap_effective = c->cap_permitted;
}

/*
 * setuid(2): with CAP_SETUID every uid becomes uid; without it the
 * effective uid may become the real or the saved one.
 */
int um_setuid(struct um_proc *p, uint32_t uid)
{
	struct um_cred old, *c = &p->cred;

	if (uid == UID_INVALID)
		return -EINVAL;
	pthread_mutex_lock(&p->cred_lock);
	old = *c;
	if (cred_capable(&old, UM_CAP_SETUID)) {
		c->uid = c->suid = uid;
	} else if (uid != old.uid && uid != old.suid) {
		pthread_mutex_unlock(&p->cred_lock);
		return -EPERM;
	}
	c->euid = c->fsuid = uid;
	cap_fix_setuid(c, &old);
	pthread_mutex_unlock(&p->cred_lock);
	return 0;
}

/* setgid(2): as setuid, with CAP_SETGID; no capability changes. */
int um_setgid(struct um_proc *p, uint32_t gid)
{
	struct um_cred *c = &p->cred;
	int err = 0;

	if (gid == UID_INVALID)
		return -EINVAL;
	pthread_mutex_lock(&p->cred_lock);
	if (cred_capable(c, UM_CAP_SETGID))
		c->gid = c->egid = c->sgid = c->fsgid = gid;
	else if (gid == c->gid || gid == c->sgid)
		c->egid = c->fsgid = gid;
	else
		err = -EPERM;
	pthread_mutex_unlock(&p->cred_lock);
	return err;
}

/* Is id one of the three, so that a process may take it without the capability? */
static bool id_held(uint32_t id, uint32_t r, uint32_t e, uint32_t s)
{
	return id == UID_INVALID || id == r || id == e || id == s;
}

/*
 * setresuid(2) (uids) or setresgid(2): a new value (not -1) must be one of
 * the three current ones unless the process has CAP_SETUID (CAP_SETGID);
 * the fs id follows the effective one. When nothing changes, Linux returns
 * before it fixes the capabilities.
 */
static int setres(struct um_proc *p, bool uids, uint32_t r, uint32_t e, uint32_t s)
{
	struct um_cred old, *c = &p->cred;
	uint32_t *const ids[4] = {uids ? &c->uid : &c->gid, uids ? &c->euid : &c->egid,
				  uids ? &c->suid : &c->sgid, uids ? &c->fsuid : &c->fsgid};
	const uint32_t want[3] = {r, e, s};
	bool same = true, held = true;
	int err = 0;

	pthread_mutex_lock(&p->cred_lock);
	old = *c;
	for (int i = 0; i < 3; i++) {
		same = same && (want[i] == UID_INVALID || want[i] == *ids[i]);
		held = held && id_held(want[i], *ids[0], *ids[1], *ids[2]);
	}
	if (!same && !held && !cred_capable(&old, uids ? UM_CAP_SETUID : UM_CAP_SETGID))
		err = -EPERM;
	if (!same && !err) {
		for (int i = 0; i < 3; i++)
			if (want[i] != UID_INVALID)
				*ids[i] = want[i];
		*ids[3] = *ids[1];
		if (uids)
			cap_fix_setuid(c, &old);
	}
	pthread_mutex_unlock(&p->cred_lock);
	return err;
}

int um_setresuid(struct um_proc *p, uint32_t ruid, uint32_t euid, uint32_t suid)
{
	return setres(p, true, ruid, euid, suid);
}

int um_setresgid(struct um_proc *p, uint32_t rgid, uint32_t egid, uint32_t sgid)
{
	return setres(p, false, rgid, egid, sgid);
}

uint32_t um_umask(struct um_proc *p, uint32_t mask)
{
	uint32_t old;

	pthread_mutex_lock(&p->cred_lock);
	old = p->cred.umask;
	p->cred.umask = mask & 0777;
	pthread_mutex_unlock(&p->cred_lock);
	return old;
}

/*
 * cap_bprm_creds_from_file for a program with no file capabilities, no
 * set-id bits and no inheritable or ambient capabilities in play.
 */
void cred_exec(struct um_proc *p)
{
	struct um_cred *c = &p->cred;

	pthread_mutex_lock(&p->cred_lock);
	c->cap_permitted = c->uid == 0 || c->euid == 0 ? c->cap_bset : 0;
	c->cap_effective = c->euid == 0 ? c->cap_permitted : 0;
	c->suid = c->fsuid = c->euid;
	c->sgid = c->fsgid = c->egid;
	pthread_mutex_unlock(&p->cred_lock);
}
