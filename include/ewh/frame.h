/*
 * frame.h — wire frames (the protobuf Frame message of proto/ewh.proto).
 *
 * decode checks the total size against EWH_MAX_FRAME_BYTES before it
 * unpacks, then every count and length against limits.h, then the meaning
 * that can be checked without keys (a frame carries exactly one message,
 * ids are 16 bytes, country codes valid).  Signatures are checked by the
 * envelope, roster, receipt and audit modules.
 */
#ifndef EWH_FRAME_H
#define EWH_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "ewh.pb-c.h"
#include "ewh/err.h"

typedef Ewh__Frame ewh_frame_t;

/* Decode; caller owns *out and ends it with ewh_frame_destroy(). */
EWH_MUST_CHECK int ewh_frame_decode(const uint8_t *buf, size_t len,
                                    ewh_frame_t **out, struct ewh_err *err);
void ewh_frame_destroy(ewh_frame_t **f);

/* Encode f into a new buffer; caller owns *out (free()).  Frames larger
 * than EWH_MAX_FRAME_BYTES are refused. */
EWH_MUST_CHECK int ewh_frame_encode(const ewh_frame_t *f, uint8_t **out,
                                    size_t *out_len, struct ewh_err *err);

/* The frame's kind as text ("submit", "deliver-ack"), for logs. */
const char *ewh_frame_name(const ewh_frame_t *f);

#endif
