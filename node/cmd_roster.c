/* cmd_roster.c — ewnode import-roster: apply a hub-signed roster file
 * (offline, e.g. on an isolated network or before the first connection).
 * The same checks as a roster from the hub: the pinned hub key and a
 * higher version. */
#include <getopt.h>
#include <stdio.h>

#include "cmd.h"
#include "roster.h"

int
node_cmd_import_roster(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *dir = NULL;
    struct node_dir d;
    struct ewh_err err = {0};
    char *buf = NULL;
    size_t len = 0;
    uint64_t version = 0;
    int ch, rc;

    while ((ch = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            dir = optarg;
            break;
        case 'h':
            return node_cmd_help("import-roster");
        default:
            return node_cmd_usage("import-roster", "bad option");
        }
    }
    if (optind + 1 != argc)
        return node_cmd_usage("import-roster", "give one roster FILE");
    if (node_cmd_read_file(argv[optind], EWH_MAX_ROSTER_BYTES, &buf, &len,
                           &err) != 0)
        return node_cmd_fail("import-roster", &err);
    if (node_cmd_open_dir(&d, dir, false, "import-roster") != 0) {
        free(buf);
        return 1;
    }
    rc = node_roster_apply(&d, (const uint8_t *)buf, len, &version, &err);
    node_dir_close(&d);
    free(buf);
    if (rc != 0)
        return node_cmd_fail("import-roster", &err);
    printf("roster version %llu applied\n", (unsigned long long)version);
    return 0;
}
