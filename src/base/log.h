/* log.h — the server log (stderr, one line per event, with time and level).
 *
 * Log lines are for the admin: they name the reason a login failed, but never a secret,
 * a password, a whole token or a ticket. rg_log_set_level filters below a level. */
#ifndef RG_BASE_LOG_H
#define RG_BASE_LOG_H

#include <stddef.h>

enum rg_log_level { RG_LOG_DEBUG = 0, RG_LOG_INFO, RG_LOG_WARN, RG_LOG_ERR };

void rg_log_set_level(enum rg_log_level lvl);
/* Prefix every line with this program name (default "realmgate"). Not copied: pass a literal. */
void rg_log_set_ident(const char *ident);
void rg_log(enum rg_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Copies in to out with control characters and invalid UTF-8 written as \xNN, and the
 * deceptive characters of base/utf8.h (C1 controls, Unicode spaces, zero-width and bidi
 * controls) as \uNNNN, so that text from the network or a file can never forge log lines,
 * terminal escapes or reordered text.
 * Valid printable UTF-8 stays. Truncates to outsz (at most 4 output bytes per input byte).
 * Every rg_log line and every CLI table cell goes through it. Returns out. */
const char *rg_log_sanitize(const char *in, char *out, size_t outsz);

#define rg_debug(...) rg_log(RG_LOG_DEBUG, __VA_ARGS__)
#define rg_info(...) rg_log(RG_LOG_INFO, __VA_ARGS__)
#define rg_warn(...) rg_log(RG_LOG_WARN, __VA_ARGS__)
#define rg_error(...) rg_log(RG_LOG_ERR, __VA_ARGS__)

#endif
