/* A ringnet overlay node: the sans-I/O state machine of one ring member.
 *
 * Driven only through the inputs below, each carrying the current time, and
 * speaking only through the rn_env it was created with (DESIGN.md section 1).
 * Many nodes may share one rn_shared (settings, environment, decode zone and
 * send buffer) as long as they are driven from one thread.
 *
 *   rn_node_new -> rn_node_join(bootstraps) -> JOINING -> JOINED
 *        ^ recv / on_timeout / lookup ...            |
 *        +-------------- rn_node_leave --> LEFT <----+
 *
 * The node reports what an application may care about through env->event.
 */
#ifndef RN_NODE_H
#define RN_NODE_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/env.h"
#include "../core/eptab.h"
#include "../core/id.h"
#include "msg.h"
#include "sec.h"
#include "settings.h"

typedef struct rn_node rn_node;

/* What many nodes of one process share. Fill with rn_shared_init. */
typedef struct rn_shared {
	const rn_settings *settings;
	const rn_env *env;
	msgpack_zone zone; /* scratch for decoding one message at a time */
	rn_eptab eps;      /* the peers' endpoints, interned (link.h) */
	/* The group (crypto real): its public key, the trust anchor of every
	 * certificate; and unix time in ms = now / 1000 + unix_offset_ms. */
	uint8_t group_pk[RN_SIGN_PK_LEN];
	int64_t unix_offset_ms;
} rn_shared;

int rn_shared_init(rn_shared *sh, const rn_settings *s, const rn_env *env);
void rn_shared_deinit(rn_shared *sh);

enum rn_node_state {
	RN_NODE_IDLE = 0,
	RN_NODE_JOINING = 1,
	RN_NODE_JOINED = 2,
	RN_NODE_LEFT = 3,
};

enum rn_event_type {
	RN_EV_JOINED = 1,           /* the node has ring neighbours */
	RN_EV_LOOKUP_DELIVERED = 2, /* a LOOKUP arrived here (we own dst) */
	RN_EV_LOOKUP_DONE = 3,      /* our LOOKUP was answered */
	RN_EV_LINK_UP = 4,
	RN_EV_LINK_DOWN = 5,
	RN_EV_TRACE_DONE = 6,       /* our TRACE came back with its path */
};

typedef struct rn_event {
	int type;
	rn_node *node;
	uint64_t qid;   /* lookups */
	rn_id peer;     /* lookups: the other end; links: the peer */
	uint8_t hops;   /* lookups: hops of the request */
	uint8_t hops_back; /* LOOKUP_DONE, TRACE_DONE: hops of the reply */
	/* TRACE_DONE: the request's path, valid during the callback: who
	 * forwarded it and the RTT of the link it took; the last entry is
	 * the destination (RTT 0). path_len is the request's hop count + 1
	 * unless the path outgrew RN_TRACE_HOPS_MAX. */
	uint8_t path_len;
	const rn_id *path_id;
	const uint16_t *path_rtt_ms;
} rn_event;

/* Per-node counters. Bytes are UDP payload bytes. */
typedef struct rn_node_stats {
	uint64_t tx_pkts, tx_bytes, rx_pkts, rx_bytes;
	uint64_t tx_maint_pkts, tx_maint_bytes; /* all but application data */
	uint32_t drop_decode;      /* bytes that did not decode */
	uint32_t drop_unknown;     /* from an endpoint with no link */
	uint32_t drop_ttl;         /* hop limit reached */
	uint32_t drop_noroute;     /* exact destination not here, no better hop */
	uint32_t drop_full;        /* a bounded table was full */
	uint32_t links_dead;       /* links declared dead by keepalive */
	uint32_t links_failed;     /* links that never completed HELLO */
	uint32_t reroutes;         /* hop ack timeouts that tried another hop */
	uint32_t route_lost;       /* routed messages given up on */
	uint32_t boot_answers;     /* bootstraps that routed our join CTM */
	uint32_t boot_peers;       /* ... and passed on a node that answered it */
	uint32_t punches;          /* CTM PUNCH sent: a HELLO went unanswered */
	uint32_t ctm_replies;      /* CTM_REPLY sent to a joiner's bootstrap */
	uint32_t shortcuts_asked;  /* CTMs sent for a shortcut link */
	uint32_t drop_shortcuts;   /* shortcut wishes refused: table full */
	uint32_t drop_answers;     /* a bootstrap's CTM answers overwritten
				    * before the joiner's next probe */
	uint32_t relay_links;      /* links moved to a relay: no direct path */
	uint32_t relay_fwd;        /* RELAY datagrams forwarded for others */
	uint32_t relay_drop;       /* RELAY datagrams dropped: no link, table
				    * full, too big, refused by the relay */
	uint32_t relay_direct_tries; /* relay links' tries of the direct path
				      * again (ours, or answering the peer's) */
	uint32_t relay_direct_ok;  /* relay links that moved back to a
				    * direct path */
} rn_node_stats;

/* One link as seen by status queries. */
typedef struct rn_link_info {
	rn_id id;
	rn_ep ep;
	uint8_t up, near, far_out, peer_wants, leaf;
	uint8_t shortcut; /* far_out for a flow of the layer above */
	uint16_t rtt_ms;
	uint32_t age_ms;   /* since the link came up (or was opened) */
	/* from the peer's certificate (crypto real, session up) */
	uint8_t vip[16], vip_len;
	char name[RN_CERT_NAME_MAX + 1];
	/* A relay link's bytes, counted by the node: its datagrams before
	 * they go into RELAY, and after they come out, since the link moved
	 * to the relay. No driver sees a virtual endpoint; a direct link's
	 * bytes are the driver's to count (0 here). */
	uint64_t relay_tx_bytes, relay_rx_bytes;
} rn_link_info;

/* vip: the node's virtual address bytes (4 for IPv4, 16 for IPv6), or
 * the 32-byte node key of a range member not bound to an address yet
 * (core/cert.h: the ring id is hashed from either the same way);
 * own_ep: how the node believes it can be reached (may be all zero). */
rn_node *rn_node_new(rn_shared *sh, void *env_ctx, const uint8_t group_id[32],
		     const uint8_t *vip, size_t vip_len, const rn_ep *own_ep,
		     rn_time now);
void rn_node_free(rn_node *n);
/* A cache hint for a driver that knows which node it will run next (the
 * simulator, whose nodes far outgrow the caches): stage 0 starts fetching
 * the node itself, stage 1 its link table, which is worth asking for only
 * once the node is in the cache (an event later). No effect on behaviour. */
void rn_node_prefetch(const rn_node *n, int stage);
/* Crypto real: the node's certificate and key, required before join; the
 * certificate must be for this node's ring id (RN_ERR_INVAL otherwise).
 * Held by reference: keep it alive as long as the node. */
int rn_node_set_ident(rn_node *n, const rn_ident *id);

/* Starts joining through any live subset of the bootstrap endpoints. With
 * none, the node forms a ring of one. */
int rn_node_join(rn_node *n, rn_time now, const rn_ep *boot, size_t n_boot);
/* Graceful leave: tells every linked peer, then stops. */
void rn_node_leave(rn_node *n, rn_time now);

void rn_node_recv(rn_node *n, rn_time now, const rn_ep *from,
		  const uint8_t *buf, size_t len);
void rn_node_on_timeout(rn_node *n, rn_time now);

/* The layer above has a heavy flow to peer (overlay/shortcut.c): make a
 * direct link to it if there is none, and keep it while this is called at
 * least once per shortcut_idle_ms. 0, RN_ERR_FULL (shortcuts_max wishes
 * already: counted in drop_shortcuts), RN_ERR_STATE (not joined, or
 * shortcuts off), RN_ERR_NOMEM. */
int rn_node_shortcut(rn_node *n, rn_time now, const rn_id *peer);

/* Sends a LOOKUP for dst (exact: only the node with that id answers);
 * the result comes back as RN_EV_LOOKUP_DONE with the same qid. */
int rn_node_lookup(rn_node *n, rn_time now, const rn_id *dst, uint64_t qid);
/* An overlay ping to dst that records its path (`ringnet ping`); the result
 * comes back as RN_EV_TRACE_DONE with the same qid. */
int rn_node_trace(rn_node *n, rn_time now, const rn_id *dst, uint64_t qid);

/* The layer above the ring (the DHT, dht/dht.h), attached to one node.
 * Routed bodies whose type is RN_BODY_UPPER_MIN or more are not the
 * overlay's: where one is delivered, the node hands it to on_routed. tick
 * runs inside every rn_node_on_timeout, near_changed set when the node's
 * near set changed since the last tick; it returns the next time (ms on the
 * node's clock, rn_node_now_ms) it wants to run. Callbacks may send through
 * rn_node_route_body and ask for an earlier tick with rn_node_upper_wake. */
typedef struct rn_upper {
	void *ctx;
	void (*on_routed)(void *ctx, rn_time now, const rn_id *src,
			  const uint8_t *body, size_t len, uint8_t hops);
	uint32_t (*tick)(void *ctx, rn_time now, uint32_t now_ms,
			 int near_changed);
	/* An IP packet that came over a direct link (rn_node_send_ip), from
	 * the peer with ring id `peer`, whose certificate the link's session
	 * checked: peer_vip is the virtual address that ring id was checked
	 * against. May be NULL (packets are then dropped and counted). */
	void (*on_ip)(void *ctx, rn_time now, const rn_id *peer,
		      const uint8_t *peer_vip, size_t peer_vip_len,
		      const uint8_t *pkt, size_t len);
} rn_upper;
#define RN_BODY_UPPER_MIN 16
void rn_node_set_upper(rn_node *n, const rn_upper *u); /* NULL detaches */
/* The upper layer attached now, or NULL: a layer that stacks on another
 * (the VPN on the DHT) passes on what is not its own. */
const rn_upper *rn_node_get_upper(const rn_node *n);

/* IP packets between members (tunnel/). RN_IP_HEADROOM bytes before pkt
 * and RN_IP_TAILROOM after pkt + len must be writable: the packet is
 * sealed in place, with no copy. */
#define RN_IP_HEADROOM 13 /* the DATA header (docs/security.md) */
#define RN_IP_TAILROOM 16 /* the AEAD tag */
#define RN_IP_MAX (RN_PLAIN_MAX) /* the largest IP packet on a link */
/* ... on a relay link (overlay/relay.c), whose datagrams carry 58 bytes
 * more: so that they stay within RN_WIRE_MAX */
#define RN_RELAY_IP_MAX (RN_PLAIN_MAX - 2 * 29)
/* Sends an IP packet over the direct link to the node with id dst, sealed
 * with that link's session (crypto real only). 0, RN_ERR_NOROUTE when there
 * is no such link with a live session, RN_ERR_TOOBIG, RN_ERR_STATE. */
int rn_node_send_ip(rn_node *n, rn_time now, const rn_id *dst, uint8_t *pkt,
		    size_t len);
/* Writes an IP packet into the local TUN device (env->tun_write). */
void rn_node_tun_write(rn_node *n, const uint8_t *pkt, size_t len);
/* Routes a data body (up to RN_BODY_DATA_MAX bytes) to the node with id
 * dst exactly, without hop acknowledgements or retransmission (the
 * traffic inside, TCP say, recovers its own losses). */
int rn_node_route_data(rn_node *n, rn_time now, const rn_id *dst,
		       const uint8_t *body, size_t len);
/* Routes body to dst: exactly (only the node with that id takes it) or to
 * the node closest to dst. 0, or an error (RN_ERR_TOOBIG, ...). */
int rn_node_route_body(rn_node *n, rn_time now, const rn_id *dst,
		       int closest, const uint8_t *body, size_t len);
/* Unpredictable bytes from the environment (env->random), for the upper
 * layer's request tokens. */
void rn_node_random(rn_node *n, void *buf, size_t len);
/* The node's clock in ms, as the upper layer's tick sees it. */
uint32_t rn_node_now_ms(const rn_node *n, rn_time now);
/* Unix time in ms at now (rn_shared's unix_offset_ms): for certificates
 * and DHT leases. */
uint64_t rn_node_unix_ms(const rn_node *n, rn_time now);
/* Run the upper layer's tick at t_ms (or earlier if it is due anyway). */
void rn_node_upper_wake(rn_node *n, rn_time now, uint32_t t_ms);
/* The ids of the near set (ring neighbours), at most max; returns how
 * many. A node that has not joined has none. */
uint32_t rn_node_near_ids(const rn_node *n, rn_id *out, uint32_t max);

const rn_id *rn_node_id(const rn_node *n);
/* How the node believes it is reached: given at creation, else as its
 * first peer saw it (HELLO_ACK your_ep); NULL while unknown. */
const rn_ep *rn_node_own_ep(const rn_node *n);
/* The endpoint the node tells peers to reach it at (in its connect-to-me
 * messages), e.g. a port mapping of its home gateway: it replaces the
 * reflexive one learnt from the first HELLO. NULL (or zero) forgets it:
 * the next HELLO_ACK's reflexive endpoint is taken again. */
void rn_node_set_own_ep(rn_node *n, const rn_ep *ep);
int rn_node_state(const rn_node *n);
const rn_node_stats *rn_node_get_stats(const rn_node *n);
/* The current successor / predecessor, or NULL if the node has none. */
const rn_id *rn_node_succ(const rn_node *n, rn_id *buf);
const rn_id *rn_node_pred(const rn_node *n, rn_id *buf);
size_t rn_node_link_count(const rn_node *n);
/* Fills up to max entries; returns the number of links. */
size_t rn_node_links(const rn_node *n, rn_link_info *out, size_t max);
/* The security layer's counters (all zero with crypto none). */
const rn_sec_stats *rn_node_sec_stats(const rn_node *n);
/* Bytes of heap this node holds (for memory accounting). */
size_t rn_node_mem_bytes(const rn_node *n);

#endif
