/* A simulator run: the phases of a study and the figures it produces.
 *
 *   join     nodes arrive as a Poisson stream through bootstrap nodes;
 *            each one's join time is measured against the oracle
 *   settle   until every node is placed (or settle_s passes)
 *   idle     maintenance traffic per node is measured over idle_s
 *   lookups  exact lookups between random live nodes, with one retry
 *   churn    (optional) arrivals and heavy-tailed sessions for churn_s,
 *            with lookups running throughout
 *   fail     (optional) a fraction of nodes crash at once; the time until
 *            the ring is consistent again is measured
 *   partition (optional) a random fraction of the nodes is cut off from
 *            the rest for partition_s; then the network heals and the time
 *            until the two rings have merged into one is measured
 * With the DHT study on (dht_study.h), nodes publish their member records
 * as they join; gets run under churn when there is churn, else on the
 * stable ring; records are audited every minute of churn, right after the
 * mass failure and at the end; address claims run last.
 * sim_run is what ringsim's main calls and what the seeded scenario tests
 * call with small numbers.
 */
#ifndef SIM_SCENARIO_H
#define SIM_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include "../overlay/settings.h"
#include "../overlay/sec.h"
#include "churn.h"
#include "dht_study.h"

typedef struct sim_params {
	uint32_t nodes;
	uint64_t seed;
	const char *latency_path; /* NULL: synthetic */
	rn_settings settings;
	double join_rate;         /* arrivals per second */
	uint32_t bootstrap;       /* fixed bootstrap nodes; 0: random live */
	double settle_s;
	double idle_s;
	uint32_t lookups;
	double lookup_rate;
	double lookup_timeout_s;
	sim_session churn;
	double churn_s;
	double churn_graceful;    /* fraction of departures that leave cleanly */
	double fail_fraction;
	double fail_wait_s;
	int fail_restart;         /* restart the crashed nodes afterwards */
	double partition_fraction; /* nodes on the far side of the split */
	double partition_s;       /* how long the split lasts */
	double partition_wait_s;  /* for the merge after it heals */
	double loss;
	int progress;             /* progress line on stderr */
	sim_dht_params dht;       /* dht.on: the DHT study (dht_study.h) */
} sim_params;

typedef struct sim_results {
	uint32_t nodes, alive_end;
	uint64_t lookups, lookups_ok_first, lookups_ok_retry, lookups_excluded;
	double hops_mean, hops_p50, hops_p99, hops_max;
	uint32_t joins_measured, joins_unplaced;
	double join_median_s, join_p99_s, join_max_s;
	int ring_consistent;
	uint32_t consistent_nodes;
	double maint_bytes_per_node_s;      /* UDP payload */
	double maint_wire_bytes_per_node_s; /* plus 28 bytes IPv4+UDP header */
	double links_mean;
	double fail_recover_s;              /* -1: not recovered in time */
	uint32_t fail_killed;
	double restart_recover_s;           /* -1: not recovered in time */
	uint32_t partition_side_b;          /* nodes cut off */
	double partition_merge_s;           /* -1: not merged in time */
	uint64_t churn_departures, churn_arrivals;
	uint64_t churn_lookups, churn_ok_first, churn_ok_retry;
	double churn_alive_min, churn_alive_mean;
	uint64_t events;
	double events_per_s, wall_s, sim_s;
	uint64_t peak_rss_bytes;
	uint64_t trace_hash;
	uint64_t route_lost, reroutes, drop_noroute, drop_ttl, drop_full;
	uint64_t links_dead, links_failed;
	rn_sec_stats sec; /* summed over the live nodes (crypto real) */
	sim_dht_results dht;
} sim_results;

void sim_params_default(sim_params *p);
int sim_run(const sim_params *p, sim_results *r, char *err, size_t errlen);

#endif
