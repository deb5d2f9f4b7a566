/* The gateway clients behind nat/portmap.h: NAT-PMP (libnatpmp) and UPnP
 * IGD (miniupnpc). Blocking, bounded in time (about 2 s for NAT-PMP, 3 s
 * for UPnP discovery and its calls), so the daemon runs them on libuv's
 * thread pool (daemon_portmap.c); they touch nothing but their arguments.
 *
 * NAT-PMP goes to the default gateway (libnatpmp reads the routing
 * table); UPnP finds the IGD by SSDP multicast on the LAN (TTL 2). Both
 * ask for the external port of the mapping held, else the local one. A
 * NAT-PMP gateway picks another when that one is taken; a UPnP IGD
 * answers 718 (ConflictInMappingEntry: a second member behind the same
 * router, on the same port), and then the IGD picks one
 * (AddAnyPortMapping, IGD:2) or, on an IGD:1, the next ports are tried,
 * at most UPNP_PORT_TRIES_MAX (8). An IGD that keeps only permanent
 * leases (725) is asked again with lease 0. Removal names the external
 * port held. A host without a default route asks neither.
 */
#ifndef RN_PORTMAP_IO_H
#define RN_PORTMAP_IO_H

#include <stdint.h>

#include "../core/ep.h"

typedef struct rn_portmap_job {
	/* in */
	int unmap;        /* remove the mapping of `method` instead */
	unsigned methods; /* RN_PORTMAP_* bits to try, NAT-PMP first */
	uint16_t port;    /* local UDP port */
	uint16_t ext_port; /* external port held (renewal, removal), 0: none */
	uint32_t lifetime_s;
	/* out */
	int ok, method;   /* the method that worked */
	rn_ep ext;        /* the external endpoint */
	uint32_t lifetime_s_granted;
	int permanent;    /* UPnP: the IGD took lease 0 (725) */
	char why[160];    /* what failed, for the log */
} rn_portmap_job;

/* Runs the job (in a worker thread); fills its out fields. */
void rn_portmap_io_run(rn_portmap_job *job);

#endif
