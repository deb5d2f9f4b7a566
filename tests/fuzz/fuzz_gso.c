/* Fuzz target: the TUN offloads' packet work in tunnel/gso.c.
 *
 * rn_gro_add reads the TCP/IP headers of packets that members sent (after
 * the link or end-to-end session opened them), so any bytes may reach it;
 * rn_gso_split reads what the local kernel hands over with a
 * virtio_net_hdr. The input is
 *
 *     vnet header (10 bytes) | packet        for rn_gso_split, and
 *     len (2 bytes) | packet | len | packet ...   for rn_gro_add
 *
 * Checked: rn_gso_split answers 0 or RN_ERR_PROTO; what it emits is at
 * most 1500 bytes (or the packet itself, without GSO) and, for GSO, parses
 * as IPv4/IPv6 TCP of the announced version. rn_gro_add / rn_gro_flush
 * write only within RN_VNET_HDR_LEN + RN_GSO_MAX, each write at least a
 * vnet header, and the bytes written after the headers add up to no more
 * than the bytes given (nothing is invented).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "tunnel/gso.h"
#include "tunnel/ip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

typedef struct split_ctx {
	size_t in_len;
	int gso;
	uint8_t version;
} split_ctx;

static void on_emit(void *c, uint8_t *pkt, size_t len)
{
	split_ctx *x = c;
	if (!x->gso) {
		CHECK(len == x->in_len);
		return;
	}
	CHECK(len <= 1500);
	rn_ip ip;
	CHECK(rn_ip_parse(pkt, len, &ip) == 0);
	CHECK(ip.version == x->version && ip.proto == RN_IPPROTO_TCP);
	CHECK(ip.total_len == len);
}

typedef struct write_ctx {
	size_t bytes; /* written, vnet headers excluded */
} write_ctx;

static void on_write(void *c, const uint8_t *buf, size_t len)
{
	write_ctx *w = c;
	(void)buf;
	CHECK(len >= RN_VNET_HDR_LEN && len <= RN_VNET_HDR_LEN + RN_GSO_MAX);
	w->bytes += len - RN_VNET_HDR_LEN;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size >= RN_VNET_HDR_LEN) {
		rn_vnet_hdr h;
		rn_vnet_hdr_read(&h, data);
		size_t n = size - RN_VNET_HDR_LEN;
		uint8_t *p = malloc(n ? n : 1);
		uint8_t *scratch = malloc(RN_GSO_SCRATCH);
		if (p && scratch) {
			memcpy(p, data + RN_VNET_HDR_LEN, n);
			uint8_t t = h.gso_type & (uint8_t)~RN_VNET_GSO_ECN;
			split_ctx x = {n, t != RN_VNET_GSO_NONE,
				       t == RN_VNET_GSO_TCPV6 ? 6 : 4};
			int rc = rn_gso_split(&h, p, n, scratch, on_emit, &x);
			CHECK(rc == 0 || rc == RN_ERR_PROTO);
		}
		free(p);
		free(scratch);
	}
	/* the same bytes as a stream of packets for the coalescer */
	rn_gro *g = malloc(sizeof *g);
	if (!g)
		return 0;
	rn_gro_init(g);
	write_ctx w = {0};
	size_t given = 0;
	for (size_t off = 0; off + 2 <= size;) {
		size_t len = (size_t)data[off] << 8 | data[off + 1];
		off += 2;
		if (len > size - off)
			len = size - off;
		uint8_t *p = malloc(len ? len : 1);
		if (!p)
			break;
		memcpy(p, data + off, len); /* exact size: reads past it show */
		rn_gro_add(g, p, len, on_write, &w);
		free(p);
		given += len;
		off += len;
	}
	rn_gro_flush(g, on_write, &w);
	CHECK(w.bytes <= given);
	free(g);
	return 0;
}
