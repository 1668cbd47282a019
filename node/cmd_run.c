/* cmd_run.c — ewnode run: the node agent daemon. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "agent.h"
#include "cmd.h"
#include "ewh/log.h"

int
node_cmd_run(int argc, char **argv)
{
    /* Flags that override a key of ewnode.conf: val - 256 indexes s_keys. */
    static const char *const s_keys[] = {
        "hub",          "credit",       "reconnect_ms", "reconnect_max_ms",
        "heartbeat_ms", "hook_timeout", "metrics",
    };
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"hub", required_argument, NULL, 256},
        {"credit", required_argument, NULL, 257},
        {"reconnect-ms", required_argument, NULL, 258},
        {"reconnect-max-ms", required_argument, NULL, 259},
        {"heartbeat-ms", required_argument, NULL, 260},
        {"hook-timeout", required_argument, NULL, 261},
        {"metrics", required_argument, NULL, 262},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *ov[7] = {NULL};
    const char *dir = NULL;
    size_t k;
    struct node_dir d;
    struct ewh_err err = {0};
    struct rlimit rl = {0, 0};
    sigset_t set;
    int ch, sfd, rc;

    while ((ch = getopt_long(argc, argv, "d:H:vh", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            dir = optarg;
            break;
        case 'H':
            ov[0] = optarg;
            break;
        case 256:
        case 257:
        case 258:
        case 259:
        case 260:
        case 261:
        case 262:
            ov[ch - 256] = optarg;
            break;
        case 'h':
            fputs("usage: ewnode run [--dir DIR] [-v] [--hub tcp://HOST:PORT]\n"
                  "  [--credit N] [--reconnect-ms MS] [--reconnect-max-ms MS]\n"
                  "  [--heartbeat-ms MS] [--hook-timeout S] "
                  "[--metrics HOST:PORT]\n"
                  "Each flag overrides the ewnode.conf key of the same name "
                  "(- for _).\n",
                  stdout);
            return 0;
        case 'v':
            ewh_log_setlevel(EWH_LOG_DEBUG);
            break;
        default:
            return node_cmd_usage("run", "bad option");
        }
    }
    if (optind != argc)
        return node_cmd_usage("run", "unexpected argument");

    /* No core dumps or ptrace of a process holding keys and plaintext. */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    setrlimit(RLIMIT_CORE, &rl);
    /* Signals are read from a signalfd; block them before any thread
     * (the zmq context) starts. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
        fatal("sigprocmask");
    signal(SIGPIPE, SIG_IGN);
    if ((sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
        fatal("signalfd");

    if (node_dir_open(&d, node_dir_default(dir), true, &err) != 0)
        fatalx("%s", err.reason);
    if (node_dir_lock(&d, &err) != 0) {
        node_dir_close(&d);
        fatalx("run: %s", err.reason);
    }
    if (node_store_check(d.store, &err) != 0) {
        node_dir_close(&d);
        fatalx("%s", err.reason);
    }
    for (k = 0; k < sizeof(s_keys) / sizeof(s_keys[0]); k++) {
        if (ov[k] == NULL)
            continue;
        if (node_config_set(&d.cfg, s_keys[k], ov[k], &err) != 0) {
            node_dir_close(&d);
            fatalx("--%s: %s", opts[k + 1].name, err.reason);
        }
    }
    {
        size_t n_hubs = 0;
        if (node_store_hubs_count(d.store, &n_hubs, &err) != 0 ||
            node_config_check_hubs(&d.cfg, n_hubs, &err) != 0) {
            node_dir_close(&d);
            fatalx("run: %s", err.reason);
        }
    }
    rc = node_run(&d, sfd, &err);
    node_dir_close(&d);
    close(sfd);
    if (rc != 0)
        fatalx("%s", err.reason);
    ewh_log_info("exiting");
    return 0;
}
