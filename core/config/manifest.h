/* Manifests: one concrete run (docs/manifest.md).
 *   [keel]            template = NAME or PATH, template_version = RANGE,
 *                     plugin_path = DIR[:DIR...] (relative to the manifest),
 *                     catalog = PATH (the data catalog, relative to it),
 *                     purpose = WORD (why the data is read: the access
 *                     policy's purposes; not part of the result)
 *   [data], [train]   host parameters
 *   [source], [model], [loss], [optimizer]   plugin = NAME, then values
 *                     ([source] may name dataset = NAME@RANGE instead)
 *   [transform.NAME]  zero or more, applied in file order
 * Loading checks the file's syntax and its section and [keel] structure;
 * values are checked against the plugins by resolve.c. */
#ifndef KEEL_CONFIG_MANIFEST_H
#define KEEL_CONFIG_MANIFEST_H

#include <stddef.h>

#include "config/ini.h"
#include "keel/keel.h"

typedef struct keel_manifest {
  keel_ini *ini; /* path as given, text, sections */
  char *dir;     /* folder relative paths resolve against */
  int keel_line; /* line of [keel] */
  const keel_ini_entry *template_ref;     /* [keel] template */
  const keel_ini_entry *template_version; /* [keel] template_version */
  const keel_ini_entry *catalog;          /* [keel] catalog, or NULL */
  const keel_ini_entry *purpose;          /* [keel] purpose, or NULL */
  char **plugin_paths; /* [keel] plugin_path entries, joined to dir */
  size_t n_plugin_paths;
  int plugin_path_line;
} keel_manifest;

/* Reads and checks a manifest. Errors "PATH:LINE: ..." (KEEL_EINVAL),
 * KEEL_ENOTFOUND/KEEL_EIO when it cannot be read. */
int keel_manifest_load(const char *path, keel_manifest **out, keel_error *err);
void keel_manifest_free(keel_manifest *m);

/* The kind a manifest section holds: a keel_kind, 0 for the host sections
 * [data]/[train], -1 for [keel], -2 for anything else. */
int keel_manifest_section_kind(const char *section);

#endif
