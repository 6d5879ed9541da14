/* The plugin loader and registry.
 *
 * Plugins are found along a search path of directories (scanned for *.so
 * in sorted order) or single .so files. Earlier entries shadow later ones
 * (like PATH); two plugins of the same kind and name in one entry are
 * refused. A scan does not load plugin files in this process: each file
 * is hashed (SHA-256) and checked by the scanner, a child process
 * (plugin_scan.h), unless the registry cache (registry_cache.h) already
 * has its facts. Only a plugin a command asks for by name
 * (keel_registry_find, keel_plugin_load_file) is opened here, with
 * dlopen(RTLD_NOW | RTLD_LOCAL) -- which runs its ELF constructors --
 * then checked again (ABI, table header, size, kind, name, semver,
 * functions, parameter table, build facts) before any function of it but
 * the entry is called, and kept resident: never dlclose()d. */
#ifndef KEEL_PLUGIN_LOADER_H
#define KEEL_PLUGIN_LOADER_H

#include <stddef.h>

#include "keel/keel.h"

typedef struct keel_loaded_plugin {
  keel_plugin desc;         /* zero-extended copy of the plugin's descriptor */
  const void *api;          /* zero-extended copy of the kind's function table
                               (points at a keel_*_api of the host's size) */
  char *path;               /* realpath of the .so */
  char sha256[65];          /* hex SHA-256 of the file */
  const char *search_entry; /* the search-path entry it was found in */
  /* For a shadowed plugin (keel_registry_shadowed_at): the accepted plugin
   * of the same kind and name from an earlier entry; NULL otherwise. */
  const struct keel_loaded_plugin *shadowed_by;
  /* For a plugin only scanned (api NULL): owned copies of the name,
   * version, summary and license desc points at. */
  char *text[4];
} keel_loaded_plugin;

/* A file on the search path the loader refused. */
typedef struct keel_broken_plugin {
  char *path;               /* the file as the scan found it */
  char *name;               /* the descriptor's name when that much checked
                               out, else the file name without ".so" */
  int kind;                 /* its kind, or 0 when unknown */
  char *reason;             /* the refusal; it names the file */
  const char *search_entry; /* the search-path entry it was found in */
} keel_broken_plugin;

typedef struct keel_registry keel_registry;

/* An empty registry. */
int keel_registry_create(keel_registry **out, keel_error *err);
/* Frees bookkeeping; loaded code stays resident (never dlclosed). */
void keel_registry_destroy(keel_registry *reg);

/* Appends a search entry (directory or .so file). Nothing is loaded yet. */
int keel_registry_add_path(keel_registry *reg, const char *entry,
                           keel_error *err);
/* Appends each ':'-separated entry of list (for KEEL_PLUGIN_PATH). */
int keel_registry_add_path_list(keel_registry *reg, const char *list,
                                keel_error *err);
/* Appends the default entries after the user's: the build tree's plugin
 * folder (when the binary runs from the build tree) and the install
 * prefix's plugin folder. */
int keel_registry_add_default_paths(keel_registry *reg, keel_error *err);

/* Loads and checks every plugin on the search path. A refused file is
 * recorded as broken and the scan goes on; only a search entry that does
 * not exist or cannot be read (KEEL_ENOTFOUND, KEEL_EIO) or running out of
 * memory stops it, with err naming the entry. */
int keel_registry_scan(keel_registry *reg, keel_error *err);

/* Loads and checks one file in this process (its constructors run) without
 * adding it to the search path. */
int keel_plugin_load_file(const char *path, keel_loaded_plugin **out,
                          keel_error *err);
void keel_loaded_plugin_free(keel_loaded_plugin *p);

/* keel_plugin_load_file for the scanner: also says what a refused
 * descriptor said of itself (*kind 0 and name "" when unknown). */
int keel__plugin_load_identity(const char *path, keel_loaded_plugin **out,
                               int *kind, char name[48], keel_error *err);

/* The plugin of this kind and name, loaded into this process on first use
 * (the registry keeps it); NULL when there is none, or when loading it
 * failed: the file is then recorded as broken (keel_registry_find_broken
 * gives the reason). */
const keel_loaded_plugin *keel_registry_find(const keel_registry *reg,
                                             keel_kind kind, const char *name);
/* All accepted plugins, sorted by kind then name; a plugin only scanned
 * has its descriptor's text, kind, ABI, contract and build facts, but no
 * parameters and api NULL (keel_registry_find loads it). */
size_t keel_registry_count(const keel_registry *reg);
const keel_loaded_plugin *keel_registry_at(const keel_registry *reg,
                                           size_t index);
/* The refused files, in scan order. */
size_t keel_registry_broken_count(const keel_registry *reg);
const keel_broken_plugin *keel_registry_broken_at(const keel_registry *reg,
                                                  size_t index);
/* The broken file that stands for this name (its descriptor's name or its
 * file name; kind 0: any kind) in place of `found`: one on the same or an
 * earlier search entry than found (any entry when found is NULL). NULL
 * when none does: found, if any, is then the one to use. */
const keel_broken_plugin *
keel_registry_find_broken(const keel_registry *reg, int kind, const char *name,
                          const keel_loaded_plugin *found);
/* The plugins hidden by one of the same kind and name on an earlier entry
 * (shadowed_by says which), in scan order. */
size_t keel_registry_shadowed_count(const keel_registry *reg);
const keel_loaded_plugin *keel_registry_shadowed_at(const keel_registry *reg,
                                                    size_t index);
/* Names of the search entries in order (for messages and the bundle). */
size_t keel_registry_path_count(const keel_registry *reg);
const char *keel_registry_path_at(const keel_registry *reg, size_t index);

/* "source", "transform", ... or NULL for an unknown kind. */
const char *keel_kind_name(int kind);
int keel_kind_from_name(const char *name); /* 0 if unknown */
/* All KEEL_KIND_OPTIMIZER kind names in kind order (element k - 1 is kind
 * k), for did-you-mean lists. */
const char *const *keel_kind_names(void);

/* The host services table given to plugins (host.c). */
const keel_host *keel_host_services(void);

#endif
