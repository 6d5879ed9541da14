/* How a URL is shown (see url.h). */
#include "base/url.h"

#include <stdio.h>
#include <string.h>

const char *keel_url_printable(const char *url, char *buf, size_t n)
{
  const char *host = strstr(url, "://");
  size_t scheme = host ? (size_t)(host - url) + 3 : 0;
  const char *rest = url + scheme;
  size_t authority = strcspn(rest, "/?#");
  const char *at = memchr(rest, '@', authority);
  const char *shown = at ? at + 1 : rest;
  size_t keep = strcspn(shown, "?#");
  snprintf(buf, n, "%.*s%.*s%s", (int)scheme, url, (int)keep, shown,
           shown[keep] ? "?..." : "");
  return buf;
}
