/* Unit tests for overlay/link.c: the link table sorted by ring offset,
 * against a naive model (an unsorted array of offsets searched linearly). */
#include "test_util.h"

#include "core/err.h"
#include "overlay/link.h"

#define ITERS 300

static void off_of(rn_id *id, uint64_t top, uint8_t low)
{
	memset(id, 0, sizeof *id);
	for (int i = 0; i < 8; i++)
		id->b[i] = (uint8_t)(top >> (56 - 8 * i));
	id->b[RN_ID_LEN - 1] = low;
}

static void check_sorted(const rn_links *t, uint64_t seed, uint64_t it)
{
	for (uint32_t i = 1; i < t->n; i++)
		PCHECK(memcmp(t->v[i - 1].off.b, t->v[i].off.b, RN_ID_LEN) < 0, seed,
		       it);
	PCHECK(t->n <= t->cap && t->cap <= t->max, seed, it);
	/* slack is given back: a table never keeps its peak size */
	PCHECK(t->n == 0 || t->cap - t->n < RN_LINKS_SLACK_MAX, seed, it);
}

static void test_basic(void **state)
{
	(void)state;
	rn_links t;
	rn_eptab eps;
	rn_eptab_init(&eps, 1024);
	rn_links_init(&t, 10, &eps);
	rn_id a, b, c, z;
	off_of(&a, 0x1000, 0);
	off_of(&b, 0x2000, 0);
	off_of(&c, 0x2000, 1); /* differs from b only in the last byte */
	off_of(&z, 0, 0);
	assert_int_equal(rn_links_lower_bound(&t, &a), 0);
	assert_int_equal(rn_links_find(&t, &a), -1);
	assert_int_equal(rn_links_insert(&t, &b), 0);
	assert_int_equal(rn_links_insert(&t, &a), 0); /* goes before b */
	assert_int_equal(rn_links_insert(&t, &c), 2);
	assert_int_equal(t.n, 3);
	assert_memory_equal(t.v[0].off.b, a.b, RN_ID_LEN);
	assert_memory_equal(t.v[1].off.b, b.b, RN_ID_LEN);
	assert_memory_equal(t.v[2].off.b, c.b, RN_ID_LEN);
	assert_int_equal(rn_links_find(&t, &b), 1);
	assert_int_equal(rn_links_find(&t, &c), 2);
	assert_int_equal(rn_links_find(&t, &z), -1);
	assert_int_equal(rn_links_lower_bound(&t, &z), 0);
	rn_id mid;
	off_of(&mid, 0x1800, 0);
	assert_int_equal(rn_links_lower_bound(&t, &mid), 1);
	assert_int_equal(rn_links_lower_bound(&t, &b), 1);
	assert_int_equal(rn_links_lower_bound(&t, &c), 2);
	rn_id top;
	memset(&top, 0xff, sizeof top);
	assert_int_equal(rn_links_lower_bound(&t, &top), 3);
	/* a duplicate is refused and changes nothing */
	assert_true(rn_links_insert(&t, &b) < 0);
	assert_int_equal(t.n, 3);
	/* inserted links are zeroed apart from the offset */
	t.v[1].rtt_ms = 77;
	t.v[1].state = RN_LINK_UP;
	assert_int_equal(rn_links_insert(&t, &mid), 1);
	rn_link zero;
	memset(&zero, 0, sizeof zero);
	zero.off = mid;
	assert_memory_equal(&t.v[1], &zero, sizeof zero);
	assert_int_equal(t.v[2].rtt_ms, 77); /* moved along with b */
	assert_memory_equal(t.v[2].off.b, b.b, RN_ID_LEN);
	/* remove keeps the order; out of range is ignored */
	rn_links_remove(&t, 1);
	assert_int_equal(t.n, 3);
	assert_int_equal(rn_links_find(&t, &mid), -1);
	assert_int_equal(rn_links_find(&t, &b), 1);
	rn_links_remove(&t, 3);
	rn_links_remove(&t, UINT32_MAX);
	assert_int_equal(t.n, 3);
	rn_links_remove(&t, 0);
	rn_links_remove(&t, 0);
	rn_links_remove(&t, 0);
	assert_int_equal(t.n, 0);
	rn_links_remove(&t, 0);
	assert_int_equal(rn_links_insert(&t, &a), 0); /* usable after emptying */
	rn_links_deinit(&t);
	rn_links_deinit(&t);
	rn_eptab_deinit(&eps);
}

static void test_find_ep(void **state)
{
	(void)state;
	rn_links t;
	rn_eptab eps;
	rn_eptab_init(&eps, 1024);
	rn_links_init(&t, 10, &eps);
	rn_ep e1, e2, e3;
	rn_ep_from_ipv4(&e1, 0x0a000001u, 4000);
	rn_ep_from_ipv4(&e2, 0x0a000001u, 4001); /* same address, other port */
	rn_ep_from_ipv4(&e3, 0x0a000002u, 4000);
	assert_int_equal(rn_links_find_ep(&t, &e1), -1);
	for (uint8_t i = 0; i < 3; i++) {
		rn_id off;
		off_of(&off, 100u - 10u * i, 0);
		int idx = rn_links_insert(&t, &off);
		assert_true(idx >= 0);
		assert_int_equal(rn_links_set_ep(&t, (uint32_t)idx,
						 i == 0 ? &e1 : i == 1 ? &e2 : &e3),
				 0);
	}
	/* inserted in descending offset order: e3 is at 0, e1 at 2 */
	assert_int_equal(rn_links_find_ep(&t, &e1), 2);
	assert_int_equal(rn_links_find_ep(&t, &e2), 1);
	assert_int_equal(rn_links_find_ep(&t, &e3), 0);
	rn_ep e4;
	rn_ep_from_ipv4(&e4, 0x0a000003u, 4000);
	assert_int_equal(rn_links_find_ep(&t, &e4), -1);
	rn_links_remove(&t, 1);
	assert_int_equal(rn_links_find_ep(&t, &e2), -1);
	assert_int_equal(rn_links_find_ep(&t, &e1), 1);
	/* a removed link gave its endpoint back */
	assert_int_equal(rn_eptab_live(&eps), 2);
	rn_links_deinit(&t);
	assert_int_equal(rn_eptab_live(&eps), 0);
	rn_eptab_deinit(&eps);
}

static void test_links_max(void **state)
{
	(void)state;
	static const uint32_t maxes[] = {0, 1, 7, 8, 9, 16, 17, 100};
	for (size_t k = 0; k < sizeof maxes / sizeof maxes[0]; k++) {
		rn_links t;
		rn_eptab eps;
		rn_eptab_init(&eps, 1024);
		rn_links_init(&t, maxes[k], &eps);
		for (uint32_t i = 0; i < maxes[k]; i++) {
			rn_id off;
			off_of(&off, 0x9e3779b97f4a7c15ull * (i + 1), 0);
			assert_true(rn_links_insert(&t, &off) >= 0);
		}
		rn_id extra;
		off_of(&extra, 12345, 1);
		assert_int_equal(rn_links_insert(&t, &extra), RN_ERR_FULL);
		assert_int_equal(t.n, maxes[k]);
		assert_true(t.cap <= maxes[k]);
		if (maxes[k]) {
			rn_links_remove(&t, t.n / 2);
			assert_true(rn_links_insert(&t, &extra) >= 0);
			off_of(&extra, 12345, 2);
			assert_int_equal(rn_links_insert(&t, &extra), RN_ERR_FULL);
		}
		rn_links_deinit(&t);
		rn_eptab_deinit(&eps);
	}
}

static void test_vs_model(void **state)
{
	(void)state;
	uint64_t seed = rn_test_seed();
	trng r;
	trng_init(&r, seed);
	for (uint64_t it = 0; it < ITERS; it++) {
		uint32_t max = 1 + (uint32_t)trng_below(&r, 200);
		rn_links t;
		rn_eptab eps;
		rn_eptab_init(&eps, 1024);
		rn_links_init(&t, max, &eps);
		rn_id *model = malloc(max * sizeof *model);
		uint32_t *tag = malloc(max * sizeof *tag);
		assert_true(model && tag);
		uint32_t mn = 0, next_tag = 1;
		/* small offset spaces make duplicates common; offsets that
		 * differ only in late bytes check the full-width compare */
		uint64_t space = 2 + trng_below(&r, 3 * max);
		int low_byte = trng_below(&r, 2) != 0;
		size_t ops = 50 + trng_below(&r, 1500);
		for (size_t op = 0; op < ops; op++) {
			rn_id off;
			uint64_t v = trng_below(&r, space);
			if (low_byte)
				off_of(&off, v >> 8, (uint8_t)v);
			else
				off_of(&off, v * 0x9e3779b97f4a7c15ull, 0);
			long at = -1;
			for (uint32_t i = 0; i < mn; i++)
				if (memcmp(model[i].b, off.b, RN_ID_LEN) == 0)
					at = i;
			/* lower_bound: the number of offsets below off */
			uint32_t below = 0;
			for (uint32_t i = 0; i < mn; i++)
				below += memcmp(model[i].b, off.b, RN_ID_LEN) < 0;
			PCHECK(rn_links_lower_bound(&t, &off) == below, seed, it);
			int found = rn_links_find(&t, &off);
			PCHECK((found >= 0) == (at >= 0), seed, it);
			if (found >= 0) {
				PCHECK((uint32_t)found == below, seed, it);
				PCHECK(t.v[found].token == (uint16_t)tag[at], seed, it);
			}
			switch (trng_below(&r, 3)) {
			case 0:
			case 1: {
				int rc = rn_links_insert(&t, &off);
				if (at >= 0) {
					PCHECK(rc < 0, seed, it);
				} else if (mn == max) {
					PCHECK(rc == RN_ERR_FULL, seed, it);
				} else {
					PCHECK(rc == (int)below, seed, it);
					/* tag it to follow it through moves */
					t.v[rc].token = (uint16_t)next_tag;
					rn_ep tep;
					rn_ep_from_ipv4(&tep, next_tag, 1);
					PCHECK(rn_links_set_ep(&t, (uint32_t)rc, &tep) == 0,
					       seed, it);
					model[mn] = off;
					tag[mn++] = next_tag++;
				}
				break;
			}
			default:
				if (found >= 0) {
					rn_links_remove(&t, (uint32_t)found);
					model[at] = model[mn - 1];
					tag[at] = tag[mn - 1];
					mn--;
				} else if (t.n) {
					uint32_t idx = (uint32_t)trng_below(&r, t.n);
					rn_id gone = t.v[idx].off;
					rn_links_remove(&t, idx);
					for (uint32_t i = 0; i < mn; i++)
						if (!memcmp(model[i].b, gone.b, RN_ID_LEN)) {
							model[i] = model[mn - 1];
							tag[i] = tag[--mn];
							break;
						}
				}
			}
			PCHECK(t.n == mn, seed, it);
			check_sorted(&t, seed, it);
		}
		/* every model link is there with its own payload, and find_ep
		 * finds it by endpoint */
		for (uint32_t i = 0; i < mn; i++) {
			int idx = rn_links_find(&t, &model[i]);
			PCHECK(idx >= 0, seed, it);
			PCHECK(t.v[idx].token == (uint16_t)tag[i], seed, it);
			rn_ep ep;
			rn_ep_from_ipv4(&ep, tag[i], 1);
			PCHECK(rn_links_find_ep(&t, &ep) == idx, seed, it);
		}
		PCHECK(rn_eptab_live(&eps) == mn, seed, it);
		free(model);
		free(tag);
		rn_links_deinit(&t);
		PCHECK(rn_eptab_live(&eps) == 0, seed, it);
		rn_eptab_deinit(&eps);
	}
}

static void test_usable(void **state)
{
	(void)state;
	rn_link l;
	memset(&l, 0, sizeof l);
	assert_false(rn_link_usable(&l)); /* PENDING */
	l.state = RN_LINK_UP;
	assert_true(rn_link_usable(&l));
	l.flags = RN_LF_LEAF;
	assert_false(rn_link_usable(&l));
	l.flags = RN_LF_SUSPECT;
	assert_false(rn_link_usable(&l));
	l.flags = RN_LF_NEAR | RN_LF_FAR_OUT | RN_LF_PEER_WANTS | RN_LF_ASKED |
		  RN_LF_OPEN_NEAR;
	assert_true(rn_link_usable(&l));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_find_ep),
		cmocka_unit_test(test_links_max),
		cmocka_unit_test(test_vs_model),
		cmocka_unit_test(test_usable),
	};
	printf("# RN_TEST_SEED=%llu\n", (unsigned long long)rn_test_seed());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
