/* SPDX-License-Identifier: MIT */
/*
 * A small unit-test harness that speaks TAP (what tests/run.sh and bats both read).
 *
 *   TEST_BEGIN(test_name) { ... expect_u64_eq(a, b, "what"); ... } TEST_END
 *   int main(void) { return test_run(test_a, test_b, NULL); }
 *
 * expect_* records a failure and continues; assert_* records it and ends the test.
 * test_skip("why") ends a test as skipped. Diagnostics go out as TAP "#" lines.
 */
#ifndef MEMSTATE_TEST_H
#define MEMSTATE_TEST_H

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct test_state {
	const char *name; /* running test */
	int failures;	  /* in this test */
	int skipped;	  /* this test skipped */
	char skip_why[160];
	jmp_buf bail; /* assert_* and test_skip leave through here */
};

extern struct test_state test_state;

typedef void (*test_fn)(void);

#define TEST_BEGIN(fn)                       \
	static void fn(void)                 \
	{                                    \
		test_state.name = #fn;       \
		if (setjmp(test_state.bail)) \
			return;
#define TEST_END }

__attribute__((format(printf, 3, 4))) static inline void test_fail(const char *file, int line,
								   const char *fmt, ...)
{
	va_list ap;

	test_state.failures++;
	if (test_state.failures > 20)
		return;
	printf("#   %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

#define expect_true(c, ...)                                         \
	do {                                                        \
		if (!(c))                                           \
			test_fail(__FILE__, __LINE__, __VA_ARGS__); \
	} while (0)

#define expect_u64_eq(a, b, what)                                                                 \
	do {                                                                                      \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                                  \
		if (a_ != b_)                                                                     \
			test_fail(__FILE__, __LINE__, "%s: got %" PRIu64 ", want %" PRIu64, what, \
				  a_, b_);                                                        \
	} while (0)

#define expect_int_eq(a, b, what)                                                               \
	do {                                                                                    \
		long long a_ = (long long)(a), b_ = (long long)(b);                             \
		if (a_ != b_)                                                                   \
			test_fail(__FILE__, __LINE__, "%s: got %lld, want %lld", what, a_, b_); \
	} while (0)

#define expect_str_eq(a, b, what)                                                          \
	do {                                                                               \
		const char *a_ = (a), *b_ = (b);                                           \
		if (!a_ || !b_ || strcmp(a_, b_))                                          \
			test_fail(__FILE__, __LINE__, "%s: got \"%s\", want \"%s\"", what, \
				  a_ ? a_ : "(null)", b_ ? b_ : "(null)");                 \
	} while (0)

#define assert_true(c, ...)                                         \
	do {                                                        \
		if (!(c)) {                                         \
			test_fail(__FILE__, __LINE__, __VA_ARGS__); \
			longjmp(test_state.bail, 1);                \
		}                                                   \
	} while (0)

#define test_skip(...)                                                                   \
	do {                                                                             \
		test_state.skipped = 1;                                                  \
		snprintf(test_state.skip_why, sizeof(test_state.skip_why), __VA_ARGS__); \
		longjmp(test_state.bail, 1);                                             \
	} while (0)

int test_run_array(test_fn *tests);
#define test_run(...) test_run_array((test_fn[]){__VA_ARGS__})

/* Deterministic PRNG (xorshift64*), so randomized tests repeat exactly. */
static inline uint64_t test_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

#endif /* MEMSTATE_TEST_H */
