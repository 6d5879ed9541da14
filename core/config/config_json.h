/* The resolved configuration as JSON (jansson), for `keel check --json`
 * and the run bundle's config_full.json and config.json. */
#ifndef KEEL_CONFIG_CONFIG_JSON_H
#define KEEL_CONFIG_CONFIG_JSON_H

#include <jansson.h>

#include "config/config.h"

/* A new object (caller json_decref()s it), or NULL when out of memory:
 *   {"manifest": {"path", "dir"},
 *    "template": {"name", "version", "path", "task"},
 *    "checks": {"min_rows", "max_missing_fraction", "min_class_count",
 *               "missing", "finite"; only when the template sets them:
 *               "max_rows", "max_class_imbalance", "drift_reference", "after",
 *               "columns": {NAME: {BOUND: number, "categories": [...]}}},
 *    "stages": [{"section", "kind" ("host" or a plugin kind), "line",
 *                "plugin": {"name", "version", "sha256", "path"} | null,
 *                "params": [{"name", "type", "value" (typed), "text"
 *                            (canonical), "origin", "where" | null,
 *                            "min", "max" (numeric types)}]}],
 *    "dataset": {...} (keel_dataset_to_json; only for a [source] dataset),
 *    "overrides": ["section.key=value", ...]}
 * Stages come in pipeline order: data, source, transforms, model, loss,
 * optimizer, train. */
json_t *keel_run_config_to_json(const keel_run_config *cfg);

/* How a dataset was resolved, for the record (config_full.json, `keel
 * check --json`): {"ref", "where", "catalog", "catalog_origin", "id",
 * "name", "version", "sha256", "location" (an absolute path, or a URL
 * without user information or query), "scheme", "auth" (the method, never
 * a secret), "scope", "license", "owner", "as_of", "max_age_days"}. */
json_t *keel_dataset_to_json(const keel_dataset *d);

/* The resolved values alone (a run bundle's config.json, format 2), a new
 * object or NULL when out of memory:
 *   {"template": {"name", "version", "task"},
 *    "checks": (as above),
 *    "stages": [{"section", "kind", "plugin": {"name", "version"} | null,
 *                "params": [{"name", "type", "value", "text"}]}]}
 * Without origins, places, ranges, paths, plugin SHA-256s, overrides or the
 * thread count; a host parameter at its neutral value (config.h) is left
 * out. */
json_t *keel_run_config_values_json(const keel_run_config *cfg);

/* One parameter's typed value as JSON (bool, integer, real, string or
 * array), or NULL when out of memory. */
json_t *keel_value_to_json(const keel_param_decl *decl, const keel_value *v);

#endif
