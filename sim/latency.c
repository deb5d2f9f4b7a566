/* Loading the measured latency matrix, or making a synthetic one (see
 * latency.h). zlib's gz* functions read gzip and plain text alike. */
#include "latency.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define SYNTH_HOSTS 490

static int synthetic(sim_latency *lat, rn_prng *prng)
{
	uint32_t h = SYNTH_HOSTS;
	double *x = malloc(h * sizeof *x), *y = malloc(h * sizeof *y);
	lat->rtt_ms = malloc((size_t)h * h * sizeof *lat->rtt_ms);
	if (!x || !y || !lat->rtt_ms) {
		free(x);
		free(y);
		free(lat->rtt_ms);
		lat->rtt_ms = NULL;
		return -1;
	}
	for (uint32_t i = 0; i < h; i++) {
		x[i] = rn_prng_double(prng);
		y[i] = rn_prng_double(prng);
	}
	for (uint32_t i = 0; i < h; i++)
		for (uint32_t j = 0; j < h; j++) {
			double d = hypot(x[i] - x[j], y[i] - y[j]);
			lat->rtt_ms[i * h + j] =
				i == j ? 0.2f : (float)(10.0 + 200.0 * d);
		}
	free(x);
	free(y);
	lat->hosts = h;
	lat->from_file = 0;
	return 0;
}

int sim_latency_load(sim_latency *lat, const char *path, rn_prng *prng,
		     char *err, size_t errlen)
{
	memset(lat, 0, sizeof *lat);
	if (!path) {
		if (synthetic(lat, prng)) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		return 0;
	}
	gzFile f = gzopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open", path);
		return -1;
	}
	size_t cap = 1 << 18, n = 0, line = 0, rows = 0, cols = 0;
	float *v = malloc(cap * sizeof *v);
	char buf[16384];
	int rc = 0;
	while (v && gzgets(f, buf, sizeof buf)) {
		size_t len = strlen(buf);
		if (len == sizeof buf - 1 && buf[len - 1] != '\n') {
			snprintf(err, errlen, "%s:%zu: line too long", path,
				 line + 1);
			rc = -1;
			break;
		}
		line++;
		size_t c = 0;
		char *p = buf, *end;
		for (;;) {
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p == '\n' || *p == '\r' || *p == '\0')
				break;
			double d = strtod(p, &end);
			if (end == p || !(d >= 0.0) || d > 100000.0) {
				snprintf(err, errlen,
					 "%s:%zu: column %zu is not a latency "
					 "in ms", path, line, c + 1);
				rc = -1;
				break;
			}
			if (n == cap) {
				cap *= 2;
				float *nv = realloc(v, cap * sizeof *v);
				if (!nv) {
					free(v);
					v = NULL;
					break;
				}
				v = nv;
			}
			v[n++] = (float)d;
			c++;
			p = end;
		}
		if (rc || !v)
			break;
		if (c == 0)
			continue; /* blank line */
		rows++;
		if (cols == 0)
			cols = c;
		else if (c != cols) {
			snprintf(err, errlen, "%s:%zu: %zu columns, expected %zu",
				 path, line, c, cols);
			rc = -1;
			break;
		}
	}
	int gzerr = 0;
	if (!rc && v && !gzeof(f)) {
		const char *msg = gzerror(f, &gzerr);
		snprintf(err, errlen, "%s: read error: %s", path, msg);
		rc = -1;
	}
	gzclose(f);
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (!rc && (rows != cols || cols < 2)) {
		snprintf(err, errlen, "%s: %zu rows x %zu columns; need a square "
			 "matrix of at least 2", path, rows, cols);
		rc = -1;
	}
	if (rc) {
		free(v);
		return -1;
	}
	lat->rtt_ms = v;
	lat->hosts = (uint32_t)cols;
	lat->from_file = 1;
	return 0;
}

void sim_latency_free(sim_latency *lat)
{
	free(lat->rtt_ms);
	lat->rtt_ms = NULL;
}
