/* The input digest of a run (docs/registry.md, "The run cache"): what
 * determines a run before it trains — the resolved values (config.json's
 * bytes, not their origins), the SHA-256 of every data file read, in read
 * order, each plugin's kind, name, version and binary SHA-256, in pipeline
 * order, and the keel revision it was built from (not the version number,
 * which does not change with every commit). Two runs with one input digest
 * compute the same bits, so the registry can hand back the first instead
 * of training the second (`keel run --reuse`, sweeps). */
#ifndef KEEL_RUN_INPUT_DIGEST_H
#define KEEL_RUN_INPUT_DIGEST_H

#include "config/config.h"
#include "keel/keel.h"
#include "plugin/host.h"

/* The digest of cfg's plugins, ctx's settled inputs and config_text (the
 * stable config.json text), as 64 hex digits and a NUL in hex. */
int keel_input_digest(const keel_run_config *cfg, const keel_host_context *ctx,
                      const char *config_text, char hex[65], keel_error *err);

#endif
