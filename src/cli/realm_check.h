/* realm_check.h — `realmgate realm check <realm> [--ca-file FILE]`: diagnoses an openid
 * realm's provider the way the server will meet it, and says in plain words what is wrong.
 *
 * Steps (each prints one "ok", "WARNING" or "PROBLEM" line):
 *   1. the realm exists and is an openid realm; its issuer URL is https (http only on a
 *      loopback host — an http issuer on any other host is a PROBLEM);
 *   2. the discovery document is fetched with the server's HTTP client (same limits, no
 *      redirects, TLS verified against the system store or --ca-file): unreachable host,
 *      DNS and TLS errors, non-200 answers are PROBLEMs (with curl's reason);
 *   3. clock: the offset to the provider's Date header; more than 60 s is a WARNING (ID-token
 *      time checks allow RG_OIDC_LEEWAY);
 *   4. the document: issuer equal to the configured issuer URL byte for byte (both strings
 *      shown; a trailing-slash-only difference is named as such), the required endpoints
 *      present and acceptable, response type `code`, the ID-token signing algorithms (none
 *      usable is a PROBLEM; unsupported ones are listed);
 *   5. the JWKS at jwks_uri: fetched, parsed with the server's parser (no usable key is a
 *      PROBLEM), and at least one key must fit an advertised algorithm;
 *   6. finally the server's own provider cache loads discovery + keys (rg_oidc_provider_get);
 *      any refusal it reports that steps 1-5 did not is a PROBLEM too.
 * Exit status: 0 when there is no PROBLEM (warnings allowed), 1 otherwise, 2 usage. */
#ifndef RG_CLI_REALM_CHECK_H
#define RG_CLI_REALM_CHECK_H

#define RG_CHECK_CLOCK_WARN 60

int cli_realm_check(int argc, char **argv, const char *config_dir);

#endif
