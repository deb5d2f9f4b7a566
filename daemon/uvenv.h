/* The environment of one overlay node on a libuv loop (DESIGN.md section 1).
 *
 * This is the daemon's half of core/env.h: one UDP socket, one timer for
 * the node's single deadline, libsodium for randomness, stderr for logs.
 * The node never sees libuv; the loop never sees the protocol:
 *
 *     datagram --uv_udp recv--> rn_node_recv(now) --env.send--> try_send
 *     timer    --uv_timer-----> rn_node_on_timeout(now) --env.set_deadline-->
 *                                                         uv_timer_start
 *
 * Time is uv_hrtime() in microseconds (monotonic). Sends use
 * uv_udp_try_send and drop on EAGAIN (counted): the core retransmits what
 * matters, and a queue here would only hide overload.
 *
 * Endpoints: an rn_ep keeps IPv4 as ::ffff:a.b.c.d, which is also how a
 * dual-stack socket bound to "::" sees IPv4 peers, so the bytes pass
 * through unchanged on an IPv6 socket; an IPv4 socket converts to and from
 * sockaddr_in and cannot reach IPv6 peers (counted as send errors).
 *
 * Per-peer byte counters for `ringnet peers` live here, not in the core:
 * a table keyed by endpoint, bounded by RN_DAEMON_PEERS_MAX. When it is
 * full, the entry idle longest makes room if it has been idle for
 * RN_DAEMON_PEER_IDLE_S; otherwise the new endpoint is not counted
 * (peers_overflow).
 *
 * Lifetime: rn_uvenv_init opens the handles, rn_uvenv_attach binds the
 * node (and starts receiving), rn_uvenv_close closes the handles; the
 * struct must stay put until both close callbacks ran (the loop has
 * finished). Then rn_uvenv_deinit frees the rest.
 */
#ifndef RN_UVENV_H
#define RN_UVENV_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "../core/env.h"
#include "../core/log.h"
#include "../core/map.h"
#include "../overlay/node.h"
#include "../tunnel/gso.h"
#include "udp_batch.h"

#define RN_DAEMON_PEERS_MAX   1024
#define RN_DAEMON_PEER_IDLE_S 600
#define RN_UVENV_RECV_BYTES   (64 * 1024)
#define RN_UVENV_RX_BATCH     64 /* recvmsg calls per readable event */
#define RN_UVENV_SOCKBUF_BYTES (4 * 1024 * 1024) /* SO_RCVBUF, SO_SNDBUF */

typedef struct rn_uvenv_peer {
	rn_ep ep;
	uint64_t tx_bytes, rx_bytes;
	uint64_t tx_pkts, rx_pkts;
	rn_time last; /* last datagram either way */
} rn_uvenv_peer;

typedef struct rn_uvenv_stats {
	uint64_t send_eagain;    /* dropped: the socket buffer was full */
	uint64_t send_errors;    /* dropped: any other send error */
	uint64_t recv_errors;    /* errors reported by the receive callback */
	uint64_t recv_truncated; /* datagrams larger than the buffer */
	uint64_t peers_overflow; /* endpoints not counted: the table was full */
	uint64_t peers_evicted;  /* idle entries dropped to make room */
	uint64_t tun_write_errors; /* packets the TUN device refused */
} rn_uvenv_stats;

typedef struct rn_uvenv {
	uv_loop_t *loop;
	uv_udp_t udp;
	uv_timer_t timer;
	rn_node *node; /* set by rn_uvenv_attach */
	int v6;        /* the socket is AF_INET6 (dual-stack for "::") */
	int log_level; /* lines above it are not printed */
	int log_journal; /* stderr is systemd's journal: priority prefixes */
	rn_logger lg;  /* the driver's own rate-limited lines */
	/* Optional: told of every event the node reports (after logging). */
	void (*on_event)(void *ud, const rn_event *ev);
	void *ud;
	rn_uvenv_stats stats;
	rn_map peer_index; /* endpoint hash -> index into peers + 1 */
	rn_uvenv_peer *peers;
	uint32_t n_peers;
	uint32_t peer_last; /* index peer_get found last (uvenv.c) */
	uint8_t *rbuf; /* RN_UVENV_RECV_BYTES */
	uv_poll_t rx_poll; /* on rx_fd, a dup of the socket (uvenv.c) */
	int rx_fd, rx_poll_open;
	rn_udp_batch *tx;  /* sends, gathered inside a batch */
	rn_gro *gro;       /* TUN writes coalesced inside a receive batch */
	int rx_batch;      /* inside a receive batch */
	int tun_vnet;      /* the TUN device takes a virtio_net_hdr */
	/* busy polling (uvenv.c): after traffic, the loop keeps polling
	 * without sleeping for busy_poll_us (0: never) */
	uv_idle_t spin;
	int spin_open, spinning;
	uint32_t busy_poll_us;
	rn_time spin_until;
	int open; /* handles initialised and not yet closed */
	int tun_fd; /* the VPN's TUN device (daemon_vpn.c), or -1 */
} rn_uvenv;

/* The function table handed to rn_shared_init; ctx is the rn_uvenv. */
const rn_env *rn_uvenv_env(void);

/* Opens the socket and timer on loop and binds addr:port (a numeric
 * address; "::" is dual-stack). 0, or -1 with "cannot bind ADDR:PORT:
 * reason" in err; on error nothing is left open. */
int rn_uvenv_init(rn_uvenv *u, uv_loop_t *loop, const char *addr, uint16_t port,
                  int log_level, char *err, size_t errlen);
/* Binds the node (created with ctx u) and starts receiving. */
int rn_uvenv_attach(rn_uvenv *u, rn_node *n, char *err, size_t errlen);
/* Closes the socket and the timer (uv_close); no call into the node
 * happens after this. */
void rn_uvenv_close(rn_uvenv *u);
/* Frees the peer table; after the loop has run the close callbacks. */
void rn_uvenv_deinit(rn_uvenv *u);

/* Sends from here to rn_uvenv_batch_end are gathered into GSO batches
 * (the TUN read loop). */
void rn_uvenv_batch_begin(rn_uvenv *u);
void rn_uvenv_batch_end(rn_uvenv *u);
/* Traffic was handled: keep the loop polling, without sleeping, for the
 * next busy_poll_us (a reply often comes back within it). */
void rn_uvenv_busy(rn_uvenv *u);

/* Monotonic microseconds. */
rn_time rn_uvenv_now(void);

/* The bound endpoint into *ep and as text ("[::]:7400", "127.0.0.1:7400")
 * into str; 0 or -1. */
int rn_uvenv_local(const rn_uvenv *u, rn_ep *ep, char *str, size_t len);
/* The byte counters of ep, or NULL if it was never seen. */
const rn_uvenv_peer *rn_uvenv_peer_find(const rn_uvenv *u, const rn_ep *ep);

/* Endpoint conversions; 0 or -1 (unsupported family, IPv6 on an IPv4
 * socket). */
int rn_uvenv_ep_from_sa(rn_ep *ep, const struct sockaddr *sa);
int rn_uvenv_ep_to_sa(const rn_ep *ep, int v6, struct sockaddr_storage *ss);

/* One log line at level through the environment's formatting. */
void rn_uvenv_log(rn_uvenv *u, int level, const char *fmt, ...) RN_PRINTF(3, 4);

#endif
