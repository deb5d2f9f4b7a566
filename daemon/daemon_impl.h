/* The inside of the ringnetd daemon object (daemon.h), shared by the files
 * that make it up, each one concept:
 *
 *     daemon.c           lifecycle: set-up, the loop, signals, reload,
 *                        shutdown; owns every handle but the pings'
 *     daemon_identity.c  the group key, node key and certificate: loaded
 *                        and checked together (also for --check)
 *     daemon_boot.c      bootstrap names -> endpoints -> rn_node_join
 *     daemon_query.c     the control socket's answers: status, peers,
 *                        ring as JSON, and the dispatch of every command
 *     daemon_ping.c      ping: rn_node_trace probes and their paths
 *     daemon_dht.c       the node's DHT: publishing this member's records,
 *                        the table of control requests waiting for it
 *     daemon_dht_cmd.c   the `dht` command (put, create, get, remove) and
 *                        the JSON of records, errors and endpoints
 *     daemon_resolve.c   `resolve`: name -> virtual IP -> member record,
 *                        through the resolution cache (resolve_cache.h)
 *     daemon_vpn.c       the TUN device (tun.c) and the core's VPN
 *     daemon_claim.c     the lease of the member's address (DHCP over the
 *                        DHT): claimed before the member publishes
 *     daemon_portmap.c   the home gateway's port mapping (NAT-PMP, UPnP;
 *                        nat/portmap.h, portmap_io.c)
 *
 * Private to daemon/: nothing outside these files includes it. Every
 * function here runs on the loop thread.
 */
#ifndef RN_DAEMON_IMPL_H
#define RN_DAEMON_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "../core/cert.h"
#include "../core/log.h"
#include "../dht/dht.h"
#include "../overlay/node.h"
#include "../tunnel/vpn.h"
#include "config.h"
#include "ctl.h"
#include "daemon.h"
#include "resolve_cache.h"
#include "uvenv.h"

#define RN_DAEMON_BOOT_MAX 32 /* resolved bootstrap endpoints */

/* The files that make a member. The node holds ident by reference
 * (rn_node_set_ident), so it lives in the daemon as long as the node. */
typedef struct rn_daemon_identity {
	uint8_t group_pk[RN_SIGN_PK_LEN];
	uint8_t group_id[RN_GROUP_ID_LEN];
	rn_ident ident; /* node secret key, certificate bytes and fields */
} rn_daemon_identity;

/* One bootstrap name being resolved (a request, not a handle). */
typedef struct rn_daemon_resolve {
	uv_getaddrinfo_t req;
	rn_daemon *d;
	int busy;
} rn_daemon_resolve;

struct rn_daemon_ping; /* daemon_ping.c */

/* ---- the DHT (daemon_dht.c, daemon_resolve.c) ---------------------------- */

#define RN_DAEMON_DHT_WAITS_MAX        32    /* control requests at once */
#define RN_DAEMON_DHT_TIMEOUT_MS       10000 /* each, all its steps */
#define RN_DAEMON_DHT_PUBLISH_DELAY_MS 2000  /* JOINED -> publish */
#define RN_DAEMON_DHT_PUBLISH_RETRY_MS 5000  /* after a refused publish */

typedef struct rn_daemon_dht_wait rn_daemon_dht_wait;

/* The answer to a wait's DHT request (or RN_ERR_TIMEOUT from the table):
 * status, the checked records (valid during the call) and unix time in
 * ms. It either ends the wait (rn_daemon_dht_wait_end) or sends the next
 * step under a new rid (rn_daemon_dht_wait_step). */
typedef void (*rn_daemon_dht_done)(rn_daemon *d, rn_daemon_dht_wait *w,
                                   int status, const rn_rec *recs, uint32_t n,
                                   uint64_t now_ms);

/* What a resolve is doing (daemon_resolve.c). */
enum { RESOLVE_NAME = 1, RESOLVE_MEMBER = 2 };

/* One control request waiting for the DHT: a slot of the daemon's table,
 * found by the rid of the DHT request it waits for (0: the slot is free).
 * Slots never move, so a pointer stays valid until the wait ends; a rid is
 * never reused. */
struct rn_daemon_dht_wait {
	uint64_t rid;
	rn_ctl_req *req;
	rn_daemon_dht_done done;
	rn_time deadline;
	int op; /* RN_DHT_PUT, ... */
	char ns[RN_REC_NS_MAX + 1];
	uint8_t key[RN_REC_KEY_MAX], key_len;
	uint32_t ttl_s;
	/* resolve */
	int step; /* RESOLVE_NAME, RESOLVE_MEMBER */
	char target[64];
	char name[RN_CERT_NAME_MAX + 1];
	uint8_t vip[RN_CERT_VIP_MAX], vip_len;
	uint64_t name_expires_ms;
};

typedef struct rn_daemon_dht_stats {
	uint64_t waits;         /* control requests sent to the DHT */
	uint64_t waits_busy;    /* refused: RN_DAEMON_DHT_WAITS_MAX reached */
	uint64_t waits_timeout; /* ended by the table's timeout */
	uint64_t answers_late;  /* DHT answers for no wait (timed out) */
	uint64_t published;     /* own records stored, first time */
	uint64_t publish_failed;
	uint64_t renewed, renew_failed; /* the DHT's refreshes (rid 0) */
} rn_daemon_dht_stats;

typedef struct rn_daemon_dht {
	rn_dht *dht;
	rn_dht_settings s; /* read live by the DHT: lives as long as it */
	rn_logger lg;      /* rate-limited lines (renewal failures) */
	uv_timer_t publish, expiry;
	rn_daemon_dht_wait wait[RN_DAEMON_DHT_WAITS_MAX];
	uint32_t n_wait;
	uint64_t next_rid;
	uint64_t pub_rid[2]; /* member, name: the last publication */
	rn_daemon_dht_stats st;
	rn_resolve_cache cache;
} rn_daemon_dht;

/* ---- the address lease (daemon_claim.c) --------------------------------- */

#define RN_DAEMON_CLAIM_TRIES_MAX 16   /* candidates of a range, per start */
#define RN_DAEMON_CLAIM_RETRY_MS  5000 /* after a timeout or refusal */
#define RN_DAEMON_CLAIM_VERIFY_MS 3000 /* create -> get: handoffs settle */

enum {
	RN_CLAIM_IDLE,     /* not joined yet */
	RN_CLAIM_CREATING, /* a create for candidate `trying` is out */
	RN_CLAIM_HELD,     /* the address is ours (or fixed) */
	RN_CLAIM_MOVING,   /* restarting bound to another candidate */
	RN_CLAIM_FAILED,   /* no free address: stopping */
	RN_CLAIM_VERIFYING /* created; the get after it is due or out */
};

typedef struct rn_daemon_claim {
	int state;
	uint32_t attempt; /* 0: unbound; else bound to candidate attempt - 1 */
	uint32_t trying;  /* the candidate being claimed */
	uint64_t rid;     /* of the create out, 0 if none */
	uint8_t vip[RN_CERT_VIP_MAX]; /* trying's address */
	uint64_t conflicts;           /* candidates found taken */
	uint64_t lost;                /* renewals refused: lease lost */
} rn_daemon_claim;

struct rn_daemon {
	uv_loop_t loop;
	int loop_ok;
	char config_path[RN_CONFIG_PATH_MAX];
	rn_config cfg;
	rn_daemon_identity id;
	rn_settings settings;
	rn_shared sh;
	int sh_ok;
	rn_uvenv env;
	int env_ok;
	rn_node *node;
	rn_ctl *ctl;
	uv_signal_t sig[3];
	uv_timer_t retry, drain, clock;
	int handles_ok;
	rn_daemon_resolve res[RN_CONFIG_BOOTSTRAP_MAX];
	unsigned res_pending, res_tries;
	rn_ep boot[RN_DAEMON_BOOT_MAX];
	size_t n_boot;
	rn_time started;
	struct rn_daemon_ping *pings;
	unsigned n_pings;
	rn_daemon_dht *dht;
	struct rn_daemon_vpn *vpn; /* NULL with [tun] device = none */
	rn_daemon_claim claim;
	struct rn_daemon_portmap *pm; /* NULL: [nat] portmap = no, loopback */
	uint64_t next_qid;
	int stopping;
	int exit_rc;             /* what rn_daemon_run returns */
	int restart;             /* start again bound to restart_attempt */
	uint32_t restart_attempt;
};

/* daemon_identity.c: reads the group public key, the node key and the
 * certificate c names, checks that they belong together (now, by the wall
 * clock) and fills id; a range certificate stays unbound for attempt 0
 * and is bound to rn_cert_pick's candidate attempt - 1 otherwise. 0, or
 * -1 with one line naming the file in err. */
int rn_daemon_identity_load(const rn_config *c, rn_daemon_identity *id,
                            uint32_t attempt, char *err, size_t errlen);

/* daemon.c: leave the ring and start again bound to candidate `attempt`
 * (rn_daemon_run returns, rn_daemon_restart_attempt says so); or stop
 * with exit code 1 after a run-time failure that was logged. */
void rn_daemon_restart(rn_daemon *d, uint32_t attempt);
void rn_daemon_fail(rn_daemon *d);

/* daemon_portmap.c: new after the node (0, or -1 out of memory); stop
 * at shutdown (removes a held mapping); free after the loop. ext: the
 * mapping held now, or NULL. */
typedef struct rn_daemon_portmap rn_daemon_portmap;
int rn_daemon_portmap_new(rn_daemon *d);
void rn_daemon_portmap_stop(rn_daemon *d);
void rn_daemon_portmap_free(rn_daemon *d);
const rn_ep *rn_daemon_portmap_ext(const rn_daemon *d);
json_t *rn_daemon_portmap_status(const rn_daemon *d);

/* daemon_claim.c (the state machine is at its top). start: on the DHT's
 * publication timer, until the lease is held; on_result: 1 if res was the
 * claim's (its create, or a lease renewal refused), 0 to look elsewhere. */
void rn_daemon_claim_start(rn_daemon *d);
int rn_daemon_claim_on_result(rn_daemon *d, const rn_dht_result *res);
int rn_daemon_claim_held(const rn_daemon *d);
json_t *rn_daemon_claim_status(const rn_daemon *d);

/* daemon_boot.c: resolves every bootstrap entry (retrying while none
 * resolves), then joins the ring; cancel stops all of that. */
void rn_daemon_boot_start(rn_daemon *d);
void rn_daemon_boot_cancel(rn_daemon *d);
/* The all-zero (wildcard) address. */
int rn_daemon_boot_ep_unspecified(const rn_ep *ep);

/* daemon_query.c: the control socket's rn_ctl_handler. */
void rn_daemon_query_on_request(void *ud, rn_ctl_req *req, const json_t *msg);
/* {"ok":false,"error":msg} */
json_t *rn_daemon_query_error(const char *msg);
/* An id as its 40-hex string. */
json_t *rn_daemon_query_id(const rn_id *id);

/* daemon_ping.c: the `ping` command. Either answers at once (the reply)
 * or takes req (*taken = 1, NULL) and answers it when the ping ends. */
json_t *rn_daemon_ping_start(rn_daemon *d, rn_ctl_req *req, const json_t *msg,
                             int *taken);
/* A RN_EV_TRACE_DONE from the node: may answer a probe. */
void rn_daemon_ping_on_trace_done(rn_daemon *d, const rn_event *ev);
/* Shutdown: every ping in progress is answered now (with an error). */
void rn_daemon_ping_abort_all(rn_daemon *d);

/* daemon_dht.c: attaches an rn_dht to d->node (after the node, on the
 * loop); 0, or -1 with a reason in err. free: after the loop has closed,
 * before rn_node_free. */
int rn_daemon_dht_new(rn_daemon *d, char *err, size_t errlen);
void rn_daemon_dht_free(rn_daemon *d);
/* RN_EV_JOINED: claim the address, then publish this member's records,
 * a little later. */
void rn_daemon_dht_on_joined(rn_daemon *d);
/* The publication timer in ms (claim or publish, whichever is due);
 * publish: the member and name records now. */
void rn_daemon_dht_publish_later(rn_daemon *d, uint64_t ms);
void rn_daemon_dht_publish(rn_daemon *d);
/* Shutdown: every wait is answered now (with an error), timers stop. */
void rn_daemon_dht_abort_all(rn_daemon *d);
/* status: the DHT's, the table's and the cache's counters. */
json_t *rn_daemon_dht_status(const rn_daemon *d);

/* daemon_vpn.c: makes the TUN device and stacks the VPN on the node's
 * DHT (after rn_daemon_dht_new); 0 (also with device = none), or -1 with
 * a reason in err. close: stops reading the device (with the other
 * handles); free: after the loop, before rn_daemon_dht_free. */
typedef struct rn_daemon_vpn rn_daemon_vpn;
int rn_daemon_vpn_new(rn_daemon *d, char *err, size_t errlen);
void rn_daemon_vpn_close(rn_daemon *d);
void rn_daemon_vpn_free(rn_daemon *d);
/* A DHT result whose rid has RN_VPN_RID_BIT. */
void rn_daemon_vpn_on_dht(rn_daemon *d, const rn_dht_result *res);
/* status: the device, the addresses and the VPN's counters (or null). */
json_t *rn_daemon_vpn_status(const rn_daemon *d);

/* A free slot for req, with a fresh rid and the deadline set; NULL when
 * the table is full (counted). */
rn_daemon_dht_wait *rn_daemon_dht_wait_new(rn_daemon *d, rn_ctl_req *req,
                                           rn_daemon_dht_done done);
/* A fresh rid for w's next step; returns it. */
uint64_t rn_daemon_dht_wait_step(rn_daemon *d, rn_daemon_dht_wait *w);
/* Answers w's request with reply (NULL: out of memory) and frees w. */
void rn_daemon_dht_wait_end(rn_daemon *d, rn_daemon_dht_wait *w, json_t *reply);
/* After a DHT call that returned rc for w's request rid: a refusal is
 * an answer (done runs with it) unless w has moved on meanwhile. */
void rn_daemon_dht_wait_sent(rn_daemon *d, rn_daemon_dht_wait *w, uint64_t rid,
                             int rc);
/* Unix time in ms now, by the node's clock. */
uint64_t rn_daemon_dht_unix_ms(const rn_daemon *d);

/* daemon_dht_cmd.c: the `dht` command; answers at once or takes req, as
 * ping does. */
json_t *rn_daemon_dht_start(rn_daemon *d, rn_ctl_req *req, const json_t *msg,
                            int *taken);
/* The JSON shared by `dht`, `resolve` and the wait table. */
/* {"ok":false,"error":text,"code":code} for an RN_ERR_* of (ns, key). */
json_t *rn_daemon_dht_error(int status, const char *ns, const uint8_t *key,
                            size_t key_len);
/* A key as people read it: a virtual IP in member and lease, text when it
 * is printable UTF-8, else 0x and hex. */
void rn_daemon_dht_key_str(const char *ns, const uint8_t *key, size_t len,
                           char *out, size_t outlen);
/* {"name","vip","node_pk"} of a record's writer, from its certificate. */
json_t *rn_daemon_dht_writer_json(const rn_rec *r);
/* [{"kind":"local"|"mapped"|"reflexive","endpoint":"A:P"}, ...] */
json_t *rn_daemon_dht_eps_json(const rn_member *m);
/* A virtual IP (4 or 16 bytes) as text, or JSON null. */
json_t *rn_daemon_dht_vip_json(const uint8_t *vip, size_t len);
/* The base64 of a node public key. */
json_t *rn_daemon_dht_pk_json(const uint8_t pk[RN_SIGN_PK_LEN]);

/* daemon_resolve.c: the `resolve` command; answers at once (from the
 * cache, or an error) or takes req. */
json_t *rn_daemon_resolve_start(rn_daemon *d, rn_ctl_req *req,
                                const json_t *msg, int *taken);

#endif
