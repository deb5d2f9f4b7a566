/* Ring neighbours: the near window, neighbour-list exchange and repair.
 *
 * The near set is the first near_k eligible links clockwise (successors)
 * and the last near_k counter-clockwise (predecessors) in the sorted link
 * table; "eligible" means UP and not a leaf. It is cached in RN_LF_NEAR and
 * recomputed whenever a link comes, goes or changes role.
 *
 * Convergence (Brunet's near-connection overlord, simplified):
 *  - a node announces its near set (NEIGHBORS) to its near links when it
 *    lost a near link (coalesced over near_announce_ms), to every new link
 *    made for nearness, and every stabilize_ms to its successor and
 *    predecessor;
 *  - a node that hears of a node inside its own window links to it;
 *  - when a near link is lost, or every ring_check_ms, the node sends a
 *    connect-to-me (CTM) for its own id through a random far link (the
 *    best link if it has none); it lands on the closest other node, which links back and announces its near set.
 * Joining is the same CTM: a bootstrap that answers a joiner's probe (a
 * HELLO of kind LEAF) routes it on the joiner's behalf, with the endpoint
 * it saw, and keeps no link for the probe (rn_near_proxy_ctm), so that a
 * bootstrap flooded with joiners holds no state for them.
 *
 * Through NATs (DESIGN.md section 6). A home router (a port-restricted
 * cone) lets in only what comes from where its host has sent to, so a
 * HELLO to a node that never sent to us is lost. Two things make the
 * other side send too, after which each side's next HELLO gets through:
 *  - punch: a PENDING link whose first HELLO went unanswered routes a CTM
 *    PUNCH to the peer's id (rn_near_punch), once per link open; the peer
 *    opens a link back (kind 0: it wants nothing, we do);
 *  - a joiner is in no ring yet, so nothing routes to it. The bootstrap
 *    names itself as the relay of the CTM it routes for the joiner; a node
 *    that answers such a CTM and whose first HELLO to the joiner goes
 *    unanswered routes a CTM_REPLY (its id and endpoint) to the relay
 *    instead of a punch (reply_later); the relay keeps it in a small table
 *    (ctm_answers_max, oldest overwritten, 2 join_retry_ms at most; grown
 *    from one entry and freed when the last is taken) and
 *    hands it to the joiner in the HELLO_ACK to the joiner's next probe.
 *    The joiner then says HELLO to that node, which meanwhile keeps
 *    retransmitting its own.
 */
#include <stdlib.h>
#include <string.h>

#include "../core/err.h"
#include "node_impl.h"

void rn_near_recompute(rn_node *n, rn_time now)
{
	const rn_settings *s = n->sh->settings;
	rn_links *t = &n->links;
	uint32_t k = s->near_k, cnt = 0, total = 0;
	for (uint32_t i = 0; i < t->n; i++)
		total += rn_link_eligible(&t->v[i]);
	for (uint32_t i = 0; i < t->n; i++) {
		rn_link *l = &t->v[i];
		int near = 0;
		if (rn_link_eligible(l)) {
			/* rank from the front is cnt, from the back total-1-cnt */
			near = cnt < k || total - 1 - cnt < k;
			cnt++;
		}
		if (near != !!(l->flags & RN_LF_NEAR)) {
			l->flags ^= RN_LF_NEAR;
			n->near_changed = 1;
		}
	}
	uint32_t now_ms = rn_ms(n, now);
	if (n->near_changed && n->upper)
		rn_node_want_deadline(n, now, now_ms);
	/* Gains need no announcement: a newcomer gets our list in answer to
	 * its HELLO and says HELLO to everyone in its own window. Losses do,
	 * even when no replacement is in sight yet: our other neighbours may
	 * need one from our list. */
	if (n->near_lost && !n->near_dirty) {
		n->near_dirty = 1;
		n->t_announce = now_ms + s->near_announce_ms;
		rn_node_want_deadline(n, now, n->t_announce);
	}
	if (n->state == RN_NODE_JOINING && total > 0) {
		n->state = RN_NODE_JOINED;
		n->join_keep = 0;
		n->joined_ms = now_ms;
		n->t_far = now_ms + s->far_start_ms;
		n->t_ring_check = now_ms + 2000;
		rn_node_want_deadline(n, now, n->t_far);
		rn_node_emit(n, RN_EV_JOINED, NULL, 0, 0, 0);
		/* Leaf links have done their job: ask to close them. If a
		 * bootstrap is really our neighbour, it answers KEEP or the
		 * neighbour exchange links us again. Keeping them for the trim
		 * grace would fill busy bootstraps' tables. */
		for (uint32_t i = 0; i < t->n; i++) {
			rn_link *l = &t->v[i];
			/* one that relays a link of ours stays (relay.c) */
			if (!(l->kind_out & RN_KIND_LEAF) ||
			    rn_relay_in_use(n, &l->off))
				continue;
			l->kind_out &= (uint8_t)~RN_KIND_LEAF;
			l->flags &= (uint8_t)~RN_LF_LEAF;
			if (l->state != RN_LINK_UP)
				continue;
			rn_msg m;
			m.type = RN_MSG_CLOSE;
			m.u.close.reason = RN_CLOSE_UNNEEDED;
			l->flags |= RN_LF_ASKED;
			l->since_ms = now_ms;
			rn_node_send_msg(n, rn_link_ep(&n->links, l), &m, 1);
		}
		rn_near_recompute(n, now);
	} else if (n->state == RN_NODE_JOINED && total == 0 && n->n_boot) {
		n->state = RN_NODE_JOINING;
		n->t_join_retry = now_ms;
		rn_node_want_deadline(n, now, now_ms);
	}
}

static uint32_t count_eligible(const rn_node *n)
{
	uint32_t c = 0;
	for (uint32_t i = 0; i < n->links.n; i++)
		c += rn_link_eligible(&n->links.v[i]);
	return c;
}

/* Ring links, and near links we are already opening: counting the latter
 * keeps a joining node from opening a link to every node it hears of
 * before the first answers arrive (most would be closed again). */
static uint32_t window_member(const rn_link *l)
{
	return rn_link_eligible(l) ||
	       (l->state == RN_LINK_PENDING && (l->flags & RN_LF_OPEN_NEAR));
}

int rn_near_in_window(const rn_node *n, const rn_id *off)
{
	const rn_links *t = &n->links;
	uint32_t k = n->sh->settings->near_k, pos, cnt = 0;
	pos = rn_links_lower_bound(t, off);
	for (uint32_t i = 0; i < pos && cnt < k; i++)
		cnt += window_member(&t->v[i]);
	if (cnt < k)
		return 1;
	cnt = 0;
	for (uint32_t i = t->n; i-- > pos && cnt < k;)
		cnt += window_member(&t->v[i]);
	return cnt < k;
}

void rn_near_send_neighbors(rn_node *n, const rn_link *to)
{
	rn_msg m;
	m.type = RN_MSG_NEIGHBORS;
	m.u.neighbors.n = 0;
	for (uint32_t i = 0; i < n->links.n; i++) {
		const rn_link *l = &n->links.v[i];
		if (!(l->flags & RN_LF_NEAR) || l == to)
			continue;
		if (m.u.neighbors.n >= RN_NEIGHBORS_MAX)
			break;
		rn_peer_info *e = &m.u.neighbors.v[m.u.neighbors.n++];
		rn_id_add(&e->id, &n->id, &l->off);
		e->ep = *rn_link_ep(&n->links, l);
	}
	rn_node_send_msg(n, rn_link_ep(&n->links, to), &m, 1);
}

/* A node we heard of: link to it if it falls in our window. */
static void consider_peer(rn_node *n, rn_time now, const rn_peer_info *p)
{
	rn_id off;
	rn_id_sub(&off, &p->id, &n->id);
	if (rn_id_is_zero(&off))
		return;
	int j = rn_links_find(&n->links, &off);
	if (j >= 0 && !(n->links.v[j].flags & RN_LF_LEAF))
		return;
	if (rn_near_in_window(n, &off))
		rn_node_link_open(n, now, &off, &p->ep, RN_KIND_NEAR, 0);
}

void rn_near_on_neighbors(rn_node *n, rn_time now, const rn_msg *m)
{
	for (unsigned i = 0; i < m->u.neighbors.n; i++)
		consider_peer(n, now, &m->u.neighbors.v[i]);
}

/* A random usable link that is not a near link, or -1. */
static int random_far_link(rn_node *n)
{
	uint32_t cnt = 0;
	for (uint32_t i = 0; i < n->links.n; i++)
		cnt += (uint32_t)(rn_link_usable(&n->links.v[i]) &&
				  !(n->links.v[i].flags & RN_LF_NEAR));
	if (!cnt)
		return -1;
	uint64_t pick = rn_prng_below(&n->prng, cnt);
	for (uint32_t i = 0; i < n->links.n; i++) {
		if (!rn_link_usable(&n->links.v[i]) ||
		    (n->links.v[i].flags & RN_LF_NEAR))
			continue;
		if (pick-- == 0)
			return (int)i;
	}
	return -1;
}

/* A CTM with one endpoint, token 0 and no relay. */
static void ctm_init(rn_body *b, uint8_t purpose, const rn_ep *ep)
{
	memset(b, 0, sizeof *b);
	b->type = RN_BODY_CTM;
	b->u.ctm.purpose = purpose;
	b->u.ctm.n_eps = 1;
	b->u.ctm.eps[0] = *ep;
}

/* First hop for a CTM while joining: a leaf link, else any UP link. */
static int join_link(rn_node *n)
{
	int any = -1;
	for (uint32_t i = 0; i < n->links.n; i++) {
		if (n->links.v[i].state != RN_LINK_UP)
			continue;
		if (n->links.v[i].flags & RN_LF_LEAF)
			return (int)i;
		any = (int)i;
	}
	return any;
}

void rn_near_request_ctm(rn_node *n, rn_time now, int via_far)
{
	uint8_t body[128];
	size_t len;
	rn_body b;
	int first;
	if (via_far >= RN_CTM_VIA_LINK)
		first = via_far - RN_CTM_VIA_LINK;
	else if (n->state == RN_NODE_JOINING)
		first = join_link(n);
	else
		first = via_far ? random_far_link(n) : -1;
	if (n->state == RN_NODE_JOINING && first < 0)
		return;
	ctm_init(&b, RN_CTM_NEAR, &n->own_ep);
	if (rn_body_encode(&b, body, sizeof body, &len))
		return;
	rn_route_send(n, now, &n->id,
		      RN_ROUTE_CLOSEST | RN_ROUTE_EXCLUDE_SRC, body, len, first,
		      RN_ROUTE_F_MAINT);
}

void rn_near_proxy_ctm(rn_node *n, rn_time now, const rn_id *id,
		       const rn_ep *ep)
{
	uint8_t body[128];
	size_t len;
	rn_body b;
	ctm_init(&b, RN_CTM_NEAR, ep);
	b.u.ctm.has_relay = 1; /* answers that cannot reach the joiner */
	b.u.ctm.relay = n->id;
	if (rn_body_encode(&b, body, sizeof body, &len))
		return;
	rn_route_send_for(n, now, id, id, RN_ROUTE_CLOSEST | RN_ROUTE_EXCLUDE_SRC,
			  body, len, -1, RN_ROUTE_F_MAINT);
}

/* Routes a body EXACT to dst through our best link towards it, even if
 * we are closer to dst ourselves (it may be our neighbour, not linked
 * yet), and with no way back to us after (EXCLUDE_SRC). A dst in no ring
 * (a joiner, or gone) costs one routed message, dropped where it ends. */
static int route_to_node(rn_node *n, rn_time now, const rn_id *dst,
			 const rn_body *b, unsigned flags)
{
	uint8_t body[64];
	size_t len;
	rn_id zero;
	memset(&zero, 0, sizeof zero);
	int first = rn_route_best(n, dst, &zero);
	if (first < 0 || rn_body_encode(b, body, sizeof body, &len))
		return RN_ERR_NOROUTE;
	return rn_route_send(n, now, dst, RN_ROUTE_EXACT | RN_ROUTE_EXCLUDE_SRC,
			     body, len, first, RN_ROUTE_F_MAINT | flags);
}

/* Tells the relay of a joiner's CTM (its bootstrap) where we are: our
 * HELLOs may not get through to the joiner until it has sent to us. */
static void answer_via_relay(rn_node *n, rn_time now, const rn_id *joiner,
			     const rn_id *relay)
{
	rn_body b;
	if (rn_id_cmp(relay, &n->id) == 0 || rn_ep_is_zero(&n->own_ep))
		return; /* the joiner sent to the relay: it hears us */
	memset(&b, 0, sizeof b);
	b.type = RN_BODY_CTM_REPLY;
	b.u.ctm_reply.joiner = *joiner;
	b.u.ctm_reply.ep = n->own_ep;
	/* unacked: the joiner's next probe brings another CTM anyway */
	if (route_to_node(n, now, relay, &b, RN_ROUTE_F_NOACK) == 0)
		n->stats.ctm_replies++;
}

static int reply_find(const rn_node *n, const rn_id *off)
{
	for (uint32_t i = 0; i < n->n_replies; i++)
		if (rn_id_cmp(&n->replies[i].joiner_off, off) == 0)
			return (int)i;
	return -1;
}

/* The last entry takes i's place; the table goes with the last one. */
static void reply_remove(rn_node *n, uint32_t i)
{
	n->replies[i] = n->replies[--n->n_replies];
	if (!n->n_replies)
		rn_near_replies_free(n);
}

/* Entries go once their link is no longer PENDING (our HELLO got
 * through, or the link was dropped) or the joiner has probed again. */
static void replies_prune(rn_node *n, uint32_t now_ms)
{
	for (uint32_t i = 0; i < n->n_replies;) {
		int li = rn_links_find(&n->links, &n->replies[i].joiner_off);
		if (li < 0 || n->links.v[li].state != RN_LINK_PENDING ||
		    rn_ms_due(n->replies[i].until_ms, now_ms))
			reply_remove(n, i);
		else
			i++;
	}
}

/* The reply to the relay of a joiner's CTM waits for our first HELLO to
 * go unanswered (rn_near_punch): a joiner with a direct path, most of
 * them, needs none. Sent at once, each answer cost a routed message, and
 * one that met a part of the ring still forming was dropped as no route
 * (about 1.6 a join at 10^5 nodes joining at 20000/s). */
static void reply_later(rn_node *n, rn_time now, const rn_id *joiner,
			const rn_id *off, const rn_id *relay)
{
	if (rn_id_cmp(relay, &n->id) == 0 || rn_ep_is_zero(&n->own_ep))
		return; /* the joiner sent to the relay: it hears us */
	uint32_t now_ms = rn_ms(n, now);
	uint32_t until_ms = now_ms + 2 * n->sh->settings->join_retry_ms;
	replies_prune(n, now_ms);
	int i = reply_find(n, off);
	if (i >= 0) {
		n->replies[i].relay = *relay; /* the newest CTM's */
		n->replies[i].until_ms = until_ms;
		return;
	}
	if (n->n_replies == n->cap_replies) {
		rn_ctm_reply_due *v = n->n_replies < RN_CTM_REPLIES_MAX
					      ? rn_table_grow(n->replies,
							      &n->cap_replies,
							      RN_CTM_REPLIES_MAX,
							      sizeof *v)
					      : NULL;
		if (!v) { /* full: as before, at once */
			answer_via_relay(n, now, joiner, relay);
			return;
		}
		n->replies = v;
	}
	n->replies[n->n_replies].joiner_off = *off;
	n->replies[n->n_replies].relay = *relay;
	n->replies[n->n_replies].until_ms = until_ms;
	n->n_replies++;
}

void rn_near_replies_free(rn_node *n)
{
	free(n->replies);
	n->replies = NULL;
	n->n_replies = 0;
	n->cap_replies = 0;
}

static void on_ctm_near(rn_node *n, rn_time now, const rn_id *src,
			const rn_id *off, const rn_body *b)
{
	int fresh = rn_links_find(&n->links, off) < 0;
	int idx = rn_node_link_open(n, now, off, &b->u.ctm.eps[0],
				    RN_KIND_NEAR, 0);
	if (idx < 0)
		return;
	/* A node we had no link with: likely joining beside us. */
	if (fresh)
		n->links.v[idx].flags |= RN_LF_HINTS;
	/* Already linked: the HELLO above updated roles; tell it who its
	 * neighbours are. */
	if (n->links.v[idx].state == RN_LINK_UP)
		rn_near_send_neighbors(n, &n->links.v[idx]);
	else if (b->u.ctm.has_relay)
		reply_later(n, now, src, off, &b->u.ctm.relay);
}

void rn_near_on_ctm(rn_node *n, rn_time now, const rn_id *src,
		    const rn_body *b)
{
	rn_id off;
	rn_id_sub(&off, src, &n->id);
	if (rn_id_is_zero(&off) || b->u.ctm.n_eps == 0)
		return;
	rn_relay_alive(n, src); /* it lives: a pending link to it may relay */
	switch (b->u.ctm.purpose) {
	case RN_CTM_NEAR:
		on_ctm_near(n, now, src, &off, b);
		break;
	case RN_CTM_FAR:
		rn_node_link_open(n, now, &off, &b->u.ctm.eps[0],
				  RN_KIND_FAR_REPLY, b->u.ctm.token);
		break;
	default: /* PUNCH: the sender wants the link, we open the NAT; on a
		  * relay link, it tries the direct path again (relay.c) */
		if (!rn_relay_on_punch(n, now, &off, &b->u.ctm.eps[0]))
			rn_node_link_open(n, now, &off, &b->u.ctm.eps[0], 0, 0);
		break;
	}
}

/* ---- through NATs ------------------------------------------------------ */

void rn_near_punch(rn_node *n, rn_time now, uint32_t idx)
{
	rn_body b;
	rn_id peer;
	const rn_id *off = &n->links.v[idx].off;
	rn_id_add(&peer, &n->id, off);
	/* A joiner is in no ring yet: a punch routed to it would end
	 * nowhere. Its bootstrap hands it our endpoint instead. */
	if (n->n_replies)
		replies_prune(n, rn_ms(n, now));
	int i = reply_find(n, off);
	if (i >= 0) {
		rn_id relay = n->replies[i].relay;
		reply_remove(n, (uint32_t)i);
		answer_via_relay(n, now, &peer, &relay);
		return;
	}
	/* a lost neighbour's probe (lost.c) goes without */
	if (n->state != RN_NODE_JOINED || rn_ep_is_zero(&n->own_ep) ||
	    rn_lost_has(n, off))
		return;
	ctm_init(&b, RN_CTM_PUNCH, &n->own_ep);
	if (route_to_node(n, now, &peer, &b, 0) == 0)
		n->stats.punches++;
}

void rn_near_on_ctm_reply(rn_node *n, rn_time now, const rn_id *src,
			  const rn_body *b)
{
	const rn_settings *s = n->sh->settings;
	uint32_t now_ms = rn_ms(n, now);
	if (s->ctm_answers_max == 0 || rn_id_cmp(src, &n->id) == 0)
		return;
	/* Expired answers go; when the table is full of fresh ones, the
	 * oldest gives way, counted. It grows 1, 2, 4 ... ctm_answers_max
	 * (every node is some joiner's bootstrap in a large ring, and most
	 * hold one answer at a time) and is freed when the last is taken. */
	rn_ctm_answer *a = NULL;
	for (uint32_t i = 0; i < n->n_answers;) {
		if (rn_ms_due(n->answers[i].at_ms + 2 * s->join_retry_ms, now_ms))
			n->answers[i] = n->answers[--n->n_answers];
		else
			i++;
	}
	if (n->n_answers == s->ctm_answers_max) {
		a = &n->answers[0];
		for (uint32_t i = 1; i < n->n_answers; i++)
			if ((int32_t)(n->answers[i].at_ms - a->at_ms) < 0)
				a = &n->answers[i];
		n->stats.drop_answers++;
	} else {
		if (n->n_answers == n->cap_answers) {
			rn_ctm_answer *v = rn_table_grow(n->answers,
							 &n->cap_answers,
							 s->ctm_answers_max,
							 sizeof *v);
			if (!v)
				return;
			n->answers = v;
		}
		a = &n->answers[n->n_answers++];
	}
	a->joiner = b->u.ctm_reply.joiner;
	a->peer.id = *src;
	a->peer.ep = b->u.ctm_reply.ep;
	a->at_ms = now_ms;
}

int rn_near_take_answer(rn_node *n, rn_time now, const rn_id *joiner,
			rn_peer_info *out)
{
	const rn_settings *s = n->sh->settings;
	uint32_t now_ms = rn_ms(n, now);
	rn_ctm_answer *best = NULL;
	for (uint32_t i = 0; i < n->n_answers; i++) {
		rn_ctm_answer *a = &n->answers[i];
		if (rn_id_cmp(&a->joiner, joiner) != 0 ||
		    rn_ms_due(a->at_ms + 2 * s->join_retry_ms, now_ms))
			continue;
		if (!best || (int32_t)(a->at_ms - best->at_ms) > 0)
			best = a;
	}
	if (!best)
		return 0;
	*out = best->peer;
	*best = n->answers[--n->n_answers]; /* taken */
	if (n->n_answers == 0)
		rn_near_answers_free(n);
	return 1;
}

void rn_near_on_boot_peer(rn_node *n, rn_time now, const rn_peer_info *p)
{
	n->stats.boot_peers++;
	consider_peer(n, now, p);
}

void rn_near_answers_free(rn_node *n)
{
	free(n->answers);
	n->answers = NULL;
	n->n_answers = 0;
	n->cap_answers = 0;
}

uint32_t rn_near_tick(rn_node *n, rn_time now, uint32_t now_ms)
{
	const rn_settings *s = n->sh->settings;
	uint32_t next = now_ms + 3600000u;

	if (n->state == RN_NODE_JOINING) {
		if (rn_ms_due(n->t_join_retry, now_ms)) {
			rn_node_probe_bootstraps(n, now);
			rn_near_request_ctm(n, now, 0);
			n->t_join_retry = now_ms + s->join_retry_ms;
		}
		next = rn_ms_min(next, n->t_join_retry);
	}
	if (n->near_dirty) {
		if (rn_ms_due(n->t_announce, now_ms)) {
			n->near_dirty = 0;
			n->near_lost = 0;
			for (uint32_t i = 0; i < n->links.n; i++)
				if (n->links.v[i].flags & RN_LF_NEAR)
					rn_near_send_neighbors(n, &n->links.v[i]);
		} else {
			next = rn_ms_min(next, n->t_announce);
		}
	}
	if (n->state != RN_NODE_JOINED)
		return next;
	int repair = n->n_neigh_lost != 0;
	n->n_neigh_lost = 0;
	if (rn_ms_due(n->t_ring_check, now_ms)) {
		/* Few ring nodes in sight: check again soon (see below). */
		uint32_t period = count_eligible(n) < 2 * s->near_k
					  ? 10 * s->join_retry_ms
					  : s->ring_check_ms;
		/* A young node checks its place after 2 s, ~8 s, ~32 s ...: joins
		 * racing each other can leave it beside the wrong neighbours. */
		uint32_t age = now_ms - n->joined_ms;
		if (age < period / 2)
			period = age < 2000 ? 2000 : 4 * age;
		repair = 1;
		n->t_ring_check = now_ms + period / 2 +
				  (uint32_t)rn_prng_below(&n->prng, period);
	}
	if (repair) {
		/* A node that sees fewer than 2k ring nodes may sit on an island
		 * (early joiners can pair off while the ring forms): look for
		 * the ring again through the bootstraps as well. */
		if (n->n_boot && count_eligible(n) < 2 * s->near_k) {
			n->rejoin_until_ms = now_ms + s->join_retry_ms;
			n->rejoining = 1;
			rn_node_probe_bootstraps(n, now);
		}
		rn_near_request_ctm(n, now, 1);
	}
	if (rn_ms_due(n->t_stabilize, now_ms)) {
		const rn_links *t = &n->links;
		for (uint32_t i = 0; i < t->n; i++)
			if (rn_link_eligible(&t->v[i])) {
				rn_near_send_neighbors(n, &t->v[i]);
				break;
			}
		for (uint32_t i = t->n; i-- > 0;)
			if (rn_link_eligible(&t->v[i])) {
				rn_near_send_neighbors(n, &t->v[i]);
				break;
			}
		n->t_stabilize = now_ms + s->stabilize_ms / 2 +
				 (uint32_t)rn_prng_below(&n->prng, s->stabilize_ms);
	}
	next = rn_ms_min(next, n->t_stabilize);
	next = rn_ms_min(next, n->t_ring_check);
	return next;
}
