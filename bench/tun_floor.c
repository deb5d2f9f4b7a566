/* tun_floor: the least a userspace TUN VPN does, as a reference row for
 * bench/vpn.sh ("floor").
 *
 *   tun_floor --tun NAME --listen IP:PORT --peer IP:PORT
 *
 * It attaches to an existing TUN device NAME (made and addressed by the
 * caller, e.g. `ip tuntap add dev NAME mode tun`) and forwards, in one
 * thread with one blocking poll(2): each packet read from the TUN is sent
 * as one UDP datagram to --peer, and each datagram received on --listen
 * is written to the TUN. No crypto, no header, no batching, no routing:
 * what is left is what every userspace VPN pays on this machine, a TUN
 * read, a UDP send, the peer's UDP read and TUN write, and the wake-ups
 * of the two processes in between. Its ping RTT over raw veth is the
 * floor under any userspace design measured by bench/vpn.sh (docs/vpn.md
 * section 7).
 *
 * Not a VPN: it accepts a datagram from anyone and sends in clear. Run it
 * only between namespaces that a bench made, as bench/vpn.sh does.
 * Stops on SIGINT/SIGTERM.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int parse_ipv4_port(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	if (!colon || (size_t)(colon - s) >= sizeof host)
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535)
		return -1;
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_port = htons((unsigned short)port);
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static int usage(FILE *f, int rc)
{
	fprintf(f, "usage: tun_floor --tun NAME --listen IP:PORT --peer IP:PORT\n"
	           "Forwards TUN <-> UDP with nothing else: the RTT floor of a "
	           "userspace VPN (bench/vpn.sh).\n");
	return rc;
}

int main(int argc, char **argv)
{
	const char *tun_name = NULL;
	struct sockaddr_in listen_sa, peer_sa;
	int have_listen = 0, have_peer = 0;
	unsigned char buf[65536];

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return usage(stdout, 0);
		if (!v)
			return usage(stderr, 2);
		if (!strcmp(argv[i], "--tun"))
			tun_name = v;
		else if (!strcmp(argv[i], "--listen"))
			have_listen = !parse_ipv4_port(v, &listen_sa);
		else if (!strcmp(argv[i], "--peer"))
			have_peer = !parse_ipv4_port(v, &peer_sa);
		else
			return usage(stderr, 2);
		i++;
	}
	if (!tun_name || strlen(tun_name) >= IFNAMSIZ || !have_listen || !have_peer)
		return usage(stderr, 2);

	int tun = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (tun < 0) {
		perror("tun_floor: /dev/net/tun");
		return 1;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	memcpy(ifr.ifr_name, tun_name, strlen(tun_name));
	if (ioctl(tun, TUNSETIFF, &ifr) < 0) {
		fprintf(stderr, "tun_floor: attach to %s: %s\n", tun_name, strerror(errno));
		return 1;
	}
	int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (udp < 0 || bind(udp, (struct sockaddr *)&listen_sa, sizeof listen_sa) < 0 ||
	    connect(udp, (struct sockaddr *)&peer_sa, sizeof peer_sa) < 0) {
		perror("tun_floor: UDP socket");
		return 1;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal; /* no SA_RESTART: poll returns EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	struct pollfd pfd[2] = { { .fd = tun, .events = POLLIN }, { .fd = udp, .events = POLLIN } };
	unsigned long long to_peer = 0, from_peer = 0, errors = 0;
	while (!stop) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("tun_floor: poll");
			return 1;
		}
		if (pfd[0].revents & POLLIN) {
			ssize_t n = read(tun, buf, sizeof buf);
			if (n > 0 && send(udp, buf, (size_t)n, 0) == n)
				to_peer++;
			else
				errors++;
		}
		if (pfd[1].revents & POLLIN) {
			ssize_t n = recv(udp, buf, sizeof buf, 0);
			if (n > 0 && write(tun, buf, (size_t)n) == n)
				from_peer++;
			else
				errors++;
		}
	}
	fprintf(stderr, "tun_floor: %llu packets to the peer, %llu from it, %llu errors\n",
	        to_peer, from_peer, errors);
	return 0;
}
