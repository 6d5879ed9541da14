/* The truncated normal of TPE's Parzen estimators (truncnorm.h). The
 * case split and constants follow SciPy's truncnorm as Optuna 3.1 ports
 * it, so that keel's estimator has the same shape; the left tail is
 * always computed and the right one taken by symmetry. */
#include <float.h>
#include <math.h>

#include "run/truncnorm.h"

static double ndtr(double a)
{
  double x = a / M_SQRT2;
  if (x < -M_SQRT1_2)
    return 0.5 * erfc(-x);
  if (x < M_SQRT1_2)
    return 0.5 + 0.5 * erf(x);
  return 1.0 - 0.5 * erfc(x);
}

double keel__log_ndtr(double a)
{
  if (a > 6)
    return -ndtr(-a); /* log(1 - e) ~ -e */
  if (a > -20)
    return log(ndtr(a));
  /* asymptotic series of the Mills ratio for the far left tail */
  double log_lhs = -0.5 * a * a - log(-a) - 0.5 * log(2 * M_PI);
  double last = 0.0, rhs = 1.0, numerator = 1.0, denom = 1.0;
  double denom_cons = 1 / (a * a);
  int sign = 1;
  for (int i = 1; fabs(last - rhs) > DBL_EPSILON && i < 1000; i++) {
    last = rhs;
    sign = -sign;
    denom *= denom_cons;
    numerator *= 2 * i - 1;
    rhs += sign * numerator * denom;
  }
  return log_lhs + log(rhs);
}

double keel__logaddexp(double x, double y)
{
  if (x == -INFINITY)
    return y;
  if (y == -INFINITY)
    return x;
  double m = x > y ? x : y;
  return m + log1p(exp(-fabs(x - y)));
}

/* log(exp(p) - exp(q)) for q <= p */
static double log_diff(double p, double q)
{
  if (q == -INFINITY)
    return p;
  return p + log1p(-exp(q - p));
}

double keel__log_gauss_mass(double a, double b)
{
  if (b <= 0)
    return log_diff(keel__log_ndtr(b), keel__log_ndtr(a));
  if (a > 0)
    return log_diff(keel__log_ndtr(-a), keel__log_ndtr(-b));
  /* central: 1 minus both tails, without cancellation near 1 */
  return log1p(-ndtr(a) - ndtr(-b));
}

/* The x with log Phi(x) = y: 100 bisection steps over [-100, 100]. */
static double ndtri_exp(double y)
{
  double lo = -100, hi = 100, m = 0;
  for (int i = 0; i < 100; i++) {
    m = (lo + hi) / 2;
    if (keel__log_ndtr(m) < y)
      lo = m;
    else
      hi = m;
  }
  return m;
}

double keel__truncnorm_ppf(double q, double a, double b)
{
  if (a == b)
    return NAN;
  if (q <= 0)
    return a;
  if (q >= 1)
    return b;
  double mass = keel__log_gauss_mass(a, b);
  if (a < 0)
    return ndtri_exp(keel__logaddexp(keel__log_ndtr(a), log(q) + mass));
  return -ndtri_exp(keel__logaddexp(keel__log_ndtr(-b), log1p(-q) + mass));
}
