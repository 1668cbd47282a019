/* cmd_status_fed.h — the federation part of `ewhub status`
 * (docs/federation.md). */
#ifndef HUB_CMD_STATUS_FED_H
#define HUB_CMD_STATUS_FED_H

#include <jansson.h>

#include "store.h"

/* The running hub's "federation" object (live: its status.json, may be
 * NULL), else what the store says: the peers, what waits for each and
 * the link counters.  Caller owns it; NULL with err on a store error. */
json_t *hub_status_fed(hub_store_t *st, json_t *live, struct ewh_err *err);
void hub_status_fed_print(const json_t *fed);

#endif
