/* Unit tests for core/cert.c: group and node keys, member certificates.
 *
 * Keys come from fixed seeds, so every run signs the same bytes. The
 * codec is checked by round trips, by truncating a real encoding at every
 * length, by a hand-written encoder that puts a wrong type or length into
 * each field in turn, and by a seeded loop of random and mutated inputs
 * (the decoder must answer with a documented code, never crash, and only
 * ever yield well-formed certificates). Verification is checked by flipping
 * every bit of every signed field and of the signature: each must be
 * refused with the code that names the fault. Hashes are compared with
 * libsodium's one-shot BLAKE2b over the concatenated inputs.
 */
#include "test_util.h"

#include <sodium.h>

#include "core/cert.h"
#include "core/err.h"
#include "core/id.h"
#include "core/mp.h"

#define ITERS 20000
#define T0    1700000000ull /* a "now" inside the test certificates */

typedef struct keys {
	uint8_t group_pk[RN_SIGN_PK_LEN], group_sk[RN_SIGN_SK_LEN];
	uint8_t other_pk[RN_SIGN_PK_LEN], other_sk[RN_SIGN_SK_LEN];
	uint8_t node_pk[RN_SIGN_PK_LEN], node_sk[RN_SIGN_SK_LEN];
} keys;

static void make_keys(keys *k)
{
	uint8_t seed[RN_KEY_SEED_LEN];
	memset(seed, 0x11, sizeof seed);
	assert_int_equal(rn_group_keypair(k->group_pk, k->group_sk, seed), 0);
	memset(seed, 0x22, sizeof seed);
	assert_int_equal(rn_group_keypair(k->other_pk, k->other_sk, seed), 0);
	memset(seed, 0x33, sizeof seed);
	assert_int_equal(rn_nodekey_keypair(k->node_pk, k->node_sk, seed), 0);
}

static const uint8_t vip4[4] = {10, 77, 0, 5};
static const uint8_t vip6[16] = {0xfd, 0x00, 0x12, 0x34, 0, 0, 0, 0,
                                 0,    0,    0,    0,    0, 0, 0, 9};

static void issue(const keys *k, rn_cert *c)
{
	assert_int_equal(rn_cert_issue(c, k->group_sk, k->node_pk, vip4, 4,
	                               "alpha-1.lab_x", T0 - 100, T0 + 100),
	                 0);
}

static int cert_eq(const rn_cert *a, const rn_cert *b)
{
	return !memcmp(a->group_pk, b->group_pk, sizeof a->group_pk) &&
	       !memcmp(a->node_pk, b->node_pk, sizeof a->node_pk) &&
	       a->vip_len == b->vip_len && a->vip_len <= RN_CERT_VIP_MAX &&
	       !memcmp(a->vip, b->vip, a->vip_len) &&
	       a->prefix_len == b->prefix_len &&
	       (!a->prefix_len || !memcmp(a->range, b->range, a->vip_len)) &&
	       a->name_len == b->name_len && a->name_len <= RN_CERT_NAME_MAX &&
	       !memcmp(a->name, b->name, a->name_len) &&
	       a->not_before == b->not_before && a->not_after == b->not_after &&
	       !memcmp(a->sig, b->sig, sizeof a->sig);
}

/* ---- keys --------------------------------------------------------------- */

static void test_keys(void **state)
{
	(void)state;
	keys k, k2;
	make_keys(&k);
	make_keys(&k2);
	/* same seed, same keys; different seeds, different keys */
	assert_memory_equal(k.group_pk, k2.group_pk, RN_SIGN_PK_LEN);
	assert_memory_equal(k.group_sk, k2.group_sk, RN_SIGN_SK_LEN);
	assert_memory_not_equal(k.group_pk, k.other_pk, RN_SIGN_PK_LEN);
	/* the secret key holds the seed and the public key */
	uint8_t seed[RN_KEY_SEED_LEN];
	memset(seed, 0x11, sizeof seed);
	assert_memory_equal(k.group_sk, seed, sizeof seed);
	assert_memory_equal(k.group_sk + 32, k.group_pk, RN_SIGN_PK_LEN);

	/* group id: BLAKE2b-256 of the prefixed public key */
	static const char prefix[] = "ringnet group id v1";
	uint8_t in[sizeof prefix - 1 + RN_SIGN_PK_LEN], want[32], gid[32];
	memcpy(in, prefix, sizeof prefix - 1);
	memcpy(in + sizeof prefix - 1, k.group_pk, RN_SIGN_PK_LEN);
	crypto_generichash(want, sizeof want, in, sizeof in, NULL, 0);
	rn_group_id(gid, k.group_pk);
	assert_memory_equal(gid, want, sizeof gid);
	rn_group_id(want, k.other_pk);
	assert_memory_not_equal(gid, want, sizeof gid);

	/* X25519 forms: one's own pair matches, and two nodes agree */
	uint8_t ax_pk[32], ax_sk[32], bx_pk[32], bx_sk[32], bpk[32], bsk[64];
	uint8_t peer_x[32], s1[32], s2[32], base[32];
	memset(seed, 0x44, sizeof seed);
	assert_int_equal(rn_nodekey_keypair(bpk, bsk, seed), 0);
	assert_int_equal(rn_nodekey_x25519_keypair(ax_pk, ax_sk, k.node_sk), 0);
	assert_int_equal(rn_nodekey_x25519_keypair(bx_pk, bx_sk, bsk), 0);
	assert_int_equal(crypto_scalarmult_base(base, ax_sk), 0);
	assert_memory_equal(base, ax_pk, 32);
	assert_int_equal(rn_nodekey_x25519_pk(peer_x, bpk), 0);
	assert_memory_equal(peer_x, bx_pk, 32);
	assert_int_equal(crypto_scalarmult(s1, ax_sk, bx_pk), 0);
	assert_int_equal(crypto_scalarmult(s2, bx_sk, ax_pk), 0);
	assert_memory_equal(s1, s2, 32);

	/* the identity point (small order) has no usable X25519 form */
	uint8_t small[32] = {1};
	assert_int_equal(rn_nodekey_x25519_pk(peer_x, small), RN_ERR_BADKEY);
}

/* ---- names -------------------------------------------------------------- */

static void test_names(void **state)
{
	(void)state;
	char s[80];
	assert_true(rn_cert_name_valid("a", 1));
	assert_true(rn_cert_name_valid("Node-7.lab_2", 12));
	assert_true(rn_cert_name_valid("0", 1));
	memset(s, 'x', 63);
	assert_true(rn_cert_name_valid(s, 63));
	assert_false(rn_cert_name_valid(s, 64));
	assert_false(rn_cert_name_valid("", 0));
	assert_false(rn_cert_name_valid(NULL, 1));
	assert_false(rn_cert_name_valid("a\0b", 3));
	/* every byte outside [A-Za-z0-9._-] is refused, anywhere */
	for (unsigned ch = 0; ch < 256; ch++) {
		int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		         (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
		         ch == '_';
		for (int pos = 0; pos < 3; pos++) {
			memcpy(s, "abc", 3);
			s[pos] = (char)ch;
			assert_int_equal(rn_cert_name_valid(s, 3), ok);
		}
	}

	/* rn_cert_issue applies the same rule to its C string */
	keys k;
	rn_cert c;
	make_keys(&k);
	const char *bad[] = {"", "a b", "caf\xc3\xa9", "a/b", "x\n"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(rn_cert_issue(&c, k.group_sk, k.node_pk, vip4,
		                               4, bad[i], 0, 1),
		                 RN_ERR_INVAL);
	memset(s, 'n', sizeof s);
	s[63] = '\0';
	assert_int_equal(
	    rn_cert_issue(&c, k.group_sk, k.node_pk, vip4, 4, s, 0, 1), 0);
	assert_int_equal(c.name_len, 63);
	assert_int_equal(c.name[63], '\0');
	s[63] = 'n';
	s[64] = '\0';
	assert_int_equal(
	    rn_cert_issue(&c, k.group_sk, k.node_pk, vip4, 4, s, 0, 1),
	    RN_ERR_INVAL);
}

/* ---- issue, encode, decode, verify -------------------------------------- */

static void round_trip(const rn_cert *c, size_t want_len)
{
	uint8_t buf[RN_CERT_ENCODED_MAX];
	size_t len = 0;
	rn_cert d;
	assert_int_equal(rn_cert_encode(c, buf, sizeof buf, &len), 0);
	if (want_len)
		assert_int_equal(len, want_len);
	memset(&d, 0xa5, sizeof d);
	assert_int_equal(rn_cert_decode(buf, len, &d), 0);
	assert_true(cert_eq(c, &d));
	assert_int_equal(d.name[d.name_len], '\0');
	/* the encoding is a function of the fields */
	uint8_t buf2[RN_CERT_ENCODED_MAX];
	size_t len2;
	assert_int_equal(rn_cert_encode(&d, buf2, sizeof buf2, &len2), 0);
	assert_int_equal(len2, len);
	assert_memory_equal(buf, buf2, len);
	/* too small a buffer: TOOBIG at every size */
	for (size_t cap = 0; cap < len; cap++)
		assert_int_equal(rn_cert_encode(c, buf2, cap, &len2),
		                 RN_ERR_TOOBIG);
}

static void test_round_trip(void **state)
{
	(void)state;
	keys k;
	rn_cert c;
	make_keys(&k);

	issue(&k, &c);
	assert_memory_equal(c.group_pk, k.group_pk, RN_SIGN_PK_LEN);
	assert_memory_equal(c.node_pk, k.node_pk, RN_SIGN_PK_LEN);
	assert_int_equal(c.vip_len, 4);
	assert_string_equal(c.name, "alpha-1.lab_x");
	round_trip(&c, 0);
	assert_int_equal(rn_cert_verify(&c, k.group_pk, T0), 0);
	/* the interval is inclusive at both ends */
	assert_int_equal(rn_cert_verify(&c, k.group_pk, T0 - 100), 0);
	assert_int_equal(rn_cert_verify(&c, k.group_pk, T0 + 100), 0);
	assert_int_equal(rn_cert_verify(&c, k.group_pk, T0 - 101),
	                 RN_ERR_CERT_EARLY);
	assert_int_equal(rn_cert_verify(&c, k.group_pk, T0 + 101),
	                 RN_ERR_CERT_EXPIRED);
	assert_int_equal(rn_cert_verify(&c, k.group_pk, 0), RN_ERR_CERT_EARLY);
	assert_int_equal(rn_cert_verify(&c, k.group_pk, UINT64_MAX),
	                 RN_ERR_CERT_EXPIRED);

	/* the signed string, rebuilt by hand: a change to it is a change of
	 * the certificate format */
	uint8_t msg[176], *q = msg;
	memcpy(q, "ringnet cert v1", 15), q += 15;
	memcpy(q, k.group_pk, 32), q += 32;
	memcpy(q, k.node_pk, 32), q += 32;
	*q++ = 4;
	memset(q, 0, 16), memcpy(q, vip4, 4), q += 16;
	*q++ = 13;
	memset(q, 0, 63), memcpy(q, "alpha-1.lab_x", 13), q += 63;
	for (int i = 7; i >= 0; i--)
		*q++ = (uint8_t)((T0 - 100) >> (8 * i));
	for (int i = 7; i >= 0; i--)
		*q++ = (uint8_t)((T0 + 100) >> (8 * i));
	assert_int_equal(q - msg, sizeof msg);
	assert_int_equal(
	    crypto_sign_verify_detached(c.sig, msg, sizeof msg, k.group_pk), 0);

	/* the largest certificate: IPv6, 63-byte name, 64-bit times */
	char name[64];
	memset(name, 'Z', 63);
	name[63] = '\0';
	assert_int_equal(rn_cert_issue(&c, k.group_sk, k.node_pk, vip6, 16,
	                               name, UINT64_MAX - 1, UINT64_MAX),
	                 0);
	round_trip(&c, RN_CERT_ENCODED_MAX - 19); /* a v2 adds range, prefix */
	assert_int_equal(rn_cert_verify(&c, k.group_pk, UINT64_MAX), 0);
	static const uint8_t fd64[16] = {0xfd, 0x00, 0x12, 0x34};
	assert_int_equal(rn_cert_issue_range(&c, k.group_sk, k.node_pk, fd64,
	                                     16, 64, name, UINT64_MAX - 1,
	                                     UINT64_MAX),
	                 0);
	round_trip(&c, RN_CERT_ENCODED_MAX);
	assert_int_equal(rn_cert_verify(&c, k.group_pk, T0), RN_ERR_CERT_EARLY);

	/* a one-second certificate from the epoch */
	assert_int_equal(
	    rn_cert_issue(&c, k.group_sk, k.node_pk, vip6, 16, "e", 0, 0), 0);
	round_trip(&c, 0);
	assert_int_equal(rn_cert_verify(&c, k.group_pk, 0), 0);
	assert_int_equal(rn_cert_verify(&c, k.group_pk, 1),
	                 RN_ERR_CERT_EXPIRED);

	/* signing is deterministic (Ed25519) */
	rn_cert c2;
	assert_int_equal(
	    rn_cert_issue(&c2, k.group_sk, k.node_pk, vip6, 16, "e", 0, 0), 0);
	assert_true(cert_eq(&c, &c2));
}

static void test_issue_refuses(void **state)
{
	(void)state;
	keys k;
	rn_cert c;
	make_keys(&k);
	memset(&c, 0x5a, sizeof c);
	rn_cert before = c;
	assert_int_equal(
	    rn_cert_issue(&c, k.group_sk, k.node_pk, vip4, 5, "a", 0, 1),
	    RN_ERR_INVAL);
	assert_int_equal(
	    rn_cert_issue(&c, k.group_sk, k.node_pk, vip4, 0, "a", 0, 1),
	    RN_ERR_INVAL);
	assert_int_equal(
	    rn_cert_issue(&c, k.group_sk, k.node_pk, vip4, 4, "a", 2, 1),
	    RN_ERR_INVAL);
	assert_int_equal(
	    rn_cert_issue(&c, k.group_sk, k.node_pk, NULL, 4, "a", 0, 1),
	    RN_ERR_INVAL);
	assert_int_equal(
	    rn_cert_issue(&c, k.group_sk, k.node_pk, vip4, 4, NULL, 0, 1),
	    RN_ERR_INVAL);
	/* a node key with no X25519 form could never run a handshake */
	uint8_t small[32] = {1};
	assert_int_equal(
	    rn_cert_issue(&c, k.group_sk, small, vip4, 4, "a", 0, 1),
	    RN_ERR_BADKEY);
	/* a group secret key whose halves disagree */
	uint8_t bad_sk[RN_SIGN_SK_LEN];
	memcpy(bad_sk, k.group_sk, 32);
	memcpy(bad_sk + 32, k.other_pk, 32);
	assert_int_equal(
	    rn_cert_issue(&c, bad_sk, k.node_pk, vip4, 4, "a", 0, 1),
	    RN_ERR_INVAL);
	assert_memory_equal(&c, &before, sizeof c); /* untouched on error */

	/* encode refuses what is not well-formed */
	uint8_t buf[RN_CERT_ENCODED_MAX];
	size_t len;
	issue(&k, &c);
	rn_cert m = c;
	m.vip_len = 5;
	assert_int_equal(rn_cert_encode(&m, buf, sizeof buf, &len),
	                 RN_ERR_INVAL);
	assert_int_equal(rn_cert_verify(&m, k.group_pk, T0), RN_ERR_INVAL);
	assert_int_equal(rn_cert_ring_id(&m, &(rn_id){{0}}), RN_ERR_INVAL);
	m = c;
	m.name_len = 0;
	assert_int_equal(rn_cert_encode(&m, buf, sizeof buf, &len),
	                 RN_ERR_INVAL);
	m = c;
	m.name_len = 64;
	assert_int_equal(rn_cert_encode(&m, buf, sizeof buf, &len),
	                 RN_ERR_INVAL);
	assert_int_equal(rn_cert_verify(&m, k.group_pk, T0), RN_ERR_INVAL);
	m = c;
	m.name[m.name_len] = 'x'; /* not terminated */
	assert_int_equal(rn_cert_encode(&m, buf, sizeof buf, &len),
	                 RN_ERR_INVAL);
	m = c;
	m.not_before = m.not_after + 1;
	assert_int_equal(rn_cert_encode(&m, buf, sizeof buf, &len),
	                 RN_ERR_INVAL);
	assert_int_equal(rn_cert_verify(&m, k.group_pk, T0), RN_ERR_INVAL);
}

/* ---- verification ----------------------------------------------------- */

static void test_wrong_group(void **state)
{
	(void)state;
	keys k;
	rn_cert c;
	make_keys(&k);
	issue(&k, &c);
	assert_int_equal(rn_cert_verify(&c, k.other_pk, T0), RN_ERR_CERT_GROUP);
	/* a member of the other group, relabelled as ours */
	assert_int_equal(rn_cert_issue(&c, k.other_sk, k.node_pk, vip4, 4, "m",
	                               0, UINT64_MAX),
	                 0);
	assert_int_equal(rn_cert_verify(&c, k.other_pk, T0), 0);
	assert_int_equal(rn_cert_verify(&c, k.group_pk, T0), RN_ERR_CERT_GROUP);
	memcpy(c.group_pk, k.group_pk, RN_SIGN_PK_LEN);
	assert_int_equal(rn_cert_verify(&c, k.group_pk, T0), RN_ERR_BADSIG);
	/* self-signed by the node, claiming our group */
	assert_int_equal(rn_cert_issue(&c, k.node_sk, k.node_pk, vip4, 4, "m",
	                               0, UINT64_MAX),
	                 0);
	memcpy(c.group_pk, k.group_pk, RN_SIGN_PK_LEN);
	assert_int_equal(rn_cert_verify(&c, k.group_pk, T0), RN_ERR_BADSIG);
}

/* A bit flipped in a signed field: RN_ERR_INVAL when the struct is no longer
 * well-formed, RN_ERR_CERT_GROUP in the group key, else RN_ERR_BADSIG. */
static int expected_after_flip(const rn_cert *m, int in_group)
{
	int wf = rn_cert_name_valid(m->name, m->name_len) &&
	         m->name[m->name_len] == '\0' && m->not_before <= m->not_after;
	if (!wf)
		return RN_ERR_INVAL;
	return in_group ? RN_ERR_CERT_GROUP : RN_ERR_BADSIG;
}

static void flip_all(const rn_cert *c, const uint8_t *group_pk, void *field,
                     size_t n, int in_group)
{
	rn_cert m = *c;
	uint8_t *p = (uint8_t *)&m + ((uint8_t *)field - (const uint8_t *)c);
	for (size_t bit = 0; bit < 8 * n; bit++) {
		p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		int want = expected_after_flip(&m, in_group);
		int got = rn_cert_verify(&m, group_pk, T0);
		if (got != want)
			fail_msg("bit %zu of a %zu-byte field: got %d (%s), "
			         "want %d",
			         bit, n, got, rn_strerror(got), want);
		p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	assert_int_equal(rn_cert_verify(&m, group_pk, T0), 0);
}

static void test_bit_flips(void **state)
{
	(void)state;
	keys k;
	rn_cert c;
	make_keys(&k);
	for (int v6 = 0; v6 < 2; v6++) {
		assert_int_equal(rn_cert_issue(&c, k.group_sk, k.node_pk,
		                               v6 ? vip6 : vip4, v6 ? 16 : 4,
		                               "n0de_x.y-z", T0 - 1, T0 + 1),
		                 0);
		rn_cert *f = &c;
		flip_all(&c, k.group_pk, f->group_pk, RN_SIGN_PK_LEN, 1);
		flip_all(&c, k.group_pk, f->node_pk, RN_SIGN_PK_LEN, 0);
		flip_all(&c, k.group_pk, f->vip, f->vip_len, 0);
		flip_all(&c, k.group_pk, f->name, f->name_len, 0);
		flip_all(&c, k.group_pk, &f->not_before, 8, 0);
		flip_all(&c, k.group_pk, &f->not_after, 8, 0);
		flip_all(&c, k.group_pk, f->sig, RN_SIG_LEN, 0);
		/* lengths: the other address family, a shorter name */
		rn_cert m = c;
		m.vip_len = v6 ? 4 : 16;
		assert_int_equal(rn_cert_verify(&m, k.group_pk, T0),
		                 RN_ERR_BADSIG);
		m = c;
		m.name[--m.name_len] = '\0';
		assert_int_equal(rn_cert_verify(&m, k.group_pk, T0),
		                 RN_ERR_BADSIG);
		/* bytes past vip_len are not part of the certificate */
		m = c;
		if (!v6) {
			m.vip[5] ^= 1;
			assert_int_equal(rn_cert_verify(&m, k.group_pk, T0), 0);
		}
	}

	/* every bit of the encoding: refused by the decoder or by verify */
	uint8_t buf[RN_CERT_ENCODED_MAX];
	size_t len;
	issue(&k, &c);
	assert_int_equal(rn_cert_encode(&c, buf, sizeof buf, &len), 0);
	for (size_t bit = 0; bit < 8 * len; bit++) {
		rn_cert d;
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		int rc = rn_cert_decode(buf, len, &d);
		if (rc == 0) {
			rc = rn_cert_verify(&d, k.group_pk, T0);
			if (rc == 0)
				assert_true(cert_eq(&c, &d));
		}
		if (rc == 0)
			fail_msg("bit %zu of the encoding accepted", bit);
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
}

/* ---- decoder ---------------------------------------------------------- */

static void test_decode_truncated(void **state)
{
	(void)state;
	keys k;
	rn_cert c, d;
	uint8_t buf[RN_CERT_ENCODED_MAX + 8];
	size_t len;
	make_keys(&k);
	for (int v6 = 0; v6 < 2; v6++) {
		assert_int_equal(rn_cert_issue(&c, k.group_sk, k.node_pk,
		                               v6 ? vip6 : vip4, v6 ? 16 : 4,
		                               "trunc", 0, UINT64_MAX),
		                 0);
		assert_int_equal(rn_cert_encode(&c, buf, sizeof buf, &len), 0);
		for (size_t n = 0; n < len; n++) {
			/* an exact-size copy, so ASan sees any overread */
			uint8_t *p = malloc(n ? n : 1);
			assert_non_null(p);
			memcpy(p, buf, n);
			memset(&d, 0x5a, sizeof d);
			rn_cert before = d;
			int rc = rn_cert_decode(p, n, &d);
			free(p);
			if (rc != RN_ERR_TRUNC && rc != RN_ERR_DEPTH)
				fail_msg("length %zu of %zu: %d", n, len, rc);
			assert_memory_equal(&d, &before, sizeof d);
		}
		/* a trailing byte is not the same message */
		buf[len] = 0xc0;
		assert_int_equal(rn_cert_decode(buf, len + 1, &d),
		                 RN_ERR_PROTO);
		assert_int_equal(rn_cert_decode(buf, len, &d), 0);
	}
	/* longer than any certificate: refused before parsing */
	uint8_t big[RN_CERT_ENCODED_MAX + 1];
	memset(big, 0xc0, sizeof big);
	assert_int_equal(rn_cert_decode(big, sizeof big, &d), RN_ERR_PROTO);
}

/* A hand-written encoder that can spoil one field. */
enum {
	MUT_NONE,
	MUT_NIL,
	MUT_SWAP, /* bin <-> str, integer -> str */
	MUT_SHORT,
	MUT_LONG,
	MUT_NEG,
	MUT_BOOL,
	MUT_FLOAT,
	MUT_ARRAY,
	MUT_MAP,
	MUT_COUNT
};

static void pack_blob(msgpack_packer *pk, const void *p, size_t n, int as_str)
{
	if (as_str) {
		msgpack_pack_str(pk, n);
		msgpack_pack_str_body(pk, p, n);
	} else {
		rn_mp_pack_bin(pk, p, n);
	}
}

static void pack_field(msgpack_packer *pk, const rn_cert *c, int i, int mut)
{
	static const uint8_t pad[80] = {0};
	char name[80];
	const uint8_t *blob = NULL;
	size_t n = 0;
	uint64_t u = 0;
	int is_str = 0;

	switch (mut) {
	case MUT_NIL:
		msgpack_pack_nil(pk);
		return;
	case MUT_NEG:
		msgpack_pack_int64(pk, -1);
		return;
	case MUT_BOOL:
		msgpack_pack_true(pk);
		return;
	case MUT_FLOAT:
		msgpack_pack_double(pk, 1.0);
		return;
	case MUT_ARRAY:
		msgpack_pack_array(pk, 0);
		return;
	case MUT_MAP:
		msgpack_pack_map(pk, 0);
		return;
	default:
		break;
	}
	switch (i) {
	case 0:
		u = RN_CERT_TYPE;
		break;
	case 1:
		u = RN_CERT_VERSION;
		break;
	case 2:
		blob = c->group_pk, n = 32;
		break;
	case 3:
		blob = c->node_pk, n = 32;
		break;
	case 4:
		blob = c->vip, n = c->vip_len;
		break;
	case 5:
		memset(name, 'q', sizeof name);
		memcpy(name, c->name, c->name_len);
		blob = (const uint8_t *)name, n = c->name_len, is_str = 1;
		break;
	case 6:
		u = c->not_before;
		break;
	case 7:
		u = c->not_after;
		break;
	default:
		blob = c->sig, n = 64;
		break;
	}
	if (blob) {
		if (mut == MUT_SHORT)
			n = i == 5 ? 0 : n - 1;
		if (mut == MUT_LONG) {
			n = i == 5 ? RN_CERT_NAME_MAX + 1 : n + 1;
			if (i != 5)
				blob = pad; /* contents do not matter */
		}
		pack_blob(pk, blob, n, mut == MUT_SWAP ? !is_str : is_str);
		return;
	}
	if (mut == MUT_SWAP) {
		pack_blob(pk, "1", 1, 1);
		return;
	}
	/* type and version: the neighbours; times: an inverted interval */
	if (mut != MUT_NONE && i == 6)
		u = c->not_after + 1;
	else if (mut != MUT_NONE && i == 7)
		u = c->not_before - 1;
	else if (mut != MUT_NONE)
		u = mut == MUT_SHORT ? u - 1 : u + 1;
	msgpack_pack_uint64(pk, u);
}

static size_t encode_mut(const rn_cert *c, unsigned n_fields, int field,
                         int mut, uint8_t *buf, size_t cap)
{
	rn_writer w;
	msgpack_packer pk;
	rn_writer_init(&w, buf, cap);
	rn_mp_packer_init(&pk, &w);
	msgpack_pack_array(&pk, n_fields);
	for (unsigned i = 0; i < n_fields; i++)
		pack_field(&pk, c, (int)(i < 9 ? i : 8),
		           (int)i == field ? mut : MUT_NONE);
	assert_int_equal(w.err, 0);
	return w.len;
}

static void test_decode_wrong_fields(void **state)
{
	(void)state;
	keys k;
	rn_cert c, d;
	uint8_t buf[512];
	size_t len;
	make_keys(&k);
	assert_int_equal(
	    rn_cert_issue(&c, k.group_sk, k.node_pk, vip4, 4, "wrong", 10, 20),
	    0);

	/* the hand-written encoder agrees with rn_cert_encode */
	uint8_t ref[RN_CERT_ENCODED_MAX];
	size_t ref_len;
	assert_int_equal(rn_cert_encode(&c, ref, sizeof ref, &ref_len), 0);
	len = encode_mut(&c, 9, -1, MUT_NONE, buf, sizeof buf);
	assert_int_equal(len, ref_len);
	assert_memory_equal(buf, ref, len);

	for (int f = 0; f < 9; f++) {
		for (int mut = MUT_NONE + 1; mut < MUT_COUNT; mut++) {
			len = encode_mut(&c, 9, f, mut, buf, sizeof buf);
			memset(&d, 0x5a, sizeof d);
			rn_cert before = d;
			int rc = rn_cert_decode(buf, len, &d);
			/* version 0 is unknown; version 2 is a range
			 * certificate, which has 11 elements */
			int want = f == 1 && mut == MUT_SHORT ? RN_ERR_VERSION
			                                      : RN_ERR_PROTO;
			if (rc != want)
				fail_msg("field %d mutation %d: got %d want %d",
				         f, mut, rc, want);
			assert_memory_equal(&d, &before, sizeof d);
		}
	}
	/* element counts: 8 and 10 */
	len = encode_mut(&c, 8, -1, MUT_NONE, buf, sizeof buf);
	assert_int_equal(rn_cert_decode(buf, len, &d), RN_ERR_PROTO);
	len = encode_mut(&c, 10, -1, MUT_NONE, buf, sizeof buf);
	assert_int_equal(rn_cert_decode(buf, len, &d), RN_ERR_PROTO);
	/* vip of a length between the two families, or empty */
	rn_cert m = c;
	m.vip_len = 8;
	len = encode_mut(&m, 9, -1, MUT_NONE, buf, sizeof buf);
	assert_int_equal(rn_cert_decode(buf, len, &d), RN_ERR_PROTO);
	m.vip_len = 0;
	len = encode_mut(&m, 9, -1, MUT_NONE, buf, sizeof buf);
	assert_int_equal(rn_cert_decode(buf, len, &d), RN_ERR_PROTO);
	/* names with a bad byte */
	m = c;
	m.name[2] = ' ';
	len = encode_mut(&m, 9, -1, MUT_NONE, buf, sizeof buf);
	assert_int_equal(rn_cert_decode(buf, len, &d), RN_ERR_PROTO);
	m.name[2] = '\0';
	len = encode_mut(&m, 9, -1, MUT_NONE, buf, sizeof buf);
	assert_int_equal(rn_cert_decode(buf, len, &d), RN_ERR_PROTO);
	/* not_before == not_after is fine, one more is not */
	m = c;
	m.not_before = m.not_after;
	len = encode_mut(&m, 9, -1, MUT_NONE, buf, sizeof buf);
	assert_int_equal(rn_cert_decode(buf, len, &d), 0);
	m.not_before = m.not_after + 1;
	len = encode_mut(&m, 9, -1, MUT_NONE, buf, sizeof buf);
	assert_int_equal(rn_cert_decode(buf, len, &d), RN_ERR_PROTO);
	/* not an array, or an overlay message */
	static const uint8_t scalar[] = {0x43};
	assert_int_equal(rn_cert_decode(scalar, 1, &d), RN_ERR_PROTO);
	static const uint8_t map[] = {0x81, 0x00, 0x43};
	assert_int_equal(rn_cert_decode(map, 3, &d), RN_ERR_PROTO);
	static const uint8_t ping[] = {0x93, 0x03, 0x01, 0x05};
	assert_int_equal(rn_cert_decode(ping, sizeof ping, &d), RN_ERR_PROTO);
	static const uint8_t v2[] = {0x92, RN_CERT_TYPE, 0x02};
	assert_int_equal(rn_cert_decode(v2, sizeof v2, &d), RN_ERR_PROTO);
	static const uint8_t v3[] = {0x92, RN_CERT_TYPE, 0x03};
	assert_int_equal(rn_cert_decode(v3, sizeof v3, &d), RN_ERR_VERSION);
	static const uint8_t hostile[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
	assert_int_equal(rn_cert_decode(hostile, sizeof hostile, &d),
	                 RN_ERR_DEPTH);
	assert_int_equal(rn_cert_decode(NULL, 0, &d), RN_ERR_TRUNC);
}

/* Random bytes and mutated encodings: a documented code, or a well-formed
 * certificate that re-encodes to the same fields. */
static void test_decode_random(void **state)
{
	(void)state;
	uint64_t seed = rn_test_seed();
	trng r;
	keys k;
	rn_cert c, d, e;
	uint8_t good[RN_CERT_ENCODED_MAX], in[RN_CERT_ENCODED_MAX + 16];
	uint8_t out[RN_CERT_ENCODED_MAX];
	size_t good_len, out_len;

	trng_init(&r, seed);
	make_keys(&k);
	issue(&k, &c);
	assert_int_equal(rn_cert_encode(&c, good, sizeof good, &good_len), 0);
	unsigned decoded = 0;
	for (uint64_t it = 0; it < ITERS; it++) {
		size_t n;
		if (trng_below(&r, 4) == 0) {
			n = (size_t)trng_below(&r, sizeof in + 1);
			trng_bytes(&r, in, n);
		} else {
			memcpy(in, good, good_len);
			n = good_len;
			unsigned edits = 1 + (unsigned)trng_below(&r, 3);
			for (unsigned i = 0; i < edits; i++)
				in[trng_below(&r, n)] = (uint8_t)trng_u64(&r);
			if (trng_below(&r, 4) == 0)
				n = (size_t)trng_below(&r, n + 1);
		}
		int rc = rn_cert_decode(in, n, &d);
		PCHECK(rc == 0 || rc == RN_ERR_TRUNC || rc == RN_ERR_DEPTH ||
		           rc == RN_ERR_PROTO || rc == RN_ERR_VERSION,
		       seed, it);
		if (rc)
			continue;
		decoded++;
		PCHECK(d.vip_len == 4 || d.vip_len == 16, seed, it);
		PCHECK(rn_cert_name_valid(d.name, d.name_len), seed, it);
		PCHECK(d.name[d.name_len] == '\0', seed, it);
		PCHECK(d.not_before <= d.not_after, seed, it);
		PCHECK(rn_cert_encode(&d, out, sizeof out, &out_len) == 0, seed,
		       it);
		PCHECK(rn_cert_decode(out, out_len, &e) == 0, seed, it);
		PCHECK(cert_eq(&d, &e), seed, it);
		rc = rn_cert_verify(&d, k.group_pk, T0);
		PCHECK(rc == 0 || rc == RN_ERR_CERT_GROUP ||
		           rc == RN_ERR_BADSIG,
		       seed, it);
		PCHECK(rc != 0 || cert_eq(&c, &d), seed, it);
	}
	/* some mutations (of the signature, say) must still decode */
	assert_true(decoded > 100);
}

/* ---- ring id ---------------------------------------------------------- */

static void test_ring_id(void **state)
{
	(void)state;
	keys k;
	rn_cert c;
	rn_id id, want;
	uint8_t gid[32], cat[48], h[RN_ID_LEN];
	make_keys(&k);
	rn_group_id(gid, k.group_pk);
	for (int v6 = 0; v6 < 2; v6++) {
		const uint8_t *vip = v6 ? vip6 : vip4;
		size_t vl = v6 ? 16 : 4;
		assert_int_equal(rn_cert_issue(&c, k.group_sk, k.node_pk, vip,
		                               vl, "ring", 0, 1),
		                 0);
		assert_int_equal(rn_cert_ring_id(&c, &id), 0);
		/* as overlay/node.c computes a node's id */
		rn_id_hash(&want, gid, 32, vip, vl, NULL, 0);
		assert_memory_equal(id.b, want.b, RN_ID_LEN);
		/* and as DESIGN.md states it: BLAKE2b-160(group_id || vip) */
		memcpy(cat, gid, 32);
		memcpy(cat + 32, vip, vl);
		crypto_generichash(h, sizeof h, cat, 32 + vl, NULL, 0);
		assert_memory_equal(id.b, h, RN_ID_LEN);
	}
	/* another group, same address: another id */
	rn_id other;
	assert_int_equal(
	    rn_cert_issue(&c, k.other_sk, k.node_pk, vip6, 16, "ring", 0, 1),
	    0);
	assert_int_equal(rn_cert_ring_id(&c, &other), 0);
	assert_memory_not_equal(other.b, id.b, RN_ID_LEN);
}

static void test_strerror(void **state)
{
	(void)state;
	const int codes[] = {RN_ERR_CERT_GROUP, RN_ERR_CERT_EARLY,
	                     RN_ERR_CERT_EXPIRED, RN_ERR_BADSIG, RN_ERR_BADKEY};
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		assert_string_not_equal(rn_strerror(codes[i]), "unknown error");
		for (size_t j = 0; j < i; j++)
			assert_int_not_equal(codes[i], codes[j]);
	}
}

/* ---- range certificates (version 2) ------------------------------------ */

static const uint8_t net4[4] = {10, 77, 0, 0};  /* /16 */
static const uint8_t net6[16] = {0xfd, 0x00, 0x12, 0x34, 0, 0, 0, 0,
                                 0,    0,    0,    0,    0, 0, 0, 0}; /* /64 */

static void issue_range(const keys *k, rn_cert *c, const uint8_t *net,
                        size_t len, unsigned prefix)
{
	assert_int_equal(rn_cert_issue_range(c, k->group_sk, k->node_pk, net,
	                                     len, prefix, "ranger", T0 - 100,
	                                     T0 + 100),
	                 0);
}

static void test_range(void **state)
{
	(void)state;
	keys k;
	rn_cert c, f;
	rn_id a, b;
	make_keys(&k);
	issue_range(&k, &c, net4, 4, 16);
	assert_true(rn_cert_is_range(&c));
	assert_int_equal(c.prefix_len, 16);
	assert_memory_equal(c.vip, net4, 4);
	assert_int_equal(rn_cert_verify(&c, k.group_pk, T0), 0);
	round_trip(&c, 0);

	/* unbound: the ring id comes from the node key, not from an address */
	assert_false(rn_cert_is_bound(&c));
	assert_int_equal(rn_cert_ring_id(&c, &a), 0);
	{
		uint8_t gid[RN_GROUP_ID_LEN], h[RN_ID_LEN];
		uint8_t in[RN_GROUP_ID_LEN + RN_SIGN_PK_LEN];
		rn_group_id(gid, k.group_pk);
		memcpy(in, gid, sizeof gid);
		memcpy(in + sizeof gid, k.node_pk, RN_SIGN_PK_LEN);
		crypto_generichash(h, sizeof h, in, sizeof in, NULL, 0);
		assert_memory_equal(a.b, h, RN_ID_LEN);
	}
	/* the first address is the unbound one: no binding to it */
	assert_int_equal(rn_cert_bind(&c, net4, 4), RN_ERR_INVAL);

	/* binding: inside the range verifies and moves the ring id */
	assert_true(rn_cert_in_range(&c, vip4, 4));
	assert_int_equal(rn_cert_bind(&c, vip4, 4), 0);
	assert_true(rn_cert_is_bound(&c));
	assert_memory_equal(c.vip, vip4, 4);
	assert_int_equal(rn_cert_verify(&c, k.group_pk, T0), 0);
	assert_int_equal(rn_cert_ring_id(&c, &b), 0);
	assert_int_not_equal(rn_id_cmp(&a, &b), 0);
	issue(&k, &f); /* the fixed certificate of the same address */
	assert_int_equal(rn_cert_ring_id(&f, &a), 0);
	assert_int_equal(rn_id_cmp(&a, &b), 0);
	round_trip(&c, 0);

	/* outside the range, the wrong family, a fixed certificate: refused */
	const uint8_t out4[4] = {10, 78, 0, 5};
	assert_false(rn_cert_in_range(&c, out4, 4));
	assert_int_equal(rn_cert_bind(&c, out4, 4), RN_ERR_INVAL);
	assert_int_equal(rn_cert_bind(&c, vip6, 16), RN_ERR_INVAL);
	assert_memory_equal(c.vip, vip4, 4);
	assert_int_equal(rn_cert_bind(&f, vip4, 4), RN_ERR_INVAL);
	assert_true(rn_cert_in_range(&f, vip4, 4));
	assert_false(rn_cert_in_range(&f, out4, 4));

	/* a vip moved out of the range by hand is malformed, not forged */
	rn_cert m = c;
	memcpy(m.vip, out4, 4);
	assert_int_equal(rn_cert_verify(&m, k.group_pk, T0), RN_ERR_INVAL);
	uint8_t buf[RN_CERT_ENCODED_MAX];
	size_t len;
	assert_int_equal(rn_cert_encode(&m, buf, sizeof buf, &len),
	                 RN_ERR_INVAL);
	/* the group signed the range and its length */
	m = c;
	m.prefix_len = 17; /* 10.77.0.0/17 holds the vip too */
	assert_int_equal(rn_cert_verify(&m, k.group_pk, T0), RN_ERR_BADSIG);
	m = c;
	m.prefix_len = 24;
	m.range[2] = 0; /* 10.77.0.0/24 still holds 10.77.0.5 */
	assert_int_equal(rn_cert_verify(&m, k.group_pk, T0), RN_ERR_BADSIG);
	m = c;
	m.prefix_len = 0; /* dressed up as the fixed 10.77.0.5 */
	assert_int_equal(rn_cert_verify(&m, k.group_pk, T0), RN_ERR_BADSIG);
	m = c;
	m.range[1] = 76; /* 10.76/16 no longer holds the vip */
	assert_int_equal(rn_cert_verify(&m, k.group_pk, T0), RN_ERR_INVAL);
	m.vip[1] = 76;
	assert_int_equal(rn_cert_verify(&m, k.group_pk, T0), RN_ERR_BADSIG);

	/* IPv6 */
	issue_range(&k, &c, net6, 16, 64);
	assert_int_equal(rn_cert_bind(&c, vip6, 16), 0);
	assert_int_equal(rn_cert_verify(&c, k.group_pk, T0), 0);
	round_trip(&c, 0);

	/* issue refuses host bits, no prefix, a full prefix, odd lengths */
	const uint8_t host4[4] = {10, 77, 0, 1};
	assert_int_equal(rn_cert_issue_range(&c, k.group_sk, k.node_pk, host4,
	                                     4, 16, "x", 0, 1),
	                 RN_ERR_INVAL);
	assert_int_equal(rn_cert_issue_range(&c, k.group_sk, k.node_pk, net4,
	                                     4, 0, "x", 0, 1),
	                 RN_ERR_INVAL);
	assert_int_equal(rn_cert_issue_range(&c, k.group_sk, k.node_pk, host4,
	                                     4, 32, "x", 0, 1),
	                 RN_ERR_INVAL);
	assert_int_equal(rn_cert_issue_range(&c, k.group_sk, k.node_pk, net4,
	                                     8, 16, "x", 0, 1),
	                 RN_ERR_INVAL);
	assert_int_equal(rn_cert_issue_range(&c, k.group_sk, k.node_pk, host4,
	                                     4, 31, "x", 0, 1),
	                 RN_ERR_INVAL);
	/* a range has four addresses or more: its first is the unbound one */
	const uint8_t net31[4] = {10, 77, 0, 4};
	assert_int_equal(rn_cert_issue_range(&c, k.group_sk, k.node_pk, net31,
	                                     4, 31, "x", 0, 1),
	                 RN_ERR_INVAL);
	assert_int_equal(rn_cert_issue_range(&c, k.group_sk, k.node_pk, net31,
	                                     4, 30, "x", 0, 1),
	                 0);
	assert_int_equal(rn_cert_issue_range(&c, k.group_sk, k.node_pk, net6,
	                                     16, 127, "x", 0, 1),
	                 RN_ERR_INVAL);
	assert_int_equal(rn_cert_issue_range(&c, k.group_sk, k.node_pk, net6,
	                                     16, 126, "x", 0, 1),
	                 0);
}

/* A v2 array from the fields, with range, prefix and vip as given. */
static size_t encode_v2(const rn_cert *c, const uint8_t *range,
                        size_t range_len, uint64_t prefix, const uint8_t *vip,
                        size_t vip_len, uint8_t *buf, size_t cap)
{
	rn_writer w;
	msgpack_packer pk;
	rn_writer_init(&w, buf, cap);
	rn_mp_packer_init(&pk, &w);
	msgpack_pack_array(&pk, 11);
	msgpack_pack_uint8(&pk, RN_CERT_TYPE);
	msgpack_pack_uint8(&pk, RN_CERT_VERSION_RANGE);
	rn_mp_pack_bin(&pk, c->group_pk, 32);
	rn_mp_pack_bin(&pk, c->node_pk, 32);
	rn_mp_pack_bin(&pk, range, range_len);
	msgpack_pack_uint64(&pk, prefix);
	rn_mp_pack_bin(&pk, vip, vip_len);
	msgpack_pack_str(&pk, c->name_len);
	msgpack_pack_str_body(&pk, c->name, c->name_len);
	msgpack_pack_uint64(&pk, c->not_before);
	msgpack_pack_uint64(&pk, c->not_after);
	rn_mp_pack_bin(&pk, c->sig, RN_SIG_LEN);
	assert_int_equal(w.err, 0);
	return w.len;
}

static void test_range_decode(void **state)
{
	(void)state;
	keys k;
	rn_cert c, d;
	uint8_t buf[512], ref[RN_CERT_ENCODED_MAX];
	size_t len, ref_len;
	make_keys(&k);
	issue_range(&k, &c, net4, 4, 16);
	assert_int_equal(rn_cert_bind(&c, vip4, 4), 0);
	assert_int_equal(rn_cert_encode(&c, ref, sizeof ref, &ref_len), 0);
	len = encode_v2(&c, net4, 4, 16, vip4, 4, buf, sizeof buf);
	assert_int_equal(len, ref_len);
	assert_memory_equal(buf, ref, len);
	assert_int_equal(rn_cert_decode(buf, len, &d), 0);
	assert_true(cert_eq(&c, &d));

	const uint8_t out4[4] = {10, 78, 0, 5}, host4[4] = {10, 77, 0, 1};
	struct {
		const uint8_t *range;
		size_t range_len;
		uint64_t prefix;
		const uint8_t *vip;
		size_t vip_len;
	} bad[] = {
	    {net4, 4, 16, out4, 4},  /* vip outside the range */
	    {host4, 4, 16, vip4, 4}, /* host bits in the range */
	    {net4, 4, 0, vip4, 4},   /* no prefix */
	    {net4, 4, 32, vip4, 4},  /* a full prefix: that is a v1 */
	    {net4, 4, 300, vip4, 4}, /* past a byte */
	    {net6, 16, 16, vip4, 4}, /* families differ */
	    {net4, 4, 16, vip6, 16},
	    {net4, 3, 16, vip4, 4}, /* lengths */
	    {net4, 4, 16, vip4, 3},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		len = encode_v2(&c, bad[i].range, bad[i].range_len,
		                bad[i].prefix, bad[i].vip, bad[i].vip_len, buf,
		                sizeof buf);
		memset(&d, 0x5a, sizeof d);
		rn_cert before = d;
		int rc = rn_cert_decode(buf, len, &d);
		if (rc != RN_ERR_PROTO)
			fail_msg("bad v2 %zu: got %d", i, rc);
		assert_memory_equal(&d, &before, sizeof d);
	}
	/* a v2 of 9 elements (a v1's shape) */
	issue(&k, &d);
	assert_int_equal(rn_cert_encode(&d, ref, sizeof ref, &ref_len), 0);
	ref[2] = RN_CERT_VERSION_RANGE; /* [0x99, 0x43, version, ...] */
	assert_int_equal(rn_cert_decode(ref, ref_len, &d), RN_ERR_PROTO);
}

/* The number of candidates of attempts 0..n-1 that are in use[] already. */
static void test_pick(void **state)
{
	(void)state;
	keys k;
	rn_cert c;
	uint8_t v[RN_CERT_VIP_MAX], w[RN_CERT_VIP_MAX];
	make_keys(&k);

	/* a /30: only .1 and .2, both of them within a few attempts */
	const uint8_t net30[4] = {10, 77, 0, 8};
	issue_range(&k, &c, net30, 4, 30);
	int seen[4] = {0};
	for (uint32_t a = 0; a < 64; a++) {
		assert_int_equal(rn_cert_pick(&c, a, v), 0);
		assert_memory_equal(v, net30, 3);
		assert_int_equal(v[3] & ~3, 8);
		seen[v[3] & 3]++;
		assert_true(rn_cert_in_range(&c, v, 4));
	}
	assert_int_equal(seen[0] + seen[3], 0);
	assert_true(seen[1] > 0 && seen[2] > 0);


	/* a /16: in range, never .0.0 or .255.255, the same sequence for the
	 * same key, and spread (distinct over a few hundred attempts) */
	issue_range(&k, &c, net4, 4, 16);
	unsigned distinct = 0;
	static uint8_t hit[65536];
	memset(hit, 0, sizeof hit);
	for (uint32_t a = 0; a < 300; a++) {
		assert_int_equal(rn_cert_pick(&c, a, v), 0);
		assert_int_equal(rn_cert_pick(&c, a, w), 0);
		assert_memory_equal(v, w, 4);
		assert_true(rn_cert_in_range(&c, v, 4));
		unsigned host = (unsigned)v[2] << 8 | v[3];
		assert_true(host != 0 && host != 0xffff);
		distinct += !hit[host];
		hit[host] = 1;
	}
	assert_true(distinct >= 295);
	/* another member's key: another sequence */
	rn_cert o;
	uint8_t seed[RN_KEY_SEED_LEN], pk[RN_SIGN_PK_LEN], sk[RN_SIGN_SK_LEN];
	memset(seed, 0x44, sizeof seed);
	assert_int_equal(rn_nodekey_keypair(pk, sk, seed), 0);
	assert_int_equal(rn_cert_issue_range(&o, k.group_sk, pk, net4, 4, 16,
	                                     "other", 0, 1),
	                 0);
	assert_int_equal(rn_cert_pick(&c, 0, v), 0);
	assert_int_equal(rn_cert_pick(&o, 0, w), 0);
	assert_memory_not_equal(v, w, 4);

	/* IPv6 /64: in range, host part not all zeros */
	issue_range(&k, &c, net6, 16, 64);
	for (uint32_t a = 0; a < 100; a++) {
		assert_int_equal(rn_cert_pick(&c, a, v), 0);
		assert_true(rn_cert_in_range(&c, v, 16));
		static const uint8_t z[8];
		assert_memory_not_equal(v + 8, z, 8);
	}
	/* a fixed certificate has nothing to pick */
	issue(&k, &c);
	assert_int_equal(rn_cert_pick(&c, 0, v), RN_ERR_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_issue_refuses),
	    cmocka_unit_test(test_wrong_group),
	    cmocka_unit_test(test_bit_flips),
	    cmocka_unit_test(test_decode_truncated),
	    cmocka_unit_test(test_decode_wrong_fields),
	    cmocka_unit_test(test_decode_random),
	    cmocka_unit_test(test_ring_id),
	    cmocka_unit_test(test_range),
	    cmocka_unit_test(test_range_decode),
	    cmocka_unit_test(test_pick),
	    cmocka_unit_test(test_strerror),
	};
	if (sodium_init() < 0)
		return 1;
	printf("# RN_TEST_SEED=%llu\n", (unsigned long long)rn_test_seed());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
