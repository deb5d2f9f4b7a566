/* Blocking control-socket client (see ctl_client.h).
 *
 * The socket is blocking while it connects (SO_SNDTIMEO bounds a connect to
 * a daemon whose backlog is full) and non-blocking afterwards, every wait
 * being a poll() against one monotonic deadline per call. Received bytes
 * collect in a buffer that grows up to RN_CTL_REPLY_BYTES_MAX; bytes past a
 * reply's '\n' (the next pipelined reply) stay in it for the next recv.
 * Writes use MSG_NOSIGNAL: a daemon that hangs up is an error, not SIGPIPE.
 */
#include "ctl_client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"

struct rn_ctl_conn {
	int fd;
	char *buf;
	size_t len, cap;
};

static void set_err(char *err, size_t errlen, const char *text)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", text);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t deadline_of(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
}

/* Wait for events on fd until deadline: 1 ready, 0 timed out, <0 error. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		int ms = -1;
		if (deadline >= 0) {
			int64_t left = deadline - now_ms();
			ms = left > 0 ? (left > 1000000 ? 1000000 : (int)left)
			              : 0;
		}
		struct pollfd p = {.fd = fd, .events = events};
		int n = poll(&p, 1, ms);
		if (n > 0)
			return 1;
		if (n == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

int rn_ctl_conn_open(rn_ctl_conn **out, const char *path, int timeout_ms,
                     char *err, size_t errlen)
{
	*out = NULL;
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (!path || strlen(path) >= sizeof sa.sun_path) {
		set_err(err, errlen, strerror(ENAMETOOLONG));
		return RN_ERR_INVAL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		set_err(err, errlen, strerror(errno));
		return RN_ERR_IO;
	}
	if (timeout_ms >= 0) {
		struct timeval tv = {.tv_sec = timeout_ms / 1000,
		                     .tv_usec = (timeout_ms % 1000) * 1000};
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	}
	int rc;
	do
		rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
	while (rc < 0 && errno == EINTR);
	if (rc < 0 || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		set_err(err, errlen, strerror(errno));
		close(fd);
		return RN_ERR_IO;
	}
	rn_ctl_conn *c = calloc(1, sizeof *c);
	if (!c) {
		close(fd);
		set_err(err, errlen, "out of memory");
		return RN_ERR_NOMEM;
	}
	c->fd = fd;
	*out = c;
	return 0;
}

void rn_ctl_conn_free(rn_ctl_conn *c)
{
	if (!c)
		return;
	close(c->fd);
	free(c->buf);
	free(c);
}

static int send_all(int fd, const char *p, size_t n, int64_t deadline,
                    char *err, size_t errlen)
{
	while (n > 0) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
		if (k > 0) {
			p += k;
			n -= (size_t)k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			set_err(err, errlen, strerror(errno));
			return RN_ERR_IO;
		}
		int w = wait_fd(fd, POLLOUT, deadline);
		if (w <= 0) {
			set_err(err, errlen,
			        w == 0 ? "timed out sending" : strerror(errno));
			return RN_ERR_IO;
		}
	}
	return 0;
}

static int send_until(rn_ctl_conn *c, const json_t *req, int64_t deadline,
                      char *err, size_t errlen)
{
	char *s = json_dumps(req, JSON_COMPACT);
	if (!s) {
		set_err(err, errlen, "cannot encode the request");
		return RN_ERR_INVAL;
	}
	int rc = send_all(c->fd, s, strlen(s), deadline, err, errlen);
	if (rc == 0)
		rc = send_all(c->fd, "\n", 1, deadline, err, errlen);
	free(s);
	return rc;
}

int rn_ctl_conn_send(rn_ctl_conn *c, const json_t *req, int timeout_ms,
                     char *err, size_t errlen)
{
	return send_until(c, req, deadline_of(timeout_ms), err, errlen);
}

/* Room for at least one more byte in c->buf. */
static int grow(rn_ctl_conn *c, char *err, size_t errlen)
{
	if (c->len < c->cap)
		return 0;
	if (c->cap >= RN_CTL_REPLY_BYTES_MAX) {
		set_err(err, errlen, "reply too long");
		return RN_ERR_TOOBIG;
	}
	size_t cap = c->cap ? c->cap * 2 : 4096;
	if (cap > RN_CTL_REPLY_BYTES_MAX)
		cap = RN_CTL_REPLY_BYTES_MAX;
	char *b = realloc(c->buf, cap);
	if (!b) {
		set_err(err, errlen, "out of memory");
		return RN_ERR_NOMEM;
	}
	c->buf = b;
	c->cap = cap;
	return 0;
}

/* Take the line ending at nl out of the buffer and decode it. */
static int take_reply(rn_ctl_conn *c, const char *nl, json_t **reply, char *err,
                      size_t errlen)
{
	size_t n = (size_t)(nl - c->buf);
	json_error_t jerr;
	json_t *j = json_loadb(c->buf, n, 0, &jerr);
	memmove(c->buf, c->buf + n + 1, c->len - n - 1);
	c->len -= n + 1;
	if (!j || !json_is_object(j)) {
		json_decref(j);
		set_err(err, errlen, "the reply is not a JSON object");
		return RN_ERR_PROTO;
	}
	*reply = j;
	return 0;
}

static int recv_until(rn_ctl_conn *c, json_t **reply, int64_t deadline,
                      char *err, size_t errlen)
{
	*reply = NULL;
	size_t scanned = 0;
	for (;;) {
		const char *nl =
		    c->len > scanned
		        ? memchr(c->buf + scanned, '\n', c->len - scanned)
		        : NULL;
		if (nl)
			return take_reply(c, nl, reply, err, errlen);
		scanned = c->len;
		int rc = grow(c, err, errlen);
		if (rc < 0)
			return rc;
		ssize_t k = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (k > 0) {
			c->len += (size_t)k;
			continue;
		}
		if (k == 0) {
			set_err(err, errlen, "ringnetd closed the connection");
			return RN_ERR_IO;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			set_err(err, errlen, strerror(errno));
			return RN_ERR_IO;
		}
		int w = wait_fd(c->fd, POLLIN, deadline);
		if (w <= 0) {
			set_err(err, errlen,
			        w == 0 ? "no reply in time" : strerror(errno));
			return RN_ERR_IO;
		}
	}
}

int rn_ctl_conn_recv(rn_ctl_conn *c, json_t **reply, int timeout_ms, char *err,
                     size_t errlen)
{
	return recv_until(c, reply, deadline_of(timeout_ms), err, errlen);
}

int rn_ctl_conn_call(rn_ctl_conn *c, const json_t *req, json_t **reply,
                     int timeout_ms, char *err, size_t errlen)
{
	int64_t deadline = deadline_of(timeout_ms);
	int rc = send_until(c, req, deadline, err, errlen);
	if (rc < 0 && rc != RN_ERR_IO)
		return rc;
	/* Even when the send failed, the daemon may have said why. */
	int rrc = recv_until(c, reply, deadline, rc < 0 ? NULL : err,
	                     rc < 0 ? 0 : errlen);
	return rc < 0 && rrc < 0 ? rc : rrc;
}

int rn_ctl_call(const char *path, const json_t *req, json_t **reply,
                int timeout_ms, char *err, size_t errlen)
{
	*reply = NULL;
	rn_ctl_conn *c;
	char why[128];
	int rc = rn_ctl_conn_open(&c, path, timeout_ms, why, sizeof why);
	if (rc < 0) {
		if (err && errlen)
			snprintf(err, errlen, "cannot connect to %s: %s", path,
			         why);
		return rc;
	}
	rc = rn_ctl_conn_call(c, req, reply, timeout_ms, err, errlen);
	rn_ctl_conn_free(c);
	return rc;
}
