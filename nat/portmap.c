/* Port mapping policy (portmap.h): the state machine and its times. */
#include "portmap.h"

#include <string.h>

void rn_portmap_settings_default(rn_portmap_settings *s)
{
	s->methods = RN_PORTMAP_NATPMP | RN_PORTMAP_UPNP;
	s->lifetime_s = 3600;       /* RFC 6886 recommends 7200; 1 h is common */
	s->retry_ms = 30000;        /* a gateway that just booted, a lost reply */
	s->retry_max_ms = 15 * 60000; /* no gateway: ask four times an hour */
}

void rn_portmap_init(rn_portmap *pm, const rn_portmap_settings *s,
                     uint16_t port, rn_time now)
{
	memset(pm, 0, sizeof *pm);
	pm->s = *s;
	pm->port = port;
	pm->state = s->methods ? RN_PORTMAP_IDLE : RN_PORTMAP_STOPPED;
	pm->due = now;
	pm->backoff_ms = s->retry_ms;
}

int rn_portmap_next(rn_portmap *pm, rn_time now, rn_time *next)
{
	*next = RN_TIME_NEVER;
	switch (pm->state) {
	case RN_PORTMAP_IDLE:
	case RN_PORTMAP_MAPPED:
	case RN_PORTMAP_WAITING:
		if (pm->method && now >= pm->expires) {
			/* the renewals failed until the end */
			pm->method = 0;
			pm->st.expired++;
			pm->lost = 1;
		}
		if (now < pm->due) {
			*next = pm->due;
			return RN_PORTMAP_NONE;
		}
		pm->state = RN_PORTMAP_ASKING;
		pm->st.requests++;
		return RN_PORTMAP_MAP;
	case RN_PORTMAP_STOPPING:
		pm->state = RN_PORTMAP_ASKING;
		return RN_PORTMAP_UNMAP;
	default: /* ASKING, STOPPED */
		return RN_PORTMAP_NONE;
	}
}

static int same_ext(const rn_portmap *pm, int method, const rn_ep *ext)
{
	return pm->method && method && rn_ep_eq(&pm->ext, ext);
}

int rn_portmap_done(rn_portmap *pm, rn_time now, int ok, int method,
                    const rn_ep *ext, uint32_t lifetime_s)
{
	int had = pm->method != 0;
	if (pm->state != RN_PORTMAP_ASKING)
		return 0;
	if (pm->due == RN_TIME_NEVER) { /* the UNMAP: stopping */
		pm->state = RN_PORTMAP_STOPPED;
		pm->method = 0;
		return had;
	}
	if (ok && ext && !rn_ep_is_zero(ext) && method) {
		uint32_t life = lifetime_s ? lifetime_s : pm->s.lifetime_s;
		int changed = !same_ext(pm, method, ext);
		pm->st.mapped++;
		pm->st.changed += (uint64_t)changed;
		pm->method = method;
		pm->ext = *ext;
		pm->expires = now + RN_MS((uint64_t)life * 1000u);
		pm->due = now + RN_MS((uint64_t)life * 500u); /* half */
		pm->backoff_ms = pm->s.retry_ms;
		pm->state = RN_PORTMAP_MAPPED;
		return changed;
	}
	pm->st.failed++;
	pm->state = RN_PORTMAP_WAITING;
	pm->due = now + RN_MS(pm->backoff_ms);
	if (pm->method && pm->due > pm->expires)
		pm->due = pm->expires; /* see it lost in time */
	pm->backoff_ms = pm->backoff_ms * 2 > pm->s.retry_max_ms
	                     ? pm->s.retry_max_ms
	                     : pm->backoff_ms * 2;
	return 0;
}

int rn_portmap_take_lost(rn_portmap *pm)
{
	int lost = pm->lost;
	pm->lost = 0;
	return lost;
}

const rn_ep *rn_portmap_ext(const rn_portmap *pm, rn_time now)
{
	return pm->method && now < pm->expires ? &pm->ext : NULL;
}

void rn_portmap_stop(rn_portmap *pm, rn_time now)
{
	(void)now;
	if (pm->state == RN_PORTMAP_STOPPED)
		return;
	pm->due = RN_TIME_NEVER; /* marks the next answer as the UNMAP's */
	pm->state = pm->method ? RN_PORTMAP_STOPPING : RN_PORTMAP_STOPPED;
}

const char *rn_portmap_state_name(int state)
{
	static const char *const names[] = {"idle",    "asking",   "mapped",
	                                    "waiting", "stopping", "stopped"};
	return state >= 0 && state <= RN_PORTMAP_STOPPED ? names[state] : "?";
}

const char *rn_portmap_method_name(int method)
{
	return method == RN_PORTMAP_NATPMP ? "nat-pmp"
	       : method == RN_PORTMAP_UPNP ? "upnp"
	                                   : "none";
}
