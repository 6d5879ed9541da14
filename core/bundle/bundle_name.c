/* The names a bundle may hold (see bundle_name.h). */
#include "bundle/bundle_name.h"

#include <string.h>

const char *keel__bundle_name_problem(const char *name)
{
  size_t len = strlen(name);
  const char *p = name;
  if (len == 0)
    return "empty name";
  if (len > KEEL__BUNDLE_PATH_MAX)
    return "name too long";
  if (name[0] == '/')
    return "absolute path";
  for (const char *c = name; *c; c++)
    if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == '\\')
      return "control character or backslash in name";
  while (*p) {
    const char *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    if (n == 2 && p[0] == '.' && p[1] == '.')
      return "'..' in path";
    if (n == 0 || (n == 1 && p[0] == '.'))
      return "non-canonical path (empty or '.' component)";
    p += n;
    if (*p == '/')
      p++;
  }
  return NULL;
}
