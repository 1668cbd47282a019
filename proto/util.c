/* util.c — hex, country codes, enum names, time and durations. */
#include "ewh/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libxml/xmlstring.h>
#include <sodium.h>

char *
ewh_hex(const uint8_t *bin, size_t len, char *out, size_t out_cap)
{
    EWH_ASSERT(out_cap >= len * 2 + 1);
    return sodium_bin2hex(out, out_cap, bin, len);
}

int
ewh_unhex(const char *hex, uint8_t *out, size_t want, struct ewh_err *err)
{
    size_t got = 0;
    const char *end = NULL;
    size_t hlen = strlen(hex);

    if (hlen != want * 2)
        return ewh_err_set(err, EWH_E_INVALID,
                           "expected %zu hex characters, got %zu", want * 2,
                           hlen);
    if (sodium_hex2bin(out, want, hex, hlen, NULL, &got, &end) != 0 ||
        got != want || *end != '\0')
        return ewh_err_set(err, EWH_E_INVALID, "not hexadecimal");
    return 0;
}

int
ewh_id_parse(const char *hex, uint8_t id[EWH_ID_BYTES], struct ewh_err *err)
{
    if (ewh_unhex(hex, id, EWH_ID_BYTES, NULL) != 0)
        return ewh_err_set(err, EWH_E_INVALID,
                           "a report id is 32 hexadecimal characters");
    return 0;
}

/* Officially assigned ISO 3166-1 alpha-2 codes (249), sorted. */
static const char s_iso3166[] =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI "
    "BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN "
    "CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK "
    "FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM "
    "HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN "
    "KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK "
    "ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP "
    "NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW "
    "SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF "
    "TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI "
    "VN VU WF WS YE YT ZA ZM ZW";

bool
ewh_country_is_valid(const char *cc)
{
    /* The codes are sorted, three characters apart: a binary search (a
     * report's header has a dozen of them, parsed on the hub's hot path). */
    size_t lo = 0, hi = sizeof(s_iso3166) / 3;

    if (cc == NULL || strlen(cc) != 2 || !isupper((unsigned char)cc[0]) ||
        !isupper((unsigned char)cc[1]))
        return false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int d = memcmp(&s_iso3166[mid * 3], cc, 2);
        if (d == 0)
            return true;
        if (d < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static const char *const s_levels[] = {"none", "low", "medium", "high"};
static const char *const s_types[] = {"none",   "alert",  "update",
                                      "cancel", "return", "lessons"};
static const char *const s_dists[] = {"region", "connected", "all"};
static const char *const s_tlps[] = {"none", "clear", "green", "amber", "red"};

static int
s_parse(const char *s, const char *const *names, int n)
{
    int i;

    if (s == NULL)
        return 0;
    for (i = 1; i < n; i++)
        if (strcasecmp(s, names[i]) == 0)
            return i;
    return 0;
}

const char *
ewh_level_name(enum ewh_level l)
{
    return (unsigned)l <= EWH_LEVEL_HIGH ? s_levels[l] : "invalid";
}

enum ewh_level
ewh_level_parse(const char *s)
{
    return (enum ewh_level)s_parse(s, s_levels, 4);
}

const char *
ewh_type_name(enum ewh_type t)
{
    return (unsigned)t <= EWH_TYPE_LESSONS ? s_types[t] : "invalid";
}

enum ewh_type
ewh_type_parse(const char *s)
{
    return (enum ewh_type)s_parse(s, s_types, 6);
}

const char *
ewh_distribution_name(enum ewh_distribution d)
{
    return (unsigned)d <= EWH_DIST_ALL ? s_dists[d] : "invalid";
}

int
ewh_distribution_parse(const char *s, enum ewh_distribution *out)
{
    int i;

    for (i = 0; s != NULL && i <= (int)EWH_DIST_ALL; i++)
        if (strcasecmp(s, s_dists[i]) == 0) {
            *out = (enum ewh_distribution)i;
            return 0;
        }
    return -1;
}

bool
ewh_region_is_valid(const char *s)
{
    size_t i, n;

    if (s == NULL)
        return false;
    n = strnlen(s, EWH_MAX_REGION_BYTES + 1);
    if (n == 0 || n > EWH_MAX_REGION_BYTES)
        return false;
    for (i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
              s[i] == '-'))
            return false;
    return true;
}

const char *
ewh_tlp_name(enum ewh_tlp t)
{
    return (unsigned)t <= EWH_TLP_RED ? s_tlps[t] : "invalid";
}

enum ewh_tlp
ewh_tlp_parse(const char *s)
{
    /* TLP 2.0 renamed WHITE to CLEAR; accept the old name. */
    if (s != NULL && strcasecmp(s, "white") == 0)
        return EWH_TLP_CLEAR;
    return (enum ewh_tlp)s_parse(s, s_tlps, 5);
}

int64_t
ewh_now(void)
{
    return (int64_t)time(NULL);
}

int64_t
ewh_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
ewh_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
ewh_id_new(uint8_t id[EWH_ID_BYTES])
{
    uint64_t ms = (uint64_t)ewh_now_ms();
    int i;

    randombytes_buf(id, EWH_ID_BYTES);
    for (i = 0; i < 6; i++)
        id[i] = (uint8_t)(ms >> (40 - 8 * i));
    id[6] = (uint8_t)(0x70 | (id[6] & 0x0f)); /* version 7 */
    id[8] = (uint8_t)(0x80 | (id[8] & 0x3f)); /* variant 10 */
}

int
ewh_duration_parse(const char *s, int64_t max_s, int64_t *out,
                   struct ewh_err *err)
{
    char *end = NULL;
    long long v;
    int64_t mult = 1;

    if (s == NULL || !isdigit((unsigned char)s[0]))
        return ewh_err_set(err, EWH_E_INVALID,
                           "duration must be a number with s, m, h or d "
                           "(for example 90m or 2d)");
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || v <= 0)
        return ewh_err_set(err, EWH_E_INVALID,
                           "duration must be a positive number");
    if (*end != '\0') {
        switch (*end) {
        case 's':
            mult = 1;
            break;
        case 'm':
            mult = 60;
            break;
        case 'h':
            mult = 3600;
            break;
        case 'd':
            mult = 86400;
            break;
        default:
            return ewh_err_set(err, EWH_E_INVALID,
                               "unknown duration unit '%c' (use s, m, h, d)",
                               *end);
        }
        if (end[1] != '\0')
            return ewh_err_set(err, EWH_E_INVALID,
                               "trailing characters after duration");
    }
    if (v > max_s / mult)
        return ewh_err_set(err, EWH_E_TOOBIG,
                           "duration exceeds the limit of %lld seconds",
                           (long long)max_s);
    *out = (int64_t)v * mult;
    return 0;
}

char *
ewh_time_format(int64_t t, char *out, size_t out_cap)
{
    struct tm tm;
    time_t tt = (time_t)t;

    EWH_ASSERT(out_cap >= 26);
    if (gmtime_r(&tt, &tm) == NULL ||
        strftime(out, out_cap, "%Y-%m-%dT%H:%M:%S+00:00", &tm) == 0)
        snprintf(out, out_cap, "invalid-time");
    return out;
}

bool
ewh_text_is_valid(const char *s, size_t len, bool allow_newline)
{
    size_t i;

    /* UTF-8 well-formedness is libxml2's check; controls are ours. */
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\0' || c == 0x7f)
            return false;
        if (c < 0x20 && c != '\t' &&
            !(allow_newline && (c == '\n' || c == '\r')))
            return false;
    }
    if (len == 0)
        return true;
    /* xmlCheckUTF8 needs a NUL-terminated string; s may not be. */
    {
        char *tmp = malloc(len + 1);
        int ok;
        if (tmp == NULL)
            return false;
        memcpy(tmp, s, len);
        tmp[len] = '\0';
        ok = xmlCheckUTF8((const xmlChar *)tmp);
        sodium_memzero(tmp, len);
        free(tmp);
        return ok != 0;
    }
}
