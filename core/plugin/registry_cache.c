/* The plugin registry cache (see registry_cache.h). */
#include "plugin/registry_cache.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/path.h"
#include "base/status.h"
#include "keel/abi.h"

/* Bumped when the facts or the checks behind them change, so that a
 * newer keel does not trust an older one's verdicts. */
#define CACHE_FORMAT "keel-plugin-registry/1"

struct keel_registry_cache {
  char *path;    /* the cache file; NULL when no home is known */
  json_t *files; /* realpath -> {size, mtime_ns, sha256, facts} */
  int dirty;
};

static char *cache_path(void)
{
  char *dir = keel_path_xdg_dir("XDG_CACHE_HOME", ".cache");
  char *keel = dir ? keel_path_join(dir, "keel") : NULL;
  char *path = keel ? keel_path_join(keel, "plugin-registry.json") : NULL;
  free(dir);
  free(keel);
  return path;
}

keel_registry_cache *keel_registry_cache_open(void)
{
  keel_registry_cache *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  c->path = cache_path();
  json_t *root = c->path ? json_load_file(c->path, 0, NULL) : NULL;
  const char *format = NULL;
  int major = -1, minor = -1;
  json_t *files = NULL;
  if (root &&
      json_unpack(root, "{s:s, s:[i,i], s:o}", "format", &format, "host_abi",
                  &major, &minor, "files", &files) == 0 &&
      strcmp(format, CACHE_FORMAT) == 0 && major == KEEL_ABI_MAJOR &&
      minor == KEEL_ABI_MINOR && json_is_object(files))
    c->files = json_incref(files);
  else
    c->dirty = root != NULL || (c->path && access(c->path, F_OK) == 0);
  json_decref(root);
  if (!c->files && !(c->files = json_object())) {
    keel_registry_cache_close(c);
    return NULL;
  }
  return c;
}

const json_t *keel_registry_cache_get(keel_registry_cache *c, const char *path,
                                      int64_t size, int64_t mtime_ns,
                                      const char *sha256)
{
  json_int_t s = -1, m = -1;
  const char *h = NULL;
  json_t *facts = NULL;
  json_t *e = json_object_get(c->files, path);
  if (!e ||
      json_unpack(e, "{s:I, s:I, s:s, s:o}", "size", &s, "mtime_ns", &m,
                  "sha256", &h, "facts", &facts) != 0 ||
      s != size || m != mtime_ns || strcmp(h, sha256) != 0 ||
      !json_is_object(facts))
    return NULL;
  return facts;
}

void keel_registry_cache_put(keel_registry_cache *c, const char *path,
                             int64_t size, int64_t mtime_ns, const char *sha256,
                             json_t *facts)
{
  json_t *e =
      json_pack("{s:I, s:I, s:s, s:O}", "size", (json_int_t)size, "mtime_ns",
                (json_int_t)mtime_ns, "sha256", sha256, "facts", facts);
  if (e && json_object_set_new(c->files, path, e) == 0)
    c->dirty = 1;
}

void keel_registry_cache_save(keel_registry_cache *c)
{
  if (!c || !c->dirty || !c->path)
    return;
  /* Entries of files that are gone would only grow the file. */
  const char *key;
  json_t *value, *tmp;
  struct stat st;
  json_object_foreach_safe(c->files, tmp, key, value)
  {
    if (stat(key, &st) != 0)
      json_object_del(c->files, key);
  }
  json_t *root =
      json_pack("{s:s, s:[i,i], s:O}", "format", CACHE_FORMAT, "host_abi",
                KEEL_ABI_MAJOR, KEEL_ABI_MINOR, "files", c->files);
  char *text = root ? json_dumps(root, JSON_SORT_KEYS | JSON_INDENT(1)) : NULL;
  json_decref(root);
  char *dir = keel_path_dirname(c->path);
  keel_error err = {0};
  if (text && dir && keel_fs_mkdir_p(dir, &err) == 0 &&
      keel_write_file_atomic(c->path, text, strlen(text), 0644, 0, &err) == 0)
    c->dirty = 0;
  free(dir);
  free(text);
}

void keel_registry_cache_close(keel_registry_cache *c)
{
  if (!c)
    return;
  json_decref(c->files);
  free(c->path);
  free(c);
}
