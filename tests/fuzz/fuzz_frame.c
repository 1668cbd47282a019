/* fuzz_frame.c — frame decode; whatever decodes re-encodes.  (Re-decoding
 * may refuse: protobuf-c keeps unknown fields with tags, such as field 0,
 * that it will not accept again, so that is not asserted.) */
#include <stdlib.h>

#include "ewh/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ewh_err err;
    ewh_frame_t *f = NULL, *g = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;

    if (ewh_frame_decode(data, size, &f, &err) != 0)
        return 0;
    (void)ewh_frame_name(f);
    if (ewh_frame_encode(f, &buf, &len, &err) == 0) {
        if (ewh_frame_decode(buf, len, &g, &err) == 0)
            ewh_frame_destroy(&g);
        free(buf);
    }
    ewh_frame_destroy(&f);
    return 0;
}
