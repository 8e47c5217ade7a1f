// SPDX-License-Identifier: MIT
/*
 * Fuzz target "convert": `memstate convert --to perfetto-json`, `--to perfetto` (protobuf)
 * and `--to svg` on hostile timelines (the input is first read whole by the reader, as the
 * CLI would refuse it otherwise). Oracles: no crash, leak or undefined behaviour, and a timeline the reader
 * accepts converts with success (exit 0) to output that is not empty.
 */
#include <errno.h>

#include "export/convert.h"
#include "export/playback.h"
#include "fuzz.h"

static struct fuzz_file in, out;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_file_init(&in, "fuzz-in");
	fuzz_file_init(&out, "fuzz-out");
	return 0;
}

static bool accepted(const char *path)
{
	struct ms_tl_item it;
	struct ms_tlp *p;
	char msg[600];
	int ret;

	p = ms_tlp_open(path, msg, sizeof(msg));
	if (!p)
		return false;
	while ((ret = ms_tlp_next(p, &it, NULL)) == 1)
		;
	ms_tlp_close(p);
	return ret >= 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ms_conv_opts o = {.out_name = "out",
				 .fault_window = 1 + (size % 7) * 3000000ull,
				 .ops = size & 1,
				 .width = 320 + (unsigned)(size % 5) * 100,
				 .height = 200 + (unsigned)(size % 3) * 100};
	struct ms_tlp *p;
	char msg[600], *buf;
	size_t n;

	fuzz_file_set(&in, data, size);
	if (!accepted(in.path))
		return 0;
	p = ms_tlp_open(in.path, msg, sizeof(msg));
	fuzz_check(p != NULL, "reopen: %s", msg);
	fuzz_file_set(&out, NULL, 0);
	fuzz_check(!ms_conv_perfetto(p, out.fd, &o), "perfetto refused an accepted timeline");
	ms_tlp_close(p);
	buf = fuzz_file_get(&out, &n);
	fuzz_check(n > 0 && buf[0] == '{', "perfetto wrote %zu bytes", n);
	free(buf);
	p = ms_tlp_open(in.path, msg, sizeof(msg));
	fuzz_check(p != NULL, "reopen: %s", msg);
	fuzz_file_set(&out, NULL, 0);
	fuzz_check(!ms_conv_perfetto_pb(p, out.fd, &o), "perfetto (protobuf) refused a timeline");
	ms_tlp_close(p);
	buf = fuzz_file_get(&out, &n);
	/* a Trace: its first packet (field 1, length-delimited) clears the sequence's state */
	fuzz_check(n > 2 && buf[0] == 0x0a, "perfetto (protobuf) wrote %zu bytes", n);
	free(buf);
	fuzz_file_set(&out, NULL, 0);
	fuzz_check(!ms_conv_svg(in.path, out.fd, &o), "svg refused an accepted timeline");
	buf = fuzz_file_get(&out, &n);
	fuzz_check(n > 0 && strstr(buf, "</svg>"), "svg wrote %zu bytes, not a whole picture", n);
	free(buf);
	return 0;
}
