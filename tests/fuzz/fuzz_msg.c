/* Fuzz target: rn_msg_decode (overlay/msg.c).
 *
 * Any bytes either fail with a protocol error code or decode; a decoded
 * message must re-encode into a datagram (RN_DGRAM_MAX) and decode again
 * to the same fields. For a ROUTED message, rn_msg_patch_hop_seq on the
 * input must, when it accepts, change exactly the hop sequence.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "core/err.h"
#include "overlay/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same_msg(const rn_msg *a, const rn_msg *b)
{
	if (a->type != b->type)
		return 0;
	switch (a->type) {
	case RN_MSG_HELLO:
	case RN_MSG_HELLO_ACK:
		return !memcmp(&a->u.hello.src, &b->u.hello.src, sizeof(rn_id)) &&
		       a->u.hello.kind == b->u.hello.kind &&
		       a->u.hello.token == b->u.hello.token &&
		       rn_ep_eq(&a->u.hello.your_ep, &b->u.hello.your_ep) &&
		       a->u.hello.ts_ms == b->u.hello.ts_ms;
	case RN_MSG_PING:
	case RN_MSG_PONG:
		return a->u.ping.ts_ms == b->u.ping.ts_ms;
	case RN_MSG_CLOSE:
		return a->u.close.reason == b->u.close.reason;
	case RN_MSG_NEIGHBORS:
		if (a->u.neighbors.n != b->u.neighbors.n)
			return 0;
		for (unsigned i = 0; i < a->u.neighbors.n; i++)
			if (memcmp(&a->u.neighbors.v[i].id,
				   &b->u.neighbors.v[i].id, sizeof(rn_id)) ||
			    !rn_ep_eq(&a->u.neighbors.v[i].ep,
				      &b->u.neighbors.v[i].ep))
				return 0;
		return 1;
	case RN_MSG_ROUTED:
		return a->u.routed.hop_seq == b->u.routed.hop_seq &&
		       !memcmp(&a->u.routed.src, &b->u.routed.src,
			       sizeof(rn_id)) &&
		       !memcmp(&a->u.routed.dst, &b->u.routed.dst,
			       sizeof(rn_id)) &&
		       a->u.routed.mode == b->u.routed.mode &&
		       a->u.routed.hops == b->u.routed.hops &&
		       a->u.routed.ttl == b->u.routed.ttl &&
		       a->u.routed.body_len == b->u.routed.body_len &&
		       (!a->u.routed.body_len ||
			!memcmp(a->u.routed.body, b->u.routed.body,
				a->u.routed.body_len));
	case RN_MSG_HOP_ACK:
		return a->u.hop_ack.hop_seq == b->u.hop_ack.hop_seq;
	default:
		return 0;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	msgpack_zone zone, zone2;
	rn_msg m, m2;
	uint8_t out[RN_DGRAM_MAX];
	size_t len;

	if (!msgpack_zone_init(&zone, 4096))
		return 0;
	if (!msgpack_zone_init(&zone2, 4096)) {
		msgpack_zone_destroy(&zone);
		return 0;
	}
	/* An exact-size copy, so that a read past the end is caught even
	 * when the harness hands a slice. */
	uint8_t *in = malloc(size ? size : 1);
	if (!in)
		goto out;
	if (size)
		memcpy(in, data, size);
	int rc = rn_msg_decode(&zone, in, size, &m);
	if (rc != 0 && rc != RN_ERR_TRUNC && rc != RN_ERR_PROTO &&
	    rc != RN_ERR_DEPTH && rc != RN_ERR_VERSION && rc != RN_ERR_NOMEM)
		abort();
	if (rc == 0) {
		if (m.type < RN_MSG_HELLO || m.type > RN_MSG_HOP_ACK)
			abort();
		if (m.type == RN_MSG_NEIGHBORS &&
		    m.u.neighbors.n > RN_NEIGHBORS_MAX)
			abort();
		if (m.type == RN_MSG_ROUTED &&
		    (m.u.routed.body_len > RN_BODY_MAX ||
		     (m.u.routed.body_len &&
		      (m.u.routed.body < in ||
		       m.u.routed.body + m.u.routed.body_len > in + size))))
			abort(); /* the body must point into the input */
		if (rn_msg_encode(&m, out, sizeof out, &len) != 0)
			abort(); /* whatever decodes fits a datagram */
		if (rn_msg_decode(&zone2, out, len, &m2) != 0 ||
		    !same_msg(&m, &m2))
			abort();
		if (m.type == RN_MSG_ROUTED) {
			uint32_t seq = m.u.routed.hop_seq ^ 0xa5a5a5a5u;
			if (rn_msg_patch_hop_seq(in, size, seq) == 0) {
				if (rn_msg_decode(&zone, in, size, &m2) != 0 ||
				    m2.u.routed.hop_seq != seq)
					abort();
				m2.u.routed.hop_seq = m.u.routed.hop_seq;
				if (!same_msg(&m, &m2))
					abort();
			}
		}
	}
	free(in);
out:
	msgpack_zone_destroy(&zone2);
	msgpack_zone_destroy(&zone);
	return 0;
}
