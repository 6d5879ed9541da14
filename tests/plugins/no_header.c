/* A model descriptor written without KEEL_PLUGIN_HEADER: abi_major,
 * abi_minor and struct_size stay 0. The loader must say the header is
 * missing, not that the ABI major is incompatible. */
#include "keel/keel.h"

static const keel_model_api api = {.struct_size = sizeof api};

static const keel_plugin no_header_plugin = {
    .kind = KEEL_KIND_MODEL,
    .name = "no-header",
    .version = "1.0.0",
    .summary = "a descriptor without KEEL_PLUGIN_HEADER",
    .api = &api,
};

KEEL_PLUGIN_DEFINE(no_header_plugin)
