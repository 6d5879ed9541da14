/* The truncated standard normal TPE's Parzen estimators are made of: log
 * CDF, log mass of an interval and inverse CDF, ported from
 * the SciPy code Optuna 3.1 carries (optuna/samplers/_tpe/_truncnorm.py).
 * Plain libm, no state: each result is a pure function of its inputs. */
#ifndef KEEL_RUN_TRUNCNORM_H
#define KEEL_RUN_TRUNCNORM_H

/* log Phi(a), accurate far into the left tail. */
double keel__log_ndtr(double a);

/* log(Phi(b) - Phi(a)) for a <= b, without cancellation. */
double keel__log_gauss_mass(double a, double b);

/* The quantile q in [0, 1] of the standard normal truncated to [a, b]
 * (a < b), found by bisection of log Phi as Optuna does; NaN if a == b. */
double keel__truncnorm_ppf(double q, double a, double b);

/* log(exp(x) + exp(y)) */
double keel__logaddexp(double x, double y);

#endif
