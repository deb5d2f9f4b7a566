/* Seeded simulator scenarios: join, routing, churn, mass failure, loss and
 * determinism, each a small sim_run of the real protocol code checked
 * against the oracle. Every failure prints its seed; RN_TEST_SEED=S reruns
 * with another seed (the defaults are fixed, so CI is reproducible). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "sim/scenario.h"

static uint64_t test_seed(void)
{
	const char *s = getenv("RN_TEST_SEED");
	return s ? strtoull(s, NULL, 0) : 7;
}

static void run_or_fail(sim_params *p, sim_results *r)
{
	char err[256];
	p->progress = 0;
	if (sim_run(p, r, err, sizeof err)) {
		print_error("sim_run failed (seed %llu): %s\n",
			    (unsigned long long)p->seed, err);
		fail();
	}
}

#define CHECK(cond, p)                                                         \
	do {                                                                   \
		if (!(cond)) {                                                 \
			print_error("%s:%d: %s failed (seed %llu)\n", __FILE__,   \
				    __LINE__, #cond,                           \
				    (unsigned long long)(p)->seed);            \
			fail();                                                \
		}                                                              \
	} while (0)

static void small(sim_params *p, uint32_t nodes)
{
	sim_params_default(p);
	p->seed = test_seed();
	p->nodes = nodes;
	p->join_rate = 50;
	p->settle_s = 60;
	p->lookups = 2000;
	p->lookup_rate = 500;
}

static void test_join_and_lookups(void **state)
{
	(void)state;
	sim_params p;
	sim_results r;
	small(&p, 400);
	run_or_fail(&p, &r);
	CHECK(r.joins_unplaced == 0, &p);
	CHECK(r.ring_consistent, &p);
	CHECK(r.alive_end == 400, &p);
	CHECK(r.lookups == 2000, &p);
	CHECK(r.lookups_ok_first == r.lookups, &p);
	CHECK(r.join_median_s < 2.0, &p);
	/* greedy routing on two-way fingers: well under log2 N hops */
	CHECK(r.hops_mean > 1.0 && r.hops_mean < 0.45 * 8.64, &p);
}

static void test_far_kinds(void **state)
{
	(void)state;
	const uint32_t kinds[] = {RN_FAR_FINGERS1, RN_FAR_SYMPHONY, RN_FAR_NONE};
	for (unsigned k = 0; k < 3; k++) {
		sim_params p;
		sim_results r;
		small(&p, 200);
		p.settings.far_kind = kinds[k];
		p.lookups = 500;
		p.idle_s = 30; /* unneeded links from the join storm are trimmed */
		run_or_fail(&p, &r);
		CHECK(r.ring_consistent, &p);
		CHECK(r.lookups_ok_first == r.lookups, &p);
		if (kinds[k] == RN_FAR_NONE) {
			/* near links only: 2k each, and a walk of ~N/(4k) hops */
			CHECK(r.links_mean <= 2.0 * p.settings.near_k + 1, &p);
			CHECK(r.hops_mean > 5.0, &p);
		}
	}
}

static void test_determinism(void **state)
{
	(void)state;
	sim_params p;
	sim_results a, b, c;
	small(&p, 150);
	p.lookups = 300;
	run_or_fail(&p, &a);
	run_or_fail(&p, &b);
	CHECK(a.trace_hash == b.trace_hash, &p);
	CHECK(a.events == b.events, &p);
	CHECK(a.hops_mean == b.hops_mean, &p);
	p.seed++;
	run_or_fail(&p, &c);
	CHECK(c.trace_hash != a.trace_hash, &p);
}

static void test_churn(void **state)
{
	(void)state;
	sim_params p;
	sim_results r;
	small(&p, 300);
	sim_session_parse(&p.churn, "weibull:0.5:300");
	p.churn_s = 600;
	p.lookups = 2000;
	run_or_fail(&p, &r);
	CHECK(r.churn_departures > 100, &p);
	CHECK(r.churn_lookups > 1500, &p);
	CHECK((double)r.churn_ok_first >= 0.99 * (double)r.churn_lookups, &p);
	CHECK((double)r.churn_ok_retry >= 0.999 * (double)r.churn_lookups, &p);
	CHECK(r.ring_consistent, &p);
}

static void test_graceful_churn(void **state)
{
	(void)state;
	sim_params p;
	sim_results r;
	small(&p, 200);
	sim_session_parse(&p.churn, "pareto:1.5:300");
	p.churn_s = 300;
	p.churn_graceful = 1.0;
	p.lookups = 1000;
	run_or_fail(&p, &r);
	CHECK(r.churn_departures > 20, &p);
	CHECK((double)r.churn_ok_first >= 0.995 * (double)r.churn_lookups, &p);
	CHECK(r.ring_consistent, &p);
}

static void test_mass_failure(void **state)
{
	(void)state;
	sim_params p;
	sim_results r;
	small(&p, 500);
	p.lookups = 200;
	p.fail_fraction = 0.3;
	p.fail_wait_s = 60;
	run_or_fail(&p, &r);
	CHECK(r.fail_killed == 150, &p);
	CHECK(r.fail_recover_s >= 0 && r.fail_recover_s <= 30, &p);
	CHECK(r.ring_consistent && r.alive_end == 350, &p);
	/* the same 150 come back with their old ids and fresh state */
	p.fail_restart = 1;
	run_or_fail(&p, &r);
	CHECK(r.restart_recover_s >= 0 && r.restart_recover_s <= 30, &p);
	CHECK(r.ring_consistent && r.alive_end == 500, &p);
}

/* The DHT under churn, with real certificates and signatures: every
 * member's record stays findable while members come and go, and none is
 * lost when 30% crash at once (r = 12). */
static void test_dht(void **state)
{
	(void)state;
	sim_params p;
	sim_results r;
	small(&p, 200);
	p.lookups = 200;
	sim_session_parse(&p.churn, "weibull:0.5:300");
	p.churn_s = 300;
	p.fail_fraction = 0.3;
	p.fail_wait_s = 60;
	p.dht.on = 1;
	p.dht.gets = 1000;
	p.dht.ttl_s = 300;
	run_or_fail(&p, &r);
	const sim_dht_results *d = &r.dht;
	CHECK(p.settings.crypto == RN_CRYPTO_REAL, &p);
	CHECK(d->replicas == 12, &p);
	CHECK(d->published_ok > 200 && d->published_ok + 20 >= d->published, &p);
	/* sessions of 5 min median, three times the study's churn */
	CHECK(d->gets > 900, &p);
	CHECK((double)d->gets_ok_first >= 0.99 * (double)d->gets, &p);
	CHECK((double)d->gets_ok_retry >= 0.995 * (double)d->gets, &p);
	CHECK(d->audits >= 5 && d->records_lost == 0, &p);
	CHECK(d->fail_records_lost == 0, &p);
	CHECK(d->bad_records == 0, &p);
}

/* Members claiming addresses of a /16 at once with create: each ends with
 * one, never one that another holds. Crypto none: with real certificates
 * a member may claim only its own address (range certificates to come). */
static void test_dht_claims(void **state)
{
	(void)state;
	sim_params p;
	sim_results r;
	small(&p, 300);
	p.lookups = 100;
	p.settings.crypto = RN_CRYPTO_NONE;
	p.dht.on = 1;
	p.dht.claims = 200;
	p.dht.claim_prefix = 0x0AC8FE00u; /* a /23: 512 addresses, so that */
	p.dht.claim_bits = 9;             /* many claims meet */
	run_or_fail(&p, &r);
	const sim_dht_results *d = &r.dht;
	CHECK(d->claims == 200 && d->claims_done == 200, &p);
	CHECK(d->claim_conflicts > 10, &p); /* the point: they did meet */
	CHECK(d->lease_duplicates == 0, &p);
	CHECK(d->renew_conflicts == 0, &p);
}

/* A split long enough for every link across it to die: each side repairs
 * into a ring of its own, and after the network heals the two must merge
 * (lost.c) within about ring_check_ms. */
static void test_partition(void **state)
{
	(void)state;
	sim_params p;
	sim_results r;
	small(&p, 300);
	p.lookups = 200;
	p.partition_fraction = 0.4;
	p.partition_s = 400;
	p.partition_wait_s = 600;
	run_or_fail(&p, &r);
	CHECK(r.partition_side_b > 60 && r.partition_side_b < 180, &p);
	CHECK(r.partition_merge_s >= 0 &&
		      r.partition_merge_s <= p.settings.ring_check_ms / 1000.0 + 30,
	      &p);
	CHECK(r.ring_consistent && r.alive_end == 300, &p);
}

static void test_loss(void **state)
{
	(void)state;
	sim_params p;
	sim_results r;
	small(&p, 200);
	p.loss = 0.02;
	p.lookups = 1000;
	run_or_fail(&p, &r);
	CHECK(r.ring_consistent, &p);
	/* hop acks retransmit around the loss; end-to-end retry covers replies */
	CHECK((double)r.lookups_ok_retry >= 0.99 * (double)r.lookups, &p);
}

static void test_bad_settings(void **state)
{
	(void)state;
	sim_params p;
	sim_results r;
	char err[256];
	small(&p, 10);
	p.settings.near_k = 0;
	assert_int_not_equal(sim_run(&p, &r, err, sizeof err), 0);
	small(&p, 10);
	p.latency_path = "/nonexistent/latency.txt";
	assert_int_not_equal(sim_run(&p, &r, err, sizeof err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join_and_lookups),
		cmocka_unit_test(test_far_kinds),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_churn),
		cmocka_unit_test(test_graceful_churn),
		cmocka_unit_test(test_mass_failure),
		cmocka_unit_test(test_partition),
		cmocka_unit_test(test_loss),
		cmocka_unit_test(test_bad_settings),
		cmocka_unit_test(test_dht),
		cmocka_unit_test(test_dht_claims),
	};
	fprintf(stderr, "simulator scenarios, seed %llu (set RN_TEST_SEED to change)\n",
		(unsigned long long)test_seed());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
