// SPDX-License-Identifier: MIT
/* Reading Go binaries: ELF symbols, build info, DWARF field names (go_elf.h). */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "go_elf.h"
#include "go_elf_int.h"

/* ------------------------------------------------------------------ sections */

const Elf64_Shdr *ge_shdr_at(const struct ms_go_elf *e, unsigned i)
{
	const Elf64_Ehdr *eh = (const void *)e->map;

	if (i >= eh->e_shnum)
		return NULL;
	return (const void *)(e->map + eh->e_shoff + (size_t)i * eh->e_shentsize);
}

/* Bounds of a section's bytes in the file; NULL when it has none or lies outside. */
const uint8_t *ge_sec_bytes(const struct ms_go_elf *e, const Elf64_Shdr *sh, size_t *len)
{
	if (!sh || sh->sh_type == SHT_NOBITS || sh->sh_offset > e->size ||
	    sh->sh_size > e->size - sh->sh_offset)
		return NULL;
	*len = sh->sh_size;
	return e->map + sh->sh_offset;
}

const Elf64_Shdr *ge_sec_by_name(const struct ms_go_elf *e, const char *name)
{
	const Elf64_Ehdr *eh = (const void *)e->map;
	const Elf64_Shdr *strs = ge_shdr_at(e, eh->e_shstrndx);
	const uint8_t *names;
	size_t nlen;

	names = ge_sec_bytes(e, strs, &nlen);
	if (!names)
		return NULL;
	for (unsigned i = 1; i < eh->e_shnum; i++) {
		const Elf64_Shdr *sh = ge_shdr_at(e, i);

		if (sh->sh_name < nlen &&
		    !strncmp((const char *)names + sh->sh_name, name, nlen - sh->sh_name))
			return sh;
	}
	return NULL;
}

/* The bytes at link-time address addr (within an allocated section), len of them. */
static const uint8_t *at_addr(const struct ms_go_elf *e, uint64_t addr, size_t len)
{
	const Elf64_Ehdr *eh = (const void *)e->map;

	for (unsigned i = 1; i < eh->e_shnum; i++) {
		const Elf64_Shdr *sh = ge_shdr_at(e, i);
		size_t n;
		const uint8_t *b;

		if (!(sh->sh_flags & SHF_ALLOC) || addr < sh->sh_addr ||
		    addr - sh->sh_addr + len > sh->sh_size)
			continue;
		b = ge_sec_bytes(e, sh, &n);
		return b ? b + (addr - sh->sh_addr) : NULL;
	}
	return NULL;
}

/* ------------------------------------------------------------------ build info */

static uint64_t uvarint(const uint8_t **p, const uint8_t *end)
{
	uint64_t v = 0;

	for (unsigned s = 0; *p < end && s < 64; s += 7) {
		uint8_t b = *(*p)++;

		v |= (uint64_t)(b & 0x7f) << s;
		if (!(b & 0x80))
			break;
	}
	return v;
}

/*
 * The Go version from .go.buildinfo: a 32-byte header ("\xff Go buildinf:", pointer
 * size, flags); with flag 2 (Go 1.18 on) varint-prefixed strings follow, before that
 * the header holds the address of a Go string header.
 */
static void read_version(struct ms_go_elf *e)
{
	static const char magic[] = "\xff Go buildinf:";
	const Elf64_Shdr *sh = ge_sec_by_name(e, ".go.buildinfo");
	const uint8_t *b, *end, *s;
	size_t n;
	uint64_t len, ptr;

	b = ge_sec_bytes(e, sh, &n);
	if (!b || n < 32 || memcmp(b, magic, 14))
		return;
	e->is_go = true;
	end = b + n;
	if (b[15] & 2) {
		s = b + 32;
		len = uvarint(&s, end);
		if (len < sizeof(e->version) && len <= (uint64_t)(end - s))
			snprintf(e->version, sizeof(e->version), "%.*s", (int)len, s);
		return;
	}
	if (b[14] != 8)
		return;
	memcpy(&ptr, b + 16, 8);
	s = at_addr(e, ptr, 16);
	if (!s)
		return;
	memcpy(&ptr, s, 8);
	memcpy(&len, s + 8, 8);
	s = len < sizeof(e->version) ? at_addr(e, ptr, len) : NULL;
	if (s)
		snprintf(e->version, sizeof(e->version), "%.*s", (int)len, s);
}

/* ------------------------------------------------------------------ symbols */

static bool wanted_func(const char *name)
{
	return !strncmp(name, "runtime.sys", 11) || !strcmp(name, "runtime.readmemstats_m") ||
	       !strcmp(name, "runtime.(*heapStatsDelta).merge");
}

static int sym_cmp(const void *a, const void *b)
{
	const struct ms_go_sym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int sym_push(struct ms_go_sym **v, size_t *n, size_t *cap, const struct ms_go_sym *s)
{
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 64;
		struct ms_go_sym *g = realloc(*v, c * sizeof(*g));

		if (!g)
			return -ENOMEM;
		*v = g;
		*cap = c;
	}
	(*v)[(*n)++] = *s;
	return 0;
}

static int range_cmp(const void *a, const void *b)
{
	const struct ms_go_range *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int read_symbols(struct ms_go_elf *e)
{
	const Elf64_Shdr *symtab = ge_sec_by_name(e, ".symtab"), *strtab;
	const Elf64_Sym *syms;
	const char *strs;
	size_t n, slen, fcap = 0, ocap = 0, tcap = 0;

	syms = (const void *)ge_sec_bytes(e, symtab, &n);
	if (!syms || symtab->sh_entsize != sizeof(Elf64_Sym))
		return 0;
	strtab = ge_shdr_at(e, symtab->sh_link);
	strs = (const char *)ge_sec_bytes(e, strtab, &slen);
	if (!strs)
		return 0;
	e->symtab = true;
	for (size_t i = 0; i < n / sizeof(Elf64_Sym); i++) {
		const Elf64_Sym *s = &syms[i];
		const Elf64_Shdr *sec;
		const char *name;
		struct ms_go_sym g;
		int type = ELF64_ST_TYPE(s->st_info);

		if (s->st_name >= slen || (type != STT_FUNC && type != STT_OBJECT))
			continue;
		if (type == STT_FUNC && s->st_size) {
			if (e->ntext == tcap) {
				struct ms_go_range *v;

				tcap = tcap ? 2 * tcap : 1024;
				v = realloc(e->text, tcap * sizeof(*v));
				if (!v)
					return -ENOMEM;
				e->text = v;
			}
			e->text[e->ntext++] = (struct ms_go_range){s->st_value, s->st_size};
		}
		name = strs + s->st_name;
		if (strncmp(name, "runtime.", 8))
			continue;
		e->is_go = true;
		if (type == STT_FUNC && !wanted_func(name))
			continue;
		sec = ge_shdr_at(e, s->st_shndx);
		if (!sec || s->st_value < sec->sh_addr)
			continue;
		g = (struct ms_go_sym){.addr = s->st_value,
				       .size = s->st_size,
				       .off = s->st_value - sec->sh_addr + sec->sh_offset,
				       .name = strdup(name)};
		if (!g.name || sym_push(type == STT_FUNC ? &e->funcs : &e->objs,
					type == STT_FUNC ? &e->nfuncs : &e->nobjs,
					type == STT_FUNC ? &fcap : &ocap, &g)) {
			free(g.name);
			return -ENOMEM;
		}
	}
	if (e->nobjs) /* qsort's array may not be NULL, even empty */
		qsort(e->objs, e->nobjs, sizeof(*e->objs), sym_cmp);
	if (e->ntext)
		qsort(e->text, e->ntext, sizeof(*e->text), range_cmp);
	return 0;
}

int ms_go_elf_open(const char *path, struct ms_go_elf *e, char *why, size_t whylen)
{
	const Elf64_Ehdr *eh;
	struct stat st;
	void *m;
	int fd, err;

	memset(e, 0, sizeof(*e));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		snprintf(why, whylen, "cannot read %s: %s", path, strerror(errno));
		return err;
	}
	if (fstat(fd, &st) || (size_t)st.st_size < sizeof(Elf64_Ehdr)) {
		close(fd);
		snprintf(why, whylen, "%s is not an ELF program", path);
		return -ENOEXEC;
	}
	m = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED) {
		err = -errno;
		snprintf(why, whylen, "cannot map %s: %s", path, strerror(errno));
		return err;
	}
	e->map = m;
	e->size = st.st_size;
	eh = m;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    eh->e_shoff > e->size ||
	    (size_t)eh->e_shnum * sizeof(Elf64_Shdr) > e->size - eh->e_shoff) {
		snprintf(why, whylen, "%s is not a 64-bit little-endian ELF program", path);
		ms_go_elf_close(e);
		return -ENOEXEC;
	}
	e->machine = eh->e_machine;
	e->pie = eh->e_type == ET_DYN;
	if (ge_sec_by_name(e, ".gopclntab") || ge_sec_by_name(e, ".note.go.buildid"))
		e->is_go = true;
	read_version(e);
	err = read_symbols(e);
	if (err) {
		snprintf(why, whylen, "out of memory reading %s", path);
		ms_go_elf_close(e);
		return err;
	}
	return 0;
}

const struct ms_go_sym *ms_go_elf_func(const struct ms_go_elf *e, const char *name)
{
	for (size_t i = 0; i < e->nfuncs; i++) {
		if (!strcmp(e->funcs[i].name, name))
			return &e->funcs[i];
	}
	return NULL;
}

long ms_go_elf_callers(const struct ms_go_elf *e, uint64_t addr, uint64_t *sites, size_t max)
{
	const Elf64_Shdr *text = ge_sec_by_name(e, ".text");
	const uint8_t *b;
	size_t n, found = 0;

	b = ge_sec_bytes(e, text, &n);
	if (!b || e->machine != EM_X86_64 || n < 5)
		return -1;
	for (size_t i = 0; i + 5 <= n; i++) {
		int32_t rel;
		uint64_t pc = text->sh_addr + i;

		if (b[i] != 0xe8 && b[i] != 0xe9)
			continue;
		memcpy(&rel, b + i + 1, 4);
		if (pc + 5 + (int64_t)rel != addr)
			continue;
		if (found < max)
			sites[found] = pc;
		found++;
	}
	return (long)found;
}

unsigned ms_go_elf_probe_skip(const struct ms_go_elf *e, const struct ms_go_sym *fn)
{
	static const uint8_t cmp_rsp[] = {0x49, 0x3b, 0x66, 0x10}; /* cmp rsp, 16(r14) */
	static const uint8_t cmp_r12[] = {0x4d, 0x3b, 0x66, 0x10}; /* cmp r12, 16(r14) */
	const uint8_t *p;
	unsigned at;

	if (e->machine != EM_X86_64 || fn->off > e->size || e->size - fn->off < 24 || fn->size < 24)
		return 0;
	p = e->map + fn->off;
	if (!memcmp(p, cmp_rsp, 4)) {
		at = 4;
	} else if (p[0] == 0x4c && p[1] == 0x8d && p[2] == 0x64 && p[3] == 0x24 &&
		   !memcmp(p + 5, cmp_r12, 4)) { /* lea r12, disp8(rsp) */
		at = 9;
	} else if (p[0] == 0x4c && p[1] == 0x8d && p[2] == 0xa4 && p[3] == 0x24 &&
		   !memcmp(p + 8, cmp_r12, 4)) { /* lea r12, disp32(rsp) */
		at = 12;
	} else {
		return 0;
	}
	/* jbe rel8 or jbe rel32 */
	if (p[at] == 0x76 || (p[at] == 0x0f && p[at + 1] == 0x86))
		return at;
	return 0;
}

uint64_t ms_go_elf_file_off(const struct ms_go_elf *e, uint64_t addr)
{
	const Elf64_Ehdr *eh = (const void *)e->map;

	for (unsigned i = 1; i < eh->e_shnum; i++) {
		const Elf64_Shdr *sh = ge_shdr_at(e, i);

		if ((sh->sh_flags & SHF_ALLOC) && sh->sh_type != SHT_NOBITS &&
		    addr >= sh->sh_addr && addr < sh->sh_addr + sh->sh_size)
			return addr - sh->sh_addr + sh->sh_offset;
	}
	return 0;
}

void ms_go_elf_close(struct ms_go_elf *e)
{
	for (size_t i = 0; i < e->nfuncs; i++)
		free(e->funcs[i].name);
	for (size_t i = 0; i < e->nobjs; i++)
		free(e->objs[i].name);
	free(e->funcs);
	free(e->objs);
	free(e->text);
	ge_dw_free(e->dw);
	if (e->map)
		munmap((void *)e->map, e->size);
	memset(e, 0, sizeof(*e));
}
