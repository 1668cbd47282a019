/*
 * verify.h — a small pool of threads that verify submitted envelopes.
 *
 * Ed25519 verification is two thirds of what accepting a report costs, so
 * the hub spreads it over the cores: the loop thread collects the submits
 * of one turn and hands them to the workers (hub_verify_start); while they
 * verify, it commits the previous batch and sends its acknowledgements; an
 * eventfd in its zmq_poll() says when the run is complete.  The loop
 * thread alone touches sockets, the store and the roster's owner;
 * during a run the workers only read the roster through lookup and write
 * their own jobs.  Nothing is acknowledged here: the loop commits, then
 * acknowledges (docs/protocol.md).
 *
 * Threads start in hub_verify_new(), after main() has blocked the signals,
 * and are joined by hub_verify_destroy().
 */
#ifndef HUB_VERIFY_H
#define HUB_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ewh/audit.h"
#include "ewh/envelope.h"
#include "ewh/err.h"

/* One envelope to verify: inputs env, len, cc (the authenticated
 * country); outputs rc (0 verified), hdr, hash and err. */
struct hub_verify_job {
    const uint8_t *env;
    size_t len;
    const char *cc;
    int rc;
    struct ewh_header hdr;
    uint8_t hash[EWH_HASH_BYTES]; /* the audit hash of env, when rc == 0 */
    struct ewh_err err;
};

typedef struct hub_verify hub_verify_t;

/* Start n_workers threads (0: verify on the calling thread only).  Caller
 * owns the pool. */
EWH_MUST_CHECK hub_verify_t *hub_verify_new(unsigned n_workers,
                                            struct ewh_err *err);
/* Workers a pool of this machine should have: one per online core, 1..7
 * (the loop thread does the SQL meanwhile). */
unsigned hub_verify_default_workers(void);
/* Verify jobs[0..n) with lookup/lookup_ctx on the calling thread and the
 * workers; returns when all are done.  Not while a started run is on. */
void hub_verify_run(hub_verify_t *v, struct hub_verify_job *jobs, size_t n,
                    ewh_lookup_fn lookup, void *lookup_ctx);

/* Pipelined use: start verifying jobs[0..n) on the workers and return at
 * once; jobs and what lookup_ctx points to must stay untouched until
 * hub_verify_wait().  fd() becomes readable when the run is complete. */
void hub_verify_start(hub_verify_t *v, struct hub_verify_job *jobs, size_t n,
                      ewh_lookup_fn lookup, void *lookup_ctx);
int hub_verify_fd(const hub_verify_t *v);
/* True while a started run is not complete. */
bool hub_verify_busy(hub_verify_t *v);
/* Block until the started run (if any) is complete; clears fd(). */
void hub_verify_wait(hub_verify_t *v);
/* Stop and join the workers; accepts NULL. */
void hub_verify_destroy(hub_verify_t **v);

#endif
