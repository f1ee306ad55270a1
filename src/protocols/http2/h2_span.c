/* HTTP/2 and gRPC span names and attributes (see h2_span.h). */
#include <stdio.h>
#include <string.h>

#include "protocols/common/conn_peer.h"
#include "protocols/http1/http_span.h"
#include "protocols/http2/h2_span.h"

static const char *const grpc_codes[] = {
    "OK",        "CANCELLED",         "UNKNOWN",          "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
    "UNIMPLEMENTED", "INTERNAL",      "UNAVAILABLE",      "DATA_LOSS",        "UNAUTHENTICATED",
};
#define GRPC_CODES (int)(sizeof(grpc_codes) / sizeof(grpc_codes[0]))

bool oa_h2_grpc_status_fails(enum oa_span_kind kind, int code)
{
    if (kind != OA_SPAN_KIND_SERVER)
        return code != 0;
    return code == 2 || code == 4 || code == 12 || code == 13 || code == 14 || code == 15;
}

/* url.path and url.query (its secret values masked, as HTTP/1's). */
static void set_path(struct oa_span *s, const struct oa_h2_request *h)
{
    char buf[OA_SPAN_MAX_VALUE_LEN];
    size_t n = oa_http_redact_url(h->path, h->path_len, buf, sizeof(buf));
    const char *q = memchr(buf, '?', n);
    size_t path_len = q != NULL ? (size_t)(q - buf) : n;
    oa_span_attr_str(s, "url.path", buf, path_len);
    if (q != NULL)
        oa_span_attr_str(s, "url.query", q + 1, n - path_len - 1);
}

/* Appends n bytes of v at *pos in out (cap bytes), cut at the end. */
static void append(char *out, size_t cap, size_t *pos, const char *v, size_t n)
{
    size_t room = cap - *pos;
    if (n > room)
        n = room;
    memcpy(out + *pos, v, n);
    *pos += n;
}

/* Client: url.full from :scheme, :authority (else the peer) and :path,
 * its credentials and secret query values masked as HTTP/1's. Put
 * together by hand: snprintf cost ~1,200 instructions a stream. */
static void set_url_full(struct oa_span *s, const struct oa_h2_request *h)
{
    const char *peer = h->peer;
    int peer_port = h->peer_port;
    char raw[OA_SPAN_MAX_VALUE_LEN];
    size_t n = 0;
    append(raw, sizeof(raw), &n, h->scheme, h->scheme_len);
    append(raw, sizeof(raw), &n, "://", 3);
    if (h->authority_len > 0) {
        append(raw, sizeof(raw), &n, h->authority, h->authority_len);
    } else {
        /* an IPv6 address in brackets, as HTTP/1's url.full has it */
        bool v6 = memchr(peer, ':', h->peer_len) != NULL;
        char port[8];
        size_t p = sizeof(port);
        unsigned v = peer_port > 0 ? (unsigned)peer_port : 0;
        do
            port[--p] = (char)('0' + v % 10);
        while ((v /= 10) > 0 && p > 1);
        port[--p] = ':';
        if (v6)
            append(raw, sizeof(raw), &n, "[", 1);
        append(raw, sizeof(raw), &n, peer, h->peer_len);
        if (v6)
            append(raw, sizeof(raw), &n, "]", 1);
        if (peer_port >= 0)
            append(raw, sizeof(raw), &n, port + p, sizeof(port) - p);
    }
    append(raw, sizeof(raw), &n, h->path, h->path_len);
    char url[OA_SPAN_MAX_VALUE_LEN];
    size_t m = oa_http_redact_url(raw, n, url, sizeof(url));
    oa_span_attr_str(s, "url.full", url, m);
}

bool oa_h2_grpc_path(const char *p, size_t n, const char **service, size_t *service_len, const char **method,
                     size_t *method_len)
{
    const char *slash = n > 1 && p[0] == '/' ? memchr(p + 1, '/', n - 1) : NULL;
    if (slash == NULL || slash + 1 == p + n || memchr(slash + 1, '/', (size_t)(p + n - slash - 1)) != NULL) {
        *service_len = *method_len = 0;
        *service = *method = p;
        return false;
    }
    *service = p + 1;
    *service_len = (size_t)(slash - p - 1);
    *method = slash + 1;
    *method_len = (size_t)(p + n - slash - 1);
    return true;
}

/* "/pkg.Service/Method": rpc.service and rpc.method, and the span name. */
static void set_rpc(struct oa_span *s, const struct oa_h2_request *h)
{
    oa_span_attr_str(s, "rpc.system", "grpc", 4);
    const char *service, *method;
    size_t service_len, method_len;
    if (!oa_h2_grpc_path(h->path, h->path_len, &service, &service_len, &method, &method_len)) {
        oa_span_set_name(s, "grpc", 4);
        return;
    }
    oa_span_set_name(s, h->path + 1, h->path_len - 1);
    oa_span_attr_str(s, "rpc.service", service, service_len);
    oa_span_attr_str(s, "rpc.method", method, method_len);
}

void oa_h2_request_of(struct oa_h2_request *q, const struct oa_h2_head *h, struct oa_conn *c)
{
    q->method = h->method;
    q->method_len = h->method_len;
    q->scheme = h->scheme;
    q->scheme_len = h->scheme_len;
    q->path = h->path;
    q->path_len = h->path_len;
    q->authority = h->authority;
    q->authority_len = h->authority_len;
    q->user_agent = h->user_agent;
    q->user_agent_len = h->user_agent_len;
    q->grpc = h->grpc;
    q->tls = c->tls;
    q->peer_port = oa_conn_peer_text_len(c, &q->peer, &q->peer_len);
}

void oa_h2_span_request(struct oa_span *s, const struct oa_h2_request *h)
{
    bool server = s->kind == OA_SPAN_KIND_SERVER;
    if (h->grpc) {
        set_rpc(s, h);
    } else {
        oa_http_span_set_method(s, h->method, h->method_len);
    }
    const char *addr = h->peer;
    int pport = h->peer_port;
    if (server) {
        if (!h->grpc)
            set_path(s, h);
        if (h->scheme_len > 0)
            oa_span_attr_str(s, "url.scheme", h->scheme, h->scheme_len);
    } else if (!h->grpc && h->scheme_len > 0) {
        set_url_full(s, h);
    }
    if (pport >= 0) {
        oa_span_attr_str(s, "network.peer.address", addr, h->peer_len);
        oa_span_attr_int(s, "network.peer.port", pport);
        if (server)
            oa_span_attr_str(s, "client.address", addr, h->peer_len);
    }
    const char *host = addr;
    size_t host_len = pport >= 0 ? h->peer_len : 0;
    int port = server ? -1 : pport;
    if (h->authority_len > 0) {
        int p = oa_http_split_host(h->authority, h->authority_len, &host, &host_len);
        port = p >= 0 ? p : h->tls ? 443 : 80;
    }
    if ((h->authority_len > 0 || !server) && host_len > 0) {
        oa_span_attr_str(s, "server.address", host, host_len);
        if (port >= 0)
            oa_span_attr_int(s, "server.port", port);
    }
    oa_span_attr_str(s, "network.protocol.version", "2", 1);
    if (server && h->user_agent_len > 0)
        oa_span_attr_str(s, "user_agent.original", h->user_agent, h->user_agent_len);
}

void oa_h2_span_finish_at(struct oa_span *s, const struct oa_h2_outcome *o, uint64_t end)
{
    if (o->status > 0)
        oa_span_attr_int(s, "http.response.status_code", o->status);
    const char *error = o->error;
    char code[16];
    if (o->grpc && o->grpc_status >= 0) {
        oa_span_attr_int(s, "rpc.grpc.status_code", o->grpc_status);
        if (error == NULL && oa_h2_grpc_status_fails((enum oa_span_kind)s->kind, o->grpc_status)) {
            if (o->grpc_status < GRPC_CODES) {
                error = grpc_codes[o->grpc_status];
            } else {
                snprintf(code, sizeof(code), "%d", o->grpc_status);
                error = code;
            }
        }
    } else if (error == NULL && o->status >= (s->kind == OA_SPAN_KIND_SERVER ? 500 : 400)) {
        snprintf(code, sizeof(code), "%d", o->status);
        error = code;
    } else if (error == NULL && o->grpc && s->kind == OA_SPAN_KIND_CLIENT) {
        /* a gRPC call that ended without a status */
        error = "missing_grpc_status";
    }
    if (error != NULL) {
        s->status_code = OA_STATUS_ERROR;
        oa_span_attr_str(s, "error.type", error, strlen(error));
    }
    s->end_unix_nano = end;
}
