/* The sorted link table (see link.h). Insertion and removal move the tail
 * with memmove: tables hold tens of links, so this beats any tree. */
#include "link.h"

#include <stdlib.h>
#include <string.h>

#include "../core/err.h"

void rn_links_init(rn_links *t, uint32_t links_max, rn_eptab *eps)
{
	t->v = NULL;
	t->eph = NULL;
	t->eps = eps;
	t->n = t->cap = 0;
	t->max = links_max;
}

void rn_links_deinit(rn_links *t)
{
	for (uint32_t i = 0; i < t->n; i++)
		rn_eptab_unref(t->eps, t->eph[i] >> 8);
	free(t->v);
	free(t->eph);
	t->v = NULL;
	t->eph = NULL;
	t->n = t->cap = 0;
}

/* Reallocates both arrays to cap entries (cap >= n). */
static int resize(rn_links *t, uint32_t cap)
{
	rn_link *v = realloc(t->v, cap * sizeof *v);
	if (!v)
		return RN_ERR_NOMEM;
	t->v = v;
	uint32_t *e = realloc(t->eph, cap * sizeof *e);
	if (!e) {
		if (cap > t->cap)
			return RN_ERR_NOMEM; /* v is larger, harmless */
		t->cap = cap;            /* shrinking: v shrank, eph stays */
		return 0;
	}
	t->eph = e;
	t->cap = cap;
	return 0;
}

int rn_links_set_ep(rn_links *t, uint32_t idx, const rn_ep *ep)
{
	if (idx >= t->n)
		return RN_ERR_INVAL;
	uint32_t h = rn_eptab_ref(t->eps, ep);
	if (!h)
		return RN_ERR_FULL;
	rn_eptab_unref(t->eps, t->eph[idx] >> 8);
	t->eph[idx] = h << 8 | rn_links_ep_tag(ep);
	return 0;
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
	uint32_t tag = rn_links_ep_tag(ep);
	for (uint32_t i = 0; i < t->n; i++)
		if (rn_links_ep_is(t, i, ep, tag))
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
		if (resize(t, cap))
			return RN_ERR_NOMEM;
	}
	memmove(&t->v[i + 1], &t->v[i], (t->n - i) * sizeof *t->v);
	memmove(&t->eph[i + 1], &t->eph[i], (t->n - i) * sizeof *t->eph);
	memset(&t->v[i], 0, sizeof *t->v);
	t->v[i].off = *off;
	t->eph[i] = 0;
	t->n++;
	return (int)i;
}

void rn_links_remove(rn_links *t, uint32_t idx)
{
	if (idx >= t->n)
		return;
	rn_eptab_unref(t->eps, t->eph[idx] >> 8);
	memmove(&t->v[idx], &t->v[idx + 1], (t->n - idx - 1) * sizeof *t->v);
	memmove(&t->eph[idx], &t->eph[idx + 1],
		(t->n - idx - 1) * sizeof *t->eph);
	t->n--;
	if (t->n == 0) {
		free(t->v);
		free(t->eph);
		t->v = NULL;
		t->eph = NULL;
		t->cap = 0;
	} else if (t->cap - t->n >= RN_LINKS_SLACK_MAX) {
		/* Joins and trims leave a table far below its peak: give the
		 * slack back, or a million tables keep their joining size. */
		(void)resize(t, t->n + 4);
	}
}
