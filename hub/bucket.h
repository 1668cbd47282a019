/*
 * bucket.h — a token bucket: `rate` tokens a second, at most one second
 * of burst.  Plain data, embedded where it is used (one per peer for the
 * submit rate); in memory only.
 */
#ifndef HUB_BUCKET_H
#define HUB_BUCKET_H

#include <stdbool.h>
#include <stdint.h>

struct hub_bucket {
    double tokens;
    int64_t at_ms; /* monotonic ms of the last refill, -1: never used */
};

/* A bucket that starts full at its first use. */
void hub_bucket_init(struct hub_bucket *b);

/* Take one token at now_ms (monotonic).  False when the bucket is empty:
 * the caller refuses (EWH_E_RATE). */
bool hub_bucket_take(struct hub_bucket *b, uint32_t rate, int64_t now_ms);

#endif
