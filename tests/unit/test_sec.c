/* Unit tests for the link security layer (overlay/sec.c, overlay/hs.c)
 * through whole nodes in the fake environment with crypto real: members
 * of one group form a ring over authenticated, sealed links; certificates
 * of another group, expired, tampered or for another ring id are refused
 * before any link exists; replayed and altered datagrams are dropped and
 * counted; floods get cookies; sessions rekey.
 *
 * The group, node keys and certificates are made here with core/cert.h,
 * as `ringnet group new` / `member add` make them. */
#include "fake_env.h"

#include <sodium.h>
#include <stddef.h>

#include "core/cert.h"
#include "core/err.h"
#include "overlay/hs.h"

enum cert_kind { C_OK, C_OTHER_GROUP, C_EXPIRED, C_TAMPERED, C_OTHER_VIP };

typedef struct fx {
	fake_world *w;
	uint8_t group_sk[RN_SIGN_SK_LEN];
	rn_ident id[FAKE_NODES_MAX];
} fx;

static int setup(void **state)
{
	fx *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	f->w = fake_world_new(rn_test_seed());
	if (!f->w) {
		free(f);
		return -1;
	}
	if (fake_real_group(f->w, f->group_sk))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	uint64_t bad = f->w->bad_sends, ovf = f->w->sends_overflow;
	fake_world_free(f->w);
	free(f);
	if (bad || ovf) {
		print_error("bad sends %llu, overflows %llu [RN_TEST_SEED=%llu]\n",
			    (unsigned long long)bad, (unsigned long long)ovf,
			    (unsigned long long)rn_test_seed());
		return -1;
	}
	return 0;
}

static uint64_t unix_s(const fake_world *w)
{
	return (uint64_t)((int64_t)(w->now / 1000u) + w->sh.unix_offset_ms) / 1000u;
}

/* The other group of C_OTHER_GROUP certificates. */
static void other_group(uint8_t pk[RN_SIGN_PK_LEN], uint8_t sk[RN_SIGN_SK_LEN])
{
	uint8_t seed[RN_KEY_SEED_LEN];
	memset(seed, 0x47, sizeof seed);
	assert_int_equal(rn_group_keypair(pk, sk, seed), 0);
}

/* A certificate for node i (vip fake_vip(i)) of the given kind, and the
 * node key it binds, into f->id[i]. */
static void make_ident(fx *f, uint32_t i, int kind)
{
	fake_world *w = f->w;
	uint8_t seed[RN_KEY_SEED_LEN], pk[RN_SIGN_PK_LEN], sk[RN_SIGN_SK_LEN];
	uint8_t gsk[RN_SIGN_SK_LEN], gpk[RN_SIGN_PK_LEN];
	trng g;
	trng_init(&g, rn_test_seed() * 977u + i);
	trng_bytes(&g, seed, sizeof seed);
	assert_int_equal(rn_nodekey_keypair(pk, sk, seed), 0);
	memcpy(gsk, f->group_sk, sizeof gsk);
	if (kind == C_OTHER_GROUP)
		other_group(gpk, gsk);
	uint8_t vip[4];
	fake_vip(kind == C_OTHER_VIP ? i + 100 : i, vip);
	uint64_t t = unix_s(w);
	uint64_t nb = kind == C_EXPIRED ? t - 7200 : t - 60;
	uint64_t na = kind == C_EXPIRED ? t - 3600 : t + 86400;
	rn_cert c;
	uint8_t enc[RN_CERT_ENCODED_MAX];
	size_t len;
	assert_int_equal(rn_cert_issue(&c, gsk, pk, vip, 4, "member", nb, na), 0);
	assert_int_equal(rn_cert_encode(&c, enc, sizeof enc, &len), 0);
	if (kind == C_TAMPERED) {
		/* "member" -> "memcer": the signature no longer covers it */
		size_t k = 0;
		while (k + 6 <= len && memcmp(enc + k, "member", 6))
			k++;
		assert_true(k + 6 <= len);
		enc[k + 3] = 'c';
	}
	assert_int_equal(rn_ident_init(&f->id[i], sk, enc, len), 0);
}

static rn_node *add_member(fx *f, int kind)
{
	fake_world *w = f->w;
	uint32_t i = w->n_nodes;
	uint8_t group[32];
	memcpy(group, w->group, sizeof group);
	if (kind == C_OTHER_GROUP) {
		/* an outsider's id is in its own group's ring */
		uint8_t pk[RN_SIGN_PK_LEN], sk[RN_SIGN_SK_LEN];
		other_group(pk, sk);
		rn_group_id(w->group, pk);
	}
	rn_node *n = fake_add_node(w);
	memcpy(w->group, group, sizeof group);
	assert_non_null(n);
	make_ident(f, i, kind);
	if (kind == C_OTHER_VIP) {
		/* Its own certificate is refused locally... */
		assert_int_equal(rn_node_set_ident(n, &f->id[i]), RN_ERR_INVAL);
		/* ...so it shows a valid one first and swaps the bytes behind
		 * the node's back (the identity is held by reference). */
		rn_ident other = f->id[i];
		make_ident(f, i, C_OK);
		assert_int_equal(rn_node_set_ident(n, &f->id[i]), 0);
		f->id[i] = other;
	} else {
		assert_int_equal(rn_node_set_ident(n, &f->id[i]), 0);
	}
	return n;
}

static void join_via(fake_world *w, uint32_t i, uint32_t boot, int alone)
{
	assert_int_equal(rn_node_join(w->node[i], w->now, &w->ep[boot],
				      alone ? 0 : 1),
			 0);
}

static int has_link(const fake_world *w, uint32_t i, uint32_t peer)
{
	rn_link_info li[FAKE_NODES_MAX];
	size_t n = rn_node_links(w->node[i], li, FAKE_NODES_MAX);
	for (size_t k = 0; k < n && k < FAKE_NODES_MAX; k++)
		if (rn_ep_eq(&li[k].ep, &w->ep[peer]))
			return 1;
	return 0;
}

/* Members 0..n-1 in a ring, each joining through 0. */
static void ring_of(fx *f, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		add_member(f, C_OK);
		join_via(f->w, i, 0, i == 0);
		fake_pump(f->w, 3000);
	}
	fake_pump(f->w, 20000);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(rn_node_state(f->w->node[i]), RN_NODE_JOINED);
}

static void test_ring_forms_and_rekeys(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	w->settings.rekey_after_ms = 60000;
	ring_of(f, 5);
	for (uint32_t i = 0; i < 5; i++) {
		rn_id s, p;
		assert_non_null(rn_node_succ(w->node[i], &s));
		assert_non_null(rn_node_pred(w->node[i], &p));
		const rn_sec_stats *ss = rn_node_sec_stats(w->node[i]);
		assert_true(ss->data_ok > 0);
		assert_int_equal(ss->data_auth_fail, 0);
		assert_int_equal(ss->data_replay, 0);
	}
	/* peers' certificates are known: name and vip */
	rn_link_info li[8];
	size_t nl = rn_node_links(w->node[0], li, 8);
	assert_true(nl > 0);
	assert_string_equal(li[0].name, "member");
	assert_int_equal(li[0].vip_len, 4);
	/* ten minutes: every session is rekeyed several times, no link dies */
	uint32_t ok_before = rn_node_sec_stats(w->node[1])->data_ok;
	fake_pump(w, 600000);
	uint32_t rekeys = 0;
	for (uint32_t i = 0; i < 5; i++) {
		const rn_sec_stats *ss = rn_node_sec_stats(w->node[i]);
		rekeys += ss->hs_rekeys;
		assert_int_equal(ss->hs_expired_sess, 0);
		assert_int_equal(ss->data_auth_fail, 0);
		assert_int_equal(rn_node_get_stats(w->node[i])->links_dead, 0);
		assert_int_equal(rn_node_state(w->node[i]), RN_NODE_JOINED);
	}
	assert_true(rekeys >= 5 * 2 * 4); /* each link about every minute */
	assert_true(rn_node_sec_stats(w->node[1])->data_ok > ok_before);
}

/* Keys are also renewed by use: after rekey_after_msgs datagrams, by
 * whichever side sent them, long before the time limit. */
static void test_rekey_by_count(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	w->settings.rekey_after_msgs = 16;
	ring_of(f, 3);
	uint32_t before = 0;
	for (uint32_t i = 0; i < 3; i++)
		before += rn_node_sec_stats(w->node[i])->hs_rekeys;
	fake_pump(w, 300000); /* 5 min: the time limit (10 min) is not hit */
	uint32_t rekeys = 0;
	for (uint32_t i = 0; i < 3; i++) {
		const rn_sec_stats *ss = rn_node_sec_stats(w->node[i]);
		rekeys += ss->hs_rekeys;
		assert_int_equal(ss->hs_expired_sess, 0);
		assert_int_equal(ss->data_auth_fail, 0);
		assert_int_equal(rn_node_get_stats(w->node[i])->links_dead, 0);
		assert_int_equal(rn_node_state(w->node[i]), RN_NODE_JOINED);
	}
	assert_true(rekeys > before + 3);
}

/* A stranger with a bad certificate probes node 0 and is never linked. */
static void refused(void **state, int kind, size_t counter_off)
{
	fx *f = *state;
	fake_world *w = f->w;
	ring_of(f, 3);
	uint32_t bad = w->n_nodes;
	add_member(f, kind);
	join_via(w, bad, 0, 0);
	fake_pump(w, 30000);
	assert_int_equal(rn_node_state(w->node[bad]), RN_NODE_JOINING);
	for (uint32_t i = 0; i < bad; i++) {
		assert_false(has_link(w, i, bad));
		assert_false(has_link(w, bad, i));
	}
	const rn_sec_stats *ss = rn_node_sec_stats(w->node[0]);
	uint32_t c;
	memcpy(&c, (const uint8_t *)ss + counter_off, sizeof c);
	assert_true(c >= 2); /* its probe retries are refused each time */
	assert_int_equal(rn_node_link_count(w->node[bad]), 0);
}

static void test_refuses_other_group(void **state)
{
	refused(state, C_OTHER_GROUP, offsetof(rn_sec_stats, hs_other_group));
}

static void test_refuses_expired(void **state)
{
	refused(state, C_EXPIRED, offsetof(rn_sec_stats, hs_expired));
}

static void test_refuses_tampered(void **state)
{
	refused(state, C_TAMPERED, offsetof(rn_sec_stats, hs_bad_sig));
}

static void test_refuses_other_ring_id(void **state)
{
	refused(state, C_OTHER_VIP, offsetof(rn_sec_stats, hs_wrong_id));
}

/* The i-th datagram in the queue from node a to node b with first byte
 * `first` (0: any), copied out; 0 if none. */
static size_t grab(const fake_world *w, uint32_t a, uint32_t b, uint8_t first,
		   uint8_t *out)
{
	for (size_t k = 0; k < w->q_len; k++) {
		const fake_send *s = &w->q[(w->q_head + k) % FAKE_SENDS_MAX];
		if (s->from == a && rn_ep_eq(&s->to, &w->ep[b]) &&
		    (!first || s->data[0] == first)) {
			memcpy(out, s->data, s->len);
			return s->len;
		}
	}
	return 0;
}

static void test_replay_and_bit_flips(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	ring_of(f, 2);
	/* a keepalive exchange: catch a sealed datagram from 1 to 0 */
	uint8_t d[RN_DGRAM_MAX];
	size_t len = 0;
	for (int t = 0; t < 200 && !len; t++) {
		fake_fire_timers(w);
		len = grab(w, 1, 0, RN_HS_DATA, d);
		if (!len && !fake_deliver_one(w))
			w->now += RN_MS(500);
	}
	assert_true(len > RN_HS_DATA_HDR + RN_HS_TAG_LEN);
	/* Before the original arrives, every single-bit change of it is
	 * dropped: a changed receiver index finds no session, a changed
	 * counter or byte of ciphertext or tag fails authentication (the
	 * header is authenticated too), a changed type byte does not parse. */
	const rn_sec_stats *ss = rn_node_sec_stats(w->node[0]);
	uint32_t ok = ss->data_ok, auth0 = ss->data_auth_fail;
	uint32_t drops0 = ss->data_unknown + ss->data_replay + ss->data_auth_fail +
			  (uint32_t)rn_node_get_stats(w->node[0])->drop_decode;
	for (size_t bit = 0; bit < len * 8; bit++) {
		d[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		rn_node_recv(w->node[0], w->now, &w->ep[1], d, len);
		d[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	uint32_t drops1 = ss->data_unknown + ss->data_replay + ss->data_auth_fail +
			  (uint32_t)rn_node_get_stats(w->node[0])->drop_decode;
	assert_int_equal(ss->data_ok, ok);
	assert_int_equal(drops1 - drops0, len * 8);
	/* at least every ciphertext and tag bit failed authentication */
	assert_true(ss->data_auth_fail - auth0 >= (len - RN_HS_DATA_HDR) * 8);
	/* the original is still good, once */
	rn_node_recv(w->node[0], w->now, &w->ep[1], d, len);
	assert_int_equal(ss->data_ok, ok + 1);
	uint32_t replay = ss->data_replay;
	rn_node_recv(w->node[0], w->now, &w->ep[1], d, len);
	assert_int_equal(ss->data_replay, replay + 1);
	assert_int_equal(ss->data_ok, ok + 1);
	fake_pump(w, 2000); /* the queued copy arrives: a replay as well */
	assert_int_equal(ss->data_replay, replay + 2);
}

static void test_init_bit_flips(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	w->settings.handshakes_per_s_max = 100000; /* no cookies: full checks */
	ring_of(f, 2);
	add_member(f, C_OK);
	join_via(w, 2, 0, 0);
	fake_fire_timers(w); /* node 2 sends its probe INIT to node 0 */
	uint8_t d[RN_DGRAM_MAX];
	size_t len = grab(w, 2, 0, 0, d);
	assert_true(len > 200 && rn_hs_is_handshake(d, len));
	w->q_len = 0; /* the original stays unsent for now */
	const rn_sec_stats *ss = rn_node_sec_stats(w->node[0]);
	uint32_t ok = ss->hs_init_ok;
	for (size_t bit = 0; bit < len * 8; bit++) {
		d[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		rn_node_recv(w->node[0], w->now, &w->ep[2], d, len);
		d[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		w->q_len = 0; /* refusals send nothing; cookies aside */
	}
	assert_int_equal(ss->hs_init_ok, ok);
	/* the untouched INIT is accepted (the test can tell) */
	rn_node_recv(w->node[0], w->now, &w->ep[2], d, len);
	assert_int_equal(ss->hs_init_ok, ok + 1);
	/* and replaying it is refused */
	rn_node_recv(w->node[0], w->now, &w->ep[2], d, len);
	assert_int_equal(ss->hs_init_ok, ok + 1);
	assert_true(ss->hs_stale >= 1);
}

static void test_cookies_under_load(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	w->settings.handshakes_per_s_max = 1;
	ring_of(f, 1);
	for (uint32_t i = 1; i < 5; i++) {
		add_member(f, C_OK);
		join_via(w, i, 0, 0);
	}
	fake_pump(w, 30000);
	for (uint32_t i = 0; i < 5; i++)
		assert_int_equal(rn_node_state(w->node[i]), RN_NODE_JOINED);
	uint32_t cookies = 0;
	for (uint32_t i = 0; i < 5; i++)
		cookies += rn_node_sec_stats(w->node[i])->hs_cookie_sent;
	assert_true(cookies > 0);
}

static void test_restart_rejoins(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	ring_of(f, 4);
	/* node 3 dies and comes back with the same key at the same place */
	fake_crash(w, 3);
	fake_pump(w, 60000);
	rn_ident keep = f->id[3];
	uint8_t vip[4];
	fake_vip(3, vip);
	w->node[3] = rn_node_new(&w->sh, &w->ctx[3], w->group, vip, 4, &w->ep[3],
				 w->now);
	assert_non_null(w->node[3]);
	f->id[3] = keep;
	assert_int_equal(rn_node_set_ident(w->node[3], &f->id[3]), 0);
	join_via(w, 3, 0, 0);
	fake_pump(w, 60000);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(rn_node_state(w->node[i]), RN_NODE_JOINED);
	assert_true(has_link(w, 3, 0) || has_link(w, 3, 1) || has_link(w, 3, 2));
}

int main(void)
{
	assert_true(sodium_init() >= 0);
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_ring_forms_and_rekeys),
		T(test_rekey_by_count),
		T(test_refuses_other_group),
		T(test_refuses_expired),
		T(test_refuses_tampered),
		T(test_refuses_other_ring_id),
		T(test_replay_and_bit_flips),
		T(test_init_bit_flips),
		T(test_cookies_under_load),
		T(test_restart_rejoins),
	};
#undef T
	printf("# RN_TEST_SEED=%llu\n", (unsigned long long)rn_test_seed());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
