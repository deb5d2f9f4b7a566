/* 160-bit ring id arithmetic, text forms and hashing (see id.h).
 *
 * Ids stay big-endian byte arrays so that memcmp is the ring order from 0;
 * arithmetic runs byte by byte from the least significant end. Nothing here
 * allocates or keeps state.
 */
#include "id.h"

#include <math.h>
#include <sodium.h>
#include <string.h>

#include "err.h"

int rn_id_is_zero(const rn_id *a)
{
	uint8_t acc = 0;
	for (int i = 0; i < RN_ID_LEN; i++)
		acc |= a->b[i];
	return acc == 0;
}

void rn_id_add(rn_id *r, const rn_id *a, const rn_id *b)
{
	unsigned carry = 0;
	for (int i = RN_ID_LEN - 1; i >= 0; i--) {
		unsigned s = (unsigned)a->b[i] + b->b[i] + carry;
		r->b[i] = (uint8_t)s;
		carry = s >> 8;
	}
}

void rn_id_sub(rn_id *r, const rn_id *a, const rn_id *b)
{
	int borrow = 0;
	for (int i = RN_ID_LEN - 1; i >= 0; i--) {
		int d = (int)a->b[i] - (int)b->b[i] - borrow;
		borrow = d < 0;
		r->b[i] = (uint8_t)(d + (borrow ? 256 : 0));
	}
}

static void pow2(rn_id *p, unsigned k)
{
	memset(p->b, 0, RN_ID_LEN);
	if (k < RN_ID_BITS)
		p->b[RN_ID_LEN - 1 - k / 8] = (uint8_t)(1u << (k % 8));
}

void rn_id_add_pow2(rn_id *r, const rn_id *a, unsigned k)
{
	rn_id p;
	pow2(&p, k);
	rn_id_add(r, a, &p);
}

void rn_id_sub_pow2(rn_id *r, const rn_id *a, unsigned k)
{
	rn_id p;
	pow2(&p, k);
	rn_id_sub(r, a, &p);
}

void rn_id_dist_cw(rn_id *r, const rn_id *a, const rn_id *b)
{
	rn_id_sub(r, b, a);
}

int rn_id_dist_signed(rn_id *r, const rn_id *a, const rn_id *b)
{
	rn_id cw, ccw;
	rn_id_sub(&cw, b, a);
	if (rn_id_is_zero(&cw)) {
		*r = cw;
		return 0;
	}
	rn_id_sub(&ccw, a, b);
	if (rn_id_cmp(&cw, &ccw) <= 0) {
		*r = cw;
		return 1;
	}
	*r = ccw;
	return -1;
}

int rn_id_log2(const rn_id *a)
{
	for (int i = 0; i < RN_ID_LEN; i++) {
		if (a->b[i]) {
			int bit = 7;
			while (!(a->b[i] & (1u << bit)))
				bit--;
			return (RN_ID_LEN - 1 - i) * 8 + bit;
		}
	}
	return -1;
}

uint64_t rn_id_top64(const rn_id *a)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | a->b[i];
	return v;
}

double rn_id_frac(const rn_id *a)
{
	/* 53 bits: exact in a double, so the result stays below 1.0 */
	return ldexp((double)(rn_id_top64(a) >> 11), -53);
}

void rn_id_from_frac(rn_id *r, double frac)
{
	memset(r->b, 0, RN_ID_LEN);
	if (!(frac > 0.0))
		return;
	if (frac >= 1.0)
		frac = 0.0;
	double x = ldexp(frac, 64);
	uint64_t v = x >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)x;
	for (int i = 7; i >= 0; i--) {
		r->b[i] = (uint8_t)v;
		v >>= 8;
	}
}

void rn_id_to_hex(const rn_id *a, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < RN_ID_LEN; i++) {
		out[2 * i] = digits[a->b[i] >> 4];
		out[2 * i + 1] = digits[a->b[i] & 15];
	}
	out[RN_ID_HEX_LEN] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int rn_id_from_hex(rn_id *a, const char *s, size_t len)
{
	if (len != RN_ID_HEX_LEN)
		return RN_ERR_INVAL;
	for (int i = 0; i < RN_ID_LEN; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return RN_ERR_INVAL;
		a->b[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static const char b32_alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

void rn_id_to_b32(const rn_id *a, char *out)
{
	/* 160 bits = 32 groups of 5 bits exactly. */
	unsigned bitpos = 0;
	for (int i = 0; i < RN_ID_B32_LEN; i++, bitpos += 5) {
		unsigned byte = bitpos / 8, off = bitpos % 8;
		unsigned v = (unsigned)a->b[byte] << 8;
		if (byte + 1 < RN_ID_LEN)
			v |= a->b[byte + 1];
		out[i] = b32_alphabet[(v >> (11 - off)) & 31];
	}
	out[RN_ID_B32_LEN] = '\0';
}

static int b32val(char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

int rn_id_from_b32(rn_id *a, const char *s, size_t len)
{
	if (len != RN_ID_B32_LEN)
		return RN_ERR_INVAL;
	memset(a->b, 0, RN_ID_LEN);
	unsigned bitpos = 0;
	for (size_t i = 0; i < len; i++, bitpos += 5) {
		int v = b32val(s[i]);
		if (v < 0)
			return RN_ERR_INVAL;
		for (int j = 4; j >= 0; j--) {
			unsigned bit = bitpos + (unsigned)(4 - j);
			if ((v >> j) & 1)
				a->b[bit / 8] |= (uint8_t)(0x80u >> (bit % 8));
		}
	}
	return 0;
}

void rn_id_hash(rn_id *id, const uint8_t *k1, size_t n1, const uint8_t *k2,
		size_t n2, const uint8_t *k3, size_t n3)
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, RN_ID_LEN);
	if (n1)
		crypto_generichash_update(&st, k1, n1);
	if (n2)
		crypto_generichash_update(&st, k2, n2);
	if (n3)
		crypto_generichash_update(&st, k3, n3);
	crypto_generichash_final(&st, id->b, RN_ID_LEN);
}
