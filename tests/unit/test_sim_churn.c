/* Unit tests for sim/churn.c: session-length specs, Weibull / Pareto
 * sampling parameterised by the median, and exponential gaps. Samples come
 * from the project PRNG (core/prng.h) with a fixed 32-byte seed, printed on
 * any statistical failure. Expected values are closed forms worked out here,
 * not outputs of the code under test. */
#include "test_util.h"

#include <math.h>

#include "sim/churn.h"

/* |got - want| <= eps in double precision (this cmocka has only the float
 * version of assert_double_equal). */
#define assert_near(got, want, eps)                                            \
	do {                                                                   \
		double g_ = (got), w_ = (want);                                \
		if (!(fabs(g_ - w_) <= (eps))) {                               \
			print_error("%s:%d: %s = %.17g, want %.17g +- %g\n",   \
				    __FILE__, __LINE__, #got, g_, w_,          \
				    (double)(eps));                            \
			fail();                                                \
		}                                                              \
	} while (0)

#define NSAMPLES 20000

static const uint8_t SEED[RN_PRNG_SEED_LEN] = {
	0x72, 0x69, 0x6e, 0x67, 0x6e, 0x65, 0x74, 0x2d, 0x63, 0x68, 0x75,
	0x72, 0x6e, 0x2d, 0x74, 0x65, 0x73, 0x74, 0x01, 0x02, 0x03, 0x04,
	0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e};

static void print_seed(void)
{
	char hex[2 * RN_PRNG_SEED_LEN + 1];
	for (int i = 0; i < RN_PRNG_SEED_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", SEED[i]);
	print_error("prng seed: %s\n", hex);
}

/* Statistical check: prints the values and the seed before failing. */
#define SCHECK(cond, what, got, want)                                          \
	do {                                                                   \
		if (!(cond)) {                                                 \
			print_error("%s:%d: %s: got %.6g, want %.6g (%s)\n",   \
				    __FILE__, __LINE__, what, (double)(got),   \
				    (double)(want), #cond);                    \
			print_seed();                                          \
			fail();                                                \
		}                                                              \
	} while (0)

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* NSAMPLES session lengths, sorted. */
static double *sorted_samples(const sim_session *s, rn_prng *p)
{
	double *v = malloc(NSAMPLES * sizeof *v);
	assert_non_null(v);
	for (int i = 0; i < NSAMPLES; i++)
		v[i] = sim_session_sample_s(s, p);
	qsort(v, NSAMPLES, sizeof *v, cmp_double);
	return v;
}

static double median_of_sorted(const double *v)
{
	return 0.5 * (v[NSAMPLES / 2 - 1] + v[NSAMPLES / 2]);
}

/* Fraction of sorted samples <= x. */
static double frac_le(const double *v, double x)
{
	size_t k = 0;
	while (k < NSAMPLES && v[k] <= x)
		k++;
	return (double)k / NSAMPLES;
}

static void test_parse_valid(void **state)
{
	(void)state;
	sim_session s;
	memset(&s, 0, sizeof s);
	assert_int_equal(sim_session_parse(&s, "weibull:0.5:900"), 0);
	assert_int_equal(s.kind, SIM_SESSION_WEIBULL);
	assert_true(s.shape == 0.5);
	assert_true(s.median_s == 900.0);

	memset(&s, 0, sizeof s);
	assert_int_equal(sim_session_parse(&s, "pareto:1.5:300"), 0);
	assert_int_equal(s.kind, SIM_SESSION_PARETO);
	assert_true(s.shape == 1.5);
	assert_true(s.median_s == 300.0);

	memset(&s, 0, sizeof s);
	assert_int_equal(sim_session_parse(&s, "weibull:2:1e3"), 0);
	assert_int_equal(s.kind, SIM_SESSION_WEIBULL);
	assert_true(s.shape == 2.0);
	assert_true(s.median_s == 1000.0);

	memset(&s, 0, sizeof s);
	assert_int_equal(sim_session_parse(&s, "pareto:3.25:0.5"), 0);
	assert_int_equal(s.kind, SIM_SESSION_PARETO);
	assert_true(s.shape == 3.25);
	assert_true(s.median_s == 0.5);

	/* Weibull shape below 1 is fine (heavy tail); Pareto just above 1 */
	assert_int_equal(sim_session_parse(&s, "weibull:0.1:60"), 0);
	assert_int_equal(sim_session_parse(&s, "pareto:1.01:60"), 0);
}

static void test_parse_invalid(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"",
		"weibull",
		"weibull:",
		"weibull:0.5",
		"weibull:0.5:",
		"weibull::900",
		":0.5:900",
		"weibull:0.5:900x",
		"weibull:0.5:900:1",
		"weibull:0.5:900 ",
		"weibull:0.5:900s",
		"weibull:0:900",
		"weibull:-0.5:900",
		"weibull:0.5:-900",
		"weibull:0.5:0",
		"weibull:abc:900",
		"weibull:0.5:abc",
		"weibull:nan:900",
		"weibull:0.5:nan",
		"weibull:inf:900",
		"weibull:0.5:inf",
		"pareto:1:300",
		"pareto:0.5:300",
		"pareto:-1.5:300",
		"pareto:1.5:-300",
		"pareto:1.5:0",
		"pareto:1.5",
		"gamma:2:900",
		"exponential:1:900",
		"weibull;0.5;900",
		"weibull 0.5 900",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		sim_session s = {SIM_SESSION_NONE, 0.0, 0.0};
		int rc = sim_session_parse(&s, bad[i]);
		if (rc != -1)
			print_error("accepted bad spec \"%s\"\n", bad[i]);
		assert_int_equal(rc, -1);
	}
}

/* Means in closed form, worked out independently:
 *   Weibull k=1 is exponential with rate ln2/m: mean m/ln2.
 *   Weibull k=2: scale m/sqrt(ln2), mean scale*Gamma(3/2) = scale*sqrt(pi)/2.
 *   Pareto a=2: x_min = m/sqrt(2), mean a*x_min/(a-1) = 2*x_min = m*sqrt(2).
 *   Pareto a=3: x_min = m/2^(1/3), mean 1.5*x_min. */
static void test_mean_closed_form(void **state)
{
	(void)state;
	const double pi = 3.14159265358979323846;
	sim_session w1 = {SIM_SESSION_WEIBULL, 1.0, 900.0};
	sim_session w2 = {SIM_SESSION_WEIBULL, 2.0, 900.0};
	sim_session p2 = {SIM_SESSION_PARETO, 2.0, 300.0};
	sim_session p3 = {SIM_SESSION_PARETO, 3.0, 300.0};
	assert_near(sim_session_mean_s(&w1), 900.0 / log(2.0), 1e-6);
	assert_near(sim_session_mean_s(&w2),
			    900.0 / sqrt(log(2.0)) * sqrt(pi) / 2.0, 1e-6);
	assert_near(sim_session_mean_s(&p2), 300.0 * sqrt(2.0), 1e-6);
	assert_near(sim_session_mean_s(&p3),
			    1.5 * 300.0 / cbrt(2.0), 1e-6);
}

static void test_weibull_median(void **state)
{
	(void)state;
	rn_prng p;
	rn_prng_seed(&p, SEED);
	sim_session s;
	assert_int_equal(sim_session_parse(&s, "weibull:0.5:900"), 0);
	double *v = sorted_samples(&s, &p);
	double med = median_of_sorted(v);
	SCHECK(fabs(med - 900.0) <= 0.05 * 900.0, "weibull(0.5,900) median",
	       med, 900.0);
	SCHECK(v[0] > 0.0, "weibull min", v[0], 0.0);
	/* CDF at 2m: 1 - exp(-ln2 * 2^k) = 1 - 2^(-sqrt 2) ~ 0.6248 */
	double want = 1.0 - pow(2.0, -sqrt(2.0));
	double got = frac_le(v, 1800.0);
	SCHECK(fabs(got - want) <= 0.015, "weibull(0.5,900) P(X<=1800)", got,
	       want);
	/* CDF at m/4: 1 - 2^(-(1/4)^0.5) = 1 - 2^-0.5 ~ 0.2929 */
	want = 1.0 - pow(2.0, -0.5);
	got = frac_le(v, 225.0);
	SCHECK(fabs(got - want) <= 0.015, "weibull(0.5,900) P(X<=225)", got,
	       want);
	free(v);
}

static void test_pareto_median(void **state)
{
	(void)state;
	rn_prng p;
	rn_prng_seed(&p, SEED);
	sim_session s;
	assert_int_equal(sim_session_parse(&s, "pareto:1.5:300"), 0);
	double *v = sorted_samples(&s, &p);
	double med = median_of_sorted(v);
	SCHECK(fabs(med - 300.0) <= 0.05 * 300.0, "pareto(1.5,300) median",
	       med, 300.0);
	/* support starts at x_min = 300 / 2^(2/3) */
	double xmin = 300.0 / pow(2.0, 1.0 / 1.5);
	SCHECK(v[0] >= xmin * (1.0 - 1e-9), "pareto min", v[0], xmin);
	SCHECK(v[0] <= xmin * 1.01, "pareto min near x_min", v[0], xmin);
	/* P(X > 4m) = (x_min / 4m)^a = (1/(2^(2/3) * 4))^1.5 = 1/16 */
	double got = 1.0 - frac_le(v, 1200.0);
	SCHECK(fabs(got - 0.0625) <= 0.008, "pareto(1.5,300) P(X>1200)", got,
	       0.0625);
	free(v);
}

static void test_weibull_mean(void **state)
{
	(void)state;
	rn_prng p;
	rn_prng_seed(&p, SEED);
	sim_session s;
	assert_int_equal(sim_session_parse(&s, "weibull:2:600"), 0);
	double sum = 0.0;
	for (int i = 0; i < NSAMPLES; i++)
		sum += sim_session_sample_s(&s, &p);
	double mean = sum / NSAMPLES;
	double want = sim_session_mean_s(&s);
	/* and the closed form, so a wrong mean_s cannot hide a wrong sampler */
	double closed = 600.0 / sqrt(log(2.0)) * sqrt(3.14159265358979323846) / 2.0;
	SCHECK(fabs(want - closed) <= 1e-6 * closed, "weibull(2,600) mean_s",
	       want, closed);
	SCHECK(fabs(mean - want) <= 0.10 * want, "weibull(2,600) sample mean",
	       mean, want);
}

static void test_exp_mean(void **state)
{
	(void)state;
	rn_prng p;
	rn_prng_seed(&p, SEED);
	static const double means[] = {0.25, 1.0, 37.5, 3600.0};
	for (size_t k = 0; k < sizeof means / sizeof means[0]; k++) {
		double sum = 0.0, mn = INFINITY;
		size_t below = 0;
		for (int i = 0; i < NSAMPLES; i++) {
			double x = sim_exp_sample(&p, means[k]);
			SCHECK(x >= 0.0 && isfinite(x), "exp sample", x,
			       means[k]);
			sum += x;
			if (x < mn)
				mn = x;
			if (x <= means[k] * log(2.0))
				below++;
		}
		double mean = sum / NSAMPLES;
		SCHECK(fabs(mean - means[k]) <= 0.03 * means[k],
		       "exponential sample mean", mean, means[k]);
		/* the median of an exponential is mean * ln 2 */
		double frac = (double)below / NSAMPLES;
		SCHECK(fabs(frac - 0.5) <= 0.015, "exponential P(X<=mean ln2)",
		       frac, 0.5);
	}
}

static void test_deterministic(void **state)
{
	(void)state;
	rn_prng a, b;
	rn_prng_seed(&a, SEED);
	rn_prng_seed(&b, SEED);
	sim_session w = {SIM_SESSION_WEIBULL, 0.7, 120.0};
	sim_session pa = {SIM_SESSION_PARETO, 2.5, 45.0};
	for (int i = 0; i < 1000; i++) {
		assert_true(sim_session_sample_s(&w, &a) ==
			    sim_session_sample_s(&w, &b));
		assert_true(sim_session_sample_s(&pa, &a) ==
			    sim_session_sample_s(&pa, &b));
		assert_true(sim_exp_sample(&a, 5.0) == sim_exp_sample(&b, 5.0));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_mean_closed_form),
		cmocka_unit_test(test_weibull_median),
		cmocka_unit_test(test_pareto_median),
		cmocka_unit_test(test_weibull_mean),
		cmocka_unit_test(test_exp_mean),
		cmocka_unit_test(test_deterministic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
