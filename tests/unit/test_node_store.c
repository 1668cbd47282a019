/*
 * test_node_store.c — the node store (node/store*.c) on real SQLite files:
 * the outbox, inbox, receipts and checkpoints, and its faults.  Faults are
 * real or injected the way SQLite's own tests inject them: another
 * connection holding the write lock (SQLITE_BUSY), a quota through
 * PRAGMA max_page_count (SQLITE_FULL), and a VFS shim in front of the
 * default VFS whose reads, writes or fsyncs fail on demand
 * (SQLITE_IOERR_READ, _WRITE, _FSYNC).  No fault may come back as a
 * default value or as "no rows".
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"

/* ---- a VFS shim that fails on demand ---- */

static int s_fail_read, s_fail_write, s_fail_sync;
static int s_reads_left = -1; /* >= 0: the read after that many fails */
static int s_fired;           /* ... and it did */
static sqlite3_vfs *s_real;
static sqlite3_vfs s_vfs;

struct s_file {
    sqlite3_file base;
    sqlite3_file *real; /* the real file, allocated right after this */
};

#define REAL(f) (((struct s_file *)(f))->real)

static int
s_xclose(sqlite3_file *f)
{
    return REAL(f)->pMethods->xClose(REAL(f));
}

static int
s_xread(sqlite3_file *f, void *buf, int amt, sqlite3_int64 off)
{
    if (s_reads_left == 0) {
        s_reads_left = -1; /* once: the reads after it work again */
        s_fired = 1;
        return SQLITE_IOERR_READ;
    }
    if (s_reads_left > 0)
        s_reads_left--;
    if (s_fail_read)
        return SQLITE_IOERR_READ;
    return REAL(f)->pMethods->xRead(REAL(f), buf, amt, off);
}

static int
s_xwrite(sqlite3_file *f, const void *buf, int amt, sqlite3_int64 off)
{
    if (s_fail_write)
        return SQLITE_IOERR_WRITE;
    return REAL(f)->pMethods->xWrite(REAL(f), buf, amt, off);
}

static int
s_xtruncate(sqlite3_file *f, sqlite3_int64 size)
{
    return REAL(f)->pMethods->xTruncate(REAL(f), size);
}

static int
s_xsync(sqlite3_file *f, int flags)
{
    if (s_fail_sync)
        return SQLITE_IOERR_FSYNC;
    return REAL(f)->pMethods->xSync(REAL(f), flags);
}

static int
s_xfilesize(sqlite3_file *f, sqlite3_int64 *size)
{
    return REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int
s_xlock(sqlite3_file *f, int l)
{
    return REAL(f)->pMethods->xLock(REAL(f), l);
}

static int
s_xunlock(sqlite3_file *f, int l)
{
    return REAL(f)->pMethods->xUnlock(REAL(f), l);
}

static int
s_xreserved(sqlite3_file *f, int *out)
{
    return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int
s_xfilecontrol(sqlite3_file *f, int op, void *arg)
{
    return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int
s_xsectorsize(sqlite3_file *f)
{
    return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int
s_xdevchar(sqlite3_file *f)
{
    return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int
s_xshmmap(sqlite3_file *f, int pg, int sz, int extend, void volatile **pp)
{
    return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, extend, pp);
}

static int
s_xshmlock(sqlite3_file *f, int off, int n, int flags)
{
    return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}

static void
s_xshmbarrier(sqlite3_file *f)
{
    REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int
s_xshmunmap(sqlite3_file *f, int del)
{
    return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

static int
s_xfetch(sqlite3_file *f, sqlite3_int64 off, int amt, void **pp)
{
    (void)f;
    (void)off;
    (void)amt;
    *pp = NULL; /* no memory map: every read goes through xRead */
    return SQLITE_OK;
}

static int
s_xunfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
    (void)f;
    (void)off;
    (void)p;
    return SQLITE_OK;
}

static const sqlite3_io_methods s_io = {
    3,           s_xclose,    s_xread,        s_xwrite,
    s_xtruncate, s_xsync,     s_xfilesize,    s_xlock,
    s_xunlock,   s_xreserved, s_xfilecontrol, s_xsectorsize,
    s_xdevchar,  s_xshmmap,   s_xshmlock,     s_xshmbarrier,
    s_xshmunmap, s_xfetch,    s_xunfetch,
};

static int
s_xopen(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags,
        int *out)
{
    struct s_file *p = (struct s_file *)f;
    int rc;

    (void)vfs;
    p->real = (sqlite3_file *)(p + 1);
    rc = s_real->xOpen(s_real, name, p->real, flags, out);
    p->base.pMethods = rc == SQLITE_OK && p->real->pMethods ? &s_io : NULL;
    return rc;
}

static int
s_xdelete(sqlite3_vfs *vfs, const char *name, int sync)
{
    (void)vfs;
    return s_real->xDelete(s_real, name, sync);
}

static int
s_xaccess(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    (void)vfs;
    return s_real->xAccess(s_real, name, flags, out);
}

static int
s_xfullpath(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    (void)vfs;
    return s_real->xFullPathname(s_real, name, n, out);
}

static int
s_xrandom(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return s_real->xRandomness(s_real, n, out);
}

static int
s_xsleep(sqlite3_vfs *vfs, int us)
{
    (void)vfs;
    return s_real->xSleep(s_real, us);
}

static int
s_xtime(sqlite3_vfs *vfs, double *out)
{
    (void)vfs;
    return s_real->xCurrentTime(s_real, out);
}

static int
s_xlasterr(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return s_real->xGetLastError(s_real, n, out);
}

static int
s_xtime64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    (void)vfs;
    return s_real->xCurrentTimeInt64(s_real, out);
}

/* Put the shim in front of the default VFS, as the new default. */
static void
s_vfs_install(void)
{
    s_real = sqlite3_vfs_find(NULL);
    CHECK(s_real != NULL && s_real->iVersion >= 2);
    memset(&s_vfs, 0, sizeof(s_vfs));
    s_vfs.iVersion = 2;
    s_vfs.szOsFile = (int)sizeof(struct s_file) + s_real->szOsFile;
    s_vfs.mxPathname = s_real->mxPathname;
    s_vfs.zName = "ewh-faulty";
    s_vfs.xOpen = s_xopen;
    s_vfs.xDelete = s_xdelete;
    s_vfs.xAccess = s_xaccess;
    s_vfs.xFullPathname = s_xfullpath;
    s_vfs.xRandomness = s_xrandom;
    s_vfs.xSleep = s_xsleep;
    s_vfs.xCurrentTime = s_xtime;
    s_vfs.xGetLastError = s_xlasterr;
    s_vfs.xCurrentTimeInt64 = s_xtime64;
    CHECK(sqlite3_vfs_register(&s_vfs, 1) == SQLITE_OK);
}

/* ---- fixtures ---- */

static char s_dir[] = "/tmp/ewh-test-node-store-XXXXXX";
static char s_path[256];
static unsigned s_n; /* one file per test */

static node_store_t *
s_open(void)
{
    struct ewh_err err = {0};
    node_store_t *s;

    snprintf(s_path, sizeof(s_path), "%s/store%u.db", s_dir, ++s_n);
    s = node_store_open(s_path, true, &err);
    if (s == NULL) {
        fprintf(stderr, "open: %s\n", err.reason);
        exit(1);
    }
    return s;
}

/* Another connection to the same file (fresh page cache). */
static node_store_t *
s_reopen(void)
{
    struct ewh_err err = {0};
    node_store_t *s = node_store_open(s_path, false, &err);

    if (s == NULL) {
        fprintf(stderr, "reopen: %s\n", err.reason);
        exit(1);
    }
    return s;
}

/* A report with id 00..0n, from origin to "RS". */
static void
s_msg(struct node_msg *m, unsigned n, const char *origin, bool out,
      size_t body_len)
{
    memset(m, 0, sizeof(*m));
    snprintf(m->id, sizeof(m->id), "%032x", n);
    m->outgoing = out;
    m->type = EWH_TYPE_ALERT;
    snprintf(m->origin, sizeof(m->origin), "%s", origin);
    m->level = EWH_LEVEL_HIGH;
    snprintf(m->title, sizeof(m->title), "title %u", n);
    m->body = malloc(body_len + 1);
    CHECK(m->body != NULL);
    memset(m->body, 'b', body_len);
    m->body[body_len] = '\0';
    m->created_at = 1000 + n;
    m->expires_at = 100000;
    m->received_at = 2000 + n;
    snprintf(m->recipients[0], EWH_CC_BYTES, "RS");
    m->n_recipients = 1;
}

static void
s_add_out(node_store_t *s, unsigned n)
{
    struct ewh_err err = {0};
    struct node_msg m;
    const uint8_t env[4] = {1, 2, 3, (uint8_t)n};

    s_msg(&m, n, "HU", true, 10);
    CHECK_OK(node_store_outbox_add(s, &m, env, sizeof(env), &err), &err);
    node_msg_clear(&m);
}

static void
s_add_in(node_store_t *s, unsigned n, bool *dup, struct ewh_err *err, int *rc)
{
    struct node_msg m;
    const uint8_t env[4] = {9, 9, 9, (uint8_t)n};

    s_msg(&m, n, "AL", false, 10);
    *rc = node_store_inbox_add(s, &m, env, sizeof(env), dup, err);
    node_msg_clear(&m);
}

struct s_seen {
    size_t n;
    char ids[8][EWH_ID_HEX];
    int stop_after; /* 0: never */
};

static int
s_collect(void *ctx, int64_t seq, const char *id, const uint8_t *buf,
          size_t len)
{
    struct s_seen *v = ctx;

    (void)seq;
    (void)buf;
    (void)len;
    if (v->n < 8)
        snprintf(v->ids[v->n], EWH_ID_HEX, "%s", id);
    v->n++;
    return v->stop_after > 0 && (int)v->n >= v->stop_after;
}

static int
s_count_msg(void *ctx, const struct node_msg *m)
{
    struct s_seen *v = ctx;

    (void)m;
    v->n++;
    return 0;
}

/* ---- behaviour ---- */

static void
test_outbox_progress(void)
{
    struct ewh_err err = {0};
    node_store_t *s = s_open();
    struct s_seen v = {0};
    struct node_msg m;
    int64_t next = -1;

    s_add_out(s, 1);
    s_add_out(s, 2);
    CHECK(node_store_outbox_pending(s, 0, 0, 10, s_collect, &v, &err) == 0);
    CHECK(v.n == 2 &&
          strcmp(v.ids[0], "00000000000000000000000000000001") == 0);
    /* a walk stopped by its callback reports the stop, not an error */
    memset(&v, 0, sizeof(v));
    v.stop_after = 1;
    CHECK(node_store_outbox_pending(s, 0, 0, 10, s_collect, &v, &err) == 1);
    CHECK(v.n == 1);

    CHECK_OK(node_store_outbox_retry(s, "00000000000000000000000000000002",
                                     5000, "busy", &err),
             &err);
    CHECK_OK(node_store_outbox_next_try(s, 10, &next, &err), &err);
    CHECK(next == 5000);
    memset(&v, 0, sizeof(v));
    CHECK(node_store_outbox_pending(s, 0, 10, 10, s_collect, &v, &err) == 0);
    CHECK(v.n == 1); /* the deferred one waits */

    CHECK_OK(node_store_outbox_accepted(s, "00000000000000000000000000000001",
                                        3000, &err),
             &err);
    CHECK_OK(
        node_store_msg_get(s, "00000000000000000000000000000001", &m, &err),
        &err);
    CHECK(strcmp(m.state, "accepted") == 0);
    CHECK(m.n_rcpt == 1 && m.rcpt[0].state == NODE_R_ACCEPTED);
    node_msg_clear(&m);
    CHECK_OK(node_store_outbox_next_try(s, 6000, &next, &err), &err);
    CHECK(next == 0); /* none after: 0, not an error */
    node_store_close(&s);
}

static void
test_lookups_say_not_found(void)
{
    struct ewh_err err = {0};
    node_store_t *s = s_open();
    struct node_msg m;
    int64_t v = -1;
    uint64_t len = 7;
    uint8_t *env = NULL;
    size_t elen = 0;
    bool already = false;

    CHECK_FAILS(node_store_created_at(s, "ff", &v, &err), &err, EWH_E_NOTFOUND,
                "no report ff");
    CHECK_FAILS(node_store_msg_get(s, "ff", &m, &err), &err, EWH_E_NOTFOUND,
                "no report");
    CHECK_FAILS(node_store_envelope_get(s, "ff", &env, &elen, &err), &err,
                EWH_E_NOTFOUND, "no report");
    CHECK_FAILS(node_store_inbox_ack(s, "ff", "officer", 1, &already, &err),
                &err, EWH_E_NOTFOUND, "no received report");
    CHECK_FAILS(node_store_roster_get(s, &env, &elen, &err), &err,
                EWH_E_NOTFOUND, "no roster");
    /* empty tables have answers, not errors */
    CHECK_OK(node_store_max_seq(s, &v, &err), &err);
    CHECK(v == 0);
    CHECK_OK(node_store_checkpoint_length(s, &len, &err), &err);
    CHECK(len == 0);
    CHECK_OK(node_store_refusal_count(s, &v, &err), &err);
    CHECK(v == 0);

    s_add_out(s, 3);
    CHECK_OK(
        node_store_created_at(s, "00000000000000000000000000000003", &v, &err),
        &err);
    CHECK(v == 1003);
    node_store_close(&s);
}

static void
test_inbox_once_and_ack(void)
{
    struct ewh_err err = {0};
    node_store_t *s = s_open();
    bool dup = true, already = true;
    int rc;
    int64_t seq = 0;

    s_add_in(s, 5, &dup, &err, &rc);
    CHECK(rc == 0 && !dup);
    s_add_in(s, 5, &dup, &err, &rc);
    CHECK(rc == 0 && dup);
    CHECK_OK(node_store_max_seq(s, &seq, &err), &err);
    CHECK(seq == 1);
    CHECK_OK(node_store_inbox_ack(s, "00000000000000000000000000000005", "o",
                                  10, &already, &err),
             &err);
    CHECK(!already);
    CHECK_OK(node_store_inbox_ack(s, "00000000000000000000000000000005", "o",
                                  11, &already, &err),
             &err);
    CHECK(already);
    CHECK_OK(node_store_refusal_add(s, "ab", "AL", "bad", 12, &err), &err);
    CHECK_OK(node_store_refusal_count(s, &seq, &err), &err);
    CHECK(seq == 1);
    node_store_close(&s);
}

static void
test_receipts_and_checkpoints(void)
{
    struct ewh_err err = {0};
    node_store_t *s = s_open();
    struct s_seen v = {0};
    const uint8_t rc[3] = {7, 7, 7}, head[32] = {1};
    uint64_t len = 0;

    CHECK_OK(node_store_receipt_queue(s, "aa", EWH_RECEIPT_DELIVERED, rc,
                                      sizeof(rc), &err),
             &err);
    CHECK(node_store_receipt_pending(s, 0, 10, s_collect, &v, &err) == 0);
    CHECK(v.n == 1 && strcmp(v.ids[0], "aa") == 0);
    CHECK_OK(node_store_receipt_done(s, "aa", EWH_RECEIPT_DELIVERED, &err),
             &err);
    memset(&v, 0, sizeof(v));
    CHECK(node_store_receipt_pending(s, 0, 10, s_collect, &v, &err) == 0);
    CHECK(v.n == 0);

    CHECK_OK(node_store_checkpoint_put(s, 42, head, 5, rc, sizeof(rc), &err),
             &err);
    CHECK_OK(node_store_checkpoint_length(s, &len, &err), &err);
    CHECK(len == 42);
    node_store_close(&s);
}

/* ---- faults ---- */

/* Another connection holds the write lock: a write waits the busy
 * timeout, then says EWH_E_BUSY (retryable); nothing is half done. */
static void
test_busy_write_lock(void)
{
    struct ewh_err err = {0};
    node_store_t *s = s_open();
    sqlite3 *other = NULL;
    bool dup = false;
    int rc;

    s_add_out(s, 1);
    ewh_db_busy_timeout(s->db, 50);
    CHECK(sqlite3_open(s_path, &other) == SQLITE_OK);
    CHECK(sqlite3_exec(other,
                       "BEGIN IMMEDIATE; INSERT INTO meta VALUES('x', 1)", NULL,
                       NULL, NULL) == SQLITE_OK);

    CHECK_FAILS(node_store_begin(s, &err), &err, EWH_E_BUSY, "locked");
    CHECK(ewh_errcode_is_retryable(err.code));
    CHECK_FAILS(node_store_outbox_accepted(
                    s, "00000000000000000000000000000001", 1, &err),
                &err, EWH_E_BUSY, "locked");
    CHECK_FAILS(node_store_receipt_queue(s, "aa", EWH_RECEIPT_DELIVERED,
                                         (const uint8_t *)"r", 1, &err),
                &err, EWH_E_BUSY, "locked");
    s_add_in(s, 9, &dup, &err, &rc);
    CHECK(rc != 0 && err.code == EWH_E_BUSY);

    /* the lock goes: the same calls work */
    CHECK(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(other);
    CHECK_OK(node_store_begin(s, &err), &err);
    CHECK_OK(node_store_outbox_accepted(s, "00000000000000000000000000000001",
                                        1, &err),
             &err);
    CHECK_OK(node_store_commit(s, &err), &err);
    node_store_close(&s);
}

/* A quota (max_page_count) makes a full disk: EWH_E_DISKFULL, the store
 * stays usable, and once there is room the same report goes in once. */
static void
test_disk_full(void)
{
    struct ewh_err err = {0};
    node_store_t *s = s_open();
    sqlite3_stmt *st;
    struct node_msg m;
    int64_t pages = 0, seq = -1;
    bool dup = false;
    char sql[64];

    st = ewh_db_stmt(s->db, "PRAGMA page_count", &err);
    CHECK(st != NULL);
    CHECK_OK(ewh_db_int(s->db, st, "page_count", &pages, &err), &err);
    snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %lld",
             (long long)pages + 1);
    CHECK_OK(ewh_db_exec(s->db, sql, "quota", &err), &err);

    s_msg(&m, 1, "AL", false, 60000); /* far more than one page */
    CHECK_OK(node_store_begin(s, &err), &err);
    CHECK_FAILS(
        node_store_inbox_add(s, &m, (const uint8_t *)"e", 1, &dup, &err), &err,
        EWH_E_DISKFULL, "store full");
    CHECK(ewh_errcode_is_retryable(err.code));
    node_store_rollback(s);
    CHECK_OK(node_store_max_seq(s, &seq, &err), &err);
    CHECK(seq == 0); /* nothing half stored */

    CHECK_OK(
        ewh_db_exec(s->db, "PRAGMA max_page_count = 1000000", "quota", &err),
        &err);
    CHECK_OK(node_store_begin(s, &err), &err);
    CHECK_OK(node_store_inbox_add(s, &m, (const uint8_t *)"e", 1, &dup, &err),
             &err);
    CHECK_OK(node_store_commit(s, &err), &err);
    CHECK(!dup);
    CHECK_OK(node_store_max_seq(s, &seq, &err), &err);
    CHECK(seq == 1);
    node_msg_clear(&m);
    node_store_close(&s);
}

/* A write or an fsync that fails at commit is a full disk for the caller
 * (EWH_E_DISKFULL, retryable), the transaction is rolled back, and the
 * store works once the fault is gone. */
static void
test_failing_write_and_fsync(void)
{
    struct ewh_err err = {0};
    node_store_t *s = s_open();
    int64_t seq = -1;
    bool dup = false;
    int rc, i;

    for (i = 0; i < 2; i++) {
        CHECK_OK(node_store_begin(s, &err), &err);
        s_add_in(s, 1, &dup, &err, &rc);
        CHECK(rc == 0);
        if (i == 0)
            s_fail_write = 1;
        else
            s_fail_sync = 1;
        CHECK_FAILS(node_store_commit(s, &err), &err, EWH_E_DISKFULL,
                    "store write failed");
        s_fail_write = s_fail_sync = 0;
        CHECK(ewh_errcode_is_retryable(err.code));
        CHECK_OK(node_store_max_seq(s, &seq, &err), &err);
        CHECK(seq == 0); /* rolled back */
    }
    CHECK_OK(node_store_begin(s, &err), &err);
    s_add_in(s, 1, &dup, &err, &rc);
    CHECK(rc == 0 && !dup);
    CHECK_OK(node_store_commit(s, &err), &err);
    CHECK_OK(node_store_max_seq(s, &seq, &err), &err);
    CHECK(seq == 1);
    node_store_close(&s);
}

/* A read that fails is an error, never "no rows" or a default: the walks
 * the agent pumps (outbox, receipts) and every single-value lookup. */
static void
test_failing_read(void)
{
    struct ewh_err err = {0};
    node_store_t *s = s_open(), *r;
    struct s_seen v = {0};
    struct node_filter f = {0};
    int64_t x = 0;
    uint64_t len = 0;

    s_add_out(s, 1);
    CHECK_OK(node_store_receipt_queue(s, "aa", EWH_RECEIPT_DELIVERED,
                                      (const uint8_t *)"r", 1, &err),
             &err);
    node_store_close(&s);

    r = s_reopen(); /* a fresh page cache: the rows must be read */
    s_fail_read = 1;
    CHECK(node_store_outbox_pending(r, 0, 0, 10, s_collect, &v, &err) == -1);
    CHECK(err.code == EWH_E_IO && v.n == 0);
    CHECK(node_store_receipt_pending(r, 0, 10, s_collect, &v, &err) == -1);
    CHECK(err.code == EWH_E_IO);
    CHECK(node_store_created_at(r, "00000000000000000000000000000001", &x,
                                &err) == -1);
    CHECK(err.code == EWH_E_IO);
    CHECK(node_store_max_seq(r, &x, &err) == -1 && err.code == EWH_E_IO);
    CHECK(node_store_checkpoint_length(r, &len, &err) == -1 &&
          err.code == EWH_E_IO);
    CHECK(node_store_outbox_next_try(r, 0, &x, &err) == -1 &&
          err.code == EWH_E_IO);
    f.outgoing = true;
    CHECK(node_store_msg_list(r, &f, s_count_msg, &v, &err) == -1 &&
          err.code == EWH_E_IO);
    s_fail_read = 0;

    CHECK(node_store_outbox_pending(r, 0, 0, 10, s_collect, &v, &err) == 0);
    CHECK(v.n == 1);
    node_store_close(&r);
}

/* A report is read with its references, what supersedes it and its
 * addressees: a read failing at any point of that fails the whole call,
 * never hands back a report with a part missing (SQLite's fault-sweep
 * way: fail the n-th read, once, for every n). */
static void
test_read_fault_sweep(void)
{
    struct ewh_err err = {0};
    node_store_t *s = s_open(), *r;
    struct node_msg m;
    const uint8_t env[1] = {1};
    int n, rc, failed = 0;

    s_msg(&m, 1, "HU", true, 10);
    snprintf(m.recipients[1], EWH_CC_BYTES, "AL");
    m.n_recipients = 2;
    snprintf(m.refs[0], EWH_ID_HEX, "%032x", 0xa);
    snprintf(m.refs[1], EWH_ID_HEX, "%032x", 0xb);
    m.n_refs = 2;
    CHECK_OK(node_store_outbox_add(s, &m, env, 1, &err), &err);
    node_msg_clear(&m);
    s_msg(&m, 2, "HU", true, 10); /* an update of report 1 */
    m.type = EWH_TYPE_UPDATE;
    snprintf(m.refs[0], EWH_ID_HEX, "%032x", 1);
    m.n_refs = 1;
    CHECK_OK(node_store_outbox_add(s, &m, env, 1, &err), &err);
    node_msg_clear(&m);
    node_store_close(&s);

    for (n = 0; n < 200; n++) {
        r = s_reopen();
        s_reads_left = n;
        err.code = EWH_E_OK;
        rc =
            node_store_msg_get(r, "00000000000000000000000000000001", &m, &err);
        if (rc == 0) {
            CHECK(m.n_refs == 2 && m.n_rcpt == 2);
            CHECK(strcmp(m.superseded_by, "00000000000000000000000000000002") ==
                  0);
        } else {
            CHECK(err.code == EWH_E_IO || err.code == EWH_E_STORE);
            failed++;
        }
        node_msg_clear(&m);
        rc = s_fired;
        s_reads_left = -1;
        s_fired = 0;
        node_store_close(&r);
        if (!rc)
            break; /* the whole call ran within n reads */
    }
    CHECK(n < 200 && failed >= 3); /* the row and its sub-queries */
}

/* Storing a redelivery: whichever read fails, the answer is "stored
 * already" or the read's own error, never an attempt to store it twice. */
static void
test_redelivery_fault_sweep(void)
{
    struct ewh_err err = {0};
    node_store_t *s = s_open(), *r;
    bool dup = false;
    int n, rc, fired;

    s_add_in(s, 4, &dup, &err, &rc);
    CHECK(rc == 0 && !dup);
    node_store_close(&s);
    for (n = 0; n < 200; n++) {
        r = s_reopen();
        s_reads_left = n;
        dup = false;
        err.code = EWH_E_OK;
        s_add_in(r, 4, &dup, &err, &rc);
        CHECK((rc == 0 && dup) || (rc != 0 && err.code == EWH_E_IO));
        fired = s_fired;
        s_reads_left = -1;
        s_fired = 0;
        node_store_close(&r);
        if (!fired)
            break;
    }
    CHECK(n > 0 && n < 200);
}

int
main(void)
{
    CHECK(mkdtemp(s_dir) != NULL);
    s_vfs_install();
    RUN(test_outbox_progress);
    RUN(test_lookups_say_not_found);
    RUN(test_inbox_once_and_ack);
    RUN(test_receipts_and_checkpoints);
    RUN(test_busy_write_lock);
    RUN(test_disk_full);
    RUN(test_failing_write_and_fsync);
    RUN(test_failing_read);
    RUN(test_read_fault_sweep);
    RUN(test_redelivery_fault_sweep);
    {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s_dir);
        if (system(cmd) != 0)
            return 1;
    }
    return 0;
}
