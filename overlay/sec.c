/* The link security layer (sec.h; the protocol is docs/security.md).
 *
 * Transcript hashes and keys (BLAKE2b-256, Ed25519, X25519):
 *   h_i = H("ringnet init v1" || group_id || idx_i || dst || e_i || ts
 *           || cert_i || hello)                 sig_i = Sign(sk_i, h_i)
 *   h_r = H("ringnet resp v1" || h_i || idx_r || e_r || cert_r || ack)
 *                                               sig_r = Sign(sk_r, h_r)
 *   ck  = H("ringnet keys v1" || h_i || h_r)
 *   (k_ir, k_ri) = rn_kdf(ck, X25519(e_i, e_r))
 * The initiator sends with k_ir and receives with k_ri.
 *
 * Sessions are kept per peer endpoint in a small array (a node has tens of
 * links); DATA finds its session by our receiver index. A session holds
 * the current keys and, for a while after a rekey, the previous receiving
 * key. Two nodes that open a link to each other at once each complete one
 * handshake as initiator and one as responder; both keep as current the
 * session the node with the smaller id initiated, so they agree.
 *
 * A session outlives its link by RN_SEC_ORPHAN_MS: a peer that still
 * thinks it is linked gets an authenticated CLOSE instead of silence (the
 * overlay answers it), and a HELLO to it starts a new handshake. A rekey
 * INIT and its RESP carry no certificate (cert_len 0): the session already
 * holds the verified one, whose validity is checked again.
 */
#include "sec.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "../core/err.h"
#include "../core/seal.h"
#include "hs.h"
#include "msg.h"
#include "node_impl.h"

#define RN_SEC_SEEN_MAX 64         /* INIT signatures remembered */
#define RN_SEC_CROSSING_MS 10000   /* a younger session may be a crossing */
#define RN_SEC_PREV_KEEP_MS 30000  /* old receiving key after a rekey */
#define RN_SEC_COOKIE_ROTATE_MS 120000
#define RN_SEC_REKEY_RETRY_MS 5000
#define RN_SEC_ORPHAN_MS 60000     /* a session outlives its link this long */

typedef struct rn_sess {
	rn_ep ep;
	rn_id peer;
	rn_id initiator; /* who initiated the current keys */
	uint32_t idx, idx_peer;
	uint32_t born_ms;
	uint32_t rekey_ms; /* when we last sent a rekey INIT */
	uint64_t last_ts;  /* newest INIT timestamp accepted from the peer */
	uint8_t i_init;    /* we initiated the current keys */
	uint8_t rekeying;  /* the next HELLO to the peer goes as INIT */
	uint8_t has_prev;
	uint8_t orphan;    /* the link is gone; kept until orphan_until_ms */
	uint8_t moved;     /* orphan: the link moved elsewhere (a relay
			    * link to its direct path): IP still goes up */
	uint32_t orphan_until_ms;
	uint32_t prev_idx, prev_until_ms;
	rn_seal_tx tx;
	rn_seal_rx rx, prev_rx;
	rn_cert cert; /* the peer's */
} rn_sess;

typedef struct rn_hs_pending {
	rn_ep ep;
	uint32_t idx_i;
	uint32_t born_ms;
	rn_id dst;
	uint8_t e_sk[RN_DH_LEN], e_pk[RN_DH_LEN];
	uint8_t h_i[32];
	uint8_t has_cookie;
	uint8_t cookie[RN_HS_COOKIE_LEN];
	uint8_t hello[RN_HS_INNER_MAX]; /* the last HELLO, for a cookie resend */
	size_t hello_len;
} rn_hs_pending;

/* The INIT being handled while the overlay sees its HELLO. */
typedef struct rn_hs_ctx {
	int active;
	rn_ep ep;
	rn_id peer;
	uint32_t idx_i;
	uint64_t ts;
	uint8_t e_i[RN_DH_LEN];
	uint8_t h_i[32];
	uint8_t certless; /* a rekey: answer without our certificate */
	rn_cert cert;
} rn_hs_ctx;

struct rn_sec {
	rn_sess *s;
	uint32_t n, cap;
	rn_hs_pending *p;
	uint32_t np, capp;
	rn_hs_ctx ctx;
	uint64_t seen[RN_SEC_SEEN_MAX];
	uint32_t seen_next, seen_n;
	uint8_t cookie_key[32], cookie_prev[32];
	uint32_t cookie_rot_ms;
	uint32_t rate_win_ms, rate_count;
	uint8_t group_id[RN_GROUP_ID_LEN];
	rn_sec_stats st;
};

/* ---- helpers ---------------------------------------------------------- */

static void put32(crypto_generichash_state *h, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
			(uint8_t)v};
	crypto_generichash_update(h, b, 4);
}

static void put64(crypto_generichash_state *h, uint64_t v)
{
	put32(h, (uint32_t)(v >> 32));
	put32(h, (uint32_t)v);
}

static void hash_init_msg(const rn_sec *s, const rn_hs_msg *m, uint8_t out[32])
{
	static const char label[] = "ringnet init v1";
	crypto_generichash_state h;
	crypto_generichash_init(&h, NULL, 0, 32);
	crypto_generichash_update(&h, (const uint8_t *)label, sizeof label - 1);
	crypto_generichash_update(&h, s->group_id, sizeof s->group_id);
	put32(&h, m->idx_i);
	crypto_generichash_update(&h, m->dst.b, RN_ID_LEN);
	crypto_generichash_update(&h, m->eph, RN_HS_EPH_LEN);
	put64(&h, m->ts_ms);
	put32(&h, (uint32_t)m->cert_len);
	crypto_generichash_update(&h, m->cert, m->cert_len);
	put32(&h, (uint32_t)m->inner_len);
	crypto_generichash_update(&h, m->inner, m->inner_len);
	crypto_generichash_final(&h, out, 32);
}

static void hash_resp_msg(const uint8_t h_i[32], const rn_hs_msg *m,
			  uint8_t out[32])
{
	static const char label[] = "ringnet resp v1";
	crypto_generichash_state h;
	crypto_generichash_init(&h, NULL, 0, 32);
	crypto_generichash_update(&h, (const uint8_t *)label, sizeof label - 1);
	crypto_generichash_update(&h, h_i, 32);
	put32(&h, m->idx_r);
	put32(&h, m->idx_i);
	crypto_generichash_update(&h, m->eph, RN_HS_EPH_LEN);
	put32(&h, (uint32_t)m->cert_len);
	crypto_generichash_update(&h, m->cert, m->cert_len);
	put32(&h, (uint32_t)m->inner_len);
	crypto_generichash_update(&h, m->inner, m->inner_len);
	crypto_generichash_final(&h, out, 32);
}

/* Session keys from the two transcript hashes and the ephemeral DH. */
static int derive(uint8_t k_ir[32], uint8_t k_ri[32], const uint8_t h_i[32],
		  const uint8_t h_r[32], const uint8_t e_sk[32],
		  const uint8_t e_pk_peer[32])
{
	return rn_seal_derive(k_ir, k_ri, "ringnet keys v1", h_i, h_r, e_sk,
			      e_pk_peer);
}

static uint32_t fresh_index(rn_node *n)
{
	uint32_t v = 0;
	while (v == 0) {
		uint8_t b[4];
		n->sh->env->random(n->lg.ctx, b, 4);
		v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
		    (uint32_t)b[2] << 8 | b[3];
		for (uint32_t i = 0; v && i < n->sec->n; i++)
			if (n->sec->s[i].idx == v ||
			    (n->sec->s[i].has_prev && n->sec->s[i].prev_idx == v))
				v = 0;
	}
	return v;
}

static void ephemeral(rn_node *n, uint8_t sk[32], uint8_t pk[32])
{
	n->sh->env->random(n->lg.ctx, sk, 32);
	crypto_scalarmult_base(pk, sk);
}

static void wire_send(rn_node *n, const rn_ep *to, const uint8_t *buf,
		      size_t len, int maint)
{
	if (rn_relay_ep_is(to)) { /* a relay link's: through its relay */
		rn_relay_send(n, to, buf, len);
		return;
	}
	n->stats.tx_pkts++;
	n->stats.tx_bytes += len;
	if (maint) {
		n->stats.tx_maint_pkts++;
		n->stats.tx_maint_bytes += len;
	}
	n->sh->env->send(n->lg.ctx, to, buf, len);
}

/* Doubles a bounded array of key-holding entries (4 at first, at most max):
 * a fresh block, the entries copied, the old block wiped and freed, so no
 * key is left behind in freed memory as realloc would. Returns the new
 * block, or NULL (v untouched) when full or out of memory. */
static void *grow_wiped(void *v, uint32_t *cap, uint32_t max, size_t elem)
{
	uint32_t c = *cap ? *cap * 2 : 4;
	if (c > max)
		c = max;
	if (c <= *cap)
		return NULL;
	uint8_t *nv = calloc(c, elem);
	if (!nv)
		return NULL;
	if (v) {
		memcpy(nv, v, *cap * elem);
		sodium_memzero(v, *cap * elem);
		free(v);
	}
	*cap = c;
	return nv;
}

static rn_sess *sess_by_ep(const rn_sec *s, const rn_ep *ep)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (rn_ep_eq(&s->s[i].ep, ep))
			return &s->s[i];
	return NULL;
}

static void sess_wipe(rn_sess *x)
{
	sodium_memzero(x, sizeof *x);
}

static void sess_remove(rn_sec *s, uint32_t i)
{
	sess_wipe(&s->s[i]);
	s->s[i] = s->s[--s->n];
	sess_wipe(&s->s[s->n]); /* the moved entry's old copy */
}

static rn_hs_pending *pend_by_ep(const rn_sec *s, const rn_ep *ep)
{
	for (uint32_t i = 0; i < s->np; i++)
		if (rn_ep_eq(&s->p[i].ep, ep))
			return &s->p[i];
	return NULL;
}

static void pend_remove(rn_sec *s, rn_hs_pending *p)
{
	sodium_memzero(p, sizeof *p);
	*p = s->p[--s->np];
	sodium_memzero(&s->p[s->np], sizeof *p); /* the moved entry's old copy */
}

static void refuse(rn_node *n, rn_time now, const rn_ep *from, uint32_t *ctr,
		   const char *why)
{
	(*ctr)++;
	char eps[64];
	rn_log_limited(&n->lg, now, RN_LOG_WARN, "handshake from %s refused: %s",
		       rn_ep_to_str(from, eps, sizeof eps), why);
}

/* Checks a peer certificate: decodes, verifies against our group now, and
 * binds it to the id the peer claims. 0 or the counter already bumped. */
static int check_cert(rn_node *n, rn_time now, const rn_ep *from,
		      const uint8_t *cert, size_t len, const rn_id *claimed,
		      rn_cert *out)
{
	rn_sec_stats *ss = &n->sec->st;
	if (rn_cert_decode(cert, len, out)) {
		refuse(n, now, from, &ss->hs_bad_cert, "certificate does not decode");
		return -1;
	}
	int rc = rn_cert_verify(out, n->sh->group_pk, rn_node_unix_ms(n, now) / 1000u);
	switch (rc) {
	case 0:
		break;
	case RN_ERR_CERT_GROUP:
		refuse(n, now, from, &ss->hs_other_group,
		       "certificate of another group");
		return -1;
	case RN_ERR_CERT_EARLY:
	case RN_ERR_CERT_EXPIRED:
		refuse(n, now, from, &ss->hs_expired,
		       rc == RN_ERR_CERT_EARLY ? "certificate not valid yet"
					      : "certificate expired");
		return -1;
	default:
		refuse(n, now, from, &ss->hs_bad_sig,
		       "certificate signature does not verify");
		return -1;
	}
	rn_id id;
	if (rn_cert_ring_id(out, &id) || rn_id_cmp(&id, claimed) != 0) {
		refuse(n, now, from, &ss->hs_wrong_id,
		       "certificate is not for the ring id claimed");
		return -1;
	}
	return 0;
}

/* The certificate of a rekey: the one the live session with `from` holds,
 * for the same peer and still valid now. */
static int session_cert(rn_node *n, rn_time now, const rn_ep *from,
			const rn_id *claimed, rn_cert *out)
{
	rn_sec_stats *ss = &n->sec->st;
	const rn_sess *x = sess_by_ep(n->sec, from);
	if (!x || x->orphan || rn_id_cmp(&x->peer, claimed) != 0) {
		refuse(n, now, from, &ss->hs_bad_cert,
		       "rekey without a session");
		return -1;
	}
	uint64_t t = rn_node_unix_ms(n, now) / 1000u;
	if (t < x->cert.not_before || t > x->cert.not_after) {
		refuse(n, now, from, &ss->hs_expired, "certificate expired");
		return -1;
	}
	*out = x->cert;
	return 0;
}

/* ---- lifecycle -------------------------------------------------------- */

int rn_ident_init(rn_ident *id, const uint8_t node_sk[RN_SIGN_SK_LEN],
		  const uint8_t *cert, size_t cert_len)
{
	memset(id, 0, sizeof *id);
	if (cert_len > sizeof id->cert || rn_cert_decode(cert, cert_len, &id->parsed))
		return RN_ERR_INVAL;
	/* The Ed25519 secret key holds its public key in the second half. */
	if (sodium_memcmp(node_sk + 32, id->parsed.node_pk, 32) != 0)
		return RN_ERR_INVAL;
	memcpy(id->node_sk, node_sk, RN_SIGN_SK_LEN);
	memcpy(id->cert, cert, cert_len);
	id->cert_len = cert_len;
	return 0;
}

rn_sec *rn_sec_new(rn_node *n)
{
	rn_sec *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	n->sh->env->random(n->lg.ctx, s->cookie_key, sizeof s->cookie_key);
	memcpy(s->cookie_prev, s->cookie_key, sizeof s->cookie_prev);
	rn_group_id(s->group_id, n->sh->group_pk);
	return s;
}

void rn_sec_free(rn_sec *s)
{
	if (!s)
		return;
	for (uint32_t i = 0; i < s->n; i++)
		sess_wipe(&s->s[i]);
	free(s->s);
	if (s->p)
		sodium_memzero(s->p, s->capp * sizeof *s->p);
	free(s->p);
	sodium_memzero(s, sizeof *s);
	free(s);
}

const rn_sec_stats *rn_sec_get_stats(const rn_sec *s)
{
	static const rn_sec_stats none;
	return s ? &s->st : &none;
}

size_t rn_sec_mem_bytes(const rn_sec *s)
{
	return s ? sizeof *s + s->cap * sizeof(rn_sess) +
			   s->capp * sizeof(rn_hs_pending)
		 : 0;
}

void rn_sec_forget(rn_node *n, const rn_ep *ep)
{
	rn_sec *s = n->sec;
	if (!s)
		return;
	rn_sess *x = sess_by_ep(s, ep);
	if (x && !x->orphan) {
		x->orphan = 1;
		x->orphan_until_ms = rn_ms(n, n->now) + RN_SEC_ORPHAN_MS;
		x->rekeying = 0;
	}
	rn_hs_pending *p = pend_by_ep(s, ep);
	if (p)
		pend_remove(s, p);
}

void rn_sec_moved(rn_node *n, const rn_ep *ep)
{
	rn_sess *x = n->sec ? sess_by_ep(n->sec, ep) : NULL;
	if (x && !x->orphan) {
		rn_sec_forget(n, ep);
		x->moved = 1;
	}
}

const rn_cert *rn_sec_peer_cert(const rn_node *n, const rn_ep *ep)
{
	const rn_sess *x = n->sec ? sess_by_ep(n->sec, ep) : NULL;
	return x && !x->orphan ? &x->cert : NULL;
}

/* Installs fresh keys for the peer at ep (see the crossing rule above). */
static void install(rn_node *n, uint32_t now_ms, const rn_ep *ep,
		    const rn_cert *cert, const rn_id *peer,
		    const rn_id *initiator, int i_init, uint32_t idx,
		    uint32_t idx_peer, const uint8_t k_tx[32],
		    const uint8_t k_rx[32], uint64_t ts)
{
	const rn_settings *st = n->sh->settings;
	rn_sec *s = n->sec;
	rn_sess *x = sess_by_ep(s, ep);
	if (x && (x->orphan || rn_id_cmp(&x->peer, peer) != 0)) {
		/* A session whose link is gone, or another node now at that
		 * endpoint: the old keys are void. */
		sess_remove(s, (uint32_t)(x - s->s));
		x = NULL;
	}
	if (!x) {
		if (s->n >= st->sessions_max) {
			/* the orphan closest to its end gives way */
			uint32_t o = s->n;
			for (uint32_t i = 0; i < s->n; i++)
				if (s->s[i].orphan &&
				    (o == s->n ||
				     (int32_t)(s->s[i].orphan_until_ms -
					       s->s[o].orphan_until_ms) < 0))
					o = i;
			if (o == s->n) {
				n->stats.drop_full++;
				return;
			}
			sess_remove(s, o);
		}
		if (s->n == s->cap) {
			rn_sess *v = grow_wiped(s->s, &s->cap, st->sessions_max,
						sizeof *v);
			if (!v)
				return;
			s->s = v;
		}
		x = &s->s[s->n++];
		memset(x, 0, sizeof *x);
	} else {
		/* Two handshakes that crossed (a first contact, or both sides
		 * rekeying at once): both sides keep the same one. A rekey
		 * that meets a young session from the other side waits
		 * (it retries) until that one is no longer young. */
		int crossing = (uint32_t)(now_ms - x->born_ms) < RN_SEC_CROSSING_MS &&
			       rn_id_cmp(&x->initiator, initiator) != 0;
		if (crossing && rn_id_cmp(&x->initiator, initiator) < 0) {
			/* Keep the current keys; the new ones only receive. */
			if (x->has_prev)
				rn_seal_rx_deinit(&x->prev_rx);
			rn_seal_rx_init(&x->prev_rx, k_rx);
			x->prev_idx = idx;
			x->prev_until_ms = now_ms + RN_SEC_PREV_KEEP_MS;
			x->has_prev = 1;
			if (ts > x->last_ts)
				x->last_ts = ts;
			return;
		}
		if (x->has_prev)
			rn_seal_rx_deinit(&x->prev_rx);
		x->prev_rx = x->rx;
		x->prev_idx = x->idx;
		x->prev_until_ms = now_ms + RN_SEC_PREV_KEEP_MS;
		x->has_prev = 1;
		rn_seal_tx_deinit(&x->tx);
	}
	x->ep = *ep;
	x->peer = *peer;
	x->initiator = *initiator;
	x->cert = *cert;
	x->idx = idx;
	x->idx_peer = idx_peer;
	x->born_ms = now_ms;
	x->i_init = (uint8_t)i_init;
	x->rekeying = 0;
	x->rekey_ms = 0;
	if (ts > x->last_ts)
		x->last_ts = ts;
	rn_seal_tx_init(&x->tx, k_tx);
	rn_seal_rx_init(&x->rx, k_rx);
}

/* ---- sending ---------------------------------------------------------- */

static void send_init(rn_node *n, rn_time now, const rn_ep *to,
		      const uint8_t *hello, size_t hello_len, int maint)
{
	const rn_settings *st = n->sh->settings;
	rn_sec *s = n->sec;
	uint32_t now_ms = rn_ms(n, now);
	if (hello_len > RN_HS_INNER_MAX)
		return;
	rn_hs_pending *p = pend_by_ep(s, to);
	if (!p) {
		if (s->np >= st->hs_pending_max) {
			/* make room: the oldest handshake gives way */
			uint32_t old = 0;
			for (uint32_t i = 1; i < s->np; i++)
				if ((int32_t)(s->p[i].born_ms - s->p[old].born_ms) < 0)
					old = i;
			pend_remove(s, &s->p[old]);
			n->stats.drop_full++;
		}
		if (s->np == s->capp) {
			rn_hs_pending *v = grow_wiped(s->p, &s->capp,
						      st->hs_pending_max, sizeof *v);
			if (!v)
				return;
			s->p = v;
		}
		p = &s->p[s->np++];
		memset(p, 0, sizeof *p);
		p->ep = *to;
	}
	/* Every INIT is a fresh attempt: a new index and ephemeral key, so
	 * that only the answer to the latest one completes (docs/security.md). */
	p->idx_i = fresh_index(n);
	p->born_ms = now_ms;
	ephemeral(n, p->e_sk, p->e_pk);
	/* the peer: the link's at that endpoint, or the relay link's whose
	 * direct path is being tried there; none for a bootstrap probe */
	int li = rn_links_find_ep(&n->links, to);
	if (li >= 0)
		rn_id_add(&p->dst, &n->id, &n->links.v[li].off);
	else if (!rn_relay_direct_peer(n, to, &p->dst))
		memset(&p->dst, 0, sizeof p->dst);
	memcpy(p->hello, hello, hello_len);
	p->hello_len = hello_len;

	rn_hs_msg m;
	memset(&m, 0, sizeof m);
	m.type = RN_HS_INIT;
	m.idx_i = p->idx_i;
	m.dst = p->dst;
	memcpy(m.eph, p->e_pk, RN_HS_EPH_LEN);
	m.ts_ms = rn_node_unix_ms(n, now);
	m.has_cookie = p->has_cookie;
	memcpy(m.cookie, p->cookie, sizeof m.cookie);
	rn_sess *x = sess_by_ep(s, to);
	m.cert = n->ident->cert;
	m.cert_len = x && !x->orphan ? 0 : n->ident->cert_len;
	m.inner = p->hello;
	m.inner_len = p->hello_len;
	hash_init_msg(s, &m, p->h_i);
	crypto_sign_detached(m.sig, NULL, p->h_i, 32, n->ident->node_sk);
	uint8_t buf[RN_DGRAM_MAX];
	size_t len;
	if (rn_hs_encode(&m, buf, sizeof buf, &len) == 0) {
		n->sec->st.hs_init_sent++;
		wire_send(n, to, buf, len, maint);
	}
}

static void send_resp(rn_node *n, rn_time now, const rn_ep *to,
		      const uint8_t *ack, size_t ack_len, int maint)
{
	rn_sec *s = n->sec;
	rn_hs_ctx *c = &s->ctx;
	uint32_t now_ms = rn_ms(n, now);
	uint8_t e_sk[RN_DH_LEN], k_ir[32], k_ri[32], h_r[32];
	rn_hs_msg m;
	memset(&m, 0, sizeof m);
	m.type = RN_HS_RESP;
	m.idx_i = c->idx_i;
	/* Keys only if the overlay kept a link for the peer; a bootstrap's
	 * stateless answer to a probe makes none. */
	int li = rn_links_find_ep(&n->links, to);
	int keep = li >= 0 && n->links.v[li].state == RN_LINK_UP;
	m.idx_r = keep ? fresh_index(n) : 0;
	ephemeral(n, e_sk, m.eph);
	m.cert = n->ident->cert;
	m.cert_len = c->certless ? 0 : n->ident->cert_len;
	m.inner = ack;
	m.inner_len = ack_len;
	hash_resp_msg(c->h_i, &m, h_r);
	crypto_sign_detached(m.sig, NULL, h_r, 32, n->ident->node_sk);
	if (keep && derive(k_ir, k_ri, c->h_i, h_r, e_sk, c->e_i) == 0)
		install(n, now_ms, to, &c->cert, &c->peer, &c->peer, 0, m.idx_r,
			c->idx_i, k_ri, k_ir, c->ts);
	sodium_memzero(e_sk, sizeof e_sk);
	sodium_memzero(k_ir, sizeof k_ir);
	sodium_memzero(k_ri, sizeof k_ri);
	uint8_t buf[RN_DGRAM_MAX];
	size_t len;
	if (rn_hs_encode(&m, buf, sizeof buf, &len) == 0) {
		n->sec->st.hs_resp_sent++;
		wire_send(n, to, buf, len, maint);
	}
}

static void send_data(rn_node *n, rn_sess *x, const uint8_t *msg, size_t len,
		      int maint)
{
	/* RN_RELAY_MSG_MAX: a RELAY carries a whole datagram (relay.c) */
	uint8_t buf[RN_RELAY_MSG_MAX + RN_HS_DATA_HDR + RN_HS_TAG_LEN];
	uint64_t ctr;
	size_t out;
	if (rn_seal_tx_peek(&x->tx, &ctr)) {
		n->sec->st.tx_nosess++; /* key used up: the rekey is overdue */
		return;
	}
	rn_hs_data_header(buf, x->idx_peer, ctr);
	if (rn_seal_encrypt(&x->tx, ctr, buf, RN_HS_DATA_HDR, msg, len,
			    buf + RN_HS_DATA_HDR, sizeof buf - RN_HS_DATA_HDR,
			    &out))
		return;
	wire_send(n, &x->ep, buf, RN_HS_DATA_HDR + out, maint);
	if (x->tx.next == n->sh->settings->rekey_after_msgs)
		rn_node_want_deadline(n, n->now, rn_ms(n, n->now)); /* rekey */
}

int rn_sec_send_ip(rn_node *n, const rn_ep *to, uint8_t *pkt, size_t len)
{
	rn_sess *x = sess_by_ep(n->sec, to);
	if (!x || x->orphan)
		return RN_ERR_NOROUTE;
	uint64_t ctr;
	if (rn_seal_tx_peek(&x->tx, &ctr)) {
		n->sec->st.tx_nosess++;
		return RN_ERR_REKEY;
	}
	uint8_t *hdr = pkt - RN_HS_DATA_HDR;
	size_t out;
	rn_hs_data_header(hdr, x->idx_peer, ctr);
	int rc = rn_seal_encrypt(&x->tx, ctr, hdr, RN_HS_DATA_HDR, pkt, len, pkt,
				 len + RN_HS_TAG_LEN, &out);
	if (rc)
		return rc;
	wire_send(n, &x->ep, hdr, RN_HS_DATA_HDR + out, 0);
	if (x->tx.next == n->sh->settings->rekey_after_msgs)
		rn_node_want_deadline(n, n->now, rn_ms(n, n->now)); /* rekey */
	return 0;
}

void rn_sec_send(rn_node *n, rn_time now, const rn_ep *to, const uint8_t *msg,
		 size_t len, int maint)
{
	rn_sec *s = n->sec;
	uint8_t type = len >= 2 ? msg[1] : 0;
	if (type == RN_MSG_HELLO_ACK && s->ctx.active &&
	    rn_ep_eq(&s->ctx.ep, to)) {
		send_resp(n, now, to, msg, len, maint);
		return;
	}
	rn_sess *x = sess_by_ep(s, to);
	if (type == RN_MSG_HELLO && (!x || x->rekeying || x->orphan)) {
		send_init(n, now, to, msg, len, maint);
		if (x)
			x->rekeying = 0;
		return;
	}
	if (!x) {
		n->sec->st.tx_nosess++;
		return;
	}
	send_data(n, x, msg, len, maint);
}

/* ---- receiving -------------------------------------------------------- */

static void cookie_for(const uint8_t key[32], const rn_ep *ep,
		       uint8_t out[RN_HS_COOKIE_LEN])
{
	uint8_t w[RN_EP_WIRE_LEN];
	rn_ep_to_wire(ep, w);
	crypto_generichash(out, RN_HS_COOKIE_LEN, w, sizeof w, key, 32);
}

/* Under load an INIT must carry a cookie for its source endpoint. */
static int admit_init(rn_node *n, rn_time now, const rn_ep *from,
		      const rn_hs_msg *m)
{
	rn_sec *s = n->sec;
	uint32_t now_ms = rn_ms(n, now);
	if ((uint32_t)(now_ms - s->rate_win_ms) >= 1000u) {
		s->rate_win_ms = now_ms;
		s->rate_count = 0;
	}
	if (++s->rate_count <= n->sh->settings->handshakes_per_s_max)
		return 1;
	uint8_t c[RN_HS_COOKIE_LEN], c_old[RN_HS_COOKIE_LEN];
	cookie_for(s->cookie_key, from, c);
	cookie_for(s->cookie_prev, from, c_old);
	if (m->has_cookie && (sodium_memcmp(m->cookie, c, sizeof c) == 0 ||
			      sodium_memcmp(m->cookie, c_old, sizeof c) == 0))
		return 1;
	rn_hs_msg r;
	memset(&r, 0, sizeof r);
	r.type = RN_HS_COOKIE;
	r.idx_i = m->idx_i;
	memcpy(r.cookie, c, sizeof c);
	uint8_t buf[64];
	size_t len;
	if (rn_hs_encode(&r, buf, sizeof buf, &len) == 0) {
		n->sec->st.hs_cookie_sent++;
		wire_send(n, from, buf, len, 1);
	}
	return 0;
}

static int seen_before(rn_sec *s, const uint8_t sig[RN_HS_SIG_LEN])
{
	uint64_t k;
	memcpy(&k, sig, sizeof k);
	for (uint32_t i = 0; i < s->seen_n; i++)
		if (s->seen[i] == k)
			return 1;
	s->seen[s->seen_next] = k;
	s->seen_next = (s->seen_next + 1) % RN_SEC_SEEN_MAX;
	if (s->seen_n < RN_SEC_SEEN_MAX)
		s->seen_n++;
	return 0;
}

static void on_init(rn_node *n, rn_time now, const rn_ep *from,
		    const rn_hs_msg *m)
{
	rn_sec *s = n->sec;
	rn_sec_stats *ss = &s->st;
	rn_msg hello;
	if (rn_msg_decode(&n->sh->zone, m->inner, m->inner_len, &hello) ||
	    hello.type != RN_MSG_HELLO) {
		n->stats.drop_decode++;
		return;
	}
	/* A probe (no id yet) may only ask for a leaf; anything else must be
	 * meant for us. */
	if (rn_id_is_zero(&m->dst) ? hello.u.hello.kind != RN_KIND_LEAF
				   : rn_id_cmp(&m->dst, &n->id) != 0) {
		refuse(n, now, from, &ss->hs_wrong_id, "INIT meant for another node");
		return;
	}
	if (!admit_init(n, now, from, m))
		return;
	rn_hs_ctx *c = &s->ctx;
	if (m->cert_len ? check_cert(n, now, from, m->cert, m->cert_len,
				     &hello.u.hello.src, &c->cert)
			: session_cert(n, now, from, &hello.u.hello.src, &c->cert))
		return;
	uint8_t h_i[32];
	hash_init_msg(s, m, h_i);
	if (crypto_sign_verify_detached(m->sig, h_i, 32, c->cert.node_pk) != 0) {
		refuse(n, now, from, &ss->hs_bad_sig, "INIT signature does not verify");
		return;
	}
	uint64_t now_unix = rn_node_unix_ms(n, now);
	uint64_t skew = n->sh->settings->handshake_skew_ms;
	rn_sess *x = sess_by_ep(s, from);
	if (m->ts_ms + skew < now_unix || m->ts_ms > now_unix + skew ||
	    (x && rn_id_cmp(&x->peer, &hello.u.hello.src) == 0 &&
	     m->ts_ms <= x->last_ts) ||
	    seen_before(s, m->sig)) {
		refuse(n, now, from, &ss->hs_stale, "INIT replayed or clock skewed");
		return;
	}
	ss->hs_init_ok++;
	c->active = 1;
	c->ep = *from;
	c->peer = hello.u.hello.src;
	c->idx_i = m->idx_i;
	c->ts = m->ts_ms;
	c->certless = m->cert_len == 0;
	memcpy(c->e_i, m->eph, sizeof c->e_i);
	memcpy(c->h_i, h_i, sizeof c->h_i);
	rn_node_dispatch(n, now, from, m->inner, m->inner_len, RN_VIA_INIT);
	sodium_memzero(c, sizeof *c);
}

static void on_resp(rn_node *n, rn_time now, const rn_ep *from,
		    const rn_hs_msg *m)
{
	rn_sec *s = n->sec;
	rn_sec_stats *ss = &s->st;
	rn_hs_pending *p = pend_by_ep(s, from);
	if (!p || p->idx_i != m->idx_i) {
		ss->hs_unexpected++;
		return;
	}
	rn_msg ack;
	if (rn_msg_decode(&n->sh->zone, m->inner, m->inner_len, &ack) ||
	    ack.type != RN_MSG_HELLO_ACK) {
		n->stats.drop_decode++;
		return;
	}
	if (!rn_id_is_zero(&p->dst) && rn_id_cmp(&p->dst, &ack.u.hello.src)) {
		refuse(n, now, from, &ss->hs_wrong_id, "RESP from another node");
		return;
	}
	rn_cert cert;
	if (m->cert_len ? check_cert(n, now, from, m->cert, m->cert_len,
				     &ack.u.hello.src, &cert)
			: session_cert(n, now, from, &ack.u.hello.src, &cert))
		return;
	uint8_t h_r[32];
	hash_resp_msg(p->h_i, m, h_r);
	if (crypto_sign_verify_detached(m->sig, h_r, 32, cert.node_pk) != 0) {
		refuse(n, now, from, &ss->hs_bad_sig, "RESP signature does not verify");
		return;
	}
	ss->hs_resp_ok++;
	if (m->idx_r != 0) {
		uint8_t k_ir[32], k_ri[32];
		if (derive(k_ir, k_ri, p->h_i, h_r, p->e_sk, m->eph) == 0)
			install(n, rn_ms(n, now), from, &cert, &ack.u.hello.src,
				&n->id, 1, p->idx_i, m->idx_r, k_ir, k_ri, 0);
		sodium_memzero(k_ir, sizeof k_ir);
		sodium_memzero(k_ri, sizeof k_ri);
	}
	pend_remove(s, p);
	rn_node_dispatch(n, now, from, m->inner, m->inner_len, RN_VIA_RESP);
}

static void on_cookie(rn_node *n, rn_time now, const rn_ep *from,
		      const rn_hs_msg *m)
{
	rn_hs_pending *p = pend_by_ep(n->sec, from);
	if (!p || p->idx_i != m->idx_i || p->has_cookie) {
		n->sec->st.hs_unexpected++;
		return;
	}
	p->has_cookie = 1;
	memcpy(p->cookie, m->cookie, sizeof p->cookie);
	uint8_t hello[RN_HS_INNER_MAX];
	size_t len = p->hello_len;
	memcpy(hello, p->hello, len);
	send_init(n, now, from, hello, len, 1);
}

static void on_data(rn_node *n, rn_time now, const rn_ep *from,
		    const uint8_t *buf, size_t len)
{
	rn_sec *s = n->sec;
	uint32_t idx;
	uint64_t ctr;
	if (rn_hs_data_parse(buf, len, &idx, &ctr)) {
		n->stats.drop_decode++;
		return;
	}
	rn_sess *x = NULL;
	rn_seal_rx *rx = NULL;
	for (uint32_t i = 0; i < s->n && !x; i++) {
		if (s->s[i].idx == idx) {
			x = &s->s[i];
			rx = &x->rx;
		} else if (s->s[i].has_prev && s->s[i].prev_idx == idx) {
			x = &s->s[i];
			rx = &x->prev_rx;
		}
	}
	if (!x || !rn_ep_eq(&x->ep, from)) {
		n->sec->st.data_unknown++;
		return;
	}
	uint8_t pt[RN_RELAY_MSG_MAX];
	size_t pt_len;
	int rc = rn_seal_decrypt(rx, ctr, buf, RN_HS_DATA_HDR,
				 buf + RN_HS_DATA_HDR, len - RN_HS_DATA_HDR, pt,
				 sizeof pt, &pt_len);
	if (rc == RN_ERR_REPLAY) {
		n->sec->st.data_replay++;
		return;
	}
	if (rc) {
		n->sec->st.data_auth_fail++;
		return;
	}
	n->sec->st.data_ok++;
	/* An overlay message is a msgpack array (0x9_); an IP packet starts
	 * with its version nibble, 4 or 6. */
	if (pt_len && ((pt[0] >> 4) == 4 || (pt[0] >> 4) == 6)) {
		/* an unbound range member has no address to send from; a
		 * relay link that moved to its direct path still gets what
		 * was in flight on the relay (rn_node_on_ip) */
		if ((x->orphan && !x->moved) || !rn_cert_is_bound(&x->cert)) {
			n->sec->st.data_unknown++;
			return;
		}
		rn_node_on_ip(n, now, from, &x->peer, x->cert.vip,
			      x->cert.vip_len, pt, pt_len);
		return;
	}
	rn_node_dispatch(n, now, from, pt, pt_len, RN_VIA_DATA);
}

void rn_sec_recv(rn_node *n, rn_time now, const rn_ep *from,
		 const uint8_t *buf, size_t len)
{
	if (len >= 1 && buf[0] == RN_HS_DATA) {
		on_data(n, now, from, buf, len);
		return;
	}
	rn_hs_msg m;
	int rc = rn_hs_decode(&n->sh->zone, buf, len, &m);
	if (rc) {
		n->stats.drop_decode++;
		rn_log_limited(&n->lg, now, RN_LOG_DEBUG,
			       "dropped undecodable datagram (%zu bytes): %s",
			       len, rn_strerror(rc));
		return;
	}
	/* cert and inner point into buf; the zone is reused by the overlay's
	 * decode of the inner message, which is fine: m holds no zone memory */
	switch (m.type) {
	case RN_HS_INIT:
		on_init(n, now, from, &m);
		break;
	case RN_HS_RESP:
		on_resp(n, now, from, &m);
		break;
	case RN_HS_COOKIE:
		on_cookie(n, now, from, &m);
		break;
	default:
		break;
	}
}

/* ---- timers ----------------------------------------------------------- */

uint32_t rn_sec_tick(rn_node *n, rn_time now, uint32_t now_ms)
{
	rn_sec *s = n->sec;
	const rn_settings *st = n->sh->settings;
	uint32_t next = now_ms + RN_SEC_COOKIE_ROTATE_MS;
	if (!s)
		return next;
	if (rn_ms_due(s->cookie_rot_ms, now_ms)) {
		memcpy(s->cookie_prev, s->cookie_key, sizeof s->cookie_prev);
		n->sh->env->random(n->lg.ctx, s->cookie_key, sizeof s->cookie_key);
		s->cookie_rot_ms = now_ms + RN_SEC_COOKIE_ROTATE_MS;
	}
	next = rn_ms_min(next, s->cookie_rot_ms);
	/* handshakes nobody answered: the overlay retries with new HELLOs */
	for (uint32_t i = 0; i < s->np;) {
		if ((uint32_t)(now_ms - s->p[i].born_ms) > st->hs_pending_ms) {
			pend_remove(s, &s->p[i]);
			continue;
		}
		next = rn_ms_min(next, s->p[i].born_ms + st->hs_pending_ms + 1);
		i++;
	}
	for (uint32_t i = 0; i < s->n;) {
		rn_sess *x = &s->s[i];
		if (x->orphan) {
			if (rn_ms_due(x->orphan_until_ms, now_ms)) {
				sess_remove(s, i);
				continue;
			}
			next = rn_ms_min(next, x->orphan_until_ms);
			i++;
			continue;
		}
		if (x->has_prev && rn_ms_due(x->prev_until_ms, now_ms)) {
			rn_seal_rx_deinit(&x->prev_rx);
			x->has_prev = 0;
		}
		if (x->has_prev)
			next = rn_ms_min(next, x->prev_until_ms);
		uint32_t age = now_ms - x->born_ms;
		if (age >= st->rekey_after_ms + st->rekey_after_ms / 2) {
			/* No rekey got through: the keys are too old to use. */
			int li = rn_links_find_ep(&n->links, &x->ep);
			sess_remove(s, i);
			n->sec->st.hs_expired_sess++;
			if (li >= 0)
				rn_node_link_drop(n, now, (uint32_t)li, 1);
			continue;
		}
		int used_up = x->tx.next >= st->rekey_after_msgs;
		if (((x->i_init && age >= st->rekey_after_ms) || used_up) &&
		    (x->rekey_ms == 0 ||
		     (uint32_t)(now_ms - x->rekey_ms) >= RN_SEC_REKEY_RETRY_MS)) {
			int li = rn_links_find_ep(&n->links, &x->ep);
			if (li >= 0 && n->links.v[li].state == RN_LINK_UP) {
				x->rekeying = 1;
				x->rekey_ms = now_ms;
				n->sec->st.hs_rekeys++;
				rn_node_rehello(n, now, (uint32_t)li);
			}
		}
		if (used_up)
			next = rn_ms_min(next, x->rekey_ms + RN_SEC_REKEY_RETRY_MS);
		else if (x->i_init)
			next = rn_ms_min(next, age >= st->rekey_after_ms
						       ? now_ms + RN_SEC_REKEY_RETRY_MS
						       : x->born_ms + st->rekey_after_ms);
		next = rn_ms_min(next, x->born_ms + st->rekey_after_ms +
					       st->rekey_after_ms / 2);
		i++;
	}
	return next;
}
