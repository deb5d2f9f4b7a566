/* Linear-probing hash map with backward-shift deletion (see map.h). */
#include "map.h"

#include <stdlib.h>

#include "err.h"

static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

void rn_map_init(rn_map *m, size_t entries_max)
{
	m->slots = NULL;
	m->cap = m->n = 0;
	m->entries_max = entries_max;
}

void rn_map_deinit(rn_map *m)
{
	free(m->slots);
	m->slots = NULL;
	m->cap = m->n = 0;
}

static size_t find(const rn_map *m, uint64_t key)
{
	size_t mask = m->cap - 1, i = mix(key) & mask;
	while (m->slots[i].key && m->slots[i].key != key)
		i = (i + 1) & mask;
	return i;
}

static int grow(rn_map *m)
{
	size_t cap = m->cap ? m->cap * 2 : 16;
	rn_map_slot *old = m->slots;
	size_t oldcap = m->cap;
	m->slots = calloc(cap, sizeof *m->slots);
	if (!m->slots) {
		m->slots = old;
		return RN_ERR_NOMEM;
	}
	m->cap = cap;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].key)
			m->slots[find(m, old[i].key)] = old[i];
	free(old);
	return 0;
}

int rn_map_put(rn_map *m, uint64_t key, uint64_t val)
{
	if (!key)
		return RN_ERR_INVAL;
	if (m->cap) {
		size_t i = find(m, key);
		if (m->slots[i].key) {
			m->slots[i].val = val;
			return 0;
		}
	}
	if (m->n >= m->entries_max)
		return RN_ERR_FULL;
	if ((m->n + 1) * 4 > m->cap * 3) {
		int rc = grow(m);
		if (rc)
			return rc;
	}
	size_t i = find(m, key);
	m->slots[i].key = key;
	m->slots[i].val = val;
	m->n++;
	return 0;
}

int rn_map_get(const rn_map *m, uint64_t key, uint64_t *val)
{
	if (!m->cap || !key)
		return RN_ERR_NOTFOUND;
	size_t i = find(m, key);
	if (!m->slots[i].key)
		return RN_ERR_NOTFOUND;
	*val = m->slots[i].val;
	return 0;
}

int rn_map_del(rn_map *m, uint64_t key)
{
	if (!m->cap || !key)
		return RN_ERR_NOTFOUND;
	size_t mask = m->cap - 1, i = find(m, key);
	if (!m->slots[i].key)
		return RN_ERR_NOTFOUND;
	/* Backward shift: pull later entries of the probe run into the hole
	 * unless their home slot lies cyclically in (hole, j]. */
	size_t j = i;
	for (;;) {
		m->slots[i].key = 0;
		for (;;) {
			j = (j + 1) & mask;
			if (!m->slots[j].key) {
				m->n--;
				return 0;
			}
			size_t home = mix(m->slots[j].key) & mask;
			if (i <= j ? (i < home && home <= j)
				   : (i < home || home <= j))
				continue;
			break;
		}
		m->slots[i] = m->slots[j];
		i = j;
	}
}
