/* ringnetd's configuration file (see config.h, docs/ringnetd.conf.md).
 *
 * inih does the INI syntax; this file owns the meaning. inih reads lines
 * through our reader (ini_parse_stream) rather than opening the file
 * itself, for three reasons:
 *   - the handler does not receive line numbers (the library is built
 *     without INI_HANDLER_LINENO), so the reader counts them;
 *   - inih cuts a line longer than its buffer and parses the rest as a new
 *     line; the reader sees the whole line and refuses it instead;
 *   - the reader strips leading blanks, so an indented line is an ordinary
 *     line and never an inih "continuation" of the key above it.
 * The reader also notes the line of the [node] header, for the "missing
 * key" messages.
 *
 * Errors: only the first one is kept (the earliest line, whether inih's
 * syntax error or ours). Each single-valued key remembers the line that
 * set it, which makes duplicates an error with both lines named.
 */
#include "config.h"

#include "../nat/portmap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "core/env.h"

enum node_key {
	K_LISTEN,
	K_GROUP,
	K_KEY,
	K_CERT,
	K_CONTROL,
	K_LOG_LEVEL,
	K_DHT_TTL,
	K_N
};

static const char *const node_key_names[K_N] = {
    "listen", "group", "key", "cert", "control", "log_level", "dht_ttl",
};

typedef struct parse {
	const char *path; /* the configuration file, for messages */
	FILE *f;
	char *buf; /* getline's buffer */
	size_t cap;
	unsigned line;          /* of the line last handed to inih */
	unsigned node_line;     /* of the first [node] header; 0 if none */
	unsigned set_line[K_N]; /* where each [node] key was set; 0 unset */
	char dir[RN_CONFIG_PATH_MAX]; /* the file's directory with its '/',
	                                 or "" */
	rn_config *c;
	int failed;
	unsigned err_line; /* of the first error; 0 when file-wide */
	char *err;
	size_t errlen;
} parse;

static void vfail(parse *p, unsigned line, int with_line, const char *fmt,
                  va_list ap)
{
	if (p->failed)
		return;
	p->failed = 1;
	p->err_line = line;
	if (!p->err || !p->errlen)
		return;
	int n = with_line
	            ? snprintf(p->err, p->errlen, "%s:%u: ", p->path, line)
	            : snprintf(p->err, p->errlen, "%s: ", p->path);
	if (n >= 0 && (size_t)n < p->errlen)
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
}

/* "FILE:LINE: ..." */
static void fail_at(parse *p, unsigned line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(p, line, 1, fmt, ap);
	va_end(ap);
}

/* "FILE: ..." */
static void fail_file(parse *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(p, 0, 0, fmt, ap);
	va_end(ap);
}

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void rn_config_default(rn_config *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->listen_addr, sizeof c->listen_addr, "%s",
	         RN_CONFIG_LISTEN_ADDR_DEFAULT);
	c->listen_port = RN_CONFIG_LISTEN_PORT_DEFAULT;
	snprintf(c->control_path, sizeof c->control_path, "%s",
	         RN_CONFIG_CONTROL_DEFAULT);
	c->log_level = RN_LOG_INFO;
	c->dht_ttl_s = RN_CONFIG_DHT_TTL_DEFAULT;
	snprintf(c->tun_device, sizeof c->tun_device, "%s",
	         RN_CONFIG_TUN_DEVICE_DEFAULT);
	c->tun_mtu = RN_CONFIG_TUN_MTU_DEFAULT;
	c->tun_offload = 1;
	c->tun_busy_poll_us = RN_CONFIG_BUSY_POLL_DEFAULT;
	c->tun_shortcut = RN_CONFIG_SHORTCUT_DEFAULT;
	c->nat_portmap = RN_PORTMAP_NATPMP | RN_PORTMAP_UPNP;
}

int rn_config_log_level_parse(const char *name)
{
	static const char *const names[] = {"error", "warn", "info", "debug",
	                                    "trace"};
	for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
		if (!strcasecmp(name, names[i]))
			return RN_LOG_ERROR + i;
	return -1;
}

/* 1..65535 in decimal digits only. */
static int parse_port(const char *s, uint16_t *port, char *err, size_t errlen)
{
	unsigned long v = 0;
	size_t n = strlen(s);
	if (n == 0 || n > 5 || strspn(s, "0123456789") != n) {
		seterr(err, errlen, "port '%s' is not a number", s);
		return -1;
	}
	v = strtoul(s, NULL, 10);
	if (v == 0 || v > 65535) {
		seterr(err, errlen, "port %lu is out of range (1 to 65535)", v);
		return -1;
	}
	*port = (uint16_t)v;
	return 0;
}

static int copy_host(const char *s, size_t len, char *host, size_t hostlen,
                     char *err, size_t errlen)
{
	if (len == 0) {
		seterr(err, errlen, "empty host before the port");
		return -1;
	}
	if (len >= hostlen) {
		seterr(err, errlen, "host is longer than %zu characters",
		       hostlen - 1);
		return -1;
	}
	memcpy(host, s, len);
	host[len] = '\0';
	return 0;
}

/* "[v6]:port"; s points at the '['. */
static int split_bracketed(const char *s, char *host, size_t hostlen,
                           uint16_t *port, char *err, size_t errlen)
{
	const char *close = strchr(s, ']');
	if (!close) {
		seterr(err, errlen, "missing ']' after the IPv6 address");
		return -1;
	}
	if (close[1] != ':') {
		seterr(err, errlen, "expected ':PORT' after ']'");
		return -1;
	}
	if (copy_host(s + 1, (size_t)(close - s - 1), host, hostlen, err,
	              errlen))
		return -1;
	unsigned char a6[16];
	if (inet_pton(AF_INET6, host, a6) != 1) {
		seterr(err, errlen, "'%s' is not an IPv6 address", host);
		return -1;
	}
	return parse_port(close + 2, port, err, errlen);
}

int rn_hostport_split(const char *s, char *host, size_t hostlen, uint16_t *port,
                      char *err, size_t errlen)
{
	if (s[0] == '[')
		return split_bracketed(s, host, hostlen, port, err, errlen);
	const char *colon = strrchr(s, ':');
	if (!colon) {
		seterr(err, errlen, "missing ':PORT'");
		return -1;
	}
	if (memchr(s, ':', (size_t)(colon - s))) {
		seterr(err, errlen,
		       "an IPv6 address must be in brackets, as in "
		       "[2001:db8::1]:7400");
		return -1;
	}
	size_t len = (size_t)(colon - s);
	if (strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	              "0123456789.-_") < len) {
		seterr(err, errlen, "'%.*s' is not a host name or IPv4 address",
		       (int)len, s);
		return -1;
	}
	if (copy_host(s, len, host, hostlen, err, errlen))
		return -1;
	return parse_port(colon + 1, port, err, errlen);
}

/* listen = PORT | ADDR:PORT | [V6]:PORT, with a numeric address. */
static void set_listen(parse *p, const char *v)
{
	char why[160], host[64];
	uint16_t port;
	int ok;
	if (strspn(v, "0123456789") == strlen(v)) {
		ok = !parse_port(v, &p->c->listen_port, why, sizeof why);
	} else {
		unsigned char a[16];
		ok = !rn_hostport_split(v, host, sizeof host, &port, why,
		                        sizeof why);
		if (ok && inet_pton(AF_INET, host, a) != 1 &&
		    inet_pton(AF_INET6, host, a) != 1) {
			snprintf(why, sizeof why,
			         "'%s' is not a numeric IPv4 or IPv6 address",
			         host);
			ok = 0;
		}
		if (ok) {
			snprintf(p->c->listen_addr, sizeof p->c->listen_addr,
			         "%s", host);
			p->c->listen_port = port;
		}
	}
	if (!ok)
		fail_at(p, p->line,
		        "bad listen '%s': %s; write PORT, ADDR:PORT or "
		        "[V6]:PORT, e.g. listen = 7400",
		        v, why);
}

/* Relative paths are relative to the configuration file's directory. */
static void set_path(parse *p, const char *key, const char *v, char *out)
{
	const char *dir = v[0] == '/' ? "" : p->dir;
	int n = snprintf(out, RN_CONFIG_PATH_MAX, "%s%s", dir, v);
	if (n < 0 || n >= RN_CONFIG_PATH_MAX)
		fail_at(p, p->line,
		        "%s path is longer than %d bytes; use a shorter path",
		        key, RN_CONFIG_PATH_MAX - 1);
}

static void set_log_level(parse *p, const char *v)
{
	int level = rn_config_log_level_parse(v);
	if (level < 0)
		fail_at(p, p->line,
		        "unknown log_level '%s'; use error, warn, info, debug "
		        "or trace",
		        v);
	else
		p->c->log_level = level;
}

/* dht_ttl = SECONDS, decimal, RN_CONFIG_DHT_TTL_MIN..MAX. */
/* A decimal number of at most 9 digits within [lo, hi]: 1 and *out, or 0
 * (the caller reports the error in its own words). */
static int uint_in(const char *v, unsigned long lo, unsigned long hi,
                   unsigned long *out)
{
	size_t n = strlen(v);
	if (n == 0 || n > 9 || strspn(v, "0123456789") != n)
		return 0;
	*out = strtoul(v, NULL, 10);
	return *out >= lo && *out <= hi;
}

static void set_dht_ttl(parse *p, const char *v)
{
	unsigned long s;
	if (!uint_in(v, RN_CONFIG_DHT_TTL_MIN, RN_CONFIG_DHT_TTL_MAX, &s)) {
		fail_at(p, p->line,
		        "bad dht_ttl '%s': give whole seconds from %d to %d, "
		        "e.g. dht_ttl = %d",
		        v, RN_CONFIG_DHT_TTL_MIN, RN_CONFIG_DHT_TTL_MAX,
		        RN_CONFIG_DHT_TTL_DEFAULT);
		return;
	}
	p->c->dht_ttl_s = (uint32_t)s;
}

static int node_key_find(const char *name)
{
	for (int k = 0; k < K_N; k++)
		if (!strcmp(name, node_key_names[k]))
			return k;
	return -1;
}

static void on_node_key(parse *p, const char *name, const char *v)
{
	int k = node_key_find(name);
	if (k < 0) {
		fail_at(p, p->line,
		        "unknown key '%s' in [node]; the keys are listen, "
		        "group, key, cert, control, log_level and dht_ttl",
		        name);
		return;
	}
	if (p->set_line[k]) {
		fail_at(p, p->line,
		        "duplicate key '%s' in [node] (first set on line %u); "
		        "keep only one",
		        name, p->set_line[k]);
		return;
	}
	p->set_line[k] = p->line;
	switch (k) {
	case K_LISTEN:
		set_listen(p, v);
		break;
	case K_GROUP:
		set_path(p, name, v, p->c->group_path);
		break;
	case K_KEY:
		set_path(p, name, v, p->c->key_path);
		break;
	case K_CERT:
		set_path(p, name, v, p->c->cert_path);
		break;
	case K_CONTROL:
		set_path(p, name, v, p->c->control_path);
		break;
	case K_LOG_LEVEL:
		set_log_level(p, v);
		break;
	case K_DHT_TTL:
		set_dht_ttl(p, v);
		break;
	}
}

static void add_peer(parse *p, const char *peer, size_t len)
{
	char text[RN_CONFIG_PEER_MAX], host[RN_CONFIG_PEER_MAX], why[160];
	uint16_t port;
	if (len >= sizeof text) {
		fail_at(p, p->line,
		        "bootstrap peer '%.40s...' is longer than %zu "
		        "characters; use a shorter name",
		        peer, sizeof text - 1);
		return;
	}
	memcpy(text, peer, len);
	text[len] = '\0';
	if (rn_hostport_split(text, host, sizeof host, &port, why,
	                      sizeof why)) {
		fail_at(p, p->line,
		        "bad bootstrap peer '%s': %s; write HOST:PORT, "
		        "A.B.C.D:PORT or [V6]:PORT",
		        text, why);
		return;
	}
	if (p->c->n_bootstrap == RN_CONFIG_BOOTSTRAP_MAX) {
		fail_at(p, p->line,
		        "more than %d bootstrap peers; keep at most %d",
		        RN_CONFIG_BOOTSTRAP_MAX, RN_CONFIG_BOOTSTRAP_MAX);
		return;
	}
	memcpy(p->c->bootstrap[p->c->n_bootstrap++], text, len + 1);
}

/* peer = A [, B ...]: commas and blanks both separate. */
static void on_bootstrap_key(parse *p, const char *name, const char *v)
{
	static const char sep[] = ", \t";
	if (strcmp(name, "peer")) {
		fail_at(p, p->line,
		        "unknown key '%s' in [bootstrap]; the only key is peer",
		        name);
		return;
	}
	for (const char *s = v + strspn(v, sep); *s && !p->failed;
	     s += strspn(s, sep)) {
		size_t len = strcspn(s, sep);
		add_peer(p, s, len);
		s += len;
	}
}

/* device = NAME (an interface name; "%d" lets the kernel number it) or
 * none. */
static void set_tun_device(parse *p, const char *v)
{
	size_t n = strlen(v);
	if (!strcmp(v, "none")) {
		p->c->tun_device[0] = '\0';
		return;
	}
	if (n >= RN_CONFIG_IFNAME_MAX ||
	    strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	              "0123456789_-.%") != n ||
	    !strcmp(v, ".") || !strcmp(v, "..")) {
		fail_at(p, p->line,
		        "bad device '%s': give an interface name of 1 to %d "
		        "letters, digits or _-. (e.g. rn0), or none",
		        v, RN_CONFIG_IFNAME_MAX - 1);
		return;
	}
	memcpy(p->c->tun_device, v, n + 1);
}

static void set_tun_mtu(parse *p, const char *v)
{
	unsigned long m;
	if (!uint_in(v, RN_CONFIG_TUN_MTU_MIN, RN_CONFIG_TUN_MTU_MAX, &m)) {
		fail_at(p, p->line,
		        "bad mtu '%s': give bytes from %d to %d, e.g. mtu = %d",
		        v, RN_CONFIG_TUN_MTU_MIN, RN_CONFIG_TUN_MTU_MAX,
		        RN_CONFIG_TUN_MTU_DEFAULT);
		return;
	}
	p->c->tun_mtu = (uint16_t)m;
}

/* prefix = A.B.C.D/LEN, LEN 8..30, no host bits set. */
static void set_tun_prefix(parse *p, const char *v)
{
	char a[20];
	unsigned b[4], len;
	char extra;
	int ok = strlen(v) < sizeof a &&
	         sscanf(v, "%u.%u.%u.%u/%u%c", &b[0], &b[1], &b[2], &b[3],
	                &len, &extra) == 5 &&
	         b[0] < 256 && b[1] < 256 && b[2] < 256 && b[3] < 256 &&
	         len >= 8 && len <= 30;
	if (ok) {
		uint32_t x = b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
		ok = (x & (0xffffffffu >> len)) == 0;
	}
	if (!ok) {
		fail_at(p, p->line,
		        "bad prefix '%s': give the group's IPv4 network as "
		        "A.B.C.D/LEN with LEN from 8 to 30 and no host bits, "
		        "e.g. prefix = 10.77.0.0/16",
		        v);
		return;
	}
	for (int i = 0; i < 4; i++)
		p->c->tun_prefix[i] = (uint8_t)b[i];
	p->c->tun_prefix_len = (uint8_t)len;
}

static void set_yes_no(parse *p, const char *name, const char *v, int *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "no"))
		*out = !strcmp(v, "yes");
	else
		fail_at(p, p->line, "bad %s '%s': write yes or no", name, v);
}

/* busy_poll, shortcut: a count of UNIT from 0 (never) to max. */
static void set_count(parse *p, const char *key, const char *v,
                      const char *unit, unsigned long max, unsigned long dflt,
                      uint32_t *out)
{
	unsigned long n;
	if (!uint_in(v, 0, max, &n)) {
		fail_at(p, p->line,
		        "bad %s '%s': give %s from 0 (never) to %lu, e.g. %s = %lu",
		        key, v, unit, max, key, dflt);
		return;
	}
	*out = (uint32_t)n;
}

static void on_tun_key(parse *p, const char *name, const char *v)
{
	if (!strcmp(name, "device"))
		set_tun_device(p, v);
	else if (!strcmp(name, "mtu"))
		set_tun_mtu(p, v);
	else if (!strcmp(name, "prefix"))
		set_tun_prefix(p, v);
	else if (!strcmp(name, "multicast"))
		set_yes_no(p, name, v, &p->c->tun_multicast);
	else if (!strcmp(name, "mss_clamp"))
		set_yes_no(p, name, v, &p->c->tun_mss_clamp);
	else if (!strcmp(name, "offload"))
		set_yes_no(p, name, v, &p->c->tun_offload);
	else if (!strcmp(name, "busy_poll"))
		set_count(p, name, v, "microseconds", RN_CONFIG_BUSY_POLL_MAX,
		          RN_CONFIG_BUSY_POLL_DEFAULT, &p->c->tun_busy_poll_us);
	else if (!strcmp(name, "shortcut"))
		set_count(p, name, v, "packets a second", RN_CONFIG_SHORTCUT_MAX,
		          RN_CONFIG_SHORTCUT_DEFAULT, &p->c->tun_shortcut);
	else
		fail_at(p, p->line,
		        "unknown key '%s' in [tun]; the keys are device, mtu, "
		        "prefix, multicast, mss_clamp, offload, busy_poll and "
		        "shortcut",
		        name);
}

static void on_nat_key(parse *p, const char *name, const char *v)
{
	static const struct {
		const char *name;
		unsigned bits;
	} kinds[] = {{"auto", RN_PORTMAP_NATPMP | RN_PORTMAP_UPNP},
	             {"nat-pmp", RN_PORTMAP_NATPMP},
	             {"upnp", RN_PORTMAP_UPNP},
	             {"no", 0}};
	if (strcmp(name, "portmap")) {
		fail_at(p, p->line,
		        "unknown key '%s' in [nat]; the key is portmap", name);
		return;
	}
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (!strcmp(v, kinds[i].name)) {
			p->c->nat_portmap = kinds[i].bits;
			return;
		}
	fail_at(p, p->line,
	        "bad portmap '%s': write auto, nat-pmp, upnp or no", v);
}

static int on_key(void *user, const char *section, const char *name,
                  const char *value)
{
	parse *p = user;
	if (p->failed)
		return 1; /* only the first error is reported */
	if (!value[strspn(value, " \t")])
		fail_at(p, p->line,
		        "empty value for '%s'; give a value or remove the line",
		        name);
	else if (!strcmp(section, "node"))
		on_node_key(p, name, value);
	else if (!strcmp(section, "bootstrap"))
		on_bootstrap_key(p, name, value);
	else if (!strcmp(section, "tun"))
		on_tun_key(p, name, value);
	else if (!strcmp(section, "nat"))
		on_nat_key(p, name, value);
	else if (!section[0])
		fail_at(p, p->line,
		        "key '%s' is outside any section; put it under [node] "
		        "or [bootstrap]",
		        name);
	else
		fail_at(p, p->line,
		        "unknown section [%s]; the sections are [node], "
		        "[bootstrap], [tun] and [nat]",
		        section);
	return !p->failed;
}

static void note_section(parse *p, const char *s)
{
	if (!p->node_line && !strncmp(s, "[node]", 6))
		p->node_line = p->line;
}

/* fgets for inih: one whole line without its leading blanks, or NULL at
 * the end, on a read error or on a line longer than inih's buffer. */
static char *read_line(char *str, int num, void *stream)
{
	parse *p = stream;
	errno = 0;
	ssize_t n = getline(&p->buf, &p->cap, p->f);
	if (n < 0) {
		if (ferror(p->f))
			fail_file(p, "cannot read: %s", strerror(errno));
		return NULL;
	}
	p->line++;
	const char *s = p->buf + strspn(p->buf, " \t");
	size_t len = strcspn(s, "\r\n");
	if (num < 3 || len > (size_t)num - 3) {
		fail_at(p, p->line,
		        "line is longer than %d characters; shorten it (a "
		        "shorter path, or a symbolic link)",
		        num < 3 ? 0 : num - 3);
		return NULL;
	}
	memcpy(str, s, len);
	str[len] = '\0';
	note_section(p, str);
	return str;
}

static void set_dir(parse *p)
{
	const char *slash = strrchr(p->path, '/');
	size_t len = slash ? (size_t)(slash - p->path) + 1 : 0;
	if (len >= sizeof p->dir) {
		fail_file(p, "path is too long");
		return;
	}
	memcpy(p->dir, p->path, len);
	p->dir[len] = '\0';
}

static void check_required(parse *p)
{
	static const int required[] = {K_GROUP, K_KEY, K_CERT};
	static const char *const example[] = {
	    "group = /etc/ringnet/group.pub",
	    "key = /etc/ringnet/node.key",
	    "cert = /etc/ringnet/node.cert",
	};
	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
		if (!p->set_line[required[i]])
			fail_at(p, p->node_line,
			        "missing key %s in [node]; add a line such as "
			        "'%s'",
			        node_key_names[required[i]], example[i]);
}

static void run(parse *p)
{
	int r = ini_parse_stream(read_line, p, on_key, p);
	if (r > 0 && (!p->failed || (unsigned)r < p->err_line)) {
		p->failed = 0;
		fail_at(p, (unsigned)r,
		        "syntax error; expected [section], key = value, or a "
		        "comment starting with ; or #");
	} else if (r < 0 && !p->failed) {
		fail_file(p, "cannot parse (error %d)", r);
	}
	if (!p->failed)
		check_required(p);
}

int rn_config_load(const char *path, rn_config *c, char *err, size_t errlen)
{
	parse p = {.path = path, .c = c, .err = err, .errlen = errlen};
	rn_config_default(c);
	if (err && errlen)
		err[0] = '\0';
	set_dir(&p);
	if (p.failed)
		return -1;
	p.f = fopen(path, "r");
	if (!p.f) {
		fail_file(&p, "cannot open: %s", strerror(errno));
		return -1;
	}
	run(&p);
	free(p.buf);
	fclose(p.f);
	return p.failed ? -1 : 0;
}
