// SPDX-License-Identifier: MIT
/* The Go binary reader: x86-64 instruction lengths (where a uprobe may go). */
#include <elf.h>
#include <stdbool.h>
#include <stdint.h>

#include "go_elf.h"
#include "go_elf_int.h"

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
	uint64_t pc;

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
	p = ge_bytes_at(e, f->addr, f->size);
	if (!p)
		return false;
	for (pc = f->addr; pc < addr;) {
		unsigned n = insn_len(p + (pc - f->addr), f->addr + f->size - pc);

		if (!n)
			return false;
		pc += n;
	}
	return pc == addr;
}
