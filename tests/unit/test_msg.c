/* Unit tests for overlay/msg.c: the overlay message and body codec.
 *
 * Round trips for every message and body type with random fields; the
 * byte layout of a few messages written out by hand from the msgpack
 * spec; and rejections built by re-packing a valid message with msgpack-c
 * (one element dropped, added, or replaced by a value of the wrong type),
 * wrong versions, wrong id/endpoint sizes, over-long lists and every
 * truncation. */
#include "test_util.h"

#include <msgpack.h>

#include "core/err.h"
#include "overlay/msg.h"
#include "tests/msg_eq.h"

#define ITERS 300

/* ---- random messages ---------------------------------------------------- */

static void rand_ep(trng *r, rn_ep *ep)
{
	if (trng_below(r, 2))
		rn_ep_from_ipv4(ep, (uint32_t)trng_u64(r), (uint16_t)trng_u64(r));
	else {
		trng_bytes(r, ep->addr, 16);
		ep->port = (uint16_t)trng_u64(r);
	}
}

/* Values that hit every msgpack integer width. */
static uint32_t rand_u32(trng *r)
{
	static const uint32_t edge[] = {0, 1, 127, 128, 255, 256, 65535, 65536,
					UINT32_MAX};
	if (trng_below(r, 3) == 0)
		return edge[trng_below(r, sizeof edge / sizeof edge[0])];
	return (uint32_t)(trng_u64(r) >> trng_below(r, 32));
}

static uint8_t body_store[RN_BODY_MAX];

static void rand_msg(trng *r, rn_msg *m, uint8_t type)
{
	memset(m, 0, sizeof *m);
	m->type = type;
	switch (type) {
	case RN_MSG_HELLO:
	case RN_MSG_HELLO_ACK:
		trng_bytes(r, m->u.hello.src.b, RN_ID_LEN);
		m->u.hello.kind = (uint8_t)trng_below(r, RN_KIND_ALL + 1);
		m->u.hello.token = rand_u32(r);
		rand_ep(r, &m->u.hello.your_ep);
		m->u.hello.ts_ms = rand_u32(r);
		/* a bootstrap's answer may name a peer */
		if (type == RN_MSG_HELLO_ACK && trng_below(r, 2)) {
			m->u.hello.kind |= RN_KIND_CTM_SENT;
			m->u.hello.has_peer = 1;
			trng_bytes(r, m->u.hello.peer.id.b, RN_ID_LEN);
			rand_ep(r, &m->u.hello.peer.ep);
		}
		break;
	case RN_MSG_PING:
	case RN_MSG_PONG:
		m->u.ping.ts_ms = rand_u32(r);
		break;
	case RN_MSG_CLOSE:
		m->u.close.reason = (uint8_t)(1 + trng_below(r, RN_CLOSE_REASON_MAX));
		break;
	case RN_MSG_NEIGHBORS:
	case RN_MSG_FAR_HINTS:
		m->u.neighbors.n = (uint8_t)trng_below(r, RN_NEIGHBORS_MAX + 1);
		for (unsigned i = 0; i < m->u.neighbors.n; i++) {
			trng_bytes(r, m->u.neighbors.v[i].id.b, RN_ID_LEN);
			rand_ep(r, &m->u.neighbors.v[i].ep);
		}
		break;
	case RN_MSG_ROUTED: {
		m->u.routed.hop_seq = rand_u32(r);
		trng_bytes(r, m->u.routed.src.b, RN_ID_LEN);
		trng_bytes(r, m->u.routed.dst.b, RN_ID_LEN);
		m->u.routed.mode = (uint8_t)trng_below(r, RN_ROUTE_MODE_MAX + 1);
		m->u.routed.hops = (uint8_t)trng_u64(r);
		m->u.routed.ttl = (uint8_t)trng_u64(r);
		size_t n = trng_below(r, 4) == 0 ? RN_BODY_MAX - trng_below(r, 3)
						 : trng_below(r, 300);
		trng_bytes(r, body_store, n);
		m->u.routed.body = body_store;
		m->u.routed.body_len = n;
		break;
	}
	case RN_MSG_HOP_ACK:
		m->u.hop_ack.hop_seq = rand_u32(r);
		break;
	default:
		break;
	}
}


static void rand_body(trng *r, rn_body *b, uint8_t type)
{
	memset(b, 0, sizeof *b);
	b->type = type;
	switch (type) {
	case RN_BODY_CTM:
		b->u.ctm.purpose = (uint8_t)(1 + trng_below(r, RN_CTM_PUNCH));
		b->u.ctm.token = rand_u32(r);
		b->u.ctm.n_eps = (uint8_t)(1 + trng_below(r, RN_CTM_EPS_MAX));
		for (unsigned i = 0; i < b->u.ctm.n_eps; i++)
			rand_ep(r, &b->u.ctm.eps[i]);
		b->u.ctm.has_relay = (uint8_t)trng_below(r, 2);
		if (b->u.ctm.has_relay)
			trng_bytes(r, b->u.ctm.relay.b, RN_ID_LEN);
		break;
	case RN_BODY_CTM_REPLY:
		trng_bytes(r, b->u.ctm_reply.joiner.b, RN_ID_LEN);
		rand_ep(r, &b->u.ctm_reply.ep);
		break;
	case RN_BODY_LOOKUP:
		b->u.lookup.qid = trng_u64(r) >> trng_below(r, 64);
		break;
	case RN_BODY_TRACE:
	case RN_BODY_TRACE_REPLY:
		b->u.trace.qid = trng_u64(r) >> trng_below(r, 64);
		b->u.trace.n = (uint8_t)trng_below(r, RN_TRACE_HOPS_MAX + 1);
		for (unsigned i = 0; i < b->u.trace.n; i++) {
			trng_bytes(r, b->u.trace.id[i].b, RN_ID_LEN);
			b->u.trace.rtt_ms[i] = (uint16_t)trng_u64(r);
		}
		break;
	default:
		b->u.lookup.qid = trng_u64(r) >> trng_below(r, 64);
		b->u.lookup.hops = (uint8_t)trng_u64(r);
		break;
	}
}


/* ---- fixtures ----------------------------------------------------------- */

typedef struct fx {
	msgpack_zone zone;  /* for the code under test */
	msgpack_zone zone2; /* for the test's own unpacking */
	msgpack_sbuffer sb;
	uint8_t *last; /* the last exact-size input copy (decoded views into it) */
} fx;

static int setup(void **state)
{
	fx *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	msgpack_zone_init(&f->zone, 4096);
	msgpack_zone_init(&f->zone2, 4096);
	msgpack_sbuffer_init(&f->sb);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	msgpack_zone_destroy(&f->zone);
	msgpack_zone_destroy(&f->zone2);
	msgpack_sbuffer_destroy(&f->sb);
	free(f->last);
	free(f);
	return 0;
}

static const uint8_t all_types[] = {RN_MSG_HELLO, RN_MSG_HELLO_ACK,
				    RN_MSG_PING, RN_MSG_PONG, RN_MSG_CLOSE,
				    RN_MSG_NEIGHBORS, RN_MSG_ROUTED,
				    RN_MSG_HOP_ACK, RN_MSG_FAR_HINTS};
#define N_TYPES (sizeof all_types / sizeof all_types[0])

static const uint8_t all_bodies[] = {RN_BODY_CTM, RN_BODY_LOOKUP,
				     RN_BODY_LOOKUP_REPLY, RN_BODY_TRACE,
				     RN_BODY_TRACE_REPLY, RN_BODY_CTM_REPLY};
#define N_BODIES (sizeof all_bodies / sizeof all_bodies[0])

/* Decodes a heap copy of exactly len bytes (ASan sees over-reads). The
 * copy lives until the next call: a decoded ROUTED body points into it. */
static int decode_copy(fx *f, const uint8_t *p, size_t len, rn_msg *m)
{
	free(f->last);
	f->last = malloc(len ? len : 1);
	assert_non_null(f->last);
	memcpy(f->last, p, len);
	return rn_msg_decode(&f->zone, f->last, len, m);
}

static int body_decode_copy(fx *f, const uint8_t *p, size_t len, rn_body *b)
{
	uint8_t *q = malloc(len ? len : 1);
	assert_non_null(q);
	memcpy(q, p, len);
	int rc = rn_body_decode(&f->zone, q, len, b);
	free(q);
	return rc;
}

/* ---- round trips -------------------------------------------------------- */

static void test_round_trip(void **state)
{
	fx *f = *state;
	uint64_t seed = rn_test_seed();
	trng r;
	trng_init(&r, seed);
	uint8_t buf[RN_DGRAM_MAX];
	for (uint64_t it = 0; it < ITERS * N_TYPES; it++) {
		rn_msg m, d;
		size_t len = 0;
		rand_msg(&r, &m, all_types[it % N_TYPES]);
		PCHECK(rn_msg_encode(&m, buf, sizeof buf, &len) == 0, seed, it);
		PCHECK(len > 0 && len <= RN_DGRAM_MAX, seed, it);
		memset(&d, 0xa5, sizeof d);
		PCHECK(rn_msg_decode(&f->zone, buf, len, &d) == 0, seed, it);
		PCHECK(rn_test_msg_eq(&m, &d), seed, it);
		/* [type, version, ...]: a fixarray, then two positive fixints */
		PCHECK((buf[0] & 0xf0) == 0x90, seed, it);
		PCHECK(buf[1] == m.type && buf[2] == RN_PROTO_VERSION, seed, it);
		/* a ROUTED body points into the input, not a copy */
		if (m.type == RN_MSG_ROUTED && d.u.routed.body_len)
			PCHECK(d.u.routed.body > buf && d.u.routed.body < buf + len,
			       seed, it);
	}
}

static void test_body_round_trip(void **state)
{
	fx *f = *state;
	uint64_t seed = rn_test_seed();
	trng r;
	trng_init(&r, seed + 1);
	uint8_t buf[RN_BODY_MAX];
	for (uint64_t it = 0; it < 3 * ITERS; it++) {
		rn_body b, d;
		size_t len = 0;
		rand_body(&r, &b, all_bodies[it % N_BODIES]);
		PCHECK(rn_body_encode(&b, buf, sizeof buf, &len) == 0, seed, it);
		memset(&d, 0xa5, sizeof d);
		PCHECK(rn_body_decode(&f->zone, buf, len, &d) == 0, seed, it);
		PCHECK(rn_test_body_eq(&b, &d), seed, it);
		/* and carried inside a ROUTED message */
		rn_msg m, dm;
		uint8_t out[RN_DGRAM_MAX];
		size_t olen;
		rand_msg(&r, &m, RN_MSG_ROUTED);
		m.u.routed.body = buf;
		m.u.routed.body_len = len;
		PCHECK(rn_msg_encode(&m, out, sizeof out, &olen) == 0, seed, it);
		PCHECK(rn_msg_decode(&f->zone, out, olen, &dm) == 0, seed, it);
		PCHECK(rn_body_decode(&f->zone, dm.u.routed.body,
				      dm.u.routed.body_len, &d) == 0,
		       seed, it);
		PCHECK(rn_test_body_eq(&b, &d), seed, it);
	}
	/* extremes */
	rn_body b, d;
	size_t len;
	b.type = RN_BODY_LOOKUP_REPLY;
	b.u.lookup.qid = UINT64_MAX;
	b.u.lookup.hops = 255;
	assert_int_equal(rn_body_encode(&b, buf, sizeof buf, &len), 0);
	assert_int_equal(rn_body_decode(&f->zone, buf, len, &d), 0);
	assert_true(d.u.lookup.qid == UINT64_MAX);
	assert_int_equal(d.u.lookup.hops, 255);
}

/* ---- hand-derived byte layouts ------------------------------------------ */

static void test_layouts(void **state)
{
	(void)state;
	uint8_t buf[RN_DGRAM_MAX];
	size_t len;
	rn_msg m;
	memset(&m, 0, sizeof m);
	m.type = RN_MSG_PING;
	m.u.ping.ts_ms = 5;
	assert_int_equal(rn_msg_encode(&m, buf, sizeof buf, &len), 0);
	static const uint8_t ping[] = {0x93, 0x03, 0x01, 0x05};
	assert_int_equal(len, sizeof ping);
	assert_memory_equal(buf, ping, sizeof ping);

	m.type = RN_MSG_HOP_ACK;
	m.u.hop_ack.hop_seq = 0x12345678u;
	assert_int_equal(rn_msg_encode(&m, buf, sizeof buf, &len), 0);
	static const uint8_t ack[] = {0x93, 0x08, 0x01, 0xce, 0x12, 0x34, 0x56, 0x78};
	assert_int_equal(len, sizeof ack);
	assert_memory_equal(buf, ack, sizeof ack);

	m.type = RN_MSG_CLOSE;
	m.u.close.reason = RN_CLOSE_LEAVING;
	assert_int_equal(rn_msg_encode(&m, buf, sizeof buf, &len), 0);
	static const uint8_t cls[] = {0x93, 0x05, 0x01, 0x04};
	assert_int_equal(len, sizeof cls);
	assert_memory_equal(buf, cls, sizeof cls);

	/* ROUTED: hop_seq is a 5-byte uint32 at offset 3 even when small */
	memset(&m, 0, sizeof m);
	m.type = RN_MSG_ROUTED;
	m.u.routed.hop_seq = 1;
	memset(m.u.routed.src.b, 0x11, RN_ID_LEN);
	memset(m.u.routed.dst.b, 0x22, RN_ID_LEN);
	m.u.routed.mode = 1;
	m.u.routed.hops = 2;
	m.u.routed.ttl = 64;
	m.u.routed.body = (const uint8_t *)"\x93\x02\x01\x07";
	m.u.routed.body_len = 4;
	assert_int_equal(rn_msg_encode(&m, buf, sizeof buf, &len), 0);
	uint8_t want[160];
	size_t k = 0;
	want[k++] = 0x99;
	want[k++] = 0x07;
	want[k++] = 0x01;
	want[k++] = 0xce;
	want[k++] = 0;
	want[k++] = 0;
	want[k++] = 0;
	want[k++] = 1;
	want[k++] = 0xc4;
	want[k++] = 20;
	memset(want + k, 0x11, 20);
	k += 20;
	want[k++] = 0xc4;
	want[k++] = 20;
	memset(want + k, 0x22, 20);
	k += 20;
	want[k++] = 1;
	want[k++] = 2;
	want[k++] = 64;
	want[k++] = 0xc4;
	want[k++] = 4;
	memcpy(want + k, "\x93\x02\x01\x07", 4);
	k += 4;
	assert_int_equal(len, k);
	assert_memory_equal(buf, want, k);
	assert_int_equal(RN_ROUTED_HOPSEQ_OFF, 3);

	/* HELLO: ids as bin 20, endpoints as bin 18 (address, port BE) */
	memset(&m, 0, sizeof m);
	m.type = RN_MSG_HELLO;
	memset(m.u.hello.src.b, 0xab, RN_ID_LEN);
	m.u.hello.kind = RN_KIND_LEAF;
	m.u.hello.token = 300;
	rn_ep_from_ipv4(&m.u.hello.your_ep, 0x0a000001u, 4000);
	m.u.hello.ts_ms = 0;
	assert_int_equal(rn_msg_encode(&m, buf, sizeof buf, &len), 0);
	k = 0;
	want[k++] = 0x97;
	want[k++] = 0x01;
	want[k++] = 0x01;
	want[k++] = 0xc4;
	want[k++] = 20;
	memset(want + k, 0xab, 20);
	k += 20;
	want[k++] = 0x01;
	want[k++] = 0xcd;
	want[k++] = 0x01;
	want[k++] = 0x2c;
	want[k++] = 0xc4;
	want[k++] = 18;
	static const uint8_t ep[18] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
				       10, 0, 0, 1, 0x0f, 0xa0};
	memcpy(want + k, ep, 18);
	k += 18;
	want[k++] = 0x00;
	assert_int_equal(len, k);
	assert_memory_equal(buf, want, k);

	/* the same as a bootstrap's HELLO_ACK naming a peer: an 8th element
	 * [id, ep] */
	m.type = RN_MSG_HELLO_ACK;
	m.u.hello.kind = RN_KIND_LEAF | RN_KIND_CTM_SENT;
	m.u.hello.has_peer = 1;
	memset(m.u.hello.peer.id.b, 0xcd, RN_ID_LEN);
	rn_ep_from_ipv4(&m.u.hello.peer.ep, 0x0a000001u, 4000);
	assert_int_equal(rn_msg_encode(&m, buf, sizeof buf, &len), 0);
	want[0] = 0x98;
	want[1] = 0x02;
	want[3 + 22] = 0x11; /* kind, after the header and the id */
	want[k++] = 0x92;
	want[k++] = 0xc4;
	want[k++] = 20;
	memset(want + k, 0xcd, 20);
	k += 20;
	want[k++] = 0xc4;
	want[k++] = 18;
	memcpy(want + k, ep, 18);
	k += 18;
	assert_int_equal(len, k);
	assert_memory_equal(buf, want, k);

	/* CTM_REPLY [6, 1, joiner, ep] and a CTM with its relay */
	rn_body b;
	memset(&b, 0, sizeof b);
	b.type = RN_BODY_CTM_REPLY;
	memset(b.u.ctm_reply.joiner.b, 0xab, RN_ID_LEN);
	rn_ep_from_ipv4(&b.u.ctm_reply.ep, 0x0a000001u, 4000);
	assert_int_equal(rn_body_encode(&b, buf, sizeof buf, &len), 0);
	k = 0;
	want[k++] = 0x94;
	want[k++] = 0x06;
	want[k++] = 0x01;
	want[k++] = 0xc4;
	want[k++] = 20;
	memset(want + k, 0xab, 20);
	k += 20;
	want[k++] = 0xc4;
	want[k++] = 18;
	memcpy(want + k, ep, 18);
	k += 18;
	assert_int_equal(len, k);
	assert_memory_equal(buf, want, k);
	memset(&b, 0, sizeof b);
	b.type = RN_BODY_CTM;
	b.u.ctm.purpose = RN_CTM_PUNCH;
	b.u.ctm.n_eps = 1;
	b.u.ctm.eps[0] = m.u.hello.peer.ep;
	b.u.ctm.has_relay = 1;
	memset(b.u.ctm.relay.b, 0xab, RN_ID_LEN);
	assert_int_equal(rn_body_encode(&b, buf, sizeof buf, &len), 0);
	static const uint8_t ctm_head[] = {0x96, 0x01, 0x01, 0x03, 0x00, 0x91,
					   0xc4, 18};
	assert_int_equal(len, sizeof ctm_head + 18 + 22);
	assert_memory_equal(buf, ctm_head, sizeof ctm_head);
	assert_memory_equal(buf + sizeof ctm_head, ep, 18);
	assert_int_equal(buf[sizeof ctm_head + 18], 0xc4);
	assert_int_equal(buf[sizeof ctm_head + 19], 20);
}

/* ---- encoder refusals --------------------------------------------------- */

static void test_encode_refusals(void **state)
{
	(void)state;
	uint64_t seed = rn_test_seed();
	trng r;
	trng_init(&r, seed + 2);
	uint8_t buf[RN_PLAIN_MAX + 8];
	size_t len = 12345;
	rn_msg m;
	rand_msg(&r, &m, RN_MSG_NEIGHBORS);
	m.u.neighbors.n = RN_NEIGHBORS_MAX + 1;
	assert_int_equal(rn_msg_encode(&m, buf, sizeof buf, &len), RN_ERR_INVAL);
	rand_msg(&r, &m, RN_MSG_ROUTED);
	/* a data body (the largest routed body) still fits under DATA */
	uint8_t big[RN_BODY_DATA_MAX + 1] = {0};
	m.u.routed.body = big;
	m.u.routed.body_len = RN_BODY_DATA_MAX + 1;
	assert_int_equal(rn_msg_encode(&m, buf, sizeof buf, &len), RN_ERR_INVAL);
	m.u.routed.body_len = RN_BODY_DATA_MAX;
	m.u.routed.hop_seq = UINT32_MAX;
	m.u.routed.hops = m.u.routed.ttl = 255;
	m.u.routed.mode = RN_ROUTE_MODE_MAX;
	assert_int_equal(rn_msg_encode(&m, buf, sizeof buf, &len), 0);
	assert_true(len <= RN_PLAIN_MAX);
	m.type = 0;
	assert_int_equal(rn_msg_encode(&m, buf, sizeof buf, &len), RN_ERR_INVAL);
	m.type = 9;
	assert_int_equal(rn_msg_encode(&m, buf, sizeof buf, &len), RN_ERR_INVAL);

	rn_body b;
	rand_body(&r, &b, RN_BODY_CTM);
	b.u.ctm.n_eps = RN_CTM_EPS_MAX + 1;
	assert_int_equal(rn_body_encode(&b, buf, sizeof buf, &len), RN_ERR_INVAL);
	b.type = RN_BODY_CTM_REPLY + 1;
	assert_int_equal(rn_body_encode(&b, buf, sizeof buf, &len), RN_ERR_INVAL);
	/* a peer only in a bootstrap's answer: HELLO_ACK with CTM_SENT */
	rand_msg(&r, &m, RN_MSG_HELLO);
	m.u.hello.kind = RN_KIND_LEAF | RN_KIND_CTM_SENT;
	m.u.hello.has_peer = 1;
	assert_int_equal(rn_msg_encode(&m, buf, sizeof buf, &len), RN_ERR_INVAL);
	m.type = RN_MSG_HELLO_ACK;
	m.u.hello.kind = RN_KIND_LEAF | RN_KIND_NEAR;
	assert_int_equal(rn_msg_encode(&m, buf, sizeof buf, &len), RN_ERR_INVAL);
	m.u.hello.kind = RN_KIND_LEAF | RN_KIND_CTM_SENT;
	assert_int_equal(rn_msg_encode(&m, buf, sizeof buf, &len), 0);
	rand_body(&r, &b, RN_BODY_TRACE);
	b.u.trace.n = RN_TRACE_HOPS_MAX + 1;
	assert_int_equal(rn_body_encode(&b, buf, sizeof buf, &len), RN_ERR_INVAL);

	/* every capacity short of the encoding: TOOBIG, no byte past cap */
	for (uint64_t it = 0; it < N_TYPES * 20; it++) {
		rand_msg(&r, &m, all_types[it % N_TYPES]);
		size_t full;
		PCHECK(rn_msg_encode(&m, buf, sizeof buf, &full) == 0, seed, it);
		size_t cap = trng_below(&r, full);
		memset(buf, 0xee, sizeof buf);
		PCHECK(rn_msg_encode(&m, buf, cap, &len) == RN_ERR_TOOBIG, seed, it);
		for (size_t i = cap; i < sizeof buf; i++)
			PCHECK(buf[i] == 0xee, seed, it);
		PCHECK(rn_msg_encode(&m, buf, full, &len) == 0 && len == full, seed,
		       it);
	}
	for (uint64_t it = 0; it < 60; it++) {
		rand_body(&r, &b, all_bodies[it % N_BODIES]);
		size_t full;
		PCHECK(rn_body_encode(&b, buf, sizeof buf, &full) == 0, seed, it);
		size_t cap = trng_below(&r, full);
		PCHECK(rn_body_encode(&b, buf, cap, &len) == RN_ERR_TOOBIG, seed, it);
	}
}

/* ---- decoder refusals --------------------------------------------------- */

/* Re-packs the array o with element `drop` removed (-1: none), element
 * `replace` replaced by the packed bytes rep (-1: none), and `extra` nils
 * appended. */
static void repack(msgpack_sbuffer *sb, const msgpack_object *o, int drop,
		   int replace, void (*rep)(msgpack_packer *), int extra)
{
	msgpack_packer pk;
	msgpack_sbuffer_clear(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	uint32_t n = o->via.array.size - (drop >= 0) + (uint32_t)extra;
	msgpack_pack_array(&pk, n);
	for (uint32_t i = 0; i < o->via.array.size; i++) {
		if ((int)i == drop)
			continue;
		if ((int)i == replace)
			rep(&pk);
		else
			msgpack_pack_object(&pk, o->via.array.ptr[i]);
	}
	for (int i = 0; i < extra; i++)
		msgpack_pack_nil(&pk);
}

static void rep_nil(msgpack_packer *pk) { msgpack_pack_nil(pk); }
static void rep_str(msgpack_packer *pk)
{
	msgpack_pack_str(pk, 1);
	msgpack_pack_str_body(pk, "x", 1);
}
static void rep_neg(msgpack_packer *pk) { msgpack_pack_int8(pk, -1); }
static void rep_true(msgpack_packer *pk) { msgpack_pack_true(pk); }
static void rep_map(msgpack_packer *pk) { msgpack_pack_map(pk, 0); }
static void rep_float(msgpack_packer *pk) { msgpack_pack_double(pk, 1.0); }
static void rep_bin19(msgpack_packer *pk)
{
	uint8_t z[19] = {0};
	msgpack_pack_bin(pk, 19);
	msgpack_pack_bin_body(pk, z, 19);
}
static void rep_bin21(msgpack_packer *pk)
{
	uint8_t z[21] = {0};
	msgpack_pack_bin(pk, 21);
	msgpack_pack_bin_body(pk, z, 21);
}
static void rep_bin17(msgpack_packer *pk)
{
	uint8_t z[17] = {0};
	msgpack_pack_bin(pk, 17);
	msgpack_pack_bin_body(pk, z, 17);
}
static void rep_bin18(msgpack_packer *pk)
{
	uint8_t z[18] = {0};
	msgpack_pack_bin(pk, 18);
	msgpack_pack_bin_body(pk, z, 18);
}
static void rep_u8_0(msgpack_packer *pk) { msgpack_pack_uint8(pk, 0); }
static void rep_u8_1(msgpack_packer *pk) { msgpack_pack_uint8(pk, 1); }
static void rep_u8_2(msgpack_packer *pk) { msgpack_pack_uint8(pk, 2); }
static void rep_u8_9(msgpack_packer *pk) { msgpack_pack_uint8(pk, 9); }
static void rep_u32_max1(msgpack_packer *pk)
{
	msgpack_pack_uint64(pk, (uint64_t)UINT32_MAX + 1);
}
static void rep_u8_256(msgpack_packer *pk) { msgpack_pack_uint16(pk, 256); }

static void (*const wrong_types[])(msgpack_packer *) = {
	rep_nil, rep_str, rep_neg, rep_true, rep_map, rep_float};

/* Unpacks a valid encoding of m with msgpack-c into the test's zone. */
static void unpack_valid(fx *f, const rn_msg *m, uint8_t *buf, size_t *len,
			 msgpack_object *o)
{
	assert_int_equal(rn_msg_encode(m, buf, RN_DGRAM_MAX, len), 0);
	size_t off = 0;
	msgpack_zone_clear(&f->zone2);
	assert_int_equal(msgpack_unpack((const char *)buf, *len, &off, &f->zone2, o),
			 MSGPACK_UNPACK_SUCCESS);
}

static int decode_sb(fx *f, rn_msg *d)
{
	return decode_copy(f, (const uint8_t *)f->sb.data, f->sb.size, d);
}

static void test_decode_version(void **state)
{
	fx *f = *state;
	uint64_t seed = rn_test_seed();
	trng r;
	trng_init(&r, seed + 3);
	uint8_t buf[RN_DGRAM_MAX];
	size_t len;
	msgpack_object o;
	rn_msg m, d;
	for (size_t t = 0; t < N_TYPES; t++) {
		rand_msg(&r, &m, all_types[t]);
		unpack_valid(f, &m, buf, &len, &o);
		/* the control: re-packing unchanged decodes */
		repack(&f->sb, &o, -1, -1, NULL, 0);
		assert_int_equal(decode_sb(f, &d), 0);
		assert_true(rn_test_msg_eq(&m, &d));
		repack(&f->sb, &o, -1, 1, rep_u8_2, 0);
		assert_int_equal(decode_sb(f, &d), RN_ERR_VERSION);
		repack(&f->sb, &o, -1, 1, rep_u8_0, 0);
		assert_int_equal(decode_sb(f, &d), RN_ERR_VERSION);
		repack(&f->sb, &o, -1, 1, rep_u8_9, 0);
		assert_int_equal(decode_sb(f, &d), RN_ERR_VERSION);
		/* and by patching the byte directly */
		buf[2] = 2;
		assert_int_equal(decode_copy(f, buf, len, &d), RN_ERR_VERSION);
	}
}

static void test_decode_counts_and_types(void **state)
{
	fx *f = *state;
	uint64_t seed = rn_test_seed();
	trng r;
	trng_init(&r, seed + 4);
	uint8_t buf[RN_DGRAM_MAX];
	size_t len;
	msgpack_object o;
	rn_msg m, d;
	for (size_t t = 0; t < N_TYPES; t++) {
		rand_msg(&r, &m, all_types[t]);
		unpack_valid(f, &m, buf, &len, &o);
		uint32_t n = o.via.array.size;
		/* one element fewer (any of them after the header) or more;
		 * a HELLO_ACK's peer is the one that may go */
		for (uint32_t i = 2; i < n; i++) {
			int optional = i == 7 && m.type == RN_MSG_HELLO_ACK &&
				       m.u.hello.has_peer;
			repack(&f->sb, &o, (int)i, -1, NULL, 0);
			if (decode_sb(f, &d) != (optional ? 0 : RN_ERR_PROTO))
				fail_msg("type %u without element %u: wrong answer",
					 all_types[t], i);
		}
		for (int extra = 1; extra <= 3; extra++) {
			repack(&f->sb, &o, -1, -1, NULL, extra);
			if (decode_sb(f, &d) != RN_ERR_PROTO)
				fail_msg("type %u with %d extra accepted",
					 all_types[t], extra);
		}
		/* just the header */
		repack(&f->sb, &o, -1, -1, NULL, 0);
		msgpack_packer pk;
		msgpack_sbuffer_clear(&f->sb);
		msgpack_packer_init(&pk, &f->sb, msgpack_sbuffer_write);
		msgpack_pack_array(&pk, 2);
		msgpack_pack_uint8(&pk, all_types[t]);
		msgpack_pack_uint8(&pk, RN_PROTO_VERSION);
		assert_int_equal(decode_sb(f, &d), RN_ERR_PROTO);
		/* every element replaced by a value of a wrong type */
		for (uint32_t i = 0; i < n; i++)
			for (size_t w = 0; w < sizeof wrong_types / sizeof wrong_types[0];
			     w++) {
				repack(&f->sb, &o, -1, (int)i, wrong_types[w], 0);
				int rc = decode_sb(f, &d);
				if (rc == 0)
					fail_msg("type %u element %u of wrong kind %zu "
						 "accepted",
						 all_types[t], i, w);
			}
		/* the array itself is a map */
		msgpack_sbuffer_clear(&f->sb);
		msgpack_packer_init(&pk, &f->sb, msgpack_sbuffer_write);
		msgpack_pack_map(&pk, 1);
		msgpack_pack_uint8(&pk, all_types[t]);
		msgpack_pack_uint8(&pk, RN_PROTO_VERSION);
		assert_int_equal(decode_sb(f, &d), RN_ERR_PROTO);
	}
	/* unknown types, with a plausible body */
	static const uint8_t unknown[][4] = {{0x93, 0x00, 0x01, 0x00},
					     {0x93, 0x09, 0x01, 0x00},
					     {0x93, 0x7f, 0x01, 0x00}};
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(decode_copy(f, unknown[i], 4, &d), RN_ERR_PROTO);
	/* scalars and empty containers */
	static const uint8_t scalar[] = {0x01};
	assert_int_not_equal(decode_copy(f, scalar, 1, &d), 0);
	static const uint8_t empty[] = {0x90};
	assert_int_not_equal(decode_copy(f, empty, 1, &d), 0);
	assert_int_not_equal(decode_copy(f, empty, 0, &d), 0);
}

static void pack_entry(msgpack_packer *pk, size_t id_len, size_t ep_len,
		       int n_elems);

/* Field-specific range checks: ids, endpoints, kind, reason, mode, u8s. */
static void test_decode_fields(void **state)
{
	fx *f = *state;
	uint64_t seed = rn_test_seed();
	trng r;
	trng_init(&r, seed + 5);
	uint8_t buf[RN_DGRAM_MAX];
	size_t len;
	msgpack_object o;
	rn_msg m, d;
	struct {
		uint8_t type;
		int elem;
		void (*rep)(msgpack_packer *);
		int ok;
	} cases[] = {
		{RN_MSG_HELLO, 2, rep_bin19, 0},     {RN_MSG_HELLO, 2, rep_bin21, 0},
		{RN_MSG_HELLO, 5, rep_bin17, 0},     {RN_MSG_HELLO, 5, rep_bin19, 0},
		{RN_MSG_HELLO, 5, rep_bin18, 1},     {RN_MSG_HELLO, 3, rep_u8_256, 0},
		{RN_MSG_HELLO_ACK, 2, rep_bin19, 0}, {RN_MSG_HELLO_ACK, 2, rep_bin21, 0},
		{RN_MSG_HELLO, 4, rep_u32_max1, 0},  {RN_MSG_HELLO, 6, rep_u32_max1, 0},
		{RN_MSG_PING, 2, rep_u32_max1, 0},   {RN_MSG_HOP_ACK, 2, rep_u32_max1, 0},
		{RN_MSG_CLOSE, 2, rep_u8_0, 0},      {RN_MSG_CLOSE, 2, rep_u8_1, 1},
		{RN_MSG_CLOSE, 2, rep_u8_9, 0},
		{RN_MSG_ROUTED, 2, rep_u32_max1, 0}, {RN_MSG_ROUTED, 3, rep_bin19, 0},
		{RN_MSG_ROUTED, 3, rep_bin21, 0},    {RN_MSG_ROUTED, 4, rep_bin19, 0},
		{RN_MSG_ROUTED, 4, rep_bin21, 0},    {RN_MSG_ROUTED, 5, rep_u8_9, 0},
		{RN_MSG_ROUTED, 6, rep_u8_256, 0},   {RN_MSG_ROUTED, 7, rep_u8_256, 0},
		{RN_MSG_ROUTED, 8, rep_str, 0},      {RN_MSG_ROUTED, 8, rep_bin21, 1},
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		rand_msg(&r, &m, cases[c].type);
		unpack_valid(f, &m, buf, &len, &o);
		repack(&f->sb, &o, -1, cases[c].elem, cases[c].rep, 0);
		int rc = decode_sb(f, &d);
		if (cases[c].ok ? rc != 0 : rc != RN_ERR_PROTO)
			fail_msg("case %zu (type %u elem %d): rc %d", c, cases[c].type,
				 cases[c].elem, rc);
	}
	/* HELLO kind: every value up to RN_KIND_ALL, nothing above */
	for (uint32_t kind = 0; kind < 40; kind++) {
		rand_msg(&r, &m, RN_MSG_HELLO);
		m.u.hello.kind = (uint8_t)kind;
		assert_int_equal(rn_msg_encode(&m, buf, sizeof buf, &len), 0);
		int rc = decode_copy(f, buf, len, &d);
		assert_int_equal(rc, kind <= RN_KIND_ALL ? 0 : RN_ERR_PROTO);
	}
	/* ROUTED mode: up to RN_ROUTE_MODE_MAX */
	for (uint32_t mode = 0; mode < 10; mode++) {
		rand_msg(&r, &m, RN_MSG_ROUTED);
		m.u.routed.mode = (uint8_t)mode;
		assert_int_equal(rn_msg_encode(&m, buf, sizeof buf, &len), 0);
		assert_int_equal(decode_copy(f, buf, len, &d),
				 mode <= RN_ROUTE_MODE_MAX ? 0 : RN_ERR_PROTO);
	}
	/* ROUTED body of RN_BODY_DATA_MAX + 1 bytes (built by hand) */
	rand_msg(&r, &m, RN_MSG_ROUTED);
	unpack_valid(f, &m, buf, &len, &o);
	{
		msgpack_packer pk;
		static uint8_t big[RN_BODY_DATA_MAX + 1];
		msgpack_sbuffer_clear(&f->sb);
		msgpack_packer_init(&pk, &f->sb, msgpack_sbuffer_write);
		msgpack_pack_array(&pk, 9);
		for (int i = 0; i < 8; i++)
			msgpack_pack_object(&pk, o.via.array.ptr[i]);
		msgpack_pack_bin(&pk, sizeof big);
		msgpack_pack_bin_body(&pk, big, sizeof big);
		assert_int_equal(decode_sb(f, &d), RN_ERR_PROTO);
	}
	/* a peer [id, ep]: only in a HELLO_ACK with CTM_SENT, exact sizes */
	static const struct {
		uint8_t type, kind;
		size_t id_len, ep_len;
		int n, ok;
	} peers[] = {
		{RN_MSG_HELLO_ACK, RN_KIND_LEAF | RN_KIND_CTM_SENT, 20, 18, 2, 1},
		{RN_MSG_HELLO_ACK, RN_KIND_CTM_SENT, 20, 18, 2, 1},
		{RN_MSG_HELLO_ACK, RN_KIND_LEAF, 20, 18, 2, 0},
		{RN_MSG_HELLO, RN_KIND_LEAF | RN_KIND_CTM_SENT, 20, 18, 2, 0},
		{RN_MSG_HELLO_ACK, RN_KIND_CTM_SENT, 19, 18, 2, 0},
		{RN_MSG_HELLO_ACK, RN_KIND_CTM_SENT, 20, 17, 2, 0},
		{RN_MSG_HELLO_ACK, RN_KIND_CTM_SENT, 20, 18, 3, 0},
		{RN_MSG_HELLO_ACK, RN_KIND_CTM_SENT, 20, 18, 1, 0},
	};
	for (size_t c = 0; c < sizeof peers / sizeof peers[0]; c++) {
		msgpack_packer pk;
		rand_msg(&r, &m, RN_MSG_HELLO);
		m.type = peers[c].type;
		m.u.hello.kind = peers[c].kind;
		unpack_valid(f, &m, buf, &len, &o);
		msgpack_sbuffer_clear(&f->sb);
		msgpack_packer_init(&pk, &f->sb, msgpack_sbuffer_write);
		msgpack_pack_array(&pk, 8);
		for (int i = 0; i < 7; i++)
			msgpack_pack_object(&pk, o.via.array.ptr[i]);
		pack_entry(&pk, peers[c].id_len, peers[c].ep_len, peers[c].n);
		int rc = decode_sb(f, &d);
		if (peers[c].ok ? rc != 0 || !d.u.hello.has_peer : rc != RN_ERR_PROTO)
			fail_msg("peer case %zu: rc %d", c, rc);
	}
}

static void pack_entry(msgpack_packer *pk, size_t id_len, size_t ep_len,
		       int n_elems)
{
	uint8_t z[32] = {0};
	msgpack_pack_array(pk, (size_t)n_elems);
	msgpack_pack_bin(pk, id_len);
	msgpack_pack_bin_body(pk, z, id_len);
	msgpack_pack_bin(pk, ep_len);
	msgpack_pack_bin_body(pk, z, ep_len);
	for (int i = 2; i < n_elems; i++)
		msgpack_pack_nil(pk);
}

static int decode_neighbors_built(fx *f, uint32_t n, int bad_at, int bad_kind)
{
	msgpack_packer pk;
	rn_msg d;
	msgpack_sbuffer_clear(&f->sb);
	msgpack_packer_init(&pk, &f->sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 3);
	msgpack_pack_uint8(&pk, RN_MSG_NEIGHBORS);
	msgpack_pack_uint8(&pk, RN_PROTO_VERSION);
	msgpack_pack_array(&pk, n);
	for (uint32_t i = 0; i < n; i++) {
		if ((int)i != bad_at) {
			pack_entry(&pk, RN_ID_LEN, RN_EP_WIRE_LEN, 2);
			continue;
		}
		switch (bad_kind) {
		case 0: pack_entry(&pk, 19, RN_EP_WIRE_LEN, 2); break;
		case 1: pack_entry(&pk, 21, RN_EP_WIRE_LEN, 2); break;
		case 2: pack_entry(&pk, RN_ID_LEN, 17, 2); break;
		case 3: pack_entry(&pk, RN_ID_LEN, 19, 2); break;
		case 4: pack_entry(&pk, RN_ID_LEN, RN_EP_WIRE_LEN, 3); break;
		case 5:
			msgpack_pack_array(&pk, 1);
			msgpack_pack_bin(&pk, 20);
			msgpack_pack_bin_body(&pk, "01234567890123456789", 20);
			break;
		default: msgpack_pack_nil(&pk); break;
		}
	}
	return decode_sb(f, &d);
}

static void test_decode_neighbors(void **state)
{
	fx *f = *state;
	for (uint32_t n = 0; n <= RN_NEIGHBORS_MAX; n++)
		assert_int_equal(decode_neighbors_built(f, n, -1, 0), 0);
	assert_int_equal(decode_neighbors_built(f, RN_NEIGHBORS_MAX + 1, -1, 0),
			 RN_ERR_PROTO);
	assert_int_equal(decode_neighbors_built(f, 100, -1, 0), RN_ERR_PROTO);
	for (int kind = 0; kind <= 6; kind++)
		for (int at = 0; at < 3; at++)
			if (decode_neighbors_built(f, 3, at, kind) != RN_ERR_PROTO)
				fail_msg("NEIGHBORS with bad entry kind %d at %d "
					 "accepted",
					 kind, at);
}

static void test_decode_truncations(void **state)
{
	fx *f = *state;
	uint64_t seed = rn_test_seed();
	trng r;
	trng_init(&r, seed + 6);
	uint8_t buf[RN_DGRAM_MAX + 1];
	for (uint64_t it = 0; it < N_TYPES * 10; it++) {
		rn_msg m, d;
		size_t len;
		rand_msg(&r, &m, all_types[it % N_TYPES]);
		if (m.type == RN_MSG_ROUTED)
			m.u.routed.body_len %= 64; /* keep the loop short */
		PCHECK(rn_msg_encode(&m, buf, RN_DGRAM_MAX, &len) == 0, seed, it);
		for (size_t k = 0; k < len; k++)
			PCHECK(decode_copy(f, buf, k, &d) != 0, seed, it);
		/* one byte too many */
		buf[len] = 0xc0;
		PCHECK(decode_copy(f, buf, len + 1, &d) != 0, seed, it);
		PCHECK(decode_copy(f, buf, len, &d) == 0, seed, it);
	}
	for (uint64_t it = 0; it < 30; it++) {
		rn_body b, d;
		size_t len;
		rand_body(&r, &b, all_bodies[it % N_BODIES]);
		PCHECK(rn_body_encode(&b, buf, RN_DGRAM_MAX, &len) == 0, seed, it);
		for (size_t k = 0; k < len; k++)
			PCHECK(body_decode_copy(f, buf, k, &d) != 0, seed, it);
		buf[len] = 0xc0;
		PCHECK(body_decode_copy(f, buf, len + 1, &d) != 0, seed, it);
	}
}

static void test_decode_random_bytes(void **state)
{
	fx *f = *state;
	uint64_t seed = rn_test_seed();
	trng r;
	trng_init(&r, seed + 7);
	uint8_t buf[RN_DGRAM_MAX];
	/* mutated valid messages: no crash, no over-read (ASan); whatever
	 * decodes re-encodes to something that decodes to the same */
	for (uint64_t it = 0; it < 20000; it++) {
		rn_msg m, d, d2;
		size_t len;
		rand_msg(&r, &m, all_types[it % N_TYPES]);
		if (m.type == RN_MSG_ROUTED)
			m.u.routed.body_len %= 64;
		PCHECK(rn_msg_encode(&m, buf, sizeof buf, &len) == 0, seed, it);
		buf[trng_below(&r, len)] = (uint8_t)trng_u64(&r);
		if (decode_copy(f, buf, len, &d) == 0) {
			uint8_t out[RN_DGRAM_MAX];
			size_t olen;
			uint8_t body[RN_BODY_MAX];
			if (d.type == RN_MSG_ROUTED) {
				memcpy(body, d.u.routed.body, d.u.routed.body_len);
				d.u.routed.body = body;
			}
			PCHECK(rn_msg_encode(&d, out, sizeof out, &olen) == 0, seed, it);
			PCHECK(rn_msg_decode(&f->zone, out, olen, &d2) == 0, seed, it);
			PCHECK(rn_test_msg_eq(&d, &d2), seed, it);
		}
	}
}

static void test_body_refusals(void **state)
{
	fx *f = *state;
	uint64_t seed = rn_test_seed();
	trng r;
	trng_init(&r, seed + 8);
	uint8_t buf[1024];
	size_t len;
	rn_body b, d;
	msgpack_object o;
	for (size_t t = 0; t < N_BODIES; t++) {
		rand_body(&r, &b, all_bodies[t]);
		assert_int_equal(rn_body_encode(&b, buf, sizeof buf, &len), 0);
		size_t off = 0;
		msgpack_zone_clear(&f->zone2);
		assert_int_equal(msgpack_unpack((const char *)buf, len, &off,
						&f->zone2, &o),
				 MSGPACK_UNPACK_SUCCESS);
		repack(&f->sb, &o, -1, 1, rep_u8_2, 0);
		assert_int_equal(body_decode_copy(f, (const uint8_t *)f->sb.data,
						  f->sb.size, &d),
				 RN_ERR_VERSION);
		for (uint32_t i = 2; i < o.via.array.size; i++) {
			/* a CTM's relay is the one element that may go */
			int optional = i == 5 && b.type == RN_BODY_CTM;
			repack(&f->sb, &o, (int)i, -1, NULL, 0);
			assert_int_equal(body_decode_copy(f, (const uint8_t *)f->sb.data,
							  f->sb.size, &d),
					 optional ? 0 : RN_ERR_PROTO);
		}
		repack(&f->sb, &o, -1, -1, NULL, 1);
		assert_int_equal(body_decode_copy(f, (const uint8_t *)f->sb.data,
						  f->sb.size, &d),
				 RN_ERR_PROTO);
		for (uint32_t i = 0; i < o.via.array.size; i++)
			for (size_t w = 0; w < sizeof wrong_types / sizeof wrong_types[0];
			     w++) {
				repack(&f->sb, &o, -1, (int)i, wrong_types[w], 0);
				assert_int_not_equal(
					body_decode_copy(f, (const uint8_t *)f->sb.data,
							 f->sb.size, &d),
					0);
			}
	}
	/* CTM purpose 0 and 9, endpoint lists of 0 and 5, bad endpoint */
	rand_body(&r, &b, RN_BODY_CTM);
	b.u.ctm.n_eps = 1;
	b.u.ctm.has_relay = 0;
	assert_int_equal(rn_body_encode(&b, buf, sizeof buf, &len), 0);
	size_t off = 0;
	msgpack_zone_clear(&f->zone2);
	assert_int_equal(msgpack_unpack((const char *)buf, len, &off, &f->zone2, &o),
			 MSGPACK_UNPACK_SUCCESS);
	repack(&f->sb, &o, -1, 2, rep_u8_0, 0);
	assert_int_equal(body_decode_copy(f, (const uint8_t *)f->sb.data, f->sb.size,
					  &d),
			 RN_ERR_PROTO);
	repack(&f->sb, &o, -1, 2, rep_u8_9, 0);
	assert_int_equal(body_decode_copy(f, (const uint8_t *)f->sb.data, f->sb.size,
					  &d),
			 RN_ERR_PROTO);
	for (int n_eps = 0; n_eps <= 6; n_eps++)
		for (int bad = -1; bad < n_eps; bad++) {
			msgpack_packer pk;
			uint8_t z[20] = {0};
			msgpack_sbuffer_clear(&f->sb);
			msgpack_packer_init(&pk, &f->sb, msgpack_sbuffer_write);
			msgpack_pack_array(&pk, 5);
			msgpack_pack_uint8(&pk, RN_BODY_CTM);
			msgpack_pack_uint8(&pk, RN_PROTO_VERSION);
			msgpack_pack_uint8(&pk, RN_CTM_NEAR);
			msgpack_pack_uint32(&pk, 7);
			msgpack_pack_array(&pk, (size_t)n_eps);
			for (int i = 0; i < n_eps; i++) {
				size_t l = i == bad ? 17 : RN_EP_WIRE_LEN;
				msgpack_pack_bin(&pk, l);
				msgpack_pack_bin_body(&pk, z, l);
			}
			int ok = n_eps >= 1 && n_eps <= RN_CTM_EPS_MAX && bad < 0;
			int rc = body_decode_copy(f, (const uint8_t *)f->sb.data,
						  f->sb.size, &d);
			if (ok ? rc != 0 : rc != RN_ERR_PROTO)
				fail_msg("CTM with %d eps (bad %d): rc %d", n_eps, bad, rc);
			if (ok)
				assert_int_equal(d.u.ctm.n_eps, n_eps);
		}
	/* unknown body types */
	static const uint8_t unk[][4] = {{0x93, 0x00, 0x01, 0x00},
					 {0x93, 0x04, 0x01, 0x00}};
	for (size_t i = 0; i < 2; i++)
		assert_int_equal(body_decode_copy(f, unk[i], 4, &d), RN_ERR_PROTO);
}

static void test_patch_hop_seq(void **state)
{
	fx *f = *state;
	uint64_t seed = rn_test_seed();
	trng r;
	trng_init(&r, seed + 9);
	uint8_t buf[RN_DGRAM_MAX];
	size_t len;
	for (uint64_t it = 0; it < 500; it++) {
		rn_msg m, d;
		rand_msg(&r, &m, RN_MSG_ROUTED);
		PCHECK(rn_msg_encode(&m, buf, sizeof buf, &len) == 0, seed, it);
		uint32_t seq = rand_u32(&r);
		PCHECK(rn_msg_patch_hop_seq(buf, len, seq) == 0, seed, it);
		PCHECK(rn_msg_decode(&f->zone, buf, len, &d) == 0, seed, it);
		PCHECK(d.u.routed.hop_seq == seq, seed, it);
		m.u.routed.hop_seq = seq; /* everything else unchanged */
		PCHECK(rn_test_msg_eq(&m, &d), seed, it);
	}
	/* other messages are refused and left alone, even with a uint32 */
	for (size_t t = 0; t < N_TYPES; t++) {
		if (all_types[t] == RN_MSG_ROUTED)
			continue;
		rn_msg m;
		rand_msg(&r, &m, all_types[t]);
		if (m.type == RN_MSG_HOP_ACK)
			m.u.hop_ack.hop_seq = 0x80000000u; /* 0xce at offset 3 */
		if (m.type == RN_MSG_PING || m.type == RN_MSG_PONG)
			m.u.ping.ts_ms = 0x80000000u;
		assert_int_equal(rn_msg_encode(&m, buf, sizeof buf, &len), 0);
		uint8_t copy[RN_DGRAM_MAX];
		memcpy(copy, buf, len);
		if (len < 8) {
			memset(buf + len, 0, 8 - len);
			memset(copy + len, 0, 8 - len);
		}
		assert_int_equal(rn_msg_patch_hop_seq(buf, len, 0x01020304u),
				 RN_ERR_INVAL);
		assert_memory_equal(buf, copy, len);
	}
	/* too short for the field */
	rn_msg m;
	rand_msg(&r, &m, RN_MSG_ROUTED);
	assert_int_equal(rn_msg_encode(&m, buf, sizeof buf, &len), 0);
	for (size_t k = 0; k < RN_ROUTED_HOPSEQ_OFF + 5; k++)
		assert_int_equal(rn_msg_patch_hop_seq(buf, k, 1), RN_ERR_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body_round_trip, setup, teardown),
		cmocka_unit_test(test_layouts),
		cmocka_unit_test(test_encode_refusals),
		cmocka_unit_test_setup_teardown(test_decode_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decode_counts_and_types, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_decode_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decode_neighbors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decode_truncations, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_decode_random_bytes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_body_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_patch_hop_seq, setup, teardown),
	};
	printf("# RN_TEST_SEED=%llu\n", (unsigned long long)rn_test_seed());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
