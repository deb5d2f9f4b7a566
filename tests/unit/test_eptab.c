/* Unit tests for core/eptab.c: interned endpoints with reference counts.
 * The contract (eptab.h): ref interns or finds and takes a reference, unref
 * drops one and frees the entry at zero (its handle is reused), handle 0 is
 * never an entry, entries_max bounds the live entries. The property test
 * runs random ref/unref sequences over a small pool of endpoints, so that
 * the same probe runs are filled and emptied over and over (backward-shift
 * deletion, wrap-around at the end of the index) and the index grows, and
 * checks the table after every step against a naive model: an array of
 * endpoint, handle and reference count. */
#include "test_util.h"

#include "core/ep.h"
#include "core/eptab.h"

#define ITERS 300
#define POOL_MAX 300

static const rn_ep zero_ep;

static rn_ep v4(uint32_t addr, uint16_t port)
{
	rn_ep ep;
	rn_ep_from_ipv4(&ep, addr, port);
	return ep;
}

static int ep_is(const rn_ep *got, const rn_ep *want)
{
	return got && memcmp(got, want, sizeof *want) == 0;
}

/* The index holds exactly the live handles, each once, at most half full. */
static int index_ok(const rn_eptab *t)
{
	if (!t->slot)
		return t->live == 0;
	uint8_t *seen = calloc(t->n_e ? t->n_e : 1, 1);
	uint32_t used = 0;
	int ok = seen != NULL;
	for (uint32_t i = 0; ok && i <= t->mask; i++) {
		uint32_t h = t->slot[i];
		if (!h)
			continue;
		if (h >= t->n_e || t->e[h].refs == 0 || seen[h])
			ok = 0;
		else
			seen[h] = 1;
		used++;
	}
	free(seen);
	return ok && used == t->live && t->live * 2 <= t->mask + 1;
}

static void test_basic(void **state)
{
	(void)state;
	rn_eptab t;
	rn_eptab_init(&t, 100);
	rn_ep a = v4(0xC0000201u, 4000), b = v4(0xC0000202u, 4000);
	/* an empty table, never allocated */
	assert_int_equal(rn_eptab_find(&t, &a), 0);
	assert_true(ep_is(rn_eptab_get(&t, 0), &zero_ep));
	assert_true(ep_is(rn_eptab_get(&t, 1), &zero_ep));
	rn_eptab_unref(&t, 0);
	rn_eptab_unref(&t, 1);
	assert_int_equal(rn_eptab_live(&t), 0);

	uint32_t ha = rn_eptab_ref(&t, &a);
	assert_true(ha != 0);
	assert_int_equal(rn_eptab_live(&t), 1);
	assert_int_equal(rn_eptab_find(&t, &a), ha);
	assert_int_equal(rn_eptab_find(&t, &b), 0);
	assert_true(ep_is(rn_eptab_get(&t, ha), &a));
	uint32_t hb = rn_eptab_ref(&t, &b);
	assert_true(hb != 0 && hb != ha);
	assert_int_equal(rn_eptab_live(&t), 2);
	assert_int_equal(rn_eptab_find(&t, &b), hb);
	assert_true(ep_is(rn_eptab_get(&t, hb), &b));
	assert_true(ep_is(rn_eptab_get(&t, ha), &a));
	assert_true(index_ok(&t));

	rn_eptab_unref(&t, ha);
	assert_int_equal(rn_eptab_live(&t), 1);
	assert_int_equal(rn_eptab_find(&t, &a), 0);
	assert_true(ep_is(rn_eptab_get(&t, ha), &zero_ep));
	assert_int_equal(rn_eptab_find(&t, &b), hb);
	assert_true(ep_is(rn_eptab_get(&t, hb), &b));
	rn_eptab_unref(&t, hb);
	assert_int_equal(rn_eptab_live(&t), 0);
	assert_int_equal(rn_eptab_find(&t, &b), 0);
	assert_true(index_ok(&t));
	rn_eptab_deinit(&t);
	rn_eptab_deinit(&t); /* twice is harmless */
}

static void test_same_twice(void **state)
{
	(void)state;
	rn_eptab t;
	rn_eptab_init(&t, 10);
	rn_ep a = v4(0x0a000001u, 53), a2 = a;
	uint32_t h1 = rn_eptab_ref(&t, &a);
	uint32_t h2 = rn_eptab_ref(&t, &a2); /* an equal copy */
	assert_true(h1 != 0);
	assert_int_equal(h2, h1);
	assert_int_equal(rn_eptab_live(&t), 1);
	/* the first unref leaves it interned */
	rn_eptab_unref(&t, h1);
	assert_int_equal(rn_eptab_live(&t), 1);
	assert_int_equal(rn_eptab_find(&t, &a), h1);
	assert_true(ep_is(rn_eptab_get(&t, h1), &a));
	/* the second frees it */
	rn_eptab_unref(&t, h1);
	assert_int_equal(rn_eptab_live(&t), 0);
	assert_int_equal(rn_eptab_find(&t, &a), 0);
	assert_true(ep_is(rn_eptab_get(&t, h1), &zero_ep));
	/* a third is ignored: the count does not go below zero, so a later
	 * intern still needs just one unref */
	rn_eptab_unref(&t, h1);
	assert_int_equal(rn_eptab_live(&t), 0);
	uint32_t h3 = rn_eptab_ref(&t, &a);
	assert_true(h3 != 0);
	rn_eptab_unref(&t, h3);
	assert_int_equal(rn_eptab_live(&t), 0);
	assert_int_equal(rn_eptab_find(&t, &a), 0);
	rn_eptab_deinit(&t);
}

static void test_zero_and_freed_handles(void **state)
{
	(void)state;
	rn_eptab t;
	rn_eptab_init(&t, 10);
	rn_ep a = v4(0x0a000001u, 1), b = v4(0x0a000002u, 2);
	uint32_t ha = rn_eptab_ref(&t, &a), hb = rn_eptab_ref(&t, &b);
	assert_true(ha && hb);
	rn_eptab_ref(&t, &b); /* b holds two references */
	/* handle 0: the all-zero endpoint, and unref does nothing */
	assert_true(ep_is(rn_eptab_get(&t, 0), &zero_ep));
	rn_eptab_unref(&t, 0);
	assert_int_equal(rn_eptab_live(&t), 2);
	/* the zero endpoint itself is not interned by anyone */
	assert_int_equal(rn_eptab_find(&t, &zero_ep), 0);
	/* a freed handle: zero from get, and further unrefs do not touch
	 * the others */
	rn_eptab_unref(&t, ha);
	assert_true(ep_is(rn_eptab_get(&t, ha), &zero_ep));
	for (int k = 0; k < 3; k++)
		rn_eptab_unref(&t, ha);
	assert_int_equal(rn_eptab_live(&t), 1);
	assert_int_equal(rn_eptab_find(&t, &b), hb);
	assert_true(ep_is(rn_eptab_get(&t, hb), &b));
	/* handles never issued */
	const uint32_t wild[] = {hb + 1, hb + 100, 1u << 20, UINT32_MAX};
	for (size_t k = 0; k < sizeof wild / sizeof wild[0]; k++) {
		assert_true(ep_is(rn_eptab_get(&t, wild[k]), &zero_ep));
		rn_eptab_unref(&t, wild[k]);
	}
	assert_int_equal(rn_eptab_live(&t), 1);
	/* b still needs its two unrefs */
	rn_eptab_unref(&t, hb);
	assert_int_equal(rn_eptab_find(&t, &b), hb);
	rn_eptab_unref(&t, hb);
	assert_int_equal(rn_eptab_find(&t, &b), 0);
	assert_true(ep_is(rn_eptab_get(&t, hb), &zero_ep));
	assert_int_equal(rn_eptab_live(&t), 0);
	assert_true(index_ok(&t));
	rn_eptab_deinit(&t);
}

static void test_entries_max(void **state)
{
	(void)state;
	/* around the first index growth (64 slots hold 32) and beyond */
	static const uint32_t maxes[] = {0, 1, 2, 31, 32, 33, 64, 65, 200};
	for (size_t k = 0; k < sizeof maxes / sizeof maxes[0]; k++) {
		uint32_t max = maxes[k];
		rn_eptab t;
		rn_eptab_init(&t, max);
		for (uint32_t i = 0; i < max; i++) {
			rn_ep ep = v4(0x0a000000u + i, 7000);
			uint32_t h = rn_eptab_ref(&t, &ep);
			assert_true(h != 0);
			assert_true(h <= max); /* dense: e[0] is never used */
		}
		assert_int_equal(rn_eptab_live(&t), max);
		assert_true(index_ok(&t));
		rn_ep extra = v4(0x0b000001u, 7000);
		rn_ep extra2 = v4(0x0b000002u, 7000);
		assert_int_equal(rn_eptab_ref(&t, &extra), 0);
		assert_int_equal(rn_eptab_find(&t, &extra), 0);
		assert_int_equal(rn_eptab_live(&t), max);
		if (max) {
			/* another reference to an interned one is no new
			 * entry: it works when full */
			rn_ep first = v4(0x0a000000u, 7000);
			uint32_t h = rn_eptab_find(&t, &first);
			assert_true(h != 0);
			assert_int_equal(rn_eptab_ref(&t, &first), h);
			rn_eptab_unref(&t, h);
			assert_int_equal(rn_eptab_live(&t), max);
			assert_int_equal(rn_eptab_ref(&t, &extra), 0);
			/* freeing one makes room for exactly one */
			rn_eptab_unref(&t, h);
			assert_int_equal(rn_eptab_live(&t), max - 1);
			uint32_t he = rn_eptab_ref(&t, &extra);
			assert_true(he != 0);
			assert_true(ep_is(rn_eptab_get(&t, he), &extra));
			assert_int_equal(rn_eptab_ref(&t, &extra2), 0);
			assert_int_equal(rn_eptab_ref(&t, &first), 0);
			assert_int_equal(rn_eptab_live(&t), max);
		}
		assert_true(index_ok(&t));
		rn_eptab_deinit(&t);
	}
}

static void test_handle_reuse(void **state)
{
	(void)state;
	rn_eptab t;
	rn_eptab_init(&t, 1000);
	rn_ep eps[40];
	uint32_t h[40];
	for (uint32_t i = 0; i < 40; i++) {
		eps[i] = v4(0xC6336400u + i, (uint16_t)(1000 + i));
		h[i] = rn_eptab_ref(&t, &eps[i]);
		assert_true(h[i] != 0);
		for (uint32_t j = 0; j < i; j++)
			assert_true(h[j] != h[i]);
	}
	/* free five, intern five others: they get the freed handles, and
	 * the handles do not grow */
	uint32_t freed[5] = {h[3], h[17], h[0], h[39], h[25]};
	for (int k = 0; k < 5; k++)
		rn_eptab_unref(&t, freed[k]);
	assert_int_equal(rn_eptab_live(&t), 35);
	int seen[5] = {0};
	for (uint32_t k = 0; k < 5; k++) {
		rn_ep ep = v4(0xCB007100u + k, 9);
		uint32_t hn = rn_eptab_ref(&t, &ep);
		int found = 0;
		for (int f = 0; f < 5; f++)
			if (hn == freed[f] && !seen[f]) {
				seen[f] = 1;
				found = 1;
			}
		assert_true(found);
		assert_true(ep_is(rn_eptab_get(&t, hn), &ep));
	}
	/* none left: the next one is new */
	rn_ep ep = v4(0xCB007180u, 9);
	uint32_t hn = rn_eptab_ref(&t, &ep);
	for (uint32_t i = 0; i < 40; i++)
		assert_true(hn != h[i]);
	assert_true(index_ok(&t));
	/* a freed and reused handle names the new endpoint only */
	rn_eptab_unref(&t, hn);
	uint32_t again = rn_eptab_ref(&t, &eps[3]); /* h[3] is taken now */
	assert_int_equal(again, hn);
	assert_true(ep_is(rn_eptab_get(&t, hn), &eps[3]));
	assert_int_equal(rn_eptab_find(&t, &ep), 0);
	rn_eptab_deinit(&t);
}

static void test_distinct(void **state)
{
	(void)state;
	rn_eptab t;
	rn_eptab_init(&t, 100);
	rn_ep e[8];
	size_t n = 0;
	e[n++] = v4(0xC0000201u, 4000);
	e[n++] = v4(0xC0000201u, 4001); /* port only */
	/* the port's bytes swapped */
	e[n++] = v4(0xC0000201u, (uint16_t)(4000 << 8 | 4000 >> 8));
	/* the same last four bytes and port as e[0], not IPv4-mapped */
	memset(&e[n], 0, sizeof e[n]);
	memcpy(e[n].addr + 12, e[0].addr + 12, 4);
	e[n++].port = 4000;
	/* IPv6: 2001:db8::c000:201 and a one-bit neighbour */
	memset(&e[n], 0, sizeof e[n]);
	e[n].addr[0] = 0x20;
	e[n].addr[1] = 0x01;
	e[n].addr[2] = 0x0d;
	e[n].addr[3] = 0xb8;
	memcpy(e[n].addr + 12, e[0].addr + 12, 4);
	e[n].port = 4000;
	n++;
	e[n] = e[n - 1];
	e[n++].addr[0] ^= 0x80;
	e[n] = e[n - 1];
	e[n++].port = 4001;
	uint32_t h[8];
	for (size_t i = 0; i < n; i++) {
		h[i] = rn_eptab_ref(&t, &e[i]);
		assert_true(h[i] != 0);
		for (size_t j = 0; j < i; j++)
			assert_true(h[j] != h[i]);
	}
	assert_int_equal(rn_eptab_live(&t), n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(rn_eptab_find(&t, &e[i]), h[i]);
		assert_true(ep_is(rn_eptab_get(&t, h[i]), &e[i]));
	}
	/* freeing one leaves its look-alikes */
	rn_eptab_unref(&t, h[0]);
	assert_int_equal(rn_eptab_find(&t, &e[0]), 0);
	for (size_t i = 1; i < n; i++)
		assert_int_equal(rn_eptab_find(&t, &e[i]), h[i]);
	rn_eptab_deinit(&t);
}

/* ---- property test against a naive model ------------------------------- */

typedef struct model {
	uint32_t h[POOL_MAX];    /* handle of pool[i], 0 when not interned */
	uint32_t refs[POOL_MAX]; /* references held */
	uint32_t live;
	uint32_t top; /* highest handle issued */
	/* handles freed and not reissued since */
	uint32_t freed[POOL_MAX + 1];
	uint32_t n_freed;
} model;

static void freed_del(model *m, uint32_t h)
{
	for (uint32_t i = 0; i < m->n_freed; i++)
		if (m->freed[i] == h) {
			m->freed[i] = m->freed[--m->n_freed];
			return;
		}
}

static int freed_has(const model *m, uint32_t h)
{
	for (uint32_t i = 0; i < m->n_freed; i++)
		if (m->freed[i] == h)
			return 1;
	return 0;
}

/* A pool of distinct endpoints that look alike: few addresses, few ports,
 * IPv4 and IPv6 mixed. */
static uint32_t make_pool(trng *r, rn_ep *pool, uint32_t want)
{
	uint32_t n = 0;
	while (n < want) {
		rn_ep ep;
		if (trng_below(r, 3)) {
			uint32_t low = (uint32_t)trng_below(r, 64);
			rn_ep_from_ipv4(&ep, 0x0a000000u + low,
					(uint16_t)(4000 + trng_below(r, 8)));
		} else {
			memset(&ep, 0, sizeof ep);
			ep.addr[0] = 0xfd;
			ep.addr[15] = (uint8_t)trng_below(r, 64);
			if (trng_below(r, 2))
				ep.addr[7] = (uint8_t)trng_u64(r);
			ep.port = (uint16_t)(4000 + trng_below(r, 8));
		}
		int dup = 0;
		for (uint32_t i = 0; i < n && !dup; i++)
			dup = rn_ep_eq(&pool[i], &ep);
		if (!dup)
			pool[n++] = ep;
	}
	return n;
}

/* Everything the model knows, checked against the table. */
static void check_all(const rn_eptab *t, const model *m, const rn_ep *pool,
		      uint32_t n_pool, uint64_t seed, uint64_t it)
{
	uint32_t live = 0;
	for (uint32_t i = 0; i < n_pool; i++) {
		PCHECK(rn_eptab_find(t, &pool[i]) == m->h[i], seed, it);
		if (m->h[i]) {
			live++;
			const rn_ep *got = rn_eptab_get(t, m->h[i]);
			PCHECK(ep_is(got, &pool[i]), seed, it);
			PCHECK(t->e[m->h[i]].refs == m->refs[i], seed, it);
		}
	}
	PCHECK(live == m->live, seed, it);
	PCHECK(rn_eptab_live(t) == m->live, seed, it);
	for (uint32_t i = 0; i < m->n_freed; i++)
		PCHECK(ep_is(rn_eptab_get(t, m->freed[i]), &zero_ep), seed, it);
	PCHECK(ep_is(rn_eptab_get(t, 0), &zero_ep), seed, it);
	PCHECK(ep_is(rn_eptab_get(t, m->top + 1), &zero_ep), seed, it);
	PCHECK(index_ok(t), seed, it);
}

static void prop_ref(rn_eptab *t, model *m, const rn_ep *pool, uint32_t k,
		     uint32_t max, uint64_t seed, uint64_t it)
{
	uint32_t h = rn_eptab_ref(t, &pool[k]);
	if (m->h[k]) {
		PCHECK(h == m->h[k], seed, it);
		m->refs[k]++;
	} else if (m->live == max) {
		PCHECK(h == 0, seed, it);
	} else {
		PCHECK(h != 0, seed, it);
		/* a freed handle is reused before a new one is made */
		if (m->n_freed) {
			PCHECK(freed_has(m, h), seed, it);
			freed_del(m, h);
		} else {
			PCHECK(h == m->top + 1, seed, it);
			m->top = h;
		}
		m->h[k] = h;
		m->refs[k] = 1;
		m->live++;
	}
}

static void prop_unref(rn_eptab *t, model *m, trng *r, uint32_t n_pool)
{
	uint32_t h;
	switch (trng_below(r, 8)) {
	case 0: /* no handle */
		h = 0;
		break;
	case 1: /* anything up to past the top, freed ones included */
		h = (uint32_t)trng_below(r, m->top + 3);
		break;
	default: /* the handle of a pool endpoint (0 if not interned) */
		h = m->h[trng_below(r, n_pool)];
		break;
	}
	rn_eptab_unref(t, h);
	if (!h)
		return;
	for (uint32_t k = 0; k < n_pool; k++)
		if (m->h[k] == h) {
			if (--m->refs[k] == 0) {
				m->h[k] = 0;
				m->live--;
				m->freed[m->n_freed++] = h;
			}
			return;
		}
}

static void test_vs_model(void **state)
{
	(void)state;
	uint64_t seed = rn_test_seed();
	trng r;
	trng_init(&r, seed);
	static rn_ep pool[POOL_MAX];
	static model m;
	for (uint64_t it = 0; it < ITERS; it++) {
		/* mostly small pools that stay in the first 64-slot index,
		 * some that grow it several times */
		uint64_t pool_max = trng_below(&r, 4) ? 40 : POOL_MAX;
		uint32_t n_pool = 1 + (uint32_t)trng_below(&r, pool_max);
		n_pool = make_pool(&r, pool, n_pool);
		uint32_t max;
		switch (trng_below(&r, 4)) {
		case 0:
			max = (uint32_t)trng_below(&r, n_pool + 1);
			break;
		case 1:
			max = UINT32_MAX;
			break;
		default:
			max = n_pool;
			break;
		}
		/* refs a little more likely than unrefs, so tables fill */
		uint64_t ref_pct = 45 + trng_below(&r, 20);
		memset(&m, 0, sizeof m);
		rn_eptab t;
		rn_eptab_init(&t, max);
		size_t ops = 200 + trng_below(&r, 2500);
		for (size_t op = 0; op < ops; op++) {
			if (trng_below(&r, 100) < ref_pct)
				prop_ref(&t, &m, pool,
					 (uint32_t)trng_below(&r, n_pool), max,
					 seed, it);
			else
				prop_unref(&t, &m, &r, n_pool);
			check_all(&t, &m, pool, n_pool, seed, it);
		}
		/* drop everything: the table ends empty */
		for (uint32_t k = 0; k < n_pool; k++)
			while (m.h[k]) {
				rn_eptab_unref(&t, m.h[k]);
				if (--m.refs[k] == 0) {
					m.h[k] = 0;
					m.live--;
				}
			}
		PCHECK(rn_eptab_live(&t) == 0, seed, it);
		for (uint32_t k = 0; k < n_pool; k++)
			PCHECK(rn_eptab_find(&t, &pool[k]) == 0, seed, it);
		PCHECK(index_ok(&t), seed, it);
		rn_eptab_deinit(&t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_same_twice),
		cmocka_unit_test(test_zero_and_freed_handles),
		cmocka_unit_test(test_entries_max),
		cmocka_unit_test(test_handle_reuse),
		cmocka_unit_test(test_distinct),
		cmocka_unit_test(test_vs_model),
	};
	printf("# RN_TEST_SEED=%llu\n", (unsigned long long)rn_test_seed());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
