/* catalogue.c — the hub-signed catalogue of concern. */
#include "ewh/catalogue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "ewh.pb-c.h"
#include "ewh/roster.h"

struct ewh_catalogue {
    uint64_t version;
    int64_t issued_at;
    struct ewh_catalogue_area a[EWH_MAX_CATEGORIES];
    size_t n;
};

/* The default text: the areas the action plan names, in plain words.
 * Order: area, title, default level, high, medium, low, indicators
 * ("|"-separated). */
static const struct {
    const char *area, *title;
    enum ewh_level def;
    const char *high, *medium, *low, *ind;
} s_builtin[] = {
    {"early-warning",
     "Political-military early warning, conflict prevention and crisis "
     "management",
     EWH_LEVEL_MEDIUM,
     "Armed force is being used or prepared against a neighbour or a part of "
     "the population, or a crisis could turn violent within days.",
     "Tension is rising: unusual military activity, threats by officials, "
     "or a dispute that could escalate within weeks.",
     "A development worth knowing about that does not change the risk of "
     "conflict now.",
     "unannounced military movements near a border|mobilisation of "
     "reservists|hostile statements by officials|incidents between armed "
     "forces"},
    {"terrorism", "Terrorism", EWH_LEVEL_MEDIUM,
     "An attack is under way or expected soon, or a group is known to be "
     "preparing one in the region.",
     "A credible threat without a known time or target, or the movement of "
     "people or means that could serve an attack.",
     "Background information: trends, propaganda, people or groups already "
     "under watch.",
     "travel of known militants|purchase of explosive precursors|threats "
     "against named targets"},
    {"organised-crime", "Organised crime", EWH_LEVEL_LOW,
     "A criminal group is about to commit serious violence or a large "
     "trafficking operation across borders is under way.",
     "A criminal group is expanding across borders or new routes for "
     "trafficking in people, drugs or weapons appear.",
     "Information on known groups and routes that helps the picture but "
     "needs no action now.",
     "new trafficking routes|money laundering through a neighbour|violence "
     "between criminal groups"},
    {"border-security", "Border security", EWH_LEVEL_MEDIUM,
     "A border crossing or section is being forced, closed or attacked, or "
     "armed people are crossing it.",
     "Unusual pressure on a border: a sudden rise in illegal crossings, "
     "incidents with border guards, a crossing point about to close.",
     "Changes in procedures, planned closures, routine incidents.",
     "closure of a crossing point|shots at or near the border|large groups "
     "gathering at the border"},
    {"small-arms", "Small arms and light weapons", EWH_LEVEL_MEDIUM,
     "Weapons are being moved or handed out in a way that could feed "
     "violence now: a depot looted, a large illicit shipment under way.",
     "Signs of illicit trade or leakage from stocks: seizures, thefts, "
     "unexplained surpluses.",
     "Routine seizures, destruction of surplus weapons, changes in law.",
     "theft from a military or police depot|large seizure at a "
     "border|weapons offered for sale online"},
    {"illegal-migration", "Illegal migration", EWH_LEVEL_LOW,
     "Large numbers of people are moving now in conditions that endanger "
     "lives or overwhelm reception at a border.",
     "A marked rise in irregular arrivals or a new route that neighbours "
     "will feel within weeks.",
     "Figures and trends within the usual range.",
     "new smuggling route|sudden rise in arrivals|reception centres full"},
    {"cyber", "Cyber threats", EWH_LEVEL_MEDIUM,
     "An attack is disrupting government, essential services or "
     "communications now, or is about to spread to a neighbour.",
     "A campaign or a flaw is being exploited in the region without "
     "disruption yet.",
     "Warnings, indicators of compromise and lessons from past incidents.",
     "outage of an essential service|defacement of government "
     "sites|widespread phishing of officials"},
    {"disaster", "Disasters and civil emergencies", EWH_LEVEL_MEDIUM,
     "A disaster is happening or imminent and could reach across a border "
     "or needs help from neighbours: flood, fire, earthquake, industrial "
     "accident.",
     "A hazard is growing and may need a response within days: rising "
     "rivers, spreading fires, an epidemic.",
     "Forecasts, exercises, and events contained within one country.",
     "rivers above alarm level|forest fire near a border|release of "
     "dangerous substances"},
    {"dual-use-infrastructure", "Infrastructure with dual-use potential",
     EWH_LEVEL_LOW,
     "Infrastructure that serves both civil and military ends (ports, "
     "airfields, power, telecommunications) is attacked, seized or about to "
     "fail.",
     "Unusual activity at or around such infrastructure, or a change in who "
     "controls it.",
     "Planned works, changes of ownership and routine incidents.",
     "sabotage of power or telecommunication lines|foreign military use of "
     "a civil port or airfield"},
    {"other", "Anything else", EWH_LEVEL_LOW,
     "A threat to life or to the stability of the region that needs action "
     "by a neighbour now.",
     "A development that neighbours should prepare for.",
     "Information to keep in mind.", ""},
};

static bool
s_area_ok(const char *c)
{
    size_t i, n = strlen(c);

    if (n == 0 || n > EWH_MAX_CATEGORY_BYTES)
        return false;
    for (i = 0; i < n; i++)
        if (!((c[i] >= 'a' && c[i] <= 'z') || (c[i] >= '0' && c[i] <= '9') ||
              c[i] == '-'))
            return false;
    return true;
}

ewh_catalogue_t *
ewh_catalogue_new(uint64_t version)
{
    ewh_catalogue_t *c = calloc(1, sizeof(*c));

    if (c != NULL)
        c->version = version;
    return c;
}

void
ewh_catalogue_destroy(ewh_catalogue_t **c)
{
    if (c == NULL || *c == NULL)
        return;
    free(*c);
    *c = NULL;
}

uint64_t
ewh_catalogue_version(const ewh_catalogue_t *c)
{
    return c->version;
}

void
ewh_catalogue_set_version(ewh_catalogue_t *c, uint64_t v)
{
    c->version = v;
}

int64_t
ewh_catalogue_issued_at(const ewh_catalogue_t *c)
{
    return c->issued_at;
}

size_t
ewh_catalogue_count(const ewh_catalogue_t *c)
{
    return c->n;
}

const struct ewh_catalogue_area *
ewh_catalogue_at(const ewh_catalogue_t *c, size_t i)
{
    return i < c->n ? &c->a[i] : NULL;
}

const struct ewh_catalogue_area *
ewh_catalogue_find(const ewh_catalogue_t *c, const char *area)
{
    size_t i;

    for (i = 0; i < c->n; i++)
        if (strcmp(c->a[i].area, area) == 0)
            return &c->a[i];
    return NULL;
}

static int
s_text_ok(const char *s, size_t max, bool need, const char *area,
          const char *what, struct ewh_err *err)
{
    size_t n = strnlen(s, max + 1);

    if (n > max)
        return ewh_err_set(err, EWH_E_TOOBIG,
                           "area %s: %s longer than %zu bytes", area, what,
                           max);
    if (need && n == 0)
        return ewh_err_set(err, EWH_E_INVALID, "area %s: %s is empty", area,
                           what);
    if (!ewh_text_is_valid(s, n, false))
        return ewh_err_set(err, EWH_E_INVALID,
                           "area %s: %s is not one line of UTF-8 text", area,
                           what);
    return 0;
}

int
ewh_catalogue_put(ewh_catalogue_t *c, const struct ewh_catalogue_area *a,
                  struct ewh_err *err)
{
    static const char *const names[] = {"", "low", "medium", "high"};
    size_t i;
    int l;

    if (!s_area_ok(a->area))
        return ewh_err_set(err, EWH_E_INVALID,
                           "bad area '%.64s' (a category: lower-case letters, "
                           "digits and '-')",
                           a->area);
    if (ewh_catalogue_find(c, a->area) != NULL)
        return ewh_err_set(err, EWH_E_INVALID, "area %s given twice", a->area);
    if (c->n == EWH_MAX_CATEGORIES)
        return ewh_err_set(err, EWH_E_TOOBIG,
                           "more than EWH_MAX_CATEGORIES %u areas",
                           EWH_MAX_CATEGORIES);
    if (a->default_level < EWH_LEVEL_LOW || a->default_level > EWH_LEVEL_HIGH)
        return ewh_err_set(err, EWH_E_INVALID,
                           "area %s: default_level must be high, medium or "
                           "low",
                           a->area);
    if (s_text_ok(a->title, EWH_MAX_AREA_TITLE_BYTES, true, a->area, "title",
                  err) != 0)
        return -1;
    for (l = EWH_LEVEL_LOW; l <= EWH_LEVEL_HIGH; l++)
        if (s_text_ok(a->guide[l], EWH_MAX_GUIDANCE_BYTES, true, a->area,
                      names[l], err) != 0)
            return -1;
    if (a->n_ind > EWH_MAX_INDICATORS)
        return ewh_err_set(err, EWH_E_TOOBIG,
                           "area %s: more than EWH_MAX_INDICATORS %u "
                           "indicators",
                           a->area, EWH_MAX_INDICATORS);
    for (i = 0; i < a->n_ind; i++)
        if (s_text_ok(a->ind[i], EWH_MAX_INDICATOR_BYTES, true, a->area,
                      "an indicator", err) != 0)
            return -1;
    c->a[c->n++] = *a;
    return 0;
}

static void
s_builtin_area(const char *cat, struct ewh_catalogue_area *a)
{
    size_t i;
    const char *p, *q;

    memset(a, 0, sizeof(*a));
    snprintf(a->area, sizeof(a->area), "%s", cat);
    for (i = 0; i < sizeof(s_builtin) / sizeof(s_builtin[0]); i++)
        if (strcmp(s_builtin[i].area, cat) == 0)
            break;
    if (i == sizeof(s_builtin) / sizeof(s_builtin[0])) {
        /* A category the hub operator added: generic words to edit. */
        snprintf(a->title, sizeof(a->title), "%s", cat);
        a->default_level = EWH_LEVEL_LOW;
        snprintf(a->guide[EWH_LEVEL_HIGH], sizeof(a->guide[0]),
                 "A threat in this area that needs action by a neighbour "
                 "now.");
        snprintf(a->guide[EWH_LEVEL_MEDIUM], sizeof(a->guide[0]),
                 "A development in this area that neighbours should prepare "
                 "for.");
        snprintf(a->guide[EWH_LEVEL_LOW], sizeof(a->guide[0]),
                 "Information in this area to keep in mind.");
        return;
    }
    snprintf(a->title, sizeof(a->title), "%s", s_builtin[i].title);
    a->default_level = s_builtin[i].def;
    snprintf(a->guide[EWH_LEVEL_HIGH], sizeof(a->guide[0]), "%s",
             s_builtin[i].high);
    snprintf(a->guide[EWH_LEVEL_MEDIUM], sizeof(a->guide[0]), "%s",
             s_builtin[i].medium);
    snprintf(a->guide[EWH_LEVEL_LOW], sizeof(a->guide[0]), "%s",
             s_builtin[i].low);
    for (p = s_builtin[i].ind; *p != '\0' && a->n_ind < EWH_MAX_INDICATORS;
         p = *q ? q + 1 : q) {
        q = strchr(p, '|');
        if (q == NULL)
            q = p + strlen(p);
        snprintf(a->ind[a->n_ind++], sizeof(a->ind[0]), "%.*s", (int)(q - p),
                 p);
    }
}

ewh_catalogue_t *
ewh_catalogue_builtin(const char *const *cats, size_t n, struct ewh_err *err)
{
    ewh_catalogue_t *c = ewh_catalogue_new(1);
    struct ewh_catalogue_area a;
    size_t i;

    if (c == NULL) {
        ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        return NULL;
    }
    for (i = 0; i < n; i++) {
        s_builtin_area(cats[i], &a);
        if (ewh_catalogue_put(c, &a, err) != 0) {
            ewh_catalogue_destroy(&c);
            return NULL;
        }
    }
    return c;
}

int
ewh_catalogue_check_areas(const ewh_catalogue_t *c, const char *const *cats,
                          size_t n, struct ewh_err *err)
{
    size_t i, j;

    for (i = 0; i < n; i++)
        if (ewh_catalogue_find(c, cats[i]) == NULL)
            return ewh_err_set(err, EWH_E_INVALID,
                               "area '%.64s' missing: the catalogue covers "
                               "every category of the hub's config",
                               cats[i]);
    for (i = 0; i < c->n; i++) {
        for (j = 0; j < n; j++)
            if (strcmp(c->a[i].area, cats[j]) == 0)
                break;
        if (j == n)
            return ewh_err_set(err, EWH_E_INVALID,
                               "area '%.64s' is not a category of the hub "
                               "(add it to [roster] categories first)",
                               c->a[i].area);
    }
    return 0;
}

int
ewh_catalogue_sign(ewh_catalogue_t *c, const ewh_secret_t *hub, uint8_t **out,
                   size_t *out_len, struct ewh_err *err)
{
    Ewh__CatalogueBody body = EWH__CATALOGUE_BODY__INIT;
    Ewh__SignedCatalogue sc = EWH__SIGNED_CATALOGUE__INIT;
    Ewh__CatalogueArea *ar = NULL, **arp = NULL;
    char *inds[EWH_MAX_CATEGORIES][EWH_MAX_INDICATORS];
    uint8_t sig[EWH_SIG_BYTES], *bbuf = NULL, *obuf = NULL;
    size_t i, j, blen, olen;
    int rc = -1;

    if (ewh_secret_pubid(hub)->kind != EWH_KIND_HUB)
        return ewh_err_set(err, EWH_E_INVALID,
                           "only the hub signs the catalogue");
    ar = calloc(c->n + 1, sizeof(*ar));
    arp = calloc(c->n + 1, sizeof(*arp));
    if (ar == NULL || arp == NULL) {
        ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        goto out;
    }
    c->issued_at = ewh_now();
    for (i = 0; i < c->n; i++) {
        ewh__catalogue_area__init(&ar[i]);
        ar[i].area = c->a[i].area;
        ar[i].title = c->a[i].title;
        ar[i].default_level = (Ewh__Level)c->a[i].default_level;
        ar[i].high = c->a[i].guide[EWH_LEVEL_HIGH];
        ar[i].medium = c->a[i].guide[EWH_LEVEL_MEDIUM];
        ar[i].low = c->a[i].guide[EWH_LEVEL_LOW];
        for (j = 0; j < c->a[i].n_ind; j++)
            inds[i][j] = c->a[i].ind[j];
        ar[i].n_indicators = c->a[i].n_ind;
        ar[i].indicators = inds[i];
        arp[i] = &ar[i];
    }
    body.version = c->version;
    body.issued_at = c->issued_at;
    body.hub_sign.data = (uint8_t *)ewh_secret_pubid(hub)->sign;
    body.hub_sign.len = 32;
    body.n_areas = c->n;
    body.areas = arp;
    blen = ewh__catalogue_body__get_packed_size(&body);
    if ((bbuf = malloc(blen > 0 ? blen : 1)) == NULL) {
        ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        goto out;
    }
    ewh__catalogue_body__pack(&body, bbuf);
    if (ewh_sign(EWH_CTX_CATALOGUE, bbuf, blen, ewh_secret_sign_sk(hub), sig,
                 err) != 0)
        goto out;
    sc.body.data = bbuf;
    sc.body.len = blen;
    sc.signature.data = sig;
    sc.signature.len = sizeof(sig);
    olen = ewh__signed_catalogue__get_packed_size(&sc);
    if (olen > EWH_MAX_CATALOGUE_BYTES) {
        ewh_err_set(err, EWH_E_TOOBIG,
                    "catalogue of %zu bytes > EWH_MAX_CATALOGUE_BYTES %u", olen,
                    EWH_MAX_CATALOGUE_BYTES);
        goto out;
    }
    if ((obuf = malloc(olen)) == NULL) {
        ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        goto out;
    }
    ewh__signed_catalogue__pack(&sc, obuf);
    *out = obuf;
    *out_len = olen;
    rc = 0;
out:
    free(bbuf);
    free(arp);
    free(ar);
    return rc;
}

static int
s_copy(char *dst, size_t cap, const char *src, const char *area,
       const char *what, struct ewh_err *err)
{
    if (src == NULL)
        src = "";
    if (strlen(src) >= cap)
        return ewh_err_set(err, EWH_E_TOOBIG,
                           "area %.64s: %s longer than %zu bytes", area, what,
                           cap - 1);
    memcpy(dst, src, strlen(src) + 1);
    return 0;
}

ewh_catalogue_t *
ewh_catalogue_open(const uint8_t *buf, size_t len, const uint8_t hub_sign[32],
                   struct ewh_err *err)
{
    Ewh__SignedCatalogue *sc = NULL;
    Ewh__CatalogueBody *b = NULL;
    ewh_catalogue_t *c = NULL;
    struct ewh_catalogue_area a;
    size_t i, j;

    if (len > EWH_MAX_CATALOGUE_BYTES) {
        ewh_err_set(err, EWH_E_TOOBIG,
                    "catalogue of %zu bytes > EWH_MAX_CATALOGUE_BYTES %u", len,
                    EWH_MAX_CATALOGUE_BYTES);
        return NULL;
    }
    if ((sc = ewh__signed_catalogue__unpack(NULL, len, buf)) == NULL) {
        ewh_err_set(err, EWH_E_INVALID, "malformed catalogue");
        goto fail;
    }
    if (ewh_verify(EWH_CTX_CATALOGUE, sc->body.data, sc->body.len, hub_sign,
                   sc->signature.data, sc->signature.len, err) != 0) {
        ewh_err_set(err, EWH_E_SIGNATURE,
                    "catalogue not signed by the pinned hub key");
        goto fail;
    }
    if ((b = ewh__catalogue_body__unpack(NULL, sc->body.len, sc->body.data)) ==
        NULL) {
        ewh_err_set(err, EWH_E_INVALID, "malformed catalogue body");
        goto fail;
    }
    if (b->hub_sign.len != 32 || memcmp(b->hub_sign.data, hub_sign, 32) != 0) {
        ewh_err_set(err, EWH_E_INVALID, "catalogue names another hub key");
        goto fail;
    }
    if (b->n_areas > EWH_MAX_CATEGORIES) {
        ewh_err_set(err, EWH_E_TOOBIG, "more than EWH_MAX_CATEGORIES %u areas",
                    EWH_MAX_CATEGORIES);
        goto fail;
    }
    if ((c = ewh_catalogue_new(b->version)) == NULL) {
        ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        goto fail;
    }
    c->issued_at = b->issued_at;
    for (i = 0; i < b->n_areas; i++) {
        const Ewh__CatalogueArea *e = b->areas[i];
        memset(&a, 0, sizeof(a));
        if (s_copy(a.area, sizeof(a.area), e->area, "?", "area", err) != 0 ||
            s_copy(a.title, sizeof(a.title), e->title, a.area, "title", err) !=
                0 ||
            s_copy(a.guide[EWH_LEVEL_HIGH], sizeof(a.guide[0]), e->high, a.area,
                   "high", err) != 0 ||
            s_copy(a.guide[EWH_LEVEL_MEDIUM], sizeof(a.guide[0]), e->medium,
                   a.area, "medium", err) != 0 ||
            s_copy(a.guide[EWH_LEVEL_LOW], sizeof(a.guide[0]), e->low, a.area,
                   "low", err) != 0)
            goto fail;
        a.default_level = (enum ewh_level)e->default_level;
        if (e->n_indicators > EWH_MAX_INDICATORS) {
            ewh_err_set(err, EWH_E_TOOBIG,
                        "area %s: more than EWH_MAX_INDICATORS %u", a.area,
                        EWH_MAX_INDICATORS);
            goto fail;
        }
        for (j = 0; j < e->n_indicators; j++)
            if (s_copy(a.ind[j], sizeof(a.ind[0]), e->indicators[j], a.area,
                       "indicator", err) != 0)
                goto fail;
        a.n_ind = e->n_indicators;
        if (ewh_catalogue_put(c, &a, err) != 0)
            goto fail;
    }
    ewh__catalogue_body__free_unpacked(b, NULL);
    ewh__signed_catalogue__free_unpacked(sc, NULL);
    return c;
fail:
    ewh_catalogue_destroy(&c);
    if (b != NULL)
        ewh__catalogue_body__free_unpacked(b, NULL);
    if (sc != NULL)
        ewh__signed_catalogue__free_unpacked(sc, NULL);
    return NULL;
}

char *
ewh_catalogue_to_json(const ewh_catalogue_t *c, struct ewh_err *err)
{
    json_t *root = json_object(), *areas = json_array();
    char *s = NULL;
    size_t i, j;

    if (root == NULL || areas == NULL)
        goto nomem;
    json_object_set_new(root, "catalogue", json_string(EWH_CATALOGUE_FORMAT));
    json_object_set_new(root, "version", json_integer((json_int_t)c->version));
    for (i = 0; i < c->n; i++) {
        const struct ewh_catalogue_area *a = &c->a[i];
        json_t *o = json_object(), *ind = json_array();
        if (o == NULL || ind == NULL) {
            json_decref(o);
            json_decref(ind);
            goto nomem;
        }
        json_object_set_new(o, "area", json_string(a->area));
        json_object_set_new(o, "title", json_string(a->title));
        json_object_set_new(o, "default_level",
                            json_string(ewh_level_name(a->default_level)));
        json_object_set_new(o, "high", json_string(a->guide[EWH_LEVEL_HIGH]));
        json_object_set_new(o, "medium",
                            json_string(a->guide[EWH_LEVEL_MEDIUM]));
        json_object_set_new(o, "low", json_string(a->guide[EWH_LEVEL_LOW]));
        for (j = 0; j < a->n_ind; j++)
            json_array_append_new(ind, json_string(a->ind[j]));
        json_object_set_new(o, "indicators", ind);
        json_array_append_new(areas, o);
    }
    json_object_set_new(root, "areas", areas);
    areas = NULL;
    s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (s == NULL)
        ewh_err_set(err, EWH_E_NOMEM, "out of memory");
    return s;
nomem:
    json_decref(areas);
    json_decref(root);
    ewh_err_set(err, EWH_E_NOMEM, "out of memory");
    return NULL;
}

static int
s_json_text(json_t *o, const char *key, char *dst, size_t cap, bool need,
            const char *area, struct ewh_err *err)
{
    json_t *v = json_object_get(o, key);

    if (v == NULL) {
        if (!need)
            return 0;
        return ewh_err_set(err, EWH_E_INVALID, "area %.64s: \"%s\" missing",
                           area, key);
    }
    if (!json_is_string(v))
        return ewh_err_set(err, EWH_E_INVALID,
                           "area %.64s: \"%s\" must be a string", area, key);
    if (json_string_length(v) >= cap)
        return ewh_err_set(err, EWH_E_TOOBIG,
                           "area %.64s: \"%s\" longer than %zu bytes", area,
                           key, cap - 1);
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

ewh_catalogue_t *
ewh_catalogue_from_json(const char *text, size_t len, uint64_t *based_on,
                        struct ewh_err *err)
{
    static const char *const known[] = {"area",      "title",  "default_level",
                                        "high",      "medium", "low",
                                        "indicators"};
    json_error_t je;
    json_t *root = NULL, *areas, *v;
    ewh_catalogue_t *c = NULL;
    struct ewh_catalogue_area a;
    const char *key;
    size_t i, j, k;

    *based_on = 0;
    if (len > EWH_MAX_CATALOGUE_BYTES) {
        ewh_err_set(err, EWH_E_TOOBIG,
                    "catalogue file of %zu bytes > EWH_MAX_CATALOGUE_BYTES %u",
                    len, EWH_MAX_CATALOGUE_BYTES);
        return NULL;
    }
    if ((root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)) == NULL) {
        ewh_err_set(err, EWH_E_INVALID, "not JSON: line %d: %.120s", je.line,
                    je.text);
        return NULL;
    }
    if (!json_is_object(root) ||
        !json_is_string(v = json_object_get(root, "catalogue")) ||
        strcmp(json_string_value(v), EWH_CATALOGUE_FORMAT) != 0) {
        ewh_err_set(err, EWH_E_INVALID,
                    "not a catalogue: \"catalogue\": \"%s\" missing",
                    EWH_CATALOGUE_FORMAT);
        goto fail;
    }
    if ((v = json_object_get(root, "version")) != NULL) {
        if (!json_is_integer(v) || json_integer_value(v) < 0) {
            ewh_err_set(err, EWH_E_INVALID,
                        "\"version\" must be a whole number");
            goto fail;
        }
        *based_on = (uint64_t)json_integer_value(v);
    }
    areas = json_object_get(root, "areas");
    if (!json_is_array(areas)) {
        ewh_err_set(err, EWH_E_INVALID, "\"areas\" must be a list");
        goto fail;
    }
    if ((c = ewh_catalogue_new(0)) == NULL) {
        ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        goto fail;
    }
    for (i = 0; i < json_array_size(areas); i++) {
        json_t *o = json_array_get(areas, i), *ind;
        char lvl[16] = "", name[EWH_MAX_CATEGORY_BYTES + 1] = "";
        memset(&a, 0, sizeof(a));
        if (!json_is_object(o)) {
            ewh_err_set(err, EWH_E_INVALID, "areas[%zu] is not an object", i);
            goto fail;
        }
        snprintf(name, sizeof(name), "#%zu", i + 1);
        if (s_json_text(o, "area", a.area, sizeof(a.area), true, name, err) !=
            0)
            goto fail;
        json_object_foreach(o, key, v)
        {
            for (k = 0; k < sizeof(known) / sizeof(known[0]); k++)
                if (strcmp(key, known[k]) == 0)
                    break;
            if (k == sizeof(known) / sizeof(known[0])) {
                ewh_err_set(err, EWH_E_INVALID,
                            "area %.64s: unknown field \"%.64s\"", a.area, key);
                goto fail;
            }
        }
        if (s_json_text(o, "title", a.title, sizeof(a.title), true, a.area,
                        err) != 0 ||
            s_json_text(o, "default_level", lvl, sizeof(lvl), true, a.area,
                        err) != 0 ||
            s_json_text(o, "high", a.guide[EWH_LEVEL_HIGH], sizeof(a.guide[0]),
                        true, a.area, err) != 0 ||
            s_json_text(o, "medium", a.guide[EWH_LEVEL_MEDIUM],
                        sizeof(a.guide[0]), true, a.area, err) != 0 ||
            s_json_text(o, "low", a.guide[EWH_LEVEL_LOW], sizeof(a.guide[0]),
                        true, a.area, err) != 0)
            goto fail;
        if ((a.default_level = ewh_level_parse(lvl)) == EWH_LEVEL_NONE) {
            ewh_err_set(err, EWH_E_INVALID,
                        "area %.64s: default_level '%.16s' is not high, "
                        "medium or low",
                        a.area, lvl);
            goto fail;
        }
        if ((ind = json_object_get(o, "indicators")) != NULL) {
            if (!json_is_array(ind)) {
                ewh_err_set(err, EWH_E_INVALID,
                            "area %.64s: \"indicators\" must be a list of "
                            "strings",
                            a.area);
                goto fail;
            }
            if (json_array_size(ind) > EWH_MAX_INDICATORS) {
                ewh_err_set(err, EWH_E_TOOBIG,
                            "area %.64s: more than EWH_MAX_INDICATORS %u "
                            "indicators",
                            a.area, EWH_MAX_INDICATORS);
                goto fail;
            }
            for (j = 0; j < json_array_size(ind); j++) {
                v = json_array_get(ind, j);
                if (!json_is_string(v) ||
                    json_string_length(v) > EWH_MAX_INDICATOR_BYTES) {
                    ewh_err_set(err, EWH_E_INVALID,
                                "area %.64s: indicator %zu must be a string "
                                "of at most %u bytes",
                                a.area, j + 1, EWH_MAX_INDICATOR_BYTES);
                    goto fail;
                }
                memcpy(a.ind[j], json_string_value(v),
                       json_string_length(v) + 1);
            }
            a.n_ind = json_array_size(ind);
        }
        if (ewh_catalogue_put(c, &a, err) != 0)
            goto fail;
    }
    json_decref(root);
    return c;
fail:
    ewh_catalogue_destroy(&c);
    json_decref(root);
    return NULL;
}
