/* Churn sampling by inversion (see churn.h). */
#include "churn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sim_session_parse(sim_session *s, const char *text)
{
	char kind[16];
	double a, m;
	char tail;
	if (sscanf(text, "%15[a-z]:%lf:%lf%c", kind, &a, &m, &tail) != 3)
		return -1;
	if (!(a > 0.0) || !(m > 0.0) || a > 100.0 || m > 1e9)
		return -1;
	if (!strcmp(kind, "weibull"))
		s->kind = SIM_SESSION_WEIBULL;
	else if (!strcmp(kind, "pareto") && a > 1.0)
		s->kind = SIM_SESSION_PARETO;
	else
		return -1;
	s->shape = a;
	s->median_s = m;
	return 0;
}

static double uniform_open(rn_prng *p)
{
	double u;
	do
		u = rn_prng_double(p);
	while (u <= 0.0);
	return u;
}

double sim_session_sample_s(const sim_session *s, rn_prng *p)
{
	double u = uniform_open(p);
	if (s->kind == SIM_SESSION_WEIBULL) {
		double scale = s->median_s / pow(log(2.0), 1.0 / s->shape);
		return scale * pow(-log(u), 1.0 / s->shape);
	}
	double xmin = s->median_s / pow(2.0, 1.0 / s->shape);
	return xmin / pow(u, 1.0 / s->shape);
}

double sim_session_mean_s(const sim_session *s)
{
	if (s->kind == SIM_SESSION_WEIBULL) {
		double scale = s->median_s / pow(log(2.0), 1.0 / s->shape);
		return scale * tgamma(1.0 + 1.0 / s->shape);
	}
	double xmin = s->median_s / pow(2.0, 1.0 / s->shape);
	return s->shape * xmin / (s->shape - 1.0);
}

double sim_exp_sample(rn_prng *p, double mean)
{
	return -mean * log(uniform_open(p));
}
