/* Link handshake and data framing on the wire (docs/security.md).
 *
 * Every datagram of a group is one of:
 *   INIT   [20, v, idx_i, dst_id, e_i, ts_ms, cookie, cert, sig_i, hello]
 *   RESP   [21, v, idx_r, idx_i, e_r, cert, sig_r, hello_ack]
 *   COOKIE [23, v, idx_i, cookie]
 *   DATA   0x16 | receiver idx (u32 LE) | counter (u64 LE) | AEAD(msg) | tag
 * INIT and RESP are msgpack arrays: idx are u32, dst_id bin 20 (all zero
 * for a bootstrap probe, sent before the prober knows the bootstrap's id),
 * e_i / e_r bin 32 (ephemeral X25519), ts_ms u64 (initiator's unix clock),
 * cookie bin 0 or 16, cert bin (core/cert.h encoding, or the null suite's
 * dummy), sig bin 64, hello / hello_ack bin: the overlay's own HELLO and
 * HELLO_ACK (msg.h) carried unchanged, so every link flow keeps its shape.
 * DATA is a fixed binary header (the AEAD's associated data) in front of a
 * sealed overlay message; its first byte, 0x16, is no msgpack array, so the
 * two framings cannot be confused.
 *
 * Decoders never assert; each has a fuzz target (tests/fuzz/fuzz_hs.c).
 */
#ifndef RN_HS_H
#define RN_HS_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/id.h"

#define RN_HS_INIT 20
#define RN_HS_RESP 21
#define RN_HS_COOKIE 23
#define RN_HS_DATA 0x16
#define RN_HS_EPH_LEN 32
#define RN_HS_SIG_LEN 64
#define RN_HS_COOKIE_LEN 16
#define RN_HS_CERT_MAX 264   /* a certificate is at most 257 bytes */
#define RN_HS_INNER_MAX 128  /* HELLO and HELLO_ACK are about 50 bytes */
#define RN_HS_DATA_HDR 13    /* type, receiver index, counter */
#define RN_HS_TAG_LEN 16

typedef struct rn_hs_msg {
	uint8_t type; /* RN_HS_INIT, RN_HS_RESP, RN_HS_COOKIE */
	uint32_t idx_i, idx_r;
	rn_id dst;                        /* INIT */
	uint8_t eph[RN_HS_EPH_LEN];       /* INIT: e_i, RESP: e_r */
	uint64_t ts_ms;                   /* INIT */
	uint8_t cookie[RN_HS_COOKIE_LEN]; /* INIT (if has_cookie), COOKIE */
	uint8_t has_cookie;
	const uint8_t *cert; /* by reference into the datagram */
	size_t cert_len;
	uint8_t sig[RN_HS_SIG_LEN];
	const uint8_t *inner; /* the HELLO / HELLO_ACK bytes, by reference */
	size_t inner_len;
} rn_hs_msg;

/* Encodes into buf[0..cap). RN_ERR_TOOBIG, RN_ERR_INVAL. */
int rn_hs_encode(const rn_hs_msg *m, uint8_t *buf, size_t cap, size_t *len);
/* Decodes exactly buf[0..len); cert and inner point into buf. Errors:
 * RN_ERR_TRUNC, RN_ERR_DEPTH, RN_ERR_PROTO, RN_ERR_VERSION. */
int rn_hs_decode(msgpack_zone *zone, const uint8_t *buf, size_t len,
		 rn_hs_msg *m);
/* 1 if the datagram looks like a handshake message (an INIT, RESP or COOKIE
 * array by its first two bytes), 0 otherwise. */
int rn_hs_is_handshake(const uint8_t *buf, size_t len);

/* DATA header */
void rn_hs_data_header(uint8_t hdr[RN_HS_DATA_HDR], uint32_t idx,
		       uint64_t counter);
/* 0 and the fields, or RN_ERR_TRUNC / RN_ERR_PROTO. */
int rn_hs_data_parse(const uint8_t *buf, size_t len, uint32_t *idx,
		     uint64_t *counter);

#endif
