/* cmd_audit.c — ewnode audit: are the checkpoints this node holds of each
 * hub a prefix of that hub's chain now?  A hub whose chain is shorter than
 * what this node holds, and agrees with every checkpoint up to its end,
 * lost data (a restore from a backup: exit 3); one whose chain disagrees
 * with a checkpoint held rewrote its history (exit 1).
 *
 * A one-shot client: its own CURVE DEALER with the node's keys, beside the
 * running agent (the hub answers an AuditRequest on the connection that
 * asked; no hello is sent, so the agent's session is untouched).  It asks
 * for the whole chain from the genesis head, page by page, recomputes
 * every head, and checks that each held checkpoint lies on the path and
 * that the path ends at the checkpoint the hub signs for this answer. */
#include "cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <zmq.h>

#include "dir.h"
#include "ewh.pb-c.h"
#include "ewh/audit.h"
#include "ewh/frame.h"
#include "ewh/keyfile.h"
#include "ewh/limits.h"
#include "ewh/log.h"
#include "ewh/util.h"

/* A request over the hub's budget is asked again after a second, at
 * most this many times in a row. */
#define S_RATE_TRIES 30

#define S_TIMEOUT_MS 10000 /* per proof page */

struct s_held {
    uint64_t length;
    uint8_t head[EWH_HASH_BYTES];
};

struct s_list {
    struct s_held *v;
    size_t n, cap;
};

static int
s_collect(void *ctx, uint64_t length, const uint8_t head[32], int64_t time)
{
    struct s_list *l = ctx;

    (void)time;
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 64;
        struct s_held *nv = realloc(l->v, ncap * sizeof(*nv));
        if (nv == NULL)
            return 1;
        l->v = nv;
        l->cap = ncap;
    }
    l->v[l->n].length = length;
    memcpy(l->v[l->n].head, head, EWH_HASH_BYTES);
    l->n++;
    return 0;
}

static void
s_rewrite(const char *hub, const struct s_held *c, const char *why)
{
    char hex[2 * EWH_HASH_BYTES + 1];

    printf("REWRITE: hub %s: checkpoint length %llu head %s not a prefix of "
           "hub's chain (%s)\n",
           hub, (unsigned long long)c->length,
           ewh_hex(c->head, EWH_HASH_BYTES, hex, sizeof(hex)), why);
}

/* Send a request and read the answer.  Caller owns *out. */
static int
s_ask(void *sock, uint64_t from, ewh_frame_t **out, struct ewh_err *err)
{
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__AuditRequest rq = EWH__AUDIT_REQUEST__INIT;
    uint8_t *buf = NULL;
    size_t len = 0;
    zmq_msg_t m;
    int rc;

    rq.from_length = from;
    rq.max_entries = EWH_MAX_PROOF_ENTRIES;
    f.msg_case = EWH__FRAME__MSG_AUDIT_REQUEST;
    f.audit_request = &rq;
    if (ewh_frame_encode(&f, &buf, &len, err) != 0)
        return -1;
    rc = zmq_send(sock, buf, len, 0);
    free(buf);
    if (rc < 0)
        return ewh_err_set(err, EWH_E_IO, "send: %s",
                           zmq_strerror(zmq_errno()));
    for (;;) {
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, 0) < 0) {
            zmq_msg_close(&m);
            return ewh_err_set(err, EWH_E_IO,
                               "no answer from the hub within %d s (%s)",
                               S_TIMEOUT_MS / 1000, zmq_strerror(zmq_errno()));
        }
        rc = ewh_frame_decode(zmq_msg_data(&m), zmq_msg_size(&m), out, err);
        zmq_msg_close(&m);
        if (rc != 0)
            return -1;
        if ((*out)->msg_case == EWH__FRAME__MSG_AUDIT_PROOF)
            return 0;
        if ((*out)->msg_case == EWH__FRAME__MSG_ERROR) {
            enum ewh_errcode code = (enum ewh_errcode)(*out)->error->code;
            ewh_err_set(
                err, ewh_errcode_is_retryable(code) ? code : EWH_E_INVALID,
                "hub: %s", (*out)->error->reason ? (*out)->error->reason : "");
            ewh_frame_destroy(out);
            return -1;
        }
        ewh_frame_destroy(out); /* not ours to handle (a roster push) */
    }
}

/* docs/trust.md: evidence that the hub showed peers different rosters. */
static void
s_split(void *ctx, const char *cc, uint64_t version, const char *what,
        int64_t at)
{
    char t[32];

    (void)ctx;
    if (strcmp(what, "roster") == 0)
        printf("SPLIT VIEW: the hub signed two rosters of version %llu "
               "(seen %s; evidence in the store, table split_view)\n",
               (unsigned long long)version, ewh_time_format(at, t, sizeof(t)));
    else
        printf("SPLIT VIEW: %s's %s names roster version %llu with another "
               "hash than this node's (seen %s): the hub showed %s and this "
               "node different rosters; nothing is sealed for %s (evidence "
               "in the store, table split_view)\n",
               cc, what, (unsigned long long)version,
               ewh_time_format(at, t, sizeof(t)), cc, cc);
}

/* What one hub's chain says (worst last): the exit status is the worst. */
enum s_verdict {
    S_OK = 0,
    S_FAILED = 1,  /* the check could not be made (or a split view) */
    S_RESTORE = 3, /* shorter than held, consistent: it lost data */
    S_REWRITE = 4, /* it contradicts a checkpoint held */
};

static int
s_rank(enum s_verdict v)
{
    return v == S_OK ? 0 : v == S_RESTORE ? 1 : v == S_FAILED ? 2 : 3;
}

/* A restore the agent saw (node_store_hub_chain_back()): said each time,
 * exit 3 until reported once. */
static bool s_restore_new;

static int
s_restore_line(void *ctx, const struct node_hub_restore *r)
{
    const struct node_hub *h = ctx;
    char t[32], t2[32];

    if (r->reported_at == 0) {
        s_restore_new = true;
        printf("RESTORE: hub %s: it went back to length %llu at %s, behind "
               "the checkpoint at length %llu this node held (%lld set "
               "aside as evidence, table checkpoint_old); its chain agrees "
               "with every checkpoint held up to there: the hub lost data "
               "and was sent again every report not yet receipted by all "
               "its addressees\n",
               h->endpoint, (unsigned long long)r->back_to,
               ewh_time_format(r->back_at, t, sizeof(t)),
               (unsigned long long)r->longest, (long long)r->n);
    } else
        printf("audit: note: hub %s went back to length %llu at %s "
               "(restored; reported %s)\n",
               h->endpoint, (unsigned long long)r->back_to,
               ewh_time_format(r->back_at, t, sizeof(t)),
               ewh_time_format(r->reported_at, t2, sizeof(t2)));
    return 0;
}

/* Walk hub h's whole chain and hold it against the checkpoints held of
 * it. */
static enum s_verdict
s_audit_hub(struct node_dir *d, const struct node_hub *h)
{
    struct ewh_err err = {0};
    struct s_list held = {0};
    struct ewh_checkpoint cp = {0};
    ewh_frame_t *f = NULL;
    void *ctx = NULL, *sock = NULL;
    uint8_t head[EWH_HASH_BYTES] = {0};
    uint64_t len = 0, on_chain = 0;
    size_t idx = 0, i, bad = 0, beyond = 0;
    int tries = 0, zero = 0, tmo = S_TIMEOUT_MS;
    enum s_verdict v = S_FAILED;
    bool complete = false, have_cp = false;
    char hex[2 * EWH_HASH_BYTES + 1];

    s_restore_new = false;

    if (node_store_hub_checkpoint_walk(d->store, h->id, s_collect, &held,
                                       &err) != 0) {
        fprintf(stderr, "ewnode audit: hub %s: %s\n", h->endpoint, err.reason);
        goto out;
    }
    if ((ctx = zmq_ctx_new()) == NULL ||
        (sock = zmq_socket(ctx, ZMQ_DEALER)) == NULL ||
        zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, h->key.curve, 32) ||
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY,
                       ewh_secret_pubid(d->secret)->curve, 32) ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY,
                       ewh_secret_curve_sk(d->secret), 32) ||
        zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof(zero)) ||
        zmq_setsockopt(sock, ZMQ_RCVTIMEO, &tmo, sizeof(tmo)) ||
        zmq_setsockopt(sock, ZMQ_SNDTIMEO, &tmo, sizeof(tmo)) ||
        zmq_connect(sock, h->endpoint) != 0) {
        fprintf(stderr, "ewnode audit: hub %s: zmq: %s\n", h->endpoint,
                zmq_strerror(zmq_errno()));
        goto out;
    }
    while (!complete) {
        Ewh__AuditProof *p;
        uint8_t *raw;
        size_t rlen;

        ewh_frame_destroy(&f);
        if (s_ask(sock, len, &f, &err) != 0 && err.code == EWH_E_RATE &&
            tries++ < S_RATE_TRIES) {
            /* The hub's budget of audit requests (EWH_HUB_AUDIT_PER_S):
             * wait for it and ask again. */
            sleep(1);
            continue;
        }
        tries = 0;
        if (f == NULL) {
            fprintf(stderr, "ewnode audit: hub %s: %s\n", h->endpoint,
                    err.reason);
            goto out;
        }
        p = f->audit_proof;
        if (p->checkpoint == NULL || p->from_length != len) {
            fprintf(stderr, "ewnode audit: hub %s: malformed proof\n",
                    h->endpoint);
            goto out;
        }
        rlen = ewh__checkpoint__get_packed_size(p->checkpoint);
        if ((raw = malloc(rlen)) == NULL)
            fatalx("out of memory");
        ewh__checkpoint__pack(p->checkpoint, raw);
        if (ewh_checkpoint_verify(raw, rlen, h->key.sign, &cp, &err) != 0) {
            free(raw);
            fprintf(stderr, "ewnode audit: hub %s: checkpoint: %s\n",
                    h->endpoint, err.reason);
            goto out;
        }
        free(raw);
        have_cp = true;
        for (i = 0; i < p->n_entries; i++) {
            Ewh__AuditEntry *e = p->entries[i];
            char origin[EWH_CC_BYTES];
            if (e->id.len != EWH_ID_BYTES ||
                e->envelope_hash.len != EWH_HASH_BYTES || e->origin == NULL ||
                strlen(e->origin) != 2) {
                fprintf(stderr, "ewnode audit: hub %s: malformed entry %llu\n",
                        h->endpoint, (unsigned long long)(len + 1));
                goto out;
            }
            snprintf(origin, sizeof(origin), "%s", e->origin);
            ewh_audit_next(head, e->id.data, e->envelope_hash.data, origin,
                           e->received_at, head);
            len++;
            for (; idx < held.n && held.v[idx].length <= len; idx++) {
                if (held.v[idx].length != len)
                    continue;
                if (memcmp(held.v[idx].head, head, EWH_HASH_BYTES) != 0) {
                    s_rewrite(h->endpoint, &held.v[idx],
                              "the hub's entries now lead to another head");
                    bad++;
                } else if (bad == 0)
                    on_chain = len;
            }
        }
        complete = p->complete;
        if (!complete && p->n_entries == 0) {
            fprintf(stderr, "ewnode audit: hub %s: an empty page\n",
                    h->endpoint);
            goto out;
        }
    }
    beyond = held.n - idx;
    if (have_cp &&
        (cp.length != len || memcmp(cp.head, head, EWH_HASH_BYTES))) {
        printf("REWRITE: hub %s: the hub's entries (length %llu) do not lead "
               "to the checkpoint it signs now (length %llu head %s)\n",
               h->endpoint, (unsigned long long)len,
               (unsigned long long)cp.length,
               ewh_hex(cp.head, EWH_HASH_BYTES, hex, sizeof(hex)));
        bad++;
    }
    if (bad == 0 && node_store_hub_restores(d->store, h->id, s_restore_line,
                                            (void *)h, &err) < 0) {
        fprintf(stderr, "ewnode audit: hub %s: %s\n", h->endpoint, err.reason);
        goto out;
    }
    if (bad > 0) {
        if (on_chain > 0 || beyond > 0)
            printf("  (hub %s: the longest checkpoint held that is still on "
                   "its chain is at length %llu; a restore followed by new "
                   "reports also looks like this: ask its operator)\n",
                   h->endpoint, (unsigned long long)on_chain);
        v = S_REWRITE;
    } else if (beyond > 0) {
        printf("RESTORE: hub %s: its chain is at length %llu, shorter than "
               "the checkpoint at length %llu this node holds, and agrees "
               "with every checkpoint held up to its end: the hub lost data "
               "(a restore from a backup?); the agent sends it again every "
               "report not yet receipted by all its addressees\n",
               h->endpoint, (unsigned long long)len,
               (unsigned long long)held.v[held.n - 1].length);
        v = S_RESTORE;
    } else if (s_restore_new) {
        /* seen by the agent, reported now once (table checkpoint_old) */
        v = S_RESTORE;
        if (node_store_hub_restores_reported(d->store, h->id, ewh_now(),
                                             &err) != 0)
            fprintf(stderr, "ewnode audit: hub %s: %s\n", h->endpoint,
                    err.reason);
    } else {
        printf("audit: OK: hub %s: %zu checkpoint(s) held, all on the hub's "
               "chain (length %llu, head %s)\n",
               h->endpoint, held.n, (unsigned long long)len,
               ewh_hex(head, EWH_HASH_BYTES, hex, sizeof(hex)));
        v = S_OK;
    }
out:
    ewh_frame_destroy(&f);
    if (sock != NULL)
        zmq_close(sock);
    if (ctx != NULL)
        zmq_ctx_term(ctx);
    free(held.v);
    return v;
}

/* ---- --export: the checkpoints held, for `ewhub audit verify` ---- */

static int
s_export_one(void *ctx, uint64_t length, const uint8_t head[32], int64_t time,
             const uint8_t *raw, size_t raw_len)
{
    json_t *a = ctx;
    char hex[2 * EWH_HASH_BYTES + 1], *sig;
    json_t *e;

    if ((sig = malloc(2 * raw_len + 1)) == NULL)
        return 1;
    ewh_hex(raw, raw_len, sig, 2 * raw_len + 1);
    e = json_pack("{s:I, s:s, s:I, s:s}", "length", (json_int_t)length, "head",
                  ewh_hex(head, EWH_HASH_BYTES, hex, sizeof(hex)), "time",
                  (json_int_t)time, "signed", sig);
    free(sig);
    return e == NULL || json_array_append_new(a, e) != 0;
}

static int
s_export(struct node_dir *d, const char *file, const char *ep)
{
    struct ewh_err err = {0};
    struct node_hub hubs[EWH_MAX_HUBS], *h = NULL;
    size_t n = 0, i;
    json_t *o = NULL, *a = json_array();
    char *text = NULL;
    int rc = 1;

    if (node_store_hubs_list(d->store, hubs, EWH_MAX_HUBS, &n, &err) != 0)
        goto fail;
    for (i = 0; i < n && h == NULL; i++)
        if (ep == NULL || strcmp(hubs[i].endpoint, ep) == 0)
            h = &hubs[i];
    if (h == NULL) {
        ewh_err_set(&err, EWH_E_NOTFOUND,
                    "no hub %s is listed (ewnode hubs "
                    "list)",
                    ep != NULL ? ep : "");
        goto fail;
    }
    if (a == NULL || node_store_hub_checkpoint_walk_raw(
                         d->store, h->id, s_export_one, a, &err) != 0)
        goto fail;
    o = json_pack("{s:s, s:s, s:s, s:O}", "country", d->cfg.country, "hub",
                  h->fp, "endpoint", h->endpoint, "checkpoints", a);
    if (o == NULL || (text = json_dumps(o, JSON_INDENT(1))) == NULL) {
        ewh_err_set(&err, EWH_E_NOMEM, "out of memory");
        goto fail;
    }
    if (ewh_keyfile_write(file, text, strlen(text), 0644, &err) != 0)
        goto fail;
    printf("%zu checkpoint(s) of hub %s written to %s\n", json_array_size(a),
           h->endpoint, file);
    rc = 0;
    goto out;
fail:
    node_cmd_fail("audit --export", &err);
out:
    free(text);
    json_decref(o);
    json_decref(a);
    return rc;
}

int
node_cmd_audit(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"export", required_argument, NULL, 'e'},
        {"hub", required_argument, NULL, 'u'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    struct ewh_err err = {0};
    struct node_dir d;
    struct node_hub hubs[EWH_MAX_HUBS];
    const char *export = NULL, *hub = NULL;
    enum s_verdict worst = S_OK, v;
    const char *dir = NULL;
    size_t n = 0, i, nsplit = 0;
    int ch;

    while ((ch = getopt_long(argc, argv, "d:e:u:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            dir = optarg;
            break;
        case 'e':
            export = optarg;
            break;
        case 'u':
            hub = optarg;
            break;
        case 'h':
            printf(
                "usage: ewnode audit [--dir DIR] [--export FILE [--hub "
                "ENDPOINT]]\n"
                "  Ask each hub for its audit chain and check that every "
                "checkpoint this\n  node holds of it is a prefix of it.\n"
                "  Exit 0: OK at every hub; 3: a restore (a hub's chain is "
                "shorter than\n  what this node holds and agrees with it: "
                "the hub lost data); 4: a\n  rewrite (a hub's chain "
                "contradicts a checkpoint held, or does not lead\n  to "
                "what it signs); 1: the check could not be made at some hub, "
                "or a\n  split view is on record (the message says which); "
                "2: usage error.\n  The worst wins: 4, then 1, then 3.\n"
                "  --export FILE  write the checkpoints held of hub #0 (or "
                "--hub) as\n                 JSON for `ewhub audit verify "
                "--checkpoints FILE`; no network\n");
            return 0;
        default:
            return node_cmd_usage("audit", "bad option");
        }
    }
    if (optind != argc)
        return node_cmd_usage("audit", "unexpected argument");
    if (hub != NULL && export == NULL)
        return node_cmd_usage("audit", "--hub goes with --export");
    if (export != NULL) {
        if (node_cmd_open_dir(&d, dir, false, "audit") != 0)
            return 1;
        ch = s_export(&d, export, hub);
        node_dir_close(&d);
        return ch;
    }
    if (node_cmd_open_dir(&d, dir, true, "audit") != 0)
        return 1;
    if (node_store_hubs_list(d.store, hubs, EWH_MAX_HUBS, &n, &err) != 0 ||
        node_store_split_list(d.store, s_split, NULL, &nsplit, &err) != 0) {
        node_cmd_fail("audit", &err);
        node_dir_close(&d);
        return S_FAILED;
    }
    for (i = 0; i < n; i++) {
        v = s_audit_hub(&d, &hubs[i]);
        if (s_rank(v) > s_rank(worst))
            worst = v;
    }
    if (nsplit > 0 && s_rank(S_FAILED) > s_rank(worst))
        worst = S_FAILED; /* a split view: the evidence is printed */
    node_dir_close(&d);
    return (int)worst;
}
