/* A fake rn_env for driving overlay nodes by hand in unit tests.
 *
 * - a manual clock (w->now), moved only by the test or by fake_pump;
 * - sends captured into a bounded FIFO (overflow is counted, never grown);
 *   fake_pump delivers each to the node whose own endpoint matches,
 *   advancing the clock FAKE_HOP_US per datagram;
 * - each node's requested deadline is remembered, and fake_pump calls
 *   rn_node_on_timeout once the clock reaches it;
 * - deterministic random bytes per node (splitmix64 seeded from the test
 *   seed and the node index);
 * - every sent datagram is decoded on capture and counted per sender and
 *   type; one that does not decode or is too large is counted in bad_sends:
 *   overlay messages and handshakes up to RN_DGRAM_MAX, sealed DATA (which
 *   may carry an IP packet, tunnel/) up to RN_WIRE_MAX, and 58 bytes more
 *   on a relay hop (RN_RELAY_WIRE_MAX; in the clear, a RELAY carries an
 *   overlay message: RN_DGRAM_MAX + RN_RELAY_HDR_MAX);
 * - packets written to each node's TUN (env->tun_write) are counted, and
 *   the last FAKE_TUN_KEEP of them kept (fake_tun_last);
 * - events (env->event) are recorded with the index of the emitting node;
 * - pairs of nodes may be blocked (fake_block): no direct UDP path either
 *   way, as between a symmetric NAT and a port-restricted cone (a new
 *   outside port per destination, which the cone never sent to); what
 *   goes between them is dropped on delivery and counted. fake_unblock
 *   opens the path again.
 * Everything lives in one heap-allocated fake_world: no globals.
 */
#ifndef RN_FAKE_ENV_H
#define RN_FAKE_ENV_H

#include "test_util.h"

#include "core/cert.h"
#include "core/env.h"
#include "core/ep.h"
#include "core/log.h"
#include "overlay/msg.h"
#include "overlay/node.h"
#include "overlay/hs.h"
#include "overlay/settings.h"

#ifndef FAKE_NODES_MAX /* a suite may ask for more before including */
#define FAKE_NODES_MAX 8
#endif
#define FAKE_SENDS_MAX 4096
#define FAKE_EVENTS_MAX 4096
#define FAKE_HOP_US 2000u /* clock advance per delivered datagram */
#define FAKE_PORT 4000
#define FAKE_TYPES (RN_MSG_RELAY + 1)
#define FAKE_TUN_KEEP 8        /* packets kept per node's TUN */
#define FAKE_TUN_PKT_MAX 1500  /* larger TUN writes: tun_oversize */

typedef struct fake_world fake_world;

typedef struct fake_ctx {
	fake_world *w;
	uint32_t idx;
	rn_time deadline;
	trng rng;
} fake_ctx;

typedef struct fake_send {
	uint32_t from;
	rn_ep to;
	uint16_t len;
	uint8_t data[RN_RELAY_WIRE_MAX];
} fake_send;

typedef struct fake_tun_pkt {
	uint16_t len;
	uint8_t data[FAKE_TUN_PKT_MAX];
} fake_tun_pkt;

typedef struct fake_event {
	uint32_t node;
	rn_time at;
	rn_event ev;
} fake_event;

struct fake_world {
	rn_env env;
	rn_settings settings;
	rn_shared sh;
	msgpack_zone zone; /* the test's own decoding */
	uint64_t seed;
	uint8_t group[32];
	rn_time now;

	uint32_t n_nodes;
	rn_node *node[FAKE_NODES_MAX];
	rn_ep ep[FAKE_NODES_MAX];
	fake_ctx ctx[FAKE_NODES_MAX];

	fake_send q[FAKE_SENDS_MAX]; /* FIFO ring */
	size_t q_head, q_len;
	uint64_t sends, sends_overflow, bad_sends, undeliverable;
	uint64_t sent_type[FAKE_NODES_MAX][FAKE_TYPES];
	/* sends addressed to an endpoint that no live node owns, by type */
	uint64_t lost_type[FAKE_TYPES];

	fake_event ev[FAKE_EVENTS_MAX];
	size_t n_ev, ev_overflow;
	/* the path of the latest TRACE_DONE (its event points here) */
	rn_id trace_id[RN_TRACE_HOPS_MAX];
	uint16_t trace_rtt[RN_TRACE_HOPS_MAX];
	uint64_t log_lines;
	/* TUN writes: per node, a count and the last FAKE_TUN_KEEP packets
	 * (a ring, slot count % FAKE_TUN_KEEP is the next) */
	uint64_t tun_count[FAKE_NODES_MAX];
	fake_tun_pkt tun[FAKE_NODES_MAX][FAKE_TUN_KEEP];
	uint64_t tun_oversize;
	uint8_t blocked[FAKE_NODES_MAX][FAKE_NODES_MAX];
	uint64_t blocked_drops;
};

static inline void fake_send_cb(void *vctx, const rn_ep *to, const uint8_t *buf,
				size_t len)
{
	fake_ctx *c = vctx;
	fake_world *w = c->w;
	rn_msg m;
	w->sends++;
	/* crypto real: handshakes and sealed datagrams, counted as type 0 */
	int real = w->settings.crypto == RN_CRYPTO_REAL && len >= 1;
	int data = real && buf[0] == RN_HS_DATA;
	int sealed = data || (real && rn_hs_is_handshake(buf, len));
	size_t max = data	       ? RN_RELAY_WIRE_MAX
		     : len >= 2 && buf[1] == RN_MSG_RELAY ? RN_DGRAM_MAX + RN_RELAY_HDR_MAX
							   : RN_DGRAM_MAX;
	if (len > max ||
	    (!sealed && (rn_msg_decode(&w->zone, buf, len, &m) != 0 ||
			 m.type >= FAKE_TYPES))) {
		w->bad_sends++;
		return;
	}
	w->sent_type[c->idx][sealed ? 0 : m.type]++;
	if (w->q_len == FAKE_SENDS_MAX) {
		w->sends_overflow++;
		return;
	}
	fake_send *s = &w->q[(w->q_head + w->q_len++) % FAKE_SENDS_MAX];
	s->from = c->idx;
	s->to = *to;
	s->len = (uint16_t)len;
	memcpy(s->data, buf, len);
}

static inline void fake_tun_write_cb(void *vctx, const uint8_t *p, size_t n)
{
	fake_ctx *c = vctx;
	fake_world *w = c->w;
	if (n > FAKE_TUN_PKT_MAX) {
		w->tun_oversize++;
		return;
	}
	fake_tun_pkt *t = &w->tun[c->idx][w->tun_count[c->idx]++ % FAKE_TUN_KEEP];
	t->len = (uint16_t)n;
	memcpy(t->data, p, n);
}

/* The back-th latest packet written to node i's TUN (0: the last one), or
 * NULL if there is no such packet kept. */
static inline const fake_tun_pkt *fake_tun_last(const fake_world *w,
						uint32_t i, uint64_t back)
{
	uint64_t n = w->tun_count[i];
	if (back >= n || back >= FAKE_TUN_KEEP)
		return NULL;
	return &w->tun[i][(n - 1 - back) % FAKE_TUN_KEEP];
}

static inline void fake_set_deadline_cb(void *vctx, rn_time t)
{
	fake_ctx *c = vctx;
	c->deadline = t;
}

static inline void fake_random_cb(void *vctx, uint8_t *buf, size_t len)
{
	fake_ctx *c = vctx;
	trng_bytes(&c->rng, buf, len);
}

static inline void fake_log_cb(void *vctx, int level, const char *msg)
{
	fake_ctx *c = vctx;
	c->w->log_lines++;
	if (getenv("RN_TEST_VERBOSE"))
		fprintf(stderr, "[%10.3f] node %u %s: %s\n",
			(double)c->w->now / 1e6, c->idx, rn_log_level_name(level),
			msg);
}

static inline void fake_event_cb(void *vctx, const rn_event *ev)
{
	fake_ctx *c = vctx;
	fake_world *w = c->w;
	if (w->n_ev == FAKE_EVENTS_MAX) {
		w->ev_overflow++;
		return;
	}
	w->ev[w->n_ev].node = c->idx;
	w->ev[w->n_ev].at = w->now;
	w->ev[w->n_ev].ev = *ev;
	if (ev->type == RN_EV_TRACE_DONE) {
		memcpy(w->trace_id, ev->path_id, ev->path_len * sizeof(rn_id));
		memcpy(w->trace_rtt, ev->path_rtt_ms, ev->path_len * sizeof(uint16_t));
		w->ev[w->n_ev].ev.path_id = w->trace_id;
		w->ev[w->n_ev].ev.path_rtt_ms = w->trace_rtt;
	}
	w->n_ev++;
}

/* A world with default settings; the test may change w->settings before
 * adding nodes (nodes read them live through rn_shared). */
static inline fake_world *fake_world_new(uint64_t seed)
{
	fake_world *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->seed = seed;
	rn_settings_default(&w->settings);
	/* The overlay's logic in the clear; the security layer has its own
	 * tests (test_sec.c) */
	w->settings.crypto = RN_CRYPTO_NONE;
	if (getenv("RN_TEST_VERBOSE"))
		w->settings.log_level = atoi(getenv("RN_TEST_VERBOSE"));
	w->env.send = fake_send_cb;
	w->env.tun_write = fake_tun_write_cb;
	w->env.set_deadline = fake_set_deadline_cb;
	w->env.random = fake_random_cb;
	w->env.portmap_request = NULL;
	w->env.log = fake_log_cb;
	w->env.event = fake_event_cb;
	if (rn_shared_init(&w->sh, &w->settings, &w->env)) {
		free(w);
		return NULL;
	}
	msgpack_zone_init(&w->zone, 4096);
	trng g;
	trng_init(&g, seed ^ 0x67726f7570ull);
	trng_bytes(&g, w->group, sizeof w->group);
	w->now = RN_MS(1000000); /* an arbitrary non-zero origin */
	return w;
}

/* The real suite (crypto real) for w's nodes: a group key pair from the
 * test seed (its secret into group_sk, for issuing certificates), the
 * ring's group id derived from it, and a wall clock of 2026-06-01. 0 or
 * -1. The caller sets its other settings itself. */
static inline int fake_real_group(fake_world *w,
				  uint8_t group_sk[RN_SIGN_SK_LEN])
{
	uint8_t seed[RN_KEY_SEED_LEN];
	trng g;
	w->settings.crypto = RN_CRYPTO_REAL;
	w->sh.unix_offset_ms = 1780272000000ll - (int64_t)(w->now / 1000u);
	trng_init(&g, rn_test_seed() ^ 0x6b6579ull);
	trng_bytes(&g, seed, sizeof seed);
	if (rn_group_keypair(w->sh.group_pk, group_sk, seed))
		return -1;
	rn_group_id(w->group, w->sh.group_pk); /* ids follow the real group */
	return 0;
}

static inline void fake_world_free(fake_world *w)
{
	if (!w)
		return;
	for (uint32_t i = 0; i < w->n_nodes; i++)
		rn_node_free(w->node[i]);
	msgpack_zone_destroy(&w->zone);
	rn_shared_deinit(&w->sh);
	free(w);
}

static inline void fake_vip(uint32_t i, uint8_t vip[4])
{
	vip[0] = 10;
	vip[1] = 1;
	vip[2] = (uint8_t)(i >> 8);
	vip[3] = (uint8_t)(i + 1);
}

/* Adds node i (= w->n_nodes) at 192.0.2.(i+1):4000. */
static inline rn_node *fake_add_node(fake_world *w)
{
	uint32_t i = w->n_nodes;
	if (i == FAKE_NODES_MAX)
		return NULL;
	uint8_t vip[4];
	fake_vip(i, vip);
	rn_ep_from_ipv4(&w->ep[i], 0xC0000201u + i, FAKE_PORT);
	w->ctx[i].w = w;
	w->ctx[i].idx = i;
	w->ctx[i].deadline = RN_TIME_NEVER;
	trng_init(&w->ctx[i].rng, w->seed * 31u + i);
	w->node[i] = rn_node_new(&w->sh, &w->ctx[i], w->group, vip, 4, &w->ep[i],
				 w->now);
	if (w->node[i])
		w->n_nodes++;
	return w->node[i];
}

/* The node stops answering at once, as if its host died. */
static inline void fake_crash(fake_world *w, uint32_t i)
{
	rn_node_free(w->node[i]);
	w->node[i] = NULL;
	w->ctx[i].deadline = RN_TIME_NEVER;
}

static inline int fake_node_of_ep(const fake_world *w, const rn_ep *ep)
{
	for (uint32_t i = 0; i < w->n_nodes; i++)
		if (w->node[i] && rn_ep_eq(&w->ep[i], ep))
			return (int)i;
	return -1;
}

/* Calls on_timeout for every node whose deadline has come. */
static inline int fake_fire_timers(fake_world *w)
{
	int fired = 0;
	for (uint32_t i = 0; i < w->n_nodes; i++) {
		if (!w->node[i] || w->ctx[i].deadline == RN_TIME_NEVER ||
		    w->ctx[i].deadline > w->now)
			continue;
		w->ctx[i].deadline = RN_TIME_NEVER;
		rn_node_on_timeout(w->node[i], w->now);
		fired++;
	}
	return fired;
}

/* Delivers the oldest captured datagram; returns 0 if there was none. */
static inline int fake_deliver_one(fake_world *w)
{
	if (!w->q_len)
		return 0;
	fake_send s = w->q[w->q_head];
	w->q_head = (w->q_head + 1) % FAKE_SENDS_MAX;
	w->q_len--;
	w->now += FAKE_HOP_US;
	int to = fake_node_of_ep(w, &s.to);
	if (getenv("RN_TEST_VERBOSE"))
		fprintf(stderr, "[%10.3f] %u -> %d type %u len %u\n",
			(double)w->now / 1e6, s.from, to, s.data[1], s.len);
	if (to >= 0 && w->blocked[s.from][to]) {
		w->blocked_drops++;
		return 1;
	}
	if (to < 0) {
		w->undeliverable++;
		if (s.len >= 2 && s.data[1] < FAKE_TYPES)
			w->lost_type[s.data[1]]++;
		return 1;
	}
	rn_node_recv(w->node[to], w->now, &w->ep[s.from], s.data, s.len);
	return 1;
}

/* No direct path between nodes a and b from now on, either way. */
static inline void fake_block(fake_world *w, uint32_t a, uint32_t b)
{
	w->blocked[a][b] = w->blocked[b][a] = 1;
}

/* The direct path between a and b works again (a NAT's state changed). */
static inline void fake_unblock(fake_world *w, uint32_t a, uint32_t b)
{
	w->blocked[a][b] = w->blocked[b][a] = 0;
}

static inline rn_time fake_next_deadline(const fake_world *w)
{
	rn_time t = RN_TIME_NEVER;
	for (uint32_t i = 0; i < w->n_nodes; i++)
		if (w->node[i] && w->ctx[i].deadline < t)
			t = w->ctx[i].deadline;
	return t;
}

/* As fake_pump, with deliver(ctx) standing in for fake_deliver_one (a
 * test that filters datagrams, e.g. through NATs, passes its own). */
static inline void fake_pump_with(fake_world *w, uint32_t ms,
                                  int (*deliver)(void *), void *ctx)
{
	rn_time end = w->now + RN_MS(ms);
	for (uint64_t guard = 0; guard < 10000000u; guard++) {
		fake_fire_timers(w);
		if (w->now >= end)
			break;
		if (deliver(ctx))
			continue;
		rn_time t = fake_next_deadline(w);
		if (t > end)
			break;
		if (t > w->now)
			w->now = t;
	}
	if (w->now < end)
		w->now = end;
}

static inline int fake_deliver_any(void *w)
{
	return fake_deliver_one(w);
}

/* Runs the world for ms milliseconds of manual clock: datagrams in FIFO
 * order (FAKE_HOP_US each), timers when due. */
static inline void fake_pump(fake_world *w, uint32_t ms)
{
	fake_pump_with(w, ms, fake_deliver_any, w);
}

/* Delivers only what is in flight now and what it causes, at most ms
 * milliseconds; no timers. */
static inline void fake_drain(fake_world *w, uint32_t ms)
{
	rn_time end = w->now + RN_MS(ms);
	while (w->now < end && fake_deliver_one(w))
		;
}

static inline size_t fake_count_events(const fake_world *w, int node, int type)
{
	size_t c = 0;
	for (size_t i = 0; i < w->n_ev; i++)
		if ((node < 0 || w->ev[i].node == (uint32_t)node) &&
		    w->ev[i].ev.type == type)
			c++;
	return c;
}

#endif
