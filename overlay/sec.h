/* The link security layer: handshakes, sessions and sealed datagrams
 * (docs/security.md).
 *
 * It sits between the overlay's messages and the wire, at the two places
 * every datagram passes: rn_node_send_raw() hands each encoded overlay
 * message to rn_sec_send(), and rn_node_recv() hands each datagram to
 * rn_sec_recv(), which gives the overlay only what it authenticated:
 *
 *   overlay HELLO      --(no session with that endpoint)-->  INIT
 *   overlay HELLO_ACK  --(answering the INIT being handled)-> RESP
 *   any other message, or HELLO/HELLO_ACK on a session    -> DATA (sealed)
 *
 * An INIT is checked in full (rate/cookie, certificate, ring id, signature,
 * freshness) before the overlay sees its HELLO, so a refused peer leaves
 * nothing behind; the responder makes its session while the overlay answers
 * (the HELLO_ACK it sends), and only if the overlay kept a link. The
 * initiator makes its session from the RESP. With settings crypto
 * RN_CRYPTO_NONE (simulation only) the layer is bypassed and the overlay's
 * messages travel in the clear.
 *
 * Bounded state: sessions_max sessions, hs_pending_max handshakes in
 * flight, a replay cache of RN_SEC_SEEN_MAX INIT signatures. All counters
 * are in rn_node_stats (hs_*, data_*).
 */
#ifndef RN_SEC_H
#define RN_SEC_H

#include <stddef.h>
#include <stdint.h>

#include "../core/cert.h"
#include "../core/env.h"

typedef struct rn_node rn_node;
typedef struct rn_sec rn_sec;

/* A node's identity: its member certificate and the key it certifies.
 * The caller owns it and keeps it alive as long as the node. */
typedef struct rn_ident {
	uint8_t node_sk[RN_SIGN_SK_LEN];
	uint8_t cert[RN_CERT_ENCODED_MAX];
	size_t cert_len;
	rn_cert parsed; /* the same certificate, decoded */
} rn_ident;

/* Fills an identity from an encoded certificate and the node's secret key;
 * RN_ERR_INVAL if the certificate does not decode or is not for that key. */
int rn_ident_init(rn_ident *id, const uint8_t node_sk[RN_SIGN_SK_LEN],
		  const uint8_t *cert, size_t cert_len);

/* Counters of the security layer, per node. */
typedef struct rn_sec_stats {
	uint32_t hs_init_sent, hs_resp_sent; /* handshake messages sent */
	uint32_t hs_init_ok, hs_resp_ok;     /* accepted */
	uint32_t hs_cookie_sent;  /* INITs answered with a cookie (under load) */
	uint32_t hs_bad_cert;     /* certificate does not decode */
	uint32_t hs_other_group;  /* certificate of another group */
	uint32_t hs_expired;      /* certificate expired or not valid yet */
	uint32_t hs_bad_sig;      /* certificate or handshake signature bad */
	uint32_t hs_wrong_id;     /* certificate not for the id claimed, or
				   * the message was meant for another node */
	uint32_t hs_stale;        /* INIT replayed or outside the clock skew */
	uint32_t hs_unexpected;   /* RESP or COOKIE we did not ask for */
	uint32_t hs_rekeys;       /* rekey handshakes started */
	uint32_t hs_expired_sess; /* sessions dropped: rekey never completed */
	uint32_t data_ok;         /* DATA authenticated and handed on */
	uint32_t data_unknown;    /* DATA for no session (or from elsewhere) */
	uint32_t data_replay;     /* DATA replayed or too old */
	uint32_t data_auth_fail;  /* DATA that failed authentication */
	uint32_t tx_nosess;       /* messages to a peer without a session */
} rn_sec_stats;

/* Every field of rn_sec_stats, in order, for code that lists them (JSON
 * in ringnetd and ringsim): X(name) each. */
#define RN_SEC_STATS_FIELDS(X)                                                 \
	X(hs_init_sent) X(hs_resp_sent) X(hs_init_ok) X(hs_resp_ok)            \
	X(hs_cookie_sent) X(hs_bad_cert) X(hs_other_group) X(hs_expired)       \
	X(hs_bad_sig) X(hs_wrong_id) X(hs_stale) X(hs_unexpected)              \
	X(hs_rekeys) X(hs_expired_sess) X(data_ok) X(data_unknown)             \
	X(data_replay) X(data_auth_fail) X(tx_nosess)
#define RN_SEC_STATS_COUNT_(f) +1
_Static_assert(sizeof(rn_sec_stats) ==
		       (0 RN_SEC_STATS_FIELDS(RN_SEC_STATS_COUNT_)) * sizeof(uint32_t),
	       "RN_SEC_STATS_FIELDS must list every field of rn_sec_stats");

/* How a datagram reached the overlay (rn_node_dispatch). */
enum rn_via {
	RN_VIA_PLAIN = 0, /* crypto none: anything */
	RN_VIA_INIT = 1,  /* a HELLO, from a verified INIT */
	RN_VIA_RESP = 2,  /* a HELLO_ACK, from a verified RESP */
	RN_VIA_DATA = 3,  /* anything, from an authenticated session */
};

rn_sec *rn_sec_new(rn_node *n);
void rn_sec_free(rn_sec *s);
/* Sends one encoded overlay message to `to` (see the table above). */
/* Seals an IP packet in place for the session with `to` and sends it
 * (node.h rn_node_send_ip: headroom and tailroom around pkt). 0, or
 * RN_ERR_NOROUTE when there is no live session with `to`, RN_ERR_REKEY
 * when its key is used up. */
int rn_sec_send_ip(rn_node *n, const rn_ep *to, uint8_t *pkt, size_t len);
void rn_sec_send(rn_node *n, rn_time now, const rn_ep *to, const uint8_t *msg,
		 size_t len, int maint);
/* Handles one datagram; calls rn_node_dispatch for what it accepts. */
void rn_sec_recv(rn_node *n, rn_time now, const rn_ep *from,
		 const uint8_t *buf, size_t len);
/* The link to ep is gone: forget its session and handshake. */
void rn_sec_forget(rn_node *n, const rn_ep *ep);
/* The link at ep (a relay link's virtual endpoint) moved to another
 * endpoint: forgotten as above, but IP packets still in flight on the
 * old path are handed on for as long as the orphan lives. */
void rn_sec_moved(rn_node *n, const rn_ep *ep);
/* Rekeys, expiries, cookie secret rotation; returns the next deadline in
 * node milliseconds. */
uint32_t rn_sec_tick(rn_node *n, rn_time now, uint32_t now_ms);
/* The peer's certificate of the session with ep, or NULL. */
const rn_cert *rn_sec_peer_cert(const rn_node *n, const rn_ep *ep);
size_t rn_sec_mem_bytes(const rn_sec *s);
/* A zeroed struct for NULL. */
const rn_sec_stats *rn_sec_get_stats(const rn_sec *s);

#endif
