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
#include "ewh/limits.h"
#include "ewh/log.h"
#include "ewh/roster.h"

struct s_cmd {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
    const char *more; /* printed by `ewnode CMD --help` only */
};

/* The submit help states these limits in words. */
_Static_assert(EWH_MAX_TITLE_BYTES == 200 && EWH_MAX_BODY_BYTES == 65536 &&
                   EWH_MAX_EXPIRY_S == 90 * 24 * 3600,
               "update the limits in submit's help text");

static const struct s_cmd s_cmds[] = {
    {"init", node_cmd_init,
     "create keys, config and store; pin the hub's identity\n"
     "            --country CC --hub tcp://HOST:PORT --hub-key hub.pub "
     "[--author NAME]",
     NULL},
    {"run", node_cmd_run,
     "run the node agent (connects to the hub, sends and receives)\n"
     "            [--hub tcp://HOST:PORT] [-v]",
     NULL},
    {"submit", node_cmd_submit,
     "seal a report and queue it; prints its id\n"
     "            --level high|medium|low --to all|CC[,CC...] --category "
     "CAT\n"
     "            --title TEXT (--body TEXT | --body-file FILE|-)\n"
     "            [--tlp red|amber|green|clear] [--expires 90m|12h|3d]\n"
     "            [--author NAME] [--urgency U] [--certainty C]\n"
     "            [--updates ID | --cancels ID] [--reason TEXT]",
     "  --title      at most 200 bytes of UTF-8 "
     "(200 Latin letters, about 100\n"
     "               Cyrillic or Greek letters); not empty or only spaces\n"
     "  --body       at most 65536 bytes (64 KiB) of "
     "UTF-8 text; --body-file -\n"
     "               reads standard input\n"
     "  --to         all (every unrevoked country but this one) or country "
     "codes\n"
     "               separated by commas (\"HR,BG\", \"hr, bg\": case and "
     "spaces\n"
     "               do not matter)\n"
     "  --tlp        red, amber (default), green or clear; white is "
     "accepted as\n"
     "               the TLP 1.0 name of clear and stored as TLP:CLEAR\n"
     "  --expires    at most 90 days (90d); without it a report never "
     "expires\n"
     "  --updates ID replace the latest report of a chain of this node's "
     "own\n"
     "  --cancels ID end the whole chain of this node's report ID\n"
     "               Both go to every addressee of the chain unless --to "
     "narrows\n"
     "               them (with a warning); a cancelled chain cannot be "
     "updated.\n"
     "  ID           the full id or any unique abbreviation of it (at least "
     "4\n"
     "               hex digits, from its start or its end)\n"
     "  --reason TEXT why the level departs from the catalogue of concern's\n"
     "               default for the category (sealed); the guidance for\n"
     "               the category and level is shown, with a warning when\n"
     "               the level departs from it without a reason\n"},
    {"inbox", node_cmd_inbox,
     "list received reports, newest first\n"
     "            [--level L[,L]] [--from CC] [--unacked] [--json]\n"
     "            [--search TEXT] [--category CAT] [--since T] [--until T]\n"
     "            [--limit N] [--offset N]",
     "  --search TEXT  reports whose title or body contain every word of "
     "TEXT\n"
     "                 (case-insensitive for ASCII letters)\n"
     "  --since T, --until T  created at or after / before T: "
     "2026-11-22,\n"
     "                 2026-11-22T14:00 (local time), RFC 3339 with an "
     "offset,\n"
     "                 or a duration back from now (90m, 12h, 3d)\n"
     "  --limit N, --offset N  at most N reports, skipping the first "
     "N\n"
     "  Times are shown in the local time zone (TZ); --json stays in UTC.\n"},
    {"show", node_cmd_show,
     "show one report, received or sent\n"
     "            ID [--format text|json|cap]",
     NULL},
    {"ack", node_cmd_ack,
     "acknowledge a received report (a signed receipt goes to its "
     "origin)\n"
     "            ID [--who NAME]",
     NULL},
    {"watch", node_cmd_watch,
     "print reports as they arrive (unacknowledged backlog first, high "
     "first)\n"
     "            [--level L[,L]] [--json] [--exec CMD] [--exec-timeout S]",
     NULL},
    {"outbox", node_cmd_outbox,
     "sent reports and their state for every addressee\n"
     "            [--json]",
     NULL},
    {"hubs", node_cmd_hubs,
     "the hubs this node uses, in order (docs/redundancy.md)\n"
     "            add --hub tcp://HOST:PORT --hub-key FILE | list [--json]"
     " |\n"
     "            remove ENDPOINT",
     "  add     list another hub: its endpoint and its public identity "
     "file\n"
     "          (the hub's hub.pub; compare the fingerprint by telephone).\n"
     "          It is sent every report not yet receipted by all its\n"
     "          addressees.  At most 4 hubs (EWH_MAX_HUBS).\n"
     "  list    each hub: fingerprint, reports it accepted, lagging "
     "(accepted\n"
     "          by another hub, not yet by it), refills, and from the "
     "running\n"
     "          agent: connected, since, last frame, roster version and\n"
     "          mismatch\n"
     "  remove  stop using a hub (the last one cannot be removed)\n"
     "  All three work while the agent runs: it follows the list.\n"
     "  [node] min_hubs in ewnode.conf (default 1): a report counts as\n"
     "  accepted once that many hubs have it.\n"},
    {"peers", node_cmd_peers,
     "the roster: countries, fingerprints, verified or not, revoked\n"
     "            [--json] | verify CC FINGERPRINT (compared by telephone)",
     NULL},
    {"import-roster", node_cmd_import_roster,
     "apply a hub-signed roster file (offline enrolment)\n"
     "            FILE",
     NULL},
    {"rekey", node_cmd_rekey,
     "new keys beside the current ones; the agent switches once the hub\n"
     "            enrols node-CC.pub.new (no gap)   [--abort]",
     NULL},
    {"audit", node_cmd_audit,
     "check that the audit checkpoints this node holds are a prefix of\n"
     "            the hub's chain (reports any rewrite)",
     NULL},
    {"catalogue", node_cmd_catalogue,
     "the catalogue of concern: what high, medium and low mean per\n"
     "            category   [--json] [AREA]",
     NULL},
    {"exchange", node_cmd_exchange,
     "the annual exchange on security forces (docs/exchange.md)\n"
     "            template|import|validate|submit|list|show|compare|table|"
     "export",
     NULL},
    {"desk", node_cmd_desk,
     "serve the web console for analysts and liaison officers\n"
     "            [--listen 127.0.0.1:PORT] [-v]   (docs/desk.md)",
     NULL},
    {"user", node_cmd_user,
     "the desk's accounts: add|del|passwd|role|list\n"
     "            add NAME --role analyst|liaison|admin[,...] "
     "[--password-file F]",
     "  del NAME | passwd NAME [--password-file F] | role NAME --role R[,R]\n"
     "  | list [--json].  Without --password-file the password is read from\n"
     "  the terminal (twice, not echoed) or the first line of stdin.\n"},
    {"open", node_cmd_open,
     "verify and open an envelope file with this node's key\n"
     "            FILE|-",
     NULL},
    {NULL, NULL, NULL, NULL},
};

static const char *
s_category_help(const char *cat)
{
    size_t i;

    for (i = 0; ewh_default_categories[i] != NULL; i++)
        if (strcmp(ewh_default_categories[i], cat) == 0)
            return ewh_default_category_help[i];
    return "";
}

/* The categories of the roster the node holds (the hub's configured
 * list), else the defaults. */
static void
s_categories(FILE *f, const char *dir)
{
    struct node_dir d;
    struct ewh_err err = {0};
    ewh_roster_t *ro = NULL;
    size_t i;

    if (sodium_init() >= 0 &&
        node_dir_open(&d, node_dir_default(dir), false, &err) == 0) {
        ro = node_dir_roster(&d, &err);
        node_dir_close(&d);
    }
    if (ro != NULL && ewh_roster_category_count(ro) > 0) {
        fprintf(f,
                "\nreport categories (roster version %llu of this "
                "node; `ewnode peers` lists them too):\n",
                (unsigned long long)ewh_roster_version(ro));
        for (i = 0; i < ewh_roster_category_count(ro); i++)
            fprintf(f, "  %-24s %s\n", ewh_roster_category(ro, i),
                    s_category_help(ewh_roster_category(ro, i)));
    } else {
        fprintf(f,
                "\nreport categories (the defaults%s; the hub may "
                "configure others,\nsee `ewnode peers` once the node "
                "holds a roster):\n",
                ro != NULL ? " of the roster held" : "");
        for (i = 0; ewh_default_categories[i] != NULL; i++)
            fprintf(f, "  %-24s %s\n", ewh_default_categories[i],
                    ewh_default_category_help[i]);
    }
    ewh_roster_destroy(&ro);
}

static void
s_usage(FILE *f, const char *dir)
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
    s_categories(f, dir);
    fputs("\noptions:\n"
          "  --help      this text (COMMAND --help: that command's)\n"
          "  --version   print the version\n"
          "\nids: the full id or a unique abbreviation (4+ hex digits from "
          "its start or end)\n"
          "times: local time zone (TZ) for people, UTC in --json\n"
          "exit status: 0 success, 1 failure (the reason on stderr), 2 usage "
          "error\n",
          f);
}

static const struct s_cmd *
s_find(const char *name)
{
    size_t i;

    for (i = 0; s_cmds[i].name != NULL; i++)
        if (strcmp(s_cmds[i].name, name) == 0)
            return &s_cmds[i];
    return NULL;
}

int
node_cmd_help(const char *cmd)
{
    const struct s_cmd *c = s_find(cmd);
    const char *nl;

    if (c == NULL)
        return 0;
    nl = strchr(c->help, '\n');
    printf("usage: ewnode %s [--dir DIR] %s\n  ", cmd,
           nl != NULL ? nl + 13 : "");
    fwrite(c->help, 1, nl != NULL ? (size_t)(nl - c->help) : strlen(c->help),
           stdout);
    putchar('\n');
    if (c->more != NULL)
        fputs(c->more, stdout);
    return 0;
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
        /* ewnode --help [--dir DIR]: the categories of that node */
        s_usage(argc < 2 ? stderr : stdout,
                argc >= 4 && strcmp(argv[2], "--dir") == 0 ? argv[3] : NULL);
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
