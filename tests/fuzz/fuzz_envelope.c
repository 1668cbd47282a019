/* fuzz_envelope.c — envelope verify (hub), peek and open (recipient). */
#include "ewh/envelope.h"
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ewh_header hdr;
    struct ewh_report r;
    struct ewh_err err;

    (void)ewh_envelope_peek(data, size, &hdr, &err);
    (void)ewh_envelope_verify(data, size, "RS", ewh_roster_lookup, fz_roster,
                              &hdr, &err);
    if (ewh_envelope_open(data, size, fz_sec[FZ_HR], ewh_roster_lookup,
                          fz_roster, &r, &hdr, &err) == 0) {
        /* An opened report always passes the report checks. */
        if (ewh_report_check(&r, &err) != 0)
            abort();
        ewh_report_clear(&r);
    }
    return 0;
}
