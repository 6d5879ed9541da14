/* bundle_write_internal: what the files of the bundle writer share,
 * internal to the bundle layer (never included from another layer).
 *
 *   bundle_builder.c  the builder: run ids, entries, plugins, audit events
 *   bundle_worker.c   the worker thread that makes each entry's bytes,
 *                     SHA-256 and gzip segment while the run goes on
 *   bundle_tar.c      the ustar layout: member headers, the archive
 *   bundle_seal.c     the seal: generated entries, digest, SHA256SUMS,
 *                     signature, the gzip file written atomically
 *
 * The contract is bundle.h's. */
#ifndef KEEL_BUNDLE_BUNDLE_WRITE_INTERNAL_H
#define KEEL_BUNDLE_BUNDLE_WRITE_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <sys/resource.h>
#include <time.h>

#include <jansson.h>

#include "base/buffer.h"
#include "bundle/bundle.h"
#include "bundle/gzseg.h"

/* Longest entry name the builder accepts. (The reader limits the whole
 * member path, run id included, to KEEL__BUNDLE_PATH_MAX, bundle_name.h:
 * with a run id over 54 bytes a 200-byte name would not read back.) */
#define KEEL__BUNDLE_NAME_MAX 200
/* Level of what the seal compresses (folder headers, the end of the
 * archive), of tar headers, padding, and of every member that is not a
 * .npy array (bundle_worker.c, segment_level). */
#define KEEL__BUNDLE_SEGMENT_LEVEL 1

/* What the seal needs of one entry, worked out as soon as the entry is
 * added, on the builder's worker thread, while the run goes on: its bytes
 * when they are still to be made (JSON to serialize, a plugin file to
 * read and check), its SHA-256 (SHA256SUMS, the result digest) and its
 * share of the gzip stream: one segment (gzseg.h) of its tar header, its
 * data and the zeros padding the data to 512 bytes. Every result is a
 * pure function of the run id, the entry's name and bytes, so the bundle
 * is the same whichever thread computed what, and when. */
typedef struct keel__bundle_job {
  const char *run_id, *name; /* borrowed from the builder and the entry */
  unsigned char *data;       /* the bytes (owned), once made */
  size_t size;
  json_t *json;    /* to serialize into data (owned), or NULL */
  char *path;      /* to read into data (owned), or NULL */
  char expect[65]; /* with path: the SHA-256 it must have */
  int level;       /* segment level, or -1: no segment */
  int state;       /* KEEL__JOB_PENDING, _RUNNING, _DONE */
  int rc;
  keel_error err; /* why rc */
  char hex[65];
  unsigned char header[512]; /* the ustar header the tar will hold */
  int header_ok;             /* header and seg made */
  keel_gzseg_seg seg;
  struct keel__bundle_job *next; /* the worker's queue */
} keel__bundle_job;

enum { KEEL__JOB_PENDING, KEEL__JOB_RUNNING, KEEL__JOB_DONE };

typedef struct keel__bundle_entry {
  char *name;
  keel__bundle_job *job; /* holds the bytes */
} keel__bundle_entry;

struct keel_bundle_builder {
  char *run_id;
  const keel_bundle_format *format; /* NULL: the current run format */
  keel__bundle_entry *entries;
  size_t n, cap;
  json_t *plugins; /* array for plugins.json */
  json_t *audit;   /* array of events */
  json_t *info;    /* extra run.json strings */
  int exit_code;
  char *error;
  char *status; /* run.json "status" when set, else "ok" or "failed" */
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
  keel__bundle_job *queue_head, *queue_tail;
  /* Compressor states: the worker's, lent to the sealing thread once
   * every job is done (the worker then waits idle), and the sealing
   * thread's own for the jobs it runs while the worker is busy. */
  keel_gzseg_deflater worker_defl, seal_defl;
  char user[256]; /* current_user's answer, "" until asked */
};

/* ---- bundle_builder.c --------------------------------------------------- */

/* Adds an entry taking ownership of data (freed on failure too). */
int keel__bundle_put_entry(keel_bundle_builder *b, const char *name,
                           unsigned char *data, size_t n, keel_error *err);
keel__bundle_entry *keel__bundle_find_entry(keel_bundle_builder *b,
                                            const char *name);
/* JSON as every entry of the bundle is written (bundle.h,
 * keel_bundle_add_json), with a final newline; malloc'd, NULL on ENOMEM. */
char *keel__bundle_json_text(const json_t *json);
/* "2025-01-02T03:04:05.678Z" */
void keel__bundle_iso_time(const struct timespec *ts, char out[32]);
/* The user name, looked up once per builder. */
const char *keel__bundle_current_user(keel_bundle_builder *b);
/* The environment captured with the builder (joined now), or captured
 * now. New reference or NULL. */
json_t *keel__bundle_take_environment(keel_bundle_builder *b);

/* ---- bundle_worker.c ---------------------------------------------------- */

/* The worker's mutex and conditions (no worker when they fail: the seal
 * does its work), and their teardown: stops and joins the worker, frees
 * the compressors. */
void keel__bundle_worker_init(keel_bundle_builder *b);
void keel__bundle_worker_free(keel_bundle_builder *b);
/* Queues j for the worker (started with the first job). Not after the
 * seal began: the seal does its own entries at once. */
void keel__bundle_queue_job(keel_bundle_builder *b, keel__bundle_job *j);
void keel__bundle_job_free(keel__bundle_job *j);
/* Finishes every job, newest first; the first failure's message in err. */
int keel__bundle_finish_jobs(keel_bundle_builder *b, keel_error *err);
/* The SHA-256 of e, hex, once its job is done ("" when it failed). */
const char *keel__bundle_entry_hex(keel_bundle_builder *b,
                                   keel__bundle_entry *e);
/* Waits until the worker's compressors are made; from then on, with every
 * job done, b->worker_defl is the sealing thread's to use. */
void keel__bundle_borrow_compressor(keel_bundle_builder *b);
/* After the last job: lets the worker end (and free the compressors)
 * while the seal goes on; keel__bundle_worker_free joins it. */
void keel__bundle_retire_worker(keel_bundle_builder *b);

/* ---- bundle_tar.c ------------------------------------------------------- */

/* The ustar header of job j's member exactly as keel__bundle_build_tar
 * writes it. 0 or -1. */
int keel__bundle_member_header(const keel__bundle_job *j,
                               unsigned char out[512]);
/* A member as the tar stream holds it: its 512-byte header, its data, and
 * the zeros up to the next 512-byte block. Returns the padding's length. */
size_t keel__bundle_member_spans(const unsigned char *header,
                                 const keel__bundle_job *j,
                                 keel_gzseg_span span[3]);

/* The tar in memory. Bytes of members that have a segment of their own
 * are counted (so offsets stay true) but not copied. */
typedef struct keel__tarbuf {
  keel_buf buf;
  int skip; /* set while such a member's data is written */
} keel__tarbuf;

/* Writes b's sorted entries as a ustar archive into t, padded to the
 * 10240-byte tar record, with start[i] the offset of entry i's data.
 * dest names the bundle in messages. */
int keel__bundle_build_tar(keel_bundle_builder *b, keel__tarbuf *t,
                           size_t *start, const char *dest, keel_error *err);

#endif
