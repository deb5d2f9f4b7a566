/* The blocking client side of the control socket (see ctl.h for the
 * protocol), for the `ringnet` command line, which has no event loop.
 *
 * Plain socket()/connect()/poll(): one connection carries any number of
 * request/reply exchanges; rn_ctl_conn_send() may be called several times
 * before the matching rn_ctl_conn_recv()s (replies come in order).
 * Timeouts are in milliseconds; a negative timeout waits for ever.
 * Failures return a negative RN_ERR_* and put a short phrase in err.
 */
#ifndef RN_CTL_CLIENT_H
#define RN_CTL_CLIENT_H

#include <stddef.h>

#include <jansson.h>

/* Largest reply line accepted (a peers table of a big node fits easily). */
#define RN_CTL_REPLY_BYTES_MAX (16 * 1024 * 1024)

typedef struct rn_ctl_conn rn_ctl_conn;

/* Connect to the daemon at path. On failure err holds only the system's
 * reason (strerror), so that the caller can phrase the whole message
 * ("cannot reach ringnetd at PATH: ..."). */
int rn_ctl_conn_open(rn_ctl_conn **out, const char *path, int timeout_ms,
                     char *err, size_t errlen);
void rn_ctl_conn_free(rn_ctl_conn *c);

/* Send req as one line. */
int rn_ctl_conn_send(rn_ctl_conn *c, const json_t *req, int timeout_ms,
                     char *err, size_t errlen);
/* Read the next reply line into *reply (a new reference to a JSON object).
 * RN_ERR_IO on timeout, hang-up or socket error; RN_ERR_PROTO if the line is
 * not a JSON object; RN_ERR_TOOBIG beyond RN_CTL_REPLY_BYTES_MAX. */
int rn_ctl_conn_recv(rn_ctl_conn *c, json_t **reply, int timeout_ms, char *err,
                     size_t errlen);
/* Send then receive, within one timeout. If the daemon closed the
 * connection (it refuses clients beyond its limit, with an error line), the
 * line it left is still returned as the reply. */
int rn_ctl_conn_call(rn_ctl_conn *c, const json_t *req, json_t **reply,
                     int timeout_ms, char *err, size_t errlen);

/* Connect, call once, disconnect. */
int rn_ctl_call(const char *path, const json_t *req, json_t **reply,
                int timeout_ms, char *err, size_t errlen);

#endif
