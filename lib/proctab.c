// SPDX-License-Identifier: MIT
/* The process table (proctab.h): pid lookup, creation order, and what process events do. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proctab.h"

#define PT_BITS_MIN 10 /* 1024 buckets at first: a tree of processes rarely needs more */
#define PT_LOAD	    2  /* entries per bucket before the buckets double */

/* ------------------------------------------------------------------ entries */

static size_t pt_slot(uint32_t pid, uint32_t bits)
{
	return (pid * 2654435761u) >> (32 - bits); /* as ms_proctab_find() */
}

int ms_proctab_init(struct ms_proctab *t, const struct ms_proctab_ops *ops)
{
	memset(t, 0, sizeof(*t));
	if (ops)
		t->ops = *ops;
	if (t->ops.entry_size < t->ops.offset + sizeof(struct ms_proc))
		t->ops.entry_size = t->ops.offset + sizeof(struct ms_proc);
	t->bits = PT_BITS_MIN;
	t->buckets = calloc((size_t)1 << t->bits, sizeof(*t->buckets));
	return t->buckets ? 0 : -ENOMEM;
}

static void pt_entry_free(struct ms_proctab *t, struct ms_proc *p)
{
	free((char *)p - t->ops.offset);
}

void ms_proctab_destroy(struct ms_proctab *t)
{
	for (size_t i = 0; i < t->n; i++) {
		ms_space_free(t->order[i]->sp);
		pt_entry_free(t, t->order[i]);
	}
	free(t->order);
	free(t->buckets);
	memset(t, 0, sizeof(*t));
}

/* Twice the buckets. Best effort: without it chains are only longer. */
static void pt_rehash(struct ms_proctab *t)
{
	uint32_t bits = t->bits + 1;
	struct ms_proc **b = calloc((size_t)1 << bits, sizeof(*b));

	if (!b)
		return;
	for (size_t i = 0; i < t->n; i++) {
		struct ms_proc *p = t->order[i];
		size_t s = pt_slot(p->pid, bits);

		p->hnext = b[s];
		b[s] = p;
	}
	free(t->buckets);
	t->buckets = b;
	t->bits = bits;
}

/* A new entry for pid, not linked yet; room in order is reserved, so linking cannot fail. */
static struct ms_proc *pt_entry_new(struct ms_proctab *t, uint32_t pid)
{
	struct ms_proc *p;
	char *e;

	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		struct ms_proc **v = realloc(t->order, cap * sizeof(*v));

		if (!v)
			return NULL;
		t->order = v;
		t->cap = cap;
	}
	e = calloc(1, t->ops.entry_size);
	if (!e)
		return NULL;
	p = (struct ms_proc *)(e + t->ops.offset);
	p->pid = pid;
	p->exit_code = -1;
	if (t->ops.init)
		t->ops.init(t->ops.ctx, p);
	/* cppcheck-suppress memleak ; e is p - offset, freed by pt_entry_free() */
	return p;
}

static void pt_link(struct ms_proctab *t, struct ms_proc *p)
{
	size_t s;

	if (t->n >= (size_t)PT_LOAD << t->bits && t->bits < 30)
		pt_rehash(t);
	s = pt_slot(p->pid, t->bits);
	p->hnext = t->buckets[s];
	t->buckets[s] = p;
	t->order[t->n++] = p;
}

struct ms_proc *ms_proctab_add(struct ms_proctab *t, uint32_t pid)
{
	struct ms_proc *p = ms_proctab_find(t, pid);

	if (p)
		return p;
	p = pt_entry_new(t, pid);
	if (p)
		pt_link(t, p);
	return p;
}

void ms_proc_set_exit(struct ms_proc *p, int code, int sig)
{
	/* A status learned later (the source's exit record) beats "ended, status unknown". */
	if (p->exited && ms_proc_status_known(p))
		return;
	p->exited = true;
	p->exit_code = code;
	p->exit_signal = sig;
}

/* ------------------------------------------------------------------ process events */

static struct ms_space *pt_space_new(struct ms_proctab *t, struct ms_proc *p,
				     struct ms_space *parent)
{
	if (t->ops.space_new)
		return t->ops.space_new(t->ops.ctx, p, parent);
	return parent ? ms_space_clone(parent, NULL) : ms_space_new(NULL);
}

/*
 * Two steps: everything that may fail (the entry, the space) is made first, and only then
 * is the entry changed, so a failure leaves the table as it was.
 */
int ms_proctab_apply(struct ms_proctab *t, const struct ms_event *ev, struct ms_pt_change *c)
{
	struct ms_proc *p = ms_proctab_find(t, ev->pid), *parent = NULL;
	bool fork = ev->op == MS_OP_PROC_FORK, created = false, new_life;
	struct ms_space *sp = NULL;

	memset(c, 0, sizeof(*c));
	c->proc = p;
	if (fork && ev->arg <= UINT32_MAX)
		parent = c->parent = ms_proctab_find(t, (uint32_t)ev->arg);
	if (!p) {
		p = pt_entry_new(t, ev->pid);
		if (!p)
			return -ENOMEM;
		created = true;
	}
	new_life = fork && p->exited;
	if (!p->sp || (fork && new_life)) {
		sp = pt_space_new(t, p, fork && parent ? parent->sp : NULL);
		if (!sp) {
			if (created)
				pt_entry_free(t, p);
			return -ENOMEM;
		}
	}

	c->proc = p;
	if (created) {
		pt_link(t, p);
		c->what |= MS_PT_CREATED;
	}
	if (new_life) {
		p->exited = false;
		p->exit_code = -1;
		p->exit_signal = 0;
		c->what |= MS_PT_NEW_LIFE;
	}
	if (sp) {
		if (p->sp && t->ops.space_old)
			t->ops.space_old(t->ops.ctx, p, p->sp);
		else
			ms_space_free(p->sp);
		p->sp = sp;
		c->what |= MS_PT_SPACE;
		if (fork && parent && parent->sp)
			c->what |= MS_PT_CLONED;
	}
	switch (ev->op) {
	case MS_OP_PROC_FORK:
		p->ppid = ev->arg <= UINT32_MAX ? (uint32_t)ev->arg : 0;
		break;
	case MS_OP_PROC_EXEC:
		if (!sp) { /* a new space is empty already */
			ms_space_lock(p->sp);
			ms_space_clear_locked(p->sp);
			ms_space_unlock(p->sp);
			c->what |= MS_PT_CLEARED;
		}
		break;
	case MS_OP_PROC_EXIT:
		ms_proc_set_exit(p, ev->result, (int)ev->aux);
		c->what |= MS_PT_EXITED;
		break;
	default:
		break;
	}
	return 0;
}

int ms_proctab_get(struct ms_proctab *t, uint32_t pid, struct ms_pt_change *c)
{
	struct ms_event ev = {.op = MS_OP_ALLOC, .pid = pid}; /* any event that is not a
								 process event */

	return ms_proctab_apply(t, &ev, c);
}
