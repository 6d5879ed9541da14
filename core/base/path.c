/* Path strings (see path.h). */
#include "base/path.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *keel_path_dirname(const char *path)
{
  const char *slash = strrchr(path, '/');
  if (!slash)
    return strdup(".");
  if (slash == path)
    return strdup("/");
  return strndup(path, (size_t)(slash - path));
}

const char *keel_path_basename(const char *path)
{
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

char *keel_path_join(const char *dir, const char *path)
{
  if (path[0] == '/' || !dir || !dir[0])
    return strdup(path);
  size_t n = strlen(dir) + strlen(path) + 2;
  char *out = malloc(n);
  if (out)
    snprintf(out, n, "%s/%s", dir, path);
  return out;
}

char *keel_path_xdg_dir(const char *var, const char *fallback)
{
  const char *v = getenv(var), *home = getenv("HOME");
  if (v && v[0] == '/')
    return strdup(v);
  if (!home || !home[0]) {
    const struct passwd *pw = getpwuid(getuid());
    home = pw && pw->pw_dir ? pw->pw_dir : "/";
  }
  return keel_path_join(home, fallback);
}
