/* cmd_status_exchange.h — the annual exchange's part of `ewhub status`. */
#ifndef HUB_CMD_STATUS_EXCHANGE_H
#define HUB_CMD_STATUS_EXCHANGE_H

#include <stdint.h>

#include <jansson.h>

#include "store.h"

/* {"year": this year, "sent": [{country, year, returns, last_received}],
 * "missing": [countries enrolled, not revoked, without this year's]}.
 * Caller owns it; NULL with err on a store error. */
json_t *hub_status_returns(hub_store_t *st, const ewh_roster_t *r, int64_t now,
                           struct ewh_err *err);
void hub_status_returns_print(const json_t *ret);

#endif
