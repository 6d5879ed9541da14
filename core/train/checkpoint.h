/* Training checkpoints: everything the loop needs to continue a run to the
 * same bits as if it had never stopped.
 *
 * File format (little-endian), version 1:
 *   "KEELCKP1"                          8-byte magic
 *   u32 version (1), u32 reserved (0)
 *   u64 epoch, step, best_epoch, bad_epochs; f64 best_value
 *   u64 n_weights, n_opt_state, fingerprint length, metrics length
 *   fingerprint bytes, weights (f32), optimizer state (f32), metrics text
 *   32 bytes: SHA-256 of everything above
 * The RNG position is the epoch: shuffles are keyed by (seed, epoch).
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
} keel_checkpoint;

/* Writes ck to path atomically. Borrowed ck. */
int keel_checkpoint_write(const char *path, const keel_checkpoint *ck,
                          keel_error *err);
/* Reads and verifies (magic, version, sizes, SHA-256) a checkpoint into
 * *out (owned by the caller: keel_checkpoint_free). KEEL_EINTEGRITY for a
 * corrupted or truncated file, KEEL_EIO when it cannot be read. */
int keel_checkpoint_read(const char *path, keel_checkpoint *out,
                         keel_error *err);
void keel_checkpoint_free(keel_checkpoint *ck);

#endif
