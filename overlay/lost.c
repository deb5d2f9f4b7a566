/* Lost neighbours: how two halves of a partitioned ring find each other.
 *
 * When the network splits, each side sees the other's nodes die and
 * repairs into a ring of its own; once the network heals, nothing routes
 * between the two rings, and neither side is an island (each has plenty of
 * ring nodes), so the bootstrap fallback of near.c never fires. So a node
 * remembers the ring neighbours it lost to keepalive failure in a small
 * list, and those that left the ring (CLOSE LEAVING): a node that leaves
 * is often restarting, and the first node of a group, which has no
 * bootstrap peers, would otherwise come back as a ring of its own for
 * good (nobody links to it, and it knows nobody). Links closed by
 * agreement (FINAL, trimming) are not remembered. Now and then the node
 * opens a near link to each again: lost_probe_ms after the
 * loss, then twice as long after each probe that found no one (but at
 * least every ring_check_ms), and it forgets them after lost_peer_keep_ms.
 * So a split shorter than lost_peer_keep_ms heals within about
 * ring_check_ms of the network's return. The first probe that is answered
 * brings a node of the other ring into the near window; the NEIGHBORS
 * exchange of that new near link (near.c) then pulls both rings' nodes
 * around it into each other's windows, and the rings zip together.
 *
 * The list holds lost_peers_max entries, allocated at the first loss (most
 * nodes never lose a neighbour to a failure); when it is full the oldest
 * entry gives way. A crashed peer costs at most one failed link open per
 * probe, with the probes spaced exponentially, and no punch (near.c): a
 * lost peer is most likely gone, and one that is not probes us too.
 */
#include <stdlib.h>
#include <string.h>

#include "node_impl.h"

static void lost_remove(rn_node *n, uint32_t i)
{
	n->lost[i] = n->lost[--n->n_lost];
	if (n->n_lost == 0) {
		free(n->lost);
		n->lost = NULL;
	}
}

void rn_lost_add(rn_node *n, uint32_t now_ms, const rn_id *off,
		 const rn_ep *ep)
{
	const rn_settings *s = n->sh->settings;
	if (s->lost_peers_max == 0 || rn_ep_is_zero(ep))
		return;
	if (!n->lost) {
		n->lost = calloc(s->lost_peers_max, sizeof *n->lost);
		if (!n->lost)
			return;
	}
	uint32_t at = n->n_lost;
	for (uint32_t i = 0; i < n->n_lost; i++)
		if (rn_id_cmp(&n->lost[i].off, off) == 0)
			at = i;
	if (at == n->n_lost && n->n_lost == s->lost_peers_max) {
		at = 0; /* full: the oldest gives way */
		for (uint32_t i = 1; i < n->n_lost; i++)
			if ((int32_t)(n->lost[i].lost_ms - n->lost[at].lost_ms) < 0)
				at = i;
	} else if (at == n->n_lost) {
		n->n_lost++;
	}
	rn_lost_peer *p = &n->lost[at];
	p->off = *off;
	p->ep = *ep;
	p->lost_ms = now_ms;
	p->next_ms = now_ms + s->lost_probe_ms;
	p->tries = 0;
}

uint32_t rn_lost_tick(rn_node *n, rn_time now, uint32_t now_ms)
{
	const rn_settings *s = n->sh->settings;
	uint32_t next = now_ms + 3600000u;
	if (n->state != RN_NODE_JOINED)
		return n->n_lost ? now_ms + s->lost_probe_ms : next;
	for (uint32_t i = 0; i < n->n_lost;) {
		rn_lost_peer *p = &n->lost[i];
		int li = rn_links_find(&n->links, &p->off);
		if (rn_ms_due(p->lost_ms + s->lost_peer_keep_ms, now_ms) ||
		    (li >= 0 && n->links.v[li].state == RN_LINK_UP)) {
			lost_remove(n, i); /* forgotten, or found again */
			continue;
		}
		if (li < 0 && rn_ms_due(p->next_ms, now_ms)) {
			rn_ep ep = p->ep; /* link_open may not keep our pointer */
			rn_id off = p->off;
			if (p->tries < 16)
				p->tries++;
			uint64_t wait = (uint64_t)s->lost_probe_ms
					<< (p->tries < 12 ? p->tries : 12);
			if (wait > s->ring_check_ms)
				wait = s->ring_check_ms;
			p->next_ms = now_ms + (uint32_t)wait;
			next = rn_ms_min(next, p->next_ms);
			rn_node_link_open(n, now, &off, &ep, RN_KIND_NEAR, 0);
			i++;
			continue;
		}
		next = rn_ms_min(next, li >= 0 ? now_ms + s->lost_probe_ms
					       : p->next_ms);
		i++;
	}
	return next;
}

int rn_lost_has(const rn_node *n, const rn_id *off)
{
	for (uint32_t i = 0; i < n->n_lost; i++)
		if (rn_id_cmp(&n->lost[i].off, off) == 0)
			return 1;
	return 0;
}

void rn_lost_free(rn_node *n)
{
	free(n->lost);
	n->lost = NULL;
	n->n_lost = 0;
}
