/* DHT records: the signed unit of everything the DHT stores (docs/dht.md).
 *
 * A record names its key (namespace and key bytes), carries a value and the
 * writer's node key, its times (created, ts, expires; unix ms on the
 * writer's clock), flags, the writer's member certificate and an Ed25519
 * signature by the writer over a canonical byte string (not the msgpack
 * bytes). It is handed from node to node unchanged, and each node that
 * stores or reads it checks it again: signature, certificate, and the
 * namespace's rule for who may write what (rn_rec_check).
 *
 * In a simulation run with crypto none (overlay/settings.h) records carry
 * no certificate and no signature, and rn_rec_check skips those two steps;
 * every other rule still holds.
 *
 * The decoder is strict and never asserts on input; it has a fuzz target.
 */
#ifndef RN_DHT_RECORD_H
#define RN_DHT_RECORD_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/cert.h"
#include "../core/id.h"

#define RN_REC_TYPE 0x52 /* 'R' */
#define RN_REC_VERSION 1
#define RN_REC_NS_MAX 16
#define RN_REC_KEY_MAX 64
#define RN_REC_VALUE_MAX 512 /* why 512: docs/dht.md */
#define RN_REC_ENCODED_MAX 1000

enum rn_rec_flag {
	RN_REC_EXCL = 1,    /* one value per key (create) */
	RN_REC_REPLACE = 2, /* supersedes the writer's older entries */
	RN_REC_TOMB = 4,    /* removes the writer's older entries */
};
#define RN_REC_FLAGS_ALL 7u

typedef struct rn_rec {
	uint8_t ns_len, key_len;
	uint16_t value_len;
	char ns[RN_REC_NS_MAX + 1]; /* NUL-terminated for display */
	uint8_t key[RN_REC_KEY_MAX];
	uint8_t value[RN_REC_VALUE_MAX];
	uint8_t writer[RN_SIGN_PK_LEN];
	uint64_t created, ts, expires; /* unix ms */
	uint8_t flags;
	uint8_t has_cert;  /* 0 only in crypto-none simulations */
	rn_cert cert;
	uint8_t sig[RN_SIG_LEN];
} rn_rec;

/* 1 if ns[0..len) is 1..RN_REC_NS_MAX bytes of [a-z0-9-]. */
int rn_rec_ns_ok(const char *ns, size_t len);

/* key_id = BLAKE2b-160(group_id || ns || 0 || key). */
void rn_rec_key_id(rn_id *out, const uint8_t group_id[RN_GROUP_ID_LEN],
		   const char *ns, size_t ns_len, const uint8_t *key,
		   size_t key_len);

/* Fills the key fields of r; RN_ERR_INVAL for a bad namespace or key. */
int rn_rec_set_key(rn_rec *r, const char *ns, const uint8_t *key,
		   size_t key_len);

/* Signs r (its writer and cert must be set) with the writer's secret key.
 * Without a certificate (crypto none) the signature is left zero. */
int rn_rec_sign(rn_rec *r, const uint8_t group_id[RN_GROUP_ID_LEN],
		const uint8_t sk[RN_SIGN_SK_LEN]);

/* Everything a node checks before it stores or believes a record, at unix
 * time now_ms, in order: the form (RN_ERR_INVAL), the lease
 * (RN_ERR_EXPIRED: expired, or longer than ttl_max_ms, or ts in the future
 * beyond skew_ms), the certificate (group, validity, that it is the
 * writer's: RN_ERR_CERT_*), the signature (RN_ERR_BADSIG) and the
 * namespace's rule (RN_ERR_PERM). With require_cert 0 (crypto none) the
 * certificate and signature are not looked at. */
typedef struct rn_rec_policy {
	const uint8_t *group_id; /* RN_GROUP_ID_LEN */
	const uint8_t *group_pk; /* RN_SIGN_PK_LEN */
	uint64_t ttl_max_ms, skew_ms;
	int require_cert;
} rn_rec_policy;
int rn_rec_check(const rn_rec *r, const rn_rec_policy *p, uint64_t now_ms);

/* Wire form (docs/dht.md). Encode: RN_ERR_INVAL or RN_ERR_TOOBIG. Decode
 * reads exactly buf[0..len): RN_ERR_TRUNC/DEPTH/PROTO/VERSION/NOMEM; it
 * checks the form, not the signature. */
int rn_rec_encode(const rn_rec *r, uint8_t *buf, size_t cap, size_t *len);
int rn_rec_decode(msgpack_zone *zone, const uint8_t *buf, size_t len,
		  rn_rec *r);

#endif
