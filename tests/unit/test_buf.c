/* Unit tests for core/buf.c: the bounds-checked reader and writer.
 *
 * The property test reads random field sizes from heap buffers of exactly
 * the random length (so ASan sees any read past the end) and checks every
 * value and the sticky error against a model offset. */
#include "test_util.h"

#include "core/buf.h"
#include "core/err.h"

#define ITERS 3000

static void test_writer_layout(void **state)
{
	(void)state;
	uint8_t buf[32];
	rn_writer w;
	rn_writer_init(&w, buf, sizeof buf);
	rn_write_u8(&w, 0x01);
	rn_write_u16(&w, 0x0203);
	rn_write_u32(&w, 0x04050607u);
	rn_write_u64(&w, 0x08090a0b0c0d0e0full);
	rn_write_bytes(&w, "\x10\x11", 2);
	rn_write_bytes(&w, NULL, 0);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.len, 17);
	for (unsigned i = 0; i < 17; i++)
		assert_int_equal(buf[i], i + 1);
}

static void test_writer_overflow(void **state)
{
	(void)state;
	/* every capacity below what is written: TOOBIG, sticky, no byte past
	 * cap touched, len stops at the last whole field that fit */
	for (size_t cap = 0; cap < 15; cap++) {
		uint8_t buf[32];
		memset(buf, 0xee, sizeof buf);
		rn_writer w;
		rn_writer_init(&w, buf, cap);
		rn_write_u32(&w, 0x11111111u);
		rn_write_u64(&w, 0x2222222222222222ull);
		rn_write_u8(&w, 0x33);
		rn_write_u16(&w, 0x4444);
		size_t want_len = 0;
		static const size_t sizes[] = {4, 8, 1, 2};
		for (int i = 0; i < 4 && want_len + sizes[i] <= cap; i++)
			want_len += sizes[i];
		assert_int_equal(w.err, RN_ERR_TOOBIG);
		assert_int_equal(w.len, want_len);
		for (size_t i = cap; i < sizeof buf; i++)
			assert_int_equal(buf[i], 0xee);
		/* sticky: even a write that would fit now fails */
		rn_write_bytes(&w, NULL, 0);
		assert_int_equal(w.err, RN_ERR_TOOBIG);
		assert_int_equal(w.len, want_len);
	}
	uint8_t buf[15];
	rn_writer w;
	rn_writer_init(&w, buf, sizeof buf);
	rn_write_u32(&w, 1);
	rn_write_u64(&w, 2);
	rn_write_u8(&w, 3);
	rn_write_u16(&w, 4);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.len, 15);
}

static void test_reader_basic(void **state)
{
	(void)state;
	static const uint8_t in[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
				     13, 14, 15};
	rn_reader r;
	rn_reader_init(&r, in, sizeof in);
	assert_int_equal(rn_reader_left(&r), 15);
	assert_int_equal(rn_read_u8(&r), 0x01);
	assert_int_equal(rn_read_u16(&r), 0x0203);
	assert_int_equal(rn_read_u32(&r), 0x04050607u);
	assert_int_equal(rn_reader_left(&r), 8);
	assert_true(rn_read_u64(&r) == 0x08090a0b0c0d0e0full);
	assert_int_equal(rn_reader_left(&r), 0);
	assert_int_equal(r.err, 0);
	assert_int_equal(rn_read_u8(&r), 0);
	assert_int_equal(r.err, RN_ERR_TRUNC);
}

static void test_reader_sticky(void **state)
{
	(void)state;
	static const uint8_t in[] = {0xaa, 0xbb, 0xcc};
	rn_reader r;
	rn_reader_init(&r, in, sizeof in);
	/* a u32 from 3 bytes fails and consumes nothing usable */
	assert_int_equal(rn_read_u32(&r), 0);
	assert_int_equal(r.err, RN_ERR_TRUNC);
	assert_int_equal(rn_reader_left(&r), 0);
	/* sticky: the 3 bytes that are there can no longer be read */
	assert_int_equal(rn_read_u8(&r), 0);
	assert_null(rn_read_view(&r, 0));
	uint8_t out[3] = {1, 2, 3};
	rn_read_bytes(&r, out, sizeof out);
	assert_int_equal(out[0] | out[1] | out[2], 0);
	assert_int_equal(r.err, RN_ERR_TRUNC);

	/* a view of exactly what is left works, one more does not */
	rn_reader_init(&r, in, sizeof in);
	const uint8_t *v = rn_read_view(&r, 3);
	assert_ptr_equal(v, in);
	assert_int_equal(r.err, 0);
	assert_null(rn_read_view(&r, 1));
	assert_int_equal(r.err, RN_ERR_TRUNC);

	/* a huge length does not wrap around the bounds check */
	rn_reader_init(&r, in, sizeof in);
	rn_read_u8(&r);
	assert_null(rn_read_view(&r, SIZE_MAX));
	assert_int_equal(r.err, RN_ERR_TRUNC);
	rn_reader_init(&r, in, sizeof in);
	rn_read_u8(&r);
	assert_null(rn_read_view(&r, SIZE_MAX - 1));

	/* empty input */
	rn_reader_init(&r, in, 0);
	assert_int_equal(rn_reader_left(&r), 0);
	assert_ptr_equal(rn_read_view(&r, 0), in);
	assert_int_equal(r.err, 0);
	assert_int_equal(rn_read_u16(&r), 0);
	assert_int_equal(r.err, RN_ERR_TRUNC);
}

static void test_reader_property(void **state)
{
	(void)state;
	uint64_t seed = rn_test_seed();
	trng rg;
	trng_init(&rg, seed);
	for (uint64_t it = 0; it < ITERS; it++) {
		size_t len = trng_below(&rg, 40);
		uint8_t *in = malloc(len ? len : 1);
		assert_non_null(in);
		trng_bytes(&rg, in, len);
		rn_reader r;
		rn_reader_init(&r, in, len);
		size_t off = 0;
		int failed = 0;
		for (int step = 0; step < 16; step++) {
			static const size_t sizes[] = {1, 2, 4, 8, 0, 3, 5, 17};
			size_t k = trng_below(&rg, 8), n = sizes[k];
			int ok = !failed && n <= len - off;
			uint64_t want = 0;
			if (ok)
				for (size_t i = 0; i < n && i < 8; i++)
					want = want << 8 | in[off + i];
			uint64_t got = 0;
			uint8_t copy[17];
			const uint8_t *view = NULL;
			switch (k) {
			case 0: got = rn_read_u8(&r); break;
			case 1: got = rn_read_u16(&r); break;
			case 2: got = rn_read_u32(&r); break;
			case 3: got = rn_read_u64(&r); break;
			case 4: case 6:
				view = rn_read_view(&r, n);
				PCHECK((view != NULL) == ok, seed, it);
				if (ok)
					PCHECK(view == in + off, seed, it);
				break;
			default:
				memset(copy, 0x5a, sizeof copy);
				rn_read_bytes(&r, copy, n);
				if (ok)
					PCHECK(memcmp(copy, in + off, n) == 0, seed, it);
				else
					for (size_t i = 0; i < n; i++)
						PCHECK(copy[i] == 0, seed, it);
				break;
			}
			if (k <= 3)
				PCHECK(got == (ok ? want : 0), seed, it);
			if (ok)
				off += n;
			else
				failed = 1;
			PCHECK(r.err == (failed ? RN_ERR_TRUNC : 0), seed, it);
			PCHECK(rn_reader_left(&r) == (failed ? 0 : len - off), seed,
			       it);
			PCHECK(r.off <= len, seed, it);
		}
		free(in);
	}
}

static void test_round_trip_property(void **state)
{
	(void)state;
	uint64_t seed = rn_test_seed();
	trng rg;
	trng_init(&rg, seed ^ 0x77);
	for (uint64_t it = 0; it < ITERS; it++) {
		uint8_t buf[128];
		uint64_t vals[16];
		int kinds[16];
		rn_writer w;
		rn_writer_init(&w, buf, sizeof buf);
		int n = (int)trng_below(&rg, 16) + 1;
		for (int i = 0; i < n; i++) {
			kinds[i] = (int)trng_below(&rg, 4);
			vals[i] = trng_u64(&rg);
			switch (kinds[i]) {
			case 0: vals[i] &= 0xff; rn_write_u8(&w, (uint8_t)vals[i]); break;
			case 1: vals[i] &= 0xffff; rn_write_u16(&w, (uint16_t)vals[i]); break;
			case 2: vals[i] &= 0xffffffffu; rn_write_u32(&w, (uint32_t)vals[i]); break;
			default: rn_write_u64(&w, vals[i]); break;
			}
		}
		PCHECK(w.err == 0, seed, it);
		rn_reader r;
		rn_reader_init(&r, buf, w.len);
		for (int i = 0; i < n; i++) {
			uint64_t got;
			switch (kinds[i]) {
			case 0: got = rn_read_u8(&r); break;
			case 1: got = rn_read_u16(&r); break;
			case 2: got = rn_read_u32(&r); break;
			default: got = rn_read_u64(&r); break;
			}
			PCHECK(got == vals[i], seed, it);
		}
		PCHECK(r.err == 0 && rn_reader_left(&r) == 0, seed, it);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writer_layout),
		cmocka_unit_test(test_writer_overflow),
		cmocka_unit_test(test_reader_basic),
		cmocka_unit_test(test_reader_sticky),
		cmocka_unit_test(test_reader_property),
		cmocka_unit_test(test_round_trip_property),
	};
	printf("# RN_TEST_SEED=%llu\n", (unsigned long long)rn_test_seed());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
