/* Formatted logging through rn_env.log (see log.h). Formats into a stack
 * buffer; nothing is allocated and nothing global is kept. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

void rn_logger_init(rn_logger *lg, const rn_env *env, void *ctx, int level)
{
	lg->env = env;
	lg->ctx = ctx;
	lg->level = level;
	lg->bucket_time = 0;
	lg->bucket_tokens = RN_LOG_BURST;
	lg->suppressed = 0;
}

static void emit(rn_logger *lg, int level, const char *prefix,
		 const char *fmt, va_list ap)
{
	char buf[512];
	int n = snprintf(buf, sizeof buf, "%s", prefix);
	if (n < 0)
		n = 0;
	vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
	lg->env->log(lg->ctx, level, buf);
}

void rn_log(rn_logger *lg, int level, const char *fmt, ...)
{
	if (level > lg->level || !lg->env || !lg->env->log)
		return;
	va_list ap;
	va_start(ap, fmt);
	emit(lg, level, "", fmt, ap);
	va_end(ap);
}

void rn_log_limited(rn_logger *lg, rn_time now, int level, const char *fmt,
		    ...)
{
	if (level > lg->level || !lg->env || !lg->env->log)
		return;
	if (now > lg->bucket_time) {
		rn_time refill = (now - lg->bucket_time) / 1000000u * RN_LOG_PER_S;
		if (refill) {
			rn_time t = lg->bucket_tokens + refill;
			if (t >= RN_LOG_BURST) {
				lg->bucket_tokens = RN_LOG_BURST;
				lg->bucket_time = now;
			} else {
				/* keep the part-second left over for the next
				 * refill, so the long-run rate is exact */
				lg->bucket_tokens = (uint32_t)t;
				lg->bucket_time += refill * 1000000u / RN_LOG_PER_S;
			}
		}
	}
	if (!lg->bucket_tokens) {
		lg->suppressed++;
		return;
	}
	lg->bucket_tokens--;
	char prefix[64] = "";
	if (lg->suppressed) {
		snprintf(prefix, sizeof prefix, "(%u similar suppressed) ",
			 lg->suppressed);
		lg->suppressed = 0;
	}
	va_list ap;
	va_start(ap, fmt);
	emit(lg, level, prefix, fmt, ap);
	va_end(ap);
}

const char *rn_log_level_name(int level)
{
	switch (level) {
	case RN_LOG_ERROR: return "error";
	case RN_LOG_WARN: return "warn";
	case RN_LOG_INFO: return "info";
	case RN_LOG_DEBUG: return "debug";
	case RN_LOG_TRACE: return "trace";
	default: return "?";
	}
}
