/*
 * test_node_config.c — ewnode.conf (node/config.c) from real files: the
 * defaults, every key at its limits and one past them, unknown sections
 * and keys, errors that name the file and line, flags through
 * node_config_set(), and what node_config_write() writes reads back.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

static char s_dir[] = "/tmp/ewh-test-node-config-XXXXXX";
static char s_path[256];

static void
s_write(const char *text)
{
    FILE *f = fopen(s_path, "w");

    CHECK(f != NULL);
    CHECK(fputs(text, f) >= 0);
    CHECK(fclose(f) == 0);
}

/* Load "[node]\ncountry = RS\n" followed by extra. */
static int
s_load(const char *extra, struct node_config *cfg, struct ewh_err *err)
{
    char buf[1024];

    snprintf(buf, sizeof(buf), "[node]\ncountry = RS\n%s", extra);
    s_write(buf);
    return node_config_load(s_path, cfg, err);
}

static void
test_defaults(void)
{
    struct ewh_err err = {0};
    struct node_config cfg;

    CHECK_OK(s_load("", &cfg, &err), &err);
    CHECK(strcmp(cfg.country, "RS") == 0);
    CHECK(cfg.hub[0] == '\0' && cfg.author[0] == '\0');
    CHECK(cfg.credit == EWH_DEFAULT_CREDIT);
    CHECK(cfg.reconnect_ms == NODE_DEFAULT_RECONNECT_MS);
    CHECK(cfg.reconnect_max_ms == NODE_DEFAULT_RECONNECT_MAX_MS);
    CHECK(cfg.heartbeat_ms == NODE_DEFAULT_HEARTBEAT_MS);
    CHECK(cfg.hook_timeout_s == NODE_DEFAULT_HOOK_TIMEOUT);
    CHECK(cfg.min_hubs == 1);
}

/* min_hubs against the hubs listed: the agent refuses to start when no
 * report could count as accepted. */
static void
test_min_hubs_checked(void)
{
    struct ewh_err err = {0};
    struct node_config cfg;

    CHECK_OK(s_load("min_hubs = 2\n", &cfg, &err), &err);
    CHECK(cfg.min_hubs == 2);
    CHECK_OK(node_config_check_hubs(&cfg, 2, &err), &err);
    CHECK_OK(node_config_check_hubs(&cfg, 3, &err), &err);
    CHECK_FAILS(node_config_check_hubs(&cfg, 1, &err), &err, EWH_E_INVALID,
                "min_hubs = 2 in ewnode.conf, but 1 hub is listed");
}

static void
test_every_key(void)
{
    struct ewh_err err = {0};
    struct node_config cfg;

    CHECK_OK(s_load("hub = tcp://127.0.0.1:7400\ncredit = 9\n"
                    "reconnect_ms = 20\nreconnect_max_ms = 30\n"
                    "heartbeat_ms = 400\nhook_timeout = 5\n"
                    "author = Duty officer\n",
                    &cfg, &err),
             &err);
    CHECK(strcmp(cfg.hub, "tcp://127.0.0.1:7400") == 0);
    CHECK(cfg.credit == 9 && cfg.reconnect_ms == 20);
    CHECK(cfg.reconnect_max_ms == 30 && cfg.heartbeat_ms == 400);
    CHECK(cfg.hook_timeout_s == 5);
    CHECK(strcmp(cfg.author, "Duty officer") == 0);
}

/* Each numeric key: min and max accepted, min-1 and max+1 refused with
 * the file and line named. */
static void
test_numeric_limits(void)
{
    static const struct {
        const char *key;
        unsigned long min, max;
    } k[] = {
        {"credit", 1, EWH_MAX_CREDIT},     {"reconnect_ms", 10, 600000},
        {"reconnect_max_ms", 10, 3600000}, {"heartbeat_ms", 100, 600000},
        {"hook_timeout", 1, 3600},         {"min_hubs", 1, EWH_MAX_HUBS},
    };
    struct ewh_err err = {0};
    struct node_config cfg;
    char line[128], where[300];
    size_t i;

    snprintf(where, sizeof(where), "%s:3:", s_path);
    for (i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
        snprintf(line, sizeof(line), "%s = %lu\n", k[i].key, k[i].min);
        CHECK_OK(s_load(line, &cfg, &err), &err);
        snprintf(line, sizeof(line), "%s = %lu\n", k[i].key, k[i].max);
        CHECK_OK(s_load(line, &cfg, &err), &err);
        snprintf(line, sizeof(line), "%s = %lu\n", k[i].key, k[i].min - 1);
        CHECK_FAILS(s_load(line, &cfg, &err), &err, EWH_E_INVALID, where);
        snprintf(line, sizeof(line), "%s = %lu\n", k[i].key, k[i].max + 1);
        CHECK_FAILS(s_load(line, &cfg, &err), &err, EWH_E_INVALID, where);
        snprintf(line, sizeof(line), "%s = 12x\n", k[i].key);
        CHECK_FAILS(s_load(line, &cfg, &err), &err, EWH_E_INVALID, where);
    }
}

static void
test_text_keys(void)
{
    struct ewh_err err = {0};
    struct node_config cfg;
    char line[600], author[EWH_MAX_AUTHOR_BYTES + 2];

    CHECK_FAILS(s_load("hub = 127.0.0.1:7400\n", &cfg, &err), &err,
                EWH_E_INVALID, "expected tcp://");
    /* longer than the field (through a flag: a line that long is past
     * libinih's own limit) */
    memset(line, 0, sizeof(line));
    strcpy(line, "tcp://");
    memset(line + strlen(line), 'h', sizeof(cfg.hub) - strlen(line));
    CHECK_FAILS(node_config_set(&cfg, "hub", line, &err), &err, EWH_E_INVALID,
                "expected tcp://");
    line[sizeof(cfg.hub) - 1] = '\0';
    CHECK_OK(node_config_set(&cfg, "hub", line, &err), &err);
    CHECK(strlen(cfg.hub) == sizeof(cfg.hub) - 1);

    memset(author, 'a', EWH_MAX_AUTHOR_BYTES);
    author[EWH_MAX_AUTHOR_BYTES] = '\0';
    snprintf(line, sizeof(line), "author = %s\n", author);
    CHECK_OK(s_load(line, &cfg, &err), &err);
    CHECK(strlen(cfg.author) == EWH_MAX_AUTHOR_BYTES);
    author[EWH_MAX_AUTHOR_BYTES] = 'a';
    author[EWH_MAX_AUTHOR_BYTES + 1] = '\0';
    snprintf(line, sizeof(line), "author = %s\n", author);
    CHECK_FAILS(s_load(line, &cfg, &err), &err, EWH_E_TOOBIG,
                "author too long");
    /* metrics (issue 20): HOST:PORT, checked when the agent listens; at
     * most sizeof(cfg.metrics) - 1 bytes here. */
    CHECK(cfg.metrics[0] == '\0');
    CHECK_OK(s_load("metrics = 127.0.0.1:9465\n", &cfg, &err), &err);
    CHECK(strcmp(cfg.metrics, "127.0.0.1:9465") == 0);
    memset(line, 0, sizeof(line));
    memset(line, '1', sizeof(cfg.metrics));
    CHECK_FAILS(node_config_set(&cfg, "metrics", line, &err), &err,
                EWH_E_TOOBIG, "metrics: longer than");
    line[sizeof(cfg.metrics) - 1] = '\0';
    CHECK_OK(node_config_set(&cfg, "metrics", line, &err), &err);
}

static void
test_refused_files(void)
{
    struct ewh_err err = {0};
    struct node_config cfg;
    char p[300];

    s_write("[node]\ncountry = XX1\n");
    CHECK_FAILS(node_config_load(s_path, &cfg, &err), &err, EWH_E_INVALID,
                "not an ISO 3166-1");
    s_write("[node]\nhub = tcp://127.0.0.1:1\n");
    CHECK_FAILS(node_config_load(s_path, &cfg, &err), &err, EWH_E_INVALID,
                "no country set");
    CHECK_FAILS(s_load("colour = red\n", &cfg, &err), &err, EWH_E_INVALID,
                "unknown setting 'colour'");
    CHECK_FAILS(s_load("[hub]\nport = 1\n", &cfg, &err), &err, EWH_E_INVALID,
                "unknown section [hub]");
    snprintf(p, sizeof(p), "%s/none.conf", s_dir);
    err.code = EWH_E_OK;
    CHECK(node_config_load(p, &cfg, &err) != 0);
    CHECK(err.code != EWH_E_OK && strstr(err.reason, p) != NULL);
}

/* Flags override keys with the file's checks. */
static void
test_set(void)
{
    struct ewh_err err = {0};
    struct node_config cfg;

    node_config_defaults(&cfg);
    CHECK_OK(node_config_set(&cfg, "credit", "17", &err), &err);
    CHECK(cfg.credit == 17);
    CHECK_FAILS(node_config_set(&cfg, "credit", "0", &err), &err, EWH_E_INVALID,
                "credit");
    CHECK(cfg.credit == 17); /* a refused value changes nothing */
    CHECK_FAILS(node_config_set(&cfg, "nonsense", "1", &err), &err,
                EWH_E_INVALID, "unknown setting");
    CHECK_OK(node_config_set(&cfg, "hub", "tcp://h:1", &err), &err);
    CHECK(strcmp(cfg.hub, "tcp://h:1") == 0);
}

static void
test_write_reads_back(void)
{
    struct ewh_err err = {0};
    struct node_config a, b;
    struct stat sb;
    int i;

    for (i = 0; i < 2; i++) {
        node_config_defaults(&a);
        snprintf(a.country, sizeof(a.country), "HU");
        snprintf(a.hub, sizeof(a.hub), "tcp://10.0.0.1:7400");
        a.credit = 33;
        a.heartbeat_ms = 900;
        if (i == 1)
            snprintf(a.author, sizeof(a.author), "Desk");
        (void)unlink(s_path);
        CHECK_OK(node_config_write(s_path, &a, &err), &err);
        CHECK(stat(s_path, &sb) == 0 && (sb.st_mode & 0777) == 0640);
        CHECK_OK(node_config_load(s_path, &b, &err), &err);
        CHECK(memcmp(&a, &b, sizeof(a)) == 0);
    }
}

int
main(void)
{
    char cmd[300];

    CHECK(mkdtemp(s_dir) != NULL);
    snprintf(s_path, sizeof(s_path), "%s/ewnode.conf", s_dir);
    RUN(test_defaults);
    RUN(test_every_key);
    RUN(test_numeric_limits);
    RUN(test_min_hubs_checked);
    RUN(test_text_keys);
    RUN(test_refused_files);
    RUN(test_set);
    RUN(test_write_reads_back);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s_dir);
    return system(cmd) == 0 ? 0 : 1;
}
