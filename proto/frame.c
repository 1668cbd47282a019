/* frame.c — decode and encode wire frames with their limits. */
#include "ewh/frame.h"

#include <string.h>

#include "ewh/fed.h"
#include "ewh/util.h"

static int
s_id_ok(const ProtobufCBinaryData *id)
{
    return id->len == EWH_ID_BYTES;
}

static int
s_reason_ok(const char *s)
{
    return strlen(s) < EWH_MAX_REASON_BYTES;
}

/* Limits and meaning of each kind of frame that need no keys. */
static int
s_check(const Ewh__Frame *f, struct ewh_err *err)
{
    switch (f->msg_case) {
    case EWH__FRAME__MSG_HELLO:
        if (f->hello->credit == 0 || f->hello->credit > EWH_MAX_CREDIT)
            return ewh_err_set(err, EWH_E_INVALID,
                               "hello credit %u outside 1..EWH_MAX_CREDIT %u",
                               f->hello->credit, EWH_MAX_CREDIT);
        return 0;
    case EWH__FRAME__MSG_SUBMIT:
        if (f->submit->envelope.len == 0)
            return ewh_err_set(err, EWH_E_INVALID, "empty submit");
        if (f->submit->envelope.len > EWH_MAX_ENVELOPE_BYTES)
            return ewh_err_set(err, EWH_E_TOOBIG,
                               "envelope of %zu bytes > "
                               "EWH_MAX_ENVELOPE_BYTES %u",
                               f->submit->envelope.len, EWH_MAX_ENVELOPE_BYTES);
        return 0;
    case EWH__FRAME__MSG_SUBMIT_ACK:
        if (!s_id_ok(&f->submit_ack->id) ||
            f->submit_ack->status < EWH__ACK_STATUS__ACK_ACCEPTED ||
            f->submit_ack->status > EWH__ACK_STATUS__ACK_REFUSED ||
            !s_reason_ok(f->submit_ack->reason))
            return ewh_err_set(err, EWH_E_INVALID, "bad submit-ack");
        return 0;
    case EWH__FRAME__MSG_DELIVER:
        if (f->deliver->envelope.len == 0 ||
            f->deliver->envelope.len > EWH_MAX_ENVELOPE_BYTES)
            return ewh_err_set(err, EWH_E_TOOBIG,
                               "bad delivered envelope "
                               "size");
        return 0;
    case EWH__FRAME__MSG_DELIVER_ACK:
        if (!s_id_ok(&f->deliver_ack->id))
            return ewh_err_set(err, EWH_E_INVALID, "bad deliver-ack id");
        return 0;
    case EWH__FRAME__MSG_RECEIPT:
        if (f->receipt->body.len == 0 ||
            f->receipt->body.len > EWH_MAX_RECEIPT_BYTES)
            return ewh_err_set(err, EWH_E_INVALID, "bad receipt size");
        return 0;
    case EWH__FRAME__MSG_ROSTER:
        if (f->roster->body.len > EWH_MAX_ROSTER_BYTES)
            return ewh_err_set(err, EWH_E_TOOBIG,
                               "roster > EWH_MAX_ROSTER_BYTES %u",
                               EWH_MAX_ROSTER_BYTES);
        return 0;
    case EWH__FRAME__MSG_CATALOGUE:
        if (f->catalogue->body.len > EWH_MAX_CATALOGUE_BYTES)
            return ewh_err_set(err, EWH_E_TOOBIG,
                               "catalogue > EWH_MAX_CATALOGUE_BYTES %u",
                               EWH_MAX_CATALOGUE_BYTES);
        return 0;
    case EWH__FRAME__MSG_ERROR:
        if (!s_reason_ok(f->error->reason))
            return ewh_err_set(err, EWH_E_TOOBIG, "error reason too long");
        return 0;
    case EWH__FRAME__MSG_NOTICE:
        if (!s_id_ok(&f->notice->id) ||
            !ewh_country_is_valid(f->notice->country) ||
            !s_reason_ok(f->notice->reason))
            return ewh_err_set(err, EWH_E_INVALID, "bad notice");
        return 0;
    case EWH__FRAME__MSG_AUDIT_REQUEST:
        if (f->audit_request->max_entries > EWH_MAX_PROOF_ENTRIES)
            return ewh_err_set(err, EWH_E_TOOBIG,
                               "audit request > EWH_MAX_PROOF_ENTRIES %u",
                               EWH_MAX_PROOF_ENTRIES);
        return 0;
    case EWH__FRAME__MSG_AUDIT_PROOF:
        if (f->audit_proof->n_entries > EWH_MAX_PROOF_ENTRIES)
            return ewh_err_set(err, EWH_E_TOOBIG,
                               "audit proof > EWH_MAX_PROOF_ENTRIES %u",
                               EWH_MAX_PROOF_ENTRIES);
        for (size_t i = 0; i < f->audit_proof->n_entries; i++) {
            const Ewh__AuditEntry *e = f->audit_proof->entries[i];
            if (!s_id_ok(&e->id) || e->envelope_hash.len != 32 ||
                !ewh_country_is_valid(e->origin))
                return ewh_err_set(err, EWH_E_INVALID, "bad audit entry");
        }
        return 0;
    case EWH__FRAME__MSG_RECEIPT_RELAY:
        if (f->receipt_relay->receipt == NULL ||
            f->receipt_relay->receipt->body.len > EWH_MAX_RECEIPT_BYTES)
            return ewh_err_set(err, EWH_E_INVALID, "bad receipt relay");
        return 0;
    case EWH__FRAME__MSG_RECEIPT_ACK:
        if (f->receipt_ack->n_ids > EWH_MAX_RECEIPT_IDS)
            return ewh_err_set(err, EWH_E_TOOBIG, "receipt-ack of %zu ids",
                               f->receipt_ack->n_ids);
        for (size_t i = 0; i < f->receipt_ack->n_ids; i++)
            if (!s_id_ok(&f->receipt_ack->ids[i]))
                return ewh_err_set(err, EWH_E_INVALID, "bad receipt-ack");
        if (!s_reason_ok(f->receipt_ack->refused))
            return ewh_err_set(err, EWH_E_INVALID, "bad receipt-ack reason");
        return 0;
    case EWH__FRAME__MSG_NOTICE_ACK:
    case EWH__FRAME__MSG_HEARTBEAT:
        return 0;
    case EWH__FRAME__MSG_FOREIGN_ROSTER: {
        const Ewh__ForeignRoster *fr = f->foreign_roster;
        if (!ewh_region_is_valid(fr->region))
            return ewh_err_set(err, EWH_E_INVALID,
                               "foreign roster: bad region name");
        if (fr->signed_roster.len == 0 ||
            fr->signed_roster.len > EWH_MAX_ROSTER_BYTES)
            return ewh_err_set(err, EWH_E_TOOBIG,
                               "foreign roster: roster empty or > "
                               "EWH_MAX_ROSTER_BYTES %u",
                               EWH_MAX_ROSTER_BYTES);
        if (fr->hub_key.len != 32)
            return ewh_err_set(err, EWH_E_INVALID,
                               "foreign roster: hub key is %zu bytes, not 32",
                               fr->hub_key.len);
        if (ewh_fed_path_check((const char *const *)fr->path, fr->n_path,
                               err) != 0)
            return -1;
        if (strcmp(fr->path[0], fr->region) != 0)
            return ewh_err_set(err, EWH_E_INVALID,
                               "foreign roster: path does not start at its "
                               "region");
        return 0;
    }
    case EWH__FRAME__MSG_FED_HELLO:
        if (!ewh_region_is_valid(f->fed_hello->region))
            return ewh_err_set(err, EWH_E_INVALID,
                               "federation hello: bad region name");
        if (f->fed_hello->credit == 0 || f->fed_hello->credit > EWH_MAX_CREDIT)
            return ewh_err_set(err, EWH_E_INVALID,
                               "federation hello credit %u outside "
                               "1..EWH_MAX_CREDIT %u",
                               f->fed_hello->credit, EWH_MAX_CREDIT);
        return 0;
    case EWH__FRAME__MSG_TRANSFER:
        if (f->transfer->envelope.len == 0 ||
            f->transfer->envelope.len > EWH_MAX_ENVELOPE_BYTES)
            return ewh_err_set(err, EWH_E_TOOBIG,
                               "transfer: envelope empty or > "
                               "EWH_MAX_ENVELOPE_BYTES %u",
                               EWH_MAX_ENVELOPE_BYTES);
        return ewh_fed_path_check((const char *const *)f->transfer->path,
                                  f->transfer->n_path, err);
    case EWH__FRAME__MSG_TRANSFER_ACK:
        if (!s_id_ok(&f->transfer_ack->id) ||
            f->transfer_ack->status < EWH__ACK_STATUS__ACK_ACCEPTED ||
            f->transfer_ack->status > EWH__ACK_STATUS__ACK_REFUSED ||
            !s_reason_ok(f->transfer_ack->reason))
            return ewh_err_set(err, EWH_E_INVALID, "bad transfer-ack");
        return 0;
    case EWH__FRAME__MSG__NOT_SET:
    default:
        break;
    }
    return ewh_err_set(err, EWH_E_INVALID, "frame carries no message");
}

int
ewh_frame_decode(const uint8_t *buf, size_t len, ewh_frame_t **out,
                 struct ewh_err *err)
{
    Ewh__Frame *f;

    *out = NULL;
    if (len > EWH_MAX_FRAME_BYTES)
        return ewh_err_set(err, EWH_E_TOOBIG,
                           "frame of %zu bytes > EWH_MAX_FRAME_BYTES %u", len,
                           EWH_MAX_FRAME_BYTES);
    if (len == 0)
        return ewh_err_set(err, EWH_E_INVALID, "empty frame");
    f = ewh__frame__unpack(NULL, len, buf);
    if (f == NULL)
        return ewh_err_set(err, EWH_E_INVALID, "malformed frame");
    if (s_check(f, err) != 0) {
        ewh__frame__free_unpacked(f, NULL);
        return -1;
    }
    *out = f;
    return 0;
}

void
ewh_frame_destroy(ewh_frame_t **f)
{
    if (f == NULL || *f == NULL)
        return;
    ewh__frame__free_unpacked(*f, NULL);
    *f = NULL;
}

int
ewh_frame_encode(const ewh_frame_t *f, uint8_t **out, size_t *out_len,
                 struct ewh_err *err)
{
    size_t len = ewh__frame__get_packed_size(f);
    uint8_t *buf;

    if (len > EWH_MAX_FRAME_BYTES)
        return ewh_err_set(err, EWH_E_TOOBIG,
                           "frame of %zu bytes > EWH_MAX_FRAME_BYTES %u", len,
                           EWH_MAX_FRAME_BYTES);
    if ((buf = malloc(len > 0 ? len : 1)) == NULL)
        return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
    ewh__frame__pack(f, buf);
    *out = buf;
    *out_len = len;
    return 0;
}

const char *
ewh_frame_name(const ewh_frame_t *f)
{
    switch (f->msg_case) {
    case EWH__FRAME__MSG_HELLO:
        return "hello";
    case EWH__FRAME__MSG_SUBMIT:
        return "submit";
    case EWH__FRAME__MSG_SUBMIT_ACK:
        return "submit-ack";
    case EWH__FRAME__MSG_DELIVER:
        return "deliver";
    case EWH__FRAME__MSG_DELIVER_ACK:
        return "deliver-ack";
    case EWH__FRAME__MSG_RECEIPT:
        return "receipt";
    case EWH__FRAME__MSG_ROSTER:
        return "roster";
    case EWH__FRAME__MSG_CATALOGUE:
        return "catalogue";
    case EWH__FRAME__MSG_ERROR:
        return "error";
    case EWH__FRAME__MSG_NOTICE:
        return "notice";
    case EWH__FRAME__MSG_AUDIT_REQUEST:
        return "audit-request";
    case EWH__FRAME__MSG_AUDIT_PROOF:
        return "audit-proof";
    case EWH__FRAME__MSG_RECEIPT_RELAY:
        return "receipt-relay";
    case EWH__FRAME__MSG_RECEIPT_ACK:
        return "receipt-ack";
    case EWH__FRAME__MSG_NOTICE_ACK:
        return "notice-ack";
    case EWH__FRAME__MSG_HEARTBEAT:
        return "heartbeat";
    case EWH__FRAME__MSG_FOREIGN_ROSTER:
        return "foreign-roster";
    case EWH__FRAME__MSG_FED_HELLO:
        return "fed-hello";
    case EWH__FRAME__MSG_TRANSFER:
        return "transfer";
    case EWH__FRAME__MSG_TRANSFER_ACK:
        return "transfer-ack";
    default:
        return "none";
    }
}
