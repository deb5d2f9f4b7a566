/* DHT records: key ids, signing, checks and the wire form (record.h). */
#include "record.h"

#include <string.h>

#include <sodium.h>

#include "../core/buf.h"
#include "../core/err.h"
#include "../core/mp.h"

#define REC_FIELDS 12
static const char sig_domain[] = "ringnet dht record v1"; /* and its NUL */

int rn_rec_ns_ok(const char *ns, size_t len)
{
	if (!ns || len == 0 || len > RN_REC_NS_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = ns[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-'))
			return 0;
	}
	return 1;
}

void rn_rec_key_id(rn_id *out, const uint8_t group_id[RN_GROUP_ID_LEN],
		   const char *ns, size_t ns_len, const uint8_t *key,
		   size_t key_len)
{
	uint8_t h[RN_ID_LEN];
	uint8_t zero = 0;
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, sizeof h);
	crypto_generichash_update(&st, group_id, RN_GROUP_ID_LEN);
	crypto_generichash_update(&st, (const uint8_t *)ns, ns_len);
	crypto_generichash_update(&st, &zero, 1);
	crypto_generichash_update(&st, key, key_len);
	crypto_generichash_final(&st, h, sizeof h);
	memcpy(out->b, h, RN_ID_LEN);
}

int rn_rec_set_key(rn_rec *r, const char *ns, const uint8_t *key,
		   size_t key_len)
{
	size_t ns_len = ns ? strlen(ns) : 0;
	if (!rn_rec_ns_ok(ns, ns_len) || !key || key_len == 0 ||
	    key_len > RN_REC_KEY_MAX)
		return RN_ERR_INVAL;
	memcpy(r->ns, ns, ns_len);
	r->ns[ns_len] = 0;
	r->ns_len = (uint8_t)ns_len;
	memcpy(r->key, key, key_len);
	r->key_len = (uint8_t)key_len;
	return 0;
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* The signed bytes (docs/dht.md), hashed: Ed25519 then signs 64 bytes. */
static void sig_digest(const rn_rec *r, const uint8_t *group_id,
		       uint8_t out[64])
{
	crypto_generichash_state st;
	uint8_t b[8 * 3 + 1], l2[2];
	crypto_generichash_init(&st, NULL, 0, 64);
	crypto_generichash_update(&st, (const uint8_t *)sig_domain,
				  sizeof sig_domain);
	crypto_generichash_update(&st, group_id, RN_GROUP_ID_LEN);
	crypto_generichash_update(&st, &r->ns_len, 1);
	crypto_generichash_update(&st, (const uint8_t *)r->ns, r->ns_len);
	crypto_generichash_update(&st, &r->key_len, 1);
	crypto_generichash_update(&st, r->key, r->key_len);
	l2[0] = (uint8_t)(r->value_len >> 8);
	l2[1] = (uint8_t)r->value_len;
	crypto_generichash_update(&st, l2, 2);
	crypto_generichash_update(&st, r->value, r->value_len);
	crypto_generichash_update(&st, r->writer, RN_SIGN_PK_LEN);
	put_u64(b, r->created);
	put_u64(b + 8, r->ts);
	put_u64(b + 16, r->expires);
	b[24] = r->flags;
	crypto_generichash_update(&st, b, sizeof b);
	/* A range member's address is not signed by the group: the writer
	 * signs it here, so no relay can rebind its certificate. A fixed
	 * certificate's records keep the bytes they always had. */
	if (r->has_cert && rn_cert_is_range(&r->cert)) {
		crypto_generichash_update(&st, &r->cert.vip_len, 1);
		crypto_generichash_update(&st, r->cert.vip, r->cert.vip_len);
	}
	crypto_generichash_final(&st, out, 64);
}

int rn_rec_sign(rn_rec *r, const uint8_t group_id[RN_GROUP_ID_LEN],
		const uint8_t sk[RN_SIGN_SK_LEN])
{
	uint8_t d[64];
	if (!r->has_cert) {
		memset(r->sig, 0, sizeof r->sig);
		return 0;
	}
	if (memcmp(r->cert.node_pk, r->writer, RN_SIGN_PK_LEN) != 0 ||
	    memcmp(sk + 32, r->writer, RN_SIGN_PK_LEN) != 0)
		return RN_ERR_INVAL;
	sig_digest(r, group_id, d);
	crypto_sign_detached(r->sig, NULL, d, sizeof d, sk);
	return 0;
}

static int well_formed(const rn_rec *r)
{
	return rn_rec_ns_ok(r->ns, r->ns_len) && r->key_len >= 1 &&
	       r->key_len <= RN_REC_KEY_MAX &&
	       r->value_len <= RN_REC_VALUE_MAX &&
	       (r->flags & ~RN_REC_FLAGS_ALL) == 0 &&
	       !((r->flags & RN_REC_EXCL) && (r->flags & RN_REC_REPLACE)) &&
	       r->created <= r->ts && r->ts < r->expires;
}

static int ns_is(const rn_rec *r, const char *ns)
{
	size_t n = strlen(ns);
	return r->ns_len == n && memcmp(r->ns, ns, n) == 0;
}

/* The namespace's rule (docs/dht.md, "Who may write what"). */
static int ns_rule(const rn_rec *r)
{
	int tomb = (r->flags & RN_REC_TOMB) != 0;
	const rn_cert *c = r->has_cert ? &r->cert : NULL;
	int addr_ns = ns_is(r, "member") || ns_is(r, "lease") || ns_is(r, "name");
	if (addr_ns && c && !rn_cert_is_bound(c))
		return RN_ERR_PERM; /* a range member before its claim */
	if (ns_is(r, "member") || ns_is(r, "lease")) {
		if (r->key_len != 4 && r->key_len != 16)
			return RN_ERR_PERM;
		if (c && (c->vip_len != r->key_len ||
			  memcmp(c->vip, r->key, r->key_len) != 0))
			return RN_ERR_PERM;
		if (tomb)
			return 0;
		uint8_t need = ns_is(r, "member") ? RN_REC_REPLACE : RN_REC_EXCL;
		return (r->flags & need) ? 0 : RN_ERR_PERM;
	}
	if (ns_is(r, "name")) {
		if (c && (c->name_len != r->key_len ||
			  memcmp(c->name, r->key, r->key_len) != 0))
			return RN_ERR_PERM;
		if (tomb)
			return 0;
		if (!(r->flags & RN_REC_REPLACE) ||
		    (r->value_len != 4 && r->value_len != 16))
			return RN_ERR_PERM;
		if (c && (c->vip_len != r->value_len ||
			  memcmp(c->vip, r->value, r->value_len) != 0))
			return RN_ERR_PERM;
	}
	return 0;
}

int rn_rec_check(const rn_rec *r, const rn_rec_policy *p, uint64_t now_ms)
{
	if (!well_formed(r))
		return RN_ERR_INVAL;
	if (r->expires <= now_ms || r->expires - r->ts > p->ttl_max_ms ||
	    r->ts > now_ms + p->skew_ms)
		return RN_ERR_EXPIRED;
	if (p->require_cert) {
		if (!r->has_cert)
			return RN_ERR_PERM;
		if (memcmp(r->cert.node_pk, r->writer, RN_SIGN_PK_LEN) != 0)
			return RN_ERR_PERM;
		int rc = rn_cert_verify(&r->cert, p->group_pk, now_ms / 1000);
		if (rc)
			return rc;
		uint8_t d[64];
		sig_digest(r, p->group_id, d);
		if (crypto_sign_verify_detached(r->sig, d, sizeof d,
						r->writer) != 0)
			return RN_ERR_BADSIG;
	}
	return ns_rule(r);
}

int rn_rec_encode(const rn_rec *r, uint8_t *buf, size_t cap, size_t *len)
{
	rn_writer w;
	msgpack_packer pk;
	uint8_t cert[RN_CERT_ENCODED_MAX];
	size_t cert_len = 0;
	if (!well_formed(r))
		return RN_ERR_INVAL;
	if (r->has_cert && rn_cert_encode(&r->cert, cert, sizeof cert,
					  &cert_len))
		return RN_ERR_INVAL;
	rn_writer_init(&w, buf, cap);
	rn_mp_packer_init(&pk, &w);
	msgpack_pack_array(&pk, REC_FIELDS);
	msgpack_pack_uint8(&pk, RN_REC_TYPE);
	msgpack_pack_uint8(&pk, RN_REC_VERSION);
	msgpack_pack_str(&pk, r->ns_len);
	msgpack_pack_str_body(&pk, r->ns, r->ns_len);
	rn_mp_pack_bin(&pk, r->key, r->key_len);
	rn_mp_pack_bin(&pk, r->value, r->value_len);
	rn_mp_pack_bin(&pk, r->writer, RN_SIGN_PK_LEN);
	msgpack_pack_uint64(&pk, r->created);
	msgpack_pack_uint64(&pk, r->ts);
	msgpack_pack_uint64(&pk, r->expires);
	msgpack_pack_uint8(&pk, r->flags);
	rn_mp_pack_bin(&pk, cert, cert_len);
	rn_mp_pack_bin(&pk, r->sig, r->has_cert ? RN_SIG_LEN : 0);
	if (w.err)
		return w.err;
	*len = w.len;
	return 0;
}

static int decode_fields(const msgpack_object *o, rn_rec *r)
{
	uint32_t type, version, flags;
	const uint8_t *p;
	size_t n;
	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < 2 ||
	    rn_mp_get_u32(o, 0, 255, &type) ||
	    rn_mp_get_u32(o, 1, 255, &version) || type != RN_REC_TYPE)
		return RN_ERR_PROTO;
	if (version != RN_REC_VERSION)
		return RN_ERR_VERSION;
	if (rn_mp_array(o, REC_FIELDS, REC_FIELDS))
		return RN_ERR_PROTO;
	const msgpack_object *ns = &o->via.array.ptr[2];
	if (ns->type != MSGPACK_OBJECT_STR ||
	    !rn_rec_ns_ok(ns->via.str.ptr, ns->via.str.size))
		return RN_ERR_PROTO;
	memcpy(r->ns, ns->via.str.ptr, ns->via.str.size);
	r->ns[ns->via.str.size] = 0;
	r->ns_len = (uint8_t)ns->via.str.size;
	if (rn_mp_get_bin(o, 3, RN_REC_KEY_MAX, &p, &n) || n == 0)
		return RN_ERR_PROTO;
	memcpy(r->key, p, n);
	r->key_len = (uint8_t)n;
	if (rn_mp_get_bin(o, 4, RN_REC_VALUE_MAX, &p, &n))
		return RN_ERR_PROTO;
	if (n)
		memcpy(r->value, p, n);
	r->value_len = (uint16_t)n;
	if (rn_mp_get_bin_exact(o, 5, r->writer, RN_SIGN_PK_LEN) ||
	    rn_mp_get_u64(o, 6, UINT64_MAX, &r->created) ||
	    rn_mp_get_u64(o, 7, UINT64_MAX, &r->ts) ||
	    rn_mp_get_u64(o, 8, UINT64_MAX, &r->expires) ||
	    rn_mp_get_u32(o, 9, RN_REC_FLAGS_ALL, &flags))
		return RN_ERR_PROTO;
	r->flags = (uint8_t)flags;
	if (rn_mp_get_bin(o, 10, RN_CERT_ENCODED_MAX, &p, &n))
		return RN_ERR_PROTO;
	r->has_cert = n != 0;
	if (n && rn_cert_decode(p, n, &r->cert))
		return RN_ERR_PROTO;
	if (rn_mp_get_bin(o, 11, RN_SIG_LEN, &p, &n) ||
	    n != (r->has_cert ? RN_SIG_LEN : 0u))
		return RN_ERR_PROTO;
	memcpy(r->sig, p, n);
	if (!well_formed(r))
		return RN_ERR_PROTO;
	return 0;
}

int rn_rec_decode(msgpack_zone *zone, const uint8_t *buf, size_t len,
		  rn_rec *r)
{
	msgpack_object o;
	if (len > RN_REC_ENCODED_MAX)
		return RN_ERR_PROTO;
	msgpack_zone_clear(zone);
	int rc = rn_mp_unpack(zone, buf, len, &o);
	if (!rc) {
		memset(r, 0, sizeof *r);
		rc = decode_fields(&o, r);
	}
	return rc;
}
