/* The gateway clients behind nat/portmap.h: NAT-PMP (libnatpmp) and UPnP
 * IGD (miniupnpc). Blocking, bounded in time (about 2 s for NAT-PMP, 3 s
 * for UPnP discovery and its calls), so the daemon runs them on libuv's
 * thread pool (daemon_portmap.c); they touch nothing but their arguments.
 *
 * NAT-PMP goes to the default gateway (libnatpmp reads the routing
 * table); UPnP finds the IGD by SSDP multicast on the LAN (TTL 2). Both
 * ask for the same external port as the local one. A host without a
 * default route asks neither.
 */
#ifndef RN_PORTMAP_IO_H
#define RN_PORTMAP_IO_H

#include <stdint.h>

#include "../core/ep.h"

typedef struct rn_portmap_job {
	/* in */
	int unmap;        /* remove the mapping of `method` instead */
	unsigned methods; /* RN_PORTMAP_* bits to try, NAT-PMP first */
	uint16_t port;    /* local (and asked-for external) UDP port */
	uint32_t lifetime_s;
	/* out */
	int ok, method;   /* the method that worked */
	rn_ep ext;        /* the external endpoint */
	uint32_t lifetime_s_granted;
	char why[160];    /* what failed, for the log */
} rn_portmap_job;

/* Runs the job (in a worker thread); fills its out fields. */
void rn_portmap_io_run(rn_portmap_job *job);

#endif
