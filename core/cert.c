/* Group keys, node keys and member certificates (see cert.h).
 *
 * What is signed. The group key signs a fixed-size canonical string, built
 * with rn_writer and never parsed:
 *
 *   "ringnet cert v1" (15 bytes, the domain separator)
 *   group_pk (32) | node_pk (32)
 *   vip_len (1)   | vip, zero-padded to 16
 *   name_len (1)  | name, zero-padded to 63
 *   not_before (8, big-endian) | not_after (8, big-endian)   = 176 bytes
 *
 * A range certificate (version 2) signs "ringnet cert v2" and, in place of
 * the vip, the range padded to 16 and then its prefix length (1 byte):
 * 177 bytes. The address its holder uses is not signed by the group (see
 * cert.h); a fixed certificate signs exactly the version 1 string, so
 * every certificate issued before ranges existed still verifies.
 *
 * Every field has a fixed position and an explicit length, so no two
 * different certificates share a string, and the msgpack encoding (which
 * allows several forms of the same integer) plays no part in it.
 *
 * Invariant of a well-formed rn_cert (issue and decode make only these;
 * encode and verify refuse others with RN_ERR_INVAL): vip_len is 4 or 16,
 * name is 1..63 bytes of [A-Za-z0-9._-] followed by a NUL,
 * not_before <= not_after; prefix_len is 0 (fixed: range unused), or
 * 1..8 * vip_len - 2 (four addresses or more) with no host bits in range
 * and vip inside it; vip == range means not bound yet.
 *
 * Verification order: the group key first (cheap, and it picks the key),
 * then the signature, then the validity interval. The times come from the
 * certificate, so "expired" or "not yet valid" is only a true statement
 * about an authentic one; checking them first would save no work against a
 * forger, who can always write valid-looking times.
 *
 * Decoding unpacks into a zone of its own (one small allocation, freed
 * before returning), so it never disturbs a zone the caller is using for
 * the message that carried the certificate.
 */
#include "cert.h"

#include <msgpack.h>
#include <sodium.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "mp.h"

#define GROUP_ID_PREFIX "ringnet group id v1"
#define CERT_PREFIX     "ringnet cert v1"
#define CERT_PREFIX_V2  "ringnet cert v2"
#define CERT_PREFIX_LEN (sizeof CERT_PREFIX - 1)
#define SIGNED_LEN                                                             \
	(CERT_PREFIX_LEN + 2 * RN_SIGN_PK_LEN + 1 + RN_CERT_VIP_MAX + 1 +      \
	 RN_CERT_NAME_MAX + 8 + 8)
#define SIGNED_MAX  (SIGNED_LEN + 1) /* a range adds its prefix length */
#define CERT_FIELDS 9
#define CERT_FIELDS_V2 11
#define ZONE_CHUNK  512 /* the array of 11 objects; bins point into input */
#define CLAIM_PREFIX "ringnet claim v1"

_Static_assert(RN_SIGN_PK_LEN == crypto_sign_PUBLICKEYBYTES, "pk size");
_Static_assert(RN_SIGN_SK_LEN == crypto_sign_SECRETKEYBYTES, "sk size");
_Static_assert(RN_KEY_SEED_LEN == crypto_sign_SEEDBYTES, "seed size");
_Static_assert(RN_SIG_LEN == crypto_sign_BYTES, "signature size");
_Static_assert(RN_X25519_LEN == crypto_scalarmult_BYTES, "x25519 size");
_Static_assert(SIGNED_LEN == 176, "canonical certificate string");
_Static_assert(sizeof CERT_PREFIX == sizeof CERT_PREFIX_V2, "same domains");
/* array(1) type(1) version(1) 2 x bin8 32 (34) bin8 16 (18) str8 63 (65)
 * 2 x uint64 (9) bin8 64 (66); RN_CERT_TYPE and the version are fixints.
 * A v2 adds a second bin8 16 (18) and the prefix length, a fixint below
 * 128 (1). */
_Static_assert(RN_CERT_ENCODED_MAX ==
                   1 + 1 + 1 + 2 * 34 + 18 + 65 + 2 * 9 + 66 + 18 + 1,
               "largest certificate encoding");
_Static_assert(RN_CERT_TYPE < 128 && RN_CERT_VERSION_RANGE < 128, "fixints");

int rn_group_keypair(uint8_t pk[RN_SIGN_PK_LEN], uint8_t sk[RN_SIGN_SK_LEN],
                     const uint8_t seed[RN_KEY_SEED_LEN])
{
	return crypto_sign_seed_keypair(pk, sk, seed) ? RN_ERR_INVAL : 0;
}

void rn_group_id(uint8_t out[RN_GROUP_ID_LEN],
                 const uint8_t group_pk[RN_SIGN_PK_LEN])
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, RN_GROUP_ID_LEN);
	crypto_generichash_update(&st, (const uint8_t *)GROUP_ID_PREFIX,
	                          sizeof GROUP_ID_PREFIX - 1);
	crypto_generichash_update(&st, group_pk, RN_SIGN_PK_LEN);
	crypto_generichash_final(&st, out, RN_GROUP_ID_LEN);
}

int rn_nodekey_keypair(uint8_t pk[RN_SIGN_PK_LEN], uint8_t sk[RN_SIGN_SK_LEN],
                       const uint8_t seed[RN_KEY_SEED_LEN])
{
	return crypto_sign_seed_keypair(pk, sk, seed) ? RN_ERR_INVAL : 0;
}

int rn_nodekey_x25519_pk(uint8_t x_pk[RN_X25519_LEN],
                         const uint8_t node_pk[RN_SIGN_PK_LEN])
{
	if (crypto_sign_ed25519_pk_to_curve25519(x_pk, node_pk) != 0) {
		memset(x_pk, 0, RN_X25519_LEN);
		return RN_ERR_BADKEY;
	}
	return 0;
}

int rn_nodekey_x25519_keypair(uint8_t x_pk[RN_X25519_LEN],
                              uint8_t x_sk[RN_X25519_LEN],
                              const uint8_t node_sk[RN_SIGN_SK_LEN])
{
	uint8_t ed_pk[RN_SIGN_PK_LEN];
	crypto_sign_ed25519_sk_to_pk(ed_pk, node_sk);
	int rc = rn_nodekey_x25519_pk(x_pk, ed_pk);
	if (rc || crypto_sign_ed25519_sk_to_curve25519(x_sk, node_sk) != 0) {
		sodium_memzero(x_sk, RN_X25519_LEN);
		return rc ? rc : RN_ERR_INVAL;
	}
	return 0;
}

static int name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

int rn_cert_name_valid(const char *name, size_t len)
{
	if (!name || len < 1 || len > RN_CERT_NAME_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!name_char(name[i]))
			return 0;
	return 1;
}

/* 1 if a[0..len) and b agree on their first `bits` bits. */
static int same_prefix(const uint8_t *a, const uint8_t *b, size_t len,
                       unsigned bits)
{
	for (size_t i = 0; i < len && bits > 0; i++) {
		unsigned take = bits < 8 ? bits : 8;
		uint8_t mask = (uint8_t)(0xff00u >> take);
		if ((a[i] ^ b[i]) & mask)
			return 0;
		bits -= take;
	}
	return 1;
}

/* The host bits of byte i of an address under a prefix_len-bit prefix. */
static uint8_t host_mask(unsigned prefix_len, size_t i)
{
	unsigned net = prefix_len > 8 * i ? prefix_len - 8 * (unsigned)i : 0;
	return (uint8_t)(net >= 8 ? 0u : 0xffu >> net);
}

/* 1 if range[0..len) has no bit set after its first prefix_len. */
static int no_host_bits(const uint8_t *range, size_t len, unsigned prefix_len)
{
	for (size_t i = 0; i < len; i++)
		if (range[i] & host_mask(prefix_len, i))
			return 0;
	return 1;
}

int rn_cert_range_ok(const uint8_t *range, size_t len, unsigned prefix_len)
{
	return range && (len == 4 || len == 16) && prefix_len >= 1 &&
	       prefix_len <= 8 * len - 2 && no_host_bits(range, len, prefix_len);
}

int rn_cert_is_range(const rn_cert *c)
{
	return c->prefix_len != 0;
}

static int well_formed(const rn_cert *c)
{
	if ((c->vip_len != 4 && c->vip_len != 16) ||
	    !rn_cert_name_valid(c->name, c->name_len) ||
	    c->name[c->name_len] != '\0' || c->not_before > c->not_after)
		return 0;
	if (!rn_cert_is_range(c))
		return 1;
	return rn_cert_range_ok(c->range, c->vip_len, c->prefix_len) &&
	       same_prefix(c->range, c->vip, c->vip_len, c->prefix_len);
}

/* The canonical string the group key signs (see the top of this file);
 * its length in *len: SIGNED_LEN, or SIGNED_MAX for a range. */
static int signed_bytes(const rn_cert *c, uint8_t out[SIGNED_MAX], size_t *len)
{
	static const uint8_t zeros[RN_CERT_NAME_MAX];
	rn_writer w;
	if (!well_formed(c))
		return RN_ERR_INVAL;
	int range = rn_cert_is_range(c);
	rn_writer_init(&w, out, SIGNED_MAX);
	rn_write_bytes(&w, range ? CERT_PREFIX_V2 : CERT_PREFIX,
	               CERT_PREFIX_LEN);
	rn_write_bytes(&w, c->group_pk, RN_SIGN_PK_LEN);
	rn_write_bytes(&w, c->node_pk, RN_SIGN_PK_LEN);
	rn_write_u8(&w, c->vip_len);
	rn_write_bytes(&w, range ? c->range : c->vip, c->vip_len);
	rn_write_bytes(&w, zeros, RN_CERT_VIP_MAX - c->vip_len);
	if (range)
		rn_write_u8(&w, c->prefix_len);
	rn_write_u8(&w, c->name_len);
	rn_write_bytes(&w, c->name, c->name_len);
	rn_write_bytes(&w, zeros, RN_CERT_NAME_MAX - c->name_len);
	rn_write_u64(&w, c->not_before);
	rn_write_u64(&w, c->not_after);
	*len = w.len;
	return w.err || w.len != (range ? SIGNED_MAX : SIGNED_LEN) ? RN_ERR_INVAL
	                                                         : 0;
}

/* Fills and signs a certificate for range/prefix_len (a fixed address
 * when prefix_len is 0); the vip starts as the range itself. */
static int issue(rn_cert *cert, const uint8_t group_sk[RN_SIGN_SK_LEN],
                 const uint8_t node_pk[RN_SIGN_PK_LEN], const uint8_t *range,
                 size_t vip_len, unsigned prefix_len, const char *name,
                 uint64_t not_before, uint64_t not_after)
{
	uint8_t msg[SIGNED_MAX], x_pk[RN_X25519_LEN];
	size_t msg_len;
	rn_cert c;

	if (!cert || !group_sk || !node_pk || !range || !name ||
	    (vip_len != 4 && vip_len != 16) || not_before > not_after ||
	    prefix_len >= 8 * vip_len)
		return RN_ERR_INVAL;
	size_t name_len = strnlen(name, RN_CERT_NAME_MAX + 1);
	if (!rn_cert_name_valid(name, name_len))
		return RN_ERR_INVAL;
	if (rn_nodekey_x25519_pk(x_pk, node_pk))
		return RN_ERR_BADKEY; /* could never run a key exchange */

	memset(&c, 0, sizeof c);
	crypto_sign_ed25519_sk_to_pk(c.group_pk, group_sk);
	memcpy(c.node_pk, node_pk, RN_SIGN_PK_LEN);
	memcpy(c.vip, range, vip_len);
	if (prefix_len)
		memcpy(c.range, range, vip_len);
	c.vip_len = (uint8_t)vip_len;
	c.prefix_len = (uint8_t)prefix_len;
	memcpy(c.name, name, name_len);
	c.name_len = (uint8_t)name_len;
	c.not_before = not_before;
	c.not_after = not_after;
	if (signed_bytes(&c, msg, &msg_len) ||
	    crypto_sign_detached(c.sig, NULL, msg, msg_len, group_sk))
		return RN_ERR_INVAL;
	/* A secret key whose halves disagree signs for a public key nobody
	 * holds: catch it here rather than at every peer. */
	if (crypto_sign_verify_detached(c.sig, msg, msg_len, c.group_pk))
		return RN_ERR_INVAL;
	*cert = c;
	return 0;
}

int rn_cert_issue(rn_cert *cert, const uint8_t group_sk[RN_SIGN_SK_LEN],
                  const uint8_t node_pk[RN_SIGN_PK_LEN], const uint8_t *vip,
                  size_t vip_len, const char *name, uint64_t not_before,
                  uint64_t not_after)
{
	return issue(cert, group_sk, node_pk, vip, vip_len, 0, name, not_before,
	             not_after);
}

int rn_cert_issue_range(rn_cert *cert, const uint8_t group_sk[RN_SIGN_SK_LEN],
                        const uint8_t node_pk[RN_SIGN_PK_LEN],
                        const uint8_t *range, size_t vip_len,
                        unsigned prefix_len, const char *name,
                        uint64_t not_before, uint64_t not_after)
{
	if (!rn_cert_range_ok(range, vip_len, prefix_len))
		return RN_ERR_INVAL;
	return issue(cert, group_sk, node_pk, range, vip_len, prefix_len, name,
	             not_before, not_after);
}

int rn_cert_in_range(const rn_cert *c, const uint8_t *vip, size_t vip_len)
{
	if (!vip || vip_len != c->vip_len)
		return 0;
	return rn_cert_is_range(c)
	           ? same_prefix(c->range, vip, vip_len, c->prefix_len)
	           : !memcmp(c->vip, vip, vip_len);
}

int rn_cert_is_bound(const rn_cert *c)
{
	return !rn_cert_is_range(c) || memcmp(c->vip, c->range, c->vip_len);
}

int rn_cert_bind(rn_cert *c, const uint8_t *vip, size_t vip_len)
{
	if (!rn_cert_is_range(c) || !rn_cert_in_range(c, vip, vip_len) ||
	    !memcmp(vip, c->range, vip_len))
		return RN_ERR_INVAL;
	memcpy(c->vip, vip, vip_len);
	return 0;
}

int rn_cert_pick(const rn_cert *c, uint32_t attempt,
                 uint8_t out[RN_CERT_VIP_MAX])
{
	static const char label[] = CLAIM_PREFIX;
	uint8_t h[RN_CERT_VIP_MAX], a[4];
	crypto_generichash_state st;
	if (!rn_cert_is_range(c) || !well_formed(c))
		return RN_ERR_INVAL;
	a[0] = (uint8_t)(attempt >> 24);
	a[1] = (uint8_t)(attempt >> 16);
	a[2] = (uint8_t)(attempt >> 8);
	a[3] = (uint8_t)attempt;
	crypto_generichash_init(&st, NULL, 0, sizeof h);
	crypto_generichash_update(&st, (const uint8_t *)label, sizeof label - 1);
	crypto_generichash_update(&st, c->node_pk, RN_SIGN_PK_LEN);
	crypto_generichash_update(&st, a, sizeof a);
	crypto_generichash_final(&st, h, sizeof h);

	unsigned host_bits = 8u * c->vip_len - c->prefix_len;
	if (c->vip_len == 4) {
		/* 1 .. size-2: no network, no broadcast address */
		uint64_t size = 1ull << host_bits;
		uint64_t r = ((uint64_t)h[0] << 56 | (uint64_t)h[1] << 48 |
		              (uint64_t)h[2] << 40 | (uint64_t)h[3] << 32 |
		              (uint64_t)h[4] << 24 | (uint64_t)h[5] << 16 |
		              (uint64_t)h[6] << 8 | h[7]);
		uint32_t host = (uint32_t)(1 + r % (size - 2));
		uint32_t base = (uint32_t)c->range[0] << 24 |
		                (uint32_t)c->range[1] << 16 |
		                (uint32_t)c->range[2] << 8 | c->range[3];
		uint32_t v = base | host;
		out[0] = (uint8_t)(v >> 24);
		out[1] = (uint8_t)(v >> 16);
		out[2] = (uint8_t)(v >> 8);
		out[3] = (uint8_t)v;
		return 0;
	}
	/* IPv6: the hash's bits in the host part; never the all-zeros host
	 * (the subnet-router anycast address) */
	int any = 0;
	for (unsigned i = 0; i < 16; i++) {
		uint8_t host = host_mask(c->prefix_len, i);
		out[i] = (uint8_t)(c->range[i] | (h[i] & host));
		any |= h[i] & host;
	}
	if (!any)
		out[15] |= 1;
	return 0;
}

int rn_cert_encode(const rn_cert *cert, uint8_t *buf, size_t cap, size_t *len)
{
	rn_writer w;
	msgpack_packer pk;

	if (!well_formed(cert))
		return RN_ERR_INVAL;
	int range = rn_cert_is_range(cert);
	rn_writer_init(&w, buf, cap);
	rn_mp_packer_init(&pk, &w);
	msgpack_pack_array(&pk, range ? CERT_FIELDS_V2 : CERT_FIELDS);
	msgpack_pack_uint8(&pk, RN_CERT_TYPE);
	msgpack_pack_uint8(&pk, range ? RN_CERT_VERSION_RANGE : RN_CERT_VERSION);
	rn_mp_pack_bin(&pk, cert->group_pk, RN_SIGN_PK_LEN);
	rn_mp_pack_bin(&pk, cert->node_pk, RN_SIGN_PK_LEN);
	if (range) {
		rn_mp_pack_bin(&pk, cert->range, cert->vip_len);
		msgpack_pack_uint8(&pk, cert->prefix_len);
	}
	rn_mp_pack_bin(&pk, cert->vip, cert->vip_len);
	msgpack_pack_str(&pk, cert->name_len);
	msgpack_pack_str_body(&pk, cert->name, cert->name_len);
	msgpack_pack_uint64(&pk, cert->not_before);
	msgpack_pack_uint64(&pk, cert->not_after);
	rn_mp_pack_bin(&pk, cert->sig, RN_SIG_LEN);
	if (w.err)
		return w.err;
	*len = w.len;
	return 0;
}

/* Element i of array a: a str that is a valid certificate name. */
static int get_name(const msgpack_object *a, uint32_t i, rn_cert *c)
{
	const msgpack_object *e = &a->via.array.ptr[i];
	if (e->type != MSGPACK_OBJECT_STR ||
	    !rn_cert_name_valid(e->via.str.ptr, e->via.str.size))
		return RN_ERR_PROTO;
	memcpy(c->name, e->via.str.ptr, e->via.str.size);
	c->name[e->via.str.size] = '\0';
	c->name_len = (uint8_t)e->via.str.size;
	return 0;
}

/* Element i of array a: an address of 4 or 16 bytes into out[]. */
static int get_addr(const msgpack_object *a, uint32_t i, uint8_t *out,
                    uint8_t *out_len)
{
	const uint8_t *p;
	size_t n;
	if (rn_mp_get_bin(a, i, RN_CERT_VIP_MAX, &p, &n) || (n != 4 && n != 16))
		return RN_ERR_PROTO;
	memcpy(out, p, n);
	*out_len = (uint8_t)n;
	return 0;
}

static int decode_fields(const msgpack_object *o, rn_cert *c)
{
	uint32_t type, version, prefix_len = 0;
	uint8_t range_len = 0;

	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < 2 ||
	    rn_mp_get_u32(o, 0, 255, &type) ||
	    rn_mp_get_u32(o, 1, 255, &version) || type != RN_CERT_TYPE)
		return RN_ERR_PROTO;
	if (version != RN_CERT_VERSION && version != RN_CERT_VERSION_RANGE)
		return RN_ERR_VERSION;
	uint32_t i = 4; /* the vip's index */
	if (version == RN_CERT_VERSION_RANGE) {
		if (rn_mp_array(o, CERT_FIELDS_V2, CERT_FIELDS_V2) ||
		    get_addr(o, 4, c->range, &range_len) ||
		    rn_mp_get_u32(o, 5, 8u * range_len - 1, &prefix_len) ||
		    prefix_len < 1)
			return RN_ERR_PROTO;
		i = 6;
	} else if (rn_mp_array(o, CERT_FIELDS, CERT_FIELDS)) {
		return RN_ERR_PROTO;
	}
	if (rn_mp_get_bin_exact(o, 2, c->group_pk, RN_SIGN_PK_LEN) ||
	    rn_mp_get_bin_exact(o, 3, c->node_pk, RN_SIGN_PK_LEN) ||
	    get_addr(o, i, c->vip, &c->vip_len) || get_name(o, i + 1, c) ||
	    rn_mp_get_u64(o, i + 2, UINT64_MAX, &c->not_before) ||
	    rn_mp_get_u64(o, i + 3, UINT64_MAX, &c->not_after) ||
	    rn_mp_get_bin_exact(o, i + 4, c->sig, RN_SIG_LEN) ||
	    c->not_before > c->not_after)
		return RN_ERR_PROTO;
	if (version == RN_CERT_VERSION)
		return 0;
	c->prefix_len = (uint8_t)prefix_len;
	return range_len == c->vip_len && well_formed(c) ? 0 : RN_ERR_PROTO;
}

int rn_cert_decode(const uint8_t *buf, size_t len, rn_cert *cert)
{
	msgpack_zone zone;
	msgpack_object o;
	size_t used;
	rn_cert c;

	/* cheap checks before any allocation */
	if (len > RN_CERT_ENCODED_MAX)
		return RN_ERR_PROTO;
	int rc = rn_mp_precheck(buf, len, &used);
	if (rc)
		return rc;
	if (used != len)
		return RN_ERR_PROTO;
	if (!msgpack_zone_init(&zone, ZONE_CHUNK))
		return RN_ERR_NOMEM;
	memset(&c, 0, sizeof c);
	rc = rn_mp_unpack(&zone, buf, len, &o);
	if (!rc)
		rc = decode_fields(&o, &c);
	msgpack_zone_destroy(&zone);
	if (!rc)
		*cert = c;
	return rc;
}

int rn_cert_verify(const rn_cert *cert, const uint8_t group_pk[RN_SIGN_PK_LEN],
                   uint64_t now_unix_s)
{
	uint8_t msg[SIGNED_MAX];
	size_t msg_len;

	if (!cert || !group_pk || signed_bytes(cert, msg, &msg_len))
		return RN_ERR_INVAL;
	if (memcmp(cert->group_pk, group_pk, RN_SIGN_PK_LEN) != 0)
		return RN_ERR_CERT_GROUP;
	if (crypto_sign_verify_detached(cert->sig, msg, msg_len, group_pk))
		return RN_ERR_BADSIG;
	if (now_unix_s < cert->not_before)
		return RN_ERR_CERT_EARLY;
	if (now_unix_s > cert->not_after)
		return RN_ERR_CERT_EXPIRED;
	return 0;
}

int rn_cert_ring_id(const rn_cert *cert, rn_id *out)
{
	uint8_t gid[RN_GROUP_ID_LEN];
	if (cert->vip_len != 4 && cert->vip_len != 16)
		return RN_ERR_INVAL;
	rn_group_id(gid, cert->group_pk);
	if (rn_cert_is_bound(cert))
		rn_id_hash(out, gid, sizeof gid, cert->vip, cert->vip_len,
		           NULL, 0);
	else /* 32 bytes, never the 4 or 16 of an address */
		rn_id_hash(out, gid, sizeof gid, cert->node_pk,
		           RN_SIGN_PK_LEN, NULL, 0);
	return 0;
}
