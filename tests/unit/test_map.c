/* Unit tests for core/map.c: the bounded linear-probing map, against a
 * naive model (a linear array of key/value pairs), with many deletes so
 * that backward-shift deletion is exercised across long probe runs and
 * the wrap-around at the end of the slot array. */
#include "test_util.h"

#include "core/err.h"
#include "core/map.h"

#define ITERS 300

typedef struct model {
	uint64_t *k, *v;
	size_t n;
} model;

static long model_find(const model *m, uint64_t key)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->k[i] == key)
			return (long)i;
	return -1;
}

static void test_basic(void **state)
{
	(void)state;
	rn_map m;
	rn_map_init(&m, 100);
	uint64_t v = 7;
	assert_int_equal(rn_map_get(&m, 1, &v), RN_ERR_NOTFOUND);
	assert_int_equal(rn_map_del(&m, 1), RN_ERR_NOTFOUND);
	assert_int_equal(rn_map_put(&m, 1, 10), 0);
	assert_int_equal(rn_map_put(&m, UINT64_MAX, 20), 0);
	assert_int_equal(rn_map_get(&m, 1, &v), 0);
	assert_true(v == 10);
	assert_int_equal(rn_map_get(&m, UINT64_MAX, &v), 0);
	assert_true(v == 20);
	assert_int_equal(rn_map_put(&m, 1, 11), 0); /* replace */
	assert_int_equal(m.n, 2);
	assert_int_equal(rn_map_get(&m, 1, &v), 0);
	assert_true(v == 11);
	assert_int_equal(rn_map_del(&m, 1), 0);
	assert_int_equal(rn_map_get(&m, 1, &v), RN_ERR_NOTFOUND);
	assert_int_equal(rn_map_del(&m, 1), RN_ERR_NOTFOUND);
	assert_int_equal(m.n, 1);
	/* key 0 is reserved */
	assert_int_equal(rn_map_put(&m, 0, 1), RN_ERR_INVAL);
	assert_int_equal(rn_map_get(&m, 0, &v), RN_ERR_NOTFOUND);
	assert_int_equal(rn_map_del(&m, 0), RN_ERR_NOTFOUND);
	assert_int_equal(m.n, 1);
	rn_map_deinit(&m);
	rn_map_deinit(&m);
}

static void test_entries_max(void **state)
{
	(void)state;
	static const size_t maxes[] = {0, 1, 11, 12, 13, 100};
	for (size_t k = 0; k < sizeof maxes / sizeof maxes[0]; k++) {
		rn_map m;
		rn_map_init(&m, maxes[k]);
		for (uint64_t i = 1; i <= maxes[k]; i++)
			assert_int_equal(rn_map_put(&m, i * 0x1000, i), 0);
		assert_int_equal(rn_map_put(&m, 0xdead, 1), RN_ERR_FULL);
		assert_int_equal(m.n, maxes[k]);
		/* at 3/4 load at most */
		assert_true(m.n * 4 <= m.cap * 3);
		if (maxes[k]) {
			/* replacing an existing key works when full */
			assert_int_equal(rn_map_put(&m, 0x1000, 99), 0);
			uint64_t v;
			assert_int_equal(rn_map_get(&m, 0x1000, &v), 0);
			assert_true(v == 99);
			/* a delete makes room for one */
			assert_int_equal(rn_map_del(&m, 0x1000), 0);
			assert_int_equal(rn_map_put(&m, 0xdead, 1), 0);
			assert_int_equal(rn_map_put(&m, 0xbeef, 1), RN_ERR_FULL);
		}
		rn_map_deinit(&m);
	}
}

static void test_vs_model(void **state)
{
	(void)state;
	uint64_t seed = rn_test_seed();
	trng r;
	trng_init(&r, seed);
	for (uint64_t it = 0; it < ITERS; it++) {
		size_t max = 1 + trng_below(&r, 300);
		/* small key spaces make hits, replaces and deletes common */
		uint64_t space = 1 + trng_below(&r, 2 * max + 10);
		int sequential = trng_below(&r, 3) == 0;
		rn_map m;
		rn_map_init(&m, max);
		model md = {malloc(max * 8), malloc(max * 8), 0};
		assert_true(md.k && md.v);
		size_t ops = 100 + trng_below(&r, 3000);
		for (size_t op = 0; op < ops; op++) {
			uint64_t key = 1 + trng_below(&r, space);
			if (!sequential)
				key = key * 0x9e3779b97f4a7c15ull | 1;
			uint64_t val = trng_u64(&r), got = 0;
			long at = model_find(&md, key);
			switch (trng_below(&r, 3)) {
			case 0: {
				int rc = rn_map_put(&m, key, val);
				if (at >= 0) {
					PCHECK(rc == 0, seed, it);
					md.v[at] = val;
				} else if (md.n == max) {
					PCHECK(rc == RN_ERR_FULL, seed, it);
				} else {
					PCHECK(rc == 0, seed, it);
					md.k[md.n] = key;
					md.v[md.n++] = val;
				}
				break;
			}
			case 1: {
				int rc = rn_map_del(&m, key);
				if (at >= 0) {
					PCHECK(rc == 0, seed, it);
					md.k[at] = md.k[md.n - 1];
					md.v[at] = md.v[md.n - 1];
					md.n--;
				} else {
					PCHECK(rc == RN_ERR_NOTFOUND, seed, it);
				}
				break;
			}
			default: {
				int rc = rn_map_get(&m, key, &got);
				if (at >= 0) {
					PCHECK(rc == 0, seed, it);
					PCHECK(got == md.v[at], seed, it);
				} else {
					PCHECK(rc == RN_ERR_NOTFOUND, seed, it);
				}
			}
			}
			PCHECK(m.n == md.n, seed, it);
		}
		/* every model entry is found, and the slot array holds
		 * exactly the model's keys */
		for (size_t i = 0; i < md.n; i++) {
			uint64_t got;
			PCHECK(rn_map_get(&m, md.k[i], &got) == 0, seed, it);
			PCHECK(got == md.v[i], seed, it);
		}
		size_t used = 0;
		for (size_t i = 0; i < m.cap; i++)
			if (m.slots[i].key) {
				used++;
				PCHECK(model_find(&md, m.slots[i].key) >= 0, seed, it);
			}
		PCHECK(used == md.n, seed, it);
		PCHECK(m.n * 4 <= m.cap * 3, seed, it);
		free(md.k);
		free(md.v);
		rn_map_deinit(&m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_entries_max),
		cmocka_unit_test(test_vs_model),
	};
	printf("# RN_TEST_SEED=%llu\n", (unsigned long long)rn_test_seed());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
