/* SPDX-License-Identifier: MIT */
/*
 * The naive model the shadow space is checked against: one entry per page, each
 * operation applied page by page as SPEC sections 2 and 3 say. Shared by the differential
 * test (tests/unit/test_space.c, fixed seed) and the "space" fuzz target.
 */
#ifndef MEMSTATE_TEST_PAGE_MODEL_H
#define MEMSTATE_TEST_PAGE_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "memstate/space.h"

struct page {
	uint8_t state, huge, file, inferred, thp;
	uint16_t stat;
};

/* The violation the contract (SPEC 3) wants for ev over pages [p0, p0 + np) of model,
 * given the bytes it found in each state. */
static inline unsigned page_model_violation(const struct page *model, uint64_t ps,
					    const struct ms_event *ev, const uint64_t from[4],
					    uint64_t p0, uint64_t np)
{
	uint64_t len = np * ps;
	bool other = false;

	if (ev->source != MS_SRC_API && ev->source != MS_SRC_UPROBE)
		return 0;
	for (uint64_t i = p0; i < p0 + np; i++)
		other |= model[i].stat && model[i].stat != ev->stat;
	switch (ev->op) {
	case MS_OP_ALLOC:
	case MS_OP_RESERVE:
		return from[MS_NONE] != len ? MS_V_ILLEGAL_TRANSITION : 0;
	case MS_OP_MAP:
		return from[MS_RESERVED] != len ? MS_V_ILLEGAL_TRANSITION : 0;
	case MS_OP_USED:
		if (from[MS_NONE] || from[MS_RESERVED])
			return MS_V_ILLEGAL_TRANSITION;
		return ev->arg != from[MS_PREPARED] ? MS_V_ACCOUNTING_MISMATCH : 0;
	case MS_OP_UNUSED:
	case MS_OP_FAULT:
		return from[MS_READY] != len ? MS_V_ILLEGAL_TRANSITION : 0;
	case MS_OP_FREE:
		if (from[MS_NONE])
			return MS_V_DOUBLE_FREE;
		return other ? MS_V_ACCOUNTING_MISMATCH : 0;
	case MS_OP_HUGE_PAGE:
	case MS_OP_NO_HUGE_PAGE:
	case MS_OP_HUGE_PAGE_COLLAPSE:
		return from[MS_NONE] || from[MS_RESERVED] ? MS_V_HINT_ON_UNMAPPED : 0;
	default:
		return 0;
	}
}

/* What ev does to pages [p0, p0 + np) of model (SPEC 2): nothing when it was refused. */
static inline void page_model_apply(struct page *model, const struct ms_event *ev, uint64_t p0,
				    uint64_t np)
{
	bool infer = ev->source != MS_SRC_API && ev->source != MS_SRC_UPROBE;

	if (ev->result)
		return;
	for (uint64_t i = p0; i < p0 + np; i++) {
		struct page *p = &model[i];

		switch (ev->op) {
		case MS_OP_ALLOC:
			*p = (struct page){.state = MS_READY, .stat = ev->stat};
			break;
		case MS_OP_RESERVE:
			*p = (struct page){.state = MS_RESERVED};
			break;
		case MS_OP_MAP:
			*p = (struct page){
				.state = MS_PREPARED, .stat = ev->stat, .inferred = infer};
			break;
		case MS_OP_USED:
			if (!p->file && p->state == MS_PREPARED) {
				p->state = MS_READY;
				p->inferred = 0;
			}
			break;
		case MS_OP_UNUSED:
			if (!p->file && p->state == MS_READY) {
				p->state = MS_PREPARED;
				p->inferred = infer;
				p->thp = 0;
			}
			break;
		case MS_OP_FREE:
			*p = (struct page){0};
			break;
		case MS_OP_FAULT:
			*p = (struct page){.state = MS_RESERVED, .stat = p->stat};
			break;
		case MS_OP_HUGE_PAGE:
		case MS_OP_NO_HUGE_PAGE:
			if (p->state != MS_NONE)
				p->huge = ev->op == MS_OP_HUGE_PAGE ? 1 : 2;
			break;
		case MS_OP_HUGE_PAGE_COLLAPSE:
			if (!p->file && (p->state == MS_PREPARED || p->state == MS_READY))
				p->thp = 1;
			break;
		case MS_OP_FILE_MAP:
			*p = (struct page){.state = MS_READY, .file = 1};
			break;
		}
	}
}

/* Whether two pages of the model are alike (could share one interval of the map). */
static inline bool page_model_same(const struct page *a, const struct page *b)
{
	return a->state == b->state && a->huge == b->huge && a->file == b->file &&
	       a->inferred == b->inferred && a->thp == b->thp && a->stat == b->stat;
}

#endif
