/* The member's address lease: DHCP over the DHT, as IPOP did (docs/dht.md,
 * "Address leases"; issue 4).
 *
 * Every member holds the lease of the address it uses: the record
 * lease/VIP, written with create (exclusive: the DHT's owner refuses it
 * while another member's lease is alive) and value = the node key, kept
 * by the DHT, which renews it at two thirds of dht_ttl. The member's
 * member and name records are published, and (for a range) the TUN
 * device made, only once the lease is held.
 *
 * A fixed certificate names its address: its lease tells range members
 * that it is taken, and beats any range member's (dht/store.c). A refusal
 * (another fixed certificate of the same address) is logged as an error
 * and the member goes on.
 *
 * A range certificate (core/cert.h) names a prefix. A fresh process joins
 * the ring unbound (attempt 0: a ring id from its node key, taking no
 * address's place) and tries rn_cert_pick's candidates in order; once a
 * create succeeds it leaves and starts again, in the same process, bound
 * to that address (attempt = candidate + 1), whose lease it holds already
 * and so renews:
 *
 *   JOINED (+2 s) --> CREATING(trying = first)
 *         first = 0 unbound, attempt - 1 bound
 *   CREATING --ok, bound and trying == attempt - 1 (the lease this
 *            process verified before it rebound, renewed)--> HELD:
 *            publish, VPN up
 *   CREATING --ok, otherwise--> VERIFYING: RN_DAEMON_CLAIM_VERIFY_MS
 *            later, a get of the lease (see below)
 *   VERIFYING --only our record--> MOVING: the daemon leaves the ring and
 *            starts again bound to `trying` (the ring id follows the
 *            address)
 *   VERIFYING --another member's record--> as a conflict
 *   CREATING --conflict--> forget it, trying + 1 (at most
 *            RN_DAEMON_CLAIM_TRIES_MAX candidates) --> CREATING
 *   CREATING --tries used up--> FAILED: the daemon stops, exit 1
 *   CREATING --timeout or another error--> CREATING again 5 s later
 *   HELD --a renewal refused with conflict (the lease was lost, e.g. to
 *            the other side of a healed partition)--> MOVING, unbound
 *
 * The same member picks the same sequence (rn_cert_pick hashes its node
 * key), so one that restarts claims its old address first and renews its
 * own lease. Two members never hold one address: the owner's create is
 * atomic, and a member binds to an address only after its create
 * succeeded. Each lease record carries the certificate bound to its own
 * key (dht.c binds it), so an unbound node can claim.
 *
 * Why verify. A node that joined a moment ago may be the key's primary
 * before the handoff has brought it the records it should hold, and would
 * then grant a create for an address that is leased. The store keeps the
 * older claim when the two meet (dht/store.c), so a get once the handoff
 * has settled (handoff_delay_ms is 1 s) shows the winner: like DHCP's
 * ARP probe, the member binds only to what is still its own then.
 */
#include "daemon_impl.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "../core/err.h"

static const char *const state_names[] = {"idle",   "claiming", "held",
                                          "moving", "failed",   "verifying"};

static void vip_str(const uint8_t *vip, size_t len, char *out, size_t cap)
{
	if (!inet_ntop(len == 4 ? AF_INET : AF_INET6, vip, out,
	               (socklen_t)cap))
		snprintf(out, cap, "?");
}

static const rn_cert *own_cert(const rn_daemon *d)
{
	return &d->id.ident.parsed;
}

/* Sends the create for candidate `trying` (the bound vip for a fixed
 * certificate). A refusal at once is tried again later, like a timeout. */
static void send_create(rn_daemon *d)
{
	rn_daemon_claim *cl = &d->claim;
	const rn_cert *c = own_cert(d);
	if (rn_cert_is_range(c))
		rn_cert_pick(c, cl->trying, cl->vip);
	else
		memcpy(cl->vip, c->vip, c->vip_len);
	cl->state = RN_CLAIM_CREATING;
	cl->rid = d->dht->next_rid++;
	uint64_t rid = cl->rid;
	int rc = rn_dht_write(d->dht->dht, rn_uvenv_now(), rid, RN_DHT_CREATE,
	                      "lease", cl->vip, c->vip_len, c->node_pk,
	                      RN_SIGN_PK_LEN, d->cfg.dht_ttl_s, 0, 1);
	if (rc && cl->rid == rid) {
		char v[INET6_ADDRSTRLEN];
		vip_str(cl->vip, c->vip_len, v, sizeof v);
		rn_uvenv_log(&d->env, RN_LOG_WARN,
		             "lease: cannot claim %s now: %s; trying again in "
		             "%d s",
		             v, rn_strerror(rc), RN_DAEMON_CLAIM_RETRY_MS / 1000);
		rn_daemon_dht_publish_later(d, RN_DAEMON_CLAIM_RETRY_MS);
	}
}

/* The candidate tried first: the bound one, or 0. */
static uint32_t first(const rn_daemon_claim *cl)
{
	return cl->attempt ? cl->attempt - 1 : 0;
}

/* The get of the lease just created (VERIFYING). */
static void send_verify(rn_daemon *d)
{
	rn_daemon_claim *cl = &d->claim;
	cl->rid = d->dht->next_rid++;
	uint64_t rid = cl->rid;
	int rc = rn_dht_get(d->dht->dht, rn_uvenv_now(), rid, "lease", cl->vip,
	                    own_cert(d)->vip_len);
	if (rc && cl->rid == rid) /* not joined any more, table full */
		rn_daemon_dht_publish_later(d, RN_DAEMON_CLAIM_RETRY_MS);
}

void rn_daemon_claim_start(rn_daemon *d)
{
	rn_daemon_claim *cl = &d->claim;
	if (cl->state == RN_CLAIM_IDLE)
		cl->trying = first(cl);
	if (cl->state == RN_CLAIM_IDLE || cl->state == RN_CLAIM_CREATING)
		send_create(d);
	else if (cl->state == RN_CLAIM_VERIFYING)
		send_verify(d);
}

static void held(rn_daemon *d)
{
	rn_daemon_claim *cl = &d->claim;
	const rn_cert *c = own_cert(d);
	char v[INET6_ADDRSTRLEN], err[256];
	cl->state = RN_CLAIM_HELD;
	vip_str(cl->vip, c->vip_len, v, sizeof v);
	rn_uvenv_log(&d->env, RN_LOG_INFO, "lease: holding %s (%s, lease %u s)",
	             v,
	             rn_cert_is_range(c) ? "claimed in the certificate's range"
	                                 : "the certificate's address",
	             (unsigned)d->cfg.dht_ttl_s);
	rn_daemon_dht_publish(d);
	if (rn_cert_is_range(c) && !d->vpn &&
	    rn_daemon_vpn_new(d, err, sizeof err)) {
		rn_uvenv_log(&d->env, RN_LOG_ERROR, "%s", err);
		rn_daemon_fail(d);
	}
}

static void move_to(rn_daemon *d, uint32_t to, const char *why);

/* Candidate `trying` is taken: the next one, or give up. */
static void conflict(rn_daemon *d)
{
	rn_daemon_claim *cl = &d->claim;
	const rn_cert *c = own_cert(d);
	char v[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN];
	cl->conflicts++;
	vip_str(cl->vip, c->vip_len, v, sizeof v);
	if (!rn_cert_is_range(c)) {
		/* a fixed address: ours by certificate; go on */
		rn_uvenv_log(&d->env, RN_LOG_ERROR,
		             "lease: %s, this member's fixed address, is "
		             "leased by another member (the group signed two "
		             "fixed certificates of it?)",
		             v);
		rn_dht_forget(d->dht->dht, "lease", cl->vip, c->vip_len);
		cl->state = RN_CLAIM_HELD;
		rn_daemon_dht_publish(d);
		return;
	}
	rn_dht_forget(d->dht->dht, "lease", cl->vip, c->vip_len);
	if (cl->attempt && cl->trying == cl->attempt - 1) {
		/* the address this node is bound to is someone else's now:
		 * its ring id is theirs, so claim anew unbound */
		move_to(d, 0, "the address this member rejoined as is taken");
		return;
	}
	vip_str(c->range, c->vip_len, r, sizeof r);
	if (cl->trying + 1 - first(cl) >= RN_DAEMON_CLAIM_TRIES_MAX) {
		cl->state = RN_CLAIM_FAILED;
		rn_uvenv_log(&d->env, RN_LOG_ERROR,
		             "lease: no free address in %s/%u after %u tries "
		             "(%s was the last); stopping",
		             r, c->prefix_len, RN_DAEMON_CLAIM_TRIES_MAX, v);
		rn_daemon_fail(d);
		return;
	}
	rn_uvenv_log(&d->env, RN_LOG_INFO,
	             "lease: %s is taken; trying another address in %s/%u", v,
	             r, c->prefix_len);
	cl->trying++;
	send_create(d);
}

/* Start again with attempt `to`: bound to candidate to - 1, or unbound. */
static void move_to(rn_daemon *d, uint32_t to, const char *why)
{
	rn_daemon_claim *cl = &d->claim;
	uint8_t vip[RN_CERT_VIP_MAX];
	char v[INET6_ADDRSTRLEN] = "an unbound member";
	if (to) {
		rn_cert_pick(own_cert(d), to - 1, vip);
		vip_str(vip, own_cert(d)->vip_len, v, sizeof v);
	}
	cl->state = RN_CLAIM_MOVING;
	rn_uvenv_log(&d->env, RN_LOG_INFO, "lease: %s; rejoining the ring as %s",
	             why, v);
	rn_daemon_restart(d, to);
}

/* The get of VERIFYING answered: is the lease still ours alone? */
static void verified(rn_daemon *d, const rn_dht_result *res)
{
	rn_daemon_claim *cl = &d->claim;
	const rn_cert *c = own_cert(d);
	uint32_t ours = 0, others = 0;
	for (uint32_t i = 0; res->status == 0 && i < res->n_recs; i++) {
		if (!memcmp(res->recs[i].writer, c->node_pk, RN_SIGN_PK_LEN))
			ours++;
		else
			others++;
	}
	if (others) {
		conflict(d);
	} else if (!ours) {
		/* lost on the way (or the get failed): claim it again */
		cl->state = RN_CLAIM_CREATING;
		rn_daemon_dht_publish_later(d, RN_DAEMON_CLAIM_RETRY_MS);
	} else {
		move_to(d, cl->trying + 1, "claimed an address");
	}
}

int rn_daemon_claim_on_result(rn_daemon *d, const rn_dht_result *res)
{
	rn_daemon_claim *cl = &d->claim;
	const rn_cert *c = own_cert(d);
	if (d->stopping)
		return (cl->rid && res->rid == cl->rid) || res->rid == 0;
	if (res->rid == 0) {
		/* a renewal of the lease refused: it is someone else's now */
		if (res->ns_len != 5 || memcmp(res->ns, "lease", 5) ||
		    res->status != RN_ERR_CONFLICT ||
		    cl->state != RN_CLAIM_HELD)
			return 0;
		cl->lost++;
		rn_dht_forget(d->dht->dht, "lease", res->key, res->key_len);
		if (rn_cert_is_range(c))
			move_to(d, 0,
			        "the address's lease was lost to another member");
		else
			rn_uvenv_log(&d->env, RN_LOG_ERROR,
			             "lease: this member's fixed address is now "
			             "leased by another member");
		return 1;
	}
	if (!cl->rid || res->rid != cl->rid)
		return 0;
	cl->rid = 0;
	if (cl->state == RN_CLAIM_VERIFYING) {
		verified(d, res);
		return 1;
	}
	if (res->status == 0 &&
	    (!rn_cert_is_range(c) ||
	     (cl->attempt && cl->trying == cl->attempt - 1))) {
		/* a fixed address: nothing to verify; the bound one: verified
		 * before this start, and renewed now */
		held(d);
	} else if (res->status == 0) {
		cl->state = RN_CLAIM_VERIFYING;
		rn_daemon_dht_publish_later(d, RN_DAEMON_CLAIM_VERIFY_MS);
	} else if (res->status == RN_ERR_CONFLICT) {
		conflict(d);
	} else {
		char v[INET6_ADDRSTRLEN];
		vip_str(cl->vip, c->vip_len, v, sizeof v);
		rn_uvenv_log(&d->env, RN_LOG_WARN,
		             "lease: claiming %s: %s; trying again in %d s", v,
		             rn_strerror(res->status),
		             RN_DAEMON_CLAIM_RETRY_MS / 1000);
		rn_daemon_dht_publish_later(d, RN_DAEMON_CLAIM_RETRY_MS);
	}
	return 1;
}

int rn_daemon_claim_held(const rn_daemon *d)
{
	return d->claim.state == RN_CLAIM_HELD;
}

json_t *rn_daemon_claim_status(const rn_daemon *d)
{
	const rn_daemon_claim *cl = &d->claim;
	const rn_cert *c = own_cert(d);
	char r[INET6_ADDRSTRLEN + 8] = "";
	if (rn_cert_is_range(c)) {
		char a[INET6_ADDRSTRLEN];
		vip_str(c->range, c->vip_len, a, sizeof a);
		snprintf(r, sizeof r, "%s/%u", a, c->prefix_len);
	}
	return json_pack("{s:s,s:o,s:I,s:I,s:I}", "state",
	                 state_names[cl->state], "range",
	                 r[0] ? json_string(r) : json_null(), "attempt",
	                 (json_int_t)cl->attempt, "conflicts",
	                 (json_int_t)cl->conflicts, "lost",
	                 (json_int_t)cl->lost);
}
