/* install_layout: where this keel's own files are (built-in plugins,
 * templates, example manifests, docs), found from the running binary's
 * own location (/proc/self/exe), so an install moved to another prefix
 * keeps working. No absolute path compiled in is consulted for an
 * installed binary: from PREFIX/bin/keel the folders are the install's
 * relative ones (PREFIX/lib/keel/plugins, PREFIX/share/keel/manifests/
 * templates, ...). A binary inside the build tree it was built in (keel,
 * or a test program below it) uses the build tree's plugins-out/ and the
 * source tree's manifests/ and docs/ instead. Settings (config/
 * settings.h) are searched before these defaults. */
#ifndef KEEL_BASE_INSTALL_LAYOUT_H
#define KEEL_BASE_INSTALL_LAYOUT_H

#include "keel/error.h"

typedef enum keel_install_item {
  KEEL_INSTALL_PLUGINS,   /* the built-in plugin folder */
  KEEL_INSTALL_TEMPLATES, /* the shipped templates (NAME.ini) */
  KEEL_INSTALL_MANIFESTS, /* the example manifests and their data */
  KEEL_INSTALL_DOCS,      /* the Markdown docs */
  KEEL_INSTALL_ITEM_COUNT
} keel_install_item;

typedef struct keel_install_layout {
  int build_tree; /* 1: the binary runs from its build tree */
  char *binary;   /* the running binary's real path, NULL if unreadable */
  /* Absolute folders, malloc'd; NULL when the binary's own path could not
   * be read (then keel has no built-in folders, only settings). A folder
   * may not exist: callers skip a missing one. */
  char *dirs[KEEL_INSTALL_ITEM_COUNT];
} keel_install_layout;

/* Fills *l (zeroed first; release with keel_install_layout_free, also
 * after a failure). Only KEEL_ENOMEM fails: an unreadable /proc/self/exe
 * leaves every folder NULL. Reads the file system, touches nothing. */
int keel_install_layout_find(keel_install_layout *l, keel_error *err);

void keel_install_layout_free(keel_install_layout *l);

/* "plugin_dir", "template_dir", "manifest_dir", "doc_dir": what `keel
 * config show` prints. */
const char *keel_install_item_name(keel_install_item item);

/* One folder without keeping the rest: a malloc'd copy in *out (NULL when
 * the binary's path is unreadable), or KEEL_ENOMEM. */
int keel_install_dir(keel_install_item item, char **out, keel_error *err);

#endif
