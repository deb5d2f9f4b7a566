/* The simulated world: a virtual clock, one event queue, the network, and
 * the nodes, all driven through the same rn_env the daemon implements.
 *
 * Events live in one queue ordered by (time, sequence) (evq.h), so events
 * at the same instant run in the order they were scheduled and a seed gives
 * a bit-identical run. A node has at most one live timer event: when it asks
 * for an earlier deadline a new event is pushed and the old one is ignored
 * when it pops (its time no longer matches the node's deadline).
 * Every popped event is folded into trace_hash, so two runs can be compared
 * with one number.
 *
 * Faults: per-datagram loss, a two-sided partition, crash and restart.
 */
#ifndef SIM_WORLD_H
#define SIM_WORLD_H

#include <stdint.h>

#include "evq.h"
#include "../core/prng.h"
#include "../overlay/node.h"
#include "../dht/dht.h"
#include "latency.h"
#include "oracle.h"

#define SIM_ADDR_BASE 0x64400000u /* 100.64.0.0/10: 4M simulated hosts */
#define SIM_PORT 4000
#define SIM_EVENTS_MAX (64u << 20)

enum sim_node_flag {
	SIM_ALIVE = 1,
	SIM_JOIN_PENDING = 2, /* waiting for the oracle to see it placed */
	SIM_SIDE_B = 4,       /* partition side */
};

/* Most nodes one world holds (ringsim --nodes). */
#define SIM_NODES_MAX 4000000u

typedef struct sim_node {
	rn_node *node;
	rn_time deadline;
	rn_time join_start;
	uint32_t rank;
	uint16_t host;
	uint8_t access_ms;
	uint8_t flags;
} sim_node;

typedef struct sim_world sim_world;

/* Simulated time 0 is this unix time (2026-06-01), for certificates. */
#define SIM_UNIX_BASE_MS 1780272000000ll

/* Datagrams in flight come from slabs by size class and go back to a free
 * list: no malloc per datagram, and short-lived datagrams do not fragment
 * the heap that a million nodes' link tables live in. */
#define SIM_PKT_CLASSES 5
typedef struct sim_pkt_pool {
	void *free[SIM_PKT_CLASSES];
	void **slabs;
	uint32_t n_slabs, cap_slabs;
} sim_pkt_pool;

/* Scenario hooks: called for script events and node events. */
typedef void (*sim_script_fn)(sim_world *w, uint32_t type, uint32_t arg);
typedef void (*sim_event_fn)(sim_world *w, uint32_t node, const rn_event *ev);
/* A DHT operation of node `node` finished (dht/dht.h). */
typedef void (*sim_dht_fn)(sim_world *w, uint32_t node,
			   const rn_dht_result *res);

struct sim_world {
	rn_settings settings;
	rn_env env;
	rn_shared sh;
	uint8_t group_id[32];
	uint8_t group_sk[64];  /* crypto real: the group key issues the certs */
	rn_ident *idents;      /* crypto real: per node, made at first start */
	sim_node *nodes;
	struct env_ctx *ctxs; /* per-node environment context */
	uint32_t n_nodes;
	sim_oracle oracle;
	sim_latency lat;
	sim_evq events;
	sim_pkt_pool pkts;
	uint64_t seq;
	rn_time now;
	rn_prng prng;
	uint64_t trace_hash;
	uint64_t n_events;
	double loss;         /* datagram loss probability */
	int partitioned;     /* drop datagrams between sides A and B */
	uint64_t pkts_sent, pkts_lost;
	uint64_t pkts_by_type[16]; /* by overlay message type (msg.h) */
	sim_script_fn on_script;
	sim_event_fn on_event;
	/* The DHT (sim_world_enable_dht): one per live node, NULL when off. */
	const rn_dht_settings *dht_settings;
	rn_dht **dht;
	sim_dht_fn on_dht;
	void *user;
	void *user_dht; /* the DHT study's, beside the scenario's user */
};

/* Creates n_nodes node slots (virtual IPs 10.0.0.0 + i, ids fixed) and the
 * oracle; nodes start dead. lat_path NULL: synthetic latency. */
int sim_world_init(sim_world *w, const rn_settings *s, uint64_t seed,
		   uint32_t n_nodes, const char *lat_path, char *err,
		   size_t errlen);
void sim_world_deinit(sim_world *w);

/* Every node started from now on runs a DHT with these settings (kept by
 * reference), signing its records with its certificate under crypto real
 * and naming itself by its ring id otherwise. 0 or RN_ERR_NOMEM. */
int sim_world_enable_dht(sim_world *w, const rn_dht_settings *s,
			 sim_dht_fn on_dht);

void sim_ep_of(rn_ep *ep, uint32_t node);
/* Starts node i (creating its rn_node) and joins it through boot. */
int sim_world_start(sim_world *w, uint32_t i, const uint32_t *boot,
		    uint32_t n_boot);
void sim_world_crash(sim_world *w, uint32_t i);
void sim_world_leave(sim_world *w, uint32_t i);
void sim_world_schedule(sim_world *w, rn_time t, uint32_t type, uint32_t arg);
/* Runs events until the clock passes t or the queue empties. */
void sim_world_run_until(sim_world *w, rn_time t);

/* Oracle checks over the live nodes. */
int sim_node_placed(const sim_world *w, uint32_t i);
/* Counts live nodes whose successor and predecessor are the true ones. */
uint32_t sim_world_consistent(const sim_world *w);

#endif
