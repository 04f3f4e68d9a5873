/*
 * alloc.c: every heap allocation of the library goes through here, so that
 * tests can make the n-th one fail (as SQLite's and Lua's test harnesses do).
 *
 * The injector is sys->alloc_faults: while armed, each um_malloc,
 * um_calloc and um_realloc counts one, and so does each page table's
 * frame (pagetable.c asks um_alloc_injected first); the fail_at-th returns NULL (and every later one
 * too when sticky). fail_at 0 only counts. um_free is never refused.
 */
#include <stdlib.h>

#include "host.h"
#include "system.h"

bool um_alloc_injected(struct um_system *sys)
{
	struct alloc_faults *af;
	uint64_t n;

	if (!sys)
		return false;
	af = &sys->alloc_faults;
	if (likely(!af->armed))
		return false;
	n = atomic_fetch_add(&af->count, 1) + 1;
	if (af->fail_at && (n == af->fail_at || (af->sticky && n > af->fail_at))) {
		atomic_fetch_add(&af->failed, 1);
		return true;
	}
	return false;
}

void *um_malloc(struct um_system *sys, size_t n)
{
	if (um_alloc_injected(sys))
		return NULL;
	return malloc(n);
}

void *um_calloc(struct um_system *sys, size_t n, size_t size)
{
	if (um_alloc_injected(sys))
		return NULL;
	return calloc(n, size);
}

void *um_realloc(struct um_system *sys, void *p, size_t n)
{
	if (um_alloc_injected(sys))
		return NULL;
	return realloc(p, n);
}

void um_free(struct um_system *sys, void *p)
{
	(void)sys;
	free(p);
}
