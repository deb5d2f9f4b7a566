/* ringsim: the command line of the discrete-event simulator.
 *
 * Parses options into sim_params, runs sim_run, prints a readable summary
 * on stdout and, with --json, writes the figures as one JSON object.
 * Exit codes: 0 ok, 1 the run failed, 2 bad command line.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/env.h"
#include "scenario.h"
#include "world.h"

static const char usage[] =
	"Usage: ringsim [OPTIONS]\n"
	"Simulate a ringnet overlay running the real protocol code.\n"
	"\n"
	"Ring:\n"
	"  -n, --nodes N           nodes in the ring (default 1000)\n"
	"  -s, --seed S            random seed; same seed, same run (default 1)\n"
	"  -l, --latency FILE      RTT matrix in ms (TAB-separated, gzip ok), e.g.\n"
	"                          data/latency/planetlab490_median_ms.derived.txt.gz;\n"
	"                          default: a synthetic model\n"
	"      --far KIND          fingers2 | fingers1 | symphony | none\n"
	"                          (default fingers2)\n"
	"      --crypto SUITE      real: member certificates, authenticated handshakes\n"
	"                          and sealed links, as ringnetd runs (default);\n"
	"                          none: links in the clear, for 10^5 nodes and more\n"
	"      --near-k K          successors and predecessors kept, 2 to 8 (default 4)\n"
	"      --join-rate R       arrivals per second while joining (default 100)\n"
	"      --bootstrap K       the first K nodes are the bootstrap list; 0: each\n"
	"                          node joins through 2 random live nodes (default 8)\n"
	"      --settle S          seconds to wait for every node to be placed (60)\n"
	"      --idle S            measure maintenance traffic over S seconds (0: skip)\n"
	"Lookups:\n"
	"  -m, --lookups M         exact lookups between random live nodes (10000)\n"
	"      --lookup-rate R     lookups per second (default 1000)\n"
	"Faults:\n"
	"      --churn SPEC        weibull:SHAPE:MEDIAN_S or pareto:ALPHA:MEDIAN_S\n"
	"      --churn-time S      seconds of churn (lookups run throughout)\n"
	"      --graceful F        fraction of departures that leave cleanly (0)\n"
	"      --fail F            crash fraction F of the nodes at once at the end\n"
	"      --fail-wait S       seconds to wait for the ring to heal (120)\n"
	"      --restart           then restart the crashed nodes (same ids) and\n"
	"                          measure until the ring is consistent again\n"
	"      --partition F       then cut a random fraction F of the nodes off\n"
	"                          from the rest, heal the split, and measure until\n"
	"                          the two rings have merged\n"
	"      --partition-time S  how long the split lasts (60)\n"
	"      --partition-wait S  seconds to wait for the merge (900)\n"
	"      --loss P            datagram loss probability (0)\n"
	"DHT (docs/dht.md):\n"
	"      --dht               every node runs the DHT and publishes its member\n"
	"                          record when it has joined; records are audited\n"
	"                          for loss (every minute of churn, after --fail)\n"
	"      --dht-replicas R    copies of each record, 1 to 17 (default 12)\n"
	"      --dht-ttl S         lease of the member records, refreshed at 2/3\n"
	"                          of it (default 3600)\n"
	"      --dht-gets M        gets of random members' records: during churn\n"
	"                          if there is churn, else on the stable ring (0)\n"
	"      --dht-get-rate R    gets per second on the stable ring (100)\n"
	"      --dht-claims K      then K members claim an address of 10.200/16 at\n"
	"                          once with create, another on conflict (0)\n"
	"Output:\n"
	"  -j, --json FILE         write the results as JSON ('-' for stdout)\n"
	"  -q, --quiet             no progress line on stderr\n"
	"  -v, --verbose           node logs on stderr (repeat for more)\n"
	"  -h, --help              this text\n";

static int bad(const char *opt, const char *val, const char *want)
{
	fprintf(stderr, "ringsim: invalid value '%s' for %s: expected %s\n"
			"Try 'ringsim --help'.\n", val, opt, want);
	return 2;
}

static int parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int parse_dbl(const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo) || !(v <= hi))
		return -1;
	*out = v;
	return 0;
}

static double ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

static const char *far_name(uint32_t k)
{
	static const char *const n[] = {"fingers2", "fingers1", "symphony", "none"};
	return k < 4 ? n[k] : "?";
}

static void dht_json(json_t *o, const sim_params *p, const sim_dht_results *d)
{
#define I(k, v) json_object_set_new(o, k, json_integer((json_int_t)(v)))
#define R(k, v) json_object_set_new(o, k, json_real(v))
	I("dht_replicas", d->replicas);
	I("dht_ttl_s", p->dht.ttl_s);
	I("dht_records_published", d->published);
	I("dht_records_acknowledged", d->published_ok);
	I("dht_gets", d->gets);
	I("dht_gets_excluded", d->gets_excluded);
	R("dht_get_success_ratio", ratio(d->gets_ok_first, d->gets));
	R("dht_get_success_ratio_retry", ratio(d->gets_ok_retry, d->gets));
	R("dht_get_latency_mean_s", d->get_latency_mean_s);
	R("dht_get_latency_p50_s", d->get_latency_p50_s);
	R("dht_get_latency_p99_s", d->get_latency_p99_s);
	I("dht_audits", d->audits);
	I("dht_records_lost", d->records_lost);
	I("dht_records_lost_worst_audit", d->lost_worst_audit);
	if (p->fail_fraction > 0)
		I("dht_fail_records_lost", d->fail_records_lost);
	if (p->dht.claims) {
		I("dht_lease_claims", d->claims);
		I("dht_lease_claims_done", d->claims_done);
		I("dht_lease_duplicates", d->lease_duplicates);
		I("dht_lease_conflicts", d->claim_conflicts);
		I("dht_lease_renew_conflicts", d->renew_conflicts);
		R("dht_lease_time_median_s", d->lease_time_median_s);
		R("dht_lease_time_p99_s", d->lease_time_p99_s);
	}
	I("dht_bad_records", d->bad_records);
	I("dht_expired_records", d->expired_records);
	I("dht_store_records_sent", d->store_recs_sent);
	I("dht_handoff_records", d->handoff_recs);
	I("dht_read_repairs", d->repaired);
#undef I
#undef R
}

static int write_json(const char *path, const sim_params *p,
		      const sim_results *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "nodes", json_integer(r->nodes));
	json_object_set_new(o, "seed", json_integer((json_int_t)p->seed));
	json_object_set_new(o, "latency", p->latency_path
						  ? json_string(p->latency_path)
						  : json_string("synthetic"));
	json_object_set_new(o, "far_links", json_string(far_name(p->settings.far_kind)));
	json_object_set_new(o, "near_k", json_integer(p->settings.near_k));
	json_object_set_new(o, "crypto",
			    json_string(p->settings.crypto == RN_CRYPTO_REAL
						? "real (Ed25519 certificates, X25519, ChaCha20-Poly1305)"
						: "none (simulation only: links in the clear)"));
	json_object_set_new(o, "lookups", json_integer((json_int_t)r->lookups));
	json_object_set_new(o, "lookup_success_ratio",
			    json_real(ratio(r->lookups_ok_first, r->lookups)));
	json_object_set_new(o, "lookup_success_ratio_retry",
			    json_real(ratio(r->lookups_ok_retry, r->lookups)));
	json_object_set_new(o, "lookups_excluded", json_integer((json_int_t)r->lookups_excluded));
	json_object_set_new(o, "hops_mean", json_real(r->hops_mean));
	json_object_set_new(o, "hops_p50", json_real(r->hops_p50));
	json_object_set_new(o, "hops_p99", json_real(r->hops_p99));
	json_object_set_new(o, "hops_max", json_real(r->hops_max));
	json_object_set_new(o, "join_time_median_s", json_real(r->join_median_s));
	json_object_set_new(o, "join_time_p99_s", json_real(r->join_p99_s));
	json_object_set_new(o, "join_time_max_s", json_real(r->join_max_s));
	json_object_set_new(o, "joins_unplaced", json_integer(r->joins_unplaced));
	json_object_set_new(o, "ring_consistent", json_boolean(r->ring_consistent));
	json_object_set_new(o, "consistent_nodes", json_integer(r->consistent_nodes));
	json_object_set_new(o, "alive_end", json_integer(r->alive_end));
	json_object_set_new(o, "links_mean", json_real(r->links_mean));
	json_object_set_new(o, "maintenance_bytes_per_node_s", json_real(r->maint_bytes_per_node_s));
	json_object_set_new(o, "maintenance_wire_bytes_per_node_s",
			    json_real(r->maint_wire_bytes_per_node_s));
	if (p->churn.kind) {
		json_object_set_new(o, "churn_departures", json_integer((json_int_t)r->churn_departures));
		json_object_set_new(o, "churn_lookups", json_integer((json_int_t)r->churn_lookups));
		json_object_set_new(o, "churn_lookup_success_ratio",
				    json_real(ratio(r->churn_ok_first, r->churn_lookups)));
		json_object_set_new(o, "churn_lookup_success_ratio_retry",
				    json_real(ratio(r->churn_ok_retry, r->churn_lookups)));
	}
	if (p->fail_fraction > 0) {
		json_object_set_new(o, "fail_killed", json_integer(r->fail_killed));
		json_object_set_new(o, "fail_recover_s", r->fail_recover_s >= 0
								 ? json_real(r->fail_recover_s)
								 : json_null());
		if (p->fail_restart)
			json_object_set_new(o, "restart_recover_s",
					    r->restart_recover_s >= 0
						    ? json_real(r->restart_recover_s)
						    : json_null());
	}
	if (p->partition_fraction > 0) {
		json_object_set_new(o, "partition_side_b",
				    json_integer(r->partition_side_b));
		json_object_set_new(o, "partition_s", json_real(p->partition_s));
		json_object_set_new(o, "partition_merge_s",
				    r->partition_merge_s >= 0
					    ? json_real(r->partition_merge_s)
					    : json_null());
	}
	if (p->dht.on)
		dht_json(o, p, &r->dht);
	json_object_set_new(o, "route_lost", json_integer((json_int_t)r->route_lost));
	json_object_set_new(o, "reroutes", json_integer((json_int_t)r->reroutes));
	json_t *sec = json_object();
#define SEC(f) json_object_set_new(sec, #f, json_integer(r->sec.f));
	RN_SEC_STATS_FIELDS(SEC)
#undef SEC
	json_object_set_new(o, "security", sec);
	json_object_set_new(o, "drop_full", json_integer((json_int_t)r->drop_full));
	json_object_set_new(o, "drop_noroute", json_integer((json_int_t)r->drop_noroute));
	json_object_set_new(o, "drop_ttl", json_integer((json_int_t)r->drop_ttl));
	json_object_set_new(o, "links_dead", json_integer((json_int_t)r->links_dead));
	json_object_set_new(o, "links_failed", json_integer((json_int_t)r->links_failed));
	json_object_set_new(o, "events", json_integer((json_int_t)r->events));
	json_object_set_new(o, "events_per_s", json_real(r->events_per_s));
	json_object_set_new(o, "sim_s", json_real(r->sim_s));
	json_object_set_new(o, "wall_s", json_real(r->wall_s));
	json_object_set_new(o, "peak_rss_bytes", json_integer((json_int_t)r->peak_rss_bytes));
	char hash[17];
	snprintf(hash, sizeof hash, "%016llx", (unsigned long long)r->trace_hash);
	json_object_set_new(o, "trace_hash", json_string(hash));
	int rc = strcmp(path, "-") == 0
			 ? json_dumpf(o, stdout, JSON_INDENT(2) | JSON_SORT_KEYS)
			 : json_dump_file(o, path, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (strcmp(path, "-") == 0)
		fputc('\n', stdout);
	json_decref(o);
	if (rc) {
		fprintf(stderr, "ringsim: cannot write %s\n", path);
		return 1;
	}
	return 0;
}

static void summary(const sim_params *p, const sim_results *r)
{
	double l2 = log2((double)r->nodes);
	printf("ringsim: %u nodes, seed %llu, far links %s, near k %u, latency %s\n",
	       r->nodes, (unsigned long long)p->seed,
	       far_name(p->settings.far_kind), p->settings.near_k,
	       p->latency_path ? p->latency_path : "synthetic");
	printf("  joins         median %.2f s, p99 %.2f s, max %.2f s (%u unplaced)\n",
	       r->join_median_s, r->join_p99_s, r->join_max_s, r->joins_unplaced);
	printf("  lookups       %llu on the stable ring: %.4f%% first try, %.4f%% with one retry\n",
	       (unsigned long long)r->lookups,
	       100.0 * ratio(r->lookups_ok_first, r->lookups),
	       100.0 * ratio(r->lookups_ok_retry, r->lookups));
	printf("  hops          mean %.2f (%.3f log2 N), p50 %.0f, p99 %.0f "
	       "(%.3f log2 N), max %.0f\n",
	       r->hops_mean, r->hops_mean / l2, r->hops_p50, r->hops_p99,
	       r->hops_p99 / l2, r->hops_max);
	printf("  links         %.1f per node; %llu dead, %llu never answered, "
	       "%llu refused (table full)\n", r->links_mean,
	       (unsigned long long)r->links_dead,
	       (unsigned long long)r->links_failed,
	       (unsigned long long)r->drop_full);
	printf("  routing       %llu reroutes, %llu lost, %llu no route, %llu "
	       "hop limit\n", (unsigned long long)r->reroutes,
	       (unsigned long long)r->route_lost,
	       (unsigned long long)r->drop_noroute,
	       (unsigned long long)r->drop_ttl);
	if (p->settings.crypto == RN_CRYPTO_REAL)
		printf("  handshakes    %u accepted, %u completed; refused: %u "
		       "stale, %u bad signature, %u wrong id; sealed "
		       "datagrams dropped: %u unknown session, %u replayed, %u "
		       "unauthentic\n",
		       r->sec.hs_init_ok, r->sec.hs_resp_ok, r->sec.hs_stale,
		       r->sec.hs_bad_sig, r->sec.hs_wrong_id,
		       r->sec.data_unknown, r->sec.data_replay,
		       r->sec.data_auth_fail);
	if (p->idle_s > 0)
		printf("  maintenance   %.1f B/s per node payload, %.1f B/s with "
		       "IPv4+UDP headers\n",
		       r->maint_bytes_per_node_s, r->maint_wire_bytes_per_node_s);
	if (p->churn.kind)
		printf("  churn         %llu departures; %llu lookups during churn: "
		       "%.4f%% first try, %.4f%% with one retry\n",
		       (unsigned long long)r->churn_departures,
		       (unsigned long long)r->churn_lookups,
		       100.0 * ratio(r->churn_ok_first, r->churn_lookups),
		       100.0 * ratio(r->churn_ok_retry, r->churn_lookups));
	if (p->fail_fraction > 0) {
		if (r->fail_recover_s >= 0)
			printf("  mass failure  %u crashed, ring consistent after %.0f s\n",
			       r->fail_killed, r->fail_recover_s);
		else
			printf("  mass failure  %u crashed, NOT consistent after %.0f s\n",
			       r->fail_killed, p->fail_wait_s);
		if (p->fail_restart && r->restart_recover_s >= 0)
			printf("  restart       %u restarted, ring consistent after %.0f s\n",
			       r->fail_killed, r->restart_recover_s);
		else if (p->fail_restart)
			printf("  restart       %u restarted, NOT consistent after %.0f s\n",
			       r->fail_killed, p->fail_wait_s);
	}
	if (p->partition_fraction > 0) {
		if (r->partition_merge_s >= 0)
			printf("  partition     %u of %u cut off for %.0f s; one ring "
			       "again %.0f s after it healed\n",
			       r->partition_side_b, r->alive_end, p->partition_s,
			       r->partition_merge_s);
		else
			printf("  partition     %u of %u cut off for %.0f s; NOT merged "
			       "%.0f s after it healed\n",
			       r->partition_side_b, r->alive_end, p->partition_s,
			       p->partition_wait_s);
	}
	if (p->dht.on) {
		const sim_dht_results *d = &r->dht;
		printf("  dht           r %u; %llu of %llu records acknowledged; "
		       "%llu lost (worst audit %llu of %llu audits)\n",
		       d->replicas, (unsigned long long)d->published_ok,
		       (unsigned long long)d->published,
		       (unsigned long long)d->records_lost,
		       (unsigned long long)d->lost_worst_audit,
		       (unsigned long long)d->audits);
		if (d->gets)
			printf("  dht gets      %llu: %.4f%% first try, %.4f%% with "
			       "one retry; latency p50 %.3f s, p99 %.3f s\n",
			       (unsigned long long)d->gets,
			       100.0 * ratio(d->gets_ok_first, d->gets),
			       100.0 * ratio(d->gets_ok_retry, d->gets),
			       d->get_latency_p50_s, d->get_latency_p99_s);
		if (p->fail_fraction > 0)
			printf("  dht failure   %llu records without a surviving "
			       "copy\n", (unsigned long long)d->fail_records_lost);
		if (p->dht.claims)
			printf("  dht claims    %u of %u leased, %u duplicates, "
			       "%llu conflicts; time to a lease p50 %.3f s, p99 "
			       "%.3f s\n", d->claims_done, d->claims,
			       d->lease_duplicates,
			       (unsigned long long)d->claim_conflicts,
			       d->lease_time_median_s, d->lease_time_p99_s);
	}
	printf("  ring          %s (%u of %u nodes placed)\n",
	       r->ring_consistent ? "consistent" : "INCONSISTENT",
	       r->consistent_nodes, r->alive_end);
	printf("  cost          %llu events in %.1f s wall (%.2f M/s), %.1f s "
	       "simulated, peak RSS %.0f MiB\n",
	       (unsigned long long)r->events, r->wall_s, r->events_per_s / 1e6,
	       r->sim_s, (double)r->peak_rss_bytes / 1048576.0);
	printf("  trace hash    %016llx\n", (unsigned long long)r->trace_hash);
}

int main(int argc, char **argv)
{
	sim_params p;
	const char *json_path = NULL;
	sim_params_default(&p);
	p.progress = 1;
	enum {
		O_FAR = 256, O_CRYPTO, O_NEAR_K, O_JOIN_RATE, O_BOOT, O_SETTLE, O_IDLE,
		O_LRATE, O_CHURN, O_CHURN_T, O_GRACE, O_FAIL, O_FAIL_WAIT, O_LOSS, O_RESTART,
		O_PART, O_PART_T, O_PART_WAIT, O_DHT, O_DHT_R, O_DHT_TTL, O_DHT_GETS,
		O_DHT_GRATE, O_DHT_CLAIMS,
	};
	static const struct option opts[] = {
		{"nodes", required_argument, 0, 'n'},
		{"seed", required_argument, 0, 's'},
		{"latency", required_argument, 0, 'l'},
		{"lookups", required_argument, 0, 'm'},
		{"json", required_argument, 0, 'j'},
		{"quiet", no_argument, 0, 'q'},
		{"verbose", no_argument, 0, 'v'},
		{"help", no_argument, 0, 'h'},
		{"far", required_argument, 0, O_FAR},
		{"crypto", required_argument, 0, O_CRYPTO},
		{"near-k", required_argument, 0, O_NEAR_K},
		{"join-rate", required_argument, 0, O_JOIN_RATE},
		{"bootstrap", required_argument, 0, O_BOOT},
		{"settle", required_argument, 0, O_SETTLE},
		{"idle", required_argument, 0, O_IDLE},
		{"lookup-rate", required_argument, 0, O_LRATE},
		{"churn", required_argument, 0, O_CHURN},
		{"churn-time", required_argument, 0, O_CHURN_T},
		{"graceful", required_argument, 0, O_GRACE},
		{"fail", required_argument, 0, O_FAIL},
		{"fail-wait", required_argument, 0, O_FAIL_WAIT},
		{"restart", no_argument, 0, O_RESTART},
		{"loss", required_argument, 0, O_LOSS},
		{"partition", required_argument, 0, O_PART},
		{"partition-time", required_argument, 0, O_PART_T},
		{"partition-wait", required_argument, 0, O_PART_WAIT},
		{"dht", no_argument, 0, O_DHT},
		{"dht-replicas", required_argument, 0, O_DHT_R},
		{"dht-ttl", required_argument, 0, O_DHT_TTL},
		{"dht-gets", required_argument, 0, O_DHT_GETS},
		{"dht-get-rate", required_argument, 0, O_DHT_GRATE},
		{"dht-claims", required_argument, 0, O_DHT_CLAIMS},
		{0, 0, 0, 0},
	};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":n:s:l:m:j:qvh", opts, NULL)) != -1) {
		uint32_t u;
		switch (c) {
		case 'n':
			if (parse_u32(optarg, 1, SIM_NODES_MAX, &p.nodes))
				return bad("--nodes", optarg, "1 to 4000000");
			break;
		case 's': {
			char *end;
			errno = 0;
			p.seed = strtoull(optarg, &end, 0);
			if (errno || *end || end == optarg || optarg[0] == '-')
				return bad("--seed", optarg, "a non-negative integer");
			break;
		}
		case 'l':
			p.latency_path = optarg;
			break;
		case 'm':
			if (parse_u32(optarg, 0, 100000000, &p.lookups))
				return bad("--lookups", optarg, "0 to 100000000");
			break;
		case 'j':
			json_path = optarg;
			break;
		case 'q':
			p.progress = 0;
			break;
		case 'v':
			if (p.settings.log_level < RN_LOG_TRACE)
				p.settings.log_level++;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case O_CRYPTO:
			if (!strcmp(optarg, "real"))
				p.settings.crypto = RN_CRYPTO_REAL;
			else if (!strcmp(optarg, "none"))
				p.settings.crypto = RN_CRYPTO_NONE;
			else
				return bad("--crypto", optarg, "real or none");
			break;
		case O_FAR:
			if (!strcmp(optarg, "fingers2"))
				p.settings.far_kind = RN_FAR_FINGERS2;
			else if (!strcmp(optarg, "fingers1"))
				p.settings.far_kind = RN_FAR_FINGERS1;
			else if (!strcmp(optarg, "symphony"))
				p.settings.far_kind = RN_FAR_SYMPHONY;
			else if (!strcmp(optarg, "none"))
				p.settings.far_kind = RN_FAR_NONE;
			else
				return bad("--far", optarg, "fingers2, fingers1, symphony or none");
			break;
		case O_NEAR_K:
			if (parse_u32(optarg, 2, 8, &u))
				return bad("--near-k", optarg, "2 to 8");
			p.settings.near_k = u;
			break;
		case O_JOIN_RATE:
			if (parse_dbl(optarg, 0.001, 1e7, &p.join_rate))
				return bad("--join-rate", optarg, "a rate above 0");
			break;
		case O_BOOT:
			if (parse_u32(optarg, 0, 8, &p.bootstrap))
				return bad("--bootstrap", optarg, "0 to 8");
			break;
		case O_SETTLE:
			if (parse_dbl(optarg, 0, 1e6, &p.settle_s))
				return bad("--settle", optarg, "seconds >= 0");
			break;
		case O_IDLE:
			if (parse_dbl(optarg, 0, 1e6, &p.idle_s))
				return bad("--idle", optarg, "seconds >= 0");
			break;
		case O_LRATE:
			if (parse_dbl(optarg, 0.001, 1e9, &p.lookup_rate))
				return bad("--lookup-rate", optarg, "a rate above 0");
			break;
		case O_CHURN:
			if (sim_session_parse(&p.churn, optarg))
				return bad("--churn", optarg,
					   "weibull:SHAPE:MEDIAN_S or pareto:ALPHA:MEDIAN_S "
					   "(ALPHA > 1)");
			break;
		case O_CHURN_T:
			if (parse_dbl(optarg, 0, 1e7, &p.churn_s))
				return bad("--churn-time", optarg, "seconds >= 0");
			break;
		case O_GRACE:
			if (parse_dbl(optarg, 0, 1, &p.churn_graceful))
				return bad("--graceful", optarg, "a fraction 0..1");
			break;
		case O_FAIL:
			if (parse_dbl(optarg, 0, 0.99, &p.fail_fraction))
				return bad("--fail", optarg, "a fraction 0..0.99");
			break;
		case O_FAIL_WAIT:
			if (parse_dbl(optarg, 1, 1e6, &p.fail_wait_s))
				return bad("--fail-wait", optarg, "seconds >= 1");
			break;
		case O_RESTART:
			p.fail_restart = 1;
			break;
		case O_LOSS:
			if (parse_dbl(optarg, 0, 0.5, &p.loss))
				return bad("--loss", optarg, "a probability 0..0.5");
			break;
		case O_PART:
			if (parse_dbl(optarg, 0.01, 0.99, &p.partition_fraction))
				return bad("--partition", optarg,
					   "a fraction 0.01..0.99");
			break;
		case O_PART_T:
			if (parse_dbl(optarg, 1, 1e6, &p.partition_s))
				return bad("--partition-time", optarg,
					   "seconds >= 1");
			break;
		case O_PART_WAIT:
			if (parse_dbl(optarg, 1, 1e6, &p.partition_wait_s))
				return bad("--partition-wait", optarg,
					   "seconds >= 1");
			break;
		case O_DHT:
			p.dht.on = 1;
			break;
		case O_DHT_R:
			if (parse_u32(optarg, 1, 17, &p.dht.settings.replicas))
				return bad("--dht-replicas", optarg, "1 to 17");
			break;
		case O_DHT_TTL:
			if (parse_u32(optarg, 60, 86400, &p.dht.ttl_s))
				return bad("--dht-ttl", optarg, "60 to 86400 seconds");
			break;
		case O_DHT_GETS:
			if (parse_u32(optarg, 0, 10000000, &p.dht.gets))
				return bad("--dht-gets", optarg, "0 to 10000000");
			break;
		case O_DHT_GRATE:
			if (parse_dbl(optarg, 0.001, 1e9, &p.dht.get_rate))
				return bad("--dht-get-rate", optarg, "a rate above 0");
			break;
		case O_DHT_CLAIMS:
			if (parse_u32(optarg, 0, 65536, &p.dht.claims))
				return bad("--dht-claims", optarg, "0 to 65536");
			break;
		case ':':
			fprintf(stderr, "ringsim: option %s needs a value\n"
					"Try 'ringsim --help'.\n", argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr, "ringsim: unknown option %s\n"
					"Try 'ringsim --help'.\n", argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ringsim: unexpected argument '%s'\n"
				"Try 'ringsim --help'.\n", argv[optind]);
		return 2;
	}
	if (p.churn.kind && p.churn_s <= 0) {
		fprintf(stderr, "ringsim: --churn needs --churn-time\n");
		return 2;
	}
	if (p.dht.claims && p.settings.crypto == RN_CRYPTO_REAL) {
		fprintf(stderr, "ringsim: --dht-claims needs --crypto none: a "
				"member may claim only the address its certificate "
				"holds, and certificates that grant a range are not "
				"implemented yet\nTry 'ringsim --help'.\n");
		return 2;
	}
	sim_results r;
	char err[256];
	if (sim_run(&p, &r, err, sizeof err)) {
		fprintf(stderr, "ringsim: %s\n", err);
		return 1;
	}
	if (!json_path || strcmp(json_path, "-"))
		summary(&p, &r);
	if (json_path && write_json(json_path, &p, &r))
		return 1;
	return 0;
}
