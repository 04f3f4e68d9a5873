/*
 * sim_files.c: the sim back end's file commands, on the library's file
 * API: descriptors and I/O through the page cache (um_open, um_read ...),
 * msync, and `disk`, which reads the backing file on the host directly to
 * show what write-back has put there.
 *
 * file and cat run in a short-lived helper process, so that every file
 * byte goes through the library's page cache, with the credentials and
 * limits of the kernel back end's runner, which does them there itself:
 * the host program's uid and gid, umask 022, the privileged capabilities
 * and a new process's resource limits, so that what the scenario's
 * processes may do (their modes, their RLIMIT_FSIZE) does not limit them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim.h"

#define IO_CHUNK 65536

const char *sim_sandbox(struct backend *be)
{
	return be->sys ? um_sandbox_dir(be->sys) : NULL;
}

/* The helper that file and cat run in (see above), or NULL with *err set. */
static struct um_proc *runner_proc(struct backend *be, int *err)
{
	struct um_proc *p;
	struct um_cred c;

	*err = um_proc_new(be->sys, &p);
	if (*err)
		return NULL;
	um_proc_cred(p, &c);
	c.cap_effective = c.cap_permitted = c.cap_bset = UM_CAP_PRIVILEGED;
	c.umask = 022;
	*err = um_proc_set_cred(p, &c);
	if (*err) {
		um_exit(p);
		return NULL;
	}
	return p;
}

static void set_count(struct be_res *res, int64_t r)
{
	if (r < 0) {
		be_res_err(res, (int)-r);
	} else {
		res->kind = RK_VAL;
		res->val = (uint64_t)r;
	}
}

static void set_ok(struct be_res *res, int rc)
{
	if (rc)
		be_res_err(res, -rc);
	else
		res->kind = RK_OK;
}

/* file PATH SIZE [BYTE | "CONTENT" | offsets]: create or replace through the page cache. */
static void sim_file(struct backend *be, const struct be_call *c, struct be_res *res)
{
	uint64_t size = c->a[1], done = 0;
	unsigned char *buf;
	int err, fd;
	struct um_proc *p = runner_proc(be, &err);

	if (!p) {
		be_res_err(res, -err);
		return;
	}
	fd = um_open(p, c->path, UM_O_WRONLY | UM_O_CREAT | UM_O_TRUNC, 0644);
	if (fd < 0) {
		be_res_err(res, -fd);
		goto out;
	}
	err = 0;
	if (c->has_content) {
		uint64_t n = c->dlen < size ? c->dlen : size;
		int64_t r = n ? um_pwrite(p, fd, c->data, n, 0) : 0;

		if (r < 0)
			err = (int)r;
		done = n;
	} else if (c->offsets || (c->nargs > 2 && (c->a[2] & 0xff))) {
		buf = xmalloc(IO_CHUNK);
		memset(buf, (int)(c->a[2] & 0xff), IO_CHUNK);
		while (!err && done < size) {
			uint64_t n = size - done < IO_CHUNK ? size - done : IO_CHUNK;
			int64_t r;

			if (c->offsets)
				fill_offsets(buf, n, done);
			r = um_pwrite(p, fd, buf, n, (int64_t)done);

			if (r < 0)
				err = (int)r;
			done += n;
		}
		free(buf);
	}
	if (!err)
		err = um_ftruncate(p, fd, (int64_t)size);
	um_close(p, fd);
	set_ok(res, err);
out:
	um_exit(p);
}

/* Reads [off, off + len) of an open descriptor, or up to the end when whole. */
static void read_range(struct um_proc *p, int fd, uint64_t off, uint64_t len, bool whole,
		       struct be_res *res)
{
	char *buf = xmalloc(IO_CHUNK);
	uint64_t want = whole ? (uint64_t)BE_MAX_BYTES + 1 : len;

	res->kind = RK_BYTES;
	while (res->bytes.len < want) {
		uint64_t n = want - res->bytes.len < IO_CHUNK ? want - res->bytes.len : IO_CHUNK;
		int64_t r = um_pread(p, fd, buf, n, (int64_t)(off + res->bytes.len));

		if (r < 0) {
			be_res_err(res, (int)-r);
			break;
		}
		if (r == 0)
			break;
		sb_putn(&res->bytes, buf, (size_t)r);
	}
	free(buf);
	if (res->kind == RK_BYTES && res->bytes.len > BE_MAX_BYTES)
		res->kind = RK_LIMIT;
}

/* cat PATH [OFF LEN]: the file's bytes through the page cache. */
static void sim_cat(struct backend *be, const struct be_call *c, struct be_res *res)
{
	int err, fd;
	struct um_proc *p = runner_proc(be, &err);

	if (!p) {
		be_res_err(res, -err);
		return;
	}
	fd = um_open(p, c->path, UM_O_RDONLY, 0);
	if (fd < 0) {
		be_res_err(res, -fd);
	} else {
		read_range(p, fd, c->nargs > 2 ? c->a[1] : 0, c->nargs > 2 ? c->a[2] : 0,
			   c->nargs <= 2, res);
		um_close(p, fd);
	}
	um_exit(p);
}

/* disk PATH [OFF LEN]: the backing file on the host, past the page cache. */
static void sim_disk(struct backend *be, const struct be_call *c, struct be_res *res)
{
	uint64_t off = c->nargs > 2 ? c->a[1] : 0;
	uint64_t len = c->nargs > 2 ? c->a[2] : (uint64_t)BE_MAX_BYTES + 1;
	const char *dir = um_sandbox_dir(be->sys);
	int dfd, fd;
	char *buf;
	ssize_t n;

	if (!dir) {
		be_res_err(res, ENOENT);
		return;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		be_res_err(res, errno);
		return;
	}
	fd = open_beneath(dfd, c->path, O_RDONLY, 0);
	close(dfd);
	if (fd < 0) {
		be_res_err(res, -fd);
		return;
	}
	buf = xmalloc((size_t)len ? (size_t)len : 1);
	n = pread(fd, buf, (size_t)len, (off_t)off);
	close(fd);
	if (n < 0) {
		be_res_err(res, errno);
	} else if ((uint64_t)n > BE_MAX_BYTES) {
		res->kind = RK_LIMIT;
	} else {
		res->kind = RK_BYTES;
		sb_putn(&res->bytes, buf, (size_t)n);
	}
	free(buf);
}

void sim_file_call(struct backend *be, struct um_proc *p, const struct be_call *c,
		   struct be_res *res)
{
	const uint64_t *a = c->a;
	char *buf;
	int64_t r;

	switch (c->op) {
	case OP_FILE:
		sim_file(be, c, res);
		return;
	case OP_CAT:
		sim_cat(be, c, res);
		return;
	case OP_DISK:
		sim_disk(be, c, res);
		return;
	default:
		break;
	}
	if (!p) {
		res->kind = RK_DIED;
		return;
	}
	switch (c->op) {
	case OP_OPEN:
		r = um_open(p, c->path, (int)a[1], c->nargs > 2 ? (unsigned)a[2] : 0);
		set_count(res, r);
		return;
	case OP_CLOSE:
		set_ok(res, um_close(p, (int)a[0]));
		return;
	case OP_READ:
	case OP_PREAD:
		buf = xmalloc(a[1] ? (size_t)a[1] : 1);
		if (c->op == OP_READ)
			r = um_read(p, (int)a[0], buf, a[1]);
		else
			r = um_pread(p, (int)a[0], buf, a[1], (int64_t)a[2]);
		if (r < 0) {
			be_res_err(res, (int)-r);
		} else {
			res->kind = RK_BYTES;
			sb_putn(&res->bytes, buf, (size_t)r);
		}
		free(buf);
		return;
	case OP_READ_USER:
		set_count(res, um_read_user(p, (int)a[0], a[1], a[2]));
		return;
	case OP_WRITE:
		set_count(res, um_write(p, (int)a[0], c->data, c->dlen));
		return;
	case OP_WRITE_USER:
		set_count(res, um_write_user(p, (int)a[0], a[1], a[2]));
		return;
	case OP_PWRITE:
		set_count(res, um_pwrite(p, (int)a[0], c->data, c->dlen, (int64_t)a[2]));
		return;
	case OP_LSEEK:
		set_count(res, um_lseek(p, (int)a[0], (int64_t)a[1], (int)a[2]));
		return;
	case OP_FTRUNCATE:
		set_ok(res, um_ftruncate(p, (int)a[0], (int64_t)a[1]));
		return;
	case OP_FSYNC:
		set_ok(res, um_fsync(p, (int)a[0]));
		return;
	case OP_FDATASYNC:
		set_ok(res, um_fdatasync(p, (int)a[0]));
		return;
	case OP_FSTAT: {
		struct um_stat st;
		int rc = um_fstat(p, (int)a[0], &st);

		if (rc)
			be_res_err(res, -rc);
		else
			be_res_stat(res, st.st_mode, st.st_uid, st.st_gid, st.st_size);
		return;
	}
	case OP_CHMOD:
		set_ok(res, um_chmod(p, c->path, (uint32_t)a[1]));
		return;
	case OP_FCHMOD:
		set_ok(res, um_fchmod(p, (int)a[0], (uint32_t)a[1]));
		return;
	case OP_CHOWN:
		set_ok(res, um_chown(p, c->path, (uint32_t)a[1], (uint32_t)a[2]));
		return;
	case OP_FCHOWN:
		set_ok(res, um_fchown(p, (int)a[0], (uint32_t)a[1], (uint32_t)a[2]));
		return;
	case OP_UMASK:
		set_count(res, um_umask(p, (uint32_t)a[0]));
		return;
	case OP_MSYNC:
		set_ok(res, um_msync(p, a[0], a[1], (int)a[2]));
		return;
	default:
		be_res_err(res, ENOSYS);
		return;
	}
}
