/*
 * backend.h: what the runner asks of a back end. A back end runs the
 * system calls and accesses of one scenario run: `sim` on the usermm
 * library, `kernel` on real Linux processes. The runner resolves every
 * argument to numbers first, so back ends never see symbols; they answer
 * with raw values (errno numbers, signals, bytes, /proc records), and the
 * runner prints them.
 */
#ifndef USERMM_TOOL_BACKEND_H
#define USERMM_TOOL_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "procparse.h"
#include "script.h"
#include "util.h"

/*
 * The tool's own limits, which no call of a scenario has: the longest byte
 * string a command carries (load, read, pread, cat and disk return; store,
 * write and pwrite pass), and the most pages a pagemap prints, or the
 * vector of a mincore that succeeds (mincore itself runs on any range). A
 * command beyond them is not answered with an errno: the runner stops the
 * run with a message naming the limit.
 */
#define BE_MAX_BYTES (1u << 20)
#define BE_MAX_PAGES (1u << 20)

struct backend;
struct be_proc;

/* One call, arguments resolved. */
struct be_call {
	enum op op;
	uint64_t a[6];	  /* the numeric arguments in signature order */
	const void *data; /* store, write, pwrite, file CONTENT: the bytes */
	size_t dlen;
	const char *path; /* file, open, cat, disk */
	const char *words[6]; /* meminfo, vmstat: the names given, by argument position */
	bool has_content; /* file: CONTENT given (else a[2] is the byte, when nopt) */
	bool offsets;	  /* file: every 8-byte word holds its offset (le64) */
	int nargs;	  /* arguments given (optional ones count) */
};

enum res_kind {
	RK_OK,	  /* success with nothing to say: "ok" */
	RK_VAL,	  /* a value: val */
	RK_ERR,	  /* an errno: err */
	RK_SIG,	  /* a signal: signo, code, addr */
	RK_BYTES, /* a byte string: bytes */
	RK_TEXT,  /* a line already formatted by the back end: bytes */
	RK_NA,	  /* this back end cannot answer */
	RK_UNAVAILABLE, /* config: this machine cannot give it (bytes: why); the run stops */
	RK_LIMIT, /* the answer is beyond the tool's limits (BE_MAX_*); the run stops */
	RK_DIED,  /* the process is gone (the kernel driver died) */
};

/*
 * One event of the sim's log (`events all`), as um_set_event_handler
 * reported it; the runner names the process and prints the address.
 */
enum be_event_type {
	BE_EV_FAULT_MINOR = 1,
	BE_EV_FAULT_MAJOR,
	BE_EV_COW,
	BE_EV_WRITEBACK,
	BE_EV_EVICT,
	BE_EV_OOM_KILL,
	BE_EV_SWAP_OUT,
	BE_EV_SWAP_IN,
	BE_EV_NTYPES
};

struct be_event {
	enum be_event_type type;
	struct be_proc *proc; /* NULL: none, or a process gone since (then pid) */
	int pid;
	uint64_t addr;
	uint64_t pfn;	      /* UINT64_MAX: none */
	uint64_t index;	      /* page-cache events: the page's index in the file; swap: the slot */
	uint64_t ino;	      /* swap events: the swap device's type */
	char *path;	      /* page-cache events: the file, relative to the sandbox, or NULL */
};

struct be_res {
	enum res_kind kind;
	uint64_t val;
	int err;
	int signo;
	int code;
	uint64_t addr;
	struct sbuf bytes;
	int sent; /* a signal the call sent the process (SIGXFSZ), or 0 */
	/*
	 * What the call left in memory can differ between hosts that run the
	 * same Linux: a read or write whose buffer maps the bytes it moves
	 * (set by the sim, which knows the mappings; usermm fuzz compares
	 * transcripts only up to such a call).
	 */
	bool host_dependent;
	/* events all: the events one by one (owned), and how many more were not kept */
	struct be_event *events;
	size_t nevents;
	uint64_t events_dropped;
};

/* What /proc shows of a process, restricted to the scenario's own mappings. */
struct be_ops {
	const char *name;
	/* A back end for one run. Returns 0, or -1 with a message in err. */
	int (*open)(struct backend **out, struct sbuf *err);
	void (*close)(struct backend *be);
	/* config KEY=VALUE before the first process; RK_OK, RK_ERR or RK_NA in res. */
	void (*config)(struct backend *be, const char *key, uint64_t val, struct be_res *res);
	uint32_t (*page_size)(struct backend *be);
	int (*proc_new)(struct backend *be, struct be_proc **out, struct sbuf *err);
	/* fork: RK_OK with *child set, or an error result. */
	void (*fork)(struct backend *be, struct be_proc *parent, struct be_proc **child,
		     struct be_res *res);
	void (*exec)(struct backend *be, struct be_proc *p, struct be_res *res);
	/* Ends p and frees it; its mappings are gone when this returns. */
	void (*exit)(struct backend *be, struct be_proc *p, struct be_res *res);
	/* The top of p's mmap area. */
	uint64_t (*top)(struct backend *be, struct be_proc *p);
	/* Every other command; p is NULL for CF_NO_PROC commands run outside a process. */
	void (*call)(struct backend *be, struct be_proc *p, const struct be_call *c,
		     struct be_res *res);
	/* maps (smaps: with the smaps fields) of the scenario's mappings: 0 or -errno. */
	int (*maps)(struct backend *be, struct be_proc *p, bool smaps, struct vma_list *out);
	int (*status)(struct backend *be, struct be_proc *p, struct status_info *out);
	/* n pagemap entries from the page at addr: 0 or -errno. */
	int (*pagemap)(struct backend *be, struct be_proc *p, uint64_t addr, uint64_t n,
		       uint64_t *out);
	/* The frame number of the shared zero page, or UINT64_MAX when unknown. */
	uint64_t (*zero_pfn)(struct backend *be);
	/*
	 * How many page-table entries map frame pfn (a pagemap frame number),
	 * as /proc/kpagecount counts them: >= 0, or -errno when it cannot be known.
	 */
	int64_t (*mapcount)(struct backend *be, uint64_t pfn);
	/*
	 * Did the back end's OOM killer kill p (it waits for exit)? NULL when
	 * the back end has none of its own (kernel: the driver just dies).
	 */
	bool (*killed)(struct backend *be, struct be_proc *p);
	/* The run's sandbox directory (host path), or NULL before there is one. */
	const char *(*sandbox)(struct backend *be);
};

extern const struct be_ops be_sim;
extern const struct be_ops be_kernel;

void be_res_init(struct be_res *r);
void be_res_free(struct be_res *r);
void be_res_err(struct be_res *r, int err);
/* check's answer: ok when the first byte that differs is at len (none does), else where. */
void check_result(struct be_res *r, uint64_t len, uint64_t differs);
/* getrlimit's answer, as both back ends print it: "SOFT HARD". */
void be_res_rlimit(struct be_res *r, uint64_t soft, uint64_t hard);
/* A signed decimal, as /proc prints oom_score_adj and oom_score. */
void be_res_int(struct be_res *r, int64_t v);
/* fstat's answer, as both back ends print it: "mode 0100644 uid 0 gid 0 size 10". */
void be_res_stat(struct be_res *r, uint32_t mode, uint32_t uid, uint32_t gid, uint64_t size);

#endif /* USERMM_TOOL_BACKEND_H */
