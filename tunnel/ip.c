/* IP header views, ICMP errors, IPv4 fragmentation, twin addresses
 * (ip.h). Every read is checked against the bytes given; nothing here
 * asserts on a packet. */
#include "ip.h"

#include <string.h>

#include "../core/err.h"

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

uint32_t rn_ip_csum_add(uint32_t sum, const uint8_t *buf, size_t len)
{
	size_t i = 0;
	for (; i + 1 < len; i += 2)
		sum += rd16(buf + i);
	if (i < len)
		sum += (uint32_t)buf[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffffu) + (sum >> 16);
	return sum;
}

uint16_t rn_ip_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffffu) + (sum >> 16);
	return (uint16_t)~sum;
}

static int is_icmp4_error(uint8_t type)
{
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

static int parse4(const uint8_t *p, size_t len, rn_ip *ip)
{
	unsigned ihl = (p[0] & 0x0fu) * 4u;
	if (ihl < RN_IP4_HDR_MIN)
		return RN_ERR_PROTO;
	if (len < ihl)
		return RN_ERR_TRUNC;
	unsigned total = rd16(p + 2);
	if (total < ihl || total > len)
		return RN_ERR_PROTO;
	if (rn_ip_csum_fold(rn_ip_csum_add(0, p, ihl)) != 0)
		return RN_ERR_PROTO;
	unsigned frag = rd16(p + 6);
	ip->version = 4;
	ip->addr_len = 4;
	ip->src = p + 12;
	ip->dst = p + 16;
	ip->proto = p[9];
	ip->df = (frag & 0x4000u) != 0;
	ip->later_frag = (frag & 0x1fffu) != 0;
	ip->hdr_len = (uint16_t)ihl;
	ip->total_len = (uint16_t)total;
	ip->icmp_error = ip->proto == RN_IPPROTO_ICMP && !ip->later_frag &&
			 total > ihl && is_icmp4_error(p[ihl]);
	return 0;
}

static int parse6(const uint8_t *p, size_t len, rn_ip *ip)
{
	if (len < RN_IP6_HDR_LEN)
		return RN_ERR_TRUNC;
	size_t total = (size_t)rd16(p + 4) + RN_IP6_HDR_LEN;
	if (total > len)
		return RN_ERR_PROTO;
	ip->version = 6;
	ip->addr_len = 16;
	ip->src = p + 8;
	ip->dst = p + 24;
	ip->proto = p[6];
	ip->df = 1;
	ip->later_frag = 0;
	ip->hdr_len = RN_IP6_HDR_LEN;
	ip->total_len = (uint16_t)total;
	/* ICMPv6 errors are types 0..127; an extension header in between
	 * hides it, and such a packet is then answered at most once more */
	ip->icmp_error = ip->proto == RN_IPPROTO_ICMP6 &&
			 total > RN_IP6_HDR_LEN && p[RN_IP6_HDR_LEN] < 128;
	return 0;
}

int rn_ip_parse(const uint8_t *pkt, size_t len, rn_ip *ip)
{
	if (len < 1)
		return RN_ERR_TRUNC;
	memset(ip, 0, sizeof *ip);
	switch (pkt[0] >> 4) {
	case 4:
		return parse4(pkt, len, ip);
	case 6:
		return parse6(pkt, len, ip);
	default:
		return RN_ERR_PROTO;
	}
}

int rn_ip_is_multicast(const uint8_t *a, size_t len, const uint8_t *bcast4)
{
	if (len == 4)
		return (a[0] & 0xf0u) == 0xe0u ||
		       (a[0] == 255 && a[1] == 255 && a[2] == 255 &&
			a[3] == 255) ||
		       (bcast4 && memcmp(a, bcast4, 4) == 0);
	return len == 16 && a[0] == 0xff;
}

void rn_ip_twin6(uint8_t out[16], const uint8_t group_id[32],
		 const uint8_t vip4[4])
{
	memset(out, 0, 16);
	out[0] = 0xfd;
	memcpy(out + 1, group_id, 5);
	memcpy(out + 12, vip4, 4);
}

int rn_ip_twin4(uint8_t out4[4], const uint8_t group_id[32],
		const uint8_t a6[16])
{
	static const uint8_t zero[6];
	if (a6[0] != 0xfd || memcmp(a6 + 1, group_id, 5) != 0 ||
	    memcmp(a6 + 6, zero, 6) != 0)
		return 0;
	memcpy(out4, a6 + 12, 4);
	return 1;
}

static int may_answer(const rn_ip *ip)
{
	static const uint8_t zero[16];
	if (ip->icmp_error || ip->later_frag)
		return 0;
	if (rn_ip_is_multicast(ip->src, ip->addr_len, NULL) ||
	    memcmp(ip->src, zero, ip->addr_len) == 0)
		return 0;
	return 1;
}

/* An ICMP(v6) error: header, then as much of pkt as fits the quote. */
static size_t icmp_error(uint8_t *out, const uint8_t *pkt, const rn_ip *ip,
			 const uint8_t *src, uint8_t type, uint8_t code,
			 uint32_t word)
{
	if (!may_answer(ip))
		return 0;
	size_t quote = ip->total_len;
	if (quote > RN_IP_ICMP_QUOTE_MAX)
		quote = RN_IP_ICMP_QUOTE_MAX;
	size_t hl = ip->version == 4 ? RN_IP4_HDR_MIN : RN_IP6_HDR_LEN;
	size_t icmp_len = 8 + quote;
	size_t total = hl + icmp_len;
	uint8_t *h = out, *ic = out + hl;
	memset(out, 0, hl + 8);
	if (ip->version == 4) {
		h[0] = 0x45;
		wr16(h + 2, (uint16_t)total);
		h[8] = 64;
		h[9] = RN_IPPROTO_ICMP;
		memcpy(h + 12, src, 4);
		memcpy(h + 16, ip->src, 4);
		wr16(h + 10, rn_ip_csum_fold(rn_ip_csum_add(0, h, hl)));
	} else {
		h[0] = 0x60;
		wr16(h + 4, (uint16_t)icmp_len);
		h[6] = RN_IPPROTO_ICMP6;
		h[7] = 64;
		memcpy(h + 8, src, 16);
		memcpy(h + 24, ip->src, 16);
	}
	ic[0] = type;
	ic[1] = code;
	ic[4] = (uint8_t)(word >> 24);
	ic[5] = (uint8_t)(word >> 16);
	ic[6] = (uint8_t)(word >> 8);
	ic[7] = (uint8_t)word;
	memcpy(ic + 8, pkt, quote);
	uint32_t sum = 0;
	if (ip->version == 6) { /* pseudo-header */
		uint8_t ph[8] = {0};
		ph[2] = (uint8_t)(icmp_len >> 8);
		ph[3] = (uint8_t)icmp_len;
		ph[7] = RN_IPPROTO_ICMP6;
		sum = rn_ip_csum_add(sum, h + 8, 32);
		sum = rn_ip_csum_add(sum, ph, 8);
	}
	sum = rn_ip_csum_add(sum, ic, icmp_len);
	wr16(ic + 2, rn_ip_csum_fold(sum));
	return total;
}

size_t rn_ip_icmp_unreach(uint8_t *out, const uint8_t *pkt, const rn_ip *ip,
			  const uint8_t *src)
{
	return ip->version == 4 ? icmp_error(out, pkt, ip, src, 3, 1, 0)
				: icmp_error(out, pkt, ip, src, 1, 3, 0);
}

size_t rn_ip_icmp_too_big(uint8_t *out, const uint8_t *pkt, const rn_ip *ip,
			  const uint8_t *src, uint32_t mtu)
{
	return ip->version == 4
		       ? icmp_error(out, pkt, ip, src, 3, 4, mtu & 0xffffu)
		       : icmp_error(out, pkt, ip, src, 2, 0, mtu);
}

/* The next option of an IPv4 or TCP header's option list h[*i..end):
 * both are kind, length, data, with the one-byte NOP (1) skipped and
 * End (0) or a malformed length ending the list. 1 with *i on it, else 0. */
static int next_option(const uint8_t *h, size_t end, size_t *i)
{
	while (*i < end && h[*i] == 1)
		(*i)++;
	return *i + 1 < end && h[*i] != 0 && h[*i + 1] >= 2 &&
	       *i + h[*i + 1] <= end;
}

/* The header of a later fragment: the fixed 20 bytes and the options
 * whose "copied" bit is set, padded with zeros to 4 bytes. */
static size_t later_header(const uint8_t *pkt, size_t hl, uint8_t out[60])
{
	size_t n = RN_IP4_HDR_MIN;
	memcpy(out, pkt, RN_IP4_HDR_MIN);
	for (size_t i = RN_IP4_HDR_MIN; next_option(pkt, hl, &i);
	     i += pkt[i + 1]) {
		if (pkt[i] & 0x80u) { /* copied */
			memcpy(out + n, pkt + i, pkt[i + 1]);
			n += pkt[i + 1];
		}
	}
	while (n % 4u)
		out[n++] = 0;
	return n;
}

int rn_ip4_fragment(const uint8_t *pkt, const rn_ip *ip, size_t mtu,
		    void (*emit)(void *ctx, uint8_t *frag, size_t len),
		    void *ctx)
{
	/* 64 bytes either side: the caller may seal the fragment in place */
	uint8_t scratch[64 + 1500 + 64];
	uint8_t *f = scratch + 64;
	size_t hl = ip->hdr_len;
	if (ip->version != 4 || ip->df || mtu > 1500 || mtu < hl + 8)
		return RN_ERR_INVAL;
	size_t step = (mtu - hl) & ~(size_t)7;
	unsigned frag0 = rd16(pkt + 6);
	size_t base = (size_t)(frag0 & 0x1fffu) * 8u;
	int more0 = (frag0 & 0x2000u) != 0;
	size_t payload = ip->total_len - hl;
	if (base + payload > 65535u)
		return RN_ERR_INVAL; /* offsets would not fit 13 bits */
	/* later fragments carry only the options marked "copied" (RFC 791) */
	uint8_t later[60];
	size_t later_hl = later_header(pkt, hl, later);
	for (size_t off = 0; off < payload;) {
		size_t h = off ? later_hl : hl;
		const uint8_t *src_h = off ? later : pkt;
		size_t room = off ? (mtu - h) & ~(size_t)7 : step;
		size_t n = payload - off < room ? payload - off : room;
		int more = off + n < payload || more0;
		memcpy(f, src_h, h);
		memcpy(f + h, pkt + hl + off, n);
		f[0] = (uint8_t)(0x40u | (h / 4u));
		wr16(f + 2, (uint16_t)(h + n));
		wr16(f + 6, (uint16_t)((more ? 0x2000u : 0u) |
				       ((base + off) / 8u)));
		f[10] = f[11] = 0;
		wr16(f + 10, rn_ip_csum_fold(rn_ip_csum_add(0, f, h)));
		emit(ctx, f, h + n);
		off += n;
	}
	return 0;
}

int rn_ip_clamp_mss(uint8_t *pkt, const rn_ip *ip, uint16_t mss_max)
{
	if (ip->proto != RN_IPPROTO_TCP || ip->later_frag ||
	    ip->total_len < ip->hdr_len + 20u)
		return 0;
	uint8_t *t = pkt + ip->hdr_len;
	size_t thl = (size_t)(t[12] >> 4) * 4u;
	if (!(t[13] & 0x02u) || thl < 20 || ip->hdr_len + thl > ip->total_len)
		return 0;
	for (size_t i = 20; next_option(t, thl, &i); i += t[i + 1]) {
		if (t[i] == 2 && t[i + 1] == 4) {
			uint16_t old = rd16(t + i + 2);
			if (old <= mss_max)
				return 0;
			wr16(t + i + 2, mss_max);
			/* HC' = ~(~HC + ~m + m') */
			uint32_t s = (uint16_t)~rd16(t + 16);
			s += (uint16_t)~old;
			s += mss_max;
			while (s >> 16)
				s = (s & 0xffffu) + (s >> 16);
			wr16(t + 16, (uint16_t)~s);
			return 1;
		}
	}
	return 0;
}
