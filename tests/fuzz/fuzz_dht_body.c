/* Fuzz target: rn_dht_body_decode and rn_dht_body_encode (dht/proto.c),
 * the DHT's bodies of ROUTED (DHT_REQ, DHT_RESP, DHT_STORE, DHT_FETCH).
 *
 * Any bytes either fail with a documented decoder code or decode to a body
 * of one of the four types whose fields keep the decoder's promises (an op
 * of put..remove, a valid namespace, a key of 1..RN_REC_KEY_MAX bytes, a
 * record exactly when the op is not get, a status of at most 0xffff, at
 * most RN_DHT_RECS_MAX records of 1..RN_REC_ENCODED_MAX bytes) and whose
 * strings and binaries point into the input. Such a body re-encodes into a
 * heap buffer of the input's size (the encoder writes the shortest form,
 * so it never needs more than the bytes it was decoded from; within
 * RN_BODY_MAX for anything that came in a ROUTED message), one byte more
 * for a DHT_STORE that came without its optional `extend`, and decodes
 * again to the same fields: type, op, rid, status, more, the ns, key and
 * record bytes, key_id, and each record's bytes. Each carried record then
 * goes through rn_rec_decode (as dht.c does with them), which must answer
 * with its documented codes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "core/err.h"
#include "dht/proto.h"
#include "dht/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same_bytes(const rn_dht_bytes *a, const rn_dht_bytes *b)
{
	return a->n == b->n && (a->n == 0 || !memcmp(a->p, b->p, a->n));
}

static int same_body(const rn_dht_body *a, const rn_dht_body *b)
{
	if (a->type != b->type || a->op != b->op || a->rid != b->rid ||
	    a->status != b->status || a->more != b->more ||
	    !same_bytes(&a->ns, &b->ns) || !same_bytes(&a->key, &b->key) ||
	    !same_bytes(&a->rec, &b->rec) ||
	    memcmp(a->key_id.b, b->key_id.b, RN_ID_LEN) != 0 ||
	    a->n_recs != b->n_recs || a->extend != b->extend)
		return 0;
	for (unsigned i = 0; i < a->n_recs; i++)
		if (!same_bytes(&a->recs[i], &b->recs[i]))
			return 0;
	return 1;
}

/* p[0..n) lies inside buf[0..len) (or is empty). */
static int points_into(const rn_dht_bytes *v, const uint8_t *buf, size_t len)
{
	if (v->n == 0)
		return 1;
	return v->p && v->p >= buf && v->n <= len &&
	       (size_t)(v->p - buf) <= len - v->n;
}

static int op_ok(uint8_t op)
{
	return op >= RN_DHT_PUT && op <= RN_DHT_REMOVE;
}

static int body_ok(const rn_dht_body *b, const uint8_t *in, size_t size)
{
	if (b->n_recs > RN_DHT_RECS_MAX || b->more > 1)
		return 0;
	for (unsigned i = 0; i < b->n_recs; i++)
		if (b->recs[i].n < 1 || b->recs[i].n > RN_REC_ENCODED_MAX ||
		    !points_into(&b->recs[i], in, size))
			return 0;
	if (!points_into(&b->ns, in, size) || !points_into(&b->key, in, size) ||
	    !points_into(&b->rec, in, size))
		return 0;
	switch (b->type) {
	case RN_DHT_REQ:
		return op_ok(b->op) &&
		       rn_rec_ns_ok((const char *)b->ns.p, b->ns.n) &&
		       b->key.n >= 1 && b->key.n <= RN_REC_KEY_MAX &&
		       b->rec.n <= RN_REC_ENCODED_MAX &&
		       (b->op == RN_DHT_GET) == (b->rec.n == 0) &&
		       b->n_recs == 0;
	case RN_DHT_RESP:
		return op_ok(b->op) && b->status <= 0xffff && b->ns.n == 0 &&
		       b->key.n == 0 && b->rec.n == 0;
	case RN_DHT_STORE:
	case RN_DHT_FETCH:
		return b->op == 0 && b->status == 0 && b->more == 0 &&
		       b->ns.n == 0 && b->key.n == 0 && b->rec.n == 0 &&
		       (b->type == RN_DHT_STORE || b->n_recs == 0);
	default:
		return 0;
	}
}

static void check_rec(msgpack_zone *zone, const rn_dht_bytes *v)
{
	rn_rec r;
	if (v->n == 0)
		return;
	int rc = rn_rec_decode(zone, v->p, v->n, &r);
	if (rc != 0 && rc != RN_ERR_TRUNC && rc != RN_ERR_PROTO &&
	    rc != RN_ERR_DEPTH && rc != RN_ERR_VERSION && rc != RN_ERR_NOMEM)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	msgpack_zone zone, rzone;
	rn_dht_body b, b2;
	size_t len = 0;

	if (!msgpack_zone_init(&zone, 4096))
		return 0;
	if (!msgpack_zone_init(&rzone, 4096)) {
		msgpack_zone_destroy(&zone);
		return 0;
	}
	/* An exact-size copy, so that a read past the end is caught even
	 * when the harness hands a slice. */
	uint8_t *in = malloc(size ? size : 1);
	uint8_t *out = malloc(size + 1);
	if (!in || !out) {
		free(out);
		free(in);
		msgpack_zone_destroy(&rzone);
		msgpack_zone_destroy(&zone);
		return 0;
	}
	if (size)
		memcpy(in, data, size);
	int rc = rn_dht_body_decode(&zone, in, size, &b);
	if (rc != 0 && rc != RN_ERR_TRUNC && rc != RN_ERR_PROTO &&
	    rc != RN_ERR_DEPTH && rc != RN_ERR_VERSION && rc != RN_ERR_NOMEM)
		abort();
	if (rc == 0) {
		if (!body_ok(&b, in, size))
			abort();
		size_t room = size + (b.type == RN_DHT_STORE);
		if (rn_dht_body_encode(&b, out, room, &len) != 0 || len > room)
			abort();
		if (rn_dht_body_decode(&zone, out, len, &b2) != 0 ||
		    !same_body(&b, &b2))
			abort();
		check_rec(&rzone, &b.rec);
		for (unsigned i = 0; i < b.n_recs; i++)
			check_rec(&rzone, &b.recs[i]);
	}
	free(out);
	free(in);
	msgpack_zone_destroy(&rzone);
	msgpack_zone_destroy(&zone);
	return 0;
}
