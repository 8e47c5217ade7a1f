/* SPDX-License-Identifier: MIT */
/*
 * What memstate reads from a Go binary (go_elf.c): is it Go, which version, where its
 * runtime functions are (address, size, file offset for a uprobe), and the name of a
 * runtime variable's field from an address (DWARF), to name the sysMemStat a call charges.
 *
 * The file is read with libelf (which maps it read-only); DWARF sections that the Go
 * linker compressed are inflated with zlib on first use. A damaged file is refused with a
 * reason or read as far as it holds together, never trusted past its bounds.
 */
#ifndef MEMSTATE_TRACER_GO_ELF_H
#define MEMSTATE_TRACER_GO_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ms_go_sym {
	uint64_t addr; /* link-time address */
	uint64_t size; /* bytes */
	uint64_t off;  /* file offset (functions: where a uprobe goes) */
	char *name;
};

struct ms_go_dwarf;
struct Elf; /* libelf's descriptor (<libelf.h>) */

struct ms_go_elf {
	struct Elf *elf;	 /* the file, mapped read-only by libelf */
	bool is_go;		 /* build info, .gopclntab or Go runtime symbols */
	bool symtab;		 /* has a symbol table (not stripped) */
	bool pie;		 /* ET_DYN: loaded at a bias */
	uint16_t machine;	 /* EM_X86_64, EM_AARCH64 */
	char version[40];	 /* "go1.19.8", "" when unknown */
	struct ms_go_sym *funcs; /* runtime functions memstate may probe */
	size_t nfuncs;
	struct ms_go_sym *objs; /* runtime data symbols, by address */
	size_t nobjs;
	struct ms_go_range {
		uint64_t addr, size;
	} * text; /* every function symbol, by address (for whose body holds a PC) */
	size_t ntext;
	struct ms_go_dwarf *dw; /* parsed on first use, NULL until then */
	bool dw_failed;		/* no usable DWARF: names stay symbol+offset */
};

/* 0, or a negative errno with a one-line reason in why (not ELF, unreadable...). */
int ms_go_elf_open(const char *path, struct ms_go_elf *e, char *why, size_t whylen);
void ms_go_elf_close(struct ms_go_elf *e);
/* The function symbol name, or NULL. */
const struct ms_go_sym *ms_go_elf_func(const struct ms_go_elf *e, const char *name);
/*
 * Direct calls and jumps to addr in .text (x86-64: E8/E9 with a 32-bit displacement),
 * by a byte scan: every real site is found; a byte pattern that only looks like one
 * may be found too, so the answer is a superset. Up to max sites are stored (link
 * addresses of the instructions); returns how many there are, or -1 when the scan cannot
 * be done here (no .text, another architecture).
 */
long ms_go_elf_callers(const struct ms_go_elf *e, uint64_t addr, uint64_t *sites, size_t max);
/*
 * Where, past a Go function's entry, a uprobe costs one trap instead of two: the
 * conditional branch of the stack-bound check (`cmp rsp, 16(r14); jbe` or
 * `lea r12, -N(rsp); cmp r12, 16(r14); jbe`), which the kernel emulates where it must
 * single-step the compare. Arguments and the return address are still untouched there.
 * 0 when the prologue is not one of those (or not amd64).
 */
unsigned ms_go_elf_probe_skip(const struct ms_go_elf *e, const struct ms_go_sym *fn);
/*
 * Is link address addr the start of an instruction? Decodes (lengths only) the function
 * holding it from its entry: Go's compiled code keeps no data in .text, so the walk stays
 * on instruction boundaries. false when it does not land there, when an instruction is
 * not one the decoder knows, or off amd64. A uprobe may only go where this says true.
 */
bool ms_go_elf_insn_start(const struct ms_go_elf *e, uint64_t addr);
/* File offset of link address addr (in an allocated section), or 0. */
uint64_t ms_go_elf_file_off(const struct ms_go_elf *e, uint64_t addr);
/*
 * Name the runtime variable (or field of one) at link-time address addr, e.g.
 * "runtime.memstats.stacks_sys" or "runtime.gcController.heapReleased"; falls back to
 * "runtime.memstats+0xdd8" without DWARF and to "0x55a6a0" outside any symbol.
 */
void ms_go_elf_name_addr(struct ms_go_elf *e, uint64_t addr, char *out, size_t len);

#endif /* MEMSTATE_TRACER_GO_ELF_H */
