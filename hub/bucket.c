/* bucket.c — a token bucket. */
#include "bucket.h"

void
hub_bucket_init(struct hub_bucket *b)
{
    b->tokens = 0;
    b->at_ms = -1;
}

bool
hub_bucket_take(struct hub_bucket *b, uint32_t rate, int64_t now_ms)
{
    if (b->at_ms < 0) {
        b->tokens = rate;
        b->at_ms = now_ms;
    } else if (now_ms > b->at_ms) {
        b->tokens += (double)(now_ms - b->at_ms) * rate / 1000.0;
        if (b->tokens > rate)
            b->tokens = rate;
        b->at_ms = now_ms;
    }
    if (b->tokens < 1.0)
        return false;
    b->tokens -= 1.0;
    return true;
}
