/* Simulator study phases (see scenario.h).
 *
 * Everything random comes from the world's PRNG, seeded by params.seed, and
 * every action is an event in the world's queue, so a run is a pure
 * function of its parameters (trace_hash proves it).
 */
#include "scenario.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "../core/env.h"
#include "../core/err.h"
#include "world.h"

enum {
	S_JOIN = 1,
	S_JOIN_CHECK = 2,
	S_LOOKUP = 3,
	S_LOOKUP_TIMEOUT = 4,
	S_DEPART = 5,
	S_DHT_GET = 6,
	S_DHT_AUDIT = 7,
};

typedef struct lookup {
	uint32_t src, dst;
	uint8_t tries, done, excluded;
} lookup;

typedef struct run {
	const sim_params *p;
	sim_world w;
	uint32_t started;        /* nodes started so far (by index) */
	uint32_t *pending;       /* nodes waiting to be placed */
	uint32_t n_pending;
	double *join_s;
	uint32_t n_join;
	int measure_joins;
	lookup *lk;
	uint32_t n_lk;
	uint32_t *hops_hist;     /* hops -> count */
	int churn_on;
	int check_scheduled;     /* an S_JOIN_CHECK is in the queue */
	uint64_t departures, arrivals;
	uint32_t next_new, total;  /* next unused node slot, slots in all */
	uint32_t lk_churn_from;    /* first lookup of the churn phase */
	struct timespec t0, last_progress;
	const char *phase;
	sim_dht_study *dht;
} run;

static double wall_since(const struct timespec *a)
{
	struct timespec b;
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) + (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

static rn_time secs(double s)
{
	return (rn_time)(s * 1e6);
}

static void progress(run *r, int force)
{
	if (!r->p->progress)
		return;
	if (!force && wall_since(&r->last_progress) < 2.0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &r->last_progress);
	double wall = wall_since(&r->t0);
	fprintf(stderr,
		"ringsim: %-8s sim %8.1f s  alive %8u  events %11llu  %6.2f M/s  "
		"wall %6.0f s\n",
		r->phase, (double)r->w.now / 1e6, r->w.oracle.n_alive,
		(unsigned long long)r->w.n_events,
		wall > 0 ? (double)r->w.n_events / wall / 1e6 : 0.0, wall);
}

/* Random live node; with `joined`, one that considers itself joined (what
 * a member would put in a bootstrap list). UINT32_MAX if none found. */
static uint32_t random_live(run *r, int joined)
{
	sim_world *w = &r->w;
	if (!w->oracle.n_alive)
		return UINT32_MAX;
	for (int tries = 0; tries < 256; tries++) {
		uint32_t rank = (uint32_t)rn_prng_below(&w->prng, w->oracle.n);
		uint32_t s = sim_oracle_succ(&w->oracle, rank == 0 ? w->oracle.n - 1 : rank - 1);
		if (s == UINT32_MAX)
			return UINT32_MAX;
		uint32_t node = w->oracle.node_of[s];
		if (!joined || rn_node_state(w->nodes[node].node) == RN_NODE_JOINED)
			return node;
	}
	return UINT32_MAX;
}

static void start_node(run *r, uint32_t i)
{
	sim_world *w = &r->w;
	uint32_t boot[8], nb = 0;
	if (r->p->bootstrap) {
		uint32_t k = r->p->bootstrap < 8 ? r->p->bootstrap : 8;
		for (uint32_t b = 0; b < k && b < i; b++)
			if (w->nodes[b].flags & SIM_ALIVE)
				boot[nb++] = b;
		if (i > 0 && nb == 0) {
			uint32_t x = random_live(r, 1);
			if (x != UINT32_MAX)
				boot[nb++] = x;
		}
	} else {
		for (int k = 0; k < 2; k++) {
			uint32_t x = random_live(r, 1);
			if (x == UINT32_MAX)
				x = random_live(r, 0); /* nobody placed yet */
			if (x != UINT32_MAX && x != i)
				boot[nb++] = x;
		}
	}
	if (sim_world_start(w, i, boot, nb))
		return;
	r->pending[r->n_pending++] = i;
	if (!r->check_scheduled) {
		r->check_scheduled = 1;
		sim_world_schedule(w, w->now + secs(0.1), S_JOIN_CHECK, 0);
	}
	if (r->churn_on && r->p->churn.kind != SIM_SESSION_NONE) {
		double life = sim_session_sample_s(&r->p->churn, &w->prng);
		sim_world_schedule(w, w->now + secs(life), S_DEPART, i);
	}
}

static void join_check(run *r)
{
	sim_world *w = &r->w;
	uint32_t k = 0;
	for (uint32_t j = 0; j < r->n_pending; j++) {
		uint32_t i = r->pending[j];
		sim_node *sn = &w->nodes[i];
		if (!(sn->flags & SIM_ALIVE))
			continue;
		if (sim_node_placed(w, i)) {
			sn->flags &= (uint8_t)~SIM_JOIN_PENDING;
			if (r->measure_joins)
				r->join_s[r->n_join++] =
					(double)(w->now - sn->join_start) / 1e6;
			continue;
		}
		r->pending[k++] = i;
	}
	r->n_pending = k;
}

static void send_lookup(run *r, uint32_t idx)
{
	sim_world *w = &r->w;
	lookup *l = &r->lk[idx];
	sim_node *src = &w->nodes[l->src];
	sim_node *dst = &w->nodes[l->dst];
	if (!(dst->flags & SIM_ALIVE)) {
		l->excluded = 1; /* the target left: not a routing failure */
		return;
	}
	if (!(src->flags & SIM_ALIVE) || (src->flags & SIM_JOIN_PENDING)) {
		uint32_t s = random_live(r, 1);
		if (s == UINT32_MAX) {
			l->excluded = 1;
			return;
		}
		l->src = s;
		src = &w->nodes[s];
	}
	l->tries++;
	uint64_t qid = (uint64_t)(idx + 1) | ((uint64_t)l->tries << 40);
	const rn_id *d = &w->oracle.ids[dst->rank];
	rn_node_lookup(src->node, w->now, d, qid);
	sim_world_schedule(w, w->now + secs(r->p->lookup_timeout_s),
			   S_LOOKUP_TIMEOUT, idx);
}

static void on_script(sim_world *w, uint32_t type, uint32_t arg)
{
	run *r = w->user;
	switch (type) {
	case S_JOIN:
		start_node(r, arg);
		break;
	case S_JOIN_CHECK:
		join_check(r);
		r->check_scheduled = r->n_pending != 0;
		if (r->n_pending)
			sim_world_schedule(w, w->now + secs(0.1), S_JOIN_CHECK, 0);
		break;
	case S_LOOKUP: {
		lookup *l = &r->lk[arg];
		l->src = random_live(r, 1);
		l->dst = random_live(r, 1);
		if (l->src == UINT32_MAX || l->dst == UINT32_MAX) {
			l->excluded = 1;
			break;
		}
		send_lookup(r, arg);
		break;
	}
	case S_LOOKUP_TIMEOUT: {
		lookup *l = &r->lk[arg];
		if (l->done || l->excluded)
			break;
		if (l->tries < 2)
			send_lookup(r, arg);
		break;
	}
	case S_DHT_GET:
		sim_dht_script(r->dht, arg);
		break;
	case S_DHT_AUDIT:
		if (!r->churn_on)
			break;
		sim_dht_audit(r->dht);
		sim_world_schedule(w, w->now + secs(60), S_DHT_AUDIT, 0);
		break;
	case S_DEPART:
		if (!(w->nodes[arg].flags & SIM_ALIVE) || !r->churn_on)
			break;
		r->departures++;
		if (rn_prng_double(&w->prng) < r->p->churn_graceful)
			sim_world_leave(w, arg);
		else
			sim_world_crash(w, arg);
		/* Each departure is replaced by a fresh node, so the ring keeps
		 * its size (the model of Rhea et al., "Handling churn in a DHT"). */
		if (r->next_new < r->total) {
			sim_world_schedule(w, w->now + 1, S_JOIN, r->next_new++);
			r->arrivals++;
		}
		break;
	default:
		break;
	}
}

static void on_event(sim_world *w, uint32_t node, const rn_event *ev)
{
	run *r = w->user;
	if (ev->type == RN_EV_JOINED && r->dht)
		sim_dht_on_joined(r->dht, node);
	if (ev->type != RN_EV_LOOKUP_DONE)
		return;
	uint64_t idx = (ev->qid & ((1ull << 40) - 1)) - 1;
	if (idx >= r->n_lk)
		return;
	lookup *l = &r->lk[idx];
	if (l->done || l->excluded)
		return;
	/* The reply comes from the node that owns the destination id. */
	if (rn_id_cmp(&ev->peer, &w->oracle.ids[w->nodes[l->dst].rank]))
		return;
	l->done = (uint8_t)(ev->qid >> 40);
	if (!r->lk_churn_from || idx < r->lk_churn_from) /* stable ring only */
		r->hops_hist[ev->hops]++;
}

/* With -v: how an unplaced node's view differs from the truth. */
static void debug_unplaced(sim_world *w, uint32_t i)
{
	sim_node *sn = &w->nodes[i];
	rn_id a, b;
	const rn_id *ms = rn_node_succ(sn->node, &a);
	const rn_id *mp = rn_node_pred(sn->node, &b);
	uint32_t rs = sim_oracle_succ(&w->oracle, sn->rank);
	uint32_t rp = sim_oracle_pred(&w->oracle, sn->rank);
	char h[5][RN_ID_HEX_LEN + 1];
	rn_id_to_hex(&w->oracle.ids[sn->rank], h[0]);
	rn_id_to_hex(ms ? ms : &w->oracle.ids[sn->rank], h[1]);
	rn_id_to_hex(mp ? mp : &w->oracle.ids[sn->rank], h[2]);
	rn_id_to_hex(&w->oracle.ids[rs], h[3]);
	rn_id_to_hex(&w->oracle.ids[rp], h[4]);
	fprintf(stderr, "unplaced node %u %.10s state %d links %zu: succ %.10s "
		"(true %.10s node %u) pred %.10s (true %.10s node %u)\n", i,
		h[0], rn_node_state(sn->node), rn_node_link_count(sn->node), h[1],
		h[3], w->oracle.node_of[rs], h[2], h[4], w->oracle.node_of[rp]);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double pct_sorted(const double *v, uint32_t n, double q)
{
	if (!n)
		return 0.0;
	size_t i = (size_t)ceil(q * n);
	if (i > 0)
		i--;
	if (i >= n)
		i = n - 1;
	return v[i];
}

static void sum_stats(run *r, uint64_t *maint_bytes, uint64_t *maint_pkts,
		      uint64_t *links)
{
	*maint_bytes = *maint_pkts = *links = 0;
	for (uint32_t i = 0; i < r->w.n_nodes; i++) {
		sim_node *sn = &r->w.nodes[i];
		if (!(sn->flags & SIM_ALIVE))
			continue;
		const rn_node_stats *st = rn_node_get_stats(sn->node);
		*maint_bytes += st->tx_maint_bytes;
		*maint_pkts += st->tx_maint_pkts;
		*links += rn_node_link_count(sn->node);
	}
}

void sim_params_default(sim_params *p)
{
	memset(p, 0, sizeof *p);
	p->nodes = 1000;
	p->seed = 1;
	rn_settings_default(&p->settings);
	p->join_rate = 100.0;
	p->bootstrap = 8;
	p->settle_s = 60.0;
	p->idle_s = 0.0;
	p->lookups = 10000;
	p->lookup_rate = 1000.0;
	p->lookup_timeout_s = 5.0;
	p->churn.kind = SIM_SESSION_NONE;
	p->fail_wait_s = 120.0;
	p->partition_s = 60.0;
	p->partition_wait_s = 900.0;
	sim_dht_params_default(&p->dht);
}

static void run_lookups(run *r, uint32_t count, double rate, rn_time until)
{
	sim_world *w = &r->w;
	rn_time t = w->now;
	uint32_t base = r->n_lk;
	for (uint32_t k = 0; k < count; k++) {
		t += secs(sim_exp_sample(&w->prng, 1.0 / rate));
		sim_world_schedule(w, t, S_LOOKUP, base + k);
	}
	r->n_lk += count;
	if (until < t)
		until = t;
	until += secs(2 * r->p->lookup_timeout_s + 1);
	while (w->now < until) {
		sim_world_run_until(w, w->now + secs(1));
		progress(r, 0);
	}
}

/* Runs until every live node is placed; seconds taken, or -1. */
static double until_consistent(run *r, double max_s)
{
	sim_world *w = &r->w;
	rn_time t0 = w->now;
	while (w->now - t0 < secs(max_s)) {
		sim_world_run_until(w, w->now + secs(1));
		progress(r, 0);
		if (sim_world_consistent(w) == w->oracle.n_alive)
			return (double)(w->now - t0) / 1e6;
	}
	return -1.0;
}

static int fail_phase(run *r, sim_results *res)
{
	sim_world *w = &r->w;
	uint32_t alive = w->oracle.n_alive;
	uint32_t kill = (uint32_t)(r->p->fail_fraction * alive);
	uint32_t *crashed = malloc((kill + 1) * sizeof *crashed);
	if (!crashed)
		return -1;
	r->phase = "fail";
	uint32_t killed = 0;
	for (uint32_t k = 0; k < kill; k++) {
		uint32_t i = random_live(r, 0);
		if (i == UINT32_MAX)
			break;
		sim_world_crash(w, i);
		crashed[killed++] = i;
	}
	res->fail_killed = killed;
	if (r->dht) /* what no survivor holds is lost, whatever comes next */
		res->dht.fail_records_lost = sim_dht_audit(r->dht);
	res->fail_recover_s = until_consistent(r, r->p->fail_wait_s);
	/* Restart: the same nodes (same virtual IP, so the same ring id)
	 * come back with fresh state and join again. */
	res->restart_recover_s = -1.0;
	if (r->p->fail_restart) {
		r->phase = "restart";
		for (uint32_t k = 0; k < killed; k++)
			start_node(r, crashed[k]);
		res->restart_recover_s = until_consistent(r, r->p->fail_wait_s);
	}
	free(crashed);
	return 0;
}

/* Splits the live nodes into two sides that cannot reach each other,
 * waits, heals the split and measures how long the rings take to merge. */
static void partition_phase(run *r, sim_results *res)
{
	sim_world *w = &r->w;
	uint32_t cut = 0;
	r->phase = "split";
	for (uint32_t i = 0; i < w->n_nodes; i++) {
		sim_node *sn = &w->nodes[i];
		sn->flags &= (uint8_t)~SIM_SIDE_B;
		if ((sn->flags & SIM_ALIVE) &&
		    rn_prng_double(&w->prng) < r->p->partition_fraction) {
			sn->flags |= SIM_SIDE_B;
			cut++;
		}
	}
	res->partition_side_b = cut;
	w->partitioned = 1;
	rn_time end = w->now + secs(r->p->partition_s);
	while (w->now < end) {
		sim_world_run_until(w, w->now + secs(1));
		progress(r, 0);
	}
	w->partitioned = 0;
	r->phase = "merge";
	res->partition_merge_s = until_consistent(r, r->p->partition_wait_s);
}

static void run_for(run *r, double s)
{
	rn_time end = r->w.now + secs(s);
	while (r->w.now < end) {
		sim_world_run_until(&r->w, r->w.now + secs(1));
		progress(r, 0);
	}
}

/* The DHT on the stable ring: the records published as nodes joined are
 * acknowledged, then (without churn to come) the gets run. */
static void dht_stable_phase(run *r, int churn_follows)
{
	const sim_dht_params *d = &r->p->dht;
	r->phase = "dht";
	run_for(r, 10);
	if (!churn_follows && d->gets) {
		sim_dht_schedule_gets(r->dht, d->gets, d->get_rate, S_DHT_GET);
		run_for(r, d->gets / d->get_rate +
				   4.0 * d->settings.request_rto_ms / 1000.0 + 1);
	}
}

/* Last: an audit of the records, then the address claims. */
static void dht_final_phase(run *r, sim_results *res)
{
	const sim_dht_params *d = &r->p->dht;
	sim_dht_audit(r->dht);
	if (d->claims) {
		r->phase = "claims";
		sim_dht_start_claims(r->dht);
		rn_time end = r->w.now + secs(300);
		while (r->w.now < end && sim_dht_claims_pending(r->dht)) {
			sim_world_run_until(&r->w, r->w.now + secs(1));
			progress(r, 0);
		}
		/* renewals after the claims settle show any duplicate left */
		run_for(r, 10);
	}
	uint64_t fail_lost = res->dht.fail_records_lost;
	sim_dht_results_get(r->dht, &res->dht);
	res->dht.fail_records_lost = fail_lost;
}

int sim_run(const sim_params *p, sim_results *res, char *err, size_t errlen)
{
	run *r = calloc(1, sizeof *r);
	memset(res, 0, sizeof *res);
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	r->p = p;
	r->phase = "setup";
	clock_gettime(CLOCK_MONOTONIC, &r->t0);
	r->last_progress = r->t0;
	const char *why;
	if (rn_settings_check(&p->settings, &why)) {
		snprintf(err, errlen, "invalid setting %s", why);
		free(r);
		return -1;
	}
	/* Pre-draw churn arrivals so that every id is known to the oracle. */
	uint32_t arrivals = 0;
	if (p->churn.kind != SIM_SESSION_NONE && p->churn_s > 0) {
		/* Replacements: sessions are heavy-tailed, so short ones recur;
		 * budget three times the mean turnover, and count it if short. */
		double mean = sim_session_mean_s(&p->churn);
		double a = (double)p->nodes * (3.0 * p->churn_s / mean + 0.5) + 1000;
		arrivals = a > 8e6 ? 8000000u : (uint32_t)a;
	}
	uint32_t total = p->nodes + arrivals;
	if (sim_world_init(&r->w, &p->settings, p->seed, total,
			   p->latency_path, err, errlen)) {
		sim_world_deinit(&r->w);
		free(r);
		return -1;
	}
	sim_world *w = &r->w;
	w->user = r;
	w->on_script = on_script;
	w->on_event = on_event;
	w->loss = p->loss;
	if (p->dht.on && p->dht.claims && p->settings.crypto == RN_CRYPTO_REAL) {
		snprintf(err, errlen, "address claims need crypto none: "
			 "certificates that grant a range are not implemented");
		goto fail;
	}
	if (p->dht.on && !(r->dht = sim_dht_study_new(w, &p->dht))) {
		snprintf(err, errlen, "out of memory for the DHT");
		goto fail;
	}
	r->pending = malloc(total * sizeof *r->pending);
	r->join_s = malloc(total * sizeof *r->join_s);
	uint32_t lk_max = p->lookups * (p->churn_s > 0 ? 2u : 1u) + 1;
	r->lk = calloc(lk_max, sizeof *r->lk);
	r->hops_hist = calloc(256, sizeof *r->hops_hist);
	if (!r->pending || !r->join_s || !r->lk || !r->hops_hist) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}

	/* join */
	r->phase = "join";
	r->measure_joins = 1;
	rn_time t = 0;
	sim_world_schedule(w, 0, S_JOIN, 0);
	for (uint32_t i = 1; i < p->nodes; i++) {
		t += secs(sim_exp_sample(&w->prng, 1.0 / p->join_rate)) + 1;
		sim_world_schedule(w, t, S_JOIN, i);
	}
	while (w->now <= t) {
		sim_world_run_until(w, w->now + secs(1));
		progress(r, 0);
	}
	r->phase = "settle";
	rn_time settle_end = w->now + secs(p->settle_s);
	while (w->now < settle_end && r->n_pending) {
		sim_world_run_until(w, w->now + secs(1));
		progress(r, 0);
	}
	res->joins_unplaced = r->n_pending;
	if (p->settings.log_level >= RN_LOG_INFO)
		for (uint32_t j = 0; j < r->n_pending && j < 5; j++)
			debug_unplaced(w, r->pending[j]);
	r->measure_joins = 0;
	qsort(r->join_s, r->n_join, sizeof *r->join_s, cmp_double);
	res->joins_measured = r->n_join;
	res->join_median_s = pct_sorted(r->join_s, r->n_join, 0.5);
	res->join_p99_s = pct_sorted(r->join_s, r->n_join, 0.99);
	res->join_max_s = r->n_join ? r->join_s[r->n_join - 1] : 0.0;

	/* idle: maintenance bytes */
	if (p->idle_s > 0) {
		r->phase = "idle";
		uint64_t b0, k0, l0, b1, k1, l1;
		sum_stats(r, &b0, &k0, &l0);
		rn_time end = w->now + secs(p->idle_s);
		while (w->now < end) {
			sim_world_run_until(w, w->now + secs(1));
			progress(r, 0);
		}
		sum_stats(r, &b1, &k1, &l1);
		double denom = (double)w->oracle.n_alive * p->idle_s;
		res->maint_bytes_per_node_s = (double)(b1 - b0) / denom;
		res->maint_wire_bytes_per_node_s =
			(double)(b1 - b0 + 28 * (k1 - k0)) / denom;
	}
	{
		uint64_t b, k, l;
		sum_stats(r, &b, &k, &l);
		res->links_mean = w->oracle.n_alive ? (double)l / w->oracle.n_alive : 0;
	}

	/* lookups on the stable ring */
	r->phase = "lookups";
	if (p->lookups)
		run_lookups(r, p->lookups, p->lookup_rate, w->now);

	int churn = p->churn.kind != SIM_SESSION_NONE && p->churn_s > 0;
	if (r->dht)
		dht_stable_phase(r, churn);

	/* churn */
	if (churn) {
		r->phase = "churn";
		r->churn_on = 1;
		uint32_t n_lk0 = r->n_lk;
		r->lk_churn_from = n_lk0;
		/* sessions for the nodes already there */
		for (uint32_t i = 0; i < p->nodes; i++)
			if (w->nodes[i].flags & SIM_ALIVE)
				sim_world_schedule(
					w, w->now + secs(sim_session_sample_s(&p->churn, &w->prng)),
					S_DEPART, i);
		rn_time end = w->now + secs(p->churn_s);
		r->next_new = p->nodes;
		r->total = total;
		if (r->dht) {
			sim_dht_schedule_gets(r->dht, p->dht.gets,
					      p->dht.gets / p->churn_s, S_DHT_GET);
			sim_world_schedule(w, w->now + secs(60), S_DHT_AUDIT, 0);
		}
		/* lookups spread over the churn period */
		double rate = p->lookups / p->churn_s;
		run_lookups(r, p->lookups, rate > 0 ? rate : 1, end);
		r->churn_on = 0;
		res->churn_departures = r->departures;
		res->churn_arrivals = r->arrivals;
		/* let the ring settle before the final consistency check */
		rn_time e2 = w->now + secs(p->settle_s);
		while (w->now < e2 && sim_world_consistent(w) != w->oracle.n_alive) {
			sim_world_run_until(w, w->now + secs(1));
			progress(r, 0);
		}
	}

	if (p->fail_fraction > 0)
		fail_phase(r, res);
	res->partition_merge_s = -1.0;
	if (p->partition_fraction > 0)
		partition_phase(r, res);
	if (r->dht)
		dht_final_phase(r, res);

	/* results */
	for (uint32_t i = 0; i < r->n_lk; i++) {
		lookup *l = &r->lk[i];
		if (l->excluded)
			res->lookups_excluded++;
		else if (r->lk_churn_from && i >= r->lk_churn_from) {
			res->churn_lookups++;
			res->churn_ok_first += l->done == 1;
			res->churn_ok_retry += l->done >= 1;
		} else {
			res->lookups++;
			res->lookups_ok_first += l->done == 1;
			res->lookups_ok_retry += l->done >= 1;
		}
	}
	{
		uint64_t cnt = 0, sum = 0, acc = 0;
		for (int h = 0; h < 256; h++) {
			cnt += r->hops_hist[h];
			sum += (uint64_t)h * r->hops_hist[h];
			if (r->hops_hist[h])
				res->hops_max = h;
		}
		res->hops_mean = cnt ? (double)sum / (double)cnt : 0;
		int p50 = -1, p99 = -1;
		for (int h = 0; h < 256; h++) {
			acc += r->hops_hist[h];
			if (p50 < 0 && acc * 2 >= cnt && cnt)
				p50 = h;
			if (p99 < 0 && acc * 100 >= cnt * 99 && cnt)
				p99 = h;
		}
		res->hops_p50 = p50 < 0 ? 0 : p50;
		res->hops_p99 = p99 < 0 ? 0 : p99;
	}
	for (uint32_t i = 0; i < w->n_nodes; i++) {
		if (!(w->nodes[i].flags & SIM_ALIVE))
			continue;
		const rn_node_stats *st = rn_node_get_stats(w->nodes[i].node);
		res->route_lost += st->route_lost;
		res->reroutes += st->reroutes;
		res->drop_noroute += st->drop_noroute;
		res->drop_ttl += st->drop_ttl;
		res->drop_full += st->drop_full;
		res->links_dead += st->links_dead;
		res->links_failed += st->links_failed;
		const rn_sec_stats *ss = rn_node_sec_stats(w->nodes[i].node);
#define ADD(f) res->sec.f += ss->f;
		RN_SEC_STATS_FIELDS(ADD)
#undef ADD
	}
	res->nodes = p->nodes;
	res->alive_end = w->oracle.n_alive;
	res->consistent_nodes = sim_world_consistent(w);
	res->ring_consistent = res->consistent_nodes == w->oracle.n_alive;
	if (p->settings.log_level >= RN_LOG_INFO && !res->ring_consistent)
		for (uint32_t i = 0, shown = 0; i < w->n_nodes && shown < 5; i++)
			if ((w->nodes[i].flags & SIM_ALIVE) && !sim_node_placed(w, i)) {
				debug_unplaced(w, i);
				shown++;
			}
	res->events = w->n_events;
	res->wall_s = wall_since(&r->t0);
	res->events_per_s = res->wall_s > 0 ? (double)w->n_events / res->wall_s : 0;
	res->sim_s = (double)w->now / 1e6;
	res->trace_hash = w->trace_hash;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	res->peak_rss_bytes = (uint64_t)ru.ru_maxrss * 1024u;
	r->phase = "done";
	progress(r, 1);
	if (p->settings.log_level >= RN_LOG_INFO) {
		static const char *const names[] = {"?", "hello", "hello_ack", "ping", "pong",
					      "close", "neighbors", "routed", "hop_ack"};
		for (int ty = 1; ty <= 8; ty++)
			fprintf(stderr, "datagrams %-10s %llu\n", names[ty],
				(unsigned long long)w->pkts_by_type[ty]);
	}
	sim_world_deinit(w);
	sim_dht_study_free(r->dht);
	free(r->pending);
	free(r->join_s);
	free(r->lk);
	free(r->hops_hist);
	free(r);
	return 0;
fail:
	sim_world_deinit(w);
	sim_dht_study_free(r->dht);
	free(r->pending);
	free(r->join_s);
	free(r->lk);
	free(r->hops_hist);
	free(r);
	return -1;
}
