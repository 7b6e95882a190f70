/* fuzz_discovery.c — the discovery document parser (rg_oidc_discovery_parse) for the issuer
 * https://idp.example.test/t/v2.0 (as tests/data/oidc/discovery). Verdict 1 = accepted.
 * Also checks two invariants of an accepted document: the issuer equals the configured one
 * byte for byte and no endpoint is NULL where the parser promises one (abort otherwise, so
 * the fuzzer reports it). */
#include <stdlib.h>
#include <string.h>

#include "oidc/provider.h"
#include "target.h"

#define ISSUER "https://idp.example.test/t/v2.0"

const char rg_fuzz_name[] = "discovery";

int rg_fuzz_one(const uint8_t *data, size_t size)
{
    struct rg_oidc_discovery d;
    struct rg_msg msg = {{0}};

    if (rg_oidc_discovery_parse((const char *)data, size, ISSUER, &d, &msg) != RG_OK)
        return 0;
    if (!d.issuer || strcmp(d.issuer, ISSUER) != 0 || !d.authorization_endpoint ||
        !d.token_endpoint || !d.jwks_uri || !d.id_token_algs[0])
        abort();
    for (size_t i = 0; d.id_token_algs[i]; i++)
        if (strcmp(d.id_token_algs[i], "none") == 0)
            abort();
    rg_oidc_discovery_clear(&d);
    return 1;
}
