/* Field-by-field equality of decoded overlay messages and routed bodies,
 * shared by the codec's unit tests and its fuzz targets (round trips). A
 * new message type is added here once, or the fuzz targets reject it. */
#ifndef RN_TESTS_MSG_EQ_H
#define RN_TESTS_MSG_EQ_H

#include <string.h>

#include "overlay/msg.h"

static inline int rn_test_msg_eq(const rn_msg *a, const rn_msg *b)
{
	if (a->type != b->type)
		return 0;
	switch (a->type) {
	case RN_MSG_HELLO:
	case RN_MSG_HELLO_ACK:
		return memcmp(a->u.hello.src.b, b->u.hello.src.b, RN_ID_LEN) == 0 &&
		       a->u.hello.kind == b->u.hello.kind &&
		       a->u.hello.token == b->u.hello.token &&
		       rn_ep_eq(&a->u.hello.your_ep, &b->u.hello.your_ep) &&
		       a->u.hello.ts_ms == b->u.hello.ts_ms &&
		       a->u.hello.has_peer == b->u.hello.has_peer &&
		       (!a->u.hello.has_peer ||
			(rn_id_cmp(&a->u.hello.peer.id, &b->u.hello.peer.id) == 0 &&
			 rn_ep_eq(&a->u.hello.peer.ep, &b->u.hello.peer.ep)));
	case RN_MSG_PING:
	case RN_MSG_PONG:
		return a->u.ping.ts_ms == b->u.ping.ts_ms;
	case RN_MSG_CLOSE:
		return a->u.close.reason == b->u.close.reason;
	case RN_MSG_NEIGHBORS:
	case RN_MSG_FAR_HINTS:
		if (a->u.neighbors.n != b->u.neighbors.n)
			return 0;
		for (unsigned i = 0; i < a->u.neighbors.n; i++)
			if (memcmp(a->u.neighbors.v[i].id.b, b->u.neighbors.v[i].id.b,
				   RN_ID_LEN) ||
			    !rn_ep_eq(&a->u.neighbors.v[i].ep, &b->u.neighbors.v[i].ep))
				return 0;
		return 1;
	case RN_MSG_ROUTED:
		return a->u.routed.hop_seq == b->u.routed.hop_seq &&
		       memcmp(a->u.routed.src.b, b->u.routed.src.b, RN_ID_LEN) == 0 &&
		       memcmp(a->u.routed.dst.b, b->u.routed.dst.b, RN_ID_LEN) == 0 &&
		       a->u.routed.mode == b->u.routed.mode &&
		       a->u.routed.hops == b->u.routed.hops &&
		       a->u.routed.ttl == b->u.routed.ttl &&
		       a->u.routed.body_len == b->u.routed.body_len &&
		       (a->u.routed.body_len == 0 ||
			memcmp(a->u.routed.body, b->u.routed.body,
			       a->u.routed.body_len) == 0);
	case RN_MSG_HOP_ACK:
		return a->u.hop_ack.hop_seq == b->u.hop_ack.hop_seq;
	case RN_MSG_RELAY:
		return a->u.relay.dir == b->u.relay.dir &&
		       memcmp(a->u.relay.peer.b, b->u.relay.peer.b, RN_ID_LEN) == 0 &&
		       a->u.relay.inner_len == b->u.relay.inner_len &&
		       (a->u.relay.inner_len == 0 ||
			memcmp(a->u.relay.inner, b->u.relay.inner,
			       a->u.relay.inner_len) == 0);
	default:
		return 0;
	}
}

static inline int rn_test_body_eq(const rn_body *a, const rn_body *b)
{
	if (a->type != b->type)
		return 0;
	switch (a->type) {
	case RN_BODY_CTM:
		if (a->u.ctm.purpose != b->u.ctm.purpose ||
		    a->u.ctm.token != b->u.ctm.token ||
		    a->u.ctm.n_eps != b->u.ctm.n_eps ||
		    a->u.ctm.has_relay != b->u.ctm.has_relay ||
		    (a->u.ctm.has_relay &&
		     rn_id_cmp(&a->u.ctm.relay, &b->u.ctm.relay) != 0))
			return 0;
		for (unsigned i = 0; i < a->u.ctm.n_eps; i++)
			if (!rn_ep_eq(&a->u.ctm.eps[i], &b->u.ctm.eps[i]))
				return 0;
		return 1;
	case RN_BODY_LOOKUP:
		return a->u.lookup.qid == b->u.lookup.qid;
	case RN_BODY_CTM_REPLY:
		return rn_id_cmp(&a->u.ctm_reply.joiner, &b->u.ctm_reply.joiner) ==
			       0 &&
		       rn_ep_eq(&a->u.ctm_reply.ep, &b->u.ctm_reply.ep);
	case RN_BODY_TRACE:
	case RN_BODY_TRACE_REPLY:
		if (a->u.trace.qid != b->u.trace.qid || a->u.trace.n != b->u.trace.n)
			return 0;
		for (unsigned i = 0; i < a->u.trace.n; i++)
			if (rn_id_cmp(&a->u.trace.id[i], &b->u.trace.id[i]) ||
			    a->u.trace.rtt_ms[i] != b->u.trace.rtt_ms[i])
				return 0;
		return 1;
	default:
		return a->u.lookup.qid == b->u.lookup.qid &&
		       a->u.lookup.hops == b->u.lookup.hops;
	}
}

#endif
