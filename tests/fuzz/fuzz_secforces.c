/* fuzz_secforces.c — the annual return's validator, the catalogue's JSON
 * file and signed form: any input is refused or accepted, never a crash,
 * and an accepted return is valid JSON of the schema's shape. */
#include <jansson.h>

#include "ewh/catalogue.h"
#include "ewh/secforces.h"
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
    static struct ewh_sf_result res;
    const uint8_t *hub = ewh_secret_pubid(fz_sec[FZ_HUB])->sign;
    struct ewh_err err;
    ewh_catalogue_t *c;
    uint64_t based;

    if (ewh_sf_validate((const char *)data, size, &res, &err) == 0) {
        json_t *j = json_loadb((const char *)data, size, 0, NULL);
        if (j == NULL || json_array_size(json_object_get(j, "agencies")) == 0)
            abort();
        json_decref(j);
    } else if (res.n == 0)
        abort(); /* a refusal names at least one error */
    c = ewh_catalogue_from_json((const char *)data, size, &based, &err);
    ewh_catalogue_destroy(&c);
    c = ewh_catalogue_open(data, size, hub, &err);
    ewh_catalogue_destroy(&c);
    return 0;
}
