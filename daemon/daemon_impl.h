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
#include "../overlay/node.h"
#include "config.h"
#include "ctl.h"
#include "daemon.h"
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
	uint64_t next_qid;
	int stopping;
};

/* daemon_identity.c: reads the group public key, the node key and the
 * certificate c names, checks that they belong together (now, by the wall
 * clock) and fills id. 0, or -1 with one line naming the file in err. */
int rn_daemon_identity_load(const rn_config *c, rn_daemon_identity *id,
                            char *err, size_t errlen);

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

#endif
