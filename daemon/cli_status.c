/* `ringnet status|peers|ring|ping` (see cli_status.h).
 *
 * Each command is: parse options -> build the request -> one call on the
 * control socket (ctl_client.h) -> print. Printing goes through a small
 * table helper: rows of fixed-size text cells, column widths computed over
 * all rows, two spaces between columns, numbers right-aligned, no trailing
 * blanks. Cells count UTF-8 characters, not bytes, for width, and control
 * characters in daemon-supplied text (a member's name comes from its
 * certificate) are shown as '?', so a reply cannot drive the terminal.
 */
#include "cli_status.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "daemon/ctl.h"
#include "daemon/ctl_client.h"

enum { EXIT_OK_ = 0, EXIT_FAIL_ = 1, EXIT_USAGE_ = 2 };

const char *rn_cli_socket_path(const char *option)
{
	if (option && *option)
		return option;
	const char *env = getenv("RINGNET_SOCKET");
	if (env && *env)
		return env;
	return RN_CTL_SOCKET_DEFAULT;
}

/* ---- tables --------------------------------------------------------- */

#define TABLE_COLS_MAX 10
#define CELL_MAX       96

typedef struct table_row {
	char cell[TABLE_COLS_MAX][CELL_MAX];
} table_row;

typedef struct table {
	size_t cols;
	const char *align; /* one 'l' or 'r' per column */
	table_row *rows;
	size_t n, cap;
} table;

static void table_init(table *t, const char *align)
{
	memset(t, 0, sizeof *t);
	t->align = align;
	t->cols = strlen(align);
}

static void table_deinit(table *t)
{
	free(t->rows);
}

/* A new empty row, or NULL without memory (the row is then not shown). */
static table_row *table_add(table *t)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		table_row *r = realloc(t->rows, cap * sizeof *r);
		if (!r)
			return NULL;
		t->rows = r;
		t->cap = cap;
	}
	table_row *row = &t->rows[t->n++];
	memset(row, 0, sizeof *row);
	return row;
}

/* Control characters (escape sequences) shown as '?'. */
void rn_cli_sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static void cell_set(table_row *row, size_t col, const char *fmt, ...)
{
	if (!row)
		return;
	char *c = row->cell[col];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c, CELL_MAX, fmt, ap);
	va_end(ap);
	rn_cli_sanitize(c);
}

static size_t text_width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static void table_print(FILE *out, const table *t, const char *indent)
{
	size_t width[TABLE_COLS_MAX] = {0};
	for (size_t r = 0; r < t->n; r++)
		for (size_t c = 0; c < t->cols; c++) {
			size_t w = text_width(t->rows[r].cell[c]);
			if (w > width[c])
				width[c] = w;
		}
	for (size_t r = 0; r < t->n; r++) {
		const table_row *row = &t->rows[r];
		size_t last = t->cols;
		while (last > 0 && !row->cell[last - 1][0])
			last--;
		fputs(indent, out);
		for (size_t c = 0; c < last; c++) {
			size_t pad = width[c] - text_width(row->cell[c]);
			if (c > 0)
				fputs("  ", out);
			if (t->align[c] == 'r')
				fprintf(out, "%*s", (int)pad, "");
			fputs(row->cell[c], out);
			if (t->align[c] != 'r' && c + 1 < last)
				fprintf(out, "%*s", (int)pad, "");
		}
		fputc('\n', out);
	}
}

/* ---- values -------------------------------------------------------------- */

static const char *str_or_dash(const json_t *j)
{
	return json_is_string(j) ? json_string_value(j) : "-";
}

static const char *member_str(const json_t *obj, const char *key)
{
	return str_or_dash(json_object_get(obj, key));
}

/* First RN_CLI_ID_SHORT_LEN characters of an id, "-" if not a string. */
static void short_id(char *out, size_t outlen, const json_t *j)
{
	snprintf(out, outlen, "%.*s", RN_CLI_ID_SHORT_LEN, str_or_dash(j));
}

static int as_uint(const json_t *j, unsigned long long *v)
{
	if (json_is_integer(j) && json_integer_value(j) >= 0) {
		*v = (unsigned long long)json_integer_value(j);
		return 1;
	}
	if (json_is_real(j) && json_real_value(j) >= 0) {
		*v = (unsigned long long)json_real_value(j);
		return 1;
	}
	return 0;
}

static void fmt_bytes(char *out, size_t outlen, unsigned long long n)
{
	static const char *const unit[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
	if (n < 1024) {
		snprintf(out, outlen, "%llu B", n);
		return;
	}
	double v = (double)n / 1024;
	size_t u = 0;
	while (v >= 1024 && u + 1 < sizeof unit / sizeof unit[0]) {
		v /= 1024;
		u++;
	}
	snprintf(out, outlen, "%.1f %s", v, unit[u]);
}

void rn_cli_fmt_duration(char *out, size_t outlen, unsigned long long s)
{
	if (s < 60)
		snprintf(out, outlen, "%llus", s);
	else if (s < 3600)
		snprintf(out, outlen, "%llum%02llus", s / 60, s % 60);
	else if (s < 86400)
		snprintf(out, outlen, "%lluh%02llum", s / 3600, s / 60 % 60);
	else
		snprintf(out, outlen, "%llud%02lluh", s / 86400, s / 3600 % 24);
}

static void fmt_ms(char *out, size_t outlen, const json_t *j)
{
	if (json_is_integer(j))
		snprintf(out, outlen, "%lld ms",
		         (long long)json_integer_value(j));
	else if (json_is_real(j))
		snprintf(out, outlen, "%.1f ms", json_real_value(j));
	else
		snprintf(out, outlen, "-");
}

static void fmt_uint_member(char *out, size_t outlen, const json_t *obj,
                            const char *key,
                            void (*fmt)(char *, size_t, unsigned long long))
{
	unsigned long long v;
	if (as_uint(json_object_get(obj, key), &v))
		fmt(out, outlen, v);
	else
		snprintf(out, outlen, "-");
}

/* Any JSON value on one line: strings bare, the rest compact JSON. */
static void fmt_any(char *out, size_t outlen, const json_t *j)
{
	if (json_is_string(j)) {
		snprintf(out, outlen, "%s", json_string_value(j));
		return;
	}
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	snprintf(out, outlen, "%s", s ? s : "-");
	free(s);
}

/* ---- status ---------------------------------------------------------- */

static void fmt_links(char *out, size_t outlen, const json_t *links)
{
	const char *key;
	json_t *v;
	size_t used = 0;
	out[0] = '\0';
	if (!json_is_object(links)) {
		snprintf(out, outlen, "-");
		return;
	}
	json_object_foreach((json_t *)links, key, v)
	{
		char num[32];
		fmt_any(num, sizeof num, v);
		int k = snprintf(out + used, outlen - used, "%s%s %s",
		                 used ? ", " : "", num, key);
		if (k < 0 || (size_t)k >= outlen - used)
			break;
		used += (size_t)k;
	}
}

static int is_shown_first(const char *key)
{
	static const char *const known[] = {
	    "ok",    "id",     "name",     "vip",    "group",
	    "state", "listen", "uptime_s", "links",  "succ",
	    "pred",  "stats",  "sec",      "driver", "dht", "vpn",
	    "lease", "portmap"};
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (strcmp(key, known[i]) == 0)
			return 1;
	return 0;
}

static void print_stats(FILE *out, const json_t *stats)
{
	if (!json_is_object(stats) || json_object_size(stats) == 0)
		return;
	table t;
	table_init(&t, "lrl");
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)stats, key, v)
	{
		table_row *row = table_add(&t);
		unsigned long long n;
		cell_set(row, 0, "%s", key);
		char val[64];
		fmt_any(val, sizeof val, v);
		cell_set(row, 1, "%s", val);
		size_t kl = strlen(key);
		if (kl > 6 && strcmp(key + kl - 6, "_bytes") == 0 &&
		    as_uint(v, &n) && n >= 1024) {
			fmt_bytes(val, sizeof val, n);
			cell_set(row, 2, "(%s)", val);
		}
	}
	fputs("stats:\n", out);
	table_print(out, &t, "  ");
	table_deinit(&t);
}

/* ---- status: counter blocks ---------------------------------------------- */

/* The sec and driver objects of status are counters that are mostly 0.
 * They print as a block of named groups, each listing only the counters
 * that are not 0, with the group's prefix dropped from the name:
 *
 *     security:
 *       handshakes:  init_sent 3, resp_sent 2, init_ok 2, resp_ok 3
 *       refused:     other_group 4
 *       data:        ok 1234, replay 3
 *
 * A counter the CLI does not know goes to an "other" group under its
 * full name; a group with nothing to show is left out, and a block with
 * nothing at all says so. Lines wrap before COUNTER_LINE_MAX columns. */

#define COUNTER_LINE_MAX 78

typedef struct counter_group {
	const char *label;
	const char *prefix;       /* dropped from the names shown */
	const char *const *names; /* full member names, NULL-terminated */
} counter_group;

static const char *const sec_handshake[] = {
    "hs_init_sent",   "hs_resp_sent", "hs_init_ok",      "hs_resp_ok",
    "hs_cookie_sent", "hs_rekeys",    "hs_expired_sess", NULL};
static const char *const sec_refused[] = {
    "hs_bad_cert", "hs_other_group", "hs_expired",    "hs_bad_sig",
    "hs_wrong_id", "hs_stale",       "hs_unexpected", NULL};
static const char *const sec_data[] = {"data_ok",     "data_unknown",
                                       "data_replay", "data_auth_fail",
                                       "tx_nosess",   NULL};
static const counter_group sec_groups[] = {{"handshakes", "hs_", sec_handshake},
                                           {"refused", "hs_", sec_refused},
                                           {"data", "data_", sec_data},
                                           {NULL, NULL, NULL}};

static const char *const drv_send[] = {"send_eagain", "send_errors", NULL};
static const char *const drv_recv[] = {"recv_errors", "recv_truncated", NULL};
static const char *const drv_peers[] = {"peers_overflow", "peers_evicted",
                                        NULL};
static const counter_group driver_groups[] = {
    {"send", "send_", drv_send},
    {"receive", "recv_", drv_recv},
    {"peer table", "peers_", drv_peers},
    {NULL, NULL, NULL}};

static const char *const dht_store[] = {"records", NULL};
static const char *const dht_req[] = {"req_sent", "req_resent", "req_timeout",
                                      "req_full", NULL};
static const char *const dht_primary[] = {"primary_ops",     "store_msgs_sent",
                                          "store_recs_sent", "handoff_recs",
                                          "fetch_sent",      "fetch_repaired",
                                          "fetch_full",      "bad_record",
                                          "refreshes",       NULL};
static const char *const dht_own[] = {"published", "publish_failed", "renewed",
                                      "renew_failed", NULL};
static const char *const dht_ctl[] = {"ctl_waiting",  "waits",
                                      "waits_busy",   "waits_timeout",
                                      "answers_late", NULL};
static const char *const dht_cache[] = {"cache_entries",
                                        "cache_hits",
                                        "cache_misses",
                                        "cache_inserts",
                                        "cache_expired",
                                        "cache_overflow",
                                        NULL};
static const counter_group dht_groups[] = {{"store", NULL, dht_store},
                                           {"requests", "req_", dht_req},
                                           {"replicas", NULL, dht_primary},
                                           {"own", NULL, dht_own},
                                           {"control", NULL, dht_ctl},
                                           {"cache", "cache_", dht_cache},
                                           {NULL, NULL, NULL}};

/* The VPN's device fields, shown on its own line, not as counters. */
static const char *const vpn_device[] = {"device", "mtu", "vip", "prefix_len",
                                         "vip6", "offload", NULL};
static const char *const vpn_tx[] = {"tun_rx", "tx_direct", "tx_relayed",
                                     "tx_queued", NULL};
static const char *const vpn_rx[] = {"rx_direct", "rx_relayed", NULL};
static const char *const vpn_drop[] = {
    "drop_spoof",      "drop_dst",        "drop_e2e",     "drop_mcast",
    "drop_self",       "drop_bad",        "drop_rx_bad",  "drop_queue_full",
    "drop_peers_full", "drop_unreach",    NULL};
static const char *const vpn_icmp[] = {"icmp_unreach", "icmp_too_big",
                                       "fragmented", "mss_clamped", NULL};
static const char *const vpn_e2e[] = {"peers",        "e2e_sessions",
                                      "hs_init_sent", "hs_resp_sent",
                                      "hs_up",        "hs_refused",
                                      "resolve_sent", "resolve_none", NULL};
static const char *const vpn_io[] = {
    "tun_reads",   "tun_bad_gso",   "tun_read_errors", "tun_write_errors",
    "tun_oversize", "udp_sends",    "udp_datagrams",   "gro_writes",
    "gro_merged",  NULL};
static const counter_group vpn_groups[] = {{"sent", NULL, vpn_tx},
                                           {"received", NULL, vpn_rx},
                                           {"dropped", "drop_", vpn_drop},
                                           {"icmp", NULL, vpn_icmp},
                                           {"end to end", NULL, vpn_e2e},
                                           {"i/o", NULL, vpn_io},
                                           {"device", NULL, vpn_device},
                                           {NULL, NULL, NULL}};

static int name_in(const char *name, const char *const *names)
{
	for (; *names; names++)
		if (strcmp(name, *names) == 0)
			return 1;
	return 0;
}

static int in_any_group(const char *name, const counter_group *g)
{
	for (; g->label; g++)
		if (name_in(name, g->names))
			return 1;
	return 0;
}

/* "name value" for one counter, or "" when it is 0 (not worth a word). */
static void fmt_counter(char *out, size_t outlen, const char *name,
                        const char *prefix, const json_t *v)
{
	unsigned long long n;
	char val[64];
	size_t pl = prefix ? strlen(prefix) : 0;
	if (as_uint(v, &n) && n == 0) {
		out[0] = '\0';
		return;
	}
	if (pl && strncmp(name, prefix, pl) == 0 && name[pl])
		name += pl;
	fmt_any(val, sizeof val, v);
	snprintf(out, outlen, "%s %s", name, val);
	rn_cli_sanitize(out);
}

/* Appends one item to the group's line, wrapping under the values. */
static void line_add(FILE *out, size_t *col, size_t indent, const char *item)
{
	size_t w = text_width(item);
	if (*col > indent && *col + 2 + w > COUNTER_LINE_MAX) {
		fprintf(out, ",\n%*s", (int)indent, "");
		*col = indent;
	} else if (*col > indent) {
		fputs(", ", out);
		*col += 2;
	}
	fputs(item, out);
	*col += w;
}

/* One "  label:  a 1, b 2" line (or none); 1 if it printed. A NULL names
 * list means every member no group of all knows. */
static int print_group(FILE *out, const json_t *obj, const char *label,
                       const char *prefix, const char *const *names,
                       const counter_group *all, size_t label_w)
{
	const char *key;
	json_t *v;
	size_t indent = 2 + label_w + 3, col = 0;
	json_object_foreach((json_t *)obj, key, v)
	{
		char item[CELL_MAX];
		if (names ? !name_in(key, names) : in_any_group(key, all))
			continue;
		fmt_counter(item, sizeof item, key, prefix, v);
		if (!item[0])
			continue;
		if (col == 0) {
			fprintf(out, "  %s:%*s", label,
			        (int)(label_w - strlen(label) + 2), "");
			col = indent;
		}
		line_add(out, &col, indent, item);
	}
	if (col)
		fputc('\n', out);
	return col != 0;
}

static void print_counters(FILE *out, const char *title, const json_t *obj,
                           const counter_group *groups)
{
	if (!json_is_object(obj))
		return;
	size_t label_w = strlen("other");
	for (const counter_group *g = groups; g->label; g++)
		if (strlen(g->label) > label_w)
			label_w = strlen(g->label);
	fprintf(out, "%s:\n", title);
	int shown = 0;
	for (const counter_group *g = groups; g->label; g++)
		shown |= print_group(out, obj, g->label, g->prefix, g->names,
		                     groups, label_w);
	shown |= print_group(out, obj, "other", NULL, NULL, groups, label_w);
	if (!shown)
		fputs("  (all counters 0)\n", out);
}

/* The VPN's counters, without the device fields (on the vpn: line). */
static void print_vpn_counters(FILE *out, const json_t *vpn)
{
	json_t *c = json_deep_copy(vpn);
	if (!c)
		return;
	for (const char *const *k = vpn_device; *k; k++)
		json_object_del(c, *k);
	print_counters(out, "vpn", c, vpn_groups);
	json_decref(c);
}

void rn_cli_print_status(FILE *out, const json_t *reply)
{
	table t;
	table_init(&t, "ll");
	static const char *const plain[] = {"id",    "name",  "vip",
	                                    "group", "state", "listen"};
	for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
		table_row *row = table_add(&t);
		cell_set(row, 0, "%s:", plain[i]);
		cell_set(row, 1, "%s", member_str(reply, plain[i]));
	}
	char buf[CELL_MAX];
	table_row *row = table_add(&t);
	fmt_uint_member(buf, sizeof buf, reply, "uptime_s",
	                rn_cli_fmt_duration);
	cell_set(row, 0, "uptime:");
	cell_set(row, 1, "%s", buf);
	row = table_add(&t);
	fmt_links(buf, sizeof buf, json_object_get(reply, "links"));
	cell_set(row, 0, "links:");
	cell_set(row, 1, "%s", buf);
	static const char *const nbrs[] = {"succ", "pred"};
	for (size_t i = 0; i < 2; i++) {
		const json_t *v = json_object_get(reply, nbrs[i]);
		row = table_add(&t);
		cell_set(row, 0, "%s:", nbrs[i]);
		cell_set(row, 1, "%s",
		         json_is_string(v) ? json_string_value(v) : "(none)");
	}
	const json_t *vpn = json_object_get(reply, "vpn");
	row = table_add(&t);
	cell_set(row, 0, "vpn:");
	if (json_is_object(vpn)) {
		char plen[32], mtu[32];
		fmt_any(plen, sizeof plen, json_object_get(vpn, "prefix_len"));
		fmt_any(mtu, sizeof mtu, json_object_get(vpn, "mtu"));
		cell_set(row, 1, "%s %s/%s %s/64, mtu %s, offloads %s",
		         member_str(vpn, "device"), member_str(vpn, "vip"), plen,
		         member_str(vpn, "vip6"), mtu,
		         json_is_true(json_object_get(vpn, "offload")) ? "on"
		                                                        : "off");
	} else
		cell_set(row, 1, "(none: [tun] device = none)");
	const json_t *lease = json_object_get(reply, "lease");
	if (json_is_object(lease)) {
		const json_t *r = json_object_get(lease, "range");
		row = table_add(&t);
		cell_set(row, 0, "lease:");
		cell_set(row, 1, "%s%s%s%s", member_str(lease, "state"),
		         json_is_string(r) ? " (claimed in " : " (fixed address",
		         json_is_string(r) ? json_string_value(r) : "", ")");
	}
	const json_t *pm = json_object_get(reply, "portmap");
	if (pm) {
		row = table_add(&t);
		cell_set(row, 0, "nat:");
		if (json_is_string(json_object_get(pm, "external")))
			cell_set(row, 1, "%s maps %s", member_str(pm, "method"),
			         member_str(pm, "external"));
		else if (json_is_object(pm))
			cell_set(row, 1, "no port mapping (%s)",
			         member_str(pm, "state"));
		else
			cell_set(row, 1, "no port mapping ([nat] portmap = no, "
			                 "or a loopback socket)");
	}
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)reply, key, v)
	{
		if (is_shown_first(key))
			continue;
		row = table_add(&t);
		fmt_any(buf, sizeof buf, v);
		cell_set(row, 0, "%s:", key);
		cell_set(row, 1, "%s", buf);
	}
	table_print(out, &t, "");
	table_deinit(&t);
	print_stats(out, json_object_get(reply, "stats"));
	print_counters(out, "security", json_object_get(reply, "sec"),
	               sec_groups);
	print_counters(out, "driver", json_object_get(reply, "driver"),
	               driver_groups);
	if (json_object_get(reply, "dht"))
		print_counters(out, "dht", json_object_get(reply, "dht"),
		               dht_groups);
	if (json_is_object(vpn))
		print_vpn_counters(out, vpn);
}

/* ---- peers ------------------------------------------------------------- */

void rn_cli_print_peers(FILE *out, const json_t *reply)
{
	const json_t *peers = json_object_get(reply, "peers");
	if (!json_is_array(peers) || json_array_size(peers) == 0) {
		fputs("no peers\n", out);
		return;
	}
	table t;
	table_init(&t, "lllllrrrrl");
	table_row *row = table_add(&t);
	static const char *const head[] = {"ID",  "KIND", "STATE", "ENDPOINT",
	                                   "VIP", "RTT",  "TX",    "RX",
	                                   "AGE", "NAME"};
	for (size_t c = 0; c < TABLE_COLS_MAX; c++)
		cell_set(row, c, "%s", head[c]);
	size_t i;
	json_t *p;
	json_array_foreach((json_t *)peers, i, p)
	{
		char buf[CELL_MAX];
		row = table_add(&t);
		short_id(buf, sizeof buf, json_object_get(p, "id"));
		cell_set(row, 0, "%s", buf);
		cell_set(row, 1, "%s", member_str(p, "kind"));
		cell_set(row, 2, "%s", member_str(p, "state"));
		cell_set(row, 3, "%s", member_str(p, "endpoint"));
		cell_set(row, 4, "%s", member_str(p, "vip"));
		fmt_ms(buf, sizeof buf, json_object_get(p, "rtt_ms"));
		cell_set(row, 5, "%s", buf);
		fmt_uint_member(buf, sizeof buf, p, "tx_bytes", fmt_bytes);
		cell_set(row, 6, "%s", buf);
		fmt_uint_member(buf, sizeof buf, p, "rx_bytes", fmt_bytes);
		cell_set(row, 7, "%s", buf);
		fmt_uint_member(buf, sizeof buf, p, "age_s",
		                rn_cli_fmt_duration);
		cell_set(row, 8, "%s", buf);
		cell_set(row, 9, "%s", member_str(p, "name"));
	}
	table_print(out, &t, "");
	table_deinit(&t);
}

/* ---- ring ---------------------------------------------------------------- */

static void ring_row(table *t, const char *mark, const char *pos,
                     const json_t *n)
{
	char id[CELL_MAX], rtt[CELL_MAX];
	table_row *row = table_add(t);
	short_id(id, sizeof id, json_object_get(n, "id"));
	fmt_ms(rtt, sizeof rtt, json_object_get(n, "rtt_ms"));
	cell_set(row, 0, "%s", mark);
	cell_set(row, 1, "%s", pos);
	cell_set(row, 2, "%s", id);
	cell_set(row, 3, "%s", member_str(n, "endpoint"));
	cell_set(row, 4, "%s", rtt);
}

void rn_cli_print_ring(FILE *out, const json_t *reply)
{
	const json_t *pred = json_object_get(reply, "pred");
	const json_t *succ = json_object_get(reply, "succ");
	size_t np = json_is_array(pred) ? json_array_size(pred) : 0;
	size_t ns = json_is_array(succ) ? json_array_size(succ) : 0;
	char self[CELL_MAX], pos[32];
	short_id(self, sizeof self, json_object_get(reply, "self"));
	fprintf(out, "ring around %s, clockwise (ids grow downwards):\n", self);
	table t;
	table_init(&t, "llllr");
	/* Ring order: the farthest predecessor first (the list is nearest
	 * first), then this node, then the successors nearest first. */
	for (size_t i = np; i-- > 0;) {
		snprintf(pos, sizeof pos, "pred-%zu", i + 1);
		ring_row(&t, "o", pos, json_array_get(pred, i));
	}
	table_row *row = table_add(&t);
	cell_set(row, 0, "@");
	cell_set(row, 1, "self");
	cell_set(row, 2, "%s", self);
	cell_set(row, 3, "(this node)");
	for (size_t i = 0; i < ns; i++) {
		snprintf(pos, sizeof pos, "succ+%zu", i + 1);
		ring_row(&t, "o", pos, json_array_get(succ, i));
	}
	fputs("  :\n", out);
	table_print(out, &t, "  ");
	fputs("  :\n", out);
	table_deinit(&t);
}

/* ---- ping ------------------------------------------------------------- */

static void print_reply(FILE *out, const json_t *r)
{
	const json_t *hops = json_object_get(r, "hops");
	size_t nh = json_is_array(hops) ? json_array_size(hops) : 0;
	char rtt[CELL_MAX];
	fmt_ms(rtt, sizeof rtt, json_object_get(r, "rtt_ms"));
	json_t *seq = json_object_get(r, "seq");
	fprintf(out, "seq=%lld  rtt=%s  hops=%zu\n",
	        json_is_integer(seq) ? (long long)json_integer_value(seq) : 0LL,
	        rtt, nh);
	table t;
	table_init(&t, "rlr");
	for (size_t i = 0; i < nh; i++) {
		const json_t *h = json_array_get(hops, i);
		char id[CELL_MAX];
		table_row *row = table_add(&t);
		short_id(id, sizeof id, json_object_get(h, "id"));
		fmt_ms(rtt, sizeof rtt, json_object_get(h, "rtt_ms"));
		cell_set(row, 0, "%zu", i + 1);
		cell_set(row, 1, "%s", id);
		cell_set(row, 2, "%s", rtt);
	}
	table_print(out, &t, "    ");
	table_deinit(&t);
}

static int reply_rtt(const json_t *r, double *ms)
{
	const json_t *j = json_object_get(r, "rtt_ms");
	if (!json_is_number(j))
		return 0;
	*ms = json_number_value(j);
	return 1;
}

void rn_cli_print_ping(FILE *out, const json_t *reply)
{
	const json_t *replies = json_object_get(reply, "replies");
	size_t got = json_is_array(replies) ? json_array_size(replies) : 0;
	unsigned long long lost = 0;
	as_uint(json_object_get(reply, "lost"), &lost);
	unsigned long long sent = got + lost;
	const char *target = member_str(reply, "target");
	char id[CELL_MAX];
	snprintf(id, sizeof id, "%s", target);
	rn_cli_sanitize(id);
	fprintf(out, "PING %s through the overlay\n", id);
	double min = 0, max = 0, sum = 0;
	size_t timed = 0;
	for (size_t i = 0; i < got; i++) {
		const json_t *r = json_array_get(replies, i);
		double ms;
		print_reply(out, r);
		if (reply_rtt(r, &ms)) {
			min = timed == 0 || ms < min ? ms : min;
			max = timed == 0 || ms > max ? ms : max;
			sum += ms;
			timed++;
		}
	}
	fprintf(out, "--- %.*s ping: %llu sent, %zu received, %.0f%% lost\n",
	        RN_CLI_ID_SHORT_LEN, id, sent, got,
	        sent ? 100.0 * (double)lost / (double)sent : 0.0);
	if (timed)
		fprintf(out, "rtt min/avg/max = %.1f/%.1f/%.1f ms\n", min,
		        sum / (double)timed, max);
}

/* ---- commands ---------------------------------------------------------- */

typedef struct cmd_spec {
	const char *name;
	const char *help; /* after the usage line */
	const char *usage;
	int is_ping;
	void (*print)(FILE *out, const json_t *reply);
} cmd_spec;

typedef struct cli_opts {
	const char *socket;
	int json;
	long count;
	const char *target;
} cli_opts;

#define COMMON_HELP                                                            \
	"  -s, --socket PATH  the daemon's control socket (default: "          \
	"$RINGNET_SOCKET,\n"                                                   \
	"                     else " RN_CTL_SOCKET_DEFAULT ")\n"               \
	"  -j, --json         print the daemon's reply as JSON\n"              \
	"  -h, --help         show this help\n"

static const cmd_spec cmd_status = {
    .name = "status",
    .usage = "ringnet status [-s PATH] [--json]",
    .help = "Show this node: id, virtual IP, name, group, state, links,\n"
            "ring neighbours and traffic counters.\n",
    .print = rn_cli_print_status,
};

static const cmd_spec cmd_peers = {
    .name = "peers",
    .usage = "ringnet peers [-s PATH] [--json]",
    .help = "List this node's links: kind (near, far, leaf, ...), state,\n"
            "endpoint, virtual IP, round-trip time, bytes sent and\n"
            "received, age and the peer's name.\n",
    .print = rn_cli_print_peers,
};

static const cmd_spec cmd_ring = {
    .name = "ring",
    .usage = "ringnet ring [-s PATH] [--json]",
    .help = "Draw this node's neighbourhood on the ring, in ring order:\n"
            "the predecessors, this node, the successors.\n",
    .print = rn_cli_print_ring,
};

static const cmd_spec cmd_ping = {
    .name = "ping",
    .usage = "ringnet ping [-s PATH] [--json] [-c COUNT] TARGET",
    .help = "Send COUNT probes through the overlay to TARGET, a 40-hex\n"
            "ring id or a member's virtual IPv4/IPv6 address, and show\n"
            "each reply with the hops it took. Exits 1 if no probe is\n"
            "answered.\n\n"
            "  -c, --count N      probes to send, 1 to 100 (default 4)\n",
    .is_ping = 1,
    .print = rn_cli_print_ping,
};

static void print_help(const cmd_spec *spec)
{
	printf("usage: %s\n\n%s\n%s", spec->usage, spec->help, COMMON_HELP);
}

static int usage_error(const cmd_spec *spec, const char *what, const char *arg)
{
	fprintf(stderr,
	        "ringnet %s: %s%s%s\nusage: %s\nTry 'ringnet %s --help'.\n",
	        spec->name, what, arg ? ": " : "", arg ? arg : "", spec->usage,
	        spec->name);
	return EXIT_USAGE_;
}

static int is_target(const char *s)
{
	unsigned char addr[16];
	size_t n = strlen(s);
	if (n == 40) {
		size_t i = 0;
		while (i < n && isxdigit((unsigned char)s[i]))
			i++;
		if (i == n)
			return 1;
	}
	return inet_pton(AF_INET, s, addr) == 1 ||
	       inet_pton(AF_INET6, s, addr) == 1;
}

enum { PARSE_RUN, PARSE_HELP };

/* PARSE_RUN, PARSE_HELP, or EXIT_USAGE_ after printing the complaint. */
static int parse_args(const cmd_spec *spec, int argc, char **argv, cli_opts *o)
{
	static const struct option longopts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {"count", required_argument, NULL, 'c'},
	    {NULL, 0, NULL, 0}};
	memset(o, 0, sizeof *o);
	o->count = RN_CLI_PING_COUNT_DEFAULT;
	optind = 0; /* glibc: start afresh (each command parses once) */
	opterr = 0;
	const char *shortopts = spec->is_ping ? "s:jhc:" : "s:jh";
	int opt;
	while ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) !=
	       -1) {
		char *end;
		switch (opt) {
		case 's':
			o->socket = optarg;
			break;
		case 'j':
			o->json = 1;
			break;
		case 'h':
			return PARSE_HELP;
		case 'c':
			if (!spec->is_ping)
				return usage_error(spec, "unknown option",
				                   argv[optind - 1]);
			o->count = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || o->count < 1 ||
			    o->count > RN_CLI_PING_COUNT_MAX)
				return usage_error(spec,
				                   "count must be 1 to "
				                   "100",
				                   optarg);
			break;
		default:
			return usage_error(spec, "bad option or missing value",
			                   argv[optind - 1]);
		}
	}
	int want = spec->is_ping ? 1 : 0;
	if (argc - optind > want)
		return usage_error(spec, "unexpected argument",
		                   argv[optind + want]);
	if (argc - optind < want)
		return usage_error(spec, "missing TARGET", NULL);
	if (spec->is_ping) {
		o->target = argv[optind];
		if (!is_target(o->target))
			return usage_error(spec,
			                   "TARGET is neither a 40-hex id "
			                   "nor an IP address",
			                   o->target);
	}
	return PARSE_RUN;
}

int rn_cli_call(const char *path, const json_t *req, int timeout_ms,
                json_t **reply)
{
	char why[256];
	rn_ctl_conn *c;
	*reply = NULL;
	if (rn_ctl_conn_open(&c, path, timeout_ms, why, sizeof why) < 0) {
		fprintf(stderr,
		        "ringnet: cannot reach ringnetd at %s: %s (is it "
		        "running? see --socket)\n",
		        path, why);
		return EXIT_FAIL_;
	}
	int rc = rn_ctl_conn_call(c, req, reply, timeout_ms, why, sizeof why);
	rn_ctl_conn_free(c);
	if (rc < 0) {
		fprintf(stderr, "ringnet: ringnetd at %s: %s\n", path, why);
		return EXIT_FAIL_;
	}
	return EXIT_OK_;
}

/* One request/reply with the daemon; an exit code. *reply is set on 0. */
static int ask(const char *path, json_t *req, int timeout_ms, json_t **reply)
{
	int rc = rn_cli_call(path, req, timeout_ms, reply);
	if (rc != EXIT_OK_)
		return rc;
	if (!json_is_true(json_object_get(*reply, "ok"))) {
		const json_t *e = json_object_get(*reply, "error");
		fprintf(stderr, "ringnet: ringnetd: %s\n",
		        json_is_string(e) ? json_string_value(e)
		                          : "request failed");
		json_decref(*reply);
		*reply = NULL;
		return EXIT_FAIL_;
	}
	return EXIT_OK_;
}

static json_t *make_request(const cmd_spec *spec, const cli_opts *o)
{
	if (!spec->is_ping)
		return json_pack("{s:s}", "cmd", spec->name);
	char target[64];
	snprintf(target, sizeof target, "%s", o->target);
	if (strlen(target) == 40)
		for (char *c = target; *c; c++)
			*c = (char)tolower((unsigned char)*c);
	return json_pack("{s:s, s:s, s:I}", "cmd", "ping", "target", target,
	                 "count", (json_int_t)o->count);
}

static int run(const cmd_spec *spec, int argc, char **argv)
{
	cli_opts o;
	int p = parse_args(spec, argc, argv, &o);
	if (p == PARSE_HELP) {
		print_help(spec);
		return EXIT_OK_;
	}
	if (p != PARSE_RUN)
		return p;
	json_t *req = make_request(spec, &o);
	if (!req) {
		fprintf(stderr, "ringnet: out of memory\n");
		return EXIT_FAIL_;
	}
	int timeout_ms = RN_CLI_TIMEOUT_MS;
	if (spec->is_ping)
		timeout_ms += (int)o.count * RN_CLI_PING_PROBE_TIMEOUT_MS;
	json_t *reply;
	int rc = ask(rn_cli_socket_path(o.socket), req, timeout_ms, &reply);
	json_decref(req);
	if (rc != EXIT_OK_)
		return rc;
	if (o.json) {
		char *s = json_dumps(reply, JSON_INDENT(2));
		if (s)
			printf("%s\n", s);
		free(s);
	} else {
		spec->print(stdout, reply);
	}
	if (spec->is_ping) {
		const json_t *r = json_object_get(reply, "replies");
		if (!json_is_array(r) || json_array_size(r) == 0)
			rc = EXIT_FAIL_;
	}
	json_decref(reply);
	fflush(stdout);
	return rc;
}

int rn_cli_status(int argc, char **argv)
{
	return run(&cmd_status, argc, argv);
}

int rn_cli_peers(int argc, char **argv)
{
	return run(&cmd_peers, argc, argv);
}

int rn_cli_ring(int argc, char **argv)
{
	return run(&cmd_ring, argc, argv);
}

int rn_cli_ping(int argc, char **argv)
{
	return run(&cmd_ping, argc, argv);
}
