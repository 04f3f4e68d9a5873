/*
 * alloc.c: every heap allocation of the library goes through here, so that
 * tests can make the n-th one fail (as SQLite's and Lua's test harnesses do).
 */
#include <stdlib.h>

#include "internal.h"

void *um_malloc(struct um_system *sys, size_t n)
{
	(void)sys;
	return malloc(n);
}

void *um_calloc(struct um_system *sys, size_t n, size_t size)
{
	(void)sys;
	return calloc(n, size);
}

void um_free(struct um_system *sys, void *p)
{
	(void)sys;
	free(p);
}
