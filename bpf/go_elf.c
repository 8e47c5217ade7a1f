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

/* ------------------------------------------------------------------ sections */

static const Elf64_Shdr *shdr_at(const struct ms_go_elf *e, unsigned i)
{
	const Elf64_Ehdr *eh = (const void *)e->map;

	if (i >= eh->e_shnum)
		return NULL;
	return (const void *)(e->map + eh->e_shoff + (size_t)i * eh->e_shentsize);
}

/* Bounds of a section's bytes in the file; NULL when it has none or lies outside. */
static const uint8_t *sec_bytes(const struct ms_go_elf *e, const Elf64_Shdr *sh, size_t *len)
{
	if (!sh || sh->sh_type == SHT_NOBITS || sh->sh_offset > e->size ||
	    sh->sh_size > e->size - sh->sh_offset)
		return NULL;
	*len = sh->sh_size;
	return e->map + sh->sh_offset;
}

static const Elf64_Shdr *sec_by_name(const struct ms_go_elf *e, const char *name)
{
	const Elf64_Ehdr *eh = (const void *)e->map;
	const Elf64_Shdr *strs = shdr_at(e, eh->e_shstrndx);
	const uint8_t *names;
	size_t nlen;

	names = sec_bytes(e, strs, &nlen);
	if (!names)
		return NULL;
	for (unsigned i = 1; i < eh->e_shnum; i++) {
		const Elf64_Shdr *sh = shdr_at(e, i);

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
		const Elf64_Shdr *sh = shdr_at(e, i);
		size_t n;
		const uint8_t *b;

		if (!(sh->sh_flags & SHF_ALLOC) || addr < sh->sh_addr ||
		    addr - sh->sh_addr + len > sh->sh_size)
			continue;
		b = sec_bytes(e, sh, &n);
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
	const Elf64_Shdr *sh = sec_by_name(e, ".go.buildinfo");
	const uint8_t *b, *end, *s;
	size_t n;
	uint64_t len, ptr;

	b = sec_bytes(e, sh, &n);
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
	const Elf64_Shdr *symtab = sec_by_name(e, ".symtab"), *strtab;
	const Elf64_Sym *syms;
	const char *strs;
	size_t n, slen, fcap = 0, ocap = 0, tcap = 0;

	syms = (const void *)sec_bytes(e, symtab, &n);
	if (!syms || symtab->sh_entsize != sizeof(Elf64_Sym))
		return 0;
	strtab = shdr_at(e, symtab->sh_link);
	strs = (const char *)sec_bytes(e, strtab, &slen);
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
		sec = shdr_at(e, s->st_shndx);
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
	if (sec_by_name(e, ".gopclntab") || sec_by_name(e, ".note.go.buildid"))
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
	const Elf64_Shdr *text = sec_by_name(e, ".text");
	const uint8_t *b;
	size_t n, found = 0;

	b = sec_bytes(e, text, &n);
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

/* ------------------------------------------------------------------ x86-64 lengths */

/*
 * Instruction lengths of x86-64 code, enough for what the Go compiler emits (and the
 * SSE/AVX of the runtime's assembly): legacy and REX prefixes, the one-byte map, 0F,
 * 0F 38, 0F 3A, VEX. Returns the length of the instruction at p (at most avail bytes),
 * or 0 for one it does not know.
 */
enum { IMM_NONE, IMM_B, IMM_W, IMM_Z, IMM_V, IMM_BW };

/* One-byte map: 1 = has ModRM; and the immediate. 0xff: not valid here. */
static unsigned char op1_modrm(uint8_t op)
{
	if (op < 0x40)
		return (op & 7) < 4;
	switch (op) {
	case 0x63:
	case 0x69:
	case 0x6b:
	case 0x80 ... 0x8f:
	case 0xc0:
	case 0xc1:
	case 0xc6:
	case 0xc7:
	case 0xd0 ... 0xd3:
	case 0xd8 ... 0xdf:
	case 0xf6:
	case 0xf7:
	case 0xfe:
	case 0xff:
		return 1;
	default:
		return 0;
	}
}

static int op1_imm(uint8_t op, uint8_t modrm_reg, bool rexw)
{
	if (op < 0x40) {
		if ((op & 7) == 4)
			return IMM_B;
		if ((op & 7) == 5)
			return IMM_Z;
		return IMM_NONE;
	}
	switch (op) {
	case 0x68:
	case 0x69:
	case 0x81:
	case 0xa9:
	case 0xc7:
	case 0xe8:
	case 0xe9:
		return IMM_Z;
	case 0x6a:
	case 0x6b:
	case 0x70 ... 0x7f:
	case 0x80:
	case 0x83:
	case 0xa8:
	case 0xb0 ... 0xb7:
	case 0xc0:
	case 0xc1:
	case 0xc6:
	case 0xcd:
	case 0xe0 ... 0xe3:
	case 0xeb:
		return IMM_B;
	case 0xb8 ... 0xbf:
		return rexw ? IMM_V : IMM_Z;
	case 0xc2:
		return IMM_W;
	case 0xc8:
		return IMM_BW;
	case 0xf6:
		return modrm_reg < 2 ? IMM_B : IMM_NONE;
	case 0xf7:
		return modrm_reg < 2 ? IMM_Z : IMM_NONE;
	default:
		return IMM_NONE;
	}
}

static bool op1_valid(uint8_t op)
{
	switch (op) {
	case 0x06:
	case 0x07:
	case 0x0e:
	case 0x16:
	case 0x17:
	case 0x1e:
	case 0x1f:
	case 0x27:
	case 0x2f:
	case 0x37:
	case 0x3f:
	case 0x60 ... 0x62:
	case 0x82:
	case 0x9a:
	case 0xa0 ... 0xa3: /* moffs: never in Go's code, and 8-byte addresses */
	case 0xc4:
	case 0xc5:
	case 0xce:
	case 0xd4 ... 0xd6:
	case 0xea:
		return false;
	default:
		return true;
	}
}

/* 0F map: ModRM and immediate (0xff: unknown). */
static int op2_info(uint8_t op, bool *modrm)
{
	*modrm = true;
	switch (op) {
	case 0x05:	    /* syscall */
	case 0x0b:	    /* ud2 */
	case 0x31:	    /* rdtsc */
	case 0x77:	    /* emms */
	case 0xa2:	    /* cpuid */
	case 0xc8 ... 0xcf: /* bswap */
		*modrm = false;
		return IMM_NONE;
	case 0x01: /* xgetbv, rdtscp... (ModRM forms) */
	case 0x0d:
	case 0x10 ... 0x17:
	case 0x18 ... 0x1f:
	case 0x28 ... 0x2f:
	case 0x40 ... 0x6f:
	case 0x74 ... 0x76:
	case 0x7e:
	case 0x7f:
	case 0x90 ... 0x9f:
	case 0xa3:
	case 0xa5:
	case 0xab:
	case 0xad ... 0xaf:
	case 0xb0 ... 0xb1:
	case 0xb3:
	case 0xb6 ... 0xb8:
	case 0xbb ... 0xbf:
	case 0xc0:
	case 0xc1:
	case 0xc3:
	case 0xc7:
	case 0xd0 ... 0xfe:
		return IMM_NONE;
	case 0x70 ... 0x73:
	case 0xa4:
	case 0xac:
	case 0xba:
	case 0xc2:
	case 0xc4 ... 0xc6:
		return IMM_B;
	case 0x80 ... 0x8f:
		*modrm = false;
		return IMM_Z;
	default:
		return -1;
	}
}

/* Length of ModRM (+SIB +displacement) at p. */
static unsigned modrm_len(const uint8_t *p, size_t avail)
{
	uint8_t m = p[0], mod = m >> 6, rm = m & 7;
	unsigned n = 1;

	if (mod == 3)
		return 1;
	if (rm == 4) {
		if (avail < 2)
			return 0;
		n++;
		if (mod == 0 && (p[1] & 7) == 5)
			n += 4;
	} else if (mod == 0 && rm == 5) {
		n += 4; /* rip-relative */
	}
	if (mod == 1)
		n += 1;
	else if (mod == 2)
		n += 4;
	return n;
}

static unsigned imm_len(int imm, bool opsize16)
{
	switch (imm) {
	case IMM_B:
		return 1;
	case IMM_W:
		return 2;
	case IMM_Z:
		return opsize16 ? 2 : 4;
	case IMM_V:
		return 8;
	case IMM_BW:
		return 3;
	default:
		return 0;
	}
}

static unsigned insn_len(const uint8_t *p, size_t avail)
{
	size_t i = 0;
	bool opsize16 = false, rexw = false, modrm;
	unsigned m, len;
	int imm;
	uint8_t op;

	/* Legacy prefixes, then REX. */
	while (i < avail && i < 14) {
		uint8_t b = p[i];

		if (b == 0x66)
			opsize16 = true;
		else if (b != 0xf0 && b != 0xf2 && b != 0xf3 && b != 0x2e && b != 0x36 &&
			 b != 0x3e && b != 0x26 && b != 0x64 && b != 0x65 && b != 0x67)
			break;
		i++;
	}
	if (i < avail && (p[i] & 0xf0) == 0x40) {
		rexw = p[i] & 8;
		i++;
	}
	if (i >= avail)
		return 0;
	op = p[i++];
	if (op == 0xc4 || op == 0xc5) { /* VEX: map from its bytes, then opcode + ModRM */
		unsigned map = 1;

		if (op == 0xc4) {
			if (i + 2 > avail)
				return 0;
			map = p[i] & 0x1f;
			i += 2;
		} else {
			i += 1;
		}
		if (i + 1 > avail || map < 1 || map > 3)
			return 0;
		if (map == 1 && p[i] == 0x77) /* vzeroupper, vzeroall: no ModRM */
			return (unsigned)i + 1;
		if (i + 2 > avail)
			return 0;
		i++; /* opcode */
		m = modrm_len(p + i, avail - i);
		if (!m)
			return 0;
		i += m + (map == 3 ? 1 : 0);
		return i <= avail ? (unsigned)i : 0;
	}
	if (op == 0x0f) {
		if (i >= avail)
			return 0;
		op = p[i++];
		if (op == 0x38 || op == 0x3a) { /* three-byte maps: all ModRM */
			if (i + 1 >= avail)
				return 0;
			i++;
			m = modrm_len(p + i, avail - i);
			if (!m)
				return 0;
			i += m + (op == 0x3a ? 1 : 0);
			return i <= avail ? (unsigned)i : 0;
		}
		imm = op2_info(op, &modrm);
		if (imm < 0)
			return 0;
		if (modrm) {
			if (i >= avail || !(m = modrm_len(p + i, avail - i)))
				return 0;
			i += m;
		}
	} else {
		uint8_t reg = 0;

		if (!op1_valid(op))
			return 0;
		if (op1_modrm(op)) {
			if (i >= avail || !(m = modrm_len(p + i, avail - i)))
				return 0;
			reg = (p[i] >> 3) & 7; /* F6/F7: the immediate depends on it */
			i += m;
		}
		imm = op1_imm(op, reg, rexw);
	}
	len = (unsigned)i + imm_len(imm, opsize16);
	return len <= avail ? len : 0;
}

bool ms_go_elf_insn_start(const struct ms_go_elf *e, uint64_t addr)
{
	size_t lo = 0, hi = e->ntext;
	const struct ms_go_range *f = NULL;
	const uint8_t *p;
	uint64_t off, pc;

	if (e->machine != EM_X86_64)
		return false;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (e->text[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo)
		f = &e->text[lo - 1];
	if (!f || addr >= f->addr + f->size)
		return false;
	off = ms_go_elf_file_off(e, f->addr);
	if (!off || off + f->size > e->size)
		return false;
	p = e->map + off;
	for (pc = f->addr; pc < addr;) {
		unsigned n = insn_len(p + (pc - f->addr), f->addr + f->size - pc);

		if (!n)
			return false;
		pc += n;
	}
	return pc == addr;
}

uint64_t ms_go_elf_file_off(const struct ms_go_elf *e, uint64_t addr)
{
	const Elf64_Ehdr *eh = (const void *)e->map;

	for (unsigned i = 1; i < eh->e_shnum; i++) {
		const Elf64_Shdr *sh = shdr_at(e, i);

		if ((sh->sh_flags & SHF_ALLOC) && sh->sh_type != SHT_NOBITS &&
		    addr >= sh->sh_addr && addr < sh->sh_addr + sh->sh_size)
			return addr - sh->sh_addr + sh->sh_offset;
	}
	return 0;
}

/* ------------------------------------------------------------------ DWARF */

/*
 * Just enough DWARF (versions 2 to 5, 32-bit format) to name a field: the variables'
 * types, followed through typedefs to structures and their members. Compilation units
 * are kept as a list so that a type reference can be parsed where it points.
 */
#define DW_TAG_member	      0x0d
#define DW_TAG_structure_type 0x13
#define DW_TAG_typedef	      0x16
#define DW_TAG_variable	      0x34
#define DW_AT_location	      0x02
#define DW_AT_name	      0x03
#define DW_AT_byte_size	      0x0b
#define DW_AT_data_member_loc 0x38
#define DW_AT_type	      0x49
#define DW_OP_addr	      0x03

struct dw_attr {
	uint16_t name, form;
};

struct dw_abbrev {
	uint64_t code;
	uint16_t tag;
	uint8_t children;
	uint16_t nattrs;
	struct dw_attr *attrs;
};

struct dw_table {
	uint64_t off; /* in .debug_abbrev */
	struct dw_abbrev *v;
	size_t n;
};

struct dw_cu {
	uint64_t start, end; /* the unit, header included */
	uint64_t dies;	     /* first DIE */
	struct dw_table *tab;
};

struct ms_go_dwarf {
	uint8_t *info, *abbrev, *str; /* owned (inflated) or NULL */
	size_t info_len, abbrev_len, str_len;
	struct dw_table *tabs;
	size_t ntabs;
	struct dw_cu *cus;
	size_t ncus;
};

/* One DIE, with the attributes that matter here. */
struct dw_die {
	uint64_t off; /* in .debug_info */
	const struct dw_abbrev *ab;
	const char *name;
	uint64_t type; /* .debug_info offset, 0 for none */
	uint64_t loc;  /* member location, or variable address */
	uint64_t byte_size;
	bool has_loc;
};

struct dw_cur {
	const uint8_t *p, *end;
	bool bad;
};

static uint64_t rd(struct dw_cur *c, unsigned n)
{
	uint64_t v = 0;

	if ((size_t)(c->end - c->p) < n) {
		c->bad = true;
		c->p = c->end;
		return 0;
	}
	memcpy(&v, c->p, n); /* little-endian */
	c->p += n;
	return v;
}

static uint64_t uleb(struct dw_cur *c)
{
	uint64_t v = 0;

	for (unsigned s = 0;; s += 7) {
		uint8_t b;

		if (c->p >= c->end) {
			c->bad = true;
			return v;
		}
		b = *c->p++;
		if (s < 64)
			v |= (uint64_t)(b & 0x7f) << s;
		if (!(b & 0x80))
			return v;
	}
}

static int64_t sleb(struct dw_cur *c)
{
	uint64_t v = 0; /* built unsigned: shifting into a signed sign bit is not defined */
	unsigned s = 0;
	uint8_t b;

	do {
		if (c->p >= c->end) {
			c->bad = true;
			return (int64_t)v;
		}
		b = *c->p++;
		if (s < 64)
			v |= (uint64_t)(b & 0x7f) << s;
		s += 7;
	} while (b & 0x80);
	if (s < 64 && (b & 0x40))
		v |= ~0ull << s; /* sign extension */
	return (int64_t)v;
}

/* A debug section's bytes, inflated when the linker compressed it (SHF_COMPRESSED). */
static int dw_section(struct ms_go_elf *e, const char *name, uint8_t **out, size_t *len)
{
	const Elf64_Shdr *sh = sec_by_name(e, name);
	const uint8_t *b;
	size_t n;
	uLongf dlen;

	*out = NULL;
	*len = 0;
	b = sec_bytes(e, sh, &n);
	if (!b)
		return -ENOENT;
	if (!(sh->sh_flags & SHF_COMPRESSED)) {
		*out = malloc(n ? n : 1);
		if (!*out)
			return -ENOMEM;
		memcpy(*out, b, n);
		*len = n;
		return 0;
	}
	{
		Elf64_Chdr ch;

		if (n < sizeof(ch))
			return -EINVAL;
		memcpy(&ch, b, sizeof(ch));
		if (ch.ch_type != ELFCOMPRESS_ZLIB || ch.ch_size > (1u << 30))
			return -EINVAL;
		*out = malloc(ch.ch_size ? ch.ch_size : 1);
		if (!*out)
			return -ENOMEM;
		dlen = ch.ch_size;
		if (uncompress(*out, &dlen, b + sizeof(ch), n - sizeof(ch)) != Z_OK ||
		    dlen != ch.ch_size) {
			free(*out);
			*out = NULL;
			return -EINVAL;
		}
		*len = dlen;
	}
	return 0;
}

static struct dw_table *dw_table(struct ms_go_dwarf *d, uint64_t off)
{
	struct dw_table *t, *v;
	struct dw_cur c;
	size_t cap = 0;

	for (size_t i = 0; i < d->ntabs; i++) {
		if (d->tabs[i].off == off)
			return &d->tabs[i];
	}
	if (off >= d->abbrev_len)
		return NULL;
	v = realloc(d->tabs, (d->ntabs + 1) * sizeof(*v));
	if (!v)
		return NULL;
	d->tabs = v;
	t = &d->tabs[d->ntabs];
	*t = (struct dw_table){.off = off};
	c = (struct dw_cur){d->abbrev + off, d->abbrev + d->abbrev_len, false};
	for (;;) {
		struct dw_abbrev a = {.code = uleb(&c)};
		size_t acap = 0;

		if (!a.code || c.bad)
			break;
		a.tag = (uint16_t)uleb(&c);
		a.children = (uint8_t)rd(&c, 1);
		for (;;) {
			uint64_t an = uleb(&c), fo = uleb(&c);

			if (c.bad)
				break;
			if (!an && !fo)
				break;
			if (fo == 0x21) /* implicit_const: its value lives here */
				sleb(&c);
			if (a.nattrs == acap) {
				struct dw_attr *g;

				acap = acap ? 2 * acap : 8;
				g = realloc(a.attrs, acap * sizeof(*g));
				if (!g) {
					c.bad = true;
					break;
				}
				a.attrs = g;
			}
			a.attrs[a.nattrs++] = (struct dw_attr){(uint16_t)an, (uint16_t)fo};
		}
		if (c.bad) {
			free(a.attrs);
			break;
		}
		if (t->n == cap) {
			struct dw_abbrev *g;

			cap = cap ? 2 * cap : 64;
			g = realloc(t->v, cap * sizeof(*g));
			if (!g) {
				free(a.attrs);
				break;
			}
			t->v = g;
		}
		t->v[t->n++] = a;
	}
	d->ntabs++;
	return t;
}

static const struct dw_abbrev *dw_abbrev_find(const struct dw_table *t, uint64_t code)
{
	/* Codes are usually 1..n in order. */
	if (code && code <= t->n && t->v[code - 1].code == code)
		return &t->v[code - 1];
	for (size_t i = 0; i < t->n; i++) {
		if (t->v[i].code == code)
			return &t->v[i];
	}
	return NULL;
}

/* Skip or read one attribute value of form fo; what matters lands in die. */
static void dw_value(struct ms_go_dwarf *d, const struct dw_cu *cu, struct dw_cur *c, uint16_t an,
		     uint16_t fo, struct dw_die *die, unsigned version)
{
	uint64_t v = 0, n;
	const uint8_t *blk = NULL;
	bool is_ref = false, is_num = false;

	switch (fo) {
	case 0x01: /* addr */
		v = rd(c, 8);
		is_num = true;
		break;
	case 0x03: /* block2 */
		n = rd(c, 2);
		goto block;
	case 0x04: /* block4 */
		n = rd(c, 4);
		goto block;
	case 0x09: /* block */
	case 0x18: /* exprloc */
		n = uleb(c);
		goto block;
	case 0x0a: /* block1 */
		n = rd(c, 1);
	block:
		if ((uint64_t)(c->end - c->p) < n) {
			c->bad = true;
			return;
		}
		blk = c->p;
		c->p += n;
		if (an == DW_AT_location && n == 9 && blk[0] == DW_OP_addr) {
			memcpy(&die->loc, blk + 1, 8);
			die->has_loc = true;
		} else if (an == DW_AT_data_member_loc && n >= 2 && blk[0] == 0x23) {
			struct dw_cur b = {blk + 1, blk + n, false}; /* DW_OP_plus_uconst */

			die->loc = uleb(&b);
			die->has_loc = true;
		}
		return;
	case 0x05: /* data2 */
		v = rd(c, 2);
		is_num = true;
		break;
	case 0x06: /* data4 */
		v = rd(c, 4);
		is_num = true;
		break;
	case 0x07: /* data8 */
		v = rd(c, 8);
		is_num = true;
		break;
	case 0x08: /* string */
		blk = c->p;
		while (c->p < c->end && *c->p)
			c->p++;
		if (c->p >= c->end) {
			c->bad = true;
			return;
		}
		c->p++;
		if (an == DW_AT_name)
			die->name = (const char *)blk;
		return;
	case 0x0b: /* data1 */
		v = rd(c, 1);
		is_num = true;
		break;
	case 0x0c: /* flag */
		rd(c, 1);
		return;
	case 0x0d: /* sdata */
		v = (uint64_t)sleb(c);
		is_num = true;
		break;
	case 0x0e: /* strp */
		v = rd(c, 4);
		if (an == DW_AT_name && d->str && v < d->str_len &&
		    memchr(d->str + v, 0, d->str_len - v))
			die->name = (const char *)d->str + v;
		return;
	case 0x0f: /* udata */
		v = uleb(c);
		is_num = true;
		break;
	case 0x10: /* ref_addr: section offset (address-sized before DWARF 3) */
		v = rd(c, version < 3 ? 8 : 4);
		is_ref = true;
		break;
	case 0x11: /* ref1 */
		v = cu->start + rd(c, 1);
		is_ref = true;
		break;
	case 0x12: /* ref2 */
		v = cu->start + rd(c, 2);
		is_ref = true;
		break;
	case 0x13: /* ref4 */
		v = cu->start + rd(c, 4);
		is_ref = true;
		break;
	case 0x14: /* ref8 */
		v = cu->start + rd(c, 8);
		is_ref = true;
		break;
	case 0x15: /* ref_udata */
		v = cu->start + uleb(c);
		is_ref = true;
		break;
	case 0x16: /* indirect */
		dw_value(d, cu, c, an, (uint16_t)uleb(c), die, version);
		return;
	case 0x17: /* sec_offset */
	case 0x1f: /* line_strp */
		rd(c, 4);
		return;
	case 0x19: /* flag_present */
	case 0x21: /* implicit_const */
		return;
	case 0x20: /* ref_sig8 */
		rd(c, 8);
		return;
	case 0x1a: /* strx */
	case 0x1b: /* addrx */
	case 0x22: /* loclistx */
	case 0x23: /* rnglistx */
		uleb(c);
		return;
	case 0x25: /* strx1 */
	case 0x29: /* addrx1 */
		rd(c, 1);
		return;
	case 0x26: /* strx2 */
	case 0x2a: /* addrx2 */
		rd(c, 2);
		return;
	case 0x27: /* strx3 */
	case 0x2b: /* addrx3 */
		rd(c, 3);
		return;
	case 0x28: /* strx4 */
	case 0x2c: /* addrx4 */
		rd(c, 4);
		return;
	case 0x1e: /* data16 */
		rd(c, 8);
		rd(c, 8);
		return;
	default: /* a form this reader does not know: stop rather than misparse */
		c->bad = true;
		return;
	}
	if (an == DW_AT_type && is_ref)
		die->type = v;
	else if (an == DW_AT_data_member_loc && is_num) {
		die->loc = v;
		die->has_loc = true;
	} else if (an == DW_AT_byte_size && is_num)
		die->byte_size = v;
}

static unsigned dw_cu_version(const struct ms_go_dwarf *d, const struct dw_cu *cu)
{
	uint16_t v;

	memcpy(&v, d->info + cu->start + 4, 2);
	return v;
}

/* Parse the DIE at c (inside cu); false at a null entry or on damage. */
static bool dw_die(struct ms_go_dwarf *d, const struct dw_cu *cu, struct dw_cur *c,
		   struct dw_die *die)
{
	uint64_t code;
	unsigned version = dw_cu_version(d, cu);

	memset(die, 0, sizeof(*die));
	die->off = (uint64_t)(c->p - d->info);
	code = uleb(c);
	if (!code || c->bad)
		return false;
	die->ab = dw_abbrev_find(cu->tab, code);
	if (!die->ab) {
		c->bad = true;
		return false;
	}
	for (uint16_t i = 0; i < die->ab->nattrs && !c->bad; i++)
		dw_value(d, cu, c, die->ab->attrs[i].name, die->ab->attrs[i].form, die, version);
	return !c->bad;
}

/* Skip the children of a DIE that has them (c is just past the DIE). */
static void dw_skip_children(struct ms_go_dwarf *d, const struct dw_cu *cu, struct dw_cur *c)
{
	unsigned depth = 1;
	struct dw_die die;

	while (depth && !c->bad && c->p < c->end) {
		if (!dw_die(d, cu, c, &die)) {
			if (!c->bad)
				depth--;
			continue;
		}
		if (die.ab->children)
			depth++;
	}
}

static const struct dw_cu *dw_cu_of(const struct ms_go_dwarf *d, uint64_t off)
{
	for (size_t i = 0; i < d->ncus; i++) {
		if (off >= d->cus[i].dies && off < d->cus[i].end)
			return &d->cus[i];
	}
	return NULL;
}

static bool dw_die_at(struct ms_go_dwarf *d, uint64_t off, struct dw_die *die,
		      const struct dw_cu **cup, struct dw_cur *c)
{
	const struct dw_cu *cu = dw_cu_of(d, off);

	if (!cu)
		return false;
	*c = (struct dw_cur){d->info + off, d->info + cu->end, false};
	*cup = cu;
	return dw_die(d, cu, c, die);
}

static void dw_free(struct ms_go_dwarf *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->ntabs; i++) {
		for (size_t k = 0; k < d->tabs[i].n; k++)
			free(d->tabs[i].v[k].attrs);
		free(d->tabs[i].v);
	}
	free(d->tabs);
	free(d->cus);
	free(d->info);
	free(d->abbrev);
	free(d->str);
	free(d);
}

static struct ms_go_dwarf *dw_open(struct ms_go_elf *e)
{
	struct ms_go_dwarf *d = calloc(1, sizeof(*d));
	uint64_t off = 0;
	size_t cap = 0;

	if (!d)
		return NULL;
	if (dw_section(e, ".debug_info", &d->info, &d->info_len) ||
	    dw_section(e, ".debug_abbrev", &d->abbrev, &d->abbrev_len))
		goto fail;
	dw_section(e, ".debug_str", &d->str, &d->str_len); /* Go writes names inline */
	while (off + 11 <= d->info_len) {
		uint32_t len;
		uint16_t version;
		uint64_t aoff, dies;
		struct dw_cu *g;

		memcpy(&len, d->info + off, 4);
		if (len >= 0xfffffff0u || len > d->info_len - off - 4)
			break; /* 64-bit DWARF or damage: what was read so far stays */
		memcpy(&version, d->info + off + 4, 2);
		if (version >= 5) {
			uint32_t a;

			memcpy(&a, d->info + off + 8, 4);
			aoff = a;
			dies = off + 12;
		} else {
			uint32_t a;

			memcpy(&a, d->info + off + 6, 4);
			aoff = a;
			dies = off + 11;
		}
		if (version < 2 || version > 5)
			break;
		if (d->ncus == cap) {
			cap = cap ? 2 * cap : 64;
			g = realloc(d->cus, cap * sizeof(*g));
			if (!g)
				goto fail;
			d->cus = g;
		}
		g = &d->cus[d->ncus];
		*g = (struct dw_cu){.start = off, .end = off + 4 + len, .dies = dies};
		g->tab = dw_table(d, aoff);
		if (!g->tab)
			goto fail;
		d->ncus++;
		off += 4 + (uint64_t)len;
	}
	/* The tables may have moved while growing: point the units at them again. */
	for (size_t i = 0; i < d->ncus; i++) {
		uint32_t a;
		unsigned v = dw_cu_version(d, &d->cus[i]);

		memcpy(&a, d->info + d->cus[i].start + (v >= 5 ? 8 : 6), 4);
		d->cus[i].tab = dw_table(d, a);
	}
	if (!d->ncus)
		goto fail;
	return d;
fail:
	dw_free(d);
	return NULL;
}

/* The .debug_info offset of the type of variable name, or 0. */
static uint64_t dw_var_type(struct ms_go_dwarf *d, const char *name)
{
	for (size_t i = 0; i < d->ncus; i++) {
		const struct dw_cu *cu = &d->cus[i];
		struct dw_cur c = {d->info + cu->dies, d->info + cu->end, false};
		struct dw_die die;
		unsigned depth = 0;

		/* Top-level DIEs of the unit (depth 1: its children). */
		while (!c.bad && c.p < c.end) {
			if (!dw_die(d, cu, &c, &die)) {
				if (c.bad || depth == 0)
					break;
				depth--;
				continue;
			}
			if (depth == 1 && die.ab->tag == DW_TAG_variable && die.name &&
			    !strcmp(die.name, name))
				return die.type;
			if (die.ab->children) {
				if (depth >= 1)
					dw_skip_children(d, cu, &c);
				else
					depth++;
			}
		}
	}
	return 0;
}

/*
 * Append ".field" for offset off inside the type at type_off, recursing into nested
 * structures; "+0xN" for what is left unnamed.
 */
static void dw_name_field(struct ms_go_dwarf *d, uint64_t type_off, uint64_t off, char *out,
			  size_t len, unsigned depth)
{
	const struct dw_cu *cu;
	struct dw_cur c;
	struct dw_die die, m, best = {0};
	bool found = false;
	size_t used = strlen(out);

	/* Follow typedefs to the structure. */
	for (unsigned i = 0; i < 8 && type_off; i++) {
		if (!dw_die_at(d, type_off, &die, &cu, &c))
			goto raw;
		if (die.ab->tag == DW_TAG_typedef) {
			type_off = die.type;
			continue;
		}
		if (die.ab->tag != DW_TAG_structure_type || !die.ab->children)
			goto raw;
		while (!c.bad && dw_die(d, cu, &c, &m)) {
			if (m.ab->tag == DW_TAG_member && m.has_loc && m.name && m.loc <= off &&
			    (!found || m.loc >= best.loc)) {
				best = m;
				found = true;
			}
			if (m.ab->children)
				dw_skip_children(d, cu, &c);
		}
		if (!found)
			goto raw;
		snprintf(out + used, len - used, ".%s", best.name);
		if (off == best.loc)
			return;
		if (depth < 4)
			dw_name_field(d, best.type, off - best.loc, out, len, depth + 1);
		else
			snprintf(out + strlen(out), len - strlen(out), "+%#llx",
				 (unsigned long long)(off - best.loc));
		return;
	}
raw:
	if (off)
		snprintf(out + used, len - used, "+%#llx", (unsigned long long)off);
}

void ms_go_elf_name_addr(struct ms_go_elf *e, uint64_t addr, char *out, size_t len)
{
	const struct ms_go_sym *s = NULL;
	size_t lo = 0, hi = e->nobjs;
	uint64_t type;

	/* The last object starting at or before addr. */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (e->objs[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo)
		s = &e->objs[lo - 1];
	if (!s || addr >= s->addr + (s->size ? s->size : 1)) {
		snprintf(out, len, "%#llx", (unsigned long long)addr);
		return;
	}
	snprintf(out, len, "%s", s->name);
	if (!e->dw && !e->dw_failed) {
		e->dw = dw_open(e);
		e->dw_failed = !e->dw;
	}
	type = e->dw ? dw_var_type(e->dw, s->name) : 0;
	if (type)
		dw_name_field(e->dw, type, addr - s->addr, out, len, 0);
	else if (addr != s->addr)
		snprintf(out + strlen(out), len - strlen(out), "+%#llx",
			 (unsigned long long)(addr - s->addr));
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
	dw_free(e->dw);
	if (e->map)
		munmap((void *)e->map, e->size);
	memset(e, 0, sizeof(*e));
}
