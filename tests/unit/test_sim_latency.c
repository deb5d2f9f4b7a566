/* Unit tests for sim/latency.c: loading a square TAB-separated RTT matrix
 * (plain or gzip, through zlib), the errors for bad input (which must name
 * the file, and the line where there is one), and the synthetic model.
 * Matrix files are written to /tmp with mkstemp and removed afterwards. */
#include "test_util.h"

#include <math.h>
#include <unistd.h>
#include <zlib.h>

#include "sim/latency.h"

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

#define TMPL "/tmp/test_sim_latency_XXXXXX"

static const uint8_t SEED[RN_PRNG_SEED_LEN] = {
	0x6c, 0x61, 0x74, 0x65, 0x6e, 0x63, 0x79, 0x00, 0x11, 0x22, 0x33,
	0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee,
	0xff, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90};

/* Writes text to a new temp file; path receives its name. */
static void write_plain(char *path, const char *text)
{
	strcpy(path, TMPL);
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	size_t len = strlen(text), off = 0;
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);
		assert_true(w > 0);
		off += (size_t)w;
	}
	assert_int_equal(close(fd), 0);
}

/* The same, gzip-compressed. */
static void write_gz(char *path, const char *text)
{
	strcpy(path, TMPL);
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(close(fd), 0);
	gzFile f = gzopen(path, "wb");
	assert_non_null(f);
	/* gzprintf is bounded by zlib's internal buffer (8 KiB by default),
	 * so long texts go through gzwrite */
	size_t len = strlen(text);
	if (len < 4096)
		assert_true(gzprintf(f, "%s", text) == (int)len);
	else
		assert_true(gzwrite(f, text, (unsigned)len) == (int)len);
	assert_int_equal(gzclose(f), Z_OK);
	/* really compressed: starts with the gzip magic */
	FILE *raw = fopen(path, "rb");
	assert_non_null(raw);
	unsigned char magic[2] = {0, 0};
	assert_int_equal(fread(magic, 1, 2, raw), 2);
	fclose(raw);
	assert_int_equal(magic[0], 0x1f);
	assert_int_equal(magic[1], 0x8b);
}

/* 3x3, deliberately asymmetric so that a transposed load shows. All values
 * are exact in binary floating point. */
static const char M3[] = "0.5\t12.25\t100\n"
			 "13.5\t0.25\t40.75\n"
			 "99\t41\t0\n";
static const float M3V[3][3] = {
	{0.5f, 12.25f, 100.0f}, {13.5f, 0.25f, 40.75f}, {99.0f, 41.0f, 0.0f}};

static void check_m3(const sim_latency *lat)
{
	assert_int_equal(lat->hosts, 3);
	assert_int_equal(lat->from_file, 1);
	assert_non_null(lat->rtt_ms);
	for (uint32_t i = 0; i < 3; i++)
		for (uint32_t j = 0; j < 3; j++) {
			assert_true(lat->rtt_ms[i * 3 + j] == M3V[i][j]);
			assert_near(sim_latency_oneway_ms(lat, i, j),
					    (double)M3V[i][j] / 2.0, 1e-12);
		}
}

static void test_plain_3x3(void **state)
{
	(void)state;
	char path[] = TMPL, err[256] = "";
	write_plain(path, M3);
	sim_latency lat;
	int rc = sim_latency_load(&lat, path, NULL, err, sizeof err);
	unlink(path);
	if (rc)
		print_error("load failed: %s\n", err);
	assert_int_equal(rc, 0);
	check_m3(&lat);
	sim_latency_free(&lat);
	assert_null(lat.rtt_ms);
	sim_latency_free(&lat); /* harmless twice */
}

static void test_gzip_3x3(void **state)
{
	(void)state;
	char path[] = TMPL, err[256] = "";
	write_gz(path, M3);
	sim_latency lat;
	int rc = sim_latency_load(&lat, path, NULL, err, sizeof err);
	unlink(path);
	if (rc)
		print_error("load failed: %s\n", err);
	assert_int_equal(rc, 0);
	check_m3(&lat);
	sim_latency_free(&lat);
}

/* Spaces as well as TABs, CRLF line ends, no final newline, trailing blank
 * lines: all still the same 3x3 matrix. */
static void test_lenient_whitespace(void **state)
{
	(void)state;
	static const char *const texts[] = {
		"0.5\t12.25\t100\r\n13.5\t0.25\t40.75\r\n99\t41\t0\r\n",
		"0.5\t12.25\t100\n13.5\t0.25\t40.75\n99\t41\t0",
		"0.5\t12.25\t100\t\n13.5\t0.25\t40.75\t\n99\t41\t0\t\n\n\n",
		"0.5 12.25  100\n 13.5\t 0.25 40.75\n99\t41\t0\n",
	};
	for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++) {
		char path[] = TMPL, err[256] = "";
		write_plain(path, texts[k]);
		sim_latency lat;
		int rc = sim_latency_load(&lat, path, NULL, err, sizeof err);
		unlink(path);
		if (rc)
			print_error("text %zu: load failed: %s\n", k, err);
		assert_int_equal(rc, 0);
		check_m3(&lat);
		sim_latency_free(&lat);
	}
}

/* A bigger matrix, gzipped, generated here: value (i, j) = i * 1000 + j
 * (scaled to stay under the loader's sanity bound). */
static void test_gzip_big(void **state)
{
	(void)state;
	const uint32_t n = 300;
	size_t cap = (size_t)n * n * 12 + 1, len = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < n; j++)
			len += (size_t)snprintf(text + len, cap - len, "%u.%u%c",
						i, j % 10, j + 1 == n ? '\n' : '\t');
	char path[] = TMPL, err[256] = "";
	write_gz(path, text);
	free(text);
	sim_latency lat;
	int rc = sim_latency_load(&lat, path, NULL, err, sizeof err);
	unlink(path);
	if (rc)
		print_error("load failed: %s\n", err);
	assert_int_equal(rc, 0);
	assert_int_equal(lat.hosts, n);
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < n; j++) {
			double want = (double)i + (double)(j % 10) / 10.0;
			assert_near(lat.rtt_ms[(size_t)i * n + j], want,
					    1e-3);
			assert_near(sim_latency_oneway_ms(&lat, i, j),
					    want / 2.0, 1e-3);
		}
	sim_latency_free(&lat);
}

/* Loads text (plain or gzipped) and expects failure with every needle in
 * the message; the file name is always one of them. */
static void expect_error(const char *text, int gz, const char *const *needles,
			 size_t nneedles)
{
	char path[] = TMPL, err[512];
	if (gz)
		write_gz(path, text);
	else
		write_plain(path, text);
	memset(err, 0, sizeof err);
	sim_latency lat;
	int rc = sim_latency_load(&lat, path, NULL, err, sizeof err);
	unlink(path);
	if (rc == 0) {
		print_error("loaded bad matrix %s: \"%s\"\n", gz ? "(gz)" : "",
			    text);
		sim_latency_free(&lat);
	}
	assert_int_equal(rc, -1);
	int ok = strstr(err, path) != NULL;
	for (size_t i = 0; i < nneedles; i++)
		if (!strstr(err, needles[i]))
			ok = 0;
	if (!ok) {
		print_error("error message \"%s\" for \"%s\" should name %s",
			    err, text, path);
		for (size_t i = 0; i < nneedles; i++)
			print_error(" and \"%s\"", needles[i]);
		print_error("\n");
	}
	assert_true(ok);
}

#define EXPECT_ERROR(text, gz, ...)                                            \
	do {                                                                   \
		static const char *const nd_[] = {__VA_ARGS__};                \
		expect_error(text, gz, nd_, sizeof nd_ / sizeof nd_[0]);       \
	} while (0)

static void test_ragged(void **state)
{
	(void)state;
	EXPECT_ERROR("1\t2\t3\n4\t5\n6\t7\t8\n", 0, ":2:");
	EXPECT_ERROR("1\t2\t3\n4\t5\t6\n6\t7\t8\t9\n", 0, ":3:");
	EXPECT_ERROR("1\t2\t3\n4\t5\n6\t7\t8\n", 1, ":2:");
}

static void test_not_a_number(void **state)
{
	(void)state;
	EXPECT_ERROR("1\t2\t3\n4\t5\t6\n7\tx\t9\n", 0, ":3:", "column 2");
	EXPECT_ERROR("abc\t2\n3\t4\n", 0, ":1:", "column 1");
	EXPECT_ERROR("1\t2\n3\t4ms\n", 0, ":2:");
	EXPECT_ERROR("1\t-2\n3\t4\n", 0, ":1:", "column 2");
	EXPECT_ERROR("1\tnan\n3\t4\n", 0, ":1:", "column 2");
	EXPECT_ERROR("1\t2\n3,5\t4\n", 0, ":2:");
	EXPECT_ERROR("1\t2\t3\n4\t5\t6\n7\tx\t9\n", 1, ":3:", "column 2");
}

static void test_not_square(void **state)
{
	(void)state;
	EXPECT_ERROR("1\t2\t3\n4\t5\t6\n", 0, "square");
	EXPECT_ERROR("1\t2\n3\t4\n5\t6\n", 0, "square");
	EXPECT_ERROR("7\n", 0, "square"); /* 1x1 is too small */
	EXPECT_ERROR("1\t2\t3\n4\t5\t6\n", 1, "square");
}

static void test_empty(void **state)
{
	(void)state;
	EXPECT_ERROR("", 0, "");
	EXPECT_ERROR("\n\n  \n", 0, "");
	EXPECT_ERROR("", 1, "");
}

static void test_nonexistent(void **state)
{
	(void)state;
	/* a fresh temp name, removed again, certainly does not exist */
	char path[] = TMPL, err[512] = "";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(unlink(path), 0);
	sim_latency lat;
	assert_int_equal(sim_latency_load(&lat, path, NULL, err, sizeof err),
			 -1);
	if (!strstr(err, path))
		print_error("error \"%s\" should name %s\n", err, path);
	assert_non_null(strstr(err, path));
}

/* A blank line in the middle is skipped, but a later error must still name
 * the line as it is in the file. */
static void test_line_number_after_blank(void **state)
{
	(void)state;
	EXPECT_ERROR("1\t2\t3\n\n4\t5\t6\n7\tx\t9\n", 0, ":4:");
	EXPECT_ERROR("1\t2\t3\n\n\n4\t5\n7\t8\t9\n", 0, ":4:");
}

static void test_synthetic(void **state)
{
	(void)state;
	rn_prng p;
	rn_prng_seed(&p, SEED);
	char err[256] = "";
	sim_latency lat;
	int rc = sim_latency_load(&lat, NULL, &p, err, sizeof err);
	if (rc)
		print_error("synthetic failed: %s\n", err);
	assert_int_equal(rc, 0);
	assert_int_equal(lat.hosts, 490);
	assert_int_equal(lat.from_file, 0);
	const uint32_t h = lat.hosts;
	double mn = INFINITY, mx = -INFINITY;
	for (uint32_t i = 0; i < h; i++) {
		double d = lat.rtt_ms[(size_t)i * h + i];
		assert_true(d >= 0.0 && d < 1.0); /* diagonal small */
		for (uint32_t j = 0; j < h; j++) {
			double v = lat.rtt_ms[(size_t)i * h + j];
			if (!(v > 0.0 && v < 400.0))
				print_error("rtt[%u][%u] = %g\n", i, j, v);
			assert_true(v > 0.0 && v < 400.0);
			assert_true(v == lat.rtt_ms[(size_t)j * h + i]);
			assert_near(sim_latency_oneway_ms(&lat, i, j),
					    v / 2.0, 1e-9);
			if (i != j) {
				/* 10 ms base, as latency.h documents */
				assert_true(v >= 10.0);
				if (v < mn)
					mn = v;
				if (v > mx)
					mx = v;
			}
		}
	}
	/* 490 points in a unit square spread out: some pairs near, some far */
	assert_true(mn < 20.0);
	assert_true(mx > 200.0);

	/* same seed, same matrix; another seed, another one */
	rn_prng q;
	rn_prng_seed(&q, SEED);
	sim_latency again;
	assert_int_equal(sim_latency_load(&again, NULL, &q, err, sizeof err), 0);
	assert_int_equal(again.hosts, h);
	assert_memory_equal(again.rtt_ms, lat.rtt_ms,
			    (size_t)h * h * sizeof *lat.rtt_ms);
	sim_latency_free(&again);
	uint8_t seed2[RN_PRNG_SEED_LEN];
	memcpy(seed2, SEED, sizeof seed2);
	seed2[0] ^= 1;
	rn_prng_seed(&q, seed2);
	assert_int_equal(sim_latency_load(&again, NULL, &q, err, sizeof err), 0);
	assert_memory_not_equal(again.rtt_ms, lat.rtt_ms,
				(size_t)h * h * sizeof *lat.rtt_ms);
	sim_latency_free(&again);
	sim_latency_free(&lat);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_3x3),
		cmocka_unit_test(test_gzip_3x3),
		cmocka_unit_test(test_lenient_whitespace),
		cmocka_unit_test(test_gzip_big),
		cmocka_unit_test(test_ragged),
		cmocka_unit_test(test_not_a_number),
		cmocka_unit_test(test_not_square),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_nonexistent),
		cmocka_unit_test(test_line_number_after_blank),
		cmocka_unit_test(test_synthetic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
