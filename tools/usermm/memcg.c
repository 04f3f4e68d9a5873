/*
 * memcg.c: the memory cgroup of a kernel run with `config phys=N` (see
 * memcg.h). The machine's memory is not the scenario's to set, but a
 * memory cgroup limited to N bytes makes Linux reclaim, and at the end
 * OOM-kill, as a machine of N bytes would: only the data, the signals and
 * the OOM killer's victim can be compared; what is resident, and when,
 * depends on reclaim order (docs/scenario-language.md, Back ends).
 *
 * The cgroup is a child of the runner's own in the memory hierarchy:
 *   v1: the hierarchy mounted with the memory controller;
 *       memory.limit_in_bytes = N, memory.memsw.limit_in_bytes = N (no swap
 *       on top, where swap is accounted);
 *   v2: the unified hierarchy where its memory controller is given to the
 *       runner's cgroup's children (cgroup.subtree_control);
 *       memory.max = N, memory.swap.max = 0.
 * Its name is usermm-PID (the runner's pid): a run makes one at most, and
 * removes it at its end (k_close), also when the run failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memcg.h"

/* Writes s to dir/name. 0 or -errno. */
static int cg_write(const char *dir, const char *name, const char *s)
{
	char path[4200];
	int fd, err = 0;
	size_t n = strlen(s);

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, s, n) != (ssize_t)n)
		err = -errno;
	close(fd);
	return err;
}

/* Reads dir/name (up to n-1 bytes) into buf. 0 or -errno. */
static int cg_read(const char *dir, const char *name, char *buf, size_t n)
{
	char path[4200];
	ssize_t r;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = read(fd, buf, n - 1);
	close(fd);
	if (r < 0)
		return -errno;
	buf[r] = '\0';
	return 0;
}

/* Is word one of the words of list (separated by any of seps)? */
static bool has_word(const char *list, const char *word, const char *seps)
{
	size_t n = strlen(word);

	for (const char *p = list; *p;) {
		size_t k = strcspn(p, seps);

		if (k == n && !memcmp(p, word, n))
			return true;
		p += k;
		p += strspn(p, seps);
	}
	return false;
}

/*
 * The runner's memory cgroup, from /proc/self/cgroup: the path in the v1
 * hierarchy with the memory controller (v1 true), else in the unified one.
 */
static int own_cgroup(char *path, size_t n, bool *v1)
{
	FILE *f = fopen("/proc/self/cgroup", "r");
	char line[4200];
	int found = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		if (!c2)
			continue;
		*c2 = '\0';
		c2[1 + strcspn(c2 + 1, "\n")] = '\0';
		if (has_word(c1 + 1, "memory", ",")) {
			snprintf(path, n, "%s", c2 + 1);
			*v1 = true;
			found = 0;
			break;
		}
		if (c1 == line + 1 && line[0] == '0' && c1[1] == '\0') {
			snprintf(path, n, "%s", c2 + 1);
			*v1 = false;
			found = 0;
		}
	}
	fclose(f);
	return found;
}

/*
 * The directory of cgroup path in the hierarchy (v1: the cgroup mount
 * with the memory option; v2: the cgroup2 mount), from mountinfo: its
 * mount point and the part of path below the mount's root.
 */
static int cgroup_dir(const char *path, bool v1, char *out, size_t n)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[8192];
	int found = -1;

	if (!f)
		return -1;
	while (found && fgets(line, sizeof(line), f)) {
		char root[4096], mnt[4096], type[64], opts[1024];
		char *dash = strstr(line, " - ");
		size_t rl;

		if (!dash || sscanf(line, "%*s %*s %*s %4095s %4095s", root, mnt) != 2 ||
		    sscanf(dash + 3, "%63s %*s %1023s", type, opts) != 2)
			continue;
		if (v1 ? strcmp(type, "cgroup") || !has_word(opts, "memory", ",")
		       : strcmp(type, "cgroup2"))
			continue;
		rl = strcmp(root, "/") ? strlen(root) : 0;
		if (strncmp(path, root, rl) || (path[rl] && path[rl] != '/'))
			continue;
		if ((size_t)snprintf(out, n, "%s%s", mnt, path + rl) < n)
			found = 0;
	}
	fclose(f);
	return found;
}

/* v2: are the memory controller's files given to parent's children? */
static int v2_memory_for_children(const char *parent)
{
	char buf[512];
	int err;

	if (cg_read(parent, "cgroup.controllers", buf, sizeof(buf)) ||
	    !has_word(buf, "memory", " \n"))
		return -ENOENT;
	if (!cg_read(parent, "cgroup.subtree_control", buf, sizeof(buf)) &&
	    has_word(buf, "memory", " \n"))
		return 0;
	/* Only where the runner's cgroup has no processes of its own (or is the root). */
	err = cg_write(parent, "cgroup.subtree_control", "+memory");
	return err;
}

int memcg_create(struct memcg *cg, uint64_t limit, struct sbuf *err)
{
	char own[4096], parent[4096], num[32];
	bool v1 = false;
	int e, made;

	if (cg->dir[0]) {
		/* A second config phys: the cgroup is there, its limit changes. */
		memcg_destroy(cg);
	}
	if (own_cgroup(own, sizeof(own), &v1) || cgroup_dir(own, v1, parent, sizeof(parent))) {
		sb_puts(err, "no memory cgroup controller is mounted");
		return -1;
	}
	if (!v1 && (e = v2_memory_for_children(parent))) {
		sb_printf(err, "the memory controller is not available under %s: %s", parent,
			  strerror(-e));
		return -1;
	}
	cg->v2 = !v1;
	if ((size_t)snprintf(cg->dir, sizeof(cg->dir), "%s/usermm-%d", parent, (int)getpid()) >=
	    sizeof(cg->dir)) {
		sb_printf(err, "the cgroup path under %s is too long", parent);
		cg->dir[0] = '\0';
		return -1;
	}
	made = mkdir(cg->dir, 0755);
	if (made && errno == EEXIST) {
		/* Left by an earlier process of this pid that could not finish. */
		char keep[sizeof(cg->dir)];

		memcpy(keep, cg->dir, sizeof(keep));
		memcg_destroy(cg);
		memcpy(cg->dir, keep, sizeof(keep));
		made = mkdir(cg->dir, 0755);
	}
	if (made) {
		sb_printf(err, "mkdir %s: %s", cg->dir, strerror(errno));
		cg->dir[0] = '\0';
		return -1;
	}
	snprintf(num, sizeof(num), "%" PRIu64, limit);
	if (v1) {
		e = cg_write(cg->dir, "memory.limit_in_bytes", num);
		/* memsw exists only where swap is accounted; without it there is none to limit. */
		if (!e && (e = cg_write(cg->dir, "memory.memsw.limit_in_bytes", num)) == -ENOENT)
			e = 0;
	} else {
		e = cg_write(cg->dir, "memory.max", num);
		if (!e && (e = cg_write(cg->dir, "memory.swap.max", "0")) == -ENOENT)
			e = 0;
	}
	if (e) {
		sb_printf(err, "cannot limit %s to %s bytes: %s", cg->dir, num, strerror(-e));
		memcg_destroy(cg);
		return -1;
	}
	return 0;
}

int memcg_enter(const struct memcg *cg)
{
	char pid[32];

	if (!cg->dir[0])
		return 0;
	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	return cg_write(cg->dir, "cgroup.procs", pid);
}

int memcg_leave(const struct memcg *cg)
{
	char parent[sizeof(cg->dir)], pid[32];
	char *slash;

	if (!cg->dir[0])
		return 0;
	memcpy(parent, cg->dir, sizeof(parent));
	slash = strrchr(parent, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	return cg_write(parent, "cgroup.procs", pid);
}

int64_t memcg_usage(const struct memcg *cg)
{
	char buf[64];
	int e = cg_read(cg->dir, cg->v2 ? "memory.current" : "memory.usage_in_bytes", buf,
			sizeof(buf));

	return e ? e : (int64_t)strtoull(buf, NULL, 10);
}

int memcg_reclaim(const struct memcg *cg, uint64_t bytes)
{
	char num[32];

	if (!cg->v2)
		return cg_write(cg->dir, "memory.force_empty", "0");
	snprintf(num, sizeof(num), "%" PRIu64, bytes);
	return cg_write(cg->dir, "memory.reclaim", num);
}

/* SIGKILLs every process in cg (this run's drivers and their children). */
static void kill_members(const struct memcg *cg)
{
	char path[4200];
	FILE *f;
	int pid;

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg->dir);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fscanf(f, "%d", &pid) == 1)
		if (pid > 0)
			kill(pid, SIGKILL);
	fclose(f);
}

void memcg_destroy(struct memcg *cg)
{
	if (!cg->dir[0])
		return;
	/* Up to 2 s: killed processes leave the cgroup once they have exited. */
	for (int i = 0; i < 2000 && rmdir(cg->dir) && errno == EBUSY; i++) {
		kill_members(cg);
		usleep(1000);
	}
	cg->dir[0] = '\0';
}
