/* Overlay settings: every limit and interval of a node, in one place.
 *
 * One rn_settings is shared by all nodes of a process (the simulator runs a
 * million nodes off one copy). rn_settings_default() gives the values the
 * simulator measurements chose; see docs/protocol.md for what each does and
 * bench/results for the measurements behind the defaults. Every table and queue of a node is bounded by a *_max here.
 */
#ifndef RN_SETTINGS_H
#define RN_SETTINGS_H

#include <stdint.h>

enum rn_far_kind {
	RN_FAR_FINGERS2 = 0, /* Chord fingers both ways: id +- 2^i */
	RN_FAR_FINGERS1 = 1, /* Chord fingers clockwise only: id + 2^i */
	RN_FAR_SYMPHONY = 2, /* Symphony harmonic links, clockwise */
	RN_FAR_NONE = 3,     /* near links only (for tests) */
};

enum rn_crypto {
	RN_CRYPTO_REAL = 0, /* authenticated handshake, sealed links (sec.h) */
	RN_CRYPTO_NONE = 1, /* simulation only: the overlay in the clear */
};

typedef struct rn_settings {
	uint32_t near_k;           /* successors and predecessors kept, each */
	uint32_t links_max;        /* all links of a node, any kind */
	uint32_t pending_links_max; /* half-open links (HELLO sent) */
	uint32_t endpoints_max;     /* interned peer endpoints per rn_shared */
	uint32_t far_kind;         /* enum rn_far_kind */
	uint32_t symphony_links;   /* 0: log2 of the estimated ring size */
	uint32_t bootstrap_max;    /* bootstrap endpoints remembered */

	uint32_t keepalive_near_ms; /* ping a near link idle this long */
	uint32_t keepalive_far_ms;  /* ping any other link idle this long */
	uint32_t ping_tries_max;    /* unanswered pings before a link is dead */
	uint32_t rto_min_ms, rto_max_ms; /* retransmission timeout clamp */
	uint32_t hello_rto_ms;      /* first HELLO retransmission, doubling */
	uint32_t hello_tries_max;
	uint32_t timer_slack_ms;    /* keepalive wake-ups are rounded up to this */
	uint32_t timer_slack_far_ms; /* the same for links that are not near */

	uint32_t near_announce_ms;  /* delay to coalesce neighbour-set changes */
	uint32_t stabilize_ms;      /* NEIGHBORS to successor and predecessor */
	uint32_t ring_check_ms;     /* connect-to-me to own id via a far link */
	uint32_t far_refresh_ms;    /* re-check far links */
	uint32_t far_start_ms;      /* after joining, before asking for far links */
	uint32_t join_retry_ms;
	uint32_t ctm_answers_max;   /* a bootstrap's answers for joiners */
	uint32_t trim_grace_ms;     /* unneeded links live at least this long */
	uint32_t lost_peers_max;    /* failed ring neighbours remembered */
	uint32_t lost_probe_ms;     /* first probe of one, doubling after */
	uint32_t lost_peer_keep_ms; /* forgotten after this long */
	uint32_t shortcuts_max;     /* shortcut links wished for (shortcut.c);
				     * 0: none */
	uint32_t shortcut_idle_ms;  /* a shortcut not wished for this long
				     * goes */
	uint32_t shortcut_ask_ms;   /* one CTM per shortcut per this long */
	uint32_t relays_max;        /* relay links (relay.c); 0: none */
	uint32_t relay_retry_ms;    /* a relay link tries the direct path
				     * again after this; 0: never */
	uint32_t relay_retry_max_ms; /* ... doubling after each failure, up
				      * to this */

	uint32_t hop_limit;         /* ttl of routed messages */
	uint32_t route_pending_max; /* forwarded messages awaiting a hop ack */
	uint32_t reroute_max;       /* next hops tried per message */

	uint32_t crypto;             /* enum rn_crypto */
	uint32_t sessions_max;       /* link sessions (> links_max) */
	uint32_t hs_pending_max;     /* our handshakes awaiting an answer */
	uint32_t hs_pending_ms;      /* how long one waits */
	uint32_t handshakes_per_s_max; /* INITs per second before cookies */
	uint32_t handshake_skew_ms;  /* INIT clock tolerance */
	uint32_t rekey_after_ms;     /* initiator rekeys; keys die at 1.5x */
	uint64_t rekey_after_msgs;   /* either side rekeys after sending this
				      * many datagrams on one key */

	int log_level;
} rn_settings;

void rn_settings_default(rn_settings *s);
/* 0, or RN_ERR_INVAL with *why naming the offending setting. */
int rn_settings_check(const rn_settings *s, const char **why);

#endif
