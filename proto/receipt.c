/* receipt.c — signed delivery and acknowledgement receipts. */
#include "ewh/receipt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ewh.pb-c.h"

static int
s_idcmp(const void *a, const void *b)
{
    return memcmp(a, b, EWH_ID_BYTES);
}

/* rc's ids as protobuf bytes fields pointing into rc. */
static void
s_ids_pb(const struct ewh_receipt *rc, ProtobufCBinaryData *ids)
{
    size_t i;

    for (i = 0; i < rc->n_ids; i++) {
        ids[i].data = (uint8_t *)rc->ids[i];
        ids[i].len = EWH_ID_BYTES;
    }
}

void
ewh_receipt_ack_fill(Ewh__ReceiptAck *ack, const struct ewh_receipt *rc,
                     ProtobufCBinaryData ids[EWH_MAX_RECEIPT_IDS])
{
    s_ids_pb(rc, ids);
    ack->n_ids = rc->n_ids;
    ack->ids = ids;
    ack->from = (char *)rc->from;
    ack->kind = (Ewh__ReceiptKind)rc->kind;
}

/* 1..EWH_MAX_RECEIPT_IDS ids, none twice. */
static bool
s_ids_ok(const uint8_t (*ids)[EWH_ID_BYTES], size_t n)
{
    uint8_t sorted[EWH_MAX_RECEIPT_IDS][EWH_ID_BYTES];
    size_t i;

    if (n == 0 || n > EWH_MAX_RECEIPT_IDS)
        return false;
    memcpy(sorted, ids, n * EWH_ID_BYTES);
    qsort(sorted, n, EWH_ID_BYTES, s_idcmp);
    for (i = 1; i < n; i++)
        if (memcmp(sorted[i - 1], sorted[i], EWH_ID_BYTES) == 0)
            return false;
    return true;
}

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
    ProtobufCBinaryData ids[EWH_MAX_RECEIPT_IDS];
    uint8_t sig[EWH_SIG_BYTES], *bbuf, *obuf;
    size_t blen, olen;

    if (strcmp(rc->from, ewh_secret_pubid(me)->country) != 0)
        return ewh_err_set(err, EWH_E_ORIGIN, "receipt from another country");
    if (!ewh_text_is_valid(rc->who, strlen(rc->who), false))
        return ewh_err_set(err, EWH_E_INVALID, "bad officer name");
    if (!s_ids_ok(rc->ids, rc->n_ids))
        return ewh_err_set(err, EWH_E_INVALID,
                           "a receipt names 1 to %u distinct reports",
                           EWH_MAX_RECEIPT_IDS);
    s_ids_pb(rc, ids);
    b.n_ids = rc->n_ids;
    b.ids = ids;
    b.origin = (char *)rc->origin;
    b.from = (char *)rc->from;
    b.kind = (Ewh__ReceiptKind)rc->kind;
    b.at = rc->at;
    b.who = (char *)rc->who;
    if (rc->has_head) {
        b.roster_version = rc->roster_version;
        b.roster_hash.data = (uint8_t *)rc->roster_hash;
        b.roster_hash.len = sizeof(rc->roster_hash);
    }
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
    size_t i;
    int rv = -1;

    memset(rc, 0, sizeof(*rc));
    if (len > EWH_MAX_RECEIPT_BYTES)
        return ewh_err_set(err, EWH_E_TOOBIG, "receipt of %zu bytes > %u", len,
                           EWH_MAX_RECEIPT_BYTES);
    if ((r = ewh__receipt__unpack(NULL, len, buf)) == NULL ||
        (b = ewh__receipt_body__unpack(NULL, r->body.len, r->body.data)) ==
            NULL) {
        ewh_err_set(err, EWH_E_INVALID, "malformed receipt");
        goto out;
    }
    if (b->n_ids == 0 || b->n_ids > EWH_MAX_RECEIPT_IDS) {
        ewh_err_set(err, EWH_E_INVALID, "a receipt names 1 to %u reports",
                    EWH_MAX_RECEIPT_IDS);
        goto out;
    }
    for (i = 0; i < b->n_ids; i++) {
        if (b->ids[i].len != EWH_ID_BYTES) {
            ewh_err_set(err, EWH_E_INVALID, "bad receipt fields");
            goto out;
        }
        memcpy(rc->ids[i], b->ids[i].data, EWH_ID_BYTES);
    }
    if (!s_ids_ok((const uint8_t(*)[EWH_ID_BYTES])rc->ids, b->n_ids)) {
        ewh_err_set(err, EWH_E_INVALID, "receipt names a report twice");
        goto out;
    }
    if (!ewh_country_is_valid(b->origin) || !ewh_country_is_valid(b->from) ||
        (b->kind != EWH__RECEIPT_KIND__RECEIPT_DELIVERED &&
         b->kind != EWH__RECEIPT_KIND__RECEIPT_ACKNOWLEDGED) ||
        b->at <= 0 || strlen(b->who) > EWH_MAX_WHO_BYTES ||
        !ewh_text_is_valid(b->who, strlen(b->who), false)) {
        ewh_err_set(err, EWH_E_INVALID, "bad receipt fields");
        goto out;
    }
    if ((b->roster_hash.len != 0 &&
         b->roster_hash.len != sizeof(rc->roster_hash)) ||
        (b->roster_hash.len == 0 && b->roster_version != 0)) {
        ewh_err_set(err, EWH_E_INVALID, "bad roster head in receipt");
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
    rc->n_ids = b->n_ids;
    memcpy(rc->origin, b->origin, 3);
    memcpy(rc->from, b->from, 3);
    rc->kind = (enum ewh_receipt_kind)b->kind;
    rc->at = b->at;
    snprintf(rc->who, sizeof(rc->who), "%s", b->who);
    rc->has_head = b->roster_hash.len == sizeof(rc->roster_hash);
    rc->roster_version = rc->has_head ? b->roster_version : 0;
    if (rc->has_head)
        memcpy(rc->roster_hash, b->roster_hash.data, sizeof(rc->roster_hash));
    rv = 0;
out:
    if (b != NULL)
        ewh__receipt_body__free_unpacked(b, NULL);
    if (r != NULL)
        ewh__receipt__free_unpacked(r, NULL);
    return rv;
}
