/* Tests of the daemon's resolution cache (daemon/resolve_cache.c) and of
 * the printing of `ringnet dht` and `ringnet resolve` (daemon/cli_dht.c).
 *
 * The cache is checked against its rules: found by address while the
 * member record's lease lasts, by name only while the name record's does
 * too, one entry per address, expired entries dropped, and a full cache
 * of live entries refusing (and counting) the new one. The printers get
 * canned replies in the daemon's shapes, as test_cli_status.c does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "daemon/cli_dht.h"
#include "daemon/resolve_cache.h"

static rn_resolved entry(uint8_t last, const char *name, uint64_t expires,
                         uint64_t name_expires)
{
	rn_resolved r;
	memset(&r, 0, sizeof r);
	r.vip_len = 4;
	r.vip[0] = 10;
	r.vip[3] = last;
	snprintf(r.name, sizeof r.name, "%s", name);
	r.node_pk[0] = last;
	r.eps.n = 1;
	r.eps.kind[0] = RN_MEMBER_EP_LOCAL;
	r.eps.ep[0].port = 7400;
	r.expires_ms = expires;
	r.name_expires_ms = name_expires;
	return r;
}

static void test_lookup_by_vip_and_name(void **state)
{
	(void)state;
	static rn_resolve_cache c;
	rn_resolve_cache_init(&c);
	rn_resolved a = entry(1, "alice", 5000, 4000);
	rn_resolved b = entry(2, "bob", 5000, 0); /* reached by address */
	assert_int_equal(rn_resolve_cache_put(&c, &a, 1000), 0);
	assert_int_equal(rn_resolve_cache_put(&c, &b, 1000), 0);
	const rn_resolved *r = rn_resolve_cache_by_vip(&c, a.vip, 4, 1000);
	assert_non_null(r);
	assert_string_equal(r->name, "alice");
	r = rn_resolve_cache_by_name(&c, "alice", 1000);
	assert_non_null(r);
	assert_int_equal(r->vip[3], 1);
	/* bob came by address: his name leads nowhere yet */
	assert_null(rn_resolve_cache_by_name(&c, "bob", 1000));
	assert_non_null(rn_resolve_cache_by_vip(&c, b.vip, 4, 1000));
	/* the name lease ends before the member record's */
	assert_null(rn_resolve_cache_by_name(&c, "alice", 4000));
	assert_non_null(rn_resolve_cache_by_vip(&c, a.vip, 4, 4000));
	assert_int_equal(c.stats.hits, 4);
	assert_int_equal(c.stats.misses, 2);
	/* a 16-byte address with the same first bytes is another key */
	assert_null(rn_resolve_cache_by_vip(&c, a.vip, 16, 1000));
}

static void test_expiry(void **state)
{
	(void)state;
	static rn_resolve_cache c;
	rn_resolve_cache_init(&c);
	rn_resolved a = entry(1, "alice", 5000, 5000);
	assert_int_equal(rn_resolve_cache_put(&c, &a, 1000), 0);
	assert_null(rn_resolve_cache_by_vip(&c, a.vip, 4, 5000));
	assert_int_equal(c.n, 0);
	assert_int_equal(c.stats.expired, 1);
	/* an entry already over, or malformed, is not taken */
	assert_int_equal(rn_resolve_cache_put(&c, &a, 5000), RN_ERR_INVAL);
	a.vip_len = 5;
	assert_int_equal(rn_resolve_cache_put(&c, &a, 1000), RN_ERR_INVAL);
}

static void test_replace_keeps_name_lease(void **state)
{
	(void)state;
	static rn_resolve_cache c;
	rn_resolve_cache_init(&c);
	rn_resolved a = entry(1, "alice", 5000, 4000);
	rn_resolved a2 = entry(1, "alice", 9000, 0); /* resolved by address */
	a2.eps.ep[0].port = 7401;
	assert_int_equal(rn_resolve_cache_put(&c, &a, 1000), 0);
	assert_int_equal(rn_resolve_cache_put(&c, &a2, 2000), 0);
	assert_int_equal(c.n, 1);
	const rn_resolved *r = rn_resolve_cache_by_name(&c, "alice", 3000);
	assert_non_null(r);
	assert_int_equal(r->eps.ep[0].port, 7401);
	assert_int_equal(r->expires_ms, 9000);
	/* another name for the address: the old name lease does not carry */
	rn_resolved a3 = entry(1, "alicia", 9000, 0);
	assert_int_equal(rn_resolve_cache_put(&c, &a3, 3000), 0);
	assert_null(rn_resolve_cache_by_name(&c, "alice", 3000));
	assert_null(rn_resolve_cache_by_name(&c, "alicia", 3000));
}

static void test_overflow_dropped_and_counted(void **state)
{
	(void)state;
	static rn_resolve_cache c;
	rn_resolve_cache_init(&c);
	for (unsigned i = 0; i < RN_RESOLVE_CACHE_MAX; i++) {
		rn_resolved r = entry(0, "m", 10000 + i, 0);
		r.vip[1] = (uint8_t)(i >> 8);
		r.vip[2] = (uint8_t)i;
		assert_int_equal(rn_resolve_cache_put(&c, &r, 1000), 0);
	}
	rn_resolved extra = entry(0, "x", 20000, 0);
	extra.vip[1] = 0xff;
	assert_int_equal(rn_resolve_cache_put(&c, &extra, 1000), RN_ERR_FULL);
	assert_int_equal(c.stats.overflow, 1);
	assert_int_equal(c.n, RN_RESOLVE_CACHE_MAX);
	/* once the first lease is over there is room again */
	assert_int_equal(rn_resolve_cache_put(&c, &extra, 10000), 0);
	assert_int_equal(c.stats.expired, 1);
	assert_non_null(rn_resolve_cache_by_vip(&c, extra.vip, 4, 10000));
}

/* ---- printing ------------------------------------------------------------ */

static char *render_dht(json_t *reply, int hex)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	assert_non_null(out);
	rn_cli_print_dht(out, reply, hex);
	assert_int_equal(fclose(out), 0);
	json_decref(reply);
	return text;
}

static json_t *value(const char *text, const char *hex, const char *name,
                     const char *vip, int lease)
{
	return json_pack("{s:s?,s:s,s:{s:s,s:s,s:s},s:i,s:s}", "value", text,
	                 "value_hex", hex, "writer", "name", name, "vip", vip,
	                 "node_pk", "AAAA", "lease_s", lease, "flags",
	                 "replace");
}

static void test_print_get(void **state)
{
	(void)state;
	json_t *vals = json_pack(
	    "[o,o]", value("hello", "68656c6c6f", "alice", "10.1.0.5", 3599),
	    value(NULL, "00ff", "bob\x1b[2J", "10.1.0.17", 42));
	json_t *r = json_pack("{s:b,s:s,s:s,s:s,s:o}", "ok", 1, "op", "get",
	                      "ns", "app", "key", "k", "values", vals);
	char *t = render_dht(r, 0);
	assert_string_equal(t, "WRITER   VIP         LEASE  VALUE\n"
	                       "alice    10.1.0.5   59m59s  hello\n"
	                       "bob?[2J  10.1.0.17     42s  0x00ff\n");
	free(t);
	vals = json_pack(
	    "[o]", value("hello", "68656c6c6f", "alice", "10.1.0.5", 3599));
	r = json_pack("{s:b,s:s,s:s,s:s,s:o}", "ok", 1, "op", "get", "ns",
	              "app", "key", "k", "values", vals);
	t = render_dht(r, 1);
	assert_non_null(strstr(t, "59m59s  68656c6c6f\n"));
	free(t);
}

static void test_print_writes(void **state)
{
	(void)state;
	char *t =
	    render_dht(json_pack("{s:b,s:s,s:s,s:s,s:i}", "ok", 1, "op", "put",
	                         "ns", "app", "key", "k", "lease_s", 3600),
	               0);
	assert_string_equal(t, "stored app/k, lease 1h00m\n");
	free(t);
	t = render_dht(json_pack("{s:b,s:s,s:s,s:s}", "ok", 1, "op", "remove",
	                         "ns", "app", "key", "k"),
	               0);
	assert_string_equal(t, "removed app/k\n");
	free(t);
}

static void test_print_resolve(void **state)
{
	(void)state;
	json_t *r = json_pack(
	    "{s:b,s:s,s:s,s:s,s:s,s:[{s:s,s:s},{s:s,s:s}],s:i,s:b}", "ok", 1,
	    "vip", "10.1.0.7", "name", "bob", "id", "ab12", "node_pk",
	    "PK=", "endpoints", "kind", "local", "endpoint", "192.0.2.7:7400",
	    "kind", "reflexive", "endpoint", "198.51.100.7:41822", "lease_s",
	    61, "cached", 1);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	rn_cli_print_resolve(out, r);
	fclose(out);
	json_decref(r);
	assert_string_equal(text, "vip:        10.1.0.7\n"
	                          "name:       bob\n"
	                          "id:         ab12\n"
	                          "node key:   PK=\n"
	                          "endpoints:  192.0.2.7:7400 (local)\n"
	                          "            198.51.100.7:41822 (reflexive)\n"
	                          "lease:      1m01s\n"
	                          "cached:     yes\n");
	free(text);
}

/* Usage errors come before any socket: exit 2 with no daemon. */
static void test_usage_errors(void **state)
{
	(void)state;
	char *bad_ns[] = {"dht", "put", "Bad", "k", "v", NULL};
	char *no_value[] = {"dht", "create", "app", "k", NULL};
	char *bad_ttl[] = {"dht", "put", "--ttl", "0", "app", "k", "v", NULL};
	char *bad_op[] = {"dht", "frob", "app", "k", NULL};
	char *bad_target[] = {"resolve", "no such", NULL};
	char *help[] = {"dht", "--help", NULL};
	assert_int_equal(rn_cli_dht(5, bad_ns), 2);
	assert_int_equal(rn_cli_dht(4, no_value), 2);
	assert_int_equal(rn_cli_dht(7, bad_ttl), 2);
	assert_int_equal(rn_cli_dht(4, bad_op), 2);
	assert_int_equal(rn_cli_resolve(2, bad_target), 2);
	assert_int_equal(rn_cli_dht(2, help), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lookup_by_vip_and_name),
	    cmocka_unit_test(test_expiry),
	    cmocka_unit_test(test_replace_keeps_name_lease),
	    cmocka_unit_test(test_overflow_dropped_and_counted),
	    cmocka_unit_test(test_print_get),
	    cmocka_unit_test(test_print_writes),
	    cmocka_unit_test(test_print_resolve),
	    cmocka_unit_test(test_usage_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
