/* The group VPN of one member (vpn.h; docs/vpn.md).
 *
 * State: a fixed table of destinations (peers), allocated once, and a
 * fixed pool of packet slots for the packets waiting on them. A peer is
 *
 *   FREE -> NEW (queued, E2E_INIT sent, DHT get sent) -> UP (session)
 *                 |                                        |
 *                 +-> UNREACH (ICMP for unreach_ms) -> FREE (idle_ms)
 *
 * and holds up to two receiving keys: the current session's and, for a
 * while after a rekey or a crossing handshake, the previous one's. Our
 * receiver index of a session is (slot + 1) << 16 | 16 random bits, so a
 * data body finds its peer without a search; the session's own index is
 * compared too, so a stale one finds nothing.
 *
 * Two members that start a handshake at once both complete one; each
 * keeps for sending the session that the member with the smaller ring id
 * initiated and receives on both, as the link layer does.
 *
 * A responder's session is *pending* until the first authentic E2E_DATA
 * arrives on it (the initiator sends one at once, empty if it has nothing
 * else): only then does it replace the current one for sending. So an
 * INIT replayed by a relay, which no initiator will complete, costs a
 * pending slot and never cuts off traffic (as in WireGuard).
 *
 * Liveness, also WireGuard's: a member that has sent end to end for
 * DEAD_MS and heard nothing back starts a new handshake (the other may
 * have restarted and lost its keys); one that received but sent nothing
 * for KEEPALIVE_MS sends an empty E2E_DATA, so one-way traffic does not
 * look dead to its sender.
 */
#include "vpn.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "../core/err.h"
#include "../core/log.h"
#include "e2e.h"
#include "ip.h"

#define PREV_KEEP_MS 30000u
#define CROSSING_MS  10000u
#define DEAD_MS      15000u
#define KEEPALIVE_MS 10000u
#define SLOT_BYTES   (RN_VPN_HEADROOM + RN_IP_MAX + RN_VPN_TAILROOM)

enum peer_state { P_FREE = 0, P_NEW, P_UP, P_UNREACH };

typedef struct qslot {
	int32_t next;
	uint16_t len;
} qslot;

typedef struct peer {
	uint8_t state;
	uint8_t vip_len;
	uint8_t vip[16];
	rn_id id;
	uint32_t used_ms;    /* last packet to or from it */
	uint32_t started_ms; /* NEW: since; UNREACH: until */
	uint32_t hs_sent_ms; /* our last E2E_INIT */
	uint32_t hs_idx;     /* its index, 0 when none in flight */
	uint8_t e_sk[32], h_i[32];
	uint8_t resolving;
	uint64_t last_ts; /* newest INIT timestamp accepted */
	/* sessions */
	uint8_t has_cur, cur_mine, has_prev, has_next;
	uint32_t cur_born_ms, prev_until_ms, prev_idx;
	uint32_t last_tx_ms, last_rx_ms; /* end-to-end data, either way */
	uint32_t last_data_ms;           /* received, not a keepalive */
	uint32_t heat_ms, shortcut_ms;   /* heat last halved; last wish */
	uint16_t heat;                   /* packets sent, halved each second */
	rn_e2e_keys cur;
	rn_e2e_keys next; /* a responder's session, pending (see above) */
	rn_seal_rx prev_rx;
	uint8_t peer_vip[16], peer_vip_len; /* from its certificate */
	/* queue */
	int32_t q_head, q_tail;
	uint32_t q_n;
} peer;

struct rn_vpn {
	rn_node *node;
	rn_dht *dht;
	const rn_vpn_settings *s;
	const rn_upper *below;
	rn_upper up;
	rn_e2e_ctx ctx;
	uint8_t group_id[32], group_pk[32];
	uint8_t vip[16], twin6[16], bcast4[4];
	uint8_t vip_len, has_bcast;
	peer *p;
	uint32_t np; /* slots in use or not: the table's size (peers_max) */
	uint32_t last; /* the entry peer_find found last */
	qslot *q;
	uint8_t *qbuf;
	int32_t q_free;
	uint32_t q_used;
	uint32_t now_ms;
	rn_vpn_stats st;
};

void rn_vpn_settings_default(rn_vpn_settings *s)
{
	memset(s, 0, sizeof *s);
	s->peers_max = 256;
	s->queue_max = 256;
	s->queue_peer_max = 64;
	s->resolve_ms = 5000;
	s->hs_retry_ms = 1000;
	s->unreach_ms = 3000;
	s->idle_ms = 180000;
	s->rekey_ms = 600000;
	s->skew_ms = 600000;
	s->shortcut_pkts = 64;
}

/* ---- helpers ----------------------------------------------------------- */

static int due(uint32_t t, uint32_t now)
{
	return (int32_t)(now - t) >= 0;
}

static uint32_t min_ms(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0 ? a : b;
}

static uint64_t unix_s(const rn_vpn *v, rn_time now)
{
	return rn_node_unix_ms(v->node, now) / 1000u;
}

/* Whether address a (alen bytes) is the member with address vip's. */
static int addr_is(const rn_vpn *v, const uint8_t *vip, size_t vlen,
                   const uint8_t *a, size_t alen)
{
	uint8_t t[16];
	if (alen == vlen)
		return memcmp(a, vip, alen) == 0;
	if (vlen == 4 && alen == 16) {
		rn_ip_twin6(t, v->group_id, vip);
		return memcmp(a, t, 16) == 0;
	}
	return 0;
}

/* The member key of an address: IPv4 as is, an IPv6 twin as its IPv4. */
static size_t member_key(const rn_vpn *v, const uint8_t *a, size_t alen,
                         uint8_t out[16])
{
	if (alen == 16 && rn_ip_twin4(out, v->group_id, a))
		return 4;
	memcpy(out, a, alen);
	return alen;
}

static void tun_write(rn_vpn *v, const uint8_t *pkt, size_t len)
{
	rn_node_tun_write(v->node, pkt, len);
}

static uint8_t *slot_pkt(rn_vpn *v, int32_t i)
{
	return v->qbuf + (size_t)i * SLOT_BYTES + RN_VPN_HEADROOM;
}

static void icmp_unreach(rn_vpn *v, const uint8_t *pkt, const rn_ip *ip)
{
	uint8_t out[RN_IP_ICMP_MAX];
	size_t n = rn_ip_icmp_unreach(out, pkt, ip, ip->dst);
	v->st.drop_unreach++;
	if (n) {
		v->st.icmp_unreach++;
		tun_write(v, out, n);
	}
}

/* The MSS that fits the relayed path: its MTU less the IP and TCP
 * headers. */
static void clamp(rn_vpn *v, uint8_t *pkt, const rn_ip *ip)
{
	uint16_t mss =
	    (uint16_t)(RN_VPN_RELAY_IP_MAX - (ip->version == 4 ? 40 : 60));
	if (v->s->mss_clamp && rn_ip_clamp_mss(pkt, ip, mss))
		v->st.mss_clamped++;
}

/* ---- peers ------------------------------------------------------------- */

static int peer_is(const peer *p, const uint8_t *key, size_t klen)
{
	return p->state != P_FREE && p->vip_len == klen &&
	       memcmp(p->vip, key, klen) == 0;
}

/* The entry for key: the last one found first (a bulk flow asks for the
 * same one packet after packet), else a scan of the table. */
static peer *peer_find(rn_vpn *v, const uint8_t *key, size_t klen)
{
	if (v->last < v->np && peer_is(&v->p[v->last], key, klen))
		return &v->p[v->last];
	for (uint32_t i = 0; i < v->np; i++)
		if (peer_is(&v->p[i], key, klen)) {
			v->last = i;
			return &v->p[i];
		}
	return NULL;
}

static void queue_drop_all(rn_vpn *v, peer *p, int answer)
{
	while (p->q_head >= 0) {
		int32_t i = p->q_head;
		p->q_head = v->q[i].next;
		if (answer) {
			rn_ip ip;
			uint8_t *pkt = slot_pkt(v, i);
			if (rn_ip_parse(pkt, v->q[i].len, &ip) == 0)
				icmp_unreach(v, pkt, &ip);
		}
		v->q[i].next = v->q_free;
		v->q_free = i;
		v->q_used--;
	}
	p->q_tail = -1;
	p->q_n = 0;
}

static void peer_clear(rn_vpn *v, peer *p)
{
	queue_drop_all(v, p, 0);
	sodium_memzero(p, sizeof *p);
	p->q_head = p->q_tail = -1;
}

/* A free entry for key, or the least recently used one that is neither
 * up with traffic waiting nor younger than idle_ms; NULL when full. */
static peer *peer_new(rn_vpn *v, rn_time now, const uint8_t *key, size_t klen)
{
	peer *p = NULL, *lru = NULL;
	for (uint32_t i = 0; i < v->np && !p; i++) {
		if (v->p[i].state == P_FREE)
			p = &v->p[i];
		else if (!lru || (int32_t)(v->p[i].used_ms - lru->used_ms) < 0)
			lru = &v->p[i];
	}
	if (!p && lru && lru->q_n == 0 &&
	    due(lru->used_ms + v->s->idle_ms / 4u, v->now_ms))
		p = lru;
	if (!p) {
		v->st.drop_peers_full++;
		return NULL;
	}
	peer_clear(v, p);
	p->state = P_NEW;
	memcpy(p->vip, key, klen);
	p->vip_len = (uint8_t)klen;
	rn_id_hash(&p->id, v->group_id, 32, key, klen, NULL, 0);
	p->used_ms = v->now_ms;
	p->started_ms = v->now_ms;
	p->heat_ms = v->now_ms;
	p->shortcut_ms = v->now_ms - RN_VPN_HEAT_HALF_MS;
	(void)now;
	return p;
}

static uint32_t fresh_idx(rn_vpn *v, const peer *p)
{
	uint16_t r = 0;
	while (r == 0)
		rn_node_random(v->node, &r, sizeof r);
	return (uint32_t)(p - v->p + 1) << 16 | r;
}

static peer *peer_by_idx(rn_vpn *v, uint32_t idx, rn_seal_rx **rx)
{
	uint32_t slot = (idx >> 16) - 1u;
	if ((idx >> 16) == 0 || slot >= v->np)
		return NULL;
	peer *p = &v->p[slot];
	if (p->has_cur && p->cur.idx_local == idx) {
		*rx = &p->cur.rx;
		return p;
	}
	if (p->has_next && p->next.idx_local == idx) {
		*rx = &p->next.rx;
		return p;
	}
	if (p->has_prev && p->prev_idx == idx &&
	    !due(p->prev_until_ms, v->now_ms)) {
		*rx = &p->prev_rx;
		return p;
	}
	return NULL;
}

/* ---- sending ----------------------------------------------------------- */

static void send_init(rn_vpn *v, rn_time now, peer *p)
{
	uint8_t body[RN_BODY_MAX], e_pk[32];
	size_t len;
	rn_node_random(v->node, p->e_sk, sizeof p->e_sk);
	crypto_scalarmult_base(e_pk, p->e_sk);
	p->hs_idx = fresh_idx(v, p);
	if (rn_e2e_init_write(&v->ctx, &p->id, p->hs_idx, e_pk,
	                      rn_node_unix_ms(v->node, now), body, sizeof body,
	                      &len, p->h_i))
		return;
	p->hs_sent_ms = v->now_ms;
	if (rn_node_route_body(v->node, now, &p->id, 0, body, len) == 0)
		v->st.hs_init_sent++;
	rn_node_upper_wake(v->node, now, v->now_ms + v->s->hs_retry_ms);
}

static void start_peer(rn_vpn *v, rn_time now, peer *p)
{
	p->started_ms = v->now_ms; /* resolve_ms runs from here */
	send_init(v, now, p);
	if (v->dht && !p->resolving) {
		uint64_t rid = RN_VPN_RID_BIT | (uint64_t)(p - v->p) << 32 |
		               (uint64_t)p->started_ms;
		if (rn_dht_get(v->dht, now, rid, "member", p->vip,
		               p->vip_len) == 0) {
			p->resolving = 1;
			v->st.resolve_sent++;
		}
	}
}

typedef struct relay_ctx {
	rn_vpn *v;
	rn_time now;
	peer *p;
} relay_ctx;

static void relay(rn_vpn *v, rn_time now, peer *p, uint8_t *pkt, size_t len)
{
	uint8_t *body;
	size_t blen;
	if (rn_e2e_seal(&p->cur, pkt, len, &body, &blen))
		return; /* key used up: the rekey is overdue */
	p->last_tx_ms = v->now_ms;
	if (rn_node_route_data(v->node, now, &p->id, body, blen) == 0 && len)
		v->st.tx_relayed++;
}

/* An empty E2E_DATA: confirms a new session, or shows we are alive. */
static void keepalive(rn_vpn *v, rn_time now, peer *p)
{
	uint8_t buf[RN_E2E_DATA_HDR + RN_SEAL_TAG_LEN];
	relay(v, now, p, buf + RN_E2E_DATA_HDR, 0);
	v->st.keepalives++;
}

static void relay_frag(void *c, uint8_t *frag, size_t len)
{
	relay_ctx *r = c;
	relay(r->v, r->now, r->p, frag, len);
}

/* Over the ring end to end, within RN_VPN_RELAY_IP_MAX. */
static void send_relayed(rn_vpn *v, rn_time now, peer *p, uint8_t *pkt,
                         size_t len, const rn_ip *ip)
{
	if (len <= RN_VPN_RELAY_IP_MAX) {
		relay(v, now, p, pkt, len);
		return;
	}
	if (ip->version == 4 && !ip->df) {
		relay_ctx r = {v, now, p};
		if (rn_ip4_fragment(pkt, ip, RN_VPN_RELAY_IP_MAX, relay_frag,
		                    &r) == 0)
			v->st.fragmented++;
		return;
	}
	uint8_t out[RN_IP_ICMP_MAX];
	size_t n =
	    rn_ip_icmp_too_big(out, pkt, ip, ip->dst, RN_VPN_RELAY_IP_MAX);
	if (n) {
		v->st.icmp_too_big++;
		tun_write(v, out, n);
	}
}

static int enqueue(rn_vpn *v, peer *p, const uint8_t *pkt, size_t len)
{
	if (v->q_free < 0 || p->q_n >= v->s->queue_peer_max ||
	    v->q_used >= v->s->queue_max || len > RN_IP_MAX) {
		v->st.drop_queue_full++;
		return RN_ERR_FULL;
	}
	int32_t i = v->q_free;
	v->q_free = v->q[i].next;
	v->q_used++;
	memcpy(slot_pkt(v, i), pkt, len);
	v->q[i].len = (uint16_t)len;
	v->q[i].next = -1;
	if (p->q_tail >= 0)
		v->q[p->q_tail].next = i;
	else
		p->q_head = i;
	p->q_tail = i;
	p->q_n++;
	v->st.tx_queued++;
	return 0;
}

/* A packet sent to p: its heat, halved every RN_VPN_HEAT_HALF_MS. A hot
 * destination asks the overlay for a shortcut link, or keeps the one it
 * has, at most once per RN_VPN_HEAT_HALF_MS (overlay/shortcut.c). */
static void heat(rn_vpn *v, rn_time now, peer *p)
{
	if (!v->s->shortcut_pkts)
		return;
	uint32_t halves = (v->now_ms - p->heat_ms) / RN_VPN_HEAT_HALF_MS;
	if (halves) {
		p->heat = (uint16_t)(halves >= 16 ? 0 : p->heat >> halves);
		p->heat_ms += halves * RN_VPN_HEAT_HALF_MS;
	}
	if (p->heat < UINT16_MAX)
		p->heat++;
	if (p->heat >= v->s->shortcut_pkts &&
	    due(p->shortcut_ms + RN_VPN_HEAT_HALF_MS, v->now_ms)) {
		p->shortcut_ms = v->now_ms;
		rn_node_shortcut(v->node, now, &p->id); /* full: counted there */
	}
}

/* One packet to peer p: the first way that works (vpn.h). */
static void send_to(rn_vpn *v, rn_time now, peer *p, uint8_t *pkt, size_t len,
                    const rn_ip *ip)
{
	p->used_ms = v->now_ms;
	if (rn_node_send_ip(v->node, now, &p->id, pkt, len) == 0) {
		v->st.tx_direct++;
		heat(v, now, p);
		return;
	}
	switch (p->state) {
	case P_UP:
		send_relayed(v, now, p, pkt, len, ip);
		heat(v, now, p);
		return;
	case P_UNREACH:
		icmp_unreach(v, pkt, ip);
		return;
	default:
		if (enqueue(v, p, pkt, len) == 0 && p->hs_idx == 0 &&
		    !p->has_cur)
			start_peer(v, now, p);
		return;
	}
}

static void flush(rn_vpn *v, rn_time now, peer *p)
{
	while (p->q_head >= 0 && p->state == P_UP) {
		int32_t i = p->q_head;
		p->q_head = v->q[i].next;
		if (p->q_head < 0)
			p->q_tail = -1;
		p->q_n--;
		uint8_t *pkt = slot_pkt(v, i);
		rn_ip ip;
		if (rn_ip_parse(pkt, v->q[i].len, &ip) == 0)
			send_to(v, now, p, pkt, v->q[i].len, &ip);
		v->q[i].next = v->q_free;
		v->q_free = i;
		v->q_used--;
	}
}

static void set_unreach(rn_vpn *v, peer *p)
{
	p->state = P_UNREACH;
	p->started_ms = v->now_ms + v->s->unreach_ms;
	p->hs_idx = 0;
	queue_drop_all(v, p, 1);
}

void rn_vpn_from_tun(rn_vpn *v, rn_time now, uint8_t *pkt, size_t len)
{
	rn_ip ip;
	uint8_t key[16];
	v->now_ms = rn_node_now_ms(v->node, now);
	v->st.tun_rx++;
	if (rn_ip_parse(pkt, len, &ip)) {
		v->st.drop_bad++;
		return;
	}
	len = ip.total_len;
	clamp(v, pkt, &ip);
	if (rn_ip_is_multicast(ip.dst, ip.addr_len,
	                       v->has_bcast ? v->bcast4 : NULL)) {
		v->st.drop_mcast++;
		return;
	}
	size_t klen = member_key(v, ip.dst, ip.addr_len, key);
	if (klen == v->vip_len && memcmp(key, v->vip, klen) == 0) {
		v->st.drop_self++;
		return;
	}
	peer *p = peer_find(v, key, klen);
	if (!p)
		p = peer_new(v, now, key, klen);
	if (!p)
		return;
	send_to(v, now, p, pkt, len, &ip);
}

/* ---- receiving --------------------------------------------------------- */

static void confirm(rn_vpn *v, rn_time now, peer *p);

/* The checks every packet from a member passes (vpn.h), then the TUN.
 * pkt may be changed (MSS clamping). */
static int deliver(rn_vpn *v, const uint8_t *from_vip, size_t from_len,
                   uint8_t *pkt, size_t len)
{
	rn_ip ip;
	if (rn_ip_parse(pkt, len, &ip)) {
		v->st.drop_rx_bad++;
		return -1;
	}
	if (!addr_is(v, from_vip, from_len, ip.src, ip.addr_len)) {
		v->st.drop_spoof++;
		return -1;
	}
	if (!addr_is(v, v->vip, v->vip_len, ip.dst, ip.addr_len) &&
	    !(v->s->multicast &&
	      rn_ip_is_multicast(ip.dst, ip.addr_len,
	                         v->has_bcast ? v->bcast4 : NULL))) {
		v->st.drop_dst++;
		return -1;
	}
	clamp(v, pkt, &ip);
	tun_write(v, pkt, ip.total_len);
	return 0;
}

static void on_ip(void *ctx, rn_time now, const rn_id *peer_id,
                  const uint8_t *peer_vip, size_t peer_vip_len,
                  const uint8_t *pkt, size_t len)
{
	rn_vpn *v = ctx;
	uint8_t copy[RN_IP_MAX];
	(void)peer_id;
	v->now_ms = rn_node_now_ms(v->node, now);
	if (v->s->mss_clamp && len <= sizeof copy) { /* pkt is const */
		memcpy(copy, pkt, len);
		pkt = copy;
	}
	if (deliver(v, peer_vip, peer_vip_len, (uint8_t *)(uintptr_t)pkt,
	            len) == 0)
		v->st.rx_direct++;
}

static void on_data(rn_vpn *v, rn_time now, const rn_id *src,
                    const uint8_t *body, size_t len)
{
	uint8_t out[RN_IP_MAX];
	size_t n;
	rn_seal_rx *rx = NULL;
	peer *p = peer_by_idx(v, rn_e2e_data_idx(body, len), &rx);
	if (!p || rn_id_cmp(src, &p->id) != 0 ||
	    rn_e2e_open(rx, body, len, out, sizeof out, &n)) {
		v->st.drop_e2e++;
		return;
	}
	p->last_rx_ms = v->now_ms;
	if (rx == &p->next.rx && p->has_next)
		confirm(v, now, p);
	if (n == 0)
		return; /* a keepalive: answers nothing, keeps nothing alive */
	p->used_ms = v->now_ms;
	p->last_data_ms = v->now_ms;
	if (deliver(v, p->peer_vip, p->peer_vip_len, out, n) == 0)
		v->st.rx_relayed++;
}

/* Makes k the peer's session for sending, or, when it loses a crossing
 * (vpn.c's design comment), one to receive on only. */
static void install(rn_vpn *v, peer *p, const rn_e2e_keys *k, int mine)
{
	const rn_id *self = &v->ctx.self;
	int keep_cur = 0;
	if (p->has_cur && !due(p->cur_born_ms + CROSSING_MS, v->now_ms)) {
		const rn_id *cur_init = p->cur_mine ? self : &p->id;
		const rn_id *new_init = mine ? self : &p->id;
		keep_cur = rn_id_cmp(cur_init, new_init) < 0;
	}
	p->has_prev = 1;
	p->prev_until_ms = v->now_ms + PREV_KEEP_MS;
	if (keep_cur) { /* receive on the new one, send on the old */
		p->prev_rx = k->rx;
		p->prev_idx = k->idx_local;
	} else {
		if (p->has_cur) {
			p->prev_rx = p->cur.rx;
			p->prev_idx = p->cur.idx_local;
		} else {
			p->has_prev = 0;
		}
		p->cur = *k;
		p->cur_mine = (uint8_t)mine;
		p->cur_born_ms = v->now_ms;
		p->has_cur = 1;
	}
	p->state = P_UP;
	p->last_rx_ms = v->now_ms; /* the handshake was heard */
	v->st.hs_up++;
}

/* The first authentic data on the pending session: it is real. */
static void confirm(rn_vpn *v, rn_time now, peer *p)
{
	rn_e2e_keys k = p->next;
	p->has_next = 0;
	sodium_memzero(&p->next, sizeof p->next);
	install(v, p, &k, 0);
	sodium_memzero(&k, sizeof k);
	flush(v, now, p);
}

static void on_init(rn_vpn *v, rn_time now, const rn_id *src,
                    const uint8_t *body, size_t len)
{
	rn_e2e_hs m;
	rn_cert cert;
	uint8_t h_i[32], e_sk[32], out[RN_BODY_MAX], key[16];
	size_t n;
	rn_e2e_keys k;
	if (rn_e2e_hs_decode(body, len, &m) ||
	    rn_e2e_init_check(&v->ctx, src, &m, unix_s(v, now), &cert, h_i)) {
		v->st.hs_refused++;
		return;
	}
	uint64_t now_unix = rn_node_unix_ms(v->node, now);
	uint64_t skew = v->s->skew_ms;
	size_t klen = member_key(v, cert.vip, cert.vip_len, key);
	peer *p = peer_find(v, key, klen);
	if ((p && m.ts_ms <= p->last_ts) || m.ts_ms + skew < now_unix ||
	    m.ts_ms > now_unix + skew) {
		v->st.hs_refused++; /* replayed or stale */
		return;
	}
	if (!p)
		p = peer_new(v, now, key, klen);
	if (!p)
		return;
	rn_node_random(v->node, e_sk, sizeof e_sk);
	if (rn_e2e_resp_write(&v->ctx, &m, h_i, fresh_idx(v, p), e_sk, out,
	                      sizeof out, &n, &k) == 0 &&
	    rn_node_route_body(v->node, now, src, 0, out, n) == 0) {
		v->st.hs_resp_sent++;
		p->last_ts = m.ts_ms;
		p->used_ms = v->now_ms;
		p->next = k; /* pending until the initiator's first data */
		p->has_next = 1;
		memcpy(p->peer_vip, cert.vip, cert.vip_len);
		p->peer_vip_len = cert.vip_len;
	}
	sodium_memzero(e_sk, sizeof e_sk);
	sodium_memzero(&k, sizeof k);
}

static void on_resp(rn_vpn *v, rn_time now, const rn_id *src,
                    const uint8_t *body, size_t len)
{
	rn_e2e_hs m;
	rn_cert cert;
	rn_e2e_keys k;
	rn_seal_rx *unused;
	if (rn_e2e_hs_decode(body, len, &m)) {
		v->st.hs_refused++;
		return;
	}
	uint32_t slot = (m.idx_i >> 16) - 1u;
	peer *p = (m.idx_i >> 16) && slot < v->np ? &v->p[slot] : NULL;
	(void)unused;
	if (!p || p->state == P_FREE || p->hs_idx != m.idx_i ||
	    rn_id_cmp(src, &p->id) != 0 ||
	    rn_e2e_resp_check(&v->ctx, src, &m, unix_s(v, now), p->h_i, p->e_sk,
	                      &cert, &k)) {
		v->st.hs_refused++;
		return;
	}
	p->hs_idx = 0;
	sodium_memzero(p->e_sk, sizeof p->e_sk);
	memcpy(p->peer_vip, cert.vip, cert.vip_len);
	p->peer_vip_len = cert.vip_len;
	install(v, p, &k, 1);
	sodium_memzero(&k, sizeof k);
	if (p->cur_mine)
		keepalive(v, now, p); /* confirms it to the responder */
	flush(v, now, p);
}

static void on_routed(void *ctx, rn_time now, const rn_id *src,
                      const uint8_t *body, size_t len, uint8_t hops)
{
	rn_vpn *v = ctx;
	unsigned type = len > 1 ? body[1] : 0;
	v->now_ms = rn_node_now_ms(v->node, now);
	switch (type) {
	case RN_E2E_DATA:
		on_data(v, now, src, body, len);
		break;
	case RN_E2E_INIT:
		on_init(v, now, src, body, len);
		break;
	case RN_E2E_RESP:
		on_resp(v, now, src, body, len);
		break;
	default:
		if (v->below && v->below->on_routed)
			v->below->on_routed(v->below->ctx, now, src, body, len,
			                    hops);
		break;
	}
}

void rn_vpn_on_dht_result(rn_vpn *v, rn_time now, const rn_dht_result *r)
{
	uint32_t slot = (uint32_t)(r->rid >> 32) & 0x7fffffffu;
	v->now_ms = rn_node_now_ms(v->node, now);
	if (slot >= v->np)
		return;
	peer *p = &v->p[slot];
	if (p->state == P_FREE || (uint32_t)r->rid != p->started_ms)
		return; /* the entry was reused since */
	p->resolving = 0;
	int none =
	    r->status == RN_ERR_NOTFOUND || (r->status == 0 && r->n_recs == 0);
	if (none && p->state == P_NEW) {
		v->st.resolve_none++;
		set_unreach(v, p);
	}
}

/* ---- timers ------------------------------------------------------------ */

static uint32_t peer_tick(rn_vpn *v, rn_time now, peer *p, uint32_t next)
{
	const rn_vpn_settings *s = v->s;
	uint32_t t = v->now_ms;
	if (p->has_prev && due(p->prev_until_ms, t))
		p->has_prev = 0;
	if (due(p->used_ms + s->idle_ms, t) && p->q_n == 0) {
		peer_clear(v, p);
		return next;
	}
	switch (p->state) {
	case P_NEW:
		if (p->hs_idx == 0 && p->q_n == 0)
			return next; /* reached directly: nothing waits */
		if (due(p->started_ms + s->resolve_ms, t)) {
			set_unreach(v, p);
			return min_ms(next, p->started_ms);
		}
		if (p->hs_idx && due(p->hs_sent_ms + s->hs_retry_ms, t))
			send_init(v, now, p);
		return min_ms(next, p->hs_sent_ms + s->hs_retry_ms);
	case P_UNREACH:
		if (due(p->started_ms, t)) {
			peer_clear(v, p);
			return next;
		}
		return min_ms(next, p->started_ms);
	case P_UP: {
		/* rekey: the initiator at rekey_ms, the other side a minute
		 * later if the initiator has not; drop at twice that */
		uint32_t age = t - p->cur_born_ms;
		uint32_t due_ms = s->rekey_ms + (p->cur_mine ? 0u : 60000u);
		if (age >= 2u * s->rekey_ms) {
			p->has_cur = 0;
			p->hs_idx = 0;
			p->state = P_NEW;
			p->started_ms = t;
			return next;
		}
		int rekey = age >= due_ms;
		/* sending for DEAD_MS into silence: the other may have lost
		 * its keys (restarted) */
		int dead = !due(p->last_tx_ms + 1000u, t) &&
		           due(p->last_rx_ms + DEAD_MS, t);
		if ((rekey || dead) &&
		    (p->hs_idx == 0 || due(p->hs_sent_ms + s->hs_retry_ms, t)))
			send_init(v, now, p);
		/* data heard lately, silent ourselves: show we are alive
		 * (a keepalive received never calls for one: no ping-pong) */
		if (p->last_data_ms &&
		    !due(p->last_data_ms + KEEPALIVE_MS, t) &&
		    due(p->last_tx_ms + KEEPALIVE_MS, t) &&
		    (int32_t)(p->last_data_ms - p->last_tx_ms) > 0)
			keepalive(v, now, p);
		next = min_ms(next, p->cur_born_ms + due_ms);
		if (!due(p->last_tx_ms + DEAD_MS, t) ||
		    !due(p->last_data_ms + KEEPALIVE_MS, t))
			next =
			    min_ms(next, t + 1000u); /* traffic: look each s */
		if (p->hs_idx)
			next = min_ms(next, p->hs_sent_ms + s->hs_retry_ms);
		return next;
	}
	default:
		return next;
	}
}

static uint32_t tick(void *ctx, rn_time now, uint32_t now_ms, int near_changed)
{
	rn_vpn *v = ctx;
	uint32_t next = now_ms + 60000u;
	v->now_ms = now_ms;
	for (uint32_t i = 0; i < v->np; i++)
		if (v->p[i].state != P_FREE)
			next = peer_tick(v, now, &v->p[i], next);
	if (v->below && v->below->tick)
		next = min_ms(next, v->below->tick(v->below->ctx, now, now_ms,
		                                   near_changed));
	return next;
}

/* ---- lifecycle --------------------------------------------------------- */

rn_vpn *rn_vpn_new(rn_node *node, rn_dht *dht, const rn_vpn_settings *s,
                   const uint8_t group_id[32], const uint8_t group_pk[32],
                   const rn_ident *ident, const uint8_t *vip, size_t vip_len)
{
	if ((vip_len != 4 && vip_len != 16) || !s->peers_max ||
	    s->peers_max > 0xfffe || !ident)
		return NULL;
	rn_vpn *v = calloc(1, sizeof *v);
	if (!v)
		return NULL;
	v->p = calloc(s->peers_max, sizeof *v->p);
	v->q = calloc(s->queue_max ? s->queue_max : 1, sizeof *v->q);
	v->qbuf =
	    malloc((size_t)(s->queue_max ? s->queue_max : 1) * SLOT_BYTES);
	if (!v->p || !v->q || !v->qbuf) {
		free(v->p);
		free(v->q);
		free(v->qbuf);
		free(v);
		return NULL;
	}
	v->node = node;
	v->dht = dht;
	v->s = s;
	v->np = s->peers_max;
	for (uint32_t i = 0; i < v->np; i++)
		v->p[i].q_head = v->p[i].q_tail = -1;
	v->q_free = s->queue_max ? 0 : -1;
	for (uint32_t i = 0; i < s->queue_max; i++)
		v->q[i].next = i + 1 < s->queue_max ? (int32_t)(i + 1) : -1;
	memcpy(v->group_id, group_id, 32);
	memcpy(v->group_pk, group_pk, 32);
	memcpy(v->vip, vip, vip_len);
	v->vip_len = (uint8_t)vip_len;
	if (vip_len == 4) {
		rn_ip_twin6(v->twin6, group_id, vip);
		if (s->prefix4_len && s->prefix4_len < 31) {
			uint32_t a = (uint32_t)vip[0] << 24 |
			             (uint32_t)vip[1] << 16 |
			             (uint32_t)vip[2] << 8 | vip[3];
			a |= 0xffffffffu >> s->prefix4_len;
			for (int i = 0; i < 4; i++)
				v->bcast4[i] = (uint8_t)(a >> (24 - 8 * i));
			v->has_bcast = 1;
		}
	}
	v->ctx.group_id = v->group_id;
	v->ctx.group_pk = v->group_pk;
	v->ctx.ident = ident;
	v->ctx.self = *rn_node_id(node);
	v->below = rn_node_get_upper(node);
	v->up.ctx = v;
	v->up.on_routed = on_routed;
	v->up.tick = tick;
	v->up.on_ip = on_ip;
	rn_node_set_upper(node, &v->up);
	return v;
}

void rn_vpn_free(rn_vpn *v)
{
	if (!v)
		return;
	if (rn_node_get_upper(v->node) == &v->up)
		rn_node_set_upper(v->node, v->below);
	sodium_memzero(v->p, v->np * sizeof *v->p);
	free(v->p);
	free(v->q);
	free(v->qbuf);
	free(v);
}

void rn_vpn_addrs(const rn_vpn *v, uint8_t vip[16], size_t *vip_len,
                  uint8_t twin6[16])
{
	memset(vip, 0, 16);
	memcpy(vip, v->vip, v->vip_len);
	*vip_len = v->vip_len;
	memcpy(twin6, v->twin6, 16);
}

const rn_vpn_stats *rn_vpn_get_stats(const rn_vpn *v)
{
	return &v->st;
}

void rn_vpn_peer_counts(const rn_vpn *v, uint32_t *peers, uint32_t *e2e)
{
	*peers = *e2e = 0;
	for (uint32_t i = 0; i < v->np; i++) {
		if (v->p[i].state == P_FREE)
			continue;
		(*peers)++;
		if (v->p[i].has_cur)
			(*e2e)++;
	}
}
