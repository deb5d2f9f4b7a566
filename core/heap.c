/* 4-ary min-heap (see heap.h). Invariant: v[i] <= each of v[4i+1..4i+4]. */
#include "heap.h"

#include <stdlib.h>

#include "err.h"

void rn_heap_init(rn_heap *h, size_t items_max)
{
	h->v = NULL;
	h->n = h->cap = 0;
	h->items_max = items_max;
}

void rn_heap_deinit(rn_heap *h)
{
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}

static int less(const rn_heap_item *a, const rn_heap_item *b)
{
	return a->key < b->key || (a->key == b->key && a->seq < b->seq);
}

int rn_heap_push(rn_heap *h, uint64_t key, uint64_t seq, uint64_t val)
{
	if (h->n == h->cap) {
		if (h->cap >= h->items_max)
			return RN_ERR_FULL;
		size_t cap = h->cap ? h->cap * 2 : 64;
		if (cap > h->items_max)
			cap = h->items_max;
		rn_heap_item *v = realloc(h->v, cap * sizeof *v);
		if (!v)
			return RN_ERR_NOMEM;
		h->v = v;
		h->cap = cap;
	}
	rn_heap_item it = {key, seq, val};
	size_t i = h->n++;
	while (i > 0) {
		size_t parent = (i - 1) / 4;
		if (!less(&it, &h->v[parent]))
			break;
		h->v[i] = h->v[parent];
		i = parent;
	}
	h->v[i] = it;
	return 0;
}

const rn_heap_item *rn_heap_peek(const rn_heap *h)
{
	return h->n ? &h->v[0] : NULL;
}

int rn_heap_pop(rn_heap *h, rn_heap_item *out)
{
	if (!h->n)
		return RN_ERR_NOTFOUND;
	*out = h->v[0];
	rn_heap_item last = h->v[--h->n];
	size_t i = 0, n = h->n;
	for (;;) {
		size_t c = 4 * i + 1, best = c;
		if (c >= n)
			break;
		size_t end = c + 4 < n ? c + 4 : n;
		for (size_t j = c + 1; j < end; j++)
			if (less(&h->v[j], &h->v[best]))
				best = j;
		if (!less(&h->v[best], &last))
			break;
		h->v[i] = h->v[best];
		i = best;
	}
	if (n)
		h->v[i] = last;
	return 0;
}
