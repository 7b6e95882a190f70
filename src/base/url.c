#include "base/url.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

static int host_is_loopback(const char *host, size_t len, int bracketed)
{
    char buf[64];

    if (len == 0 || len >= sizeof buf)
        return 0;
    memcpy(buf, host, len);
    buf[len] = '\0';
    if (bracketed) {
        struct in6_addr a6;
        return inet_pton(AF_INET6, buf, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
    }
    if (strcasecmp(buf, "localhost") == 0)
        return 1;
    {
        struct in_addr a4;
        /* inet_pton only takes the strict dotted-quad form (no "127.1", no octal) */
        return inet_pton(AF_INET, buf, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
    }
}

bool rg_url_https_or_loopback(const char *url)
{
    const char *auth, *end, *host, *hend, *p;
    int https, bracketed = 0;
    size_t len;

    if (!url)
        return 0;
    len = strlen(url);
    if (len == 0 || len > RG_URL_MAX)
        return 0;
    for (const unsigned char *c = (const unsigned char *)url; *c; c++)
        if (*c <= 0x20 || *c >= 0x7f || *c == '#' || *c == '\\')
            return 0;
    if (strncasecmp(url, "https://", 8) == 0) {
        https = 1;
        auth = url + 8;
    } else if (strncasecmp(url, "http://", 7) == 0) {
        https = 0;
        auth = url + 7;
    } else {
        return 0;
    }
    end = auth + strcspn(auth, "/?");
    if (end == auth || memchr(auth, '@', (size_t)(end - auth)))
        return 0;
    if (*auth == '[') {
        bracketed = 1;
        host = auth + 1;
        hend = memchr(host, ']', (size_t)(end - host));
        if (!hend)
            return 0;
        p = hend + 1;
    } else {
        host = auth;
        hend = memchr(auth, ':', (size_t)(end - auth));
        if (!hend)
            hend = end;
        p = hend;
    }
    if (hend == host)
        return 0;
    if (p < end) {
        /* ":port", 1..5 digits */
        size_t digits = (size_t)(end - p - 1);
        if (*p != ':' || digits == 0 || digits > 5)
            return 0;
        for (const char *d = p + 1; d < end; d++)
            if (*d < '0' || *d > '9')
                return 0;
    }
    if (https)
        return 1;
    return host_is_loopback(host, (size_t)(hend - host), bracketed);
}

