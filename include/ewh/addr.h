/*
 * addr.h — the one parser of a listening address, "HOST:PORT".
 *
 * Used by the hub's and the agent's /metrics endpoints and by the desk, so
 * that "127.0.0.1:9100", "[::1]:9100", ":9100" and "localhost:9100" mean the
 * same thing everywhere.
 */
#ifndef EWH_ADDR_H
#define EWH_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ewh/err.h"

/* A listening address, parsed. */
struct ewh_addr {
    struct sockaddr_storage ss; /* family, address and port, ready to bind */
    char host[EWH_MAX_ADDR_HOST_BYTES]; /* the address as text */
    uint16_t port;                      /* 0: the kernel picks one */
    bool v6;
};

/* Parse "ADDR:PORT" (ADDR an IPv4 address; "" or "localhost" mean
 * 127.0.0.1) or "[ADDR6]:PORT".  Host names are refused: a daemon never
 * waits on a resolver.  what names the setting in the reason ("metrics",
 * "desk listen").  Returns 0, or -1 with EWH_E_INVALID. */
EWH_MUST_CHECK int ewh_addr_parse(const char *what, const char *hostport,
                                  struct ewh_addr *out, struct ewh_err *err);

/* "ADDR:PORT" or "[ADDR6]:PORT" of a with port (the bound one) into out. */
void ewh_addr_format(const struct ewh_addr *a, uint16_t port, char *out,
                     size_t out_cap);

#endif
