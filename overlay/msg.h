/* Overlay wire messages and their msgpack codec.
 *
 * Every datagram of the overlay is one msgpack array [type, version, ...]
 * (DESIGN.md section 5). Link messages travel between direct neighbours;
 * ROUTED carries an opaque body (itself [type, version, ...]) across the ring
 * and is re-encoded at each hop with hops+1 and a fresh hop sequence.
 *
 *   HELLO      [1, v, src_id, kind, token, your_ep, ts_ms]
 *   HELLO_ACK  [2, v, src_id, kind, token, your_ep, ts_echo_ms]
 *              or, only with kind CTM_SENT, [..., ts_echo_ms, [id, ep]]:
 *              a node that answered the prober's connect-to-me
 *   PING       [3, v, ts_ms]
 *   PONG       [4, v, ts_echo_ms]
 *   CLOSE      [5, v, reason]
 *   NEIGHBORS  [6, v, [[id, ep], ...]]
 *   ROUTED     [7, v, hop_seq(u32), src_id, dst_id, mode, hops, ttl, body]
 *   HOP_ACK    [8, v, hop_seq]      (hop_seq 0 in ROUTED: no acks wanted)
 *   FAR_HINTS  [9, v, [[id, ep], ...]]  far-link candidates for a newcomer
 *   RELAY      [10, v, dir, peer_id, inner]  a datagram of a relay link
 *              (relay.c): dir TO, to the relay, peer_id the destination;
 *              FROM, from the relay, peer_id the source; REFUSED, from
 *              the relay, peer_id unreachable through it (inner empty)
 * Bodies of ROUTED:
 *   CTM        [1, v, purpose, token, [ep, ...]]   connect-to-me
 *              or [..., [ep, ...], relay_id] when a bootstrap routed it
 *              for a joiner: answers that cannot reach it go to relay_id
 *   LOOKUP     [2, v, qid]
 *   LOOKUP_REP [3, v, qid, hops]
 *   TRACE      [4, v, qid, [[id, rtt_ms], ...]]  each forwarding hop appends
 *   TRACE_REP  [5, v, qid, [[id, rtt_ms], ...]]  the request's whole path
 *   CTM_REPLY  [6, v, joiner_id, ep]  to a CTM's relay: "joiner_id's
 *              connect-to-me reached me (the source), at ep"
 * Ids are bin 20, endpoints bin 18 (ep.h). hop_seq is always encoded as a
 * 5-byte uint32 at offset 3 so that a stored message can be patched in place
 * when it is re-sent to another next hop.
 *
 * Decoders never assert: anything unexpected is RN_ERR_PROTO/TRUNC/DEPTH/
 * VERSION, and the caller drops and counts it. Each has a fuzz target.
 */
#ifndef RN_MSG_H
#define RN_MSG_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/ep.h"
#include "../core/id.h"

#define RN_PROTO_VERSION 1
#define RN_DGRAM_MAX 1400     /* the overlay's own messages never exceed this */
/* The largest datagram on the wire: 1500-byte links less IPv4 and UDP
 * headers. Only IP traffic (tunnel/) comes near it: an IP packet sealed on a
 * direct link, or a routed data body. */
#define RN_WIRE_MAX 1472
#define RN_PLAIN_MAX (RN_WIRE_MAX - 29) /* an overlay message under DATA */
#define RN_NEIGHBORS_MAX 16   /* entries in one NEIGHBORS message */
#define RN_CTM_EPS_MAX 4      /* endpoints offered in one CTM */
#define RN_BODY_MAX 1200      /* routed body bytes of control bodies */
/* Routed body bytes of a data body (rn_node_route_data): what is left of
 * RN_PLAIN_MAX after the ROUTED header (at most 61 bytes). */
#define RN_BODY_DATA_MAX (RN_PLAIN_MAX - 61)
#define RN_TRACE_HOPS_MAX 24  /* path entries a TRACE records */
#define RN_ROUTED_HOPSEQ_OFF 3
/* RELAY: its header before the inner datagram is at most 29 bytes
 * (array, type, version, dir, bin8 id, bin16 header), and the inner
 * datagram at most RN_WIRE_MAX; so a RELAY message is at most
 * RN_RELAY_MSG_MAX and the datagram of a relay hop at most
 * RN_RELAY_WIRE_MAX (58 bytes over RN_WIRE_MAX: relay.c says when). */
#define RN_RELAY_HDR_MAX 29
#define RN_RELAY_MSG_MAX (RN_WIRE_MAX + RN_RELAY_HDR_MAX)
#define RN_RELAY_WIRE_MAX (RN_RELAY_MSG_MAX + 29)

enum rn_msg_type {
	RN_MSG_HELLO = 1,
	RN_MSG_HELLO_ACK = 2,
	RN_MSG_PING = 3,
	RN_MSG_PONG = 4,
	RN_MSG_CLOSE = 5,
	RN_MSG_NEIGHBORS = 6,
	RN_MSG_ROUTED = 7,
	RN_MSG_HOP_ACK = 8,
	RN_MSG_FAR_HINTS = 9,
	RN_MSG_RELAY = 10,
};

enum rn_relay_dir {
	RN_RELAY_TO = 0,      /* to the relay: forward to peer_id */
	RN_RELAY_FROM = 1,    /* from the relay: this came from peer_id */
	RN_RELAY_REFUSED = 2, /* from the relay: no link to peer_id here */
	RN_RELAY_DIR_MAX = 2,
};

/* HELLO kind bits: why the sender wants this link. */
enum rn_hello_kind {
	RN_KIND_LEAF = 1,      /* joining through you; do not route via me */
	RN_KIND_NEAR = 2,      /* ring neighbour: exchange neighbour lists */
	RN_KIND_FAR = 4,       /* I keep you as a far link */
	RN_KIND_FAR_REPLY = 8, /* you asked for a far link: token is yours */
	RN_KIND_CTM_SENT = 16, /* HELLO_ACK to a bootstrap probe: I routed a
				* connect-to-me for you; keep no link */
	RN_KIND_ALL = 31,
};

enum rn_close_reason {
	RN_CLOSE_UNNEEDED = 1, /* I no longer need this link; do you? */
	RN_CLOSE_FINAL = 2,    /* closed by agreement */
	RN_CLOSE_KEEP = 3,     /* answer to UNNEEDED: I still need it */
	RN_CLOSE_LEAVING = 4,  /* I am leaving the ring */
	RN_CLOSE_REASON_MAX = 4,
};

enum rn_route_mode {
	RN_ROUTE_EXACT = 0,       /* deliver only at the node whose id is dst */
	RN_ROUTE_CLOSEST = 1,     /* deliver at the node closest to dst */
	RN_ROUTE_EXCLUDE_SRC = 2, /* with CLOSEST: the source does not count */
	RN_ROUTE_MODE_MAX = 3,
};

enum rn_body_type {
	RN_BODY_CTM = 1,
	RN_BODY_LOOKUP = 2,
	RN_BODY_LOOKUP_REPLY = 3,
	RN_BODY_TRACE = 4,       /* an overlay ping that records its path */
	RN_BODY_TRACE_REPLY = 5,
	RN_BODY_CTM_REPLY = 6,   /* a CTM's answer, for its relay (near.c) */
};

enum rn_ctm_purpose {
	RN_CTM_NEAR = 1,  /* join or repair: connect me to my ring neighbours */
	RN_CTM_FAR = 2,   /* a structured far link */
	RN_CTM_PUNCH = 3, /* my HELLOs to you go unanswered: send to me too */
};

typedef struct rn_peer_info {
	rn_id id;
	rn_ep ep;
} rn_peer_info;

typedef struct rn_msg {
	uint8_t type;
	union {
		struct {
			rn_id src;
			uint8_t kind;
			uint32_t token;
			rn_ep your_ep;
			uint32_t ts_ms;
			/* HELLO_ACK with CTM_SENT only: a node that answered
			 * the prober's connect-to-me (near.c) */
			uint8_t has_peer;
			rn_peer_info peer;
		} hello; /* HELLO and HELLO_ACK (ts is the echo in an ACK) */
		struct {
			uint32_t ts_ms;
		} ping; /* PING and PONG */
		struct {
			uint8_t reason;
		} close;
		struct {
			uint8_t n;
			rn_peer_info v[RN_NEIGHBORS_MAX];
		} neighbors; /* NEIGHBORS and FAR_HINTS */
		struct {
			uint32_t hop_seq;
			rn_id src, dst;
			uint8_t mode, hops, ttl;
			const uint8_t *body; /* points into the decoded input */
			size_t body_len;
		} routed;
		struct {
			uint32_t hop_seq;
		} hop_ack;
		struct {
			uint8_t dir;
			rn_id peer;
			const uint8_t *inner; /* points into the decoded input */
			size_t inner_len;
		} relay;
	} u;
} rn_msg;

typedef struct rn_body {
	uint8_t type;
	union {
		struct {
			uint8_t purpose;
			uint32_t token;
			uint8_t n_eps;
			rn_ep eps[RN_CTM_EPS_MAX];
			uint8_t has_relay;
			rn_id relay; /* the bootstrap that routed it */
		} ctm;
		struct {
			rn_id joiner;
			rn_ep ep; /* where the answering node (the source) is */
		} ctm_reply;
		struct {
			uint64_t qid;
			uint8_t hops; /* reply only: hops the request took */
		} lookup;
		struct {
			uint64_t qid;
			uint8_t n; /* path entries */
			/* who forwarded it, and the RTT of the link it took */
			rn_id id[RN_TRACE_HOPS_MAX];
			uint16_t rtt_ms[RN_TRACE_HOPS_MAX];
		} trace;
	} u;
} rn_body;

int rn_msg_encode(const rn_msg *m, uint8_t *buf, size_t cap, size_t *len);
int rn_msg_decode(msgpack_zone *zone, const uint8_t *buf, size_t len,
		  rn_msg *m);
int rn_body_encode(const rn_body *b, uint8_t *buf, size_t cap, size_t *len);
int rn_body_decode(msgpack_zone *zone, const uint8_t *buf, size_t len,
		   rn_body *b);
/* Rewrites the hop sequence of an encoded ROUTED message in place. */
int rn_msg_patch_hop_seq(uint8_t *buf, size_t len, uint32_t hop_seq);

#endif
