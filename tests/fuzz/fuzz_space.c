// SPDX-License-Identifier: MIT
/*
 * Fuzz target "space": the shadow space against a naive model, one byte array entry per
 * page (the differential test of tests/unit/test_space.c, driven by the fuzzer instead of
 * a fixed seed, and with the ranges a hostile caller would pass: misaligned, zero-length,
 * NULL, wrapping, beyond the model).
 *
 * For every operation: the recorded `from` bytes and violation kind equal the model's.
 * Every few operations and at the end: the map equals the model page by page (intervals
 * maximal), per-state and per-stat bytes equal a recount of the model, ms_space_verify()
 * is clean. Clones (a forked child) and clears (an exec) are checked the same way.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>

#include "fuzz.h"
#include "memstate/space.h"
#include "tests/page_model.h"

#define PS     4096ull
#define BASE   0x10000000ull
#define NPAGES 256
#define NSTATS 4

static struct page model[NPAGES];

/* ------------------------------------------------------------------ comparing */

struct cmp_ctx {
	uint64_t page; /* next page expected */
	const struct page *m;
	int bad;
	char why[200];
};

static int cmp_region(const struct ms_region *r, void *arg)
{
	struct cmp_ctx *c = arg;
	const struct page *m = c->m;
	uint64_t p0, p1;

	if (r->start < BASE || r->end > BASE + NPAGES * PS || r->start >= r->end ||
	    (r->start | r->end) & (PS - 1)) {
		snprintf(c->why, sizeof(c->why), "interval [%#" PRIx64 ", %#" PRIx64 ") outside",
			 r->start, r->end);
		return c->bad = 1;
	}
	p0 = (r->start - BASE) / PS;
	p1 = (r->end - BASE) / PS;
	for (; c->page < p0; c->page++) {
		if (m[c->page].state != MS_NONE) {
			snprintf(c->why, sizeof(c->why), "page %" PRIu64 " should be tracked",
				 c->page);
			return c->bad = 1;
		}
	}
	if (p0 < c->page) {
		snprintf(c->why, sizeof(c->why), "intervals overlap at page %" PRIu64, p0);
		return c->bad = 1;
	}
	for (uint64_t i = p0; i < p1; i++) {
		const struct page *p = &m[i];

		if (p->state != r->state || p->huge != r->huge ||
		    p->file != (r->kind == MS_KIND_FILE) ||
		    p->inferred != !!(r->flags & MS_RF_INFERRED) ||
		    p->thp != !!(r->flags & MS_RF_THP) || p->stat != r->stat) {
			snprintf(c->why, sizeof(c->why),
				 "page %" PRIu64 ": model state %u stat %u huge %u file %u inf %u "
				 "thp %u; tree %u/%u/%u/%u/%u/%u",
				 i, p->state, p->stat, p->huge, p->file, p->inferred, p->thp,
				 r->state, r->stat, r->huge, r->kind, r->flags & MS_RF_INFERRED,
				 r->flags & MS_RF_THP);
			return c->bad = 1;
		}
	}
	if (p1 < NPAGES && m[p1].state != MS_NONE && page_model_same(&m[p1], &m[p1 - 1]) &&
	    c->page != p1) {
		/* the next interval must start here and differ: checked when it comes */
	}
	c->page = p1;
	return 0;
}

/* The map equals the model (maximal intervals), counters equal a recount, verify clean. */
static void compare(struct ms_space *sp, const struct page *m, const char *when)
{
	struct cmp_ctx c = {.m = m};
	uint64_t bytes[MS_STATE_COUNT] = {0}, file = 0, stat[NSTATS] = {0};
	struct ms_snapshot *snap;
	struct ms_totals t;
	char why[200];

	ms_space_foreach_region(sp, cmp_region, &c);
	for (; !c.bad && c.page < NPAGES; c.page++) {
		if (m[c.page].state != MS_NONE) {
			snprintf(c.why, sizeof(c.why), "page %" PRIu64 " missing", c.page);
			c.bad = 1;
		}
	}
	fuzz_check(!c.bad, "%s: %s", when, c.why);
	/* maximal intervals: a snapshot has no two equal neighbours that touch */
	snap = ms_space_snapshot(sp);
	fuzz_check(snap != NULL, "%s: snapshot failed", when);
	for (size_t i = 1; i < snap->nregions; i++) {
		const struct ms_region *a = &snap->regions[i - 1], *b = &snap->regions[i];

		fuzz_check(a->end <= b->start, "%s: snapshot out of order", when);
		fuzz_check(!(a->end == b->start && a->state == b->state && a->huge == b->huge &&
			     a->kind == b->kind && a->flags == b->flags && a->stat == b->stat),
			   "%s: equal neighbours at %#" PRIx64 " not merged", when, b->start);
	}
	ms_snapshot_free(snap);
	for (int k = 0; k < NPAGES; k++) {
		if (m[k].file)
			file += PS;
		else
			bytes[m[k].state] += PS;
		stat[m[k].stat % NSTATS] += m[k].stat ? PS : 0;
	}
	ms_space_totals(sp, &t);
	for (int s = MS_RESERVED; s < MS_STATE_COUNT; s++)
		fuzz_check(t.bytes[s] == bytes[s], "%s: %s bytes %" PRIu64 ", model %" PRIu64, when,
			   ms_state_name((unsigned)s), t.bytes[s], bytes[s]);
	fuzz_check(t.file_bytes == file, "%s: file bytes %" PRIu64 ", model %" PRIu64, when,
		   t.file_bytes, file);
	for (unsigned s = 1; s < NSTATS; s++) {
		struct ms_stat_info si;

		fuzz_check(!ms_space_stat_info(sp, s, &si), "%s: stat %u unknown", when, s);
		fuzz_check(si.bytes == stat[s], "%s: stat %s %" PRIu64 ", model %" PRIu64, when,
			   si.name, si.bytes, stat[s]);
	}
	fuzz_check(!ms_space_verify(sp, why, sizeof(why)), "%s: verify: %s", when, why);
}

/* ------------------------------------------------------------------ the target */

static struct ms_space *new_space(struct ms_space *parent)
{
	struct ms_space_opts o = {.page_size = PS, .log_capacity = 64, .max_violations = 16};
	struct ms_space *sp = parent ? ms_space_clone(parent, &o) : ms_space_new(&o);

	fuzz_check(sp != NULL, "no space");
	return sp;
}

static void drain(struct ms_space *sp)
{
	struct ms_event evs[64];

	while (ms_space_events_read(sp, evs, 64))
		;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/*
 * Each operation takes 6 bytes: kind, first page, page count, flags (source, stat, a
 * refused call, a lying `prepared`), and a range mutation (misaligned, zero, NULL, wrap,
 * outside the model).
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {.p = data, .n = size};
	struct ms_space *sp = new_space(NULL);
	uint16_t stats[NSTATS] = {0};
	uint64_t ops = 0;

	memset(model, 0, sizeof(model));
	stats[1] = (uint16_t)ms_space_stat_id(sp, "heap");
	stats[2] = (uint16_t)ms_space_stat_id(sp, "stack");
	stats[3] = (uint16_t)ms_space_stat_id(sp, "meta");
	fuzz_check(stats[1] == 1 && stats[2] == 2 && stats[3] == 3, "stat ids");
	while (fuzz_left(&in) && ops < 4096) {
		uint8_t kind = fuzz_u8(&in), pg = fuzz_u8(&in), cnt = fuzz_u8(&in);
		uint8_t fl = fuzz_u8(&in), mut = fuzz_u8(&in), extra = fuzz_u8(&in);
		unsigned o = kind % 16;
		uint64_t p0 = pg % NPAGES, np, want_from[MS_STATE_COUNT] = {0};
		struct ms_event ev = {.pid = 1, .tid = 1};
		unsigned want_v;
		int ret;

		ops++;
		if (o == 13) { /* a fork: the child's space is a copy; continue in it */
			struct ms_space *child = new_space(sp);

			compare(child, model, "clone");
			ms_space_free(sp);
			sp = child;
			continue;
		}
		if (o == 14) { /* an exec: the map is forgotten, counters stay */
			ms_space_lock(sp);
			ms_space_clear_locked(sp);
			ms_space_unlock(sp);
			memset(model, 0, sizeof(model));
			compare(sp, model, "clear");
			continue;
		}
		if (o == 15) {
			compare(sp, model, "check");
			continue;
		}
		if (o == MS_OP_THP_COLLAPSE)
			o = MS_OP_HUGE_PAGE_COLLAPSE;
		np = 1 + (cnt & 0x80 ? cnt % 128 : cnt % 8);
		if (p0 + np > NPAGES)
			np = NPAGES - p0;
		ev.op = (uint8_t)o;
		ev.source = fl % 4 == 0 ? MS_SRC_SYSCALL : fl % 4 == 1 ? MS_SRC_UPROBE : MS_SRC_API;
		ev.stat = stats[(fl >> 2) % NSTATS];
		ev.result = (fl >> 4) % 16 == 0 ? ENOMEM : 0;
		ev.kind = o == MS_OP_FILE_MAP ? MS_KIND_FILE : MS_KIND_ANON;
		if (o == MS_OP_PAGE_FAULT) {
			np = 1;
			ev.source = MS_SRC_KERNEL;
			ev.addr = BASE + p0 * PS + (uint64_t)extra * 16;
			ev.flags = fl & 1 ? MS_EVF_WRITE : 0;
			ev.result = 0;
		} else {
			ev.addr = BASE + p0 * PS;
			ev.len = np * PS;
		}
		if (o == MS_OP_FILE_MAP)
			ev.source = MS_SRC_SYSCALL;
		for (uint64_t k = p0; k < p0 + np; k++)
			want_from[model[k].state] += PS;
		if (o == MS_OP_USED) /* mostly the exact count, sometimes a lie */
			ev.arg = (fl >> 6) ? want_from[MS_PREPARED]
					   : want_from[MS_PREPARED] + PS * (1 + extra % 3);
		/* Ranges no model page can hold: refused, nothing changes. */
		if (o != MS_OP_PAGE_FAULT && mut >= 0xf0) {
			bool semantic = ev.source == MS_SRC_API || ev.source == MS_SRC_UPROBE;
			unsigned expect = 0;

			switch (mut & 7) {
			case 0:
				ev.addr += 1 + extra % (PS - 1);
				expect = MS_V_MISALIGNED;
				break;
			case 1:
				ev.len += 1 + extra;
				expect = MS_V_MISALIGNED;
				break;
			case 2:
				ev.len = 0;
				expect = MS_V_INVALID_RANGE;
				break;
			case 3:
				ev.addr = 0;
				expect = MS_V_INVALID_RANGE;
				if (!semantic ||
				    ((o == MS_OP_ALLOC || o == MS_OP_RESERVE) && ev.result))
					expect = 0; /* may be recorded as a range at 0 */
				break;
			case 4:
				ev.addr = UINT64_MAX - PS + 1;
				ev.len = 2 * PS;
				expect = MS_V_INVALID_RANGE;
				break;
			default: /* far away from the model: must not touch it */
				ev.addr = 0x7f0000000000ull + (uint64_t)extra * PS;
				break;
			}
			if ((mut & 7) < 5 && !(expect == 0 && (mut & 7) == 3)) {
				ret = ms_space_apply(sp, &ev);
				fuzz_check(ret >= 0, "refused range: %d", ret);
				fuzz_check(ev.to == MS_STATE_UNCHANGED,
					   "refused range [%#" PRIx64 "+%#" PRIx64 ") moved bytes",
					   ev.addr, ev.len);
				/* ... marked failed, except an alloc or reserve at NULL, which a
				 * replay would read as "no address" (lib/space.c) */
				fuzz_check(ev.result != 0 ||
						   ((o == MS_OP_ALLOC || o == MS_OP_RESERVE) &&
						    !ev.addr),
					   "refused range without errno");
				fuzz_check(ev.violation == (semantic ? expect : 0),
					   "%s src %u bad range: violation %u, want %u",
					   ms_op_name(o), ev.source, ev.violation,
					   semantic ? expect : 0);
				drain(sp);
				continue;
			}
			if ((mut & 7) >= 5 || !ev.result) {
				/* Outside the model (far away, or at 0 from a syscall, which Linux
				 * allows): applied, then freed again by a syscall so the model
				 * stays whole; violations there are the space's business. */
				uint64_t a = ev.addr, n = ev.len;

				ret = ms_space_apply(sp, &ev);
				fuzz_check(ret >= 0, "far range: %d", ret);
				ev = (struct ms_event){.op = MS_OP_FREE,
						       .source = MS_SRC_SYSCALL,
						       .addr = a,
						       .len = n,
						       .pid = 1,
						       .tid = 1};
				ms_space_apply(sp, &ev);
				drain(sp);
				continue;
			}
			/* addr 0 on a refused alloc/reserve: an ordinary refused operation */
			ret = ms_space_apply(sp, &ev);
			fuzz_check(ret >= 0 && ev.to == MS_STATE_UNCHANGED, "refused at 0");
			drain(sp);
			continue;
		}
		if (o == MS_OP_PAGE_FAULT) {
			const struct page *p = &model[p0];

			want_v = p->state == MS_RESERVED && !p->file	   ? MS_V_ACCESS_RESERVED
				 : p->state == MS_PREPARED && !p->inferred ? MS_V_ACCESS_PREPARED
									   : 0;
		} else {
			want_v = page_model_violation(model, PS, &ev, want_from, p0, np);
		}
		ret = ms_space_apply(sp, &ev);
		fuzz_check(ret >= 0, "apply: %d", ret);
		if (o != MS_OP_PAGE_FAULT && o != MS_OP_THP_COLLAPSE)
			fuzz_check(!memcmp(ev.from, want_from, sizeof(want_from)),
				   "op %" PRIu64 " %s src %u [%" PRIu64 "+%" PRIu64 "]: from "
				   "R%" PRIu64 "/P%" PRIu64 "/Y%" PRIu64 " want R%" PRIu64
				   "/P%" PRIu64 "/Y%" PRIu64,
				   ops, ms_op_name(o), ev.source, p0, np, ev.from[1], ev.from[2],
				   ev.from[3], want_from[1], want_from[2], want_from[3]);
		fuzz_check(ev.violation == want_v,
			   "op %" PRIu64 " %s src %u [%" PRIu64 "+%" PRIu64
			   "]: violation %u, want %u",
			   ops, ms_op_name(o), ev.source, p0, np, ev.violation, want_v);
		if (o == MS_OP_PAGE_FAULT) {
			struct page *p = &model[p0];

			if (p->state == MS_PREPARED && p->inferred && !p->file) {
				p->state = MS_READY;
				p->inferred = 0;
			}
		} else if (o != MS_OP_THP_COLLAPSE) {
			page_model_apply(model, &ev, p0, np);
		}
		drain(sp);
	}
	compare(sp, model, "end");
	ms_space_free(sp);
	return 0;
}
