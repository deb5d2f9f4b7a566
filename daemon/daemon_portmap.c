/* The daemon's port mapping (`[nat] portmap`): drives nat/portmap.h's
 * policy with the blocking gateway clients of portmap_io.c, run on
 * libuv's thread pool so the loop never waits for a gateway.
 *
 *   timer --rn_portmap_next: MAP--> uv_queue_work(rn_portmap_io_run)
 *         --after_work--> rn_portmap_done --changed--> the node's own
 *         endpoint (its connect-to-me) and the member record republished
 *
 * One job at a time (`busy`). Stopping (rn_daemon_portmap_stop, from the
 * daemon's shutdown): a held mapping is removed by one more job; the loop
 * runs until that job ends (bounded by portmap_io.h's timeouts). A socket
 * bound to a loopback address maps nothing.
 */
#include "daemon_impl.h"

#include <stdlib.h>
#include <string.h>

#include "../nat/portmap.h"
#include "portmap_io.h"

struct rn_daemon_portmap {
	rn_portmap pm;
	rn_ep before;   /* the node's own endpoint before a mapping took it */
	int applied;    /* the node's own endpoint is the mapping's */
	uv_timer_t timer;
	uv_work_t work;
	rn_portmap_job job;
	int busy;     /* a job is out */
	int stopping; /* the daemon is: no new MAP */
	rn_daemon *d;
};

static void arm(rn_daemon *d);

/* 1 for an address peers on the internet can send to: not 0/8, 10/8,
 * 100.64/10 (carrier-grade NAT), 127/8, 169.254/16, 172.16/12,
 * 192.168/16 or multicast and above. A gateway behind another NAT hands
 * out such an address; the reflexive endpoint is then the better one. */
static int public_v4(const rn_ep *ep)
{
	uint32_t a = rn_ep_ipv4(ep);
	return rn_ep_is_ipv4(ep) && (a >> 24) != 0 && (a >> 24) != 10 &&
	       (a >> 22) != (100u << 2 | 1u) && (a >> 24) != 127 &&
	       (a >> 16) != (169u << 8 | 254u) && (a >> 20) != (172u << 4 | 1u) &&
	       (a >> 16) != (192u << 8 | 168u) && (a >> 28) < 14;
}

/* The external endpoint appeared, moved or went away: the node's own
 * endpoint and the member record follow. */
static void on_change(rn_daemon *d)
{
	rn_daemon_portmap *x = d->pm;
	const rn_ep *ext = rn_portmap_ext(&x->pm, rn_uvenv_now());
	char ep[RN_EP_STR_MAX];
	if (ext && public_v4(ext)) {
		rn_ep_to_str(ext, ep, sizeof ep);
		rn_uvenv_log(&d->env, RN_LOG_INFO,
		             "portmap: %s maps %s to this node's port %u",
		             rn_portmap_method_name(x->pm.method), ep,
		             (unsigned)x->pm.port);
		if (!x->applied) {
			const rn_ep *own = rn_node_own_ep(d->node);
			if (own)
				x->before = *own;
			else
				memset(&x->before, 0, sizeof x->before);
			x->applied = 1;
		}
		rn_node_set_own_ep(d->node, ext);
	} else {
		if (ext) {
			rn_ep_to_str(ext, ep, sizeof ep);
			rn_uvenv_log(&d->env, RN_LOG_INFO,
			             "portmap: the gateway maps %s, not a public "
			             "address (a NAT behind it?): published, not "
			             "given to peers to connect to",
			             ep);
		} else {
			rn_uvenv_log(&d->env, RN_LOG_INFO,
			             "portmap: the mapping went away");
		}
		if (x->applied) {
			rn_node_set_own_ep(d->node, &x->before);
			x->applied = 0;
		}
	}
	if (rn_daemon_claim_held(d))
		rn_daemon_dht_publish(d); /* the member record */
}

static void after_job(uv_work_t *w, int status)
{
	rn_daemon *d = w->data;
	rn_daemon_portmap *x = d->pm;
	rn_portmap_job *j = &x->job;
	rn_time now = rn_uvenv_now();
	x->busy = 0;
	int ok = status == 0 && j->ok;
	int changed = rn_portmap_done(&x->pm, now, ok, j->method, &j->ext,
	                              j->lifetime_s_granted);
	if (j->unmap) {
		rn_uvenv_log(&d->env, ok ? RN_LOG_INFO : RN_LOG_WARN,
		             "portmap: %s the mapping%s%s",
		             ok ? "removed" : "could not remove",
		             ok ? "" : ": ", ok ? "" : j->why);
		return;
	}
	if (!ok)
		rn_log_limited(&d->dht->lg, now, RN_LOG_INFO,
		               "portmap: no mapping (%s)", j->why);
	if (ok && j->permanent && changed)
		rn_uvenv_log(&d->env, RN_LOG_INFO,
		             "portmap: the gateway keeps only permanent "
		             "mappings; this one is removed at stop");
	if (changed && !x->stopping)
		on_change(d);
	if (x->stopping) {
		rn_portmap_stop(&x->pm, now); /* a MAP that ended meanwhile */
		if (x->pm.state == RN_PORTMAP_STOPPING)
			arm(d);
		return;
	}
	arm(d);
}

static void run_job(uv_work_t *w)
{
	rn_daemon *d = w->data;
	rn_portmap_io_run(&d->pm->job);
}

static void on_timer(uv_timer_t *t);

/* Hands out what is due, or waits for it. */
static void arm(rn_daemon *d)
{
	rn_daemon_portmap *x = d->pm;
	rn_time now = rn_uvenv_now(), next;
	if (x->busy)
		return;
	int act = rn_portmap_next(&x->pm, now, &next);
	if (rn_portmap_take_lost(&x->pm) && !x->stopping)
		on_change(d);
	if (act == RN_PORTMAP_NONE) {
		if (next != RN_TIME_NEVER && !x->stopping)
			uv_timer_start(&x->timer, on_timer,
			               (next - now + 999u) / 1000u, 0);
		return;
	}
	memset(&x->job, 0, sizeof x->job);
	x->job.unmap = act == RN_PORTMAP_UNMAP;
	x->job.method = x->pm.method;
	x->job.methods = x->pm.s.methods;
	x->job.port = x->pm.port;
	x->job.ext_port = x->pm.method ? x->pm.ext.port : 0;
	x->job.lifetime_s = x->pm.s.lifetime_s;
	x->work.data = d;
	if (uv_queue_work(&d->loop, &x->work, run_job, after_job) == 0)
		x->busy = 1;
	else
		rn_portmap_done(&x->pm, now, 0, 0, NULL, 0);
}

static void on_timer(uv_timer_t *t)
{
	arm(t->data);
}

int rn_daemon_portmap_new(rn_daemon *d)
{
	rn_ep own;
	if (!d->cfg.nat_portmap || rn_uvenv_local(&d->env, &own, NULL, 0))
		return 0;
	/* 127/8 and ::1: nothing to map (and the tests' daemons send
	 * nothing beyond loopback) */
	uint32_t a4 = rn_ep_ipv4(&own);
	static const uint8_t v6lo[16] = {[15] = 1};
	if ((rn_ep_is_ipv4(&own) && (a4 >> 24) == 127) ||
	    (!rn_ep_is_ipv4(&own) && !memcmp(own.addr, v6lo, 16)))
		return 0;
	rn_daemon_portmap *x = calloc(1, sizeof *x);
	if (!x)
		return -1;
	rn_portmap_settings s;
	rn_portmap_settings_default(&s);
	s.methods = d->cfg.nat_portmap;
	rn_portmap_init(&x->pm, &s, own.port, rn_uvenv_now());
	x->d = d;
	uv_timer_init(&d->loop, &x->timer);
	x->timer.data = d;
	d->pm = x;
	arm(d);
	return 0;
}

void rn_daemon_portmap_stop(rn_daemon *d)
{
	rn_daemon_portmap *x = d->pm;
	if (!x || x->stopping)
		return;
	x->stopping = 1;
	uv_timer_stop(&x->timer);
	if (x->busy)
		return; /* after_job removes what it may have mapped */
	rn_portmap_stop(&x->pm, rn_uvenv_now());
	arm(d); /* the UNMAP, if a mapping is held */
}

void rn_daemon_portmap_free(rn_daemon *d)
{
	free(d->pm);
	d->pm = NULL;
}

const rn_ep *rn_daemon_portmap_ext(const rn_daemon *d)
{
	return d->pm ? rn_portmap_ext(&d->pm->pm, rn_uvenv_now()) : NULL;
}

json_t *rn_daemon_portmap_status(const rn_daemon *d)
{
	const rn_daemon_portmap *x = d->pm;
	char ep[RN_EP_STR_MAX];
	if (!x)
		return json_null();
	const rn_ep *ext = rn_portmap_ext(&x->pm, rn_uvenv_now());
	if (ext)
		rn_ep_to_str(ext, ep, sizeof ep);
	const rn_portmap_stats *s = &x->pm.st;
	return json_pack("{s:s,s:s,s:o,s:I,s:I,s:I,s:I,s:I}", "state",
	                 rn_portmap_state_name(x->pm.state), "method",
	                 rn_portmap_method_name(ext ? x->pm.method : 0),
	                 "external", ext ? json_string(ep) : json_null(),
	                 "requests", (json_int_t)s->requests, "mapped",
	                 (json_int_t)s->mapped, "failed", (json_int_t)s->failed,
	                 "changed", (json_int_t)s->changed, "expired",
	                 (json_int_t)s->expired);
}
