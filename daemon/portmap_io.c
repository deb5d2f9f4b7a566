/* NAT-PMP and UPnP IGD clients (portmap_io.h). */
#include "portmap_io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>

#include <miniupnpc/miniupnpc.h>
#include <miniupnpc/upnpcommands.h>
#include <miniupnpc/upnperrors.h>
#include <natpmp.h>

#include "../nat/portmap.h"

#define NATPMP_TRIES_MAX   3    /* 250 + 500 + 1000 ms (RFC 6886 timers) */
#define UPNP_DISCOVER_MS   1500 /* SSDP answers wait */

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
	                               j->port, j->unmap ? 0 : j->lifetime_s);
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

static int upnp_run(rn_portmap_job *j)
{
	int err = 0;
	struct UPNPDev *devs =
	    upnpDiscover(UPNP_DISCOVER_MS, NULL, NULL, UPNP_LOCAL_PORT_ANY, 0, 2,
	                 &err);
	struct UPNPUrls urls;
	struct IGDdatas data;
	char lan[64] = "", ext[40] = "", port[8], life[12];
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
	snprintf(port, sizeof port, "%u", j->port);
	snprintf(life, sizeof life, "%u", j->lifetime_s);
	int rc;
	if (j->unmap) {
		rc = UPNP_DeletePortMapping(urls.controlURL,
		                            data.first.servicetype, port, "UDP",
		                            NULL);
	} else {
		rc = UPNP_GetExternalIPAddress(urls.controlURL,
		                               data.first.servicetype, ext);
		if (rc == UPNPCOMMAND_SUCCESS)
			rc = UPNP_AddPortMapping(urls.controlURL,
			                         data.first.servicetype, port,
			                         port, lan, "ringnet", "UDP",
			                         NULL, life);
	}
	FreeUPNPUrls(&urls);
	struct in_addr a;
	if (rc != UPNPCOMMAND_SUCCESS) {
		snprintf(j->why, sizeof j->why, "UPnP: %s (%d)", strupnperror(rc),
		         rc);
		return -1;
	}
	if (!j->unmap) {
		if (inet_pton(AF_INET, ext, &a) != 1) {
			snprintf(j->why, sizeof j->why,
			         "UPnP: the IGD gave no external address");
			return -1;
		}
		rn_ep_from_ipv4(&j->ext, ntohl(a.s_addr), j->port);
		j->lifetime_s_granted = j->lifetime_s;
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
