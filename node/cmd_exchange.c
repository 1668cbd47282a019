/* cmd_exchange.c — ewnode exchange: the annual exchange on security forces
 * (docs/exchange.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cap.h"
#include "cmd.h"
#include "exchange.h"
#include "ewh/envelope.h"

static const char s_usage[] =
    "usage: ewnode exchange COMMAND [--dir DIR] ...\n"
    "  template YEAR [--format json|csv] [--country CC]\n"
    "                      a skeleton return to fill in\n"
    "  import FILE.csv [--out FILE]   the CSV layout to JSON (validated)\n"
    "  validate FILE       check a return (JSON, or .csv) against the schema\n"
    "  submit FILE --to all|CC[,CC...] [--level L] [--tlp T]\n"
    "                      send a return (low concern by default); a new\n"
    "                      return for the same year replaces the earlier\n"
    "  list [--json]       the returns held, latest per country and year\n"
    "  show CC YEAR [--json]\n"
    "  compare CC YEAR1 YEAR2   what changed, per agency and category\n"
    "  table YEAR [--section personnel|holdings|budget]\n"
    "                      every country's return side by side\n"
    "  export CC YEAR [--format json|csv] [--out FILE]\n"
    "  remind              who has not sent this year's return yet\n";

struct s_opts {
    const char *dir, *format, *country, *out, *to, *level, *tlp, *section;
    bool json;
    int nargs;
    char **args;
};

static int
s_parse(int argc, char **argv, struct s_opts *o)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"format", required_argument, NULL, 'f'},
        {"country", required_argument, NULL, 'c'},
        {"out", required_argument, NULL, 'o'},
        {"to", required_argument, NULL, 't'},
        {"level", required_argument, NULL, 'l'},
        {"tlp", required_argument, NULL, 'p'},
        {"section", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c;

    memset(o, 0, sizeof(*o));
    while ((c = getopt_long(argc, argv, "d:f:c:o:t:l:p:s:jh", opts, NULL)) !=
           -1) {
        switch (c) {
        case 'd':
            o->dir = optarg;
            break;
        case 'f':
            o->format = optarg;
            break;
        case 'c':
            o->country = optarg;
            break;
        case 'o':
            o->out = optarg;
            break;
        case 't':
            o->to = optarg;
            break;
        case 'l':
            o->level = optarg;
            break;
        case 'p':
            o->tlp = optarg;
            break;
        case 's':
            o->section = optarg;
            break;
        case 'j':
            o->json = true;
            break;
        case 'h':
            fputs(s_usage, stdout);
            exit(0);
        default:
            return -1;
        }
    }
    o->nargs = argc - optind;
    o->args = argv + optind;
    return 0;
}

static int
s_year(const char *s, unsigned *out, struct ewh_err *err)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);

    if (*s == '\0' || *end != '\0' || v < EWH_MIN_RETURN_YEAR ||
        v > EWH_MAX_RETURN_YEAR)
        return ewh_err_set(err, EWH_E_INVALID, "bad year '%.16s' (%u..%u)", s,
                           EWH_MIN_RETURN_YEAR, EWH_MAX_RETURN_YEAR);
    *out = (unsigned)v;
    return 0;
}

static FILE *
s_out(const char *path, struct ewh_err *err)
{
    FILE *f;

    if (path == NULL)
        return stdout;
    if ((f = fopen(path, "w")) == NULL)
        ewh_err_set(err, EWH_E_IO, "%s: cannot write", path);
    return f;
}

/* Read and validate FILE; print the errors.  Caller owns *doc. */
static int
s_load_valid(const char *path, char **text, size_t *len, json_t **doc,
             struct ewh_err *err)
{
    struct ewh_sf_result *res = calloc(1, sizeof(*res));
    int rc = -1;

    if (res == NULL)
        return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
    if (node_exchange_read(path, text, len, err) != 0)
        goto out;
    if (ewh_sf_validate(*text, *len, res, err) != 0) {
        node_exchange_print_errors(res, stderr);
        ewh_err_set(err, err->code,
                    "%s: %zu error%s: the return does not "
                    "follow %s",
                    path, res->n_total, res->n_total == 1 ? "" : "s",
                    EWH_SF_SCHEMA);
        free(*text);
        *text = NULL;
        goto out;
    }
    if (doc != NULL && (*doc = json_loadb(*text, *len, 0, NULL)) == NULL) {
        ewh_err_set(err, EWH_E_INVALID, "%s: not JSON", path);
        goto out;
    }
    rc = 0;
out:
    free(res);
    return rc;
}

/* ---- template ---- */

static json_t *
s_template(const char *cc, unsigned year)
{
    json_t *r = json_object(), *ags = json_array(), *a = json_object();
    json_t *u = json_object(), *units = json_array(), *h = json_object();
    json_t *ur = json_object(), *sw = json_object(), *b = json_object();
    json_t *mx = json_object();
    char date[16];
    size_t i, j;

    snprintf(date, sizeof(date), "%u-12-01", year);
    json_object_set_new(r, "schema", json_string(EWH_SF_SCHEMA));
    json_object_set_new(r, "country", json_string(cc));
    json_object_set_new(r, "year", json_integer(year));
    json_object_set_new(r, "date", json_string(date));
    json_object_set_new(a, "name", json_string("Armed Forces"));
    json_object_set_new(a, "type", json_string("armed-forces"));
    json_object_set_new(u, "designation", json_string("1st Brigade"));
    json_object_set_new(u, "subordination", json_string("Land Forces Command"));
    json_object_set_new(u, "location", json_string("City"));
    json_object_set_new(u, "authorised", json_integer(0));
    json_object_set_new(u, "actual", json_integer(0));
    json_array_append_new(units, u);
    json_object_set_new(a, "units", units);
    for (i = 0; ewh_sf_unreg[i] != NULL; i++)
        json_object_set_new(ur, ewh_sf_unreg[i], json_integer(0));
    for (i = 0; ewh_sf_salw[i] != NULL; i++)
        json_object_set_new(sw, ewh_sf_salw[i], json_integer(0));
    json_object_set_new(h, "un_register", ur);
    json_object_set_new(h, "salw", sw);
    json_object_set_new(a, "holdings", h);
    json_object_set_new(b, "currency", json_string("EUR"));
    json_object_set_new(b, "minor_unit", json_integer(2));
    for (i = 0; ewh_sf_rows[i] != NULL; i++) {
        json_t *row = json_object();
        for (j = 0; ewh_sf_cols[j] != NULL; j++)
            json_object_set_new(row, ewh_sf_cols[j], json_string("0"));
        json_object_set_new(mx, ewh_sf_rows[i], row);
    }
    json_object_set_new(b, "matrix", mx);
    json_object_set_new(a, "budget", b);
    json_array_append_new(ags, a);
    json_object_set_new(r, "agencies", ags);
    return r;
}

static int
s_cmd_template(struct s_opts *o, struct ewh_err *err)
{
    struct node_dir d = {0};
    char cc[EWH_CC_BYTES] = "";
    unsigned year = 0;
    json_t *t;
    char *s;
    int rc;

    if (o->nargs != 1)
        return ewh_err_set(err, EWH_E_INVALID, "template YEAR");
    if (s_year(o->args[0], &year, err) != 0)
        return -1;
    if (o->country != NULL) {
        if (!ewh_country_is_valid(o->country))
            return ewh_err_set(err, EWH_E_INVALID, "bad --country");
        snprintf(cc, sizeof(cc), "%s", o->country);
    } else if (node_dir_open(&d, node_dir_default(o->dir), false, err) == 0) {
        snprintf(cc, sizeof(cc), "%s", d.cfg.country);
        node_dir_close(&d);
    } else
        return ewh_err_set(err, EWH_E_INVALID,
                           "no node dir here: give --country CC");
    t = s_template(cc, year);
    if (o->format != NULL && strcmp(o->format, "csv") == 0)
        rc = node_exchange_to_csv(t, stdout, err);
    else if (o->format == NULL || strcmp(o->format, "json") == 0) {
        s = json_dumps(t, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s\n", s);
        free(s);
        rc = 0;
    } else
        rc = ewh_err_set(err, EWH_E_INVALID, "--format json or csv");
    json_decref(t);
    return rc;
}

/* ---- import, validate ---- */

static int
s_cmd_import(struct s_opts *o, struct ewh_err *err)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f;

    if (o->nargs != 1)
        return ewh_err_set(err, EWH_E_INVALID, "import FILE.csv");
    if (strlen(o->args[0]) < 5 ||
        strcmp(o->args[0] + strlen(o->args[0]) - 4, ".csv") != 0)
        return ewh_err_set(err, EWH_E_INVALID, "%s: not a .csv file",
                           o->args[0]);
    if (s_load_valid(o->args[0], &text, &len, NULL, err) != 0)
        return -1;
    if ((f = s_out(o->out, err)) == NULL) {
        free(text);
        return -1;
    }
    fprintf(f, "%s\n", text);
    if (f != stdout)
        fclose(f);
    free(text);
    return 0;
}

static int
s_cmd_validate(struct s_opts *o, struct ewh_err *err)
{
    char *text = NULL;
    size_t len = 0;
    json_t *doc = NULL;

    if (o->nargs != 1)
        return ewh_err_set(err, EWH_E_INVALID, "validate FILE");
    if (s_load_valid(o->args[0], &text, &len, &doc, err) != 0)
        return -1;
    printf("%s: valid %s (%s %lld, %zu agencies)\n", o->args[0], EWH_SF_SCHEMA,
           json_string_value(json_object_get(doc, "country")),
           (long long)json_number_value(json_object_get(doc, "year")),
           json_array_size(json_object_get(doc, "agencies")));
    json_decref(doc);
    free(text);
    return 0;
}

/* ---- submit ---- */

static int
s_recipients(const ewh_roster_t *ro, const char *me, const char *to,
             const struct ewh_pubid **out, size_t *n, struct ewh_err *err)
{
    char buf[EWH_MAX_RECIPIENTS * 4 + 8], *tok, *save = NULL;
    const struct ewh_pubid *id;
    bool revoked;
    size_t i;

    *n = 0;
    if (strcmp(to, "all") == 0) {
        for (i = 0; i < ewh_roster_count(ro); i++) {
            id = ewh_roster_at(ro, i, &revoked);
            if (revoked || strcmp(id->country, me) == 0)
                continue;
            if (*n == EWH_MAX_RECIPIENTS)
                return ewh_err_set(err, EWH_E_TOOBIG,
                                   "more than EWH_MAX_RECIPIENTS %u",
                                   EWH_MAX_RECIPIENTS);
            out[(*n)++] = id;
        }
    } else {
        if (strlen(to) >= sizeof(buf))
            return ewh_err_set(err, EWH_E_TOOBIG, "--to lists too many");
        snprintf(buf, sizeof(buf), "%s", to);
        for (tok = strtok_r(buf, ",", &save); tok != NULL;
             tok = strtok_r(NULL, ",", &save)) {
            if (strcmp(tok, me) == 0)
                return ewh_err_set(err, EWH_E_INVALID,
                                   "addressee %s is this node", tok);
            if ((id = ewh_roster_find(ro, tok, &revoked)) == NULL || revoked)
                return ewh_err_set(err, EWH_E_UNKNOWN,
                                   "addressee '%.8s' is not in the roster (or "
                                   "revoked)",
                                   tok);
            for (i = 0; i < *n; i++)
                if (strcmp(out[i]->country, tok) == 0)
                    return ewh_err_set(err, EWH_E_INVALID,
                                       "addressee %s given twice", tok);
            if (*n == EWH_MAX_RECIPIENTS)
                return ewh_err_set(err, EWH_E_TOOBIG,
                                   "more than EWH_MAX_RECIPIENTS %u",
                                   EWH_MAX_RECIPIENTS);
            out[(*n)++] = id;
        }
    }
    if (*n == 0)
        return ewh_err_set(err, EWH_E_INVALID, "no addressee");
    return 0;
}

static int
s_cmd_submit(struct s_opts *o, struct ewh_err *err)
{
    struct node_dir d = {0};
    struct ewh_report r;
    struct ewh_header hdr;
    struct node_msg m;
    struct node_returns rs = {0};
    const struct node_return *prev;
    const struct ewh_pubid *to_ids[EWH_MAX_RECIPIENTS];
    ewh_roster_t *ro = NULL;
    json_t *doc = NULL;
    char *text = NULL;
    uint8_t *env = NULL;
    size_t len = 0, env_len = 0, n = 0, bad = 0, i;
    unsigned year = 0;
    int rc = -1;

    memset(&r, 0, sizeof(r));
    memset(&m, 0, sizeof(m));
    if (o->nargs != 1)
        return ewh_err_set(err, EWH_E_INVALID, "submit FILE --to ...");
    if (o->to == NULL)
        return ewh_err_set(err, EWH_E_INVALID,
                           "missing --to (all or CC[,CC...])");
    /* Everything is checked before anything is stored: a bad return sends
     * nothing. */
    if (s_load_valid(o->args[0], &text, &len, &doc, err) != 0)
        return -1;
    if (node_dir_open(&d, node_dir_default(o->dir), true, err) != 0)
        goto out;
    if (strcmp(json_string_value(json_object_get(doc, "country")),
               d.cfg.country) != 0) {
        ewh_err_set(err, EWH_E_INVALID,
                    "$.country: the return is %s's, this node is %s",
                    json_string_value(json_object_get(doc, "country")),
                    d.cfg.country);
        goto out;
    }
    year = (unsigned)json_number_value(json_object_get(doc, "year"));
    if ((ro = node_dir_roster(&d, err)) == NULL)
        goto out;
    if (s_recipients(ro, d.cfg.country, o->to, to_ids, &n, err) != 0)
        goto out;

    ewh_id_new(r.id);
    r.type = EWH_TYPE_RETURN;
    r.return_year = year;
    memcpy(r.origin, d.cfg.country, EWH_CC_BYTES);
    r.created_at = ewh_now();
    r.level = o->level != NULL ? ewh_level_parse(o->level) : EWH_LEVEL_LOW;
    if (r.level == EWH_LEVEL_NONE) {
        ewh_err_set(err, EWH_E_INVALID, "bad --level: high, medium or low");
        goto out;
    }
    r.tlp = o->tlp != NULL ? ewh_tlp_parse(o->tlp) : EWH_TLP_AMBER;
    if (r.tlp == EWH_TLP_NONE) {
        ewh_err_set(err, EWH_E_INVALID, "bad --tlp: red, amber, green, clear");
        goto out;
    }
    snprintf(r.category, sizeof(r.category), "%s", EWH_SF_CATEGORY);
    snprintf(r.title, sizeof(r.title), "Security forces return %s %u",
             d.cfg.country, year);
    snprintf(r.author, sizeof(r.author), "%s", d.cfg.author);
    snprintf(r.urgency, sizeof(r.urgency), "%s",
             node_cap_default_urgency(r.level));
    snprintf(r.certainty, sizeof(r.certainty), "%s",
             NODE_CAP_DEFAULT_CERTAINTY);
    /* The update chain: the return sent before for the same year. */
    if (node_exchange_collect(&d, &rs, &bad, err) != 0)
        goto out;
    prev = node_exchange_find(&rs, d.cfg.country, year);
    if (prev != NULL) {
        if (ewh_id_parse(prev->id, r.refs[0], err) != 0)
            goto out;
        r.n_refs = 1;
    }
    if (ewh_report_set_body(&r, text, len, err) != 0)
        goto out;
    if (ewh_envelope_seal(&r, to_ids, n, d.secret, NULL, &env, &env_len, err) !=
        0)
        goto out;
    memset(&hdr, 0, sizeof(hdr));
    for (i = 0; i < n; i++)
        memcpy(hdr.recipients[i], to_ids[i]->country, EWH_CC_BYTES);
    hdr.n_recipients = n;
    node_msg_from_report(&m, &r, &hdr, true);
    m.to_all = strcmp(o->to, "all") == 0;
    m.received_at = ewh_now();
    if (m.body == NULL) {
        ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        goto out;
    }
    if (node_store_begin(d.store, err) != 0)
        goto out;
    if (node_store_outbox_add(d.store, &m, env, env_len, err) != 0 ||
        node_store_commit(d.store, err) != 0) {
        node_store_rollback(d.store);
        goto out;
    }
    printf("%s\n", m.id);
    if (prev != NULL)
        fprintf(stderr, "replaces the %u return %s\n", year, prev->id);
    rc = 0;
out:
    node_exchange_free(&rs);
    free(env);
    ewh_roster_destroy(&ro);
    node_msg_clear(&m);
    ewh_report_clear(&r);
    if (text != NULL) {
        sodium_memzero(text, len);
        free(text);
    }
    json_decref(doc);
    node_dir_close(&d);
    return rc;
}

/* ---- figures ---- */

struct s_fig {
    long long auth, act;
    size_t units;
};

static long long
s_int(const json_t *v)
{
    return v == NULL ? 0 : (long long)json_number_value(v);
}

static void
s_personnel(const json_t *a, struct s_fig *f)
{
    const json_t *u;
    size_t i;

    memset(f, 0, sizeof(*f));
    json_array_foreach(json_object_get(a, "units"), i, u)
    {
        f->auth += s_int(json_object_get(u, "authorised"));
        f->act += s_int(json_object_get(u, "actual"));
        f->units++;
    }
}

static long long
s_hold(const json_t *a, const char *reg, const char *cat)
{
    return s_int(json_object_get(
        json_object_get(json_object_get(a, "holdings"), reg), cat));
}

/* A budget cell (or, col NULL, a row's total) in 1/10,000 units; *has
 * tells whether anything was reported. */
static int64_t
s_cell(const json_t *a, const char *row, const char *col, bool *has)
{
    const json_t *b = json_object_get(a, "budget"), *r, *v;
    int mu = (int)s_int(json_object_get(b, "minor_unit"));
    int64_t sum = 0;
    size_t i;

    *has = false;
    r = json_object_get(json_object_get(b, "matrix"), row);
    if (r == NULL)
        return 0;
    for (i = 0; ewh_sf_cols[i] != NULL; i++) {
        if (col != NULL && strcmp(col, ewh_sf_cols[i]) != 0)
            continue;
        if ((v = json_object_get(r, ewh_sf_cols[i])) != NULL) {
            *has = true;
            sum += ewh_sf_money(v, mu);
        }
    }
    return sum;
}

static const char *
s_money(int64_t x, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s%lld.%02lld", x < 0 ? "-" : "",
             (long long)((x < 0 ? -x : x) / 10000),
             (long long)(((x < 0 ? -x : x) % 10000) / 100));
    return buf;
}

static const char *
s_cur(const json_t *a)
{
    const json_t *c = json_object_get(json_object_get(a, "budget"), "currency");

    return json_is_string(c) ? json_string_value(c) : "";
}

static const char *
s_str(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);

    return json_is_string(v) ? json_string_value(v) : "";
}

static int
s_open(struct s_opts *o, struct node_dir *d, struct node_returns *rs,
       struct ewh_err *err)
{
    size_t bad = 0;

    if (node_dir_open(d, node_dir_default(o->dir), false, err) != 0)
        return -1;
    if (node_exchange_collect(d, rs, &bad, err) != 0) {
        node_dir_close(d);
        return -1;
    }
    if (bad > 0)
        fprintf(stderr,
                "ewnode exchange: %zu stored return%s left out: not valid "
                "against %s, or not the origin's own\n",
                bad, bad == 1 ? "" : "s", EWH_SF_SCHEMA);
    return 0;
}

static const struct node_return *
s_need(const struct node_returns *rs, const char *cc, const char *year,
       struct ewh_err *err)
{
    const struct node_return *r;
    unsigned y = 0;

    if (s_year(year, &y, err) != 0)
        return NULL;
    if ((r = node_exchange_find(rs, cc, y)) == NULL)
        ewh_err_set(err, EWH_E_NOTFOUND,
                    "no %u return from %.8s held (see `ewnode exchange list`)",
                    y, cc);
    return r;
}

static int
s_cmd_list(struct s_opts *o, struct ewh_err *err)
{
    struct node_dir d = {0};
    struct node_returns rs;
    size_t i;

    if (s_open(o, &d, &rs, err) != 0)
        return -1;
    if (o->json) {
        json_t *arr = json_array();
        char *s;
        for (i = 0; i < rs.n; i++) {
            json_t *e = json_object();
            json_object_set_new(e, "country", json_string(rs.r[i].origin));
            json_object_set_new(e, "year", json_integer(rs.r[i].year));
            json_object_set_new(e, "date",
                                json_string(s_str(rs.r[i].doc, "date")));
            json_object_set_new(e, "id", json_string(rs.r[i].id));
            json_object_set_new(e, "sent", json_boolean(rs.r[i].outgoing));
            json_object_set_new(e, "replaced", json_integer(rs.r[i].replaced));
            json_object_set_new(e, "agencies",
                                json_integer(json_array_size(
                                    json_object_get(rs.r[i].doc, "agencies"))));
            json_array_append_new(arr, e);
        }
        s = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s\n", s);
        free(s);
        json_decref(arr);
    } else {
        printf("%-3s %-5s %-10s %-9s %-8s %s\n", "CC", "YEAR", "DATE", "",
               "AGENCIES", "ID");
        for (i = 0; i < rs.n; i++)
            printf("%-3s %-5u %-10s %-9s %-8zu %s%s\n", rs.r[i].origin,
                   rs.r[i].year, s_str(rs.r[i].doc, "date"),
                   rs.r[i].outgoing ? "sent" : "received",
                   json_array_size(json_object_get(rs.r[i].doc, "agencies")),
                   rs.r[i].id, rs.r[i].replaced ? " (replaces earlier)" : "");
    }
    node_exchange_free(&rs);
    node_dir_close(&d);
    return 0;
}

static int
s_cmd_show(struct s_opts *o, struct ewh_err *err)
{
    struct node_dir d = {0};
    struct node_returns rs;
    const struct node_return *r;
    const json_t *a;
    char b1[48];
    size_t i, k;
    int rc = -1;

    if (o->nargs != 2)
        return ewh_err_set(err, EWH_E_INVALID, "show CC YEAR");
    if (s_open(o, &d, &rs, err) != 0)
        return -1;
    if ((r = s_need(&rs, o->args[0], o->args[1], err)) == NULL)
        goto out;
    if (o->json) {
        char *s = json_dumps(r->doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s\n", s);
        free(s);
        rc = 0;
        goto out;
    }
    printf("security forces return %s %u, dated %s (%s, id %s)\n", r->origin,
           r->year, s_str(r->doc, "date"), r->outgoing ? "sent" : "received",
           r->id);
    json_array_foreach(json_object_get(r->doc, "agencies"), i, a)
    {
        struct s_fig f;
        s_personnel(a, &f);
        printf("\n%s (%s)\n", s_str(a, "name"), s_str(a, "type"));
        printf("  personnel: %zu units, authorised %lld, actual %lld\n",
               f.units, f.auth, f.act);
        for (k = 0; ewh_sf_unreg[k] != NULL; k++)
            if (json_object_get(json_object_get(json_object_get(a, "holdings"),
                                                "un_register"),
                                ewh_sf_unreg[k]) != NULL)
                printf("  %-4s %-32s %lld\n", ewh_sf_unreg[k],
                       ewh_sf_unreg_help[k],
                       s_hold(a, "un_register", ewh_sf_unreg[k]));
        for (k = 0; ewh_sf_salw[k] != NULL; k++)
            if (json_object_get(
                    json_object_get(json_object_get(a, "holdings"), "salw"),
                    ewh_sf_salw[k]) != NULL)
                printf("  SALW %-32s %lld\n", ewh_sf_salw[k],
                       s_hold(a, "salw", ewh_sf_salw[k]));
        for (k = 0; ewh_sf_rows[k] != NULL; k++) {
            bool has;
            int64_t x = s_cell(a, ewh_sf_rows[k], NULL, &has);
            if (has)
                printf("  budget %-26s %s %s\n", ewh_sf_rows[k], s_cur(a),
                       s_money(x, b1, sizeof(b1)));
        }
    }
    rc = 0;
out:
    node_exchange_free(&rs);
    node_dir_close(&d);
    return rc;
}

static const json_t *
s_agency(const json_t *doc, const char *name)
{
    const json_t *a;
    size_t i;

    json_array_foreach(json_object_get(doc, "agencies"), i, a)
    {
        if (strcmp(s_str(a, "name"), name) == 0)
            return a;
    }
    return NULL;
}

static const json_t *
s_unit(const json_t *a, const char *des)
{
    const json_t *u;
    size_t i;

    json_array_foreach(json_object_get(a, "units"), i, u)
    {
        if (strcmp(s_str(u, "designation"), des) == 0)
            return u;
    }
    return NULL;
}

static void
s_delta(const char *what, long long x, long long y, size_t *n)
{
    if (x == y)
        return;
    printf("  %-40s %lld -> %lld (%+lld)\n", what, x, y, y - x);
    (*n)++;
}

static size_t
s_compare_agency(const json_t *a, const json_t *b)
{
    static const char *const regs[] = {"un_register", "salw"};
    const char *const *lists[] = {ewh_sf_unreg, ewh_sf_salw};
    struct s_fig fa, fb;
    const json_t *u;
    char what[128], m1[48], m2[48];
    size_t n = 0, i, k, r;

    if (strcmp(s_str(a, "type"), s_str(b, "type")) != 0) {
        printf("  type %s -> %s\n", s_str(a, "type"), s_str(b, "type"));
        n++;
    }
    s_personnel(a, &fa);
    s_personnel(b, &fb);
    s_delta("units", (long long)fa.units, (long long)fb.units, &n);
    s_delta("personnel authorised", fa.auth, fb.auth, &n);
    s_delta("personnel actual", fa.act, fb.act, &n);
    json_array_foreach(json_object_get(b, "units"), i, u)
    {
        const json_t *old = s_unit(a, s_str(u, "designation"));
        if (old == NULL) {
            printf("  unit %s: new (%s, %s; authorised %lld, actual %lld)\n",
                   s_str(u, "designation"), s_str(u, "subordination"),
                   s_str(u, "location"),
                   s_int(json_object_get(u, "authorised")),
                   s_int(json_object_get(u, "actual")));
            n++;
            continue;
        }
        if (strcmp(s_str(old, "location"), s_str(u, "location")) != 0) {
            printf("  unit %s: moved %s -> %s\n", s_str(u, "designation"),
                   s_str(old, "location"), s_str(u, "location"));
            n++;
        }
        if (strcmp(s_str(old, "subordination"), s_str(u, "subordination")) !=
            0) {
            printf("  unit %s: now under %s (was %s)\n",
                   s_str(u, "designation"), s_str(u, "subordination"),
                   s_str(old, "subordination"));
            n++;
        }
        snprintf(what, sizeof(what), "unit %s authorised",
                 s_str(u, "designation"));
        s_delta(what, s_int(json_object_get(old, "authorised")),
                s_int(json_object_get(u, "authorised")), &n);
        snprintf(what, sizeof(what), "unit %s actual", s_str(u, "designation"));
        s_delta(what, s_int(json_object_get(old, "actual")),
                s_int(json_object_get(u, "actual")), &n);
    }
    json_array_foreach(json_object_get(a, "units"), i, u)
    {
        if (s_unit(b, s_str(u, "designation")) == NULL) {
            printf("  unit %s: gone\n", s_str(u, "designation"));
            n++;
        }
    }
    for (r = 0; r < 2; r++)
        for (k = 0; lists[r][k] != NULL; k++) {
            snprintf(what, sizeof(what), "%s %s%s%s",
                     r == 0 ? "category" : "SALW", lists[r][k],
                     r == 0 ? " " : "", r == 0 ? ewh_sf_unreg_help[k] : "");
            s_delta(what, s_hold(a, regs[r], lists[r][k]),
                    s_hold(b, regs[r], lists[r][k]), &n);
        }
    if (strcmp(s_cur(a), s_cur(b)) != 0) {
        printf("  budget currency %s -> %s (figures not comparable)\n",
               s_cur(a), s_cur(b));
        return n + 1;
    }
    for (r = 0; ewh_sf_rows[r] != NULL; r++)
        for (k = 0; ewh_sf_cols[k] != NULL; k++) {
            bool ha, hb;
            int64_t x = s_cell(a, ewh_sf_rows[r], ewh_sf_cols[k], &ha);
            int64_t y = s_cell(b, ewh_sf_rows[r], ewh_sf_cols[k], &hb);
            if (x == y && ha == hb)
                continue;
            printf("  budget %s/%s: %s -> %s %s (%s%s)\n", ewh_sf_rows[r],
                   ewh_sf_cols[k], ha ? s_money(x, m1, sizeof(m1)) : "-",
                   hb ? s_money(y, m2, sizeof(m2)) : "-", s_cur(b),
                   y - x >= 0 ? "+" : "", s_money(y - x, what, sizeof(what)));
            n++;
        }
    return n;
}

static int
s_cmd_compare(struct s_opts *o, struct ewh_err *err)
{
    struct node_dir d = {0};
    struct node_returns rs;
    const struct node_return *r1, *r2;
    const json_t *a;
    size_t i, n = 0;
    int rc = -1;

    if (o->nargs != 3)
        return ewh_err_set(err, EWH_E_INVALID, "compare CC YEAR1 YEAR2");
    if (s_open(o, &d, &rs, err) != 0)
        return -1;
    if ((r1 = s_need(&rs, o->args[0], o->args[1], err)) == NULL ||
        (r2 = s_need(&rs, o->args[0], o->args[2], err)) == NULL)
        goto out;
    printf("%s: %u -> %u\n", r1->origin, r1->year, r2->year);
    json_array_foreach(json_object_get(r2->doc, "agencies"), i, a)
    {
        const json_t *old = s_agency(r1->doc, s_str(a, "name"));
        printf("%s (%s)%s\n", s_str(a, "name"), s_str(a, "type"),
               old == NULL ? ": new agency" : "");
        if (old == NULL) {
            n++;
            continue;
        }
        if (s_compare_agency(old, a) == 0)
            printf("  no change\n");
        else
            n++;
    }
    json_array_foreach(json_object_get(r1->doc, "agencies"), i, a)
    {
        if (s_agency(r2->doc, s_str(a, "name")) == NULL) {
            printf("%s (%s): no longer reported\n", s_str(a, "name"),
                   s_str(a, "type"));
            n++;
        }
    }
    if (n == 0)
        printf("no change\n");
    rc = 0;
out:
    node_exchange_free(&rs);
    node_dir_close(&d);
    return rc;
}

static int
s_cmd_table(struct s_opts *o, struct ewh_err *err)
{
    struct node_dir d = {0};
    struct node_returns rs;
    const struct node_return *col[EWH_MAX_ROSTER_ENTRIES];
    const char *sec = o->section;
    size_t nc = 0, i, k, t, r;
    unsigned year = 0;
    char b1[48], cell[64];
    const json_t *a;
    int rc = -1;

    if (o->nargs != 1)
        return ewh_err_set(err, EWH_E_INVALID, "table YEAR");
    if (s_year(o->args[0], &year, err) != 0)
        return -1;
    if (sec != NULL && strcmp(sec, "personnel") != 0 &&
        strcmp(sec, "holdings") != 0 && strcmp(sec, "budget") != 0)
        return ewh_err_set(err, EWH_E_INVALID,
                           "--section personnel, holdings or budget");
    if (s_open(o, &d, &rs, err) != 0)
        return -1;
    for (i = 0; i < rs.n && nc < EWH_MAX_ROSTER_ENTRIES; i++)
        if (rs.r[i].year == year)
            col[nc++] = &rs.r[i];
    if (nc == 0) {
        ewh_err_set(err, EWH_E_NOTFOUND, "no %u return held", year);
        goto out;
    }
    printf("%-44s", "");
    for (i = 0; i < nc; i++)
        printf(" %20s", col[i]->origin);
    printf("\n");
#define S_ROW(label, ...)                                                      \
    do {                                                                       \
        printf("%-44.44s", label);                                             \
        for (i = 0; i < nc; i++) {                                             \
            const json_t *doc = col[i]->doc;                                   \
            (void)doc;                                                         \
            __VA_ARGS__;                                                       \
            printf(" %20s", cell);                                             \
        }                                                                      \
        printf("\n");                                                          \
    } while (0)
    if (sec == NULL || strcmp(sec, "personnel") == 0) {
        printf("personnel\n");
        for (t = 0; ewh_sf_agency_types[t] != NULL; t++) {
            char lbl[64];
            int which;
            for (which = 0; which < 2; which++) {
                snprintf(lbl, sizeof(lbl), "  %s %s", ewh_sf_agency_types[t],
                         which ? "actual" : "authorised");
                S_ROW(lbl, {
                    long long s = 0;
                    bool any = false;
                    json_array_foreach(json_object_get(doc, "agencies"), k, a)
                    {
                        struct s_fig f;
                        if (strcmp(s_str(a, "type"), ewh_sf_agency_types[t]))
                            continue;
                        s_personnel(a, &f);
                        s += which ? f.act : f.auth;
                        any = true;
                    }
                    snprintf(cell, sizeof(cell), any ? "%lld" : "-", s);
                });
            }
        }
        S_ROW("  total authorised", {
            long long s = 0;
            json_array_foreach(json_object_get(doc, "agencies"), k, a)
            {
                struct s_fig f;
                s_personnel(a, &f);
                s += f.auth;
            }
            snprintf(cell, sizeof(cell), "%lld", s);
        });
        S_ROW("  total actual", {
            long long s = 0;
            json_array_foreach(json_object_get(doc, "agencies"), k, a)
            {
                struct s_fig f;
                s_personnel(a, &f);
                s += f.act;
            }
            snprintf(cell, sizeof(cell), "%lld", s);
        });
    }
    if (sec == NULL || strcmp(sec, "holdings") == 0) {
        printf("holdings (all agencies)\n");
        for (r = 0; r < 2; r++) {
            const char *const *list = r == 0 ? ewh_sf_unreg : ewh_sf_salw;
            const char *reg = r == 0 ? "un_register" : "salw";
            for (t = 0; list[t] != NULL; t++) {
                char lbl[80];
                snprintf(lbl, sizeof(lbl), "  %s %s", r == 0 ? list[t] : "SALW",
                         r == 0 ? ewh_sf_unreg_help[t] : list[t]);
                S_ROW(lbl, {
                    long long s = 0;
                    json_array_foreach(json_object_get(doc, "agencies"), k, a)
                        s += s_hold(a, reg, list[t]);
                    snprintf(cell, sizeof(cell), "%lld", s);
                });
            }
        }
    }
    if (sec == NULL || strcmp(sec, "budget") == 0) {
        printf("budget (all agencies, each in its own currency)\n");
        for (r = 0; ewh_sf_rows[r] != NULL; r++) {
            char lbl[64];
            snprintf(lbl, sizeof(lbl), "  %s", ewh_sf_rows[r]);
            S_ROW(lbl, {
                int64_t s = 0;
                const char *cur = "";
                bool mixed = false, has;
                json_array_foreach(json_object_get(doc, "agencies"), k, a)
                {
                    int64_t x = s_cell(a, ewh_sf_rows[r], NULL, &has);
                    if (!has)
                        continue;
                    if (cur[0] && strcmp(cur, s_cur(a)) != 0)
                        mixed = true;
                    cur = s_cur(a);
                    s += x;
                }
                if (mixed)
                    snprintf(cell, sizeof(cell), "mixed currencies");
                else if (cur[0] == '\0')
                    snprintf(cell, sizeof(cell), "-");
                else
                    snprintf(cell, sizeof(cell), "%s %s", cur,
                             s_money(s, b1, sizeof(b1)));
            });
        }
    }
#undef S_ROW
    rc = 0;
out:
    node_exchange_free(&rs);
    node_dir_close(&d);
    return rc;
}

static int
s_cmd_export(struct s_opts *o, struct ewh_err *err)
{
    struct node_dir d = {0};
    struct node_returns rs;
    const struct node_return *r;
    FILE *f = NULL;
    int rc = -1;

    if (o->nargs != 2)
        return ewh_err_set(err, EWH_E_INVALID, "export CC YEAR");
    if (o->format != NULL && strcmp(o->format, "json") != 0 &&
        strcmp(o->format, "csv") != 0)
        return ewh_err_set(err, EWH_E_INVALID, "--format json or csv");
    if (s_open(o, &d, &rs, err) != 0)
        return -1;
    if ((r = s_need(&rs, o->args[0], o->args[1], err)) == NULL)
        goto out;
    if ((f = s_out(o->out, err)) == NULL)
        goto out;
    if (o->format != NULL && strcmp(o->format, "csv") == 0)
        rc = node_exchange_to_csv(r->doc, f, err);
    else {
        char *s = json_dumps(r->doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fprintf(f, "%s\n", s);
        free(s);
        rc = 0;
    }
    if (f != stdout && fclose(f) != 0)
        rc = ewh_err_set(err, EWH_E_IO, "%s: write failed", o->out);
out:
    node_exchange_free(&rs);
    node_dir_close(&d);
    return rc;
}

static int
s_cmd_remind(struct s_opts *o, struct ewh_err *err)
{
    struct node_dir d = {0};

    if (node_dir_open(&d, node_dir_default(o->dir), false, err) != 0)
        return -1;
    if (node_exchange_remind(&d, ewh_now(), stdout) == 0)
        printf("no reminder: every country's return for this year is held, "
               "or the due date (%s) is more than %u days away\n",
               d.cfg.exchange_due, d.cfg.exchange_remind_days);
    node_dir_close(&d);
    return 0;
}

int
node_cmd_exchange(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(struct s_opts *, struct ewh_err *);
    } cmds[] = {{"template", s_cmd_template}, {"import", s_cmd_import},
                {"validate", s_cmd_validate}, {"submit", s_cmd_submit},
                {"list", s_cmd_list},         {"show", s_cmd_show},
                {"compare", s_cmd_compare},   {"table", s_cmd_table},
                {"export", s_cmd_export},     {"remind", s_cmd_remind}};
    struct ewh_err err = {0};
    struct s_opts o;
    size_t i;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        fputs(s_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        if (strcmp(argv[1], cmds[i].name) == 0)
            break;
    if (i == sizeof(cmds) / sizeof(cmds[0])) {
        fprintf(stderr, "ewnode exchange: unknown command '%s'\n%s", argv[1],
                s_usage);
        return 2;
    }
    if (s_parse(argc - 1, argv + 1, &o) != 0) {
        fputs(s_usage, stderr);
        return 2;
    }
    if (cmds[i].fn(&o, &err) != 0)
        return node_cmd_fail("exchange", &err);
    return 0;
}
