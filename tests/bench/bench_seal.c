/* What sealing adds to a run (prints figures; not a test).
 *
 *   bench_seal PLUGIN_DIR MANIFEST [--threads N] [--reps R] [OVERRIDE...]
 *
 * Runs MANIFEST end to end with keel_run_execute (resolve, read and
 * prepare the data, train, seal the bundle) R times and reports medians of
 * the whole run's wall time and of the time spent inside the bundle
 * builder's calls (builder_new ... seal: hashing, copying plugins, .npy
 * and JSON entries, the environment capture that seal waits for, tar.gz,
 * fsync, rename). The builder calls are timed by linking with
 * -Wl,--wrap=keel_bundle_* (tests/bench/CMakeLists.txt): run.c's calls go
 * through the wrappers below, the library's code is unchanged.
 * seal_over_rest = seal time / (run time - seal time): "sealing adds X% to
 * the run". */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/bundle.h"
#include "run/run.h"
#include "train/progress.h"

static double seal_seconds; /* summed by the wrappers */
/* per call name, summed over all reps, for the breakdown line */
#define N_CALLS 14
static const char *call_names[N_CALLS];
static double call_seconds[N_CALLS];

static void account(const char *name, double s)
{
  seal_seconds += s;
  for (int i = 0; i < N_CALLS; i++)
    if (!call_names[i] || strcmp(call_names[i], name) == 0) {
      call_names[i] = name;
      call_seconds[i] += s;
      return;
    }
}

#define TIMED(call)                                                            \
  do {                                                                         \
    double t0_ = keel_progress_now();                                          \
    call;                                                                      \
    account(__func__ + 7, keel_progress_now() - t0_);                          \
  } while (0)

/* One wrapper per builder call: declares __real_FN and __wrap_FN
 * (-Wmissing-prototypes) and defines __wrap_FN as the timed call of
 * __real_FN. PARAMS is the call's parameter list as in bundle.h / run.h,
 * ARGS the same names in parentheses. */
#define WRAP(ret, fn, params, args)                                            \
  ret __real_##fn params;                                                      \
  ret __wrap_##fn params;                                                      \
  ret __wrap_##fn params                                                       \
  {                                                                            \
    ret(*same_as_header_) params = fn; /* drift from bundle.h: -Werror */      \
    ret r_;                                                                    \
    (void)same_as_header_;                                                     \
    TIMED(r_ = __real_##fn args);                                              \
    return r_;                                                                 \
  }
#define WRAP_VOID(fn, params, args)                                            \
  void __real_##fn params;                                                     \
  void __wrap_##fn params;                                                     \
  void __wrap_##fn params                                                      \
  {                                                                            \
    void(*same_as_header_) params = fn; /* drift from bundle.h: -Werror */     \
    (void)same_as_header_;                                                     \
    TIMED(__real_##fn args);                                                   \
  }

WRAP(keel_bundle_builder *, keel_bundle_builder_new, (const char *run_id),
     (run_id))
WRAP_VOID(keel_bundle_builder_free, (keel_bundle_builder * b), (b))
WRAP(char *, keel_new_run_id, (void), ())
WRAP(int, keel_bundle_add_bytes,
     (keel_bundle_builder * b, const char *name, const void *data, size_t n,
      keel_error *err),
     (b, name, data, n, err))
WRAP(int, keel_bundle_add_file,
     (keel_bundle_builder * b, const char *name, const char *path,
      keel_error *err),
     (b, name, path, err))
WRAP(int, keel_bundle_add_json,
     (keel_bundle_builder * b, const char *name, const json_t *json,
      keel_error *err),
     (b, name, json, err))
WRAP(int, keel_bundle_add_config,
     (keel_bundle_builder * b, const json_t *full, const json_t *values,
      keel_error *err),
     (b, full, values, err))
WRAP(int, keel_bundle_add_npy_f32,
     (keel_bundle_builder * b, const char *name, const float *data,
      const size_t *shape, size_t ndim, keel_error *err),
     (b, name, data, shape, ndim, err))
WRAP(int, keel_bundle_add_npy_f64,
     (keel_bundle_builder * b, const char *name, const double *data,
      const size_t *shape, size_t ndim, keel_error *err),
     (b, name, data, shape, ndim, err))
WRAP(int, keel_bundle_add_plugin,
     (keel_bundle_builder * b, const char *kind, const char *name,
      const char *version, const char *abi, const char *path,
      const char sha256[65], int include_so, keel_error *err),
     (b, kind, name, version, abi, path, sha256, include_so, err))
WRAP(int, keel_bundle_audit,
     (keel_bundle_builder * b, const char *action, const char *object,
      const char *sha256, keel_error *err),
     (b, action, object, sha256, err))
WRAP(int, keel_bundle_set_info,
     (keel_bundle_builder * b, const char *key, const char *value,
      keel_error *err),
     (b, key, value, err))
WRAP_VOID(keel_bundle_set_outcome,
          (keel_bundle_builder * b, int exit_code, const char *error,
           int threads),
          (b, exit_code, error, threads))
WRAP(int, keel_bundle_seal,
     (keel_bundle_builder * b, const char *out_dir, const char *sign_key,
      char **final_path, char digest_hex[65], keel_error *err),
     (b, out_dir, sign_key, final_path, digest_hex, err))

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n)
{
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int main(int argc, char **argv)
{
  if (argc < 3) {
    fprintf(stderr, "usage: bench_seal PLUGIN_DIR MANIFEST [--threads N] "
                    "[--reps R] [OVERRIDE...]\n");
    return 2;
  }
  const char *plugin_dir = argv[1];
  int threads = 1, reps = 5;
  const char *overrides[64];
  size_t n_over = 0;
  for (int i = 3; i < argc; i++) {
    if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
      threads = atoi(argv[++i]);
    else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
      reps = atoi(argv[++i]);
    else if (n_over < 64)
      overrides[n_over++] = argv[i];
  }
  if (reps < 1)
    reps = 1;
  char out_dir[] = "/tmp/keel-bench-seal-XXXXXX";
  if (!mkdtemp(out_dir)) {
    perror("bench_seal: mkdtemp");
    return 2;
  }
  double *run = calloc((size_t)reps, sizeof *run);
  double *seal = calloc((size_t)reps, sizeof *seal);
  double *ratio = calloc((size_t)reps, sizeof *ratio);
  long long bytes = 0;
  for (int r = 0; r < reps; r++) {
    keel_run_options opt = {0};
    opt.manifest_path = argv[2];
    opt.overrides = overrides;
    opt.n_overrides = n_over;
    opt.plugin_paths = &plugin_dir;
    opt.n_plugin_paths = 1;
    opt.out_dir = out_dir;
    opt.threads = threads;
    opt.include_plugins = 1;
    keel_run_outcome o;
    keel_error err = {0};
    seal_seconds = 0;
    double t0 = keel_progress_now();
    int rc = keel_run_execute(&opt, &o, &err);
    run[r] = keel_progress_now() - t0;
    seal[r] = seal_seconds;
    ratio[r] = seal[r] / (run[r] - seal[r]);
    if (rc != KEEL_OK || o.exit_code != 0 || !o.bundle_path) {
      fprintf(stderr, "bench_seal: run failed (exit %d): %s\n", o.exit_code,
              err.message);
      keel_run_outcome_free(&o);
      return 1;
    }
    struct stat st;
    if (stat(o.bundle_path, &st) == 0)
      bytes = (long long)st.st_size;
    unlink(o.bundle_path);
    keel_run_outcome_free(&o);
  }
  /* remove what the runs left (checkpoint folders) */
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", out_dir);
  if (system(cmd) != 0)
    fprintf(stderr, "bench_seal: could not remove %s\n", out_dir);
  printf("peer=keel task=digits_seal threads=%d reps=%d run_s=%.4g "
         "seal_s=%.4g seal_over_rest=%.2f%% bundle_bytes=%lld\n",
         threads, reps, median(run, reps), median(seal, reps),
         100.0 * median(ratio, reps), bytes);
  printf("seal_breakdown (mean s per run):");
  for (int i = 0; i < N_CALLS && call_names[i]; i++)
    printf(" %s=%.4f", call_names[i], call_seconds[i] / reps);
  printf("\n");
  free(run);
  free(seal);
  free(ratio);
  return 0;
}
