/* action.c — submit and acknowledge: the library behind `ewnode submit`,
 * `ewnode ack` and the desk (action.h). */
#include "action.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "cap.h"
#include "catalogue.h"
#include "foreign.h"
#include "trust.h"
#include "ewh/envelope.h"
#include "ewh/fed.h"
#include "ewh/receipt.h"
#include "ewh/roster.h"

/* Add one line to the notes (silently cut when they are full). */
static void s_note(struct node_action_notes *n, const char *fmt, ...)
    EWH_PRINTF(2, 3);

static void
s_note(struct node_action_notes *n, const char *fmt, ...)
{
    va_list ap;
    int w;

    if (n == NULL || n->len + 2 >= sizeof(n->text))
        return;
    va_start(ap, fmt);
    w = vsnprintf(n->text + n->len, sizeof(n->text) - n->len - 1, fmt, ap);
    va_end(ap);
    if (w < 0)
        return;
    n->len += (size_t)w;
    if (n->len > sizeof(n->text) - 2)
        n->len = sizeof(n->text) - 2;
    n->text[n->len++] = '\n';
    n->text[n->len] = '\0';
}

static int
s_field(const char **field, const char *name)
{
    if (field != NULL)
        *field = name;
    return 0;
}

/* Add every unrevoked country of ro but me to out (none twice). */
static int
s_add_roster(const ewh_roster_t *ro, const char *me,
             const struct ewh_pubid **out, size_t *n, struct ewh_err *err)
{
    const struct ewh_pubid *id;
    bool revoked, dup;
    size_t i, j;

    for (i = 0; i < ewh_roster_count(ro); i++) {
        id = ewh_roster_at(ro, i, &revoked);
        if (revoked || strcmp(id->country, me) == 0)
            continue;
        for (j = 0, dup = false; j < *n && !dup; j++)
            dup = strcmp(out[j]->country, id->country) == 0;
        if (dup)
            continue;
        if (*n == EWH_MAX_RECIPIENTS)
            return ewh_err_set(err, EWH_E_TOOBIG,
                               "more than EWH_MAX_RECIPIENTS %u addressees",
                               EWH_MAX_RECIPIENTS);
        out[(*n)++] = id;
    }
    return 0;
}

/* "region:NAME" in --to: every unrevoked country of that region's roster
 * (ours: of our roster), expanded here so that the signed header lists
 * countries (docs/federation-node.md). */
static int
s_add_region(const ewh_roster_t *ro, const node_foreign_t *fo, const char *me,
             const char *name, const struct ewh_pubid **out, size_t *n,
             struct ewh_err *err)
{
    const ewh_roster_t *r = NULL;
    size_t before = *n;

    if (strcmp(name, ewh_roster_region(ro)) == 0)
        r = ro;
    else if ((r = node_foreign_roster(fo, name)) == NULL)
        return ewh_err_set(err, EWH_E_UNKNOWN,
                           "unknown region '%.32s' in --to: this node holds "
                           "no roster of it (see `ewnode peers`)",
                           name);
    if (s_add_roster(r, me, out, n, err) != 0)
        return -1;
    if (*n == before)
        return ewh_err_set(err, EWH_E_NOTFOUND,
                           "region %s has no country to address", name);
    return 0;
}

/* Resolve --to into roster identities.  "all": every unrevoked country
 * of our roster but this one; "region:NAME" a whole region; a code a
 * country of our roster or of a foreign one (fo, may be NULL). */
static int
s_recipients(const ewh_roster_t *ro, const node_foreign_t *fo, const char *me,
             const char *to, const struct ewh_pubid **out, size_t *n,
             bool *to_all, struct ewh_err *err)
{
    char buf[EWH_MAX_RECIPIENTS * 4 + 8 + 4 * (EWH_MAX_REGION_BYTES + 8)];
    char *tok, *save = NULL;
    const struct ewh_pubid *id;
    bool revoked;
    size_t i, j;

    *n = 0;
    *to_all = strcmp(to, "all") == 0;
    if (*to_all) {
        for (i = 0; i < ewh_roster_count(ro); i++) {
            id = ewh_roster_at(ro, i, &revoked);
            if (revoked || strcmp(id->country, me) == 0)
                continue;
            if (*n == EWH_MAX_RECIPIENTS)
                return ewh_err_set(err, EWH_E_TOOBIG,
                                   "more than EWH_MAX_RECIPIENTS %u "
                                   "countries",
                                   EWH_MAX_RECIPIENTS);
            out[(*n)++] = id;
        }
        if (*n == 0)
            return ewh_err_set(err, EWH_E_NOTFOUND,
                               "the roster holds no other country to "
                               "address");
        return 0;
    }
    if (strlen(to) >= sizeof(buf))
        return ewh_err_set(err, EWH_E_TOOBIG, "--to lists too many countries");
    snprintf(buf, sizeof(buf), "%s", to);
    for (tok = strtok_r(buf, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        /* "HR, bg": spaces around a code and its case do not matter */
        char *end;
        while (*tok == ' ' || *tok == '\t')
            tok++;
        end = tok + strlen(tok);
        while (end > tok && (end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        if (*tok == '\0')
            return ewh_err_set(err, EWH_E_INVALID,
                               "an empty addressee in --to '%.64s'", to);
        if (strncmp(tok, "region:", 7) == 0) {
            if (s_add_region(ro, fo, me, tok + 7, out, n, err) != 0)
                return -1;
            continue;
        }
        for (end = tok; *end != '\0'; end++)
            if (*end >= 'a' && *end <= 'z')
                *end = (char)(*end - 'a' + 'A');
        if (!ewh_country_is_valid(tok))
            return ewh_err_set(err, EWH_E_INVALID,
                               "unknown addressee '%.8s': not a country code "
                               "(two letters, ISO 3166-1 alpha-2, e.g. HR; "
                               "see `ewnode peers`)",
                               tok);
        if (strcmp(tok, me) == 0)
            return ewh_err_set(err, EWH_E_INVALID, "addressee %s is this node",
                               tok);
        if ((id = ewh_roster_find(ro, tok, &revoked)) == NULL &&
            (id = node_foreign_find(fo, tok, NULL, &revoked)) == NULL)
            return ewh_err_set(err, EWH_E_UNKNOWN,
                               "unknown addressee %s: not in the roster "
                               "nor in a foreign one (see `ewnode peers`)",
                               tok);
        if (revoked)
            return ewh_err_set(err, EWH_E_REVOKED, "addressee %s is revoked",
                               tok);
        for (j = 0; j < *n; j++)
            if (strcmp(out[j]->country, tok) == 0)
                return ewh_err_set(err, EWH_E_INVALID,
                                   "addressee %s given twice", tok);
        if (*n == EWH_MAX_RECIPIENTS)
            return ewh_err_set(err, EWH_E_TOOBIG,
                               "more than EWH_MAX_RECIPIENTS %u addressees",
                               EWH_MAX_RECIPIENTS);
        out[(*n)++] = id;
    }
    if (*n == 0)
        return ewh_err_set(err, EWH_E_INVALID, "no addressee in --to");
    return 0;
}

/*
 * The chain of an update or cancellation (docs/usage.md, "Updates and
 * cancellations"):
 *
 * - a chain is a first report and every update or cancel of it; each new
 *   one references the report it names first, then the rest of the chain,
 *   newest first, the first report last;
 * - a cancellation ends the whole chain, whichever member it names: it
 *   references every member, so each shows as cancelled at every node;
 * - nothing follows a cancellation: a cancelled chain cannot be updated
 *   or cancelled again;
 * - an update names the latest report of its chain;
 * - both go to every addressee of every report in the chain unless --to
 *   narrows them, which is allowed with a warning naming who keeps a live
 *   report.
 */
struct s_chain {
    char ids[EWH_MAX_REFERENCES + 1][EWH_ID_HEX]; /* oldest first */
    size_t n;
    char cc[EWH_MAX_ROSTER_ENTRIES][EWH_CC_BYTES]; /* every addressee */
    size_t n_cc;
    bool all_to_all;
};

static void
s_chain_add_cc(struct s_chain *c, const char *cc)
{
    size_t i;

    for (i = 0; i < c->n_cc; i++)
        if (strcmp(c->cc[i], cc) == 0)
            return;
    if (c->n_cc < EWH_MAX_ROSTER_ENTRIES)
        memcpy(c->cc[c->n_cc++], cc, EWH_CC_BYTES);
}

/* Load the chain of orig and apply its rules for a new update
 * (is_cancel false) or cancellation. */
static int
s_chain_check(node_store_t *st, const struct node_msg *orig, bool is_cancel,
              struct s_chain *c, struct ewh_err *err)
{
    struct node_msg m;
    char t[32];
    size_t i;

    memset(c, 0, sizeof(*c));
    c->all_to_all = true;
    if (node_store_chain(st, orig->id, c->ids, EWH_MAX_REFERENCES + 1, &c->n,
                         err) != 0)
        return -1;
    if (c->n > EWH_MAX_REFERENCES)
        return ewh_err_set(err, EWH_E_TOOBIG,
                           "the chain of %s holds %zu reports, the most one "
                           "report can reference is %u (EWH_MAX_REFERENCES): "
                           "send a new alert",
                           orig->id, c->n, EWH_MAX_REFERENCES);
    for (i = 0; i < c->n; i++) {
        size_t j;
        memset(&m, 0, sizeof(m));
        if (node_store_msg_get(st, c->ids[i], &m, err) != 0) {
            node_msg_clear(&m);
            return -1;
        }
        if (m.type == EWH_TYPE_CANCEL) {
            ewh_err_set(err, EWH_E_INVALID,
                        "%s was cancelled by %s at %s: a cancelled report "
                        "cannot be updated or cancelled again (send a new "
                        "alert)",
                        orig->id, m.id,
                        ewh_time_format(m.created_at, t, sizeof(t)));
            node_msg_clear(&m);
            return -1;
        }
        for (j = 0; j < m.n_recipients; j++)
            s_chain_add_cc(c, m.recipients[j]);
        c->all_to_all = c->all_to_all && m.to_all;
        node_msg_clear(&m);
    }
    if (!is_cancel && c->n > 0 && strcmp(c->ids[c->n - 1], orig->id) != 0)
        return ewh_err_set(err, EWH_E_INVALID,
                           "%s was already updated by %s: update the latest "
                           "report of the chain (--updates %s)",
                           orig->id, c->ids[c->n - 1], c->ids[c->n - 1]);
    return 0;
}

/* The new report's references: the named report, then the rest of the
 * chain newest first. */
static int
s_chain_refs(const struct s_chain *c, const struct node_msg *orig,
             struct ewh_report *r, struct ewh_err *err)
{
    size_t i;

    if (ewh_id_parse(orig->id, r->refs[0], err) != 0)
        return -1;
    r->n_refs = 1;
    for (i = c->n; i-- > 0;) {
        if (strcmp(c->ids[i], orig->id) == 0)
            continue;
        if (r->n_refs == EWH_MAX_REFERENCES)
            return ewh_err_set(err, EWH_E_TOOBIG,
                               "more than EWH_MAX_REFERENCES %u references",
                               EWH_MAX_REFERENCES);
        if (ewh_id_parse(c->ids[i], r->refs[r->n_refs], err) != 0)
            return -1;
        r->n_refs++;
    }
    return 0;
}

/* --to left out of an update or cancel: every addressee of the chain that
 * the roster still lists unrevoked ("all" when every report went to
 * all).  out holds "CC,CC,...". */
static void
s_chain_to(const struct s_chain *c, const ewh_roster_t *ro,
           const node_foreign_t *fo, const char *me, char *out, size_t cap,
           struct node_action_notes *notes)
{
    size_t i, off = 0;
    bool revoked;

    out[0] = '\0';
    if (c->all_to_all) {
        snprintf(out, cap, "all");
        return;
    }
    for (i = 0; i < c->n_cc; i++) {
        if (strcmp(c->cc[i], me) == 0)
            continue;
        if ((ewh_roster_find(ro, c->cc[i], &revoked) == NULL &&
             node_foreign_find(fo, c->cc[i], NULL, &revoked) == NULL) ||
            revoked) {
            s_note(notes,
                   "note: %s had the earlier report but is no longer an "
                   "unrevoked country of the roster; it is left out",
                   c->cc[i]);
            continue;
        }
        off += (size_t)snprintf(out + off, cap - off, "%s%s", off ? "," : "",
                                c->cc[i]);
    }
}

/* --to given for an update or cancel: warn about every addressee of the
 * chain it leaves out, whose copy stays live. */
static void
s_chain_warn(const struct s_chain *c, bool is_cancel, const char *me,
             const struct ewh_pubid *const *to, size_t n,
             struct node_action_notes *notes)
{
    char left[EWH_MAX_ROSTER_ENTRIES * 3 + 1];
    size_t i, j, off = 0;

    left[0] = '\0';
    for (i = 0; i < c->n_cc; i++) {
        bool in = strcmp(c->cc[i], me) == 0;
        for (j = 0; j < n && !in; j++)
            in = strcmp(to[j]->country, c->cc[i]) == 0;
        if (!in)
            off += (size_t)snprintf(left + off, sizeof(left) - off, "%s%s",
                                    off ? ", " : "", c->cc[i]);
    }
    if (off > 0)
        s_note(notes,
               "warning: --to leaves out %s, who had the earlier report%s: "
               "there it stays %s.  Leave out --to to reach every addressee "
               "of the chain.",
               left, c->n > 1 ? "s" : "",
               is_cancel ? "live (not cancelled)" : "as it was (not updated)");
}

/* Characters (code points) of a UTF-8 string, for messages. */
static size_t
s_utf8_chars(const char *v)
{
    size_t n = 0;

    for (; *v != '\0'; v++)
        if (((unsigned char)*v & 0xC0) != 0x80)
            n++;
    return n;
}

/* Fill the report from the arguments, taking what an update or cancel
 * leaves out from the report it replaces (orig, may be NULL). */
static int
s_build(const struct node_submit_req *a, const struct node_dir *d,
        const struct node_msg *orig, struct ewh_report *r, const char **to,
        const char **field, struct node_action_notes *notes,
        struct ewh_err *err)
{
    const char *v;
    int64_t secs = 0;

    ewh_id_new(r->id);
    r->type = a->updates   ? EWH_TYPE_UPDATE
              : a->cancels ? EWH_TYPE_CANCEL
                           : EWH_TYPE_ALERT;
    if (a->type != NULL) {
        enum ewh_type t = ewh_type_parse(a->type);
        if (t != EWH_TYPE_ALERT && t != EWH_TYPE_LESSONS)
            return s_field(field, "type"),
                   ewh_err_set(err, EWH_E_INVALID,
                               "bad type '%.16s': use alert or lessons "
                               "(updates and cancellations: --updates, "
                               "--cancels)",
                               a->type);
        if (t == EWH_TYPE_LESSONS && orig != NULL)
            return s_field(field, "type"),
                   ewh_err_set(err, EWH_E_INVALID,
                               "--type lessons starts a report of its own; "
                               "an update or cancellation keeps its type");
        if (orig == NULL)
            r->type = t;
    }
    if (a->distribution != NULL &&
        ewh_distribution_parse(a->distribution, &r->distribution) != 0)
        return s_field(field, "distribution"),
               ewh_err_set(err, EWH_E_INVALID,
                           "bad distribution '%.16s': use region, connected "
                           "or all",
                           a->distribution);
    memcpy(r->origin, d->cfg.country, EWH_CC_BYTES);
    r->created_at = ewh_now();

    if (a->level != NULL) {
        if ((r->level = ewh_level_parse(a->level)) == EWH_LEVEL_NONE)
            return s_field(field, "level"),
                   ewh_err_set(err, EWH_E_INVALID,
                               "bad level '%.16s': use high, medium or low",
                               a->level);
    } else if (orig != NULL)
        r->level = orig->level;
    else
        return s_field(field, "level"),
               ewh_err_set(err, EWH_E_INVALID,
                           "missing --level (high, medium or low)");
    if (r->type == EWH_TYPE_LESSONS && r->level == EWH_LEVEL_HIGH)
        return s_field(field, "level"),
               ewh_err_set(err, EWH_E_INVALID,
                           "lessons learned are of low or medium concern, "
                           "never high");

    if (a->tlp != NULL) {
        if ((r->tlp = ewh_tlp_parse(a->tlp)) == EWH_TLP_NONE)
            return s_field(field, "tlp"),
                   ewh_err_set(err, EWH_E_INVALID,
                               "bad TLP '%.16s': use red, amber, green or "
                               "clear",
                               a->tlp);
        /* TLP 2.0 renamed WHITE to CLEAR: accepted, and said */
        if (strcasecmp(a->tlp, "white") == 0)
            s_note(notes, "note: TLP:WHITE is TLP:CLEAR since TLP 2.0; "
                          "the report is marked TLP:CLEAR");
    } else
        r->tlp = orig != NULL ? orig->tlp : EWH_TLP_AMBER;

    v = a->category != NULL ? a->category : orig ? orig->category : NULL;
    if (v == NULL)
        return s_field(field, "category"),
               ewh_err_set(err, EWH_E_INVALID,
                           "missing --category (see ewnode --help)");
    if (strlen(v) > EWH_MAX_CATEGORY_BYTES)
        return s_field(field, "category"),
               ewh_err_set(err, EWH_E_TOOBIG, "category longer than %u bytes",
                           EWH_MAX_CATEGORY_BYTES);
    snprintf(r->category, sizeof(r->category), "%s", v);
    if (a->reason != NULL) {
        if (strlen(a->reason) > EWH_MAX_LEVEL_REASON_BYTES)
            return s_field(field, "reason"),
                   ewh_err_set(err, EWH_E_TOOBIG,
                               "--reason longer than "
                               "EWH_MAX_LEVEL_REASON_BYTES %u bytes",
                               EWH_MAX_LEVEL_REASON_BYTES);
        snprintf(r->level_reason, sizeof(r->level_reason), "%s", a->reason);
    }

    if (a->title != NULL)
        v = a->title;
    else if (orig != NULL && r->type == EWH_TYPE_CANCEL)
        v = "Cancelled"; /* the reference says which one */
    else
        return s_field(field, "title"),
               ewh_err_set(err, EWH_E_INVALID, "missing --title");
    if (strspn(v, " \t\r\n") == strlen(v))
        return s_field(field, "title"),
               ewh_err_set(err, EWH_E_INVALID,
                           v[0] == '\0' ? "the title is empty"
                                        : "the title is only spaces");
    if (strlen(v) > EWH_MAX_TITLE_BYTES)
        return s_field(field, "title"),
               ewh_err_set(err, EWH_E_TOOBIG,
                           "the title is %zu bytes (%zu characters); the "
                           "limit is %u bytes of UTF-8 (%u Latin letters, "
                           "about %u Cyrillic or Greek letters)",
                           strlen(v), s_utf8_chars(v), EWH_MAX_TITLE_BYTES,
                           EWH_MAX_TITLE_BYTES, EWH_MAX_TITLE_BYTES / 2);
    snprintf(r->title, sizeof(r->title), "%s", v);

    v = a->author != NULL ? a->author : d->cfg.author;
    if (strlen(v) > EWH_MAX_AUTHOR_BYTES)
        return s_field(field, "author"),
               ewh_err_set(err, EWH_E_TOOBIG, "author longer than %u bytes",
                           EWH_MAX_AUTHOR_BYTES);
    snprintf(r->author, sizeof(r->author), "%s", v);

    if (a->urgency != NULL) {
        if ((v = node_cap_urgency(a->urgency)) == NULL)
            return s_field(field, "urgency"),
                   ewh_err_set(err, EWH_E_INVALID,
                               "bad urgency '%.16s': Immediate, Expected, "
                               "Future, Past or Unknown",
                               a->urgency);
    } else
        v = node_cap_default_urgency(r->level);
    snprintf(r->urgency, sizeof(r->urgency), "%s", v);
    if (a->certainty != NULL) {
        if ((v = node_cap_certainty(a->certainty)) == NULL)
            return s_field(field, "certainty"),
                   ewh_err_set(err, EWH_E_INVALID,
                               "bad certainty '%.16s': Observed, Likely, "
                               "Possible, Unlikely or Unknown",
                               a->certainty);
    } else
        v = NODE_CAP_DEFAULT_CERTAINTY;
    snprintf(r->certainty, sizeof(r->certainty), "%s", v);

    if (a->expires != NULL) {
        if (ewh_duration_parse(a->expires, EWH_MAX_EXPIRY_S, &secs, err) != 0)
            return s_field(field, "expires"), -1;
        r->expires_at = r->created_at + secs;
    } else if (r->type == EWH_TYPE_LESSONS) {
        /* lessons stay useful for long: EWH_LESSONS_EXPIRY_DAYS */
        EWH_ASSERT((int64_t)EWH_LESSONS_EXPIRY_DAYS * 86400 <=
                   EWH_MAX_EXPIRY_S);
        r->expires_at =
            r->created_at + (int64_t)EWH_LESSONS_EXPIRY_DAYS * 86400;
    }

    /* The references are the chain's (s_chain_refs()). */
    *to = a->to;
    return 0;
}

static int
s_body(const struct node_submit_req *a, const struct node_msg *orig,
       struct ewh_report *r, struct ewh_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    int rc;

    if (a->body != NULL) {
        len = a->body_len;
        if (len > EWH_MAX_BODY_BYTES)
            return ewh_err_set(err, EWH_E_TOOBIG,
                               "the body is %zu bytes; the limit is %u bytes "
                               "(64 KiB) of UTF-8 text",
                               len, EWH_MAX_BODY_BYTES);
        if ((buf = malloc(len + 1)) == NULL)
            return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        memcpy(buf, a->body, len);
        buf[len] = '\0';
    } else if (orig != NULL && r->type == EWH_TYPE_CANCEL) {
        static const char s_cancel[] = "This report cancels ";
        len = sizeof(s_cancel) - 1 + 32 + 1;
        if ((buf = malloc(len + 1)) == NULL)
            return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        snprintf(buf, len + 1, "%s%.32s.", s_cancel, orig->id);
    }
    if (buf == NULL || strspn(buf, " \t\r\n") == len) {
        free(buf);
        return ewh_err_set(err, EWH_E_INVALID,
                           "the body is empty (give --body TEXT or "
                           "--body-file FILE|-)");
    }
    if (memchr(buf, '\0', len) != NULL || !ewh_text_is_valid(buf, len, true)) {
        sodium_memzero(buf, len);
        free(buf);
        return ewh_err_set(err, EWH_E_INVALID,
                           "the body is not valid UTF-8 text");
    }
    rc = ewh_report_set_body(r, buf, len, err);
    sodium_memzero(buf, len);
    free(buf);
    return rc;
}

/* Keep the addressees this node may seal for (docs/trust.md): an
 * unverified peer is left out of --to all (and the notes say so), and
 * refused when named; `unverified = warn` seals for it with a warning.  A
 * peer in a split view is refused under any policy. */
static int
s_trusted_only(struct node_dir *d, const struct ewh_pubid **ids, size_t *n,
               bool to_all, struct node_action_notes *notes,
               struct ewh_err *err)
{
    struct node_trust t;
    size_t i, k = 0;
    bool ok, warn;

    for (i = 0; i < *n; i++) {
        char fp[EWH_FINGERPRINT_CHARS];
        if (node_trust_sealable(d->store, ids[i]->country,
                                d->cfg.unverified_warn, &ok, &warn, &t,
                                err) != 0)
            return -1;
        ewh_pubid_fingerprint(ids[i], fp);
        if (ok && t.fp[0] != '\0' && strcmp(t.fp, fp) != 0)
            ok = warn = false; /* the roster moved on since trust was set */
        if (ok) {
            if (warn)
                s_note(notes,
                       "warning: %s is unverified (%s), sealed for it "
                       "anyway (unverified = warn)",
                       ids[i]->country, t.why);
            ids[k++] = ids[i];
            continue;
        }
        if (!to_all)
            return ewh_err_set(err,
                               strcmp(t.why, "split-view") == 0
                                   ? EWH_E_SPLITVIEW
                                   : EWH_E_UNVERIFIED,
                               "addressee %s is unverified (%s): nothing "
                               "sealed; compare fingerprint %s by telephone, "
                               "then `ewnode peers verify %s %s`",
                               ids[i]->country, t.why, fp, ids[i]->country, fp);
        s_note(notes,
               "left out %s: unverified (%s); compare fingerprint %s by "
               "telephone, then `ewnode peers verify %s %s`",
               ids[i]->country, t.why, fp, ids[i]->country, fp);
    }
    *n = k;
    if (k == 0)
        return ewh_err_set(err, EWH_E_UNVERIFIED,
                           "no verified country to address (see `ewnode "
                           "peers`)");
    return 0;
}

/* May the report reach each foreign addressee, as its distribution says
 * (docs/federation.md)?  Said here rather than found refused later. */
static int
s_check_reach(const ewh_roster_t *ro, const node_foreign_t *fo,
              const struct ewh_report *r, const struct ewh_pubid **ids,
              size_t n, struct ewh_err *err)
{
    const char *own = ewh_roster_region(ro), *path[1] = {own}, *region;
    struct ewh_err e2 = {0};
    size_t i;

    for (i = 0; i < n; i++) {
        if (ewh_roster_find(ro, ids[i]->country, NULL) != NULL ||
            node_foreign_find(fo, ids[i]->country, &region, NULL) == NULL)
            continue;
        if (ewh_fed_may_enter(r->distribution, own, path, 1, region,
                              ewh_roster_has_peer(ro, region), &e2) == 0)
            continue;
        if (r->distribution == EWH_DIST_REGION)
            return ewh_err_set(err, EWH_E_DISTRIBUTION,
                               "addressee %s is in region %s, and "
                               "distribution region never leaves %s: give "
                               "--distribution connected or all",
                               ids[i]->country, region, own);
        return ewh_err_set(err, EWH_E_DISTRIBUTION,
                           "addressee %s is in region %s, not directly "
                           "peered with %s: distribution connected does not "
                           "reach it (--distribution all does)",
                           ids[i]->country, region, own);
    }
    return 0;
}

/* An update or cancel travels as far as the report it follows, unless
 * --distribution says otherwise. */
static int
s_inherit_distribution(struct node_dir *d, const struct node_msg *orig,
                       struct ewh_report *r, struct ewh_err *err)
{
    struct ewh_header ph;
    uint8_t *env = NULL;
    size_t len = 0;
    int rc;

    if (node_store_envelope_get(d->store, orig->id, &env, &len, err) != 0)
        return -1;
    rc = ewh_envelope_peek(env, len, &ph, err);
    free(env);
    if (rc == 0)
        r->distribution = ph.distribution;
    return rc;
}

int
node_action_submit(struct node_dir *d, const struct node_submit_req *req,
                   char id_out[EWH_ID_HEX], const char **field,
                   struct ewh_err *err)
{
    return node_action_submit_noted(d, req, id_out, field, NULL, err);
}

int
node_action_submit_noted(struct node_dir *d, const struct node_submit_req *req,
                         char id_out[EWH_ID_HEX], const char **field,
                         struct node_action_notes *notes, struct ewh_err *err)
{
    struct ewh_report r;
    struct ewh_header hdr;
    struct node_msg m, orig;
    const struct ewh_pubid *to_ids[EWH_MAX_RECIPIENTS];
    ewh_roster_t *ro = NULL;
    node_foreign_t *fo = NULL;
    const char *to = NULL, *ref = NULL;
    bool in_read = false;
    struct s_chain chain;
    char chain_to[EWH_MAX_ROSTER_ENTRIES * 3 + 8];
    uint8_t *env = NULL;
    size_t env_len = 0, n = 0, i;
    bool to_all = false, have_orig = false;
    int rc = -1;

    s_field(field, "");
    memset(&r, 0, sizeof(r));
    memset(&m, 0, sizeof(m));
    memset(&orig, 0, sizeof(orig));
    EWH_ASSERT(d->secret != NULL);
    if (req->updates != NULL && req->cancels != NULL) {
        s_field(field, "updates");
        return ewh_err_set(err, EWH_E_INVALID,
                           "--updates and --cancels exclude each other");
    }
    ref = req->updates != NULL ? req->updates : req->cancels;
    if (ref != NULL) {
        char hex[EWH_ID_HEX];
        s_field(field, req->updates != NULL ? "updates" : "cancels");
        if (node_store_id_resolve(d->store, ref, hex, err) != 0)
            goto out;
        if (node_store_msg_get(d->store, hex, &orig, err) != 0 ||
            !orig.outgoing) {
            ewh_err_set(err, EWH_E_NOTFOUND,
                        "%s is not a report sent from this node (only the "
                        "origin updates or cancels a report)",
                        hex);
            goto out;
        }
        have_orig = true;
        if (s_chain_check(d->store, &orig, req->cancels != NULL, &chain, err) !=
            0)
            goto out;
        s_field(field, "");
    }
    if (s_build(req, d, have_orig ? &orig : NULL, &r, &to, field, notes, err) !=
        0)
        goto out;
    if (have_orig && req->distribution == NULL &&
        s_inherit_distribution(d, &orig, &r, err) != 0)
        goto out;
    if (s_body(req, have_orig ? &orig : NULL, &r, err) != 0) {
        s_field(field, "body");
        goto out;
    }
    if (have_orig && s_chain_refs(&chain, &orig, &r, err) != 0) {
        s_field(field, req->updates != NULL ? "updates" : "cancels");
        goto out;
    }

    /* The roster, the foreign rosters and the trust they are checked
     * against are read in one snapshot: the agent applies a re-key's
     * roster and trust in one transaction, and a submit reading the old
     * roster, then the new trust, would refuse a verified peer. */
    if (node_store_read_begin(d->store, err) != 0)
        goto out;
    in_read = true;
    if ((ro = node_dir_roster(d, err)) == NULL) {
        if (err != NULL && err->code == EWH_E_NOTFOUND)
            ewh_err_set(err, EWH_E_NOTFOUND,
                        "no roster yet: run `ewnode run` once connected to "
                        "the hub (the roster says who can be addressed)");
        goto out;
    }
    if ((fo = node_foreign_load(d->store, err)) == NULL)
        goto out;
    if (!ewh_roster_has_category(ro, r.category)) {
        s_field(field, "category");
        ewh_err_set(err, EWH_E_INVALID,
                    "unknown category '%.64s' (see `ewnode --help` or "
                    "`ewnode peers`)",
                    r.category);
        goto out;
    }
    /* The catalogue of concern: its guidance, and a warning when the level
     * departs from the category's default without a reason. */
    if (notes != NULL && r.type != EWH_TYPE_CANCEL) {
        char guide[EWH_MAX_GUIDANCE_BYTES + 2 * EWH_MAX_CATEGORY_BYTES + 512];
        char *line = guide, *nl;
        (void)node_catalogue_guide(d, r.category, r.level, r.level_reason,
                                   guide, sizeof(guide));
        while ((nl = strchr(line, '\n')) != NULL) {
            s_note(notes, "%.*s", (int)(nl - line), line);
            line = nl + 1;
        }
    }
    if (to == NULL && have_orig) {
        /* An update or cancel goes to whoever got the chain. */
        s_chain_to(&chain, ro, fo, d->cfg.country, chain_to, sizeof(chain_to),
                   notes);
        to = chain_to;
    }
    if (to == NULL) {
        s_field(field, "to");
        ewh_err_set(err, EWH_E_INVALID, "missing --to (all or CC[,CC...])");
        goto out;
    }
    if (s_recipients(ro, fo, d->cfg.country, to, to_ids, &n, &to_all, err) !=
            0 ||
        s_trusted_only(d, to_ids, &n, to_all, notes, err) != 0) {
        s_field(field, "to");
        goto out;
    }
    if (s_check_reach(ro, fo, &r, to_ids, n, err) != 0) {
        s_field(field, req->distribution != NULL ? "distribution" : "to");
        goto out;
    }
    node_store_read_end(d->store);
    in_read = false;
    node_trust_head(ro, &r.has_head, &r.roster_version, r.roster_hash);
    if (have_orig && req->to != NULL)
        s_chain_warn(&chain, req->cancels != NULL, d->cfg.country, to_ids, n,
                     notes);
    if (ewh_envelope_seal(&r, to_ids, n, d->secret, NULL, &env, &env_len,
                          err) != 0)
        goto out;

    memset(&hdr, 0, sizeof(hdr));
    for (i = 0; i < n; i++)
        memcpy(hdr.recipients[i], to_ids[i]->country, EWH_CC_BYTES);
    hdr.n_recipients = n;
    node_msg_from_report(&m, &r, &hdr, true);
    m.to_all = to_all;
    m.received_at = ewh_now();
    if (m.body == NULL) {
        ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        goto out;
    }
    if (node_store_begin(d->store, err) != 0)
        goto out;
    if (node_store_outbox_add(d->store, &m, env, env_len, err) != 0 ||
        node_store_commit(d->store, err) != 0) {
        node_store_rollback(d->store);
        goto out;
    }
    snprintf(id_out, EWH_ID_HEX, "%s", m.id);
    rc = 0;
out:
    if (in_read)
        node_store_read_end(d->store);
    free(env);
    node_foreign_destroy(&fo);
    ewh_roster_destroy(&ro);
    node_msg_clear(&m);
    node_msg_clear(&orig);
    ewh_report_clear(&r);
    return rc;
}

int
node_action_ack(struct node_dir *d, const char *id, const char *who,
                bool *already, char origin_out[EWH_CC_BYTES],
                struct ewh_err *err)
{
    struct node_msg m;
    struct ewh_receipt rc;
    ewh_roster_t *ro = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    char hex[EWH_ID_HEX];
    int rv = -1;

    EWH_ASSERT(d->secret != NULL);
    *already = false;
    if (strlen(who) > EWH_MAX_WHO_BYTES)
        return ewh_err_set(err, EWH_E_TOOBIG, "who: longer than %u bytes",
                           EWH_MAX_WHO_BYTES);
    memset(&rc, 0, sizeof(rc));
    memset(&m, 0, sizeof(m));
    if (node_store_id_resolve(d->store, id, hex, err) != 0 ||
        ewh_id_parse(hex, rc.ids[0], err) != 0)
        return -1;
    rc.n_ids = 1;
    if (node_store_msg_get(d->store, hex, &m, err) != 0)
        goto out;
    if (m.outgoing) {
        ewh_err_set(err, EWH_E_INVALID,
                    "%s was sent by this node; only recipients acknowledge",
                    hex);
        goto out;
    }
    if (origin_out != NULL)
        memcpy(origin_out, m.origin, EWH_CC_BYTES);
    memcpy(rc.origin, m.origin, EWH_CC_BYTES);
    memcpy(rc.from, d->cfg.country, EWH_CC_BYTES);
    rc.kind = EWH_RECEIPT_ACKNOWLEDGED;
    rc.at = ewh_now();
    snprintf(rc.who, sizeof(rc.who), "%s", who);
    if ((ro = node_dir_roster(d, err)) == NULL)
        goto out;
    node_trust_head(ro, &rc.has_head, &rc.roster_version, rc.roster_hash);
    if (ewh_receipt_sign(&rc, d->secret, &buf, &len, err) != 0)
        goto out;
    if (node_store_begin(d->store, err) != 0)
        goto out;
    if (node_store_inbox_ack(d->store, hex, who, rc.at, already, err) != 0 ||
        (!*already &&
         node_store_receipt_queue(d->store, hex, EWH_RECEIPT_ACKNOWLEDGED, buf,
                                  len, err) != 0) ||
        node_store_commit(d->store, err) != 0) {
        node_store_rollback(d->store);
        goto out;
    }
    rv = 0;
out:
    free(buf);
    ewh_roster_destroy(&ro);
    node_msg_clear(&m);
    return rv;
}
