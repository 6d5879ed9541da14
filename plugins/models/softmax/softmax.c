/* softmax: multiclass linear classifier, n_out logits out = x W + b.
 *
 * The softmax itself lives in the loss (xent), which sees the logits; with
 * two classes xent asks for one output and this is logistic regression.
 *
 * The layer itself (weight layout, summation order, gradients) is the
 * shared dense layer in plugins/common/keel_dense.h. */
#include <keel/keel.h>

#include <keel/util.h>

enum { P_INIT_SCALE, P_COUNT };

static const keel_param_decl softmax_params[] = {
    [P_INIT_SCALE] = KEEL_P_FLOAT(
        "init_scale", 1.0, 0.0, 10.0, 0, NULL,
        "multiplies the Glorot-uniform bound of the initial W (0: all zero)"),
};
KEEL_PARAMS_MATCH(softmax_params, P_COUNT);

static int softmax_create(const keel_host *host, const keel_value *params,
                          size_t n_in, size_t n_out, void **self,
                          keel_error *err)
{
  return keel_dense_create(host, params[P_INIT_SCALE].f, n_in, n_out, self,
                           err);
}

static const keel_model_api softmax_api = {
    KEEL_MODEL_API_HEADER,
    .create = softmax_create,
    .destroy = keel_dense_destroy,
    .n_weights = keel_dense_n_weights,
    .workspace_floats = keel_dense_workspace_floats,
    .init = keel_dense_init,
    .forward = keel_dense_forward,
    .backward = keel_dense_backward,
    .tensor = keel_dense_tensor,
};

static const keel_plugin softmax_plugin = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_MODEL),
    .name = "softmax",
    .version = "1.0.0",
    .summary =
        "multiclass linear classifier: logits x W + b, softmax in the loss",
    .license = "MIT",
    .params = softmax_params,
    .n_params = P_COUNT,
    .contract = {.tasks = KEEL_TASK_CLASSIFICATION,
                 .accepts = KEEL_COL_BIT(KEEL_COL_NUMERIC),
                 .flags = KEEL_CONTRACT_NO_MISSING | KEEL_CONTRACT_FINITE},
    .api = &softmax_api,
};

KEEL_PLUGIN_DEFINE(softmax_plugin)
