/* keel_file_copy: see filecopy.h. Two locks: fill_lock lets one thread at
 * a time read the file (windows land in order, so "filled" is always a
 * prefix); mu guards the shared state and is held only for moments, so a
 * follower can wait on `more` while a reader sits in pread. */
#define _GNU_SOURCE
#include "base/filecopy.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/status.h"

struct keel_file_copy {
  int fd;
  char *name;
  unsigned char *data; /* len bytes; the first `filled` are the file's */
  size_t len;
  void *mapped; /* data's anonymous mapping (large files), else NULL */
  size_t mapped_len;
  keel_file_copy_window_fn on_window;
  void *arg;
  atomic_int refs;
  pthread_mutex_t fill_lock;
  pthread_mutex_t mu;
  pthread_cond_t more; /* filled grew, a reader stopped, or it failed */
  /* under mu */
  size_t filled;
  int readers;  /* threads holding or waiting for fill_lock */
  int complete; /* all len bytes in, and the file holds no more */
  int rc;       /* the first failure, then every call's answer */
  keel_error err;
};

#define HUGE_PAGE ((size_t)2 << 20)

/* Where the bytes go. A large file gets anonymous memory aligned to and
 * advised for 2 MiB pages: pread then takes one page fault per 2 MiB, not
 * per 4 KiB; copying the 520 MB bench file into 4 KiB pages took 2.6x as
 * long (docs/benchmarks.md, "Windows, not a mapping"). Mapping memory is
 * not mapping the file: nobody else can shrink it. */
static int alloc_bytes(keel_file_copy *c, size_t len)
{
  if (len < 4 * HUGE_PAGE)
    return len == 0 || (c->data = malloc(len)) != NULL;
  size_t n = len + HUGE_PAGE;
  void *p =
      mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return 0;
  uintptr_t a = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
  (void)madvise((void *)a, len, MADV_HUGEPAGE); /* advice: 4 KiB pages do */
  c->mapped = p;
  c->mapped_len = n;
  c->data = (unsigned char *)a;
  return 1;
}

static void free_bytes(keel_file_copy *c)
{
  if (c->mapped)
    munmap(c->mapped, c->mapped_len);
  else
    free(c->data);
}

int keel_file_copy_open(int fd, size_t len, const char *name,
                        keel_file_copy_window_fn on_window, void *arg,
                        keel_file_copy **out, keel_error *err)
{
  *out = NULL;
  keel_file_copy *c = calloc(1, sizeof *c);
  if (!c || !(c->name = strdup(name)) || !alloc_bytes(c, len)) {
    if (c)
      free(c->name);
    free(c);
    return keel_fail(err, KEEL_ENOMEM, "%s: out of memory (%zu bytes)", name,
                     len);
  }
  c->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (c->fd < 0) {
    int e = errno;
    free_bytes(c);
    free(c->name);
    free(c);
    return keel_fail(err, KEEL_EIO, "%s: cannot open: %s", name, strerror(e));
  }
  c->len = len;
  c->on_window = on_window;
  c->arg = arg;
  atomic_init(&c->refs, 1);
  pthread_mutex_init(&c->fill_lock, NULL);
  pthread_mutex_init(&c->mu, NULL);
  pthread_cond_init(&c->more, NULL);
  *out = c;
  return KEEL_OK;
}

/* Reads exactly n bytes at off into dst; the holder of fill_lock only. A
 * file that ends first changed since it was opened: its size then is the
 * promise every reader of the copy was given. */
static int read_window(keel_file_copy *c, unsigned char *dst, size_t n,
                       size_t off, keel_error *err)
{
  size_t got = 0;
  while (got < n) {
    ssize_t r = pread(c->fd, dst + got, n - got, (off_t)(off + got));
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return keel_fail(err, KEEL_EIO, "%s: read failed at byte %zu: %s",
                       c->name, off + got, strerror(errno));
    if (r == 0)
      return keel_fail(err, KEEL_EINTEGRITY,
                       "%s: the file changed while this run was reading it "
                       "(it ended at byte %zu, but had %zu bytes when "
                       "opened); run again on a file nothing writes to",
                       c->name, off + got, c->len);
    got += (size_t)r;
  }
  return KEEL_OK;
}

/* After the last window: a file that grew is not the file that was
 * opened either. */
static int check_end(keel_file_copy *c, keel_error *err)
{
  unsigned char extra;
  ssize_t r;
  do
    r = pread(c->fd, &extra, 1, (off_t)c->len);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return keel_fail(err, KEEL_EIO, "%s: read failed at byte %zu: %s", c->name,
                     c->len, strerror(errno));
  if (r > 0)
    return keel_fail(err, KEEL_EINTEGRITY,
                     "%s: the file changed while this run was reading it "
                     "(it grew past the %zu bytes it had when opened); run "
                     "again on a file nothing writes to",
                     c->name, c->len);
  return KEEL_OK;
}

/* The work of fill, with fill_lock held. */
static int fill_locked(keel_file_copy *c, size_t upto)
{
  keel_error err = {0};
  pthread_mutex_lock(&c->mu);
  size_t at = c->filled;
  int rc = c->rc, complete = c->complete;
  pthread_mutex_unlock(&c->mu);
  while (!rc && at < upto) {
    size_t n = c->len - at < KEEL_FILE_WINDOW ? c->len - at : KEEL_FILE_WINDOW;
    rc = read_window(c, c->data + at, n, at, &err);
    if (rc)
      break;
    if (c->on_window)
      c->on_window(c->arg, c->data + at, n);
    at += n;
    pthread_mutex_lock(&c->mu);
    c->filled = at;
    pthread_cond_broadcast(&c->more);
    pthread_mutex_unlock(&c->mu);
  }
  if (!rc && at == c->len && !complete)
    rc = check_end(c, &err);
  pthread_mutex_lock(&c->mu);
  if (rc && !c->rc) {
    c->rc = rc;
    c->err = err;
  }
  if (!c->rc && at == c->len)
    c->complete = 1;
  rc = c->rc;
  pthread_mutex_unlock(&c->mu);
  return rc;
}

/* keel_file_copy_fill; with try set, returns 1 at once (reading nothing)
 * when another thread holds the file. */
/* A reader that filled (or read in parallel) leaves: followers waiting
 * for more bytes wake up. */
static void reader_done(keel_file_copy *c)
{
  pthread_mutex_lock(&c->mu);
  c->readers--;
  pthread_cond_broadcast(&c->more);
  pthread_mutex_unlock(&c->mu);
}

/* The copy's outcome so far: 0, or the first error (into err). */
static int copy_result(keel_file_copy *c, keel_error *err)
{
  pthread_mutex_lock(&c->mu);
  int rc = c->rc;
  if (rc && err)
    *err = c->err;
  pthread_mutex_unlock(&c->mu);
  return rc;
}

static int fill(keel_file_copy *c, size_t upto, int try, keel_error *err)
{
  if (upto > c->len)
    upto = c->len;
  pthread_mutex_lock(&c->mu);
  int done = c->rc || (c->filled >= upto && (upto < c->len || c->complete));
  /* Counted before waiting for the lock, so a follower waits for this
   * reader's windows instead of racing it for the lock. */
  if (!done && !try)
    c->readers++;
  pthread_mutex_unlock(&c->mu);
  if (!done) {
    if (try) {
      if (pthread_mutex_trylock(&c->fill_lock) != 0)
        return 1;
      pthread_mutex_lock(&c->mu);
      c->readers++;
      pthread_mutex_unlock(&c->mu);
    } else {
      pthread_mutex_lock(&c->fill_lock);
    }
    fill_locked(c, upto);
    pthread_mutex_unlock(&c->fill_lock);
    reader_done(c);
  }
  return copy_result(c, err);
}

int keel_file_copy_fill(keel_file_copy *c, size_t upto, keel_error *err)
{
  return fill(c, upto, 0, err);
}

/* ---- reading with several threads --------------------------------------
 * Windows are claimed in order from a counter; "filled" advances over the
 * prefix of windows that are in, so followers still see bytes in order. */

typedef struct parallel_fill {
  keel_file_copy *c;
  atomic_size_t next; /* the next window to claim */
  size_t n_windows;
  unsigned char *done; /* per window, under c->mu */
  size_t prefix;       /* windows in, from the first; under c->mu */
} parallel_fill;

static void *claim_windows(void *arg)
{
  parallel_fill *pf = arg;
  keel_file_copy *c = pf->c;
  for (;;) {
    size_t w = atomic_fetch_add(&pf->next, 1);
    if (w >= pf->n_windows)
      break;
    size_t off = w * KEEL_FILE_WINDOW;
    size_t n =
        c->len - off < KEEL_FILE_WINDOW ? c->len - off : KEEL_FILE_WINDOW;
    keel_error err = {0};
    int rc = read_window(c, c->data + off, n, off, &err);
    pthread_mutex_lock(&c->mu);
    if (rc && !c->rc) {
      c->rc = rc;
      c->err = err;
    }
    pf->done[w] = !rc;
    while (pf->prefix < pf->n_windows && pf->done[pf->prefix])
      pf->prefix++;
    size_t filled = pf->prefix * KEEL_FILE_WINDOW;
    c->filled = filled < c->len ? filled : c->len;
    pthread_cond_broadcast(&c->more);
    int stop = c->rc != 0;
    pthread_mutex_unlock(&c->mu);
    if (stop)
      break;
  }
  return NULL;
}

/* All remaining windows with up to `threads` threads (this one included),
 * fill_lock held and no window callback. */
static void fill_parallel_locked(keel_file_copy *c, int threads)
{
  parallel_fill pf = {.c = c};
  pthread_mutex_lock(&c->mu);
  size_t first = c->filled / KEEL_FILE_WINDOW;
  int failed = c->rc != 0;
  pthread_mutex_unlock(&c->mu);
  pf.n_windows = (c->len + KEEL_FILE_WINDOW - 1) / KEEL_FILE_WINDOW;
  pf.prefix = first;
  atomic_init(&pf.next, first);
  pf.done = calloc(pf.n_windows ? pf.n_windows : 1, 1);
  if (failed || !pf.done || threads > 64) {
    free(pf.done);
    fill_locked(c, c->len); /* one thread reads it all the same */
    return;
  }
  pthread_t helper[64];
  int n_helpers = 0;
  while (n_helpers < threads - 1 &&
         pthread_create(&helper[n_helpers], NULL, claim_windows, &pf) == 0)
    n_helpers++;
  claim_windows(&pf);
  for (int i = 0; i < n_helpers; i++)
    pthread_join(helper[i], NULL);
  free(pf.done);
  fill_locked(c, c->len); /* the end check, or a window no one read */
}

int keel_file_copy_fill_all(keel_file_copy *c, int threads, keel_error *err)
{
  if (threads <= 1 || c->on_window || c->len <= KEEL_FILE_WINDOW)
    return keel_file_copy_fill(c, c->len, err);
  pthread_mutex_lock(&c->mu);
  int done = c->rc || c->complete;
  if (!done)
    c->readers++;
  pthread_mutex_unlock(&c->mu);
  if (!done) {
    pthread_mutex_lock(&c->fill_lock);
    fill_parallel_locked(c, threads);
    pthread_mutex_unlock(&c->fill_lock);
    reader_done(c);
  }
  return copy_result(c, err);
}

size_t keel_file_copy_follow(keel_file_copy *c, size_t have, keel_error *err)
{
  pthread_mutex_lock(&c->mu);
  for (;;) {
    if (c->filled > have) {
      have = c->filled;
      break;
    }
    if (c->rc) {
      if (err)
        *err = c->err;
      break;
    }
    if (c->complete)
      break;
    if (c->readers) {
      pthread_cond_wait(&c->more, &c->mu);
      continue;
    }
    /* Nobody is reading (the file is gzip, or its reader has not asked
     * yet): read the next window here. A reader that came first wins the
     * lock, and this thread goes back to waiting for its windows. */
    pthread_mutex_unlock(&c->mu);
    fill(c, have + 1, 1, NULL);
    pthread_mutex_lock(&c->mu);
  }
  pthread_mutex_unlock(&c->mu);
  return have;
}

const unsigned char *keel_file_copy_data(const keel_file_copy *c)
{
  return c->data;
}

size_t keel_file_copy_len(const keel_file_copy *c)
{
  return c->len;
}

keel_file_copy *keel_file_copy_ref(keel_file_copy *c)
{
  atomic_fetch_add(&c->refs, 1);
  return c;
}

void keel_file_copy_unref(keel_file_copy *c)
{
  if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
    return;
  close(c->fd);
  pthread_cond_destroy(&c->more);
  pthread_mutex_destroy(&c->mu);
  pthread_mutex_destroy(&c->fill_lock);
  free_bytes(c);
  free(c->name);
  free(c);
}
