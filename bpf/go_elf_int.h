/* SPDX-License-Identifier: MIT */
/*
 * Inside the Go binary reader (go_elf.h): go_elf.c reads the ELF file (sections, build
 * info, symbols), go_x86.c decodes x86-64 instruction lengths, go_dwarf.c names fields
 * from the DWARF. What they share:
 */
#ifndef MEMSTATE_BPF_GO_ELF_INT_H
#define MEMSTATE_BPF_GO_ELF_INT_H

#include <elf.h>
#include <stddef.h>
#include <stdint.h>

#include "go_elf.h"

const Elf64_Shdr *ge_shdr_at(const struct ms_go_elf *e, unsigned i);
const uint8_t *ge_sec_bytes(const struct ms_go_elf *e, const Elf64_Shdr *sh, size_t *len);
const Elf64_Shdr *ge_sec_by_name(const struct ms_go_elf *e, const char *name);
void ge_dw_free(struct ms_go_dwarf *d);

#endif /* MEMSTATE_BPF_GO_ELF_INT_H */
