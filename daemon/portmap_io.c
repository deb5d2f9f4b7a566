/* NAT-PMP and UPnP IGD clients (portmap_io.h). */
#include "portmap_io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

#include <miniupnpc/miniupnpc.h>
#include <miniupnpc/upnpcommands.h>
#include <miniupnpc/upnperrors.h>
#include <natpmp.h>

#include "../nat/portmap.h"

#define NATPMP_TRIES_MAX   3    /* 250 + 500 + 1000 ms (RFC 6886 timers) */
#define UPNP_DISCOVER_MS   1500 /* SSDP answers wait */
#define UPNP_PORT_TRIES_MAX 8   /* external ports tried after a conflict */

/* One request/answer of NAT-PMP, after its send: waits through libnatpmp's
 * retries, at most NATPMP_TRIES_MAX of them. */
static int natpmp_wait(natpmp_t *n, natpmpresp_t *resp)
{
	int rc = NATPMP_TRYAGAIN;
	for (int tries = 0; rc == NATPMP_TRYAGAIN && tries < NATPMP_TRIES_MAX;) {
		fd_set fds;
		struct timeval tv;
		FD_ZERO(&fds);
		FD_SET(n->s, &fds);
		if (getnatpmprequesttimeout(n, &tv) < 0)
			return NATPMP_ERR_NOPENDINGREQ;
		int sel = select(n->s + 1, &fds, NULL, NULL, &tv);
		if (sel < 0 && errno == EINTR)
			continue;
		if (sel == 0)
			tries++; /* readnatpmpresponseorretry resends */
		rc = readnatpmpresponseorretry(n, resp);
	}
	return rc;
}

/* -2: no default gateway at all (no home gateway to ask either way) */
static int natpmp_run(rn_portmap_job *j)
{
	natpmp_t n;
	natpmpresp_t r;
	int rc = initnatpmp(&n, 0, 0);
	if (rc == NATPMP_ERR_CANNOTGETGATEWAY) {
		snprintf(j->why, sizeof j->why, "no default gateway");
		return -2;
	}
	if (rc < 0) {
		snprintf(j->why, sizeof j->why, "NAT-PMP: cannot start (%d)", rc);
		return -1;
	}
	uint32_t addr = 0;
	if (!j->unmap) {
		if (sendpublicaddressrequest(&n) < 0 ||
		    (rc = natpmp_wait(&n, &r)) < 0) {
			snprintf(j->why, sizeof j->why,
			         "NAT-PMP: no answer from the gateway (%d)", rc);
			closenatpmp(&n);
			return -1;
		}
		addr = ntohl(r.pnu.publicaddress.addr.s_addr);
	}
	rc = sendnewportmappingrequest(&n, NATPMP_PROTOCOL_UDP, j->port,
	                               j->ext_port ? j->ext_port : j->port,
	                               j->unmap ? 0 : j->lifetime_s);
	if (rc >= 0)
		rc = natpmp_wait(&n, &r);
	closenatpmp(&n);
	if (rc < 0) {
		snprintf(j->why, sizeof j->why, "NAT-PMP: mapping refused (%d)",
		         rc);
		return -1;
	}
	if (!j->unmap) {
		rn_ep_from_ipv4(&j->ext, addr, r.pnu.newportmapping.mappedpublicport);
		j->lifetime_s_granted = r.pnu.newportmapping.lifetime;
	}
	return 0;
}

/* UPnP error codes handled (UPnP IGD:1 WANIPConnection, section 2.4.16) */
#define UPNP_ERR_INVALID_ACTION 401 /* an IGD:1 asked for AddAnyPortMapping */
#define UPNP_ERR_CONFLICT       718 /* the port is mapped to another client */
#define UPNP_ERR_ONLY_PERMANENT 725 /* the IGD keeps only leases of 0 */

/* AddPortMapping ext -> lan:port for life_s; on 725 once more with lease
 * 0 (permanent: the daemon's stop removes it, renewals re-add it). */
static int upnp_add(const struct UPNPUrls *u, const struct IGDdatas *d,
                    const char *lan, uint16_t ext, uint16_t port,
                    uint32_t life_s, int *permanent)
{
	char e[8], p[8], life[12];
	snprintf(e, sizeof e, "%u", ext);
	snprintf(p, sizeof p, "%u", port);
	snprintf(life, sizeof life, "%u", *permanent ? 0u : life_s);
	int rc = UPNP_AddPortMapping(u->controlURL, d->first.servicetype, e, p,
	                             lan, "ringnet", "UDP", NULL, life);
	if (rc == UPNP_ERR_ONLY_PERMANENT && !*permanent) {
		*permanent = 1;
		rc = UPNP_AddPortMapping(u->controlURL, d->first.servicetype, e,
		                         p, lan, "ringnet", "UDP", NULL, "0");
	}
	return rc;
}

/* Maps want -> lan:port. When want is another client's (718: a second
 * member behind the same router, on the same port), the IGD picks one
 * (AddAnyPortMapping, IGD:2), or an IGD:1 gets want+1 ...
 * want+UPNP_PORT_TRIES_MAX in turn. *ext: the external port mapped. */
static int upnp_map(const struct UPNPUrls *u, const struct IGDdatas *d,
                    const char *lan, uint16_t want, uint16_t port,
                    uint32_t life_s, uint16_t *ext, int *permanent)
{
	int rc = upnp_add(u, d, lan, want, port, life_s, permanent);
	*ext = want;
	if (rc != UPNP_ERR_CONFLICT)
		return rc;
	char e[8], p[8], life[12], got[8] = "";
	snprintf(e, sizeof e, "%u", want);
	snprintf(p, sizeof p, "%u", port);
	snprintf(life, sizeof life, "%u", *permanent ? 0u : life_s);
	int any = UPNP_AddAnyPortMapping(u->controlURL, d->first.servicetype,
	                                 e, p, lan, "ringnet", "UDP", NULL,
	                                 life, got);
	if (any == UPNPCOMMAND_SUCCESS) {
		unsigned long v = strtoul(got, NULL, 10);
		if (v >= 1 && v <= 65535) {
			*ext = (uint16_t)v;
			return any;
		}
	}
	for (unsigned i = 1; i <= UPNP_PORT_TRIES_MAX && rc == UPNP_ERR_CONFLICT;
	     i++) {
		if (want + i > 65535u)
			break;
		*ext = (uint16_t)(want + i);
		rc = upnp_add(u, d, lan, *ext, port, life_s, permanent);
	}
	return rc;
}

static int upnp_run(rn_portmap_job *j)
{
	int err = 0;
	struct UPNPDev *devs =
	    upnpDiscover(UPNP_DISCOVER_MS, NULL, NULL, UPNP_LOCAL_PORT_ANY, 0, 2,
	                 &err);
	struct UPNPUrls urls;
	struct IGDdatas data;
	char lan[64] = "", ext[40] = "";
	uint16_t want = j->ext_port ? j->ext_port : j->port, got = want;
	int permanent = 0;
	if (!devs) {
		snprintf(j->why, sizeof j->why, "UPnP: no IGD answered");
		return -1;
	}
	int igd = UPNP_GetValidIGD(devs, &urls, &data, lan, sizeof lan);
	freeUPNPDevlist(devs);
	if (igd != 1) {
		if (igd)
			FreeUPNPUrls(&urls);
		snprintf(j->why, sizeof j->why, "UPnP: no connected IGD (%d)",
		         igd);
		return -1;
	}
	int rc;
	if (j->unmap) {
		char e[8];
		snprintf(e, sizeof e, "%u", want);
		rc = UPNP_DeletePortMapping(urls.controlURL,
		                            data.first.servicetype, e, "UDP",
		                            NULL);
	} else {
		rc = UPNP_GetExternalIPAddress(urls.controlURL,
		                               data.first.servicetype, ext);
		if (rc == UPNPCOMMAND_SUCCESS)
			rc = upnp_map(&urls, &data, lan, want, j->port,
			              j->lifetime_s, &got, &permanent);
	}
	FreeUPNPUrls(&urls);
	struct in_addr a;
	if (rc != UPNPCOMMAND_SUCCESS) {
		snprintf(j->why, sizeof j->why, "UPnP: %s (%d)%s",
		         strupnperror(rc), rc,
		         rc == UPNP_ERR_CONFLICT ? ": every port tried is "
		                                   "another client's" : "");
		return -1;
	}
	if (!j->unmap) {
		if (inet_pton(AF_INET, ext, &a) != 1) {
			snprintf(j->why, sizeof j->why,
			         "UPnP: the IGD gave no external address");
			return -1;
		}
		rn_ep_from_ipv4(&j->ext, ntohl(a.s_addr), got);
		j->lifetime_s_granted = j->lifetime_s;
		j->permanent = permanent;
	}
	return 0;
}

void rn_portmap_io_run(rn_portmap_job *j)
{
	j->ok = 0;
	j->why[0] = 0;
	memset(&j->ext, 0, sizeof j->ext);
	if (j->unmap) {
		j->ok = (j->method == RN_PORTMAP_NATPMP ? natpmp_run(j)
		                                        : upnp_run(j)) == 0;
		return;
	}
	static const int order[] = {RN_PORTMAP_NATPMP, RN_PORTMAP_UPNP};
	for (unsigned i = 0; i < 2 && !j->ok; i++) {
		if (!(j->methods & (unsigned)order[i]))
			continue;
		int rc = order[i] == RN_PORTMAP_NATPMP ? natpmp_run(j)
		                                       : upnp_run(j);
		if (rc == -2)
			break; /* a host with no default route has no home
			        * gateway: no SSDP either */
		if (rc == 0) {
			j->ok = 1;
			j->method = order[i];
		}
	}
}
