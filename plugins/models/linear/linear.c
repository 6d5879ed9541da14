/* linear: a keel model computing out = x W + b (linear regression).
 *
 * The layer itself (weight layout, summation order, gradients) is the
 * shared dense layer in plugins/common/keel_dense.h. */
#include <keel/keel.h>

#include <keel/util.h>

enum { P_INIT_SCALE, P_COUNT };

static const keel_param_decl linear_params[] = {
    [P_INIT_SCALE] = KEEL_P_FLOAT(
        "init_scale", 1.0, 0.0, 10.0, 0, NULL,
        "multiplies the Glorot-uniform bound of the initial W (0: all zero)"),
};
KEEL_PARAMS_MATCH(linear_params, P_COUNT);

static int linear_create(const keel_host *host, const keel_value *params,
                         size_t n_in, size_t n_out, void **self,
                         keel_error *err)
{
  return keel_dense_create(host, params[P_INIT_SCALE].f, n_in, n_out, self,
                           err);
}

static const keel_model_api linear_api = {
    KEEL_MODEL_API_HEADER,
    .create = linear_create,
    .destroy = keel_dense_destroy,
    .n_weights = keel_dense_n_weights,
    .workspace_floats = keel_dense_workspace_floats,
    .init = keel_dense_init,
    .forward = keel_dense_forward,
    .backward = keel_dense_backward,
    .tensor = keel_dense_tensor,
};

static const keel_plugin linear_plugin = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_MODEL),
    .name = "linear",
    .version = "1.0.0",
    .summary = "linear regression: out = x W + b, W stored [inputs][outputs]",
    .license = "MIT",
    .params = linear_params,
    .n_params = P_COUNT,
    .contract = {.tasks = KEEL_TASK_REGRESSION,
                 .accepts = KEEL_COL_BIT(KEEL_COL_NUMERIC),
                 .flags = KEEL_CONTRACT_NO_MISSING | KEEL_CONTRACT_FINITE},
    .api = &linear_api,
};

KEEL_PLUGIN_DEFINE(linear_plugin)
