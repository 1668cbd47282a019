/* desk_peers.c — the peers page: fingerprints, verification state, and an
 * admin verifying a peer. */
#include "desk_int.h"
#include "foreign.h"

/* ---- peers ---------------------------------------------------------- */

/* The peers page; msg (when not NULL) is the outcome of a verification
 * of cc, shown next to that peer's field (an error) or above the table. */
/* One row of a peers table: fingerprint, state, the node's own judgement
 * of the key, and for an admin the verification form.  region NULL: a
 * country of this region. */
static void
s_peer_row(struct node_desk_req *r, struct node_buf *rows,
           const struct ewh_pubid *id, bool revoked, const char *region,
           const char *cc, const char *msg, bool ok_msg)
{
    struct ewh_err err = {0};
    char pf[EWH_FINGERPRINT_CHARS], why[200];
    struct node_buf form, fe;
    struct node_trust t;
    bool ok = false, warn = false;

    ewh_pubid_fingerprint(id, pf);
    /* docs/trust.md: the node's own judgement of the key, not the hub's
     * word */
    pthread_mutex_lock(&node_desk_g.store_lock);
    if (node_trust_sealable(node_desk_g.d->store, id->country, false, &ok,
                            &warn, &t, &err) != 0)
        ok = false;
    pthread_mutex_unlock(&node_desk_g.store_lock);
    if (ok && t.fp[0] != '\0' && strcmp(t.fp, pf) != 0)
        ok = false;
    if (strcmp(id->country, node_desk_g.d->cfg.country) == 0)
        ok = true;
    if (ok)
        snprintf(why, sizeof(why), "verified (%s)", t.why[0] ? t.why : "tofu");
    else
        snprintf(why, sizeof(why),
                 "UNVERIFIED (%s): nothing is sealed for it; compare the "
                 "fingerprint by telephone, then ewnode peers verify %s %s",
                 t.why, id->country, pf);
    node_buf_init(&form);
    /* An admin verifies here what `ewnode peers verify` would: the
     * privileged part checks the session and calls the same
     * node_trust_verify. */
    if (!ok && node_desk_has(r, NODE_ROLE_ADMIN)) {
        node_buf_init(&fe);
        if (msg != NULL && !ok_msg && cc != NULL &&
            strcmp(cc, id->country) == 0)
            node_html(&fe,
                      "<p class=error id=\"err-verify-{s}\">"
                      "{s}</p>",
                      id->country, msg);
        node_html(&form,
                  "<form method=post action=\"/peers/verify\" "
                  "class=verify id=\"verify-{s}\"><input "
                  "type=hidden name=csrf value=\"{s}\"><input "
                  "type=hidden name=cc value=\"{s}\"><label "
                  "for=\"fp-{s}\">Fingerprint read out on the "
                  "telephone</label> <input type=text id=\"fp-{s}\" "
                  "name=fingerprint maxlength={d} autocomplete=off "
                  "placeholder=\"XXXX-XXXX-XXXX-XXXX-XXXX\"> "
                  "<button>Verify {s}</button>{h}</form>",
                  id->country, r->s.csrf, id->country, id->country, id->country,
                  (long long)(EWH_FINGERPRINT_CHARS - 1), id->country, &fe);
        node_buf_free(&fe);
    }
    if (region != NULL)
        node_html(rows,
                  "<tr data-verified=\"{s}\" data-cc=\"{s}\" "
                  "data-region=\"{s}\"><td>{s}</td><td>{s}</td><td><code>"
                  "{s}</code></td><td>{s}</td><td>{s}{h}</td></tr>",
                  ok ? "true" : "false", id->country, region, id->country,
                  region, pf, revoked ? "REVOKED" : "active", why, &form);
    else
        node_html(rows,
                  "<tr data-verified=\"{s}\" data-cc=\"{s}\"><td>{s}"
                  "</td><td><code>{s}</code></td><td>{s}</td><td>{s}{h}"
                  "</td></tr>",
                  ok ? "true" : "false", id->country, id->country, pf,
                  revoked ? "REVOKED" : "active",
                  strcmp(id->country, node_desk_g.d->cfg.country) == 0
                      ? "this node"
                      : why,
                  &form);
    node_buf_free(&form);
}

/* The peers page; msg (when not NULL) is the outcome of a verification
 * of cc, shown next to that peer's field (an error) or above the table. */
enum MHD_Result
node_desk_peers(struct node_desk_req *r, const char *cc, const char *msg,
                bool ok_msg)
{
    struct ewh_err err = {0};
    struct node_buf b, rows, frows;
    ewh_roster_t *ro;
    node_foreign_t *fo;
    char fp[EWH_FINGERPRINT_CHARS];
    const char *region;
    bool revoked;
    size_t i, j;

    NEED(r, NODE_ROLE_ALL, true);
    pthread_mutex_lock(&node_desk_g.store_lock);
    ro = node_dir_roster(node_desk_g.d, &err);
    fo = node_foreign_load(node_desk_g.d->store, NULL);
    pthread_mutex_unlock(&node_desk_g.store_lock);
    node_buf_init(&b);
    node_buf_init(&rows);
    node_buf_init(&frows);
    ewh_pubid_fingerprint(&node_desk_g.d->hub, fp);
    if (ro == NULL)
        node_html(&b, "<p class=error>{s}</p>", err.reason);
    else {
        for (i = 0; i < ewh_roster_count(ro); i++) {
            const struct ewh_pubid *id = ewh_roster_at(ro, i, &revoked);
            s_peer_row(r, &rows, id, revoked, NULL, cc, msg, ok_msg);
        }
        /* issue 22: other regions' countries, apart, with their region */
        for (i = 0; i < node_foreign_count(fo); i++) {
            const ewh_roster_t *fr = node_foreign_at(fo, i, &region);
            for (j = 0; j < ewh_roster_count(fr); j++) {
                const struct ewh_pubid *id = ewh_roster_at(fr, j, &revoked);
                s_peer_row(r, &frows, id, revoked, region, cc, msg, ok_msg);
            }
        }
        if (msg != NULL && ok_msg)
            node_html(&b, "<p class=ok id=peers-msg>{s}</p>", msg);
        node_html(&b,
                  "<p>Roster version <strong>{d}</strong> of region "
                  "<strong>{s}</strong>; hub fingerprint "
                  "<code>{s}</code> (pinned at init).</p><table id=peers>"
                  "<thead><tr><th>country</th><th>fingerprint</th>"
                  "<th>state</th><th>verification</th></tr></thead><tbody>"
                  "{h}</tbody></table>",
                  (long long)ewh_roster_version(ro), ewh_roster_region(ro), fp,
                  &rows);
        if (node_foreign_count(fo) > 0)
            node_html(&b,
                      "<h2>Foreign peers</h2><p>Countries of other "
                      "regions, through this hub's federation peers "
                      "(docs/federation-node.md).</p><table "
                      "id=foreign-peers><thead><tr><th>country</th>"
                      "<th>region</th><th>fingerprint</th><th>state</th>"
                      "<th>verification</th></tr></thead><tbody>{h}"
                      "</tbody></table>",
                      &frows);
    }
    node_desk_page(r, "Peers", &b);
    node_foreign_destroy(&fo);
    ewh_roster_destroy(&ro);
    node_buf_free(&b);
    node_buf_free(&rows);
    node_buf_free(&frows);
    return node_desk_respond(r);
}

/* POST /peers/verify: an admin enters the fingerprint read out on the
 * telephone; the privileged part checks the admin's session again and
 * calls node_trust_verify, as `ewnode peers verify` does. */
enum MHD_Result
node_desk_peers_verify_post(struct node_desk_req *r)
{
    struct ewh_err err = {0};
    const char *cc = node_desk_form(r, "cc"),
               *fp = node_desk_form(r, "fingerprint");
    char msg[EWH_MAX_REASON_BYTES + 64];
    json_t *req, *rep;
    bool ok;

    NEED(r, NODE_ROLE_ADMIN, true);
    if (!node_desk_csrf_ok(r))
        return node_desk_error_page(
            r, MHD_HTTP_FORBIDDEN,
            "Refused: the form's CSRF token is missing or "
            "wrong. Reload the page and try again.");
    if (cc == NULL || !ewh_country_is_valid(cc)) {
        r->status = MHD_HTTP_BAD_REQUEST;
        return node_desk_peers(
            r, NULL, "Refused: not an ISO 3166-1 alpha-2 code.", false);
    }
    if (fp == NULL || fp[0] == '\0' || strlen(fp) >= EWH_FINGERPRINT_CHARS) {
        r->status = 422;
        return node_desk_peers(
            r, cc,
            "Give the fingerprint as read out (XXXX-XXXX-XXXX-"
            "XXXX-XXXX).",
            false);
    }
    req = json_pack("{s:s, s:s, s:s, s:s}", "op", "verify", "token", r->token,
                    "cc", cc, "fingerprint", fp);
    rep = req ? node_desk_priv(req, &err) : NULL;
    json_decref(req);
    if (rep == NULL)
        return node_desk_error_page(r, MHD_HTTP_SERVICE_UNAVAILABLE,
                                    err.reason[0] ? err.reason
                                                  : "out of memory");
    ok = json_is_true(json_object_get(rep, "ok"));
    if (ok)
        snprintf(msg, sizeof(msg),
                 "%s verified: fingerprint %s; this node seals for %s again.",
                 cc, fp, cc);
    else {
        int code = (int)json_integer_value(json_object_get(rep, "code"));
        const char *why = json_string_value(json_object_get(rep, "reason"));
        snprintf(msg, sizeof(msg), "Refused: %s", why ? why : "?");
        r->status = code == EWH_E_FORBIDDEN || code == EWH_E_AUTH
                        ? MHD_HTTP_FORBIDDEN
                        : 422;
    }
    json_decref(rep);
    return node_desk_peers(r, cc, msg, ok);
}
