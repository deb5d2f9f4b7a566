/* msgpack helpers: the only way the core touches msgpack-c.
 *
 * Decoding untrusted bytes is two steps:
 *   1. rn_mp_precheck walks the encoding without allocating and rejects it
 *      unless every container's element count fits in the bytes left, the
 *      nesting depth is at most RN_MP_DEPTH_MAX and the object count is at most
 *      RN_MP_OBJECTS_MAX. msgpack-c allocates count x 24 bytes before it reads
 *      the elements, so without this five hostile bytes can ask for ~96 GB.
 *   2. msgpack_unpack into a caller-owned zone, which the caller clears after
 *      each message (one zone is shared by every node of a process).
 * Encoding goes through a msgpack_packer whose write callback appends to an
 * rn_writer, so messages are built in a caller buffer with no allocation.
 * The typed getters read element i of an array and check its type and range.
 */
#ifndef RN_MP_H
#define RN_MP_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define RN_MP_DEPTH_MAX 8
#define RN_MP_OBJECTS_MAX 4096

/* Checks one complete object starting at p; *used gets its encoded size. */
int rn_mp_precheck(const uint8_t *p, size_t len, size_t *used);

/* Prechecks, then unpacks exactly one object filling all of p[0..len). */
int rn_mp_unpack(msgpack_zone *zone, const uint8_t *p, size_t len,
		 msgpack_object *out);

void rn_mp_packer_init(msgpack_packer *pk, rn_writer *w);
void rn_mp_pack_bin(msgpack_packer *pk, const void *p, size_t n);
/* Opens a message [type, version, ...] of n elements in all. */
void rn_mp_pack_header(msgpack_packer *pk, uint32_t n, uint8_t type,
		       uint8_t version);

/* The head every message shares, [type, version, ...]: RN_ERR_PROTO unless
 * o is an array of at least two with a type of 0..255, RN_ERR_VERSION
 * unless its version is `version`. */
int rn_mp_header(const msgpack_object *o, uint32_t version, uint8_t *type);
/* The start of every message decoder: clears the zone (one message at a
 * time), rn_mp_unpack of exactly buf[0..len), then rn_mp_header. */
int rn_mp_unpack_msg(msgpack_zone *zone, const uint8_t *buf, size_t len,
		     uint32_t version, msgpack_object *o, uint8_t *type);

/* Getters over an array object a; each returns 0 or RN_ERR_PROTO. */
int rn_mp_array(const msgpack_object *o, uint32_t min_len, uint32_t max_len);
int rn_mp_get_u64(const msgpack_object *a, uint32_t i, uint64_t max,
		  uint64_t *out);
int rn_mp_get_u32(const msgpack_object *a, uint32_t i, uint32_t max,
		  uint32_t *out);
/* Binary of exactly n bytes copied to out. */
int rn_mp_get_bin_exact(const msgpack_object *a, uint32_t i, void *out,
			size_t n);
/* Binary of at most max bytes, by reference into the input. */
int rn_mp_get_bin(const msgpack_object *a, uint32_t i, size_t max,
		  const uint8_t **p, size_t *n);
/* Array element i, itself an array of length within [min, max]. */
int rn_mp_get_array(const msgpack_object *a, uint32_t i, uint32_t min_len,
		    uint32_t max_len, const msgpack_object **out);

#endif
