// SPDX-License-Identifier: MIT
/*
 * Red-black interval tree of non-overlapping ranges (see tree.h for the contract).
 *
 * Invariants kept by insert/erase: the root is black, a red node has black children, and
 * every path from a node to a leaf crosses the same number of black nodes; so the depth
 * is at most 2 log2(n + 1) and erase does O(1) amortised rotations, which makes erasing k
 * neighbours O(k) amortised after the O(log n) search for the first.
 */
#include <errno.h>
#include <stdlib.h>

#include "tree.h"

#define SLAB_NODES 1024

struct ms_slab {
	struct ms_slab *next; /* older slab */
	size_t pad;	      /* keep nodes 16-byte aligned */
	struct ms_node nodes[SLAB_NODES];
};

void ms_tree_init(struct ms_tree *t)
{
	*t = (struct ms_tree){0};
}

void ms_tree_destroy(struct ms_tree *t)
{
	struct ms_slab *s = t->slabs;

	while (s) {
		struct ms_slab *next = s->next;

		free(s);
		s = next;
	}
	*t = (struct ms_tree){0};
}

/* ------------------------------------------------------------------ node supply */

int ms_tree_reserve(struct ms_tree *t, size_t n)
{
	while (t->free_count < n) {
		struct ms_slab *s = malloc(sizeof(*s));

		if (!s)
			return -ENOMEM;
		s->next = t->slabs;
		t->slabs = s;
		t->slab_nodes += SLAB_NODES;
		for (size_t i = 0; i < SLAB_NODES; i++)
			ms_tree_node_give(t, &s->nodes[i]);
	}
	return 0;
}

struct ms_node *ms_tree_node_take(struct ms_tree *t)
{
	struct ms_node *n = t->free_list;

	if (!n)
		return NULL;
	t->free_list = n->right;
	t->free_count--;
	*n = (struct ms_node){0};
	return n;
}

void ms_tree_node_give(struct ms_tree *t, struct ms_node *n)
{
	n->right = t->free_list;
	t->free_list = n;
	t->free_count++;
}

/* ------------------------------------------------------------------ search */

struct ms_node *ms_tree_lookup(const struct ms_tree *t, uint64_t addr)
{
	struct ms_node *n = t->root;

	while (n) {
		if (addr < n->start)
			n = n->left;
		else if (addr >= n->end)
			n = n->right;
		else
			return n;
	}
	return NULL;
}

/*
 * The first node with end > addr. Ends are ordered like starts, so this is a lower-bound
 * descent: a node ending above addr is a candidate and anything better is on its left;
 * a node ending at or below addr rules out its whole left subtree.
 */
struct ms_node *ms_tree_lower_bound(const struct ms_tree *t, uint64_t addr)
{
	struct ms_node *n = t->root, *best = NULL;

	while (n) {
		if (n->end > addr) {
			best = n;
			if (n->start <= addr)
				break; /* holds addr: nothing to its left can end above addr */
			n = n->left;
		} else {
			n = n->right;
		}
	}
	return best;
}

static struct ms_node *leftmost(struct ms_node *n)
{
	while (n->left)
		n = n->left;
	return n;
}

static struct ms_node *rightmost(struct ms_node *n)
{
	while (n->right)
		n = n->right;
	return n;
}

struct ms_node *ms_tree_first(const struct ms_tree *t)
{
	return t->root ? leftmost(t->root) : NULL;
}

struct ms_node *ms_tree_last(const struct ms_tree *t)
{
	return t->root ? rightmost(t->root) : NULL;
}

struct ms_node *ms_tree_next(const struct ms_node *n)
{
	const struct ms_node *p;

	if (n->right)
		return leftmost(n->right);
	while ((p = n->parent) && n == p->right)
		n = p;
	return (struct ms_node *)p;
}

struct ms_node *ms_tree_prev(const struct ms_node *n)
{
	const struct ms_node *p;

	if (n->left)
		return rightmost(n->left);
	while ((p = n->parent) && n == p->left)
		n = p;
	return (struct ms_node *)p;
}

/* ------------------------------------------------------------------ rebalancing */

static void replace_child(struct ms_tree *t, struct ms_node *parent, struct ms_node *old,
			  struct ms_node *new)
{
	if (!parent)
		t->root = new;
	else if (parent->left == old)
		parent->left = new;
	else
		parent->right = new;
}

static void rotate_left(struct ms_tree *t, struct ms_node *x)
{
	struct ms_node *y = x->right;

	x->right = y->left;
	if (y->left)
		y->left->parent = x;
	y->parent = x->parent;
	replace_child(t, x->parent, x, y);
	y->left = x;
	x->parent = y;
}

static void rotate_right(struct ms_tree *t, struct ms_node *x)
{
	struct ms_node *y = x->left;

	x->left = y->right;
	if (y->right)
		y->right->parent = x;
	y->parent = x->parent;
	replace_child(t, x->parent, x, y);
	y->right = x;
	x->parent = y;
}

static int is_red(const struct ms_node *n)
{
	return n && n->red;
}

/* z was just linked as a red leaf: restore "no red node has a red parent". */
static void insert_fixup(struct ms_tree *t, struct ms_node *z)
{
	struct ms_node *p, *g, *u;

	while ((p = z->parent) && p->red) {
		g = p->parent; /* exists: a red node is never the root */
		if (p == g->left) {
			u = g->right;
			if (is_red(u)) {
				p->red = 0;
				u->red = 0;
				g->red = 1;
				z = g;
				continue;
			}
			if (z == p->right) {
				rotate_left(t, p);
				z = p;
				p = z->parent;
			}
			p->red = 0;
			g->red = 1;
			rotate_right(t, g);
		} else {
			u = g->left;
			if (is_red(u)) {
				p->red = 0;
				u->red = 0;
				g->red = 1;
				z = g;
				continue;
			}
			if (z == p->left) {
				rotate_right(t, p);
				z = p;
				p = z->parent;
			}
			p->red = 0;
			g->red = 1;
			rotate_left(t, g);
		}
	}
	t->root->red = 0;
}

static void link_leaf(struct ms_tree *t, struct ms_node *parent, struct ms_node **slot,
		      struct ms_node *n)
{
	n->parent = parent;
	n->left = n->right = NULL;
	n->red = 1;
	*slot = n;
	t->count++;
	insert_fixup(t, n);
}

void ms_tree_insert(struct ms_tree *t, struct ms_node *n)
{
	struct ms_node *parent = NULL, **slot = &t->root;

	while (*slot) {
		parent = *slot;
		slot = n->start < parent->start ? &parent->left : &parent->right;
	}
	link_leaf(t, parent, slot, n);
}

void ms_tree_insert_after(struct ms_tree *t, struct ms_node *pos, struct ms_node *n)
{
	struct ms_node *p;

	if (!pos) {
		if (!t->root) {
			link_leaf(t, NULL, &t->root, n);
			return;
		}
		p = leftmost(t->root);
		link_leaf(t, p, &p->left, n);
		return;
	}
	if (!pos->right) {
		link_leaf(t, pos, &pos->right, n);
		return;
	}
	p = leftmost(pos->right);
	link_leaf(t, p, &p->left, n);
}

/* Restore black heights after removing a black node; x (maybe NULL) is one short. */
static void erase_fixup(struct ms_tree *t, struct ms_node *x, struct ms_node *xp)
{
	struct ms_node *w;

	while (x != t->root && !is_red(x)) {
		if (x == xp->left) {
			w = xp->right;
			if (w->red) {
				w->red = 0;
				xp->red = 1;
				rotate_left(t, xp);
				w = xp->right;
			}
			if (!is_red(w->left) && !is_red(w->right)) {
				w->red = 1;
				x = xp;
				xp = x->parent;
				continue;
			}
			if (!is_red(w->right)) {
				w->left->red = 0;
				w->red = 1;
				rotate_right(t, w);
				w = xp->right;
			}
			w->red = xp->red;
			xp->red = 0;
			w->right->red = 0;
			rotate_left(t, xp);
			x = t->root;
		} else {
			w = xp->left;
			if (w->red) {
				w->red = 0;
				xp->red = 1;
				rotate_right(t, xp);
				w = xp->left;
			}
			if (!is_red(w->left) && !is_red(w->right)) {
				w->red = 1;
				x = xp;
				xp = x->parent;
				continue;
			}
			if (!is_red(w->left)) {
				w->right->red = 0;
				w->red = 1;
				rotate_left(t, w);
				w = xp->left;
			}
			w->red = xp->red;
			xp->red = 0;
			w->left->red = 0;
			rotate_right(t, xp);
			x = t->root;
		}
	}
	if (x)
		x->red = 0;
}

/* Put v (maybe NULL) where u hangs. */
static void transplant(struct ms_tree *t, struct ms_node *u, struct ms_node *v)
{
	replace_child(t, u->parent, u, v);
	if (v)
		v->parent = u->parent;
}

void ms_tree_erase(struct ms_tree *t, struct ms_node *z)
{
	struct ms_node *x, *xp, *y;
	int removed_red;

	if (!z->left) {
		x = z->right;
		xp = z->parent;
		removed_red = z->red;
		transplant(t, z, x);
	} else if (!z->right) {
		x = z->left;
		xp = z->parent;
		removed_red = z->red;
		transplant(t, z, x);
	} else {
		/* Two children: the successor y takes z's place and colour. */
		y = leftmost(z->right);
		removed_red = y->red;
		x = y->right;
		if (y->parent == z) {
			xp = y;
		} else {
			xp = y->parent;
			transplant(t, y, x);
			y->right = z->right;
			y->right->parent = y;
		}
		transplant(t, z, y);
		y->left = z->left;
		y->left->parent = y;
		y->red = z->red;
	}
	t->count--;
	if (!removed_red)
		erase_fixup(t, x, xp);
}

/* ------------------------------------------------------------------ self-check */

static int check_node(const struct ms_node *n, const struct ms_node *parent, int *black,
		      const char **why)
{
	int lb, rb;

	if (!n) {
		*black = 1;
		return 0;
	}
	if (n->parent != parent)
		return *why = "parent link broken", -EFAULT;
	if (n->start >= n->end)
		return *why = "empty or inverted interval", -EFAULT;
	if (n->red && (is_red(n->left) || is_red(n->right)))
		return *why = "red node with a red child", -EFAULT;
	if (check_node(n->left, n, &lb, why) || check_node(n->right, n, &rb, why))
		return -EFAULT;
	if (lb != rb)
		return *why = "unequal black heights", -EFAULT;
	*black = lb + !n->red;
	return 0;
}

int ms_tree_check(const struct ms_tree *t, const char **why)
{
	const struct ms_node *n, *prev = NULL;
	size_t count = 0;
	int black;

	*why = NULL;
	if (is_red(t->root))
		return *why = "red root", -EFAULT;
	if (check_node(t->root, NULL, &black, why))
		return -EFAULT;
	for (n = ms_tree_first(t); n; n = ms_tree_next(n)) {
		if (prev && prev->end > n->start)
			return *why = "overlapping or unordered intervals", -EFAULT;
		prev = n;
		count++;
	}
	if (count != t->count)
		return *why = "node count differs from the walk", -EFAULT;
	return 0;
}
