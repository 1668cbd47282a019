/* cmd_status.c — ewhub status: nodes, connections, queues (metadata). */
#include "cmd.h"

#include <getopt.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <jansson.h>

#include "cmd_status_exchange.h"
#include "cmd_status_fed.h"
#include "store.h"
#include "ewh/log.h"
#include "ewh/roster.h"
#include "ewh/util.h"

#define S_STALE_S 5 /* status.json older than this: the hub is not running */

/* One country's figures from the store, read in one transaction. */
struct s_row {
    char cc[EWH_CC_BYTES];
    bool revoked;
    char region[EWH_MAX_REGION_BYTES + 1]; /* a foreign country's, or "" */
    uint64_t q[4];
    int64_t oldest[4]; /* queued_at of the oldest undelivered by level, 0 */
    int64_t sent_h[4], sent_d[4], recv_h[4], recv_d[4];
    uint64_t receipts;     /* receipts waiting to be relayed to it */
    json_t *refused, *zap; /* {code: n} in the last hour */
};

struct s_status {
    struct s_row rows[EWH_MAX_ROSTER_ENTRIES * 2];
    size_t n;
    /* Counters since the store's creation (table counters). */
    uint64_t accepted[4], delivered[4], expired, acknowledged, duplicate,
        zap_refused, refused;
    json_t *refused_by; /* {code: n} */
};

static int
s_row_cmp(const void *a, const void *b)
{
    return strcmp(((const struct s_row *)a)->cc, ((const struct s_row *)b)->cc);
}

static struct s_row *
s_row(struct s_status *s, const char *cc)
{
    size_t i;

    for (i = 0; i < s->n; i++)
        if (strcmp(s->rows[i].cc, cc) == 0)
            return &s->rows[i];
    if (s->n == sizeof(s->rows) / sizeof(s->rows[0]))
        return NULL;
    memset(&s->rows[s->n], 0, sizeof(s->rows[0]));
    memcpy(s->rows[s->n].cc, cc, 2);
    s->rows[s->n].refused = json_object();
    s->rows[s->n].zap = json_object();
    return &s->rows[s->n++];
}

/* A country of another region (a pinned foreign roster names it): its
 * rows are traffic that came in over a peer link, not an unknown node. */
static int
s_foreign(void *ctx, const char *region, const struct ewh_pubid *id,
          bool revoked)
{
    struct s_status *s = ctx;
    size_t i;

    (void)revoked;
    for (i = 0; i < s->n; i++)
        if (strcmp(s->rows[i].cc, id->country) == 0 &&
            s->rows[i].region[0] == '\0')
            snprintf(s->rows[i].region, sizeof(s->rows[i].region), "%s",
                     region);
    return 0;
}

static void
s_count(void *ctx, const char *cc, enum ewh_level level, uint64_t n)
{
    struct s_row *r = s_row(ctx, cc);

    if (r != NULL && level >= 1 && level <= 3)
        r->q[level] = n;
}

/* The queue counts and oldest queue times of every node in the hub's
 * status file (as its lanes count them: no scan of the fan-out rows,
 * issue 19); false (and nothing taken) if any is missing. */
static bool
s_live_queue(struct s_status *s, json_t *lnodes)
{
    static const char *const lv[] = {NULL, "low", "medium", "high"};
    const char *cc;
    json_t *v, *q, *o;
    int l;

    if (!json_is_object(lnodes))
        return false;
    json_object_foreach(lnodes, cc, v)
    {
        q = json_object_get(v, "queued");
        o = json_object_get(v, "oldest");
        if (strlen(cc) != 2 || !json_is_object(q) || !json_is_object(o))
            return false;
        for (l = 1; l <= 3; l++)
            if (!json_is_integer(json_object_get(q, lv[l])) ||
                !json_is_integer(json_object_get(o, lv[l])))
                return false;
    }
    json_object_foreach(lnodes, cc, v)
    {
        struct s_row *r = s_row(s, cc);
        if (r == NULL)
            return false;
        q = json_object_get(v, "queued");
        o = json_object_get(v, "oldest");
        for (l = 1; l <= 3; l++) {
            r->q[l] = (uint64_t)json_integer_value(json_object_get(q, lv[l]));
            r->oldest[l] = json_integer_value(json_object_get(o, lv[l]));
        }
    }
    return true;
}

static void
s_stat(void *ctx, const char *what, const char *cc, int level, int64_t hour,
       int64_t day)
{
    struct s_row *r = s_row(ctx, cc);

    if (r == NULL || level < 1 || level > 3)
        return;
    if (strcmp(what, "oldest") == 0) {
        r->oldest[level] = hour;
    } else if (strcmp(what, "sent") == 0) {
        r->sent_h[level] = hour;
        r->sent_d[level] = day;
    } else {
        r->recv_h[level] = hour;
        r->recv_d[level] = day;
    }
}

static void
s_node_stat(void *ctx, const char *cc, const char *what, const char *code,
            uint64_t n)
{
    struct s_row *r = s_row(ctx, cc);

    if (r == NULL)
        return;
    if (strcmp(what, "receipts") == 0)
        r->receipts = n;
    else if (strcmp(what, "refused") == 0)
        json_object_set_new(r->refused, code, json_integer((json_int_t)n));
    else if (strcmp(what, "zap_refused") == 0)
        json_object_set_new(r->zap, code, json_integer((json_int_t)n));
}

static void
s_counter(void *ctx, int kind, int level, const char *code, uint64_t n)
{
    struct s_status *s = ctx;
    bool lv = level >= 1 && level <= 3;

    switch (kind) {
    case HUB_EV_ACCEPTED:
        if (lv)
            s->accepted[level] += n;
        break;
    case HUB_EV_DELIVERED:
        if (lv)
            s->delivered[level] += n;
        break;
    case HUB_EV_EXPIRED:
        s->expired += n;
        break;
    case HUB_EV_ACKNOWLEDGED:
        s->acknowledged += n;
        break;
    case HUB_EV_DUPLICATE:
        s->duplicate += n;
        break;
    case HUB_EV_ZAP_REFUSED:
        s->zap_refused += n;
        break;
    case HUB_EV_REFUSED:
        s->refused += n;
        json_object_set_new(s->refused_by, code[0] ? code : "-",
                            json_integer((json_int_t)n));
        break;
    default:
        break;
    }
}

static void
s_refusal(void *ctx, const char *code, int64_t hour, int64_t day, int64_t all)
{
    json_t *o = json_object();

    json_object_set_new(o, "reason", json_string(code));
    json_object_set_new(o, "last_hour", json_integer(hour));
    json_object_set_new(o, "last_day", json_integer(day));
    json_object_set_new(o, "retained", json_integer(all));
    json_array_append_new(ctx, o);
}

/* {"high": h, "medium": m, "low": l} of v[3], v[2], v[1]. */
static json_t *
s_levels(const int64_t v[4])
{
    json_t *o = json_object();

    json_object_set_new(o, "high", json_integer(v[3]));
    json_object_set_new(o, "medium", json_integer(v[2]));
    json_object_set_new(o, "low", json_integer(v[1]));
    return o;
}

static json_t *
s_levels_u(const uint64_t v[4])
{
    int64_t w[4] = {0, (int64_t)v[1], (int64_t)v[2], (int64_t)v[3]};
    json_t *o = s_levels(w);

    json_object_set_new(o, "total", json_integer(w[1] + w[2] + w[3]));
    return o;
}

static json_t *
s_window(const int64_t h[4], const int64_t d[4])
{
    json_t *o = json_object();

    json_object_set_new(o, "last_hour", s_levels(h));
    json_object_set_new(o, "last_day", s_levels(d));
    return o;
}

static long long
s_jl(json_t *o, const char *a, const char *b, const char *c)
{
    json_t *x = json_object_get(json_object_get(json_object_get(o, a), b), c);

    return (long long)json_integer_value(x);
}

/* "h/m/l" counts of o[a][b]. */
static const char *
s_hml(json_t *o, const char *a, const char *b, char *out, size_t cap)
{
    snprintf(out, cap, "%lld/%lld/%lld", s_jl(o, a, b, "high"),
             s_jl(o, a, b, "medium"), s_jl(o, a, b, "low"));
    return out;
}

static const char *
s_age(int64_t s, char *out, size_t cap)
{
    if (s < 0)
        snprintf(out, cap, "-");
    else if (s < 120)
        snprintf(out, cap, "%llds", (long long)s);
    else if (s < 7200)
        snprintf(out, cap, "%lldm", (long long)(s / 60));
    else if (s < 172800)
        snprintf(out, cap, "%lldh", (long long)(s / 3600));
    else
        snprintf(out, cap, "%lldd", (long long)(s / 86400));
    return out;
}

static json_t *
s_age_of(int64_t now, int64_t t)
{
    return t > 0 ? json_integer(now > t ? now - t : 0) : json_null();
}

static json_t *
s_time_or_null(json_int_t t)
{
    return t > 0 ? json_integer(t) : json_null();
}

/* "code n, code n" of {code: n}, or "-". */
static const char *
s_codes(json_t *o, char *out, size_t cap)
{
    const char *k;
    json_t *v;
    size_t off = 0;

    out[0] = '\0';
    json_object_foreach(o, k, v)
    {
        int w = snprintf(out + off, cap - off, "%s%s %lld", off ? "," : "", k,
                         (long long)json_integer_value(v));
        if (w < 0 || (size_t)w >= cap - off)
            break;
        off += (size_t)w;
    }
    if (off == 0)
        snprintf(out, cap, "-");
    return out;
}

/* One roster import record (ewhub roster import): which hub, when. */
static int
s_import_rec(void *ctx, const struct hub_import_rec *rec)
{
    struct ewh_pubid id = {.kind = EWH_KIND_HUB};
    char fp[EWH_FINGERPRINT_CHARS];
    json_t *o = json_object();

    memcpy(id.sign, rec->from_sign, 32);
    memcpy(id.curve, rec->from_curve, 32);
    ewh_pubid_fingerprint(&id, fp);
    json_object_set_new(o, "from_fingerprint", json_string(fp));
    json_object_set_new(o, "version", json_integer((json_int_t)rec->version));
    json_object_set_new(o, "at", json_integer(rec->at));
    json_object_set_new(o, "changes", json_integer((json_int_t)rec->changes));
    json_object_set_new(o, "imports", json_integer((json_int_t)rec->imports));
    json_array_append_new(ctx, o);
    return 0;
}

/* "roster: imported from hub FP ..." for each hub, the latest first. */
static void
s_print_imports(json_t *imports)
{
    char t[32];
    size_t i;

    for (i = 0; i < json_array_size(imports); i++) {
        json_t *o = json_array_get(imports, i);
        printf("roster: last imported from hub %s (its version %lld) at %s: "
               "%lld change(s); %lld import(s) in all\n",
               json_string_value(json_object_get(o, "from_fingerprint")),
               (long long)json_integer_value(json_object_get(o, "version")),
               ewh_time_format(json_integer_value(json_object_get(o, "at")), t,
                               sizeof(t)),
               (long long)json_integer_value(json_object_get(o, "changes")),
               (long long)json_integer_value(json_object_get(o, "imports")));
    }
}

static void
s_print_text(json_t *out, json_t *arr, json_t *tot, json_t *refusals,
             uint64_t roster_version)
{
    json_t *behind = json_object_get(out, "nodes_behind");
    json_t *c = json_object_get(tot, "counters");
    char t[32], t2[32];
    size_t i;

    if (json_is_true(json_object_get(out, "running")))
        printf("hub: running, pid %lld, %s, started %s, roster version "
               "%llu\n",
               (long long)json_integer_value(json_object_get(out, "pid")),
               json_string_value(json_object_get(out, "endpoint")),
               json_is_integer(json_object_get(out, "started"))
                   ? ewh_time_format(
                         json_integer_value(json_object_get(out, "started")), t,
                         sizeof(t))
                   : "-",
               (unsigned long long)roster_version);
    else
        printf("hub: not running, roster version %llu\n",
               (unsigned long long)roster_version);
    if (json_array_size(behind) == 0) {
        printf("roster: every enrolled node holds version %llu\n",
               (unsigned long long)roster_version);
    } else {
        printf("roster: version %llu not yet held by:",
               (unsigned long long)roster_version);
        for (i = 0; i < json_array_size(behind); i++) {
            json_t *b = json_array_get(behind, i);
            json_t *v = json_object_get(b, "roster_version");
            bool on = json_is_true(json_object_get(b, "connected"));
            printf("%s %s (", i ? "," : "",
                   json_string_value(json_object_get(b, "country")));
            if (json_is_integer(v))
                printf("%lld%s)", (long long)json_integer_value(v),
                       on ? "" : ", not connected");
            else
                printf("%s)", on ? "not said" : "not seen");
        }
        printf("\n");
    }
    s_print_imports(json_object_get(out, "roster_imports"));
    printf("%-7s %-8s %-4s %-25s %-25s %6s %5s %5s %5s %6s %6s %6s %5s "
           "%-11s %-11s %-11s %-11s %s\n",
           "COUNTRY", "STATE", "CONN", "SINCE", "LAST FRAME", "ROSTER", "HIGH",
           "MED", "LOW", "OLDEST", "HIGH@", "UNACK", "RCPTS", "SENT 1H",
           "SENT 24H", "RECV 1H", "RECV 24H", "REFUSED 1H");
    for (i = 0; i < json_array_size(arr); i++) {
        json_t *o = json_array_get(arr, i), *q = json_object_get(o, "queued");
        json_t *lf = json_object_get(o, "last_frame_at");
        json_t *cs = json_object_get(o, "connected_since");
        json_t *oa = json_object_get(o, "oldest_queued_age_s");
        json_t *oh = json_object_get(o, "oldest_high_age_s");
        json_t *rv = json_object_get(o, "roster_version");
        const char *state =
            json_is_string(json_object_get(o, "region"))    ? "foreign"
            : !json_is_true(json_object_get(o, "enrolled")) ? "unknown"
            : json_is_true(json_object_get(o, "revoked"))   ? "revoked"
                                                            : "enrolled";
        char age[32], agh[32], ros[24], w1[40], w2[40], w3[40], w4[40];
        char ref[160], zap[160], refs[340];
        snprintf(ros, sizeof(ros), "%lld", (long long)json_integer_value(rv));
        s_codes(json_object_get(o, "refusals_last_hour"), ref, sizeof(ref));
        s_codes(json_object_get(o, "handshakes_refused_last_hour"), zap,
                sizeof(zap));
        if (strcmp(zap, "-") == 0)
            snprintf(refs, sizeof(refs), "%s", ref);
        else
            snprintf(refs, sizeof(refs), "%s; handshake %s", ref, zap);
        printf("%-7s %-8s %-4s %-25s %-25s %6s %5lld %5lld %5lld %6s %6s "
               "%6lld %5lld %-11s %-11s %-11s %-11s %s\n",
               json_string_value(json_object_get(o, "country")), state,
               json_is_true(json_object_get(o, "connected")) ? "yes" : "no",
               json_is_integer(cs)
                   ? ewh_time_format(json_integer_value(cs), t2, sizeof(t2))
                   : "-",
               json_is_integer(lf)
                   ? ewh_time_format(json_integer_value(lf), t, sizeof(t))
                   : "never",
               json_is_integer(rv) ? ros : "-",
               (long long)json_integer_value(json_object_get(q, "high")),
               (long long)json_integer_value(json_object_get(q, "medium")),
               (long long)json_integer_value(json_object_get(q, "low")),
               json_is_integer(oa)
                   ? s_age(json_integer_value(oa), age, sizeof(age))
                   : "-",
               json_is_integer(oh)
                   ? s_age(json_integer_value(oh), agh, sizeof(agh))
                   : "-",
               (long long)json_integer_value(
                   json_object_get(o, "deliveries_unacknowledged")),
               (long long)json_integer_value(
                   json_object_get(o, "receipts_waiting")),
               s_hml(o, "sent", "last_hour", w1, sizeof(w1)),
               s_hml(o, "sent", "last_day", w2, sizeof(w2)),
               s_hml(o, "received", "last_hour", w3, sizeof(w3)),
               s_hml(o, "received", "last_day", w4, sizeof(w4)), refs);
    }
    printf("total: %lld countries, %lld queued (high %lld, medium %lld, "
           "low %lld)\n",
           (long long)json_integer_value(json_object_get(tot, "countries")),
           (long long)json_integer_value(json_object_get(tot, "queued")),
           (long long)json_integer_value(json_object_get(tot, "high")),
           (long long)json_integer_value(json_object_get(tot, "medium")),
           (long long)json_integer_value(json_object_get(tot, "low")));
    {
        char w1[40], w2[40], w3[40], w4[40];
        printf("reports (high/medium/low): sent last hour %s, last day "
               "%s; received last hour %s, last day %s\n",
               s_hml(tot, "sent", "last_hour", w1, sizeof(w1)),
               s_hml(tot, "sent", "last_day", w2, sizeof(w2)),
               s_hml(tot, "received", "last_hour", w3, sizeof(w3)),
               s_hml(tot, "received", "last_day", w4, sizeof(w4)));
    }
    {
        json_t *a = json_object_get(c, "accepted"),
               *d = json_object_get(c, "delivered");
        json_t *since = json_object_get(c, "since");
        char rb[200];
        printf(
            "since %s (kept in the store): accepted %lld "
            "(%lld/%lld/%lld), delivered %lld (%lld/%lld/%lld), "
            "acknowledged %lld, expired %lld, duplicate %lld, refused %lld "
            "(%s), handshake refused %lld\n",
            json_is_integer(since)
                ? ewh_time_format(json_integer_value(since), t, sizeof(t))
                : "-",
            (long long)json_integer_value(json_object_get(a, "total")),
            (long long)json_integer_value(json_object_get(a, "high")),
            (long long)json_integer_value(json_object_get(a, "medium")),
            (long long)json_integer_value(json_object_get(a, "low")),
            (long long)json_integer_value(json_object_get(d, "total")),
            (long long)json_integer_value(json_object_get(d, "high")),
            (long long)json_integer_value(json_object_get(d, "medium")),
            (long long)json_integer_value(json_object_get(d, "low")),
            (long long)json_integer_value(json_object_get(tot, "acknowledged")),
            (long long)json_integer_value(json_object_get(tot, "expired")),
            (long long)json_integer_value(json_object_get(tot, "duplicate")),
            (long long)json_integer_value(json_object_get(tot, "refused")),
            s_codes(json_object_get(c, "refused"), rb, sizeof(rb)),
            (long long)json_integer_value(json_object_get(tot, "zap_refused")));
    }
    if (json_integer_value(json_object_get(tot, "audit_behind")) > 0)
        printf("AUDIT: %lld hellos named a checkpoint beyond this hub's "
               "chain: the hub lost acknowledged reports (see the log, "
               "docs/operations.md)\n",
               (long long)json_integer_value(
                   json_object_get(tot, "audit_behind")));
    if (json_integer_value(json_object_get(tot, "stalled")) > 0)
        printf("stalled sessions: %lld deliveries resent (none was "
               "acknowledged in time)\n",
               (long long)json_integer_value(json_object_get(tot, "stalled")));
    printf("refusals (last hour / day / retained):");
    if (json_array_size(refusals) == 0)
        printf(" none");
    for (i = 0; i < json_array_size(refusals); i++) {
        json_t *x = json_array_get(refusals, i);
        printf(" %s %lld/%lld/%lld",
               json_string_value(json_object_get(x, "reason")),
               (long long)json_integer_value(json_object_get(x, "last_hour")),
               (long long)json_integer_value(json_object_get(x, "last_day")),
               (long long)json_integer_value(json_object_get(x, "retained")));
    }
    {
        json_t *so = json_object_get(out, "store"),
               *va = json_object_get(out, "audit_verified");
        printf("\nstore: %.1f MiB (+ %.1f MiB WAL); audit verify: %s",
               (double)json_integer_value(json_object_get(so, "db_bytes")) /
                   1048576.0,
               (double)json_integer_value(json_object_get(so, "wal_bytes")) /
                   1048576.0,
               json_is_null(va)                          ? "never run"
               : json_is_true(json_object_get(va, "ok")) ? "OK"
                                                         : "FAILED");
        if (!json_is_null(va))
            printf(" at %s", ewh_time_format(
                                 json_integer_value(json_object_get(va, "at")),
                                 t, sizeof(t)));
        printf("\n");
    }
    hub_status_returns_print(json_object_get(out, "returns"));
    hub_status_fed_print(json_object_get(out, "federation"));
}

static const char s_usage[] =
    "usage: ewhub status [--dir DIR] [--json]\n"
    "  Nodes (connection, roster held, last frame, queues, deliveries\n"
    "  unacknowledged, receipts waiting, refusals), traffic by level, the\n"
    "  counters since the store's creation (metadata only).\n";

/* The rows' JSON objects (built while reading). */
static void
s_status_clear(struct s_status *s)
{
    size_t i;

    for (i = 0; i < s->n; i++) {
        json_decref(s->rows[i].refused);
        json_decref(s->rows[i].zap);
        s->rows[i].refused = s->rows[i].zap = NULL;
    }
    json_decref(s->refused_by);
    s->refused_by = NULL;
}

int
hub_cmd_status(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct ewh_err err = {0};
    struct s_status s;
    hub_store_t *st;
    ewh_roster_t *r = NULL;
    json_t *live = NULL, *lnodes = NULL, *out, *arr, *tot, *behind;
    json_t *refusals = json_array(), *returns = NULL, *fed = NULL;
    json_t *imports = NULL;
    uint64_t store_bytes = 0, wal_bytes = 0, rv;
    int64_t now = ewh_now(), since = 0, v_at = 0, v_ok = 0;
    struct stat sb;
    json_error_t jerr;
    const char *dir = NULL;
    char path[4096];
    bool json = false, running = false, live_queue = false;
    uint64_t tq[4] = {0};
    size_t i;
    int c;

    while ((c = getopt_long(argc, argv, "d:jh", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            fputs(s_usage, stdout);
            json_decref(refusals);
            return 0;
        default:
            fputs(s_usage, stderr);
            json_decref(refusals);
            return 2;
        }
    }
    if (optind != argc) {
        json_decref(refusals);
        return hub_cmd_usage(s_usage, "status: unexpected argument '%s'",
                             argv[optind]);
    }
    dir = hub_cmd_dir(dir);
    memset(&s, 0, sizeof(s));
    /* Live state from the daemon's status file, if it is fresh. */
    hub_cmd_path(dir, "status.json", path, sizeof(path));
    live = json_load_file(path, 0, &jerr);
    if (live != NULL) {
        json_int_t pid = json_integer_value(json_object_get(live, "pid"));
        json_int_t when = json_integer_value(json_object_get(live, "time"));
        /* EPERM: the hub runs as another user (the service account). */
        running = pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM) &&
                  ewh_now() - when <= S_STALE_S;
        lnodes = json_object_get(live, "nodes");
    }
    /* A running hub's status file has the queue as its lanes count it:
     * then the fan-out rows are not scanned (issue 19: 1.2 s for
     * 1,000,000 queued deliveries); the queue is then the hub's of at most
     * a second ago. */
    live_queue = running && s_live_queue(&s, lnodes);
    hub_cmd_path(dir, "store.db", path, sizeof(path));
    if ((st = hub_store_open(path, 0, 0, &err)) == NULL) {
        json_decref(refusals);
        return hub_cmd_fail("status: %s", err.reason);
    }
    s.refused_by = json_object();
    imports = json_array();
    /* Every figure from the store in one read transaction: counters,
     * queues and hour/day counts of one moment (issue 20).  (The roster
     * is read just before, in its own.) */
    if (hub_store_roster_load(st, &r, &err) != 0 ||
        hub_store_read_begin(st, &err) != 0 ||
        (!live_queue && hub_store_queue_counts(st, s_count, &s, &err) != 0) ||
        hub_store_stats(st, now, !live_queue, s_stat, &s, &err) != 0 ||
        hub_store_refusals(st, now, s_refusal, refusals, &err) != 0 ||
        hub_store_node_stats(st, now, s_node_stat, &s, &err) != 0 ||
        hub_store_counters(st, s_counter, &s, &err) != 0 ||
        hub_store_meta_get(st, "counters_since", &since, &err) != 0 ||
        hub_store_meta_get(st, "audit_verified_at", &v_at, &err) != 0 ||
        hub_store_meta_get(st, "audit_verified_ok", &v_ok, &err) != 0 ||
        hub_store_size(st, &store_bytes, &err) != 0 ||
        hub_store_import_walk(st, s_import_rec, imports, &err) != 0) {
        hub_store_read_end(st);
        hub_store_close(&st);
        ewh_roster_destroy(&r);
        json_decref(refusals);
        json_decref(imports);
        json_decref(live);
        s_status_clear(&s);
        return hub_cmd_fail("status: %s", err.reason);
    }
    hub_store_read_end(st);
    {
        char wal[4096 + 8];
        snprintf(wal, sizeof(wal), "%s-wal", path);
        if (stat(wal, &sb) == 0)
            wal_bytes = (uint64_t)sb.st_size;
    }
    if ((returns = hub_status_returns(st, r, now, &err)) == NULL ||
        (fed = hub_status_fed(st, running ? live : NULL, &err)) == NULL ||
        hub_store_fed_key_walk(st, s_foreign, &s, &err) != 0) {
        json_decref(returns);
        json_decref(fed);
        hub_store_close(&st);
        ewh_roster_destroy(&r);
        json_decref(refusals);
        json_decref(imports);
        json_decref(live);
        s_status_clear(&s);
        return hub_cmd_fail("status: %s", err.reason);
    }
    hub_store_close(&st);
    rv = ewh_roster_version(r);
    for (i = 0; i < ewh_roster_count(r); i++) {
        bool rev;
        const struct ewh_pubid *id = ewh_roster_at(r, i, &rev);
        struct s_row *row = s_row(&s, id->country);
        if (row != NULL)
            row->revoked = rev;
    }
    qsort(s.rows, s.n, sizeof(s.rows[0]), s_row_cmp); /* by country */
    out = json_object();
    arr = json_array();
    behind = json_array();
    json_object_set_new(out, "running", json_boolean(running));
    if (running) {
        json_object_set(out, "pid", json_object_get(live, "pid"));
        json_object_set(out, "endpoint", json_object_get(live, "endpoint"));
        json_object_set_new(out, "started",
                            s_time_or_null(json_integer_value(
                                json_object_get(live, "started"))));
    }
    json_object_set_new(out, "roster_version", json_integer((json_int_t)rv));
    /* The other hubs this one took the roster from (docs/roster-sharing.md). */
    json_object_set_new(out, "roster_imports", imports);
    for (i = 0; i < s.n; i++) {
        struct s_row *row = &s.rows[i];
        json_t *o = json_object();
        json_t *ln = lnodes != NULL ? json_object_get(lnodes, row->cc) : NULL;
        bool conn = running && ln != NULL &&
                    json_is_true(json_object_get(ln, "connected"));
        json_int_t seen =
            ln != NULL ? json_integer_value(json_object_get(ln, "last_seen"))
                       : 0;
        json_int_t since_c =
            conn ? json_integer_value(json_object_get(ln, "connected_since"))
                 : 0;
        json_t *jrv = ln != NULL ? json_object_get(ln, "roster_version") : NULL;
        int64_t oldest = 0;
        int l;
        for (l = 1; l <= 3; l++)
            if (row->oldest[l] > 0 && (oldest == 0 || row->oldest[l] < oldest))
                oldest = row->oldest[l];
        json_object_set_new(o, "country", json_string(row->cc));
        json_object_set_new(
            o, "enrolled",
            json_boolean(ewh_roster_find(r, row->cc, NULL) != NULL));
        /* Not enrolled here but in a peer region's roster: its region. */
        json_object_set_new(o, "region",
                            ewh_roster_find(r, row->cc, NULL) == NULL &&
                                    row->region[0] != '\0'
                                ? json_string(row->region)
                                : json_null());
        json_object_set_new(o, "revoked", json_boolean(row->revoked));
        json_object_set_new(o, "connected", json_boolean(conn));
        json_object_set_new(o, "connected_since", s_time_or_null(since_c));
        /* The last frame of any kind (the node's heartbeat keeps it moving
         * while idle); last_seen is its older name. */
        json_object_set_new(o, "last_frame_at", s_time_or_null(seen));
        json_object_set_new(o, "last_seen", s_time_or_null(seen));
        /* What the node said it holds (hello, heartbeat) since the hub
         * started; -1: never said. */
        if (jrv != NULL && json_integer_value(jrv) >= 0) {
            json_object_set(o, "roster_version", jrv);
            json_object_set_new(
                o, "roster_current",
                json_boolean((uint64_t)json_integer_value(jrv) >= rv));
        } else {
            jrv = NULL;
            json_object_set_new(o, "roster_version", json_null());
            json_object_set_new(o, "roster_current", json_null());
        }
        /* Every enrolled node must hold the roster before rotate-keys
         * --commit: the ones not known to (connected or not). */
        if (ewh_roster_find(r, row->cc, NULL) != NULL && !row->revoked &&
            (jrv == NULL || (uint64_t)json_integer_value(jrv) < rv)) {
            json_t *b = json_object();
            json_object_set_new(b, "country", json_string(row->cc));
            json_object_set_new(b, "roster_version",
                                jrv != NULL ? json_incref(jrv) : json_null());
            json_object_set_new(b, "connected", json_boolean(conn));
            json_array_append_new(behind, b);
        }
        json_object_set_new(o, "queued", s_levels_u(row->q));
        json_object_set_new(o, "oldest_queued_age_s", s_age_of(now, oldest));
        json_object_set_new(o, "oldest_high_age_s",
                            s_age_of(now, row->oldest[EWH_LEVEL_HIGH]));
        json_object_set_new(
            o, "deliveries_unacknowledged",
            json_integer(
                conn ? json_integer_value(json_object_get(ln, "in_flight"))
                     : 0));
        json_object_set_new(o, "receipts_waiting",
                            json_integer((json_int_t)row->receipts));
        json_object_set_new(o, "refusals_last_hour", row->refused);
        json_object_set_new(o, "handshakes_refused_last_hour", row->zap);
        row->refused = row->zap = NULL;
        json_object_set_new(o, "sent", s_window(row->sent_h, row->sent_d));
        json_object_set_new(o, "received", s_window(row->recv_h, row->recv_d));
        json_array_append_new(arr, o);
        tq[1] += row->q[1];
        tq[2] += row->q[2];
        tq[3] += row->q[3];
    }
    json_object_set_new(out, "nodes_behind", behind);
    json_object_set_new(out, "nodes", arr);
    tot = json_object();
    json_object_set_new(tot, "countries", json_integer((json_int_t)s.n));
    json_object_set_new(tot, "high", json_integer((json_int_t)tq[3]));
    json_object_set_new(tot, "medium", json_integer((json_int_t)tq[2]));
    json_object_set_new(tot, "low", json_integer((json_int_t)tq[1]));
    json_object_set_new(tot, "queued",
                        json_integer((json_int_t)(tq[1] + tq[2] + tq[3])));
    {
        json_t *co = json_object();
        json_object_set_new(co, "since", s_time_or_null(since));
        json_object_set_new(co, "accepted", s_levels_u(s.accepted));
        json_object_set_new(co, "delivered", s_levels_u(s.delivered));
        json_object_set_new(co, "refused", s.refused_by);
        s.refused_by = NULL;
        json_object_set_new(tot, "counters", co);
        json_object_set_new(
            tot, "accepted",
            json_integer(
                (json_int_t)(s.accepted[1] + s.accepted[2] + s.accepted[3])));
        json_object_set_new(tot, "duplicate",
                            json_integer((json_int_t)s.duplicate));
        json_object_set_new(tot, "refused",
                            json_integer((json_int_t)s.refused));
        json_object_set_new(
            tot, "delivered",
            json_integer((json_int_t)(s.delivered[1] + s.delivered[2] +
                                      s.delivered[3])));
        json_object_set_new(tot, "acknowledged",
                            json_integer((json_int_t)s.acknowledged));
        json_object_set_new(tot, "expired",
                            json_integer((json_int_t)s.expired));
        json_object_set_new(tot, "zap_refused",
                            json_integer((json_int_t)s.zap_refused));
    }
    if (running) {
        /* This run's figures of the hub's own (hardening). */
        json_object_set(tot, "audit_behind",
                        json_object_get(live, "audit_behind"));
        json_object_set(tot, "stalled", json_object_get(live, "stalled"));
    }
    {
        int64_t sh[4] = {0}, sd[4] = {0}, rh[4] = {0}, rd[4] = {0};
        int l;
        for (i = 0; i < s.n; i++)
            for (l = 1; l <= 3; l++) {
                sh[l] += s.rows[i].sent_h[l];
                sd[l] += s.rows[i].sent_d[l];
                rh[l] += s.rows[i].recv_h[l];
                rd[l] += s.rows[i].recv_d[l];
            }
        json_object_set_new(tot, "sent", s_window(sh, sd));
        json_object_set_new(tot, "received", s_window(rh, rd));
    }
    json_object_set_new(out, "totals", tot);
    json_object_set_new(out, "refusals", refusals);
    {
        json_t *so = json_object();
        json_object_set_new(so, "db_bytes",
                            json_integer((json_int_t)store_bytes));
        json_object_set_new(so, "wal_bytes",
                            json_integer((json_int_t)wal_bytes));
        json_object_set_new(out, "store", so);
    }
    if (v_at > 0) {
        json_t *va = json_object();
        json_object_set_new(va, "at", json_integer(v_at));
        json_object_set_new(va, "ok", json_boolean(v_ok == 1));
        json_object_set_new(out, "audit_verified", va);
    } else {
        json_object_set_new(out, "audit_verified", json_null());
    }

    json_object_set_new(out, "returns", returns);
    json_object_set_new(out, "federation", fed);

    if (json) {
        json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        putchar('\n');
    } else {
        s_print_text(out, arr, tot, refusals, rv);
    }
    s_status_clear(&s);
    json_decref(out);
    json_decref(live);
    ewh_roster_destroy(&r);
    return 0;
}
