/* The simulator's event queue (see evq.h for the layout and invariants). */
#include "evq.h"

#include <stdlib.h>
#include <string.h>

#include "../core/err.h"

int sim_evq_init(sim_evq *q, size_t items_max)
{
	memset(q, 0, sizeof *q);
	q->items_max = items_max;
	rn_heap_init(&q->cur_heap, items_max);
	rn_heap_init(&q->far, items_max);
	q->wheel = calloc(SIM_EVQ_BUCKETS, sizeof *q->wheel);
	return q->wheel ? 0 : RN_ERR_NOMEM;
}

void sim_evq_deinit(sim_evq *q)
{
	rn_heap_deinit(&q->cur_heap);
	rn_heap_deinit(&q->far);
	if (q->wheel)
		for (uint32_t i = 0; i < SIM_EVQ_BUCKETS; i++)
			free(q->wheel[i].v);
	free(q->wheel);
	memset(q, 0, sizeof *q);
}

static int bucket_append(sim_evq *q, uint64_t idx, const rn_heap_item *it)
{
	sim_evq_bucket *b = &q->wheel[idx & (SIM_EVQ_BUCKETS - 1)];
	if (b->n == b->cap) {
		uint32_t cap = b->cap ? 2 * b->cap : 64;
		rn_heap_item *v = realloc(b->v, cap * sizeof *v);
		if (!v)
			return RN_ERR_NOMEM;
		b->v = v;
		b->cap = cap;
	}
	b->v[b->n++] = *it;
	q->n_wheel++;
	return 0;
}

int sim_evq_push(sim_evq *q, uint64_t key, uint64_t seq, uint64_t val)
{
	if (q->n >= q->items_max)
		return RN_ERR_FULL;
	uint64_t idx = key / SIM_EVQ_WIDTH_US;
	int rc;
	if (idx <= q->cur) {
		rc = rn_heap_push(&q->cur_heap, key, seq, val);
	} else if (idx - q->cur < SIM_EVQ_BUCKETS) {
		rn_heap_item it = {key, seq, val};
		rc = bucket_append(q, idx, &it);
	} else {
		rc = rn_heap_push(&q->far, key, seq, val);
	}
	if (rc == 0)
		q->n++;
	return rc;
}

/* Moves far events that the wheel reaches now (bucket < cur + size). */
static void far_to_wheel(sim_evq *q)
{
	const rn_heap_item *top;
	while ((top = rn_heap_peek(&q->far)) &&
	       top->key / SIM_EVQ_WIDTH_US - q->cur < SIM_EVQ_BUCKETS) {
		rn_heap_item it;
		rn_heap_pop(&q->far, &it);
		uint64_t idx = it.key / SIM_EVQ_WIDTH_US;
		if ((idx <= q->cur || bucket_append(q, idx, &it)) &&
		    rn_heap_push(&q->cur_heap, it.key, it.seq, it.val)) {
			q->n--; /* out of memory: the event is lost */
			q->lost++;
		}
	}
}

/* Makes cur_heap non-empty if any event is queued. */
static void refill(sim_evq *q)
{
	while (q->cur_heap.n == 0 && q->n) {
		if (q->n_wheel == 0) {
			/* Nothing within the wheel: jump to the far heap's top. */
			const rn_heap_item *top = rn_heap_peek(&q->far);
			if (!top) {
				q->n = 0; /* only lost events were counted */
				break;
			}
			uint64_t idx = top->key / SIM_EVQ_WIDTH_US;
			if (idx > q->cur + 1)
				q->cur = idx - 1;
		}
		q->cur++;
		far_to_wheel(q);
		sim_evq_bucket *b = &q->wheel[q->cur & (SIM_EVQ_BUCKETS - 1)];
		for (uint32_t i = 0; i < b->n; i++)
			if (rn_heap_push(&q->cur_heap, b->v[i].key, b->v[i].seq,
					 b->v[i].val)) {
				q->n--; /* out of memory: the event is lost */
				q->lost++;
			}
		q->n_wheel -= b->n;
		/* Free the drained bucket: 4096 arrays kept at their peak
		 * would hold far more than the events in flight. */
		free(b->v);
		b->v = NULL;
		b->n = b->cap = 0;
	}
}

const rn_heap_item *sim_evq_peek(sim_evq *q)
{
	refill(q);
	return rn_heap_peek(&q->cur_heap);
}

void sim_evq_upcoming(const sim_evq *q, const rn_heap_item **next,
		      const rn_heap_item **after)
{
	const rn_heap *h = &q->cur_heap;
	*next = h->n ? &h->v[0] : NULL;
	*after = NULL;
	/* children of the 4-ary heap's root: v[1..4] */
	for (size_t i = 1; i <= 4 && i < h->n; i++)
		if (!*after || h->v[i].key < (*after)->key ||
		    (h->v[i].key == (*after)->key && h->v[i].seq < (*after)->seq))
			*after = &h->v[i];
}

int sim_evq_pop(sim_evq *q, rn_heap_item *out)
{
	refill(q);
	if (rn_heap_pop(&q->cur_heap, out))
		return RN_ERR_NOTFOUND;
	q->n--;
	return 0;
}
