/* The daemon's VPN: the TUN device on the loop and the core's rn_vpn
 * (tunnel/vpn.h) stacked on the node's DHT.
 *
 *     TUN fd --uv_poll readable--> read() up to RN_DAEMON_TUN_BATCH
 *            packets (with offloads: TCP super-packets of up to 64 KiB,
 *            split by rn_gso_split) --> rn_vpn_from_tun, the node's sends
 *            gathered into UDP GSO batches (rn_uvenv_batch_begin/end)
 *     rn_vpn --env.tun_write (uvenv.c)--> write() to the same fd
 *            (coalesced into super-packets inside a receive batch)
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
	uint8_t *buf; /* room, vnet header, one packet, room */
	uint8_t *scratch; /* RN_GSO_SCRATCH: one segment of a super-packet */
	int offload;  /* the device takes virtio_net_hdr (tunnel/gso.h) */
	uint64_t bad_gso;
	uint64_t read_errors, read_oversize, reads;
	uint8_t addr4[4], addr6[16];
	unsigned prefix4_len;
	int has4, has6;
};

#define TUN_READ_MAX (RN_VNET_HDR_LEN + RN_GSO_MAX)

typedef struct emit_ctx {
	rn_vpn *vpn;
	rn_time now;
} emit_ctx;

static void emit(void *c, uint8_t *pkt, size_t len)
{
	emit_ctx *e = c;
	if (len <= RN_IP_MAX)
		rn_vpn_from_tun(e->vpn, e->now, pkt, len);
}

/* One read: 1 to go on, 0 when the device is drained. */
static int read_one(rn_daemon_vpn *x)
{
	uint8_t *p = x->buf + RN_VPN_HEADROOM;
	ssize_t n = read(x->fd, p, TUN_READ_MAX);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			x->read_errors++;
		return 0;
	}
	x->reads++;
	emit_ctx e = {x->vpn, rn_uvenv_now()};
	if (!x->offload) {
		if ((size_t)n > RN_IP_MAX)
			x->read_oversize++;
		else
			emit(&e, p, (size_t)n);
		return 1;
	}
	rn_vnet_hdr h;
	if ((size_t)n < RN_VNET_HDR_LEN) {
		x->read_oversize++;
		return 1;
	}
	rn_vnet_hdr_read(&h, p);
	if (rn_gso_split(&h, p + RN_VNET_HDR_LEN, (size_t)n - RN_VNET_HDR_LEN,
	                 x->scratch, emit, &e))
		x->bad_gso++;
	return 1;
}

static void on_readable(uv_poll_t *h, int status, int events)
{
	rn_daemon *d = h->data;
	rn_daemon_vpn *x = d->vpn;
	(void)events;
	if (status < 0) {
		x->read_errors++;
		return;
	}
	rn_uvenv_batch_begin(&d->env);
	for (int i = 0; i < RN_DAEMON_TUN_BATCH && read_one(x); i++)
		;
	rn_uvenv_batch_end(&d->env);
	rn_uvenv_busy(&d->env);
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
	x->offload = d->cfg.tun_offload;
	x->fd = rn_tun_open(d->cfg.tun_device, x->ifname, &x->offload, err,
	                    errlen);
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
	d->env.tun_vnet = x->offload;
	d->env.busy_poll_us = d->cfg.tun_busy_poll_us;
	return 0;
}

int rn_daemon_vpn_new(rn_daemon *d, char *err, size_t errlen)
{
	const rn_cert *c = &d->id.ident.parsed;
	if (!d->cfg.tun_device[0])
		return 0; /* device = none */
	rn_daemon_vpn *x = calloc(1, sizeof *x);
	if (!x || !(x->buf = malloc(RN_VPN_HEADROOM + TUN_READ_MAX +
	                            RN_VPN_TAILROOM)) ||
	    !(x->scratch = malloc(RN_GSO_SCRATCH))) {
		if (x)
			free(x->buf);
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
	x->s.mss_clamp = (uint8_t)d->cfg.tun_mss_clamp;
	x->s.shortcut_pkts = (uint16_t)d->cfg.tun_shortcut;
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
	rn_uvenv_log(&d->env, RN_LOG_INFO,
	             "VPN on %s: %s/%u, %s/64, mtu %u, offloads %s", x->ifname,
	             s4, x->prefix4_len, s6, d->cfg.tun_mtu,
	             x->offload          ? "on"
	             : d->cfg.tun_offload ? "off (not offered by this kernel)"
	                                  : "off ([tun] offload = no)");
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
	free(x->scratch);
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
	json_object_set_new(o, "offload", json_boolean(x->offload));
	json_object_set_new(o, "tun_reads", json_integer((json_int_t)x->reads));
	json_object_set_new(o, "tun_bad_gso", json_integer((json_int_t)x->bad_gso));
	json_object_set_new(o, "gro_writes",
	                    json_integer((json_int_t)d->env.gro->runs));
	json_object_set_new(o, "gro_merged",
	                    json_integer((json_int_t)d->env.gro->merged));
	json_object_set_new(o, "udp_sends",
	                    json_integer((json_int_t)d->env.tx->st.sends));
	json_object_set_new(o, "udp_datagrams",
	                    json_integer((json_int_t)d->env.tx->st.datagrams));
	return o;
}
