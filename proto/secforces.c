/* secforces.c — the validator of schemas/security-forces-return-1.json.
 *
 * One function per $defs entry of the schema, in the same order; each
 * checks what the schema states and nothing else, so that the verdicts
 * agree with any JSON Schema validator (tests/exchange/test_schema.py). */
#include "ewh/secforces.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

const char *const ewh_sf_agency_types[] = {
    "armed-forces", "police-military-status",
    "gendarmerie",  "border-guard",
    "other",        NULL};
const char *const ewh_sf_unreg[] = {"I", "II", "III", "IV",
                                    "V", "VI", "VII", NULL};
const char *const ewh_sf_unreg_help[] = {"battle tanks",
                                         "armoured combat vehicles",
                                         "large-calibre artillery systems",
                                         "combat aircraft",
                                         "attack helicopters",
                                         "warships",
                                         "missiles and missile launchers",
                                         NULL};
const char *const ewh_sf_salw[] = {"revolvers_pistols",
                                   "rifles_carbines",
                                   "sub_machine_guns",
                                   "assault_rifles",
                                   "light_machine_guns",
                                   "small_arms_other",
                                   "heavy_machine_guns",
                                   "grenade_launchers",
                                   "portable_anti_tank_guns",
                                   "recoilless_rifles",
                                   "portable_anti_tank_missiles",
                                   "mortars_under_75mm",
                                   "light_weapons_other",
                                   NULL};
const char *const ewh_sf_rows[] = {"personnel", "operations_maintenance",
                                   "procurement_construction",
                                   "research_development", NULL};
const char *const ewh_sf_cols[] = {"strategic",
                                   "land",
                                   "naval",
                                   "air",
                                   "other_military",
                                   "central_support",
                                   "peacekeeping",
                                   "military_assistance",
                                   "emergency_aid",
                                   "undistributed",
                                   NULL};

#define S_MAX_MONEY_INT ((long long)EWH_MAX_RETURN_MINOR)

struct s_v {
    struct ewh_sf_result *res;
    char path[EWH_SF_PATH_BYTES];
};

static void s_fail(struct s_v *v, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
s_fail(struct s_v *v, const char *rule, const char *fmt, ...)
{
    struct ewh_sf_error *e;
    va_list ap;

    v->res->n_total++;
    if (v->res->n == EWH_SF_MAX_ERRORS)
        return;
    e = &v->res->e[v->res->n++];
    snprintf(e->path, sizeof(e->path), "%s", v->path);
    snprintf(e->rule, sizeof(e->rule), "%s", rule);
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
}

/* Push ".key" or "[i]" on the path; returns the old length to pop to. */
static size_t
s_push_key(struct s_v *v, const char *key)
{
    size_t n = strlen(v->path);

    snprintf(v->path + n, sizeof(v->path) - n, ".%s", key);
    return n;
}

static size_t
s_push_idx(struct s_v *v, size_t i)
{
    size_t n = strlen(v->path);

    snprintf(v->path + n, sizeof(v->path) - n, "[%zu]", i);
    return n;
}

static void
s_pop(struct s_v *v, size_t n)
{
    v->path[n] = '\0';
}

static const char *
s_kind(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number with a fraction";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

/* JSON Schema's "integer": any number with a zero fractional part (so
 * 5.0 is one, 5.5 is not). */
static bool
s_integer(const json_t *j, double *out)
{
    double d;

    if (json_is_integer(j)) {
        *out = (double)json_integer_value(j);
        return true;
    }
    if (!json_is_real(j))
        return false;
    d = json_real_value(j);
    if (!isfinite(d) || floor(d) != d)
        return false;
    *out = d;
    return true;
}

static bool
s_in(const char *s, const char *const *list)
{
    size_t i;

    for (i = 0; list[i] != NULL; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

/* Code points of a UTF-8 string (jansson keeps strings valid UTF-8). */
static size_t
s_codepoints(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

/* Object with additionalProperties false and the required keys given. */
static bool
s_object(struct s_v *v, const json_t *j, const char *const *known,
         const char *const *required)
{
    const char *key;
    json_t *val;
    size_t i, n;

    if (!json_is_object(j)) {
        s_fail(v, "type", "must be an object, not %s", s_kind(j));
        return false;
    }
    for (i = 0; required != NULL && required[i] != NULL; i++)
        if (json_object_get(j, required[i]) == NULL)
            s_fail(v, "required", "required property \"%s\" is missing",
                   required[i]);
    json_object_foreach((json_t *)j, key, val)
    {
        if (s_in(key, known))
            continue;
        n = s_push_key(v, key);
        s_fail(v, "additionalProperties", "unknown property \"%.60s\"", key);
        s_pop(v, n);
    }
    return true;
}

static void
s_text(struct s_v *v, const json_t *j, size_t max)
{
    size_t n;

    if (!json_is_string(j)) {
        s_fail(v, "type", "must be a string, not %s", s_kind(j));
        return;
    }
    n = s_codepoints(json_string_value(j));
    if (n < 1)
        s_fail(v, "minLength", "must not be empty");
    if (n > max)
        s_fail(v, "maxLength", "%zu characters > %zu", n, max);
}

static void
s_count(struct s_v *v, const json_t *j)
{
    double d;

    if (!s_integer(j, &d)) {
        s_fail(v, "type", "must be an integer, not %s", s_kind(j));
        return;
    }
    if (d < 0)
        s_fail(v, "minimum", "%.0f is negative: counts are >= 0", d);
    if (d > EWH_MAX_RETURN_COUNT)
        s_fail(v, "maximum", "%.0f > %u", d, EWH_MAX_RETURN_COUNT);
}

/* ^(0|[1-9][0-9]{0,13})(\.[0-9]{1,4})?$ */
static bool
s_decimal(const char *s)
{
    size_t i = 0, n;

    if (s[0] == '0')
        i = 1;
    else if (s[0] >= '1' && s[0] <= '9') {
        for (n = 1; s[n] >= '0' && s[n] <= '9'; n++)
            ;
        if (n > 14)
            return false;
        i = n;
    } else
        return false;
    if (s[i] == '\0')
        return true;
    if (s[i] != '.')
        return false;
    for (n = 0, i++; s[i] >= '0' && s[i] <= '9'; i++, n++)
        ;
    return n >= 1 && n <= 4 && s[i] == '\0';
}

static void
s_money(struct s_v *v, const json_t *j)
{
    double d;

    if (s_integer(j, &d)) {
        if (d < 0 || d > (double)S_MAX_MONEY_INT)
            s_fail(v, "anyOf",
                   "%.0f is outside 0..%lld (an integer of minor units)", d,
                   S_MAX_MONEY_INT);
        return;
    }
    if (json_is_string(j)) {
        if (strlen(json_string_value(j)) > 20 ||
            !s_decimal(json_string_value(j)))
            s_fail(v, "anyOf",
                   "\"%.24s\" is not a decimal string like \"1234.56\"",
                   json_string_value(j));
        return;
    }
    if (json_is_real(j))
        s_fail(v, "anyOf",
               "%.15g is a float: give an integer of the currency's minor unit "
               "or a decimal string",
               json_real_value(j));
    else
        s_fail(v, "anyOf",
               "must be an integer of minor units or a decimal string, not "
               "%s",
               s_kind(j));
}

/* A string of exactly n upper-case letters. */
static void
s_letters(struct s_v *v, const json_t *j, size_t n)
{
    const char *s;
    size_t i;

    if (!json_is_string(j)) {
        s_fail(v, "type", "must be a string, not %s", s_kind(j));
        return;
    }
    s = json_string_value(j);
    if (s_codepoints(s) != n) {
        s_fail(v, s_codepoints(s) < n ? "minLength" : "maxLength",
               "must be %zu letters", n);
        return;
    }
    for (i = 0; i < n; i++)
        if (s[i] < 'A' || s[i] > 'Z') {
            s_fail(v, "pattern", "\"%.8s\" is not %zu upper-case letters", s,
                   n);
            return;
        }
}

/* ^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$ */
static void
s_date(struct s_v *v, const json_t *j)
{
    const char *s;
    int i, mo, d;

    if (!json_is_string(j)) {
        s_fail(v, "type", "must be a string, not %s", s_kind(j));
        return;
    }
    s = json_string_value(j);
    if (strlen(s) != 10) {
        s_fail(v, strlen(s) < 10 ? "minLength" : "maxLength",
               "must be a date YYYY-MM-DD");
        return;
    }
    for (i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? s[i] != '-' : (s[i] < '0' || s[i] > '9')) {
            s_fail(v, "pattern", "\"%.10s\" is not a date YYYY-MM-DD", s);
            return;
        }
    mo = (s[5] - '0') * 10 + (s[6] - '0');
    d = (s[8] - '0') * 10 + (s[9] - '0');
    if (mo < 1 || mo > 12 || d < 1 || d > 31)
        s_fail(v, "pattern", "\"%.10s\" is not a date YYYY-MM-DD", s);
}

static void
s_unit(struct s_v *v, const json_t *j)
{
    static const char *const keys[] = {"designation", "subordination",
                                       "location",    "authorised",
                                       "actual",      NULL};
    size_t n;

    if (!s_object(v, j, keys, keys))
        return;
#define S_F(k, check)                                                          \
    do {                                                                       \
        const json_t *x = json_object_get(j, k);                               \
        if (x != NULL) {                                                       \
            n = s_push_key(v, k);                                              \
            check;                                                             \
            s_pop(v, n);                                                       \
        }                                                                      \
    } while (0)
    S_F("designation", s_text(v, x, EWH_MAX_RETURN_TEXT));
    S_F("subordination", s_text(v, x, EWH_MAX_RETURN_TEXT));
    S_F("location", s_text(v, x, EWH_MAX_RETURN_TEXT));
    S_F("authorised", s_count(v, x));
    S_F("actual", s_count(v, x));
}

/* An object whose known keys all hold values checked by fn. */
static void
s_map(struct s_v *v, const json_t *j, const char *const *keys,
      void (*fn)(struct s_v *, const json_t *))
{
    const char *key;
    json_t *val;
    size_t n;

    if (!s_object(v, j, keys, NULL))
        return;
    json_object_foreach((json_t *)j, key, val)
    {
        if (!s_in(key, keys))
            continue;
        n = s_push_key(v, key);
        fn(v, val);
        s_pop(v, n);
    }
}

static void
s_holdings(struct s_v *v, const json_t *j)
{
    static const char *const keys[] = {"un_register", "salw", NULL};
    size_t n;

    if (!s_object(v, j, keys, NULL))
        return;
    S_F("un_register", s_map(v, x, ewh_sf_unreg, s_count));
    S_F("salw", s_map(v, x, ewh_sf_salw, s_count));
}

static void
s_row(struct s_v *v, const json_t *j)
{
    s_map(v, j, ewh_sf_cols, s_money);
}

static void
s_budget(struct s_v *v, const json_t *j)
{
    static const char *const keys[] = {"currency", "minor_unit", "matrix",
                                       NULL};
    size_t n;
    double d;

    if (!s_object(v, j, keys, keys))
        return;
    S_F("currency", s_letters(v, x, 3));
    S_F("minor_unit", {
        if (!s_integer(x, &d))
            s_fail(v, "type", "must be an integer, not %s", s_kind(x));
        else if (d < 0)
            s_fail(v, "minimum", "%.0f < 0", d);
        else if (d > 4)
            s_fail(v, "maximum", "%.0f > 4", d);
    });
    S_F("matrix", s_map(v, x, ewh_sf_rows, s_row));
}

static void
s_agency(struct s_v *v, const json_t *j)
{
    static const char *const keys[] = {"name",   "type",  "units", "holdings",
                                       "budget", "notes", NULL};
    static const char *const req[] = {"name", "type", "units", "holdings",
                                      NULL};
    size_t n, i, m;

    if (!s_object(v, j, keys, req))
        return;
    S_F("name", s_text(v, x, EWH_MAX_RETURN_TEXT));
    S_F("type", {
        if (!json_is_string(x) ||
            !s_in(json_string_value(x), ewh_sf_agency_types))
            s_fail(v, "enum",
                   "must be one of armed-forces, police-military-status, "
                   "gendarmerie, border-guard, other");
    });
    S_F("units", {
        if (!json_is_array(x))
            s_fail(v, "type", "must be an array, not %s", s_kind(x));
        else {
            if (json_array_size(x) > EWH_MAX_RETURN_UNITS)
                s_fail(v, "maxItems", "%zu units > EWH_MAX_RETURN_UNITS %u",
                       json_array_size(x), EWH_MAX_RETURN_UNITS);
            for (i = 0; i < json_array_size(x); i++) {
                m = s_push_idx(v, i);
                s_unit(v, json_array_get(x, i));
                s_pop(v, m);
            }
        }
    });
    S_F("holdings", s_holdings(v, x));
    S_F("budget", s_budget(v, x));
    S_F("notes", s_text(v, x, EWH_MAX_RETURN_NOTES));
}

static void
s_return(struct s_v *v, const json_t *j)
{
    static const char *const keys[] = {"schema",   "country", "year", "date",
                                       "agencies", "notes",   NULL};
    static const char *const req[] = {"schema", "country",  "year",
                                      "date",   "agencies", NULL};
    size_t n, i, m;
    double d;

    if (!s_object(v, j, keys, req))
        return;
    S_F("schema", {
        if (!json_is_string(x) || strcmp(json_string_value(x), EWH_SF_SCHEMA))
            s_fail(v, "const", "must be \"%s\"", EWH_SF_SCHEMA);
    });
    S_F("country", s_letters(v, x, 2));
    S_F("year", {
        if (!s_integer(x, &d))
            s_fail(v, "type", "must be an integer, not %s", s_kind(x));
        else if (d < EWH_MIN_RETURN_YEAR)
            s_fail(v, "minimum", "%.0f < %u", d, EWH_MIN_RETURN_YEAR);
        else if (d > EWH_MAX_RETURN_YEAR)
            s_fail(v, "maximum", "%.0f > %u", d, EWH_MAX_RETURN_YEAR);
    });
    S_F("date", s_date(v, x));
    S_F("notes", s_text(v, x, EWH_MAX_RETURN_NOTES));
    S_F("agencies", {
        if (!json_is_array(x))
            s_fail(v, "type", "must be an array, not %s", s_kind(x));
        else {
            if (json_array_size(x) < 1)
                s_fail(v, "minItems", "at least one agency");
            if (json_array_size(x) > EWH_MAX_RETURN_AGENCIES)
                s_fail(v, "maxItems",
                       "%zu agencies > EWH_MAX_RETURN_AGENCIES %u",
                       json_array_size(x), EWH_MAX_RETURN_AGENCIES);
            for (i = 0; i < json_array_size(x); i++) {
                m = s_push_idx(v, i);
                s_agency(v, json_array_get(x, i));
                s_pop(v, m);
            }
        }
    });
#undef S_F
}

int
ewh_sf_validate(const char *text, size_t len, struct ewh_sf_result *res,
                struct ewh_err *err)
{
    struct s_v v = {.res = res, .path = "$"};
    json_error_t je;
    json_t *j;

    memset(res, 0, sizeof(*res));
    if (len > EWH_MAX_RETURN_BYTES) {
        s_fail(&v, "maxBytes",
               "the file is %zu bytes > EWH_MAX_RETURN_BYTES %u", len,
               EWH_MAX_RETURN_BYTES);
        return ewh_err_set(err, EWH_E_TOOBIG, "%s: %s", res->e[0].path,
                           res->e[0].msg);
    }
    if ((j = json_loadb(text, len, 0, &je)) == NULL) {
        s_fail(&v, "json", "not JSON: line %d column %d: %.100s", je.line,
               je.column, je.text);
        return ewh_err_set(err, EWH_E_INVALID, "%s", res->e[0].msg);
    }
    s_return(&v, j);
    json_decref(j);
    if (res->n_total == 0)
        return 0;
    return ewh_err_set(err, EWH_E_INVALID, "%s: %s (rule: %s)", res->e[0].path,
                       res->e[0].msg, res->e[0].rule);
}

int
ewh_sf_year(const char *text, size_t len, unsigned *year, struct ewh_err *err)
{
    json_t *j;
    double d = 0;
    bool ok;

    if (len > EWH_MAX_RETURN_BYTES)
        return ewh_err_set(err, EWH_E_TOOBIG,
                           "return of %zu bytes > EWH_MAX_RETURN_BYTES %u", len,
                           EWH_MAX_RETURN_BYTES);
    /* The same parse as ewh_sf_validate(), so both read the same year. */
    if ((j = json_loadb(text, len, 0, NULL)) == NULL)
        return ewh_err_set(err, EWH_E_INVALID, "the return is not JSON");
    ok = json_is_object(j) && s_integer(json_object_get(j, "year"), &d) &&
         d >= EWH_MIN_RETURN_YEAR && d <= EWH_MAX_RETURN_YEAR;
    json_decref(j);
    if (!ok)
        return ewh_err_set(err, EWH_E_INVALID, "$.year: not a year %u..%u",
                           EWH_MIN_RETURN_YEAR, EWH_MAX_RETURN_YEAR);
    *year = (unsigned)d;
    return 0;
}

int64_t
ewh_sf_money(const void *json_value, int minor_unit)
{
    const json_t *j = json_value;
    static const int64_t pow10[] = {1, 10, 100, 1000, 10000};
    double d;

    if (minor_unit < 0 || minor_unit > 4)
        minor_unit = 0;
    if (s_integer(j, &d))
        return (int64_t)d * pow10[4 - minor_unit];
    if (json_is_string(j)) {
        const char *s = json_string_value(j), *dot = strchr(s, '.');
        int64_t whole = 0, frac = 0;
        int k = 0;
        for (; *s && *s != '.'; s++)
            whole = whole * 10 + (*s - '0');
        if (dot != NULL)
            for (s = dot + 1; *s && k < 4; s++, k++)
                frac = frac * 10 + (*s - '0');
        for (; k < 4; k++)
            frac *= 10;
        return whole * 10000 + frac;
    }
    return 0;
}
