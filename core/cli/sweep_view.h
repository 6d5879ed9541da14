/* keel show and keel diff of a sweep's bundle (keel-sweep/1,
 * docs/tuning.md): the space, strategy and seed, the frozen inputs, every
 * trial ranked, and two sweeps trial by trial. */
#ifndef KEEL_CLI_SWEEP_VIEW_H
#define KEEL_CLI_SWEEP_VIEW_H

#include "bundle/bundle.h"

/* The ranked table of sweep.json's object: every successful trial best
 * first (rank, trial, objective, result digest, values), then the failed
 * ones with their errors. */
void keel_sweep_print_trials(const json_t *sweep);

/* Prints sweep bundle b (checked: r, integrity the line to show); as one
 * JSON object with as_json. Returns the exit code (3 when not intact). */
int keel_sweep_show(const keel_bundle *b, const keel_bundle_report *r,
                    const char *integrity, int as_json);

/* What differs between sweeps a and b (paths pa, pb): quiet and 0 when
 * their sweep result digests are equal, else the differences and 1. */
int keel_sweep_diff(const keel_bundle *a, const keel_bundle *b, const char *pa,
                    const char *pb);

#endif
