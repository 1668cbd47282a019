/* desk_sandbox.c — confine the desk's HTTP part with Landlock (desk.h):
 * after it has opened what it needs, it may read and write only the
 * store's and desk.db's files (and SQLite's temporary files), read the
 * time zone data, and nothing else: not node.key, not any other file, no
 * program to execute.  Same user as the privileged part, so without this
 * a subverted HTTP part could read the key file from disk. */
#include "desk.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sqlite3.h>

#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif

/* Every file-system right up to ABI 3 (the ones this code knows). */
static uint64_t
s_handled(int abi)
{
    uint64_t all = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                   LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
                   LANDLOCK_ACCESS_FS_REMOVE_DIR |
                   LANDLOCK_ACCESS_FS_REMOVE_FILE |
                   LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
                   LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
                   LANDLOCK_ACCESS_FS_MAKE_FIFO |
                   LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM;

    if (abi >= 2)
        all |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3)
        all |= LANDLOCK_ACCESS_FS_TRUNCATE;
    return all;
}

/* Allow access on path (a file or a directory tree); a path that does
 * not exist is skipped. */
static int
s_allow(int ruleset, const char *path, uint64_t access, uint64_t handled,
        struct ewh_err *err)
{
    struct landlock_path_beneath_attr pb;
    int fd = open(path, O_PATH | O_CLOEXEC);

    if (fd < 0)
        return errno == ENOENT ? 0
                               : ewh_err_set(err, EWH_E_IO, "landlock: %s: %s",
                                             path, strerror(errno));
    memset(&pb, 0, sizeof(pb));
    pb.parent_fd = fd;
    pb.allowed_access = access & handled;
    if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb,
                0) != 0) {
        /* A file (not a directory) takes only file rights. */
        pb.allowed_access &= LANDLOCK_ACCESS_FS_READ_FILE |
                             LANDLOCK_ACCESS_FS_WRITE_FILE |
                             LANDLOCK_ACCESS_FS_TRUNCATE;
        if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH,
                    &pb, 0) != 0) {
            close(fd);
            return ewh_err_set(err, EWH_E_IO, "landlock rule %s: %s", path,
                               strerror(errno));
        }
    }
    close(fd);
    return 0;
}

int
node_desk_confine(const char *dir, struct ewh_err *err)
{
    static const char *const dbs[] = {"store.db",     "store.db-wal",
                                      "store.db-shm", "desk.db",
                                      "desk.db-wal",  "desk.db-shm"};
    const uint64_t rw = LANDLOCK_ACCESS_FS_READ_FILE |
                        LANDLOCK_ACCESS_FS_WRITE_FILE |
                        LANDLOCK_ACCESS_FS_TRUNCATE;
    const uint64_t tmp = rw | LANDLOCK_ACCESS_FS_MAKE_REG |
                         LANDLOCK_ACCESS_FS_REMOVE_FILE |
                         LANDLOCK_ACCESS_FS_READ_DIR;
    struct landlock_ruleset_attr attr;
    char path[1200];
    const char *t;
    uint64_t handled;
    size_t i;
    int abi, rs, fd, rc = -1;

    abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
                       LANDLOCK_CREATE_RULESET_VERSION);
    if (abi < 1)
        return 0; /* not in this kernel: the caller says so */
    handled = s_handled(abi);
    memset(&attr, 0, sizeof(attr));
    attr.handled_access_fs = handled;
    if ((rs = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr),
                           0)) < 0)
        return ewh_err_set(err, EWH_E_IO, "landlock: %s", strerror(errno));
    for (i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, dbs[i]);
        if (s_allow(rs, path, rw, handled, err) != 0)
            goto out;
    }
    /* SQLite's temporary files (large sorts) go to a directory of their
     * own, DIR/desk-tmp: not /tmp, where anything may lie. */
    snprintf(path, sizeof(path), "%s/desk-tmp", dir);
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        ewh_err_set(err, EWH_E_IO, "%s: %s", path, strerror(errno));
        goto out;
    }
    if ((t = sqlite3_mprintf("%s", path)) == NULL) {
        ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        goto out;
    }
    sqlite3_temp_directory = (char *)t;
    if (s_allow(rs, path, tmp, handled, err) != 0 ||
        s_allow(rs, "/etc/localtime", LANDLOCK_ACCESS_FS_READ_FILE, handled,
                err) != 0 ||
        s_allow(rs, "/usr/share/zoneinfo",
                LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR,
                handled, err) != 0)
        goto out;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        syscall(SYS_landlock_restrict_self, rs, 0) != 0) {
        ewh_err_set(err, EWH_E_IO, "landlock: %s", strerror(errno));
        goto out;
    }
    /* Check that it holds: the key file must be out of reach now. */
    snprintf(path, sizeof(path), "%s/node.key", dir);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
        close(fd);
        ewh_err_set(err, EWH_E_PERM, "landlock: %s still readable", path);
        goto out;
    }
    rc = abi;
out:
    close(rs);
    return rc;
}
