/* main.c — ewnode: the node agent and the analyst's and liaison officer's
 * subcommands. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ewh/log.h"

static const char s_usage[] =
    "usage: ewnode COMMAND [--dir DIR] [options]\n"
    "\n"
    "commands:\n"
    "  init      create keys, config and store; pin the hub's identity\n"
    "  run       run the node agent\n"
    "  submit    seal a report and queue it for the hub\n"
    "  inbox     list received reports\n"
    "  show      show one report (text, json or CAP 1.2)\n"
    "  ack       acknowledge a received report\n"
    "  watch     print reports as they arrive\n"
    "  outbox    sent reports and their state per addressee\n"
    "  peers     the roster of countries\n"
    "\n"
    "options:\n"
    "  --help      this text\n"
    "  --version   print the version\n";

int
main(int argc, char **argv)
{
    ewh_log_init("ewnode", EWH_LOG_INFO);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        fputs(s_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("ewnode %s\n", EWH_VERSION);
        return 0;
    }
    fatalx("command '%s' is not available yet", argv[1]);
}
