/* One node's share of the DHT: the records it holds, with their leases.
 *
 * Entries are kept sorted by key id (a binary search finds a key's entries,
 * a scan in order walks keys for handoff), each with the record's encoded
 * bytes, exactly as signed, so that they can be handed on unchanged. The
 * store applies the merge rules of docs/dht.md: a writer's newer version
 * replaces its older one, tombstones remove and outlive what they removed,
 * an exclusive key holds one value. It does not check signatures or
 * namespace rules: records reach it through rn_rec_check.
 *
 * Bounded: records_max entries in all and per_writer_max from one writer;
 * a record beyond either is refused (RN_ERR_FULL) and counted.
 */
#ifndef RN_DHT_STORE_H
#define RN_DHT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

typedef struct rn_store_entry {
	rn_id key_id;
	uint8_t writer[RN_SIGN_PK_LEN];
	uint64_t created, ts, expires; /* unix ms */
	uint64_t vhash;                /* the value's BLAKE2b-64 */
	uint8_t flags;
	uint8_t empty_value;           /* a tombstone for all values */
	uint8_t fixed;                 /* written under a fixed-address cert */
	uint16_t len;                  /* of rec */
	uint8_t *rec;                  /* encoded record, heap */
} rn_store_entry;

typedef struct rn_store_stats {
	uint64_t stored, renewed, stale, conflict, full, expired, removed;
} rn_store_stats;

typedef struct rn_store {
	rn_store_entry *v;
	uint32_t n, cap;
	uint32_t records_max, per_writer_max;
	rn_store_stats stats;
} rn_store;

void rn_store_init(rn_store *s, uint32_t records_max, uint32_t per_writer_max);
void rn_store_deinit(rn_store *s);

enum rn_store_mode {
	RN_STORE_MERGE = 0,  /* a copy from another node: keep the winner */
	RN_STORE_CREATE = 1, /* the primary deciding a create or put */
};

/* Offers record r (checked already; enc/enc_len its encoding) under key_id
 * at unix time now_ms. Returns 0 when stored (new or newer), RN_ERR_STALE
 * when what is held is as new or newer (nothing changes), RN_ERR_CONFLICT
 * when an exclusive key holds another value (*holder, if not NULL, gets its
 * index; with RN_STORE_MERGE an exclusive record that wins the tie-break
 * replaces the holder instead), RN_ERR_EXPIRED for a first exclusive claim
 * whose created is further than skew_ms from now (RN_STORE_CREATE),
 * RN_ERR_FULL past a limit, RN_ERR_NOMEM. */
int rn_store_offer(rn_store *s, const rn_id *key_id, const rn_rec *r,
		   const uint8_t *enc, size_t enc_len, uint64_t now_ms,
		   int mode, uint64_t skew_ms, uint32_t *holder);

/* The entries of key_id are v[*first .. *first + count); returns count. */
uint32_t rn_store_find(const rn_store *s, const rn_id *key_id,
		       uint32_t *first);

/* Drops entries whose lease ended by now_ms; returns how many. */
uint32_t rn_store_expire(rn_store *s, uint64_t now_ms);

/* The earliest lease end held, or UINT64_MAX for an empty store. */
uint64_t rn_store_next_expiry(const rn_store *s);

#endif
