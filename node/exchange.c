/* exchange.c — returns held at the node, reading files, the reminder. */
#include "exchange.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "ewh/keyfile.h"

int
node_exchange_read(const char *path, char **text, size_t *len,
                   struct ewh_err *err)
{
    size_t n = strlen(path), cap;
    bool csv = n > 4 && strcmp(path + n - 4, ".csv") == 0;
    char *buf = NULL;
    size_t blen = 0;
    json_t *j = NULL;

    /* One byte over the limit, so that an oversized file is told apart
     * and the validator names the limit. */
    cap = csv ? EWH_MAX_RETURN_CSV_BYTES : EWH_MAX_RETURN_BYTES + 1;
    if (node_cmd_read_file(path, cap, &buf, &blen, err) != 0) {
        if (err->code == EWH_E_TOOBIG && !csv)
            return ewh_err_set(err, EWH_E_TOOBIG,
                               "$: %s is larger than EWH_MAX_RETURN_BYTES %u "
                               "(rule: maxBytes)",
                               path, EWH_MAX_RETURN_BYTES);
        return -1;
    }
    if (!csv) {
        *text = buf;
        *len = blen;
        return 0;
    }
    if (node_exchange_from_csv(buf, blen, &j, err) != 0) {
        free(buf);
        return -1;
    }
    free(buf);
    *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (*text == NULL)
        return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
    *len = strlen(*text);
    return 0;
}

void
node_exchange_print_errors(const struct ewh_sf_result *res, FILE *out)
{
    size_t i;

    for (i = 0; i < res->n; i++)
        fprintf(out, "%s: %s (rule: %s)\n", res->e[i].path, res->e[i].msg,
                res->e[i].rule);
    if (res->n_total > res->n)
        fprintf(out, "... and %zu more\n", res->n_total - res->n);
}

struct s_collect {
    struct node_returns *rs;
    size_t *bad;
    const char *me;
};

static int
s_cmp(const void *a, const void *b)
{
    const struct node_return *x = a, *y = b;
    int c = strcmp(x->origin, y->origin);

    return c != 0 ? c : (x->year > y->year) - (x->year < y->year);
}

static bool
s_refs(const char (*refs)[EWH_ID_HEX], size_t n, const char *id)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(refs[i], id) == 0)
            return true;
    return false;
}

/* Does m replace r?  The update chain says so first (a return references
 * the ones it replaces); else the later creation, and within one second
 * the later id (ids are UUIDv7: in time order to the millisecond). */
static bool
s_newer(const struct node_msg *m, const struct node_return *r)
{
    if (s_refs(m->refs, m->n_refs, r->id))
        return true;
    if (s_refs(r->refs, r->n_refs, m->id))
        return false;
    if (m->created_at != r->created_at)
        return m->created_at > r->created_at;
    return strcmp(m->id, r->id) > 0;
}

static int
s_one(void *ctx, const struct node_msg *m)
{
    struct s_collect *c = ctx;
    struct node_returns *rs = c->rs;
    struct ewh_sf_result *res;
    struct ewh_err err = {0};
    json_t *j, *cc, *yr;
    size_t i, len;
    unsigned year;

    if (m->type != EWH_TYPE_RETURN || m->body == NULL)
        return 0;
    len = strlen(m->body);
    if ((res = malloc(sizeof(*res))) == NULL)
        return 0;
    if (ewh_sf_validate(m->body, len, res, &err) != 0 ||
        (j = json_loadb(m->body, len, 0, NULL)) == NULL) {
        free(res);
        (*c->bad)++;
        return 0;
    }
    free(res);
    cc = json_object_get(j, "country");
    yr = json_object_get(j, "year");
    year = (unsigned)json_number_value(yr);
    /* A return speaks for its origin only. */
    if (strcmp(json_string_value(cc), m->origin) != 0) {
        json_decref(j);
        (*c->bad)++;
        return 0;
    }
    for (i = 0; i < rs->n; i++)
        if (strcmp(rs->r[i].origin, m->origin) == 0 && rs->r[i].year == year)
            break;
    if (i < rs->n) {
        rs->r[i].replaced++;
        if (!s_newer(m, &rs->r[i])) {
            json_decref(j);
            return 0;
        }
        json_decref(rs->r[i].doc);
    } else {
        if (rs->n == rs->cap) {
            size_t nc = rs->cap ? rs->cap * 2 : 16;
            struct node_return *nr = realloc(rs->r, nc * sizeof(*nr));
            if (nr == NULL) {
                json_decref(j);
                return -1;
            }
            rs->r = nr;
            rs->cap = nc;
        }
        memset(&rs->r[rs->n], 0, sizeof(rs->r[0]));
        rs->n++;
    }
    memcpy(rs->r[i].origin, m->origin, EWH_CC_BYTES);
    rs->r[i].year = year;
    memcpy(rs->r[i].id, m->id, EWH_ID_HEX);
    rs->r[i].created_at = m->created_at;
    rs->r[i].outgoing = m->outgoing;
    memcpy(rs->r[i].refs, m->refs, sizeof(rs->r[i].refs));
    rs->r[i].n_refs = m->n_refs;
    rs->r[i].doc = j;
    return 0;
}

int
node_exchange_collect(struct node_dir *d, struct node_returns *out, size_t *bad,
                      struct ewh_err *err)
{
    struct node_filter f;
    struct s_collect c = {.rs = out, .bad = bad, .me = d->cfg.country};
    int pass;

    memset(out, 0, sizeof(*out));
    *bad = 0;
    for (pass = 0; pass < 2; pass++) {
        memset(&f, 0, sizeof(f));
        f.outgoing = pass == 1;
        f.oldest_first = true;
        if (node_store_msg_list(d->store, &f, s_one, &c, err) != 0) {
            node_exchange_free(out);
            return -1;
        }
    }
    if (out->n > 1)
        qsort(out->r, out->n, sizeof(out->r[0]), s_cmp);
    return 0;
}

void
node_exchange_free(struct node_returns *rs)
{
    size_t i;

    for (i = 0; i < rs->n; i++)
        json_decref(rs->r[i].doc);
    free(rs->r);
    memset(rs, 0, sizeof(*rs));
}

const struct node_return *
node_exchange_find(const struct node_returns *rs, const char *cc, unsigned year)
{
    size_t i;

    for (i = 0; i < rs->n; i++)
        if (strcmp(rs->r[i].origin, cc) == 0 && rs->r[i].year == year)
            return &rs->r[i];
    return NULL;
}

size_t
node_exchange_remind(struct node_dir *d, int64_t now, FILE *out)
{
    struct ewh_err err = {0};
    struct node_returns rs;
    ewh_roster_t *ro = NULL;
    struct tm tm;
    time_t t = (time_t)now, due_t;
    int mo = 12, dd = 15;
    int64_t days;
    size_t bad = 0, i, missing = 0;
    char list[EWH_MAX_ROSTER_ENTRIES * 3 + 1] = "";
    bool mine = false;
    unsigned year;

    if (sscanf(d->cfg.exchange_due, "%d-%d", &mo, &dd) != 2)
        return 0;
    gmtime_r(&t, &tm);
    year = (unsigned)tm.tm_year + 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = dd;
    tm.tm_hour = 23;
    tm.tm_min = 59;
    tm.tm_sec = 59;
    due_t = timegm(&tm);
    days = ((int64_t)due_t - now) / 86400;
    if ((int64_t)due_t - now > (int64_t)d->cfg.exchange_remind_days * 86400)
        return 0; /* not yet */
    if ((ro = node_dir_roster(d, &err)) == NULL)
        return 0;
    if (node_exchange_collect(d, &rs, &bad, &err) != 0) {
        ewh_roster_destroy(&ro);
        return 0;
    }
    for (i = 0; i < ewh_roster_count(ro); i++) {
        bool revoked = false;
        const struct ewh_pubid *id = ewh_roster_at(ro, i, &revoked);
        if (revoked || node_exchange_find(&rs, id->country, year) != NULL)
            continue;
        if (strcmp(id->country, d->cfg.country) == 0)
            mine = true;
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
                 missing ? " " : "", id->country);
        missing++;
    }
    if (missing > 0)
        fprintf(out,
                "reminder: annual exchange on security forces: the %u "
                "return is due %u-%s (%s%lld days); not yet %s: %s%s\n",
                year, year, d->cfg.exchange_due, days < 0 ? "overdue by " : "",
                (long long)(days < 0 ? -days : days),
                mine ? "sent or received" : "received", list,
                mine ? " (this node included: `ewnode exchange submit`)" : "");
    node_exchange_free(&rs);
    ewh_roster_destroy(&ro);
    return missing;
}
