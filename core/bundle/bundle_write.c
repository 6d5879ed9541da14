/* The bundle builder: collects entries in memory, seals them into one
 * deterministic tar.gz, atomically. */
#define _GNU_SOURCE /* SCHED_BATCH */
#include "bundle/bundle.h"
#include "base/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
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

#include "bundle/envinfo.h"
#include "base/fsutil.h"
#include "bundle/gzseg.h"
#include "base/npy.h"
#include "bundle/sign.h"
#include "base/status.h"

#define BUNDLE_FORMAT "keel-bundle/1"
#define NAME_MAX_LEN 200

/* What the seal needs of one entry, worked out as soon as the entry is
 * added, on the builder's worker thread, while the run goes on: its bytes
 * when they are still to be made (JSON to serialize, a plugin file to
 * read and check), its SHA-256 (SHA256SUMS, the result digest) and its
 * share of the gzip stream: one segment (gzseg.h) of its tar header, its
 * data and the zeros padding the data to 512 bytes. Every result is a
 * pure function of the run id, the entry's name and bytes, so the bundle
 * is the same whichever thread computed what, and when. */
typedef struct bjob {
  const char *run_id, *name; /* borrowed from the builder and the entry */
  unsigned char *data;       /* the bytes (owned), once made */
  size_t size;
  json_t *json;              /* to serialize into data (owned), or NULL */
  char *path;                /* to read into data (owned), or NULL */
  char expect[65];           /* with path: the SHA-256 it must have */
  int level;                 /* segment level, or -1: no segment */
  int state;                 /* JOB_PENDING, JOB_RUNNING, JOB_DONE */
  int rc;
  keel_error err;            /* why rc */
  char hex[65];
  unsigned char header[512]; /* the ustar header build_tar will write */
  int header_ok;             /* header and seg made */
  keel_gzseg_seg seg;
  struct bjob *next;         /* the worker's queue */
} bjob;

enum { JOB_PENDING, JOB_RUNNING, JOB_DONE };

typedef struct bentry {
  char *name;
  bjob *job; /* holds the bytes */
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
  /* The worker that runs the entries' jobs as they are added (started
   * with the first entry; entries the seal adds are not queued). The
   * queue is FIFO; the sealing thread takes pending jobs itself, newest
   * first, rather than wait for them. */
  pthread_t worker;
  int worker_started, worker_failed, worker_stop, worker_retired, sync_ready;
  int seal_defl_ready; /* the worker made seal_defl's streams */
  pthread_mutex_t mu;
  pthread_cond_t wake, done;
  bjob *queue_head, *queue_tail;
  /* Compressor states: the worker's, lent to the sealing thread once
   * every job is done (the worker then waits idle), and the sealing
   * thread's own for the jobs it runs while the worker is busy. */
  keel_gzseg_deflater worker_defl, seal_defl;
  char user[256]; /* current_user's answer, "" until asked */
};

static void *capture_env_thread(void *arg)
{
  keel_bundle_builder *b = arg;
  b->env_captured = keel_envinfo_capture();
  return NULL;
}

/* Joins the capture thread (if any) and returns its result, or captures
 * now. New reference or NULL. */
static json_t *take_environment(keel_bundle_builder *b)
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

/* ---- background hashing and compression -------------------------------- */

/* Level of what the seal compresses (folder headers, the end of the
 * archive), of tar headers, padding, and of every member that is not a
 * .npy array. */
#define SEGMENT_LEVEL 1

/* The level of a member's data segment. .npy arrays are stored (level
 * 0): float bits shrink about 11% under deflate, which cost most of the
 * seal's time. Everything else level 1. -1: no segments of its own (empty
 * members): compressed at the seal with what surrounds them.
 * docs/bundle-format.md, "Compression". */
static int segment_level(const char *name, size_t size)
{
  size_t len = strlen(name);
  if (size == 0)
    return -1;
  if (len >= 4 && strcmp(name + len - 4, ".npy") == 0)
    return 0;
  return SEGMENT_LEVEL;
}

static int tar_header(struct archive *a, struct archive_entry *e,
                      const char *path, int is_dir, size_t size);

/* Keeps the first 512 bytes libarchive writes, counts the rest. */
typedef struct hdrcap {
  unsigned char *out;
  size_t len;
} hdrcap;

static la_ssize_t hdrcap_write(struct archive *a, void *client,
                               const void *buf, size_t n)
{
  hdrcap *h = client;
  (void)a;
  if (h->len < 512)
    memcpy(h->out + h->len, buf, n < 512 - h->len ? n : 512 - h->len);
  h->len += n;
  return (la_ssize_t)n;
}

/* The ustar header of member name as build_tar writes it (the same
 * libarchive calls; the data passes through uncopied). 0 or -1. The seal
 * compares it with the header it wrote before using it. */
static int member_header(const bjob *j, unsigned char out[512])
{
  struct archive *a = archive_write_new();
  struct archive_entry *e = archive_entry_new();
  char path[NAME_MAX_LEN + 128];
  hdrcap h = {out, 0};
  int ok = a && e && archive_write_set_format_ustar(a) == ARCHIVE_OK &&
           archive_write_set_bytes_per_block(a, 0) == ARCHIVE_OK &&
           archive_write_open(a, &h, NULL, hdrcap_write, NULL) == ARCHIVE_OK;
  snprintf(path, sizeof path, "%s/%s", j->run_id, j->name);
  ok = ok && tar_header(a, e, path, 0, j->size) == ARCHIVE_OK && h.len == 512;
  ok = ok && archive_write_data(a, j->data, j->size) == (la_ssize_t)j->size &&
       archive_write_close(a) == ARCHIVE_OK;
  archive_entry_free(e);
  archive_write_free(a);
  return ok ? 0 : -1;
}

static char *json_text(const json_t *json);

/* A member as the tar stream holds it: its 512-byte header, its data, and
 * the zeros up to the next 512-byte block. The worker's segment and the
 * seal's fallback are both made from these spans, so they are the same
 * bytes by construction. Returns the padding's length. */
static size_t member_spans(const unsigned char *header, const bjob *j,
                           keel_gzseg_span span[3])
{
  static const unsigned char zeros[512];
  span[0].p = header;
  span[0].n = 512;
  span[1].p = j->data;
  span[1].n = j->size;
  span[2].p = zeros;
  span[2].n = (512 - j->size % 512) % 512;
  return span[2].n;
}

static void run_job(bjob *j, keel_gzseg_deflater *d)
{
  keel_gzseg_span span[3];
  if (j->json) {
    char *text = json_text(j->json);
    json_decref(j->json);
    j->json = NULL;
    if (!text) {
      j->rc = keel_fail(&j->err, KEEL_ENOMEM,
                        "bundle entry '%s': cannot encode JSON", j->name);
      return;
    }
    j->data = (unsigned char *)text;
    j->size = strlen(text);
  } else if (j->path) {
    j->rc = keel_read_file(j->path, &j->data, &j->size, &j->err);
    if (j->rc)
      return;
  }
  keel_sha256_hex(j->data, j->size, j->hex);
  if (j->path && strcmp(j->hex, j->expect) != 0) {
    j->rc = keel_fail(&j->err, KEEL_EINTEGRITY,
                      "%s: plugin changed on disk since it was loaded "
                      "(sha256 %s, loaded %s)",
                      j->path, j->hex, j->expect);
    return;
  }
  j->level = segment_level(j->name, j->size);
  /* Without its header (libarchive failed?), the seal compresses the
   * member itself. */
  if (j->level < 0 || member_header(j, j->header) != 0)
    return;
  member_spans(j->header, j, span);
  j->rc = keel_gzseg_compressv(d, span, 3, j->level, &j->seg);
  if (j->rc)
    keel_fail(&j->err, j->rc, "bundle entry '%s': cannot compress it",
              j->name);
  else
    j->header_ok = 1;
}

static void *worker_main(void *arg)
{
  keel_bundle_builder *b = arg;
  struct sched_param batch = {0};
  /* A batch thread gets its fair share of the CPUs but never preempts the
   * thread that woke it: queuing a job right after training, when
   * OpenMP's threads may still spin, must not stall the run. */
  pthread_setschedparam(pthread_self(), SCHED_BATCH, &batch);
  /* Readies the sealing thread's compressor while the run goes on:
   * making a zlib stream costs more than compressing a small member. */
  keel_gzseg_deflater_warm(&b->seal_defl, 0);
  keel_gzseg_deflater_warm(&b->seal_defl, SEGMENT_LEVEL);
  keel_gzseg_deflater_warm(&b->worker_defl, 0);
  keel_gzseg_deflater_warm(&b->worker_defl, SEGMENT_LEVEL);
  pthread_mutex_lock(&b->mu);
  b->seal_defl_ready = 1;
  pthread_cond_broadcast(&b->done);
  for (;;) {
    bjob *j;
    while (!b->queue_head && !b->worker_stop)
      pthread_cond_wait(&b->wake, &b->mu);
    if (b->worker_stop) {
      /* Retired by the seal, which is done with both compressors:
       * releasing their memory here overlaps the seal's fsync. */
      if (b->worker_retired) {
        keel_gzseg_deflater_free(&b->worker_defl);
        keel_gzseg_deflater_free(&b->seal_defl);
      }
      break;
    }
    j = b->queue_head;
    b->queue_head = j->next;
    if (!b->queue_head)
      b->queue_tail = NULL;
    if (j->state != JOB_PENDING)
      continue; /* the sealing thread took it */
    j->state = JOB_RUNNING;
    pthread_mutex_unlock(&b->mu);
    run_job(j, &b->worker_defl);
    pthread_mutex_lock(&b->mu);
    j->state = JOB_DONE;
    pthread_cond_broadcast(&b->done);
  }
  pthread_mutex_unlock(&b->mu);
  return NULL;
}

/* Queues j for the worker (started with the first job; without it, the
 * seal does the work). Entries the seal adds are not queued: the seal
 * needs them at once, and after training the CPUs may still be busy
 * (OpenMP threads spin a while before they sleep), so handing them over
 * costs more than doing them. */
static void queue_job(keel_bundle_builder *b, bjob *j)
{
  if (b->sealed)
    return;
  if (!b->worker_started && !b->worker_failed) {
    b->worker_started =
        pthread_create(&b->worker, NULL, worker_main, b) == 0;
    b->worker_failed = !b->worker_started;
  }
  if (b->worker_started) {
    pthread_mutex_lock(&b->mu);
    if (b->queue_tail)
      b->queue_tail->next = j;
    else
      b->queue_head = j;
    b->queue_tail = j;
    pthread_cond_signal(&b->wake);
    pthread_mutex_unlock(&b->mu);
  }
}

static void job_free(bjob *j)
{
  if (!j)
    return;
  free(j->data);
  json_decref(j->json);
  free(j->path);
  keel_gzseg_seg_free(&j->seg);
  free(j);
}

/* j's results: computed here when no thread has started on it, else
 * waited for. Returns j->rc. */
static int job_finish(keel_bundle_builder *b, bjob *j)
{
  int here;
  if (!b->worker_started) {
    if (j->state == JOB_PENDING) {
      run_job(j, &b->seal_defl);
      j->state = JOB_DONE;
    }
    return j->rc;
  }
  pthread_mutex_lock(&b->mu);
  here = j->state == JOB_PENDING;
  if (here) {
    j->state = JOB_RUNNING;
    while (!b->seal_defl_ready) /* the worker is making it */
      pthread_cond_wait(&b->done, &b->mu);
  } else {
    while (j->state != JOB_DONE)
      pthread_cond_wait(&b->done, &b->mu);
  }
  pthread_mutex_unlock(&b->mu);
  if (here) {
    run_job(j, &b->seal_defl);
    pthread_mutex_lock(&b->mu);
    j->state = JOB_DONE;
    pthread_mutex_unlock(&b->mu);
  }
  return j->rc;
}

/* Finishes every job, newest first: the worker works from the oldest, so
 * the two threads share what is left instead of waiting on each other. */
static int finish_jobs(keel_bundle_builder *b, keel_error *err)
{
  int rc = 0;
  for (size_t i = b->n; i-- > 0;) {
    bjob *j = b->entries[i].job;
    if (job_finish(b, j) && !rc)
      rc = keel_fail(err, j->rc, "%s", j->err.message);
  }
  return rc;
}

/* The SHA-256 of e, hex. NULL when it could not be computed. */
static const char *entry_hex(keel_bundle_builder *b, bentry *e)
{
  job_finish(b, e->job);
  return e->job->hex;
}

/* After the last job: lets the worker end (and free the compressors)
 * while the seal goes on; builder_free joins it. */
static void retire_worker(keel_bundle_builder *b)
{
  if (!b->worker_started)
    return;
  pthread_mutex_lock(&b->mu);
  b->worker_stop = 1;
  b->worker_retired = 1;
  pthread_cond_signal(&b->wake);
  pthread_mutex_unlock(&b->mu);
}

static void stop_worker(keel_bundle_builder *b)
{
  if (!b->worker_started)
    return;
  pthread_mutex_lock(&b->mu);
  b->worker_stop = 1;
  pthread_cond_signal(&b->wake);
  pthread_mutex_unlock(&b->mu);
  pthread_join(b->worker, NULL);
  b->worker_started = 0;
}

/* Adds entry NAME whose bytes are data[0..n), or are to be made from
 * json or read from path (and checked against expect): exactly one of
 * them, owned from now on, freed on failure too. */
static int add_entry(keel_bundle_builder *b, const char *name,
                     unsigned char *data, size_t n, json_t *json, char *path,
                     const char *expect, keel_error *err)
{
  bjob *j = NULL;
  char *copy = NULL;
  int rc;
  if (!valid_name(name)) {
    rc = keel_fail(err, KEEL_EINVAL,
                   "bundle entry '%s': not a relative, canonical name", name);
    goto fail;
  }
  if (find_entry(b, name)) {
    rc = keel_fail(err, KEEL_EINVAL, "bundle entry '%s' added twice", name);
    goto fail;
  }
  if (b->n == b->cap) {
    size_t cap = b->cap ? 2 * b->cap : 32;
    bentry *grown = realloc(b->entries, cap * sizeof *grown);
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
  j->state = JOB_PENDING;
  b->entries[b->n].name = copy;
  b->entries[b->n].job = j;
  b->n++;
  queue_job(b, j);
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

/* Adds an entry taking ownership of data (freed on failure too). */
static int put_entry(keel_bundle_builder *b, const char *name,
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
  if (pthread_mutex_init(&b->mu, NULL) != 0) {
    b->worker_failed = 1; /* no worker: the seal does its work */
  } else if (pthread_cond_init(&b->wake, NULL) != 0) {
    pthread_mutex_destroy(&b->mu);
    b->worker_failed = 1;
  } else if (pthread_cond_init(&b->done, NULL) != 0) {
    pthread_cond_destroy(&b->wake);
    pthread_mutex_destroy(&b->mu);
    b->worker_failed = 1;
  } else {
    b->sync_ready = 1;
  }
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
  stop_worker(b);
  if (b->sync_ready) {
    pthread_cond_destroy(&b->done);
    pthread_cond_destroy(&b->wake);
    pthread_mutex_destroy(&b->mu);
  }
  keel_gzseg_deflater_free(&b->seal_defl);
  keel_gzseg_deflater_free(&b->worker_defl);
  json_decref(b->env_captured);
  for (size_t i = 0; i < b->n; i++) {
    free(b->entries[i].name);
    job_free(b->entries[i].job);
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
  return add_entry(b, "config.json", NULL, 0, copy, NULL, NULL, err);
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
  return put_entry(b, name, buf, total, err);
}

int keel_bundle_add_npy_f32(keel_bundle_builder *b, const char *name,
                            const float *data, const size_t *shape,
                            size_t ndim, keel_error *err)
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
static const char *current_user(keel_bundle_builder *b)
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
                      const char *object, const char *sha256,
                      keel_error *err)
{
  struct timespec ts;
  char when[32];
  json_t *ev = json_object();
  if (!ev)
    return keel_fail(err, KEEL_ENOMEM, "audit: out of memory");
  clock_gettime(CLOCK_REALTIME, &ts);
  iso_time(&ts, when);
  json_object_set_new(ev, "seq", json_integer((json_int_t)json_array_size(b->audit) + 1));
  json_object_set_new(ev, "time", json_string(when));
  json_object_set_new(ev, "user", json_string(current_user(b)));
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
    /* Read and checked against sha256 by the worker; a plugin that
     * changed on disk since it was loaded fails the seal. */
    if (!path)
      return keel_fail(err, KEEL_EINVAL, "bundle: %s '%s' has no file to "
                       "bundle (no path given)", kind, name);
    char *copy = strdup(path);
    if (!copy)
      return keel_fail(err, KEEL_ENOMEM, "bundle: out of memory copying the "
                       "path of %s '%s'", kind, name);
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
  char start_s[32], end_s[32], host[256] = "";
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
  json_object_set_new(r, "user", json_string(current_user(b)));
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
  int rc;
  if (!names || !shas) {
    rc = keel_fail(err, KEEL_ENOMEM, "bundle: out of memory");
    goto out;
  }
  rc = finish_jobs(b, err);
  if (rc)
    goto out;
  for (size_t i = 0; i < b->n; i++) {
    names[i] = b->entries[i].name;
    shas[i] = entry_hex(b, &b->entries[i]);
  }
  rc = keel_bundle_digest_compute(names, shas, b->n, digest, NULL, err);
out:
  free(names);
  free(shas);
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
  for (size_t i = 0; i < b->n; i++)
    fprintf(out, "%s  %s\n", entry_hex(b, &b->entries[i]),
            b->entries[i].name);
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

/* The tar is built in memory, unblocked: each byte libarchive writes
 * arrives here at once, so the buffer's length after a member's header
 * is where its data starts. */
typedef struct tarbuf {
  unsigned char *p;
  size_t len, cap;
  int skip; /* bytes of a member with its own segment: counted, not kept */
} tarbuf;

static la_ssize_t tarbuf_write(struct archive *a, void *client,
                               const void *buf, size_t n)
{
  tarbuf *t = client;
  if (t->skip && n <= t->cap - t->len) {
    t->len += n; /* those bytes of t->p are never read */
    return (la_ssize_t)n;
  }
  if (n > t->cap - t->len) {
    size_t cap = t->cap ? t->cap : 65536;
    unsigned char *grown;
    while (cap - t->len < n)
      cap *= 2;
    grown = realloc(t->p, cap);
    if (!grown) {
      archive_set_error(a, ENOMEM, "out of memory");
      return -1;
    }
    t->p = grown;
    t->cap = cap;
  }
  memcpy(t->p + t->len, buf, n);
  t->len += n;
  return (la_ssize_t)n;
}

/* Writes the sorted entries as a ustar archive into t (padded with zeros
 * to a multiple of 10240 bytes, the classic tar record), with start[i]
 * the offset of entry i's data. The data of members with a segment of
 * their own is not copied: t->p holds only what is compressed at the
 * seal. Entries are sorted, so a folder entry is written before the first
 * entry below it. */
static int build_tar(keel_bundle_builder *b, tarbuf *t, size_t *start,
                     const char *dest, keel_error *err)
{
  struct archive *a = archive_write_new();
  struct archive_entry *e = archive_entry_new();
  char path[NAME_MAX_LEN + 128];
  const char *prev = "";
  size_t bound = 512 + 1024 + 10240;
  int rc = 0;
  for (size_t i = 0; i < b->n; i++) {
    bound += 512 + (b->entries[i].job->size + 511) / 512 * 512;
    for (const char *s = strchr(b->entries[i].name, '/'); s;
         s = strchr(s + 1, '/'))
      bound += 512;
  }
  t->p = malloc(bound);
  t->cap = t->p ? bound : 0;
  t->len = 0;
  if (!a || !e || !t->p) {
    rc = keel_fail(err, KEEL_ENOMEM, "bundle: out of memory");
    goto out;
  }
  if (archive_write_set_format_ustar(a) != ARCHIVE_OK ||
      archive_write_set_bytes_per_block(a, 0) != ARCHIVE_OK ||
      archive_write_open(a, t, NULL, tarbuf_write, NULL) != ARCHIVE_OK)
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
    if (tar_header(a, e, path, 0, en->job->size) != ARCHIVE_OK)
      goto ar_fail;
    start[i] = t->len;
    t->skip = en->job->level >= 0;
    if (en->job->size &&
        archive_write_data(a, en->job->data, en->job->size) !=
            (la_ssize_t)en->job->size)
      goto ar_fail;
    t->skip = 0;
    if (t->len - start[i] != en->job->size) {
      rc = keel_fail(err, KEEL_EIO, "%s: the tar writer buffered member "
                     "'%s' (internal error)", dest, en->name);
      goto out;
    }
    prev = en->name;
  }
  if (archive_write_close(a) != ARCHIVE_OK)
    goto ar_fail;
  while (t->len % 10240) {
    static const unsigned char zero[512];
    size_t k = 10240 - t->len % 10240;
    if (tarbuf_write(a, t, zero, k < sizeof zero ? k : sizeof zero) < 0)
      goto ar_fail;
  }
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

/* The tar, gzip-compressed as a chain of segments (gzseg.h): each member
 * that has its own segment (segment_level) spliced in as its job made it,
 * everything between them (headers, small members, padding) compressed
 * now at SEGMENT_LEVEL. The segments depend only on the bytes, so the
 * file is the same whoever compressed what. */
static int write_tar(keel_bundle_builder *b, int fd, const char *dest,
                     keel_error *err)
{
  tarbuf t = {0};
  keel_gzseg_writer w = {0};
  size_t *start = calloc(b->n ? b->n : 1, sizeof *start), pos = 0;
  int rc;
  if (!start)
    return keel_fail(err, KEEL_ENOMEM, "bundle: out of memory");
  /* Every job done: the worker has nothing left to do (SHA256SUMS was
   * the last entry), so its compressor, warm from the run, is free to
   * lend. */
  rc = finish_jobs(b, err);
  if (!rc)
    rc = build_tar(b, &t, start, dest, err);
  if (rc)
    goto out;
  if (b->worker_started) { /* its compressors are made (and idle) */
    pthread_mutex_lock(&b->mu);
    while (!b->seal_defl_ready)
      pthread_cond_wait(&b->done, &b->mu);
    pthread_mutex_unlock(&b->mu);
  }
  rc = keel_gzseg_begin(&w, &b->worker_defl);
  for (size_t i = 0; !rc && i < b->n; i++) {
    bjob *j = b->entries[i].job;
    if (j->level < 0)
      continue;
    keel_gzseg_span span[3];
    size_t hs = start[i] - 512;
    size_t pad = member_spans(start[i] >= 512 ? t.p + hs : NULL, j, span);
    size_t pe = start[i] + j->size + pad;
    /* libarchive wrote the header just before the data and zeros after
     * it, as the job assumed. */
    if (start[i] < 512 || hs < pos || pe > t.len ||
        memcmp(t.p + start[i] + j->size, span[2].p, pad) != 0) {
      rc = keel_fail(err, KEEL_EIO, "%s: unexpected tar layout at member "
                     "'%s' (internal error)", dest, b->entries[i].name);
      goto out;
    }
    if (hs > pos)
      rc = keel_gzseg_add(&w, t.p + pos, hs - pos, SEGMENT_LEVEL);
    if (!rc && j->header_ok && memcmp(t.p + hs, j->header, 512) == 0) {
      rc = keel_gzseg_append(&w, &j->seg);
    } else if (!rc) { /* the same segment, made here */
      rc = keel_gzseg_addv(&w, span, 3, j->level);
    }
    pos = pe;
  }
  if (!rc && t.len > pos)
    rc = keel_gzseg_add(&w, t.p + pos, t.len - pos, SEGMENT_LEVEL);
  if (!rc)
    rc = keel_gzseg_finish(&w);
  if (rc) {
    rc = keel_fail(err, rc, "%s: compressing the archive failed", dest);
    goto out;
  }
  retire_worker(b); /* every job done, no compressing left */
  rc = keel_gzseg_write_fd(&w, fd, dest, err);
out:
  keel_gzseg_writer_free(&w);
  free(t.p);
  free(start);
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
