/* The daemon's DHT (dht/dht.h, docs/dht.md): attached to the node, it
 * publishes this member's records and keeps the table of control requests
 * waiting for it (`dht`, daemon_dht_cmd.c; `resolve`, daemon_resolve.c).
 *
 * Publishing. RN_EV_JOINED starts the `publish` timer; 2 s later (the near
 * set has formed by then) the daemon claims its address's lease
 * (daemon_claim.c) and, once it holds it, writes, with keep = 1 so that
 * the DHT renews them at two thirds of their lease:
 *
 *     member/VIP   its endpoints (dht/member.h), RN_REC_REPLACE
 *     name/NAME    its virtual IP, RN_REC_REPLACE
 *
 * both with the lease dht_ttl (ringnetd.conf). A write the DHT refuses at
 * once (not joined any more, table full) is tried again 5 s later. The
 * answers come back under the rids in pub_rid (logged), the renewals under
 * rid 0 (a failure is a rate-limited WARN).
 *
 * Waiting. A control request that needs the DHT (dht, resolve) takes a
 * slot of `wait` (RN_DAEMON_DHT_WAITS_MAX, more are refused with "busy")
 * with a deadline RN_DAEMON_DHT_TIMEOUT_MS away, and a rid from next_rid.
 * The DHT's result callback finds the slot by rid and runs its done
 * function, which answers the request and frees the slot, or sends the
 * next step under a new rid (resolve). The `expiry` timer ends the slots
 * whose deadline passed (the DHT itself gives up after about 4 s; this is
 * the bound if it does not). An answer for a rid no slot holds is dropped
 * and counted.
 *
 *     FREE --wait_new--> WAITING --answer or deadline--> FREE (replied)
 *                          |  ^
 *                          +--+ wait_step (new rid)
 *
 * Re-entrancy: when this node is itself the key's primary, the DHT answers
 * inside rn_dht_write/rn_dht_get. So a slot is filled before the call, and
 * after it is looked at only if it still holds the rid it sent
 * (rn_daemon_dht_wait_sent).
 *
 * Lifetime: rn_daemon_dht_new after the node; the timers are closed with
 * every other handle (daemon.c close_all); rn_daemon_dht_free detaches the
 * DHT after the loop has ended, before the node is freed.
 */
#include "daemon_impl.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/err.h"
#include "../dht/member.h"

/* ---- time and the wait table --------------------------------------------- */

uint64_t rn_daemon_dht_unix_ms(const rn_daemon *d)
{
	return rn_node_unix_ms(d->node, rn_uvenv_now());
}

static void on_expiry(uv_timer_t *t);

/* The expiry timer at the earliest deadline, or stopped. */
static void arm_expiry(rn_daemon *d)
{
	rn_daemon_dht *x = d->dht;
	rn_time first = RN_TIME_NEVER, now = rn_uvenv_now();
	if (d->stopping)
		return;
	for (uint32_t i = 0; i < RN_DAEMON_DHT_WAITS_MAX; i++)
		if (x->wait[i].rid && x->wait[i].deadline < first)
			first = x->wait[i].deadline;
	if (first == RN_TIME_NEVER) {
		uv_timer_stop(&x->expiry);
		return;
	}
	uv_update_time(&d->loop);
	uv_timer_start(&x->expiry, on_expiry,
	               first > now ? (first - now + 999u) / 1000u : 0, 0);
}

static rn_daemon_dht_wait *wait_find(rn_daemon_dht *x, uint64_t rid)
{
	for (uint32_t i = 0; i < RN_DAEMON_DHT_WAITS_MAX; i++)
		if (x->wait[i].rid == rid)
			return &x->wait[i];
	return NULL;
}

rn_daemon_dht_wait *rn_daemon_dht_wait_new(rn_daemon *d, rn_ctl_req *req,
                                           rn_daemon_dht_done done)
{
	rn_daemon_dht *x = d->dht;
	rn_daemon_dht_wait *w = wait_find(x, 0);
	if (!w) {
		x->st.waits_busy++;
		return NULL;
	}
	memset(w, 0, sizeof *w);
	w->rid = x->next_rid++;
	w->req = req;
	w->done = done;
	w->deadline = rn_uvenv_now() + RN_MS(RN_DAEMON_DHT_TIMEOUT_MS);
	x->n_wait++;
	x->st.waits++;
	arm_expiry(d);
	return w;
}

uint64_t rn_daemon_dht_wait_step(rn_daemon *d, rn_daemon_dht_wait *w)
{
	w->rid = d->dht->next_rid++;
	return w->rid;
}

void rn_daemon_dht_wait_end(rn_daemon *d, rn_daemon_dht_wait *w, json_t *reply)
{
	rn_ctl_req *req = w->req;
	memset(w, 0, sizeof *w);
	d->dht->n_wait--;
	arm_expiry(d);
	rn_ctl_reply(req,
	             reply ? reply : rn_daemon_query_error("out of memory"));
}

void rn_daemon_dht_wait_sent(rn_daemon *d, rn_daemon_dht_wait *w, uint64_t rid,
                             int rc)
{
	if (rc && w->rid == rid)
		w->done(d, w, rc, NULL, 0, rn_daemon_dht_unix_ms(d));
}

static void on_expiry(uv_timer_t *t)
{
	rn_daemon *d = t->data;
	rn_daemon_dht *x = d->dht;
	rn_time now = rn_uvenv_now();
	for (uint32_t i = 0; i < RN_DAEMON_DHT_WAITS_MAX; i++) {
		rn_daemon_dht_wait *w = &x->wait[i];
		if (!w->rid || w->deadline > now)
			continue;
		x->st.waits_timeout++;
		w->done(d, w, RN_ERR_TIMEOUT, NULL, 0,
		        rn_daemon_dht_unix_ms(d));
		if (w->rid) /* a done that did not end it: end it here */
			rn_daemon_dht_wait_end(
			    d, w,
			    rn_daemon_dht_error(RN_ERR_TIMEOUT, w->ns, w->key,
			                        w->key_len));
	}
	arm_expiry(d);
}

void rn_daemon_dht_abort_all(rn_daemon *d)
{
	rn_daemon_dht *x = d->dht;
	if (!x)
		return;
	uv_timer_stop(&x->publish);
	uv_timer_stop(&x->expiry);
	for (uint32_t i = 0; i < RN_DAEMON_DHT_WAITS_MAX; i++)
		if (x->wait[i].rid)
			rn_daemon_dht_wait_end(
			    d, &x->wait[i],
			    rn_daemon_query_error("ringnetd is stopping"));
}

/* ---- publishing ---------------------------------------------------------- */

static int ep_add(rn_member *m, uint8_t kind, const rn_ep *ep)
{
	for (unsigned i = 0; i < m->n; i++)
		if (rn_ep_eq(&m->ep[i], ep))
			return 0;
	if (m->n >= RN_MEMBER_EPS_MAX)
		return -1;
	m->kind[m->n] = kind;
	m->ep[m->n++] = *ep;
	return 0;
}

/* A wildcard socket: every address of the host's interfaces that peers
 * could use (not loopback, not IPv6 link-local: the scope is lost), with
 * the bound port; one place is left for the reflexive endpoint. */
static void interface_eps(const rn_daemon *d, rn_member *m, uint16_t port)
{
	uv_interface_address_t *ifs;
	int n;
	if (uv_interface_addresses(&ifs, &n))
		return;
	for (int i = 0; i < n && m->n < RN_MEMBER_EPS_MAX - 1; i++) {
		const struct sockaddr *sa =
		    (const struct sockaddr *)&ifs[i].address;
		rn_ep ep;
		if (ifs[i].is_internal)
			continue;
		if (sa->sa_family == AF_INET6 &&
		    (!d->env.v6 ||
		     IN6_IS_ADDR_LINKLOCAL(&ifs[i].address.address6.sin6_addr)))
			continue;
		if (rn_uvenv_ep_from_sa(&ep, sa))
			continue;
		ep.port = port;
		ep_add(m, RN_MEMBER_EP_LOCAL, &ep);
	}
	uv_free_interface_addresses(ifs, n);
}

/* This member's endpoints: the bound address, or the interfaces' for a
 * wildcard socket; and the reflexive endpoint (as its first peer saw it)
 * when it is none of those. */
static void own_member(const rn_daemon *d, rn_member *m)
{
	rn_ep own;
	memset(m, 0, sizeof *m);
	if (rn_uvenv_local(&d->env, &own, NULL, 0))
		return;
	if (!rn_daemon_boot_ep_unspecified(&own))
		ep_add(m, RN_MEMBER_EP_LOCAL, &own);
	else
		interface_eps(d, m, own.port);
	const rn_ep *mapped = rn_daemon_portmap_ext(d);
	if (mapped)
		ep_add(m, RN_MEMBER_EP_MAPPED, mapped);
	const rn_ep *rx = d->node ? rn_node_own_ep(d->node) : NULL;
	for (unsigned i = 0; rx && i < m->n; i++)
		if (rn_ep_eq(&m->ep[i], rx))
			rx = NULL;
	if (rx)
		ep_add(m, RN_MEMBER_EP_REFLEXIVE, rx);
}

static void on_publish(uv_timer_t *t);

void rn_daemon_dht_publish_later(rn_daemon *d, uint64_t ms)
{
	if (!d->stopping)
		uv_timer_start(&d->dht->publish, on_publish, ms, 0);
}

void rn_daemon_dht_publish(rn_daemon *d)
{
	rn_daemon_dht *x = d->dht;
	const rn_cert *c = &d->id.ident.parsed;
	uint8_t val[RN_MEMBER_VALUE_MAX];
	size_t len = 0;
	rn_member m;
	own_member(d, &m);
	rn_member_encode(&m, val, sizeof val, &len);
	uint32_t ttl = d->cfg.dht_ttl_s;
	const char *what = "member";
	x->pub_rid[0] = x->next_rid++;
	x->pub_rid[1] = x->next_rid++;
	int rc = rn_dht_write(x->dht, rn_uvenv_now(), x->pub_rid[0], RN_DHT_PUT,
	                      "member", c->vip, c->vip_len, val, len, ttl,
	                      RN_REC_REPLACE, 1);
	if (!rc) {
		what = "name";
		rc = rn_dht_write(x->dht, rn_uvenv_now(), x->pub_rid[1],
		                  RN_DHT_PUT, "name", (const uint8_t *)c->name,
		                  c->name_len, c->vip, c->vip_len, ttl,
		                  RN_REC_REPLACE, 1);
	}
	if (rc) {
		x->st.publish_failed++;
		rn_uvenv_log(&d->env, RN_LOG_WARN,
		             "dht: cannot publish the %s record: %s; trying "
		             "again in %d s",
		             what, rn_strerror(rc),
		             RN_DAEMON_DHT_PUBLISH_RETRY_MS / 1000);
		rn_daemon_dht_publish_later(d, RN_DAEMON_DHT_PUBLISH_RETRY_MS);
		return;
	}
	char vip[INET6_ADDRSTRLEN];
	inet_ntop(c->vip_len == 4 ? AF_INET : AF_INET6, c->vip, vip,
	          sizeof vip);
	rn_uvenv_log(&d->env, RN_LOG_INFO,
	             "dht: publishing member/%s (%u endpoint%s) and name/%s, "
	             "lease %u s",
	             vip, (unsigned)m.n, m.n == 1 ? "" : "s", c->name,
	             (unsigned)ttl);
}

static void on_publish(uv_timer_t *t)
{
	rn_daemon *d = t->data;
	if (d->stopping)
		return;
	if (rn_node_state(d->node) != RN_NODE_JOINED) {
		rn_daemon_dht_publish_later(d, RN_DAEMON_DHT_PUBLISH_RETRY_MS);
		return;
	}
	if (!rn_daemon_claim_held(d))
		rn_daemon_claim_start(d); /* publishes once held */
	else
		rn_daemon_dht_publish(d);
}

void rn_daemon_dht_on_joined(rn_daemon *d)
{
	if (d->dht)
		rn_daemon_dht_publish_later(d, RN_DAEMON_DHT_PUBLISH_DELAY_MS);
}

/* The answer to one of our own writes: the first publication (pub_rid)
 * or a renewal by the DHT (rid 0). */
static void own_result(rn_daemon *d, const rn_dht_result *res)
{
	rn_daemon_dht *x = d->dht;
	uint64_t rid = res->rid;
	int status = res->status;
	if (rid == 0) {
		if (!status) {
			x->st.renewed++;
			return;
		}
		x->st.renew_failed++;
		rn_log_limited(&x->lg, rn_uvenv_now(), RN_LOG_WARN,
		               "dht: renewing the %.*s record failed: %s",
		               (int)res->ns_len, res->ns, rn_strerror(status));
		return;
	}
	const char *what = rid == x->pub_rid[0] ? "member" : "name";
	if (status) {
		x->st.publish_failed++;
		rn_uvenv_log(&d->env, RN_LOG_WARN,
		             "dht: publishing the %s record failed: %s (the "
		             "DHT tries again)",
		             what, rn_strerror(status));
	} else {
		x->st.published++;
		rn_uvenv_log(&d->env, RN_LOG_DEBUG, "dht: %s record stored",
		             what);
	}
}

/* The DHT's result callback: runs inside the node's input calls, or
 * inside our own rn_dht_write/rn_dht_get. */
static void on_result(void *ctx, const rn_dht_result *res)
{
	rn_daemon *d = ctx;
	rn_daemon_dht *x = d->dht;
	uint64_t rid = res->rid;
	if (rid & RN_VPN_RID_BIT) {
		rn_daemon_vpn_on_dht(d, res);
		return;
	}
	if (rn_daemon_claim_on_result(d, res))
		return;
	if (rid == 0 || rid == x->pub_rid[0] || rid == x->pub_rid[1]) {
		own_result(d, res);
		return;
	}
	rn_daemon_dht_wait *w = wait_find(x, rid);
	if (!w) {
		x->st.answers_late++;
		return;
	}
	w->done(d, w, res->status, res->recs, res->n_recs, res->now_unix_ms);
}

/* ---- status -------------------------------------------------------------- */

#define FIELD(o, s, f)                                                         \
	json_object_set_new(o, #f, json_integer((json_int_t)(s)->f))

json_t *rn_daemon_dht_status(const rn_daemon *d)
{
	const rn_daemon_dht *x = d->dht;
	json_t *o = json_object();
	if (!o || !x)
		return o;
	const rn_dht_stats *s = rn_dht_get_stats(x->dht);
	json_object_set_new(o, "records",
	                    json_integer(rn_dht_store(x->dht)->n));
	FIELD(o, s, req_sent);
	FIELD(o, s, req_resent);
	FIELD(o, s, req_timeout);
	FIELD(o, s, req_full);
	FIELD(o, s, primary_ops);
	FIELD(o, s, store_msgs_sent);
	FIELD(o, s, store_recs_sent);
	FIELD(o, s, handoff_recs);
	FIELD(o, s, fetch_sent);
	FIELD(o, s, fetch_repaired);
	FIELD(o, s, fetch_full);
	FIELD(o, s, bad_record);
	FIELD(o, s, refreshes);
	const rn_daemon_dht_stats *t = &x->st;
	json_object_set_new(o, "ctl_waiting", json_integer(x->n_wait));
	FIELD(o, t, waits);
	FIELD(o, t, waits_busy);
	FIELD(o, t, waits_timeout);
	FIELD(o, t, answers_late);
	FIELD(o, t, published);
	FIELD(o, t, publish_failed);
	FIELD(o, t, renewed);
	FIELD(o, t, renew_failed);
	const rn_resolve_cache_stats *c = &x->cache.stats;
	json_object_set_new(o, "cache_entries", json_integer(x->cache.n));
	json_object_set_new(o, "cache_hits", json_integer((json_int_t)c->hits));
	json_object_set_new(o, "cache_misses",
	                    json_integer((json_int_t)c->misses));
	json_object_set_new(o, "cache_inserts",
	                    json_integer((json_int_t)c->inserts));
	json_object_set_new(o, "cache_expired",
	                    json_integer((json_int_t)c->expired));
	json_object_set_new(o, "cache_overflow",
	                    json_integer((json_int_t)c->overflow));
	return o;
}

#undef FIELD

/* ---- life ---------------------------------------------------------------- */

int rn_daemon_dht_new(rn_daemon *d, char *err, size_t errlen)
{
	rn_daemon_dht *x = calloc(1, sizeof *x);
	if (!x) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rn_dht_settings_default(&x->s);
	x->next_rid = 1;
	rn_logger_init(&x->lg, rn_uvenv_env(), &d->env, RN_LOG_TRACE);
	rn_resolve_cache_init(&x->cache);
	x->dht = rn_dht_new(d->node, &x->s, d->id.group_id, d->id.group_pk,
	                    &d->id.ident, NULL, on_result, d);
	if (!x->dht) {
		free(x);
		snprintf(err, errlen, "cannot start the DHT: out of memory");
		return -1;
	}
	uv_timer_init(&d->loop, &x->publish);
	uv_timer_init(&d->loop, &x->expiry);
	x->publish.data = d;
	x->expiry.data = d;
	d->dht = x;
	return 0;
}

void rn_daemon_dht_free(rn_daemon *d)
{
	rn_daemon_dht *x = d->dht;
	if (!x)
		return;
	for (uint32_t i = 0; i < RN_DAEMON_DHT_WAITS_MAX; i++)
		if (x->wait[i].rid)
			rn_ctl_reply(x->wait[i].req, NULL);
	rn_dht_free(x->dht);
	free(x);
	d->dht = NULL;
}
