/* The sorted link table (see link.h). Insertion and removal move the tail
 * with memmove: tables hold tens of links, so this beats any tree. */
#include "link.h"

#include <stdlib.h>
#include <string.h>

#include "../core/err.h"

void rn_links_init(rn_links *t, uint32_t links_max)
{
	t->v = NULL;
	t->n = t->cap = 0;
	t->max = links_max;
}

void rn_links_deinit(rn_links *t)
{
	free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}

uint32_t rn_links_lower_bound(const rn_links *t, const rn_id *off)
{
	uint32_t lo = 0, hi = t->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (rn_id_cmp(&t->v[mid].off, off) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int rn_links_find(const rn_links *t, const rn_id *off)
{
	uint32_t i = rn_links_lower_bound(t, off);
	if (i < t->n && rn_id_cmp(&t->v[i].off, off) == 0)
		return (int)i;
	return -1;
}

int rn_links_find_ep(const rn_links *t, const rn_ep *ep)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (rn_ep_eq(&t->v[i].ep, ep))
			return (int)i;
	return -1;
}

int rn_links_insert(rn_links *t, const rn_id *off)
{
	if (t->n >= t->max)
		return RN_ERR_FULL;
	uint32_t i = rn_links_lower_bound(t, off);
	if (i < t->n && rn_id_cmp(&t->v[i].off, off) == 0)
		return RN_ERR_INVAL;
	if (t->n == t->cap) {
		/* Grow four links at a time, not by doubling: a million nodes'
		 * tables must not carry half their size in slack. */
		uint32_t cap = t->cap < 8 ? 8 : t->cap + 4;
		if (cap > t->max)
			cap = t->max;
		rn_link *v = realloc(t->v, cap * sizeof *v);
		if (!v)
			return RN_ERR_NOMEM;
		t->v = v;
		t->cap = cap;
	}
	memmove(&t->v[i + 1], &t->v[i], (t->n - i) * sizeof *t->v);
	memset(&t->v[i], 0, sizeof *t->v);
	t->v[i].off = *off;
	t->n++;
	return (int)i;
}

void rn_links_remove(rn_links *t, uint32_t idx)
{
	if (idx >= t->n)
		return;
	memmove(&t->v[idx], &t->v[idx + 1], (t->n - idx - 1) * sizeof *t->v);
	t->n--;
	if (t->n == 0) {
		free(t->v);
		t->v = NULL;
		t->cap = 0;
	} else if (t->cap - t->n >= RN_LINKS_SLACK_MAX) {
		/* Joins and trims leave a table far below its peak: give the
		 * slack back, or a million tables keep their joining size. */
		uint32_t cap = t->n + 4;
		rn_link *v = realloc(t->v, cap * sizeof *v);
		if (v) {
			t->v = v;
			t->cap = cap;
		}
	}
}
