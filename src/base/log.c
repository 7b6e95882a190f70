#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static enum rg_log_level min_level = RG_LOG_INFO;
static const char *log_ident = "realmgate";

void rg_log_set_level(enum rg_log_level lvl) { min_level = lvl; }
void rg_log_set_ident(const char *ident) { log_ident = ident; }

void rg_log(enum rg_log_level lvl, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    char line[2048];
    char stamp[32];
    struct tm tm;
    time_t now;
    va_list ap;
    size_t n;

    if (lvl < min_level)
        return;
    now = time(NULL);
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    n = (size_t)snprintf(line, sizeof line, "%s %s[%s]: ", stamp, log_ident, names[lvl]);
    if (n < sizeof line) {
        va_start(ap, fmt);
        vsnprintf(line + n, sizeof line - n, fmt, ap);
        va_end(ap);
    }
    /* one write per line so that lines from worker threads do not interleave */
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    fprintf(stderr, "%s\n", line);
}
