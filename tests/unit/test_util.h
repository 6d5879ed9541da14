/* Helpers shared by the CUnit test programs. */
#ifndef KEEL_TEST_UTIL_H
#define KEEL_TEST_UTIL_H

#include <CUnit/CUnit.h>

#include "keel/keel.h"
#include "plugin/loader.h"

typedef struct keel_test_case {
  const char *name;
  void (*fn)(void);
} keel_test_case;

/* Runs one suite of tests (array ended by {NULL, NULL}); returns the exit
 * code for main(): 0 when every test passed. */
int keel_test_run_suite(const char *suite, const keel_test_case *tests);

/* Loads built plugin NAME.so from KEEL_TEST_PLUGIN_DIR and checks its kind;
 * fails the current test (and returns NULL) if it cannot. */
const keel_loaded_plugin *keel_test_plugin(keel_kind kind, const char *name);

/* The default values of a plugin's parameters (parsed from its
 * declarations by the host's parameter code), as a freshly allocated array
 * the test may edit; freed at exit. */
keel_value *keel_test_default_values(const keel_loaded_plugin *p);

/* A host table with no input context (input_open resolves relative to
 * KEEL_TEST_DATA_DIR). */
const keel_host *keel_test_host(void);

/* A path in a fresh scratch folder under /tmp for this test program
 * (removed after a clean run; KEEL_TEST_KEEP=1 keeps it). Each call
 * returns a string of its own, valid until the suite ends. */
const char *keel_test_tmp_path(const char *name);

/* The whole file as a malloc'd buffer (one spare byte), its size in *n;
 * NULL if it cannot be read. */
unsigned char *keel_test_read_file(const char *path, size_t *n);

/* Inflates exactly one whole gzip member (zlib checks CRC-32 and length)
 * into a malloc'd buffer; NULL if gz is anything else. */
unsigned char *keel_test_gunzip(const unsigned char *gz, size_t n,
                                size_t *out_n);

#endif
