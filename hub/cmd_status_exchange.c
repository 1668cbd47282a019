/* cmd_status_exchange.c — the annual exchange in `ewhub status`: who has
 * sent which year's return.  Metadata only: the origin, the type and the
 * reporting year are in the clear routing header (docs/exchange.md); the
 * hub never sees a return's figures. */
#include "cmd_status_exchange.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static void
s_add(void *ctx, const char *origin, unsigned year, uint64_t n, int64_t last_at)
{
    json_t *o = json_object();

    json_object_set_new(o, "country", json_string(origin));
    json_object_set_new(o, "year", json_integer(year));
    json_object_set_new(o, "returns", json_integer((json_int_t)n));
    json_object_set_new(o, "last_received", json_integer(last_at));
    json_array_append_new(ctx, o);
}

json_t *
hub_status_returns(hub_store_t *st, const ewh_roster_t *r, int64_t now,
                   struct ewh_err *err)
{
    json_t *out = json_object(), *sent = json_array(), *missing = json_array();
    time_t t = (time_t)now;
    struct tm tm;
    unsigned year;
    size_t i, j;

    gmtime_r(&t, &tm);
    year = (unsigned)tm.tm_year + 1900;
    if (hub_store_returns_walk(st, s_add, sent, err) != 0) {
        json_decref(out);
        json_decref(sent);
        json_decref(missing);
        return NULL;
    }
    for (i = 0; i < ewh_roster_count(r); i++) {
        bool rev = false, have = false;
        const struct ewh_pubid *id = ewh_roster_at(r, i, &rev);
        json_t *o;
        if (rev)
            continue;
        json_array_foreach(sent, j, o)
        {
            if (json_integer_value(json_object_get(o, "year")) == year &&
                strcmp(json_string_value(json_object_get(o, "country")),
                       id->country) == 0)
                have = true;
        }
        if (!have)
            json_array_append_new(missing, json_string(id->country));
    }
    json_object_set_new(out, "year", json_integer(year));
    json_object_set_new(out, "sent", sent);
    json_object_set_new(out, "missing", missing);
    return out;
}

void
hub_status_returns_print(const json_t *ret)
{
    const json_t *sent = json_object_get(ret, "sent"), *o;
    const json_t *missing = json_object_get(ret, "missing");
    json_int_t year = -1;
    size_t i;

    printf("\nannual exchange returns (metadata):");
    if (json_array_size(sent) == 0)
        printf(" none yet");
    json_array_foreach(sent, i, o)
    {
        json_int_t y = json_integer_value(json_object_get(o, "year"));
        json_int_t n = json_integer_value(json_object_get(o, "returns"));
        if (y != year)
            printf("\n  %lld:", (long long)y);
        year = y;
        printf(" %s", json_string_value(json_object_get(o, "country")));
        if (n > 1)
            printf(" (%lld versions)", (long long)n);
    }
    printf("\n  not yet sent for %lld:",
           (long long)json_integer_value(json_object_get(ret, "year")));
    if (json_array_size(missing) == 0)
        printf(" none");
    json_array_foreach(missing, i, o)
    {
        printf(" %s", json_string_value(o));
    }
    printf("\n");
}
