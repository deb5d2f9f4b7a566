/* Unit tests for the overlay node (overlay/node.c with near.c, far.c and
 * route.c behind overlay/node.h), driven through the fake environment of
 * fake_env.h: captured datagrams are shuttled between nodes by hand and
 * timers fire when the manual clock reaches the node's deadline.
 *
 * Expected ring neighbours come from sorting the node ids (computed here
 * with libsodium as BLAKE2b-160(group_id || vip), DESIGN.md section 3), not
 * from the code under test. */
#include "fake_env.h"

#include <sodium.h>

#include "core/err.h"
#include "core/id.h"
#include "overlay/node_impl.h" /* pending forwards, for the hop-ack test */

typedef struct fx {
	fake_world *w;
} fx;

/* The world whose nodes a failure dumps (set by build_ring). */
static const fake_world *dump_world;

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
	*state = f;
	return 0;
}

/* The control run of a test that runs with and without a mechanism: the
 * first world checked as teardown would, then a fresh one of the same
 * seed, whose settings the caller changes. */
static fake_world *control_world(fx *f)
{
	assert_int_equal(f->w->bad_sends + f->w->sends_overflow, 0);
	fake_world_free(f->w);
	f->w = fake_world_new(rn_test_seed());
	assert_non_null(f->w);
	return f->w;
}

static int teardown(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	/* invariants of every scenario: each datagram a node sent decoded
	 * and fitted, and nothing overflowed the fake's bounded buffers */
	uint64_t bad = w->bad_sends, ovf = w->sends_overflow + w->ev_overflow;
	fake_world_free(w);
	free(f);
	dump_world = NULL;
	if (bad || ovf) {
		print_error("bad sends %llu, overflows %llu [RN_TEST_SEED=%llu]\n",
			    (unsigned long long)bad, (unsigned long long)ovf,
			    (unsigned long long)rn_test_seed());
		return -1;
	}
	return 0;
}

/* The id a node must have, computed independently. */
static void expected_id(const fake_world *w, uint32_t i, rn_id *id)
{
	uint8_t in[36];
	memcpy(in, w->group, 32);
	fake_vip(i, in + 32);
	crypto_generichash(id->b, RN_ID_LEN, in, sizeof in, NULL, 0);
}

/* On failure: every node's state and links, for diagnosis. */
static void dump(const fake_world *w)
{
	for (uint32_t i = 0; i < w->n_nodes; i++) {
		if (!w->node[i])
			continue;
		char hex[RN_ID_HEX_LEN + 1];
		rn_id_to_hex(rn_node_id(w->node[i]), hex);
		print_error("  node %u id %.8s state %d links %zu\n", i, hex,
			    rn_node_state(w->node[i]), rn_node_link_count(w->node[i]));
		rn_link_info li[16];
		size_t n = rn_node_links(w->node[i], li, 16);
		for (size_t k = 0; k < n && k < 16; k++) {
			rn_id_to_hex(&li[k].id, hex);
			int peer = fake_node_of_ep(w, &li[k].ep);
			print_error("    -> node %d id %.8s up %u near %u far_out %u "
				    "peer_wants %u leaf %u\n",
				    peer, hex, li[k].up, li[k].near, li[k].far_out,
				    li[k].peer_wants, li[k].leaf);
		}
	}
}

static void fail_seed(const char *what, uint32_t node)
{
	print_error("%s (node %u) [RN_TEST_SEED=%llu]\n", what, node,
		    (unsigned long long)rn_test_seed());
	if (dump_world)
		dump(dump_world);
	fail();
}

static int id_is(const rn_id *got, const rn_id *want)
{
	return got && memcmp(got->b, want->b, RN_ID_LEN) == 0;
}

/* Starts node i joining through the given bootstrap nodes. */
static void join(fake_world *w, uint32_t i, const uint32_t *boot, size_t nb)
{
	rn_ep eps[FAKE_NODES_MAX];
	for (size_t k = 0; k < nb; k++)
		eps[k] = w->ep[boot[k]];
	assert_int_equal(rn_node_join(w->node[i], w->now, eps, nb), 0);
}

/* Builds a ring of n nodes, each joining through node 0, and checks that
 * every successor and predecessor matches the sorted ids. */
static void build_ring(fake_world *w, uint32_t n, uint32_t settle_ms)
{
	dump_world = w;
	for (uint32_t i = 0; i < n; i++) {
		assert_non_null(fake_add_node(w));
		uint32_t boot = 0;
		join(w, i, &boot, i ? 1 : 0);
		fake_pump(w, 3000);
	}
	fake_pump(w, settle_ms);
}

/* Every live node among the first n: JOINED, and its successor and
 * predecessor are the next live ids in sorted order. */
static void check_ring(const fake_world *w, uint32_t n)
{
	rn_id ids[FAKE_NODES_MAX];
	uint32_t order[FAKE_NODES_MAX], m = 0;
	for (uint32_t i = 0; i < n; i++) {
		expected_id(w, i, &ids[i]);
		if (w->node[i])
			order[m++] = i;
	}
	for (uint32_t a = 0; a < m; a++) /* sort live indexes by id */
		for (uint32_t b = a + 1; b < m; b++)
			if (memcmp(ids[order[b]].b, ids[order[a]].b, RN_ID_LEN) < 0) {
				uint32_t t = order[a];
				order[a] = order[b];
				order[b] = t;
			}
	for (uint32_t k = 0; k < m; k++) {
		uint32_t i = order[k];
		uint32_t s = order[(k + 1) % m], p = order[(k + m - 1) % m];
		rn_id sb, pb;
		if (rn_node_state(w->node[i]) != RN_NODE_JOINED)
			fail_seed("not JOINED", i);
		if (!id_is(rn_node_succ(w->node[i], &sb), &ids[s]))
			fail_seed("wrong successor", i);
		if (!id_is(rn_node_pred(w->node[i], &pb), &ids[p]))
			fail_seed("wrong predecessor", i);
	}
}

/* Whether node i holds a link to the node with this id. */
static int has_link_to(const fake_world *w, uint32_t i, const rn_id *id)
{
	rn_link_info li[32];
	size_t n = rn_node_links(w->node[i], li, 32);
	for (size_t k = 0; k < n && k < 32; k++)
		if (!memcmp(li[k].id.b, id->b, RN_ID_LEN))
			return 1;
	return 0;
}

/* Node i's link to the node with this id: 1 up on a virtual endpoint
 * (relayed), 2 up on a real one, 0 none or not up. */
static int link_kind(const fake_world *w, uint32_t i, const rn_id *id)
{
	rn_link_info li[32];
	size_t n = rn_node_links(w->node[i], li, 32);
	for (size_t k = 0; k < n && k < 32; k++)
		if (!memcmp(li[k].id.b, id->b, RN_ID_LEN) && li[k].up)
			return li[k].ep.addr[0] == 1 ? 1 : 2;
	return 0;
}

/* Whether node i holds an up link to the node with this id. */
static int has_up_link_to(const fake_world *w, uint32_t i, const rn_id *id)
{
	return link_kind(w, i, id) != 0;
}

static size_t count_link_down(const fake_world *w, size_t from, uint32_t node,
			      const rn_id *peer)
{
	size_t c = 0;
	for (size_t k = from; k < w->n_ev; k++)
		if (w->ev[k].node == node && w->ev[k].ev.type == RN_EV_LINK_DOWN &&
		    !memcmp(w->ev[k].ev.peer.b, peer->b, RN_ID_LEN))
			c++;
	return c;
}

/* ---- joining ------------------------------------------------------------ */

static void test_new_refuses_bad_vip(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	uint8_t vip[16] = {10, 1, 0, 1};
	w->ctx[0].w = w;
	assert_null(rn_node_new(&w->sh, &w->ctx[0], w->group, vip, 5, NULL, w->now));
	assert_null(rn_node_new(&w->sh, &w->ctx[0], w->group, vip, 0, NULL, w->now));
	assert_null(rn_node_new(&w->sh, &w->ctx[0], w->group, NULL, 4, NULL, w->now));
	rn_node *n = rn_node_new(&w->sh, &w->ctx[0], w->group, vip, 16, NULL, w->now);
	assert_non_null(n);
	/* id = BLAKE2b-160(group || vip) */
	uint8_t in[48];
	rn_id want;
	memcpy(in, w->group, 32);
	memcpy(in + 32, vip, 16);
	crypto_generichash(want.b, RN_ID_LEN, in, sizeof in, NULL, 0);
	assert_memory_equal(rn_node_id(n)->b, want.b, RN_ID_LEN);
	assert_int_equal(rn_node_state(n), RN_NODE_IDLE);
	/* commands that need a ring fail before joining */
	assert_int_equal(rn_node_lookup(n, w->now, &want, 1), RN_ERR_STATE);
	rn_node_free(n);
	rn_node_free(NULL);
}

static void test_join_alone(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	rn_node *a = fake_add_node(w);
	assert_non_null(a);
	rn_id want;
	expected_id(w, 0, &want);
	assert_memory_equal(rn_node_id(a)->b, want.b, RN_ID_LEN);
	assert_int_equal(rn_node_state(a), RN_NODE_IDLE);
	join(w, 0, NULL, 0);
	assert_int_equal(rn_node_state(a), RN_NODE_JOINED);
	assert_int_equal(fake_count_events(w, 0, RN_EV_JOINED), 1);
	assert_true(w->ctx[0].deadline != RN_TIME_NEVER);
	/* a second join is refused */
	assert_int_equal(rn_node_join(a, w->now, NULL, 0), RN_ERR_STATE);
	/* a bootstrap list holding only our own endpoint is also "alone" */
	rn_node *b = fake_add_node(w);
	assert_int_equal(rn_node_join(b, w->now, &w->ep[1], 1), 0);
	assert_int_equal(rn_node_state(b), RN_NODE_JOINED);

	fake_pump(w, 60000);
	rn_id buf;
	assert_int_equal(rn_node_state(a), RN_NODE_JOINED);
	assert_null(rn_node_succ(a, &buf));
	assert_null(rn_node_pred(a, &buf));
	assert_int_equal(rn_node_link_count(a), 0);
	assert_int_equal(fake_count_events(w, 0, RN_EV_JOINED), 1);
	/* alone, a node has no one to talk to */
	uint64_t sent = 0;
	for (int t = 0; t < FAKE_TYPES; t++)
		sent += w->sent_type[0][t];
	assert_true(sent == 0);
	/* its own id is found at once */
	size_t before = w->n_ev;
	assert_int_equal(rn_node_lookup(a, w->now, &want, 99), 0);
	assert_int_equal(w->n_ev, before + 2);
	assert_int_equal(w->ev[before].ev.type, RN_EV_LOOKUP_DELIVERED);
	assert_int_equal(w->ev[before + 1].ev.type, RN_EV_LOOKUP_DONE);
	assert_true(w->ev[before + 1].ev.qid == 99);
}

static void test_join_two(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	rn_node *a = fake_add_node(w), *b = fake_add_node(w);
	assert_true(a && b);
	join(w, 0, NULL, 0);
	uint32_t boot = 0;
	join(w, 1, &boot, 1);
	assert_int_equal(rn_node_state(b), RN_NODE_JOINING);
	fake_pump(w, 5000);
	assert_int_equal(rn_node_state(a), RN_NODE_JOINED);
	assert_int_equal(rn_node_state(b), RN_NODE_JOINED);
	rn_id ida, idb, buf;
	expected_id(w, 0, &ida);
	expected_id(w, 1, &idb);
	assert_true(id_is(rn_node_succ(a, &buf), &idb));
	assert_true(id_is(rn_node_pred(a, &buf), &idb));
	assert_true(id_is(rn_node_succ(b, &buf), &ida));
	assert_true(id_is(rn_node_pred(b, &buf), &ida));
	assert_int_equal(fake_count_events(w, 1, RN_EV_JOINED), 1);
	/* still so long after, across keepalives and trimming */
	fake_pump(w, 120000);
	assert_true(id_is(rn_node_succ(a, &buf), &idb));
	assert_true(id_is(rn_node_pred(b, &buf), &ida));
	assert_int_equal(rn_node_link_count(a), 1);
	assert_int_equal(rn_node_link_count(b), 1);
	rn_link_info li;
	assert_int_equal(rn_node_links(a, &li, 1), 1);
	assert_memory_equal(li.id.b, idb.b, RN_ID_LEN);
	assert_true(rn_ep_eq(&li.ep, &w->ep[1]));
	assert_true(li.up && li.near && !li.leaf);
	assert_int_equal(rn_node_get_stats(a)->links_dead, 0);
	assert_int_equal(rn_node_get_stats(b)->links_dead, 0);
	/* keepalives went both ways */
	assert_true(w->sent_type[0][RN_MSG_PING] > 0 || w->sent_type[1][RN_MSG_PING] > 0);
}

static void test_ring_of_five(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	build_ring(w, 5, 30000);
	check_ring(w, 5);
	for (uint32_t i = 0; i < 5; i++) {
		assert_int_equal(fake_count_events(w, (int)i, RN_EV_JOINED), 1);
		/* every joiner here has a direct path: the answers to their
		 * CTMs got through, and no bootstrap was told of them */
		if (rn_node_get_stats(w->node[i])->ctm_replies)
			fail_seed("a CTM reply for a joiner that needed none", i);
	}
	fake_pump(w, 120000);
	check_ring(w, 5);
}

static void test_ring_of_three_and_four(void **state)
{
	fx *f = *state;
	build_ring(f->w, 3, 20000);
	check_ring(f->w, 3);
	assert_non_null(fake_add_node(f->w));
	uint32_t boot[2] = {1, 2};
	join(f->w, 3, boot, 2);
	fake_pump(f->w, 20000);
	check_ring(f->w, 4);
}

/* ---- lookups ------------------------------------------------------------ */

static const fake_event *find_event(const fake_world *w, size_t from, int node,
				    int type, uint64_t qid)
{
	for (size_t i = from; i < w->n_ev; i++)
		if (w->ev[i].node == (uint32_t)node && w->ev[i].ev.type == type &&
		    w->ev[i].ev.qid == qid)
			return &w->ev[i];
	return NULL;
}

static void test_lookup(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	const uint32_t n = 5;
	build_ring(w, n, 30000);
	check_ring(w, n);
	rn_id ids[5];
	for (uint32_t i = 0; i < n; i++)
		expected_id(w, i, &ids[i]);
	uint64_t qid = 1000;
	for (uint32_t s = 0; s < n; s++)
		for (uint32_t d = 0; d < n; d++) {
			if (s == d)
				continue;
			size_t mark = w->n_ev;
			qid++;
			assert_int_equal(rn_node_lookup(w->node[s], w->now, &ids[d], qid), 0);
			fake_pump(w, 1000);
			const fake_event *del =
				find_event(w, mark, (int)d, RN_EV_LOOKUP_DELIVERED, qid);
			const fake_event *done =
				find_event(w, mark, (int)s, RN_EV_LOOKUP_DONE, qid);
			if (!del)
				fail_seed("lookup not delivered at the owner", d);
			if (!done)
				fail_seed("lookup not answered at the source", s);
			assert_memory_equal(del->ev.peer.b, ids[s].b, RN_ID_LEN);
			assert_memory_equal(done->ev.peer.b, ids[d].b, RN_ID_LEN);
			assert_int_equal(done->ev.hops, del->ev.hops);
			assert_true(del->ev.hops < n);
			assert_true(done->ev.hops_back < n);
			assert_true(del->at <= done->at);
			/* delivered nowhere else, exactly once */
			for (uint32_t o = 0; o < n; o++)
				if (o != d)
					assert_null(find_event(w, mark, (int)o,
							       RN_EV_LOOKUP_DELIVERED, qid));
			assert_int_equal(fake_count_events(w, -1, RN_EV_LOOKUP_DONE) +
						 0,
					 fake_count_events(w, -1, RN_EV_LOOKUP_DONE));
		}
	/* an id no node has: not delivered, not answered, dropped once */
	rn_id ghost = ids[0];
	ghost.b[RN_ID_LEN - 1] ^= 1;
	uint32_t noroute = 0;
	for (uint32_t i = 0; i < n; i++)
		noroute += rn_node_get_stats(w->node[i])->drop_noroute;
	size_t mark = w->n_ev;
	assert_int_equal(rn_node_lookup(w->node[2], w->now, &ghost, 777), 0);
	fake_pump(w, 2000);
	for (uint32_t i = 0; i < n; i++) {
		assert_null(find_event(w, mark, (int)i, RN_EV_LOOKUP_DELIVERED, 777));
		assert_null(find_event(w, mark, (int)i, RN_EV_LOOKUP_DONE, 777));
	}
	uint32_t noroute2 = 0;
	for (uint32_t i = 0; i < n; i++)
		noroute2 += rn_node_get_stats(w->node[i])->drop_noroute;
	assert_int_equal(noroute2, noroute + 1);
}

/* ---- hostile and stray input -------------------------------------------- */

static uint64_t total_sends(const fake_world *w) { return w->sends; }

/* Overlay pings record their path: in a ring of 8 with two neighbours a
 * side and no far links most pairs are several hops apart. */
static void test_trace(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	const uint32_t n = FAKE_NODES_MAX;
	w->settings.near_k = 2;
	w->settings.far_kind = RN_FAR_NONE;
	build_ring(w, n, 30000);
	check_ring(w, n);
	rn_id ids[FAKE_NODES_MAX];
	for (uint32_t i = 0; i < n; i++)
		expected_id(w, i, &ids[i]);
	uint64_t qid = 5000;
	unsigned multi = 0;
	for (uint32_t s = 0; s < n; s++)
		for (uint32_t d = 0; d < n; d++) {
			size_t mark = w->n_ev;
			qid++;
			assert_int_equal(rn_node_trace(w->node[s], w->now, &ids[d], qid), 0);
			fake_pump(w, 1000);
			const fake_event *e =
				find_event(w, mark, (int)s, RN_EV_TRACE_DONE, qid);
			if (!e)
				fail_seed("trace not answered", s);
			const rn_event *ev = &e->ev;
			assert_memory_equal(ev->peer.b, ids[d].b, RN_ID_LEN);
			assert_int_equal(ev->path_len, ev->hops + 1);
			assert_memory_equal(ev->path_id[0].b, ids[s].b, RN_ID_LEN);
			assert_memory_equal(ev->path_id[ev->hops].b, ids[d].b, RN_ID_LEN);
			assert_int_equal(ev->path_rtt_ms[ev->hops], 0);
			for (uint32_t k = 0; k < ev->hops; k++) {
				assert_true(ev->path_rtt_ms[k] > 0);
				assert_true(memcmp(ev->path_id[k].b, ev->path_id[k + 1].b,
						   RN_ID_LEN) != 0);
				int known = 0;
				for (uint32_t i = 0; i < n; i++)
					known |= !memcmp(ids[i].b, ev->path_id[k].b,
							 RN_ID_LEN);
				assert_true(known);
			}
			assert_true(s == d ? ev->hops == 0 : ev->hops >= 1);
			multi += ev->hops >= 2;
		}
	assert_true(multi > 0);
}

static void test_undecodable(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	build_ring(w, 5, 20000);
	check_ring(w, 5);
	fake_drain(w, 1000);
	rn_node *a = w->node[0];
	const rn_node_stats *st = rn_node_get_stats(a);
	static const uint8_t hostile[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t c1[] = {0xc1};
	static const uint8_t deep[] = {0x91, 0x91, 0x91, 0x91, 0x91, 0x91,
				       0x91, 0x91, 0x91, 0x91, 0x01};
	static const uint8_t badver[] = {0x93, 0x03, 0x02, 0x05}; /* PING v2 */
	static const uint8_t trunc_ping[] = {0x93, 0x03, 0x01};
	static const uint8_t garbage[] = "GET / HTTP/1.1\r\n\r\n";
	struct {
		const uint8_t *p;
		size_t n;
	} in[] = {{hostile, sizeof hostile}, {c1, 1}, {deep, sizeof deep},
		  {badver, sizeof badver}, {trunc_ping, sizeof trunc_ping},
		  {garbage, sizeof garbage - 1}, {c1, 0}};
	const size_t n_in = sizeof in / sizeof in[0];
	/* from the linked peer and from a stranger alike */
	rn_ep stranger;
	rn_ep_from_ipv4(&stranger, 0xCB007109u, 9);
	uint32_t dec0 = st->drop_decode;
	uint64_t rx0 = st->rx_pkts, sends0 = total_sends(w);
	for (size_t i = 0; i < n_in; i++) {
		rn_node_recv(a, w->now, &w->ep[1], in[i].p, in[i].n);
		rn_node_recv(a, w->now, &stranger, in[i].p, in[i].n);
	}
	assert_int_equal(st->drop_decode, dec0 + 2 * n_in);
	assert_true(st->rx_pkts == rx0 + 2 * n_in);
	assert_true(total_sends(w) == sends0);
	assert_int_equal(w->q_len, 0);
	/* control: a good PING from the peer is answered */
	static const uint8_t ping[] = {0x93, 0x03, 0x01, 0x05};
	rn_node_recv(a, w->now, &w->ep[1], ping, sizeof ping);
	assert_int_equal(st->drop_decode, dec0 + 2 * n_in);
	assert_true(total_sends(w) == sends0 + 1);
	assert_int_equal(w->q_len, 1);
	assert_int_equal(w->q[w->q_head].data[1], RN_MSG_PONG);
	assert_true(rn_ep_eq(&w->q[w->q_head].to, &w->ep[1]));
	/* the ring is unharmed */
	fake_pump(w, 10000);
	check_ring(w, 5);
}

static void test_unknown_endpoint(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	build_ring(w, 5, 20000);
	check_ring(w, 5);
	fake_drain(w, 1000);
	rn_node *a = w->node[0];
	const rn_node_stats *st = rn_node_get_stats(a);
	rn_ep stranger;
	rn_ep_from_ipv4(&stranger, 0xCB007109u, 9);
	/* one valid datagram of each non-HELLO type */
	uint8_t body[16];
	size_t body_len;
	rn_body b;
	b.type = RN_BODY_LOOKUP;
	b.u.lookup.qid = 5;
	assert_int_equal(rn_body_encode(&b, body, sizeof body, &body_len), 0);
	rn_msg msgs[7];
	memset(msgs, 0, sizeof msgs);
	msgs[0].type = RN_MSG_PING;
	msgs[1].type = RN_MSG_PONG;
	msgs[2].type = RN_MSG_CLOSE;
	msgs[2].u.close.reason = RN_CLOSE_LEAVING;
	msgs[3].type = RN_MSG_NEIGHBORS;
	msgs[4].type = RN_MSG_ROUTED;
	msgs[4].u.routed.src = *rn_node_id(w->node[1]);
	msgs[4].u.routed.dst = *rn_node_id(a);
	msgs[4].u.routed.ttl = 10;
	msgs[4].u.routed.body = body;
	msgs[4].u.routed.body_len = body_len;
	msgs[5].type = RN_MSG_HOP_ACK;
	/* a HELLO_ACK nobody asked for (a is JOINED, stranger no bootstrap) */
	msgs[6].type = RN_MSG_HELLO_ACK;
	memset(msgs[6].u.hello.src.b, 0x42, RN_ID_LEN);
	msgs[6].u.hello.kind = RN_KIND_NEAR;
	msgs[6].u.hello.your_ep = w->ep[0];
	uint32_t unk0 = st->drop_unknown, dec0 = st->drop_decode;
	size_t links0 = rn_node_link_count(a), ev0 = w->n_ev;
	uint32_t expect_unk = unk0;
	for (size_t i = 0; i < 7; i++) {
		uint8_t buf[RN_DGRAM_MAX];
		size_t len;
		assert_int_equal(rn_msg_encode(&msgs[i], buf, sizeof buf, &len), 0);
		size_t q0 = w->q_len;
		rn_node_recv(a, w->now, &stranger, buf, len);
		/* HOP_ACK is matched by sequence alone (the link it went over
		 * may have closed since); everything else is counted */
		if (msgs[i].type != RN_MSG_HOP_ACK)
			expect_unk++;
		if (st->drop_unknown != expect_unk)
			fail_msg("message type %u from a stranger: drop_unknown %u, "
				 "expected %u",
				 msgs[i].type, st->drop_unknown, expect_unk);
		/* the only answer a stranger can get is one CLOSE FINAL, so
		 * that a peer holding a stale half-link drops it; a CLOSE and
		 * a HOP_ACK are never answered */
		size_t replies = w->q_len - q0;
		int may_answer = msgs[i].type != RN_MSG_CLOSE &&
				 msgs[i].type != RN_MSG_HOP_ACK;
		assert_true(replies <= (size_t)may_answer);
		for (size_t k = q0; k < w->q_len; k++) {
			const fake_send *r = &w->q[(w->q_head + k) % FAKE_SENDS_MAX];
			rn_msg rm;
			assert_true(rn_ep_eq(&r->to, &stranger));
			assert_int_equal(rn_msg_decode(&w->zone, r->data, r->len, &rm), 0);
			assert_int_equal(rm.type, RN_MSG_CLOSE);
			assert_int_equal(rm.u.close.reason, RN_CLOSE_FINAL);
		}
	}
	assert_int_equal(st->drop_decode, dec0);
	assert_int_equal(rn_node_link_count(a), links0);
	assert_int_equal(w->n_ev, ev0); /* in particular no lookup delivered */
	/* control: the same PING from the peer's endpoint is answered with a
	 * PONG and not counted as unknown */
	uint8_t buf[RN_DGRAM_MAX];
	size_t len;
	assert_int_equal(rn_msg_encode(&msgs[0], buf, sizeof buf, &len), 0);
	size_t q0 = w->q_len;
	rn_node_recv(a, w->now, &w->ep[1], buf, len);
	assert_int_equal(st->drop_unknown, expect_unk);
	assert_int_equal(w->q_len, q0 + 1);
	assert_int_equal(w->q[(w->q_head + q0) % FAKE_SENDS_MAX].data[1], RN_MSG_PONG);
	/* same address, other port: still a stranger */
	rn_ep near_miss = w->ep[1];
	near_miss.port++;
	rn_node_recv(a, w->now, &near_miss, buf, len);
	assert_int_equal(st->drop_unknown, expect_unk + 1);
	/* the ring is unharmed */
	fake_pump(w, 10000);
	check_ring(w, 5);
}

/* ---- link death and leaving --------------------------------------------- */

/* Node 4 of a ring of five crashes: each survivor that linked to it pings
 * it ping_tries_max times, declares the link dead within keepalive + ping
 * timeouts, and the four close the ring among themselves. */
static void test_dead_link(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	const rn_settings *s = &w->settings;
	const uint32_t n = 5, x = 4;
	build_ring(w, n, 20000);
	check_ring(w, n);
	fake_drain(w, 1000);
	rn_id idx = *rn_node_id(w->node[x]);
	int linked[5] = {0};
	uint64_t pings0[5];
	for (uint32_t i = 0; i < x; i++) {
		linked[i] = has_link_to(w, i, &idx);
		assert_int_equal(rn_node_get_stats(w->node[i])->links_dead, 0);
		pings0[i] = w->sent_type[i][RN_MSG_PING];
	}
	/* at least its ring neighbours link to it */
	assert_true(linked[0] + linked[1] + linked[2] + linked[3] >= 2);
	size_t ev0 = w->n_ev;
	uint64_t lost_pings0 = w->lost_type[RN_MSG_PING];
	rn_time t_crash = w->now;
	fake_crash(w, x);
	rn_time t_dead[5] = {0};
	const rn_time limit = t_crash + RN_MS(s->keepalive_far_ms) +
			      RN_MS(s->ping_tries_max * s->rto_max_ms) +
			      RN_MS(3 * s->timer_slack_ms) +
			      RN_MS(s->timer_slack_far_ms) + RN_MS(1000);
	while (w->now < limit + RN_MS(10000)) {
		fake_pump(w, 100);
		for (uint32_t i = 0; i < x; i++)
			if (!t_dead[i] && rn_node_get_stats(w->node[i])->links_dead)
				t_dead[i] = w->now;
	}
	for (uint32_t i = 0; i < x; i++) {
		const rn_node_stats *st = rn_node_get_stats(w->node[i]);
		if (!linked[i]) {
			assert_int_equal(st->links_dead, 0);
			continue;
		}
		if (!t_dead[i])
			fail_seed("silent link never declared dead", i);
		assert_int_equal(st->links_dead, 1);
		assert_true(t_dead[i] <= limit);
		/* no sooner than ping_tries_max pings could go unanswered */
		assert_true(t_dead[i] >= t_crash + RN_MS(s->ping_tries_max * s->rto_min_ms));
		assert_true(w->sent_type[i][RN_MSG_PING] - pings0[i] >= s->ping_tries_max);
		assert_int_equal(count_link_down(w, ev0, i, &idx), 1);
		/* gone; at most a half-open probe of lost.c remains */
		assert_false(has_up_link_to(w, i, &idx));
	}
	assert_true(w->lost_type[RN_MSG_PING] - lost_pings0 >= s->ping_tries_max);
	check_ring(w, n);
	/* The lost neighbours are probed again (a partition may heal), at
	 * least once per ring_check_ms ... */
	uint64_t hellos0 = w->lost_type[RN_MSG_HELLO];
	fake_pump(w, s->ring_check_ms + 5000);
	assert_true(w->lost_type[RN_MSG_HELLO] > hellos0);
	/* ... at most once per ring_check_ms after the first few, and not
	 * after lost_peer_keep_ms */
	uint64_t hellos1 = w->lost_type[RN_MSG_HELLO];
	fake_pump(w, 4 * s->ring_check_ms);
	assert_true(w->lost_type[RN_MSG_HELLO] - hellos1 <=
		    (uint64_t)(x * 5 * s->hello_tries_max));
	fake_pump(w, s->lost_peer_keep_ms);
	uint64_t hellos2 = w->lost_type[RN_MSG_HELLO];
	fake_pump(w, 3 * s->ring_check_ms);
	assert_int_equal(w->lost_type[RN_MSG_HELLO], hellos2);
}

static void test_dead_link_not_early(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	const rn_settings *s = &w->settings;
	build_ring(w, 5, 20000);
	check_ring(w, 5);
	fake_drain(w, 1000);
	fake_crash(w, 4);
	/* the first unanswered ping goes out after at most a keepalive
	 * interval; death needs ping_tries_max RTOs more, so nothing can be
	 * declared dead within ping_tries_max * rto_min_ms of the crash */
	fake_pump(w, s->ping_tries_max * s->rto_min_ms - 1);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(rn_node_get_stats(w->node[i])->links_dead, 0);
}

static void test_leave(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	const uint32_t n = 5, x = 4;
	build_ring(w, n, 20000);
	check_ring(w, n);
	fake_drain(w, 1000);
	rn_id idl = *rn_node_id(w->node[x]);
	int linked[5] = {0}, n_linked = 0;
	for (uint32_t i = 0; i < x; i++)
		n_linked += linked[i] = has_link_to(w, i, &idl);
	assert_true(n_linked >= 2);
	size_t ev0 = w->n_ev;
	uint64_t close0 = w->sent_type[x][RN_MSG_CLOSE];
	size_t up_links = 0;
	{
		rn_link_info li[32];
		size_t k = rn_node_links(w->node[x], li, 32);
		for (size_t j = 0; j < k && j < 32; j++)
			up_links += li[j].up;
	}
	rn_node_leave(w->node[x], w->now);
	assert_int_equal(rn_node_state(w->node[x]), RN_NODE_LEFT);
	assert_int_equal(rn_node_link_count(w->node[x]), 0);
	assert_true(w->ctx[x].deadline == RN_TIME_NEVER);
	/* one CLOSE to each peer it had a link up with */
	assert_true(w->sent_type[x][RN_MSG_CLOSE] - close0 == up_links);
	/* delivering them is enough: no timer needed */
	fake_drain(w, 100);
	for (uint32_t i = 0; i < x; i++) {
		if (has_link_to(w, i, &idl))
			fail_seed("peer kept the link of a leaving node", i);
		assert_int_equal(count_link_down(w, ev0, i, &idl), (size_t)linked[i]);
		/* a graceful close is not a death */
		assert_int_equal(rn_node_get_stats(w->node[i])->links_dead, 0);
	}
	/* a left node ignores everything */
	const rn_node_stats *st = rn_node_get_stats(w->node[x]);
	uint64_t rx = st->rx_pkts, sends = w->sends;
	static const uint8_t ping[] = {0x93, 0x03, 0x01, 0x05};
	rn_node_recv(w->node[x], w->now, &w->ep[0], ping, sizeof ping);
	rn_node_on_timeout(w->node[x], w->now);
	assert_true(st->rx_pkts == rx);
	assert_true(w->sends == sends);
	rn_node_leave(w->node[x], w->now); /* twice is harmless */
	assert_true(w->sends == sends);
	fake_crash(w, x);
	/* the rest closes the ring, without declaring anything dead */
	fake_pump(w, 30000);
	check_ring(w, n);
	for (uint32_t i = 0; i < x; i++)
		assert_int_equal(rn_node_get_stats(w->node[i])->links_dead, 0);
}

static void test_bootstrap_unreachable(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	assert_non_null(fake_add_node(w));
	rn_ep nowhere;
	rn_ep_from_ipv4(&nowhere, 0xCB007101u, 4000);
	assert_int_equal(rn_node_join(w->node[0], w->now, &nowhere, 1), 0);
	fake_pump(w, 20000);
	/* keeps trying, stays JOINING, never claims a ring */
	assert_int_equal(rn_node_state(w->node[0]), RN_NODE_JOINING);
	assert_int_equal(fake_count_events(w, 0, RN_EV_JOINED), 0);
	assert_true(w->sent_type[0][RN_MSG_HELLO] >= 2);
	assert_true(w->undeliverable >= 2);
	rn_id buf;
	assert_null(rn_node_succ(w->node[0], &buf));
}


/* Two nodes joined into a ring of two, with the network quiet. */
static fake_world *two_joined(void **state, rn_node **a, rn_node **b)
{
	fx *f = *state;
	fake_world *w = f->w;
	*a = fake_add_node(w);
	*b = fake_add_node(w);
	assert_true(*a && *b);
	join(w, 0, NULL, 0);
	uint32_t boot = 0;
	join(w, 1, &boot, 1);
	fake_pump(w, 5000);
	fake_drain(w, 1000);
	return w;
}

/* A HOP_ACK counts only from the hop the message went to: a stranger that
 * guesses the sequence cannot cancel the retransmission. */
static void test_hop_ack_source(void **state)
{
	rn_node *a, *b;
	fake_world *w = two_joined(state, &a, &b);
	assert_int_equal(w->q_len, 0);
	assert_int_equal(a->n_pend, 0);
	assert_int_equal(rn_node_lookup(a, w->now, rn_node_id(b), 77), 0);
	assert_int_equal(w->q_len, 1);
	const fake_send *fs = &w->q[w->q_head];
	rn_msg m;
	assert_int_equal(rn_msg_decode(&w->zone, fs->data, fs->len, &m), 0);
	assert_int_equal(m.type, RN_MSG_ROUTED);
	assert_int_equal(a->n_pend, 1);
	rn_msg ack;
	uint8_t buf[64];
	size_t len;
	ack.type = RN_MSG_HOP_ACK;
	ack.u.hop_ack.hop_seq = m.u.routed.hop_seq;
	assert_int_equal(rn_msg_encode(&ack, buf, sizeof buf, &len), 0);
	rn_ep stranger;
	rn_ep_from_ipv4(&stranger, 0xCB007109u, 9);
	rn_node_recv(a, w->now, &stranger, buf, len);
	assert_int_equal(a->n_pend, 1);
	rn_node_recv(a, w->now, &w->ep[1], buf, len);
	assert_int_equal(a->n_pend, 0);
}

/* A HELLO from a linked endpoint under a new id: the peer there restarted
 * as someone else, so the link to its old id goes. */
static void test_new_id_at_endpoint(void **state)
{
	rn_node *a, *b;
	fake_world *w = two_joined(state, &a, &b);
	assert_int_equal(rn_node_link_count(a), 1);
	rn_msg h;
	uint8_t buf[128];
	size_t len;
	memset(&h, 0, sizeof h);
	h.type = RN_MSG_HELLO;
	memset(h.u.hello.src.b, 0x5a, RN_ID_LEN);
	h.u.hello.kind = RN_KIND_NEAR;
	h.u.hello.your_ep = w->ep[0];
	assert_int_equal(rn_msg_encode(&h, buf, sizeof buf, &len), 0);
	rn_node_recv(a, w->now, &w->ep[1], buf, len);
	rn_link_info li[4];
	assert_int_equal(rn_node_links(a, li, 4), 1);
	assert_memory_equal(li[0].id.b, h.u.hello.src.b, RN_ID_LEN);
	assert_true(rn_ep_eq(&li[0].ep, &w->ep[1]));
}

/* ---- far hints ---------------------------------------------------------- */

/* base + 2^k (dir 0) or base - 2^k (dir 1). */
static void id_pow2(rn_id *r, const rn_id *base, int dir, unsigned k)
{
	if (dir)
		rn_id_sub_pow2(r, base, k);
	else
		rn_id_add_pow2(r, base, k);
}

/* Encodes m and hands it to node i as a datagram from `from`. */
static void feed(fake_world *w, uint32_t i, const rn_ep *from, const rn_msg *m)
{
	uint8_t buf[RN_DGRAM_MAX];
	size_t len;
	assert_int_equal(rn_msg_encode(m, buf, sizeof buf, &len), 0);
	rn_node_recv(w->node[i], w->now, from, buf, len);
}

/* A HELLO to node i from a peer that exists only in the test. */
static void fake_hello(fake_world *w, uint32_t i, const rn_ep *from,
		       const rn_id *src, uint8_t kind)
{
	rn_msg h;
	memset(&h, 0, sizeof h);
	h.type = RN_MSG_HELLO;
	h.u.hello.src = *src;
	h.u.hello.kind = kind;
	h.u.hello.your_ep = w->ep[i];
	feed(w, i, from, &h);
}

/* The HELLOs node i sent since queue position mark (to `to`, or to anyone
 * when NULL); *kinds collects their kind bits. */
static size_t hellos_since(fake_world *w, uint32_t i, size_t mark,
			   const rn_ep *to, uint8_t *kinds)
{
	size_t c = 0;
	*kinds = 0;
	for (size_t k = mark; k < w->q_len; k++) {
		const fake_send *s = &w->q[(w->q_head + k) % FAKE_SENDS_MAX];
		rn_msg m;
		if (s->from != i || (to && !rn_ep_eq(&s->to, to)))
			continue;
		assert_int_equal(rn_msg_decode(&w->zone, s->data, s->len, &m),
				 0);
		if (m.type != RN_MSG_HELLO)
			continue;
		assert_memory_equal(m.u.hello.src.b, rn_node_id(w->node[i])->b,
				    RN_ID_LEN);
		*kinds |= m.u.hello.kind;
		c++;
	}
	return c;
}

/* Node i's link to id, if any. */
static int link_info(const fake_world *w, uint32_t i, const rn_id *id,
		     rn_link_info *out)
{
	rn_link_info li[32];
	size_t n = rn_node_links(w->node[i], li, 32);
	for (size_t k = 0; k < n && k < 32; k++)
		if (!memcmp(li[k].id.b, id->b, RN_ID_LEN)) {
			*out = li[k];
			return 1;
		}
	return 0;
}

/* FAR_HINTS from an UP link: a joined node opens far links (HELLO kind
 * FAR) to the hinted peers that fall in one of its finger intervals above
 * its near octave, and to no one else; hints from an endpoint without an
 * UP link are ignored. */
/* A bootstrap probe (HELLO kind LEAF) from a stranger: the bootstrap
 * answers that it routed the stranger's connect-to-me, acts on that CTM
 * (forwards it, or, being the closest, links to the stranger as a ring
 * neighbour) and keeps no leaf link for the probe. */
static void test_bootstrap_probe_stateless(void **state)
{
	rn_node *a, *b;
	fake_world *w = two_joined(state, &a, &b);
	const size_t links0 = rn_node_link_count(a);
	rn_id stranger;
	rn_ep ep_s;
	rn_ep_from_ipv4(&ep_s, 0xC6336409u, 5000);
	id_pow2(&stranger, rn_node_id(a), 0, 150);
	size_t mark = w->q_len;
	fake_hello(w, 0, &ep_s, &stranger, RN_KIND_LEAF);
	size_t acks = 0, routed = 0, near_hellos = 0;
	for (size_t k = mark; k < w->q_len; k++) {
		const fake_send *s = &w->q[(w->q_head + k) % FAKE_SENDS_MAX];
		rn_msg m;
		if (s->from != 0)
			continue;
		assert_int_equal(rn_msg_decode(&w->zone, s->data, s->len, &m), 0);
		if (m.type == RN_MSG_HELLO_ACK && rn_ep_eq(&s->to, &ep_s)) {
			assert_int_equal(m.u.hello.kind,
					 RN_KIND_LEAF | RN_KIND_CTM_SENT);
			acks++;
		} else if (m.type == RN_MSG_ROUTED &&
			   rn_ep_eq(&s->to, &w->ep[1])) {
			assert_memory_equal(m.u.routed.src.b, stranger.b, RN_ID_LEN);
			routed++;
		} else if (m.type == RN_MSG_HELLO && rn_ep_eq(&s->to, &ep_s) &&
			   (m.u.hello.kind & RN_KIND_NEAR)) {
			near_hellos++;
		}
	}
	assert_int_equal(acks, 1);
	assert_int_equal(routed + near_hellos, 1);
	rn_link_info li;
	if (near_hellos)
		assert_true(link_info(w, 0, &stranger, &li) && !li.leaf &&
			    !li.up && rn_node_link_count(a) == links0 + 1);
	else
		assert_int_equal(rn_node_link_count(a), links0);
	/* the prober, answered so, keeps no link either */
	const rn_node_stats *st = rn_node_get_stats(b);
	uint32_t answers = st->boot_answers;
	size_t links_b = rn_node_link_count(b);
	rn_msg ack;
	memset(&ack, 0, sizeof ack);
	ack.type = RN_MSG_HELLO_ACK;
	ack.u.hello.src = stranger;
	ack.u.hello.kind = RN_KIND_LEAF | RN_KIND_CTM_SENT;
	ack.u.hello.your_ep = w->ep[1];
	feed(w, 1, &ep_s, &ack);
	assert_int_equal(st->boot_answers, answers + 1);
	assert_int_equal(rn_node_link_count(b), links_b);
}

/* ---- through port-restricted cone NATs -------------------------------- */

/* A NAT in front of some nodes, as the kernel's masquerade does it: a
 * datagram reaches a NATed node only from an endpoint that node has sent
 * to before (the mapping keeps the node's own endpoint, so the fake's
 * endpoints stay as they are). The send hook records the holes; nat_pump
 * delivers like fake_pump but drops what the NATs drop. */
typedef struct nat_lab {
	fake_world *w;
	uint8_t natted[FAKE_NODES_MAX];
	uint8_t hole[FAKE_NODES_MAX][FAKE_NODES_MAX]; /* [inside][outside] */
	uint64_t dropped;
} nat_lab;

static nat_lab *the_lab; /* the hook's context: the fake's ctx is taken */

static void nat_send_cb(void *vctx, const rn_ep *to, const uint8_t *buf,
			size_t len)
{
	fake_ctx *c = vctx;
	int d = fake_node_of_ep(c->w, to);
	if (d >= 0)
		the_lab->hole[c->idx][d] = 1;
	fake_send_cb(vctx, to, buf, len);
}

static int nat_deliver_one(nat_lab *lab)
{
	fake_world *w = lab->w;
	if (!w->q_len)
		return 0;
	const fake_send *s = &w->q[w->q_head];
	int to = fake_node_of_ep(w, &s->to);
	if (to >= 0 && lab->natted[to] && !lab->hole[to][s->from]) {
		w->q_head = (w->q_head + 1) % FAKE_SENDS_MAX;
		w->q_len--;
		w->now += FAKE_HOP_US;
		lab->dropped++;
		return 1;
	}
	return fake_deliver_one(w);
}

static int nat_deliver_any(void *lab)
{
	return nat_deliver_one(lab);
}

static void nat_pump(nat_lab *lab, uint32_t ms)
{
	fake_pump_with(lab->w, ms, nat_deliver_any, lab);
}

static void nat_lab_init(nat_lab *lab, fake_world *w, uint32_t n)
{
	memset(lab, 0, sizeof *lab);
	lab->w = w;
	the_lab = lab;
	w->env.send = nat_send_cb;
	dump_world = w;
	for (uint32_t i = 0; i < n; i++)
		assert_non_null(fake_add_node(w));
}

static uint64_t ring_dist_hi(const rn_id *a, const rn_id *b)
{
	rn_id d;
	rn_id_dist_signed(&d, a, b);
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | d.b[i];
	return v;
}

/* Of nodes 0..2: the two closest on the ring (*x, *y) and the third. */
static uint32_t closest_pair(const fake_world *w, uint32_t *x, uint32_t *y)
{
	rn_id id[3];
	for (uint32_t i = 0; i < 3; i++)
		expected_id(w, i, &id[i]);
	uint32_t best = 0;
	uint64_t bd = UINT64_MAX;
	for (uint32_t k = 0; k < 3; k++) {
		uint64_t d = ring_dist_hi(&id[k], &id[(k + 1) % 3]);
		if (d < bd) {
			bd = d;
			best = k;
		}
	}
	*x = best;
	*y = (best + 1) % 3;
	return (best + 2) % 3;
}

static void join_one(nat_lab *lab, uint32_t i, uint32_t boot, uint32_t ms)
{
	join(lab->w, i, &boot, 1);
	nat_pump(lab, ms);
}

/* A joiner behind a cone whose ring neighbour is behind a cone too: the
 * join CTM that the public bootstrap B routes lands at N, whose HELLOs to
 * the joiner J are dropped (J never sent to N). N tells B where it is
 * (CTM_REPLY), B passes it to J in the answer to J's next probe, J says
 * HELLO to N, and the link comes up. Without the answers (ctm_answers_max
 * 0) J stays JOINING: the control that the path is what does it. */
static void test_nat_join_answer_via_bootstrap(void **state)
{
	fx *f = *state;
	nat_lab lab;
	for (int with = 1; with >= 0; with--) {
		fake_world *w = f->w;
		if (!with) {
			w = control_world(f);
			w->settings.ctm_answers_max = 0;
		}
		nat_lab_init(&lab, w, 3);
		uint32_t n, j, b = closest_pair(w, &n, &j);
		lab.natted[n] = lab.natted[j] = 1;
		join(w, b, NULL, 0);
		join_one(&lab, n, b, 3000);
		assert_int_equal(rn_node_state(w->node[n]), RN_NODE_JOINED);
		join_one(&lab, j, b, with ? 5000 : 20000);
		const rn_node_stats *sj = rn_node_get_stats(w->node[j]);
		const rn_node_stats *sn = rn_node_get_stats(w->node[n]);
		if (!with) {
			assert_int_equal(rn_node_state(w->node[j]), RN_NODE_JOINING);
			assert_int_equal(sj->boot_peers, 0);
			assert_true(lab.dropped > 0);
			break;
		}
		/* J heard of N from B within one retry, and linked to it */
		assert_true(sn->ctm_replies >= 1);
		assert_true(sj->boot_peers >= 1);
		assert_int_equal(rn_node_state(w->node[j]), RN_NODE_JOINED);
		rn_id idn;
		expected_id(w, n, &idn);
		assert_true(has_up_link_to(w, j, &idn));
		nat_pump(&lab, 5000);
		check_ring(w, 3);
		/* the answer was handed out once: B holds nothing fresh for J */
		rn_peer_info p;
		rn_id idj;
		expected_id(w, j, &idj);
		assert_int_equal(rn_near_take_answer(w->node[b], w->now, &idj, &p),
				 0);
	}
}

/* Two nodes behind cones, X joined and Y joining beside it through B: Y
 * hears of X from B (NEIGHBORS), its first HELLO to X is dropped, the
 * punch CTM routed to X makes X open towards Y, and the link comes up
 * within about one HELLO retransmission. */
static void test_nat_punch(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	nat_lab lab;
	/* no far links: a far CTM landing at X would open it towards Y too */
	w->settings.far_kind = RN_FAR_NONE;
	nat_lab_init(&lab, w, 3);
	/* B and Y closest: Y's join CTM lands at B, not at X */
	uint32_t bb, y, x = closest_pair(w, &bb, &y);
	lab.natted[x] = lab.natted[y] = 1;
	join(w, bb, NULL, 0);
	join_one(&lab, x, bb, 3000);
	assert_int_equal(rn_node_state(w->node[x]), RN_NODE_JOINED);
	/* X's first ring check (2 s after it joined) is over; its next one
	 * comes after 4 s at the earliest, Y's own after 2 s: within 1.5 s
	 * only the punch can bring X and Y together */
	uint64_t dropped = lab.dropped;
	join_one(&lab, y, bb, 1500);
	const rn_node_stats *sx = rn_node_get_stats(w->node[x]);
	const rn_node_stats *sy = rn_node_get_stats(w->node[y]);
	rn_id idx, idy;
	expected_id(w, x, &idx);
	expected_id(w, y, &idy);
	assert_true(lab.dropped > dropped); /* a first HELLO did not pass */
	assert_true(has_up_link_to(w, x, &idy) && has_up_link_to(w, y, &idx));
	assert_true(sx->punches + sy->punches >= 1);
	assert_int_equal(sx->boot_peers + sy->boot_peers, 0);
	nat_pump(&lab, 5000);
	check_ring(w, 3);
}

/* ---- relay links (overlay/relay.c) -------------------------------------- */

/* Whether every live node among the first n is JOINED beside the next live
 * ids in sorted order (check_ring without failing). */
static int ring_consistent(const fake_world *w, uint32_t n)
{
	rn_id ids[FAKE_NODES_MAX], sb, pb;
	for (uint32_t i = 0; i < n; i++)
		expected_id(w, i, &ids[i]);
	for (uint32_t i = 0; i < n; i++) {
		if (!w->node[i])
			continue;
		/* the nearest live ids clockwise and counter-clockwise */
		int s = -1, p = -1;
		rn_id ds, dp, d;
		for (uint32_t j = 0; j < n; j++) {
			if (j == i || !w->node[j])
				continue;
			rn_id_sub(&d, &ids[j], &ids[i]);
			if (s < 0 || rn_id_cmp(&d, &ds) < 0) {
				s = (int)j;
				ds = d;
			}
			rn_id_sub(&d, &ids[i], &ids[j]);
			if (p < 0 || rn_id_cmp(&d, &dp) < 0) {
				p = (int)j;
				dp = d;
			}
		}
		if (rn_node_state(w->node[i]) != RN_NODE_JOINED || s < 0 ||
		    !id_is(rn_node_succ(w->node[i], &sb), &ids[s]) ||
		    !id_is(rn_node_pred(w->node[i], &pb), &ids[p]))
			return 0;
	}
	return 1;
}

/* Node i's byte counts of its link to the node with this id, as
 * rn_node_links reports them (relay links only). */
static void relay_bytes(const fake_world *w, uint32_t i, const rn_id *id,
			uint64_t *tx, uint64_t *rx)
{
	rn_link_info li[32];
	size_t n = rn_node_links(w->node[i], li, 32);
	*tx = *rx = UINT64_MAX;
	for (size_t k = 0; k < n && k < 32; k++)
		if (!memcmp(li[k].id.b, id->b, RN_ID_LEN)) {
			*tx = li[k].relay_tx_bytes;
			*rx = li[k].relay_rx_bytes;
		}
}

/* Five nodes: node 0 the bootstrap, S whose two ring neighbours (X, Y)
 * have no direct path to it (fake_block), and R, the fifth. S, X, Y are
 * picked from the sorted ids so that neither of S's neighbours is 0. */
typedef struct relay_lab {
	uint32_t s, x, y, r;
	rn_id id[5];
} relay_lab;

static void relay_lab_build(fake_world *w, relay_lab *rl)
{
	uint32_t order[5], k0 = 0;
	dump_world = w;
	for (uint32_t i = 0; i < 5; i++) {
		assert_non_null(fake_add_node(w));
		expected_id(w, i, &rl->id[i]);
		order[i] = i;
	}
	for (uint32_t a = 0; a < 5; a++)
		for (uint32_t b = a + 1; b < 5; b++)
			if (memcmp(rl->id[order[b]].b, rl->id[order[a]].b,
				   RN_ID_LEN) < 0) {
				uint32_t t = order[a];
				order[a] = order[b];
				order[b] = t;
			}
	while (order[k0])
		k0++;
	rl->x = order[(k0 + 1) % 5];
	rl->s = order[(k0 + 2) % 5];
	rl->y = order[(k0 + 3) % 5];
	rl->r = order[(k0 + 4) % 5];
	fake_block(w, rl->s, rl->x);
	fake_block(w, rl->s, rl->y);
	join(w, 0, NULL, 0);
	fake_pump(w, 1000);
	const uint32_t joiners[4] = {rl->x, rl->y, rl->r, rl->s};
	for (uint32_t k = 0; k < 4; k++) {
		uint32_t boot = 0;
		join(w, joiners[k], &boot, 1);
		fake_pump(w, 3000);
	}
	fake_pump(w, 30000);
}

/* A node with no direct path to its two ring neighbours (behind a
 * symmetric NAT, they behind cones) links to them through a neighbour of
 * all three: the ring is consistent, the links are relayed, and lookups
 * cross them both ways. Without relay links (relays_max 0) the ring
 * stays broken around S: the control that the relay is what does it. */
static void test_relay_symmetric(void **state)
{
	fx *f = *state;
	relay_lab rl;
	for (int with = 1; with >= 0; with--) {
		fake_world *w = f->w;
		if (!with) {
			w = control_world(f);
			w->settings.relays_max = 0;
		}
		relay_lab_build(w, &rl);
		assert_true(w->blocked_drops > 0);
		if (!with) {
			assert_false(ring_consistent(w, 5));
			assert_int_equal(link_kind(w, rl.s, &rl.id[rl.x]), 0);
			break;
		}
		check_ring(w, 5);
		/* S's links to X and Y are relayed, both ends; to 0 and R not */
		assert_int_equal(link_kind(w, rl.s, &rl.id[rl.x]), 1);
		assert_int_equal(link_kind(w, rl.s, &rl.id[rl.y]), 1);
		assert_int_equal(link_kind(w, rl.x, &rl.id[rl.s]), 1);
		assert_int_equal(link_kind(w, rl.y, &rl.id[rl.s]), 1);
		assert_int_equal(link_kind(w, rl.s, &rl.id[0]), 2);
		assert_int_equal(link_kind(w, rl.s, &rl.id[rl.r]), 2);
		const rn_node_stats *s0 = rn_node_get_stats(w->node[0]);
		const rn_node_stats *sr = rn_node_get_stats(w->node[rl.r]);
		const rn_node_stats *ss = rn_node_get_stats(w->node[rl.s]);
		assert_true(s0->relay_fwd + sr->relay_fwd > 0);
		assert_true(ss->relay_links + rn_node_get_stats(w->node[rl.x])
							->relay_links >= 1);
		/* lookups over the relayed links, both ways */
		size_t ev = w->n_ev;
		assert_int_equal(rn_node_lookup(w->node[rl.s], w->now,
						&rl.id[rl.x], 77), 0);
		assert_int_equal(rn_node_lookup(w->node[rl.y], w->now,
						&rl.id[rl.s], 78), 0);
		uint64_t fwd = s0->relay_fwd + sr->relay_fwd;
		fake_pump(w, 1000);
		size_t done = 0;
		for (size_t k = ev; k < w->n_ev; k++)
			if (w->ev[k].ev.type == RN_EV_LOOKUP_DONE &&
			    ((w->ev[k].node == rl.s && w->ev[k].ev.qid == 77 &&
			      id_is(&w->ev[k].ev.peer, &rl.id[rl.x])) ||
			     (w->ev[k].node == rl.y && w->ev[k].ev.qid == 78 &&
			      id_is(&w->ev[k].ev.peer, &rl.id[rl.s]))))
				done++;
		if (done != 2)
			fail_seed("lookup over a relay link not done", rl.s);
		assert_true(s0->relay_fwd + sr->relay_fwd > fwd);
		/* the node counts a relay link's bytes (no driver sees its
		 * endpoint), and only a relay link's */
		uint64_t tx, rx, tx2, rx2, dtx, drx;
		relay_bytes(w, rl.s, &rl.id[rl.x], &tx, &rx);
		relay_bytes(w, rl.s, &rl.id[0], &dtx, &drx);
		if (tx == 0 || rx == 0 || dtx != 0 || drx != 0)
			fail_seed("relay link bytes not counted", rl.s);
		assert_int_equal(rn_node_lookup(w->node[rl.s], w->now,
						&rl.id[rl.x], 79), 0);
		fake_pump(w, 1000);
		relay_bytes(w, rl.s, &rl.id[rl.x], &tx2, &rx2);
		assert_true(tx2 > tx && rx2 > rx);
		/* still so a minute later: keepalive through the relay */
		fake_pump(w, 60000);
		check_ring(w, 5);
		assert_int_equal(link_kind(w, rl.s, &rl.id[rl.x]), 1);
	}
}

/* The relay of S's links dies: they move to the other common neighbour
 * and the ring of the four left is consistent again. */
static void test_relay_replaced(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	relay_lab rl;
	relay_lab_build(w, &rl);
	check_ring(w, 5);
	/* whom S's link to X goes through now */
	const rn_node *ns = w->node[rl.s];
	rn_id xoff, rid;
	rn_id_sub(&xoff, &rl.id[rl.x], rn_node_id(ns));
	int dead = -1;
	for (uint32_t i = 0; i < ns->n_relays; i++)
		if (!rn_id_cmp(&ns->relays[i].peer_off, &xoff)) {
			rn_id_add(&rid, rn_node_id(ns), &ns->relays[i].relay_off);
			dead = id_is(&rid, &rl.id[0]) ? 0 : (int)rl.r;
			assert_true(id_is(&rid, &rl.id[dead]));
		}
	assert_true(dead >= 0);
	uint32_t alive = dead == 0 ? rl.r : 0;
	uint64_t fwd = rn_node_get_stats(w->node[alive])->relay_fwd;
	fake_crash(w, (uint32_t)dead);
	fake_pump(w, 60000);
	check_ring(w, 5);
	assert_int_equal(link_kind(w, rl.s, &rl.id[rl.x]), 1);
	assert_int_equal(link_kind(w, rl.s, &rl.id[rl.y]), 1);
	assert_true(rn_node_get_stats(w->node[alive])->relay_fwd > fwd);
}

/* Node a's relay entry for its link to the peer with this id, or NULL. */
static const rn_relay *relay_entry(const fake_world *w, uint32_t a,
				   const rn_id *peer)
{
	const rn_node *n = w->node[a];
	rn_id off;
	rn_id_sub(&off, peer, rn_node_id(n));
	for (uint32_t i = 0; i < n->n_relays; i++)
		if (!rn_id_cmp(&n->relays[i].peer_off, &off))
			return &n->relays[i];
	return NULL;
}

/* World time of node a's next direct try on its relay link to peer (the
 * entry's schedule), or RN_TIME_NEVER if none is scheduled. */
static rn_time next_try(const fake_world *w, uint32_t a, const rn_id *peer)
{
	const rn_relay *e = relay_entry(w, a, peer);
	if (!e || e->direct != RN_RELAY_D_WAIT)
		return RN_TIME_NEVER;
	int32_t d = (int32_t)(e->direct_ms - rn_node_now_ms(w->node[a], w->now));
	return w->now + RN_MS(d > 0 ? d : 0);
}

/* Runs until no side of the pair (a, b) is in the middle of a direct
 * try (at most 10 s). */
static void no_try_under_way(fake_world *w, uint32_t a, uint32_t b,
			     const relay_lab *rl)
{
	for (int k = 0; k < 100; k++) {
		const rn_relay *ea = relay_entry(w, a, &rl->id[b]);
		const rn_relay *eb = relay_entry(w, b, &rl->id[a]);
		if ((!ea || ea->direct != RN_RELAY_D_PROBING) &&
		    (!eb || eb->direct != RN_RELAY_D_PROBING))
			return;
		fake_pump(w, 100);
	}
	fail_seed("a direct try that never ends", a);
}

/* A lookup from a to b and back is done within a second. */
static void lookups_cross(fake_world *w, const relay_lab *rl, uint32_t a,
			  uint32_t b, uint64_t qid)
{
	size_t ev = w->n_ev, done = 0;
	assert_int_equal(rn_node_lookup(w->node[a], w->now, &rl->id[b], qid), 0);
	assert_int_equal(rn_node_lookup(w->node[b], w->now, &rl->id[a], qid + 1),
			 0);
	fake_pump(w, 1000);
	for (size_t k = ev; k < w->n_ev; k++)
		if (w->ev[k].ev.type == RN_EV_LOOKUP_DONE &&
		    ((w->ev[k].node == a && w->ev[k].ev.qid == qid &&
		      id_is(&w->ev[k].ev.peer, &rl->id[b])) ||
		     (w->ev[k].node == b && w->ev[k].ev.qid == qid + 1 &&
		      id_is(&w->ev[k].ev.peer, &rl->id[a]))))
			done++;
	if (done != 2)
		fail_seed("lookups across the link not done", a);
}

/* The direct path between S and X works again (a NAT's state changed, a
 * router rebooted): at the next scheduled try, not before, their relay
 * link moves to the real endpoints, both ends, with no LINK_DOWN, and
 * lookups still cross it; S's link to Y (still blocked) stays relayed.
 * The control: with relay_retry_ms 0 it stays relayed for 15 minutes. */
static void test_relay_back_to_direct(void **state)
{
	fx *f = *state;
	relay_lab rl;
	for (int with = 1; with >= 0; with--) {
		fake_world *w = f->w;
		if (!with) {
			w = control_world(f);
			w->settings.relay_retry_ms = 0;
		}
		relay_lab_build(w, &rl);
		check_ring(w, 5);
		no_try_under_way(w, rl.s, rl.x, &rl);
		assert_int_equal(link_kind(w, rl.s, &rl.id[rl.x]), 1);
		assert_int_equal(link_kind(w, rl.x, &rl.id[rl.s]), 1);
		rn_time t1 = next_try(w, rl.s, &rl.id[rl.x]);
		rn_time t2 = next_try(w, rl.x, &rl.id[rl.s]);
		rn_time due = t1 < t2 ? t1 : t2;
		fake_unblock(w, rl.s, rl.x);
		size_t ev = w->n_ev;
		if (!with) {
			assert_true(due == RN_TIME_NEVER);
			fake_pump(w, 900000);
			if (link_kind(w, rl.s, &rl.id[rl.x]) != 1 ||
			    link_kind(w, rl.x, &rl.id[rl.s]) != 1)
				fail_seed("moved without retries", rl.s);
			for (uint32_t i = 0; i < 5; i++)
				assert_int_equal(rn_node_get_stats(w->node[i])
							 ->relay_direct_tries,
						 0);
			check_ring(w, 5);
			break;
		}
		if (due == RN_TIME_NEVER || due > w->now + RN_MS(600000))
			fail_seed("no direct try scheduled", rl.s);
		/* not before the try (a delivery moves the clock 2 ms) */
		uint32_t ok_s = rn_node_get_stats(w->node[rl.s])->relay_direct_ok;
		uint32_t ok_x = rn_node_get_stats(w->node[rl.x])->relay_direct_ok;
		if (due > w->now + RN_MS(10))
			fake_pump(w, (uint32_t)((due - w->now) / 1000u) - 10);
		if (link_kind(w, rl.s, &rl.id[rl.x]) != 1)
			fail_seed("moved before its try", rl.s);
		/* within the try: a punch and an RTT or two (the fake's
		 * datagrams take 2 ms each) */
		fake_pump(w, 1000);
		if (link_kind(w, rl.s, &rl.id[rl.x]) != 2 ||
		    link_kind(w, rl.x, &rl.id[rl.s]) != 2)
			fail_seed("relay link not back on the direct path", rl.s);
		const rn_node_stats *ss = rn_node_get_stats(w->node[rl.s]);
		const rn_node_stats *sx = rn_node_get_stats(w->node[rl.x]);
		assert_true(ss->relay_direct_tries + sx->relay_direct_tries >= 1);
		assert_int_equal(ss->relay_direct_ok, ok_s + 1);
		assert_int_equal(sx->relay_direct_ok, ok_x + 1);
		/* the entries stay a little (what is in flight on the relay
		 * path), then go; Y's stays */
		const rn_relay *es = relay_entry(w, rl.s, &rl.id[rl.x]);
		const rn_relay *ex = relay_entry(w, rl.x, &rl.id[rl.s]);
		assert_true(!es || es->direct == RN_RELAY_D_MOVED);
		assert_true(!ex || ex->direct == RN_RELAY_D_MOVED);
		assert_non_null(relay_entry(w, rl.s, &rl.id[rl.y]));
		assert_int_equal(link_kind(w, rl.s, &rl.id[rl.y]), 1);
		lookups_cross(w, &rl, rl.s, rl.x, 90);
		/* and it stays so: no flap, no link lost */
		uint64_t fwd = rn_node_get_stats(w->node[0])->relay_fwd +
			       rn_node_get_stats(w->node[rl.r])->relay_fwd;
		fake_pump(w, 120000);
		assert_int_equal(link_kind(w, rl.s, &rl.id[rl.x]), 2);
		assert_int_equal(link_kind(w, rl.x, &rl.id[rl.s]), 2);
		assert_int_equal(count_link_down(w, ev, rl.s, &rl.id[rl.x]), 0);
		assert_int_equal(count_link_down(w, ev, rl.x, &rl.id[rl.s]), 0);
		assert_null(relay_entry(w, rl.s, &rl.id[rl.x]));
		assert_null(relay_entry(w, rl.x, &rl.id[rl.s]));
		assert_non_null(relay_entry(w, rl.s, &rl.id[rl.y]));
		check_ring(w, 5);
		lookups_cross(w, &rl, rl.s, rl.x, 92);
		/* S-Y still relays: some forwarding goes on */
		assert_true(rn_node_get_stats(w->node[0])->relay_fwd +
				    rn_node_get_stats(w->node[rl.r])->relay_fwd >
			    fwd);
	}
}

/* The direct path never comes back: S's relay links stay up and relayed
 * across many tries, each further from the last (relay_retry_ms doubling
 * up to relay_retry_max_ms), nothing goes down, and a failed try costs
 * at most hello_tries_max - 1 HELLOs per side on the blocked path. */
static void test_relay_direct_backoff(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	relay_lab rl;
	/* no tries while the ring forms: the schedule starts afresh below
	 * (the nodes read their settings live) */
	w->settings.relay_retry_ms = 0;
	w->settings.relay_retry_max_ms = 40000;
	relay_lab_build(w, &rl);
	check_ring(w, 5);
	w->settings.relay_retry_ms = 5000;
	const rn_node_stats *ss = rn_node_get_stats(w->node[rl.s]);
	uint64_t tries0 = 0, drops = w->blocked_drops;
	for (uint32_t i = 0; i < 5; i++)
		tries0 += rn_node_get_stats(w->node[i])->relay_direct_tries;
	assert_int_equal(tries0, 0);
	size_t ev = w->n_ev;
	/* when the tries on S's link to X start (either side's), to 250 ms */
	rn_time start[32];
	uint32_t n_start = 0;
	int was = 0;
	for (uint32_t step = 0; step < 4 * 240; step++) { /* 4 minutes */
		fake_pump(w, 250);
		const rn_relay *e = relay_entry(w, rl.s, &rl.id[rl.x]);
		if (!e)
			fail_seed("relay entry gone", rl.s);
		int probing = e->direct == RN_RELAY_D_PROBING;
		if (probing && !was && n_start < 32)
			start[n_start++] = w->now;
		was = probing;
		if (link_kind(w, rl.s, &rl.id[rl.x]) != 1 ||
		    link_kind(w, rl.x, &rl.id[rl.s]) != 1 ||
		    link_kind(w, rl.s, &rl.id[rl.y]) != 1)
			fail_seed("a relay link went or moved", rl.s);
	}
	/* 5, 10, 20, 40, 40 ... s apart, plus the 3.5 s of each try (the
	 * first after the node's next wake-up) */
	if (n_start < 6)
		fail_seed("too few direct tries", rl.s);
	for (uint32_t k = 2; k < n_start; k++) {
		double gap = (double)(start[k] - start[k - 1]) / 1e6;
		double prev = (double)(start[k - 1] - start[k - 2]) / 1e6;
		if (gap < prev - 0.5 || gap > 40.0 + 4.0 ||
		    (prev < 20.0 && gap < 1.8 * prev - 4.0)) {
			print_error("try %u: %.2f s after the last, %.2f before\n",
				    k, gap, prev);
			fail_seed("backoff does not grow as it should", rl.s);
		}
	}
	assert_true((double)(start[n_start - 1] - start[n_start - 2]) / 1e6 >
		    40.0 - 1.0);
	assert_int_equal(ss->relay_direct_ok, 0);
	assert_int_equal(count_link_down(w, ev, rl.s, &rl.id[rl.x]), 0);
	assert_int_equal(count_link_down(w, ev, rl.s, &rl.id[rl.y]), 0);
	assert_int_equal(count_link_down(w, ev, rl.x, &rl.id[rl.s]), 0);
	assert_int_equal(count_link_down(w, ev, rl.y, &rl.id[rl.s]), 0);
	/* the probes happened, and only they crossed the blocked paths */
	uint64_t tries = 0;
	for (uint32_t i = 0; i < 5; i++)
		tries += rn_node_get_stats(w->node[i])->relay_direct_tries;
	tries -= tries0;
	uint64_t dropped = w->blocked_drops - drops;
	if (dropped == 0 ||
	    dropped > tries * (w->settings.hello_tries_max - 1u))
		fail_seed("probes on the blocked paths not as bounded", rl.s);
	assert_true(w->node[rl.s]->n_relays >= 2 &&
		    w->node[rl.s]->n_relays <= w->settings.relays_max);
	check_ring(w, 5);
	lookups_cross(w, &rl, rl.s, rl.x, 94);
	lookups_cross(w, &rl, rl.y, rl.s, 96);
}

/* A far link we answered (FAR_REPLY, the slot in the token) that comes
 * up by the peer's own HELLO, ours having been dropped on the way (the
 * peer opened after our punch): the ACK cannot carry the slot, so a HELLO
 * with FAR_REPLY and the token follows it. */
static void test_far_reply_after_crossing(void **state)
{
	rn_node *a, *b;
	fake_world *w = two_joined(state, &a, &b);
	rn_id s_id, off;
	rn_ep ep_s;
	rn_ep_from_ipv4(&ep_s, 0xC6336409u, 5000);
	id_pow2(&s_id, rn_node_id(a), 0, 120);
	rn_id_sub(&off, &s_id, rn_node_id(a));
	assert_true(rn_node_link_open(a, w->now, &off, &ep_s, RN_KIND_FAR_REPLY,
				      7) >= 0);
	size_t mark = w->q_len;
	fake_hello(w, 0, &ep_s, &s_id, 0);
	size_t acks = 0, far_replies = 0;
	for (size_t k = mark; k < w->q_len; k++) {
		const fake_send *fs = &w->q[(w->q_head + k) % FAKE_SENDS_MAX];
		rn_msg m;
		if (fs->from != 0 || !rn_ep_eq(&fs->to, &ep_s))
			continue;
		assert_int_equal(rn_msg_decode(&w->zone, fs->data, fs->len, &m), 0);
		if (m.type == RN_MSG_HELLO_ACK) {
			assert_false(m.u.hello.kind & RN_KIND_FAR_REPLY);
			acks++;
		} else if (m.type == RN_MSG_HELLO &&
			   (m.u.hello.kind & RN_KIND_FAR_REPLY)) {
			assert_int_equal(m.u.hello.token, 7);
			assert_true(acks == 1); /* after the ACK */
			far_replies++;
		}
	}
	assert_int_equal(acks, 1);
	assert_int_equal(far_replies, 1);
	rn_link_info li;
	assert_true(link_info(w, 0, &s_id, &li) && li.up && li.peer_wants);
	/* an ordinary repeated HELLO on the UP link: no second FAR_REPLY */
	mark = w->q_len;
	fake_hello(w, 0, &ep_s, &s_id, 0);
	uint8_t kinds;
	assert_int_equal(hellos_since(w, 0, mark, &ep_s, &kinds), 0);
}

/* crypto real for w's nodes: a member certificate for node i into *id */
static void real_ident(fake_world *w, const uint8_t gsk[RN_SIGN_SK_LEN],
		       uint32_t i, rn_ident *id)
{
	uint8_t seed[RN_KEY_SEED_LEN], pk[RN_SIGN_PK_LEN], sk[RN_SIGN_SK_LEN];
	uint8_t vip[4], enc[RN_CERT_ENCODED_MAX];
	size_t len;
	rn_cert c;
	trng g;
	trng_init(&g, rn_test_seed() * 131u + i);
	trng_bytes(&g, seed, sizeof seed);
	assert_int_equal(rn_nodekey_keypair(pk, sk, seed), 0);
	fake_vip(i, vip);
	uint64_t t = (uint64_t)((int64_t)(w->now / 1000u) + w->sh.unix_offset_ms) /
		     1000u;
	assert_int_equal(rn_cert_issue(&c, gsk, pk, vip, 4, "m", t - 60, t + 86400),
			 0);
	assert_int_equal(rn_cert_encode(&c, enc, sizeof enc, &len), 0);
	assert_int_equal(rn_ident_init(id, sk, enc, len), 0);
	assert_int_equal(rn_node_set_ident(w->node[i], id), 0);
}

/* Whether every UP link of node i has a live session (its certificate). */
static int up_links_have_sessions(const fake_world *w, uint32_t i)
{
	rn_link_info li[16];
	size_t n = rn_node_links(w->node[i], li, 16);
	for (size_t k = 0; k < n && k < 16; k++)
		if (li[k].up && li[k].vip_len == 0)
			return 0;
	return 1;
}

/* crypto real: A drops its link to B (B does not hear of it; A's session
 * becomes an orphan), then B sends a HELLO on the link it still has, sealed
 * in that session. A must not bring a link up on the orphan's keys (its IP
 * traffic would be refused until the orphan expired): it answers CLOSE
 * FINAL, and the two link again through a handshake. */
static void test_hello_on_orphan_session(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	uint8_t gsk[RN_SIGN_SK_LEN];
	rn_ident id[2];
	assert_int_equal(fake_real_group(w, gsk), 0);
	for (uint32_t i = 0; i < 2; i++) {
		assert_non_null(fake_add_node(w));
		real_ident(w, gsk, i, &id[i]);
	}
	uint32_t boot = 0;
	join(w, 0, NULL, 0);
	join(w, 1, &boot, 1);
	fake_pump(w, 5000);
	rn_node *a = w->node[0], *b = w->node[1];
	rn_id off_ab, off_ba;
	rn_id_sub(&off_ab, rn_node_id(b), rn_node_id(a));
	rn_id_sub(&off_ba, rn_node_id(a), rn_node_id(b));
	int ia = rn_links_find(&a->links, &off_ab);
	assert_true(ia >= 0 && up_links_have_sessions(w, 0));
	fake_drain(w, 1000);
	rn_node_link_drop(a, w->now, (uint32_t)ia, 0);
	/* B re-says HELLO on its UP link: sealed in the session */
	assert_true(rn_node_link_open(b, w->now, &off_ba, &w->ep[0],
				      RN_KIND_NEAR, 0) >= 0);
	uint32_t unk = rn_node_get_stats(a)->drop_unknown;
	fake_drain(w, 100);
	assert_true(up_links_have_sessions(w, 0));
	assert_true(rn_node_get_stats(a)->drop_unknown > unk);
	/* B got CLOSE FINAL; both are alone, and link again by handshake */
	fake_pump(w, 30000);
	assert_true(has_up_link_to(w, 0, rn_node_id(b)) &&
		    has_up_link_to(w, 1, rn_node_id(a)));
	assert_true(up_links_have_sessions(w, 0) && up_links_have_sessions(w, 1));
}

static void test_far_hints(void **state)
{
	rn_node *a, *b;
	fake_world *w = two_joined(state, &a, &b);
	assert_int_equal(w->settings.far_kind, RN_FAR_FINGERS2);
	const rn_id ida = *rn_node_id(a), idb = *rn_node_id(b);
	/* Ring neighbours at +-2^100 (peers that exist only in the test) put
	 * a's near octave at 100 on both sides: its finger intervals are
	 * slots 101..159 either way. A peer at +2^140 that keeps a as its
	 * own far link sits inside finger interval 140 but is no finger of
	 * a's: only the link table says that a already has it. */
	rn_id near_cw, near_ccw, leaf;
	rn_ep ep_cw, ep_ccw, ep_leaf;
	id_pow2(&near_cw, &ida, 0, 100);
	id_pow2(&near_ccw, &ida, 1, 100);
	id_pow2(&leaf, &ida, 0, 140);
	rn_ep_from_ipv4(&ep_cw, 0xC6336401u, 5000); /* 198.51.100.x */
	rn_ep_from_ipv4(&ep_ccw, 0xC6336402u, 5000);
	rn_ep_from_ipv4(&ep_leaf, 0xC6336403u, 5000);
	fake_hello(w, 0, &ep_cw, &near_cw, RN_KIND_NEAR);
	fake_hello(w, 0, &ep_ccw, &near_ccw, RN_KIND_NEAR);
	fake_hello(w, 0, &ep_leaf, &leaf, RN_KIND_FAR);
	rn_link_info li;
	assert_true(link_info(w, 0, &near_cw, &li) && li.up && !li.leaf);
	assert_true(link_info(w, 0, &near_ccw, &li) && li.up && !li.leaf);
	assert_true(link_info(w, 0, &leaf, &li) && li.up && li.peer_wants &&
		    !li.far_out);
	assert_true(link_info(w, 0, &idb, &li) && li.up);
	const size_t links0 = rn_node_link_count(a);
	assert_int_equal(links0, 4);

	enum { H_CW, H_CCW, H_LOW, H_GAP, H_CLOSE, H_SELF, H_LEAF, H_B, N_H };
	rn_msg hints;
	memset(&hints, 0, sizeof hints);
	hints.type = RN_MSG_FAR_HINTS;
	hints.u.neighbors.n = N_H;
	rn_peer_info *v = hints.u.neighbors.v;
	for (uint32_t k = 0; k < N_H; k++) /* 203.0.113.x */
		rn_ep_from_ipv4(&v[k].ep, 0xCB007110u + k, 6000);
	id_pow2(&v[H_CW].id, &ida, 0, 120);  /* finger slot 120 clockwise */
	id_pow2(&v[H_CCW].id, &ida, 1, 130); /* slot 130 counter-clockwise */
	id_pow2(&v[H_LOW].id, &ida, 0, 99);  /* slot 99: below the octave */
	/* 1.5 * 2^110: past slot 110's window, short of slot 111's */
	id_pow2(&v[H_GAP].id, &ida, 0, 110);
	id_pow2(&v[H_GAP].id, &v[H_GAP].id, 0, 109);
	id_pow2(&v[H_CLOSE].id, &ida, 0, 0); /* next to a's own id */
	v[H_SELF].id = ida;
	v[H_LEAF].id = leaf; /* already linked */
	v[H_LEAF].ep = ep_leaf;
	v[H_B].id = idb; /* already linked */
	v[H_B].ep = w->ep[1];
	const rn_node_stats *st = rn_node_get_stats(a);
	uint8_t kinds;

	/* from an endpoint a has no link with: ignored */
	rn_ep stranger;
	rn_ep_from_ipv4(&stranger, 0xCB007109u, 9);
	uint32_t unk0 = st->drop_unknown;
	size_t mark = w->q_len;
	feed(w, 0, &stranger, &hints);
	assert_int_equal(hellos_since(w, 0, mark, NULL, &kinds), 0);
	assert_int_equal(rn_node_link_count(a), links0);
	assert_int_equal(st->drop_unknown, unk0 + 1);

	/* from b: a HELLO kind FAR to the two finger candidates only */
	mark = w->q_len;
	feed(w, 0, &w->ep[1], &hints);
	assert_int_equal(hellos_since(w, 0, mark, &v[H_CW].ep, &kinds), 1);
	assert_true(kinds & RN_KIND_FAR);
	assert_int_equal(hellos_since(w, 0, mark, &v[H_CCW].ep, &kinds), 1);
	assert_true(kinds & RN_KIND_FAR);
	assert_int_equal(hellos_since(w, 0, mark, NULL, &kinds), 2);
	assert_int_equal(rn_node_link_count(a), links0 + 2);
	for (int k = H_CW; k <= H_CCW; k++) {
		assert_true(link_info(w, 0, &v[k].id, &li));
		assert_false(li.up); /* half-open until the peer answers */
		assert_true(li.far_out);
		assert_true(rn_ep_eq(&li.ep, &v[k].ep));
	}
	for (int k = H_LOW; k <= H_SELF; k++)
		assert_false(link_info(w, 0, &v[k].id, &li));
	assert_true(link_info(w, 0, &leaf, &li) && li.up && li.peer_wants &&
		    !li.far_out);

	/* the same hints again: those peers are linked now */
	mark = w->q_len;
	feed(w, 0, &w->ep[1], &hints);
	assert_int_equal(hellos_since(w, 0, mark, NULL, &kinds), 0);
	assert_int_equal(rn_node_link_count(a), links0 + 2);

	/* a new candidate, from an endpoint whose link is not up yet (the
	 * half-open one to H_CW): ignored; the same from b: opened */
	rn_msg one;
	memset(&one, 0, sizeof one);
	one.type = RN_MSG_FAR_HINTS;
	one.u.neighbors.n = 1;
	id_pow2(&one.u.neighbors.v[0].id, &ida, 0, 125);
	rn_ep_from_ipv4(&one.u.neighbors.v[0].ep, 0xCB007130u, 6000);
	mark = w->q_len;
	feed(w, 0, &v[H_CW].ep, &one);
	assert_int_equal(hellos_since(w, 0, mark, NULL, &kinds), 0);
	assert_false(link_info(w, 0, &one.u.neighbors.v[0].id, &li));
	feed(w, 0, &w->ep[1], &one);
	assert_int_equal(hellos_since(w, 0, mark, &one.u.neighbors.v[0].ep,
				      &kinds),
			 1);
	assert_true(kinds & RN_KIND_FAR);

	/* one-way fingers: counter-clockwise candidates are no fingers */
	w->settings.far_kind = RN_FAR_FINGERS1;
	id_pow2(&one.u.neighbors.v[0].id, &ida, 1, 135);
	rn_ep_from_ipv4(&one.u.neighbors.v[0].ep, 0xCB007131u, 6000);
	mark = w->q_len;
	feed(w, 0, &w->ep[1], &one);
	assert_int_equal(hellos_since(w, 0, mark, NULL, &kinds), 0);
	id_pow2(&one.u.neighbors.v[0].id, &ida, 0, 135);
	feed(w, 0, &w->ep[1], &one);
	assert_int_equal(hellos_since(w, 0, mark, &one.u.neighbors.v[0].ep,
				      &kinds),
			 1);
	w->settings.far_kind = RN_FAR_FINGERS2;
}

/* ---- routing without hop acks ------------------------------------------- */

/* A ROUTED LOOKUP from src to dst with the given hop sequence. */
static void routed_lookup(rn_msg *m, uint8_t *body, size_t cap,
			  const rn_id *src, const rn_id *dst, uint32_t hop_seq,
			  uint64_t qid, uint8_t ttl)
{
	rn_body b;
	size_t len;
	b.type = RN_BODY_LOOKUP;
	b.u.lookup.qid = qid;
	b.u.lookup.hops = 0;
	assert_int_equal(rn_body_encode(&b, body, cap, &len), 0);
	memset(m, 0, sizeof *m);
	m->type = RN_MSG_ROUTED;
	m->u.routed.hop_seq = hop_seq;
	m->u.routed.src = *src;
	m->u.routed.dst = *dst;
	m->u.routed.mode = RN_ROUTE_EXACT;
	m->u.routed.ttl = ttl;
	m->u.routed.body = body;
	m->u.routed.body_len = len;
}

/* The datagrams node i sent since mark, of one type, to `to`: how many,
 * and the last one decoded into *out. */
static size_t sent_since(fake_world *w, uint32_t i, size_t mark, int type,
			 const rn_ep *to, rn_msg *out)
{
	size_t c = 0;
	for (size_t k = mark; k < w->q_len; k++) {
		const fake_send *s = &w->q[(w->q_head + k) % FAKE_SENDS_MAX];
		rn_msg m;
		if (s->from != i || s->len < 2 || s->data[1] != type)
			continue;
		assert_true(rn_ep_eq(&s->to, to));
		assert_int_equal(rn_msg_decode(&w->zone, s->data, s->len, &m),
				 0);
		*out = m;
		c++;
	}
	return c;
}

/* Node 0 of a ring of three relays a lookup from node 1 to node 2. With
 * hop_seq 0 nobody acknowledges a hop and the relay forwards it with
 * hop_seq 0, keeping no copy; with a sequence, the relay acknowledges that
 * sequence and forwards under a sequence of its own, awaiting node 2's
 * ack. */
static void test_routed_no_hop_acks(void **state)
{
	fx *f = *state;
	fake_world *w = f->w;
	build_ring(w, 3, 20000);
	check_ring(w, 3);
	fake_drain(w, 1000);
	rn_node *x = w->node[0];
	const rn_id id1 = *rn_node_id(w->node[1]);
	const rn_id id2 = *rn_node_id(w->node[2]);
	rn_link_info li;
	assert_true(link_info(w, 0, &id1, &li) && li.up);
	assert_true(link_info(w, 0, &id2, &li) && li.up);
	assert_int_equal(x->n_pend, 0);
	uint8_t ttl = (uint8_t)w->settings.hop_limit;
	uint8_t body[64];
	rn_msg m, got;

	/* hop_seq 0: no ack to node 1, forwarded to node 2 unacked */
	uint64_t acks0 = w->sent_type[0][RN_MSG_HOP_ACK];
	uint64_t acks2 = w->sent_type[2][RN_MSG_HOP_ACK];
	routed_lookup(&m, body, sizeof body, &id1, &id2, 0, 501, ttl);
	size_t mark = w->q_len, ev0 = w->n_ev;
	feed(w, 0, &w->ep[1], &m);
	assert_true(w->sent_type[0][RN_MSG_HOP_ACK] == acks0);
	assert_int_equal(w->q_len, mark + 1);
	assert_int_equal(sent_since(w, 0, mark, RN_MSG_ROUTED, &w->ep[2], &got),
			 1);
	assert_int_equal(got.u.routed.hop_seq, 0);
	assert_int_equal(got.u.routed.hops, 1);
	assert_memory_equal(got.u.routed.src.b, id1.b, RN_ID_LEN);
	assert_memory_equal(got.u.routed.dst.b, id2.b, RN_ID_LEN);
	assert_int_equal(got.u.routed.body_len, m.u.routed.body_len);
	assert_memory_equal(got.u.routed.body, body, m.u.routed.body_len);
	assert_int_equal(x->n_pend, 0);
	/* node 2, the destination, takes it without an ack either */
	fake_drain(w, 1000);
	const fake_event *del =
		find_event(w, ev0, 2, RN_EV_LOOKUP_DELIVERED, 501);
	if (!del)
		fail_seed("unacked lookup not delivered", 2);
	assert_int_equal(del->ev.hops, 2); /* 1 -> 0 -> 2 */
	assert_true(w->sent_type[2][RN_MSG_HOP_ACK] == acks2);
	assert_int_equal(x->n_pend, 0);

	/* hop_seq set: node 1 gets the ack for its sequence, node 2 a copy
	 * under node 0's own sequence, which node 0 keeps until acked */
	const uint32_t seq = 0x5eed1234u;
	routed_lookup(&m, body, sizeof body, &id1, &id2, seq, 502, ttl);
	mark = w->q_len;
	ev0 = w->n_ev;
	feed(w, 0, &w->ep[1], &m);
	assert_int_equal(w->q_len, mark + 2);
	assert_int_equal(
		sent_since(w, 0, mark, RN_MSG_HOP_ACK, &w->ep[1], &got), 1);
	assert_true(got.u.hop_ack.hop_seq == seq);
	assert_int_equal(sent_since(w, 0, mark, RN_MSG_ROUTED, &w->ep[2], &got),
			 1);
	assert_true(got.u.routed.hop_seq != 0);
	assert_int_equal(got.u.routed.hops, 1);
	assert_int_equal(x->n_pend, 1);
	assert_true(x->pend[0].hop_seq == got.u.routed.hop_seq);
	fake_drain(w, 1000);
	assert_non_null(find_event(w, ev0, 2, RN_EV_LOOKUP_DELIVERED, 502));
	assert_true(w->sent_type[2][RN_MSG_HOP_ACK] == acks2 + 1);
	assert_int_equal(x->n_pend, 0);
}

/* The first node of a group has no bootstrap peers. When it leaves and
 * starts again (a restart), the neighbours it left probe it as a lost one
 * (lost.c), and it is in the ring again, not a ring of its own. Control
 * (lost_peers_max 0): it stays alone. */
static void test_first_node_restart(void **state)
{
	fx *f = *state;
	const uint32_t n = FAKE_NODES_MAX;
	for (int with = 1; with >= 0; with--) {
		fake_world *w = with ? f->w : control_world(f);
		/* nobody else sees fewer than 2 near_k ring nodes: none looks
		 * for the ring through its bootstrap (near.c) */
		w->settings.near_k = 2;
		if (!with)
			w->settings.lost_peers_max = 0;
		build_ring(w, n, 30000);
		check_ring(w, n);
		rn_node_leave(w->node[0], w->now);
		fake_drain(w, 100);
		fake_crash(w, 0);
		fake_pump(w, 2000);
		uint8_t vip[4];
		fake_vip(0, vip);
		w->node[0] = rn_node_new(&w->sh, &w->ctx[0], w->group, vip, 4,
					 &w->ep[0], w->now);
		assert_non_null(w->node[0]);
		join(w, 0, NULL, 0); /* a ring of one, as at the start */
		fake_pump(w, 60000);
		if (with) {
			check_ring(w, n);
			assert_true(rn_node_link_count(w->node[0]) >= 2);
		} else {
			if (rn_node_link_count(w->node[0]) != 0)
				fail_seed("control: the restarted node was found "
					  "without lost peers", 0);
			assert_false(ring_consistent(w, n));
		}
	}
}

int main(void)
{
	assert_true(sodium_init() >= 0);
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_new_refuses_bad_vip),
		T(test_join_alone),
		T(test_join_two),
		T(test_ring_of_five),
		T(test_ring_of_three_and_four),
		T(test_lookup),
		T(test_trace),
		T(test_undecodable),
		T(test_unknown_endpoint),
		T(test_dead_link),
		T(test_dead_link_not_early),
		T(test_leave),
		T(test_first_node_restart),
		T(test_bootstrap_unreachable),
		T(test_hop_ack_source),
		T(test_new_id_at_endpoint),
		T(test_bootstrap_probe_stateless),
		T(test_nat_join_answer_via_bootstrap),
		T(test_nat_punch),
		T(test_relay_symmetric),
		T(test_relay_replaced),
		T(test_relay_back_to_direct),
		T(test_relay_direct_backoff),
		T(test_far_reply_after_crossing),
		T(test_hello_on_orphan_session),
		T(test_far_hints),
		T(test_routed_no_hop_acks),
	};
#undef T
	printf("# RN_TEST_SEED=%llu\n", (unsigned long long)rn_test_seed());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
