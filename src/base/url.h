/* url.h — the one rule for URLs we talk to: https anywhere, plain http only on loopback.
 *
 * rg_url_https_or_loopback: true when url is "https://host[:port][/...]" or
 * "http://<loopback>[:port][/...]" (127.0.0.0/8 in strict dotted-quad form, [::1],
 * localhost), at most RG_URL_MAX bytes, without a fragment, user info, backslash, control
 * characters, spaces or non-ASCII bytes, and with a non-empty host. Used for issuer URLs in
 * the realm configuration and for every endpoint a discovery document names. */
#ifndef RG_BASE_URL_H
#define RG_BASE_URL_H

#include <stdbool.h>

#define RG_URL_MAX 2048

bool rg_url_https_or_loopback(const char *url);

#endif
