/* Fetching an http(s) URL through libcurl (fetch_http.h). One easy handle
 * per fetch, one request per attempt; the body reaches the sink only from
 * a 200 or 206 response whose start is where the sink stands. */
#include "data/fetch_http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/status.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

/* libcurl before 7.84 is not safe to initialise from two threads; once. */
static void curl_init(void)
{
  curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- one transfer ------------------------------------------------------ */

typedef struct transfer {
  const keel_fetch_sink *sink;
  keel_error *err;
  uint64_t offset;  /* bytes the sink holds */
  uint64_t asked;   /* the Range start this request asked for */
  long status;      /* of the response being received */
  int body_checked; /* the status and range of this response are settled */
                    /* (status comes from the status line, which the
                       header callback sees before any body byte) */
  long range_start; /* Content-Range start, -1 when absent */
  int sink_failed;  /* the sink refused: stop, not retried */
  int bad_range;    /* a 206 that does not start where asked */
  int restarted;    /* this response restarted the body at 0 */
} transfer;

static size_t on_header(char *line, size_t size, size_t count, void *vt)
{
  transfer *t = vt;
  size_t n = size * count;
  long status;
  if (n >= 12 && strncmp(line, "HTTP/", 5) == 0 &&
      sscanf(line, "HTTP/%*s %ld", &status) == 1) {
    /* a new response (after a redirect or a 100): forget the last one */
    t->status = status;
    t->range_start = -1;
    t->body_checked = 0;
  } else if (n > 14 && strncasecmp(line, "content-range:", 14) == 0) {
    const char *p = line + 14;
    while (p < line + n && isspace((unsigned char)*p))
      p++;
    unsigned long long start;
    if (sscanf(p, "bytes %llu-", &start) == 1)
      t->range_start = (long)start;
  }
  return n;
}

static size_t on_body(char *data, size_t size, size_t count, void *vt)
{
  transfer *t = vt;
  size_t n = size * count;
  if (!t->body_checked) {
    t->body_checked = 1;
    if (t->status < 200 || t->status >= 300)
      return n; /* an error page: read and dropped */
    if (t->status == 206 && t->range_start != (long)t->asked) {
      t->bad_range = 1;
      return 0; /* stop; the next attempt starts over without Range */
    }
    if (t->status != 206 && t->offset > 0) {
      /* The server sent the whole body again (it ignored Range). */
      if (t->sink->restart(t->sink->ctx, t->err)) {
        t->sink_failed = 1;
        return 0;
      }
      t->offset = 0;
      t->restarted = 1;
    }
  }
  if (t->status < 200 || t->status >= 300)
    return n;
  if (t->sink->write(t->sink->ctx, data, n, t->err)) {
    t->sink_failed = 1;
    return 0;
  }
  t->offset += n;
  return n;
}

/* ---- credentials --------------------------------------------------------- */

/* Adds the headers of a header file ("Name: value" lines; blank lines and
 * '#' comments skipped). Messages name the file and line, never a value. */
static int add_header_file(const char *path, struct curl_slist **headers,
                           keel_error *err)
{
  FILE *f = fopen(path, "r");
  if (!f)
    return keel_fail(err, KEEL_EINVAL,
                     "auth header-file:%s: cannot read it: %s", path,
                     strerror(errno));
  char line[8192];
  int rc = KEEL_OK, no = 0;
  while (!rc && fgets(line, sizeof line, f)) {
    no++;
    size_t len = strcspn(line, "\r\n");
    if (line[len] == 0 && !feof(f)) {
      rc = keel_fail(err, KEEL_EINVAL,
                     "auth header-file:%s:%d: line longer than %zu bytes", path,
                     no, sizeof line - 2);
      break;
    }
    line[len] = 0;
    if (len == 0 || line[0] == '#')
      continue;
    const char *colon = strchr(line, ':');
    int ok = colon && colon > line;
    for (const char *p = line; ok && p < colon; p++)
      ok = isgraph((unsigned char)*p);
    for (const char *p = line; ok && *p; p++)
      ok = (unsigned char)*p >= 0x20 && *p != 0x7f;
    if (!ok) {
      rc = keel_fail(err, KEEL_EINVAL,
                     "auth header-file:%s:%d: not a `Name: value` header "
                     "line (the value is not shown)",
                     path, no);
      break;
    }
    struct curl_slist *grown = curl_slist_append(*headers, line);
    if (!grown)
      rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
    else
      *headers = grown;
  }
  fclose(f);
  return rc;
}

/* The request headers the credentials need (netrc is set per attempt). */
static int auth_headers(const keel_fetch_options *opt,
                        struct curl_slist **headers, keel_error *err)
{
  switch (opt->auth) {
  case KEEL_AUTH_BEARER_ENV: {
    const char *token = getenv(opt->auth_ref);
    if (!token || !token[0])
      return keel_fail(err, KEEL_EINVAL,
                       "auth bearer-env:%s: the environment variable %s is "
                       "not set (it holds the token)",
                       opt->auth_ref, opt->auth_ref);
    for (const char *p = token; *p; p++)
      if ((unsigned char)*p < 0x21 || *p == 0x7f)
        return keel_fail(err, KEEL_EINVAL,
                         "auth bearer-env:%s: the token holds a blank or "
                         "control byte (the token is not shown)",
                         opt->auth_ref);
    size_t n = strlen(token) + 32;
    char *line = malloc(n);
    if (!line)
      return keel_fail(err, KEEL_ENOMEM, "out of memory");
    snprintf(line, n, "Authorization: Bearer %s", token);
    struct curl_slist *grown = curl_slist_append(*headers, line);
    /* the token lives on only in libcurl's copy */
    memset(line, 0, n);
    free(line);
    if (!grown)
      return keel_fail(err, KEEL_ENOMEM, "out of memory");
    *headers = grown;
    return KEEL_OK;
  }
  case KEEL_AUTH_HEADER_FILE:
    return add_header_file(opt->auth_ref, headers, err);
  default: return KEEL_OK;
  }
}

/* ---- attempts ---------------------------------------------------------- */

/* HTTP statuses worth another attempt. */
static int retryable_status(long status)
{
  return status == 408 || status == 429 || status == 500 || status == 502 ||
         status == 503 || status == 504;
}

/* libcurl results worth another attempt: the network, not the request. */
static int retryable_result(CURLcode rc)
{
  switch (rc) {
  case CURLE_OPERATION_TIMEDOUT:
  case CURLE_COULDNT_CONNECT:
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR:
  case CURLE_PARTIAL_FILE:
  case CURLE_GOT_NOTHING:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM: return 1;
  default: return 0;
  }
}

static void pause_seconds(long s)
{
  struct timespec ts = {.tv_sec = s, .tv_nsec = 0};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

int keel_fetch_url(const char *url, const keel_fetch_options *opt_in,
                   const keel_fetch_sink *sink, keel_fetch_stats *stats,
                   keel_error *err)
{
  keel_fetch_options opt = *opt_in;
  if (opt.connect_timeout_s <= 0)
    opt.connect_timeout_s = 30;
  if (opt.stall_seconds <= 0)
    opt.stall_seconds = 30;
  if (opt.stall_bytes_per_s <= 0)
    opt.stall_bytes_per_s = 1;
  if (opt.max_attempts <= 0)
    opt.max_attempts = 5;
  if (opt.max_backoff_s <= 0)
    opt.max_backoff_s = 60;
  keel_fetch_stats local = {0};
  if (!stats)
    stats = &local;
  memset(stats, 0, sizeof *stats);
  char shown[1024];
  keel_url_printable(url, shown, sizeof shown);

  pthread_once(&curl_once, curl_init);
  if (curl_init_result != CURLE_OK)
    return keel_fail(err, KEEL_EIO, "%s: libcurl did not initialise: %s", shown,
                     curl_easy_strerror(curl_init_result));
  CURL *h = curl_easy_init();
  struct curl_slist *headers = NULL;
  if (!h)
    return keel_fail(err, KEEL_ENOMEM, "%s: out of memory", shown);
  int rc = auth_headers(&opt, &headers, err);
  if (rc) {
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    return rc;
  }
  char curl_msg[CURL_ERROR_SIZE];
  transfer t = {.sink = sink, .err = err, .range_start = -1};
  int resume_ok = 1;
  long wait = 1;
  rc = KEEL_EIO;
  for (int attempt = 1; attempt <= opt.max_attempts; attempt++) {
    curl_easy_reset(h);
    curl_msg[0] = 0;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    /* Headers of bearer-env and header-file would follow a redirect to
     * any host: with them, a redirect is an answer, not followed. */
    int own_headers =
        opt.auth == KEEL_AUTH_BEARER_ENV || opt.auth == KEEL_AUTH_HEADER_FILE;
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, own_headers ? 0L : 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, opt.connect_timeout_s);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, opt.stall_bytes_per_s);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, opt.stall_seconds);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_msg);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "keel");
    if (opt.ca_bundle)
      curl_easy_setopt(h, CURLOPT_CAINFO, opt.ca_bundle);
    if (headers)
      curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    if (opt.auth == KEEL_AUTH_NETRC) {
      curl_easy_setopt(h, CURLOPT_NETRC, (long)CURL_NETRC_REQUIRED);
      const char *file = getenv("NETRC");
      if (file && file[0])
        curl_easy_setopt(h, CURLOPT_NETRC_FILE, file);
    }
    t.asked = resume_ok ? t.offset : 0;
    if (t.asked > 0) {
      curl_easy_setopt(h, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)t.asked);
      stats->resumes++;
    } else if (t.offset > 0) {
      if (sink->restart(sink->ctx, err)) {
        rc = err->code ? err->code : KEEL_EIO;
        break;
      }
      t.offset = 0;
      stats->restarts++;
    }
    t.status = 0;
    t.body_checked = 0;
    t.range_start = -1;
    t.bad_range = 0;
    t.restarted = 0;
    stats->attempts = attempt;
    CURLcode res = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &t.status);
    stats->http_status = t.status;
    if (t.restarted)
      stats->restarts++;
    if (t.sink_failed) {
      rc = err->code ? err->code : KEEL_EIO;
      break;
    }
    if (res == CURLE_OK && t.status >= 200 && t.status < 300) {
      rc = KEEL_OK;
      break;
    }
    int again;
    char why[CURL_ERROR_SIZE + 96];
    if (t.bad_range) {
      snprintf(why, sizeof why,
               "answered a request for bytes %llu- with a range starting at "
               "%ld",
               (unsigned long long)t.asked, t.range_start);
      resume_ok = 0; /* this server's ranges are not to be trusted */
      again = 1;
    } else if (res == CURLE_OK || res == CURLE_HTTP_RETURNED_ERROR) {
      snprintf(why, sizeof why, "answered HTTP %ld", t.status);
      again = retryable_status(t.status);
    } else {
      snprintf(why, sizeof why, "%s",
               curl_msg[0] ? curl_msg : curl_easy_strerror(res));
      again = retryable_result(res);
      if (res == CURLE_RANGE_ERROR) {
        resume_ok = 0;
        again = 1;
      }
    }
    if (!again || attempt == opt.max_attempts) {
      rc = keel_fail(err, KEEL_EIO, "%s: %s (attempt %d of %d%s)", shown, why,
                     attempt, opt.max_attempts,
                     again ? "; no attempt left" : "; not retried");
      break;
    }
    curl_off_t retry_after = 0;
    curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &retry_after);
    long pause = retry_after > 0 ? (long)retry_after : wait;
    if (pause > opt.max_backoff_s)
      pause = opt.max_backoff_s;
    pause_seconds(pause);
    wait = wait * 2 > opt.max_backoff_s ? opt.max_backoff_s : wait * 2;
  }
  stats->bytes = t.offset;
  curl_slist_free_all(headers);
  curl_easy_cleanup(h);
  return rc;
}
