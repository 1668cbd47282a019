/* config.c — DIR/ewhub.conf through ewh_config_load (libinih). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ewh/config.h"
#include "ewh/util.h"

#define HUB_DEFAULT_LISTEN "tcp://127.0.0.1:7700"

static const char s_template[] =
    "# ewhub.conf — the hub's configuration.  Every key is optional; the\n"
    "# values shown are the defaults.  Every key can also be given as a\n"
    "# flag of `ewhub run` (the flag wins): [limits] max_queue is\n"
    "# --max-queue, [retention] delivered is --retention-delivered, and so\n"
    "# on (see `ewhub run --help`).  Unknown keys are refused.\n"
    "#\n"
    "# Reload: SIGHUP (systemctl reload ewhub) re-reads this file; [limits],\n"
    "# [retention] and [roster] take effect at once, [hub] listen and\n"
    "# [store] max_pages need a restart.  A bad file on reload is logged\n"
    "# and the running settings stay.\n"
    "\n"
    "[hub]\n"
    "# ZeroMQ endpoint the ROUTER binds (--listen overrides).  Port '*'\n"
    "# takes an ephemeral port; the bound endpoint is written to\n"
    "# DIR/endpoint.  The default listens on this machine only\n"
    "# (127.0.0.1): a hotline whose nodes run on other machines must set\n"
    "# an address they can reach, e.g. listen = tcp://0.0.0.0:7700\n"
    "# (CURVE and the ZAP handler admit only enrolled nodes).\n"
    "# listen = " HUB_DEFAULT_LISTEN "\n"
    "# The region this hub serves: 1 to 32 of a-z, 0-9 and '-'.  The\n"
    "# signed roster names it; peer hubs enrol this hub under it (ewhub\n"
    "# peer add, docs/federation.md).  Changing it needs a restart and\n"
    "# every peer's operator to enrol the new name.\n"
    "# region = " EWH_DEFAULT_REGION "\n"
    "\n"
    "[limits]\n"
    "# Largest ZeroMQ message accepted from a node, bytes (at most 262144,\n"
    "# EWH_MAX_FRAME_BYTES).\n"
    "# max_frame_bytes = 262144\n"
    "# Submits of one node received but not yet acknowledged.\n"
    "# max_inflight_submits = 1000\n"
    "# Submits per second per node (token bucket, one second of burst).\n"
    "# submits_per_second = 2000\n"
    "# Deliveries waiting in one node's queue; beyond it submits addressed\n"
    "# to that node are refused (retry later).\n"
    "# max_queue = 200000\n"
    "# A live session whose deliveries (or receipt relays) wait\n"
    "# unacknowledged this long, nothing acknowledged meanwhile, gets them\n"
    "# all again (logged, counted as stalled).  0 or never: off.\n"
    "# stall_resend = 30s\n"
    "# Storage budgets, bytes: envelopes waiting for one recipient, and one\n"
    "# origin's envelopes still waiting for any addressee.  Beyond either,\n"
    "# submits are refused with over-budget (retry later), so that one\n"
    "# country's traffic cannot fill the store for the others.\n"
    "# recipient_bytes = 1073741824\n"
    "# origin_bytes = 1073741824\n"
    "# High reports may go this far (percent) beyond a budget; and with a\n"
    "# store quota ([store] max_pages), this share of it is kept for high\n"
    "# reports alone (0 to 50).\n"
    "# high_reserve_percent = 10\n"
    "\n"
    "[store]\n"
    "# Quota of the store in database pages (SQLite max_page_count; pages\n"
    "# are 4096 bytes).  0 means no quota.  Reaching it behaves like a full\n"
    "# disk: new submits are refused, nothing stored is harmed.  Also the\n"
    "# knob the tests use to simulate a full disk.\n"
    "# max_pages = 0\n"
    "\n"
    "[roster]\n"
    "# The region's report categories, comma-separated (lower-case letters,\n"
    "# digits and '-').  Default: early-warning, terrorism, organised-crime,\n"
    "# border-security, small-arms, illegal-migration, cyber, disaster,\n"
    "# dual-use-infrastructure, other.\n"
    "# categories = early-warning, terrorism, other\n"
    "\n"
    "[retention]\n"
    "# How long the hub keeps a report's envelope after it is final for\n"
    "# every addressee.  Durations: N followed by s, m, h or d (\"30d\",\n"
    "# \"12h\"); \"0\" or \"never\" keeps envelopes for ever.  The audit\n"
    "# chain keeps each removed report's id, envelope hash, origin and\n"
    "# time, so `ewhub audit verify` still passes; the id stays known, so a\n"
    "# resend is still answered as a duplicate.\n"
    "# Reports delivered to (or acknowledged by) every addressee, counted\n"
    "# from the last delivery:\n"
    "# delivered = 30d\n"
    "# Reports that expired undelivered for at least one addressee,\n"
    "# counted from the expiry:\n"
    "# expired = 30d\n"
    "\n"
    "[monitor]\n"
    "# Serve Prometheus metrics on http://HOST:PORT/metrics (--metrics).\n"
    "# Empty: off.  Bind to 127.0.0.1 unless a scraper elsewhere needs it.\n"
    "# metrics = 127.0.0.1:9700\n"
    "# Traffic events kept for `ewhub traffic` and `ewhub status` (the\n"
    "# newest N; 0 keeps all).  Metadata only.\n"
    "# events_keep = 100000\n";

void
hub_config_defaults(struct hub_config *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->listen, sizeof(c->listen), "%s", HUB_DEFAULT_LISTEN);
    snprintf(c->region, sizeof(c->region), "%s", EWH_DEFAULT_REGION);
    c->max_frame_bytes = EWH_MAX_FRAME_BYTES;
    c->max_inflight_submits = EWH_DEFAULT_MAX_INFLIGHT_SUBMITS;
    c->submits_per_s = EWH_DEFAULT_SUBMITS_PER_S;
    c->max_queue = EWH_DEFAULT_MAX_QUEUE;
    c->retention_delivered_s = HUB_DEFAULT_RETENTION_S;
    c->retention_expired_s = HUB_DEFAULT_RETENTION_S;
    c->events_keep = HUB_DEFAULT_EVENTS_KEEP;
    c->stall_resend_s = EWH_DEFAULT_STALL_RESEND_S;
    c->recipient_bytes = EWH_DEFAULT_RECIPIENT_BYTES;
    c->origin_bytes = EWH_DEFAULT_ORIGIN_BYTES;
    c->high_reserve_pct = EWH_DEFAULT_HIGH_RESERVE_PCT;
}

int
hub_config_duration(const char *name, const char *value, int64_t *out,
                    struct ewh_err *err)
{
    struct ewh_err e = {0};

    /* "never" and a zero of any unit mean no limit; everything else is
     * the one duration syntax of libewh (ewh_duration_parse). */
    if (strcmp(value, "never") == 0 ||
        (value[0] == '0' &&
         (value[1] == '\0' || (strchr("smhd", value[1]) != NULL &&
                               value[1] != '\0' && value[2] == '\0')))) {
        *out = 0;
        return 0;
    }
    if (ewh_duration_parse(value, HUB_MAX_DURATION_S, out, &e) == 0)
        return 0;
    if (e.code == EWH_E_TOOBIG)
        return ewh_err_set(err, EWH_E_INVALID,
                           "%s = %.32s: longer than 100 years", name, value);
    return ewh_err_set(err, EWH_E_INVALID,
                       "%s = %.32s: expected a duration like 30d, 12h, 90m, "
                       "45s, or 0/never",
                       name, value);
}

const char *
hub_config_template(void)
{
    return s_template;
}

static int
s_categories(struct hub_config *c, const char *value, struct ewh_err *err)
{
    char buf[4096], *save = NULL, *tok;
    size_t n = 0;

    if (strlen(value) >= sizeof(buf))
        return ewh_err_set(err, EWH_E_TOOBIG, "categories too long");
    snprintf(buf, sizeof(buf), "%s", value);
    for (tok = strtok_r(buf, ", \t", &save); tok != NULL;
         tok = strtok_r(NULL, ", \t", &save)) {
        if (n == EWH_MAX_CATEGORIES)
            return ewh_err_set(err, EWH_E_TOOBIG,
                               "more than EWH_MAX_CATEGORIES %u categories",
                               EWH_MAX_CATEGORIES);
        if (strlen(tok) > EWH_MAX_CATEGORY_BYTES)
            return ewh_err_set(err, EWH_E_TOOBIG, "category '%.64s' too long",
                               tok);
        snprintf(c->cats[n], sizeof(c->cats[n]), "%s", tok);
        n++;
    }
    if (n == 0)
        return ewh_err_set(err, EWH_E_INVALID, "categories: empty list");
    c->n_cats = n;
    return 0;
}

static int
s_u32(const char *name, const char *value, uint64_t min, uint64_t max,
      uint32_t *out, struct ewh_err *err)
{
    uint64_t v;

    if (ewh_config_uint(name, value, min, max, &v, err) != 0)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

int
hub_config_set(struct hub_config *c, const char *section, const char *name,
               const char *value, struct ewh_err *err)
{
    if (strcmp(section, "hub") == 0 && strcmp(name, "listen") == 0) {
        if (strlen(value) >= sizeof(c->listen) || value[0] == '\0')
            return ewh_err_set(err, EWH_E_INVALID, "listen: bad endpoint");
        snprintf(c->listen, sizeof(c->listen), "%s", value);
        return 0;
    }
    if (strcmp(section, "hub") == 0 && strcmp(name, "region") == 0) {
        if (!ewh_region_is_valid(value))
            return ewh_err_set(err, EWH_E_INVALID,
                               "region = %.40s: expected 1 to %u of a-z, "
                               "0-9 and '-'",
                               value, EWH_MAX_REGION_BYTES);
        snprintf(c->region, sizeof(c->region), "%s", value);
        return 0;
    }
    if (strcmp(section, "limits") == 0) {
        if (strcmp(name, "max_frame_bytes") == 0)
            return s_u32(name, value, 1024, EWH_MAX_FRAME_BYTES,
                         &c->max_frame_bytes, err);
        if (strcmp(name, "max_inflight_submits") == 0)
            return s_u32(name, value, 1, 1000000, &c->max_inflight_submits,
                         err);
        if (strcmp(name, "submits_per_second") == 0)
            return s_u32(name, value, 1, 10000000, &c->submits_per_s, err);
        if (strcmp(name, "max_queue") == 0)
            return s_u32(name, value, 1, 100000000, &c->max_queue, err);
        if (strcmp(name, "stall_resend") == 0)
            return hub_config_duration(name, value, &c->stall_resend_s, err);
        if (strcmp(name, "recipient_bytes") == 0)
            return s_u32(name, value, EWH_MIN_COUNTRY_BYTES, UINT32_MAX,
                         &c->recipient_bytes, err);
        if (strcmp(name, "origin_bytes") == 0)
            return s_u32(name, value, EWH_MIN_COUNTRY_BYTES, UINT32_MAX,
                         &c->origin_bytes, err);
        if (strcmp(name, "high_reserve_percent") == 0)
            return s_u32(name, value, 0, EWH_MAX_HIGH_RESERVE_PCT,
                         &c->high_reserve_pct, err);
    }
    if (strcmp(section, "store") == 0 && strcmp(name, "max_pages") == 0)
        return ewh_config_uint(name, value, 0, UINT32_MAX, &c->store_max_pages,
                               err);
    if (strcmp(section, "roster") == 0 && strcmp(name, "categories") == 0)
        return s_categories(c, value, err);
    if (strcmp(section, "retention") == 0 && strcmp(name, "delivered") == 0)
        return hub_config_duration(name, value, &c->retention_delivered_s, err);
    if (strcmp(section, "retention") == 0 && strcmp(name, "expired") == 0)
        return hub_config_duration(name, value, &c->retention_expired_s, err);
    if (strcmp(section, "monitor") == 0 && strcmp(name, "metrics") == 0) {
        if (strlen(value) >= sizeof(c->metrics))
            return ewh_err_set(err, EWH_E_INVALID, "metrics: too long");
        snprintf(c->metrics, sizeof(c->metrics), "%s", value);
        return 0;
    }
    if (strcmp(section, "monitor") == 0 && strcmp(name, "events_keep") == 0)
        return ewh_config_uint(name, value, 0, UINT32_MAX, &c->events_keep,
                               err);
    return ewh_err_set(err, EWH_E_INVALID, "unknown key '%.64s' in [%.32s]",
                       name, section);
}

static int
s_handler(void *ctx, const char *section, const char *name, const char *value,
          struct ewh_err *err)
{
    return hub_config_set(ctx, section, name, value, err);
}

int
hub_config_load(const char *path, struct hub_config *c, struct ewh_err *err)
{
    return ewh_config_load(path, false, s_handler, c, err);
}

int
hub_config_load_all(const char *path, struct hub_config *c,
                    const struct hub_config_override *ov, size_t n,
                    struct ewh_err *err)
{
    struct hub_config tmp;
    struct ewh_err e2 = {0};
    size_t i;

    hub_config_defaults(&tmp);
    if (hub_config_load(path, &tmp, err) != 0)
        return -1;
    for (i = 0; i < n; i++)
        if (hub_config_set(&tmp, ov[i].section, ov[i].name, ov[i].value, &e2) !=
            0)
            return ewh_err_set(err, e2.code, "--%s: %s", ov[i].flag, e2.reason);
    *c = tmp;
    return 0;
}
