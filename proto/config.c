/* config.c — INI config files through libinih. */
#include "ewh/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

struct s_ctx {
    ewh_config_fn fn;
    void *user;
    struct ewh_err inner;
    int failed;
};

static int
s_handler(void *user, const char *section, const char *name, const char *value)
{
    struct s_ctx *c = user;

    if (c->failed)
        return 0;
    /* inih splits lines longer than INI_MAX_LINE; refuse rather than
     * silently take a cut value. */
    if (strlen(value) >= INI_MAX_LINE - 2) {
        ewh_err_set(&c->inner, EWH_E_TOOBIG, "value of '%s' too long", name);
        c->failed = 1;
        return 0;
    }
    if (c->fn(c->user, section, name, value, &c->inner) != 0) {
        c->failed = 1;
        return 0;
    }
    return 1;
}

int
ewh_config_load(const char *path, bool optional, ewh_config_fn fn, void *ctx,
                struct ewh_err *err)
{
    struct s_ctx c = {.fn = fn, .user = ctx};
    FILE *f;
    int line;

    f = fopen(path, "re");
    if (f == NULL) {
        if (optional && errno == ENOENT)
            return 0;
        return ewh_err_set(err, EWH_E_IO, "%s: %s", path, strerror(errno));
    }
    line = ini_parse_file(f, s_handler, &c);
    fclose(f);
    if (line < 0)
        return ewh_err_set(err, EWH_E_IO, "%s: cannot read", path);
    if (line > 0)
        return ewh_err_set(err, c.failed ? c.inner.code : EWH_E_INVALID,
                           "%s:%d: %s", path, line,
                           c.failed ? c.inner.reason
                                    : "syntax error (expected name = value "
                                      "or [section])");
    return 0;
}

int
ewh_config_uint(const char *name, const char *value, uint64_t min, uint64_t max,
                uint64_t *out, struct ewh_err *err)
{
    char *end = NULL;
    unsigned long long v;

    errno = 0;
    if (value[0] == '-' || value[0] == '\0')
        goto bad;
    v = strtoull(value, &end, 10);
    if (errno != 0 || *end != '\0')
        goto bad;
    if (v < min || v > max)
        return ewh_err_set(err, EWH_E_INVALID, "%s = %llu outside %llu..%llu",
                           name, v, (unsigned long long)min,
                           (unsigned long long)max);
    *out = v;
    return 0;
bad:
    return ewh_err_set(err, EWH_E_INVALID, "%s: '%s' is not a number", name,
                       value);
}

int
ewh_config_bool(const char *name, const char *value, bool *out,
                struct ewh_err *err)
{
    if (strcasecmp(value, "yes") == 0 || strcasecmp(value, "true") == 0 ||
        strcmp(value, "1") == 0) {
        *out = true;
        return 0;
    }
    if (strcasecmp(value, "no") == 0 || strcasecmp(value, "false") == 0 ||
        strcmp(value, "0") == 0) {
        *out = false;
        return 0;
    }
    return ewh_err_set(err, EWH_E_INVALID, "%s: '%s' is not yes or no", name,
                       value);
}
