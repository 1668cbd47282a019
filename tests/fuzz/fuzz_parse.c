/* fuzz_parse.c — the text parsers that see outside input (public identity
 * files, secret key files, config files, durations and times given on the
 * command line, ids, country codes, levels, TLP), at full speed: the file
 * parsers read from a tmpfs file written without fsync, so the fuzzer
 * makes thousands of runs a second (an earlier fuzz_text wrote each input
 * with ewh_keyfile_write's fsync and made about a hundred). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ewh/config.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char s_path[96];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_init();
    snprintf(s_path, sizeof(s_path), "%s/ewh-fuzz-parse-%ld",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp",
             (long)getpid());
    return 0;
}

static int
s_any(void *ctx, const char *section, const char *name, const char *value,
      struct ewh_err *err)
{
    uint64_t v;
    bool b;
    int64_t d;

    (void)ctx;
    (void)section;
    if (strcmp(name, "n") == 0)
        return ewh_config_uint(name, value, 1, 1000, &v, err);
    if (strcmp(name, "b") == 0)
        return ewh_config_bool(name, value, &b, err);
    if (strcmp(name, "d") == 0)
        return ewh_duration_parse(value, EWH_MAX_EXPIRY_S, &d, err);
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
    int fd;

    if (ewh_pubid_parse((const char *)data, size, &id, &err) == 0) {
        char text[EWH_MAX_PUBID_BYTES];
        int n = ewh_pubid_format(&id, text, sizeof(text), &err);
        struct ewh_pubid again;
        if (n < 0 || ewh_pubid_parse(text, (size_t)n, &again, &err) != 0 ||
            !ewh_pubid_equal(&id, &again))
            abort();
    }
    if (size <= 2 * EWH_MAX_KEYFILE_BYTES &&
        (fd = open(s_path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600)) >=
            0) {
        if (write(fd, data, size) == (ssize_t)size) {
            close(fd);
            s = ewh_secret_load(s_path, &err);
            ewh_secret_destroy(&s);
            (void)ewh_config_load(s_path, false, s_any, NULL, &err);
        } else {
            close(fd);
        }
    }
    str = malloc(size + 1);
    memcpy(str, data, size);
    str[size] = '\0';
    if (ewh_duration_parse(str, EWH_MAX_EXPIRY_S, &d, &err) == 0 &&
        (d < 0 || d > EWH_MAX_EXPIRY_S))
        abort();
    (void)ewh_id_parse(str, raw, &err);
    (void)ewh_country_is_valid(str);
    (void)ewh_level_parse(str);
    (void)ewh_tlp_parse(str);
    (void)ewh_text_is_valid(str, size, true);
    (void)ewh_text_is_valid(str, size, false);
    free(str);
    return 0;
}
