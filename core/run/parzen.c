/* TPE's Parzen estimator of one parameter (parzen.h), following Optuna
 * 3.1's _ParzenEstimator with consider_prior, prior_weight 1,
 * consider_magic_clip and not consider_endpoints. */
#include <math.h>
#include <stdlib.h>

#include "base/status.h"
#include "run/parzen.h"
#include "run/sampler.h"
#include "run/truncnorm.h"

void keel__parzen_default_weights(size_t n, double *w)
{
  if (n < 25) {
    for (size_t i = 0; i < n; i++)
      w[i] = 1.0;
    return;
  }
  /* numpy.linspace(1/n, 1, n - 25): start + i * step, the last exactly 1 */
  size_t ramp = n - 25;
  double start = 1.0 / (double)n;
  double step = ramp > 1 ? (1.0 - start) / (double)(ramp - 1) : 0.0;
  for (size_t i = 0; i < ramp; i++)
    w[i] = (double)i * step + start;
  if (ramp > 1)
    w[ramp - 1] = 1.0;
  for (size_t i = ramp; i < n; i++)
    w[i] = 1.0;
}

void keel__parzen_free(keel__parzen *pe)
{
  free(pe->w);
  free(pe->mu);
  free(pe->sigma);
  free(pe->log_z);
  free(pe->cw);
  free(pe->log_w);
  free(pe->scratch);
  pe->w = pe->mu = pe->sigma = pe->log_z = pe->cw = NULL;
  pe->log_w = pe->scratch = NULL;
}

static void fit_categorical(keel__parzen *pe, const double *obs, size_t n)
{
  size_t m = pe->param->n_choices;
  double value = KEEL_TPE_PRIOR_WEIGHT / (double)pe->k;
  for (size_t r = 0; r < pe->k; r++) {
    double *row = &pe->cw[r * m];
    for (size_t c = 0; c < m; c++)
      row[c] = value;
    if (r < n)
      row[(size_t)obs[r]] += 1.0;
    double sum = 0;
    for (size_t c = 0; c < m; c++)
      sum += row[c];
    for (size_t c = 0; c < m; c++)
      row[c] /= sum;
  }
}

/* Sorting kernel centres: by value, ties by index, so the order (and the
 * bandwidths) never depend on the sort's algorithm. */
typedef struct centre {
  double mu;
  size_t i;
} centre;

static int centre_cmp(const void *pa, const void *pb)
{
  const centre *a = pa, *b = pb;
  if (a->mu != b->mu)
    return a->mu < b->mu ? -1 : 1;
  return a->i < b->i ? -1 : a->i > b->i;
}

static int fit_numeric(keel__parzen *pe, const double *obs, size_t n,
                       keel_error *err)
{
  const keel_tune_param *p = pe->param;
  size_t k = pe->k;
  for (size_t i = 0; i < n; i++)
    pe->mu[i] = p->kind == KEEL_TUNE_LOGUNIFORM ? log(obs[i]) : obs[i];
  pe->mu[n] = 0.5 * (pe->low + pe->high);
  /* s: low, the sorted centres, high; a kernel's bandwidth is the larger
   * gap to its neighbours, the outermost ones only their inner gap */
  centre *c = malloc(k * sizeof *c);
  double *s = malloc((k + 2) * sizeof *s);
  if (!c || !s) {
    free(c);
    free(s);
    return keel_fail(err, KEEL_ENOMEM, "TPE: out of memory");
  }
  for (size_t i = 0; i < k; i++)
    c[i] = (centre){pe->mu[i], i};
  qsort(c, k, sizeof *c, centre_cmp);
  s[0] = pe->low;
  for (size_t i = 0; i < k; i++)
    s[i + 1] = c[i].mu;
  s[k + 1] = pe->high;
  double range = pe->high - pe->low;
  double min_sigma = range / fmin(100.0, 1.0 + (double)k);
  for (size_t i = 0; i < k; i++) {
    double left = s[i + 1] - s[i], right = s[i + 2] - s[i + 1];
    double sg = left > right ? left : right;
    if (k >= 2 && i == 0)
      sg = s[2] - s[1];
    if (k >= 2 && i == k - 1)
      sg = s[k] - s[k - 1];
    pe->sigma[c[i].i] = fmin(fmax(sg, min_sigma), range);
  }
  pe->sigma[n] = range; /* the prior */
  for (size_t i = 0; i < k; i++)
    pe->log_z[i] = keel__log_gauss_mass((pe->low - pe->mu[i]) / pe->sigma[i],
                                        (pe->high - pe->mu[i]) / pe->sigma[i]);
  free(c);
  free(s);
  return KEEL_OK;
}

int keel__parzen_fit(keel__parzen *pe, const keel_tune_param *p,
                     const double *obs, size_t n, keel_error *err)
{
  *pe = (keel__parzen){.param = p, .k = n + 1};
  pe->w = malloc(pe->k * sizeof *pe->w);
  if (p->kind == KEEL_TUNE_CHOICE) {
    pe->cw = malloc(pe->k * p->n_choices * sizeof *pe->cw);
  } else {
    pe->mu = malloc(pe->k * sizeof *pe->mu);
    pe->sigma = malloc(pe->k * sizeof *pe->sigma);
    pe->log_z = malloc(pe->k * sizeof *pe->log_z);
    pe->log_w = malloc(pe->k * sizeof *pe->log_w);
    pe->scratch = malloc(pe->k * sizeof *pe->scratch);
  }
  if (!pe->w ||
      (p->kind == KEEL_TUNE_CHOICE
           ? !pe->cw
           : !pe->mu || !pe->sigma || !pe->log_z || !pe->log_w || !pe->scratch))
    return keel_fail(err, KEEL_ENOMEM, "TPE: out of memory");
  keel__parzen_default_weights(n, pe->w);
  pe->w[n] = KEEL_TPE_PRIOR_WEIGHT;
  double sum = 0;
  for (size_t i = 0; i < pe->k; i++)
    sum += pe->w[i];
  for (size_t i = 0; i < pe->k; i++) {
    pe->w[i] /= sum;
    if (pe->log_w)
      pe->log_w[i] = log(pe->w[i]);
  }
  switch (p->kind) {
  case KEEL_TUNE_CHOICE: fit_categorical(pe, obs, n); return KEEL_OK;
  case KEEL_TUNE_INT: pe->low = p->lo - 0.5, pe->high = p->hi + 0.5; break;
  case KEEL_TUNE_UNIFORM: pe->low = p->lo, pe->high = p->hi; break;
  case KEEL_TUNE_LOGUNIFORM: pe->low = log(p->lo), pe->high = log(p->hi); break;
  }
  return fit_numeric(pe, obs, n, err);
}

/* The first index whose cumulative weight exceeds u times the total
 * (numpy's choice with p: searchsorted on the cumulative sum). */
static size_t pick(const double *w, size_t k, double u)
{
  double total = 0;
  for (size_t i = 0; i < k; i++)
    total += w[i];
  double target = u * total, cum = 0;
  for (size_t i = 0; i < k; i++) {
    cum += w[i];
    if (target < cum)
      return i;
  }
  return k - 1;
}

static double clamp(double v, double lo, double hi)
{
  return v < lo ? lo : v > hi ? hi : v;
}

double keel__parzen_sample(const keel__parzen *pe, double u_kernel,
                           double u_value)
{
  const keel_tune_param *p = pe->param;
  size_t j = pick(pe->w, pe->k, u_kernel);
  if (p->kind == KEEL_TUNE_CHOICE)
    return (double)pick(&pe->cw[j * p->n_choices], p->n_choices, u_value);
  double mu = pe->mu[j], sg = pe->sigma[j];
  double z =
      keel__truncnorm_ppf(u_value, (pe->low - mu) / sg, (pe->high - mu) / sg);
  double v = clamp(z * sg + mu, pe->low, pe->high);
  switch (p->kind) {
  case KEEL_TUNE_INT: return clamp(rint(v - p->lo) + p->lo, p->lo, p->hi);
  case KEEL_TUNE_LOGUNIFORM: return clamp(exp(v), p->lo, p->hi);
  default: return v;
  }
}

/* log(sqrt(2 pi)) */
#define LOG_SQRT_2PI 0.91893853320467274178

/* log of kernel j's weighted density (INT: mass) at x, in the
 * estimator's space. */
static double kernel_log(const keel__parzen *pe, size_t j, double x)
{
  double mu = pe->mu[j], sg = pe->sigma[j];
  double l;
  if (x < pe->low || x > pe->high)
    return -INFINITY;
  if (pe->param->kind == KEEL_TUNE_INT) {
    /* the mass of [x - 1/2, x + 1/2] within [low, high] */
    double ub = fmin(x + 0.5, pe->high), lb = fmax(x - 0.5, pe->low);
    l = keel__log_gauss_mass((lb - mu) / sg, (ub - mu) / sg) - pe->log_z[j];
  } else {
    /* Optuna 3.1's kernel term: the truncated normal's log density plus
     * log sigma (its _truncnorm.logpdf leaves out the -log sigma of a
     * density; later releases put it in, optuna/optuna#5109). keel keeps
     * 3.1's form: it is the reference the benchmark compares with, and it
     * found better optima on all three benchmark functions
     * (docs/benchmarks.md, "TPE sampler"). */
    double z = (x - mu) / sg;
    l = -(z * z) / 2.0 - LOG_SQRT_2PI - pe->log_z[j];
  }
  return l + pe->log_w[j];
}

double keel__parzen_log_pdf(keel__parzen *pe, double x)
{
  const keel_tune_param *p = pe->param;
  if (p->kind == KEEL_TUNE_CHOICE) {
    double sum = 0;
    for (size_t j = 0; j < pe->k; j++)
      sum += pe->w[j] * pe->cw[j * p->n_choices + (size_t)x];
    return log(sum);
  }
  if (p->kind == KEEL_TUNE_LOGUNIFORM)
    x = log(x);
  /* log-sum-exp: the largest term first, then the sum in kernel order */
  double max = -INFINITY;
  for (size_t j = 0; j < pe->k; j++) {
    pe->scratch[j] = kernel_log(pe, j, x);
    if (pe->scratch[j] > max)
      max = pe->scratch[j];
  }
  if (max == -INFINITY)
    return -INFINITY;
  double sum = 0;
  for (size_t j = 0; j < pe->k; j++)
    sum += exp(pe->scratch[j] - max);
  return log(sum) + max;
}
