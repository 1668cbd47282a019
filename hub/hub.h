/*
 * hub.h — the hub daemon's event loop: one thread, one zmq_poll().
 *
 * Polls the CURVE ROUTER, the ZAP handler, the ROUTER's monitor socket,
 * the verify pool and a signalfd.  Each turn drains the ROUTER up to a
 * budget, commits the batch of accepted submits and acknowledgements in
 * one transaction, and only then sends the SubmitAcks, then deliveries.
 * See docs/protocol.md; the files of the loop are listed in hubint.h and
 * docs/architecture.md.
 */
#ifndef HUB_HUB_H
#define HUB_HUB_H

#include "config.h"
#include "store.h"
#include "ewh/err.h"
#include "ewh/identity.h"

struct hub_run_args {
    const char *dir;              /* data dir: endpoint, status.json */
    const struct hub_config *cfg; /* listen already resolved */
    const ewh_secret_t *key;      /* hub keys, borrowed */
    hub_store_t *store;           /* borrowed */
    int sigfd;                    /* signalfd of SIGINT, SIGTERM, SIGHUP */
    /* SIGHUP: re-read the config into *cfg (reloadable keys only); NULL
     * to reload the roster alone. */
    void (*reload)(void *ctx);
    void *reload_ctx;
};

/* Run until SIGINT/SIGTERM.  Returns 0 on an orderly stop, -1 with err on
 * a startup failure (bind, sockets). */
EWH_MUST_CHECK int hub_run(const struct hub_run_args *a, struct ewh_err *err);

#endif
