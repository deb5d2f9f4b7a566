/* The DHT's messages: bodies of the overlay's ROUTED (docs/dht.md).
 *
 *   DHT_REQ   [16, v, op, rid, ns(str), key(bin), rec(bin)]
 *   DHT_RESP  [17, v, op, rid, status, more(bool), [rec(bin), ...]]
 *   DHT_STORE [18, v, [rec(bin), ...], extend(u8)]   (extend may be absent: 0)
 *   DHT_FETCH [19, v, rid, key_id(bin 20)]
 *
 * status is 0 or the positive value of a negative RN_ERR_*. Records travel
 * as their own encoding (record.h), so that they reach every reader exactly
 * as signed. Decoded strings and binaries point into the input buffer: the
 * caller keeps it alive while using the result. The decoder never asserts
 * on input and has a fuzz target.
 */
#ifndef RN_DHT_PROTO_H
#define RN_DHT_PROTO_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/id.h"

enum rn_dht_body_type {
	RN_DHT_REQ = 16,
	RN_DHT_RESP = 17,
	RN_DHT_STORE = 18,
	RN_DHT_FETCH = 19,
};

enum rn_dht_op {
	RN_DHT_PUT = 1,
	RN_DHT_CREATE = 2,
	RN_DHT_GET = 3,
	RN_DHT_REMOVE = 4,
};

#define RN_DHT_RECS_MAX 8 /* records in one RESP or STORE */
#define RN_DHT_EXTEND_MAX 8 /* nodes a STORE may ask to be passed on to */

typedef struct rn_dht_bytes {
	const uint8_t *p;
	size_t n;
} rn_dht_bytes;

typedef struct rn_dht_body {
	uint8_t type, op, more;
	uint64_t rid;
	uint32_t status; /* RESP: -RN_ERR_* or 0 */
	rn_dht_bytes ns, key, rec; /* REQ */
	rn_id key_id;              /* FETCH */
	uint8_t n_recs;            /* RESP, STORE */
	uint8_t extend;            /* STORE: pass on to this many further out */
	rn_dht_bytes recs[RN_DHT_RECS_MAX];
} rn_dht_body;

/* RN_ERR_INVAL, RN_ERR_TOOBIG. */
int rn_dht_body_encode(const rn_dht_body *b, uint8_t *buf, size_t cap,
		       size_t *len);
/* Reads exactly buf[0..len): RN_ERR_TRUNC/DEPTH/PROTO/VERSION/NOMEM. */
int rn_dht_body_decode(msgpack_zone *zone, const uint8_t *buf, size_t len,
		       rn_dht_body *b);

#endif
