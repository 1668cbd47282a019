/* cmd_status.c — ewhub status: nodes, connections, queues (metadata). */
#include "cmd.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include <jansson.h>

#include "store.h"
#include "ewh/log.h"
#include "ewh/roster.h"
#include "ewh/util.h"

#define S_STALE_S 5 /* status.json older than this: the hub is not running */

struct s_row {
    char cc[EWH_CC_BYTES];
    bool revoked;
    uint64_t q[4];
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
    json_error_t jerr;
    const char *dir = NULL;
    char path[4096], t[32];
    bool json = false, running = false;
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
            printf("usage: ewhub status [--dir DIR] [--json]\n");
            return 0;
        default:
            return 2;
        }
    }
    dir = hub_cmd_dir(dir);
    memset(&s, 0, sizeof(s));
    hub_cmd_path(dir, "store.db", path, sizeof(path));
    if ((st = hub_store_open(path, false, 0, &err)) == NULL)
        fatalx("status: %s", err.reason);
    if (hub_store_roster_load(st, &r, &err) != 0 ||
        hub_store_queue_counts(st, s_count, &s, &err) != 0)
        fatalx("status: %s", err.reason);
    hub_store_close(&st);
    for (i = 0; i < ewh_roster_count(r); i++) {
        bool rev;
        const struct ewh_pubid *id = ewh_roster_at(r, i, &rev);
        struct s_row *row = s_row(&s, id->country);
        if (row != NULL)
            row->revoked = rev;
    }
    /* Live state from the daemon's status file, if it is fresh. */
    hub_cmd_path(dir, "status.json", path, sizeof(path));
    live = json_load_file(path, 0, &jerr);
    if (live != NULL) {
        json_int_t pid = json_integer_value(json_object_get(live, "pid"));
        json_int_t when = json_integer_value(json_object_get(live, "time"));
        running = pid > 0 && kill((pid_t)pid, 0) == 0 &&
                  ewh_now() - when <= S_STALE_S;
        lnodes = json_object_get(live, "nodes");
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
        json_object_set_new(o, "last_seen",
                            seen > 0 ? json_integer(seen) : json_null());
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
            "accepted", "duplicate",   "refused",  "delivered",
            "expired",  "zap_refused", "receipts", NULL};
        for (i = 0; keys[i] != NULL; i++)
            json_object_set(tot, keys[i], json_object_get(live, keys[i]));
    }
    json_object_set_new(out, "totals", tot);

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
        printf("%-7s %-9s %-9s %-25s %7s %7s %7s\n", "COUNTRY", "STATE",
               "CONNECTED", "LAST SEEN", "HIGH", "MEDIUM", "LOW");
        for (i = 0; i < json_array_size(arr); i++) {
            json_t *o = json_array_get(arr, i),
                   *q = json_object_get(o, "queued");
            json_t *ls = json_object_get(o, "last_seen");
            const char *state =
                !json_is_true(json_object_get(o, "enrolled")) ? "unknown"
                : json_is_true(json_object_get(o, "revoked")) ? "revoked"
                                                              : "enrolled";
            printf("%-7s %-9s %-9s %-25s %7lld %7lld %7lld\n",
                   json_string_value(json_object_get(o, "country")), state,
                   json_is_true(json_object_get(o, "connected")) ? "yes" : "no",
                   json_is_integer(ls)
                       ? ewh_time_format(json_integer_value(ls), t, sizeof(t))
                       : "never",
                   (long long)json_integer_value(json_object_get(q, "high")),
                   (long long)json_integer_value(json_object_get(q, "medium")),
                   (long long)json_integer_value(json_object_get(q, "low")));
        }
        printf("total: %zu countries, %llu queued (high %llu, medium %llu, "
               "low %llu)\n",
               s.n, (unsigned long long)(tq[1] + tq[2] + tq[3]),
               (unsigned long long)tq[3], (unsigned long long)tq[2],
               (unsigned long long)tq[1]);
    }
    json_decref(out);
    json_decref(live);
    ewh_roster_destroy(&r);
    return 0;
}
