/* exchange_csv.c — a return in the CSV layout of docs/exchange.md, read
 * with libcsv and written with csv_fwrite (no hand-made quoting). */
#include "exchange.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "ewh/limits.h"

#define S_MAX_FIELDS EWH_MAX_RETURN_CSV_FIELDS
#define S_MAX_CELL   EWH_MAX_RETURN_CSV_CELL

struct s_row {
    char *f[S_MAX_FIELDS];
    size_t n;
    size_t no; /* record number, 1-based */
};

struct s_parse {
    struct s_row *rows;
    size_t n, cap;
    struct s_row cur;
    size_t recno;
    int failed; /* 1: too many fields, 2: cell too long, 3: no memory */
};

static void
s_field(void *s, size_t len, void *data)
{
    struct s_parse *p = data;
    char *c;

    if (p->failed)
        return;
    if (p->cur.n == S_MAX_FIELDS) {
        p->failed = 1;
        return;
    }
    if (len > S_MAX_CELL) {
        p->failed = 2;
        return;
    }
    if ((c = malloc(len + 1)) == NULL) {
        p->failed = 3;
        return;
    }
    memcpy(c, s != NULL ? s : "", s != NULL ? len : 0);
    c[s != NULL ? len : 0] = '\0';
    p->cur.f[p->cur.n++] = c;
}

static void
s_row_free(struct s_row *r)
{
    size_t i;

    for (i = 0; i < r->n; i++)
        free(r->f[i]);
    r->n = 0;
}

static void
s_record(int c, void *data)
{
    struct s_parse *p = data;
    size_t i;
    bool blank = true;

    (void)c;
    p->recno++;
    for (i = 0; i < p->cur.n; i++)
        if (p->cur.f[i][0] != '\0')
            blank = false;
    if (p->failed || blank) {
        s_row_free(&p->cur);
        return;
    }
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 64;
        struct s_row *nr = realloc(p->rows, nc * sizeof(*nr));
        if (nr == NULL) {
            p->failed = 3;
            s_row_free(&p->cur);
            return;
        }
        p->rows = nr;
        p->cap = nc;
    }
    p->cur.no = p->recno;
    p->rows[p->n++] = p->cur;
    memset(&p->cur, 0, sizeof(p->cur));
}

static void
s_parse_free(struct s_parse *p)
{
    size_t i;

    for (i = 0; i < p->n; i++)
        s_row_free(&p->rows[i]);
    free(p->rows);
    s_row_free(&p->cur);
}

/* A count cell: an integer if it is one, a number if it parses as one (the
 * validator then refuses a fraction), else the text (refused too). */
static json_t *
s_number(const char *s)
{
    char *end;
    long long v;
    double d;

    if (s[0] == '\0')
        return NULL;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (*end == '\0' && errno == 0)
        return json_integer(v);
    errno = 0;
    d = strtod(s, &end);
    if (*end == '\0' && errno == 0)
        return json_real(d);
    return json_string(s);
}

static int
s_col(const struct s_row *hdr, const char *name)
{
    size_t i;

    for (i = 0; i < hdr->n; i++)
        if (strcmp(hdr->f[i], name) == 0)
            return (int)i;
    return -1;
}

static const char *
s_cell(const struct s_row *r, int col)
{
    return col >= 0 && (size_t)col < r->n ? r->f[col] : "";
}

static json_t *
s_agency(json_t *ret, const char *name)
{
    json_t *ag = json_object_get(ret, "agencies"), *a;
    size_t i;

    json_array_foreach(ag, i, a)
    {
        json_t *n = json_object_get(a, "name");
        if (json_is_string(n) && strcmp(json_string_value(n), name) == 0)
            return a;
    }
    return NULL;
}

/* The columns each section allows; the first ones up to the NULL in req
 * are required. */
struct s_section {
    const char *name;
    const char *const *cols;
    size_t n_req;
};

static const char *const s_c_return[] = {"country", "year", "date", "notes",
                                         NULL};
static const char *const s_c_agencies[] = {"agency", "type", "notes", NULL};
static const char *const s_c_units[] = {
    "agency", "designation", "subordination", "location", "authorised",
    "actual", NULL};
static const char *const s_c_holdings[] = {"agency", "register", "category",
                                           "count", NULL};
static const struct s_section s_sections[] = {
    {"return", s_c_return, 3}, {"agencies", s_c_agencies, 2},
    {"units", s_c_units, 6},   {"holdings", s_c_holdings, 4},
    {"budget", NULL, 4}, /* agency, currency, minor_unit, row + columns */
};

static bool
s_budget_col(const char *c)
{
    static const char *const fixed[] = {"agency", "currency", "minor_unit",
                                        "row", NULL};
    size_t i;

    for (i = 0; fixed[i] != NULL; i++)
        if (strcmp(c, fixed[i]) == 0)
            return true;
    for (i = 0; ewh_sf_cols[i] != NULL; i++)
        if (strcmp(c, ewh_sf_cols[i]) == 0)
            return true;
    return false;
}

static int
s_check_header(const struct s_section *s, const struct s_row *h,
               struct ewh_err *err)
{
    static const char *const breq[] = {"agency", "currency", "minor_unit",
                                       "row", NULL};
    const char *const *req = s->cols != NULL ? s->cols : breq;
    size_t i, j;

    for (i = 0; i < h->n; i++) {
        bool ok = false;
        if (s->cols == NULL)
            ok = s_budget_col(h->f[i]);
        else
            for (j = 0; s->cols[j] != NULL; j++)
                if (strcmp(h->f[i], s->cols[j]) == 0)
                    ok = true;
        if (!ok)
            return ewh_err_set(err, EWH_E_INVALID,
                               "CSV record %zu: section %s has no column "
                               "\"%.40s\"",
                               h->no, s->name, h->f[i]);
        for (j = 0; j < i; j++)
            if (strcmp(h->f[i], h->f[j]) == 0)
                return ewh_err_set(err, EWH_E_INVALID,
                                   "CSV record %zu: column \"%.40s\" twice",
                                   h->no, h->f[i]);
    }
    for (i = 0; i < s->n_req; i++)
        if (s_col(h, req[i]) < 0)
            return ewh_err_set(err, EWH_E_INVALID,
                               "CSV record %zu: section %s needs a column "
                               "\"%s\"",
                               h->no, s->name, req[i]);
    return 0;
}

static void
s_set(json_t *o, const char *key, json_t *v)
{
    if (v != NULL)
        json_object_set_new(o, key, v);
}

static json_t *
s_str(const char *s)
{
    return s[0] != '\0' ? json_string(s) : NULL;
}

static int
s_data(const struct s_section *s, const struct s_row *h, const struct s_row *r,
       json_t *ret, bool *have_return, struct ewh_err *err)
{
    json_t *a = NULL, *o;
    const char *an;
    size_t i;

    if (strcmp(s->name, "return") == 0) {
        if (*have_return)
            return ewh_err_set(err, EWH_E_INVALID,
                               "CSV record %zu: section return has one row",
                               r->no);
        *have_return = true;
        s_set(ret, "country", s_str(s_cell(r, s_col(h, "country"))));
        s_set(ret, "year", s_number(s_cell(r, s_col(h, "year"))));
        s_set(ret, "date", s_str(s_cell(r, s_col(h, "date"))));
        s_set(ret, "notes", s_str(s_cell(r, s_col(h, "notes"))));
        return 0;
    }
    an = s_cell(r, s_col(h, "agency"));
    if (an[0] == '\0')
        return ewh_err_set(err, EWH_E_INVALID,
                           "CSV record %zu: the agency column is empty", r->no);
    a = s_agency(ret, an);
    if (strcmp(s->name, "agencies") == 0) {
        if (a != NULL)
            return ewh_err_set(err, EWH_E_INVALID,
                               "CSV record %zu: agency \"%.60s\" listed twice",
                               r->no, an);
        o = json_object();
        s_set(o, "name", json_string(an));
        s_set(o, "type", s_str(s_cell(r, s_col(h, "type"))));
        json_object_set_new(o, "units", json_array());
        json_object_set_new(o, "holdings", json_object());
        s_set(o, "notes", s_str(s_cell(r, s_col(h, "notes"))));
        json_array_append_new(json_object_get(ret, "agencies"), o);
        return 0;
    }
    if (a == NULL)
        return ewh_err_set(err, EWH_E_INVALID,
                           "CSV record %zu: agency \"%.60s\" is not in the "
                           "agencies section above",
                           r->no, an);
    if (strcmp(s->name, "units") == 0) {
        o = json_object();
        s_set(o, "designation", s_str(s_cell(r, s_col(h, "designation"))));
        s_set(o, "subordination", s_str(s_cell(r, s_col(h, "subordination"))));
        s_set(o, "location", s_str(s_cell(r, s_col(h, "location"))));
        s_set(o, "authorised", s_number(s_cell(r, s_col(h, "authorised"))));
        s_set(o, "actual", s_number(s_cell(r, s_col(h, "actual"))));
        json_array_append_new(json_object_get(a, "units"), o);
        return 0;
    }
    if (strcmp(s->name, "holdings") == 0) {
        const char *reg = s_cell(r, s_col(h, "register"));
        const char *cat = s_cell(r, s_col(h, "category"));
        json_t *hold = json_object_get(a, "holdings"), *m;
        if (reg[0] == '\0' || cat[0] == '\0')
            return ewh_err_set(err, EWH_E_INVALID,
                               "CSV record %zu: register and category are "
                               "needed",
                               r->no);
        if ((m = json_object_get(hold, reg)) == NULL) {
            m = json_object();
            json_object_set_new(hold, reg, m);
        }
        if (json_object_get(m, cat) != NULL)
            return ewh_err_set(err, EWH_E_INVALID,
                               "CSV record %zu: %.20s %.40s given twice for "
                               "\"%.60s\"",
                               r->no, reg, cat, an);
        o = s_number(s_cell(r, s_col(h, "count")));
        json_object_set_new(m, cat, o != NULL ? o : json_null());
        return 0;
    }
    /* budget */
    {
        json_t *b = json_object_get(a, "budget"), *mx, *row;
        const char *cur = s_cell(r, s_col(h, "currency"));
        const char *mu = s_cell(r, s_col(h, "minor_unit"));
        const char *rn = s_cell(r, s_col(h, "row"));
        if (b == NULL) {
            b = json_object();
            s_set(b, "currency", s_str(cur));
            s_set(b, "minor_unit", s_number(mu));
            json_object_set_new(b, "matrix", json_object());
            json_object_set_new(a, "budget", b);
        } else if (!json_is_string(json_object_get(b, "currency")) ||
                   strcmp(json_string_value(json_object_get(b, "currency")),
                          cur) != 0)
            return ewh_err_set(err, EWH_E_INVALID,
                               "CSV record %zu: one currency per agency",
                               r->no);
        if (rn[0] == '\0')
            return ewh_err_set(err, EWH_E_INVALID,
                               "CSV record %zu: the row column is empty",
                               r->no);
        mx = json_object_get(b, "matrix");
        if (json_object_get(mx, rn) != NULL)
            return ewh_err_set(err, EWH_E_INVALID,
                               "CSV record %zu: budget row %.40s given twice "
                               "for \"%.60s\"",
                               r->no, rn, an);
        row = json_object();
        for (i = 0; i < h->n; i++) {
            const char *c = h->f[i];
            if (strcmp(c, "agency") == 0 || strcmp(c, "currency") == 0 ||
                strcmp(c, "minor_unit") == 0 || strcmp(c, "row") == 0)
                continue;
            /* A spreadsheet's amount is a decimal of the major unit. */
            s_set(row, c, s_str(s_cell(r, (int)i)));
        }
        json_object_set_new(mx, rn, row);
    }
    return 0;
}

int
node_exchange_from_csv(const char *csv, size_t len, json_t **out,
                       struct ewh_err *err)
{
    struct csv_parser cp;
    struct s_parse p;
    const struct s_section *sec = NULL;
    const struct s_row *hdr = NULL;
    json_t *ret = NULL;
    bool have_return = false;
    size_t i, k;
    int rc = -1;

    memset(&p, 0, sizeof(p));
    if (len > EWH_MAX_RETURN_CSV_BYTES)
        return ewh_err_set(err, EWH_E_TOOBIG,
                           "CSV of %zu bytes > EWH_MAX_RETURN_CSV_BYTES %u",
                           len, EWH_MAX_RETURN_CSV_BYTES);
    /* A spreadsheet's "CSV UTF-8" starts with a byte order mark. */
    if (len >= 3 && memcmp(csv, "\xef\xbb\xbf", 3) == 0) {
        csv += 3;
        len -= 3;
    }
    if (csv_init(&cp, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
        return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
    if (csv_parse(&cp, csv, len, s_field, s_record, &p) != len ||
        csv_fini(&cp, s_field, s_record, &p) != 0) {
        ewh_err_set(err, EWH_E_INVALID, "CSV: %s near record %zu",
                    csv_strerror(csv_error(&cp)), p.recno + 1);
        goto out;
    }
    if (p.failed) {
        ewh_err_set(err, p.failed == 3 ? EWH_E_NOMEM : EWH_E_TOOBIG,
                    p.failed == 1
                        ? "CSV: more than EWH_MAX_RETURN_CSV_FIELDS %u cells "
                          "in a record"
                    : p.failed == 2
                        ? "CSV: a cell longer than EWH_MAX_RETURN_CSV_CELL %u "
                          "bytes"
                        : "out of memory%.0u",
                    p.failed == 1 ? S_MAX_FIELDS : S_MAX_CELL);
        goto out;
    }
    ret = json_object();
    json_object_set_new(ret, "schema", json_string(EWH_SF_SCHEMA));
    json_object_set_new(ret, "agencies", json_array());
    for (i = 0; i < p.n; i++) {
        const struct s_row *r = &p.rows[i];
        if (strncmp(r->f[0], "#section", 8) == 0) {
            const char *name = r->f[0] + 8;
            name += strspn(name, " \t");
            sec = NULL;
            for (k = 0; k < sizeof(s_sections) / sizeof(s_sections[0]); k++)
                if (strcmp(s_sections[k].name, name) == 0)
                    sec = &s_sections[k];
            if (sec == NULL) {
                ewh_err_set(err, EWH_E_INVALID,
                            "CSV record %zu: unknown section \"%.40s\" "
                            "(return, agencies, units, holdings, budget)",
                            r->no, name);
                goto out;
            }
            hdr = NULL;
            continue;
        }
        if (r->f[0][0] == '#')
            continue; /* a comment */
        if (sec == NULL) {
            ewh_err_set(err, EWH_E_INVALID,
                        "CSV record %zu: data before the first \"#section\" "
                        "line",
                        r->no);
            goto out;
        }
        if (hdr == NULL) {
            if (s_check_header(sec, r, err) != 0)
                goto out;
            hdr = r;
            continue;
        }
        if (r->n > hdr->n) {
            ewh_err_set(err, EWH_E_INVALID,
                        "CSV record %zu: %zu cells but %zu columns", r->no,
                        r->n, hdr->n);
            goto out;
        }
        if (s_data(sec, hdr, r, ret, &have_return, err) != 0)
            goto out;
    }
    if (!have_return) {
        ewh_err_set(err, EWH_E_INVALID,
                    "CSV: no \"#section return\" with country, year, date");
        goto out;
    }
    {
        /* agencies last, after the return's own fields */
        json_t *ag = json_incref(json_object_get(ret, "agencies"));
        json_object_del(ret, "agencies");
        json_object_set_new(ret, "agencies", ag);
    }
    *out = ret;
    ret = NULL;
    rc = 0;
out:
    json_decref(ret);
    csv_free(&cp);
    s_parse_free(&p);
    return rc;
}

/* ---- writing ---- */

static void
s_w(FILE *f, const char *s, bool last)
{
    csv_fwrite(f, s, strlen(s));
    fputc(last ? '\n' : ',', f);
}

static void
s_wint(FILE *f, const json_t *v, bool last)
{
    char b[32] = "";

    if (json_is_integer(v))
        snprintf(b, sizeof(b), "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(b, sizeof(b), "%.0f", json_real_value(v));
    s_w(f, b, last);
}

static const char *
s_sv(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);

    return json_is_string(v) ? json_string_value(v) : "";
}

int
node_exchange_to_csv(const json_t *ret, FILE *f, struct ewh_err *err)
{
    const json_t *ags = json_object_get(ret, "agencies"), *a, *u;
    size_t i, j, k;

    (void)err;
    fprintf(f, "#section return\n");
    s_w(f, "country", false);
    s_w(f, "year", false);
    s_w(f, "date", false);
    s_w(f, "notes", true);
    s_w(f, s_sv(ret, "country"), false);
    s_wint(f, json_object_get(ret, "year"), false);
    s_w(f, s_sv(ret, "date"), false);
    s_w(f, s_sv(ret, "notes"), true);

    fprintf(f, "#section agencies\n");
    s_w(f, "agency", false);
    s_w(f, "type", false);
    s_w(f, "notes", true);
    json_array_foreach(ags, i, a)
    {
        s_w(f, s_sv(a, "name"), false);
        s_w(f, s_sv(a, "type"), false);
        s_w(f, s_sv(a, "notes"), true);
    }

    fprintf(f, "#section units\n");
    for (k = 0; s_c_units[k] != NULL; k++)
        s_w(f, s_c_units[k], s_c_units[k + 1] == NULL);
    json_array_foreach(ags, i, a)
    {
        json_array_foreach(json_object_get(a, "units"), j, u)
        {
            s_w(f, s_sv(a, "name"), false);
            s_w(f, s_sv(u, "designation"), false);
            s_w(f, s_sv(u, "subordination"), false);
            s_w(f, s_sv(u, "location"), false);
            s_wint(f, json_object_get(u, "authorised"), false);
            s_wint(f, json_object_get(u, "actual"), true);
        }
    }

    fprintf(f, "#section holdings\n");
    for (k = 0; s_c_holdings[k] != NULL; k++)
        s_w(f, s_c_holdings[k], s_c_holdings[k + 1] == NULL);
    json_array_foreach(ags, i, a)
    {
        static const char *const regs[] = {"un_register", "salw", NULL};
        const json_t *hold = json_object_get(a, "holdings");
        const char *const *lists[] = {ewh_sf_unreg, ewh_sf_salw};
        size_t r;
        for (r = 0; regs[r] != NULL; r++) {
            const json_t *m = json_object_get(hold, regs[r]), *v;
            for (k = 0; m != NULL && lists[r][k] != NULL; k++) {
                if ((v = json_object_get(m, lists[r][k])) == NULL)
                    continue;
                s_w(f, s_sv(a, "name"), false);
                s_w(f, regs[r], false);
                s_w(f, lists[r][k], false);
                s_wint(f, v, true);
            }
        }
    }

    fprintf(f, "#section budget\n");
    s_w(f, "agency", false);
    s_w(f, "currency", false);
    s_w(f, "minor_unit", false);
    s_w(f, "row", false);
    for (k = 0; ewh_sf_cols[k] != NULL; k++)
        s_w(f, ewh_sf_cols[k], ewh_sf_cols[k + 1] == NULL);
    json_array_foreach(ags, i, a)
    {
        const json_t *b = json_object_get(a, "budget"), *mx, *row, *v;
        int mu;
        if (b == NULL)
            continue;
        mu = (int)json_integer_value(json_object_get(b, "minor_unit"));
        mx = json_object_get(b, "matrix");
        for (j = 0; ewh_sf_rows[j] != NULL; j++) {
            if ((row = json_object_get(mx, ewh_sf_rows[j])) == NULL)
                continue;
            s_w(f, s_sv(a, "name"), false);
            s_w(f, s_sv(b, "currency"), false);
            s_wint(f, json_object_get(b, "minor_unit"), false);
            s_w(f, ewh_sf_rows[j], false);
            for (k = 0; ewh_sf_cols[k] != NULL; k++) {
                char cell[48] = "";
                if ((v = json_object_get(row, ewh_sf_cols[k])) != NULL) {
                    int64_t x = ewh_sf_money(v, mu);
                    if (mu > 0) {
                        char frac[8];
                        snprintf(frac, sizeof(frac), "%04lld",
                                 (long long)(x % 10000));
                        frac[mu] = '\0';
                        snprintf(cell, sizeof(cell), "%lld.%s",
                                 (long long)(x / 10000), frac);
                    } else
                        snprintf(cell, sizeof(cell), "%lld",
                                 (long long)(x / 10000));
                }
                s_w(f, cell, ewh_sf_cols[k + 1] == NULL);
            }
        }
    }
    return 0;
}
