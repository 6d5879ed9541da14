/* The plugin scanner: checks one plugin file in a child process and
 * returns what its descriptor says as JSON ("facts"), so that listing
 * plugins runs no plugin code (ELF constructors included) in the host.
 * GStreamer's registry does the same with gst-plugin-scanner. */
#ifndef KEEL_PLUGIN_SCAN_H
#define KEEL_PLUGIN_SCAN_H

#include <jansson.h>

#include "plugin/loader.h"

/* Loads and checks path in a forked child (its stdout and stderr are
 * captured, never shown) and returns the child's facts in *facts (owned
 * by the caller): {"ok": true, kind, name, version, summary, license,
 * abi, contract, build, params} or {"ok": false, reason, kind, name}. A
 * child that dies before answering gives {"ok": false} with the signal or
 * exit status and the end of its output in the reason. Fails only for
 * resources (KEEL_ENOMEM, KEEL_EIO: no fork, no pipe). */
int keel_plugin_scan_file(const char *path, json_t **facts, keel_error *err);

/* The facts of an accepted plugin (used by the child; also for tests). */
json_t *keel_plugin_facts(const keel_loaded_plugin *p);

/* A listed-only plugin from accepted facts: desc holds copies of the text
 * (owned by the result), api is NULL until keel_registry_find loads it.
 * path and sha256 are the host's. NULL when out of memory or the facts are
 * malformed (a cache edited by hand). */
keel_loaded_plugin *keel_plugin_from_facts(const json_t *facts,
                                           const char *path,
                                           const char *sha256);

#endif
