/* The DHT of one node: requests, the primary's decisions, replication,
 * handoff, read repair and the owner's refreshes (docs/dht.md).
 *
 * An rn_dht attaches to an rn_node as its upper layer (overlay/node.h):
 * it sends through the node's routing, receives the routed bodies of
 * dht/proto.h, and runs in the node's timeouts. Sans-I/O like the node: no
 * clock (unix time comes from the node), no socket, no thread. Results of
 * the operations a caller started come back through the result callback,
 * with the records checked end to end (record.h) by this node.
 *
 * Data path of a put: rn_dht_put signs a record -> DHT_REQ routed to the
 * node closest to the key id (the primary) -> rn_store_offer there ->
 * DHT_RESP back, and DHT_STORE to the rest of the replica set. A get is
 * answered by the primary from its store, or after a read repair
 * (DHT_FETCH to the replicas) when it holds nothing for the key.
 */
#ifndef RN_DHT_H
#define RN_DHT_H

#include <stddef.h>
#include <stdint.h>

#include "../overlay/node.h"
#include "../overlay/sec.h"
#include "proto.h"
#include "record.h"
#include "store.h"

typedef struct rn_dht_settings {
	uint32_t replicas;        /* r: copies of each record (<= 2 near_k + 1) */
	uint32_t records_max;     /* entries one node stores */
	uint32_t per_writer_max;  /* of them from one writer */
	uint32_t requests_max;    /* this node's requests awaiting an answer */
	uint32_t request_rto_ms;  /* resend once after this, then time out */
	uint32_t fetches_max;     /* read repairs in progress at a primary */
	uint32_t fetch_wait_ms;   /* how long a read repair waits */
	uint32_t handoff_delay_ms; /* near-set changes coalesced this long */
	uint32_t own_max;         /* own records kept alive by refreshes */
	uint32_t ttl_max_s;       /* longest lease accepted */
	uint32_t skew_ms;         /* clock difference tolerated */
} rn_dht_settings;

void rn_dht_settings_default(rn_dht_settings *s);

typedef struct rn_dht_stats {
	uint64_t req_sent, req_resent, req_timeout, req_full;
	uint64_t primary_ops;    /* requests decided here as primary */
	uint64_t store_msgs_sent, store_recs_sent; /* replication + handoff */
	uint64_t handoff_recs;   /* of those, sent because the ring changed */
	uint64_t fetch_sent, fetch_repaired, fetch_full;
	uint64_t bad_record;     /* failed rn_rec_check: dropped */
	uint64_t expired_record; /* arrived after its lease ended: dropped */
	uint64_t refreshes;
} rn_dht_stats;

/* A finished operation, valid during the callback: its key; status 0 or
 * an RN_ERR_*; rid 0 for the refresh of an own record (rn_dht_write with
 * keep); for a get, the checked records, with now_unix_ms to compute what
 * is left of their leases. A create that failed with RN_ERR_CONFLICT has
 * the holder's record. The callback may start new operations. */
typedef struct rn_dht_result {
	uint64_t rid;
	int op, status;
	const char *ns; /* ns_len bytes, not NUL-terminated */
	size_t ns_len;
	const uint8_t *key;
	size_t key_len;
	const rn_rec *recs;
	uint32_t n_recs;
	uint64_t now_unix_ms;
} rn_dht_result;
typedef void (*rn_dht_result_fn)(void *ctx, const rn_dht_result *res);

typedef struct rn_dht rn_dht;

/* s is shared by the nodes of a process and read live: keep it alive as
 * long as the DHT. ident: the node's certificate and key (records are signed with it), and
 * group_pk the group's key; with crypto none both NULL, and writer names
 * the node in its records instead (unsigned). Attaches to node. */
rn_dht *rn_dht_new(rn_node *node, const rn_dht_settings *s,
		   const uint8_t group_id[RN_GROUP_ID_LEN],
		   const uint8_t *group_pk, const rn_ident *ident,
		   const uint8_t writer[RN_SIGN_PK_LEN], rn_dht_result_fn cb,
		   void *cb_ctx);
/* Detaches from the node and frees. */
void rn_dht_free(rn_dht *d);

/* put (RN_DHT_PUT), create (RN_DHT_CREATE) or remove (RN_DHT_REMOVE) a
 * value under (ns, key) with a lease of ttl_s seconds; flags may hold
 * RN_REC_REPLACE (put). keep: refresh it before its lease ends until it is
 * removed or rn_dht_forget. 0 once sent, or RN_ERR_INVAL (bad namespace,
 * key, value or ttl), RN_ERR_FULL, RN_ERR_STATE (not joined). */
int rn_dht_write(rn_dht *d, rn_time now, uint64_t rid, int op, const char *ns,
		 const uint8_t *key, size_t key_len, const uint8_t *value,
		 size_t value_len, uint32_t ttl_s, unsigned flags, int keep);
int rn_dht_get(rn_dht *d, rn_time now, uint64_t rid, const char *ns,
	       const uint8_t *key, size_t key_len);
/* Stops refreshing an own record (it lives out its lease). */
void rn_dht_forget(rn_dht *d, const char *ns, const uint8_t *key,
		   size_t key_len);

const rn_dht_stats *rn_dht_get_stats(const rn_dht *d);
const rn_store *rn_dht_store(const rn_dht *d);

#endif
