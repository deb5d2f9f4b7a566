/* TCP segmentation and coalescing for the TUN offloads (gso.h). */
#include "gso.h"

#include <string.h>

#include "../core/err.h"
#include "ip.h"

#define TCP_FIN 0x01u
#define TCP_SYN 0x02u
#define TCP_RST 0x04u
#define TCP_PSH 0x08u
#define TCP_ACK 0x10u
#define TCP_CWR 0x80u
#define GRO_SEGS_MAX 64u

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}

void rn_vnet_hdr_read(rn_vnet_hdr *h, const uint8_t b[RN_VNET_HDR_LEN])
{
	h->flags = b[0];
	h->gso_type = b[1];
	memcpy(&h->hdr_len, b + 2, 2);
	memcpy(&h->gso_size, b + 4, 2);
	memcpy(&h->csum_start, b + 6, 2);
	memcpy(&h->csum_offset, b + 8, 2);
}

void rn_vnet_hdr_write(const rn_vnet_hdr *h, uint8_t b[RN_VNET_HDR_LEN])
{
	b[0] = h->flags;
	b[1] = h->gso_type;
	memcpy(b + 2, &h->hdr_len, 2);
	memcpy(b + 4, &h->gso_size, 2);
	memcpy(b + 6, &h->csum_start, 2);
	memcpy(b + 8, &h->csum_offset, 2);
}

/* The ones' complement sum of buf, 32 bits at a time, not folded. */
static uint64_t sum_add(uint64_t s, const uint8_t *b, size_t n)
{
	while (n >= 4) {
		s += rd32(b);
		b += 4;
		n -= 4;
	}
	if (n >= 2) {
		s += rd16(b);
		b += 2;
		n -= 2;
	}
	if (n)
		s += (uint64_t)b[0] << 8;
	return s;
}

static uint16_t sum_fold(uint64_t s)
{
	while (s >> 16)
		s = (s & 0xffffu) + (s >> 16);
	return (uint16_t)s;
}

/* The TCP pseudo-header's sum for a segment of tcp_len bytes. */
static uint64_t pseudo(const uint8_t *ip, uint8_t version, size_t tcp_len)
{
	uint64_t s = 0;
	if (version == 4)
		s = sum_add(s, ip + 12, 8);
	else
		s = sum_add(s, ip + 8, 32);
	return s + RN_IPPROTO_TCP + tcp_len;
}

/* Header lengths of a plain TCP packet: IPv4 of any IHL (no fragment) or
 * IPv6 with TCP right after the fixed header. 0 or RN_ERR_PROTO. */
static int tcp_headers(const uint8_t *p, size_t len, uint8_t *version,
		       size_t *iphl, size_t *thl)
{
	if (len < 1)
		return RN_ERR_PROTO;
	*version = p[0] >> 4;
	if (*version == 4) {
		if (len < 20 || p[9] != RN_IPPROTO_TCP ||
		    (rd16(p + 6) & 0x3fffu) != 0)
			return RN_ERR_PROTO;
		*iphl = (p[0] & 0x0fu) * 4u;
	} else if (*version == 6) {
		if (len < 40 || p[6] != RN_IPPROTO_TCP)
			return RN_ERR_PROTO;
		*iphl = 40;
	} else {
		return RN_ERR_PROTO;
	}
	if (*iphl < 20 || len < *iphl + 20)
		return RN_ERR_PROTO;
	*thl = (p[*iphl + 12] >> 4) * 4u;
	if (*thl < 20 || len < *iphl + *thl)
		return RN_ERR_PROTO;
	return 0;
}

static void ip_lengths(uint8_t *p, uint8_t version, size_t iphl, size_t len)
{
	if (version == 4) {
		wr16(p + 2, (uint16_t)len);
		p[10] = p[11] = 0;
		wr16(p + 10, (uint16_t)~sum_fold(sum_add(0, p, iphl)));
	} else {
		wr16(p + 4, (uint16_t)(len - 40));
	}
}

int rn_gso_split(const rn_vnet_hdr *h, uint8_t *pkt, size_t len,
		 uint8_t *scratch,
		 void (*emit)(void *ctx, uint8_t *pkt, size_t len), void *ctx)
{
	uint8_t type = h->gso_type & (uint8_t)~RN_VNET_GSO_ECN;
	if (type == RN_VNET_GSO_NONE) {
		if (h->flags & RN_VNET_F_NEEDS_CSUM) {
			size_t at = (size_t)h->csum_start + h->csum_offset;
			if (h->csum_start > len || at + 2 > len)
				return RN_ERR_PROTO;
			/* the field holds the pseudo-header's sum */
			uint16_t c = sum_fold(sum_add(0, pkt + h->csum_start,
						      len - h->csum_start));
			wr16(pkt + at, (uint16_t)~c);
		}
		emit(ctx, pkt, len);
		return 0;
	}
	uint8_t version;
	size_t iphl, thl;
	if ((type != RN_VNET_GSO_TCPV4 && type != RN_VNET_GSO_TCPV6) ||
	    tcp_headers(pkt, len, &version, &iphl, &thl) ||
	    version != (type == RN_VNET_GSO_TCPV4 ? 4 : 6) || !h->gso_size)
		return RN_ERR_PROTO;
	size_t hl = iphl + thl, payload = len - hl, step = h->gso_size;
	if (hl + step > 1500)
		return RN_ERR_PROTO;
	uint8_t *seg = scratch + RN_GSO_ROOM;
	uint32_t seq0 = rd32(pkt + iphl + 4);
	uint16_t id0 = version == 4 ? rd16(pkt + 4) : 0;
	uint8_t flags0 = pkt[iphl + 13];
	for (size_t off = 0, i = 0; off < payload; off += step, i++) {
		size_t n = payload - off < step ? payload - off : step;
		int last = off + n >= payload;
		memcpy(seg, pkt, hl);
		memcpy(seg + hl, pkt + hl + off, n);
		if (version == 4)
			wr16(seg + 4, (uint16_t)(id0 + i));
		ip_lengths(seg, version, iphl, hl + n);
		uint8_t *t = seg + iphl;
		wr32(t + 4, seq0 + (uint32_t)off);
		uint8_t f = flags0;
		if (!last)
			f &= (uint8_t)~(TCP_FIN | TCP_PSH);
		if (i)
			f &= (uint8_t)~TCP_CWR;
		t[13] = f;
		t[16] = t[17] = 0;
		uint64_t s = pseudo(seg, version, thl + n);
		wr16(t + 16, (uint16_t)~sum_fold(sum_add(s, t, thl + n)));
		emit(ctx, seg, hl + n);
	}
	return 0;
}

/* ---- coalescing -------------------------------------------------------- */

void rn_gro_init(rn_gro *g)
{
	g->len = 0;
	g->n = 0;
	g->runs = g->merged = 0;
}

static void write_single(const uint8_t *pkt, size_t len, uint8_t *tmp,
			 rn_gro_write_fn write, void *ctx)
{
	rn_vnet_hdr h = {0};
	rn_vnet_hdr_write(&h, tmp);
	memcpy(tmp + RN_VNET_HDR_LEN, pkt, len);
	write(ctx, tmp, RN_VNET_HDR_LEN + len);
}

void rn_gro_flush(rn_gro *g, rn_gro_write_fn write, void *ctx)
{
	if (!g->len)
		return;
	uint8_t *p = g->buf + RN_VNET_HDR_LEN;
	rn_vnet_hdr h = {0};
	if (g->n > 1) {
		ip_lengths(p, g->version, g->iphl, g->len);
		uint8_t *t = p + g->iphl;
		wr16(t + 16, sum_fold(pseudo(p, g->version, g->len - g->iphl)));
		h.flags = RN_VNET_F_NEEDS_CSUM;
		h.gso_type = g->version == 4 ? RN_VNET_GSO_TCPV4
					     : RN_VNET_GSO_TCPV6;
		h.hdr_len = g->hl;
		h.gso_size = g->seg;
		h.csum_start = g->iphl;
		h.csum_offset = 16;
		g->merged += g->n;
	}
	rn_vnet_hdr_write(&h, g->buf);
	write(ctx, g->buf, RN_VNET_HDR_LEN + g->len);
	g->runs++;
	g->len = 0;
	g->n = 0;
}

/* Whether pkt (a TCP segment with headers hl) continues the run. */
static int continues(const rn_gro *g, const uint8_t *pkt, uint8_t version,
		     size_t iphl, size_t thl, size_t n)
{
	const uint8_t *r = g->buf + RN_VNET_HDR_LEN;
	if (!g->len || version != g->version || iphl != g->iphl ||
	    iphl + thl != g->hl || n > g->seg || g->n >= GRO_SEGS_MAX ||
	    g->len + n > RN_GSO_MAX)
		return 0;
	if (version == 4) {
		/* tos, ttl, protocol, addresses; the id may differ */
		if (r[1] != pkt[1] || r[8] != pkt[8] ||
		    memcmp(r + 12, pkt + 12, 8))
			return 0;
	} else if (memcmp(r, pkt, 4) || r[7] != pkt[7] ||
		   memcmp(r + 8, pkt + 8, 32)) {
		return 0;
	}
	const uint8_t *a = r + iphl, *b = pkt + iphl;
	return memcmp(a, b, 4) == 0 &&             /* ports */
	       rd32(b + 4) == g->next_seq &&       /* in order */
	       memcmp(a + 8, b + 8, 4) == 0 &&     /* ack */
	       memcmp(a + 14, b + 14, 2) == 0 &&   /* window */
	       memcmp(a + 20, b + 20, thl - 20) == 0; /* options */
}

void rn_gro_add(rn_gro *g, const uint8_t *pkt, size_t len,
		rn_gro_write_fn write, void *ctx)
{
	uint8_t version;
	size_t iphl, thl;
	uint8_t tmp[RN_VNET_HDR_LEN + 1500];
	int plain = tcp_headers(pkt, len, &version, &iphl, &thl) != 0 ||
		    (version == 4 && iphl != 20) || len > 1500;
	size_t n = plain ? 0 : len - iphl - thl;
	uint8_t flags = plain ? 0 : pkt[iphl + 13];
	if (plain || n == 0 ||
	    (flags & (uint8_t)~(TCP_ACK | TCP_PSH)) != 0 || !(flags & TCP_ACK)) {
		rn_gro_flush(g, write, ctx);
		if (len <= 1500)
			write_single(pkt, len, tmp, write, ctx);
		return;
	}
	if (continues(g, pkt, version, iphl, thl, n)) {
		memcpy(g->buf + RN_VNET_HDR_LEN + g->len, pkt + iphl + thl, n);
		g->len += n;
		g->n++;
		g->next_seq += (uint32_t)n;
		if (flags & TCP_PSH)
			g->buf[RN_VNET_HDR_LEN + iphl + 13] |= TCP_PSH;
		if ((flags & TCP_PSH) || n < g->seg)
			rn_gro_flush(g, write, ctx);
		return;
	}
	rn_gro_flush(g, write, ctx);
	memcpy(g->buf + RN_VNET_HDR_LEN, pkt, len);
	g->len = len;
	g->version = version;
	g->iphl = (uint16_t)iphl;
	g->hl = (uint16_t)(iphl + thl);
	g->seg = (uint16_t)n;
	g->n = 1;
	g->next_seq = rd32(pkt + iphl + 4) + (uint32_t)n;
	if (flags & TCP_PSH)
		rn_gro_flush(g, write, ctx);
}
