/* cmd_run.c — ewhub run: daemon hygiene, then hub_run(). */
#include "cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <sodium.h>

#include "config.h"
#include "hub.h"
#include "store.h"
#include "ewh/identity.h"
#include "ewh/keyfile.h"
#include "ewh/log.h"

static const char s_usage[] =
    "usage: ewhub run [--dir DIR] [--config FILE] [options] [-v]\n"
    "Settings come from DIR/ewhub.conf (or --config FILE); each flag below\n"
    "overrides the key named after it.  SIGHUP re-reads the file (flags\n"
    "still win); --listen and --max-pages need a restart.\n"
    "  --config FILE               config file (default DIR/ewhub.conf)\n"
    "  --listen ENDPOINT           [hub] listen: ZeroMQ endpoint, e.g.\n"
    "                              tcp://0.0.0.0:7700, or tcp://127.0.0.1:*\n"
    "                              for an ephemeral port (written to\n"
    "                              DIR/endpoint)\n"
    "  --max-frame-bytes N         [limits] max_frame_bytes\n"
    "  --max-inflight-submits N    [limits] max_inflight_submits\n"
    "  --submits-per-second N      [limits] submits_per_second\n"
    "  --max-queue N               [limits] max_queue\n"
    "  --stall-resend DUR          [limits] stall_resend (30s; never: off)\n"
    "  --max-pages N               [store] max_pages (0: no quota)\n"
    "  --categories LIST           [roster] categories, comma-separated\n"
    "  --retention-delivered DUR   [retention] delivered (30d, 12h, never)\n"
    "  --retention-expired DUR     [retention] expired\n"
    "  --metrics HOST:PORT         [monitor] metrics: serve Prometheus text\n"
    "                              on http://HOST:PORT/metrics (port 0:\n"
    "                              ephemeral, written to\n"
    "                              DIR/metrics_endpoint)\n"
    "  --events-keep N             [monitor] events_keep\n"
    "  -v, --verbose               log every frame (metadata only)\n";

/* Long options that set a config key: index into s_keys by val - 256. */
static const struct {
    const char *flag, *section, *name;
} s_keys[] = {
    {"listen", "hub", "listen"},
    {"max-frame-bytes", "limits", "max_frame_bytes"},
    {"max-inflight-submits", "limits", "max_inflight_submits"},
    {"submits-per-second", "limits", "submits_per_second"},
    {"max-queue", "limits", "max_queue"},
    {"stall-resend", "limits", "stall_resend"},
    {"max-pages", "store", "max_pages"},
    {"categories", "roster", "categories"},
    {"retention-delivered", "retention", "delivered"},
    {"retention-expired", "retention", "expired"},
    {"metrics", "monitor", "metrics"},
    {"events-keep", "monitor", "events_keep"},
};
#define S_NKEYS (sizeof(s_keys) / sizeof(s_keys[0]))

struct s_reload {
    const char *path;
    struct hub_config_override ov[S_NKEYS];
    size_t n_ov;
    struct hub_config *cfg;
    hub_store_t *st;
};

static bool
s_same_cats(const struct hub_config *a, const struct hub_config *b)
{
    size_t i;

    if (a->n_cats != b->n_cats)
        return false;
    for (i = 0; i < a->n_cats; i++)
        if (strcmp(a->cats[i], b->cats[i]) != 0)
            return false;
    return true;
}

/* SIGHUP: the file again, then the flags.  A bad file changes nothing. */
static void
s_reload(void *ctx)
{
    struct s_reload *r = ctx;
    struct hub_config n;
    struct ewh_err err = {0};
    uint64_t v = 0;

    if (hub_config_load_all(r->path, &n, r->ov, r->n_ov, &err) != 0) {
        ewh_log_errx("reload: %s; keeping the running settings", err.reason);
        return;
    }
    if (strcmp(n.listen, r->cfg->listen) != 0)
        ewh_log_warnx("reload: listen changed to %s; takes effect at the "
                      "next restart",
                      n.listen);
    if (n.store_max_pages != r->cfg->store_max_pages)
        ewh_log_warnx("reload: max_pages changed; takes effect at the next "
                      "restart");
    if (strcmp(n.region, r->cfg->region) != 0)
        ewh_log_warnx("reload: region changed to %s; takes effect at the "
                      "next restart (docs/federation.md)",
                      n.region);
    snprintf(n.listen, sizeof(n.listen), "%s", r->cfg->listen);
    snprintf(n.region, sizeof(n.region), "%s", r->cfg->region);
    n.store_max_pages = r->cfg->store_max_pages;
    if (!s_same_cats(&n, r->cfg)) {
        /* A new roster version carries the categories to the nodes. */
        if (hub_store_roster_bump(r->st, &v, &err) != 0)
            ewh_log_errx("reload: categories: %s", err.reason);
        else
            ewh_log_info("reload: categories changed (roster version %llu)",
                         (unsigned long long)v);
    }
    *r->cfg = n;
    ewh_log_info("reload: %s applied (max_queue %u, submits_per_second %u, "
                 "retention delivered %llds expired %llds)",
                 r->path, n.max_queue, n.submits_per_s,
                 (long long)n.retention_delivered_s,
                 (long long)n.retention_expired_s);
}

/* Refuse to start a second hub on the same dir; write our pid. */
static void
s_pidfile(const char *path)
{
    struct ewh_err err = {0};
    char *old = NULL, buf[32];
    size_t len;
    long pid;

    if (ewh_file_read(path, 64, &old, &len, &err) == 0) {
        pid = strtol(old, NULL, 10);
        free(old);
        if (pid > 0 && pid != getpid() && kill((pid_t)pid, 0) == 0)
            fatalx("run: a hub already runs on this dir (pid %ld, %s)", pid,
                   path);
    }
    snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
    if (ewh_keyfile_write(path, buf, strlen(buf), 0644, &err) != 0)
        fatalx("run: %s", err.reason);
}

int
hub_cmd_run(int argc, char **argv)
{
    struct option opts[S_NKEYS + 5];
    struct s_reload rl_ctx;
    struct ewh_err err = {0};
    struct hub_config cfg;
    struct hub_run_args a;
    struct rlimit rl = {0, 0};
    ewh_secret_t *key = NULL;
    hub_store_t *st = NULL;
    const char *dir = NULL, *conf = NULL;
    char path[4096], pidpath[4096], confpath[4096];
    sigset_t mask;
    size_t k;
    int c, sigfd, rc;

    memset(opts, 0, sizeof(opts));
    memset(&rl_ctx, 0, sizeof(rl_ctx));
    for (k = 0; k < S_NKEYS; k++)
        opts[k] = (struct option){s_keys[k].flag, required_argument, NULL,
                                  256 + (int)k};
    opts[k++] = (struct option){"dir", required_argument, NULL, 'd'};
    opts[k++] = (struct option){"config", required_argument, NULL, 'c'};
    opts[k++] = (struct option){"verbose", no_argument, NULL, 'v'};
    opts[k++] = (struct option){"help", no_argument, NULL, 'h'};
    while ((c = getopt_long(argc, argv, "d:c:l:vh", opts, NULL)) != -1) {
        if (c == 'l')
            c = 256; /* -l: --listen */
        if (c >= 256 && c < 256 + (int)S_NKEYS) {
            struct hub_config_override *o = &rl_ctx.ov[rl_ctx.n_ov];
            for (k = 0; k < rl_ctx.n_ov; k++)
                if (strcmp(rl_ctx.ov[k].flag, s_keys[c - 256].flag) == 0)
                    o = &rl_ctx.ov[k]; /* the last one wins */
            if (o == &rl_ctx.ov[rl_ctx.n_ov])
                rl_ctx.n_ov++;
            o->flag = s_keys[c - 256].flag;
            o->section = s_keys[c - 256].section;
            o->name = s_keys[c - 256].name;
            o->value = optarg;
            continue;
        }
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'c':
            conf = optarg;
            break;
        case 'v':
            ewh_log_setlevel(EWH_LOG_DEBUG);
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
        return hub_cmd_usage(s_usage, "run: unexpected argument '%s'",
                             argv[optind]);
    dir = hub_cmd_dir(dir);

    /* Before any thread (the zmq context) starts. */
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0)
        fatal("run: sigprocmask");
    if ((sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
        fatal("run: signalfd");
    signal(SIGPIPE, SIG_IGN);
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        fatal("run: prctl");
    if (setrlimit(RLIMIT_CORE, &rl) != 0)
        fatal("run: setrlimit");
    if (sodium_init() < 0)
        fatalx("run: sodium_init failed");

    if (conf != NULL)
        snprintf(confpath, sizeof(confpath), "%s", conf);
    else
        hub_cmd_path(dir, "ewhub.conf", confpath, sizeof(confpath));
    if (hub_config_load_all(confpath, &cfg, rl_ctx.ov, rl_ctx.n_ov, &err) != 0)
        fatalx("run: %s", err.reason);
    hub_cmd_path(dir, "hub.key", path, sizeof(path));
    if ((key = ewh_secret_load(path, &err)) == NULL)
        fatalx("run: %s", err.reason);
    hub_cmd_path(dir, "store.db", path, sizeof(path));
    if ((st = hub_store_open(path, HUB_STORE_UPGRADE, cfg.store_max_pages,
                             &err)) == NULL)
        fatalx("run: %s (run 'ewhub init --dir %s' first?)", err.reason, dir);
    if (hub_store_check(st, &err) != 0 ||
        hub_store_checkpointer_start(st, path, &err) != 0 ||
        hub_store_counter_start(st, path, &err) != 0)
        fatalx("run: %s", err.reason);
    hub_cmd_path(dir, "ewhub.pid", pidpath, sizeof(pidpath));
    s_pidfile(pidpath);

    memset(&a, 0, sizeof(a));
    a.dir = dir;
    a.cfg = &cfg;
    a.key = key;
    a.store = st;
    a.sigfd = sigfd;
    rl_ctx.path = confpath;
    rl_ctx.cfg = &cfg;
    rl_ctx.st = st;
    a.reload = s_reload;
    a.reload_ctx = &rl_ctx;
    rc = hub_run(&a, &err);
    if (rc != 0)
        ewh_log_errx("run: %s", err.reason);
    hub_store_close(&st);
    ewh_secret_destroy(&key);
    close(sigfd);
    unlink(pidpath);
    return rc == 0 ? 0 : 1;
}
