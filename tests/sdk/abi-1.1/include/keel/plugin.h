/* keel SDK: the plugin descriptor.
 *
 * Each plugin returns one static const keel_plugin from its entry symbol
 * (KEEL_PLUGIN_DEFINE in abi.h). The host checks, before running any
 * plugin code beyond the entry: abi_major equal to its own, abi_minor not
 * newer, struct_size large enough, kind known, name [a-z][a-z0-9_-]*,
 * version semantic (MAJOR.MINOR.PATCH), the kind's required functions
 * present, parameter names unique and every default inside its own range.
 * Grow the descriptor only by appending fields; the host reads only the
 * first struct_size bytes. */
#ifndef KEEL_PLUGIN_H
#define KEEL_PLUGIN_H

#include "keel/abi.h"
#include "keel/data.h"
#include "keel/host.h"
#include "keel/params.h"

typedef enum keel_kind {
  KEEL_KIND_SOURCE = 1,
  KEEL_KIND_TRANSFORM = 2,
  KEEL_KIND_MODEL = 3,
  KEEL_KIND_LOSS = 4,
  KEEL_KIND_OPTIMIZER = 5
} keel_kind;

/* What data the plugin accepts or serves. */
typedef struct keel_contract {
  uint32_t tasks;   /* KEEL_TASK_* bits a model or loss fits; 0 = any */
  uint32_t accepts; /* KEEL_COL_BIT(type) a transform/model accepts as
                       input columns; 0 = any */
  uint32_t flags;   /* KEEL_CONTRACT_* below */
} keel_contract;

/* The plugin requires inputs with no missing values. */
#define KEEL_CONTRACT_NO_MISSING 0x1u
/* The plugin requires finite numeric inputs. */
#define KEEL_CONTRACT_FINITE 0x2u

typedef struct keel_plugin {
  uint32_t abi_major;   /* KEEL_ABI_MAJOR the plugin was built with */
  uint32_t abi_minor;   /* KEEL_ABI_MINOR the plugin was built with */
  uint32_t struct_size; /* sizeof(keel_plugin) the plugin was built with */
  uint32_t kind;        /* a keel_kind */
  const char *name;     /* unique per kind: "csv", "mlp" */
  const char *version;  /* semantic version "1.2.0" */
  const char *summary;  /* one line for `keel plugins` */
  const char *license;  /* SPDX identifier, or NULL */
  const keel_param_decl *params; /* parameter table (may be NULL if none) */
  size_t n_params;
  keel_contract contract;
  /* The kind's function table: keel_source_api, keel_transform_api,
   * keel_model_api, keel_loss_api or keel_optimizer_api. */
  const void *api;
  /* Optional: called once after the checks with the host table; a plugin
   * may refuse a host that lacks a service it needs. NULL if not needed. */
  int (*init)(const keel_host *host, keel_error *err);
  /* Optional: growth without an ABI break; returns a static table for a
   * known extension URI ("keel.ext/NAME/1") or NULL. */
  const void *(*extension)(const char *uri);
} keel_plugin;

/* Fills the ABI header fields with the SDK constants of this build. */
#define KEEL_PLUGIN_HEADER(KIND)                                               \
  .abi_major = KEEL_ABI_MAJOR, .abi_minor = KEEL_ABI_MINOR,                    \
  .struct_size = sizeof(keel_plugin), .kind = (KIND)

/* Number of elements in a static array (for n_params). */
#define KEEL_COUNT(ARRAY) (sizeof(ARRAY) / sizeof((ARRAY)[0]))

#endif /* KEEL_PLUGIN_H */
