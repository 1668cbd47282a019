/* receipts.c — a Receipt from a recipient: verified once, then each
 * report it names must be addressed to the sender and come from the
 * origin it names; otherwise the whole receipt is refused and nothing of
 * it stored.  A receipt that passes joins the batch (batch.c), which
 * stores it, queues its relay to the origin and acknowledges it. */
#include "hubint.h"

#include <stdio.h>
#include <string.h>

#include "ewh/log.h"

/* Every report r names is addressed to cc and from r's origin.  *for_good
 * says a refusal is final (the node is told to stop sending it). */
static int
s_check_reports(struct hub *h, const char *cc, struct hub_rcpt *r,
                bool *for_good, struct ewh_err *err)
{
    char origin[EWH_CC_BYTES] = "", hex[EWH_ID_HEX];
    bool found = false;
    size_t i;

    *for_good = false;
    for (i = 0; i < r->rc.n_ids; i++) {
        if (hub_store_recipient_of(h->st, r->rc.ids[i], cc, &found, origin,
                                   err) != 0)
            return -1;
        *for_good = true;
        if (!found)
            return ewh_err_set(err, EWH_E_NOTFORME,
                               "%s is not a recipient of %s", cc,
                               hub_idhex(r->rc.ids[i], hex));
        if (strcmp(origin, r->rc.origin) != 0)
            return ewh_err_set(err, EWH_E_ORIGIN,
                               "receipt names origin %s, report %s is from %s",
                               r->rc.origin, hub_idhex(r->rc.ids[i], hex),
                               origin);
        *for_good = false;
    }
    memcpy(r->origin, origin, EWH_CC_BYTES);
    return 0;
}

void
hub_receipt_on(struct hub *h, struct hub_peer *n, const struct hub_from *from,
               const Ewh__Receipt *m)
{
    struct ewh_err err = {0};
    struct hub_rcpt r;
    size_t len = ewh__receipt__get_packed_size(m);
    bool for_good = false;

    memset(&r, 0, sizeof(r));
    if ((r.buf = malloc(len)) == NULL) {
        ewh_err_set(&err, EWH_E_NOMEM, "out of memory");
        goto refuse;
    }
    ewh__receipt__pack(m, r.buf);
    r.len = len;
    if (ewh_receipt_verify(r.buf, len, n->cc, ewh_roster_lookup, h->ros.roster,
                           &r.rc, &err) != 0 ||
        s_check_reports(h, n->cc, &r, &for_good, &err) != 0)
        goto refuse;
    r.from = *from;
    if (hub_batch_add_receipt(h, &r) != 0) {
        ewh_err_set(&err, EWH_E_NOMEM, "out of memory");
        goto refuse;
    }
    return;
refuse:
    ewh_log_warnx("router: refused receipt from=%s reason=\"%s\"", n->cc,
                  err.reason);
    if (for_good)
        /* Signed by the sender, about reports this hub does not hold for
         * it (a report lost with a restore from an old backup, or a node
         * that misbehaves): answered with the receipt's ids, so that an
         * honest node stops sending it rather than resend it every 30 s
         * forever. */
        hub_conn_send_receipt_ack(h, from, &r.rc, &err);
    else
        /* Unreadable, or not signed by the sender: nothing to name it
         * by. */
        hub_conn_send_error(h, from->rid, from->rid_len, err.code, err.reason);
    free(r.buf);
}
