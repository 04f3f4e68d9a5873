/*
 * usermm: the command-line tool. This first version answers --help,
 * --version and `info` (the machine a default configuration builds); the
 * scenario language (run, diff, shell) comes on top of it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "usermm.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: usermm COMMAND [ARGS]\n"
		     "\n"
		     "commands:\n"
		     "  info        print the default machine: page size, frames, limits\n"
		     "  --version   print the version\n"
		     "  --help      this text\n");
}

static int cmd_info(void)
{
	struct um_config cfg;
	struct um_system *sys;
	struct um_sys_stats st;
	struct um_proc *p;
	int err;

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

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("usermm %d.%d\n", UM_VERSION_MAJOR, UM_VERSION_MINOR);
		return 0;
	}
	if (!strcmp(argv[1], "info"))
		return cmd_info();
	fprintf(stderr, "usermm: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
