/* The control socket's answers (daemon_impl.h, docs/ringnetd.md has the
 * reply schemas): `status`, `peers` and `ring` are built here from the
 * node's and the driver's state, as JSON; `ping` is handed to
 * daemon_ping.c, `dht` to daemon_dht.c and `resolve` to daemon_resolve.c,
 * which may answer later.
 *
 *     status  this node, its link counts and every counter struct
 *             (rn_node_stats, rn_sec_stats, rn_uvenv_stats, the DHT's),
 *             one member per field, named as the field
 *     peers   one object per link (rn_node_links), with the driver's
 *             byte counts for the link's endpoint
 *     ring    the near links sorted clockwise from this node
 *
 * Every answer is built from a snapshot taken in the call; nothing here
 * keeps state between requests. A reply that cannot be built (no memory)
 * becomes {"ok":false,"error":"out of memory"}.
 */
#include "daemon_impl.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

/* ---- JSON helpers -------------------------------------------------------- */

json_t *rn_daemon_query_id(const rn_id *id)
{
	char hex[RN_ID_HEX_LEN + 1];
	rn_id_to_hex(id, hex);
	return json_string(hex);
}

static json_t *json_id_or_null(const rn_id *id)
{
	return id ? rn_daemon_query_id(id) : json_null();
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

json_t *rn_daemon_query_error(const char *msg)
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
	FIELD(o, s, boot_peers);
	FIELD(o, s, punches);
	FIELD(o, s, ctm_replies);
	FIELD(o, s, drop_answers);
	FIELD(o, s, shortcuts_asked);
	FIELD(o, s, drop_shortcuts);
	FIELD(o, s, relay_links);
	FIELD(o, s, relay_fwd);
	FIELD(o, s, relay_drop);
	FIELD(o, s, relay_direct_tries);
	FIELD(o, s, relay_direct_ok);
	return o;
}

static json_t *sec_json(const rn_sec_stats *s)
{
	json_t *o = json_object();
#define SEC_FIELD(f) FIELD(o, s, f);
	RN_SEC_STATS_FIELDS(SEC_FIELD)
#undef SEC_FIELD
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
	json_int_t up = 0, near = 0, far = 0, shortcut = 0;
	for (size_t i = 0; i < n; i++) {
		up += li[i].up;
		near += li[i].near;
		far += link_far(&li[i]);
		shortcut += li[i].shortcut;
	}
	free(li);
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "total", (json_int_t)n,
	                 "up", up, "near", near, "far", far, "shortcut",
	                 shortcut, "pending", (json_int_t)n - up);
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
	    "{s:b,s:o,s:o,s:s,s:o,s:s,s:s,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,"
	    "s:o,s:o}",
	    "ok", 1, "id", rn_daemon_query_id(rn_node_id(d->node)), "vip",
	    json_vip(c->vip, c->vip_len), "name", c->name, "group",
	    json_hex(d->id.group_id, RN_GROUP_ID_LEN), "state",
	    state_name(rn_node_state(d->node)), "listen", listen, "uptime_s",
	    (json_int_t)(up_us / 1000000u), "links", links_json(d), "succ",
	    json_id_or_null(rn_node_succ(d->node, &sb)), "pred",
	    json_id_or_null(rn_node_pred(d->node, &pb)), "stats",
	    stats_json(rn_node_get_stats(d->node)), "sec",
	    sec_json(rn_node_sec_stats(d->node)), "driver",
	    driver_json(&d->env.stats), "dht", rn_daemon_dht_status(d), "vpn",
	    rn_daemon_vpn_status(d), "lease", rn_daemon_claim_status(d),
	    "portmap", rn_daemon_portmap_status(d));
}

/* ---- peers --------------------------------------------------------------- */

static const char *link_kind(const rn_link_info *l)
{
	if (l->leaf)
		return "leaf";
	if (l->shortcut && !l->near)
		return "shortcut";
	if (l->near && link_far(l))
		return "near+far";
	if (l->near)
		return "near";
	if (link_far(l))
		return "far";
	return "link";
}

/* name and vip come from the peer's certificate, once its session is up.
 * Bytes: the driver's count for the link's endpoint; a relay link's
 * virtual endpoint never reaches the driver, and the node counts its
 * datagrams itself. */
static json_t *peer_json(const rn_daemon *d, const rn_link_info *l)
{
	const rn_uvenv_peer *p = rn_uvenv_peer_find(&d->env, &l->ep);
	uint64_t tx = p ? p->tx_bytes : l->relay_tx_bytes;
	uint64_t rx = p ? p->rx_bytes : l->relay_rx_bytes;
	return json_pack("{s:o,s:s,s:s,s:o,s:o,s:o,s:o,s:I,s:o,s:o}", "id",
	                 rn_daemon_query_id(&l->id), "kind", link_kind(l),
	                 "state", l->up ? "up" : "pending", "endpoint",
	                 json_ep(&l->ep), "rtt_ms",
	                 l->up ? json_integer(l->rtt_ms) : json_null(),
	                 "tx_bytes", json_u64(tx), "rx_bytes", json_u64(rx),
	                 "age_s",
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
	return json_pack("{s:o,s:o,s:i}", "id", rn_daemon_query_id(&e->l->id),
	                 "endpoint", json_ep(&e->l->ep), "rtt_ms",
	                 (int)e->l->rtt_ms);
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
	return json_pack("{s:b,s:o,s:o,s:o}", "ok", 1, "self",
	                 rn_daemon_query_id(self), "pred", pred, "succ", succ);
}

/* ---- the control socket -------------------------------------------------- */

void rn_daemon_query_on_request(void *ud, rn_ctl_req *req, const json_t *msg)
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
		reply = rn_daemon_ping_start(d, req, msg, &taken);
		if (taken)
			return; /* the ping answers it */
	} else if (!strcmp(cmd, "dht")) {
		reply = rn_daemon_dht_start(d, req, msg, &taken);
		if (taken)
			return; /* the DHT's answer does */
	} else if (!strcmp(cmd, "resolve")) {
		reply = rn_daemon_resolve_start(d, req, msg, &taken);
		if (taken)
			return;
	} else {
		snprintf(buf, sizeof buf, "unknown command '%.64s'", cmd);
		reply = rn_daemon_query_error(buf);
	}
	rn_ctl_reply(req,
	             reply ? reply : rn_daemon_query_error("out of memory"));
}
