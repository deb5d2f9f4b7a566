/* The simulator's latency model: one-way delay between two simulated nodes.
 *
 * Nodes are mapped onto H hosts. With a matrix file (490x490 PlanetLab RTTs
 * in ms, TAB-separated, gzip or plain), the delay between two hosts is half
 * their measured RTT; without one, hosts are points in a unit square and
 * RTT = 10 ms + 200 ms x distance (a synthetic stand-in). Each node adds its
 * own access delay (uniform 1-5 ms, one way) at both ends.
 */
#ifndef SIM_LATENCY_H
#define SIM_LATENCY_H

#include <stddef.h>
#include <stdint.h>

#include "../core/prng.h"

typedef struct sim_latency {
	uint32_t hosts;
	float *rtt_ms; /* hosts x hosts */
	int from_file;
} sim_latency;

/* path NULL: synthetic model. On error returns -1 with a message in err. */
int sim_latency_load(sim_latency *lat, const char *path, rn_prng *prng,
		     char *err, size_t errlen);
void sim_latency_free(sim_latency *lat);
static inline double sim_latency_oneway_ms(const sim_latency *lat,
					   uint32_t ha, uint32_t hb)
{
	return 0.5 * lat->rtt_ms[(uint64_t)ha * lat->hosts + hb];
}

#endif
