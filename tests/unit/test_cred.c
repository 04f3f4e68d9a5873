/*
 * Credentials and file permissions: a process's uids, gids, capabilities
 * and umask (um_proc_cred, um_setuid ...), and what they allow: open's
 * checks of the mode bits and of every directory on the path, O_CREAT's
 * owner and mode, chmod and chown, and the capabilities that override
 * them (and mlock's limit, which CAP_IPC_LOCK lifts).
 *
 * Every answer asserted here is what Linux 6.18 gives a process with the
 * same credentials: the kernel back end's driver as root without
 * capabilities, or with the library's privileged set (config privileged=1),
 * through the scenarios of tests/diff/cred_*.ums, which run each case on
 * both back ends.
 *
 * Files are made through the library by a process whose credentials the
 * test set, so their owners do not depend on who runs the test.
 */
#include "harness.h"

#define CAP(n) (1ULL << UM_CAP_##n)

/* Gives p these ids in every field, these capabilities (effective, permitted, bounding). */
static void set_ids(struct um_proc *p, uint32_t uid, uint32_t gid, uint64_t caps)
{
	struct um_cred c;

	um_proc_cred(p, &c);
	c.uid = c.euid = c.suid = c.fsuid = uid;
	c.gid = c.egid = c.sgid = c.fsgid = gid;
	c.cap_effective = c.cap_permitted = c.cap_bset = caps;
	assert_ret(um_proc_set_cred(p, &c), 0);
}

/* Lets every uid reach and make files in the sandbox (its owner, the host program, may). */
static void open_up(struct env *e)
{
	struct um_proc *q = new_proc(e);

	assert_ret(um_chmod(q, ".", 0777), 0);
	um_exit(q);
}

static struct um_cred cred_of(struct um_proc *p)
{
	struct um_cred c;

	um_proc_cred(p, &c);
	return c;
}

/*
 * Makes name with mode for uid:gid (mode taken whole: umask 0), and closes
 * it; CAP_DAC_OVERRIDE lets it write in any directory.
 */
static void make_file(struct env *e, const char *name, uint32_t mode, uint32_t uid, uint32_t gid)
{
	struct um_proc *q = new_proc(e);
	int fd;

	set_ids(q, uid, gid, CAP(DAC_OVERRIDE));
	um_umask(q, 0);
	fd = um_open(q, name, UM_O_RDWR | UM_O_CREAT | UM_O_EXCL, mode);
	if (fd < 0)
		fail_msg("making %s %#o for %u:%u: %d", name, mode, uid, gid, fd);
	um_exit(q);
}

static uint32_t mode_of(struct env *e, const char *name)
{
	struct um_proc *q = new_proc(e);
	struct um_stat st;
	int fd;

	set_ids(q, 0, 0, UM_CAP_PRIVILEGED);
	fd = um_open(q, name, UM_O_RDONLY, 0);
	assert_true(fd >= 0);
	assert_ret(um_fstat(q, fd, &st), 0);
	um_exit(q);
	return st.st_mode;
}

/* ------------------------------------------------------- credentials */

static void new_process_has_host_ids_umask_022_and_no_capabilities(void **state)
{
	struct env *e = boot_default(state);
	struct um_cred c = cred_of(e->p);

	assert_ret(c.uid, geteuid());
	assert_ret(c.euid, geteuid());
	assert_ret(c.suid, geteuid());
	assert_ret(c.fsuid, geteuid());
	assert_ret(c.gid, getegid());
	assert_ret(c.fsgid, getegid());
	assert_ret(c.umask, 022);
	assert_ret(c.cap_effective | c.cap_permitted | c.cap_bset, 0);
	finish(e);
}

static void privileged_system_gives_every_process_the_privileged_set(void **state)
{
	struct env *e = *state;
	struct um_proc *child;
	struct um_cred c;

	boot_plain(e, 64, 1);
	c = cred_of(e->p);
	assert_ret(c.cap_effective, UM_CAP_PRIVILEGED);
	assert_ret(c.cap_permitted, UM_CAP_PRIVILEGED);
	assert_ret(c.cap_bset, UM_CAP_PRIVILEGED);
	/* fork copies them, changed ones included */
	assert_ret(um_umask(e->p, 077), 022);
	assert_ret(um_fork(e->p, &child), 0);
	c = cred_of(child);
	assert_ret(c.cap_effective, UM_CAP_PRIVILEGED);
	assert_ret(c.umask, 077);
	um_exit(child);
	finish(e);
}

static void set_cred_refuses_invalid_ids_umask_and_capabilities(void **state)
{
	struct env *e = boot_default(state);
	struct um_cred good = cred_of(e->p), c;

	c = good;
	c.fsgid = UINT32_MAX;
	assert_ret(um_proc_set_cred(e->p, &c), -EINVAL);
	c = good;
	c.umask = 01000;
	assert_ret(um_proc_set_cred(e->p, &c), -EINVAL);
	c = good;
	c.cap_bset = 1ULL << 41; /* past CAP_LAST_CAP */
	assert_ret(um_proc_set_cred(e->p, &c), -EINVAL);
	c = good;
	c.cap_effective = CAP(FOWNER); /* not in the permitted set */
	assert_ret(um_proc_set_cred(e->p, &c), -EINVAL);
	c = cred_of(e->p);
	assert_memory_equal(&c, &good, sizeof(c));
	/* umask keeps permission bits only */
	assert_ret(um_umask(e->p, 07777), 022);
	assert_ret(um_umask(e->p, 022), 0777);
	finish(e);
}

static void setuid_without_cap_setuid_reaches_only_real_or_saved_uid(void **state)
{
	struct env *e = boot_default(state);
	struct um_cred c;

	set_ids(e->p, 0, 0, 0); /* root's uid, no capabilities: the kernel driver */
	assert_ret(um_setuid(e->p, 1000), -EPERM);
	assert_ret(um_setgid(e->p, 1000), -EPERM);
	assert_ret(um_setresuid(e->p, 1000, UINT32_MAX, UINT32_MAX), -EPERM);
	assert_ret(um_setuid(e->p, 0), 0);
	assert_ret(um_setuid(e->p, UINT32_MAX), -EINVAL);
	assert_ret(um_setgid(e->p, UINT32_MAX), -EINVAL);
	/* uids 5/6/7: the effective one may move among them */
	set_ids(e->p, 5, 5, 0);
	um_proc_cred(e->p, &c);
	c.euid = c.fsuid = 6;
	c.suid = 7;
	assert_ret(um_proc_set_cred(e->p, &c), 0);
	assert_ret(um_setuid(e->p, 7), 0);
	c = cred_of(e->p);
	assert_ret(c.uid, 5);
	assert_ret(c.euid, 7);
	assert_ret(c.fsuid, 7);
	assert_ret(c.suid, 7);
	assert_ret(um_setuid(e->p, 6), -EPERM); /* the old effective uid is gone */
	assert_ret(um_setresuid(e->p, 7, 5, UINT32_MAX), 0);
	c = cred_of(e->p);
	assert_ret(c.uid, 7);
	assert_ret(c.euid, 5);
	assert_ret(c.fsuid, 5);
	assert_ret(um_setgid(e->p, 5), 0);
	assert_ret(um_setresgid(e->p, UINT32_MAX, 9, UINT32_MAX), -EPERM);
	finish(e);
}

static void leaving_uid_0_drops_capabilities_as_linux_does(void **state)
{
	struct env *e = *state;
	struct um_cred c;

	boot_plain(e, 64, 1);
	/* setgid keeps them; setuid with CAP_SETUID sets all uids */
	assert_ret(um_setgid(e->p, 1000), 0);
	assert_ret(cred_of(e->p).sgid, 1000);
	assert_ret(cred_of(e->p).cap_effective, UM_CAP_PRIVILEGED);
	/* effective uid leaves 0, saved stays 0: permitted kept, effective gone */
	assert_ret(um_setresuid(e->p, 1000, 1000, 0), 0);
	c = cred_of(e->p);
	assert_ret(c.cap_effective, 0);
	assert_ret(c.cap_permitted, UM_CAP_PRIVILEGED);
	assert_ret(um_setuid(e->p, 2000), -EPERM);
	/* back to 0 through the saved uid: the effective set returns */
	assert_ret(um_setuid(e->p, 0), 0);
	c = cred_of(e->p);
	assert_ret(c.euid, 0);
	assert_ret(c.uid, 1000);
	assert_ret(c.cap_effective, UM_CAP_PRIVILEGED);
	/* no uid 0 left: both sets gone for good */
	assert_ret(um_setuid(e->p, 3000), 0);
	c = cred_of(e->p);
	assert_ret(c.uid, 3000);
	assert_ret(c.suid, 3000);
	assert_ret(c.cap_permitted | c.cap_effective, 0);
	assert_ret(c.cap_bset, UM_CAP_PRIVILEGED);
	assert_ret(um_setuid(e->p, 0), -EPERM);
	finish(e);
}

static void exec_gives_uid_0_its_bounding_set_and_others_nothing(void **state)
{
	struct env *e = *state;
	struct um_cred c;

	boot_plain(e, 64, 1);
	/* real uid 0, effective 1000: permitted from the bounding set, not effective */
	assert_ret(um_setresuid(e->p, 0, 1000, 0), 0);
	assert_ret(um_exec(e->p), 0);
	c = cred_of(e->p);
	assert_ret(c.cap_permitted, UM_CAP_PRIVILEGED);
	assert_ret(c.cap_effective, 0);
	assert_ret(c.suid, 1000); /* the saved ids become the effective ones */
	assert_ret(um_setuid(e->p, 0), 0);
	assert_ret(cred_of(e->p).cap_effective, UM_CAP_PRIVILEGED);
	assert_ret(um_exec(e->p), 0);
	assert_ret(cred_of(e->p).cap_effective, UM_CAP_PRIVILEGED);
	/* a process that dropped every capability gets them back from exec as root */
	set_ids(e->p, 0, 0, 0);
	um_proc_cred(e->p, &c);
	c.cap_bset = CAP(IPC_LOCK);
	assert_ret(um_proc_set_cred(e->p, &c), 0);
	assert_ret(um_exec(e->p), 0);
	assert_ret(cred_of(e->p).cap_effective, CAP(IPC_LOCK));
	set_ids(e->p, 1000, 1000, UM_CAP_PRIVILEGED);
	assert_ret(um_exec(e->p), 0);
	assert_ret(cred_of(e->p).cap_permitted, 0);
	finish(e);
}

static void mlock_past_the_limit_needs_cap_ipc_lock_of_the_caller(void **state)
{
	struct env *e = *state;
	uint64_t a;

	boot_plain(e, 64, 1);
	a = MAP(e->p, 4096 * PG, RW, AP, -1, 0); /* 16 MiB: twice RLIMIT_MEMLOCK */
	assert_ret(um_mlock(e->p, a, 4096 * PG), 0);
	assert_ret(um_munlock(e->p, a, 4096 * PG), 0);
	assert_ret(um_setuid(e->p, 1000), 0); /* every capability gone */
	assert_ret(um_mlock(e->p, a, 4096 * PG), -ENOMEM);
	assert_ret(um_mlock(e->p, a, PG), 0);
	/* mmap_min_addr holds again too (CAP_SYS_RAWIO) */
	assert_ret(um_mmap(e->p, PG, PG, RW, AP | UM_MAP_FIXED, -1, 0), -EPERM);
	finish(e);
}

/* ---------------------------------------------------------- open */

static void file_made_0000_opens_once_then_eacces_for_an_unprivileged_owner(void **state)
{
	struct env *e = boot_default(state);

	open_up(e);
	set_ids(e->p, 0, 0, 0);
	/* the open that makes it is not checked */
	assert_ret(um_open(e->p, "f0", UM_O_RDONLY | UM_O_CREAT | UM_O_EXCL, 0), 0);
	assert_ret(um_open(e->p, "f0", UM_O_RDONLY, 0), -EACCES);
	assert_ret(um_open(e->p, "f0", UM_O_WRONLY, 0), -EACCES);
	assert_ret(um_open(e->p, "f0", UM_O_RDWR, 0), -EACCES);
	assert_ret(um_open(e->p, "f0", UM_O_ACCMODE, 0), -EACCES);
	/* O_CREAT of the existing file checks it; O_EXCL answers first */
	assert_ret(um_open(e->p, "f0", UM_O_RDWR | UM_O_CREAT, 0666), -EACCES);
	assert_ret(um_open(e->p, "f0", UM_O_RDWR | UM_O_CREAT | UM_O_EXCL, 0666), -EEXIST);
	assert_ret(mode_of(e, "f0"), S_IFREG | 0);
	/* nothing was installed by the refusals */
	assert_ret(um_open(e->p, "/dev/zero", UM_O_RDONLY, 0), 1);
	finish(e);
}

static void read_only_file_refuses_writing_and_o_trunc_keeps_its_data(void **state)
{
	struct env *e = boot_default(state);
	char b[8];
	int fd;

	open_up(e);
	set_ids(e->p, 0, 0, 0);
	fd = um_open(e->p, "ro", UM_O_RDWR | UM_O_CREAT, 0444);
	assert_ret(fd, 0);
	assert_ret(um_write(e->p, fd, "data", 4), 4); /* the creating descriptor writes */
	assert_ret(um_open(e->p, "ro", UM_O_RDWR, 0), -EACCES);
	assert_ret(um_open(e->p, "ro", UM_O_WRONLY | UM_O_APPEND, 0), -EACCES);
	assert_ret(um_open(e->p, "ro", UM_O_RDONLY | UM_O_TRUNC, 0), -EACCES);
	fd = um_open(e->p, "ro", UM_O_RDONLY, 0);
	assert_ret(fd, 1);
	assert_ret(um_pread(e->p, fd, b, sizeof b, 0), 4);
	assert_bytes(b, "data", 4);
	/* and its mappings follow the descriptor: no shared writable mapping */
	assert_ret(um_mmap(e->p, 0, PG, RW, UM_MAP_SHARED, fd, 0), -EACCES);
	finish(e);
}

static void write_only_file_refuses_reading(void **state)
{
	struct env *e = boot_default(state);

	open_up(e);
	set_ids(e->p, 0, 0, 0);
	assert_ret(um_open(e->p, "wo", UM_O_WRONLY | UM_O_CREAT, 0200), 0);
	assert_ret(um_open(e->p, "wo", UM_O_RDONLY, 0), -EACCES);
	assert_ret(um_open(e->p, "wo", UM_O_RDWR, 0), -EACCES);
	assert_ret(um_open(e->p, "wo", UM_O_WRONLY | UM_O_TRUNC, 0), 1);
	finish(e);
}

/*
 * acl_permission_check: the owner's bits for the owner, whatever the
 * others' are; the group's for a member, but only where they differ from
 * the others' (a member can be refused what others get).
 */
static void owner_group_and_other_bits_by_fsuid_and_fsgid(void **state)
{
	struct env *e = boot_default(state);

	open_up(e);
	set_ids(e->p, 0, 0, CAP(DAC_READ_SEARCH)); /* reaches the files, reads any */
	make_file(e, "f", 0046, 10, 20);
	set_ids(e->p, 10, 99, 0); /* the owner: no bits */
	assert_ret(um_open(e->p, "f", UM_O_RDONLY, 0), -EACCES);
	set_ids(e->p, 11, 20, 0); /* the group: read */
	assert_ret(um_open(e->p, "f", UM_O_RDONLY, 0), 0);
	assert_ret(um_open(e->p, "f", UM_O_WRONLY, 0), -EACCES);
	set_ids(e->p, 11, 21, 0); /* others: read and write */
	assert_ret(um_open(e->p, "f", UM_O_RDWR, 0), 1);
	make_file(e, "g", 0604, 10, 20);
	set_ids(e->p, 11, 20, 0); /* a member is refused what others get */
	assert_ret(um_open(e->p, "g", UM_O_RDONLY, 0), -EACCES);
	set_ids(e->p, 11, 21, 0);
	assert_ret(um_open(e->p, "g", UM_O_RDONLY, 0), 2);
	finish(e);
}

static void capabilities_override_the_mode_bits(void **state)
{
	struct env *e = boot_default(state);

	open_up(e);
	make_file(e, "f", 0, 10, 10);
	set_ids(e->p, 0, 0, CAP(DAC_READ_SEARCH));
	assert_ret(um_open(e->p, "f", UM_O_RDONLY, 0), 0);
	assert_ret(um_open(e->p, "f", UM_O_RDWR, 0), -EACCES);
	set_ids(e->p, 0, 0, CAP(DAC_OVERRIDE));
	assert_ret(um_open(e->p, "f", UM_O_RDWR | UM_O_TRUNC, 0), 1);
	/* a capability in the permitted set only does nothing */
	set_ids(e->p, 0, 0, CAP(DAC_OVERRIDE));
	{
		struct um_cred c = cred_of(e->p);

		c.cap_effective = 0;
		assert_ret(um_proc_set_cred(e->p, &c), 0);
	}
	assert_ret(um_open(e->p, "f", UM_O_RDONLY, 0), -EACCES);
	finish(e);
}

static void every_directory_on_the_path_needs_search_permission(void **state)
{
	struct env *e = boot_default(state);

	set_ids(e->p, 0, 0, 0);
	assert_ret(mkdir(hpath(e, "d"), 0755), 0);
	assert_ret(mkdir(hpath(e, "d/e"), 0755), 0);
	make_file(e, "d/e/f", 0644, geteuid(), getegid());
	assert_ret(um_chmod(e->p, ".", 0711), 0);
	set_ids(e->p, 1000, 1000, 0);
	assert_ret(um_open(e->p, "d/e/f", UM_O_RDONLY, 0), 0);
	set_ids(e->p, geteuid(), getegid(), 0);
	assert_ret(um_chmod(e->p, "d/e", 0700), 0);
	set_ids(e->p, 1000, 1000, 0);
	assert_ret(um_open(e->p, "d/e/f", UM_O_RDONLY, 0), -EACCES);
	assert_ret(um_open(e->p, "d/e/missing", UM_O_RDONLY, 0), -EACCES);
	assert_ret(um_open(e->p, "d/missing/f", UM_O_RDONLY, 0), -ENOENT);
	/* CAP_DAC_READ_SEARCH searches any directory */
	set_ids(e->p, 1000, 1000, CAP(DAC_READ_SEARCH));
	assert_ret(um_open(e->p, "d/e/f", UM_O_RDONLY, 0), 1);
	/* the sandbox itself closed: nothing below it is reached */
	set_ids(e->p, geteuid(), getegid(), 0);
	assert_ret(um_chmod(e->p, ".", 0600), 0);
	assert_ret(um_open(e->p, "d", UM_O_RDONLY, 0), -EACCES);
	assert_ret(um_chmod(e->p, ".", 0700), -EACCES);
	set_ids(e->p, geteuid(), getegid(), CAP(DAC_OVERRIDE));
	assert_ret(um_chmod(e->p, ".", 0700), 0);
	finish(e);
}

static void creating_needs_write_and_search_on_the_directory(void **state)
{
	struct env *e = boot_default(state);

	set_ids(e->p, 0, 0, 0);
	assert_ret(mkdir(hpath(e, "d"), 0755), 0);
	make_file(e, "d/old", 0666, 10, 10);
	assert_ret(um_chmod(e->p, ".", 0755), 0);
	set_ids(e->p, 1000, 1000, 0);
	assert_ret(um_open(e->p, "d/new", UM_O_RDWR | UM_O_CREAT, 0644), -EACCES);
	assert_ret(host_size(e, "d/new"), -ENOENT);
	/* an existing file opens; O_EXCL says it exists before anything else */
	assert_ret(um_open(e->p, "d/old", UM_O_RDWR | UM_O_CREAT, 0600), 0);
	assert_ret(um_open(e->p, "d/old", UM_O_RDWR | UM_O_CREAT | UM_O_EXCL, 0600), -EEXIST);
	assert_ret(mode_of(e, "d/old"), S_IFREG | 0666); /* the mode was ignored */
	/* O_CREAT of a directory, and of a directory to open as one */
	assert_ret(um_open(e->p, "d", UM_O_RDONLY | UM_O_CREAT, 0600), -EISDIR);
	assert_ret(um_open(e->p, "d", UM_O_RDONLY | UM_O_CREAT | UM_O_DIRECTORY, 0600), -EINVAL);
	finish(e);
}

static void directory_opened_to_write_or_truncate_is_eisdir(void **state)
{
	struct env *e = boot_default(state);

	set_ids(e->p, 0, 0, UM_CAP_PRIVILEGED);
	assert_ret(um_open(e->p, ".", UM_O_RDONLY | UM_O_TRUNC, 0), -EISDIR);
	assert_ret(um_open(e->p, ".", UM_O_WRONLY, 0), -EISDIR);
	assert_ret(um_open(e->p, ".", UM_O_RDONLY, 0), 0);
	finish(e);
}

static void new_file_takes_fsuid_fsgid_and_mode_less_umask(void **state)
{
	struct env *e = boot_default(state);
	struct um_stat st;
	int fd;

	set_ids(e->p, 0, 0, UM_CAP_PRIVILEGED);
	assert_ret(um_chmod(e->p, ".", 0777), 0);
	set_ids(e->p, 1000, 2000, 0);
	assert_ret(um_umask(e->p, 027), 022);
	fd = um_open(e->p, "f", UM_O_RDWR | UM_O_CREAT, 07777);
	assert_ret(fd, 0);
	assert_ret(um_fstat(e->p, fd, &st), 0);
	assert_ret(st.st_mode, S_IFREG | 07750);
	assert_ret(st.st_uid, 1000);
	assert_ret(st.st_gid, 2000);
	/* the host file has the same bits, whatever the host program's umask */
	{
		struct stat hs;

		assert_ret(stat(hpath(e, "f"), &hs), 0);
		assert_ret(hs.st_mode, S_IFREG | 07750);
	}
	/* in a directory with S_ISGID: the directory's group; S_ISGID only for its members */
	set_ids(e->p, 0, 0, UM_CAP_PRIVILEGED);
	assert_ret(mkdir(hpath(e, "g"), 0777), 0);
	assert_ret(um_chmod(e->p, "g", 02777), 0);
	set_ids(e->p, 1000, 2000, 0);
	um_umask(e->p, 0);
	fd = um_open(e->p, "g/f", UM_O_RDWR | UM_O_CREAT, 02770);
	assert_ret(um_fstat(e->p, fd, &st), 0);
	assert_ret(st.st_gid, getegid());
	assert_ret(st.st_mode, S_IFREG | (getegid() == 2000 ? 02770 : 0770));
	finish(e);
}

/* ---------------------------------------------------------- chmod */

static void chmod_by_owner_or_cap_fowner_else_eperm(void **state)
{
	struct env *e = boot_default(state);
	struct um_stat st;
	int fd;

	set_ids(e->p, 0, 0, UM_CAP_PRIVILEGED);
	assert_ret(um_chmod(e->p, ".", 0755), 0);
	make_file(e, "f", 0644, 10, 20);
	set_ids(e->p, 10, 30, 0);
	fd = um_open(e->p, "f", UM_O_RDONLY, 0);
	assert_ret(fd, 0);
	assert_ret(um_fchmod(e->p, fd, 0600), 0);
	assert_ret(um_fstat(e->p, fd, &st), 0);
	assert_ret(st.st_mode, S_IFREG | 0600);
	/* S_ISGID outside the file's group is dropped; the other bits stay */
	assert_ret(um_chmod(e->p, "f", 06755 | 0170000), 0);
	assert_ret(um_fstat(e->p, fd, &st), 0);
	assert_ret(st.st_mode, S_IFREG | 04755);
	set_ids(e->p, 11, 20, 0);
	assert_ret(um_chmod(e->p, "f", 0777), -EPERM);
	assert_ret(um_fchmod(e->p, fd, 0777), -EPERM);
	set_ids(e->p, 11, 20, CAP(FOWNER));
	assert_ret(um_chmod(e->p, "f", 02700), 0); /* in the group: S_ISGID stays */
	assert_ret(um_fstat(e->p, fd, &st), 0);
	assert_ret(st.st_mode, S_IFREG | 02700);
	assert_ret(um_chmod(e->p, "missing", 0), -ENOENT);
	assert_ret(um_chmod(e->p, "../x", 0), -EACCES);
	assert_ret(um_chmod(e->p, "", 0), -ENOENT);
	assert_ret(um_fchmod(e->p, 99, 0), -EBADF);
	/* /dev/zero never changes */
	fd = um_open(e->p, "/dev/zero", UM_O_RDWR, 0);
	assert_ret(um_fchmod(e->p, fd, 0600), -EPERM);
	assert_ret(um_fstat(e->p, fd, &st), 0);
	assert_ret(st.st_mode, S_IFCHR | 0666);
	finish(e);
}

static void chown_by_owner_to_its_groups_or_cap_chown_and_drops_set_id_bits(void **state)
{
	struct env *e = boot_default(state);
	struct um_stat st;
	int fd;

	set_ids(e->p, 0, 0, UM_CAP_PRIVILEGED);
	assert_ret(um_chmod(e->p, ".", 0755), 0);
	make_file(e, "f", 06755, 10, 20);
	fd = um_open(e->p, "f", UM_O_RDONLY, 0);
	assert_ret(fd, 0);
	/* root with its capabilities: given away, S_ISUID and S_ISGID (g+x) dropped */
	assert_ret(um_chown(e->p, "f", 30, 40), 0);
	assert_ret(um_fstat(e->p, fd, &st), 0);
	assert_ret(st.st_uid, 30);
	assert_ret(st.st_gid, 40);
	assert_ret(st.st_mode, S_IFREG | 0755);
	/* -1 -1 changes no owner but still drops S_ISUID */
	assert_ret(um_fchmod(e->p, fd, 04755), 0);
	assert_ret(um_fchown(e->p, fd, UINT32_MAX, UINT32_MAX), 0);
	assert_ret(um_fstat(e->p, fd, &st), 0);
	assert_ret(st.st_mode, S_IFREG | 0755);
	/* the owner: to itself, to a group it is in; nothing else */
	set_ids(e->p, 30, 50, 0);
	assert_ret(um_fchown(e->p, fd, 30, UINT32_MAX), 0);
	assert_ret(um_fchown(e->p, fd, UINT32_MAX, 50), 0);
	assert_ret(um_fchown(e->p, fd, UINT32_MAX, 60), -EPERM);
	assert_ret(um_fchown(e->p, fd, 31, UINT32_MAX), -EPERM);
	assert_ret(um_fstat(e->p, fd, &st), 0);
	assert_ret(st.st_uid, 30);
	assert_ret(st.st_gid, 50);
	/* S_ISGID without g+x stays for a member, goes for an outsider */
	assert_ret(um_fchmod(e->p, fd, 02745), 0);
	assert_ret(um_fchown(e->p, fd, 30, 50), 0);
	assert_ret(um_fstat(e->p, fd, &st), 0);
	assert_ret(st.st_mode, S_IFREG | 02745);
	set_ids(e->p, 31, 50, CAP(CHOWN));
	assert_ret(um_fchown(e->p, fd, 32, UINT32_MAX), 0);
	set_ids(e->p, 31, 51, CAP(CHOWN)); /* the mode must change: not the owner, no CAP_FOWNER */
	assert_ret(um_fchown(e->p, fd, 33, UINT32_MAX), -EPERM);
	set_ids(e->p, 31, 51, CAP(CHOWN) | CAP(FOWNER));
	assert_ret(um_fchown(e->p, fd, 33, UINT32_MAX), 0);
	assert_ret(um_fstat(e->p, fd, &st), 0);
	assert_ret(st.st_mode, S_IFREG | 0745);
	assert_ret(um_chown(e->p, "missing", 0, 0), -ENOENT);
	assert_ret(um_fchown(e->p, 99, 0, 0), -EBADF);
	fd = um_open(e->p, "/dev/zero", UM_O_RDONLY, 0);
	assert_ret(um_fchown(e->p, fd, 0, 0), -EPERM);
	finish(e);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, env_setup, env_teardown)
	const struct CMUnitTest tests[] = {
	    T(new_process_has_host_ids_umask_022_and_no_capabilities),
	    T(privileged_system_gives_every_process_the_privileged_set),
	    T(set_cred_refuses_invalid_ids_umask_and_capabilities),
	    T(setuid_without_cap_setuid_reaches_only_real_or_saved_uid),
	    T(leaving_uid_0_drops_capabilities_as_linux_does),
	    T(exec_gives_uid_0_its_bounding_set_and_others_nothing),
	    T(mlock_past_the_limit_needs_cap_ipc_lock_of_the_caller),
	    T(file_made_0000_opens_once_then_eacces_for_an_unprivileged_owner),
	    T(read_only_file_refuses_writing_and_o_trunc_keeps_its_data),
	    T(write_only_file_refuses_reading),
	    T(owner_group_and_other_bits_by_fsuid_and_fsgid),
	    T(capabilities_override_the_mode_bits),
	    T(every_directory_on_the_path_needs_search_permission),
	    T(creating_needs_write_and_search_on_the_directory),
	    T(directory_opened_to_write_or_truncate_is_eisdir),
	    T(new_file_takes_fsuid_fsgid_and_mode_less_umask),
	    T(chmod_by_owner_or_cap_fowner_else_eperm),
	    T(chown_by_owner_to_its_groups_or_cap_chown_and_drops_set_id_bits),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
