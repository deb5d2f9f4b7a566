/* Writes the seed corpora of the fuzz targets: real encodings of every
 * message and body type (with the limits: 0 and RN_NEIGHBORS_MAX neighbours,
 * 1 and RN_CTM_EPS_MAX endpoints, an empty and a full body), a few generic
 * and hostile msgpack objects, and node scripts (fuzz_node_script.h) that
 * drive joins, lookups, keepalive, leave and restart and feed real messages
 * with the real node ids; and member certificates signed with a fixed
 * group key (valid, at their limits, of another group, out of date, with a
 * bad signature), truncated ones and hand-packed ones with a wrong field;
 * handshake messages and DATA headers (hs), and datagram sequences for a
 * crypto-real node (sec) around a real INIT from a second member: a
 * second node joins through fuzz_sec.c's node and its first datagram is
 * captured, and a ring-link INIT is signed by hand with that member's key.
 * The sec seeds are run through fz_sec_run (fuzz_sec.c, linked in) to check
 * that the INITs are accepted. DHT records (dht_rec) signed by members of
 * the certificates' group in every namespace with a rule and another one,
 * an unsigned crypto-none one, tombstones, and one of each way to fail
 * rn_rec_check, each checked here to get the answer it is meant to get
 * from fuzz_dht_rec's two policies; member record values; and DHT bodies
 * (dht_body) of every type and op carrying those records.
 *
 *   fuzz_gen_corpus <dir>  writes <dir>/{mp,msg,body,node,cert,hs,sec,
 *                          dht_rec,dht_body}/seed-*
 *
 * The directories must exist. Output is deterministic.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/cert.h"
#include "core/ep.h"
#include "core/id.h"
#include "core/env.h"
#include "core/err.h"
#include "core/mp.h"
#include "dht/member.h"
#include "dht/proto.h"
#include "dht/record.h"
#include "overlay/hs.h"
#include "overlay/msg.h"
#include "overlay/node.h"
#include "overlay/sec.h"
#include "overlay/settings.h"

#include "fuzz_node_script.h"

static const char *out_dir;
static int failed;

static void put(const char *target, const char *name, const uint8_t *p,
		size_t n)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s/seed-%s", out_dir, target, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n) {
		perror(path);
		failed = 1;
	}
	if (f && fclose(f))
		failed = 1;
}

static rn_id node_id(unsigned k)
{
	uint8_t g[32];
	uint32_t vip = FZ_VIP_BASE + k;
	uint8_t v[4] = {(uint8_t)(vip >> 24), (uint8_t)(vip >> 16),
			(uint8_t)(vip >> 8), (uint8_t)vip};
	rn_id id;
	memset(g, FZ_GROUP_BYTE, sizeof g);
	rn_id_hash(&id, g, sizeof g, v, sizeof v, NULL, 0);
	return id;
}

static rn_ep node_ep(unsigned k)
{
	rn_ep ep;
	rn_ep_from_ipv4(&ep, FZ_ADDR_BASE + k, FZ_PORT);
	return ep;
}

/* ---- messages and bodies ---------------------------------------------- */

typedef struct seed {
	char name[32];
	uint8_t b[RN_DGRAM_MAX];
	size_t n;
} seed;

static seed msgs[64], bodies[16];
static unsigned n_msgs, n_bodies;

static void add_body(const char *name, const rn_body *b)
{
	seed *s = &bodies[n_bodies++];
	snprintf(s->name, sizeof s->name, "%s", name);
	if (rn_body_encode(b, s->b, sizeof s->b, &s->n)) {
		fprintf(stderr, "cannot encode body %s\n", name);
		exit(1);
	}
}

static void add_msg(const char *name, const rn_msg *m)
{
	seed *s = &msgs[n_msgs++];
	snprintf(s->name, sizeof s->name, "%s", name);
	if (rn_msg_encode(m, s->b, sizeof s->b, &s->n)) {
		fprintf(stderr, "cannot encode message %s\n", name);
		exit(1);
	}
}

static void make_bodies(void)
{
	rn_body b;
	memset(&b, 0, sizeof b);
	b.type = RN_BODY_CTM;
	b.u.ctm.purpose = RN_CTM_NEAR;
	b.u.ctm.n_eps = 1;
	b.u.ctm.eps[0] = node_ep(1);
	add_body("ctm-near", &b);
	b.u.ctm.purpose = RN_CTM_FAR;
	b.u.ctm.token = 161;
	b.u.ctm.n_eps = RN_CTM_EPS_MAX;
	for (unsigned i = 0; i < RN_CTM_EPS_MAX; i++)
		b.u.ctm.eps[i] = node_ep(i);
	add_body("ctm-far-4eps", &b);
	memset(&b, 0, sizeof b);
	b.type = RN_BODY_CTM;
	b.u.ctm.purpose = RN_CTM_NEAR;
	b.u.ctm.n_eps = 1;
	b.u.ctm.eps[0] = node_ep(1);
	b.u.ctm.has_relay = 1;
	b.u.ctm.relay = node_id(0);
	add_body("ctm-near-relay", &b);
	b.u.ctm.purpose = RN_CTM_PUNCH;
	b.u.ctm.has_relay = 0;
	add_body("ctm-punch", &b);
	memset(&b, 0, sizeof b);
	b.type = RN_BODY_CTM_REPLY;
	b.u.ctm_reply.joiner = node_id(2);
	b.u.ctm_reply.ep = node_ep(1);
	add_body("ctm-reply", &b);
	memset(&b, 0, sizeof b);
	b.type = RN_BODY_LOOKUP;
	b.u.lookup.qid = 7;
	add_body("lookup", &b);
	b.u.lookup.qid = UINT64_MAX;
	add_body("lookup-maxqid", &b);
	b.type = RN_BODY_LOOKUP_REPLY;
	b.u.lookup.qid = 0x0102030405060708ull;
	b.u.lookup.hops = 3;
	add_body("lookup-reply", &b);
	memset(&b, 0, sizeof b);
	b.type = RN_BODY_TRACE;
	b.u.trace.qid = 11;
	add_body("trace-empty", &b);
	b.type = RN_BODY_TRACE_REPLY;
	b.u.trace.n = RN_TRACE_HOPS_MAX;
	for (unsigned i = 0; i < RN_TRACE_HOPS_MAX; i++) {
		b.u.trace.id[i] = node_id(i);
		b.u.trace.rtt_ms[i] = (uint16_t)(i * 1000u);
	}
	add_body("trace-reply-full", &b);
}

static void make_msgs(void)
{
	rn_msg m;
	rn_id a = node_id(0), b = node_id(1);
	static const uint8_t full_body[RN_BODY_MAX] = {0x93, 2, 1};

	memset(&m, 0, sizeof m);
	m.type = RN_MSG_HELLO;
	m.u.hello.src = a;
	m.u.hello.kind = RN_KIND_LEAF;
	m.u.hello.your_ep = node_ep(1);
	m.u.hello.ts_ms = 1234;
	add_msg("hello-leaf", &m);
	m.u.hello.kind = RN_KIND_FAR_REPLY | RN_KIND_NEAR;
	m.u.hello.token = 0xffffffffu;
	add_msg("hello-farreply", &m);
	m.type = RN_MSG_HELLO_ACK;
	m.u.hello.kind = RN_KIND_NEAR;
	m.u.hello.token = 0;
	add_msg("hello-ack", &m);
	m.u.hello.kind = RN_KIND_LEAF | RN_KIND_CTM_SENT;
	add_msg("hello-ack-ctm-sent", &m);
	m.u.hello.has_peer = 1;
	m.u.hello.peer.id = b;
	m.u.hello.peer.ep = node_ep(2);
	add_msg("hello-ack-peer", &m);

	memset(&m, 0, sizeof m);
	m.type = RN_MSG_PING;
	m.u.ping.ts_ms = 5000;
	add_msg("ping", &m);
	m.type = RN_MSG_PONG;
	m.u.ping.ts_ms = 0x80000000u;
	add_msg("pong", &m);

	for (uint8_t r = 1; r <= RN_CLOSE_REASON_MAX; r++) {
		char name[32];
		memset(&m, 0, sizeof m);
		m.type = RN_MSG_CLOSE;
		m.u.close.reason = r;
		snprintf(name, sizeof name, "close-%u", r);
		add_msg(name, &m);
	}

	memset(&m, 0, sizeof m);
	m.type = RN_MSG_NEIGHBORS;
	add_msg("neighbors-0", &m);
	m.u.neighbors.n = 2;
	m.u.neighbors.v[0].id = a;
	m.u.neighbors.v[0].ep = node_ep(0);
	m.u.neighbors.v[1].id = node_id(2);
	m.u.neighbors.v[1].ep = node_ep(2);
	add_msg("neighbors-2", &m);
	m.u.neighbors.n = RN_NEIGHBORS_MAX;
	for (unsigned i = 0; i < RN_NEIGHBORS_MAX; i++) {
		rn_id_add_pow2(&m.u.neighbors.v[i].id, &b, 150 + i % 10);
		rn_ep_from_ipv4(&m.u.neighbors.v[i].ep, 0x0a000000u + i, 4000);
	}
	add_msg("neighbors-16", &m);

	for (unsigned i = 0; i < n_bodies; i++) {
		char name[40];
		memset(&m, 0, sizeof m);
		m.type = RN_MSG_ROUTED;
		m.u.routed.hop_seq = 1;
		m.u.routed.src = b;
		m.u.routed.dst = a;
		m.u.routed.mode = bodies[i].b[1] == RN_BODY_CTM
					  ? RN_ROUTE_CLOSEST | RN_ROUTE_EXCLUDE_SRC
					  : RN_ROUTE_EXACT;
		m.u.routed.ttl = 64;
		m.u.routed.body = bodies[i].b;
		m.u.routed.body_len = bodies[i].n;
		snprintf(name, sizeof name, "routed-%.20s", bodies[i].name);
		add_msg(name, &m);
	}
	memset(&m, 0, sizeof m);
	m.type = RN_MSG_ROUTED;
	m.u.routed.hop_seq = 0xfffffffeu;
	m.u.routed.src = a;
	m.u.routed.dst = b;
	m.u.routed.mode = RN_ROUTE_CLOSEST;
	m.u.routed.hops = 255;
	m.u.routed.ttl = 255;
	add_msg("routed-empty", &m);
	m.u.routed.body = full_body;
	m.u.routed.body_len = sizeof full_body;
	add_msg("routed-fullbody", &m);

	memset(&m, 0, sizeof m);
	m.type = RN_MSG_HOP_ACK;
	m.u.hop_ack.hop_seq = 1;
	add_msg("hop-ack", &m);

	/* relay links (overlay/relay.c): a HELLO to be relayed, a PING
	 * relayed, a refusal */
	uint8_t inner[RN_DGRAM_MAX];
	size_t inner_len;
	memcpy(inner, msgs[0].b, msgs[0].n);
	inner_len = msgs[0].n;
	memset(&m, 0, sizeof m);
	m.type = RN_MSG_RELAY;
	m.u.relay.dir = RN_RELAY_TO;
	m.u.relay.peer = b;
	m.u.relay.inner = inner;
	m.u.relay.inner_len = inner_len;
	add_msg("relay-to", &m);
	m.u.relay.dir = RN_RELAY_FROM;
	m.u.relay.peer = a;
	m.u.relay.inner = msgs[n_msgs - 1].b;
	m.u.relay.inner_len = msgs[n_msgs - 1].n;
	add_msg("relay-from", &m);
	m.u.relay.dir = RN_RELAY_REFUSED;
	m.u.relay.inner_len = 0;
	add_msg("relay-refused", &m);
}

/* Generic and hostile msgpack for the pre-check. */
static void make_mp(void)
{
	static const struct {
		const char *name;
		uint8_t b[40];
		size_t n;
	} v[] = {
		{"nil", {0xc0}, 1},
		{"map-mixed", {0x82, 0xa1, 'k', 0xcb, 0x3f, 0xf0, 0, 0, 0, 0,
			       0, 0, 0xc4, 2, 1, 2, 0x92, 0xff, 0xd0, 0x80}, 20},
		{"str8", {0xd9, 3, 'a', 'b', 'c'}, 5},
		{"ext", {0xc7, 2, 5, 1, 2, 0xd4, 1, 9}, 5},
		{"fixext16", {0xd8, 1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
			      13, 14, 15}, 18},
		{"float32", {0xca, 0x7f, 0xc0, 0, 0}, 5},
		{"array16", {0xdc, 0, 3, 1, 2, 3}, 6},
		{"array32", {0xdd, 0, 0, 0, 2, 0xc2, 0xc3}, 7},
		{"map16", {0xde, 0, 1, 0xcc, 200, 0xcd, 1, 0}, 8},
		{"depth8", {0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91,
			    0x90}, 9},
		{"depth9", {0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91,
			    0x91, 0x90}, 10},
		{"hostile-array32", {0xdd, 0xff, 0xff, 0xff, 0xff}, 5},
		{"hostile-map32", {0xdf, 0x7f, 0xff, 0xff, 0xff, 0}, 6},
		{"hostile-bin32", {0xc6, 0xff, 0xff, 0xff, 0xff}, 5},
		{"hostile-ext32", {0xc9, 0xff, 0xff, 0xff, 0xff, 1}, 6},
		{"unused-c1", {0x91, 0xc1}, 2},
		{"trailing", {0x01, 0x02}, 2},
		{"int64", {0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0}, 9},
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		put("mp", v[i].name, v[i].b, v[i].n);
}

/* ---- node scripts ----------------------------------------------------- */

typedef struct script {
	uint8_t b[4096];
	size_t n;
} script;

static void s_u8(script *s, unsigned v)
{
	if (s->n < sizeof s->b)
		s->b[s->n++] = (uint8_t)v;
}

static void s_bytes(script *s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		s_u8(s, p[i]);
}

static void s_raw(script *s, unsigned k, unsigned ep, const seed *m)
{
	s_u8(s, OP_RAW);
	s_u8(s, k);
	s_u8(s, ep);
	if (m->n < 255) {
		s_u8(s, (unsigned)m->n);
	} else {
		s_u8(s, 255);
		s_u8(s, (unsigned)(m->n >> 8));
		s_u8(s, (unsigned)m->n);
	}
	s_bytes(s, m->b, m->n);
}

static void s_time(script *s, unsigned t)
{
	s_u8(s, OP_TIME);
	s_u8(s, t);
}

static void s_run(script *s, unsigned r)
{
	s_u8(s, OP_RUN);
	s_u8(s, r);
}

static void s_lookup(script *s, unsigned k, unsigned id_sel, unsigned qid)
{
	s_u8(s, OP_LOOKUP);
	s_u8(s, k);
	s_u8(s, id_sel);
	for (int i = 0; i < 7; i++)
		s_u8(s, 0);
	s_u8(s, qid);
}

static void s_put(const char *name, const script *s)
{
	put("node", name, s->b, s->n);
}

static void make_scripts(void)
{
	script s;
	char name[64];

	/* just the setup, in every mode */
	for (unsigned h = 0; h < 32; h += 1) {
		if ((h & HDR_VERBOSE) && h != (HDR_VERBOSE | HDR_THREE_NODES))
			continue;
		s.n = 0;
		s_u8(&s, h);
		snprintf(name, sizeof name, "setup-%02x", h);
		s_put(name, &s);
	}

	/* lookups both ways, then a long quiet time with keepalives */
	s.n = 0;
	s_u8(&s, HDR_THREE_NODES);
	s_lookup(&s, 0, ID_NODE1, 1);
	s_lookup(&s, 1, ID_NODE2, 2);
	s_lookup(&s, 2, ID_NODE0, 3);
	s_lookup(&s, 2, ID_NODE2, 4);
	s_lookup(&s, 0, ID_ZERO, 5);
	for (int i = 0; i < 6; i++)
		s_run(&s, 7);
	for (int i = 0; i < 8; i++) {
		s_time(&s, 150);
		s_run(&s, 3);
	}
	s_put("lookups-keepalive", &s);

	/* leave, silence (links die), restart and rejoin */
	s.n = 0;
	s_u8(&s, HDR_THREE_NODES);
	s_u8(&s, OP_LEAVE);
	s_u8(&s, 1);
	s_run(&s, 7);
	s_time(&s, 130);
	s_run(&s, 7);
	s_u8(&s, OP_RESTART);
	s_u8(&s, 1);
	s_u8(&s, 1u << EP_NODE2);
	s_u8(&s, OP_SETTLE);
	s_lookup(&s, 1, ID_NODE0, 9);
	s_run(&s, 7);
	s_put("leave-restart", &s);

	/* lost datagrams: hop-ack timeouts, reroutes, dead links */
	s.n = 0;
	s_u8(&s, HDR_THREE_NODES);
	s_lookup(&s, 0, ID_NODE2, 1);
	s_u8(&s, OP_DROP);
	s_u8(&s, 255);
	for (int i = 0; i < 10; i++) {
		s_time(&s, 99);
		s_u8(&s, OP_DROP);
		s_u8(&s, 255);
	}
	s_time(&s, 180);
	s_u8(&s, OP_SETTLE);
	s_put("losses", &s);

	/* replays of captured datagrams, plain and with a flipped byte */
	s.n = 0;
	s_u8(&s, HDR_THREE_NODES);
	s_lookup(&s, 1, ID_NODE0, 1);
	for (unsigned i = 0; i < 12; i++) {
		s_u8(&s, OP_REPLAY);
		s_u8(&s, i);
		s_u8(&s, 0x80);
		s_u8(&s, 0);
		s_u8(&s, i * 3);
		s_u8(&s, i % 3 ? 0x01 : 0);
		s_run(&s, 0);
	}
	s_u8(&s, OP_TIMEOUT);
	s_u8(&s, 2);
	s_put("replays", &s);

	/* time jumps over the u32 millisecond wrap-around */
	s.n = 0;
	s_u8(&s, 0);
	s_time(&s, 250);
	s_run(&s, 7);
	s_time(&s, 255);
	s_u8(&s, OP_SETTLE);
	s_put("time-wrap", &s);

	/* every real message, from a linked peer and from a stranger */
	for (unsigned i = 0; i < n_msgs; i++) {
		s.n = 0;
		s_u8(&s, HDR_THREE_NODES);
		s_raw(&s, 1, EP_NODE0, &msgs[i]);
		s_run(&s, 2);
		s_raw(&s, 0, i % 2 ? EP_STRANGER : EP_NODE2, &msgs[i]);
		s_run(&s, 2);
		snprintf(name, sizeof name, "raw-%s", msgs[i].name);
		s_put(name, &s);
	}

	/* structured messages: a stranger says hello, routes, and closes */
	s.n = 0;
	s_u8(&s, 0);
	s_u8(&s, OP_MSG); /* HELLO from a new id near node 0 */
	s_u8(&s, 0);
	s_u8(&s, EP_STRANGER);
	s_u8(&s, RN_MSG_HELLO - 1);
	s_u8(&s, ID_PLUS);
	s_u8(&s, 0);
	s_u8(&s, 9);
	s_u8(&s, RN_KIND_NEAR);
	s_u8(&s, 0);
	s_u8(&s, 0);
	s_u8(&s, EP_NODE0);
	for (int i = 0; i < 4; i++)
		s_u8(&s, 0);
	s_run(&s, 3);
	s_u8(&s, OP_MSG); /* ROUTED LOOKUP from it to node 1 */
	s_u8(&s, 0);
	s_u8(&s, EP_STRANGER);
	s_u8(&s, RN_MSG_ROUTED - 1);
	s_u8(&s, 1);
	s_u8(&s, ID_PLUS);
	s_u8(&s, 0);
	s_u8(&s, 9);
	s_u8(&s, ID_NODE1);
	s_u8(&s, RN_ROUTE_EXACT);
	s_u8(&s, 0);
	s_u8(&s, 64);
	s_u8(&s, RN_BODY_LOOKUP - 1);
	s_u8(&s, 77);
	s_run(&s, 7);
	s_u8(&s, OP_MSG); /* NEIGHBORS with node 1 and a raw id */
	s_u8(&s, 0);
	s_u8(&s, EP_STRANGER);
	s_u8(&s, RN_MSG_NEIGHBORS - 1);
	s_u8(&s, 2);
	s_u8(&s, ID_MINUS);
	s_u8(&s, 1);
	s_u8(&s, 1);
	s_u8(&s, EP_V6);
	s_u8(&s, ID_POW2);
	s_u8(&s, 0);
	s_u8(&s, 159);
	s_u8(&s, EP_NODE3);
	s_run(&s, 7);
	s_time(&s, 110);
	s_u8(&s, OP_MSG); /* CLOSE UNNEEDED */
	s_u8(&s, 0);
	s_u8(&s, EP_STRANGER);
	s_u8(&s, RN_MSG_CLOSE - 1);
	s_u8(&s, RN_CLOSE_UNNEEDED - 1);
	s_run(&s, 7);
	s_put("stranger", &s);
}

/* ---- member certificates ---------------------------------------------- */

/* The group key fuzz_cert.c verifies against: seed bytes all 0x47. */
#define FZ_CERT_GROUP_SEED_BYTE 0x47
#define FZ_CERT_NOW 1700000000u

static void put_cert(const char *name, const rn_cert *c)
{
	uint8_t b[RN_CERT_ENCODED_MAX];
	size_t n;
	if (rn_cert_encode(c, b, sizeof b, &n)) {
		fprintf(stderr, "cannot encode certificate %s\n", name);
		exit(1);
	}
	put("cert", name, b, n);
}

static void issue_cert(rn_cert *c, const uint8_t *gsk, uint8_t node_byte,
		       const uint8_t *vip, size_t vip_len, const char *name,
		       uint64_t nb, uint64_t na)
{
	uint8_t ks[RN_KEY_SEED_LEN], pk[RN_SIGN_PK_LEN], sk[RN_SIGN_SK_LEN];
	memset(ks, node_byte, sizeof ks);
	if (rn_nodekey_keypair(pk, sk, ks) ||
	    rn_cert_issue(c, gsk, pk, vip, vip_len, name, nb, na)) {
		fprintf(stderr, "cannot issue certificate %s\n", name);
		exit(1);
	}
}

/* [type, version, ...] packed by hand from c, with element `bad` (if below
 * 9) replaced by the raw msgpack bytes rep, or dropped when rep_len is 0. */
static void put_cert_with(const char *name, const rn_cert *c, unsigned bad,
			  const uint8_t *rep, size_t rep_len)
{
	uint8_t b[512];
	rn_writer w;
	msgpack_packer pk;
	rn_writer_init(&w, b, sizeof b);
	rn_mp_packer_init(&pk, &w);
	msgpack_pack_array(&pk, bad < 9 && !rep_len ? 8 : 9);
	for (unsigned i = 0; i < 9; i++) {
		if (i == bad) {
			rn_write_bytes(&w, rep, rep_len);
			continue;
		}
		switch (i) {
		case 0: msgpack_pack_uint8(&pk, RN_CERT_TYPE); break;
		case 1: msgpack_pack_uint8(&pk, RN_CERT_VERSION); break;
		case 2: rn_mp_pack_bin(&pk, c->group_pk, 32); break;
		case 3: rn_mp_pack_bin(&pk, c->node_pk, 32); break;
		case 4: rn_mp_pack_bin(&pk, c->vip, c->vip_len); break;
		case 5:
			msgpack_pack_str(&pk, c->name_len);
			msgpack_pack_str_body(&pk, c->name, c->name_len);
			break;
		case 6: msgpack_pack_uint64(&pk, c->not_before); break;
		case 7: msgpack_pack_uint64(&pk, c->not_after); break;
		default: rn_mp_pack_bin(&pk, c->sig, RN_SIG_LEN); break;
		}
	}
	if (w.err) {
		fprintf(stderr, "cannot pack %s\n", name);
		exit(1);
	}
	put("cert", name, b, w.len);
}

static void make_certs(void)
{
	static const uint8_t v4[4] = {10, 1, 2, 3};
	static const uint8_t v6[16] = {0xfd, 0x72, 0x6e, 0, 0, 0, 0, 0,
				       0,    0,    0,    0, 0, 0, 0, 1};
	uint8_t ks[RN_KEY_SEED_LEN], gpk[RN_SIGN_PK_LEN], gsk[RN_SIGN_SK_LEN];
	uint8_t opk[RN_SIGN_PK_LEN], osk[RN_SIGN_SK_LEN];
	char longest[RN_CERT_NAME_MAX + 1];
	rn_cert c, v;

	memset(ks, FZ_CERT_GROUP_SEED_BYTE, sizeof ks);
	rn_group_keypair(gpk, gsk, ks);
	memset(ks, 0x48, sizeof ks);
	rn_group_keypair(opk, osk, ks);
	memset(longest, 'z', RN_CERT_NAME_MAX);
	longest[RN_CERT_NAME_MAX] = '\0';

	issue_cert(&v, gsk, 1, v4, 4, "node-1", FZ_CERT_NOW - 3600,
		   FZ_CERT_NOW + 86400);
	put_cert("valid-v4", &v);
	issue_cert(&c, gsk, 2, v6, 16, longest, FZ_CERT_NOW, UINT64_MAX);
	put_cert("valid-v6-longest", &c);
	issue_cert(&c, gsk, 3, v4, 4, "a", FZ_CERT_NOW, FZ_CERT_NOW);
	put_cert("one-second", &c);
	issue_cert(&c, gsk, 4, v6, 16, "old.node_x", 0, 1);
	put_cert("expired", &c);
	issue_cert(&c, gsk, 5, v4, 4, "future", UINT64_MAX - 1, UINT64_MAX);
	put_cert("not-yet-valid", &c);
	issue_cert(&c, osk, 1, v4, 4, "node-1", 0, UINT64_MAX);
	put_cert("other-group", &c);
	/* range certificates (version 2), bound to an address inside */
	{
		static const uint8_t net4[4] = {10, 9, 0, 0};
		static const uint8_t net6[16] = {0xfd, 0x09};
		uint8_t nks[RN_KEY_SEED_LEN], npk[RN_SIGN_PK_LEN],
		    nsk[RN_SIGN_SK_LEN], at[RN_CERT_VIP_MAX];
		memset(nks, 6, sizeof nks);
		rn_nodekey_keypair(npk, nsk, nks);
		if (rn_cert_issue_range(&c, gsk, npk, net4, 4, 16, "ranged-4",
					FZ_CERT_NOW - 3600, FZ_CERT_NOW + 86400) ||
		    rn_cert_pick(&c, 0, at) || rn_cert_bind(&c, at, 4)) {
			fprintf(stderr, "cannot issue range certificates\n");
			exit(1);
		}
		put_cert("range-v4", &c);
		c.prefix_len = 17; /* signed as /16 */
		put_cert("range-v4-bad-sig", &c);
		if (rn_cert_issue_range(&c, gsk, npk, net6, 16, 64, longest,
					FZ_CERT_NOW, UINT64_MAX) ||
		    rn_cert_pick(&c, 7, at) || rn_cert_bind(&c, at, 16)) {
			fprintf(stderr, "cannot issue range certificates\n");
			exit(1);
		}
		put_cert("range-v6-longest", &c);
	}
	c = v;
	c.sig[17] ^= 0x20;
	put_cert("bad-sig", &c);
	c = v;
	c.not_after++;
	put_cert("bad-sig-time", &c);

	/* truncated and trailing */
	uint8_t b[RN_CERT_ENCODED_MAX + 1];
	size_t n;
	rn_cert_encode(&v, b, sizeof b, &n);
	const size_t cuts[] = {1, 3, 37, 71, n / 2, n - 65, n - 1};
	for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
		char name[32];
		snprintf(name, sizeof name, "trunc-%zu", cuts[i]);
		put("cert", name, b, cuts[i]);
	}
	b[n] = 0xc0;
	put("cert", "trailing-nil", b, n + 1);

	/* one field wrong: type, version, lengths, kinds, values */
	static const uint8_t nil[] = {0xc0}, two[] = {0x02}, neg[] = {0xff};
	static const uint8_t ping_type[] = {0x03}, bin31[33] = {0xc4, 31};
	static const uint8_t bin33[35] = {0xc4, 33}, vip5[7] = {0xc4, 5};
	static const uint8_t name_bin[] = {0xc4, 1, 'a'};
	static const uint8_t name_empty[] = {0xa0};
	static const uint8_t name_space[] = {0xa3, 'a', ' ', 'b'};
	static const uint8_t name_64[] = {0xd9, 64};
	static const uint8_t time_str[] = {0xa1, '1'};
	static const uint8_t time_float[] = {0xcb, 0x41, 0xd9, 0x54, 0xfc,
					     0x40, 0, 0, 0};
	static const uint8_t sig63[65] = {0xc4, 63};
	static const uint8_t array_huge[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
	put_cert_with("wrong-type", &v, 0, ping_type, sizeof ping_type);
	put_cert_with("version-2", &v, 1, two, sizeof two);
	put_cert_with("version-nil", &v, 1, nil, sizeof nil);
	put_cert_with("group-bin31", &v, 2, bin31, sizeof bin31);
	put_cert_with("node-bin33", &v, 3, bin33, sizeof bin33);
	put_cert_with("vip-5", &v, 4, vip5, sizeof vip5);
	put_cert_with("name-bin", &v, 5, name_bin, sizeof name_bin);
	put_cert_with("name-empty", &v, 5, name_empty, sizeof name_empty);
	put_cert_with("name-space", &v, 5, name_space, sizeof name_space);
	put_cert_with("name-64-short", &v, 5, name_64, sizeof name_64);
	put_cert_with("notbefore-neg", &v, 6, neg, sizeof neg);
	put_cert_with("notbefore-str", &v, 6, time_str, sizeof time_str);
	put_cert_with("notafter-float", &v, 7, time_float, sizeof time_float);
	put_cert_with("sig-63", &v, 8, sig63, sizeof sig63);
	put_cert_with("sig-huge-array", &v, 8, array_huge, sizeof array_huge);
	put_cert_with("eight-fields", &v, 8, NULL, 0);
	c = v;
	c.not_before = c.not_after + 1;
	put_cert_with("inverted-times", &c, 9, NULL, 0);
}

/* ---- handshakes (hs) and the security layer (sec) --------------------- */

int fz_sec_run(const uint8_t *data, size_t size, rn_sec_stats *st_out,
	       size_t *links_out, uint32_t idx_out[2]);

/* Must match fuzz_sec.c. */
#define FZ_SEC_GROUP_SEED_BYTE 0x53
#define FZ_SEC_UNIX_MS 1780272000000ll
#define FZ_SEC_T0 RN_MS(1000000)
#define FZ_SEC_NODE_ADDR 0xC6336401u
#define FZ_SEC_PORT 4000
#define FZ_SEC_PEER_ADDR 0xC6336402u
/* The second member (here only). */
#define FZ_SEC_PEER_SEED_BYTE 0x61

/* The joining member: its world captures the first datagram it sends. */
typedef struct peer_world {
	rn_settings s;
	rn_env env;
	rn_shared sh;
	uint64_t rng;
	uint8_t first[RN_DGRAM_MAX];
	size_t first_len;
} peer_world;

static void peer_send(void *ctx, const rn_ep *to, const uint8_t *buf,
		      size_t len)
{
	peer_world *w = ctx;
	(void)to;
	if (!w->first_len && len <= sizeof w->first) {
		memcpy(w->first, buf, len);
		w->first_len = len;
	}
}

static void peer_random(void *ctx, uint8_t *buf, size_t len)
{
	peer_world *w = ctx;
	for (size_t k = 0; k < len; k++) {
		uint64_t z = (w->rng += 0x9e3779b97f4a7c15ull);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		buf[k] = (uint8_t)(z ^ (z >> 31));
	}
}

static void peer_deadline(void *ctx, rn_time t)
{
	(void)ctx;
	(void)t;
}

static void peer_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	(void)level;
	(void)msg;
}

static void peer_tun(void *ctx, const uint8_t *p, size_t n)
{
	(void)ctx;
	(void)p;
	(void)n;
}

typedef struct sec_peer {
	uint8_t group_id[RN_GROUP_ID_LEN];
	uint8_t sk[RN_SIGN_SK_LEN];
	rn_ident ident;
	uint8_t init[RN_DGRAM_MAX]; /* its probe INIT */
	size_t init_len;
} sec_peer;

static void die(const char *what)
{
	fprintf(stderr, "sec seeds: %s\n", what);
	exit(1);
}

/* A second member joins through the fuzz target's node: its first
 * datagram is a bootstrap probe INIT. */
static void make_peer(sec_peer *p)
{
	uint8_t ks[RN_KEY_SEED_LEN], gpk[RN_SIGN_PK_LEN], gsk[RN_SIGN_SK_LEN];
	uint8_t pk[RN_SIGN_PK_LEN], enc[RN_CERT_ENCODED_MAX];
	static const uint8_t vip[4] = {10, 9, 0, 2};
	size_t len;
	rn_cert c;
	memset(ks, FZ_SEC_GROUP_SEED_BYTE, sizeof ks);
	if (rn_group_keypair(gpk, gsk, ks))
		die("group key");
	rn_group_id(p->group_id, gpk);
	memset(ks, FZ_SEC_PEER_SEED_BYTE, sizeof ks);
	uint64_t t = (uint64_t)FZ_SEC_UNIX_MS / 1000u;
	if (rn_nodekey_keypair(pk, p->sk, ks) ||
	    rn_cert_issue(&c, gsk, pk, vip, 4, "fuzz-peer", t - 3600,
			  t + 30u * 86400u) ||
	    rn_cert_encode(&c, enc, sizeof enc, &len) ||
	    rn_ident_init(&p->ident, p->sk, enc, len))
		die("peer identity");

	peer_world *w = calloc(1, sizeof *w);
	if (!w)
		die("out of memory");
	rn_settings_default(&w->s);
	w->s.crypto = RN_CRYPTO_REAL;
	w->env.send = peer_send;
	w->env.tun_write = peer_tun;
	w->env.set_deadline = peer_deadline;
	w->env.random = peer_random;
	w->env.log = peer_log;
	w->rng = 0x70656572ull;
	if (rn_shared_init(&w->sh, &w->s, &w->env))
		die("shared");
	memcpy(w->sh.group_pk, gpk, sizeof gpk);
	rn_time now = FZ_SEC_T0;
	w->sh.unix_offset_ms = FZ_SEC_UNIX_MS - (int64_t)(now / 1000u);
	rn_ep own, boot;
	rn_ep_from_ipv4(&own, FZ_SEC_PEER_ADDR, FZ_SEC_PORT);
	rn_ep_from_ipv4(&boot, FZ_SEC_NODE_ADDR, FZ_SEC_PORT);
	rn_node *n = rn_node_new(&w->sh, w, p->group_id, vip, 4, &own, now);
	if (!n || rn_node_set_ident(n, &p->ident) ||
	    rn_node_join(n, now, &boot, 1))
		die("peer node");
	for (int k = 0; k < 16 && !w->first_len; k++)
		rn_node_on_timeout(n, now);
	if (!w->first_len || !rn_hs_is_handshake(w->first, w->first_len) ||
	    w->first[1] != RN_HS_INIT)
		die("the peer sent no INIT");
	memcpy(p->init, w->first, w->first_len);
	p->init_len = w->first_len;
	rn_node_free(n);
	rn_shared_deinit(&w->sh);
	free(w);
}

static void hput32(crypto_generichash_state *h, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
			(uint8_t)v};
	crypto_generichash_update(h, b, 4);
}

/* Signs an INIT as sec.c's hash_init_msg defines it. */
static void sign_init(const sec_peer *p, rn_hs_msg *m)
{
	static const char label[] = "ringnet init v1";
	uint8_t h[32];
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)label, sizeof label - 1);
	crypto_generichash_update(&st, p->group_id, RN_GROUP_ID_LEN);
	hput32(&st, m->idx_i);
	crypto_generichash_update(&st, m->dst.b, RN_ID_LEN);
	crypto_generichash_update(&st, m->eph, RN_HS_EPH_LEN);
	hput32(&st, (uint32_t)(m->ts_ms >> 32));
	hput32(&st, (uint32_t)m->ts_ms);
	hput32(&st, (uint32_t)m->cert_len);
	crypto_generichash_update(&st, m->cert, m->cert_len);
	hput32(&st, (uint32_t)m->inner_len);
	crypto_generichash_update(&st, m->inner, m->inner_len);
	crypto_generichash_final(&st, h, 32);
	crypto_sign_detached(m->sig, NULL, h, 32, p->sk);
}

static size_t hs_enc(const rn_hs_msg *m, uint8_t *out)
{
	size_t n;
	if (rn_hs_encode(m, out, RN_DGRAM_MAX, &n))
		die("cannot encode a handshake message");
	return n;
}

/* A sec input under construction: records of ctl, u16 length, bytes. */
typedef struct sec_in {
	uint8_t b[8192];
	size_t n;
} sec_in;

#define SEC_EP(e, t) ((unsigned)(e) | (unsigned)(t) << 2)

static void rec(sec_in *in, unsigned ctl, const uint8_t *p, size_t len)
{
	if (in->n + 3 + len > sizeof in->b)
		die("sec seed too long");
	in->b[in->n++] = (uint8_t)ctl;
	in->b[in->n++] = (uint8_t)(len >> 8);
	in->b[in->n++] = (uint8_t)len;
	if (len)
		memcpy(in->b + in->n, p, len);
	in->n += len;
}

/* Writes a sec seed after running it; `want` is the hs_init_ok it must
 * give, and links > 0 is required when want_link. */
static void put_sec(const char *name, const sec_in *in, uint32_t want,
		    int want_link, rn_sec_stats *st, uint32_t idx[2])
{
	rn_sec_stats s;
	size_t links;
	uint32_t ix[2];
	fz_sec_run(in->b, in->n, &s, &links, ix);
	if (s.hs_init_ok != want || (want_link && links == 0)) {
		fprintf(stderr,
			"sec seed %s: hs_init_ok %u (want %u), %zu links\n",
			name, s.hs_init_ok, want, links);
		exit(1);
	}
	if (st)
		*st = s;
	if (idx) {
		idx[0] = ix[0];
		idx[1] = ix[1];
	}
	put("sec", name, in->b, in->n);
}

static void make_sec(void)
{
	static sec_peer p;
	uint8_t b[RN_DGRAM_MAX], b2[RN_DGRAM_MAX];
	size_t n;
	msgpack_zone zone;
	rn_hs_msg probe, m;
	rn_msg hello;
	rn_sec_stats st;
	uint32_t idx[2];
	sec_in in;

	if (!msgpack_zone_init(&zone, 4096))
		die("zone");
	make_peer(&p);
	if (rn_hs_decode(&zone, p.init, p.init_len, &probe))
		die("the peer's INIT does not decode");

	/* A ring-link INIT signed with the peer's key: meant for the node,
	 * a HELLO of kind NEAR, a fresh index, ephemeral and timestamp. */
	uint8_t hello_b[RN_HS_INNER_MAX];
	size_t hello_n;
	msgpack_zone hz;
	if (!msgpack_zone_init(&hz, 4096) ||
	    rn_msg_decode(&hz, probe.inner, probe.inner_len, &hello) ||
	    hello.type != RN_MSG_HELLO)
		die("the probe's HELLO");
	hello.u.hello.kind = RN_KIND_NEAR;
	if (rn_msg_encode(&hello, hello_b, sizeof hello_b, &hello_n))
		die("HELLO");
	msgpack_zone_destroy(&hz);
	static const uint8_t node_vip[4] = {10, 9, 0, 1};
	uint8_t e_sk[32];
	rn_hs_msg link = probe;
	rn_id_hash(&link.dst, p.group_id, RN_GROUP_ID_LEN, node_vip, 4, NULL, 0);
	link.idx_i = 0x01020304u;
	memset(e_sk, 0x42, sizeof e_sk);
	crypto_scalarmult_base(link.eph, e_sk);
	link.ts_ms = probe.ts_ms + 1;
	link.inner = hello_b;
	link.inner_len = hello_n;
	sign_init(&p, &link);
	uint8_t link_b[RN_DGRAM_MAX];
	size_t link_n = hs_enc(&link, link_b);

	/* hs: the real messages and their variants */
	put("hs", "init-probe", p.init, p.init_len);
	put("hs", "init-link", link_b, link_n);
	m = link;
	m.has_cookie = 1;
	memset(m.cookie, 0xc0, sizeof m.cookie);
	n = hs_enc(&m, b);
	put("hs", "init-cookie", b, n);
	m = link;
	m.cert_len = 0; /* a rekey INIT */
	m.inner_len = 0;
	n = hs_enc(&m, b);
	put("hs", "init-certless-empty", b, n);
	static uint8_t big[RN_HS_CERT_MAX];
	memset(big, 0xa5, sizeof big);
	m.cert = big;
	m.cert_len = RN_HS_CERT_MAX;
	m.inner = big;
	m.inner_len = RN_HS_INNER_MAX;
	n = hs_enc(&m, b);
	put("hs", "init-max", b, n);
	/* one byte over both limits, packed by hand from the max one */
	{
		rn_writer w;
		msgpack_packer pk;
		rn_writer_init(&w, b2, sizeof b2);
		rn_mp_packer_init(&pk, &w);
		msgpack_pack_array(&pk, 10);
		msgpack_pack_uint8(&pk, RN_HS_INIT);
		msgpack_pack_uint8(&pk, RN_PROTO_VERSION);
		msgpack_pack_uint32(&pk, 7);
		rn_mp_pack_bin(&pk, link.dst.b, RN_ID_LEN);
		rn_mp_pack_bin(&pk, link.eph, RN_HS_EPH_LEN);
		msgpack_pack_uint64(&pk, link.ts_ms);
		rn_mp_pack_bin(&pk, big, 0);
		static uint8_t over[RN_HS_CERT_MAX + 1];
		rn_mp_pack_bin(&pk, over, sizeof over);
		rn_mp_pack_bin(&pk, link.sig, RN_HS_SIG_LEN);
		rn_mp_pack_bin(&pk, big, 4);
		put("hs", "init-cert-over", b2, w.len);
	}
	memset(&m, 0, sizeof m);
	m.type = RN_HS_RESP;
	m.idx_i = 0x01020304u;
	m.idx_r = 0xfffffffeu;
	memcpy(m.eph, link.eph, sizeof m.eph);
	m.cert = probe.cert;
	m.cert_len = probe.cert_len;
	memset(m.sig, 0x5a, sizeof m.sig);
	{
		rn_msg ack = hello;
		ack.type = RN_MSG_HELLO_ACK;
		ack.u.hello.kind = RN_KIND_LEAF | RN_KIND_CTM_SENT;
		if (rn_msg_encode(&ack, hello_b, sizeof hello_b, &hello_n))
			die("HELLO_ACK");
	}
	m.inner = hello_b;
	m.inner_len = hello_n;
	uint8_t resp_b[RN_DGRAM_MAX];
	size_t resp_n = hs_enc(&m, resp_b);
	rn_hs_msg resp = m;
	put("hs", "resp", resp_b, resp_n);
	memset(&m, 0, sizeof m);
	m.type = RN_HS_COOKIE;
	m.idx_i = 0x01020304u;
	memset(m.cookie, 0x3c, sizeof m.cookie);
	uint8_t cookie_b[64];
	size_t cookie_n = hs_enc(&m, cookie_b);
	put("hs", "cookie", cookie_b, cookie_n);
	/* truncations, another version, an array of the wrong size */
	put("hs", "init-trunc-half", p.init, p.init_len / 2);
	put("hs", "resp-trunc-1", resp_b, resp_n - 1);
	memcpy(b, cookie_b, cookie_n);
	b[2] = RN_PROTO_VERSION + 1;
	put("hs", "cookie-version", b, cookie_n);
	memcpy(b, cookie_b, cookie_n);
	b[0] = 0x95; /* five elements, the last missing */
	put("hs", "cookie-short-array", b, cookie_n);
	b[0] = 0x93;
	put("hs", "cookie-3", b, cookie_n);
	/* a non-canonical array header (array 16): decodes, not is_handshake */
	b[0] = 0xdc;
	b[1] = 0;
	b[2] = 4;
	memcpy(b + 3, cookie_b + 1, cookie_n - 1);
	put("hs", "cookie-array16", b, cookie_n + 2);
	/* DATA: a header and tag, shorter, another first byte */
	uint8_t data_b[RN_HS_DATA_HDR + RN_HS_TAG_LEN + 24];
	rn_hs_data_header(data_b, 0xdeadbeefu, 0x0102030405060708ull);
	for (size_t k = RN_HS_DATA_HDR; k < sizeof data_b; k++)
		data_b[k] = (uint8_t)(k * 37u);
	put("hs", "data", data_b, sizeof data_b);
	put("hs", "data-hdr-tag", data_b, RN_HS_DATA_HDR + RN_HS_TAG_LEN);
	put("hs", "data-short", data_b, RN_HS_DATA_HDR + RN_HS_TAG_LEN - 1);
	put("hs", "empty", data_b, 0);

	/* sec: datagram sequences for the fuzz target's node */
	in.n = 0;
	put_sec("empty", &in, 0, 0, NULL, NULL);
	rec(&in, SEC_EP(0, 0), NULL, 0);
	put_sec("empty-dgram", &in, 0, 0, NULL, NULL);

	in.n = 0;
	rec(&in, SEC_EP(0, 0), p.init, p.init_len);
	put_sec("init-probe", &in, 1, 0, &st, idx);
	rec(&in, SEC_EP(0, 4), p.init, p.init_len);
	put_sec("init-probe-replayed", &in, 1, 0, NULL, NULL);
	/* the node may answer the probe with a handshake of its own: a
	 * COOKIE and a RESP for it (the RESP's signature cannot verify) */
	if (idx[1]) {
		sec_in in2 = in;
		in2.n = 0;
		rec(&in2, SEC_EP(0, 0), p.init, p.init_len);
		m.type = RN_HS_COOKIE;
		m.idx_i = idx[1];
		n = hs_enc(&m, b);
		rec(&in2, SEC_EP(0, 1), b, n);
		put_sec("init-probe-cookie", &in2, 1, 0, NULL, NULL);
		in2.n = 0;
		rec(&in2, SEC_EP(0, 0), p.init, p.init_len);
		m = resp;
		m.idx_i = idx[1];
		n = hs_enc(&m, b);
		rec(&in2, SEC_EP(0, 2), b, n);
		put_sec("init-probe-resp", &in2, 1, 0, NULL, NULL);
	}

	in.n = 0;
	rec(&in, SEC_EP(0, 63), p.init, p.init_len); /* 16 min late */
	put_sec("init-probe-late", &in, 0, 0, NULL, NULL);
	in.n = 0;
	memcpy(b, p.init, p.init_len);
	b[p.init_len - 80] ^= 1; /* inside the signature */
	rec(&in, SEC_EP(0, 0), b, p.init_len);
	put_sec("init-probe-flipped", &in, 0, 0, NULL, NULL);
	in.n = 0;
	rec(&in, SEC_EP(3, 0), p.init, p.init_len); /* from itself */
	put_sec("init-probe-self", &in, 1, 0, NULL, NULL);
	/* a flood: the third INIT within a second gets a cookie */
	in.n = 0;
	rec(&in, SEC_EP(1, 0), link_b, link_n);
	rec(&in, SEC_EP(0, 1), p.init, p.init_len);
	rec(&in, SEC_EP(2, 1), p.init, p.init_len);
	put_sec("flood", &in, 2, 1, &st, NULL);
	if (st.hs_cookie_sent != 1)
		die("the flood got no cookie");

	/* the ring link: a session; then forged DATA for it, and its end */
	in.n = 0;
	rec(&in, SEC_EP(0, 0), link_b, link_n);
	put_sec("init-link", &in, 1, 1, &st, idx);
	if (!idx[0])
		die("the ring-link INIT made no session");
	sec_in base = in;
	rn_hs_data_header(data_b, idx[0], 0);
	rec(&in, SEC_EP(0, 1), data_b, sizeof data_b);
	rn_hs_data_header(data_b, idx[0], 1);
	rec(&in, SEC_EP(1, 1), data_b, sizeof data_b); /* elsewhere */
	put_sec("link-data-forged", &in, 1, 1, &st, NULL);
	if (st.data_auth_fail != 1 || st.data_unknown != 1)
		die("forged DATA not counted");
	in = base;
	/* a second apart, under the handshake rate */
	rec(&in, SEC_EP(0, 47), link_b, link_n); /* the same INIT again */
	rec(&in, SEC_EP(0, 47), p.init, p.init_len); /* older, on a link */
	put_sec("init-link-again", &in, 1, 1, &st, NULL);
	if (st.hs_stale != 2)
		die("replayed INITs not stale");
	in = base;
	rec(&in, SEC_EP(0, 50), NULL, 0); /* 3 min: the link goes quiet */
	rec(&in, SEC_EP(0, 62), NULL, 0); /* 15 min: keys too old */
	rec(&in, SEC_EP(0, 0), data_b, sizeof data_b);
	put_sec("init-link-expire", &in, 1, 0, NULL, NULL);

	/* strangers' shapes */
	in.n = 0;
	rec(&in, SEC_EP(0, 0), cookie_b, cookie_n);
	rec(&in, SEC_EP(1, 3), resp_b, resp_n);
	rn_hs_data_header(data_b, 1, 0);
	rec(&in, SEC_EP(2, 3), data_b, sizeof data_b);
	rec(&in, SEC_EP(3, 3), data_b, RN_HS_DATA_HDR + 3);
	put_sec("shapes", &in, 0, 0, NULL, NULL);
	msgpack_zone_destroy(&zone);
}

/* ---- DHT records (dht_rec) and bodies (dht_body) ---------------------- */

/* Must match fuzz_dht_rec.c; the group key is the certificates' one
 * (FZ_CERT_GROUP_SEED_BYTE) and FZ_DHT_NOW_MS is FZ_CERT_NOW in ms. */
#define FZ_DHT_NOW_MS 1700000000000ull
#define FZ_DHT_TTL_MAX_MS 86400000ull
#define FZ_DHT_SKEW_MS 120000ull

typedef struct dht_member {
	uint8_t pk[RN_SIGN_PK_LEN], sk[RN_SIGN_SK_LEN];
	rn_cert cert;
} dht_member;

typedef struct dht_seed {
	uint8_t b[RN_REC_ENCODED_MAX];
	size_t n;
} dht_seed;

static uint8_t dht_gid[RN_GROUP_ID_LEN], dht_gpk[RN_SIGN_PK_LEN];

static void dht_die(const char *what, const char *name)
{
	fprintf(stderr, "dht seeds: %s: %s\n", name, what);
	exit(1);
}

/* A member of the group whose key is gsk, valid [nb, na] (unix s). */
static void dht_member_init(dht_member *m, const uint8_t *gsk,
			    uint8_t key_byte, const uint8_t *vip,
			    size_t vip_len, const char *name, uint64_t nb,
			    uint64_t na)
{
	uint8_t ks[RN_KEY_SEED_LEN];
	memset(ks, key_byte, sizeof ks);
	if (rn_nodekey_keypair(m->pk, m->sk, ks) ||
	    rn_cert_issue(&m->cert, gsk, m->pk, vip, vip_len, name, nb, na))
		dht_die("cannot issue the certificate", name);
}

/* A record of m, signed, written a second before FZ_DHT_NOW_MS with a
 * lease of an hour; with m NULL an unsigned crypto-none one whose writer
 * is 32 bytes of 0x77. */
static void dht_rec_make(rn_rec *r, const dht_member *m, const char *ns,
			 const void *key, size_t key_len, const void *value,
			 size_t value_len, uint8_t flags)
{
	memset(r, 0, sizeof *r);
	if (rn_rec_set_key(r, ns, key, key_len))
		dht_die("bad key", ns);
	if (value_len)
		memcpy(r->value, value, value_len);
	r->value_len = (uint16_t)value_len;
	r->created = r->ts = FZ_DHT_NOW_MS - 1000u;
	r->expires = r->ts + 3600000u;
	r->flags = flags;
	if (m) {
		memcpy(r->writer, m->pk, sizeof r->writer);
		r->has_cert = 1;
		r->cert = m->cert;
	} else {
		memset(r->writer, 0x77, sizeof r->writer);
	}
}

static void dht_rec_sign(rn_rec *r, const dht_member *m, const char *name)
{
	if (rn_rec_sign(r, dht_gid, m->sk))
		dht_die("cannot sign", name);
}

/* Encodes r into out and checks what fuzz_dht_rec's two policies say of
 * the decoded record: the codes wanted with and without crypto. */
static void check_rec(const char *name, const rn_rec *r, int want_real,
		      int want_none, dht_seed *out)
{
	rn_rec d;
	msgpack_zone zone;
	rn_rec_policy pol;
	if (rn_rec_encode(r, out->b, sizeof out->b, &out->n))
		dht_die("cannot encode", name);
	if (!msgpack_zone_init(&zone, 4096) ||
	    rn_rec_decode(&zone, out->b, out->n, &d))
		dht_die("does not decode", name);
	msgpack_zone_destroy(&zone);
	pol.group_id = dht_gid;
	pol.group_pk = dht_gpk;
	pol.ttl_max_ms = FZ_DHT_TTL_MAX_MS;
	pol.skew_ms = FZ_DHT_SKEW_MS;
	pol.require_cert = 1;
	int real = rn_rec_check(&d, &pol, FZ_DHT_NOW_MS);
	pol.require_cert = 0;
	int none = rn_rec_check(&d, &pol, FZ_DHT_NOW_MS);
	if (real != want_real || none != want_none) {
		fprintf(stderr, "dht seeds: %s: checks %d/%d, want %d/%d\n",
			name, real, none, want_real, want_none);
		exit(1);
	}
}

/* check_rec, then writes the record; out (if not NULL) keeps a copy. */
static void put_rec(const char *name, const rn_rec *r, int want_real,
		    int want_none, dht_seed *out)
{
	dht_seed s;
	check_rec(name, r, want_real, want_none, &s);
	put("dht_rec", name, s.b, s.n);
	if (out)
		*out = s;
}

static void put_dht_body(const char *name, const rn_dht_body *b)
{
	uint8_t buf[RN_BODY_MAX];
	size_t n;
	if (rn_dht_body_encode(b, buf, sizeof buf, &n))
		dht_die("cannot encode the body", name);
	put("dht_body", name, buf, n);
}

static rn_dht_bytes dht_bytes(const dht_seed *s)
{
	rn_dht_bytes v = {s->b, s->n};
	return v;
}

static void make_dht(void)
{
	static const uint8_t v4[4] = {10, 1, 2, 3}, v4b[4] = {10, 1, 2, 4};
	static const uint8_t v6[16] = {0xfd, 0x72, 0x6e, 0, 0, 0, 0, 0,
				       0,    0,    0,    0, 0, 0, 0, 2};
	static const uint8_t bad_kind[RN_MEMBER_ENTRY_LEN] = {4};
	uint8_t ks[RN_KEY_SEED_LEN], gsk[RN_SIGN_SK_LEN];
	uint8_t opk[RN_SIGN_PK_LEN], osk[RN_SIGN_SK_LEN];
	uint8_t val[RN_REC_VALUE_MAX], key[RN_REC_KEY_MAX];
	uint8_t mv3[RN_MEMBER_VALUE_MAX], mv8[RN_MEMBER_VALUE_MAX];
	size_t mv3_n, mv8_n;
	dht_member a, b, other, old;
	dht_seed s_member, s_name, s_lease, s_tomb, s_none[RN_DHT_RECS_MAX];
	rn_member mem;
	rn_rec r;
	char name[32];

	memset(ks, FZ_CERT_GROUP_SEED_BYTE, sizeof ks);
	rn_group_keypair(dht_gpk, gsk, ks);
	rn_group_id(dht_gid, dht_gpk);
	memset(ks, 0x48, sizeof ks);
	rn_group_keypair(opk, osk, ks);
	dht_member_init(&a, gsk, 0x21, v4, 4, "node-1", FZ_CERT_NOW - 3600,
			FZ_CERT_NOW + 86400);
	dht_member_init(&b, gsk, 0x22, v6, 16, "node-2", FZ_CERT_NOW - 3600,
			FZ_CERT_NOW + 86400);
	dht_member_init(&other, osk, 0x23, v4, 4, "node-1", 0, UINT64_MAX);
	dht_member_init(&old, gsk, 0x24, v4, 4, "node-1", 0,
			FZ_CERT_NOW - 1);

	/* member values: three endpoints of each kind, and eight (v6 too) */
	memset(&mem, 0, sizeof mem);
	mem.n = 3;
	mem.kind[0] = RN_MEMBER_EP_LOCAL;
	rn_ep_from_ipv4(&mem.ep[0], 0xc0a8010au, 4000);
	mem.kind[1] = RN_MEMBER_EP_MAPPED;
	rn_ep_from_ipv4(&mem.ep[1], 0xcb007105u, 4000);
	mem.kind[2] = RN_MEMBER_EP_REFLEXIVE;
	rn_ep_from_ipv4(&mem.ep[2], 0xc6336407u, 40000);
	if (rn_member_encode(&mem, mv3, sizeof mv3, &mv3_n))
		dht_die("cannot encode", "member value");
	mem.n = RN_MEMBER_EPS_MAX;
	for (unsigned i = 3; i < RN_MEMBER_EPS_MAX; i++) {
		mem.kind[i] = (uint8_t)(RN_MEMBER_EP_LOCAL + i % 3);
		if (rn_ep_from_str(&mem.ep[i], i % 2 ? "[2001:db8::7]:65535"
						     : "[fd72:6e::2]:1"))
			dht_die("bad endpoint", "member value");
	}
	if (rn_member_encode(&mem, mv8, sizeof mv8, &mv8_n))
		dht_die("cannot encode", "member value");
	put("dht_rec", "member-value-3eps", mv3, mv3_n);
	put("dht_rec", "member-value-8eps", mv8, mv8_n);
	put("dht_rec", "member-value-bad-kind", bad_kind, sizeof bad_kind);

	/* valid records in each namespace with a rule, and another one */
	dht_rec_make(&r, &a, "member", v4, 4, mv3, mv3_n, RN_REC_REPLACE);
	dht_rec_sign(&r, &a, "member-v4");
	put_rec("member-v4", &r, 0, 0, &s_member);
	r.sig[5] ^= 0x10;
	put_rec("member-v4-badsig", &r, RN_ERR_BADSIG, 0, NULL);
	dht_rec_make(&r, &b, "member", v6, 16, mv8, mv8_n, RN_REC_REPLACE);
	dht_rec_sign(&r, &b, "member-v6-8eps");
	put_rec("member-v6-8eps", &r, 0, 0, NULL);
	dht_rec_make(&r, &a, "name", "node-1", 6, v4, 4, RN_REC_REPLACE);
	dht_rec_sign(&r, &a, "name");
	put_rec("name", &r, 0, 0, &s_name);
	dht_rec_make(&r, &a, "lease", v4, 4, "held", 4, RN_REC_EXCL);
	r.created -= 600000u; /* a renewal */
	dht_rec_sign(&r, &a, "lease");
	put_rec("lease", &r, 0, 0, &s_lease);
	memset(key, 'k', sizeof key);
	for (size_t i = 0; i < sizeof val; i++)
		val[i] = (uint8_t)(i * 7u);
	dht_rec_make(&r, &a, "notes", key, sizeof key, val, sizeof val, 0);
	dht_rec_sign(&r, &a, "notes-max");
	put_rec("notes-max", &r, 0, 0, NULL);
	dht_rec_make(&r, &a, "member", v4, 4, NULL, 0, RN_REC_TOMB);
	dht_rec_sign(&r, &a, "tomb-member");
	put_rec("tomb-member", &r, 0, 0, &s_tomb);
	dht_rec_make(&r, &a, "name", "node-1", 6, NULL, 0,
		     RN_REC_TOMB | RN_REC_REPLACE);
	dht_rec_sign(&r, &a, "tomb-name");
	put_rec("tomb-name", &r, 0, 0, NULL);
	/* crypto none: refused with crypto (no certificate), else fine */
	dht_rec_make(&r, NULL, "member", v4, 4, mv3, RN_MEMBER_ENTRY_LEN,
		     RN_REC_REPLACE);
	put_rec("none-member", &r, RN_ERR_PERM, 0, NULL);

	/* the rules: another address or name than the certificate's (with
	 * or without crypto: the certificate is there), a lease without
	 * EXCL */
	dht_rec_make(&r, &a, "member", v4b, 4, mv3, mv3_n, RN_REC_REPLACE);
	dht_rec_sign(&r, &a, "member-other-vip");
	put_rec("member-other-vip", &r, RN_ERR_PERM, RN_ERR_PERM, NULL);
	dht_rec_make(&r, &a, "name", "node-1", 6, v4b, 4, RN_REC_REPLACE);
	dht_rec_sign(&r, &a, "name-other-vip");
	put_rec("name-other-vip", &r, RN_ERR_PERM, RN_ERR_PERM, NULL);
	dht_rec_make(&r, &a, "name", "node-2", 6, v4, 4, RN_REC_REPLACE);
	dht_rec_sign(&r, &a, "name-other-name");
	put_rec("name-other-name", &r, RN_ERR_PERM, RN_ERR_PERM, NULL);
	dht_rec_make(&r, &a, "lease", v4, 4, "held", 4, 0);
	dht_rec_sign(&r, &a, "lease-no-excl");
	put_rec("lease-no-excl", &r, RN_ERR_PERM, RN_ERR_PERM, NULL);

	/* the lease: over, too long, from the future */
	dht_rec_make(&r, &a, "notes", "k", 1, "v", 1, 0);
	r.expires = FZ_DHT_NOW_MS;
	dht_rec_sign(&r, &a, "expired");
	put_rec("expired", &r, RN_ERR_EXPIRED, RN_ERR_EXPIRED, NULL);
	dht_rec_make(&r, &a, "notes", "k", 1, "v", 1, 0);
	r.expires = r.ts + FZ_DHT_TTL_MAX_MS + 1u;
	dht_rec_sign(&r, &a, "lease-too-long");
	put_rec("lease-too-long", &r, RN_ERR_EXPIRED, RN_ERR_EXPIRED, NULL);
	dht_rec_make(&r, &a, "notes", "k", 1, "v", 1, 0);
	r.created = r.ts = FZ_DHT_NOW_MS + FZ_DHT_SKEW_MS + 1u;
	r.expires = r.ts + 1000u;
	dht_rec_sign(&r, &a, "future");
	put_rec("future", &r, RN_ERR_EXPIRED, RN_ERR_EXPIRED, NULL);

	/* the certificate: another group's, expired, not the writer's */
	dht_rec_make(&r, &other, "notes", "k", 1, "v", 1, 0);
	dht_rec_sign(&r, &other, "other-group");
	put_rec("other-group", &r, RN_ERR_CERT_GROUP, 0, NULL);
	dht_rec_make(&r, &old, "notes", "k", 1, "v", 1, 0);
	dht_rec_sign(&r, &old, "cert-expired");
	put_rec("cert-expired", &r, RN_ERR_CERT_EXPIRED, 0, NULL);
	dht_rec_make(&r, &a, "member", v4, 4, mv3, mv3_n, RN_REC_REPLACE);
	dht_rec_sign(&r, &a, "writer-not-cert");
	memcpy(r.writer, b.pk, sizeof r.writer);
	put_rec("writer-not-cert", &r, RN_ERR_PERM, 0, NULL);

	/* cut, another version, a trailing byte */
	uint8_t buf[RN_REC_ENCODED_MAX + 1];
	memcpy(buf, s_member.b, s_member.n);
	put("dht_rec", "trunc-half", buf, s_member.n / 2);
	put("dht_rec", "trunc-1", buf, s_member.n - 1);
	buf[s_member.n] = 0xc0;
	put("dht_rec", "trailing-nil", buf, s_member.n + 1);
	buf[2] = RN_REC_VERSION + 1; /* [0x9c, 0x52, version, ...] */
	put("dht_rec", "version-2", buf, s_member.n);

	/* bodies: every op of REQ, RESP with records, a conflict and none,
	 * STORE of two, of the most records and of none, and FETCH */
	rn_dht_body d;
	memset(&d, 0, sizeof d);
	d.type = RN_DHT_REQ;
	d.op = RN_DHT_PUT;
	d.rid = 1;
	d.ns.p = (const uint8_t *)"member";
	d.ns.n = 6;
	d.key.p = v4;
	d.key.n = 4;
	d.rec = dht_bytes(&s_member);
	put_dht_body("req-put-member", &d);
	d.op = RN_DHT_CREATE;
	d.rid = 2;
	d.ns.p = (const uint8_t *)"lease";
	d.ns.n = 5;
	d.rec = dht_bytes(&s_lease);
	put_dht_body("req-create-lease", &d);
	d.op = RN_DHT_REMOVE;
	d.rid = 0x0102030405060708ull;
	d.ns.p = (const uint8_t *)"member";
	d.ns.n = 6;
	d.rec = dht_bytes(&s_tomb);
	put_dht_body("req-remove-member", &d);
	d.op = RN_DHT_GET;
	d.rid = UINT64_MAX;
	d.ns.p = (const uint8_t *)"name";
	d.ns.n = 4;
	d.key.p = (const uint8_t *)"node-1";
	d.key.n = 6;
	d.rec.p = NULL;
	d.rec.n = 0;
	put_dht_body("req-get-name", &d);

	memset(&d, 0, sizeof d);
	d.type = RN_DHT_RESP;
	d.op = RN_DHT_GET;
	d.rid = 3;
	d.more = 1;
	d.n_recs = 2;
	d.recs[0] = dht_bytes(&s_member);
	d.recs[1] = dht_bytes(&s_name);
	put_dht_body("resp-get", &d);
	d.op = RN_DHT_CREATE;
	d.rid = 2;
	d.status = (uint32_t)-RN_ERR_CONFLICT;
	d.more = 0;
	d.n_recs = 1;
	d.recs[0] = dht_bytes(&s_lease);
	put_dht_body("resp-conflict", &d);
	d.op = RN_DHT_PUT;
	d.rid = 1;
	d.status = 0;
	d.n_recs = 0;
	put_dht_body("resp-put", &d);
	d.status = (uint32_t)-RN_ERR_TIMEOUT;
	put_dht_body("resp-timeout", &d);

	memset(&d, 0, sizeof d);
	d.type = RN_DHT_STORE;
	d.n_recs = 2;
	d.recs[0] = dht_bytes(&s_member);
	d.recs[1] = dht_bytes(&s_tomb);
	put_dht_body("store-2", &d);
	for (unsigned i = 0; i < RN_DHT_RECS_MAX; i++) {
		uint8_t vip[4] = {10, 2, 0, (uint8_t)(i + 1)};
		snprintf(name, sizeof name, "none-%u", i);
		dht_rec_make(&r, NULL, "member", vip, 4, mv3, mv3_n,
			     RN_REC_REPLACE);
		check_rec(name, &r, RN_ERR_PERM, 0, &s_none[i]);
		d.recs[i] = dht_bytes(&s_none[i]);
	}
	d.n_recs = RN_DHT_RECS_MAX;
	put_dht_body("store-8-none", &d);
	d.n_recs = 0;
	put_dht_body("store-0", &d);
	d.n_recs = 1;
	d.extend = 3; /* a wide replica set: pass it on to 3 more */
	put_dht_body("store-extend", &d);

	memset(&d, 0, sizeof d);
	d.type = RN_DHT_FETCH;
	d.rid = 9;
	rn_rec_key_id(&d.key_id, dht_gid, "member", 6, v4, 4);
	put_dht_body("fetch", &d);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
		return 2;
	}
	out_dir = argv[1];
	if (sodium_init() < 0) {
		fprintf(stderr, "sodium_init failed\n");
		return 1;
	}
	make_bodies();
	make_msgs();
	for (unsigned i = 0; i < n_bodies; i++) {
		put("body", bodies[i].name, bodies[i].b, bodies[i].n);
		put("mp", bodies[i].name, bodies[i].b, bodies[i].n);
	}
	for (unsigned i = 0; i < n_msgs; i++) {
		put("msg", msgs[i].name, msgs[i].b, msgs[i].n);
		put("mp", msgs[i].name, msgs[i].b, msgs[i].n);
	}
	make_mp();
	make_scripts();
	make_certs();
	make_sec();
	make_dht();
	return failed;
}
