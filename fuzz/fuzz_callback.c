/* fuzz_callback.c — the parameters of POST /access/openid/login: the body parsers
 * (rg_params_parse_form, and rg_params_parse_json on the same bytes since the server accepts
 * both) and the login's input checks: state, code and redirect-url each present exactly once
 * (a repeated parameter is refused, catalogue CB rows), state in the pending-login alphabet
 * and length (rg_pending_state_valid), code 1..4096 printable ASCII (rg_oidc_code_valid),
 * redirect-url an absolute http(s) URL without user info or fragment
 * (rg_oidc_redirect_url_valid). Verdict 1 = all checks pass for the form reading. */
#include <stdlib.h>
#include <string.h>

#include "base/form.h"
#include "oidc/pending.h"
#include "oidc/rp.h"
#include "target.h"

const char rg_fuzz_name[] = "callback";

static int once(const struct rg_params *p, const char *k)
{
    return rg_params_count(p, k) == 1;
}

int rg_fuzz_one(const uint8_t *data, size_t size)
{
    struct rg_params p;
    int ok = 0;

    rg_params_init(&p);
    if (rg_params_parse_json(&p, (const char *)data, size) == RG_OK)
        (void)rg_params_get(&p, "state");
    rg_params_free(&p);

    rg_params_init(&p);
    if (size > 0 && rg_params_parse_form(&p, (const char *)data, size) == RG_OK &&
        once(&p, "state") && once(&p, "code") && once(&p, "redirect-url")) {
        ok = rg_pending_state_valid(rg_params_get(&p, "state")) &&
             rg_oidc_code_valid(rg_params_get(&p, "code")) &&
             rg_oidc_redirect_url_valid(rg_params_get(&p, "redirect-url"));
    }
    rg_params_free(&p);
    return ok;
}
