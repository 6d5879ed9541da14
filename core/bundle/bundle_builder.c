/* The bundle builder: a run's entries collected as the run goes (bytes,
 * files, JSON, the configuration, .npy arrays), the plugins that ran and
 * the audit events; run ids. Each entry is handed to the worker
 * (bundle_worker.c) as it is added; bundle_seal.c writes the bundle. */
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/npy.h"
#include "base/status.h"
#include "bundle/bundle_name.h"
#include "bundle/bundle_write_internal.h"
#include "bundle/envinfo.h"

static void *capture_env_thread(void *arg)
{
  keel_bundle_builder *b = arg;
  b->env_captured = keel_envinfo_capture();
  return NULL;
}

/* Joins the capture thread (if any) and returns its result, or captures
 * now. New reference or NULL. */
json_t *keel__bundle_take_environment(keel_bundle_builder *b)
{
  json_t *env;
  if (b->env_thread_started) {
    pthread_join(b->env_thread, NULL);
    b->env_thread_started = 0;
  }
  env = b->env_captured ? b->env_captured : keel_envinfo_capture();
  b->env_captured = NULL;
  return env;
}

/* Names the builder writes itself. */
static const char *const generated_names[] = {
    "run.json",  "digest.txt",   "SHA256SUMS",  "SIGNATURE",
    "README.md", "plugins.json", "audit.jsonl", NULL};

/* ---- small helpers ------------------------------------------------------ */

void keel__bundle_iso_time(const struct timespec *ts, char out[32])
{
  struct tm tm;
  char base[24];
  gmtime_r(&ts->tv_sec, &tm);
  strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, 32, "%.19s.%03dZ", base, (int)(ts->tv_nsec / 1000000L % 1000));
}

static int safe_id(const char *s)
{
  if (!s || !*s || strlen(s) > 100 || s[0] == '.')
    return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
          (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
      return 0;
  return 1;
}

/* The reader's rule (bundle_name.h: relative, canonical, printable) and
 * two of the writer's own: room for the run id in front of the name (the
 * reader limits the whole path), and a file's name, not a folder's. */
static int valid_name(const char *name)
{
  size_t len = strlen(name);
  return len > 0 && len <= KEEL__BUNDLE_NAME_MAX && name[len - 1] != '/' &&
         !keel__bundle_name_problem(name);
}

keel__bundle_entry *keel__bundle_find_entry(keel_bundle_builder *b,
                                            const char *name)
{
  for (size_t i = 0; i < b->n; i++)
    if (strcmp(b->entries[i].name, name) == 0)
      return &b->entries[i];
  return NULL;
}

/* Adds entry NAME whose bytes are data[0..n), or are to be made from
 * json or read from path (and checked against expect): exactly one of
 * them, owned from now on, freed on failure too. */
static int add_entry(keel_bundle_builder *b, const char *name,
                     unsigned char *data, size_t n, json_t *json, char *path,
                     const char *expect, keel_error *err)
{
  keel__bundle_job *j = NULL;
  char *copy = NULL;
  int rc;
  if (!valid_name(name)) {
    rc = keel_fail(err, KEEL_EINVAL,
                   "bundle entry '%s': not a relative, canonical name", name);
    goto fail;
  }
  if (keel__bundle_find_entry(b, name)) {
    rc = keel_fail(err, KEEL_EINVAL, "bundle entry '%s' added twice", name);
    goto fail;
  }
  if (b->n == b->cap) {
    size_t cap = b->cap ? 2 * b->cap : 32;
    keel__bundle_entry *grown = realloc(b->entries, cap * sizeof *grown);
    if (!grown)
      goto oom;
    b->entries = grown;
    b->cap = cap;
  }
  copy = strdup(name);
  j = calloc(1, sizeof *j);
  if (!copy || !j || (!data && !json && !path))
    goto oom;
  j->run_id = b->run_id;
  j->name = copy;
  j->data = data;
  j->size = n;
  j->json = json;
  j->path = path;
  if (expect)
    snprintf(j->expect, sizeof j->expect, "%s", expect);
  j->state = KEEL__JOB_PENDING;
  b->entries[b->n].name = copy;
  b->entries[b->n].job = j;
  b->n++;
  keel__bundle_queue_job(b, j);
  return 0;
oom:
  rc = keel_fail(err, KEEL_ENOMEM, "bundle entry '%s': out of memory", name);
fail:
  free(copy);
  free(j);
  free(data);
  json_decref(json);
  free(path);
  return rc;
}

int keel__bundle_put_entry(keel_bundle_builder *b, const char *name,
                           unsigned char *data, size_t n, keel_error *err)
{
  return add_entry(b, name, data, n, NULL, NULL, NULL, err);
}

static int user_name_check(keel_bundle_builder *b, const char *name,
                           keel_error *err)
{
  if (!b || b->sealed)
    return keel_fail(err, KEEL_EINVAL, "bundle: builder already sealed");
  for (size_t i = 0; generated_names[i]; i++)
    if (strcmp(name, generated_names[i]) == 0)
      return keel_fail(err, KEEL_EINVAL,
                       "bundle entry '%s' is written by the sealer", name);
  return 0;
}

/* ---- run ids and the builder -------------------------------------------- */

char *keel_new_run_id(void)
{
  struct timespec ts;
  struct tm tm;
  unsigned char rnd[4];
  char stamp[16], *id = malloc(48);
  if (!id)
    return NULL;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
  if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
    /* No entropy: fall back to pid and nanoseconds, still unique enough
     * to never collide with a concurrent run of this process. */
    unsigned v = (unsigned)getpid() ^ (unsigned)ts.tv_nsec;
    memcpy(rnd, &v, sizeof rnd);
  }
  snprintf(id, 48, "keel-run-%.15s.%03dZ-%02x%02x%02x%02x", stamp,
           (int)(ts.tv_nsec / 1000000L % 1000), rnd[0], rnd[1], rnd[2], rnd[3]);
  return id;
}

keel_bundle_builder *keel_bundle_builder_new(const char *run_id)
{
  keel_bundle_builder *b;
  if (!safe_id(run_id))
    return NULL;
  b = calloc(1, sizeof *b);
  if (!b)
    return NULL;
  b->run_id = strdup(run_id);
  b->plugins = json_array();
  b->audit = json_array();
  b->info = json_object();
  if (!b->run_id || !b->plugins || !b->audit || !b->info) {
    keel_bundle_builder_free(b);
    return NULL;
  }
  clock_gettime(CLOCK_REALTIME, &b->start_real);
  clock_gettime(CLOCK_MONOTONIC, &b->start_mono);
  getrusage(RUSAGE_SELF, &b->start_usage);
  keel__bundle_worker_init(b);
  b->env_thread_started =
      pthread_create(&b->env_thread, NULL, capture_env_thread, b) == 0;
  return b;
}

void keel_bundle_builder_free(keel_bundle_builder *b)
{
  if (!b)
    return;
  if (b->env_thread_started)
    pthread_join(b->env_thread, NULL);
  keel__bundle_worker_free(b);
  json_decref(b->env_captured);
  for (size_t i = 0; i < b->n; i++) {
    free(b->entries[i].name);
    keel__bundle_job_free(b->entries[i].job);
  }
  free(b->entries);
  json_decref(b->plugins);
  json_decref(b->audit);
  json_decref(b->info);
  free(b->error);
  free(b->status);
  free(b->run_id);
  free(b);
}

int keel_bundle_add_bytes(keel_bundle_builder *b, const char *name,
                          const void *data, size_t n, keel_error *err)
{
  unsigned char *copy;
  int rc = user_name_check(b, name, err);
  if (rc)
    return rc;
  copy = malloc(n ? n : 1);
  if (!copy)
    return keel_fail(err, KEEL_ENOMEM, "bundle entry '%s': out of memory",
                     name);
  if (n)
    memcpy(copy, data, n);
  return keel__bundle_put_entry(b, name, copy, n, err);
}

int keel_bundle_add_file(keel_bundle_builder *b, const char *name,
                         const char *path, keel_error *err)
{
  unsigned char *data;
  size_t n;
  int rc = user_name_check(b, name, err);
  if (rc)
    return rc;
  rc = keel_read_file(path, &data, &n, err);
  if (rc)
    return rc;
  return keel__bundle_put_entry(b, name, data, n, err);
}

char *keel__bundle_json_text(const json_t *json)
{
  char *s = json_dumps(json, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
                                 JSON_REAL_PRECISION(17) | JSON_ENCODE_ANY);
  char *t;
  size_t n;
  if (!s)
    return NULL;
  n = strlen(s);
  t = realloc(s, n + 2);
  if (!t) {
    free(s);
    return NULL;
  }
  t[n] = '\n';
  t[n + 1] = '\0';
  return t;
}

int keel_bundle_add_json(keel_bundle_builder *b, const char *name,
                         const json_t *json, keel_error *err)
{
  json_t *copy;
  int rc = user_name_check(b, name, err);
  if (rc)
    return rc;
  /* Serialized by the worker, from a copy: json may change after this
   * call returns, and copying costs a fraction of encoding. */
  copy = json_deep_copy(json);
  if (!copy)
    return keel_fail(err, KEEL_ENOMEM, "bundle entry '%s': cannot copy JSON",
                     name);
  return add_entry(b, name, NULL, 0, copy, NULL, NULL, err);
}

int keel_bundle_add_config(keel_bundle_builder *b, const json_t *full,
                           const json_t *values, keel_error *err)
{
  int rc = keel_bundle_add_json(b, "config_full.json", full, err);
  return rc ? rc : keel_bundle_add_json(b, "config.json", values, err);
}

/* The .npy bytes come from keel_npy_encode (npy.h), the writer every other
 * .npy of keel goes through. */
static int add_npy(keel_bundle_builder *b, const char *name, const void *data,
                   keel_npy_dtype dtype, const size_t *shape, size_t ndim,
                   keel_error *err)
{
  void *buf;
  size_t total;
  int rc = user_name_check(b, name, err);
  if (rc)
    return rc;
  if (ndim < 1 || ndim > KEEL_NPY_MAX_DIMS)
    return keel_fail(err, KEEL_EINVAL, "%s: npy rank %zu not in 1..%d", name,
                     ndim, KEEL_NPY_MAX_DIMS);
  rc = keel_npy_encode(dtype, data, ndim, shape, &buf, &total, err);
  if (rc) {
    keel_error_prefix(err, "bundle entry '%s'", name);
    return rc;
  }
  return keel__bundle_put_entry(b, name, buf, total, err);
}

int keel_bundle_add_npy_f32(keel_bundle_builder *b, const char *name,
                            const float *data, const size_t *shape, size_t ndim,
                            keel_error *err)
{
  return add_npy(b, name, data, KEEL_NPY_F32, shape, ndim, err);
}

int keel_bundle_add_npy_f64(keel_bundle_builder *b, const char *name,
                            const double *data, const size_t *shape,
                            size_t ndim, keel_error *err)
{
  return add_npy(b, name, data, KEEL_NPY_F64, shape, ndim, err);
}

/* The user name, looked up once per builder: a passwd lookup reads
 * /etc/passwd (or asks NSS), and every audit event names the user. */
const char *keel__bundle_current_user(keel_bundle_builder *b)
{
  struct passwd pw, *res = NULL;
  char tmp[1024];
  const char *env;
  if (b->user[0])
    return b->user;
  env = getenv("USER");
  if (getpwuid_r(geteuid(), &pw, tmp, sizeof tmp, &res) == 0 && res)
    snprintf(b->user, sizeof b->user, "%s", pw.pw_name);
  else
    snprintf(b->user, sizeof b->user, "%s", env && *env ? env : "unknown");
  return b->user;
}

int keel_bundle_audit(keel_bundle_builder *b, const char *action,
                      const char *object, const char *sha256, keel_error *err)
{
  struct timespec ts;
  char when[32];
  json_t *ev = json_object();
  if (!ev)
    return keel_fail(err, KEEL_ENOMEM, "audit: out of memory");
  clock_gettime(CLOCK_REALTIME, &ts);
  keel__bundle_iso_time(&ts, when);
  json_object_set_new(ev, "seq",
                      json_integer((json_int_t)json_array_size(b->audit) + 1));
  json_object_set_new(ev, "time", json_string(when));
  json_object_set_new(ev, "user", json_string(keel__bundle_current_user(b)));
  json_object_set_new(ev, "action", json_string(action ? action : ""));
  json_object_set_new(ev, "object", json_string(object ? object : ""));
  json_object_set_new(ev, "sha256", sha256 ? json_string(sha256) : json_null());
  if (json_array_append_new(b->audit, ev))
    return keel_fail(err, KEEL_ENOMEM, "audit: out of memory");
  return 0;
}

int keel_bundle_add_plugin(keel_bundle_builder *b, const char *kind,
                           const char *name, const char *version,
                           const char *abi, const char *path,
                           const char sha256[65], int include_so,
                           keel_error *err)
{
  char file[KEEL__BUNDLE_NAME_MAX + 1];
  json_t *p;
  int rc;
  if (!safe_id(kind) || !safe_id(name) || !safe_id(version))
    return keel_fail(err, KEEL_EINVAL,
                     "bundle: plugin %s '%s' version '%s' has a name unfit "
                     "for a file name",
                     kind ? kind : "?", name ? name : "?",
                     version ? version : "?");
  if ((size_t)snprintf(file, sizeof file, "plugins/%s-%s-%s.so", kind, name,
                       version) >= sizeof file)
    return keel_fail(err, KEEL_EINVAL,
                     "bundle: plugin file name for %s '%s' "
                     "is too long",
                     kind, name);
  if (include_so) {
    /* Read and checked against sha256 by the worker; a plugin that
     * changed on disk since it was loaded fails the seal. */
    if (!path)
      return keel_fail(err, KEEL_EINVAL,
                       "bundle: %s '%s' has no file to "
                       "bundle (no path given)",
                       kind, name);
    char *copy = strdup(path);
    if (!copy)
      return keel_fail(err, KEEL_ENOMEM,
                       "bundle: out of memory copying the "
                       "path of %s '%s'",
                       kind, name);
    rc = add_entry(b, file, NULL, 0, NULL, copy, sha256, err);
    if (rc)
      return rc;
  }
  p = json_object();
  json_object_set_new(p, "name", json_string(name));
  json_object_set_new(p, "kind", json_string(kind));
  json_object_set_new(p, "version", json_string(version));
  json_object_set_new(p, "abi", json_string(abi ? abi : ""));
  json_object_set_new(p, "sha256", json_string(sha256));
  json_object_set_new(p, "file", json_string(file));
  if (json_array_append_new(b->plugins, p))
    return keel_fail(err, KEEL_ENOMEM, "bundle: out of memory");
  return keel_bundle_audit(b, "plugin_loaded", path, sha256, err);
}

int keel_bundle_set_info(keel_bundle_builder *b, const char *key,
                         const char *value, keel_error *err)
{
  if (json_object_set_new(b->info, key, json_string(value ? value : "")))
    return keel_fail(err, KEEL_EINVAL, "run.json: bad value for '%s'", key);
  return 0;
}

int keel_bundle_set_info_json(keel_bundle_builder *b, const char *key,
                              json_t *value, keel_error *err)
{
  if (!value || json_object_set_new(b->info, key, value))
    return keel_fail(err, KEEL_EINVAL, "run.json: bad value for '%s'", key);
  return 0;
}

void keel_bundle_set_outcome(keel_bundle_builder *b, int exit_code,
                             const char *error, int threads)
{
  b->exit_code = exit_code;
  free(b->error);
  b->error = error ? strdup(error) : NULL;
  b->threads = threads;
}

int keel_bundle_set_status(keel_bundle_builder *b, const char *status,
                           keel_error *err)
{
  char *copy = strdup(status);
  if (!copy)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  free(b->status);
  b->status = copy;
  return KEEL_OK;
}
