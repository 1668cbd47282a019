/*
 * seqset.h — a set of delivery sequence numbers, each with a small tag
 * (the delivery's level, 0..3), at most EWH_MAX_CREDIT of them: what one
 * peer has in flight.  In memory only.
 *
 * Callers use the functions below, never the representation.
 */
#ifndef HUB_SEQSET_H
#define HUB_SEQSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ewh/err.h"

typedef struct hub_seqset hub_seqset_t;

/* An empty set (its storage is allocated by the first add).  NULL when
 * out of memory.  Caller owns it; hub_seqset_destroy() ends it. */
EWH_MUST_CHECK hub_seqset_t *hub_seqset_new(void);
void hub_seqset_destroy(hub_seqset_t **s);

bool hub_seqset_has(const hub_seqset_t *s, uint64_t seq);
/* Insert seq with tag (0..3; a present seq is left as it is).  -1 when
 * the set holds EWH_MAX_CREDIT already or out of memory. */
EWH_MUST_CHECK int hub_seqset_add(hub_seqset_t *s, uint64_t seq, unsigned tag);
/* The same, counting bytes (the message sent) in hub_seqset_bytes(). */
EWH_MUST_CHECK int hub_seqset_add_sized(hub_seqset_t *s, uint64_t seq,
                                        unsigned tag, uint32_t bytes);
/* The bytes of the members added with a size. */
uint64_t hub_seqset_bytes(const hub_seqset_t *s);
/* Remove seq; true if it was there, and then *tag (may be NULL) gets its
 * tag. */
bool hub_seqset_del(hub_seqset_t *s, uint64_t seq, unsigned *tag);
void hub_seqset_clear(hub_seqset_t *s);
size_t hub_seqset_size(const hub_seqset_t *s);
/* How many members carry each tag: counts[t] for t in 0..3. */
void hub_seqset_tag_counts(const hub_seqset_t *s, size_t counts[4]);

#endif
