/* Unit tests for core/prng.c: xoshiro256** seeded from 32 big-endian bytes.
 *
 * The sequence is checked against the reference algorithm written out here
 * from Blackman and Vigna's public-domain code, and against the first outputs
 * for the state {1, 2, 3, 4} worked out by hand (11520, 0, ...). */
#include "test_util.h"

#include "core/prng.h"

typedef struct ref_x {
	uint64_t s[4];
} ref_x;

static uint64_t ref_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t ref_next(ref_x *x)
{
	uint64_t *s = x->s;
	const uint64_t result = ref_rotl(s[1] * 5, 7) * 9;
	const uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = ref_rotl(s[3], 45);
	return result;
}

static void seed_from_words(uint8_t seed[RN_PRNG_SEED_LEN], const uint64_t w[4])
{
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 8; j++)
			seed[8 * i + j] = (uint8_t)(w[i] >> (56 - 8 * j));
}

static void test_known_start(void **state)
{
	(void)state;
	uint8_t seed[RN_PRNG_SEED_LEN];
	static const uint64_t w[4] = {1, 2, 3, 4};
	seed_from_words(seed, w);
	rn_prng p;
	rn_prng_seed(&p, seed);
	/* first output: rotl(2 * 5, 7) * 9 = 1280 * 9 */
	assert_true(rn_prng_u64(&p) == 11520u);
	/* after one step s[1] = 2 ^ (3 ^ 1) = 0, so the second output is 0 */
	assert_true(rn_prng_u64(&p) == 0u);
}

static void test_vs_reference(void **state)
{
	(void)state;
	uint64_t seed = rn_test_seed();
	trng r;
	trng_init(&r, seed);
	for (uint64_t it = 0; it < 200; it++) {
		ref_x x;
		uint8_t sd[RN_PRNG_SEED_LEN];
		for (int i = 0; i < 4; i++)
			x.s[i] = trng_u64(&r);
		seed_from_words(sd, x.s);
		rn_prng p;
		rn_prng_seed(&p, sd);
		for (int k = 0; k < 1000; k++)
			PCHECK(rn_prng_u64(&p) == ref_next(&x), seed, it);
	}
}

static void test_zero_seed(void **state)
{
	(void)state;
	uint8_t sd[RN_PRNG_SEED_LEN] = {0};
	rn_prng p;
	rn_prng_seed(&p, sd);
	uint64_t any = 0;
	for (int i = 0; i < 64; i++)
		any |= rn_prng_u64(&p);
	assert_true(any != 0); /* an all-zero state would stay zero forever */
}

static void test_determinism(void **state)
{
	(void)state;
	uint8_t a[RN_PRNG_SEED_LEN], b[RN_PRNG_SEED_LEN];
	for (int i = 0; i < RN_PRNG_SEED_LEN; i++)
		a[i] = b[i] = (uint8_t)(i * 7 + 1);
	rn_prng p, q;
	rn_prng_seed(&p, a);
	rn_prng_seed(&q, b);
	for (int i = 0; i < 1000; i++)
		assert_true(rn_prng_u64(&p) == rn_prng_u64(&q));
	/* every seed byte matters */
	for (int k = 0; k < RN_PRNG_SEED_LEN; k++) {
		memcpy(b, a, sizeof b);
		b[k] ^= 1;
		rn_prng_seed(&p, a);
		rn_prng_seed(&q, b);
		int differ = 0;
		for (int i = 0; i < 8; i++)
			differ |= rn_prng_u64(&p) != rn_prng_u64(&q);
		assert_true(differ);
	}
}

static void test_below(void **state)
{
	(void)state;
	uint64_t seed = rn_test_seed();
	uint8_t sd[RN_PRNG_SEED_LEN];
	trng r;
	trng_init(&r, seed);
	trng_bytes(&r, sd, sizeof sd);
	rn_prng p;
	rn_prng_seed(&p, sd);
	static const uint64_t ns[] = {1, 2, 3, 7, 10, 1000, 1ull << 32,
				      (1ull << 63) + 1, UINT64_MAX - 1, UINT64_MAX};
	for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++)
		for (uint64_t it = 0; it < 2000; it++)
			PCHECK(rn_prng_below(&p, ns[i]) < ns[i], seed, it);
	for (int i = 0; i < 100; i++)
		assert_true(rn_prng_below(&p, 1) == 0);

	/* uniform over 10 buckets: chi-square with 9 degrees of freedom;
	 * 40 is far in the tail (p < 1e-5) */
	uint32_t cnt[10] = {0};
	const uint32_t draws = 100000;
	for (uint32_t i = 0; i < draws; i++)
		cnt[rn_prng_below(&p, 10)]++;
	double chi = 0;
	for (int i = 0; i < 10; i++) {
		double d = cnt[i] - draws / 10.0;
		chi += d * d / (draws / 10.0);
	}
	if (chi > 40.0)
		fail_msg("rn_prng_below(10) not uniform: chi2 %.1f [RN_TEST_SEED=%llu]",
			 chi, (unsigned long long)seed);

	/* unbiased for n just above 2^63: plain x % n would put about 3/4 of
	 * the draws below 2^62; rejection sampling puts about 1/2 there */
	uint64_t n = (1ull << 63) + 1;
	uint32_t low = 0;
	for (uint32_t i = 0; i < 20000; i++)
		low += rn_prng_below(&p, n) < (1ull << 62);
	if (low < 9400 || low > 10600)
		fail_msg("rn_prng_below(2^63+1) biased: %u/20000 below 2^62 "
			 "[RN_TEST_SEED=%llu]",
			 low, (unsigned long long)seed);
}

static void test_double(void **state)
{
	(void)state;
	uint64_t seed = rn_test_seed();
	uint8_t sd[RN_PRNG_SEED_LEN];
	trng r;
	trng_init(&r, seed + 1);
	trng_bytes(&r, sd, sizeof sd);
	rn_prng p, q;
	rn_prng_seed(&p, sd);
	rn_prng_seed(&q, sd);
	double sum = 0;
	for (uint64_t it = 0; it < 100000; it++) {
		double d = rn_prng_double(&p);
		PCHECK(d >= 0.0 && d < 1.0, seed, it);
		/* the top 53 bits of the next u64, scaled */
		uint64_t u = rn_prng_u64(&q);
		PCHECK(d == (double)(u >> 11) / 9007199254740992.0, seed, it);
		sum += d;
	}
	double mean = sum / 100000;
	if (mean < 0.49 || mean > 0.51)
		fail_msg("rn_prng_double mean %.4f [RN_TEST_SEED=%llu]", mean,
			 (unsigned long long)seed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_start),
		cmocka_unit_test(test_vs_reference),
		cmocka_unit_test(test_zero_seed),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_below),
		cmocka_unit_test(test_double),
	};
	printf("# RN_TEST_SEED=%llu\n", (unsigned long long)rn_test_seed());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
