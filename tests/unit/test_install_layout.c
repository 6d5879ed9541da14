/* base/install_layout: the folders a binary finds from its own path. This
 * test program lies in the build tree, so it gets the build tree's
 * folders; tests/e2e/test_relocated_install.sh covers a moved install. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/install_layout.h"
#include "test_util.h"

static void test_build_tree(void)
{
  keel_install_layout l;
  keel_error err = {0};
  CU_ASSERT_EQUAL_FATAL(keel_install_layout_find(&l, &err), 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(l.binary);
  CU_ASSERT_PTR_NOT_NULL(strstr(l.binary, "test_install_layout"));
  CU_ASSERT_EQUAL(l.build_tree, 1);
  char want[PATH_MAX];
  CU_ASSERT_PTR_NOT_NULL_FATAL(realpath(KEEL_TEST_PLUGIN_DIR, want));
  CU_ASSERT_STRING_EQUAL(l.dirs[KEEL_INSTALL_PLUGINS], want);
  CU_ASSERT_PTR_NOT_NULL_FATAL(
      realpath(KEEL_TEST_SOURCE_DIR "/manifests/templates", want));
  CU_ASSERT_STRING_EQUAL(l.dirs[KEEL_INSTALL_TEMPLATES], want);
  CU_ASSERT_PTR_NOT_NULL_FATAL(realpath(KEEL_TEST_SOURCE_DIR "/docs", want));
  CU_ASSERT_STRING_EQUAL(l.dirs[KEEL_INSTALL_DOCS], want);
  keel_install_layout_free(&l);
  CU_ASSERT_PTR_NULL(l.binary);
}

static void test_one_dir(void)
{
  char *dir = NULL;
  keel_error err = {0};
  CU_ASSERT_EQUAL_FATAL(keel_install_dir(KEEL_INSTALL_MANIFESTS, &dir, &err),
                        0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
  size_t n = strlen(dir);
  CU_ASSERT(n > 10 && strcmp(dir + n - 10, "/manifests") == 0);
  free(dir);
  CU_ASSERT_STRING_EQUAL(keel_install_item_name(KEEL_INSTALL_TEMPLATES),
                         "template_dir");
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"build_tree", test_build_tree}, {"one_dir", test_one_dir}, {NULL, NULL}};
  return keel_test_run_suite("install_layout", tests);
}
