/* keel SDK: ABI version, visibility and the plugin entry point.
 *
 * A plugin is a shared object that exports exactly one symbol,
 * KEEL_PLUGIN_ENTRY_NAME, a function returning a pointer to a static const
 * keel_plugin descriptor (see plugin.h). The host refuses a plugin whose
 * abi_major differs from its own or whose abi_minor is newer than its own. */
#ifndef KEEL_ABI_H
#define KEEL_ABI_H

#include <stddef.h>
#include <stdint.h>

/* Bumped when a change breaks existing plugins (a field moved or removed). */
#define KEEL_ABI_MAJOR 1
/* Bumped when fields or functions are appended; old plugins keep working. */
#define KEEL_ABI_MINOR 1

/* The one symbol the host looks up with dlsym(). */
#define KEEL_PLUGIN_ENTRY_NAME "keel_plugin_entry"

#if defined(_WIN32)
#define KEEL_EXPORT __declspec(dllexport)
#else
#define KEEL_EXPORT __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
#define KEEL_EXTERN_C extern "C"
#else
#define KEEL_EXTERN_C
#endif

struct keel_plugin;

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
