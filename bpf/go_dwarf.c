// SPDX-License-Identifier: MIT
/* The Go binary reader: field names from the DWARF (go_elf.h, ms_go_elf_name_addr). */
#include <errno.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "go_elf.h"
#include "go_elf_int.h"

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

/*
 * Inflate the zlib stream of n bytes at b into exactly size bytes. zlib rather than
 * libelf's elf_compress: that one rewrites the section in the descriptor (made for
 * writing files), and it would take any size the header claims.
 */
static int dw_inflate(const uint8_t *b, size_t n, uint64_t size, uint8_t **out, size_t *len)
{
	uLongf dlen = size;

	if (size > (1u << 30))
		return -EINVAL;
	*out = malloc(size ? size : 1);
	if (!*out)
		return -ENOMEM;
	if (uncompress(*out, &dlen, b, n) != Z_OK || dlen != size) {
		free(*out);
		*out = NULL;
		return -EINVAL;
	}
	*len = dlen;
	return 0;
}

/*
 * A debug section's bytes (name: ".debug_info"...), inflated when the linker compressed
 * it: SHF_COMPRESSED (Go 1.12 on), or the GNU format of older linkers, ".zdebug_info"
 * holding "ZLIB", the size (8 bytes, big-endian) and the stream.
 */
static int dw_section(struct ms_go_elf *e, const char *name, uint8_t **out, size_t *len)
{
	GElf_Shdr sh;
	char zname[32];
	const uint8_t *b;
	uint64_t size = 0;
	size_t n;

	*out = NULL;
	*len = 0;
	b = ge_sec_bytes(ge_sec_by_name(e, name, &sh), &sh, &n);
	if (b && (sh.sh_flags & SHF_COMPRESSED)) {
		Elf64_Chdr ch;

		if (n < sizeof(ch))
			return -EINVAL;
		memcpy(&ch, b, sizeof(ch));
		if (ch.ch_type != ELFCOMPRESS_ZLIB)
			return -EINVAL;
		return dw_inflate(b + sizeof(ch), n - sizeof(ch), ch.ch_size, out, len);
	}
	if (b) {
		*out = malloc(n ? n : 1);
		if (!*out)
			return -ENOMEM;
		memcpy(*out, b, n);
		*len = n;
		return 0;
	}
	snprintf(zname, sizeof(zname), ".z%s", name + 1);
	b = ge_sec_bytes(ge_sec_by_name(e, zname, &sh), &sh, &n);
	if (!b)
		return -ENOENT;
	if (n < 12 || memcmp(b, "ZLIB", 4))
		return -EINVAL;
	for (int i = 4; i < 12; i++)
		size = size << 8 | b[i];
	return dw_inflate(b + 12, n - 12, size, out, len);
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

void ge_dw_free(struct ms_go_dwarf *d)
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
	ge_dw_free(d);
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
