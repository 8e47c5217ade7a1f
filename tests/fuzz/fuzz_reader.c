// SPDX-License-Identifier: MIT
/*
 * Fuzz target "reader": the timeline reader (both forms) and the replay behind `memstate
 * check`, on hostile input.
 *
 * Oracles besides "no crash, no leak, no undefined behaviour":
 *  - every shadow space the replay built passes ms_space_verify();
 *  - whatever the reader accepts, `convert` copies (json <-> jsonl), and the copy reads back
 *    whole, with as many events, and no new disagreement;
 *  - the copy is a fixed point: copying it again gives the same bytes.
 */
#include <errno.h>

#include "export/convert.h"
#include "export/playback.h"
#include "fuzz.h"

static struct fuzz_file in, copy, again;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_file_init(&in, "fuzz-in");
	fuzz_file_init(&copy, "fuzz-copy");
	fuzz_file_init(&again, "fuzz-again");
	return 0;
}

struct readout {
	int ret;	   /* the last ms_tlp_next() result */
	uint64_t items;	   /* items read */
	uint64_t events;   /* of which events */
	uint64_t disagree; /* disagreements the replay found */
};

/* Read path through playback with replay; check every space it built. */
static struct readout read_all(const char *path)
{
	struct readout r = {0};
	struct ms_tlp_step st;
	struct ms_tl_item it;
	struct ms_tlp *p;
	char msg[600], why[200];

	p = ms_tlp_open(path, msg, sizeof(msg));
	if (!p) {
		r.ret = -EINVAL;
		return r;
	}
	while ((r.ret = ms_tlp_next(p, &it, &st)) == 1) {
		r.items++;
		if (it.type == MS_TLI_EVENT) {
			r.events++;
			fuzz_check(st.ev.op < MS_OP_COUNT && st.ev.source < MS_SRC_COUNT,
				   "event with op %u source %u came out", st.ev.op, st.ev.source);
		}
	}
	if (r.ret < 0)
		fuzz_check(ms_tlp_error(p) && *ms_tlp_error(p), "an error without a message");
	for (size_t i = 0; i < ms_tlp_nprocs(p); i++) {
		struct ms_tlp_proc *pr = ms_tlp_proc_at(p, i);

		if (pr->base.sp && ms_space_verify(pr->base.sp, why, sizeof(why)))
			fuzz_fail("replay space of pid %u: %s", pr->base.pid, why);
	}
	r.disagree = ms_tlp_disagreements(p);
	ms_tlp_close(p);
	return r;
}

/* `memstate convert --to json|jsonl SRC`, as the CLI does it for a regular file. */
static int convert(struct fuzz_file *src, struct fuzz_file *dst, bool jsonl)
{
	struct ms_conv_opts o = {.out_name = "copy", .path = src->path};
	struct ms_tlp *p;
	char msg[600];
	int ret;

	p = ms_tlp_open(src->path, msg, sizeof(msg));
	if (!p)
		return -1;
	ms_tlp_set_replay(p, false);
	fuzz_file_set(dst, NULL, 0);
	ret = ms_conv_timeline(p, dst->fd, jsonl, &o);
	ms_tlp_close(p);
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct readout a, b;
	bool jsonl = size & 1; /* either form, from either form */
	char *cb, *cc;
	size_t nb, nc;

	fuzz_file_set(&in, data, size);
	a = read_all(in.path);
	if (a.ret < 0)
		return 0;
	/* Accepted: the copy must read back as well, and be a fixed point. */
	if (convert(&in, &copy, jsonl))
		return 0; /* items out of the writer's order: refused with a line, fine */
	b = read_all(copy.path);
	fuzz_check(b.ret == MS_TLR_END || (jsonl && b.ret == MS_TLR_TRUNCATED),
		   "the %s copy of an accepted timeline does not read back (%d)",
		   jsonl ? "jsonl" : "json", b.ret);
	fuzz_check(b.events == a.events, "copy has %llu events, the input %llu",
		   (unsigned long long)b.events, (unsigned long long)a.events);
	fuzz_check(a.disagree || !b.disagree,
		   "the copy disagrees with itself (%llu), the input not",
		   (unsigned long long)b.disagree);
	fuzz_check(!convert(&copy, &again, jsonl), "the copy cannot be copied");
	cb = fuzz_file_get(&copy, &nb);
	cc = fuzz_file_get(&again, &nc);
	fuzz_check(nb == nc && !memcmp(cb, cc, nb),
		   "copying the copy changed it (%zu -> %zu bytes)", nb, nc);
	free(cb);
	free(cc);
	return 0;
}
