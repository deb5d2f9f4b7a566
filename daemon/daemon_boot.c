/* Bootstrap: the configured peer names become endpoints, then the node
 * joins the ring through them (daemon_impl.h).
 *
 *     rn_daemon_boot_start --> uv_getaddrinfo for every entry at once
 *         (libuv's thread pool; the loop never blocks on DNS)
 *     last answer in --> some endpoint? --> rn_node_join(endpoints)
 *                        none, entries configured --> retry in 5 s, at
 *                            most 12 times, then join alone (a warning)
 *                        no entries at all --> a ring of one
 *
 * An entry that resolves to this very node (a configuration file shared
 * by every member) is skipped, as are duplicates; at most
 * RN_DAEMON_BOOT_MAX endpoints are kept. rn_daemon_boot_cancel (shutdown)
 * stops the retry timer and cancels the requests in flight; their
 * callbacks still run (UV_ECANCELED) and do nothing more.
 */
#include "daemon_impl.h"

#include <stdio.h>
#include <string.h>

#include "../core/err.h"

#define RN_DAEMON_RESOLVE_RETRY_MS  5000
#define RN_DAEMON_RESOLVE_TRIES_MAX 12

int rn_daemon_boot_ep_unspecified(const rn_ep *ep)
{
	static const uint8_t zero[16];
	return memcmp(ep->addr, zero, 16) == 0 ||
	       (rn_ep_is_ipv4(ep) && rn_ep_ipv4(ep) == 0);
}

static int ep_loopback(const rn_ep *ep)
{
	static const uint8_t v6lo[16] = {[15] = 1};
	return (rn_ep_is_ipv4(ep) && (rn_ep_ipv4(ep) >> 24) == 127) ||
	       memcmp(ep->addr, v6lo, 16) == 0;
}

/* A bootstrap entry that is this very node (a shared config file). */
static int is_self(const rn_daemon *d, const rn_ep *ep)
{
	rn_ep own;
	if (rn_uvenv_local(&d->env, &own, NULL, 0))
		return 0;
	if (rn_ep_eq(ep, &own))
		return 1;
	return rn_daemon_boot_ep_unspecified(&own) && ep->port == own.port &&
	       ep_loopback(ep);
}

static void add_boot(rn_daemon *d, const struct addrinfo *ai)
{
	for (; ai; ai = ai->ai_next) {
		rn_ep ep;
		if (rn_uvenv_ep_from_sa(&ep, ai->ai_addr) || is_self(d, &ep))
			continue;
		size_t k = 0;
		while (k < d->n_boot && !rn_ep_eq(&d->boot[k], &ep))
			k++;
		if (k == d->n_boot && d->n_boot < RN_DAEMON_BOOT_MAX)
			d->boot[d->n_boot++] = ep;
	}
}

static void join(rn_daemon *d)
{
	if (d->n_boot)
		rn_uvenv_log(&d->env, RN_LOG_INFO,
		             "joining through %zu bootstrap endpoint%s",
		             d->n_boot, d->n_boot == 1 ? "" : "s");
	else
		rn_uvenv_log(&d->env, RN_LOG_INFO,
		             "no bootstrap peers: starting a ring of one");
	int rc = rn_node_join(d->node, rn_uvenv_now(), d->boot, d->n_boot);
	if (rc)
		rn_uvenv_log(&d->env, RN_LOG_ERROR, "cannot join: %s",
		             rn_strerror(rc));
}

static void on_retry(uv_timer_t *t)
{
	rn_daemon_boot_start(t->data);
}

static void resolve_done(rn_daemon *d)
{
	if (d->n_boot || !d->cfg.n_bootstrap) {
		join(d);
	} else if (d->res_tries < RN_DAEMON_RESOLVE_TRIES_MAX) {
		rn_uvenv_log(&d->env, RN_LOG_WARN,
		             "no bootstrap peer resolved (attempt %u of %u); "
		             "retrying in %u s",
		             d->res_tries, RN_DAEMON_RESOLVE_TRIES_MAX,
		             RN_DAEMON_RESOLVE_RETRY_MS / 1000);
		uv_timer_start(&d->retry, on_retry, RN_DAEMON_RESOLVE_RETRY_MS,
		               0);
	} else {
		rn_uvenv_log(&d->env, RN_LOG_WARN,
		             "no bootstrap peer resolved after %u attempts; "
		             "going on alone",
		             d->res_tries);
		join(d);
	}
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	rn_daemon_resolve *r = req->data;
	rn_daemon *d = r->d;
	r->busy = 0;
	d->res_pending--;
	if (status == 0 && !d->stopping)
		add_boot(d, res);
	else if (status != UV_ECANCELED && !d->stopping)
		rn_uvenv_log(&d->env, RN_LOG_WARN, "bootstrap %s: %s",
		             d->cfg.bootstrap[r - d->res], uv_strerror(status));
	uv_freeaddrinfo(res);
	if (!d->res_pending && !d->stopping)
		resolve_done(d);
}

/* Resolves every bootstrap entry at once (uv_getaddrinfo runs on libuv's
 * thread pool); the node joins when the last answer is in. */
void rn_daemon_boot_start(rn_daemon *d)
{
	char host[RN_CONFIG_PEER_MAX], service[8], err[256];
	uint16_t port;
	struct addrinfo hints;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = d->env.v6 ? AF_UNSPEC : AF_INET;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICSERV;
	d->res_tries++;
	d->n_boot = 0;
	for (unsigned i = 0; i < d->cfg.n_bootstrap; i++) {
		rn_daemon_resolve *r = &d->res[i];
		if (rn_hostport_split(d->cfg.bootstrap[i], host, sizeof host,
		                      &port, err, sizeof err)) {
			rn_uvenv_log(&d->env, RN_LOG_WARN, "bootstrap %s: %s",
			             d->cfg.bootstrap[i], err);
			continue;
		}
		snprintf(service, sizeof service, "%u", port);
		r->d = d;
		r->req.data = r;
		int rc = uv_getaddrinfo(&d->loop, &r->req, on_resolved, host,
		                        service, &hints);
		if (rc) {
			rn_uvenv_log(&d->env, RN_LOG_WARN, "bootstrap %s: %s",
			             d->cfg.bootstrap[i], uv_strerror(rc));
			continue;
		}
		r->busy = 1;
		d->res_pending++;
	}
	if (!d->res_pending)
		resolve_done(d);
}

void rn_daemon_boot_cancel(rn_daemon *d)
{
	if (d->handles_ok)
		uv_timer_stop(&d->retry);
	for (unsigned i = 0; i < RN_CONFIG_BOOTSTRAP_MAX; i++)
		if (d->res[i].busy)
			uv_cancel((uv_req_t *)&d->res[i].req);
}
