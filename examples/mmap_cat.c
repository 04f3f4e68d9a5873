/*
 * mmap_cat: the first program of seed 002_61f4df198996beed.txt on usermm.
 * It maps a file private and read-only and writes the mapping to standard
 * output, as cat would:
 *
 *     $ echo 'url:http://www.freecls.com' > tmp.txt
 *     $ ./a.out tmp.txt
 *     url:http://www.freecls.com
 *
 * usage: mmap_cat [FILE]   FILE is a path in a fresh sandbox; without it,
 *                           the seed's session is played (tmp.txt made first).
 */
#include "seed.h"

/* The seed's main(), as one process of the machine. */
static int seed_main(struct um_system *sys, int argc, char *argv[])
{
	struct um_proc *p;
	struct um_stat sb;
	struct um_siginfo si;
	char buf[4096];
	int64_t addr;
	int fd, err;

	if (argc != 2 || strcmp(argv[1], "--help") == 0) {
		printf("%s file\n", argv[0]);
		return 0;
	}
	err = um_proc_new(sys, &p);
	if (err)
		errExit("um_proc_new", err);
	fd = um_open(p, argv[1], UM_O_RDONLY, 0);
	if (fd < 0)
		errExit("open", fd);
	err = um_fstat(p, fd, &sb);
	if (err)
		errExit("fstat", err);
	addr = um_mmap(p, 0, sb.st_size, UM_PROT_READ, UM_MAP_PRIVATE, fd, 0);
	if (addr < 0)
		errExit("mmap", addr);
	/* write(STDOUT_FILENO, addr, sb.st_size): the bytes come through the MMU. */
	fflush(stdout);
	for (uint64_t off = 0; off < sb.st_size; off += sizeof(buf)) {
		size_t n = sb.st_size - off < sizeof(buf) ? sb.st_size - off : sizeof(buf);

		if (um_copy_from(p, buf, (uint64_t)addr + off, n, &si)) {
			fprintf(stderr, "signal %d code %d at %#llx\n", si.signo, si.code,
				(unsigned long long)si.addr);
			exit(1);
		}
		fwrite(buf, 1, n, stdout);
	}
	fflush(stdout);
	um_exit(p);
	return 0;
}

int main(int argc, char *argv[])
{
	struct um_system *sys = seed_machine(NULL);
	char *args[] = { "./a.out", "tmp.txt", NULL };
	int ret;

	if (argc > 1) {
		ret = seed_main(sys, argc, argv);
	} else {
		printf("$ echo 'url:http://www.freecls.com' > tmp.txt\n");
		seed_make_file(sys, "tmp.txt", "url:http://www.freecls.com\n", 0);
		printf("$ ./a.out tmp.txt\n");
		ret = seed_main(sys, 2, args);
	}
	um_system_free(sys);
	return ret;
}
