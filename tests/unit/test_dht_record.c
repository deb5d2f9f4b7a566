/* Unit tests for DHT records (dht/record.c): key ids, signatures over real
 * Ed25519 keys and member certificates, every check of rn_rec_check (form,
 * lease, certificate, signature, the namespace rules of docs/dht.md), and
 * the codec: round trip, and refusal of every truncation. */
#include "test_util.h"

#include <sodium.h>

#include "core/cert.h"
#include "core/err.h"
#include "dht/record.h"

#define NOW_MS 1780272000000ull

typedef struct fx {
	uint8_t gpk[RN_SIGN_PK_LEN], gsk[RN_SIGN_SK_LEN];
	uint8_t gid[RN_GROUP_ID_LEN];
	uint8_t pk[RN_SIGN_PK_LEN], sk[RN_SIGN_SK_LEN];
	rn_cert cert; /* vip 10.0.0.7, name "alice" */
	rn_rec_policy pol;
	msgpack_zone zone;
} fx;

static const uint8_t vip7[4] = {10, 0, 0, 7};

static int setup(void **state)
{
	fx *f = calloc(1, sizeof *f);
	uint8_t seed[RN_KEY_SEED_LEN];
	trng g;
	if (!f || sodium_init() < 0)
		return -1;
	trng_init(&g, rn_test_seed());
	trng_bytes(&g, seed, sizeof seed);
	if (rn_group_keypair(f->gpk, f->gsk, seed))
		return -1;
	rn_group_id(f->gid, f->gpk);
	trng_bytes(&g, seed, sizeof seed);
	if (rn_nodekey_keypair(f->pk, f->sk, seed) ||
	    rn_cert_issue(&f->cert, f->gsk, f->pk, vip7, 4, "alice",
			  NOW_MS / 1000 - 60, NOW_MS / 1000 + 86400))
		return -1;
	f->pol.group_id = f->gid;
	f->pol.group_pk = f->gpk;
	f->pol.ttl_max_ms = 86400000;
	f->pol.skew_ms = 120000;
	f->pol.require_cert = 1;
	msgpack_zone_init(&f->zone, 4096);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	msgpack_zone_destroy(&f->zone);
	free(f);
	return 0;
}

/* A signed record of f's member. */
static void make(fx *f, rn_rec *r, const char *ns, const uint8_t *key,
		 size_t key_len, const void *value, size_t value_len,
		 uint8_t flags)
{
	memset(r, 0, sizeof *r);
	assert_int_equal(rn_rec_set_key(r, ns, key, key_len), 0);
	memcpy(r->value, value, value_len);
	r->value_len = (uint16_t)value_len;
	memcpy(r->writer, f->pk, sizeof r->writer);
	r->created = r->ts = NOW_MS;
	r->expires = NOW_MS + 600000;
	r->flags = flags;
	r->has_cert = 1;
	r->cert = f->cert;
	assert_int_equal(rn_rec_sign(r, f->gid, f->sk), 0);
}

static void test_key_id(void **state)
{
	fx *f = *state;
	rn_id a, b, c;
	uint8_t in[64], h[RN_ID_LEN];
	/* BLAKE2b-160(group_id || ns || 0 || key), computed independently */
	memcpy(in, f->gid, 32);
	memcpy(in + 32, "name", 4);
	in[36] = 0;
	memcpy(in + 37, "alice", 5);
	crypto_generichash(h, sizeof h, in, 42, NULL, 0);
	rn_rec_key_id(&a, f->gid, "name", 4, (const uint8_t *)"alice", 5);
	assert_memory_equal(a.b, h, RN_ID_LEN);
	/* ("ab","c") and ("a","bc") are different keys */
	rn_rec_key_id(&b, f->gid, "ab", 2, (const uint8_t *)"c", 1);
	rn_rec_key_id(&c, f->gid, "a", 1, (const uint8_t *)"bc", 1 + 1);
	assert_true(rn_id_cmp(&b, &c) != 0);
}

static void test_sign_and_check(void **state)
{
	fx *f = *state;
	rn_rec r;
	make(f, &r, "member", vip7, 4, "endpoints", 9, RN_REC_REPLACE);
	assert_int_equal(rn_rec_check(&r, &f->pol, NOW_MS), 0);
	/* any signed field changed: the signature fails */
	rn_rec t = r;
	t.value[0] ^= 1;
	assert_int_equal(rn_rec_check(&t, &f->pol, NOW_MS), RN_ERR_BADSIG);
	t = r;
	t.expires += 1000;
	assert_int_equal(rn_rec_check(&t, &f->pol, NOW_MS), RN_ERR_BADSIG);
	t = r;
	t.flags = RN_REC_REPLACE | RN_REC_TOMB;
	assert_int_equal(rn_rec_check(&t, &f->pol, NOW_MS), RN_ERR_BADSIG);
	/* lease: expired, too long, from the future */
	assert_int_equal(rn_rec_check(&r, &f->pol, NOW_MS + 600000),
			 RN_ERR_EXPIRED);
	assert_int_equal(rn_rec_check(&r, &f->pol, NOW_MS - 120001),
			 RN_ERR_EXPIRED);
	make(f, &t, "user", (const uint8_t *)"k", 1, "v", 1, 0);
	t.expires = t.ts + 86400001;
	assert_int_equal(rn_rec_sign(&t, f->gid, f->sk), 0);
	assert_int_equal(rn_rec_check(&t, &f->pol, NOW_MS), RN_ERR_EXPIRED);
	/* without a certificate, or with another member's key as writer */
	t = r;
	t.has_cert = 0;
	assert_int_equal(rn_rec_check(&t, &f->pol, NOW_MS), RN_ERR_PERM);
	t = r;
	t.writer[0] ^= 1;
	assert_int_equal(rn_rec_check(&t, &f->pol, NOW_MS), RN_ERR_PERM);
	/* a certificate of another group */
	uint8_t seed[RN_KEY_SEED_LEN], opk[RN_SIGN_PK_LEN], osk[RN_SIGN_SK_LEN];
	memset(seed, 0x47, sizeof seed);
	assert_int_equal(rn_group_keypair(opk, osk, seed), 0);
	t = r;
	assert_int_equal(rn_cert_issue(&t.cert, osk, f->pk, vip7, 4, "alice",
				       NOW_MS / 1000 - 60, NOW_MS / 1000 + 60),
			 0);
	assert_int_equal(rn_rec_sign(&t, f->gid, f->sk), 0);
	assert_int_equal(rn_rec_check(&t, &f->pol, NOW_MS), RN_ERR_CERT_GROUP);
	/* crypto none: certificate and signature are not looked at */
	rn_rec_policy none = f->pol;
	none.require_cert = 0;
	t = r;
	t.has_cert = 0;
	memset(t.sig, 0, sizeof t.sig);
	assert_int_equal(rn_rec_check(&t, &none, NOW_MS), 0);
}

static void test_namespace_rules(void **state)
{
	fx *f = *state;
	rn_rec r;
	const uint8_t vip8[4] = {10, 0, 0, 8};
	/* member: only for one's own address, and REPLACE */
	make(f, &r, "member", vip8, 4, "x", 1, RN_REC_REPLACE);
	assert_int_equal(rn_rec_check(&r, &f->pol, NOW_MS), RN_ERR_PERM);
	make(f, &r, "member", vip7, 4, "x", 1, 0);
	assert_int_equal(rn_rec_check(&r, &f->pol, NOW_MS), RN_ERR_PERM);
	make(f, &r, "member", vip7, 4, "", 0, RN_REC_TOMB);
	assert_int_equal(rn_rec_check(&r, &f->pol, NOW_MS), 0);
	/* lease: one's own address, exclusive */
	make(f, &r, "lease", vip7, 4, "x", 1, RN_REC_EXCL);
	assert_int_equal(rn_rec_check(&r, &f->pol, NOW_MS), 0);
	make(f, &r, "lease", vip8, 4, "x", 1, RN_REC_EXCL);
	assert_int_equal(rn_rec_check(&r, &f->pol, NOW_MS), RN_ERR_PERM);
	/* name: one's own name, naming one's own address */
	make(f, &r, "name", (const uint8_t *)"alice", 5, vip7, 4,
	     RN_REC_REPLACE);
	assert_int_equal(rn_rec_check(&r, &f->pol, NOW_MS), 0);
	make(f, &r, "name", (const uint8_t *)"bob", 3, vip7, 4, RN_REC_REPLACE);
	assert_int_equal(rn_rec_check(&r, &f->pol, NOW_MS), RN_ERR_PERM);
	make(f, &r, "name", (const uint8_t *)"alice", 5, vip8, 4,
	     RN_REC_REPLACE);
	assert_int_equal(rn_rec_check(&r, &f->pol, NOW_MS), RN_ERR_PERM);
	/* anything else: any member */
	make(f, &r, "notes", (const uint8_t *)"bob", 3, "hi", 2, 0);
	assert_int_equal(rn_rec_check(&r, &f->pol, NOW_MS), 0);
	/* a bad form: EXCL with REPLACE, created after ts */
	make(f, &r, "notes", (const uint8_t *)"k", 1, "v", 1,
	     RN_REC_EXCL | RN_REC_REPLACE);
	assert_int_equal(rn_rec_check(&r, &f->pol, NOW_MS), RN_ERR_INVAL);
	/* namespaces are [a-z0-9-]{1,16} */
	assert_int_equal(rn_rec_set_key(&r, "Notes", (const uint8_t *)"k", 1),
			 RN_ERR_INVAL);
	assert_int_equal(rn_rec_set_key(&r, "a-very-long-namespace",
					(const uint8_t *)"k", 1),
			 RN_ERR_INVAL);
	assert_int_equal(rn_rec_set_key(&r, "notes", (const uint8_t *)"k", 0),
			 RN_ERR_INVAL);
}

/* A range member (core/cert.h, version 2): unbound it writes none of the
 * address namespaces; bound, the rules read its address as for a fixed
 * member; the group signed only the range. */
static void test_range_member(void **state)
{
	fx *f = *state;
	rn_rec r;
	const uint8_t net[4] = {10, 0, 0, 0}, vip9[4] = {10, 0, 0, 9};
	const uint8_t vip8[4] = {10, 0, 0, 8}, out[4] = {10, 0, 1, 9};
	rn_cert range;
	assert_int_equal(rn_cert_issue_range(&range, f->gsk, f->pk, net, 4, 24,
	                                     "alice", NOW_MS / 1000 - 60,
	                                     NOW_MS / 1000 + 86400),
	                 0);
	f->cert = range; /* unbound */
	make(f, &r, "lease", net, 4, f->pk, 32, RN_REC_EXCL);
	assert_int_equal(rn_rec_check(&r, &f->pol, NOW_MS), RN_ERR_PERM);
	make(f, &r, "member", net, 4, "x", 1, RN_REC_REPLACE);
	assert_int_equal(rn_rec_check(&r, &f->pol, NOW_MS), RN_ERR_PERM);
	make(f, &r, "name", (const uint8_t *)"alice", 5, net, 4,
	     RN_REC_REPLACE);
	assert_int_equal(rn_rec_check(&r, &f->pol, NOW_MS), RN_ERR_PERM);
	make(f, &r, "notes", (const uint8_t *)"k", 1, "v", 1, 0);
	assert_int_equal(rn_rec_check(&r, &f->pol, NOW_MS), 0);

	/* bound to .9: its lease, member and name records, none of .8's */
	f->cert = range;
	assert_int_equal(rn_cert_bind(&f->cert, vip9, 4), 0);
	make(f, &r, "lease", vip9, 4, f->pk, 32, RN_REC_EXCL);
	assert_int_equal(rn_rec_check(&r, &f->pol, NOW_MS), 0);
	make(f, &r, "member", vip9, 4, "x", 1, RN_REC_REPLACE);
	assert_int_equal(rn_rec_check(&r, &f->pol, NOW_MS), 0);
	make(f, &r, "name", (const uint8_t *)"alice", 5, vip9, 4,
	     RN_REC_REPLACE);
	assert_int_equal(rn_rec_check(&r, &f->pol, NOW_MS), 0);
	make(f, &r, "lease", vip8, 4, f->pk, 32, RN_REC_EXCL);
	assert_int_equal(rn_rec_check(&r, &f->pol, NOW_MS), RN_ERR_PERM);
	/* the record travels: decoded, it still checks */
	uint8_t enc[RN_REC_ENCODED_MAX];
	size_t len;
	rn_rec d;
	make(f, &r, "lease", vip9, 4, f->pk, 32, RN_REC_EXCL);
	assert_int_equal(rn_rec_encode(&r, enc, sizeof enc, &len), 0);
	assert_int_equal(rn_rec_decode(&f->zone, enc, len, &d), 0);
	assert_int_equal(rn_rec_check(&d, &f->pol, NOW_MS), 0);
	assert_memory_equal(d.cert.vip, vip9, 4);
	/* the writer signed the address it was bound to: a relay that
	 * rebinds the certificate (inside the range) breaks the signature */
	make(f, &r, "notes", (const uint8_t *)"k", 1, "v", 1, 0);
	assert_int_equal(rn_rec_check(&r, &f->pol, NOW_MS), 0);
	assert_int_equal(rn_cert_bind(&r.cert, vip8, 4), 0);
	assert_int_equal(rn_rec_check(&r, &f->pol, NOW_MS), RN_ERR_BADSIG);
	/* a vip moved out of the range by hand: the certificate is refused */
	make(f, &r, "lease", vip9, 4, f->pk, 32, RN_REC_EXCL);
	memcpy(r.cert.vip, out, 4);
	memcpy(r.key, out, 4);
	assert_int_equal(rn_rec_sign(&r, f->gid, f->sk), 0);
	assert_int_not_equal(rn_rec_check(&r, &f->pol, NOW_MS), 0);
}

static void test_codec(void **state)
{
	fx *f = *state;
	rn_rec r, d;
	uint8_t buf[RN_REC_ENCODED_MAX], big[RN_REC_VALUE_MAX];
	size_t len;
	memset(big, 0xab, sizeof big);
	make(f, &r, "notes", (const uint8_t *)"key", 3, big, sizeof big, 0);
	assert_int_equal(rn_rec_encode(&r, buf, sizeof buf, &len), 0);
	assert_int_equal(rn_rec_decode(&f->zone, buf, len, &d), 0);
	assert_int_equal(rn_rec_check(&d, &f->pol, NOW_MS), 0);
	assert_int_equal(d.value_len, sizeof big);
	assert_memory_equal(d.value, big, sizeof big);
	assert_memory_equal(d.sig, r.sig, RN_SIG_LEN);
	assert_string_equal(d.ns, "notes");
	/* every truncation is refused, never read past */
	for (size_t n = 0; n < len; n++)
		assert_int_not_equal(rn_rec_decode(&f->zone, buf, n, &d), 0);
	/* a byte too many */
	buf[len] = 0;
	assert_int_not_equal(rn_rec_decode(&f->zone, buf, len + 1, &d), 0);
	/* a small buffer: TOOBIG, not an overrun */
	assert_int_equal(rn_rec_encode(&r, buf, 100, &len), RN_ERR_TOOBIG);
	/* crypto none: no certificate, no signature, still decodes */
	r.has_cert = 0;
	assert_int_equal(rn_rec_encode(&r, buf, sizeof buf, &len), 0);
	assert_int_equal(rn_rec_decode(&f->zone, buf, len, &d), 0);
	assert_int_equal(d.has_cert, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_key_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_and_check, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_namespace_rules, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_codec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_range_member, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
