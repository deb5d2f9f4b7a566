/* Fuzz target: the msgpack pre-check and unpack of core/mp.c.
 *
 * rn_mp_precheck must accept or refuse any bytes without allocating, and
 * what it accepts must be what msgpack-c itself parses: the same object
 * boundary (so the bounds it checked are the ones msgpack-c allocates
 * for). An accepted object is walked in full, re-encoded through the
 * rn_writer packer and must pass the pre-check again (re-encoding keeps the
 * depth and object count, and every element still takes at least a byte).
 * The typed getters are run over the top level and its first elements.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/mp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touches every byte an object refers to; returns a checksum so the reads
 * cannot be optimised away. */
static uint64_t walk(const msgpack_object *o, int depth)
{
	uint64_t h = (uint64_t)o->type;
	if (depth > RN_MP_DEPTH_MAX + 1)
		abort(); /* the pre-check bounds the nesting */
	switch (o->type) {
	case MSGPACK_OBJECT_ARRAY:
		for (uint32_t i = 0; i < o->via.array.size; i++)
			h = h * 31 + walk(&o->via.array.ptr[i], depth + 1);
		break;
	case MSGPACK_OBJECT_MAP:
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			h = h * 31 + walk(&o->via.map.ptr[i].key, depth + 1);
			h = h * 31 + walk(&o->via.map.ptr[i].val, depth + 1);
		}
		break;
	case MSGPACK_OBJECT_STR:
		for (uint32_t i = 0; i < o->via.str.size; i++)
			h = h * 31 + (uint8_t)o->via.str.ptr[i];
		break;
	case MSGPACK_OBJECT_BIN:
		for (uint32_t i = 0; i < o->via.bin.size; i++)
			h = h * 31 + (uint8_t)o->via.bin.ptr[i];
		break;
	case MSGPACK_OBJECT_EXT:
		for (uint32_t i = 0; i < o->via.ext.size; i++)
			h = h * 31 + (uint8_t)o->via.ext.ptr[i];
		break;
	default:
		h = h * 31 + o->via.u64;
		break;
	}
	return h;
}

static void getters(const msgpack_object *o)
{
	uint64_t u64;
	uint32_t u32;
	uint8_t id[20];
	const uint8_t *p;
	size_t n;
	const msgpack_object *sub;
	(void)rn_mp_array(o, 0, 16);
	for (uint32_t i = 0; i < 10; i++) {
		(void)rn_mp_get_u64(o, i, UINT64_MAX, &u64);
		(void)rn_mp_get_u32(o, i, 255, &u32);
		(void)rn_mp_get_bin_exact(o, i, id, sizeof id);
		if (rn_mp_get_bin(o, i, 1200, &p, &n) == 0 && n > 1200)
			abort();
		if (rn_mp_get_array(o, i, 1, 4, &sub) == 0 &&
		    (sub->via.array.size < 1 || sub->via.array.size > 4))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t used = 0;
	msgpack_zone zone;
	msgpack_object o;

	int rc = rn_mp_precheck(data, size, &used);
	if (rc == 0 && (used == 0 || used > size))
		abort();
	if (rc != 0 && rc != RN_ERR_TRUNC && rc != RN_ERR_PROTO &&
	    rc != RN_ERR_DEPTH)
		abort();
	if (!msgpack_zone_init(&zone, 4096))
		return 0;
	if (rc == 0) {
		/* msgpack-c must agree on where the object ends. The prefix is
		 * copied so that a read past it is caught. */
		uint8_t *copy = malloc(used);
		if (copy) {
			size_t off = 0;
			memcpy(copy, data, used);
			msgpack_unpack_return ur = msgpack_unpack(
				(const char *)copy, used, &off, &zone, &o);
			if (ur != MSGPACK_UNPACK_SUCCESS || off != used)
				abort();
			free(copy);
		}
		msgpack_zone_clear(&zone);
	}
	rc = rn_mp_unpack(&zone, data, size, &o);
	if (rc == 0) {
		uint8_t out[4096];
		rn_writer w;
		msgpack_packer pk;
		volatile uint64_t h = walk(&o, 0);
		(void)h;
		getters(&o);
		rn_writer_init(&w, out, sizeof out);
		rn_mp_packer_init(&pk, &w);
		if (msgpack_pack_object(&pk, o) == 0 && !w.err) {
			size_t used2;
			if (rn_mp_precheck(out, w.len, &used2) != 0 ||
			    used2 != w.len)
				abort();
		}
	}
	msgpack_zone_destroy(&zone);
	return 0;
}
