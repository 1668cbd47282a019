/*
 * zap.h — the ZAP handler (ZeroMQ RFC 27) for the hub's ROUTER.
 *
 * A REP socket bound at inproc://zeromq.zap.01 in the hub's own thread and
 * polled by the event loop.  Admits only the CURVE mechanism with a client
 * key that is the current key of an enrolled, unrevoked country; the reply
 * sets the connection's User-Id to the country and the metadata property
 * HUB_ZAP_KEY_PROP to the hex client key, so that every frame can be checked
 * against the roster again (a re-keyed country's old connection is refused
 * frame by frame until the socket is re-bound).
 */
#ifndef HUB_ZAP_H
#define HUB_ZAP_H

#include <stdbool.h>
#include <stdint.h>

#include "ewh/err.h"
#include "ewh/roster.h"

#define HUB_ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define HUB_ZAP_KEY_PROP "X-Curve-Key"

/* Return the current roster; refresh asks to re-read the store first if
 * its version changed (every handshake asks: a fresh enrolment or revoke
 * is seen at once). */
typedef const ewh_roster_t *(*hub_zap_roster_fn)(void *ctx, bool refresh);

/* Called per refusal with the hex CURVE key ("" when the request carried
 * none), the country it belongs to when known (a revoked country's key;
 * NULL otherwise), a code (EWH_E_REVOKED, EWH_E_UNKNOWN, EWH_E_INVALID for
 * a malformed or non-CURVE request) and the reason. */
typedef void (*hub_zap_refused_fn)(void *ctx, const char *keyhex,
                                   const char *country, enum ewh_errcode code,
                                   const char *why);

/* The region of the peer hub whose curve key is key (32 bytes), or NULL
 * (federation, docs/federation.md). */
typedef const char *(*hub_zap_peer_fn)(void *ctx, const uint8_t key[32]);

/* Answer every ZAP request waiting on sock.  *refused is incremented per
 * refusal; on_refused (may be NULL) is told of each.  peer_fn (may be
 * NULL) admits the keys of peer hubs too, with the user id "@REGION". */
EWH_MUST_CHECK int hub_zap_handle(void *sock, hub_zap_roster_fn fn,
                                  hub_zap_peer_fn peer_fn,
                                  hub_zap_refused_fn on_refused, void *ctx,
                                  uint64_t *refused, struct ewh_err *err);

/* The country whose current curve key is key (32 bytes), or NULL. */
const char *hub_zap_country_of(const ewh_roster_t *r, const uint8_t key[32]);

#endif
