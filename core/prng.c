/* xoshiro256** by Blackman and Vigna (public domain reference), seeded from
 * 32 bytes; an all-zero state is replaced by a fixed non-zero one. */
#include "prng.h"

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void rn_prng_seed(rn_prng *p, const uint8_t seed[RN_PRNG_SEED_LEN])
{
	uint64_t any = 0;
	for (int i = 0; i < 4; i++) {
		uint64_t v = 0;
		for (int j = 0; j < 8; j++)
			v = v << 8 | seed[8 * i + j];
		p->s[i] = v;
		any |= v;
	}
	if (!any)
		p->s[0] = 0x9e3779b97f4a7c15ull;
}

uint64_t rn_prng_u64(rn_prng *p)
{
	uint64_t *s = p->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint64_t rn_prng_below(rn_prng *p, uint64_t n)
{
	uint64_t limit = UINT64_MAX - UINT64_MAX % n;
	uint64_t x;
	do
		x = rn_prng_u64(p);
	while (x >= limit);
	return x % n;
}

double rn_prng_double(rn_prng *p)
{
	return (double)(rn_prng_u64(p) >> 11) * 0x1.0p-53;
}
