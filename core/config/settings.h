/* settings: what keel reads that is not part of a run (docs/
 * configuration.md). One table declares every setting once (name,
 * environment variable, config.ini section and key, command-line option,
 * default, one line of documentation), and one precedence holds for all:
 * command-line flag > KEEL_* environment variable >
 * $XDG_CONFIG_HOME/keel/config.ini (~/.config/keel/config.ini) > built-in
 * default (under $XDG_DATA_HOME/keel or $XDG_CACHE_HOME/keel where a path
 * is needed). A setting takes its whole value from the first source that
 * sets it; sources are not merged. An empty environment variable counts as
 * unset. Every setting today is a ':'-separated list of paths; relative
 * entries in config.ini are taken from config.ini's folder. */
#ifndef KEEL_CONFIG_SETTINGS_H
#define KEEL_CONFIG_SETTINGS_H

#include <stddef.h>

#include "keel/error.h"

typedef enum keel_setting_id {
  KEEL_SETTING_PLUGIN_PATH,   /* installed plugin folders or .so files */
  KEEL_SETTING_TEMPLATE_PATH, /* folders holding NAME.ini templates */
  KEEL_SETTING_TRUSTED_KEYS,  /* Ed25519 public keys (files or folders) */
  KEEL_SETTING_CATALOG,       /* the data catalog file */
  KEEL_SETTING_CA_BUNDLE,     /* PEM CAs for https fetches ("": system) */
  KEEL_SETTING_DATA_CACHE,    /* the content-addressed data cache folder */
  KEEL_SETTING_POLICY,        /* the access policy file */
  KEEL_SETTING_AUDIT_LOG,     /* the central hash-chained audit log */
  KEEL_SETTING_REGISTRY,      /* the run registry (SQLite) */
  KEEL_SETTING_COUNT
} keel_setting_id;

typedef struct keel_setting_decl {
  const char *name;    /* "plugin_path": what `keel config show` prints */
  const char *env;     /* "KEEL_PLUGIN_PATH" */
  const char *section; /* config.ini [section] ... */
  const char *key;     /* ... and key */
  const char *flag;    /* the command-line option ("plugin-path"), or NULL */
  char base;           /* the default's folder: 'd' $XDG_DATA_HOME/keel,
                          'c' $XDG_CACHE_HOME/keel, 'g' $XDG_CONFIG_HOME/keel,
                          0 none */
  const char *deflt;   /* the default, below that folder when base is set */
  const char *doc;     /* one line */
} keel_setting_decl;

typedef enum keel_setting_source {
  KEEL_SETTING_FROM_DEFAULT,
  KEEL_SETTING_FROM_FILE,
  KEEL_SETTING_FROM_ENV,
  KEEL_SETTING_FROM_FLAG
} keel_setting_source;

typedef struct keel_setting {
  const keel_setting_decl *decl;
  char *value; /* malloc'd; "" for an empty list */
  keel_setting_source source;
  int line; /* config.ini line when source is FROM_FILE */
} keel_setting;

typedef struct keel_settings {
  char *config_path;  /* the config.ini consulted (malloc'd) */
  int config_present; /* it existed and was read */
  keel_setting items[KEEL_SETTING_COUNT];
} keel_settings;

/* The table, KEEL_SETTING_COUNT entries in keel_setting_id order. */
const keel_setting_decl *keel_setting_decls(void);

/* Resolves every setting from the environment, config.ini and the
 * defaults into *s (zeroed first; release with keel_settings_free, also
 * after a failure). A config.ini that does not parse, or holds an unknown
 * section or key, is KEEL_EINVAL "FILE:LINE: ..." (exit 2). */
int keel_settings_load(keel_settings *s, keel_error *err);

/* The command-line level: when n > 0 the values (joined with ':') replace
 * what keel_settings_load found, source FROM_FLAG; n == 0 leaves it. */
int keel_settings_set_flag(keel_settings *s, keel_setting_id id,
                           const char *const *values, size_t n,
                           keel_error *err);

void keel_settings_free(keel_settings *s);

/* "flag", "env", "file", "default". */
const char *keel_setting_source_name(keel_setting_source source);

/* One resolved setting without keeping the rest: a malloc'd copy of its
 * value (*out), or an error from keel_settings_load. */
int keel_setting_value(keel_setting_id id, char **out, keel_error *err);

#endif
