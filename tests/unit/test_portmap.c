/* Unit tests for nat/portmap.c: the port mapping policy's states and
 * times, driven by hand as daemon/daemon_portmap.c drives it (one action
 * out at a time, answered with rn_portmap_done). */
#include "test_util.h"

#include "core/ep.h"
#include "nat/portmap.h"

#define S(x) RN_MS((uint64_t)(x) * 1000u)

static rn_portmap_settings settings(void)
{
	rn_portmap_settings s;
	rn_portmap_settings_default(&s);
	s.lifetime_s = 600;
	s.retry_ms = 30000;
	s.retry_max_ms = 120000;
	return s;
}

static rn_ep ext_ep(uint32_t a, uint16_t port)
{
	rn_ep e;
	rn_ep_from_ipv4(&e, a, port);
	return e;
}

static void test_map_and_renew(void **state)
{
	(void)state;
	rn_portmap pm;
	rn_portmap_settings s = settings();
	rn_time t = S(100), next;
	rn_ep e = ext_ep(0x64800002u, 7400), e2 = ext_ep(0x64800003u, 7400);
	rn_portmap_init(&pm, &s, 7400, t);
	assert_null(rn_portmap_ext(&pm, t));
	/* at once: MAP; then nothing until answered */
	assert_int_equal(rn_portmap_next(&pm, t, &next), RN_PORTMAP_MAP);
	assert_int_equal(pm.state, RN_PORTMAP_ASKING);
	assert_int_equal(rn_portmap_next(&pm, t, &next), RN_PORTMAP_NONE);
	assert_true(next == RN_TIME_NEVER);
	/* granted: changed, held, renewal due at half the lifetime */
	assert_int_equal(rn_portmap_done(&pm, t, 1, RN_PORTMAP_NATPMP, &e, 0), 1);
	assert_int_equal(pm.state, RN_PORTMAP_MAPPED);
	assert_non_null(rn_portmap_ext(&pm, t));
	assert_true(rn_ep_eq(rn_portmap_ext(&pm, t), &e));
	assert_int_equal(rn_portmap_next(&pm, t + S(299), &next),
	                 RN_PORTMAP_NONE);
	assert_true(next == t + S(300));
	/* the renewal, answered with the same endpoint: nothing changed */
	t += S(300);
	assert_int_equal(rn_portmap_next(&pm, t, &next), RN_PORTMAP_MAP);
	assert_int_equal(rn_portmap_done(&pm, t, 1, RN_PORTMAP_NATPMP, &e, 0), 0);
	/* the gateway's address moved: changed */
	t += S(300);
	assert_int_equal(rn_portmap_next(&pm, t, &next), RN_PORTMAP_MAP);
	assert_int_equal(rn_portmap_done(&pm, t, 1, RN_PORTMAP_NATPMP, &e2, 0),
	                 1);
	/* a lifetime granted shorter than asked is honoured */
	t += S(300);
	assert_int_equal(rn_portmap_next(&pm, t, &next), RN_PORTMAP_MAP);
	/* the same endpoint by another method: nothing to republish */
	assert_int_equal(rn_portmap_done(&pm, t, 1, RN_PORTMAP_UPNP, &e2, 60),
	                 0);
	assert_int_equal(pm.method, RN_PORTMAP_UPNP);
	assert_int_equal(rn_portmap_next(&pm, t + S(29), &next),
	                 RN_PORTMAP_NONE);
	assert_true(next == t + S(30));
	assert_int_equal(pm.st.requests, 4);
	assert_int_equal(pm.st.mapped, 4);
	assert_int_equal(pm.st.changed, 2);
}

static void test_failures_back_off(void **state)
{
	(void)state;
	rn_portmap pm;
	rn_portmap_settings s = settings();
	rn_time t = 0, next;
	rn_portmap_init(&pm, &s, 7400, t);
	uint64_t want[] = {30, 60, 120, 120, 120};
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(rn_portmap_next(&pm, t, &next), RN_PORTMAP_MAP);
		assert_int_equal(rn_portmap_done(&pm, t, 0, 0, NULL, 0), 0);
		assert_int_equal(pm.state, RN_PORTMAP_WAITING);
		assert_int_equal(rn_portmap_next(&pm, t, &next),
		                 RN_PORTMAP_NONE);
		assert_true(next == t + S(want[i]));
		t = next;
	}
	assert_int_equal(pm.st.failed, 5);
	/* success resets the wait */
	rn_ep e = ext_ep(0x64800002u, 7400);
	assert_int_equal(rn_portmap_next(&pm, t, &next), RN_PORTMAP_MAP);
	assert_int_equal(rn_portmap_done(&pm, t, 1, RN_PORTMAP_UPNP, &e, 0), 1);
	t += S(300);
	assert_int_equal(rn_portmap_next(&pm, t, &next), RN_PORTMAP_MAP);
	assert_int_equal(rn_portmap_done(&pm, t, 0, 0, NULL, 0), 0);
	assert_int_equal(rn_portmap_next(&pm, t, &next), RN_PORTMAP_NONE);
	assert_true(next == t + S(30));
	/* an answer that says ok without an endpoint is a failure */
	t = next;
	assert_int_equal(rn_portmap_next(&pm, t, &next), RN_PORTMAP_MAP);
	rn_ep zero;
	memset(&zero, 0, sizeof zero);
	assert_int_equal(rn_portmap_done(&pm, t, 1, RN_PORTMAP_UPNP, &zero, 0),
	                 0);
	assert_int_equal(pm.state, RN_PORTMAP_WAITING);
}

/* Renewals that fail until the lifetime ends: the mapping is lost then,
 * and the waits never overshoot its end. */
static void test_expiry(void **state)
{
	(void)state;
	rn_portmap pm;
	rn_portmap_settings s = settings();
	s.retry_ms = 400000; /* longer than what is left of the lifetime */
	s.retry_max_ms = 800000;
	rn_time t = 0, next;
	rn_ep e = ext_ep(0x64800002u, 7400);
	rn_portmap_init(&pm, &s, 7400, t);
	assert_int_equal(rn_portmap_next(&pm, t, &next), RN_PORTMAP_MAP);
	rn_portmap_done(&pm, t, 1, RN_PORTMAP_NATPMP, &e, 0);
	t = S(300);
	assert_int_equal(rn_portmap_next(&pm, t, &next), RN_PORTMAP_MAP);
	assert_int_equal(rn_portmap_done(&pm, t, 0, 0, NULL, 0), 0);
	assert_non_null(rn_portmap_ext(&pm, t)); /* still held */
	assert_int_equal(rn_portmap_next(&pm, t, &next), RN_PORTMAP_NONE);
	assert_true(next == S(600)); /* the end, not t + 200 s */
	t = next;
	assert_null(rn_portmap_ext(&pm, t));
	assert_int_equal(rn_portmap_take_lost(&pm), 0);
	assert_int_equal(rn_portmap_next(&pm, t, &next), RN_PORTMAP_MAP);
	assert_int_equal(pm.st.expired, 1);
	assert_int_equal(rn_portmap_take_lost(&pm), 1); /* once */
	assert_int_equal(rn_portmap_take_lost(&pm), 0);
	/* a new mapping after the loss is a change */
	assert_int_equal(rn_portmap_done(&pm, t, 1, RN_PORTMAP_NATPMP, &e, 0), 1);
}

static void test_stop(void **state)
{
	(void)state;
	rn_portmap pm;
	rn_portmap_settings s = settings();
	rn_time t = 0, next;
	rn_ep e = ext_ep(0x64800002u, 7400);
	/* nothing held: stopped at once */
	rn_portmap_init(&pm, &s, 7400, t);
	rn_portmap_stop(&pm, t);
	assert_int_equal(pm.state, RN_PORTMAP_STOPPED);
	assert_int_equal(rn_portmap_next(&pm, t, &next), RN_PORTMAP_NONE);
	/* held: one UNMAP, then stopped, and the answer says it went away */
	rn_portmap_init(&pm, &s, 7400, t);
	rn_portmap_next(&pm, t, &next);
	rn_portmap_done(&pm, t, 1, RN_PORTMAP_UPNP, &e, 0);
	rn_portmap_stop(&pm, t);
	assert_int_equal(pm.state, RN_PORTMAP_STOPPING);
	assert_int_equal(rn_portmap_next(&pm, t, &next), RN_PORTMAP_UNMAP);
	assert_int_equal(rn_portmap_next(&pm, t, &next), RN_PORTMAP_NONE);
	assert_int_equal(rn_portmap_done(&pm, t, 1, RN_PORTMAP_UPNP, NULL, 0),
	                 1);
	assert_int_equal(pm.state, RN_PORTMAP_STOPPED);
	assert_null(rn_portmap_ext(&pm, t));
	/* no methods: never asks */
	s.methods = 0;
	rn_portmap_init(&pm, &s, 7400, t);
	assert_int_equal(rn_portmap_next(&pm, t, &next), RN_PORTMAP_NONE);
	assert_string_equal(rn_portmap_state_name(pm.state), "stopped");
	assert_string_equal(rn_portmap_method_name(RN_PORTMAP_NATPMP),
	                    "nat-pmp");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_map_and_renew),
	    cmocka_unit_test(test_failures_back_off),
	    cmocka_unit_test(test_expiry),
	    cmocka_unit_test(test_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
