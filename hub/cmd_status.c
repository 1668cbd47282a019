/* cmd_status.c — ewhub status: nodes, connections, queues (metadata). */
#include "cmd.h"

#include <getopt.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <jansson.h>

#include "cmd_status_exchange.h"
#include "store.h"
#include "ewh/log.h"
#include "ewh/roster.h"
#include "ewh/util.h"

#define S_STALE_S 5 /* status.json older than this: the hub is not running */

struct s_row {
    char cc[EWH_CC_BYTES];
    bool revoked;
    uint64_t q[4];
    int64_t oldest; /* queued_at of the oldest undelivered, 0 none */
    int64_t sent_h[4], sent_d[4], recv_h[4], recv_d[4];
};

struct s_status {
    struct s_row rows[EWH_MAX_ROSTER_ENTRIES * 2];
    size_t n;
};

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
    return &s->rows[s->n++];
}

static void
s_count(void *ctx, const char *cc, enum ewh_level level, uint64_t n)
{
    struct s_row *r = s_row(ctx, cc);

    if (r != NULL && level >= 1 && level <= 3)
        r->q[level] = n;
}

/* The queue counts and oldest queue time of every node in the hub's
 * status file; false (and nothing taken) if any is missing. */
static bool
s_live_queue(struct s_status *s, json_t *lnodes)
{
    static const char *const lv[] = {NULL, "low", "medium", "high"};
    const char *cc;
    json_t *v, *q;
    int l;

    if (!json_is_object(lnodes))
        return false;
    json_object_foreach(lnodes, cc, v)
    {
        q = json_object_get(v, "queued");
        if (strlen(cc) != 2 || !json_is_object(q) ||
            !json_is_integer(json_object_get(v, "oldest_queued_at")))
            return false;
        for (l = 1; l <= 3; l++)
            if (!json_is_integer(json_object_get(q, lv[l])))
                return false;
    }
    json_object_foreach(lnodes, cc, v)
    {
        struct s_row *r = s_row(s, cc);
        if (r == NULL)
            return false;
        q = json_object_get(v, "queued");
        for (l = 1; l <= 3; l++)
            r->q[l] = (uint64_t)json_integer_value(json_object_get(q, lv[l]));
        r->oldest = json_integer_value(json_object_get(v, "oldest_queued_at"));
    }
    return true;
}

static void
s_stat(void *ctx, const char *what, const char *cc, int level, int64_t hour,
       int64_t day)
{
    struct s_row *r = s_row(ctx, cc);

    if (r == NULL)
        return;
    if (strcmp(what, "oldest") == 0) {
        r->oldest = hour;
        return;
    }
    if (level < 1 || level > 3)
        return;
    if (strcmp(what, "sent") == 0) {
        r->sent_h[level] = hour;
        r->sent_d[level] = day;
    } else {
        r->recv_h[level] = hour;
        r->recv_d[level] = day;
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

static const char s_usage[] =
    "usage: ewhub status [--dir DIR] [--json]\n"
    "  Nodes, connections, queue depths, traffic by level and the recent\n"
    "  refusals (metadata only).\n";

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
    json_t *live = NULL, *lnodes = NULL, *out, *arr, *tot;
    json_t *refusals = json_array(), *returns = NULL;
    uint64_t store_bytes = 0, wal_bytes = 0;
    int64_t now = ewh_now();
    struct stat sb;
    json_error_t jerr;
    const char *dir = NULL;
    char path[4096], t[32];
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
     * 1,000,000 queued deliveries). */
    live_queue = running && s_live_queue(&s, lnodes);
    hub_cmd_path(dir, "store.db", path, sizeof(path));
    if ((st = hub_store_open(path, 0, 0, &err)) == NULL) {
        json_decref(refusals);
        return hub_cmd_fail("status: %s", err.reason);
    }
    if (hub_store_roster_load(st, &r, &err) != 0 ||
        hub_store_read_begin(st, &err) != 0 ||
        (!live_queue && hub_store_queue_counts(st, s_count, &s, &err) != 0) ||
        hub_store_stats(st, now, !live_queue, s_stat, &s, &err) != 0 ||
        hub_store_refusals(st, now, s_refusal, refusals, &err) != 0 ||
        hub_store_size(st, &store_bytes, &err) != 0) {
        hub_store_read_end(st);
        hub_store_close(&st);
        ewh_roster_destroy(&r);
        json_decref(refusals);
        return hub_cmd_fail("status: %s", err.reason);
    }
    hub_store_read_end(st);
    {
        char wal[4096 + 8];
        snprintf(wal, sizeof(wal), "%s-wal", path);
        if (stat(wal, &sb) == 0)
            wal_bytes = (uint64_t)sb.st_size;
    }
    if ((returns = hub_status_returns(st, r, now, &err)) == NULL)
        fatalx("status: %s", err.reason);
    hub_store_close(&st);
    for (i = 0; i < ewh_roster_count(r); i++) {
        bool rev;
        const struct ewh_pubid *id = ewh_roster_at(r, i, &rev);
        struct s_row *row = s_row(&s, id->country);
        if (row != NULL)
            row->revoked = rev;
    }

    out = json_object();
    arr = json_array();
    json_object_set_new(out, "running", json_boolean(running));
    if (running) {
        json_object_set(out, "pid", json_object_get(live, "pid"));
        json_object_set(out, "endpoint", json_object_get(live, "endpoint"));
    }
    json_object_set_new(out, "roster_version",
                        json_integer((json_int_t)ewh_roster_version(r)));
    for (i = 0; i < s.n; i++) {
        struct s_row *row = &s.rows[i];
        json_t *o = json_object(), *q = json_object();
        json_t *ln = lnodes != NULL ? json_object_get(lnodes, row->cc) : NULL;
        bool conn = running && ln != NULL &&
                    json_is_true(json_object_get(ln, "connected"));
        json_int_t seen =
            ln != NULL ? json_integer_value(json_object_get(ln, "last_seen"))
                       : 0;
        json_object_set_new(o, "country", json_string(row->cc));
        json_object_set_new(
            o, "enrolled",
            json_boolean(ewh_roster_find(r, row->cc, NULL) != NULL));
        json_object_set_new(o, "revoked", json_boolean(row->revoked));
        json_object_set_new(o, "connected", json_boolean(conn));
        json_int_t since =
            conn ? json_integer_value(json_object_get(ln, "connected_since"))
                 : 0;
        json_object_set_new(o, "last_seen",
                            seen > 0 ? json_integer(seen) : json_null());
        json_object_set_new(o, "connected_since",
                            since > 0 ? json_integer(since) : json_null());
        json_object_set_new(
            o, "oldest_queued_age_s",
            row->oldest > 0
                ? json_integer(now > row->oldest ? now - row->oldest : 0)
                : json_null());
        json_object_set_new(o, "sent", s_window(row->sent_h, row->sent_d));
        json_object_set_new(o, "received", s_window(row->recv_h, row->recv_d));
        json_object_set_new(q, "high", json_integer((json_int_t)row->q[3]));
        json_object_set_new(q, "medium", json_integer((json_int_t)row->q[2]));
        json_object_set_new(q, "low", json_integer((json_int_t)row->q[1]));
        json_object_set_new(
            q, "total",
            json_integer((json_int_t)(row->q[1] + row->q[2] + row->q[3])));
        json_object_set_new(o, "queued", q);
        json_array_append_new(arr, o);
        tq[1] += row->q[1];
        tq[2] += row->q[2];
        tq[3] += row->q[3];
    }
    json_object_set_new(out, "nodes", arr);
    tot = json_object();
    json_object_set_new(tot, "countries", json_integer((json_int_t)s.n));
    json_object_set_new(tot, "high", json_integer((json_int_t)tq[3]));
    json_object_set_new(tot, "medium", json_integer((json_int_t)tq[2]));
    json_object_set_new(tot, "low", json_integer((json_int_t)tq[1]));
    json_object_set_new(tot, "queued",
                        json_integer((json_int_t)(tq[1] + tq[2] + tq[3])));
    if (running) {
        static const char *const keys[] = {
            "accepted",    "duplicate", "refused",      "delivered", "expired",
            "zap_refused", "receipts",  "audit_behind", "stalled",   NULL};
        for (i = 0; keys[i] != NULL; i++)
            json_object_set(tot, keys[i], json_object_get(live, keys[i]));
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
    json_object_set_new(out, "returns", returns);

    if (json) {
        json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        putchar('\n');
    } else {
        if (running)
            printf("hub: running, pid %lld, %s, roster version %llu\n",
                   (long long)json_integer_value(json_object_get(out, "pid")),
                   json_string_value(json_object_get(out, "endpoint")),
                   (unsigned long long)ewh_roster_version(r));
        else
            printf("hub: not running, roster version %llu\n",
                   (unsigned long long)ewh_roster_version(r));
        printf("%-7s %-9s %-9s %-25s %-25s %6s %6s %6s %6s %-11s %-11s "
               "%-11s %-11s\n",
               "COUNTRY", "STATE", "CONNECTED", "SINCE", "LAST SEEN", "HIGH",
               "MEDIUM", "LOW", "OLDEST", "SENT 1H", "SENT 24H", "RECV 1H",
               "RECV 24H");
        for (i = 0; i < json_array_size(arr); i++) {
            json_t *o = json_array_get(arr, i),
                   *q = json_object_get(o, "queued");
            json_t *ls = json_object_get(o, "last_seen");
            const char *state =
                !json_is_true(json_object_get(o, "enrolled")) ? "unknown"
                : json_is_true(json_object_get(o, "revoked")) ? "revoked"
                                                              : "enrolled";
            json_t *cs = json_object_get(o, "connected_since");
            json_t *oa = json_object_get(o, "oldest_queued_age_s");
            char t2[32], age[32], w1[40], w2[40], w3[40], w4[40];
            printf("%-7s %-9s %-9s %-25s %-25s %6lld %6lld %6lld %6s "
                   "%-11s %-11s %-11s %-11s\n",
                   json_string_value(json_object_get(o, "country")), state,
                   json_is_true(json_object_get(o, "connected")) ? "yes" : "no",
                   json_is_integer(cs)
                       ? ewh_time_format(json_integer_value(cs), t2, sizeof(t2))
                       : "-",
                   json_is_integer(ls)
                       ? ewh_time_format(json_integer_value(ls), t, sizeof(t))
                       : "never",
                   (long long)json_integer_value(json_object_get(q, "high")),
                   (long long)json_integer_value(json_object_get(q, "medium")),
                   (long long)json_integer_value(json_object_get(q, "low")),
                   json_is_integer(oa)
                       ? s_age(json_integer_value(oa), age, sizeof(age))
                       : "-",
                   s_hml(o, "sent", "last_hour", w1, sizeof(w1)),
                   s_hml(o, "sent", "last_day", w2, sizeof(w2)),
                   s_hml(o, "received", "last_hour", w3, sizeof(w3)),
                   s_hml(o, "received", "last_day", w4, sizeof(w4)));
        }
        printf("total: %zu countries, %llu queued (high %llu, medium %llu, "
               "low %llu)\n",
               s.n, (unsigned long long)(tq[1] + tq[2] + tq[3]),
               (unsigned long long)tq[3], (unsigned long long)tq[2],
               (unsigned long long)tq[1]);
        {
            char w1[40], w2[40], w3[40], w4[40];
            printf("reports (high/medium/low): sent last hour %s, last day "
                   "%s; received last hour %s, last day %s\n",
                   s_hml(tot, "sent", "last_hour", w1, sizeof(w1)),
                   s_hml(tot, "sent", "last_day", w2, sizeof(w2)),
                   s_hml(tot, "received", "last_hour", w3, sizeof(w3)),
                   s_hml(tot, "received", "last_day", w4, sizeof(w4)));
        }
        if (running)
            printf(
                "since start: accepted %lld, refused %lld, duplicate "
                "%lld, delivered %lld, expired %lld, handshake refused "
                "%lld\n",
                (long long)json_integer_value(json_object_get(tot, "accepted")),
                (long long)json_integer_value(json_object_get(tot, "refused")),
                (long long)json_integer_value(
                    json_object_get(tot, "duplicate")),
                (long long)json_integer_value(
                    json_object_get(tot, "delivered")),
                (long long)json_integer_value(json_object_get(tot, "expired")),
                (long long)json_integer_value(
                    json_object_get(tot, "zap_refused")));
        if (running &&
            json_integer_value(json_object_get(tot, "audit_behind")) > 0)
            printf("AUDIT: %lld hellos named a checkpoint beyond this hub's "
                   "chain: the hub lost acknowledged reports (see the log, "
                   "docs/operations.md)\n",
                   (long long)json_integer_value(
                       json_object_get(tot, "audit_behind")));
        if (running && json_integer_value(json_object_get(tot, "stalled")) > 0)
            printf(
                "stalled sessions: %lld deliveries resent (none was "
                "acknowledged in time)\n",
                (long long)json_integer_value(json_object_get(tot, "stalled")));
        printf("refusals (last hour / day / retained):");
        if (json_array_size(refusals) == 0)
            printf(" none");
        for (i = 0; i < json_array_size(refusals); i++) {
            json_t *x = json_array_get(refusals, i);
            printf(
                " %s %lld/%lld/%lld",
                json_string_value(json_object_get(x, "reason")),
                (long long)json_integer_value(json_object_get(x, "last_hour")),
                (long long)json_integer_value(json_object_get(x, "last_day")),
                (long long)json_integer_value(json_object_get(x, "retained")));
        }
        printf("\nstore: %.1f MiB (+ %.1f MiB WAL)\n",
               (double)store_bytes / 1048576.0, (double)wal_bytes / 1048576.0);
        hub_status_returns_print(json_object_get(out, "returns"));
    }
    json_decref(out);
    json_decref(live);
    ewh_roster_destroy(&r);
    return 0;
}
