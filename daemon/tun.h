/* The TUN device of ringnetd (Linux): opened, named, addressed, up.
 *
 *     rn_tun_open("rn0")       /dev/net/tun, IFF_TUN | IFF_NO_PI, the fd
 *                              non-blocking; the kernel's name back;
 *                              with offloads, IFF_VNET_HDR and TSO/CSUM
 *                              (tunnel/gso.h), else plain packets
 *     rn_tun_configure(...)    MTU; the IPv4 address with the group's
 *                              prefix length (the kernel adds the prefix
 *                              route); the IPv6 address /64 (its twin or
 *                              the member's own); link up
 *
 * A TUN device is not persistent: it goes away when the fd closes, with
 * its addresses and routes, so a daemon that exits (or crashes) leaves
 * nothing behind. Addresses are set with the classic ioctls (SIOCSIFADDR
 * on an AF_INET and an AF_INET6 socket), no netlink library. A namespace
 * without IPv6 gets the IPv4 address alone and a warning.
 */
#ifndef RN_TUN_H
#define RN_TUN_H

#include <stddef.h>
#include <stdint.h>

/* Opens a TUN device named name (a "%d" in it lets the kernel number
 * it); the kernel's name goes to actual (16 bytes). *offload: in, whether
 * to try the offloads; out, whether they are on (every read and write
 * then carries a virtio_net_hdr). The fd, or -1 with a reason in err. */
int rn_tun_open(const char *name, char actual[16], int *offload, char *err,
		size_t errlen);

/* Addresses and brings up ifname. addr4 may be NULL (an IPv6 member),
 * addr6 may be NULL. 0; -1 with a reason in err when the device could not
 * be set up; 1 when only IPv6 failed (reason in err, IPv4 works). */
int rn_tun_configure(const char *ifname, unsigned mtu, const uint8_t *addr4,
		     unsigned prefix4_len, const uint8_t *addr6,
		     unsigned prefix6_len, char *err, size_t errlen);

#endif
