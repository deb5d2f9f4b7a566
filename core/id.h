/* 160-bit ring identifiers.
 *
 * An id is 20 bytes, read as an unsigned big-endian integer on a ring of
 * 2^160 points. Arithmetic wraps modulo 2^160. "Clockwise" is the direction
 * of increasing ids. The ring distance between a and b is the shorter of the
 * two ways round; rn_id_dist_signed tells which way that is.
 *
 * Text forms: 40 lower-case hex digits, and 32 RFC 4648 base32 letters
 * (lower case, no padding) for short human display.
 */
#ifndef RN_ID_H
#define RN_ID_H

#include <stddef.h>
#include <stdint.h>

#define RN_ID_LEN 20
#define RN_ID_BITS 160
#define RN_ID_HEX_LEN 40
#define RN_ID_B32_LEN 32

typedef struct rn_id {
	uint8_t b[RN_ID_LEN];
} rn_id;

/* Big-endian words of an id, for rn_id_cmp. */
static inline uint64_t rn_id_be64_(const uint8_t *p)
{
	uint64_t v;
	__builtin_memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}
static inline uint32_t rn_id_be32_(const uint8_t *p)
{
	uint32_t v;
	__builtin_memcpy(&v, p, 4);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	return v;
}
/* -1, 0 or 1 as a is below, equal to or above b. Inline, by words: routing
 * binary-searches link tables with it on every hop. */
static inline int rn_id_cmp(const rn_id *a, const rn_id *b)
{
	uint64_t x = rn_id_be64_(a->b), y = rn_id_be64_(b->b);
	if (x == y) {
		x = rn_id_be64_(a->b + 8);
		y = rn_id_be64_(b->b + 8);
	}
	if (x == y) {
		x = rn_id_be32_(a->b + 16);
		y = rn_id_be32_(b->b + 16);
	}
	return (x > y) - (x < y);
}
int rn_id_is_zero(const rn_id *a);
/* r = a + b, r = a - b (mod 2^160); r may alias a or b. */
void rn_id_add(rn_id *r, const rn_id *a, const rn_id *b);
void rn_id_sub(rn_id *r, const rn_id *a, const rn_id *b);
/* r = a + 2^k, r = a - 2^k (mod 2^160), 0 <= k < 160. */
void rn_id_add_pow2(rn_id *r, const rn_id *a, unsigned k);
void rn_id_sub_pow2(rn_id *r, const rn_id *a, unsigned k);
/* Clockwise distance from a to b: (b - a) mod 2^160. */
void rn_id_dist_cw(rn_id *r, const rn_id *a, const rn_id *b);
/* Shorter distance between a and b into r; returns +1 if the short way from
 * a to b is clockwise, -1 if counter-clockwise, 0 if a == b. At exactly half
 * the ring, clockwise wins. */
int rn_id_dist_signed(rn_id *r, const rn_id *a, const rn_id *b);
/* Index of the highest set bit (0..159), or -1 for zero. */
int rn_id_log2(const rn_id *a);
/* The top 64 bits as an integer; handy for ratios and estimates. */
uint64_t rn_id_top64(const rn_id *a);
/* a as a fraction of the ring, in [0, 1). */
double rn_id_frac(const rn_id *a);
/* The id nearest to frac * 2^160, for 0 <= frac < 1. */
void rn_id_from_frac(rn_id *r, double frac);

/* out must hold RN_ID_HEX_LEN + 1 bytes. */
void rn_id_to_hex(const rn_id *a, char *out);
int rn_id_from_hex(rn_id *a, const char *s, size_t len);
/* out must hold RN_ID_B32_LEN + 1 bytes. */
void rn_id_to_b32(const rn_id *a, char *out);
int rn_id_from_b32(rn_id *a, const char *s, size_t len);

/* id = BLAKE2b-160(key1 || key2 || key3); any key may be NULL with length 0. */
void rn_id_hash(rn_id *id, const uint8_t *k1, size_t n1, const uint8_t *k2,
		size_t n2, const uint8_t *k3, size_t n3);

#endif
