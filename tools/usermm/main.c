/*
 * main.c: the usermm command line: `run`, `diff`, `shell`, `info`, `help`,
 * `--help` and `--version`. It reads scripts, parses them (every script
 * before anything runs), hands them to the runner, and prints transcripts,
 * JSON or diffs. Exit status: 0 success, 1 a failed expectation, a
 * difference or a back end failure, 2 a bad script or bad arguments.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "runner.h"
#include "shell.h"
#include "usermm.h"

#define MAX_SCRIPT_BYTES (64u << 20)
/* A script this machine cannot run (a kernel pool it cannot have): skipped, as automake's 77. */
#define EXIT_UNAVAILABLE 77

static void usage(FILE *out)
{
	fprintf(out, "usage: usermm COMMAND [ARGS]\n"
		     "\n"
		     "commands:\n"
		     "  run SCRIPT... [--backend sim|kernel] [--json]\n"
		     "              run scenario scripts and print their transcripts\n"
		     "  diff SCRIPT... [--json]\n"
		     "              run each script on both back ends and print the differences\n"
		     "  fuzz --seed S --count N [--max-ops K] [--out DIR] [--seconds T]\n"
		     "              random scenarios on both back ends; differences shrunk and saved\n"
		     "  shell [--backend sim|kernel]\n"
		     "              type scenario lines interactively\n"
		     "  help [COMMAND]\n"
		     "              list the scenario language's commands\n"
		     "  info        print the default machine: page size, frames, limits\n"
		     "  --version   print the version\n"
		     "  --help      this text; `usermm COMMAND --help` for one command\n"
		     "\n"
		     "Exit status: 0 success; 1 a failed expectation, a difference or a back end\n"
		     "failure; 2 a bad script or bad arguments. See usermm(1).\n");
}

static void usage_run(FILE *out)
{
	fprintf(out, "usage: usermm run SCRIPT... [--backend sim|kernel] [--json]\n"
		     "\n"
		     "Runs each scenario script on one back end (default sim) and prints its\n"
		     "canonical transcript: one line per command, `PROC: COMMAND = RESULT`,\n"
		     "multi-line results indented. Failed expectations (`=> X`; byte strings\n"
		     "are compared by their bytes, however spelled) are reported on stderr as\n"
		     "FILE:LINE and make the exit status 1. A line beyond the tool's limits\n"
		     "(byte strings of 1 MiB, 2^20 pages printed), or a config line the back\n"
		     "end refuses, stops the run with a message on stderr and exit status 1.\n"
		     "SCRIPT - reads stdin.\n"
		     "\n"
		     "  --backend sim     the usermm library (default)\n"
		     "  --backend kernel  the Linux kernel, through driver processes\n"
		     "  --json            one JSON object per script instead of text\n");
}

static void usage_diff(FILE *out)
{
	fprintf(out, "usage: usermm diff SCRIPT... [--json]\n"
		     "\n"
		     "Runs each script on the sim and the kernel back ends and prints a unified\n"
		     "diff of the two transcripts (sim-only commands left out). Exit status 1\n"
		     "when any script differs, or when a run stopped at a line it could not\n"
		     "run (reported on stderr; that script is not compared), 0 when all agree.\n"
		     "\n"
		     "  --json  one JSON object per script instead: {\"script\", \"compared\",\n"
		     "          \"same\", \"first_difference\" (the script line), \"lines\": [{\"line\",\n"
		     "          \"sim\", \"kernel\", \"differs\"}, ...]}, or for a script not\n"
		     "          compared, \"why\"\n");
}

static void usage_shell(FILE *out)
{
	fprintf(out,
		"usage: usermm shell [--backend sim|kernel]\n"
		"\n"
		"Reads scenario lines and runs each at once, printing its transcript line.\n"
		"On a terminal, lines can be edited and recalled (libedit); history is kept\n"
		"in ~/.usermm_history. `help` lists the commands; `quit` or end of input ends.\n");
}

static bool is_help(const char *s)
{
	return !strcmp(s, "--help") || !strcmp(s, "-h");
}

static const struct be_ops *backend_named(const char *name)
{
	if (!strcmp(name, "sim"))
		return &be_sim;
	if (!strcmp(name, "kernel"))
		return &be_kernel;
	return NULL;
}

/* Reads path ("-": stdin) whole. Returns 0, or -1 with a message printed. */
static int read_file(const char *path, struct sbuf *out)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	char buf[65536];
	size_t n;

	if (!f) {
		fprintf(stderr, "usermm: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		sb_putn(out, buf, n);
		if (out->len > MAX_SCRIPT_BYTES) {
			fprintf(stderr, "usermm: %s: larger than %u bytes\n", path,
				MAX_SCRIPT_BYTES);
			if (f != stdin)
				fclose(f);
			return -1;
		}
	}
	if (ferror(f)) {
		fprintf(stderr, "usermm: %s: %s\n", path, strerror(errno));
		if (f != stdin)
			fclose(f);
		return -1;
	}
	if (f != stdin)
		fclose(f);
	return 0;
}

/* Parses every script in files; returns the scripts (NULL where one was bad) and *bad. */
static struct script **parse_all(char **files, int n, bool *bad)
{
	struct script **s = xcalloc((size_t)n, sizeof(*s));
	int i;

	*bad = false;
	for (i = 0; i < n; i++) {
		struct sbuf text;
		struct diag d;

		sb_init(&text);
		if (read_file(files[i], &text)) {
			*bad = true;
		} else if (script_parse(files[i], sb_str(&text), text.len, &s[i], &d)) {
			diag_print(stderr, &d);
			diag_free(&d);
			*bad = true;
		}
		sb_free(&text);
	}
	return s;
}

static void free_all(struct script **s, int n)
{
	int i;

	for (i = 0; i < n; i++)
		script_free(s[i]);
	free(s);
}

/* ------------------------------------------------------------------- run */

struct text_out {
	bool json;
	struct sbuf json_lines;
	size_t nrec;
};

static void emit_out(void *ctx, struct rec *r)
{
	struct text_out *o = ctx;
	struct sbuf b;

	if (o->json) {
		if (o->nrec++)
			sb_putc(&o->json_lines, ',');
		rec_json(&o->json_lines, r);
		return;
	}
	sb_init(&b);
	rec_text(&b, r);
	fputs(sb_str(&b), stdout);
	fflush(stdout);
	sb_free(&b);
}

static int cmd_run(int argc, char **argv)
{
	const struct be_ops *be = &be_sim;
	char **files = xcalloc((size_t)argc, sizeof(*files));
	struct script **scripts;
	bool json = false, bad, unavailable = false;
	int i, n = 0, rc = 0;

	for (i = 0; i < argc; i++) {
		if (is_help(argv[i])) {
			usage_run(stdout);
			free(files);
			return 0;
		} else if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--backend") || !strncmp(argv[i], "--backend=", 10)) {
			const char *name = argv[i][9] == '=' ? argv[i] + 10 : NULL;

			if (!name && i + 1 < argc)
				name = argv[++i];
			be = name ? backend_named(name) : NULL;
			if (!be) {
				fprintf(stderr, "usermm run: --backend takes sim or kernel\n");
				free(files);
				return 2;
			}
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "usermm run: unknown option %s\n", argv[i]);
			usage_run(stderr);
			free(files);
			return 2;
		} else {
			files[n++] = argv[i];
		}
	}
	if (n == 0) {
		usage_run(stderr);
		free(files);
		return 2;
	}
	scripts = parse_all(files, n, &bad);
	if (bad) {
		free_all(scripts, n);
		free(files);
		return 2;
	}
	for (i = 0; i < n; i++) {
		struct text_out o = {.json = json};
		struct run_cfg cfg = {.be = be, .emit = emit_out, .ctx = &o, .errs = stderr};
		int r;

		sb_init(&o.json_lines);
		if (!json && n > 1)
			printf("== %s (%s) ==\n", files[i], be->name);
		r = run_script(&cfg, scripts[i]);
		if (json) {
			struct sbuf b;

			sb_init(&b);
			sb_puts(&b, "{\"script\":");
			sb_json_string(&b, files[i]);
			sb_printf(&b, ",\"backend\":\"%s\",\"ok\":%s,\"lines\":[%s]}", be->name,
				  r == 0 ? "true" : "false", sb_str(&o.json_lines));
			printf("%s\n", sb_str(&b));
			sb_free(&b);
		}
		sb_free(&o.json_lines);
		if (r == RUN_STOPPED)
			r = 1;
		if (r == RUN_UNAVAILABLE)
			unavailable = true;
		else if (r > rc)
			rc = r;
	}
	free_all(scripts, n);
	free(files);
	return rc == 0 && unavailable ? EXIT_UNAVAILABLE : rc;
}

/* ------------------------------------------------------------------ diff */

struct lines_out {
	char **v;
	int *line; /* the script line each comes from */
	size_t n;
};

/* Collects a record's lines for a diff; sim-only commands are left out. */
static void emit_lines(void *ctx, struct rec *r)
{
	struct lines_out *o = ctx;
	struct sbuf b;
	size_t i;

	if (r->sim_only)
		return;
	o->v = xrealloc(o->v, (o->n + 1 + r->ndetail) * sizeof(*o->v));
	o->line = xrealloc(o->line, (o->n + 1 + r->ndetail) * sizeof(*o->line));
	sb_init(&b);
	rec_head(&b, r);
	o->line[o->n] = r->line;
	o->v[o->n++] = sb_steal(&b);
	for (i = 0; i < r->ndetail; i++) {
		sb_printf(&b, "    %s", r->detail[i]);
		o->line[o->n] = r->line;
		o->v[o->n++] = sb_steal(&b);
	}
}

static void lines_free(struct lines_out *o)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		free(o->v[i]);
	free(o->v);
	free(o->line);
}

/*
 * diff --json: prints one object for a script, {"script":...,
 * "compared":true, "same":..., "first_difference":..., "lines":[...]}
 * (diff_json), or for one not compared, "compared":false and "why": what
 * the runs reported (on stderr too). Returns whether the transcripts differ.
 */
static bool diff_print_json(const char *file, bool compared, const struct lines_out *sim,
			    const struct lines_out *ker, const char *why)
{
	struct sbuf b;
	bool differs = false;
	char *msg;

	sb_init(&b);
	sb_puts(&b, "{\"script\":");
	sb_json_string(&b, file);
	sb_printf(&b, ",\"compared\":%s,", compared ? "true" : "false");
	if (compared) {
		differs = diff_json(&b, "sim", sim->v, sim->line, sim->n, "kernel", ker->v,
				    ker->line, ker->n);
	} else {
		msg = xstrndup(why, strlen(why) - (*why && why[strlen(why) - 1] == '\n'));
		sb_puts(&b, "\"why\":");
		sb_json_string(&b, msg);
		free(msg);
	}
	printf("%s}\n", sb_str(&b));
	sb_free(&b);
	return differs;
}

static int cmd_diff(int argc, char **argv)
{
	char **files = xcalloc((size_t)argc, sizeof(*files));
	struct script **scripts;
	int i, n = 0, rc = 0;
	bool bad, unavailable = false, json = false;

	for (i = 0; i < argc; i++) {
		if (is_help(argv[i])) {
			usage_diff(stdout);
			free(files);
			return 0;
		}
		if (!strcmp(argv[i], "--json")) {
			json = true;
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "usermm diff: unknown option %s\n", argv[i]);
			usage_diff(stderr);
			free(files);
			return 2;
		}
		files[n++] = argv[i];
	}
	if (n == 0) {
		usage_diff(stderr);
		free(files);
		return 2;
	}
	scripts = parse_all(files, n, &bad);
	if (bad) {
		free_all(scripts, n);
		free(files);
		return 2;
	}
	for (i = 0; i < n; i++) {
		struct lines_out sim = {0}, ker = {0};
		char *msgs = NULL;
		size_t msgs_len = 0;
		/* With --json, what the runs report is kept for the object too. */
		FILE *errs = json ? open_memstream(&msgs, &msgs_len) : stderr;
		struct run_cfg cs = {
		    .be = &be_sim, .emit = emit_lines, .ctx = &sim, .errs = errs, .quiet = true};
		struct run_cfg ck = {
		    .be = &be_kernel, .emit = emit_lines, .ctx = &ker, .errs = errs, .quiet = true};
		char na[4200], nb[4200];
		bool compared = false;
		int r1, r2;

		if (!errs) {
			fprintf(stderr, "usermm diff: open_memstream: %s\n", strerror(errno));
			rc = 2;
			break;
		}
		r1 = run_script(&cs, scripts[i]);
		r2 = run_script(&ck, scripts[i]);
		if (json) {
			fclose(errs);
			fputs(msgs, stderr);
		}
		if (r1 == 2 || r2 == 2) {
			rc = 2;
		} else if (r1 == RUN_UNAVAILABLE || r2 == RUN_UNAVAILABLE) {
			/* Not compared: this machine cannot run it (said on stderr). */
			unavailable = true;
		} else if (r1 == RUN_STOPPED || r2 == RUN_STOPPED) {
			/* Not compared: a run stopped at a line it could not run (said on stderr). */
			if (rc < 1)
				rc = 1;
		} else if (json) {
			compared = true;
		} else {
			snprintf(na, sizeof(na), "%s (sim)", files[i]);
			snprintf(nb, sizeof(nb), "%s (kernel)", files[i]);
			if (unified_diff(stdout, na, sim.v, sim.n, nb, ker.v, ker.n) && rc < 1)
				rc = 1;
		}
		if (json && diff_print_json(files[i], compared, &sim, &ker, msgs) && rc < 1)
			rc = 1;
		free(msgs);
		lines_free(&sim);
		lines_free(&ker);
	}
	fflush(stdout);
	free_all(scripts, n);
	free(files);
	return rc == 0 && unavailable ? EXIT_UNAVAILABLE : rc;
}

/* ----------------------------------------------------------- shell, info */

static int cmd_shell(int argc, char **argv)
{
	const struct be_ops *be = &be_sim;
	int i;

	for (i = 0; i < argc; i++) {
		if (is_help(argv[i])) {
			usage_shell(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--backend") && i + 1 < argc) {
			be = backend_named(argv[++i]);
			if (!be) {
				fprintf(stderr, "usermm shell: --backend takes sim or kernel\n");
				return 2;
			}
		} else if (!strncmp(argv[i], "--backend=", 10)) {
			be = backend_named(argv[i] + 10);
			if (!be) {
				fprintf(stderr, "usermm shell: --backend takes sim or kernel\n");
				return 2;
			}
		} else {
			fprintf(stderr, "usermm shell: unknown argument %s\n", argv[i]);
			usage_shell(stderr);
			return 2;
		}
	}
	return shell_main(be);
}

static int cmd_info(int argc, char **argv)
{
	struct um_config cfg;
	struct um_system *sys;
	struct um_sys_stats st;
	struct um_proc *p;
	int err;

	if (argc > 0 && is_help(argv[0])) {
		printf(
		    "usage: usermm info\n\nPrints the machine a default configuration builds.\n");
		return 0;
	}
	if (argc > 0) {
		fprintf(stderr, "usage: usermm info\n");
		return 2;
	}
	um_config_init(&cfg);
	err = um_system_new(&cfg, &sys);
	if (err) {
		fprintf(stderr, "usermm: um_system_new: %s\n", strerror(-err));
		return 1;
	}
	err = um_proc_new(sys, &p);
	if (err) {
		fprintf(stderr, "usermm: um_proc_new: %s\n", strerror(-err));
		um_system_free(sys);
		return 1;
	}
	um_system_stats(sys, &st);
	printf("page size          %u\n", um_page_size(sys));
	printf("physical frames    %" PRIu64 " (%" PRIu64 " MiB)\n", st.frames_total,
	       (st.frames_total * um_page_size(sys)) >> 20);
	printf("frame descriptor   %" PRIu64 " bytes\n", st.frame_desc_bytes);
	printf("max_map_count      %u\n", cfg.max_map_count);
	printf("mmap_min_addr      %#" PRIx64 "\n", cfg.mmap_min_addr);
	printf("mmap_base          %#" PRIx64 "\n", um_mmap_base(p));
	um_system_free(sys);
	return 0;
}

static int cmd_help(int argc, char **argv)
{
	if (argc > 0 && is_help(argv[0])) {
		printf("usage: usermm help [COMMAND]\n\nLists the scenario language's commands.\n");
		return 0;
	}
	return help_commands(stdout, argc > 0 ? argv[0] : NULL) ? 2 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (is_help(argv[1])) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("usermm %d.%d\n", UM_VERSION_MAJOR, UM_VERSION_MINOR);
		return 0;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 2, argv + 2);
	if (!strcmp(argv[1], "diff"))
		return cmd_diff(argc - 2, argv + 2);
	if (!strcmp(argv[1], "fuzz"))
		return cmd_fuzz(argc - 2, argv + 2);
	if (!strcmp(argv[1], "shell"))
		return cmd_shell(argc - 2, argv + 2);
	if (!strcmp(argv[1], "info"))
		return cmd_info(argc - 2, argv + 2);
	if (!strcmp(argv[1], "help"))
		return cmd_help(argc - 2, argv + 2);
	fprintf(stderr, "usermm: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
