/* keel SDK: the plugin descriptor.
 *
 * Each plugin returns one static const keel_plugin from its entry symbol
 * (KEEL_PLUGIN_DEFINE in abi.h). The host checks, before calling any
 * plugin function but the entry and fp_probe: abi_major equal to its own (abi.h
 * has the minor-version rule), struct_size large enough, kind known, the
 * function table's own kind equal to the descriptor's (ABI 1.2), name
 * [a-z][a-z0-9_-]*, version semantic (MAJOR.MINOR.PATCH), the kind's
 * required functions present, parameter names unique and every default
 * inside its own range, and the build's determinism flags (below).
 * Loading a shared object runs its ELF constructors (dlopen does that
 * before any keel check can): a plugin must have none with side effects;
 * docs/plugin-guide.md says how the host keeps unused files out of the
 * process. Grow the descriptor only by appending fields; the host reads
 * only the first struct_size bytes. */
#ifndef KEEL_PLUGIN_H
#define KEEL_PLUGIN_H

#include "keel/abi.h"
#include "keel/data.h"
#include "keel/host.h"
#include "keel/params.h"

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

  /* -- since ABI 1.2, stamped by KEEL_PLUGIN_HEADER -------------------- */
  /* KEEL_BUILD_* bits of the compilation unit holding the descriptor. */
  uint32_t build_flags;
  /* __FLT_EVAL_METHOD__ of that unit: 0 is the only reproducible value
   * (x87 excess precision, 2, depends on register spills). */
  int32_t flt_eval_method;
  /* Returns a * b + c as the plugin's compiler built it: the host calls it
   * with operands whose fused result rounds differently, and so learns
   * whether the plugin's floating-point contraction is on. */
  double (*fp_probe)(double a, double b, double c);
} keel_plugin;

/* build_flags bits. */
#define KEEL_BUILD_FAST_MATH 0x1u /* __FAST_MATH__ was defined */
/* The build declared -ffp-contract=off by defining KEEL_FP_CONTRACT_OFF=1
 * (keel_add_plugin and `pkg-config --cflags keel` do; no compiler macro
 * tells). The host trusts the probe, not this bit; it is recorded. */
#define KEEL_BUILD_FP_CONTRACT_OFF 0x2u

#if defined(__FAST_MATH__)
#define KEEL__BUILD_FAST_MATH_BIT KEEL_BUILD_FAST_MATH
#else
#define KEEL__BUILD_FAST_MATH_BIT 0u
#endif
#if defined(KEEL_FP_CONTRACT_OFF) && KEEL_FP_CONTRACT_OFF
#define KEEL__BUILD_CONTRACT_BIT KEEL_BUILD_FP_CONTRACT_OFF
#else
#define KEEL__BUILD_CONTRACT_BIT 0u
#endif

/* Compiled in the plugin's own unit, with the plugin's own flags: an
 * expression a compiler with contraction on turns into one fused
 * multiply-add. */
__attribute__((unused)) static double keel__fp_probe(double a, double b,
                                                     double c)
{
  return a * b + c;
}

/* Fills the ABI header fields with the SDK constants of this build and
 * the build's determinism facts. */
#define KEEL_PLUGIN_HEADER(KIND)                                               \
  .abi_major = KEEL_ABI_MAJOR, .abi_minor = KEEL_ABI_MINOR,                    \
  .struct_size = sizeof(keel_plugin), .kind = (KIND),                          \
  .build_flags = KEEL__BUILD_FAST_MATH_BIT | KEEL__BUILD_CONTRACT_BIT,         \
  .flt_eval_method = __FLT_EVAL_METHOD__, .fp_probe = keel__fp_probe

/* Number of elements in a static array (for n_params). */
#define KEEL_COUNT(ARRAY) (sizeof(ARRAY) / sizeof((ARRAY)[0]))

/* The host passes parameter values by position, in declaration order.
 * Declare the table with designated initializers indexed by an enum
 * (`[P_LR] = KEEL_P_FLOAT("lr", ...)`) and let the compiler check that
 * the table has exactly COUNT entries (the enum's last member):
 *   KEEL_PARAMS_MATCH(my_params, P_COUNT); */
#define KEEL_PARAMS_MATCH(TABLE, COUNT)                                        \
  _Static_assert(KEEL_COUNT(TABLE) == (size_t)(COUNT),                         \
                 "parameter table " #TABLE " and its index enum disagree")

#endif /* KEEL_PLUGIN_H */
