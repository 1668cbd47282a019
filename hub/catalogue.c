/* catalogue.c — DIR/catalogue.signed: store, load, and what the router
 * serves. */
#include "catalogue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ewh/keyfile.h"
#include "ewh/log.h"

struct hub_catalogue {
    char path[4096];
    uint8_t sign[32];
    uint8_t *buf;
    size_t len;
    uint64_t version;
    struct stat st; /* of the file last read */
};

static int
s_path(const char *dir, char *out, size_t cap, struct ewh_err *err)
{
    if ((size_t)snprintf(out, cap, "%s/%s", dir, HUB_CATALOGUE_FILE) >= cap)
        return ewh_err_set(err, EWH_E_TOOBIG, "%s: path too long", dir);
    return 0;
}

int
hub_catalogue_load(const char *dir, const uint8_t hub_sign[32],
                   ewh_catalogue_t **out, uint8_t **buf, size_t *len,
                   struct ewh_err *err)
{
    char path[4096], *data = NULL;
    size_t n = 0;
    struct stat sb;
    ewh_catalogue_t *c;

    if (s_path(dir, path, sizeof(path), err) != 0)
        return -1;
    if (stat(path, &sb) != 0)
        return ewh_err_set(err, EWH_E_NOTFOUND,
                           "no catalogue published yet (%s)", path);
    if (ewh_file_read(path, EWH_MAX_CATALOGUE_BYTES, &data, &n, err) != 0)
        return -1;
    if ((c = ewh_catalogue_open((uint8_t *)data, n, hub_sign, err)) == NULL) {
        free(data);
        return -1;
    }
    *out = c;
    if (buf != NULL) {
        *buf = (uint8_t *)data;
        *len = n;
    } else
        free(data);
    return 0;
}

int
hub_catalogue_store(const char *dir, ewh_catalogue_t *c,
                    const ewh_secret_t *key, struct ewh_err *err)
{
    char path[4096];
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc;

    if (s_path(dir, path, sizeof(path), err) != 0)
        return -1;
    if (ewh_catalogue_sign(c, key, &buf, &len, err) != 0)
        return -1;
    rc = ewh_keyfile_write(path, buf, len, 0644, err);
    free(buf);
    return rc;
}

static int
s_read(hub_catalogue_t *c, struct ewh_err *err)
{
    ewh_catalogue_t *cat = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    char dir[4096];
    char *slash;

    snprintf(dir, sizeof(dir), "%s", c->path);
    if ((slash = strrchr(dir, '/')) != NULL)
        *slash = '\0';
    if (stat(c->path, &c->st) != 0)
        memset(&c->st, 0, sizeof(c->st));
    if (hub_catalogue_load(dir, c->sign, &cat, &buf, &len, err) != 0)
        return -1;
    free(c->buf);
    c->buf = buf;
    c->len = len;
    c->version = ewh_catalogue_version(cat);
    ewh_catalogue_destroy(&cat);
    return 0;
}

hub_catalogue_t *
hub_catalogue_new(const char *dir, const ewh_secret_t *key,
                  const char *const *cats, size_t n_cats, struct ewh_err *err)
{
    hub_catalogue_t *c = calloc(1, sizeof(*c));
    ewh_catalogue_t *cat = NULL;

    if (c == NULL) {
        ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        return NULL;
    }
    memcpy(c->sign, ewh_secret_pubid(key)->sign, 32);
    if (s_path(dir, c->path, sizeof(c->path), err) != 0)
        goto fail;
    if (s_read(c, err) == 0)
        return c;
    if (err->code != EWH_E_NOTFOUND) {
        /* After `ewhub rotate-keys --commit` the file is signed by the old
         * key (DIR/hub.pub.old): re-sign what it says, as a new version. */
        struct ewh_pubid old;
        char p[4096];
        snprintf(p, sizeof(p), "%s/hub.pub.old", dir);
        if (ewh_pubid_load(p, &old, NULL) != 0 ||
            hub_catalogue_load(dir, old.sign, &cat, NULL, NULL, NULL) != 0) {
            /* Damaged, or signed by a key that is not ours: serve none
             * (nodes keep what they hold) rather than refuse to start. */
            ewh_log_err("catalogue: %s: serving no catalogue until `ewhub "
                        "catalogue publish`",
                        err->reason);
            return c;
        }
        ewh_catalogue_set_version(cat, ewh_catalogue_version(cat) + 1);
        if (hub_catalogue_store(dir, cat, key, err) != 0 || s_read(c, err) != 0)
            goto fail;
        ewh_log_info("catalogue: re-signed with the new hub key as version "
                     "%llu",
                     (unsigned long long)c->version);
        ewh_catalogue_destroy(&cat);
        return c;
    }
    /* None yet: the built-in text for the configured categories. */
    if ((cat = ewh_catalogue_builtin(cats, n_cats, err)) == NULL ||
        hub_catalogue_store(dir, cat, key, err) != 0 || s_read(c, err) != 0)
        goto fail;
    ewh_log_info("catalogue: published the built-in catalogue as version 1");
    ewh_catalogue_destroy(&cat);
    return c;
fail:
    ewh_catalogue_destroy(&cat);
    hub_catalogue_destroy(&c);
    return NULL;
}

void
hub_catalogue_destroy(hub_catalogue_t **c)
{
    if (c == NULL || *c == NULL)
        return;
    free((*c)->buf);
    free(*c);
    *c = NULL;
}

bool
hub_catalogue_poll(hub_catalogue_t *c)
{
    struct ewh_err err = {0};
    struct stat sb;
    uint64_t old = c->version;

    if (stat(c->path, &sb) != 0)
        return false;
    if (sb.st_ino == c->st.st_ino && sb.st_size == c->st.st_size &&
        sb.st_mtim.tv_sec == c->st.st_mtim.tv_sec &&
        sb.st_mtim.tv_nsec == c->st.st_mtim.tv_nsec)
        return false;
    if (s_read(c, &err) != 0) {
        ewh_log_warnx("catalogue: %s unusable, keeping version %llu: %s",
                      c->path, (unsigned long long)old, err.reason);
        return false;
    }
    if (c->version == old)
        return false;
    ewh_log_info("catalogue: version %llu", (unsigned long long)c->version);
    return true;
}

void
hub_catalogue_bytes(const hub_catalogue_t *c, const uint8_t **buf, size_t *len)
{
    *buf = c->buf;
    *len = c->len;
}

uint64_t
hub_catalogue_version(const hub_catalogue_t *c)
{
    return c->version;
}
