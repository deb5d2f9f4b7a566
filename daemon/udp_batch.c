/* Batched UDP sends (udp_batch.h). */
#include "udp_batch.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/uio.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

void rn_udp_batch_init(rn_udp_batch *b, int fd)
{
	memset(b, 0, sizeof *b);
	b->fd = fd;
	b->gso = 1;
}

void rn_udp_batch_begin(rn_udp_batch *b)
{
	b->active = 1;
}

static int send_one(rn_udp_batch *b, const uint8_t *buf, size_t len,
                    size_t seg, unsigned n)
{
	struct iovec iov = {(void *)(uintptr_t)buf, len};
	union {
		char c[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} ctl;
	struct msghdr m;
	memset(&m, 0, sizeof m);
	m.msg_name = &b->to;
	m.msg_namelen = b->to_len;
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	if (n > 1) {
		memset(&ctl, 0, sizeof ctl);
		m.msg_control = ctl.c;
		m.msg_controllen = sizeof ctl.c;
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_UDP;
		c->cmsg_type = UDP_SEGMENT;
		c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
		uint16_t s = (uint16_t)seg;
		memcpy(CMSG_DATA(c), &s, sizeof s);
	}
	b->st.sends++;
	if (sendmsg(b->fd, &m, MSG_DONTWAIT) >= 0) {
		b->st.datagrams += n;
		return 0;
	}
	b->last_errno = errno;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
		b->st.eagain += n;
	else
		b->st.errors += n;
	return -1;
}

/* Sends what is gathered: in one GSO send, or one by one without GSO. */
static int send_gathered(rn_udp_batch *b)
{
	int rc = 0;
	if (!b->n)
		return 0;
	if (b->n == 1 || b->gso) {
		rc = send_one(b, b->buf, b->len, b->seg, b->n);
		if (rc && b->n > 1 &&
		    (b->last_errno == EINVAL || b->last_errno == EIO ||
		     b->last_errno == ENOPROTOOPT)) {
			b->gso = 0; /* no UDP GSO here: from now on, singly */
			b->st.errors -= b->n;
			rc = 0;
		} else {
			b->len = b->n = 0;
			b->closed = 0;
			return rc;
		}
	}
	for (size_t off = 0; off < b->len; off += b->seg) {
		size_t l = b->len - off < b->seg ? b->len - off : b->seg;
		if (send_one(b, b->buf + off, l, l, 1))
			rc = -1;
	}
	b->len = b->n = 0;
	b->closed = 0;
	return rc;
}

int rn_udp_batch_add(rn_udp_batch *b, const struct sockaddr *to,
                     socklen_t to_len, const uint8_t *buf, size_t len)
{
	int rc = 0;
	if (len > RN_UDP_BATCH_BYTES)
		return -1;
	if (b->n && (b->closed || len > b->seg || to_len != b->to_len ||
	             memcmp(&b->to, to, to_len) != 0 ||
	             b->n == RN_UDP_BATCH_SEGS_MAX ||
	             b->len + len > RN_UDP_BATCH_BYTES))
		rc = send_gathered(b);
	if (!b->n) {
		memcpy(&b->to, to, to_len);
		b->to_len = to_len;
		b->seg = len;
	}
	memcpy(b->buf + b->len, buf, len);
	b->len += len;
	b->n++;
	if (len < b->seg)
		b->closed = 1;
	if (!b->active && send_gathered(b))
		rc = -1;
	return rc;
}

void rn_udp_batch_flush(rn_udp_batch *b)
{
	send_gathered(b);
	b->active = 0;
}
