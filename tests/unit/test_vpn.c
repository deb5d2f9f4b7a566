/* Unit tests for the group VPN's data plane (tunnel/vpn.c, tunnel/e2e.c)
 * on whole nodes in the fake environment, crypto real as in test_sec.c:
 * every member has its certificate, a DHT (whose results with
 * RN_VPN_RID_BIT go to rn_vpn_on_dht_result), its member record published
 * in it, and an rn_vpn on top. The ring is 7 members with near_k = 2 and
 * no far links, so some pairs have no direct link and their packets cross
 * the ring end to end.
 *
 * A tap sits between each node and its VPN: it passes everything through
 * and keeps the latest E2E_DATA, E2E_INIT and E2E_RESP body it saw, so a
 * test can replay them as a relay could (a relay sees those bodies). A
 * "rogue" member makes an end-to-end session by hand with tunnel/e2e.h and
 * its own certificate, to send what an honest VPN never sends (a foreign
 * inner destination, a non-IP payload).
 *
 * Packets are built here by hand (IPv4 header checksum by this file's own
 * code) in buffers with RN_VPN_HEADROOM / RN_VPN_TAILROOM, and what comes
 * out of a TUN is compared byte for byte with a copy of what went in.
 */
#define FAKE_NODES_MAX 10
#include "fake_env.h"

#include <sodium.h>

#include "core/cert.h"
#include "core/err.h"
#include "dht/dht.h"
#include "dht/member.h"
#include "tunnel/e2e.h"
#include "tunnel/ip.h"
#include "tunnel/vpn.h"
#include "overlay/node_impl.h" /* relay entries: when the next try is */

#define RING        7
#define RID_PUBLISH 1u
#define PKT_ROOM    2000

enum { T_DATA, T_INIT, T_RESP, T_KINDS };

typedef struct tap_body {
	rn_id src;
	uint16_t len;
	uint8_t b[RN_PLAIN_MAX];
} tap_body;

/* Between a node and its VPN: passes through, keeps the latest E2E
 * bodies by kind. */
typedef struct tap {
	const rn_upper *inner;
	rn_upper up;
	tap_body last[T_KINDS];
	uint64_t n[T_KINDS];
} tap;

struct fx;

typedef struct member {
	struct fx *f;
	uint32_t idx;
	rn_dht *d;
	rn_vpn *v;
	tap t;
	uint32_t put_ok, put_fail;
} member;

typedef struct fx {
	fake_world *w;
	uint8_t group_sk[RN_SIGN_SK_LEN];
	rn_ident id[FAKE_NODES_MAX];
	rn_dht_settings ds;
	rn_vpn_settings vs;
	member m[FAKE_NODES_MAX];
} fx;

/* A packet buffer with the room rn_vpn_from_tun needs around it. */
typedef struct pbuf {
	uint8_t room[RN_VPN_HEADROOM + PKT_ROOM + RN_VPN_TAILROOM];
} pbuf;

static uint8_t *at(pbuf *b)
{
	return b->room + RN_VPN_HEADROOM;
}

/* ---- packets ----------------------------------------------------------- */

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

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* An IPv4 UDP packet of total bytes; its payload a pattern of tag. */
static size_t udp4(uint8_t *p, const uint8_t src[4], const uint8_t dst[4],
                   size_t total, int df, uint32_t tag)
{
	memset(p, 0, 28);
	p[0] = 0x45;
	put16(p + 2, (unsigned)total);
	put16(p + 4, tag & 0xffff);
	put16(p + 6, df ? 0x4000 : 0);
	p[8] = 64;
	p[9] = RN_IPPROTO_UDP;
	memcpy(p + 12, src, 4);
	memcpy(p + 16, dst, 4);
	put16(p + 10, ~ref_sum(0, p, 20) & 0xffff);
	put16(p + 20, 40000);
	put16(p + 22, 7);
	put16(p + 24, (unsigned)(total - 20));
	for (size_t i = 28; i < total; i++)
		p[i] = (uint8_t)(tag * 31u + i);
	return total;
}

static size_t udp6(uint8_t *p, const uint8_t src[16], const uint8_t dst[16],
                   size_t total, uint32_t tag)
{
	memset(p, 0, 48);
	p[0] = 0x60;
	put16(p + 4, (unsigned)(total - 40));
	p[6] = RN_IPPROTO_UDP;
	p[7] = 64;
	memcpy(p + 8, src, 16);
	memcpy(p + 24, dst, 16);
	put16(p + 40, 40000);
	put16(p + 42, 7);
	put16(p + 44, (unsigned)(total - 40));
	for (size_t i = 48; i < total; i++)
		p[i] = (uint8_t)(tag * 17u + i);
	return total;
}

/* ---- the group --------------------------------------------------------- */

static uint64_t unix_s(const fake_world *w)
{
	return (uint64_t)((int64_t)(w->now / 1000u) + w->sh.unix_offset_ms) /
	       1000u;
}

static void make_ident(fx *f, uint32_t i)
{
	uint8_t seed[RN_KEY_SEED_LEN], pk[RN_SIGN_PK_LEN], sk[RN_SIGN_SK_LEN];
	trng g;
	trng_init(&g, rn_test_seed() * 977u + i);
	trng_bytes(&g, seed, sizeof seed);
	assert_int_equal(rn_nodekey_keypair(pk, sk, seed), 0);
	uint8_t vip[4];
	fake_vip(i, vip);
	uint64_t t = unix_s(f->w);
	rn_cert c;
	uint8_t enc[RN_CERT_ENCODED_MAX];
	size_t len;
	assert_int_equal(rn_cert_issue(&c, f->group_sk, pk, vip, 4, "member",
	                               t - 60, t + 86400),
	                 0);
	assert_int_equal(rn_cert_encode(&c, enc, sizeof enc, &len), 0);
	assert_int_equal(rn_ident_init(&f->id[i], sk, enc, len), 0);
}

static void on_result(void *ctx, const rn_dht_result *r)
{
	member *m = ctx;
	if (r->rid & RN_VPN_RID_BIT) {
		if (m->v)
			rn_vpn_on_dht_result(m->v, m->f->w->now, r);
		return;
	}
	if (r->rid == RID_PUBLISH || r->rid == 0) {
		if (r->status)
			m->put_fail++;
		else
			m->put_ok++;
	}
}

static void tap_routed(void *ctx, rn_time now, const rn_id *src,
                       const uint8_t *body, size_t len, uint8_t hops)
{
	tap *t = ctx;
	int k = -1;
	if (len >= 2 && body[1] == RN_E2E_DATA)
		k = T_DATA;
	else if (len >= 2 && body[1] == RN_E2E_INIT)
		k = T_INIT;
	else if (len >= 2 && body[1] == RN_E2E_RESP)
		k = T_RESP;
	if (k >= 0 && len <= sizeof t->last[k].b) {
		t->last[k].src = *src;
		t->last[k].len = (uint16_t)len;
		memcpy(t->last[k].b, body, len);
		t->n[k]++;
	}
	t->inner->on_routed(t->inner->ctx, now, src, body, len, hops);
}

static uint32_t tap_tick(void *ctx, rn_time now, uint32_t now_ms,
                         int near_changed)
{
	tap *t = ctx;
	return t->inner->tick(t->inner->ctx, now, now_ms, near_changed);
}

static void tap_ip(void *ctx, rn_time now, const rn_id *peer,
                   const uint8_t *vip, size_t vip_len, const uint8_t *pkt,
                   size_t len)
{
	tap *t = ctx;
	t->inner->on_ip(t->inner->ctx, now, peer, vip, vip_len, pkt, len);
}

/* Replays a body the tap kept into the VPN, as if routed again. */
static void tap_replay(member *m, int kind)
{
	tap *t = &m->t;
	assert_true(t->n[kind] > 0);
	t->inner->on_routed(t->inner->ctx, m->f->w->now, &t->last[kind].src,
	                    t->last[kind].b, t->last[kind].len, 1);
}

/* Node i's DHT, VPN and tap (the node exists and has its identity). */
static void stack_up(fx *f, uint32_t i)
{
	fake_world *w = f->w;
	member *m = &f->m[i];
	uint8_t vip[4];
	fake_vip(i, vip);
	memset(m, 0, sizeof *m);
	m->f = f;
	m->idx = i;
	m->d = rn_dht_new(w->node[i], &f->ds, w->group, w->sh.group_pk,
	                  &f->id[i], NULL, on_result, m);
	assert_non_null(m->d);
	m->v = rn_vpn_new(w->node[i], m->d, &f->vs, w->group, w->sh.group_pk,
	                  &f->id[i], vip, 4);
	assert_non_null(m->v);
	m->t.inner = rn_node_get_upper(w->node[i]);
	assert_non_null(m->t.inner);
	m->t.up.ctx = &m->t;
	m->t.up.on_routed = tap_routed;
	m->t.up.tick = tap_tick;
	m->t.up.on_ip = tap_ip;
	rn_node_set_upper(w->node[i], &m->t.up);
}

static void stack_down(fx *f, uint32_t i)
{
	member *m = &f->m[i];
	if (f->w->node[i] && rn_node_get_upper(f->w->node[i]) == &m->t.up)
		rn_node_set_upper(f->w->node[i], m->t.inner);
	rn_vpn_free(m->v);
	m->v = NULL;
	rn_dht_free(m->d);
	m->d = NULL;
}

static void publish(fx *f, uint32_t i)
{
	fake_world *w = f->w;
	rn_member mb;
	uint8_t val[RN_MEMBER_VALUE_MAX], vip[4];
	size_t len;
	memset(&mb, 0, sizeof mb);
	mb.n = 1;
	mb.kind[0] = RN_MEMBER_EP_LOCAL;
	mb.ep[0] = w->ep[i];
	assert_int_equal(rn_member_encode(&mb, val, sizeof val, &len), 0);
	fake_vip(i, vip);
	assert_int_equal(rn_dht_write(f->m[i].d, w->now, RID_PUBLISH,
	                              RN_DHT_PUT, "member", vip, 4, val, len,
	                              3600, RN_REC_REPLACE, 1),
	                 0);
}

static void join(fx *f, uint32_t i, uint32_t boot, int alone)
{
	fake_world *w = f->w;
	assert_int_equal(
	    rn_node_join(w->node[i], w->now, &w->ep[boot], alone ? 0 : 1), 0);
}

/* Members 0..n-1 in a ring, each with its record published. */
static void ring_of(fx *f, uint32_t n)
{
	fake_world *w = f->w;
	for (uint32_t i = 0; i < n; i++) {
		assert_non_null(fake_add_node(w));
		make_ident(f, i);
		assert_int_equal(rn_node_set_ident(w->node[i], &f->id[i]), 0);
		stack_up(f, i);
		join(f, i, 0, i == 0);
		fake_pump(w, 3000);
	}
	fake_pump(w, 20000);
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(rn_node_state(w->node[i]), RN_NODE_JOINED);
		publish(f, i);
	}
	fake_pump(w, 5000);
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(f->m[i].put_fail, 0);
		assert_true(f->m[i].put_ok >= 1);
	}
}

static int setup(void **state)
{
	fx *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	f->w = fake_world_new(rn_test_seed());
	if (!f->w) {
		free(f);
		return -1;
	}
	fake_world *w = f->w;
	w->settings.near_k = 2;
	w->settings.far_kind = RN_FAR_NONE;
	if (fake_real_group(w, f->group_sk))
		return -1;
	rn_dht_settings_default(&f->ds);
	f->ds.replicas = 3;
	rn_vpn_settings_default(&f->vs);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	uint64_t bad = w->bad_sends, ovf = w->sends_overflow;
	uint64_t big = w->tun_oversize;
	for (uint32_t i = 0; i < w->n_nodes; i++)
		stack_down(f, i);
	fake_world_free(w);
	free(f);
	if (bad || ovf || big) {
		print_error(
		    "bad sends %llu, overflows %llu, oversize TUN writes "
		    "%llu [RN_TEST_SEED=%llu]\n",
		    (unsigned long long)bad, (unsigned long long)ovf,
		    (unsigned long long)big,
		    (unsigned long long)rn_test_seed());
		return -1;
	}
	return 0;
}

/* ---- helpers ----------------------------------------------------------- */

static const rn_vpn_stats *S(fx *f, uint32_t i)
{
	return rn_vpn_get_stats(f->m[i].v);
}

static void vip4(uint32_t i, uint8_t out[4])
{
	fake_vip(i, out);
}

static void twin(fx *f, uint32_t i, uint8_t out[16])
{
	uint8_t v[4];
	fake_vip(i, v);
	rn_ip_twin6(out, f->w->group, v);
}

/* Whether i holds a link to j, of any state. */
static int has_link(const fake_world *w, uint32_t i, uint32_t j)
{
	rn_link_info li[32];
	size_t n = rn_node_links(w->node[i], li, 32);
	for (size_t k = 0; k < n && k < 32; k++)
		if (rn_ep_eq(&li[k].ep, &w->ep[j]))
			return 1;
	return 0;
}

static int linked(const fake_world *w, uint32_t i, uint32_t j)
{
	return has_link(w, i, j) || has_link(w, j, i);
}

/* The first pair (a, b) of members in [lo, n) without (want 0) or with an
 * up link (want 1), a != b; skips skip_a as a. */
static void pick(fx *f, uint32_t lo, uint32_t n, int want, uint32_t *a,
                 uint32_t *b)
{
	for (uint32_t i = lo; i < n; i++)
		for (uint32_t j = lo; j < n; j++)
			if (i != j && linked(f->w, i, j) == want) {
				*a = i;
				*b = j;
				return;
			}
	fail_msg("no pair with link=%d [RN_TEST_SEED=%llu]", want,
	         (unsigned long long)rn_test_seed());
}

/* Node i's TUN: the back-th latest packet is exactly p[0..len). */
static void assert_tun(fx *f, uint32_t i, uint64_t back, const uint8_t *p,
                       size_t len)
{
	const fake_tun_pkt *t = fake_tun_last(f->w, i, back);
	assert_non_null(t);
	assert_int_equal(t->len, len);
	assert_memory_equal(t->data, p, len);
}

/* Sends p[0..len) into node i's TUN (from a copy with headroom). */
static void from_tun(fx *f, uint32_t i, const uint8_t *p, size_t len)
{
	pbuf b;
	memcpy(at(&b), p, len);
	rn_vpn_from_tun(f->m[i].v, f->w->now, at(&b), len);
}

/* An ICMP error in node i's TUN (the latest packet): version v, from src
 * to dst, type/code/word as given, quoting orig; checksums recomputed. */
static void assert_icmp(fx *f, uint32_t i, const uint8_t *src,
                        const uint8_t *dst, uint8_t type, uint8_t code,
                        uint32_t word, const uint8_t *orig, size_t orig_len)
{
	const fake_tun_pkt *t = fake_tun_last(f->w, i, 0);
	assert_non_null(t);
	rn_ip ip;
	assert_int_equal(rn_ip_parse(t->data, t->len, &ip), 0);
	assert_int_equal(ip.total_len, t->len);
	size_t hl = ip.version == 4 ? 20 : 40;
	assert_int_equal(ip.hdr_len, hl);
	assert_memory_equal(ip.src, src, ip.addr_len);
	assert_memory_equal(ip.dst, dst, ip.addr_len);
	const uint8_t *ic = t->data + hl;
	size_t ilen = t->len - hl;
	if (ip.version == 4) {
		assert_int_equal(ip.proto, RN_IPPROTO_ICMP);
		assert_int_equal(ref_sum(0, t->data, 20), 0xffff);
		assert_int_equal(ref_sum(0, ic, ilen), 0xffff);
	} else {
		assert_int_equal(ip.proto, RN_IPPROTO_ICMP6);
		uint8_t ph[40] = {0};
		memcpy(ph, t->data + 8, 32);
		ph[34] = (uint8_t)(ilen >> 8);
		ph[35] = (uint8_t)ilen;
		ph[39] = 58;
		assert_int_equal(ref_sum(ref_sum(0, ph, 40), ic, ilen), 0xffff);
	}
	assert_int_equal(ic[0], type);
	assert_int_equal(ic[1], code);
	uint32_t wd = (uint32_t)ic[4] << 24 | (uint32_t)ic[5] << 16 |
	              (uint32_t)ic[6] << 8 | ic[7];
	assert_int_equal(wd, word);
	size_t q =
	    orig_len < RN_IP_ICMP_QUOTE_MAX ? orig_len : RN_IP_ICMP_QUOTE_MAX;
	assert_int_equal(ilen, 8 + q);
	assert_memory_equal(ic + 8, orig, q);
}

/* a sends to b once and waits: the session is up both ways. */
static void session(fx *f, uint32_t a, uint32_t b)
{
	uint8_t p[200], s[4], d[4];
	vip4(a, s);
	vip4(b, d);
	uint64_t up = S(f, a)->hs_up, rx = S(f, b)->rx_relayed;
	from_tun(f, a, p, udp4(p, s, d, 100, 1, 999));
	fake_pump(f->w, 2000);
	assert_int_equal(S(f, a)->hs_up, up + 1);
	assert_int_equal(S(f, b)->rx_relayed, rx + 1);
}

/* ---- the rogue member -------------------------------------------------- */

/* Member a, outside its VPN, makes an end-to-end session with b by hand
 * (its real certificate and key), into k. */
static void rogue_session(fx *f, uint32_t a, uint32_t b, rn_e2e_keys *k)
{
	fake_world *w = f->w;
	rn_e2e_ctx c = {w->group, w->sh.group_pk, &f->id[a],
	                *rn_node_id(w->node[a])};
	rn_id to = *rn_node_id(w->node[b]);
	uint8_t e_sk[32], e_pk[32], h_i[32], body[RN_BODY_MAX];
	size_t len;
	const uint32_t idx_i = 0x7fff0001u;
	trng g;
	trng_init(&g, rn_test_seed() ^ 0x726f677565ull);
	trng_bytes(&g, e_sk, 32);
	crypto_scalarmult_base(e_pk, e_sk);
	assert_int_equal(rn_e2e_init_write(&c, &to, idx_i, e_pk,
	                                   rn_node_unix_ms(w->node[a], w->now),
	                                   body, sizeof body, &len, h_i),
	                 0);
	uint64_t resps = f->m[a].t.n[T_RESP];
	assert_int_equal(
	    rn_node_route_body(w->node[a], w->now, &to, 0, body, len), 0);
	fake_pump(w, 1000);
	assert_int_equal(f->m[a].t.n[T_RESP], resps + 1);
	tap_body *r = &f->m[a].t.last[T_RESP];
	rn_e2e_hs m;
	rn_cert peer;
	assert_int_equal(rn_e2e_hs_decode(r->b, r->len, &m), 0);
	assert_int_equal(m.idx_i, idx_i);
	assert_int_equal(
	    rn_e2e_resp_check(&c, &to, &m, unix_s(w), h_i, e_sk, &peer, k), 0);
	assert_int_equal(peer.vip_len, 4);
}

static void rogue_send(fx *f, uint32_t a, uint32_t b, rn_e2e_keys *k,
                       const uint8_t *p, size_t len)
{
	pbuf pb;
	uint8_t *body;
	size_t blen;
	memcpy(at(&pb), p, len);
	assert_int_equal(rn_e2e_seal(k, at(&pb), len, &body, &blen), 0);
	assert_int_equal(rn_node_route_data(f->w->node[a], f->w->now,
	                                    rn_node_id(f->w->node[b]), body,
	                                    blen),
	                 0);
}

/* ---- tests ------------------------------------------------------------- */

/* (a) Two linked members: packets go over the link, unchanged. */
static void test_direct(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	ring_of(f, RING);
	uint32_t a, b;
	pick(f, 0, RING, 1, &a, &b);
	uint8_t p[1500], s[4], d[4], s6[16], d6[16];
	vip4(a, s);
	vip4(b, d);
	size_t n = udp4(p, s, d, 300, 1, 1);
	from_tun(f, a, p, n);
	assert_int_equal(S(f, a)->tun_rx, 1);
	assert_int_equal(S(f, a)->tx_direct, 1);
	fake_pump(w, 100);
	assert_int_equal(w->tun_count[b], 1);
	assert_tun(f, b, 0, p, n);
	assert_int_equal(S(f, b)->rx_direct, 1);
	/* no end-to-end session for a linked pair */
	assert_int_equal(S(f, a)->hs_init_sent, 0);
	assert_int_equal(S(f, a)->tx_relayed, 0);
	assert_int_equal(S(f, a)->tx_queued, 0);
	/* the largest packet a link carries, DF or not */
	n = udp4(p, s, d, RN_IP_MAX, 1, 2);
	from_tun(f, a, p, n);
	fake_pump(w, 100);
	assert_int_equal(w->tun_count[b], 2);
	assert_tun(f, b, 0, p, n);
	/* IPv6 twins, both ways */
	twin(f, a, s6);
	twin(f, b, d6);
	n = udp6(p, s6, d6, 500, 3);
	from_tun(f, a, p, n);
	fake_pump(w, 100);
	assert_int_equal(w->tun_count[b], 3);
	assert_tun(f, b, 0, p, n);
	n = udp6(p, d6, s6, 120, 4);
	from_tun(f, b, p, n);
	fake_pump(w, 100);
	assert_int_equal(w->tun_count[a], 1);
	assert_tun(f, a, 0, p, n);
	assert_int_equal(S(f, a)->tx_direct, 3);
	assert_int_equal(S(f, b)->rx_direct, 3);
	assert_int_equal(S(f, a)->rx_direct, 1);
	/* nobody else saw anything */
	for (uint32_t i = 0; i < RING; i++)
		if (i != a && i != b)
			assert_int_equal(w->tun_count[i], 0);
	/* not IP, multicast, to ourselves: dropped at the TUN, counted */
	uint8_t junk[40] = {0x90, 1, 2};
	from_tun(f, a, junk, sizeof junk);
	assert_int_equal(S(f, a)->drop_bad, 1);
	static const uint8_t mc[4] = {224, 0, 0, 251};
	from_tun(f, a, p, udp4(p, s, mc, 60, 0, 5));
	assert_int_equal(S(f, a)->drop_mcast, 1);
	from_tun(f, a, p, udp4(p, s, s, 60, 0, 6));
	twin(f, a, s6);
	from_tun(f, a, p, udp6(p, d6, s6, 60, 7));
	assert_int_equal(S(f, a)->drop_self, 2);
	fake_pump(w, 100);
	assert_int_equal(w->tun_count[b], 3);
}

/* (b) No direct link: end to end over the ring, the first packet queued
 * until the session is up. */
static void test_relayed(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	ring_of(f, RING);
	uint32_t a, b;
	pick(f, 0, RING, 0, &a, &b);
	uint8_t p[1500], q[1500], s[4], d[4], s6[16], d6[16];
	vip4(a, s);
	vip4(b, d);
	size_t n = udp4(p, s, d, 400, 1, 1);
	from_tun(f, a, p, n);
	assert_int_equal(S(f, a)->tx_queued, 1);
	assert_int_equal(S(f, a)->tx_relayed, 0);
	assert_int_equal(S(f, a)->hs_init_sent, 1);
	assert_int_equal(S(f, a)->resolve_sent, 1);
	uint32_t peers, e2e;
	rn_vpn_peer_counts(f->m[a].v, &peers, &e2e);
	assert_int_equal(peers, 1);
	assert_int_equal(e2e, 0);
	/* a second one waits too, behind it */
	size_t n2 = udp4(q, s, d, 200, 1, 2);
	from_tun(f, a, q, n2);
	assert_int_equal(S(f, a)->tx_queued, 2);
	assert_int_equal(S(f, a)->hs_init_sent, 1);
	fake_pump(w, 2000);
	assert_int_equal(S(f, a)->hs_up, 1);
	assert_int_equal(S(f, b)->hs_up, 1);
	assert_int_equal(S(f, b)->hs_resp_sent, 1);
	assert_int_equal(S(f, a)->tx_relayed, 2);
	assert_int_equal(S(f, b)->rx_relayed, 2);
	assert_int_equal(w->tun_count[b], 2);
	assert_tun(f, b, 1, p, n);
	assert_tun(f, b, 0, q, n2);
	assert_int_equal(S(f, a)->resolve_none, 0);
	assert_int_equal(S(f, a)->drop_unreach, 0);
	assert_int_equal(S(f, a)->hs_refused + S(f, b)->hs_refused, 0);
	rn_vpn_peer_counts(f->m[a].v, &peers, &e2e);
	assert_int_equal(peers, 1);
	assert_int_equal(e2e, 1);
	/* now at once, no queue */
	n = udp4(p, s, d, 1000, 0, 3);
	from_tun(f, a, p, n);
	assert_int_equal(S(f, a)->tx_relayed, 3);
	assert_int_equal(S(f, a)->tx_queued, 2);
	fake_pump(w, 500);
	assert_tun(f, b, 0, p, n);
	/* the reply, on the session b answered */
	n = udp4(p, d, s, 150, 1, 4);
	from_tun(f, b, p, n);
	assert_int_equal(S(f, b)->tx_relayed, 1);
	assert_int_equal(S(f, b)->hs_init_sent, 0);
	fake_pump(w, 500);
	assert_int_equal(w->tun_count[a], 1);
	assert_tun(f, a, 0, p, n);
	assert_int_equal(S(f, a)->rx_relayed, 1);
	/* IPv6 twins over the same session */
	twin(f, a, s6);
	twin(f, b, d6);
	n = udp6(p, s6, d6, 700, 5);
	from_tun(f, a, p, n);
	fake_pump(w, 500);
	assert_tun(f, b, 0, p, n);
	n = udp6(p, d6, s6, 80, 6);
	from_tun(f, b, p, n);
	fake_pump(w, 500);
	assert_tun(f, a, 0, p, n);
	assert_int_equal(S(f, a)->hs_up + S(f, b)->hs_up, 2);
	assert_int_equal(S(f, b)->rx_relayed, 4);
	assert_int_equal(S(f, a)->rx_relayed, 2);
	assert_int_equal(S(f, a)->drop_e2e + S(f, b)->drop_e2e, 0);
	/* all of it end to end: still no link between them */
	assert_false(linked(w, a, b));
	assert_int_equal(S(f, a)->tx_direct + S(f, b)->tx_direct, 0);
}

/* a's link to b as rn_node_links reports it; 0 if none. */
static int link_info(fake_world *w, uint32_t a, uint32_t b, rn_link_info *out)
{
	rn_link_info li[64];
	size_t n = rn_node_links(w->node[a], li, 64);
	for (size_t i = 0; i < n && i < 64; i++)
		if (rn_id_cmp(&li[i].id, rn_node_id(w->node[b])) == 0) {
			*out = li[i];
			return 1;
		}
	return 0;
}

/* (b'') Shortcuts (overlay/shortcut.c): a flow that stays under
 * shortcut_pkts a second stays end to end over the ring; a hot one gets a
 * direct link, over which it then goes with the link's keys; idle, the
 * link goes again and the flow, if it comes back, is relayed. */
static void test_shortcut(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	ring_of(f, RING);
	uint32_t a, b;
	pick(f, 0, RING, 0, &a, &b);
	uint8_t p[1500], s[4], d[4];
	vip4(a, s);
	vip4(b, d);
	uint64_t sent = 0, tun_b = w->tun_count[b];
	const rn_node_stats *na = rn_node_get_stats(w->node[a]);
	/* 10 a second for 3 s: cold */
	for (uint32_t i = 0; i < 30; i++, sent++) {
		from_tun(f, a, p, udp4(p, s, d, 300, 1, i));
		fake_pump(w, 100);
	}
	fake_pump(w, 2000);
	assert_false(linked(w, a, b));
	assert_int_equal(na->shortcuts_asked, 0);
	assert_int_equal(S(f, a)->tx_relayed, sent);
	/* 200 at once: hot */
	for (uint32_t i = 0; i < 200; i++, sent++) {
		from_tun(f, a, p, udp4(p, s, d, 1000, 1, 100 + i));
		fake_pump(w, 2);
	}
	fake_pump(w, 3000);
	assert_int_equal(na->shortcuts_asked, 1);
	assert_true(linked(w, a, b));
	rn_link_info li;
	assert_true(link_info(w, a, b, &li));
	assert_true(li.up);
	assert_true(li.shortcut);
	assert_false(li.near);
	uint64_t direct = S(f, a)->tx_direct, relayed = S(f, a)->tx_relayed;
	for (uint32_t i = 0; i < 50; i++, sent++) {
		from_tun(f, a, p, udp4(p, s, d, 1000, 1, 300 + i));
		fake_pump(w, 20);
	}
	fake_pump(w, 500);
	assert_int_equal(S(f, a)->tx_direct, direct + 50);
	assert_int_equal(S(f, a)->tx_relayed, relayed);
	assert_int_equal(S(f, b)->rx_direct, 50);
	assert_int_equal(w->tun_count[b], tun_b + sent);
	assert_int_equal(S(f, a)->drop_e2e + S(f, b)->drop_e2e, 0);
	/* idle for the shortcut's idle time and the trim grace: gone */
	fake_pump(w, 30000 + 2 * 5000 + 2000);
	assert_false(linked(w, a, b));
	assert_int_equal(na->shortcuts_asked, 1);
	from_tun(f, a, p, udp4(p, s, d, 200, 1, 999));
	sent++;
	fake_pump(w, 500);
	assert_int_equal(S(f, a)->tx_relayed, relayed + 1);
	assert_int_equal(w->tun_count[b], tun_b + sent);
}

/* (b''') The shortcut table is bounded: with room for one wish, a second
 * hot destination is refused and counted, and stays relayed. */
static void test_shortcut_bounded(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	w->settings.shortcuts_max = 1;
	ring_of(f, RING);
	uint32_t a, b, c = RING;
	pick(f, 0, RING, 0, &a, &b);
	for (uint32_t j = 0; j < RING && c == RING; j++)
		if (j != a && j != b && !linked(w, a, j))
			c = j;
	if (c == RING)
		fail_msg("member %u has one unlinked peer only [RN_TEST_SEED=%llu]",
		         a, (unsigned long long)rn_test_seed());
	uint8_t p[1500], s[4], d[4], e[4];
	vip4(a, s);
	vip4(b, d);
	vip4(c, e);
	/* sessions first, so that nothing waits in the queue */
	from_tun(f, a, p, udp4(p, s, d, 500, 1, 0));
	from_tun(f, a, p, udp4(p, s, e, 500, 1, 0));
	fake_pump(w, 2000);
	for (uint32_t i = 1; i < 200; i++) {
		from_tun(f, a, p, udp4(p, s, d, 500, 1, i));
		from_tun(f, a, p, udp4(p, s, e, 500, 1, i));
		fake_pump(w, 2);
	}
	fake_pump(w, 3000);
	const rn_node_stats *na = rn_node_get_stats(w->node[a]);
	assert_int_equal(na->shortcuts_asked, 1);
	assert_true(na->drop_shortcuts >= 1);
	assert_int_equal(linked(w, a, b) + linked(w, a, c), 1);
	assert_int_equal(w->tun_count[b], 200);
	assert_int_equal(w->tun_count[c], 200);
}

/* (b') A first packet to an IPv6 twin starts the session as well. */
static void test_relayed_ip6_first(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	ring_of(f, RING);
	uint32_t a, b;
	pick(f, 0, RING, 0, &a, &b);
	uint8_t p[1500], s6[16], d6[16];
	twin(f, a, s6);
	twin(f, b, d6);
	size_t n = udp6(p, s6, d6, 333, 1);
	from_tun(f, a, p, n);
	assert_int_equal(S(f, a)->tx_queued, 1);
	fake_pump(w, 2000);
	assert_int_equal(S(f, a)->hs_up, 1);
	assert_int_equal(w->tun_count[b], 1);
	assert_tun(f, b, 0, p, n);
	/* the IPv4 address is the same member: no second session */
	uint8_t s[4], d[4];
	vip4(a, s);
	vip4(b, d);
	n = udp4(p, s, d, 90, 1, 2);
	from_tun(f, a, p, n);
	assert_int_equal(S(f, a)->tx_relayed, 2);
	assert_int_equal(S(f, a)->hs_init_sent, 1);
	fake_pump(w, 500);
	assert_tun(f, b, 0, p, n);
	uint32_t peers, e2e;
	rn_vpn_peer_counts(f->m[a].v, &peers, &e2e);
	assert_int_equal(peers, 1);
}

/* (c) No such member: the DHT says so, ICMP unreachable into the TUN. */
static void test_unreach_by_dht(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	ring_of(f, RING);
	uint32_t a = 2;
	uint8_t p[1500], s[4], s6[16], d6[16];
	static const uint8_t nobody[4] = {10, 1, 0, 200};
	vip4(a, s);
	size_t n = udp4(p, s, nobody, 120, 1, 1);
	from_tun(f, a, p, n);
	assert_int_equal(S(f, a)->tx_queued, 1);
	assert_int_equal(w->tun_count[a], 0);
	/* well before resolve_ms: the DHT answered */
	fake_pump(w, 2000);
	assert_int_equal(S(f, a)->resolve_none, 1);
	assert_int_equal(S(f, a)->icmp_unreach, 1);
	assert_int_equal(w->tun_count[a], 1);
	assert_icmp(f, a, nobody, s, 3, 1, 0, p, n);
	/* while unreachable: answered at once */
	n = udp4(p, s, nobody, 1200, 0, 2);
	from_tun(f, a, p, n);
	assert_int_equal(w->tun_count[a], 2);
	assert_icmp(f, a, nobody, s, 3, 1, 0, p, n);
	assert_int_equal(S(f, a)->drop_unreach, 2);
	assert_int_equal(S(f, a)->tx_queued, 1);
	assert_int_equal(S(f, a)->resolve_sent, 1);
	/* after unreach_ms it is asked again */
	fake_pump(w, f->vs.unreach_ms + 500);
	from_tun(f, a, p, n);
	assert_int_equal(S(f, a)->tx_queued, 2);
	assert_int_equal(S(f, a)->resolve_sent, 2);
	fake_pump(w, 2000);
	assert_int_equal(S(f, a)->resolve_none, 2);
	assert_int_equal(w->tun_count[a], 3);
	assert_icmp(f, a, nobody, s, 3, 1, 0, p, n);
	/* IPv6: the twin of a missing member, and an address that is no twin */
	twin(f, a, s6);
	rn_ip_twin6(d6, w->group, nobody);
	d6[15] = 201;
	n = udp6(p, s6, d6, 200, 3);
	from_tun(f, a, p, n);
	fake_pump(w, 2000);
	assert_int_equal(w->tun_count[a], 4);
	assert_icmp(f, a, d6, s6, 1, 3, 0, p, n);
	memset(d6, 0, 16);
	d6[0] = 0xfd;
	d6[15] = 0x42;
	n = udp6(p, s6, d6, 200, 4);
	from_tun(f, a, p, n);
	fake_pump(w, 2000);
	assert_int_equal(w->tun_count[a], 5);
	assert_icmp(f, a, d6, s6, 1, 3, 0, p, n);
	assert_int_equal(S(f, a)->resolve_none, 4);
	/* no one else got anything */
	for (uint32_t i = 0; i < RING; i++)
		if (i != a)
			assert_int_equal(w->tun_count[i], 0);
}

/* (c') A member in the DHT that never answers: unreachable after
 * resolve_ms, not before, with E2E_INIT retried meanwhile. */
static void test_unreach_by_timeout(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	ring_of(f, RING);
	uint32_t a, c;
	pick(f, 0, RING, 0, &a, &c);
	/* c keeps its node and DHT (its record stays), loses its VPN */
	rn_node_set_upper(w->node[c], f->m[c].t.inner);
	rn_vpn_free(f->m[c].v);
	f->m[c].v = NULL;
	uint8_t p[1500], s[4], d[4];
	vip4(a, s);
	vip4(c, d);
	size_t n = udp4(p, s, d, 64, 1, 1);
	from_tun(f, a, p, n);
	fake_pump(w, f->vs.resolve_ms - 500);
	assert_int_equal(w->tun_count[a], 0);
	assert_int_equal(S(f, a)->resolve_none, 0);
	assert_true(S(f, a)->hs_init_sent >= 3);
	fake_pump(w, 1000);
	assert_int_equal(w->tun_count[a], 1);
	assert_int_equal(S(f, a)->drop_unreach, 1);
	assert_icmp(f, a, d, s, 3, 1, 0, p, n);
	assert_int_equal(w->tun_count[c], 0);
}

/* (d) The inner source must be the sender's; the destination ours. */
static void test_spoof_direct(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	ring_of(f, RING);
	uint32_t a, b, c;
	pick(f, 0, RING, 1, &a, &b);
	c = (a + 1) % RING == b ? (b + 1) % RING : (a + 1) % RING;
	uint8_t p[1500], s[4], d[4], x[4], s6[16], d6[16], x6[16];
	vip4(a, s);
	vip4(b, d);
	vip4(c, x);
	twin(f, a, s6);
	twin(f, b, d6);
	twin(f, c, x6);
	from_tun(f, a, p, udp4(p, x, d, 100, 1, 1)); /* c's address */
	from_tun(f, a, p, udp6(p, x6, d6, 100, 2));  /* c's twin */
	static const uint8_t out[4] = {192, 168, 1, 1};
	from_tun(f, a, p, udp4(p, out, d, 100, 1, 3)); /* outside the group */
	assert_int_equal(S(f, a)->tx_direct, 3);
	fake_pump(w, 200);
	assert_int_equal(S(f, b)->drop_spoof, 3);
	assert_int_equal(S(f, b)->rx_direct, 0);
	assert_int_equal(w->tun_count[b], 0);
	/* its own address and twin are fine */
	size_t n = udp6(p, s6, d6, 100, 4);
	from_tun(f, a, p, n);
	fake_pump(w, 200);
	assert_int_equal(S(f, b)->rx_direct, 1);
	assert_tun(f, b, 0, p, n);
	/* a's node sends what its VPN would not: another destination, a
	 * multicast one, not IP */
	pbuf pb;
	udp4(at(&pb), s, x, 100, 1, 5);
	assert_int_equal(rn_node_send_ip(w->node[a], w->now,
	                                 rn_node_id(w->node[b]), at(&pb), 100),
	                 0);
	static const uint8_t mc[4] = {224, 0, 0, 9};
	udp4(at(&pb), s, mc, 100, 1, 6);
	assert_int_equal(rn_node_send_ip(w->node[a], w->now,
	                                 rn_node_id(w->node[b]), at(&pb), 100),
	                 0);
	/* a "version 4" packet that does not parse */
	memset(at(&pb), 0, 100);
	at(&pb)[0] = 0x45;
	assert_int_equal(rn_node_send_ip(w->node[a], w->now,
	                                 rn_node_id(w->node[b]), at(&pb), 100),
	                 0);
	fake_pump(w, 200);
	assert_int_equal(S(f, b)->drop_dst, 2);
	assert_int_equal(S(f, b)->drop_rx_bad, 1);
	assert_int_equal(w->tun_count[b], 1);
	/* multicast when the settings allow it */
	f->vs.multicast = 1;
	n = udp4(at(&pb), s, mc, 100, 1, 7);
	memcpy(p, at(&pb), n);
	assert_int_equal(rn_node_send_ip(w->node[a], w->now,
	                                 rn_node_id(w->node[b]), at(&pb), n),
	                 0);
	fake_pump(w, 200);
	assert_int_equal(w->tun_count[b], 2);
	assert_tun(f, b, 0, p, n);
	assert_int_equal(S(f, b)->drop_dst, 2);
}

static void test_spoof_relayed(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	ring_of(f, RING);
	uint32_t a, b, c;
	pick(f, 0, RING, 0, &a, &b);
	c = (a + 1) % RING == b ? (b + 1) % RING : (a + 1) % RING;
	session(f, a, b);
	uint64_t tun_b = w->tun_count[b];
	uint8_t p[1500], s[4], d[4], x[4], x6[16], d6[16];
	vip4(a, s);
	vip4(b, d);
	vip4(c, x);
	twin(f, c, x6);
	twin(f, b, d6);
	from_tun(f, a, p, udp4(p, x, d, 100, 1, 1));
	from_tun(f, a, p, udp6(p, x6, d6, 100, 2));
	assert_int_equal(S(f, a)->tx_relayed, 3);
	fake_pump(w, 500);
	assert_int_equal(S(f, b)->drop_spoof, 2);
	assert_int_equal(S(f, b)->rx_relayed, 1);
	assert_int_equal(w->tun_count[b], tun_b);
	/* a rogue a: its own session, sealing what its VPN would not */
	rn_e2e_keys k;
	rogue_session(f, a, b, &k);
	size_t n = udp4(p, s, d, 150, 1, 3); /* first an honest one */
	rogue_send(f, a, b, &k, p, n);
	fake_pump(w, 500);
	assert_int_equal(S(f, b)->rx_relayed, 2);
	assert_tun(f, b, 0, p, n);
	rogue_send(f, a, b, &k, p, udp4(p, s, x, 150, 1, 4)); /* c's */
	static const uint8_t mc[4] = {239, 1, 1, 1};
	rogue_send(f, a, b, &k, p, udp4(p, s, mc, 150, 1, 5));
	rogue_send(f, a, b, &k, p, udp4(p, x, d, 150, 1, 6)); /* spoofed */
	memset(p, 0x45, 60);
	rogue_send(f, a, b, &k, p, 60); /* not IP */
	rogue_send(f, a, b, &k, p, 0);  /* empty: a keepalive, not a packet */
	fake_pump(w, 500);
	assert_int_equal(S(f, b)->drop_dst, 2);
	assert_int_equal(S(f, b)->drop_spoof, 3);
	assert_int_equal(S(f, b)->drop_rx_bad, 1);
	assert_int_equal(S(f, b)->rx_relayed, 2);
	assert_int_equal(w->tun_count[b], tun_b + 1);
	assert_int_equal(S(f, b)->drop_e2e, 0);
}

/* (d'') Two ring neighbours with no direct UDP path (fake_block: one
 * behind a symmetric NAT, the other behind a cone) link through a relay
 * (overlay/relay.c). Their IP packets take that link as a direct one,
 * sealed end to end by the link's own session, and get the same checks
 * on arrival: the relay forwards them, the spoofed one is dropped. */
/* a and b adjacent on the ring, neither 0, with no direct path: their
 * ring (of RING) formed, they are linked through a relay. */
static void relay_pair(fx *f, uint32_t *pa, uint32_t *pb, rn_id id[RING])
{
	fake_world *w = f->w;
	/* the ids before the nodes */
	uint32_t order[RING], k0 = 0;
	for (uint32_t i = 0; i < RING; i++) {
		uint8_t in[36];
		memcpy(in, w->group, 32);
		fake_vip(i, in + 32);
		crypto_generichash(id[i].b, RN_ID_LEN, in, sizeof in, NULL, 0);
		order[i] = i;
	}
	for (uint32_t x = 0; x < RING; x++)
		for (uint32_t y = x + 1; y < RING; y++)
			if (rn_id_cmp(&id[order[y]], &id[order[x]]) < 0) {
				uint32_t t = order[x];
				order[x] = order[y];
				order[y] = t;
			}
	while (order[k0])
		k0++;
	uint32_t a = order[(k0 + 2) % RING], b = order[(k0 + 3) % RING];
	fake_block(w, a, b);
	ring_of(f, RING);
	fake_pump(w, 20000);
	assert_true(w->blocked_drops > 0);
	/* a and b are each other's ring neighbours, over a relay link */
	rn_id nb;
	assert_true(memcmp(rn_node_succ(w->node[a], &nb)->b, id[b].b,
	                   RN_ID_LEN) == 0);
	assert_true(memcmp(rn_node_pred(w->node[b], &nb)->b, id[a].b,
	                   RN_ID_LEN) == 0);
	*pa = a;
	*pb = b;
}

/* a's link to the node with id as rn_node_links reports it: 1 and *out,
 * or 0 if there is none. */
static int link_to(fake_world *w, uint32_t a, const rn_id *id,
                   rn_link_info *out)
{
	rn_link_info li[32];
	size_t nl = rn_node_links(w->node[a], li, 32);
	for (size_t k = 0; k < nl && k < 32; k++)
		if (!memcmp(li[k].id.b, id->b, RN_ID_LEN)) {
			*out = li[k];
			return 1;
		}
	return 0;
}

static void test_relay_link(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	rn_id id[RING];
	uint32_t a, b;
	relay_pair(f, &a, &b, id);
	rn_link_info la, lb;
	assert_true(link_to(w, a, &id[b], &la));
	assert_true(la.up && la.ep.addr[0] == 1);
	/* the peer's certificate holds on the relay link too */
	assert_int_equal(la.vip_len, 4);
	uint64_t fwd = 0;
	for (uint32_t i = 0; i < RING; i++)
		fwd += rn_node_get_stats(w->node[i])->relay_fwd;

	uint8_t p[1500], s4[4], d4[4], x4[4], s6[16], d6[16];
	vip4(a, s4);
	vip4(b, d4);
	vip4((b + 1) % RING == a ? (b + 2) % RING : (b + 1) % RING, x4);
	twin(f, a, s6);
	twin(f, b, d6);
	size_t n = udp4(p, s4, d4, 300, 1, 1);
	assert_true(link_to(w, b, &id[a], &lb));
	from_tun(f, a, p, n);
	fake_pump(w, 100);
	assert_int_equal(S(f, a)->tx_direct, 1);
	assert_int_equal(S(f, b)->rx_direct, 1);
	assert_int_equal(w->tun_count[b], 1);
	assert_tun(f, b, 0, p, n);
	/* the link's bytes count its datagrams: the packet sealed (header
	 * and tag) at least, both ends (`ringnet peers`) */
	rn_link_info la2, lb2;
	assert_true(link_to(w, a, &id[b], &la2) && link_to(w, b, &id[a], &lb2));
	assert_true(la2.relay_tx_bytes >= la.relay_tx_bytes + n + 29);
	assert_true(lb2.relay_rx_bytes >= lb.relay_rx_bytes + n + 29);
	/* back, IPv6 */
	n = udp6(p, d6, s6, 500, 2);
	from_tun(f, b, p, n);
	fake_pump(w, 100);
	assert_int_equal(S(f, a)->rx_direct, 1);
	assert_tun(f, a, 0, p, n);
	/* the largest packet a relay link takes */
	n = udp4(p, s4, d4, RN_RELAY_IP_MAX, 1, 3);
	from_tun(f, a, p, n);
	fake_pump(w, 100);
	assert_int_equal(S(f, a)->tx_direct, 2);
	assert_int_equal(w->tun_count[b], 2);
	assert_tun(f, b, 0, p, n);
	/* one byte more does not go over it */
	n = udp4(p, s4, d4, RN_RELAY_IP_MAX + 1, 1, 4);
	from_tun(f, a, p, n);
	assert_int_equal(S(f, a)->tx_direct, 2);
	fake_pump(w, 2000);
	/* a spoofed source: dropped at b, as on a direct link */
	n = udp4(p, x4, d4, 100, 1, 5);
	from_tun(f, a, p, n);
	fake_pump(w, 100);
	assert_int_equal(S(f, a)->tx_direct, 3);
	assert_int_equal(S(f, b)->drop_spoof, 1);
	assert_int_equal(S(f, b)->rx_direct, 2);
	uint64_t fwd2 = 0;
	for (uint32_t i = 0; i < RING; i++)
		fwd2 += rn_node_get_stats(w->node[i])->relay_fwd;
	assert_true(fwd2 >= fwd + 5);
}

/* Marks the IP ids of the packets node i's TUN got since *seen in
 * got[], all of them kept (at most FAKE_TUN_KEEP); returns how many were
 * there already. */
static uint32_t tun_ids(fake_world *w, uint32_t i, uint64_t *seen,
                        uint8_t got[4096])
{
	uint32_t twice = 0;
	assert_true(w->tun_count[i] - *seen <= FAKE_TUN_KEEP);
	for (; *seen < w->tun_count[i]; (*seen)++) {
		const fake_tun_pkt *t =
		    fake_tun_last(w, i, w->tun_count[i] - 1 - *seen);
		twice += got[be16(t->data + 4) & 4095]++ != 0;
	}
	return twice;
}

/* World time of node a's next direct HELLO on its relay link to peer
 * (a try's start or its next probe), or RN_TIME_NEVER. */
static rn_time next_hello(const fake_world *w, uint32_t a, const rn_id *peer)
{
	const rn_node *n = w->node[a];
	rn_id off;
	rn_id_sub(&off, peer, rn_node_id(n));
	for (uint32_t i = 0; i < n->n_relays; i++) {
		const rn_relay *e = &n->relays[i];
		if (rn_id_cmp(&e->peer_off, &off) || e->direct == RN_RELAY_D_NONE)
			continue;
		int32_t d = (int32_t)(e->direct_ms - rn_node_now_ms(n, w->now));
		return w->now + RN_MS(d > 0 ? d : 0);
	}
	return RN_TIME_NEVER;
}

/* (d''') The direct path between a and b works again: at the next direct
 * try (relay_retry_ms, here 5 s) the relay link moves to it, both ends,
 * on a fresh handshake at the real endpoints. IP packets sent both ways
 * every 20 ms, every 2 ms around the try, all arrive, none twice, before,
 * across and after the switch: those still on the relay path when it
 * happens (about ten each way here) are taken through the old session's
 * orphan (rn_sec_moved, rn_node_on_ip). The control: with relay_retry_ms
 * 0 the link stays on its relay, and packets still go. */
static void test_relay_link_to_direct(void **state)
{
	fx *f = *state;
	for (int with = 1; with >= 0; with--) {
		if (!with) { /* a fresh world of the same seed */
			assert_int_equal(f->w->bad_sends + f->w->sends_overflow +
			                     f->w->tun_oversize,
			                 0);
			for (uint32_t i = 0; i < f->w->n_nodes; i++)
				stack_down(f, i);
			fake_world_free(f->w);
			memset(f->m, 0, sizeof f->m);
			f->w = fake_world_new(rn_test_seed());
			assert_non_null(f->w);
			f->w->settings.near_k = 2;
			f->w->settings.far_kind = RN_FAR_NONE;
			assert_int_equal(fake_real_group(f->w, f->group_sk), 0);
		}
		fake_world *w = f->w;
		w->settings.relay_retry_ms = with ? 5000 : 0;
		w->settings.relay_retry_max_ms = 20000;
		rn_id id[RING];
		uint32_t a, b;
		relay_pair(f, &a, &b, id);
		rn_link_info l;
		assert_true(link_to(w, a, &id[b], &l) && l.ep.addr[0] == 1);
		/* other pairs' relay links may have moved back already (one
		 * made from a relay link's endpoint in a NEIGHBORS list) */
		uint32_t ok_a = rn_node_get_stats(w->node[a])->relay_direct_ok;
		uint32_t ok_b = rn_node_get_stats(w->node[b])->relay_direct_ok;
		fake_unblock(w, a, b);
		uint8_t p[200], s4[4], d4[4];
		vip4(a, s4);
		vip4(b, d4);
		uint64_t to_b = w->tun_count[b], to_a = w->tun_count[a];
		uint64_t seen_b = to_b, seen_a = to_a;
		uint32_t sent = 0, twice = 0;
		static uint8_t got[2][4096]; /* by IP id, per direction */
		memset(got, 0, sizeof got);
		/* the next direct HELLO, either side; around it a packet each
		 * way every 2 ms (the fake's network takes 2 ms a datagram: a
		 * queue builds up), so that some are on the relay path when
		 * the link moves */
		rn_time t0 = w->now, hello = next_hello(w, a, &id[b]);
		rn_time hb = next_hello(w, b, &id[a]);
		hello = hb < hello ? hb : hello;
		rn_time moved_at = 0;
		while (w->now < t0 + RN_MS(40000) &&
		       (!moved_at || w->now < moved_at + RN_MS(2000))) {
			from_tun(f, a, p, udp4(p, s4, d4, 120, 1, sent));
			from_tun(f, b, p, udp4(p, d4, s4, 120, 1, sent));
			sent++;
			int dense = hello != RN_TIME_NEVER &&
			            w->now + RN_MS(20) >= hello &&
			            w->now <= hello + RN_MS(10);
			fake_pump(w, dense ? 2 : 20);
			twice += tun_ids(w, b, &seen_b, got[0]) +
			         tun_ids(w, a, &seen_a, got[1]);
			rn_link_info la, lb;
			if (!moved_at && link_to(w, a, &id[b], &la) &&
			    link_to(w, b, &id[a], &lb) && la.up && lb.up &&
			    la.ep.addr[0] != 1 && lb.ep.addr[0] != 1)
				moved_at = w->now;
			if (!dense && hello != RN_TIME_NEVER &&
			    w->now > hello + RN_MS(10) && !moved_at) {
				/* that HELLO did not do it (a failed try
				 * before the unblock): the next one */
				rn_time ha = next_hello(w, a, &id[b]);
				hb = next_hello(w, b, &id[a]);
				hello = hb < ha ? hb : ha;
			}
		}
		fake_pump(w, 100);
		twice += tun_ids(w, b, &seen_b, got[0]) +
		         tun_ids(w, a, &seen_a, got[1]);
		assert_int_equal(twice, 0);
		uint64_t got_b = w->tun_count[b] - to_b;
		uint64_t got_a = w->tun_count[a] - to_a;
		if (got_b != sent || got_a != sent)
			fail_msg("%s: %u packets each way, %llu and %llu arrived "
			         "[RN_TEST_SEED=%llu]",
			         with ? "to direct" : "control", sent,
			         (unsigned long long)got_b,
			         (unsigned long long)got_a,
			         (unsigned long long)rn_test_seed());
		const rn_node_stats *sa = rn_node_get_stats(w->node[a]);
		const rn_node_stats *sb = rn_node_get_stats(w->node[b]);
		if (!with) {
			assert_true(moved_at == 0 && hello == RN_TIME_NEVER);
			assert_true(link_to(w, a, &id[b], &l) && l.up &&
			            l.ep.addr[0] == 1);
			assert_int_equal(sa->relay_direct_tries + sb->relay_direct_tries,
			                 0);
			break;
		}
		if (!moved_at)
			fail_msg("the relay link never moved to the direct path "
			         "[RN_TEST_SEED=%llu]",
			         (unsigned long long)rn_test_seed());
		assert_int_equal(sa->relay_direct_ok, ok_a + 1);
		assert_int_equal(sb->relay_direct_ok, ok_b + 1);
		/* the direct link is a link of its own: name and address from
		 * its new session's certificate, and the node counts no bytes
		 * for it (the driver does) */
		assert_true(link_to(w, a, &id[b], &l) && l.vip_len == 4 &&
		            l.relay_tx_bytes == 0);
		uint64_t txd = S(f, a)->tx_direct, rxd = S(f, b)->rx_direct;
		size_t n = udp4(p, s4, d4, 120, 1, 7);
		from_tun(f, a, p, n);
		fake_pump(w, 100);
		assert_int_equal(S(f, a)->tx_direct, txd + 1);
		assert_int_equal(S(f, b)->rx_direct, rxd + 1);
		assert_tun(f, b, 0, p, n);
	}
}

/* (e) Too big for the ring: ICMP with 1320, or IPv4 fragments. */
static void test_too_big(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	ring_of(f, RING);
	uint32_t a, b;
	pick(f, 0, RING, 0, &a, &b);
	uint8_t p[1500], s[4], d[4], s6[16], d6[16];
	vip4(a, s);
	vip4(b, d);
	twin(f, a, s6);
	twin(f, b, d6);
	/* the first packet is too big: queued, then answered */
	size_t n = udp4(p, s, d, 1400, 1, 1);
	from_tun(f, a, p, n);
	assert_int_equal(S(f, a)->tx_queued, 1);
	fake_pump(w, 2000);
	assert_int_equal(S(f, a)->hs_up, 1);
	assert_int_equal(S(f, a)->icmp_too_big, 1);
	assert_int_equal(w->tun_count[a], 1);
	assert_icmp(f, a, d, s, 3, 4, RN_VPN_RELAY_IP_MAX, p, n);
	assert_int_equal(w->tun_count[b], 0);
	/* exactly the limit passes */
	n = udp4(p, s, d, RN_VPN_RELAY_IP_MAX, 1, 2);
	from_tun(f, a, p, n);
	fake_pump(w, 500);
	assert_int_equal(w->tun_count[b], 1);
	assert_tun(f, b, 0, p, n);
	/* one byte more does not */
	n = udp4(p, s, d, RN_VPN_RELAY_IP_MAX + 1, 1, 3);
	from_tun(f, a, p, n);
	assert_int_equal(w->tun_count[a], 2);
	assert_icmp(f, a, d, s, 3, 4, RN_VPN_RELAY_IP_MAX, p, n);
	/* IPv6: packet too big */
	n = udp6(p, s6, d6, 1400, 4);
	from_tun(f, a, p, n);
	assert_int_equal(w->tun_count[a], 3);
	assert_icmp(f, a, d6, s6, 2, 0, RN_VPN_RELAY_IP_MAX, p, n);
	assert_int_equal(S(f, a)->icmp_too_big, 3);
	/* IPv4 without DF: fragments that arrive and reassemble */
	n = udp4(p, s, d, RN_IP_MAX, 0, 5);
	from_tun(f, a, p, n);
	assert_int_equal(S(f, a)->fragmented, 1);
	fake_pump(w, 500);
	assert_int_equal(w->tun_count[b], 3);
	const fake_tun_pkt *f1 = fake_tun_last(w, b, 1),
	                   *f2 = fake_tun_last(w, b, 0);
	assert_true(f1->len <= RN_VPN_RELAY_IP_MAX);
	assert_true(f2->len <= RN_VPN_RELAY_IP_MAX);
	assert_int_equal(be16(f1->data + 6), 0x2000); /* MF, offset 0 */
	size_t off = (size_t)(be16(f2->data + 6) & 0x1fff) * 8;
	assert_int_equal(be16(f2->data + 6) & 0xe000, 0);
	assert_int_equal(off, f1->len - 20u);
	assert_int_equal(off % 8, 0);
	assert_int_equal(off + f2->len - 20u, n - 20);
	assert_int_equal(ref_sum(0, f1->data, 20), 0xffff);
	assert_int_equal(ref_sum(0, f2->data, 20), 0xffff);
	assert_memory_equal(f1->data + 20, p + 20, off);
	assert_memory_equal(f2->data + 20, p + 20 + off, f2->len - 20u);
	assert_memory_equal(f1->data + 4, p + 4, 2); /* identification */
	assert_memory_equal(f2->data + 12, p + 12, 8);
	assert_int_equal(S(f, b)->rx_relayed, 3);
	assert_int_equal(S(f, b)->drop_spoof + S(f, b)->drop_rx_bad, 0);
	/* over a direct link the same packets go whole */
	uint32_t l, m;
	pick(f, 0, RING, 1, &l, &m);
	vip4(l, s);
	vip4(m, d);
	uint64_t before = w->tun_count[m];
	uint64_t big = S(f, l)->icmp_too_big + S(f, l)->fragmented;
	n = udp4(p, s, d, 1400, 1, 6);
	from_tun(f, l, p, n);
	n = udp4(p, s, d, 1400, 0, 7);
	from_tun(f, l, p, n);
	fake_pump(w, 200);
	assert_int_equal(w->tun_count[m], before + 2);
	assert_tun(f, m, 0, p, n);
	assert_int_equal(S(f, l)->icmp_too_big + S(f, l)->fragmented, big);
}

/* (f) A relay replays an E2E_DATA body, or alters it. */
static void test_replay_data(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	ring_of(f, RING);
	uint32_t a, b;
	pick(f, 0, RING, 0, &a, &b);
	session(f, a, b);
	uint8_t p[1500], s[4], d[4];
	vip4(a, s);
	vip4(b, d);
	size_t n = udp4(p, s, d, 256, 1, 1);
	from_tun(f, a, p, n);
	fake_pump(w, 500);
	uint64_t tun_b = w->tun_count[b], rx = S(f, b)->rx_relayed;
	assert_tun(f, b, 0, p, n);
	assert_true(f->m[b].t.n[T_DATA] >= 2);
	tap_body keep = f->m[b].t.last[T_DATA];
	tap_replay(&f->m[b], T_DATA);
	assert_int_equal(S(f, b)->drop_e2e, 1);
	/* again later, after more traffic moved the window */
	for (uint32_t i = 0; i < 5; i++)
		from_tun(f, a, p, udp4(p, s, d, 100, 1, 10 + i));
	fake_pump(w, 500);
	f->m[b].t.last[T_DATA] = keep;
	tap_replay(&f->m[b], T_DATA);
	assert_int_equal(S(f, b)->drop_e2e, 2);
	assert_int_equal(S(f, b)->rx_relayed, rx + 5);
	assert_int_equal(w->tun_count[b], tun_b + 5);
	/* altered: every byte of header, ciphertext and tag in turn */
	n = udp4(p, s, d, 100, 1, 99);
	from_tun(f, a, p, n); /* a fresh one, not yet delivered */
	tap_body fresh;
	uint64_t seen = f->m[b].t.n[T_DATA];
	fake_pump(w, 500);
	assert_int_equal(f->m[b].t.n[T_DATA], seen + 1);
	fresh = f->m[b].t.last[T_DATA];
	uint64_t drops = S(f, b)->drop_e2e, got = w->tun_count[b];
	for (size_t i = 0; i < fresh.len; i++) {
		if (i == 1)
			continue; /* the type: no longer E2E_DATA, not the VPN's
			           */
		f->m[b].t.last[T_DATA] = fresh;
		f->m[b].t.last[T_DATA].b[i] ^= 0x20;
		tap_replay(&f->m[b], T_DATA);
	}
	assert_int_equal(S(f, b)->drop_e2e, drops + fresh.len - 1);
	/* cut short, and from another source */
	f->m[b].t.last[T_DATA] = fresh;
	f->m[b].t.last[T_DATA].len = RN_E2E_OVERHEAD - 1;
	tap_replay(&f->m[b], T_DATA);
	f->m[b].t.last[T_DATA] = keep;
	f->m[b].t.last[T_DATA].src = *rn_node_id(
	    w->node[(a + 1) % RING == b ? (b + 1) % RING : (a + 1) % RING]);
	tap_replay(&f->m[b], T_DATA);
	assert_int_equal(S(f, b)->drop_e2e, drops + fresh.len + 1);
	assert_int_equal(w->tun_count[b], got);
}

/* Delivers a kept body into node i's VPN again, as if routed. */
static void replay_body(fx *f, uint32_t i, const tap_body *tb)
{
	tap *t = &f->m[i].t;
	t->inner->on_routed(t->inner->ctx, f->w->now, &tb->src, tb->b, tb->len,
	                    1);
}

/* (g) A member restarts with the same identity: the old session's
 * packets find nothing; a new handshake makes a new one. */
static void test_restart(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	ring_of(f, RING);
	uint32_t a, b;
	pick(f, 1, RING, 0, &a, &b); /* node 0 is the others' bootstrap */
	session(f, a, b);
	tap_body old = f->m[b].t.last[T_DATA];
	/* b dies and comes back, joining through a node that is neither */
	uint32_t boot = 0;
	while (boot == a || boot == b)
		boot++;
	stack_down(f, b);
	fake_crash(w, b);
	fake_pump(w, 5000);
	uint8_t vip[4];
	vip4(b, vip);
	w->node[b] = rn_node_new(&w->sh, &w->ctx[b], w->group, vip, 4,
	                         &w->ep[b], w->now);
	assert_non_null(w->node[b]);
	assert_int_equal(rn_node_set_ident(w->node[b], &f->id[b]), 0);
	stack_up(f, b);
	join(f, b, boot, 0);
	fake_pump(w, 20000);
	assert_int_equal(rn_node_state(w->node[b]), RN_NODE_JOINED);
	assert_false(linked(w, a, b));
	/* the old session's body, replayed to the new b */
	uint64_t tun_b = w->tun_count[b]; /* counted across incarnations */
	replay_body(f, b, &old);
	assert_int_equal(S(f, b)->drop_e2e, 1);
	uint64_t inits = S(f, a)->hs_init_sent;
	/* a still holds the old session: its packets die at b, counted */
	uint8_t p[1500], s[4], d[4];
	vip4(a, s);
	vip4(b, d);
	size_t n = udp4(p, s, d, 200, 1, 1);
	from_tun(f, a, p, n);
	fake_pump(w, 500);
	assert_int_equal(S(f, b)->drop_e2e, 2);
	assert_int_equal(w->tun_count[b], tun_b);
	/* a alone keeps sending, once a second: having sent for 15 s into
	 * silence (DEAD_MS) it starts a new handshake by itself, and its
	 * packets arrive again (WireGuard's rule; vpn.c's design comment) */
	int back = 0;
	for (int sec = 0; sec < 20 && !back; sec++) {
		from_tun(f, a, p, udp4(p, s, d, 200, 1, (uint16_t)(10 + sec)));
		fake_pump(w, 1000);
		back = w->tun_count[b] > tun_b;
	}
	assert_true(back);
	assert_true(S(f, a)->hs_init_sent > inits);
	assert_true(S(f, b)->hs_resp_sent >= 1);
	/* and both ways work on the new session */
	n = udp4(p, d, s, 120, 1, 2);
	uint64_t tun_a = w->tun_count[a];
	from_tun(f, b, p, n);
	fake_pump(w, 2000);
	assert_int_equal(w->tun_count[a], tun_a + 1);
	assert_tun(f, a, 0, p, n);
	uint64_t tun_b2 = w->tun_count[b];
	n = udp4(p, s, d, 220, 1, 3);
	from_tun(f, a, p, n);
	fake_pump(w, 500);
	assert_int_equal(w->tun_count[b], tun_b2 + 1);
	assert_tun(f, b, 0, p, n);
	assert_int_equal(S(f, b)->hs_up, 1); /* one session, confirmed once */
}

/* (h) Bounded state: queues and the destination table overflow into
 * counters; nothing grows; idle entries go. */
static void test_bounded(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	f->vs.peers_max = 4;
	f->vs.queue_max = 3;
	f->vs.queue_peer_max = 2;
	ring_of(f, RING);
	uint32_t a, b;
	pick(f, 0, RING, 0, &a, &b);
	uint8_t p[1500], s[4], d[4];
	vip4(a, s);
	vip4(b, d);
	/* three to a member with no session yet: two wait */
	for (uint32_t i = 0; i < 3; i++)
		from_tun(f, a, p, udp4(p, s, d, 100, 1, i));
	assert_int_equal(S(f, a)->tx_queued, 2);
	assert_int_equal(S(f, a)->drop_queue_full, 1);
	fake_pump(w, 2000);
	assert_int_equal(w->tun_count[b], 2);
	assert_tun(f, b, 1, p, udp4(p, s, d, 100, 1, 0)); /* the first two */
	assert_tun(f, b, 0, p, udp4(p, s, d, 100, 1, 1));
	/* four unknown destinations: three fit the table beside b, one
	 * queue slot each; the fourth finds no room */
	uint8_t x[4] = {10, 1, 0, 100};
	for (uint32_t i = 0; i < 4; i++) {
		x[3] = (uint8_t)(100 + i);
		from_tun(f, a, p, udp4(p, s, x, 80, 1, 100 + i));
	}
	assert_int_equal(S(f, a)->drop_peers_full, 1);
	assert_int_equal(S(f, a)->tx_queued, 5);
	uint32_t peers, e2e;
	rn_vpn_peer_counts(f->m[a].v, &peers, &e2e);
	assert_int_equal(peers, 4);
	assert_int_equal(e2e, 1);
	/* the queue is full (3 of 3): one more to a known one is dropped */
	x[3] = 100;
	from_tun(f, a, p, udp4(p, s, x, 80, 1, 200));
	assert_int_equal(S(f, a)->drop_queue_full, 2);
	assert_int_equal(S(f, a)->tx_queued, 5);
	/* the DHT says none: each waiting packet answered once */
	fake_pump(w, 2000);
	assert_int_equal(S(f, a)->resolve_none, 3);
	assert_int_equal(S(f, a)->icmp_unreach, 3);
	assert_int_equal(w->tun_count[a], 3);
	/* b still works through all this */
	size_t n = udp4(p, s, d, 300, 1, 300);
	from_tun(f, a, p, n);
	fake_pump(w, 500);
	assert_tun(f, b, 0, p, n);
	/* everything idle: the table empties on both sides */
	fake_pump(w, f->vs.idle_ms + 60000);
	rn_vpn_peer_counts(f->m[a].v, &peers, &e2e);
	assert_int_equal(peers, 0);
	rn_vpn_peer_counts(f->m[b].v, &peers, &e2e);
	assert_int_equal(peers, 0);
	/* and a burst to many destinations never holds more than the max */
	for (uint32_t i = 0; i < 50; i++) {
		x[3] = (uint8_t)(10 + i);
		from_tun(f, a, p, udp4(p, s, x, 80, 1, 400 + i));
		rn_vpn_peer_counts(f->m[a].v, &peers, &e2e);
		assert_true(peers <= 4);
	}
	assert_int_equal(S(f, a)->drop_peers_full, 1 + 46);
	assert_true(S(f, a)->drop_queue_full >= 2);
}

/* A relay replays an E2E_INIT: refused while the responder remembers the
 * initiator's timestamp; after both forgot each other (idle), the replay
 * must not leave the responder with a session nobody can read. */
static void test_replay_init(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	ring_of(f, RING);
	uint32_t a, b;
	pick(f, 0, RING, 0, &a, &b);
	session(f, a, b);
	tap_body init = f->m[b].t.last[T_INIT];
	assert_true(f->m[b].t.n[T_INIT] >= 1);
	replay_body(f, b, &init);
	assert_int_equal(S(f, b)->hs_refused, 1);
	assert_int_equal(S(f, b)->hs_resp_sent, 1);
	/* both forget the other */
	fake_pump(w, f->vs.idle_ms + 10000);
	uint32_t peers, e2e;
	rn_vpn_peer_counts(f->m[b].v, &peers, &e2e);
	assert_int_equal(peers, 0);
	/* the INIT again, still within skew_ms of its timestamp */
	replay_body(f, b, &init);
	fake_pump(w, 1000);
	/* then b sends to a: it must arrive */
	uint8_t p[1500], s[4], d[4];
	vip4(a, s);
	vip4(b, d);
	size_t n = udp4(p, d, s, 100, 1, 1);
	uint64_t tun_a = w->tun_count[a];
	from_tun(f, b, p, n);
	fake_pump(w, 3000);
	if (w->tun_count[a] != tun_a + 1)
		print_error("b->a after a replayed E2E_INIT: %llu delivered, a "
		            "drop_e2e %llu, b hs_resp_sent %llu\n",
		            (unsigned long long)(w->tun_count[a] - tun_a),
		            (unsigned long long)S(f, a)->drop_e2e,
		            (unsigned long long)S(f, b)->hs_resp_sent);
	assert_int_equal(w->tun_count[a], tun_a + 1);
	assert_tun(f, a, 0, p, n);
}

int main(void)
{
	assert_true(sodium_init() >= 0);
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_direct),
	    T(test_relayed),
	    T(test_relayed_ip6_first),
	    T(test_shortcut),
	    T(test_shortcut_bounded),
	    T(test_unreach_by_dht),
	    T(test_unreach_by_timeout),
	    T(test_spoof_direct),
	    T(test_spoof_relayed),
	    T(test_relay_link),
	    T(test_relay_link_to_direct),
	    T(test_too_big),
	    T(test_replay_data),
	    T(test_restart),
	    T(test_bounded),
	    T(test_replay_init),
	};
#undef T
	printf("# RN_TEST_SEED=%llu\n", (unsigned long long)rn_test_seed());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
