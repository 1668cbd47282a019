/* main.c — ewhub: the hub daemon and the operator's subcommands. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ewh/log.h"

static const char s_usage[] =
    "usage: ewhub COMMAND [--dir DIR] [options]\n"
    "\n"
    "The ewhub hub: authenticates nodes, stores every report durably and\n"
    "relays it.  It never sees report content.\n"
    "\n"
    "commands:\n"
    "  init      create the data dir, hub keys and config\n"
    "  enroll    enrol (or re-key) a node from its public identity file\n"
    "  revoke    revoke a country\n"
    "  run       run the hub daemon\n"
    "  status    show nodes, connections and queues\n"
    "  traffic   show traffic events (metadata only)\n"
    "  audit     verify the audit trail\n"
    "  backup    take a consistent online copy of the store\n"
    "\n"
    "options:\n"
    "  --help      this text\n"
    "  --version   print the version\n";

int
main(int argc, char **argv)
{
    ewh_log_init("ewhub", EWH_LOG_INFO);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        fputs(s_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("ewhub %s\n", EWH_VERSION);
        return 0;
    }
    fatalx("command '%s' is not available yet", argv[1]);
}
