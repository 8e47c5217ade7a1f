// SPDX-License-Identifier: MIT
/* The red-black interval tree on its own: order, balance, search, against a sorted array. */
#include "../../lib/tree.h"
#include "test.h"
#include "test_main.h"

#define SLOTS 4096

TEST_BEGIN(test_tree_empty)
{
	struct ms_tree t;
	const char *why;

	ms_tree_init(&t);
	expect_true(ms_tree_lookup(&t, 0) == NULL, "lookup in an empty tree");
	expect_true(ms_tree_lower_bound(&t, 123) == NULL, "lower bound in an empty tree");
	expect_true(ms_tree_first(&t) == NULL, "first of an empty tree");
	expect_int_eq(ms_tree_check(&t, &why), 0, "empty tree is valid");
	ms_tree_destroy(&t);
}
TEST_END

TEST_BEGIN(test_tree_insert_after_order)
{
	struct ms_tree t;
	struct ms_node *prev = NULL, *n;
	const char *why;
	uint64_t i;

	ms_tree_init(&t);
	assert_true(ms_tree_reserve(&t, 1000) == 0, "reserve");
	/* Build left to right with insert_after, as splits do. */
	for (i = 0; i < 1000; i++) {
		n = ms_tree_node_take(&t);
		n->start = i * 10;
		n->end = i * 10 + 5;
		ms_tree_insert_after(&t, prev, n);
		prev = n;
	}
	expect_int_eq(ms_tree_check(&t, &why), 0, why ? why : "valid");
	expect_u64_eq(t.count, 1000, "count");
	n = ms_tree_lookup(&t, 4242);
	expect_true(n && n->start == 4240, "lookup inside an interval");
	expect_true(ms_tree_lookup(&t, 4246) == NULL, "lookup in a gap");
	n = ms_tree_lower_bound(&t, 4246);
	expect_true(n && n->start == 4250, "lower bound from a gap");
	n = ms_tree_lower_bound(&t, 4240);
	expect_true(n && n->start == 4240, "lower bound at a start");
	expect_true(ms_tree_lower_bound(&t, 9995) == NULL, "lower bound past the end");
	/* insert_after(NULL) makes a new first: shift nothing, use the free space below 0's end. */
	n = ms_tree_first(&t);
	n->start = 2; /* [2, 5): room for [0, 1) in front */
	assert_true(ms_tree_reserve(&t, 1) == 0, "reserve");
	n = ms_tree_node_take(&t);
	n->start = 0;
	n->end = 1;
	ms_tree_insert_after(&t, NULL, n);
	expect_true(ms_tree_first(&t) == n, "insert_after(NULL) is first");
	expect_int_eq(ms_tree_check(&t, &why), 0, why ? why : "valid");
	ms_tree_destroy(&t);
}
TEST_END

/* Random inserts and erases of disjoint slots, compared with a presence array. */
TEST_BEGIN(test_tree_random_against_array)
{
	static struct ms_node *slot[SLOTS];
	struct ms_tree t;
	uint64_t seed = 0x5eed1234, live = 0;
	const char *why;

	memset(slot, 0, sizeof(slot));
	ms_tree_init(&t);
	for (int step = 0; step < 400000; step++) {
		unsigned i = (unsigned)(test_rand(&seed) % SLOTS);

		if (slot[i]) {
			ms_tree_erase(&t, slot[i]);
			ms_tree_node_give(&t, slot[i]);
			slot[i] = NULL;
			live--;
		} else {
			struct ms_node *n;

			assert_true(ms_tree_reserve(&t, 1) == 0, "reserve");
			n = ms_tree_node_take(&t);
			n->start = (uint64_t)i * 100;
			n->end = n->start + 1 + test_rand(&seed) % 99;
			ms_tree_insert(&t, n);
			slot[i] = n;
			live++;
		}
		if (step % 20000 == 0) {
			assert_true(ms_tree_check(&t, &why) == 0, "step %d: %s", step, why);
			expect_u64_eq(t.count, live, "count");
		}
		{
			uint64_t a = test_rand(&seed) % (SLOTS * 100ull);
			struct ms_node *n = ms_tree_lookup(&t, a);
			struct ms_node *want = slot[a / 100];

			if (want && a >= want->end)
				want = NULL;
			assert_true(n == want, "step %d: lookup(%" PRIu64 ")", step, a);
		}
	}
	assert_true(ms_tree_check(&t, &why) == 0, "end: %s", why);
	/* In-order walk both ways matches the array. */
	{
		struct ms_node *n = ms_tree_first(&t), *last = NULL;

		for (unsigned i = 0; i < SLOTS; i++) {
			if (!slot[i])
				continue;
			assert_true(n == slot[i], "walk order at slot %u", i);
			expect_true(ms_tree_prev(n) == last, "prev at slot %u", i);
			last = n;
			n = ms_tree_next(n);
		}
		expect_true(n == NULL, "walk ends");
	}
	ms_tree_destroy(&t);
}
TEST_END

/* The tree's depth bound: 2 log2(n+1) for a red-black tree. */
static int depth(const struct ms_node *n)
{
	int l, r;

	if (!n)
		return 0;
	l = depth(n->left);
	r = depth(n->right);
	return 1 + (l > r ? l : r);
}

TEST_BEGIN(test_tree_balanced_sequential)
{
	struct ms_tree t;
	const char *why;
	int d;

	ms_tree_init(&t);
	assert_true(ms_tree_reserve(&t, 1 << 17) == 0, "reserve");
	for (uint64_t i = 0; i < (1 << 17); i++) {
		struct ms_node *n = ms_tree_node_take(&t);

		n->start = i * 4096;
		n->end = n->start + 4096;
		ms_tree_insert(&t, n);
	}
	expect_int_eq(ms_tree_check(&t, &why), 0, "valid");
	d = depth(t.root);
	expect_true(d <= 2 * 18, "depth %d within 2 log2(n+1)", d);
	expect_u64_eq(sizeof(struct ms_node), 56, "bytes per interval");
	ms_tree_destroy(&t);
}
TEST_END

int main(void)
{
	return test_run(test_tree_empty, test_tree_insert_after_order,
			test_tree_random_against_array, test_tree_balanced_sequential, NULL);
}
