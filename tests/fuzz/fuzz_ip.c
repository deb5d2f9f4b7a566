/* Fuzz target: rn_ip_parse, rn_ip_icmp_unreach, rn_ip_icmp_too_big,
 * rn_ip4_fragment, rn_ip_twin4 and rn_ip_is_multicast (tunnel/ip.c), the
 * code that reads packets from the TUN device and from other members.
 *
 * Any bytes either fail with RN_ERR_TRUNC / RN_ERR_PROTO or give a view
 * that adds up: version 4 or 6, hdr_len <= total_len <= the bytes, the
 * addresses inside the input, a valid IPv4 header checksum. For a packet
 * that parses, both ICMP errors are written into a heap buffer of exactly
 * RN_IP_ICMP_MAX bytes: nothing exactly when the packet is an ICMP error,
 * a later fragment or from a multicast or unspecified source; otherwise a
 * packet that parses again as an ICMP error of the input's version, from
 * the given source to the input's source, with valid checksums (IPv6
 * pseudo-header included, recomputed here), the right type, code and MTU
 * word and the quoted bytes. An IPv4 packet without DF is fragmented at an
 * MTU taken from the input: every fragment parses, fits the MTU, has a
 * valid checksum and the same header fields, and the pieces put back
 * together are the payload (checked when the original's offset leaves
 * room for it in 16 bits, as any real datagram does).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "tunnel/ip.h"
#include "tunnel/vpn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

static uint32_t sum(uint32_t s, const uint8_t *p, size_t n)
{
	uint64_t t = s;
	for (size_t i = 0; i < n; i++)
		t += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	while (t >> 16)
		t = (t & 0xffff) + (t >> 16);
	return (uint32_t)t;
}

static unsigned be16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static const uint8_t zero16[16];

static int inside(const uint8_t *p, size_t n, const uint8_t *b, size_t len)
{
	return p >= b && n <= len && (size_t)(p - b) <= len - n;
}

static void check_icmp(const uint8_t *out, size_t n, const uint8_t *pkt,
                       const rn_ip *ip, const uint8_t *src, uint8_t type,
                       uint8_t code, uint32_t word)
{
	int none = ip->icmp_error || ip->later_frag ||
	           rn_ip_is_multicast(ip->src, ip->addr_len, NULL) ||
	           memcmp(ip->src, zero16, ip->addr_len) == 0;
	if (none) {
		CHECK(n == 0);
		return;
	}
	size_t q = ip->total_len < RN_IP_ICMP_QUOTE_MAX ? ip->total_len
	                                                : RN_IP_ICMP_QUOTE_MAX;
	size_t hl = ip->version == 4 ? 20 : 40;
	CHECK(n == hl + 8 + q && n <= RN_IP_ICMP_MAX);
	rn_ip e;
	CHECK(rn_ip_parse(out, n, &e) == 0);
	CHECK(e.version == ip->version && e.total_len == n && e.hdr_len == hl);
	CHECK(e.icmp_error && !e.later_frag);
	CHECK(memcmp(e.src, src, e.addr_len) == 0);
	CHECK(memcmp(e.dst, ip->src, e.addr_len) == 0);
	const uint8_t *ic = out + hl;
	size_t il = n - hl;
	if (ip->version == 4) {
		CHECK(e.proto == 1 && sum(0, out, 20) == 0xffff);
		CHECK(sum(0, ic, il) == 0xffff);
	} else {
		uint8_t ph[40] = {0};
		memcpy(ph, out + 8, 32);
		ph[34] = (uint8_t)(il >> 8);
		ph[35] = (uint8_t)il;
		ph[39] = 58;
		CHECK(e.proto == 58 && be16(out + 4) == il);
		CHECK(sum(sum(0, ph, 40), ic, il) == 0xffff);
	}
	CHECK(ic[0] == type && ic[1] == code);
	CHECK(((uint32_t)ic[4] << 24 | (uint32_t)ic[5] << 16 |
	       (uint32_t)ic[6] << 8 | ic[7]) == word);
	CHECK(memcmp(ic + 8, pkt, q) == 0);
}

typedef struct frag_ctx {
	const uint8_t *pkt;
	const rn_ip *ip;
	size_t mtu, next, n;
	unsigned base;
	int exact; /* offsets fit 13 bits: check them */
} frag_ctx;

static void on_frag(void *c, uint8_t *f, size_t len)
{
	frag_ctx *x = c;
	size_t ohl = x->ip->hdr_len; /* the original's */
	rn_ip ip;
	x->n++;
	CHECK(rn_ip_parse(f, len, &ip) == 0);
	/* the first fragment has every option, later ones only the copied
	 * (so a header no longer than the original's) */
	size_t hl = ip.hdr_len;
	CHECK(x->next ? hl <= ohl && hl >= 20 : hl == ohl);
	CHECK(len <= x->mtu && len > hl);
	CHECK(ip.total_len == len && !ip.df);
	CHECK(sum(0, f, hl) == 0xffff);
	CHECK(memcmp(f + 12, x->pkt + 12, 8) == 0);
	if (!x->next)
		CHECK(memcmp(f + 20, x->pkt + 20, hl - 20) == 0);
	CHECK(f[9] == x->pkt[9] && memcmp(f + 4, x->pkt + 4, 2) == 0);
	size_t n = len - hl;
	CHECK(x->next + n <= (size_t)(x->ip->total_len - ohl));
	CHECK(memcmp(f + hl, x->pkt + ohl + x->next, n) == 0);
	if (x->exact) {
		unsigned fo = be16(f + 6);
		CHECK((fo & 0x1fffu) * 8u == x->base + x->next);
		int last = x->next + n == (size_t)(x->ip->total_len - ohl);
		if (!last)
			CHECK((fo & 0x2000u) && n % 8 == 0);
		else
			CHECK(!!(fo & 0x2000u) ==
			      !!(be16(x->pkt + 6) & 0x2000u));
	}
	x->next += n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rn_ip ip;
	int rc = rn_ip_parse(data, size, &ip);
	CHECK(rc == 0 || rc == RN_ERR_TRUNC || rc == RN_ERR_PROTO);
	if (size >= 16) {
		uint8_t g[32], a4[4];
		memset(g, 0, sizeof g);
		memcpy(g, data + 1, 5); /* the input's own prefix: a twin */
		if (rn_ip_twin4(a4, g, data)) {
			uint8_t t[16];
			rn_ip_twin6(t, g, a4);
			CHECK(memcmp(t, data, 16) == 0);
		}
		CHECK(rn_ip_is_multicast(data, 16, NULL) == (data[0] == 0xff));
	}
	if (rc)
		return 0;
	CHECK(ip.version == 4 || ip.version == 6);
	CHECK(ip.version == data[0] >> 4);
	CHECK(ip.addr_len == (ip.version == 4 ? 4 : 16));
	CHECK(ip.hdr_len <= ip.total_len && ip.total_len <= size);
	CHECK(inside(ip.src, ip.addr_len, data, size));
	CHECK(inside(ip.dst, ip.addr_len, data, size));
	if (ip.version == 4)
		CHECK(sum(0, data, ip.hdr_len) == 0xffff);
	else
		CHECK(ip.df && !ip.later_frag && ip.hdr_len == 40);

	uint8_t *out = malloc(RN_IP_ICMP_MAX);
	if (!out)
		return 0;
	/* the source of the answer: the packet's destination, as the VPN
	 * does; copied, as out must not alias it */
	uint8_t src[16];
	memcpy(src, ip.dst, ip.addr_len);
	size_t n = rn_ip_icmp_unreach(out, data, &ip, src);
	check_icmp(out, n, data, &ip, src, ip.version == 4 ? 3 : 1,
	           ip.version == 4 ? 1 : 3, 0);
	uint32_t mtu =
	    size > 4 ? (uint32_t)data[size - 1] << 8 | data[size - 2] : 1320;
	n = rn_ip_icmp_too_big(out, data, &ip, src, mtu);
	check_icmp(out, n, data, &ip, src, ip.version == 4 ? 3 : 2,
	           ip.version == 4 ? 4 : 0,
	           ip.version == 4 ? (mtu & 0xffffu) : mtu);
	free(out);

	if (ip.version == 4) {
		frag_ctx x = {data, &ip, 0, 0, 0, 0, 0};
		x.base = (be16(data + 6) & 0x1fffu) * 8u;
		x.exact = x.base + (size_t)(ip.total_len - ip.hdr_len) <= 65535;
		size_t mtus[2] = {RN_VPN_RELAY_IP_MAX, 0};
		mtus[1] =
		    ip.hdr_len + 8u + (size > 2 ? data[size - 3] : 0u) * 4u;
		for (int k = 0; k < 2; k++) {
			x.mtu = mtus[k];
			x.next = x.n = 0;
			rc = rn_ip4_fragment(data, &ip, x.mtu, on_frag, &x);
			if (ip.df || x.mtu > 1500 || x.mtu < ip.hdr_len + 8u ||
			    !x.exact) {
				CHECK(rc == RN_ERR_INVAL && x.n == 0);
				continue;
			}
			CHECK(rc == 0);
			CHECK(x.next == (size_t)(ip.total_len - ip.hdr_len));
		}
	}

	/* MSS clamping: a SYN's MSS never ends above the limit, and what
	 * it changes keeps the TCP checksum (RFC 1624) */
	uint8_t *cp = malloc(ip.total_len ? ip.total_len : 1);
	if (cp) {
		memcpy(cp, data, ip.total_len);
		rn_ip cip;
		CHECK(rn_ip_parse(cp, ip.total_len, &cip) == 0);
		uint32_t before = sum(0, cp + ip.hdr_len,
		                      (size_t)(ip.total_len - ip.hdr_len));
		if (rn_ip_clamp_mss(cp, &cip, 1280)) {
			CHECK(cip.proto == 6);
			uint32_t after = sum(0, cp + ip.hdr_len,
			                     (size_t)(ip.total_len - ip.hdr_len));
			/* ones' complement sums agree (0 and 0xffff alike) */
			CHECK(before % 0xffff == after % 0xffff);
			CHECK(memcmp(cp, data, ip.hdr_len) == 0);
		}
		free(cp);
	}
	return 0;
}
