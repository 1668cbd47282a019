/* keyfile.c — atomic writes and checked reads of key files. */
#include "ewh/keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

static int
s_write_all(int fd, const void *data, size_t len)
{
    const unsigned char *p = data;

    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void
s_fsync_dir(const char *path)
{
    char copy[PATH_MAX];
    int fd;

    if (strlen(path) >= sizeof(copy))
        return;
    strcpy(copy, path);
    fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

int
ewh_keyfile_write(const char *path, const void *data, size_t len, mode_t mode,
                  struct ewh_err *err)
{
    char tmp[PATH_MAX];
    int fd;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid()) >=
        (int)sizeof(tmp))
        return ewh_err_set(err, EWH_E_TOOBIG, "%s: path too long", path);
    (void)unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0)
        return ewh_err_set(err, EWH_E_IO, "%s: %s", tmp, strerror(errno));
    /* The umask may have taken bits away; set exactly what was asked. */
    if (fchmod(fd, mode) != 0 || s_write_all(fd, data, len) != 0 ||
        fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return ewh_err_set(err, EWH_E_IO, "%s: %s", tmp, strerror(e));
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return ewh_err_set(err, EWH_E_IO, "%s: %s", path, strerror(e));
    }
    s_fsync_dir(path);
    return 0;
}

static int
s_read_fd(int fd, const char *path, void *buf, size_t cap, size_t *len,
          struct ewh_err *err)
{
    size_t off = 0;

    for (;;) {
        ssize_t n;
        if (off == cap) {
            char extra;
            n = read(fd, &extra, 1);
            if (n > 0)
                return ewh_err_set(err, EWH_E_TOOBIG,
                                   "%s: larger than %zu bytes", path, cap);
            break;
        }
        n = read(fd, (char *)buf + off, cap - off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return ewh_err_set(err, EWH_E_IO, "%s: %s", path, strerror(errno));
        }
        if (n == 0)
            break;
        off += (size_t)n;
    }
    *len = off;
    return 0;
}

int
ewh_keyfile_read_secret(const char *path, void *buf, size_t cap, size_t *len,
                        struct ewh_err *err)
{
    struct stat st;
    int fd, rc;

    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ELOOP)
            return ewh_err_set(err, EWH_E_PERM,
                               "%s: is a symbolic link; refusing to read a "
                               "secret key through a link",
                               path);
        return ewh_err_set(err, EWH_E_IO, "%s: %s", path, strerror(errno));
    }
    if (fstat(fd, &st) != 0) {
        rc = ewh_err_set(err, EWH_E_IO, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = ewh_err_set(err, EWH_E_PERM, "%s: not a regular file", path);
        goto out;
    }
    if (st.st_uid != geteuid()) {
        rc = ewh_err_set(err, EWH_E_PERM,
                         "%s: owned by uid %ld, not by this user (uid %ld); "
                         "refusing a secret key another user controls",
                         path, (long)st.st_uid, (long)geteuid());
        goto out;
    }
    if ((st.st_mode & 0077) != 0) {
        rc = ewh_err_set(err, EWH_E_PERM,
                         "%s: mode %04o lets group/others read a secret key; "
                         "run: chmod 600 %s",
                         path, (unsigned)(st.st_mode & 07777), path);
        goto out;
    }
    rc = s_read_fd(fd, path, buf, cap, len, err);
out:
    close(fd);
    return rc;
}

int
ewh_file_read(const char *path, size_t cap, char **out, size_t *len,
              struct ewh_err *err)
{
    char *buf;
    int fd, rc;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return ewh_err_set(err, EWH_E_IO, "%s: %s", path, strerror(errno));
    buf = malloc(cap + 1);
    if (buf == NULL) {
        close(fd);
        return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
    }
    rc = s_read_fd(fd, path, buf, cap, len, err);
    close(fd);
    if (rc != 0) {
        free(buf);
        return -1;
    }
    buf[*len] = '\0';
    *out = buf;
    return 0;
}
