/* Unit tests for the DHT store (dht/store.c): leases, a writer's versions,
 * sets of values, REPLACE, tombstones, exclusive keys (create and the merge
 * tie-break), quotas and expiry. Records are built by hand: the store takes
 * records that rn_rec_check passed already, so no signatures are needed. */
#include "test_util.h"

#include "core/err.h"
#include "dht/record.h"
#include "dht/store.h"

#define T0 1780272000000ull /* unix ms */

static rn_id key_a, key_b;
static uint8_t enc[RN_REC_ENCODED_MAX];

static void rec(rn_rec *r, uint8_t writer, const char *value, uint64_t ts,
		uint32_t ttl_s, uint8_t flags)
{
	memset(r, 0, sizeof *r);
	assert_int_equal(rn_rec_set_key(r, "user", (const uint8_t *)"k", 1), 0);
	memset(r->writer, writer, sizeof r->writer);
	r->value_len = (uint16_t)strlen(value);
	memcpy(r->value, value, r->value_len);
	r->created = ts;
	r->ts = ts;
	r->expires = ts + ttl_s * 1000ull;
	r->flags = flags;
}

static int offer(rn_store *s, const rn_id *k, const rn_rec *r, uint64_t now,
		 int mode)
{
	size_t len;
	assert_int_equal(rn_rec_encode(r, enc, sizeof enc, &len), 0);
	return rn_store_offer(s, k, r, enc, len, now, mode, 60000, NULL);
}

static uint32_t count(const rn_store *s, const rn_id *k)
{
	uint32_t first;
	return rn_store_find(s, k, &first);
}

static int setup(void **state)
{
	(void)state;
	memset(&key_a, 0x11, sizeof key_a);
	memset(&key_b, 0x22, sizeof key_b);
	return 0;
}

static void test_versions_of_one_writer(void **state)
{
	(void)state;
	rn_store s;
	rn_rec r;
	rn_store_init(&s, 100, 10);
	rec(&r, 1, "v", T0, 60, 0);
	assert_int_equal(offer(&s, &key_a, &r, T0, RN_STORE_CREATE), 0);
	/* the same record again, and an older one: nothing changes */
	assert_int_equal(offer(&s, &key_a, &r, T0, RN_STORE_CREATE),
			 RN_ERR_STALE);
	rec(&r, 1, "v", T0 - 5, 60, 0);
	assert_int_equal(offer(&s, &key_a, &r, T0, RN_STORE_CREATE),
			 RN_ERR_STALE);
	/* a newer one renews the lease */
	rec(&r, 1, "v", T0 + 1000, 120, 0);
	assert_int_equal(offer(&s, &key_a, &r, T0 + 1000, RN_STORE_CREATE), 0);
	assert_int_equal(count(&s, &key_a), 1);
	assert_int_equal(s.v[0].expires, T0 + 1000 + 120000);
	assert_int_equal(s.stats.renewed, 1);
	assert_int_equal(count(&s, &key_b), 0);
	rn_store_deinit(&s);
}

static void test_set_and_replace(void **state)
{
	(void)state;
	rn_store s;
	rn_rec r;
	rn_store_init(&s, 100, 10);
	rec(&r, 1, "a", T0, 60, 0);
	assert_int_equal(offer(&s, &key_a, &r, T0, RN_STORE_CREATE), 0);
	rec(&r, 1, "b", T0 + 1, 60, 0);
	assert_int_equal(offer(&s, &key_a, &r, T0, RN_STORE_CREATE), 0);
	rec(&r, 2, "a", T0 + 2, 60, 0);
	assert_int_equal(offer(&s, &key_a, &r, T0, RN_STORE_CREATE), 0);
	assert_int_equal(count(&s, &key_a), 3);
	/* writer 1 replaces both of its values; writer 2's stays */
	rec(&r, 1, "c", T0 + 3, 60, RN_REC_REPLACE);
	assert_int_equal(offer(&s, &key_a, &r, T0, RN_STORE_CREATE), 0);
	assert_int_equal(count(&s, &key_a), 2);
	/* an older copy of a replaced value does not come back */
	rec(&r, 1, "d", T0 + 2, 60, RN_REC_REPLACE);
	assert_int_equal(offer(&s, &key_a, &r, T0, RN_STORE_MERGE),
			 RN_ERR_STALE);
	assert_int_equal(count(&s, &key_a), 2);
	rn_store_deinit(&s);
}

static void test_tombstones(void **state)
{
	(void)state;
	rn_store s;
	rn_rec r;
	rn_store_init(&s, 100, 10);
	rec(&r, 1, "a", T0, 60, 0);
	assert_int_equal(offer(&s, &key_a, &r, T0, RN_STORE_CREATE), 0);
	rec(&r, 2, "a", T0, 60, 0);
	assert_int_equal(offer(&s, &key_a, &r, T0, RN_STORE_CREATE), 0);
	/* writer 1 removes its value: writer 2's is untouched */
	rec(&r, 1, "a", T0 + 10, 60, RN_REC_TOMB);
	assert_int_equal(offer(&s, &key_a, &r, T0 + 10, RN_STORE_CREATE), 0);
	assert_int_equal(s.stats.removed, 1);
	uint32_t first, n = rn_store_find(&s, &key_a, &first);
	assert_int_equal(n, 2); /* writer 2's value and the tombstone */
	for (uint32_t i = first; i < first + n; i++)
		if (s.v[i].writer[0] == 1)
			assert_true(s.v[i].flags & RN_REC_TOMB);
	/* a replica handing back the old copy does not resurrect it */
	rec(&r, 1, "a", T0, 60, 0);
	assert_int_equal(offer(&s, &key_a, &r, T0 + 20, RN_STORE_MERGE),
			 RN_ERR_STALE);
	/* a newer put after the removal is a new value */
	rec(&r, 1, "a", T0 + 30, 60, 0);
	assert_int_equal(offer(&s, &key_a, &r, T0 + 30, RN_STORE_CREATE), 0);
	/* an empty tombstone removes every value of the writer */
	rec(&r, 1, "b", T0 + 31, 60, 0);
	assert_int_equal(offer(&s, &key_a, &r, T0 + 31, RN_STORE_CREATE), 0);
	rec(&r, 1, "", T0 + 40, 60, RN_REC_TOMB);
	assert_int_equal(offer(&s, &key_a, &r, T0 + 40, RN_STORE_CREATE), 0);
	n = rn_store_find(&s, &key_a, &first);
	uint32_t live1 = 0;
	for (uint32_t i = first; i < first + n; i++)
		live1 += s.v[i].writer[0] == 1 && !(s.v[i].flags & RN_REC_TOMB);
	assert_int_equal(live1, 0);
	rn_store_deinit(&s);
}

static void test_exclusive(void **state)
{
	(void)state;
	rn_store s;
	rn_rec r;
	uint32_t holder = 99;
	size_t len;
	rn_store_init(&s, 100, 10);
	rec(&r, 5, "me", T0, 60, RN_REC_EXCL);
	assert_int_equal(offer(&s, &key_a, &r, T0, RN_STORE_CREATE), 0);
	/* another writer, or another value: conflict, the holder named */
	rec(&r, 6, "me", T0 + 1, 60, RN_REC_EXCL);
	assert_int_equal(rn_rec_encode(&r, enc, sizeof enc, &len), 0);
	assert_int_equal(rn_store_offer(&s, &key_a, &r, enc, len, T0 + 1,
					RN_STORE_CREATE, 60000, &holder),
			 RN_ERR_CONFLICT);
	assert_int_equal(s.v[holder].writer[0], 5);
	rec(&r, 5, "other", T0 + 1, 60, RN_REC_EXCL);
	assert_int_equal(offer(&s, &key_a, &r, T0 + 1, RN_STORE_CREATE),
			 RN_ERR_CONFLICT);
	/* an ordinary put on an exclusive key conflicts too */
	rec(&r, 6, "x", T0 + 1, 60, 0);
	assert_int_equal(offer(&s, &key_a, &r, T0 + 1, RN_STORE_CREATE),
			 RN_ERR_CONFLICT);
	/* the holder renews: same value, created kept */
	rec(&r, 5, "me", T0 + 2000, 60, RN_REC_EXCL);
	r.created = T0;
	assert_int_equal(offer(&s, &key_a, &r, T0 + 2000, RN_STORE_CREATE), 0);
	assert_int_equal(count(&s, &key_a), 1);
	/* a back-dated first claim is refused at the primary */
	rec(&r, 7, "me", T0 + 3000, 60, RN_REC_EXCL);
	r.created = T0 - 3600000;
	assert_int_equal(offer(&s, &key_b, &r, T0 + 3000, RN_STORE_CREATE),
			 RN_ERR_EXPIRED);
	/* merging: the smaller (created, writer) wins on every node */
	rec(&r, 9, "late", T0 + 100, 60, RN_REC_EXCL);
	assert_int_equal(offer(&s, &key_b, &r, T0 + 100, RN_STORE_MERGE), 0);
	rec(&r, 8, "early", T0 + 50, 60, RN_REC_EXCL);
	assert_int_equal(offer(&s, &key_b, &r, T0 + 100, RN_STORE_MERGE), 0);
	rec(&r, 9, "late", T0 + 100, 60, RN_REC_EXCL);
	assert_int_equal(offer(&s, &key_b, &r, T0 + 100, RN_STORE_MERGE),
			 RN_ERR_CONFLICT);
	uint32_t first;
	assert_int_equal(rn_store_find(&s, &key_b, &first), 1);
	assert_int_equal(s.v[first].writer[0], 8);
	/* an expired holder is no obstacle */
	rec(&r, 6, "mine", T0 + 61000, 60, RN_REC_EXCL);
	assert_int_equal(offer(&s, &key_a, &r, T0 + 61000, RN_STORE_CREATE),
			 RN_ERR_CONFLICT); /* 5's renewal runs to T0+62000 */
	rec(&r, 6, "mine", T0 + 63000, 60, RN_REC_EXCL);
	assert_int_equal(offer(&s, &key_a, &r, T0 + 63000, RN_STORE_CREATE), 0);
	rn_store_deinit(&s);
}

/* A certificate as far as the store looks at it: fixed (prefix 0) or a
 * range member bound to 10.0.0.9. */
static void with_cert(rn_rec *r, unsigned prefix)
{
	static const uint8_t vip[4] = {10, 0, 0, 9}, net[4] = {10, 0, 0, 0};
	r->has_cert = 1;
	memset(&r->cert, 0, sizeof r->cert);
	memcpy(r->cert.node_pk, r->writer, RN_SIGN_PK_LEN);
	memcpy(r->cert.vip, vip, 4);
	r->cert.vip_len = 4;
	r->cert.name[0] = 'm';
	r->cert.name_len = 1;
	r->cert.not_after = 1;
	if (prefix) {
		memcpy(r->cert.range, net, 4);
		r->cert.prefix_len = (uint8_t)prefix;
	}
}

/* An address's lease written under a fixed certificate beats a range
 * member's claim, at the primary and in merges, whatever their ages; two
 * of a kind keep the (created, writer) rule. */
static void test_fixed_beats_range(void **state)
{
	(void)state;
	rn_store s;
	rn_rec r;
	uint32_t first;
	rn_store_init(&s, 100, 10);
	rec(&r, 5, "range", T0, 60, RN_REC_EXCL);
	with_cert(&r, 24);
	assert_int_equal(offer(&s, &key_a, &r, T0, RN_STORE_CREATE), 0);
	/* a later range member: conflict */
	rec(&r, 6, "range2", T0 + 10, 60, RN_REC_EXCL);
	with_cert(&r, 24);
	assert_int_equal(offer(&s, &key_a, &r, T0 + 10, RN_STORE_CREATE),
			 RN_ERR_CONFLICT);
	/* the fixed holder of the address, later: it takes the key */
	rec(&r, 7, "fixed", T0 + 20, 60, RN_REC_EXCL);
	with_cert(&r, 0);
	assert_int_equal(offer(&s, &key_a, &r, T0 + 20, RN_STORE_CREATE), 0);
	assert_int_equal(rn_store_find(&s, &key_a, &first), 1);
	assert_int_equal(s.v[first].writer[0], 7);
	/* the range member's renewal now conflicts, even older and merged */
	rec(&r, 5, "range", T0 + 30, 60, RN_REC_EXCL);
	r.created = T0;
	with_cert(&r, 24);
	assert_int_equal(offer(&s, &key_a, &r, T0 + 30, RN_STORE_CREATE),
			 RN_ERR_CONFLICT);
	rec(&r, 5, "range", T0 - 5000, 60, RN_REC_EXCL);
	with_cert(&r, 24);
	assert_int_equal(offer(&s, &key_a, &r, T0 + 30, RN_STORE_MERGE),
			 RN_ERR_CONFLICT);
	/* a merge elsewhere: fixed arriving second still wins */
	rec(&r, 5, "range", T0 - 5000, 60, RN_REC_EXCL);
	with_cert(&r, 24);
	assert_int_equal(offer(&s, &key_b, &r, T0, RN_STORE_MERGE), 0);
	rec(&r, 7, "fixed", T0 + 20, 60, RN_REC_EXCL);
	with_cert(&r, 0);
	assert_int_equal(offer(&s, &key_b, &r, T0 + 20, RN_STORE_MERGE), 0);
	assert_int_equal(rn_store_find(&s, &key_b, &first), 1);
	assert_int_equal(s.v[first].writer[0], 7);
	rn_store_deinit(&s);
}

static void test_quotas(void **state)
{
	(void)state;
	rn_store s;
	rn_rec r;
	char v[8];
	rn_store_init(&s, 6, 3);
	for (unsigned i = 0; i < 3; i++) {
		snprintf(v, sizeof v, "v%u", i);
		rec(&r, 1, v, T0 + i, 60, 0);
		assert_int_equal(offer(&s, &key_a, &r, T0, RN_STORE_CREATE), 0);
	}
	rec(&r, 1, "v3", T0 + 3, 60, 0);
	assert_int_equal(offer(&s, &key_a, &r, T0, RN_STORE_CREATE),
			 RN_ERR_FULL);
	/* a renewal of a held value needs no room */
	rec(&r, 1, "v0", T0 + 4, 60, 0);
	assert_int_equal(offer(&s, &key_a, &r, T0, RN_STORE_CREATE), 0);
	for (unsigned i = 0; i < 3; i++) {
		snprintf(v, sizeof v, "w%u", i);
		rec(&r, 2, v, T0 + i, 60, 0);
		assert_int_equal(offer(&s, &key_b, &r, T0, RN_STORE_CREATE), 0);
	}
	rec(&r, 3, "x", T0, 60, 0);
	assert_int_equal(offer(&s, &key_b, &r, T0, RN_STORE_CREATE),
			 RN_ERR_FULL);
	assert_int_equal(s.stats.full, 2);
	assert_int_equal(s.n, 6);
	rn_store_deinit(&s);
}

static void test_expiry(void **state)
{
	(void)state;
	rn_store s;
	rn_rec r;
	rn_store_init(&s, 100, 10);
	rec(&r, 1, "short", T0, 10, 0);
	assert_int_equal(offer(&s, &key_a, &r, T0, RN_STORE_CREATE), 0);
	rec(&r, 1, "long", T0, 100, 0);
	assert_int_equal(offer(&s, &key_b, &r, T0, RN_STORE_CREATE), 0);
	assert_int_equal(rn_store_next_expiry(&s), T0 + 10000);
	assert_int_equal(rn_store_expire(&s, T0 + 9999), 0);
	assert_int_equal(rn_store_expire(&s, T0 + 10000), 1);
	assert_int_equal(count(&s, &key_a), 0);
	assert_int_equal(count(&s, &key_b), 1);
	assert_int_equal(rn_store_next_expiry(&s), T0 + 100000);
	rn_store_deinit(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_versions_of_one_writer, setup),
		cmocka_unit_test_setup(test_set_and_replace, setup),
		cmocka_unit_test_setup(test_tombstones, setup),
		cmocka_unit_test_setup(test_exclusive, setup),
		cmocka_unit_test_setup(test_fixed_beats_range, setup),
		cmocka_unit_test_setup(test_quotas, setup),
		cmocka_unit_test_setup(test_expiry, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
