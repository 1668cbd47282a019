/* cmd_peers.c — ewnode peers: the roster this node holds. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "foreign.h"
#include "linkstate.h"
#include "trust.h"

/* ewnode peers verify CC FINGERPRINT: an officer compared the fingerprint
 * by telephone (docs/trust.md). */
static int
s_verify(const char *dir, const char *cc, const char *fp)
{
    struct node_dir d;
    struct ewh_err err = {0};
    ewh_roster_t *ro = NULL;
    node_foreign_t *fo = NULL;
    const ewh_roster_t *which;
    const char *region = NULL;
    int rc = 1;

    if (!ewh_country_is_valid(cc)) {
        fprintf(stderr,
                "ewnode peers verify: '%s' is not an ISO 3166-1 "
                "alpha-2 code\n",
                cc);
        return 2;
    }
    if (node_cmd_open_dir(&d, dir, false, "peers") != 0)
        return 1;
    if ((ro = node_dir_roster(&d, &err)) == NULL)
        goto fail;
    /* A foreign country is verified in its region's roster. */
    which = ro;
    if (ewh_roster_find(ro, cc, NULL) == NULL) {
        if ((fo = node_foreign_load(d.store, &err)) == NULL)
            goto fail;
        if (node_foreign_find(fo, cc, &region, NULL) != NULL)
            which = node_foreign_roster(fo, region);
    }
    if (node_store_begin(d.store, &err) != 0)
        goto fail;
    if (node_trust_verify(d.store, which, cc, fp, &err) != 0 ||
        node_store_commit(d.store, &err) != 0) {
        node_store_rollback(d.store);
        goto fail;
    }
    printf("%s verified: fingerprint %s; this node seals for %s again\n", cc,
           fp, cc);
    rc = 0;
    goto out;
fail:
    rc = node_cmd_fail("peers verify", &err);
out:
    node_foreign_destroy(&fo);
    ewh_roster_destroy(&ro);
    node_dir_close(&d);
    return rc;
}

/* The trust of a roster entry: t and *mark ("" when verified). */
static void
s_trust(struct node_dir *d, const struct ewh_pubid *id, struct node_trust *t,
        const char **mark)
{
    struct ewh_err err = {0};
    bool ok, warn;
    char fp[EWH_FINGERPRINT_CHARS];

    *mark = "";
    if (strcmp(id->country, d->cfg.country) == 0) {
        memset(t, 0, sizeof(*t));
        t->verified = true;
        return;
    }
    if (node_trust_sealable(d->store, id->country, false, &ok, &warn, t,
                            &err) != 0) {
        t->verified = false;
        snprintf(t->why, sizeof(t->why), "unknown");
    }
    ewh_pubid_fingerprint(id, fp);
    if (t->fp[0] != '\0' && strcmp(t->fp, fp) != 0)
        t->verified = false;
    if (!t->verified)
        *mark = strcmp(t->why, "split-view") == 0 ? "  SPLIT-VIEW (disputed)"
                                                  : "  UNVERIFIED";
}

/* The foreign regions and their countries (docs/federation-node.md). */
static json_t *
s_foreign_json(struct node_dir *d, const node_foreign_t *fo)
{
    json_t *a = json_array();
    char fp[EWH_FINGERPRINT_CHARS], hex[2 * EWH_KEY_BYTES + 1];
    struct node_trust t;
    const char *mark, *region;
    bool revoked;
    size_t i, j;

    for (i = 0; i < node_foreign_count(fo); i++) {
        const ewh_roster_t *r = node_foreign_at(fo, i, &region);
        const struct node_foreign_row *row = node_foreign_row_at(fo, i);
        json_t *o = json_object(), *p = json_array();
        json_object_set_new(o, "region", json_string(region));
        json_object_set_new(o, "hub_key",
                            json_string(ewh_hex(row->hub_sign, EWH_KEY_BYTES,
                                                hex, sizeof(hex))));
        json_object_set_new(o, "version",
                            json_integer((json_int_t)ewh_roster_version(r)));
        json_object_set_new(o, "path", json_string(row->path));
        json_object_set_new(o, "received_at",
                            json_integer((json_int_t)row->at));
        for (j = 0; j < ewh_roster_count(r); j++) {
            const struct ewh_pubid *id = ewh_roster_at(r, j, &revoked);
            json_t *e = json_object();
            ewh_pubid_fingerprint(id, fp);
            s_trust(d, id, &t, &mark);
            json_object_set_new(e, "country", json_string(id->country));
            json_object_set_new(e, "region", json_string(region));
            json_object_set_new(e, "fingerprint", json_string(fp));
            json_object_set_new(e, "revoked", json_boolean(revoked));
            json_object_set_new(e, "verified", json_boolean(t.verified));
            json_object_set_new(e, "trust", json_string(t.why));
            json_array_append_new(p, e);
        }
        json_object_set_new(o, "peers", p);
        json_array_append_new(a, o);
    }
    return a;
}

static size_t
s_foreign_print(struct node_dir *d, const node_foreign_t *fo)
{
    char fp[EWH_FINGERPRINT_CHARS], hex[2 * EWH_KEY_BYTES + 1];
    struct node_trust t;
    const char *mark, *region;
    bool revoked;
    size_t i, j, n_unv = 0;

    if (node_foreign_count(fo) == 0)
        return 0;
    printf("foreign peers (other regions, through the hub's federation "
           "peers):\n");
    for (i = 0; i < node_foreign_count(fo); i++) {
        const ewh_roster_t *r = node_foreign_at(fo, i, &region);
        const struct node_foreign_row *row = node_foreign_row_at(fo, i);
        printf("  region %s: roster version %llu, via %s, hub key %s\n", region,
               (unsigned long long)ewh_roster_version(r), row->path,
               ewh_hex(row->hub_sign, EWH_KEY_BYTES, hex, sizeof(hex)));
        for (j = 0; j < ewh_roster_count(r); j++) {
            const struct ewh_pubid *id = ewh_roster_at(r, j, &revoked);
            ewh_pubid_fingerprint(id, fp);
            s_trust(d, id, &t, &mark);
            printf("    %s  %s  region %s%s%s%s%s%s\n", id->country, fp, region,
                   revoked ? "  REVOKED" : "", mark, t.why[0] ? "  [" : "",
                   t.why, t.why[0] ? "]" : "");
            if (mark[0])
                n_unv++;
        }
    }
    return n_unv;
}

int
node_cmd_peers(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *dir = NULL;
    struct node_dir d;
    struct ewh_err err = {0};
    ewh_roster_t *ro = NULL;
    node_foreign_t *fo = NULL;
    char fp[EWH_FINGERPRINT_CHARS];
    bool json = false, revoked;
    struct node_trust t;
    const char *mark;
    size_t i, n_unv = 0, n_tofu = 0;
    int ch;

    while ((ch = getopt_long(argc, argv, "d:jh", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            dir = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            return node_cmd_help("peers");
        default:
            return node_cmd_usage("peers", "bad option");
        }
    }
    if (optind + 3 == argc && strcmp(argv[optind], "verify") == 0)
        return s_verify(dir, argv[optind + 1], argv[optind + 2]);
    if (optind != argc)
        return node_cmd_usage("peers",
                              "unexpected argument (ewnode peers verify CC "
                              "FINGERPRINT?)");
    if (node_cmd_open_dir(&d, dir, false, "peers") != 0)
        return 1;
    ewh_pubid_fingerprint(&d.hub, fp);
    if ((ro = node_dir_roster(&d, &err)) == NULL) {
        (void)node_linkstate_hint(&d, "peers", stderr);
        node_dir_close(&d);
        if (err.code == EWH_E_NOTFOUND)
            ewh_err_set(&err, EWH_E_NOTFOUND,
                        "no roster yet: run `ewnode run` once connected to "
                        "the hub");
        return node_cmd_fail("peers", &err);
    }
    if ((fo = node_foreign_load(d.store, &err)) == NULL) {
        ewh_roster_destroy(&ro);
        node_dir_close(&d);
        return node_cmd_fail("peers", &err);
    }
    if (json) {
        json_t *o = json_object(), *a = json_array(), *c = json_array();
        char *s;
        json_object_set_new(o, "version",
                            json_integer((json_int_t)ewh_roster_version(ro)));
        json_object_set_new(o, "hub_fingerprint", json_string(fp));
        for (i = 0; i < ewh_roster_count(ro); i++) {
            const struct ewh_pubid *id = ewh_roster_at(ro, i, &revoked);
            json_t *e = json_object();
            ewh_pubid_fingerprint(id, fp);
            json_object_set_new(e, "country", json_string(id->country));
            json_object_set_new(e, "fingerprint", json_string(fp));
            json_object_set_new(e, "revoked", json_boolean(revoked));
            s_trust(&d, id, &t, &mark);
            json_object_set_new(e, "verified", json_boolean(t.verified));
            json_object_set_new(e, "trust", json_string(t.why));
            json_object_set_new(
                e, "self",
                json_boolean(strcmp(id->country, d.cfg.country) == 0));
            json_array_append_new(a, e);
        }
        json_object_set_new(o, "peers", a);
        {
            json_t *hp = json_array();
            json_object_set_new(o, "region",
                                json_string(ewh_roster_region(ro)));
            for (i = 0; i < ewh_roster_peer_count(ro); i++)
                json_array_append_new(hp, json_string(ewh_roster_peer(ro, i)));
            json_object_set_new(o, "hub_peers", hp);
            json_object_set_new(o, "foreign", s_foreign_json(&d, fo));
        }
        for (i = 0; i < ewh_roster_category_count(ro); i++)
            json_array_append_new(c, json_string(ewh_roster_category(ro, i)));
        json_object_set_new(o, "categories", c);
        json_object_set_new(o, "link", node_linkstate_json(&d));
        json_object_set_new(o, "trust", node_trust_json(d.store));
        if ((s = json_dumps(o, JSON_COMPACT)) != NULL)
            printf("%s\n", s);
        free(s);
        json_decref(o);
    } else {
        printf("roster version %llu (hub fingerprint %s), region %s\n",
               (unsigned long long)ewh_roster_version(ro), fp,
               ewh_roster_region(ro));
        for (i = 0; i < ewh_roster_count(ro); i++) {
            const struct ewh_pubid *id = ewh_roster_at(ro, i, &revoked);
            ewh_pubid_fingerprint(id, fp);
            s_trust(&d, id, &t, &mark);
            printf("  %s  %s%s%s%s%s%s%s\n", id->country, fp,
                   revoked ? "  REVOKED" : "", mark, t.why[0] ? "  [" : "",
                   t.why, t.why[0] ? "]" : "",
                   strcmp(id->country, d.cfg.country) == 0 ? "  (this node)"
                                                           : "");
            if (mark[0])
                n_unv++;
            else if (strcmp(t.why, "tofu") == 0)
                n_tofu++;
        }
        n_unv += s_foreign_print(&d, fo);
        if (ewh_roster_peer_count(ro) > 0) {
            printf("the hub peers with regions:");
            for (i = 0; i < ewh_roster_peer_count(ro); i++)
                printf(" %s", ewh_roster_peer(ro, i));
            printf("\n");
        }
        if (n_tofu > 0)
            printf("[tofu]: trusted on first use (this node's first "
                   "roster); compare those fingerprints\nby telephone once, "
                   "then `ewnode peers verify CC FINGERPRINT`\n");
        if (n_unv > 0)
            printf("%zu peer(s) unverified: nothing is sealed for them until "
                   "an officer\ncompares the fingerprint by telephone and runs "
                   "`ewnode peers verify CC FINGERPRINT`\n",
                   n_unv);
        printf("categories:");
        if (ewh_roster_category_count(ro) == 0)
            for (i = 0; ewh_default_categories[i] != NULL; i++)
                printf(" %s", ewh_default_categories[i]);
        for (i = 0; i < ewh_roster_category_count(ro); i++)
            printf(" %s", ewh_roster_category(ro, i));
        printf("\n");
    }
    (void)fflush(stdout);
    (void)node_linkstate_hint(&d, "peers", stderr);
    if (!json)
        (void)node_trust_hint(d.store, "peers", stderr);
    node_foreign_destroy(&fo);
    ewh_roster_destroy(&ro);
    node_dir_close(&d);
    return fflush(stdout) == 0 ? 0 : 1;
}
