/* Fuzz target: rn_msg_decode (overlay/msg.c).
 *
 * Any bytes either fail with a protocol error code or decode; a decoded
 * message must re-encode into a datagram (RN_DGRAM_MAX; a RELAY, which
 * carries one, RN_RELAY_MSG_MAX) and decode again
 * to the same fields. For a ROUTED message, rn_msg_patch_hop_seq on the
 * input must, when it accepts, change exactly the hop sequence.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "core/err.h"
#include "overlay/msg.h"
#include "tests/msg_eq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	msgpack_zone zone, zone2;
	rn_msg m, m2;
	uint8_t out[RN_RELAY_MSG_MAX];
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
		if (m.type < RN_MSG_HELLO || m.type > RN_MSG_RELAY)
			abort();
		if ((m.type == RN_MSG_NEIGHBORS || m.type == RN_MSG_FAR_HINTS) &&
		    m.u.neighbors.n > RN_NEIGHBORS_MAX)
			abort();
		/* only a bootstrap's answer to a probe names a peer */
		if ((m.type == RN_MSG_HELLO || m.type == RN_MSG_HELLO_ACK) &&
		    m.u.hello.has_peer &&
		    (m.u.hello.has_peer != 1 || m.type != RN_MSG_HELLO_ACK ||
		     !(m.u.hello.kind & RN_KIND_CTM_SENT)))
			abort();
		if (m.type == RN_MSG_ROUTED &&
		    (m.u.routed.body_len > RN_BODY_MAX ||
		     (m.u.routed.body_len &&
		      (m.u.routed.body < in ||
		       m.u.routed.body + m.u.routed.body_len > in + size))))
			abort(); /* the body must point into the input */
		if (m.type == RN_MSG_RELAY &&
		    (m.u.relay.dir > RN_RELAY_DIR_MAX ||
		     m.u.relay.inner_len > RN_WIRE_MAX ||
		     (m.u.relay.inner_len &&
		      (m.u.relay.inner < in ||
		       m.u.relay.inner + m.u.relay.inner_len > in + size))))
			abort(); /* the inner datagram too */
		if (rn_msg_encode(&m, out,
				  m.type == RN_MSG_RELAY ? sizeof out
							 : RN_DGRAM_MAX,
				  &len) != 0)
			abort(); /* whatever decodes fits a datagram */
		if (rn_msg_decode(&zone2, out, len, &m2) != 0 ||
		    !rn_test_msg_eq(&m, &m2))
			abort();
		if (m.type == RN_MSG_ROUTED) {
			uint32_t seq = m.u.routed.hop_seq ^ 0xa5a5a5a5u;
			if (rn_msg_patch_hop_seq(in, size, seq) == 0) {
				if (rn_msg_decode(&zone, in, size, &m2) != 0 ||
				    m2.u.routed.hop_seq != seq)
					abort();
				m2.u.routed.hop_seq = m.u.routed.hop_seq;
				if (!rn_test_msg_eq(&m, &m2))
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
