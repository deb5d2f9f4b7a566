/* Tests of `ringnet status|peers|ring|ping` (daemon/cli_status.c).
 *
 * The formatters are fed canned replies, built here with jansson in the
 * shapes ringnetd sends, and their text is captured with open_memstream;
 * the checks are on what a person reads (values, abbreviations, column
 * alignment, ring order). The commands themselves are run for their exit
 * codes: help, usage errors, and a daemon that is not there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/cli_status.h"
#include "daemon/ctl.h"

#define ID_A  "3f2a9c1b7d4e5f60718293a4b5c6d7e8f9012345"
#define ID_B  "4c5d6e7f80911a2b3c4d5e6f708192a3b4c5d6e7"
#define ID_C  "2b3c4d5e6f70a1b2c3d4e5f60718293a4b5c6d7e"
#define ID_D  "1a2b3c4d5e6f0718293a4b5c6d7e8f9012345678"
#define ID_E  "5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f80"
#define GROUP "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b"

/* What print writes for reply (consumed); free() the result. */
static char *render(void (*print)(FILE *, const json_t *), json_t *reply)
{
	assert_non_null(reply);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	assert_non_null(out);
	print(out, reply);
	assert_int_equal(fclose(out), 0);
	json_decref(reply);
	return text;
}

/* The line of text that starts with prefix, as a new string. */
static char *line_of(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);
	for (const char *p = text; *p;) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len >= n && strncmp(p, prefix, n) == 0) {
			char *line = malloc(len + 1);
			memcpy(line, p, len);
			line[len] = '\0';
			return line;
		}
		p += len + (end ? 1 : 0);
	}
	fail_msg("no line starts with '%s' in:\n%s", prefix, text);
	return NULL;
}

static void assert_line(const char *text, const char *prefix, const char *whole)
{
	char *line = line_of(text, prefix);
	assert_string_equal(line, whole);
	free(line);
}

static void test_status(void **state)
{
	(void)state;
	json_t *reply = json_pack(
	    "{s:b, s:s, s:s, s:s, s:s, s:s, s:s, s:i,"
	    " s:{s:i, s:i, s:i, s:i, s:i}, s:s, s:n, s:s,"
	    " s:{s:i, s:i, s:i, s:i}}",
	    "ok", 1, "id", ID_A, "vip", "10.1.0.5", "name", "alice", "group",
	    GROUP, "state", "joined", "listen", "[::]:7400", "uptime_s", 123,
	    "links", "total", 7, "up", 6, "near", 4, "far", 3, "pending", 1,
	    "succ", ID_B, "pred", "nat", "cone", "stats", "tx_pkts", 1234,
	    "tx_bytes", 5 * 1024 * 1024 + 300, "rx_pkts", 7, "drop_decode", 0);
	char *text = render(rn_cli_print_status, reply);
	assert_line(text, "id:", "id:      " ID_A);
	assert_line(text, "name:", "name:    alice");
	assert_line(text, "vip:", "vip:     10.1.0.5");
	assert_line(text, "group:", "group:   " GROUP);
	assert_line(text, "state:", "state:   joined");
	assert_line(text, "listen:", "listen:  [::]:7400");
	assert_line(text, "uptime:", "uptime:  2m03s");
	assert_line(
	    text, "links:", "links:   7 total, 6 up, 4 near, 3 far, 1 pending");
	assert_line(text, "succ:", "succ:    " ID_B);
	assert_line(text, "pred:", "pred:    (none)");
	assert_line(text, "nat:", "nat:     cone"); /* a field added later */
	assert_line(text, "stats:", "stats:");
	assert_line(text, "  tx_pkts", "  tx_pkts         1234");
	assert_line(text, "  tx_bytes", "  tx_bytes     5243180  (5.0 MiB)");
	assert_line(text, "  drop_decode", "  drop_decode        0");
	assert_null(strstr(text, "ok:"));
	free(text);
}

/* sec and driver print as groups of the counters that are not 0, with
 * the group's prefix dropped; an unknown counter lands in "other"; long
 * groups wrap under their values; a block of zeros says so. */
static void test_status_counter_blocks(void **state)
{
	(void)state;
	json_t *reply = json_pack(
	    "{s:b, s:{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i},"
	    " s:{s:i, s:i, s:i}}",
	    "ok", 1, "sec", "hs_init_sent", 3, "hs_resp_sent", 2, "hs_init_ok",
	    2, "hs_resp_ok", 3, "hs_other_group", 4, "hs_bad_sig", 0, "data_ok",
	    1234, "data_replay", 5, "data_auth_fail", 0, "hs_future", 7,
	    "driver", "send_eagain", 0, "send_errors", 0, "recv_errors", 0);
	char *text = render(rn_cli_print_status, reply);
	assert_line(text, "security:", "security:");
	assert_line(text, "  handshakes:",
	            "  handshakes:  init_sent 3, resp_sent 2, init_ok 2, "
	            "resp_ok 3");
	assert_line(text, "  refused:", "  refused:     other_group 4");
	assert_line(text, "  data:", "  data:        ok 1234, replay 5");
	assert_line(text, "  other:", "  other:       hs_future 7");
	assert_null(strstr(text, "bad_sig"));
	assert_null(strstr(text, "auth_fail"));
	assert_null(strstr(text, "sec:"));
	assert_null(strstr(text, "{"));
	assert_line(text, "driver:", "driver:");
	assert_line(text, "  (all", "  (all counters 0)");
	free(text);

	/* Many large counters: the line wraps, aligned under the values. */
	reply = json_pack(
	    "{s:b, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}}", "ok", 1, "sec",
	    "hs_init_sent", (json_int_t)4000000000, "hs_resp_sent",
	    (json_int_t)4000000001, "hs_init_ok", (json_int_t)4000000002,
	    "hs_resp_ok", (json_int_t)4000000003, "hs_cookie_sent",
	    (json_int_t)4000000004, "hs_rekeys", (json_int_t)4000000005,
	    "hs_expired_sess", (json_int_t)4000000006);
	text = render(rn_cli_print_status, reply);
	assert_line(
	    text, "  handshakes:",
	    "  handshakes:  init_sent 4000000000, resp_sent 4000000001, "
	    "init_ok 4000000002,");
	assert_line(
	    text, "               resp_ok",
	    "               resp_ok 4000000003, cookie_sent 4000000004, "
	    "rekeys 4000000005,");
	assert_line(text, "               expired",
	            "               expired_sess 4000000006");
	assert_null(strstr(text, "driver:"));
	free(text);
}

static json_t *peer(const char *id, const char *kind, const char *state,
                    const char *endpoint, int rtt_ms, json_int_t tx,
                    json_int_t rx, int age_s, const char *name, const char *vip)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:i, s:I, s:I, s:i, s:s?, s:s?}",
	                 "id", id, "kind", kind, "state", state, "endpoint",
	                 endpoint, "rtt_ms", rtt_ms, "tx_bytes", tx, "rx_bytes",
	                 rx, "age_s", age_s, "name", name, "vip", vip);
}

static void test_peers_table(void **state)
{
	(void)state;
	json_t *reply =
	    json_pack("{s:b, s:[o, o]}", "ok", 1, "peers",
	              peer(ID_B, "near", "up", "203.0.113.5:7400", 12, 1536,
	                   3 * 1024 * 1024, 4000, "bob", "10.1.0.6"),
	              peer(ID_C, "near+far", "pending", "[2001:db8::1]:7400",
	                   345, 10, 0, 5, NULL, NULL));
	char *text = render(rn_cli_print_peers, reply);
	char *head = line_of(text, "ID");
	char *bob = line_of(text, "4c5d6e7f8091  ");
	char *anon = line_of(text, "2b3c4d5e6f70  ");
	assert_null(strstr(text, ID_B)); /* ids abbreviated to 12 digits */
	/* Left-aligned columns start where their heading starts... */
	size_t ep = (size_t)(strstr(head, "ENDPOINT") - head);
	assert_string_equal(strstr(bob, "203.0.113.5"), bob + ep);
	assert_ptr_equal(strstr(anon, "[2001:db8::1]:7400"), anon + ep);
	size_t st = (size_t)(strstr(head, "STATE") - head);
	assert_ptr_equal(strstr(anon, "pending"), anon + st);
	/* ...numbers end where their heading ends. */
	size_t rtt_end = (size_t)(strstr(head, "RTT") - head) + 3;
	assert_memory_equal(bob + rtt_end - 5, "12 ms", 5);
	assert_memory_equal(anon + rtt_end - 6, "345 ms", 6);
	assert_non_null(strstr(bob, "1.5 KiB"));
	assert_non_null(strstr(bob, "3.0 MiB"));
	assert_non_null(strstr(bob, "1h06m"));
	assert_non_null(strstr(bob, "10.1.0.6"));
	assert_string_equal(bob + strlen(bob) - 5, "  bob"); /* no trailing */
	assert_string_equal(anon + strlen(anon) - 3, "  -");
	assert_non_null(strstr(anon, "10 B"));
	free(head);
	free(bob);
	free(anon);
	free(text);

	text = render(rn_cli_print_peers,
	              json_pack("{s:b, s:[]}", "ok", 1, "peers"));
	assert_string_equal(text, "no peers\n");
	free(text);
}

static void test_peer_name_cannot_drive_the_terminal(void **state)
{
	(void)state;
	json_t *reply = json_pack("{s:b, s:[o]}", "ok", 1, "peers",
	                          peer(ID_B, "far", "up", "192.0.2.1:7400", 1,
	                               0, 0, 0, "evil\x1b[2J\x07", NULL));
	char *text = render(rn_cli_print_peers, reply);
	assert_null(strchr(text, '\x1b'));
	assert_null(strchr(text, '\x07'));
	assert_non_null(strstr(text, "evil?[2J?"));
	free(text);
}

static json_t *nbr(const char *id, const char *endpoint, double rtt_ms)
{
	return json_pack("{s:s, s:s, s:f}", "id", id, "endpoint", endpoint,
	                 "rtt_ms", rtt_ms);
}

static void test_ring_in_ring_order(void **state)
{
	(void)state;
	/* Lists are nearest first: pred[0] = C is just below self A. */
	json_t *reply =
	    json_pack("{s:b, s:s, s:[o, o], s:[o, o]}", "ok", 1, "self", ID_A,
	              "pred", nbr(ID_C, "203.0.113.5:7400", 12.0),
	              nbr(ID_D, "198.51.100.7:7400", 41.5), "succ",
	              nbr(ID_B, "[2001:db8::1]:7400", 8.25),
	              nbr(ID_E, "192.0.2.9:7400", 3.0));
	char *text = render(rn_cli_print_ring, reply);
	const char *d = strstr(text, "pred-2  1a2b3c4d5e6f");
	const char *c = strstr(text, "pred-1  2b3c4d5e6f70");
	const char *a = strstr(text, "self    3f2a9c1b7d4e");
	const char *b = strstr(text, "succ+1  4c5d6e7f8091");
	const char *e = strstr(text, "succ+2  5d6e7f8091a2");
	assert_true(d && c && a && b && e);
	assert_true(d < c && c < a && a < b && b < e);
	assert_line(text, "ring around",
	            "ring around 3f2a9c1b7d4e, clockwise "
	            "(ids grow downwards):");
	assert_line(text, "  @", "  @  self    3f2a9c1b7d4e  (this node)");
	assert_line(text, "  o  pred-2",
	            "  o  pred-2  1a2b3c4d5e6f  198.51.100.7:7400   41.5 ms");
	assert_line(text, "  o  succ+1",
	            "  o  succ+1  4c5d6e7f8091  [2001:db8::1]:7400   8.2 ms");
	free(text);
}

static json_t *hop(const char *id, double rtt_ms)
{
	return json_pack("{s:s, s:f}", "id", id, "rtt_ms", rtt_ms);
}

static void test_ping_summary(void **state)
{
	(void)state;
	json_t *reply = json_pack(
	    "{s:b, s:s, s:[{s:i, s:f, s:[o, o]}, {s:i, s:f, s:[]}], s:i}", "ok",
	    1, "target", ID_B, "replies", "seq", 1, "rtt_ms", 3.2, "hops",
	    hop(ID_C, 1.1), hop(ID_B, 3.2), "seq", 3, "rtt_ms", 5.0, "hops",
	    "lost", 1);
	char *text = render(rn_cli_print_ping, reply);
	assert_line(text, "PING", "PING " ID_B " through the overlay");
	assert_line(text, "seq=1", "seq=1  rtt=3.2 ms  hops=2");
	assert_line(text, "    1", "    1  2b3c4d5e6f70  1.1 ms");
	assert_line(text, "    2", "    2  4c5d6e7f8091  3.2 ms");
	assert_line(text, "seq=3", "seq=3  rtt=5.0 ms  hops=0");
	assert_line(text, "---",
	            "--- 4c5d6e7f8091 ping: 3 sent, 2 received, 33% lost");
	assert_line(text, "rtt", "rtt min/avg/max = 3.2/4.1/5.0 ms");
	free(text);

	text = render(rn_cli_print_ping,
	              json_pack("{s:b, s:s, s:[], s:i}", "ok", 1, "target",
	                        ID_B, "replies", "lost", 2));
	assert_non_null(strstr(text, "2 sent, 0 received, 100% lost"));
	assert_null(strstr(text, "rtt min"));
	free(text);
}

/* The address lease and the port mapping each get a line. */
static void test_lease_and_nat(void **state)
{
	(void)state;
	json_t *reply = json_pack(
	    "{s:b, s:{s:s, s:s, s:i, s:i, s:i},"
	    " s:{s:s, s:s, s:s, s:i, s:i, s:i}}",
	    "ok", 1, "lease", "state", "held", "range", "10.1.0.0/16",
	    "attempt", 3, "conflicts", 1, "lost", 0, "portmap", "state",
	    "mapped", "method", "nat-pmp", "external", "100.128.0.2:7400",
	    "requests", 1, "mapped", 1, "failed", 0);
	char *text = render(rn_cli_print_status, reply);
	assert_line(text, "lease:", "lease:   held (claimed in 10.1.0.0/16)");
	assert_line(text, "nat:", "nat:     nat-pmp maps 100.128.0.2:7400");
	free(text);
	reply = json_pack("{s:b, s:{s:s, s:n}, s:{s:s, s:n}}", "ok", 1, "lease",
	                  "state", "held", "range", "portmap", "state",
	                  "waiting", "external");
	text = render(rn_cli_print_status, reply);
	assert_line(text, "lease:", "lease:   held (fixed address)");
	assert_line(text, "nat:", "nat:     no port mapping (waiting)");
	free(text);
	reply = json_pack("{s:b, s:n}", "ok", 1, "portmap");
	text = render(rn_cli_print_status, reply);
	assert_line(text, "nat:", "nat:     no port mapping ([nat] portmap = "
	                          "no, or a loopback socket)");
	assert_null(strstr(text, "lease:"));
	free(text);
}

static void test_missing_members_print_dashes(void **state)
{
	(void)state;
	char *text = render(rn_cli_print_status, json_pack("{s:b}", "ok", 1));
	assert_line(text, "id:", "id:      -");
	assert_line(text, "uptime:", "uptime:  -");
	assert_line(text, "links:", "links:   -");
	assert_null(strstr(text, "stats:"));
	assert_null(strstr(text, "security:"));
	assert_null(strstr(text, "driver:"));
	free(text);
	text = render(rn_cli_print_ring, json_pack("{s:b}", "ok", 1));
	assert_non_null(strstr(text, "@  self  -  (this node)"));
	free(text);
}

static void test_socket_path(void **state)
{
	(void)state;
	unsetenv("RINGNET_SOCKET");
	assert_string_equal(rn_cli_socket_path(NULL), RN_CTL_SOCKET_DEFAULT);
	setenv("RINGNET_SOCKET", "/tmp/env.sock", 1);
	assert_string_equal(rn_cli_socket_path(NULL), "/tmp/env.sock");
	assert_string_equal(rn_cli_socket_path("/tmp/opt.sock"),
	                    "/tmp/opt.sock");
	setenv("RINGNET_SOCKET", "", 1);
	assert_string_equal(rn_cli_socket_path(NULL), RN_CTL_SOCKET_DEFAULT);
	unsetenv("RINGNET_SOCKET");
}

#define RUN(fn, ...)                                                           \
	do {                                                                   \
		char *args_[] = {__VA_ARGS__};                                 \
		rc_ = fn((int)(sizeof args_ / sizeof args_[0]), args_);        \
	} while (0)

static void test_exit_codes(void **state)
{
	(void)state;
	int rc_;
	char status[] = "status", peers[] = "peers", ring[] = "ring",
	     ping[] = "ping";
	char help[] = "--help", h[] = "-h", bogus[] = "--bogus",
	     extra[] = "extra", c[] = "-c", zero[] = "0", three[] = "3",
	     s[] = "-s", nowhere[] = "/nonexistent/ringnetd.sock",
	     vip[] = "10.1.0.6", id[] = ID_B, name[] = "alice",
	     json[] = "--json";
	RUN(rn_cli_status, status, help);
	assert_int_equal(rc_, 0);
	RUN(rn_cli_ping, ping, h);
	assert_int_equal(rc_, 0);
	RUN(rn_cli_peers, peers, bogus);
	assert_int_equal(rc_, 2);
	RUN(rn_cli_ring, ring, extra);
	assert_int_equal(rc_, 2);
	RUN(rn_cli_ring, ring, c, three);
	assert_int_equal(rc_, 2); /* -c is ping's */
	RUN(rn_cli_ping, ping);
	assert_int_equal(rc_, 2);
	RUN(rn_cli_ping, ping, name);
	assert_int_equal(rc_, 2);
	RUN(rn_cli_ping, ping, c, zero, vip);
	assert_int_equal(rc_, 2);
	RUN(rn_cli_ping, ping, vip, extra);
	assert_int_equal(rc_, 2);
	RUN(rn_cli_status, status, s);
	assert_int_equal(rc_, 2);
	/* Well-formed, but nobody is listening there. */
	RUN(rn_cli_status, status, s, nowhere);
	assert_int_equal(rc_, 1);
	RUN(rn_cli_peers, peers, json, s, nowhere);
	assert_int_equal(rc_, 1);
	RUN(rn_cli_ping, ping, id, c, three, s, nowhere);
	assert_int_equal(rc_, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status),
	    cmocka_unit_test(test_status_counter_blocks),
	    cmocka_unit_test(test_peers_table),
	    cmocka_unit_test(test_peer_name_cannot_drive_the_terminal),
	    cmocka_unit_test(test_ring_in_ring_order),
	    cmocka_unit_test(test_ping_summary),
	    cmocka_unit_test(test_lease_and_nat),
	    cmocka_unit_test(test_missing_members_print_dashes),
	    cmocka_unit_test(test_socket_path),
	    cmocka_unit_test(test_exit_codes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
