/* test_receipt.c — signed receipts and audit checkpoints. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "ewh.pb-c.h"
#include "ewh/audit.h"
#include "ewh/receipt.h"
#include "ewh/roster.h"

static void
test_receipt_roundtrip_and_refusals(void)
{
    struct ewh_err err = {0};
    ewh_secret_t *hr = ewh_secret_generate(EWH_KIND_NODE, "HR", &err);
    ewh_secret_t *bg = ewh_secret_generate(EWH_KIND_NODE, "BG", &err);
    ewh_roster_t *r = ewh_roster_new(1);
    struct ewh_receipt rc = {0}, got;
    uint8_t *buf;
    size_t len, i;

    CHECK_OK(ewh_roster_put(r, ewh_secret_pubid(hr), false, &err), &err);
    CHECK_OK(ewh_roster_put(r, ewh_secret_pubid(bg), false, &err), &err);
    randombytes_buf(rc.ids[0], sizeof(rc.ids[0]));
    rc.n_ids = 1;
    memcpy(rc.origin, "RS", 3);
    memcpy(rc.from, "HR", 3);
    rc.kind = EWH_RECEIPT_ACKNOWLEDGED;
    rc.at = ewh_now();
    snprintf(rc.who, sizeof(rc.who), "duty officer");
    CHECK_OK(ewh_receipt_sign(&rc, hr, &buf, &len, &err), &err);
    CHECK_OK(
        ewh_receipt_verify(buf, len, "HR", ewh_roster_lookup, r, &got, &err),
        &err);
    CHECK(got.n_ids == 1 && memcmp(got.ids[0], rc.ids[0], 16) == 0 &&
          got.kind == rc.kind);
    CHECK(strcmp(got.who, "duty officer") == 0);
    /* BG relaying HR's receipt as its own link: refused. */
    CHECK_FAILS(
        ewh_receipt_verify(buf, len, "BG", ewh_roster_lookup, r, &got, &err),
        &err, EWH_E_ORIGIN, "authenticated country BG");
    for (i = 0; i < len; i++) {
        buf[i] ^= 0x10;
        CHECK(ewh_receipt_verify(buf, len, "HR", ewh_roster_lookup, r, &got,
                                 &err) != 0);
        buf[i] ^= 0x10;
    }
    free(buf);
    /* BG cannot sign a receipt in HR's name. */
    CHECK_FAILS(ewh_receipt_sign(&rc, bg, &buf, &len, &err), &err, EWH_E_ORIGIN,
                "another country");
    ewh_roster_destroy(&r);
    ewh_secret_destroy(&hr);
    ewh_secret_destroy(&bg);
}

/* Sign a hand-made ReceiptBody with n ids (as a forger could), the i-th
 * id filled with byte fill[i]. */
static uint8_t *
s_forge(const ewh_secret_t *k, size_t n, const uint8_t *fill, size_t *len)
{
    static uint8_t idv[EWH_MAX_RECEIPT_IDS + 1][EWH_ID_BYTES];
    ProtobufCBinaryData ids[EWH_MAX_RECEIPT_IDS + 1];
    Ewh__ReceiptBody b = EWH__RECEIPT_BODY__INIT;
    Ewh__Receipt r = EWH__RECEIPT__INIT;
    struct ewh_err err = {0};
    uint8_t sig[EWH_SIG_BYTES], body[8192], *out;
    size_t i, blen;

    for (i = 0; i < n; i++) {
        memset(idv[i], fill[i], EWH_ID_BYTES);
        ids[i].data = idv[i];
        ids[i].len = EWH_ID_BYTES;
    }
    b.n_ids = n;
    b.ids = ids;
    b.origin = (char *)"RS";
    b.from = (char *)"HR";
    b.kind = EWH__RECEIPT_KIND__RECEIPT_DELIVERED;
    b.at = ewh_now();
    blen = ewh__receipt_body__pack(&b, body);
    CHECK_OK(
        ewh_sign(EWH_CTX_RECEIPT, body, blen, ewh_secret_sign_sk(k), sig, &err),
        &err);
    r.body.data = body;
    r.body.len = blen;
    r.signature.data = sig;
    r.signature.len = sizeof(sig);
    *len = ewh__receipt__get_packed_size(&r);
    out = malloc(*len);
    CHECK(out != NULL);
    ewh__receipt__pack(&r, out);
    return out;
}

/* One receipt for many reports: all of them come back, in order; the
 * largest fits the named byte limit; 0, too many or a repeated report is
 * refused both when signing and, signed by hand, when verifying. */
static void
test_receipt_for_many_reports(void)
{
    struct ewh_err err = {0};
    ewh_secret_t *hr = ewh_secret_generate(EWH_KIND_NODE, "HR", &err);
    ewh_roster_t *r = ewh_roster_new(1);
    static struct ewh_receipt rc, got;
    uint8_t *buf, fill[EWH_MAX_RECEIPT_IDS + 1];
    size_t len, i;

    CHECK_OK(ewh_roster_put(r, ewh_secret_pubid(hr), false, &err), &err);
    memset(&rc, 0, sizeof(rc));
    for (i = 0; i < EWH_MAX_RECEIPT_IDS; i++)
        randombytes_buf(rc.ids[i], EWH_ID_BYTES);
    rc.n_ids = EWH_MAX_RECEIPT_IDS;
    memcpy(rc.origin, "RS", 3);
    memcpy(rc.from, "HR", 3);
    rc.kind = EWH_RECEIPT_DELIVERED;
    rc.at = ewh_now();
    memset(rc.who, 'w', EWH_MAX_WHO_BYTES); /* the largest receipt */
    CHECK_OK(ewh_receipt_sign(&rc, hr, &buf, &len, &err), &err);
    CHECK(len <= EWH_MAX_RECEIPT_BYTES);
    CHECK_OK(
        ewh_receipt_verify(buf, len, "HR", ewh_roster_lookup, r, &got, &err),
        &err);
    CHECK(got.n_ids == EWH_MAX_RECEIPT_IDS &&
          memcmp(got.ids, rc.ids, sizeof(rc.ids)) == 0);
    free(buf);

    rc.n_ids = 0;
    CHECK_FAILS(ewh_receipt_sign(&rc, hr, &buf, &len, &err), &err,
                EWH_E_INVALID, "1 to 256");
    rc.n_ids = EWH_MAX_RECEIPT_IDS + 1;
    CHECK_FAILS(ewh_receipt_sign(&rc, hr, &buf, &len, &err), &err,
                EWH_E_INVALID, "1 to 256");
    rc.n_ids = 3;
    memcpy(rc.ids[2], rc.ids[0], EWH_ID_BYTES);
    CHECK_FAILS(ewh_receipt_sign(&rc, hr, &buf, &len, &err), &err,
                EWH_E_INVALID, "distinct");

    /* Validly signed by HR, but malformed. */
    for (i = 0; i <= EWH_MAX_RECEIPT_IDS; i++)
        fill[i] = (uint8_t)i;
    buf = s_forge(hr, 3, fill, &len);
    CHECK_OK(
        ewh_receipt_verify(buf, len, "HR", ewh_roster_lookup, r, &got, &err),
        &err);
    CHECK(got.n_ids == 3 && got.ids[2][0] == 2);
    free(buf);
    fill[2] = fill[0];
    buf = s_forge(hr, 3, fill, &len);
    CHECK_FAILS(
        ewh_receipt_verify(buf, len, "HR", ewh_roster_lookup, r, &got, &err),
        &err, EWH_E_INVALID, "names a report twice");
    free(buf);
    buf = s_forge(hr, 0, fill, &len);
    CHECK_FAILS(
        ewh_receipt_verify(buf, len, "HR", ewh_roster_lookup, r, &got, &err),
        &err, EWH_E_INVALID, "1 to 256");
    free(buf);
    for (i = 0; i <= EWH_MAX_RECEIPT_IDS; i++)
        fill[i] = (uint8_t)i;
    buf = s_forge(hr, EWH_MAX_RECEIPT_IDS + 1, fill, &len);
    CHECK_FAILS(
        ewh_receipt_verify(buf, len, "HR", ewh_roster_lookup, r, &got, &err),
        &err, EWH_E_INVALID, "1 to 256");
    free(buf);
    ewh_roster_destroy(&r);
    ewh_secret_destroy(&hr);
}

static void
test_chain_and_checkpoint(void)
{
    struct ewh_err err = {0};
    ewh_secret_t *hub = ewh_secret_generate(EWH_KIND_HUB, NULL, &err);
    ewh_secret_t *evil = ewh_secret_generate(EWH_KIND_HUB, NULL, &err);
    uint8_t head[32] = {0}, h2[32] = {0}, eh[32], id[16];
    struct ewh_checkpoint cp = {0}, got;
    uint8_t *buf;
    size_t len, i;

    for (i = 0; i < 10; i++) {
        memset(id, (int)i, sizeof(id));
        ewh_audit_envelope_hash(id, sizeof(id), eh);
        ewh_audit_next(head, id, eh, "RS", 1700000000 + (int64_t)i, head);
        ewh_audit_next(h2, id, eh, "RS", 1700000000 + (int64_t)i, h2);
    }
    CHECK(memcmp(head, h2, 32) == 0);
    /* One changed field changes the head. */
    ewh_audit_next(head, id, eh, "RS", 1, h2);
    ewh_audit_next(head, id, eh, "HR", 1, eh);
    CHECK(memcmp(h2, eh, 32) != 0);

    cp.length = 10;
    memcpy(cp.head, head, 32);
    cp.time = ewh_now();
    CHECK_OK(ewh_checkpoint_sign(&cp, hub, &buf, &len, &err), &err);
    CHECK_OK(ewh_checkpoint_verify(buf, len, ewh_secret_pubid(hub)->sign, &got,
                                   &err),
             &err);
    CHECK(got.length == 10 && memcmp(got.head, head, 32) == 0);
    CHECK(ewh_checkpoint_verify(buf, len, ewh_secret_pubid(evil)->sign, &got,
                                &err) != 0);
    for (i = 0; i < len; i++) {
        buf[i] ^= 1;
        CHECK(ewh_checkpoint_verify(buf, len, ewh_secret_pubid(hub)->sign, &got,
                                    &err) != 0);
        buf[i] ^= 1;
    }
    free(buf);
    ewh_secret_destroy(&hub);
    ewh_secret_destroy(&evil);
}

int
main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(test_receipt_roundtrip_and_refusals);
    RUN(test_receipt_for_many_reports);
    RUN(test_chain_and_checkpoint);
    return 0;
}
