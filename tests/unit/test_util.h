/* Helpers shared by the unit suites: the cmocka includes, the property-test
 * seed and a small PRNG that is independent of core/prng.c (so tests of the
 * core never depend on the code under test for their inputs).
 *
 * The seed comes from the environment variable RN_TEST_SEED when set, else a
 * fixed constant; every property failure prints it with the iteration, so a
 * failing run can be replayed with RN_TEST_SEED=<seed>.
 */
#ifndef RN_TEST_UTIL_H
#define RN_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define RN_TEST_SEED_DEFAULT 0x5eed0f2b1ce5ull

static inline uint64_t rn_test_seed(void)
{
	const char *s = getenv("RN_TEST_SEED");
	if (s && *s)
		return (uint64_t)strtoull(s, NULL, 0);
	return RN_TEST_SEED_DEFAULT;
}

/* splitmix64: the tests' own generator. */
typedef struct trng {
	uint64_t s;
} trng;

static inline void trng_init(trng *r, uint64_t seed) { r->s = seed; }

static inline uint64_t trng_u64(trng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* [0, n), n > 0; a little modulo bias is fine for generating inputs. */
static inline uint64_t trng_below(trng *r, uint64_t n)
{
	return trng_u64(r) % n;
}

static inline void trng_bytes(trng *r, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)trng_u64(r);
}

/* Property check: on failure, names the condition, the seed and the
 * iteration so the run can be replayed. */
#define PCHECK(cond, seed, iter)                                               \
	do {                                                                   \
		if (!(cond)) {                                                 \
			print_error("%s:%d: property failed: %s "             \
				    "[RN_TEST_SEED=%llu iteration=%llu]\n",    \
				    __FILE__, __LINE__, #cond,                 \
				    (unsigned long long)(seed),                \
				    (unsigned long long)(iter));               \
			fail();                                                \
		}                                                              \
	} while (0)

#endif
