/* Unit tests for core/mp.c: the allocation-free pre-check, unpack and the
 * typed getters.
 *
 * Valid inputs are built with msgpack-c's own sbuffer packer (not the code
 * under test). Properties: every random valid object passes the pre-check
 * with used == len and unpacks to what msgpack-c itself reads; every strict
 * prefix is refused; a mutated input that passes the pre-check is exactly
 * as long as msgpack-c says (checked on the accepted bytes only, so a
 * hostile count never reaches msgpack-c's allocator). */
#include "test_util.h"

#include <msgpack.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/mp.h"

#define ITERS 1500

/* ---- a random object generator on msgpack_sbuffer ----------------------- */

typedef struct gen {
	trng *r;
	msgpack_packer pk;
	int objects;
} gen;

static void gen_obj(gen *g, int depth_left)
{
	trng *r = g->r;
	msgpack_packer *pk = &g->pk;
	g->objects++;
	int kinds = depth_left > 0 && g->objects < 300 ? 14 : 12;
	uint8_t tmp[300];
	switch (trng_below(r, (uint64_t)kinds)) {
	case 0: msgpack_pack_nil(pk); break;
	case 1: trng_below(r, 2) ? msgpack_pack_true(pk) : msgpack_pack_false(pk); break;
	case 2: msgpack_pack_uint64(pk, trng_u64(r) >> trng_below(r, 64)); break;
	case 3: msgpack_pack_int64(pk, -(int64_t)(trng_u64(r) >> (1 + trng_below(r, 63))) - 1); break;
	case 4: msgpack_pack_float(pk, (float)trng_below(r, 1000) / 7.0f); break;
	case 5: msgpack_pack_double(pk, (double)trng_u64(r) / 3.0); break;
	case 6: {
		size_t n = trng_below(r, 4) ? trng_below(r, 40) : trng_below(r, 300);
		trng_bytes(r, tmp, n);
		msgpack_pack_str(pk, n);
		msgpack_pack_str_body(pk, tmp, n);
		break;
	}
	case 7: {
		size_t n = trng_below(r, 4) ? trng_below(r, 40) : trng_below(r, 300);
		trng_bytes(r, tmp, n);
		msgpack_pack_bin(pk, n);
		msgpack_pack_bin_body(pk, tmp, n);
		break;
	}
	case 8: {
		static const size_t fixed[] = {1, 2, 4, 8, 16, 0, 3, 40};
		size_t n = fixed[trng_below(r, 8)];
		trng_bytes(r, tmp, n);
		msgpack_pack_ext(pk, n, (int8_t)trng_below(r, 100));
		msgpack_pack_ext_body(pk, tmp, n);
		break;
	}
	case 9: msgpack_pack_uint8(pk, (uint8_t)trng_u64(r)); break;
	case 10: msgpack_pack_int16(pk, (int16_t)trng_u64(r)); break;
	case 11: msgpack_pack_uint32(pk, (uint32_t)trng_u64(r)); break;
	case 12: {
		size_t n = trng_below(r, 6);
		if (trng_below(r, 10) == 0)
			n = 16 + trng_below(r, 8); /* array16 */
		msgpack_pack_array(pk, n);
		for (size_t i = 0; i < n; i++)
			gen_obj(g, depth_left - 1);
		break;
	}
	default: {
		size_t n = trng_below(r, 4);
		msgpack_pack_map(pk, n);
		for (size_t i = 0; i < 2 * n; i++)
			gen_obj(g, depth_left - 1);
		break;
	}
	}
}

/* Packs one random object (nesting at most max_depth) into sb. */
static void gen_random(trng *r, msgpack_sbuffer *sb, int max_depth)
{
	gen g;
	g.r = r;
	g.objects = 0;
	msgpack_sbuffer_clear(sb);
	msgpack_packer_init(&g.pk, sb, msgpack_sbuffer_write);
	gen_obj(&g, max_depth);
}

static int precheck(const uint8_t *p, size_t len, size_t *used)
{
	*used = (size_t)-1;
	return rn_mp_precheck(p, len, used);
}

/* ---- tests ------------------------------------------------------------ */

static void test_hostile_counts(void **state)
{
	(void)state;
	size_t used;
	/* array32 claiming 4G elements: the case the pre-check exists for */
	static const uint8_t a32[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
	assert_int_equal(precheck(a32, sizeof a32, &used), RN_ERR_DEPTH);
	static const uint8_t m32[] = {0xdf, 0xff, 0xff, 0xff, 0xff};
	assert_int_equal(precheck(m32, sizeof m32, &used), RN_ERR_DEPTH);
	/* array16 of 65535 with 3 bytes after it */
	static const uint8_t a16[] = {0xdc, 0xff, 0xff, 0xc0, 0xc0, 0xc0};
	assert_int_equal(precheck(a16, sizeof a16, &used), RN_ERR_DEPTH);
	/* map16 of 2 pairs (4 elements) with 3 bytes after it */
	static const uint8_t m16[] = {0xde, 0x00, 0x02, 0xc0, 0xc0, 0xc0};
	assert_int_equal(precheck(m16, sizeof m16, &used), RN_ERR_DEPTH);
	/* ... and with exactly 4 bytes it is fine */
	static const uint8_t m16ok[] = {0xde, 0x00, 0x02, 0xc0, 0xc0, 0xc0, 0xc0};
	assert_int_equal(precheck(m16ok, sizeof m16ok, &used), 0);
	assert_int_equal(used, sizeof m16ok);
	/* an array32 nested inside an array: still refused */
	static const uint8_t nested[] = {0x92, 0x01, 0xdd, 0x7f, 0xff, 0xff, 0xff};
	assert_int_not_equal(precheck(nested, sizeof nested, &used), 0);
	/* huge payload lengths are refused, not skipped past the end */
	static const uint8_t bin32[] = {0xc6, 0xff, 0xff, 0xff, 0xff, 0x00};
	assert_int_equal(precheck(bin32, sizeof bin32, &used), RN_ERR_TRUNC);
	static const uint8_t str32[] = {0xdb, 0xff, 0xff, 0xff, 0xfe, 0x00};
	assert_int_equal(precheck(str32, sizeof str32, &used), RN_ERR_TRUNC);
	static const uint8_t ext32[] = {0xc9, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00};
	assert_int_equal(precheck(ext32, sizeof ext32, &used), RN_ERR_TRUNC);
	static const uint8_t ext16[] = {0xc8, 0x00, 0x02, 0x01, 0x00};
	assert_int_equal(precheck(ext16, sizeof ext16, &used), RN_ERR_TRUNC);
	/* the never-used byte */
	static const uint8_t c1[] = {0xc1};
	assert_int_equal(precheck(c1, sizeof c1, &used), RN_ERR_PROTO);
	static const uint8_t c1in[] = {0x92, 0x01, 0xc1};
	assert_int_equal(precheck(c1in, sizeof c1in, &used), RN_ERR_PROTO);
	/* nothing at all */
	assert_int_not_equal(precheck(a32, 0, &used), 0);

	/* rn_mp_unpack must refuse all of these before msgpack-c allocates
	 * (ASan aborts on an allocation of tens of gigabytes) */
	msgpack_zone zone;
	msgpack_zone_init(&zone, 1024);
	msgpack_object o;
	assert_int_equal(rn_mp_unpack(&zone, a32, sizeof a32, &o), RN_ERR_DEPTH);
	assert_int_equal(rn_mp_unpack(&zone, m32, sizeof m32, &o), RN_ERR_DEPTH);
	assert_int_not_equal(rn_mp_unpack(&zone, nested, sizeof nested, &o), 0);
	msgpack_zone_destroy(&zone);
}

/* n nested arrays around a positive fixint: [[[...[1]...]]] */
static size_t nest_arrays(uint8_t *p, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = 0x91;
	p[n] = 0x01;
	return (size_t)n + 1;
}

static void test_depth(void **state)
{
	(void)state;
	uint8_t buf[64];
	size_t len, used;
	for (int n = 0; n <= RN_MP_DEPTH_MAX; n++) {
		len = nest_arrays(buf, n);
		assert_int_equal(precheck(buf, len, &used), 0);
		assert_int_equal(used, len);
	}
	for (int n = RN_MP_DEPTH_MAX + 1; n < 40; n++) {
		len = nest_arrays(buf, n);
		assert_int_equal(precheck(buf, len, &used), RN_ERR_DEPTH);
	}
	/* maps count as nesting too: {1: {1: ... 1}} */
	for (int n = 1; n <= RN_MP_DEPTH_MAX + 1; n++) {
		size_t k = 0;
		for (int i = 0; i < n; i++) {
			buf[k++] = 0x81;
			buf[k++] = 0x01;
		}
		buf[k++] = 0x01;
		int rc = precheck(buf, k, &used);
		assert_int_equal(rc, n <= RN_MP_DEPTH_MAX ? 0 : RN_ERR_DEPTH);
	}
	/* depth reached in the last element of a wide array */
	size_t k = 0;
	buf[k++] = 0x93;
	buf[k++] = 0x01;
	buf[k++] = 0x02;
	k += nest_arrays(buf + k, RN_MP_DEPTH_MAX);
	assert_int_equal(precheck(buf, k, &used), RN_ERR_DEPTH);
	k = 0;
	buf[k++] = 0x93;
	buf[k++] = 0x01;
	buf[k++] = 0x02;
	k += nest_arrays(buf + k, RN_MP_DEPTH_MAX - 1);
	assert_int_equal(precheck(buf, k, &used), 0);
	assert_int_equal(used, k);
	/* siblings do not add up: [[[1]], [[1]], ...] is depth 3 */
	k = 0;
	buf[k++] = 0x9f;
	for (int i = 0; i < 15; i++) {
		buf[k++] = 0x91;
		buf[k++] = 0x91;
		buf[k++] = 0x01;
	}
	assert_int_equal(precheck(buf, k, &used), 0);
	assert_int_equal(used, k);
}

static void test_object_count(void **state)
{
	(void)state;
	/* root array + (RN_MP_OBJECTS_MAX - 1) nils = RN_MP_OBJECTS_MAX objects */
	size_t n_ok = RN_MP_OBJECTS_MAX - 1;
	uint8_t *buf = malloc(3 + n_ok + 1);
	assert_non_null(buf);
	buf[0] = 0xdc;
	buf[1] = (uint8_t)(n_ok >> 8);
	buf[2] = (uint8_t)n_ok;
	memset(buf + 3, 0xc0, n_ok + 1);
	size_t used;
	assert_int_equal(precheck(buf, 3 + n_ok, &used), 0);
	assert_int_equal(used, 3 + n_ok);
	buf[1] = (uint8_t)((n_ok + 1) >> 8);
	buf[2] = (uint8_t)(n_ok + 1);
	assert_int_equal(precheck(buf, 3 + n_ok + 1, &used), RN_ERR_DEPTH);
	free(buf);
}

static void test_scalars(void **state)
{
	(void)state;
	/* one of each header with its exact payload size */
	static const struct {
		uint8_t b[20];
		size_t len;
	} cases[] = {
		{{0x00}, 1}, {{0x7f}, 1}, {{0xe0}, 1}, {{0xff}, 1},
		{{0xc0}, 1}, {{0xc2}, 1}, {{0xc3}, 1},
		{{0xa0}, 1}, {{0xa3, 'a', 'b', 'c'}, 4},
		{{0xd9, 2, 'a', 'b'}, 4}, {{0xda, 0, 1, 'a'}, 4},
		{{0xdb, 0, 0, 0, 1, 'a'}, 6},
		{{0xc4, 1, 9}, 3}, {{0xc5, 0, 2, 9, 9}, 5},
		{{0xc6, 0, 0, 0, 0}, 5},
		{{0xc7, 1, 5, 9}, 4}, {{0xc8, 0, 1, 5, 9}, 5},
		{{0xc9, 0, 0, 0, 1, 5, 9}, 7},
		{{0xca, 1, 2, 3, 4}, 5}, {{0xcb, 1, 2, 3, 4, 5, 6, 7, 8}, 9},
		{{0xcc, 1}, 2}, {{0xcd, 1, 2}, 3}, {{0xce, 1, 2, 3, 4}, 5},
		{{0xcf, 1, 2, 3, 4, 5, 6, 7, 8}, 9},
		{{0xd0, 1}, 2}, {{0xd1, 1, 2}, 3}, {{0xd2, 1, 2, 3, 4}, 5},
		{{0xd3, 1, 2, 3, 4, 5, 6, 7, 8}, 9},
		{{0xd4, 1, 2}, 3}, {{0xd5, 1, 2, 3}, 4},
		{{0xd6, 1, 2, 3, 4, 5}, 6}, {{0xd7, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 10},
		{{0xd8, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, 18},
		{{0x90}, 1}, {{0x80}, 1}, {{0xdc, 0, 0}, 3}, {{0xdd, 0, 0, 0, 0}, 5},
		{{0xde, 0, 0}, 3}, {{0xdf, 0, 0, 0, 0}, 5},
	};
	msgpack_zone zone;
	msgpack_zone_init(&zone, 1024);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t used;
		int rc = precheck(cases[i].b, cases[i].len, &used);
		if (rc || used != cases[i].len)
			fail_msg("case %zu (0x%02x): rc %d used %zu", i,
				 cases[i].b[0], rc, used);
		/* with a trailing byte: same size, and unpack wants it gone */
		rc = precheck(cases[i].b, cases[i].len + 1, &used);
		assert_int_equal(rc, 0);
		assert_int_equal(used, cases[i].len);
		msgpack_object o;
		assert_int_equal(rn_mp_unpack(&zone, cases[i].b, cases[i].len, &o), 0);
		assert_int_equal(rn_mp_unpack(&zone, cases[i].b, cases[i].len + 1, &o),
				 RN_ERR_PROTO);
		/* every prefix fails */
		for (size_t k = 0; k < cases[i].len; k++)
			if (precheck(cases[i].b, k, &used) == 0)
				fail_msg("case %zu prefix %zu accepted", i, k);
		msgpack_zone_clear(&zone);
	}
	msgpack_zone_destroy(&zone);
}

static void test_random_valid(void **state)
{
	(void)state;
	uint64_t seed = rn_test_seed();
	trng r;
	trng_init(&r, seed);
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	msgpack_zone zone, zone2;
	msgpack_zone_init(&zone, 4096);
	msgpack_zone_init(&zone2, 4096);
	for (uint64_t it = 0; it < ITERS; it++) {
		gen_random(&r, &sb, 1 + (int)trng_below(&r, RN_MP_DEPTH_MAX));
		/* exact-size heap copy so ASan sees reads past the end */
		size_t len = sb.size;
		uint8_t *p = malloc(len + 1);
		assert_non_null(p);
		memcpy(p, sb.data, len);
		size_t used;
		PCHECK(precheck(p, len, &used) == 0, seed, it);
		PCHECK(used == len, seed, it);
		msgpack_object o, ref;
		msgpack_zone_clear(&zone);
		msgpack_zone_clear(&zone2);
		PCHECK(rn_mp_unpack(&zone, p, len, &o) == 0, seed, it);
		size_t off = 0;
		PCHECK(msgpack_unpack((const char *)p, len, &off, &zone2, &ref) ==
			       MSGPACK_UNPACK_SUCCESS,
		       seed, it);
		PCHECK(msgpack_object_equal(o, ref), seed, it);
		/* every strict prefix is refused, without reading past it */
		for (size_t k = 0; k < len; k++) {
			uint8_t *q = malloc(k ? k : 1);
			assert_non_null(q);
			memcpy(q, p, k);
			PCHECK(precheck(q, k, &used) != 0, seed, it);
			PCHECK(rn_mp_unpack(&zone, q, k, &o) != 0, seed, it);
			free(q);
		}
		/* one object, then anything: unpack wants exactly one */
		p[len] = (uint8_t)trng_u64(&r);
		PCHECK(rn_mp_unpack(&zone, p, len + 1, &o) != 0, seed, it);
		free(p);
	}
	msgpack_zone_destroy(&zone);
	msgpack_zone_destroy(&zone2);
	msgpack_sbuffer_destroy(&sb);
}

static void test_random_mutations(void **state)
{
	(void)state;
	uint64_t seed = rn_test_seed();
	trng r;
	trng_init(&r, seed ^ 0xabcdef);
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	msgpack_zone zone;
	msgpack_zone_init(&zone, 4096);
	unsigned accepted = 0;
	for (uint64_t it = 0; it < 20 * ITERS; it++) {
		gen_random(&r, &sb, 1 + (int)trng_below(&r, RN_MP_DEPTH_MAX + 2));
		size_t len = sb.size;
		uint8_t *p = malloc(len);
		assert_non_null(p);
		memcpy(p, sb.data, len);
		int flips = 1 + (int)trng_below(&r, 3);
		for (int f = 0; f < flips; f++) {
			size_t at = trng_below(&r, len);
			if (trng_below(&r, 2))
				p[at] = (uint8_t)trng_u64(&r);
			else
				p[at] ^= (uint8_t)(1u << trng_below(&r, 8));
		}
		size_t cut = trng_below(&r, 4) ? len : trng_below(&r, len + 1);
		size_t used;
		if (precheck(p, cut, &used) == 0) {
			accepted++;
			PCHECK(used <= cut, seed, it);
			/* msgpack-c reads exactly the same object size */
			size_t off = 0;
			msgpack_object o;
			msgpack_zone_clear(&zone);
			PCHECK(msgpack_unpack((const char *)p, used, &off, &zone,
					      &o) == MSGPACK_UNPACK_SUCCESS,
			       seed, it);
			PCHECK(off == used, seed, it);
		}
		free(p);
	}
	assert_true(accepted > 100); /* the property was actually exercised */
	msgpack_zone_destroy(&zone);
	msgpack_sbuffer_destroy(&sb);
}

static void test_unpack_exactly_one(void **state)
{
	(void)state;
	msgpack_zone zone;
	msgpack_zone_init(&zone, 1024);
	msgpack_object o;
	static const uint8_t one[] = {0x92, 0x01, 0xa1, 'x'};
	assert_int_equal(rn_mp_unpack(&zone, one, sizeof one, &o), 0);
	assert_int_equal(o.type, MSGPACK_OBJECT_ARRAY);
	assert_int_equal(o.via.array.size, 2);
	assert_int_equal(o.via.array.ptr[0].via.u64, 1);
	assert_int_equal(o.via.array.ptr[1].type, MSGPACK_OBJECT_STR);
	static const uint8_t two[] = {0x01, 0x02};
	assert_int_equal(rn_mp_unpack(&zone, two, sizeof two, &o), RN_ERR_PROTO);
	static const uint8_t two_arrays[] = {0x91, 0x01, 0x91, 0x02};
	assert_int_equal(rn_mp_unpack(&zone, two_arrays, sizeof two_arrays, &o),
			 RN_ERR_PROTO);
	assert_int_not_equal(rn_mp_unpack(&zone, one, 0, &o), 0);
	assert_int_not_equal(rn_mp_unpack(&zone, one, 3, &o), 0);
	msgpack_zone_destroy(&zone);
}

static void test_getters(void **state)
{
	(void)state;
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	msgpack_packer pk;
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 9);
	msgpack_pack_uint8(&pk, 5);                  /* 0 */
	msgpack_pack_int8(&pk, -1);                  /* 1 */
	msgpack_pack_str(&pk, 3);                    /* 2 */
	msgpack_pack_str_body(&pk, "abc", 3);
	msgpack_pack_bin(&pk, 3);                    /* 3 */
	msgpack_pack_bin_body(&pk, "\x01\x02\x03", 3);
	msgpack_pack_array(&pk, 2);                  /* 4 */
	msgpack_pack_uint8(&pk, 1);
	msgpack_pack_uint8(&pk, 2);
	msgpack_pack_nil(&pk);                       /* 5 */
	msgpack_pack_uint64(&pk, UINT64_MAX);        /* 6 */
	msgpack_pack_uint64(&pk, 1ull << 32);        /* 7 */
	msgpack_pack_bin(&pk, 0);                    /* 8 */
	msgpack_zone zone;
	msgpack_zone_init(&zone, 1024);
	msgpack_object a;
	assert_int_equal(rn_mp_unpack(&zone, (const uint8_t *)sb.data, sb.size, &a),
			 0);

	assert_int_equal(rn_mp_array(&a, 9, 9), 0);
	assert_int_equal(rn_mp_array(&a, 0, 100), 0);
	assert_int_equal(rn_mp_array(&a, 10, 20), RN_ERR_PROTO);
	assert_int_equal(rn_mp_array(&a, 0, 8), RN_ERR_PROTO);
	assert_int_equal(rn_mp_array(&a.via.array.ptr[0], 0, 10), RN_ERR_PROTO);

	uint64_t u64 = 99;
	uint32_t u32 = 99;
	assert_int_equal(rn_mp_get_u64(&a, 0, 5, &u64), 0);
	assert_true(u64 == 5);
	assert_int_equal(rn_mp_get_u64(&a, 0, 4, &u64), RN_ERR_PROTO);
	assert_int_equal(rn_mp_get_u64(&a, 1, UINT64_MAX, &u64), RN_ERR_PROTO);
	assert_int_equal(rn_mp_get_u64(&a, 2, UINT64_MAX, &u64), RN_ERR_PROTO);
	assert_int_equal(rn_mp_get_u64(&a, 5, UINT64_MAX, &u64), RN_ERR_PROTO);
	assert_int_equal(rn_mp_get_u64(&a, 6, UINT64_MAX, &u64), 0);
	assert_true(u64 == UINT64_MAX);
	assert_int_equal(rn_mp_get_u64(&a, 9, UINT64_MAX, &u64), RN_ERR_PROTO);
	assert_int_equal(rn_mp_get_u64(&a, UINT32_MAX, UINT64_MAX, &u64),
			 RN_ERR_PROTO);
	assert_int_equal(rn_mp_get_u32(&a, 0, 255, &u32), 0);
	assert_int_equal(u32, 5);
	assert_int_equal(rn_mp_get_u32(&a, 7, UINT32_MAX, &u32), RN_ERR_PROTO);
	assert_int_equal(rn_mp_get_u32(&a, 6, UINT32_MAX, &u32), RN_ERR_PROTO);
	/* getters on a non-array */
	assert_int_equal(rn_mp_get_u64(&a.via.array.ptr[0], 0, 10, &u64),
			 RN_ERR_PROTO);

	uint8_t out[4] = {0};
	assert_int_equal(rn_mp_get_bin_exact(&a, 3, out, 3), 0);
	assert_memory_equal(out, "\x01\x02\x03", 3);
	assert_int_equal(rn_mp_get_bin_exact(&a, 3, out, 2), RN_ERR_PROTO);
	assert_int_equal(rn_mp_get_bin_exact(&a, 3, out, 4), RN_ERR_PROTO);
	assert_int_equal(rn_mp_get_bin_exact(&a, 2, out, 3), RN_ERR_PROTO);
	assert_int_equal(rn_mp_get_bin_exact(&a, 8, out, 0), 0);
	const uint8_t *bp;
	size_t bn;
	assert_int_equal(rn_mp_get_bin(&a, 3, 3, &bp, &bn), 0);
	assert_int_equal(bn, 3);
	assert_memory_equal(bp, "\x01\x02\x03", 3);
	assert_int_equal(rn_mp_get_bin(&a, 3, 2, &bp, &bn), RN_ERR_PROTO);
	assert_int_equal(rn_mp_get_bin(&a, 0, 100, &bp, &bn), RN_ERR_PROTO);

	const msgpack_object *sub;
	assert_int_equal(rn_mp_get_array(&a, 4, 2, 2, &sub), 0);
	assert_ptr_equal(sub, &a.via.array.ptr[4]);
	assert_int_equal(rn_mp_get_array(&a, 4, 3, 5, &sub), RN_ERR_PROTO);
	assert_int_equal(rn_mp_get_array(&a, 4, 0, 1, &sub), RN_ERR_PROTO);
	assert_int_equal(rn_mp_get_array(&a, 5, 0, 9, &sub), RN_ERR_PROTO);
	assert_int_equal(rn_mp_get_array(&a, 9, 0, 9, &sub), RN_ERR_PROTO);

	msgpack_zone_destroy(&zone);
	msgpack_sbuffer_destroy(&sb);
}

static void test_packer(void **state)
{
	(void)state;
	uint8_t buf[16];
	rn_writer w;
	msgpack_packer pk;
	rn_writer_init(&w, buf, sizeof buf);
	rn_mp_packer_init(&pk, &w);
	rn_mp_pack_bin(&pk, "\xaa\xbb\xcc", 3);
	msgpack_pack_uint16(&pk, 300);
	assert_int_equal(w.err, 0);
	static const uint8_t want[] = {0xc4, 3, 0xaa, 0xbb, 0xcc, 0xcd, 0x01, 0x2c};
	assert_int_equal(w.len, sizeof want);
	assert_memory_equal(buf, want, sizeof want);
	/* overflow: TOOBIG, nothing beyond cap written */
	uint8_t small[8];
	memset(small, 0xee, sizeof small);
	rn_writer_init(&w, small, 4);
	rn_mp_packer_init(&pk, &w);
	rn_mp_pack_bin(&pk, "0123456789", 10);
	assert_int_equal(w.err, RN_ERR_TOOBIG);
	for (size_t i = 4; i < sizeof small; i++)
		assert_int_equal(small[i], 0xee);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostile_counts),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_object_count),
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_random_valid),
		cmocka_unit_test(test_random_mutations),
		cmocka_unit_test(test_unpack_exactly_one),
		cmocka_unit_test(test_getters),
		cmocka_unit_test(test_packer),
	};
	printf("# RN_TEST_SEED=%llu\n", (unsigned long long)rn_test_seed());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
