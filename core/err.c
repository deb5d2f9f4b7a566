/* Error code names. A table, not logic: see err.h. */
#include "err.h"

const char *rn_strerror(int err)
{
	switch (err) {
	case RN_OK: return "success";
	case RN_ERR_NOMEM: return "out of memory";
	case RN_ERR_INVAL: return "invalid argument";
	case RN_ERR_TRUNC: return "truncated input";
	case RN_ERR_PROTO: return "protocol error";
	case RN_ERR_VERSION: return "unsupported protocol version";
	case RN_ERR_FULL: return "table full";
	case RN_ERR_NOTFOUND: return "not found";
	case RN_ERR_TOOBIG: return "does not fit";
	case RN_ERR_DEPTH: return "nesting or element count beyond limits";
	case RN_ERR_STATE: return "invalid in current state";
	case RN_ERR_NOROUTE: return "no route";
	case RN_ERR_IO: return "I/O error";
	case RN_ERR_CERT_GROUP: return "certificate of another group";
	case RN_ERR_CERT_EARLY: return "certificate not yet valid";
	case RN_ERR_CERT_EXPIRED: return "certificate expired";
	case RN_ERR_BADSIG: return "bad signature";
	case RN_ERR_BADKEY: return "unusable public key";
	case RN_ERR_AUTH: return "authentication failed";
	case RN_ERR_REPLAY: return "replayed or too old";
	case RN_ERR_REKEY: return "key used up, rekey needed";
	case RN_ERR_PERM: return "not permitted for this member";
	case RN_ERR_EXPIRED: return "lease expired or out of range";
	case RN_ERR_CONFLICT: return "held by another value";
	case RN_ERR_STALE: return "older than the value held";
	case RN_ERR_TIMEOUT: return "timed out";
	default: return "unknown error";
	}
}
