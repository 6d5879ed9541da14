/* plugin_trust: which plugin files a received bundle may load (DESIGN.md,
 * "Code from a bundle is untrusted"). The bundle's own plugin binaries
 * load only when its signature checks against a trusted key or the user
 * said --trust-bundled-plugins; otherwise each plugin of plugins.json is
 * the installed file on the plugin search path whose SHA-256 matches, and
 * a plugin with none is refused. No plugin code runs while deciding: the
 * candidates are hashed, never opened. `keel replay` uses it, and so will
 * `keel predict`. */
#ifndef KEEL_RUN_PLUGIN_TRUST_H
#define KEEL_RUN_PLUGIN_TRUST_H

#include <stddef.h>

#include "bundle/bundle.h"

typedef enum keel_plugin_origin {
  KEEL_PLUGIN_INSTALLED,      /* a file on the plugin search path */
  KEEL_PLUGIN_BUNDLED_SIGNED, /* the bundle's copy, signer trusted */
  KEEL_PLUGIN_BUNDLED_FLAG    /* the bundle's copy, --trust-bundled-plugins */
} keel_plugin_origin;

typedef struct keel_plugin_pick {
  const char *kind, *name, *version, *sha256; /* from plugins.json
                                                 (borrowed from the bundle's
                                                 parsed JSON, see below) */
  char *file;                                 /* the file to load (malloc'd) */
  keel_plugin_origin origin;
} keel_plugin_pick;

typedef struct keel_plugin_plan {
  keel_plugin_pick *picks; /* one per plugins.json entry, in its order */
  size_t n;
  char *signer_key;     /* the trusted key the signature checked against,
                           or NULL (malloc'd) */
  int signed_untrusted; /* signed, but by no trusted key */
  void *json;           /* plugins.json, owning the borrowed strings */
} keel_plugin_plan;

typedef struct keel_plugin_trust_request {
  const keel_bundle *bundle; /* opened and verified (keel_bundle_check) */
  const char *root;          /* the folder its members are extracted to */
  const char *trusted_keys;  /* the trusted_keys setting: ':'-separated
                                key files or folders of *.pub */
  int keys_configured;       /* 1 unless that is the default: then a
                                missing entry is an error */
  int trust_bundled;         /* --trust-bundled-plugins */
  const char *search_path;   /* the plugin_path setting (':'-separated);
                                the built-in folders are searched after */
} keel_plugin_trust_request;

/* Decides every plugin of the bundle's plugins.json. 0 with *plan filled
 * (release with keel_plugin_plan_free, also after a failure); a plugin
 * with no trusted file is KEEL_ENOTFOUND naming its kind, name, version
 * and SHA-256 and what the user can do; a trusted key that is missing or
 * unreadable is KEEL_ENOTFOUND / KEEL_EINVAL naming it. */
int keel_plugin_plan_make(const keel_plugin_trust_request *rq,
                          keel_plugin_plan *plan, keel_error *err);
void keel_plugin_plan_free(keel_plugin_plan *plan);

#endif
