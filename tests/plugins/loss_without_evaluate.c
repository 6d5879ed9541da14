/* Broken on purpose: a loss with output_width but neither evaluate (ABI
 * 1.2) nor value_grad (1.0). The host could never compute it; the loader
 * must refuse it, naming the function it needs
 * (tests/e2e/test_loss_optimizer_error_channel.sh). */
#include <keel/keel.h>

static int width(const keel_value *p, keel_task task, size_t n_classes,
                 size_t *w, keel_error *err)
{
  (void)p, (void)task, (void)n_classes, (void)err;
  *w = 1;
  return KEEL_OK;
}

static const keel_loss_api api = {
    KEEL_LOSS_API_HEADER,
    .output_width = width,
};

static const keel_plugin plugin = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_LOSS),
    .name = "loss_without_evaluate",
    .version = "1.0.0",
    .summary = "a loss that cannot compute anything",
    .license = "MIT",
    .contract = {.tasks = KEEL_TASK_REGRESSION},
    .api = &api,
};

KEEL_PLUGIN_DEFINE(plugin)
