/* The bundle builder: collects entries in memory, seals them into one
 * deterministic tar.gz, atomically. */
#include "bundle.h"
#include "sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "envinfo.h"
#include "fsutil.h"
#include "sign.h"
#include "status.h"

#define BUNDLE_FORMAT "keel-bundle/1"
#define NAME_MAX_LEN 200

typedef struct bentry {
  char *name;
  unsigned char *data;
  size_t size;
} bentry;

struct keel_bundle_builder {
  char *run_id;
  bentry *entries;
  size_t n, cap;
  json_t *plugins; /* array for plugins.json */
  json_t *audit;   /* array of events */
  json_t *info;    /* extra run.json strings */
  int exit_code;
  char *error;
  int threads;
  int sealed;
  struct timespec start_real, start_mono;
  struct rusage start_usage;
  /* The environment is captured on a thread started with the builder, so
   * the ~30 ms of dpkg-query and /proc reads overlap the run instead of
   * adding to the seal. */
  pthread_t env_thread;
  int env_thread_started;
  json_t *env_captured;
};

static void *capture_env_thread(void *arg)
{
  keel_bundle_builder *b = arg;
  b->env_captured = keel_envinfo_capture(0);
  return NULL;
}

/* Joins the capture thread (if any) and returns its result, or captures
 * now. The run's thread count is filled in here. New reference or NULL. */
static json_t *take_environment(keel_bundle_builder *b)
{
  json_t *env;
  if (b->env_thread_started) {
    pthread_join(b->env_thread, NULL);
    b->env_thread_started = 0;
  }
  env = b->env_captured ? b->env_captured : keel_envinfo_capture(b->threads);
  b->env_captured = NULL;
  if (env)
    json_object_set_new(json_object_get(env, "threads"), "run",
                        json_integer(b->threads));
  return env;
}

/* Names the builder writes itself. */
static const char *const generated_names[] = {
    "run.json",   "digest.txt",   "SHA256SUMS", "SIGNATURE",
    "README.md",  "plugins.json", "audit.jsonl", NULL};

/* ---- small helpers ------------------------------------------------------ */

static void iso_time(const struct timespec *ts, char out[32])
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

/* Same rules the reader applies: relative, canonical, printable. */
static int valid_name(const char *name)
{
  size_t len = strlen(name);
  const char *p = name;
  if (len == 0 || len > NAME_MAX_LEN || name[0] == '/' || name[len - 1] == '/')
    return 0;
  for (const char *c = name; *c; c++)
    if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == '\\')
      return 0;
  while (*p) {
    const char *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    if (n == 0 || (n == 1 && p[0] == '.') ||
        (n == 2 && p[0] == '.' && p[1] == '.'))
      return 0;
    p += n;
    if (*p == '/')
      p++;
  }
  return 1;
}

static bentry *find_entry(keel_bundle_builder *b, const char *name)
{
  for (size_t i = 0; i < b->n; i++)
    if (strcmp(b->entries[i].name, name) == 0)
      return &b->entries[i];
  return NULL;
}

/* Adds an entry taking ownership of data (freed on failure too). */
static int put_entry(keel_bundle_builder *b, const char *name,
                     unsigned char *data, size_t n, keel_error *err)
{
  char *copy;
  if (!valid_name(name)) {
    free(data);
    return keel_fail(err, KEEL_EINVAL,
                     "bundle entry '%s': not a relative, canonical name", name);
  }
  if (find_entry(b, name)) {
    free(data);
    return keel_fail(err, KEEL_EINVAL, "bundle entry '%s' added twice", name);
  }
  if (b->n == b->cap) {
    size_t cap = b->cap ? 2 * b->cap : 32;
    bentry *grown = realloc(b->entries, cap * sizeof *grown);
    if (!grown) {
      free(data);
      return keel_fail(err, KEEL_ENOMEM, "bundle: out of memory");
    }
    b->entries = grown;
    b->cap = cap;
  }
  copy = strdup(name);
  if (!copy) {
    free(data);
    return keel_fail(err, KEEL_ENOMEM, "bundle: out of memory");
  }
  b->entries[b->n].name = copy;
  b->entries[b->n].data = data;
  b->entries[b->n].size = n;
  b->n++;
  return 0;
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
           (int)(ts.tv_nsec / 1000000L % 1000), rnd[0], rnd[1], rnd[2],
           rnd[3]);
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
  json_decref(b->env_captured);
  for (size_t i = 0; i < b->n; i++) {
    free(b->entries[i].name);
    free(b->entries[i].data);
  }
  free(b->entries);
  json_decref(b->plugins);
  json_decref(b->audit);
  json_decref(b->info);
  free(b->error);
  free(b->run_id);
  free(b);
}

const char *keel_bundle_builder_run_id(const keel_bundle_builder *b)
{
  return b->run_id;
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
  return put_entry(b, name, copy, n, err);
}

static int read_whole_file(const char *path, unsigned char **out, size_t *n,
                           keel_error *err)
{
  FILE *f = fopen(path, "rb");
  unsigned char *buf = NULL;
  size_t len = 0, cap = 0;
  if (!f)
    return keel_fail(err, errno == ENOENT ? KEEL_ENOTFOUND : KEEL_EIO,
                     "%s: cannot open: %s", path, strerror(errno));
  for (;;) {
    size_t got;
    if (len == cap) {
      size_t ncap = cap ? 2 * cap : 65536;
      unsigned char *grown = realloc(buf, ncap);
      if (!grown) {
        free(buf);
        fclose(f);
        return keel_fail(err, KEEL_ENOMEM, "%s: out of memory", path);
      }
      buf = grown;
      cap = ncap;
    }
    got = fread(buf + len, 1, cap - len, f);
    len += got;
    if (got == 0)
      break;
  }
  if (ferror(f)) {
    free(buf);
    fclose(f);
    return keel_fail(err, KEEL_EIO, "%s: read error", path);
  }
  fclose(f);
  *out = buf;
  *n = len;
  return 0;
}

int keel_bundle_add_file(keel_bundle_builder *b, const char *name,
                         const char *path, keel_error *err)
{
  unsigned char *data;
  size_t n;
  int rc = user_name_check(b, name, err);
  if (rc)
    return rc;
  rc = read_whole_file(path, &data, &n, err);
  if (rc)
    return rc;
  return put_entry(b, name, data, n, err);
}

static char *json_text(const json_t *json)
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
  char *text;
  int rc = user_name_check(b, name, err);
  if (rc)
    return rc;
  text = json_text(json);
  if (!text)
    return keel_fail(err, KEEL_ENOMEM, "bundle entry '%s': cannot encode JSON",
                     name);
  return put_entry(b, name, (unsigned char *)text, strlen(text), err);
}

void keel_bundle_config_strip(json_t *cfg)
{
  json_t *stages = json_object_get(cfg, "stages");
  json_t *ovr = json_object_get(cfg, "overrides");
  json_t *st;
  size_t i;
  json_object_del(cfg, "manifest");
  json_object_del(json_object_get(cfg, "template"), "path");
  json_array_foreach(stages, i, st) {
    json_t *params = json_object_get(st, "params");
    const char *section = json_string_value(json_object_get(st, "section"));
    json_object_del(json_object_get(st, "plugin"), "path");
    json_object_del(st, "line");
    for (size_t k = json_array_size(params); k-- > 0;) {
      json_t *p = json_array_get(params, k);
      const char *name = json_string_value(json_object_get(p, "name"));
      json_object_del(p, "where");
      if (section && name && strcmp(section, "train") == 0 &&
          strcmp(name, "threads") == 0)
        json_array_remove(params, k);
    }
  }
  for (size_t k = json_array_size(ovr); k-- > 0;) {
    const char *o = json_string_value(json_array_get(ovr, k));
    if (o && strncmp(o, "train.threads=", 14) == 0)
      json_array_remove(ovr, k);
  }
}

int keel_bundle_add_config(keel_bundle_builder *b, const json_t *cfg,
                           keel_error *err)
{
  json_t *copy;
  int rc = keel_bundle_add_json(b, "config_full.json", cfg, err);
  if (rc)
    return rc;
  copy = json_deep_copy(cfg);
  if (!copy)
    return keel_fail(err, KEEL_ENOMEM, "config.json: out of memory");
  keel_bundle_config_strip(copy);
  rc = keel_bundle_add_json(b, "config.json", copy, err);
  json_decref(copy);
  return rc;
}

/* .npy v1.0: magic, version, header length, a Python dict literal padded
 * with spaces to a multiple of 64 bytes and ended by '\n', then the data. */
static int add_npy(keel_bundle_builder *b, const char *name, const void *data,
                   size_t elem, const char *descr, const size_t *shape,
                   size_t ndim, keel_error *err)
{
  char header[512], dims[256] = "";
  size_t count = 1, hlen, total, dl = 0;
  unsigned char *buf;
  const unsigned one = 1;
  int rc = user_name_check(b, name, err);
  if (rc)
    return rc;
  if (ndim < 1 || ndim > 8)
    return keel_fail(err, KEEL_EINVAL, "%s: npy rank %zu not in 1..8", name,
                     ndim);
  for (size_t i = 0; i < ndim; i++) {
    if (shape[i] && count > SIZE_MAX / elem / shape[i])
      return keel_fail(err, KEEL_ERANGE, "%s: array too large", name);
    count *= shape[i];
    dl += (size_t)snprintf(dims + dl, sizeof dims - dl, "%zu,%s", shape[i],
                           (i + 1 < ndim) ? " " : "");
  }
  if (ndim > 1)
    dims[dl - 1] = '\0'; /* "(2, 3)" but "(3,)" */
  hlen = (size_t)snprintf(header, sizeof header,
                          "{'descr': '%s', 'fortran_order': False, "
                          "'shape': (%s), }",
                          descr, dims);
  while ((10 + hlen + 1) % 64 != 0)
    header[hlen++] = ' ';
  header[hlen++] = '\n';
  total = 10 + hlen + count * elem;
  buf = malloc(total);
  if (!buf)
    return keel_fail(err, KEEL_ENOMEM, "%s: out of memory", name);
  memcpy(buf, "\x93NUMPY\x01\x00", 8);
  buf[8] = (unsigned char)(hlen & 0xff);
  buf[9] = (unsigned char)(hlen >> 8);
  memcpy(buf + 10, header, hlen);
  if (count)
    memcpy(buf + 10 + hlen, data, count * elem);
  if (*(const unsigned char *)&one == 0) { /* big-endian host: swap */
    unsigned char *p = buf + 10 + hlen;
    for (size_t i = 0; i < count; i++, p += elem)
      for (size_t k = 0; k < elem / 2; k++) {
        unsigned char t = p[k];
        p[k] = p[elem - 1 - k];
        p[elem - 1 - k] = t;
      }
  }
  return put_entry(b, name, buf, total, err);
}

int keel_bundle_add_npy_f32(keel_bundle_builder *b, const char *name,
                            const float *data, const size_t *shape,
                            size_t ndim, keel_error *err)
{
  return add_npy(b, name, data, sizeof(float), "<f4", shape, ndim, err);
}

int keel_bundle_add_npy_f64(keel_bundle_builder *b, const char *name,
                            const double *data, const size_t *shape,
                            size_t ndim, keel_error *err)
{
  return add_npy(b, name, data, sizeof(double), "<f8", shape, ndim, err);
}

static const char *current_user(char *buf, size_t n)
{
  struct passwd pw, *res = NULL;
  char tmp[1024];
  const char *env = getenv("USER");
  if (getpwuid_r(geteuid(), &pw, tmp, sizeof tmp, &res) == 0 && res) {
    snprintf(buf, n, "%s", pw.pw_name);
    return buf;
  }
  snprintf(buf, n, "%s", env ? env : "unknown");
  return buf;
}

int keel_bundle_audit(keel_bundle_builder *b, const char *action,
                      const char *object, const char *sha256,
                      keel_error *err)
{
  struct timespec ts;
  char when[32], user[256];
  json_t *ev = json_object();
  if (!ev)
    return keel_fail(err, KEEL_ENOMEM, "audit: out of memory");
  clock_gettime(CLOCK_REALTIME, &ts);
  iso_time(&ts, when);
  json_object_set_new(ev, "seq", json_integer((json_int_t)json_array_size(b->audit) + 1));
  json_object_set_new(ev, "time", json_string(when));
  json_object_set_new(ev, "user", json_string(current_user(user, sizeof user)));
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
  char file[NAME_MAX_LEN + 1];
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
    return keel_fail(err, KEEL_EINVAL, "bundle: plugin file name for %s '%s' "
                     "is too long", kind, name);
  if (include_so) {
    unsigned char *data;
    size_t n;
    char hex[65];
    rc = read_whole_file(path, &data, &n, err);
    if (rc)
      return rc;
    keel_sha256_hex(data, n, hex);
    if (strcmp(hex, sha256) != 0) {
      free(data);
      return keel_fail(err, KEEL_EINTEGRITY,
                       "%s: plugin changed on disk since it was loaded "
                       "(sha256 %s, loaded %s)",
                       path, hex, sha256);
    }
    rc = put_entry(b, file, data, n, err);
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

void keel_bundle_set_outcome(keel_bundle_builder *b, int exit_code,
                             const char *error, int threads)
{
  b->exit_code = exit_code;
  free(b->error);
  b->error = error ? strdup(error) : NULL;
  b->threads = threads;
}

/* ---- sealing ------------------------------------------------------------ */

static int entry_cmp(const void *a, const void *b)
{
  return strcmp(((const bentry *)a)->name, ((const bentry *)b)->name);
}

static int plugin_cmp(const void *a, const void *b)
{
  return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "file")),
                json_string_value(json_object_get(*(json_t *const *)b, "file")));
}

/* plugins.json, sorted by file name so the load order does not matter. */
static int seal_plugins(keel_bundle_builder *b, keel_error *err)
{
  size_t n = json_array_size(b->plugins);
  json_t **items = calloc(n ? n : 1, sizeof *items), *sorted, *doc;
  int rc;
  if (!items)
    return keel_fail(err, KEEL_ENOMEM, "bundle: out of memory");
  for (size_t i = 0; i < n; i++)
    items[i] = json_array_get(b->plugins, i);
  qsort(items, n, sizeof *items, plugin_cmp);
  sorted = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append(sorted, items[i]);
  free(items);
  doc = json_object();
  json_object_set_new(doc, "plugins", sorted);
  {
    char *text = json_text(doc);
    json_decref(doc);
    if (!text)
      return keel_fail(err, KEEL_ENOMEM, "bundle: out of memory");
    rc = put_entry(b, "plugins.json", (unsigned char *)text, strlen(text), err);
  }
  return rc;
}

static int seal_audit(keel_bundle_builder *b, keel_error *err)
{
  char *text = NULL;
  size_t len = 0, i;
  json_t *ev;
  FILE *out = open_memstream(&text, &len);
  if (!out)
    return keel_fail(err, KEEL_ENOMEM, "bundle: out of memory");
  json_array_foreach(b->audit, i, ev) {
    char *line = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (line) {
      fputs(line, out);
      fputc('\n', out);
      free(line);
    }
  }
  fclose(out);
  return put_entry(b, "audit.jsonl", (unsigned char *)text, len, err);
}

static int seal_readme(keel_bundle_builder *b, const char *digest,
                       int signing, keel_error *err)
{
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  if (!out)
    return keel_fail(err, KEEL_ENOMEM, "bundle: out of memory");
  fprintf(out,
          "# keel run bundle %s\n\n"
          "This archive is the sealed record of one `keel` training run: the\n"
          "manifest as given, the template, the fully resolved configuration,\n"
          "the plugins that ran, data lineage, fitted preprocessing state,\n"
          "weights and optimizer state (`.npy`), per-epoch and final metrics,\n"
          "the environment, the audit events and a run record.\n\n"
          "- status: %s (exit code %d)%s%s\n"
          "- result digest: `%s` (SHA-256 over the deterministic parts; see\n"
          "  `digest.txt` and docs/bundle-format.md)\n\n",
          b->run_id, b->error || b->exit_code ? "failed" : "ok", b->exit_code,
          b->error ? "\n- error: " : "", b->error ? b->error : "", digest);
  fprintf(out,
          "## Verify\n\n"
          "    keel verify %s.tar.gz%s\n\n"
          "or, without keel:\n\n"
          "    tar xzf %s.tar.gz && cd %s && sha256sum -c SHA256SUMS\n\n"
          "## Inspect\n\n"
          "    keel show %s.tar.gz\n"
          "    keel env %s.tar.gz      # drift from this machine\n\n"
          "## Replay\n\n"
          "    keel replay %s.tar.gz [--threads N]\n\n"
          "Replay extracts the bundle into a temporary folder, loads only the\n"
          "bundled plugins and prints REPRODUCED when the result digest\n"
          "matches.\n",
          b->run_id, signing ? " --pubkey KEY.pub" : "", b->run_id, b->run_id,
          b->run_id, b->run_id, b->run_id);
  fclose(out);
  return put_entry(b, "README.md", (unsigned char *)text, len, err);
}

static double tv_seconds(struct timeval tv)
{
  return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static int seal_run_record(keel_bundle_builder *b, const char *digest,
                           keel_error *err)
{
  struct timespec end_real, end_mono;
  struct rusage ru;
  char start_s[32], end_s[32], host[256] = "", user[256];
  json_t *r = json_object(), *cpu;
  const char *key;
  json_t *v;
  char *text;
  clock_gettime(CLOCK_REALTIME, &end_real);
  clock_gettime(CLOCK_MONOTONIC, &end_mono);
  getrusage(RUSAGE_SELF, &ru);
  iso_time(&b->start_real, start_s);
  iso_time(&end_real, end_s);
  gethostname(host, sizeof host - 1);
  json_object_set_new(r, "format", json_string(BUNDLE_FORMAT));
  json_object_set_new(r, "run_id", json_string(b->run_id));
  json_object_set_new(r, "status", json_string(b->error || b->exit_code
                                                   ? "failed"
                                                   : "ok"));
  json_object_set_new(r, "exit_code", json_integer(b->exit_code));
  json_object_set_new(r, "error", b->error ? json_string(b->error)
                                           : json_null());
  json_object_set_new(r, "result_digest", json_string(digest));
  json_object_set_new(r, "started_at", json_string(start_s));
  json_object_set_new(r, "ended_at", json_string(end_s));
  json_object_set_new(
      r, "wall_seconds",
      json_real((double)(end_mono.tv_sec - b->start_mono.tv_sec) +
                (double)(end_mono.tv_nsec - b->start_mono.tv_nsec) / 1e9));
  cpu = json_object();
  json_object_set_new(cpu, "user", json_real(tv_seconds(ru.ru_utime) -
                                             tv_seconds(b->start_usage.ru_utime)));
  json_object_set_new(cpu, "system",
                      json_real(tv_seconds(ru.ru_stime) -
                                tv_seconds(b->start_usage.ru_stime)));
  json_object_set_new(r, "cpu_seconds", cpu);
  json_object_set_new(r, "peak_rss_kib", json_integer(ru.ru_maxrss));
  json_object_set_new(r, "threads", json_integer(b->threads));
  v = json_string(host);
  json_object_set_new(r, "host", v ? v : json_string("?"));
  json_object_set_new(r, "user", json_string(current_user(user, sizeof user)));
  json_object_set_new(r, "pid", json_integer(getpid()));
  json_object_foreach(b->info, key, v) json_object_set(r, key, v);
  text = json_text(r);
  json_decref(r);
  if (!text)
    return keel_fail(err, KEEL_ENOMEM, "bundle: out of memory");
  return put_entry(b, "run.json", (unsigned char *)text, strlen(text), err);
}

static int seal_digest(keel_bundle_builder *b, char digest[65],
                       keel_error *err)
{
  const char **names = calloc(b->n ? b->n : 1, sizeof *names);
  const char **shas = calloc(b->n ? b->n : 1, sizeof *shas);
  char(*hex)[65] = calloc(b->n ? b->n : 1, sizeof *hex);
  int rc;
  if (!names || !shas || !hex) {
    rc = keel_fail(err, KEEL_ENOMEM, "bundle: out of memory");
    goto out;
  }
  for (size_t i = 0; i < b->n; i++) {
    keel_sha256_hex(b->entries[i].data, b->entries[i].size, hex[i]);
    names[i] = b->entries[i].name;
    shas[i] = hex[i];
  }
  rc = keel_bundle_digest_compute(names, shas, b->n, digest, NULL, err);
out:
  free(names);
  free(shas);
  free(hex);
  return rc;
}

/* SHA256SUMS over every entry so far (sorted), then the signature. */
static int seal_sums(keel_bundle_builder *b, const char *sign_key,
                     keel_error *err)
{
  char *text = NULL;
  size_t len = 0;
  int rc;
  FILE *out;
  qsort(b->entries, b->n, sizeof *b->entries, entry_cmp);
  out = open_memstream(&text, &len);
  if (!out)
    return keel_fail(err, KEEL_ENOMEM, "bundle: out of memory");
  for (size_t i = 0; i < b->n; i++) {
    char hex[65];
    keel_sha256_hex(b->entries[i].data, b->entries[i].size, hex);
    fprintf(out, "%s  %s\n", hex, b->entries[i].name);
  }
  fclose(out);
  if (sign_key) {
    unsigned char sig[KEEL_SIG_BYTES];
    char fp[65], *sig_text;
    size_t sl = 0;
    rc = keel_sign_bytes(sign_key, text, len, sig, fp, err);
    if (rc) {
      free(text);
      return rc;
    }
    sig_text = malloc(256);
    if (!sig_text) {
      free(text);
      return keel_fail(err, KEEL_ENOMEM, "bundle: out of memory");
    }
    sl = (size_t)snprintf(sig_text, 256,
                          "algorithm: ed25519\npublic-key-sha256: %s\n"
                          "signature: ",
                          fp);
    for (size_t i = 0; i < KEEL_SIG_BYTES; i++)
      sl += (size_t)snprintf(sig_text + sl, 256 - sl, "%02x", sig[i]);
    sig_text[sl++] = '\n';
    rc = put_entry(b, "SIGNATURE", (unsigned char *)sig_text, sl, err);
    if (rc) {
      free(text);
      return rc;
    }
  }
  rc = put_entry(b, "SHA256SUMS", (unsigned char *)text, len, err);
  qsort(b->entries, b->n, sizeof *b->entries, entry_cmp);
  return rc;
}

static int tar_header(struct archive *a, struct archive_entry *e,
                      const char *path, int is_dir, size_t size)
{
  archive_entry_clear(e);
  archive_entry_set_pathname(e, path);
  archive_entry_set_filetype(e, is_dir ? AE_IFDIR : AE_IFREG);
  archive_entry_set_perm(e, is_dir ? 0755 : 0644);
  archive_entry_set_size(e, is_dir ? 0 : (la_int64_t)size);
  archive_entry_set_uid(e, 0);
  archive_entry_set_gid(e, 0);
  archive_entry_set_uname(e, "keel");
  archive_entry_set_gname(e, "keel");
  archive_entry_set_mtime(e, 0, 0);
  return archive_write_header(a, e);
}

/* 1 when dir (a prefix of some entry ending at a '/') was already written:
 * entries are sorted, so it suffices to compare with the previous entry. */
static int write_tar(keel_bundle_builder *b, int fd, const char *dest,
                     keel_error *err)
{
  struct archive *a = archive_write_new();
  struct archive_entry *e = archive_entry_new();
  char path[NAME_MAX_LEN + 128];
  const char *prev = "";
  int rc = 0;
  if (!a || !e) {
    rc = keel_fail(err, KEEL_ENOMEM, "bundle: out of memory");
    goto out;
  }
  if (archive_write_set_format_ustar(a) != ARCHIVE_OK ||
      archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
      /* No timestamp: same bytes for the same entries. Level 1: sealing
       * must stay a small share of a run (tests/bench/bench_seal). */
      archive_write_set_options(a, "gzip:!timestamp,gzip:compression-level=1") !=
          ARCHIVE_OK ||
      archive_write_open_fd(a, fd) != ARCHIVE_OK)
    goto ar_fail;
  if (tar_header(a, e, b->run_id, 1, 0) != ARCHIVE_OK)
    goto ar_fail;
  for (size_t i = 0; i < b->n; i++) {
    const bentry *en = &b->entries[i];
    /* Folder entries for each new parent of this name, in order. */
    for (const char *s = strchr(en->name, '/'); s; s = strchr(s + 1, '/')) {
      size_t plen = (size_t)(s - en->name);
      if (strncmp(prev, en->name, plen) == 0 &&
          (prev[plen] == '/'))
        continue;
      snprintf(path, sizeof path, "%s/%.*s", b->run_id, (int)plen, en->name);
      if (tar_header(a, e, path, 1, 0) != ARCHIVE_OK)
        goto ar_fail;
    }
    snprintf(path, sizeof path, "%s/%s", b->run_id, en->name);
    if (tar_header(a, e, path, 0, en->size) != ARCHIVE_OK)
      goto ar_fail;
    if (en->size &&
        archive_write_data(a, en->data, en->size) != (la_ssize_t)en->size)
      goto ar_fail;
    prev = en->name;
  }
  if (archive_write_close(a) != ARCHIVE_OK)
    goto ar_fail;
  goto out;
ar_fail:
  rc = keel_fail(err, KEEL_EIO, "%s: writing the archive failed: %s", dest,
                 archive_error_string(a) ? archive_error_string(a)
                                         : "unknown libarchive error");
out:
  archive_entry_free(e);
  archive_write_free(a);
  return rc;
}

int keel_bundle_seal(keel_bundle_builder *b, const char *out_dir,
                     const char *sign_key, char **final_path,
                     char digest_hex[65], keel_error *err)
{
  char digest[65], *dest = NULL, *tmp = NULL;
  size_t n;
  int rc, fd;
  if (final_path)
    *final_path = NULL;
  if (!b || b->sealed)
    return keel_fail(err, KEEL_EINVAL, "bundle: builder already sealed");
  b->sealed = 1;
  rc = seal_plugins(b, err);
  if (!rc)
    rc = seal_audit(b, err);
  if (!rc && !find_entry(b, "environment.json")) {
    json_t *env = take_environment(b);
    char *text = env ? json_text(env) : NULL;
    json_decref(env);
    rc = text ? put_entry(b, "environment.json", (unsigned char *)text,
                          strlen(text), err)
              : keel_fail(err, KEEL_ENOMEM, "bundle: out of memory");
  }
  if (!rc)
    rc = seal_digest(b, digest, err);
  if (!rc)
    rc = seal_readme(b, digest, sign_key != NULL, err);
  if (!rc)
    rc = seal_run_record(b, digest, err);
  if (!rc) {
    unsigned char *line = malloc(66);
    if (line) {
      snprintf((char *)line, 66, "%s\n", digest);
      rc = put_entry(b, "digest.txt", line, 65, err);
    } else {
      rc = keel_fail(err, KEEL_ENOMEM, "bundle: out of memory");
    }
  }
  if (!rc)
    rc = seal_sums(b, sign_key, err);
  if (!rc)
    rc = keel_fs_mkdir_p(out_dir, err);
  if (rc)
    return rc;
  n = strlen(out_dir) + strlen(b->run_id) + 16;
  dest = malloc(n);
  if (!dest)
    return keel_fail(err, KEEL_ENOMEM, "bundle: out of memory");
  snprintf(dest, n, "%s/%s.tar.gz", out_dir, b->run_id);
  fd = keel_fs_temp_open(dest, &tmp, err);
  if (fd < 0) {
    free(dest);
    return fd;
  }
  fchmod(fd, 0644);
  rc = write_tar(b, fd, dest, err);
  if (rc) {
    close(fd);
    unlink(tmp);
    free(tmp);
    free(dest);
    return rc;
  }
  rc = keel_fs_temp_commit(fd, tmp, dest, 1, err);
  if (rc) {
    free(dest);
    return rc;
  }
  if (digest_hex)
    memcpy(digest_hex, digest, 65);
  if (final_path)
    *final_path = dest;
  else
    free(dest);
  return 0;
}
