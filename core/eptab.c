/* Interned endpoints (see eptab.h).
 *
 * Invariants: every live entry's handle sits in exactly one index slot, on
 * the probe path from its home slot with no empty slot in between (so a
 * lookup stops at the first empty slot); live * 2 <= mask + 1.
 */
#include "eptab.h"

#include <stdlib.h>
#include <string.h>

static const rn_ep zero_ep;

uint32_t rn_eptab_hash(const rn_ep *ep)
{
	/* FNV-1a over the 18 bytes, then a murmur finaliser to spread the
	 * mostly-equal IPv4-mapped prefixes. */
	uint32_t h = 2166136261u;
	for (int i = 0; i < 16; i++)
		h = (h ^ ep->addr[i]) * 16777619u;
	h = (h ^ (uint32_t)(ep->port & 0xff)) * 16777619u;
	h = (h ^ (uint32_t)(ep->port >> 8)) * 16777619u;
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

void rn_eptab_init(rn_eptab *t, uint32_t entries_max)
{
	memset(t, 0, sizeof *t);
	/* handle 0 is reserved, so entries_max handles end at entries_max */
	t->entries_max = entries_max < RN_EPTAB_HANDLES_MAX
				 ? entries_max
				 : RN_EPTAB_HANDLES_MAX - 1;
}

void rn_eptab_deinit(rn_eptab *t)
{
	free(t->e);
	free(t->slot);
	memset(t, 0, sizeof *t);
}

uint32_t rn_eptab_find(const rn_eptab *t, const rn_ep *ep)
{
	if (!t->slot)
		return 0;
	for (uint32_t i = rn_eptab_hash(ep) & t->mask;; i = (i + 1) & t->mask) {
		uint32_t h = t->slot[i];
		if (h == 0)
			return 0;
		if (rn_ep_eq(&t->e[h].ep, ep))
			return h;
	}
}

static void place(rn_eptab *t, uint32_t h)
{
	uint32_t i = rn_eptab_hash(&t->e[h].ep) & t->mask;
	while (t->slot[i])
		i = (i + 1) & t->mask;
	t->slot[i] = h;
}

static int grow_index(rn_eptab *t)
{
	uint32_t cap = t->slot ? (t->mask + 1) * 2 : 64;
	uint32_t *s = calloc(cap, sizeof *s);
	if (!s)
		return -1;
	uint32_t *old = t->slot, old_cap = t->slot ? t->mask + 1 : 0;
	t->slot = s;
	t->mask = cap - 1;
	for (uint32_t i = 0; i < old_cap; i++)
		if (old[i])
			place(t, old[i]);
	free(old);
	return 0;
}

static uint32_t new_entry(rn_eptab *t)
{
	if (t->free_head) {
		uint32_t h = t->free_head;
		t->free_head = t->e[h].next_free;
		return h;
	}
	if (t->n_e == 0)
		t->n_e = 1; /* handle 0 is reserved */
	if (t->n_e >= t->cap_e) {
		uint32_t cap = t->cap_e ? t->cap_e * 2 : 16;
		rn_eptab_entry *e = realloc(t->e, (size_t)cap * sizeof *e);
		if (!e)
			return 0;
		if (!t->e)
			memset(&e[0], 0, sizeof e[0]); /* the unused handle 0 */
		t->e = e;
		t->cap_e = cap;
	}
	return t->n_e++;
}

uint32_t rn_eptab_ref(rn_eptab *t, const rn_ep *ep)
{
	uint32_t h = rn_eptab_find(t, ep);
	if (h) {
		t->e[h].refs++;
		return h;
	}
	if (t->live >= t->entries_max)
		return 0;
	if ((t->live + 1) * 2 > (t->slot ? t->mask + 1 : 0) && grow_index(t))
		return 0;
	h = new_entry(t);
	if (!h)
		return 0;
	t->e[h].ep = *ep;
	t->e[h].refs = 1;
	t->e[h].next_free = 0;
	place(t, h);
	t->live++;
	return h;
}

/* Removes handle h from the index, shifting later members of its probe
 * run back so that no lookup meets a hole before its entry. */
static void unplace(rn_eptab *t, uint32_t h)
{
	uint32_t i = rn_eptab_hash(&t->e[h].ep) & t->mask;
	while (t->slot[i] != h)
		i = (i + 1) & t->mask;
	for (uint32_t j = (i + 1) & t->mask; t->slot[j]; j = (j + 1) & t->mask) {
		uint32_t home = rn_eptab_hash(&t->e[t->slot[j]].ep) & t->mask;
		/* move slot j to i if its home is not in (i, j] */
		if (((j - home) & t->mask) >= ((j - i) & t->mask)) {
			t->slot[i] = t->slot[j];
			i = j;
		}
	}
	t->slot[i] = 0;
}

void rn_eptab_unref(rn_eptab *t, uint32_t h)
{
	if (h == 0 || h >= t->n_e || t->e[h].refs == 0)
		return;
	if (--t->e[h].refs)
		return;
	unplace(t, h);
	t->e[h].next_free = t->free_head;
	t->free_head = h;
	t->live--;
}

const rn_ep *rn_eptab_get(const rn_eptab *t, uint32_t h)
{
	if (h == 0 || h >= t->n_e || t->e[h].refs == 0)
		return &zero_ep;
	return &t->e[h].ep;
}
