/* HTTP/2 connections (RFC 9113) behind the protocol interface
 * (wire/protocol.h), in cleartext with prior knowledge (h2c, gRPC) and in
 * the plaintext of TLS sessions: a connection whose client sends the
 * 24-octet preface first. Each stream a client opens is a pending request
 * (a bounded table by stream id): a CLIENT span on the program's outgoing
 * streams, a SERVER span on its incoming ones (h2_span.h), ended by the
 * response's END_STREAM, a RST_STREAM, a GOAWAY that leaves it out, or the
 * connection's end. Every header block of both directions is decoded
 * (HPACK, one decoder per direction), streams not traced included, so that
 * the dynamic tables never diverge; a block that does not decode gives the
 * connection up.
 *
 * Injection: a CLIENT stream's request head gets `traceparent` (and
 * `tracestate` when there is one) as HPACK literals without indexing at the
 * end of its last fragment (HEADERS or the last CONTINUATION, before any
 * padding), the frame's length patched; when that would exceed the peer's
 * SETTINGS_MAX_FRAME_SIZE, in a CONTINUATION frame of its own after it,
 * END_HEADERS moved there. Nothing is added when the program sent a
 * traceparent itself (in any HPACK representation: the block is decoded
 * first), when the peer's SETTINGS_MAX_HEADER_LIST_SIZE would be exceeded,
 * or when the program wrote the last fragment's frame header in an earlier
 * write than its payload's end (that header may be on the wire already:
 * its length can no longer be patched). The span is made all the same.
 *
 * HTTP metrics are recorded per stream; a gRPC call goes into the RPC
 * duration histograms instead (grpc_metrics.h).
 *
 * `Upgrade: h2c`: HTTP/1 switches the connection here after the 101
 * (switch_in, oa_protocol_switch), its upgrade request handed over as
 * stream 1, finished through HTTP/1's operations.
 *
 * Not done: other propagation formats than W3C's (B3, Jaeger) on HTTP/2. */
#ifndef OA_H2_CONNECTION_H
#define OA_H2_CONNECTION_H

#include "wire/protocol.h"

/* Streams pending at once on one connection (the table holds three
 * quarters of its slots): more concurrent streams get no span. */
#define OA_H2_TABLE_SLOTS 128

extern const struct oa_protocol oa_http2_protocol;
/* Registers it (before HTTP/1, whose detection would claim "PRI"). */
void oa_http2_register(void);

#endif
