/* Unit tests for core/heap.c: the bounded 4-ary min-heap, against a naive
 * model (an unsorted array searched linearly for its (key, seq) minimum). */
#include "test_util.h"

#include "core/err.h"
#include "core/heap.h"

#define ITERS 300

typedef struct model {
	rn_heap_item *v;
	size_t n;
} model;

static int item_less(const rn_heap_item *a, const rn_heap_item *b)
{
	return a->key < b->key || (a->key == b->key && a->seq < b->seq);
}

static size_t model_min(const model *m)
{
	size_t best = 0;
	for (size_t i = 1; i < m->n; i++)
		if (item_less(&m->v[i], &m->v[best]))
			best = i;
	return best;
}

static void test_empty(void **state)
{
	(void)state;
	rn_heap h;
	rn_heap_init(&h, 10);
	rn_heap_item it = {1, 2, 3};
	assert_null(rn_heap_peek(&h));
	assert_int_equal(rn_heap_pop(&h, &it), RN_ERR_NOTFOUND);
	assert_int_equal(rn_heap_push(&h, 5, 0, 42), 0);
	assert_non_null(rn_heap_peek(&h));
	assert_int_equal(rn_heap_pop(&h, &it), 0);
	assert_true(it.key == 5 && it.seq == 0 && it.val == 42);
	assert_int_equal(rn_heap_pop(&h, &it), RN_ERR_NOTFOUND);
	rn_heap_deinit(&h);
	rn_heap_deinit(&h); /* idempotent */
}

static void test_items_max(void **state)
{
	(void)state;
	static const size_t maxes[] = {0, 1, 3, 64, 65, 100, 300};
	for (size_t k = 0; k < sizeof maxes / sizeof maxes[0]; k++) {
		rn_heap h;
		rn_heap_init(&h, maxes[k]);
		for (size_t i = 0; i < maxes[k]; i++)
			assert_int_equal(rn_heap_push(&h, 1000 - i, i, i), 0);
		assert_int_equal(rn_heap_push(&h, 0, 0, 0), RN_ERR_FULL);
		assert_int_equal(h.n, maxes[k]);
		assert_true(h.cap <= maxes[k]);
		/* after a pop there is room for exactly one more */
		if (maxes[k]) {
			rn_heap_item it;
			assert_int_equal(rn_heap_pop(&h, &it), 0);
			assert_true(it.key == 1000 - (maxes[k] - 1));
			assert_int_equal(rn_heap_push(&h, 7, 7, 7), 0);
			assert_int_equal(rn_heap_push(&h, 7, 8, 7), RN_ERR_FULL);
		}
		rn_heap_deinit(&h);
	}
}

static void test_fifo_ties(void **state)
{
	(void)state;
	/* equal keys pop in seq order, as the simulator relies on */
	rn_heap h;
	rn_heap_init(&h, 1000);
	for (uint64_t s = 0; s < 500; s++)
		assert_int_equal(rn_heap_push(&h, 100 + s % 3, s, s), 0);
	uint64_t last_key = 0, last_seq = 0;
	for (int i = 0; i < 500; i++) {
		rn_heap_item it;
		assert_int_equal(rn_heap_pop(&h, &it), 0);
		assert_true(it.val == it.seq);
		if (i) {
			assert_true(it.key >= last_key);
			if (it.key == last_key)
				assert_true(it.seq > last_seq);
		}
		last_key = it.key;
		last_seq = it.seq;
	}
	rn_heap_deinit(&h);
}

static void test_vs_model(void **state)
{
	(void)state;
	uint64_t seed = rn_test_seed();
	trng r;
	trng_init(&r, seed);
	for (uint64_t it = 0; it < ITERS; it++) {
		size_t max = 1 + trng_below(&r, 400);
		uint64_t key_range = trng_below(&r, 2) ? 8 : UINT64_MAX;
		rn_heap h;
		rn_heap_init(&h, max);
		model m = {malloc(max * sizeof(rn_heap_item)), 0};
		assert_non_null(m.v);
		uint64_t seq = 0;
		size_t ops = 50 + trng_below(&r, 1500);
		for (size_t op = 0; op < ops; op++) {
			if (trng_below(&r, 100) < 55) {
				rn_heap_item x = {trng_u64(&r) % key_range, seq++,
						  trng_u64(&r)};
				if (key_range != UINT64_MAX && trng_below(&r, 20) == 0)
					x.key = UINT64_MAX; /* extremes */
				int rc = rn_heap_push(&h, x.key, x.seq, x.val);
				if (m.n == max) {
					PCHECK(rc == RN_ERR_FULL, seed, it);
				} else {
					PCHECK(rc == 0, seed, it);
					m.v[m.n++] = x;
				}
			} else {
				rn_heap_item got;
				int rc = rn_heap_pop(&h, &got);
				if (!m.n) {
					PCHECK(rc == RN_ERR_NOTFOUND, seed, it);
				} else {
					size_t b = model_min(&m);
					PCHECK(rc == 0, seed, it);
					PCHECK(got.key == m.v[b].key &&
						       got.seq == m.v[b].seq &&
						       got.val == m.v[b].val,
					       seed, it);
					m.v[b] = m.v[--m.n];
				}
			}
			PCHECK(h.n == m.n, seed, it);
			const rn_heap_item *top = rn_heap_peek(&h);
			if (m.n) {
				size_t b = model_min(&m);
				PCHECK(top && top->key == m.v[b].key &&
					       top->seq == m.v[b].seq,
				       seed, it);
			} else {
				PCHECK(top == NULL, seed, it);
			}
		}
		/* drain: everything comes out sorted */
		while (m.n) {
			rn_heap_item got;
			size_t b = model_min(&m);
			PCHECK(rn_heap_pop(&h, &got) == 0, seed, it);
			PCHECK(got.key == m.v[b].key && got.seq == m.v[b].seq &&
				       got.val == m.v[b].val,
			       seed, it);
			m.v[b] = m.v[--m.n];
		}
		PCHECK(rn_heap_peek(&h) == NULL, seed, it);
		free(m.v);
		rn_heap_deinit(&h);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_items_max),
		cmocka_unit_test(test_fifo_ties),
		cmocka_unit_test(test_vs_model),
	};
	printf("# RN_TEST_SEED=%llu\n", (unsigned long long)rn_test_seed());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
