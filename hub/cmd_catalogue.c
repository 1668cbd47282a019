/* cmd_catalogue.c — ewhub catalogue: export the catalogue of concern as a
 * file a person can review, and publish an edited one as a new version
 * (docs/catalogue.md). */
#include "cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalogue.h"
#include "config.h"
#include "ewh/catalogue.h"
#include "ewh/keyfile.h"
#include "ewh/log.h"
#include "ewh/roster.h"

static const char s_usage[] =
    "usage: ewhub catalogue export [--dir DIR] [--config FILE] > cat.json\n"
    "       ewhub catalogue publish [--dir DIR] [--config FILE] [--yes]\n"
    "                               [--version N] cat.json\n"
    "\n"
    "The catalogue of concern: for each area (each report category of\n"
    "[roster] categories) what counts as high, medium and low concern, its\n"
    "indicators and its default level.  export prints the current version\n"
    "as JSON; edit it, then publish: the changes are shown, the version is\n"
    "bumped, the hub signs and stores it, and the running hub pushes it to\n"
    "every node.  The categories are those of DIR/ewhub.conf (or --config\n"
    "FILE: the file `ewhub run` reads).  --yes publishes without asking.  "
    "--version N publishes\n"
    "as version N at least (after restoring an old backup: nodes accept\n"
    "only a version higher than the one they hold).\n";

static void
s_categories(const char *dir, const char *conf, const char **cats, size_t *n)
{
    static struct hub_config cfg;
    struct ewh_err err = {0};
    char path[4096];
    size_t i;

    if (conf != NULL)
        snprintf(path, sizeof(path), "%s", conf);
    else
        hub_cmd_path(dir, "ewhub.conf", path, sizeof(path));
    if (hub_config_load_all(path, &cfg, NULL, 0, &err) != 0)
        fatalx("catalogue: %s", err.reason);
    *n = 0;
    if (cfg.n_cats > 0)
        for (i = 0; i < cfg.n_cats; i++)
            cats[(*n)++] = cfg.cats[i];
    else
        for (i = 0; ewh_default_categories[i] != NULL; i++)
            cats[(*n)++] = ewh_default_categories[i];
}

/* The current catalogue, or (none published yet) the built-in one as
 * version 0. */
static ewh_catalogue_t *
s_current(const char *dir, const ewh_secret_t *key, const char **cats, size_t n)
{
    struct ewh_err err = {0};
    ewh_catalogue_t *c = NULL;

    if (hub_catalogue_load(dir, ewh_secret_pubid(key)->sign, &c, NULL, NULL,
                           &err) == 0)
        return c;
    if (err.code != EWH_E_NOTFOUND)
        ewh_log_warnx("catalogue: the current catalogue is unusable (%s); "
                      "starting from the built-in text as version 0: publish "
                      "with --version N above the version the nodes hold",
                      err.reason);
    if ((c = ewh_catalogue_builtin(cats, n, &err)) == NULL)
        fatalx("catalogue: %s", err.reason);
    ewh_catalogue_set_version(c, 0);
    return c;
}

/* The catalogue to export: the current one's areas for the configured
 * categories, in their order; a category it lacks gets the built-in (or
 * generic) text, an area no longer a category is left out.  Both are
 * said on stderr.  Caller owns it. */
static ewh_catalogue_t *
s_for_categories(const ewh_catalogue_t *cur, const char **cats, size_t n)
{
    struct ewh_err err = {0};
    ewh_catalogue_t *out = ewh_catalogue_new(ewh_catalogue_version(cur));
    size_t i;

    if (out == NULL)
        fatalx("catalogue: out of memory");
    for (i = 0; i < n; i++) {
        const struct ewh_catalogue_area *a = ewh_catalogue_find(cur, cats[i]);
        ewh_catalogue_t *one = NULL;
        if (a == NULL) {
            if ((one = ewh_catalogue_builtin(&cats[i], 1, &err)) == NULL)
                fatalx("catalogue: %s", err.reason);
            a = ewh_catalogue_at(one, 0);
            fprintf(stderr,
                    "catalogue: area %s is new (a category of the config): "
                    "review its text\n",
                    cats[i]);
        }
        if (ewh_catalogue_put(out, a, &err) != 0)
            fatalx("catalogue: %s", err.reason);
        ewh_catalogue_destroy(&one);
    }
    for (i = 0; i < ewh_catalogue_count(cur); i++) {
        const char *area = ewh_catalogue_at(cur, i)->area;
        if (ewh_catalogue_find(out, area) == NULL)
            fprintf(stderr,
                    "catalogue: area %s left out: no longer a category of "
                    "the config\n",
                    area);
    }
    return out;
}

static void
s_indicators(const struct ewh_catalogue_area *a, char *out, size_t cap)
{
    size_t i, off = 0;

    out[0] = '\0';
    for (i = 0; i < a->n_ind && off < cap; i++)
        off += (size_t)snprintf(out + off, cap - off, "%s%s", i ? "; " : "",
                                a->ind[i]);
}

static void
s_field(const char *area, const char *name, const char *o, const char *n,
        size_t *changes)
{
    if (strcmp(o, n) == 0)
        return;
    printf("area %s, %s:\n  - %s\n  + %s\n", area, name, o[0] ? o : "(none)",
           n[0] ? n : "(none)");
    (*changes)++;
}

/* Print what changes from old to new; returns the number of changes. */
static size_t
s_diff(const ewh_catalogue_t *old, const ewh_catalogue_t *new)
{
    static char io[EWH_MAX_INDICATORS * (EWH_MAX_INDICATOR_BYTES + 2) + 1];
    static char in[sizeof(io)];
    static const char *const lv[] = {"", "low", "medium", "high"};
    size_t i, changes = 0;
    int l;

    for (i = 0; i < ewh_catalogue_count(new); i++) {
        const struct ewh_catalogue_area *b = ewh_catalogue_at(new, i);
        const struct ewh_catalogue_area *a = ewh_catalogue_find(old, b->area);
        if (a == NULL) {
            printf("area %s: new\n", b->area);
            changes++;
            continue;
        }
        s_field(b->area, "title", a->title, b->title, &changes);
        s_field(b->area, "default_level", ewh_level_name(a->default_level),
                ewh_level_name(b->default_level), &changes);
        for (l = EWH_LEVEL_HIGH; l >= EWH_LEVEL_LOW; l--)
            s_field(b->area, lv[l], a->guide[l], b->guide[l], &changes);
        s_indicators(a, io, sizeof(io));
        s_indicators(b, in, sizeof(in));
        s_field(b->area, "indicators", io, in, &changes);
    }
    for (i = 0; i < ewh_catalogue_count(old); i++)
        if (ewh_catalogue_find(new, ewh_catalogue_at(old, i)->area) == NULL) {
            printf("area %s: removed\n", ewh_catalogue_at(old, i)->area);
            changes++;
        }
    return changes;
}

int
hub_cmd_catalogue(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"yes", no_argument, NULL, 'y'},
        {"config", required_argument, NULL, 'c'},
        {"version", required_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    struct ewh_err err = {0};
    const char *dir = NULL, *conf = NULL, *verb, *cats[EWH_MAX_CATEGORIES];
    ewh_catalogue_t *cur = NULL, *next = NULL;
    ewh_secret_t *key = NULL;
    char path[4096], *text = NULL;
    size_t n_cats = 0, len = 0, changes;
    uint64_t based_on = 0;
    bool yes = false;
    unsigned long long min_version = 0;
    char *end;
    int c;

    if (argc < 2 || argv[1][0] == '-') {
        if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
            fputs(s_usage, stdout);
            return 0;
        }
        fputs(s_usage, stderr);
        return 2;
    }
    verb = argv[1];
    argc--;
    argv++;
    while ((c = getopt_long(argc, argv, "d:c:yV:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'y':
            yes = true;
            break;
        case 'c':
            conf = optarg;
            break;
        case 'V':
            min_version = strtoull(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || min_version == 0)
                fatalx("catalogue: --version takes a positive number");
            break;
        case 'h':
            fputs(s_usage, stdout);
            return 0;
        default:
            return 2;
        }
    }
    dir = hub_cmd_dir(dir);
    hub_cmd_path(dir, "hub.key", path, sizeof(path));
    if ((key = ewh_secret_load(path, &err)) == NULL)
        fatalx("catalogue: %s", err.reason);
    s_categories(dir, conf, cats, &n_cats);
    cur = s_current(dir, key, cats, n_cats);

    if (strcmp(verb, "export") == 0 && optind == argc) {
        if ((next = s_for_categories(cur, cats, n_cats)) == NULL ||
            (text = ewh_catalogue_to_json(next, &err)) == NULL)
            fatalx("catalogue: %s", err.reason);
        printf("%s\n", text);
        goto done;
    }
    if (strcmp(verb, "publish") != 0 || optind + 1 != argc) {
        fputs(s_usage, stderr);
        ewh_catalogue_destroy(&cur);
        ewh_secret_destroy(&key);
        return 2;
    }
    if (ewh_file_read(argv[optind], EWH_MAX_CATALOGUE_BYTES, &text, &len,
                      &err) != 0)
        fatalx("catalogue publish: %s", err.reason);
    if ((next = ewh_catalogue_from_json(text, len, &based_on, &err)) == NULL)
        fatalx("catalogue publish: %s: %s", argv[optind], err.reason);
    if (ewh_catalogue_check_areas(next, cats, n_cats, &err) != 0)
        fatalx("catalogue publish: %s: %s", argv[optind], err.reason);
    if (based_on != 0 && based_on != ewh_catalogue_version(cur))
        fatalx("catalogue publish: %s was exported from version %llu but "
               "version %llu is current: export again and redo the edit",
               argv[optind], (unsigned long long)based_on,
               (unsigned long long)ewh_catalogue_version(cur));
    changes = s_diff(cur, next);
    if (changes == 0 && ewh_catalogue_version(cur) > 0 &&
        min_version <= ewh_catalogue_version(cur)) {
        printf("no change from version %llu: nothing published\n",
               (unsigned long long)ewh_catalogue_version(cur));
        goto done;
    }
    ewh_catalogue_set_version(next, ewh_catalogue_version(cur) + 1);
    if (min_version > ewh_catalogue_version(next))
        ewh_catalogue_set_version(next, min_version);
    if (!yes) {
        char line[16];
        if (!isatty(STDIN_FILENO))
            fatalx("catalogue publish: not a terminal; review the changes "
                   "above and run again with --yes");
        printf("publish these %zu changes as version %llu? [y/N] ", changes,
               (unsigned long long)ewh_catalogue_version(next));
        fflush(stdout);
        if (fgets(line, sizeof(line), stdin) == NULL ||
            (line[0] != 'y' && line[0] != 'Y')) {
            printf("nothing published\n");
            goto done;
        }
    }
    if (hub_catalogue_store(dir, next, key, &err) != 0)
        fatalx("catalogue publish: %s", err.reason);
    printf("published catalogue version %llu (%zu changes); the running hub "
           "pushes it to every node\n",
           (unsigned long long)ewh_catalogue_version(next), changes);
done:
    free(text);
    ewh_catalogue_destroy(&next);
    ewh_catalogue_destroy(&cur);
    ewh_secret_destroy(&key);
    return 0;
}
