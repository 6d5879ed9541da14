/* TPE's Parzen estimator of one parameter (univariate, as Optuna's
 * default): one kernel per observation plus a prior kernel, Optuna's
 * weights, bandwidths from neighbour gaps with the magic clip; truncated
 * normals for numbers (in log space for LOGUNIFORM, widened by 1/2 and
 * discretised for INT), Optuna's categorical kernels for a CHOICE. */
#ifndef KEEL_RUN_PARZEN_H
#define KEEL_RUN_PARZEN_H

#include <stddef.h>

#include "config/tune_space.h"
#include "keel/error.h"

typedef struct keel__parzen {
  const keel_tune_param *param; /* borrowed */
  size_t k;                     /* kernels: observations, then the prior */
  double *w;                    /* normalised weights */
  double *mu, *sigma;           /* numeric kernels */
  double *log_z;                /* numeric: log mass of [low, high] */
  double *log_w;                /* numeric: log of w */
  double *scratch;              /* numeric: k terms of a log density */
  double low, high;             /* the estimator's space's bounds */
  double *cw;                   /* CHOICE: k rows of n_choices, each summing
                                   to 1 */
} keel__parzen;

/* Fits pe to the n observations obs (values as a point holds them, in
 * trial order: the oldest get the smallest weights past 25). Numeric
 * parameters need lo < hi. Free with keel__parzen_free, also on failure. */
int keel__parzen_fit(keel__parzen *pe, const keel_tune_param *p,
                     const double *obs, size_t n, keel_error *err);
void keel__parzen_free(keel__parzen *pe);

/* A draw as a point holds it: u_kernel picks the kernel by weight,
 * u_value the value within it (both uniform in [0, 1)). */
double keel__parzen_sample(const keel__parzen *pe, double u_kernel,
                           double u_value);

/* log of the estimator's density (INT, CHOICE: probability) at x; uses
 * pe's scratch, so one thread at a time per estimator. */
double keel__parzen_log_pdf(keel__parzen *pe, double x);

/* Optuna's default weights of n observations in trial order: all 1 below
 * 25, else a ramp from 1/n to 1 over the oldest n - 25 and 1 for the
 * newest 25. w holds n values. */
void keel__parzen_default_weights(size_t n, double *w);

#endif
