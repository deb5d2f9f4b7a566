/* The member's identity files, loaded and checked together (daemon_impl.h).
 *
 *     group.pub --+
 *     node.key  --+--> rn_cert_verify (group signature, valid now)
 *     node.cert --+    cert.node_pk == the node key's public half
 *                      --> rn_daemon_identity (what the node presents)
 *
 * Each refusal is one line that names the file at fault and says how to
 * fix it; ringnetd prints it and exits 2 (RN_DAEMON_EXIT_CONFIG), before
 * any socket is opened. rn_daemon_check (--check) runs the same checks.
 * The node secret key never stays on the stack: it is wiped on every
 * path, and the identity is wiped when the daemon is freed.
 */
#include "daemon_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <sodium.h>

#include "../core/err.h"
#include "keyfile.h"

static void fmt_time(uint64_t unix_s, char *out, size_t len)
{
	time_t t = (time_t)unix_s;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

static int cert_problem(const rn_config *c, const rn_cert *cert, int rc,
                        char *err, size_t errlen)
{
	char when[40];
	switch (rc) {
	case RN_ERR_CERT_GROUP:
		snprintf(
		    err, errlen,
		    "%s: certificate is for another group than %s; use the "
		    "group file the certificate was issued under",
		    c->cert_path, c->group_path);
		break;
	case RN_ERR_CERT_EARLY:
		fmt_time(cert->not_before, when, sizeof when);
		snprintf(err, errlen,
		         "%s: certificate is not valid before %s; check the "
		         "clock or issue a new one (ringnet member add)",
		         c->cert_path, when);
		break;
	case RN_ERR_CERT_EXPIRED:
		fmt_time(cert->not_after, when, sizeof when);
		snprintf(err, errlen,
		         "%s: certificate expired on %s; issue a new one "
		         "(ringnet member add)",
		         c->cert_path, when);
		break;
	default:
		snprintf(err, errlen,
		         "%s: certificate does not verify (%s); "
		         "issue a new one (ringnet member add)",
		         c->cert_path, rn_strerror(rc));
		break;
	}
	return -1;
}

static int check_cert(const rn_config *c, const rn_daemon_identity *id,
                      const rn_cert *cert,
                      const uint8_t node_pk[RN_SIGN_PK_LEN], char *err,
                      size_t errlen)
{
	int rc = rn_cert_verify(cert, id->group_pk, (uint64_t)time(NULL));
	if (rc)
		return cert_problem(c, cert, rc, err, errlen);
	if (sodium_memcmp(cert->node_pk, node_pk, RN_SIGN_PK_LEN)) {
		snprintf(err, errlen,
		         "%s: certificate is for another node key than %s; use "
		         "the key the certificate was issued for",
		         c->cert_path, c->key_path);
		return -1;
	}
	return 0;
}

/* Fills the identity the node presents in its handshakes. The group id
 * and the certificate's virtual IP fix the node's ring id; a range
 * certificate stays unbound for attempt 0 and stands for rn_cert_pick's
 * candidate attempt - 1 otherwise (daemon_claim.c). */
int rn_daemon_identity_load(const rn_config *c, rn_daemon_identity *id,
                            uint32_t attempt, char *err, size_t errlen)
{
	uint8_t pk[RN_SIGN_PK_LEN], sk[RN_SIGN_SK_LEN];
	uint8_t bytes[RN_CERT_ENCODED_MAX];
	size_t len = 0;
	rn_cert cert;
	int rc = -1;
	if (rn_keyfile_read_group_pk(c->group_path, id->group_pk, err,
	                             errlen) ||
	    rn_keyfile_read_node_secret(c->key_path, pk, sk, err, errlen))
		goto out;
	if (rn_keyfile_read_cert(c->cert_path, &cert, err, errlen))
		goto out;
	rn_group_id(id->group_id, id->group_pk);
	if (check_cert(c, id, &cert, pk, err, errlen))
		goto out;
	uint8_t vip[RN_CERT_VIP_MAX];
	if (rn_cert_is_range(&cert) && attempt &&
	    (rn_cert_pick(&cert, attempt - 1, vip) ||
	     rn_cert_bind(&cert, vip, cert.vip_len))) {
		snprintf(err, errlen, "%s: cannot pick an address in the range",
		         c->cert_path);
		goto out;
	}
	if (rn_cert_encode(&cert, bytes, sizeof bytes, &len) ||
	    rn_ident_init(&id->ident, sk, bytes, len)) {
		snprintf(err, errlen,
		         "%s: certificate does not re-encode; "
		         "issue a new one (ringnet member add)",
		         c->cert_path);
		goto out;
	}
	rc = 0;
out:
	sodium_memzero(sk, sizeof sk);
	return rc;
}

int rn_daemon_check(const char *config_path, char *err, size_t errlen)
{
	rn_config *c = malloc(sizeof *c);
	rn_daemon_identity *id = malloc(sizeof *id);
	int rc = RN_DAEMON_EXIT_CONFIG;
	if (!c || !id)
		snprintf(err, errlen, "out of memory");
	else if (rn_config_load(config_path, c, err, errlen) == 0 &&
	         rn_daemon_identity_load(c, id, 0, err, errlen) == 0)
		rc = RN_DAEMON_EXIT_OK;
	if (id)
		sodium_memzero(id, sizeof *id);
	free(id);
	free(c);
	return rc;
}
