/* HTTP span names and attributes (stable HTTP semantic conventions). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "protocols/common/conn_peer.h"
#include "protocols/http1/http_span.h"

const char *const oa_http_known_methods[OA_HTTP_KNOWN_METHODS] = {
    "CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"};

/* Indices in oa_http_known_methods */
enum { M_CONNECT, M_DELETE, M_GET, M_HEAD, M_OPTIONS, M_PATCH, M_POST, M_PUT, M_TRACE };

/* Once per traced request: the length picks the one or two candidates,
 * compared with fixed-size memcmp (no strlen of every name). */
int oa_http_method_index(const char *m, size_t len)
{
#define IS(i, n) (memcmp(m, oa_http_known_methods[i], n) == 0)
    switch (len) {
    case 3:
        return IS(M_GET, 3) ? M_GET : IS(M_PUT, 3) ? M_PUT : OA_HTTP_METHOD_OTHER;
    case 4:
        return IS(M_POST, 4) ? M_POST : IS(M_HEAD, 4) ? M_HEAD : OA_HTTP_METHOD_OTHER;
    case 5:
        return IS(M_PATCH, 5) ? M_PATCH : IS(M_TRACE, 5) ? M_TRACE : OA_HTTP_METHOD_OTHER;
    case 6:
        return IS(M_DELETE, 6) ? M_DELETE : OA_HTTP_METHOD_OTHER;
    case 7:
        return IS(M_OPTIONS, 7) ? M_OPTIONS : IS(M_CONNECT, 7) ? M_CONNECT : OA_HTTP_METHOD_OTHER;
    default:
        return OA_HTTP_METHOD_OTHER;
    }
#undef IS
}

static const char *known_method(const char *m, size_t len)
{
    int i = oa_http_method_index(m, len);
    return i < OA_HTTP_KNOWN_METHODS ? oa_http_known_methods[i] : NULL;
}

void oa_http_span_set_method(struct oa_span *s, const char *method, size_t len)
{
    const char *m = known_method(method, len);
    /* the known names and _OTHER are constants: pointed to, not copied */
    if (m != NULL) {
        /* a known method is the very token it matched: len is its length */
        oa_span_set_static_name(s, m);
        oa_span_attr_static_inline(s, "http.request.method", m, len);
    } else {
        oa_span_set_static_name(s, "HTTP");
        oa_span_attr_static_inline(s, "http.request.method", "_OTHER", 6);
        oa_span_attr_str_inline(s, "http.request.method_original", method, len);
    }
}

static void set_version(struct oa_span *s, int version_minor)
{
    const char *v = version_minor == 0 ? "1.0" : "1.1";
    oa_span_attr_static_inline(s, "network.protocol.version", v, 3);
}

/* Splits "host", "host:port", "[v6]:port". Returns port or -1. */
int oa_http_split_host(const char *v, size_t len, const char **host, size_t *host_len)
{
    *host = v;
    *host_len = len;
    size_t colon = len;
    if (len > 0 && v[0] == '[') {
        const char *close = memchr(v, ']', len);
        if (close == NULL)
            return -1;
        *host = v + 1;
        *host_len = (size_t)(close - v) - 1;
        size_t after = (size_t)(close - v) + 1;
        if (after < len && v[after] == ':')
            colon = after;
        else
            return -1;
    } else {
        const char *c = memchr(v, ':', len);
        if (c == NULL)
            return -1;
        colon = (size_t)(c - v);
        *host_len = colon;
    }
    int port = 0;
    if (colon + 1 >= len)
        return -1;
    for (size_t i = colon + 1; i < len; i++) {
        if (v[i] < '0' || v[i] > '9' || port > 65535)
            return -1;
        port = port * 10 + (v[i] - '0');
    }
    return port <= 65535 ? port : -1;
}

/* network.peer.address and .port; the peer's port (or -1), its text and
 * the text's length. */
static int set_peer(struct oa_span *s, struct oa_conn *c, const char **addr, size_t *addr_len)
{
    int port = oa_conn_peer_text(c, addr);
    *addr_len = strlen(*addr);
    if (port >= 0) {
        oa_span_attr_str_inline(s, "network.peer.address", *addr, *addr_len);
        oa_span_attr_int_inline(s, "network.peer.port", port);
    }
    return port;
}

/* Whether the comma-separated list names the key (exact bytes: query keys
 * are case-sensitive), spaces and tabs around each name ignored. */
static bool listed_key(const char *list, const char *k, size_t len)
{
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *name = p;
        while (*p && *p != ',')
            p++;
        const char *end = p;
        while (end > name && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        if ((size_t)(end - name) == len && len > 0 && memcmp(name, k, len) == 0)
            return true;
    }
    return false;
}

/* The semantic conventions' four keys (url.query), AWS Signature Version 4's
 * presigned-URL keys, which carry the signature, the access key and the
 * session token, and the user's own (OTELAUTO_URL_SENSITIVE_QUERY_KEYS). */
static bool is_sensitive_param(const char *k, size_t len)
{
    /* the length picks the one or two candidates (no strlen of every name) */
#define IS(name) (memcmp(k, name, sizeof(name) - 1) == 0)
    bool known;
    switch (len) {
    case 3:
        known = IS("sig");
        break;
    case 9:
        known = IS("Signature");
        break;
    case 14:
        known = IS("AWSAccessKeyId");
        break;
    case 15:
        known = IS("X-Amz-Signature");
        break;
    case 16:
        known = IS("X-Goog-Signature") || IS("X-Amz-Credential");
        break;
    case 20:
        known = IS("X-Amz-Security-Token");
        break;
    default:
        known = false;
        break;
    }
#undef IS
    return known || (oa_config.url_sensitive_query_keys[0] != '\0' &&
                     listed_key(oa_config.url_sensitive_query_keys, k, len));
}

/* Appends [s, s+n) to out at *pos, keeping room for the NUL. */
static void append(char *out, size_t cap, size_t *pos, const char *s, size_t n)
{
    if (*pos + 1 >= cap)
        return;
    size_t room = cap - 1 - *pos;
    if (n > room)
        n = room;
    memcpy(out + *pos, s, n);
    *pos += n;
}

static void append_redacted_query(char *out, size_t cap, size_t *pos, const char *q, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && q[end] != '&')
            end++;
        const char *eq = memchr(q + i, '=', end - i);
        if (eq != NULL && is_sensitive_param(q + i, (size_t)(eq - (q + i)))) {
            append(out, cap, pos, q + i, (size_t)(eq - (q + i)) + 1);
            append(out, cap, pos, "REDACTED", 8);
        } else {
            append(out, cap, pos, q + i, end - i);
        }
        if (end < len)
            append(out, cap, pos, "&", 1);
        i = end + 1;
    }
}

size_t oa_http_redact_url(const char *url, size_t len, char *out, size_t cap)
{
    size_t pos = 0;
    const char *query = memchr(url, '?', len);
    size_t before_query = query != NULL ? (size_t)(query - url) : len;
    const char *scheme_end = NULL;
    for (size_t i = 0; i + 2 < before_query; i++) {
        if (url[i] == ':' && url[i + 1] == '/' && url[i + 2] == '/') {
            scheme_end = url + i + 3;
            break;
        }
    }
    size_t copied = 0;
    if (scheme_end != NULL) {
        size_t auth_start = (size_t)(scheme_end - url);
        size_t auth_end = auth_start;
        while (auth_end < before_query && url[auth_end] != '/')
            auth_end++;
        const char *at = NULL;
        for (size_t i = auth_start; i < auth_end; i++)
            if (url[i] == '@')
                at = url + i;
        append(out, cap, &pos, url, auth_start);
        if (at != NULL) {
            append(out, cap, &pos, "REDACTED:REDACTED@", 18);
            copied = (size_t)(at - url) + 1;
        } else {
            copied = auth_start;
        }
    }
    append(out, cap, &pos, url + copied, before_query - copied);
    if (query != NULL) {
        append(out, cap, &pos, "?", 1);
        append_redacted_query(out, cap, &pos, query + 1, len - before_query - 1);
    }
    if (cap > 0)
        out[pos] = '\0';
    return pos;
}

static int default_port(const struct oa_conn *c)
{
    return c->tls ? 443 : 80;
}

static const struct oa_http1_header *header(const struct oa_http1_head *h, enum oa_http1_known name)
{
    return oa_http1_find_known(h, name, NULL);
}

void oa_http_request_of_head(struct oa_http_request *r, const struct oa_http1_head *h)
{
    const struct oa_http1_header *host = header(h, OA_HTTP1_H_HOST);
    const struct oa_http1_header *ua = header(h, OA_HTTP1_H_USER_AGENT);
    const struct oa_http1_header *xff = header(h, OA_HTTP1_H_X_FORWARDED_FOR);
    r->method = h->method;
    r->method_len = h->method_len;
    r->target = h->target;
    r->target_len = h->target_len;
    r->host = host != NULL ? host->value : NULL;
    r->host_len = host != NULL ? host->value_len : 0;
    r->user_agent = ua != NULL ? ua->value : NULL;
    r->user_agent_len = ua != NULL ? ua->value_len : 0;
    r->forwarded_for = xff != NULL ? xff->value : NULL;
    r->forwarded_for_len = xff != NULL ? xff->value_len : 0;
    r->version_minor = h->version_minor;
}

void oa_http_span_server_start(struct oa_span *s, const struct oa_http1_head *h, struct oa_conn *c)
{
    struct oa_http_request r;
    oa_http_request_of_head(&r, h);
    oa_http_span_server_start_request(s, &r, c);
}

void oa_http_span_client_start(struct oa_span *s, const struct oa_http1_head *h, struct oa_conn *c)
{
    struct oa_http_request r;
    oa_http_request_of_head(&r, h);
    oa_http_span_client_start_request(s, &r, c);
}

void oa_http_span_server_start_request(struct oa_span *s, const struct oa_http_request *r, struct oa_conn *c)
{
    s->kind = OA_SPAN_KIND_SERVER;
    oa_http_span_set_method(s, r->method, r->method_len);
    /* origin-form "/p?q", or absolute-form "http://h/p?q" sent to proxies */
    const char *t = r->target;
    size_t tl = r->target_len;
    if (tl > 0 && t[0] != '/' && t[0] != '*') {
        const char *sep = tl > 3 ? memmem(t, tl, "://", 3) : NULL;
        if (sep != NULL) {
            const char *path = memchr(sep + 3, '/', tl - (size_t)(sep + 3 - t));
            tl = path != NULL ? tl - (size_t)(path - t) : 0;
            t = path != NULL ? path : "/";
            if (tl == 0)
                tl = 1;
        }
    }
    const char *q = memchr(t, '?', tl);
    size_t path_len = q != NULL ? (size_t)(q - t) : tl;
    oa_span_attr_str_inline(s, "url.path", t, path_len);
    if (q != NULL) {
        char buf[OA_SPAN_MAX_VALUE_LEN];
        size_t pos = 0;
        append_redacted_query(buf, sizeof(buf), &pos, q + 1, tl - path_len - 1);
        oa_span_attr_str_inline(s, "url.query", buf, pos);
    }
    oa_span_attr_static_inline(s, "url.scheme", c->tls ? "https" : "http", c->tls ? 5 : 4);
    if (r->host != NULL && r->host_len > 0) {
        const char *hn;
        size_t hl;
        int port = oa_http_split_host(r->host, r->host_len, &hn, &hl);
        oa_span_attr_str_inline(s, "server.address", hn, hl);
        oa_span_attr_int_inline(s, "server.port", port >= 0 ? port : default_port(c));
    }
    const char *addr;
    size_t addr_len;
    int pport = set_peer(s, c, &addr, &addr_len);
    if (r->forwarded_for != NULL && r->forwarded_for_len > 0) {
        const char *xff = r->forwarded_for;
        const char *comma = memchr(xff, ',', r->forwarded_for_len);
        size_t n = comma != NULL ? (size_t)(comma - xff) : r->forwarded_for_len;
        while (n > 0 && (xff[n - 1] == ' ' || xff[n - 1] == '\t'))
            n--;
        oa_span_attr_str_inline(s, "client.address", xff, n);
    } else if (pport >= 0) {
        oa_span_attr_str_inline(s, "client.address", addr, addr_len);
    }
    set_version(s, r->version_minor);
    if (r->user_agent != NULL)
        oa_span_attr_str_inline(s, "user_agent.original", r->user_agent, r->user_agent_len);
}

/* server.address and server.port of a client request: from the Host
 * header's value (NULL: none), else the peer (its text addr, addr_len and
 * port peer_port). */
static int client_server(const char *host, size_t host_len, const struct oa_conn *c, const char *addr,
                         size_t addr_len, int peer_port, const char **host_name, size_t *host_name_len)
{
    if (host != NULL && host_len > 0) {
        int p = oa_http_split_host(host, host_len, host_name, host_name_len);
        return p >= 0 ? p : default_port(c);
    }
    *host_name = addr;
    *host_name_len = addr_len;
    return peer_port;
}

int oa_http_client_server(const struct oa_http1_head *h, struct oa_conn *c, const char **host_name,
                          size_t *host_len)
{
    const struct oa_http1_header *host = header(h, OA_HTTP1_H_HOST);
    const char *addr;
    int port = oa_conn_peer_text(c, &addr);
    return client_server(host != NULL ? host->value : NULL, host != NULL ? host->value_len : 0, c, addr,
                         strlen(addr), port, host_name, host_len);
}

/* Appends ":port" (port may be -1: a peer not known). */
static void append_port(char *out, size_t cap, size_t *pos, int port)
{
    char digits[12];
    size_t n = sizeof digits;
    unsigned v = port < 0 ? 0u - (unsigned)port : (unsigned)port;
    do {
        digits[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    if (port < 0)
        digits[--n] = '-';
    digits[--n] = ':';
    append(out, cap, pos, digits + n, sizeof digits - n);
}

/* Whether [v, v+len) holds a byte oa_http_redact_url would read as the end
 * of a URL's authority, its userinfo or its query. */
static bool has_url_delimiter(const char *v, size_t len)
{
    static const bool delimiter[256] = {['@'] = true, ['/'] = true, ['?'] = true};
    for (size_t i = 0; i < len; i++)
        if (delimiter[(unsigned char)v[i]])
            return true;
    return false;
}

/* url.full of a request whose target is not an absolute URL, into url
 * (OA_SPAN_MAX_VALUE_LEN bytes): scheme, authority (the Host value, else
 * the peer) and target, redacted. Exactly oa_http_redact_url of the URL
 * put together, written in one pass when nothing in it needs more than the
 * query's masking: an authority with no '@', '/' or '?', a target that is
 * a path, and the whole within the buffer. */
static size_t origin_url(char *url, const struct oa_http_request *r, const struct oa_conn *c, const char *addr,
                         size_t addr_len, int peer_port)
{
    const size_t cap = OA_SPAN_MAX_VALUE_LEN;
    size_t pos = 0;
    append(url, cap, &pos, c->tls ? "https://" : "http://", c->tls ? 8 : 7);
    size_t authority = pos;
    if (r->host != NULL && r->host_len > 0) {
        append(url, cap, &pos, r->host, r->host_len);
    } else {
        bool v6 = c->peer.ss_family == AF_INET6;
        if (v6)
            append(url, cap, &pos, "[", 1);
        append(url, cap, &pos, addr, addr_len);
        if (v6)
            append(url, cap, &pos, "]", 1);
        append_port(url, cap, &pos, peer_port);
    }
    const char *t = r->target;
    size_t tl = r->target_len;
    if (tl > 0 && t[0] == '/' && pos + tl < cap && !has_url_delimiter(url + authority, pos - authority)) {
        const char *q = memchr(t, '?', tl);
        size_t path_len = q != NULL ? (size_t)(q - t) + 1 : tl;
        append(url, cap, &pos, t, path_len);
        if (q != NULL)
            append_redacted_query(url, cap, &pos, q + 1, tl - path_len);
        url[pos] = '\0';
        return pos;
    }
    char raw[OA_SPAN_MAX_VALUE_LEN];
    memcpy(raw, url, pos);
    append(raw, cap, &pos, t, tl);
    return oa_http_redact_url(raw, pos, url, cap);
}

void oa_http_span_client_start_request(struct oa_span *s, const struct oa_http_request *r, struct oa_conn *c)
{
    s->kind = OA_SPAN_KIND_CLIENT;
    oa_http_span_set_method(s, r->method, r->method_len);
    const char *addr;
    size_t addr_len;
    int pport = set_peer(s, c, &addr, &addr_len);

    const char *hn;
    size_t hl;
    int port = client_server(r->host, r->host_len, c, addr, addr_len, pport, &hn, &hl);
    char url[OA_SPAN_MAX_VALUE_LEN];
    size_t url_len;
    if (r->target_len > 0 && r->target[0] != '/' && memmem(r->target, r->target_len, "://", 3) != NULL)
        url_len = oa_http_redact_url(r->target, r->target_len, url, sizeof(url));
    else
        url_len = origin_url(url, r, c, addr, addr_len, pport);
    oa_span_attr_str_inline(s, "url.full", url, url_len);
    if (hl > 0)
        oa_span_attr_str_inline(s, "server.address", hn, hl);
    if (port >= 0)
        oa_span_attr_int_inline(s, "server.port", port);
    set_version(s, r->version_minor);
}

void oa_http_span_client_url(struct oa_span *s, const char *url, size_t len)
{
    char redacted[OA_SPAN_MAX_VALUE_LEN];
    size_t n = oa_http_redact_url(url, len, redacted, sizeof(redacted));
    oa_span_attr_str_inline(s, "url.full", redacted, n);
    const char *host;
    size_t host_len;
    int port = oa_http_url_server(url, len, &host, &host_len);
    if (host_len > 0)
        oa_span_attr_str_inline(s, "server.address", host, host_len);
    if (port >= 0)
        oa_span_attr_int_inline(s, "server.port", port);
}

int oa_http_url_server(const char *url, size_t len, const char **host, size_t *host_len)
{
    *host = url;
    *host_len = 0;
    const char *sep = memmem(url, len, "://", 3);
    if (sep == NULL)
        return -1;
    bool tls = (size_t)(sep - url) == 5 && strncasecmp(url, "https", 5) == 0;
    const char *auth = sep + 3;
    const char *end = auth;
    while (end < url + len && *end != '/' && *end != '?' && *end != '#')
        end++;
    const char *at = NULL;
    for (const char *p = auth; p < end; p++)
        if (*p == '@')
            at = p;
    if (at != NULL)
        auth = at + 1;
    int port = oa_http_split_host(auth, (size_t)(end - auth), host, host_len);
    return port >= 0 ? port : tls ? 443 : 80;
}

void oa_http_span_finish(struct oa_span *s, int status, const char *error)
{
    oa_http_span_finish_at(s, status, error, oa_now_unix_nano());
}

void oa_http_span_finish_at(struct oa_span *s, int status, const char *error, uint64_t end_unix_nano)
{
    if (status > 0)
        oa_span_attr_int_inline(s, "http.response.status_code", status);
    int error_from = s->kind == OA_SPAN_KIND_SERVER ? 500 : 400;
    if (error != NULL) {
        s->status_code = OA_STATUS_ERROR;
        oa_span_attr_static_inline(s, "error.type", error, strlen(error));
    } else if (status >= error_from) {
        /* (32 bytes, although "%d" takes 11 at most: the inline setter's
         * copy reads up to 32 for a value that long, and the compiler sees
         * that path) */
        char code[32];
        int n = snprintf(code, sizeof(code), "%d", status);
        s->status_code = OA_STATUS_ERROR;
        oa_span_attr_str_inline(s, "error.type", code, (size_t)n);
    }
    s->end_unix_nano = end_unix_nano;
}
