/* dir.c — the node's data directory (its config file: config.c). */
#include "dir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ewh/db.h"
#include "ewh/keyfile.h"

const char *
node_dir_default(const char *arg)
{
    const char *env;

    if (arg != NULL && arg[0] != '\0')
        return arg;
    env = getenv("EWNODE_DIR");
    if (env != NULL && env[0] != '\0')
        return env;
    return NODE_DEFAULT_DIR;
}

void
node_dir_file(const struct node_dir *d, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", d->path, name);
}

/* The store's files hold report plaintext: none of them may be open to
 * group or others (docs/usage.md, "Permissions"). */
static const char *const s_store_files[] = {"store.db", "store.db-wal",
                                            "store.db-shm"};

int
node_dir_check_private(const char *path, bool fix, bool *fixed,
                       struct ewh_err *err)
{
    char f[1200];
    struct stat sb;
    size_t i;
    int fd;

    if (fixed != NULL)
        *fixed = false;
    if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return ewh_err_set(err, EWH_E_NOTFOUND,
                           "%s: not a node directory (run `ewnode init "
                           "--dir %s` first)",
                           path, path);
    if (fstat(fd, &sb) != 0) {
        close(fd);
        return ewh_err_set(err, EWH_E_IO, "%s: %s", path, strerror(errno));
    }
    if (sb.st_uid != geteuid()) {
        close(fd);
        return ewh_err_set(err, EWH_E_PERM,
                           "%s: owned by uid %ld, not by this user (uid "
                           "%ld); the node directory must be its agent's "
                           "own (chown it, or run as its owner)",
                           path, (long)sb.st_uid, (long)geteuid());
    }
    if ((sb.st_mode & 0077) != 0) {
        if (!fix) {
            close(fd);
            return ewh_err_set(err, EWH_E_PERM,
                               "%s: mode %04o lets group or others into the "
                               "node directory, which holds report "
                               "plaintext; fix: chmod 700 %s",
                               path, (unsigned)(sb.st_mode & 07777), path);
        }
        if (fchmod(fd, 0700) != 0) {
            close(fd);
            return ewh_err_set(err, EWH_E_IO, "%s: chmod 700: %s", path,
                               strerror(errno));
        }
        if (fixed != NULL)
            *fixed = true;
    }
    close(fd);
    for (i = 0; i < sizeof(s_store_files) / sizeof(s_store_files[0]); i++) {
        snprintf(f, sizeof(f), "%s/%s", path, s_store_files[i]);
        if (lstat(f, &sb) != 0)
            continue; /* not there (yet) */
        if (!S_ISREG(sb.st_mode))
            return ewh_err_set(err, EWH_E_PERM, "%s: not a regular file", f);
        if ((sb.st_mode & 0077) != 0)
            return ewh_err_set(err, EWH_E_PERM,
                               "%s: mode %04o lets group or others read "
                               "report plaintext; fix: chmod 600 %s",
                               f, (unsigned)(sb.st_mode & 07777), f);
    }
    return 0;
}

int
node_dir_store_create(const char *path, struct ewh_err *err)
{
    char f[1200];
    int fd;

    /* SQLite creates the file with 0644 & ~umask and gives the -wal and
     * -shm files the mode of the database: create it 0600 first. */
    snprintf(f, sizeof(f), "%s/store.db", path);
    fd = open(f, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == EEXIST
                   ? 0
                   : ewh_err_set(err, EWH_E_IO, "%s: %s", f, strerror(errno));
    if (fchmod(fd, 0600) != 0) {
        int e = errno;
        close(fd);
        return ewh_err_set(err, EWH_E_IO, "%s: %s", f, strerror(e));
    }
    close(fd);
    return 0;
}

static int s_follow_conf(struct node_dir *d, struct ewh_err *err);

int
node_dir_open(struct node_dir *d, const char *path, bool with_secret,
              struct ewh_err *err)
{
    char f[1200];
    struct stat sb;

    memset(d, 0, sizeof(*d));
    snprintf(d->path, sizeof(d->path), "%s", path);
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return ewh_err_set(err, EWH_E_NOTFOUND,
                           "%s: not a node directory (run `ewnode init "
                           "--dir %s` first)",
                           path, path);
    if (node_dir_check_private(path, false, NULL, err) != 0)
        return -1;
    node_dir_file(d, "ewnode.conf", f, sizeof(f));
    if (node_config_load(f, &d->cfg, err) != 0)
        return -1;
    node_dir_file(d, "hub.pub", f, sizeof(f));
    if (ewh_pubid_load(f, &d->hub, err) != 0)
        return -1;
    if (d->hub.kind != EWH_KIND_HUB)
        return ewh_err_set(err, EWH_E_INVALID, "%s is not a hub identity", f);
    node_dir_file(d, "hub.pub.next", f, sizeof(f));
    if (access(f, F_OK) == 0) {
        if (ewh_pubid_load(f, &d->hub_next, err) != 0)
            return -1;
        d->has_hub_next = d->hub_next.kind == EWH_KIND_HUB;
    }
    if (with_secret) {
        node_dir_file(d, "node.key", f, sizeof(f));
        if ((d->secret = ewh_secret_load(f, err)) == NULL)
            return -1;
        if (strcmp(ewh_secret_pubid(d->secret)->country, d->cfg.country) != 0) {
            node_dir_close(d);
            return ewh_err_set(err, EWH_E_INVALID,
                               "node.key is for %s but ewnode.conf says %s",
                               ewh_secret_pubid(d->secret)->country,
                               d->cfg.country);
        }
    }
    node_dir_file(d, "store.db", f, sizeof(f));
    /* `ewnode init` made the store: missing or empty now, it was lost
     * (checked before anything could create it). */
    if (ewh_db_must_exist(f, err) != 0 ||
        node_dir_store_create(d->path, err) != 0) {
        node_dir_close(d);
        return -1;
    }
    if ((d->store = node_store_open(f, true, err)) == NULL) {
        node_dir_close(d);
        return -1;
    }
    /* A store from before several hubs lists none: hub #0 is the one
     * ewnode.conf and hub.pub name (store.h). */
    if (node_store_hubs_seed(d->store, d->cfg.hub, &d->hub, err) != 0 ||
        s_follow_conf(d, err) != 0) {
        node_dir_close(d);
        return -1;
    }
    return 0;
}

void
node_dir_close(struct node_dir *d)
{
    node_store_close(&d->store);
    ewh_secret_destroy(&d->secret);
    if (d->lock_fd > 0)
        close(d->lock_fd); /* releases the agent lock */
    d->lock_fd = 0;
}

/* ---- the agent's lock (DIR/ewnode.pid) ---- */

static int
s_lock_open(const struct node_dir *d, int flags, struct ewh_err *err)
{
    char f[1200];
    int fd;

    node_dir_file(d, "ewnode.pid", f, sizeof(f));
    fd = open(f, flags | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && (errno != ENOENT || (flags & O_CREAT)))
        ewh_err_set(err, EWH_E_IO, "%s: %s", f, strerror(errno));
    return fd;
}

int
node_dir_lock(struct node_dir *d, struct ewh_err *err)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    char f[1200], buf[32];
    long pid;
    int fd, n;

    node_dir_file(d, "ewnode.pid", f, sizeof(f));
    if ((fd = s_lock_open(d, O_RDWR | O_CREAT, err)) < 0)
        return -1;
    /* A POSIX record lock: the kernel drops it when the agent exits, even
     * by SIGKILL, so a stale file never blocks a start. */
    if (fcntl(fd, F_SETLK, &fl) != 0) {
        int e = errno;
        pid = 0;
        if (e == EACCES || e == EAGAIN) {
            struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
            if (fcntl(fd, F_GETLK, &q) == 0 && q.l_type != F_UNLCK)
                pid = (long)q.l_pid;
            close(fd);
            return ewh_err_set(err, EWH_E_INVALID,
                               "an agent already runs on this dir (pid %ld, "
                               "%s)",
                               pid, d->path);
        }
        close(fd);
        return ewh_err_set(err, EWH_E_IO, "%s: lock: %s", f, strerror(e));
    }
    n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
        int e = errno;
        close(fd);
        return ewh_err_set(err, EWH_E_IO, "%s: %s", f, strerror(e));
    }
    d->lock_fd = fd;
    return 0;
}

long
node_dir_agent_pid(const struct node_dir *d)
{
    struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    int fd;

    if (d->lock_fd > 0)
        return (long)getpid();
    if ((fd = s_lock_open(d, O_RDONLY, NULL)) < 0)
        return 0;
    /* F_GETLK only asks: it takes no lock, so it never races a start. */
    if (fcntl(fd, F_GETLK, &q) != 0 || q.l_type == F_UNLCK)
        q.l_pid = 0;
    close(fd);
    return (long)q.l_pid;
}

ewh_roster_t *
node_dir_roster(struct node_dir *d, struct ewh_err *err)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    ewh_roster_t *r;

    if (node_store_roster_get(d->store, &buf, &len, err) != 0)
        return NULL;
    r = ewh_roster_open(buf, len, d->hub.sign, err);
    free(buf);
    return r;
}

/* ---- key changes ---- */

int
node_dir_load_key(struct node_dir *d, const char *name, ewh_secret_t **out,
                  struct ewh_err *err)
{
    char f[1200];

    *out = NULL;
    node_dir_file(d, name, f, sizeof(f));
    if (access(f, F_OK) != 0)
        return 0;
    if ((*out = ewh_secret_load(f, err)) == NULL)
        return -1;
    if (strcmp(ewh_secret_pubid(*out)->country, d->cfg.country) != 0) {
        ewh_err_set(err, EWH_E_INVALID, "%s is for %s, not %s", f,
                    ewh_secret_pubid(*out)->country, d->cfg.country);
        ewh_secret_destroy(out);
        return -1;
    }
    return 0;
}

/* from becomes to (replacing it); the previous to is kept as keep (a hard
 * link), so that to exists at every moment. */
static int
s_rotate_file(struct node_dir *d, const char *from, const char *to,
              const char *keep, struct ewh_err *err)
{
    char a[1200], b[1200], c[1200];

    node_dir_file(d, from, a, sizeof(a));
    node_dir_file(d, to, b, sizeof(b));
    node_dir_file(d, keep, c, sizeof(c));
    (void)unlink(c);
    if (link(b, c) != 0 && errno != ENOENT)
        return ewh_err_set(err, EWH_E_IO, "link %s %s: %s", b, c,
                           strerror(errno));
    if (rename(a, b) != 0)
        return ewh_err_set(err, EWH_E_IO, "rename %s %s: %s", a, b,
                           strerror(errno));
    return 0;
}

static int
s_sync_dir(struct node_dir *d)
{
    FILE *f = fopen(d->path, "re");

    if (f == NULL)
        return -1;
    (void)fsync(fileno(f));
    fclose(f);
    return 0;
}

int
node_dir_rekey_commit(struct node_dir *d, struct ewh_err *err)
{
    char pub[64], pubnew[64], pubold[64];

    snprintf(pub, sizeof(pub), "node-%s.pub", d->cfg.country);
    snprintf(pubnew, sizeof(pubnew), "node-%s.pub.new", d->cfg.country);
    snprintf(pubold, sizeof(pubold), "node-%s.pub.old", d->cfg.country);
    if (s_rotate_file(d, "node.key.new", "node.key", "node.key.old", err) != 0)
        return -1;
    if (s_rotate_file(d, pubnew, pub, pubold, err) != 0)
        return -1;
    (void)s_sync_dir(d);
    return 0;
}

int
node_dir_hub_announce(struct node_dir *d, const uint8_t sign[32],
                      const uint8_t curve[32], struct ewh_err *err)
{
    struct ewh_pubid id;
    char f[1200];

    if (d->has_hub_next && memcmp(d->hub_next.sign, sign, 32) == 0 &&
        memcmp(d->hub_next.curve, curve, 32) == 0)
        return 0;
    memset(&id, 0, sizeof(id));
    id.kind = EWH_KIND_HUB;
    memcpy(id.sign, sign, 32);
    memcpy(id.curve, curve, 32);
    node_dir_file(d, "hub.pub.next", f, sizeof(f));
    if (ewh_pubid_save(&id, f, err) != 0)
        return -1;
    d->hub_next = id;
    d->has_hub_next = true;
    return 0;
}

int
node_dir_hub_forget_next(struct node_dir *d)
{
    char f[1200];

    if (!d->has_hub_next)
        return 0;
    node_dir_file(d, "hub.pub.next", f, sizeof(f));
    d->has_hub_next = false;
    return unlink(f);
}

/* The pinned hub's row (its key is hub.pub's) follows ewnode.conf
 * `hub=`, as the endpoint of the one hub did before several; left alone
 * when another listed hub has that endpoint. */
static int
s_follow_conf(struct node_dir *d, struct ewh_err *err)
{
    struct node_hub hubs[EWH_MAX_HUBS];
    struct ewh_err e = {0};
    size_t n = 0, i;

    if (d->cfg.hub[0] == '\0' ||
        node_store_hubs_list(d->store, hubs, EWH_MAX_HUBS, &n, err) != 0)
        return d->cfg.hub[0] == '\0' ? 0 : -1;
    for (i = 0; i < n; i++)
        if (memcmp(hubs[i].key.sign, d->hub.sign, EWH_KEY_BYTES) == 0 &&
            strcmp(hubs[i].endpoint, d->cfg.hub) != 0) {
            if (node_store_hub_set_endpoint(d->store, hubs[i].id, d->cfg.hub,
                                            &e) != 0 &&
                e.code != EWH_E_INVALID) {
                if (err != NULL)
                    *err = e;
                return -1;
            }
            break;
        }
    return 0;
}

static int
s_repin_listed(struct node_dir *d, struct ewh_err *err)
{
    struct node_hub hubs[EWH_MAX_HUBS];
    size_t n = 0, i;

    if (node_store_hubs_list(d->store, hubs, EWH_MAX_HUBS, &n, err) != 0)
        return -1;
    for (i = 0; i < n; i++)
        if (memcmp(hubs[i].key.sign, d->hub.sign, EWH_KEY_BYTES) == 0)
            return node_store_hub_set_key(d->store, hubs[i].id, &d->hub_next,
                                          err);
    return 0;
}

int
node_dir_hub_repin(struct node_dir *d, struct ewh_err *err)
{
    if (!d->has_hub_next)
        return ewh_err_set(err, EWH_E_INVALID, "no announced hub keys");
    if (s_rotate_file(d, "hub.pub.next", "hub.pub", "hub.pub.old", err) != 0)
        return -1;
    (void)s_sync_dir(d);
    /* The store's list pins hub #0 by the same key: re-pin it there too
     * (no hub listed with the old key: nothing). */
    if (d->store != NULL && s_repin_listed(d, err) != 0)
        return -1;
    d->hub = d->hub_next;
    d->has_hub_next = false;
    return 0;
}
