/*
 * seed.h: what the seed programs of 002_61f4df198996beed.txt need around
 * them to run on usermm: a machine whose sandbox is a directory of the
 * host, a shell-like way to make the files the seed's terminal session
 * makes, and errExit() that reports a negative errno as perror() would.
 */
#ifndef SEED_H
#define SEED_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "usermm.h"

static inline void errExit(const char *msg, long err)
{
	fprintf(stderr, "%s: %s\n", msg, strerror((int)-err));
	exit(1);
}

/* A machine of 64 MiB with its sandbox in dir (NULL: a fresh temporary one). */
static inline struct um_system *seed_machine(const char *dir)
{
	struct um_config cfg;
	struct um_system *sys;
	int err;

	um_config_init(&cfg);
	cfg.phys_bytes = 64ULL << 20;
	cfg.sandbox_dir = dir;
	err = um_system_new(&cfg, &sys);
	if (err)
		errExit("um_system_new", err);
	return sys;
}

/* `echo 'TEXT' > path` or `dd if=/dev/zero of=path bs=1 count=N`, run in a process of its own. */
static inline void seed_make_file(struct um_system *sys, const char *path, const char *text,
				  size_t zeros)
{
	struct um_proc *sh;
	int fd, err;

	err = um_proc_new(sys, &sh);
	if (err)
		errExit("um_proc_new", err);
	fd = um_open(sh, path, UM_O_WRONLY | UM_O_CREAT | UM_O_TRUNC, 0644);
	if (fd < 0)
		errExit("open", fd);
	if (text) {
		int64_t n = um_write(sh, fd, text, strlen(text));

		if (n < 0)
			errExit("write", n);
	}
	for (size_t i = 0; i < zeros; i++) {
		int64_t n = um_write(sh, fd, "", 1);

		if (n < 0)
			errExit("write", n);
	}
	um_close(sh, fd);
	um_exit(sh);
}

#endif
