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
 * Every field has a fixed position and an explicit length, so no two
 * different certificates share a string, and the msgpack encoding (which
 * allows several forms of the same integer) plays no part in it.
 *
 * Invariant of a well-formed rn_cert (issue and decode make only these;
 * encode and verify refuse others with RN_ERR_INVAL): vip_len is 4 or 16,
 * name is 1..63 bytes of [A-Za-z0-9._-] followed by a NUL,
 * not_before <= not_after.
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
#define CERT_PREFIX_LEN (sizeof CERT_PREFIX - 1)
#define SIGNED_LEN                                                             \
	(CERT_PREFIX_LEN + 2 * RN_SIGN_PK_LEN + 1 + RN_CERT_VIP_MAX + 1 +      \
	 RN_CERT_NAME_MAX + 8 + 8)
#define CERT_FIELDS 9
#define ZONE_CHUNK  512 /* the array of 9 objects; bins point into input */

_Static_assert(RN_SIGN_PK_LEN == crypto_sign_PUBLICKEYBYTES, "pk size");
_Static_assert(RN_SIGN_SK_LEN == crypto_sign_SECRETKEYBYTES, "sk size");
_Static_assert(RN_KEY_SEED_LEN == crypto_sign_SEEDBYTES, "seed size");
_Static_assert(RN_SIG_LEN == crypto_sign_BYTES, "signature size");
_Static_assert(RN_X25519_LEN == crypto_scalarmult_BYTES, "x25519 size");
_Static_assert(SIGNED_LEN == 176, "canonical certificate string");
/* array(1) type(1) version(1) 2 x bin8 32 (34) bin8 16 (18) str8 63 (65)
 * 2 x uint64 (9) bin8 64 (66); RN_CERT_TYPE and the version are fixints */
_Static_assert(RN_CERT_ENCODED_MAX == 1 + 1 + 1 + 2 * 34 + 18 + 65 + 2 * 9 + 66,
               "largest certificate encoding");
_Static_assert(RN_CERT_TYPE < 128 && RN_CERT_VERSION < 128, "fixints");

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

static int well_formed(const rn_cert *c)
{
	return (c->vip_len == 4 || c->vip_len == 16) &&
	       rn_cert_name_valid(c->name, c->name_len) &&
	       c->name[c->name_len] == '\0' && c->not_before <= c->not_after;
}

/* The canonical string the group key signs (see the top of this file). */
static int signed_bytes(const rn_cert *c, uint8_t out[SIGNED_LEN])
{
	static const uint8_t zeros[RN_CERT_NAME_MAX];
	rn_writer w;
	if (!well_formed(c))
		return RN_ERR_INVAL;
	rn_writer_init(&w, out, SIGNED_LEN);
	rn_write_bytes(&w, CERT_PREFIX, CERT_PREFIX_LEN);
	rn_write_bytes(&w, c->group_pk, RN_SIGN_PK_LEN);
	rn_write_bytes(&w, c->node_pk, RN_SIGN_PK_LEN);
	rn_write_u8(&w, c->vip_len);
	rn_write_bytes(&w, c->vip, c->vip_len);
	rn_write_bytes(&w, zeros, RN_CERT_VIP_MAX - c->vip_len);
	rn_write_u8(&w, c->name_len);
	rn_write_bytes(&w, c->name, c->name_len);
	rn_write_bytes(&w, zeros, RN_CERT_NAME_MAX - c->name_len);
	rn_write_u64(&w, c->not_before);
	rn_write_u64(&w, c->not_after);
	return w.err || w.len != SIGNED_LEN ? RN_ERR_INVAL : 0;
}

int rn_cert_issue(rn_cert *cert, const uint8_t group_sk[RN_SIGN_SK_LEN],
                  const uint8_t node_pk[RN_SIGN_PK_LEN], const uint8_t *vip,
                  size_t vip_len, const char *name, uint64_t not_before,
                  uint64_t not_after)
{
	uint8_t msg[SIGNED_LEN], x_pk[RN_X25519_LEN];
	rn_cert c;

	if (!cert || !group_sk || !node_pk || !vip || !name ||
	    (vip_len != 4 && vip_len != 16) || not_before > not_after)
		return RN_ERR_INVAL;
	size_t name_len = strnlen(name, RN_CERT_NAME_MAX + 1);
	if (!rn_cert_name_valid(name, name_len))
		return RN_ERR_INVAL;
	if (rn_nodekey_x25519_pk(x_pk, node_pk))
		return RN_ERR_BADKEY; /* could never run a key exchange */

	memset(&c, 0, sizeof c);
	crypto_sign_ed25519_sk_to_pk(c.group_pk, group_sk);
	memcpy(c.node_pk, node_pk, RN_SIGN_PK_LEN);
	memcpy(c.vip, vip, vip_len);
	c.vip_len = (uint8_t)vip_len;
	memcpy(c.name, name, name_len);
	c.name_len = (uint8_t)name_len;
	c.not_before = not_before;
	c.not_after = not_after;
	if (signed_bytes(&c, msg) ||
	    crypto_sign_detached(c.sig, NULL, msg, sizeof msg, group_sk))
		return RN_ERR_INVAL;
	/* A secret key whose halves disagree signs for a public key nobody
	 * holds: catch it here rather than at every peer. */
	if (crypto_sign_verify_detached(c.sig, msg, sizeof msg, c.group_pk))
		return RN_ERR_INVAL;
	*cert = c;
	return 0;
}

int rn_cert_encode(const rn_cert *cert, uint8_t *buf, size_t cap, size_t *len)
{
	rn_writer w;
	msgpack_packer pk;

	if (!well_formed(cert))
		return RN_ERR_INVAL;
	rn_writer_init(&w, buf, cap);
	rn_mp_packer_init(&pk, &w);
	msgpack_pack_array(&pk, CERT_FIELDS);
	msgpack_pack_uint8(&pk, RN_CERT_TYPE);
	msgpack_pack_uint8(&pk, RN_CERT_VERSION);
	rn_mp_pack_bin(&pk, cert->group_pk, RN_SIGN_PK_LEN);
	rn_mp_pack_bin(&pk, cert->node_pk, RN_SIGN_PK_LEN);
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

static int decode_fields(const msgpack_object *o, rn_cert *c)
{
	uint32_t type, version;
	const uint8_t *vip;
	size_t vip_len;

	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < 2 ||
	    rn_mp_get_u32(o, 0, 255, &type) ||
	    rn_mp_get_u32(o, 1, 255, &version) || type != RN_CERT_TYPE)
		return RN_ERR_PROTO;
	if (version != RN_CERT_VERSION)
		return RN_ERR_VERSION;
	if (rn_mp_array(o, CERT_FIELDS, CERT_FIELDS) ||
	    rn_mp_get_bin_exact(o, 2, c->group_pk, RN_SIGN_PK_LEN) ||
	    rn_mp_get_bin_exact(o, 3, c->node_pk, RN_SIGN_PK_LEN) ||
	    rn_mp_get_bin(o, 4, RN_CERT_VIP_MAX, &vip, &vip_len) ||
	    (vip_len != 4 && vip_len != 16) || get_name(o, 5, c) ||
	    rn_mp_get_u64(o, 6, UINT64_MAX, &c->not_before) ||
	    rn_mp_get_u64(o, 7, UINT64_MAX, &c->not_after) ||
	    rn_mp_get_bin_exact(o, 8, c->sig, RN_SIG_LEN) ||
	    c->not_before > c->not_after)
		return RN_ERR_PROTO;
	memcpy(c->vip, vip, vip_len);
	c->vip_len = (uint8_t)vip_len;
	return 0;
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
	uint8_t msg[SIGNED_LEN];

	if (!cert || !group_pk || signed_bytes(cert, msg))
		return RN_ERR_INVAL;
	if (memcmp(cert->group_pk, group_pk, RN_SIGN_PK_LEN) != 0)
		return RN_ERR_CERT_GROUP;
	if (crypto_sign_verify_detached(cert->sig, msg, sizeof msg, group_pk))
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
	rn_id_hash(out, gid, sizeof gid, cert->vip, cert->vip_len, NULL, 0);
	return 0;
}
