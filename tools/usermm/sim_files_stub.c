/*
 * sim_files_stub.c: the sim back end's file commands while the library
 * has no file API (um_open and the rest): each answers ENOSYS. The
 * Makefile builds this file instead of sim_files.c until the library
 * links with um_open.
 */
#include <errno.h>

#include "sim.h"

void sim_file_call(struct backend *be, struct um_proc *p, const struct be_call *c,
		   struct be_res *res)
{
	(void)be;
	(void)p;
	(void)c;
	be_res_err(res, ENOSYS);
}

const char *sim_sandbox(struct backend *be)
{
	(void)be;
	return NULL;
}
