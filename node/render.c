/* render.c — reports as JSON and text. */
#include "render.h"

#include <string.h>
#include <time.h>

#include "ewh/limits.h"

static json_t *
s_time(int64_t t)
{
    char buf[32];

    if (t <= 0)
        return json_null();
    return json_string(ewh_time_format(t, buf, sizeof(buf)));
}

char *
node_render_tlp(enum ewh_tlp tlp, char *out, size_t cap)
{
    size_t i;

    snprintf(out, cap, "TLP:%s", ewh_tlp_name(tlp));
    for (i = 4; out[i] != '\0'; i++)
        if (out[i] >= 'a' && out[i] <= 'z')
            out[i] = (char)(out[i] - 'a' + 'A');
    return out;
}

bool
node_render_is_alarm(const struct node_msg *m)
{
    return m->level == EWH_LEVEL_HIGH && m->type != EWH_TYPE_CANCEL &&
           m->superseded_by[0] == '\0';
}

/* Per hub (issue 18): which accepted the report and when, and when it
 * was sent to a hub again after that hub lost data. */
static void
s_hubs_json(json_t *o, const struct node_msg *m)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; i < m->n_hubs; i++)
        json_array_append_new(
            a, json_pack("{s:s, s:o, s:o}", "endpoint", m->hubs[i].endpoint,
                         "accepted_at",
                         m->hubs[i].accepted_at ? s_time(m->hubs[i].accepted_at)
                                                : json_null(),
                         "resent_at",
                         m->hubs[i].resent_at ? s_time(m->hubs[i].resent_at)
                                              : json_null()));
    json_object_set_new(o, "hubs", a);
    json_object_set_new(o, "hubs_accepted",
                        json_integer((json_int_t)m->n_hubs_accepted));
}

/* "accepted by N of M hubs" and, when one lost data, that it was sent to
 * it again; prefix starts each line. */
static void
s_hubs_text(FILE *f, const struct node_msg *m, const char *prefix)
{
    char t[NODE_TIME_CHARS];
    size_t i, k = 0;

    fprintf(f, "%saccepted by %zu of %zu hub%s", prefix, m->n_hubs_accepted,
            m->n_hubs, m->n_hubs == 1 ? "" : "s");
    for (i = 0; i < m->n_hubs; i++)
        if (m->hubs[i].accepted_at != 0)
            fprintf(f, "%s %s at %s", k++ == 0 ? ":" : ",", m->hubs[i].endpoint,
                    node_render_time(m->hubs[i].accepted_at, t, sizeof(t)));
    fputc('\n', f);
    for (i = 0; i < m->n_hubs; i++)
        if (m->hubs[i].resent_at != 0)
            fprintf(f, "%sresent to %s after it lost data, at %s\n", prefix,
                    m->hubs[i].endpoint,
                    node_render_time(m->hubs[i].resent_at, t, sizeof(t)));
}

json_t *
node_render_json(const struct node_msg *m, bool with_body)
{
    json_t *o = json_object(), *a;
    size_t i;

    if (o == NULL)
        return NULL;
    json_object_set_new(o, "id", json_string(m->id));
    json_object_set_new(o, "type", json_string(ewh_type_name(m->type)));
    json_object_set_new(o, "origin", json_string(m->origin));
    if (!m->outgoing) {
        /* docs/trust.md: never the country's plain word when unverified */
        json_object_set_new(o, "origin_verified", json_boolean(!m->unverified));
        if (m->unverified)
            json_object_set_new(o, "origin_key", json_string(m->unverified_fp));
    }
    json_object_set_new(o, "author", json_string(m->author));
    json_object_set_new(o, "level", json_string(ewh_level_name(m->level)));
    /* what watch rings the bell for: a live high alert or update (a hook
     * pages on this, not on level alone) */
    json_object_set_new(o, "alarm", json_boolean(node_render_is_alarm(m)));
    json_object_set_new(o, "category", json_string(m->category));
    json_object_set_new(o, "tlp", json_string(ewh_tlp_name(m->tlp)));
    json_object_set_new(o, "title", json_string(m->title));
    json_object_set_new(o, "urgency", json_string(m->urgency));
    json_object_set_new(o, "certainty", json_string(m->certainty));
    json_object_set_new(o, "created_at", s_time(m->created_at));
    if (!m->outgoing)
        json_object_set_new(o, "late", json_boolean(node_render_is_late(m)));
    json_object_set_new(o, "expires_at", s_time(m->expires_at));
    a = json_array();
    for (i = 0; i < m->n_recipients; i++)
        json_array_append_new(a, json_string(m->recipients[i]));
    json_object_set_new(o, "to", a);
    json_object_set_new(o, "to_all", json_boolean(m->to_all));
    a = json_array();
    for (i = 0; i < m->n_refs; i++)
        json_array_append_new(a, json_string(m->refs[i]));
    json_object_set_new(o, "references", a);
    json_object_set_new(o, "superseded_by",
                        m->superseded_by[0] ? json_string(m->superseded_by)
                                            : json_null());
    json_object_set_new(o, "superseded_type",
                        m->superseded_by[0]
                            ? json_string(ewh_type_name(m->superseded_type))
                            : json_null());
    json_object_set_new(o, "superseded_at",
                        m->superseded_by[0] ? s_time(m->superseded_at)
                                            : json_null());
    json_object_set_new(o, "superseded_author",
                        m->superseded_by[0] ? json_string(m->superseded_author)
                                            : json_null());
    /* what an update or cancel replaces, when this node holds it */
    json_object_set_new(o, "replaces_title",
                        m->ref_title[0] ? json_string(m->ref_title)
                                        : json_null());
    if (m->outgoing) {
        json_t *r = json_object(), *why = json_object();
        json_t *by = json_object(), *at = json_object();
        json_object_set_new(o, "direction", json_string("sent"));
        json_object_set_new(o, "queued_at", s_time(m->received_at));
        json_object_set_new(o, "state", json_string(m->state));
        if (m->reason[0])
            json_object_set_new(o, "reason", json_string(m->reason));
        for (i = 0; i < m->n_rcpt; i++) {
            json_object_set_new(
                r, m->rcpt[i].cc,
                json_string(node_rstate_name(m->rcpt[i].state)));
            /* an acknowledged addressee's row holds the officer's name
             * where others hold a reason */
            if (m->rcpt[i].state == NODE_R_ACKNOWLEDGED) {
                json_object_set_new(by, m->rcpt[i].cc,
                                    json_string(m->rcpt[i].reason));
                json_object_set_new(at, m->rcpt[i].cc, s_time(m->rcpt[i].at));
            } else if (m->rcpt[i].reason[0] &&
                       m->rcpt[i].state != NODE_R_DELIVERED)
                json_object_set_new(why, m->rcpt[i].cc,
                                    json_string(m->rcpt[i].reason));
        }
        json_object_set_new(o, "recipients", r);
        s_hubs_json(o, m);
        json_object_set_new(o, "reasons", why);
        json_object_set_new(o, "acknowledged_by", by);
        json_object_set_new(o, "acknowledged_at", at);
    } else {
        json_object_set_new(o, "direction", json_string("received"));
        json_object_set_new(o, "received_at", s_time(m->received_at));
        json_object_set_new(o, "acknowledged", json_boolean(m->acked_at > 0));
        json_object_set_new(o, "acknowledged_at", s_time(m->acked_at));
        if (m->acked_by[0])
            json_object_set_new(o, "acknowledged_by", json_string(m->acked_by));
    }
    if (with_body)
        json_object_set_new(o, "body", json_string(m->body ? m->body : ""));
    return o;
}

int
node_render_json_line(FILE *f, const struct node_msg *m, bool with_body)
{
    json_t *o = node_render_json(m, with_body);
    char *s;
    int rc = -1;

    if (o == NULL)
        return -1;
    s = json_dumps(o, JSON_COMPACT);
    if (s != NULL) {
        rc = fprintf(f, "%s\n", s) < 0 ? -1 : 0;
        free(s);
    }
    json_decref(o);
    return rc;
}

bool
node_render_is_late(const struct node_msg *m)
{
    return !m->outgoing &&
           m->received_at - m->created_at > EWH_MAX_CLOCK_SKEW_S;
}

static void
s_cc_list(FILE *f, const struct node_msg *m)
{
    size_t i;

    for (i = 0; i < m->n_recipients; i++)
        fprintf(f, "%s%s", i ? "," : "", m->recipients[i]);
    if (m->to_all)
        fputs(" (all)", f);
}

char *
node_render_time(int64_t t, char *out, size_t cap)
{
    struct tm tm;
    time_t tt = (time_t)t;
    char z[8];

    if (cap < NODE_TIME_CHARS || localtime_r(&tt, &tm) == NULL ||
        strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm) == 0 ||
        strftime(z, sizeof(z), "%z", &tm) != 5)
        return ewh_time_format(t, out, cap);
    /* RFC 3339 wants the offset as +01:00, strftime gives +0100 */
    snprintf(out + strlen(out), cap - strlen(out), "%.3s:%.2s", z, z + 3);
    return out;
}

#define S_LABEL "%-14s"

void
node_render_text(FILE *f, const struct node_msg *m)
{
    char t[NODE_TIME_CHARS], tlp[16];
    size_t i;

    fprintf(f, S_LABEL "%s\n", "id:", m->id);
    fprintf(f, S_LABEL "%s\n", "type:", ewh_type_name(m->type));
    fprintf(f, S_LABEL "%s%s\n", "level:", ewh_level_name(m->level),
            node_render_is_alarm(m) ? "  !!!" : "");
    fprintf(f, S_LABEL "%s%s%s\n", "from:", m->origin,
            m->author[0] ? " / " : "", m->author);
    if (m->unverified)
        fprintf(f,
                "            UNVERIFIED: signed by key %s, which this node "
                "has not verified\n            as %s's (not %s's word until "
                "an officer verifies it)\n",
                m->unverified_fp, m->origin, m->origin);
    fprintf(f, S_LABEL, "to:");
    s_cc_list(f, m);
    fputc('\n', f);
    fprintf(f, S_LABEL "%s\n", "category:", m->category);
    fprintf(f, S_LABEL "%s\n",
            "tlp:", node_render_tlp(m->tlp, tlp, sizeof(tlp)));
    fprintf(f, S_LABEL "%s\n", "urgency:", m->urgency);
    fprintf(f, S_LABEL "%s\n", "certainty:", m->certainty);
    fprintf(f, S_LABEL "%s\n",
            "created:", node_render_time(m->created_at, t, sizeof(t)));
    if (m->expires_at > 0)
        fprintf(f, S_LABEL "%s\n",
                "expires:", node_render_time(m->expires_at, t, sizeof(t)));
    for (i = 0; i < m->n_refs; i++) {
        fprintf(
            f, S_LABEL "%s",
            m->type == EWH_TYPE_CANCEL ? "cancels:" : "replaces:", m->refs[i]);
        if (i == 0 && m->ref_title[0])
            fprintf(f, " \"%s\" of %s", m->ref_title,
                    node_render_time(m->ref_created_at, t, sizeof(t)));
        fputc('\n', f);
    }
    if (m->superseded_by[0])
        fprintf(f, S_LABEL "%s by %s%s%s at %s\n",
                m->superseded_type == EWH_TYPE_CANCEL ? "cancelled by:"
                                                      : "updated by:",
                m->superseded_by, m->origin,
                m->superseded_author[0] ? " / " : "", m->superseded_author,
                node_render_time(m->superseded_at, t, sizeof(t)));
    if (m->outgoing) {
        fprintf(f, S_LABEL "%s%s%s\n", "state:", m->state,
                m->reason[0] ? ": " : "", m->reason);
        s_hubs_text(f, m, "  ");
        for (i = 0; i < m->n_rcpt; i++) {
            fprintf(f, "  %s  %s", m->rcpt[i].cc,
                    node_rstate_name(m->rcpt[i].state));
            if (m->rcpt[i].state == NODE_R_ACKNOWLEDGED) {
                if (m->rcpt[i].reason[0])
                    fprintf(f, " by %s", m->rcpt[i].reason);
                if (m->rcpt[i].at > 0)
                    fprintf(f, " at %s",
                            node_render_time(m->rcpt[i].at, t, sizeof(t)));
            } else if (m->rcpt[i].reason[0])
                fprintf(f, ": %s", m->rcpt[i].reason);
            fputc('\n', f);
        }
    } else {
        fprintf(f, S_LABEL "%s\n",
                "received:", node_render_time(m->received_at, t, sizeof(t)));
        if (m->acked_at > 0)
            fprintf(f, S_LABEL "%s%s%s\n", "acknowledged:",
                    node_render_time(m->acked_at, t, sizeof(t)),
                    m->acked_by[0] ? " by " : "", m->acked_by);
        else
            fprintf(f, S_LABEL "no\n", "acknowledged:");
    }
    fprintf(f, S_LABEL "%s\n\n%s\n", "title:", m->title,
            m->body ? m->body : "");
}

void
node_render_line(FILE *f, const struct node_msg *m, bool color)
{
    char t[NODE_TIME_CHARS];
    bool alarm = node_render_is_alarm(m);
    const char *mark = alarm                          ? "!!! HIGH  "
                       : m->level == EWH_LEVEL_HIGH   ? "    high  "
                       : m->level == EWH_LEVEL_MEDIUM ? "    medium"
                                                      : "    low   ";

    if (color && alarm)
        fputs("\033[1;31m", f);
    char from[24];

    snprintf(from, sizeof(from), "%s%s", m->origin,
             m->unverified ? "?UNVERIFIED" : "");
    /* A received report shows when it arrived; one created long before
     * (a sender's clock behind, or a long outage) says so. */
    fprintf(f, "%s %s %s %-7s %-6s [%s] %s", mark, m->id,
            node_render_time(m->outgoing ? m->created_at : m->received_at, t,
                             sizeof(t)),
            from, ewh_type_name(m->type), m->category, m->title);
    if (node_render_is_late(m))
        fprintf(f, " (created %s)",
                node_render_time(m->created_at, t, sizeof(t)));
    /* what a cancel or update replaces, so the line reads on its own */
    if (m->n_refs > 0) {
        fprintf(f, " (%s %s",
                m->type == EWH_TYPE_CANCEL ? "cancels" : "replaces",
                m->refs[0]);
        if (m->ref_title[0])
            fprintf(f, " \"%s\"", m->ref_title);
        fputc(')', f);
    }
    if (m->superseded_by[0])
        fprintf(f, " (%s by %s at %s)",
                m->superseded_type == EWH_TYPE_CANCEL ? "cancelled" : "updated",
                m->superseded_by,
                node_render_time(m->superseded_at, t, sizeof(t)));
    if (!m->outgoing && m->acked_at == 0)
        fputs(" *unacknowledged*", f);
    if (color && alarm)
        fputs("\033[0m", f);
    fputc('\n', f);
}

void
node_render_outbox_line(FILE *f, const struct node_msg *m)
{
    char t[NODE_TIME_CHARS];
    size_t i;

    fprintf(f, "%s %-6s %s %-6s [%s] %s\n", m->id, ewh_level_name(m->level),
            node_render_time(m->created_at, t, sizeof(t)),
            ewh_type_name(m->type), m->category, m->title);
    fprintf(f, "    %s%s%s:", m->state, m->reason[0] ? " (" : "", m->reason);
    if (m->reason[0])
        fputc(')', f);
    for (i = 0; i < m->n_rcpt; i++) {
        fprintf(f, " %s=%s", m->rcpt[i].cc, node_rstate_name(m->rcpt[i].state));
        /* Final states say why; an accepted one only carries a note of
         * a hub fault (a forged expiry, outbox.c). */
        if (m->rcpt[i].reason[0] && (m->rcpt[i].state >= NODE_R_EXPIRED ||
                                     m->rcpt[i].state == NODE_R_ACCEPTED))
            fprintf(f, "(%s)", m->rcpt[i].reason);
    }
    fputc('\n', f);
    /* With several hubs (or after a refill): which have it. */
    if (m->n_hubs > 1 || (m->n_hubs == 1 && m->hubs[0].resent_at != 0))
        s_hubs_text(f, m, "    ");
}
