/* Fuzz target: rn_hs_decode, rn_hs_encode, rn_hs_is_handshake and the DATA
 * header (overlay/hs.c).
 *
 * Any bytes either fail with a documented decoder code or decode to an
 * INIT, RESP or COOKIE whose certificate and inner message point into the
 * input; such a message re-encodes into a datagram (RN_DGRAM_MAX) that
 * rn_hs_is_handshake recognises and that decodes again to the same fields
 * (every field, has_cookie and the cookie, the certificate and inner
 * bytes). rn_hs_data_parse on the same bytes answers 0, RN_ERR_TRUNC
 * (shorter than header and tag) or RN_ERR_PROTO (first byte not 0x16), and
 * a parsed header made again with rn_hs_data_header is the input's first
 * RN_HS_DATA_HDR bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "core/err.h"
#include "overlay/hs.h"
#include "overlay/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same_bytes(const uint8_t *a, size_t na, const uint8_t *b,
		      size_t nb)
{
	return na == nb && (na == 0 || !memcmp(a, b, na));
}

static int same_hs(const rn_hs_msg *a, const rn_hs_msg *b)
{
	return a->type == b->type && a->idx_i == b->idx_i &&
	       a->idx_r == b->idx_r && !memcmp(a->dst.b, b->dst.b, RN_ID_LEN) &&
	       !memcmp(a->eph, b->eph, sizeof a->eph) && a->ts_ms == b->ts_ms &&
	       a->has_cookie == b->has_cookie &&
	       !memcmp(a->cookie, b->cookie, sizeof a->cookie) &&
	       same_bytes(a->cert, a->cert_len, b->cert, b->cert_len) &&
	       !memcmp(a->sig, b->sig, sizeof a->sig) &&
	       same_bytes(a->inner, a->inner_len, b->inner, b->inner_len);
}

/* p[0..n) lies inside buf[0..len) (or is empty). */
static int points_into(const uint8_t *p, size_t n, const uint8_t *buf,
		       size_t len)
{
	if (n == 0)
		return 1;
	return p && p >= buf && n <= len && (size_t)(p - buf) <= len - n;
}

static void check_data_header(const uint8_t *in, size_t size)
{
	uint32_t idx = 0;
	uint64_t ctr = 0;
	uint8_t hdr[RN_HS_DATA_HDR];
	int rc = rn_hs_data_parse(in, size, &idx, &ctr);
	if (rc != 0 && rc != RN_ERR_TRUNC && rc != RN_ERR_PROTO)
		abort();
	/* the documented conditions, in their order */
	int want = 0;
	if (size < RN_HS_DATA_HDR + RN_HS_TAG_LEN)
		want = RN_ERR_TRUNC;
	else if (in[0] != RN_HS_DATA)
		want = RN_ERR_PROTO;
	if (rc != want)
		abort();
	if (rc == 0) {
		rn_hs_data_header(hdr, idx, ctr);
		if (memcmp(hdr, in, RN_HS_DATA_HDR) != 0)
			abort();
		/* a DATA datagram is never taken for a handshake */
		if (rn_hs_is_handshake(in, size))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	msgpack_zone zone, zone2;
	rn_hs_msg m, m2;
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
	int rc = rn_hs_decode(&zone, in, size, &m);
	if (rc != 0 && rc != RN_ERR_TRUNC && rc != RN_ERR_PROTO &&
	    rc != RN_ERR_DEPTH && rc != RN_ERR_VERSION && rc != RN_ERR_NOMEM)
		abort();
	if (rc == 0) {
		if (m.type != RN_HS_INIT && m.type != RN_HS_RESP &&
		    m.type != RN_HS_COOKIE)
			abort();
		if (m.cert_len > RN_HS_CERT_MAX || m.inner_len > RN_HS_INNER_MAX ||
		    !points_into(m.cert, m.cert_len, in, size) ||
		    !points_into(m.inner, m.inner_len, in, size))
			abort(); /* cert and inner are references into the input */
		if (m.type == RN_HS_COOKIE && !m.has_cookie)
			abort();
		if (rn_hs_encode(&m, out, sizeof out, &len) != 0 || len == 0 ||
		    len > RN_DGRAM_MAX)
			abort(); /* whatever decodes fits a datagram */
		if (rn_hs_is_handshake(out, len) != 1)
			abort();
		if (rn_hs_decode(&zone2, out, len, &m2) != 0 || !same_hs(&m, &m2))
			abort();
		if (!points_into(m2.cert, m2.cert_len, out, len) ||
		    !points_into(m2.inner, m2.inner_len, out, len))
			abort();
		/* the encoding is canonical: encoding again gives the same */
		uint8_t out2[RN_DGRAM_MAX];
		size_t len2;
		if (rn_hs_encode(&m2, out2, sizeof out2, &len2) != 0 ||
		    !same_bytes(out, len, out2, len2))
			abort();
	}
	check_data_header(in, size);
	free(in);
out:
	msgpack_zone_destroy(&zone2);
	msgpack_zone_destroy(&zone);
	return 0;
}
