/* Groups, node keys and member certificates (DESIGN.md section 4).
 *
 * A group is an Ed25519 key pair. Its id is
 *     group_id = BLAKE2b-256("ringnet group id v1" || group_pk)
 * and whoever holds the secret key admits members by signing certificates;
 * no server is involved. A node key is Ed25519 as well (so that a node can
 * sign its DHT records); for the link key exchange it is converted to
 * X25519 with libsodium's birational map.
 *
 * A member certificate binds the group public key, the node public key, a
 * virtual IP (4 bytes IPv4 or 16 bytes IPv6, network order), a name and a
 * validity interval [not_before, not_after] in unix seconds, under an
 * Ed25519 signature by the group key. The signature covers a canonical
 * fixed-size byte string (see cert.c), not the msgpack bytes, so the
 * encoding may change without invalidating certificates.
 *
 * Fixed address or range. A version 1 certificate grants one address. A
 * version 2 certificate grants a range (range/prefix_len, signed by the
 * group) and carries the one address its holder uses now (vip, inside the
 * range), which the group did not sign: the holder picks it, claims it in
 * the DHT's "lease" namespace (docs/dht.md) and binds it with its own node
 * key: the link and e2e handshakes sign the certificate bytes, and a DHT
 * record of a range member signs the address its certificate carries
 * (dht/record.c). Everyone else reads vip, as for a fixed certificate: the ring id,
 * the record rules and the VPN's checks are the same for both.
 *
 * Until its holder has claimed an address, a range certificate is unbound:
 * vip is the range's first address, which is never a member's (a range has
 * four addresses or more, and rn_cert_pick skips that one). Its ring id is
 * then BLAKE2b-160(group_id || node_pk), unique to the member, so that the
 * node can join the ring and claim without taking anyone's place; an
 * unbound member writes no member, name or lease record of its own
 * address and carries no VPN traffic.
 *
 * Wire form: one msgpack array, version 1 (a fixed address)
 *     [type=RN_CERT_TYPE, 1, group_pk(bin 32), node_pk(bin 32),
 *      vip(bin 4|16), name(str 1..63), not_before(uint), not_after(uint),
 *      sig(bin 64)]
 * or version 2 (a range)
 *     [type, 2, group_pk, node_pk, range(bin 4|16), prefix_len(uint),
 *      vip(bin, as long as range), name, not_before, not_after, sig]
 * A fixed certificate (prefix_len 0) is always encoded as version 1, so
 * certificates issued before ranges existed keep their bytes.
 * The decoder is strict (exact element count, exact lengths, a valid name,
 * not_before <= not_after, a range with no host bits set and vip inside
 * it) and never asserts on input.
 *
 * Sans-I/O: every key comes from seed bytes the caller supplies (from the
 * environment's random()), the current time is a parameter. The driver must
 * have called sodium_init() before any function here.
 */
#ifndef RN_CERT_H
#define RN_CERT_H

#include <stddef.h>
#include <stdint.h>

#include "id.h"

#define RN_KEY_SEED_LEN 32 /* seed of an Ed25519 key pair */
#define RN_SIGN_PK_LEN  32 /* Ed25519 public key */
#define RN_SIGN_SK_LEN  64 /* Ed25519 secret key (seed || public key) */
#define RN_SIG_LEN      64 /* Ed25519 signature */
#define RN_X25519_LEN   32 /* X25519 public or secret key */
#define RN_GROUP_ID_LEN 32

#define RN_CERT_TYPE        0x43 /* 'C': first element of the wire array */
#define RN_CERT_VERSION     1   /* a fixed address */
#define RN_CERT_VERSION_RANGE 2 /* a range */
#define RN_CERT_NAME_MAX    63  /* bytes; at least 1 */
#define RN_CERT_VIP_MAX     16  /* IPv6; IPv4 is 4 */
#define RN_CERT_ENCODED_MAX 257 /* largest encoding (a v2), see cert.c */

typedef struct rn_cert {
	uint8_t group_pk[RN_SIGN_PK_LEN];
	uint8_t node_pk[RN_SIGN_PK_LEN];
	uint8_t vip[RN_CERT_VIP_MAX];    /* the first vip_len bytes count */
	uint8_t vip_len;                 /* 4 or 16 */
	/* a range certificate's grant: range/prefix_len, no host bits set,
	 * 1 <= prefix_len < 8 * vip_len; 0 (and range unused) when fixed */
	uint8_t range[RN_CERT_VIP_MAX];
	uint8_t prefix_len;
	uint8_t name_len;                /* 1..RN_CERT_NAME_MAX */
	char name[RN_CERT_NAME_MAX + 1]; /* NUL-terminated for display */
	uint64_t not_before, not_after;  /* unix seconds, inclusive */
	uint8_t sig[RN_SIG_LEN];
} rn_cert;

/* Group key pair from a 32-byte seed (crypto_sign_seed_keypair). */
int rn_group_keypair(uint8_t pk[RN_SIGN_PK_LEN], uint8_t sk[RN_SIGN_SK_LEN],
                     const uint8_t seed[RN_KEY_SEED_LEN]);
/* group_id = BLAKE2b-256("ringnet group id v1" || group_pk). */
void rn_group_id(uint8_t out[RN_GROUP_ID_LEN],
                 const uint8_t group_pk[RN_SIGN_PK_LEN]);

/* Node key pair (Ed25519) from a 32-byte seed. */
int rn_nodekey_keypair(uint8_t pk[RN_SIGN_PK_LEN], uint8_t sk[RN_SIGN_SK_LEN],
                       const uint8_t seed[RN_KEY_SEED_LEN]);
/* A peer's X25519 public key from its Ed25519 node key; RN_ERR_BADKEY when
 * node_pk is not a usable curve point (small order or not on the curve). */
int rn_nodekey_x25519_pk(uint8_t x_pk[RN_X25519_LEN],
                         const uint8_t node_pk[RN_SIGN_PK_LEN]);
/* One's own X25519 key pair from the Ed25519 secret key (which holds the
 * public key in its second half). */
int rn_nodekey_x25519_keypair(uint8_t x_pk[RN_X25519_LEN],
                              uint8_t x_sk[RN_X25519_LEN],
                              const uint8_t node_sk[RN_SIGN_SK_LEN]);

/* 1 if name[0..len) is 1..RN_CERT_NAME_MAX bytes of [A-Za-z0-9._-]. */
int rn_cert_name_valid(const char *name, size_t len);

/* Fills and signs *cert. name is a NUL-terminated string; vip_len is 4 or
 * 16; not_before <= not_after. RN_ERR_INVAL for a bad argument,
 * RN_ERR_BADKEY for a node key with no X25519 form. */
int rn_cert_issue(rn_cert *cert, const uint8_t group_sk[RN_SIGN_SK_LEN],
                  const uint8_t node_pk[RN_SIGN_PK_LEN], const uint8_t *vip,
                  size_t vip_len, const char *name, uint64_t not_before,
                  uint64_t not_after);

/* As rn_cert_issue, for a range: range[0..vip_len)/prefix_len with
 * 1 <= prefix_len <= 8 * vip_len - 2 and no host bits set. The
 * certificate starts unbound (vip = the range's first address). */
int rn_cert_issue_range(rn_cert *cert, const uint8_t group_sk[RN_SIGN_SK_LEN],
                        const uint8_t node_pk[RN_SIGN_PK_LEN],
                        const uint8_t *range, size_t vip_len,
                        unsigned prefix_len, const char *name,
                        uint64_t not_before, uint64_t not_after);

/* 1 if range[0..len)/prefix_len is a range a certificate may grant: len
 * 4 or 16, 1 <= prefix_len <= 8 * len - 2 (four addresses or more), no
 * bit set after the prefix. */
int rn_cert_range_ok(const uint8_t *range, size_t len, unsigned prefix_len);
/* 1 if cert grants a range (version 2), 0 for a fixed address. */
int rn_cert_is_range(const rn_cert *cert);
/* 1 if vip[0..vip_len) lies inside cert's range (is its vip, if fixed). */
int rn_cert_in_range(const rn_cert *cert, const uint8_t *vip, size_t vip_len);
/* 1 unless cert is a range certificate not bound to an address yet. */
int rn_cert_is_bound(const rn_cert *cert);
/* Makes vip the address a range certificate stands for. RN_ERR_INVAL if
 * cert is fixed, or vip lies outside its range or is its first address.
 * The signature still verifies: the group signed the range, not the
 * address. */
int rn_cert_bind(rn_cert *cert, const uint8_t *vip, size_t vip_len);
/* Candidate number `attempt` for a range certificate's holder to claim:
 * BLAKE2b("ringnet claim v1" || node_pk || attempt) folded into the
 * range's host part, never the all-zeros host (the unbound address) and,
 * in IPv4, never the broadcast one. The same member tries
 * the same addresses in the same order, so one that restarts claims its
 * old address first (and, as the lease's holder, renews it). Writes
 * cert->vip_len bytes; RN_ERR_INVAL for a fixed certificate. */
int rn_cert_pick(const rn_cert *cert, uint32_t attempt,
                 uint8_t out[RN_CERT_VIP_MAX]);

/* Encodes into buf[0..cap); RN_ERR_TOOBIG if it does not fit (buf of
 * RN_CERT_ENCODED_MAX always does), RN_ERR_INVAL for a malformed cert. */
int rn_cert_encode(const rn_cert *cert, uint8_t *buf, size_t cap, size_t *len);
/* Decodes exactly buf[0..len). Errors: RN_ERR_TRUNC, RN_ERR_DEPTH (from
 * the msgpack pre-check), RN_ERR_PROTO, RN_ERR_VERSION, RN_ERR_NOMEM. Does
 * not verify the signature: call rn_cert_verify. */
int rn_cert_decode(const uint8_t *buf, size_t len, rn_cert *cert);

/* Checks cert against the group key we belong to at time now_unix_s.
 * In order: RN_ERR_INVAL (malformed struct, or vip outside the range), RN_ERR_CERT_GROUP (signed for
 * another group), RN_ERR_BADSIG, RN_ERR_CERT_EARLY (now < not_before),
 * RN_ERR_CERT_EXPIRED (now > not_after). 0 when valid. */
int rn_cert_verify(const rn_cert *cert, const uint8_t group_pk[RN_SIGN_PK_LEN],
                   uint64_t now_unix_s);

/* The member's ring id, BLAKE2b-160(group_id || vip), as overlay/node.c
 * computes it; for an unbound range certificate BLAKE2b-160(group_id ||
 * node_pk). RN_ERR_INVAL for a malformed vip_len. */
int rn_cert_ring_id(const rn_cert *cert, rn_id *out);

#endif
