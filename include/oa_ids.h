/* Trace and span ids from a per-thread generator seeded from getrandom(2);
 * lock-free, allocation-free, re-seeded after fork (pid change). */
#ifndef OA_IDS_H
#define OA_IDS_H

#include "oa_common.h"

/* 16 random bytes, never all zero. The low 56 bits are random, so the W3C
 * random flag may be set on roots using it. */
void oa_ids_new_trace_id(uint8_t out[16]);
/* 8 random bytes, never all zero. */
void oa_ids_new_span_id(uint8_t out[8]);

#endif
