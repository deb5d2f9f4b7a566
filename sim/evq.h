/* The simulator's event queue: (time, sequence) order, a timing wheel in
 * front of a heap.
 *
 * A single heap of a million nodes' events is tens of megabytes: every pop
 * sifts through ten levels of cache misses. Here time is cut into buckets
 * of SIM_EVQ_WIDTH_US; the SIM_EVQ_BUCKETS buckets after the current one
 * form a wheel of plain arrays (a push is an append), events beyond the
 * wheel wait in a heap (`far`), and only the current bucket is ordered, in
 * a small heap (`cur_heap`) that fits in cache.
 *
 *   cur_heap: every event whose bucket index is <= cur, ordered
 *   wheel:    events with bucket index in (cur, cur + SIM_EVQ_BUCKETS)
 *   far:      the rest, ordered
 *
 * So the least event of cur_heap is the least of all, and the pop order is
 * exactly a single heap's: same runs, same trace hashes. When cur_heap runs
 * dry, cur moves to the next bucket (jumping over an empty wheel), its
 * array is heapified into cur_heap and freed, and far events that the
 * wheel now reaches move into it. items_max bounds all three together.
 */
#ifndef SIM_EVQ_H
#define SIM_EVQ_H

#include <stddef.h>
#include <stdint.h>

#include "../core/heap.h"

#define SIM_EVQ_WIDTH_US 1000u
#define SIM_EVQ_BUCKETS 4096u /* a power of two */

typedef struct sim_evq_bucket {
	rn_heap_item *v;
	uint32_t n, cap;
} sim_evq_bucket;

typedef struct sim_evq {
	rn_heap cur_heap, far;
	sim_evq_bucket *wheel; /* SIM_EVQ_BUCKETS, indexed by bucket % size */
	uint64_t cur;          /* bucket index of cur_heap */
	size_t n, n_wheel, items_max;
	uint64_t lost; /* events dropped when memory ran out moving them */
} sim_evq;

int sim_evq_init(sim_evq *q, size_t items_max);
void sim_evq_deinit(sim_evq *q);
/* 0, or RN_ERR_FULL / RN_ERR_NOMEM (the event is not queued). */
int sim_evq_push(sim_evq *q, uint64_t key, uint64_t seq, uint64_t val);
/* The least event, or NULL if none; may advance the wheel. */
const rn_heap_item *sim_evq_peek(sim_evq *q);
/* Prefetch hints, without advancing the wheel: *next is the least event
 * of the current bucket, *after the least of its children in the heap
 * (most often the one after it); NULL when there is none. */
void sim_evq_upcoming(const sim_evq *q, const rn_heap_item **next,
		      const rn_heap_item **after);
/* Removes the least event into *out: 0, or RN_ERR_NOTFOUND if empty. */
int sim_evq_pop(sim_evq *q, rn_heap_item *out);
static inline size_t sim_evq_len(const sim_evq *q) { return q->n; }

#endif
