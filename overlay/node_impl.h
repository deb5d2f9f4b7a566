/* Internals shared by the overlay's source files. Not a public header.
 *
 * A node's state is its link table (link.c), a few timers kept as
 * milliseconds since the node's epoch, the pending hop-acknowledged
 * forwards (route.c), and counters. Files by concern:
 *   node.c   inputs, dispatch, handshake, keepalive, deadlines
 *   link.c   the sorted link table
 *   route.c  greedy routing, hop acks, rerouting
 *   near.c   ring neighbours: windows, NEIGHBORS exchange, repair
 *   far.c    structured far links (fingers or Symphony)
 *   lost.c   ring neighbours lost to failure, probed again (partitions)
 */
#ifndef RN_NODE_IMPL_H
#define RN_NODE_IMPL_H

#include "../core/log.h"
#include "../core/prng.h"
#include "link.h"
#include "msg.h"
#include "node.h"

/* A forwarded ROUTED message waiting for its hop ack. */
typedef struct rn_pending {
	uint32_t hop_seq;
	uint32_t deadline_ms;
	rn_id via_off;  /* the link it went to */
	uint8_t tries;
	uint8_t maint;  /* counts as maintenance traffic */
	uint16_t len;
	uint8_t *msg;   /* encoded ROUTED, heap */
} rn_pending;

#define RN_FAR_SLOTS 320 /* finger intervals: 160 per direction */
/* A shortcut is asked for as a far link with this token (shortcut.c); the
 * link it makes keeps finger = token + 1. Symphony's is RN_FAR_SLOTS + 1. */
#define RN_SHORTCUT_TOKEN  (RN_FAR_SLOTS + 2)
#define RN_SHORTCUT_FINGER (RN_SHORTCUT_TOKEN + 1)

/* A shortcut link wished for by the layer above (shortcut.c). */
typedef struct rn_shortcut_entry {
	rn_id off;
	uint32_t until_ms; /* wished for until then */
	uint32_t asked_ms; /* our last CTM for it */
} rn_shortcut_entry;

/* A ring neighbour lost to keepalive failure (lost.c). */
typedef struct rn_lost_peer {
	rn_id off;
	rn_ep ep;
	uint32_t lost_ms, next_ms;
	uint8_t tries;
} rn_lost_peer;

/* A node that answered a joiner's CTM this node routed as a bootstrap,
 * kept for the joiner's next probe (near.c). */
typedef struct rn_ctm_answer {
	rn_id joiner;
	rn_peer_info peer;
	uint32_t at_ms;
} rn_ctm_answer;

/* A joiner's CTM we answered with a link still PENDING (near.c): if our
 * first HELLO goes unanswered, the joiner's bootstrap (relay) is told
 * where we are, for the joiner's next probe. */
typedef struct rn_ctm_reply_due {
	rn_id joiner_off;
	rn_id relay;
	uint32_t until_ms; /* 2 join_retry_ms: the joiner's next probe */
} rn_ctm_reply_due;
#define RN_CTM_REPLIES_MAX 8 /* beyond: the reply goes at once */

/* A relay link's route (relay.c): the peer, reached through the node at
 * relay_off, the skip-th nearest candidate to the peer; and its tries of
 * the direct path again. */
typedef struct rn_relay {
	rn_id peer_off;
	rn_id relay_off;  /* zero: pick one at the next send */
	rn_ep direct_ep;  /* the peer's real endpoint to try; zero: unknown */
	uint64_t tx_bytes, rx_bytes; /* inner datagrams (rn_link_info) */
	uint32_t direct_ms; /* WAIT: the next try; PROBING: the next probe;
			     * MOVED: when the entry goes */
	uint8_t skip;
	uint8_t direct;   /* enum rn_relay_direct */
	uint8_t fails;    /* direct tries failed in a row: the backoff */
	uint8_t probes;   /* PROBING: HELLOs sent to direct_ep in this try */
} rn_relay;

enum rn_relay_direct {
	RN_RELAY_D_NONE = 0,    /* no relay link UP yet: nothing scheduled */
	RN_RELAY_D_WAIT = 1,    /* the next try at direct_ms */
	RN_RELAY_D_PROBING = 2, /* a try under way */
	RN_RELAY_D_MOVED = 3,   /* the link moved to its direct path: the
				 * entry stays a while (relay.c) */
};

struct rn_node {
	rn_shared *sh;
	rn_logger lg; /* carries env and ctx */
	rn_id id;
	rn_ep own_ep;
	rn_time epoch;
	rn_prng prng;
	rn_links links;
	uint8_t state;
	uint8_t near_dirty;  /* announce the near set at t_announce */
	uint8_t near_lost;   /* a near link was lost since the last announce */
	uint8_t n_boot;
	rn_ep *boot;

	rn_time deadline; /* what we last asked the environment for */
	rn_time tick_min; /* earliest deadline asked for inside on_timeout */
	uint8_t in_tick;
	uint32_t t_join_retry, t_stabilize, t_ring_check, t_far, t_announce;
	uint32_t hop_seq;

	rn_pending *pend;
	uint32_t n_pend, cap_pend;

	uint32_t n_neigh_lost; /* near links lost since last repair request */
	uint32_t far_rounds;
	uint32_t joined_ms;    /* when the node last became JOINED */
	uint32_t rejoin_until_ms; /* bootstrap answers accepted until then */
	uint8_t rejoining;        /* rejoin_until_ms is meaningful */
	uint8_t n_lost;
	rn_lost_peer *lost;       /* lost_peers_max, allocated at first loss */
	uint8_t n_answers, cap_answers;
	rn_ctm_answer *answers;   /* cap_answers (up to ctm_answers_max), grown
				   * from 1, freed when the last is taken */
	uint8_t n_replies, cap_replies;
	rn_ctm_reply_due *replies; /* cap_replies (up to RN_CTM_REPLIES_MAX),
				    * grown from 1, freed when empty */
	uint8_t n_shortcuts;
	rn_shortcut_entry *shortcuts; /* shortcuts_max, allocated at the first */
	uint8_t n_relays, cap_relays;
	rn_relay *relays;         /* cap_relays (up to relays_max), grown
				   * from 1, freed when empty */
	uint8_t join_keep;        /* probe with RN_PROBE_KEEP (relay.c) */

	rn_node_stats stats;
	rn_time now;             /* time of the input being handled */
	rn_sec *sec;             /* crypto real: sessions and handshakes */
	const rn_upper *upper;   /* the layer above (the DHT), or NULL */
	uint8_t near_changed;    /* for upper: near set changed since tick */
	const rn_ident *ident;   /* crypto real: our certificate and key */
};

/* Time helpers: link timers are u32 milliseconds since the node's epoch;
 * comparisons go through the signed difference so that they wrap safely. */
static inline uint32_t rn_ms(const rn_node *n, rn_time now)
{
	return (uint32_t)((now - n->epoch) / 1000u);
}
static inline int rn_ms_due(uint32_t t, uint32_t now_ms)
{
	return (int32_t)(now_ms - t) >= 0;
}
/* The earlier of two u32 millisecond times, wrap-safe. */
static inline uint32_t rn_ms_min(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0 ? a : b;
}
static inline rn_time rn_ms_to_time(const rn_node *n, uint32_t t_ms,
				    uint32_t now_ms, rn_time now)
{
	int32_t d = (int32_t)(t_ms - now_ms);
	if (d <= 0)
		return now;
	return now - (now - n->epoch) % 1000u + RN_MS(d);
}

/* node.c */
void rn_node_send_msg(rn_node *n, const rn_ep *to, const rn_msg *m, int maint);
void rn_node_send_raw(rn_node *n, const rn_ep *to, const uint8_t *buf,
		      size_t len, int maint);
void rn_node_want_deadline(rn_node *n, rn_time now, uint32_t t_ms);
int rn_node_link_open(rn_node *n, rn_time now, const rn_id *off,
		      const rn_ep *ep, uint8_t kind, uint32_t token);
void rn_node_link_drop(rn_node *n, rn_time now, uint32_t idx, int dead);
uint32_t rn_node_pending_links(const rn_node *n); /* HELLO sent, no answer */
void rn_node_emit(rn_node *n, int type, const rn_id *peer, uint64_t qid,
		  uint8_t hops, uint8_t hops_back);
/* RN_EV_TRACE_DONE for a TRACE_REPLY body from peer. */
void rn_node_emit_trace(rn_node *n, const rn_id *peer, const rn_body *b,
			uint8_t hops_back);
uint32_t rn_node_rto_ms(const rn_node *n, const rn_link *l);
void rn_node_probe_bootstraps(rn_node *n, rn_time now);
/* One overlay message that the security layer accepted (sec.h, via). */
void rn_node_dispatch(rn_node *n, rn_time now, const rn_ep *from,
		      const uint8_t *buf, size_t len, int via);
/* An IP packet sealed on the session with peer at from (sec.c). */
void rn_node_on_ip(rn_node *n, rn_time now, const rn_ep *from,
		   const rn_id *peer, const uint8_t *vip, size_t vip_len,
		   const uint8_t *pkt, size_t len);
/* Sends the link's HELLO again (a rekey: the security layer makes it an
 * INIT). */
void rn_node_rehello(rn_node *n, rn_time now, uint32_t idx);
/* The same HELLO to another endpoint than the link's (a relay link's
 * direct try, relay.c). */
void rn_node_hello_at(rn_node *n, rn_time now, uint32_t idx, const rn_ep *to);

/* route.c */
/* Best next hop for dst (link index) or -1 when this node is the closest
 * (taking exclude_off as absent when not NULL). Skips unusable links. */
int rn_route_best(const rn_node *n, const rn_id *dst,
		  const rn_id *exclude_off);
/* rn_route_send flags */
#define RN_ROUTE_F_MAINT 1u /* counts as maintenance traffic */
#define RN_ROUTE_F_NOACK 2u /* no hop acks on the whole path (hop_seq 0) */
/* Originates a routed body. first_hop >= 0 forces the first link. */
int rn_route_send(rn_node *n, rn_time now, const rn_id *dst, uint8_t mode,
		  const uint8_t *body, size_t body_len, int first_hop,
		  unsigned flags);
/* The same on behalf of another node (src): a bootstrap routes a joiner's
 * connect-to-me so that it needs to keep no link for it. */
int rn_route_send_for(rn_node *n, rn_time now, const rn_id *src,
		      const rn_id *dst, uint8_t mode, const uint8_t *body,
		      size_t body_len, int first_hop, unsigned flags);
void rn_route_on_routed(rn_node *n, rn_time now, uint32_t from_idx,
			const rn_msg *m);
void rn_route_on_hop_ack(rn_node *n, rn_time now, const rn_ep *from,
			 uint32_t hop_seq);
/* Handles expired hop acks; returns 1 and the next ack deadline if any
 * forward is still waiting. */
int rn_route_timeouts(rn_node *n, rn_time now, uint32_t now_ms,
		      uint32_t *next_ms);
void rn_route_free(rn_node *n);

/* near.c */
void rn_near_recompute(rn_node *n, rn_time now);
int rn_near_in_window(const rn_node *n, const rn_id *off);
void rn_near_on_neighbors(rn_node *n, rn_time now, const rn_msg *m);
void rn_near_send_neighbors(rn_node *n, const rn_link *to);
/* via_far: 0 best link, 1 a random far link, RN_CTM_VIA_LINK + i link i */
#define RN_CTM_VIA_LINK 16
void rn_near_request_ctm(rn_node *n, rn_time now, int via_far);
/* A bootstrap's connect-to-me on behalf of a prober (id, seen at ep). */
void rn_near_proxy_ctm(rn_node *n, rn_time now, const rn_id *id,
		       const rn_ep *ep);
/* Periodic work; returns the next near deadline (ms). */
uint32_t rn_near_tick(rn_node *n, rn_time now, uint32_t now_ms);
void rn_near_on_ctm(rn_node *n, rn_time now, const rn_id *src,
		    const rn_body *b);
/* Through NATs (near.c): link idx's first HELLO went unanswered: ask the
 * peer over the ring to send to us too. */
void rn_near_punch(rn_node *n, rn_time now, uint32_t idx);
/* A bootstrap: src answered a joiner's CTM we routed (CTM_REPLY). */
void rn_near_on_ctm_reply(rn_node *n, rn_time now, const rn_id *src,
			  const rn_body *b);
/* A bootstrap: 1 and the newest fresh answer for joiner (then spent), or 0. */
int rn_near_take_answer(rn_node *n, rn_time now, const rn_id *joiner,
			rn_peer_info *out);
/* A joiner: a bootstrap passed on a node that answered our CTM. */
void rn_near_on_boot_peer(rn_node *n, rn_time now, const rn_peer_info *p);
void rn_near_answers_free(rn_node *n);
void rn_near_replies_free(rn_node *n);

/* lost.c */
void rn_lost_add(rn_node *n, uint32_t now_ms, const rn_id *off,
		 const rn_ep *ep);
int rn_lost_has(const rn_node *n, const rn_id *off);
/* Probes lost neighbours that are due; returns the next lost deadline. */
uint32_t rn_lost_tick(rn_node *n, rn_time now, uint32_t now_ms);
void rn_lost_free(rn_node *n);

/* relay.c */
/* The token of a bootstrap probe (HELLO kind LEAF) that asks the
 * bootstrap to keep a leaf link: the joiner could not reach the node its
 * connect-to-me found and relays through the bootstrap. */
#define RN_PROBE_KEEP 1u
/* Whether ep is a virtual endpoint (a relay link's, never on the wire). */
int rn_relay_ep_is(const rn_ep *ep);
void rn_relay_ep(rn_ep *ep, const rn_id *peer);
/* Sends a datagram to a virtual endpoint through the peer's relay. */
void rn_relay_send(rn_node *n, const rn_ep *to, const uint8_t *buf,
		   size_t len);
/* A RELAY message on the UP link from_idx. */
void rn_relay_on_msg(rn_node *n, rn_time now, uint32_t from_idx,
		     const rn_msg *m);
/* Pending link idx's HELLOs went unanswered: 1 if it moved to a relay
 * (its HELLO resent through it), 0 if it should be dropped. */
int rn_relay_open(rn_node *n, rn_time now, uint32_t idx);
/* The peer lives (its connect-to-me came): a pending link to it whose
 * HELLOs go unanswered may move to a relay. */
void rn_relay_alive(rn_node *n, const rn_id *peer);
/* Relayed link idx's ping went unanswered: try the next relay. */
void rn_relay_next(rn_node *n, const rn_id *peer_off);
/* Link idx is up (a HELLO or HELLO_ACK came from its endpoint; old is
 * the endpoint it had before, or NULL for a new link). On a virtual
 * endpoint: its direct tries are scheduled. On a real one: the peer needs
 * no relay, what the table kept for it goes, and a link that moved off
 * its relay counts in relay_direct_ok. */
void rn_relay_on_up(rn_node *n, uint32_t idx, const rn_ep *old);
/* The peer at off asked for a direct try (CTM PUNCH naming ep): 1 if the
 * link to it is an UP relay link and the try is handled here, 0 if not. */
int rn_relay_on_punch(rn_node *n, rn_time now, const rn_id *off,
		      const rn_ep *ep);
/* Direct tries that are due; returns the next relay deadline (ms). */
uint32_t rn_relay_tick(rn_node *n, rn_time now, uint32_t now_ms);
/* The peer whose relay link tries the direct path at ep (a HELLO sent
 * there is for it, sec.c): 1 and its id, or 0. */
int rn_relay_direct_peer(const rn_node *n, const rn_ep *ep, rn_id *peer);
/* The index of the link whose virtual endpoint is vep and which is UP on
 * a real endpoint now (it moved off its relay: datagrams still in flight
 * on the relay path are its), or -1. */
int rn_relay_moved(const rn_node *n, const rn_ep *vep);
/* A relay link's byte counts (rn_link_info); zeros for other links. */
void rn_relay_bytes(const rn_node *n, const rn_id *off, uint64_t *tx,
		    uint64_t *rx);
/* Whether the link at off relays one of our relay links. */
int rn_relay_in_use(const rn_node *n, const rn_id *off);
/* The link to peer_off is going. */
void rn_relay_on_drop(rn_node *n, const rn_id *peer_off);
void rn_relay_free(rn_node *n);

/* node.c: a node's small tables (CTM answers, relays) grow 1, 2, 4 ...
 * max entries, from none: most nodes hold none or one. Doubles *cap (to
 * max at most) and returns v reallocated, or NULL (v and *cap unchanged,
 * still valid). */
void *rn_table_grow(void *v, uint8_t *cap, uint32_t max, size_t elem);

/* shortcut.c */
int rn_shortcut_wanted(const rn_node *n, const rn_id *off);
uint32_t rn_shortcut_tick(rn_node *n, rn_time now, uint32_t now_ms);
void rn_shortcut_free(rn_node *n);

/* far.c */
/* Routes a CTM FAR with this token to dst (mode RN_ROUTE_CLOSEST or
 * RN_ROUTE_EXACT, EXCLUDE_SRC added; flags beside RN_ROUTE_F_MAINT). */
int rn_far_send_ctm(rn_node *n, rn_time now, const rn_id *dst,
		    uint32_t token, uint8_t mode, unsigned flags);
#define RN_FAR_HINT_MSGS_MAX 3 /* FAR_HINTS datagrams sent to one newcomer */
uint32_t rn_far_tick(rn_node *n, rn_time now, uint32_t now_ms);
void rn_far_send_hints(rn_node *n, const rn_link *to);
/* Sends far hints on a link that just came up, if it was made for that. */
void rn_far_on_link_up(rn_node *n, uint32_t idx);
void rn_far_on_hints(rn_node *n, rn_time now, const rn_msg *m);
int rn_far_link_needed(const rn_node *n, uint32_t idx);
double rn_far_estimate_size(const rn_node *n);

#endif
