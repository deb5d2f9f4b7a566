/* The simulator's oracle: the true ring, for checking the nodes' views.
 *
 * All ids that a run will ever use are known before it starts (arrivals are
 * drawn up front from the seed), so the oracle sorts them once and keeps an
 * alive bit per rank. Successor and predecessor among the live nodes are a
 * scan over 64-bit words of that bitmap: fast even when few are alive.
 */
#ifndef SIM_ORACLE_H
#define SIM_ORACLE_H

#include <stdint.h>

#include "../core/id.h"

typedef struct sim_oracle {
	uint32_t n;
	rn_id *ids;          /* sorted */
	uint32_t *node_of;   /* rank -> node index */
	uint64_t *alive;     /* bit per rank */
	uint32_t n_alive;
} sim_oracle;

/* ids[i] is node i's id; fills rank_of[i]. */
int sim_oracle_init(sim_oracle *o, const rn_id *ids, uint32_t n,
		    uint32_t *rank_of);
void sim_oracle_free(sim_oracle *o);
void sim_oracle_set_alive(sim_oracle *o, uint32_t rank, int alive);
int sim_oracle_is_alive(const sim_oracle *o, uint32_t rank);
/* Next / previous live rank after / before rank (cyclic); rank itself if it
 * is the only one; UINT32_MAX if none is alive. */
uint32_t sim_oracle_succ(const sim_oracle *o, uint32_t rank);
uint32_t sim_oracle_pred(const sim_oracle *o, uint32_t rank);
/* The rank of id: 0, or -1 if no node has it. */
int sim_oracle_find(const sim_oracle *o, const rn_id *id, uint32_t *rank);

#endif
