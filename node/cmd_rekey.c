/* cmd_rekey.c — ewnode rekey: new keys beside the old ones (the switch
 * and the resealing: rekey.c). */
#include "rekey.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "ewh/envelope.h"
#include "ewh/log.h"
#include "ewh/receipt.h"
#include "ewh/roster.h"

int
node_cmd_rekey(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
                                         {"abort", no_argument, NULL, 'a'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct node_dir d;
    struct ewh_err err = {0};
    ewh_secret_t *next = NULL;
    struct ewh_pubid npub;
    const char *dir = NULL;
    char f[1200], pub[1200], fp[EWH_FINGERPRINT_CHARS], name[32];
    bool abort_ = false;
    int ch;

    while ((ch = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            dir = optarg;
            break;
        case 'a':
            abort_ = true;
            break;
        case 'h':
            fputs("usage: ewnode rekey [--dir DIR] [--abort]\n"
                  "Write new keys to DIR/node.key.new and "
                  "DIR/node-CC.pub.new; the node\n"
                  "goes on with its current keys until the hub operator "
                  "enrols the new\n"
                  "file (ewhub enroll node-CC.pub.new), then switches by "
                  "itself.\n"
                  "--abort forgets pending new keys.\n",
                  stdout);
            return 0;
        default:
            return node_cmd_usage("rekey", "bad option");
        }
    }
    if (optind != argc)
        return node_cmd_usage("rekey", "unexpected argument");
    if (node_cmd_open_dir(&d, dir, true, "rekey") != 0)
        return 1;
    node_dir_file(&d, "node.key.new", f, sizeof(f));
    snprintf(name, sizeof(name), "node-%s.pub.new", d.cfg.country);
    node_dir_file(&d, name, pub, sizeof(pub));
    if (abort_) {
        if (unlink(f) != 0) {
            ewh_err_set(&err, EWH_E_NOTFOUND, "no re-key pending in %s",
                        d.path);
            node_dir_close(&d);
            return node_cmd_fail("rekey", &err);
        }
        (void)unlink(pub);
        printf("re-key of %s called off; the current keys stay\n",
               d.cfg.country);
        node_dir_close(&d);
        return 0;
    }
    if (node_dir_load_key(&d, "node.key.new", &next, &err) != 0)
        goto fail;
    if (next != NULL) {
        ewh_pubid_fingerprint(ewh_secret_pubid(next), fp);
        ewh_err_set(&err, EWH_E_INVALID,
                    "a re-key is already pending (new fingerprint %s): have "
                    "%s enrolled at the hub, or run `ewnode rekey --abort`",
                    fp, pub);
        goto fail;
    }
    /* Key continuity: the current signing key endorses the new keys, so
     * that every node accepts them with no manual step (docs/trust.md). */
    if ((next = ewh_secret_generate(EWH_KIND_NODE, d.cfg.country, &err)) ==
        NULL)
        goto fail;
    npub = *ewh_secret_pubid(next);
    if (ewh_pubid_endorse(&npub, d.secret, &err) != 0 ||
        ewh_pubid_save(&npub, pub, &err) != 0 ||
        ewh_secret_save(next, f, &err) != 0)
        goto fail;
    ewh_pubid_fingerprint(ewh_secret_pubid(next), fp);
    printf("new keys for %s: %s\n"
           "new fingerprint: %s (endorsed by the current key)\n"
           "The node keeps its current keys until the hub enrols the new "
           "ones.\n"
           "Send %s to the hub operator, compare the fingerprint by "
           "telephone;\n"
           "the operator runs: ewhub enroll %s\n"
           "The agent then switches by itself (ewnode peers shows the new "
           "fingerprint).\n",
           d.cfg.country, f, fp, pub, name);
    ewh_secret_destroy(&next);
    node_dir_close(&d);
    return 0;
fail:
    ewh_secret_destroy(&next);
    node_dir_close(&d);
    return node_cmd_fail("rekey", &err);
}
