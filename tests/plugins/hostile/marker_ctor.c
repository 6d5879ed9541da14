/* The payload of a hostile plugin, for tests/e2e/test_untrusted_bundle_code.sh:
 * an ELF constructor runs inside dlopen(), before keel can check anything,
 * and appends a line to the file $KEEL_TEST_MARKER names. Linked with the
 * real sgd optimizer (tests/plugins/CMakeLists.txt), so the plugin also
 * works and a bundle carrying it looks ordinary but for its SHA-256. */
#include <stdio.h>
#include <stdlib.h>

__attribute__((constructor)) static void leave_marker(void)
{
  const char *path = getenv("KEEL_TEST_MARKER");
  FILE *f = path && path[0] ? fopen(path, "a") : NULL;
  if (f) {
    fputs("bundled plugin code ran\n", f);
    fclose(f);
  }
}
