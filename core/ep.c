/* Endpoint conversions (see ep.h). Pure functions over 18-byte values.
 * inet_ntop/inet_pton are text conversions, not I/O. */
#include "ep.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

void rn_ep_from_ipv4(rn_ep *ep, uint32_t a, uint16_t port)
{
	memcpy(ep->addr, v4mapped, 12);
	ep->addr[12] = (uint8_t)(a >> 24);
	ep->addr[13] = (uint8_t)(a >> 16);
	ep->addr[14] = (uint8_t)(a >> 8);
	ep->addr[15] = (uint8_t)a;
	ep->port = port;
}

int rn_ep_is_ipv4(const rn_ep *ep)
{
	return memcmp(ep->addr, v4mapped, 12) == 0;
}

uint32_t rn_ep_ipv4(const rn_ep *ep)
{
	if (!rn_ep_is_ipv4(ep))
		return 0;
	return (uint32_t)ep->addr[12] << 24 | (uint32_t)ep->addr[13] << 16 |
	       (uint32_t)ep->addr[14] << 8 | ep->addr[15];
}

int rn_ep_is_zero(const rn_ep *ep)
{
	static const uint8_t zero[16];
	return ep->port == 0 && memcmp(ep->addr, zero, 16) == 0;
}

void rn_ep_to_wire(const rn_ep *ep, uint8_t out[RN_EP_WIRE_LEN])
{
	memcpy(out, ep->addr, 16);
	out[16] = (uint8_t)(ep->port >> 8);
	out[17] = (uint8_t)ep->port;
}

void rn_ep_from_wire(rn_ep *ep, const uint8_t in[RN_EP_WIRE_LEN])
{
	memcpy(ep->addr, in, 16);
	ep->port = (uint16_t)(in[16] << 8 | in[17]);
}

char *rn_ep_to_str(const rn_ep *ep, char *out, size_t outlen)
{
	char a[INET6_ADDRSTRLEN];
	if (rn_ep_is_ipv4(ep)) {
		inet_ntop(AF_INET, ep->addr + 12, a, sizeof a);
		snprintf(out, outlen, "%s:%u", a, ep->port);
	} else {
		inet_ntop(AF_INET6, ep->addr, a, sizeof a);
		snprintf(out, outlen, "[%s]:%u", a, ep->port);
	}
	return out;
}

static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	if (*s < '0' || *s > '9')
		return RN_ERR_INVAL;
	unsigned long p = strtoul(s, &end, 10);
	if (*end != '\0' || p > 65535)
		return RN_ERR_INVAL;
	*port = (uint16_t)p;
	return 0;
}

int rn_ep_from_str(rn_ep *ep, const char *s)
{
	char buf[RN_EP_STR_MAX];
	size_t n = strlen(s);
	if (n == 0 || n >= sizeof buf)
		return RN_ERR_INVAL;
	memcpy(buf, s, n + 1);
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');
		if (!close || close[1] != ':')
			return RN_ERR_INVAL;
		*close = '\0';
		if (inet_pton(AF_INET6, buf + 1, ep->addr) != 1)
			return RN_ERR_INVAL;
		return parse_port(close + 2, &ep->port);
	}
	char *colon = strrchr(buf, ':');
	if (!colon)
		return RN_ERR_INVAL;
	*colon = '\0';
	uint8_t v4[4];
	if (inet_pton(AF_INET, buf, v4) != 1)
		return RN_ERR_INVAL;
	uint16_t port;
	if (parse_port(colon + 1, &port))
		return RN_ERR_INVAL;
	rn_ep_from_ipv4(ep, (uint32_t)v4[0] << 24 | (uint32_t)v4[1] << 16 |
				    (uint32_t)v4[2] << 8 | v4[3], port);
	return 0;
}
