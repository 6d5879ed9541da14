/* fsutil: atomic writes (content, mode, no-replace, no temporary left),
 * whole-file reads (content and the NUL after it, refusals by kind), and
 * mkdir -p, folder fsync. */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/fsutil.h"
#include "base/status.h"
#include "test_util.h"

/* Entries of dir other than . and .. */
static int count_entries(const char *dir)
{
  DIR *d = opendir(dir);
  int n = 0;
  if (!d)
    return -1;
  for (struct dirent *e; (e = readdir(d));)
    n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
  closedir(d);
  return n;
}

static void test_write_atomic(void)
{
  char dir[4096], path[4200];
  snprintf(dir, sizeof dir, "%s", keel_test_tmp_path("fs-write"));
  keel_error err = {0};
  CU_ASSERT_EQUAL_FATAL(keel_fs_mkdir_p(dir, &err), KEEL_OK);
  snprintf(path, sizeof path, "%s/a.bin", dir);
  CU_ASSERT_EQUAL(keel_write_file_atomic(path, "first", 5, 0600, 0, &err),
                  KEEL_OK);
  struct stat st;
  CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
  CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
  /* replacing keeps one file, the new bytes */
  CU_ASSERT_EQUAL(keel_write_file_atomic(path, "second!", 7, 0644, 0, &err),
                  KEEL_OK);
  unsigned char *data = NULL;
  size_t n = 0;
  CU_ASSERT_EQUAL_FATAL(keel_read_file(path, &data, &n, &err), KEEL_OK);
  CU_ASSERT_EQUAL(n, 7);
  CU_ASSERT_EQUAL(memcmp(data, "second!", 7), 0);
  free(data);
  /* no_replace refuses an existing path and leaves it as it was */
  memset(&err, 0, sizeof err);
  CU_ASSERT_NOT_EQUAL(keel_write_file_atomic(path, "third", 5, 0644, 1, &err),
                      KEEL_OK);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "a.bin"));
  CU_ASSERT_EQUAL_FATAL(keel_read_file(path, &data, &n, &err), KEEL_OK);
  CU_ASSERT_EQUAL(n, 7);
  CU_ASSERT_EQUAL(memcmp(data, "second!", 7), 0);
  free(data);
  /* no temporary is left behind, whatever happened */
  CU_ASSERT_EQUAL(count_entries(dir), 1);
}

static void test_read_file(void)
{
  char dir[4096], path[4200];
  snprintf(dir, sizeof dir, "%s", keel_test_tmp_path("fs-read"));
  keel_error err = {0};
  CU_ASSERT_EQUAL_FATAL(keel_fs_mkdir_p(dir, &err), KEEL_OK);
  /* a file larger than any first guess, with NUL bytes inside */
  size_t big = 300000;
  unsigned char *bytes = malloc(big);
  CU_ASSERT_PTR_NOT_NULL_FATAL(bytes);
  for (size_t i = 0; i < big; i++)
    bytes[i] = (unsigned char)(i * 7);
  snprintf(path, sizeof path, "%s/big.bin", dir);
  CU_ASSERT_EQUAL_FATAL(keel_write_file_atomic(path, bytes, big, 0644, 0, &err),
                        KEEL_OK);
  unsigned char *data = NULL;
  size_t n = 0;
  CU_ASSERT_EQUAL_FATAL(keel_read_file(path, &data, &n, &err), KEEL_OK);
  CU_ASSERT_EQUAL(n, big);
  CU_ASSERT_EQUAL(memcmp(data, bytes, big), 0);
  CU_ASSERT_EQUAL(data[n], 0); /* the spare NUL */
  free(data);
  free(bytes);
  /* empty: a buffer, length 0, NUL-terminated */
  snprintf(path, sizeof path, "%s/empty", dir);
  CU_ASSERT_EQUAL_FATAL(keel_write_file_atomic(path, "", 0, 0644, 0, &err),
                        KEEL_OK);
  CU_ASSERT_EQUAL_FATAL(keel_read_file(path, &data, &n, &err), KEEL_OK);
  CU_ASSERT_EQUAL(n, 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(data);
  CU_ASSERT_EQUAL(data[0], 0);
  free(data);
  /* missing: not found, named; a folder: refused, named */
  snprintf(path, sizeof path, "%s/nope", dir);
  memset(&err, 0, sizeof err);
  CU_ASSERT_EQUAL(keel_read_file(path, &data, &n, &err), KEEL_ENOTFOUND);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "nope"));
  CU_ASSERT_PTR_NULL(data);
  memset(&err, 0, sizeof err);
  CU_ASSERT_EQUAL(keel_read_file(dir, &data, &n, &err), KEEL_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "not a regular file"));
}

static void test_mkdir_p(void)
{
  char dir[4200];
  snprintf(dir, sizeof dir, "%s/x/y/z", keel_test_tmp_path("fs-mkdir"));
  keel_error err = {0};
  CU_ASSERT_EQUAL(keel_fs_mkdir_p(dir, &err), KEEL_OK);
  struct stat st;
  CU_ASSERT(stat(dir, &st) == 0 && S_ISDIR(st.st_mode));
  CU_ASSERT_EQUAL(keel_fs_mkdir_p(dir, &err), KEEL_OK); /* exists: fine */
}

/* The folder fsync: fine for a file in an existing folder, KEEL_EIO naming
 * the path when the folder is not there. */
static void test_sync_dir_of(void)
{
  char path[4200];
  snprintf(path, sizeof path, "%s/file", keel_test_tmp_path("fs-sync"));
  keel_error err = {0};
  CU_ASSERT_EQUAL(keel_fs_mkdir_p(keel_test_tmp_path("fs-sync"), &err),
                  KEEL_OK);
  CU_ASSERT_EQUAL(keel_fs_sync_dir_of(path, &err), KEEL_OK);
  snprintf(path, sizeof path, "%s/absent/file", keel_test_tmp_path("fs-sync"));
  CU_ASSERT_EQUAL(keel_fs_sync_dir_of(path, &err), KEEL_EIO);
  CU_ASSERT_EQUAL(err.code, KEEL_EIO);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, path));
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"atomic write: content, mode, no-replace, no temporary left",
       test_write_atomic},
      {"read a whole file: content, NUL, refusals", test_read_file},
      {"mkdir -p", test_mkdir_p},
      {"folder fsync: ok, and KEEL_EIO naming the path", test_sync_dir_of},
      {NULL, NULL}};
  return keel_test_run_suite("fsutil", tests);
}
