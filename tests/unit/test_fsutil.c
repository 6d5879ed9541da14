/* fsutil: atomic writes (content, mode, no-replace, no temporary left),
 * whole-file reads (content and the NUL after it, refusals by kind), and
 * mkdir -p, folder fsync; the sweep of stale temporaries (issue 11,
 * finding 6, "Leftovers after kill -9"). */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/log.h"
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

static char swept_log[8192];

static void capture_log(void *ctx, keel_log_level level, const char *message)
{
  (void)ctx;
  (void)level;
  size_t used = strlen(swept_log);
  snprintf(swept_log + used, sizeof swept_log - used, "%s\n", message);
}

static int exists(const char *dir, const char *name)
{
  char path[4200];
  struct stat st;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return lstat(path, &st) == 0;
}

static void touch(const char *dir, const char *name)
{
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fputs("x", f);
  fclose(f);
}

/* Leftovers after kill -9: a temporary nobody holds locked is stale and
 * swept, with a log line naming it; one a writer holds open stays, and so
 * does every name that is not keel's temporary pattern. */
static void test_sweep_stale_temps(void)
{
  char dir[4096], path[4200];
  snprintf(dir, sizeof dir, "%s", keel_test_tmp_path("fs-sweep"));
  keel_error err = {0};
  CU_ASSERT_EQUAL_FATAL(keel_fs_mkdir_p(dir, &err), KEEL_OK);
  CU_ASSERT_EQUAL(keel_fs_sweep_stale_temps(dir, &err), 0);
  /* a live writer's temporary */
  char *live = NULL;
  snprintf(path, sizeof path, "%s/out.bin", dir);
  int fd = keel_fs_temp_open(path, &live, &err);
  CU_ASSERT_FATAL(fd >= 0);
  const char *live_name = strrchr(live, '/') + 1;
  CU_ASSERT(keel_fs_is_temp_name(live_name));
  /* what a killed writer left, and names that only look alike */
  touch(dir, ".checkpoint.ckpt.tmp-Ab3dE9");
  touch(dir, "checkpoint.ckpt.tmp-Ab3dE9");  /* no leading dot */
  touch(dir, ".checkpoint.ckpt.tmp-Ab3dE");  /* five characters */
  touch(dir, ".checkpoint.ckpt.tmp-Ab3d_9"); /* not mkstemp's */
  touch(dir, "..tmp-Ab3dE9x");
  touch(dir, "data.csv");
  swept_log[0] = '\0';
  keel_log_set_sink(capture_log, NULL);
  CU_ASSERT_EQUAL(keel_fs_sweep_stale_temps(dir, &err), 1);
  keel_log_set_sink(NULL, NULL);
  CU_ASSERT(!exists(dir, ".checkpoint.ckpt.tmp-Ab3dE9"));
  CU_ASSERT_PTR_NOT_NULL(strstr(swept_log, ".checkpoint.ckpt.tmp-Ab3dE9"));
  CU_ASSERT_PTR_NULL(strstr(swept_log, live_name));
  CU_ASSERT(exists(dir, live_name));
  CU_ASSERT(exists(dir, "checkpoint.ckpt.tmp-Ab3dE9"));
  CU_ASSERT(exists(dir, ".checkpoint.ckpt.tmp-Ab3dE"));
  CU_ASSERT(exists(dir, ".checkpoint.ckpt.tmp-Ab3d_9"));
  CU_ASSERT(exists(dir, "..tmp-Ab3dE9x"));
  CU_ASSERT(exists(dir, "data.csv"));
  /* the live writer still commits */
  CU_ASSERT_EQUAL(write(fd, "ok", 2), 2);
  CU_ASSERT_EQUAL(keel_fs_temp_commit(fd, live, path, 0, &err), KEEL_OK);
  CU_ASSERT(exists(dir, "out.bin"));
  /* a writer that died without committing: closed, it is stale */
  char *dead = NULL;
  fd = keel_fs_temp_open(path, &dead, &err);
  CU_ASSERT_FATAL(fd >= 0);
  close(fd);
  CU_ASSERT_EQUAL(keel_fs_sweep_stale_temps(dir, &err), 1);
  CU_ASSERT(!exists(dir, strrchr(dead, '/') + 1));
  free(dead);
  /* a folder that is not there: nothing to do */
  snprintf(path, sizeof path, "%s/absent", dir);
  CU_ASSERT_EQUAL(keel_fs_sweep_stale_temps(path, &err), 0);
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"atomic write: content, mode, no-replace, no temporary left",
       test_write_atomic},
      {"read a whole file: content, NUL, refusals", test_read_file},
      {"mkdir -p", test_mkdir_p},
      {"folder fsync: ok, and KEEL_EIO naming the path", test_sync_dir_of},
      {"leftovers after kill -9: stale temporaries swept, live ones kept",
       test_sweep_stale_temps},
      {NULL, NULL}};
  return keel_test_run_suite("fsutil", tests);
}
