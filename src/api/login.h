/* login.h — the successful end of every login: a ticket, a CSRF token and the GUI's `cap`.
 *
 * rg_reply_login replies {"username","ticket","CSRFPreventionToken","cap"} (spec §4.1) for a
 * user who has been authenticated and checked (exists, enabled, not expired) against snap.
 * On an internal failure it replies 500 and logs why. */
#ifndef RG_API_LOGIN_H
#define RG_API_LOGIN_H

#include "api/call.h"

void rg_reply_login(struct rg_call *c, const struct rg_snapshot *snap, const char *userid);

#endif
