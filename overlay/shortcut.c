/* Shortcut links: a direct link made on demand for a heavy flow between
 * two nodes that are not ring neighbours (Brunet's "chota"; DESIGN.md §3).
 *
 * The layer above decides what is heavy (tunnel/vpn.c keeps a decaying
 * packet count per destination) and calls rn_node_shortcut while a flow
 * stays hot, at most once a second per destination. This file keeps the
 * wish in a small table (shortcuts_max entries, allocated at the first
 * wish) and makes the link the way a far link is made, with nothing new on
 * the wire:
 *
 *   rn_node_shortcut(peer) --no usable link--> CTM purpose FAR, token
 *       RN_SHORTCUT_TOKEN, routed EXACT to the peer's id (at most one per
 *       shortcut_ask_ms)
 *   the peer opens a link back (HELLO kind FAR_REPLY, the token echoed);
 *       its HELLOs going unanswered behind our NAT make it punch (near.c)
 *   the link comes up with FAR_OUT and finger RN_SHORTCUT_FINGER: trimming
 *       keeps it (rn_far_link_needed), far rounds leave it alone
 *   no wish for shortcut_idle_ms --> the entry goes, the link loses its
 *       FAR role and the peer is told (a HELLO without FAR, as far.c's
 *       release_redundant does); trimming closes it trim_grace_ms later
 *       unless the link serves the ring too
 *
 * A wish for a peer that already has a usable link of another kind costs
 * nothing and is not kept. When the table is full, a wish for another
 * peer is dropped and counted (drop_shortcuts). A peer that is not a
 * member, or does not answer, costs one routed CTM every shortcut_ask_ms
 * while the flow stays hot; relayed traffic goes on over the ring
 * meanwhile, so a shortcut that never comes up loses nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "../core/err.h"
#include "node_impl.h"

static int entry_find(const rn_node *n, const rn_id *off)
{
	for (uint32_t i = 0; i < n->n_shortcuts; i++)
		if (rn_id_cmp(&n->shortcuts[i].off, off) == 0)
			return (int)i;
	return -1;
}

static void entry_remove(rn_node *n, uint32_t i)
{
	n->shortcuts[i] = n->shortcuts[--n->n_shortcuts];
	if (n->n_shortcuts == 0) {
		free(n->shortcuts);
		n->shortcuts = NULL;
	}
}

static int is_shortcut(const rn_link *l)
{
	return (l->flags & RN_LF_FAR_OUT) && l->finger == RN_SHORTCUT_FINGER;
}

int rn_shortcut_wanted(const rn_node *n, const rn_id *off)
{
	return entry_find(n, off) >= 0;
}

int rn_node_shortcut(rn_node *n, rn_time now, const rn_id *peer)
{
	const rn_settings *s = n->sh->settings;
	uint32_t now_ms = rn_ms(n, now);
	rn_id off;
	if (n->state != RN_NODE_JOINED || s->shortcuts_max == 0)
		return RN_ERR_STATE;
	rn_id_sub(&off, peer, &n->id);
	if (rn_id_is_zero(&off))
		return RN_ERR_INVAL;
	n->now = now;
	int li = rn_links_find(&n->links, &off);
	const rn_link *l = li >= 0 ? &n->links.v[li] : NULL;
	int at = entry_find(n, &off);
	if (l && rn_link_usable(l) && !is_shortcut(l)) {
		/* direct already, for the ring's sake: nothing to keep */
		if (at >= 0)
			entry_remove(n, (uint32_t)at);
		return 0;
	}
	if (at < 0) {
		if (!n->shortcuts) {
			n->shortcuts = calloc(s->shortcuts_max,
					      sizeof *n->shortcuts);
			if (!n->shortcuts)
				return RN_ERR_NOMEM;
		}
		if (n->n_shortcuts >= s->shortcuts_max) {
			n->stats.drop_shortcuts++;
			return RN_ERR_FULL;
		}
		at = (int)n->n_shortcuts++;
		memset(&n->shortcuts[at], 0, sizeof n->shortcuts[at]);
		n->shortcuts[at].off = off;
		n->shortcuts[at].asked_ms = now_ms - s->shortcut_ask_ms;
	}
	rn_shortcut_entry *e = &n->shortcuts[at];
	e->until_ms = now_ms + s->shortcut_idle_ms;
	if (!l && rn_ms_due(e->asked_ms + s->shortcut_ask_ms, now_ms)) {
		e->asked_ms = now_ms;
		/* exact, acked: only the peer itself may answer */
		if (rn_far_send_ctm(n, now, peer, RN_SHORTCUT_TOKEN,
				    RN_ROUTE_EXACT, 0) == 0)
			n->stats.shortcuts_asked++;
	}
	rn_node_want_deadline(n, now, e->until_ms);
	return 0;
}

/* Gives up link off's shortcut role, telling the peer (its PEER_WANTS
 * would keep the link otherwise). */
static void release(rn_node *n, rn_time now, const rn_id *off)
{
	int li = rn_links_find(&n->links, off);
	if (li < 0 || !is_shortcut(&n->links.v[li]))
		return;
	rn_link *l = &n->links.v[li];
	l->flags &= (uint8_t)~RN_LF_FAR_OUT;
	l->kind_out &= (uint8_t)~RN_KIND_FAR;
	l->finger = 0;
	if (l->state == RN_LINK_UP) {
		rn_id o = *off;
		rn_ep ep = *rn_links_ep(&n->links, (uint32_t)li);
		rn_node_link_open(n, now, &o, &ep, 0, 0);
	}
}

uint32_t rn_shortcut_tick(rn_node *n, rn_time now, uint32_t now_ms)
{
	uint32_t next = now_ms + 3600000u;
	for (uint32_t i = 0; i < n->n_shortcuts;) {
		rn_shortcut_entry *e = &n->shortcuts[i];
		if (rn_ms_due(e->until_ms, now_ms)) {
			rn_id off = e->off;
			entry_remove(n, i);
			release(n, now, &off);
			continue;
		}
		next = rn_ms_min(next, e->until_ms);
		i++;
	}
	return next;
}

void rn_shortcut_free(rn_node *n)
{
	free(n->shortcuts);
	n->shortcuts = NULL;
	n->n_shortcuts = 0;
}
