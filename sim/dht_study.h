/* The DHT's workload and measurements in a simulator run (docs/dht.md,
 * docs/ringsim.md).
 *
 * Every node publishes its member record (namespace "member", key its
 * virtual IP, a REPLACE record refreshed by its owner) once it has joined.
 * The study then measures:
 *   gets    a random live member asks for the record of another live
 *           member whose publication was acknowledged; success means that
 *           member's record came back (first try, or after one retry), and
 *           the latency is from the request to the answer;
 *   audits  records lost: a member alive, its record acknowledged, and no
 *           live node holding a live copy (checked against every store);
 *   claims  many members at once claim a random address of a /16 with
 *           create ("lease"), taking another on conflict; duplicates are
 *           addresses that two members both believe they hold.
 * The scenario (scenario.c) decides when each runs; this file keeps the
 * books. Bounded by the run's node count.
 */
#ifndef SIM_DHT_STUDY_H
#define SIM_DHT_STUDY_H

#include <stdint.h>

#include "world.h"

typedef struct sim_dht_params {
	int on;
	rn_dht_settings settings;
	uint32_t ttl_s;        /* member records' lease (refreshed at 2/3) */
	uint32_t gets;         /* on the stable ring, and again under churn */
	double get_rate;       /* per second */
	uint32_t claims;       /* members claiming an address at once */
	uint32_t claim_prefix; /* the range they claim from (host order) */
	uint32_t claim_bits;   /* its host bits: 16 for a /16 */
	uint32_t claim_tries_max;
} sim_dht_params;

typedef struct sim_dht_results {
	uint32_t replicas;
	uint64_t published, published_ok;
	uint64_t gets, gets_ok_first, gets_ok_retry, gets_excluded;
	double get_latency_p50_s, get_latency_p99_s, get_latency_mean_s;
	uint64_t audits, records_lost, lost_worst_audit;
	uint64_t fail_records_lost; /* at the instant of the mass failure */
	uint32_t claims, claims_done, lease_duplicates;
	uint64_t claim_conflicts, renew_conflicts;
	double lease_time_median_s, lease_time_p99_s;
	uint64_t bad_records, expired_records, store_recs_sent, handoff_recs;
	uint64_t repaired;
} sim_dht_results;

typedef struct sim_dht_study sim_dht_study;

void sim_dht_params_default(sim_dht_params *p);
/* Attaches to the world (every node started from now on runs a DHT). */
sim_dht_study *sim_dht_study_new(sim_world *w, const sim_dht_params *p);
void sim_dht_study_free(sim_dht_study *s);

/* Node i has joined: it publishes its member record. */
void sim_dht_on_joined(sim_dht_study *s, uint32_t i);
/* Schedules `count` gets at `rate` per second from now; they are issued
 * when the scenario forwards their script events (sim_dht_script). */
void sim_dht_schedule_gets(sim_dht_study *s, uint32_t count, double rate,
			   uint32_t script_type);
void sim_dht_script(sim_dht_study *s, uint32_t arg);
/* Counts lost records now; returns how many are lost. */
uint64_t sim_dht_audit(sim_dht_study *s);
/* Starts the claims; done when sim_dht_claims_pending() is 0. */
void sim_dht_start_claims(sim_dht_study *s);
uint32_t sim_dht_claims_pending(const sim_dht_study *s);
void sim_dht_results_get(sim_dht_study *s, sim_dht_results *r);

#endif
