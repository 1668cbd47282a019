/* test_secforces.c — the annual return's validator at each limit and one
 * past it, its error paths and rules, budget figures, and a return sealed
 * as a report (TYPE_RETURN and its year in the clear header). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "check.h"
#include "ewh/envelope.h"
#include "ewh/roster.h"
#include "ewh/secforces.h"

static json_t *
s_base(void)
{
    return json_pack(
        "{s:s, s:s, s:i, s:s, s:[{s:s, s:s, s:[{s:s, s:s, s:s, s:i, s:i}], "
        "s:{s:{s:i}, s:{s:i}}, s:{s:s, s:i, s:{s:{s:s, s:I}}}}]}",
        "schema", EWH_SF_SCHEMA, "country", "RS", "year", 2026, "date",
        "2026-11-27", "agencies", "name", "Armed Forces", "type",
        "armed-forces", "units", "designation", "1st Brigade", "subordination",
        "Land Forces", "location", "Novi Sad", "authorised", 3900, "actual",
        3620, "holdings", "un_register", "I", 212, "salw", "assault_rifles",
        96400, "budget", "currency", "RSD", "minor_unit", 2, "matrix",
        "personnel", "land", "58410000000.00", "air",
        (json_int_t)1425000000000);
}

/* Validate j; return the number of errors, and the first's path and rule
 * through out pointers (may be NULL). */
static size_t
s_check(json_t *j, const char **path, const char **rule)
{
    static struct ewh_sf_result res;
    struct ewh_err err = {0};
    char *s = json_dumps(j, JSON_COMPACT);
    int rc = ewh_sf_validate(s, strlen(s), &res, &err);

    free(s);
    CHECK((rc == 0) == (res.n_total == 0));
    if (res.n > 0) {
        if (path != NULL)
            *path = res.e[0].path;
        if (rule != NULL)
            *rule = res.e[0].rule;
    }
    return res.n_total;
}

#define CHECK_BREAKS(j, want_path, want_rule)                                  \
    do {                                                                       \
        const char *p_ = "", *r_ = "";                                         \
        CHECK(s_check((j), &p_, &r_) >= 1);                                    \
        if (strcmp(p_, (want_path)) != 0 || strcmp(r_, (want_rule)) != 0) {    \
            fprintf(stderr, "got %s (%s), want %s (%s)\n", p_, r_,             \
                    (want_path), (want_rule));                                 \
            CHECK(0);                                                          \
        }                                                                      \
    } while (0)

static json_t *
s_agency0(json_t *j)
{
    return json_array_get(json_object_get(j, "agencies"), 0);
}

static json_t *
s_unit0(json_t *j)
{
    return json_array_get(json_object_get(s_agency0(j), "units"), 0);
}

static void
test_valid_and_rules(void)
{
    json_t *j = s_base();

    CHECK(s_check(j, NULL, NULL) == 0);
    json_object_del(s_agency0(j), "type");
    CHECK_BREAKS(j, "$.agencies[0]", "required");
    json_object_set_new(s_agency0(j), "type", json_string("militia"));
    CHECK_BREAKS(j, "$.agencies[0].type", "enum");
    json_object_set_new(s_agency0(j), "type", json_string("gendarmerie"));
    json_object_set_new(s_unit0(j), "actual", json_integer(-1));
    CHECK_BREAKS(j, "$.agencies[0].units[0].actual", "minimum");
    json_object_set_new(s_unit0(j), "actual", json_real(3.5));
    CHECK_BREAKS(j, "$.agencies[0].units[0].actual", "type");
    /* JSON Schema's integer: a zero fraction is one. */
    json_object_set_new(s_unit0(j), "actual", json_real(3.0));
    CHECK(s_check(j, NULL, NULL) == 0);
    json_object_set_new(
        json_object_get(json_object_get(s_agency0(j), "holdings"),
                        "un_register"),
        "VIII", json_integer(1));
    CHECK_BREAKS(j, "$.agencies[0].holdings.un_register.VIII",
                 "additionalProperties");
    json_decref(j);

    j = s_base();
    json_object_set_new(
        json_object_get(
            json_object_get(json_object_get(s_agency0(j), "budget"), "matrix"),
            "personnel"),
        "land", json_real(1.25));
    CHECK_BREAKS(j, "$.agencies[0].budget.matrix.personnel.land", "anyOf");
    json_decref(j);

    j = s_base();
    json_object_set_new(j, "date", json_string("2026-02-30"));
    CHECK(s_check(j, NULL, NULL) == 0); /* the pattern's reach, no more */
    json_object_set_new(j, "date", json_string("2026-00-10"));
    CHECK_BREAKS(j, "$.date", "pattern");
    json_object_set_new(j, "date", json_string("2026-1-10"));
    CHECK_BREAKS(j, "$.date", "minLength");
    json_object_set_new(j, "date", json_string("2026-11-27"));
    json_object_set_new(j, "country", json_string("rs"));
    CHECK_BREAKS(j, "$.country", "pattern");
    json_object_set_new(j, "country", json_string("RS"));
    json_object_set_new(j, "schema", json_string("other"));
    CHECK_BREAKS(j, "$.schema", "const");
    json_decref(j);

    j = json_array();
    CHECK(s_check(j, NULL, NULL) == 1);
    json_decref(j);
}

static void
test_limits(void)
{
    json_t *j = s_base(), *units, *ags, *row;
    char text[4 * EWH_MAX_RETURN_TEXT + 8];
    size_t i;

    /* Years. */
    json_object_set_new(j, "year", json_integer(EWH_MIN_RETURN_YEAR));
    CHECK(s_check(j, NULL, NULL) == 0);
    json_object_set_new(j, "year", json_integer(EWH_MIN_RETURN_YEAR - 1));
    CHECK_BREAKS(j, "$.year", "minimum");
    json_object_set_new(j, "year", json_integer(EWH_MAX_RETURN_YEAR));
    CHECK(s_check(j, NULL, NULL) == 0);
    json_object_set_new(j, "year", json_integer(EWH_MAX_RETURN_YEAR + 1));
    CHECK_BREAKS(j, "$.year", "maximum");
    json_object_set_new(j, "year", json_integer(2026));

    /* Text: code points, not bytes ("č" is two bytes). */
    text[0] = '\0';
    for (i = 0; i < EWH_MAX_RETURN_TEXT; i++)
        strcat(text, "\xc4\x8d");
    json_object_set_new(s_unit0(j), "location", json_string(text));
    CHECK(s_check(j, NULL, NULL) == 0);
    strcat(text, "x");
    json_object_set_new(s_unit0(j), "location", json_string(text));
    CHECK_BREAKS(j, "$.agencies[0].units[0].location", "maxLength");
    json_object_set_new(s_unit0(j), "location", json_string(""));
    CHECK_BREAKS(j, "$.agencies[0].units[0].location", "minLength");
    json_object_set_new(s_unit0(j), "location", json_string("Niš"));

    /* Counts. */
    json_object_set_new(s_unit0(j), "authorised",
                        json_integer(EWH_MAX_RETURN_COUNT));
    CHECK(s_check(j, NULL, NULL) == 0);
    json_object_set_new(s_unit0(j), "authorised",
                        json_integer(EWH_MAX_RETURN_COUNT + 1LL));
    CHECK_BREAKS(j, "$.agencies[0].units[0].authorised", "maximum");
    json_object_set_new(s_unit0(j), "authorised", json_integer(1));

    /* Money: integer and decimal string at the limit and past it. */
    row = json_object_get(
        json_object_get(json_object_get(s_agency0(j), "budget"), "matrix"),
        "personnel");
    json_object_set_new(row, "air", json_integer(EWH_MAX_RETURN_MINOR));
    CHECK(s_check(j, NULL, NULL) == 0);
    json_object_set_new(row, "air", json_integer(EWH_MAX_RETURN_MINOR + 1));
    CHECK_BREAKS(j, "$.agencies[0].budget.matrix.personnel.air", "anyOf");
    json_object_set_new(row, "air", json_string("99999999999999.9999"));
    CHECK(s_check(j, NULL, NULL) == 0);
    json_object_set_new(row, "air", json_string("999999999999999"));
    CHECK_BREAKS(j, "$.agencies[0].budget.matrix.personnel.air", "anyOf");
    json_object_set_new(row, "air", json_string("1.12345"));
    CHECK_BREAKS(j, "$.agencies[0].budget.matrix.personnel.air", "anyOf");
    json_object_set_new(row, "air", json_string("01.5"));
    CHECK_BREAKS(j, "$.agencies[0].budget.matrix.personnel.air", "anyOf");
    json_object_set_new(row, "air", json_string("0.5"));
    CHECK(s_check(j, NULL, NULL) == 0);

    /* Units and agencies. */
    units = json_object_get(s_agency0(j), "units");
    while (json_array_size(units) < EWH_MAX_RETURN_UNITS)
        json_array_append_new(units, json_deep_copy(s_unit0(j)));
    CHECK(s_check(j, NULL, NULL) == 0);
    json_array_append_new(units, json_deep_copy(s_unit0(j)));
    CHECK_BREAKS(j, "$.agencies[0].units", "maxItems");
    json_decref(j);

    j = s_base();
    ags = json_object_get(j, "agencies");
    while (json_array_size(ags) < EWH_MAX_RETURN_AGENCIES)
        json_array_append_new(ags, json_deep_copy(s_agency0(j)));
    CHECK(s_check(j, NULL, NULL) == 0);
    json_array_append_new(ags, json_deep_copy(s_agency0(j)));
    CHECK_BREAKS(j, "$.agencies", "maxItems");
    json_decref(j);

    /* File size: EWH_MAX_RETURN_BYTES, padded with spaces (valid JSON). */
    {
        static struct ewh_sf_result res;
        struct ewh_err err = {0};
        char *s = json_dumps((j = s_base()), JSON_COMPACT);
        size_t n = strlen(s);
        char *big = malloc(EWH_MAX_RETURN_BYTES + 2);
        memcpy(big, s, n);
        memset(big + n, ' ', EWH_MAX_RETURN_BYTES + 1 - n);
        CHECK_OK(ewh_sf_validate(big, EWH_MAX_RETURN_BYTES, &res, &err), &err);
        CHECK(ewh_sf_validate(big, EWH_MAX_RETURN_BYTES + 1, &res, &err) != 0);
        CHECK(err.code == EWH_E_TOOBIG);
        CHECK(strcmp(res.e[0].rule, "maxBytes") == 0);
        /* Truncated: not JSON. */
        CHECK(ewh_sf_validate(s, n / 2, &res, &err) != 0);
        CHECK(strcmp(res.e[0].rule, "json") == 0);
        free(big);
        free(s);
        json_decref(j);
    }
}

static void
test_money(void)
{
    json_t *v;

    CHECK(ewh_sf_money((v = json_integer(123456)), 2) == 12345600);
    json_decref(v);
    CHECK(ewh_sf_money((v = json_string("1234.56")), 2) == 12345600);
    json_decref(v);
    CHECK(ewh_sf_money((v = json_string("7")), 0) == 70000);
    json_decref(v);
    CHECK(ewh_sf_money((v = json_integer(7)), 0) == 70000);
    json_decref(v);
    CHECK(ewh_sf_money((v = json_string("0.0001")), 4) == 1);
    json_decref(v);
    CHECK(ewh_sf_money((v = json_integer(EWH_MAX_RETURN_MINOR)), 0) ==
          EWH_MAX_RETURN_MINOR * 10000);
    json_decref(v);
}

static const struct ewh_pubid *
s_lookup(void *ctx, const char *cc)
{
    ewh_secret_t **k = ctx;

    for (; *k != NULL; k++)
        if (strcmp(ewh_secret_pubid(*k)->country, cc) == 0)
            return ewh_secret_pubid(*k);
    return NULL;
}

static void
test_sealed_return(void)
{
    struct ewh_err err = {0};
    ewh_secret_t *keys[3] = {ewh_secret_generate(EWH_KIND_NODE, "RS", &err),
                             ewh_secret_generate(EWH_KIND_NODE, "HR", &err),
                             NULL};
    const struct ewh_pubid *to[1] = {ewh_secret_pubid(keys[1])};
    struct ewh_report r, got;
    struct ewh_header hdr;
    json_t *j = s_base();
    char *body = json_dumps(j, JSON_COMPACT);
    uint8_t *env = NULL;
    size_t len;

    memset(&r, 0, sizeof(r));
    memset(&got, 0, sizeof(got));
    ewh_id_new(r.id);
    r.type = EWH_TYPE_RETURN;
    memcpy(r.origin, "RS", 3);
    r.created_at = ewh_now();
    r.level = EWH_LEVEL_LOW;
    r.tlp = EWH_TLP_AMBER;
    snprintf(r.category, sizeof(r.category), "%s", EWH_SF_CATEGORY);
    snprintf(r.title, sizeof(r.title), "Security forces return RS 2026");
    CHECK_OK(ewh_report_set_body(&r, body, strlen(body), &err), &err);
    /* A return names its year; an alert does not. */
    CHECK_FAILS(ewh_envelope_seal(&r, to, 1, keys[0], NULL, &env, &len, &err),
                &err, EWH_E_INVALID, "names a year");
    r.return_year = 2026;
    CHECK_OK(ewh_envelope_seal(&r, to, 1, keys[0], NULL, &env, &len, &err),
             &err);
    CHECK_OK(ewh_envelope_verify(env, len, "RS", s_lookup, keys, &hdr, &err),
             &err);
    CHECK(hdr.type == EWH_TYPE_RETURN && hdr.return_year == 2026);
    CHECK(hdr.n_refs == 0); /* the first return for the year */
    CHECK_OK(
        ewh_envelope_open(env, len, keys[1], s_lookup, keys, &got, NULL, &err),
        &err);
    CHECK(got.return_year == 2026 && got.type == EWH_TYPE_RETURN);
    CHECK(got.body_len == strlen(body) &&
          memcmp(got.body, body, got.body_len) == 0);
    free(env);
    r.type = EWH_TYPE_ALERT;
    CHECK_FAILS(ewh_envelope_seal(&r, to, 1, keys[0], NULL, &env, &len, &err),
                &err, EWH_E_INVALID, "names a year");
    /* The level's reason travels sealed. */
    r.return_year = 0;
    snprintf(r.level_reason, sizeof(r.level_reason), "old material");
    CHECK_OK(ewh_envelope_seal(&r, to, 1, keys[0], NULL, &env, &len, &err),
             &err);
    ewh_report_clear(&got);
    CHECK_OK(
        ewh_envelope_open(env, len, keys[1], s_lookup, keys, &got, NULL, &err),
        &err);
    CHECK(strcmp(got.level_reason, "old material") == 0);
    CHECK(memmem(env, len, "old material", 12) == NULL);
    free(env);
    ewh_report_clear(&got);
    ewh_report_clear(&r);
    free(body);
    json_decref(j);
    ewh_secret_destroy(&keys[0]);
    ewh_secret_destroy(&keys[1]);
}

/* ewh_sf_year: the year a receiving node compares with the header's. */
static void
test_year(void)
{
    static const struct {
        const char *json;
        unsigned want; /* 0: refused */
    } cases[] = {
        {"{\"year\": 2026}", 2026},
        {"{\"year\": 2026.0, \"country\": \"RS\"}", 2026},
        {"{\"year\": 1990}", EWH_MIN_RETURN_YEAR},
        {"{\"year\": 2100}", EWH_MAX_RETURN_YEAR},
        {"{\"year\": 1989}", 0},
        {"{\"year\": 2101}", 0},
        {"{\"year\": 2026.5}", 0},
        {"{\"year\": \"2026\"}", 0},
        {"{\"country\": \"RS\"}", 0},
        {"[2026]", 0},
        {"{\"year\": 2026", 0},
        {"", 0},
    };
    struct ewh_err err = {0};
    size_t i;
    unsigned y;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        y = 7;
        if (cases[i].want != 0) {
            CHECK_OK(
                ewh_sf_year(cases[i].json, strlen(cases[i].json), &y, &err),
                &err);
            CHECK(y == cases[i].want);
        } else {
            CHECK_FAILS(
                ewh_sf_year(cases[i].json, strlen(cases[i].json), &y, &err),
                &err, EWH_E_INVALID, "");
            CHECK(y == 7); /* untouched */
        }
    }
    /* The file limit: padded with spaces to the byte at max, and one past */
    {
        char *big = malloc(EWH_MAX_RETURN_BYTES + 2);
        CHECK(big != NULL);
        memset(big, ' ', EWH_MAX_RETURN_BYTES + 1);
        memcpy(big, "{\"year\": 2026}", 14);
        CHECK_OK(ewh_sf_year(big, EWH_MAX_RETURN_BYTES, &y, &err), &err);
        CHECK(y == 2026);
        CHECK_FAILS(ewh_sf_year(big, EWH_MAX_RETURN_BYTES + 1, &y, &err), &err,
                    EWH_E_TOOBIG, "EWH_MAX_RETURN_BYTES");
        free(big);
    }
}

int
main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(test_valid_and_rules);
    RUN(test_limits);
    RUN(test_money);
    RUN(test_sealed_return);
    RUN(test_year);
    return 0;
}
