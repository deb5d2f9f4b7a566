/* A bounded hash map from 64-bit keys to 64-bit values.
 *
 * Open addressing with linear probing and backward-shift deletion (no
 * tombstones, so lookups stay short after many deletes). Keys are mixed with
 * a splitmix64 finaliser, so callers may use counters or id prefixes as keys.
 * Capacity is a power of two kept at most 3/4 full; entries_max bounds the
 * number of entries, and an insert beyond it fails with RN_ERR_FULL.
 * Key 0 is reserved as the empty marker; callers must not use it.
 */
#ifndef RN_MAP_H
#define RN_MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct rn_map_slot {
	uint64_t key, val;
} rn_map_slot;

typedef struct rn_map {
	rn_map_slot *slots;
	size_t cap, n, entries_max;
} rn_map;

void rn_map_init(rn_map *m, size_t entries_max);
void rn_map_deinit(rn_map *m);
/* Inserts or replaces. key != 0. */
int rn_map_put(rn_map *m, uint64_t key, uint64_t val);
/* Returns 0 and sets *val, or RN_ERR_NOTFOUND. */
int rn_map_get(const rn_map *m, uint64_t key, uint64_t *val);
int rn_map_del(rn_map *m, uint64_t key);

#endif
