/* cmd_ack.c — ewnode ack: the liaison officer acknowledges a report.  The
 * signed receipt is queued in the store in the same transaction and the
 * agent sends it, so this works while the agent or the hub is down. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "trust.h"
#include "ewh/receipt.h"

int
node_cmd_ack(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
                                         {"who", required_argument, NULL, 'w'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *dir = NULL, *who = "";
    struct node_dir d;
    struct node_msg m;
    struct ewh_receipt rc;
    struct ewh_err err = {0};
    ewh_roster_t *ro = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
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
    memset(&rc, 0, sizeof(rc));
    if (ewh_id_parse(argv[optind], rc.ids[0], &err) != 0)
        return node_cmd_fail("ack", &err);
    rc.n_ids = 1;
    ewh_hex(rc.ids[0], EWH_ID_BYTES, id, sizeof(id));
    if (node_cmd_open_dir(&d, dir, true, "ack") != 0)
        return 1;
    memset(&m, 0, sizeof(m));
    if (node_store_msg_get(d.store, id, &m, &err) != 0)
        goto fail;
    if (m.outgoing) {
        ewh_err_set(&err, EWH_E_INVALID,
                    "%s was sent by this node; only recipients acknowledge",
                    id);
        goto fail;
    }
    memcpy(rc.origin, m.origin, EWH_CC_BYTES);
    memcpy(rc.from, d.cfg.country, EWH_CC_BYTES);
    rc.kind = EWH_RECEIPT_ACKNOWLEDGED;
    rc.at = ewh_now();
    snprintf(rc.who, sizeof(rc.who), "%s", who);
    if ((ro = node_dir_roster(&d, &err)) == NULL)
        goto fail;
    node_trust_head(ro, &rc.has_head, &rc.roster_version, rc.roster_hash);
    if (ewh_receipt_sign(&rc, d.secret, &buf, &len, &err) != 0)
        goto fail;
    if (node_store_begin(d.store, &err) != 0)
        goto fail;
    if (node_store_inbox_ack(d.store, id, who, rc.at, &already, &err) != 0 ||
        (!already &&
         node_store_receipt_queue(d.store, id, EWH_RECEIPT_ACKNOWLEDGED, buf,
                                  len, &err) != 0) ||
        node_store_commit(d.store, &err) != 0) {
        node_store_rollback(d.store);
        goto fail;
    }
    if (already)
        printf("%s was already acknowledged\n", id);
    else
        printf("acknowledged %s; a signed receipt goes to %s\n", id, m.origin);
    rv = 0;
    goto out;
fail:
    rv = node_cmd_fail("ack", &err);
out:
    free(buf);
    ewh_roster_destroy(&ro);
    node_msg_clear(&m);
    node_dir_close(&d);
    return rv;
}
