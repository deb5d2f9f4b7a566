/* End-to-end sessions between two members whose packets cross the ring
 * (docs/vpn.md section 3): relays see only ciphertext.
 *
 * The same SIGMA-style exchange as the link handshake (docs/security.md),
 * carried in routed bodies instead of datagrams, between the two members'
 * ring ids:
 *
 *   A                                                             B
 *   E2E_INIT [24, v, idx_i, e_i, ts_ms, cert_a, sig_a]   -- ring -->
 *            <-- ring --   E2E_RESP [25, v, idx_r, idx_i, e_r, cert_b, sig_b]
 *   E2E_DATA  0x00 26 v | receiver idx (u32) | counter (u64) || AEAD || tag
 *
 *   h_i = BLAKE2b-256("ringnet e2e init v1" || group_id || id_a || id_b
 *                     || idx_i || e_i || ts_ms || len || cert_a)
 *   h_r = BLAKE2b-256("ringnet e2e resp v1" || h_i || idx_r || e_r
 *                     || len || cert_b)
 *   sig_x = Ed25519(node key, h_x)
 *   (k_ab, k_ba) = rn_kdf(BLAKE2b-256("ringnet e2e keys v1" || h_i || h_r),
 *                         X25519(e_i, e_r))
 *
 * Each side checks the other's certificate (our group, valid now) and that
 * its ring id is the routed source (or, for a RESP, the id the INIT went
 * to): a relay can neither read, forge nor redirect a session. Keys are
 * ephemeral, so a member that restarts makes new sessions, and packets of
 * its old ones find no receiver index (dropped, counted).
 *
 * E2E_DATA is binary, not msgpack (DESIGN.md section 5: no msgpack on the
 * data path). Its first byte 0x00 keeps it apart from the overlay's
 * msgpack bodies; the overlay reads only its type, byte 1. The 15-byte
 * header is the AEAD's associated data; the payload is one IP packet.
 *
 * This file is the messages and the keys; which peer holds which session,
 * retries and timers are the VPN's (vpn.c). Sans-I/O: ephemerals from the
 * caller's random bytes, time passed in.
 */
#ifndef RN_E2E_H
#define RN_E2E_H

#include <stddef.h>
#include <stdint.h>

#include "../core/cert.h"
#include "../core/id.h"
#include "../core/seal.h"
#include "../overlay/sec.h"

enum rn_e2e_body {
	RN_E2E_INIT = 24,
	RN_E2E_RESP = 25,
	RN_E2E_DATA = 26,
};
#define RN_E2E_VERSION 1
#define RN_E2E_DATA_HDR 15 /* 0x00, type, version, idx (4), counter (8) */
#define RN_E2E_OVERHEAD (RN_E2E_DATA_HDR + RN_SEAL_TAG_LEN)

/* One handshake message, decoded: pointers into the body. */
typedef struct rn_e2e_hs {
	uint8_t type;          /* RN_E2E_INIT or RN_E2E_RESP */
	uint32_t idx_i, idx_r; /* idx_r: RESP only */
	const uint8_t *eph;    /* 32 bytes */
	uint64_t ts_ms;        /* INIT only */
	const uint8_t *cert;
	size_t cert_len;
	const uint8_t *sig;    /* 64 bytes */
} rn_e2e_hs;

/* Keys of one session, from one side's view. */
typedef struct rn_e2e_keys {
	uint32_t idx_local, idx_peer;
	rn_seal_tx tx;
	rn_seal_rx rx;
} rn_e2e_keys;

/* What both sides need to make and check handshakes. */
typedef struct rn_e2e_ctx {
	const uint8_t *group_id; /* 32 bytes */
	const uint8_t *group_pk; /* 32 bytes */
	const rn_ident *ident;   /* our certificate and node key */
	rn_id self;              /* our ring id */
} rn_e2e_ctx;

/* Decodes an INIT or RESP body. 0 or RN_ERR_PROTO / RN_ERR_TRUNC /
 * RN_ERR_VERSION; never asserts. */
int rn_e2e_hs_decode(const uint8_t *body, size_t len, rn_e2e_hs *m);

/* Writes an INIT to `to` into out (cap bytes); h_i gets its transcript
 * hash, kept for the RESP. e_pk: our ephemeral public key. */
int rn_e2e_init_write(const rn_e2e_ctx *c, const rn_id *to, uint32_t idx_i,
		      const uint8_t e_pk[32], uint64_t ts_ms, uint8_t *out,
		      size_t cap, size_t *len, uint8_t h_i[32]);
/* Checks an INIT from ring id `from` at unix time now_s: certificate
 * (decoded into peer), its ring id, the signature. 0 or RN_ERR_CERT_*,
 * RN_ERR_BADSIG, RN_ERR_PERM (certificate not for that ring id). h_i gets
 * the transcript hash. */
int rn_e2e_init_check(const rn_e2e_ctx *c, const rn_id *from,
		      const rn_e2e_hs *m, uint64_t now_s, rn_cert *peer,
		      uint8_t h_i[32]);
/* The responder: writes the RESP to INIT m and derives its keys. e_sk is
 * its ephemeral secret (from random bytes). */
int rn_e2e_resp_write(const rn_e2e_ctx *c, const rn_e2e_hs *m,
		      const uint8_t h_i[32], uint32_t idx_r,
		      const uint8_t e_sk[32], uint8_t *out, size_t cap,
		      size_t *len, rn_e2e_keys *k);
/* The initiator: checks a RESP from `from` (the id the INIT went to)
 * against its INIT (h_i, e_sk) and derives the keys. */
int rn_e2e_resp_check(const rn_e2e_ctx *c, const rn_id *from,
		      const rn_e2e_hs *m, uint64_t now_s,
		      const uint8_t h_i[32], const uint8_t e_sk[32],
		      rn_cert *peer, rn_e2e_keys *k);

/* Seals the IP packet pkt[0..len) in place: RN_E2E_DATA_HDR bytes before
 * pkt and RN_SEAL_TAG_LEN after it must be writable; *body points to the
 * routed body, *body_len its length. 0 or RN_ERR_REKEY. */
int rn_e2e_seal(rn_e2e_keys *k, uint8_t *pkt, size_t len, uint8_t **body,
		size_t *body_len);
/* The receiver index of a data body, or 0 if it is not one. */
uint32_t rn_e2e_data_idx(const uint8_t *body, size_t len);
/* Opens a data body into out (cap bytes). 0 or RN_ERR_REPLAY, RN_ERR_AUTH,
 * RN_ERR_TRUNC. */
int rn_e2e_open(rn_seal_rx *rx, const uint8_t *body, size_t len,
		uint8_t *out, size_t cap, size_t *out_len);

#endif
