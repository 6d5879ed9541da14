/* url: how keel shows a URL to a person or writes it into a record.
 * Secrets can ride in a URL's user information ("user:pass@") and its
 * query ("?token=..."); neither is ever printed, logged or sealed. */
#ifndef KEEL_BASE_URL_H
#define KEEL_BASE_URL_H

#include <stddef.h>

/* url without user information, query or fragment ("?..." marks a cut
 * query): what keel prints. Writes into buf (size n) and returns it. */
const char *keel_url_printable(const char *url, char *buf, size_t n);

#endif
