/* logistic: binary logistic regression, one logit out = x w + b.
 *
 * Pair it with the xent loss (binary logistic for one output) or hinge. It
 * serves exactly one output: for more than two classes use softmax.
 *
 * The layer itself (weight layout, summation order, gradients) is the
 * shared dense layer in plugins/common/keel_dense.h. */
#include <keel/keel.h>

#include <keel/util.h>

enum { P_INIT_SCALE, P_COUNT };

static const keel_param_decl logistic_params[] = {
    [P_INIT_SCALE] = KEEL_P_FLOAT(
        "init_scale", 1.0, 0.0, 10.0, 0, NULL,
        "multiplies the Glorot-uniform bound of the initial W (0: all zero)"),
};
KEEL_PARAMS_MATCH(logistic_params, P_COUNT);

static int logistic_create(const keel_host *host, const keel_value *params,
                           size_t n_in, size_t n_out, void **self,
                           keel_error *err)
{
  /* keel_dense_create reports an empty shape first; only then is a
   * second output the problem. */
  if (n_in != 0 && n_out > 1)
    return host->fail(err, KEEL_EINVAL,
                      "serves binary classification with exactly 1 "
                      "output (a logit), but the loss asks for %zu outputs; "
                      "for more than two classes use model softmax",
                      n_out);
  return keel_dense_create(host, params[P_INIT_SCALE].f, n_in, n_out, self,
                           err);
}

static const keel_model_api logistic_api = {
    KEEL_MODEL_API_HEADER,
    .create = logistic_create,
    .destroy = keel_dense_destroy,
    .n_weights = keel_dense_n_weights,
    .workspace_floats = keel_dense_workspace_floats,
    .init = keel_dense_init,
    .forward = keel_dense_forward,
    .backward = keel_dense_backward,
    .tensor = keel_dense_tensor,
};

static const keel_plugin logistic_plugin = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_MODEL),
    .name = "logistic",
    .version = "1.0.0",
    .summary = "binary logistic regression: one logit x w + b",
    .license = "MIT",
    .params = logistic_params,
    .n_params = P_COUNT,
    .contract = {.tasks = KEEL_TASK_CLASSIFICATION,
                 .accepts = KEEL_COL_BIT(KEEL_COL_NUMERIC),
                 .flags = KEEL_CONTRACT_NO_MISSING | KEEL_CONTRACT_FINITE},
    .api = &logistic_api,
};

KEEL_PLUGIN_DEFINE(logistic_plugin)
