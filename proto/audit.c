/* audit.c — the hash chain of accepted reports and signed checkpoints. */
#include "ewh/audit.h"

#include <string.h>

#include <sodium.h>

#include "ewh.pb-c.h"

void
ewh_audit_envelope_hash(const uint8_t *env, size_t len,
                        uint8_t out[EWH_HASH_BYTES])
{
    crypto_generichash(out, EWH_HASH_BYTES, env, len, NULL, 0);
}

void
ewh_audit_next(const uint8_t prev[EWH_HASH_BYTES],
               const uint8_t id[EWH_ID_BYTES],
               const uint8_t env_hash[EWH_HASH_BYTES], const char *origin,
               int64_t received_at, uint8_t out[EWH_HASH_BYTES])
{
    crypto_generichash_state st;
    uint8_t t[8];
    uint64_t v = (uint64_t)received_at;
    int i;

    for (i = 7; i >= 0; i--) {
        t[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
    crypto_generichash_init(&st, NULL, 0, EWH_HASH_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)"ewh-audit-v1", 12);
    crypto_generichash_update(&st, prev, EWH_HASH_BYTES);
    crypto_generichash_update(&st, id, EWH_ID_BYTES);
    crypto_generichash_update(&st, env_hash, EWH_HASH_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)origin, 2);
    crypto_generichash_update(&st, t, sizeof(t));
    crypto_generichash_final(&st, out, EWH_HASH_BYTES);
}

int
ewh_checkpoint_sign(const struct ewh_checkpoint *cp, const ewh_secret_t *hub,
                    uint8_t **out, size_t *out_len, struct ewh_err *err)
{
    Ewh__CheckpointBody b = EWH__CHECKPOINT_BODY__INIT;
    Ewh__Checkpoint c = EWH__CHECKPOINT__INIT;
    uint8_t bbuf[64], sig[EWH_SIG_BYTES], *obuf;
    size_t blen, olen;

    b.length = cp->length;
    b.head.data = (uint8_t *)cp->head;
    b.head.len = EWH_HASH_BYTES;
    b.time = cp->time;
    blen = ewh__checkpoint_body__get_packed_size(&b);
    EWH_ASSERT(blen <= sizeof(bbuf));
    ewh__checkpoint_body__pack(&b, bbuf);
    if (ewh_sign(EWH_CTX_CHECKPOINT, bbuf, blen, ewh_secret_sign_sk(hub), sig,
                 err) != 0)
        return -1;
    c.body.data = bbuf;
    c.body.len = blen;
    c.signature.data = sig;
    c.signature.len = sizeof(sig);
    olen = ewh__checkpoint__get_packed_size(&c);
    if ((obuf = malloc(olen)) == NULL)
        return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
    ewh__checkpoint__pack(&c, obuf);
    *out = obuf;
    *out_len = olen;
    return 0;
}

int
ewh_checkpoint_verify(const uint8_t *buf, size_t len,
                      const uint8_t hub_sign[32], struct ewh_checkpoint *cp,
                      struct ewh_err *err)
{
    Ewh__Checkpoint *c = NULL;
    Ewh__CheckpointBody *b = NULL;
    int rc = -1;

    if (len > 256)
        return ewh_err_set(err, EWH_E_TOOBIG, "checkpoint too large");
    if ((c = ewh__checkpoint__unpack(NULL, len, buf)) == NULL ||
        (b = ewh__checkpoint_body__unpack(NULL, c->body.len, c->body.data)) ==
            NULL) {
        ewh_err_set(err, EWH_E_INVALID, "malformed checkpoint");
        goto out;
    }
    if (b->head.len != EWH_HASH_BYTES) {
        ewh_err_set(err, EWH_E_INVALID, "bad checkpoint head");
        goto out;
    }
    if (ewh_verify(EWH_CTX_CHECKPOINT, c->body.data, c->body.len, hub_sign,
                   c->signature.data, c->signature.len, err) != 0)
        goto out;
    cp->length = b->length;
    memcpy(cp->head, b->head.data, EWH_HASH_BYTES);
    cp->time = b->time;
    rc = 0;
out:
    if (b != NULL)
        ewh__checkpoint_body__free_unpacked(b, NULL);
    if (c != NULL)
        ewh__checkpoint__free_unpacked(c, NULL);
    return rc;
}
