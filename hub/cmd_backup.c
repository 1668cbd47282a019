/* cmd_backup.c — ewhub backup: a consistent online copy of the store. */
#include "cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "ewh/log.h"

static const char s_usage[] =
    "usage: ewhub backup [--dir DIR] FILE\n"
    "  Copy DIR/store.db to FILE (which must not exist) with SQLite's\n"
    "  online backup API: a consistent snapshot, taken while the hub runs.\n"
    "  FILE holds envelopes (ciphertext), the audit chain, queues and\n"
    "  metadata, never plaintext.  Restore: docs/operations.md.\n";

int
hub_cmd_backup(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct ewh_err err = {0};
    const char *dir = NULL;
    char path[4096];
    int c, fd;

    while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'h':
            fputs(s_usage, stdout);
            return 0;
        default:
            fputs(s_usage, stderr);
            return 2;
        }
    }
    if (optind + 1 != argc) {
        fputs(s_usage, stderr);
        return 2;
    }
    dir = hub_cmd_dir(dir);
    hub_cmd_path(dir, "store.db", path, sizeof(path));
    umask(077); /* the copy is as sensitive as the store */
    if (access(argv[optind], F_OK) == 0)
        return hub_cmd_fail("backup: %s exists; choose a new file",
                            argv[optind]);
    if (hub_store_backup(path, argv[optind], &err) != 0) {
        unlink(argv[optind]);
        return hub_cmd_fail("backup: %s", err.reason);
    }
    /* Make the copy durable before saying so. */
    if ((fd = open(argv[optind], O_RDONLY | O_CLOEXEC)) < 0 || fsync(fd) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return hub_cmd_fail("backup: %s: %s", argv[optind], strerror(e));
    }
    close(fd);
    printf("backup: %s -> %s\n", path, argv[optind]);
    return 0;
}
