/* test_addr.c — the one parser of a listening HOST:PORT (proto/addr.c):
 * each accepted form, each refusal, and the host part at its limit. */
#include "ewh/addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "check.h"

static void
test_forms(void)
{
    struct ewh_err err = {0};
    struct ewh_addr a;
    char out[EWH_MAX_ADDR_HOST_BYTES + 8];
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)&a.ss;
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&a.ss;

    CHECK_OK(ewh_addr_parse("m", "127.0.0.1:9100", &a, &err), &err);
    CHECK(!a.v6 && a.port == 9100 && s4->sin_family == AF_INET);
    CHECK(ntohs(s4->sin_port) == 9100);
    CHECK(s4->sin_addr.s_addr == htonl(INADDR_LOOPBACK));
    ewh_addr_format(&a, 9101, out, sizeof(out));
    CHECK(strcmp(out, "127.0.0.1:9101") == 0);

    CHECK_OK(ewh_addr_parse("m", ":0", &a, &err), &err);
    CHECK(strcmp(a.host, "127.0.0.1") == 0 && a.port == 0);
    CHECK_OK(ewh_addr_parse("m", "localhost:80", &a, &err), &err);
    CHECK(strcmp(a.host, "127.0.0.1") == 0 && a.port == 80);
    CHECK_OK(ewh_addr_parse("m", "0.0.0.0:65535", &a, &err), &err);
    CHECK(a.port == 65535);

    CHECK_OK(ewh_addr_parse("m", "[::1]:7", &a, &err), &err);
    CHECK(a.v6 && s6->sin6_family == AF_INET6 && ntohs(s6->sin6_port) == 7);
    CHECK(memcmp(&s6->sin6_addr, &in6addr_loopback, 16) == 0);
    ewh_addr_format(&a, 8, out, sizeof(out));
    CHECK(strcmp(out, "[::1]:8") == 0);
}

static void
test_refused(void)
{
    struct ewh_err err = {0};
    struct ewh_addr a;
    char big[EWH_MAX_ADDR_HOST_BYTES + 16];

    CHECK_FAILS(ewh_addr_parse("m", "9100", &a, &err), &err, EWH_E_INVALID,
                "is not HOST:PORT");
    CHECK_FAILS(ewh_addr_parse("m", "127.0.0.1:", &a, &err), &err,
                EWH_E_INVALID, "bad port");
    CHECK_FAILS(ewh_addr_parse("m", "127.0.0.1:65536", &a, &err), &err,
                EWH_E_INVALID, "bad port");
    CHECK_FAILS(ewh_addr_parse("m", "127.0.0.1:-1", &a, &err), &err,
                EWH_E_INVALID, "bad port");
    CHECK_FAILS(ewh_addr_parse("m", "127.0.0.1:80x", &a, &err), &err,
                EWH_E_INVALID, "bad port");
    CHECK_FAILS(ewh_addr_parse("desk: listen", "hub.example:80", &a, &err),
                &err, EWH_E_INVALID, "desk: listen: bad IPv4 address");
    CHECK_FAILS(ewh_addr_parse("m", "[::1]80", &a, &err), &err, EWH_E_INVALID,
                "is not [ADDR]:PORT");
    CHECK_FAILS(ewh_addr_parse("m", "[1.2.3.4]:80", &a, &err), &err,
                EWH_E_INVALID, "bad IPv6 address");

    /* the host part at its limit (one byte for the NUL) and one past it */
    memset(big, '1', sizeof(big));
    snprintf(big + EWH_MAX_ADDR_HOST_BYTES - 1, 8, ":80");
    CHECK_FAILS(ewh_addr_parse("m", big, &a, &err), &err, EWH_E_INVALID,
                "bad IPv4 address");
    memset(big, '1', sizeof(big));
    snprintf(big + EWH_MAX_ADDR_HOST_BYTES, 8, ":80");
    CHECK_FAILS(ewh_addr_parse("m", big, &a, &err), &err, EWH_E_INVALID,
                "is not HOST:PORT");
}

int
main(void)
{
    RUN(test_forms);
    RUN(test_refused);
    return 0;
}
