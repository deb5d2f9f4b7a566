/* IP packets inside the tunnel: the few header fields the VPN looks at,
 * the ICMP errors it writes back into the TUN, IPv4 fragmentation, and the
 * group's IPv6 twin addresses.
 *
 * Parsing is a view: rn_ip_parse reads the header of a packet in place
 * (IPv4 or IPv6, bounds-checked, never asserting) into an rn_ip, which
 * points back into the packet. The VPN needs the version, the two
 * addresses, the payload protocol, DF and whether the packet is an ICMP
 * error or a later fragment (never answered with ICMP).
 *
 * A member with an IPv4 virtual address also has an IPv6 one, its twin
 * in the group's unique local /64 (RFC 4193):
 *
 *     fd gg:gggg:gggg : 0000 : 0000:0000 : a.b.c.d
 *        40 bits of group_id, subnet 0, interface id ::a.b.c.d
 *
 * so both map to one member and one ring id, H(group_id || a.b.c.d), with
 * no lookup. A member whose certificate holds an IPv6 address has only
 * that one.
 */
#ifndef RN_IP_H
#define RN_IP_H

#include <stddef.h>
#include <stdint.h>

#define RN_IP4_HDR_MIN 20
#define RN_IP6_HDR_LEN 40
#define RN_IP_ICMP_QUOTE_MAX 548 /* bytes of the offending packet quoted */
/* Largest ICMP error rn_ip_icmp_* writes: IPv6 header, ICMPv6 header and
 * the quote. */
#define RN_IP_ICMP_MAX (RN_IP6_HDR_LEN + 8 + RN_IP_ICMP_QUOTE_MAX)

enum { RN_IPPROTO_ICMP = 1, RN_IPPROTO_TCP = 6, RN_IPPROTO_UDP = 17,
       RN_IPPROTO_ICMP6 = 58 };

typedef struct rn_ip {
	uint8_t version;        /* 4 or 6 */
	uint8_t addr_len;       /* 4 or 16 */
	const uint8_t *src, *dst; /* into the packet */
	uint8_t proto;          /* IPv4 protocol; IPv6 next header */
	uint8_t df;             /* IPv4 don't-fragment; 1 for IPv6 */
	uint8_t later_frag;     /* an IPv4 fragment other than the first */
	uint8_t icmp_error;     /* an ICMP/ICMPv6 error message */
	uint16_t hdr_len;       /* IPv4 header length; 40 for IPv6 */
	uint16_t total_len;     /* from the header; <= the bytes given */
} rn_ip;

/* Reads the header of pkt[0..len). 0, or RN_ERR_TRUNC / RN_ERR_PROTO
 * (not IPv4 or IPv6, lengths that do not add up, bad IPv4 checksum). */
int rn_ip_parse(const uint8_t *pkt, size_t len, rn_ip *ip);

/* Whether addr (4 or 16 bytes) is multicast or the IPv4 limited
 * broadcast; `bcast4` (may be NULL) is the group prefix's broadcast. */
int rn_ip_is_multicast(const uint8_t *addr, size_t len, const uint8_t *bcast4);

/* The IPv6 twin of an IPv4 virtual address (comment above). */
void rn_ip_twin6(uint8_t out[16], const uint8_t group_id[32],
		 const uint8_t vip4[4]);
/* If a6 is the twin of some IPv4 address of the group, that address into
 * out4 and 1; else 0. */
int rn_ip_twin4(uint8_t out4[4], const uint8_t group_id[32],
		const uint8_t a6[16]);

/* ICMP errors about `pkt` (whose header is ip), written into out (at least
 * RN_IP_ICMP_MAX bytes) with src as their source and the packet's source
 * as destination; returns the length, or 0 when none may be sent (the
 * packet is itself an ICMP error, a later fragment, or from a multicast or
 * unspecified source).
 *   unreach: IPv4 "host unreachable" (3/1), IPv6 "address unreachable"
 *            (1/3);
 *   too_big: IPv4 "fragmentation needed" (3/4) or IPv6 "packet too big"
 *            (2/0), carrying mtu. */
size_t rn_ip_icmp_unreach(uint8_t *out, const uint8_t *pkt, const rn_ip *ip,
			  const uint8_t *src);
size_t rn_ip_icmp_too_big(uint8_t *out, const uint8_t *pkt, const rn_ip *ip,
			  const uint8_t *src, uint32_t mtu);

/* Splits an IPv4 packet without DF into fragments of at most mtu bytes
 * and calls emit for each (the fragment is in a scratch buffer valid
 * during the call). 0, or RN_ERR_INVAL (DF set, or mtu too small). */
int rn_ip4_fragment(const uint8_t *pkt, const rn_ip *ip, size_t mtu,
		    void (*emit)(void *ctx, uint8_t *frag, size_t len),
		    void *ctx);

/* TCP MSS clamping: if pkt (header ip) is a TCP SYN whose MSS option is
 * above mss_max, lowers it and fixes the checksum (RFC 1624). 1 when it
 * changed the packet, else 0. */
int rn_ip_clamp_mss(uint8_t *pkt, const rn_ip *ip, uint16_t mss_max);

/* The Internet checksum (RFC 1071) of buf, folded, not complemented, added
 * to sum. */
uint32_t rn_ip_csum_add(uint32_t sum, const uint8_t *buf, size_t len);
uint16_t rn_ip_csum_fold(uint32_t sum);

#endif
