/* Logging through the environment, with a per-node level filter and a
 * bounded-rate variant for events that hostile input can trigger. */
#ifndef RN_LOG_H
#define RN_LOG_H

#include "env.h"

typedef struct rn_logger {
	const rn_env *env;
	void *ctx;
	int level; /* lines above this level are not formatted at all */
	/* rate limit state for rn_log_limited: a token bucket */
	rn_time bucket_time;
	uint32_t bucket_tokens;
	uint32_t suppressed;
} rn_logger;

#define RN_LOG_BURST 10u  /* limited lines allowed at once */
#define RN_LOG_PER_S 1u   /* limited lines refilled per second */

#if defined(__GNUC__)
#define RN_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define RN_PRINTF(a, b)
#endif

void rn_logger_init(rn_logger *lg, const rn_env *env, void *ctx, int level);
void rn_log(rn_logger *lg, int level, const char *fmt, ...) RN_PRINTF(3, 4);
/* For events triggered by the wire: at most RN_LOG_BURST lines at once and
 * RN_LOG_PER_S per second after that; the rest are counted and reported in
 * the next line that gets through. */
void rn_log_limited(rn_logger *lg, rn_time now, int level, const char *fmt,
		    ...) RN_PRINTF(4, 5);

const char *rn_log_level_name(int level);

#endif
