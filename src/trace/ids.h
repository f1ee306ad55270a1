/* Trace and span ids from a per-thread generator seeded from getrandom(2);
 * lock-free, allocation-free, re-seeded after fork (pid change). */
#ifndef OA_IDS_H
#define OA_IDS_H

#include "base/common.h"

/* 16 random bytes, never all zero. The low 56 bits are random, so the W3C
 * random flag may be set on roots using it. */
void oa_ids_new_trace_id(uint8_t out[16]);
/* 8 random bytes, never all zero. */
void oa_ids_new_span_id(uint8_t out[8]);
/* oa_ids_new_trace_id then oa_ids_new_span_id (the same ids, in one step):
 * a new trace's first span. */
void oa_ids_new_trace_and_span_id(uint8_t trace[16], uint8_t span[8]);

/* The same draws from a given xoshiro256** state (advanced), for the tests
 * that show the one-step draw equal to the two. */
void oa_ids_trace_id_from(uint64_t s[4], uint8_t out[16]);
void oa_ids_span_id_from(uint64_t s[4], uint8_t out[8]);
void oa_ids_trace_and_span_id_from(uint64_t s[4], uint8_t trace[16], uint8_t span[8]);

/* Fork child handler: a thread seeded before the fork re-seeds (the child
 * would otherwise repeat the parent's ids). Run from the library's one
 * pthread_atfork registration (lifecycle/library.c). */
void oa_ids_atfork_child(void);

#endif
