/*
 * vma.c: the VMA tree of one address space.
 *
 * An AVL tree keyed by vm_start, threaded with prev/next links in address
 * order, and augmented as Linux's rbtree once was (rb_subtree_gap): each
 * node keeps the gap below it (vm_start - prev->vm_end) and the largest gap
 * in its subtree, so the top-down search for a free range is O(log n).
 *
 * Invariants (vma_tree_check):
 *   1. In-order traversal equals the prev/next list; VMAs are non-empty,
 *      page aligned by the caller, and do not overlap.
 *   2. height and max_gap of every node are right for its children.
 *   3. gap = vm_start - prev->vm_end, or vm_start for the first VMA.
 *   4. count is the number of nodes.
 * The caller holds the mm lock: exclusive to change, shared to read.
 */
#include <errno.h>
#include <stdio.h>

#include "mm.h"
#include "system.h"
#include "vma.h"

void vma_tree_init(struct vma_tree *t)
{
	t->root = NULL;
	t->first = NULL;
	t->last = NULL;
	t->count = 0;
}

static inline int height(const struct vma *v)
{
	return v ? v->height : 0;
}

static inline uint64_t max_gap(const struct vma *v)
{
	return v ? v->max_gap : 0;
}

static inline uint64_t max3(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t m = a > b ? a : b;

	return m > c ? m : c;
}

static void update(struct vma *v)
{
	int hl = height(v->left), hr = height(v->right);

	v->height = 1 + (hl > hr ? hl : hr);
	v->max_gap = max3(v->gap, max_gap(v->left), max_gap(v->right));
}

static struct vma *rotate_right(struct vma *v)
{
	struct vma *l = v->left;

	v->left = l->right;
	l->right = v;
	update(v);
	update(l);
	return l;
}

static struct vma *rotate_left(struct vma *v)
{
	struct vma *r = v->right;

	v->right = r->left;
	r->left = v;
	update(v);
	update(r);
	return r;
}

static struct vma *rebalance(struct vma *v)
{
	int bal;

	update(v);
	bal = height(v->left) - height(v->right);
	if (bal > 1) {
		if (height(v->left->left) < height(v->left->right))
			v->left = rotate_left(v->left);
		return rotate_right(v);
	}
	if (bal < -1) {
		if (height(v->right->right) < height(v->right->left))
			v->right = rotate_right(v->right);
		return rotate_left(v);
	}
	return v;
}

static struct vma *tree_insert(struct vma *node, struct vma *v)
{
	if (!node)
		return v;
	if (v->vm_start < node->vm_start)
		node->left = tree_insert(node->left, v);
	else
		node->right = tree_insert(node->right, v);
	return rebalance(node);
}

/* Detaches the leftmost node of the subtree into *min. */
static struct vma *remove_min(struct vma *node, struct vma **min)
{
	if (!node->left) {
		*min = node;
		return node->right;
	}
	node->left = remove_min(node->left, min);
	return rebalance(node);
}

static struct vma *tree_remove(struct vma *node, const struct vma *v)
{
	struct vma *min;

	if (node == v) {
		if (!node->right)
			return node->left;
		node->right = remove_min(node->right, &min);
		min->left = node->left;
		min->right = node->right;
		return rebalance(min);
	}
	if (v->vm_start < node->vm_start)
		node->left = tree_remove(node->left, v);
	else
		node->right = tree_remove(node->right, v);
	return rebalance(node);
}

/* Recomputes max_gap on the path from the root to v. */
static void fix_path(struct vma *node, const struct vma *v)
{
	if (!node)
		return;
	if (node != v)
		fix_path(v->vm_start < node->vm_start ? node->left : node->right, v);
	update(node);
}

static void set_gap(struct vma_tree *t, struct vma *v)
{
	uint64_t g = v->vm_start - (v->prev ? v->prev->vm_end : 0);

	if (g != v->gap) {
		v->gap = g;
		fix_path(t->root, v);
	}
}

struct vma *vma_find(const struct vma_tree *t, uint64_t addr)
{
	struct vma *node = t->root, *best = NULL;

	while (node) {
		if (node->vm_end > addr) {
			best = node;
			if (node->vm_start <= addr)
				return node;
			node = node->left;
		} else {
			node = node->right;
		}
	}
	return best;
}

struct vma *vma_lookup(const struct vma_tree *t, uint64_t addr)
{
	struct vma *v = vma_find(t, addr);

	return v && v->vm_start <= addr ? v : NULL;
}

void vma_insert(struct vma_tree *t, struct vma *v)
{
	struct vma *next = vma_find(t, v->vm_start);
	struct vma *prev = next ? next->prev : t->last;

	v->prev = prev;
	v->next = next;
	if (prev)
		prev->next = v;
	else
		t->first = v;
	if (next)
		next->prev = v;
	else
		t->last = v;
	v->left = NULL;
	v->right = NULL;
	v->gap = v->vm_start - (prev ? prev->vm_end : 0);
	v->max_gap = v->gap;
	v->height = 1;
	t->root = tree_insert(t->root, v);
	t->count++;
	if (next)
		set_gap(t, next);
}

void vma_remove(struct vma_tree *t, struct vma *v)
{
	struct vma *next = v->next;

	t->root = tree_remove(t->root, v);
	if (v->prev)
		v->prev->next = next;
	else
		t->first = next;
	if (next)
		next->prev = v->prev;
	else
		t->last = v->prev;
	t->count--;
	v->prev = v->next = v->left = v->right = NULL;
	if (next)
		set_gap(t, next);
}

void vma_bounds_changed(struct vma_tree *t, struct vma *v)
{
	set_gap(t, v);
	if (v->next)
		set_gap(t, v->next);
}

/*
 * The highest fit in node's subtree. Gaps of the right subtree lie above
 * node->vm_end; gaps of the left subtree end at or below node->vm_start -
 * node->gap. Subtrees that cannot hold len inside [low, high) are pruned.
 */
static uint64_t topdown(const struct vma *node, uint64_t len, uint64_t low, uint64_t high)
{
	uint64_t r, gs, ge;

	if (!node || node->max_gap < len)
		return 0;
	if (node->right && node->vm_end <= high && high - node->vm_end >= len) {
		r = topdown(node->right, len, low, high);
		if (r)
			return r;
	}
	if (node->gap >= len) {
		gs = node->vm_start - node->gap;
		ge = node->vm_start;
		if (ge > high)
			ge = high;
		if (gs < low)
			gs = low;
		if (ge > gs && ge - gs >= len)
			return ge - len;
	}
	if (node->left && node->vm_start - node->gap >= low + len)
		return topdown(node->left, len, low, high);
	return 0;
}

uint64_t vma_gap_topdown(const struct vma_tree *t, uint64_t len, uint64_t low, uint64_t high)
{
	uint64_t top_start = t->last ? t->last->vm_end : 0;

	if (len == 0 || high < low || high - low < len)
		return 0;
	/* The gap above the last VMA. */
	if (top_start < high) {
		uint64_t gs = top_start > low ? top_start : low;

		if (high - gs >= len)
			return high - len;
	}
	return topdown(t->root, len, low, high);
}

bool vma_range_free(const struct vma_tree *t, uint64_t start, uint64_t end)
{
	const struct vma *v = vma_find(t, start);

	return !v || v->vm_start >= end;
}

static int check_node(const struct vma *v, char *why, size_t n)
{
	if (!v)
		return 0;
	if (check_node(v->left, why, n) || check_node(v->right, why, n))
		return -EUCLEAN;
	if ((v->left && v->left->vm_start >= v->vm_start) ||
	    (v->right && v->right->vm_start <= v->vm_start)) {
		snprintf(why, n, "vma tree out of order at %#llx", (unsigned long long)v->vm_start);
		return -EUCLEAN;
	}
	if (v->height != 1 + (height(v->left) > height(v->right) ? height(v->left)
								   : height(v->right)) ||
	    height(v->left) - height(v->right) > 1 || height(v->right) - height(v->left) > 1) {
		snprintf(why, n, "vma tree unbalanced at %#llx", (unsigned long long)v->vm_start);
		return -EUCLEAN;
	}
	if (v->max_gap != max3(v->gap, max_gap(v->left), max_gap(v->right))) {
		snprintf(why, n, "vma max_gap wrong at %#llx", (unsigned long long)v->vm_start);
		return -EUCLEAN;
	}
	return 0;
}

/* In-order walk compared against the list; returns the next expected. */
static const struct vma *check_order(const struct vma *node, const struct vma *expect,
				     uint32_t *seen, int *bad)
{
	if (!node || *bad)
		return expect;
	expect = check_order(node->left, expect, seen, bad);
	if (node != expect)
		*bad = 1;
	(*seen)++;
	expect = node->next;
	return check_order(node->right, expect, seen, bad);
}

int vma_tree_check(const struct vma_tree *t, char *why, size_t n)
{
	const struct vma *v, *prev = NULL;
	uint32_t count = 0, seen = 0;
	int bad = 0;

	for (v = t->first; v; prev = v, v = v->next) {
		if (v->prev != prev) {
			snprintf(why, n, "vma list back link wrong at %#llx",
				 (unsigned long long)v->vm_start);
			return -EUCLEAN;
		}
		if (v->vm_start >= v->vm_end || (prev && prev->vm_end > v->vm_start)) {
			snprintf(why, n, "vma [%#llx, %#llx) empty or overlapping",
				 (unsigned long long)v->vm_start, (unsigned long long)v->vm_end);
			return -EUCLEAN;
		}
		if (v->gap != v->vm_start - (prev ? prev->vm_end : 0)) {
			snprintf(why, n, "vma gap wrong at %#llx", (unsigned long long)v->vm_start);
			return -EUCLEAN;
		}
		count++;
	}
	if (prev != t->last || count != t->count) {
		snprintf(why, n, "vma count %u, list has %u", t->count, count);
		return -EUCLEAN;
	}
	check_order(t->root, t->first, &seen, &bad);
	if (bad || seen != count) {
		snprintf(why, n, "vma tree and list disagree");
		return -EUCLEAN;
	}
	return check_node(t->root, why, n);
}

/*
 * Everything a merge of a (directly below b) needs but anon_vma
 * compatibility, their flags compared but for those in ignore.
 */
bool vma_props_mergeable(const struct mm *mm, const struct vma *a, const struct vma *b,
			 uint64_t ignore)
{
	if (a->vm_pgoff + pg_count(&mm->sys->geom, a->vm_end - a->vm_start) != b->vm_pgoff)
		return false;
	if (a->vm_end != b->vm_start)
		return false;
	/* Sticky flags do not keep VMAs apart; the merged VMA has them (absorb). */
	if ((a->vm_flags ^ b->vm_flags) & ~(VM_SOFTDIRTY | VM_MAYBE_GUARD | ignore))
		return false;
	if (a->vm_flags & VM_SPECIAL)
		return false;
	/* The same open file, as Linux compares struct file, not the inode. */
	return a->vm_inode == b->vm_inode && a->vm_file == b->vm_file;
}

uint64_t vma_pages_in(const struct mm *mm, uint64_t start, uint64_t end, uint64_t mask)
{
	uint64_t pages = 0;

	for (const struct vma *v = vma_find(&mm->vmas, start); v && v->vm_start < end;
	     v = v->next) {
		uint64_t s = v->vm_start > start ? v->vm_start : start;
		uint64_t e = v->vm_end < end ? v->vm_end : end;

		if ((v->vm_flags & mask) == mask)
			pages += pg_count(&mm->sys->geom, e - s);
	}
	return pages;
}
