/* test_catalogue.c — the catalogue of concern: built-in text, sign, open,
 * refuse; the JSON file a person edits. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "ewh/catalogue.h"
#include "ewh/roster.h"

static size_t
s_defaults(const char **cats)
{
    size_t n = 0;

    while (ewh_default_categories[n] != NULL) {
        cats[n] = ewh_default_categories[n];
        n++;
    }
    return n;
}

static void
test_builtin_covers_the_plan(void)
{
    struct ewh_err err = {0};
    const char *cats[EWH_MAX_CATEGORIES + 1];
    size_t n = s_defaults(cats), i;
    ewh_catalogue_t *c = ewh_catalogue_builtin(cats, n, &err);
    const char *extra[] = {"weather"};

    CHECK(c != NULL);
    CHECK(ewh_catalogue_count(c) == n);
    CHECK_OK(ewh_catalogue_check_areas(c, cats, n, &err), &err);
    for (i = 0; i < n; i++) {
        const struct ewh_catalogue_area *a = ewh_catalogue_at(c, i);
        CHECK(a->guide[EWH_LEVEL_HIGH][0] && a->guide[EWH_LEVEL_MEDIUM][0] &&
              a->guide[EWH_LEVEL_LOW][0]);
        CHECK(a->default_level >= EWH_LEVEL_LOW);
    }
    CHECK(ewh_catalogue_find(c, "terrorism")->n_ind >= 2);
    CHECK_FAILS(ewh_catalogue_check_areas(c, cats, n - 1, &err), &err,
                EWH_E_INVALID, "is not a category");
    ewh_catalogue_destroy(&c);
    /* An area outside the defaults gets generic words. */
    c = ewh_catalogue_builtin(extra, 1, &err);
    CHECK(c != NULL);
    CHECK(strcmp(ewh_catalogue_at(c, 0)->title, "weather") == 0);
    CHECK_FAILS(ewh_catalogue_check_areas(c, cats, n, &err), &err,
                EWH_E_INVALID, "missing");
    ewh_catalogue_destroy(&c);
}

static void
test_sign_open_refuse(void)
{
    struct ewh_err err = {0};
    const char *cats[EWH_MAX_CATEGORIES + 1];
    size_t n = s_defaults(cats), len, i;
    ewh_secret_t *hub = ewh_secret_generate(EWH_KIND_HUB, NULL, &err);
    ewh_secret_t *hub2 = ewh_secret_generate(EWH_KIND_HUB, NULL, &err);
    ewh_secret_t *rs = ewh_secret_generate(EWH_KIND_NODE, "RS", &err);
    ewh_catalogue_t *c = ewh_catalogue_builtin(cats, n, &err), *got;
    uint8_t *buf;

    ewh_catalogue_set_version(c, 5);
    CHECK_FAILS(ewh_catalogue_sign(c, rs, &buf, &len, &err), &err,
                EWH_E_INVALID, "only the hub");
    CHECK_OK(ewh_catalogue_sign(c, hub, &buf, &len, &err), &err);
    got = ewh_catalogue_open(buf, len, ewh_secret_pubid(hub)->sign, &err);
    CHECK(got != NULL);
    CHECK(ewh_catalogue_version(got) == 5);
    CHECK(ewh_catalogue_issued_at(got) > 0);
    CHECK(strcmp(ewh_catalogue_find(got, "cyber")->guide[EWH_LEVEL_LOW],
                 ewh_catalogue_find(c, "cyber")->guide[EWH_LEVEL_LOW]) == 0);
    ewh_catalogue_destroy(&got);
    /* Another hub's key. */
    CHECK(ewh_catalogue_open(buf, len, ewh_secret_pubid(hub2)->sign, &err) ==
          NULL);
    CHECK(err.code == EWH_E_SIGNATURE);
    /* Every flipped byte is refused; truncations too. */
    for (i = 0; i < len; i++) {
        buf[i] ^= 0x10;
        got = ewh_catalogue_open(buf, len, ewh_secret_pubid(hub)->sign, &err);
        CHECK(got == NULL);
        buf[i] ^= 0x10;
    }
    for (i = 0; i < len; i += 7)
        CHECK(ewh_catalogue_open(buf, i, ewh_secret_pubid(hub)->sign, &err) ==
              NULL);
    CHECK(ewh_catalogue_open(buf, EWH_MAX_CATALOGUE_BYTES + 1,
                             ewh_secret_pubid(hub)->sign, &err) == NULL);
    CHECK(err.code == EWH_E_TOOBIG);
    free(buf);
    ewh_catalogue_destroy(&c);
    ewh_secret_destroy(&hub);
    ewh_secret_destroy(&hub2);
    ewh_secret_destroy(&rs);
}

static void
test_json_roundtrip_and_errors(void)
{
    struct ewh_err err = {0};
    const char *cats[EWH_MAX_CATEGORIES + 1];
    size_t n = s_defaults(cats);
    ewh_catalogue_t *c = ewh_catalogue_builtin(cats, n, &err), *got;
    uint64_t based = 0;
    char *s = ewh_catalogue_to_json(c, &err), *p;
    char big[EWH_MAX_GUIDANCE_BYTES + 64];

    CHECK(s != NULL);
    got = ewh_catalogue_from_json(s, strlen(s), &based, &err);
    CHECK(got != NULL);
    CHECK(based == 1);
    CHECK(ewh_catalogue_count(got) == n);
    CHECK(ewh_catalogue_find(got, "disaster")->default_level ==
          ewh_catalogue_find(c, "disaster")->default_level);
    ewh_catalogue_destroy(&got);
    /* A bad level, an unknown field, a guidance text over its limit. */
    CHECK((p = strstr(s, "\"default_level\": \"medium\"")) != NULL);
    memcpy(p + 18, "urgent", 6);
    CHECK_FAILS(ewh_catalogue_from_json(s, strlen(s), &based, &err) == NULL ? -1
                                                                            : 0,
                &err, EWH_E_INVALID, "default_level");
    {
        static const char doc[] =
            "{\"catalogue\":\"ewh-catalogue-1\",\"areas\":[{\"area\":"
            "\"cyber\",\"colour\":1}]}";
        CHECK_FAILS(
            ewh_catalogue_from_json(doc, strlen(doc), &based, &err) == NULL ? -1
                                                                            : 0,
            &err, EWH_E_INVALID, "unknown field");
    }
    memset(big, 'a', sizeof(big));
    big[sizeof(big) - 1] = '\0';
    {
        char doc[sizeof(big) + 256];
        snprintf(doc, sizeof(doc),
                 "{\"catalogue\":\"ewh-catalogue-1\",\"areas\":[{\"area\":"
                 "\"cyber\",\"title\":\"C\",\"default_level\":\"low\","
                 "\"high\":\"%s\",\"medium\":\"m\",\"low\":\"l\"}]}",
                 big);
        CHECK_FAILS(
            ewh_catalogue_from_json(doc, strlen(doc), &based, &err) == NULL ? -1
                                                                            : 0,
            &err, EWH_E_TOOBIG, "longer than");
    }
    CHECK_FAILS(ewh_catalogue_from_json("[]", 2, &based, &err) == NULL ? -1 : 0,
                &err, EWH_E_INVALID, "not a catalogue");
    free(s);
    ewh_catalogue_destroy(&c);
}

int
main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(test_builtin_covers_the_plan);
    RUN(test_sign_open_refuse);
    RUN(test_json_roundtrip_and_errors);
    return 0;
}
