/*
 * shared_file: the shared-file-mapping program of seed
 * 002_61f4df198996beed.txt on usermm. It maps the first 30 bytes of a file
 * shared, prints the string there, and when given a new value copies it in
 * and msyncs. Run three times on one file, each time as a fresh process of
 * the same machine, the last run's line comes from the page cache (or the
 * file), not from the writer's memory:
 *
 *     $ dd if=/dev/zero of=tmp.txt bs=1 count=1024
 *     $ ./a.out tmp.txt free
 *     Current string=
 *     Copied "free" to shared memory
 *     $ ./a.out tmp.txt freecls
 *     Current string=free
 *     Copied "freecls" to shared memory
 *     $ ./a.out tmp.txt
 *     Current string=freecls
 *
 * usage: shared_file       plays the seed's session in a fresh sandbox and
 *                          checks that the host file holds "freecls" after it
 */
#include <fcntl.h>
#include <unistd.h>

#include "seed.h"

#define MEM_SIZE 30

static int seed_main(struct um_system *sys, int argc, char *argv[])
{
	struct um_proc *p;
	struct um_siginfo si;
	char cur[MEM_SIZE + 1];
	int64_t addr;
	int fd, err;

	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		printf("%s file [new-value]\n", argv[0]);
		return 0;
	}
	err = um_proc_new(sys, &p);
	if (err)
		errExit("um_proc_new", err);
	fd = um_open(p, argv[1], UM_O_RDWR, 0);
	if (fd < 0)
		errExit("open", fd);
	addr = um_mmap(p, 0, MEM_SIZE, UM_PROT_READ | UM_PROT_WRITE, UM_MAP_SHARED, fd, 0);
	if (addr < 0)
		errExit("mmap", addr);
	err = um_close(p, fd); /* No longer need 'fd' */
	if (err)
		errExit("close", err);

	/* printf("Current string=%.*s\n", MEM_SIZE, addr) */
	if (um_copy_from(p, cur, (uint64_t)addr, MEM_SIZE, &si))
		errExit("load", -EFAULT);
	cur[MEM_SIZE] = 0;
	printf("Current string=%.*s\n", MEM_SIZE, cur);

	if (argc > 2) {
		char zero[MEM_SIZE] = { 0 };

		if (strlen(argv[2]) >= MEM_SIZE)
			printf("'new-value' too large\n");
		/* memset(addr, 0, MEM_SIZE); strncpy(addr, argv[2], MEM_SIZE - 1); */
		if (um_copy_to(p, (uint64_t)addr, zero, MEM_SIZE, &si) ||
		    um_copy_to(p, (uint64_t)addr, argv[2],
			       strlen(argv[2]) < MEM_SIZE - 1 ? strlen(argv[2]) : MEM_SIZE - 1, &si))
			errExit("store", -EFAULT);
		err = um_msync(p, (uint64_t)addr, MEM_SIZE, UM_MS_SYNC);
		if (err)
			errExit("msync", err);
		printf("Copied \"%s\" to shared memory\n", argv[2]);
	}
	um_exit(p);
	return 0;
}

int main(void)
{
	struct um_system *sys = seed_machine(NULL);
	char *run1[] = { "./a.out", "tmp.txt", "free", NULL };
	char *run2[] = { "./a.out", "tmp.txt", "freecls", NULL };
	char *run3[] = { "./a.out", "tmp.txt", NULL };
	char path[4096], disk[MEM_SIZE + 1] = { 0 };
	int hfd;

	printf("$ dd if=/dev/zero of=tmp.txt bs=1 count=1024\n");
	seed_make_file(sys, "tmp.txt", NULL, 1024);
	printf("$ ./a.out tmp.txt free\n");
	seed_main(sys, 3, run1);
	printf("$ ./a.out tmp.txt freecls\n");
	seed_main(sys, 3, run2);
	printf("$ ./a.out tmp.txt\n");
	seed_main(sys, 2, run3);

	/* The msync put it in the host file: read it there, with the host's read(). */
	snprintf(path, sizeof(path), "%s/tmp.txt", um_sandbox_dir(sys));
	hfd = open(path, O_RDONLY);
	if (hfd < 0 || read(hfd, disk, MEM_SIZE) != MEM_SIZE || strcmp(disk, "freecls")) {
		fprintf(stderr, "shared_file: the host file does not hold \"freecls\"\n");
		return 1;
	}
	close(hfd);
	um_system_free(sys);
	return 0;
}
