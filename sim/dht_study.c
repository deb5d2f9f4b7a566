/* The DHT study: workload and books (dht_study.h). */
#include "dht_study.h"

#include <stdlib.h>
#include <string.h>

#include "../core/err.h"
#include "churn.h"

/* rid layout: kind << 56 | index << 8 | try */
enum { RID_PUBLISH = 1, RID_GET = 2, RID_CLAIM = 3 };

typedef struct dht_get {
	uint32_t asker, target;
	rn_time issued;
	uint8_t tries, done, excluded;
} dht_get;

typedef struct dht_claim {
	uint32_t node;
	uint32_t addr;  /* the address being claimed or held */
	rn_time started;
	double done_s;  /* to the lease */
	uint8_t tries, held, failed;
} dht_claim;

/* The key id of a node's member record, for the audits. */
typedef struct member_key {
	rn_id key_id;
	uint32_t node;
} member_key;

struct sim_dht_study {
	sim_world *w;
	member_key *mk; /* one per node slot, sorted by key id */
	const sim_dht_params *p;
	uint8_t *published;   /* per node: 1 sent, 2 acknowledged */
	uint8_t *lost_seen;   /* per node: its record was found lost once */
	dht_get *gets;
	uint32_t n_gets, cap_gets;
	double *latency;
	uint32_t n_latency;
	dht_claim *claims;
	uint32_t n_claims, claims_open;
	sim_dht_results r;
};

void sim_dht_params_default(sim_dht_params *p)
{
	memset(p, 0, sizeof *p);
	rn_dht_settings_default(&p->settings);
	p->ttl_s = 3600;
	p->get_rate = 100.0;
	p->claim_prefix = 0x0AC80000u; /* 10.200.0.0/16 */
	p->claim_bits = 16;
	p->claim_tries_max = 32;
}

static uint64_t rid(unsigned kind, uint32_t idx, uint8_t try)
{
	return (uint64_t)kind << 56 | (uint64_t)idx << 8 | try;
}

static void vip_of(uint32_t node, uint8_t v[4])
{
	uint32_t vip = 0x0A000000u + node; /* as sim_world_start */
	v[0] = (uint8_t)(vip >> 24);
	v[1] = (uint8_t)(vip >> 16);
	v[2] = (uint8_t)(vip >> 8);
	v[3] = (uint8_t)vip;
}

static int live_joined(const sim_world *w, uint32_t i)
{
	const sim_node *sn = &w->nodes[i];
	return (sn->flags & SIM_ALIVE) && w->dht[i] &&
	       rn_node_state(sn->node) == RN_NODE_JOINED;
}

/* A random live, joined node (with pub: whose record was acknowledged). */
static uint32_t pick(sim_dht_study *s, int pub)
{
	sim_world *w = s->w;
	for (int tries = 0; tries < 1024; tries++) {
		uint32_t i = (uint32_t)rn_prng_below(&w->prng, w->n_nodes);
		if (live_joined(w, i) && (!pub || s->published[i] == 2))
			return i;
	}
	return UINT32_MAX;
}

static void send_get(sim_dht_study *s, uint32_t idx)
{
	sim_world *w = s->w;
	dht_get *g = &s->gets[idx];
	if (!live_joined(w, g->target)) {
		g->excluded = 1; /* its owner left: nothing to find */
		return;
	}
	if (!live_joined(w, g->asker)) {
		g->asker = pick(s, 0);
		if (g->asker == UINT32_MAX) {
			g->excluded = 1;
			return;
		}
	}
	uint8_t key[4];
	vip_of(g->target, key);
	g->tries++;
	g->issued = w->now;
	if (rn_dht_get(w->dht[g->asker], w->now, rid(RID_GET, idx, g->tries),
		       "member", key, 4))
		g->excluded = 1;
}

static void claim_send(sim_dht_study *s, uint32_t idx)
{
	sim_world *w = s->w;
	dht_claim *c = &s->claims[idx];
	if (!live_joined(w, c->node) ||
	    c->tries >= s->p->claim_tries_max) {
		c->failed = 1;
		s->claims_open--;
		return;
	}
	c->addr = s->p->claim_prefix |
		  (uint32_t)rn_prng_below(&w->prng, 1ull << s->p->claim_bits);
	uint8_t key[4] = {(uint8_t)(c->addr >> 24), (uint8_t)(c->addr >> 16),
			  (uint8_t)(c->addr >> 8), (uint8_t)c->addr};
	uint8_t me[4];
	vip_of(c->node, me);
	c->tries++;
	if (rn_dht_write(w->dht[c->node], w->now,
			 rid(RID_CLAIM, idx, c->tries), RN_DHT_CREATE, "lease",
			 key, 4, me, 4, s->p->ttl_s, 0, 1)) {
		c->failed = 1;
		s->claims_open--;
	}
}

static int claim_of(const sim_dht_study *s, uint32_t node)
{
	for (uint32_t k = 0; k < s->n_claims; k++)
		if (s->claims[k].node == node)
			return (int)k;
	return -1;
}

static void on_dht(sim_world *w, uint32_t node, const rn_dht_result *res)
{
	sim_dht_study *s = w->user_dht;
	uint64_t id = res->rid;
	int op = res->op, status = res->status;
	const rn_rec *recs = res->recs;
	uint32_t n_recs = res->n_recs;
	unsigned kind = (unsigned)(id >> 56);
	uint32_t idx = (uint32_t)(id >> 8);
	uint8_t try = (uint8_t)id;
	if (id == 0) { /* a refresh, or the retry of a publication */
		if (op == RN_DHT_CREATE && status == RN_ERR_CONFLICT)
			s->r.renew_conflicts++;
		if (op == RN_DHT_PUT && status == 0 && s->published[node] == 1) {
			s->published[node] = 2;
			s->r.published_ok++;
		}
		return;
	}
	switch (kind) {
	case RID_PUBLISH:
		if (status == 0 && s->published[node] == 1) {
			s->published[node] = 2;
			s->r.published_ok++;
		}
		break;
	case RID_GET: {
		if (idx >= s->n_gets)
			break;
		dht_get *g = &s->gets[idx];
		if (g->done || g->excluded || g->tries != try)
			break;
		/* the DHT passed on only checked, live records of the key
		 * asked for; its member's own (only it may write the key
		 * under crypto real, and nobody else does under none) */
		uint8_t want[4];
		vip_of(g->target, want);
		int ok = 0;
		for (uint32_t k = 0; k < n_recs && !ok; k++)
			ok = recs[k].key_len == 4 &&
			     memcmp(recs[k].key, want, 4) == 0;
		if (ok) {
			g->done = g->tries;
			s->latency[s->n_latency++] =
				(double)(w->now - g->issued) / 1e6;
		} else if (g->tries < 2) {
			send_get(s, idx);
		}
		break;
	}
	case RID_CLAIM: {
		if (idx >= s->n_claims)
			break;
		dht_claim *c = &s->claims[idx];
		if (c->held || c->failed || c->tries != try)
			break;
		if (status == 0) {
			c->held = 1;
			c->done_s = (double)(w->now - c->started) / 1e6;
			s->claims_open--;
			break;
		}
		if (status == RN_ERR_CONFLICT)
			s->r.claim_conflicts++;
		/* forget the address (the record lives out its lease) */
		uint8_t key[4] = {(uint8_t)(c->addr >> 24),
				  (uint8_t)(c->addr >> 16),
				  (uint8_t)(c->addr >> 8), (uint8_t)c->addr};
		rn_dht_forget(w->dht[c->node], "lease", key, 4);
		claim_send(s, idx);
		break;
	}
	default:
		break;
	}
}

static int cmp_mk(const void *a, const void *b)
{
	return rn_id_cmp(&((const member_key *)a)->key_id,
			 &((const member_key *)b)->key_id);
}

/* The node whose member record has this key id, or UINT32_MAX. */
static uint32_t member_of(const sim_dht_study *s, const rn_id *key_id)
{
	uint32_t lo = 0, hi = s->w->n_nodes;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = rn_id_cmp(&s->mk[mid].key_id, key_id);
		if (c == 0)
			return s->mk[mid].node;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return UINT32_MAX;
}

sim_dht_study *sim_dht_study_new(sim_world *w, const sim_dht_params *p)
{
	sim_dht_study *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->w = w;
	s->p = p;
	s->published = calloc(w->n_nodes, 1);
	s->mk = calloc(w->n_nodes, sizeof *s->mk);
	if (s->mk) {
		for (uint32_t i = 0; i < w->n_nodes; i++) {
			uint8_t v[4];
			vip_of(i, v);
			rn_rec_key_id(&s->mk[i].key_id, w->group_id, "member", 6,
				      v, 4);
			s->mk[i].node = i;
		}
		qsort(s->mk, w->n_nodes, sizeof *s->mk, cmp_mk);
	}
	s->lost_seen = calloc(w->n_nodes, 1);
	s->cap_gets = 2 * p->gets + 1;
	s->gets = calloc(s->cap_gets, sizeof *s->gets);
	s->latency = calloc(s->cap_gets, sizeof *s->latency);
	s->claims = calloc(p->claims + 1, sizeof *s->claims);
	if (!s->published || !s->mk || !s->lost_seen || !s->gets || !s->latency ||
	    !s->claims || sim_world_enable_dht(w, &p->settings, on_dht)) {
		sim_dht_study_free(s);
		return NULL;
	}
	w->user_dht = s;
	s->r.replicas = p->settings.replicas;
	return s;
}

void sim_dht_study_free(sim_dht_study *s)
{
	if (!s)
		return;
	free(s->published);
	free(s->mk);
	free(s->lost_seen);
	free(s->gets);
	free(s->latency);
	free(s->claims);
	free(s);
}

void sim_dht_on_joined(sim_dht_study *s, uint32_t i)
{
	sim_world *w = s->w;
	uint8_t key[4], value[96];
	if (!w->dht[i] || s->published[i])
		return;
	/* A member record's size: key, endpoints and a name (docs/dht.md). */
	vip_of(i, key);
	memset(value, 0, sizeof value);
	memcpy(value, rn_node_id(w->nodes[i].node)->b, RN_ID_LEN);
	/* marked first: the answer may come before the call returns */
	s->published[i] = 1;
	s->r.published++;
	if (rn_dht_write(w->dht[i], w->now, rid(RID_PUBLISH, i, 1), RN_DHT_PUT,
			 "member", key, 4, value, sizeof value, s->p->ttl_s,
			 RN_REC_REPLACE, 1)) {
		s->published[i] = 0;
		s->r.published--;
	}
}

void sim_dht_schedule_gets(sim_dht_study *s, uint32_t count, double rate,
			   uint32_t script_type)
{
	sim_world *w = s->w;
	rn_time t = w->now;
	for (uint32_t k = 0; k < count && s->n_gets < s->cap_gets; k++) {
		t += (rn_time)(sim_exp_sample(&w->prng, 1.0 / rate) *
			       1e6) + 1;
		sim_world_schedule(w, t, script_type, s->n_gets++);
	}
}

void sim_dht_script(sim_dht_study *s, uint32_t idx)
{
	if (idx >= s->n_gets)
		return;
	dht_get *g = &s->gets[idx];
	g->asker = pick(s, 0);
	g->target = pick(s, 1);
	if (g->asker == UINT32_MAX || g->target == UINT32_MAX) {
		g->excluded = 1;
		return;
	}
	send_get(s, idx);
}

uint64_t sim_dht_audit(sim_dht_study *s)
{
	sim_world *w = s->w;
	uint8_t *held = calloc(w->n_nodes, 1);
	uint64_t lost = 0;
	if (!held)
		return 0;
	for (uint32_t i = 0; i < w->n_nodes; i++) {
		if (!(w->nodes[i].flags & SIM_ALIVE) || !w->dht[i])
			continue;
		const rn_store *st = rn_dht_store(w->dht[i]);
		uint64_t t = rn_node_unix_ms(w->nodes[i].node, w->now);
		for (uint32_t k = 0; k < st->n; k++) {
			const rn_store_entry *e = &st->v[k];
			if (e->expires <= t || (e->flags & RN_REC_TOMB))
				continue;
			uint32_t node = member_of(s, &e->key_id);
			if (node != UINT32_MAX)
				held[node] = 1;
		}
	}
	for (uint32_t i = 0; i < w->n_nodes; i++) {
		if (s->published[i] != 2 || !(w->nodes[i].flags & SIM_ALIVE) ||
		    held[i])
			continue;
		lost++;
		if (!s->lost_seen[i]) {
			s->lost_seen[i] = 1;
			s->r.records_lost++;
		}
	}
	free(held);
	s->r.audits++;
	if (lost > s->r.lost_worst_audit)
		s->r.lost_worst_audit = lost;
	return lost;
}

void sim_dht_start_claims(sim_dht_study *s)
{
	/* distinct members; bounded tries (a ring smaller than the claims) */
	for (uint32_t k = 0; k < 4 * s->p->claims && s->n_claims < s->p->claims;
	     k++) {
		uint32_t i = pick(s, 0);
		if (i == UINT32_MAX || claim_of(s, i) >= 0)
			continue;
		dht_claim *c = &s->claims[s->n_claims++];
		c->node = i;
		c->started = s->w->now;
		s->claims_open++;
		claim_send(s, s->n_claims - 1);
	}
}

uint32_t sim_dht_claims_pending(const sim_dht_study *s)
{
	return s->claims_open;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

static double pct(const double *v, uint32_t n, double q)
{
	if (!n)
		return 0;
	uint32_t k = (uint32_t)(q * (n - 1) + 0.5);
	return v[k < n ? k : n - 1];
}

void sim_dht_results_get(sim_dht_study *s, sim_dht_results *r)
{
	sim_world *w = s->w;
	for (uint32_t k = 0; k < s->n_gets; k++) {
		dht_get *g = &s->gets[k];
		if (g->excluded) {
			s->r.gets_excluded++;
			continue;
		}
		if (!g->tries)
			continue;
		s->r.gets++;
		s->r.gets_ok_first += g->done == 1;
		s->r.gets_ok_retry += g->done >= 1;
	}
	qsort(s->latency, s->n_latency, sizeof *s->latency, cmp_double);
	double sum = 0;
	for (uint32_t k = 0; k < s->n_latency; k++)
		sum += s->latency[k];
	s->r.get_latency_mean_s = s->n_latency ? sum / s->n_latency : 0;
	s->r.get_latency_p50_s = pct(s->latency, s->n_latency, 0.5);
	s->r.get_latency_p99_s = pct(s->latency, s->n_latency, 0.99);
	/* claims: time to a lease, and addresses held twice */
	double *lt = calloc(s->n_claims + 1, sizeof *lt);
	uint32_t *addr = calloc(s->n_claims + 1, sizeof *addr);
	uint32_t nl = 0, na = 0;
	s->r.claims = s->n_claims;
	for (uint32_t k = 0; k < s->n_claims; k++) {
		dht_claim *c = &s->claims[k];
		if (!c->held)
			continue;
		s->r.claims_done++;
		if (lt)
			lt[nl++] = c->done_s;
		if (addr && (w->nodes[c->node].flags & SIM_ALIVE))
			addr[na++] = c->addr;
	}
	if (lt) {
		qsort(lt, nl, sizeof *lt, cmp_double);
		s->r.lease_time_median_s = pct(lt, nl, 0.5);
		s->r.lease_time_p99_s = pct(lt, nl, 0.99);
	}
	if (addr) {
		qsort(addr, na, sizeof *addr, cmp_u32);
		for (uint32_t k = 1; k < na; k++)
			s->r.lease_duplicates += addr[k] == addr[k - 1];
	}
	free(lt);
	free(addr);
	for (uint32_t i = 0; i < w->n_nodes; i++) {
		if (!w->dht[i])
			continue;
		const rn_dht_stats *st = rn_dht_get_stats(w->dht[i]);
		s->r.bad_records += st->bad_record;
		s->r.expired_records += st->expired_record;
		s->r.store_recs_sent += st->store_recs_sent;
		s->r.handoff_recs += st->handoff_recs;
		s->r.repaired += st->fetch_repaired;
	}
	*r = s->r;
}
