/* The group VPN of one member: IP packets between the TUN device and the
 * ring (docs/vpn.md).
 *
 * A packet from the TUN goes to the member that owns its destination
 * address. Every destination is one entry of a bounded table, keyed by
 * the member's virtual address (an IPv6 twin maps to its IPv4 address,
 * ip.h), with ring id H(group_id || vip):
 *
 *   TUN --> parse --> peer(dst) --direct link up?--> sealed by the link's
 *                        |                           session (sec.c), sent
 *                        +--e2e session up?--> sealed end to end, routed
 *                        |                     over the ring, no hop acks
 *                        +--unreachable (recently)?--> ICMP back into TUN
 *                        +--else: queued; E2E_INIT routed to the id and a
 *                               DHT get of member/VIP, whichever answers:
 *                               RESP -> session up, queue flushed;
 *                               no member record, or no RESP within
 *                               resolve_ms -> ICMP unreachable, for
 *                               unreach_ms
 *
 * Receiving, over a link or end to end, the inner source address must be
 * the sending member's (its certificate's address or its twin): anything
 * else is spoofed, dropped and counted. The destination must be ours;
 * multicast and broadcast only when the settings say so.
 *
 * A relayed packet has less room than a direct one (the ROUTED header and
 * the end-to-end seal): one larger than relay_ip_max gets "packet too big"
 * / "fragmentation needed" back (IPv4 without DF is fragmented instead).
 *
 * The VPN is the node's upper layer (overlay/node.h) stacked on the DHT:
 * it takes the E2E bodies and IP packets from links, and passes every other
 * routed body and each tick on to the layer below it. Sans-I/O: it writes
 * to the TUN through the node's environment (tun_write), and uses no clock,
 * socket or system randomness of its own.
 */
#ifndef RN_VPN_H
#define RN_VPN_H

#include <stddef.h>
#include <stdint.h>

#include "../dht/dht.h"
#include "../overlay/node.h"

/* Bytes that must be writable before and after a packet given to
 * rn_vpn_from_tun (it is sealed in place). */
#define RN_VPN_HEADROOM 64
#define RN_VPN_TAILROOM 64
/* The largest packet that crosses the ring end to end (docs/vpn.md
 * section 4 has the arithmetic): a routed data body on an IPv6 underlay
 * of 1500 bytes. */
#define RN_VPN_RELAY_IP_MAX 1320
/* DHT requests of the VPN carry this bit in their rid; the DHT's owner
 * passes their results to rn_vpn_on_dht_result. */
#define RN_VPN_RID_BIT (1ull << 63)

typedef struct rn_vpn_settings {
	uint32_t peers_max;      /* destinations tracked at once */
	uint32_t queue_max;      /* packets waiting, all destinations */
	uint32_t queue_peer_max; /* packets waiting for one destination */
	uint32_t resolve_ms;     /* first packet -> session, or unreachable */
	uint32_t hs_retry_ms;    /* E2E_INIT resent after this */
	uint32_t unreach_ms;     /* an unreachable answer is kept this long */
	uint32_t idle_ms;        /* a destination unused this long is dropped */
	uint32_t rekey_ms;       /* end-to-end keys renewed after this */
	uint32_t skew_ms;        /* clock difference tolerated in E2E_INIT */
	uint8_t prefix4_len;     /* the group's IPv4 prefix (for its
				  * broadcast address); 0: unknown */
	uint8_t multicast;       /* accept multicast and broadcast */
	uint8_t mss_clamp;       /* clamp TCP SYNs both ways to what fits
				  * the relayed path (docs/vpn.md sec. 4) */
	uint16_t shortcut_pkts;  /* a destination sent this many packets
				  * (halved each RN_VPN_HEAT_HALF_MS) gets a
				  * shortcut link; 0: never */
} rn_vpn_settings;

/* The heat of a destination halves after this long (rn_vpn_settings). */
#define RN_VPN_HEAT_HALF_MS 1000u

void rn_vpn_settings_default(rn_vpn_settings *s);

typedef struct rn_vpn_stats {
	uint64_t tun_rx;          /* packets from the TUN */
	uint64_t tx_direct;       /* sent over a direct link */
	uint64_t tx_relayed;      /* sent end to end over the ring */
	uint64_t tx_queued;       /* waited for a session */
	uint64_t rx_direct, rx_relayed; /* written to the TUN */
	uint64_t drop_bad;        /* from the TUN: not an IP packet */
	uint64_t drop_mcast;      /* multicast/broadcast (not carried) */
	uint64_t drop_self;       /* to our own address */
	uint64_t drop_queue_full; /* no room to wait */
	uint64_t drop_peers_full; /* no room for another destination */
	uint64_t drop_spoof;      /* inner source not the sender's */
	uint64_t drop_dst;        /* inner destination not ours */
	uint64_t drop_rx_bad;     /* from a member: not an IP packet */
	uint64_t drop_e2e;        /* end-to-end: unknown index, auth, replay */
	uint64_t drop_unreach;    /* answered with ICMP unreachable */
	uint64_t icmp_unreach, icmp_too_big; /* ICMP errors written */
	uint64_t fragmented;      /* IPv4 packets split for the ring */
	uint64_t hs_init_sent, hs_resp_sent, hs_up;
	uint64_t hs_refused;      /* INIT or RESP that failed a check */
	uint64_t resolve_sent, resolve_none;
	uint64_t mss_clamped;     /* TCP SYNs whose MSS was lowered */
	uint64_t keepalives;      /* empty E2E_DATA sent */
} rn_vpn_stats;

/* Every field of rn_vpn_stats, in order, for code that lists them. */
#define RN_VPN_STATS_FIELDS(X)                                                 \
	X(tun_rx) X(tx_direct) X(tx_relayed) X(tx_queued) X(rx_direct)         \
	X(rx_relayed) X(drop_bad) X(drop_mcast) X(drop_self)                   \
	X(drop_queue_full) X(drop_peers_full) X(drop_spoof) X(drop_dst)        \
	X(drop_rx_bad) X(drop_e2e) X(drop_unreach) X(icmp_unreach)             \
	X(icmp_too_big) X(fragmented) X(hs_init_sent) X(hs_resp_sent)          \
	X(hs_up) X(hs_refused) X(resolve_sent) X(resolve_none) X(mss_clamped) \
	X(keepalives)

typedef struct rn_vpn rn_vpn;

/* Stacks a VPN on node (whose upper layer, the DHT, it passes on to).
 * vip: this member's address (4 or 16 bytes), whose ring id the node
 * has; ident: its certificate and key; dht: for resolution (may be NULL:
 * no lookups, a handshake timeout alone finds unreachable members). s is
 * read live; keep it, ident and group_pk alive as long as the VPN. NULL
 * when out of memory. */
rn_vpn *rn_vpn_new(rn_node *node, rn_dht *dht, const rn_vpn_settings *s,
		   const uint8_t group_id[32], const uint8_t group_pk[32],
		   const rn_ident *ident, const uint8_t *vip, size_t vip_len);
/* Detaches (the layer below becomes the node's upper again) and frees. */
void rn_vpn_free(rn_vpn *v);

/* One IP packet the OS sent into the TUN. RN_VPN_HEADROOM bytes before pkt
 * and RN_VPN_TAILROOM after pkt + len must be writable. */
void rn_vpn_from_tun(rn_vpn *v, rn_time now, uint8_t *pkt, size_t len);
/* The result of a DHT request whose rid has RN_VPN_RID_BIT. */
void rn_vpn_on_dht_result(rn_vpn *v, rn_time now, const rn_dht_result *r);

/* This member's addresses: the certificate's and, for IPv4, its IPv6
 * twin (all zero for an IPv6 member). */
void rn_vpn_addrs(const rn_vpn *v, uint8_t vip[16], size_t *vip_len,
		  uint8_t twin6[16]);
const rn_vpn_stats *rn_vpn_get_stats(const rn_vpn *v);
/* Destinations tracked now, and of them with an end-to-end session. */
void rn_vpn_peer_counts(const rn_vpn *v, uint32_t *peers, uint32_t *e2e);

#endif
