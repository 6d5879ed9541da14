/* keel SDK: a real host for a plugin's own unit tests (keel::test_host in
 * CMake, `pkg-config keel-test`).
 *
 * The host table keel itself hands plugins (the same table, schema, state
 * and input services, from the same code), plus what a test needs around
 * it: parameter values with the declared defaults, fitted state as the
 * JSON keel seals. A unit test links libkeel_test_host; the plugin under
 * test still links nothing of keel. Not for use inside a plugin.
 *
 *   keel_test_host *th = keel_test_host_new(NULL);
 *   const keel_host *h = keel_test_host_services(th);
 *   keel_value *p;
 *   keel_test_params(desc, (const char *const[]){"lo=-1", NULL}, &p, &err);
 *   ... call the plugin's functions with h and p ...
 *   keel_test_params_free(desc, p);
 *   keel_test_host_free(th);
 *
 * docs/plugin-guide.md, "Testing your plugin", has a whole test. */
#ifndef KEEL_TEST_HOST_H
#define KEEL_TEST_HOST_H

#include "keel/keel.h"

#define KEEL_TEST_HOST_API __attribute__((visibility("default")))

typedef struct keel_test_host keel_test_host;

/* A host whose data files (keel_open_input) resolve relative paths in
 * base_dir (copied; NULL: the working folder). NULL on ENOMEM. */
KEEL_TEST_HOST_API keel_test_host *keel_test_host_new(const char *base_dir);
/* Frees the host and what it recorded; tables and states a test made
 * stay the test's to free. */
KEEL_TEST_HOST_API void keel_test_host_free(keel_test_host *th);
/* The services table to pass to the plugin (owned by th). */
KEEL_TEST_HOST_API const keel_host *keel_test_host_services(keel_test_host *th);

/* Values for every parameter plugin declares: the defaults, then each
 * "key=value" of settings (NULL-terminated, or NULL) parsed as a manifest
 * value is, range-checked. KEEL_EINVAL naming the parameter when one is
 * unknown, out of range, or required and not set. Free with
 * keel_test_params_free. */
KEEL_TEST_HOST_API int keel_test_params(const keel_plugin *plugin,
                                        const char *const *settings,
                                        keel_value **out, keel_error *err);
KEEL_TEST_HOST_API void keel_test_params_free(const keel_plugin *plugin,
                                              keel_value *values);

/* An empty fitted state (free with keel_test_state_free) and its
 * canonical JSON, the bytes keel seals (malloc'd; free with free()). */
KEEL_TEST_HOST_API keel_state *keel_test_state_new(void);
KEEL_TEST_HOST_API void keel_test_state_free(keel_state *state);
KEEL_TEST_HOST_API char *keel_test_state_json(const keel_state *state);

/* An empty schema to pass to a `schema` function, and its release. */
KEEL_TEST_HOST_API void keel_test_schema_init(keel_schema *schema);
KEEL_TEST_HOST_API void keel_test_schema_free(keel_schema *schema);

#endif /* KEEL_TEST_HOST_H */
