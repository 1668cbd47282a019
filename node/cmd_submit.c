/* cmd_submit.c — ewnode submit: seal a report into the durable outbox. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cap.h"
#include "cmd.h"
#include "trust.h"
#include "ewh/envelope.h"
#include "ewh/log.h"

struct s_args {
    const char *dir, *level, *to, *category, *title, *body, *body_file;
    const char *tlp, *expires, *author, *urgency, *certainty;
    const char *updates, *cancels;
};

/* Resolve --to into roster identities.  "all": every unrevoked country
 * but this one. */
static int
s_recipients(const ewh_roster_t *ro, const char *me, const char *to,
             const struct ewh_pubid **out, size_t *n, bool *to_all,
             struct ewh_err *err)
{
    char buf[EWH_MAX_RECIPIENTS * 4 + 8], *tok, *save = NULL;
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
        if (!ewh_country_is_valid(tok))
            return ewh_err_set(err, EWH_E_INVALID,
                               "unknown addressee '%.8s': not an ISO 3166-1 "
                               "alpha-2 country code",
                               tok);
        if (strcmp(tok, me) == 0)
            return ewh_err_set(err, EWH_E_INVALID, "addressee %s is this node",
                               tok);
        if ((id = ewh_roster_find(ro, tok, &revoked)) == NULL)
            return ewh_err_set(err, EWH_E_UNKNOWN,
                               "unknown addressee %s: not in the roster "
                               "(see `ewnode peers`)",
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

/* Keep the addressees this node may seal for (docs/trust.md): an
 * unverified peer is left out of --to all (and said so), and refused when
 * named; `unverified = warn` seals for it with a warning.  A peer in a
 * split view is refused under any policy. */
static int
s_trusted_only(struct node_dir *d, const struct ewh_pubid **ids, size_t *n,
               bool to_all, struct ewh_err *err)
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
                fprintf(stderr,
                        "submit: warning: %s is unverified (%s), sealed for "
                        "it anyway (unverified = warn)\n",
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
        fprintf(stderr,
                "submit: left out %s: unverified (%s); compare fingerprint "
                "%s by telephone, then `ewnode peers verify %s %s`\n",
                ids[i]->country, t.why, fp, ids[i]->country, fp);
    }
    *n = k;
    if (k == 0)
        return ewh_err_set(err, EWH_E_UNVERIFIED,
                           "no verified country to address (see `ewnode "
                           "peers`)");
    return 0;
}

static int
s_parse(int argc, char **argv, struct s_args *a)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"level", required_argument, NULL, 'l'},
        {"to", required_argument, NULL, 't'},
        {"category", required_argument, NULL, 'c'},
        {"title", required_argument, NULL, 'T'},
        {"body", required_argument, NULL, 'b'},
        {"body-file", required_argument, NULL, 'B'},
        {"tlp", required_argument, NULL, 'p'},
        {"expires", required_argument, NULL, 'e'},
        {"author", required_argument, NULL, 'a'},
        {"urgency", required_argument, NULL, 'U'},
        {"certainty", required_argument, NULL, 'C'},
        {"updates", required_argument, NULL, 'u'},
        {"cancels", required_argument, NULL, 'x'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c;

    memset(a, 0, sizeof(*a));
    while ((c = getopt_long(argc, argv, "d:l:t:c:T:b:B:p:e:a:U:C:u:x:h", opts,
                            NULL)) != -1) {
        switch (c) {
        case 'd':
            a->dir = optarg;
            break;
        case 'l':
            a->level = optarg;
            break;
        case 't':
            a->to = optarg;
            break;
        case 'c':
            a->category = optarg;
            break;
        case 'T':
            a->title = optarg;
            break;
        case 'b':
            a->body = optarg;
            break;
        case 'B':
            a->body_file = optarg;
            break;
        case 'p':
            a->tlp = optarg;
            break;
        case 'e':
            a->expires = optarg;
            break;
        case 'a':
            a->author = optarg;
            break;
        case 'U':
            a->urgency = optarg;
            break;
        case 'C':
            a->certainty = optarg;
            break;
        case 'u':
            a->updates = optarg;
            break;
        case 'x':
            a->cancels = optarg;
            break;
        default:
            return -1;
        }
    }
    return optind == argc ? 0 : -1;
}

/* Fill the report from the arguments, taking what an update or cancel
 * leaves out from the report it replaces (orig, may be NULL). */
static int
s_build(const struct s_args *a, const struct node_dir *d,
        const struct node_msg *orig, struct ewh_report *r, const char **to,
        struct ewh_err *err)
{
    const char *v;
    int64_t secs = 0;

    ewh_id_new(r->id);
    r->type = a->updates   ? EWH_TYPE_UPDATE
              : a->cancels ? EWH_TYPE_CANCEL
                           : EWH_TYPE_ALERT;
    memcpy(r->origin, d->cfg.country, EWH_CC_BYTES);
    r->created_at = ewh_now();

    if (a->level != NULL) {
        if ((r->level = ewh_level_parse(a->level)) == EWH_LEVEL_NONE)
            return ewh_err_set(err, EWH_E_INVALID,
                               "bad level '%.16s': use high, medium or low",
                               a->level);
    } else if (orig != NULL)
        r->level = orig->level;
    else
        return ewh_err_set(err, EWH_E_INVALID,
                           "missing --level (high, medium or low)");

    if (a->tlp != NULL) {
        if ((r->tlp = ewh_tlp_parse(a->tlp)) == EWH_TLP_NONE)
            return ewh_err_set(err, EWH_E_INVALID,
                               "bad TLP '%.16s': use red, amber, green or "
                               "clear",
                               a->tlp);
    } else
        r->tlp = orig != NULL ? orig->tlp : EWH_TLP_AMBER;

    v = a->category != NULL ? a->category : orig ? orig->category : NULL;
    if (v == NULL)
        return ewh_err_set(err, EWH_E_INVALID,
                           "missing --category (see ewnode --help)");
    if (strlen(v) > EWH_MAX_CATEGORY_BYTES)
        return ewh_err_set(err, EWH_E_TOOBIG, "category longer than %u bytes",
                           EWH_MAX_CATEGORY_BYTES);
    snprintf(r->category, sizeof(r->category), "%s", v);

    if (a->title != NULL)
        v = a->title;
    else if (orig != NULL && r->type == EWH_TYPE_CANCEL)
        v = "Cancelled"; /* the reference says which one */
    else
        return ewh_err_set(err, EWH_E_INVALID, "missing --title");
    if (v[0] == '\0')
        return ewh_err_set(err, EWH_E_INVALID, "the title is empty");
    if (strlen(v) > EWH_MAX_TITLE_BYTES)
        return ewh_err_set(err, EWH_E_TOOBIG,
                           "title of %zu bytes > EWH_MAX_TITLE_BYTES %u",
                           strlen(v), EWH_MAX_TITLE_BYTES);
    snprintf(r->title, sizeof(r->title), "%s", v);

    v = a->author != NULL ? a->author : d->cfg.author;
    if (strlen(v) > EWH_MAX_AUTHOR_BYTES)
        return ewh_err_set(err, EWH_E_TOOBIG, "author longer than %u bytes",
                           EWH_MAX_AUTHOR_BYTES);
    snprintf(r->author, sizeof(r->author), "%s", v);

    if (a->urgency != NULL) {
        if ((v = node_cap_urgency(a->urgency)) == NULL)
            return ewh_err_set(err, EWH_E_INVALID,
                               "bad urgency '%.16s': Immediate, Expected, "
                               "Future, Past or Unknown",
                               a->urgency);
    } else
        v = node_cap_default_urgency(r->level);
    snprintf(r->urgency, sizeof(r->urgency), "%s", v);
    if (a->certainty != NULL) {
        if ((v = node_cap_certainty(a->certainty)) == NULL)
            return ewh_err_set(err, EWH_E_INVALID,
                               "bad certainty '%.16s': Observed, Likely, "
                               "Possible, Unlikely or Unknown",
                               a->certainty);
    } else
        v = NODE_CAP_DEFAULT_CERTAINTY;
    snprintf(r->certainty, sizeof(r->certainty), "%s", v);

    if (a->expires != NULL) {
        if (ewh_duration_parse(a->expires, EWH_MAX_EXPIRY_S, &secs, err) != 0)
            return -1;
        r->expires_at = r->created_at + secs;
    }

    /* References: the replaced report and every report it replaced, so
     * that a recipient can list the whole chain (CAP references). */
    if (orig != NULL) {
        size_t i;
        if (ewh_id_parse(orig->id, r->refs[0], err) != 0)
            return -1;
        r->n_refs = 1;
        for (i = 0; i < orig->n_refs && r->n_refs < EWH_MAX_REFERENCES; i++)
            if (ewh_id_parse(orig->refs[i], r->refs[r->n_refs], err) == 0)
                r->n_refs++;
    }
    *to = a->to;
    return 0;
}

static int
s_body(const struct s_args *a, const struct node_msg *orig,
       struct ewh_report *r, struct ewh_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    int rc;

    if (a->body != NULL && a->body_file != NULL)
        return ewh_err_set(err, EWH_E_INVALID,
                           "give --body or --body-file, not both");
    if (a->body_file != NULL) {
        if (node_cmd_read_file(a->body_file, EWH_MAX_BODY_BYTES, &buf, &len,
                               err) != 0)
            return -1;
    } else if (a->body != NULL) {
        len = strlen(a->body);
        if (len > EWH_MAX_BODY_BYTES)
            return ewh_err_set(err, EWH_E_TOOBIG,
                               "body of %zu bytes > EWH_MAX_BODY_BYTES %u", len,
                               EWH_MAX_BODY_BYTES);
        if ((buf = strdup(a->body)) == NULL)
            return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
    } else if (orig != NULL && r->type == EWH_TYPE_CANCEL) {
        static const char s_cancel[] = "This report cancels ";
        len = sizeof(s_cancel) - 1 + 32 + 1;
        if ((buf = malloc(len + 1)) == NULL)
            return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        snprintf(buf, len + 1, "%s%s.", s_cancel, orig->id);
    }
    if (buf == NULL || strspn(buf, " \t\r\n") == len) {
        free(buf);
        return ewh_err_set(err, EWH_E_INVALID,
                           "the body is empty (give --body TEXT or "
                           "--body-file FILE|-)");
    }
    if (!ewh_text_is_valid(buf, len, true)) {
        free(buf);
        return ewh_err_set(err, EWH_E_INVALID,
                           "the body is not valid UTF-8 text");
    }
    rc = ewh_report_set_body(r, buf, len, err);
    sodium_memzero(buf, len);
    free(buf);
    return rc;
}

int
node_cmd_submit(int argc, char **argv)
{
    struct s_args a;
    struct node_dir d = {0};
    struct ewh_report r;
    struct ewh_header hdr;
    struct node_msg m, orig;
    struct ewh_err err = {0};
    const struct ewh_pubid *to_ids[EWH_MAX_RECIPIENTS];
    ewh_roster_t *ro = NULL;
    const char *to = NULL, *ref = NULL;
    uint8_t *env = NULL;
    size_t env_len = 0, n = 0, i;
    bool to_all = false, have_orig = false;
    int rc = 1;

    memset(&r, 0, sizeof(r));
    memset(&m, 0, sizeof(m));
    memset(&orig, 0, sizeof(orig));
    if (s_parse(argc, argv, &a) != 0)
        return node_cmd_usage("submit", "bad arguments");
    if (a.updates != NULL && a.cancels != NULL)
        return node_cmd_usage("submit", "--updates and --cancels exclude "
                                        "each other");
    if (node_cmd_open_dir(&d, a.dir, true, "submit") != 0)
        return 1;

    ref = a.updates != NULL ? a.updates : a.cancels;
    if (ref != NULL) {
        uint8_t bin[EWH_ID_BYTES];
        char hex[EWH_ID_HEX];
        if (ewh_id_parse(ref, bin, &err) != 0)
            goto fail;
        ewh_hex(bin, sizeof(bin), hex, sizeof(hex));
        if (node_store_msg_get(d.store, hex, &orig, &err) != 0 ||
            !orig.outgoing) {
            ewh_err_set(&err, EWH_E_NOTFOUND,
                        "%s is not a report sent from this node (only the "
                        "origin updates or cancels a report)",
                        hex);
            goto fail;
        }
        have_orig = true;
    }
    if (s_build(&a, &d, have_orig ? &orig : NULL, &r, &to, &err) != 0 ||
        s_body(&a, have_orig ? &orig : NULL, &r, &err) != 0)
        goto fail;

    if ((ro = node_dir_roster(&d, &err)) == NULL) {
        if (err.code == EWH_E_NOTFOUND)
            ewh_err_set(&err, EWH_E_NOTFOUND,
                        "no roster yet: run `ewnode run` once connected to "
                        "the hub (the roster says who can be addressed)");
        goto fail;
    }
    if (!ewh_roster_has_category(ro, r.category)) {
        ewh_err_set(&err, EWH_E_INVALID,
                    "unknown category '%.64s' (see `ewnode --help` or "
                    "`ewnode peers`)",
                    r.category);
        goto fail;
    }
    if (to == NULL && have_orig) {
        /* An update or cancel goes to whoever got the original. */
        static char s_to[EWH_MAX_RECIPIENTS * 3 + 1];
        size_t off = 0;
        for (i = 0; i < orig.n_recipients; i++)
            off += (size_t)snprintf(s_to + off, sizeof(s_to) - off, "%s%s",
                                    i ? "," : "", orig.recipients[i]);
        to = orig.to_all ? "all" : s_to;
    }
    if (to == NULL) {
        ewh_err_set(&err, EWH_E_INVALID, "missing --to (all or CC[,CC...])");
        goto fail;
    }
    if (s_recipients(ro, d.cfg.country, to, to_ids, &n, &to_all, &err) != 0 ||
        s_trusted_only(&d, to_ids, &n, to_all, &err) != 0)
        goto fail;
    node_trust_head(ro, &r.has_head, &r.roster_version, r.roster_hash);
    if (ewh_envelope_seal(&r, to_ids, n, d.secret, NULL, &env, &env_len,
                          &err) != 0)
        goto fail;

    memset(&hdr, 0, sizeof(hdr));
    for (i = 0; i < n; i++)
        memcpy(hdr.recipients[i], to_ids[i]->country, EWH_CC_BYTES);
    hdr.n_recipients = n;
    node_msg_from_report(&m, &r, &hdr, true);
    m.to_all = to_all;
    m.received_at = ewh_now();
    if (m.body == NULL) {
        ewh_err_set(&err, EWH_E_NOMEM, "out of memory");
        goto fail;
    }
    if (node_store_begin(d.store, &err) != 0)
        goto fail;
    if (node_store_outbox_add(d.store, &m, env, env_len, &err) != 0 ||
        node_store_commit(d.store, &err) != 0) {
        node_store_rollback(d.store);
        goto fail;
    }
    printf("%s\n", m.id);
    rc = 0;
    goto out;
fail:
    rc = node_cmd_fail("submit", &err);
out:
    free(env);
    ewh_roster_destroy(&ro);
    node_msg_clear(&m);
    node_msg_clear(&orig);
    ewh_report_clear(&r);
    node_dir_close(&d);
    return rc;
}
