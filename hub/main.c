/* main.c — ewhub: the hub daemon and the operator's subcommands. */
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cmd.h"
#include "rotate.h"
#include "ewh/log.h"
#include "ewh/roster.h"

static const char s_usage[] =
    "usage: ewhub COMMAND [--dir DIR] [options]\n"
    "\n"
    "The ewhub hub: authenticates nodes, stores every report durably and\n"
    "relays it.  It never sees report content.\n"
    "\n"
    "commands:\n"
    "  init      create the data dir, hub keys and config\n"
    "  enroll    enrol (or re-key) a node from its public identity file:\n"
    "              ewhub enroll [--dir DIR] node-RS.pub\n"
    "  revoke    revoke a country: ewhub revoke [--dir DIR] CC\n"
    "  roster    share the roster with the region's other hubs: ewhub\n"
    "            roster export --out FILE; ewhub roster import --from-key\n"
    "            OTHER-hub.pub FILE (docs/roster-sharing.md)\n"
    "  run       run the hub daemon: ewhub run [--dir DIR] [--config FILE]\n"
    "              [--listen E] [--max-queue N] [--retention-delivered D]\n"
    "              [...] [-v]  (every config key has a flag; see run --help)\n"
    "  rotate-keys  rotate the hub's own keys: announce, then --commit\n"
    "              (or --abort); nodes accept keys the old key announced\n"
    "  status    show nodes, connections and queues: [--json]\n"
    "  traffic   traffic events, metadata only: [--follow] [--since T]\n"
    "            [--json]\n"
    "  audit     verify the audit trail: ewhub audit verify [--dir DIR]\n"
    "  backup    take a consistent online copy of the store: ewhub backup\n"
    "            [--dir DIR] FILE (restore: docs/operations.md)\n"
    "  catalogue the catalogue of concern: ewhub catalogue export [--dir\n"
    "            DIR] > FILE; ewhub catalogue publish [--dir DIR] [--yes]\n"
    "            FILE (docs/catalogue.md)\n"
    "\n"
    "options:\n"
    "  --dir DIR   data dir (default $EWHUB_DIR, else " HUB_DEFAULT_DIR ")\n"
    "  --help      this text (COMMAND --help: that command's)\n"
    "  --version   print the version\n"
    "\n"
    "exit status: 0 success, 1 failure (the reason on stderr), 2 usage "
    "error\n"
    "\n"
    "report categories (default list; set [roster] categories in\n"
    "DIR/ewhub.conf):\n";

static void
s_help(FILE *f)
{
    size_t i;

    fputs(s_usage, f);
    for (i = 0; ewh_default_categories[i] != NULL; i++)
        fprintf(f, "  %-24s %s\n", ewh_default_categories[i],
                ewh_default_category_help[i]);
}

/* No data dir longer than HUB_MAX_DIR_CHARS, so every DIR/name fits. */
static bool
s_dir_fits(int argc, char **argv)
{
    const char *env = getenv("EWHUB_DIR");
    int i;

    if (env != NULL && strlen(env) > HUB_MAX_DIR_CHARS)
        return false;
    for (i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--dir=", 6) == 0 &&
            strlen(argv[i] + 6) > HUB_MAX_DIR_CHARS)
            return false;
        if ((strcmp(argv[i], "--dir") == 0 || strcmp(argv[i], "-d") == 0) &&
            i + 1 < argc && strlen(argv[i + 1]) > HUB_MAX_DIR_CHARS)
            return false;
        if (strncmp(argv[i], "-d", 2) == 0 && argv[i][2] != '\0' &&
            argv[i][2] != '-' && strlen(argv[i] + 2) > HUB_MAX_DIR_CHARS)
            return false;
    }
    return true;
}

int
main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {
        {"init", hub_cmd_init},
        {"enroll", hub_cmd_enroll},
        {"revoke", hub_cmd_revoke},
        {"roster", hub_cmd_roster},
        {"run", hub_cmd_run},
        {"status", hub_cmd_status},
        {"rotate-keys", hub_cmd_rotate},
        {"traffic", hub_cmd_traffic},
        {"audit", hub_cmd_audit},
        {"backup", hub_cmd_backup},
        {"catalogue", hub_cmd_catalogue},
        {NULL, NULL},
    };
    size_t i;

    ewh_log_init("ewhub", EWH_LOG_INFO);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        s_help(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("ewhub %s\n", EWH_VERSION);
        return 0;
    }
    if (!s_dir_fits(argc, argv)) {
        fprintf(stderr,
                "ewhub: the data dir (--dir or $EWHUB_DIR) is longer "
                "than %d characters\n",
                HUB_MAX_DIR_CHARS);
        return 2;
    }
    if (sodium_init() < 0)
        fatalx("sodium_init failed");
    for (i = 0; cmds[i].name != NULL; i++)
        if (strcmp(argv[1], cmds[i].name) == 0)
            return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "ewhub: unknown command '%s' (see ewhub --help)\n",
            argv[1]);
    return 2;
}
