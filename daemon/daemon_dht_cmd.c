/* The `dht` command of the control socket (daemon_impl.h; docs/ringnetd.md
 * has the request and the replies): put, create, get and remove on the
 * node's DHT, and the JSON of what the DHT holds, shared with `resolve`.
 *
 * A request is checked in full before anything is sent (namespace, key
 * and value as text or hex, their lengths, the lease), then takes a slot
 * of the daemon's wait table (daemon_dht.c) and calls rn_dht_write or
 * rn_dht_get under the slot's rid. cmd_done turns the DHT's answer into
 * the reply: the values of a get, each with its writer (from the
 * certificate the record carries) and what is left of its lease; a
 * conflict with the holder's record; every other failure as one line
 * and a code (rn_daemon_dht_error).
 *
 * Bytes to text: a key or value is shown as text only when it is
 * printable UTF-8; a member or lease key as the address it is, else as
 * hex. Nothing here keeps state between requests.
 */
#include "daemon_impl.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "../core/err.h"
#include "../dht/member.h"

/* ---- formatting ---------------------------------------------------------- */

/* Printable UTF-8: no control characters but tab, newline and return. */
static json_t *text_or_null(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((b[i] < 0x20 && b[i] != '\t' && b[i] != '\n' &&
		     b[i] != '\r') ||
		    b[i] == 0x7f)
			return json_null();
	json_t *j = json_stringn((const char *)b, n); /* NULL: not UTF-8 */
	return j ? j : json_null();
}

static json_t *hex_json(const uint8_t *b, size_t n)
{
	char hex[2 * RN_REC_VALUE_MAX + 1];
	if (n > RN_REC_VALUE_MAX)
		return json_null();
	sodium_bin2hex(hex, sizeof hex, b, n);
	return json_string(hex);
}

json_t *rn_daemon_dht_vip_json(const uint8_t *vip, size_t len)
{
	char s[INET6_ADDRSTRLEN];
	if (len != 4 && len != 16)
		return json_null();
	inet_ntop(len == 4 ? AF_INET : AF_INET6, vip, s, sizeof s);
	return json_string(s);
}

json_t *rn_daemon_dht_pk_json(const uint8_t pk[RN_SIGN_PK_LEN])
{
	char b64[sodium_base64_ENCODED_LEN(RN_SIGN_PK_LEN,
	                                   sodium_base64_VARIANT_ORIGINAL)];
	sodium_bin2base64(b64, sizeof b64, pk, RN_SIGN_PK_LEN,
	                  sodium_base64_VARIANT_ORIGINAL);
	return json_string(b64);
}

static int ns_is_vip_keyed(const char *ns)
{
	return !strcmp(ns, "member") || !strcmp(ns, "lease");
}

void rn_daemon_dht_key_str(const char *ns, const uint8_t *key, size_t len,
                           char *out, size_t outlen)
{
	if (ns_is_vip_keyed(ns) && (len == 4 || len == 16)) {
		char s[INET6_ADDRSTRLEN];
		inet_ntop(len == 4 ? AF_INET : AF_INET6, key, s, sizeof s);
		snprintf(out, outlen, "%s", s);
		return;
	}
	json_t *t = text_or_null(key, len);
	if (json_is_string(t)) {
		snprintf(out, outlen, "%s", json_string_value(t));
	} else {
		char hex[2 * RN_REC_KEY_MAX + 1];
		sodium_bin2hex(hex, sizeof hex, key,
		               len > RN_REC_KEY_MAX ? RN_REC_KEY_MAX : len);
		snprintf(out, outlen, "0x%s", hex);
	}
	json_decref(t);
}

json_t *rn_daemon_dht_writer_json(const rn_rec *r)
{
	const rn_cert *c = r->has_cert ? &r->cert : NULL;
	return json_pack(
	    "{s:o,s:o,s:o}", "name", c ? json_string(c->name) : json_null(),
	    "vip", c ? rn_daemon_dht_vip_json(c->vip, c->vip_len) : json_null(),
	    "node_pk", rn_daemon_dht_pk_json(r->writer));
}

static const char *ep_kind_name(uint8_t kind)
{
	switch (kind) {
	case RN_MEMBER_EP_LOCAL:
		return "local";
	case RN_MEMBER_EP_MAPPED:
		return "mapped";
	case RN_MEMBER_EP_REFLEXIVE:
		return "reflexive";
	default:
		return "unknown";
	}
}

json_t *rn_daemon_dht_eps_json(const rn_member *m)
{
	json_t *arr = json_array();
	for (unsigned i = 0; arr && i < m->n; i++) {
		char s[RN_EP_STR_MAX];
		json_array_append_new(
		    arr, json_pack("{s:s,s:s}", "kind",
		                   ep_kind_name(m->kind[i]), "endpoint",
		                   rn_ep_to_str(&m->ep[i], s, sizeof s)));
	}
	return arr;
}

static const char *flags_name(uint8_t flags)
{
	if (flags & RN_REC_EXCL)
		return "excl";
	if (flags & RN_REC_REPLACE)
		return "replace";
	return "";
}

/* One value of a get: the value, its writer and what is left of its
 * lease; a name's address and a member's endpoints decoded. */
static json_t *rec_json(const rn_rec *r, uint64_t now_ms)
{
	uint64_t left = r->expires > now_ms ? (r->expires - now_ms) / 1000 : 0;
	json_t *o = json_pack("{s:o,s:o,s:o,s:I,s:s}", "value",
	                      text_or_null(r->value, r->value_len), "value_hex",
	                      hex_json(r->value, r->value_len), "writer",
	                      rn_daemon_dht_writer_json(r), "lease_s",
	                      (json_int_t)left, "flags", flags_name(r->flags));
	rn_member m;
	if (o && !strcmp(r->ns, "name"))
		json_object_set_new(
		    o, "vip", rn_daemon_dht_vip_json(r->value, r->value_len));
	if (o && !strcmp(r->ns, "member") &&
	    rn_member_decode(r->value, r->value_len, &m) == 0)
		json_object_set_new(o, "endpoints", rn_daemon_dht_eps_json(&m));
	return o;
}

/* ---- errors -------------------------------------------------------------- */

static const char *err_code(int status)
{
	switch (status) {
	case RN_ERR_INVAL:
		return "inval";
	case RN_ERR_PERM:
		return "perm";
	case RN_ERR_CONFLICT:
		return "conflict";
	case RN_ERR_TIMEOUT:
		return "timeout";
	case RN_ERR_NOTFOUND:
		return "notfound";
	case RN_ERR_STATE:
		return "state";
	case RN_ERR_FULL:
		return "full";
	case RN_ERR_EXPIRED:
		return "expired";
	default:
		return "error";
	}
}

static void perm_text(char *out, size_t outlen, const char *ns, const char *k)
{
	if (ns_is_vip_keyed(ns))
		snprintf(out, outlen,
		         "permission denied: %s/%s: only the member whose "
		         "certificate holds that virtual IP may write it",
		         ns, k);
	else if (!strcmp(ns, "name"))
		snprintf(out, outlen,
		         "permission denied: name/%s: only the member named "
		         "'%s', with its own virtual IP as the value, may "
		         "write it",
		         k, k);
	else
		snprintf(out, outlen, "permission denied: %s/%s", ns, k);
}

json_t *rn_daemon_dht_error(int status, const char *ns, const uint8_t *key,
                            size_t key_len)
{
	char k[160] = "", text[400];
	if (key)
		rn_daemon_dht_key_str(ns, key, key_len, k, sizeof k);
	switch (status) {
	case RN_ERR_PERM:
		perm_text(text, sizeof text, ns, k);
		break;
	case RN_ERR_TIMEOUT:
		snprintf(text, sizeof text,
		         "timeout: no answer from the DHT for %s/%s", ns, k);
		break;
	case RN_ERR_NOTFOUND:
		snprintf(text, sizeof text, "not found: %s/%s", ns, k);
		break;
	case RN_ERR_STATE:
		snprintf(text, sizeof text,
		         "not on the ring yet (state is not joined)");
		break;
	case RN_ERR_FULL:
		snprintf(text, sizeof text,
		         "the DHT is busy (too many requests in progress); "
		         "try again");
		break;
	case RN_ERR_CONFLICT:
		snprintf(text, sizeof text, "conflict: %s/%s is held", ns, k);
		break;
	default:
		snprintf(text, sizeof text, "%s/%s: %s", ns, k,
		         rn_strerror(status));
		break;
	}
	return json_pack("{s:b,s:s,s:s}", "ok", 0, "error", text, "code",
	                 err_code(status));
}

/* "conflict: app/lock is held by alice (10.1.0.5): 'value'" with the
 * holder's record as "holder". */
static json_t *conflict_error(const rn_daemon_dht_wait *w, const rn_rec *h,
                              uint64_t now_ms)
{
	char k[160], v[160], text[600]; /* all of it fits */
	rn_daemon_dht_key_str(w->ns, w->key, w->key_len, k, sizeof k);
	json_t *t = text_or_null(h->value, h->value_len);
	if (json_is_string(t))
		snprintf(v, sizeof v, "'%.120s'", json_string_value(t));
	else
		snprintf(v, sizeof v, "%u bytes", (unsigned)h->value_len);
	json_decref(t);
	char vip[INET6_ADDRSTRLEN] = "?";
	if (h->has_cert)
		inet_ntop(h->cert.vip_len == 4 ? AF_INET : AF_INET6,
		          h->cert.vip, vip, sizeof vip);
	snprintf(text, sizeof text,
	         "conflict: %s/%s is held by %s (%s) with the value %s", w->ns,
	         k, h->has_cert ? h->cert.name : "?", vip, v);
	return json_pack("{s:b,s:s,s:s,s:o}", "ok", 0, "error", text, "code",
	                 "conflict", "holder", rec_json(h, now_ms));
}

/* ---- the dht command ----------------------------------------------------- */

static const char *op_name(int op)
{
	switch (op) {
	case RN_DHT_PUT:
		return "put";
	case RN_DHT_CREATE:
		return "create";
	case RN_DHT_GET:
		return "get";
	case RN_DHT_REMOVE:
		return "remove";
	default:
		return "?";
	}
}

static int op_parse(const char *s)
{
	for (int op = RN_DHT_PUT; op <= RN_DHT_REMOVE; op++)
		if (s && !strcmp(s, op_name(op)))
			return op;
	return 0;
}

static json_t *bad(const char *fmt, ...) RN_PRINTF(1, 2);

/* {"ok":false,"error":text,"code":"inval"} */
static json_t *bad(const char *fmt, ...)
{
	char text[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	return json_pack("{s:b,s:s,s:s}", "ok", 0, "error", text, "code",
	                 "inval");
}

/* The bytes of member `what` ("key" or "value"): the string msg[what]
 * (an IP address becomes its 4 or 16 bytes when ip is set), or the hex
 * of msg[what_hex]. *present 0 when neither is given. NULL, or the error
 * reply. */
static json_t *take_bytes(const json_t *msg, const char *what, int ip,
                          uint8_t *out, size_t max, size_t *len, int *present)
{
	char hexname[16];
	snprintf(hexname, sizeof hexname, "%s_hex", what);
	const json_t *t = json_object_get(msg, what);
	const json_t *h = json_object_get(msg, hexname);
	*present = t || h;
	*len = 0;
	if (!*present)
		return NULL;
	if (t && h)
		return bad("give %s or %s_hex, not both", what, what);
	if (t && !json_is_string(t))
		return bad("%s must be a string", what);
	if (h && !json_is_string(h))
		return bad("%s_hex must be a string", what);
	if (t) {
		const char *s = json_string_value(t);
		size_t n = json_string_length(t);
		if (ip && n < INET6_ADDRSTRLEN && strlen(s) == n) {
			if (inet_pton(AF_INET, s, out) == 1) {
				*len = 4;
				return NULL;
			}
			if (inet_pton(AF_INET6, s, out) == 1) {
				*len = 16;
				return NULL;
			}
		}
		if (n > max)
			return bad("%s is %zu bytes; the DHT takes at most %zu",
			           what, n, max);
		memcpy(out, s, n);
		*len = n;
		return NULL;
	}
	const char *s = json_string_value(h);
	size_t n = strlen(s);
	if (n % 2 || strspn(s, "0123456789abcdefABCDEF") != n)
		return bad("%s_hex is not an even number of hex digits", what);
	if (n / 2 > max)
		return bad("%s is %zu bytes; the DHT takes at most %zu", what,
		           n / 2, max);
	sodium_hex2bin(out, max, s, n, NULL, len, NULL);
	return NULL;
}

/* Checks and fills w's key and ttl and the value; NULL or the error. */
static json_t *parse_dht(rn_daemon *d, const json_t *msg, int op,
                         rn_daemon_dht_wait *w, uint8_t *value,
                         size_t *value_len)
{
	const char *ns = json_string_value(json_object_get(msg, "ns"));
	json_t *jt = json_object_get(msg, "ttl");
	size_t klen;
	int present;
	json_t *e;
	if (!ns || !rn_rec_ns_ok(ns, strlen(ns)))
		return bad("bad namespace '%.40s': use 1 to 16 characters of "
		           "a-z, 0-9 and -",
		           ns ? ns : "");
	snprintf(w->ns, sizeof w->ns, "%s", ns);
	e = take_bytes(msg, "key", ns_is_vip_keyed(ns), w->key, RN_REC_KEY_MAX,
	               &klen, &present);
	if (e)
		return e;
	if (!present || klen == 0)
		return bad("a key of 1 to %d bytes is needed", RN_REC_KEY_MAX);
	w->key_len = (uint8_t)klen;
	e = take_bytes(msg, "value", !strcmp(ns, "name"), value,
	               RN_REC_VALUE_MAX, value_len, &present);
	if (e)
		return e;
	if (!present && (op == RN_DHT_PUT || op == RN_DHT_CREATE))
		return bad("%s needs a value", op_name(op));
	if (present && op == RN_DHT_GET)
		return bad("get takes no value");
	/* A removal is kept as long as anything it removes may live. */
	w->ttl_s = op == RN_DHT_REMOVE ? d->dht->s.ttl_max_s : d->cfg.dht_ttl_s;
	if (jt && !json_is_null(jt)) {
		json_int_t ttl =
		    json_is_integer(jt) ? json_integer_value(jt) : -1;
		if (ttl < 1 || ttl > (json_int_t)d->dht->s.ttl_max_s)
			return bad("ttl must be 1 to %u seconds",
			           (unsigned)d->dht->s.ttl_max_s);
		w->ttl_s = (uint32_t)ttl;
	}
	return NULL;
}

static json_t *cmd_reply(const rn_daemon_dht_wait *w, const rn_rec *recs,
                         uint32_t n, uint64_t now_ms)
{
	char k[160];
	rn_daemon_dht_key_str(w->ns, w->key, w->key_len, k, sizeof k);
	json_t *o = json_pack("{s:b,s:s,s:s,s:s,s:o}", "ok", 1, "op",
	                      op_name(w->op), "ns", w->ns, "key", k, "key_hex",
	                      hex_json(w->key, w->key_len));
	if (!o)
		return NULL;
	if (w->op == RN_DHT_GET) {
		json_t *arr = json_array();
		for (uint32_t i = 0; arr && i < n; i++)
			json_array_append_new(arr, rec_json(&recs[i], now_ms));
		json_object_set_new(o, "values", arr ? arr : json_null());
	} else if (w->op != RN_DHT_REMOVE) {
		json_object_set_new(o, "lease_s", json_integer(w->ttl_s));
	}
	return o;
}

static void cmd_done(rn_daemon *d, rn_daemon_dht_wait *w, int status,
                     const rn_rec *recs, uint32_t n, uint64_t now_ms)
{
	json_t *reply;
	if (status == RN_ERR_CONFLICT && n > 0)
		reply = conflict_error(w, &recs[0], now_ms);
	else if (status)
		reply = rn_daemon_dht_error(status, w->ns, w->key, w->key_len);
	else
		reply = cmd_reply(w, recs, n, now_ms);
	rn_daemon_dht_wait_end(d, w, reply);
}

json_t *rn_daemon_dht_start(rn_daemon *d, rn_ctl_req *req, const json_t *msg,
                            int *taken)
{
	rn_daemon_dht_wait probe;
	uint8_t value[RN_REC_VALUE_MAX];
	size_t value_len = 0;
	const char *ops = json_string_value(json_object_get(msg, "op"));
	int op = op_parse(ops);
	if (!op)
		return bad("op must be put, create, get or remove");
	memset(&probe, 0, sizeof probe);
	json_t *e = parse_dht(d, msg, op, &probe, value, &value_len);
	if (e)
		return e;
	if (d->stopping)
		return rn_daemon_query_error("ringnetd is stopping");
	if (rn_node_state(d->node) != RN_NODE_JOINED)
		return rn_daemon_dht_error(RN_ERR_STATE, "", NULL, 0);
	rn_daemon_dht_wait *w = rn_daemon_dht_wait_new(d, req, cmd_done);
	if (!w)
		return rn_daemon_dht_error(RN_ERR_FULL, "", NULL, 0);
	uint64_t rid = w->rid;
	probe.rid = rid;
	probe.req = req;
	probe.done = cmd_done;
	probe.deadline = w->deadline;
	probe.op = op;
	*w = probe;
	*taken = 1;
	/* A put replaces this member's earlier value, unless "add" keeps
	 * it (several values of one writer under one key). */
	unsigned flags =
	    op == RN_DHT_PUT && !json_is_true(json_object_get(msg, "add"))
	        ? RN_REC_REPLACE
	        : 0;
	rn_time now = rn_uvenv_now();
	rn_dht *dht = d->dht->dht;
	int rc =
	    op == RN_DHT_GET
	        ? rn_dht_get(dht, now, rid, w->ns, w->key, w->key_len)
	        : rn_dht_write(dht, now, rid, op, w->ns, w->key, w->key_len,
	                       value, value_len, w->ttl_s, flags, 0);
	rn_daemon_dht_wait_sent(d, w, rid, rc);
	return NULL;
}
