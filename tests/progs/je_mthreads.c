// SPDX-License-Identifier: MIT
/* The threaded malloc/free workload (mthreads.c), linked with Debian's libjemalloc. */
#include "mthreads.c"
