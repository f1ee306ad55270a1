/* What the HTTP/2 code keeps of one decoded header block (a request's or a
 * response's head, or trailers): the pseudo-fields and the few fields spans
 * and propagation read, copied (HPACK's strings live during its callback
 * only), each cut to its bound. Nothing else of a block is kept: no
 * credentials, no cookies. */
#ifndef OA_H2_HEAD_H
#define OA_H2_HEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocols/http2/hpack_decoder.h"
#include "trace/propagation.h"
#include "trace/traceparent.h"

#define OA_H2_TRACESTATE_JOIN_MAX 2048
/* b3 (68 octets at most), X-B3-* and uber-trace-id (URL-encoded) fit */
#define OA_H2_OTHER_CONTEXT_MAX 128

struct oa_h2_head {
    uint32_t list_size;        /* RFC 9113 §6.5.2: octets of names and values, + 32 per field */
    bool exact_list_size;      /* set before decoding: every value decoded, list_size exact
                                * (a request we may add fields to); else an upper bound */
    int status;                /* :status, 0: none */
    int grpc_status;           /* grpc-status, -1: none */
    bool grpc;                 /* content-type application/grpc[+...;...] */
    uint8_t method_len, scheme_len;
    uint16_t path_len, authority_len, user_agent_len, tracestate_len;
    bool tracestate_cut;
    unsigned traceparent_count;
    size_t baggage_len;
    char *baggage;             /* joined baggage fields (malloc'd, only when one came), or NULL */
    bool baggage_cut;
    /* the other context propagators' fields (b3, x-b3-*, uber-trace-id;
     * index enum oa_context_header, traceparent's unused): how many came,
     * and the first one's value in other[] (longer: its length 0, which no
     * format parses) */
    uint8_t other_count[OA_CH_N];
    uint8_t other_len[OA_CH_N];
    size_t uberctx_len;
    char *uberctx;             /* jaeger's uberctx-{key} fields as W3C baggage members (malloc'd), or NULL */
    char method[16];
    char scheme[8];
    char traceparent[OA_TRACEPARENT_LEN + 1];
    uint8_t traceparent_len;
    char authority[256];
    char user_agent[256];
    char path[1024];
    char tracestate[OA_H2_TRACESTATE_JOIN_MAX];
    char other[OA_CH_N][OA_H2_OTHER_CONTEXT_MAX];
};

/* Empties h (its fields before the buffers). */
void oa_h2_head_init(struct oa_h2_head *h);
/* The HPACK callback (arg: a struct oa_h2_head). */
void oa_h2_head_field(void *arg, const struct oa_hpack_field *f);
/* The HPACK decoder's question (oa_hpack_want_fn): whether a field of this
 * name is one the head keeps (or exact_list_size is set). */
bool oa_h2_head_wants(void *arg, const char *name, size_t name_len);
/* Frees what h holds (its baggage). */
void oa_h2_head_release(struct oa_h2_head *h);
/* What h carries for the context propagators (propagation.h). */
void oa_h2_head_context_headers(const struct oa_h2_head *h, struct oa_context_headers *ch);

#endif
