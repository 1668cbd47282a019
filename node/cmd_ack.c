/* cmd_ack.c — ewnode ack: the liaison officer acknowledges a report.  The
 * signed receipt is queued in the store in the same transaction and the
 * agent sends it, so this works while the agent or the hub is down. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action.h"
#include "cmd.h"

int
node_cmd_ack(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
                                         {"who", required_argument, NULL, 'w'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *dir = NULL, *who = "";
    struct node_dir d;
    struct ewh_err err = {0};
    char origin[EWH_CC_BYTES] = "";
    char id[EWH_ID_HEX];
    bool already = false;
    int ch, rv = 1;

    while ((ch = getopt_long(argc, argv, "d:w:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            dir = optarg;
            break;
        case 'w':
            who = optarg;
            break;
        case 'h':
            return node_cmd_help("ack");
        default:
            return node_cmd_usage("ack", "bad option");
        }
    }
    if (optind + 1 != argc)
        return node_cmd_usage("ack", "give one report ID");
    if (strlen(who) > EWH_MAX_WHO_BYTES) {
        fprintf(stderr, "ewnode ack: --who longer than %u bytes\n",
                EWH_MAX_WHO_BYTES);
        return 1;
    }
    if (node_cmd_open_dir(&d, dir, true, "ack") != 0)
        return 1;
    /* the full id of an abbreviation, to print */
    if (node_store_id_resolve(d.store, argv[optind], id, &err) != 0 ||
        node_action_ack(&d, id, who, &already, origin, &err) != 0)
        goto fail;
    if (already)
        printf("%s was already acknowledged\n", id);
    else
        printf("acknowledged %s; a signed receipt goes to %s\n", id, origin);
    rv = 0;
    goto out;
fail:
    rv = node_cmd_fail("ack", &err);
out:
    node_dir_close(&d);
    return rv;
}
