/*
 * procparse.c: readers for the text of /proc/PID/maps, smaps and status
 * (procparse.h). They accept exactly Linux's layout: a maps line is
 * "start-end perms offset major:minor inode [name]", the name starting
 * after padding; an smaps field line is "Key:   N kB"; VmFlags ends a record.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procparse.h"
#include "util.h"

static const char *const smaps_names[SM_COUNT] = {
    "Size",	     "Rss",	      "Pss",	   "Shared_Clean", "Shared_Dirty",
    "Private_Clean", "Private_Dirty", "Anonymous", "Swap",	   "Locked",
    "Shared_Hugetlb", "Private_Hugetlb",
};

static const char *const status_names[ST_COUNT] = {
    "VmSize", "VmRSS", "RssAnon", "RssFile", "RssShmem", "VmLck", "VmSwap", "HugetlbPages",
};

const char *smaps_field_name(enum smaps_field f)
{
	return f < SM_COUNT ? smaps_names[f] : "?";
}

const char *status_field_name(enum status_field f)
{
	return f < ST_COUNT ? status_names[f] : "?";
}

void vma_list_free(struct vma_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].vmflags);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void vma_list_take(struct vma_list *to, struct vma_list *from, size_t i)
{
	to->v = xrealloc(to->v, (to->n + 1) * sizeof(*to->v));
	to->v[to->n++] = from->v[i];
	memset(&from->v[i], 0, sizeof(from->v[i]));
}

/* Reads a maps line s[0..n) into v. */
static int parse_maps_line(const char *s, size_t n, struct vma_info *v)
{
	char *line = xstrndup(s, n);
	unsigned long long start, end, off, ino;
	unsigned major, minor;
	char perms[8];
	int used = 0;

	memset(v, 0, sizeof(*v));
	if (sscanf(line, "%llx-%llx %4s %llx %x:%x %llu%n", &start, &end, perms, &off, &major,
		   &minor, &ino, &used) != 7) {
		free(line);
		return -1;
	}
	v->start = start;
	v->end = end;
	memcpy(v->perms, perms, 4);
	v->perms[4] = '\0';
	v->offset = off;
	v->major = major;
	v->minor = minor;
	v->inode = ino;
	while (line[used] == ' ')
		used++;
	if (line[used])
		v->name = xstrdup(line + used);
	free(line);
	return 0;
}

/* True when s[0..n) starts a maps line: a hex digit before the first '-'. */
static int is_maps_line(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && ((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
		i++;
	return i > 0 && i < n && s[i] == '-';
}

int vma_list_parse(const char *text, size_t len, struct vma_list *out)
{
	size_t pos = 0;
	struct vma_info *cur = NULL;

	out->v = NULL;
	out->n = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len, n = end - pos;
		const char *s = text + pos;

		pos = end + 1;
		if (n == 0)
			continue;
		if (is_maps_line(s, n)) {
			out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
			cur = &out->v[out->n];
			if (parse_maps_line(s, n, cur)) {
				vma_list_free(out);
				return -1;
			}
			out->n++;
			continue;
		}
		if (!cur)
			continue;
		if (n > 8 && !memcmp(s, "VmFlags:", 8)) {
			size_t i = 8, e = n;

			while (i < n && s[i] == ' ')
				i++;
			while (e > i && s[e - 1] == ' ')
				e--;
			free(cur->vmflags);
			cur->vmflags = xstrndup(s + i, e - i);
			continue;
		}
		{
			int f;

			for (f = 0; f < SM_COUNT; f++) {
				size_t k = strlen(smaps_names[f]);

				if (n > k && !memcmp(s, smaps_names[f], k) && s[k] == ':') {
					cur->kb[f] = strtoull(s + k + 1, NULL, 10);
					break;
				}
			}
		}
	}
	return 0;
}

int status_parse(const char *text, size_t len, struct status_info *out)
{
	size_t pos = 0;

	memset(out, 0, sizeof(*out));
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len, n = end - pos;
		const char *s = text + pos;
		int f;

		pos = end + 1;
		for (f = 0; f < ST_COUNT; f++) {
			size_t k = strlen(status_names[f]);

			if (n > k && !memcmp(s, status_names[f], k) && s[k] == ':') {
				char tmp[64];
				size_t m =
				    n - k - 1 < sizeof(tmp) - 1 ? n - k - 1 : sizeof(tmp) - 1;

				memcpy(tmp, s + k + 1, m);
				tmp[m] = '\0';
				out->kb[f] = strtoull(tmp, NULL, 10);
				break;
			}
		}
	}
	return 0;
}
