/* Unit tests for tunnel/ip.c: the IP header view, the ICMP errors written
 * back into the TUN, IPv4 fragmentation and the IPv6 twin addresses.
 *
 * Packets are built here by hand, with this file's own Internet checksum
 * (ref_sum, not rn_ip_csum_*), and every answer of the code under test is
 * checked independently: header and ICMP/ICMPv6 checksums (with the IPv6
 * pseudo-header), types, codes, the MTU word, the quote, the addresses;
 * fragments are reassembled here and compared with the original payload.
 * Inputs are heap buffers of exactly their length, so the sanitizers see a
 * read past the end. Property loops print RN_TEST_SEED on failure.
 */
#include "test_util.h"

#include "core/err.h"
#include "tunnel/ip.h"

/* ---- the test's own packet kit --------------------------------------- */

/* RFC 1071 sum of p[0..n), from init, folded (not complemented). */
static uint32_t ref_sum(uint32_t init, const uint8_t *p, size_t n)
{
	uint64_t s = init;
	for (size_t i = 0; i < n; i++)
		s += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

/* Whether data that holds its own checksum sums to all ones. */
static int sum_ok(uint32_t init, const uint8_t *p, size_t n)
{
	return ref_sum(init, p, n) == 0xffff;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void ip4_csum(uint8_t *h)
{
	size_t hl = (size_t)(h[0] & 15) * 4;
	h[10] = h[11] = 0;
	put16(h + 10, ~ref_sum(0, h, hl) & 0xffff);
}

/* An IPv4 packet of total bytes, options bytes of options (multiple of
 * 4), protocol proto, flags/offset word frag, payload bytes from r. */
static void mk4(uint8_t *p, size_t total, size_t options, uint8_t proto,
                const uint8_t src[4], const uint8_t dst[4], unsigned frag,
                trng *r)
{
	size_t hl = 20 + options;
	memset(p, 0, hl);
	p[0] = (uint8_t)(0x40 | hl / 4);
	put16(p + 2, (unsigned)total);
	put16(p + 4, 0xbeef); /* identification */
	put16(p + 6, frag);
	p[8] = 61;
	p[9] = proto;
	memcpy(p + 12, src, 4);
	memcpy(p + 16, dst, 4);
	for (size_t i = 20; i < hl; i++)
		p[i] = 1; /* NOP options (not copied into later fragments) */
	if (options >= 4) { /* a Router Alert first: copied (RFC 791) */
		p[20] = 0x94;
		p[21] = 4;
		p[22] = p[23] = 0;
	}
	if (r)
		trng_bytes(r, p + hl, total - hl);
	else
		for (size_t i = hl; i < total; i++)
			p[i] = (uint8_t)(i * 7);
	ip4_csum(p);
}

static void mk6(uint8_t *p, size_t total, uint8_t nh, const uint8_t src[16],
                const uint8_t dst[16], trng *r)
{
	memset(p, 0, 40);
	p[0] = 0x60;
	put16(p + 4, (unsigned)(total - 40));
	p[6] = nh;
	p[7] = 64;
	memcpy(p + 8, src, 16);
	memcpy(p + 24, dst, 16);
	if (r)
		trng_bytes(r, p + 40, total - 40);
	else
		for (size_t i = 40; i < total; i++)
			p[i] = (uint8_t)(i * 13);
}

/* An exact-size heap copy (freed by the caller). */
static uint8_t *dup_exact(const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);
	assert_non_null(c);
	if (n)
		memcpy(c, p, n);
	return c;
}

static int parse_exact(const uint8_t *p, size_t n, rn_ip *ip)
{
	uint8_t *c = dup_exact(p, n);
	int rc = rn_ip_parse(c, n, ip);
	free(c); /* ip points into freed memory now: fields only */
	ip->src = ip->dst = NULL;
	return rc;
}

static const uint8_t A4[4] = {10, 1, 0, 1}, B4[4] = {10, 1, 0, 9};
static const uint8_t A6[16] = {0xfd, 1, 2, 3, 4, 5, 0, 0,
                               0,    0, 0, 0, 0, 0, 0, 1};
static const uint8_t B6[16] = {0xfd, 1, 2, 3, 4, 5, 0, 0,
                               0,    0, 0, 0, 0, 0, 0, 9};

/* ---- checksum helpers -------------------------------------------------- */

static void test_csum(void **state)
{
	(void)state;
	/* RFC 1071 section 3's example: sum ddf2, checksum 220d */
	static const uint8_t ex[8] = {0x00, 0x01, 0xf2, 0x03,
	                              0xf4, 0xf5, 0xf6, 0xf7};
	assert_int_equal(rn_ip_csum_add(0, ex, 8), 0xddf2);
	assert_int_equal(rn_ip_csum_fold(rn_ip_csum_add(0, ex, 8)), 0x220d);
	trng r;
	uint64_t seed = rn_test_seed();
	trng_init(&r, seed ^ 0x6373756dull);
	for (uint64_t it = 0; it < 2000; it++) {
		uint8_t b[300];
		size_t n = (size_t)trng_below(&r, sizeof b + 1);
		trng_bytes(&r, b, n);
		uint32_t init = (uint32_t)trng_below(&r, 0x10000);
		PCHECK(rn_ip_csum_add(init, b, n) == ref_sum(init, b, n), seed,
		       it);
		/* even-length pieces chain */
		size_t cut = (size_t)trng_below(&r, n / 2 + 1) * 2;
		uint32_t s = rn_ip_csum_add(init, b, cut);
		s = rn_ip_csum_add(s, b + cut, n - cut);
		PCHECK(rn_ip_csum_fold(s) ==
		           (uint16_t)(~ref_sum(init, b, n) & 0xffff),
		       seed, it);
	}
}

/* ---- parsing ----------------------------------------------------------- */

static void test_parse_ip4(void **state)
{
	(void)state;
	uint8_t p[200];
	rn_ip ip;
	/* a plain UDP packet, DF set */
	mk4(p, 60, 0, RN_IPPROTO_UDP, A4, B4, 0x4000, NULL);
	uint8_t *c = dup_exact(p, 60);
	assert_int_equal(rn_ip_parse(c, 60, &ip), 0);
	assert_int_equal(ip.version, 4);
	assert_int_equal(ip.addr_len, 4);
	assert_ptr_equal(ip.src, c + 12);
	assert_ptr_equal(ip.dst, c + 16);
	assert_memory_equal(ip.src, A4, 4);
	assert_memory_equal(ip.dst, B4, 4);
	assert_int_equal(ip.proto, RN_IPPROTO_UDP);
	assert_int_equal(ip.df, 1);
	assert_int_equal(ip.later_frag, 0);
	assert_int_equal(ip.icmp_error, 0);
	assert_int_equal(ip.hdr_len, 20);
	assert_int_equal(ip.total_len, 60);
	free(c);
	/* trailing bytes after total length (link padding): accepted, the
	 * header's length wins */
	assert_int_equal(parse_exact(p, 100, &ip), 0);
	assert_int_equal(ip.total_len, 60);
	/* a header only */
	mk4(p, 20, 0, RN_IPPROTO_TCP, A4, B4, 0, NULL);
	assert_int_equal(parse_exact(p, 20, &ip), 0);
	assert_int_equal(ip.total_len, 20);
	assert_int_equal(ip.df, 0);
	/* options: every IHL from 6 to 15 */
	for (size_t opt = 4; opt <= 40; opt += 4) {
		mk4(p, 20 + opt + 30, opt, RN_IPPROTO_TCP, A4, B4, 0, NULL);
		assert_int_equal(parse_exact(p, 20 + opt + 30, &ip), 0);
		assert_int_equal(ip.hdr_len, 20 + opt);
		assert_int_equal(ip.total_len, 20 + opt + 30);
		assert_int_equal(ip.proto, RN_IPPROTO_TCP);
	}
	/* fragments: the first one (MF, offset 0) is not a later one */
	mk4(p, 60, 0, RN_IPPROTO_UDP, A4, B4, 0x2000, NULL);
	assert_int_equal(parse_exact(p, 60, &ip), 0);
	assert_int_equal(ip.later_frag, 0);
	mk4(p, 60, 0, RN_IPPROTO_UDP, A4, B4, 0x2000 | 5, NULL);
	assert_int_equal(parse_exact(p, 60, &ip), 0);
	assert_int_equal(ip.later_frag, 1);
	mk4(p, 60, 0, RN_IPPROTO_UDP, A4, B4, 1, NULL); /* the last one */
	assert_int_equal(parse_exact(p, 60, &ip), 0);
	assert_int_equal(ip.later_frag, 1);
	assert_int_equal(ip.df, 0);
}

/* ICMP error or not, by type, first fragments only. */
static void test_parse_icmp_kinds(void **state)
{
	(void)state;
	uint8_t p[100];
	rn_ip ip;
	for (unsigned t = 0; t < 256; t++) {
		int err4 = t == 3 || t == 4 || t == 5 || t == 11 || t == 12;
		mk4(p, 36, 0, RN_IPPROTO_ICMP, A4, B4, 0, NULL);
		p[20] = (uint8_t)t;
		ip4_csum(p);
		assert_int_equal(parse_exact(p, 36, &ip), 0);
		assert_int_equal(ip.icmp_error, err4);
		/* the same bytes in a later fragment are no ICMP header */
		mk4(p, 36, 0, RN_IPPROTO_ICMP, A4, B4, 3, NULL);
		p[20] = (uint8_t)t;
		ip4_csum(p);
		assert_int_equal(parse_exact(p, 36, &ip), 0);
		assert_int_equal(ip.icmp_error, 0);
		/* not ICMP: never an ICMP error */
		mk4(p, 36, 0, RN_IPPROTO_UDP, A4, B4, 0, NULL);
		p[20] = (uint8_t)t;
		ip4_csum(p);
		assert_int_equal(parse_exact(p, 36, &ip), 0);
		assert_int_equal(ip.icmp_error, 0);
		/* ICMPv6: errors are 0..127 */
		mk6(p, 48, RN_IPPROTO_ICMP6, A6, B6, NULL);
		p[40] = (uint8_t)t;
		assert_int_equal(parse_exact(p, 48, &ip), 0);
		assert_int_equal(ip.icmp_error, t < 128);
		mk6(p, 48, RN_IPPROTO_UDP, A6, B6, NULL);
		p[40] = (uint8_t)t;
		assert_int_equal(parse_exact(p, 48, &ip), 0);
		assert_int_equal(ip.icmp_error, 0);
	}
	/* an ICMP packet with no ICMP byte at all */
	mk4(p, 20, 0, RN_IPPROTO_ICMP, A4, B4, 0, NULL);
	assert_int_equal(parse_exact(p, 20, &ip), 0);
	assert_int_equal(ip.icmp_error, 0);
	mk6(p, 40, RN_IPPROTO_ICMP6, A6, B6, NULL);
	assert_int_equal(parse_exact(p, 40, &ip), 0);
	assert_int_equal(ip.icmp_error, 0);
}

static void test_parse_ip6(void **state)
{
	(void)state;
	uint8_t p[200];
	rn_ip ip;
	mk6(p, 140, RN_IPPROTO_TCP, A6, B6, NULL);
	uint8_t *c = dup_exact(p, 140);
	assert_int_equal(rn_ip_parse(c, 140, &ip), 0);
	assert_int_equal(ip.version, 6);
	assert_int_equal(ip.addr_len, 16);
	assert_ptr_equal(ip.src, c + 8);
	assert_ptr_equal(ip.dst, c + 24);
	assert_memory_equal(ip.src, A6, 16);
	assert_memory_equal(ip.dst, B6, 16);
	assert_int_equal(ip.proto, RN_IPPROTO_TCP);
	assert_int_equal(ip.df, 1);
	assert_int_equal(ip.later_frag, 0);
	assert_int_equal(ip.hdr_len, 40);
	assert_int_equal(ip.total_len, 140);
	free(c);
	/* traffic class and flow label do not matter */
	p[0] = 0x6f;
	p[1] = 0xff;
	p[2] = p[3] = 0xff;
	assert_int_equal(parse_exact(p, 150, &ip), 0);
	assert_int_equal(ip.total_len, 140);
	/* a header only */
	mk6(p, 40, 59, A6, B6, NULL);
	assert_int_equal(parse_exact(p, 40, &ip), 0);
	assert_int_equal(ip.total_len, 40);
}

static void test_parse_malformed(void **state)
{
	(void)state;
	uint8_t p[200];
	rn_ip ip;
	uint8_t none[1] = {0x45};
	assert_int_equal(rn_ip_parse(none, 0, &ip), RN_ERR_TRUNC);
	/* versions other than 4 and 6 */
	for (unsigned v = 0; v < 16; v++) {
		if (v == 4 || v == 6)
			continue;
		mk4(p, 60, 0, RN_IPPROTO_UDP, A4, B4, 0, NULL);
		p[0] = (uint8_t)(v << 4 | 5);
		assert_int_equal(parse_exact(p, 60, &ip), RN_ERR_PROTO);
		assert_int_equal(parse_exact(p, 1, &ip), RN_ERR_PROTO);
	}
	/* IPv4 cut short: within the header TRUNC, within the payload
	 * the total length does not add up */
	mk4(p, 60, 0, RN_IPPROTO_UDP, A4, B4, 0, NULL);
	for (size_t n = 1; n < 60; n++)
		assert_int_equal(parse_exact(p, n, &ip),
		                 n < 20 ? RN_ERR_TRUNC : RN_ERR_PROTO);
	/* with 40 bytes of options, the header is 60 */
	mk4(p, 100, 40, RN_IPPROTO_UDP, A4, B4, 0, NULL);
	for (size_t n = 1; n < 100; n++)
		assert_int_equal(parse_exact(p, n, &ip),
		                 n < 60 ? RN_ERR_TRUNC : RN_ERR_PROTO);
	/* IHL below 5: no such header (either error the header documents) */
	for (unsigned ihl = 0; ihl < 5; ihl++) {
		mk4(p, 60, 0, RN_IPPROTO_UDP, A4, B4, 0, NULL);
		p[0] = (uint8_t)(0x40 | ihl);
		int rc = parse_exact(p, 60, &ip);
		assert_true(rc == RN_ERR_TRUNC || rc == RN_ERR_PROTO);
	}
	/* total length below the header or above the bytes given */
	mk4(p, 60, 0, RN_IPPROTO_UDP, A4, B4, 0, NULL);
	put16(p + 2, 19);
	ip4_csum(p);
	assert_int_equal(parse_exact(p, 60, &ip), RN_ERR_PROTO);
	mk4(p, 60, 8, RN_IPPROTO_UDP, A4, B4, 0, NULL);
	put16(p + 2, 24); /* below IHL 7's 28 */
	ip4_csum(p);
	assert_int_equal(parse_exact(p, 60, &ip), RN_ERR_PROTO);
	mk4(p, 60, 0, RN_IPPROTO_UDP, A4, B4, 0, NULL);
	put16(p + 2, 61);
	ip4_csum(p);
	assert_int_equal(parse_exact(p, 60, &ip), RN_ERR_PROTO);
	put16(p + 2, 0xffff);
	ip4_csum(p);
	assert_int_equal(parse_exact(p, 60, &ip), RN_ERR_PROTO);
	/* a bad checksum; every single-bit error of the header is caught */
	mk4(p, 60, 0, RN_IPPROTO_UDP, A4, B4, 0, NULL);
	p[10] ^= 1;
	assert_int_equal(parse_exact(p, 60, &ip), RN_ERR_PROTO);
	for (size_t opt = 0; opt <= 8; opt += 8) {
		mk4(p, 60, opt, RN_IPPROTO_UDP, A4, B4, 0x4000, NULL);
		for (size_t bit = 0; bit < (20 + opt) * 8; bit++) {
			p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			assert_int_not_equal(parse_exact(p, 60, &ip), 0);
			p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
		assert_int_equal(parse_exact(p, 60, &ip), 0);
	}
	/* ...while the payload is not the header's to check */
	p[50] ^= 0xff;
	assert_int_equal(parse_exact(p, 60, &ip), 0);
	/* IPv6 cut short, or a payload length beyond the bytes */
	mk6(p, 100, RN_IPPROTO_UDP, A6, B6, NULL);
	for (size_t n = 1; n < 100; n++)
		assert_int_equal(parse_exact(p, n, &ip),
		                 n < 40 ? RN_ERR_TRUNC : RN_ERR_PROTO);
	put16(p + 4, 0xffff);
	assert_int_equal(parse_exact(p, 100, &ip), RN_ERR_PROTO);
}

/* Any bytes: an answer from the documented set, and a view that stays
 * inside the packet and adds up. */
static void test_parse_random(void **state)
{
	(void)state;
	uint64_t seed = rn_test_seed();
	trng r;
	trng_init(&r, seed ^ 0x70617273ull);
	uint8_t p[1600];
	for (uint64_t it = 0; it < 20000; it++) {
		size_t n = (size_t)trng_below(&r, 120);
		if (it % 8 == 0)
			n = (size_t)trng_below(&r, sizeof p + 1);
		trng_bytes(&r, p, n);
		/* make the interesting cases frequent */
		if (n && it % 3 == 0) {
			p[0] = (uint8_t)((it % 2 ? 0x40 : 0x60) | (p[0] & 15));
			if (n >= 20 && (p[0] >> 4) == 4) {
				if (it % 5 == 0)
					put16(p + 2, (unsigned)n);
				if ((size_t)(p[0] & 15) * 4 <= n)
					ip4_csum(p);
			}
		}
		uint8_t *c = dup_exact(p, n);
		rn_ip ip;
		int rc = rn_ip_parse(c, n, &ip);
		PCHECK(rc == 0 || rc == RN_ERR_TRUNC || rc == RN_ERR_PROTO,
		       seed, it);
		if (rc == 0) {
			PCHECK(ip.version == (c[0] >> 4), seed, it);
			PCHECK(ip.addr_len == (ip.version == 4 ? 4 : 16), seed,
			       it);
			PCHECK(ip.hdr_len <= ip.total_len && ip.total_len <= n,
			       seed, it);
			PCHECK(ip.src >= c && ip.src + ip.addr_len <= c + n,
			       seed, it);
			PCHECK(ip.dst >= c && ip.dst + ip.addr_len <= c + n,
			       seed, it);
			if (ip.version == 4)
				PCHECK(sum_ok(0, c, ip.hdr_len), seed, it);
		}
		free(c);
	}
}

/* ---- ICMP errors ------------------------------------------------------- */

/* Checks an ICMP error `out` (n bytes) about pkt: everything the code
 * under test promises, recomputed here. */
static void check_icmp(const uint8_t *out, size_t n, const uint8_t *pkt,
                       const rn_ip *orig, const uint8_t *src, uint8_t type,
                       uint8_t code, uint32_t word)
{
	size_t quote = orig->total_len < RN_IP_ICMP_QUOTE_MAX
	                   ? orig->total_len
	                   : RN_IP_ICMP_QUOTE_MAX;
	size_t hl = orig->version == 4 ? 20 : 40;
	assert_int_equal(n, hl + 8 + quote);
	assert_true(n <= RN_IP_ICMP_MAX);
	rn_ip ip;
	uint8_t *c = dup_exact(out, n);
	assert_int_equal(rn_ip_parse(c, n, &ip), 0);
	assert_int_equal(ip.version, orig->version);
	assert_int_equal(ip.total_len, n);
	assert_int_equal(ip.hdr_len, hl);
	assert_memory_equal(ip.src, src, ip.addr_len);
	assert_memory_equal(ip.dst, pkt + (orig->version == 4 ? 12 : 8),
	                    ip.addr_len);
	assert_int_equal(ip.icmp_error, 1);
	assert_int_equal(ip.later_frag, 0);
	const uint8_t *ic = c + hl;
	size_t ilen = n - hl;
	if (orig->version == 4) {
		assert_int_equal(c[0], 0x45);
		assert_int_equal(ip.proto, RN_IPPROTO_ICMP);
		assert_true(c[8] > 0); /* TTL */
		assert_true(sum_ok(0, c, 20));
		assert_true(sum_ok(0, ic, ilen));
	} else {
		assert_int_equal(c[0] >> 4, 6);
		assert_int_equal(ip.proto, RN_IPPROTO_ICMP6);
		assert_int_equal(be16(c + 4), ilen);
		assert_true(c[7] > 0); /* hop limit */
		/* pseudo-header: src, dst, 32-bit length, 3 zeros, 58 */
		uint8_t ph[40];
		memcpy(ph, c + 8, 32);
		ph[32] = (uint8_t)(ilen >> 24);
		ph[33] = (uint8_t)(ilen >> 16);
		ph[34] = (uint8_t)(ilen >> 8);
		ph[35] = (uint8_t)ilen;
		ph[36] = ph[37] = ph[38] = 0;
		ph[39] = 58;
		assert_true(sum_ok(ref_sum(0, ph, 40), ic, ilen));
		/* and the pseudo-header matters: without it, no match */
		assert_false(sum_ok(0, ic, ilen) &&
		             ref_sum(0, ph, 40) != 0xffff &&
		             ref_sum(0, ph, 40) != 0);
	}
	assert_int_equal(ic[0], type);
	assert_int_equal(ic[1], code);
	assert_int_equal(be32(ic + 4), word);
	assert_memory_equal(ic + 8, pkt, quote);
	free(c);
}

static void test_icmp_ip4(void **state)
{
	(void)state;
	uint8_t p[1500], out[RN_IP_ICMP_MAX];
	rn_ip ip;
	size_t sizes[] = {20, 28, 100, 547, 548, 549, 576, 1400, 1500};
	for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
		size_t n = sizes[k];
		mk4(p, n, n >= 32 ? 8 : 0, RN_IPPROTO_UDP, A4, B4, 0x4000,
		    NULL);
		assert_int_equal(rn_ip_parse(p, n, &ip), 0);
		memset(out, 0xa5, sizeof out);
		size_t m = rn_ip_icmp_unreach(out, p, &ip, ip.dst);
		check_icmp(out, m, p, &ip, B4, 3, 1, 0);
		m = rn_ip_icmp_too_big(out, p, &ip, ip.dst, 1320);
		check_icmp(out, m, p, &ip, B4, 3, 4, 1320);
		m = rn_ip_icmp_too_big(out, p, &ip, ip.dst, 576);
		check_icmp(out, m, p, &ip, B4, 3, 4, 576);
	}
	/* an echo request is answered; the first fragment too */
	mk4(p, 84, 0, RN_IPPROTO_ICMP, A4, B4, 0x2000, NULL);
	p[20] = 8;
	ip4_csum(p);
	assert_int_equal(rn_ip_parse(p, 84, &ip), 0);
	size_t m = rn_ip_icmp_unreach(out, p, &ip, ip.dst);
	check_icmp(out, m, p, &ip, B4, 3, 1, 0);
	/* padding after the total length is not quoted */
	mk4(p, 60, 0, RN_IPPROTO_UDP, A4, B4, 0, NULL);
	assert_int_equal(rn_ip_parse(p, 200, &ip), 0);
	m = rn_ip_icmp_unreach(out, p, &ip, ip.dst);
	assert_int_equal(m, 20 + 8 + 60);
}

static void test_icmp_ip6(void **state)
{
	(void)state;
	uint8_t p[1500], out[RN_IP_ICMP_MAX];
	rn_ip ip;
	size_t sizes[] = {40, 48, 100, 548, 549, 1280, 1500};
	for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
		size_t n = sizes[k];
		mk6(p, n, RN_IPPROTO_UDP, A6, B6, NULL);
		assert_int_equal(rn_ip_parse(p, n, &ip), 0);
		memset(out, 0x5a, sizeof out);
		size_t m = rn_ip_icmp_unreach(out, p, &ip, ip.dst);
		check_icmp(out, m, p, &ip, B6, 1, 3, 0);
		m = rn_ip_icmp_too_big(out, p, &ip, ip.dst, 1320);
		check_icmp(out, m, p, &ip, B6, 2, 0, 1320);
		m = rn_ip_icmp_too_big(out, p, &ip, ip.dst, 0x12345678u);
		check_icmp(out, m, p, &ip, B6, 2, 0, 0x12345678u);
	}
	/* an ICMPv6 echo request (128) is answered */
	mk6(p, 64, RN_IPPROTO_ICMP6, A6, B6, NULL);
	p[40] = 128;
	assert_int_equal(rn_ip_parse(p, 64, &ip), 0);
	size_t m = rn_ip_icmp_unreach(out, p, &ip, ip.dst);
	check_icmp(out, m, p, &ip, B6, 1, 3, 0);
}

/* No ICMP about ICMP errors, later fragments, or packets from a source
 * that cannot be answered. */
static void test_icmp_none(void **state)
{
	(void)state;
	uint8_t p[200], out[RN_IP_ICMP_MAX];
	rn_ip ip;
	static const uint8_t e4[] = {3, 4, 5, 11, 12};
	for (size_t k = 0; k < sizeof e4; k++) {
		mk4(p, 56, 0, RN_IPPROTO_ICMP, A4, B4, 0, NULL);
		p[20] = e4[k];
		ip4_csum(p);
		assert_int_equal(rn_ip_parse(p, 56, &ip), 0);
		assert_int_equal(rn_ip_icmp_unreach(out, p, &ip, ip.dst), 0);
		assert_int_equal(rn_ip_icmp_too_big(out, p, &ip, ip.dst, 1320),
		                 0);
	}
	for (unsigned t = 0; t < 128; t++) {
		mk6(p, 56, RN_IPPROTO_ICMP6, A6, B6, NULL);
		p[40] = (uint8_t)t;
		assert_int_equal(rn_ip_parse(p, 56, &ip), 0);
		assert_int_equal(rn_ip_icmp_unreach(out, p, &ip, ip.dst), 0);
		assert_int_equal(rn_ip_icmp_too_big(out, p, &ip, ip.dst, 1320),
		                 0);
	}
	/* later fragments, with or without MF */
	unsigned frags[] = {1, 0x2000 | 1, 0x1fff, 0x2000 | 0x100};
	for (size_t k = 0; k < 4; k++) {
		mk4(p, 56, 0, RN_IPPROTO_UDP, A4, B4, frags[k], NULL);
		assert_int_equal(rn_ip_parse(p, 56, &ip), 0);
		assert_int_equal(rn_ip_icmp_unreach(out, p, &ip, ip.dst), 0);
		assert_int_equal(rn_ip_icmp_too_big(out, p, &ip, ip.dst, 1320),
		                 0);
	}
	/* sources: multicast, limited broadcast, unspecified */
	static const uint8_t s4[][4] = {
	    {224, 0, 0, 1}, {239, 1, 2, 3}, {255, 255, 255, 255}, {0, 0, 0, 0}};
	for (size_t k = 0; k < 4; k++) {
		mk4(p, 56, 0, RN_IPPROTO_UDP, s4[k], B4, 0, NULL);
		assert_int_equal(rn_ip_parse(p, 56, &ip), 0);
		assert_int_equal(rn_ip_icmp_unreach(out, p, &ip, ip.dst), 0);
		assert_int_equal(rn_ip_icmp_too_big(out, p, &ip, ip.dst, 1320),
		                 0);
	}
	uint8_t s6[16] = {0};
	mk6(p, 56, RN_IPPROTO_UDP, s6, B6, NULL); /* :: */
	assert_int_equal(rn_ip_parse(p, 56, &ip), 0);
	assert_int_equal(rn_ip_icmp_unreach(out, p, &ip, ip.dst), 0);
	s6[0] = 0xff;
	s6[1] = 0x02;
	s6[15] = 1;
	mk6(p, 56, RN_IPPROTO_UDP, s6, B6, NULL); /* ff02::1 */
	assert_int_equal(rn_ip_parse(p, 56, &ip), 0);
	assert_int_equal(rn_ip_icmp_unreach(out, p, &ip, ip.dst), 0);
	assert_int_equal(rn_ip_icmp_too_big(out, p, &ip, ip.dst, 1320), 0);
	/* but a source that merely ends in 255 or starts with 0 is fine */
	static const uint8_t ok4[4] = {10, 1, 255, 255}, ok4b[4] = {0, 1, 0, 0};
	mk4(p, 56, 0, RN_IPPROTO_UDP, ok4, B4, 0, NULL);
	assert_int_equal(rn_ip_parse(p, 56, &ip), 0);
	assert_int_not_equal(rn_ip_icmp_unreach(out, p, &ip, ip.dst), 0);
	mk4(p, 56, 0, RN_IPPROTO_UDP, ok4b, B4, 0, NULL);
	assert_int_equal(rn_ip_parse(p, 56, &ip), 0);
	assert_int_not_equal(rn_ip_icmp_unreach(out, p, &ip, ip.dst), 0);
}

/* Random valid packets of both versions: every answer checks out. */
static void test_icmp_random(void **state)
{
	(void)state;
	uint64_t seed = rn_test_seed();
	trng r;
	trng_init(&r, seed ^ 0x69636d70ull);
	uint8_t p[1500], out[RN_IP_ICMP_MAX + 64];
	for (uint64_t it = 0; it < 2000; it++) {
		rn_ip ip;
		uint8_t src[16], dst[16];
		trng_bytes(&r, src, 16);
		trng_bytes(&r, dst, 16);
		src[0] = (uint8_t)(1 + trng_below(&r, 200)); /* unicast */
		int v6 = (int)(it & 1);
		size_t n;
		if (v6) {
			n = 40 + (size_t)trng_below(&r, sizeof p - 39);
			mk6(p, n, (uint8_t)trng_below(&r, 256), src, dst, &r);
			if (p[6] == RN_IPPROTO_ICMP6 && n > 40)
				p[40] |= 0x80; /* informational */
		} else {
			size_t opt = (size_t)trng_below(&r, 11) * 4;
			n = 20 + opt +
			    (size_t)trng_below(&r, sizeof p - 19 - opt);
			mk4(p, n, opt, (uint8_t)trng_below(&r, 256), src, dst,
			    trng_below(&r, 2) ? 0x4000 : 0, &r);
			if (p[9] == RN_IPPROTO_ICMP && n > 20 + opt) {
				p[20 + opt] = 8;
				ip4_csum(p);
			}
		}
		PCHECK(rn_ip_parse(p, n, &ip) == 0, seed, it);
		PCHECK(!ip.icmp_error, seed, it);
		uint32_t mtu = (uint32_t)(1280 + trng_below(&r, 200));
		memset(out + RN_IP_ICMP_MAX, 0xcc, 64);
		size_t m = it % 4 < 2
		               ? rn_ip_icmp_unreach(out, p, &ip, dst)
		               : rn_ip_icmp_too_big(out, p, &ip, dst, mtu);
		uint8_t type = v6 ? (it % 4 < 2 ? 1 : 2) : 3;
		uint8_t code = it % 4 < 2 ? (v6 ? 3 : 1) : (v6 ? 0 : 4);
		uint32_t word = it % 4 < 2 ? 0 : mtu;
		check_icmp(out, m, p, &ip, dst, type, code, word);
		for (size_t k = 0; k < 64; k++) /* nothing past the max */
			PCHECK(out[RN_IP_ICMP_MAX + k] == 0xcc, seed, it);
	}
}

/* ---- fragmentation ----------------------------------------------------- */

typedef struct reasm {
	uint8_t orig_hdr[60];
	size_t hl;
	uint8_t later_hdr[60]; /* what a later fragment's header must be */
	size_t later_hl;
	uint8_t data[70000];
	uint8_t seen[70000];
	size_t n_frags, mtu, last_end, max_end;
	unsigned base; /* the original's offset, bytes */
	int more0;     /* the original's MF */
	int last_mf;   /* MF of the highest fragment */
	int bad;       /* first failed check, by line */
} reasm;

#define RCHECK(r, cond)                                                        \
	do {                                                                   \
		if (!(cond) && !(r)->bad)                                      \
			(r)->bad = __LINE__;                                   \
	} while (0)

static void on_frag(void *ctx, uint8_t *f, size_t len)
{
	reasm *r = ctx;
	rn_ip ip;
	r->n_frags++;
	RCHECK(r, len <= r->mtu);
	RCHECK(r, rn_ip_parse(f, len, &ip) == 0);
	RCHECK(r, ip.total_len == len);
	unsigned fo = be16(f + 6);
	size_t off = (size_t)(fo & 0x1fffu) * 8u;
	/* the first fragment keeps every option, later ones the copied */
	int first = off == r->base;
	size_t hl = first ? r->hl : r->later_hl;
	const uint8_t *want = first ? r->orig_hdr : r->later_hdr;
	RCHECK(r, ip.hdr_len == hl);
	RCHECK(r, sum_ok(0, f, hl));
	RCHECK(r, ip.df == 0);
	/* every header field but length, flags/offset and checksum kept */
	RCHECK(r, memcmp(f + 1, want + 1, 1) == 0);
	RCHECK(r, memcmp(f + 4, want + 4, 2) == 0);
	RCHECK(r, memcmp(f + 8, want + 8, 2) == 0);
	RCHECK(r, memcmp(f + 12, want + 12, hl - 12) == 0);
	RCHECK(r, (fo & 0xc000u) == 0);
	size_t n = len - hl;
	RCHECK(r, off >= r->base);
	RCHECK(r, off == r->base + r->last_end); /* in order, no gap */
	RCHECK(r, off + n <= sizeof r->data);
	if (r->bad)
		return;
	int mf = (fo & 0x2000u) != 0;
	if (mf)
		RCHECK(r, n % 8 == 0); /* the next one starts on 8 bytes */
	for (size_t i = 0; i < n; i++) {
		RCHECK(r, !r->seen[off - r->base + i]);
		r->seen[off - r->base + i] = 1;
	}
	memcpy(r->data + off - r->base, f + hl, n);
	r->last_end = off - r->base + n;
	r->last_mf = mf;
}

/* Fragments pkt at mtu and checks the pieces against it. */
static void frag_check(reasm *r, const uint8_t *pkt, size_t mtu, uint64_t seed,
                       uint64_t it)
{
	rn_ip ip;
	PCHECK(rn_ip_parse(pkt, be16(pkt + 2), &ip) == 0, seed, it);
	memset(r, 0, sizeof *r);
	r->hl = ip.hdr_len;
	memcpy(r->orig_hdr, pkt, r->hl);
	/* mk4's options: a Router Alert (copied), then NOPs (not) */
	r->later_hl = r->hl > 20 ? 24 : 20;
	memcpy(r->later_hdr, pkt, r->later_hl);
	r->mtu = mtu;
	r->base = (be16(pkt + 6) & 0x1fffu) * 8u;
	r->more0 = (be16(pkt + 6) & 0x2000u) != 0;
	PCHECK(rn_ip4_fragment(pkt, &ip, mtu, on_frag, r) == 0, seed, it);
	if (r->bad)
		print_error("fragment check at line %d\n", r->bad);
	PCHECK(!r->bad, seed, it);
	size_t payload = ip.total_len - ip.hdr_len;
	PCHECK(r->last_end == payload, seed, it);
	PCHECK(memcmp(r->data, pkt + ip.hdr_len, payload) == 0, seed, it);
	/* the last fragment has MF only if the original had it */
	if (payload)
		PCHECK(r->last_mf == r->more0, seed, it);
	size_t want = 0, left = payload;
	for (int first = 1; left; first = 0, want++) {
		size_t room = (mtu - (first ? ip.hdr_len : r->later_hl)) &
		              ~(size_t)7;
		left -= left < room ? left : room;
	}
	PCHECK(r->n_frags == want, seed, it);
}

static void test_fragment(void **state)
{
	(void)state;
	static uint8_t p[4000];
	static reasm rs;
	reasm *r = &rs;
	/* 3000 bytes at 1320: 1296 + 1296 + 388 */
	mk4(p, 3000, 0, RN_IPPROTO_UDP, A4, B4, 0, NULL);
	frag_check(r, p, 1320, 0, 0);
	assert_int_equal(r->n_frags, 3);
	/* options: all in the first fragment, only the copied in the rest */
	mk4(p, 3000, 12, RN_IPPROTO_UDP, A4, B4, 0, NULL);
	frag_check(r, p, 1320, 0, 1);
	assert_int_equal(r->n_frags, 3);
	/* a fragment split again: offsets from its own, MF kept at the end */
	mk4(p, 1996, 0, RN_IPPROTO_UDP, A4, B4, 0x2000 | 185, NULL);
	frag_check(r, p, 1000, 0, 2); /* 1976 bytes: a multiple of 8 */
	mk4(p, 2000, 0, RN_IPPROTO_UDP, A4, B4, 185, NULL);
	frag_check(r, p, 1000, 0, 3);
	/* small enough already: one fragment, the packet itself */
	mk4(p, 500, 0, RN_IPPROTO_UDP, A4, B4, 0, NULL);
	frag_check(r, p, 1320, 0, 4);
	assert_int_equal(r->n_frags, 1);
	/* the smallest mtu: 8 bytes of data each */
	mk4(p, 100, 0, RN_IPPROTO_UDP, A4, B4, 0, NULL);
	frag_check(r, p, 28, 0, 5);
	assert_int_equal(r->n_frags, 10);
	/* refused: DF, IPv6, an mtu below header + 8 or above 1500 */
	rn_ip ip;
	mk4(p, 3000, 0, RN_IPPROTO_UDP, A4, B4, 0x4000, NULL);
	assert_int_equal(rn_ip_parse(p, 3000, &ip), 0);
	memset(r, 0, sizeof *r);
	r->mtu = 1320;
	assert_int_equal(rn_ip4_fragment(p, &ip, 1320, on_frag, r),
	                 RN_ERR_INVAL);
	assert_int_equal(r->n_frags, 0);
	mk4(p, 3000, 8, RN_IPPROTO_UDP, A4, B4, 0, NULL);
	assert_int_equal(rn_ip_parse(p, 3000, &ip), 0);
	assert_int_equal(rn_ip4_fragment(p, &ip, 35, on_frag, r), RN_ERR_INVAL);
	assert_int_equal(rn_ip4_fragment(p, &ip, 1501, on_frag, r),
	                 RN_ERR_INVAL);
	assert_int_equal(r->n_frags, 0);
	mk6(p, 3000, RN_IPPROTO_UDP, A6, B6, NULL);
	assert_int_equal(rn_ip_parse(p, 3000, &ip), 0);
	ip.df = 0; /* even if a caller got this wrong */
	assert_int_equal(rn_ip4_fragment(p, &ip, 1320, on_frag, r),
	                 RN_ERR_INVAL);
	assert_int_equal(r->n_frags, 0);
}

static void test_fragment_random(void **state)
{
	(void)state;
	uint64_t seed = rn_test_seed();
	trng g;
	trng_init(&g, seed ^ 0x66726167ull);
	static uint8_t p[9000];
	static reasm rs;
	reasm *r = &rs;
	for (uint64_t it = 0; it < 1500; it++) {
		size_t opt = (size_t)trng_below(&g, 11) * 4;
		size_t n =
		    20 + opt + (size_t)trng_below(&g, sizeof p - 19 - opt);
		/* an offset that keeps the whole datagram within 65535 */
		unsigned base = 0, mf = (unsigned)trng_below(&g, 4) == 0;
		if (mf) /* a fragment with more to come holds 8-byte blocks */
			n -= (n - 20 - opt) % 8;
		if (trng_below(&g, 4) == 0)
			base = (unsigned)trng_below(&g, (65535 - n) / 8 + 1);
		mk4(p, n, opt, (uint8_t)trng_below(&g, 256), A4, B4,
		    (mf ? 0x2000u : 0u) | base, &g);
		size_t mtu = 20 + opt + 8 +
		             (size_t)trng_below(&g, 1500 - (20 + opt + 8) + 1);
		frag_check(r, p, mtu, seed, it);
	}
}

/* ---- twins and multicast ----------------------------------------------- */

static void test_twins(void **state)
{
	(void)state;
	uint8_t g[32], g2[32], a6[16], a4[4], b4[4];
	for (int i = 0; i < 32; i++) {
		g[i] = (uint8_t)(0x10 + i);
		g2[i] = g[i];
	}
	rn_ip_twin6(a6, g, A4);
	static const uint8_t want[16] = {
	    0xfd, 0x10, 0x11, 0x12, 0x13, 0x14, 0, 0, 0, 0, 0, 0, 10, 1, 0, 1};
	assert_memory_equal(a6, want, 16);
	assert_int_equal(rn_ip_twin4(a4, g, a6), 1);
	assert_memory_equal(a4, A4, 4);
	/* only the first 40 bits of the group count */
	g2[5] ^= 0xff;
	assert_int_equal(rn_ip_twin4(a4, g2, a6), 1);
	/* anything else is no twin: every byte of the prefix and the zeros */
	for (int k = 0; k < 12; k++) {
		for (int bit = 0; bit < 8; bit++) {
			uint8_t x[16];
			memcpy(x, a6, 16);
			x[k] ^= (uint8_t)(1u << bit);
			memset(b4, 0x77, 4);
			assert_int_equal(rn_ip_twin4(b4, g, x), 0);
			assert_memory_equal(b4, "\x77\x77\x77\x77", 4);
		}
	}
	/* another group's twin */
	g2[2] ^= 1;
	assert_int_equal(rn_ip_twin4(a4, g2, a6), 0);
	/* the last 32 bits are any IPv4 address */
	uint64_t seed = rn_test_seed();
	trng r;
	trng_init(&r, seed ^ 0x7477696eull);
	for (uint64_t it = 0; it < 1000; it++) {
		uint8_t gid[32], v4[4], t[16], back[4];
		trng_bytes(&r, gid, 32);
		trng_bytes(&r, v4, 4);
		rn_ip_twin6(t, gid, v4);
		PCHECK(t[0] == 0xfd && memcmp(t + 1, gid, 5) == 0, seed, it);
		PCHECK(rn_ip_twin4(back, gid, t) == 1, seed, it);
		PCHECK(memcmp(back, v4, 4) == 0, seed, it);
		/* a random IPv6 address is (almost surely) no twin */
		trng_bytes(&r, t, 16);
		PCHECK(rn_ip_twin4(back, gid, t) == 0, seed, it);
	}
}

static void test_multicast(void **state)
{
	(void)state;
	static const struct {
		uint8_t a[4];
		int m;
	} v4[] = {
	    {{224, 0, 0, 1}, 1},       {{239, 255, 255, 255}, 1},
	    {{230, 1, 2, 3}, 1},       {{255, 255, 255, 255}, 1},
	    {{223, 255, 255, 255}, 0}, {{240, 0, 0, 1}, 0},
	    {{10, 1, 255, 255}, 0},    {{0, 0, 0, 0}, 0},
	    {{255, 255, 255, 254}, 0}, {{10, 1, 0, 1}, 0},
	};
	for (size_t k = 0; k < sizeof v4 / sizeof *v4; k++) {
		assert_int_equal(rn_ip_is_multicast(v4[k].a, 4, NULL), v4[k].m);
	}
	/* the group prefix's broadcast, when given */
	static const uint8_t bc[4] = {10, 1, 255, 255};
	static const uint8_t x[4] = {10, 1, 255, 255}, y[4] = {10, 1, 255, 254};
	assert_int_equal(rn_ip_is_multicast(x, 4, bc), 1);
	assert_int_equal(rn_ip_is_multicast(x, 4, NULL), 0);
	assert_int_equal(rn_ip_is_multicast(y, 4, bc), 0);
	static const uint8_t m224[4] = {224, 0, 0, 5};
	assert_int_equal(rn_ip_is_multicast(m224, 4, bc), 1);
	uint8_t a6[16] = {0xff, 0x02};
	a6[15] = 1;
	assert_int_equal(rn_ip_is_multicast(a6, 16, NULL), 1);
	a6[0] = 0xfe;
	assert_int_equal(rn_ip_is_multicast(a6, 16, NULL), 0);
	assert_int_equal(rn_ip_is_multicast(A6, 16, bc), 0);
	/* an IPv6 address is never the IPv4 broadcast */
	uint8_t ones[16];
	memset(ones, 0xff, 16);
	assert_int_equal(rn_ip_is_multicast(ones, 16, NULL), 1); /* ff.. */
	ones[0] = 0xfd;
	assert_int_equal(rn_ip_is_multicast(ones, 16, ones), 0);
	/* other lengths are nothing */
	assert_int_equal(rn_ip_is_multicast(a6, 5, NULL), 0);
	assert_int_equal(rn_ip_is_multicast(a6, 0, NULL), 0);
}

/* A TCP segment's checksum with its IPv4 pseudo-header is right. */
static int tcp4_ok(const uint8_t *p, size_t hl, size_t len)
{
	uint8_t ph[12];
	memcpy(ph, p + 12, 8);
	ph[8] = 0;
	ph[9] = RN_IPPROTO_TCP;
	ph[10] = (uint8_t)((len - hl) >> 8);
	ph[11] = (uint8_t)(len - hl);
	return sum_ok(ref_sum(0, ph, 12), p + hl, len - hl);
}

/* A SYN with MSS 1460 (after a NOP and a window scale option): clamped
 * to 1280 with a valid checksum; a smaller MSS, a non-SYN and a SYN
 * without MSS are left alone. */
static void test_clamp_mss(void **state)
{
	(void)state;
	uint8_t p[60];
	size_t len = 20 + 32;
	mk4(p, len, 0, RN_IPPROTO_TCP, A4, B4, 0x4000, NULL);
	uint8_t *t = p + 20;
	memset(t, 0, 32);
	t[12] = 8 << 4; /* 32-byte header */
	t[13] = 0x02;   /* SYN */
	static const uint8_t opts[12] = {1, 3, 3, 7, 2, 4, 0x05, 0xb4, 1, 1, 0, 0};
	memcpy(t + 20, opts, sizeof opts);
	/* a valid checksum first */
	uint8_t ph[12];
	memcpy(ph, p + 12, 8);
	ph[8] = 0;
	ph[9] = RN_IPPROTO_TCP;
	ph[10] = 0;
	ph[11] = 32;
	uint16_t c = (uint16_t)~ref_sum(ref_sum(0, ph, 12), t, 32);
	t[16] = (uint8_t)(c >> 8);
	t[17] = (uint8_t)c;
	assert_true(tcp4_ok(p, 20, len));
	rn_ip ip;
	assert_int_equal(rn_ip_parse(p, len, &ip), 0);
	assert_int_equal(rn_ip_clamp_mss(p, &ip, 1280), 1);
	assert_int_equal(be16(t + 26), 1280);
	assert_true(tcp4_ok(p, 20, len));
	assert_int_equal(rn_ip_clamp_mss(p, &ip, 1300), 0); /* 1280 <= 1300 */
	assert_int_equal(be16(t + 26), 1280);
	t[13] = 0x10; /* ACK: not a SYN */
	t[26] = 0x05;
	t[27] = 0xb4;
	assert_int_equal(rn_ip_clamp_mss(p, &ip, 1000), 0);
	t[13] = 0x02;
	t[24] = 1; /* the MSS option gone: NOPs */
	t[25] = 1;
	t[26] = t[27] = 1;
	assert_int_equal(rn_ip_clamp_mss(p, &ip, 1000), 0);
	/* a UDP packet is never touched */
	mk4(p, 40, 0, RN_IPPROTO_UDP, A4, B4, 0, NULL);
	assert_int_equal(rn_ip_parse(p, 40, &ip), 0);
	assert_int_equal(rn_ip_clamp_mss(p, &ip, 1000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_csum),
	    cmocka_unit_test(test_parse_ip4),
	    cmocka_unit_test(test_parse_icmp_kinds),
	    cmocka_unit_test(test_parse_ip6),
	    cmocka_unit_test(test_parse_malformed),
	    cmocka_unit_test(test_parse_random),
	    cmocka_unit_test(test_icmp_ip4),
	    cmocka_unit_test(test_icmp_ip6),
	    cmocka_unit_test(test_icmp_none),
	    cmocka_unit_test(test_icmp_random),
	    cmocka_unit_test(test_fragment),
	    cmocka_unit_test(test_fragment_random),
	    cmocka_unit_test(test_clamp_mss),
	    cmocka_unit_test(test_twins),
	    cmocka_unit_test(test_multicast),
	};
	printf("# RN_TEST_SEED=%llu\n", (unsigned long long)rn_test_seed());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
