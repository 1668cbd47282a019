/*
 * verify.h — a small pool of threads that verify submitted envelopes.
 *
 * Ed25519 verification is two thirds of what accepting a report costs, so
 * the hub spreads it over the cores: the loop thread collects the submits
 * of one turn, hub_verify_run() verifies them on the workers and on the
 * calling thread together, and returns when all are done (fork-join).  The
 * loop thread alone touches sockets, the store and the roster's owner;
 * during a run the workers only read the roster through lookup and write
 * their own jobs.  Nothing is acknowledged here: the loop commits, then
 * acknowledges (docs/protocol.md).
 *
 * Threads start in hub_verify_new(), after main() has blocked the signals,
 * and are joined by hub_verify_destroy().
 */
#ifndef HUB_VERIFY_H
#define HUB_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "ewh/envelope.h"
#include "ewh/err.h"

/* One envelope to verify: inputs env, len, cc (the authenticated
 * country); outputs rc (0 verified), hdr and err. */
struct hub_verify_job {
    const uint8_t *env;
    size_t len;
    const char *cc;
    int rc;
    struct ewh_header hdr;
    struct ewh_err err;
};

typedef struct hub_verify hub_verify_t;

/* Start n_workers threads (0: verify on the calling thread only).  Caller
 * owns the pool. */
EWH_MUST_CHECK hub_verify_t *hub_verify_new(unsigned n_workers,
                                            struct ewh_err *err);
/* Workers a pool of this machine should have: online cores - 1, 1..7. */
unsigned hub_verify_default_workers(void);
/* Verify jobs[0..n) with lookup/lookup_ctx; returns when all are done. */
void hub_verify_run(hub_verify_t *v, struct hub_verify_job *jobs, size_t n,
                    ewh_lookup_fn lookup, void *lookup_ctx);
/* Stop and join the workers; accepts NULL. */
void hub_verify_destroy(hub_verify_t **v);

#endif
