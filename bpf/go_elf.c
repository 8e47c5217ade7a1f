// SPDX-License-Identifier: MIT
/* Reading Go binaries: ELF symbols, build info, DWARF field names (go_elf.h). */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "go_elf.h"
#include "go_elf_int.h"

/*
 * ------------------------------------------------------------------ sections
 *
 * libelf checks what it hands out against the file's bounds (headers, section data,
 * string offsets, symbol indexes) and answers NULL otherwise: every call here is checked.
 */

Elf_Scn *ge_sec_by_name(const struct ms_go_elf *e, const char *name, GElf_Shdr *sh)
{
	Elf_Scn *scn = NULL;
	size_t strndx;

	if (elf_getshdrstrndx(e->elf, &strndx))
		return NULL;
	while ((scn = elf_nextscn(e->elf, scn))) {
		const char *s;

		if (!gelf_getshdr(scn, sh))
			continue;
		s = elf_strptr(e->elf, strndx, sh->sh_name);
		if (s && !strcmp(s, name))
			return scn;
	}
	return NULL;
}

const uint8_t *ge_sec_bytes(Elf_Scn *scn, const GElf_Shdr *sh, size_t *len)
{
	Elf_Data *d;

	if (!scn || sh->sh_type == SHT_NOBITS)
		return NULL;
	d = elf_rawdata(scn, NULL);
	if (!d || !d->d_buf || d->d_size != sh->sh_size)
		return NULL;
	*len = d->d_size;
	return d->d_buf;
}

/* The allocated section (with file bytes) holding [addr, addr + len), or NULL. */
static Elf_Scn *alloc_sec_at(const struct ms_go_elf *e, uint64_t addr, uint64_t len, GElf_Shdr *sh)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(e->elf, scn))) {
		if (gelf_getshdr(scn, sh) && (sh->sh_flags & SHF_ALLOC) &&
		    sh->sh_type != SHT_NOBITS && addr >= sh->sh_addr &&
		    addr - sh->sh_addr < sh->sh_size && len <= sh->sh_size - (addr - sh->sh_addr))
			return scn;
	}
	return NULL;
}

const uint8_t *ge_bytes_at(const struct ms_go_elf *e, uint64_t addr, size_t len)
{
	GElf_Shdr sh;
	Elf_Scn *scn = alloc_sec_at(e, addr, len, &sh);
	const uint8_t *b;
	size_t n;

	b = ge_sec_bytes(scn, &sh, &n);
	return b ? b + (addr - sh.sh_addr) : NULL;
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
	GElf_Shdr sh;
	Elf_Scn *scn = ge_sec_by_name(e, ".go.buildinfo", &sh);
	const uint8_t *b, *end, *s;
	size_t n;
	uint64_t len, ptr;

	b = ge_sec_bytes(scn, &sh, &n);
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
	s = ge_bytes_at(e, ptr, 16);
	if (!s)
		return;
	memcpy(&ptr, s, 8);
	memcpy(&len, s + 8, 8);
	s = len < sizeof(e->version) ? ge_bytes_at(e, ptr, len) : NULL;
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

/* Keep a function's extent, for ms_go_elf_insn_start. */
static int text_push(struct ms_go_elf *e, size_t *cap, uint64_t addr, uint64_t size)
{
	if (e->ntext == *cap) {
		size_t c = *cap ? 2 * *cap : 1024;
		struct ms_go_range *v = realloc(e->text, c * sizeof(*v));

		if (!v)
			return -ENOMEM;
		e->text = v;
		*cap = c;
	}
	e->text[e->ntext++] = (struct ms_go_range){addr, size};
	return 0;
}

/* The first SHT_SYMTAB section (a stripped binary has none). */
static Elf_Scn *symtab_sec(const struct ms_go_elf *e, GElf_Shdr *sh)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(e->elf, scn))) {
		if (gelf_getshdr(scn, sh) && sh->sh_type == SHT_SYMTAB)
			return scn;
	}
	return NULL;
}

static int read_symbols(struct ms_go_elf *e)
{
	GElf_Shdr sh, sec;
	Elf_Scn *scn = symtab_sec(e, &sh), *in;
	Elf_Data *data = scn ? elf_getdata(scn, NULL) : NULL;
	GElf_Sym s;
	size_t fcap = 0, ocap = 0, tcap = 0;

	if (!data || !elf_strptr(e->elf, sh.sh_link, 0))
		return 0; /* none, or its data or names are not in the file */
	e->symtab = true;
	for (int i = 0; gelf_getsym(data, i, &s); i++) {
		const char *name;
		struct ms_go_sym g;
		int type = GELF_ST_TYPE(s.st_info);

		if (type != STT_FUNC && type != STT_OBJECT)
			continue;
		if (type == STT_FUNC && s.st_size && text_push(e, &tcap, s.st_value, s.st_size))
			return -ENOMEM;
		name = elf_strptr(e->elf, sh.sh_link, s.st_name);
		if (!name || strncmp(name, "runtime.", 8))
			continue;
		e->is_go = true;
		if (type == STT_FUNC && !wanted_func(name))
			continue;
		in = elf_getscn(e->elf, s.st_shndx); /* NULL for SHN_ABS and the like */
		if (!in || !gelf_getshdr(in, &sec) || s.st_value < sec.sh_addr)
			continue;
		g = (struct ms_go_sym){.addr = s.st_value,
				       .size = s.st_size,
				       .off = s.st_value - sec.sh_addr + sec.sh_offset,
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

/*
 * Are all the section headers, their names and their data in the file (size bytes)?
 * libelf drops a header table the file does not hold whole, as if there were no sections,
 * and reads a section only when asked: a truncated Go binary would pass for a non-Go or
 * a stripped one. (e_shnum 0 with a table: the count is in section 0.)
 */
static bool sections_whole(const struct ms_go_elf *e, const GElf_Ehdr *eh, uint64_t size)
{
	size_t n, strndx;
	GElf_Shdr sh;

	if (elf_getshdrnum(e->elf, &n) || elf_getshdrstrndx(e->elf, &strndx) ||
	    (eh->e_shnum ? n != eh->e_shnum : eh->e_shoff && !n))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!gelf_getshdr(elf_getscn(e->elf, i), &sh))
			return false;
		if (sh.sh_type != SHT_NOBITS &&
		    (sh.sh_offset > size || sh.sh_size > size - sh.sh_offset))
			return false;
	}
	return n == 0 || elf_strptr(e->elf, strndx, 0);
}

int ms_go_elf_open(const char *path, struct ms_go_elf *e, char *why, size_t whylen)
{
	GElf_Ehdr eh;
	GElf_Shdr sh;
	struct stat st;
	int fd, err;

	memset(e, 0, sizeof(*e));
	if (elf_version(EV_CURRENT) == EV_NONE) {
		snprintf(why, whylen, "libelf: %s", elf_errmsg(-1));
		return -EINVAL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		snprintf(why, whylen, "cannot read %s: %s", path, strerror(errno));
		return err;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		snprintf(why, whylen, "cannot read %s: %s", path, strerror(errno));
		close(fd);
		return err;
	}
	/* Mapped (or, failing that, read) whole: the descriptor is not needed after. */
	e->elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (e->elf && elf_cntl(e->elf, ELF_C_FDREAD)) {
		elf_end(e->elf);
		e->elf = NULL;
	}
	close(fd);
	if (!e->elf) { /* libelf refused it: an ELF header cut short, say */
		snprintf(why, whylen, "%s is not a readable ELF program (%s)", path,
			 elf_errmsg(-1));
		return -ENOEXEC;
	}
	if (elf_kind(e->elf) != ELF_K_ELF) {
		snprintf(why, whylen, "%s is not an ELF program", path);
		ms_go_elf_close(e);
		return -ENOEXEC;
	}
	if (!gelf_getehdr(e->elf, &eh) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB) {
		snprintf(why, whylen, "%s is not a 64-bit little-endian ELF program", path);
		ms_go_elf_close(e);
		return -ENOEXEC;
	}
	if (!sections_whole(e, &eh, st.st_size)) {
		snprintf(why, whylen,
			 "%s is a truncated or damaged ELF file (sections past its end)", path);
		ms_go_elf_close(e);
		return -ENOEXEC;
	}
	e->machine = eh.e_machine;
	e->pie = eh.e_type == ET_DYN;
	if (ge_sec_by_name(e, ".gopclntab", &sh) || ge_sec_by_name(e, ".note.go.buildid", &sh))
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
	GElf_Shdr text;
	Elf_Scn *scn = ge_sec_by_name(e, ".text", &text);
	const uint8_t *b;
	size_t n, found = 0;

	b = ge_sec_bytes(scn, &text, &n);
	if (!b || e->machine != EM_X86_64 || n < 5)
		return -1;
	for (size_t i = 0; i + 5 <= n; i++) {
		int32_t rel;
		uint64_t pc = text.sh_addr + i;

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

	if (e->machine != EM_X86_64 || fn->size < 24)
		return 0;
	p = ge_bytes_at(e, fn->addr, 24);
	if (!p)
		return 0;
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
	GElf_Shdr sh;

	if (!alloc_sec_at(e, addr, 1, &sh))
		return 0;
	return addr - sh.sh_addr + sh.sh_offset;
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
	elf_end(e->elf); /* NULL-safe */
	memset(e, 0, sizeof(*e));
}
