/* msgpack pre-check, unpack and typed getters (see mp.h).
 *
 * The pre-check is a small iterative walker: a stack of "elements still
 * expected" per open container, bounded by RN_MP_DEPTH_MAX. It reads only
 * through rn_reader, so a short buffer is a clean RN_ERR_TRUNC. A container
 * announcing more elements than bytes remain (each element takes at least
 * one byte) is refused before anything is allocated.
 */
#include "mp.h"

#include <string.h>

#include "err.h"

/* Skips a payload of n bytes; refuses n beyond the input. */
static int skip(rn_reader *r, uint64_t n)
{
	if (n > rn_reader_left(r))
		return RN_ERR_TRUNC;
	rn_read_view(r, (size_t)n);
	return r->err;
}

/* Reads one header; sets *children to the elements it opens (0 for scalars). */
static int header(rn_reader *r, uint64_t *children)
{
	uint8_t t = rn_read_u8(r);
	*children = 0;
	if (r->err)
		return r->err;
	if (t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3)
		return 0;
	if ((t & 0xf0) == 0x80) { /* fixmap */
		*children = 2u * (t & 0x0f);
		return 0;
	}
	if ((t & 0xf0) == 0x90) { /* fixarray */
		*children = t & 0x0f;
		return 0;
	}
	if ((t & 0xe0) == 0xa0) /* fixstr */
		return skip(r, t & 0x1f);
	switch (t) {
	case 0xc4: case 0xd9: return skip(r, rn_read_u8(r));   /* bin8 str8 */
	case 0xc5: case 0xda: return skip(r, rn_read_u16(r));  /* bin16 str16 */
	case 0xc6: case 0xdb: return skip(r, rn_read_u32(r));  /* bin32 str32 */
	case 0xc7: return skip(r, 1u + rn_read_u8(r));         /* ext8 */
	case 0xc8: return skip(r, 1u + rn_read_u16(r));        /* ext16 */
	case 0xc9: return skip(r, 1u + (uint64_t)rn_read_u32(r)); /* ext32 */
	case 0xca: return skip(r, 4);
	case 0xcb: return skip(r, 8);
	case 0xcc: case 0xd0: return skip(r, 1);
	case 0xcd: case 0xd1: return skip(r, 2);
	case 0xce: case 0xd2: return skip(r, 4);
	case 0xcf: case 0xd3: return skip(r, 8);
	case 0xd4: return skip(r, 2); /* fixext1 */
	case 0xd5: return skip(r, 3);
	case 0xd6: return skip(r, 5);
	case 0xd7: return skip(r, 9);
	case 0xd8: return skip(r, 17);
	case 0xdc: *children = rn_read_u16(r); break;
	case 0xdd: *children = rn_read_u32(r); break;
	case 0xde: *children = 2u * (uint64_t)rn_read_u16(r); break;
	case 0xdf: *children = 2u * (uint64_t)rn_read_u32(r); break;
	default: return RN_ERR_PROTO; /* 0xc1 is never used */
	}
	if (r->err)
		return r->err;
	if (*children > rn_reader_left(r))
		return RN_ERR_DEPTH;
	return 0;
}

int rn_mp_precheck(const uint8_t *p, size_t len, size_t *used)
{
	rn_reader r;
	uint64_t expect[RN_MP_DEPTH_MAX + 1];
	int depth = 0;
	unsigned objects = 0;

	rn_reader_init(&r, p, len);
	expect[0] = 1;
	for (;;) {
		while (depth >= 0 && expect[depth] == 0)
			depth--;
		if (depth < 0)
			break;
		expect[depth]--;
		if (++objects > RN_MP_OBJECTS_MAX)
			return RN_ERR_DEPTH;
		uint64_t children;
		int rc = header(&r, &children);
		if (rc)
			return rc;
		if (children) {
			if (depth + 1 > RN_MP_DEPTH_MAX)
				return RN_ERR_DEPTH;
			expect[++depth] = children;
		}
	}
	*used = r.off;
	return 0;
}

int rn_mp_unpack(msgpack_zone *zone, const uint8_t *p, size_t len,
		 msgpack_object *out)
{
	size_t used, off = 0;
	int rc = rn_mp_precheck(p, len, &used);
	if (rc)
		return rc;
	if (used != len)
		return RN_ERR_PROTO;
	msgpack_unpack_return ur =
		msgpack_unpack((const char *)p, len, &off, zone, out);
	if (ur != MSGPACK_UNPACK_SUCCESS)
		return ur == MSGPACK_UNPACK_NOMEM_ERROR ? RN_ERR_NOMEM : RN_ERR_PROTO;
	return 0;
}

static int write_cb(void *data, const char *buf, size_t len)
{
	rn_writer *w = data;
	rn_write_bytes(w, buf, len);
	return w->err ? -1 : 0;
}

void rn_mp_packer_init(msgpack_packer *pk, rn_writer *w)
{
	msgpack_packer_init(pk, w, write_cb);
}

void rn_mp_pack_bin(msgpack_packer *pk, const void *p, size_t n)
{
	msgpack_pack_bin(pk, n);
	msgpack_pack_bin_body(pk, p, n);
}

void rn_mp_pack_header(msgpack_packer *pk, uint32_t n, uint8_t type,
		       uint8_t version)
{
	msgpack_pack_array(pk, n);
	msgpack_pack_uint8(pk, type);
	msgpack_pack_uint8(pk, version);
}

int rn_mp_header(const msgpack_object *o, uint32_t version, uint8_t *type)
{
	uint32_t t, v;
	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < 2 ||
	    rn_mp_get_u32(o, 0, 255, &t) || rn_mp_get_u32(o, 1, 255, &v))
		return RN_ERR_PROTO;
	if (v != version)
		return RN_ERR_VERSION;
	*type = (uint8_t)t;
	return 0;
}

int rn_mp_unpack_msg(msgpack_zone *zone, const uint8_t *buf, size_t len,
		     uint32_t version, msgpack_object *o, uint8_t *type)
{
	msgpack_zone_clear(zone);
	int rc = rn_mp_unpack(zone, buf, len, o);
	return rc ? rc : rn_mp_header(o, version, type);
}

int rn_mp_array(const msgpack_object *o, uint32_t min_len, uint32_t max_len)
{
	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < min_len ||
	    o->via.array.size > max_len)
		return RN_ERR_PROTO;
	return 0;
}

static const msgpack_object *elem(const msgpack_object *a, uint32_t i)
{
	if (a->type != MSGPACK_OBJECT_ARRAY || i >= a->via.array.size)
		return NULL;
	return &a->via.array.ptr[i];
}

int rn_mp_get_u64(const msgpack_object *a, uint32_t i, uint64_t max,
		  uint64_t *out)
{
	const msgpack_object *e = elem(a, i);
	if (!e || e->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    e->via.u64 > max)
		return RN_ERR_PROTO;
	*out = e->via.u64;
	return 0;
}

int rn_mp_get_u32(const msgpack_object *a, uint32_t i, uint32_t max,
		  uint32_t *out)
{
	uint64_t v;
	int rc = rn_mp_get_u64(a, i, max, &v);
	if (!rc)
		*out = (uint32_t)v;
	return rc;
}

int rn_mp_get_bin(const msgpack_object *a, uint32_t i, size_t max,
		  const uint8_t **p, size_t *n)
{
	const msgpack_object *e = elem(a, i);
	if (!e || e->type != MSGPACK_OBJECT_BIN || e->via.bin.size > max)
		return RN_ERR_PROTO;
	*p = (const uint8_t *)e->via.bin.ptr;
	*n = e->via.bin.size;
	return 0;
}

int rn_mp_get_bin_exact(const msgpack_object *a, uint32_t i, void *out,
			size_t n)
{
	const uint8_t *p;
	size_t got;
	int rc = rn_mp_get_bin(a, i, n, &p, &got);
	if (rc || got != n)
		return RN_ERR_PROTO;
	memcpy(out, p, n);
	return 0;
}

int rn_mp_get_array(const msgpack_object *a, uint32_t i, uint32_t min_len,
		    uint32_t max_len, const msgpack_object **out)
{
	const msgpack_object *e = elem(a, i);
	if (!e || rn_mp_array(e, min_len, max_len))
		return RN_ERR_PROTO;
	*out = e;
	return 0;
}
