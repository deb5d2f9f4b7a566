/* The node: inputs, message dispatch, link handshake, keepalive, deadlines.
 *
 * Link life:  (none) --HELLO sent--> PENDING --HELLO_ACK--> UP
 *             (none) --HELLO received----------------------> UP
 *             UP --no answer to ping_tries_max pings--> dead (removed)
 *             UP --neither side needs it (CLOSE UNNEEDED/FINAL)--> removed
 * The handshake is deliberately a small replaceable step (on_hello,
 * on_hello_ack): the authenticated key exchange of the group VPN replaces it
 * and everything above it stays.
 *
 * Deadlines: the node asks the environment for one wake-up time, the
 * earliest of its link timers (rounded up to timer_slack_ms so that many
 * links share one wake-up), its hop-ack timers and its periodic tasks.
 * A wake-up that finds nothing due just computes the next one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/err.h"
#include "node_impl.h"

int rn_shared_init(rn_shared *sh, const rn_settings *s, const rn_env *env)
{
	sh->settings = s;
	sh->env = env;
	if (!msgpack_zone_init(&sh->zone, 4096))
		return RN_ERR_NOMEM;
	rn_eptab_init(&sh->eps, s->endpoints_max);
	return 0;
}

void rn_shared_deinit(rn_shared *sh)
{
	msgpack_zone_destroy(&sh->zone);
	rn_eptab_deinit(&sh->eps);
}

rn_node *rn_node_new(rn_shared *sh, void *env_ctx, const uint8_t group_id[32],
		     const uint8_t *vip, size_t vip_len, const rn_ep *own_ep,
		     rn_time now)
{
	/* 32 bytes: an unbound range member's node key (core/cert.h) */
	if (!vip || (vip_len != 4 && vip_len != 16 && vip_len != 32))
		return NULL;
	rn_node *n = calloc(1, sizeof *n);
	if (!n)
		return NULL;
	n->sh = sh;
	rn_logger_init(&n->lg, sh->env, env_ctx, sh->settings->log_level);
	rn_id_hash(&n->id, group_id, 32, vip, vip_len, NULL, 0);
	if (own_ep)
		n->own_ep = *own_ep;
	n->epoch = now;
	uint8_t seed[RN_PRNG_SEED_LEN];
	sh->env->random(env_ctx, seed, sizeof seed);
	rn_prng_seed(&n->prng, seed);
	rn_links_init(&n->links, sh->settings->links_max, &sh->eps);
	n->deadline = RN_TIME_NEVER;
	return n;
}

void rn_node_free(rn_node *n)
{
	if (!n)
		return;
	rn_route_free(n);
	rn_sec_free(n->sec);
	rn_links_deinit(&n->links);
	rn_lost_free(n);
	rn_near_answers_free(n);
	rn_near_replies_free(n);
	rn_relay_free(n);
	rn_shortcut_free(n);
	free(n->boot);
	free(n);
}

void rn_node_prefetch(const rn_node *n, int stage)
{
	const char *p = (const char *)n;
	if (stage == 0) {
		for (size_t off = 0; off < sizeof *n; off += 64)
			__builtin_prefetch(p + off);
		__builtin_prefetch(p + sizeof *n - 1);
		return;
	}
	const rn_links *t = &n->links;
	if (!t->n)
		return;
	/* the table is scanned from the front: the hardware prefetcher
	 * follows once the first lines are in */
	__builtin_prefetch(t->v);
	__builtin_prefetch((const char *)t->v + 64);
	__builtin_prefetch(t->eph);
}

void rn_node_set_upper(rn_node *n, const rn_upper *u)
{
	n->upper = u;
	n->near_changed = 1;
}

static void touch(rn_link *l, uint32_t now_ms);

const rn_upper *rn_node_get_upper(const rn_node *n)
{
	return n->upper;
}

int rn_node_send_ip(rn_node *n, rn_time now, const rn_id *dst, uint8_t *pkt,
		    size_t len)
{
	if (!n->sec || n->state == RN_NODE_LEFT || n->state == RN_NODE_IDLE)
		return RN_ERR_STATE;
	if (len > RN_IP_MAX)
		return RN_ERR_TOOBIG;
	rn_id off;
	rn_id_sub(&off, dst, &n->id);
	int i = rn_links_find(&n->links, &off);
	if (i < 0 || n->links.v[i].state != RN_LINK_UP)
		return RN_ERR_NOROUTE;
	const rn_ep *ep = rn_links_ep(&n->links, (uint32_t)i);
	if (len > RN_RELAY_IP_MAX && rn_relay_ep_is(ep))
		return RN_ERR_TOOBIG; /* a relay link: within RN_WIRE_MAX */
	n->now = now;
	return rn_sec_send_ip(n, ep, pkt, len);
}

void rn_node_tun_write(rn_node *n, const uint8_t *pkt, size_t len)
{
	if (n->sh->env->tun_write)
		n->sh->env->tun_write(n->lg.ctx, pkt, len);
}

int rn_node_route_data(rn_node *n, rn_time now, const rn_id *dst,
		       const uint8_t *body, size_t len)
{
	if (n->state != RN_NODE_JOINED)
		return RN_ERR_STATE;
	if (len > RN_BODY_DATA_MAX)
		return RN_ERR_TOOBIG;
	n->now = now;
	return rn_route_send(n, now, dst, RN_ROUTE_EXACT, body, len, -1,
			     RN_ROUTE_F_NOACK);
}

/* An IP packet that the security layer authenticated on link session
 * with peer (sec.c): up to the layer above, touching the link so that
 * traffic counts as liveness. */
void rn_node_on_ip(rn_node *n, rn_time now, const rn_ep *from,
		   const rn_id *peer, const uint8_t *vip, size_t vip_len,
		   const uint8_t *pkt, size_t len)
{
	int li = rn_links_find_ep(&n->links, from);
	int moved = 0;
	if (li < 0 && rn_relay_ep_is(from)) {
		/* in flight on the relay of a link that has moved to its
		 * direct path since: the link's, but no sign of that path */
		rn_id off;
		rn_id_sub(&off, peer, &n->id);
		li = rn_links_find(&n->links, &off);
		moved = li >= 0 && rn_relay_moved(n, from) == li;
		if (!moved)
			li = -1;
	}
	if (li < 0 || n->links.v[li].state != RN_LINK_UP) {
		n->stats.drop_unknown++;
		return;
	}
	if (!moved)
		touch(&n->links.v[li], rn_ms(n, now));
	if (!n->upper || !n->upper->on_ip) {
		n->stats.drop_decode++;
		return;
	}
	n->upper->on_ip(n->upper->ctx, now, peer, vip, vip_len, pkt, len);
}

int rn_node_route_body(rn_node *n, rn_time now, const rn_id *dst,
		       int closest, const uint8_t *body, size_t len)
{
	if (n->state != RN_NODE_JOINED)
		return RN_ERR_STATE;
	if (len > RN_BODY_MAX)
		return RN_ERR_TOOBIG;
	n->now = now;
	return rn_route_send(n, now, dst,
			     closest ? RN_ROUTE_CLOSEST : RN_ROUTE_EXACT, body,
			     len, -1, 0u);
}

const rn_ep *rn_node_own_ep(const rn_node *n)
{
	return rn_ep_is_zero(&n->own_ep) ? NULL : &n->own_ep;
}

void rn_node_set_own_ep(rn_node *n, const rn_ep *ep)
{
	if (ep)
		n->own_ep = *ep;
	else
		memset(&n->own_ep, 0, sizeof n->own_ep);
}

void rn_node_random(rn_node *n, void *buf, size_t len)
{
	n->sh->env->random(n->lg.ctx, buf, len);
}

uint32_t rn_node_now_ms(const rn_node *n, rn_time now)
{
	return rn_ms(n, now);
}

uint64_t rn_node_unix_ms(const rn_node *n, rn_time now)
{
	return (uint64_t)((int64_t)(now / 1000u) + n->sh->unix_offset_ms);
}

void rn_node_upper_wake(rn_node *n, rn_time now, uint32_t t_ms)
{
	rn_node_want_deadline(n, now, t_ms);
}

uint32_t rn_node_near_ids(const rn_node *n, rn_id *out, uint32_t max)
{
	uint32_t c = 0;
	for (uint32_t i = 0; i < n->links.n && c < max; i++)
		if (n->links.v[i].flags & RN_LF_NEAR)
			rn_id_add(&out[c++], &n->id, &n->links.v[i].off);
	return c;
}

int rn_node_set_ident(rn_node *n, const rn_ident *id)
{
	rn_id cid;
	if (n->sh->settings->crypto != RN_CRYPTO_REAL)
		return 0;
	if (!id || rn_cert_ring_id(&id->parsed, &cid) ||
	    rn_id_cmp(&cid, &n->id) != 0)
		return RN_ERR_INVAL;
	if (!n->sec) {
		n->sec = rn_sec_new(n);
		if (!n->sec)
			return RN_ERR_NOMEM;
	}
	n->ident = id;
	return 0;
}

const rn_sec_stats *rn_node_sec_stats(const rn_node *n)
{
	return rn_sec_get_stats(n->sec);
}

/* ---- sending ---------------------------------------------------------- */

void rn_node_send_raw(rn_node *n, const rn_ep *to, const uint8_t *buf,
		      size_t len, int maint)
{
	if (n->sec) {
		rn_sec_send(n, n->now, to, buf, len, maint);
		return;
	}
	if (rn_relay_ep_is(to)) {
		rn_relay_send(n, to, buf, len);
		return;
	}
	n->stats.tx_pkts++;
	n->stats.tx_bytes += len;
	if (maint) {
		n->stats.tx_maint_pkts++;
		n->stats.tx_maint_bytes += len;
	}
	n->sh->env->send(n->lg.ctx, to, buf, len);
}

void rn_node_send_msg(rn_node *n, const rn_ep *to, const rn_msg *m, int maint)
{
	uint8_t buf[RN_DGRAM_MAX];
	size_t len;
	if (rn_msg_encode(m, buf, sizeof buf, &len) == 0)
		rn_node_send_raw(n, to, buf, len, maint);
}

static void send_hello(rn_node *n, rn_time now, const rn_ep *to, int type,
		       uint8_t kind, uint32_t token, uint32_t ts)
{
	rn_msg m;
	m.type = (uint8_t)type;
	m.u.hello.src = n->id;
	m.u.hello.kind = kind;
	m.u.hello.token = token;
	m.u.hello.your_ep = *to;
	m.u.hello.ts_ms = type == RN_MSG_HELLO ? rn_ms(n, now) : ts;
	m.u.hello.has_peer = 0;
	rn_node_send_msg(n, to, &m, 1);
}

/* A bootstrap's answer to a probe it keeps no link for: it routed the
 * prober's connect-to-me, and passes on a node that answered an earlier
 * one but may not reach the prober through its NAT (near.c). */
static void send_boot_answer(rn_node *n, rn_time now, const rn_ep *to,
			     const rn_msg *probe)
{
	rn_msg m;
	m.type = RN_MSG_HELLO_ACK;
	m.u.hello.src = n->id;
	m.u.hello.kind = RN_KIND_LEAF | RN_KIND_CTM_SENT;
	m.u.hello.token = probe->u.hello.token;
	m.u.hello.your_ep = *to;
	m.u.hello.ts_ms = probe->u.hello.ts_ms;
	m.u.hello.has_peer = (uint8_t)rn_near_take_answer(
		n, now, &probe->u.hello.src, &m.u.hello.peer);
	rn_node_send_msg(n, to, &m, 1);
}

static void send_simple(rn_node *n, const rn_ep *to, int type, uint32_t v)
{
	rn_msg m;
	m.type = (uint8_t)type;
	if (type == RN_MSG_CLOSE)
		m.u.close.reason = (uint8_t)v;
	else
		m.u.ping.ts_ms = v;
	rn_node_send_msg(n, to, &m, 1);
}

void rn_node_emit(rn_node *n, int type, const rn_id *peer, uint64_t qid,
		  uint8_t hops, uint8_t hops_back)
{
	if (!n->sh->env->event)
		return;
	rn_event ev;
	memset(&ev, 0, sizeof ev);
	ev.type = type;
	ev.node = n;
	ev.qid = qid;
	if (peer)
		ev.peer = *peer;
	ev.hops = hops;
	ev.hops_back = hops_back;
	n->sh->env->event(n->lg.ctx, &ev);
}

/* ---- deadlines -------------------------------------------------------- */

void rn_node_want_deadline(rn_node *n, rn_time now, uint32_t t_ms)
{
	rn_time t = rn_ms_to_time(n, t_ms, rn_ms(n, now), now);
	if (n->in_tick) {
		/* on_timeout sets the deadline when it is done: collect */
		if (t < n->tick_min)
			n->tick_min = t;
		return;
	}
	if (t < n->deadline) {
		n->deadline = t;
		n->sh->env->set_deadline(n->lg.ctx, t);
	}
}

uint32_t rn_node_rto_ms(const rn_node *n, const rn_link *l)
{
	const rn_settings *s = n->sh->settings;
	uint32_t rto = l->rtt_ms ? 2u * l->rtt_ms + 50u : 1000u;
	if (rto < s->rto_min_ms)
		rto = s->rto_min_ms;
	if (rto > s->rto_max_ms)
		rto = s->rto_max_ms;
	return rto;
}

/* ---- links ------------------------------------------------------------ */

static int evict_one(rn_node *n, rn_time now);

uint32_t rn_node_pending_links(const rn_node *n)
{
	uint32_t c = 0;
	for (uint32_t i = 0; i < n->links.n; i++)
		c += n->links.v[i].state == RN_LINK_PENDING;
	return c;
}

int rn_node_link_open(rn_node *n, rn_time now, const rn_id *off,
		      const rn_ep *ep, uint8_t kind, uint32_t token)
{
	uint32_t now_ms = rn_ms(n, now);
	int idx = rn_links_find(&n->links, off);
	uint8_t keep = kind & (RN_KIND_NEAR | RN_KIND_FAR);
	if (idx >= 0) {
		rn_link *l = &n->links.v[idx];
		l->kind_out |= keep;
		if (kind & (RN_KIND_NEAR | RN_KIND_FAR | RN_KIND_FAR_REPLY)) {
			l->kind_out &= (uint8_t)~RN_KIND_LEAF;
			l->flags &= (uint8_t)~RN_LF_LEAF;
		}
		if (kind & RN_KIND_FAR_REPLY) {
			l->flags |= RN_LF_PEER_WANTS;
			if (l->state != RN_LINK_UP) { /* resends carry it */
				l->kind_out |= RN_KIND_FAR_REPLY;
				l->token = token;
			}
		}
		if (kind & RN_KIND_NEAR)
			l->flags |= RN_LF_OPEN_NEAR;
		if (l->state == RN_LINK_UP)
			send_hello(n, now, rn_links_ep(&n->links, (uint32_t)idx),
				   RN_MSG_HELLO, (uint8_t)(l->kind_out | kind),
				   token, 0);
		rn_near_recompute(n, now);
		return idx;
	}
	if (rn_node_pending_links(n) >= n->sh->settings->pending_links_max) {
		n->stats.drop_full++;
		return RN_ERR_FULL;
	}
	idx = rn_links_insert(&n->links, off);
	if (idx == RN_ERR_FULL && (kind & RN_KIND_NEAR) && evict_one(n, now) == 0)
		idx = rn_links_insert(&n->links, off);
	if (idx < 0) {
		n->stats.drop_full++;
		return idx;
	}
	if (rn_links_set_ep(&n->links, (uint32_t)idx, ep)) {
		rn_links_remove(&n->links, (uint32_t)idx);
		n->stats.drop_full++;
		return RN_ERR_FULL;
	}
	rn_link *l = &n->links.v[idx];
	l->state = RN_LINK_PENDING;
	l->since_ms = now_ms;
	l->last_rx_ms = now_ms;
	l->kind_out = kind & (RN_KIND_NEAR | RN_KIND_FAR | RN_KIND_LEAF);
	l->token = token;
	if (kind & RN_KIND_FAR_REPLY) {
		l->flags |= RN_LF_PEER_WANTS;
		l->kind_out |= RN_KIND_FAR_REPLY;
	}
	if (kind & RN_KIND_NEAR)
		l->flags |= RN_LF_OPEN_NEAR;
	if (kind & RN_KIND_LEAF)
		l->flags |= RN_LF_LEAF;
	send_hello(n, now, ep, RN_MSG_HELLO, kind, token, 0);
	rn_node_want_deadline(n, now, now_ms + n->sh->settings->hello_rto_ms);
	return idx;
}

void rn_node_link_drop(rn_node *n, rn_time now, uint32_t idx, int dead)
{
	rn_link *l = &n->links.v[idx];
	rn_id peer;
	int was_up = l->state == RN_LINK_UP;
	if (l->flags & RN_LF_NEAR) {
		n->n_neigh_lost++;
		n->near_lost = 1;
		n->near_changed = 1;
	}
	if (dead == 1) {
		n->stats.links_dead++;
		if (l->flags & RN_LF_NEAR)
			rn_lost_add(n, rn_ms(n, now), &l->off,
				    rn_links_ep(&n->links, idx));
		char hex[RN_ID_HEX_LEN + 1];
		rn_id pid;
		rn_id_add(&pid, &n->id, &l->off);
		rn_id_to_hex(&pid, hex);
		rn_log_limited(&n->lg, now, RN_LOG_INFO,
			       "link to %.12s dead (flags %#x, rtt %u ms)", hex,
			       l->flags, l->rtt_ms);
	}
	else if (dead == 2)
		n->stats.links_failed++;
	rn_id_add(&peer, &n->id, &l->off);
	if (n->lg.level >= RN_LOG_DEBUG) {
		char hex[RN_ID_HEX_LEN + 1];
		rn_id_to_hex(&peer, hex);
		rn_log(&n->lg, RN_LOG_DEBUG, "link to %.12s closed (%s, flags %#x)",
		       hex, dead == 1 ? "dead" : dead == 2 ? "no answer" : "close",
		       l->flags);
	}
	rn_sec_forget(n, rn_links_ep(&n->links, idx));
	rn_relay_on_drop(n, &l->off);
	rn_links_remove(&n->links, idx);
	if (was_up)
		rn_node_emit(n, RN_EV_LINK_DOWN, &peer, 0, 0, 0);
	rn_near_recompute(n, now);
}

/* Anything heard from a link proves it alive. */
static void touch(rn_link *l, uint32_t now_ms)
{
	l->last_rx_ms = now_ms;
	l->tries = 0;
	l->flags &= (uint8_t)~RN_LF_SUSPECT;
}

/* Applies the peer's HELLO kind bits to our view of the link. */
static void apply_kind(const rn_node *n, rn_link *l, uint8_t kind,
		       uint32_t token)
{
	if (kind & (RN_KIND_LEAF | RN_KIND_FAR))
		l->flags |= RN_LF_PEER_WANTS;
	else if (!(l->kind_out & RN_KIND_FAR_REPLY))
		l->flags &= (uint8_t)~RN_LF_PEER_WANTS;
	if (kind & (RN_KIND_NEAR | RN_KIND_FAR | RN_KIND_FAR_REPLY)) {
		/* The peer made it a ring link: it is no leaf for either side. */
		l->kind_out &= (uint8_t)~RN_KIND_LEAF;
		l->flags &= (uint8_t)~RN_LF_LEAF;
	} else if ((kind & RN_KIND_LEAF) || (l->kind_out & RN_KIND_LEAF)) {
		l->flags |= RN_LF_LEAF;
	} else {
		l->flags &= (uint8_t)~RN_LF_LEAF;
	}
	/* A shortcut whose wish has gone by the time the peer answers is
	 * not taken up (shortcut.c). */
	if ((kind & RN_KIND_FAR_REPLY) &&
	    (token != RN_SHORTCUT_TOKEN || rn_shortcut_wanted(n, &l->off))) {
		l->flags |= RN_LF_FAR_OUT;
		l->kind_out |= RN_KIND_FAR;
		l->finger = (uint16_t)(token + 1);
	}
}

/* Makes room in a full table. Victims by tier: leaf links, then links no
 * one needs, then links only the peer wants (its far links: it will ask
 * again elsewhere); never our near or far links. Oldest first within a
 * tier. Returns 0 if a link was closed. */
static int evict_one(rn_node *n, rn_time now)
{
	int victim = -1;
	uint32_t now_ms = rn_ms(n, now), best = 0;
	for (uint32_t i = 0; i < n->links.n; i++) {
		const rn_link *l = &n->links.v[i];
		if (l->state != RN_LINK_UP ||
		    (l->flags & (RN_LF_NEAR | RN_LF_FAR_OUT)))
			continue;
		uint32_t age = (now_ms - l->since_ms) >> 2; /* < 2^30 */
		uint32_t tier = (l->flags & RN_LF_LEAF)         ? 3u
				: !(l->flags & RN_LF_PEER_WANTS) ? 2u
								 : 1u;
		uint32_t score = tier << 30 | (age & 0x3fffffffu);
		if (victim < 0 || score > best) {
			victim = (int)i;
			best = score;
		}
	}
	if (victim < 0)
		return RN_ERR_FULL;
	rn_log(&n->lg, RN_LOG_DEBUG, "table full (%u links): evicting one",
	       n->links.n);
	send_simple(n, rn_links_ep(&n->links, (uint32_t)victim), RN_MSG_CLOSE,
		    RN_CLOSE_FINAL);
	rn_node_link_drop(n, now, (uint32_t)victim, 0);
	return 0;
}

/* An endpoint belongs to one peer: a HELLO from it under another id means
 * that peer restarted as someone else, so links to its old id go. */
static void drop_other_at_ep(rn_node *n, rn_time now, const rn_ep *ep,
			     const rn_id *off)
{
	uint32_t tag = rn_links_ep_tag(ep);
	for (uint32_t i = 0; i < n->links.n;) {
		if (rn_links_ep_is(&n->links, i, ep, tag) &&
		    rn_id_cmp(&n->links.v[i].off, off) != 0) {
			rn_node_link_drop(n, now, i, 0);
			continue;
		}
		i++;
	}
}

static int is_bootstrap(const rn_node *n, const rn_ep *ep)
{
	for (unsigned i = 0; i < n->n_boot; i++)
		if (rn_ep_eq(&n->boot[i], ep))
			return 1;
	return 0;
}

static void on_hello(rn_node *n, rn_time now, const rn_ep *from,
		     const rn_msg *m)
{
	uint32_t now_ms = rn_ms(n, now);
	/* Only a placed node can be a bootstrap: two joining nodes that
	 * joined through each other would form an island. */
	if ((m->u.hello.kind & RN_KIND_LEAF) && n->state != RN_NODE_JOINED)
		return;
	rn_id off;
	rn_id_sub(&off, &m->u.hello.src, &n->id);
	if (rn_id_is_zero(&off)) {
		n->stats.drop_decode++;
		return;
	}
	if (rn_ep_is_zero(&n->own_ep) && !rn_relay_ep_is(&m->u.hello.your_ep))
		n->own_ep = m->u.hello.your_ep; /* reflexive address */
	int idx = rn_links_find(&n->links, &off);
	if (m->u.hello.kind == RN_KIND_LEAF) {
		/* A bootstrap probe: route the prober's connect-to-me for it.
		 * Without a link already, answer and keep nothing, unless
		 * the prober asks us to keep a leaf link: it could not reach
		 * the node that answered before, and needs us as its relay
		 * (relay.c). */
		rn_near_proxy_ctm(n, now, &m->u.hello.src, from);
		if (idx < 0 && m->u.hello.token != RN_PROBE_KEEP) {
			send_boot_answer(n, now, from, m);
			return;
		}
	}
	drop_other_at_ep(n, now, from, &off);
	idx = rn_links_find(&n->links, &off);
	int fresh = 0;
	rn_ep old; /* the link's endpoint before this HELLO (relay.c) */
	if (idx >= 0)
		old = *rn_links_ep(&n->links, (uint32_t)idx);
	else
		memset(&old, 0, sizeof old);
	if (idx < 0) {
		idx = rn_links_insert(&n->links, &off);
		if (idx == RN_ERR_FULL && evict_one(n, now) == 0)
			idx = rn_links_insert(&n->links, &off);
		if (idx < 0) {
			n->stats.drop_full++;
			return;
		}
		n->links.v[idx].since_ms = now_ms;
		fresh = 1;
	}
	if (rn_links_set_ep(&n->links, (uint32_t)idx, from)) {
		n->stats.drop_full++; /* endpoint table full */
		if (fresh)
			rn_links_remove(&n->links, (uint32_t)idx);
		return;
	}
	rn_link *l = &n->links.v[idx];
	uint8_t kind = m->u.hello.kind & (uint8_t)~RN_KIND_CTM_SENT;
	int had_near = (l->flags & RN_LF_NEAR) != 0;
	/* A bootstrap probe from a node we already have a ring link with
	 * (it is looking for the ring again) must not demote that link. */
	if (!fresh && l->state == RN_LINK_UP && !(l->flags & RN_LF_LEAF))
		kind &= (uint8_t)~RN_KIND_LEAF;
	/* Our HELLO with FAR_REPLY never arrived (a NAT dropped it until the
	 * peer sent to us, see rn_near_punch): the ACK cannot carry the slot,
	 * so a HELLO follows it. */
	int far_reply = l->state != RN_LINK_UP &&
			(l->kind_out & RN_KIND_FAR_REPLY);
	if (l->state != RN_LINK_UP) {
		l->state = RN_LINK_UP;
		l->since_ms = now_ms;
		fresh = 1;
	}
	touch(l, now_ms);
	apply_kind(n, l, kind, m->u.hello.token);
	send_hello(n, now, from, RN_MSG_HELLO_ACK,
		   (uint8_t)(l->kind_out & ~RN_KIND_FAR_REPLY),
		   m->u.hello.token, m->u.hello.ts_ms);
	if (far_reply)
		send_hello(n, now, from, RN_MSG_HELLO, l->kind_out, l->token, 0);
	if (fresh)
		rn_node_emit(n, RN_EV_LINK_UP, &m->u.hello.src, 0, 0, 0);
	rn_near_recompute(n, now);
	idx = rn_links_find(&n->links, &off);
	/* Our neighbour list goes to a new ring link, or to one that has just
	 * become near; a repeated HELLO (a retransmission, or a kind change
	 * on a link that was near already) does not need it again. */
	if (idx >= 0 && (fresh || !had_near) &&
	    (m->u.hello.kind & RN_KIND_NEAR ||
	     n->links.v[idx].flags & RN_LF_NEAR))
		rn_near_send_neighbors(n, &n->links.v[idx]);
	if (idx >= 0) {
		rn_far_on_link_up(n, (uint32_t)idx);
		rn_relay_on_up(n, (uint32_t)idx,
			       rn_ep_is_zero(&old) ? NULL : &old);
	}
}

static void on_hello_ack(rn_node *n, rn_time now, const rn_ep *from,
			 const rn_msg *m)
{
	uint32_t now_ms = rn_ms(n, now);
	rn_id off;
	rn_id_sub(&off, &m->u.hello.src, &n->id);
	if (rn_id_is_zero(&off))
		return;
	if (rn_ep_is_zero(&n->own_ep) && !rn_relay_ep_is(&m->u.hello.your_ep))
		n->own_ep = m->u.hello.your_ep;
	if (m->u.hello.kind & RN_KIND_CTM_SENT) {
		/* A bootstrap routed our connect-to-me and kept no link for
		 * the probe: neither do we (a link we may have with it already
		 * is not what this answers). */
		n->stats.boot_answers++;
		if (m->u.hello.has_peer && is_bootstrap(n, from))
			rn_near_on_boot_peer(n, now, &m->u.hello.peer);
		return;
	}
	int idx = rn_links_find(&n->links, &off);
	if (idx < 0) {
		/* Only a bootstrap answers a HELLO we sent without knowing
		 * its id. */
		int rejoin = n->state == RN_NODE_JOINED && n->rejoining &&
			     !rn_ms_due(n->rejoin_until_ms, now_ms);
		if ((n->state != RN_NODE_JOINING && !rejoin) ||
		    !is_bootstrap(n, from)) {
			/* Not (or no longer) wanted: let the peer forget it. */
			n->stats.drop_unknown++;
			send_simple(n, from, RN_MSG_CLOSE, RN_CLOSE_FINAL);
			return;
		}
		idx = rn_links_insert(&n->links, &off);
		if (idx < 0) {
			n->stats.drop_full++;
			return;
		}
		rn_link *l = &n->links.v[idx];
		l->kind_out = RN_KIND_LEAF;
		l->flags = RN_LF_LEAF;
	}
	rn_ep old; /* the link's endpoint before this ACK (relay.c) */
	if (n->links.eph[idx])
		old = *rn_links_ep(&n->links, (uint32_t)idx);
	else
		memset(&old, 0, sizeof old);
	if (rn_links_set_ep(&n->links, (uint32_t)idx, from)) {
		n->stats.drop_full++; /* endpoint table full */
		if (n->links.eph[idx] == 0)
			rn_links_remove(&n->links, (uint32_t)idx);
		return;
	}
	rn_link *l = &n->links.v[idx];
	int fresh = l->state != RN_LINK_UP;
	l->state = RN_LINK_UP;
	if (fresh)
		l->since_ms = now_ms;
	uint32_t rtt = now_ms - m->u.hello.ts_ms;
	l->rtt_ms = (uint16_t)(rtt > 60000 ? 60000 : rtt ? rtt : 1);
	touch(l, now_ms);
	apply_kind(n, l, m->u.hello.kind, m->u.hello.token);
	l->kind_out &= (uint8_t)~RN_KIND_FAR_REPLY;
	int want_neigh = (l->flags & RN_LF_OPEN_NEAR) != 0;
	int leaf = (l->flags & RN_LF_LEAF) != 0;
	if (fresh)
		rn_node_emit(n, RN_EV_LINK_UP, &m->u.hello.src, 0, 0, 0);
	rn_near_recompute(n, now);
	idx = rn_links_find(&n->links, &off);
	if (idx < 0)
		return;
	l = &n->links.v[idx];
	if (fresh && (want_neigh || (l->flags & RN_LF_NEAR)))
		rn_near_send_neighbors(n, l);
	rn_far_on_link_up(n, (uint32_t)idx);
	rn_relay_on_up(n, (uint32_t)idx, rn_ep_is_zero(&old) ? NULL : &old);
	/* Each bootstrap that answers carries a connect-to-me for us. */
	if (leaf && n->state == RN_NODE_JOINING && fresh)
		rn_near_request_ctm(n, now, 0);
	else if (leaf && fresh) /* joined, looking for the ring again */
		rn_near_request_ctm(n, now, RN_CTM_VIA_LINK + idx);
}

static void on_close(rn_node *n, rn_time now, uint32_t idx, uint8_t reason)
{
	rn_link *l = &n->links.v[idx];
	switch (reason) {
	case RN_CLOSE_UNNEEDED:
		l->flags &= (uint8_t)~RN_LF_PEER_WANTS;
		if ((l->flags & RN_LF_NEAR) || rn_far_link_needed(n, idx) ||
		    rn_relay_in_use(n, &l->off)) {
			send_simple(n, rn_links_ep(&n->links, idx), RN_MSG_CLOSE,
				    RN_CLOSE_KEEP);
		} else {
			send_simple(n, rn_links_ep(&n->links, idx), RN_MSG_CLOSE,
				    RN_CLOSE_FINAL);
			rn_node_link_drop(n, now, idx, 0);
		}
		break;
	case RN_CLOSE_KEEP:
		l->flags |= RN_LF_PEER_WANTS;
		l->flags &= (uint8_t)~RN_LF_ASKED;
		break;
	case RN_CLOSE_LEAVING:
		/* A ring neighbour that leaves may be restarting; the first
		 * node of a group has no bootstrap to come back through, so
		 * it is probed as a lost one (lost.c). */
		if (l->flags & RN_LF_NEAR)
			rn_lost_add(n, rn_ms(n, now), &l->off,
				    rn_links_ep(&n->links, idx));
		rn_node_link_drop(n, now, idx, 0);
		break;
	default: /* FINAL */
		rn_node_link_drop(n, now, idx, 0);
		break;
	}
}

/* ---- inputs ----------------------------------------------------------- */

void rn_node_recv(rn_node *n, rn_time now, const rn_ep *from,
		  const uint8_t *buf, size_t len)
{
	if (n->state == RN_NODE_LEFT || n->state == RN_NODE_IDLE)
		return;
	n->now = now;
	n->stats.rx_pkts++;
	n->stats.rx_bytes += len;
	if (rn_relay_ep_is(from)) { /* only RELAY FROM speaks for these */
		n->stats.drop_decode++;
		return;
	}
	if (n->sec)
		rn_sec_recv(n, now, from, buf, len);
	else
		rn_node_dispatch(n, now, from, buf, len, RN_VIA_PLAIN);
}

/* Whether from is the virtual endpoint of a link that has moved to its
 * direct path (relay.c): what was in flight on the relay still comes,
 * and must not make the peer close the link (the CLOSE would go back
 * through the relay). It is dropped; the peer follows within an RTT. */
static int moved_off_relay(const rn_node *n, const rn_ep *from)
{
	return rn_relay_ep_is(from) && rn_relay_moved(n, from) >= 0;
}

void rn_node_dispatch(rn_node *n, rn_time now, const rn_ep *from,
		      const uint8_t *buf, size_t len, int via)
{
	rn_msg m;
	int rc = rn_msg_decode(&n->sh->zone, buf, len, &m);
	if (rc) {
		n->stats.drop_decode++;
		rn_log_limited(&n->lg, now, RN_LOG_DEBUG,
			       "dropped undecodable datagram (%zu bytes): %s",
			       len, rn_strerror(rc));
		return;
	}
	/* A handshake carries exactly its HELLO or HELLO_ACK (sec.c checks
	 * that too); everything else needs a session or crypto none. */
	if ((via == RN_VIA_INIT && m.type != RN_MSG_HELLO) ||
	    (via == RN_VIA_RESP && m.type != RN_MSG_HELLO_ACK)) {
		n->stats.drop_decode++;
		return;
	}
	/* A HELLO sealed in a session whose link we dropped (an orphan,
	 * sec.c) must not bring a link up on keys that die with the orphan:
	 * the peer gets CLOSE FINAL and opens again with a handshake. */
	if (via == RN_VIA_DATA &&
	    (m.type == RN_MSG_HELLO || m.type == RN_MSG_HELLO_ACK) &&
	    !rn_sec_peer_cert(n, from)) {
		n->stats.drop_unknown++;
		if (!moved_off_relay(n, from))
			send_simple(n, from, RN_MSG_CLOSE, RN_CLOSE_FINAL);
		return;
	}
	/* Through a relay, a handshake is from the id the relay named. */
	if ((m.type == RN_MSG_HELLO || m.type == RN_MSG_HELLO_ACK) &&
	    rn_relay_ep_is(from)) {
		rn_ep v;
		rn_relay_ep(&v, &m.u.hello.src);
		if (!rn_ep_eq(&v, from)) {
			n->stats.drop_unknown++;
			return;
		}
	}
	if (m.type == RN_MSG_HELLO) {
		on_hello(n, now, from, &m);
		return;
	}
	if (m.type == RN_MSG_HELLO_ACK) {
		on_hello_ack(n, now, from, &m);
		return;
	}
	if (m.type == RN_MSG_HOP_ACK) {
		/* Matched by sequence alone: the link may have closed since. */
		rn_route_on_hop_ack(n, now, from, m.u.hop_ack.hop_seq);
		int li = rn_links_find_ep(&n->links, from);
		if (li >= 0 && n->links.v[li].state == RN_LINK_UP)
			touch(&n->links.v[li], rn_ms(n, now));
		return;
	}
	int idx = rn_links_find_ep(&n->links, from);
	if (idx < 0 || n->links.v[idx].state != RN_LINK_UP) {
		n->stats.drop_unknown++;
		/* A peer that still thinks we are linked: tell it we are not, so
		 * that it does not wait for keepalive timeouts. Never answer a
		 * CLOSE, so two forgetful nodes cannot loop. */
		if (idx < 0 && m.type != RN_MSG_CLOSE &&
		    !moved_off_relay(n, from))
			send_simple(n, from, RN_MSG_CLOSE, RN_CLOSE_FINAL);
		return;
	}
	rn_link *l = &n->links.v[idx];
	uint32_t now_ms = rn_ms(n, now);
	touch(l, now_ms);
	switch (m.type) {
	case RN_MSG_PING:
		send_simple(n, from, RN_MSG_PONG, m.u.ping.ts_ms);
		break;
	case RN_MSG_PONG: {
		uint32_t rtt = now_ms - m.u.ping.ts_ms;
		if (rtt < 60000) {
			uint32_t r = l->rtt_ms ? (7u * l->rtt_ms + rtt) / 8u : rtt;
			l->rtt_ms = (uint16_t)(r ? r : 1);
		}
		break;
	}
	case RN_MSG_CLOSE:
		on_close(n, now, (uint32_t)idx, m.u.close.reason);
		break;
	case RN_MSG_NEIGHBORS:
		rn_near_on_neighbors(n, now, &m);
		break;
	case RN_MSG_FAR_HINTS:
		rn_far_on_hints(n, now, &m);
		break;
	case RN_MSG_ROUTED:
		rn_route_on_routed(n, now, (uint32_t)idx, &m);
		break;
	case RN_MSG_RELAY:
		rn_relay_on_msg(n, now, (uint32_t)idx, &m);
		break;
	default:
		break;
	}
}

/* Pending link i's HELLO is due again: resends it and returns 0, or drops
 * the link and returns 1. Direct HELLOs for hello_tries_max - 1 rounds
 * (the first also punches, near.c), then the link moves to a relay
 * (relay.c) and has hello_tries_max - 1 more there; a joiner with no
 * relay yet first asks its bootstraps for a leaf link (RN_PROBE_KEEP).
 * A link no relay can take has its hello_tries_max direct rounds. */
static int hello_again(rn_node *n, rn_time now, uint32_t i)
{
	uint32_t max = n->sh->settings->hello_tries_max;
	rn_link *l = &n->links.v[i];
	int relayed = rn_relay_ep_is(rn_links_ep(&n->links, i));
	int punch = 0;
	if (relayed ? l->tries + 1u < max : l->tries + 2u < max) {
		punch = ++l->tries == 1 && !relayed;
	} else if (!relayed && rn_relay_open(n, now, i)) {
		l->tries = 1; /* again, relayed */
	} else if (!relayed && n->state == RN_NODE_JOINING && !n->join_keep) {
		n->join_keep = 1;
		rn_node_probe_bootstraps(n, now);
		l->tries++;
	} else if (!relayed && l->tries + 1u < max) {
		l->tries++;
	} else {
		rn_node_link_drop(n, now, i, 2);
		return 1;
	}
	l->since_ms = rn_ms(n, now);
	send_hello(n, now, rn_links_ep(&n->links, i), RN_MSG_HELLO,
		   l->kind_out, l->token, 0);
	if (punch) /* routes; the table stays */
		rn_near_punch(n, now, i);
	return 0;
}

/* Link timers: HELLO retransmission, keepalive, death, trimming. Returns
 * the earliest next link deadline (ms). */
static uint32_t link_tick(rn_node *n, rn_time now, uint32_t now_ms)
{
	const rn_settings *s = n->sh->settings;
	uint32_t next = now_ms + 3600000u;
	for (uint32_t i = 0; i < n->links.n;) {
		rn_link *l = &n->links.v[i];
		uint32_t due;
		if (l->state == RN_LINK_PENDING) {
			due = l->since_ms + (s->hello_rto_ms << l->tries);
			if (rn_ms_due(due, now_ms)) {
				if (hello_again(n, now, i))
					continue; /* dropped */
				due = now_ms + (s->hello_rto_ms << l->tries);
			}
		} else {
			uint32_t idle = (l->flags & RN_LF_NEAR)
						? s->keepalive_near_ms
						: s->keepalive_far_ms;
			uint32_t rto = rn_node_rto_ms(n, l);
			due = l->last_rx_ms + idle + l->tries * rto;
			if (l->flags & RN_LF_SUSPECT && l->tries == 0)
				due = now_ms; /* check it at once */
			if (rn_ms_due(due, now_ms)) {
				if (l->tries >= s->ping_tries_max) {
					rn_node_link_drop(n, now, i, 1);
					continue;
				}
				l->tries++;
				/* a relay that lost our ping: try another */
				if (l->tries > 1 &&
				    rn_relay_ep_is(rn_links_ep(&n->links, i)))
					rn_relay_next(n, &l->off);
				/* Retries are spaced one RTO from this ping, not
				 * from when it was due: wake-ups are rounded up,
				 * and a suspect link is checked early. */
				uint32_t base = now_ms - idle - (l->tries - 1u) * rto;
				if ((l->flags & RN_LF_SUSPECT) ||
				    (int32_t)(base - l->last_rx_ms) > 0)
					l->last_rx_ms = base;
				send_simple(n, rn_links_ep(&n->links, i),
					    RN_MSG_PING, now_ms);
				due = l->last_rx_ms + idle + l->tries * rto;
			} else if (s->timer_slack_ms > 1) {
				/* far links, pinged once a minute, share
				 * wake-ups in coarser steps than near ones */
				uint32_t sl = (l->flags & RN_LF_NEAR)
						      ? s->timer_slack_ms
						      : s->timer_slack_far_ms;
				due = (due + sl - 1) / sl * sl;
			}
			int needed = (l->flags & (RN_LF_NEAR | RN_LF_PEER_WANTS)) ||
				     rn_far_link_needed(n, i) ||
				     ((l->flags & RN_LF_LEAF) &&
				      n->state == RN_NODE_JOINING) ||
				     rn_relay_in_use(n, &l->off);
			if (!needed && !(l->flags & RN_LF_ASKED) &&
			    rn_ms_due(l->since_ms + s->trim_grace_ms, now_ms)) {
				l->flags |= RN_LF_ASKED;
				l->since_ms = now_ms;
				send_simple(n, rn_links_ep(&n->links, i),
					    RN_MSG_CLOSE,
					    RN_CLOSE_UNNEEDED);
			} else if ((l->flags & RN_LF_ASKED) &&
				   rn_ms_due(l->since_ms + s->trim_grace_ms,
					     now_ms)) {
				l->flags &= (uint8_t)~RN_LF_ASKED;
			}
			if (!needed && !(l->flags & RN_LF_ASKED)) {
				due = rn_ms_min(due, l->since_ms + s->trim_grace_ms);
			}
		}
		next = rn_ms_min(next, due);
		i++;
	}
	return next;
}

void rn_node_on_timeout(rn_node *n, rn_time now)
{
	if (n->state == RN_NODE_LEFT || n->state == RN_NODE_IDLE)
		return;
	uint32_t now_ms = rn_ms(n, now), t;
	n->now = now;
	n->in_tick = 1;
	n->tick_min = RN_TIME_NEVER;
	uint32_t next = link_tick(n, now, now_ms);
	if (n->sec)
		next = rn_ms_min(next, rn_sec_tick(n, now, now_ms));
	if (rn_route_timeouts(n, now, now_ms, &t))
		next = rn_ms_min(next, t);
	next = rn_ms_min(next, rn_near_tick(n, now, now_ms));
	next = rn_ms_min(next, rn_far_tick(n, now, now_ms));
	if (n->n_lost)
		next = rn_ms_min(next, rn_lost_tick(n, now, now_ms));
	if (n->n_shortcuts)
		next = rn_ms_min(next, rn_shortcut_tick(n, now, now_ms));
	if (n->n_relays)
		next = rn_ms_min(next, rn_relay_tick(n, now, now_ms));
	if (n->upper) {
		int changed = n->near_changed;
		n->near_changed = 0;
		next = rn_ms_min(next, n->upper->tick(n->upper->ctx, now, now_ms,
						      changed));
	}
	if (rn_ms_due(next, now_ms))
		next = now_ms + 1;
	n->in_tick = 0;
	n->deadline = rn_ms_to_time(n, next, now_ms, now);
	/* Timers started by the work above (hop acks of CTMs sent by the
	 * near and far ticks, HELLOs of links they opened) */
	if (n->tick_min < n->deadline)
		n->deadline = n->tick_min > now ? n->tick_min : now + 1000;
	n->sh->env->set_deadline(n->lg.ctx, n->deadline);
}

/* ---- commands --------------------------------------------------------- */

int rn_node_join(rn_node *n, rn_time now, const rn_ep *boot, size_t n_boot)
{
	const rn_settings *s = n->sh->settings;
	if (n->state != RN_NODE_IDLE)
		return RN_ERR_STATE;
	if (s->crypto == RN_CRYPTO_REAL && !n->sec)
		return RN_ERR_STATE; /* rn_node_set_ident first */
	n->now = now;
	free(n->boot);
	n->boot = NULL;
	n->n_boot = 0;
	if (n_boot > s->bootstrap_max)
		n_boot = s->bootstrap_max;
	if (n_boot) {
		n->boot = calloc(n_boot, sizeof *n->boot);
		if (!n->boot)
			return RN_ERR_NOMEM;
	}
	for (size_t i = 0; i < n_boot; i++)
		if (!rn_ep_eq(&boot[i], &n->own_ep))
			n->boot[n->n_boot++] = boot[i];
	uint32_t now_ms = rn_ms(n, now);
	n->t_stabilize = now_ms + s->stabilize_ms;
	n->t_ring_check = now_ms + s->ring_check_ms;
	if (!n->n_boot) {
		n->state = RN_NODE_JOINED;
		n->joined_ms = now_ms;
		rn_node_emit(n, RN_EV_JOINED, NULL, 0, 0, 0);
		n->t_far = now_ms + s->far_start_ms;
	} else {
		n->state = RN_NODE_JOINING;
		n->t_join_retry = now_ms; /* near tick sends the probes */
	}
	n->deadline = RN_TIME_NEVER;
	rn_node_want_deadline(n, now, now_ms);
	return 0;
}

/* Probes two random bootstraps with a HELLO (we do not know their ids
 * yet); each retry picks again, so any live subset of the list will do. */
void rn_node_probe_bootstraps(rn_node *n, rn_time now)
{
	unsigned first = (unsigned)rn_prng_below(&n->prng, n->n_boot);
	uint32_t token = n->join_keep ? RN_PROBE_KEEP : 0;
	send_hello(n, now, &n->boot[first], RN_MSG_HELLO, RN_KIND_LEAF, token,
		   0);
	if (n->n_boot > 1) {
		unsigned second = (first + 1u +
				   (unsigned)rn_prng_below(&n->prng, n->n_boot - 1u)) %
				  n->n_boot;
		send_hello(n, now, &n->boot[second], RN_MSG_HELLO, RN_KIND_LEAF,
			   token, 0);
	}
}

void rn_node_leave(rn_node *n, rn_time now)
{
	if (n->state == RN_NODE_LEFT)
		return;
	n->now = now;
	for (uint32_t i = 0; i < n->links.n; i++)
		if (n->links.v[i].state == RN_LINK_UP)
			send_simple(n, rn_links_ep(&n->links, i), RN_MSG_CLOSE,
				    RN_CLOSE_LEAVING);
	rn_route_free(n);
	rn_lost_free(n);
	rn_near_answers_free(n);
	rn_near_replies_free(n);
	rn_relay_free(n);
	rn_shortcut_free(n);
	rn_links_deinit(&n->links);
	rn_links_init(&n->links, n->sh->settings->links_max, &n->sh->eps);
	n->state = RN_NODE_LEFT;
	n->deadline = RN_TIME_NEVER;
	n->sh->env->set_deadline(n->lg.ctx, RN_TIME_NEVER);
}

int rn_node_lookup(rn_node *n, rn_time now, const rn_id *dst, uint64_t qid)
{
	uint8_t body[32];
	size_t len;
	rn_body b;
	if (n->state != RN_NODE_JOINED)
		return RN_ERR_STATE;
	n->now = now;
	b.type = RN_BODY_LOOKUP;
	b.u.lookup.qid = qid;
	int rc = rn_body_encode(&b, body, sizeof body, &len);
	if (rc)
		return rc;
	if (rn_id_cmp(dst, &n->id) == 0) {
		rn_node_emit(n, RN_EV_LOOKUP_DELIVERED, &n->id, qid, 0, 0);
		rn_node_emit(n, RN_EV_LOOKUP_DONE, &n->id, qid, 0, 0);
		return 0;
	}
	return rn_route_send(n, now, dst, RN_ROUTE_EXACT, body, len, -1, 0u);
}

int rn_node_trace(rn_node *n, rn_time now, const rn_id *dst, uint64_t qid)
{
	uint8_t body[64];
	size_t len;
	rn_body b;
	if (n->state != RN_NODE_JOINED)
		return RN_ERR_STATE;
	n->now = now;
	b.type = RN_BODY_TRACE;
	b.u.trace.qid = qid;
	b.u.trace.n = 0;
	if (rn_id_cmp(dst, &n->id) == 0) {
		b.u.trace.id[0] = n->id;
		b.u.trace.rtt_ms[0] = 0;
		b.u.trace.n = 1;
		rn_node_emit_trace(n, &n->id, &b, 0);
		return 0;
	}
	int rc = rn_body_encode(&b, body, sizeof body, &len);
	if (rc)
		return rc;
	return rn_route_send(n, now, dst, RN_ROUTE_EXACT, body, len, -1, 0u);
}

void rn_node_emit_trace(rn_node *n, const rn_id *peer, const rn_body *b,
			uint8_t hops_back)
{
	if (!n->sh->env->event)
		return;
	rn_event ev;
	memset(&ev, 0, sizeof ev);
	ev.type = RN_EV_TRACE_DONE;
	ev.node = n;
	ev.qid = b->u.trace.qid;
	ev.peer = *peer;
	ev.hops = b->u.trace.n ? (uint8_t)(b->u.trace.n - 1) : 0;
	ev.hops_back = hops_back;
	ev.path_len = b->u.trace.n;
	ev.path_id = b->u.trace.id;
	ev.path_rtt_ms = b->u.trace.rtt_ms;
	n->sh->env->event(n->lg.ctx, &ev);
}

/* ---- queries ---------------------------------------------------------- */

const rn_id *rn_node_id(const rn_node *n) { return &n->id; }
int rn_node_state(const rn_node *n) { return n->state; }
const rn_node_stats *rn_node_get_stats(const rn_node *n) { return &n->stats; }
size_t rn_node_link_count(const rn_node *n) { return n->links.n; }

static const rn_id *neighbour(const rn_node *n, rn_id *buf, int succ)
{
	const rn_links *t = &n->links;
	for (uint32_t k = 0; k < t->n; k++) {
		const rn_link *l = &t->v[succ ? k : t->n - 1 - k];
		if (rn_link_eligible(l)) {
			rn_id_add(buf, &n->id, &l->off);
			return buf;
		}
	}
	return NULL;
}

const rn_id *rn_node_succ(const rn_node *n, rn_id *buf)
{
	return neighbour(n, buf, 1);
}

const rn_id *rn_node_pred(const rn_node *n, rn_id *buf)
{
	return neighbour(n, buf, 0);
}

size_t rn_node_links(const rn_node *n, rn_link_info *out, size_t max)
{
	for (uint32_t i = 0; i < n->links.n && i < max; i++) {
		const rn_link *l = &n->links.v[i];
		rn_id_add(&out[i].id, &n->id, &l->off);
		out[i].ep = *rn_links_ep(&n->links, i);
		out[i].up = l->state == RN_LINK_UP;
		out[i].near = (l->flags & RN_LF_NEAR) != 0;
		out[i].far_out = (l->flags & RN_LF_FAR_OUT) != 0;
		out[i].shortcut = out[i].far_out &&
				  l->finger == RN_SHORTCUT_FINGER;
		out[i].peer_wants = (l->flags & RN_LF_PEER_WANTS) != 0;
		out[i].leaf = (l->flags & RN_LF_LEAF) != 0;
		out[i].rtt_ms = l->rtt_ms;
		out[i].age_ms = rn_ms(n, n->now) - l->since_ms;
		const rn_cert *c = rn_sec_peer_cert(n, &out[i].ep);
		out[i].vip_len = c ? c->vip_len : 0;
		memcpy(out[i].vip, c ? c->vip : (const uint8_t *)"", out[i].vip_len);
		snprintf(out[i].name, sizeof out[i].name, "%s", c ? c->name : "");
		rn_relay_bytes(n, &l->off, &out[i].relay_tx_bytes,
			       &out[i].relay_rx_bytes);
	}
	return n->links.n;
}

void rn_node_rehello(rn_node *n, rn_time now, uint32_t idx)
{
	rn_node_hello_at(n, now, idx, rn_links_ep(&n->links, idx));
}

void rn_node_hello_at(rn_node *n, rn_time now, uint32_t idx, const rn_ep *to)
{
	const rn_link *l = &n->links.v[idx];
	rn_ep ep = *to; /* to may live in the endpoint table */
	send_hello(n, now, &ep, RN_MSG_HELLO,
		   (uint8_t)(l->kind_out & ~RN_KIND_FAR_REPLY), l->token, 0);
}

void *rn_table_grow(void *v, uint8_t *cap, uint32_t max, size_t elem)
{
	uint32_t c = *cap ? 2u * *cap : 1u;
	if (c > max)
		c = max;
	void *nv = realloc(v, c * elem);
	if (nv)
		*cap = (uint8_t)c;
	return nv;
}

size_t rn_node_mem_bytes(const rn_node *n)
{
	const rn_settings *s = n->sh->settings;
	return sizeof *n + rn_sec_mem_bytes(n->sec) +
	       n->links.cap * sizeof(rn_link) +
	       n->cap_pend * sizeof(rn_pending) + n->n_boot * sizeof(rn_ep) +
	       (n->lost ? s->lost_peers_max * sizeof *n->lost : 0) +
	       n->cap_answers * sizeof *n->answers +
	       n->cap_replies * sizeof *n->replies +
	       n->cap_relays * sizeof *n->relays +
	       (n->shortcuts ? s->shortcuts_max * sizeof *n->shortcuts : 0);
}
