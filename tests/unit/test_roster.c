/* test_roster.c — signed rosters: sign, open, refuse. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "ewh/roster.h"

static void
test_sign_open_roundtrip(void)
{
    struct ewh_err err = {0};
    ewh_secret_t *hub = ewh_secret_generate(EWH_KIND_HUB, NULL, &err);
    ewh_secret_t *rs = ewh_secret_generate(EWH_KIND_NODE, "RS", &err);
    ewh_secret_t *hr = ewh_secret_generate(EWH_KIND_NODE, "HR", &err);
    ewh_roster_t *r = ewh_roster_new(7), *got;
    const char *cats[] = {"terrorism", "cyber", "other"};
    bool revoked = false;
    uint8_t *buf;
    size_t len;

    CHECK_OK(ewh_roster_put(r, ewh_secret_pubid(rs), false, &err), &err);
    CHECK_OK(ewh_roster_put(r, ewh_secret_pubid(hr), true, &err), &err);
    CHECK_OK(ewh_roster_set_categories(r, cats, 3, &err), &err);
    CHECK_OK(ewh_roster_sign(r, hub, &buf, &len, &err), &err);
    got = ewh_roster_open(buf, len, ewh_secret_pubid(hub)->sign, &err);
    CHECK(got != NULL);
    CHECK(ewh_roster_version(got) == 7);
    CHECK(ewh_roster_count(got) == 2);
    /* Sorted by country. */
    CHECK(strcmp(ewh_roster_at(got, 0, NULL)->country, "HR") == 0);
    CHECK(ewh_pubid_equal(ewh_roster_find(got, "RS", &revoked),
                          ewh_secret_pubid(rs)));
    CHECK(!revoked);
    CHECK(ewh_roster_find(got, "HR", &revoked) != NULL && revoked);
    CHECK(ewh_roster_lookup(got, "HR") == NULL); /* revoked */
    CHECK(ewh_roster_lookup(got, "RS") != NULL);
    CHECK(ewh_roster_lookup(got, "BG") == NULL);
    CHECK(ewh_roster_has_category(got, "cyber"));
    CHECK(!ewh_roster_has_category(got, "disaster"));
    CHECK(ewh_roster_has_category(NULL, "disaster")); /* defaults */

    /* Re-keying replaces in place. */
    {
        ewh_secret_t *rs2 = ewh_secret_generate(EWH_KIND_NODE, "RS", &err);
        CHECK_OK(ewh_roster_put(got, ewh_secret_pubid(rs2), false, &err), &err);
        CHECK(ewh_roster_count(got) == 2);
        CHECK(ewh_pubid_equal(ewh_roster_find(got, "RS", NULL),
                              ewh_secret_pubid(rs2)));
        ewh_secret_destroy(&rs2);
    }
    ewh_roster_destroy(&got);

    /* Every flipped byte is refused. */
    for (size_t i = 0; i < len; i++) {
        buf[i] ^= 0x04;
        got = ewh_roster_open(buf, len, ewh_secret_pubid(hub)->sign, &err);
        CHECK(got == NULL);
        buf[i] ^= 0x04;
    }
    free(buf);
    ewh_roster_destroy(&r);
    ewh_secret_destroy(&hub);
    ewh_secret_destroy(&rs);
    ewh_secret_destroy(&hr);
}

static void
test_substituted_key_refused(void)
{
    struct ewh_err err = {0};
    ewh_secret_t *hub = ewh_secret_generate(EWH_KIND_HUB, NULL, &err);
    ewh_secret_t *evil = ewh_secret_generate(EWH_KIND_HUB, NULL, &err);
    ewh_secret_t *rs = ewh_secret_generate(EWH_KIND_NODE, "RS", &err);
    ewh_roster_t *r = ewh_roster_new(9);
    uint8_t *buf;
    size_t len;

    CHECK_OK(ewh_roster_put(r, ewh_secret_pubid(rs), false, &err), &err);
    /* Signed by another hub key: refused by nodes pinning the real one. */
    CHECK_OK(ewh_roster_sign(r, evil, &buf, &len, &err), &err);
    CHECK(ewh_roster_open(buf, len, ewh_secret_pubid(hub)->sign, &err) == NULL);
    CHECK(err.code == EWH_E_SIGNATURE);
    free(buf);
    /* Nodes cannot sign rosters. */
    CHECK_FAILS(ewh_roster_sign(r, rs, &buf, &len, &err), &err, EWH_E_INVALID,
                "only the hub");
    ewh_roster_destroy(&r);
    ewh_secret_destroy(&hub);
    ewh_secret_destroy(&evil);
    ewh_secret_destroy(&rs);
}

static void
test_limits(void)
{
    struct ewh_err err = {0};
    ewh_roster_t *r = ewh_roster_new(1);
    struct ewh_pubid id = {.kind = EWH_KIND_NODE};
    const char *bad[] = {"Upper"};
    char cc[3] = {0};
    size_t n = 0, i;
    const char **many = calloc(EWH_MAX_CATEGORIES + 1, sizeof(char *));

    for (i = 0; n < EWH_MAX_ROSTER_ENTRIES + 1 && i < 26 * 26; i++) {
        cc[0] = (char)('A' + i / 26);
        cc[1] = (char)('A' + i % 26);
        if (!ewh_country_is_valid(cc))
            continue;
        memcpy(id.country, cc, 3);
        if (n < EWH_MAX_ROSTER_ENTRIES)
            CHECK_OK(ewh_roster_put(r, &id, false, &err), &err);
        else
            CHECK_FAILS(ewh_roster_put(r, &id, false, &err), &err, EWH_E_TOOBIG,
                        "EWH_MAX_ROSTER_ENTRIES");
        n++;
    }
    CHECK(ewh_roster_count(r) == EWH_MAX_ROSTER_ENTRIES);
    for (i = 0; i <= EWH_MAX_CATEGORIES; i++)
        many[i] = "other";
    CHECK_OK(ewh_roster_set_categories(r, many, EWH_MAX_CATEGORIES, &err),
             &err);
    CHECK_FAILS(
        ewh_roster_set_categories(r, many, EWH_MAX_CATEGORIES + 1, &err), &err,
        EWH_E_TOOBIG, "EWH_MAX_CATEGORIES");
    CHECK_FAILS(ewh_roster_set_categories(r, bad, 1, &err), &err, EWH_E_INVALID,
                "bad category");
    CHECK(ewh_roster_open((const uint8_t *)"x", EWH_MAX_ROSTER_BYTES + 1,
                          id.sign, &err) == NULL);
    CHECK(err.code == EWH_E_TOOBIG);
    free(many);
    ewh_roster_destroy(&r);
}

int
main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(test_sign_open_roundtrip);
    RUN(test_substituted_key_refused);
    RUN(test_limits);
    return 0;
}
