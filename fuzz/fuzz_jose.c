/* fuzz_jose.c — JWS compact parser + signature check + ID-token claim checks, and the JWKS
 * parser, on the same bytes (a token is refused by the JWKS parser at once and the other way
 * round, so one corpus serves both).
 * Verdict bits: 1 = the input is a token that parses, verifies with the fixed RSA key
 * (kid fuzz-k1, RS256/PS256 allowed) and passes rg_idtoken_check for issuer
 * https://idp.example.test/t/v2.0, client fuzz-client, nonce fuzz-nonce at the fixed time
 * 1700000000; 2 = the input is a JWKS with at least one usable key.
 * The key is the public half of fuzz/seed-key.pem (fuzz/make_seeds.py prints it). */
#include <stdio.h>
#include <string.h>

#include "jose/jwk.h"
#include "jose/jws.h"
#include "oidc/idtoken.h"
#include "target.h"

const char rg_fuzz_name[] = "jose";

static const char fuzz_jwks[] =
    "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"fuzz-k1\",\"use\":\"sig\",\"n\":\"y0rhOfofp4y8"
    "ZT8yyR2VLgxMUSHPQyHDwHMvjP4veZ6PAeeiVWfBKPZAzXnJnmlEyNF31tuhvbsGhI4Rgj5tmuqknuLc1O1V"
    "r_LMinV549G8onW3ibvAtsL_4Q5acX8g_RKzHLnBbxdmKpNsX7L77rCtXrBTdCV6vE2xXgYDlgiTj1n0OxwV"
    "f7sG49BCAGMwdmV7uP4mpbSPaogZVUjJ0GKyNW25f94xy0mkEeM-iRb2Ed8qLufvdPkSVEEhkgU-6owHzC9a"
    "xKTxIXfm-Yh0uzUTvQM7zdRhLFkL3QGYBpkon32z47bZwtysqKopMKzDP15U30aQ1SwxakD-o9Nn9Q\",\"e"
    "\":\"AQAB\"}]}";

static int token_accepted(const uint8_t *data, size_t size)
{
    static const char *const algs[] = {"RS256", "PS256", NULL};
    struct rg_jwks keys;
    struct rg_jws jws;
    struct rg_msg msg = {{0}};
    struct rg_idtoken_expect x;
    int ok = 0;

    if (rg_jws_parse((const char *)data, size, &jws, &msg) != RG_OK)
        return 0;
    if (rg_jwks_parse(fuzz_jwks, strlen(fuzz_jwks), &keys, &msg) != RG_OK) {
        rg_jws_free(&jws);
        return 0;
    }
    if (rg_jws_verify(&jws, &keys, algs, NULL, &msg) == RG_OK) {
        memset(&x, 0, sizeof x);
        x.issuer = "https://idp.example.test/t/v2.0";
        x.client_id = "fuzz-client";
        x.nonce = "fuzz-nonce";
        x.now = 1700000000;
        x.leeway = 120;
        x.max_iat_age = 86400;
        ok = rg_idtoken_check(jws.payload, &x, &msg) == RG_OK;
    }
    rg_jwks_free(&keys);
    rg_jws_free(&jws);
    return ok;
}

static int jwks_accepted(const uint8_t *data, size_t size)
{
    struct rg_jwks keys;
    struct rg_msg msg = {{0}};
    int ok;

    if (rg_jwks_parse((const char *)data, size, &keys, &msg) != RG_OK)
        return 0;
    ok = keys.n > 0;
    rg_jwks_free(&keys);
    return ok;
}

int rg_fuzz_one(const uint8_t *data, size_t size)
{
    return token_accepted(data, size) | (jwks_accepted(data, size) << 1);
}
