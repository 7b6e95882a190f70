/* login.h — the successful end of every login: a ticket, a CSRF token and the GUI's `cap`.
 *
 * rg_reply_login replies {"username","ticket","CSRFPreventionToken","cap"} (spec §4.1) for a
 * user who has been authenticated and checked (exists, enabled, not expired) against snap.
 * On an internal failure it replies 500 and logs why. */
#ifndef RG_API_LOGIN_H
#define RG_API_LOGIN_H

#include "api/call.h"

void rg_reply_login(struct rg_call *c, const struct rg_snapshot *snap, const char *userid);
/* As rg_reply_login, and records the new ticket for sign-out (access/sessions.h): in the
 * session of the ticket with time `parent` (a renewal; -1 = none), else in a new session
 * described by info (may be NULL). If it cannot be recorded the login fails (500): a ticket
 * that sign-out could not end is not handed out. rg_reply_login is this with (NULL, -1). */
void rg_reply_login_session(struct rg_call *c, const struct rg_snapshot *snap,
                            const char *userid, const struct rg_session_info *info,
                            time_t parent);

#endif
