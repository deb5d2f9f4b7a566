/* Unit tests for daemon/config.c: ringnetd's configuration file.
 *
 * Each case writes a small file into a fresh mkdtemp directory, loads it
 * and checks either the fields or the one-line error: that it names the
 * file and the right line ("FILE:LINE: ") and says what is wrong. Every
 * error path of config.c has a case here. The files are removed at the end
 * of each case, the directory by the group teardown.
 */
#include "test_util.h"

#include <sys/stat.h>
#include <unistd.h>

#include "core/env.h"
#include "daemon/config.h"

#define NAME_MAX_LEN 64

typedef struct fixture {
	char dir[64];
	char path[128]; /* the file of the current case */
} fixture;

static fixture fx;

static int group_setup(void **state)
{
	(void)state;
	snprintf(fx.dir, sizeof fx.dir, "/tmp/rn_test_config_XXXXXX");
	return mkdtemp(fx.dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	return rmdir(fx.dir);
}

/* Writes text as DIR/ringnetd.conf; returns the path. */
static const char *write_conf(const char *text)
{
	snprintf(fx.path, sizeof fx.path, "%s/ringnetd.conf", fx.dir);
	FILE *f = fopen(fx.path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return fx.path;
}

static void remove_conf(void)
{
	unlink(fx.path);
}

#define REQUIRED                                                               \
	"group = group.pub\n"                                                  \
	"key = node.key\n"                                                     \
	"cert = node.cert\n"

/* Loads text and expects an error starting "PATH:line: " and containing
 * want. */
static void expect_error(const char *text, unsigned line, const char *want)
{
	rn_config c;
	char err[512], prefix[256];
	const char *path = write_conf(text);
	assert_int_equal(rn_config_load(path, &c, err, sizeof err), -1);
	snprintf(prefix, sizeof prefix, "%s:%u: ", path, line);
	if (strncmp(err, prefix, strlen(prefix)) || !strstr(err, want))
		fail_msg("got '%s', want prefix '%s' and '%s'", err, prefix,
		         want);
	assert_null(strchr(err, '\n'));
	remove_conf();
}

static void load_ok(const char *text, rn_config *c)
{
	char err[512] = "";
	int r = rn_config_load(write_conf(text), c, err, sizeof err);
	if (r)
		fail_msg("unexpected error: %s", err);
	remove_conf();
}

static void test_defaults(void **state)
{
	(void)state;
	rn_config c;
	rn_config_default(&c);
	assert_string_equal(c.listen_addr, "::");
	assert_int_equal(c.listen_port, 7400);
	assert_int_equal(c.n_bootstrap, 0);
	assert_string_equal(c.control_path, "/run/ringnet/ringnetd.sock");
	assert_int_equal(c.log_level, RN_LOG_INFO);
	assert_string_equal(c.group_path, "");
	assert_int_equal(c.dht_ttl_s, 3600);
}

static void test_full_file(void **state)
{
	(void)state;
	rn_config c;
	char want[256];
	load_ok("; a comment\n"
	        "# another\n"
	        "[node]\n"
	        "listen = [::1]:7401\n"
	        "  group = group.pub   ; indented, with a comment\n"
	        "key = /etc/ringnet/node.key\n"
	        "cert = certs/node.cert\n"
	        "control = /tmp/rn.sock\n"
	        "log_level = DEBUG\n"
	        "\n"
	        "[bootstrap]\n"
	        "peer = seed1.example.org:7400\n"
	        "peer = 192.0.2.7:7400, [2001:db8::7]:7401\n"
	        "peer=a.example:1 b.example:65535\n",
	        &c);
	assert_string_equal(c.listen_addr, "::1");
	assert_int_equal(c.listen_port, 7401);
	snprintf(want, sizeof want, "%s/group.pub", fx.dir);
	assert_string_equal(c.group_path, want);
	assert_string_equal(c.key_path, "/etc/ringnet/node.key");
	snprintf(want, sizeof want, "%s/certs/node.cert", fx.dir);
	assert_string_equal(c.cert_path, want);
	assert_string_equal(c.control_path, "/tmp/rn.sock");
	assert_int_equal(c.log_level, RN_LOG_DEBUG);
	assert_int_equal(c.n_bootstrap, 5);
	assert_string_equal(c.bootstrap[0], "seed1.example.org:7400");
	assert_string_equal(c.bootstrap[1], "192.0.2.7:7400");
	assert_string_equal(c.bootstrap[2], "[2001:db8::7]:7401");
	assert_string_equal(c.bootstrap[3], "a.example:1");
	assert_string_equal(c.bootstrap[4], "b.example:65535");
}

static void test_minimal_file_keeps_defaults(void **state)
{
	(void)state;
	rn_config c;
	load_ok("[node]\n" REQUIRED, &c);
	assert_string_equal(c.listen_addr, "::");
	assert_int_equal(c.listen_port, 7400);
	assert_int_equal(c.n_bootstrap, 0);
	assert_string_equal(c.control_path, "/run/ringnet/ringnetd.sock");
	assert_int_equal(c.log_level, RN_LOG_INFO);
}

static void test_listen_forms(void **state)
{
	(void)state;
	rn_config c;
	load_ok("[node]\nlisten = 9000\n" REQUIRED, &c);
	assert_string_equal(c.listen_addr, "::");
	assert_int_equal(c.listen_port, 9000);
	load_ok("[node]\nlisten = 0.0.0.0:7400\n" REQUIRED, &c);
	assert_string_equal(c.listen_addr, "0.0.0.0");
	assert_int_equal(c.listen_port, 7400);
	load_ok("[node]\nlisten = 192.0.2.1:1\n" REQUIRED, &c);
	assert_string_equal(c.listen_addr, "192.0.2.1");
	assert_int_equal(c.listen_port, 1);
	load_ok("[node]\nlisten = [::]:65535\n" REQUIRED, &c);
	assert_string_equal(c.listen_addr, "::");
	assert_int_equal(c.listen_port, 65535);
}

static void test_bad_listen(void **state)
{
	(void)state;
	expect_error("[node]\nlisten = 0\n" REQUIRED, 2, "out of range");
	expect_error("[node]\nlisten = 65536\n" REQUIRED, 2, "out of range");
	expect_error("[node]\nlisten = 99999999\n" REQUIRED, 2,
	             "is not a number");
	expect_error("[node]\nlisten = seven\n" REQUIRED, 2, "missing ':PORT'");
	expect_error("[node]\nlisten = 0.0.0.0:x\n" REQUIRED, 2,
	             "port 'x' is not a number");
	expect_error("[node]\nlisten = ::1:7400\n" REQUIRED, 2,
	             "must be in brackets");
	expect_error("[node]\nlisten = host.example:7400\n" REQUIRED, 2,
	             "not a numeric IPv4 or IPv6 address");
	expect_error("[node]\nlisten = [::1]\n" REQUIRED, 2,
	             "expected ':PORT' after ']'");
	expect_error("[node]\nlisten = [::1:7400\n" REQUIRED, 2, "missing ']'");
	expect_error("[node]\nlisten = [1.2.3.4]:7400\n" REQUIRED, 2,
	             "not an IPv6 address");
	expect_error("[node]\nlisten = :7400\n" REQUIRED, 2, "empty host");
}

static void test_unknown_section(void **state)
{
	(void)state;
	expect_error("[node]\n" REQUIRED "[peers]\npeer = a:1\n", 6,
	             "unknown section [peers]; the sections are [node], "
	             "[bootstrap], [tun] and [nat]");
}

static void test_tun(void **state)
{
	(void)state;
	rn_config c;
	load_ok("[node]\n" REQUIRED, &c);
	assert_string_equal(c.tun_device, "rn0");
	assert_int_equal(c.tun_mtu, 1420);
	assert_int_equal(c.tun_prefix_len, 0);
	load_ok("[node]\n" REQUIRED "[tun]\ndevice = none\n", &c);
	assert_string_equal(c.tun_device, "");
	load_ok("[node]\n" REQUIRED "[tun]\ndevice = vpn%d\nmtu = 1280\n"
	        "prefix = 10.77.0.0/16\nmulticast = yes\nmss_clamp = yes\n",
	        &c);
	assert_int_equal(c.tun_mss_clamp, 1);
	assert_int_equal(c.tun_offload, 1);
	assert_string_equal(c.tun_device, "vpn%d");
	assert_int_equal(c.tun_mtu, 1280);
	assert_int_equal(c.tun_prefix_len, 16);
	assert_int_equal(c.tun_prefix[0], 10);
	assert_int_equal(c.tun_prefix[1], 77);
	assert_int_equal(c.tun_multicast, 1);
	assert_int_equal(c.tun_busy_poll_us, 0);
	assert_int_equal(c.tun_shortcut, 64);
	load_ok("[node]\n" REQUIRED
	        "[tun]\noffload = no\nbusy_poll = 50\nshortcut = 0\n",
	        &c);
	assert_int_equal(c.tun_offload, 0);
	assert_int_equal(c.tun_busy_poll_us, 50);
	assert_int_equal(c.tun_shortcut, 0);
	expect_error("[node]\n" REQUIRED "[tun]\nmtu = 1279\n", 6, "bad mtu");
	expect_error("[node]\n" REQUIRED "[tun]\nmtu = 1444\n", 6, "bad mtu");
	expect_error("[node]\n" REQUIRED "[tun]\nprefix = 10.77.0.1/16\n", 6,
	             "no host bits");
	expect_error("[node]\n" REQUIRED "[tun]\nprefix = 10.77.0.0/31\n", 6,
	             "bad prefix");
	expect_error("[node]\n" REQUIRED "[tun]\ndevice = a/b\n", 6,
	             "bad device");
	expect_error("[node]\n" REQUIRED "[tun]\ndevice = abcdefghijklmnop\n",
	             6, "bad device");
	expect_error("[node]\n" REQUIRED "[tun]\nmtux = 1\n", 6,
	             "unknown key 'mtux' in [tun]; the keys are device, mtu, "
	             "prefix, multicast, mss_clamp, offload, busy_poll and "
	             "shortcut");
	expect_error("[node]\n" REQUIRED "[tun]\nshortcut = 65536\n", 6,
	             "bad shortcut '65536': give packets a second");
	expect_error("[node]\n" REQUIRED "[tun]\nbusy_poll = 10001\n", 6,
	             "bad busy_poll");
	expect_error("[node]\n" REQUIRED "[tun]\nbusy_poll = -1\n", 6,
	             "bad busy_poll");
	expect_error("[node]\n" REQUIRED "[tun]\nmss_clamp = 1\n", 6,
	             "bad mss_clamp '1': write yes or no");
}

static void test_unknown_keys(void **state)
{
	(void)state;
	expect_error("[node]\n" REQUIRED "port = 7400\n", 5,
	             "unknown key 'port' in [node]; the keys are");
	expect_error("[node]\n" REQUIRED "[bootstrap]\nnode = a:1\n", 6,
	             "unknown key 'node' in [bootstrap]; the only key is peer");
	expect_error("listen = 7400\n[node]\n" REQUIRED, 1,
	             "outside any section");
}

static void test_empty_value(void **state)
{
	(void)state;
	expect_error("[node]\n" REQUIRED "control =\n", 5,
	             "empty value for 'control'");
	expect_error("[node]\n" REQUIRED "[bootstrap]\npeer = ; none\n", 6,
	             "empty value for 'peer'");
}

static void test_duplicate_key(void **state)
{
	(void)state;
	expect_error("[node]\n" REQUIRED "\nkey = other.key\n", 6,
	             "duplicate key 'key' in [node] (first set on line 3)");
	expect_error("[node]\nlisten = 1\n" REQUIRED "[node]\nlisten = 2\n", 7,
	             "duplicate key 'listen'");
}

static void test_bad_log_level(void **state)
{
	(void)state;
	expect_error("[node]\n" REQUIRED "log_level = verbose\n", 5,
	             "unknown log_level 'verbose'; use error, warn, info");
	assert_int_equal(rn_config_log_level_parse("trace"), RN_LOG_TRACE);
	assert_int_equal(rn_config_log_level_parse("Error"), RN_LOG_ERROR);
	assert_int_equal(rn_config_log_level_parse("warning"), -1);
}

static void test_dht_ttl(void **state)
{
	(void)state;
	rn_config c;
	load_ok("[node]\n" REQUIRED "dht_ttl = 60\n", &c);
	assert_int_equal(c.dht_ttl_s, 60);
	load_ok("[node]\n" REQUIRED "dht_ttl = 86400\n", &c);
	assert_int_equal(c.dht_ttl_s, 86400);
	expect_error("[node]\n" REQUIRED "dht_ttl = 59\n", 5,
	             "bad dht_ttl '59': give whole seconds from 60 to 86400");
	expect_error("[node]\n" REQUIRED "dht_ttl = 86401\n", 5,
	             "bad dht_ttl '86401'");
	expect_error("[node]\n" REQUIRED "dht_ttl = 1h\n", 5,
	             "bad dht_ttl '1h'");
	expect_error("[node]\n" REQUIRED "dht_ttl = 99999999999\n", 5,
	             "bad dht_ttl");
}

static void test_bad_peer(void **state)
{
	(void)state;
	expect_error("[node]\n" REQUIRED "[bootstrap]\npeer = a:1, b\n", 6,
	             "bad bootstrap peer 'b': missing ':PORT'");
	expect_error("[node]\n" REQUIRED "[bootstrap]\npeer = a:0\n", 6,
	             "out of range");
	expect_error("[node]\n" REQUIRED "[bootstrap]\npeer = fe80::1:7400\n",
	             6, "must be in brackets");
	expect_error("[node]\n" REQUIRED "[bootstrap]\npeer = a/b:7400\n", 6,
	             "not a host name or IPv4 address");
}

static void test_too_many_peers(void **state)
{
	(void)state;
	char text[2048];
	int n =
	    snprintf(text, sizeof text, "[node]\n" REQUIRED "[bootstrap]\n");
	for (int i = 0; i < RN_CONFIG_BOOTSTRAP_MAX; i++)
		n += snprintf(text + n, sizeof text - (size_t)n,
		              "peer = p%d.example:7400\n", i);
	rn_config c;
	load_ok(text, &c);
	assert_int_equal(c.n_bootstrap, RN_CONFIG_BOOTSTRAP_MAX);
	snprintf(text + n, sizeof text - (size_t)n, "peer = one.more:7400\n");
	expect_error(text, 5 + RN_CONFIG_BOOTSTRAP_MAX + 1,
	             "more than 16 bootstrap peers; keep at most 16");
}

static void test_missing_required(void **state)
{
	(void)state;
	expect_error("# comment\n[node]\nkey = k\ncert = c\n", 2,
	             "missing key group in [node]; add a line such as "
	             "'group = /etc/ringnet/group.pub'");
	expect_error("[node]\ngroup = g\ncert = c\n", 1,
	             "missing key key in [node]");
	expect_error("[node]\ngroup = g\nkey = k\n", 1,
	             "missing key cert in [node]");
	expect_error("[bootstrap]\npeer = a:1\n", 0,
	             "missing key group in [node]");
}

static void test_syntax_error(void **state)
{
	(void)state;
	expect_error("[node]\n" REQUIRED "listen 7400\n", 5, "syntax error");
	expect_error("[node\n" REQUIRED, 1, "syntax error");
	/* the earlier of a syntax error and a meaning error is reported */
	expect_error("[node]\n" REQUIRED "oops\nbogus = 1\n", 5,
	             "syntax error");
	expect_error("[node]\n" REQUIRED "bogus = 1\noops\n", 5,
	             "unknown key 'bogus'");
}

static void test_line_too_long(void **state)
{
	(void)state;
	char text[1024];
	char longpath[400];
	memset(longpath, 'a', sizeof longpath - 1);
	longpath[sizeof longpath - 1] = '\0';
	snprintf(text, sizeof text, "[node]\n" REQUIRED "control = /%s\n",
	         longpath);
	expect_error(text, 5, "line is longer than");
}

static void test_cannot_open(void **state)
{
	(void)state;
	rn_config c;
	char err[512], path[256], want[300];
	snprintf(path, sizeof path, "%s/no-such.conf", fx.dir);
	assert_int_equal(rn_config_load(path, &c, err, sizeof err), -1);
	snprintf(want, sizeof want,
	         "%s: cannot open: No such file or directory", path);
	assert_string_equal(err, want);
	/* a directory opens but does not read */
	assert_int_equal(rn_config_load(fx.dir, &c, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: cannot read: ", fx.dir);
	assert_memory_equal(err, want, strlen(want));
}

static void test_hostport_split(void **state)
{
	(void)state;
	char host[64], err[160];
	uint16_t port = 0;
	assert_int_equal(rn_hostport_split("example.org:7400", host,
	                                   sizeof host, &port, err, sizeof err),
	                 0);
	assert_string_equal(host, "example.org");
	assert_int_equal(port, 7400);
	assert_int_equal(rn_hostport_split("[fd00::1]:1", host, sizeof host,
	                                   &port, err, sizeof err),
	                 0);
	assert_string_equal(host, "fd00::1");
	assert_int_equal(port, 1);
	assert_int_equal(rn_hostport_split("1.2.3.4:65535", host, sizeof host,
	                                   &port, err, sizeof err),
	                 0);
	assert_string_equal(host, "1.2.3.4");
	assert_int_equal(port, 65535);
	assert_int_equal(
	    rn_hostport_split("abcdef:1", host, 4, &port, err, sizeof err), -1);
	assert_non_null(strstr(err, "longer than 3"));
	assert_int_equal(
	    rn_hostport_split("a:", host, sizeof host, &port, err, sizeof err),
	    -1);
	assert_non_null(strstr(err, "is not a number"));
	assert_int_equal(rn_hostport_split("a:-1", host, sizeof host, &port,
	                                   err, sizeof err),
	                 -1);
	assert_int_equal(rn_hostport_split("[]:1", host, sizeof host, &port,
	                                   err, sizeof err),
	                 -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_full_file),
	    cmocka_unit_test(test_minimal_file_keeps_defaults),
	    cmocka_unit_test(test_listen_forms),
	    cmocka_unit_test(test_bad_listen),
	    cmocka_unit_test(test_unknown_section),
	    cmocka_unit_test(test_tun),
	    cmocka_unit_test(test_unknown_keys),
	    cmocka_unit_test(test_empty_value),
	    cmocka_unit_test(test_duplicate_key),
	    cmocka_unit_test(test_bad_log_level),
	    cmocka_unit_test(test_dht_ttl),
	    cmocka_unit_test(test_bad_peer),
	    cmocka_unit_test(test_too_many_peers),
	    cmocka_unit_test(test_missing_required),
	    cmocka_unit_test(test_syntax_error),
	    cmocka_unit_test(test_line_too_long),
	    cmocka_unit_test(test_cannot_open),
	    cmocka_unit_test(test_hostport_split),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
