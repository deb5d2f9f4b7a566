/* Fuzz target: rn_rec_decode and rn_member_decode (dht/record.c,
 * dht/member.c), the DHT's records and the value of a member record.
 *
 * Any bytes either fail with a documented decoder code or decode to a
 * well-formed record (the form rn_rec_check calls well-formed: a valid
 * NUL-terminated namespace, a key of 1..RN_REC_KEY_MAX bytes, known flags
 * and not EXCL with REPLACE, created <= ts < expires; a signature exactly
 * when there is a certificate) that re-encodes within RN_REC_ENCODED_MAX
 * and decodes again to the same fields. rn_rec_check then runs under two
 * fixed policies, the crypto-real one (the seeds' group key, at a fixed
 * time) and the crypto-none one, and must answer with its documented codes
 * only; never RN_ERR_INVAL (a decoded record is well-formed), the same
 * RN_ERR_EXPIRED verdict under both (the lease comes before the
 * certificate), and 0 without crypto whenever it is 0 with it (the
 * crypto-none check is a subset). libFuzzer cannot forge a signature, so
 * the namespace rules under the crypto-real policy are reached only by the
 * seeds (gen_corpus.c signs them with that group's members' keys); the
 * crypto-none policy reaches them from any input.
 *
 * rn_member_decode runs on the decoded record's value and on the raw
 * input: it answers 0 or RN_ERR_PROTO, and what it accepts re-encodes to
 * the same bytes. Both inputs are handed over in heap buffers of exactly
 * their length, so that ASan sees a read past the end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>
#include <sodium.h>

#include "core/cert.h"
#include "core/err.h"
#include "dht/member.h"
#include "dht/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Must match gen_corpus.c: the group key (the one the certificate seeds
 * are signed with), the time and the policy's limits (dht.c's defaults). */
#define FZ_DHT_GROUP_SEED_BYTE 0x47
#define FZ_DHT_NOW_MS 1700000000000ull
#define FZ_DHT_TTL_MAX_MS 86400000ull
#define FZ_DHT_SKEW_MS 120000ull

static uint8_t group_pk[RN_SIGN_PK_LEN], group_id[RN_GROUP_ID_LEN];

static void init_group(void)
{
	static int done;
	uint8_t seed[RN_KEY_SEED_LEN], sk[RN_SIGN_SK_LEN];
	if (done)
		return;
	if (sodium_init() < 0)
		abort();
	memset(seed, FZ_DHT_GROUP_SEED_BYTE, sizeof seed);
	if (rn_group_keypair(group_pk, sk, seed) != 0)
		abort();
	rn_group_id(group_id, group_pk);
	done = 1;
}

static int same_cert(const rn_cert *a, const rn_cert *b)
{
	return !memcmp(a->group_pk, b->group_pk, sizeof a->group_pk) &&
	       !memcmp(a->node_pk, b->node_pk, sizeof a->node_pk) &&
	       a->vip_len == b->vip_len &&
	       !memcmp(a->vip, b->vip, a->vip_len) &&
	       a->name_len == b->name_len &&
	       !memcmp(a->name, b->name, a->name_len) &&
	       a->not_before == b->not_before && a->not_after == b->not_after &&
	       !memcmp(a->sig, b->sig, sizeof a->sig);
}

static int same_rec(const rn_rec *a, const rn_rec *b)
{
	return a->ns_len == b->ns_len && !memcmp(a->ns, b->ns, a->ns_len) &&
	       a->key_len == b->key_len &&
	       !memcmp(a->key, b->key, a->key_len) &&
	       a->value_len == b->value_len &&
	       !memcmp(a->value, b->value, a->value_len) &&
	       !memcmp(a->writer, b->writer, sizeof a->writer) &&
	       a->created == b->created && a->ts == b->ts &&
	       a->expires == b->expires && a->flags == b->flags &&
	       a->has_cert == b->has_cert &&
	       (!a->has_cert || same_cert(&a->cert, &b->cert)) &&
	       !memcmp(a->sig, b->sig, sizeof a->sig);
}

/* What the decoder promises (record.c's well_formed, and the signature
 * that goes with a certificate). */
static int rec_ok(const rn_rec *r)
{
	static const uint8_t zero[RN_SIG_LEN];
	if (r->ns_len < 1 || r->ns_len > RN_REC_NS_MAX ||
	    r->ns[r->ns_len] != '\0' || strlen(r->ns) != r->ns_len ||
	    !rn_rec_ns_ok(r->ns, r->ns_len))
		return 0;
	if (r->key_len < 1 || r->key_len > RN_REC_KEY_MAX ||
	    r->value_len > RN_REC_VALUE_MAX)
		return 0;
	if ((r->flags & ~RN_REC_FLAGS_ALL) != 0 ||
	    ((r->flags & RN_REC_EXCL) && (r->flags & RN_REC_REPLACE)))
		return 0;
	if (!(r->created <= r->ts && r->ts < r->expires))
		return 0;
	if (r->has_cert > 1 ||
	    (!r->has_cert && memcmp(r->sig, zero, sizeof zero) != 0))
		return 0;
	return 1;
}

/* rn_member_decode on an exact-size copy of p[0..n). */
static void check_member(const uint8_t *p, size_t n)
{
	rn_member m;
	uint8_t out[RN_MEMBER_VALUE_MAX];
	size_t len = 0;
	uint8_t *in = malloc(n ? n : 1);
	if (!in)
		return;
	if (n)
		memcpy(in, p, n);
	int rc = rn_member_decode(in, n, &m);
	if (rc != 0 && rc != RN_ERR_PROTO)
		abort();
	if (rc == 0) {
		if (m.n > RN_MEMBER_EPS_MAX ||
		    (size_t)m.n * RN_MEMBER_ENTRY_LEN != n)
			abort();
		if (rn_member_encode(&m, out, sizeof out, &len) != 0 ||
		    len != n || (n && memcmp(out, in, n) != 0))
			abort();
	}
	free(in);
}

static int check_code_ok(int rc, int require_cert)
{
	switch (rc) {
	case 0:
	case RN_ERR_INVAL:
	case RN_ERR_EXPIRED:
	case RN_ERR_PERM:
		return 1;
	case RN_ERR_BADSIG:
	case RN_ERR_CERT_GROUP:
	case RN_ERR_CERT_EARLY:
	case RN_ERR_CERT_EXPIRED:
		return require_cert;
	default:
		return 0;
	}
}

static void check_policies(const rn_rec *r)
{
	rn_rec_policy real, none;
	real.group_id = group_id;
	real.group_pk = group_pk;
	real.ttl_max_ms = FZ_DHT_TTL_MAX_MS;
	real.skew_ms = FZ_DHT_SKEW_MS;
	real.require_cert = 1;
	none = real;
	none.require_cert = 0;
	int cr = rn_rec_check(r, &real, FZ_DHT_NOW_MS);
	int cn = rn_rec_check(r, &none, FZ_DHT_NOW_MS);
	if (!check_code_ok(cr, 1) || !check_code_ok(cn, 0))
		abort();
	if (cr == RN_ERR_INVAL || cn == RN_ERR_INVAL)
		abort();
	if ((cr == RN_ERR_EXPIRED) != (cn == RN_ERR_EXPIRED))
		abort();
	if (cr == 0 && cn != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	msgpack_zone zone;
	rn_rec r, r2;
	uint8_t out[RN_REC_ENCODED_MAX];
	size_t len = 0;

	init_group();
	if (!msgpack_zone_init(&zone, 4096))
		return 0;
	/* An exact-size copy, so that a read past the end is caught even
	 * when the harness hands a slice. */
	uint8_t *in = malloc(size ? size : 1);
	if (!in) {
		msgpack_zone_destroy(&zone);
		return 0;
	}
	if (size)
		memcpy(in, data, size);
	int rc = rn_rec_decode(&zone, in, size, &r);
	if (rc != 0 && rc != RN_ERR_TRUNC && rc != RN_ERR_PROTO &&
	    rc != RN_ERR_DEPTH && rc != RN_ERR_VERSION && rc != RN_ERR_NOMEM)
		abort();
	if (rc == 0) {
		if (!rec_ok(&r))
			abort();
		if (rn_rec_encode(&r, out, sizeof out, &len) != 0 ||
		    len > RN_REC_ENCODED_MAX)
			abort();
		if (rn_rec_decode(&zone, out, len, &r2) != 0 ||
		    !same_rec(&r, &r2))
			abort();
		rn_id id;
		rn_rec_key_id(&id, group_id, r.ns, r.ns_len, r.key, r.key_len);
		check_policies(&r);
		check_member(r.value, r.value_len);
	}
	check_member(in, size);
	free(in);
	msgpack_zone_destroy(&zone);
	return 0;
}
