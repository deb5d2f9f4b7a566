/* Fuzz target: rn_body_decode (overlay/msg.c), the bodies of ROUTED.
 *
 * Any bytes either fail with a protocol error code or decode; a decoded
 * body must re-encode and decode again to the same fields.
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
	msgpack_zone zone;
	rn_body b, b2;
	uint8_t out[RN_BODY_MAX];
	size_t len;

	if (!msgpack_zone_init(&zone, 4096))
		return 0;
	uint8_t *in = malloc(size ? size : 1);
	if (!in) {
		msgpack_zone_destroy(&zone);
		return 0;
	}
	if (size)
		memcpy(in, data, size);
	int rc = rn_body_decode(&zone, in, size, &b);
	if (rc != 0 && rc != RN_ERR_TRUNC && rc != RN_ERR_PROTO &&
	    rc != RN_ERR_DEPTH && rc != RN_ERR_VERSION && rc != RN_ERR_NOMEM)
		abort();
	if (rc == 0) {
		if (b.type < RN_BODY_CTM || b.type > RN_BODY_CTM_REPLY)
			abort();
		if (b.type == RN_BODY_CTM &&
		    (b.u.ctm.n_eps < 1 || b.u.ctm.n_eps > RN_CTM_EPS_MAX ||
		     b.u.ctm.purpose < RN_CTM_NEAR ||
		     b.u.ctm.purpose > RN_CTM_PUNCH || b.u.ctm.has_relay > 1))
			abort();
		if (rn_body_encode(&b, out, sizeof out, &len) != 0)
			abort();
		if (rn_body_decode(&zone, out, len, &b2) != 0 ||
		    !rn_test_body_eq(&b, &b2))
			abort();
	}
	free(in);
	msgpack_zone_destroy(&zone);
	return 0;
}
