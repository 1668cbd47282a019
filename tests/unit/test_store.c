/* test_store.c — the hub store (hub/store*.c) on real SQLite files:
 * roster, envelopes and their deliveries, the in-memory queue depth
 * following commits (and only commits), expiry, relays, audit, events;
 * and the faults: another connection holding the write lock (BUSY), a
 * full disk (a max_pages quota), a failing write (a VFS whose writes fail
 * on demand, as SQLite's own fault tests do). */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "ewh/util.h"

static char s_dir[] = "/tmp/ewh-test-store-XXXXXX";
static char s_path[256];
static int s_n;

/* ---- a VFS whose writes fail while s_fail_writes is set ---- */

static sqlite3_vfs *s_real;
static sqlite3_vfs s_faulty;
static int s_fail_writes;
static const sqlite3_io_methods *s_real_io;
static sqlite3_io_methods s_faulty_io;

struct s_file {
    sqlite3_file base;
    sqlite3_file *real; /* follows this struct */
};

static int
s_f_close(sqlite3_file *f)
{
    struct s_file *p = (struct s_file *)f;
    return p->real->pMethods->xClose(p->real);
}
static int
s_f_read(sqlite3_file *f, void *b, int n, sqlite3_int64 o)
{
    struct s_file *p = (struct s_file *)f;
    return p->real->pMethods->xRead(p->real, b, n, o);
}
static int
s_f_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 o)
{
    struct s_file *p = (struct s_file *)f;
    if (s_fail_writes)
        return SQLITE_IOERR_WRITE;
    return p->real->pMethods->xWrite(p->real, b, n, o);
}
static int
s_f_truncate(sqlite3_file *f, sqlite3_int64 n)
{
    struct s_file *p = (struct s_file *)f;
    return p->real->pMethods->xTruncate(p->real, n);
}
static int
s_f_sync(sqlite3_file *f, int flags)
{
    struct s_file *p = (struct s_file *)f;
    return p->real->pMethods->xSync(p->real, flags);
}
static int
s_f_size(sqlite3_file *f, sqlite3_int64 *n)
{
    struct s_file *p = (struct s_file *)f;
    return p->real->pMethods->xFileSize(p->real, n);
}
static int
s_f_lock(sqlite3_file *f, int l)
{
    struct s_file *p = (struct s_file *)f;
    return p->real->pMethods->xLock(p->real, l);
}
static int
s_f_unlock(sqlite3_file *f, int l)
{
    struct s_file *p = (struct s_file *)f;
    return p->real->pMethods->xUnlock(p->real, l);
}
static int
s_f_check(sqlite3_file *f, int *out)
{
    struct s_file *p = (struct s_file *)f;
    return p->real->pMethods->xCheckReservedLock(p->real, out);
}
static int
s_f_ctl(sqlite3_file *f, int op, void *arg)
{
    struct s_file *p = (struct s_file *)f;
    return p->real->pMethods->xFileControl(p->real, op, arg);
}
static int
s_f_sector(sqlite3_file *f)
{
    struct s_file *p = (struct s_file *)f;
    return p->real->pMethods->xSectorSize(p->real);
}
static int
s_f_dev(sqlite3_file *f)
{
    struct s_file *p = (struct s_file *)f;
    return p->real->pMethods->xDeviceCharacteristics(p->real);
}
static int
s_f_shmmap(sqlite3_file *f, int pg, int sz, int ext, void volatile **pp)
{
    struct s_file *p = (struct s_file *)f;
    return p->real->pMethods->xShmMap(p->real, pg, sz, ext, pp);
}
static int
s_f_shmlock(sqlite3_file *f, int off, int n, int flags)
{
    struct s_file *p = (struct s_file *)f;
    return p->real->pMethods->xShmLock(p->real, off, n, flags);
}
static void
s_f_shmbarrier(sqlite3_file *f)
{
    struct s_file *p = (struct s_file *)f;
    p->real->pMethods->xShmBarrier(p->real);
}
static int
s_f_shmunmap(sqlite3_file *f, int del)
{
    struct s_file *p = (struct s_file *)f;
    return p->real->pMethods->xShmUnmap(p->real, del);
}

static int
s_v_open(sqlite3_vfs *v, const char *name, sqlite3_file *f, int flags, int *out)
{
    struct s_file *p = (struct s_file *)f;
    int rc;

    (void)v;
    p->real = (sqlite3_file *)(p + 1);
    rc = s_real->xOpen(s_real, name, p->real, flags, out);
    if (rc != SQLITE_OK) {
        p->base.pMethods = NULL;
        return rc;
    }
    if (s_real_io == NULL) {
        s_real_io = p->real->pMethods;
        s_faulty_io = *s_real_io;
        s_faulty_io.iVersion =
            s_real_io->iVersion < 2 ? s_real_io->iVersion : 2;
        s_faulty_io.xClose = s_f_close;
        s_faulty_io.xRead = s_f_read;
        s_faulty_io.xWrite = s_f_write;
        s_faulty_io.xTruncate = s_f_truncate;
        s_faulty_io.xSync = s_f_sync;
        s_faulty_io.xFileSize = s_f_size;
        s_faulty_io.xLock = s_f_lock;
        s_faulty_io.xUnlock = s_f_unlock;
        s_faulty_io.xCheckReservedLock = s_f_check;
        s_faulty_io.xFileControl = s_f_ctl;
        s_faulty_io.xSectorSize = s_f_sector;
        s_faulty_io.xDeviceCharacteristics = s_f_dev;
        s_faulty_io.xShmMap = s_f_shmmap;
        s_faulty_io.xShmLock = s_f_shmlock;
        s_faulty_io.xShmBarrier = s_f_shmbarrier;
        s_faulty_io.xShmUnmap = s_f_shmunmap;
    }
    p->base.pMethods = &s_faulty_io;
    return SQLITE_OK;
}

static void
s_vfs_install(void)
{
    s_real = sqlite3_vfs_find(NULL);
    s_faulty = *s_real;
    s_faulty.iVersion = 1 < s_real->iVersion ? s_real->iVersion : 1;
    s_faulty.zName = "ewh-faulty";
    s_faulty.szOsFile = (int)sizeof(struct s_file) + s_real->szOsFile;
    s_faulty.xOpen = s_v_open;
    CHECK(sqlite3_vfs_register(&s_faulty, 1) == SQLITE_OK); /* default */
}

/* ---- helpers ---- */

static hub_store_t *
s_open(uint64_t max_pages)
{
    struct ewh_err err = {0};
    hub_store_t *st;

    snprintf(s_path, sizeof(s_path), "%s/hub%d.db", s_dir, ++s_n);
    st = hub_store_open(s_path, HUB_STORE_CREATE, max_pages, &err);
    if (st == NULL) {
        fprintf(stderr, "open: %s\n", err.reason);
        exit(1);
    }
    return st;
}

static void
s_enrol(hub_store_t *st, const char *cc)
{
    struct ewh_err err = {0};
    struct ewh_pubid id;
    bool changed = false;

    memset(&id, 0, sizeof(id));
    id.kind = EWH_KIND_NODE;
    snprintf(id.country, sizeof(id.country), "%s", cc);
    memset(id.curve, cc[0], sizeof(id.curve));
    memset(id.sign, cc[1], sizeof(id.sign));
    memset(id.box, 7, sizeof(id.box));
    CHECK_OK(hub_store_node_put(st, &id, &changed, &err), &err);
    CHECK(changed);
}

static void
s_header(struct ewh_header *h, unsigned n, const char *origin,
         enum ewh_level level, int64_t expires_at, const char *to1,
         const char *to2)
{
    memset(h, 0, sizeof(*h));
    h->version = 1;
    memset(h->id, 0, sizeof(h->id));
    h->id[0] = (uint8_t)(n >> 8);
    h->id[15] = (uint8_t)n;
    snprintf(h->origin, sizeof(h->origin), "%s", origin);
    h->level = level;
    h->created_at = ewh_now();
    h->expires_at = expires_at;
    snprintf(h->recipients[0], EWH_CC_BYTES, "%s", to1);
    h->n_recipients = 1;
    if (to2 != NULL) {
        snprintf(h->recipients[1], EWH_CC_BYTES, "%s", to2);
        h->n_recipients = 2;
    }
}

static void
s_hash(uint8_t hash[EWH_HASH_BYTES], unsigned n)
{
    memset(hash, 0, EWH_HASH_BYTES);
    hash[0] = (uint8_t)n;
    hash[1] = 0xaa;
}

/* Add one report in its own transaction. */
static int
s_add(hub_store_t *st, unsigned n, const char *to1, const char *to2,
      enum ewh_level level, int64_t expires_at, size_t size,
      struct ewh_err *err)
{
    struct ewh_header h;
    uint8_t hash[EWH_HASH_BYTES], *env = calloc(1, size);
    int rc = -1;

    CHECK(env != NULL);
    memset(env, (int)n, size);
    s_header(&h, n, "RS", level, expires_at, to1, to2);
    s_hash(hash, n);
    if (hub_store_begin(st, err) != 0)
        goto out;
    if (hub_store_envelope_add(st, env, size, &h, hash, ewh_now(), err) != 0 ||
        hub_store_commit(st, err) != 0) {
        hub_store_rollback(st);
        goto out;
    }
    rc = 0;
out:
    free(env);
    return rc;
}

static uint64_t
s_queued(hub_store_t *st, const char *cc)
{
    struct ewh_err err = {0};
    uint64_t n = 99;

    CHECK_OK(hub_store_queued(st, cc, &n, &err), &err);
    return n;
}

struct s_rows {
    uint64_t seq[16];
    enum ewh_level level[16];
    size_t n;
};

static int
s_row(void *ctx, const struct hub_qrow *row)
{
    struct s_rows *r = ctx;

    if (r->n < 16) {
        r->seq[r->n] = row->seq;
        r->level[r->n] = row->level;
        r->n++;
    }
    return 0;
}

/* ---- cases ---- */

static void
test_roster(void)
{
    struct ewh_err err = {0};
    hub_store_t *st = s_open(0);
    ewh_roster_t *r = NULL;
    uint64_t v0 = 0, v = 0;
    bool changed = true, rev = false;
    struct ewh_pubid id;

    CHECK_OK(hub_store_roster_version(st, &v0, &err), &err);
    s_enrol(st, "RS");
    s_enrol(st, "HR");
    CHECK_OK(hub_store_roster_version(st, &v, &err), &err);
    CHECK(v == v0 + 2);
    /* the same keys again change nothing */
    memset(&id, 0, sizeof(id));
    id.kind = EWH_KIND_NODE;
    snprintf(id.country, sizeof(id.country), "RS");
    memset(id.curve, 'R', 32);
    memset(id.sign, 'S', 32);
    memset(id.box, 7, 32);
    CHECK_OK(hub_store_node_put(st, &id, &changed, &err), &err);
    CHECK(!changed);
    CHECK_OK(hub_store_node_revoke(st, "HR", &changed, &err), &err);
    CHECK(changed);
    CHECK_OK(hub_store_node_revoke(st, "HR", &changed, &err), &err);
    CHECK(!changed);
    CHECK_FAILS(hub_store_node_revoke(st, "BG", &changed, &err), &err,
                EWH_E_NOTFOUND, "BG is not enrolled");
    CHECK_OK(hub_store_roster_load(st, &r, &err), &err);
    CHECK(ewh_roster_count(r) == 2);
    CHECK(ewh_roster_version(r) == v0 + 3);
    CHECK(ewh_roster_find(r, "HR", &rev) != NULL && rev);
    CHECK(ewh_roster_find(r, "RS", &rev) != NULL && !rev);
    ewh_roster_destroy(&r);
    hub_store_close(&st);
    CHECK(st == NULL);
}

/* The depth of each queue follows the commits, and only them. */
static void
test_queue_depth(void)
{
    struct ewh_err err = {0};
    hub_store_t *st = s_open(0);
    struct ewh_header h;
    uint8_t hash[EWH_HASH_BYTES], env[64] = {0};
    enum hub_env_match m;
    struct s_rows rows = {0};
    uint64_t q[4];
    bool changed = false;
    enum ewh_level level;

    CHECK_OK(hub_store_queue_open(st, &err), &err);
    CHECK(s_queued(st, "HR") == 0);
    CHECK_OK(s_add(st, 1, "HR", "BG", EWH_LEVEL_LOW, 0, 100, &err), &err);
    CHECK_OK(s_add(st, 2, "HR", NULL, EWH_LEVEL_HIGH, 0, 100, &err), &err);
    CHECK(s_queued(st, "HR") == 2);
    CHECK(s_queued(st, "BG") == 1);
    CHECK_OK(hub_store_queued_levels(st, "HR", q, &err), &err);
    CHECK(q[0] == 0 && q[EWH_LEVEL_LOW] == 1 && q[EWH_LEVEL_MEDIUM] == 0 &&
          q[EWH_LEVEL_HIGH] == 1);
    /* a transaction rolled back leaves the depth as it was, also after
     * the next commit */
    s_header(&h, 3, "RS", EWH_LEVEL_HIGH, 0, "HR", NULL);
    s_hash(hash, 3);
    CHECK_OK(hub_store_begin(st, &err), &err);
    CHECK_OK(
        hub_store_envelope_add(st, env, sizeof(env), &h, hash, ewh_now(), &err),
        &err);
    CHECK(s_queued(st, "HR") == 2); /* not before the commit */
    hub_store_rollback(st);
    CHECK(s_queued(st, "HR") == 2);
    CHECK_OK(hub_store_envelope_find(st, h.id, hash, &m, &err), &err);
    CHECK(m == HUB_ENV_NEW);
    CHECK_OK(s_add(st, 4, "BG", NULL, EWH_LEVEL_MEDIUM, 0, 100, &err), &err);
    CHECK(s_queued(st, "HR") == 2);
    CHECK(s_queued(st, "BG") == 2);
    /* duplicates and ids reused */
    s_header(&h, 1, "RS", EWH_LEVEL_LOW, 0, "HR", NULL);
    s_hash(hash, 1);
    CHECK_OK(hub_store_envelope_find(st, h.id, hash, &m, &err), &err);
    CHECK(m == HUB_ENV_SAME);
    hash[5] ^= 1;
    CHECK_OK(hub_store_envelope_find(st, h.id, hash, &m, &err), &err);
    CHECK(m == HUB_ENV_OTHER);
    /* the walk: high first, then low */
    CHECK_OK(hub_store_queue_walk(st, "HR", 10, NULL, NULL, s_row, &rows, &err),
             &err);
    CHECK(rows.n == 2);
    CHECK(rows.level[0] == EWH_LEVEL_HIGH && rows.level[1] == EWH_LEVEL_LOW);
    /* delivered: once, by its recipient, with its id */
    s_header(&h, 2, "RS", EWH_LEVEL_HIGH, 0, "HR", NULL);
    CHECK_OK(hub_store_begin(st, &err), &err);
    CHECK_OK(hub_store_queue_done(st, "BG", rows.seq[0], h.id, &changed, &level,
                                  &err),
             &err);
    CHECK(!changed); /* not BG's */
    CHECK_OK(hub_store_queue_done(st, "HR", rows.seq[0], h.id, &changed, &level,
                                  &err),
             &err);
    CHECK(changed && level == EWH_LEVEL_HIGH);
    CHECK(s_queued(st, "HR") == 2);
    CHECK_OK(hub_store_commit(st, &err), &err);
    CHECK(s_queued(st, "HR") == 1);
    CHECK_OK(hub_store_begin(st, &err), &err);
    CHECK_OK(hub_store_queue_done(st, "HR", rows.seq[0], h.id, &changed, &level,
                                  &err),
             &err);
    CHECK(!changed); /* already delivered */
    CHECK_OK(hub_store_commit(st, &err), &err);
    CHECK(s_queued(st, "HR") == 1);
    hub_store_close(&st);
}

struct s_exp {
    hub_store_t *st;
    size_t n;
    int fail;
};

static int
s_on_expired(void *ctx, const char *cc, const uint8_t id[EWH_ID_BYTES],
             const char *origin, int64_t now, struct ewh_err *err)
{
    struct s_exp *e = ctx;
    uint8_t payload[3] = {1, 2, 3};

    (void)id;
    (void)now;
    CHECK(strcmp(origin, "RS") == 0);
    CHECK(strcmp(cc, "HR") == 0 || strcmp(cc, "BG") == 0);
    if (e->fail)
        return ewh_err_set(err, EWH_E_STORE, "refused by the test");
    e->n++;
    return hub_store_relay_add(e->st, origin, HUB_RELAY_NOTICE, payload,
                               sizeof(payload), err);
}

static int
s_count_relay(void *ctx, const struct hub_relay *r)
{
    size_t *n = ctx;

    CHECK(r->kind == HUB_RELAY_NOTICE && r->len == 3);
    (*n)++;
    return 0;
}

static void
test_expire(void)
{
    struct ewh_err err = {0};
    hub_store_t *st = s_open(0);
    struct s_exp e = {.st = st};
    size_t n = 0, relays = 0;

    CHECK_OK(hub_store_queue_open(st, &err), &err);
    CHECK_OK(s_add(st, 1, "HR", "BG", EWH_LEVEL_LOW, ewh_now() - 5, 100, &err),
             &err);
    CHECK_OK(
        s_add(st, 2, "HR", NULL, EWH_LEVEL_LOW, ewh_now() + 3600, 100, &err),
        &err);
    CHECK(s_queued(st, "HR") == 2);
    /* the callback's failure fails the sweep, and nothing changes */
    e.fail = 1;
    CHECK_OK(hub_store_begin(st, &err), &err);
    CHECK_FAILS(
        hub_store_expire(st, ewh_now(), NULL, s_on_expired, &e, &n, &err), &err,
        EWH_E_STORE, "refused by the test");
    hub_store_rollback(st);
    CHECK(s_queued(st, "HR") == 2);
    e.fail = 0;
    CHECK_OK(hub_store_begin(st, &err), &err);
    CHECK_OK(hub_store_expire(st, ewh_now(), NULL, s_on_expired, &e, &n, &err),
             &err);
    CHECK_OK(hub_store_commit(st, &err), &err);
    CHECK(n == 2 && e.n == 2);
    CHECK(s_queued(st, "HR") == 1);
    CHECK(s_queued(st, "BG") == 0);
    CHECK_OK(hub_store_relay_walk(st, "RS", 10, s_count_relay, &relays, &err),
             &err);
    CHECK(relays == 2);
    hub_store_close(&st);
}

static int
s_count_ev(void *ctx, const struct hub_event *ev)
{
    size_t *n = ctx;

    CHECK(ev->kind == HUB_EV_REFUSED);
    CHECK(strcmp(ev->code, "rate-limit") == 0);
    (*n)++;
    return 0;
}

static void
test_audit_events(void)
{
    struct ewh_err err = {0};
    hub_store_t *st = s_open(0);
    uint8_t id[EWH_ID_BYTES] = {1}, hash[EWH_HASH_BYTES] = {2};
    uint8_t head[EWH_HASH_BYTES] = {3}, got[EWH_HASH_BYTES];
    struct hub_event ev;
    uint64_t len = 9;
    size_t n = 0;
    bool found = false;
    int i;

    CHECK_OK(hub_store_audit_head(st, &len, got, &err), &err);
    CHECK(len == 0);
    CHECK_OK(hub_store_begin(st, &err), &err);
    CHECK_OK(hub_store_audit_append(st, 1, id, hash, "RS", 5, head, &err),
             &err);
    for (i = 0; i < 5; i++) {
        memset(&ev, 0, sizeof(ev));
        ev.at = ewh_now();
        ev.kind = HUB_EV_REFUSED;
        ev.size = -1;
        snprintf(ev.code, sizeof(ev.code), "rate-limit");
        CHECK_OK(hub_store_event_add(st, &ev, &err), &err);
    }
    CHECK_OK(hub_store_events_trim(st, 3, &err), &err);
    CHECK_OK(hub_store_commit(st, &err), &err);
    CHECK_OK(hub_store_audit_head(st, &len, got, &err), &err);
    CHECK(len == 1 && memcmp(got, head, sizeof(head)) == 0);
    CHECK_OK(hub_store_audit_head_at(st, 1, got, &found, &err), &err);
    CHECK(found && memcmp(got, head, sizeof(head)) == 0);
    CHECK_OK(hub_store_audit_head_at(st, 2, got, &found, &err), &err);
    CHECK(!found);
    CHECK_OK(hub_store_event_walk(st, 0, 0, 100, s_count_ev, &n, &err), &err);
    CHECK(n == 3);
    hub_store_close(&st);
}

/* Another connection holds the write lock longer than the busy timeout:
 * the store says EWH_E_BUSY (retryable), changes nothing, and works once
 * the lock is gone. */
static void
test_busy(void)
{
    struct ewh_err err = {0};
    hub_store_t *st = s_open(0);
    sqlite3 *other = NULL;

    CHECK_OK(hub_store_queue_open(st, &err), &err);
    CHECK(sqlite3_open(s_path, &other) == SQLITE_OK);
    CHECK(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL) ==
          SQLITE_OK);
    fprintf(stderr, "    (waiting out the busy timeout)\n");
    CHECK_FAILS(s_add(st, 1, "HR", NULL, EWH_LEVEL_HIGH, 0, 100, &err), &err,
                EWH_E_BUSY, "locked");
    CHECK(ewh_errcode_is_retryable(err.code));
    CHECK(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(other);
    CHECK(s_queued(st, "HR") == 0);
    CHECK_OK(s_add(st, 1, "HR", NULL, EWH_LEVEL_HIGH, 0, 100, &err), &err);
    CHECK(s_queued(st, "HR") == 1);
    hub_store_close(&st);
}

/* A quota stands in for a full disk: EWH_E_DISKFULL, the failed report
 * leaves no trace (not stored, not counted), what was stored stays. */
static void
test_full(void)
{
    struct ewh_err err = {0};
    hub_store_t *st = s_open(64);
    struct ewh_header h;
    uint8_t hash[EWH_HASH_BYTES];
    enum hub_env_match m;
    unsigned i, ok = 0;
    int rc = 0;

    CHECK_OK(hub_store_queue_open(st, &err), &err);
    for (i = 1; i < 1000 && rc == 0; i++) {
        rc = s_add(st, i, "HR", NULL, EWH_LEVEL_MEDIUM, 0, 3000, &err);
        ok += rc == 0;
    }
    CHECK(rc == -1);
    CHECK(err.code == EWH_E_DISKFULL);
    CHECK(strstr(err.reason, "store full") != NULL);
    CHECK(ok > 0);
    CHECK(s_queued(st, "HR") == ok);
    s_header(&h, ok + 1, "RS", EWH_LEVEL_MEDIUM, 0, "HR", NULL);
    s_hash(hash, ok + 1);
    CHECK_OK(hub_store_envelope_find(st, h.id, hash, &m, &err), &err);
    CHECK(m == HUB_ENV_NEW);
    s_header(&h, ok, "RS", EWH_LEVEL_MEDIUM, 0, "HR", NULL);
    s_hash(hash, ok);
    CHECK_OK(hub_store_envelope_find(st, h.id, hash, &m, &err), &err);
    CHECK(m == HUB_ENV_SAME);
    CHECK_OK(hub_store_check(st, &err), &err);
    hub_store_close(&st);
}

/* A write fails (an I/O error): EWH_E_DISKFULL ("store write failed"),
 * nothing of the transaction stays, and the store goes on once writes
 * succeed again. */
static void
test_failing_write(void)
{
    struct ewh_err err = {0};
    hub_store_t *st = s_open(0);
    struct ewh_header h;
    uint8_t hash[EWH_HASH_BYTES];
    enum hub_env_match m;

    CHECK_OK(hub_store_queue_open(st, &err), &err);
    CHECK_OK(s_add(st, 1, "HR", NULL, EWH_LEVEL_HIGH, 0, 100, &err), &err);
    s_fail_writes = 1;
    CHECK_FAILS(s_add(st, 2, "HR", NULL, EWH_LEVEL_HIGH, 0, 100, &err), &err,
                EWH_E_DISKFULL, "store write failed");
    s_fail_writes = 0;
    CHECK(ewh_errcode_is_retryable(err.code));
    CHECK(s_queued(st, "HR") == 1);
    s_header(&h, 2, "RS", EWH_LEVEL_HIGH, 0, "HR", NULL);
    s_hash(hash, 2);
    CHECK_OK(hub_store_envelope_find(st, h.id, hash, &m, &err), &err);
    CHECK(m == HUB_ENV_NEW);
    CHECK_OK(s_add(st, 2, "HR", NULL, EWH_LEVEL_HIGH, 0, 100, &err), &err);
    CHECK(s_queued(st, "HR") == 2);
    hub_store_close(&st);
}

/* Reopened, the depth is what the file says (the lanes are rebuilt). */
static void
test_reopen(void)
{
    struct ewh_err err = {0};
    hub_store_t *st = s_open(0);
    char path[256];

    CHECK_OK(s_add(st, 1, "HR", "BG", EWH_LEVEL_HIGH, 0, 100, &err), &err);
    CHECK_OK(s_add(st, 2, "HR", NULL, EWH_LEVEL_LOW, 0, 100, &err), &err);
    hub_store_close(&st);
    snprintf(path, sizeof(path), "%s", s_path);
    CHECK((st = hub_store_open(path, 0, 0, &err)) != NULL);
    CHECK_OK(hub_store_queue_open(st, &err), &err);
    CHECK(s_queued(st, "HR") == 2);
    CHECK(s_queued(st, "BG") == 1);
    hub_store_close(&st);
    snprintf(path, sizeof(path), "%s/none/hub.db", s_dir);
    CHECK(hub_store_open(path, 0, 0, &err) == NULL);
    CHECK(err.code == EWH_E_STORE);
}

/* ---- the annual exchange's returns ledger ---- */

struct s_rets {
    char origin[4][EWH_CC_BYTES];
    unsigned year[4];
    uint64_t n[4];
    size_t count;
};

static void
s_ret(void *ctx, const char *origin, unsigned year, uint64_t n, int64_t last)
{
    struct s_rets *r = ctx;

    CHECK(r->count < 4 && last > 0);
    snprintf(r->origin[r->count], EWH_CC_BYTES, "%s", origin);
    r->year[r->count] = year;
    r->n[r->count++] = n;
}

/* One TYPE_RETURN envelope (header year) in its own transaction, or
 * rolled back. */
static void
s_add_return(hub_store_t *st, unsigned n, const char *origin, unsigned year,
             bool commit)
{
    struct ewh_err err = {0};
    struct ewh_header h;
    uint8_t hash[EWH_HASH_BYTES], env[64];

    memset(env, (int)n, sizeof(env));
    s_header(&h, n, origin, EWH_LEVEL_LOW, 0, "BG", NULL);
    h.type = EWH_TYPE_RETURN;
    h.return_year = year;
    s_hash(hash, n);
    CHECK_OK(hub_store_begin(st, &err), &err);
    CHECK_OK(
        hub_store_envelope_add(st, env, sizeof(env), &h, hash, ewh_now(), &err),
        &err);
    if (commit)
        CHECK_OK(hub_store_commit(st, &err), &err);
    else
        hub_store_rollback(st);
}

static void
test_returns(void)
{
    struct ewh_err err = {0};
    hub_store_t *st = s_open(0);
    struct s_rets r = {0};

    CHECK_OK(hub_store_queue_open(st, &err), &err);
    CHECK_OK(hub_store_returns_walk(st, s_ret, &r, &err), &err);
    CHECK(r.count == 0);
    s_add_return(st, 10, "RS", 2026, true);
    s_add_return(st, 11, "RS", 2026, true); /* a second version */
    s_add_return(st, 12, "HR", 2025, true);
    s_add_return(st, 13, "HR", 2026, false); /* rolled back: not noted */
    CHECK_OK(s_add(st, 14, "BG", NULL, EWH_LEVEL_HIGH, 0, 64, &err), &err);
    CHECK_OK(hub_store_returns_walk(st, s_ret, &r, &err), &err);
    /* by year, then origin; an alert is not a return */
    CHECK(r.count == 2);
    CHECK(strcmp(r.origin[0], "HR") == 0 && r.year[0] == 2025 && r.n[0] == 1);
    CHECK(strcmp(r.origin[1], "RS") == 0 && r.year[1] == 2026 && r.n[1] == 2);
    hub_store_close(&st);
}

int
main(int argc, char **argv)
{
    if (mkdtemp(s_dir) == NULL)
        return 1;
    s_vfs_install();
    RUN(test_roster);
    RUN(test_queue_depth);
    RUN(test_expire);
    RUN(test_audit_events);
    RUN(test_full);
    RUN(test_failing_write);
    RUN(test_reopen);
    RUN(test_returns);
    /* slow (the busy timeout): last, and skippable by hand with "quick" */
    if (argc < 2 || strcmp(argv[1], "quick") != 0)
        RUN(test_busy);
    /* the temp dir's files: removed with it */
    {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s_dir);
        if (system(cmd) != 0)
            return 1;
    }
    return 0;
}
