/* The DHT of one node (dht.h, docs/dht.md). */
#include "dht.h"

#include <stdlib.h>
#include <string.h>

#include "../core/err.h"
#include "../overlay/msg.h"

#define NEAR_MAX 64      /* near ids considered: 2 near_k, and then some */
#define REPLICAS_MAX 17  /* r <= 2 near_k + 1 with near_k <= 8 */

typedef struct dht_req {
	uint64_t rid;   /* the caller's */
	uint64_t token; /* on the wire: random, so answers cannot be forged */
	uint8_t op, tries;
	uint32_t due_ms;
	rn_id key_id;
	uint8_t ns_len, key_len;
	char ns[RN_REC_NS_MAX];
	uint8_t key[RN_REC_KEY_MAX];
	uint16_t len;
	uint8_t *body; /* the DHT_REQ as sent, for the resend */
} dht_req;

typedef struct dht_fetch {
	uint64_t rid;   /* the get being repaired (the asker's token) */
	uint64_t token; /* of our FETCHes, echoed by empty answers */
	rn_id asker;    /* who asked */
	rn_id key_id;
	uint8_t op, waiting; /* replicas yet to answer */
	uint32_t due_ms;
} dht_fetch;

typedef struct dht_own {
	uint8_t op, flags;
	uint8_t ns_len, key_len;
	uint16_t value_len;
	char ns[RN_REC_NS_MAX + 1];
	uint8_t key[RN_REC_KEY_MAX];
	uint8_t *value;
	uint32_t ttl_s;
	uint64_t created;    /* unix ms of the first claim */
	uint32_t refresh_ms; /* node ms */
} dht_own;

struct rn_dht {
	rn_node *node;
	const rn_dht_settings *s; /* shared, read live */
	rn_upper up;
	uint8_t group_id[RN_GROUP_ID_LEN];
	uint8_t group_pk[RN_SIGN_PK_LEN];
	const rn_ident *ident;
	uint8_t writer[RN_SIGN_PK_LEN];
	rn_rec_policy policy;
	msgpack_zone zone;
	rn_store store;
	dht_req *req;     /* grown up to requests_max */
	uint32_t n_req, cap_req;
	dht_fetch *fetch; /* grown up to fetches_max */
	uint32_t n_fetch, cap_fetch;
	dht_own *own;     /* grown up to own_max */
	uint32_t n_own, cap_own;
	rn_id near[NEAR_MAX]; /* the view the last handoff worked from */
	uint32_t n_near;
	uint8_t handoff_due;
	uint32_t handoff_ms;
	uint64_t last_ts;     /* ts of our last record: strictly increasing */
	uint32_t next_expiry_check_ms;
	rn_dht_result_fn cb;
	void *cb_ctx;
	rn_dht_stats st;
};

void rn_dht_settings_default(rn_dht_settings *s)
{
	s->replicas = 12; /* bench/results/2026-11-26-issue4.md */
	s->records_max = 4096;
	s->per_writer_max = 64;
	s->requests_max = 256;
	s->request_rto_ms = 2000;
	s->fetches_max = 32;
	s->fetch_wait_ms = 1000;
	s->handoff_delay_ms = 1000;
	s->own_max = 64;
	s->ttl_max_s = 86400;
	s->skew_ms = 120000;
}

/* Makes room for one more of *n entries of size sz in *v (capacity *cap),
 * doubling up to max: 0, or RN_ERR_FULL / RN_ERR_NOMEM. A node that never
 * uses the DHT much keeps these tables small. */
static int grow(void **v, uint32_t n, uint32_t *cap, uint32_t max, size_t sz)
{
	if (n < *cap)
		return 0;
	if (n >= max)
		return RN_ERR_FULL;
	uint32_t c = *cap ? 2 * *cap : 4;
	if (c > max)
		c = max;
	void *nv = realloc(*v, c * sz);
	if (!nv)
		return RN_ERR_NOMEM;
	*v = nv;
	*cap = c;
	return 0;
}

/* ---- the replica set ---------------------------------------------------- */

static void abs_dist(rn_id *d, const rn_id *a, const rn_id *b)
{
	rn_id cw, ccw;
	rn_id_dist_cw(&cw, a, b);
	rn_id_dist_cw(&ccw, b, a);
	*d = rn_id_cmp(&cw, &ccw) <= 0 ? cw : ccw;
}

/* The r closest to key among self and view[0..n): out gets their ids,
 * closest first. Returns how many (<= r). */
static uint32_t replica_set(const rn_dht *d, const rn_id *key,
			    const rn_id *view, uint32_t n, rn_id *out)
{
	rn_id dist[REPLICAS_MAX];
	uint32_t r = d->s->replicas, c = 0;
	for (uint32_t i = 0; i <= n; i++) {
		const rn_id *id = i < n ? &view[i] : rn_node_id(d->node);
		rn_id dd;
		abs_dist(&dd, id, key);
		uint32_t at = c;
		while (at > 0 && rn_id_cmp(&dd, &dist[at - 1]) < 0)
			at--;
		if (at >= r)
			continue;
		uint32_t last = c < r ? c : r - 1;
		for (uint32_t j = last; j > at; j--) {
			dist[j] = dist[j - 1];
			out[j] = out[j - 1];
		}
		dist[at] = dd;
		out[at] = *id;
		if (c < r)
			c++;
	}
	return c;
}

static int cmp_id(const void *a, const void *b)
{
	return rn_id_cmp(a, b);
}

/* Whether key lies inside the stretch of ring that view (the near set)
 * covers around us: only then is the replica set computed from it right.
 * A node far from the key would otherwise take its own neighbours for the
 * key's and hand the records on to them, and they to theirs. */
static int covers(const rn_dht *d, const rn_id *key, const rn_id *view,
		  uint32_t nv)
{
	rn_id off[NEAR_MAX], k;
	const rn_id *me = rn_node_id(d->node);
	if (nv < 4)
		return 1; /* a ring this small is all in sight */
	for (uint32_t i = 0; i < nv; i++)
		rn_id_sub(&off[i], &view[i], me);
	qsort(off, nv, sizeof *off, cmp_id);
	rn_id_sub(&k, key, me);
	/* successors are the nearest clockwise half, predecessors the rest */
	return rn_id_cmp(&k, &off[nv / 2 - 1]) <= 0 ||
	       rn_id_cmp(&k, &off[nv / 2]) >= 0;
}

static int id_in(const rn_id *id, const rn_id *set, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (rn_id_cmp(id, &set[i]) == 0)
			return 1;
	return 0;
}

/* ---- sending ------------------------------------------------------------ */

static int send_body(rn_dht *d, rn_time now, const rn_id *to, int closest,
		     const rn_dht_body *b)
{
	uint8_t buf[RN_BODY_MAX];
	size_t len;
	int rc = rn_dht_body_encode(b, buf, sizeof buf, &len);
	if (!rc)
		rc = rn_node_route_body(d->node, now, to, closest, buf, len);
	return rc;
}

/* Sends store entries v[first..first+n) to `to` (exactly, or to the node
 * closest to it) in DHT_STORE bodies, as many records to a body as fit;
 * extend: how many nodes further out the receiver is to pass them on to. */
static void send_entries_ext(rn_dht *d, rn_time now, const rn_id *to,
			     int closest, uint32_t first, uint32_t n,
			     uint8_t extend)
{
	rn_dht_body b;
	size_t bytes = 0;
	memset(&b, 0, sizeof b);
	b.type = RN_DHT_STORE;
	b.extend = extend;
	for (uint32_t i = first; i < first + n; i++) {
		const rn_store_entry *e = &d->store.v[i];
		if (b.n_recs &&
		    (b.n_recs == RN_DHT_RECS_MAX || bytes + e->len > 1100)) {
			send_body(d, now, to, closest, &b);
			d->st.store_msgs_sent++;
			b.n_recs = 0;
			bytes = 0;
		}
		b.recs[b.n_recs].p = e->rec;
		b.recs[b.n_recs].n = e->len;
		b.n_recs++;
		bytes += e->len + 3;
		d->st.store_recs_sent++;
	}
	if (b.n_recs) {
		send_body(d, now, to, closest, &b);
		d->st.store_msgs_sent++;
	}
}

static void send_entries(rn_dht *d, rn_time now, const rn_id *to,
			 int closest, uint32_t first, uint32_t n)
{
	send_entries_ext(d, now, to, closest, first, n, 0);
}

static void respond(rn_dht *d, rn_time now, const rn_id *to, uint8_t op,
		    uint64_t rid, int status, uint32_t first, uint32_t n)
{
	rn_dht_body b;
	size_t bytes = 0;
	memset(&b, 0, sizeof b);
	b.type = RN_DHT_RESP;
	b.op = op;
	b.rid = rid;
	b.status = (uint32_t)-status;
	for (uint32_t i = first; i < first + n; i++) {
		const rn_store_entry *e = &d->store.v[i];
		if (op == RN_DHT_GET && (e->flags & RN_REC_TOMB))
			continue; /* a removal is no value */
		if (b.n_recs == RN_DHT_RECS_MAX || bytes + e->len > 1100) {
			b.more = 1;
			break;
		}
		b.recs[b.n_recs].p = e->rec;
		b.recs[b.n_recs].n = e->len;
		b.n_recs++;
		bytes += e->len + 3;
	}
	send_body(d, now, to, 0, &b);
}

/* ---- records ------------------------------------------------------------ */

/* Decodes and checks one record; fills key_id. */
static int take_record(rn_dht *d, rn_time now, const rn_dht_bytes *in,
		       rn_rec *r, rn_id *key_id)
{
	int rc = rn_rec_decode(&d->zone, in->p, in->n, r);
	if (!rc)
		rc = rn_rec_check(r, &d->policy,
				  rn_node_unix_ms(d->node, now));
	if (rc == RN_ERR_EXPIRED)
		d->st.expired_record++; /* its lease ended on the way */
	else if (rc)
		d->st.bad_record++;
	if (rc)
		return rc;
	rn_rec_key_id(key_id, d->group_id, r->ns, r->ns_len, r->key,
		      r->key_len);
	return 0;
}

/* Live entries of key_id (expired ones are dropped first). */
static uint32_t live_entries(rn_dht *d, rn_time now, const rn_id *key_id,
			     uint32_t *first)
{
	uint64_t t = rn_node_unix_ms(d->node, now);
	uint32_t f, n = rn_store_find(&d->store, key_id, &f);
	for (uint32_t i = f; i < f + n; i++)
		if (d->store.v[i].expires <= t) {
			rn_store_expire(&d->store, t);
			n = rn_store_find(&d->store, key_id, &f);
			break;
		}
	*first = f;
	return n;
}

/* Our view in ring order: ord[0] is us, ord[1..half] our successors
 * nearest first, ord[nv..half+1] our predecessors nearest first. */
static uint32_t ring_order(const rn_dht *d, rn_id *ord, const rn_id *view,
			   uint32_t nv)
{
	rn_id off[NEAR_MAX];
	const rn_id *me = rn_node_id(d->node);
	ord[0] = *me;
	for (uint32_t i = 0; i < nv; i++)
		rn_id_sub(&off[i], &view[i], me);
	qsort(off, nv, sizeof *off, cmp_id);
	for (uint32_t i = 0; i < nv; i++)
		rn_id_add(&ord[i + 1], me, &off[i]);
	return nv + 1;
}

/* A replica set wider than our window (r > 2 half + 1, half = near_k):
 * the outermost node of the window on each side is asked to pass the
 * records on to this many of its own neighbours further out, so that
 * the primary and ceil((r - 1) / 2) + 1 nodes on each side hold them. */
static uint8_t extension(const rn_dht *d, uint32_t nv)
{
	uint32_t half = nv / 2, r = d->s->replicas;
	if (nv < 4 || r <= 2 * half + 1)
		return 0;
	/* (r - 1) / 2 - half rounded up, and one more: the r closest to the
	 * key need not lie evenly on both sides of the primary */
	uint32_t e = (r - 2 * half) / 2 + 1;
	return (uint8_t)(e > RN_DHT_EXTEND_MAX ? RN_DHT_EXTEND_MAX : e);
}

/* A STORE that asked us to pass it on: to our next `extend` neighbours
 * on the side away from the sender. */
static void pass_on(rn_dht *d, rn_time now, const rn_id *from,
		    const rn_id *key_id, uint8_t extend)
{
	rn_id view[NEAR_MAX], ord[NEAR_MAX + 1];
	uint32_t nv = rn_node_near_ids(d->node, view, NEAR_MAX);
	uint32_t total = ring_order(d, ord, view, nv), half = nv / 2, at = 0;
	for (uint32_t i = 1; i < total; i++)
		if (rn_id_cmp(&ord[i], from) == 0)
			at = i;
	if (!at || !half)
		return; /* the sender is out of sight: which way is out? */
	uint32_t first, n = rn_store_find(&d->store, key_id, &first);
	for (uint32_t k = 1; k <= extend && k <= half; k++) {
		/* from a predecessor: on to our successors; else to our
		 * predecessors, nearest first */
		uint32_t i = at > half ? k : total - k;
		send_entries(d, now, &ord[i], 0, first, n);
	}
}

/* Sends every entry of key_id to the rest of its replica set. */
static void replicate(rn_dht *d, rn_time now, const rn_id *key_id)
{
	rn_id view[NEAR_MAX], set[REPLICAS_MAX];
	uint32_t nv = rn_node_near_ids(d->node, view, NEAR_MAX);
	uint32_t ns = replica_set(d, key_id, view, nv, set);
	uint32_t first, n = rn_store_find(&d->store, key_id, &first);
	uint8_t ext = extension(d, nv);
	rn_id ord[NEAR_MAX + 1];
	if (ext)
		ring_order(d, ord, view, nv);
	for (uint32_t k = 0; k < ns; k++) {
		if (rn_id_cmp(&set[k], rn_node_id(d->node)) == 0)
			continue;
		/* the outermost successor and predecessor pass it on */
		int edge = ext && (rn_id_cmp(&set[k], &ord[nv / 2]) == 0 ||
				   rn_id_cmp(&set[k], &ord[nv / 2 + 1]) == 0);
		send_entries_ext(d, now, &set[k], 0, first, n,
				 edge ? ext : 0);
	}
}

/* Whether we are the closest to key_id that we know of. */
static int is_primary(rn_dht *d, const rn_id *key_id)
{
	rn_id view[NEAR_MAX], set[REPLICAS_MAX];
	uint32_t nv = rn_node_near_ids(d->node, view, NEAR_MAX);
	uint32_t ns = replica_set(d, key_id, view, nv, set);
	return ns && rn_id_cmp(&set[0], rn_node_id(d->node)) == 0;
}

/* ---- the primary -------------------------------------------------------- */

static void on_request(rn_dht *d, rn_time now, const rn_id *src,
		       const rn_dht_body *b)
{
	rn_id key_id;
	uint32_t first, n;
	d->st.primary_ops++;
	rn_rec_key_id(&key_id, d->group_id, (const char *)b->ns.p, b->ns.n,
		      b->key.p, b->key.n);
	if (b->op == RN_DHT_GET) {
		n = live_entries(d, now, &key_id, &first);
		if (n) {
			respond(d, now, src, b->op, b->rid, 0, first, n);
			return;
		}
		/* Read repair: ask the rest of the replica set first. */
		rn_id view[NEAR_MAX], set[REPLICAS_MAX];
		uint32_t nv = rn_node_near_ids(d->node, view, NEAR_MAX);
		uint32_t nr = replica_set(d, &key_id, view, nv, set);
		if (nr <= 1 || grow((void **)&d->fetch, d->n_fetch, &d->cap_fetch,
				    d->s->fetches_max, sizeof *d->fetch)) {
			if (nr > 1)
				d->st.fetch_full++;
			respond(d, now, src, b->op, b->rid, RN_ERR_NOTFOUND, 0,
				0);
			return;
		}
		dht_fetch *f = &d->fetch[d->n_fetch++];
		f->rid = b->rid;
		f->asker = *src;
		f->key_id = key_id;
		f->op = b->op;
		f->waiting = 0;
		rn_node_random(d->node, &f->token, sizeof f->token);
		uint32_t now_ms = rn_node_now_ms(d->node, now);
		f->due_ms = now_ms + d->s->fetch_wait_ms;
		rn_dht_body q;
		memset(&q, 0, sizeof q);
		q.type = RN_DHT_FETCH;
		q.rid = f->token;
		q.key_id = key_id;
		for (uint32_t k = 0; k < nr; k++) {
			if (rn_id_cmp(&set[k], rn_node_id(d->node)) == 0)
				continue;
			if (send_body(d, now, &set[k], 0, &q) == 0) {
				f->waiting++;
				d->st.fetch_sent++;
			}
		}
		rn_node_upper_wake(d->node, now, f->due_ms);
		return;
	}
	rn_rec r;
	rn_id rk;
	int rc = take_record(d, now, &b->rec, &r, &rk);
	if (!rc && (rn_id_cmp(&rk, &key_id) != 0 ||
		    (b->op == RN_DHT_REMOVE) != !!(r.flags & RN_REC_TOMB) ||
		    (b->op == RN_DHT_CREATE) != !!(r.flags & RN_REC_EXCL)))
		rc = RN_ERR_PROTO;
	uint32_t holder = 0;
	if (!rc)
		rc = rn_store_offer(&d->store, &key_id, &r, b->rec.p, b->rec.n,
				    rn_node_unix_ms(d->node, now),
				    RN_STORE_CREATE, d->s->skew_ms, &holder);
	if (rc == 0)
		replicate(d, now, &key_id);
	if (rc == RN_ERR_STALE)
		rc = 0; /* a resend, or the writer's newer version is held */
	if (rc == RN_ERR_CONFLICT)
		respond(d, now, src, b->op, b->rid, rc, holder, 1);
	else
		respond(d, now, src, b->op, b->rid, rc, 0, 0);
}

/* Records sent for replication, handoff or read repair. */
static void on_store(rn_dht *d, rn_time now, const rn_id *src,
		     const rn_dht_body *b)
{
	for (unsigned i = 0; i < b->n_recs; i++) {
		rn_rec r;
		rn_id key_id;
		if (take_record(d, now, &b->recs[i], &r, &key_id))
			continue;
		int rc = rn_store_offer(&d->store, &key_id, &r, b->recs[i].p,
					b->recs[i].n,
					rn_node_unix_ms(d->node, now),
					RN_STORE_MERGE, d->s->skew_ms, NULL);
		/* Handed back to us as the key's primary: spread it. Asked to
		 * pass it on (a wide replica set): do, once. */
		if (rc == 0 && is_primary(d, &key_id))
			replicate(d, now, &key_id);
		else if (rc == 0 && b->extend)
			pass_on(d, now, src, &key_id, b->extend);
		/* a read repair waiting for this key can answer now */
		for (uint32_t k = 0; k < d->n_fetch; k++) {
			dht_fetch *f = &d->fetch[k];
			if (rn_id_cmp(&f->key_id, &key_id) != 0)
				continue;
			uint32_t first, n = live_entries(d, now, &key_id, &first);
			if (n) {
				d->st.fetch_repaired++;
				respond(d, now, &f->asker, f->op, f->rid, 0,
					first, n);
				d->fetch[k] = d->fetch[--d->n_fetch];
				k--;
			}
		}
	}
}

static void on_fetch(rn_dht *d, rn_time now, const rn_id *src,
		     const rn_dht_body *b)
{
	uint32_t first, n = live_entries(d, now, &b->key_id, &first);
	if (n) {
		send_entries(d, now, src, 0, first, n);
		return;
	}
	/* nothing here: say so, with the FETCH's token */
	respond(d, now, src, RN_DHT_GET, b->rid, RN_ERR_NOTFOUND, 0, 0);
}

/* ---- the asking node ---------------------------------------------------- */

static dht_own *own_find(rn_dht *d, const char *ns, size_t ns_len,
			 const uint8_t *key, size_t key_len);

static void req_remove(rn_dht *d, uint32_t i)
{
	free(d->req[i].body);
	d->req[i] = d->req[--d->n_req];
}

static void finish(rn_dht *d, rn_time now, uint32_t i, int status,
		   const rn_dht_body *b)
{
	dht_req q = d->req[i];
	d->req[i].body = NULL;
	req_remove(d, i);
	free(q.body);
	/* An own record that did not get through: try again soon rather
	 * than at its refresh (the ring may still be forming). */
	if (q.op != RN_DHT_GET && status == RN_ERR_TIMEOUT) {
		dht_own *o = own_find(d, q.ns, q.ns_len, q.key, q.key_len);
		if (o) {
			o->refresh_ms = rn_node_now_ms(d->node, now) +
					d->s->request_rto_ms;
			rn_node_upper_wake(d->node, now, o->refresh_ms);
		}
	}
	if (!d->cb)
		return;
	rn_rec recs[RN_DHT_RECS_MAX];
	uint32_t n = 0;
	for (unsigned k = 0; b && k < b->n_recs; k++) {
		rn_id key_id;
		if (take_record(d, now, &b->recs[k], &recs[n], &key_id) ||
		    (recs[n].flags & RN_REC_TOMB))
			continue;
		/* a get believes only records of the key it asked for */
		if (rn_id_cmp(&key_id, &q.key_id) != 0)
			continue;
		n++;
	}
	if (q.op == RN_DHT_GET && status == 0 && n == 0)
		status = RN_ERR_NOTFOUND;
	rn_dht_result res = {
		.rid = q.rid,
		.op = q.op,
		.status = status,
		.ns = q.ns,
		.ns_len = q.ns_len,
		.key = q.key,
		.key_len = q.key_len,
		.recs = recs,
		.n_recs = n,
		.now_unix_ms = rn_node_unix_ms(d->node, now),
	};
	d->cb(d->cb_ctx, &res);
}

/* The largest RN_ERR_* magnitude a status may carry (core/err.h). */
#define STATUS_MAX 64

static void on_response(rn_dht *d, rn_time now, const rn_dht_body *b)
{
	int status = b->status <= STATUS_MAX ? -(int)b->status : RN_ERR_PROTO;
	for (uint32_t i = 0; i < d->n_req; i++)
		if (d->req[i].token == b->rid && d->req[i].op == b->op) {
			finish(d, now, i, status, b);
			return;
		}
	/* a replica with nothing for one of our read repairs */
	for (uint32_t k = 0; k < d->n_fetch; k++) {
		dht_fetch *f = &d->fetch[k];
		if (f->token != b->rid || b->op != RN_DHT_GET)
			continue;
		if (f->waiting && --f->waiting == 0)
			rn_node_upper_wake(d->node, now, rn_node_now_ms(d->node, now));
		return;
	}
}

static int request(rn_dht *d, rn_time now, uint64_t rid, int op,
		   const char *ns, const uint8_t *key, size_t key_len,
		   const uint8_t *rec, size_t rec_len)
{
	uint8_t buf[RN_BODY_MAX];
	size_t len;
	int rc = grow((void **)&d->req, d->n_req, &d->cap_req,
		      d->s->requests_max, sizeof *d->req);
	if (rc) {
		d->st.req_full++;
		return rc;
	}
	uint64_t token;
	rn_node_random(d->node, &token, sizeof token);
	rn_dht_body b;
	memset(&b, 0, sizeof b);
	b.type = RN_DHT_REQ;
	b.op = (uint8_t)op;
	b.rid = token;
	b.ns.p = (const uint8_t *)ns;
	b.ns.n = strlen(ns);
	b.key.p = key;
	b.key.n = key_len;
	b.rec.p = rec;
	b.rec.n = rec_len;
	rc = rn_dht_body_encode(&b, buf, sizeof buf, &len);
	if (rc)
		return rc;
	dht_req *q = &d->req[d->n_req];
	memset(q, 0, sizeof *q);
	q->body = malloc(len);
	if (!q->body)
		return RN_ERR_NOMEM;
	memcpy(q->body, buf, len);
	q->len = (uint16_t)len;
	q->rid = rid;
	q->token = token;
	q->op = (uint8_t)op;
	rn_rec_key_id(&q->key_id, d->group_id, ns, b.ns.n, key, key_len);
	q->ns_len = (uint8_t)b.ns.n;
	memcpy(q->ns, ns, b.ns.n);
	q->key_len = (uint8_t)key_len;
	memcpy(q->key, key, key_len);
	q->due_ms = rn_node_now_ms(d->node, now) + d->s->request_rto_ms;
	d->n_req++;
	d->st.req_sent++;
	rn_node_upper_wake(d->node, now, q->due_ms);
	/* Sent last: when we are the primary ourselves, the answer arrives
	 * (and finishes the request) before this returns. */
	rc = rn_node_route_body(d->node, now, &q->key_id, 1, buf, len);
	if (rc) {
		for (uint32_t i = 0; i < d->n_req; i++)
			if (d->req[i].token == token) {
				req_remove(d, i);
				break;
			}
	}
	return rc;
}

static dht_own *own_find(rn_dht *d, const char *ns, size_t ns_len,
			 const uint8_t *key, size_t key_len)
{
	for (uint32_t i = 0; i < d->n_own; i++) {
		dht_own *o = &d->own[i];
		if (o->ns_len == ns_len && o->key_len == key_len &&
		    memcmp(o->ns, ns, ns_len) == 0 &&
		    memcmp(o->key, key, key_len) == 0)
			return o;
	}
	return NULL;
}

static void own_remove(rn_dht *d, dht_own *o)
{
	free(o->value);
	*o = d->own[--d->n_own];
}

/* Builds, signs and sends one record. created: 0 for now. */
static int write_record(rn_dht *d, rn_time now, uint64_t rid, int op,
			const char *ns, const uint8_t *key, size_t key_len,
			const uint8_t *value, size_t value_len, uint32_t ttl_s,
			unsigned flags, uint64_t created)
{
	rn_rec r;
	uint8_t enc[RN_REC_ENCODED_MAX];
	size_t len;
	memset(&r, 0, sizeof r);
	if (rn_rec_set_key(&r, ns, key, key_len) ||
	    value_len > RN_REC_VALUE_MAX || ttl_s == 0 ||
	    ttl_s > d->s->ttl_max_s)
		return RN_ERR_INVAL;
	if (value_len)
		memcpy(r.value, value, value_len);
	r.value_len = (uint16_t)value_len;
	memcpy(r.writer, d->writer, RN_SIGN_PK_LEN);
	uint64_t t = rn_node_unix_ms(d->node, now);
	if (t <= d->last_ts)
		t = d->last_ts + 1;
	d->last_ts = t;
	r.ts = t;
	r.created = created && created <= t ? created : t;
	r.expires = t + (uint64_t)ttl_s * 1000u;
	r.flags = (uint8_t)(flags & RN_REC_REPLACE);
	if (op == RN_DHT_CREATE)
		r.flags = RN_REC_EXCL;
	else if (op == RN_DHT_REMOVE)
		r.flags = RN_REC_TOMB;
	if (d->ident) {
		r.has_cert = 1;
		r.cert = d->ident->parsed;
		/* a range member claims addresses other than the one its
		 * node is bound to: each lease carries the certificate
		 * bound to its own key (docs/dht.md, "Address leases") */
		if (rn_cert_is_range(&r.cert) && !strcmp(ns, "lease") &&
		    rn_cert_bind(&r.cert, key, key_len))
			return RN_ERR_PERM;
	}
	int rc = rn_rec_sign(&r, d->group_id,
			     d->ident ? d->ident->node_sk : NULL);
	if (!rc)
		rc = rn_rec_check(&r, &d->policy, t);
	if (!rc)
		rc = rn_rec_encode(&r, enc, sizeof enc, &len);
	if (!rc)
		rc = request(d, now, rid, op, ns, key, key_len, enc, len);
	return rc;
}

int rn_dht_write(rn_dht *d, rn_time now, uint64_t rid, int op, const char *ns,
		 const uint8_t *key, size_t key_len, const uint8_t *value,
		 size_t value_len, uint32_t ttl_s, unsigned flags, int keep)
{
	if (op != RN_DHT_PUT && op != RN_DHT_CREATE && op != RN_DHT_REMOVE)
		return RN_ERR_INVAL;
	size_t ns_len = ns ? strlen(ns) : 0;
	if (!rn_rec_ns_ok(ns, ns_len) || !key || !key_len ||
	    key_len > RN_REC_KEY_MAX)
		return RN_ERR_INVAL;
	dht_own *o = own_find(d, ns, ns_len, key, key_len);
	uint64_t created = o && o->op == op ? o->created : 0;
	if (op == RN_DHT_REMOVE && o)
		own_remove(d, o);
	int rc = write_record(d, now, rid, op, ns, key, key_len, value,
			      value_len, ttl_s, flags, created);
	if (rc || !keep || op == RN_DHT_REMOVE)
		return rc;
	if (!o) {
		rc = grow((void **)&d->own, d->n_own, &d->cap_own,
			  d->s->own_max, sizeof *d->own);
		if (rc)
			return rc;
		o = &d->own[d->n_own++];
		memset(o, 0, sizeof *o);
	} else {
		free(o->value);
		o->value = NULL;
	}
	o->op = (uint8_t)op;
	o->flags = (uint8_t)flags;
	o->ns_len = (uint8_t)ns_len;
	memcpy(o->ns, ns, ns_len);
	o->ns[ns_len] = 0;
	o->key_len = (uint8_t)key_len;
	memcpy(o->key, key, key_len);
	o->value_len = (uint16_t)value_len;
	if (value_len) {
		o->value = malloc(value_len);
		if (!o->value) {
			own_remove(d, o);
			return RN_ERR_NOMEM;
		}
		memcpy(o->value, value, value_len);
	}
	o->ttl_s = ttl_s;
	o->created = d->last_ts; /* the record just sent */
	if (created)
		o->created = created;
	/* refresh with a third of the lease left */
	o->refresh_ms = rn_node_now_ms(d->node, now) + ttl_s * 2000u / 3u;
	rn_node_upper_wake(d->node, now, o->refresh_ms);
	return 0;
}

int rn_dht_get(rn_dht *d, rn_time now, uint64_t rid, const char *ns,
	       const uint8_t *key, size_t key_len)
{
	size_t ns_len = ns ? strlen(ns) : 0;
	if (!rn_rec_ns_ok(ns, ns_len) || !key || !key_len ||
	    key_len > RN_REC_KEY_MAX)
		return RN_ERR_INVAL;
	return request(d, now, rid, RN_DHT_GET, ns, key, key_len, NULL, 0);
}

void rn_dht_forget(rn_dht *d, const char *ns, const uint8_t *key,
		   size_t key_len)
{
	dht_own *o = own_find(d, ns, strlen(ns), key, key_len);
	if (o)
		own_remove(d, o);
}

/* ---- handoff ------------------------------------------------------------ */

/* The near set changed: hand each key's records to the nodes that joined
 * its replica set, if we are the closest of its old holders still here.
 * The old view may have named holders that never got the records (a dead
 * node we had not noticed yet was to send them), so a node that was not
 * the primary before sends to the whole new set. */
static void handoff(rn_dht *d, rn_time now)
{
	rn_id view[NEAR_MAX];
	uint32_t nv = rn_node_near_ids(d->node, view, NEAR_MAX);
	const rn_id *me = rn_node_id(d->node);
	for (uint32_t i = 0; i < d->store.n;) {
		uint32_t first, n = rn_store_find(&d->store,
						  &d->store.v[i].key_id, &first);
		rn_id key = d->store.v[i].key_id;
		rn_id old_set[REPLICAS_MAX], new_set[REPLICAS_MAX];
		i = first + n;
		/* Only a node that was a rightful holder hands on: one whose
		 * view covered the key. */
		if (!covers(d, &key, d->near, d->n_near))
			continue;
		uint32_t no = replica_set(d, &key, d->near, d->n_near, old_set);
		uint32_t nn = replica_set(d, &key, view, nv, new_set);
		if (!id_in(me, old_set, no))
			continue;
		if (!covers(d, &key, view, nv) || !id_in(me, new_set, nn)) {
			/* No longer ours: back to the key's primary, once. */
			send_entries(d, now, &key, 1, first, n);
			d->st.handoff_recs += n;
			continue;
		}
		/* the closest old holder still in sight */
		const rn_id *pusher = NULL;
		for (uint32_t k = 0; k < no && !pusher; k++)
			if (rn_id_cmp(&old_set[k], me) == 0 ||
			    id_in(&old_set[k], view, nv))
				pusher = &old_set[k];
		/* Whether the old members have it is known only if we were
		 * the primary then (we sent it to them); else we send to all. */
		int was_primary = no && rn_id_cmp(&old_set[0], me) == 0;
		if (pusher && rn_id_cmp(pusher, me) == 0) {
			for (uint32_t k = 0; k < nn; k++) {
				if (rn_id_cmp(&new_set[k], me) == 0 ||
				    (was_primary && id_in(&new_set[k], old_set, no)))
					continue;
				send_entries(d, now, &new_set[k], 0, first, n);
				d->st.handoff_recs += n;
			}
		}
	}
	memcpy(d->near, view, nv * sizeof *view);
	d->n_near = nv;
}

/* ---- the node's upcalls ------------------------------------------------- */

static void on_routed(void *ctx, rn_time now, const rn_id *src,
		      const uint8_t *body, size_t len, uint8_t hops)
{
	rn_dht *d = ctx;
	rn_dht_body b;
	(void)hops;
	if (rn_dht_body_decode(&d->zone, body, len, &b))
		return;
	switch (b.type) {
	case RN_DHT_REQ:
		on_request(d, now, src, &b);
		break;
	case RN_DHT_RESP:
		on_response(d, now, &b);
		break;
	case RN_DHT_STORE:
		on_store(d, now, src, &b);
		break;
	case RN_DHT_FETCH:
		on_fetch(d, now, src, &b);
		break;
	default:
		break;
	}
}

static uint32_t min_ms(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0 ? a : b;
}

static int due(uint32_t t, uint32_t now_ms)
{
	return (int32_t)(now_ms - t) >= 0;
}

static uint32_t tick(void *ctx, rn_time now, uint32_t now_ms, int near_changed)
{
	rn_dht *d = ctx;
	uint32_t next = now_ms + 3600000u;
	if (near_changed && !d->handoff_due) {
		d->handoff_due = 1;
		d->handoff_ms = now_ms + d->s->handoff_delay_ms;
	}
	if (d->handoff_due) {
		if (due(d->handoff_ms, now_ms) &&
		    rn_node_state(d->node) == RN_NODE_JOINED) {
			d->handoff_due = 0;
			handoff(d, now);
		} else {
			next = min_ms(next, due(d->handoff_ms, now_ms)
						    ? now_ms + 1000
						    : d->handoff_ms);
		}
	}
	for (uint32_t i = 0; i < d->n_req;) {
		dht_req *q = &d->req[i];
		if (!due(q->due_ms, now_ms)) {
			next = min_ms(next, q->due_ms);
			i++;
			continue;
		}
		if (q->tries >= 1) {
			d->st.req_timeout++;
			finish(d, now, i, RN_ERR_TIMEOUT, NULL);
			continue;
		}
		/* A copy: when we are the primary, the answer arrives (and
		 * frees the request) before the send returns. */
		uint8_t body[RN_BODY_MAX];
		rn_id key_id = q->key_id;
		size_t len = q->len;
		memcpy(body, q->body, len);
		q->tries++;
		q->due_ms = now_ms + d->s->request_rto_ms;
		d->st.req_resent++;
		rn_node_route_body(d->node, now, &key_id, 1, body, len);
		i++;
	}
	for (uint32_t i = 0; i < d->n_fetch;) {
		dht_fetch *f = &d->fetch[i];
		if (!due(f->due_ms, now_ms) && f->waiting) {
			next = min_ms(next, f->due_ms);
			i++;
			continue;
		}
		respond(d, now, &f->asker, f->op, f->rid, RN_ERR_NOTFOUND, 0, 0);
		d->fetch[i] = d->fetch[--d->n_fetch];
	}
	for (uint32_t i = 0; i < d->n_own; i++) {
		dht_own *o = &d->own[i];
		if (!due(o->refresh_ms, now_ms)) {
			next = min_ms(next, o->refresh_ms);
			continue;
		}
		/* Reported with rid 0: a renewal can fail (a lease lost to a
		 * conflict), and the owner must hear of it. */
		if (rn_node_state(d->node) == RN_NODE_JOINED &&
		    write_record(d, now, 0, o->op, o->ns, o->key, o->key_len,
				 o->value, o->value_len, o->ttl_s, o->flags,
				 o->created) == 0) {
			d->st.refreshes++;
			o->refresh_ms = now_ms + o->ttl_s * 2000u / 3u;
		} else {
			o->refresh_ms = now_ms + d->s->request_rto_ms;
		}
		next = min_ms(next, o->refresh_ms);
	}
	if (due(d->next_expiry_check_ms, now_ms)) {
		rn_store_expire(&d->store, rn_node_unix_ms(d->node, now));
		d->next_expiry_check_ms = now_ms + 10000;
	}
	if (d->store.n)
		next = min_ms(next, d->next_expiry_check_ms);
	return next;
}

/* ---- life --------------------------------------------------------------- */

rn_dht *rn_dht_new(rn_node *node, const rn_dht_settings *s,
		   const uint8_t group_id[RN_GROUP_ID_LEN],
		   const uint8_t *group_pk, const rn_ident *ident,
		   const uint8_t writer[RN_SIGN_PK_LEN], rn_dht_result_fn cb,
		   void *cb_ctx)
{
	if (s->replicas == 0 || s->replicas > REPLICAS_MAX ||
	    !s->requests_max || !s->records_max || (ident && !group_pk))
		return NULL;
	rn_dht *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	d->node = node;
	d->s = s;
	memcpy(d->group_id, group_id, RN_GROUP_ID_LEN);
	if (group_pk)
		memcpy(d->group_pk, group_pk, RN_SIGN_PK_LEN);
	d->ident = ident;
	if (ident)
		memcpy(d->writer, ident->parsed.node_pk, RN_SIGN_PK_LEN);
	else if (writer)
		memcpy(d->writer, writer, RN_SIGN_PK_LEN);
	d->policy.group_id = d->group_id;
	d->policy.group_pk = d->group_pk;
	d->policy.ttl_max_ms = (uint64_t)s->ttl_max_s * 1000u;
	d->policy.skew_ms = s->skew_ms;
	d->policy.require_cert = ident != NULL;
	d->cb = cb;
	d->cb_ctx = cb_ctx;
	rn_store_init(&d->store, s->records_max, s->per_writer_max);
	if (!msgpack_zone_init(&d->zone, 2048)) {
		free(d);
		return NULL;
	}
	d->up.ctx = d;
	d->up.on_routed = on_routed;
	d->up.tick = tick;
	rn_node_set_upper(node, &d->up);
	return d;
}

void rn_dht_free(rn_dht *d)
{
	if (!d)
		return;
	rn_node_set_upper(d->node, NULL);
	for (uint32_t i = 0; i < d->n_req; i++)
		free(d->req[i].body);
	for (uint32_t i = 0; i < d->n_own; i++)
		free(d->own[i].value);
	free(d->req);
	free(d->fetch);
	free(d->own);
	rn_store_deinit(&d->store);
	msgpack_zone_destroy(&d->zone);
	free(d);
}

const rn_dht_stats *rn_dht_get_stats(const rn_dht *d)
{
	return &d->st;
}

const rn_store *rn_dht_store(const rn_dht *d)
{
	return &d->store;
}
