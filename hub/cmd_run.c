/* cmd_run.c — ewhub run: daemon hygiene, then hub_run(). */
#include "cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <sodium.h>

#include "config.h"
#include "router.h"
#include "store.h"
#include "ewh/identity.h"
#include "ewh/keyfile.h"
#include "ewh/log.h"

static const char s_usage[] =
    "usage: ewhub run [--dir DIR] [--listen ENDPOINT] [-v]\n"
    "  --listen   ZeroMQ endpoint, e.g. tcp://127.0.0.1:7700 or\n"
    "             tcp://127.0.0.1:* for an ephemeral port (written to\n"
    "             DIR/endpoint)\n"
    "  -v         log every frame (metadata only)\n";

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
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"listen", required_argument, NULL, 'l'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    struct ewh_err err = {0};
    struct hub_config cfg;
    struct hub_run_args a;
    struct rlimit rl = {0, 0};
    ewh_secret_t *key = NULL;
    hub_store_t *st = NULL;
    const char *dir = NULL, *listen = NULL;
    char path[4096], pidpath[4096];
    sigset_t mask;
    int c, sigfd, rc;

    while ((c = getopt_long(argc, argv, "d:l:vh", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'l':
            listen = optarg;
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
        fatalx("run: unexpected argument '%s'", argv[optind]);
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

    hub_config_defaults(&cfg);
    hub_cmd_path(dir, "ewhub.conf", path, sizeof(path));
    if (hub_config_load(path, &cfg, &err) != 0)
        fatalx("run: %s", err.reason);
    if (listen != NULL) {
        if (strlen(listen) >= sizeof(cfg.listen))
            fatalx("run: --listen too long");
        snprintf(cfg.listen, sizeof(cfg.listen), "%s", listen);
    }
    hub_cmd_path(dir, "hub.key", path, sizeof(path));
    if ((key = ewh_secret_load(path, &err)) == NULL)
        fatalx("run: %s", err.reason);
    hub_cmd_path(dir, "store.db", path, sizeof(path));
    if ((st = hub_store_open(path, false, cfg.store_max_pages, &err)) == NULL)
        fatalx("run: %s (run 'ewhub init --dir %s' first?)", err.reason, dir);
    hub_cmd_path(dir, "ewhub.pid", pidpath, sizeof(pidpath));
    s_pidfile(pidpath);

    memset(&a, 0, sizeof(a));
    a.dir = dir;
    a.cfg = &cfg;
    a.key = key;
    a.store = st;
    a.sigfd = sigfd;
    rc = hub_run(&a, &err);
    if (rc != 0)
        ewh_log_errx("run: %s", err.reason);
    hub_store_close(&st);
    ewh_secret_destroy(&key);
    close(sigfd);
    unlink(pidpath);
    return rc == 0 ? 0 : 1;
}
