/* The TUN device (tun.h). Linux only: /dev/net/tun and the interface
 * ioctls. Every failure says what to do about it. */
#include "tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* struct in6_ifreq of linux/ipv6.h, which clashes with netinet/in.h */
struct rn_in6_ifreq {
	struct in6_addr addr;
	uint32_t prefixlen;
	int ifindex;
};

/* IFF_VNET_HDR, a 10-byte header, and TSO for IPv4 and IPv6 with
 * checksum offload: 0, or -1 (the caller reopens without). */
static int offloads_on(int fd)
{
	int sz = 10; /* struct virtio_net_hdr */
	if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0)
		return -1;
	return ioctl(fd, TUNSETOFFLOAD,
	             (unsigned long)(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6));
}

static int open_one(const char *name, char actual[16], int vnet, char *err,
                    size_t errlen);

int rn_tun_open(const char *name, char actual[16], int *offload, char *err,
		size_t errlen)
{
	if (*offload) {
		int fd = open_one(name, actual, 1, err, errlen);
		if (fd >= 0 && offloads_on(fd) == 0)
			return fd;
		if (fd >= 0)
			close(fd);
		*offload = 0;
	}
	return open_one(name, actual, 0, err, errlen);
}

static int open_one(const char *name, char actual[16], int vnet, char *err,
                    size_t errlen)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen,
		         "cannot open /dev/net/tun: %s; ringnetd needs root "
		         "(or CAP_NET_ADMIN) and the tun module for its VPN, "
		         "or set [tun] device = none for the overlay alone",
		         strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_flags = (short)(IFF_TUN | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		snprintf(err, errlen,
		         "cannot create TUN device %s: %s%s", name,
		         strerror(errno),
		         errno == EBUSY ? " (another process holds it: pick "
		                          "another [tun] device name)"
		         : errno == EPERM ? " (needs root or CAP_NET_ADMIN)"
		                          : "");
		close(fd);
		return -1;
	}
	snprintf(actual, 16, "%s", ifr.ifr_name);
	return fd;
}

static int ifreq_ioctl(int s, unsigned long req, struct ifreq *ifr,
                       const char *what, char *err, size_t errlen)
{
	if (ioctl(s, req, ifr) == 0)
		return 0;
	snprintf(err, errlen, "cannot set the %s of %s: %s", what,
	         ifr->ifr_name, strerror(errno));
	return -1;
}

static void set_sin(struct sockaddr *sa, const uint8_t a[4])
{
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	memcpy(&sin.sin_addr, a, 4);
	memcpy(sa, &sin, sizeof sin);
}

static int config4(int s, const char *ifname, unsigned mtu,
                   const uint8_t *addr4, unsigned plen, char *err,
                   size_t errlen)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	ifr.ifr_mtu = (int)mtu;
	if (ifreq_ioctl(s, SIOCSIFMTU, &ifr, "MTU", err, errlen))
		return -1;
	if (addr4) {
		uint32_t m = plen ? 0xffffffffu << (32 - plen) : 0;
		uint8_t mask[4] = {(uint8_t)(m >> 24), (uint8_t)(m >> 16),
		                   (uint8_t)(m >> 8), (uint8_t)m};
		set_sin(&ifr.ifr_addr, addr4);
		if (ifreq_ioctl(s, SIOCSIFADDR, &ifr, "IPv4 address", err,
		                errlen))
			return -1;
		set_sin(&ifr.ifr_netmask, mask);
		if (ifreq_ioctl(s, SIOCSIFNETMASK, &ifr, "IPv4 netmask", err,
		                errlen))
			return -1;
	}
	if (ifreq_ioctl(s, SIOCGIFFLAGS, &ifr, "flags", err, errlen))
		return -1;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	return ifreq_ioctl(s, SIOCSIFFLAGS, &ifr, "flags", err, errlen);
}

static int config6(const char *ifname, const uint8_t *addr6, unsigned plen,
                   char *err, size_t errlen)
{
	struct rn_in6_ifreq r;
	struct ifreq ifr;
	int s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		snprintf(err, errlen,
		         "no IPv6 in this network namespace (%s): the VPN "
		         "carries IPv4 only",
		         strerror(errno));
		return 1;
	}
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	int rc = ioctl(s, SIOCGIFINDEX, &ifr);
	if (rc == 0) {
		memset(&r, 0, sizeof r);
		memcpy(&r.addr, addr6, 16);
		r.prefixlen = plen;
		r.ifindex = ifr.ifr_ifindex;
		rc = ioctl(s, SIOCSIFADDR, &r);
	}
	if (rc < 0)
		snprintf(err, errlen,
		         "cannot set the IPv6 address of %s: %s%s", ifname,
		         strerror(errno),
		         errno == EACCES || errno == EPERM
		             ? ""
		             : " (is IPv6 disabled here? sysctl "
		               "net.ipv6.conf.all.disable_ipv6)");
	close(s);
	return rc < 0 ? 1 : 0;
}

int rn_tun_configure(const char *ifname, unsigned mtu, const uint8_t *addr4,
		     unsigned prefix4_len, const uint8_t *addr6,
		     unsigned prefix6_len, char *err, size_t errlen)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		snprintf(err, errlen, "cannot open a socket: %s",
		         strerror(errno));
		return -1;
	}
	int rc = config4(s, ifname, mtu, addr4, prefix4_len, err, errlen);
	close(s);
	if (rc == 0 && addr6)
		rc = config6(ifname, addr6, prefix6_len, err, errlen);
	return rc;
}
