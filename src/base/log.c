#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/utf8.h"

static enum rg_log_level min_level = RG_LOG_INFO;
static const char *log_ident = "realmgate";

void rg_log_set_level(enum rg_log_level lvl) { min_level = lvl; }
void rg_log_set_ident(const char *ident) { log_ident = ident; }

void rg_log(enum rg_log_level lvl, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    char line[2048], safe[2048 * 4 + 8];
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
    fprintf(stderr, "%s\n", rg_log_sanitize(line, safe, sizeof safe));
}

const char *rg_log_sanitize(const char *in, char *out, size_t outsz)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t o = 0;

    if (outsz == 0)
        return out;
    while (*p) {
        unsigned cp = 0;
        size_t n = rg_utf8_next((const char *)p, &cp);
        const char *src = (const char *)p;
        char esc[8];
        size_t len = n;

        if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f))) {
            /* control characters and invalid UTF-8 never reach the log as raw bytes */
            len = (size_t)snprintf(esc, sizeof esc, "\\x%02x", *p);
            src = esc;
            n = 1;
        } else if (n > 1 && rg_unicode_deceptive(cp)) {
            len = (size_t)snprintf(esc, sizeof esc, "\\u%04x", cp);
            src = esc;
        }
        if (o + len >= outsz)
            break;
        memcpy(out + o, src, len);
        o += len;
        p += n;
    }
    out[o] = '\0';
    return out;
}
