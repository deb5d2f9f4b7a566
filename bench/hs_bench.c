/* hs_bench: how many full link handshakes one core completes per second,
 * against libsodium's primitives measured side by side in the same run.
 *
 * Two crypto-real overlay nodes (members of one group, certificates made
 * with core/cert.h as `ringnet member add` makes them) live in one process
 * with an in-memory environment: send() appends to a queue, the loop
 * delivers, random() is a fixed-seed splitmix64, time is a manual clock.
 * Node A opens a link to B (HELLO -> INIT; B verifies, answers RESP; A
 * verifies; both hold a session), then both sides drop the link, so the
 * next open is a new full handshake (INIT with certificate, not a rekey).
 * The manual clock moves 10 ms per handshake, under the responder's
 * handshakes_per_s_max (200), so no cookies are asked for; hs_init_ok on B
 * and hs_resp_ok on A must advance by exactly the count.
 *
 * One handshake is, in libsodium calls: 2 crypto_sign_detached (sig_i,
 * sig_r), 4 crypto_sign_verify_detached (each certificate, each
 * transcript), 2 crypto_scalarmult_base (the ephemerals), 2
 * crypto_scalarmult (the DH on each side), plus BLAKE2b transcripts, the
 * KDF, msgpack and the overlay's HELLO/HELLO_ACK handling. The primitives
 * are timed before and after the handshakes (so a load change shows).
 *
 *   hs_bench [-n HANDSHAKES] [-m PRIMITIVE_OPS] [-s SEED]
 *
 * Output: "key: value" lines (bench/issue3.sh keeps them). Exit 1 if a
 * handshake did not complete or the counters disagree.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/cert.h"
#include "core/env.h"
#include "core/ep.h"
#include "core/err.h"
#include "core/id.h"
#include "overlay/hs.h"
#include "overlay/msg.h"
#include "overlay/node.h"
#include "overlay/node_impl.h"
#include "overlay/sec.h"
#include "overlay/settings.h"

#define Q_MAX 256
#define STEP_US 10000u /* manual clock per handshake: 100 INITs/s < 200 */

typedef struct dgram {
	int from;
	rn_ep to;
	size_t len;
	uint8_t data[RN_DGRAM_MAX];
} dgram;

typedef struct world world;

typedef struct bctx {
	world *w;
	int idx;
	rn_time deadline;
	uint64_t rng;
} bctx;

struct world {
	rn_env env;
	rn_settings settings;
	rn_shared sh;
	uint8_t group_sk[RN_SIGN_SK_LEN];
	uint8_t group_id[32];
	rn_time now;
	rn_node *node[2];
	rn_ep ep[2];
	bctx ctx[2];
	rn_ident ident[2];
	dgram *q; /* FIFO ring of Q_MAX */
	size_t q_head, q_len;
	uint64_t sent, overflow, undeliverable, log_lines;
	uint64_t sent_by_type[256]; /* 20 INIT, 21 RESP, 23 COOKIE, 0x16 DATA */
	uint64_t bytes_by_type[256];
	size_t min_by_type[256], max_by_type[256];
};

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void fill(uint64_t *s, uint8_t *p, size_t n)
{
	while (n) {
		uint64_t v = splitmix(s);
		size_t k = n < 8 ? n : 8;
		memcpy(p, &v, k);
		p += k;
		n -= k;
	}
}

/* ---- the environment ----------------------------------------------------- */

static void env_send(void *vctx, const rn_ep *to, const uint8_t *buf, size_t len)
{
	bctx *c = vctx;
	world *w = c->w;
	/* DATA is raw (first byte 0x16); handshakes are msgpack arrays whose
	 * first element is the type */
	uint8_t type = len >= 1 && buf[0] == RN_HS_DATA ? RN_HS_DATA
		       : len >= 2                      ? buf[1]
						       : 0;
	w->sent++;
	w->sent_by_type[type]++;
	w->bytes_by_type[type] += len;
	if (!w->min_by_type[type] || len < w->min_by_type[type])
		w->min_by_type[type] = len;
	if (len > w->max_by_type[type])
		w->max_by_type[type] = len;
	if (w->q_len == Q_MAX || len > RN_DGRAM_MAX) {
		w->overflow++;
		return;
	}
	dgram *d = &w->q[(w->q_head + w->q_len++) % Q_MAX];
	d->from = c->idx;
	d->to = *to;
	d->len = len;
	memcpy(d->data, buf, len);
}

static void env_tun_write(void *ctx, const uint8_t *p, size_t n)
{
	(void)ctx;
	(void)p;
	(void)n;
}

static void env_set_deadline(void *vctx, rn_time t)
{
	((bctx *)vctx)->deadline = t;
}

static void env_random(void *vctx, uint8_t *buf, size_t len)
{
	fill(&((bctx *)vctx)->rng, buf, len);
}

static void env_log(void *vctx, int level, const char *msg)
{
	bctx *c = vctx;
	c->w->log_lines++;
	if (getenv("HS_BENCH_VERBOSE"))
		fprintf(stderr, "node %d level %d: %s\n", c->idx, level, msg);
}

/* Delivers everything in flight and what it causes; fires due timers. */
static void pump(world *w)
{
	for (;;) {
		for (int i = 0; i < 2; i++) {
			if (w->ctx[i].deadline != RN_TIME_NEVER &&
			    w->ctx[i].deadline <= w->now) {
				w->ctx[i].deadline = RN_TIME_NEVER;
				rn_node_on_timeout(w->node[i], w->now);
			}
		}
		if (!w->q_len)
			return;
		dgram *d = &w->q[w->q_head];
		w->q_head = (w->q_head + 1) % Q_MAX;
		w->q_len--;
		w->now += 1; /* 1 us a datagram: ordering only */
		int to = rn_ep_eq(&d->to, &w->ep[0]) ? 0
			 : rn_ep_eq(&d->to, &w->ep[1]) ? 1
						       : -1;
		if (to < 0) {
			w->undeliverable++;
			continue;
		}
		rn_node_recv(w->node[to], w->now, &w->ep[d->from], d->data,
			     d->len);
	}
}

/* ---- setup --------------------------------------------------------------- */

static int make_member(world *w, int i, uint64_t seed)
{
	uint8_t kseed[RN_KEY_SEED_LEN], pk[RN_SIGN_PK_LEN], sk[RN_SIGN_SK_LEN];
	uint64_t s = seed * 977u + (uint64_t)i;
	fill(&s, kseed, sizeof kseed);
	if (rn_nodekey_keypair(pk, sk, kseed))
		return -1;
	uint8_t vip[4] = {10, 1, 0, (uint8_t)(i + 1)};
	uint64_t t = (uint64_t)((int64_t)(w->now / 1000u) + w->sh.unix_offset_ms) /
		     1000u;
	rn_cert c;
	uint8_t enc[RN_CERT_ENCODED_MAX];
	size_t len;
	if (rn_cert_issue(&c, w->group_sk, pk, vip, 4, i ? "bob" : "alice",
			  t - 60, t + 365u * 86400u) ||
	    rn_cert_encode(&c, enc, sizeof enc, &len) ||
	    rn_ident_init(&w->ident[i], sk, enc, len))
		return -1;
	rn_ep_from_ipv4(&w->ep[i], 0xC0000201u + (uint32_t)i, 4000);
	w->ctx[i].w = w;
	w->ctx[i].idx = i;
	w->ctx[i].deadline = RN_TIME_NEVER;
	w->ctx[i].rng = seed * 31u + (uint64_t)i;
	w->node[i] = rn_node_new(&w->sh, &w->ctx[i], w->group_id, vip, 4,
				 &w->ep[i], w->now);
	if (!w->node[i] || rn_node_set_ident(w->node[i], &w->ident[i]) ||
	    rn_node_join(w->node[i], w->now, NULL, 0))
		return -1;
	return 0;
}

static world *world_new(uint64_t seed)
{
	world *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->q = calloc(Q_MAX, sizeof *w->q);
	if (!w->q)
		return NULL;
	rn_settings_default(&w->settings);
	w->settings.crypto = RN_CRYPTO_REAL;
	w->env.send = env_send;
	w->env.tun_write = env_tun_write;
	w->env.set_deadline = env_set_deadline;
	w->env.random = env_random;
	w->env.portmap_request = NULL;
	w->env.log = env_log;
	w->env.event = NULL;
	if (rn_shared_init(&w->sh, &w->settings, &w->env))
		return NULL;
	w->now = RN_MS(1000000);
	w->sh.unix_offset_ms = 1780272000000ll - (int64_t)(w->now / 1000u);
	uint8_t gseed[RN_KEY_SEED_LEN];
	uint64_t s = seed ^ 0x6b6579ull;
	fill(&s, gseed, sizeof gseed);
	if (rn_group_keypair(w->sh.group_pk, w->group_sk, gseed))
		return NULL;
	rn_group_id(w->group_id, w->sh.group_pk);
	for (int i = 0; i < 2; i++)
		if (make_member(w, i, seed))
			return NULL;
	pump(w);
	return w;
}

/* ---- one handshake ------------------------------------------------------- */

static int link_up(const rn_node *n, const rn_id *off)
{
	int i = rn_links_find(&n->links, off);
	return i >= 0 && n->links.v[i].state == RN_LINK_UP;
}

static void drop(rn_node *n, rn_time now, const rn_id *off)
{
	int i = rn_links_find(&n->links, off);
	if (i >= 0) {
		n->now = now;
		rn_node_link_drop(n, now, (uint32_t)i, 0);
	}
}

/* A opens a link to B, the handshake runs, both drop it. 0 if it came up
 * on both sides. */
static int handshake(world *w, const rn_id *off_ab, const rn_id *off_ba)
{
	w->now += STEP_US;
	pump(w);
	rn_node *a = w->node[0], *b = w->node[1];
	a->now = w->now;
	if (rn_node_link_open(a, w->now, off_ab, &w->ep[1], RN_KIND_FAR, 0) < 0)
		return -1;
	pump(w);
	int ok = link_up(a, off_ab) && link_up(b, off_ba);
	drop(a, w->now, off_ab);
	drop(b, w->now, off_ba);
	pump(w);
	return ok ? 0 : -1;
}

/* The pair linked and idle for 610 s of manual clock (one rekey period):
 * what its datagrams are and weigh (keepalives, rekey INIT/RESP without
 * certificates). A 2-node ring, not the 12-node group: sizes, not rates. */
static void idle_pair(world *w, const rn_id *off_ab)
{
	rn_sec_stats a0 = *rn_node_sec_stats(w->node[0]);
	rn_sec_stats b0 = *rn_node_sec_stats(w->node[1]);
	w->now += STEP_US;
	pump(w);
	w->node[0]->now = w->now;
	rn_node_link_open(w->node[0], w->now, off_ab, &w->ep[1], RN_KIND_FAR, 0);
	pump(w);
	w->now += RN_MS(1000);
	pump(w);
	memset(w->sent_by_type, 0, sizeof w->sent_by_type);
	memset(w->bytes_by_type, 0, sizeof w->bytes_by_type);
	memset(w->min_by_type, 0, sizeof w->min_by_type);
	memset(w->max_by_type, 0, sizeof w->max_by_type);
	uint64_t sent0 = w->sent;
	for (int i = 0; i < 610; i++) {
		w->now += RN_MS(1000);
		pump(w);
	}
	const rn_sec_stats *a1 = rn_node_sec_stats(w->node[0]);
	const rn_sec_stats *b1 = rn_node_sec_stats(w->node[1]);
	static const struct { int t; const char *name; } ty[] = {
		{RN_HS_INIT, "INIT"}, {RN_HS_RESP, "RESP"},
		{RN_HS_COOKIE, "COOKIE"}, {RN_HS_DATA, "DATA"}};
	printf("idle_pair_610s: %llu datagrams, %u rekeys, link %s;",
	       (unsigned long long)(w->sent - sent0),
	       (a1->hs_rekeys - a0.hs_rekeys) + (b1->hs_rekeys - b0.hs_rekeys),
	       rn_node_link_count(w->node[0]) ? "kept" : "gone");
	for (size_t k = 0; k < sizeof ty / sizeof ty[0]; k++) {
		int t = ty[k].t;
		if (!w->sent_by_type[t])
			continue;
		printf(" %s %llu x %.1f B (%zu..%zu)", ty[k].name,
		       (unsigned long long)w->sent_by_type[t],
		       (double)w->bytes_by_type[t] / (double)w->sent_by_type[t],
		       w->min_by_type[t], w->max_by_type[t]);
	}
	printf("\n");
}

/* ---- timing -------------------------------------------------------------- */

static double now_s(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct prim {
	double sign, verify, dh, dh_base, hash; /* operations per second */
} prim;

/* Each primitive m times on fixed inputs, wall clock. */
static void primitives(prim *p, int m)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	uint8_t msg[32], sig[crypto_sign_BYTES], x[32], y[32], out[32];
	uint8_t big[512];
	volatile int sink = 0;
	crypto_sign_keypair(pk, sk);
	randombytes_buf(msg, sizeof msg);
	randombytes_buf(x, sizeof x);
	randombytes_buf(big, sizeof big);
	crypto_scalarmult_base(y, x);
	double t;

	t = now_s(CLOCK_MONOTONIC);
	for (int i = 0; i < m; i++) {
		msg[0] = (uint8_t)i;
		crypto_sign_detached(sig, NULL, msg, sizeof msg, sk);
	}
	p->sign = m / (now_s(CLOCK_MONOTONIC) - t);

	t = now_s(CLOCK_MONOTONIC);
	for (int i = 0; i < m; i++)
		sink += crypto_sign_verify_detached(sig, msg, sizeof msg, pk);
	p->verify = m / (now_s(CLOCK_MONOTONIC) - t);

	t = now_s(CLOCK_MONOTONIC);
	for (int i = 0; i < m; i++) {
		x[0] = (uint8_t)i;
		sink += crypto_scalarmult(out, x, y);
	}
	p->dh = m / (now_s(CLOCK_MONOTONIC) - t);

	t = now_s(CLOCK_MONOTONIC);
	for (int i = 0; i < m; i++) {
		x[0] = (uint8_t)i;
		sink += crypto_scalarmult_base(out, x);
	}
	p->dh_base = m / (now_s(CLOCK_MONOTONIC) - t);

	/* a transcript hash: BLAKE2b-256 of ~400 bytes (INIT with cert) */
	t = now_s(CLOCK_MONOTONIC);
	for (int i = 0; i < m; i++) {
		big[0] = (uint8_t)i;
		crypto_generichash(out, 32, big, 400, NULL, 0);
	}
	p->hash = m / (now_s(CLOCK_MONOTONIC) - t);
	(void)sink;
}

/* Seconds one handshake's public-key operations take at these rates. */
static double hs_prim_s(const prim *p)
{
	return 2 / p->sign + 4 / p->verify + 2 / p->dh + 2 / p->dh_base;
}

static void print_prim(const char *tag, const prim *p)
{
	printf("%s_sign_per_s: %.0f\n", tag, p->sign);
	printf("%s_verify_per_s: %.0f\n", tag, p->verify);
	printf("%s_scalarmult_per_s: %.0f\n", tag, p->dh);
	printf("%s_scalarmult_base_per_s: %.0f\n", tag, p->dh_base);
	printf("%s_blake2b_400B_per_s: %.0f\n", tag, p->hash);
}

static void usage(void)
{
	fprintf(stderr, "usage: hs_bench [-n HANDSHAKES] [-m PRIMITIVE_OPS] "
			"[-s SEED]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	long n = 3000, m = 2000;
	uint64_t seed = 1;
	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "-n"))
			n = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "-m"))
			m = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "-s"))
			seed = strtoull(argv[++i], NULL, 10);
		else
			usage();
	}
	if (n < 1 || m < 1)
		usage();
	if (sodium_init() < 0) {
		fprintf(stderr, "hs_bench: sodium_init failed\n");
		return 1;
	}
	world *w = world_new(seed);
	if (!w) {
		fprintf(stderr, "hs_bench: setup failed\n");
		return 1;
	}
	rn_id off_ab, off_ba;
	rn_id_sub(&off_ab, rn_node_id(w->node[1]), rn_node_id(w->node[0]));
	rn_id_sub(&off_ba, rn_node_id(w->node[0]), rn_node_id(w->node[1]));

	/* warm-up, and the sizes of one handshake's datagrams */
	for (int i = 0; i < 50; i++)
		if (handshake(w, &off_ab, &off_ba)) {
			fprintf(stderr, "hs_bench: warm-up handshake %d failed\n", i);
			return 1;
		}

	prim before, after;
	primitives(&before, (int)m);

	rn_sec_stats a0 = *rn_node_sec_stats(w->node[0]);
	rn_sec_stats b0 = *rn_node_sec_stats(w->node[1]);
	uint64_t sent0 = w->sent, init0 = w->sent_by_type[RN_HS_INIT],
		 resp0 = w->sent_by_type[RN_HS_RESP],
		 data0 = w->sent_by_type[RN_HS_DATA],
		 initb0 = w->bytes_by_type[RN_HS_INIT],
		 respb0 = w->bytes_by_type[RN_HS_RESP];
	long failed = 0;
	double t0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
	for (long i = 0; i < n; i++)
		failed += handshake(w, &off_ab, &off_ba) != 0;
	double wall = now_s(CLOCK_MONOTONIC) - t0;
	double cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;

	primitives(&after, (int)m);

	const rn_sec_stats *a1 = rn_node_sec_stats(w->node[0]);
	const rn_sec_stats *b1 = rn_node_sec_stats(w->node[1]);
	uint32_t d_init_ok = b1->hs_init_ok - b0.hs_init_ok;
	uint32_t d_resp_ok = a1->hs_resp_ok - a0.hs_resp_ok;
	uint32_t d_init_sent = a1->hs_init_sent - a0.hs_init_sent;
	uint32_t d_resp_sent = b1->hs_resp_sent - b0.hs_resp_sent;
	uint32_t d_b_init_sent = b1->hs_init_sent - b0.hs_init_sent;
	uint32_t d_cookies = (a1->hs_cookie_sent - a0.hs_cookie_sent) +
			     (b1->hs_cookie_sent - b0.hs_cookie_sent);
	uint32_t refused = 0;
	refused += a1->hs_bad_cert + a1->hs_other_group + a1->hs_expired +
		   a1->hs_bad_sig + a1->hs_wrong_id + a1->hs_stale +
		   a1->hs_unexpected;
	refused += b1->hs_bad_cert + b1->hs_other_group + b1->hs_expired +
		   b1->hs_bad_sig + b1->hs_wrong_id + b1->hs_stale +
		   b1->hs_unexpected;
	uint64_t n_init = w->sent_by_type[RN_HS_INIT] - init0;
	uint64_t n_resp = w->sent_by_type[RN_HS_RESP] - resp0;
	int counters_ok = d_init_ok == (uint32_t)n && d_resp_ok == (uint32_t)n &&
			  d_init_sent == (uint32_t)n && d_resp_sent == (uint32_t)n &&
			  d_b_init_sent == 0 && d_cookies == 0 && refused == 0 &&
			  failed == 0 && !w->overflow && !w->undeliverable;

	double hs_s = (double)n / wall;
	prim avg = {(before.sign + after.sign) / 2,
		    (before.verify + after.verify) / 2, (before.dh + after.dh) / 2,
		    (before.dh_base + after.dh_base) / 2,
		    (before.hash + after.hash) / 2};
	double prim_s = hs_prim_s(&avg);

	printf("handshakes: %ld\n", n);
	printf("failed: %ld\n", failed);
	printf("wall_s: %.3f\n", wall);
	printf("cpu_s: %.3f\n", cpu);
	printf("handshakes_per_s: %.0f\n", hs_s);
	printf("handshakes_per_cpu_s: %.0f\n", (double)n / cpu);
	printf("us_per_handshake: %.1f\n", 1e6 * wall / (double)n);
	printf("counters: A hs_init_sent +%u hs_resp_ok +%u; B hs_init_ok +%u "
	       "hs_resp_sent +%u hs_init_sent +%u; cookies +%u; refusals %u\n",
	       d_init_sent, d_resp_ok, d_init_ok, d_resp_sent, d_b_init_sent,
	       d_cookies, refused);
	printf("counters_ok: %s\n", counters_ok ? "yes" : "NO");
	printf("datagrams_per_handshake: %.2f (INIT %.2f, RESP %.2f, DATA %.2f)\n",
	       (double)(w->sent - sent0) / (double)n, (double)n_init / (double)n,
	       (double)n_resp / (double)n,
	       (double)(w->sent_by_type[RN_HS_DATA] - data0) / (double)n);
	printf("init_bytes: %.0f\n",
	       n_init ? (double)(w->bytes_by_type[RN_HS_INIT] - initb0) /
			    (double)n_init
		      : 0.0);
	printf("resp_bytes: %.0f\n",
	       n_resp ? (double)(w->bytes_by_type[RN_HS_RESP] - respb0) /
			    (double)n_resp
		      : 0.0);
	print_prim("before", &before);
	print_prim("after", &after);
	printf("primitive_ops: %ld each, wall clock, before and after the "
	       "handshakes\n", m);
	printf("pubkey_us_per_handshake: %.1f (2 sign + 4 verify + 2 "
	       "scalarmult + 2 scalarmult_base at the mean rates)\n",
	       1e6 * prim_s);
	printf("handshake_over_pubkey: %.2f\n", (wall / (double)n) / prim_s);
	printf("handshake_in_signs: %.2f (one handshake costs this many "
	       "crypto_sign_detached)\n",
	       (wall / (double)n) * avg.sign);
	printf("handshake_in_verifies: %.2f\n", (wall / (double)n) * avg.verify);
	printf("cert_bytes: %zu\n", w->ident[0].cert_len);
	idle_pair(w, &off_ab);
	printf("log_lines: %llu\n", (unsigned long long)w->log_lines);

	for (int i = 0; i < 2; i++)
		rn_node_free(w->node[i]);
	rn_shared_deinit(&w->sh);
	free(w->q);
	free(w);
	return counters_ok ? 0 : 1;
}
