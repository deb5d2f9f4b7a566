/* Structured far links: two-way (or one-way) Chord fingers, or Symphony.
 *
 * Fingers. Far slot s = dir * 160 + i stands for the offsets just past
 * 2^i clockwise (dir 0) or counter-clockwise (dir 1): see slot_interval.
 * Every far_refresh_ms a node looks at the slots from the octave above the
 * one holding its nearest neighbour on that side up to i = 159; an interval with no
 * usable link inside gets one connect-to-me (CTM, purpose FAR) routed to
 * id +- 2^i, at most once per round. The closest node there links back with
 * FAR_REPLY carrying the slot; we keep that link as FAR_OUT. Links made by
 * others towards us cover intervals too, so a node only asks for what
 * nobody gave it: with bidirectional links this roughly halves far links.
 *
 * Symphony. The node estimates the ring size N from the spacing of its near
 * neighbours and keeps symphony_links (default log2 N) FAR_OUT links to
 * targets id + 2^160 * N^(u-1), u uniform in [0,1): the harmonic
 * distribution of Manku et al.
 *
 * A FAR_OUT link stays needed while it is the only usable link serving its
 * interval; otherwise we drop the role and trimming closes it if neither
 * side needs it for anything else.
 *
 * Far hints. A newcomer's fingers are almost those of the node it joins
 * beside: finger i of the node closest to id + 2^i lies in the newcomer's
 * interval i too. So the node that answers a join CTM (RN_LF_HINTS on the
 * link it opens) sends, once that link is up, FAR_HINTS: those of its links
 * that fall in one of the newcomer's finger intervals. The newcomer opens
 * them directly (kind FAR), and its first far round, far_start_ms after it
 * joined, sends CTMs only for what the hints left empty: one datagram
 * instead of a CTM of log N hops per finger.
 */
#include <math.h>
#include <string.h>

#include "../core/err.h"
#include "node_impl.h"

double rn_far_estimate_size(const rn_node *n)
{
	const rn_links *t = &n->links;
	uint32_t k = n->sh->settings->near_k, cs = 0, cp = 0;
	double span = 0.0;
	rn_id neg;
	/* k-th successor and k-th predecessor spans */
	for (uint32_t i = 0; i < t->n && cs < k; i++)
		if (rn_link_eligible(&t->v[i])) {
			cs++;
			if (cs == k)
				span += rn_id_frac(&t->v[i].off);
		}
	for (uint32_t i = t->n; i-- > 0 && cp < k;)
		if (rn_link_eligible(&t->v[i])) {
			cp++;
			if (cp == k) {
				rn_id zero;
				memset(&zero, 0, sizeof zero);
				rn_id_sub(&neg, &zero, &t->v[i].off);
				span += rn_id_frac(&neg);
			}
		}
	if (cs < k || cp < k || span <= 0.0)
		return (double)(cs + cp + 1);
	return (double)(cs + cp) / span;
}

/* The offsets that make a good finger for a slot, [lo, hi) clockwise:
 * a quarter octave either side of 2^i, [2^i - 2^(i-2), 2^i + 2^(i-2)), or
 * its mirror counter-clockwise. Chord's finger i is the node closest to
 * 2^i; a link far from it (say at 1.9 * 2^i) is a poor finger for the
 * distances below it, so it does not count. The window is centred on 2^i
 * because the far CTM is delivered at the node closest to id + 2^i, on
 * either side of it: then the peer B that answers A's CTM finds A within
 * its own mirror window, and one link serves a finger at both ends (see
 * release_redundant). Windows of neighbouring slots do not overlap for
 * i >= 3, where fingers live (below that, near links cover the offsets). */
#define FINGER_WINDOW_SHIFT 3
static void slot_interval(unsigned slot, rn_id *lo, rn_id *hi)
{
	unsigned dir = slot / 160, i = slot % 160;
	unsigned w = i >= FINGER_WINDOW_SHIFT ? i - FINGER_WINDOW_SHIFT : 0;
	rn_id zero, c;
	memset(&zero, 0, sizeof zero);
	if (dir == 0) {
		rn_id_add_pow2(&c, &zero, i);
		rn_id_sub_pow2(lo, &c, w);
		rn_id_add_pow2(hi, &c, w);
	} else {
		/* (-(2^i + 2^w), -(2^i - 2^w)]  ==  [-2^i - 2^w + 1, -2^i + 2^w + 1) */
		rn_id_sub_pow2(&c, &zero, i);
		rn_id_add_pow2(&c, &c, 0);
		rn_id_sub_pow2(lo, &c, w);
		rn_id_add_pow2(hi, &c, w);
	}
}

/* The finger slot whose interval holds offset off, or -1. */
static int slot_of(const rn_id *off)
{
	rn_id zero, d, lo, hi;
	memset(&zero, 0, sizeof zero);
	for (unsigned dir = 0; dir < 2; dir++) {
		if (dir)
			rn_id_sub(&d, &zero, off);
		else
			d = *off;
		int i = rn_id_log2(&d);
		if (i < 0)
			return -1;
		for (unsigned c = (unsigned)i; c <= (unsigned)i + 1 && c < 160; c++) {
			unsigned slot = dir * 160 + c;
			slot_interval(slot, &lo, &hi);
			if (rn_id_cmp(off, &lo) >= 0 && rn_id_cmp(off, &hi) < 0)
				return (int)slot;
		}
	}
	return -1;
}

/* What a slot scan looks for in a link. */
static int is_usable(const rn_link *l)
{
	return rn_link_usable(l);
}
/* A link we are opening as a far link. */
static int is_opening_far(const rn_link *l)
{
	return l->state == RN_LINK_PENDING && (l->kind_out & RN_KIND_FAR);
}
/* A usable link the peer keeps as its own far link (and we do not): it
 * stays as long as the peer needs it. */
static int is_kept_by_peer(const rn_link *l)
{
	return rn_link_usable(l) &&
	       (l->flags & (RN_LF_PEER_WANTS | RN_LF_FAR_OUT)) ==
		       RN_LF_PEER_WANTS;
}

/* Index of a link inside the slot's interval (other than skip) that
 * `want` accepts, or -1. */
static int slot_find(const rn_node *n, unsigned slot, int skip,
		     int (*want)(const rn_link *))
{
	rn_id lo, hi;
	slot_interval(slot, &lo, &hi);
	for (uint32_t i = rn_links_lower_bound(&n->links, &lo); i < n->links.n;
	     i++) {
		const rn_link *l = &n->links.v[i];
		if (rn_id_cmp(&l->off, &hi) >= 0)
			break;
		if ((int)i != skip && want(l))
			return (int)i;
	}
	return -1;
}

static int slot_link(const rn_node *n, unsigned slot, int skip)
{
	return slot_find(n, slot, skip, is_usable);
}
static int slot_opening(const rn_node *n, unsigned slot)
{
	return slot_find(n, slot, -1, is_opening_far) >= 0;
}
static int slot_kept_by_peer(const rn_node *n, unsigned slot, int skip)
{
	return slot_find(n, slot, skip, is_kept_by_peer) >= 0;
}

int rn_far_link_needed(const rn_node *n, uint32_t idx)
{
	const rn_link *l = &n->links.v[idx];
	return (l->flags & RN_LF_FAR_OUT) != 0;
}

int rn_far_send_ctm(rn_node *n, rn_time now, const rn_id *dst,
		    uint32_t token, uint8_t mode, unsigned flags)
{
	uint8_t body[128];
	size_t len;
	rn_body b;
	memset(&b, 0, sizeof b);
	b.type = RN_BODY_CTM;
	b.u.ctm.purpose = RN_CTM_FAR;
	b.u.ctm.token = token;
	b.u.ctm.n_eps = 1;
	b.u.ctm.eps[0] = n->own_ep;
	int rc = rn_body_encode(&b, body, sizeof body, &len);
	return rc ? rc
		  : rn_route_send(n, now, dst, mode | RN_ROUTE_EXCLUDE_SRC,
				  body, len, -1, RN_ROUTE_F_MAINT | flags);
}

/* A far request: to the node closest to dst, unacknowledged. */
static void send_far_ctm(rn_node *n, rn_time now, const rn_id *dst,
			 uint32_t token)
{
	rn_far_send_ctm(n, now, dst, token, RN_ROUTE_CLOSEST, RN_ROUTE_F_NOACK);
}

/* Drops the far role of links whose interval is served by another link:
 * by any link if ours lies outside the interval; by one the peer keeps if
 * ours lies inside. The second rule makes fingers two-way in fact: when A
 * keeps a link to B as its finger, the same link usually falls in B's
 * mirror interval, and B lets its own finger there go (measured: it cuts
 * the far links of a 10^5-node ring by about a third). */
static void release_redundant(rn_node *n, rn_time now)
{
	for (uint32_t i = 0; i < n->links.n; i++) {
		rn_link *l = &n->links.v[i];
		if (!(l->flags & RN_LF_FAR_OUT) ||
		    l->finger == RN_SHORTCUT_FINGER) /* shortcut.c's */
			continue;
		if (!l->finger || l->finger > RN_FAR_SLOTS) {
			/* not a finger slot we know (a reply we did not ask
			 * for in this mode): drop the role */
			l->flags &= (uint8_t)~RN_LF_FAR_OUT;
			l->kind_out &= (uint8_t)~RN_KIND_FAR;
			l->finger = 0;
			continue;
		}
		unsigned slot = l->finger - 1u;
		int other = slot_link(n, slot, (int)i);
		rn_id lo, hi;
		slot_interval(slot, &lo, &hi);
		int inside = rn_id_cmp(&l->off, &lo) >= 0 &&
			     rn_id_cmp(&l->off, &hi) < 0;
		if ((other >= 0 && !inside) ||
		    (inside && slot_kept_by_peer(n, slot, (int)i))) {
			l->flags &= (uint8_t)~RN_LF_FAR_OUT;
			l->kind_out &= (uint8_t)~RN_KIND_FAR;
			l->finger = 0;
			/* Tell the peer, or its PEER_WANTS would keep the
			 * link alive after both ends have let it go. */
			if (l->state == RN_LINK_UP && (l->flags & RN_LF_PEER_WANTS)) {
				rn_id off = l->off;
				rn_ep ep = *rn_links_ep(&n->links, i);
				rn_node_link_open(n, now, &off, &ep, 0, 0);
			}
		}
	}
}

/* A usable far link that was given to us for this slot, even if it lies
 * outside the interval (which then holds no node we could find). */
static int slot_given(const rn_node *n, unsigned slot)
{
	for (uint32_t i = 0; i < n->links.n; i++) {
		const rn_link *l = &n->links.v[i];
		if (l->finger == slot + 1 && (l->flags & RN_LF_FAR_OUT) &&
		    rn_link_usable(l))
			return 1;
	}
	return 0;
}

/* The octave of the nearest ring link on this side (0 clockwise), or -1
 * if none lies on this half of the ring: finger slots start above it. */
static int near_octave(const rn_node *n, unsigned dir)
{
	const rn_links *t = &n->links;
	for (uint32_t k = 0; k < t->n; k++) {
		const rn_link *l = &t->v[dir ? t->n - 1 - k : k];
		if ((l->off.b[0] >> 7) != dir)
			break; /* past the half-way point: the other side */
		if (!rn_link_eligible(l))
			continue;
		rn_id d = l->off;
		if (dir) {
			rn_id zero;
			memset(&zero, 0, sizeof zero);
			rn_id_sub(&d, &zero, &l->off);
		}
		return rn_id_log2(&d);
	}
	return -1;
}

static int fingers_both(const rn_node *n)
{
	return n->sh->settings->far_kind == RN_FAR_FINGERS2;
}

static void fingers_round(rn_node *n, rn_time now, int both)
{
	/* Every fourth round also re-asks for slots served from outside their
	 * interval, in case nodes have arrived inside it since. */
	int recheck = (n->far_rounds++ % 4) == 3;
	for (unsigned dir = 0; dir < (both ? 2u : 1u); dir++) {
		int start = near_octave(n, dir);
		if (start < 0)
			continue;
		for (unsigned i = (unsigned)start + 1; i < 160; i++) {
			unsigned slot = dir * 160 + i;
			if (slot_link(n, slot, -1) >= 0 || slot_opening(n, slot) ||
			    (!recheck && slot_given(n, slot)))
				continue;
			rn_id dst;
			if (dir)
				rn_id_sub_pow2(&dst, &n->id, i);
			else
				rn_id_add_pow2(&dst, &n->id, i);
			send_far_ctm(n, now, &dst, slot);
		}
	}
	release_redundant(n, now);
}

void rn_far_send_hints(rn_node *n, const rn_link *to)
{
	const rn_settings *s = n->sh->settings;
	if (s->far_kind != RN_FAR_FINGERS1 && s->far_kind != RN_FAR_FINGERS2)
		return;
	rn_msg m;
	unsigned sent = 0;
	m.type = RN_MSG_FAR_HINTS;
	m.u.neighbors.n = 0;
	for (uint32_t i = 0; i <= n->links.n; i++) {
		if (i < n->links.n) {
			const rn_link *l = &n->links.v[i];
			rn_id off;
			/* the link's offset as the newcomer sees it */
			rn_id_sub(&off, &l->off, &to->off);
			int slot = slot_of(&off);
			if (l == to || !rn_link_usable(l) || slot < 0 ||
			    (slot >= 160 && !fingers_both(n)))
				continue;
			rn_peer_info *e = &m.u.neighbors.v[m.u.neighbors.n++];
			rn_id_add(&e->id, &n->id, &l->off);
			e->ep = *rn_link_ep(&n->links, l);
		}
		if (m.u.neighbors.n == RN_NEIGHBORS_MAX ||
		    (i == n->links.n && m.u.neighbors.n)) {
			rn_node_send_msg(n, rn_link_ep(&n->links, to), &m, 1);
			m.u.neighbors.n = 0;
			if (++sent == RN_FAR_HINT_MSGS_MAX)
				return;
		}
	}
}

void rn_far_on_link_up(rn_node *n, uint32_t idx)
{
	rn_link *l = &n->links.v[idx];
	if (!(l->flags & RN_LF_HINTS) || l->state != RN_LINK_UP)
		return;
	l->flags &= (uint8_t)~RN_LF_HINTS;
	rn_far_send_hints(n, l);
}

void rn_far_on_hints(rn_node *n, rn_time now, const rn_msg *m)
{
	const rn_settings *s = n->sh->settings;
	if (n->state != RN_NODE_JOINED ||
	    (s->far_kind != RN_FAR_FINGERS1 && s->far_kind != RN_FAR_FINGERS2))
		return;
	int start[2] = {near_octave(n, 0), near_octave(n, 1)};
	/* A newcomer often knows one side only so far; the ring is about as
	 * dense on the other. */
	if (start[0] < 0)
		start[0] = start[1];
	if (start[1] < 0)
		start[1] = start[0];
	for (unsigned k = 0; k < m->u.neighbors.n; k++) {
		const rn_peer_info *e = &m->u.neighbors.v[k];
		rn_id off;
		rn_id_sub(&off, &e->id, &n->id);
		int slot = slot_of(&off);
		if (slot < 0 || (slot >= 160 && !fingers_both(n)))
			continue;
		unsigned dir = (unsigned)slot / 160, i = (unsigned)slot % 160;
		if (start[dir] < 0 || i <= (unsigned)start[dir] ||
		    rn_links_find(&n->links, &off) >= 0 ||
		    slot_link(n, (unsigned)slot, -1) >= 0 ||
		    slot_opening(n, (unsigned)slot))
			continue;
		/* Half the half-open links at most: the near links of a
		 * joining node must not wait for room behind its fingers. */
		if (rn_node_pending_links(n) >= s->pending_links_max / 2)
			break;
		int idx = rn_node_link_open(n, now, &off, &e->ep, RN_KIND_FAR, 0);
		if (idx < 0)
			break; /* link table full */
		n->links.v[idx].flags |= RN_LF_FAR_OUT;
		n->links.v[idx].finger = (uint16_t)(slot + 1);
	}
}

static void symphony_round(rn_node *n, rn_time now)
{
	const rn_settings *s = n->sh->settings;
	double size = rn_far_estimate_size(n);
	uint32_t want = s->symphony_links;
	if (!want)
		want = size > 2.0 ? (uint32_t)lround(log2(size)) : 1u;
	uint32_t have = 0;
	for (uint32_t i = 0; i < n->links.n; i++)
		have += (n->links.v[i].flags & RN_LF_FAR_OUT) &&
			n->links.v[i].finger != RN_SHORTCUT_FINGER;
	for (uint32_t k = have; k < want; k++) {
		double u = rn_prng_double(&n->prng);
		double frac = exp(log(size) * (u - 1.0));
		rn_id off, dst;
		rn_id_from_frac(&off, frac);
		rn_id_add(&dst, &n->id, &off);
		send_far_ctm(n, now, &dst, RN_FAR_SLOTS + 1);
	}
}

uint32_t rn_far_tick(rn_node *n, rn_time now, uint32_t now_ms)
{
	const rn_settings *s = n->sh->settings;
	if (n->state != RN_NODE_JOINED || s->far_kind == RN_FAR_NONE)
		return now_ms + 3600000u;
	if (rn_ms_due(n->t_far, now_ms)) {
		if (s->far_kind == RN_FAR_SYMPHONY)
			symphony_round(n, now);
		else
			fingers_round(n, now, s->far_kind == RN_FAR_FINGERS2);
		/* While the node is young the ring around it may still be
		 * growing, so look again after about four times as long as it
		 * has been joined (1 s, ~4 s, ~16 s ...) before settling on
		 * far_refresh_ms. */
		uint32_t age = now_ms - n->joined_ms, period = s->far_refresh_ms;
		if (age < period / 2)
			period = age < 1000 ? 1000 : 4 * age;
		n->t_far = now_ms + period / 2 +
			   (uint32_t)rn_prng_below(&n->prng, period);
	}
	return n->t_far;
}
