/*
 * fuzz.c: `usermm fuzz`, seeded random differential testing of the library
 * against Linux (fuzz.h).
 *
 * Scenario i of a run has seed S + i and is a pure function of it (and of
 * --max-ops and --avoid): the generator (fuzz_gen.c) draws from a
 * splitmix64 stream and writes scenario text. The text is parsed as any
 * script and run in-process on the sim and the kernel back ends with the
 * runner (fuzz_run.c), collecting both transcripts as `usermm diff` does
 * (sim-only records left out). When they differ, the scenario is shrunk
 * (fuzz_shrink.c) — lines deleted (chunks, then single lines), then
 * numbers, flag lists and strings simplified, each step kept only if the
 * scenario still parses and still differs the same way (the same first
 * differing lines, symbols and numbers aside) — and saved as
 * DIR/seed-S.ums with the seed, the original size and the diff in its
 * header.
 *
 * This file owns the command: its options, the loop over seeds, the
 * summary of differences by kind, and saving what differs.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"
#include "fuzz_gen.h"
#include "fuzz_run.h"
#include "fuzz_shrink.h"
#include "runner.h"

#define DEFAULT_MAX_OPS 60
#define DEFAULT_OUT	"tests/diff/found"

/* ---------------------------------------------------------------- saving */

static int mkdirs(const char *path)
{
	char buf[4096];
	size_t i, n = strlen(path);

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] == '/' || buf[i] == '\0') {
			char c = buf[i];

			buf[i] = '\0';
			if (mkdir(buf, 0777) && errno != EEXIST)
				return -1;
			buf[i] = c;
		}
	}
	return 0;
}

static void count_class(struct fz *f, char *key, uint64_t seed)
{
	size_t i;

	for (i = 0; i < f->ncls; i++) {
		if (!strcmp(f->cls[i].key, key)) {
			f->cls[i].count++;
			free(key);
			return;
		}
	}
	f->cls = xrealloc(f->cls, (f->ncls + 1) * sizeof(*f->cls));
	f->cls[f->ncls++] = (struct dclass){key, 1, seed};
}

/* The unified diff of two transcripts, as text. */
static char *diff_text(const struct tr *sim, const struct tr *ker)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		return xstrdup("");
	unified_diff(m, "sim", sim->v, sim->n, "kernel", ker->v, ker->n);
	fclose(m);
	return buf ? buf : xstrdup("");
}

struct opts {
	unsigned avoid;
	const char *avoid_arg;
	uint64_t seed;
	uint64_t count;
	unsigned max_ops;
	bool pressure; /* --pressure: small memory, reclaim and limits too */
	const char *out;
	double seconds;
	bool print;
	uint64_t shrink_runs;	 /* runs one shrink may take */
	unsigned shrink_seconds; /* and seconds */
	unsigned max_saved;	 /* differences shrunk and saved; later ones are only counted */
};

/*
 * Shrinks the differing scenario of seed and saves it. Prints what was
 * found. Returns 0, or -1 when it could not be saved.
 */
static int found(struct fz *f, const struct opts *o, uint64_t seed, const char *text,
		 const char *tag, const char *key, bool flaky)
{
	struct shrink sh = {.f = f, .key = key, .avoid = o->avoid, .budget = o->shrink_runs};
	struct lines l;
	struct tr sim, ker;
	char *min, *diff, path[4200];
	size_t orig, d;
	struct sbuf out;
	FILE *fp;
	const char *s;

	lines_split(&l, text);
	orig = l.n;
	sh.deadline = time(NULL) + (time_t)o->shrink_seconds;
	if (!flaky)
		shrink_scenario(&sh, &l);
	min = lines_join(&l, SIZE_MAX, 0, SIZE_MAX, NULL);
	if (try_text(f, min, NULL, &sim, &ker) != DIFFERS && !flaky) {
		/* Cannot happen but with a flaky difference: keep the generated scenario. */
		tr_free(&sim);
		tr_free(&ker);
		lines_free(&l);
		lines_split(&l, text);
		free(min);
		min = lines_join(&l, SIZE_MAX, 0, SIZE_MAX, NULL);
		try_text(f, min, NULL, &sim, &ker);
		flaky = true;
	}
	diff = diff_text(&sim, &ker);
	count_class(f, xstrdup(key), seed);
	tr_free(&sim);
	tr_free(&ker);

	sb_init(&out);
	sb_printf(&out,
		  "# Found by usermm fuzz: seed %" PRIu64 " (usermm fuzz --seed %" PRIu64
		  " --count 1 --max-ops %u%s%s%s).\n"
		  "# The generated scenario had %zu lines; minimized to %zu%s.\n"
		  "# The sim and kernel transcripts differ at `%s` (usermm diff; - sim, + kernel):\n",
		  seed, seed, o->max_ops, o->pressure ? " --pressure" : "",
		  o->avoid_arg ? " --avoid " : "", o->avoid_arg ? o->avoid_arg : "", orig, l.n,
		  flaky ? " (not minimized: the difference did not reproduce on a second run)" : "",
		  tag);
	for (s = diff; *s;) {
		size_t n = strcspn(s, "\n");

		sb_printf(&out, "#   %.*s\n", (int)n, s);
		s += n;
		if (*s)
			s++;
	}
	sb_puts(&out, min);

	if (mkdirs(o->out)) {
		fprintf(stderr, "usermm fuzz: cannot make %s: %s\n", o->out, strerror(errno));
		fputs(sb_str(&out), stdout);
		sb_free(&out);
		free(min);
		free(diff);
		lines_free(&l);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/seed-%" PRIu64 ".ums", o->out, seed);
	fp = fopen(path, "w");
	if (!fp || fputs(sb_str(&out), fp) < 0 || fclose(fp)) {
		fprintf(stderr, "usermm fuzz: %s: %s\n", path, strerror(errno));
		fputs(sb_str(&out), stdout);
	} else {
		printf("seed %" PRIu64 ": sim and kernel differ at `%s`%s; %zu lines minimized to "
		       "%zu: %s\n",
		       seed, tag, flaky ? " (once: not reproduced)" : "", orig, l.n, path);
		for (s = diff, d = 0; *s && d < 12; d++) {
			size_t n = strcspn(s, "\n");

			printf("    %.*s\n", (int)n, s);
			s += n;
			if (*s)
				s++;
		}
	}
	fflush(stdout);
	sb_free(&out);
	free(min);
	free(diff);
	lines_free(&l);
	return 0;
}

/* --------------------------------------------------------------- command */

void usage_fuzz(FILE *out)
{
	fprintf(out,
		"usage: usermm fuzz --seed S --count N [--max-ops K] [--pressure] [--out DIR]\n"
		"                   [--seconds T]\n"
		"       usermm fuzz --seed S --print [--max-ops K] [--pressure]\n"
		"\n"
		"Writes N random scenarios, with seeds S, S+1 ... S+N-1, runs each on the sim\n"
		"and the kernel back ends, and compares their transcripts as `usermm diff`\n"
		"does. A scenario whose transcripts differ is shrunk to a minimal one that\n"
		"still differs (lines deleted, then numbers simplified) and saved as\n"
		"DIR/seed-S.ums, with the seed, its original size and the diff in its header\n"
		"(the first 20 differences of a run: --max-saved; later ones are listed by\n"
		"seed only). A read or write whose buffer maps the bytes it moves leaves\n"
		"what the host CPU makes of the overlap: transcripts are compared only up\n"
		"to the first such call (counted before the last line).\n"
		"The same seed always gives the same scenario. Ends with the line\n"
		"`N scenarios, M differences`; a progress bar is shown on a terminal.\n"
		"\n"
		"  --seed S        the first seed (default 1)\n"
		"  --count N       how many scenarios (default 100; 0 with --seconds: no limit)\n"
		"  --max-ops K     at most K operations per scenario (default %d)\n"
		"  --out DIR       where minimized scenarios go (default %s)\n"
		"  --seconds T     stop after T seconds, even before N scenarios\n"
		"  --max-saved M   shrink and save at most M differences (default 20)\n"
		"  --print         print scenario S and stop (runs nothing)\n"
		"  --pressure      also a small config phys (12-24M), a file larger than it\n"
		"                  read through a mapping, reclaim, oom_score_adj, RLIMIT_MEMLOCK\n"
		"                  and credential changes, from a random stream of their own\n"
		"                  (the seed's other lines stay as without it); residency\n"
		"                  (mincore, smaps, status, pagemap) is then not compared\n"
		"  --avoid LIST    stay away from these known differences (comma-separated,\n"
		"                  all, or none), so that a run finds the others:\n",
		DEFAULT_MAX_OPS, DEFAULT_OUT);
	{
		size_t k;

		for (k = 0; k < fuzz_nknown(); k++)
			fprintf(out, "      %-12s %s\n", fuzz_known[k].name, fuzz_known[k].what);
		if (!fuzz_nknown())
			fprintf(out, "      (none is open now)\n");
	}
	fprintf(out, "\n"
		     "Exit status: 0 no difference, 1 a difference (or a back end that could not\n"
		     "start), 2 bad arguments.\n");
}

/* NAME,NAME...: the known differences to stay away from ("none": none, "all": all). */
static int parse_avoid(const char *s, unsigned *out)
{
	*out = 0;
	while (*s) {
		size_t n = strcspn(s, ","), k;

		if (n == 3 && !strncmp(s, "all", 3)) {
			for (k = 0; k < fuzz_nknown(); k++)
				*out |= fuzz_known[k].bit;
		} else if (!(n == 4 && !strncmp(s, "none", 4)) && n) {
			for (k = 0; k < fuzz_nknown(); k++)
				if (strlen(fuzz_known[k].name) == n &&
				    !strncmp(s, fuzz_known[k].name, n))
					break;
			if (k == fuzz_nknown()) {
				fprintf(stderr, "usermm fuzz: --avoid: unknown difference %.*s\n",
					(int)n, s);
				return -1;
			}
			*out |= fuzz_known[k].bit;
		}
		s += n;
		if (*s)
			s++;
	}
	return 0;
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return !errno && !*end;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress(const struct opts *o, uint64_t done, uint64_t diffs, double t0, bool final)
{
	double el = now() - t0, frac;
	char bar[31];
	int i, fill;

	if (o->count && (!o->seconds || (double)done / (double)o->count > el / o->seconds))
		frac = (double)done / (double)o->count;
	else
		frac = o->seconds > 0 ? el / o->seconds : 0;
	if (frac > 1)
		frac = 1;
	fill = (int)(frac * 30);
	for (i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = '\0';
	printf("\r\033[K[%s] %3d%%  %" PRIu64 " scenarios, %" PRIu64 " differences  %.0fs%s", bar,
	       (int)(frac * 100), done, diffs, el, final ? "\n" : "");
	fflush(stdout);
}

/* The seed being run, for the crash report: the library runs in this process. */
static volatile uint64_t crash_seed;

/* A crash (of the library, most likely) names its seed before the process dies of it. */
static void on_crash(int sig)
{
	char buf[80], num[24];
	static const char head[] = "usermm fuzz: crashed running the scenario of seed ";
	uint64_t v = crash_seed;
	size_t n = 0, k = 0;

	do
		num[k++] = (char)('0' + v % 10);
	while ((v /= 10) && k < sizeof(num));
	memcpy(buf, head, sizeof(head) - 1);
	n = sizeof(head) - 1;
	while (k && n < sizeof(buf) - 2)
		buf[n++] = num[--k];
	buf[n++] = '\n';
	if (write(STDERR_FILENO, buf, n) < 0)
		n = 0;
	signal(sig, SIG_DFL);
	raise(sig);
}

int cmd_fuzz(int argc, char **argv)
{
	struct opts o = {.seed = 1,
			 .count = 100,
			 .max_ops = DEFAULT_MAX_OPS,
			 .out = DEFAULT_OUT,
			 .shrink_runs = 3000,
			 .shrink_seconds = 60,
			 .max_saved = 20};
	struct fz f = {.errs = stderr};
	uint64_t done = 0, diffs = 0, errors = 0, cuts = 0, v;
	bool tty = isatty(STDOUT_FILENO), count_given = false;
	double t0;
	int i;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage_fuzz(stdout);
			return 0;
		} else if (!strcmp(a, "--print")) {
			o.print = true;
			continue;
		} else if (!strcmp(a, "--pressure")) {
			o.pressure = true;
			continue;
		} else if (!strcmp(a, "--seed") && parse_u64(val, &v)) {
			o.seed = v;
		} else if (!strcmp(a, "--count") && parse_u64(val, &v)) {
			o.count = v;
			count_given = true;
		} else if (!strcmp(a, "--max-ops") && parse_u64(val, &v) && v > 0 && v <= 100000) {
			o.max_ops = (unsigned)v;
		} else if (!strcmp(a, "--out") && val && *val) {
			o.out = val;
		} else if (!strcmp(a, "--max-saved") && parse_u64(val, &v) && v <= 1000000) {
			o.max_saved = (unsigned)v;
		} else if (!strcmp(a, "--seconds") && parse_u64(val, &v)) {
			o.seconds = (double)v;
		} else if (!strcmp(a, "--avoid") && val && parse_avoid(val, &o.avoid) == 0) {
			o.avoid_arg = o.avoid ? val : NULL;
		} else {
			fprintf(stderr, "usermm fuzz: bad argument %s%s%s\n", a, val ? " " : "",
				val ? val : "");
			usage_fuzz(stderr);
			return 2;
		}
		i++;
	}
	if (o.print) {
		char *text = fuzz_generate(o.seed, o.max_ops, o.avoid, o.pressure);

		fputs(text, stdout);
		free(text);
		return 0;
	}
	if (o.seconds > 0 && !count_given)
		o.count = 0;
	if (!o.count && !(o.seconds > 0)) {
		fprintf(stderr, "usermm fuzz: --count 0 needs --seconds\n");
		return 2;
	}
	if (geteuid() != 0)
		fprintf(stderr, "usermm fuzz: not root: the kernel back end cannot read frame "
				"numbers, so pagemap lines will differ\n");

	signal(SIGSEGV, on_crash);
	signal(SIGBUS, on_crash);
	signal(SIGABRT, on_crash);
	t0 = now();
	for (v = o.seed;; v++) {
		char *text, *tag = NULL;
		enum outcome out;

		if (o.count && done >= o.count)
			break;
		if (o.seconds > 0 && now() - t0 >= o.seconds)
			break;
		if (tty && done % 4 == 0)
			progress(&o, done, diffs, t0, false);
		crash_seed = v;
		text = fuzz_generate(v, o.max_ops, o.avoid, o.pressure);
		struct tr sim, ker;
		char *key = NULL;

		out = try_text(&f, text, &tag, &sim, &ker);
		if (out == DIFFERS)
			key = class_key(tag, &sim, &ker);
		cuts += f.cut;
		tr_free(&sim);
		tr_free(&ker);
		done++;
		if (out == BAD_SCRIPT) {
			/* A generator bug: every scenario it writes must parse. */
			struct script *s;
			struct diag d;

			if (tty)
				printf("\r\033[K");
			if (script_parse("fuzz", text, strlen(text), &s, &d) == 0) {
				script_free(s);
			} else {
				fprintf(stderr, "usermm fuzz: seed %" PRIu64 ": generated a bad script:\n",
					v);
				diag_print(stderr, &d);
				diag_free(&d);
			}
			errors++;
		} else if (out == BE_ERROR) {
			if (tty)
				printf("\r\033[K");
			fprintf(stderr, "usermm fuzz: seed %" PRIu64 ": a back end could not start\n",
				v);
			errors++;
		} else if (out == DIFFERS) {
			char *tag2 = NULL, *key2 = NULL;
			bool flaky = true;

			diffs++;
			if (tty)
				printf("\r\033[K");
			/* Run it again: a difference that does not come back is reported as such. */
			if (try_text(&f, text, &tag2, &sim, &ker) == DIFFERS && tag2) {
				key2 = class_key(tag2, &sim, &ker);
				flaky = strcmp(key, key2) != 0;
			}
			tr_free(&sim);
			tr_free(&ker);
			free(tag2);
			free(key2);
			if (diffs > o.max_saved) {
				/* Something broke everywhere: count, do not spend minutes on each. */
				printf("seed %" PRIu64 ": sim and kernel differ at `%s` (not shrunk: more "
				       "than %u differences in this run)\n",
				       v, tag, o.max_saved);
				count_class(&f, xstrdup(key), v);
			} else if (found(&f, &o, v, text, tag, key, flaky)) {
				errors++;
			}
		}
		free(key);
		free(tag);
		free(text);
	}
	if (tty)
		progress(&o, done, diffs, t0, true);
	if (f.ncls) {
		size_t k;

		printf("differences by kind (first differing lines, normalized):\n");
		for (k = 0; k < f.ncls; k++) {
			printf("  %4" PRIu64 " x  %s  (first: seed %" PRIu64 ")\n", f.cls[k].count,
			       f.cls[k].key, f.cls[k].first_seed);
			free(f.cls[k].key);
		}
		free(f.cls);
	}
	if (cuts)
		printf("%" PRIu64 " compared only up to a read or write onto its own source "
		       "(what it leaves is the host CPU's)\n",
		       cuts);
	printf("%" PRIu64 " scenarios, %" PRIu64 " differences\n", done, diffs);
	if (errors)
		fprintf(stderr, "usermm fuzz: %" PRIu64 " errors (bad scripts or back ends)\n",
			errors);
	return diffs || errors ? 1 : 0;
}
