/* The daemon's VPN: the TUN device on the loop and the core's rn_vpn
 * (tunnel/vpn.h) stacked on the node's DHT.
 *
 *     TUN fd --uv_poll readable--> read() up to RN_DAEMON_TUN_BATCH
 *            packets into one buffer with headroom --> rn_vpn_from_tun
 *     rn_vpn --env.tun_write (uvenv.c)--> write() to the same fd
 *
 * The device is made at start-up ([tun] device, tun.h) with this
 * member's address and the group's prefix, and its IPv6 twin /64; it goes
 * away with the process. The fd is non-blocking: a full TUN queue drops
 * (counted in uvenv's tun_write_* counters), as a full socket does.
 *
 * Results of the VPN's DHT lookups come back through the DHT's callback
 * (daemon_dht.c), which hands those with RN_VPN_RID_BIT here.
 */
#include "daemon_impl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tun.h"

#define RN_DAEMON_TUN_BATCH 64 /* reads per readable event */

struct rn_daemon_vpn {
	rn_vpn *vpn;
	rn_vpn_settings s; /* read live by the VPN */
	int fd;
	char ifname[16];
	uv_poll_t poll;
	int poll_open;
	uint8_t *buf; /* headroom, one packet, tailroom */
	uint64_t read_errors, read_oversize, reads;
	uint8_t addr4[4], addr6[16];
	unsigned prefix4_len;
	int has4, has6;
};

static void on_readable(uv_poll_t *h, int status, int events)
{
	rn_daemon *d = h->data;
	rn_daemon_vpn *x = d->vpn;
	uint8_t *pkt = x->buf + RN_VPN_HEADROOM;
	(void)events;
	if (status < 0) {
		x->read_errors++;
		return;
	}
	for (int i = 0; i < RN_DAEMON_TUN_BATCH; i++) {
		ssize_t n = read(x->fd, pkt, RN_IP_MAX + 1);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				x->read_errors++;
			return;
		}
		x->reads++;
		if ((size_t)n > RN_IP_MAX) {
			x->read_oversize++;
			continue;
		}
		rn_vpn_from_tun(x->vpn, rn_uvenv_now(), pkt, (size_t)n);
	}
}

/* The IPv4 prefix: the configured one, else the /16 around the address. */
static void prefix4(const rn_daemon *d, rn_daemon_vpn *x, char *err,
                    size_t errlen, int *bad)
{
	const rn_config *c = &d->cfg;
	*bad = 0;
	if (!c->tun_prefix_len) {
		x->prefix4_len = 16;
		return;
	}
	uint32_t a = (uint32_t)x->addr4[0] << 24 | (uint32_t)x->addr4[1] << 16 |
	             (uint32_t)x->addr4[2] << 8 | x->addr4[3];
	uint32_t p = (uint32_t)c->tun_prefix[0] << 24 |
	             (uint32_t)c->tun_prefix[1] << 16 |
	             (uint32_t)c->tun_prefix[2] << 8 | c->tun_prefix[3];
	uint32_t m = 0xffffffffu << (32 - c->tun_prefix_len);
	if ((a & m) != p) {
		char s[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, x->addr4, s, sizeof s);
		snprintf(err, errlen,
		         "%s: the certificate's address %s is outside [tun] "
		         "prefix %u.%u.%u.%u/%u; fix the prefix or the "
		         "certificate",
		         d->config_path, s, c->tun_prefix[0], c->tun_prefix[1],
		         c->tun_prefix[2], c->tun_prefix[3], c->tun_prefix_len);
		*bad = 1;
		return;
	}
	x->prefix4_len = c->tun_prefix_len;
}

static int device_up(rn_daemon *d, rn_daemon_vpn *x, char *err,
                     size_t errlen)
{
	char why[256];
	x->fd = rn_tun_open(d->cfg.tun_device, x->ifname, err, errlen);
	if (x->fd < 0)
		return -1;
	int rc = rn_tun_configure(x->ifname, d->cfg.tun_mtu,
	                          x->has4 ? x->addr4 : NULL, x->prefix4_len,
	                          x->has6 ? x->addr6 : NULL, 64, why,
	                          sizeof why);
	if (rc < 0) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	if (rc > 0) {
		rn_uvenv_log(&d->env, RN_LOG_WARN, "%s", why);
		x->has6 = 0;
	}
	d->env.tun_fd = x->fd;
	return 0;
}

int rn_daemon_vpn_new(rn_daemon *d, char *err, size_t errlen)
{
	const rn_cert *c = &d->id.ident.parsed;
	if (!d->cfg.tun_device[0])
		return 0; /* device = none */
	rn_daemon_vpn *x = calloc(1, sizeof *x);
	if (!x || !(x->buf = malloc(RN_VPN_HEADROOM + RN_IP_MAX + 1 +
	                            RN_VPN_TAILROOM))) {
		free(x);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	x->fd = -1;
	d->vpn = x;
	uint8_t vip[16];
	size_t vip_len;
	int bad;
	rn_vpn_settings_default(&x->s);
	if (c->vip_len == 4) {
		memcpy(x->addr4, c->vip, 4);
		x->has4 = 1;
		prefix4(d, x, err, errlen, &bad);
		if (bad)
			return -1;
		x->s.prefix4_len = (uint8_t)x->prefix4_len;
	}
	x->s.multicast = (uint8_t)d->cfg.tun_multicast;
	x->vpn = rn_vpn_new(d->node, d->dht ? d->dht->dht : NULL, &x->s,
	                    d->id.group_id, d->id.group_pk, &d->id.ident,
	                    c->vip, c->vip_len);
	if (!x->vpn) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rn_vpn_addrs(x->vpn, vip, &vip_len, x->addr6);
	if (vip_len == 16)
		memcpy(x->addr6, vip, 16);
	x->has6 = 1;
	if (device_up(d, x, err, errlen))
		return -1;
	uv_poll_init(&d->loop, &x->poll, x->fd);
	x->poll.data = d;
	x->poll_open = 1;
	uv_poll_start(&x->poll, UV_READABLE, on_readable);
	char s4[INET_ADDRSTRLEN] = "-", s6[INET6_ADDRSTRLEN] = "-";
	if (x->has4)
		inet_ntop(AF_INET, x->addr4, s4, sizeof s4);
	if (x->has6)
		inet_ntop(AF_INET6, x->addr6, s6, sizeof s6);
	rn_uvenv_log(&d->env, RN_LOG_INFO, "VPN on %s: %s/%u, %s/64, mtu %u",
	             x->ifname, s4, x->prefix4_len, s6, d->cfg.tun_mtu);
	return 0;
}

void rn_daemon_vpn_close(rn_daemon *d)
{
	rn_daemon_vpn *x = d->vpn;
	if (x && x->poll_open) {
		uv_close((uv_handle_t *)&x->poll, NULL);
		x->poll_open = 0;
	}
}

void rn_daemon_vpn_free(rn_daemon *d)
{
	rn_daemon_vpn *x = d->vpn;
	if (!x)
		return;
	rn_vpn_free(x->vpn);
	d->env.tun_fd = -1;
	if (x->fd >= 0)
		close(x->fd); /* the device and its addresses go with it */
	free(x->buf);
	free(x);
	d->vpn = NULL;
}

void rn_daemon_vpn_on_dht(rn_daemon *d, const rn_dht_result *res)
{
	if (d->vpn && d->vpn->vpn)
		rn_vpn_on_dht_result(d->vpn->vpn, rn_uvenv_now(), res);
}

json_t *rn_daemon_vpn_status(const rn_daemon *d)
{
	const rn_daemon_vpn *x = d->vpn;
	if (!x || !x->vpn)
		return json_null();
	const rn_vpn_stats *st = rn_vpn_get_stats(x->vpn);
	char s4[INET_ADDRSTRLEN] = "", s6[INET6_ADDRSTRLEN] = "";
	uint32_t peers, e2e;
	rn_vpn_peer_counts(x->vpn, &peers, &e2e);
	if (x->has4)
		inet_ntop(AF_INET, x->addr4, s4, sizeof s4);
	if (x->has6)
		inet_ntop(AF_INET6, x->addr6, s6, sizeof s6);
	json_t *o = json_pack("{s:s, s:i, s:s?, s:i, s:s?, s:I, s:I, s:I, s:I}",
	                      "device", x->ifname, "mtu", d->cfg.tun_mtu,
	                      "vip", x->has4 ? s4 : NULL, "prefix_len",
	                      x->prefix4_len, "vip6", x->has6 ? s6 : NULL,
	                      "peers", (json_int_t)peers, "e2e_sessions",
	                      (json_int_t)e2e, "tun_read_errors",
	                      (json_int_t)x->read_errors, "tun_oversize",
	                      (json_int_t)x->read_oversize);
	if (!o)
		return NULL;
#define X(f) json_object_set_new(o, #f, json_integer((json_int_t)st->f));
	RN_VPN_STATS_FIELDS(X)
#undef X
	json_object_set_new(o, "tun_write_errors",
	                    json_integer((json_int_t)d->env.stats.tun_write_errors));
	return o;
}
