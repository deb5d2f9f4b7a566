/* Encoders and decoders for the handshake messages and the DATA header
 * (layouts in hs.h). Same discipline as msg.c: pack into a caller buffer,
 * precheck and unpack with core/mp.c, typed getters with range checks.
 */
#include "hs.h"

#include <string.h>

#include "../core/buf.h"
#include "../core/err.h"
#include "../core/mp.h"
#include "msg.h"

static const uint8_t zero_cookie[RN_HS_COOKIE_LEN];

int rn_hs_encode(const rn_hs_msg *m, uint8_t *buf, size_t cap, size_t *len)
{
	rn_writer w;
	msgpack_packer pk;
	rn_writer_init(&w, buf, cap);
	rn_mp_packer_init(&pk, &w);
	switch (m->type) {
	case RN_HS_INIT:
		if (m->cert_len > RN_HS_CERT_MAX || m->inner_len > RN_HS_INNER_MAX)
			return RN_ERR_INVAL;
		rn_mp_pack_header(&pk, 10, RN_HS_INIT, RN_PROTO_VERSION);
		msgpack_pack_uint32(&pk, m->idx_i);
		rn_mp_pack_bin(&pk, m->dst.b, RN_ID_LEN);
		rn_mp_pack_bin(&pk, m->eph, RN_HS_EPH_LEN);
		msgpack_pack_uint64(&pk, m->ts_ms);
		rn_mp_pack_bin(&pk, m->has_cookie ? m->cookie : zero_cookie,
			       m->has_cookie ? RN_HS_COOKIE_LEN : 0);
		rn_mp_pack_bin(&pk, m->cert, m->cert_len);
		rn_mp_pack_bin(&pk, m->sig, RN_HS_SIG_LEN);
		rn_mp_pack_bin(&pk, m->inner, m->inner_len);
		break;
	case RN_HS_RESP:
		if (m->cert_len > RN_HS_CERT_MAX || m->inner_len > RN_HS_INNER_MAX)
			return RN_ERR_INVAL;
		rn_mp_pack_header(&pk, 8, RN_HS_RESP, RN_PROTO_VERSION);
		msgpack_pack_uint32(&pk, m->idx_r);
		msgpack_pack_uint32(&pk, m->idx_i);
		rn_mp_pack_bin(&pk, m->eph, RN_HS_EPH_LEN);
		rn_mp_pack_bin(&pk, m->cert, m->cert_len);
		rn_mp_pack_bin(&pk, m->sig, RN_HS_SIG_LEN);
		rn_mp_pack_bin(&pk, m->inner, m->inner_len);
		break;
	case RN_HS_COOKIE:
		rn_mp_pack_header(&pk, 4, RN_HS_COOKIE, RN_PROTO_VERSION);
		msgpack_pack_uint32(&pk, m->idx_i);
		rn_mp_pack_bin(&pk, m->cookie, RN_HS_COOKIE_LEN);
		break;
	default:
		return RN_ERR_INVAL;
	}
	if (w.err)
		return w.err;
	*len = w.len;
	return 0;
}

static int decode_init(const msgpack_object *o, rn_hs_msg *m)
{
	const uint8_t *cookie;
	size_t cookie_len;
	if (rn_mp_array(o, 10, 10) ||
	    rn_mp_get_u32(o, 2, UINT32_MAX, &m->idx_i) ||
	    rn_mp_get_bin_exact(o, 3, m->dst.b, RN_ID_LEN) ||
	    rn_mp_get_bin_exact(o, 4, m->eph, RN_HS_EPH_LEN) ||
	    rn_mp_get_u64(o, 5, UINT64_MAX, &m->ts_ms) ||
	    rn_mp_get_bin(o, 6, RN_HS_COOKIE_LEN, &cookie, &cookie_len) ||
	    rn_mp_get_bin(o, 7, RN_HS_CERT_MAX, &m->cert, &m->cert_len) ||
	    rn_mp_get_bin_exact(o, 8, m->sig, RN_HS_SIG_LEN) ||
	    rn_mp_get_bin(o, 9, RN_HS_INNER_MAX, &m->inner, &m->inner_len))
		return RN_ERR_PROTO;
	if (cookie_len != 0 && cookie_len != RN_HS_COOKIE_LEN)
		return RN_ERR_PROTO;
	m->has_cookie = cookie_len != 0;
	if (m->has_cookie)
		memcpy(m->cookie, cookie, RN_HS_COOKIE_LEN);
	return 0;
}

static int decode_resp(const msgpack_object *o, rn_hs_msg *m)
{
	if (rn_mp_array(o, 8, 8) ||
	    rn_mp_get_u32(o, 2, UINT32_MAX, &m->idx_r) ||
	    rn_mp_get_u32(o, 3, UINT32_MAX, &m->idx_i) ||
	    rn_mp_get_bin_exact(o, 4, m->eph, RN_HS_EPH_LEN) ||
	    rn_mp_get_bin(o, 5, RN_HS_CERT_MAX, &m->cert, &m->cert_len) ||
	    rn_mp_get_bin_exact(o, 6, m->sig, RN_HS_SIG_LEN) ||
	    rn_mp_get_bin(o, 7, RN_HS_INNER_MAX, &m->inner, &m->inner_len))
		return RN_ERR_PROTO;
	return 0;
}

int rn_hs_decode(msgpack_zone *zone, const uint8_t *buf, size_t len,
		 rn_hs_msg *m)
{
	msgpack_object o;
	memset(m, 0, sizeof *m);
	int rc = rn_mp_unpack_msg(zone, buf, len, RN_PROTO_VERSION, &o,
				  &m->type);
	if (rc)
		return rc;
	switch (m->type) {
	case RN_HS_INIT:
		return decode_init(&o, m);
	case RN_HS_RESP:
		return decode_resp(&o, m);
	case RN_HS_COOKIE:
		if (rn_mp_array(&o, 4, 4) ||
		    rn_mp_get_u32(&o, 2, UINT32_MAX, &m->idx_i) ||
		    rn_mp_get_bin_exact(&o, 3, m->cookie, RN_HS_COOKIE_LEN))
			return RN_ERR_PROTO;
		m->has_cookie = 1;
		return 0;
	default:
		return RN_ERR_PROTO;
	}
}

int rn_hs_is_handshake(const uint8_t *buf, size_t len)
{
	/* fixarray of 4, 8 or 10 elements, then the type as a positive fixint */
	if (len < 2)
		return 0;
	return (buf[0] == 0x9a && buf[1] == RN_HS_INIT) ||
	       (buf[0] == 0x98 && buf[1] == RN_HS_RESP) ||
	       (buf[0] == 0x94 && buf[1] == RN_HS_COOKIE);
}

void rn_hs_data_header(uint8_t hdr[RN_HS_DATA_HDR], uint32_t idx,
		       uint64_t counter)
{
	rn_writer w;
	rn_writer_init(&w, hdr, RN_HS_DATA_HDR);
	rn_write_u8(&w, RN_HS_DATA);
	rn_write_u32(&w, idx);
	rn_write_u64(&w, counter);
}

int rn_hs_data_parse(const uint8_t *buf, size_t len, uint32_t *idx,
		     uint64_t *counter)
{
	if (len < RN_HS_DATA_HDR + RN_HS_TAG_LEN)
		return RN_ERR_TRUNC;
	if (buf[0] != RN_HS_DATA)
		return RN_ERR_PROTO;
	rn_reader r;
	rn_reader_init(&r, buf + 1, RN_HS_DATA_HDR - 1);
	*idx = rn_read_u32(&r);
	*counter = rn_read_u64(&r);
	return 0;
}
