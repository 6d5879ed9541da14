/* Training checkpoints: everything the loop needs to continue a run to the
 * same bits as if it had never stopped.
 *
 * File format (little-endian), version 2:
 *   "KEELCKP1"                          8-byte magic
 *   u32 version (2), u32 reserved (0)
 *   u64 epoch, step, best_epoch, bad_epochs; f64 best_value
 *   u64 n_weights, n_opt_state, fingerprint length, metrics length
 *   u64 batch; f64 loss, sq_err, abs_err sums; u64 n_confusion
 *   fingerprint bytes, weights (f32), optimizer state (f32),
 *   class counts (u64 x n_confusion), metrics text
 *   32 bytes: SHA-256 of everything above
 * Version 1 (still read) lacks the batch line and the class counts: it
 * was always taken at an epoch's end. The RNG position is the epoch:
 * shuffles are keyed by (seed, epoch); a checkpoint taken inside an epoch
 * (an interrupted run) adds the batches done and the epoch's partial
 * metric sums, so the epoch's metrics line comes out the same.
 * Files are written atomically (temporary file in the same folder, fsync,
 * rename, fsync of the folder), so a killed run leaves the previous
 * checkpoint or the new one, never a torn file. */
#ifndef KEEL_TRAIN_CHECKPOINT_H
#define KEEL_TRAIN_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "keel/keel.h"

typedef struct keel_checkpoint {
  char *fingerprint;   /* the caller's identity of configuration + data */
  uint64_t epoch;      /* epochs completed */
  uint64_t step;       /* optimizer steps taken */
  uint64_t best_epoch; /* early stopping: epoch of the best value (0 none) */
  uint64_t bad_epochs; /* early stopping: epochs since the best */
  double best_value;   /* early stopping: best validation value */
  float *weights;
  size_t n_weights;
  float *opt_state;
  size_t n_opt_state;
  char *metrics_jsonl; /* per-epoch metric lines so far */
  /* Inside an epoch: batches of epoch `epoch` (0-based: the one after
   * the completed ones) already stepped, 0 at an epoch's end; the
   * epoch's training sums so far and its class counts (K * K,
   * classification; n_confusion 0 at an epoch's end or for regression). */
  uint64_t batch;
  double loss_sum, sq_err_sum, abs_err_sum;
  uint64_t *confusion;
  size_t n_confusion;
} keel_checkpoint;

/* The bytes of ck as a checkpoint file, malloc'd into *out, *n. */
int keel_checkpoint_encode(const keel_checkpoint *ck, unsigned char **out,
                           size_t *n, keel_error *err);
/* Writes ck to path atomically. Borrowed ck. */
int keel_checkpoint_write(const char *path, const keel_checkpoint *ck,
                          keel_error *err);
/* Parses and verifies the n bytes at p like keel_checkpoint_read; name
 * says where they came from in messages (a bundle member). */
int keel_checkpoint_parse(const unsigned char *p, size_t n, const char *name,
                          keel_checkpoint *out, keel_error *err);
/* Reads and verifies (magic, version, sizes, SHA-256) a checkpoint into
 * *out (owned by the caller: keel_checkpoint_free). KEEL_EINTEGRITY for a
 * corrupted or truncated file, KEEL_EIO when it cannot be read. */
int keel_checkpoint_read(const char *path, keel_checkpoint *out,
                         keel_error *err);
void keel_checkpoint_free(keel_checkpoint *ck);

#endif
