/* The DHT's message codec (proto.h). */
#include "proto.h"

#include <string.h>

#include "../core/buf.h"
#include "../core/err.h"
#include "../core/mp.h"
#include "../overlay/msg.h"
#include "record.h"

static void pack_header(msgpack_packer *pk, uint32_t n, uint8_t type)
{
	rn_mp_pack_header(pk, n, type, RN_PROTO_VERSION);
}

static void pack_recs(msgpack_packer *pk, const rn_dht_body *b)
{
	msgpack_pack_array(pk, b->n_recs);
	for (unsigned i = 0; i < b->n_recs; i++)
		rn_mp_pack_bin(pk, b->recs[i].p, b->recs[i].n);
}

int rn_dht_body_encode(const rn_dht_body *b, uint8_t *buf, size_t cap,
		       size_t *len)
{
	rn_writer w;
	msgpack_packer pk;
	if (b->n_recs > RN_DHT_RECS_MAX)
		return RN_ERR_INVAL;
	rn_writer_init(&w, buf, cap);
	rn_mp_packer_init(&pk, &w);
	switch (b->type) {
	case RN_DHT_REQ:
		if (b->ns.n > RN_REC_NS_MAX || b->key.n > RN_REC_KEY_MAX ||
		    b->rec.n > RN_REC_ENCODED_MAX)
			return RN_ERR_INVAL;
		pack_header(&pk, 7, b->type);
		msgpack_pack_uint8(&pk, b->op);
		msgpack_pack_uint64(&pk, b->rid);
		msgpack_pack_str(&pk, b->ns.n);
		msgpack_pack_str_body(&pk, b->ns.p, b->ns.n);
		rn_mp_pack_bin(&pk, b->key.p, b->key.n);
		rn_mp_pack_bin(&pk, b->rec.p, b->rec.n);
		break;
	case RN_DHT_RESP:
		pack_header(&pk, 7, b->type);
		msgpack_pack_uint8(&pk, b->op);
		msgpack_pack_uint64(&pk, b->rid);
		msgpack_pack_uint32(&pk, b->status);
		if (b->more)
			msgpack_pack_true(&pk);
		else
			msgpack_pack_false(&pk);
		pack_recs(&pk, b);
		break;
	case RN_DHT_STORE:
		if (b->extend > RN_DHT_EXTEND_MAX)
			return RN_ERR_INVAL;
		pack_header(&pk, 4, b->type);
		pack_recs(&pk, b);
		msgpack_pack_uint8(&pk, b->extend);
		break;
	case RN_DHT_FETCH:
		pack_header(&pk, 4, b->type);
		msgpack_pack_uint64(&pk, b->rid);
		rn_mp_pack_bin(&pk, b->key_id.b, RN_ID_LEN);
		break;
	default:
		return RN_ERR_INVAL;
	}
	if (w.err)
		return w.err;
	*len = w.len;
	return 0;
}

static int get_recs(const msgpack_object *o, uint32_t i, rn_dht_body *b)
{
	const msgpack_object *a;
	if (rn_mp_get_array(o, i, 0, RN_DHT_RECS_MAX, &a))
		return RN_ERR_PROTO;
	b->n_recs = (uint8_t)a->via.array.size;
	for (uint32_t k = 0; k < b->n_recs; k++)
		if (rn_mp_get_bin(a, k, RN_REC_ENCODED_MAX, &b->recs[k].p,
				  &b->recs[k].n) ||
		    b->recs[k].n == 0)
			return RN_ERR_PROTO;
	return 0;
}

static int get_op(const msgpack_object *o, rn_dht_body *b)
{
	uint32_t op;
	if (rn_mp_get_u32(o, 2, RN_DHT_REMOVE, &op) || op < RN_DHT_PUT)
		return RN_ERR_PROTO;
	b->op = (uint8_t)op;
	return rn_mp_get_u64(o, 3, UINT64_MAX, &b->rid) ? RN_ERR_PROTO : 0;
}

int rn_dht_body_decode(msgpack_zone *zone, const uint8_t *buf, size_t len,
		       rn_dht_body *b)
{
	msgpack_object o;
	memset(b, 0, sizeof *b);
	int rc = rn_mp_unpack_msg(zone, buf, len, RN_PROTO_VERSION, &o,
				  &b->type);
	if (rc)
		return rc;
	switch (b->type) {
	case RN_DHT_REQ: {
		if (rn_mp_array(&o, 7, 7) || get_op(&o, b))
			return RN_ERR_PROTO;
		const msgpack_object *ns = &o.via.array.ptr[4];
		if (ns->type != MSGPACK_OBJECT_STR ||
		    !rn_rec_ns_ok(ns->via.str.ptr, ns->via.str.size))
			return RN_ERR_PROTO;
		b->ns.p = (const uint8_t *)ns->via.str.ptr;
		b->ns.n = ns->via.str.size;
		if (rn_mp_get_bin(&o, 5, RN_REC_KEY_MAX, &b->key.p, &b->key.n) ||
		    b->key.n == 0 ||
		    rn_mp_get_bin(&o, 6, RN_REC_ENCODED_MAX, &b->rec.p,
				  &b->rec.n))
			return RN_ERR_PROTO;
		/* every op but get carries its record */
		if ((b->op == RN_DHT_GET) != (b->rec.n == 0))
			return RN_ERR_PROTO;
		return 0;
	}
	case RN_DHT_RESP: {
		const msgpack_object *more;
		if (rn_mp_array(&o, 7, 7) || get_op(&o, b) ||
		    rn_mp_get_u32(&o, 4, 0xffff, &b->status))
			return RN_ERR_PROTO;
		more = &o.via.array.ptr[5];
		if (more->type != MSGPACK_OBJECT_BOOLEAN)
			return RN_ERR_PROTO;
		b->more = more->via.boolean;
		return get_recs(&o, 6, b);
	}
	case RN_DHT_STORE: {
		uint32_t ext = 0;
		if (rn_mp_array(&o, 3, 4) ||
		    (o.via.array.size == 4 &&
		     rn_mp_get_u32(&o, 3, RN_DHT_EXTEND_MAX, &ext)))
			return RN_ERR_PROTO;
		b->extend = (uint8_t)ext;
		return get_recs(&o, 2, b);
	}
	case RN_DHT_FETCH:
		if (rn_mp_array(&o, 4, 4) ||
		    rn_mp_get_u64(&o, 2, UINT64_MAX, &b->rid) ||
		    rn_mp_get_bin_exact(&o, 3, b->key_id.b, RN_ID_LEN))
			return RN_ERR_PROTO;
		return 0;
	default:
		return RN_ERR_PROTO;
	}
}
