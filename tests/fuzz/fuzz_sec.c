/* Fuzz target: the link security layer (overlay/sec.c) inside a node.
 *
 * One crypto-real node with a fixed identity (a group key from fixed seed
 * bytes, a node key and a member certificate issued with rn_cert_issue,
 * the node's ring id bound to it) forms a ring of one and is fed the input
 * as datagrams through rn_node_recv, each from one of four fixed endpoints
 * (two IPv4, one IPv6, and the node's own endpoint: a spoofed source),
 * with time steps in between that fire the node's timers (handshake
 * timeouts, cookie rotation, session expiry). The environment keeps only
 * the last datagram sent, and random() is a fixed-seed splitmix64, so an
 * input always replays the same. Handshakes per second are capped at 2, so
 * that the cookie path is reachable.
 *
 * Input: up to FZ_SEC_DGRAMS records, each
 *   ctl (u8): bits 0-1 the source endpoint, bits 2-7 a time step t taken
 *             before delivery: t = 0 none, t < 48 t * 25 ms, else
 *             (t - 47) minutes (up to 16: past the skew, rekey and orphan
 *             limits)
 *   len (u16, big endian), then len bytes (fewer if the input ends;
 *             at most FZ_SEC_LEN_MAX)
 * Each datagram is handed over in a heap buffer of exactly its length.
 *
 * Checks, beyond "no crash, leak or UB":
 * - every datagram the node sends is a well-formed handshake message or a
 *   DATA datagram (nothing leaves in the clear), at most RN_DGRAM_MAX;
 * - each datagram received moves at most one of the security layer's
 *   receive verdicts (hs_init_ok ... data_auth_fail), and rx_pkts counts
 *   every datagram;
 * - data_ok, hs_resp_ok and hs_rekeys stay 0: libFuzzer cannot forge a
 *   session key or a peer's signature, and the node initiates no session
 *   that could be rekeyed;
 * - hs_init_ok <= datagrams fed; link_count <= links_max, and no link
 *   exists unless an INIT was accepted (hs_init_ok > 0).
 * The seeds (gen_corpus.c) include a real INIT from a second member, which
 * is accepted (and a hand-signed one for a ring link, which makes a link
 * and a session).
 *
 * fz_sec_run() is also linked into fuzz_gen_corpus, which checks with it
 * that its INIT seeds are accepted.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>
#include <sodium.h>

#include "core/cert.h"
#include "core/env.h"
#include "core/err.h"
#include "core/id.h"
#include "core/log.h"
#include "overlay/hs.h"
#include "overlay/msg.h"
#include "overlay/node.h"
#include "overlay/sec.h"
#include "overlay/settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int fz_sec_run(const uint8_t *data, size_t size, rn_sec_stats *st_out,
	       size_t *links_out, uint32_t idx_out[2]);

/* Shared with gen_corpus.c (must match). */
#define FZ_SEC_GROUP_SEED_BYTE 0x53
#define FZ_SEC_NODE_SEED_BYTE 0x60
#define FZ_SEC_UNIX_MS 1780272000000ll /* unix ms at FZ_SEC_T0 */
#define FZ_SEC_T0 RN_MS(1000000)
#define FZ_SEC_NODE_ADDR 0xC6336401u /* 198.51.100.1 */
#define FZ_SEC_PORT 4000
#define FZ_SEC_PEER_ADDR 0xC6336402u /* endpoint 0: 198.51.100.2:4000 */
#define FZ_SEC_DGRAMS 32
#define FZ_SEC_LEN_MAX 4096

#define FZ_SEC_TIMERS_MAX 16 /* timer firings per time step */
#define FZ_SEC_RNG_SEED 0x7365632d66757a7aull

typedef struct fz_sec_world {
	rn_settings s;
	rn_env env;
	rn_shared sh;
	rn_node *node;
	rn_time now, deadline;
	uint64_t rng;
	msgpack_zone zone; /* checks the datagrams sent */
	uint64_t sends, events, log_bytes;
	uint8_t last[RN_DGRAM_MAX];
	size_t last_len;
	uint32_t sess_idx; /* idx_r of the last RESP that made a session */
	uint32_t init_idx; /* idx_i of the last INIT sent */
} fz_sec_world;

/* The node's identity, made once. */
static struct {
	int ready;
	uint8_t group_pk[RN_SIGN_PK_LEN];
	uint8_t group_id[RN_GROUP_ID_LEN];
	uint8_t vip[4];
	rn_ident ident;
	rn_ep eps[4];
	rn_ep own;
} fz;

/* ---- environment ------------------------------------------------------ */

static void env_send(void *ctx, const rn_ep *to, const uint8_t *buf,
		     size_t len)
{
	fz_sec_world *w = ctx;
	uint32_t idx;
	uint64_t ctr;
	rn_hs_msg m;
	(void)to;
	if (len == 0 || len > RN_DGRAM_MAX)
		abort();
	/* nothing leaves in the clear */
	if (buf[0] == RN_HS_DATA) {
		if (rn_hs_data_parse(buf, len, &idx, &ctr) != 0)
			abort();
	} else if (!rn_hs_is_handshake(buf, len) ||
		   rn_hs_decode(&w->zone, buf, len, &m) != 0) {
		abort();
	} else if (m.type == RN_HS_RESP && m.idx_r) {
		w->sess_idx = m.idx_r;
	} else if (m.type == RN_HS_INIT) {
		w->init_idx = m.idx_i;
	}
	w->sends++;
	memcpy(w->last, buf, len);
	w->last_len = len;
}

static void env_set_deadline(void *ctx, rn_time t)
{
	fz_sec_world *w = ctx;
	w->deadline = t;
}

static void env_random(void *ctx, uint8_t *buf, size_t len)
{
	fz_sec_world *w = ctx;
	for (size_t k = 0; k < len; k += 8) {
		uint64_t z = (w->rng += 0x9e3779b97f4a7c15ull);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		size_t m = len - k < 8 ? len - k : 8;
		memcpy(buf + k, &z, m);
	}
}

static void env_log(void *ctx, int level, const char *msg)
{
	fz_sec_world *w = ctx;
	if (level < RN_LOG_ERROR || level > RN_LOG_TRACE)
		abort();
	w->log_bytes += strlen(msg); /* must be a terminated string */
}

static void env_event(void *ctx, const rn_event *ev)
{
	fz_sec_world *w = ctx;
	if (ev->node != w->node || ev->type < RN_EV_JOINED ||
	    ev->type > RN_EV_LINK_DOWN)
		abort();
	w->events++;
}

static void env_tun_write(void *ctx, const uint8_t *pkt, size_t len)
{
	(void)ctx;
	(void)pkt;
	(void)len;
}

/* ---- setup ------------------------------------------------------------ */

static void make_identity(void)
{
	uint8_t seed[RN_KEY_SEED_LEN], gsk[RN_SIGN_SK_LEN];
	uint8_t pk[RN_SIGN_PK_LEN], sk[RN_SIGN_SK_LEN];
	uint8_t enc[RN_CERT_ENCODED_MAX];
	size_t len;
	rn_cert c;
	if (sodium_init() < 0)
		abort();
	memset(seed, FZ_SEC_GROUP_SEED_BYTE, sizeof seed);
	if (rn_group_keypair(fz.group_pk, gsk, seed))
		abort();
	rn_group_id(fz.group_id, fz.group_pk);
	memset(seed, FZ_SEC_NODE_SEED_BYTE, sizeof seed);
	if (rn_nodekey_keypair(pk, sk, seed))
		abort();
	fz.vip[0] = 10;
	fz.vip[1] = 9;
	fz.vip[2] = 0;
	fz.vip[3] = 1;
	uint64_t t = (uint64_t)FZ_SEC_UNIX_MS / 1000u;
	if (rn_cert_issue(&c, gsk, pk, fz.vip, 4, "fuzz-node", t - 3600,
			  t + 30u * 86400u) ||
	    rn_cert_encode(&c, enc, sizeof enc, &len) ||
	    rn_ident_init(&fz.ident, sk, enc, len))
		abort();
	sodium_memzero(gsk, sizeof gsk);
	rn_ep_from_ipv4(&fz.own, FZ_SEC_NODE_ADDR, FZ_SEC_PORT);
	rn_ep_from_ipv4(&fz.eps[0], FZ_SEC_PEER_ADDR, FZ_SEC_PORT);
	rn_ep_from_ipv4(&fz.eps[1], FZ_SEC_PEER_ADDR + 1, FZ_SEC_PORT + 1);
	if (rn_ep_from_str(&fz.eps[2], "[2001:db8::7]:4000"))
		abort();
	fz.eps[3] = fz.own;
	fz.ready = 1;
}

static fz_sec_world *world_new(void)
{
	const char *why = NULL;
	fz_sec_world *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	rn_settings_default(&w->s);
	w->s.crypto = RN_CRYPTO_REAL;
	w->s.handshakes_per_s_max = 2; /* cookies after two INITs a second */
	if (rn_settings_check(&w->s, &why))
		abort();
	w->env.send = env_send;
	w->env.tun_write = env_tun_write;
	w->env.set_deadline = env_set_deadline;
	w->env.random = env_random;
	w->env.portmap_request = NULL;
	w->env.log = env_log;
	w->env.event = env_event;
	w->rng = FZ_SEC_RNG_SEED;
	w->now = FZ_SEC_T0;
	w->deadline = RN_TIME_NEVER;
	if (!msgpack_zone_init(&w->zone, 4096)) {
		free(w);
		return NULL;
	}
	if (rn_shared_init(&w->sh, &w->s, &w->env)) {
		msgpack_zone_destroy(&w->zone);
		free(w);
		return NULL;
	}
	memcpy(w->sh.group_pk, fz.group_pk, sizeof w->sh.group_pk);
	w->sh.unix_offset_ms = FZ_SEC_UNIX_MS - (int64_t)(w->now / 1000u);
	w->node = rn_node_new(&w->sh, w, fz.group_id, fz.vip, 4, &fz.own, w->now);
	if (w->node && (rn_node_set_ident(w->node, &fz.ident) ||
			rn_node_join(w->node, w->now, NULL, 0)))
		abort(); /* the identity is the node's own */
	return w;
}

static void world_free(fz_sec_world *w)
{
	rn_node_free(w->node);
	rn_shared_deinit(&w->sh);
	msgpack_zone_destroy(&w->zone);
	free(w);
}

static void fire_timers(fz_sec_world *w)
{
	for (int k = 0; k < FZ_SEC_TIMERS_MAX && w->deadline <= w->now; k++) {
		w->deadline = RN_TIME_NEVER;
		rn_node_on_timeout(w->node, w->now);
	}
}

static rn_time step_us(unsigned t)
{
	if (t == 0)
		return 0;
	if (t < 48)
		return RN_MS(t * 25u);
	return RN_MS((t - 47u) * 60000u);
}

/* The receive verdicts: each datagram moves at most one. */
static uint64_t verdicts(const rn_sec_stats *s)
{
	return (uint64_t)s->hs_init_ok + s->hs_resp_ok + s->hs_cookie_sent +
	       s->hs_bad_cert + s->hs_other_group + s->hs_expired +
	       s->hs_bad_sig + s->hs_wrong_id + s->hs_stale + s->hs_unexpected +
	       s->data_ok + s->data_unknown + s->data_replay + s->data_auth_fail;
}

/* ---- the run ---------------------------------------------------------- */

/* Feeds the input to a fresh node and checks it; returns the number of
 * datagrams fed, and if asked the final counters, the link count, and the
 * receiver index of the node's last session and the initiator index of
 * its last INIT (for seeds that answer them). */
int fz_sec_run(const uint8_t *data, size_t size, rn_sec_stats *st_out,
	       size_t *links_out, uint32_t idx_out[2])
{
	if (!fz.ready)
		make_identity();
	fz_sec_world *w = world_new();
	if (!w)
		return 0;
	if (!w->node) {
		world_free(w);
		return 0;
	}
	rn_node *n = w->node;
	const rn_sec_stats *ss = rn_node_sec_stats(n);
	fire_timers(w);
	size_t off = 0;
	int fed = 0;
	while (off < size && fed < FZ_SEC_DGRAMS) {
		uint8_t ctl = data[off++];
		size_t len = 0;
		if (off < size)
			len = (size_t)data[off++] << 8;
		if (off < size)
			len |= data[off++];
		if (len > FZ_SEC_LEN_MAX)
			len = FZ_SEC_LEN_MAX;
		if (len > size - off)
			len = size - off;
		w->now += step_us(ctl >> 2);
		fire_timers(w);
		uint8_t *dg = malloc(len ? len : 1);
		if (!dg)
			break;
		if (len)
			memcpy(dg, data + off, len);
		off += len;
		uint64_t v0 = verdicts(ss);
		uint64_t rx0 = rn_node_get_stats(n)->rx_pkts;
		rn_node_recv(n, w->now, &fz.eps[ctl & 3], dg, len);
		free(dg);
		fed++;
		if (verdicts(ss) > v0 + 1 ||
		    rn_node_get_stats(n)->rx_pkts != rx0 + 1)
			abort();
	}
	const rn_settings *s = &w->s;
	size_t links = rn_node_link_count(n);
	if (ss->data_ok != 0 || ss->hs_resp_ok != 0 || ss->hs_rekeys != 0)
		abort(); /* no forged session or signature */
	if (ss->hs_init_ok > (uint32_t)fed || verdicts(ss) > (uint64_t)fed)
		abort();
	if (links > s->links_max || (links > 0 && ss->hs_init_ok == 0))
		abort();
	if (rn_node_state(n) != RN_NODE_JOINED)
		abort(); /* nothing a stranger sends makes it leave */
	if (st_out)
		*st_out = *ss;
	if (links_out)
		*links_out = links;
	if (idx_out) {
		idx_out[0] = w->sess_idx;
		idx_out[1] = w->init_idx;
	}
	world_free(w);
	return fed;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_sec_run(data, size, NULL, NULL, NULL);
	return 0;
}
