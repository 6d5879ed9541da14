/* Finding, opening and checking plugins.
 *
 * Everything about a plugin is checked from its static descriptor before
 * any of its functions is called (only the entry accessor, which must
 * return static data, and the pure contraction probe): like PostgreSQL's
 * magic block and GStreamer's descriptor, the first difference found is
 * reported as "host has X, plugin has Y". dlopen itself runs the file's
 * ELF constructors, so a scan does that in the scanner child
 * (plugin_scan.c) and this process loads only the plugins it uses. */
#include "plugin/loader.h"

#include <ctype.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/install_layout.h"
#include "base/params.h"
#include "base/semver.h"
#include "base/sha256.h"
#include "base/status.h"
#include "keel/utf8.h"
#include "plugin/fpcheck.h"
#include "plugin/plugin_scan.h"
#include "plugin/registry_cache.h"

struct keel_registry {
  char **paths;
  size_t n_paths;
  keel_loaded_plugin **plugins;
  size_t n_plugins;
  keel_broken_plugin *broken;
  size_t n_broken;
  keel_loaded_plugin **shadowed;
  size_t n_shadowed;
  keel_loaded_plugin **retired; /* scanned, then refused when loaded */
  size_t n_retired;
};

static const char *const kind_names[] = {NULL,    "source", "transform",
                                         "model", "loss",   "optimizer"};

const char *keel_kind_name(int kind)
{
  if (kind < KEEL_KIND_SOURCE || kind > KEEL_KIND_OPTIMIZER)
    return NULL;
  return kind_names[kind];
}

const char *const *keel_kind_names(void)
{
  return kind_names + KEEL_KIND_SOURCE;
}

int keel_kind_from_name(const char *name)
{
  if (!name)
    return 0;
  for (int k = KEEL_KIND_SOURCE; k <= KEEL_KIND_OPTIMIZER; k++)
    if (strcmp(kind_names[k], name) == 0)
      return k;
  return 0;
}

/* ---- descriptor checks ------------------------------------------------- */

static int valid_plugin_name(const char *s)
{
  if (!s || !islower((unsigned char)s[0]) || strlen(s) > 47)
    return 0;
  for (const char *p = s; *p; p++)
    if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) &&
        *p != '_' && *p != '-')
      return 0;
  return 1;
}

/* MAJOR.MINOR.PATCH with optional -pre / +build (semver.c's grammar). */
static int valid_semver(const char *s)
{
  keel_semver v;
  return s && keel_semver_parse(s, &v, NULL) == KEEL_OK;
}

/* Sizes at ABI 1.0: the least a plugin may declare. ABI 1.2 appended the
 * descriptor's build fields, loss.evaluate and optimizer.update; a 1.0
 * or 1.1 plugin ends before them and the copies below zero-extend. (The
 * tables' 1.2 `kind` field sits in what was padding, so no size moved.) */
#define DESCRIPTOR_SIZE_1_0 offsetof(keel_plugin, build_flags)

/* The least size of each kind's function table (its ABI 1.0 size). */
static size_t api_min_size(int kind)
{
  switch (kind) {
  case KEEL_KIND_SOURCE: return sizeof(keel_source_api);
  case KEEL_KIND_TRANSFORM: return sizeof(keel_transform_api);
  case KEEL_KIND_MODEL: return sizeof(keel_model_api);
  case KEEL_KIND_LOSS: return offsetof(keel_loss_api, evaluate);
  case KEEL_KIND_OPTIMIZER: return offsetof(keel_optimizer_api, update);
  }
  return 0;
}

/* The host's size of each kind's function table (what the copy holds). */
static size_t api_size(int kind)
{
  switch (kind) {
  case KEEL_KIND_SOURCE: return sizeof(keel_source_api);
  case KEEL_KIND_TRANSFORM: return sizeof(keel_transform_api);
  case KEEL_KIND_MODEL: return sizeof(keel_model_api);
  case KEEL_KIND_LOSS: return sizeof(keel_loss_api);
  case KEEL_KIND_OPTIMIZER: return sizeof(keel_optimizer_api);
  }
  return 0;
}

#define NEED(API, FIELD)                                                       \
  do {                                                                         \
    if (!(API)->FIELD)                                                         \
      return #FIELD;                                                           \
  } while (0)

/* Name of the first required function the table lacks, or NULL. */
static const char *missing_function(int kind, const void *api)
{
  switch (kind) {
  case KEEL_KIND_SOURCE: {
    const keel_source_api *a = api;
    NEED(a, schema);
    NEED(a, read);
    break;
  }
  case KEEL_KIND_TRANSFORM: {
    const keel_transform_api *a = api;
    NEED(a, schema);
    NEED(a, apply);
    break;
  }
  case KEEL_KIND_MODEL: {
    const keel_model_api *a = api;
    NEED(a, create);
    NEED(a, destroy);
    NEED(a, n_weights);
    NEED(a, workspace_floats);
    NEED(a, init);
    NEED(a, forward);
    NEED(a, backward);
    NEED(a, tensor);
    break;
  }
  case KEEL_KIND_LOSS: {
    const keel_loss_api *a = api;
    NEED(a, output_width);
    if (!a->evaluate && !a->value_grad) /* either one (ABI 1.2) */
      return "evaluate (or value_grad before ABI 1.2)";
    break;
  }
  case KEEL_KIND_OPTIMIZER: {
    const keel_optimizer_api *a = api;
    NEED(a, state_floats);
    if (!a->update && !a->step) /* either one (ABI 1.2) */
      return "update (or step before ABI 1.2)";
    break;
  }
  }
  return NULL;
}

static const char *const api_header_names[] = {NULL,
                                               "KEEL_SOURCE_API_HEADER",
                                               "KEEL_TRANSFORM_API_HEADER",
                                               "KEEL_MODEL_API_HEADER",
                                               "KEEL_LOSS_API_HEADER",
                                               "KEEL_OPTIMIZER_API_HEADER"};

/* The function table's own header, read before anything in the table is
 * used. Since ABI 1.2 it names its kind; a 1.0/1.1 table has padding
 * there, so only its size can be compared: it must be the size the kind's
 * table had at 1.1 (a table of another kind is caught when its size
 * differs, which docs/plugin-guide.md lists). */
static int check_table_header(const char *file, const keel_plugin *d,
                              keel_error *err)
{
  const keel_api_header *h = d->api;
  const char *kind = keel_kind_name((int)d->kind);
  size_t least = api_min_size((int)d->kind);
  if (d->abi_minor >= 2) {
    if (h->kind == 0)
      return keel_fail(err, KEEL_EPLUGIN,
                       "%s: %s plugin '%s': the function table has no kind: "
                       "begin it with %s",
                       file, kind, d->name, api_header_names[d->kind]);
    if (h->kind != d->kind) {
      const char *tk = keel_kind_name((int)h->kind);
      char num[32];
      snprintf(num, sizeof num, "unknown kind %u", h->kind);
      return keel_fail(err, KEEL_EPLUGIN,
                       "%s: plugin '%s': descriptor says %s, its function "
                       "table says %s; point api at a keel_%s_api begun "
                       "with %s",
                       file, d->name, kind, tk ? tk : num, kind,
                       api_header_names[d->kind]);
    }
    if (h->struct_size < least)
      return keel_fail(err, KEEL_EPLUGIN,
                       "%s: %s function table of '%s' too small: %u bytes, "
                       "expected at least %zu",
                       file, kind, d->name, h->struct_size, least);
    return KEEL_OK;
  }
  if (h->struct_size != least)
    return keel_fail(err, KEEL_EPLUGIN,
                     "%s: %s function table of '%s' is %u bytes; an ABI "
                     "%u.%u %s table is %zu (a table of another kind?)",
                     file, kind, d->name, h->struct_size, d->abi_major,
                     d->abi_minor, kind, least);
  return KEEL_OK;
}

/* The build's determinism facts (ABI 1.2, stamped by KEEL_PLUGIN_HEADER):
 * refuse what would make results depend on the compiler's choices. A 1.0
 * or 1.1 plugin recorded none and is accepted (keel plugins NAME says
 * so). The probe is plugin code, but a pure function made to be called. */
static int check_build_facts(const char *file, const keel_plugin *d,
                             keel_error *err)
{
  if (d->abi_minor < 2)
    return KEEL_OK;
  if (d->build_flags & KEEL_BUILD_FAST_MATH)
    return keel_fail(err, KEEL_EPLUGIN,
                     "%s: plugin '%s' was built with -ffast-math: its "
                     "arithmetic is not reproducible; rebuild without it",
                     file, d->name);
  if (d->flt_eval_method != 0)
    return keel_fail(err, KEEL_EPLUGIN,
                     "%s: plugin '%s' was built with FLT_EVAL_METHOD %d "
                     "(excess precision): expected 0; rebuild with SSE2 "
                     "arithmetic (-mfpmath=sse)",
                     file, d->name, (int)d->flt_eval_method);
  if (!d->fp_probe)
    return keel_fail(err, KEEL_EPLUGIN,
                     "%s: plugin '%s' has no contraction probe (fp_probe); "
                     "begin the descriptor with KEEL_PLUGIN_HEADER(KIND)",
                     file, d->name);
  if (keel_fp_probe_fuses(d->fp_probe))
    return keel_fail(err, KEEL_EPLUGIN,
                     "%s: plugin '%s' was built with floating-point "
                     "contraction on (its probe fused a * b + c into one "
                     "multiply-add): rebuild with -ffp-contract=off "
                     "(keel_add_plugin and pkg-config --cflags keel add it)",
                     file, d->name);
  return KEEL_OK;
}

/* Checks the descriptor and makes the zero-extended copies. */
static int check_descriptor(const char *file, const keel_plugin *raw,
                            keel_loaded_plugin *lp, keel_error *err)
{
  /* KEEL_PLUGIN_HEADER stamps all three; a descriptor written without it
   * has them 0, which no real ABI has: say so, not "rebuild". */
  if (raw->abi_major == 0 && raw->abi_minor == 0 && raw->struct_size == 0)
    return keel_fail(err, KEEL_EPLUGIN,
                     "%s: descriptor header missing (abi_major, abi_minor and "
                     "struct_size are 0); begin the descriptor with "
                     "KEEL_PLUGIN_HEADER(KIND) from keel/plugin.h",
                     file);
  if (raw->abi_major != KEEL_ABI_MAJOR)
    return keel_fail(err, KEEL_EPLUGIN,
                     "%s: incompatible ABI major version: host has %u, plugin "
                     "has %u; rebuild the plugin against this keel SDK",
                     file, KEEL_ABI_MAJOR, raw->abi_major);
  /* A newer minor loads (keel/abi.h): the copies below keep what this
   * host knows and the host never calls what it does not. */
  /* Every field of ABI 1.0 must be present. */
  if (raw->struct_size < DESCRIPTOR_SIZE_1_0)
    return keel_fail(err, KEEL_EPLUGIN,
                     "%s: descriptor too small: %u bytes, ABI %u.0 needs at "
                     "least %zu",
                     file, raw->struct_size, KEEL_ABI_MAJOR,
                     DESCRIPTOR_SIZE_1_0);
  /* Read only what the plugin declared; newer host fields stay zero. */
  memset(&lp->desc, 0, sizeof lp->desc);
  memcpy(&lp->desc, raw,
         raw->struct_size < sizeof(keel_plugin) ? raw->struct_size
                                                : sizeof(keel_plugin));
  const keel_plugin *d = &lp->desc;
  const char *kind = keel_kind_name((int)d->kind);
  if (!kind)
    return keel_fail(err, KEEL_EPLUGIN,
                     "%s: unknown plugin kind %u (expected "
                     "1..5: source, transform, model, loss, optimizer)",
                     file, d->kind);
  if (!d->name || !d->name[0])
    return keel_fail(err, KEEL_EPLUGIN, "%s: %s plugin has no name", file,
                     kind);
  if (!valid_plugin_name(d->name))
    return keel_fail(err, KEEL_EPLUGIN,
                     "%s: invalid plugin name '%s' (expected "
                     "[a-z][a-z0-9_-]*, at most 47 bytes)",
                     file, d->name);
  if (!d->version || !d->version[0])
    return keel_fail(err, KEEL_EPLUGIN, "%s: plugin '%s' has no version", file,
                     d->name);
  if (!valid_semver(d->version))
    return keel_fail(err, KEEL_EPLUGIN,
                     "%s: plugin '%s' has malformed semantic "
                     "version '%s' (expected MAJOR.MINOR.PATCH)",
                     file, d->name, d->version);
  if (!d->summary || !d->summary[0])
    return keel_fail(err, KEEL_EPLUGIN, "%s: plugin '%s' has no summary", file,
                     d->name);
  /* descriptor text reaches JSON records: UTF-8 only (keel/utf8.h) */
  if (keel_utf8_check(d->summary, strlen(d->summary)) != strlen(d->summary) ||
      (d->license &&
       keel_utf8_check(d->license, strlen(d->license)) != strlen(d->license)))
    return keel_fail(err, KEEL_EPLUGIN,
                     "%s: plugin '%s': summary or license is not valid "
                     "UTF-8 (the host takes only UTF-8 text from plugins)",
                     file, d->name);
  if (!d->api)
    return keel_fail(err, KEEL_EPLUGIN,
                     "%s: %s plugin '%s' has no function "
                     "table",
                     file, kind, d->name);
  int rc = check_table_header(file, d, err);
  if (rc)
    return rc;
  uint32_t api_bytes = *(const uint32_t *)d->api;
  size_t host_bytes = api_size((int)d->kind);
  void *api = calloc(1, host_bytes);
  if (!api)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  memcpy(api, d->api, api_bytes < host_bytes ? api_bytes : host_bytes);
  lp->api = api;
  const char *missing = missing_function((int)d->kind, api);
  if (missing)
    return keel_fail(err, KEEL_EPLUGIN,
                     "%s: %s plugin '%s' lacks required "
                     "function '%s'",
                     file, kind, d->name, missing);
  keel_error perr = {0};
  if (keel_param_table_check(d->params, d->n_params, &perr))
    return keel_fail(err, KEEL_EPLUGIN, "%s: plugin '%s': %s", file, d->name,
                     perr.message);
  return check_build_facts(file, d, err);
}

/* Refuses what dlopen would report cryptically: missing files, folders,
 * unreadable or non-ELF files. */
static int check_file(const char *path, keel_error *err)
{
  struct stat st;
  if (stat(path, &st) != 0)
    return keel_fail(err, errno == ENOENT ? KEEL_ENOTFOUND : KEEL_EIO,
                     "%s: cannot access plugin: %s", path, strerror(errno));
  if (S_ISDIR(st.st_mode))
    return keel_fail(err, KEEL_EPLUGIN, "%s: is a directory, not a plugin file",
                     path);
  if (!S_ISREG(st.st_mode))
    return keel_fail(err, KEEL_EPLUGIN, "%s: not a regular file", path);
  FILE *f = fopen(path, "rb");
  if (!f)
    return keel_fail(err, KEEL_EIO, "%s: cannot read plugin: %s", path,
                     strerror(errno));
  unsigned char magic[4] = {0};
  size_t n = fread(magic, 1, 4, f);
  fclose(f);
  if (n != 4 || memcmp(magic, "\177ELF", 4) != 0)
    return keel_fail(err, KEEL_EPLUGIN, "%s: not an ELF shared object", path);
  return KEEL_OK;
}

void keel_loaded_plugin_free(keel_loaded_plugin *p)
{
  if (!p)
    return;
  free((void *)p->api);
  free(p->path);
  for (int i = 0; i < 4; i++)
    free(p->text[i]);
  free(p);
}

/* What a refused file's descriptor said of itself, when its kind and name
 * checked out (copied: the library is closed after a refusal). */
typedef struct identity {
  int kind;
  char name[48];
} identity;

static void note_identity(const keel_loaded_plugin *lp, identity *who)
{
  if (who && keel_kind_name((int)lp->desc.kind) &&
      valid_plugin_name(lp->desc.name)) {
    who->kind = (int)lp->desc.kind;
    snprintf(who->name, sizeof who->name, "%s", lp->desc.name);
  }
}

/* keel_plugin_load_file, also telling a refused plugin's identity. */
static int load_file(const char *path, keel_loaded_plugin **out, identity *who,
                     keel_error *err)
{
  *out = NULL;
  int rc = check_file(path, err);
  if (rc)
    return rc;
  keel_loaded_plugin *lp = calloc(1, sizeof *lp);
  if (!lp)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  lp->path = realpath(path, NULL);
  if (!lp->path) {
    rc = keel_fail(err, KEEL_EIO, "%s: %s", path, strerror(errno));
    goto fail;
  }
  keel_fp_env fpenv;
  keel_fp_env_save(&fpenv);
  void *handle = dlopen(lp->path, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *why = dlerror();
    rc = keel_fail(err, KEEL_EPLUGIN, "%s: cannot load: %s", path,
                   why ? why : "unknown dlopen error");
    goto fail;
  }
  /* Constructors ran inside dlopen: a changed environment would change
   * every later result of the process. Put it back and refuse. The code
   * stays mapped (closing would not undo what it did, and a refused file
   * is not called). */
  const char *fp_changed = keel_fp_env_restore_if_changed(&fpenv);
  if (fp_changed) {
    rc = keel_fail(err, KEEL_EPLUGIN,
                   "%s: changed the floating-point environment when loaded "
                   "(%s); refused, and the environment restored",
                   path, fp_changed);
    goto fail;
  }
  keel_plugin_entry_fn entry;
  void *sym = dlsym(handle, KEEL_PLUGIN_ENTRY_NAME);
  memcpy(&entry, &sym, sizeof entry);
  if (!entry) {
    rc = keel_fail(err, KEEL_EPLUGIN,
                   "%s: no entry symbol '%s' (not a keel "
                   "plugin? define it with KEEL_PLUGIN_DEFINE)",
                   path, KEEL_PLUGIN_ENTRY_NAME);
    dlclose(handle);
    goto fail;
  }
  const keel_plugin *raw = entry();
  if (!raw) {
    rc = keel_fail(err, KEEL_EPLUGIN, "%s: entry symbol returned no descriptor",
                   path);
    dlclose(handle);
    goto fail;
  }
  rc = check_descriptor(path, raw, lp, err);
  if (rc) {
    note_identity(lp, who);
    dlclose(handle);
    goto fail;
  }
  note_identity(lp, who); /* from here on it stays loaded */
  rc = keel_sha256_file(lp->path, lp->sha256, NULL, err);
  if (rc)
    goto fail; /* handle stays: it is harmless and plugins are never closed */
  if (lp->desc.init) {
    keel_error perr = {0};
    if (lp->desc.init(keel_host_services(), &perr) != KEEL_OK) {
      rc = keel_fail(err, KEEL_EPLUGIN,
                     "%s: plugin '%s' refused to initialise: "
                     "%s",
                     path, lp->desc.name, perr.message);
      goto fail;
    }
  }
  /* Accepted: the handle is deliberately never closed (plugins stay
   * resident: OpenMP pools and TLS destructors must not outlive code). */
  *out = lp;
  return KEEL_OK;
fail:
  keel_loaded_plugin_free(lp);
  return rc;
}

int keel_plugin_load_file(const char *path, keel_loaded_plugin **out,
                          keel_error *err)
{
  return load_file(path, out, NULL, err);
}

int keel__plugin_load_identity(const char *path, keel_loaded_plugin **out,
                               int *kind, char name[48], keel_error *err)
{
  identity who = {0, ""};
  int rc = load_file(path, out, &who, err);
  *kind = who.kind;
  snprintf(name, 48, "%s", who.name);
  return rc;
}

/* ---- registry ----------------------------------------------------------- */

int keel_registry_create(keel_registry **out, keel_error *err)
{
  *out = calloc(1, sizeof **out);
  return *out ? KEEL_OK : keel_fail(err, KEEL_ENOMEM, "out of memory");
}

void keel_registry_destroy(keel_registry *reg)
{
  if (!reg)
    return;
  for (size_t i = 0; i < reg->n_paths; i++)
    free(reg->paths[i]);
  free(reg->paths);
  for (size_t i = 0; i < reg->n_plugins; i++)
    keel_loaded_plugin_free(reg->plugins[i]);
  free(reg->plugins);
  for (size_t i = 0; i < reg->n_broken; i++) {
    free(reg->broken[i].path);
    free(reg->broken[i].name);
    free(reg->broken[i].reason);
  }
  free(reg->broken);
  for (size_t i = 0; i < reg->n_shadowed; i++)
    keel_loaded_plugin_free(reg->shadowed[i]);
  free(reg->shadowed);
  for (size_t i = 0; i < reg->n_retired; i++)
    keel_loaded_plugin_free(reg->retired[i]);
  free(reg->retired);
  free(reg);
}

int keel_registry_add_path(keel_registry *reg, const char *entry,
                           keel_error *err)
{
  if (!entry || !entry[0])
    return KEEL_OK; /* an empty element of a list means nothing */
  char **grown = realloc(reg->paths, (reg->n_paths + 1) * sizeof *grown);
  if (!grown)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  reg->paths = grown;
  if (!(reg->paths[reg->n_paths] = strdup(entry)))
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  reg->n_paths++;
  return KEEL_OK;
}

int keel_registry_add_path_list(keel_registry *reg, const char *list,
                                keel_error *err)
{
  if (!list)
    return KEEL_OK;
  char *copy = strdup(list);
  if (!copy)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  int rc = KEEL_OK;
  char *save = NULL;
  for (char *tok = strtok_r(copy, ":", &save); tok && !rc;
       tok = strtok_r(NULL, ":", &save))
    rc = keel_registry_add_path(reg, tok, err);
  free(copy);
  return rc;
}

static int is_dir(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Default entries are marked with a leading '?' so a missing one is
 * skipped instead of refused. */
static int add_optional(keel_registry *reg, const char *dir, keel_error *err)
{
  if (!is_dir(dir))
    return KEEL_OK;
  for (size_t i = 0; i < reg->n_paths; i++)
    if (strcmp(reg->paths[i], dir) == 0)
      return KEEL_OK;
  return keel_registry_add_path(reg, dir, err);
}

int keel_registry_add_default_paths(keel_registry *reg, keel_error *err)
{
  /* The built-in folder beside the binary (base/install_layout.h): the
   * build tree's plugins-out/ or PREFIX/lib/keel/plugins, never a prefix
   * compiled in. */
  char *dir = NULL;
  int rc = keel_install_dir(KEEL_INSTALL_PLUGINS, &dir, err);
  if (!rc && dir)
    rc = add_optional(reg, dir, err);
  free(dir);
  return rc;
}

static int ends_with_so(const char *name)
{
  size_t n = strlen(name);
  return n > 3 && strcmp(name + n - 3, ".so") == 0;
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .so files of a folder in byte order (never locale order). */
static int list_dir(const char *dir, char ***files, size_t *n, keel_error *err)
{
  *files = NULL;
  *n = 0;
  DIR *d = opendir(dir);
  if (!d)
    return keel_fail(err, KEEL_EIO, "%s: cannot read plugin folder: %s", dir,
                     strerror(errno));
  struct dirent *e;
  int rc = KEEL_OK;
  while ((e = readdir(d)) != NULL) {
    if (!ends_with_so(e->d_name))
      continue;
    char **grown = realloc(*files, (*n + 1) * sizeof *grown);
    size_t len = strlen(dir) + strlen(e->d_name) + 2;
    char *path = malloc(len);
    if (!grown || !path) {
      free(path);
      if (grown)
        *files = grown;
      rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
      break;
    }
    *files = grown;
    snprintf(path, len, "%s/%s", dir, e->d_name);
    (*files)[(*n)++] = path;
  }
  closedir(d);
  if (*n)
    qsort(*files, *n, sizeof **files, cmp_str);
  return rc;
}

static keel_loaded_plugin *find_plugin(const keel_registry *reg, int kind,
                                       const char *name)
{
  for (size_t i = 0; i < reg->n_plugins; i++)
    if ((int)reg->plugins[i]->desc.kind == kind &&
        strcmp(reg->plugins[i]->desc.name, name) == 0)
      return reg->plugins[i];
  return NULL;
}

/* Records a refused file. who (may be NULL) is what its descriptor said
 * of itself; otherwise the file name stands for its name. */
static int add_broken(keel_registry *reg, const char *path, const identity *who,
                      const char *reason, const char *entry, keel_error *err)
{
  for (size_t i = 0; i < reg->n_broken; i++)
    if (strcmp(reg->broken[i].path, path) == 0)
      return KEEL_OK; /* met again (a second scan) */
  keel_broken_plugin *grown =
      realloc(reg->broken, (reg->n_broken + 1) * sizeof *grown);
  if (!grown)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  reg->broken = grown;
  keel_broken_plugin *b = &reg->broken[reg->n_broken];
  memset(b, 0, sizeof *b);
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  b->path = strdup(path);
  b->reason = strdup(reason);
  if (who && who->name[0]) {
    b->name = strdup(who->name);
    b->kind = who->kind;
  } else {
    size_t n = strlen(base);
    b->name = strndup(base, ends_with_so(base) ? n - 3 : n);
  }
  b->search_entry = entry;
  reg->n_broken++; /* freed by keel_registry_destroy even when partial */
  if (!b->path || !b->reason || !b->name)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  return KEEL_OK;
}

static int add_shadowed(keel_registry *reg, keel_loaded_plugin *p,
                        const keel_loaded_plugin *by, const char *entry,
                        keel_error *err)
{
  for (size_t i = 0; i < reg->n_shadowed; i++)
    if (strcmp(reg->shadowed[i]->path, p->path) == 0) {
      keel_loaded_plugin_free(p); /* met again (a second scan) */
      return KEEL_OK;
    }
  keel_loaded_plugin **grown =
      realloc(reg->shadowed, (reg->n_shadowed + 1) * sizeof *grown);
  if (!grown) {
    keel_loaded_plugin_free(p);
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  }
  reg->shadowed = grown;
  p->search_entry = entry;
  p->shadowed_by = by;
  reg->shadowed[reg->n_shadowed++] = p;
  return KEEL_OK;
}

/* Adds p unless an earlier search entry already gave this kind and name
 * (then p is shadowed); a second one in the same entry is broken. Takes
 * ownership of p. */
static int register_plugin(keel_registry *reg, keel_loaded_plugin *p,
                           const char *entry, keel_error *err)
{
  keel_loaded_plugin *prev = find_plugin(reg, (int)p->desc.kind, p->desc.name);
  if (prev && strcmp(prev->path, p->path) == 0) {
    /* The very same file again (an entry listed twice, a second scan). */
    keel_loaded_plugin_free(p);
    return KEEL_OK;
  }
  if (prev && strcmp(prev->search_entry, entry) == 0) {
    keel_error why = {0};
    keel_fail(&why, KEEL_EPLUGIN,
              "%s: two %s plugins named '%s' in %s (the other is %s)", p->path,
              keel_kind_name((int)p->desc.kind), p->desc.name, entry,
              prev->path);
    identity who = {(int)p->desc.kind, ""};
    snprintf(who.name, sizeof who.name, "%s", p->desc.name);
    int rc = add_broken(reg, p->path, &who, why.message, entry, err);
    keel_loaded_plugin_free(p);
    return rc;
  }
  if (prev) /* shadowed by an earlier entry, like PATH */
    return add_shadowed(reg, p, prev, entry, err);
  keel_loaded_plugin **grown =
      realloc(reg->plugins, (reg->n_plugins + 1) * sizeof *grown);
  if (!grown) {
    keel_loaded_plugin_free(p);
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  }
  reg->plugins = grown;
  p->search_entry = entry;
  reg->plugins[reg->n_plugins++] = p;
  return KEEL_OK;
}

static int cmp_plugin(const void *a, const void *b)
{
  const keel_loaded_plugin *x = *(keel_loaded_plugin *const *)a;
  const keel_loaded_plugin *y = *(keel_loaded_plugin *const *)b;
  if (x->desc.kind != y->desc.kind)
    return x->desc.kind < y->desc.kind ? -1 : 1;
  return strcmp(x->desc.name, y->desc.name);
}

/* What the scanner (or the cache) says of one file: an accepted plugin,
 * only listed (api NULL), or a refusal in why with the identity its
 * descriptor gave. The file checks, the realpath and the hash are the
 * host's own; no code of the file runs in this process. */
static int scan_file(keel_registry_cache *cache, const char *path,
                     keel_loaded_plugin **out, identity *who, keel_error *why)
{
  *out = NULL;
  int rc = check_file(path, why);
  if (rc)
    return rc;
  struct stat st = {0};
  char sha[65];
  char *real = realpath(path, NULL);
  if (!real)
    return keel_fail(why, KEEL_EIO, "%s: %s", path, strerror(errno));
  if (stat(real, &st) != 0)
    rc = keel_fail(why, KEEL_EIO, "%s: %s", path, strerror(errno));
  if (!rc)
    rc = keel_sha256_file(real, sha, NULL, why);
  int64_t mtime = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
  json_t *facts = NULL;
  if (!rc) {
    const json_t *known =
        cache ? keel_registry_cache_get(cache, real, (int64_t)st.st_size, mtime,
                                        sha)
              : NULL;
    if (known) {
      facts = json_incref((json_t *)known);
    } else {
      rc = keel_plugin_scan_file(path, &facts, why);
      /* a scan stopped at its deadline says nothing lasting of the file */
      if (!rc && cache && !json_is_true(json_object_get(facts, "timed_out")))
        keel_registry_cache_put(cache, real, (int64_t)st.st_size, mtime, sha,
                                facts);
    }
  }
  if (!rc && json_is_true(json_object_get(facts, "ok"))) {
    if (!(*out = keel_plugin_from_facts(facts, real, sha)))
      rc = keel_fail(why, KEEL_EPLUGIN,
                     "%s: the plugin registry's record of it is malformed; "
                     "remove the registry cache",
                     path);
  } else if (!rc) {
    const char *reason = json_string_value(json_object_get(facts, "reason"));
    const char *name = json_string_value(json_object_get(facts, "name"));
    json_int_t kind = json_integer_value(json_object_get(facts, "kind"));
    if (name && keel_kind_name((int)kind) && valid_plugin_name(name)) {
      who->kind = (int)kind;
      snprintf(who->name, sizeof who->name, "%s", name);
    }
    rc = keel_fail(why, KEEL_EPLUGIN, "%s",
                   reason ? reason : "refused by the plugin scanner");
  }
  json_decref(facts);
  free(real);
  return rc;
}

int keel_registry_scan(keel_registry *reg, keel_error *err)
{
  int rc = KEEL_OK;
  keel_registry_cache *cache = keel_registry_cache_open();
  for (size_t i = 0; i < reg->n_paths && !rc; i++) {
    const char *entry = reg->paths[i];
    char **files = NULL;
    size_t n = 0;
    struct stat st;
    if (is_dir(entry)) {
      rc = list_dir(entry, &files, &n, err);
    } else if (stat(entry, &st) != 0) {
      /* a missing entry is a mistake in the path, not a broken plugin */
      rc = keel_fail(err, errno == ENOENT ? KEEL_ENOTFOUND : KEEL_EIO,
                     "%s: cannot access plugin: %s", entry, strerror(errno));
    } else {
      files = malloc(sizeof *files);
      if (!files || !(files[0] = strdup(entry)))
        rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
      else
        n = 1;
    }
    for (size_t f = 0; f < n && !rc; f++) {
      keel_loaded_plugin *p = NULL;
      identity who = {0, ""};
      keel_error why = {0};
      int lrc = scan_file(cache, files[f], &p, &who, &why);
      if (lrc == KEEL_ENOMEM)
        rc = keel_fail(err, lrc, "%s", why.message);
      else if (lrc)
        rc = add_broken(reg, files[f], &who, why.message, entry, err);
      else
        rc = register_plugin(reg, p, entry, err);
    }
    for (size_t f = 0; f < n; f++)
      free(files[f]);
    free(files);
  }
  keel_registry_cache_save(cache);
  keel_registry_cache_close(cache);
  if (reg->n_plugins)
    qsort(reg->plugins, reg->n_plugins, sizeof *reg->plugins, cmp_plugin);
  return rc;
}

/* Loads a scanned plugin into this process: the same checks again (now on
 * the live descriptor), and the file must be the one scanned. On success
 * p takes the live descriptor and the host's table copy. */
static int load_scanned(keel_loaded_plugin *p, identity *who, keel_error *why)
{
  keel_loaded_plugin *live = NULL;
  int rc = load_file(p->path, &live, who, why);
  if (rc)
    return rc;
  if (strcmp(live->sha256, p->sha256) != 0) {
    keel_loaded_plugin_free(live);
    return keel_fail(why, KEEL_EPLUGIN,
                     "%s: the file changed after the plugin scan (SHA-256 %s, "
                     "scanned %s); run the command again",
                     p->path, live->sha256, p->sha256);
  }
  p->desc = live->desc;
  p->api = live->api;
  live->api = NULL;
  keel_loaded_plugin_free(live);
  return KEEL_OK;
}

const keel_loaded_plugin *keel_registry_find(const keel_registry *reg,
                                             keel_kind kind, const char *name)
{
  keel_loaded_plugin *p = find_plugin(reg, (int)kind, name);
  if (!p || p->api)
    return p;
  /* Loading on first use is the registry's cache of live plugins, not a
   * change a caller can see: the same plugin is found either way. */
  keel_registry *r = (keel_registry *)reg;
  identity who = {0, ""};
  keel_error why = {0}, e2 = {0};
  if (load_scanned(p, &who, &why) == KEEL_OK)
    return p;
  /* Refused now: recorded as broken in its place, so the caller's
   * keel_registry_find_broken names the reason. */
  add_broken(r, p->path, &who, why.message, p->search_entry, &e2);
  for (size_t i = 0; i < r->n_plugins; i++)
    if (r->plugins[i] == p) {
      memmove(&r->plugins[i], &r->plugins[i + 1],
              (r->n_plugins - i - 1) * sizeof *r->plugins);
      r->n_plugins--;
      break;
    }
  /* Kept until the registry goes: shadowed entries may point at it. */
  keel_loaded_plugin **grown =
      realloc(r->retired, (r->n_retired + 1) * sizeof *grown);
  if (grown) {
    r->retired = grown;
    r->retired[r->n_retired++] = p;
  }
  return NULL;
}

size_t keel_registry_count(const keel_registry *reg)
{
  return reg->n_plugins;
}

const keel_loaded_plugin *keel_registry_at(const keel_registry *reg,
                                           size_t index)
{
  return index < reg->n_plugins ? reg->plugins[index] : NULL;
}

size_t keel_registry_broken_count(const keel_registry *reg)
{
  return reg->n_broken;
}

const keel_broken_plugin *keel_registry_broken_at(const keel_registry *reg,
                                                  size_t index)
{
  return index < reg->n_broken ? &reg->broken[index] : NULL;
}

static size_t entry_index(const keel_registry *reg, const char *entry)
{
  for (size_t i = 0; i < reg->n_paths; i++)
    if (reg->paths[i] == entry)
      return i;
  return reg->n_paths;
}

static const char *file_stem(const char *path, char *buf, size_t size)
{
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t n = strlen(base);
  snprintf(buf, size, "%.*s", (int)(ends_with_so(base) ? n - 3 : n), base);
  return buf;
}

const keel_broken_plugin *
keel_registry_find_broken(const keel_registry *reg, int kind, const char *name,
                          const keel_loaded_plugin *found)
{
  size_t limit = found ? entry_index(reg, found->search_entry) : reg->n_paths;
  char stem[PATH_MAX];
  for (size_t i = 0; i < reg->n_broken; i++) {
    const keel_broken_plugin *b = &reg->broken[i];
    if (kind && b->kind && b->kind != kind)
      continue;
    if (strcmp(b->name, name) != 0 &&
        strcmp(file_stem(b->path, stem, sizeof stem), name) != 0)
      continue;
    if (entry_index(reg, b->search_entry) <= limit)
      return b;
  }
  return NULL;
}

size_t keel_registry_shadowed_count(const keel_registry *reg)
{
  return reg->n_shadowed;
}

const keel_loaded_plugin *keel_registry_shadowed_at(const keel_registry *reg,
                                                    size_t index)
{
  return index < reg->n_shadowed ? reg->shadowed[index] : NULL;
}

size_t keel_registry_path_count(const keel_registry *reg)
{
  return reg->n_paths;
}

const char *keel_registry_path_at(const keel_registry *reg, size_t index)
{
  return index < reg->n_paths ? reg->paths[index] : NULL;
}
