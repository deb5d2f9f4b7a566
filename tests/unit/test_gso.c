/* Unit tests for tunnel/gso.c: the TCP segmentation of the TUN's
 * super-packets and the coalescing of what goes back to the TUN.
 *
 * Super-packets are built here by hand; every segment rn_gso_split emits is
 * checked with this file's own checksums (IPv4 header, TCP with its
 * pseudo-header), lengths, sequence numbers, IP ids and flags, and the
 * payloads are put back together and compared. The segments are then fed
 * to rn_gro_add, and what it writes is checked the same way: one
 * super-packet per run with the right virtio_net_hdr, each other packet
 * as it came with an empty header. Property loops print RN_TEST_SEED.
 */
#include "test_util.h"

#include "core/err.h"
#include "tunnel/gso.h"
#include "tunnel/ip.h"

static uint32_t ref_sum(uint32_t init, const uint8_t *p, size_t n)
{
	uint64_t s = init;
	for (size_t i = 0; i < n; i++)
		s += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
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

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* The TCP pseudo-header's sum for a segment of tcp_len bytes. */
static uint32_t pseudo(const uint8_t *ip, size_t tcp_len)
{
	uint8_t ph[8] = {0, 0, 0, RN_IPPROTO_TCP, 0, 0, 0, 0};
	int v6 = (ip[0] >> 4) == 6;
	uint32_t s = ref_sum(0, ip + (v6 ? 8 : 12), v6 ? 32 : 8);
	put32(ph + 4, (uint32_t)tcp_len);
	return ref_sum(s, ph, 8);
}

/* Whether pkt (IPv4 or IPv6, TCP) has valid checksums. */
static int tcp_ok(const uint8_t *p, size_t len)
{
	size_t hl = (p[0] >> 4) == 4 ? (size_t)(p[0] & 15) * 4 : 40;
	if ((p[0] >> 4) == 4 && ref_sum(0, p, hl) != 0xffff)
		return 0;
	return ref_sum(pseudo(p, len - hl), p + hl, len - hl) == 0xffff;
}

/* A TCP super-packet: IPv4 (v6 = 0) or IPv6, options bytes of TCP
 * options, payload bytes; seq, flags; header checksum set, the TCP one
 * holding only the pseudo-header's sum (as the kernel hands it over). */
static size_t mk_tcp(uint8_t *p, int v6, size_t options, size_t payload,
		     uint32_t seq, uint8_t flags, trng *r)
{
	size_t iphl = v6 ? 40 : 20, thl = 20 + options;
	size_t len = iphl + thl + payload;
	memset(p, 0, iphl + thl);
	if (v6) {
		p[0] = 0x60;
		put16(p + 4, (unsigned)(thl + payload));
		p[6] = RN_IPPROTO_TCP;
		p[7] = 64;
		p[8] = 0xfd;
		p[23] = 1;
		p[24] = 0xfd;
		p[39] = 2;
	} else {
		p[0] = 0x45;
		put16(p + 2, (unsigned)len);
		put16(p + 4, 0x1234);
		p[6] = 0x40; /* DF */
		p[8] = 64;
		p[9] = RN_IPPROTO_TCP;
		p[12] = 10, p[13] = 77, p[15] = 1;
		p[16] = 10, p[17] = 77, p[19] = 2;
		put16(p + 10, ~ref_sum(0, p, 20) & 0xffff);
	}
	uint8_t *t = p + iphl;
	put16(t, 40000);
	put16(t + 2, 5201);
	put32(t + 4, seq);
	put32(t + 8, 0xabcdef01u);
	t[12] = (uint8_t)((thl / 4) << 4);
	t[13] = flags;
	put16(t + 14, 512);
	for (size_t i = 0; i < options; i++)
		t[20 + i] = 1; /* NOP */
	trng_bytes(r, t + thl, payload);
	put16(t + 16, ref_sum(pseudo(p, thl + payload), NULL, 0) & 0xffff);
	return len;
}

/* ---- splitting ----------------------------------------------------------- */

typedef struct seen {
	uint8_t seg[64][1600];
	size_t len[64];
	size_t n;
} seen;

static void on_emit(void *ctx, uint8_t *pkt, size_t len)
{
	seen *s = ctx;
	assert_true(s->n < 64 && len <= sizeof s->seg[0]);
	memcpy(s->seg[s->n], pkt, len);
	s->len[s->n++] = len;
}

static void check_split(const uint8_t *orig, size_t len, size_t gso,
			const seen *s)
{
	int v6 = (orig[0] >> 4) == 6;
	size_t iphl = v6 ? 40 : 20;
	size_t thl = (size_t)(orig[iphl + 12] >> 4) * 4, hl = iphl + thl;
	size_t payload = len - hl, off = 0;
	assert_int_equal(s->n, (payload + gso - 1) / gso);
	for (size_t i = 0; i < s->n; i++) {
		const uint8_t *g = s->seg[i];
		size_t n = s->len[i] - hl;
		int last = i + 1 == s->n;
		assert_true(n == (last ? payload - off : gso));
		assert_true(tcp_ok(g, s->len[i]));
		if (v6) {
			assert_int_equal(be16(g + 4), thl + n);
		} else {
			assert_int_equal(be16(g + 2), hl + n);
			assert_int_equal(be16(g + 4), (0x1234 + i) & 0xffff);
		}
		assert_int_equal(be32(g + iphl + 4),
				 (uint32_t)(be32(orig + iphl + 4) + off)); /* wraps */
		uint8_t f = orig[iphl + 13];
		if (!last)
			f &= (uint8_t)~0x09; /* FIN, PSH only on the last */
		if (i)
			f &= (uint8_t)~0x80; /* CWR only on the first */
		assert_int_equal(g[iphl + 13], f);
		assert_memory_equal(g + hl, orig + hl + off, n);
		off += n;
	}
	assert_int_equal(off, payload);
}

static void test_split(void **state)
{
	(void)state;
	static uint8_t p[70000], scratch[RN_GSO_SCRATCH];
	static seen s;
	trng r;
	trng_init(&r, rn_test_seed());
	for (int v6 = 0; v6 <= 1; v6++) {
		/* 10000 bytes at 1388 (MTU 1440 less headers): 8 segments */
		size_t len = mk_tcp(p, v6, 12, 10000, 0xfffff000u, 0x18 | 0x80,
				    &r);
		rn_vnet_hdr h = {RN_VNET_F_NEEDS_CSUM,
				 v6 ? RN_VNET_GSO_TCPV6 : RN_VNET_GSO_TCPV4,
				 0, 1388, (uint16_t)(v6 ? 40 : 20), 16};
		s.n = 0;
		assert_int_equal(rn_gso_split(&h, p, len, scratch, on_emit, &s),
				 0);
		check_split(p, len, 1388, &s);
	}
}

static void test_split_none_and_bad(void **state)
{
	(void)state;
	static uint8_t p[2000], scratch[RN_GSO_SCRATCH];
	static seen s;
	trng r;
	trng_init(&r, rn_test_seed() + 1);
	/* no GSO, a partial checksum: completed in place */
	size_t len = mk_tcp(p, 0, 0, 1000, 7, 0x18, &r);
	rn_vnet_hdr h = {RN_VNET_F_NEEDS_CSUM, RN_VNET_GSO_NONE, 0, 0, 20, 16};
	s.n = 0;
	assert_int_equal(rn_gso_split(&h, p, len, scratch, on_emit, &s), 0);
	assert_int_equal(s.n, 1);
	assert_true(tcp_ok(s.seg[0], s.len[0]));
	/* a checksum position outside the packet */
	h.csum_start = (uint16_t)len;
	assert_int_equal(rn_gso_split(&h, p, len, scratch, on_emit, &s),
			 RN_ERR_PROTO);
	/* GSO of UDP, a GSO size of 0, a version that does not match */
	len = mk_tcp(p, 0, 0, 1000, 7, 0x10, &r);
	rn_vnet_hdr u = {0, 3 /* UDP */, 0, 500, 20, 16};
	assert_int_equal(rn_gso_split(&u, p, len, scratch, on_emit, &s),
			 RN_ERR_PROTO);
	rn_vnet_hdr z = {0, RN_VNET_GSO_TCPV4, 0, 0, 20, 16};
	assert_int_equal(rn_gso_split(&z, p, len, scratch, on_emit, &s),
			 RN_ERR_PROTO);
	rn_vnet_hdr w6 = {0, RN_VNET_GSO_TCPV6, 0, 500, 20, 16};
	assert_int_equal(rn_gso_split(&w6, p, len, scratch, on_emit, &s),
			 RN_ERR_PROTO);
	/* every truncation of the headers is refused, nothing emitted */
	rn_vnet_hdr g = {0, RN_VNET_GSO_TCPV4, 0, 500, 20, 16};
	for (size_t cut = 0; cut < 40; cut++) {
		s.n = 0;
		assert_int_equal(rn_gso_split(&g, p, cut, scratch, on_emit,
					      &s),
				 RN_ERR_PROTO);
		assert_int_equal(s.n, 0);
	}
}

/* ---- coalescing ---------------------------------------------------------- */

typedef struct written {
	uint8_t buf[8][RN_VNET_HDR_LEN + RN_GSO_MAX];
	size_t len[8];
	size_t n;
} written;

static void on_write(void *ctx, const uint8_t *b, size_t len)
{
	written *w = ctx;
	assert_true(w->n < 8 && len <= sizeof w->buf[0]);
	memcpy(w->buf[w->n], b, len);
	w->len[w->n++] = len;
}

static void test_gro_roundtrip(void **state)
{
	(void)state;
	static uint8_t p[70000], scratch[RN_GSO_SCRATCH];
	static seen s;
	static written w;
	static rn_gro g;
	trng r;
	trng_init(&r, rn_test_seed() + 2);
	for (int v6 = 0; v6 <= 1; v6++) {
		size_t len = mk_tcp(p, v6, 12, 20000, 1000, 0x18, &r);
		rn_vnet_hdr h = {0, v6 ? RN_VNET_GSO_TCPV6 : RN_VNET_GSO_TCPV4,
				 0, 1388, 0, 0};
		s.n = 0;
		assert_int_equal(rn_gso_split(&h, p, len, scratch, on_emit, &s),
				 0);
		rn_gro_init(&g);
		w.n = 0;
		for (size_t i = 0; i < s.n; i++)
			rn_gro_add(&g, s.seg[i], s.len[i], on_write, &w);
		/* the last segment has PSH: the run is written at once */
		assert_int_equal(w.n, 1);
		rn_vnet_hdr out;
		rn_vnet_hdr_read(&out, w.buf[0]);
		size_t iphl = v6 ? 40 : 20, hl = iphl + 32;
		assert_int_equal(out.gso_type,
				 v6 ? RN_VNET_GSO_TCPV6 : RN_VNET_GSO_TCPV4);
		assert_int_equal(out.flags, RN_VNET_F_NEEDS_CSUM);
		assert_int_equal(out.gso_size, 1388);
		assert_int_equal(out.hdr_len, hl);
		assert_int_equal(out.csum_start, iphl);
		assert_int_equal(out.csum_offset, 16);
		const uint8_t *q = w.buf[0] + RN_VNET_HDR_LEN;
		size_t qlen = w.len[0] - RN_VNET_HDR_LEN;
		assert_int_equal(qlen, len);
		if (v6)
			assert_int_equal(be16(q + 4), qlen - 40);
		else
			assert_int_equal(ref_sum(0, q, 20), 0xffff);
		assert_memory_equal(q + hl, p + hl, len - hl);
		assert_int_equal(be32(q + iphl + 4), 1000);
		assert_true(q[iphl + 13] & 0x08); /* PSH kept */
		/* the TCP checksum field holds the pseudo-header's sum */
		assert_int_equal(be16(q + iphl + 16),
				 ref_sum(pseudo(q, qlen - iphl), NULL, 0));
		assert_int_equal(g.merged, s.n);
	}
}

static void test_gro_breaks(void **state)
{
	(void)state;
	static uint8_t a[2000], b[2000], c[2000];
	static written w;
	static rn_gro g;
	trng r;
	trng_init(&r, rn_test_seed() + 3);
	rn_gro_init(&g);
	w.n = 0;
	size_t la = mk_tcp(a, 0, 0, 1000, 100, 0x10, &r);
	size_t lb = mk_tcp(b, 0, 0, 1000, 5000, 0x10, &r); /* a gap */
	rn_gro_add(&g, a, la, on_write, &w);
	assert_int_equal(w.n, 0);                 /* held */
	rn_gro_add(&g, b, lb, on_write, &w);
	assert_int_equal(w.n, 1);                 /* a, on its own */
	rn_vnet_hdr h;
	rn_vnet_hdr_read(&h, w.buf[0]);
	assert_int_equal(h.gso_type, RN_VNET_GSO_NONE);
	assert_int_equal(w.len[0], RN_VNET_HDR_LEN + la);
	assert_memory_equal(w.buf[0] + RN_VNET_HDR_LEN, a, la);
	/* a pure ACK and a SYN are written as they are, after the run */
	size_t lc = mk_tcp(c, 0, 0, 0, 6000, 0x10, &r);
	rn_gro_add(&g, c, lc, on_write, &w);
	assert_int_equal(w.n, 3);
	assert_memory_equal(w.buf[1] + RN_VNET_HDR_LEN, b, lb);
	assert_memory_equal(w.buf[2] + RN_VNET_HDR_LEN, c, lc);
	lc = mk_tcp(c, 0, 0, 10, 6000, 0x02, &r);
	rn_gro_add(&g, c, lc, on_write, &w);
	assert_int_equal(w.n, 4);
	/* not TCP: written as it is */
	memset(c, 0, 60);
	c[0] = 0x45;
	put16(c + 2, 60);
	c[9] = RN_IPPROTO_UDP;
	rn_gro_add(&g, c, 60, on_write, &w);
	assert_int_equal(w.n, 5);
	rn_gro_flush(&g, on_write, &w);
	assert_int_equal(w.n, 5); /* nothing held */
}

/* Random segment streams: what comes out, run by run, is the input's
 * payload in order, and each written packet is one flow's. */
static void test_gro_random(void **state)
{
	(void)state;
	static uint8_t p[1600];
	static written w;
	static rn_gro g;
	static uint8_t want[200000], got[200000];
	uint64_t seed = rn_test_seed();
	trng r;
	trng_init(&r, seed + 4);
	for (int it = 0; it < 50; it++) {
		size_t nw = 0, ng = 0;
		uint32_t seq = (uint32_t)trng_u64(&r);
		rn_gro_init(&g);
		int segs = 1 + (int)trng_below(&r, 100);
		for (int i = 0; i < segs; i++) {
			size_t n = trng_below(&r, 8) ? 1388
						     : 1 + trng_below(&r, 1388);
			uint8_t f = trng_below(&r, 10) ? 0x10 : 0x18;
			size_t len = mk_tcp(p, 0, 12, n, seq, f, &r);
			memcpy(want + nw, p + 52, n);
			nw += n;
			seq += (uint32_t)n;
			w.n = 0;
			rn_gro_add(&g, p, len, on_write, &w);
			for (size_t k = 0; k < w.n; k++) {
				size_t l = w.len[k] - RN_VNET_HDR_LEN - 52;
				memcpy(got + ng, w.buf[k] + RN_VNET_HDR_LEN + 52,
				       l);
				ng += l;
				PCHECK(w.len[k] <= RN_VNET_HDR_LEN + RN_GSO_MAX,
				       seed, it);
			}
		}
		w.n = 0;
		rn_gro_flush(&g, on_write, &w);
		for (size_t k = 0; k < w.n; k++) {
			size_t l = w.len[k] - RN_VNET_HDR_LEN - 52;
			memcpy(got + ng, w.buf[k] + RN_VNET_HDR_LEN + 52, l);
			ng += l;
		}
		PCHECK(ng == nw, seed, it);
		PCHECK(memcmp(got, want, nw) == 0, seed, it);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_split),
	    cmocka_unit_test(test_split_none_and_bad),
	    cmocka_unit_test(test_gro_roundtrip),
	    cmocka_unit_test(test_gro_breaks),
	    cmocka_unit_test(test_gro_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
