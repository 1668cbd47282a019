/*
 * audit.h — the hash chain of accepted reports and signed checkpoints.
 *
 * head[0] is 32 zero bytes; head[n] = BLAKE2b-256("ewh-audit-v1" ||
 * head[n-1] || id || envelope_hash || origin || received_at as 8 bytes
 * big-endian).  envelope_hash is BLAKE2b-256 of the serialized Envelope.
 * A checkpoint is the hub's signature over (length, head, time).
 */
#ifndef EWH_AUDIT_H
#define EWH_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "ewh/err.h"
#include "ewh/identity.h"

#define EWH_HASH_BYTES 32u

void ewh_audit_envelope_hash(const uint8_t *env, size_t len,
                             uint8_t out[EWH_HASH_BYTES]);

void ewh_audit_next(const uint8_t prev[EWH_HASH_BYTES],
                    const uint8_t id[EWH_ID_BYTES],
                    const uint8_t env_hash[EWH_HASH_BYTES], const char *origin,
                    int64_t received_at, uint8_t out[EWH_HASH_BYTES]);

struct ewh_checkpoint {
    uint64_t length;
    uint8_t head[EWH_HASH_BYTES];
    int64_t time;
};

/* Sign cp into a serialized Checkpoint message.  Caller owns *out. */
EWH_MUST_CHECK int ewh_checkpoint_sign(const struct ewh_checkpoint *cp,
                                       const ewh_secret_t *hub, uint8_t **out,
                                       size_t *out_len, struct ewh_err *err);

/* Parse and verify a serialized Checkpoint against the hub's key. */
EWH_MUST_CHECK int ewh_checkpoint_verify(const uint8_t *buf, size_t len,
                                         const uint8_t hub_sign[32],
                                         struct ewh_checkpoint *cp,
                                         struct ewh_err *err);

#endif
