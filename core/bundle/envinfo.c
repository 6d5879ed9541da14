/* Environment capture, drift and Containerfile generation. */
#include "bundle/envinfo.h"

#include <ctype.h>
#include <gnu/libc-version.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <archive.h>
#include <curl/curl.h>
#include <ffi.h>
#include <omp.h>
#include <openssl/crypto.h>
#include <zlib.h>

#include "base/json_text.h"
#include "base/number.h"
#include "base/status.h"
#include "bundle/revision.h"

#ifndef KEEL_VERSION
#define KEEL_VERSION "unknown"
#endif
#ifndef KEEL_C_COMPILER
#define KEEL_C_COMPILER "unknown"
#endif
#ifndef KEEL_C_FLAGS
#define KEEL_C_FLAGS ""
#endif

/* Debian packages whose versions pin a run's environment: the runtime
 * libraries keel links and the tools and headers it builds with. */
static const char *const env_packages[] = {
    "libc6",          "libgomp1",        "libssl3",
    "libarchive13",   "libjansson4",     "libinih1",
    "zlib1g",         "libffi8",         "libcurl4",
    "libsqlite3-0",   "libc6-dev",       "libssl-dev",
    "libarchive-dev", "libjansson-dev",  "libinih-dev",
    "zlib1g-dev",     "libffi-dev",      "libcurl4-openssl-dev",
    "libsqlite3-dev", "libcunit1-dev",   "gcc",
    "gcc-12",         "cmake",           "make",
    "pkg-config",     "ca-certificates", NULL};

static char *trim(char *s)
{
  char *e;
  while (isspace((unsigned char)*s))
    s++;
  e = s + strlen(s);
  while (e > s && isspace((unsigned char)e[-1]))
    *--e = '\0';
  return s;
}

/* Facts of the machine (os-release, cpuinfo, package versions) are not
 * ours to refuse: a byte that is not UTF-8 is recorded escaped as \xNN
 * (base/json_text.h), never dropped with its value. */
static void set_str(json_t *obj, const char *key, const char *value)
{
  json_object_set_new(obj, key, keel_json_message(value ? value : ""));
}

static json_t *capture_os_release(void)
{
  static const char *const keep[] = {"ID", "VERSION_ID", "VERSION_CODENAME",
                                     "PRETTY_NAME", NULL};
  json_t *o = json_object();
  FILE *f = fopen("/etc/os-release", "r");
  char line[512];
  if (!f)
    return o;
  while (fgets(line, sizeof line, f)) {
    char *eq = strchr(line, '='), *v;
    if (!eq)
      continue;
    *eq = '\0';
    v = trim(eq + 1);
    if (*v == '"' || *v == '\'') {
      size_t n = strlen(v);
      if (n >= 2 && v[n - 1] == v[0])
        v[n - 1] = '\0';
      v++;
    }
    for (size_t i = 0; keep[i]; i++)
      if (strcmp(trim(line), keep[i]) == 0)
        set_str(o, keep[i], v);
  }
  fclose(f);
  return o;
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* CPU model and flags (sorted, space-separated) from /proc/cpuinfo. */
static json_t *capture_cpu(void)
{
  json_t *o = json_object();
  FILE *f = fopen("/proc/cpuinfo", "r");
  char *line = NULL;
  size_t cap = 0;
  int have_model = 0, have_flags = 0;
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  json_object_set_new(o, "logical_cpus", json_integer(n > 0 ? n : 0));
  set_str(o, "model", "unknown");
  set_str(o, "flags", "");
  if (!f)
    return o;
  while (getline(&line, &cap, f) > 0 && !(have_model && have_flags)) {
    char *colon = strchr(line, ':');
    char *key, *val;
    if (!colon)
      continue;
    *colon = '\0';
    key = trim(line);
    val = trim(colon + 1);
    if (!have_model && strcmp(key, "model name") == 0) {
      set_str(o, "model", val);
      have_model = 1;
    } else if (!have_flags &&
               (strcmp(key, "flags") == 0 || strcmp(key, "Features") == 0)) {
      char *words[1024], *save = NULL, *w, *joined;
      size_t nw = 0, len = 0;
      for (w = strtok_r(val, " \t", &save); w && nw < 1024;
           w = strtok_r(NULL, " \t", &save))
        words[nw++] = w;
      qsort(words, nw, sizeof *words, cmp_str);
      for (size_t i = 0; i < nw; i++)
        len += strlen(words[i]) + 1;
      joined = calloc(len + 1, 1);
      if (joined) {
        for (size_t i = 0; i < nw; i++) {
          if (i)
            strcat(joined, " ");
          strcat(joined, words[i]);
        }
        set_str(o, "flags", joined);
        free(joined);
      }
      have_flags = 1;
    }
  }
  free(line);
  fclose(f);
  return o;
}

/* Debian package versions via dpkg-query, {} where dpkg is absent. */
static json_t *capture_packages(void)
{
  json_t *o = json_object();
  char cmd[1024] = "dpkg-query -W -f '${Package}\\t${Version}\\n'";
  FILE *p;
  char line[512];
  if (access("/usr/bin/dpkg-query", X_OK) != 0)
    return o;
  for (size_t i = 0; env_packages[i]; i++) {
    strcat(cmd, " ");
    strcat(cmd, env_packages[i]);
  }
  strcat(cmd, " 2>/dev/null");
  fflush(NULL);
  p = popen(cmd, "r");
  if (!p)
    return o;
  while (fgets(line, sizeof line, p)) {
    char *tab = strchr(line, '\t'), *ver;
    if (!tab)
      continue;
    *tab = '\0';
    ver = trim(tab + 1);
    if (*ver)
      set_str(o, trim(line), ver);
  }
  pclose(p);
  return o;
}

json_t *keel_envinfo_capture(void)
{
  json_t *env = json_object(), *k, *os, *cc, *libs;
  struct utsname u;
  char buf[64];
  if (!env)
    return NULL;
  k = json_object();
  set_str(k, "version", KEEL_VERSION);
  set_str(k, "git_revision", keel_build_revision);
  json_object_set_new(env, "keel", k);

  os = json_object();
  if (uname(&u) == 0) {
    set_str(os, "sysname", u.sysname);
    set_str(os, "kernel", u.release);
    set_str(os, "kernel_version", u.version);
    set_str(os, "machine", u.machine);
  }
  json_object_set_new(env, "os", os);
  json_object_set_new(env, "os_release", capture_os_release());
  json_object_set_new(env, "cpu", capture_cpu());

  cc = json_object();
  set_str(cc, "compiler", KEEL_C_COMPILER);
  set_str(cc, "flags", trim((char[]){KEEL_C_FLAGS}));
  json_object_set_new(env, "build", cc);

  libs = json_object();
  set_str(libs, "glibc", gnu_get_libc_version());
  set_str(libs, "openssl", OpenSSL_version(OPENSSL_VERSION));
  set_str(libs, "libarchive", archive_version_string());
  set_str(libs, "jansson", jansson_version_str());
  set_str(libs, "zlib", zlibVersion());
  set_str(libs, "libcurl", curl_version_info(CURLVERSION_NOW)->version);
#ifdef FFI_VERSION_STRING
  set_str(libs, "libffi", FFI_VERSION_STRING);
#endif
  snprintf(buf, sizeof buf, "%d", _OPENMP);
  set_str(libs, "openmp", buf);
  json_object_set_new(env, "libraries", libs);
  json_object_set_new(env, "packages", capture_packages());

  /* The machine, not the run: the thread count a run used is a volatile
   * fact of that run and lives in run.json, so two runs on one machine
   * record the same environment.json whatever their thread counts. */
  json_object_set_new(env, "cpus_online",
                      json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
  return env;
}

/* ---- flattening ---------------------------------------------------------- */

typedef struct flat_buf {
  keel_flat *v;
  size_t n, cap;
  int failed;
} flat_buf;

static void flat_push(flat_buf *fb, const char *key, const json_t *j)
{
  char *value;
  keel_flat *grown;
  if (fb->failed)
    return;
  if (json_is_string(j)) {
    value = strdup(json_string_value(j));
  } else if (json_is_real(j)) {
    char buf[KEEL_DOUBLE_TEXT];
    keel_format_double(json_real_value(j), buf, sizeof buf);
    value = strdup(buf);
  } else
    value =
        json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(17));
  if (fb->n == fb->cap) {
    size_t cap = fb->cap ? 2 * fb->cap : 64;
    grown = realloc(fb->v, cap * sizeof *grown);
    if (!grown) {
      free(value);
      fb->failed = 1;
      return;
    }
    fb->v = grown;
    fb->cap = cap;
  }
  fb->v[fb->n].key = strdup(key);
  fb->v[fb->n].value = value;
  if (!fb->v[fb->n].key || !value) {
    free(fb->v[fb->n].key);
    free(value);
    fb->failed = 1;
    return;
  }
  fb->n++;
}

static void flat_walk(flat_buf *fb, const char *prefix, const json_t *j,
                      int depth)
{
  if (depth > 32) {
    json_t *note = json_string("(too deep)"); /* flat_push copies it */
    flat_push(fb, prefix, note);
    json_decref(note);
    return;
  }
  if (json_is_object(j)) {
    const char *key;
    json_t *v;
    if (json_object_size(j) == 0)
      flat_push(fb, prefix, j);
    json_object_foreach((json_t *)j, key, v)
    {
      size_t n = strlen(prefix) + strlen(key) + 2;
      char *p = malloc(n);
      if (!p) {
        fb->failed = 1;
        return;
      }
      snprintf(p, n, "%s%s%s", prefix, *prefix ? "." : "", key);
      flat_walk(fb, p, v, depth + 1);
      free(p);
    }
  } else if (json_is_array(j)) {
    size_t i;
    json_t *v;
    if (json_array_size(j) == 0)
      flat_push(fb, prefix, j);
    json_array_foreach(j, i, v)
    {
      size_t n = strlen(prefix) + 24;
      char *p = malloc(n);
      if (!p) {
        fb->failed = 1;
        return;
      }
      snprintf(p, n, "%s[%zu]", prefix, i);
      flat_walk(fb, p, v, depth + 1);
      free(p);
    }
  } else {
    flat_push(fb, prefix, j);
  }
}

static int flat_cmp(const void *a, const void *b)
{
  return strcmp(((const keel_flat *)a)->key, ((const keel_flat *)b)->key);
}

int keel_json_flatten(const json_t *j, keel_flat **out, size_t *n)
{
  flat_buf fb = {0};
  if (j)
    flat_walk(&fb, "", j, 0);
  if (fb.failed) {
    keel_flat_free(fb.v, fb.n);
    return KEEL_ENOMEM;
  }
  if (fb.n)
    qsort(fb.v, fb.n, sizeof *fb.v, flat_cmp);
  *out = fb.v;
  *n = fb.n;
  return 0;
}

void keel_flat_free(keel_flat *f, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(f[i].key);
    free(f[i].value);
  }
  free(f);
}

/* ---- drift -----------------------------------------------------------------
 */

/* Keys whose difference is not drift: they describe the run, not the
 * machine's software. */
static int drift_ignored(const char *key)
{
  return strncmp(key, "threads.", 8) == 0 || strcmp(key, "cpu.flags") == 0;
}

/* Words of a that are not in b (both sorted, space-separated). */
static void word_diff(FILE *out, const char *a, const char *b)
{
  char *ca = strdup(a), *save = NULL;
  size_t shown = 0;
  if (!ca)
    return;
  for (char *w = strtok_r(ca, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
    size_t wl = strlen(w);
    const char *p = b;
    int found = 0;
    while ((p = strstr(p, w)) != NULL) {
      if ((p == b || p[-1] == ' ') && (p[wl] == ' ' || p[wl] == '\0')) {
        found = 1;
        break;
      }
      p += wl;
    }
    if (!found)
      fprintf(out, "%s%s", shown++ ? " " : "", w);
  }
  if (!shown)
    fputs("-", out);
  free(ca);
}

int keel_envinfo_drift(const json_t *then, const json_t *now, char **report,
                       size_t *n_drift, keel_error *err)
{
  keel_flat *a = NULL, *b = NULL;
  size_t na = 0, nb = 0, i = 0, j = 0, count = 0;
  char *text = NULL;
  size_t len = 0;
  FILE *out;
  const char *fa, *fb;
  *report = NULL;
  *n_drift = 0;
  if (keel_json_flatten(then, &a, &na) || keel_json_flatten(now, &b, &nb)) {
    keel_flat_free(a, na);
    return keel_fail(err, KEEL_ENOMEM, "environment drift: out of memory");
  }
  out = open_memstream(&text, &len);
  if (!out) {
    keel_flat_free(a, na);
    keel_flat_free(b, nb);
    return keel_fail(err, KEEL_ENOMEM, "environment drift: out of memory");
  }
  while (i < na || j < nb) {
    int c = i >= na ? 1 : j >= nb ? -1 : strcmp(a[i].key, b[j].key);
    if (c == 0) {
      if (!drift_ignored(a[i].key) && strcmp(a[i].value, b[j].value) != 0) {
        fprintf(out, "%s: bundle '%s', here '%s'\n", a[i].key, a[i].value,
                b[j].value);
        count++;
      }
      i++, j++;
    } else if (c < 0) {
      if (!drift_ignored(a[i].key)) {
        fprintf(out, "%s: bundle '%s', here absent\n", a[i].key, a[i].value);
        count++;
      }
      i++;
    } else {
      if (!drift_ignored(b[j].key)) {
        fprintf(out, "%s: bundle absent, here '%s'\n", b[j].key, b[j].value);
        count++;
      }
      j++;
    }
  }
  fa =
      json_string_value(json_object_get(json_object_get(then, "cpu"), "flags"));
  fb = json_string_value(json_object_get(json_object_get(now, "cpu"), "flags"));
  if (fa && fb && strcmp(fa, fb) != 0) {
    fputs("cpu.flags: only in bundle: ", out);
    word_diff(out, fa, fb);
    fputs("; only here: ", out);
    word_diff(out, fb, fa);
    fputc('\n', out);
    count++;
  }
  fclose(out);
  keel_flat_free(a, na);
  keel_flat_free(b, nb);
  if (count == 0) {
    free(text);
    text = NULL;
  }
  *report = text;
  *n_drift = count;
  return 0;
}

/* ---- Containerfile ------------------------------------------------------ */

static int safe_token(const char *s)
{
  if (!s || !*s)
    return 0;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && !strchr(".+-~:_", *s))
      return 0;
  return 1;
}

int keel_envinfo_containerfile(const json_t *env, const char *run_id,
                               const char *snapshot_date, char **text,
                               keel_error *err)
{
  const json_t *osr = json_object_get(env, "os_release");
  const json_t *pk = json_object_get(env, "packages");
  const char *codename =
      json_string_value(json_object_get(osr, "VERSION_CODENAME"));
  const char *id = json_string_value(json_object_get(osr, "ID"));
  const char *kv = json_string_value(
      json_object_get(json_object_get(env, "keel"), "version"));
  const char *rev = json_string_value(
      json_object_get(json_object_get(env, "keel"), "git_revision"));
  const char *key;
  json_t *v;
  char *buf = NULL;
  size_t len = 0, n_pkgs = 0;
  FILE *out;
  *text = NULL;
  if (!id || strcmp(id, "debian") != 0 || !safe_token(codename))
    return keel_fail(err, KEEL_EUNSUPPORTED,
                     "environment.json: the run did not record a Debian "
                     "release (os_release.ID '%s', VERSION_CODENAME '%s'); "
                     "a pinned Containerfile needs one",
                     id ? id : "?", codename ? codename : "?");
  out = open_memstream(&buf, &len);
  if (!out)
    return keel_fail(err, KEEL_ENOMEM, "containerfile: out of memory");
  fprintf(out,
          "# Rebuilds the environment of keel run %s\n"
          "# (keel %s, revision %s), generated by `keel env --containerfile`.\n"
          "# Package versions are the ones the run recorded; if the mirror no\n"
          "# longer carries them, keep the snapshot.debian.org line below.\n"
          "FROM docker.io/library/debian:%s\n",
          /* from an untrusted bundle: a newline would add lines */
          safe_token(run_id) ? run_id : "?", safe_token(kv) ? kv : "?",
          safe_token(rev) ? rev : "?", codename);
  if (snapshot_date && safe_token(snapshot_date))
    fprintf(out,
            "RUN echo 'deb [check-valid-until=no] "
            "http://snapshot.debian.org/archive/debian/%s/ %s main' "
            "> /etc/apt/sources.list.d/snapshot.list && \\\n"
            "    echo 'deb [check-valid-until=no] "
            "http://snapshot.debian.org/archive/debian-security/%s/ "
            "%s-security main' >> /etc/apt/sources.list.d/snapshot.list\n",
            snapshot_date, codename, snapshot_date, codename);
  fputs("RUN apt-get update && \\\n"
        "    apt-get install -y --no-install-recommends --allow-downgrades",
        out);
  json_object_foreach((json_t *)pk, key, v)
  {
    const char *ver = json_string_value(v);
    if (!safe_token(key) || !safe_token(ver))
      continue;
    fprintf(out, " \\\n      %s=%s", key, ver);
    n_pkgs++;
  }
  fputs(" && \\\n    rm -rf /var/lib/apt/lists/*\n", out);
  if (rev && safe_token(rev) && strcmp(rev, "unknown") != 0)
    fprintf(out,
            "# Build keel at revision %s:\n"
            "#   cmake --preset default && cmake --build --preset default\n",
            rev);
  fclose(out);
  if (n_pkgs == 0) {
    free(buf);
    return keel_fail(err, KEEL_EUNSUPPORTED,
                     "environment.json records no Debian package versions "
                     "(dpkg-query was not available when the run was made)");
  }
  *text = buf;
  return 0;
}
