/* A bounded 4-ary min-heap of (key, seq, value) triples.
 *
 * Ordered by key, then seq: the simulator uses (time, sequence) so that
 * events at the same time pop in the order they were pushed, which makes
 * runs deterministic. 4-ary rather than binary: half the depth, and the four
 * children share a cache line or two. Grows by doubling up to items_max;
 * a push beyond that fails with RN_ERR_FULL.
 */
#ifndef RN_HEAP_H
#define RN_HEAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct rn_heap_item {
	uint64_t key, seq, val;
} rn_heap_item;

typedef struct rn_heap {
	rn_heap_item *v;
	size_t n, cap, items_max;
} rn_heap;

void rn_heap_init(rn_heap *h, size_t items_max);
void rn_heap_deinit(rn_heap *h);
int rn_heap_push(rn_heap *h, uint64_t key, uint64_t seq, uint64_t val);
/* Removes the minimum into *out; returns 0, or RN_ERR_NOTFOUND if empty. */
int rn_heap_pop(rn_heap *h, rn_heap_item *out);
const rn_heap_item *rn_heap_peek(const rn_heap *h);

#endif
