/* The resolution cache (resolve_cache.h): a small unordered array,
 * searched linearly (RN_RESOLVE_CACHE_MAX entries; a resolve is a
 * command, not a packet path). Removal moves the last entry into the hole.
 * Invariant: no two entries have the same virtual IP.
 */
#include "resolve_cache.h"

#include <string.h>

#include "../core/err.h"

void rn_resolve_cache_init(rn_resolve_cache *c)
{
	memset(c, 0, sizeof *c);
}

static void drop(rn_resolve_cache *c, uint32_t i)
{
	c->v[i] = c->v[--c->n];
}

uint32_t rn_resolve_cache_expire(rn_resolve_cache *c, uint64_t now_ms)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < c->n;) {
		if (c->v[i].expires_ms <= now_ms) {
			drop(c, i);
			n++;
		} else {
			i++;
		}
	}
	c->stats.expired += n;
	return n;
}

static int find_vip(const rn_resolve_cache *c, const uint8_t *vip,
                    size_t vip_len)
{
	for (uint32_t i = 0; i < c->n; i++)
		if (c->v[i].vip_len == vip_len &&
		    memcmp(c->v[i].vip, vip, vip_len) == 0)
			return (int)i;
	return -1;
}

const rn_resolved *rn_resolve_cache_by_vip(rn_resolve_cache *c,
                                           const uint8_t *vip, size_t vip_len,
                                           uint64_t now_ms)
{
	rn_resolve_cache_expire(c, now_ms);
	int i = find_vip(c, vip, vip_len);
	if (i < 0) {
		c->stats.misses++;
		return NULL;
	}
	c->stats.hits++;
	return &c->v[i];
}

const rn_resolved *rn_resolve_cache_by_name(rn_resolve_cache *c,
                                            const char *name, uint64_t now_ms)
{
	rn_resolve_cache_expire(c, now_ms);
	for (uint32_t i = 0; i < c->n; i++) {
		const rn_resolved *r = &c->v[i];
		if (r->name_expires_ms > now_ms && !strcmp(r->name, name)) {
			c->stats.hits++;
			return r;
		}
	}
	c->stats.misses++;
	return NULL;
}

int rn_resolve_cache_put(rn_resolve_cache *c, const rn_resolved *r,
                         uint64_t now_ms)
{
	if ((r->vip_len != 4 && r->vip_len != 16) || r->expires_ms <= now_ms ||
	    r->eps.n > RN_MEMBER_EPS_MAX)
		return RN_ERR_INVAL;
	rn_resolve_cache_expire(c, now_ms);
	int i = find_vip(c, r->vip, r->vip_len);
	if (i >= 0) {
		uint64_t name_exp = c->v[i].name_expires_ms;
		int same_name = !strcmp(c->v[i].name, r->name);
		c->v[i] = *r;
		if (!r->name_expires_ms && same_name)
			c->v[i].name_expires_ms = name_exp;
		c->stats.inserts++;
		return 0;
	}
	if (c->n >= RN_RESOLVE_CACHE_MAX) {
		c->stats.overflow++;
		return RN_ERR_FULL;
	}
	c->v[c->n++] = *r;
	c->stats.inserts++;
	return 0;
}
