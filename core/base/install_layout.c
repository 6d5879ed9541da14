/* Where this keel's own files are (install_layout.h): from the binary's
 * own path, never from an install prefix compiled in. */
#include "base/install_layout.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/path.h"
#include "base/status.h"

/* Set by core/CMakeLists.txt: the install's folders relative to its bin/
 * folder, and the (real) build and source trees. The two trees are only
 * compared as strings with the binary's folder, and opened only when the
 * binary lies in the build tree, so a moved install never looks there. */
#ifndef KEEL_REL_PLUGIN_DIR
#define KEEL_REL_PLUGIN_DIR "../lib/keel/plugins"
#endif
#ifndef KEEL_REL_TEMPLATE_DIR
#define KEEL_REL_TEMPLATE_DIR "../share/keel/manifests/templates"
#endif
#ifndef KEEL_REL_MANIFEST_DIR
#define KEEL_REL_MANIFEST_DIR "../share/keel/manifests"
#endif
#ifndef KEEL_REL_DOC_DIR
#define KEEL_REL_DOC_DIR "../share/doc/keel"
#endif
#ifndef KEEL_BUILD_DIR
#define KEEL_BUILD_DIR ""
#endif
#ifndef KEEL_SOURCE_DIR
#define KEEL_SOURCE_DIR ""
#endif

static const struct {
  const char *name;
  const char *installed; /* relative to the binary's folder */
  const char *build;     /* when the binary runs from the build tree */
} items[KEEL_INSTALL_ITEM_COUNT] = {
    [KEEL_INSTALL_PLUGINS] = {"plugin_dir", KEEL_REL_PLUGIN_DIR,
                              KEEL_BUILD_DIR "/plugins-out"},
    [KEEL_INSTALL_TEMPLATES] = {"template_dir", KEEL_REL_TEMPLATE_DIR,
                                KEEL_SOURCE_DIR "/manifests/templates"},
    [KEEL_INSTALL_MANIFESTS] = {"manifest_dir", KEEL_REL_MANIFEST_DIR,
                                KEEL_SOURCE_DIR "/manifests"},
    [KEEL_INSTALL_DOCS] = {"doc_dir", KEEL_REL_DOC_DIR,
                           KEEL_SOURCE_DIR "/docs"},
};

const char *keel_install_item_name(keel_install_item item)
{
  return item < KEEL_INSTALL_ITEM_COUNT ? items[item].name : "?";
}

static int is_dir(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* dir is root or lies below it, compared as text (both real paths). */
static int is_below(const char *dir, const char *root)
{
  size_t n = strlen(root);
  return n > 0 && strncmp(dir, root, n) == 0 &&
         (dir[n] == '\0' || dir[n] == '/');
}

/* BIN_DIR/REL, as its real path when it exists (so a listing names
 * PREFIX/lib/keel/plugins, not PREFIX/bin/../lib/keel/plugins). */
static char *beside(const char *bin_dir, const char *rel)
{
  char *joined = keel_path_join(bin_dir, rel);
  if (!joined)
    return NULL;
  char *real = realpath(joined, NULL);
  if (!real)
    return joined;
  free(joined);
  return real;
}

void keel_install_layout_free(keel_install_layout *l)
{
  free(l->binary);
  for (size_t i = 0; i < KEEL_INSTALL_ITEM_COUNT; i++)
    free(l->dirs[i]);
  memset(l, 0, sizeof *l);
}

int keel_install_layout_find(keel_install_layout *l, keel_error *err)
{
  memset(l, 0, sizeof *l);
  l->binary = realpath("/proc/self/exe", NULL);
  if (!l->binary)
    return KEEL_OK; /* no /proc: no built-in folders, settings still work */
  char *bin_dir = keel_path_dirname(l->binary);
  if (!bin_dir)
    goto nomem;
  for (size_t i = 0; i < KEEL_INSTALL_ITEM_COUNT; i++)
    if (!(l->dirs[i] = beside(bin_dir, items[i].installed)))
      goto nomem;
  /* An install (found beside the binary) wins over the build tree, so a
   * prefix installed inside the build tree is still an install. */
  if (!is_dir(l->dirs[KEEL_INSTALL_PLUGINS]) &&
      !is_dir(l->dirs[KEEL_INSTALL_TEMPLATES]) &&
      is_below(bin_dir, KEEL_BUILD_DIR)) {
    l->build_tree = 1;
    for (size_t i = 0; i < KEEL_INSTALL_ITEM_COUNT; i++) {
      free(l->dirs[i]);
      if (!(l->dirs[i] = strdup(items[i].build)))
        goto nomem;
    }
  }
  free(bin_dir);
  return KEEL_OK;
nomem:
  free(bin_dir);
  keel_install_layout_free(l);
  return keel_fail(err, KEEL_ENOMEM, "out of memory");
}

int keel_install_dir(keel_install_item item, char **out, keel_error *err)
{
  *out = NULL;
  keel_install_layout l;
  int rc = keel_install_layout_find(&l, err);
  if (rc)
    return rc;
  if (l.dirs[item] && !(*out = strdup(l.dirs[item])))
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
  keel_install_layout_free(&l);
  return rc;
}
