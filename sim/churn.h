/* Churn distributions for the simulator: Poisson arrivals (exponential
 * gaps) and heavy-tailed session lengths, parameterised by their median so
 * that "15-minute median" means what it says.
 *   Weibull(shape k, median m): scale = m / ln(2)^(1/k)
 *   Pareto(alpha a, median m):  x_min = m / 2^(1/a)
 */
#ifndef SIM_CHURN_H
#define SIM_CHURN_H

#include "../core/prng.h"

enum sim_session_kind { SIM_SESSION_NONE, SIM_SESSION_WEIBULL, SIM_SESSION_PARETO };

typedef struct sim_session {
	int kind;
	double shape;    /* Weibull k or Pareto alpha */
	double median_s;
} sim_session;

/* Parses "weibull:SHAPE:MEDIAN_S" or "pareto:ALPHA:MEDIAN_S". */
int sim_session_parse(sim_session *s, const char *text);
double sim_session_sample_s(const sim_session *s, rn_prng *p);
double sim_session_mean_s(const sim_session *s);
double sim_exp_sample(rn_prng *p, double mean);

#endif
