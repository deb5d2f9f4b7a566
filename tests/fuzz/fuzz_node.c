/* Fuzz target: bytes -> a sequence of events for a few overlay nodes.
 *
 * A tiny deterministic world in the image of sim/world.c: 2 or 3 nodes share
 * one rn_shared (rn_settings_default, far_kind from the header byte), each
 * with its own ctx. The environment queues every sent datagram in a bounded
 * FIFO (the "network") and keeps copies of the last LIB_MAX in a library for
 * replays; deadlines are recorded per node and fired by OP_TIME / OP_RUN;
 * random() is a fixed-seed splitmix64, so an input always replays the same.
 * After creating and joining the nodes (and, unless HDR_NO_SETTLE, letting
 * them settle into a ring), the rest of the input is a script: see
 * fuzz_node_script.h.
 *
 * Every datagram handed to rn_node_recv is first copied into a heap buffer
 * of exactly its length, so that ASan sees any read past the end. After each
 * step the harness checks what the design promises regardless of input:
 * tables stay within their *_max settings and node memory stays bounded.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/env.h"
#include "core/err.h"
#include "core/id.h"
#include "overlay/msg.h"
#include "overlay/node.h"
#include "overlay/settings.h"

#include "fuzz_node_script.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NODES_MAX 3
#define QUEUE_MAX 256   /* datagrams in flight */
#define LIB_MAX 64      /* recent datagrams kept for OP_REPLAY */
#define OPS_MAX 512     /* script steps per input */
#define TIMERS_MAX 256  /* timer firings per OP_TIME */
#define RAW_MAX 2048

typedef struct fz_pkt {
	rn_ep from, to;
	uint8_t *data; /* heap, exactly len bytes */
	size_t len;
} fz_pkt;

typedef struct fz_world fz_world;

typedef struct fz_node {
	fz_world *w;
	uint32_t idx;
	rn_node *node; /* NULL before creation */
	rn_time deadline;
} fz_node;

struct fz_world {
	rn_settings s;
	rn_env env;
	rn_shared sh;
	fz_node nodes[NODES_MAX];
	uint32_t n_nodes;
	rn_id ids[NODES_MAX];
	rn_ep eps[EP_COUNT];
	uint8_t group_id[32];
	rn_time now;
	uint64_t rng;
	fz_pkt queue[QUEUE_MAX];
	uint32_t q_head, q_len;
	fz_pkt lib[LIB_MAX];
	uint32_t lib_next, lib_len;
	uint64_t n_events, n_log_bytes, n_lost;
};

typedef struct fz_in {
	const uint8_t *p;
	size_t n, off;
} fz_in;

/* ---- input ------------------------------------------------------------ */

static uint8_t in_u8(fz_in *r)
{
	return r->off < r->n ? r->p[r->off++] : 0;
}

static uint16_t in_u16(fz_in *r)
{
	uint16_t hi = in_u8(r);
	return (uint16_t)(hi << 8 | in_u8(r));
}

static uint32_t in_u32(fz_in *r)
{
	uint32_t hi = in_u16(r);
	return hi << 16 | in_u16(r);
}

static uint64_t in_u64(fz_in *r)
{
	uint64_t hi = in_u32(r);
	return hi << 32 | in_u32(r);
}

/* Copies up to n bytes of input into a fresh heap buffer of the length
 * actually available (so the buffer is exact for ASan). */
static uint8_t *in_dup(fz_in *r, size_t n, size_t *got)
{
	size_t left = r->n - r->off;
	if (n > left)
		n = left;
	uint8_t *b = malloc(n ? n : 1);
	if (b && n)
		memcpy(b, r->p + r->off, n);
	r->off += n;
	*got = n;
	return b;
}

/* ---- environment ------------------------------------------------------ */

static void pkt_free(fz_pkt *p)
{
	free(p->data);
	p->data = NULL;
}

static int pkt_copy(fz_pkt *dst, const rn_ep *from, const rn_ep *to,
		    const uint8_t *buf, size_t len)
{
	dst->data = malloc(len ? len : 1);
	if (!dst->data)
		return -1;
	if (len)
		memcpy(dst->data, buf, len);
	dst->len = len;
	dst->from = *from;
	dst->to = *to;
	return 0;
}

static void env_send(void *ctx, const rn_ep *to, const uint8_t *buf,
		     size_t len)
{
	fz_node *c = ctx;
	fz_world *w = c->w;
	const rn_ep *from = &w->eps[c->idx];
	/* the overlay promises never to send more; a relay link's datagram
	 * goes inside a RELAY (overlay/relay.c) */
	if (len > RN_DGRAM_MAX + (len >= 2 && buf[1] == RN_MSG_RELAY
					  ? RN_RELAY_HDR_MAX
					  : 0))
		abort();
	fz_pkt *lib = &w->lib[w->lib_next];
	pkt_free(lib);
	if (pkt_copy(lib, from, to, buf, len) == 0) {
		w->lib_next = (w->lib_next + 1) % LIB_MAX;
		if (w->lib_len < LIB_MAX)
			w->lib_len++;
	}
	if (w->q_len == QUEUE_MAX) {
		w->n_lost++;
		return;
	}
	fz_pkt *q = &w->queue[(w->q_head + w->q_len) % QUEUE_MAX];
	if (pkt_copy(q, from, to, buf, len) == 0)
		w->q_len++;
}

static void env_set_deadline(void *ctx, rn_time t)
{
	fz_node *c = ctx;
	c->deadline = t;
}

static void env_random(void *ctx, uint8_t *buf, size_t len)
{
	fz_node *c = ctx;
	fz_world *w = c->w;
	for (size_t k = 0; k < len; k += 8) {
		uint64_t z = (w->rng += 0x9e3779b97f4a7c15ull);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		size_t m = len - k < 8 ? len - k : 8;
		memcpy(buf + k, &z, m);
	}
}

static void env_log(void *ctx, int level, const char *msg)
{
	fz_node *c = ctx;
	if (level < RN_LOG_ERROR || level > RN_LOG_TRACE)
		abort();
	c->w->n_log_bytes += strlen(msg); /* must be a terminated string */
}

static void env_event(void *ctx, const rn_event *ev)
{
	fz_node *c = ctx;
	if (ev->node != c->node || ev->type < RN_EV_JOINED ||
	    ev->type > RN_EV_TRACE_DONE)
		abort();
	/* a path is at most RN_TRACE_HOPS_MAX long and readable */
	if (ev->type == RN_EV_TRACE_DONE) {
		if (ev->path_len > RN_TRACE_HOPS_MAX ||
		    (ev->path_len && (!ev->path_id || !ev->path_rtt_ms)))
			abort();
		for (unsigned k = 0; k < ev->path_len; k++)
			c->w->n_log_bytes += ev->path_rtt_ms[k] + ev->path_id[k].b[0];
	} else if (ev->path_len) {
		abort();
	}
	c->w->n_events++;
}

static void env_tun_write(void *ctx, const uint8_t *pkt, size_t len)
{
	(void)ctx;
	(void)pkt;
	(void)len;
}

/* ---- the world -------------------------------------------------------- */

static int node_of_ep(const fz_world *w, const rn_ep *ep)
{
	for (uint32_t k = 0; k < w->n_nodes; k++)
		if (rn_ep_eq(ep, &w->eps[k]))
			return (int)k;
	return -1;
}

static int node_live(const fz_world *w, uint32_t k)
{
	return k < w->n_nodes && w->nodes[k].node != NULL;
}

/* Hands bytes to node k through an exact-size copy. */
static void deliver(fz_world *w, uint32_t k, const rn_ep *from,
		    const uint8_t *buf, size_t len)
{
	if (!node_live(w, k))
		return;
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return;
	if (len)
		memcpy(copy, buf, len);
	rn_node_recv(w->nodes[k].node, w->now, from, copy, len);
	free(copy);
}

/* Delivers the datagrams queued at the start of the round, in order. */
static void net_round(fz_world *w)
{
	uint32_t n = w->q_len;
	for (uint32_t i = 0; i < n && w->q_len; i++) {
		fz_pkt p = w->queue[w->q_head];
		w->q_head = (w->q_head + 1) % QUEUE_MAX;
		w->q_len--;
		int k = node_of_ep(w, &p.to);
		if (k >= 0)
			deliver(w, (uint32_t)k, &p.from, p.data, p.len);
		pkt_free(&p);
	}
}

/* Fires the deadlines due by `until` in time order, then sets the clock.
 * With net, the network works meanwhile: what the timers send is delivered
 * at once (zero latency) before the next timer fires; without, datagrams
 * stay queued (a partition) and the queue overflows into losses. */
static void fire_timers(fz_world *w, rn_time until, int net)
{
	for (int it = 0; it < TIMERS_MAX; it++) {
		if (net && w->q_len) {
			net_round(w);
			continue;
		}
		fz_node *best = NULL;
		for (uint32_t k = 0; k < w->n_nodes; k++) {
			fz_node *c = &w->nodes[k];
			if (c->node && c->deadline <= until &&
			    (!best || c->deadline < best->deadline))
				best = c;
		}
		if (!best)
			break;
		if (best->deadline > w->now)
			w->now = best->deadline;
		best->deadline = RN_TIME_NEVER;
		rn_node_on_timeout(best->node, w->now);
	}
	if (until > w->now)
		w->now = until;
}

static void round_step(fz_world *w, rn_time step)
{
	fire_timers(w, w->now + step, 0);
	net_round(w);
}

static int node_start(fz_world *w, uint32_t k, const rn_ep *boot,
		      size_t n_boot)
{
	fz_node *c = &w->nodes[k];
	uint32_t vip = FZ_VIP_BASE + k;
	uint8_t v[4] = {(uint8_t)(vip >> 24), (uint8_t)(vip >> 16),
			(uint8_t)(vip >> 8), (uint8_t)vip};
	c->deadline = RN_TIME_NEVER;
	c->node = rn_node_new(&w->sh, c, w->group_id, v, sizeof v, &w->eps[k],
			      w->now);
	if (!c->node)
		return -1;
	if (rn_id_cmp(rn_node_id(c->node), &w->ids[k]) != 0)
		abort(); /* id = BLAKE2b-160(group_id || vip), DESIGN.md 3 */
	int rc = rn_node_join(c->node, w->now, boot, n_boot);
	if (rc != 0)
		abort(); /* a fresh node must accept join */
	return 0;
}

static void node_stop(fz_world *w, uint32_t k)
{
	rn_node_free(w->nodes[k].node);
	w->nodes[k].node = NULL;
	w->nodes[k].deadline = RN_TIME_NEVER;
}

static int world_init(fz_world *w, uint8_t hdr)
{
	rn_settings_default(&w->s);
	w->s.crypto = RN_CRYPTO_NONE; /* the overlay's logic; fuzz_hs has the rest */
	w->s.far_kind = (uint32_t)(hdr >> HDR_FAR_SHIFT) & 3u;
	if (hdr & HDR_VERBOSE)
		w->s.log_level = RN_LOG_TRACE;
	const char *why;
	if (rn_settings_check(&w->s, &why))
		abort();
	w->env.send = env_send;
	w->env.tun_write = env_tun_write;
	w->env.set_deadline = env_set_deadline;
	w->env.random = env_random;
	w->env.log = env_log;
	w->env.event = env_event;
	w->rng = 0x5eed5eed5eed5eedull;
	w->now = 1000000; /* 1 s: not zero, so epoch arithmetic is exercised */
	memset(w->group_id, FZ_GROUP_BYTE, sizeof w->group_id);
	w->n_nodes = (hdr & HDR_THREE_NODES) ? 3 : 2;
	for (uint32_t k = 0; k < NODES_MAX; k++) {
		uint32_t vip = FZ_VIP_BASE + k;
		uint8_t v[4] = {(uint8_t)(vip >> 24), (uint8_t)(vip >> 16),
				(uint8_t)(vip >> 8), (uint8_t)vip};
		rn_id_hash(&w->ids[k], w->group_id, 32, v, 4, NULL, 0);
		rn_ep_from_ipv4(&w->eps[k], FZ_ADDR_BASE + k, FZ_PORT);
		w->nodes[k].w = w;
		w->nodes[k].idx = k;
		w->nodes[k].deadline = RN_TIME_NEVER;
	}
	rn_ep_from_ipv4(&w->eps[EP_OTHER_PORT], FZ_ADDR_BASE, FZ_PORT + 1);
	rn_ep_from_ipv4(&w->eps[EP_STRANGER], 0xC0000207u, 9);
	memset(&w->eps[EP_ZERO], 0, sizeof(rn_ep));
	memset(&w->eps[EP_V6], 0, sizeof(rn_ep));
	w->eps[EP_V6].addr[0] = 0x20;
	w->eps[EP_V6].addr[1] = 0x01;
	w->eps[EP_V6].addr[2] = 0x0d;
	w->eps[EP_V6].addr[3] = 0xb8;
	w->eps[EP_V6].addr[15] = 1;
	w->eps[EP_V6].port = FZ_PORT;
	rn_ep_from_ipv4(&w->eps[EP_NODE3], FZ_ADDR_BASE + 3, FZ_PORT);
	if (rn_shared_init(&w->sh, &w->s, &w->env))
		return -1;
	/* node 0 forms a ring of one; the others join through it */
	for (uint32_t k = 0; k < w->n_nodes; k++)
		if (node_start(w, k, &w->eps[0], k ? 1 : 0))
			return -1;
	return 0;
}

static void world_deinit(fz_world *w)
{
	for (uint32_t k = 0; k < NODES_MAX; k++)
		node_stop(w, k);
	while (w->q_len) {
		pkt_free(&w->queue[w->q_head]);
		w->q_head = (w->q_head + 1) % QUEUE_MAX;
		w->q_len--;
	}
	for (uint32_t i = 0; i < LIB_MAX; i++)
		pkt_free(&w->lib[i]);
	rn_shared_deinit(&w->sh);
}

/* What must hold whatever the input: bounded tables, bounded memory. */
static void check_invariants(const fz_world *w)
{
	rn_link_info info[8];
	rn_id b;
	size_t mem_max = 8192 + (size_t)w->s.links_max * 64 +
			 (size_t)w->s.route_pending_max * 64 +
			 (size_t)w->s.bootstrap_max * sizeof(rn_ep) +
			 (size_t)w->s.lost_peers_max * 64 +
			 (size_t)w->s.ctm_answers_max * 128 +
			 (size_t)w->s.relays_max * 96;
	for (uint32_t k = 0; k < w->n_nodes; k++) {
		const rn_node *n = w->nodes[k].node;
		if (!n)
			continue;
		size_t links = rn_node_link_count(n);
		if (links > w->s.links_max)
			abort();
		if (rn_node_links(n, info, 8) != links)
			abort();
		if (rn_node_mem_bytes(n) > mem_max)
			abort();
		const rn_id *s = rn_node_succ(n, &b);
		if (s && rn_id_cmp(s, rn_node_id(n)) == 0)
			abort(); /* never our own successor */
		int st = rn_node_state(n);
		if (st < RN_NODE_IDLE || st > RN_NODE_LEFT)
			abort();
	}
}

/* ---- script ----------------------------------------------------------- */

static uint32_t pick_node(const fz_world *w, fz_in *r)
{
	return in_u8(r) % w->n_nodes;
}

static const rn_ep *pick_ep(const fz_world *w, fz_in *r)
{
	return &w->eps[in_u8(r) % EP_COUNT];
}

static void pick_id(const fz_world *w, fz_in *r, rn_id *id)
{
	uint8_t sel = in_u8(r) % ID_COUNT;
	rn_id d;
	memset(&d, 0, sizeof d);
	switch (sel) {
	case ID_NODE0:
	case ID_NODE1:
	case ID_NODE2:
		*id = w->ids[sel];
		break;
	case ID_PLUS:
	case ID_MINUS: {
		const rn_id *base = &w->ids[in_u8(r) % NODES_MAX];
		d.b[RN_ID_LEN - 1] = in_u8(r);
		if (sel == ID_PLUS)
			rn_id_add(id, base, &d);
		else
			rn_id_sub(id, base, &d);
		break;
	}
	case ID_RAW:
		for (int i = 0; i < RN_ID_LEN; i++)
			id->b[i] = in_u8(r);
		break;
	case ID_ZERO:
		memset(id, 0, sizeof *id);
		break;
	default: {
		const rn_id *base = &w->ids[in_u8(r) % NODES_MAX];
		rn_id_add_pow2(id, base, in_u8(r) % RN_ID_BITS);
		break;
	}
	}
}

/* A routed body: structured (encoded here) or raw bytes. */
static void build_body(const fz_world *w, fz_in *r, uint8_t *buf, size_t cap,
		       size_t *len)
{
	uint8_t sel = in_u8(r);
	*len = 0;
	if (sel & 0x80) {
		size_t n = in_u8(r);
		if (n > cap)
			n = cap;
		for (size_t i = 0; i < n; i++)
			buf[i] = in_u8(r);
		*len = n;
		return;
	}
	rn_body b;
	memset(&b, 0, sizeof b);
	b.type = (uint8_t)(1 + sel % 3);
	switch (b.type) {
	case RN_BODY_CTM:
		b.u.ctm.purpose = (uint8_t)(1 + in_u8(r) % 2);
		b.u.ctm.token = in_u16(r);
		b.u.ctm.n_eps = (uint8_t)(1 + in_u8(r) % RN_CTM_EPS_MAX);
		for (unsigned i = 0; i < b.u.ctm.n_eps; i++)
			b.u.ctm.eps[i] = *pick_ep(w, r);
		break;
	case RN_BODY_LOOKUP:
		b.u.lookup.qid = in_u8(r);
		break;
	default:
		b.u.lookup.qid = in_u8(r);
		b.u.lookup.hops = in_u8(r);
		break;
	}
	if (rn_body_encode(&b, buf, cap, len))
		abort(); /* every structured body fits */
}

static int build_msg(const fz_world *w, fz_in *r, uint8_t *out, size_t cap,
		     size_t *len)
{
	rn_msg m;
	uint8_t body[RN_BODY_MAX];
	memset(&m, 0, sizeof m);
	m.type = (uint8_t)(1 + in_u8(r) % 8);
	switch (m.type) {
	case RN_MSG_HELLO:
	case RN_MSG_HELLO_ACK:
		pick_id(w, r, &m.u.hello.src);
		m.u.hello.kind = in_u8(r) & RN_KIND_ALL;
		m.u.hello.token = in_u16(r);
		m.u.hello.your_ep = *pick_ep(w, r);
		m.u.hello.ts_ms = in_u32(r);
		break;
	case RN_MSG_PING:
	case RN_MSG_PONG:
		m.u.ping.ts_ms = in_u32(r);
		break;
	case RN_MSG_CLOSE:
		m.u.close.reason = (uint8_t)(1 + in_u8(r) % RN_CLOSE_REASON_MAX);
		break;
	case RN_MSG_NEIGHBORS:
		m.u.neighbors.n = (uint8_t)(in_u8(r) % (RN_NEIGHBORS_MAX + 1));
		for (unsigned i = 0; i < m.u.neighbors.n; i++) {
			pick_id(w, r, &m.u.neighbors.v[i].id);
			m.u.neighbors.v[i].ep = *pick_ep(w, r);
		}
		break;
	case RN_MSG_ROUTED:
		m.u.routed.hop_seq = in_u8(r);
		pick_id(w, r, &m.u.routed.src);
		pick_id(w, r, &m.u.routed.dst);
		m.u.routed.mode = in_u8(r) % (RN_ROUTE_MODE_MAX + 1);
		m.u.routed.hops = in_u8(r);
		m.u.routed.ttl = in_u8(r);
		build_body(w, r, body, sizeof body, &m.u.routed.body_len);
		m.u.routed.body = body;
		break;
	default:
		m.u.hop_ack.hop_seq = in_u8(r);
		break;
	}
	return rn_msg_encode(&m, out, cap, len);
}

static void op_replay(fz_world *w, fz_in *r)
{
	uint8_t i = in_u8(r), t = in_u8(r);
	uint16_t pos = in_u16(r);
	uint8_t x = in_u8(r);
	if (!w->lib_len)
		return;
	uint32_t slot = (w->lib_next + LIB_MAX - 1u - i % w->lib_len) % LIB_MAX;
	const fz_pkt *p = &w->lib[slot];
	int k = (t & 0x80) ? node_of_ep(w, &p->to) : (int)(t % w->n_nodes);
	if (k < 0)
		k = (int)(t % w->n_nodes);
	uint8_t buf[RN_DGRAM_MAX];
	memcpy(buf, p->data, p->len);
	if (p->len)
		buf[pos % p->len] ^= x;
	deliver(w, (uint32_t)k, &p->from, buf, p->len);
}

/* Time steps: fine steps for timers and RTTs, coarse ones for keepalive,
 * trimming and far refresh, and rarely a jump across u32 ms wrap-around. */
static rn_time time_step(fz_in *r)
{
	uint8_t t = in_u8(r);
	if (t < 100)
		return RN_MS(t) * 10u;         /* 0 .. 990 ms */
	if (t < 200)
		return RN_MS(t - 99u) * 1000u; /* 1 .. 100 s */
	if (t < 250)
		return RN_MS(t - 199u) * 60000u; /* 1 .. 50 min */
	return RN_MS(1u << 31) + RN_MS(t - 250u) * 3600000u;
}

static void run_script(fz_world *w, fz_in *r)
{
	for (int ops = 0; ops < OPS_MAX && r->off < r->n; ops++) {
		uint8_t op = in_u8(r) % OP_COUNT;
		switch (op) {
		case OP_RAW: {
			uint32_t k = pick_node(w, r);
			const rn_ep *e = pick_ep(w, r);
			size_t want = in_u8(r), got;
			if (want == 255)
				want = in_u16(r) % RAW_MAX;
			uint8_t *b = in_dup(r, want, &got);
			if (b && node_live(w, k))
				rn_node_recv(w->nodes[k].node, w->now, e, b,
					     got);
			free(b);
			break;
		}
		case OP_MSG: {
			uint32_t k = pick_node(w, r);
			const rn_ep *e = pick_ep(w, r);
			uint8_t buf[RN_DGRAM_MAX];
			size_t len;
			if (build_msg(w, r, buf, sizeof buf, &len) == 0)
				deliver(w, k, e, buf, len);
			break;
		}
		case OP_REPLAY:
			op_replay(w, r);
			break;
		case OP_RUN: {
			unsigned rounds = 1u + in_u8(r) % 8u;
			for (unsigned i = 0; i < rounds; i++)
				round_step(w, RN_MS(1));
			break;
		}
		case OP_TIME:
			fire_timers(w, w->now + time_step(r), 1);
			break;
		case OP_PAUSE:
			fire_timers(w, w->now + time_step(r), 0);
			break;
		case OP_TIMEOUT: {
			uint32_t k = pick_node(w, r);
			if (node_live(w, k))
				rn_node_on_timeout(w->nodes[k].node, w->now);
			break;
		}
		case OP_LOOKUP: {
			uint32_t k = pick_node(w, r);
			rn_id dst;
			pick_id(w, r, &dst);
			uint64_t qid = in_u64(r);
			if (node_live(w, k))
				(void)rn_node_lookup(w->nodes[k].node, w->now,
						     &dst, qid);
			break;
		}
		case OP_LEAVE: {
			uint32_t k = pick_node(w, r);
			if (node_live(w, k))
				rn_node_leave(w->nodes[k].node, w->now);
			break;
		}
		case OP_RESTART: {
			uint32_t k = pick_node(w, r);
			uint8_t mask = in_u8(r);
			rn_ep boot[EP_COUNT];
			size_t nb = 0;
			for (unsigned e = 0; e < EP_COUNT; e++)
				if (mask & (1u << e))
					boot[nb++] = w->eps[e];
			node_stop(w, k);
			if (node_start(w, k, boot, nb))
				return;
			break;
		}
		case OP_DROP: {
			unsigned n = in_u8(r);
			while (n-- && w->q_len) {
				pkt_free(&w->queue[w->q_head]);
				w->q_head = (w->q_head + 1) % QUEUE_MAX;
				w->q_len--;
			}
			break;
		}
		default: /* OP_SETTLE */
			for (int i = 0; i < SETTLE_ROUNDS; i++)
				round_step(w, RN_MS(10));
			break;
		}
		check_invariants(w);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_in r = {data, size, 0};
	fz_world *w = calloc(1, sizeof *w);
	if (!w)
		return 0;
	uint8_t hdr = in_u8(&r);
	if (world_init(w, hdr) == 0) {
		if (!(hdr & HDR_NO_SETTLE))
			for (int i = 0; i < SETTLE_ROUNDS; i++)
				round_step(w, RN_MS(10));
		check_invariants(w);
		run_script(w, &r);
#ifdef FUZZ_NODE_DEBUG
		for (uint32_t k = 0; k < w->n_nodes; k++)
			if (w->nodes[k].node)
			{
				rn_link_info li[8];
				size_t nl = rn_node_links(w->nodes[k].node, li, 8);
				fprintf(stderr, "node %u state %d links %zu:", k,
					rn_node_state(w->nodes[k].node), nl);
				for (size_t i = 0; i < nl && i < 8; i++)
					fprintf(stderr, " [%02x.. up%u near%u leaf%u far%u wants%u]",
						li[i].id.b[0], li[i].up, li[i].near,
						li[i].leaf, li[i].far_out,
						li[i].peer_wants);
				fprintf(stderr, "\n");
			}
		fprintf(stderr, "t=%llu ms queue %u events %llu lost %llu\n",
			(unsigned long long)(w->now / 1000), w->q_len,
			(unsigned long long)w->n_events,
			(unsigned long long)w->n_lost);
#endif
	}
	world_deinit(w);
	free(w);
	return 0;
}
