/* The fields of an OTLP Span that say which span it is and when, written
 * backwards (base/protobuf_back.h): end time (8) down to the trace id (1),
 * the part of a Span the exporter's encoder (otlp_encoder.c) and the crash
 * capture's (export/crash_encoder.c) write alike. Header-only: the two live
 * in different objects. */
#ifndef OTLP_SPAN_BACK_H
#define OTLP_SPAN_BACK_H

#include "base/protobuf_back.h"
#include "trace/span.h"

/* Span fields 8 to 1 of s before p; strings (name, trace state) by
 * string_field (the caller's sanitising writer of a proto3 string field,
 * inlined with this function). */
BACK back_span_identity(uint8_t *p, const struct oa_span *s,
                        uint8_t *(*string_field)(uint8_t *p, unsigned field, const char *str))
{
    if (s->end_unix_nano)
        p = back_fixed64(p, 8, s->end_unix_nano);
    if (s->start_unix_nano)
        p = back_fixed64(p, 7, s->start_unix_nano);
    if (s->kind)
        p = back_tag(back_varint(p, s->kind), 6, WT_VARINT);
    p = string_field(p, 5, s->name);
    if (s->has_parent)
        p = back_bytes_field(p, 4, s->parent_span_id, sizeof s->parent_span_id);
    p = string_field(p, 3, s->trace_state);
    p = back_bytes_field(p, 2, s->span_id, sizeof s->span_id);
    return back_bytes_field(p, 1, s->trace_id, sizeof s->trace_id);
}

/* The shim's instrumentation scope, for the ScopeSpans of every request */
#define OA_OTLP_SCOPE_NAME "otelauto"

/* The ScopeSpans whose spans are the bytes from p to spans_end: its scope
 * (1: name, version) before them, then its own prefix as field 2 of a
 * ResourceSpans. */
BACK back_scope_spans(uint8_t *p, const uint8_t *spans_end)
{
    uint8_t *scope_end = p;
    p = back_literal_field(p, 2, OA_VERSION, sizeof OA_VERSION - 1);
    p = back_literal_field(p, 1, OA_OTLP_SCOPE_NAME, sizeof OA_OTLP_SCOPE_NAME - 1);
    p = back_len_prefix(p, 1, scope_end);
    return back_len_prefix(p, 2, spans_end);
}

#endif
