/* Unit tests for core/id.c: 160-bit ring arithmetic, text forms, hashing.
 *
 * Arithmetic is checked against a reference on five 32-bit limbs (a
 * different algorithm from the byte-wise code under test), text forms
 * against bit-by-bit encoders and RFC 4648 vectors, hashing against
 * libsodium's one-shot BLAKE2b over the concatenated keys. */
#include "test_util.h"

#include <sodium.h>

#include "core/err.h"
#include "core/id.h"

#define ITERS 20000

/* ---- reference: 5 big-endian 32-bit limbs ------------------------------ */

typedef struct ref160 {
	uint32_t w[5]; /* w[0] most significant */
} ref160;

static ref160 to_ref(const rn_id *a)
{
	ref160 r;
	for (int i = 0; i < 5; i++)
		r.w[i] = (uint32_t)a->b[4 * i] << 24 |
			 (uint32_t)a->b[4 * i + 1] << 16 |
			 (uint32_t)a->b[4 * i + 2] << 8 | a->b[4 * i + 3];
	return r;
}

static rn_id from_ref(const ref160 *r)
{
	rn_id a;
	for (int i = 0; i < 5; i++) {
		a.b[4 * i] = (uint8_t)(r->w[i] >> 24);
		a.b[4 * i + 1] = (uint8_t)(r->w[i] >> 16);
		a.b[4 * i + 2] = (uint8_t)(r->w[i] >> 8);
		a.b[4 * i + 3] = (uint8_t)r->w[i];
	}
	return a;
}

static ref160 ref_add(ref160 a, ref160 b)
{
	ref160 r;
	uint64_t c = 0;
	for (int i = 4; i >= 0; i--) {
		c += (uint64_t)a.w[i] + b.w[i];
		r.w[i] = (uint32_t)c;
		c >>= 32;
	}
	return r;
}

static ref160 ref_neg(ref160 a)
{
	ref160 one = {{0, 0, 0, 0, 1}};
	for (int i = 0; i < 5; i++)
		a.w[i] = ~a.w[i];
	return ref_add(a, one);
}

static ref160 ref_sub(ref160 a, ref160 b) { return ref_add(a, ref_neg(b)); }

static int ref_cmp(ref160 a, ref160 b)
{
	for (int i = 0; i < 5; i++)
		if (a.w[i] != b.w[i])
			return a.w[i] < b.w[i] ? -1 : 1;
	return 0;
}

static ref160 ref_pow2(unsigned k)
{
	ref160 r = {{0, 0, 0, 0, 0}};
	r.w[4 - k / 32] = 1u << (k % 32);
	return r;
}

static int ref_log2(ref160 a)
{
	for (int bit = 159; bit >= 0; bit--)
		if (a.w[4 - bit / 32] >> (bit % 32) & 1u)
			return bit;
	return -1;
}

static int sign(int x) { return (x > 0) - (x < 0); }

/* Random ids with a bias towards edge values (all 0x00 / 0xff runs). */
static void rand_id(trng *r, rn_id *a)
{
	trng_bytes(r, a->b, RN_ID_LEN);
	switch (trng_below(r, 8)) {
	case 0:
		memset(a->b, 0, trng_below(r, RN_ID_LEN + 1));
		break;
	case 1:
		memset(a->b, 0xff, trng_below(r, RN_ID_LEN + 1));
		break;
	case 2: {
		size_t k = trng_below(r, RN_ID_LEN + 1);
		memset(a->b + k, 0, RN_ID_LEN - k);
		break;
	}
	case 3: {
		size_t k = trng_below(r, RN_ID_LEN + 1);
		memset(a->b + k, 0xff, RN_ID_LEN - k);
		break;
	}
	default:
		break;
	}
}

static int id_eq(const rn_id *a, const rn_id *b)
{
	return memcmp(a->b, b->b, RN_ID_LEN) == 0;
}

/* ---- tests --------------------------------------------------------- */

static void test_cmp_and_zero(void **state)
{
	(void)state;
	uint64_t seed = rn_test_seed();
	trng r;
	trng_init(&r, seed);
	rn_id z;
	memset(&z, 0, sizeof z);
	assert_true(rn_id_is_zero(&z));
	for (int i = 0; i < RN_ID_LEN; i++) {
		rn_id a = z;
		a.b[i] = 0x01;
		assert_false(rn_id_is_zero(&a));
		a.b[i] = 0x80;
		assert_false(rn_id_is_zero(&a));
	}
	for (uint64_t it = 0; it < ITERS; it++) {
		rn_id a, b;
		rand_id(&r, &a);
		if (trng_below(&r, 4) == 0)
			b = a;
		else
			rand_id(&r, &b);
		int want = ref_cmp(to_ref(&a), to_ref(&b));
		PCHECK(sign(rn_id_cmp(&a, &b)) == want, seed, it);
		PCHECK(sign(rn_id_cmp(&b, &a)) == -want, seed, it);
	}
}

static void test_add_sub_vs_reference(void **state)
{
	(void)state;
	uint64_t seed = rn_test_seed();
	trng r;
	trng_init(&r, seed);
	for (uint64_t it = 0; it < ITERS; it++) {
		rn_id a, b, s, d, back, want;
		rand_id(&r, &a);
		rand_id(&r, &b);
		ref160 ra = to_ref(&a), rb = to_ref(&b);

		rn_id_add(&s, &a, &b);
		ref160 rs = ref_add(ra, rb);
		want = from_ref(&rs);
		PCHECK(id_eq(&s, &want), seed, it);

		rn_id_sub(&d, &a, &b);
		ref160 rd = ref_sub(ra, rb);
		want = from_ref(&rd);
		PCHECK(id_eq(&d, &want), seed, it);

		/* algebra: (a + b) - b == a, (a - b) + b == a */
		rn_id_sub(&back, &s, &b);
		PCHECK(id_eq(&back, &a), seed, it);
		rn_id_add(&back, &d, &b);
		PCHECK(id_eq(&back, &a), seed, it);

		/* aliasing: r may be a or b */
		rn_id x = a;
		rn_id_add(&x, &x, &b);
		PCHECK(id_eq(&x, &s), seed, it);
		x = b;
		rn_id_add(&x, &a, &x);
		PCHECK(id_eq(&x, &s), seed, it);
		x = a;
		rn_id_sub(&x, &x, &b);
		PCHECK(id_eq(&x, &d), seed, it);
		x = b;
		rn_id_sub(&x, &a, &x);
		PCHECK(id_eq(&x, &d), seed, it);
	}
}

static void test_add_sub_edges(void **state)
{
	(void)state;
	rn_id zero, max, one, r;
	memset(&zero, 0, sizeof zero);
	memset(&max, 0xff, sizeof max);
	one = zero;
	one.b[RN_ID_LEN - 1] = 1;
	/* 2^160 - 1 + 1 wraps to 0 */
	rn_id_add(&r, &max, &one);
	assert_true(rn_id_is_zero(&r));
	/* 0 - 1 wraps to 2^160 - 1 */
	rn_id_sub(&r, &zero, &one);
	assert_memory_equal(r.b, max.b, RN_ID_LEN);
	/* carry across every byte: 0x00ff..ff + 1 = 0x0100..00 */
	rn_id a = max;
	a.b[0] = 0;
	rn_id_add(&r, &a, &one);
	rn_id want = zero;
	want.b[0] = 1;
	assert_memory_equal(r.b, want.b, RN_ID_LEN);
	/* and the borrow back */
	rn_id_sub(&r, &want, &one);
	assert_memory_equal(r.b, a.b, RN_ID_LEN);
}

static void test_pow2(void **state)
{
	(void)state;
	uint64_t seed = rn_test_seed();
	trng r;
	trng_init(&r, seed);
	rn_id zero;
	memset(&zero, 0, sizeof zero);
	for (unsigned k = 0; k < RN_ID_BITS; k++) {
		rn_id p;
		rn_id_add_pow2(&p, &zero, k);
		assert_int_equal(rn_id_log2(&p), (int)k);
		/* exactly one bit set, in byte 19 - k/8 */
		for (int i = 0; i < RN_ID_LEN; i++)
			assert_int_equal(p.b[i], i == RN_ID_LEN - 1 - (int)(k / 8)
							 ? (1u << (k % 8))
							 : 0u);
	}
	for (uint64_t it = 0; it < ITERS; it++) {
		rn_id a, s, d;
		rand_id(&r, &a);
		unsigned k = (unsigned)trng_below(&r, RN_ID_BITS);
		ref160 ra = to_ref(&a), pk = ref_pow2(k);
		rn_id_add_pow2(&s, &a, k);
		ref160 rs = ref_add(ra, pk);
		rn_id want = from_ref(&rs);
		PCHECK(id_eq(&s, &want), seed, it);
		rn_id_sub_pow2(&d, &a, k);
		ref160 rd = ref_sub(ra, pk);
		want = from_ref(&rd);
		PCHECK(id_eq(&d, &want), seed, it);
		rn_id x = a; /* aliasing */
		rn_id_add_pow2(&x, &x, k);
		PCHECK(id_eq(&x, &s), seed, it);
	}
}

static void test_distances(void **state)
{
	(void)state;
	uint64_t seed = rn_test_seed();
	trng r;
	trng_init(&r, seed);
	ref160 half = ref_pow2(159);
	for (uint64_t it = 0; it < ITERS; it++) {
		rn_id a, b, cw, sd;
		rand_id(&r, &a);
		switch (trng_below(&r, 6)) {
		case 0:
			b = a;
			break;
		case 1: { /* exactly half the ring away */
			ref160 rb = ref_add(to_ref(&a), half);
			b = from_ref(&rb);
			break;
		}
		case 2: { /* half the ring plus or minus one */
			ref160 one = {{0, 0, 0, 0, 1}};
			ref160 rb = ref_add(to_ref(&a), half);
			rb = trng_below(&r, 2) ? ref_add(rb, one) : ref_sub(rb, one);
			b = from_ref(&rb);
			break;
		}
		default:
			rand_id(&r, &b);
		}
		ref160 ra = to_ref(&a), rb = to_ref(&b);
		ref160 rcw = ref_sub(rb, ra), rccw = ref_sub(ra, rb);

		rn_id_dist_cw(&cw, &a, &b);
		rn_id want = from_ref(&rcw);
		PCHECK(id_eq(&cw, &want), seed, it);

		int dir = rn_id_dist_signed(&sd, &a, &b);
		int want_dir;
		ref160 want_d;
		if (ref_cmp(rcw, (ref160){{0, 0, 0, 0, 0}}) == 0) {
			want_dir = 0;
			want_d = rcw;
		} else if (ref_cmp(rcw, rccw) <= 0) { /* half: clockwise wins */
			want_dir = 1;
			want_d = rcw;
		} else {
			want_dir = -1;
			want_d = rccw;
		}
		want = from_ref(&want_d);
		PCHECK(dir == want_dir, seed, it);
		PCHECK(id_eq(&sd, &want), seed, it);
		/* the short way is never more than half the ring */
		PCHECK(ref_cmp(to_ref(&sd), half) <= 0, seed, it);
	}
	/* the tie at exactly half the ring goes clockwise, both ways round */
	rn_id a, b, d;
	memset(&a, 0, sizeof a);
	b = a;
	b.b[0] = 0x80;
	assert_int_equal(rn_id_dist_signed(&d, &a, &b), 1);
	assert_memory_equal(d.b, b.b, RN_ID_LEN);
	assert_int_equal(rn_id_dist_signed(&d, &b, &a), 1);
	assert_memory_equal(d.b, b.b, RN_ID_LEN);
}

static void test_log2_top64(void **state)
{
	(void)state;
	uint64_t seed = rn_test_seed();
	trng r;
	trng_init(&r, seed);
	rn_id z;
	memset(&z, 0, sizeof z);
	assert_int_equal(rn_id_log2(&z), -1);
	for (uint64_t it = 0; it < ITERS; it++) {
		rn_id a;
		rand_id(&r, &a);
		/* thin out the high bytes so every log2 value shows up */
		size_t lead = trng_below(&r, RN_ID_LEN);
		memset(a.b, 0, lead);
		PCHECK(rn_id_log2(&a) == ref_log2(to_ref(&a)), seed, it);
		uint64_t top = 0;
		for (int i = 0; i < 8; i++)
			top = top * 256u + a.b[i];
		PCHECK(rn_id_top64(&a) == top, seed, it);
	}
}

static void test_frac(void **state)
{
	(void)state;
	uint64_t seed = rn_test_seed();
	trng r;
	trng_init(&r, seed);
	rn_id a;
	memset(&a, 0, sizeof a);
	assert_true(rn_id_frac(&a) == 0.0);
	a.b[0] = 0x80;
	assert_true(rn_id_frac(&a) == 0.5);
	a.b[0] = 0x40;
	assert_true(rn_id_frac(&a) == 0.25);

	rn_id_from_frac(&a, 0.5);
	rn_id want;
	memset(&want, 0, sizeof want);
	want.b[0] = 0x80;
	assert_memory_equal(a.b, want.b, RN_ID_LEN);
	rn_id_from_frac(&a, 0.75);
	want.b[0] = 0xc0;
	assert_memory_equal(a.b, want.b, RN_ID_LEN);
	rn_id_from_frac(&a, 0.0);
	assert_true(rn_id_is_zero(&a));
	rn_id_from_frac(&a, -0.5);
	assert_true(rn_id_is_zero(&a));

	for (uint64_t it = 0; it < ITERS; it++) {
		rn_id x, y;
		rand_id(&r, &x);
		/* ids within 2^-53 of the top are test_frac_range's business */
		if (rn_id_top64(&x) >= UINT64_MAX - 4096)
			continue;
		double f = rn_id_frac(&x);
		PCHECK(f >= 0.0 && f < 1.0, seed, it);
		/* frac and from_frac agree to double precision (53 bits) */
		rn_id_from_frac(&y, f);
		uint64_t tx = rn_id_top64(&x), ty = rn_id_top64(&y);
		uint64_t diff = tx > ty ? tx - ty : ty - tx;
		PCHECK(diff <= (1ull << 12), seed, it);
		/* the low 96 bits are zero */
		for (int i = 8; i < RN_ID_LEN; i++)
			PCHECK(y.b[i] == 0, seed, it);
		/* monotone */
		rn_id w;
		rand_id(&r, &w);
		if (rn_id_top64(&x) < rn_id_top64(&w))
			PCHECK(rn_id_frac(&x) <= rn_id_frac(&w), seed, it);
	}
}

/* id.h: "a as a fraction of the ring, in [0, 1)" -- also for the ids just
 * below 2^160, whose top 64 bits do not fit a double's mantissa. */
static void test_frac_range(void **state)
{
	(void)state;
	rn_id a;
	memset(&a, 0xff, sizeof a);
	double f = rn_id_frac(&a);
	if (!(f < 1.0))
		fail_msg("rn_id_frac(ff..ff) = %.17g, not below 1", f);
	assert_true(f > 0.999999);
	memset(&a, 0, sizeof a);
	memset(a.b, 0xff, 7);
	a.b[7] = 0xfc; /* top64 = 2^64 - 4: rounds to 2^64 as a double */
	f = rn_id_frac(&a);
	if (!(f < 1.0))
		fail_msg("rn_id_frac(ff..fc00..) = %.17g, not below 1", f);
}

/* Bit-by-bit base32 (RFC 4648 alphabet, lower case). */
static void ref_b32(const rn_id *a, char out[RN_ID_B32_LEN + 1])
{
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyz234567";
	for (int c = 0; c < RN_ID_B32_LEN; c++) {
		unsigned v = 0;
		for (int j = 0; j < 5; j++) {
			int bit = c * 5 + j;
			v = v << 1 | ((unsigned)a->b[bit / 8] >> (7 - bit % 8) & 1u);
		}
		out[c] = alpha[v];
	}
	out[RN_ID_B32_LEN] = '\0';
}

static void test_hex(void **state)
{
	(void)state;
	uint64_t seed = rn_test_seed();
	trng r;
	trng_init(&r, seed);
	char hex[RN_ID_HEX_LEN + 1], want[RN_ID_HEX_LEN + 1];
	for (uint64_t it = 0; it < ITERS; it++) {
		rn_id a, b;
		rand_id(&r, &a);
		memset(hex, 'X', sizeof hex);
		rn_id_to_hex(&a, hex);
		for (int i = 0; i < RN_ID_LEN; i++)
			snprintf(want + 2 * i, 3, "%02x", a.b[i]);
		PCHECK(strcmp(hex, want) == 0, seed, it);
		memset(&b, 0x5a, sizeof b);
		PCHECK(rn_id_from_hex(&b, hex, RN_ID_HEX_LEN) == 0, seed, it);
		PCHECK(id_eq(&a, &b), seed, it);
		/* upper case parses to the same id */
		for (int i = 0; i < RN_ID_HEX_LEN; i++)
			if (hex[i] >= 'a' && hex[i] <= 'f')
				hex[i] = (char)(hex[i] - 'a' + 'A');
		memset(&b, 0x5a, sizeof b);
		PCHECK(rn_id_from_hex(&b, hex, RN_ID_HEX_LEN) == 0, seed, it);
		PCHECK(id_eq(&a, &b), seed, it);
		/* one bad character anywhere is refused */
		static const char bad[] = "gGzZ -:/@`\x7f";
		size_t pos = trng_below(&r, RN_ID_HEX_LEN);
		hex[pos] = bad[trng_below(&r, sizeof bad - 1)];
		PCHECK(rn_id_from_hex(&b, hex, RN_ID_HEX_LEN) == RN_ERR_INVAL,
		       seed, it);
	}
	rn_id a;
	memset(&a, 0, sizeof a);
	rn_id_to_hex(&a, hex);
	assert_int_equal(rn_id_from_hex(&a, hex, RN_ID_HEX_LEN - 1), RN_ERR_INVAL);
	assert_int_equal(rn_id_from_hex(&a, "00", 2), RN_ERR_INVAL);
	char longer[RN_ID_HEX_LEN + 3];
	memset(longer, '0', sizeof longer - 1);
	longer[sizeof longer - 1] = '\0';
	assert_int_equal(rn_id_from_hex(&a, longer, RN_ID_HEX_LEN + 2),
			 RN_ERR_INVAL);
	assert_int_equal(rn_id_from_hex(&a, "", 0), RN_ERR_INVAL);
}

static void test_b32(void **state)
{
	(void)state;
	uint64_t seed = rn_test_seed();
	trng r;
	trng_init(&r, seed);
	char s[RN_ID_B32_LEN + 1], want[RN_ID_B32_LEN + 1];

	/* RFC 4648 section 10: BASE32("fooba") = "MZXW6YTB" */
	rn_id a;
	memcpy(a.b, "foobafoobafoobafooba", RN_ID_LEN);
	rn_id_to_b32(&a, s);
	assert_string_equal(s, "mzxw6ytbmzxw6ytbmzxw6ytbmzxw6ytb");
	memset(a.b, 0, RN_ID_LEN);
	rn_id_to_b32(&a, s);
	assert_string_equal(s, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	memset(a.b, 0xff, RN_ID_LEN);
	rn_id_to_b32(&a, s);
	assert_string_equal(s, "77777777777777777777777777777777");

	for (uint64_t it = 0; it < ITERS; it++) {
		rn_id b;
		rand_id(&r, &a);
		rn_id_to_b32(&a, s);
		ref_b32(&a, want);
		PCHECK(strcmp(s, want) == 0, seed, it);
		memset(&b, 0x5a, sizeof b);
		PCHECK(rn_id_from_b32(&b, s, RN_ID_B32_LEN) == 0, seed, it);
		PCHECK(id_eq(&a, &b), seed, it);
		for (int i = 0; i < RN_ID_B32_LEN; i++)
			if (s[i] >= 'a' && s[i] <= 'z')
				s[i] = (char)(s[i] - 'a' + 'A');
		memset(&b, 0x5a, sizeof b);
		PCHECK(rn_id_from_b32(&b, s, RN_ID_B32_LEN) == 0, seed, it);
		PCHECK(id_eq(&a, &b), seed, it);
		static const char bad[] = "0189=-_ @[{";
		s[trng_below(&r, RN_ID_B32_LEN)] = bad[trng_below(&r, sizeof bad - 1)];
		PCHECK(rn_id_from_b32(&b, s, RN_ID_B32_LEN) == RN_ERR_INVAL, seed,
		       it);
	}
	assert_int_equal(rn_id_from_b32(&a, "aaaa", 4), RN_ERR_INVAL);
	assert_int_equal(rn_id_from_b32(&a, "", 0), RN_ERR_INVAL);
}

static void test_hash(void **state)
{
	(void)state;
	assert_true(sodium_init() >= 0);
	uint64_t seed = rn_test_seed();
	trng r;
	trng_init(&r, seed);
	uint8_t buf[96];
	for (uint64_t it = 0; it < 2000; it++) {
		size_t n = trng_below(&r, sizeof buf + 1);
		trng_bytes(&r, buf, n);
		size_t c1 = trng_below(&r, n + 1);
		size_t c2 = c1 + trng_below(&r, n - c1 + 1);
		uint8_t want[RN_ID_LEN];
		crypto_generichash(want, RN_ID_LEN, buf, n, NULL, 0);
		rn_id id;
		rn_id_hash(&id, c1 ? buf : NULL, c1, c2 > c1 ? buf + c1 : NULL,
			   c2 - c1, n > c2 ? buf + c2 : NULL, n - c2);
		PCHECK(memcmp(id.b, want, RN_ID_LEN) == 0, seed, it);
	}
	/* the node id recipe: BLAKE2b-160(group_id || vip) differs per vip */
	uint8_t group[32] = {1}, v1[4] = {10, 0, 0, 1}, v2[4] = {10, 0, 0, 2};
	rn_id a, b;
	rn_id_hash(&a, group, 32, v1, 4, NULL, 0);
	rn_id_hash(&b, group, 32, v2, 4, NULL, 0);
	assert_int_not_equal(rn_id_cmp(&a, &b), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmp_and_zero),
		cmocka_unit_test(test_add_sub_vs_reference),
		cmocka_unit_test(test_add_sub_edges),
		cmocka_unit_test(test_pow2),
		cmocka_unit_test(test_distances),
		cmocka_unit_test(test_log2_top64),
		cmocka_unit_test(test_frac),
		cmocka_unit_test(test_frac_range),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_b32),
		cmocka_unit_test(test_hash),
	};
	printf("# RN_TEST_SEED=%llu\n", (unsigned long long)rn_test_seed());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
