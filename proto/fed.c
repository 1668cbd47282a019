/* fed.c — the distribution rules of federation (docs/federation.md). */
#include "ewh/fed.h"

#include <string.h>

int
ewh_fed_path_check(const char *const *path, size_t n, struct ewh_err *err)
{
    size_t i, j;

    if (n == 0)
        return ewh_err_set(err, EWH_E_INVALID, "empty region path");
    if (n > EWH_MAX_FED_PATH)
        return ewh_err_set(err, EWH_E_TOOBIG,
                           "region path of %zu > EWH_MAX_FED_PATH %u", n,
                           EWH_MAX_FED_PATH);
    for (i = 0; i < n; i++) {
        if (!ewh_region_is_valid(path[i]))
            return ewh_err_set(err, EWH_E_INVALID,
                               "bad region name in path (position %zu)", i);
        for (j = 0; j < i; j++)
            if (strcmp(path[i], path[j]) == 0)
                return ewh_err_set(err, EWH_E_INVALID,
                                   "region %s twice in path", path[i]);
    }
    return 0;
}

int
ewh_fed_may_enter(enum ewh_distribution d, const char *origin_region,
                  const char *const *path, size_t n_path, const char *dest,
                  bool dest_peers_origin, struct ewh_err *err)
{
    size_t i;

    if ((unsigned)d > EWH_DIST_ALL)
        return ewh_err_set(err, EWH_E_INVALID, "bad distribution %d", (int)d);
    if (n_path > 0) {
        if (ewh_fed_path_check(path, n_path, err) != 0)
            return -1;
        if (strcmp(path[0], origin_region) != 0)
            return ewh_err_set(err, EWH_E_DISTRIBUTION,
                               "path starts at %s, not at the origin's "
                               "region %s",
                               path[0], origin_region);
        for (i = 0; i < n_path; i++)
            if (strcmp(path[i], dest) == 0 &&
                !(n_path == 1 && strcmp(dest, origin_region) == 0))
                return ewh_err_set(err, EWH_E_DISTRIBUTION,
                                   "region %s is already on the path", dest);
    }
    if (strcmp(dest, origin_region) == 0)
        return 0;
    switch (d) {
    case EWH_DIST_REGION:
        return ewh_err_set(err, EWH_E_DISTRIBUTION,
                           "distribution region: may not leave %s for %s",
                           origin_region, dest);
    case EWH_DIST_CONNECTED:
        if (!dest_peers_origin)
            return ewh_err_set(err, EWH_E_DISTRIBUTION,
                               "distribution connected: %s is not peered "
                               "with the origin's region %s",
                               dest, origin_region);
        if (n_path > 1)
            return ewh_err_set(err, EWH_E_DISTRIBUTION,
                               "distribution connected: already left %s, "
                               "may not go on to %s",
                               origin_region, dest);
        return 0;
    case EWH_DIST_ALL:
        return 0;
    }
    return ewh_err_set(err, EWH_E_INVALID, "bad distribution %d", (int)d);
}
