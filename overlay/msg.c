/* Encoders and decoders for overlay messages (see msg.h for the layouts).
 *
 * Encoding packs into a caller buffer through rn_writer; a message that does
 * not fit is RN_ERR_TOOBIG, never truncated. Decoding prechecks and unpacks
 * with core/mp.c, then reads each field with a typed getter that checks its
 * type and range. The zone is cleared here before each decode.
 */
#include "msg.h"

#include <string.h>

#include "../core/err.h"
#include "../core/mp.h"

static void pack_id(msgpack_packer *pk, const rn_id *id)
{
	rn_mp_pack_bin(pk, id->b, RN_ID_LEN);
}

static void pack_ep(msgpack_packer *pk, const rn_ep *ep)
{
	uint8_t w[RN_EP_WIRE_LEN];
	rn_ep_to_wire(ep, w);
	rn_mp_pack_bin(pk, w, sizeof w);
}

static int get_ep(const msgpack_object *a, uint32_t i, rn_ep *ep)
{
	uint8_t w[RN_EP_WIRE_LEN];
	int rc = rn_mp_get_bin_exact(a, i, w, sizeof w);
	if (!rc)
		rn_ep_from_wire(ep, w);
	return rc;
}

static int get_id(const msgpack_object *a, uint32_t i, rn_id *id)
{
	return rn_mp_get_bin_exact(a, i, id->b, RN_ID_LEN);
}

static void pack_header(msgpack_packer *pk, uint32_t n, uint8_t type)
{
	rn_mp_pack_header(pk, n, type, RN_PROTO_VERSION);
}

/* [id, ep], as in NEIGHBORS and a bootstrap's HELLO_ACK */
static void pack_peer(msgpack_packer *pk, const rn_peer_info *p)
{
	msgpack_pack_array(pk, 2);
	pack_id(pk, &p->id);
	pack_ep(pk, &p->ep);
}

static int get_peer(const msgpack_object *a, uint32_t i, rn_peer_info *p)
{
	const msgpack_object *e;
	return rn_mp_get_array(a, i, 2, 2, &e) || get_id(e, 0, &p->id) ||
		       get_ep(e, 1, &p->ep)
		   ? RN_ERR_PROTO
		   : 0;
}

/* Only a bootstrap's answer to a probe names a peer. */
static int hello_may_carry_peer(const rn_msg *m)
{
	return m->type == RN_MSG_HELLO_ACK &&
	       (m->u.hello.kind & RN_KIND_CTM_SENT);
}

int rn_msg_encode(const rn_msg *m, uint8_t *buf, size_t cap, size_t *len)
{
	rn_writer w;
	msgpack_packer pk;
	rn_writer_init(&w, buf, cap);
	rn_mp_packer_init(&pk, &w);
	switch (m->type) {
	case RN_MSG_HELLO:
	case RN_MSG_HELLO_ACK:
		if (m->u.hello.has_peer && !hello_may_carry_peer(m))
			return RN_ERR_INVAL;
		pack_header(&pk, m->u.hello.has_peer ? 8 : 7, m->type);
		pack_id(&pk, &m->u.hello.src);
		msgpack_pack_uint8(&pk, m->u.hello.kind);
		msgpack_pack_uint32(&pk, m->u.hello.token);
		pack_ep(&pk, &m->u.hello.your_ep);
		msgpack_pack_uint32(&pk, m->u.hello.ts_ms);
		if (m->u.hello.has_peer)
			pack_peer(&pk, &m->u.hello.peer);
		break;
	case RN_MSG_PING:
	case RN_MSG_PONG:
		pack_header(&pk, 3, m->type);
		msgpack_pack_uint32(&pk, m->u.ping.ts_ms);
		break;
	case RN_MSG_CLOSE:
		pack_header(&pk, 3, m->type);
		msgpack_pack_uint8(&pk, m->u.close.reason);
		break;
	case RN_MSG_NEIGHBORS:
	case RN_MSG_FAR_HINTS:
		if (m->u.neighbors.n > RN_NEIGHBORS_MAX)
			return RN_ERR_INVAL;
		pack_header(&pk, 3, m->type);
		msgpack_pack_array(&pk, m->u.neighbors.n);
		for (unsigned i = 0; i < m->u.neighbors.n; i++)
			pack_peer(&pk, &m->u.neighbors.v[i]);
		break;
	case RN_MSG_ROUTED:
		if (m->u.routed.body_len > RN_BODY_DATA_MAX)
			return RN_ERR_INVAL;
		pack_header(&pk, 9, m->type);
		msgpack_pack_fix_uint32(&pk, m->u.routed.hop_seq);
		pack_id(&pk, &m->u.routed.src);
		pack_id(&pk, &m->u.routed.dst);
		msgpack_pack_uint8(&pk, m->u.routed.mode);
		msgpack_pack_uint8(&pk, m->u.routed.hops);
		msgpack_pack_uint8(&pk, m->u.routed.ttl);
		rn_mp_pack_bin(&pk, m->u.routed.body, m->u.routed.body_len);
		break;
	case RN_MSG_HOP_ACK:
		pack_header(&pk, 3, m->type);
		msgpack_pack_uint32(&pk, m->u.hop_ack.hop_seq);
		break;
	case RN_MSG_RELAY:
		if (m->u.relay.dir > RN_RELAY_DIR_MAX ||
		    m->u.relay.inner_len > RN_WIRE_MAX)
			return RN_ERR_INVAL;
		pack_header(&pk, 5, m->type);
		msgpack_pack_uint8(&pk, m->u.relay.dir);
		pack_id(&pk, &m->u.relay.peer);
		rn_mp_pack_bin(&pk, m->u.relay.inner, m->u.relay.inner_len);
		break;
	default:
		return RN_ERR_INVAL;
	}
	if (w.err)
		return w.err;
	*len = w.len;
	return 0;
}

static int decode_hello(const msgpack_object *o, rn_msg *m)
{
	uint32_t kind;
	if (rn_mp_array(o, 7, 8) || get_id(o, 2, &m->u.hello.src) ||
	    rn_mp_get_u32(o, 3, RN_KIND_ALL, &kind) ||
	    rn_mp_get_u32(o, 4, UINT32_MAX, &m->u.hello.token) ||
	    get_ep(o, 5, &m->u.hello.your_ep) ||
	    rn_mp_get_u32(o, 6, UINT32_MAX, &m->u.hello.ts_ms))
		return RN_ERR_PROTO;
	m->u.hello.kind = (uint8_t)kind;
	m->u.hello.has_peer = o->via.array.size == 8;
	if (m->u.hello.has_peer &&
	    (!hello_may_carry_peer(m) || get_peer(o, 7, &m->u.hello.peer)))
		return RN_ERR_PROTO;
	return 0;
}

static int decode_neighbors(const msgpack_object *o, rn_msg *m)
{
	const msgpack_object *list;
	if (rn_mp_array(o, 3, 3) ||
	    rn_mp_get_array(o, 2, 0, RN_NEIGHBORS_MAX, &list))
		return RN_ERR_PROTO;
	m->u.neighbors.n = (uint8_t)list->via.array.size;
	for (uint32_t i = 0; i < list->via.array.size; i++)
		if (get_peer(list, i, &m->u.neighbors.v[i]))
			return RN_ERR_PROTO;
	return 0;
}

static int decode_routed(const msgpack_object *o, rn_msg *m)
{
	uint32_t mode, hops, ttl;
	if (rn_mp_array(o, 9, 9) ||
	    rn_mp_get_u32(o, 2, UINT32_MAX, &m->u.routed.hop_seq) ||
	    get_id(o, 3, &m->u.routed.src) || get_id(o, 4, &m->u.routed.dst) ||
	    rn_mp_get_u32(o, 5, RN_ROUTE_MODE_MAX, &mode) ||
	    rn_mp_get_u32(o, 6, 255, &hops) || rn_mp_get_u32(o, 7, 255, &ttl) ||
	    rn_mp_get_bin(o, 8, RN_BODY_DATA_MAX, &m->u.routed.body,
			  &m->u.routed.body_len))
		return RN_ERR_PROTO;
	m->u.routed.mode = (uint8_t)mode;
	m->u.routed.hops = (uint8_t)hops;
	m->u.routed.ttl = (uint8_t)ttl;
	return 0;
}

static int decode_relay(const msgpack_object *o, rn_msg *m)
{
	uint32_t dir;
	if (rn_mp_array(o, 5, 5) ||
	    rn_mp_get_u32(o, 2, RN_RELAY_DIR_MAX, &dir) ||
	    get_id(o, 3, &m->u.relay.peer) ||
	    rn_mp_get_bin(o, 4, RN_WIRE_MAX, &m->u.relay.inner,
			  &m->u.relay.inner_len))
		return RN_ERR_PROTO;
	m->u.relay.dir = (uint8_t)dir;
	return 0;
}

int rn_msg_decode(msgpack_zone *zone, const uint8_t *buf, size_t len,
		  rn_msg *m)
{
	msgpack_object o;
	uint32_t v;
	int rc = rn_mp_unpack_msg(zone, buf, len, RN_PROTO_VERSION, &o,
				  &m->type);
	if (rc)
		return rc;
	switch (m->type) {
	case RN_MSG_HELLO:
	case RN_MSG_HELLO_ACK:
		return decode_hello(&o, m);
	case RN_MSG_PING:
	case RN_MSG_PONG:
		return rn_mp_array(&o, 3, 3) ||
			       rn_mp_get_u32(&o, 2, UINT32_MAX, &m->u.ping.ts_ms)
			   ? RN_ERR_PROTO
			   : 0;
	case RN_MSG_CLOSE:
		if (rn_mp_array(&o, 3, 3) ||
		    rn_mp_get_u32(&o, 2, RN_CLOSE_REASON_MAX, &v) || v == 0)
			return RN_ERR_PROTO;
		m->u.close.reason = (uint8_t)v;
		return 0;
	case RN_MSG_NEIGHBORS:
	case RN_MSG_FAR_HINTS:
		return decode_neighbors(&o, m);
	case RN_MSG_ROUTED:
		return decode_routed(&o, m);
	case RN_MSG_HOP_ACK:
		return rn_mp_array(&o, 3, 3) ||
			       rn_mp_get_u32(&o, 2, UINT32_MAX,
					     &m->u.hop_ack.hop_seq)
			   ? RN_ERR_PROTO
			   : 0;
	case RN_MSG_RELAY:
		return decode_relay(&o, m);
	default:
		return RN_ERR_PROTO;
	}
}

int rn_body_encode(const rn_body *b, uint8_t *buf, size_t cap, size_t *len)
{
	rn_writer w;
	msgpack_packer pk;
	rn_writer_init(&w, buf, cap);
	rn_mp_packer_init(&pk, &w);
	switch (b->type) {
	case RN_BODY_CTM:
		if (b->u.ctm.n_eps < 1 || b->u.ctm.n_eps > RN_CTM_EPS_MAX)
			return RN_ERR_INVAL;
		pack_header(&pk, b->u.ctm.has_relay ? 6 : 5, b->type);
		msgpack_pack_uint8(&pk, b->u.ctm.purpose);
		msgpack_pack_uint32(&pk, b->u.ctm.token);
		msgpack_pack_array(&pk, b->u.ctm.n_eps);
		for (unsigned i = 0; i < b->u.ctm.n_eps; i++)
			pack_ep(&pk, &b->u.ctm.eps[i]);
		if (b->u.ctm.has_relay)
			pack_id(&pk, &b->u.ctm.relay);
		break;
	case RN_BODY_CTM_REPLY:
		pack_header(&pk, 4, b->type);
		pack_id(&pk, &b->u.ctm_reply.joiner);
		pack_ep(&pk, &b->u.ctm_reply.ep);
		break;
	case RN_BODY_LOOKUP:
		pack_header(&pk, 3, b->type);
		msgpack_pack_uint64(&pk, b->u.lookup.qid);
		break;
	case RN_BODY_LOOKUP_REPLY:
		pack_header(&pk, 4, b->type);
		msgpack_pack_uint64(&pk, b->u.lookup.qid);
		msgpack_pack_uint8(&pk, b->u.lookup.hops);
		break;
	case RN_BODY_TRACE:
	case RN_BODY_TRACE_REPLY:
		if (b->u.trace.n > RN_TRACE_HOPS_MAX)
			return RN_ERR_INVAL;
		pack_header(&pk, 4, b->type);
		msgpack_pack_uint64(&pk, b->u.trace.qid);
		msgpack_pack_array(&pk, b->u.trace.n);
		for (unsigned i = 0; i < b->u.trace.n; i++) {
			msgpack_pack_array(&pk, 2);
			pack_id(&pk, &b->u.trace.id[i]);
			msgpack_pack_uint16(&pk, b->u.trace.rtt_ms[i]);
		}
		break;
	default:
		return RN_ERR_INVAL;
	}
	if (w.err)
		return w.err;
	*len = w.len;
	return 0;
}

static int decode_ctm(const msgpack_object *o, rn_body *b)
{
	uint32_t purpose;
	const msgpack_object *eps;
	if (rn_mp_array(o, 5, 6) ||
	    rn_mp_get_u32(o, 2, RN_CTM_PUNCH, &purpose) || purpose == 0 ||
	    rn_mp_get_u32(o, 3, UINT32_MAX, &b->u.ctm.token) ||
	    rn_mp_get_array(o, 4, 1, RN_CTM_EPS_MAX, &eps))
		return RN_ERR_PROTO;
	b->u.ctm.purpose = (uint8_t)purpose;
	b->u.ctm.n_eps = (uint8_t)eps->via.array.size;
	for (uint32_t i = 0; i < eps->via.array.size; i++)
		if (get_ep(eps, i, &b->u.ctm.eps[i]))
			return RN_ERR_PROTO;
	b->u.ctm.has_relay = o->via.array.size == 6;
	if (b->u.ctm.has_relay && get_id(o, 5, &b->u.ctm.relay))
		return RN_ERR_PROTO;
	return 0;
}

static int decode_trace(const msgpack_object *o, rn_body *b)
{
	const msgpack_object *path;
	if (rn_mp_array(o, 4, 4) ||
	    rn_mp_get_u64(o, 2, UINT64_MAX, &b->u.trace.qid) ||
	    rn_mp_get_array(o, 3, 0, RN_TRACE_HOPS_MAX, &path))
		return RN_ERR_PROTO;
	b->u.trace.n = (uint8_t)path->via.array.size;
	for (uint32_t i = 0; i < path->via.array.size; i++) {
		const msgpack_object *e;
		uint32_t rtt;
		if (rn_mp_get_array(path, i, 2, 2, &e) ||
		    get_id(e, 0, &b->u.trace.id[i]) ||
		    rn_mp_get_u32(e, 1, UINT16_MAX, &rtt))
			return RN_ERR_PROTO;
		b->u.trace.rtt_ms[i] = (uint16_t)rtt;
	}
	return 0;
}

int rn_body_decode(msgpack_zone *zone, const uint8_t *buf, size_t len,
		   rn_body *b)
{
	msgpack_object o;
	uint32_t hops;
	int rc = rn_mp_unpack_msg(zone, buf, len, RN_PROTO_VERSION, &o,
				  &b->type);
	if (rc)
		return rc;
	switch (b->type) {
	case RN_BODY_CTM:
		return decode_ctm(&o, b);
	case RN_BODY_LOOKUP:
		return rn_mp_array(&o, 3, 3) ||
			       rn_mp_get_u64(&o, 2, UINT64_MAX, &b->u.lookup.qid)
			   ? RN_ERR_PROTO
			   : 0;
	case RN_BODY_LOOKUP_REPLY:
		if (rn_mp_array(&o, 4, 4) ||
		    rn_mp_get_u64(&o, 2, UINT64_MAX, &b->u.lookup.qid) ||
		    rn_mp_get_u32(&o, 3, 255, &hops))
			return RN_ERR_PROTO;
		b->u.lookup.hops = (uint8_t)hops;
		return 0;
	case RN_BODY_TRACE:
	case RN_BODY_TRACE_REPLY:
		return decode_trace(&o, b);
	case RN_BODY_CTM_REPLY:
		return rn_mp_array(&o, 4, 4) ||
			       get_id(&o, 2, &b->u.ctm_reply.joiner) ||
			       get_ep(&o, 3, &b->u.ctm_reply.ep)
			   ? RN_ERR_PROTO
			   : 0;
	default:
		return RN_ERR_PROTO;
	}
}

int rn_msg_patch_hop_seq(uint8_t *buf, size_t len, uint32_t hop_seq)
{
	if (len < RN_ROUTED_HOPSEQ_OFF + 5 || buf[0] != 0x99 ||
	    buf[1] != RN_MSG_ROUTED ||
	    buf[RN_ROUTED_HOPSEQ_OFF] != 0xce)
		return RN_ERR_INVAL;
	uint8_t *p = buf + RN_ROUTED_HOPSEQ_OFF + 1;
	p[0] = (uint8_t)(hop_seq >> 24);
	p[1] = (uint8_t)(hop_seq >> 16);
	p[2] = (uint8_t)(hop_seq >> 8);
	p[3] = (uint8_t)hop_seq;
	return 0;
}
