/* What the files of the plugin test kit share (never included from
 * another layer): the context a kind's properties run in, the record
 * writer, seeded random numbers and byte comparisons. */
#ifndef KEEL_RUN_PLUGIN_TEST_INTERNAL_H
#define KEEL_RUN_PLUGIN_TEST_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "plugin/host.h"
#include "plugin/loader.h"
#include "run/plugin_test.h"

/* One parameter set of one plugin, ready to call. */
typedef struct pt_ctx {
  const keel_loaded_plugin *plugin;
  keel_host host;        /* bound to ctx: relative paths resolve in dir */
  keel_host_context ctx; /* what the plugin's inputs saw */
  keel_value *params;    /* one per declaration, defaults filled */
  const char *fixture;   /* the parameter set's name, NULL: the defaults */
  uint64_t seed;
  const char *only; /* run this property alone, or NULL: all */
  keel_pt_report *report;
} pt_ctx;

/* True when property `name` is to run (--only). */
int pt_wanted(const pt_ctx *c, const char *name);
/* Appends one record; detail is printf-formatted. 0 or KEEL_ENOMEM. */
int pt_record(pt_ctx *c, const char *property, keel_pt_result result,
              const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Uniform in [lo, hi) from (seed, stream, index): keel/rng.h's Philox. */
double pt_uniform(uint64_t seed, uint64_t stream, uint64_t index, double lo,
                  double hi);
/* Uniform integer in [lo, hi]. */
size_t pt_between(uint64_t seed, uint64_t stream, uint64_t index, size_t lo,
                  size_t hi);
/* Index of the first float whose bits differ, or n when all agree. */
size_t pt_first_diff(const float *a, const float *b, size_t n);
/* NULL when the actual schema is what decl declares (names and types in
 * order, NAME=* a group of NAME=... columns, no flag decl leaves out),
 * else what differs, written in buf. */
const char *pt_schema_diff(const keel_schema *decl, const keel_schema *got,
                           char *buf, size_t size);
/* Max(1, n) floats, zeroed; NULL on ENOMEM. */
float *pt_floats(size_t n);

/* Random streams: one per use, so adding a use never shifts another. */
enum {
  PT_STREAM_SHAPE = 1,
  PT_STREAM_X,
  PT_STREAM_DOUT,
  PT_STREAM_CHUNKS,
  PT_STREAM_DATA,
  PT_STREAM_GRAD,
  PT_STREAM_Y
};

/* The properties of each kind; each records its results in c->report. */
int pt_lint(pt_ctx *c);
int pt_model(pt_ctx *c);
int pt_transform(pt_ctx *c);
int pt_loss(pt_ctx *c);
int pt_optimizer(pt_ctx *c);
int pt_source(pt_ctx *c);

#endif
