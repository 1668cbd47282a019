/*
 * receipt.h — signed delivery and acknowledgement receipts.
 *
 * A recipient node signs "I stored reports IDS from ORIGIN" (delivered) and
 * "our liaison officer acknowledged it" (acknowledged).  One receipt speaks
 * for 1 to EWH_MAX_RECEIPT_IDS reports of one origin, so a node that
 * stored many reports in one turn signs once.  The hub checks the signer is
 * the authenticated country and relays the receipt to the origin, which
 * verifies it again against its roster.
 */
#ifndef EWH_RECEIPT_H
#define EWH_RECEIPT_H

#include <stddef.h>
#include <stdint.h>

#include "ewh.pb-c.h"
#include "ewh/err.h"
#include "ewh/identity.h"

enum ewh_receipt_kind {
    EWH_RECEIPT_DELIVERED = 1,
    EWH_RECEIPT_ACKNOWLEDGED = 2,
};

struct ewh_receipt {
    uint8_t ids[EWH_MAX_RECEIPT_IDS][EWH_ID_BYTES]; /* distinct */
    size_t n_ids;                                   /* 1..MAX_RECEIPT_IDS */
    char origin[EWH_CC_BYTES];
    char from[EWH_CC_BYTES];
    enum ewh_receipt_kind kind;
    int64_t at;
    char who[EWH_MAX_WHO_BYTES + 1];
    bool has_head; /* the signer's roster head (docs/trust.md) */
    uint64_t roster_version;
    uint8_t roster_hash[32];
};

/* Sign rc (rc->from must be the secret's country) into a serialized
 * Receipt.  Caller owns *out (free()). */
EWH_MUST_CHECK int ewh_receipt_sign(const struct ewh_receipt *rc,
                                    const ewh_secret_t *me, uint8_t **out,
                                    size_t *out_len, struct ewh_err *err);

/* Parse a serialized Receipt, check its fields (1..EWH_MAX_RECEIPT_IDS
 * distinct ids among them), check that from equals expect_from (NULL
 * skips), and verify the signature of `from`. */
EWH_MUST_CHECK int ewh_receipt_verify(const uint8_t *buf, size_t len,
                                      const char *expect_from,
                                      ewh_lookup_fn lookup, void *lookup_ctx,
                                      struct ewh_receipt *rc,
                                      struct ewh_err *err);

/* Fill ack (from EWH__RECEIPT_ACK__INIT) with rc's ids, from and kind:
 * the answer to rc.  ids is room for the ids' fields, which point into
 * rc; both must outlive ack. */
void ewh_receipt_ack_fill(Ewh__ReceiptAck *ack, const struct ewh_receipt *rc,
                          ProtobufCBinaryData ids[EWH_MAX_RECEIPT_IDS]);

const char *ewh_receipt_kind_name(enum ewh_receipt_kind k);

#endif
