/*
 * sim.h: what the sim back end (backend_sim.c) shares with its file
 * commands (sim_files.c): the back end's state and the one entry point for
 * file commands.
 */
#ifndef USERMM_TOOL_SIM_H
#define USERMM_TOOL_SIM_H

#include "backend.h"
#include "usermm.h"

/* The events the library reported since the last `events` (um_set_event_handler). */
#define SIM_EVENTS_KEPT 1000

struct sim_events {
	uint64_t n[BE_EV_NTYPES];	     /* every event, by type */
	struct um_event ev[SIM_EVENTS_KEPT]; /* the first ones, for `events all` */
	size_t kept;
	uint64_t dropped; /* past SIM_EVENTS_KEPT */
};

/* A scenario process by its pid, for naming the process of an event. */
struct sim_pid {
	int pid;
	struct be_proc *bp;
};

struct backend {
	struct um_config cfg;
	struct um_system *sys; /* made at the first process or file command */
	uint64_t zero_pfn;
	struct sim_events *events; /* since the last `events` */
	struct sim_pid *pids;
	size_t npids;
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
