/* The context propagators OTEL_PROPAGATORS lists, composed as the
 * specification's composite propagator: extraction runs them in the order
 * listed and the last one that finds a context wins; injection writes every
 * one's headers. Carrier-agnostic: the HTTP/1 exchange and the libcurl hook
 * hand in the values they found and take header lines back. W3C
 * traceparent, tracestate and baggage keep their own inlined paths (the
 * default configuration costs nothing more); this covers b3, b3multi and
 * jaeger, and tracecontext among them for the order. */
#ifndef OA_PROPAGATION_H
#define OA_PROPAGATION_H

#include "base/common.h"
#include "trace/traceparent.h"

/* The request headers a context may be read from. */
enum oa_context_header {
    OA_CH_TRACEPARENT = 0,
    OA_CH_B3,
    OA_CH_X_B3_TRACEID,
    OA_CH_X_B3_SPANID,
    OA_CH_X_B3_SAMPLED,
    OA_CH_X_B3_FLAGS,
    OA_CH_UBER_TRACE_ID,
    OA_CH_N,
};

/* Their names, lowercase (header names are case-insensitive). */
extern const char *const oa_context_header_names[OA_CH_N];

/* What a request carries of each: the first value (NULL if none) and how
 * many headers have that name. */
struct oa_context_headers {
    const char *value[OA_CH_N];
    size_t len[OA_CH_N];
    size_t count[OA_CH_N];
};

/* Whether h has a header of a configured context propagator other than
 * tracecontext (b3 or b3multi: b3 or any X-B3-*; jaeger: uber-trace-id): a
 * program that sends one propagates by itself, and none of ours is added. */
bool oa_propagation_other_present(const struct oa_context_headers *h);

/* A client's request head h: whether the program sends a header of a
 * configured format other than tracecontext itself (it propagates by
 * itself: nothing is added); then *parent is the context those headers
 * name, valid (and not remote: our span is its child in this process's
 * view) if they name one. */
bool oa_propagation_program_sends_other(const struct oa_context_headers *h, struct oa_span_context *parent);

/* The context h carries, read by the configured context propagators in
 * their order, the last one that finds one winning (traceparent only when
 * there is exactly one, b3's first value). Returns the winner (enum
 * oa_propagator) with *out filled (remote), or -1 when none found one. */
int oa_propagation_extract(const struct oa_context_headers *h, struct oa_span_context *out);

/* One header field a propagator adds: its name (name_len octets) and value
 * (value_len), neither NUL-terminated, valid during the call only. false
 * stops the fields that follow. */
typedef bool (*oa_propagation_field_fn)(void *arg, const char *name, size_t name_len, const char *value,
                                        size_t value_len);

/* The header fields of the configured b3, b3multi and jaeger propagators
 * for our span own, and jaeger's uberctx-{key} fields for baggage (a W3C
 * baggage list; NULL or "" for none), each handed to field in the order a
 * request carries them, their names lowercase when `lowercase` (HTTP/2
 * requires it), else as HTTP/1 writes them ("X-B3-TraceId"). false when a
 * call of field returned false. */
bool oa_propagation_other_fields(const struct oa_span_context *own, const char *baggage, bool lowercase,
                                 oa_propagation_field_fn field, void *arg);

/* The same fields as header lines ("Name: value\r\n"), written at out when
 * out is not NULL; returns their length either way (measure first, then
 * write the same). */
size_t oa_propagation_other_lines(const struct oa_span_context *own, const char *baggage, char *out);

/* A W3C baggage list built from uberctx-{key} headers, appended to the one
 * at out[0, *len) (comma-separated), within cap bytes (NUL-terminated):
 * each header's key (the name after the prefix) and value go through
 * oa_jaeger_baggage_member; a member that does not fit is left out. */
void oa_propagation_append_uberctx(const char *name, size_t name_len, const char *value, size_t value_len, char *out,
                                   size_t *len, size_t cap);

#endif
