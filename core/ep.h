/* Transport endpoints: an IP address and a UDP port.
 *
 * One compact form for IPv4 and IPv6: IPv4 is stored IPv4-mapped
 * (::ffff:a.b.c.d), so an endpoint is 18 bytes with no family field and
 * compares with memcmp. On the wire it is the same 18 bytes: the address,
 * then the port in network byte order. The core never resolves names or
 * opens sockets; the driver converts to and from sockaddr.
 */
#ifndef RN_EP_H
#define RN_EP_H

#include <stddef.h>
#include <stdint.h>

#define RN_EP_WIRE_LEN 18
#define RN_EP_STR_MAX 48 /* "[ffff:...:ffff]:65535" fits */

typedef struct rn_ep {
	uint8_t addr[16];
	uint16_t port;
} rn_ep;

void rn_ep_from_ipv4(rn_ep *ep, uint32_t addr_host_order, uint16_t port);
int rn_ep_is_ipv4(const rn_ep *ep);
uint32_t rn_ep_ipv4(const rn_ep *ep); /* host order; 0 if not IPv4 */
/* Hot (every received datagram looks its link up by endpoint): inline,
 * with the port and the last four address bytes compared first. */
static inline int rn_ep_eq(const rn_ep *a, const rn_ep *b)
{
	uint32_t x, y, x2, y2;
	uint64_t u, v;
	if (a->port != b->port)
		return 0;
	__builtin_memcpy(&x, a->addr + 12, 4);
	__builtin_memcpy(&y, b->addr + 12, 4);
	__builtin_memcpy(&u, a->addr, 8);
	__builtin_memcpy(&v, b->addr, 8);
	__builtin_memcpy(&x2, a->addr + 8, 4);
	__builtin_memcpy(&y2, b->addr + 8, 4);
	return x == y && u == v && x2 == y2;
}
int rn_ep_is_zero(const rn_ep *ep);
void rn_ep_to_wire(const rn_ep *ep, uint8_t out[RN_EP_WIRE_LEN]);
void rn_ep_from_wire(rn_ep *ep, const uint8_t in[RN_EP_WIRE_LEN]);
/* "a.b.c.d:port" or "[v6]:port"; returns out. */
char *rn_ep_to_str(const rn_ep *ep, char *out, size_t outlen);
/* Parses the forms rn_ep_to_str writes; 0 or RN_ERR_INVAL. */
int rn_ep_from_str(rn_ep *ep, const char *s);

#endif
