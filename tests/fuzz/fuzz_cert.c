/* Fuzz target: rn_cert_decode (core/cert.c).
 *
 * Any bytes either fail with a documented decoder code or decode to a
 * well-formed certificate (vip of 4 or 16 bytes, a valid NUL-terminated
 * name, not_before <= not_after; for a range, a prefix shorter than the
 * address with no host bits in the range and the vip inside) that
 * re-encodes within
 * RN_CERT_ENCODED_MAX and decodes again to the same fields. Verification
 * of a decoded certificate against a fixed group key must answer with one
 * of its documented codes; libFuzzer cannot forge a signature, so the
 * checks behind it (the validity interval) are reached only by the seeds.
 * The group key is the one gen_corpus.c signs the seeds with.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/cert.h"
#include "core/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Must match gen_corpus.c. */
#define FZ_CERT_GROUP_SEED_BYTE 0x47

static int same_cert(const rn_cert *a, const rn_cert *b)
{
	return !memcmp(a->group_pk, b->group_pk, sizeof a->group_pk) &&
	       !memcmp(a->node_pk, b->node_pk, sizeof a->node_pk) &&
	       a->vip_len == b->vip_len &&
	       !memcmp(a->vip, b->vip, a->vip_len) &&
	       a->prefix_len == b->prefix_len &&
	       (!a->prefix_len || !memcmp(a->range, b->range, a->vip_len)) &&
	       a->name_len == b->name_len &&
	       !memcmp(a->name, b->name, a->name_len) &&
	       a->not_before == b->not_before && a->not_after == b->not_after &&
	       !memcmp(a->sig, b->sig, sizeof a->sig);
}

static int name_ok(const rn_cert *c)
{
	if (c->name_len < 1 || c->name_len > RN_CERT_NAME_MAX ||
	    c->name[c->name_len] != '\0' ||
	    !rn_cert_name_valid(c->name, c->name_len))
		return 0;
	return strlen(c->name) == c->name_len;
}

/* No bit of the range is set past its prefix. */
static int range_ok(const rn_cert *c)
{
	for (unsigned bit = c->prefix_len; bit < 8u * c->vip_len; bit++)
		if (c->range[bit / 8] & (0x80u >> (bit % 8)))
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rn_cert c, c2;
	uint8_t out[RN_CERT_ENCODED_MAX];
	uint8_t seed[RN_KEY_SEED_LEN], gpk[RN_SIGN_PK_LEN], gsk[RN_SIGN_SK_LEN];
	size_t len;

	if (sodium_init() < 0)
		abort();
	/* An exact-size copy, so that a read past the end is caught even
	 * when the harness hands a slice. */
	uint8_t *in = malloc(size ? size : 1);
	if (!in)
		return 0;
	if (size)
		memcpy(in, data, size);
	int rc = rn_cert_decode(in, size, &c);
	if (rc != 0 && rc != RN_ERR_TRUNC && rc != RN_ERR_PROTO &&
	    rc != RN_ERR_DEPTH && rc != RN_ERR_VERSION && rc != RN_ERR_NOMEM)
		abort();
	if (rc == 0) {
		if ((c.vip_len != 4 && c.vip_len != 16) || !name_ok(&c) ||
		    c.not_before > c.not_after)
			abort();
		if (c.prefix_len &&
		    (c.prefix_len >= 8 * c.vip_len || !range_ok(&c) ||
		     !rn_cert_in_range(&c, c.vip, c.vip_len)))
			abort();
		if (rn_cert_encode(&c, out, sizeof out, &len) != 0 ||
		    len > RN_CERT_ENCODED_MAX)
			abort();
		if (rn_cert_decode(out, len, &c2) != 0 || !same_cert(&c, &c2))
			abort();
		rn_id id;
		if (rn_cert_ring_id(&c, &id) != 0)
			abort();
		memset(seed, FZ_CERT_GROUP_SEED_BYTE, sizeof seed);
		if (rn_group_keypair(gpk, gsk, seed) != 0)
			abort();
		int v = rn_cert_verify(&c, gpk, 1700000000u);
		if (v != 0 && v != RN_ERR_CERT_GROUP && v != RN_ERR_BADSIG &&
		    v != RN_ERR_CERT_EARLY && v != RN_ERR_CERT_EXPIRED)
			abort();
	}
	free(in);
	return 0;
}
