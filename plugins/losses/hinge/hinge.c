/* hinge: the max-margin loss for classification.
 *
 * Two classes: one output z, labels 0/1 mapped to t = -1/+1,
 *   loss = max(0, margin - t z),  dloss/dz = -t where the loss is > 0.
 * K >= 3 classes: K scores and the Crammer-Singer multiclass hinge,
 *   loss = max(0, margin + max_{k != y} z_k - z_y),
 *   gradient +1 at the first arg-max k != y and -1 at y where loss > 0.
 * Sums in row order in double. A label that is not a class index is an
 * error through evaluate (keel validates labels before training, another
 * host may not), a NaN loss through value_grad (ABI 1.0, no error
 * channel): one implementation serves both. */
#include <math.h>
#include <stddef.h>

#include <keel/keel.h>

#include <keel/util.h>

enum { P_MARGIN, P_COUNT };

static const keel_param_decl hinge_params[] = {
    [P_MARGIN] = KEEL_P_FLOAT("margin", 1.0, 1e-6, 1e3, 0, "score units",
                              "score gap the loss asks between the true "
                              "class and the others"),
};
KEEL_PARAMS_MATCH(hinge_params, P_COUNT);

static int hinge_output_width(const keel_value *params, keel_task task,
                              size_t n_classes, size_t *width, keel_error *err)
{
  return keel_loss_class_width(task, n_classes, width, err);
}

/* The sum over rows into *loss_sum. host NULL (value_grad): a row whose
 * label is not a class index adds NaN; else it fails with KEEL_EDATA. */
static int hinge_evaluate(const keel_host *host, const keel_value *params,
                          const float *out, const float *y, size_t n_rows,
                          size_t width, float *d_out, double *loss_sum,
                          keel_error *err)
{
  double margin = params[P_MARGIN].f, sum = 0.0;
  size_t n_classes = width == 1 ? 2 : width;
  for (size_t r = 0; r < n_rows; r++) {
    const float *z = out + r * width;
    float *d = d_out ? d_out + r * width : NULL;
    long c = keel_loss_class_label(y[r], n_classes);
    if (c < 0 && host)
      return host->fail(err, KEEL_EDATA,
                        "row %zu: label %g is not a class index in [0, %zu)", r,
                        (double)y[r], n_classes);
    if (d)
      for (size_t k = 0; k < width; k++)
        d[k] = 0.0f;
    if (c < 0) {
      sum += NAN;
      continue;
    }
    if (width == 1) {
      double t = c == 1 ? 1.0 : -1.0;
      double l = margin - t * (double)z[0];
      if (l > 0) {
        sum += l;
        if (d)
          d[0] = (float)-t;
      }
      continue;
    }
    size_t best = c == 0 ? 1 : 0;
    for (size_t k = 0; k < width; k++)
      if ((long)k != c && z[k] > z[best])
        best = k;
    double l = margin + (double)z[best] - (double)z[c];
    if (l > 0) {
      sum += l;
      if (d) {
        d[best] = 1.0f;
        d[c] = -1.0f;
      }
    }
  }
  *loss_sum = sum;
  return KEEL_OK;
}

static double hinge_value_grad(const keel_value *params, const float *out,
                               const float *y, size_t n_rows, size_t width,
                               float *d_out)
{
  double sum = 0.0;
  hinge_evaluate(NULL, params, out, y, n_rows, width, d_out, &sum, NULL);
  return sum;
}

static const keel_loss_api hinge_api = {
    KEEL_LOSS_API_HEADER,
    .output_width = hinge_output_width,
    .value_grad = hinge_value_grad,
    .evaluate = hinge_evaluate,
};

static const keel_plugin hinge_plugin = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_LOSS),
    .name = "hinge",
    .version = "1.0.0",
    .summary = "hinge loss: binary (labels 0/1 as -1/+1) or Crammer-Singer "
               "multiclass",
    .license = "MIT",
    .params = hinge_params,
    .n_params = P_COUNT,
    .contract = {.tasks = KEEL_TASK_CLASSIFICATION},
    .api = &hinge_api,
};

KEEL_PLUGIN_DEFINE(hinge_plugin)
