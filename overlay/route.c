/* Greedy routing over the ring, hop by hop with acknowledgements.
 *
 * Next hop: the usable link whose id is closest to the destination by ring
 * distance in either direction; the node itself is a candidate too (offset
 * 0). Because the link table is sorted by offset, the closest link on each
 * side of dst is found by one binary search and a short walk past unusable
 * links (route_best). A message moves only when the next hop is strictly
 * closer than this node, so no message can loop; ttl bounds it as well.
 *
 * Each forward is acknowledged by the next hop (HOP_ACK). A forward that is
 * not acknowledged within the link's RTO marks that link SUSPECT (routing
 * avoids it until anything is heard from it; keepalive decides its fate)
 * and goes to the next best hop, at most reroute_max times. The copies wait
 * in a small array bounded by route_pending_max; when it is full, messages
 * are still forwarded, just without the retry (counted in drop_full).
 *
 * The source may send a message without hop acks (RN_ROUTE_F_NOACK): it goes
 * out with hop sequence 0, and every hop forwards it the same way, unacked
 * and untracked. Requests that a periodic round repeats anyway (far-link
 * CTMs) travel so, at half the datagrams.
 *
 * A TRACE body (an overlay ping) records its path: every node that forwards
 * it appends its id and the RTT of the link it takes (a reroute replaces
 * its own last entry), and the destination returns the path in a
 * TRACE_REPLY.
 */
#include <stdlib.h>
#include <string.h>

#include "../core/err.h"
#include "node_impl.h"

/* Ring distance between two offsets. */
static void dist(rn_id *d, const rn_id *a, const rn_id *b)
{
	rn_id_dist_signed(d, a, b);
}

static int skip_link(const rn_link *l, const rn_id *exclude_off)
{
	return !rn_link_usable(l) ||
	       (exclude_off && rn_id_cmp(&l->off, exclude_off) == 0);
}

int rn_route_best(const rn_node *n, const rn_id *dst, const rn_id *exclude_off)
{
	const rn_links *t = &n->links;
	rn_id doff, best_d, d;
	int best = -1;

	rn_id_sub(&doff, dst, &n->id);
	if (exclude_off && rn_id_is_zero(exclude_off)) {
		/* We are the excluded source (a CTM for our own id): the best
		 * link anywhere, found by a full scan; this is rare. */
		for (uint32_t j = 0; j < t->n; j++) {
			if (skip_link(&t->v[j], exclude_off))
				continue;
			dist(&d, &t->v[j].off, &doff);
			if (best < 0 || rn_id_cmp(&d, &best_d) < 0) {
				best_d = d;
				best = (int)j;
			}
		}
		return best;
	}
	/* We sit at offset 0, between the last link and the first, so the
	 * nearest candidates are the first usable link at or after dst, the
	 * last usable one before it, and ourselves. */
	rn_id zero;
	memset(&zero, 0, sizeof zero);
	dist(&best_d, &zero, &doff);
	uint32_t i = rn_links_lower_bound(t, &doff);
	for (uint32_t j = i; j < t->n; j++) {
		if (skip_link(&t->v[j], exclude_off))
			continue;
		dist(&d, &t->v[j].off, &doff);
		if (rn_id_cmp(&d, &best_d) < 0) {
			best_d = d;
			best = (int)j;
		}
		break;
	}
	for (uint32_t j = i; j-- > 0;) {
		if (skip_link(&t->v[j], exclude_off))
			continue;
		dist(&d, &t->v[j].off, &doff);
		if (rn_id_cmp(&d, &best_d) < 0) {
			best_d = d;
			best = (int)j;
		}
		break;
	}
	return best;
}

static int pending_add(rn_node *n, uint32_t now_ms, const rn_link *via,
		       const uint8_t *msg, size_t len, uint8_t tries,
		       unsigned flags, uint32_t hop_seq)
{
	const rn_settings *s = n->sh->settings;
	if (n->n_pend >= s->route_pending_max) {
		n->stats.drop_full++;
		return RN_ERR_FULL;
	}
	if (n->n_pend == n->cap_pend) {
		uint32_t cap = n->cap_pend ? n->cap_pend * 2 : 4;
		if (cap > s->route_pending_max)
			cap = s->route_pending_max;
		rn_pending *p = realloc(n->pend, cap * sizeof *p);
		if (!p)
			return RN_ERR_NOMEM;
		n->pend = p;
		n->cap_pend = cap;
	}
	uint8_t *copy = malloc(len);
	if (!copy)
		return RN_ERR_NOMEM;
	memcpy(copy, msg, len);
	rn_pending *p = &n->pend[n->n_pend++];
	p->hop_seq = hop_seq;
	p->deadline_ms = now_ms + rn_node_rto_ms(n, via);
	p->via_off = via->off;
	p->tries = tries;
	p->maint = (flags & RN_ROUTE_F_MAINT) != 0;
	p->len = (uint16_t)len;
	p->msg = copy;
	return 0;
}

static void pending_remove(rn_node *n, uint32_t i)
{
	free(n->pend[i].msg);
	n->pend[i] = n->pend[--n->n_pend];
	if (n->n_pend == 0) {
		free(n->pend);
		n->pend = NULL;
		n->cap_pend = 0;
	}
}

/* Sends an encoded ROUTED message to link idx with a fresh hop sequence and
 * remembers it until acknowledged (or with sequence 0, unacked). */
static void forward(rn_node *n, rn_time now, uint32_t idx, uint8_t *buf,
		    size_t len, uint8_t tries, unsigned flags)
{
	rn_link *l = &n->links.v[idx];
	const rn_ep *ep = rn_links_ep(&n->links, idx);
	int maint = (flags & RN_ROUTE_F_MAINT) != 0;
	if (flags & RN_ROUTE_F_NOACK) {
		rn_msg_patch_hop_seq(buf, len, 0);
		rn_node_send_raw(n, ep, buf, len, maint);
		return;
	}
	if (++n->hop_seq == 0) /* 0 means unacked */
		n->hop_seq = 1;
	uint32_t seq = n->hop_seq;
	uint32_t now_ms = rn_ms(n, now);
	rn_msg_patch_hop_seq(buf, len, seq);
	rn_node_send_raw(n, ep, buf, len, maint);
	if (pending_add(n, now_ms, l, buf, len, tries, flags, seq) == 0)
		rn_node_want_deadline(n, now, n->pend[n->n_pend - 1].deadline_ms);
}

static void deliver(rn_node *n, rn_time now, const rn_msg *m);

/* Appends (our id, rtt) to a TRACE body, or replaces our own last entry;
 * a full path stays as it is. 0, or an error: forward the message as is. */
static int trace_append(rn_node *n, const rn_msg *m, uint16_t rtt_ms,
			uint8_t *out, size_t cap, size_t *out_len)
{
	rn_body b;
	uint8_t body[RN_BODY_MAX];
	size_t blen;
	if (rn_body_decode(&n->sh->zone, m->u.routed.body, m->u.routed.body_len,
			   &b))
		return RN_ERR_PROTO;
	uint8_t k = b.u.trace.n;
	if (k && rn_id_cmp(&b.u.trace.id[k - 1], &n->id) == 0)
		k--;
	if (k == RN_TRACE_HOPS_MAX)
		return RN_ERR_FULL;
	b.u.trace.id[k] = n->id;
	b.u.trace.rtt_ms[k] = rtt_ms ? rtt_ms : 1;
	b.u.trace.n = (uint8_t)(k + 1);
	if (rn_body_encode(&b, body, sizeof body, &blen))
		return RN_ERR_TOOBIG;
	rn_msg m2 = *m;
	m2.u.routed.body = body;
	m2.u.routed.body_len = blen;
	return rn_msg_encode(&m2, out, cap, out_len);
}

/* A body is [type, version, ...] with a small type: its second byte. */
static unsigned body_type(const rn_msg *m)
{
	return m->u.routed.body_len > 1 && m->u.routed.body[1] < 0x80
		       ? m->u.routed.body[1]
		       : 0;
}

static int is_trace(const rn_msg *m)
{
	return body_type(m) == RN_BODY_TRACE;
}

/* The UP link (not a leaf, not excluded) whose peer is dst itself, even
 * if SUSPECT, or -1. Going round the destination cannot deliver, and one
 * hop ack lost under load would otherwise drop everything for that peer
 * until it answers a ping; a reroute (the link just missed an ack) goes
 * round it as before. */
static int dst_link(const rn_node *n, const rn_id *dst, const rn_id *excl)
{
	const rn_links *t = &n->links;
	rn_id doff;
	rn_id_sub(&doff, dst, &n->id);
	uint32_t i = rn_links_lower_bound(t, &doff);
	if (i < t->n && rn_id_cmp(&t->v[i].off, &doff) == 0 &&
	    t->v[i].state == RN_LINK_UP && !(t->v[i].flags & RN_LF_LEAF) &&
	    !(excl && rn_id_cmp(excl, &doff) == 0))
		return (int)i;
	return -1;
}

/* Routes an already-encoded message (hops already counted) from here. */
static void route_encoded(rn_node *n, rn_time now, const rn_msg *m,
			  uint8_t *buf, size_t len, int first_hop,
			  uint8_t tries, unsigned flags)
{
	rn_id src_off;
	const rn_id *excl = NULL;
	if (m->u.routed.mode & RN_ROUTE_EXCLUDE_SRC) {
		rn_id_sub(&src_off, &m->u.routed.src, &n->id);
		excl = &src_off;
	}
	int next = first_hop;
	if (next < 0 && tries == 0)
		next = dst_link(n, &m->u.routed.dst, excl);
	if (next < 0)
		next = rn_route_best(n, &m->u.routed.dst, excl);
	if (next < 0) {
		deliver(n, now, m);
		return;
	}
	if (m->u.routed.hops >= m->u.routed.ttl) {
		n->stats.drop_ttl++;
		return;
	}
	uint8_t traced[RN_DGRAM_MAX];
	size_t tlen;
	if (is_trace(m) && trace_append(n, m, n->links.v[next].rtt_ms, traced,
					 sizeof traced, &tlen) == 0) {
		forward(n, now, (uint32_t)next, traced, tlen, tries, flags);
		return;
	}
	forward(n, now, (uint32_t)next, buf, len, tries, flags);
}

int rn_route_send(rn_node *n, rn_time now, const rn_id *dst, uint8_t mode,
		  const uint8_t *body, size_t body_len, int first_hop,
		  unsigned flags)
{
	return rn_route_send_for(n, now, &n->id, dst, mode, body, body_len,
				 first_hop, flags);
}

int rn_route_send_for(rn_node *n, rn_time now, const rn_id *src,
		      const rn_id *dst, uint8_t mode, const uint8_t *body,
		      size_t body_len, int first_hop, unsigned flags)
{
	uint8_t buf[RN_PLAIN_MAX];
	size_t len;
	rn_msg m;
	m.type = RN_MSG_ROUTED;
	m.u.routed.hop_seq = 0;
	m.u.routed.src = *src;
	m.u.routed.dst = *dst;
	m.u.routed.mode = mode;
	m.u.routed.hops = 0;
	m.u.routed.ttl = (uint8_t)n->sh->settings->hop_limit;
	m.u.routed.body = body;
	m.u.routed.body_len = body_len;
	int rc = rn_msg_encode(&m, buf, sizeof buf, &len);
	if (rc)
		return rc;
	route_encoded(n, now, &m, buf, len, first_hop, 0, flags);
	return 0;
}

static void deliver(rn_node *n, rn_time now, const rn_msg *m)
{
	rn_body b;
	int exact = !(m->u.routed.mode & RN_ROUTE_CLOSEST);
	if (exact && rn_id_cmp(&m->u.routed.dst, &n->id) != 0) {
		n->stats.drop_noroute++;
		return;
	}
	if (body_type(m) >= RN_BODY_UPPER_MIN) {
		if (n->upper)
			n->upper->on_routed(n->upper->ctx, now, &m->u.routed.src,
					    m->u.routed.body,
					    m->u.routed.body_len,
					    m->u.routed.hops);
		else
			n->stats.drop_decode++;
		return;
	}
	if (rn_body_decode(&n->sh->zone, m->u.routed.body,
			   m->u.routed.body_len, &b)) {
		n->stats.drop_decode++;
		return;
	}
	switch (b.type) {
	case RN_BODY_CTM:
		rn_near_on_ctm(n, now, &m->u.routed.src, &b);
		break;
	case RN_BODY_CTM_REPLY:
		rn_near_on_ctm_reply(n, now, &m->u.routed.src, &b);
		break;
	case RN_BODY_LOOKUP: {
		uint8_t out[64];
		size_t len;
		rn_node_emit(n, RN_EV_LOOKUP_DELIVERED, &m->u.routed.src,
			     b.u.lookup.qid, m->u.routed.hops, 0);
		b.type = RN_BODY_LOOKUP_REPLY;
		b.u.lookup.hops = m->u.routed.hops;
		if (rn_body_encode(&b, out, sizeof out, &len) == 0)
			rn_route_send(n, now, &m->u.routed.src, RN_ROUTE_EXACT,
				      out, len, -1, 0u);
		break;
	}
	case RN_BODY_LOOKUP_REPLY:
		rn_node_emit(n, RN_EV_LOOKUP_DONE, &m->u.routed.src,
			     b.u.lookup.qid, b.u.lookup.hops, m->u.routed.hops);
		break;
	case RN_BODY_TRACE: {
		uint8_t out[RN_BODY_MAX];
		size_t len;
		if (b.u.trace.n < RN_TRACE_HOPS_MAX) {
			b.u.trace.id[b.u.trace.n] = n->id;
			b.u.trace.rtt_ms[b.u.trace.n] = 0;
			b.u.trace.n++;
		}
		b.type = RN_BODY_TRACE_REPLY;
		if (rn_body_encode(&b, out, sizeof out, &len) == 0)
			rn_route_send(n, now, &m->u.routed.src, RN_ROUTE_EXACT,
				      out, len, -1, 0u);
		break;
	}
	case RN_BODY_TRACE_REPLY:
		rn_node_emit_trace(n, &m->u.routed.src, &b, m->u.routed.hops);
		break;
	default:
		break;
	}
}

void rn_route_on_routed(rn_node *n, rn_time now, uint32_t from_idx,
			const rn_msg *m_in)
{
	rn_msg ack, m = *m_in;
	uint8_t buf[RN_PLAIN_MAX];
	size_t len;

	/* Maintenance is everything but application data: lookups, traces
	 * and the upper layer's bodies (the DHT). */
	unsigned bt = body_type(&m);
	int maint = !((bt >= RN_BODY_LOOKUP && bt <= RN_BODY_TRACE_REPLY) ||
		      bt >= RN_BODY_UPPER_MIN);
	unsigned flags = maint ? RN_ROUTE_F_MAINT : 0u;
	if (m.u.routed.hop_seq == 0) {
		flags |= RN_ROUTE_F_NOACK;
	} else {
		ack.type = RN_MSG_HOP_ACK;
		ack.u.hop_ack.hop_seq = m.u.routed.hop_seq;
		rn_node_send_msg(n, rn_links_ep(&n->links, from_idx), &ack,
				 maint);
	}

	if (m.u.routed.hops < 255)
		m.u.routed.hops++;
	if (m.u.routed.ttl > n->sh->settings->hop_limit) /* ours bounds it */
		m.u.routed.ttl = (uint8_t)n->sh->settings->hop_limit;
	/* Re-encode with hops+1; the body bytes are copied as they came. */
	if (rn_msg_encode(&m, buf, sizeof buf, &len)) {
		n->stats.drop_decode++;
		return;
	}
	route_encoded(n, now, &m, buf, len, -1, 0, flags);
}

void rn_route_on_hop_ack(rn_node *n, rn_time now, const rn_ep *from,
			 uint32_t hop_seq)
{
	(void)now;
	for (uint32_t i = 0; i < n->n_pend; i++) {
		if (n->pend[i].hop_seq != hop_seq)
			continue;
		/* Only the hop we sent it to may acknowledge it (if that link
		 * has closed since, the sequence alone has to do). */
		int li = rn_links_find(&n->links, &n->pend[i].via_off);
		if (li >= 0 && !rn_links_ep_is(&n->links, (uint32_t)li, from,
					       rn_links_ep_tag(from)))
			return;
		pending_remove(n, i);
		return;
	}
}

static void retry(rn_node *n, rn_time now, rn_pending *p)
{
	rn_msg m;
	/* The stored bytes decode: we encoded them. Decode again to learn the
	 * destination, then route around the suspect link. */
	if (rn_msg_decode(&n->sh->zone, p->msg, p->len, &m)) {
		n->stats.route_lost++;
		return;
	}
	n->stats.reroutes++;
	route_encoded(n, now, &m, p->msg, p->len, -1, (uint8_t)(p->tries + 1),
		      p->maint ? RN_ROUTE_F_MAINT : 0u);
}

int rn_route_timeouts(rn_node *n, rn_time now, uint32_t now_ms,
		      uint32_t *next_ms)
{
	uint32_t next = 0;
	int have = 0;
	for (uint32_t i = 0; i < n->n_pend;) {
		rn_pending *p = &n->pend[i];
		if (!rn_ms_due(p->deadline_ms, now_ms)) {
			i++;
			continue;
		}
		int li = rn_links_find(&n->links, &p->via_off);
		if (li >= 0)
			n->links.v[li].flags |= RN_LF_SUSPECT;
		rn_log(&n->lg, RN_LOG_DEBUG,
		       "hop ack %u missing (link %s, rtt %u ms, try %u)",
		       p->hop_seq, li >= 0 ? "up" : "gone",
		       li >= 0 ? n->links.v[li].rtt_ms : 0, p->tries);
		rn_pending done = *p;
		n->pend[i] = n->pend[--n->n_pend]; /* keep done.msg alive */
		if (done.tries < n->sh->settings->reroute_max)
			retry(n, now, &done);
		else
			n->stats.route_lost++;
		free(done.msg);
		if (n->n_pend == 0) {
			free(n->pend);
			n->pend = NULL;
			n->cap_pend = 0;
			break;
		}
	}
	/* retry() may have added entries; recompute from the table. */
	for (uint32_t i = 0; i < n->n_pend; i++) {
		if (!have || (int32_t)(n->pend[i].deadline_ms - next) < 0)
			next = n->pend[i].deadline_ms;
		have = 1;
	}
	*next_ms = next;
	return have;
}

void rn_route_free(rn_node *n)
{
	for (uint32_t i = 0; i < n->n_pend; i++)
		free(n->pend[i].msg);
	free(n->pend);
	n->pend = NULL;
	n->n_pend = n->cap_pend = 0;
}
