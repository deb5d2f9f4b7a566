/* The link table: every link of a node, sorted by ring offset.
 *
 * A link is stored by its offset off = peer_id - my_id (mod 2^160), so the
 * table sorted by memcmp(off) is the ring in clockwise order starting just
 * after me: links[0] is my nearest clockwise link (successor), links[n-1]
 * my nearest counter-clockwise one (predecessor). Greedy routing is then a
 * binary search (route.c). Indexes change on insert and remove: nothing
 * outside a single call keeps one; cross-call references use the offset.
 *
 * Grows four links at a time up to links_max; an insert beyond fails
 * (RN_ERR_FULL). Shrinks back when RN_LINKS_SLACK_MAX slots stand empty.
 *
 * The peer's endpoint is a handle into the process's interned endpoints
 * (core/eptab.h), kept in a parallel array eph[] beside the links as
 * handle << 8 | tag, the tag being 8 bits of the endpoint's hash: finding
 * the link a datagram came from scans 4 bytes a link and looks up only the
 * endpoints whose tag matches, without touching the shared index.
 */
#ifndef RN_LINK_H
#define RN_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "../core/ep.h"
#include "../core/eptab.h"
#include "../core/id.h"

enum rn_link_state {
	RN_LINK_PENDING = 0, /* HELLO sent, no answer yet */
	RN_LINK_UP = 1,
};

enum rn_link_flag {
	RN_LF_LEAF = 1,        /* joining link: not used for routing */
	RN_LF_FAR_OUT = 2,     /* I asked for it as a far link */
	RN_LF_PEER_WANTS = 4,  /* the peer keeps it as its far or leaf link */
	RN_LF_SUSPECT = 8,     /* a hop ack went missing: avoid until heard */
	RN_LF_NEAR = 16,       /* cached: inside my near window */
	RN_LF_OPEN_NEAR = 32,  /* opened to become a ring neighbour */
	RN_LF_ASKED = 64,      /* UNNEEDED sent, awaiting the answer */
	RN_LF_HINTS = 128,     /* opened for a joining node: send far hints */
};

typedef struct rn_link {
	rn_id off;            /* peer id - my id */
	uint32_t last_rx_ms;  /* last datagram from the peer */
	uint32_t since_ms;    /* PENDING: HELLO sent; UP: link up */
	uint16_t rtt_ms;
	uint8_t state, flags, tries;
	uint8_t kind_out;     /* HELLO kind bits we send on this link */
	uint16_t finger;      /* far slot + 1 this link fills, 0 for none */
	uint32_t token;       /* PENDING: token echoed in our HELLO */
} rn_link;

_Static_assert(sizeof(rn_link) <= 40, "links must stay compact");

#define RN_LINKS_SLACK_MAX 8

typedef struct rn_links {
	rn_link *v;
	uint32_t *eph; /* eph[i]: handle << 8 | tag of v[i]'s endpoint; 0 none */
	rn_eptab *eps;
	uint32_t n, cap, max;
} rn_links;

void rn_links_init(rn_links *t, uint32_t links_max, rn_eptab *eps);
void rn_links_deinit(rn_links *t);
/* Sets link idx's endpoint; RN_ERR_FULL if the endpoint table is full. */
int rn_links_set_ep(rn_links *t, uint32_t idx, const rn_ep *ep);
static inline const rn_ep *rn_links_ep(const rn_links *t, uint32_t idx)
{
	return rn_eptab_get(t->eps, t->eph[idx] >> 8);
}
static inline uint32_t rn_links_ep_tag(const rn_ep *ep)
{
	return rn_eptab_hash(ep) >> 24;
}
/* Whether link idx's endpoint is ep (tag first: usually no lookup). */
static inline int rn_links_ep_is(const rn_links *t, uint32_t idx,
				 const rn_ep *ep, uint32_t tag)
{
	return (t->eph[idx] & 0xffu) == tag && t->eph[idx] &&
	       rn_ep_eq(rn_links_ep(t, idx), ep);
}
/* The endpoint of a link given by pointer into t->v. */
static inline const rn_ep *rn_link_ep(const rn_links *t, const rn_link *l)
{
	return rn_links_ep(t, (uint32_t)(l - t->v));
}
/* Index of the first link with off >= key (n if none). */
uint32_t rn_links_lower_bound(const rn_links *t, const rn_id *off);
int rn_links_find(const rn_links *t, const rn_id *off); /* index or -1 */
int rn_links_find_ep(const rn_links *t, const rn_ep *ep); /* index or -1 */
/* Inserts a zeroed link with this offset; returns its index or an error. */
int rn_links_insert(rn_links *t, const rn_id *off);
void rn_links_remove(rn_links *t, uint32_t idx);
/* A ring link: counts for the near window (a leaf does not). 0 or 1. */
static inline uint32_t rn_link_eligible(const rn_link *l)
{
	return l->state == RN_LINK_UP && !(l->flags & RN_LF_LEAF);
}
/* A link routing may use right now. */
static inline int rn_link_usable(const rn_link *l)
{
	return l->state == RN_LINK_UP &&
	       !(l->flags & (RN_LF_LEAF | RN_LF_SUSPECT));
}

#endif
