/* cmd_show.c — ewnode show: one report in full, as text, JSON or CAP. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cap.h"
#include "catalogue.h"
#include "cmd.h"
#include "foreign.h"
#include "render.h"

/* "distribution: all (origin's region: adria)", issue 22. */
static void
s_reach_text(struct node_dir *d, const char *id, const char *origin)
{
    ewh_roster_t *ro = node_dir_roster(d, NULL);
    node_foreign_t *fo = node_foreign_load(d->store, NULL);
    json_t *o = json_object();
    struct ewh_err err = {0};

    if (node_foreign_json_add(d->store, ro, fo, id, origin, o, &err) == 0)
        printf("distribution: %s (origin's region: %s)\n",
               json_string_value(json_object_get(o, "distribution")),
               json_string_value(json_object_get(o, "origin_region"))[0]
                   ? json_string_value(json_object_get(o, "origin_region"))
                   : "unknown");
    json_decref(o);
    node_foreign_destroy(&fo);
    ewh_roster_destroy(&ro);
}

int
node_cmd_show(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"format", required_argument, NULL, 'f'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *dir = NULL, *fmt = "text";
    struct node_dir d;
    struct node_msg m;
    struct ewh_err err = {0};
    char id[EWH_ID_HEX], *xml = NULL;
    char why[EWH_MAX_LEVEL_REASON_BYTES + 1];
    struct ewh_err werr = {0};
    bool have_why;
    size_t len = 0;
    int ch, rc = 1;

    while ((ch = getopt_long(argc, argv, "d:f:jh", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            dir = optarg;
            break;
        case 'f':
            fmt = optarg;
            break;
        case 'j':
            fmt = "json";
            break;
        case 'h':
            return node_cmd_help("show");
        default:
            return node_cmd_usage("show", "bad option");
        }
    }
    if (optind + 1 != argc)
        return node_cmd_usage("show", "give one report ID");
    if (strcmp(fmt, "text") != 0 && strcmp(fmt, "json") != 0 &&
        strcmp(fmt, "cap") != 0)
        return node_cmd_usage("show", "--format is text, json or cap");
    if (node_cmd_open_dir(&d, dir, false, "show") != 0)
        return 1;
    memset(&m, 0, sizeof(m));
    if (node_store_id_resolve(d.store, argv[optind], id, &err) != 0 ||
        node_store_msg_get(d.store, id, &m, &err) != 0)
        goto fail;
    /* The catalogue's level reason is sealed in the envelope only. */
    have_why =
        node_catalogue_level_reason(&d, id, why, sizeof(why), &werr) == 0;
    if (strcmp(fmt, "json") == 0) {
        json_t *o = node_render_json(&m, true);
        ewh_roster_t *ro = node_dir_roster(&d, NULL);
        node_foreign_t *fo = node_foreign_load(d.store, NULL);
        if (o != NULL && have_why && why[0] != '\0')
            json_object_set_new(o, "level_reason", json_string(why));
        /* issue 22: how far it may travel, its origin's region */
        if (o != NULL &&
            node_foreign_json_add(d.store, ro, fo, id, m.origin, o, &werr) != 0)
            json_object_set_new(o, "distribution", json_null());
        node_foreign_destroy(&fo);
        ewh_roster_destroy(&ro);
        if (o == NULL || json_dumpf(o, stdout, JSON_COMPACT) != 0 ||
            putchar('\n') == EOF) {
            json_decref(o);
            ewh_err_set(&err, EWH_E_IO, "cannot write JSON");
            goto fail;
        }
        json_decref(o);
    } else if (strcmp(fmt, "cap") == 0) {
        if (node_cap_write(&m, d.store, &xml, &len, &err) != 0)
            goto fail;
        fwrite(xml, 1, len, stdout);
    } else {
        node_render_text(stdout, &m);
        if (!have_why)
            printf("level reason: (not shown: %s)\n", werr.reason);
        else if (why[0] != '\0')
            printf("level reason: %s\n", why);
        s_reach_text(&d, id, m.origin);
    }
    rc = fflush(stdout) == 0 ? 0 : 1;
    goto out;
fail:
    rc = node_cmd_fail("show", &err);
out:
    free(xml);
    node_msg_clear(&m);
    node_dir_close(&d);
    return rc;
}
