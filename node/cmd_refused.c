/*
 * cmd_refused.c — ewnode refused: the deliveries this node refused and
 * never showed (a bad envelope, a report that travelled further than its
 * distribution allows, a foreign origin's key not trusted; issue 22,
 * docs/federation-node.md), counted by code, then each with its origin and
 * reason.  Metadata only: a refused report was never opened for showing.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"

struct s_list {
    json_t *a; /* --json */
};

static void
s_row(void *ctx, const char *id, const char *origin, enum ewh_errcode code,
      const char *reason, int64_t at)
{
    struct s_list *l = ctx;
    const char *name = code == EWH_E_OK ? "unrecorded" : ewh_errcode_name(code);
    char t[32];

    if (l->a != NULL) {
        json_t *o = json_object();
        json_object_set_new(o, "id", json_string(id));
        json_object_set_new(o, "origin", json_string(origin));
        json_object_set_new(o, "code", json_string(name));
        json_object_set_new(o, "reason", json_string(reason));
        json_object_set_new(o, "at", json_integer((json_int_t)at));
        json_array_append_new(l->a, o);
        return;
    }
    printf("  %s  %s  %-s  %s  %s\n", ewh_time_format(at, t, sizeof(t)), id,
           origin[0] ? origin : "--", name, reason);
}

int
node_cmd_refused(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *dir = NULL;
    struct node_dir d;
    struct ewh_err err = {0};
    struct s_list l = {NULL};
    int64_t counts[EWH_E__COUNT], total = 0;
    json_t *doc = NULL, *by = NULL;
    bool json = false;
    int ch, i, rc = 1;

    while ((ch = getopt_long(argc, argv, "d:jh", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            dir = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            return node_cmd_help("refused");
        default:
            return node_cmd_usage("refused", "bad option");
        }
    }
    if (optind != argc)
        return node_cmd_usage("refused", "unexpected argument");
    if (node_cmd_open_dir(&d, dir, false, "refused") != 0)
        return 1;
    if (node_store_refusal_counts(d.store, counts, &err) != 0)
        goto fail;
    for (i = 0; i < (int)EWH_E__COUNT; i++)
        total += counts[i];
    if (json) {
        doc = json_object();
        by = json_object();
        for (i = 0; i < (int)EWH_E__COUNT; i++)
            if (counts[i] > 0)
                json_object_set_new(by,
                                    i == 0
                                        ? "unrecorded"
                                        : ewh_errcode_name((enum ewh_errcode)i),
                                    json_integer((json_int_t)counts[i]));
        json_object_set_new(doc, "total", json_integer((json_int_t)total));
        json_object_set_new(doc, "by_code", by);
        l.a = json_array();
        json_object_set_new(doc, "refused", l.a);
    } else {
        printf("%lld deliveries refused (never shown)", (long long)total);
        for (i = 0; i < (int)EWH_E__COUNT; i++)
            if (counts[i] > 0)
                printf("%s %s %lld", i == 0 ? ":" : ",",
                       i == 0 ? "unrecorded"
                              : ewh_errcode_name((enum ewh_errcode)i),
                       (long long)counts[i]);
        printf("\n");
    }
    if (node_store_refusal_walk(d.store, s_row, &l, &err) != 0)
        goto fail;
    if (json &&
        (json_dumpf(doc, stdout, JSON_COMPACT) != 0 || putchar('\n') == EOF)) {
        ewh_err_set(&err, EWH_E_IO, "cannot write JSON");
        goto fail;
    }
    rc = fflush(stdout) == 0 ? 0 : 1;
    goto out;
fail:
    rc = node_cmd_fail("refused", &err);
out:
    json_decref(doc);
    node_dir_close(&d);
    return rc;
}
