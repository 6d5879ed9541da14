/* Which plugin files a received bundle may load (see plugin_trust.h). */
#include "run/plugin_trust.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/path.h"
#include "base/sha256.h"
#include "base/status.h"
#include "plugin/loader.h"

/* A list of files with their SHA-256, filled lazily. */
typedef struct file_list {
  char **paths;
  char (*sha)[65];
  size_t n, cap;
} file_list;

static void file_list_free(file_list *l)
{
  for (size_t i = 0; i < l->n; i++)
    free(l->paths[i]);
  free(l->paths);
  free(l->sha);
}

static int file_list_add(file_list *l, char *path, keel_error *err)
{
  if (!path)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 16;
    char **p = realloc(l->paths, cap * sizeof *p);
    if (p)
      l->paths = p;
    char(*s)[65] = p ? realloc(l->sha, cap * sizeof *s) : NULL;
    if (!p || !s) {
      free(path);
      return keel_fail(err, KEEL_ENOMEM, "out of memory");
    }
    l->sha = s;
    l->cap = cap;
  }
  l->sha[l->n][0] = '\0';
  l->paths[l->n++] = path;
  return 0;
}

static int has_suffix(const char *s, const char *suffix)
{
  size_t n = strlen(s), m = strlen(suffix);
  return n > m && strcmp(s + n - m, suffix) == 0;
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* entry itself when it is a file, else its *SUFFIX files in byte order.
 * A missing entry adds nothing, or fails when `required`. */
static int add_entry(file_list *l, const char *entry, const char *suffix,
                     int required, keel_error *err)
{
  struct stat st;
  size_t first = l->n;
  if (stat(entry, &st) != 0) {
    if (!required)
      return 0;
    return keel_fail(err, KEEL_ENOTFOUND, "%s: %s", entry, strerror(errno));
  }
  if (!S_ISDIR(st.st_mode))
    return file_list_add(l, strdup(entry), err);
  DIR *d = opendir(entry);
  if (!d)
    return keel_fail(err, KEEL_EIO, "%s: %s", entry, strerror(errno));
  struct dirent *e;
  int rc = 0;
  while (!rc && (e = readdir(d)) != NULL)
    if (has_suffix(e->d_name, suffix))
      rc = file_list_add(l, keel_path_join(entry, e->d_name), err);
  closedir(d);
  if (l->n > first)
    qsort(l->paths + first, l->n - first, sizeof *l->paths, cmp_str);
  return rc;
}

/* Each ':'-separated entry of list. */
static int add_list(file_list *l, const char *list, const char *suffix,
                    int required, keel_error *err)
{
  char *copy = strdup(list ? list : ""), *save = NULL;
  int rc = copy ? 0 : keel_fail(err, KEEL_ENOMEM, "out of memory");
  for (char *t = copy ? strtok_r(copy, ":", &save) : NULL; t && !rc;
       t = strtok_r(NULL, ":", &save))
    rc = add_entry(l, t, suffix, required, err);
  free(copy);
  return rc;
}

/* The installed plugin files in search order: the plugin_path setting,
 * then the loader's built-in folders (asked of a registry that is never
 * scanned, so nothing is opened). */
static int installed_files(const char *search_path, file_list *l,
                           keel_error *err)
{
  keel_registry *reg = NULL;
  int rc = keel_registry_create(&reg, err);
  if (!rc)
    rc = keel_registry_add_path_list(reg, search_path, err);
  if (!rc)
    rc = keel_registry_add_default_paths(reg, err);
  for (size_t i = 0; !rc && i < keel_registry_path_count(reg); i++)
    rc = add_entry(l, keel_registry_path_at(reg, i), ".so", 0, err);
  keel_registry_destroy(reg);
  return rc;
}

/* The first trusted key the bundle's signature checks against. */
static int find_signer(const keel_plugin_trust_request *rq,
                       keel_plugin_plan *plan, keel_error *err)
{
  file_list keys = {0};
  int rc;
  if (!keel_bundle_find(rq->bundle, "SIGNATURE"))
    return 0;
  rc = add_list(&keys, rq->trusted_keys, ".pub", rq->keys_configured, err);
  if (rc) {
    keel_error_prefix(err, "trusted key");
    goto out;
  }
  plan->signed_untrusted = 1;
  for (size_t i = 0; i < keys.n; i++) {
    keel_error e = {0};
    int v = keel_bundle_signed_by(rq->bundle, keys.paths[i], &e);
    if (v == KEEL_EINTEGRITY)
      continue;
    if (v) {
      rc = keel_fail(err, v == KEEL_EIO ? KEEL_EIO : KEEL_EINVAL,
                     "trusted key %s", e.message);
      goto out;
    }
    if (!(plan->signer_key = strdup(keys.paths[i])))
      rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
    plan->signed_untrusted = 0;
    break;
  }
out:
  file_list_free(&keys);
  return rc;
}

/* The installed file whose SHA-256 is sha, hashing candidates on first
 * use; an unreadable candidate never matches. */
static const char *installed_match(file_list *l, const char *sha)
{
  for (size_t i = 0; i < l->n; i++) {
    if (!l->sha[i][0]) {
      keel_error e = {0};
      if (keel_sha256_file(l->paths[i], l->sha[i], NULL, &e) != 0)
        strcpy(l->sha[i], "-");
    }
    if (strcmp(l->sha[i], sha) == 0)
      return l->paths[i];
  }
  return NULL;
}

/* The refusal: the first plugin without a file, and the ways out. */
static int refuse(const keel_plugin_plan *plan, const keel_plugin_pick *p,
                  size_t n_missing, int bundled_ok, keel_error *err)
{
  const char *why = bundled_ok ? "the bundle does not carry it"
                    : plan->signed_untrusted
                        ? "the bundle is signed by no trusted key"
                        : "the bundle is unsigned";
  char more[64] = "";
  if (n_missing > 1)
    snprintf(more, sizeof more, " (nor are %zu more)", n_missing - 1);
  return keel_fail(
      err, KEEL_ENOTFOUND,
      "%s '%s' %s (SHA-256 %s) is not installed%s: no plugin file on the "
      "search path has that SHA-256, and %s; install that build (or add its "
      "folder with --plugin-path), add the signer's public key to "
      "trusted_keys, or pass --trust-bundled-plugins to run the bundle's "
      "own code",
      p->kind, p->name, p->version, p->sha256, more, why);
}

int keel_plugin_plan_make(const keel_plugin_trust_request *rq,
                          keel_plugin_plan *plan, keel_error *err)
{
  const keel_bundle_member *m = keel_bundle_find(rq->bundle, "plugins.json");
  file_list inst = {0};
  json_t *list, *e;
  size_t i, missing = 0, first_missing = 0;
  int rc = 0, bundled_ok;
  memset(plan, 0, sizeof *plan);
  if (!m ||
      !(plan->json = json_loadb((const char *)m->data, m->size, 0, NULL)) ||
      !json_is_array(list = json_object_get(plan->json, "plugins")))
    return keel_fail(err, KEEL_EINTEGRITY,
                     "plugins.json is missing or malformed");
  if ((rc = find_signer(rq, plan, err)) != 0)
    return rc;
  bundled_ok = rq->trust_bundled || plan->signer_key;
  if (!(plan->picks = calloc(json_array_size(list) + 1, sizeof *plan->picks)))
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  if ((rc = installed_files(rq->search_path, &inst, err)) != 0)
    goto out;
  json_array_foreach(list, i, e)
  {
    keel_plugin_pick *p = &plan->picks[plan->n++];
    const char *member = json_string_value(json_object_get(e, "file"));
    const keel_bundle_member *bm =
        member ? keel_bundle_find(rq->bundle, member) : NULL;
    char hex[65];
    p->kind = json_string_value(json_object_get(e, "kind"));
    p->name = json_string_value(json_object_get(e, "name"));
    p->version = json_string_value(json_object_get(e, "version"));
    p->sha256 = json_string_value(json_object_get(e, "sha256"));
    if (!p->kind || !p->name || !p->version || !p->sha256) {
      rc = keel_fail(err, KEEL_EINTEGRITY,
                     "plugins.json entry %zu lacks kind, name, version or "
                     "sha256",
                     i + 1);
      goto out;
    }
    if (bundled_ok && bm) {
      /* The very bytes plugins.json pins (keel_bundle_check tied them to
       * SHA256SUMS, which the signature covers). */
      keel_sha256_hex(bm->data, bm->size, hex);
      if (strcmp(hex, p->sha256) != 0) {
        rc = keel_fail(err, KEEL_EINTEGRITY,
                       "%s: SHA-256 %s differs from plugins.json (%s)", member,
                       hex, p->sha256);
        goto out;
      }
      p->origin = plan->signer_key ? KEEL_PLUGIN_BUNDLED_SIGNED
                                   : KEEL_PLUGIN_BUNDLED_FLAG;
      p->file = keel_path_join(rq->root, member);
    } else {
      const char *f = installed_match(&inst, p->sha256);
      p->origin = KEEL_PLUGIN_INSTALLED;
      if (!f) {
        if (!missing++)
          first_missing = plan->n - 1;
        continue;
      }
      p->file = strdup(f);
    }
    if (!p->file) {
      rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
      goto out;
    }
  }
  if (missing)
    rc = refuse(plan, &plan->picks[first_missing], missing, bundled_ok, err);
out:
  file_list_free(&inst);
  return rc;
}

void keel_plugin_plan_free(keel_plugin_plan *plan)
{
  for (size_t i = 0; i < plan->n; i++)
    free(plan->picks[i].file);
  free(plan->picks);
  free(plan->signer_key);
  json_decref(plan->json);
  memset(plan, 0, sizeof *plan);
}
