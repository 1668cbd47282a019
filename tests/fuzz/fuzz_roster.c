/* fuzz_roster.c — signed roster open, receipt and checkpoint verify. */
#include "ewh/audit.h"
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *hub = ewh_secret_pubid(fz_sec[FZ_HUB])->sign;
    struct ewh_err err;
    struct ewh_receipt rc;
    struct ewh_checkpoint cp;
    ewh_roster_t *r;

    r = ewh_roster_open(data, size, hub, &err);
    if (r != NULL) {
        for (size_t i = 0; i < ewh_roster_count(r); i++)
            if (!ewh_country_is_valid(ewh_roster_at(r, i, NULL)->country))
                abort();
        ewh_roster_destroy(&r);
    }
    (void)ewh_receipt_verify(data, size, NULL, ewh_roster_lookup, fz_roster,
                             &rc, &err);
    (void)ewh_checkpoint_verify(data, size, hub, &cp, &err);
    return 0;
}
