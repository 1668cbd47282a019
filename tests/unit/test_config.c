/* test_config.c — the hub's config parser (hub/config.c) on real files:
 * defaults, every key, limits at min/max and beyond, durations, unknown
 * keys, command-line overrides, and that a bad file changes nothing. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

static char s_dir[] = "/tmp/ewh-test-config-XXXXXX";
static char s_path[256];

static void
s_write(const char *text)
{
    FILE *f = fopen(s_path, "w");

    CHECK(f != NULL);
    CHECK(fputs(text, f) >= 0);
    CHECK(fclose(f) == 0);
}

static void
test_defaults(void)
{
    struct hub_config c;

    hub_config_defaults(&c);
    CHECK(strcmp(c.listen, "tcp://127.0.0.1:7700") == 0);
    CHECK(c.max_frame_bytes == EWH_MAX_FRAME_BYTES);
    CHECK(c.max_inflight_submits == EWH_DEFAULT_MAX_INFLIGHT_SUBMITS);
    CHECK(c.submits_per_s == EWH_DEFAULT_SUBMITS_PER_S);
    CHECK(c.max_queue == EWH_DEFAULT_MAX_QUEUE);
    CHECK(c.recipient_bytes == EWH_DEFAULT_RECIPIENT_BYTES &&
          c.origin_bytes == EWH_DEFAULT_ORIGIN_BYTES &&
          c.high_reserve_pct == EWH_DEFAULT_HIGH_RESERVE_PCT);
    CHECK(c.store_max_pages == 0 && c.n_cats == 0 && c.metrics[0] == '\0');
}

static void
test_load(void)
{
    struct ewh_err err = {0};
    struct hub_config c;

    s_write("[hub]\nlisten = tcp://127.0.0.1:*\n"
            "[limits]\nmax_frame_bytes = 1024\nmax_inflight_submits = 5\n"
            "submits_per_second = 10000000\nmax_queue = 3\n"
            "recipient_bytes = 65536\norigin_bytes = 4294967295\n"
            "high_reserve_percent = 0\n"
            "[store]\nmax_pages = 100\n"
            "[roster]\ncategories = cyber, other,disaster\n"
            "[retention]\ndelivered = 12h\nexpired = never\n"
            "[monitor]\nmetrics = 127.0.0.1:0\nevents_keep = 0\n");
    hub_config_defaults(&c);
    CHECK_OK(hub_config_load(s_path, &c, &err), &err);
    CHECK(strcmp(c.listen, "tcp://127.0.0.1:*") == 0);
    CHECK(c.max_frame_bytes == 1024 && c.max_inflight_submits == 5);
    CHECK(c.submits_per_s == 10000000 && c.max_queue == 3);
    CHECK(c.recipient_bytes == 65536 && c.origin_bytes == 4294967295u &&
          c.high_reserve_pct == 0);
    CHECK(c.store_max_pages == 100);
    CHECK(c.n_cats == 3 && strcmp(c.cats[0], "cyber") == 0 &&
          strcmp(c.cats[2], "disaster") == 0);
    CHECK(c.retention_delivered_s == 12 * 3600 && c.retention_expired_s == 0);
    CHECK(strcmp(c.metrics, "127.0.0.1:0") == 0 && c.events_keep == 0);
}

/* A bad file: refused with the key named, and *c untouched by load_all. */
static void
test_refused(void)
{
    static const struct {
        const char *text, *needle;
    } bad[] = {
        {"[limits]\nmax_frame_bytes = 1023\n", "max_frame_bytes"},
        {"[limits]\nmax_frame_bytes = 262145\n", "max_frame_bytes"},
        {"[limits]\nmax_inflight_submits = 0\n", "max_inflight_submits"},
        {"[limits]\nmax_queue = 100000001\n", "max_queue"},
        {"[limits]\nmax_queue = 12x\n", "max_queue"},
        {"[limits]\nrecipient_bytes = 65535\n", "recipient_bytes"},
        {"[limits]\norigin_bytes = 4294967296\n", "origin_bytes"},
        {"[limits]\nhigh_reserve_percent = 51\n", "high_reserve_percent"},
        {"[limits]\nbogus = 1\n", "unknown key 'bogus' in [limits]"},
        {"[nowhere]\nlisten = x\n", "unknown key 'listen' in [nowhere]"},
        {"[hub]\nlisten =\n", "listen"},
        {"[retention]\ndelivered = 5w\n", "delivered = 5w"},
        {"[retention]\nexpired = 40000d\n", "longer than 100 years"},
        {"[roster]\ncategories = ,\n", "empty list"},
    };
    struct ewh_err err = {0};
    struct hub_config c, before;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        hub_config_defaults(&c);
        c.max_queue = 77;
        before = c;
        s_write(bad[i].text);
        err.code = EWH_E_OK;
        err.reason[0] = '\0';
        if (hub_config_load_all(s_path, &c, NULL, 0, &err) == 0) {
            fprintf(stderr, "accepted: %s", bad[i].text);
            exit(1);
        }
        if (strstr(err.reason, bad[i].needle) == NULL) {
            fprintf(stderr, "%s: reason '%s'\n", bad[i].text, err.reason);
            exit(1);
        }
        CHECK(memcmp(&c, &before, sizeof(c)) == 0);
    }
}

static void
test_durations(void)
{
    struct ewh_err err = {0};
    int64_t v = -1;

    CHECK_OK(hub_config_duration("d", "0", &v, &err), &err);
    CHECK(v == 0);
    CHECK_OK(hub_config_duration("d", "never", &v, &err), &err);
    CHECK(v == 0);
    CHECK_OK(hub_config_duration("d", "0d", &v, &err), &err);
    CHECK(v == 0);
    CHECK_OK(hub_config_duration("d", "12", &v, &err), &err);
    CHECK(v == 12);
    CHECK_OK(hub_config_duration("d", "45s", &v, &err), &err);
    CHECK(v == 45);
    CHECK_OK(hub_config_duration("d", "90m", &v, &err), &err);
    CHECK(v == 5400);
    CHECK_OK(hub_config_duration("d", "30d", &v, &err), &err);
    CHECK(v == 30 * 86400);
    CHECK_OK(hub_config_duration("d", "36500d", &v, &err), &err);
    CHECK_FAILS(hub_config_duration("d", "36501d", &v, &err), &err,
                EWH_E_INVALID, "100 years");
    CHECK_FAILS(hub_config_duration("d", "-1s", &v, &err), &err, EWH_E_INVALID,
                "expected a duration");
    CHECK_FAILS(hub_config_duration("d", "1hh", &v, &err), &err, EWH_E_INVALID,
                "expected a duration");
    CHECK_FAILS(hub_config_duration("d", "", &v, &err), &err, EWH_E_INVALID,
                "expected a duration");
    CHECK_FAILS(hub_config_duration("d", "0x", &v, &err), &err, EWH_E_INVALID,
                "expected a duration");
}

static void
test_overrides(void)
{
    struct ewh_err err = {0};
    struct hub_config c;
    struct hub_config_override ov[] = {
        {"max-queue", "limits", "max_queue", "9"},
        {"listen", "hub", "listen", "tcp://127.0.0.1:7801"},
    };
    struct hub_config_override bad[] = {
        {"max-queue", "limits", "max_queue", "0"},
    };

    s_write("[limits]\nmax_queue = 5\nsubmits_per_second = 7\n");
    hub_config_defaults(&c);
    CHECK_OK(hub_config_load_all(s_path, &c, ov, 2, &err), &err);
    CHECK(c.max_queue == 9 && c.submits_per_s == 7); /* the flag wins */
    CHECK(strcmp(c.listen, "tcp://127.0.0.1:7801") == 0);
    CHECK_FAILS(hub_config_load_all(s_path, &c, bad, 1, &err), &err,
                EWH_E_INVALID, "--max-queue: ");
    CHECK(c.max_queue == 9);
    /* the template is a valid file (every line a comment or a section) */
    s_write(hub_config_template());
    hub_config_defaults(&c);
    CHECK_OK(hub_config_load(s_path, &c, &err), &err);
}

int
main(void)
{
    if (mkdtemp(s_dir) == NULL)
        return 1;
    snprintf(s_path, sizeof(s_path), "%s/ewhub.conf", s_dir);
    RUN(test_defaults);
    RUN(test_load);
    RUN(test_refused);
    RUN(test_durations);
    RUN(test_overrides);
    unlink(s_path);
    rmdir(s_dir);
    return 0;
}
