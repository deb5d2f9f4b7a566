/* Interned endpoints: one copy of each endpoint per process, by handle.
 *
 * A link names its peer's endpoint by a 32-bit handle into this table
 * instead of carrying the 18-byte endpoint itself: with a million simulated
 * nodes of some 50 links each, that is 0.7 GB less, and finding the link a
 * datagram came from compares handles, not endpoints. Entries are counted
 * references: rn_eptab_ref interns (or finds) an endpoint and takes a
 * reference, rn_eptab_unref drops one, and an entry with none is freed and
 * its handle reused. Handle 0 is never an entry ("no endpoint").
 *
 * The index is open addressing over entry handles with linear probing and
 * backward-shift deletion, at most half full; entries_max bounds the
 * entries (an intern beyond fails with 0, and the caller refuses the link).
 * One table per rn_shared: the daemon's holds its own node's peers only.
 */
#ifndef RN_EPTAB_H
#define RN_EPTAB_H

#include <stdint.h>

#include "ep.h"

typedef struct rn_eptab_entry {
	rn_ep ep;
	uint32_t refs;      /* 0: free, and next_free links the free list */
	uint32_t next_free;
} rn_eptab_entry;

#define RN_EPTAB_HANDLES_MAX (1u << 24) /* handles fit in 24 bits */

typedef struct rn_eptab {
	rn_eptab_entry *e; /* e[0] unused */
	uint32_t *slot;    /* handles; 0 = empty */
	uint32_t n_e;      /* entries allocated, including e[0] */
	uint32_t cap_e, live, mask, free_head, entries_max;
} rn_eptab;

void rn_eptab_init(rn_eptab *t, uint32_t entries_max);
void rn_eptab_deinit(rn_eptab *t);
/* Interns ep and takes a reference: its handle, or 0 when full or out of
 * memory. */
uint32_t rn_eptab_ref(rn_eptab *t, const rn_ep *ep);
void rn_eptab_unref(rn_eptab *t, uint32_t h);
/* The handle of ep if it is interned (no reference taken), else 0. */
uint32_t rn_eptab_find(const rn_eptab *t, const rn_ep *ep);
/* The hash the index uses; its top 8 bits make a cheap tag (link.h). */
uint32_t rn_eptab_hash(const rn_ep *ep);
/* The endpoint of a live handle; the all-zero endpoint for 0. The pointer
 * is good until the next rn_eptab_ref (which may move the entries). */
const rn_ep *rn_eptab_get(const rn_eptab *t, uint32_t h);
static inline uint32_t rn_eptab_live(const rn_eptab *t) { return t->live; }

#endif
