/* A stand-in for libFuzzer's main(): calls LLVMFuzzerTestOneInput once
 * on every file given, or on every file in every folder given (sorted by
 * name, not recursive). Linked with a fuzz target and built by any C
 * compiler, it replays the committed corpora as a plain test
 * (tests/fuzz/CMakeLists.txt), so a regression shows up in CI without
 * clang. Each input is passed in a buffer of exactly its size, so an ASan
 * build sees a read past its end. A target reports a finding by crashing
 * (abort), as under libFuzzer; the test then fails. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "replay: %s: cannot open\n", path);
    return -1;
  }
  size_t cap = 4096, len = 0;
  uint8_t *buf = malloc(cap);
  for (;;) {
    if (!buf) {
      fclose(f);
      fprintf(stderr, "replay: %s: out of memory\n", path);
      return -1;
    }
    len += fread(buf + len, 1, cap - len, f);
    if (len < cap)
      break;
    uint8_t *g = realloc(buf, cap * 2);
    if (!g)
      free(buf);
    buf = g;
    cap *= 2;
  }
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    free(buf);
    fprintf(stderr, "replay: %s: read error\n", path);
    return -1;
  }
  /* exactly sized copy: nothing readable past the input */
  uint8_t *exact = malloc(len ? len : 1);
  if (!exact) {
    free(buf);
    return -1;
  }
  memcpy(exact, buf, len);
  free(buf);
  LLVMFuzzerTestOneInput(exact, len);
  free(exact);
  return 0;
}

static int name_cmp(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Returns the number of inputs run, or -1. */
static long run_dir(const char *dir)
{
  DIR *d = opendir(dir);
  if (!d) {
    fprintf(stderr, "replay: %s: cannot open folder\n", dir);
    return -1;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.')
      continue;
    if (n == cap) {
      cap = cap ? 2 * cap : 256;
      char **g = realloc(names, cap * sizeof *g);
      if (!g)
        break;
      names = g;
    }
    names[n] = strdup(e->d_name);
    if (names[n])
      n++;
  }
  closedir(d);
  if (n)
    qsort(names, n, sizeof *names, name_cmp);
  long ran = 0;
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(dir) + strlen(names[i]) + 2;
    char *path = malloc(len);
    struct stat st;
    if (path) {
      snprintf(path, len, "%s/%s", dir, names[i]);
      if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
        if (run_file(path) != 0)
          ran = -1;
        else if (ran >= 0)
          ran++;
      }
      free(path);
    }
    free(names[i]);
  }
  free(names);
  return ran;
}

int main(int argc, char **argv)
{
  long total = 0;
  int failed = 0;
  if (argc < 2) {
    fprintf(stderr, "usage: %s DIR_OR_FILE...\n", argv[0]);
    return 2;
  }
  for (int i = 1; i < argc; i++) {
    struct stat st;
    long n;
    if (stat(argv[i], &st) != 0) {
      fprintf(stderr, "replay: %s: not found\n", argv[i]);
      failed = 1;
      continue;
    }
    n = S_ISDIR(st.st_mode) ? run_dir(argv[i]) : (run_file(argv[i]) ? -1 : 1);
    if (n < 0)
      failed = 1;
    else
      total += n;
  }
  printf("replayed %ld inputs\n", total);
  if (!failed && total == 0) {
    fprintf(stderr, "replay: no inputs found (empty corpus?)\n");
    return 1;
  }
  return failed;
}
