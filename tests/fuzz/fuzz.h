/* SPDX-License-Identifier: MIT */
/*
 * Shared by the libFuzzer harnesses of tests/fuzz: reading the input as a byte stream, an
 * anonymous file to hand a reader, and a failure that libFuzzer records as a crash.
 *
 * A broken invariant calls fuzz_fail(), which prints one line and aborts: libFuzzer then
 * saves the input as crash-<sha1>, which goes to tests/fuzz/corpus/<target>/ once fixed.
 */
#ifndef MEMSTATE_FUZZ_H
#define MEMSTATE_FUZZ_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

__attribute__((format(printf, 1, 2), noreturn)) static inline void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz: invariant broken: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

#define fuzz_check(c, ...)                      \
	do {                                    \
		if (!(c))                       \
			fuzz_fail(__VA_ARGS__); \
	} while (0)

/* The input as a stream: reading past its end gives zeros, so every input is a program. */
struct fuzz_in {
	const uint8_t *p;
	size_t n, pos;
};

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	return in->pos < in->n ? in->p[in->pos++] : 0;
}

static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
	uint16_t v = fuzz_u8(in);

	return (uint16_t)(v | fuzz_u8(in) << 8);
}

static inline uint32_t fuzz_u32(struct fuzz_in *in)
{
	uint32_t v = fuzz_u16(in);

	return v | (uint32_t)fuzz_u16(in) << 16;
}

static inline uint64_t fuzz_u64(struct fuzz_in *in)
{
	uint64_t v = fuzz_u32(in);

	return v | (uint64_t)fuzz_u32(in) << 32;
}

static inline void fuzz_bytes(struct fuzz_in *in, void *out, size_t n)
{
	size_t k = in->pos < in->n ? in->n - in->pos : 0;

	if (k > n)
		k = n;
	memcpy(out, in->p + in->pos, k);
	memset((char *)out + k, 0, n - k);
	in->pos += k;
}

static inline int fuzz_left(const struct fuzz_in *in)
{
	return in->pos < in->n;
}

/* An anonymous file holding data, named by path (/proc/self/fd/N) for readers that open. */
struct fuzz_file {
	int fd;
	char path[40];
};

static inline void fuzz_file_init(struct fuzz_file *f, const char *name)
{
	f->fd = memfd_create(name, MFD_CLOEXEC);
	if (f->fd < 0) {
		perror("memfd_create");
		abort();
	}
	snprintf(f->path, sizeof(f->path), "/proc/self/fd/%d", f->fd);
}

static inline void fuzz_file_set(struct fuzz_file *f, const void *data, size_t n)
{
	/* The offset too: a writer given the fd writes from where the last one stopped. */
	if (ftruncate(f->fd, 0) || lseek(f->fd, 0, SEEK_SET) ||
	    (n && pwrite(f->fd, data, n, 0) != (ssize_t)n)) {
		perror("fuzz file");
		abort();
	}
}

/* The whole content (malloc'd, NUL-terminated); *n its length. */
static inline char *fuzz_file_get(struct fuzz_file *f, size_t *n)
{
	off_t end = lseek(f->fd, 0, SEEK_END);
	char *buf;

	if (end < 0)
		abort();
	buf = malloc((size_t)end + 1);
	if (!buf || pread(f->fd, buf, (size_t)end, 0) != (ssize_t)end)
		abort();
	buf[end] = 0;
	*n = (size_t)end;
	return buf;
}

#endif /* MEMSTATE_FUZZ_H */
