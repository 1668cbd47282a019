/* cmd_init.c — ewhub init: data dir, hub keys, config, store. */
#include "cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "store.h"
#include "ewh/identity.h"
#include "ewh/keyfile.h"
#include "ewh/log.h"

const char *
hub_cmd_dir(const char *opt)
{
    const char *env;

    if (opt != NULL && opt[0] != '\0')
        return opt;
    env = getenv("EWHUB_DIR");
    if (env != NULL && env[0] != '\0')
        return env;
    return HUB_DEFAULT_DIR;
}

int
hub_cmd_fail(const char *fmt, ...)
{
    va_list ap;

    fputs("ewhub: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

int
hub_cmd_usage(const char *usage, const char *fmt, ...)
{
    va_list ap;

    fputs("ewhub: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fputs(usage, stderr);
    return 2;
}

void
hub_cmd_path(const char *dir, const char *name, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);

    EWH_ASSERT(n >= 0 && (size_t)n < cap);
}

static const char s_usage[] =
    "usage: ewhub init [--dir DIR] [--region NAME]\n"
    "  Create the data dir (mode 0700), the hub's keys (hub.key, hub.pub),\n"
    "  a commented ewhub.conf and the store.  Give hub.pub to every node.\n"
    "  --region names the region this hub serves ([hub] region; 1 to 32\n"
    "  of a-z, 0-9 and '-'; default \"" EWH_DEFAULT_REGION "\"):\n"
    "  docs/federation.md.\n";

/* The config template with [hub] region set (caller owns, free()). */
static char *
s_config_text(const char *region)
{
    const char *t = hub_config_template(), *at = strstr(t, "[hub]\n");
    size_t n = strlen(t) + strlen(region) + 32;
    char *out = malloc(n);

    if (out == NULL || at == NULL) {
        free(out);
        return NULL;
    }
    at += strlen("[hub]\n");
    snprintf(out, n, "%.*sregion = %s\n%s", (int)(at - t), t, region, at);
    return out;
}

int
hub_cmd_init(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"region", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    struct ewh_err err = {0};
    ewh_secret_t *key = NULL;
    hub_store_t *st = NULL;
    const char *dir = NULL, *region = NULL;
    char *conf = NULL;
    char path[4096], fp[EWH_FINGERPRINT_CHARS];
    int c, rc = 1;

    while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'r':
            region = optarg;
            break;
        case 'h':
            fputs(s_usage, stdout);
            return 0;
        default:
            fputs(s_usage, stderr);
            return 2;
        }
    }
    if (optind != argc)
        return hub_cmd_usage(s_usage, "init: unexpected argument '%s'",
                             argv[optind]);
    if (region != NULL && !ewh_region_is_valid(region))
        return hub_cmd_usage(s_usage,
                             "init: --region '%.40s': expected 1 to %u of "
                             "a-z, 0-9 and '-'",
                             region, EWH_MAX_REGION_BYTES);
    dir = hub_cmd_dir(dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return hub_cmd_fail("init: mkdir %s: %s", dir, strerror(errno));
    hub_cmd_path(dir, "hub.key", path, sizeof(path));
    if (access(path, F_OK) == 0)
        return hub_cmd_fail("init: %s already exists; this hub is "
                            "initialised",
                            path);
    if ((key = ewh_secret_generate(EWH_KIND_HUB, NULL, &err)) == NULL ||
        ewh_secret_save(key, path, &err) != 0)
        goto fail;
    hub_cmd_path(dir, "hub.pub", path, sizeof(path));
    if (ewh_pubid_save(ewh_secret_pubid(key), path, &err) != 0)
        goto fail;
    hub_cmd_path(dir, "ewhub.conf", path, sizeof(path));
    if (access(path, F_OK) != 0) {
        if (region != NULL && (conf = s_config_text(region)) == NULL) {
            ewh_err_set(&err, EWH_E_NOMEM, "out of memory");
            goto fail;
        }
        if (ewh_keyfile_write(
                path, conf != NULL ? conf : hub_config_template(),
                strlen(conf != NULL ? conf : hub_config_template()), 0644,
                &err) != 0)
            goto fail;
    } else if (region != NULL) {
        ewh_err_set(&err, EWH_E_INVALID,
                    "%s exists: set [hub] region = %s in it by hand", path,
                    region);
        goto fail;
    }
    free(conf);
    conf = NULL;
    hub_cmd_path(dir, "store.db", path, sizeof(path));
    if ((st = hub_store_open(path, HUB_STORE_CREATE, 0, &err)) == NULL)
        goto fail;
    hub_store_close(&st);
    ewh_pubid_fingerprint(ewh_secret_pubid(key), fp);
    ewh_secret_destroy(&key);
    printf("initialised %s (region %s)\n", dir,
           region != NULL ? region : EWH_DEFAULT_REGION);
    printf("hub fingerprint: %s\n", fp);
    printf("give %s/hub.pub to every node and compare the fingerprint by "
           "telephone\n",
           dir);
    printf("the default ewhub.conf listens on 127.0.0.1 only: for nodes "
           "on other machines\nset [hub] listen (or run --listen "
           "tcp://0.0.0.0:7700); see docs/operations.md\n");
    return 0;
fail:
    rc = hub_cmd_fail("init: %s", err.reason);
    free(conf);
    ewh_secret_destroy(&key);
    return rc;
}
