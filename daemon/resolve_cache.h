/* The daemon's resolution cache: what `ringnet resolve` learnt from the
 * DHT (a member's name and virtual IP, node key and endpoints), kept until
 * the lease of the record it came from ends, so that a repeated resolve is
 * answered locally.
 *
 * One entry per member, found by virtual IP or by name:
 *
 *     vip -> {name, node_pk, endpoints}   valid until expires_ms
 *     name -> the same entry               valid until name_expires_ms too
 *
 * expires_ms is the lease end of the member record (member/VIP),
 * name_expires_ms that of the name record (name/NAME) when the entry was
 * reached through a name, else 0: a name is answered from the cache only
 * while both leases last, a virtual IP while the member record's does.
 *
 * Bounded: RN_RESOLVE_CACHE_MAX entries in a fixed array. An insert first
 * drops expired entries; when the cache is still full the new entry is
 * dropped and counted (overflow), never anything live. Sans-I/O: every
 * call takes the unix time in ms; no allocation after init.
 */
#ifndef RN_RESOLVE_CACHE_H
#define RN_RESOLVE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "../core/cert.h"
#include "../dht/member.h"

#define RN_RESOLVE_CACHE_MAX 256

typedef struct rn_resolved {
	uint8_t vip[RN_CERT_VIP_MAX], vip_len; /* 4 or 16 */
	char name[RN_CERT_NAME_MAX + 1];       /* from the certificate */
	uint8_t node_pk[RN_SIGN_PK_LEN];       /* the record's writer */
	rn_member eps;
	uint64_t expires_ms;      /* the member record's lease end, unix ms */
	uint64_t name_expires_ms; /* the name record's, or 0 */
} rn_resolved;

typedef struct rn_resolve_cache_stats {
	uint64_t hits, misses;
	uint64_t inserts;  /* entries stored or refreshed */
	uint64_t expired;  /* dropped at the end of their lease */
	uint64_t overflow; /* not stored: the cache was full of live entries */
} rn_resolve_cache_stats;

typedef struct rn_resolve_cache {
	rn_resolved v[RN_RESOLVE_CACHE_MAX];
	uint32_t n;
	rn_resolve_cache_stats stats;
} rn_resolve_cache;

void rn_resolve_cache_init(rn_resolve_cache *c);

/* The live entry for vip[0..vip_len), or NULL (counted as hit or miss). */
const rn_resolved *rn_resolve_cache_by_vip(rn_resolve_cache *c,
                                           const uint8_t *vip, size_t vip_len,
                                           uint64_t now_ms);
/* The live entry reached through name (NUL-terminated), or NULL. */
const rn_resolved *rn_resolve_cache_by_name(rn_resolve_cache *c,
                                            const char *name, uint64_t now_ms);

/* Stores r, replacing the entry of the same virtual IP (a name lease
 * already known is kept when r has none). 0, RN_ERR_INVAL (an expired or
 * malformed entry) or RN_ERR_FULL (dropped and counted). */
int rn_resolve_cache_put(rn_resolve_cache *c, const rn_resolved *r,
                         uint64_t now_ms);

/* Drops the entries whose lease has ended; returns how many. */
uint32_t rn_resolve_cache_expire(rn_resolve_cache *c, uint64_t now_ms);

#endif
