/* TCP segmentation and coalescing for the TUN device's offloads
 * (docs/vpn.md section 5).
 *
 * Per-packet system calls, not the cipher, set the pace of a userspace
 * VPN. With offloads the kernel hands the daemon one TCP "super-packet" of
 * up to 64 KiB per read (TSO) and takes one per write (GRO), each with a
 * virtio_net_hdr in front; the wire still carries ordinary datagrams, each
 * sealed on its own, so a lost datagram costs one segment, as without
 * offloads:
 *
 *   TUN read: [vnet hdr][IP|TCP|64 KiB] --rn_gso_split--> segments of
 *             gso_size, each with its own headers and checksums --> VPN
 *   VPN --> segments of one flow, in order --rn_gro_add--> one super-packet
 *             [vnet hdr: GSO TCPv4/v6, NEEDS_CSUM][IP|TCP|n x segment]
 *             --> TUN write (rn_gro_flush, or when the flow breaks)
 *
 * Coalescing follows the kernel's own GRO rules: same addresses and ports,
 * the next sequence number, the same ACK, window and TCP options, no
 * flags but ACK (PSH closes a run), equal segment sizes (a shorter one
 * closes it), no IPv4 options or fragments, no IPv6 extension headers.
 * Anything else is written as it is.
 *
 * Pure packet work: no I/O; the caller owns the buffers. The virtio_net_hdr
 * is in host byte order (legacy TUN).
 */
#ifndef RN_GSO_H
#define RN_GSO_H

#include <stddef.h>
#include <stdint.h>

#define RN_VNET_HDR_LEN 10
#define RN_GSO_MAX 65535 /* largest super-packet, IP header included */

enum {
	RN_VNET_F_NEEDS_CSUM = 1,
	RN_VNET_F_DATA_VALID = 2,
	RN_VNET_GSO_NONE = 0,
	RN_VNET_GSO_TCPV4 = 1,
	RN_VNET_GSO_TCPV6 = 4,
	RN_VNET_GSO_ECN = 0x80,
};

typedef struct rn_vnet_hdr {
	uint8_t flags, gso_type;
	uint16_t hdr_len, gso_size, csum_start, csum_offset;
} rn_vnet_hdr;

void rn_vnet_hdr_read(rn_vnet_hdr *h, const uint8_t b[RN_VNET_HDR_LEN]);
void rn_vnet_hdr_write(const rn_vnet_hdr *h, uint8_t b[RN_VNET_HDR_LEN]);

/* One packet read from the TUN (after its vnet header h): finishes a
 * partial checksum, or splits a TSO super-packet into segments, and calls
 * emit for each with the packet in place (NONE) or a segment in scratch,
 * which needs RN_GSO_SCRATCH bytes; emit may write up to `room` bytes
 * before and after what it is given. 0, or RN_ERR_PROTO (dropped: a GSO
 * type or header the code does not handle). */
#define RN_GSO_ROOM 64
#define RN_GSO_SCRATCH (RN_GSO_ROOM + 1500 + RN_GSO_ROOM)
int rn_gso_split(const rn_vnet_hdr *h, uint8_t *pkt, size_t len,
		 uint8_t *scratch,
		 void (*emit)(void *ctx, uint8_t *pkt, size_t len), void *ctx);

/* The coalescer: one run of one flow at a time. */
typedef struct rn_gro {
	uint8_t buf[RN_VNET_HDR_LEN + RN_GSO_MAX];
	size_t len;        /* bytes in buf after the vnet header; 0: empty */
	uint8_t version;   /* 4 or 6 */
	uint16_t hl;       /* IP + TCP header bytes */
	uint16_t iphl;     /* IP header bytes */
	uint16_t seg;      /* payload bytes of the first segment */
	uint32_t next_seq; /* the sequence number that continues the run */
	uint32_t n;        /* segments in the run */
	uint64_t runs, merged; /* counters: super-packets written, segments */
} rn_gro;

typedef void (*rn_gro_write_fn)(void *ctx, const uint8_t *buf, size_t len);

void rn_gro_init(rn_gro *g);
/* One packet for the TUN: joins the run or, when it cannot, the run is
 * written first (write gets vnet header + packet) and the packet starts a
 * new run or is written on its own. */
void rn_gro_add(rn_gro *g, const uint8_t *pkt, size_t len,
		rn_gro_write_fn write, void *ctx);
/* Writes the run (end of a receive batch). */
void rn_gro_flush(rn_gro *g, rn_gro_write_fn write, void *ctx);

#endif
