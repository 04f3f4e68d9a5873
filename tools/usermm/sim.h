/*
 * sim.h: what the sim back end (backend_sim.c) shares with its file
 * commands (sim_files.c): the back end's state and the one entry point for
 * file commands.
 */
#ifndef USERMM_TOOL_SIM_H
#define USERMM_TOOL_SIM_H

#include "backend.h"
#include "usermm.h"

struct backend {
	struct um_config cfg;
	struct um_system *sys; /* made at the first process or file command */
	uint64_t zero_pfn;
	struct um_sys_stats last; /* counters at the last `events` */
};

struct be_proc {
	struct um_proc *p;
};

/* Makes the system when there is none yet. Returns 0 or a negative errno. */
int sim_system(struct backend *be);

/*
 * Runs a file command (file, open, close, read, write, pread, pwrite,
 * lseek, ftruncate, fsync, fdatasync, fstat, chmod, fchmod, chown,
 * fchown, umask, cat, disk, msync, and read/write with a user buffer) in
 * p (NULL: no process) and fills res.
 */
void sim_file_call(struct backend *be, struct um_proc *p, const struct be_call *c,
		   struct be_res *res);
/* The sandbox directory, or NULL. */
const char *sim_sandbox(struct backend *be);

#endif /* USERMM_TOOL_SIM_H */
