/* main.c — ewnode: the node agent and the analyst's and liaison officer's
 * subcommands. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cmd.h"
#include "rekey.h"
#include "ewh/log.h"
#include "ewh/roster.h"

struct s_cmd {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
};

static const struct s_cmd s_cmds[] = {
    {"init", node_cmd_init,
     "create keys, config and store; pin the hub's identity\n"
     "            --country CC --hub tcp://HOST:PORT --hub-key hub.pub "
     "[--author NAME]"},
    {"run", node_cmd_run,
     "run the node agent (connects to the hub, sends and receives)\n"
     "            [--hub tcp://HOST:PORT] [-v]"},
    {"submit", node_cmd_submit,
     "seal a report and queue it; prints its id\n"
     "            --level high|medium|low --to all|CC[,CC...] --category "
     "CAT\n"
     "            --title TEXT (--body TEXT | --body-file FILE|-)\n"
     "            [--tlp red|amber|green|clear] [--expires 90m|12h|3d]\n"
     "            [--author NAME] [--urgency U] [--certainty C]\n"
     "            [--updates ID | --cancels ID]"},
    {"inbox", node_cmd_inbox,
     "list received reports, newest first\n"
     "            [--level L[,L]] [--from CC] [--unacked] [--json]"},
    {"show", node_cmd_show,
     "show one report, received or sent\n"
     "            ID [--format text|json|cap]"},
    {"ack", node_cmd_ack,
     "acknowledge a received report (a signed receipt goes to its "
     "origin)\n"
     "            ID [--who NAME]"},
    {"watch", node_cmd_watch,
     "print reports as they arrive (unacknowledged backlog first, high "
     "first)\n"
     "            [--level L[,L]] [--json] [--exec CMD] [--exec-timeout S]"},
    {"outbox", node_cmd_outbox,
     "sent reports and their state for every addressee\n"
     "            [--json]"},
    {"peers", node_cmd_peers,
     "the roster: countries, fingerprints, verified or not, revoked\n"
     "            [--json] | verify CC FINGERPRINT (compared by telephone)"},
    {"import-roster", node_cmd_import_roster,
     "apply a hub-signed roster file (offline enrolment)\n"
     "            FILE"},
    {"rekey", node_cmd_rekey,
     "new keys beside the current ones; the agent switches once the hub\n"
     "            enrols node-CC.pub.new (no gap)   [--abort]"},
    {"audit", node_cmd_audit,
     "check that the audit checkpoints this node holds are a prefix of\n"
     "            the hub's chain (reports any rewrite)"},
    {"open", node_cmd_open,
     "verify and open an envelope file with this node's key\n"
     "            FILE|-"},
    {NULL, NULL, NULL},
};

static void
s_usage(FILE *f)
{
    size_t i;

    fputs("usage: ewnode COMMAND [--dir DIR] [options]\n"
          "\n"
          "The ewhub node agent and the analyst's and liaison officer's "
          "commands.\n"
          "Every command takes --dir DIR (default $EWNODE_DIR, "
          "else " NODE_DEFAULT_DIR ").\n"
          "\n"
          "commands:\n",
          f);
    for (i = 0; s_cmds[i].name != NULL; i++)
        fprintf(f, "  %-9s %s\n", s_cmds[i].name, s_cmds[i].help);
    fputs("\nreport categories (the hub may configure others; see "
          "`ewnode peers`):\n",
          f);
    for (i = 0; ewh_default_categories[i] != NULL; i++)
        fprintf(f, "  %-24s %s\n", ewh_default_categories[i],
                ewh_default_category_help[i]);
    fputs("\noptions:\n"
          "  --help      this text\n"
          "  --version   print the version\n",
          f);
}

int
node_cmd_fail(const char *cmd, const struct ewh_err *err)
{
    fprintf(stderr, "ewnode %s: %s\n", cmd,
            err->reason[0] ? err->reason : "failed");
    return 1;
}

int
node_cmd_usage(const char *cmd, const char *msg)
{
    size_t i;

    fprintf(stderr, "ewnode %s: %s\n", cmd, msg);
    for (i = 0; s_cmds[i].name != NULL; i++)
        if (strcmp(s_cmds[i].name, cmd) == 0)
            fprintf(stderr, "usage: ewnode %s [--dir DIR] %s\n", cmd,
                    strchr(s_cmds[i].help, '\n') != NULL
                        ? strchr(s_cmds[i].help, '\n') + 13
                        : "");
    return 2;
}

int
node_cmd_open_dir(struct node_dir *d, const char *dir, bool with_secret,
                  const char *cmd)
{
    struct ewh_err err = {0};

    if (node_dir_open(d, node_dir_default(dir), with_secret, &err) != 0) {
        node_cmd_fail(cmd, &err);
        return -1;
    }
    return 0;
}

int
node_cmd_levels(const char *s, unsigned *out, struct ewh_err *err)
{
    char buf[64], *tok, *save = NULL;
    enum ewh_level l;

    *out = 0;
    if (strlen(s) >= sizeof(buf))
        return ewh_err_set(err, EWH_E_INVALID, "bad level list");
    snprintf(buf, sizeof(buf), "%s", s);
    for (tok = strtok_r(buf, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        if ((l = ewh_level_parse(tok)) == EWH_LEVEL_NONE)
            return ewh_err_set(err, EWH_E_INVALID,
                               "bad level '%.16s' (high, medium or low)", tok);
        *out |= 1u << l;
    }
    if (*out == 0)
        return ewh_err_set(err, EWH_E_INVALID,
                           "bad level (high, medium or low)");
    return 0;
}

int
node_cmd_read_file(const char *path, size_t cap, char **out, size_t *len,
                   struct ewh_err *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, got;

    if (f == NULL)
        return ewh_err_set(err, EWH_E_IO, "%s: %s", path, strerror(errno));
    if ((buf = malloc(cap + 2)) == NULL) {
        if (f != stdin)
            fclose(f);
        return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
    }
    while ((got = fread(buf + n, 1, cap + 1 - n, f)) > 0) {
        n += got;
        if (n > cap)
            break;
    }
    if (f != stdin)
        fclose(f);
    if (n > cap) {
        sodium_memzero(buf, n);
        free(buf);
        return ewh_err_set(err, EWH_E_TOOBIG, "%s is larger than %zu bytes",
                           path, cap);
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

int
main(int argc, char **argv)
{
    size_t i;

    ewh_log_init("ewnode", EWH_LOG_INFO);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        s_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("ewnode %s\n", EWH_VERSION);
        return 0;
    }
    if (sodium_init() < 0)
        fatalx("libsodium failed to initialise");
    for (i = 0; s_cmds[i].name != NULL; i++)
        if (strcmp(argv[1], s_cmds[i].name) == 0)
            return s_cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "ewnode: unknown command '%s' (see ewnode --help)\n",
            argv[1]);
    return 2;
}
