/* Error codes shared by every ringnet library.
 *
 * Functions return int: 0 on success, a negative RN_ERR_* on failure.
 * rn_strerror() turns a code into a short English phrase for logs and CLIs.
 */
#ifndef RN_ERR_H
#define RN_ERR_H

enum {
	RN_OK = 0,
	RN_ERR_NOMEM = -1,     /* allocation failed */
	RN_ERR_INVAL = -2,     /* bad argument from the caller */
	RN_ERR_TRUNC = -3,     /* input ended before the structure did */
	RN_ERR_PROTO = -4,     /* well-formed bytes, but not our protocol */
	RN_ERR_VERSION = -5,   /* a protocol version we do not speak */
	RN_ERR_FULL = -6,      /* a bounded table or queue is at its _max */
	RN_ERR_NOTFOUND = -7,  /* no such entry */
	RN_ERR_TOOBIG = -8,    /* output does not fit the buffer */
	RN_ERR_DEPTH = -9,     /* msgpack nesting or counts beyond the limits */
	RN_ERR_STATE = -10,    /* operation not valid in the current state */
	RN_ERR_NOROUTE = -11,  /* no usable link towards the destination */
	RN_ERR_IO = -12,       /* the environment failed (daemon/sim side only) */
	RN_ERR_CERT_GROUP = -13,   /* certificate signed for another group */
	RN_ERR_CERT_EARLY = -14,   /* certificate not valid yet */
	RN_ERR_CERT_EXPIRED = -15, /* certificate expired */
	RN_ERR_BADSIG = -16,       /* signature does not verify */
	RN_ERR_BADKEY = -17,       /* unusable public key (e.g. small order) */
	RN_ERR_AUTH = -18,         /* AEAD authentication failed */
	RN_ERR_REPLAY = -19,       /* counter seen or behind the window */
	RN_ERR_REKEY = -20,        /* key used up: counter at its limit */
	RN_ERR_PERM = -21,         /* not this member's to write (DHT rules) */
	RN_ERR_EXPIRED = -22,      /* lease over, too long, or from the future */
	RN_ERR_CONFLICT = -23,     /* exclusive key held by another value */
	RN_ERR_STALE = -24,        /* older than what is held */
	RN_ERR_TIMEOUT = -25,      /* no answer in time */
};

const char *rn_strerror(int err);

#endif
