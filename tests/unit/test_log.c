/* Unit tests for core/log.c: level filtering, formatting through env->log,
 * and the token bucket of rn_log_limited. */
#include "test_util.h"

#include "core/env.h"
#include "core/log.h"

#define LINES_MAX 512

typedef struct capture {
	int n;
	int level[LINES_MAX];
	char line[LINES_MAX][600];
} capture;

static void cap_log(void *ctx, int level, const char *msg)
{
	capture *c = ctx;
	if (c->n < LINES_MAX) {
		c->level[c->n] = level;
		snprintf(c->line[c->n], sizeof c->line[0], "%s", msg);
	}
	c->n++;
}

static int setup(void **state)
{
	capture *c = calloc(1, sizeof *c);
	*state = c;
	return c ? 0 : -1;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static const rn_env cap_env = {.log = cap_log};

static void test_levels(void **state)
{
	capture *c = *state;
	rn_logger lg;
	rn_logger_init(&lg, &cap_env, c, RN_LOG_INFO);
	rn_log(&lg, RN_LOG_ERROR, "e %d", 1);
	rn_log(&lg, RN_LOG_WARN, "w %s", "two");
	rn_log(&lg, RN_LOG_INFO, "i %u", 3u);
	rn_log(&lg, RN_LOG_DEBUG, "d");
	rn_log(&lg, RN_LOG_TRACE, "t");
	assert_int_equal(c->n, 3);
	assert_string_equal(c->line[0], "e 1");
	assert_int_equal(c->level[0], RN_LOG_ERROR);
	assert_string_equal(c->line[1], "w two");
	assert_int_equal(c->level[1], RN_LOG_WARN);
	assert_string_equal(c->line[2], "i 3");
	assert_int_equal(c->level[2], RN_LOG_INFO);
	/* level -1 silences everything */
	rn_logger_init(&lg, &cap_env, c, -1);
	rn_log(&lg, RN_LOG_ERROR, "x");
	assert_int_equal(c->n, 3);
}

static void test_no_sink(void **state)
{
	(void)state;
	rn_logger lg;
	rn_env env;
	memset(&env, 0, sizeof env);
	rn_logger_init(&lg, &env, NULL, RN_LOG_TRACE);
	rn_log(&lg, RN_LOG_ERROR, "nobody listens");
	rn_log_limited(&lg, 0, RN_LOG_ERROR, "nobody listens");
	rn_logger_init(&lg, NULL, NULL, RN_LOG_TRACE);
	rn_log(&lg, RN_LOG_ERROR, "no env");
}

static void test_long_line(void **state)
{
	capture *c = *state;
	rn_logger lg;
	rn_logger_init(&lg, &cap_env, c, RN_LOG_TRACE);
	char big[2000];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	rn_log(&lg, RN_LOG_INFO, "%s", big);
	assert_int_equal(c->n, 1);
	size_t n = strlen(c->line[0]);
	assert_true(n > 100 && n < 512); /* truncated, terminated */
	for (size_t i = 0; i < n; i++)
		assert_int_equal(c->line[0][i], 'a');
}

static void test_limited_burst(void **state)
{
	capture *c = *state;
	rn_logger lg;
	rn_logger_init(&lg, &cap_env, c, RN_LOG_DEBUG);
	rn_time t0 = RN_MS(123456789);
	for (int i = 0; i < 25; i++)
		rn_log_limited(&lg, t0, RN_LOG_WARN, "flood %d", i);
	assert_int_equal(c->n, (int)RN_LOG_BURST);
	for (int i = 0; i < (int)RN_LOG_BURST; i++) {
		char want[32];
		snprintf(want, sizeof want, "flood %d", i);
		assert_string_equal(c->line[i], want);
	}
	/* less than a second later: still nothing */
	rn_log_limited(&lg, t0 + RN_MS(999), RN_LOG_WARN, "early");
	assert_int_equal(c->n, (int)RN_LOG_BURST);
	/* a second later one line, which reports what was suppressed
	 * (15 from the flood, 1 early) */
	rn_log_limited(&lg, t0 + RN_MS(1000), RN_LOG_WARN, "later");
	assert_int_equal(c->n, (int)RN_LOG_BURST + 1);
	assert_string_equal(c->line[RN_LOG_BURST], "(16 similar suppressed) later");
	/* the count restarts */
	rn_log_limited(&lg, t0 + RN_MS(3000), RN_LOG_WARN, "again");
	assert_string_equal(c->line[RN_LOG_BURST + 1], "again");
	/* filtered levels neither use tokens nor count as suppressed */
	rn_logger_init(&lg, &cap_env, c, RN_LOG_WARN);
	c->n = 0;
	for (int i = 0; i < 100; i++)
		rn_log_limited(&lg, t0, RN_LOG_DEBUG, "dbg");
	assert_int_equal(c->n, 0);
	rn_log_limited(&lg, t0, RN_LOG_WARN, "w");
	assert_int_equal(c->n, 1);
	assert_string_equal(c->line[0], "w");
}

static void test_limited_rate(void **state)
{
	capture *c = *state;
	rn_logger lg;
	rn_logger_init(&lg, &cap_env, c, RN_LOG_DEBUG);
	/* a steady flood of 10 lines per second for 60 s: the burst, then at
	 * most RN_LOG_PER_S per second; never more than the bucket allows */
	rn_time t0 = RN_MS(5000000);
	int passed_by[61] = {0};
	for (int i = 0; i < 600; i++) {
		rn_time now = t0 + RN_MS(100) * (rn_time)i;
		rn_log_limited(&lg, now, RN_LOG_INFO, "x");
		passed_by[i / 10] = c->n;
	}
	for (int s = 0; s < 60; s++) {
		int limit = (int)RN_LOG_BURST + s * (int)RN_LOG_PER_S;
		if (passed_by[s] > limit)
			fail_msg("%d lines by second %d, limit %d", passed_by[s], s,
				 limit);
	}
	/* and the bucket does refill at that rate (within one line) */
	int want = (int)RN_LOG_BURST + 59 * (int)RN_LOG_PER_S;
	assert_true(c->n >= want - 1);
}

static void test_level_names(void **state)
{
	(void)state;
	assert_string_equal(rn_log_level_name(RN_LOG_ERROR), "error");
	assert_string_equal(rn_log_level_name(RN_LOG_WARN), "warn");
	assert_string_equal(rn_log_level_name(RN_LOG_INFO), "info");
	assert_string_equal(rn_log_level_name(RN_LOG_DEBUG), "debug");
	assert_string_equal(rn_log_level_name(RN_LOG_TRACE), "trace");
	assert_string_equal(rn_log_level_name(-1), "?");
	assert_string_equal(rn_log_level_name(5), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_levels, setup, teardown),
		cmocka_unit_test(test_no_sink),
		cmocka_unit_test_setup_teardown(test_long_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limited_burst, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limited_rate, setup, teardown),
		cmocka_unit_test(test_level_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
