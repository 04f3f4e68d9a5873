/*
 * anon_fork: the shared anonymous mapping across fork, from The Linux
 * Programming Interface ch. 49 (seed 002_61f4df198996beed.txt), written
 * against the usermm API. The parent maps one int of shared anonymous
 * memory and sets it to 1; the child prints it, increments it, unmaps it
 * and exits; the parent then sees the child's 2.
 *
 * In the seed, `(*addr)++` is one load and one store through the MMU; here
 * they are um_load and um_store, and the "wait" is that the child runs to
 * its exit before the parent goes on.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "usermm.h"

static void fail(const char *what, int err)
{
	fprintf(stderr, "anon_fork: %s: %s\n", what, strerror(-err));
	exit(1);
}

static void segv(const char *what, const struct um_siginfo *si)
{
	fprintf(stderr, "anon_fork: %s: signal %d code %d at %#" PRIx64 "\n", what, si->signo,
		si->code, si->addr);
	exit(1);
}

int main(void)
{
	struct um_config cfg;
	struct um_system *sys;
	struct um_proc *parent, *child;
	struct um_siginfo si;
	uint64_t value;
	int64_t addr;
	int err;

	um_config_init(&cfg);
	cfg.phys_bytes = 64ULL << 20;
	err = um_system_new(&cfg, &sys);
	if (err)
		fail("um_system_new", err);
	err = um_proc_new(sys, &parent);
	if (err)
		fail("um_proc_new", err);

	addr = um_mmap(parent, 0, sizeof(int), UM_PROT_READ | UM_PROT_WRITE,
		       UM_MAP_SHARED | UM_MAP_ANONYMOUS, -1, 0);
	if (addr < 0)
		fail("mmap", (int)addr);
	if (um_store(parent, (uint64_t)addr, sizeof(int), 1, &si))
		segv("store", &si);

	err = um_fork(parent, &child);
	if (err)
		fail("fork", err);

	/* The child runs first, to its exit; then the parent's wait returns. */
	if (um_load(child, (uint64_t)addr, sizeof(int), &value, &si))
		segv("child load", &si);
	printf("Child started, value = %d\n", (int)value);
	if (um_store(child, (uint64_t)addr, sizeof(int), value + 1, &si))
		segv("child store", &si);
	err = um_munmap(child, (uint64_t)addr, sizeof(int));
	if (err)
		fail("munmap", err);
	um_exit(child);

	if (um_load(parent, (uint64_t)addr, sizeof(int), &value, &si))
		segv("parent load", &si);
	printf("In parent, value = %d\n", (int)value);
	err = um_munmap(parent, (uint64_t)addr, sizeof(int));
	if (err)
		fail("munmap", err);
	um_exit(parent);
	um_system_free(sys);
	return 0;
}
