/*
 * libFuzzer target: bytes decoded into a sequence of library calls and
 * memory accesses across up to four processes of one small machine, with
 * um_check() over every invariant after each step, and a second of the
 * machine's clock (the flusher writes back dirty files). Any crash, sanitizer
 * report or broken invariant is a bug.
 *
 * Each step takes bytes from the input: an opcode, a process slot and a
 * few operands (FUZZ_TRACE=1 in the environment prints them as they run).
 * Inputs that found bugs live in tests/fuzz/regressions and run first in
 * every smoke run. Addresses fall in a small window of the address space so
 * that calls meet each other's mappings often.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "usermm.h"

#define PG 4096ULL
#define WINDOW_BASE 0x10000000ULL
#define WINDOW_PAGES 64
#define NPROC 4

struct input {
	const uint8_t *p;
	size_t n;
};

static uint64_t take(struct input *in, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes; i++) {
		v = (v << 8) | (in->n ? *in->p : 0);
		if (in->n) {
			in->p++;
			in->n--;
		}
	}
	return v;
}

static uint64_t addr_of(struct input *in)
{
	uint64_t page = take(in, 1) % WINDOW_PAGES;
	uint64_t off = take(in, 1) & 1 ? take(in, 2) % PG : 0;

	return WINDOW_BASE + page * PG + off;
}

static uint64_t len_of(struct input *in)
{
	return (take(in, 1) % 8 + (take(in, 1) & 3 ? 1 : 0)) * PG + (take(in, 1) & 1 ? 100 : 0);
}

static const int prots[] = { UM_PROT_NONE, UM_PROT_READ, UM_PROT_READ | UM_PROT_WRITE,
			     UM_PROT_READ | UM_PROT_EXEC, 0x10 /* invalid */ };
static const int mflags[] = {
	UM_MAP_PRIVATE | UM_MAP_ANONYMOUS, UM_MAP_SHARED | UM_MAP_ANONYMOUS,
	UM_MAP_PRIVATE | UM_MAP_ANONYMOUS | UM_MAP_FIXED, UM_MAP_SHARED | UM_MAP_ANONYMOUS | UM_MAP_FIXED,
	UM_MAP_PRIVATE | UM_MAP_ANONYMOUS | UM_MAP_FIXED_NOREPLACE, UM_MAP_PRIVATE, UM_MAP_SHARED,
	UM_MAP_PRIVATE | UM_MAP_FIXED, UM_MAP_SHARED | UM_MAP_FIXED,
	UM_MAP_PRIVATE | UM_MAP_ANONYMOUS | UM_MAP_POPULATE | UM_MAP_FIXED,
	UM_MAP_PRIVATE | UM_MAP_ANONYMOUS | UM_MAP_GROWSDOWN | UM_MAP_FIXED,
	UM_MAP_SHARED_VALIDATE | UM_MAP_FIXED, 0,
	UM_MAP_PRIVATE | UM_MAP_ANONYMOUS | UM_MAP_HUGETLB,
	UM_MAP_SHARED | UM_MAP_ANONYMOUS | UM_MAP_HUGETLB,
	UM_MAP_PRIVATE | UM_MAP_ANONYMOUS | UM_MAP_HUGETLB | UM_MAP_NORESERVE,
};
static const int advice[] = { UM_MADV_NORMAL, UM_MADV_DONTNEED, UM_MADV_FREE, UM_MADV_REMOVE,
			      UM_MADV_DONTFORK, UM_MADV_DOFORK, UM_MADV_WIPEONFORK, UM_MADV_WILLNEED,
			      UM_MADV_POPULATE_WRITE, 77 };

#define PICK(arr, in) (arr)[take(in, 1) % (sizeof(arr) / sizeof((arr)[0]))]

static void step(struct um_system *sys, struct um_proc **procs, struct input *in)
{
	unsigned op = (unsigned)take(in, 1) % 24, slot = (unsigned)take(in, 1) % NPROC;
	struct um_proc *p = procs[slot];
	struct um_siginfo si;
	unsigned char buf[3 * PG];
	uint64_t v;

	if (getenv("FUZZ_TRACE"))
		fprintf(stderr, "step: op %u slot %u\n", op, slot);
	if (!p) {
		if (um_proc_new(sys, &procs[slot]) == 0 && procs[slot])
			um_open(procs[slot], "f", UM_O_RDWR | UM_O_CREAT, 0644);
		return;
	}
	switch (op) {
	case 0:
	case 1:
		um_mmap(p, take(in, 1) & 1 ? addr_of(in) : 0, len_of(in), PICK(prots, in),
			PICK(mflags, in), (int)(take(in, 1) % 4), (int64_t)(take(in, 1) % 4) * (int64_t)PG);
		break;
	case 2:
		um_munmap(p, addr_of(in), len_of(in));
		break;
	case 3:
		um_mprotect(p, addr_of(in), len_of(in), PICK(prots, in));
		break;
	case 4:
	case 5:
		um_store(p, addr_of(in), 1u << (take(in, 1) % 4), take(in, 8), &si);
		break;
	case 6:
		um_load(p, addr_of(in), 1u << (take(in, 1) % 4), &v, &si);
		break;
	case 7:
		if (take(in, 1) & 1) {
			struct um_proc *c;

			for (unsigned i = 0; i < NPROC; i++)
				if (!procs[i] && um_fork(p, &c) == 0) {
					procs[i] = c;
					break;
				}
		} else {
			um_exit(p);
			procs[slot] = NULL;
		}
		break;
	case 8:
		um_exec(p);
		break;
	case 9:
		um_mremap(p, addr_of(in), len_of(in), len_of(in), (int)(take(in, 1) % 8),
			  addr_of(in) & ~(PG - 1));
		break;
	case 10:
		um_madvise(p, addr_of(in) & ~(PG - 1), len_of(in), PICK(advice, in));
		break;
	case 11:
		um_mlock(p, addr_of(in), len_of(in));
		break;
	case 12:
		um_munlock(p, addr_of(in), len_of(in));
		break;
	case 13:
		um_msync(p, addr_of(in) & ~(PG - 1), len_of(in), (int)(take(in, 1) % 8));
		break;
	case 14:
		um_mincore(p, addr_of(in) & ~(PG - 1), len_of(in) % (3 * PG), buf);
		break;
	case 15:
		um_brk(p, take(in, 1) ? 0x555555559000ULL + (take(in, 1) % 16) * PG : 0);
		break;
	case 16:
		um_ftruncate(p, (int)(take(in, 1) % 4), (int64_t)(take(in, 1) % 12) * 1000);
		break;
	case 17:
		um_pwrite(p, (int)(take(in, 1) % 4), buf, take(in, 1) * 40, (int64_t)take(in, 2));
		break;
	case 18:
		um_read_user(p, (int)(take(in, 1) % 4), addr_of(in), take(in, 1) * 64);
		break;
	case 19:
		um_write_user(p, (int)(take(in, 1) % 4), addr_of(in), take(in, 1) * 64);
		break;
	case 20:
		um_copy_from(p, buf, addr_of(in), (size_t)(take(in, 2) % sizeof(buf)), &si);
		break;
	case 21:
		um_open(p, take(in, 1) & 1 ? "g" : "/dev/zero", UM_O_RDWR | UM_O_CREAT, 0644);
		break;
	case 22:
		um_close(p, (int)(take(in, 1) % 4));
		break;
	default:
		um_mlockall(p, (int)(take(in, 1) % 8));
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct um_proc *procs[NPROC] = { 0 };
	struct um_config cfg;
	struct um_system *sys;
	char why[256];

	um_config_init(&cfg);
	/* 1024 small frames: running out is part of the game; and two huge pages. */
	cfg.phys_bytes = 8ULL << 20;
	cfg.nr_hugepages = 2;
	cfg.max_map_count = 24;
	/* A second of the clock passes after each step: the flusher writes every fifth. */
	cfg.dirty_expire_centisecs = 300;
	if (um_system_new(&cfg, &sys))
		return 0;
	um_proc_new(sys, &procs[0]);
	um_open(procs[0], "f", UM_O_RDWR | UM_O_CREAT, 0644);
	for (int steps = 0; in.n && steps < 200; steps++) {
		step(sys, procs, &in);
		um_advance_clock(sys, 1000);
		if (um_check(sys, why, sizeof(why))) {
			fprintf(stderr, "um_check after step %d: %s\n", steps, why);
			abort();
		}
	}
	um_system_free(sys);
	return 0;
}
