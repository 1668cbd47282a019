/* catalogue.c — the catalogue of concern held at the node. */
#include "catalogue.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ewh/envelope.h"
#include "ewh/keyfile.h"
#include "ewh/log.h"

static ewh_catalogue_t *
s_open_file(struct node_dir *d, struct ewh_err *err)
{
    char path[1100], *data = NULL;
    size_t n = 0;
    struct stat sb;
    ewh_catalogue_t *c;

    node_dir_file(d, NODE_CATALOGUE_FILE, path, sizeof(path));
    if (stat(path, &sb) != 0) {
        ewh_err_set(err, EWH_E_NOTFOUND,
                    "no catalogue yet: it comes from the hub once `ewnode "
                    "run` has connected");
        return NULL;
    }
    if (ewh_file_read(path, EWH_MAX_CATALOGUE_BYTES, &data, &n, err) != 0)
        return NULL;
    c = ewh_catalogue_open((uint8_t *)data, n, d->hub.sign, err);
    free(data);
    return c;
}

int
node_catalogue_apply(struct node_dir *d, const uint8_t *buf, size_t len,
                     uint64_t *version, struct ewh_err *err)
{
    ewh_catalogue_t *c, *held;
    struct ewh_err e2 = {0};
    char path[1100];
    int rc;

    if ((c = ewh_catalogue_open(buf, len, d->hub.sign, err)) == NULL)
        return -1;
    *version = ewh_catalogue_version(c);
    ewh_catalogue_destroy(&c);
    if ((held = s_open_file(d, &e2)) != NULL) {
        uint64_t hv = ewh_catalogue_version(held);
        ewh_catalogue_destroy(&held);
        if (*version <= hv)
            return ewh_err_set(err, EWH_E_VERSION,
                               "catalogue version %llu is not newer than "
                               "version %llu held",
                               (unsigned long long)*version,
                               (unsigned long long)hv);
    }
    node_dir_file(d, NODE_CATALOGUE_FILE, path, sizeof(path));
    rc = ewh_keyfile_write(path, buf, len, 0644, err);
    return rc;
}

void
node_catalogue_receive(struct node_dir *d, const Ewh__SignedCatalogue *sc)
{
    struct ewh_err err = {0};
    size_t len = ewh__signed_catalogue__get_packed_size(sc);
    uint8_t *buf = malloc(len > 0 ? len : 1);
    uint64_t v = 0;

    if (buf == NULL)
        return;
    ewh__signed_catalogue__pack(sc, buf);
    if (node_catalogue_apply(d, buf, len, &v, &err) == 0)
        ewh_log_info("agent: catalogue version %llu applied",
                     (unsigned long long)v);
    else if (err.code == EWH_E_VERSION)
        ewh_log_debug("agent: catalogue: %s", err.reason);
    else
        ewh_log_warnx("agent: refused catalogue: %s", err.reason);
    free(buf);
}

ewh_catalogue_t *
node_catalogue_load(struct node_dir *d, struct ewh_err *err)
{
    return s_open_file(d, err);
}

/* Append one line to out (cut when full). */
static void s_line(char *out, size_t cap, size_t *len, const char *fmt, ...)
    EWH_PRINTF(4, 5);

static void
s_line(char *out, size_t cap, size_t *len, const char *fmt, ...)
{
    va_list ap;
    int w;

    if (*len + 2 > cap)
        return;
    va_start(ap, fmt);
    w = vsnprintf(out + *len, cap - *len - 1, fmt, ap);
    va_end(ap);
    if (w < 0) {
        out[*len] = '\0';
        return;
    }
    *len += (size_t)w;
    if (*len > cap - 2)
        *len = cap - 2;
    out[(*len)++] = '\n';
    out[*len] = '\0';
}

bool
node_catalogue_guide(struct node_dir *d, const char *area, enum ewh_level level,
                     const char *reason, char *out, size_t cap)
{
    struct ewh_err err = {0};
    ewh_catalogue_t *c;
    const struct ewh_catalogue_area *a;
    bool warned = false;
    size_t len = 0;

    EWH_ASSERT(cap > 0);
    out[0] = '\0';
    if ((c = s_open_file(d, &err)) == NULL) {
        s_line(out, cap, &len,
               "note: no catalogue of concern to check the level against "
               "(%s)",
               err.reason);
        return false;
    }
    if ((a = ewh_catalogue_find(c, area)) == NULL) {
        s_line(out, cap, &len,
               "note: the catalogue (version %llu) has no area '%s'",
               (unsigned long long)ewh_catalogue_version(c), area);
        ewh_catalogue_destroy(&c);
        return false;
    }
    s_line(out, cap, &len, "catalogue v%llu, %s, %s concern: %s",
           (unsigned long long)ewh_catalogue_version(c), a->title,
           ewh_level_name(level), a->guide[level]);
    if (level != a->default_level) {
        if (reason == NULL || reason[0] == '\0') {
            s_line(out, cap, &len,
                   "warning: level %s departs from the catalogue's default "
                   "(%s) for %s and no --reason was given; the report is "
                   "sent as it is",
                   ewh_level_name(level), ewh_level_name(a->default_level),
                   area);
            warned = true;
        } else
            s_line(out, cap, &len,
                   "level %s departs from the default (%s): reason given",
                   ewh_level_name(level), ewh_level_name(a->default_level));
    }
    ewh_catalogue_destroy(&c);
    return warned;
}

int
node_catalogue_level_reason(struct node_dir *d, const char *id, char *out,
                            size_t cap, struct ewh_err *err)
{
    ewh_secret_t *me = NULL;
    ewh_roster_t *ro = NULL;
    struct ewh_report r;
    uint8_t *env = NULL;
    size_t len = 0;
    int rc = -1;

    memset(&r, 0, sizeof(r));
    out[0] = '\0';
    if (node_dir_load_key(d, "node.key", &me, err) != 0)
        return -1;
    if (me == NULL)
        return ewh_err_set(err, EWH_E_NOTFOUND, "no node.key");
    if ((ro = node_dir_roster(d, err)) == NULL ||
        node_store_envelope_get(d->store, id, &env, &len, err) != 0 ||
        ewh_envelope_open(env, len, me, ewh_roster_lookup, ro, &r, NULL, err) !=
            0)
        goto out;
    snprintf(out, cap, "%s", r.level_reason);
    rc = 0;
out:
    ewh_report_clear(&r);
    free(env);
    ewh_roster_destroy(&ro);
    ewh_secret_destroy(&me);
    return rc;
}
