// SPDX-License-Identifier: MIT
/*
 * bpf/ktypes.c, the in-place reader of the kernel's BTF, against libbpf's full parse: the
 * same argument count for every tracepoint this kernel has, -ENOENT for those it lacks,
 * and a clean refusal (never a crash, never a made-up count) on cut or altered copies.
 *
 * Needs a kernel BTF file and libbpf: skipped without (the build links it only then).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef MS_NO_LIBBPF
#include <bpf/btf.h>
#endif

#include "bpf/ktypes.h"
#include "test.h"
#include "test_main.h"

#define VMLINUX "/sys/kernel/btf/vmlinux"

#ifndef MS_NO_LIBBPF
static struct btf *vmlinux(void)
{
	struct btf *b;

	if (access(VMLINUX, R_OK))
		test_skip("no kernel BTF (%s)", VMLINUX);
	b = btf__load_vmlinux_btf();
	if (!b)
		test_skip("libbpf cannot read %s", VMLINUX);
	return b;
}

/* libbpf's answer for tracepoint name (without the btf_trace_ prefix). */
static int libbpf_count(const struct btf *b, const char *name)
{
	char full[160];
	const struct btf_type *t;
	int id;

	snprintf(full, sizeof(full), "btf_trace_%s", name);
	id = btf__find_by_name_kind(b, full, BTF_KIND_TYPEDEF);
	t = id < 0 ? NULL : btf__type_by_id(b, id);
	t = t ? btf__type_by_id(b, t->type) : NULL;
	t = t && btf_is_ptr(t) ? btf__type_by_id(b, t->type) : NULL;
	return t && btf_is_func_proto(t) ? btf_vlen(t) : -ENOENT;
}

/* Ours against libbpf's for names[0..n), and one name no kernel has. */
static int compare_batch(const struct btf *b, const char **names, int n)
{
	int ours[KT_MAX], ret;

	names[n++] = "no_such_tracepoint_here";
	ret = ms_ktypes_tp_params(VMLINUX, names, ours, (size_t)n);
	assert_true(ret == 0, "read in place: %d", ret);
	for (int i = 0; i < n; i++)
		expect_int_eq(ours[i], libbpf_count(b, names[i]), names[i]);
	expect_int_eq(ours[n - 1], -ENOENT, "a tracepoint that does not exist");
	return n - 1;
}

TEST_BEGIN(test_every_tracepoint)
{
	struct btf *b = vmlinux();
	const char *names[KT_MAX];
	int n = 0, total = 0;

	for (unsigned id = 1; id < btf__type_cnt(b); id++) {
		const struct btf_type *t = btf__type_by_id(b, id);
		const char *s = btf__name_by_offset(b, t->name_off);

		if (!btf_is_typedef(t) || !s || strncmp(s, "btf_trace_", 10))
			continue;
		names[n++] = s + 10;
		if (n == KT_MAX - 1) {
			total += compare_batch(b, names, n);
			n = 0;
		}
	}
	if (n)
		total += compare_batch(b, names, n);
	expect_true(total > 100, "this kernel has tracepoints (%d compared)", total);
	btf__free(b);
}
TEST_END
#endif

/* A copy of the kernel's BTF, cut at len, with byte at flip (if < len) changed. */
static const char *copy_of(size_t len, size_t flip, const char *dir)
{
	static char path[256];
	static char *data;
	static size_t size;
	int fd;

	if (!data) {
		FILE *f = fopen(VMLINUX, "rb");
		size_t cap = 1 << 20, got;

		if (!f)
			test_skip("no kernel BTF (%s)", VMLINUX);
		data = malloc(cap);
		while (data && (got = fread(data + size, 1, cap - size, f)) > 0) {
			size += got;
			if (size == cap) {
				char *more = realloc(data, cap *= 2);

				assert_true(more != NULL, "memory for a copy");
				data = more;
			}
		}
		fclose(f);
		assert_true(data && size > 24, "read %s", VMLINUX);
	}
	if (len > size)
		len = size;
	snprintf(path, sizeof(path), "%s/btf", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0, "create %s", path);
	if (flip < len) {
		char c = (char)(data[flip] ^ 0x5a);

		assert_true(write(fd, data, flip) == (ssize_t)flip && write(fd, &c, 1) == 1 &&
				    write(fd, data + flip + 1, len - flip - 1) ==
					    (ssize_t)(len - flip - 1),
			    "write");
	} else {
		assert_true(write(fd, data, len) == (ssize_t)len, "write");
	}
	close(fd);
	return path;
}

TEST_BEGIN(test_cut_and_altered)
{
	static const char *const tps[] = {"sys_exit", "page_fault_user", "sched_process_exec"};
	char dir[] = "/tmp/ktypes.XXXXXX";
	int n[3], good[3];
	int ret;

	assert_true(mkdtemp(dir) != NULL, "temporary folder");
	ret = ms_ktypes_tp_params(copy_of(SIZE_MAX, SIZE_MAX, dir), tps, good, 3);
	assert_true(ret == 0, "a whole copy reads: %d", ret);
	expect_true(good[0] > 0, "sys_exit has arguments");
	expect_int_eq(ms_ktypes_tp_params("/nonexistent/btf", tps, n, 3), -ENOENT, "no file");
	expect_int_eq(ms_ktypes_tp_params(copy_of(0, SIZE_MAX, dir), tps, n, 3), -EPROTO, "empty");
	/* Cut anywhere: the header's lengths no longer fit. */
	for (size_t len = 1; len < 64 << 20; len = len * 3 + 7) {
		ret = ms_ktypes_tp_params(copy_of(len, SIZE_MAX, dir), tps, n, 3);
		if (ret == 0)
			break; /* past the end: the whole file */
		expect_int_eq(ret, -EPROTO, "cut copy refused");
	}
	/* Altered bytes (magic, lengths, a type's kind, a string): refused or read, in bounds. */
	for (size_t flip = 0; flip < 4096; flip += 61) {
		ret = ms_ktypes_tp_params(copy_of(SIZE_MAX, flip, dir), tps, n, 3);
		expect_true(ret == 0 || ret == -EPROTO, "byte %zu changed: %d", flip, ret);
		for (int i = 0; ret == 0 && i < 3; i++)
			expect_true(n[i] == -ENOENT || (n[i] >= 0 && n[i] < 65536), "a count");
	}
	unlink(copy_of(0, SIZE_MAX, dir));
	rmdir(dir);
}
TEST_END

#ifndef MS_NO_LIBBPF
#define LIBBPF_TESTS test_every_tracepoint,
#else
#define LIBBPF_TESTS
#endif

int main(void)
{
	return test_run(LIBBPF_TESTS test_cut_and_altered, NULL);
}
