/* SPDX-License-Identifier: MIT */
/* Macros of system headers cppcheck does not read (make lint passes this with --include). */
#define LIBBPF_OPTS(TYPE, NAME, ...) struct TYPE NAME = {__VA_ARGS__}
