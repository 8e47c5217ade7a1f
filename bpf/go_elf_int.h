/* SPDX-License-Identifier: MIT */
/*
 * Inside the Go binary reader (go_elf.h): go_elf.c reads the ELF file with libelf
 * (sections, build info, symbols), go_x86.c decodes x86-64 instruction lengths,
 * go_dwarf.c names fields from the DWARF. What they share:
 */
#ifndef MEMSTATE_BPF_GO_ELF_INT_H
#define MEMSTATE_BPF_GO_ELF_INT_H

#include <gelf.h>
#include <stddef.h>
#include <stdint.h>

#include "go_elf.h"

/* The section called name with its header in *sh, or NULL (*sh then undefined). */
Elf_Scn *ge_sec_by_name(const struct ms_go_elf *e, const char *name, GElf_Shdr *sh);
/*
 * A section's bytes as stored in the file (compressed ones still compressed), all
 * sh->sh_size of them in *len; NULL for no section, SHT_NOBITS or one the file does not
 * hold. Valid until ms_go_elf_close.
 */
const uint8_t *ge_sec_bytes(Elf_Scn *scn, const GElf_Shdr *sh, size_t *len);
/* The len bytes at link-time address addr, inside one allocated section, or NULL. */
const uint8_t *ge_bytes_at(const struct ms_go_elf *e, uint64_t addr, size_t len);
void ge_dw_free(struct ms_go_dwarf *d);

#endif /* MEMSTATE_BPF_GO_ELF_INT_H */
