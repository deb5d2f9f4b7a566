/* The value of a member record (namespace "member", key the member's
 * virtual IP): where the member can be reached (docs/dht.md).
 *
 * A fixed binary layout rather than msgpack: at most RN_MEMBER_EPS_MAX
 * entries of 1 byte kind + the 18-byte wire endpoint (core/ep.h), nothing
 * else. The public key, address and name need no field: the record's
 * certificate carries them, checked by every reader. The decoder never
 * asserts; it is fuzzed through fuzz_dht_rec.
 */
#ifndef RN_DHT_MEMBER_H
#define RN_DHT_MEMBER_H

#include <stddef.h>
#include <stdint.h>

#include "../core/ep.h"

enum rn_member_ep_kind {
	RN_MEMBER_EP_LOCAL = 1,     /* an address of the member's own host */
	RN_MEMBER_EP_MAPPED = 2,    /* a UPnP / NAT-PMP port mapping */
	RN_MEMBER_EP_REFLEXIVE = 3, /* as its peers see it */
};

#define RN_MEMBER_EPS_MAX 8
#define RN_MEMBER_ENTRY_LEN (1 + RN_EP_WIRE_LEN)
#define RN_MEMBER_VALUE_MAX (RN_MEMBER_EPS_MAX * RN_MEMBER_ENTRY_LEN)

typedef struct rn_member {
	uint8_t n;
	uint8_t kind[RN_MEMBER_EPS_MAX];
	rn_ep ep[RN_MEMBER_EPS_MAX];
} rn_member;

/* RN_ERR_INVAL for a bad kind or count; RN_ERR_TOOBIG if cap is short. */
int rn_member_encode(const rn_member *m, uint8_t *buf, size_t cap,
		     size_t *len);
/* RN_ERR_PROTO unless len is a whole number of valid entries (<= max). */
int rn_member_decode(const uint8_t *buf, size_t len, rn_member *m);

#endif
