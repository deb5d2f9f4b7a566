/* A small seeded PRNG (xoshiro256**) for protocol decisions.
 *
 * The core never reads the system RNG: each node seeds one of these from the
 * environment's random() once and draws jitter, target choices and tokens
 * from it. Same seed, same sequence: that is what makes simulations replay.
 * Not for keys: key material comes from random() directly.
 */
#ifndef RN_PRNG_H
#define RN_PRNG_H

#include <stdint.h>

#define RN_PRNG_SEED_LEN 32

typedef struct rn_prng {
	uint64_t s[4];
} rn_prng;

void rn_prng_seed(rn_prng *p, const uint8_t seed[RN_PRNG_SEED_LEN]);
uint64_t rn_prng_u64(rn_prng *p);
/* Uniform in [0, n); n > 0. Unbiased (rejection). */
uint64_t rn_prng_below(rn_prng *p, uint64_t n);
/* Uniform in [0, 1). */
double rn_prng_double(rn_prng *p);

#endif
