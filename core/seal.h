/* The data-path AEAD, its key derivation and the replay window
 * (DESIGN.md section 4), in the manner of WireGuard.
 *
 * A sealed packet is  header || ciphertext || tag(16). The header is the
 * caller's fixed binary data header (type, receiver index, counter); it is
 * sent in the clear and authenticated as associated data. The cipher is
 * ChaCha20-Poly1305 (IETF), nonce = 4 zero bytes || counter (64-bit,
 * little-endian). Each key has one sending state, which hands out every
 * counter once and stops at RN_SEAL_COUNTER_MAX, and one receiving state
 * with a sliding window of RN_REPLAY_WINDOW_BITS bits (RFC 6479), which
 * accepts each counter at most once and none more than RN_REPLAY_WINDOW
 * behind the highest one authenticated.
 *
 * Sending:
 *     rn_seal_tx_peek(&tx, &ctr)       -> RN_ERR_REKEY at the limit
 *     write header(type, index, ctr)
 *     rn_seal_encrypt(&tx, ctr, hdr, hdr_len, pt, n, out, cap, &len)
 * Receiving:
 *     parse header -> ctr
 *     rn_seal_decrypt(&rx, ctr, hdr, hdr_len, ct, n, out, cap, &len)
 *   which checks the window before decrypting (cheap checks first) and
 *   marks ctr only after the tag is verified, so forged packets cannot
 *   move the window.
 *
 * rn_kdf and rn_dh are the Noise building blocks the link handshake uses to
 * make these keys. Sans-I/O: no randomness or clock here. The driver must
 * have called sodium_init() first.
 */
#ifndef RN_SEAL_H
#define RN_SEAL_H

#include <stddef.h>
#include <stdint.h>

#define RN_SEAL_KEY_LEN 32
#define RN_SEAL_TAG_LEN 16
#define RN_KDF_LEN      32 /* chaining key and each derived key */
#define RN_DH_LEN       32 /* X25519 keys and shared secret */

/* Bits in the replay ring; a power of two and a multiple of 64. */
#define RN_REPLAY_WINDOW_BITS 1024
/* How far behind the highest accepted counter a counter is still accepted
 * (one 64-bit word of the ring is the one being filled). */
#define RN_REPLAY_WINDOW (RN_REPLAY_WINDOW_BITS - 64)
/* The first counter never used: sending stops before it (the caller must
 * rekey) and receiving refuses it and every counter above. */
#define RN_SEAL_COUNTER_MAX (UINT64_MAX - RN_REPLAY_WINDOW_BITS)

typedef struct rn_replay {
	uint64_t top; /* highest accepted counter + 1; 0 when none yet */
	uint64_t ring[RN_REPLAY_WINDOW_BITS / 64];
} rn_replay;

typedef struct rn_seal_tx {
	uint8_t key[RN_SEAL_KEY_LEN];
	uint64_t next; /* the counter the next packet will carry */
} rn_seal_tx;

typedef struct rn_seal_rx {
	uint8_t key[RN_SEAL_KEY_LEN];
	rn_replay replay;
} rn_seal_rx;

/* Noise's HKDF with keyed BLAKE2b-256 as the PRF:
 *     t = BLAKE2b(key = ck, ikm); out1 = BLAKE2b(key = t, 0x01);
 *     out2 = BLAKE2b(key = t, out1 || 0x02)
 * ikm may be empty (NULL, 0). out1 or out2 may alias ck. */
void rn_kdf(uint8_t out1[RN_KDF_LEN], uint8_t out2[RN_KDF_LEN],
            const uint8_t ck[RN_KDF_LEN], const uint8_t *ikm, size_t ikm_len);
/* X25519(sk, pk); RN_ERR_BADKEY when the result is all zero (pk of small
 * order), in which case out is zeroed. */
int rn_dh(uint8_t out[RN_DH_LEN], const uint8_t sk[RN_DH_LEN],
          const uint8_t pk[RN_DH_LEN]);

/* The two keys of a SIGMA-style handshake (overlay/sec.c, tunnel/e2e.c):
 *     ck = BLAKE2b-256(label || h_i || h_r)
 *     (k1, k2) = rn_kdf(ck, X25519(e_sk, e_pk))
 * label names the protocol ("ringnet keys v1"). RN_ERR_BADKEY (keys
 * zeroed) when the peer's ephemeral is of small order. */
int rn_seal_derive(uint8_t k1[RN_SEAL_KEY_LEN], uint8_t k2[RN_SEAL_KEY_LEN],
                   const char *label, const uint8_t h_i[32],
                   const uint8_t h_r[32], const uint8_t e_sk[RN_DH_LEN],
                   const uint8_t e_pk[RN_DH_LEN]);

void rn_replay_init(rn_replay *w);
/* 0 if counter is new and inside the window, else RN_ERR_REPLAY. Changes
 * nothing. */
int rn_replay_check(const rn_replay *w, uint64_t counter);
/* Records counter as seen (moving the window forward when it is the new
 * highest); RN_ERR_REPLAY, changing nothing, when rn_replay_check would
 * refuse it. Call only for authenticated packets. */
int rn_replay_mark(rn_replay *w, uint64_t counter);

void rn_seal_tx_init(rn_seal_tx *tx, const uint8_t key[RN_SEAL_KEY_LEN]);
void rn_seal_tx_deinit(rn_seal_tx *tx); /* wipes the key */
void rn_seal_rx_init(rn_seal_rx *rx, const uint8_t key[RN_SEAL_KEY_LEN]);
void rn_seal_rx_deinit(rn_seal_rx *rx);

/* The counter the next rn_seal_encrypt must be given, for the caller's
 * header; RN_ERR_REKEY once the key is used up. */
int rn_seal_tx_peek(const rn_seal_tx *tx, uint64_t *counter);
/* Encrypts pt[0..pt_len) with counter, which must equal tx->next
 * (RN_ERR_INVAL otherwise: a counter is never used twice), authenticating
 * ad[0..ad_len) too; writes pt_len + RN_SEAL_TAG_LEN bytes to out, which
 * may be pt itself (in place) but must not overlap it otherwise. Advances
 * tx->next on success only. RN_ERR_REKEY at RN_SEAL_COUNTER_MAX,
 * RN_ERR_TOOBIG if cap is too small. */
int rn_seal_encrypt(rn_seal_tx *tx, uint64_t counter, const uint8_t *ad,
                    size_t ad_len, const uint8_t *pt, size_t pt_len,
                    uint8_t *out, size_t cap, size_t *out_len);
/* Opens ct[0..ct_len) (ciphertext || tag) sent with counter and ad.
 * Writes ct_len - RN_SEAL_TAG_LEN bytes to out (may be ct itself).
 * RN_ERR_TRUNC if shorter than a tag, RN_ERR_REPLAY (before any crypto) for
 * a replayed or too old counter, RN_ERR_TOOBIG if cap is too small,
 * RN_ERR_AUTH if the tag does not verify. Only on success is counter
 * marked in the window; on failure out holds nothing useful. */
int rn_seal_decrypt(rn_seal_rx *rx, uint64_t counter, const uint8_t *ad,
                    size_t ad_len, const uint8_t *ct, size_t ct_len,
                    uint8_t *out, size_t cap, size_t *out_len);

#endif
