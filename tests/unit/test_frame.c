/* test_frame.c — frame decode limits, truncation, round trips. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "ewh/frame.h"

static uint8_t s_id[16];

static void
s_encode(const Ewh__Frame *f, uint8_t **buf, size_t *len)
{
    struct ewh_err err = {0};

    CHECK_OK(ewh_frame_encode(f, buf, len, &err), &err);
}

static void
test_roundtrip_each_kind(void)
{
    struct ewh_err err = {0};
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__Hello h = EWH__HELLO__INIT;
    Ewh__Submit s = EWH__SUBMIT__INIT;
    Ewh__DeliverAck da = EWH__DELIVER_ACK__INIT;
    Ewh__SubmitAck sa = EWH__SUBMIT_ACK__INIT;
    ewh_frame_t *got;
    uint8_t env[100], *buf;
    size_t len;

    memset(env, 7, sizeof(env));
    h.version = 1;
    h.credit = 64;
    f.msg_case = EWH__FRAME__MSG_HELLO;
    f.hello = &h;
    s_encode(&f, &buf, &len);
    CHECK_OK(ewh_frame_decode(buf, len, &got, &err), &err);
    CHECK(got->msg_case == EWH__FRAME__MSG_HELLO && got->hello->credit == 64);
    CHECK(strcmp(ewh_frame_name(got), "hello") == 0);
    ewh_frame_destroy(&got);
    CHECK(got == NULL);
    free(buf);

    s.envelope.data = env;
    s.envelope.len = sizeof(env);
    f.msg_case = EWH__FRAME__MSG_SUBMIT;
    f.submit = &s;
    s_encode(&f, &buf, &len);
    CHECK_OK(ewh_frame_decode(buf, len, &got, &err), &err);
    CHECK(got->submit->envelope.len == sizeof(env));
    ewh_frame_destroy(&got);
    free(buf);

    da.seq = 42;
    da.id.data = s_id;
    da.id.len = 16;
    f.msg_case = EWH__FRAME__MSG_DELIVER_ACK;
    f.deliver_ack = &da;
    s_encode(&f, &buf, &len);
    CHECK_OK(ewh_frame_decode(buf, len, &got, &err), &err);
    CHECK(got->deliver_ack->seq == 42);
    ewh_frame_destroy(&got);
    free(buf);

    /* A deliver-ack with a 15-byte id is refused. */
    da.id.len = 15;
    s_encode(&f, &buf, &len);
    CHECK_FAILS(ewh_frame_decode(buf, len, &got, &err), &err, EWH_E_INVALID,
                "deliver-ack");
    CHECK(got == NULL);
    free(buf);

    sa.id.data = s_id;
    sa.id.len = 16;
    sa.status = EWH__ACK_STATUS__ACK_REFUSED;
    sa.reason = (char *)"bad signature";
    f.msg_case = EWH__FRAME__MSG_SUBMIT_ACK;
    f.submit_ack = &sa;
    s_encode(&f, &buf, &len);
    CHECK_OK(ewh_frame_decode(buf, len, &got, &err), &err);
    CHECK(strcmp(got->submit_ack->reason, "bad signature") == 0);
    ewh_frame_destroy(&got);
    free(buf);

    /* A heartbeat (issue 20) carries the roster version the node holds;
     * an empty one (version 0: no roster yet) is a valid heartbeat too. */
    {
        Ewh__Heartbeat hb = EWH__HEARTBEAT__INIT;
        hb.roster_version = 12;
        f.msg_case = EWH__FRAME__MSG_HEARTBEAT;
        f.heartbeat = &hb;
        s_encode(&f, &buf, &len);
        CHECK_OK(ewh_frame_decode(buf, len, &got, &err), &err);
        CHECK(got->msg_case == EWH__FRAME__MSG_HEARTBEAT &&
              got->heartbeat->roster_version == 12);
        CHECK(strcmp(ewh_frame_name(got), "heartbeat") == 0);
        ewh_frame_destroy(&got);
        free(buf);
        hb.roster_version = 0;
        s_encode(&f, &buf, &len);
        CHECK_OK(ewh_frame_decode(buf, len, &got, &err), &err);
        CHECK(got->heartbeat->roster_version == 0);
        ewh_frame_destroy(&got);
        free(buf);
    }
}

static void
test_empty_and_junk(void)
{
    struct ewh_err err = {0};
    ewh_frame_t *got;
    uint8_t junk[64] = {0};
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__Error e = EWH__ERROR__INIT;
    uint8_t *buf;
    size_t len;

    CHECK_FAILS(ewh_frame_decode(junk, 0, &got, &err), &err, EWH_E_INVALID,
                "empty");
    memset(junk, 0xff, sizeof(junk));
    CHECK_FAILS(ewh_frame_decode(junk, sizeof(junk), &got, &err), &err,
                EWH_E_INVALID, "malformed");
    /* A frame with no message set encodes to nothing: refused. */
    s_encode(&f, &buf, &len);
    CHECK(len == 0);
    CHECK_FAILS(ewh_frame_decode(buf, len, &got, &err), &err, EWH_E_INVALID,
                "empty");
    free(buf);
    /* An error frame with an over-long reason is refused. */
    {
        char reason[EWH_MAX_REASON_BYTES + 1];
        memset(reason, 'r', sizeof(reason) - 1);
        reason[sizeof(reason) - 1] = 0;
        e.reason = reason;
        f.msg_case = EWH__FRAME__MSG_ERROR;
        f.error = &e;
        s_encode(&f, &buf, &len);
        CHECK_FAILS(ewh_frame_decode(buf, len, &got, &err), &err, EWH_E_TOOBIG,
                    "reason");
        free(buf);
    }
}

static void
test_limits(void)
{
    struct ewh_err err = {0};
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__Submit s = EWH__SUBMIT__INIT;
    Ewh__Hello h = EWH__HELLO__INIT;
    ewh_frame_t *got;
    uint8_t *env = calloc(1, EWH_MAX_FRAME_BYTES + 1), *buf;
    size_t len;

    /* Envelope size inside a submit: max accepted, max + 1 refused. */
    f.msg_case = EWH__FRAME__MSG_SUBMIT;
    f.submit = &s;
    s.envelope.data = env;
    s.envelope.len = EWH_MAX_ENVELOPE_BYTES;
    s_encode(&f, &buf, &len);
    CHECK_OK(ewh_frame_decode(buf, len, &got, &err), &err);
    ewh_frame_destroy(&got);
    free(buf);
    s.envelope.len = EWH_MAX_ENVELOPE_BYTES + 1;
    s_encode(&f, &buf, &len);
    CHECK_FAILS(ewh_frame_decode(buf, len, &got, &err), &err, EWH_E_TOOBIG,
                "EWH_MAX_ENVELOPE_BYTES");
    free(buf);

    /* The frame itself: refused before unpacking when over the limit. */
    CHECK_FAILS(ewh_frame_decode(env, EWH_MAX_FRAME_BYTES + 1, &got, &err),
                &err, EWH_E_TOOBIG, "EWH_MAX_FRAME_BYTES");
    s.envelope.len = EWH_MAX_FRAME_BYTES;
    CHECK_FAILS(ewh_frame_encode(&f, &buf, &len, &err), &err, EWH_E_TOOBIG,
                "EWH_MAX_FRAME_BYTES");

    /* Credit: 1..EWH_MAX_CREDIT. */
    f.msg_case = EWH__FRAME__MSG_HELLO;
    f.hello = &h;
    h.credit = EWH_MAX_CREDIT;
    s_encode(&f, &buf, &len);
    CHECK_OK(ewh_frame_decode(buf, len, &got, &err), &err);
    ewh_frame_destroy(&got);
    free(buf);
    h.credit = EWH_MAX_CREDIT + 1;
    s_encode(&f, &buf, &len);
    CHECK_FAILS(ewh_frame_decode(buf, len, &got, &err), &err, EWH_E_INVALID,
                "EWH_MAX_CREDIT");
    free(buf);
    h.credit = 0;
    s_encode(&f, &buf, &len);
    CHECK_FAILS(ewh_frame_decode(buf, len, &got, &err), &err, EWH_E_INVALID,
                "credit");
    free(buf);
    free(env);
}

static void
test_proof_entries_limit(void)
{
    struct ewh_err err = {0};
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__AuditProof p = EWH__AUDIT_PROOF__INIT;
    Ewh__AuditEntry e = EWH__AUDIT_ENTRY__INIT;
    Ewh__AuditEntry **ents = calloc(EWH_MAX_PROOF_ENTRIES + 1, sizeof(*ents));
    uint8_t h[32] = {0}, *buf;
    ewh_frame_t *got;
    size_t len, i;

    e.id.data = s_id;
    e.id.len = 16;
    e.envelope_hash.data = h;
    e.envelope_hash.len = 32;
    e.origin = (char *)"RS";
    for (i = 0; i <= EWH_MAX_PROOF_ENTRIES; i++)
        ents[i] = &e;
    f.msg_case = EWH__FRAME__MSG_AUDIT_PROOF;
    f.audit_proof = &p;
    p.entries = ents;
    p.n_entries = EWH_MAX_PROOF_ENTRIES;
    s_encode(&f, &buf, &len);
    CHECK_OK(ewh_frame_decode(buf, len, &got, &err), &err);
    ewh_frame_destroy(&got);
    free(buf);
    p.n_entries = EWH_MAX_PROOF_ENTRIES + 1;
    s_encode(&f, &buf, &len);
    CHECK_FAILS(ewh_frame_decode(buf, len, &got, &err), &err, EWH_E_TOOBIG,
                "EWH_MAX_PROOF_ENTRIES");
    free(buf);
    e.origin = (char *)"rs";
    p.n_entries = 1;
    s_encode(&f, &buf, &len);
    CHECK_FAILS(ewh_frame_decode(buf, len, &got, &err), &err, EWH_E_INVALID,
                "audit entry");
    free(buf);
    free(ents);
}

static void
test_truncation(void)
{
    struct ewh_err err = {0};
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__Deliver d = EWH__DELIVER__INIT;
    uint8_t env[300], *buf, *copy;
    ewh_frame_t *got;
    size_t len, i;

    memset(env, 0x5a, sizeof(env));
    d.seq = 1234567;
    d.envelope.data = env;
    d.envelope.len = sizeof(env);
    f.msg_case = EWH__FRAME__MSG_DELIVER;
    f.deliver = &d;
    s_encode(&f, &buf, &len);
    for (i = 0; i < len; i++) {
        copy = malloc(i ? i : 1);
        memcpy(copy, buf, i);
        CHECK(ewh_frame_decode(copy, i, &got, &err) != 0);
        CHECK(got == NULL);
        free(copy);
    }
    CHECK_OK(ewh_frame_decode(buf, len, &got, &err), &err);
    ewh_frame_destroy(&got);
    free(buf);
}

int
main(void)
{
    if (sodium_init() < 0)
        return 1;
    randombytes_buf(s_id, sizeof(s_id));
    RUN(test_roundtrip_each_kind);
    RUN(test_empty_and_junk);
    RUN(test_limits);
    RUN(test_proof_entries_limit);
    RUN(test_truncation);
    return 0;
}
