/* The host side of keel_host: the services plugins call, and the per-run
 * context those services report into (data files read, with hashes). */
#ifndef KEEL_PLUGIN_HOST_H
#define KEEL_PLUGIN_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "keel/keel.h"

/* One data file a plugin read through host->input_open. */
typedef struct keel_input_record {
  char *name;      /* the path as the plugin gave it */
  char *resolved;  /* the path opened */
  char sha256[65]; /* hex SHA-256 of the bytes on disk (after settle) */
  uint64_t bytes;  /* size on disk (after settle) */
  size_t route;    /* 1 + the index in ctx->routes of the route it was opened
                      by; 0 for none */
  struct keel_input_hash *hashing; /* until settle: the hash in progress */
} keel_input_record;

/* A name the data layer's access shim (data/access.h) has placed: a
 * plugin opening exactly `name` reads `path`, and settling checks the
 * bytes against `sha256`, what the catalog (or a bundle) records. */
typedef struct keel_input_route {
  char *name;      /* "penguins@1.0.0": what the plugin asks for */
  char *path;      /* the local file with those bytes */
  char sha256[65]; /* the bytes it must have */
  char *what;      /* for messages: "dataset penguins@1.0.0 (catalog
                      /x/catalog.ini:30, file:penguins.csv)" */
} keel_input_route;

/* Where input_open resolves relative paths, and what it saw. */
typedef struct keel_host_context {
  char *base_dir;            /* folder of the manifest */
  keel_input_record *inputs; /* in first-open order, no duplicates */
  size_t n_inputs;
  keel_input_route *routes; /* consulted first, by exact name */
  size_t n_routes;
  /* Optional: when set, input_open maps a path to another one (replay uses
   * it to read bundled data); returns a malloc'd path or NULL for as-is. */
  char *(*remap)(void *remap_ctx, const char *path);
  void *remap_ctx;
} keel_host_context;

/* Initialises ctx with base_dir (copied). input_open hashes each new file
 * for the lineage while the plugin reads it: on a thread of its own when
 * omp_get_max_threads() > 1, before input_open returns otherwise. */
int keel_host_context_init(keel_host_context *ctx, const char *base_dir);
void keel_host_context_free(keel_host_context *ctx);

/* Adds (or, for a name routed before, replaces) a route; the strings are
 * copied. KEEL_ENOMEM. */
int keel_host_context_route(keel_host_context *ctx, const char *name,
                            const char *path, const char *sha256,
                            const char *what);

/* Waits for the lineage hashes of every input opened so far and fills
 * their sha256 and bytes; KEEL_EINTEGRITY naming the file if one changed
 * while the run read it, or if a routed input's bytes are not the ones
 * its route records (*bad, when not NULL, then points at that record).
 * Call after the data is read, before using ctx->inputs. */
int keel_host_context_settle(keel_host_context *ctx, keel_error *err);
int keel_host_context_settle_checked(keel_host_context *ctx,
                                     const keel_input_record **bad,
                                     keel_error *err);

/* Forgets every input read (their hashes stopped), keeping the routes:
 * the data is read again from the start (a corrupt cache entry replaced
 * under a route). */
void keel_host_context_forget_inputs(keel_host_context *ctx);

/* A host table whose input services report into ctx (borrowed; must
 * outlive every use of *out). */
void keel_host_bind(keel_host *out, keel_host_context *ctx);

#endif
