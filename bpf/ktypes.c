// SPDX-License-Identifier: MIT
/*
 * The few facts the probe needs from the kernel's BTF, read without parsing it whole.
 *
 * Which tracepoints exist, and with how many arguments, is told by the typedef
 * btf_trace_<tp> -> pointer -> function prototype. libbpf's btf__load_vmlinux_btf() answers
 * that by copying the 5-6 MB of /sys/kernel/btf/vmlinux twice into fresh memory and
 * indexing 100k+ types; on a VM whose fresh pages cost tens of microseconds each, that was
 * half of `memstate run`'s start-up (BENCHMARKS.md, section 9). libbpf parses it once more
 * to load the programs, which cannot be avoided with libbpf 1.1.
 *
 * Here the file is mapped read-only (Linux 6.16 on) and walked in place: a pass finds the
 * typedefs, a second their pointers, a third the prototypes. Where it cannot be mapped,
 * or its layout is one this walk does not know, the caller falls back to libbpf.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/btf.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ktypes.h"

#define KT_PREFIX "btf_trace_"

struct kt_walk {
	const uint8_t *types, *end; /* the type section */
	const char *str;	    /* the string section */
	uint32_t str_len;
};

/* Bytes after struct btf_type that kind's record carries; -1 for a kind not known here. */
static long kt_extra(uint32_t kind, uint32_t vlen)
{
	switch (kind) {
	case BTF_KIND_INT:
	case BTF_KIND_VAR:
	case BTF_KIND_DECL_TAG:
		return 4;
	case BTF_KIND_PTR:
	case BTF_KIND_FWD:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_FUNC:
	case BTF_KIND_FLOAT:
	case BTF_KIND_TYPE_TAG:
		return 0;
	case BTF_KIND_ARRAY:
		return sizeof(struct btf_array);
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		return (long)vlen * sizeof(struct btf_member);
	case BTF_KIND_ENUM:
		return (long)vlen * sizeof(struct btf_enum);
	case BTF_KIND_FUNC_PROTO:
		return (long)vlen * sizeof(struct btf_param);
	case BTF_KIND_DATASEC:
		return (long)vlen * sizeof(struct btf_var_secinfo);
	case 19: /* BTF_KIND_ENUM64 (6.0): struct btf_enum64 */
		return (long)vlen * 12;
	default:
		return -1;
	}
}

/*
 * One pass over the types. For each type whose id is in want[0..n) (0: none), ids[i]
 * gets the type it refers to and kinds[i] its kind and vlen. With names, typedefs are
 * matched by name instead ("btf_trace_" + names[i]). -EPROTO on a layout not known.
 */
static int kt_pass(const struct kt_walk *w, const char *const *names, const uint32_t *want,
		   uint32_t *ids, uint32_t *info, size_t n)
{
	const uint8_t *p = w->types;
	uint32_t id = 1, lo = UINT32_MAX, hi = 0;
	size_t len[KT_MAX];

	if (names && w->str_len < sizeof(KT_PREFIX))
		return 0; /* no name that long */
	for (size_t i = 0; i < n; i++) {
		if (names) {
			len[i] = strlen(names[i]);
		} else if (want[i]) {
			lo = want[i] < lo ? want[i] : lo;
			hi = want[i] > hi ? want[i] : hi;
		}
	}
	for (; p < w->end; id++) {
		struct btf_type t;
		const char *s;
		long extra;

		if ((size_t)(w->end - p) < sizeof(t))
			return -EPROTO;
		memcpy(&t, p, sizeof(t));
		extra = kt_extra(BTF_INFO_KIND(t.info), BTF_INFO_VLEN(t.info));
		if (extra < 0 || (size_t)(w->end - p) - sizeof(t) < (size_t)extra)
			return -EPROTO;
		p += sizeof(t) + extra;
		if (!names) {
			if (id < lo || id > hi)
				continue;
			for (size_t i = 0; i < n; i++) {
				if (want[i] == id) {
					ids[i] = t.type;
					info[i] = t.info;
				}
			}
			continue;
		}
		if (BTF_INFO_KIND(t.info) != BTF_KIND_TYPEDEF ||
		    t.name_off > w->str_len - sizeof(KT_PREFIX) ||
		    memcmp(w->str + t.name_off, KT_PREFIX, sizeof(KT_PREFIX) - 1))
			continue;
		s = w->str + t.name_off + sizeof(KT_PREFIX) - 1;
		for (size_t i = 0; i < n; i++) {
			/* the string section ends with a NUL (checked): compare up to it */
			if ((size_t)(w->str + w->str_len - s) > len[i] &&
			    !memcmp(s, names[i], len[i] + 1)) {
				ids[i] = t.type;
				info[i] = t.info;
			}
		}
	}
	return 0;
}

static int kt_walk(const uint8_t *data, size_t size, const char *const *tps, int *counts, size_t n)
{
	struct btf_header h;
	struct kt_walk w;
	uint32_t ids[KT_MAX], info[KT_MAX], want[KT_MAX];
	int err;

	if (n > KT_MAX)
		return -EINVAL;
	if (size < sizeof(h))
		return -EPROTO;
	memcpy(&h, data, sizeof(h));
	if (h.magic != BTF_MAGIC || h.version != BTF_VERSION || h.hdr_len < sizeof(h) ||
	    h.hdr_len > size || (uint64_t)h.type_off + h.type_len > size - h.hdr_len ||
	    (uint64_t)h.str_off + h.str_len > size - h.hdr_len || !h.str_len ||
	    data[h.hdr_len + h.str_off + h.str_len - 1])
		return -EPROTO;
	w = (struct kt_walk){.types = data + h.hdr_len + h.type_off,
			     .end = data + h.hdr_len + h.type_off + h.type_len,
			     .str = (const char *)data + h.hdr_len + h.str_off,
			     .str_len = h.str_len};
	memset(ids, 0, sizeof(ids));
	memset(info, 0, sizeof(info));
	/* typedef btf_trace_<tp> -> pointer -> function prototype */
	if ((err = kt_pass(&w, tps, NULL, ids, info, n)))
		return err;
	memcpy(want, ids, sizeof(want));
	memset(info, 0, sizeof(info));
	if ((err = kt_pass(&w, NULL, want, ids, info, n)))
		return err;
	for (size_t i = 0; i < n; i++) {
		if (BTF_INFO_KIND(info[i]) != BTF_KIND_PTR)
			ids[i] = 0;
	}
	memcpy(want, ids, sizeof(want));
	memset(info, 0, sizeof(info));
	if ((err = kt_pass(&w, NULL, want, ids, info, n)))
		return err;
	for (size_t i = 0; i < n; i++)
		counts[i] = want[i] && BTF_INFO_KIND(info[i]) == BTF_KIND_FUNC_PROTO
				    ? (int)BTF_INFO_VLEN(info[i])
				    : -ENOENT;
	return 0;
}

int ms_ktypes_tp_params(const char *path, const char *const *tps, int *counts, size_t n)
{
	struct stat s;
	void *map;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &s) || s.st_size <= 0) {
		err = -EPROTO;
		goto out;
	}
	map = mmap(NULL, (size_t)s.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	if (map == MAP_FAILED) {
		err = -errno;
		goto out;
	}
	err = kt_walk(map, (size_t)s.st_size, tps, counts, n);
	munmap(map, (size_t)s.st_size);
out:
	close(fd);
	return err;
}
