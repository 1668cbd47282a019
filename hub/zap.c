/* zap.c — ZAP handler: admit enrolled, unrevoked CURVE keys only. */
#include "zap.h"

#include <stdio.h>
#include <string.h>

#include <zmq.h>

#include "ewh/limits.h"
#include "ewh/log.h"
#include "ewh/util.h"

#define S_FRAMES 7

const char *
hub_zap_country_of(const ewh_roster_t *r, const uint8_t key[32])
{
    size_t i, n = ewh_roster_count(r);
    bool revoked;

    for (i = 0; i < n; i++) {
        const struct ewh_pubid *id = ewh_roster_at(r, i, &revoked);
        if (!revoked && id != NULL && memcmp(id->curve, key, 32) == 0)
            return id->country;
    }
    return NULL;
}

/* Why a CURVE key is not admitted: the key of a revoked country (named,
 * so the operator sees who keeps trying), else simply unknown. */
static const char *
s_why_refused(const ewh_roster_t *r, const uint8_t key[32], char *buf,
              size_t cap, const char **country)
{
    size_t i, n = r != NULL ? ewh_roster_count(r) : 0;
    bool revoked;

    for (i = 0; i < n; i++) {
        const struct ewh_pubid *id = ewh_roster_at(r, i, &revoked);
        if (revoked && id != NULL && memcmp(id->curve, key, 32) == 0) {
            snprintf(buf, cap, "key of revoked country %s", id->country);
            *country = id->country;
            return buf;
        }
    }
    return "unknown key";
}

static int
s_send(void *sock, const void *data, size_t len, bool more)
{
    return zmq_send(sock, data, len, more ? ZMQ_SNDMORE : 0) < 0 ? -1 : 0;
}

/* Metadata in ZMTP property form: name-len(1) name value-len(4, BE) value */
static size_t
s_meta(uint8_t *out, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value), o = 0;

    out[o++] = (uint8_t)nl;
    memcpy(out + o, name, nl);
    o += nl;
    out[o++] = (uint8_t)(vl >> 24);
    out[o++] = (uint8_t)(vl >> 16);
    out[o++] = (uint8_t)(vl >> 8);
    out[o++] = (uint8_t)vl;
    memcpy(out + o, value, vl);
    return o + vl;
}

/* Read one request (all frames) and answer it. */
static int
s_one(void *sock, hub_zap_roster_fn fn, hub_zap_peer_fn peer_fn,
      hub_zap_refused_fn on_refused, void *ctx, uint64_t *refused,
      struct ewh_err *err)
{
    char uid[EWH_MAX_REGION_BYTES + 2];
    const char *whose = NULL;
    enum ewh_errcode code = EWH_E_INVALID;
    zmq_msg_t f[S_FRAMES];
    size_t n = 0, i;
    int more = 1, rc = -1;
    const char *cc = NULL, *why = "unknown key";
    char keyhex[65] = "", mech[16] = "", revbuf[48];
    uint8_t meta[128];
    size_t meta_len = 0;
    const uint8_t *key = NULL;

    for (i = 0; i < S_FRAMES; i++)
        zmq_msg_init(&f[i]);
    while (more) {
        zmq_msg_t extra;
        zmq_msg_t *m = n < S_FRAMES ? &f[n] : &extra;
        size_t ml = sizeof(more);
        if (m == &extra)
            zmq_msg_init(&extra);
        if (zmq_msg_recv(m, sock, n == 0 ? ZMQ_DONTWAIT : 0) < 0) {
            if (n == 0 && zmq_errno() == EAGAIN) {
                rc = 1;
                goto out;
            }
            ewh_err_set(err, EWH_E_IO, "zap: recv: %s",
                        zmq_strerror(zmq_errno()));
            goto out;
        }
        zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &ml);
        if (m == &extra)
            zmq_msg_close(&extra);
        n++;
    }
    /* version, request id, domain, address, identity, mechanism, creds */
    if (n < 6) {
        /* Malformed: a REP must still answer something. */
        why = "malformed request";
        goto reply;
    }
    snprintf(mech, sizeof(mech), "%.*s", (int)zmq_msg_size(&f[5]),
             (const char *)zmq_msg_data(&f[5]));
    if (strcmp(mech, "CURVE") != 0 || n < 7 || zmq_msg_size(&f[6]) != 32) {
        why = "not CURVE";
        goto reply;
    }
    key = zmq_msg_data(&f[6]);
    ewh_hex(key, 32, keyhex, sizeof(keyhex));
    /* The roster as it is now: the store's version is read for every
     * handshake (the loop's roster check comes up to HUB_ROSTER_CHECK_MS
     * later), so a country revoked a moment ago is refused at once. */
    cc = hub_zap_country_of(fn(ctx, true), key);
    if (cc == NULL && peer_fn != NULL) {
        const char *region = peer_fn(ctx, key);
        if (region != NULL) {
            snprintf(uid, sizeof(uid), "@%s", region);
            cc = uid;
        }
    }
    if (cc != NULL)
        meta_len = s_meta(meta, HUB_ZAP_KEY_PROP, keyhex);
    else {
        why =
            s_why_refused(fn(ctx, false), key, revbuf, sizeof(revbuf), &whose);
        code = whose != NULL ? EWH_E_REVOKED : EWH_E_UNKNOWN;
    }
reply:
    if (cc == NULL) {
        (*refused)++;
        ewh_log_warnx("zap: refused key=%.8s reason=\"%s\"",
                      keyhex[0] ? keyhex : "-", why);
        if (on_refused != NULL)
            on_refused(ctx, keyhex, whose, code, why);
    } else {
        ewh_log_debug("zap: admitted %s key=%.8s", cc, keyhex);
    }
    if (s_send(sock, "1.0", 3, true) != 0 ||
        s_send(sock, n > 1 ? zmq_msg_data(&f[1]) : "",
               n > 1 ? zmq_msg_size(&f[1]) : 0, true) != 0 ||
        s_send(sock, cc != NULL ? "200" : "400", 3, true) != 0 ||
        s_send(sock, cc != NULL ? "OK" : why, strlen(cc != NULL ? "OK" : why),
               true) != 0 ||
        s_send(sock, cc != NULL ? cc : "", cc != NULL ? strlen(cc) : 0, true) !=
            0 ||
        s_send(sock, meta, meta_len, false) != 0) {
        ewh_err_set(err, EWH_E_IO, "zap: send: %s", zmq_strerror(zmq_errno()));
        goto out;
    }
    rc = 0;
out:
    for (i = 0; i < S_FRAMES; i++)
        zmq_msg_close(&f[i]);
    return rc;
}

int
hub_zap_handle(void *sock, hub_zap_roster_fn fn, hub_zap_peer_fn peer_fn,
               hub_zap_refused_fn on_refused, void *ctx, uint64_t *refused,
               struct ewh_err *err)
{
    int rc, budget = 256;

    while (budget-- > 0) {
        rc = s_one(sock, fn, peer_fn, on_refused, ctx, refused, err);
        if (rc < 0)
            return -1;
        if (rc == 1)
            break;
    }
    return 0;
}
