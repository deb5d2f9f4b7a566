/* Key derivation, X25519, the data-path AEAD and the replay window
 * (see seal.h).
 *
 * The replay window is RFC 6479's ring of bit words, as WireGuard's counter
 * validation uses it. Counters are shifted by one (v = counter + 1) so that
 * top == 0 can mean "nothing accepted yet". The ring holds the 16 words of
 * 64 bits that end with the word of top:
 *
 *   word:   top/64 - 15  ...  top/64 - 1   top/64
 *           [ 64 bits ] ... [ 64 bits ] [ bits up to top ]
 *           `---------- slots (word mod 16) of ring[] ----------'
 *
 * Invariants: every slot holds the bits of the one word it is named for
 * above (moving top forward clears the slots of the words it enters), and a
 * bit is set iff that counter was authenticated. A counter v is accepted
 * when v > top (new), or when v + RN_REPLAY_WINDOW >= top and its bit is
 * clear; RN_REPLAY_WINDOW = 15 words, so every such v lies in the ring.
 *
 * Nothing here allocates or keeps hidden state; keys live in the caller's
 * structs and _deinit wipes them.
 */
#include "seal.h"

#include <sodium.h>
#include <string.h>

#include "err.h"

#define WORDS (RN_REPLAY_WINDOW_BITS / 64)

_Static_assert(RN_REPLAY_WINDOW_BITS % 64 == 0 && (WORDS & (WORDS - 1)) == 0,
               "the replay ring is a power of two of 64-bit words");
_Static_assert(RN_SEAL_KEY_LEN == crypto_aead_chacha20poly1305_ietf_KEYBYTES,
               "key size");
_Static_assert(RN_SEAL_TAG_LEN == crypto_aead_chacha20poly1305_ietf_ABYTES,
               "tag size");
_Static_assert(crypto_aead_chacha20poly1305_ietf_NPUBBYTES == 12,
               "nonce = 4 zero bytes || 64-bit counter");
_Static_assert(RN_DH_LEN == crypto_scalarmult_BYTES &&
                   RN_DH_LEN == crypto_scalarmult_SCALARBYTES,
               "X25519 sizes");
_Static_assert(RN_KDF_LEN >= crypto_generichash_KEYBYTES_MIN &&
                   RN_KDF_LEN <= crypto_generichash_KEYBYTES_MAX,
               "a chaining key is a BLAKE2b key");

void rn_kdf(uint8_t out1[RN_KDF_LEN], uint8_t out2[RN_KDF_LEN],
            const uint8_t ck[RN_KDF_LEN], const uint8_t *ikm, size_t ikm_len)
{
	uint8_t t[RN_KDF_LEN], o1[RN_KDF_LEN + 1], o2[RN_KDF_LEN];
	static const uint8_t one = 1;

	crypto_generichash(t, sizeof t, ikm_len ? ikm : NULL, ikm_len, ck,
	                   RN_KDF_LEN);
	crypto_generichash(o1, RN_KDF_LEN, &one, 1, t, sizeof t);
	o1[RN_KDF_LEN] = 2;
	crypto_generichash(o2, sizeof o2, o1, sizeof o1, t, sizeof t);
	memcpy(out1, o1, RN_KDF_LEN);
	memcpy(out2, o2, RN_KDF_LEN);
	sodium_memzero(t, sizeof t);
	sodium_memzero(o1, sizeof o1);
	sodium_memzero(o2, sizeof o2);
}

int rn_dh(uint8_t out[RN_DH_LEN], const uint8_t sk[RN_DH_LEN],
          const uint8_t pk[RN_DH_LEN])
{
	/* libsodium already fails on an all-zero result; the second test
	 * keeps the rule visible and independent of the library version. */
	if (crypto_scalarmult(out, sk, pk) != 0 ||
	    sodium_is_zero(out, RN_DH_LEN)) {
		sodium_memzero(out, RN_DH_LEN);
		return RN_ERR_BADKEY;
	}
	return 0;
}

/* ---- replay window ----------------------------------------------------- */

void rn_replay_init(rn_replay *w)
{
	memset(w, 0, sizeof *w);
}

int rn_replay_check(const rn_replay *w, uint64_t counter)
{
	if (counter >= RN_SEAL_COUNTER_MAX)
		return RN_ERR_REPLAY;
	uint64_t v = counter + 1;
	if (v > w->top)
		return 0;
	if (v + RN_REPLAY_WINDOW < w->top)
		return RN_ERR_REPLAY;
	uint64_t word = w->ring[(v >> 6) & (WORDS - 1)];
	return (word >> (v & 63)) & 1 ? RN_ERR_REPLAY : 0;
}

int rn_replay_mark(rn_replay *w, uint64_t counter)
{
	int rc = rn_replay_check(w, counter);
	if (rc)
		return rc;
	uint64_t v = counter + 1;
	if (v > w->top) {
		uint64_t cur = w->top >> 6, steps = (v >> 6) - cur;
		if (steps > WORDS)
			steps = WORDS;
		for (uint64_t i = 1; i <= steps; i++)
			w->ring[(cur + i) & (WORDS - 1)] = 0;
		w->top = v;
	}
	w->ring[(v >> 6) & (WORDS - 1)] |= (uint64_t)1 << (v & 63);
	return 0;
}

/* ---- sealing ----------------------------------------------------------- */

static void make_nonce(uint8_t n[12], uint64_t counter)
{
	memset(n, 0, 4);
	for (int i = 0; i < 8; i++)
		n[4 + i] = (uint8_t)(counter >> (8 * i));
}

void rn_seal_tx_init(rn_seal_tx *tx, const uint8_t key[RN_SEAL_KEY_LEN])
{
	memcpy(tx->key, key, RN_SEAL_KEY_LEN);
	tx->next = 0;
}

void rn_seal_tx_deinit(rn_seal_tx *tx)
{
	sodium_memzero(tx, sizeof *tx);
}

void rn_seal_rx_init(rn_seal_rx *rx, const uint8_t key[RN_SEAL_KEY_LEN])
{
	memcpy(rx->key, key, RN_SEAL_KEY_LEN);
	rn_replay_init(&rx->replay);
}

void rn_seal_rx_deinit(rn_seal_rx *rx)
{
	sodium_memzero(rx, sizeof *rx);
}

int rn_seal_tx_peek(const rn_seal_tx *tx, uint64_t *counter)
{
	if (tx->next >= RN_SEAL_COUNTER_MAX)
		return RN_ERR_REKEY;
	*counter = tx->next;
	return 0;
}

int rn_seal_encrypt(rn_seal_tx *tx, uint64_t counter, const uint8_t *ad,
                    size_t ad_len, const uint8_t *pt, size_t pt_len,
                    uint8_t *out, size_t cap, size_t *out_len)
{
	uint8_t nonce[12];
	unsigned long long clen;

	if (tx->next >= RN_SEAL_COUNTER_MAX)
		return RN_ERR_REKEY;
	if (counter != tx->next)
		return RN_ERR_INVAL;
	if (pt_len > crypto_aead_chacha20poly1305_ietf_MESSAGEBYTES_MAX ||
	    cap < RN_SEAL_TAG_LEN || cap - RN_SEAL_TAG_LEN < pt_len)
		return RN_ERR_TOOBIG;
	make_nonce(nonce, counter);
	if (crypto_aead_chacha20poly1305_ietf_encrypt(
	        out, &clen, pt, pt_len, ad_len ? ad : NULL, ad_len, NULL, nonce,
	        tx->key) != 0)
		return RN_ERR_INVAL;
	tx->next++;
	*out_len = (size_t)clen;
	return 0;
}

int rn_seal_decrypt(rn_seal_rx *rx, uint64_t counter, const uint8_t *ad,
                    size_t ad_len, const uint8_t *ct, size_t ct_len,
                    uint8_t *out, size_t cap, size_t *out_len)
{
	uint8_t nonce[12];
	unsigned long long mlen;

	/* cheap checks first: length, then the window, then the crypto */
	if (ct_len < RN_SEAL_TAG_LEN)
		return RN_ERR_TRUNC;
	if (rn_replay_check(&rx->replay, counter))
		return RN_ERR_REPLAY;
	if (cap < ct_len - RN_SEAL_TAG_LEN)
		return RN_ERR_TOOBIG;
	make_nonce(nonce, counter);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(
	        out, &mlen, NULL, ct, ct_len, ad_len ? ad : NULL, ad_len, nonce,
	        rx->key) != 0)
		return RN_ERR_AUTH;
	/* authenticated: only now may the window move */
	if (rn_replay_mark(&rx->replay, counter))
		return RN_ERR_REPLAY; /* unreachable after the check above */
	*out_len = (size_t)mlen;
	return 0;
}

int rn_seal_derive(uint8_t k1[RN_SEAL_KEY_LEN], uint8_t k2[RN_SEAL_KEY_LEN],
                   const char *label, const uint8_t h_i[32],
                   const uint8_t h_r[32], const uint8_t e_sk[RN_DH_LEN],
                   const uint8_t e_pk[RN_DH_LEN])
{
	uint8_t ck[32], dh[RN_DH_LEN];
	crypto_generichash_state h;
	crypto_generichash_init(&h, NULL, 0, 32);
	crypto_generichash_update(&h, (const uint8_t *)label, strlen(label));
	crypto_generichash_update(&h, h_i, 32);
	crypto_generichash_update(&h, h_r, 32);
	crypto_generichash_final(&h, ck, 32);
	int rc = rn_dh(dh, e_sk, e_pk);
	if (rc == 0)
		rn_kdf(k1, k2, ck, dh, sizeof dh);
	else {
		sodium_memzero(k1, RN_SEAL_KEY_LEN);
		sodium_memzero(k2, RN_SEAL_KEY_LEN);
	}
	sodium_memzero(dh, sizeof dh);
	sodium_memzero(ck, sizeof ck);
	return rc;
}
