/* addr.c — the one parser of a listening address (see addr.h). */
#include "ewh/addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
ewh_addr_parse(const char *what, const char *hostport, struct ewh_addr *out,
               struct ewh_err *err)
{
    struct sockaddr_in *s4 = (struct sockaddr_in *)&out->ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->ss;
    const char *colon, *p;
    unsigned long port;
    char *end;

    memset(out, 0, sizeof(*out));
    if (hostport[0] == '[') {
        if ((p = strchr(hostport, ']')) == NULL || p[1] != ':' ||
            (size_t)(p - hostport - 1) >= sizeof(out->host))
            return ewh_err_set(err, EWH_E_INVALID,
                               "%s: '%.64s' is not [ADDR]:PORT", what,
                               hostport);
        snprintf(out->host, sizeof(out->host), "%.*s", (int)(p - hostport - 1),
                 hostport + 1);
        colon = p + 1;
        out->v6 = true;
    } else {
        if ((colon = strrchr(hostport, ':')) == NULL ||
            (size_t)(colon - hostport) >= sizeof(out->host))
            return ewh_err_set(err, EWH_E_INVALID,
                               "%s: '%.64s' is not HOST:PORT", what, hostport);
        snprintf(out->host, sizeof(out->host), "%.*s", (int)(colon - hostport),
                 hostport);
        if (out->host[0] == '\0' || strcmp(out->host, "localhost") == 0)
            snprintf(out->host, sizeof(out->host), "127.0.0.1");
    }
    port = strtoul(colon + 1, &end, 10);
    if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || port > 65535)
        return ewh_err_set(err, EWH_E_INVALID, "%s: bad port in '%.64s'", what,
                           hostport);
    out->port = (uint16_t)port;
    if (out->v6) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(out->port);
        if (inet_pton(AF_INET6, out->host, &s6->sin6_addr) != 1)
            return ewh_err_set(err, EWH_E_INVALID,
                               "%s: bad IPv6 address '%.64s'", what, out->host);
    } else {
        s4->sin_family = AF_INET;
        s4->sin_port = htons(out->port);
        if (inet_pton(AF_INET, out->host, &s4->sin_addr) != 1)
            return ewh_err_set(err, EWH_E_INVALID,
                               "%s: bad IPv4 address '%.64s' (use an address, "
                               "not a name)",
                               what, out->host);
    }
    return 0;
}

void
ewh_addr_format(const struct ewh_addr *a, uint16_t port, char *out,
                size_t out_cap)
{
    snprintf(out, out_cap, a->v6 ? "[%s]:%u" : "%s:%u", a->host,
             (unsigned)port);
}
