/* aad.h — Entra-style error reporting: AADSTS codes, trace/correlation ids and the JSON error
 * body of the token (and other JSON) endpoints. Owner: idp.
 *
 * JSON error body (Entra §1.10):
 *   {"error":"invalid_grant",
 *    "error_description":"AADSTS54005: <text>\r\nTrace ID: <guid>\r\nCorrelation ID: <guid>\r\n
 *                         Timestamp: 2024-01-02 03:04:05Z",
 *    "error_codes":[54005],"timestamp":"2024-01-02 03:04:05Z",
 *    "trace_id":"<guid>","correlation_id":"<guid>"}
 * The correlation id is the client's `client-request-id` header when that is a GUID (as
 * Entra does), else random. Texts never contain secrets or tokens. */
#ifndef RG_IDP_AAD_H
#define RG_IDP_AAD_H

#include <stdint.h>

#include "base/err.h"
#include "http/server.h"
#include "idp/check.h"

struct rg_idp_ids {
    char trace[RG_IDP_GUID_LEN + 1];
    char corr[RG_IDP_GUID_LEN + 1];
    char ts[32];                    /* "YYYY-MM-DD HH:MM:SSZ" */
};

/* "YYYY-MM-DD HH:MM:SSZ" (UTC). */
void rg_idp_timestamp(int64_t t, char out[32]);
void rg_idp_ids_new(struct rg_idp_ids *ids, const struct rg_http_request *req, int64_t now);
/* "AADSTS<code>: <text>\r\nTrace ID: ...\r\nCorrelation ID: ...\r\nTimestamp: ..." (malloc'd). */
char *rg_idp_error_description(int code, const char *text, const struct rg_idp_ids *ids);
/* Fills resp with the JSON error body and the given status (Entra: 400, 401 for
 * invalid_client). */
rg_err rg_idp_json_error(struct rg_http_response *resp, int status, const char *error, int code,
                         const char *text, const struct rg_idp_ids *ids);

#endif
