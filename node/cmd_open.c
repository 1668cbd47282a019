/* cmd_open.c — ewnode open: verify and open an envelope file with this
 * node's key and the roster it holds; prints the report as JSON.  Shows
 * who can read what: a node the envelope is not addressed to fails. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "ewh/envelope.h"
#include "render.h"

int
node_cmd_open(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *dir = NULL;
    struct node_dir d;
    struct ewh_report r;
    struct ewh_header h;
    struct node_msg m;
    struct ewh_err err = {0};
    ewh_roster_t *ro = NULL;
    char *buf = NULL;
    size_t len = 0;
    int ch, rc = 1;

    while ((ch = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            dir = optarg;
            break;
        case 'h':
            return node_cmd_help("open");
        default:
            return node_cmd_usage("open", "bad option");
        }
    }
    if (optind + 1 != argc)
        return node_cmd_usage("open", "give one envelope FILE or -");
    if (node_cmd_read_file(argv[optind], EWH_MAX_ENVELOPE_BYTES, &buf, &len,
                           &err) != 0)
        return node_cmd_fail("open", &err);
    if (node_cmd_open_dir(&d, dir, true, "open") != 0) {
        free(buf);
        return 1;
    }
    memset(&r, 0, sizeof(r));
    memset(&m, 0, sizeof(m));
    if ((ro = node_dir_roster(&d, &err)) == NULL)
        goto fail;
    if (ewh_envelope_open((const uint8_t *)buf, len, d.secret,
                          ewh_roster_lookup, ro, &r, &h, &err) != 0)
        goto fail;
    node_msg_from_report(&m, &r, &h, strcmp(r.origin, d.cfg.country) == 0);
    if (node_render_json_line(stdout, &m, true) != 0)
        goto fail;
    rc = 0;
    goto out;
fail:
    rc = node_cmd_fail("open", &err);
out:
    node_msg_clear(&m);
    ewh_report_clear(&r);
    ewh_roster_destroy(&ro);
    free(buf);
    node_dir_close(&d);
    return rc;
}
