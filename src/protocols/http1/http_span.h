/* HTTP span names and attributes by the stable HTTP semantic conventions
 * (otel-facts §5), from a parsed request head and the connection's peer. */
#ifndef OA_HTTP_SPAN_H
#define OA_HTTP_SPAN_H

#include "wire/fd_table.h"
#include "protocols/http1/http1_parser.h"
#include "trace/span.h"

/* The methods the conventions know (case-sensitive); any other is _OTHER. */
#define OA_HTTP_KNOWN_METHODS 9
#define OA_HTTP_METHOD_OTHER OA_HTTP_KNOWN_METHODS
extern const char *const oa_http_known_methods[OA_HTTP_KNOWN_METHODS];
/* Index in oa_http_known_methods, or OA_HTTP_METHOD_OTHER. */
int oa_http_method_index(const char *method, size_t len);

/* server.address and server.port of a client request: from the Host header,
 * else the peer. Returns the port, or -1 if unknown. */
int oa_http_client_server(const struct oa_http1_head *h, struct oa_conn *c, const char **host,
                          size_t *host_len);

/* Splits "host", "host:port", "[v6]:port" (a Host header, an HTTP/2
 * :authority): the host into *host, *host_len; returns the port, or -1. */
int oa_http_split_host(const char *v, size_t len, const char **host, size_t *host_len);

/* What the attributes of a request's span are made of: the request line and
 * the first of the three headers they read (value NULL: no such header). A
 * raw span keeps these bytes alone and builds from them on the exporter
 * thread (http_raw_span.c); the program's thread reads them off its head. */
struct oa_http_request {
    const char *method;
    size_t method_len;
    const char *target;
    size_t target_len;
    const char *host;          /* Host */
    size_t host_len;
    const char *user_agent;    /* User-Agent */
    size_t user_agent_len;
    const char *forwarded_for; /* X-Forwarded-For */
    size_t forwarded_for_len;
    int version_minor;         /* 0 for HTTP/1.0, 1 for HTTP/1.1 */
};

/* The request of a parsed request head (pointers into it). */
void oa_http_request_of_head(struct oa_http_request *r, const struct oa_http1_head *h);

void oa_http_span_server_start(struct oa_span *s, const struct oa_http1_head *h, struct oa_conn *c);
void oa_http_span_client_start(struct oa_span *s, const struct oa_http1_head *h, struct oa_conn *c);
/* The same from the request's parts. */
void oa_http_span_server_start_request(struct oa_span *s, const struct oa_http_request *r, struct oa_conn *c);
void oa_http_span_client_start_request(struct oa_span *s, const struct oa_http_request *r, struct oa_conn *c);
/* Span name and http.request.method[_original] from a method token (the
 * name and a known method point to constants). */
void oa_http_span_set_method(struct oa_span *s, const char *method, size_t len);
/* url.full (redacted), server.address and server.port from an absolute URL. */
void oa_http_span_client_url(struct oa_span *s, const char *url, size_t len);
/* server.address (a pointer into url, empty if none) and server.port of an
 * absolute URL; returns the port (the scheme's default when none is given),
 * or -1 when url is not absolute. */
int oa_http_url_server(const char *url, size_t len, const char **host, size_t *host_len);
/* status: the final response status, or 0 if none arrived. error: why the
 * exchange failed (an error.type value with static lifetime: the span
 * points to it), or NULL. */
void oa_http_span_finish(struct oa_span *s, int status, const char *error);
/* The same, ended at a time recorded earlier (a raw span's). */
void oa_http_span_finish_at(struct oa_span *s, int status, const char *error, uint64_t end_unix_nano);

/* Writes url with its query values for known signature parameters replaced
 * by REDACTED and any user:password@ replaced by REDACTED:REDACTED@. Returns
 * the length written (NUL-terminated, truncated to cap). Exposed for tests. */
size_t oa_http_redact_url(const char *url, size_t len, char *out, size_t cap);

#endif
