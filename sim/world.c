/* The simulated world (see world.h): event loop, network and environment.
 *
 * Event encoding in a heap item's value (low 4 bits are the kind):
 *   EV_PKT    pointer to a sim_pkt (from the pool, 16-byte aligned)
 *   EV_TIMER  node << 4
 *   EV_SCRIPT (type << 32 | arg) << 4 ... packed as below
 * and in its sequence number: the push count << SEQ_NODE_BITS | the node
 * the event is for. The count alone orders events (it is unique), so the
 * node bits change no order; they let the loop prefetch the next event's
 * node without first touching its datagram (see prefetch_upcoming).
 */
#include "world.h"

#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include <sodium.h>

#include "../core/cert.h"
#include "../core/err.h"
#include "../core/log.h"
#include "../overlay/hs.h"

enum { EV_PKT = 0, EV_TIMER = 1, EV_SCRIPT = 2 };

#define SEQ_NODE_BITS 24 /* > log2 of ringsim's 4e6 nodes */
#define SEQ_NODE_MASK ((1u << SEQ_NODE_BITS) - 1)
_Static_assert(SIM_NODES_MAX <= SEQ_NODE_MASK + 1ull, "node bits of seq");

typedef struct sim_pkt {
	uint32_t from, to;
	uint32_t len;
	uint8_t data[];
} sim_pkt;

/* What the environment gets back on every call: which node, which world.
 * One per node slot, owned by the world (no globals). */
typedef struct env_ctx {
	sim_world *w;
	uint32_t node;
} env_ctx;

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x7fb5d329728ea185ull;
	x ^= x >> 27;
	x *= 0x81dadef4bc2dd44dull;
	x ^= x >> 33;
	return x;
}

static void trace(sim_world *w, uint64_t a, uint64_t b)
{
	w->trace_hash = mix64(w->trace_hash ^ mix64(a + 0x9e3779b97f4a7c15ull * b));
}

void sim_ep_of(rn_ep *ep, uint32_t node)
{
	rn_ep_from_ipv4(ep, SIM_ADDR_BASE + node, SIM_PORT);
}

static int node_of_ep(const sim_world *w, const rn_ep *ep, uint32_t *node)
{
	uint32_t a = rn_ep_ipv4(ep);
	if (a < SIM_ADDR_BASE || ep->port != SIM_PORT)
		return -1;
	*node = a - SIM_ADDR_BASE;
	return *node < w->n_nodes ? 0 : -1;
}

static sim_world *world_of(void *ctx, uint32_t *node)
{
	env_ctx *c = ctx;
	*node = c->node;
	return c->w;
}

/* Packet pool: class c holds datagrams of up to class_bytes[c] bytes,
 * header included; slabs of PKT_SLAB_BYTES are never returned before the
 * world ends. Sizes are multiples of 16, so packets stay 16-byte aligned. */
static const uint32_t class_bytes[SIM_PKT_CLASSES] = {64, 128, 256, 512,
						      1536};
#define PKT_SLAB_BYTES (256u << 10)

static int pkt_class(size_t bytes)
{
	for (int c = 0; c < SIM_PKT_CLASSES; c++)
		if (bytes <= class_bytes[c])
			return c;
	return -1;
}

static sim_pkt *pkt_alloc(sim_pkt_pool *p, size_t len)
{
	int c = pkt_class(sizeof(sim_pkt) + len);
	if (c < 0)
		return NULL;
	if (!p->free[c]) {
		if (p->n_slabs == p->cap_slabs) {
			uint32_t cap = p->cap_slabs ? 2 * p->cap_slabs : 64;
			void **s = realloc(p->slabs, cap * sizeof *s);
			if (!s)
				return NULL;
			p->slabs = s;
			p->cap_slabs = cap;
		}
		uint8_t *slab = malloc(PKT_SLAB_BYTES);
		if (!slab || ((uintptr_t)slab & 15)) {
			free(slab);
			return NULL;
		}
		p->slabs[p->n_slabs++] = slab;
		for (uint32_t off = 0; off + class_bytes[c] <= PKT_SLAB_BYTES;
		     off += class_bytes[c]) {
			void **item = (void **)(void *)(slab + off);
			*item = p->free[c];
			p->free[c] = item;
		}
	}
	void **item = p->free[c];
	p->free[c] = *item;
	return (sim_pkt *)(void *)item;
}

static void pkt_free(sim_pkt_pool *p, sim_pkt *pkt)
{
	int c = pkt_class(sizeof(sim_pkt) + pkt->len);
	void **item = (void **)(void *)pkt;
	*item = p->free[c];
	p->free[c] = item;
}

static void pkt_pool_deinit(sim_pkt_pool *p)
{
	for (uint32_t i = 0; i < p->n_slabs; i++)
		free(p->slabs[i]);
	free(p->slabs);
	memset(p, 0, sizeof *p);
}

static uint64_t next_seq(sim_world *w, uint32_t node)
{
	return w->seq++ << SEQ_NODE_BITS | node;
}

static void env_send(void *ctx, const rn_ep *to, const uint8_t *buf,
		     size_t len)
{
	uint32_t from, dst;
	sim_world *w = world_of(ctx, &from);
	w->pkts_sent++;
	if (len > 1) /* sealed datagrams count as type 0 */
		w->pkts_by_type[buf[0] == RN_HS_DATA ? 0 : buf[1] & 15]++;
	if (node_of_ep(w, to, &dst) || !(w->nodes[dst].flags & SIM_ALIVE)) {
		w->pkts_lost++;
		return;
	}
	if (w->partitioned && ((w->nodes[from].flags ^ w->nodes[dst].flags) &
			       SIM_SIDE_B)) {
		w->pkts_lost++;
		return;
	}
	if (w->loss > 0.0 && rn_prng_double(&w->prng) < w->loss) {
		w->pkts_lost++;
		return;
	}
	sim_pkt *p = pkt_alloc(&w->pkts, len);
	if (!p) {
		w->pkts_lost++;
		return;
	}
	p->from = from;
	p->to = dst;
	p->len = (uint32_t)len;
	memcpy(p->data, buf, len);
	const sim_node *a = &w->nodes[from], *b = &w->nodes[dst];
	double ms = sim_latency_oneway_ms(&w->lat, a->host, b->host) +
		    a->access_ms + b->access_ms;
	rn_time at = w->now + (rn_time)(ms * 1000.0);
	if (sim_evq_push(&w->events, at, next_seq(w, dst),
			  (uint64_t)(uintptr_t)p)) {
		pkt_free(&w->pkts, p);
		w->pkts_lost++;
	}
}

static void env_set_deadline(void *ctx, rn_time t)
{
	uint32_t i;
	sim_world *w = world_of(ctx, &i);
	sim_node *sn = &w->nodes[i];
	if (t == RN_TIME_NEVER) {
		sn->deadline = RN_TIME_NEVER;
		return;
	}
	if (t < w->now)
		t = w->now;
	if (t == sn->deadline)
		return;
	sn->deadline = t;
	sim_evq_push(&w->events, t, next_seq(w, i), ((uint64_t)i << 4) | EV_TIMER);
}

static void env_random(void *ctx, uint8_t *buf, size_t len)
{
	uint32_t i;
	sim_world *w = world_of(ctx, &i);
	for (size_t k = 0; k < len; k += 8) {
		uint64_t v = rn_prng_u64(&w->prng);
		size_t m = len - k < 8 ? len - k : 8;
		memcpy(buf + k, &v, m);
	}
}

static void env_log(void *ctx, int level, const char *msg)
{
	uint32_t i;
	sim_world *w = world_of(ctx, &i);
	fprintf(stderr, "[%10.3f] node %u %s: %s\n", (double)w->now / 1e6, i,
		rn_log_level_name(level), msg);
}

static void env_event(void *ctx, const rn_event *ev)
{
	uint32_t i;
	sim_world *w = world_of(ctx, &i);
	if (w->on_event)
		w->on_event(w, i, ev);
}

static void env_tun_write(void *ctx, const uint8_t *pkt, size_t len)
{
	(void)ctx;
	(void)pkt;
	(void)len;
}

int sim_world_init(sim_world *w, const rn_settings *s, uint64_t seed,
		   uint32_t n_nodes, const char *lat_path, char *err,
		   size_t errlen)
{
	memset(w, 0, sizeof *w);
	if (n_nodes > SIM_NODES_MAX) {
		snprintf(err, errlen, "at most %u nodes", SIM_NODES_MAX);
		return -1;
	}
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium did not initialise");
		return -1;
	}
	w->settings = *s;
	w->env.send = env_send;
	w->env.tun_write = env_tun_write;
	w->env.set_deadline = env_set_deadline;
	w->env.random = env_random;
	w->env.log = env_log;
	w->env.event = env_event;
	uint8_t sd[RN_PRNG_SEED_LEN] = {0};
	for (int i = 0; i < 8; i++)
		sd[i] = (uint8_t)(seed >> (8 * i));
	sd[8] = 0x5a;
	rn_prng_seed(&w->prng, sd);
	/* The group id is derived from the seed, so ids differ per seed. */
	for (int i = 0; i < 32; i += 8) {
		uint64_t v = rn_prng_u64(&w->prng);
		memcpy(w->group_id + i, &v, 8);
	}
	if (rn_shared_init(&w->sh, &w->settings, &w->env)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	w->sh.unix_offset_ms = SIM_UNIX_BASE_MS;
	if (s->crypto == RN_CRYPTO_REAL) {
		/* A real group: its key from the same random bits, its id as
		 * every member computes it (core/cert.h). */
		if (rn_group_keypair(w->sh.group_pk, w->group_sk, w->group_id)) {
			snprintf(err, errlen, "cannot make the group key");
			return -1;
		}
		rn_group_id(w->group_id, w->sh.group_pk);
		w->idents = calloc(n_nodes, sizeof *w->idents);
		if (!w->idents) {
			snprintf(err, errlen, "out of memory for %u identities",
				 n_nodes);
			return -1;
		}
	}
	if (sim_latency_load(&w->lat, lat_path, &w->prng, err, errlen))
		return -1;
	w->nodes = calloc(n_nodes, sizeof *w->nodes);
	env_ctx *ctx = calloc(n_nodes, sizeof *ctx);
	rn_id *ids = malloc((size_t)n_nodes * sizeof *ids);
	uint32_t *rank = malloc((size_t)n_nodes * sizeof *rank);
	if (!w->nodes || !ctx || !ids || !rank) {
		free(ctx);
		free(ids);
		free(rank);
		snprintf(err, errlen, "out of memory for %u nodes", n_nodes);
		return -1;
	}
	w->user = NULL;
	w->n_nodes = n_nodes;
	for (uint32_t i = 0; i < n_nodes; i++) {
		uint32_t vip = 0x0A000000u + i;
		uint8_t v[4] = {(uint8_t)(vip >> 24), (uint8_t)(vip >> 16),
				(uint8_t)(vip >> 8), (uint8_t)vip};
		rn_id_hash(&ids[i], w->group_id, 32, v, 4, NULL, 0);
		ctx[i].w = w;
		ctx[i].node = i;
		w->nodes[i].host = (uint16_t)rn_prng_below(&w->prng, w->lat.hosts);
		w->nodes[i].access_ms = (uint8_t)(1 + rn_prng_below(&w->prng, 5));
		w->nodes[i].deadline = RN_TIME_NEVER;
	}
	w->ctxs = ctx;
	int rc = sim_oracle_init(&w->oracle, ids, n_nodes, rank);
	for (uint32_t i = 0; i < n_nodes; i++)
		w->nodes[i].rank = rank[i];
	free(ids);
	free(rank);
	if (rc) {
		snprintf(err, errlen, "out of memory for the oracle");
		return -1;
	}
	if (sim_evq_init(&w->events, SIM_EVENTS_MAX)) {
		snprintf(err, errlen, "out of memory for the event queue");
		return -1;
	}
	return 0;
}

void sim_world_deinit(sim_world *w)
{
	sim_evq_deinit(&w->events);
	pkt_pool_deinit(&w->pkts);
	for (uint32_t i = 0; i < w->n_nodes; i++) {
		if (w->dht)
			rn_dht_free(w->dht[i]);
		rn_node_free(w->nodes[i].node);
	}
	free(w->dht);
	free(w->nodes);
	free(w->ctxs);
	if (w->idents)
		sodium_memzero(w->idents, (size_t)w->n_nodes * sizeof *w->idents);
	free(w->idents);
	sodium_memzero(w->group_sk, sizeof w->group_sk);
	sim_oracle_free(&w->oracle);
	sim_latency_free(&w->lat);
	rn_shared_deinit(&w->sh);
}

static void dht_result(void *ctx, const rn_dht_result *res)
{
	uint32_t i;
	sim_world *w = world_of(ctx, &i);
	if (w->on_dht)
		w->on_dht(w, i, res);
}

int sim_world_enable_dht(sim_world *w, const rn_dht_settings *s,
			 sim_dht_fn on_dht)
{
	if (!w->dht) {
		w->dht = calloc(w->n_nodes, sizeof *w->dht);
		if (!w->dht)
			return RN_ERR_NOMEM;
	}
	w->dht_settings = s;
	w->on_dht = on_dht;
	return 0;
}

/* Node i's DHT, on a node just created. */
static int start_dht(sim_world *w, uint32_t i)
{
	uint8_t writer[RN_SIGN_PK_LEN] = {0};
	const rn_ident *id = w->idents ? &w->idents[i] : NULL;
	memcpy(writer, rn_node_id(w->nodes[i].node)->b, RN_ID_LEN);
	w->dht[i] = rn_dht_new(w->nodes[i].node, w->dht_settings, w->group_id,
			       id ? w->sh.group_pk : NULL, id, writer,
			       dht_result, &w->ctxs[i]);
	return w->dht[i] ? 0 : RN_ERR_NOMEM;
}

/* Node i's key (from the group key and i: the same on every restart) and
 * its certificate, valid a year either side of the simulated clock. */
static int make_ident(sim_world *w, uint32_t i, const uint8_t vip[4])
{
	rn_ident *id = &w->idents[i];
	if (id->cert_len)
		return 0;
	uint8_t seed[RN_KEY_SEED_LEN], pk[RN_SIGN_PK_LEN], sk[RN_SIGN_SK_LEN];
	uint8_t in[4] = {(uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8),
			 (uint8_t)i};
	crypto_generichash(seed, sizeof seed, in, sizeof in, w->group_sk, 32);
	rn_cert c;
	uint8_t enc[RN_CERT_ENCODED_MAX];
	size_t len;
	char name[16];
	snprintf(name, sizeof name, "n%u", i);
	uint64_t t = SIM_UNIX_BASE_MS / 1000u;
	int rc = rn_nodekey_keypair(pk, sk, seed);
	if (!rc)
		rc = rn_cert_issue(&c, w->group_sk, pk, vip, 4, name,
				   t - 365u * 86400u, t + 365u * 86400u);
	if (!rc)
		rc = rn_cert_encode(&c, enc, sizeof enc, &len);
	if (!rc)
		rc = rn_ident_init(id, sk, enc, len);
	sodium_memzero(sk, sizeof sk);
	sodium_memzero(seed, sizeof seed);
	return rc;
}

int sim_world_start(sim_world *w, uint32_t i, const uint32_t *boot,
		    uint32_t n_boot)
{
	sim_node *sn = &w->nodes[i];
	rn_ep own, eps[64];
	if (sn->flags & SIM_ALIVE)
		return RN_ERR_STATE;
	rn_node_free(sn->node);
	uint32_t vip = 0x0A000000u + i;
	uint8_t v[4] = {(uint8_t)(vip >> 24), (uint8_t)(vip >> 16),
			(uint8_t)(vip >> 8), (uint8_t)vip};
	sim_ep_of(&own, i);
	sn->node = rn_node_new(&w->sh, &w->ctxs[i], w->group_id, v, 4, &own,
			       w->now);
	if (!sn->node)
		return RN_ERR_NOMEM;
	if (w->idents) {
		int rc = make_ident(w, i, v);
		if (!rc)
			rc = rn_node_set_ident(sn->node, &w->idents[i]);
		if (rc)
			return rc;
	}
	if (w->dht && w->dht_settings) {
		int rc = start_dht(w, i);
		if (rc)
			return rc;
	}
	sn->flags |= SIM_ALIVE | SIM_JOIN_PENDING;
	sn->deadline = RN_TIME_NEVER;
	sn->join_start = w->now;
	sim_oracle_set_alive(&w->oracle, sn->rank, 1);
	if (n_boot > 64)
		n_boot = 64;
	for (uint32_t k = 0; k < n_boot; k++)
		sim_ep_of(&eps[k], boot[k]);
	trace(w, w->now, 0x100000000ull | i);
	return rn_node_join(sn->node, w->now, eps, n_boot);
}

void sim_world_crash(sim_world *w, uint32_t i)
{
	sim_node *sn = &w->nodes[i];
	if (!(sn->flags & SIM_ALIVE))
		return;
	if (w->dht) {
		rn_dht_free(w->dht[i]);
		w->dht[i] = NULL;
	}
	rn_node_free(sn->node);
	sn->node = NULL;
	sn->flags &= (uint8_t)~(SIM_ALIVE | SIM_JOIN_PENDING);
	sn->deadline = RN_TIME_NEVER;
	sim_oracle_set_alive(&w->oracle, sn->rank, 0);
	trace(w, w->now, 0x200000000ull | i);
}

void sim_world_leave(sim_world *w, uint32_t i)
{
	sim_node *sn = &w->nodes[i];
	if (!(sn->flags & SIM_ALIVE))
		return;
	rn_node_leave(sn->node, w->now);
	sim_world_crash(w, i);
}

void sim_world_schedule(sim_world *w, rn_time t, uint32_t type, uint32_t arg)
{
	uint64_t v = (((uint64_t)type << 32 | arg) << 4) | EV_SCRIPT;
	sim_evq_push(&w->events, t, next_seq(w, 0), v);
}

/* A million nodes' state is far larger than the caches, and each event
 * lands on a random node: most of an event's time went to waiting for its
 * node, its link table and its datagram. The queue knows what comes next,
 * so fetch ahead in two stages while the current event runs: the node slot
 * of the event after next, and the node, link table and datagram of the
 * next (its slot was fetched one event earlier). A hint only: an event
 * pushed meanwhile may come first, and nothing is read that is not needed
 * anyway. */
static void prefetch_upcoming(const sim_world *w)
{
	const rn_heap_item *next, *after;
	sim_evq_upcoming(&w->events, &next, &after);
	if (after)
		__builtin_prefetch(&w->nodes[after->seq & SEQ_NODE_MASK]);
	if (!next)
		return;
	const sim_node *sn = &w->nodes[next->seq & SEQ_NODE_MASK];
	switch (next->val & 15) {
	case EV_PKT:
		__builtin_prefetch((const void *)(uintptr_t)next->val);
		break;
	case EV_TIMER:
		if (sn->deadline != next->key)
			return; /* stale: will be skipped */
		break;
	default:
		return;
	}
	if (sn->node)
		rn_node_prefetch(sn->node, 0);
}

/* Stage three, after an event: the link table of the next one, whose node
 * was fetched while the event ran. */
static void prefetch_links(const sim_world *w)
{
	const rn_heap_item *next, *after;
	sim_evq_upcoming(&w->events, &next, &after);
	if (!next || (next->val & 15) == EV_SCRIPT)
		return;
	const rn_node *nd = w->nodes[next->seq & SEQ_NODE_MASK].node;
	if (nd)
		rn_node_prefetch(nd, 1);
}

void sim_world_run_until(sim_world *w, rn_time t)
{
	rn_heap_item it;
	for (;;) {
		const rn_heap_item *top = sim_evq_peek(&w->events);
		if (!top || top->key > t)
			break;
		sim_evq_pop(&w->events, &it);
		prefetch_upcoming(w);
		w->now = it.key;
		switch (it.val & 15) {
		case EV_PKT: {
			sim_pkt *p = (sim_pkt *)(uintptr_t)it.val;
			sim_node *sn = &w->nodes[p->to];
			w->n_events++;
			trace(w, it.key, ((uint64_t)p->from << 32) ^ p->to ^
						 ((uint64_t)p->len << 52));
			if (sn->flags & SIM_ALIVE) {
				rn_ep from;
				sim_ep_of(&from, p->from);
				rn_node_recv(sn->node, w->now, &from, p->data,
					     p->len);
			}
			pkt_free(&w->pkts, p);
			break;
		}
		case EV_TIMER: {
			uint32_t i = (uint32_t)(it.val >> 4);
			sim_node *sn = &w->nodes[i];
			if (!(sn->flags & SIM_ALIVE) || sn->deadline != it.key)
				break; /* stale */
			w->n_events++;
			trace(w, it.key, 0x300000000ull | i);
			sn->deadline = RN_TIME_NEVER;
			rn_node_on_timeout(sn->node, w->now);
			break;
		}
		default: {
			uint64_t v = it.val >> 4;
			w->n_events++;
			trace(w, it.key, v);
			if (w->on_script)
				w->on_script(w, (uint32_t)(v >> 32), (uint32_t)v);
			break;
		}
		}
		prefetch_links(w);
	}
	if (w->now < t)
		w->now = t;
}

int sim_node_placed(const sim_world *w, uint32_t i)
{
	const sim_node *sn = &w->nodes[i];
	rn_id s, p;
	if (!(sn->flags & SIM_ALIVE))
		return 0;
	uint32_t rs = sim_oracle_succ(&w->oracle, sn->rank);
	uint32_t rp = sim_oracle_pred(&w->oracle, sn->rank);
	if (rs == sn->rank) /* alone */
		return 1;
	const rn_id *ms = rn_node_succ(sn->node, &s);
	const rn_id *mp = rn_node_pred(sn->node, &p);
	if (!ms || !mp || rn_id_cmp(ms, &w->oracle.ids[rs]) ||
	    rn_id_cmp(mp, &w->oracle.ids[rp]))
		return 0;
	return 1;
}

uint32_t sim_world_consistent(const sim_world *w)
{
	uint32_t ok = 0;
	for (uint32_t i = 0; i < w->n_nodes; i++)
		if ((w->nodes[i].flags & SIM_ALIVE) && sim_node_placed(w, i))
			ok++;
	return ok;
}
