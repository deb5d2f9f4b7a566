/* The control socket server (see ctl.h): a listening uv_pipe_t and one
 * uv_pipe_t per connected client, on the daemon's loop.
 *
 * Reading. Each client has a fixed line buffer of RN_CTL_LINE_MAX + 1 bytes
 * that libuv reads into directly; every complete line is one request. A
 * buffer full without a '\n' is an overlong line: the client gets an error
 * reply and is closed once its replies are written ("draining").
 *
 * Ordering. A client's requests wait in a FIFO, answered or not:
 *
 *   head -> [ping: waiting] -> [status: answered] -> NULL
 *
 * A reply only fills its request; flush() then writes answered requests from
 * the head and stops at the first unanswered one, so replies leave in
 * request order. At most RN_CTL_PENDING_MAX requests wait; more close the
 * client, as does a client that lets RN_CTL_WRITE_QUEUE_BYTES_MAX of replies
 * pile up unread.
 *
 * Lifetimes (libuv: memory is freed only in close callbacks).
 * - A client is freed in its close callback; closing it first takes it off
 *   the list and orphans its unanswered requests (owner = NULL, "gone").
 * - A request belongs to the handler until rn_ctl_reply(), which frees it.
 *   An orphaned request points at nothing, so it may outlive its client and
 *   the server itself; its reply is dropped.
 * - The server counts its open handles (listener + clients); after
 *   rn_ctl_close() the last close callback frees it and calls done().
 */
#include "ctl.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/err.h"

typedef struct client client;

struct rn_ctl_req {
	client *owner;    /* NULL once gone */
	rn_ctl_req *next; /* in the owner's FIFO */
	char *line; /* the encoded reply, '\n'-terminated, once answered */
	size_t line_len;
};

struct client {
	uv_pipe_t pipe; /* pipe.data points back here */
	uv_shutdown_t shutdown;
	rn_ctl *ctl;
	client *prev, *next; /* in ctl->clients while served */
	int served;   /* 1 while on ctl->clients (not refused, not closed) */
	int draining; /* takes no more requests; closes once written */
	int shutting; /* uv_shutdown() issued */
	rn_ctl_req *head, *tail;
	size_t pending_n;
	size_t len; /* bytes in buf */
	char buf[RN_CTL_LINE_MAX + 1];
};

struct rn_ctl {
	uv_loop_t *loop;
	uv_pipe_t listener;
	rn_ctl_handler handler;
	void *ud;
	client *clients;
	unsigned handles_open;
	int closing;
	void (*done)(void *arg);
	void *done_arg;
	rn_ctl_stats stats;
	char path[]; /* the socket file */
};

typedef struct reply_write {
	uv_write_t w;
	char *line;
} reply_write;

static void close_client(client *c);

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- replies ---------------------------------------------------------- */

static json_t *error_reply(const char *fmt, ...)
{
	char text[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	return json_pack("{s:b, s:s}", "ok", 0, "error", text);
}

/* reply as one compact line with its '\n' (malloc'd), consuming reply. */
static char *encode_line(json_t *reply, size_t *len)
{
	char *s = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
	json_decref(reply);
	if (!s)
		return NULL;
	size_t n = strlen(s);
	char *line = realloc(s, n + 2);
	if (!line) {
		free(s);
		return NULL;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	*len = n + 1;
	return line;
}

static void on_written(uv_write_t *w, int status)
{
	reply_write *rw = (reply_write *)w;
	client *c = w->handle->data;
	free(rw->line);
	free(rw);
	if (status < 0 && status != UV_ECANCELED)
		close_client(c);
}

/* Queue line (owned) on c's stream. */
static void write_line(client *c, char *line, size_t len)
{
	reply_write *rw = malloc(sizeof *rw);
	if (!rw) {
		free(line);
		close_client(c);
		return;
	}
	rw->line = line;
	uv_buf_t b = uv_buf_init(line, (unsigned)len);
	if (uv_write(&rw->w, (uv_stream_t *)&c->pipe, &b, 1, on_written) < 0) {
		free(line);
		free(rw);
		close_client(c);
	}
}

static void on_shutdown(uv_shutdown_t *sr, int status)
{
	(void)status;
	close_client(sr->handle->data);
}

/* Write every answered request at the head of the FIFO; a draining client
 * whose FIFO is empty is shut down (its writes finish first) and closed. */
static void flush(client *c)
{
	while (c->head && c->head->line &&
	       !uv_is_closing((uv_handle_t *)&c->pipe)) {
		rn_ctl_req *r = c->head;
		c->head = r->next;
		if (!c->head)
			c->tail = NULL;
		c->pending_n--;
		write_line(c, r->line, r->line_len);
		free(r);
	}
	if (c->draining && !c->head && !c->shutting &&
	    !uv_is_closing((uv_handle_t *)&c->pipe)) {
		c->shutting = 1;
		if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->pipe,
		                on_shutdown) < 0)
			close_client(c);
	}
}

void rn_ctl_reply(rn_ctl_req *req, json_t *reply)
{
	client *c = req->owner;
	if (!c) {
		json_decref(reply);
		free(req);
		return;
	}
	if (!reply)
		reply = error_reply("request cancelled");
	req->line = encode_line(reply, &req->line_len);
	if (!req->line) {
		/* No memory, or a reply jansson cannot encode: the client must
		 * not wait for a line that will never come. Closing orphans
		 * (and counts) req, which is then ours to free. */
		close_client(c);
		free(req);
		return;
	}
	flush(c);
}

int rn_ctl_req_gone(const rn_ctl_req *req)
{
	return req->owner == NULL;
}

/* ---- requests ---------------------------------------------------------- */

static rn_ctl_req *req_push(client *c)
{
	rn_ctl_req *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->owner = c;
	if (c->tail)
		c->tail->next = r;
	else
		c->head = r;
	c->tail = r;
	c->pending_n++;
	return r;
}

static int is_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

static void on_line(client *c, const char *line, size_t n)
{
	rn_ctl *ctl = c->ctl;
	if (is_blank(line, n))
		return;
	if (c->pending_n >= RN_CTL_PENDING_MAX) {
		ctl->stats.pending_overflow++;
		close_client(c);
		return;
	}
	if (uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) >
	    RN_CTL_WRITE_QUEUE_BYTES_MAX) {
		ctl->stats.write_overflow++;
		close_client(c);
		return;
	}
	rn_ctl_req *req = req_push(c);
	if (!req) {
		close_client(c);
		return;
	}
	json_error_t jerr;
	json_t *msg = json_loadb(line, n, JSON_REJECT_DUPLICATES, &jerr);
	if (!msg) {
		ctl->stats.requests_bad++;
		rn_ctl_reply(req, error_reply("invalid JSON: %s", jerr.text));
		return;
	}
	if (!json_is_object(msg) ||
	    !json_is_string(json_object_get(msg, "cmd"))) {
		json_decref(msg);
		ctl->stats.requests_bad++;
		rn_ctl_reply(req, error_reply("a request is a JSON object "
		                              "with a string \"cmd\""));
		return;
	}
	ctl->stats.requests++;
	ctl->handler(ctl->ud, req, msg);
	json_decref(msg);
}

static void start_draining(client *c)
{
	c->draining = 1;
	uv_read_stop((uv_stream_t *)&c->pipe);
	flush(c);
}

/* Answer every complete line in c->buf and keep the incomplete rest. */
static void take_lines(client *c)
{
	size_t start = 0;
	const char *nl;
	while (!c->draining && !uv_is_closing((uv_handle_t *)&c->pipe) &&
	       (nl = memchr(c->buf + start, '\n', c->len - start)) != NULL) {
		size_t n = (size_t)(nl - (c->buf + start));
		on_line(c, c->buf + start, n);
		start += n + 1;
	}
	memmove(c->buf, c->buf + start, c->len - start);
	c->len -= start;
	if (c->len == sizeof c->buf && !c->draining &&
	    !uv_is_closing((uv_handle_t *)&c->pipe)) {
		c->ctl->stats.lines_too_long++;
		c->len = 0;
		rn_ctl_req *req = req_push(c);
		if (!req) {
			close_client(c);
			return;
		}
		rn_ctl_reply(req, error_reply("request line too long (over %d "
		                              "bytes)",
		                              RN_CTL_LINE_MAX));
		start_draining(c);
	}
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	client *c = h->data;
	(void)suggested;
	buf->base = c->buf + c->len;
	buf->len = sizeof c->buf - c->len;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	client *c = s->data;
	(void)buf;
	if (nread < 0) { /* UV_EOF: the client is gone */
		close_client(c);
		return;
	}
	c->len += (size_t)nread;
	take_lines(c);
}

/* ---- connections -------------------------------------------------------- */

static void handle_closed(rn_ctl *ctl)
{
	ctl->handles_open--;
	if (ctl->closing && ctl->handles_open == 0) {
		void (*done)(void *) = ctl->done;
		void *arg = ctl->done_arg;
		free(ctl);
		if (done)
			done(arg);
	}
}

static void on_client_closed(uv_handle_t *h)
{
	client *c = h->data;
	rn_ctl *ctl = c->ctl;
	free(c);
	handle_closed(ctl);
}

static void close_client(client *c)
{
	if (uv_is_closing((uv_handle_t *)&c->pipe))
		return;
	rn_ctl *ctl = c->ctl;
	if (c->served) {
		if (c->prev)
			c->prev->next = c->next;
		else
			ctl->clients = c->next;
		if (c->next)
			c->next->prev = c->prev;
		c->served = 0;
		ctl->stats.clients_open--;
	}
	rn_ctl_req *r = c->head;
	while (r) {
		rn_ctl_req *next = r->next;
		if (r->line) {
			free(r->line);
			free(r);
		} else {
			r->owner = NULL;
			r->next = NULL;
			ctl->stats.replies_dropped++;
		}
		r = next;
	}
	c->head = c->tail = NULL;
	c->pending_n = 0;
	uv_close((uv_handle_t *)&c->pipe, on_client_closed);
}

/* One error line, best effort without queueing, then close. */
static void refuse(client *c)
{
	size_t len;
	char *line = encode_line(error_reply("too many control connections "
	                                     "(max %d)",
	                                     RN_CTL_CLIENTS_MAX),
	                         &len);
	if (line) {
		uv_buf_t b = uv_buf_init(line, (unsigned)len);
		(void)uv_try_write((uv_stream_t *)&c->pipe, &b, 1);
		free(line);
	}
	close_client(c);
}

static void on_connection(uv_stream_t *server, int status)
{
	rn_ctl *ctl = server->data;
	if (status < 0)
		return;
	/* Without a handle to accept into, libuv stops accepting until one
	 * is accepted; with no memory for 4 KiB there is little else to do. */
	client *c = calloc(1, sizeof *c);
	if (!c)
		return;
	c->ctl = ctl;
	uv_pipe_init(ctl->loop, &c->pipe, 0);
	c->pipe.data = c;
	ctl->handles_open++;
	if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0) {
		close_client(c);
		return;
	}
	if (ctl->stats.clients_open >= RN_CTL_CLIENTS_MAX) {
		ctl->stats.clients_refused++;
		refuse(c);
		return;
	}
	c->served = 1;
	c->next = ctl->clients;
	if (ctl->clients)
		ctl->clients->prev = c;
	ctl->clients = c;
	ctl->stats.clients_open++;
	ctl->stats.clients_accepted++;
	if (uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read) < 0)
		close_client(c);
}

/* ---- opening and closing ------------------------------------------------ */

static int make_parent_dir(const char *path, char *err, size_t errlen)
{
	const char *slash = strrchr(path, '/');
	if (!slash || slash == path)
		return 0;
	size_t n = (size_t)(slash - path);
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	memcpy(dir, path, n);
	dir[n] = '\0';
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		set_err(err, errlen, "cannot create directory %s: %s", dir,
		        strerror(errno));
		return RN_ERR_IO;
	}
	return 0;
}

static void fill_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, strlen(path) + 1);
}

/* Whatever is at path must be a socket nobody accepts on; remove it. */
static int clear_stale(const char *path, char *err, size_t errlen)
{
	struct stat st;
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return RN_ERR_IO;
	}
	if (!S_ISSOCK(st.st_mode)) {
		set_err(err, errlen, "%s exists and is not a socket", path);
		return RN_ERR_STATE;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		set_err(err, errlen, "socket: %s", strerror(errno));
		return RN_ERR_IO;
	}
	struct sockaddr_un sa;
	fill_addr(&sa, path);
	int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
	int e = errno;
	close(fd);
	if (rc == 0 || e == EAGAIN) { /* EAGAIN: alive, backlog full */
		set_err(err, errlen, "another ringnetd is running at %s", path);
		return RN_ERR_STATE;
	}
	if (e != ECONNREFUSED) {
		set_err(err, errlen, "cannot probe %s: %s", path, strerror(e));
		return RN_ERR_IO;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		set_err(err, errlen, "cannot remove stale socket %s: %s", path,
		        strerror(errno));
		return RN_ERR_IO;
	}
	return 0;
}

/* A socket bound at path, mode 0600 from birth (umask) and after (chmod). */
static int bind_socket(const char *path, int *fd_out, char *err, size_t errlen)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		set_err(err, errlen, "socket: %s", strerror(errno));
		return RN_ERR_IO;
	}
	struct sockaddr_un sa;
	fill_addr(&sa, path);
	mode_t old = umask(077);
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	int e = errno;
	umask(old);
	if (rc < 0) {
		close(fd);
		set_err(err, errlen, "cannot bind %s: %s", path, strerror(e));
		return RN_ERR_IO;
	}
	if (chmod(path, 0600) < 0) {
		e = errno;
		close(fd);
		unlink(path);
		set_err(err, errlen, "cannot chmod %s: %s", path, strerror(e));
		return RN_ERR_IO;
	}
	*fd_out = fd;
	return 0;
}

static void ignore_sigpipe(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL);
}

static void on_listener_closed(uv_handle_t *h)
{
	handle_closed(h->data);
}

int rn_ctl_open(rn_ctl **out, uv_loop_t *loop, const char *path,
                rn_ctl_handler handler, void *ud, char *err, size_t errlen)
{
	*out = NULL;
	size_t path_len = path ? strlen(path) : 0;
	if (!loop || !handler || path_len == 0) {
		set_err(err, errlen, "no control socket path");
		return RN_ERR_INVAL;
	}
	if (path_len >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		set_err(err, errlen,
		        "control socket path too long (max %zu "
		        "bytes): %s",
		        sizeof(((struct sockaddr_un *)0)->sun_path) - 1, path);
		return RN_ERR_INVAL;
	}
	int rc, fd;
	if ((rc = make_parent_dir(path, err, errlen)) < 0 ||
	    (rc = clear_stale(path, err, errlen)) < 0 ||
	    (rc = bind_socket(path, &fd, err, errlen)) < 0)
		return rc;
	rn_ctl *ctl = calloc(1, sizeof *ctl + path_len + 1);
	if (!ctl) {
		close(fd);
		unlink(path);
		set_err(err, errlen, "out of memory");
		return RN_ERR_NOMEM;
	}
	memcpy(ctl->path, path, path_len + 1);
	ctl->loop = loop;
	ctl->handler = handler;
	ctl->ud = ud;
	uv_pipe_init(loop, &ctl->listener, 0);
	ctl->listener.data = ctl;
	ctl->handles_open = 1;
	if ((rc = uv_pipe_open(&ctl->listener, fd)) < 0)
		close(fd);
	else
		rc = uv_listen((uv_stream_t *)&ctl->listener,
		               RN_CTL_BACKLOG_MAX, on_connection);
	if (rc < 0) {
		set_err(err, errlen, "cannot listen on %s: %s", path,
		        uv_strerror(rc));
		rn_ctl_close(ctl, NULL, NULL); /* freed on the loop */
		return RN_ERR_IO;
	}
	ignore_sigpipe();
	*out = ctl;
	return 0;
}

void rn_ctl_get_stats(const rn_ctl *c, rn_ctl_stats *out)
{
	*out = c->stats;
}

void rn_ctl_close(rn_ctl *c, void (*done)(void *arg), void *arg)
{
	if (c->closing)
		return;
	c->closing = 1;
	c->done = done;
	c->done_arg = arg;
	unlink(c->path);
	while (c->clients)
		close_client(c->clients);
	uv_close((uv_handle_t *)&c->listener, on_listener_closed);
}
