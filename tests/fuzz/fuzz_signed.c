/* fuzz_signed.c — the decoders behind a signature.  The first input byte
 * picks an object (envelope, roster, receipt, checkpoint); the rest is its
 * signed body, which the target signs with the right fixed test key.  So
 * the fuzzer explores what a genuine but hostile signer could send (an
 * enrolled node, a compromised hub): header meaning checks, key
 * unwrapping, roster entries, receipt and checkpoint fields — paths the
 * plain targets rarely reach past the signature check. */
#include "ewh.pb-c.h"
#include "ewh/audit.h"
#include "ewh/envelope.h"
#include "ewh/receipt.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_init();
    return 0;
}

/* Pack {body, signature} (all four messages have this shape) signed by
 * key under ctx.  Caller frees. */
static uint8_t *
s_signed(const char *ctx, const ewh_secret_t *key, const uint8_t *body,
         size_t len, size_t *out_len)
{
    Ewh__Envelope e = EWH__ENVELOPE__INIT;
    uint8_t sig[EWH_SIG_BYTES], *out;

    if (ewh_sign(ctx, body, len, ewh_secret_sign_sk(key), sig, NULL) != 0)
        abort();
    e.body.data = (uint8_t *)body;
    e.body.len = len;
    e.signature.data = sig;
    e.signature.len = sizeof(sig);
    *out_len = ewh__envelope__get_packed_size(&e);
    if ((out = malloc(*out_len + 1)) == NULL)
        abort();
    ewh__envelope__pack(&e, out);
    return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *hub = ewh_secret_pubid(fz_sec[FZ_HUB])->sign;
    struct ewh_err err;
    struct ewh_header hdr;
    struct ewh_report r;
    struct ewh_receipt rc;
    struct ewh_checkpoint cp;
    ewh_roster_t *ro;
    uint8_t *buf;
    size_t len;

    if (size < 1)
        return 0;
    switch (data[0] % 4) {
    case 0:
        buf =
            s_signed(EWH_CTX_ENVELOPE, fz_sec[FZ_RS], data + 1, size - 1, &len);
        (void)ewh_envelope_verify(buf, len, "RS", ewh_roster_lookup, fz_roster,
                                  &hdr, &err);
        if (ewh_envelope_open(buf, len, fz_sec[FZ_HR], ewh_roster_lookup,
                              fz_roster, &r, &hdr, &err) == 0) {
            if (ewh_report_check(&r, &err) != 0 ||
                strcmp(r.origin, hdr.origin) != 0 || r.level != hdr.level)
                abort();
            ewh_report_clear(&r);
        }
        break;
    case 1:
        buf =
            s_signed(EWH_CTX_ROSTER, fz_sec[FZ_HUB], data + 1, size - 1, &len);
        if ((ro = ewh_roster_open(buf, len, hub, &err)) != NULL) {
            for (size_t i = 0; i < ewh_roster_count(ro); i++) {
                const struct ewh_pubid *id = ewh_roster_at(ro, i, NULL);
                if (!ewh_country_is_valid(id->country) ||
                    ewh_roster_find(ro, id->country, NULL) == NULL)
                    abort();
            }
            ewh_roster_destroy(&ro);
        }
        break;
    case 2:
        buf =
            s_signed(EWH_CTX_RECEIPT, fz_sec[FZ_HR], data + 1, size - 1, &len);
        if (ewh_receipt_verify(buf, len, "HR", ewh_roster_lookup, fz_roster,
                               &rc, &err) == 0 &&
            strcmp(rc.from, "HR") != 0)
            abort();
        break;
    default:
        buf = s_signed(EWH_CTX_CHECKPOINT, fz_sec[FZ_HUB], data + 1, size - 1,
                       &len);
        (void)ewh_checkpoint_verify(buf, len, hub, &cp, &err);
        break;
    }
    free(buf);
    return 0;
}
