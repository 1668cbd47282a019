/* cmd_traffic.c — ewhub traffic: one line per event, metadata only. */
#include "cmd.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "store.h"
#include "ewh/log.h"
#include "ewh/util.h"

#define S_FOLLOW_MS 200 /* --follow polls the events table this often */
#define S_PAGE      1000
#define S_REOPEN_MS 500 /* a replaced store that is not there yet */

static const char s_usage[] =
    "usage: ewhub traffic [--dir DIR] [--follow] [--since T] [--json]\n"
    "  One line per event: submit accepted, refused (with the reason) or\n"
    "  duplicate, delivered, acknowledged, expired, node connected,\n"
    "  disconnected or refused at the handshake.  Metadata only.\n"
    "  --since T   events from T on: unix seconds, or a duration ago\n"
    "              (90s, 10m, 2h, 1d)\n"
    "  --follow    keep printing new events as they happen (like tail -f);\n"
    "              a store replaced underneath (a restore) is reopened\n"
    "  --json      one JSON object per line\n";

struct s_ctx {
    bool json;
    int64_t last;
};

static int
s_print(void *ctx, const struct hub_event *ev)
{
    struct s_ctx *c = ctx;
    char idhex[2 * EWH_ID_BYTES + 1] = "", t[32];

    c->last = ev->seq;
    if (ev->has_id)
        ewh_hex(ev->id, EWH_ID_BYTES, idhex, sizeof(idhex));
    if (c->json) {
        json_t *o = json_object(), *rc = json_array();
        char buf[EWH_MAX_RECIPIENTS * 3 + 1], *save = NULL, *tok;

        json_object_set_new(o, "seq", json_integer(ev->seq));
        json_object_set_new(o, "time", json_integer(ev->at));
        json_object_set_new(o, "event",
                            json_string(hub_event_kind_name(ev->kind)));
        json_object_set_new(o, "id",
                            ev->has_id ? json_string(idhex) : json_null());
        json_object_set_new(
            o, "origin", ev->origin[0] ? json_string(ev->origin) : json_null());
        snprintf(buf, sizeof(buf), "%s", ev->recipients);
        for (tok = strtok_r(buf, ",", &save); tok != NULL;
             tok = strtok_r(NULL, ",", &save))
            json_array_append_new(rc, json_string(tok));
        json_object_set_new(o, "recipients", rc);
        json_object_set_new(o, "level",
                            ev->level >= 1 && ev->level <= 3
                                ? json_string(ewh_level_name(ev->level))
                                : json_null());
        json_object_set_new(
            o, "size", ev->size >= 0 ? json_integer(ev->size) : json_null());
        json_object_set_new(o, "code",
                            ev->code[0] ? json_string(ev->code) : json_null());
        json_object_set_new(
            o, "reason", ev->reason[0] ? json_string(ev->reason) : json_null());
        json_object_set_new(o, "key",
                            ev->key[0] ? json_string(ev->key) : json_null());
        json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
        putchar('\n');
        json_decref(o);
    } else {
        printf("%s %-12s %-32s %-2s", ewh_time_format(ev->at, t, sizeof(t)),
               hub_event_kind_name(ev->kind), ev->has_id ? idhex : "-",
               ev->origin[0] ? ev->origin : "-");
        if (ev->recipients[0])
            printf(" to=%s", ev->recipients);
        if (ev->level >= 1 && ev->level <= 3)
            printf(" level=%s", ewh_level_name(ev->level));
        if (ev->size >= 0)
            printf(" size=%lld", (long long)ev->size);
        if (ev->code[0])
            printf(" code=%s", ev->code);
        if (ev->key[0])
            printf(" key=%s", ev->key);
        if (ev->reason[0])
            printf(" reason=\"%s\"", ev->reason);
        putchar('\n');
    }
    return 0;
}

/* --since: unix seconds, or a duration back from now; -1 (err set) when
 * neither. */
static int64_t
s_since(const char *arg, struct ewh_err *err)
{
    int64_t v;
    char *end;

    v = strtoll(arg, &end, 10);
    if (*end == '\0' && end != arg && v >= 0)
        return v;
    if (ewh_duration_parse(arg, 10LL * 365 * 86400, &v, err) != 0)
        return -1;
    return ewh_now() - v;
}

/* Which file a path named when it was opened. */
struct s_fileid {
    dev_t dev;
    ino_t ino;
};

static hub_store_t *
s_open(const char *path, struct s_fileid *id, struct ewh_err *err)
{
    struct stat sb;
    hub_store_t *st;

    /* The file first: one replaced between the stat and the open is
     * noticed at the next check and reopened once more. */
    if (stat(path, &sb) != 0) {
        ewh_err_set(err, EWH_E_IO, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if ((st = hub_store_open(path, 0, 0, err)) == NULL)
        return NULL;
    id->dev = sb.st_dev;
    id->ino = sb.st_ino;
    return st;
}

/* Is path now another file than id (or none)? */
static bool
s_replaced(const char *path, const struct s_fileid *id)
{
    struct stat sb;

    if (stat(path, &sb) != 0)
        return true;
    return sb.st_dev != id->dev || sb.st_ino != id->ino;
}

int
hub_cmd_traffic(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"follow", no_argument, NULL, 'f'},
        {"since", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    struct ewh_err err = {0};
    struct s_ctx c = {0};
    struct s_fileid id;
    hub_store_t *st;
    const char *dir = NULL;
    char path[4096], t[32];
    bool follow = false, waited = false;
    int64_t since = 0, before, polled;
    int ch;

    while ((ch = getopt_long(argc, argv, "d:fs:jh", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            dir = optarg;
            break;
        case 'f':
            follow = true;
            break;
        case 's':
            since = s_since(optarg, &err);
            break;
        case 'j':
            c.json = true;
            break;
        case 'h':
            fputs(s_usage, stdout);
            return 0;
        default:
            fputs(s_usage, stderr);
            return 2;
        }
    }
    if (optind != argc)
        return hub_cmd_usage(s_usage, "traffic: unexpected argument '%s'",
                             argv[optind]);
    if (since < 0)
        return hub_cmd_usage(s_usage, "traffic: --since: %s", err.reason);
    dir = hub_cmd_dir(dir);
    signal(SIGPIPE, SIG_DFL);
    hub_cmd_path(dir, "store.db", path, sizeof(path));
    if ((st = s_open(path, &id, &err)) == NULL)
        return hub_cmd_fail("traffic: %s", err.reason);
    for (;;) {
        before = c.last;
        polled = ewh_now();
        if (hub_store_event_walk(st, c.last, since, S_PAGE, s_print, &c,
                                 &err) != 0) {
            hub_store_close(&st);
            return hub_cmd_fail("traffic: %s", err.reason);
        }
        fflush(stdout);
        if (c.last - before >= S_PAGE || (c.last != before && !follow))
            continue;
        if (!follow)
            break;
        usleep(S_FOLLOW_MS * 1000);
        if (!s_replaced(path, &id))
            continue;
        /* A restore (or any replacement) put another file at the path:
         * this connection would go on reading the old one and print
         * nothing more.  Reopen, and go on with the events of the new
         * store from the second the old one was last read (its seqs need
         * not continue the old ones'). */
        hub_store_close(&st);
        fprintf(stderr,
                "traffic: %s was replaced (a restore?); reopening and "
                "following its events from %s on\n",
                path, ewh_time_format(polled, t, sizeof(t)));
        while ((st = s_open(path, &id, &err)) == NULL) {
            if (!waited)
                fprintf(stderr, "traffic: waiting for %s: %s\n", path,
                        err.reason);
            waited = true;
            usleep(S_REOPEN_MS * 1000);
        }
        waited = false;
        c.last = 0;
        since = polled;
    }
    hub_store_close(&st);
    return 0;
}