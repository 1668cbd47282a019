/* cap.c — CAP 1.2 export through libxml2's xmlTextWriter. */
#include "cap.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libxml/xmlwriter.h>

#define S_CAP_NS "urn:oasis:names:tc:emergency:cap:1.2"

static const char *const s_urgency[] = {"Immediate", "Expected", "Future",
                                        "Past",      "Unknown",  NULL};
static const char *const s_certainty[] = {"Observed", "Likely",  "Possible",
                                          "Unlikely", "Unknown", NULL};

static const char *
s_pick(const char *const *set, const char *s)
{
    size_t i;

    for (i = 0; s != NULL && set[i] != NULL; i++)
        if (strcasecmp(set[i], s) == 0)
            return set[i];
    return NULL;
}

const char *
node_cap_urgency(const char *s)
{
    return s_pick(s_urgency, s);
}

const char *
node_cap_certainty(const char *s)
{
    return s_pick(s_certainty, s);
}

const char *
node_cap_default_urgency(enum ewh_level l)
{
    return l == EWH_LEVEL_HIGH     ? "Immediate"
           : l == EWH_LEVEL_MEDIUM ? "Expected"
                                   : "Future";
}

void
node_cap_sender(const char *cc, char *out, size_t cap)
{
    snprintf(out, cap, "ewhub-%s", cc);
}

static const char *
s_severity(enum ewh_level l)
{
    return l == EWH_LEVEL_HIGH     ? "Severe"
           : l == EWH_LEVEL_MEDIUM ? "Moderate"
           : l == EWH_LEVEL_LOW    ? "Minor"
                                   : "Unknown";
}

static const char *
s_msgtype(enum ewh_type t)
{
    return t == EWH_TYPE_UPDATE   ? "Update"
           : t == EWH_TYPE_CANCEL ? "Cancel"
                                  : "Alert";
}

#define S_X(s) ((const xmlChar *)(s))

static int
s_elem(xmlTextWriterPtr w, const char *name, const char *text)
{
    return xmlTextWriterWriteElement(w, S_X(name), S_X(text)) < 0 ? -1 : 0;
}

static int
s_param(xmlTextWriterPtr w, const char *elem, const char *name,
        const char *value)
{
    if (xmlTextWriterStartElement(w, S_X(elem)) < 0 ||
        s_elem(w, "valueName", name) != 0 || s_elem(w, "value", value) != 0 ||
        xmlTextWriterEndElement(w) < 0)
        return -1;
    return 0;
}

/* references: "sender,identifier,sent" for each earlier message, separated
 * by spaces (CAP 1.2, 3.2.1 "references"). */
static int
s_references(const struct node_msg *m, node_store_t *s, char *out, size_t cap,
             struct ewh_err *err)
{
    char sender[32], t[32];
    size_t i, off = 0, known = 0;
    int64_t sent;
    struct ewh_err e2 = {0};

    out[0] = '\0';
    node_cap_sender(m->origin, sender, sizeof(sender));
    for (i = 0; i < m->n_refs; i++) {
        if (node_store_created_at(s, m->refs[i], &sent, &e2) != 0) {
            if (e2.code != EWH_E_NOTFOUND) {
                if (err != NULL)
                    *err = e2;
                return -1;
            }
            continue; /* not stored here: its sent time is unknown */
        }
        if (sent <= 0)
            continue;
        off += (size_t)snprintf(out + off, cap - off, "%s%s,%s,%s",
                                known ? " " : "", sender, m->refs[i],
                                ewh_time_format(sent, t, sizeof(t)));
        known++;
        if (off >= cap)
            return ewh_err_set(err, EWH_E_TOOBIG, "references too long");
    }
    if (m->n_refs > 0 && known == 0)
        return ewh_err_set(err, EWH_E_NOTFOUND,
                           "none of the reports that %s %s is stored here, "
                           "so CAP references cannot be written",
                           ewh_type_name(m->type), m->id);
    return 0;
}

int
node_cap_write(const struct node_msg *m, node_store_t *s, char **out,
               size_t *out_len, struct ewh_err *err)
{
    xmlBufferPtr buf = NULL;
    xmlTextWriterPtr w = NULL;
    char sender[32], sent[32], exp[32], tlp[16], refs[EWH_MAX_REFERENCES * 96];
    char addrs[EWH_MAX_RECIPIENTS * 3 + 1], who[EWH_MAX_AUTHOR_BYTES + 16];
    const char *urg, *cer;
    size_t i, off = 0;
    int rc = -1;

    if (s_references(m, s, refs, sizeof(refs), err) != 0)
        return -1;
    node_cap_sender(m->origin, sender, sizeof(sender));
    ewh_time_format(m->created_at, sent, sizeof(sent));
    snprintf(tlp, sizeof(tlp), "TLP:%s", ewh_tlp_name(m->tlp));
    for (i = 0; tlp[i] != '\0'; i++)
        if (tlp[i] >= 'a' && tlp[i] <= 'z')
            tlp[i] = (char)(tlp[i] - 'a' + 'A');
    addrs[0] = '\0';
    for (i = 0; i < m->n_recipients; i++)
        off += (size_t)snprintf(addrs + off, sizeof(addrs) - off, "%s%s",
                                i ? " " : "", m->recipients[i]);
    if (m->author[0])
        snprintf(who, sizeof(who), "%s (%s)", m->author, m->origin);
    else
        snprintf(who, sizeof(who), "%s", m->origin);
    urg = node_cap_urgency(m->urgency);
    cer = node_cap_certainty(m->certainty);

    if ((buf = xmlBufferCreate()) == NULL ||
        (w = xmlNewTextWriterMemory(buf, 0)) == NULL) {
        ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        goto out;
    }
    xmlTextWriterSetIndent(w, 1);
    xmlTextWriterSetIndentString(w, S_X("  "));
    if (xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL) < 0 ||
        xmlTextWriterStartElement(w, S_X("alert")) < 0 ||
        xmlTextWriterWriteAttribute(w, S_X("xmlns"), S_X(S_CAP_NS)) < 0 ||
        s_elem(w, "identifier", m->id) != 0 ||
        s_elem(w, "sender", sender) != 0 || s_elem(w, "sent", sent) != 0 ||
        s_elem(w, "status", "Actual") != 0 ||
        s_elem(w, "msgType", s_msgtype(m->type)) != 0)
        goto werr;
    /* Addressed to everyone: Restricted, with the TLP label as the rule
     * for onward sharing.  To some countries: Private, to those. */
    if (m->to_all || m->n_recipients == 0) {
        if (s_elem(w, "scope", "Restricted") != 0 ||
            s_elem(w, "restriction", tlp) != 0)
            goto werr;
    } else if (s_elem(w, "scope", "Private") != 0 ||
               s_elem(w, "addresses", addrs) != 0)
        goto werr;
    if (refs[0] != '\0' && s_elem(w, "references", refs) != 0)
        goto werr;
    if (xmlTextWriterStartElement(w, S_X("info")) < 0 ||
        s_elem(w, "category", "Security") != 0 ||
        s_elem(w, "event", m->category) != 0 ||
        s_elem(w, "urgency", urg != NULL ? urg : "Unknown") != 0 ||
        s_elem(w, "severity", s_severity(m->level)) != 0 ||
        s_elem(w, "certainty", cer != NULL ? cer : "Unknown") != 0 ||
        s_param(w, "eventCode", "ewhCategory", m->category) != 0)
        goto werr;
    if (m->expires_at > 0 &&
        s_elem(w, "expires",
               ewh_time_format(m->expires_at, exp, sizeof(exp))) != 0)
        goto werr;
    if (s_elem(w, "senderName", who) != 0 ||
        s_elem(w, "headline", m->title) != 0 ||
        (m->body != NULL && m->body[0] != '\0' &&
         s_elem(w, "description", m->body) != 0) ||
        s_param(w, "parameter", "concernLevel", ewh_level_name(m->level)) !=
            0 ||
        s_param(w, "parameter", "TLP", tlp) != 0 ||
        xmlTextWriterEndElement(w) < 0 || /* info */
        xmlTextWriterEndElement(w) < 0 || /* alert */
        xmlTextWriterEndDocument(w) < 0)
        goto werr;
    xmlFreeTextWriter(w);
    w = NULL;
    *out_len = (size_t)xmlBufferLength(buf);
    if ((*out = malloc(*out_len + 1)) == NULL) {
        ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        goto out;
    }
    memcpy(*out, xmlBufferContent(buf), *out_len);
    (*out)[*out_len] = '\0';
    rc = 0;
    goto out;
werr:
    ewh_err_set(err, EWH_E_INVALID, "cannot write CAP XML");
out:
    if (w != NULL)
        xmlFreeTextWriter(w);
    if (buf != NULL)
        xmlBufferFree(buf);
    return rc;
}

int
node_cap_write_ack(const struct node_msg *m, const char *me, char **out,
                   size_t *out_len, struct ewh_err *err)
{
    xmlBufferPtr buf = NULL;
    xmlTextWriterPtr w = NULL;
    char ident[EWH_ID_HEX + 16], sender[32], orig_sender[32], sent[32],
        orig_sent[32], refs[128], note[EWH_MAX_WHO_BYTES + 64];
    int rc = -1;

    if (m->acked_at <= 0)
        return ewh_err_set(err, EWH_E_NOTFOUND, "%s is not acknowledged",
                           m->id);
    snprintf(ident, sizeof(ident), "%s-ack-%s", m->id, me);
    node_cap_sender(me, sender, sizeof(sender));
    node_cap_sender(m->origin, orig_sender, sizeof(orig_sender));
    ewh_time_format(m->acked_at, sent, sizeof(sent));
    ewh_time_format(m->created_at, orig_sent, sizeof(orig_sent));
    snprintf(refs, sizeof(refs), "%s,%s,%s", orig_sender, m->id, orig_sent);
    snprintf(note, sizeof(note), "Acknowledged by %s",
             m->acked_by[0] ? m->acked_by : "(unnamed)");
    if ((buf = xmlBufferCreate()) == NULL ||
        (w = xmlNewTextWriterMemory(buf, 0)) == NULL) {
        ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        goto out;
    }
    xmlTextWriterSetIndent(w, 1);
    xmlTextWriterSetIndentString(w, S_X("  "));
    if (xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL) < 0 ||
        xmlTextWriterStartElement(w, S_X("alert")) < 0 ||
        xmlTextWriterWriteAttribute(w, S_X("xmlns"), S_X(S_CAP_NS)) < 0 ||
        s_elem(w, "identifier", ident) != 0 ||
        s_elem(w, "sender", sender) != 0 || s_elem(w, "sent", sent) != 0 ||
        s_elem(w, "status", "Actual") != 0 ||
        s_elem(w, "msgType", "Ack") != 0 ||
        s_elem(w, "scope", "Private") != 0 ||
        s_elem(w, "addresses", m->origin) != 0 ||
        s_elem(w, "note", note) != 0 || s_elem(w, "references", refs) != 0 ||
        xmlTextWriterEndElement(w) < 0 || xmlTextWriterEndDocument(w) < 0) {
        ewh_err_set(err, EWH_E_INVALID, "cannot write CAP XML");
        goto out;
    }
    xmlFreeTextWriter(w);
    w = NULL;
    *out_len = (size_t)xmlBufferLength(buf);
    if ((*out = malloc(*out_len + 1)) == NULL) {
        ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        goto out;
    }
    memcpy(*out, xmlBufferContent(buf), *out_len);
    (*out)[*out_len] = '\0';
    rc = 0;
out:
    if (w != NULL)
        xmlFreeTextWriter(w);
    if (buf != NULL)
        xmlBufferFree(buf);
    return rc;
}
