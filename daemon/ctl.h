/* The daemon's control socket: a Unix stream socket on the daemon's libuv
 * loop that answers the `ringnet` command line (status, peers, ring, ping).
 *
 * Protocol: each request and each reply is one JSON object on one line,
 * terminated by '\n' (jansson, compact encoding). A request names its command
 * in a string member "cmd"; a reply is {"ok":true, ...} or
 * {"ok":false,"error":"text"}. A client may send several requests on one
 * connection; replies come back in request order, even when a later request
 * is answered first. Closing the connection (EOF) means the client is gone:
 * its unanswered requests are orphaned and their replies dropped.
 *
 * The server answers malformed lines itself (invalid JSON, not an object, no
 * string "cmd", a line over RN_CTL_LINE_MAX); the handler sees only objects
 * with a string "cmd" and answers each with exactly one rn_ctl_reply(), now
 * or later (a ping takes seconds).
 *
 * Access: the socket file is mode 0600 in a directory created 0755 if
 * missing, so only the daemon's user (root) can connect.
 */
#ifndef RN_CTL_H
#define RN_CTL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

/* Where ringnetd listens and ringnet connects unless told otherwise. */
#define RN_CTL_SOCKET_DEFAULT "/run/ringnet/ringnetd.sock"

/* Bounds. What goes beyond them is refused and counted in rn_ctl_stats. */
#define RN_CTL_CLIENTS_MAX 16   /* connections at once; more are refused */
#define RN_CTL_LINE_MAX    4096 /* bytes in one request line, without '\n' */
#define RN_CTL_PENDING_MAX 8    /* requests per client awaiting their reply */
#define RN_CTL_WRITE_QUEUE_BYTES_MAX                                           \
	(256 * 1024)          /* unread replies, per client */
#define RN_CTL_BACKLOG_MAX 16 /* listen(2) backlog */

typedef struct rn_ctl rn_ctl;

/* One request being answered. It belongs to the handler from the handler
 * call until the handler passes it to rn_ctl_reply(), which frees it; it
 * stays valid in between even if its client hangs up or the server closes
 * (then it is "gone" and the reply is dropped). */
typedef struct rn_ctl_req rn_ctl_req;

/* Called once per well-formed request. msg is borrowed for the duration of
 * the call (json_incref it to keep it); msg["cmd"] is a string. */
typedef void (*rn_ctl_handler)(void *ud, rn_ctl_req *req, const json_t *msg);

typedef struct rn_ctl_stats {
	uint64_t clients_open;     /* connections now being served */
	uint64_t clients_accepted; /* connections served, in total */
	uint64_t clients_refused;  /* beyond RN_CTL_CLIENTS_MAX */
	uint64_t requests;     /* well-formed requests passed to the handler */
	uint64_t requests_bad; /* invalid JSON, not an object, no "cmd" */
	uint64_t lines_too_long; /* beyond RN_CTL_LINE_MAX: error, then close */
	uint64_t
	    pending_overflow; /* beyond RN_CTL_PENDING_MAX: client closed */
	uint64_t
	    write_overflow; /* beyond RN_CTL_WRITE_QUEUE_BYTES_MAX: closed */
	uint64_t replies_dropped; /* the client was gone when the reply came */
} rn_ctl_stats;

/* Listen at path on loop. A stale socket file (nothing accepts on it) is
 * replaced; a live one is an error ("another ringnetd is running at PATH"),
 * as is any other kind of file there. Creates the parent directory (0755)
 * if it is missing. Ignores SIGPIPE for the whole process, so that a reply
 * to a client that hung up fails with EPIPE instead of killing the daemon.
 * Returns 0, or a negative RN_ERR_* with a sentence in err. */
int rn_ctl_open(rn_ctl **out, uv_loop_t *loop, const char *path,
                rn_ctl_handler handler, void *ud, char *err, size_t errlen);

/* Answer req with reply (one reference is taken) and release req. reply
 * NULL abandons the request: the client gets {"ok":false,"error":"request
 * cancelled"}. Replies to a gone request are dropped and counted. */
void rn_ctl_reply(rn_ctl_req *req, json_t *reply);

/* 1 if req's client has hung up or the server has closed: a long-running
 * command may stop early (it must still call rn_ctl_reply). */
int rn_ctl_req_gone(const rn_ctl_req *req);

void rn_ctl_get_stats(const rn_ctl *c, rn_ctl_stats *out);

/* Stop listening, close every connection and unlink the socket path now;
 * done(arg) runs (on the loop) after the last handle has closed, after which
 * c is freed. Requests still held by the handler become gone. done may be
 * NULL. */
void rn_ctl_close(rn_ctl *c, void (*done)(void *arg), void *arg);

#endif
