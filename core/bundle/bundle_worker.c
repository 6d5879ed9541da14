/* The bundle builder's worker: a background thread that makes each
 * entry's bytes (JSON text, a plugin file read and checked), its SHA-256
 * and its gzip segment as soon as the entry is added, while the run goes
 * on; and how the sealing thread shares, finishes and retires that work.
 * What a job computes depends only on the entry, never on which thread
 * ran it, or when (bundle_write_internal.h). */
#define _GNU_SOURCE /* SCHED_BATCH */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/sha256.h"
#include "base/status.h"
#include "bundle/bundle_write_internal.h"

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
  return KEEL__BUNDLE_SEGMENT_LEVEL;
}

static void run_job(keel__bundle_job *j, keel_gzseg_deflater *d)
{
  keel_gzseg_span span[3];
  if (j->json) {
    char *text = keel__bundle_json_text(j->json);
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
  if (j->level < 0 || keel__bundle_member_header(j, j->header) != 0)
    return;
  keel__bundle_member_spans(j->header, j, span);
  j->rc = keel_gzseg_compressv(d, span, 3, j->level, &j->seg);
  if (j->rc)
    keel_fail(&j->err, j->rc, "bundle entry '%s': cannot compress it", j->name);
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
  keel_gzseg_deflater_warm(&b->seal_defl, KEEL__BUNDLE_SEGMENT_LEVEL);
  keel_gzseg_deflater_warm(&b->worker_defl, 0);
  keel_gzseg_deflater_warm(&b->worker_defl, KEEL__BUNDLE_SEGMENT_LEVEL);
  pthread_mutex_lock(&b->mu);
  b->seal_defl_ready = 1;
  pthread_cond_broadcast(&b->done);
  for (;;) {
    keel__bundle_job *j;
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
    if (j->state != KEEL__JOB_PENDING)
      continue; /* the sealing thread took it */
    j->state = KEEL__JOB_RUNNING;
    pthread_mutex_unlock(&b->mu);
    run_job(j, &b->worker_defl);
    pthread_mutex_lock(&b->mu);
    j->state = KEEL__JOB_DONE;
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
void keel__bundle_queue_job(keel_bundle_builder *b, keel__bundle_job *j)
{
  if (b->sealed)
    return;
  if (!b->worker_started && !b->worker_failed) {
    b->worker_started = pthread_create(&b->worker, NULL, worker_main, b) == 0;
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

void keel__bundle_job_free(keel__bundle_job *j)
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
static int job_finish(keel_bundle_builder *b, keel__bundle_job *j)
{
  int here;
  if (!b->worker_started) {
    if (j->state == KEEL__JOB_PENDING) {
      run_job(j, &b->seal_defl);
      j->state = KEEL__JOB_DONE;
    }
    return j->rc;
  }
  pthread_mutex_lock(&b->mu);
  here = j->state == KEEL__JOB_PENDING;
  if (here) {
    j->state = KEEL__JOB_RUNNING;
    while (!b->seal_defl_ready) /* the worker is making it */
      pthread_cond_wait(&b->done, &b->mu);
  } else {
    while (j->state != KEEL__JOB_DONE)
      pthread_cond_wait(&b->done, &b->mu);
  }
  pthread_mutex_unlock(&b->mu);
  if (here) {
    run_job(j, &b->seal_defl);
    pthread_mutex_lock(&b->mu);
    j->state = KEEL__JOB_DONE;
    pthread_mutex_unlock(&b->mu);
  }
  return j->rc;
}

/* Finishes every job, newest first: the worker works from the oldest, so
 * the two threads share what is left instead of waiting on each other. */
int keel__bundle_finish_jobs(keel_bundle_builder *b, keel_error *err)
{
  int rc = 0;
  for (size_t i = b->n; i-- > 0;) {
    keel__bundle_job *j = b->entries[i].job;
    if (job_finish(b, j) && !rc)
      rc = keel_fail(err, j->rc, "%s", j->err.message);
  }
  return rc;
}

/* The SHA-256 of e, hex. NULL when it could not be computed. */
const char *keel__bundle_entry_hex(keel_bundle_builder *b,
                                   keel__bundle_entry *e)
{
  job_finish(b, e->job);
  return e->job->hex;
}

/* After the last job: lets the worker end (and free the compressors)
 * while the seal goes on; builder_free joins it. */
void keel__bundle_retire_worker(keel_bundle_builder *b)
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

void keel__bundle_borrow_compressor(keel_bundle_builder *b)
{
  if (!b->worker_started) /* no worker: the compressors are this thread's */
    return;
  pthread_mutex_lock(&b->mu);
  while (!b->seal_defl_ready)
    pthread_cond_wait(&b->done, &b->mu);
  pthread_mutex_unlock(&b->mu);
}

void keel__bundle_worker_init(keel_bundle_builder *b)
{
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
}

void keel__bundle_worker_free(keel_bundle_builder *b)
{
  stop_worker(b);
  if (b->sync_ready) {
    pthread_cond_destroy(&b->done);
    pthread_cond_destroy(&b->wake);
    pthread_mutex_destroy(&b->mu);
    b->sync_ready = 0;
  }
  keel_gzseg_deflater_free(&b->seal_defl);
  keel_gzseg_deflater_free(&b->worker_defl);
}
