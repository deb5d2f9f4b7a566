/* Batched UDP sends with segmentation offload (UDP_SEGMENT, Linux 4.18+).
 *
 * While the daemon handles one batch of TUN packets, the datagrams the
 * node sends are gathered here instead of sent one by one: a run of
 * datagrams to one endpoint, all of one size but the last (which may be
 * shorter), goes to the kernel in one sendmsg with a UDP_SEGMENT control
 * message, which splits it into the datagrams again (in the NIC or late in
 * the stack). Anything that breaks the run (another endpoint, a larger
 * datagram, 64 segments or 64 KiB) sends what is gathered first.
 *
 *   begin -> add, add, ... -> flush        (the TUN read loop, uvenv.c)
 *   add outside a batch: sent at once
 *
 * Without kernel support (EINVAL/EIO on the first GSO send) every
 * datagram is sent on its own from then on. Drops are counted, never
 * retried: the core retransmits what matters, TCP inside the tunnel
 * recovers its own.
 */
#ifndef RN_UDP_BATCH_H
#define RN_UDP_BATCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define RN_UDP_BATCH_SEGS_MAX 64
#define RN_UDP_BATCH_BYTES    65000

typedef struct rn_udp_batch_stats {
	uint64_t sends;     /* sendmsg calls */
	uint64_t datagrams; /* datagrams in them */
	uint64_t eagain;    /* datagrams dropped: socket buffer full */
	uint64_t errors;    /* datagrams dropped: other errors */
} rn_udp_batch_stats;

typedef struct rn_udp_batch {
	int fd;
	int gso;      /* 1: UDP_SEGMENT works (until it fails once) */
	int active;   /* between begin and flush */
	uint8_t buf[RN_UDP_BATCH_BYTES];
	size_t len;
	size_t seg;   /* size of the run's datagrams */
	unsigned n;
	int closed;   /* a shorter datagram ended the run */
	struct sockaddr_storage to;
	socklen_t to_len;
	rn_udp_batch_stats st;
	int last_errno; /* of the last failed send, for the caller's log */
} rn_udp_batch;

void rn_udp_batch_init(rn_udp_batch *b, int fd);
void rn_udp_batch_begin(rn_udp_batch *b);
/* Sends or gathers one datagram. 0, or -1 if it (or what was gathered
 * before it) was dropped; errno-like reason in b->last_errno. */
int rn_udp_batch_add(rn_udp_batch *b, const struct sockaddr *to,
                     socklen_t to_len, const uint8_t *buf, size_t len);
/* Sends what is gathered and ends the batch. */
void rn_udp_batch_flush(rn_udp_batch *b);

#endif
