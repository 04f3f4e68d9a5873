/*
 * shell.c: `usermm shell`: reads scenario lines from a terminal (with line
 * editing and history from libedit) or from a pipe, checks each against
 * the scope of the lines before it, and runs it at once on a back end,
 * printing its transcript line. `help`, `help COMMAND` and `quit` are the
 * shell's own words. History is kept in ~/.usermm_history.
 */
#include <histedit.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner.h"
#include "shell.h"

int help_commands(FILE *out, const char *name)
{
	size_t n, i;
	const struct cmd_spec *t = cmd_table(&n);
	int found = 0;

	if (!name) {
		fprintf(
		    out,
		    "Lines: [NAME:] [SYM =] COMMAND ARGS... [=> EXPECTED] [# comment]\n"
		    "  proc NAME                         start a process (empty address space)\n"
		    "  echo TEXT                         print TEXT\n"
		    "  config KEY=VALUE ...              sim machine, before the first proc;\n"
		    "                                    privileged=1 (both back ends): processes\n"
		    "                                    have the privileged capabilities\n");
	}
	for (i = 0; i < n; i++) {
		if (name && strcmp(t[i].name, name))
			continue;
		found = 1;
		if (strlen(t[i].usage) > 33)
			fprintf(out, "  %s\n  %-33s %s\n", t[i].usage, "", t[i].help);
		else
			fprintf(out, "  %-33s %s\n", t[i].usage, t[i].help);
	}
	if (name && !found) {
		if (!strcmp(name, "proc") || !strcmp(name, "echo") || !strcmp(name, "config"))
			return help_commands(out, NULL), 0;
		fprintf(stderr, "usermm: no command '%s' (`help` lists them)\n", name);
		return 1;
	}
	if (!name)
		fprintf(out,
			"Values: 4096 0x1000 0644 -1, with K M G (KiB...) or P (pages); "
			"addresses NULL, SYM, SYM+N, SYM-N, top-N;\n"
			"  \"strings\" with C escapes; protections rw- or PROT_READ|PROT_WRITE; "
			"flags MAP_SHARED|MAP_ANONYMOUS or shared|anon.\n"
			"Shell words: help [COMMAND], quit.\n");
	return 0;
}

struct shell {
	EditLine *el;
	History *hist;
	struct scope *sc;
	char prompt[80];
	char histfile[4096];
};

static void print_rec(void *ctx, struct rec *r)
{
	struct sbuf b;

	(void)ctx;
	sb_init(&b);
	rec_text(&b, r);
	fputs(sb_str(&b), stdout);
	fflush(stdout);
	sb_free(&b);
}

static char *prompt_fn(EditLine *el)
{
	struct shell *sh = NULL;

	el_get(el, EL_CLIENTDATA, &sh);
	return sh ? sh->prompt : "usermm> ";
}

static void set_prompt(struct shell *sh)
{
	const char *cur = scope_current(sh->sc);

	if (cur)
		snprintf(sh->prompt, sizeof(sh->prompt), "usermm %.60s> ", cur);
	else
		snprintf(sh->prompt, sizeof(sh->prompt), "usermm> ");
}

/* Reads one line (without its newline) into a malloc'd string, or NULL at end of input. */
static char *read_line(struct shell *sh, size_t *len)
{
	const char *s;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int count;

	if (sh->el) {
		s = el_gets(sh->el, &count);
		if (!s)
			return NULL;
		n = count;
		line = xstrndup(s, (size_t)n);
	} else {
		n = getline(&line, &cap, stdin);
		if (n < 0) {
			free(line);
			return NULL;
		}
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	*len = (size_t)n;
	return line;
}

/* Handles the shell's own words; returns 1 when line was one, 2 to quit. */
static int shell_word(const char *line)
{
	char word[64], arg[64];
	int n = sscanf(line, " %63s %63s", word, arg);

	if (n < 1)
		return 0;
	if (!strcmp(word, "quit") || !strcmp(word, "q")) {
		if (n == 1)
			return 2;
	}
	if (!strcmp(word, "help") || !strcmp(word, "?")) {
		help_commands(stdout, n > 1 ? arg : NULL);
		fflush(stdout);
		return 1;
	}
	return 0;
}

int shell_main(const struct be_ops *be)
{
	struct run_cfg cfg = {.be = be, .emit = print_rec, .errs = stdout};
	struct shell sh;
	struct run *r;
	struct sbuf err;
	HistEvent ev;
	int lineno = 0, rc = 0;
	bool tty = isatty(0) && isatty(1);

	memset(&sh, 0, sizeof(sh));
	sb_init(&err);
	if (run_new(&cfg, &r, &err)) {
		fprintf(stderr, "usermm: cannot start the %s back end: %s\n", be->name,
			sb_str(&err));
		sb_free(&err);
		return 2;
	}
	sb_free(&err);
	sh.sc = scope_new();
	set_prompt(&sh);
	if (tty) {
		const char *home = getenv("HOME");

		sh.el = el_init("usermm", stdin, stdout, stderr);
		sh.hist = history_init();
		history(sh.hist, &ev, H_SETSIZE, 1000);
		history(sh.hist, &ev, H_SETUNIQUE, 1);
		if (home && *home) {
			snprintf(sh.histfile, sizeof(sh.histfile), "%s/.usermm_history", home);
			history(sh.hist, &ev, H_LOAD, sh.histfile);
		}
		el_set(sh.el, EL_EDITOR, "emacs");
		el_set(sh.el, EL_HIST, history, sh.hist);
		el_set(sh.el, EL_CLIENTDATA, &sh);
		el_set(sh.el, EL_PROMPT, prompt_fn);
		el_source(sh.el, NULL);
		printf("usermm shell on the %s back end: `help` lists the commands, `quit` ends.\n",
		       be->name);
	}
	for (;;) {
		struct line l;
		struct diag d;
		size_t len;
		char *text = read_line(&sh, &len);
		int w;

		if (!text)
			break;
		lineno++;
		if (sh.hist && len)
			history(sh.hist, &ev, H_ENTER, text);
		w = shell_word(text);
		if (w == 2) {
			free(text);
			break;
		}
		if (w == 1) {
			free(text);
			continue;
		}
		if (line_parse(sh.sc, "<shell>", lineno, text, len, &l, &d)) {
			diag_print(tty ? stdout : stderr, &d);
			diag_free(&d);
			if (!tty)
				rc = 2;
		} else {
			if (run_line(r, "<shell>", &l))
				rc = 1;
			line_free(&l);
		}
		free(text);
		set_prompt(&sh);
	}
	if (run_failures(r) && !rc)
		rc = 1;
	if (sh.hist) {
		if (sh.histfile[0])
			history(sh.hist, &ev, H_SAVE, sh.histfile);
		history_end(sh.hist);
	}
	if (sh.el) {
		el_end(sh.el);
		printf("\n");
	}
	scope_free(sh.sc);
	run_free(r);
	return rc;
}
