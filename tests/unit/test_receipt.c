/* test_receipt.c — signed receipts and audit checkpoints. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
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
    randombytes_buf(rc.id, sizeof(rc.id));
    memcpy(rc.origin, "RS", 3);
    memcpy(rc.from, "HR", 3);
    rc.kind = EWH_RECEIPT_ACKNOWLEDGED;
    rc.at = ewh_now();
    snprintf(rc.who, sizeof(rc.who), "duty officer");
    CHECK_OK(ewh_receipt_sign(&rc, hr, &buf, &len, &err), &err);
    CHECK_OK(
        ewh_receipt_verify(buf, len, "HR", ewh_roster_lookup, r, &got, &err),
        &err);
    CHECK(memcmp(got.id, rc.id, 16) == 0 && got.kind == rc.kind);
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
    RUN(test_chain_and_checkpoint);
    return 0;
}
