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
    static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
                                         {"hub", required_argument, NULL, 'H'},
                                         {"verbose", no_argument, NULL, 'v'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *dir = NULL, *hub = NULL;
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
            hub = optarg;
            break;
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
    if (hub != NULL) {
        if (strncmp(hub, "tcp://", 6) != 0 || strlen(hub) >= sizeof(d.cfg.hub))
            fatalx("--hub must be tcp://HOST:PORT");
        snprintf(d.cfg.hub, sizeof(d.cfg.hub), "%s", hub);
    }
    rc = node_run(&d, sfd, &err);
    node_dir_close(&d);
    close(sfd);
    if (rc != 0)
        fatalx("%s", err.reason);
    ewh_log_info("exiting");
    return 0;
}
