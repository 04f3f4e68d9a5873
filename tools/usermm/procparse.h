/*
 * procparse.h: /proc/PID/maps, smaps and status text, as Linux prints them
 * (and as the library renders them), parsed into records. Both back ends
 * use it, so the runner compares the same fields from either.
 */
#ifndef USERMM_TOOL_PROCPARSE_H
#define USERMM_TOOL_PROCPARSE_H

#include <stddef.h>
#include <stdint.h>

/* The smaps fields a transcript shows, in kB, in this order. */
enum smaps_field {
	SM_SIZE,
	SM_RSS,
	SM_PSS,
	SM_SHARED_CLEAN,
	SM_SHARED_DIRTY,
	SM_PRIVATE_CLEAN,
	SM_PRIVATE_DIRTY,
	SM_ANONYMOUS,
	SM_SWAP,
	SM_LOCKED,
	SM_SHARED_HUGETLB,	/* these two are printed only when not zero */
	SM_PRIVATE_HUGETLB,
	SM_COUNT
};

struct vma_info {
	uint64_t start, end;
	char perms[5]; /* "rw-p" */
	uint64_t offset;
	unsigned major, minor;
	uint64_t inode;
	char *name;	       /* NULL when the line has none */
	uint64_t kb[SM_COUNT]; /* smaps only */
	char *vmflags;	       /* smaps only: "rd wr mr mw me ac" */
};

struct vma_list {
	struct vma_info *v;
	size_t n;
};

/* The /proc/PID/status fields a transcript shows, in kB, in this order. */
enum status_field {
	ST_VMSIZE,
	ST_VMRSS,
	ST_RSSANON,
	ST_RSSFILE,
	ST_RSSSHMEM,
	ST_VMLCK,
	ST_VMSWAP,
	ST_HUGETLB,	/* HugetlbPages: printed only when not zero */
	ST_COUNT
};

struct status_info {
	uint64_t kb[ST_COUNT];
};

const char *smaps_field_name(enum smaps_field f);
const char *status_field_name(enum status_field f);

/* Parses maps or smaps text. Returns 0, or -1 on a line it cannot read. */
int vma_list_parse(const char *text, size_t len, struct vma_list *out);
void vma_list_free(struct vma_list *l);
/* Moves entry i of from to the end of to. */
void vma_list_take(struct vma_list *to, struct vma_list *from, size_t i);
/* Parses status text (fields absent from it stay 0). Returns 0. */
int status_parse(const char *text, size_t len, struct status_info *out);

#endif /* USERMM_TOOL_PROCPARSE_H */
