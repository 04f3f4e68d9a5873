/*
 * script.h: the scenario language as data: the command table, the parsed
 * form of a line, and the parser's interface.
 *
 * Parsing is pure: it reads a buffer and returns a struct script or one
 * diagnostic, touching no file, no back end and no global state, so it can
 * run under a fuzzer. It also checks everything that can be known without
 * running: commands and their arguments, process names (proc, fork, exit)
 * and which symbols each process has, because a script has no control flow.
 * The same checks run one line at a time for the shell, against a scope
 * that lives across lines.
 */
#ifndef USERMM_TOOL_SCRIPT_H
#define USERMM_TOOL_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "names.h"

enum op {
	OP_NONE,
	OP_MMAP,
	OP_MUNMAP,
	OP_MPROTECT,
	OP_MSYNC,
	OP_MREMAP,
	OP_MADVISE,
	OP_MINCORE,
	OP_MLOCK,
	OP_MUNLOCK,
	OP_MLOCKALL,
	OP_MUNLOCKALL,
	OP_BRK,
	OP_REMAP_FILE_PAGES,
	OP_FILE,
	OP_OPEN,
	OP_CLOSE,
	OP_READ,      /* read FD LEN: bytes into the runner */
	OP_READ_USER, /* read FD ADDR LEN: into the process's memory */
	OP_PREAD,
	OP_WRITE,      /* write FD "STR" */
	OP_WRITE_USER, /* write FD ADDR LEN */
	OP_PWRITE,
	OP_LSEEK,
	OP_FTRUNCATE,
	OP_FSYNC,
	OP_FDATASYNC,
	OP_FSTAT,
	OP_CHMOD,
	OP_FCHMOD,
	OP_CHOWN,
	OP_FCHOWN,
	OP_UMASK,
	OP_CAT,
	OP_LOAD8,
	OP_LOAD16,
	OP_LOAD32,
	OP_LOAD64,
	OP_STORE8,
	OP_STORE16,
	OP_STORE32,
	OP_STORE64,
	OP_LOAD,
	OP_STORE,
	OP_FILL,
	OP_TOUCH,
	OP_FORK,
	OP_EXEC,
	OP_EXIT,
	OP_SETRLIMIT,
	OP_GETRLIMIT,
	OP_OOM_SCORE_ADJ,
	OP_OOM_SCORE,
	OP_SETUID,
	OP_SETGID,
	OP_SETRESUID,
	OP_SETRESGID,
	OP_MAPS,
	OP_SMAPS,
	OP_PAGEMAP,
	OP_STATUS,
	OP_DISK,
	OP_MEMINFO,
	OP_HUGEPAGES,
	OP_RECLAIM,
	OP_EVENTS,
	OP_VMSTAT,
	OP_CHECK,
	OP_SLEEP,
	OP_SWAPON,
	OP_SWAPOFF,
	OP_COUNT
};

/* Flags of a command (struct cmd_spec.flags). */
#define CF_BIND_ADDR 0x1  /* the result is an address; a symbol gets its range */
#define CF_BIND_NUM  0x2  /* the result is a number that may be bound */
#define CF_SIM_ONLY  0x4  /* only the sim back end answers; diff ignores it */
#define CF_NO_PROC   0x8  /* may run before any process exists */
#define CF_SOME_ARGS 0x10 /* the optional arguments may be given in any number, not all or none */

/*
 * One command: its name, its arguments as a signature string, one letter
 * per argument, arguments after '[' optional as a group:
 *   A address   L length (hex)   O mmap offset (hex)   N count/offset (decimal)
 *   V value     D descriptor     B byte                 M mode (octal)
 *   S string    H path           I process name         W read|write
 *   X byte or string                   U resource limit (a number, or unlimited)
 *   p PROT_*  f MAP_*  s MS_*  r MREMAP_*  a MADV_*  c MCL_*  l MLOCK_*  o O_*  w SEEK_*
 *   u RLIMIT_*
 */
struct cmd_spec {
	const char *name;
	enum op op;
	const char *sig;
	unsigned flags;
	const char *usage; /* "mmap ADDR LEN PROT FLAGS [FD OFF]" */
	const char *help;  /* one line */
};

/* The command table, in the order help lists it. */
const struct cmd_spec *cmd_table(size_t *n);

enum arg_type {
	AT_ADDR,
	AT_LEN,
	AT_OFF,
	AT_NUM,
	AT_VAL,
	AT_FD,
	AT_BYTE,
	AT_MODE,
	AT_FLAGS,
	AT_STR,
	AT_PATH,
	AT_NAME,
	AT_TOUCH,
	AT_ALL,	  /* events all */
	AT_FIELD, /* a meminfo field or vmstat counter name: str */
	AT_BYTE_OR_STR,
	AT_LIMIT,
};

/* A number or an address: [SYM] [+|-] [NUM[K|M|G|P]], or NULL. */
struct expr {
	char *sym;    /* NULL: no symbol */
	uint64_t num; /* magnitude of the number part */
	bool neg;     /* the number is subtracted */
	bool pages;   /* num counts pages of the run's page size */
	bool null;    /* the word NULL */
};

/* Parses s[0..n) as one expression word; returns 0, or -1 when it is not one. */
int expr_parse(const char *s, size_t n, struct expr *out);
void expr_free(struct expr *e);

struct arg {
	enum arg_type type;
	int col;	   /* 1-based column of the word */
	struct expr e;	   /* numeric and address arguments */
	enum flag_kind fk; /* AT_FLAGS */
	uint64_t flags;	   /* AT_FLAGS */
	char *str;	   /* AT_STR, AT_PATH, AT_NAME, and X as a string: NUL-terminated */
	size_t slen;	   /* bytes of str (a string may hold NULs) */
	bool is_str;	   /* AT_BYTE_OR_STR: the string form */
	bool offsets;	   /* AT_BYTE_OR_STR: the word offsets (each 8-byte word its offset) */
	bool write;	   /* AT_TOUCH: write */
};

#define MAX_ARGS 6

enum line_kind {
	LK_BLANK,  /* empty or comment */
	LK_SELECT, /* "p:" alone: makes p current */
	LK_PROC,   /* proc NAME */
	LK_CMD,
	LK_ECHO,
	LK_CONFIG,
};

struct cfg_item {
	char *key;
	struct expr val;
	int col;
};

struct line {
	int lineno;
	enum line_kind kind;
	char *proc;		     /* the process the line runs in; NULL when none */
	char *bind;		     /* SYM of "SYM = COMMAND", or NULL */
	const struct cmd_spec *spec; /* LK_CMD */
	int nargs;
	struct arg args[MAX_ARGS];
	char *expect; /* the text after "=>", normalised; or NULL */
	int expect_col;
	char *text;	      /* LK_ECHO: the text */
	struct cfg_item *cfg; /* LK_CONFIG */
	size_t ncfg;
	char *src; /* the source line, for messages */
};

struct script {
	char *file;
	struct line *lines;
	size_t nlines;
};

/* A parse error: FILE:LINE:COL: MSG, then the source line and a caret. */
struct diag {
	char *file;
	int line;
	int col;
	char *msg;
	char *src;
};

void diag_free(struct diag *d);
/* Prints d in the FILE:LINE:COL form with the source line and a caret under COL. */
void diag_print(FILE *f, const struct diag *d);

/*
 * Parses and checks buf[0..len) (the contents of file; it may hold any
 * bytes). Returns 0 and a script in *out, or -1 with the first error in
 * *d (free it with diag_free). Never reads past len; never aborts but on
 * out of memory.
 */
int script_parse(const char *file, const char *buf, size_t len, struct script **out,
		 struct diag *d);
void script_free(struct script *s);

/* What the checker knows between lines: processes, their symbols, the current one. */
struct scope;

struct scope *scope_new(void);
void scope_free(struct scope *sc);
/* The current process's name, or NULL. */
const char *scope_current(const struct scope *sc);

/*
 * Parses and checks one line (text[0..len), no newline) against sc. On
 * success fills *out and applies the line to sc (a new process, a symbol);
 * on error returns -1 with *d set and leaves sc unchanged.
 */
int line_parse(struct scope *sc, const char *file, int lineno, const char *text, size_t len,
	       struct line *out, struct diag *d);
void line_free(struct line *l);

#endif /* USERMM_TOOL_SCRIPT_H */
