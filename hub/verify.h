/*
 * verify.h — a small pool of threads that verify submitted envelopes.
 *
 * Ed25519 verification is two thirds of what accepting a report costs, so
 * the hub spreads it over the cores.  The pool is a bounded FIFO of jobs
 * (EWH_HUB_VERIFY_QUEUE): the loop thread queues each submit it reads
 * (hub_verify_push), the workers take the oldest job not yet taken, one
 * at a time, and the loop collects the verified ones in the order they
 * were queued (hub_verify_ready, hub_verify_at, hub_verify_pop).  So the
 * workers never wait for the loop thread while submits are queued: they
 * verify while it checks, commits and acknowledges what they verified
 * before (docs/performance.md, "Accept: a queue, not runs").  An eventfd
 * in its zmq_poll() says when the oldest queued job is verified.
 *
 * The loop thread alone touches sockets, the store and the roster's owner;
 * the workers only read the roster through a job's lookup and write their
 * own jobs.  Nothing is acknowledged here: the loop commits, then
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
 * country), lookup and lookup_ctx; outputs rc (0 verified), hdr, hash and
 * err. */
struct hub_verify_job {
    const uint8_t *env;
    size_t len;
    const char *cc;
    ewh_lookup_fn lookup;
    void *lookup_ctx;
    int rc;
    struct ewh_header hdr;
    uint8_t hash[EWH_HASH_BYTES]; /* the audit hash of env, when rc == 0 */
    struct ewh_err err;
};

typedef struct hub_verify hub_verify_t;

/* Start n_workers threads (0: hub_verify_push verifies on the calling
 * thread) over a queue of cap jobs (>= 1).  Caller owns the pool. */
EWH_MUST_CHECK hub_verify_t *hub_verify_new(unsigned n_workers, size_t cap,
                                            struct ewh_err *err);
/* Workers a pool of this machine should have: one per online core, 1..7
 * (the loop thread does the SQL meanwhile). */
unsigned hub_verify_default_workers(void);
/* Verify jobs[0..n) on the calling thread (inputs set, outputs filled). */
void hub_verify_run(struct hub_verify_job *jobs, size_t n);

/* Queue one job (its inputs; env, cc and what lookup_ctx points to must
 * stay untouched until it is popped).  False when the queue is full. */
bool hub_verify_push(hub_verify_t *v, const uint8_t *env, size_t len,
                     const char *cc, ewh_lookup_fn lookup, void *lookup_ctx);
/* Jobs queued and not yet popped (verified or not). */
size_t hub_verify_queued(hub_verify_t *v);
/* How many of the oldest jobs are verified, in a row (clears fd()); they
 * are hub_verify_at(v, 0 .. n-1), oldest first, until hub_verify_pop(). */
size_t hub_verify_ready(hub_verify_t *v);
struct hub_verify_job *hub_verify_at(hub_verify_t *v, size_t i);
/* Drop the n oldest jobs (n <= what hub_verify_ready returned). */
void hub_verify_pop(hub_verify_t *v, size_t n);
/* Readable when the oldest queued job is verified. */
int hub_verify_fd(const hub_verify_t *v);
/* Block until every queued job is verified (they stay queued to be
 * collected); the workers read no roster after it returns. */
void hub_verify_wait(hub_verify_t *v);
/* Stop and join the workers; accepts NULL. */
void hub_verify_destroy(hub_verify_t **v);

#endif
