/* receipt.c — signed delivery and acknowledgement receipts. */
#include "ewh/receipt.h"

#include <stdio.h>
#include <string.h>

#include "ewh.pb-c.h"

#define S_MAX_RECEIPT_BYTES 512u

const char *
ewh_receipt_kind_name(enum ewh_receipt_kind k)
{
    switch (k) {
    case EWH_RECEIPT_DELIVERED:
        return "delivered";
    case EWH_RECEIPT_ACKNOWLEDGED:
        return "acknowledged";
    }
    return "invalid";
}

int
ewh_receipt_sign(const struct ewh_receipt *rc, const ewh_secret_t *me,
                 uint8_t **out, size_t *out_len, struct ewh_err *err)
{
    Ewh__ReceiptBody b = EWH__RECEIPT_BODY__INIT;
    Ewh__Receipt r = EWH__RECEIPT__INIT;
    uint8_t sig[EWH_SIG_BYTES], *bbuf, *obuf;
    size_t blen, olen;

    if (strcmp(rc->from, ewh_secret_pubid(me)->country) != 0)
        return ewh_err_set(err, EWH_E_ORIGIN, "receipt from another country");
    if (!ewh_text_is_valid(rc->who, strlen(rc->who), false))
        return ewh_err_set(err, EWH_E_INVALID, "bad officer name");
    b.id.data = (uint8_t *)rc->id;
    b.id.len = EWH_ID_BYTES;
    b.origin = (char *)rc->origin;
    b.from = (char *)rc->from;
    b.kind = (Ewh__ReceiptKind)rc->kind;
    b.at = rc->at;
    b.who = (char *)rc->who;
    blen = ewh__receipt_body__get_packed_size(&b);
    if ((bbuf = malloc(blen)) == NULL)
        return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
    ewh__receipt_body__pack(&b, bbuf);
    if (ewh_sign(EWH_CTX_RECEIPT, bbuf, blen, ewh_secret_sign_sk(me), sig,
                 err) != 0) {
        free(bbuf);
        return -1;
    }
    r.body.data = bbuf;
    r.body.len = blen;
    r.signature.data = sig;
    r.signature.len = sizeof(sig);
    olen = ewh__receipt__get_packed_size(&r);
    if ((obuf = malloc(olen)) == NULL) {
        free(bbuf);
        return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
    }
    ewh__receipt__pack(&r, obuf);
    free(bbuf);
    *out = obuf;
    *out_len = olen;
    return 0;
}

int
ewh_receipt_verify(const uint8_t *buf, size_t len, const char *expect_from,
                   ewh_lookup_fn lookup, void *lookup_ctx,
                   struct ewh_receipt *rc, struct ewh_err *err)
{
    Ewh__Receipt *r = NULL;
    Ewh__ReceiptBody *b = NULL;
    const struct ewh_pubid *signer;
    int rv = -1;

    memset(rc, 0, sizeof(*rc));
    if (len > S_MAX_RECEIPT_BYTES)
        return ewh_err_set(err, EWH_E_TOOBIG, "receipt of %zu bytes > %u", len,
                           S_MAX_RECEIPT_BYTES);
    if ((r = ewh__receipt__unpack(NULL, len, buf)) == NULL ||
        (b = ewh__receipt_body__unpack(NULL, r->body.len, r->body.data)) ==
            NULL) {
        ewh_err_set(err, EWH_E_INVALID, "malformed receipt");
        goto out;
    }
    if (b->id.len != EWH_ID_BYTES || !ewh_country_is_valid(b->origin) ||
        !ewh_country_is_valid(b->from) ||
        (b->kind != EWH__RECEIPT_KIND__RECEIPT_DELIVERED &&
         b->kind != EWH__RECEIPT_KIND__RECEIPT_ACKNOWLEDGED) ||
        b->at <= 0 || strlen(b->who) > EWH_MAX_WHO_BYTES ||
        !ewh_text_is_valid(b->who, strlen(b->who), false)) {
        ewh_err_set(err, EWH_E_INVALID, "bad receipt fields");
        goto out;
    }
    if (expect_from != NULL && strcmp(b->from, expect_from) != 0) {
        ewh_err_set(err, EWH_E_ORIGIN,
                    "receipt from %s sent by authenticated country %s", b->from,
                    expect_from);
        goto out;
    }
    if ((signer = lookup(lookup_ctx, b->from)) == NULL) {
        ewh_err_set(err, EWH_E_UNKNOWN, "receipt signer %s unknown or revoked",
                    b->from);
        goto out;
    }
    if (ewh_verify(EWH_CTX_RECEIPT, r->body.data, r->body.len, signer->sign,
                   r->signature.data, r->signature.len, err) != 0)
        goto out;
    memcpy(rc->id, b->id.data, EWH_ID_BYTES);
    memcpy(rc->origin, b->origin, 3);
    memcpy(rc->from, b->from, 3);
    rc->kind = (enum ewh_receipt_kind)b->kind;
    rc->at = b->at;
    snprintf(rc->who, sizeof(rc->who), "%s", b->who);
    rv = 0;
out:
    if (b != NULL)
        ewh__receipt_body__free_unpacked(b, NULL);
    if (r != NULL)
        ewh__receipt__free_unpacked(r, NULL);
    return rv;
}
