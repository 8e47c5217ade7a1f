/* SPDX-License-Identifier: MIT */
/* The harness's runner; included once per test program (after test.h). */
#ifndef MEMSTATE_TEST_MAIN_H
#define MEMSTATE_TEST_MAIN_H

#include "test.h"

struct test_state test_state;

int test_run_array(test_fn *tests)
{
	int n = 0, failed = 0;

	while (tests[n])
		n++;
	printf("1..%d\n", n);
	fflush(stdout);
	for (int i = 0; i < n; i++) {
		memset(&test_state, 0, sizeof(test_state));
		tests[i]();
		if (test_state.skipped) {
			printf("ok %d - %s # skip %s\n", i + 1, test_state.name,
			       test_state.skip_why);
		} else if (test_state.failures) {
			printf("not ok %d - %s\n", i + 1, test_state.name);
			failed++;
		} else {
			printf("ok %d - %s\n", i + 1, test_state.name);
		}
		fflush(stdout);
	}
	return failed ? 1 : 0;
}

#endif
