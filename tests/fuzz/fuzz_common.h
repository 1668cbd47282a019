/* fuzz_common.h — fixed identities for the fuzz targets and the corpus
 * generator, so that seeds (valid envelopes, rosters, receipts) stay valid
 * across runs.  These keys are for tests only and protect nothing. */
#ifndef EWH_FUZZ_COMMON_H
#define EWH_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "ewh/identity.h"
#include "ewh/keyfile.h"
#include "ewh/log.h"
#include "ewh/roster.h"

/* Secret key files: seeds are all bytes i + offset, so nothing secret. */
#define S_HEX32(c)                                                             \
    c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c
static const char *const s_fz_keys[] = {
    "[secret]\nkind = hub\ncountry = \ncurve_secret = " S_HEX32(
        "01") "\nsign_seed = " S_HEX32("02") "\n",
    "[secret]\nkind = node\ncountry = RS\ncurve_secret "
    "= " S_HEX32("11") "\nsign_seed = " S_HEX32("12") "\nbox_secret = " S_HEX32(
        "13") "\n",
    "[secret]\nkind = node\ncountry = HR\ncurve_secret "
    "= " S_HEX32("21") "\nsign_seed = " S_HEX32("22") "\nbox_secret = " S_HEX32(
        "23") "\n",
    "[secret]\nkind = node\ncountry = BG\ncurve_secret "
    "= " S_HEX32("31") "\nsign_seed = " S_HEX32("32") "\nbox_secret = " S_HEX32(
        "33") "\n",
};
#define FZ_HUB 0
#define FZ_RS  1
#define FZ_HR  2
#define FZ_BG  3
#define FZ_N   4

static ewh_secret_t *fz_sec[FZ_N];
static ewh_roster_t *fz_roster;

static void
fz_init(void)
{
    char dir[] = "/tmp/ewh-fuzz-XXXXXX", path[64];
    struct ewh_err err = {0};
    int i;

    ewh_log_init("fuzz", EWH_LOG_ERR);
    if (sodium_init() < 0 || mkdtemp(dir) == NULL)
        abort();
    for (i = 0; i < FZ_N; i++) {
        snprintf(path, sizeof(path), "%s/k%d", dir, i);
        if (ewh_keyfile_write(path, s_fz_keys[i], strlen(s_fz_keys[i]), 0600,
                              &err) != 0 ||
            (fz_sec[i] = ewh_secret_load(path, &err)) == NULL) {
            fprintf(stderr, "fuzz init: %s\n", err.reason);
            abort();
        }
        unlink(path);
    }
    rmdir(dir);
    fz_roster = ewh_roster_new(1);
    for (i = FZ_RS; i < FZ_N; i++)
        if (ewh_roster_put(fz_roster, ewh_secret_pubid(fz_sec[i]), false,
                           &err) != 0)
            abort();
}

#endif
