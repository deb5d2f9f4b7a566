/* Default overlay settings and their sanity check (see settings.h). The
 * defaults are the ones measured in bench/results; change them there first. */
#include "settings.h"

#include "../core/env.h"
#include "../core/err.h"
#include "msg.h"

void rn_settings_default(rn_settings *s)
{
	s->near_k = 4;
	s->links_max = 160;
	s->pending_links_max = 24;
	s->endpoints_max = 1u << 24;
	s->far_kind = RN_FAR_FINGERS2;
	s->symphony_links = 0;
	s->bootstrap_max = 8;

	s->keepalive_near_ms = 10000;
	s->keepalive_far_ms = 60000;
	s->ping_tries_max = 3;
	s->rto_min_ms = 300;
	s->rto_max_ms = 3000;
	s->hello_rto_ms = 500;
	s->hello_tries_max = 4;
	s->timer_slack_ms = 500;
	s->timer_slack_far_ms = 5000;

	s->near_announce_ms = 250;
	s->stabilize_ms = 30000;
	s->ring_check_ms = 300000;
	s->far_refresh_ms = 120000;
	s->far_start_ms = 1000; /* after the far hints (far.c) */
	s->join_retry_ms = 3000;
	s->ctm_answers_max = 16;
	s->trim_grace_ms = 5000;
	s->lost_peers_max = 4;
	s->lost_probe_ms = 10000;
	s->lost_peer_keep_ms = 3600000;
	s->shortcuts_max = 16;
	s->shortcut_idle_ms = 30000;
	s->shortcut_ask_ms = 5000;
	s->relays_max = 16;
	s->relay_retry_ms = 30000;
	s->relay_retry_max_ms = 600000;

	s->hop_limit = 64;
	s->route_pending_max = 64;
	s->reroute_max = 3;

	s->crypto = RN_CRYPTO_REAL;
	s->sessions_max = 192;
	s->hs_pending_max = 40;
	s->hs_pending_ms = 10000;
	s->handshakes_per_s_max = 200;
	s->handshake_skew_ms = 600000;
	s->rekey_after_ms = 600000;
	s->rekey_after_msgs = 1ull << 60; /* as WireGuard; the nonce runs out at 2^64 */

	s->log_level = RN_LOG_WARN;
}

int rn_settings_check(const rn_settings *s, const char **why)
{
#define BAD(cond, name)                                                        \
	do {                                                                   \
		if (cond) {                                                    \
			*why = name;                                           \
			return RN_ERR_INVAL;                                   \
		}                                                              \
	} while (0)
	BAD(s->near_k < 2 || 2 * s->near_k > RN_NEIGHBORS_MAX, "near_k");
	BAD(s->links_max < 2 * s->near_k + 2 || s->links_max > 4096,
	    "links_max");
	BAD(s->pending_links_max < 1, "pending_links_max");
	/* one spare: a peer moving to a new endpoint takes the new
	 * reference before it drops the old one */
	BAD(s->endpoints_max <= s->links_max, "endpoints_max");
	BAD(s->far_kind > RN_FAR_NONE, "far_kind");
	BAD(s->symphony_links > 64, "symphony_links");
	BAD(s->bootstrap_max < 1 || s->bootstrap_max > 64, "bootstrap_max");
	BAD(s->keepalive_near_ms < 100, "keepalive_near_ms");
	BAD(s->keepalive_far_ms < s->keepalive_near_ms, "keepalive_far_ms");
	BAD(s->ping_tries_max < 1 || s->ping_tries_max > 16, "ping_tries_max");
	BAD(s->rto_min_ms < 1 || s->rto_max_ms < s->rto_min_ms, "rto_min_ms");
	BAD(s->hello_tries_max < 1 || s->hello_tries_max > 16,
	    "hello_tries_max");
	BAD(s->hop_limit < 2 || s->hop_limit > 255, "hop_limit");
	BAD(s->reroute_max > 16, "reroute_max");
	BAD(s->join_retry_ms < 100 || s->join_retry_ms > (1u << 28),
	    "join_retry_ms");
	BAD(s->ctm_answers_max > 255, "ctm_answers_max");
	BAD(s->hello_rto_ms < 10 || s->hello_rto_ms > 60000, "hello_rto_ms");
	BAD(s->stabilize_ms < 1000, "stabilize_ms");
	BAD(s->ring_check_ms < 1000, "ring_check_ms");
	BAD(s->far_refresh_ms < 1000, "far_refresh_ms");
	BAD(s->trim_grace_ms < 100, "trim_grace_ms");
	BAD(s->timer_slack_far_ms < 1 ||
		    s->timer_slack_far_ms > s->keepalive_far_ms / 2,
	    "timer_slack_far_ms");
	BAD(s->lost_peers_max > 64, "lost_peers_max");
	BAD(s->lost_probe_ms < 1000 || s->lost_probe_ms > 600000,
	    "lost_probe_ms");
	BAD(s->lost_peer_keep_ms < s->lost_probe_ms ||
		    s->lost_peer_keep_ms > (1u << 30),
	    "lost_peer_keep_ms");
	BAD(s->relays_max > 255 || s->relays_max > s->links_max, "relays_max");
	BAD(s->relay_retry_ms != 0 &&
		    (s->relay_retry_ms < 1000 || s->relay_retry_ms > (1u << 30)),
	    "relay_retry_ms");
	BAD(s->relay_retry_max_ms < s->relay_retry_ms ||
		    s->relay_retry_max_ms > (1u << 30),
	    "relay_retry_max_ms");
	BAD(s->shortcuts_max > 255, "shortcuts_max");
	BAD(s->shortcut_idle_ms < 1000 || s->shortcut_idle_ms > (1u << 30),
	    "shortcut_idle_ms");
	BAD(s->shortcut_ask_ms < 100 || s->shortcut_ask_ms > (1u << 30),
	    "shortcut_ask_ms");
	BAD(s->route_pending_max < 1, "route_pending_max");
	BAD(s->crypto > RN_CRYPTO_NONE, "crypto");
	BAD(s->sessions_max <= s->links_max, "sessions_max");
	BAD(s->hs_pending_max < s->pending_links_max, "hs_pending_max");
	BAD(s->hs_pending_ms < 1000, "hs_pending_ms");
	BAD(s->handshakes_per_s_max < 1, "handshakes_per_s_max");
	BAD(s->handshake_skew_ms < 1000, "handshake_skew_ms");
	BAD(s->rekey_after_ms < 10000 || s->rekey_after_ms > (1u << 30),
	    "rekey_after_ms");
	BAD(s->rekey_after_msgs < 16 || s->rekey_after_msgs > (1ull << 62),
	    "rekey_after_msgs");
#undef BAD
	return 0;
}
