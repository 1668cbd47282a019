/* test_util.c — durations, times, hex, countries, config files. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "check.h"
#include "ewh/config.h"
#include "ewh/keyfile.h"
#include "ewh/util.h"

static void
test_durations(void)
{
    struct ewh_err err = {0};
    int64_t v;

    CHECK_OK(ewh_duration_parse("90m", 86400, &v, &err), &err);
    CHECK(v == 5400);
    CHECK_OK(ewh_duration_parse("2d", 7 * 86400, &v, &err), &err);
    CHECK(v == 172800);
    CHECK_OK(ewh_duration_parse("45", 100, &v, &err), &err);
    CHECK(v == 45);
    CHECK_OK(ewh_duration_parse("100s", 100, &v, &err), &err);
    CHECK_FAILS(ewh_duration_parse("101s", 100, &v, &err), &err, EWH_E_TOOBIG,
                "limit");
    CHECK_FAILS(ewh_duration_parse("1w", 1000000, &v, &err), &err,
                EWH_E_INVALID, "unit");
    CHECK_FAILS(ewh_duration_parse("-5m", 100, &v, &err), &err, EWH_E_INVALID,
                "number");
    CHECK_FAILS(ewh_duration_parse("0", 100, &v, &err), &err, EWH_E_INVALID,
                "positive");
    CHECK_FAILS(ewh_duration_parse("5mm", 1000, &v, &err), &err, EWH_E_INVALID,
                "trailing");
    CHECK_FAILS(ewh_duration_parse("99999999999999999999d", 1000, &v, &err),
                &err, EWH_E_INVALID, "positive");
    CHECK_FAILS(ewh_duration_parse("9223372036854775807d", 1000, &v, &err),
                &err, EWH_E_TOOBIG, "limit");
}

static void
test_time_format(void)
{
    char buf[32];

    CHECK(strcmp(ewh_time_format(0, buf, sizeof(buf)),
                 "1970-01-01T00:00:00+00:00") == 0);
    CHECK(strcmp(ewh_time_format(1795354625, buf, sizeof(buf)),
                 "2026-11-22T13:37:05+00:00") == 0);
}

static void
test_names_and_codes(void)
{
    struct ewh_err err = {0};
    uint8_t id[16];

    CHECK(ewh_level_parse("HIGH") == EWH_LEVEL_HIGH);
    CHECK(ewh_level_parse("urgent") == EWH_LEVEL_NONE);
    CHECK(ewh_tlp_parse("white") == EWH_TLP_CLEAR);
    CHECK(ewh_type_parse("cancel") == EWH_TYPE_CANCEL);
    CHECK(strcmp(ewh_level_name(EWH_LEVEL_MEDIUM), "medium") == 0);
    CHECK(ewh_country_is_valid("RS") && ewh_country_is_valid("ZW"));
    CHECK(ewh_country_is_valid("AD"));
    CHECK(!ewh_country_is_valid("XK") && !ewh_country_is_valid("EU"));
    CHECK(!ewh_country_is_valid("AA") && !ewh_country_is_valid("ZZ"));
    CHECK(ewh_country_is_valid("MK") && ewh_country_is_valid("GB"));
    {
        /* Every one of the 249 ISO 3166-1 codes, and no other pair. */
        char cc[3] = {0};
        int n = 0;
        for (cc[0] = 'A'; cc[0] <= 'Z'; cc[0]++)
            for (cc[1] = 'A'; cc[1] <= 'Z'; cc[1]++)
                n += ewh_country_is_valid(cc);
        CHECK(n == 249);
    }
    CHECK_OK(ewh_id_parse("00112233445566778899aabbccddeeff", id, &err), &err);
    CHECK(id[15] == 0xff);
    CHECK_FAILS(ewh_id_parse("0011", id, &err), &err, EWH_E_INVALID, "32");
    CHECK_FAILS(ewh_id_parse("g0112233445566778899aabbccddeeff", id, &err),
                &err, EWH_E_INVALID, "32");
    CHECK(ewh_text_is_valid("caf\xc3\xa9", 5, false));
    CHECK(!ewh_text_is_valid("caf\xc3", 4, false));
    CHECK(!ewh_text_is_valid("a\nb", 3, false));
    CHECK(ewh_text_is_valid("a\nb", 3, true));
    CHECK(!ewh_text_is_valid("a\0b", 3, true));
}

struct s_conf {
    uint64_t credit;
    bool flag;
};

static int
s_handler(void *ctx, const char *section, const char *name, const char *value,
          struct ewh_err *err)
{
    struct s_conf *c = ctx;

    if (strcmp(section, "node") != 0)
        return ewh_err_set(err, EWH_E_INVALID, "unknown section [%s]", section);
    if (strcmp(name, "credit") == 0)
        return ewh_config_uint(name, value, 1, 4096, &c->credit, err);
    if (strcmp(name, "flag") == 0)
        return ewh_config_bool(name, value, &c->flag, err);
    return ewh_err_set(err, EWH_E_INVALID, "unknown option '%s'", name);
}

static void
test_config(void)
{
    struct ewh_err err = {0};
    struct s_conf c = {0};
    char path[] = "/tmp/ewh-test-conf-XXXXXX";
    int fd = mkstemp(path);
    const char good[] = "# comment\n[node]\ncredit = 64 ; inline\nflag = "
                        "yes\n";
    const char bad1[] = "[node]\ncredit = 64\ncredit = 9999\n";
    const char bad2[] = "[node]\n\nwhat = 1\n";
    const char bad3[] = "[node]\nthis line has no equals\n";
    const char bad4[] = "[node]\nflag = perhaps\n";

    CHECK(fd >= 0);
    close(fd);
    CHECK_OK(ewh_keyfile_write(path, good, strlen(good), 0644, &err), &err);
    CHECK_OK(ewh_config_load(path, false, s_handler, &c, &err), &err);
    CHECK(c.credit == 64 && c.flag);
    CHECK_OK(ewh_keyfile_write(path, bad1, strlen(bad1), 0644, &err), &err);
    CHECK(ewh_config_load(path, false, s_handler, &c, &err) != 0);
    CHECK(strstr(err.reason, path) != NULL);
    CHECK(strstr(err.reason, ":3: ") != NULL);
    CHECK(strstr(err.reason, "outside 1..4096") != NULL);
    CHECK_OK(ewh_keyfile_write(path, bad2, strlen(bad2), 0644, &err), &err);
    CHECK(ewh_config_load(path, false, s_handler, &c, &err) != 0);
    CHECK(strstr(err.reason, ":3: unknown option 'what'") != NULL);
    CHECK_OK(ewh_keyfile_write(path, bad3, strlen(bad3), 0644, &err), &err);
    CHECK(ewh_config_load(path, false, s_handler, &c, &err) != 0);
    CHECK(strstr(err.reason, ":2: syntax error") != NULL);
    CHECK_OK(ewh_keyfile_write(path, bad4, strlen(bad4), 0644, &err), &err);
    CHECK(ewh_config_load(path, false, s_handler, &c, &err) != 0);
    CHECK(strstr(err.reason, "not yes or no") != NULL);
    unlink(path);
    CHECK(ewh_config_load(path, true, s_handler, &c, &err) == 0);
    CHECK(ewh_config_load(path, false, s_handler, &c, &err) != 0);
    CHECK(err.code == EWH_E_IO);
}

/* Report ids: UUIDv7 bits, the creation time in front, in time order,
 * and 74 random bits (no two alike). */
static void
test_ids(void)
{
    enum { N = 2000 };
    static uint8_t ids[N][EWH_ID_BYTES];
    int64_t t0 = ewh_now_ms(), t1, ms;
    int i, j, k;

    CHECK(sodium_init() >= 0);
    for (i = 0; i < N; i++)
        ewh_id_new(ids[i]);
    t1 = ewh_now_ms();
    for (i = 0; i < N; i++) {
        CHECK((ids[i][6] >> 4) == 7);
        CHECK((ids[i][8] >> 6) == 2);
        for (ms = 0, k = 0; k < 6; k++)
            ms = (ms << 8) | ids[i][k];
        CHECK(ms >= t0 && ms <= t1);
        if (i > 0)
            CHECK(memcmp(ids[i - 1], ids[i], 6) <= 0);
        for (j = 0; j < i; j++)
            CHECK(memcmp(ids[j], ids[i], EWH_ID_BYTES) != 0);
    }
}

int
main(void)
{
    RUN(test_durations);
    RUN(test_time_format);
    RUN(test_names_and_codes);
    RUN(test_config);
    RUN(test_ids);
    return 0;
}
