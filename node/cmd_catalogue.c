/* cmd_catalogue.c — ewnode catalogue: the catalogue of concern held, as
 * text or JSON (docs/catalogue.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"
#include "cmd.h"

static void
s_area(const struct ewh_catalogue_area *a)
{
    size_t i;

    printf("%s — %s\n", a->area, a->title);
    printf("  default level: %s\n", ewh_level_name(a->default_level));
    printf("  high:   %s\n", a->guide[EWH_LEVEL_HIGH]);
    printf("  medium: %s\n", a->guide[EWH_LEVEL_MEDIUM]);
    printf("  low:    %s\n", a->guide[EWH_LEVEL_LOW]);
    for (i = 0; i < a->n_ind; i++)
        printf("  %s %s\n", i == 0 ? "indicators:" : "           ", a->ind[i]);
}

int
node_cmd_catalogue(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct node_dir d = {0};
    struct ewh_err err = {0};
    ewh_catalogue_t *c = NULL;
    const char *dir = NULL, *area = NULL;
    char ts[32], *s;
    bool json = false;
    size_t i;
    int ch, rc = 1;

    while ((ch = getopt_long(argc, argv, "d:jh", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            dir = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            printf("usage: ewnode catalogue [--dir DIR] [--json] [AREA]\n"
                   "The catalogue of concern the hub distributes: for each "
                   "area, what counts\nas high, medium and low concern, its "
                   "indicators and default level.\n");
            return 0;
        default:
            return node_cmd_usage("catalogue", "bad arguments");
        }
    }
    if (optind + 1 < argc)
        return node_cmd_usage("catalogue", "at most one AREA");
    if (optind < argc)
        area = argv[optind];
    if (node_cmd_open_dir(&d, dir, false, "catalogue") != 0)
        return 1;
    if ((c = node_catalogue_load(&d, &err)) == NULL)
        goto fail;
    if (area != NULL && ewh_catalogue_find(c, area) == NULL) {
        ewh_err_set(&err, EWH_E_NOTFOUND,
                    "no area '%.64s' in the catalogue (version %llu)", area,
                    (unsigned long long)ewh_catalogue_version(c));
        goto fail;
    }
    if (json) {
        if ((s = ewh_catalogue_to_json(c, &err)) == NULL)
            goto fail;
        if (area != NULL) {
            /* One area: the same shape, areas narrowed to it. */
            ewh_catalogue_t *one = ewh_catalogue_new(ewh_catalogue_version(c));
            free(s);
            if (one == NULL ||
                ewh_catalogue_put(one, ewh_catalogue_find(c, area), &err) !=
                    0 ||
                (s = ewh_catalogue_to_json(one, &err)) == NULL) {
                ewh_catalogue_destroy(&one);
                goto fail;
            }
            ewh_catalogue_destroy(&one);
        }
        printf("%s\n", s);
        free(s);
    } else {
        printf("catalogue of concern, version %llu, issued %s\n\n",
               (unsigned long long)ewh_catalogue_version(c),
               ewh_time_format(ewh_catalogue_issued_at(c), ts, sizeof(ts)));
        for (i = 0; i < ewh_catalogue_count(c); i++) {
            const struct ewh_catalogue_area *a = ewh_catalogue_at(c, i);
            if (area != NULL && strcmp(a->area, area) != 0)
                continue;
            s_area(a);
            printf("\n");
        }
    }
    rc = 0;
    goto out;
fail:
    rc = node_cmd_fail("catalogue", &err);
out:
    ewh_catalogue_destroy(&c);
    node_dir_close(&d);
    return rc;
}
