/* mkcorpus.c — write the seed corpus for the fuzz targets:
 *   mkcorpus DIR   creates DIR/{envelope,frame,roster,signed,text}/seed-*.
 * Seeds use the fixed test identities of fuzz_common.h, so valid envelopes
 * and rosters stay valid for the fuzzers. */
#include <sys/stat.h>

#include "ewh/audit.h"
#include "ewh/envelope.h"
#include "ewh/frame.h"
#include "ewh/receipt.h"
#include "fuzz_common.h"

static const char *s_out;
static int s_n;

static void
s_put(const char *target, const void *data, size_t len)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", s_out, target);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/%s/seed-%03d", s_out, target, s_n++);
    f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

/* A seed for fuzz_signed: the kind byte, then the signed body of buf (an
 * Envelope, SignedRoster, Receipt or Checkpoint: all {body, signature}). */
static void
s_signed(uint8_t kind, const uint8_t *buf, size_t len)
{
    Ewh__Envelope *e = ewh__envelope__unpack(NULL, len, buf);
    uint8_t *out;

    if (e == NULL || (out = malloc(e->body.len + 1)) == NULL)
        abort();
    out[0] = kind;
    memcpy(out + 1, e->body.data, e->body.len);
    s_put("signed", out, e->body.len + 1);
    free(out);
    ewh__envelope__free_unpacked(e, NULL);
}

static void
s_frame(Ewh__Frame *f)
{
    struct ewh_err err;
    uint8_t *buf;
    size_t len;

    if (ewh_frame_encode(f, &buf, &len, &err) != 0)
        abort();
    s_put("frame", buf, len);
    free(buf);
}

static void
s_envelope(enum ewh_type type, size_t n_to, uint8_t **env, size_t *len)
{
    const struct ewh_pubid *to[2] = {ewh_secret_pubid(fz_sec[FZ_HR]),
                                     ewh_secret_pubid(fz_sec[FZ_BG])};
    struct ewh_report r;
    struct ewh_err err;

    memset(&r, 0, sizeof(r));
    memset(r.id, 0x42 + (int)type, sizeof(r.id));
    r.type = type;
    if (type != EWH_TYPE_ALERT) {
        r.n_refs = 1;
        memset(r.refs[0], 0x43, 16);
    }
    memcpy(r.origin, "RS", 3);
    snprintf(r.author, sizeof(r.author), "analyst");
    r.created_at = 1795354625;
    r.expires_at = type == EWH_TYPE_ALERT ? r.created_at + 7200 : 0;
    r.level = EWH_LEVEL_HIGH;
    snprintf(r.category, sizeof(r.category), "border-security");
    r.tlp = EWH_TLP_AMBER;
    snprintf(r.title, sizeof(r.title), "Seed report");
    if (ewh_report_set_body(&r, "Body\nline two", 13, &err) != 0 ||
        ewh_envelope_seal(&r, to, n_to, fz_sec[FZ_RS], NULL, env, len, &err) !=
            0) {
        fprintf(stderr, "seal: %s\n", err.reason);
        exit(1);
    }
    ewh_report_clear(&r);
}

int
main(int argc, char **argv)
{
    struct ewh_err err;
    uint8_t *env, *buf, id[16];
    size_t len, blen;
    Ewh__Frame f = EWH__FRAME__INIT;

    if (argc != 2) {
        fprintf(stderr, "usage: mkcorpus DIR\n");
        return 2;
    }
    s_out = argv[1];
    mkdir(s_out, 0755);
    fz_init();
    memset(id, 0x42, sizeof(id));

    /* Envelopes: alert to 2, update to 1, cancel to 2. */
    s_envelope(EWH_TYPE_ALERT, 2, &env, &len);
    s_put("envelope", env, len);
    s_signed(0, env, len);
    {
        Ewh__Submit s = EWH__SUBMIT__INIT;
        Ewh__Deliver d = EWH__DELIVER__INIT;
        s.envelope.data = env;
        s.envelope.len = len;
        f.msg_case = EWH__FRAME__MSG_SUBMIT;
        f.submit = &s;
        s_frame(&f);
        d.seq = 17;
        d.envelope = s.envelope;
        f.msg_case = EWH__FRAME__MSG_DELIVER;
        f.deliver = &d;
        s_frame(&f);
    }
    free(env);
    s_envelope(EWH_TYPE_UPDATE, 1, &env, &len);
    s_put("envelope", env, len);
    s_signed(0, env, len);
    free(env);
    s_envelope(EWH_TYPE_CANCEL, 2, &env, &len);
    s_put("envelope", env, len);
    s_signed(0, env, len);
    free(env);

    /* Roster, receipt, checkpoint. */
    {
        const char *cats[] = {"terrorism", "cyber", "other"};
        if (ewh_roster_set_categories(fz_roster, cats, 3, &err) != 0 ||
            ewh_roster_sign(fz_roster, fz_sec[FZ_HUB], &buf, &blen, &err) != 0)
            abort();
        s_put("roster", buf, blen);
        s_signed(1, buf, blen);
        {
            Ewh__SignedRoster *sr = ewh__signed_roster__unpack(NULL, blen, buf);
            f.msg_case = EWH__FRAME__MSG_ROSTER;
            f.roster = sr;
            s_frame(&f);
            ewh__signed_roster__free_unpacked(sr, NULL);
        }
        free(buf);
    }
    {
        struct ewh_receipt rc = {0};
        memcpy(rc.ids[0], id, 16);
        memset(rc.ids[1], 7, 16); /* a second report: a batched receipt */
        rc.n_ids = 2;
        memcpy(rc.origin, "RS", 3);
        memcpy(rc.from, "HR", 3);
        rc.kind = EWH_RECEIPT_ACKNOWLEDGED;
        rc.at = 1795354625;
        if (ewh_receipt_sign(&rc, fz_sec[FZ_HR], &buf, &blen, &err) != 0)
            abort();
        s_put("roster", buf, blen);
        s_signed(2, buf, blen);
        {
            Ewh__Receipt *r = ewh__receipt__unpack(NULL, blen, buf);
            Ewh__ReceiptRelay rr = EWH__RECEIPT_RELAY__INIT;
            f.msg_case = EWH__FRAME__MSG_RECEIPT;
            f.receipt = r;
            s_frame(&f);
            rr.seq = 3;
            rr.receipt = r;
            f.msg_case = EWH__FRAME__MSG_RECEIPT_RELAY;
            f.receipt_relay = &rr;
            s_frame(&f);
            ewh__receipt__free_unpacked(r, NULL);
        }
        free(buf);
    }
    {
        struct ewh_checkpoint cp = {.length = 5, .time = 1795354625};
        Ewh__SubmitAck sa = EWH__SUBMIT_ACK__INIT;
        Ewh__Checkpoint *c;
        memset(cp.head, 0x77, 32);
        if (ewh_checkpoint_sign(&cp, fz_sec[FZ_HUB], &buf, &blen, &err) != 0)
            abort();
        s_put("roster", buf, blen);
        s_signed(3, buf, blen);
        c = ewh__checkpoint__unpack(NULL, blen, buf);
        sa.id.data = id;
        sa.id.len = 16;
        sa.status = EWH__ACK_STATUS__ACK_ACCEPTED;
        sa.reason = (char *)"";
        sa.checkpoint = c;
        f.msg_case = EWH__FRAME__MSG_SUBMIT_ACK;
        f.submit_ack = &sa;
        s_frame(&f);
        ewh__checkpoint__free_unpacked(c, NULL);
        free(buf);
    }
    /* The remaining frame kinds. */
    {
        Ewh__Hello h = EWH__HELLO__INIT;
        Ewh__DeliverAck da = EWH__DELIVER_ACK__INIT;
        Ewh__Notice n = EWH__NOTICE__INIT;
        Ewh__Error e = EWH__ERROR__INIT;
        Ewh__AuditRequest ar = EWH__AUDIT_REQUEST__INIT;
        Ewh__AuditProof ap = EWH__AUDIT_PROOF__INIT;
        Ewh__AuditEntry ae = EWH__AUDIT_ENTRY__INIT, *aep = &ae;
        Ewh__ReceiptAck ra = EWH__RECEIPT_ACK__INIT;
        Ewh__NoticeAck na = EWH__NOTICE_ACK__INIT;
        uint8_t h32[32];
        memset(h32, 9, 32);
        h.version = 1;
        h.credit = 256;
        h.roster_version = 3;
        f.msg_case = EWH__FRAME__MSG_HELLO;
        f.hello = &h;
        s_frame(&f);
        da.seq = 17;
        da.id.data = id;
        da.id.len = 16;
        f.msg_case = EWH__FRAME__MSG_DELIVER_ACK;
        f.deliver_ack = &da;
        s_frame(&f);
        n.id = da.id;
        n.country = (char *)"HR";
        n.kind = EWH__NOTICE_KIND__NOTICE_EXPIRED;
        n.reason = (char *)"expired";
        f.msg_case = EWH__FRAME__MSG_NOTICE;
        f.notice = &n;
        s_frame(&f);
        e.code = 3;
        e.reason = (char *)"bad signature";
        f.msg_case = EWH__FRAME__MSG_ERROR;
        f.error = &e;
        s_frame(&f);
        ar.from_length = 2;
        ar.max_entries = 100;
        f.msg_case = EWH__FRAME__MSG_AUDIT_REQUEST;
        f.audit_request = &ar;
        s_frame(&f);
        ae.id = da.id;
        ae.envelope_hash.data = h32;
        ae.envelope_hash.len = 32;
        ae.origin = (char *)"RS";
        ap.entries = &aep;
        ap.n_entries = 1;
        f.msg_case = EWH__FRAME__MSG_AUDIT_PROOF;
        f.audit_proof = &ap;
        s_frame(&f);
        ra.ids = &da.id;
        ra.n_ids = 1;
        ra.from = (char *)"HR";
        ra.seq = 4;
        f.msg_case = EWH__FRAME__MSG_RECEIPT_ACK;
        f.receipt_ack = &ra;
        s_frame(&f);
        na.seq = 5;
        f.msg_case = EWH__FRAME__MSG_NOTICE_ACK;
        f.notice_ack = &na;
        s_frame(&f);
    }
    /* Text: identity files, a key file, a config file, durations, ids. */
    {
        char text[EWH_MAX_PUBID_BYTES];
        int n = ewh_pubid_format(ewh_secret_pubid(fz_sec[FZ_RS]), text,
                                 sizeof(text), &err);
        const char *conf = "# c\n[hub]\nn = 5\nb = yes\n[limits]\nx = 1\n";
        const char *words[] = {"90m", "2d", "3600",
                               "00112233445566778899aabbccddeeff"};
        s_put("parse", text, (size_t)n);
        n = ewh_pubid_format(ewh_secret_pubid(fz_sec[FZ_HUB]), text,
                             sizeof(text), &err);
        s_put("parse", text, (size_t)n);
        s_put("parse", s_fz_keys[FZ_BG], strlen(s_fz_keys[FZ_BG]));
        s_put("parse", conf, strlen(conf));
        for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
            s_put("parse", words[i], strlen(words[i]));
    }
    printf("%d seeds in %s\n", s_n, s_out);
    return 0;
}
