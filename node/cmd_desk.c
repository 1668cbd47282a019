/* cmd_desk.c — ewnode desk: start the web console (privileged part and
 * HTTP part, desk.h); the [desk] section of ewnode.conf. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"
#include "desk.h"
#include "ewh/config.h"
#include "ewh/log.h"

static int
s_duration(const char *name, const char *v, int64_t *out, struct ewh_err *err)
{
    struct ewh_err e = {0};

    if (ewh_duration_parse(v, 30 * 24 * 3600, out, &e) != 0)
        return ewh_err_set(err, EWH_E_INVALID, "%s: %s", name, e.reason);
    return 0;
}

static int
s_path(const char *name, const char *v, char *out, size_t cap,
       struct ewh_err *err)
{
    if (strlen(v) >= cap)
        return ewh_err_set(err, EWH_E_TOOBIG, "%s: longer than %zu bytes", name,
                           cap - 1);
    snprintf(out, cap, "%s", v);
    return 0;
}

static int
s_kv(void *ctx, const char *section, const char *name, const char *value,
     struct ewh_err *err)
{
    struct node_desk_config *c = ctx;
    uint64_t u;

    if (strcmp(section, "desk") != 0)
        return 0; /* [node] is dir.c's */
    if (strcmp(name, "listen") == 0)
        return s_path(name, value, c->listen, sizeof(c->listen), err);
    if (strcmp(name, "tls_cert") == 0)
        return s_path(name, value, c->tls_cert, sizeof(c->tls_cert), err);
    if (strcmp(name, "tls_key") == 0)
        return s_path(name, value, c->tls_key, sizeof(c->tls_key), err);
    if (strcmp(name, "session_idle") == 0)
        return s_duration(name, value, &c->policy.idle_s, err);
    if (strcmp(name, "lockout") == 0)
        return s_duration(name, value, &c->policy.lockout_s, err);
    if (strcmp(name, "lockout_failures") == 0) {
        if (ewh_config_uint(name, value, 1, 100, &u, err) != 0)
            return -1;
        c->policy.lockout_failures = (unsigned)u;
        return 0;
    }
    if (strcmp(name, "escalate_levels") == 0) {
        if (strcmp(value, "none") == 0) {
            c->escalate_levels = 0;
            return 0;
        }
        return node_cmd_levels(value, &c->escalate_levels, err);
    }
    if (strcmp(name, "escalate_after") == 0)
        return s_duration(name, value, &c->escalate_after_s[0], err);
    if (strcmp(name, "escalate2_after") == 0)
        return s_duration(name, value, &c->escalate_after_s[1], err);
    if (strcmp(name, "escalate_hook") == 0)
        return s_path(name, value, c->escalate_hook[0],
                      sizeof(c->escalate_hook[0]), err);
    if (strcmp(name, "escalate2_hook") == 0)
        return s_path(name, value, c->escalate_hook[1],
                      sizeof(c->escalate_hook[1]), err);
    if (strcmp(name, "escalate_content") == 0)
        return ewh_config_bool(name, value, &c->escalate_content, err);
    return ewh_err_set(err, EWH_E_INVALID, "unknown [desk] setting '%.32s'",
                       name);
}

int
node_desk_config_load(const struct node_dir *d, struct node_desk_config *c,
                      struct ewh_err *err)
{
    char f[1100];

    memset(c, 0, sizeof(*c));
    snprintf(c->listen, sizeof(c->listen), "%s", NODE_DESK_DEFAULT_LISTEN);
    node_users_policy_defaults(&c->policy);
    c->escalate_levels = 1u << EWH_LEVEL_HIGH;
    c->escalate_after_s[0] = EWH_DESK_ESCALATE_AFTER_S;
    node_dir_file(d, "ewnode.conf", f, sizeof(f));
    if (ewh_config_load(f, false, s_kv, c, err) != 0)
        return -1;
    if ((c->tls_cert[0] != '\0') != (c->tls_key[0] != '\0'))
        return ewh_err_set(err, EWH_E_INVALID,
                           "%s: [desk] needs both tls_cert and tls_key, or "
                           "neither",
                           f);
    if (c->escalate_after_s[1] != 0 &&
        c->escalate_after_s[1] <= c->escalate_after_s[0])
        return ewh_err_set(err, EWH_E_INVALID,
                           "%s: [desk] escalate2_after must be later than "
                           "escalate_after",
                           f);
    return 0;
}

static volatile sig_atomic_t s_child_pid;

int
node_cmd_desk(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"listen", required_argument, NULL, 'l'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    struct node_desk_config c;
    struct node_dir d = {0};
    struct ewh_err err = {0};
    struct rlimit rl = {0, 0};
    const char *dir = NULL, *listen = NULL;
    int ch, sv[2], rc;
    pid_t pid;

    while ((ch = getopt_long(argc, argv, "d:l:vh", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            dir = optarg;
            break;
        case 'l':
            listen = optarg;
            break;
        case 'v':
            ewh_log_init("ewnode", EWH_LOG_DEBUG);
            break;
        case 'h':
            return node_cmd_help("desk");
        default:
            return node_cmd_usage("desk", "bad option");
        }
    }
    if (optind != argc)
        return node_cmd_usage("desk", "unexpected argument");
    prctl(PR_SET_DUMPABLE, 0);
    setrlimit(RLIMIT_CORE, &rl);
    signal(SIGPIPE, SIG_IGN);

    /* Open the directory WITHOUT the secret key: the HTTP part is forked
     * from this state and never has the key in its memory. */
    if (node_cmd_open_dir(&d, dir, false, "desk") != 0)
        return 1;
    if (node_desk_config_load(&d, &c, &err) != 0) {
        node_dir_close(&d);
        return node_cmd_fail("desk", &err);
    }
    if (listen != NULL && snprintf(c.listen, sizeof(c.listen), "%s", listen) >=
                              (int)sizeof(c.listen)) {
        node_dir_close(&d);
        return node_cmd_usage("desk", "--listen too long");
    }
    {
        /* desk.db must exist (an account), before anything forks. */
        node_users_t *u = node_users_open(d.path, false, &err);
        if (u == NULL) {
            node_dir_close(&d);
            return node_cmd_fail("desk", &err);
        }
        node_users_close(&u);
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
        node_dir_close(&d);
        fatal("desk: socketpair");
    }
    {
        int sz = (int)NODE_DESK_MAX_MSG + 4096;
        setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
        setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
        setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
        setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
    }
    /* The store connection is not shared across fork: each side opens
     * its own. */
    node_store_close(&d.store);
    if ((pid = fork()) < 0)
        fatal("desk: fork");
    if (pid == 0) {
        close(sv[0]);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        if (getppid() == 1)
            _exit(1);
        {
            char f[1100];
            node_dir_file(&d, "store.db", f, sizeof(f));
            if ((d.store = node_store_open(f, false, &err)) == NULL)
                fatalx("desk: %s", err.reason);
        }
        rc = node_desk_http_run(&d, &c, sv[1]);
        node_dir_close(&d);
        _exit(rc);
    }
    close(sv[1]);
    s_child_pid = pid;
    node_dir_close(&d);
    if (node_cmd_open_dir(&d, dir, true, "desk") != 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        return 1;
    }
    ewh_log_info("desk: privileged part pid=%d, http part pid=%d",
                 (int)getpid(), (int)pid);
    rc = node_desk_priv_run(&d, &c, sv[0], pid);
    close(sv[0]);
    node_dir_close(&d);
    return rc;
}
