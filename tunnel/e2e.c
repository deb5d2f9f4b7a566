/* End-to-end session messages and keys (e2e.h). The exchange mirrors the
 * link handshake of overlay/sec.c; only the carrier (routed bodies between
 * ring ids instead of datagrams between endpoints) differs. */
#include "e2e.h"

#include <sodium.h>
#include <string.h>

#include "../core/buf.h"
#include "../core/err.h"
#include "../core/mp.h"

static void put32(crypto_generichash_state *h, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
			(uint8_t)v};
	crypto_generichash_update(h, b, 4);
}

static void label(crypto_generichash_state *h, const char *s)
{
	crypto_generichash_init(h, NULL, 0, 32);
	crypto_generichash_update(h, (const uint8_t *)s, strlen(s));
}

static void hash_init(const rn_e2e_ctx *c, const rn_id *a, const rn_id *b,
		      uint32_t idx_i, const uint8_t *e_i, uint64_t ts,
		      const uint8_t *cert, size_t cert_len, uint8_t out[32])
{
	crypto_generichash_state h;
	label(&h, "ringnet e2e init v1");
	crypto_generichash_update(&h, c->group_id, RN_GROUP_ID_LEN);
	crypto_generichash_update(&h, a->b, RN_ID_LEN);
	crypto_generichash_update(&h, b->b, RN_ID_LEN);
	put32(&h, idx_i);
	crypto_generichash_update(&h, e_i, 32);
	put32(&h, (uint32_t)(ts >> 32));
	put32(&h, (uint32_t)ts);
	put32(&h, (uint32_t)cert_len);
	crypto_generichash_update(&h, cert, cert_len);
	crypto_generichash_final(&h, out, 32);
}

static void hash_resp(const uint8_t h_i[32], uint32_t idx_r,
		      const uint8_t *e_r, const uint8_t *cert, size_t cert_len,
		      uint8_t out[32])
{
	crypto_generichash_state h;
	label(&h, "ringnet e2e resp v1");
	crypto_generichash_update(&h, h_i, 32);
	put32(&h, idx_r);
	crypto_generichash_update(&h, e_r, 32);
	put32(&h, (uint32_t)cert_len);
	crypto_generichash_update(&h, cert, cert_len);
	crypto_generichash_final(&h, out, 32);
}

/* (k_ir, k_ri) from both transcripts and X25519(e_sk, e_pk). */
static int derive(uint8_t k_ir[32], uint8_t k_ri[32], const uint8_t h_i[32],
		  const uint8_t h_r[32], const uint8_t e_sk[32],
		  const uint8_t e_pk[32])
{
	return rn_seal_derive(k_ir, k_ri, "ringnet e2e keys v1", h_i, h_r,
			      e_sk, e_pk);
}

static void keys_init(rn_e2e_keys *k, const uint8_t tx[32],
		      const uint8_t rx[32])
{
	memcpy(k->tx.key, tx, 32);
	k->tx.next = 0;
	memcpy(k->rx.key, rx, 32);
	rn_replay_init(&k->rx.replay);
}

/* ---- codec ------------------------------------------------------------- */

int rn_e2e_hs_decode(const uint8_t *body, size_t len, rn_e2e_hs *m)
{
	/* Handshakes are rare: a private zone keeps this free of any shared
	 * state. Its first chunk is on the heap; 1 KiB covers one message. */
	msgpack_zone zone;
	msgpack_object o;
	uint8_t type;
	if (!msgpack_zone_init(&zone, 1024))
		return RN_ERR_NOMEM;
	int rc = rn_mp_unpack_msg(&zone, body, len, RN_E2E_VERSION, &o, &type);
	memset(m, 0, sizeof *m);
	if (rc == 0) {
		const uint8_t *eph = NULL, *sig = NULL;
		size_t n_eph = 0, n_sig = 0;
		uint32_t x = 0;
		m->type = type;
		if (type == RN_E2E_INIT) {
			rc = rn_mp_array(&o, 7, 7) ||
			     rn_mp_get_u32(&o, 2, UINT32_MAX, &m->idx_i) ||
			     rn_mp_get_bin(&o, 3, 32, &eph, &n_eph) ||
			     rn_mp_get_u64(&o, 4, UINT64_MAX, &m->ts_ms) ||
			     rn_mp_get_bin(&o, 5, RN_CERT_ENCODED_MAX, &m->cert,
					   &m->cert_len) ||
			     rn_mp_get_bin(&o, 6, RN_SIG_LEN, &sig, &n_sig);
		} else if (type == RN_E2E_RESP) {
			rc = rn_mp_array(&o, 7, 7) ||
			     rn_mp_get_u32(&o, 2, UINT32_MAX, &m->idx_r) ||
			     rn_mp_get_u32(&o, 3, UINT32_MAX, &x) ||
			     rn_mp_get_bin(&o, 4, 32, &eph, &n_eph) ||
			     rn_mp_get_bin(&o, 5, RN_CERT_ENCODED_MAX, &m->cert,
					   &m->cert_len) ||
			     rn_mp_get_bin(&o, 6, RN_SIG_LEN, &sig, &n_sig);
			m->idx_i = x;
		} else {
			rc = 1;
		}
		if (rc || n_eph != 32 || n_sig != RN_SIG_LEN || !m->idx_i ||
		    (type == RN_E2E_RESP && !m->idx_r))
			rc = RN_ERR_PROTO;
		m->eph = eph;
		m->sig = sig;
	}
	msgpack_zone_destroy(&zone);
	return rc;
}

static int finish(rn_writer *w, size_t *len)
{
	if (w->err)
		return w->err;
	*len = w->len;
	return 0;
}

int rn_e2e_init_write(const rn_e2e_ctx *c, const rn_id *to, uint32_t idx_i,
		      const uint8_t e_pk[32], uint64_t ts_ms, uint8_t *out,
		      size_t cap, size_t *len, uint8_t h_i[32])
{
	uint8_t sig[RN_SIG_LEN];
	rn_writer w;
	msgpack_packer pk;
	hash_init(c, &c->self, to, idx_i, e_pk, ts_ms, c->ident->cert,
		  c->ident->cert_len, h_i);
	crypto_sign_detached(sig, NULL, h_i, 32, c->ident->node_sk);
	rn_writer_init(&w, out, cap);
	rn_mp_packer_init(&pk, &w);
	rn_mp_pack_header(&pk, 7, RN_E2E_INIT, RN_E2E_VERSION);
	msgpack_pack_uint32(&pk, idx_i);
	rn_mp_pack_bin(&pk, e_pk, 32);
	msgpack_pack_uint64(&pk, ts_ms);
	rn_mp_pack_bin(&pk, c->ident->cert, c->ident->cert_len);
	rn_mp_pack_bin(&pk, sig, sizeof sig);
	return finish(&w, len);
}

/* The peer's certificate: ours to trust, valid now, for ring id `id`. */
static int check_peer(const rn_e2e_ctx *c, const rn_id *id,
		      const uint8_t *cert, size_t cert_len, uint64_t now_s,
		      rn_cert *peer)
{
	rn_id cid;
	if (rn_cert_decode(cert, cert_len, peer))
		return RN_ERR_PROTO;
	int rc = rn_cert_verify(peer, c->group_pk, now_s);
	if (rc)
		return rc;
	if (rn_cert_ring_id(peer, &cid) || rn_id_cmp(&cid, id) != 0 ||
	    !rn_cert_is_bound(peer)) /* no address to speak for yet */
		return RN_ERR_PERM;
	return 0;
}

int rn_e2e_init_check(const rn_e2e_ctx *c, const rn_id *from,
		      const rn_e2e_hs *m, uint64_t now_s, rn_cert *peer,
		      uint8_t h_i[32])
{
	if (m->type != RN_E2E_INIT)
		return RN_ERR_PROTO;
	int rc = check_peer(c, from, m->cert, m->cert_len, now_s, peer);
	if (rc)
		return rc;
	hash_init(c, from, &c->self, m->idx_i, m->eph, m->ts_ms, m->cert,
		  m->cert_len, h_i);
	if (crypto_sign_verify_detached(m->sig, h_i, 32, peer->node_pk))
		return RN_ERR_BADSIG;
	return 0;
}

int rn_e2e_resp_write(const rn_e2e_ctx *c, const rn_e2e_hs *m,
		      const uint8_t h_i[32], uint32_t idx_r,
		      const uint8_t e_sk[32], uint8_t *out, size_t cap,
		      size_t *len, rn_e2e_keys *k)
{
	uint8_t e_pk[32], h_r[32], sig[RN_SIG_LEN], k_ir[32], k_ri[32];
	rn_writer w;
	msgpack_packer pk;
	crypto_scalarmult_base(e_pk, e_sk);
	hash_resp(h_i, idx_r, e_pk, c->ident->cert, c->ident->cert_len, h_r);
	int rc = derive(k_ir, k_ri, h_i, h_r, e_sk, m->eph);
	if (rc)
		return rc;
	crypto_sign_detached(sig, NULL, h_r, 32, c->ident->node_sk);
	rn_writer_init(&w, out, cap);
	rn_mp_packer_init(&pk, &w);
	rn_mp_pack_header(&pk, 7, RN_E2E_RESP, RN_E2E_VERSION);
	msgpack_pack_uint32(&pk, idx_r);
	msgpack_pack_uint32(&pk, m->idx_i);
	rn_mp_pack_bin(&pk, e_pk, 32);
	rn_mp_pack_bin(&pk, c->ident->cert, c->ident->cert_len);
	rn_mp_pack_bin(&pk, sig, sizeof sig);
	rc = finish(&w, len);
	if (rc == 0) {
		keys_init(k, k_ri, k_ir); /* the responder sends with k_ri */
		k->idx_local = idx_r;
		k->idx_peer = m->idx_i;
	}
	sodium_memzero(k_ir, sizeof k_ir);
	sodium_memzero(k_ri, sizeof k_ri);
	return rc;
}

int rn_e2e_resp_check(const rn_e2e_ctx *c, const rn_id *from,
		      const rn_e2e_hs *m, uint64_t now_s,
		      const uint8_t h_i[32], const uint8_t e_sk[32],
		      rn_cert *peer, rn_e2e_keys *k)
{
	uint8_t h_r[32], k_ir[32], k_ri[32];
	if (m->type != RN_E2E_RESP)
		return RN_ERR_PROTO;
	int rc = check_peer(c, from, m->cert, m->cert_len, now_s, peer);
	if (rc)
		return rc;
	hash_resp(h_i, m->idx_r, m->eph, m->cert, m->cert_len, h_r);
	if (crypto_sign_verify_detached(m->sig, h_r, 32, peer->node_pk))
		return RN_ERR_BADSIG;
	rc = derive(k_ir, k_ri, h_i, h_r, e_sk, m->eph);
	if (rc)
		return rc;
	keys_init(k, k_ir, k_ri);
	k->idx_local = m->idx_i;
	k->idx_peer = m->idx_r;
	sodium_memzero(k_ir, sizeof k_ir);
	sodium_memzero(k_ri, sizeof k_ri);
	return 0;
}

/* ---- data -------------------------------------------------------------- */

static void data_header(uint8_t *h, uint32_t idx, uint64_t ctr)
{
	h[0] = 0x00;
	h[1] = RN_E2E_DATA;
	h[2] = RN_E2E_VERSION;
	for (int i = 0; i < 4; i++)
		h[3 + i] = (uint8_t)(idx >> (24 - 8 * i));
	for (int i = 0; i < 8; i++)
		h[7 + i] = (uint8_t)(ctr >> (56 - 8 * i));
}

int rn_e2e_seal(rn_e2e_keys *k, uint8_t *pkt, size_t len, uint8_t **body,
		size_t *body_len)
{
	uint64_t ctr;
	size_t out;
	int rc = rn_seal_tx_peek(&k->tx, &ctr);
	if (rc)
		return rc;
	uint8_t *h = pkt - RN_E2E_DATA_HDR;
	data_header(h, k->idx_peer, ctr);
	rc = rn_seal_encrypt(&k->tx, ctr, h, RN_E2E_DATA_HDR, pkt, len, pkt,
			     len + RN_SEAL_TAG_LEN, &out);
	if (rc)
		return rc;
	*body = h;
	*body_len = RN_E2E_DATA_HDR + out;
	return 0;
}

uint32_t rn_e2e_data_idx(const uint8_t *b, size_t len)
{
	if (len < RN_E2E_OVERHEAD || b[0] != 0x00 || b[1] != RN_E2E_DATA ||
	    b[2] != RN_E2E_VERSION)
		return 0;
	return (uint32_t)b[3] << 24 | (uint32_t)b[4] << 16 |
	       (uint32_t)b[5] << 8 | b[6];
}

int rn_e2e_open(rn_seal_rx *rx, const uint8_t *b, size_t len, uint8_t *out,
		size_t cap, size_t *out_len)
{
	if (len < RN_E2E_OVERHEAD)
		return RN_ERR_TRUNC;
	uint64_t ctr = 0;
	for (int i = 0; i < 8; i++)
		ctr = ctr << 8 | b[7 + i];
	return rn_seal_decrypt(rx, ctr, b, RN_E2E_DATA_HDR,
			       b + RN_E2E_DATA_HDR, len - RN_E2E_DATA_HDR, out,
			       cap, out_len);
}
