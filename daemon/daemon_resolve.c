/* `resolve`: a member's name or virtual IP to what the DHT knows of it
 * (daemon_impl.h; docs/ringnetd.md has the reply):
 *
 *     NAME --get name/NAME--> VIP --get member/VIP--> endpoints, node key
 *     VIP  ------------------------get member/VIP--> ...
 *
 * Every record is checked end to end by the DHT before it reaches us
 * (dht/record.h): a name record is signed by the member with that name
 * and holds its own address, a member record by the member holding that
 * address; so the name, address and node key reported come from the
 * group-signed certificate of the record's writer. Of several records
 * under one key (two certificates with the same name, say) the newest
 * (largest ts) wins.
 *
 * The answer is kept in the resolution cache (resolve_cache.h) until the
 * record's lease ends, and a later resolve of the same name or address is
 * answered from it at once ("cached": true), unless the request says
 * "cache": false. A resolve waits in the daemon's DHT table
 * (daemon_dht.c) with one deadline for both steps:
 *
 *     RESOLVE_NAME --VIP found--> RESOLVE_MEMBER --found--> answered
 *          |                           |
 *          +-- not found, timeout -----+--> error
 */
#include "daemon_impl.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "../core/err.h"

/* The newest of recs whose value passes ok(), or NULL. */
static const rn_rec *newest(const rn_rec *recs, uint32_t n,
                            int (*ok)(const rn_rec *))
{
	const rn_rec *best = NULL;
	for (uint32_t i = 0; i < n; i++)
		if (ok(&recs[i]) && (!best || recs[i].ts > best->ts))
			best = &recs[i];
	return best;
}

static int name_ok(const rn_rec *r)
{
	return r->value_len == 4 || r->value_len == 16;
}

static int member_ok(const rn_rec *r)
{
	rn_member m;
	return rn_member_decode(r->value, r->value_len, &m) == 0;
}

static json_t *resolved_json(const rn_daemon *d, const rn_resolved *r,
                             const char *target, int cached, uint64_t now_ms)
{
	rn_id id;
	uint64_t left = r->expires_ms > now_ms ? r->expires_ms - now_ms : 0;
	rn_id_hash(&id, d->id.group_id, RN_GROUP_ID_LEN, r->vip, r->vip_len,
	           NULL, 0);
	return json_pack("{s:b,s:s,s:o,s:s,s:o,s:o,s:o,s:I,s:b}", "ok", 1,
	                 "target", target, "vip",
	                 rn_daemon_dht_vip_json(r->vip, r->vip_len), "name",
	                 r->name, "id", rn_daemon_query_id(&id), "node_pk",
	                 rn_daemon_dht_pk_json(r->node_pk), "endpoints",
	                 rn_daemon_dht_eps_json(&r->eps), "lease_s",
	                 (json_int_t)(left / 1000), "cached", cached);
}

static json_t *resolve_error(const rn_daemon_dht_wait *w, int status)
{
	char vip[INET6_ADDRSTRLEN] = "";
	char text[256];
	if (w->vip_len)
		inet_ntop(w->vip_len == 4 ? AF_INET : AF_INET6, w->vip, vip,
		          sizeof vip);
	if (status != RN_ERR_NOTFOUND)
		return rn_daemon_dht_error(status, w->ns, w->key, w->key_len);
	if (w->step == RESOLVE_NAME)
		snprintf(text, sizeof text,
		         "not found: no member named '%s' (name/%s is not in "
		         "the DHT)",
		         w->name, w->name);
	else
		snprintf(text, sizeof text,
		         "not found: no member record for %s (member/%s is "
		         "not in the DHT)",
		         vip, vip);
	return json_pack("{s:b,s:s,s:s}", "ok", 0, "error", text, "code",
	                 "notfound");
}

/* Sends the get of w's current step. */
static void send_step(rn_daemon *d, rn_daemon_dht_wait *w)
{
	if (w->step == RESOLVE_NAME) {
		snprintf(w->ns, sizeof w->ns, "name");
		w->key_len = (uint8_t)strlen(w->name);
		memcpy(w->key, w->name, w->key_len);
	} else {
		snprintf(w->ns, sizeof w->ns, "member");
		w->key_len = w->vip_len;
		memcpy(w->key, w->vip, w->vip_len);
	}
	uint64_t rid = w->rid;
	int rc = rn_dht_get(d->dht->dht, rn_uvenv_now(), rid, w->ns, w->key,
	                    w->key_len);
	rn_daemon_dht_wait_sent(d, w, rid, rc);
}

static void resolve_done(rn_daemon *d, rn_daemon_dht_wait *w, int status,
                         const rn_rec *recs, uint32_t n, uint64_t now_ms)
{
	const rn_rec *r = NULL;
	if (!status) {
		r = newest(recs, n,
		           w->step == RESOLVE_NAME ? name_ok : member_ok);
		if (!r)
			status = RN_ERR_NOTFOUND;
	}
	if (status) {
		rn_daemon_dht_wait_end(d, w, resolve_error(w, status));
		return;
	}
	if (w->step == RESOLVE_NAME) {
		w->vip_len = (uint8_t)r->value_len;
		memcpy(w->vip, r->value, r->value_len);
		w->name_expires_ms = r->expires;
		w->step = RESOLVE_MEMBER;
		rn_daemon_dht_wait_step(d, w);
		send_step(d, w);
		return;
	}
	rn_resolved res;
	memset(&res, 0, sizeof res);
	res.vip_len = r->key_len;
	memcpy(res.vip, r->key, r->key_len);
	if (r->has_cert)
		snprintf(res.name, sizeof res.name, "%s", r->cert.name);
	memcpy(res.node_pk, r->writer, RN_SIGN_PK_LEN);
	rn_member_decode(r->value, r->value_len, &res.eps);
	res.expires_ms = r->expires;
	/* the name leads here only while it is this member's */
	if (!strcmp(res.name, w->name))
		res.name_expires_ms = w->name_expires_ms;
	rn_resolve_cache_put(&d->dht->cache, &res, now_ms);
	rn_daemon_dht_wait_end(d, w,
	                       resolved_json(d, &res, w->target, 0, now_ms));
}

/* target: a virtual IP (into vip) or a member name (into name). */
static int parse_target(const char *s, rn_daemon_dht_wait *w)
{
	if (inet_pton(AF_INET, s, w->vip) == 1) {
		w->vip_len = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, w->vip) == 1) {
		w->vip_len = 16;
		return 0;
	}
	if (!rn_cert_name_valid(s, strlen(s)))
		return -1;
	snprintf(w->name, sizeof w->name, "%s", s);
	return 0;
}

json_t *rn_daemon_resolve_start(rn_daemon *d, rn_ctl_req *req,
                                const json_t *msg, int *taken)
{
	rn_daemon_dht_wait probe;
	const char *target = json_string_value(json_object_get(msg, "target"));
	json_t *jc = json_object_get(msg, "cache");
	memset(&probe, 0, sizeof probe);
	if (!target || strlen(target) >= sizeof probe.target ||
	    parse_target(target, &probe))
		return json_pack(
		    "{s:b,s:s,s:s}", "ok", 0, "error",
		    "target must be a member name (A-Z a-z 0-9 . _ -, 1 to 63 "
		    "characters) or a virtual IPv4 or IPv6 address",
		    "code", "inval");
	snprintf(probe.target, sizeof probe.target, "%s", target);
	uint64_t now_ms = rn_daemon_dht_unix_ms(d);
	if (!jc || json_is_true(jc)) {
		rn_resolve_cache *c = &d->dht->cache;
		const rn_resolved *hit =
		    probe.vip_len
		        ? rn_resolve_cache_by_vip(c, probe.vip, probe.vip_len,
		                                  now_ms)
		        : rn_resolve_cache_by_name(c, probe.name, now_ms);
		if (hit)
			return resolved_json(d, hit, target, 1, now_ms);
	}
	if (d->stopping)
		return rn_daemon_query_error("ringnetd is stopping");
	if (rn_node_state(d->node) != RN_NODE_JOINED)
		return rn_daemon_dht_error(RN_ERR_STATE, "", NULL, 0);
	rn_daemon_dht_wait *w = rn_daemon_dht_wait_new(d, req, resolve_done);
	if (!w)
		return rn_daemon_dht_error(RN_ERR_FULL, "", NULL, 0);
	probe.rid = w->rid;
	probe.req = req;
	probe.done = resolve_done;
	probe.deadline = w->deadline;
	probe.op = RN_DHT_GET;
	probe.step = probe.vip_len ? RESOLVE_MEMBER : RESOLVE_NAME;
	*w = probe;
	*taken = 1;
	send_step(d, w);
	return NULL;
}
