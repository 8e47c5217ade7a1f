// SPDX-License-Identifier: MIT
/* Which allocator adapter to preload (alloc.h). */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"

#define ADAPTER "libmemstate-jemalloc.so"

/* A DT_NEEDED entry of the ELF image naming libjemalloc (section headers: .dynamic). */
static bool needs_jemalloc(const unsigned char *m, size_t size)
{
	const Elf64_Ehdr *eh = (const void *)m;
	const Elf64_Shdr *sh;

	if (size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    eh->e_shoff > size || (size - eh->e_shoff) / sizeof(Elf64_Shdr) < eh->e_shnum)
		return false;
	sh = (const void *)(m + eh->e_shoff);
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		const Elf64_Shdr *str;
		const Elf64_Dyn *d;

		if (sh[i].sh_type != SHT_DYNAMIC || sh[i].sh_link >= eh->e_shnum)
			continue;
		str = &sh[sh[i].sh_link];
		if (sh[i].sh_offset > size || sh[i].sh_size > size - sh[i].sh_offset ||
		    str->sh_offset > size || str->sh_size > size - str->sh_offset)
			return false;
		d = (const void *)(m + sh[i].sh_offset);
		for (size_t k = 0; k < sh[i].sh_size / sizeof(*d) && d[k].d_tag != DT_NULL; k++) {
			const char *name;

			if (d[k].d_tag != DT_NEEDED || d[k].d_un.d_val >= str->sh_size)
				continue;
			name = (const char *)m + str->sh_offset + d[k].d_un.d_val;
			if (strnlen(name, str->sh_size - d[k].d_un.d_val) <
				    str->sh_size - d[k].d_un.d_val &&
			    strstr(name, "libjemalloc"))
				return true;
		}
	}
	return false;
}

bool ms_alloc_uses_jemalloc(const char *prog_path, const char *ld_preload)
{
	struct stat st;
	bool found = false;
	void *m;
	int fd;

	if (ld_preload && strstr(ld_preload, "libjemalloc"))
		return true;
	fd = prog_path ? open(prog_path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0)
		return false;
	if (!fstat(fd, &st) && st.st_size > 0) {
		m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m != MAP_FAILED) {
			found = needs_jemalloc(m, (size_t)st.st_size);
			munmap(m, (size_t)st.st_size);
		}
	}
	close(fd);
	return found;
}

int ms_alloc_adapter_path(char *out, size_t len)
{
	char exe[4096], *dir;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	const char *env = getenv("MEMSTATE_JEMALLOC_ADAPTER");

	if (env && *env) {
		snprintf(out, len, "%s", env);
		return access(out, R_OK) ? -ENOENT : 0;
	}
	if (n <= 0)
		return -ENOENT;
	exe[n] = 0;
	dir = dirname(exe); /* .../bin */
	snprintf(out, len, "%s/../lib/%s", dir, ADAPTER);
	if (!access(out, R_OK)) {
		char *real = realpath(out, NULL);

		if (real) {
			snprintf(out, len, "%s", real);
			free(real);
		}
		return 0;
	}
	return -ENOENT;
}
