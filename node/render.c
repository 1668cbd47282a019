/* render.c — reports as JSON and text. */
#include "render.h"

#include <string.h>

static json_t *
s_time(int64_t t)
{
    char buf[32];

    if (t <= 0)
        return json_null();
    return json_string(ewh_time_format(t, buf, sizeof(buf)));
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
    json_object_set_new(o, "category", json_string(m->category));
    json_object_set_new(o, "tlp", json_string(ewh_tlp_name(m->tlp)));
    json_object_set_new(o, "title", json_string(m->title));
    json_object_set_new(o, "urgency", json_string(m->urgency));
    json_object_set_new(o, "certainty", json_string(m->certainty));
    json_object_set_new(o, "created_at", s_time(m->created_at));
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
    if (m->outgoing) {
        json_t *r = json_object(), *why = json_object();
        json_object_set_new(o, "direction", json_string("sent"));
        json_object_set_new(o, "queued_at", s_time(m->received_at));
        json_object_set_new(o, "state", json_string(m->state));
        if (m->reason[0])
            json_object_set_new(o, "reason", json_string(m->reason));
        for (i = 0; i < m->n_rcpt; i++) {
            json_object_set_new(
                r, m->rcpt[i].cc,
                json_string(node_rstate_name(m->rcpt[i].state)));
            if (m->rcpt[i].reason[0])
                json_object_set_new(why, m->rcpt[i].cc,
                                    json_string(m->rcpt[i].reason));
        }
        json_object_set_new(o, "recipients", r);
        json_object_set_new(o, "reasons", why);
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

static void
s_cc_list(FILE *f, const struct node_msg *m)
{
    size_t i;

    for (i = 0; i < m->n_recipients; i++)
        fprintf(f, "%s%s", i ? "," : "", m->recipients[i]);
    if (m->to_all)
        fputs(" (all)", f);
}

void
node_render_text(FILE *f, const struct node_msg *m)
{
    char t[32];
    size_t i;

    fprintf(f, "id:         %s\n", m->id);
    fprintf(f, "type:       %s\n", ewh_type_name(m->type));
    fprintf(f, "level:      %s%s\n", ewh_level_name(m->level),
            m->level == EWH_LEVEL_HIGH ? "  !!!" : "");
    fprintf(f, "from:       %s%s%s\n", m->origin, m->author[0] ? " / " : "",
            m->author);
    if (m->unverified)
        fprintf(f,
                "            UNVERIFIED: signed by key %s, which this node "
                "has not verified\n            as %s's (not %s's word until "
                "an officer verifies it)\n",
                m->unverified_fp, m->origin, m->origin);
    fputs("to:         ", f);
    s_cc_list(f, m);
    fputc('\n', f);
    fprintf(f, "category:   %s\n", m->category);
    fprintf(f, "tlp:        TLP:%s\n", ewh_tlp_name(m->tlp));
    fprintf(f, "urgency:    %s\n", m->urgency);
    fprintf(f, "certainty:  %s\n", m->certainty);
    fprintf(f, "created:    %s\n",
            ewh_time_format(m->created_at, t, sizeof(t)));
    if (m->expires_at > 0)
        fprintf(f, "expires:    %s\n",
                ewh_time_format(m->expires_at, t, sizeof(t)));
    for (i = 0; i < m->n_refs; i++)
        fprintf(f, "%s %s\n",
                m->type == EWH_TYPE_CANCEL ? "cancels:   " : "updates:   ",
                m->refs[i]);
    if (m->superseded_by[0])
        fprintf(f, "%s %s\n",
                m->superseded_type == EWH_TYPE_CANCEL ? "cancelled by:"
                                                      : "updated by: ",
                m->superseded_by);
    if (m->outgoing) {
        fprintf(f, "state:      %s%s%s\n", m->state, m->reason[0] ? ": " : "",
                m->reason);
        for (i = 0; i < m->n_rcpt; i++)
            fprintf(f, "  %s  %s%s%s\n", m->rcpt[i].cc,
                    node_rstate_name(m->rcpt[i].state),
                    m->rcpt[i].reason[0] ? ": " : "", m->rcpt[i].reason);
    } else {
        fprintf(f, "received:   %s\n",
                ewh_time_format(m->received_at, t, sizeof(t)));
        if (m->acked_at > 0)
            fprintf(f, "acknowledged: %s%s%s\n",
                    ewh_time_format(m->acked_at, t, sizeof(t)),
                    m->acked_by[0] ? " by " : "", m->acked_by);
        else
            fputs("acknowledged: no\n", f);
    }
    fprintf(f, "title:      %s\n\n%s\n", m->title, m->body ? m->body : "");
}

void
node_render_line(FILE *f, const struct node_msg *m, bool color)
{
    char t[32];
    const char *mark = m->level == EWH_LEVEL_HIGH     ? "!!! HIGH  "
                       : m->level == EWH_LEVEL_MEDIUM ? "    medium"
                                                      : "    low   ";

    if (color && m->level == EWH_LEVEL_HIGH)
        fputs("\033[1;31m", f);
    char from[24];

    snprintf(from, sizeof(from), "%s%s", m->origin,
             m->unverified ? "?UNVERIFIED" : "");
    fprintf(f, "%s %s %s %-7s %-6s [%s] %s", mark, m->id,
            ewh_time_format(m->created_at, t, sizeof(t)), from,
            ewh_type_name(m->type), m->category, m->title);
    if (m->superseded_by[0])
        fprintf(f, " (%s by %s)",
                m->superseded_type == EWH_TYPE_CANCEL ? "cancelled" : "updated",
                m->superseded_by);
    if (!m->outgoing && m->acked_at == 0)
        fputs(" *unacknowledged*", f);
    if (color && m->level == EWH_LEVEL_HIGH)
        fputs("\033[0m", f);
    fputc('\n', f);
}

void
node_render_outbox_line(FILE *f, const struct node_msg *m)
{
    char t[32];
    size_t i;

    fprintf(f, "%s %-6s %s %-6s [%s] %s\n", m->id, ewh_level_name(m->level),
            ewh_time_format(m->created_at, t, sizeof(t)),
            ewh_type_name(m->type), m->category, m->title);
    fprintf(f, "    %s%s%s:", m->state, m->reason[0] ? " (" : "", m->reason);
    if (m->reason[0])
        fputc(')', f);
    for (i = 0; i < m->n_rcpt; i++) {
        fprintf(f, " %s=%s", m->rcpt[i].cc, node_rstate_name(m->rcpt[i].state));
        if (m->rcpt[i].reason[0] && m->rcpt[i].state >= NODE_R_EXPIRED)
            fprintf(f, "(%s)", m->rcpt[i].reason);
    }
    fputc('\n', f);
}
