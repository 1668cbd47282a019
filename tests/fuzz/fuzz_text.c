/* fuzz_text.c — the text parsers that see outside input: public identity
 * files, secret key files, config files, durations, ids. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ewh/config.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char s_path[64];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_init();
    snprintf(s_path, sizeof(s_path), "/tmp/ewh-fuzz-text-%ld", (long)getpid());
    return 0;
}

static int
s_any(void *ctx, const char *section, const char *name, const char *value,
      struct ewh_err *err)
{
    uint64_t v;
    bool b;

    (void)ctx;
    (void)section;
    if (strcmp(name, "n") == 0)
        return ewh_config_uint(name, value, 1, 1000, &v, err);
    if (strcmp(name, "b") == 0)
        return ewh_config_bool(name, value, &b, err);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ewh_err err;
    struct ewh_pubid id;
    ewh_secret_t *s;
    char *str;
    int64_t d;
    uint8_t raw[16];

    if (ewh_pubid_parse((const char *)data, size, &id, &err) == 0) {
        char text[EWH_MAX_PUBID_BYTES];
        int n = ewh_pubid_format(&id, text, sizeof(text), &err);
        struct ewh_pubid again;
        if (n < 0 || ewh_pubid_parse(text, (size_t)n, &again, &err) != 0 ||
            !ewh_pubid_equal(&id, &again))
            abort();
    }
    if (size <= 2 * EWH_MAX_KEYFILE_BYTES) {
        if (ewh_keyfile_write(s_path, data, size, 0600, &err) == 0) {
            s = ewh_secret_load(s_path, &err);
            ewh_secret_destroy(&s);
            (void)ewh_config_load(s_path, false, s_any, NULL, &err);
            unlink(s_path);
        }
    }
    str = malloc(size + 1);
    memcpy(str, data, size);
    str[size] = '\0';
    (void)ewh_duration_parse(str, EWH_MAX_EXPIRY_S, &d, &err);
    (void)ewh_id_parse(str, raw, &err);
    (void)ewh_country_is_valid(str);
    (void)ewh_level_parse(str);
    (void)ewh_tlp_parse(str);
    (void)ewh_text_is_valid(str, size, true);
    free(str);
    return 0;
}
