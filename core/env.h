/* The environment: everything the protocol core asks of the outside world.
 *
 * The core (overlay/, dht/, tunnel/, nat/ policy) never touches a socket, a
 * clock, a timer, a thread, a file or the system RNG. It calls these function
 * pointers instead, like SQLite's sqlite3_vfs. One rn_env is shared by every
 * node of a process; each node carries its own `ctx` pointer, which is passed
 * back on every call. Two drivers implement it: the daemon (libuv) and the
 * simulator. Time is always passed *in* to the core (rn_time, microseconds
 * on a monotonic clock); the core never asks for it.
 */
#ifndef RN_ENV_H
#define RN_ENV_H

#include <stddef.h>
#include <stdint.h>

#include "ep.h"

typedef uint64_t rn_time; /* microseconds, monotonic, arbitrary origin */
#define RN_TIME_NEVER UINT64_MAX
#define RN_MS(x) ((rn_time)(x) * 1000u)

enum rn_log_level {
	RN_LOG_ERROR = 0,
	RN_LOG_WARN = 1,
	RN_LOG_INFO = 2,
	RN_LOG_DEBUG = 3,
	RN_LOG_TRACE = 4,
};

struct rn_event; /* defined by the library that emits it (overlay/node.h) */

typedef struct rn_env {
	/* Send one UDP datagram. Best effort; the core retransmits itself. */
	void (*send)(void *ctx, const rn_ep *to, const uint8_t *buf, size_t len);
	/* Deliver one IP packet to the local OS (the TUN device). */
	void (*tun_write)(void *ctx, const uint8_t *pkt, size_t len);
	/* The single earliest time the node wants rn_node_on_timeout(). A later
	 * call replaces an earlier one; RN_TIME_NEVER cancels. */
	void (*set_deadline)(void *ctx, rn_time t);
	/* Fill buf with unpredictable bytes (the only randomness source). */
	void (*random)(void *ctx, uint8_t *buf, size_t len);
	/* Ask for a UPnP/NAT-PMP port mapping; the answer arrives later through
	 * rn_node_on_portmap(). May be NULL where there is no gateway. */
	void (*portmap_request)(void *ctx, int proto, uint16_t internal_port,
				uint32_t lifetime_s);
	/* One formatted log line, without a trailing newline. */
	void (*log)(void *ctx, int level, const char *msg);
	/* Something the application may want to know (link up, lookup result).
	 * May be NULL. */
	void (*event)(void *ctx, const struct rn_event *ev);
} rn_env;

#endif
