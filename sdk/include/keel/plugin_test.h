/* keel SDK: test fixtures a plugin offers `keel plugin-test`.
 *
 * The first use of the descriptor's `extension(uri)`: a plugin that
 * answers KEEL_EXT_PLUGIN_TEST with a static keel_plugin_test_ext tells
 * the test kit which parameter sets to test it with (a model's non-default
 * options, a source's required path) and, for a source, the sample data
 * to read. Without it the kit tests the defaults, and skips, saying why,
 * what needs a required parameter. Everything here is static const data;
 * the kit reads only the first struct_size bytes (grow by appending).
 * docs/plugin-guide.md, "Testing your plugin", has an example. */
#ifndef KEEL_PLUGIN_TEST_H
#define KEEL_PLUGIN_TEST_H

#include <stddef.h>
#include <stdint.h>

/* The URI the kit asks extension() for. */
#define KEEL_EXT_PLUGIN_TEST "keel.ext/plugin-test/1"

/* A data file the kit writes into a scratch folder before the fixture
 * runs; relative paths the plugin opens (keel_open_input) resolve in that
 * folder. Without files they resolve in the folder of the plugin file. */
typedef struct keel_test_file {
  const char *name;  /* a plain file name: no '/', not "." or ".." */
  const char *bytes; /* the content (need not be text) */
  size_t len;        /* bytes in content */
} keel_test_file;

/* One parameter set to test with. */
typedef struct keel_test_fixture {
  const char *name; /* shown with each property: "defaults", "relu" */
  /* "key=value" as a manifest would write the value, NULL-terminated (or
   * NULL: all defaults); parameters not named keep their defaults. */
  const char *const *params;
  const keel_test_file *files; /* n_files sample files, or NULL */
  size_t n_files;
} keel_test_fixture;

typedef struct keel_plugin_test_ext {
  uint32_t struct_size; /* sizeof(keel_plugin_test_ext) as compiled */
  uint32_t reserved;    /* 0 */
  const keel_test_fixture *fixtures; /* tested in order, each in full */
  size_t n_fixtures;
} keel_plugin_test_ext;

#endif /* KEEL_PLUGIN_TEST_H */
