/* The ringnetd daemon object (see daemon.h): one node on one libuv loop.
 * This file is its lifecycle; daemon_impl.h lists the files that do the
 * rest (identity, bootstrap, control queries, ping, the DHT).
 *
 * Handles on the loop, all owned here except the control socket's and
 * the pings':
 *
 *     env.udp, env.timer     the node's socket and deadline (uvenv.c)
 *     vpn->poll              the TUN device's fd (daemon_vpn.c)
 *     sig[3]                 SIGINT, SIGTERM, SIGHUP
 *     retry                  bootstrap name resolution, every 5 s
 *                            (daemon_boot.c starts it)
 *     clock                  re-reads the wall clock for the core, each min
 *     drain                  the pause between leave and close
 *     ping->timer            one per ping in progress (daemon_ping.c)
 *     dht->publish, ->expiry the DHT's publication and the deadlines of
 *                            the requests waiting for it (daemon_dht.c)
 *     pm->timer, pm->work    the port mapping's next request, and the one
 *                            out on the thread pool (daemon_portmap.c)
 *     res[i].req             uv_getaddrinfo requests (not handles)
 *
 * States:  RUNNING --SIGINT/SIGTERM--> DRAINING (node left, peers told,
 * pings answered) --RN_DAEMON_DRAIN_MS--> CLOSING (every handle closed,
 * getaddrinfo cancelled) --loop empty--> uv_loop_close == 0, exit 0.
 *
 * Invariants: the node is called only from the loop thread with
 * rn_uvenv_now(); nothing calls it after rn_uvenv_close. A control request
 * taken by a ping or a DHT request is answered exactly once (its end, or
 * shutdown). The DHT is detached and freed before the node.
 */
#include "daemon_impl.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "../core/err.h"

#define RN_DAEMON_DRAIN_MS      100   /* after leave, before closing */
#define RN_DAEMON_ENDPOINTS_MAX 4096  /* interned peer endpoints */
#define RN_DAEMON_CLOCK_MS      60000 /* wall clock vs monotonic re-check */

static const int signals[3] = {SIGINT, SIGTERM, SIGHUP};

/* ---- events from the node ------------------------------------------------ */

/* uvenv.c has logged it already; traces may answer a ping, joining
 * starts the DHT's publication. */
static void on_event(void *ud, const rn_event *ev)
{
	if (ev->type == RN_EV_TRACE_DONE)
		rn_daemon_ping_on_trace_done(ud, ev);
	else if (ev->type == RN_EV_JOINED)
		rn_daemon_dht_on_joined(ud);
}

/* ---- signals ------------------------------------------------------------- */

static void close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

/* Closes every handle; the loop then runs dry. Safe on a daemon that was
 * only partly set up. */
static void close_all(rn_daemon *d)
{
	rn_daemon_ping_abort_all(d);
	rn_daemon_dht_abort_all(d);
	rn_daemon_portmap_stop(d);
	rn_daemon_vpn_close(d);
	rn_daemon_boot_cancel(d);
	if (d->ctl) {
		rn_ctl_close(d->ctl, NULL, NULL);
		d->ctl = NULL;
	}
	if (d->env_ok)
		rn_uvenv_close(&d->env);
	uv_walk(&d->loop, close_walk, NULL);
}

static void on_drained(uv_timer_t *t)
{
	close_all(t->data);
}

/* why: "SIGINT", "SIGTERM", or the reason of a restart or failure. */
static void stop(rn_daemon *d, const char *why)
{
	if (d->stopping)
		return;
	d->stopping = 1;
	rn_uvenv_log(&d->env, RN_LOG_INFO, "%s: leaving the ring", why);
	rn_node_leave(d->node, rn_uvenv_now());
	rn_daemon_portmap_stop(d);
	rn_daemon_ping_abort_all(d);
	rn_daemon_dht_abort_all(d);
	rn_daemon_boot_cancel(d);
	uv_timer_stop(&d->clock);
	/* the CLOSEs went out with try_send; the pause lets late control
	 * replies flush before their sockets close */
	uv_timer_start(&d->drain, on_drained, RN_DAEMON_DRAIN_MS, 0);
}

void rn_daemon_restart(rn_daemon *d, uint32_t attempt)
{
	if (d->stopping)
		return;
	d->restart = 1;
	d->restart_attempt = attempt;
	stop(d, "new address");
}

void rn_daemon_fail(rn_daemon *d)
{
	d->exit_rc = RN_DAEMON_EXIT_FAIL;
	stop(d, "failure");
}

static int config_restart_needed(const rn_config *a, const rn_config *b)
{
	if (strcmp(a->listen_addr, b->listen_addr) ||
	    a->listen_port != b->listen_port ||
	    a->n_bootstrap != b->n_bootstrap || a->dht_ttl_s != b->dht_ttl_s ||
	    strcmp(a->group_path, b->group_path) ||
	    strcmp(a->key_path, b->key_path) ||
	    strcmp(a->cert_path, b->cert_path) ||
	    strcmp(a->control_path, b->control_path))
		return 1;
	for (unsigned i = 0; i < a->n_bootstrap; i++)
		if (strcmp(a->bootstrap[i], b->bootstrap[i]))
			return 1;
	return 0;
}

/* SIGHUP: the log level is the one setting applied without a restart. */
static void reload(rn_daemon *d)
{
	char err[512];
	rn_config *c = malloc(sizeof *c);
	if (!c) {
		rn_uvenv_log(&d->env, RN_LOG_ERROR, "reload: out of memory");
		return;
	}
	if (rn_config_load(d->config_path, c, err, sizeof err)) {
		rn_uvenv_log(&d->env, RN_LOG_ERROR,
		             "reload: %s (keeping the running configuration)",
		             err);
		free(c);
		return;
	}
	int old = d->cfg.log_level, now = c->log_level;
	/* say it at the more verbose of the two levels, so it is seen */
	d->env.log_level = old > now ? old : now;
	rn_uvenv_log(&d->env, RN_LOG_INFO, "reload: log_level %s%s%s",
	             rn_log_level_name(old), old == now ? "" : " -> ",
	             old == now ? " (unchanged)" : rn_log_level_name(now));
	d->env.log_level = now;
	d->cfg.log_level = now;
	if (config_restart_needed(&d->cfg, c))
		rn_uvenv_log(&d->env, RN_LOG_WARN,
		             "reload: listen, bootstrap, group, key, cert, "
		             "control and dht_ttl changes take effect after a "
		             "restart");
	free(c);
}

static void on_signal(uv_signal_t *h, int signum)
{
	rn_daemon *d = h->data;
	if (signum == SIGHUP)
		reload(d);
	else if (d->stopping)
		d->restart = 0; /* a signal during a restart: exit instead */
	else
		stop(d, signum == SIGINT ? "SIGINT" : "SIGTERM");
}

/* ---- set-up and teardown ------------------------------------------------- */

static int settings_init(rn_daemon *d, char *err, size_t errlen)
{
	const char *why;
	rn_settings_default(&d->settings);
	/* the core logs little; it formats everything and the driver filters,
	 * so that SIGHUP can raise the level */
	d->settings.log_level = RN_LOG_TRACE;
	d->settings.endpoints_max = RN_DAEMON_ENDPOINTS_MAX;
	d->settings.bootstrap_max = RN_DAEMON_BOOT_MAX;
	if (rn_settings_check(&d->settings, &why)) {
		snprintf(err, errlen, "bad overlay setting %s", why);
		return -1;
	}
	return 0;
}

/* The core's unix time is now / 1000 + this (sec.c checks certificate
 * validity with it). */
static int64_t unix_offset_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	int64_t unix_ms = (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
	return unix_ms - (int64_t)(rn_uvenv_now() / 1000u);
}

static int node_init(rn_daemon *d, char *err, size_t errlen)
{
	rn_ep own;
	if (rn_shared_init(&d->sh, &d->settings, rn_uvenv_env())) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	d->sh_ok = 1;
	memcpy(d->sh.group_pk, d->id.group_pk, RN_SIGN_PK_LEN);
	d->sh.unix_offset_ms = unix_offset_ms();
	/* a wildcard address says nothing: peers will tell us (reflexive) */
	int known = rn_uvenv_local(&d->env, &own, NULL, 0) == 0 &&
	            !rn_daemon_boot_ep_unspecified(&own);
	const rn_cert *c = &d->id.ident.parsed;
	int bound = rn_cert_is_bound(c); /* else: a range member claiming */
	d->node = rn_node_new(&d->sh, &d->env, d->id.group_id,
	                      bound ? c->vip : c->node_pk,
	                      bound ? c->vip_len : RN_SIGN_PK_LEN,
	                      known ? &own : NULL, rn_uvenv_now());
	if (!d->node) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = rn_node_set_ident(d->node, &d->id.ident);
	if (rc) {
		snprintf(err, errlen,
		         "%s: the node refuses the certificate: %s",
		         d->cfg.cert_path, rn_strerror(rc));
		return -1;
	}
	d->env.on_event = on_event;
	d->env.ud = d;
	return rn_uvenv_attach(&d->env, d->node, err, errlen);
}

/* NTP may step or slew the wall clock; the core's idea of unix time
 * (certificate validity, handshake freshness) follows it. */
static void on_clock(uv_timer_t *t)
{
	rn_daemon *d = t->data;
	d->sh.unix_offset_ms = unix_offset_ms();
}

static void handles_init(rn_daemon *d)
{
	uv_timer_init(&d->loop, &d->retry);
	uv_timer_init(&d->loop, &d->drain);
	uv_timer_init(&d->loop, &d->clock);
	d->retry.data = d;
	d->drain.data = d;
	d->clock.data = d;
	for (int i = 0; i < 3; i++) {
		uv_signal_init(&d->loop, &d->sig[i]);
		d->sig[i].data = d;
		uv_signal_start(&d->sig[i], on_signal, signals[i]);
	}
	d->handles_ok = 1;
}

static int setup(rn_daemon *d, uint32_t attempt, char *err, size_t errlen)
{
	if (rn_config_load(d->config_path, &d->cfg, err, errlen) ||
	    rn_daemon_identity_load(&d->cfg, &d->id, attempt, err, errlen) ||
	    settings_init(d, err, errlen))
		return RN_DAEMON_EXIT_CONFIG;
	if (uv_loop_init(&d->loop)) {
		snprintf(err, errlen, "cannot start the event loop");
		return RN_DAEMON_EXIT_FAIL;
	}
	d->loop_ok = 1;
	handles_init(d);
	if (rn_uvenv_init(&d->env, &d->loop, d->cfg.listen_addr,
	                  d->cfg.listen_port, d->cfg.log_level, err, errlen))
		return RN_DAEMON_EXIT_FAIL;
	d->env_ok = 1;
	/* a range member makes its TUN device once it holds its address
	 * (daemon_claim.c) */
	d->claim.attempt = attempt;
	if (node_init(d, err, errlen) || rn_daemon_dht_new(d, err, errlen) ||
	    rn_daemon_portmap_new(d) ||
	    (!rn_cert_is_range(&d->id.ident.parsed) &&
	     rn_daemon_vpn_new(d, err, errlen)))
		return RN_DAEMON_EXIT_FAIL;
	if (rn_ctl_open(&d->ctl, &d->loop, d->cfg.control_path,
	                rn_daemon_query_on_request, d, err, errlen)) {
		d->ctl = NULL;
		return RN_DAEMON_EXIT_FAIL;
	}
	return RN_DAEMON_EXIT_OK;
}

int rn_daemon_new(rn_daemon **out, const char *config_path,
                  uint32_t attempt, char *err, size_t errlen)
{
	rn_daemon *d = calloc(1, sizeof *d);
	*out = NULL;
	if (!d) {
		snprintf(err, errlen, "out of memory");
		return RN_DAEMON_EXIT_FAIL;
	}
	snprintf(d->config_path, sizeof d->config_path, "%s", config_path);
	d->next_qid = 1;
	int rc = setup(d, attempt, err, errlen);
	if (rc) {
		rn_daemon_free(d);
		return rc;
	}
	d->started = rn_uvenv_now();
	uv_timer_start(&d->clock, on_clock, RN_DAEMON_CLOCK_MS,
	               RN_DAEMON_CLOCK_MS);
	char listen[RN_EP_STR_MAX], hex[RN_ID_HEX_LEN + 1];
	rn_ep own;
	rn_uvenv_local(&d->env, &own, listen, sizeof listen);
	rn_id_to_hex(rn_node_id(d->node), hex);
	rn_uvenv_log(&d->env, RN_LOG_INFO,
	             "ringnetd %s: %s, id %.12s, listening on %s, control %s",
	             RN_VERSION, d->id.ident.parsed.name, hex, listen,
	             d->cfg.control_path);
	rn_daemon_boot_start(d);
	*out = d;
	return RN_DAEMON_EXIT_OK;
}

static void report_handle(uv_handle_t *h, void *arg)
{
	rn_daemon *d = arg;
	rn_uvenv_log(&d->env, RN_LOG_ERROR, "handle still open at exit: %s",
	             uv_handle_type_name(uv_handle_get_type(h)));
}

/* Closes whatever is open and runs the loop until it is empty. */
static int loop_finish(rn_daemon *d)
{
	if (!d->loop_ok)
		return 0;
	close_all(d);
	uv_run(&d->loop, UV_RUN_DEFAULT);
	int rc = uv_loop_close(&d->loop);
	if (rc) {
		uv_walk(&d->loop, report_handle, d);
		rn_uvenv_log(&d->env, RN_LOG_ERROR, "event loop: %s",
		             uv_strerror(rc));
		return -1;
	}
	d->loop_ok = 0;
	return 0;
}

int rn_daemon_run(rn_daemon *d)
{
	uv_run(&d->loop, UV_RUN_DEFAULT);
	if (loop_finish(d))
		return RN_DAEMON_EXIT_FAIL;
	if (!d->restart)
		rn_uvenv_log(&d->env, RN_LOG_INFO, "stopped");
	return d->exit_rc;
}

int rn_daemon_restart_attempt(const rn_daemon *d, uint32_t *attempt)
{
	*attempt = d->restart_attempt;
	return d->restart;
}

void rn_daemon_free(rn_daemon *d)
{
	if (!d)
		return;
	loop_finish(d);
	rn_daemon_portmap_free(d);
	rn_daemon_vpn_free(d); /* stacked on the DHT: first */
	rn_daemon_dht_free(d); /* detaches from the node: then */
	rn_node_free(d->node);
	if (d->sh_ok)
		rn_shared_deinit(&d->sh);
	rn_uvenv_deinit(&d->env);
	sodium_memzero(&d->id, sizeof d->id);
	free(d);
}
