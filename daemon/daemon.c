/* The ringnetd daemon object (see daemon.h): one node on one libuv loop.
 *
 * Handles on the loop, all owned here except the control socket's:
 *
 *     env.udp, env.timer     the node's socket and deadline (uvenv.c)
 *     sig[3]                 SIGINT, SIGTERM, SIGHUP
 *     retry                  bootstrap name resolution, every 5 s
 *     clock                  re-reads the wall clock for the core, each min
 *     drain                  the pause between leave and close
 *     ping->timer            one per ping in progress
 *     res[i].req             uv_getaddrinfo requests (not handles)
 *
 * States:  RUNNING --SIGINT/SIGTERM--> DRAINING (node left, peers told,
 * pings answered) --RN_DAEMON_DRAIN_MS--> CLOSING (every handle closed,
 * getaddrinfo cancelled) --loop empty--> uv_loop_close == 0, exit 0.
 *
 * Invariants: the node is called only from the loop thread with
 * rn_uvenv_now(); nothing calls it after rn_uvenv_close. A control request
 * taken by a ping is answered exactly once (the ping's end, or shutdown).
 */
#include "daemon.h"

#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>
#include <uv.h>

#include "../core/cert.h"
#include "../core/err.h"
#include "../overlay/node.h"
#include "config.h"
#include "ctl.h"
#include "keyfile.h"
#include "uvenv.h"

#define RN_DAEMON_DRAIN_MS          100 /* after leave, before closing */
#define RN_DAEMON_RESOLVE_RETRY_MS  5000
#define RN_DAEMON_RESOLVE_TRIES_MAX 12
#define RN_DAEMON_BOOT_MAX          32   /* resolved bootstrap endpoints */
#define RN_DAEMON_ENDPOINTS_MAX     4096 /* interned peer endpoints */
#define RN_DAEMON_PINGS_MAX         8    /* pings in progress at once */
#define RN_DAEMON_PING_COUNT_MAX    100  /* as the CLI allows */
#define RN_DAEMON_PING_INTERVAL_MS  1000
#define RN_DAEMON_PING_TIMEOUT_MS   2000
#define RN_DAEMON_CLOCK_MS          60000 /* wall clock vs monotonic re-check */

/* The files that make a member. The node holds ident by reference
 * (rn_node_set_ident), so it lives in the daemon as long as the node. */
typedef struct identity {
	uint8_t group_pk[RN_SIGN_PK_LEN];
	uint8_t group_id[RN_GROUP_ID_LEN];
	rn_ident ident; /* node secret key, certificate bytes and fields */
} identity;

typedef struct resolve {
	uv_getaddrinfo_t req;
	rn_daemon *d;
	int busy;
} resolve;

enum { SEQ_IDLE = 0, SEQ_WAIT, SEQ_DONE, SEQ_LOST };

typedef struct ping {
	struct ping *next;
	rn_daemon *d;
	rn_ctl_req *req;
	uv_timer_t timer;
	rn_id target;
	uint64_t qid0; /* seq k (1-based) uses qid0 + k - 1 */
	unsigned count, sent;
	rn_time t0;
	rn_time sent_at[RN_DAEMON_PING_COUNT_MAX];
	rn_time rtt_us[RN_DAEMON_PING_COUNT_MAX];
	json_t *path[RN_DAEMON_PING_COUNT_MAX]; /* [{"id", "rtt_ms"}, ...] */
	uint8_t hops_back[RN_DAEMON_PING_COUNT_MAX];
	uint8_t state[RN_DAEMON_PING_COUNT_MAX];
} ping;

struct rn_daemon {
	uv_loop_t loop;
	int loop_ok;
	char config_path[RN_CONFIG_PATH_MAX];
	rn_config cfg;
	identity id;
	rn_settings settings;
	rn_shared sh;
	int sh_ok;
	rn_uvenv env;
	int env_ok;
	rn_node *node;
	rn_ctl *ctl;
	uv_signal_t sig[3];
	uv_timer_t retry, drain, clock;
	int handles_ok;
	resolve res[RN_CONFIG_BOOTSTRAP_MAX];
	unsigned res_pending, res_tries;
	rn_ep boot[RN_DAEMON_BOOT_MAX];
	size_t n_boot;
	rn_time started;
	ping *pings;
	unsigned n_pings;
	uint64_t next_qid;
	int stopping;
};

static const int signals[3] = {SIGINT, SIGTERM, SIGHUP};

/* ---- identity ------------------------------------------------------------ */

static void fmt_time(uint64_t unix_s, char *out, size_t len)
{
	time_t t = (time_t)unix_s;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

static int cert_problem(const rn_config *c, const rn_cert *cert, int rc,
                        char *err, size_t errlen)
{
	char when[40];
	switch (rc) {
	case RN_ERR_CERT_GROUP:
		snprintf(
		    err, errlen,
		    "%s: certificate is for another group than %s; use the "
		    "group file the certificate was issued under",
		    c->cert_path, c->group_path);
		break;
	case RN_ERR_CERT_EARLY:
		fmt_time(cert->not_before, when, sizeof when);
		snprintf(err, errlen,
		         "%s: certificate is not valid before %s; check the "
		         "clock or issue a new one (ringnet member add)",
		         c->cert_path, when);
		break;
	case RN_ERR_CERT_EXPIRED:
		fmt_time(cert->not_after, when, sizeof when);
		snprintf(err, errlen,
		         "%s: certificate expired on %s; issue a new one "
		         "(ringnet member add)",
		         c->cert_path, when);
		break;
	default:
		snprintf(err, errlen,
		         "%s: certificate does not verify (%s); "
		         "issue a new one (ringnet member add)",
		         c->cert_path, rn_strerror(rc));
		break;
	}
	return -1;
}

static int check_cert(const rn_config *c, const identity *id,
                      const rn_cert *cert,
                      const uint8_t node_pk[RN_SIGN_PK_LEN], char *err,
                      size_t errlen)
{
	int rc = rn_cert_verify(cert, id->group_pk, (uint64_t)time(NULL));
	if (rc)
		return cert_problem(c, cert, rc, err, errlen);
	if (sodium_memcmp(cert->node_pk, node_pk, RN_SIGN_PK_LEN)) {
		snprintf(err, errlen,
		         "%s: certificate is for another node key than %s; use "
		         "the key the certificate was issued for",
		         c->cert_path, c->key_path);
		return -1;
	}
	return 0;
}

/* Reads the group public key, the node key and the certificate, checks
 * that they belong together (now, by the wall clock) and fills the
 * identity the node presents in its handshakes. The group id and the
 * certificate's virtual IP fix the node's ring id. */
static int load_identity(const rn_config *c, identity *id, char *err,
                         size_t errlen)
{
	uint8_t pk[RN_SIGN_PK_LEN], sk[RN_SIGN_SK_LEN];
	uint8_t bytes[RN_CERT_ENCODED_MAX];
	size_t len = 0;
	rn_cert cert;
	int rc = -1;
	if (rn_keyfile_read_group_pk(c->group_path, id->group_pk, err,
	                             errlen) ||
	    rn_keyfile_read_node_secret(c->key_path, pk, sk, err, errlen))
		goto out;
	if (rn_keyfile_read_cert(c->cert_path, &cert, err, errlen))
		goto out;
	rn_group_id(id->group_id, id->group_pk);
	if (check_cert(c, id, &cert, pk, err, errlen))
		goto out;
	if (rn_cert_encode(&cert, bytes, sizeof bytes, &len) ||
	    rn_ident_init(&id->ident, sk, bytes, len)) {
		snprintf(err, errlen,
		         "%s: certificate does not re-encode; "
		         "issue a new one (ringnet member add)",
		         c->cert_path);
		goto out;
	}
	rc = 0;
out:
	sodium_memzero(sk, sizeof sk);
	return rc;
}

int rn_daemon_check(const char *config_path, char *err, size_t errlen)
{
	rn_config *c = malloc(sizeof *c);
	identity *id = malloc(sizeof *id);
	int rc = RN_DAEMON_EXIT_CONFIG;
	if (!c || !id)
		snprintf(err, errlen, "out of memory");
	else if (rn_config_load(config_path, c, err, errlen) == 0 &&
	         load_identity(c, id, err, errlen) == 0)
		rc = RN_DAEMON_EXIT_OK;
	if (id)
		sodium_memzero(id, sizeof *id);
	free(id);
	free(c);
	return rc;
}

/* ---- events from the node ------------------------------------------------ */

static void ping_on_done(rn_daemon *d, const rn_event *ev);

/* uvenv.c has logged it already; traces may answer a ping. */
static void on_event(void *ud, const rn_event *ev)
{
	if (ev->type == RN_EV_TRACE_DONE)
		ping_on_done(ud, ev);
}

/* ---- bootstrap ----------------------------------------------------------- */

static int ep_unspecified(const rn_ep *ep)
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
	return ep_unspecified(&own) && ep->port == own.port && ep_loopback(ep);
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

static void resolve_start(rn_daemon *d);

static void on_retry(uv_timer_t *t)
{
	resolve_start(t->data);
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
	resolve *r = req->data;
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
static void resolve_start(rn_daemon *d)
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
		resolve *r = &d->res[i];
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

static void resolve_cancel(rn_daemon *d)
{
	if (d->handles_ok)
		uv_timer_stop(&d->retry);
	for (unsigned i = 0; i < RN_CONFIG_BOOTSTRAP_MAX; i++)
		if (d->res[i].busy)
			uv_cancel((uv_req_t *)&d->res[i].req);
}

/* ---- JSON helpers -------------------------------------------------------- */

static json_t *json_id(const rn_id *id)
{
	char hex[RN_ID_HEX_LEN + 1];
	rn_id_to_hex(id, hex);
	return json_string(hex);
}

static json_t *json_id_or_null(const rn_id *id)
{
	return id ? json_id(id) : json_null();
}

static json_t *json_ep(const rn_ep *ep)
{
	char s[RN_EP_STR_MAX];
	return json_string(rn_ep_to_str(ep, s, sizeof s));
}

static json_t *json_vip(const uint8_t *vip, size_t len)
{
	char s[INET6_ADDRSTRLEN];
	if (len != 4 && len != 16)
		return json_null();
	inet_ntop(len == 4 ? AF_INET : AF_INET6, vip, s, sizeof s);
	return json_string(s);
}

static json_t *json_hex(const uint8_t *b, size_t n)
{
	char hex[2 * 64 + 1];
	sodium_bin2hex(hex, sizeof hex, b, n);
	return json_string(hex);
}

static json_t *json_u64(uint64_t v)
{
	return json_integer((json_int_t)v);
}

static json_t *error_reply(const char *msg)
{
	return json_pack("{s:b,s:s}", "ok", 0, "error", msg);
}

static const char *state_name(int state)
{
	switch (state) {
	case RN_NODE_JOINING:
		return "joining";
	case RN_NODE_JOINED:
		return "joined";
	case RN_NODE_LEFT:
		return "left";
	default:
		return "idle";
	}
}

static size_t get_links(const rn_daemon *d, rn_link_info **out)
{
	size_t cap = d->settings.links_max;
	*out = calloc(cap ? cap : 1, sizeof **out);
	if (!*out)
		return 0;
	size_t n = rn_node_links(d->node, *out, cap);
	return n < cap ? n : cap;
}

static int link_far(const rn_link_info *l)
{
	return !l->leaf && (l->far_out || l->peer_wants);
}

/* ---- status -------------------------------------------------------------- */

/* Counter structs as objects, one member per field, named as the field. */
#define FIELD(o, s, f) json_object_set_new(o, #f, json_u64((uint64_t)(s)->f))

static json_t *stats_json(const rn_node_stats *s)
{
	json_t *o = json_object();
	FIELD(o, s, tx_pkts);
	FIELD(o, s, tx_bytes);
	FIELD(o, s, rx_pkts);
	FIELD(o, s, rx_bytes);
	FIELD(o, s, tx_maint_pkts);
	FIELD(o, s, tx_maint_bytes);
	FIELD(o, s, drop_decode);
	FIELD(o, s, drop_unknown);
	FIELD(o, s, drop_ttl);
	FIELD(o, s, drop_noroute);
	FIELD(o, s, drop_full);
	FIELD(o, s, links_dead);
	FIELD(o, s, links_failed);
	FIELD(o, s, reroutes);
	FIELD(o, s, route_lost);
	FIELD(o, s, boot_answers);
	return o;
}

static json_t *sec_json(const rn_sec_stats *s)
{
	json_t *o = json_object();
	FIELD(o, s, hs_init_sent);
	FIELD(o, s, hs_resp_sent);
	FIELD(o, s, hs_init_ok);
	FIELD(o, s, hs_resp_ok);
	FIELD(o, s, hs_cookie_sent);
	FIELD(o, s, hs_bad_cert);
	FIELD(o, s, hs_other_group);
	FIELD(o, s, hs_expired);
	FIELD(o, s, hs_bad_sig);
	FIELD(o, s, hs_wrong_id);
	FIELD(o, s, hs_stale);
	FIELD(o, s, hs_unexpected);
	FIELD(o, s, hs_rekeys);
	FIELD(o, s, hs_expired_sess);
	FIELD(o, s, data_unknown);
	FIELD(o, s, data_replay);
	FIELD(o, s, data_auth_fail);
	FIELD(o, s, tx_nosess);
	return o;
}

static json_t *driver_json(const rn_uvenv_stats *s)
{
	json_t *o = json_object();
	FIELD(o, s, send_eagain);
	FIELD(o, s, send_errors);
	FIELD(o, s, recv_errors);
	FIELD(o, s, recv_truncated);
	FIELD(o, s, peers_overflow);
	FIELD(o, s, peers_evicted);
	return o;
}

#undef FIELD

static json_t *links_json(const rn_daemon *d)
{
	rn_link_info *li;
	size_t n = get_links(d, &li);
	json_int_t up = 0, near = 0, far = 0;
	for (size_t i = 0; i < n; i++) {
		up += li[i].up;
		near += li[i].near;
		far += link_far(&li[i]);
	}
	free(li);
	return json_pack("{s:I,s:I,s:I,s:I,s:I}", "total", (json_int_t)n, "up",
	                 up, "near", near, "far", far, "pending",
	                 (json_int_t)n - up);
}

static json_t *cmd_status(rn_daemon *d)
{
	char listen[RN_EP_STR_MAX];
	rn_id sb, pb;
	rn_ep own;
	const rn_cert *c = &d->id.ident.parsed;
	if (rn_uvenv_local(&d->env, &own, listen, sizeof listen))
		snprintf(listen, sizeof listen, "?");
	rn_time up_us = rn_uvenv_now() - d->started;
	return json_pack(
	    "{s:b,s:o,s:o,s:s,s:o,s:s,s:s,s:I,s:o,s:o,s:o,s:o,s:o,s:o}", "ok",
	    1, "id", json_id(rn_node_id(d->node)), "vip",
	    json_vip(c->vip, c->vip_len), "name", c->name, "group",
	    json_hex(d->id.group_id, RN_GROUP_ID_LEN), "state",
	    state_name(rn_node_state(d->node)), "listen", listen, "uptime_s",
	    (json_int_t)(up_us / 1000000u), "links", links_json(d), "succ",
	    json_id_or_null(rn_node_succ(d->node, &sb)), "pred",
	    json_id_or_null(rn_node_pred(d->node, &pb)), "stats",
	    stats_json(rn_node_get_stats(d->node)), "sec",
	    sec_json(rn_node_sec_stats(d->node)), "driver",
	    driver_json(&d->env.stats));
}

/* ---- peers --------------------------------------------------------------- */

static const char *link_kind(const rn_link_info *l)
{
	if (l->leaf)
		return "leaf";
	if (l->near && link_far(l))
		return "near+far";
	if (l->near)
		return "near";
	if (link_far(l))
		return "far";
	return "link";
}

/* name and vip come from the peer's certificate, once its session is up. */
static json_t *peer_json(const rn_daemon *d, const rn_link_info *l)
{
	const rn_uvenv_peer *p = rn_uvenv_peer_find(&d->env, &l->ep);
	return json_pack("{s:o,s:s,s:s,s:o,s:o,s:o,s:o,s:I,s:o,s:o}", "id",
	                 json_id(&l->id), "kind", link_kind(l), "state",
	                 l->up ? "up" : "pending", "endpoint", json_ep(&l->ep),
	                 "rtt_ms",
	                 l->up ? json_integer(l->rtt_ms) : json_null(),
	                 "tx_bytes", json_u64(p ? p->tx_bytes : 0), "rx_bytes",
	                 json_u64(p ? p->rx_bytes : 0), "age_s",
	                 (json_int_t)(l->age_ms / 1000u), "name",
	                 l->name[0] ? json_string(l->name) : json_null(), "vip",
	                 json_vip(l->vip, l->vip_len));
}

static json_t *cmd_peers(rn_daemon *d)
{
	rn_link_info *li;
	size_t n = get_links(d, &li);
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, peer_json(d, &li[i]));
	free(li);
	return json_pack("{s:b,s:o}", "ok", 1, "peers", arr);
}

/* ---- ring ---------------------------------------------------------------- */

typedef struct ring_entry {
	rn_id off; /* peer - self, mod 2^160: the clockwise distance */
	const rn_link_info *l;
} ring_entry;

static int ring_cmp(const void *a, const void *b)
{
	return rn_id_cmp(&((const ring_entry *)a)->off,
	                 &((const ring_entry *)b)->off);
}

static json_t *ring_json(const ring_entry *e)
{
	return json_pack("{s:o,s:o,s:i}", "id", json_id(&e->l->id), "endpoint",
	                 json_ep(&e->l->ep), "rtt_ms", (int)e->l->rtt_ms);
}

/* The near links sorted clockwise from self: successors from the front,
 * predecessors from the back, near_k of each at most (a small ring has
 * the same nodes on both sides). */
static json_t *cmd_ring(rn_daemon *d)
{
	rn_link_info *li;
	size_t n = get_links(d, &li), m = 0;
	const rn_id *self = rn_node_id(d->node);
	ring_entry *e = calloc(n ? n : 1, sizeof *e);
	json_t *succ = json_array(), *pred = json_array();
	for (size_t i = 0; e && i < n; i++) {
		if (!li[i].near)
			continue;
		rn_id_sub(&e[m].off, &li[i].id, self);
		e[m++].l = &li[i];
	}
	qsort(e, m, sizeof *e, ring_cmp);
	size_t k = m < d->settings.near_k ? m : d->settings.near_k;
	for (size_t i = 0; i < k; i++) {
		json_array_append_new(succ, ring_json(&e[i]));
		json_array_append_new(pred, ring_json(&e[m - 1 - i]));
	}
	free(e);
	free(li);
	return json_pack("{s:b,s:o,s:o,s:o}", "ok", 1, "self", json_id(self),
	                 "pred", pred, "succ", succ);
}

/* ---- ping ---------------------------------------------------------------- */

/* A 40-hex ring id, or a virtual IP turned into the ring id of its owner
 * (BLAKE2b-160(group_id || vip), as overlay/node.c computes its own). */
static int parse_target(const rn_daemon *d, const char *s, rn_id *id)
{
	uint8_t vip[16];
	if (strlen(s) == RN_ID_HEX_LEN &&
	    rn_id_from_hex(id, s, RN_ID_HEX_LEN) == 0)
		return 0;
	if (inet_pton(AF_INET, s, vip) == 1) {
		rn_id_hash(id, d->id.group_id, RN_GROUP_ID_LEN, vip, 4, NULL,
		           0);
		return 0;
	}
	if (inet_pton(AF_INET6, s, vip) == 1) {
		rn_id_hash(id, d->id.group_id, RN_GROUP_ID_LEN, vip, 16, NULL,
		           0);
		return 0;
	}
	return -1;
}

static void ping_free(uv_handle_t *h)
{
	ping *p = h->data;
	for (unsigned i = 0; i < RN_DAEMON_PING_COUNT_MAX; i++)
		json_decref(p->path[i]);
	free(p);
}

static void ping_unlink(ping *p)
{
	rn_daemon *d = p->d;
	for (ping **pp = &d->pings; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			d->n_pings--;
			break;
		}
	uv_close((uv_handle_t *)&p->timer, ping_free);
}

static json_t *ping_reply(const ping *p)
{
	json_t *arr = json_array();
	json_int_t lost = 0;
	for (unsigned i = 0; i < p->count; i++) {
		if (p->state[i] != SEQ_DONE) {
			lost++;
			continue;
		}
		json_array_append_new(
		    arr,
		    json_pack("{s:I,s:f,s:O,s:i}", "seq", (json_int_t)i + 1,
		              "rtt_ms", (double)p->rtt_us[i] / 1000.0, "hops",
		              p->path[i], "hops_back", (int)p->hops_back[i]));
	}
	return json_pack("{s:b,s:o,s:o,s:I}", "ok", 1, "target",
	                 json_id(&p->target), "replies", arr, "lost", lost);
}

static void ping_finish(ping *p, json_t *reply)
{
	rn_ctl_reply(p->req, reply);
	p->req = NULL;
	ping_unlink(p);
}

static void ping_send(ping *p, rn_time now)
{
	unsigned i = p->sent++;
	p->state[i] = SEQ_WAIT; /* before the call: a trace of our own id
	                           is answered from inside it */
	p->sent_at[i] = now;
	if (rn_node_trace(p->d->node, now, &p->target, p->qid0 + i))
		p->state[i] = SEQ_LOST;
}

static void on_ping_timer(uv_timer_t *t);

/* Sends what is due, expires what timed out, and either answers or sets
 * the timer for the next of those. */
static void ping_step(ping *p)
{
	rn_time now = rn_uvenv_now(), next = RN_TIME_NEVER;
	const rn_time iv = RN_MS(RN_DAEMON_PING_INTERVAL_MS);
	const rn_time to = RN_MS(RN_DAEMON_PING_TIMEOUT_MS);
	if (rn_ctl_req_gone(p->req)) {
		ping_finish(p, NULL); /* dropped: the client hung up */
		return;
	}
	if (p->sent < p->count && now >= p->t0 + p->sent * iv)
		ping_send(p, now);
	if (p->sent < p->count)
		next = p->t0 + p->sent * iv;
	for (unsigned i = 0; i < p->sent; i++) {
		if (p->state[i] != SEQ_WAIT)
			continue;
		if (now >= p->sent_at[i] + to)
			p->state[i] = SEQ_LOST;
		else if (p->sent_at[i] + to < next)
			next = p->sent_at[i] + to;
	}
	if (next == RN_TIME_NEVER) {
		ping_finish(p, ping_reply(p));
		return;
	}
	uv_update_time(&p->d->loop);
	uv_timer_start(&p->timer, on_ping_timer,
	               next > now ? (next - now + 999u) / 1000u : 0, 0);
}

static void on_ping_timer(uv_timer_t *t)
{
	ping_step(t->data);
}

static int ping_waiting(const ping *p)
{
	for (unsigned i = 0; i < p->sent; i++)
		if (p->state[i] == SEQ_WAIT)
			return 1;
	return 0;
}

static void ping_on_done(rn_daemon *d, const rn_event *ev)
{
	for (ping *p = d->pings; p; p = p->next) {
		if (ev->qid < p->qid0 || ev->qid >= p->qid0 + p->sent)
			continue;
		unsigned i = (unsigned)(ev->qid - p->qid0);
		if (p->state[i] != SEQ_WAIT)
			return;
		p->state[i] = SEQ_DONE;
		p->rtt_us[i] = rn_uvenv_now() - p->sent_at[i];
		/* The request's path as traceroute shows it: each node it
		 * reached, after us, with the RTT of the link that took it
		 * there (the overlay's path lists each forwarder with the
		 * link it took; its last entry is the target). */
		json_t *path = json_array();
		for (unsigned k = 0; k + 1 < ev->path_len; k++)
			json_array_append_new(
			    path, json_pack("{s:o,s:i}", "id",
			                    json_id(&ev->path_id[k + 1]), "rtt_ms",
			                    (int)ev->path_rtt_ms[k]));
		json_decref(p->path[i]);
		p->path[i] = path;
		p->hops_back[i] = ev->hops_back;
		if (p->sent == p->count && !ping_waiting(p))
			/* the last answer: reply now, from the loop (we may
			 * be inside ping_send, which still uses p) */
			uv_timer_start(&p->timer, on_ping_timer, 0, 0);
		return;
	}
}

/* Either answers at once (the reply) or takes req (*taken = 1, NULL) and
 * answers it when the ping ends. */
static json_t *cmd_ping(rn_daemon *d, rn_ctl_req *req, const json_t *msg,
                        int *taken)
{
	const char *target = json_string_value(json_object_get(msg, "target"));
	json_t *jc = json_object_get(msg, "count");
	json_int_t count = 3;
	rn_id id;
	if (!target || parse_target(d, target, &id))
		return error_reply("target must be a 40-hex ring id or a "
		                   "virtual IP address");
	if (jc && !json_is_null(jc)) {
		if (!json_is_integer(jc))
			return error_reply("count must be an integer");
		count = json_integer_value(jc);
	}
	if (count < 1 || count > RN_DAEMON_PING_COUNT_MAX)
		return error_reply("count must be 1 to 100");
	if (rn_node_state(d->node) != RN_NODE_JOINED)
		return error_reply("not on the ring yet (state is not joined)");
	if (d->n_pings >= RN_DAEMON_PINGS_MAX || d->stopping)
		return error_reply(d->stopping ? "ringnetd is stopping"
		                               : "too many pings in progress");
	ping *p = calloc(1, sizeof *p);
	if (!p)
		return error_reply("out of memory");
	p->d = d;
	p->req = req;
	p->target = id;
	p->count = (unsigned)count;
	p->qid0 = d->next_qid;
	d->next_qid += p->count;
	p->t0 = rn_uvenv_now();
	uv_timer_init(&d->loop, &p->timer);
	p->timer.data = p;
	p->next = d->pings;
	d->pings = p;
	d->n_pings++;
	*taken = 1;
	ping_step(p);
	return NULL;
}

/* Shutdown: every ping in progress is answered now. */
static void pings_abort(rn_daemon *d)
{
	while (d->pings)
		ping_finish(d->pings, error_reply("ringnetd is stopping"));
}

/* ---- the control socket -------------------------------------------------- */

static void on_ctl(void *ud, rn_ctl_req *req, const json_t *msg)
{
	rn_daemon *d = ud;
	const char *cmd = json_string_value(json_object_get(msg, "cmd"));
	json_t *reply;
	char buf[128];
	int taken = 0;
	if (!strcmp(cmd, "status")) {
		reply = cmd_status(d);
	} else if (!strcmp(cmd, "peers")) {
		reply = cmd_peers(d);
	} else if (!strcmp(cmd, "ring")) {
		reply = cmd_ring(d);
	} else if (!strcmp(cmd, "ping")) {
		reply = cmd_ping(d, req, msg, &taken);
		if (taken)
			return; /* the ping answers it */
	} else {
		snprintf(buf, sizeof buf, "unknown command '%.64s'", cmd);
		reply = error_reply(buf);
	}
	rn_ctl_reply(req, reply ? reply : error_reply("out of memory"));
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
	pings_abort(d);
	resolve_cancel(d);
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

static void stop(rn_daemon *d, int sig)
{
	if (d->stopping)
		return;
	d->stopping = 1;
	rn_uvenv_log(&d->env, RN_LOG_INFO, "%s: leaving the ring",
	             sig == SIGINT ? "SIGINT" : "SIGTERM");
	rn_node_leave(d->node, rn_uvenv_now());
	pings_abort(d);
	resolve_cancel(d);
	uv_timer_stop(&d->clock);
	/* the CLOSEs went out with try_send; the pause lets late control
	 * replies flush before their sockets close */
	uv_timer_start(&d->drain, on_drained, RN_DAEMON_DRAIN_MS, 0);
}

static int config_restart_needed(const rn_config *a, const rn_config *b)
{
	if (strcmp(a->listen_addr, b->listen_addr) ||
	    a->listen_port != b->listen_port ||
	    a->n_bootstrap != b->n_bootstrap ||
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
		             "reload: listen, bootstrap, group, key, cert and "
		             "control changes take effect after a restart");
	free(c);
}

static void on_signal(uv_signal_t *h, int signum)
{
	rn_daemon *d = h->data;
	if (signum == SIGHUP)
		reload(d);
	else
		stop(d, signum);
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
	            !ep_unspecified(&own);
	const rn_cert *c = &d->id.ident.parsed;
	d->node = rn_node_new(&d->sh, &d->env, d->id.group_id, c->vip,
	                      c->vip_len, known ? &own : NULL, rn_uvenv_now());
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

static int setup(rn_daemon *d, char *err, size_t errlen)
{
	if (rn_config_load(d->config_path, &d->cfg, err, errlen) ||
	    load_identity(&d->cfg, &d->id, err, errlen) ||
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
	if (node_init(d, err, errlen))
		return RN_DAEMON_EXIT_FAIL;
	if (rn_ctl_open(&d->ctl, &d->loop, d->cfg.control_path, on_ctl, d, err,
	                errlen)) {
		d->ctl = NULL;
		return RN_DAEMON_EXIT_FAIL;
	}
	return RN_DAEMON_EXIT_OK;
}

int rn_daemon_new(rn_daemon **out, const char *config_path, char *err,
                  size_t errlen)
{
	rn_daemon *d = calloc(1, sizeof *d);
	*out = NULL;
	if (!d) {
		snprintf(err, errlen, "out of memory");
		return RN_DAEMON_EXIT_FAIL;
	}
	snprintf(d->config_path, sizeof d->config_path, "%s", config_path);
	d->next_qid = 1;
	int rc = setup(d, err, errlen);
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
	resolve_start(d);
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
	rn_uvenv_log(&d->env, RN_LOG_INFO, "stopped");
	return RN_DAEMON_EXIT_OK;
}

void rn_daemon_free(rn_daemon *d)
{
	if (!d)
		return;
	loop_finish(d);
	rn_node_free(d->node);
	if (d->sh_ok)
		rn_shared_deinit(&d->sh);
	rn_uvenv_deinit(&d->env);
	sodium_memzero(&d->id, sizeof d->id);
	free(d);
}
