/* The libuv environment of one node (see uvenv.h).
 *
 * Everything here runs on the loop's thread. The node is called from three
 * places only: on_recv (a datagram), on_timer (the deadline) and, outside
 * this file, the daemon's commands; every call passes rn_uvenv_now().
 * The core may call back into env_* from inside any of them, including
 * env_set_deadline from inside on_timer, which uv_timer_start allows.
 *
 * Fast path (docs/vpn.md section 5): the socket is read with recvmsg on
 * a uv_poll of its own (a dup of libuv's fd, which libuv then only sends
 * and binds with) so that UDP GRO can hand over up to 64 KiB of
 * same-sized datagrams at once; they are split again here, by the size
 * the kernel reports. Each readable event reads up to RN_UVENV_RX_BATCH
 * times, and while it runs, what the node sends is gathered into GSO
 * batches (udp_batch.h) and what it writes to the TUN is coalesced into
 * TCP super-packets (tunnel/gso.h). The TUN side does the same in
 * daemon_vpn.c through rn_uvenv_batch_begin/end.
 *
 * Busy polling: a sleeping loop costs a wake-up (tens of microseconds on a
 * virtual machine) for each packet that arrives. After handling traffic,
 * an active uv_idle handle makes libuv poll with a zero timeout until
 * busy_poll_us have passed with nothing to do: the answer to what was
 * just sent (a ping's reply, a TCP ACK) is then read without a wake-up.
 * Idle daemons never spin.
 */
#include "uvenv.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/uio.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "../core/err.h"

/* ---- endpoints ----------------------------------------------------------- */

int rn_uvenv_ep_from_sa(rn_ep *ep, const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		rn_ep_from_ipv4(ep, ntohl(s4->sin_addr.s_addr),
		                ntohs(s4->sin_port));
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		/* a v4-mapped address is already the rn_ep form of IPv4 */
		memcpy(ep->addr, &s6->sin6_addr, 16);
		ep->port = ntohs(s6->sin6_port);
		return 0;
	}
	return -1;
}

int rn_uvenv_ep_to_sa(const rn_ep *ep, int v6, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	if (v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, ep->addr, 16);
		s6->sin6_port = htons(ep->port);
		return 0;
	}
	if (!rn_ep_is_ipv4(ep))
		return -1;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	s4->sin_family = AF_INET;
	s4->sin_addr.s_addr = htonl(rn_ep_ipv4(ep));
	s4->sin_port = htons(ep->port);
	return 0;
}

rn_time rn_uvenv_now(void)
{
	return uv_hrtime() / 1000u;
}

/* ---- per-peer byte counters ---------------------------------------------- */

static uint64_t ep_key(const rn_ep *ep)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
	for (int i = 0; i < 16; i++)
		h = (h ^ ep->addr[i]) * 0x100000001b3ull;
	h = (h ^ (ep->port & 0xffu)) * 0x100000001b3ull;
	h = (h ^ (ep->port >> 8)) * 0x100000001b3ull;
	return h ? h : 1;
}

const rn_uvenv_peer *rn_uvenv_peer_find(const rn_uvenv *u, const rn_ep *ep)
{
	uint64_t v;
	if (rn_map_get(&u->peer_index, ep_key(ep), &v))
		return NULL;
	const rn_uvenv_peer *p = &u->peers[v - 1];
	return rn_ep_eq(&p->ep, ep) ? p : NULL;
}

/* The entry idle longest, if it has been idle long enough to reuse. */
static int peer_victim(const rn_uvenv *u, rn_time now, uint32_t *idx)
{
	uint32_t best = 0;
	for (uint32_t i = 1; i < u->n_peers; i++)
		if (u->peers[i].last < u->peers[best].last)
			best = i;
	if (now - u->peers[best].last <
	    (rn_time)RN_DAEMON_PEER_IDLE_S * 1000000u)
		return -1;
	*idx = best;
	return 0;
}

static rn_uvenv_peer *peer_get(rn_uvenv *u, const rn_ep *ep, rn_time now)
{
	/* a bulk flow sends to (and hears from) one peer packet after packet */
	if (u->peer_last < u->n_peers && rn_ep_eq(&u->peers[u->peer_last].ep, ep))
		return &u->peers[u->peer_last];
	uint64_t key = ep_key(ep), v;
	uint32_t idx;
	if (rn_map_get(&u->peer_index, key, &v) == 0) {
		rn_uvenv_peer *p = &u->peers[v - 1];
		if (!rn_ep_eq(&p->ep, ep))
			return NULL; /* 2^-64: not counted */
		u->peer_last = (uint32_t)(v - 1);
		return p;
	}
	if (u->n_peers < RN_DAEMON_PEERS_MAX) {
		idx = u->n_peers;
	} else if (peer_victim(u, now, &idx) == 0) {
		rn_map_del(&u->peer_index, ep_key(&u->peers[idx].ep));
		u->stats.peers_evicted++;
	} else {
		u->stats.peers_overflow++;
		return NULL;
	}
	if (rn_map_put(&u->peer_index, key, (uint64_t)idx + 1)) {
		u->stats.peers_overflow++;
		return NULL;
	}
	if (idx == u->n_peers)
		u->n_peers++;
	rn_uvenv_peer *p = &u->peers[idx];
	memset(p, 0, sizeof *p);
	p->ep = *ep;
	return p;
}

/* ---- logging ------------------------------------------------------------- */

static const char *level_tag(int level)
{
	switch (level) {
	case RN_LOG_ERROR:
		return "ERROR";
	case RN_LOG_WARN:
		return "WARN";
	case RN_LOG_INFO:
		return "INFO";
	case RN_LOG_DEBUG:
		return "DEBUG";
	default:
		return "TRACE";
	}
}

/* One line on stderr. Under systemd (JOURNAL_STREAM set: stderr is the
 * journal) "<priority>LEVEL: message", so that journald files each line at
 * its syslog priority and adds the time itself; anywhere else (a terminal,
 * a file, a pipe) "2026-11-26T02:54:51.123Z LEVEL: message", in UTC. */
static void print_line(const rn_uvenv *u, int level, const char *msg)
{
	static const int syslog_prio[] = {3, 4, 6, 7, 7}; /* err .. trace */
	if (level > u->log_level)
		return;
	if (u->log_journal) {
		int l = level < 0 ? 0 : level > 4 ? 4 : level;
		fprintf(stderr, "<%d>%s: %s\n", syslog_prio[l], level_tag(level),
		        msg);
		return;
	}
	char ts[40];
	struct timespec t;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &t);
	gmtime_r(&t.tv_sec, &tm);
	size_t n = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + n, sizeof ts - n, ".%03ldZ", (long)(t.tv_nsec / 1000000));
	fprintf(stderr, "%s %s: %s\n", ts, level_tag(level), msg);
}

void rn_uvenv_log(rn_uvenv *u, int level, const char *fmt, ...)
{
	char buf[512];
	if (level > u->log_level)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	print_line(u, level, buf);
}

/* ---- the environment ----------------------------------------------------- */

static void env_send(void *ctx, const rn_ep *to, const uint8_t *buf, size_t len)
{
	rn_uvenv *u = ctx;
	struct sockaddr_storage ss;
	if (!u->open)
		return;
	rn_time now = rn_uvenv_now();
	if (rn_uvenv_ep_to_sa(to, u->v6, &ss)) {
		u->stats.send_errors++;
		return;
	}
	socklen_t sl = ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                         : sizeof(struct sockaddr_in);
	uint64_t eagain = u->tx->st.eagain;
	if (rn_udp_batch_add(u->tx, (const struct sockaddr *)&ss, sl, buf,
	                     len)) {
		if (u->tx->st.eagain == eagain) {
			char s[RN_EP_STR_MAX];
			rn_log_limited(&u->lg, now, RN_LOG_DEBUG,
			               "send to %s: %s",
			               rn_ep_to_str(to, s, sizeof s),
			               strerror(u->tx->last_errno));
		}
	}
	u->stats.send_eagain = u->tx->st.eagain;
	u->stats.send_errors = u->tx->st.errors;
	rn_uvenv_peer *p = peer_get(u, to, now);
	if (p) {
		p->tx_bytes += len;
		p->tx_pkts++;
		p->last = now;
	}
}

static void on_timer(uv_timer_t *t)
{
	rn_uvenv *u = t->data;
	if (u->node)
		rn_node_on_timeout(u->node, rn_uvenv_now());
}

static void env_set_deadline(void *ctx, rn_time t)
{
	rn_uvenv *u = ctx;
	if (!u->open)
		return;
	if (t == RN_TIME_NEVER) {
		uv_timer_stop(&u->timer);
		return;
	}
	/* libuv counts from its cached loop time: refresh it, and round up
	 * so that the node is never woken before its deadline */
	uv_update_time(u->loop);
	rn_time now = rn_uvenv_now();
	uint64_t ms = t > now ? (t - now + 999u) / 1000u : 0;
	uv_timer_start(&u->timer, on_timer, ms, 0);
}

static void env_random(void *ctx, uint8_t *buf, size_t len)
{
	(void)ctx;
	randombytes_buf(buf, len);
}

static void env_log(void *ctx, int level, const char *msg)
{
	print_line(ctx, level, msg);
}

static void env_event(void *ctx, const rn_event *ev)
{
	rn_uvenv *u = ctx;
	char hex[RN_ID_HEX_LEN + 1];
	switch (ev->type) {
	case RN_EV_JOINED:
		rn_uvenv_log(u, RN_LOG_INFO, "joined the ring");
		break;
	case RN_EV_LINK_UP:
	case RN_EV_LINK_DOWN:
		if (u->log_level >= RN_LOG_DEBUG) {
			rn_id_to_hex(&ev->peer, hex);
			rn_uvenv_log(u, RN_LOG_DEBUG, "link %s %.12s",
			             ev->type == RN_EV_LINK_UP ? "up" : "down",
			             hex);
		}
		break;
	default:
		break;
	}
	if (u->on_event)
		u->on_event(u->ud, ev);
}

static void tun_write_raw(void *ctx, const uint8_t *buf, size_t len)
{
	rn_uvenv *u = ctx;
	if (write(u->tun_fd, buf, len) != (ssize_t)len)
		u->stats.tun_write_errors++;
}

/* With a vnet header (offloads on) every write carries one: coalesced
 * inside a receive batch, else a plain header in front. */
static void env_tun_write(void *ctx, const uint8_t *pkt, size_t len)
{
	rn_uvenv *u = ctx;
	if (u->tun_fd < 0) {
		u->stats.tun_write_errors++;
		return;
	}
	if (!u->tun_vnet) {
		tun_write_raw(u, pkt, len);
		return;
	}
	if (u->rx_batch) {
		rn_gro_add(u->gro, pkt, len, tun_write_raw, u);
		return;
	}
	uint8_t h[RN_VNET_HDR_LEN] = {0};
	struct iovec iov[2] = {{h, sizeof h}, {(void *)(uintptr_t)pkt, len}};
	if (writev(u->tun_fd, iov, 2) != (ssize_t)(sizeof h + len))
		u->stats.tun_write_errors++;
}

static void on_spin(uv_idle_t *h)
{
	rn_uvenv *u = h->data;
	if (rn_uvenv_now() >= u->spin_until) {
		uv_idle_stop(h);
		u->spinning = 0;
	}
}

void rn_uvenv_busy(rn_uvenv *u)
{
	if (!u->busy_poll_us || !u->spin_open)
		return;
	u->spin_until = rn_uvenv_now() + u->busy_poll_us;
	if (!u->spinning) {
		u->spinning = 1;
		uv_idle_start(&u->spin, on_spin);
	}
}

void rn_uvenv_batch_begin(rn_uvenv *u)
{
	rn_udp_batch_begin(u->tx);
}

void rn_uvenv_batch_end(rn_uvenv *u)
{
	rn_udp_batch_flush(u->tx);
	u->stats.send_eagain = u->tx->st.eagain;
	u->stats.send_errors = u->tx->st.errors;
}

static const rn_env uvenv_env = {
    .send = env_send,
    .tun_write = env_tun_write,
    .set_deadline = env_set_deadline,
    .random = env_random,
    .portmap_request = NULL,
    .log = env_log,
    .event = env_event,
};

const rn_env *rn_uvenv_env(void)
{
	return &uvenv_env;
}

/* ---- the socket ---------------------------------------------------------- */

#ifndef UDP_GRO
#define UDP_GRO 104
#endif
#ifndef SO_SNDBUFFORCE /* hidden by -std=c11; Linux's values */
#define SO_SNDBUFFORCE 32
#define SO_RCVBUFFORCE 33
#endif

/* One datagram (or one segment of a GRO batch) to the node. */
static void deliver(rn_uvenv *u, const rn_ep *from, const uint8_t *p,
                    size_t n, rn_time now)
{
	rn_uvenv_peer *pe = peer_get(u, from, now);
	if (pe) {
		pe->rx_bytes += n;
		pe->rx_pkts++;
		pe->last = now;
	}
	rn_node_recv(u->node, now, from, p, n);
}

/* One recvmsg: 1 if something was read (go on), 0 when drained. */
static int recv_one(rn_uvenv *u)
{
	struct sockaddr_storage ss;
	struct iovec iov = {u->rbuf, RN_UVENV_RECV_BYTES};
	union {
		char c[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct msghdr m;
	memset(&m, 0, sizeof m);
	m.msg_name = &ss;
	m.msg_namelen = sizeof ss;
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = ctl.c;
	m.msg_controllen = sizeof ctl.c;
	ssize_t n = recvmsg(u->rx_fd, &m, MSG_DONTWAIT);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			u->stats.recv_errors++;
			rn_log_limited(&u->lg, rn_uvenv_now(), RN_LOG_WARN,
			               "receive: %s", strerror(errno));
		}
		return 0;
	}
	if (m.msg_flags & MSG_TRUNC) {
		u->stats.recv_truncated++;
		return 1;
	}
	size_t seg = (size_t)n;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
			int s;
			memcpy(&s, CMSG_DATA(c), sizeof s);
			if (s > 0)
				seg = (size_t)s;
		}
	rn_ep from;
	if (n == 0 || rn_uvenv_ep_from_sa(&from, (struct sockaddr *)&ss))
		return 1;
	rn_time now = rn_uvenv_now();
	for (size_t off = 0; off < (size_t)n && u->node; off += seg) {
		size_t l = (size_t)n - off < seg ? (size_t)n - off : seg;
		deliver(u, &from, u->rbuf + off, l, now);
	}
	return 1;
}

static void on_readable(uv_poll_t *h, int status, int events)
{
	rn_uvenv *u = h->data;
	(void)events;
	if (status < 0 || !u->node)
		return;
	u->rx_batch = 1;
	rn_uvenv_batch_begin(u);
	for (int i = 0; i < RN_UVENV_RX_BATCH && u->node && recv_one(u); i++)
		;
	u->rx_batch = 0;
	if (u->tun_vnet && u->tun_fd >= 0)
		rn_gro_flush(u->gro, tun_write_raw, u);
	rn_uvenv_batch_end(u);
	rn_uvenv_busy(u);
}

static int bind_addr(const char *addr, uint16_t port,
                     struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	if (strchr(addr, ':'))
		return uv_ip6_addr(addr, port, (struct sockaddr_in6 *)ss);
	return uv_ip4_addr(addr, port, (struct sockaddr_in *)ss);
}

int rn_uvenv_init(rn_uvenv *u, uv_loop_t *loop, const char *addr, uint16_t port,
                  int log_level, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	memset(u, 0, sizeof *u);
	u->loop = loop;
	u->log_level = log_level;
	u->log_journal = getenv("JOURNAL_STREAM") != NULL;
	u->tun_fd = -1;
	rn_logger_init(&u->lg, &uvenv_env, u, RN_LOG_TRACE);
	rn_map_init(&u->peer_index, RN_DAEMON_PEERS_MAX);
	u->peers = calloc(RN_DAEMON_PEERS_MAX, sizeof *u->peers);
	u->rbuf = malloc(RN_UVENV_RECV_BYTES);
	u->tx = malloc(sizeof *u->tx);
	u->gro = malloc(sizeof *u->gro);
	u->rx_fd = -1;
	if (!u->peers || !u->rbuf || !u->tx || !u->gro) {
		snprintf(err, errlen, "out of memory");
		rn_uvenv_deinit(u);
		return -1;
	}
	int rc = bind_addr(addr, port, &ss);
	if (rc) {
		snprintf(err, errlen,
		         "cannot bind %s:%u: not a numeric address", addr,
		         port);
		rn_uvenv_deinit(u);
		return -1;
	}
	u->v6 = ss.ss_family == AF_INET6;
	rc = uv_udp_init_ex(loop, &u->udp, ss.ss_family);
	if (rc) {
		snprintf(err, errlen, "cannot open a UDP socket: %s",
		         uv_strerror(rc));
		rn_uvenv_deinit(u);
		return -1;
	}
	u->udp.data = u;
	uv_timer_init(loop, &u->timer);
	u->timer.data = u;
	uv_idle_init(loop, &u->spin);
	u->spin.data = u;
	u->spin_open = 1;
	u->open = 1;
	rc = uv_udp_bind(&u->udp, (const struct sockaddr *)&ss, 0);
	if (rc) {
		if (u->v6)
			snprintf(err, errlen, "cannot bind [%s]:%u: %s", addr,
			         port, uv_strerror(rc));
		else
			snprintf(err, errlen, "cannot bind %s:%u: %s", addr,
			         port, uv_strerror(rc));
		rn_uvenv_close(u);
		return -1;
	}
	return 0;
}

int rn_uvenv_attach(rn_uvenv *u, rn_node *n, char *err, size_t errlen)
{
	uv_os_fd_t fd;
	int one = 1;
	u->node = n;
	int rc = uv_fileno((uv_handle_t *)&u->udp, &fd);
	if (rc == 0 && (u->rx_fd = dup(fd)) < 0)
		rc = UV_EMFILE;
	if (rc) {
		snprintf(err, errlen, "cannot receive: %s", uv_strerror(rc));
		return -1;
	}
	rn_udp_batch_init(u->tx, fd);
	rn_gro_init(u->gro);
	/* GRO is an optimisation: without it, one datagram per read */
	(void)setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof one);
	/* A burst of VPN traffic outruns the default buffers (~200 KiB):
	 * ask for more, past the sysctl limit when we may (root) */
	int sz = RN_UVENV_SOCKBUF_BYTES;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz))
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof sz))
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
	rc = uv_poll_init(u->loop, &u->rx_poll, u->rx_fd);
	if (rc == 0) {
		u->rx_poll.data = u;
		u->rx_poll_open = 1;
		rc = uv_poll_start(&u->rx_poll, UV_READABLE, on_readable);
	}
	if (rc) {
		snprintf(err, errlen, "cannot receive: %s", uv_strerror(rc));
		return -1;
	}
	return 0;
}

void rn_uvenv_close(rn_uvenv *u)
{
	if (!u->open)
		return;
	u->open = 0;
	u->node = NULL;
	if (u->rx_poll_open) {
		uv_poll_stop(&u->rx_poll);
		uv_close((uv_handle_t *)&u->rx_poll, NULL);
		u->rx_poll_open = 0;
	}
	uv_timer_stop(&u->timer);
	if (u->spin_open) {
		uv_idle_stop(&u->spin);
		uv_close((uv_handle_t *)&u->spin, NULL);
		u->spin_open = 0;
	}
	uv_close((uv_handle_t *)&u->udp, NULL);
	uv_close((uv_handle_t *)&u->timer, NULL);
}

void rn_uvenv_deinit(rn_uvenv *u)
{
	rn_map_deinit(&u->peer_index);
	free(u->peers);
	free(u->rbuf);
	free(u->tx);
	free(u->gro);
	if (u->rx_fd >= 0)
		close(u->rx_fd);
	u->rx_fd = -1;
	u->tx = NULL;
	u->gro = NULL;
	u->peers = NULL;
	u->rbuf = NULL;
	u->n_peers = 0;
}

int rn_uvenv_local(const rn_uvenv *u, rn_ep *ep, char *str, size_t len)
{
	struct sockaddr_storage ss;
	int sl = sizeof ss;
	if (uv_udp_getsockname(&u->udp, (struct sockaddr *)&ss, &sl) ||
	    rn_uvenv_ep_from_sa(ep, (const struct sockaddr *)&ss))
		return -1;
	if (str)
		rn_ep_to_str(ep, str, len);
	return 0;
}
