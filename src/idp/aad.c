#include "idp/aad.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/rand.h"

void rg_idp_timestamp(int64_t t, char out[32])
{
    struct tm tm;
    time_t tt = (time_t)t;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%d %H:%M:%SZ", &tm);
}

static void guid_or_zero(char out[RG_IDP_GUID_LEN + 1])
{
    if (rg_random_uuid(out))
        snprintf(out, RG_IDP_GUID_LEN + 1, "00000000-0000-0000-0000-000000000000");
}

void rg_idp_ids_new(struct rg_idp_ids *ids, const struct rg_http_request *req, int64_t now)
{
    const char *cid = req ? rg_http_header(req, "client-request-id") : NULL;

    guid_or_zero(ids->trace);
    if (cid && rg_idp_guid_norm(cid, ids->corr) == RG_OK)
        ;
    else
        guid_or_zero(ids->corr);
    rg_idp_timestamp(now, ids->ts);
}

char *rg_idp_error_description(int code, const char *text, const struct rg_idp_ids *ids)
{
    char *s = NULL;
    if (asprintf(&s, "AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s",
                 code, text, ids->trace, ids->corr, ids->ts) < 0)
        return NULL;
    return s;
}

rg_err rg_idp_json_error(struct rg_http_response *resp, int status, const char *error, int code,
                         const char *text, const struct rg_idp_ids *ids)
{
    char *desc = rg_idp_error_description(code, text, ids), *body = NULL;
    json_t *o = json_object(), *codes = json_array();
    rg_err e = RG_ERR_NOMEM;

    if (!desc || !o || !codes || json_array_append_new(codes, json_integer(code)) ||
        json_object_set_new(o, "error", json_string(error)) ||
        json_object_set_new(o, "error_description", json_string(desc)) ||
        json_object_set(o, "error_codes", codes) ||
        json_object_set_new(o, "timestamp", json_string(ids->ts)) ||
        json_object_set_new(o, "trace_id", json_string(ids->trace)) ||
        json_object_set_new(o, "correlation_id", json_string(ids->corr)))
        goto out;
    body = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!body)
        goto out;
    e = rg_http_respond(resp, status, "application/json; charset=utf-8", body, strlen(body));
out:
    free(body);
    free(desc);
    json_decref(codes);
    json_decref(o);
    return e;
}
