/* Unit tests for core/seal.c: KDF, X25519, the AEAD and the replay window.
 *
 * Packets are built as the data path will build them: a 16-byte header
 * (type, 3 zero bytes, receiver index LE32, counter LE64) authenticated as
 * associated data, then ciphertext and tag. The KDF is checked against
 * libsodium's one-shot keyed BLAKE2b, the AEAD by flipping every bit of
 * header, ciphertext and tag, and the window against a naive model (a
 * bitmap of every counter ever accepted plus the highest one) in seeded
 * random-order loops, at the start of the counter space and just below
 * RN_SEAL_COUNTER_MAX; failures print the seed and the iteration.
 */
#include "test_util.h"

#include <sodium.h>

#include "core/err.h"
#include "core/seal.h"

#define HDR_LEN    16
#define PKT_MAX    (HDR_LEN + 64 + RN_SEAL_TAG_LEN)
#define MODEL_SPAN (1u << 20) /* counters the naive model can hold */

/* ---- packets ------------------------------------------------------------ */

static void make_hdr(uint8_t h[HDR_LEN], uint32_t index, uint64_t ctr)
{
	h[0] = 4;
	h[1] = h[2] = h[3] = 0;
	for (int i = 0; i < 4; i++)
		h[4 + i] = (uint8_t)(index >> (8 * i));
	for (int i = 0; i < 8; i++)
		h[8 + i] = (uint8_t)(ctr >> (8 * i));
}

static uint64_t hdr_counter(const uint8_t h[HDR_LEN])
{
	uint64_t c = 0;
	for (int i = 7; i >= 0; i--)
		c = c << 8 | h[8 + i];
	return c;
}

/* Seals pt into pkt as header || ciphertext || tag. */
static int send_pkt(rn_seal_tx *tx, const uint8_t *pt, size_t n, uint8_t *pkt,
                    size_t cap, size_t *len)
{
	uint64_t ctr;
	size_t clen;
	int rc = rn_seal_tx_peek(tx, &ctr);
	if (rc)
		return rc;
	if (cap < HDR_LEN)
		return RN_ERR_TOOBIG;
	make_hdr(pkt, 0x01020304u, ctr);
	rc = rn_seal_encrypt(tx, ctr, pkt, HDR_LEN, pt, n, pkt + HDR_LEN,
	                     cap - HDR_LEN, &clen);
	if (!rc)
		*len = HDR_LEN + clen;
	return rc;
}

static int recv_pkt(rn_seal_rx *rx, const uint8_t *pkt, size_t len,
                    uint8_t *out, size_t cap, size_t *out_len)
{
	if (len < HDR_LEN)
		return RN_ERR_TRUNC;
	return rn_seal_decrypt(rx, hdr_counter(pkt), pkt, HDR_LEN,
	                       pkt + HDR_LEN, len - HDR_LEN, out, cap, out_len);
}

static void key_pair(rn_seal_tx *tx, rn_seal_rx *rx, uint8_t fill)
{
	uint8_t key[RN_SEAL_KEY_LEN];
	memset(key, fill, sizeof key);
	rn_seal_tx_init(tx, key);
	rn_seal_rx_init(rx, key);
}

/* ---- KDF and DH --------------------------------------------------------- */

static void test_kdf(void **state)
{
	(void)state;
	uint8_t ck[32], ikm[40], o1[32], o2[32], t[32], w1[32], w2[32], m[33];
	for (int i = 0; i < 32; i++)
		ck[i] = (uint8_t)i;
	for (int i = 0; i < 40; i++)
		ikm[i] = (uint8_t)(0xa0 + i);

	/* the reference: HKDF as in Noise, keyed BLAKE2b as the PRF */
	for (size_t n = 0; n <= sizeof ikm; n += 40) {
		crypto_generichash(t, 32, n ? ikm : NULL, n, ck, 32);
		m[0] = 1;
		crypto_generichash(w1, 32, m, 1, t, 32);
		memcpy(m, w1, 32);
		m[32] = 2;
		crypto_generichash(w2, 32, m, 33, t, 32);
		rn_kdf(o1, o2, ck, n ? ikm : NULL, n);
		assert_memory_equal(o1, w1, 32);
		assert_memory_equal(o2, w2, 32);
		assert_memory_not_equal(o1, o2, 32);
		/* out1 or out2 may be the chaining key itself */
		uint8_t ck2[32];
		memcpy(ck2, ck, 32);
		rn_kdf(ck2, o2, ck2, n ? ikm : NULL, n);
		assert_memory_equal(ck2, w1, 32);
		assert_memory_equal(o2, w2, 32);
		memcpy(ck2, ck, 32);
		rn_kdf(o1, ck2, ck2, n ? ikm : NULL, n);
		assert_memory_equal(o1, w1, 32);
		assert_memory_equal(ck2, w2, 32);
	}
	/* every input bit matters */
	rn_kdf(w1, w2, ck, ikm, sizeof ikm);
	ikm[39] ^= 0x80;
	rn_kdf(o1, o2, ck, ikm, sizeof ikm);
	assert_memory_not_equal(o1, w1, 32);
	assert_memory_not_equal(o2, w2, 32);
	ikm[39] ^= 0x80;
	ck[0] ^= 1;
	rn_kdf(o1, o2, ck, ikm, sizeof ikm);
	assert_memory_not_equal(o1, w1, 32);
}

static void test_dh(void **state)
{
	(void)state;
	uint8_t a_sk[32], b_sk[32], a_pk[32], b_pk[32], s1[32], s2[32];
	memset(a_sk, 0x31, sizeof a_sk);
	memset(b_sk, 0x32, sizeof b_sk);
	assert_int_equal(crypto_scalarmult_base(a_pk, a_sk), 0);
	assert_int_equal(crypto_scalarmult_base(b_pk, b_sk), 0);
	assert_int_equal(rn_dh(s1, a_sk, b_pk), 0);
	assert_int_equal(rn_dh(s2, b_sk, a_pk), 0);
	assert_memory_equal(s1, s2, 32);

	/* small-order points give an all-zero secret: refused, out zeroed */
	static const uint8_t small[][32] = {
	    {0},
	    {1},
	    {0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3,
	     0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32,
	     0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00},
	};
	for (size_t i = 0; i < sizeof small / sizeof small[0]; i++) {
		memset(s1, 0x77, sizeof s1);
		assert_int_equal(rn_dh(s1, a_sk, small[i]), RN_ERR_BADKEY);
		assert_true(sodium_is_zero(s1, sizeof s1));
	}
}

/* ---- the AEAD ----------------------------------------------------------- */

static void test_round_trip(void **state)
{
	(void)state;
	rn_seal_tx tx;
	rn_seal_rx rx;
	uint8_t pt[1400], pkt[HDR_LEN + 1400 + RN_SEAL_TAG_LEN], out[1400];
	size_t len, out_len;
	key_pair(&tx, &rx, 0x5a);
	for (size_t i = 0; i < sizeof pt; i++)
		pt[i] = (uint8_t)(i * 7 + 1);

	const size_t sizes[] = {0, 1, 15, 16, 17, 100, 1400};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		size_t n = sizes[i];
		assert_int_equal(send_pkt(&tx, pt, n, pkt, sizeof pkt, &len),
		                 0);
		assert_int_equal(len, HDR_LEN + n + RN_SEAL_TAG_LEN);
		assert_int_equal(hdr_counter(pkt), i);
		assert_int_equal(tx.next, i + 1);
		if (n >= 16) /* it is encrypted */
			assert_memory_not_equal(pkt + HDR_LEN, pt, n);
		memset(out, 0, sizeof out);
		assert_int_equal(recv_pkt(&rx, pkt, len, out, n, &out_len), 0);
		assert_int_equal(out_len, n);
		if (n)
			assert_memory_equal(out, pt, n);
	}

	/* in place, both ways */
	uint64_t ctr;
	size_t clen;
	assert_int_equal(rn_seal_tx_peek(&tx, &ctr), 0);
	make_hdr(pkt, 9, ctr);
	memcpy(pkt + HDR_LEN, pt, 300);
	assert_int_equal(rn_seal_encrypt(&tx, ctr, pkt, HDR_LEN, pkt + HDR_LEN,
	                                 300, pkt + HDR_LEN, 300 + 16, &clen),
	                 0);
	assert_int_equal(clen, 316);
	assert_int_equal(rn_seal_decrypt(&rx, ctr, pkt, HDR_LEN, pkt + HDR_LEN,
	                                 clen, pkt + HDR_LEN, clen, &out_len),
	                 0);
	assert_int_equal(out_len, 300);
	assert_memory_equal(pkt + HDR_LEN, pt, 300);

	/* another key cannot open it */
	rn_seal_tx tx2;
	rn_seal_rx rx2;
	key_pair(&tx2, &rx2, 0x5b);
	assert_int_equal(send_pkt(&tx, pt, 50, pkt, sizeof pkt, &len), 0);
	assert_int_equal(recv_pkt(&rx2, pkt, len, out, sizeof out, &out_len),
	                 RN_ERR_AUTH);
	assert_int_equal(rx2.replay.top, 0); /* a forgery moves nothing */
	assert_int_equal(recv_pkt(&rx, pkt, len, out, sizeof out, &out_len), 0);

	/* deinit wipes the keys */
	rn_seal_tx_deinit(&tx);
	rn_seal_rx_deinit(&rx);
	assert_true(sodium_is_zero(tx.key, sizeof tx.key));
	assert_true(sodium_is_zero(rx.key, sizeof rx.key));
}

/* The wire layout of the nonce, against libsodium directly. */
static void test_nonce_layout(void **state)
{
	(void)state;
	rn_seal_tx tx;
	uint8_t key[32], hdr[HDR_LEN], pt[20] = "nonce layout test";
	uint8_t got[sizeof pt + RN_SEAL_TAG_LEN], want[sizeof got];
	unsigned long long want_len;
	size_t len;
	const uint64_t ctr = 0x0102030405060708ull;
	static const uint8_t nonce[12] = {0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1};
	memset(key, 0x66, sizeof key);
	rn_seal_tx_init(&tx, key);
	tx.next = ctr;
	make_hdr(hdr, 77, ctr);
	assert_int_equal(rn_seal_encrypt(&tx, ctr, hdr, HDR_LEN, pt, sizeof pt,
	                                 got, sizeof got, &len),
	                 0);
	crypto_aead_chacha20poly1305_ietf_encrypt(
	    want, &want_len, pt, sizeof pt, hdr, HDR_LEN, NULL, nonce, key);
	assert_int_equal(len, want_len);
	assert_memory_equal(got, want, len);
}

static void test_bit_flips(void **state)
{
	(void)state;
	rn_seal_tx tx;
	rn_seal_rx rx;
	uint8_t pt[48], pkt[PKT_MAX], out[64];
	size_t len, out_len;
	key_pair(&tx, &rx, 0x11);
	for (size_t i = 0; i < sizeof pt; i++)
		pt[i] = (uint8_t)i;
	/* a few packets first, so the counter is not zero */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(send_pkt(&tx, pt, 8, pkt, sizeof pkt, &len),
		                 0);
		assert_int_equal(
		    recv_pkt(&rx, pkt, len, out, sizeof out, &out_len), 0);
	}
	assert_int_equal(send_pkt(&tx, pt, sizeof pt, pkt, sizeof pkt, &len),
	                 0);
	rn_replay before = rx.replay;
	for (size_t bit = 0; bit < 8 * len; bit++) {
		pkt[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		int rc = recv_pkt(&rx, pkt, len, out, sizeof out, &out_len);
		/* a flipped counter may land on a seen one: refused unopened */
		int in_ctr = bit / 8 >= 8 && bit / 8 < HDR_LEN;
		if (rc != RN_ERR_AUTH && !(in_ctr && rc == RN_ERR_REPLAY))
			fail_msg("bit %zu of %zu: got %d", bit, 8 * len, rc);
		assert_memory_equal(&rx.replay, &before, sizeof before);
		pkt[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	/* every prefix too */
	for (size_t n = 0; n < len; n++) {
		int rc = recv_pkt(&rx, pkt, n, out, sizeof out, &out_len);
		assert_true(rc == RN_ERR_TRUNC || rc == RN_ERR_AUTH);
	}
	/* the genuine packet still opens, once */
	assert_int_equal(recv_pkt(&rx, pkt, len, out, sizeof out, &out_len), 0);
	assert_memory_equal(out, pt, sizeof pt);
	assert_int_equal(recv_pkt(&rx, pkt, len, out, sizeof out, &out_len),
	                 RN_ERR_REPLAY);
}

static void test_errors(void **state)
{
	(void)state;
	rn_seal_tx tx;
	rn_seal_rx rx;
	uint8_t pt[32] = {1, 2, 3}, pkt[PKT_MAX], out[64], hdr[HDR_LEN];
	size_t len, out_len;
	uint64_t ctr;
	key_pair(&tx, &rx, 0x22);

	/* the counter must be the one peeked: never reused, never skipped */
	make_hdr(hdr, 1, 0);
	assert_int_equal(
	    rn_seal_encrypt(&tx, 1, hdr, HDR_LEN, pt, 8, pkt, sizeof pkt, &len),
	    RN_ERR_INVAL);
	assert_int_equal(
	    rn_seal_encrypt(&tx, 0, hdr, HDR_LEN, pt, 8, pkt, sizeof pkt, &len),
	    0);
	assert_int_equal(
	    rn_seal_encrypt(&tx, 0, hdr, HDR_LEN, pt, 8, pkt, sizeof pkt, &len),
	    RN_ERR_INVAL);
	/* too small an output: TOOBIG, and the counter is not spent */
	assert_int_equal(rn_seal_tx_peek(&tx, &ctr), 0);
	assert_int_equal(ctr, 1);
	for (size_t cap = 0; cap < 8 + RN_SEAL_TAG_LEN; cap++)
		assert_int_equal(rn_seal_encrypt(&tx, 1, hdr, HDR_LEN, pt, 8,
		                                 pkt, cap, &len),
		                 RN_ERR_TOOBIG);
	assert_int_equal(tx.next, 1);

	/* receiving: short input, small output; neither moves the window */
	assert_int_equal(send_pkt(&tx, pt, 8, pkt, sizeof pkt, &len), 0);
	for (size_t n = 0; n < RN_SEAL_TAG_LEN; n++)
		assert_int_equal(rn_seal_decrypt(&rx, 1, pkt, HDR_LEN,
		                                 pkt + HDR_LEN, n, out,
		                                 sizeof out, &out_len),
		                 RN_ERR_TRUNC);
	assert_int_equal(recv_pkt(&rx, pkt, len, out, 7, &out_len),
	                 RN_ERR_TOOBIG);
	assert_int_equal(rx.replay.top, 0);
	/* the counter is authenticated: the same bytes under another one
	 * do not open */
	assert_int_equal(rn_seal_decrypt(&rx, 2, pkt, HDR_LEN, pkt + HDR_LEN,
	                                 len - HDR_LEN, out, sizeof out,
	                                 &out_len),
	                 RN_ERR_AUTH);
	assert_int_equal(recv_pkt(&rx, pkt, len, out, 8, &out_len), 0);
	assert_int_equal(out_len, 8);

	/* an empty header is allowed (NULL, 0) */
	rn_seal_tx t2;
	rn_seal_rx r2;
	key_pair(&t2, &r2, 0x23);
	assert_int_equal(
	    rn_seal_encrypt(&t2, 0, NULL, 0, pt, 4, pkt, sizeof pkt, &len), 0);
	assert_int_equal(rn_seal_decrypt(&r2, 0, NULL, 0, pkt, len, out,
	                                 sizeof out, &out_len),
	                 0);
	assert_memory_equal(out, pt, 4);

	static const int codes[] = {RN_ERR_AUTH, RN_ERR_REPLAY, RN_ERR_REKEY};
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
		assert_string_not_equal(rn_strerror(codes[i]), "unknown error");
}

static void test_counter_limit(void **state)
{
	(void)state;
	rn_seal_tx tx;
	rn_seal_rx rx;
	uint8_t pt[8] = {7}, pkt[3][PKT_MAX], out[16];
	size_t len[3], out_len;
	uint64_t ctr;
	key_pair(&tx, &rx, 0x33);

	assert_true(RN_SEAL_COUNTER_MAX <
	            UINT64_MAX - RN_REPLAY_WINDOW_BITS + 1);
	tx.next = RN_SEAL_COUNTER_MAX - 2;
	assert_int_equal(send_pkt(&tx, pt, 8, pkt[0], PKT_MAX, &len[0]), 0);
	assert_int_equal(send_pkt(&tx, pt, 8, pkt[1], PKT_MAX, &len[1]), 0);
	assert_int_equal(hdr_counter(pkt[1]), RN_SEAL_COUNTER_MAX - 1);
	/* the key is used up */
	assert_int_equal(rn_seal_tx_peek(&tx, &ctr), RN_ERR_REKEY);
	assert_int_equal(send_pkt(&tx, pt, 8, pkt[2], PKT_MAX, &len[2]),
	                 RN_ERR_REKEY);
	assert_int_equal(rn_seal_encrypt(&tx, RN_SEAL_COUNTER_MAX, pkt[2],
	                                 HDR_LEN, pt, 8, pkt[2] + HDR_LEN,
	                                 PKT_MAX - HDR_LEN, &len[2]),
	                 RN_ERR_REKEY);
	assert_int_equal(tx.next, RN_SEAL_COUNTER_MAX);

	/* the receiver takes the last two, in either order, once */
	assert_int_equal(recv_pkt(&rx, pkt[1], len[1], out, 16, &out_len), 0);
	assert_int_equal(recv_pkt(&rx, pkt[0], len[0], out, 16, &out_len), 0);
	assert_int_equal(recv_pkt(&rx, pkt[1], len[1], out, 16, &out_len),
	                 RN_ERR_REPLAY);
	/* and refuses the limit and above before any crypto */
	const uint64_t over[] = {RN_SEAL_COUNTER_MAX, RN_SEAL_COUNTER_MAX + 1,
	                         UINT64_MAX - 1, UINT64_MAX};
	rn_seal_rx fresh;
	uint8_t key[32];
	memset(key, 0x33, sizeof key);
	rn_seal_rx_init(&fresh, key);
	for (size_t i = 0; i < sizeof over / sizeof over[0]; i++) {
		assert_int_equal(rn_replay_check(&fresh.replay, over[i]),
		                 RN_ERR_REPLAY);
		assert_int_equal(rn_replay_mark(&fresh.replay, over[i]),
		                 RN_ERR_REPLAY);
		assert_int_equal(rn_seal_decrypt(&fresh, over[i], pkt[0],
		                                 HDR_LEN, pkt[0] + HDR_LEN,
		                                 len[0] - HDR_LEN, out, 16,
		                                 &out_len),
		                 RN_ERR_REPLAY);
	}
	assert_int_equal(fresh.replay.top, 0);
}

/* ---- the replay window: fixed cases ------------------------------------- */

static void test_replay_basics(void **state)
{
	(void)state;
	rn_replay w;
	rn_replay_init(&w);
	assert_int_equal(RN_REPLAY_WINDOW_BITS, 1024);

	/* duplicates */
	assert_int_equal(rn_replay_check(&w, 0), 0);
	assert_int_equal(rn_replay_mark(&w, 0), 0);
	assert_int_equal(rn_replay_check(&w, 0), RN_ERR_REPLAY);
	assert_int_equal(rn_replay_mark(&w, 0), RN_ERR_REPLAY);

	/* out of order inside the window: each accepted once */
	rn_replay_init(&w);
	for (uint64_t c = 900; c-- > 0;)
		assert_int_equal(rn_replay_mark(&w, c), 0);
	for (uint64_t c = 0; c < 900; c++)
		assert_int_equal(rn_replay_mark(&w, c), RN_ERR_REPLAY);
	for (uint64_t c = 1000; c >= 900; c--)
		assert_int_equal(rn_replay_mark(&w, c), 0);

	/* the edge of the window: highest - RN_REPLAY_WINDOW is the oldest */
	rn_replay_init(&w);
	const uint64_t hi = 5000;
	assert_int_equal(rn_replay_mark(&w, hi), 0);
	assert_int_equal(rn_replay_check(&w, hi - RN_REPLAY_WINDOW - 1),
	                 RN_ERR_REPLAY);
	assert_int_equal(rn_replay_check(&w, 0), RN_ERR_REPLAY);
	assert_int_equal(rn_replay_mark(&w, hi - RN_REPLAY_WINDOW), 0);
	assert_int_equal(rn_replay_mark(&w, hi - RN_REPLAY_WINDOW),
	                 RN_ERR_REPLAY);
	for (uint64_t c = hi - RN_REPLAY_WINDOW + 1; c < hi; c++)
		assert_int_equal(rn_replay_check(&w, c), 0);
	assert_int_equal(rn_replay_check(&w, hi + 1), 0);

	/* a jump further than the ring forgets everything behind */
	rn_replay_init(&w);
	for (uint64_t c = 0; c < 2048; c++)
		assert_int_equal(rn_replay_mark(&w, c), 0);
	assert_int_equal(rn_replay_mark(&w, 1000000), 0);
	for (uint64_t c = 1000000 - RN_REPLAY_WINDOW; c < 1000000; c++)
		assert_int_equal(rn_replay_check(&w, c), 0);
	assert_int_equal(rn_replay_check(&w, 1000000 - RN_REPLAY_WINDOW - 1),
	                 RN_ERR_REPLAY);
	assert_int_equal(rn_replay_check(&w, 2047), RN_ERR_REPLAY);

	/* jumps of exactly one ring and one word keep no stale bits */
	for (uint64_t step = 64; step <= 2048; step *= 2) {
		rn_replay_init(&w);
		for (uint64_t c = 0; c < 1024; c++)
			assert_int_equal(rn_replay_mark(&w, c), 0);
		uint64_t top = 1023 + step;
		assert_int_equal(rn_replay_mark(&w, top), 0);
		for (uint64_t c =
		         top > RN_REPLAY_WINDOW ? top - RN_REPLAY_WINDOW : 0;
		     c < top; c++)
			assert_int_equal(rn_replay_check(&w, c),
			                 c < 1024 ? RN_ERR_REPLAY : 0);
	}
}

/* ---- the replay window against a naive model ---------------------------- */

typedef struct model {
	uint64_t base; /* counter of offset 0 */
	uint8_t *seen; /* one byte per offset, MODEL_SPAN of them */
	int any;
	uint64_t highest;
} model;

static int model_accepts(const model *m, uint64_t off)
{
	uint64_t c = m->base + off;
	if (c >= RN_SEAL_COUNTER_MAX || m->seen[off])
		return 0;
	return !m->any || c + RN_REPLAY_WINDOW >= m->highest;
}

static void model_mark(model *m, uint64_t off)
{
	uint64_t c = m->base + off;
	m->seen[off] = 1;
	if (!m->any || c > m->highest)
		m->highest = c;
	m->any = 1;
}

/* The next offset to offer: mostly near the front, with the window's edges,
 * repeats, forward jumps (some of whole words) and stray old ones. */
static uint64_t next_offset(trng *r, const model *m, uint64_t front)
{
	uint64_t hi = m->any ? m->highest - m->base : 0, off;
	switch (trng_below(r, 10)) {
	case 0:
		off = hi + (uint64_t)trng_below(r, 3000);
		break;
	case 1:
		off = hi + 64 * (1 + trng_below(r, 20)) - 1 + trng_below(r, 3);
		break;
	case 2:
		off = hi - RN_REPLAY_WINDOW - 1 + trng_below(r, 3);
		break;
	case 3:
		off = trng_below(r, MODEL_SPAN);
		break;
	case 4:
		off = front;
		break;
	default:
		off = hi + 100 - trng_below(r, RN_REPLAY_WINDOW + 300);
		break;
	}
	if (off >= MODEL_SPAN) /* also catches "negative" wrap-arounds */
		off = trng_below(r, MODEL_SPAN);
	return off;
}

static void replay_property(uint64_t base, uint64_t iters)
{
	uint64_t seed = rn_test_seed() ^ base;
	trng r;
	model m = {base, calloc(MODEL_SPAN, 1), 0, 0};
	rn_replay w;
	uint64_t last = 0;
	assert_non_null(m.seen);
	trng_init(&r, seed);
	rn_replay_init(&w);
	for (uint64_t it = 0; it < iters; it++) {
		uint64_t off = next_offset(&r, &m, last);
		int want = model_accepts(&m, off);
		int rc = rn_replay_check(&w, base + off);
		PCHECK(rc == (want ? 0 : RN_ERR_REPLAY), seed, it);
		/* one in five fails authentication: never marked */
		if (trng_below(&r, 5) == 0)
			continue;
		rn_replay before = w;
		rc = rn_replay_mark(&w, base + off);
		PCHECK(rc == (want ? 0 : RN_ERR_REPLAY), seed, it);
		if (want) {
			model_mark(&m, off);
			last = off;
		} else {
			PCHECK(!memcmp(&w, &before, sizeof w), seed, it);
		}
	}
	free(m.seen);
}

static void test_replay_property(void **state)
{
	(void)state;
	replay_property(0, 300000);
	/* the top of the counter space: some offsets are past the limit */
	replay_property(RN_SEAL_COUNTER_MAX - MODEL_SPAN + 512, 300000);
	/* somewhere in the middle, off any word boundary */
	replay_property(0x123456789abcdefull, 100000);
}

/* Real packets, delivered in a seeded random order with duplicates and
 * forgeries, against the same model. */
static void test_seal_property(void **state)
{
	(void)state;
	enum { N = 6000, STEPS = 30000, PT = 8 };
	uint64_t seed = rn_test_seed();
	trng r;
	rn_seal_tx tx;
	rn_seal_rx rx;
	uint8_t(*pkts)[HDR_LEN + PT + RN_SEAL_TAG_LEN] =
	    malloc(N * sizeof *pkts);
	model m = {0, calloc(MODEL_SPAN, 1), 0, 0};
	assert_non_null(pkts);
	assert_non_null(m.seen);
	trng_init(&r, seed);
	key_pair(&tx, &rx, 0x44);
	for (uint64_t i = 0; i < N; i++) {
		uint8_t pt[PT];
		size_t len;
		for (int b = 0; b < PT; b++)
			pt[b] = (uint8_t)(i >> (8 * b));
		assert_int_equal(
		    send_pkt(&tx, pt, PT, pkts[i], sizeof pkts[i], &len), 0);
		assert_int_equal(len, sizeof pkts[i]);
	}
	uint64_t front = 0;
	unsigned accepted = 0;
	for (uint64_t it = 0; it < STEPS; it++) {
		/* the front moves forward; deliveries scatter around it */
		front += trng_below(&r, 3);
		if (front >= N)
			front = N - 1;
		uint64_t i, pick = trng_below(&r, 8);
		if (pick == 0) /* a stray, usually too old */
			i = trng_below(&r, front + 1);
		else if (pick == 1) /* overtakes a few */
			i = front + trng_below(&r, 50);
		else if (pick < 5)
			i = front; /* in order */
		else
			i = front -
			    trng_below(&r, front < 1200 ? front + 1 : 1200);
		if (i >= N)
			i = N - 1;
		uint8_t pkt[sizeof pkts[0]], out[PT];
		size_t out_len;
		memcpy(pkt, pkts[i], sizeof pkt);
		int forged = trng_below(&r, 6) == 0;
		if (forged) /* a flipped bit after the header */
			pkt[HDR_LEN + trng_below(&r, PT + RN_SEAL_TAG_LEN)] ^=
			    (uint8_t)(1u << trng_below(&r, 8));
		int ok = model_accepts(&m, i);
		int rc =
		    recv_pkt(&rx, pkt, sizeof pkt, out, sizeof out, &out_len);
		int want = !ok ? RN_ERR_REPLAY : forged ? RN_ERR_AUTH : 0;
		PCHECK(rc == want, seed, it);
		if (rc == 0) {
			accepted++;
			model_mark(&m, i);
			uint64_t got = 0;
			for (int b = PT - 1; b >= 0; b--)
				got = got << 8 | out[b];
			PCHECK(out_len == PT && got == i, seed, it);
		}
	}
	free(m.seen);
	free(pkts);
	if (accepted < N / 2)
		fail_msg("only %u of %d accepted [RN_TEST_SEED=%llu]", accepted,
		         N, (unsigned long long)seed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kdf),
	    cmocka_unit_test(test_dh),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_nonce_layout),
	    cmocka_unit_test(test_bit_flips),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_counter_limit),
	    cmocka_unit_test(test_replay_basics),
	    cmocka_unit_test(test_replay_property),
	    cmocka_unit_test(test_seal_property),
	};
	if (sodium_init() < 0)
		return 1;
	printf("# RN_TEST_SEED=%llu\n", (unsigned long long)rn_test_seed());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
