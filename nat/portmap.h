/* Port mapping policy: when to ask the home gateway for a UDP port mapping
 * (NAT-PMP, RFC 6886, or UPnP IGD), when to renew it, how long to wait
 * after a failure, and what changed (DESIGN.md section 6).
 *
 * Sans-I/O: the driver (daemon/daemon_portmap.c) asks rn_portmap_next what
 * to do and when, runs the gateway clients itself (daemon/portmap_io.c,
 * blocking, off the loop thread), and reports with rn_portmap_done. One
 * request is out at a time.
 *
 *   IDLE --next: MAP--> ASKING --done ok--> MAPPED --half the lifetime-->
 *   ASKING (a renewal) ...
 *   ASKING --done failed--> WAITING (retry_ms, doubling up to
 *   retry_max_ms; a mapping that was held is lost at its expiry)
 *   MAPPED/WAITING --rn_portmap_stop--> STOPPING --next: UNMAP--> ASKING
 *   --done--> STOPPED
 *
 * A renewal that fails keeps the mapping until its lifetime ends, and is
 * retried meanwhile; the gateway may also answer with another external
 * endpoint (its address changed): rn_portmap_done says so, and the driver
 * then republishes the member's endpoints.
 */
#ifndef RN_PORTMAP_H
#define RN_PORTMAP_H

#include <stdint.h>

#include "../core/ep.h"
#include "../core/env.h"

enum rn_portmap_method {
	RN_PORTMAP_NATPMP = 1, /* bit: NAT-PMP (libnatpmp) */
	RN_PORTMAP_UPNP = 2    /* bit: UPnP IGD (miniupnpc) */
};

enum rn_portmap_action {
	RN_PORTMAP_NONE = 0,
	RN_PORTMAP_MAP,  /* ask for (or renew) the mapping */
	RN_PORTMAP_UNMAP /* remove it (stopping) */
};

enum rn_portmap_state {
	RN_PORTMAP_IDLE,
	RN_PORTMAP_ASKING,
	RN_PORTMAP_MAPPED,
	RN_PORTMAP_WAITING,
	RN_PORTMAP_STOPPING,
	RN_PORTMAP_STOPPED
};

typedef struct rn_portmap_settings {
	unsigned methods;       /* RN_PORTMAP_* bits, tried NAT-PMP first */
	uint32_t lifetime_s;    /* asked for; renewed at half of it */
	uint32_t retry_ms;      /* first wait after a failure */
	uint32_t retry_max_ms;  /* the doubling stops here */
} rn_portmap_settings;

typedef struct rn_portmap_stats {
	uint64_t requests; /* MAP actions handed out */
	uint64_t mapped;   /* that succeeded */
	uint64_t failed;
	uint64_t changed;  /* the external endpoint changed (or appeared) */
	uint64_t expired;  /* a mapping whose renewals failed until its end */
} rn_portmap_stats;

typedef struct rn_portmap {
	rn_portmap_settings s;
	int state;
	uint16_t port;      /* the local UDP port to map */
	int method;         /* of the mapping held, 0 if none */
	rn_ep ext;          /* the mapping's external endpoint, if method */
	rn_time expires;    /* of the mapping held */
	rn_time due;        /* of the next action */
	uint32_t backoff_ms;
	uint8_t lost;       /* a mapping expired since rn_portmap_take_lost */
	rn_portmap_stats st;
} rn_portmap;

void rn_portmap_settings_default(rn_portmap_settings *s);
/* Starts in IDLE: the first MAP is due at once. port: the local port. */
void rn_portmap_init(rn_portmap *pm, const rn_portmap_settings *s,
                     uint16_t port, rn_time now);
/* What to do now (RN_PORTMAP_MAP or UNMAP, and the state becomes ASKING),
 * or RN_PORTMAP_NONE; *next: when to ask again (RN_TIME_NEVER: only
 * after rn_portmap_done or rn_portmap_stop). */
int rn_portmap_next(rn_portmap *pm, rn_time now, rn_time *next);
/* The answer to the action out: ok, with the method that worked, the
 * external endpoint and the lifetime the gateway granted (0: the one
 * asked for). 1 if the external endpoint the member should publish
 * changed (appeared, moved or went away), else 0. */
int rn_portmap_done(rn_portmap *pm, rn_time now, int ok, int method,
                    const rn_ep *ext, uint32_t lifetime_s);
/* 1 once after rn_portmap_next found the mapping expired (its renewals
 * failed until its end): the external endpoint went away. */
int rn_portmap_take_lost(rn_portmap *pm);
/* The mapping held now, or NULL. */
const rn_ep *rn_portmap_ext(const rn_portmap *pm, rn_time now);
/* Stop: an UNMAP is due next if a mapping is held, else STOPPED. */
void rn_portmap_stop(rn_portmap *pm, rn_time now);
const char *rn_portmap_state_name(int state);
const char *rn_portmap_method_name(int method);

#endif
