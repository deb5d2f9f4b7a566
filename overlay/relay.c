/* Relay links: a link to a peer with no direct UDP path, carried through a
 * neighbour both sides have a direct link with (DESIGN.md sections 3, 6).
 *
 * A relay link is an ordinary link whose endpoint is virtual: the peer's id
 * in the discard-only prefix 100::/64 (RFC 6666), which no datagram comes
 * from or goes to,
 *
 *     100:0:0:0:<id bytes 0..7>  port <id bytes 8..9>
 *
 * so that everything above the wire (the security layer's handshake,
 * sessions and replay window, keepalive, routing, the VPN) runs on it
 * unchanged and end to end. Only the last step differs: a datagram for a
 * virtual endpoint goes, as it is, inside RELAY TO over the link to the
 * relay R; R sends it on as RELAY FROM (naming the source) over its link
 * to the peer, which feeds the inner datagram to its input as if it came
 * from the source's virtual endpoint. R sees only ciphertext.
 *
 *   S --RELAY TO(P, d)--> R --RELAY FROM(S, d)--> P     P: input(vep(S), d)
 *                           --RELAY REFUSED(P)--> S     (R has no link to P)
 *
 * R forwards only between two UP links with real endpoints (no chains) and
 * keeps no state for it. The table here holds, per relay link, which
 * neighbour relays it: at most relays_max entries, grown from one and freed
 * when empty (a link that comes up directly takes its entry with it, at
 * once or, if it was a relay link, trim_grace_ms later),
 * one per link whose endpoint is virtual (an entry exists only while such
 * a link does, outside a call, or for trim_grace_ms after it moved to its
 * direct path; or an entry with no link yet, which only says that the
 * peer lives, rn_relay_alive). A link moves to a relay when
 * its HELLOs go unanswered (node.c, rn_relay_open) and the node is joining
 * (its links come from fresh answers) or the peer has shown that it lives:
 * a connect-to-me of it (a punch, most often) came while the link was
 * pending, or it reached us through a relay. A link to a peer known only
 * from a third party's list (a NEIGHBORS entry after a crash, say) fails
 * as it did before relays: in the simulator, 30% of 10^4 nodes crashing
 * took 31 s to repair instead of 14 s when every such link first tried
 * relays. The relay is the usable direct link
 * nearest to the peer on the ring (its neighbours are ours), and the next
 * nearest after a refusal or an unanswered ping; a RELAY FROM names the
 * relay the peer uses, which we then use too. A relay whose link goes is
 * replaced at the next send. A direct HELLO from the peer moves the link
 * back to the real endpoint (node.c sets the endpoint it came from).
 *
 * Back to direct. A failed punch is often not for ever (a race, a NAT
 * whose state changed, a router that rebooted), so each UP relay link
 * tries the direct path again: relay_retry_ms after it came up, then
 * doubling after each failure up to relay_retry_max_ms (30 s, 1 min ...
 * 10 min with the defaults; relay_retry_ms 0: never). A try is a punch
 * with both sides sending, as NATs of the port-restricted kind need:
 *
 *   A --HELLO---------------------------------> direct_ep(B)  (A's NAT opens)
 *   A --ROUTED [CTM PUNCH ep(A)] over the relay link--> B
 *                       B --HELLO--> ep(A)  (B's NAT opens; A's lets it in)
 *                       B --ROUTED [CTM PUNCH ep(B)]--> A  (A learns ep(B))
 *   A --HELLO again (hello_rto_ms x 1, 2) --> B, or B's HELLO got in first
 *
 * direct_ep is the link's endpoint from before it moved to the relay
 * (rn_relay_open, or a pending link the peer's relayed HELLO took over),
 * replaced by what the peer names in its punch; a node that knows none
 * only punches. A punch that reaches a node trying already (both began
 * at once, or it answers ours) brings one HELLO more, no punch back.
 * Each side sends hello_tries_max - 1 HELLOs a try (0, 0.5, 1.5 s) and
 * gives up 3.5 s after the first: the link stays on its relay, untouched,
 * and the next try is twice as far. A HELLO or HELLO_ACK that gets
 * through moves the link as any direct HELLO does: a new handshake on
 * the real endpoint (sessions are per endpoint, sec.c; relay_direct_ok).
 * What is still in flight on the relay path then must not be lost: the
 * virtual endpoint's session becomes an orphan that still hands on IP
 * packets (rn_sec_moved, rn_node_on_ip), overlay messages there are
 * dropped without the CLOSE that would reach the peer through the
 * relay, and the entry stays (MOVED) trim_grace_ms more, so that the
 * relay's links, needed while it does (rn_relay_in_use), are not closed
 * under those datagrams. A failed try costs its punches and at most
 * 2 x 3 HELLOs; the pending handshakes they leave expire in sec.c
 * (hs_pending_ms).
 *
 * Bytes: no driver sees a virtual endpoint, so the entry counts the
 * link's datagrams (tx_bytes, rx_bytes) for rn_node_links.
 *
 * Size: a relay hop adds RELAY's header and the relay link's DATA, 58
 * bytes. IP packets on a relay link are limited so that their datagrams
 * stay within RN_WIRE_MAX (RN_RELAY_IP_MAX, node.c); a full-size routed
 * message on a relay link makes a datagram of up to RN_RELAY_WIRE_MAX,
 * which IP fragments on a 1500-byte path.
 */
#include <stdlib.h>
#include <string.h>

#include "../core/err.h"
#include "node_impl.h"
#include "sec.h"

int rn_relay_ep_is(const rn_ep *ep)
{
	static const uint8_t pfx[8] = {1, 0, 0, 0, 0, 0, 0, 0};
	return memcmp(ep->addr, pfx, sizeof pfx) == 0;
}

void rn_relay_ep(rn_ep *ep, const rn_id *peer)
{
	memset(ep->addr, 0, 8);
	ep->addr[0] = 1;
	memcpy(ep->addr + 8, peer->b, 8);
	ep->port = (uint16_t)(peer->b[8] << 8 | peer->b[9]);
}

static void off_ep(const rn_node *n, const rn_id *off, rn_ep *ep)
{
	rn_id id;
	rn_id_add(&id, &n->id, off);
	rn_relay_ep(ep, &id);
}

static rn_relay *find(const rn_node *n, const rn_id *off)
{
	for (uint32_t i = 0; i < n->n_relays; i++)
		if (rn_id_cmp(&n->relays[i].peer_off, off) == 0)
			return &n->relays[i];
	return NULL;
}

static rn_relay *find_ep(rn_node *n, const rn_ep *ep)
{
	rn_ep v;
	for (uint32_t i = 0; i < n->n_relays; i++) {
		off_ep(n, &n->relays[i].peer_off, &v);
		if (rn_ep_eq(&v, ep))
			return &n->relays[i];
	}
	return NULL;
}

/* Whether a link to off exists on its virtual endpoint. */
static int has_relay_link(const rn_node *n, const rn_id *off)
{
	int i = rn_links_find(&n->links, off);
	return i >= 0 && rn_relay_ep_is(rn_links_ep(&n->links, (uint32_t)i));
}

static void remove_entry(rn_node *n, rn_relay *e)
{
	*e = n->relays[--n->n_relays];
	if (n->n_relays == 0) { /* most nodes, most of the time */
		free(n->relays);
		n->relays = NULL;
		n->cap_relays = 0;
	}
}

/* The entry for off, made if there is none; NULL when the table is full
 * of entries whose links live. */
static rn_relay *get(rn_node *n, const rn_id *off)
{
	uint32_t max = n->sh->settings->relays_max;
	rn_relay *e = find(n, off);
	if (e)
		return e;
	for (uint32_t i = 0; i < n->n_relays && n->n_relays == max;)
		if (!has_relay_link(n, &n->relays[i].peer_off))
			remove_entry(n, &n->relays[i]);
		else
			i++;
	if (n->n_relays >= max)
		return NULL;
	if (n->n_relays == n->cap_relays) {
		rn_relay *v = rn_table_grow(n->relays, &n->cap_relays, max,
					    sizeof *v);
		if (!v)
			return NULL;
		n->relays = v;
	}
	e = &n->relays[n->n_relays++];
	memset(e, 0, sizeof *e);
	e->peer_off = *off;
	return e;
}

/* An UP direct link not suspect; a leaf too (a joiner's bootstrap). */
static int can_relay(const rn_links *t, uint32_t i)
{
	return t->v[i].state == RN_LINK_UP &&
	       !(t->v[i].flags & RN_LF_SUSPECT) &&
	       !rn_relay_ep_is(rn_links_ep(t, i));
}

/* The skip-th (mod their number) usable direct link nearest to the peer
 * at off, other than the peer itself: index, or -1. */
static int pick(const rn_node *n, const rn_id *off, uint32_t skip)
{
	const rn_links *t = &n->links;
	uint32_t cnt = 0;
	for (uint32_t i = 0; i < t->n; i++)
		cnt += can_relay(t, i) && rn_id_cmp(&t->v[i].off, off) != 0;
	if (!cnt)
		return -1;
	rn_id last, d, best;
	memset(&best, 0, sizeof best);
	memset(&last, 0, sizeof last);
	int prev = -1, b = -1;
	for (uint32_t k = 0; k <= skip % cnt; k++, prev = b) {
		b = -1;
		for (uint32_t i = 0; i < t->n; i++) {
			if (!can_relay(t, i) ||
			    rn_id_cmp(&t->v[i].off, off) == 0)
				continue;
			rn_id_dist_signed(&d, &t->v[i].off, off);
			int c = prev < 0 ? 1 : rn_id_cmp(&d, &last);
			if (c < 0 || (c == 0 && (int)i <= prev))
				continue; /* taken in an earlier round */
			if (b < 0 || rn_id_cmp(&d, &best) < 0) {
				b = (int)i;
				best = d;
			}
		}
		last = best;
	}
	return b;
}

static void send_relay(rn_node *n, const rn_ep *to, uint8_t dir,
                       const rn_id *peer, const uint8_t *inner, size_t len)
{
	uint8_t buf[RN_RELAY_MSG_MAX];
	size_t out;
	rn_msg m;
	m.type = RN_MSG_RELAY;
	m.u.relay.dir = dir;
	m.u.relay.peer = *peer;
	m.u.relay.inner = inner;
	m.u.relay.inner_len = len;
	if (rn_msg_encode(&m, buf, sizeof buf, &out) == 0)
		rn_node_send_raw(n, to, buf, out, dir == RN_RELAY_REFUSED);
	else
		n->stats.relay_drop++;
}

void rn_relay_send(rn_node *n, const rn_ep *to, const uint8_t *buf, size_t len)
{
	rn_relay *e = find_ep(n, to);
	if (!e) {
		int li = rn_links_find_ep(&n->links, to);
		e = li < 0 ? NULL : get(n, &n->links.v[li].off);
	}
	if (!e || len > RN_WIRE_MAX) {
		n->stats.relay_drop++;
		return;
	}
	int r = rn_links_find(&n->links, &e->relay_off);
	if (rn_id_is_zero(&e->relay_off) || r < 0 ||
	    !can_relay(&n->links, (uint32_t)r)) {
		r = pick(n, &e->peer_off, e->skip);
		if (r < 0) {
			n->stats.relay_drop++;
			return;
		}
		e->relay_off = n->links.v[r].off;
	}
	e->tx_bytes += len;
	rn_id peer;
	rn_id_add(&peer, &n->id, &e->peer_off);
	send_relay(n, rn_links_ep(&n->links, (uint32_t)r), RN_RELAY_TO, &peer,
	           buf, len);
}

/* RELAY TO at the relay: on to the peer, or refused. */
static void forward(rn_node *n, uint32_t from_idx, const rn_id *poff,
                    const rn_msg *m)
{
	int t = rn_links_find(&n->links, poff);
	const rn_ep *back = rn_links_ep(&n->links, from_idx);
	if (t < 0 || (uint32_t)t == from_idx ||
	    n->links.v[t].state != RN_LINK_UP ||
	    rn_relay_ep_is(rn_links_ep(&n->links, (uint32_t)t))) {
		n->stats.relay_drop++;
		send_relay(n, back, RN_RELAY_REFUSED, &m->u.relay.peer, NULL,
		           0);
		return;
	}
	rn_id src;
	rn_id_add(&src, &n->id, &n->links.v[from_idx].off);
	n->stats.relay_fwd++;
	send_relay(n, rn_links_ep(&n->links, (uint32_t)t), RN_RELAY_FROM, &src,
	           m->u.relay.inner, m->u.relay.inner_len);
}

/* RELAY FROM at the peer: the inner datagram, from the source's virtual
 * endpoint, through the usual input (security layer first). */
static void deliver(rn_node *n, rn_time now, uint32_t from_idx,
                    const rn_id *poff, const rn_msg *m)
{
	rn_relay *e = get(n, poff);
	if (!e) {
		n->stats.relay_drop++;
		return;
	}
	e->relay_off = n->links.v[from_idx].off; /* the peer's choice */
	e->rx_bytes += m->u.relay.inner_len;
	rn_ep vep;
	rn_relay_ep(&vep, &m->u.relay.peer);
	/* the input may decode again into the shared zone: m is done with */
	const uint8_t *inner = m->u.relay.inner;
	size_t len = m->u.relay.inner_len;
	rn_id off = *poff;
	if (n->sec)
		rn_sec_recv(n, now, &vep, inner, len);
	else
		rn_node_dispatch(n, now, &vep, inner, len, RN_VIA_PLAIN);
	/* kept only for a link (an answer, if any, has gone already) */
	e = find(n, &off);
	if (e && !has_relay_link(n, &off) && e->direct != RN_RELAY_D_MOVED)
		remove_entry(n, e);
}

void rn_relay_on_msg(rn_node *n, rn_time now, uint32_t from_idx,
                     const rn_msg *m)
{
	rn_id poff;
	rn_id_sub(&poff, &m->u.relay.peer, &n->id);
	/* one hop only: nothing comes or goes on through a relay link */
	if (rn_id_is_zero(&poff) ||
	    rn_relay_ep_is(rn_links_ep(&n->links, from_idx)) ||
	    rn_id_cmp(&poff, &n->links.v[from_idx].off) == 0 ||
	    n->sh->settings->relays_max == 0) {
		n->stats.relay_drop++;
		return;
	}
	switch (m->u.relay.dir) {
	case RN_RELAY_TO:
		forward(n, from_idx, &poff, m);
		break;
	case RN_RELAY_FROM:
		deliver(n, now, from_idx, &poff, m);
		break;
	default: { /* REFUSED: the next candidate at the next send */
		rn_relay *e = find(n, &poff);
		n->stats.relay_drop++;
		if (e &&
		    rn_id_cmp(&e->relay_off, &n->links.v[from_idx].off) == 0)
			rn_relay_next(n, &poff);
		break;
	}
	}
}

int rn_relay_open(rn_node *n, rn_time now, uint32_t idx)
{
	rn_link *l = &n->links.v[idx];
	const rn_ep *ep = rn_links_ep(&n->links, idx);
	(void)now;
	if (rn_relay_ep_is(ep) || (l->flags & RN_LF_LEAF) ||
	    (l->kind_out & RN_KIND_LEAF) || pick(n, &l->off, 0) < 0)
		return 0;
	rn_id off = l->off;
	rn_relay *e = find(n, &off);
	if (!e && n->state == RN_NODE_JOINING)
		e = get(n, &off); /* a joiner's links come from fresh answers */
	if (!e)
		return 0; /* no sign that the peer lives (rn_relay_alive) */
	rn_ep vep;
	off_ep(n, &off, &vep);
	rn_ep old = *ep;
	if (rn_links_set_ep(&n->links, idx, &vep)) {
		remove_entry(n, e);
		return 0;
	}
	e->direct_ep = old; /* tried again later (rn_relay_tick) */
	e->direct = RN_RELAY_D_NONE;
	e->fails = 0;
	rn_sec_forget(n, &old); /* the direct handshake is given up */
	n->stats.relay_links++;
	return 1;
}

void rn_relay_alive(rn_node *n, const rn_id *peer)
{
	rn_id off;
	rn_id_sub(&off, peer, &n->id);
	int i = rn_links_find(&n->links, &off);
	/* only for a link we are trying to open: the common case, a link
	 * that comes up directly, allocates nothing */
	if (i >= 0 && n->links.v[i].state == RN_LINK_PENDING &&
	    n->sh->settings->relays_max)
		(void)get(n, &off); /* full of live relay links: no matter */
}

void rn_relay_next(rn_node *n, const rn_id *peer_off)
{
	rn_relay *e = find(n, peer_off);
	if (!e)
		return;
	e->skip++;
	memset(&e->relay_off, 0, sizeof e->relay_off);
}

/* ---- back to a direct path ---------------------------------------------- */

/* The index of the UP link to off on its virtual endpoint, or -1. */
static int up_relay_link(const rn_node *n, const rn_id *off)
{
	int i = rn_links_find(&n->links, off);
	return i >= 0 && n->links.v[i].state == RN_LINK_UP &&
			       rn_relay_ep_is(rn_links_ep(&n->links, (uint32_t)i))
		       ? i
		       : -1;
}

static uint32_t probes_max(const rn_settings *s)
{
	return s->hello_tries_max > 1 ? s->hello_tries_max - 1 : 1;
}

/* The next direct try after e->fails failures: relay_retry_ms doubled
 * each time, up to relay_retry_max_ms; or none (relay_retry_ms 0). */
static void wait_next(rn_node *n, rn_relay *e)
{
	const rn_settings *s = n->sh->settings;
	e->probes = 0;
	if (!s->relay_retry_ms) {
		e->direct = RN_RELAY_D_NONE;
		return;
	}
	uint64_t p = (uint64_t)s->relay_retry_ms << e->fails;
	if (p > s->relay_retry_max_ms)
		p = s->relay_retry_max_ms;
	e->direct = RN_RELAY_D_WAIT;
	e->direct_ms = rn_ms(n, n->now) + (uint32_t)p;
	rn_node_want_deadline(n, n->now, e->direct_ms);
}

/* One HELLO of the try to the peer's real endpoint, if known and not
 * another link's (a stale one may belong to someone else now); the next
 * one (or the verdict) hello_rto_ms x 1, 2, 4 ... later. */
static void probe(rn_node *n, rn_time now, uint32_t li, rn_relay *e)
{
	const rn_settings *s = n->sh->settings;
	if (!rn_ep_is_zero(&e->direct_ep) &&
	    rn_links_find_ep(&n->links, &e->direct_ep) < 0)
		rn_node_hello_at(n, now, li, &e->direct_ep);
	e->direct_ms = rn_ms(n, now) + (s->hello_rto_ms << e->probes);
	e->probes++;
	rn_node_want_deadline(n, now, e->direct_ms);
}

/* CTM PUNCH(our endpoint) to the peer over the relay link li itself,
 * unacknowledged: a lost one costs a try, and an ack could not come back
 * once the peer has moved to the direct path. */
static void send_punch(rn_node *n, rn_time now, uint32_t li)
{
	uint8_t body[128];
	size_t len;
	rn_body b;
	if (rn_ep_is_zero(&n->own_ep))
		return;
	memset(&b, 0, sizeof b);
	b.type = RN_BODY_CTM;
	b.u.ctm.purpose = RN_CTM_PUNCH;
	b.u.ctm.n_eps = 1;
	b.u.ctm.eps[0] = n->own_ep;
	rn_id peer;
	rn_id_add(&peer, &n->id, &n->links.v[li].off);
	if (rn_body_encode(&b, body, sizeof body, &len) == 0)
		rn_route_send(n, now, &peer, RN_ROUTE_EXACT, body, len, (int)li,
			      RN_ROUTE_F_MAINT | RN_ROUTE_F_NOACK);
}

/* A try: HELLOs to the peer's real endpoint and, unless the peer is the
 * one asking, a punch that makes it send to ours. */
static void start(rn_node *n, rn_time now, uint32_t li, rn_relay *e,
		  int punch)
{
	n->stats.relay_direct_tries++;
	e->direct = RN_RELAY_D_PROBING;
	e->probes = 0;
	probe(n, now, li, e);
	if (punch) /* last: e is not used after */
		send_punch(n, now, li);
}

/* e's time has come: a try, its next HELLO, or its failure. */
static void step(rn_node *n, rn_time now, uint32_t li, rn_relay *e)
{
	if (e->direct == RN_RELAY_D_WAIT) {
		start(n, now, li, e, 1);
	} else if (e->probes < probes_max(n->sh->settings)) {
		probe(n, now, li, e);
	} else { /* the link stays as it is, on its relay */
		if (e->fails < 32)
			e->fails++;
		wait_next(n, e);
	}
}

uint32_t rn_relay_tick(rn_node *n, rn_time now, uint32_t now_ms)
{
	uint32_t next = now_ms + 3600000u;
	for (uint32_t i = 0; i < n->n_relays; i++) {
		rn_relay *e = &n->relays[i];
		if (e->direct == RN_RELAY_D_MOVED) {
			if (rn_ms_due(e->direct_ms, now_ms)) {
				remove_entry(n, e);
				i--; /* the last entry is here now */
			} else {
				next = rn_ms_min(next, e->direct_ms);
			}
			continue;
		}
		int li = up_relay_link(n, &e->peer_off);
		if (li < 0) { /* no relay link (yet): nothing to try */
			e->direct = RN_RELAY_D_NONE;
			continue;
		}
		if (e->direct == RN_RELAY_D_NONE)
			wait_next(n, e);
		else if (rn_ms_due(e->direct_ms, now_ms)) {
			rn_id off = e->peer_off;
			step(n, now, (uint32_t)li, e);
			if (i >= n->n_relays ||
			    rn_id_cmp(&n->relays[i].peer_off, &off) != 0) {
				/* the table changed under us: again (what
				 * was due is not any more) */
				i = (uint32_t)-1;
				next = now_ms + 3600000u;
				continue;
			}
		}
		if (e->direct != RN_RELAY_D_NONE)
			next = rn_ms_min(next, e->direct_ms);
	}
	return next;
}

int rn_relay_on_punch(rn_node *n, rn_time now, const rn_id *off,
		      const rn_ep *ep)
{
	int li = up_relay_link(n, off);
	if (li < 0)
		return 0;
	rn_relay *e = get(n, off); /* a relay link has one: found */
	if (!e)
		return 1;
	if (!rn_relay_ep_is(ep) && !rn_ep_is_zero(ep) &&
	    !rn_ep_eq(ep, &n->own_ep))
		e->direct_ep = *ep; /* the peer's word is the newest */
	if (e->direct != RN_RELAY_D_PROBING)
		start(n, now, (uint32_t)li, e, 1); /* and tell it where we are */
	else if (e->probes < probes_max(n->sh->settings))
		probe(n, now, (uint32_t)li, e); /* both tried at once */
	return 1;
}

int rn_relay_direct_peer(const rn_node *n, const rn_ep *ep, rn_id *peer)
{
	for (uint32_t i = 0; i < n->n_relays; i++)
		if (rn_ep_eq(&n->relays[i].direct_ep, ep)) {
			rn_id_add(peer, &n->id, &n->relays[i].peer_off);
			return 1;
		}
	return 0;
}

int rn_relay_moved(const rn_node *n, const rn_ep *vep)
{
	rn_ep v;
	for (uint32_t i = 0; i < n->links.n; i++) {
		const rn_ep *ep = rn_links_ep(&n->links, i);
		if (n->links.v[i].state != RN_LINK_UP || rn_relay_ep_is(ep))
			continue;
		off_ep(n, &n->links.v[i].off, &v);
		if (rn_ep_eq(&v, vep))
			return (int)i;
	}
	return -1;
}

void rn_relay_on_up(rn_node *n, uint32_t idx, const rn_ep *old)
{
	rn_id off = n->links.v[idx].off;
	rn_relay *e = n->n_relays ? find(n, &off) : NULL;
	if (rn_relay_ep_is(rn_links_ep(&n->links, idx))) {
		if (!e)
			return;
		/* a pending direct link the peer's HELLO through a relay took
		 * over: its endpoint is worth a try later */
		if (old && !rn_relay_ep_is(old) && rn_ep_is_zero(&e->direct_ep))
			e->direct_ep = *old;
		/* (MOVED: back on a relay before the entry went) */
		if (e->direct == RN_RELAY_D_NONE ||
		    e->direct == RN_RELAY_D_MOVED)
			wait_next(n, e);
		return;
	}
	if (old && rn_relay_ep_is(old)) { /* off its relay */
		n->stats.relay_direct_ok++;
		rn_sec_moved(n, old);
		if (e) {
			/* what is still in flight on the relay path must find
			 * the relay's links: they stay needed (rn_relay_in_use)
			 * for trim_grace_ms more */
			e->direct = RN_RELAY_D_MOVED;
			e->direct_ms = rn_ms(n, n->now) +
				       n->sh->settings->trim_grace_ms;
			rn_node_want_deadline(n, n->now, e->direct_ms);
		}
		return;
	}
	if (e && e->direct != RN_RELAY_D_MOVED)
		remove_entry(n, e);
}

void rn_relay_bytes(const rn_node *n, const rn_id *off, uint64_t *tx,
		    uint64_t *rx)
{
	const rn_relay *e = n->n_relays ? find(n, off) : NULL;
	int li = rn_links_find(&n->links, off);
	if (!e || li < 0 || !rn_relay_ep_is(rn_links_ep(&n->links, (uint32_t)li))) {
		*tx = *rx = 0;
		return;
	}
	*tx = e->tx_bytes;
	*rx = e->rx_bytes;
}

int rn_relay_in_use(const rn_node *n, const rn_id *off)
{
	for (uint32_t i = 0; i < n->n_relays; i++)
		if (rn_id_cmp(&n->relays[i].relay_off, off) == 0)
			return 1;
	return 0;
}

void rn_relay_on_drop(rn_node *n, const rn_id *peer_off)
{
	for (uint32_t i = 0; i < n->n_relays;) {
		rn_relay *e = &n->relays[i];
		if (rn_id_cmp(&e->peer_off, peer_off) == 0) {
			remove_entry(n, e);
			continue;
		}
		if (rn_id_cmp(&e->relay_off, peer_off) == 0)
			memset(&e->relay_off, 0, sizeof e->relay_off);
		i++;
	}
}

void rn_relay_free(rn_node *n)
{
	free(n->relays);
	n->relays = NULL;
	n->n_relays = 0;
	n->cap_relays = 0;
}
