/* Tests of the control socket: daemon/ctl.c on a real libuv loop and a real
 * Unix socket in a mkdtemp directory, daemon/ctl_client.c on a thread.
 *
 * The main thread owns the loop: run_client() starts a client thread and
 * runs the loop until the thread says it is done (uv_async_send); the
 * thread touches only sockets and its own job struct, which the main
 * thread reads after pthread_join. spin() runs the loop until a condition
 * holds, with a 5 ms tick so that it also wakes for things that are not
 * loop events, and gives up after a deadline.
 *
 * The handler answers "status" at once, defers "ping" by 10 ms per count
 * on a uv_timer, or holds ping requests (hold_pings) for the test to answer
 * by hand. Every test ends with rn_ctl_close(), checks that the socket file
 * is gone and that uv_loop_close() returns 0 (no handle left).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/ctl.h"
#include "daemon/ctl_client.h"

#define HELD_MAX        16
#define CALLS_MAX       20
#define CALL_TIMEOUT_MS 5000

typedef struct fixture {
	uv_loop_t loop;
	uv_async_t wake;
	uv_timer_t tick;
	char dir[64];
	char rundir[96];
	char path[128];
	rn_ctl *ctl;
	int closed;
	int thread_done;
	int statuses;
	int hold_pings;
	rn_ctl_req *held[HELD_MAX];
	size_t held_n;
} fixture;

typedef struct deferred {
	uv_timer_t timer;
	rn_ctl_req *req;
} deferred;

/* ---- the server side -------------------------------------------------- */

static void on_deferred_closed(uv_handle_t *h)
{
	free(h->data);
}

static void on_deferred(uv_timer_t *t)
{
	deferred *d = t->data;
	rn_ctl_reply(d->req, json_pack("{s:b, s:s}", "ok", 1, "pong", "yes"));
	uv_close((uv_handle_t *)t, on_deferred_closed);
}

static void handler(void *ud, rn_ctl_req *req, const json_t *msg)
{
	fixture *f = ud;
	const char *cmd = json_string_value(json_object_get(msg, "cmd"));
	if (strcmp(cmd, "status") == 0) {
		rn_ctl_reply(req, json_pack("{s:b, s:s, s:i}", "ok", 1, "id",
		                            "abc", "n", ++f->statuses));
	} else if (strcmp(cmd, "ping") == 0 && f->hold_pings) {
		assert_true(f->held_n < HELD_MAX);
		f->held[f->held_n++] = req;
	} else if (strcmp(cmd, "ping") == 0) {
		deferred *d = calloc(1, sizeof *d);
		assert_non_null(d);
		d->req = req;
		uv_timer_init(&f->loop, &d->timer);
		d->timer.data = d;
		json_int_t count =
		    json_integer_value(json_object_get(msg, "count"));
		uv_timer_start(&d->timer, on_deferred, 10 * (uint64_t)count, 0);
	} else {
		rn_ctl_reply(req, json_pack("{s:b, s:s}", "ok", 0, "error",
		                            "unknown command"));
	}
}

static void on_closed(void *arg)
{
	((fixture *)arg)->closed = 1;
}

static void on_wake(uv_async_t *a)
{
	((fixture *)a->data)->thread_done = 1;
}

static void on_tick(uv_timer_t *t)
{
	(void)t;
}

static int spin(fixture *f, int (*cond)(fixture *f), uint64_t max_ms)
{
	uv_update_time(&f->loop);
	uint64_t end = uv_now(&f->loop) + max_ms;
	uv_timer_start(&f->tick, on_tick, 5, 5);
	int ok;
	while (!(ok = cond(f)) && uv_now(&f->loop) < end)
		uv_run(&f->loop, UV_RUN_ONCE);
	uv_timer_stop(&f->tick);
	return ok;
}

static rn_ctl_stats stats_of(fixture *f)
{
	rn_ctl_stats s;
	rn_ctl_get_stats(f->ctl, &s);
	return s;
}

static int is_closed(fixture *f)
{
	return f->closed;
}

static int no_clients(fixture *f)
{
	return stats_of(f).clients_open == 0;
}

static int one_client(fixture *f)
{
	return stats_of(f).clients_open == 1 && f->statuses == 1;
}

static void open_ctl(fixture *f)
{
	char err[256];
	f->closed = 0;
	int rc = rn_ctl_open(&f->ctl, &f->loop, f->path, handler, f, err,
	                     sizeof err);
	if (rc != 0)
		fail_msg("rn_ctl_open: %s", err);
}

static void close_ctl(fixture *f)
{
	if (!f->ctl)
		return;
	rn_ctl_close(f->ctl, on_closed, f);
	assert_true(spin(f, is_closed, 5000));
	f->ctl = NULL;
	assert_int_equal(access(f->path, F_OK), -1);
	assert_int_equal(errno, ENOENT);
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	uv_async_init(&f->loop, &f->wake, on_wake);
	f->wake.data = f;
	uv_timer_init(&f->loop, &f->tick);
	snprintf(f->dir, sizeof f->dir, "/tmp/rn-ctl-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->rundir, sizeof f->rundir, "%s/run", f->dir);
	snprintf(f->path, sizeof f->path, "%s/ringnetd.sock", f->rundir);
	open_ctl(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	close_ctl(f);
	uv_close((uv_handle_t *)&f->wake, NULL);
	uv_close((uv_handle_t *)&f->tick, NULL);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	unlink(f->path);
	rmdir(f->rundir);
	assert_int_equal(rmdir(f->dir), 0);
	free(f);
	return 0;
}

/* ---- the client side -------------------------------------------------- */

typedef struct job {
	fixture *f;
	void (*fn)(struct job *j);
	int rc[CALLS_MAX];
	json_t *reply[CALLS_MAX];
	char text[CALLS_MAX][512]; /* raw lines or error text */
	int n;
} job;

static void *thread_main(void *arg)
{
	job *j = arg;
	j->fn(j);
	uv_async_send(&j->f->wake);
	return NULL;
}

static void run_client(fixture *f, job *j)
{
	pthread_t t;
	j->f = f;
	f->thread_done = 0;
	assert_int_equal(pthread_create(&t, NULL, thread_main, j), 0);
	while (!f->thread_done)
		uv_run(&f->loop, UV_RUN_ONCE);
	assert_int_equal(pthread_join(t, NULL), 0);
}

static void job_free(job *j)
{
	for (int i = 0; i < CALLS_MAX; i++)
		json_decref(j->reply[i]);
}

static void fill_sun(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	size_t n = strlen(path);
	if (n >= sizeof sa->sun_path)
		n = sizeof sa->sun_path - 1;
	memcpy(sa->sun_path, path, n);
}

static int raw_connect(const char *path)
{
	struct sockaddr_un sa;
	fill_sun(&sa, path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int raw_send(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t k = send(fd, s, n, MSG_NOSIGNAL);
		if (k <= 0)
			return -1;
		s += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Read one line (without '\n') into out; the length, 0 at EOF, -errno. */
static ssize_t raw_line(int fd, char *out, size_t outlen)
{
	size_t n = 0;
	while (n + 1 < outlen) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, CALL_TIMEOUT_MS) != 1)
			return -ETIMEDOUT;
		ssize_t k = read(fd, out + n, 1);
		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		if (out[n] == '\n')
			break;
		n++;
	}
	out[n] = '\0';
	return (ssize_t)n;
}

static const char *reply_str(const json_t *r, const char *key)
{
	return json_string_value(json_object_get(r, key));
}

/* ---- tests ------------------------------------------------------------ */

static void call_status(job *j)
{
	json_t *req = json_pack("{s:s}", "cmd", "status");
	j->rc[0] = rn_ctl_call(j->f->path, req, &j->reply[0], CALL_TIMEOUT_MS,
	                       j->text[0], sizeof j->text[0]);
	json_decref(req);
}

static void test_status_reply(void **state)
{
	fixture *f = *state;
	job j = {.fn = call_status};
	run_client(f, &j);
	assert_int_equal(j.rc[0], 0);
	assert_true(json_is_true(json_object_get(j.reply[0], "ok")));
	assert_string_equal(reply_str(j.reply[0], "id"), "abc");
	assert_int_equal(stats_of(f).requests, 1);
	job_free(&j);
}

/* A deferred ping, then a status answered at once: replies in order. */
static void pipeline(job *j)
{
	rn_ctl_conn *c;
	j->rc[0] = rn_ctl_conn_open(&c, j->f->path, CALL_TIMEOUT_MS, j->text[0],
	                            sizeof j->text[0]);
	if (j->rc[0] < 0)
		return;
	json_t *ping = json_pack("{s:s, s:s, s:i}", "cmd", "ping", "target",
	                         "10.1.0.6", "count", 3);
	json_t *status = json_pack("{s:s}", "cmd", "status");
	j->rc[1] = rn_ctl_conn_send(c, ping, CALL_TIMEOUT_MS, NULL, 0);
	j->rc[2] = rn_ctl_conn_send(c, status, CALL_TIMEOUT_MS, NULL, 0);
	j->rc[3] = rn_ctl_conn_recv(c, &j->reply[0], CALL_TIMEOUT_MS, NULL, 0);
	j->rc[4] = rn_ctl_conn_recv(c, &j->reply[1], CALL_TIMEOUT_MS, NULL, 0);
	j->rc[5] =
	    rn_ctl_conn_call(c, status, &j->reply[2], CALL_TIMEOUT_MS, NULL, 0);
	json_decref(ping);
	json_decref(status);
	rn_ctl_conn_free(c);
}

static void test_two_requests_in_order(void **state)
{
	fixture *f = *state;
	job j = {.fn = pipeline};
	run_client(f, &j);
	for (int i = 0; i < 6; i++)
		assert_int_equal(j.rc[i], 0);
	assert_string_equal(reply_str(j.reply[0], "pong"), "yes");
	assert_string_equal(reply_str(j.reply[1], "id"), "abc");
	assert_int_equal(json_integer_value(json_object_get(j.reply[2], "n")),
	                 2);
	job_free(&j);
}

static void bad_lines(job *j)
{
	static const char lines[] = "{nope\n"
	                            "[1,2]\n"
	                            "{\"cmd\":7}\n"
	                            "\n"
	                            "{\"cmd\":\"status\"}\n";
	int fd = raw_connect(j->f->path);
	j->rc[0] = fd < 0 ? -1 : raw_send(fd, lines, sizeof lines - 1);
	for (int i = 0; i < 4 && fd >= 0; i++)
		j->rc[1 + i] = (int)raw_line(fd, j->text[i], sizeof j->text[i]);
	if (fd >= 0)
		close(fd);
}

static void test_invalid_json(void **state)
{
	fixture *f = *state;
	job j = {.fn = bad_lines};
	run_client(f, &j);
	assert_int_equal(j.rc[0], 0);
	for (int i = 0; i < 3; i++) {
		assert_true(j.rc[1 + i] > 0);
		json_t *r = json_loads(j.text[i], 0, NULL);
		assert_non_null(r);
		assert_true(json_is_false(json_object_get(r, "ok")));
		assert_non_null(reply_str(r, "error"));
		json_decref(r);
	}
	/* The blank line is skipped; the connection still works. */
	assert_non_null(strstr(j.text[3], "\"id\":\"abc\""));
	rn_ctl_stats s = stats_of(f);
	assert_int_equal(s.requests_bad, 3);
	assert_int_equal(s.requests, 1);
}

static void long_line(job *j)
{
	size_t n = RN_CTL_LINE_MAX + 904;
	char *big = malloc(n + 1);
	memset(big, 'x', n);
	big[n] = '\n';
	int fd = raw_connect(j->f->path);
	j->rc[0] = fd < 0 ? -1 : raw_send(fd, big, n + 1);
	free(big);
	if (fd < 0)
		return;
	j->rc[1] = (int)raw_line(fd, j->text[0], sizeof j->text[0]);
	j->rc[2] = (int)raw_line(fd, j->text[1], sizeof j->text[1]);
	close(fd);
}

static void test_overlong_line(void **state)
{
	fixture *f = *state;
	job j = {.fn = long_line};
	run_client(f, &j);
	assert_int_equal(j.rc[0], 0);
	assert_true(j.rc[1] > 0);
	assert_non_null(strstr(j.text[0], "too long"));
	/* Then the server closes: EOF, or a reset for the unread bytes. */
	assert_true(j.rc[2] == 0 || j.rc[2] == -ECONNRESET);
	assert_true(spin(f, no_clients, 5000));
	assert_int_equal(stats_of(f).lines_too_long, 1);
	assert_int_equal(stats_of(f).requests, 0);
}

static void test_socket_mode(void **state)
{
	fixture *f = *state;
	struct stat st;
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(f->rundir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
}

static void test_second_server_refused(void **state)
{
	fixture *f = *state;
	rn_ctl *second = NULL;
	char err[256] = "";
	int rc = rn_ctl_open(&second, &f->loop, f->path, handler, f, err,
	                     sizeof err);
	assert_true(rc < 0);
	assert_null(second);
	assert_non_null(strstr(err, "another ringnetd is running at"));
	/* The first server still answers. */
	job j = {.fn = call_status};
	run_client(f, &j);
	assert_int_equal(j.rc[0], 0);
	job_free(&j);
}

static void test_stale_socket_replaced(void **state)
{
	fixture *f = *state;
	close_ctl(f);
	/* A socket file nobody listens on, as a crashed daemon leaves it. */
	struct sockaddr_un sa;
	fill_sun(&sa, f->path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	close(fd);
	assert_int_equal(access(f->path, F_OK), 0);
	open_ctl(f);
	job j = {.fn = call_status};
	run_client(f, &j);
	assert_int_equal(j.rc[0], 0);
	job_free(&j);
}

static void test_not_a_socket_refused(void **state)
{
	fixture *f = *state;
	close_ctl(f);
	FILE *file = fopen(f->path, "w");
	assert_non_null(file);
	fclose(file);
	char err[256] = "";
	assert_true(rn_ctl_open(&f->ctl, &f->loop, f->path, handler, f, err,
	                        sizeof err) < 0);
	assert_null(f->ctl);
	assert_non_null(strstr(err, "not a socket"));
	assert_int_equal(unlink(f->path), 0);
}

static void ping_and_hang_up(job *j)
{
	rn_ctl_conn *c;
	j->rc[0] = rn_ctl_conn_open(&c, j->f->path, CALL_TIMEOUT_MS, NULL, 0);
	if (j->rc[0] < 0)
		return;
	json_t *ping = json_pack("{s:s, s:s, s:i}", "cmd", "ping", "target",
	                         "10.1.0.6", "count", 1);
	j->rc[1] = rn_ctl_conn_send(c, ping, CALL_TIMEOUT_MS, NULL, 0);
	json_decref(ping);
	rn_ctl_conn_free(c);
}

static int held_one_and_no_clients(fixture *f)
{
	return f->held_n == 1 && no_clients(f);
}

static void test_disconnect_before_deferred_reply(void **state)
{
	fixture *f = *state;
	f->hold_pings = 1;
	job j = {.fn = ping_and_hang_up};
	run_client(f, &j);
	assert_int_equal(j.rc[0], 0);
	assert_int_equal(j.rc[1], 0);
	assert_true(spin(f, held_one_and_no_clients, 5000));
	assert_true(rn_ctl_req_gone(f->held[0]));
	assert_int_equal(stats_of(f).replies_dropped, 1);
	/* The late reply is dropped; the request is freed (ASan checks). */
	rn_ctl_reply(f->held[0], json_pack("{s:b}", "ok", 1));
	uv_run(&f->loop, UV_RUN_NOWAIT);
}

static void test_close_with_request_held(void **state)
{
	fixture *f = *state;
	f->hold_pings = 1;
	int fd = raw_connect(f->path);
	assert_true(fd >= 0);
	static const char ping[] = "{\"cmd\":\"ping\",\"target\":\"10.1.0.6\","
	                           "\"count\":1}\n";
	assert_int_equal(raw_send(fd, ping, sizeof ping - 1), 0);
	static const char status[] = "{\"cmd\":\"status\"}\n";
	assert_int_equal(raw_send(fd, status, sizeof status - 1), 0);
	assert_true(spin(f, one_client, 5000));
	assert_int_equal(f->held_n, 1);
	assert_false(rn_ctl_req_gone(f->held[0]));
	/* Close the server while the ping waits, and the status reply waits
	 * behind it: the request outlives the server. */
	close_ctl(f);
	assert_true(rn_ctl_req_gone(f->held[0]));
	rn_ctl_reply(f->held[0], NULL);
	close(fd);
}

static int eight_held_and_no_clients(fixture *f)
{
	return f->held_n == RN_CTL_PENDING_MAX && no_clients(f);
}

static void test_pending_overflow(void **state)
{
	fixture *f = *state;
	f->hold_pings = 1;
	int fd = raw_connect(f->path);
	assert_true(fd >= 0);
	static const char ping[] = "{\"cmd\":\"ping\",\"target\":\"10.1.0.6\","
	                           "\"count\":1}\n";
	for (int i = 0; i < RN_CTL_PENDING_MAX + 1; i++)
		assert_int_equal(raw_send(fd, ping, sizeof ping - 1), 0);
	assert_true(spin(f, eight_held_and_no_clients, 5000));
	rn_ctl_stats s = stats_of(f);
	assert_int_equal(s.pending_overflow, 1);
	assert_int_equal(s.replies_dropped, RN_CTL_PENDING_MAX);
	for (size_t i = 0; i < f->held_n; i++) {
		assert_true(rn_ctl_req_gone(f->held[i]));
		rn_ctl_reply(f->held[i], NULL);
	}
	close(fd);
}

static void many_clients(job *j)
{
	rn_ctl_conn *c[RN_CTL_CLIENTS_MAX + 1] = {0};
	json_t *status = json_pack("{s:s}", "cmd", "status");
	for (int i = 0; i <= RN_CTL_CLIENTS_MAX; i++) {
		j->rc[i] = rn_ctl_conn_open(&c[i], j->f->path, CALL_TIMEOUT_MS,
		                            j->text[i], sizeof j->text[i]);
		if (j->rc[i] == 0)
			j->rc[i] = rn_ctl_conn_call(c[i], status, &j->reply[i],
			                            CALL_TIMEOUT_MS, j->text[i],
			                            sizeof j->text[i]);
	}
	for (int i = 0; i <= RN_CTL_CLIENTS_MAX; i++)
		rn_ctl_conn_free(c[i]);
	json_decref(status);
}

static void test_clients_beyond_max_refused(void **state)
{
	fixture *f = *state;
	job j = {.fn = many_clients};
	run_client(f, &j);
	for (int i = 0; i < RN_CTL_CLIENTS_MAX; i++) {
		assert_int_equal(j.rc[i], 0);
		assert_true(json_is_true(json_object_get(j.reply[i], "ok")));
	}
	int extra = RN_CTL_CLIENTS_MAX;
	assert_int_equal(j.rc[extra], 0);
	assert_true(json_is_false(json_object_get(j.reply[extra], "ok")));
	assert_non_null(strstr(reply_str(j.reply[extra], "error"), "too many"));
	rn_ctl_stats s = stats_of(f);
	assert_int_equal(s.clients_refused, 1);
	assert_int_equal(s.clients_accepted, RN_CTL_CLIENTS_MAX);
	job_free(&j);
	/* Once the server has seen the others go, there is room again. */
	assert_true(spin(f, no_clients, 5000));
	job again = {.fn = call_status};
	run_client(f, &again);
	assert_int_equal(again.rc[0], 0);
	assert_true(json_is_true(json_object_get(again.reply[0], "ok")));
	assert_int_equal(stats_of(f).clients_accepted, RN_CTL_CLIENTS_MAX + 1);
	job_free(&again);
}

static void test_close_leaves_nothing(void **state)
{
	fixture *f = *state;
	int fd = raw_connect(f->path);
	assert_true(fd >= 0);
	static const char status[] = "{\"cmd\":\"status\"}\n";
	assert_int_equal(raw_send(fd, status, sizeof status - 1), 0);
	assert_true(spin(f, one_client, 5000));
	/* close_ctl checks done(), the unlinked path; teardown checks that
	 * uv_loop_close() finds no handle. */
	close_ctl(f);
	char line[256];
	assert_true(raw_line(fd, line, sizeof line) > 0);
	assert_int_equal(raw_line(fd, line, sizeof line), 0);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_status_reply, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_requests_in_order, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_invalid_json, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_overlong_line, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_socket_mode, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_second_server_refused, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_stale_socket_replaced, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_not_a_socket_refused, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(
	        test_disconnect_before_deferred_reply, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_with_request_held, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_pending_overflow, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_clients_beyond_max_refused,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_leaves_nothing, setup,
	                                    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
