/* keel SDK: the services the host lends to plugins.
 *
 * The host hands every plugin a const keel_host table: at init, and again
 * as the first argument of each call that may need it, so a plugin keeps no
 * global pointer and links no host symbol (it builds with
 * -Wl,--no-undefined). The table is size-prefixed and append-only: new
 * services are added at the end and bump KEEL_ABI_MINOR; check
 * KEEL_HOST_HAS(host, member) before using a service newer than 1.0.
 *
 * Threading: every service may be called from any thread, except that one
 * table, schema or state object must not be changed by two threads at once.
 * Ownership: objects the host creates (tables, schemas, states, inputs)
 * are freed by the host unless a function says otherwise. */
#ifndef KEEL_HOST_H
#define KEEL_HOST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "keel/data.h"
#include "keel/error.h"

/* Fitted state of a transform: typed named arrays the host serializes as
 * JSON (doubles printed so they read back bit-exactly). Opaque. */
typedef struct keel_state keel_state;

/* A data file opened through the host. The host resolves the path against
 * the manifest's folder, decompresses gzip transparently, and records the
 * SHA-256 of the bytes on disk in the run's data lineage. Opaque. */
typedef struct keel_input keel_input;

typedef enum keel_log_level {
  KEEL_LOG_DEBUG = 0,
  KEEL_LOG_INFO = 1,
  KEEL_LOG_WARN = 2
} keel_log_level;

typedef struct keel_host {
  uint32_t struct_size; /* sizeof(keel_host) as the host was built */
  uint32_t abi_major;   /* KEEL_ABI_MAJOR of the host */
  uint32_t abi_minor;   /* KEEL_ABI_MINOR of the host */
  uint32_t reserved0;

  /* -- errors and logging ------------------------------------------- */
  /* Formats a message into err (which may be NULL) and returns code. */
  int (*fail)(keel_error *err, int code, const char *fmt, ...)
      __attribute__((format(printf, 3, 4)));
  /* Logs one line on the host's log (stderr unless redirected). */
  void (*log)(keel_log_level level, const char *fmt, ...)
      __attribute__((format(printf, 2, 3)));

  /* -- memory that crosses the boundary ------------------------------ */
  void *(*alloc)(size_t size); /* NULL on failure */
  void *(*alloc_zero)(size_t count, size_t size);
  void (*free)(void *p); /* free(NULL) is a no-op */

  /* -- schemas --------------------------------------------------------- */
  /* Appends a column (name copied). KEEL_EINVAL on a duplicate name. */
  int (*schema_add)(keel_schema *schema, const char *name, keel_col_type type,
                    uint32_t flags, keel_error *err);

  /* -- tables ---------------------------------------------------------- */
  /* A new table with n_rows rows and no columns; free with table_free
   * unless it is handed back to the host as an output. NULL on ENOMEM. */
  keel_table *(*table_new)(size_t n_rows);
  /* Appends a column (name copied) and allocates its arrays zeroed: num
   * for NUMERIC/DATE, code for CATEGORICAL (dict copied, n_dict entries),
   * text pointers for TEXT, and missing always. Returns the new column,
   * valid until the next table_add on the same table; NULL and err set on
   * a duplicate name or ENOMEM. */
  keel_column *(*table_add)(keel_table *table, const char *name,
                            keel_col_type type, const char *const *dict,
                            size_t n_dict, keel_error *err);
  /* Appends a deep copy of column src (from any table with the same
   * n_rows). Same return rules as table_add. */
  keel_column *(*table_copy_column)(keel_table *table, const keel_column *src,
                                    keel_error *err);
  /* Sets row `row` of a TEXT column to a copy of s[0..len). */
  int (*text_set)(keel_table *table, size_t col, size_t row, const char *s,
                  size_t len, keel_error *err);
  void (*table_free)(keel_table *table);

  /* -- fitted transform state ------------------------------------------ */
  int (*state_put_f64)(keel_state *st, const char *key, const double *v,
                       size_t n, keel_error *err);
  int (*state_put_strings)(keel_state *st, const char *key,
                           const char *const *v, size_t n, keel_error *err);
  /* Borrowed views valid while the state lives. KEEL_ENOTFOUND if absent. */
  int (*state_get_f64)(const keel_state *st, const char *key, const double **v,
                       size_t *n, keel_error *err);
  int (*state_get_strings)(const keel_state *st, const char *key,
                           const char *const **v, size_t *n, keel_error *err);

  /* -- data files -------------------------------------------------------- */
  /* Opens `path` (relative to the manifest's folder) for reading. */
  int (*input_open)(void *ctx, const char *path, keel_input **in,
                    keel_error *err);
  /* Reads up to n bytes; returns bytes read (0 at end) or a KEEL_E*. */
  long (*input_read)(keel_input *in, void *buf, size_t n, keel_error *err);
  /* The name to use in messages (the path as the manifest gave it). */
  const char *(*input_name)(const keel_input *in);
  void (*input_close)(keel_input *in);

  /* Host context for calls that take one (input_open); opaque. */
  void *ctx;

  /* -- since ABI 1.1: check KEEL_HOST_HAS(host, input_view) ------------ */
  /* The whole content of an open input, decompressed and read-only, valid
   * until input_close: memory the host owns, never a mapping of the file.
   * An uncompressed file is read once per run (shared with the lineage
   * hash, so the bytes handed out are the bytes hashed); a gzip file is
   * inflated once. A file that ends early, grows or changes while it is
   * read is KEEL_EINTEGRITY naming it ("the file changed while this run
   * was reading it"), never a signal. Independent of input_read's
   * position. An empty file gives len 0 and a non-NULL data. */
  int (*input_view)(keel_input *in, const char **data, size_t *len,
                    keel_error *err);
} keel_host;

/* True when the host table has service MEMBER (for services added after
 * ABI 1.0). */
#define KEEL_HOST_HAS(HOST, MEMBER)                                            \
  ((HOST)->struct_size >=                                                      \
   offsetof(keel_host, MEMBER) + sizeof(((keel_host *)0)->MEMBER))

#endif /* KEEL_HOST_H */
