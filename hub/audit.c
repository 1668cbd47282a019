/* audit.c — audit proofs for nodes and `ewhub audit verify`. */
#include "audit.h"

#include <stdarg.h>
#include <string.h>

#include "ewh.pb-c.h"
#include "ewh/frame.h"
#include "ewh/limits.h"
#include "ewh/log.h"
#include "ewh/util.h"

/* ---- proofs ---- */

struct s_proof {
    Ewh__AuditEntry *e; /* entries, with id/hash storage in ids/hashes */
    Ewh__AuditEntry **ep;
    uint8_t (*ids)[EWH_ID_BYTES];
    uint8_t (*hashes)[EWH_HASH_BYTES];
    char (*origins)[EWH_CC_BYTES];
    size_t n, cap;
    uint64_t last;
};

static int
s_proof_row(void *ctx, const struct hub_audit_row *row)
{
    struct s_proof *p = ctx;
    Ewh__AuditEntry init = EWH__AUDIT_ENTRY__INIT;
    size_t i = p->n;

    if (i == p->cap)
        return 1;
    memcpy(p->ids[i], row->id, EWH_ID_BYTES);
    /* The envelope held now, unless retention emptied it. */
    if (row->env != NULL && row->env_len > 0)
        ewh_audit_envelope_hash(row->env, row->env_len, p->hashes[i]);
    else
        memcpy(p->hashes[i], row->hash, EWH_HASH_BYTES);
    snprintf(p->origins[i], EWH_CC_BYTES, "%s", row->origin);
    p->e[i] = init;
    p->e[i].id.data = p->ids[i];
    p->e[i].id.len = EWH_ID_BYTES;
    p->e[i].envelope_hash.data = p->hashes[i];
    p->e[i].envelope_hash.len = EWH_HASH_BYTES;
    p->e[i].origin = p->origins[i];
    p->e[i].received_at = row->received_at;
    p->ep[i] = &p->e[i];
    p->last = row->n;
    p->n++;
    return 0;
}

int
hub_audit_proof(hub_store_t *st, const ewh_secret_t *key, uint64_t length,
                const uint8_t head[EWH_HASH_BYTES], uint64_t from_length,
                uint32_t max_entries, uint8_t **out, size_t *out_len,
                struct ewh_err *err)
{
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__AuditProof ap = EWH__AUDIT_PROOF__INIT;
    Ewh__Checkpoint *c = NULL;
    struct ewh_checkpoint cp;
    struct s_proof p;
    uint8_t from_head[EWH_HASH_BYTES], *cpbuf = NULL;
    size_t cplen = 0;
    bool found;
    int ret = -1;

    *out = NULL;
    *out_len = 0;
    memset(&p, 0, sizeof(p));
    p.cap = max_entries == 0 || max_entries > EWH_MAX_PROOF_ENTRIES
                ? EWH_MAX_PROOF_ENTRIES
                : max_entries;
    if (from_length > length)
        from_length = length;
    p.e = calloc(p.cap, sizeof(*p.e));
    p.ep = calloc(p.cap, sizeof(*p.ep));
    p.ids = calloc(p.cap, sizeof(*p.ids));
    p.hashes = calloc(p.cap, sizeof(*p.hashes));
    p.origins = calloc(p.cap, sizeof(*p.origins));
    if (p.e == NULL || p.ep == NULL || p.ids == NULL || p.hashes == NULL ||
        p.origins == NULL) {
        ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        goto out;
    }
    if (hub_store_audit_head_at(st, from_length, from_head, &found, err) != 0)
        goto out;
    p.last = from_length;
    if (from_length < length &&
        hub_store_audit_walk(st, from_length, p.cap, s_proof_row, &p, err) != 0)
        goto out;
    cp.length = length;
    memcpy(cp.head, head, EWH_HASH_BYTES);
    cp.time = ewh_now();
    if (ewh_checkpoint_sign(&cp, key, &cpbuf, &cplen, err) != 0)
        goto out;
    if ((c = ewh__checkpoint__unpack(NULL, cplen, cpbuf)) == NULL) {
        ewh_err_set(err, EWH_E_CRYPTO, "cannot read own checkpoint");
        goto out;
    }
    ap.from_length = from_length;
    ap.n_entries = p.n;
    ap.entries = p.ep;
    ap.checkpoint = c;
    ap.complete = p.n < p.cap || p.last >= length;
    if (found) {
        ap.from_head.data = from_head;
        ap.from_head.len = EWH_HASH_BYTES;
    }
    f.msg_case = EWH__FRAME__MSG_AUDIT_PROOF;
    f.audit_proof = &ap;
    if (ewh_frame_encode(&f, out, out_len, err) != 0)
        goto out;
    ret = 0;
out:
    if (c != NULL)
        ewh__checkpoint__free_unpacked(c, NULL);
    free(cpbuf);
    free(p.e);
    free(p.ep);
    free(p.ids);
    free(p.hashes);
    free(p.origins);
    return ret;
}

/* ---- verify ---- */

/* Hashes here are public; a plain comparison will do. */
static bool
s_differ(const uint8_t *a, const uint8_t *b)
{
    return memcmp(a, b, EWH_HASH_BYTES) != 0;
}

struct s_verify {
    struct hub_audit_result *r;
    FILE *out;
    size_t max_lines;
    uint64_t expect_n;
    uint8_t head[EWH_HASH_BYTES];
    /* recomputed heads, index n (0: genesis), for the checkpoints */
    uint8_t (*heads)[EWH_HASH_BYTES];
    size_t n_heads, cap_heads;
    const uint8_t (*keys)[32]; /* the rotation chain, oldest first */
    size_t n_keys, key_at;     /* key_at: the key of the last checkpoint */
    bool broken; /* heads past the first break are not comparable */
};

static void EWH_PRINTF(2, 3) s_problem(struct s_verify *v, const char *fmt, ...)
{
    char line[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (v->r->problems == 0)
        snprintf(v->r->first, sizeof(v->r->first), "%s", line);
    if (v->out != NULL && v->r->problems < v->max_lines)
        fprintf(v->out, "MISMATCH %s\n", line);
    v->r->problems++;
}

static int
s_push_head(struct s_verify *v)
{
    if (v->n_heads == v->cap_heads) {
        size_t ncap = v->cap_heads ? v->cap_heads * 2 : 1024;
        void *np = realloc(v->heads, ncap * sizeof(*v->heads));
        if (np == NULL)
            return -1;
        v->heads = np;
        v->cap_heads = ncap;
    }
    memcpy(v->heads[v->n_heads++], v->head, EWH_HASH_BYTES);
    return 0;
}

static int
s_verify_row(void *ctx, const struct hub_audit_row *row)
{
    struct s_verify *v = ctx;
    uint8_t h[EWH_HASH_BYTES];
    char hex[2 * EWH_ID_BYTES + 1];

    ewh_hex(row->id, EWH_ID_BYTES, hex, sizeof(hex));
    v->r->entries++;
    if (row->n != v->expect_n) {
        s_problem(v,
                  "entry %llu: expected entry %llu next (an entry is missing "
                  "or moved)",
                  (unsigned long long)row->n, (unsigned long long)v->expect_n);
        v->broken = true;
    }
    v->expect_n = row->n + 1;
    if (row->bad_row) {
        s_problem(v, "entry %llu id %s: malformed row",
                  (unsigned long long)row->n, hex);
        v->broken = true;
        return 0;
    }
    ewh_audit_next(v->head, row->id, row->hash, row->origin, row->received_at,
                   v->head);
    if (s_differ(v->head, row->head)) {
        if (!v->broken)
            s_problem(v,
                      "entry %llu id %s: chain head differs from the "
                      "recomputed one (entry changed, removed or reordered)",
                      (unsigned long long)row->n, hex);
        v->broken = true;
        /* Go on from the stored head, to report later breaks as well. */
        memcpy(v->head, row->head, EWH_HASH_BYTES);
    }
    if (!v->broken && s_push_head(v) != 0)
        return 1;
    if (row->env == NULL) {
        s_problem(v, "entry %llu id %s: envelope missing from the store",
                  (unsigned long long)row->n, hex);
        return 0;
    }
    if (row->env_len == 0) {
        /* Retention empties an envelope only once every delivery of it is
         * final; one emptied while still queued is a lost report. */
        if (row->queued > 0) {
            s_problem(v,
                      "entry %llu id %s: envelope emptied while %llu "
                      "deliveries are still queued (report lost)",
                      (unsigned long long)row->n, hex,
                      (unsigned long long)row->queued);
            return 0;
        }
        v->r->pruned++;
        return 0;
    }
    v->r->envelopes++;
    ewh_audit_envelope_hash(row->env, row->env_len, h);
    if (s_differ(h, row->hash))
        s_problem(v,
                  "entry %llu id %s: stored envelope does not match its "
                  "hash in the chain (envelope changed)",
                  (unsigned long long)row->n, hex);
    else if (strcmp(row->env_origin, row->origin) != 0 ||
             row->env_received_at != row->received_at)
        s_problem(v,
                  "entry %llu id %s: envelope's origin or received time "
                  "differs from the chain's",
                  (unsigned long long)row->n, hex);
    return 0;
}

static int
s_verify_cp(void *ctx, uint64_t length, const uint8_t *buf, size_t len)
{
    struct s_verify *v = ctx;
    struct ewh_checkpoint cp;
    struct ewh_err e = {0};

    size_t k;

    v->r->checkpoints++;
    /* The key in force: the last one's, or one rotated in after it. */
    for (k = v->key_at; k < v->n_keys; k++)
        if (ewh_checkpoint_verify(buf, len, v->keys[k], &cp, &e) == 0)
            break;
    if (k == v->n_keys) {
        for (k = 0; k < v->key_at; k++)
            if (ewh_checkpoint_verify(buf, len, v->keys[k], &cp, NULL) == 0)
                break;
        if (k < v->key_at)
            s_problem(v,
                      "checkpoint %llu: signed with hub key %zu of the "
                      "rotation chain, retired before an earlier "
                      "checkpoint's key %zu",
                      (unsigned long long)length, k + 1, v->key_at + 1);
        else
            s_problem(v, "checkpoint %llu: %s (tried %zu hub key%s)",
                      (unsigned long long)length, e.reason, v->n_keys,
                      v->n_keys == 1 ? "" : "s");
        return 0;
    }
    v->key_at = k;
    if (cp.length != length) {
        s_problem(v, "checkpoint %llu: signed for length %llu",
                  (unsigned long long)length, (unsigned long long)cp.length);
        return 0;
    }
    if (length >= v->n_heads) {
        if (!v->broken)
            s_problem(v, "checkpoint %llu: beyond the chain (length %zu)",
                      (unsigned long long)length,
                      v->n_heads > 0 ? v->n_heads - 1 : 0);
        return 0;
    }
    if (s_differ(v->heads[length], cp.head))
        s_problem(v,
                  "checkpoint %llu: signed head differs from the recomputed "
                  "head at entry %llu",
                  (unsigned long long)length, (unsigned long long)length);
    return 0;
}

static void
s_unchained(void *ctx, const uint8_t *id, size_t id_len, const char *origin)
{
    struct s_verify *v = ctx;
    char hex[2 * EWH_ID_BYTES + 1] = "?";

    if (id_len == EWH_ID_BYTES)
        ewh_hex(id, EWH_ID_BYTES, hex, sizeof(hex));
    s_problem(v, "envelope id %s from %s is in no chain entry", hex, origin);
}

int
hub_audit_verify(hub_store_t *st, const uint8_t (*keys)[32], size_t n_keys,
                 FILE *out, size_t max_lines, struct hub_audit_result *r,
                 struct ewh_err *err)
{
    struct s_verify v;
    int ret = -1;

    memset(r, 0, sizeof(*r));
    memset(&v, 0, sizeof(v));
    v.r = r;
    v.out = out;
    v.max_lines = max_lines;
    v.expect_n = 1;
    v.keys = keys;
    v.n_keys = n_keys;
    if (s_push_head(&v) != 0) /* genesis */
        goto nomem;
    if (hub_store_audit_walk(st, 0, 0, s_verify_row, &v, err) != 0)
        goto out;
    if (v.n_heads != r->entries + 1 && !v.broken)
        goto nomem;
    if (hub_store_checkpoint_walk(st, s_verify_cp, &v, err) != 0 ||
        hub_store_unchained(st, s_unchained, &v, err) != 0)
        goto out;
    ret = 0;
    goto out;
nomem:
    ret = ewh_err_set(err, EWH_E_NOMEM, "out of memory");
out:
    free(v.heads);
    return ret;
}

int
hub_audit_claim_check(hub_store_t *st, uint64_t chain_len,
                      const struct hub_audit_restore *rs,
                      const struct hub_audit_claim *c,
                      enum hub_claim_kind *kind,
                      uint8_t chain_head[EWH_HASH_BYTES], struct ewh_err *err)
{
    bool found = false;

    /* After a recorded restore the chain grows again (the nodes refill
     * it) over lengths the lost history had: a checkpoint signed before
     * the restore (or in its second: the hub was stopped then), beyond
     * the length restored, names that lost history, whether the chain is
     * as long again or not. */
    bool lost = rs != NULL && rs->at > 0 && c->length > rs->length &&
                c->time > 0 && c->time <= rs->at;

    memset(chain_head, 0, EWH_HASH_BYTES);
    if (c->length > chain_len) {
        *kind = lost ? HUB_CLAIM_SUPERSEDED : HUB_CLAIM_BEYOND;
        return 0;
    }
    if (hub_store_audit_head_at(st, c->length, chain_head, &found, err) != 0)
        return -1;
    if (!found)
        return ewh_err_set(
            err, EWH_E_STORE, "store: no audit entry %llu in a chain of %llu",
            (unsigned long long)c->length, (unsigned long long)chain_len);
    if (!s_differ(chain_head, c->head)) {
        *kind = HUB_CLAIM_ON_CHAIN;
        return 0;
    }
    *kind = lost ? HUB_CLAIM_SUPERSEDED : HUB_CLAIM_DIFFERS;
    return 0;
}
