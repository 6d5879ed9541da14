/* keel SDK: ABI version, platform, plugin kinds and the entry point.
 *
 * A plugin is a shared object that exports exactly one symbol,
 * KEEL_PLUGIN_ENTRY_NAME, a function returning a pointer to a static const
 * keel_plugin descriptor (see plugin.h).
 *
 * The version rule (one rule, SQLite's): the host refuses a plugin whose
 * abi_major differs from its own. Minor versions only append: a field at
 * the end of the descriptor, of a kind's function table or of the host's
 * service table. Either side may be the newer one:
 *   - an older plugin on a newer host: the host reads only the first
 *     struct_size bytes of the plugin's descriptor and tables, treats the
 *     rest as absent (zero) and keeps calling the functions the plugin has;
 *   - a newer plugin on an older host: the host reads the fields it knows
 *     and never calls the newer ones, so a plugin that fills a newer
 *     optional function also fills the older required one when it means to
 *     run on older hosts; before using a host service newer than 1.0 it
 *     checks KEEL_HOST_HAS(host, member) (host.h), and may refuse in
 *     `init` a host that lacks a service it cannot do without.
 * What each minor added is listed below. */
#ifndef KEEL_ABI_H
#define KEEL_ABI_H

#include <stddef.h>
#include <stdint.h>

/* Bumped when a change breaks existing plugins (a field moved or removed). */
#define KEEL_ABI_MAJOR 1
/* Bumped when fields or functions are appended; old plugins keep working.
 *   1.1  host: input_view.
 *   1.2  every function table starts with its kind (KEEL_*_API_HEADER);
 *        descriptor: build_flags, flt_eval_method, fp_probe (stamped by
 *        KEEL_PLUGIN_HEADER); host: open_input (no ctx), table_append;
 *        loss: evaluate; optimizer: update (both with an error channel). */
#define KEEL_ABI_MINOR 2

/* The one symbol the host looks up with dlsym(). */
#define KEEL_PLUGIN_ENTRY_NAME "keel_plugin_entry"

/* The platform this ABI is defined for: GCC or Clang, ELF shared objects,
 * 64-bit pointers (x86-64, aarch64). The SDK uses GNU attributes and
 * __int128, and the 1.2 table header relies on the LP64 layout of 1.1
 * tables; other platforms are refused at compile time, not half-served. */
#if !defined(__GNUC__) || !defined(__ELF__) || !defined(__LP64__)
#error "the keel SDK supports GCC or Clang building ELF shared objects on LP64"
#endif

#define KEEL_EXPORT __attribute__((visibility("default")))

#ifdef __cplusplus
#define KEEL_EXTERN_C extern "C"
#else
#define KEEL_EXTERN_C
#endif

struct keel_plugin;

typedef enum keel_kind {
  KEEL_KIND_SOURCE = 1,
  KEEL_KIND_TRANSFORM = 2,
  KEEL_KIND_MODEL = 3,
  KEEL_KIND_LOSS = 4,
  KEEL_KIND_OPTIMIZER = 5
} keel_kind;

/* The first eight bytes of every kind's function table (since ABI 1.2):
 * the table's own size and kind, so the loader can refuse a table that
 * does not belong to the descriptor's kind before calling anything. Each
 * kind's header (model.h, ...) spells these two fields out by name; fill
 * them with KEEL_MODEL_API_HEADER and its siblings. A 1.0/1.1 table has
 * padding where `kind` is (zero in static data); the loader reads `kind`
 * only from plugins that declare ABI 1.2 or later. */
typedef struct keel_api_header {
  uint32_t struct_size; /* sizeof the kind's table as the plugin compiled */
  uint32_t kind;        /* the keel_kind the table serves */
} keel_api_header;

/* Signature of the entry symbol: takes nothing, returns static const data,
 * runs no plugin code with side effects (the host may call it any time). */
typedef const struct keel_plugin *(*keel_plugin_entry_fn)(void);

/* Defines the entry symbol returning DESC (a static const keel_plugin).
 * Use it exactly once per plugin. */
#define KEEL_PLUGIN_DEFINE(DESC)                                               \
  KEEL_EXTERN_C KEEL_EXPORT const struct keel_plugin *keel_plugin_entry(void); \
  KEEL_EXTERN_C KEEL_EXPORT const struct keel_plugin *keel_plugin_entry(void)  \
  {                                                                            \
    return &(DESC);                                                            \
  }

#endif /* KEEL_ABI_H */
