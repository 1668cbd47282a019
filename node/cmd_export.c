/*
 * cmd_export.c — ewnode export --type lessons: every report of one type
 * this node holds, sent and received, as one JSON document (issue 22,
 * docs/federation-node.md): for a region's lessons learned to be shared
 * with other tools.  Metadata and content as `ewnode show --json` gives
 * them, with how far each may travel and its origin's region.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "foreign.h"
#include "render.h"

struct s_export {
    node_store_t *store;
    const ewh_roster_t *ro;
    const node_foreign_t *fo;
    enum ewh_type type;
    json_t *reports;
    struct ewh_err *err;
};

static int
s_one(void *ctx, const struct node_msg *m)
{
    struct s_export *x = ctx;
    json_t *o;

    if (m->type != x->type)
        return 0;
    if ((o = node_render_json(m, true)) == NULL)
        return ewh_err_set(x->err, EWH_E_NOMEM, "out of memory");
    if (node_foreign_json_add(x->store, x->ro, x->fo, m->id, m->origin, o,
                              x->err) != 0) {
        json_decref(o);
        return -1;
    }
    json_array_append_new(x->reports, o);
    return 0;
}

int
node_cmd_export(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
                                         {"type", required_argument, NULL, 't'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *dir = NULL, *type = NULL;
    struct node_dir d;
    struct node_filter f;
    struct ewh_err err = {0};
    struct s_export x;
    ewh_roster_t *ro = NULL;
    node_foreign_t *fo = NULL;
    json_t *doc = NULL;
    int ch, rc = 1, pass;

    while ((ch = getopt_long(argc, argv, "d:t:jh", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            dir = optarg;
            break;
        case 't':
            type = optarg;
            break;
        case 'j':
            break; /* JSON is the one format */
        case 'h':
            return node_cmd_help("export");
        default:
            return node_cmd_usage("export", "bad option");
        }
    }
    if (optind != argc)
        return node_cmd_usage("export", "unexpected argument");
    if (type == NULL)
        return node_cmd_usage("export", "missing --type (e.g. lessons)");
    memset(&x, 0, sizeof(x));
    if ((x.type = ewh_type_parse(type)) == EWH_TYPE_NONE)
        return node_cmd_usage("export", "--type is alert, update, cancel, "
                                        "return or lessons");
    if (node_cmd_open_dir(&d, dir, false, "export") != 0)
        return 1;
    if ((ro = node_dir_roster(&d, &err)) == NULL && err.code != EWH_E_NOTFOUND)
        goto fail;
    if ((fo = node_foreign_load(d.store, &err)) == NULL)
        goto fail;
    doc = json_object();
    x.store = d.store;
    x.ro = ro;
    x.fo = fo;
    x.reports = json_array();
    x.err = &err;
    json_object_set_new(doc, "type", json_string(ewh_type_name(x.type)));
    json_object_set_new(doc, "country", json_string(d.cfg.country));
    json_object_set_new(
        doc, "region",
        json_string(ro != NULL ? ewh_roster_region(ro) : EWH_DEFAULT_REGION));
    json_object_set_new(doc, "exported_at", json_integer(ewh_now()));
    /* Received first, then sent; each oldest first. */
    for (pass = 0; pass < 2; pass++) {
        memset(&f, 0, sizeof(f));
        f.outgoing = pass == 1;
        f.oldest_first = true;
        if (node_store_msg_list(d.store, &f, s_one, &x, &err) != 0)
            goto fail;
    }
    json_object_set_new(doc, "count",
                        json_integer((json_int_t)json_array_size(x.reports)));
    json_object_set_new(doc, "reports", x.reports);
    x.reports = NULL;
    if (json_dumpf(doc, stdout, JSON_INDENT(2)) != 0 || putchar('\n') == EOF) {
        ewh_err_set(&err, EWH_E_IO, "cannot write JSON");
        goto fail;
    }
    rc = fflush(stdout) == 0 ? 0 : 1;
    goto out;
fail:
    rc = node_cmd_fail("export", &err);
out:
    json_decref(x.reports);
    json_decref(doc);
    node_foreign_destroy(&fo);
    ewh_roster_destroy(&ro);
    node_dir_close(&d);
    return rc;
}
