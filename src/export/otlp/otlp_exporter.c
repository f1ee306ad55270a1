/* The OTLP exporter, as the signal's protocol says: protobuf or JSON over
 * HTTP, or protobuf in a unary gRPC call over HTTP/2 (the same request
 * message behind gRPC's length prefix, its outcome in the trailers). It
 * talks to libcurl through curl_transport.c, which the Zipkin exporter
 * shares.
 *
 * It runs on the exporter thread only, one request at a time, so it keeps a
 * single easy handle for the life of the exporter: libcurl then reuses the
 * connection to the collector (keep-alive) from one batch to the next. Retry
 * policy (backoff, giving up) belongs to the caller; this file only says
 * whether a failure is worth retrying, following the OTLP/HTTP or OTLP/gRPC
 * rules. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <zlib.h>

#include "base/log.h"
#include "export/otlp/curl_transport.h"
#include "export/otlp/grpc_message.h"
#include "export/otlp/grpc_status.h"
#include "export/otlp/otlp_exporter.h"
#include "export/otlp/otlp_json_encoder.h"
#include "export/otlp/otlp_json_response.h"
#include "export/otlp/otlp_json_transcode.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse pb_response;

/* The entry points the exporter thread finds with dlsym; their types must be
 * exactly the function-pointer types it casts the symbols to. */
OA_EXPORT struct oa_otlp_exporter *oa_otlp_exporter_create(const struct oa_otlp_env *env);
OA_EXPORT enum oa_otlp_result oa_otlp_exporter_send(struct oa_otlp_exporter *e,
                                                    struct oa_span *const *spans, size_t n,
                                                    long *retry_after_ms);
OA_EXPORT void oa_otlp_exporter_destroy(struct oa_otlp_exporter *e);
OA_EXPORT enum oa_otlp_result oa_otlp_exporter_send_encoded(struct oa_otlp_exporter *e, const uint8_t *data,
                                                            size_t len, size_t n, long *retry_after_ms);
OA_EXPORT enum oa_otlp_result oa_otlp_exporter_send_metrics(struct oa_otlp_exporter *e,
                                                            const struct oa_metric_batch *batch,
                                                            long *retry_after_ms);

_Static_assert(__builtin_types_compatible_p(__typeof__(&oa_otlp_exporter_create), oa_otlp_create_fn),
               "oa_otlp_exporter_create does not match oa_otlp_create_fn");
_Static_assert(__builtin_types_compatible_p(__typeof__(&oa_otlp_exporter_send), oa_otlp_send_fn),
               "oa_otlp_exporter_send does not match oa_otlp_send_fn");
_Static_assert(__builtin_types_compatible_p(__typeof__(&oa_otlp_exporter_send_encoded), oa_otlp_send_encoded_fn),
               "oa_otlp_exporter_send_encoded does not match oa_otlp_send_encoded_fn");
_Static_assert(__builtin_types_compatible_p(__typeof__(&oa_otlp_exporter_destroy), oa_otlp_destroy_fn),
               "oa_otlp_exporter_destroy does not match oa_otlp_destroy_fn");
_Static_assert(__builtin_types_compatible_p(__typeof__(&oa_otlp_exporter_send_metrics),
                                            oa_otlp_send_metrics_fn),
               "oa_otlp_exporter_send_metrics does not match oa_otlp_send_metrics_fn");

#define USER_AGENT "OTel-OTLP-Exporter-otelauto/" OA_VERSION

/* A partial_success answer is a few dozen bytes; anything past this is not
 * worth keeping in memory. */
#define RESPONSE_BODY_MAX 8192

/* A Retry-After further away than this is treated as this (a day): the
 * caller's own export deadline will cut it short anyway. */
#define RETRY_AFTER_MAX_SECONDS 86400L

struct oa_otlp_exporter {
    struct oa_otlp_env env;
    struct oa_curl_transport transport;
    bool grpc;
    /* grpc: the Export method's URL on the collector */
    char grpc_url[sizeof ((struct oa_config_otlp *)0)->endpoint + sizeof OA_GRPC_METRICS_METHOD];

    /* The collector failed the last request in a way that may heal (no
     * connection, a time-out, 429/502/503/504): said once when it starts,
     * once when it ends, and at debug level in between. said_down: this
     * exporter said it (the other signal's exporter may have, for the same
     * collector). collector_hash: the endpoint's scheme and authority. */
    bool collector_down;
    bool said_down;
    uint64_t collector_hash;

    /* What the current response said, reset before every request. */
    long retry_after_ms;
    struct oa_grpc_status grpc_status;
    size_t body_len;
    char body[RESPONSE_BODY_MAX];
};

/* The collector (scheme and authority hash) whose outage has been said, 0
 * for none: traces and metrics usually share one collector, and its outage
 * is one fact, said once. An atomic word, not a lock: a fork may happen at
 * any time on another thread. */
static uint64_t outage_said_for;

/* FNV-1a over the endpoint up to the end of its authority ("http://h:p"),
 * never 0. */
static uint64_t collector_hash(const char *endpoint)
{
    const char *p = strstr(endpoint, "://");
    uint64_t h = 14695981039346656037ull;

    p = p ? p + 3 : endpoint;
    p += strcspn(p, "/?#");
    for (const char *c = endpoint; c < p; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ull;
    return h ? h : 1;
}

/* A certificate problem is said once per process, whichever signal (traces,
 * metrics) meets it first: both usually share the collector and its TLS
 * settings. */
static int certificate_error_reported;

/* Seconds until the server wants us back, from a Retry-After value that is
 * either delta-seconds or an HTTP-date; -1 if it is neither. */
static long parse_retry_after_ms(const char *value)
{
    const char *p = value;
    long seconds = 0;

    while (isdigit((unsigned char)*p)) {
        if (seconds < RETRY_AFTER_MAX_SECONDS)
            seconds = seconds * 10 + (*p - '0');
        p++;
    }
    if (p != value && *p == '\0') {
        if (seconds > RETRY_AFTER_MAX_SECONDS)
            seconds = RETRY_AFTER_MAX_SECONDS;
        return seconds * 1000;
    }

    time_t when = curl_getdate(value, NULL);
    if (when == (time_t)-1)
        return -1;
    time_t now = time(NULL);
    if (when <= now)
        return 0;
    if (when - now > RETRY_AFTER_MAX_SECONDS)
        return RETRY_AFTER_MAX_SECONDS * 1000;
    return (long)(when - now) * 1000;
}

static bool header_name_is(const char *line, size_t len, const char *name)
{
    size_t n = strlen(name);
    return len > n && line[n] == ':' && strncasecmp(line, name, n) == 0;
}

/* libcurl hands over one raw header line at a time, status line included. */
static size_t on_response_header(char *line, size_t size, size_t nitems, void *userdata)
{
    struct oa_otlp_exporter *e = userdata;
    size_t len = size * nitems;
    static const char retry_after[] = "Retry-After";

    /* A new status line starts a new response (after a 1xx): forget the old one's headers. */
    if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        e->retry_after_ms = -1;
        oa_grpc_status_reset(&e->grpc_status);
        return len;
    }
    /* gRPC's outcome comes in the trailers, which libcurl hands over here
     * too, or in the headers of a trailers-only answer */
    if (e->grpc) {
        oa_grpc_status_header(&e->grpc_status, line, len);
        return len;
    }
    if (!header_name_is(line, len, retry_after))
        return len;

    char value[128];
    size_t start = sizeof retry_after;
    size_t end = len;
    while (start < end && (line[start] == ' ' || line[start] == '\t'))
        start++;
    while (end > start && isspace((unsigned char)line[end - 1]))
        end--;
    if (end - start < sizeof value) {
        memcpy(value, line + start, end - start);
        value[end - start] = '\0';
        e->retry_after_ms = parse_retry_after_ms(value);
    }
    return len;
}

static size_t on_response_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct oa_otlp_exporter *e = userdata;
    size_t len = size * nmemb;
    size_t room = sizeof e->body - e->body_len;
    size_t keep = len < room ? len : room;

    memcpy(e->body + e->body_len, data, keep);
    e->body_len += keep;
    /* Everything is consumed even when not kept: a short count would abort
     * the transfer and turn a success into an error. */
    return len;
}

/* A configured header line goes on the wire verbatim, so it must look like a
 * header and must not smuggle in a line break. */
static bool header_line_acceptable(const char *line, size_t cap)
{
    size_t len = strnlen(line, cap);
    const char *colon = memchr(line, ':', len);

    if (len == cap || !colon || colon == line)
        return false;
    return strpbrk(line, "\r\n") == NULL;
}

static const char *content_type(enum oa_otlp_protocol protocol)
{
    switch (protocol) {
    case OA_OTLP_HTTP_JSON:
        return "Content-Type: application/json";
    case OA_OTLP_GRPC:
        return "Content-Type: application/grpc";
    default:
        return "Content-Type: application/x-protobuf";
    }
}

static struct curl_slist *build_headers(const struct oa_otlp_env *env)
{
    const struct oa_config_otlp *c = env->otlp;
    bool grpc = c->protocol == OA_OTLP_GRPC;
    struct curl_slist *list = NULL;
    struct curl_slist *grown;
    /* grpc: the deadline the server should know about too */
    char timeout[32] = "grpc-timeout: ";
    bool deadline = grpc && oa_grpc_timeout_value(timeout + strlen(timeout), sizeof timeout - strlen(timeout),
                                                  c->timeout_ms);
    const char *fixed[] = {
        content_type(c->protocol),
        /* No "Expect: 100-continue" round trip for large batches. */
        "Expect:",
        !c->compression_gzip ? NULL : grpc ? "grpc-encoding: gzip" : "Content-Encoding: gzip",
        /* gRPC servers refuse a call without it (it tells proxies that
         * trailers are understood) */
        grpc ? "TE: trailers" : NULL,
        /* an answer may be compressed (inflate_message reads it) */
        grpc ? "grpc-accept-encoding: identity, gzip" : NULL,
        deadline ? timeout : NULL,
    };

    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        if (!fixed[i])
            continue;
        grown = curl_slist_append(list, fixed[i]);
        if (!grown)
            goto fail;
        list = grown;
    }
    int n = c->n_headers < OA_CONFIG_MAX_HEADERS ? c->n_headers : OA_CONFIG_MAX_HEADERS;
    for (int i = 0; i < n; i++) {
        if (!header_line_acceptable(c->headers[i], sizeof c->headers[i])) {
            oa_otlp_env_log(env, OA_LOG_WARN, "OTLP exporter: ignoring malformed header #%d", i + 1);
            continue;
        }
        grown = curl_slist_append(list, c->headers[i]);
        if (!grown)
            goto fail;
        list = grown;
    }
    return list;

fail:
    curl_slist_free_all(list);
    return NULL;
}

/* Compresses in into a malloc'd gzip member (RFC 1952), *out_len bytes
 * after headroom bytes left for the caller. */
static uint8_t *gzip_compress(const uint8_t *in, size_t in_len, size_t headroom, size_t *out_len)
{
    z_stream zs;

    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    uLong cap = deflateBound(&zs, (uLong)in_len);
    uint8_t *out = malloc(headroom + cap);
    if (!out) {
        deflateEnd(&zs);
        return NULL;
    }
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)in_len;
    zs.next_out = out + headroom;
    zs.avail_out = (uInt)cap;
    int rc = deflate(&zs, Z_FINISH);
    *out_len = zs.total_out;
    deflateEnd(&zs);
    if (rc != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    return out;
}

OA_EXPORT struct oa_otlp_exporter *oa_otlp_exporter_create(const struct oa_otlp_env *env)
{
    if (!env || env->abi_version != OA_OTLP_ABI_VERSION) {
        /* env->log may not be where we think it is: say nothing. */
        return NULL;
    }
    if (!env->config) {
        return NULL;
    }
    CURLcode init = oa_curl_transport_init();
    if (init != CURLE_OK) {
        oa_otlp_env_log(env, OA_LOG_ERROR, "OTLP exporter: curl_global_init failed: %s", curl_easy_strerror(init));
        return NULL;
    }

    struct oa_otlp_exporter *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->env = *env;
    e->collector_hash = collector_hash(env->otlp->endpoint);
    const struct oa_config_otlp *c = e->env.otlp;
    e->grpc = c->protocol == OA_OTLP_GRPC;
    /* the span exporter gets config->traces_otlp, the metrics one
     * config->metrics_otlp (see oa_otlp_env) */
    if (e->grpc && !oa_grpc_url(e->grpc_url, sizeof e->grpc_url, c->endpoint,
                                c == &env->config->metrics_otlp ? OA_GRPC_METRICS_METHOD
                                                                : OA_GRPC_TRACES_METHOD)) {
        oa_otlp_env_log(env, OA_LOG_ERROR, "OTLP exporter: %s is not a usable gRPC endpoint", c->endpoint);
        free(e);
        return NULL;
    }
    const struct oa_curl_options options = {
        .endpoint = e->grpc ? e->grpc_url : c->endpoint,
        .user_agent = USER_AGENT,
        .timeout_ms = c->timeout_ms,
        .http2 = e->grpc,
        .ca_file = c->certificate,
        .client_certificate = c->client_certificate,
        .client_key = c->client_key,
        .on_header = on_response_header,
        .header_data = e,
        .on_body = on_response_body,
        .body_data = e,
    };
    if (!oa_curl_transport_open(&e->transport, build_headers(&e->env), &options)) {
        oa_otlp_env_log(env, OA_LOG_ERROR, "OTLP exporter: cannot set up libcurl for %s",
                     e->env.otlp->endpoint);
        oa_otlp_exporter_destroy(e);
        return NULL;
    }
    oa_otlp_env_log(env, OA_LOG_DEBUG, "OTLP exporter: sending to %s as %s%s",
                 e->grpc ? e->grpc_url : e->env.otlp->endpoint,
                 e->grpc                                          ? "grpc"
                 : e->env.otlp->protocol == OA_OTLP_HTTP_JSON ? "http/json"
                                                                  : "http/protobuf",
                 e->env.otlp->compression_gzip ? " (gzip)" : "");
    return e;
}

/* The collector's certificate does not verify, or ours cannot be used. */
static bool certificate_error(CURLcode rc)
{
    switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        return true;
    default:
        return false;
    }
}

static bool status_is_retryable(long status)
{
    return status == 429 || status == 502 || status == 503 || status == 504;
}

/* A success may still carry a partial_success: some items were rejected
 * and must not be sent again, so it is only worth a warning. The metrics
 * response has the same layout (1: {1 int64 rejected, 2 string message}),
 * so the trace response's decoder reads both. body is the response message
 * (for grpc, out of its frame). */
static void report_partial_success(struct oa_otlp_exporter *e, const char *what, const char *body, size_t len)
{
    if (len == 0)
        return;
    if (e->env.otlp->protocol == OA_OTLP_HTTP_JSON) {
        /* the response comes in the request's encoding */
        long long rejected;
        char message[256];
        if (oa_otlp_json_partial_success(body, len, &rejected, message, sizeof message))
            oa_otlp_env_log(&e->env, OA_LOG_WARN, "OTLP exporter: collector rejected %lld %s: %s", rejected, what,
                         message);
        return;
    }
    pb_response *r = opentelemetry__proto__collector__trace__v1__export_trace_service_response__unpack(
        NULL, len, (const uint8_t *)body);
    if (!r)
        return;
    if (r->partial_success &&
        (r->partial_success->rejected_spans > 0 ||
         (r->partial_success->error_message && r->partial_success->error_message[0]))) {
        oa_otlp_env_log(&e->env, OA_LOG_WARN, "OTLP exporter: collector rejected %lld %s: %s",
                     (long long)r->partial_success->rejected_spans, what,
                     r->partial_success->error_message ? r->partial_success->error_message : "");
    }
    opentelemetry__proto__collector__trace__v1__export_trace_service_response__free_unpacked(r, NULL);
}

/* The HTTP answer's body, unless it was cut at RESPONSE_BODY_MAX. */
static void report_http_partial_success(struct oa_otlp_exporter *e, const char *what)
{
    if (e->body_len < sizeof e->body)
        report_partial_success(e, what, e->body, e->body_len);
}

/* Inflates a compressed gRPC response message (gzip or zlib: the server
 * may answer in the request's encoding) into out; the length, or 0 if it
 * does not fit or does not inflate. */
static size_t inflate_message(const uint8_t *in, size_t in_len, char *out, size_t cap)
{
    z_stream zs;
    size_t n = 0;

    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 32) != Z_OK)
        return 0;
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)in_len;
    zs.next_out = (Bytef *)out;
    zs.avail_out = (uInt)cap;
    if (inflate(&zs, Z_FINISH) == Z_STREAM_END)
        n = zs.total_out;
    inflateEnd(&zs);
    return n;
}

/* The gRPC answer's message, out of its frame. */
static void report_grpc_partial_success(struct oa_otlp_exporter *e, const char *what)
{
    const uint8_t *msg;
    size_t msg_len;
    bool compressed;
    char inflated[RESPONSE_BODY_MAX];

    if (e->body_len == sizeof e->body ||
        !oa_grpc_first_message((const uint8_t *)e->body, e->body_len, &compressed, &msg, &msg_len))
        return;
    if (!compressed) {
        report_partial_success(e, what, (const char *)msg, msg_len);
        return;
    }
    report_partial_success(e, what, inflated, inflate_message(msg, msg_len, inflated, sizeof inflated));
}

/* A transient failure: the first of an outage is said at warn level (what
 * happens to the data included), the ones after it at debug level only, so
 * that a collector that is down for an hour costs one line. */
static void collector_unavailable(struct oa_otlp_exporter *e, size_t n, const char *what,
                                  const char *reason, const char *detail)
{
    uint64_t none = 0;

    if (e->collector_down ||
        (!__atomic_compare_exchange_n(&outage_said_for, &none, e->collector_hash, false, __ATOMIC_ACQ_REL,
                                      __ATOMIC_ACQUIRE) &&
         none == e->collector_hash)) {
        /* said already, by this exporter or by the other signal's */
        e->collector_down = true;
        oa_otlp_env_log(&e->env, OA_LOG_DEBUG, "OTLP exporter: sending %zu %s to %s failed again: %s%s%s", n,
                     what, e->env.otlp->endpoint, reason, detail[0] ? ": " : "", detail);
        return;
    }
    e->collector_down = true;
    e->said_down = true;
    oa_otlp_env_log(&e->env, OA_LOG_WARN,
                 "OTLP exporter: the collector at %s is unavailable (%s%s%s); what cannot be sent is "
                 "dropped and counted; nothing more is said until it is reachable again",
                 e->env.otlp->endpoint, reason, detail[0] ? ": " : "", detail);
}

static void collector_available(struct oa_otlp_exporter *e)
{
    uint64_t mine = e->collector_hash;

    if (!e->collector_down)
        return;
    e->collector_down = false;
    if (!e->said_down)
        return;
    e->said_down = false;
    __atomic_compare_exchange_n(&outage_said_for, &mine, 0, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
    oa_otlp_env_log(&e->env, OA_LOG_INFO, "OTLP exporter: the collector at %s is reachable again",
                 e->env.otlp->endpoint);
}

/* The request body as it goes on the wire, made of the encoded request
 * (len bytes at data, inside the malloc'd block encoded, whose ownership
 * it takes): gzip'd if so configured, behind gRPC's length prefix for
 * grpc. Returns the malloc'd block that holds the *wire_len bytes at
 * *wire, or NULL. */
static uint8_t *wire_body(struct oa_otlp_exporter *e, uint8_t *encoded, const uint8_t *data, size_t len,
                          const uint8_t **wire, size_t *wire_len)
{
    size_t headroom = e->grpc ? OA_GRPC_PREFIX_LEN : 0;
    bool gzip = e->env.otlp->compression_gzip;
    size_t body_len = len;
    uint8_t *block;

    if (!gzip && !e->grpc) {
        *wire = data;
        *wire_len = len;
        return encoded;
    }
    if (gzip) {
        block = gzip_compress(data, len, headroom, &body_len);
    } else {
        block = malloc(headroom + len);
        if (block)
            memcpy(block + headroom, data, len);
    }
    free(encoded);
    if (!block || body_len > UINT32_MAX) {
        free(block);
        return NULL;
    }
    if (e->grpc)
        oa_grpc_prefix(block, gzip, (uint32_t)body_len);
    *wire = block;
    *wire_len = headroom + body_len;
    return block;
}

/* What an OTLP/HTTP answer means. */
static enum oa_otlp_result http_outcome(struct oa_otlp_exporter *e, long status, size_t n, const char *what,
                                        size_t wire_len, long *retry_after_ms)
{
    if (status >= 200 && status < 300) {
        collector_available(e);
        oa_otlp_env_log(&e->env, OA_LOG_DEBUG, "OTLP exporter: sent %zu %s, %zu bytes, HTTP %ld", n,
                     what, wire_len, status);
        report_http_partial_success(e, what);
        return OA_OTLP_OK;
    }
    if (status_is_retryable(status)) {
        char reason[64];

        *retry_after_ms = e->retry_after_ms;
        snprintf(reason, sizeof reason, "HTTP %ld, Retry-After %ld ms", status, e->retry_after_ms);
        collector_unavailable(e, n, what, reason, "");
        return OA_OTLP_RETRYABLE;
    }
    oa_otlp_env_log(&e->env, OA_LOG_ERROR, "OTLP exporter: collector answered HTTP %ld, dropping %zu %s",
                 status, n, what);
    return OA_OTLP_FAILED;
}

/* What an OTLP/gRPC answer means: grpc-status (from the trailers, or the
 * headers of a trailers-only answer), else what its HTTP status maps to. */
static enum oa_otlp_result grpc_outcome(struct oa_otlp_exporter *e, long status, size_t n, const char *what,
                                        size_t wire_len, long *retry_after_ms)
{
    const struct oa_grpc_status *g = &e->grpc_status;
    int code = g->code >= 0 ? g->code : oa_grpc_code_from_http(status);
    const char *name = oa_grpc_code_name(code);
    char reason[96];

    if (code == OA_GRPC_OK) {
        collector_available(e);
        oa_otlp_env_log(&e->env, OA_LOG_DEBUG, "OTLP exporter: sent %zu %s, %zu bytes, gRPC OK", n, what,
                     wire_len);
        report_grpc_partial_success(e, what);
        return OA_OTLP_OK;
    }
    if (g->code >= 0)
        snprintf(reason, sizeof reason, "gRPC status %d %s", code, name ? name : "");
    else {
        /* a collector without HTTP/2 on this port (an OTLP/HTTP one, or a
         * proxy that chose HTTP/1.1 in the TLS handshake) says so here */
        long version = 0;
        curl_easy_getinfo(e->transport.curl, CURLINFO_HTTP_VERSION, &version);
        snprintf(reason, sizeof reason, "no gRPC status, %s %ld",
                 version == CURL_HTTP_VERSION_2_0 ? "HTTP/2" : "HTTP/1.x", status);
    }
    if (oa_grpc_code_retryable(code, g->retry_delay_ms >= 0)) {
        size_t len = strlen(reason);
        *retry_after_ms = g->retry_delay_ms;
        if (g->retry_delay_ms >= 0)
            snprintf(reason + len, sizeof reason - len, ", retry in %ld ms", g->retry_delay_ms);
        collector_unavailable(e, n, what, reason, g->message);
        return OA_OTLP_RETRYABLE;
    }
    oa_otlp_env_log(&e->env, OA_LOG_ERROR, "OTLP exporter: collector answered %s%s%s, dropping %zu %s", reason,
                 g->message[0] ? ": " : "", g->message, n, what);
    return OA_OTLP_FAILED;
}

/* Sends one encoded request of len bytes at data, inside the malloc'd
 * block encoded (whose ownership it takes), holding n items ("span(s)",
 * "data point(s)"). */
static enum oa_otlp_result post(struct oa_otlp_exporter *e, uint8_t *encoded, const uint8_t *data, size_t len,
                                size_t n, const char *what, long *retry_after_ms)
{
    size_t wire_len = 0;
    const uint8_t *wire = NULL;
    uint8_t *block;

    *retry_after_ms = -1;
    if (!encoded) {
        oa_otlp_env_log(&e->env, OA_LOG_ERROR, "OTLP exporter: out of memory encoding %zu %s", n, what);
        return OA_OTLP_FAILED;
    }
    block = wire_body(e, encoded, data, len, &wire, &wire_len);
    if (!block) {
        oa_otlp_env_log(&e->env, OA_LOG_ERROR, "OTLP exporter: %s failed for %zu %s",
                     e->env.otlp->compression_gzip ? "gzip" : "framing", n, what);
        return OA_OTLP_FAILED;
    }

    e->retry_after_ms = -1;
    oa_grpc_status_reset(&e->grpc_status);
    e->body_len = 0;
    long status = 0;
    CURLcode rc = oa_curl_transport_post(&e->transport, wire, wire_len, &status);
    free(block);

    if (rc != CURLE_OK && certificate_error(rc)) {
        /* will not heal by itself: said once, then the spans just go */
        bool said = __atomic_exchange_n(&certificate_error_reported, 1, __ATOMIC_RELAXED);
        char *url = NULL;
        curl_easy_getinfo(e->transport.curl, CURLINFO_EFFECTIVE_URL, &url);
        oa_otlp_env_log(&e->env, said ? OA_LOG_DEBUG : OA_LOG_ERROR,
                     "OTLP exporter: TLS certificate problem with %s, %s are dropped: %s%s%s",
                     url ? url : "the collector", what, curl_easy_strerror(rc), e->transport.curl_error[0] ? ": " : "",
                     e->transport.curl_error);
        return OA_OTLP_FAILED;
    }
    if (rc != CURLE_OK && e->grpc && e->grpc_status.code >= 0) {
        /* The call's status arrived (it comes only in the HEADERS that end
         * the stream) and libcurl failed afterwards: libcurl 7.88 returns
         * CURLE_HTTP2_STREAM when it still has request bytes to send on a
         * stream the server has closed, which a server may do once it has
         * answered (RFC 9113, section 8.1; grpc-core refusing a call). The
         * server's answer is the outcome, not the transport's complaint. */
        oa_otlp_env_log(&e->env, OA_LOG_DEBUG, "OTLP exporter: the stream ended early (%s) after the answer",
                     curl_easy_strerror(rc));
        return grpc_outcome(e, status, n, what, wire_len, retry_after_ms);
    }
    if (rc != CURLE_OK) {
        if (oa_curl_error_is_transient(rc)) {
            collector_unavailable(e, n, what, curl_easy_strerror(rc), e->transport.curl_error);
            return OA_OTLP_RETRYABLE;
        }
        oa_otlp_env_log(&e->env, OA_LOG_ERROR, "OTLP exporter: sending %zu %s to %s failed: %s%s%s", n, what,
                     e->env.otlp->endpoint, curl_easy_strerror(rc), e->transport.curl_error[0] ? ": " : "",
                     e->transport.curl_error);
        return OA_OTLP_FAILED;
    }
    if (e->grpc)
        return grpc_outcome(e, status, n, what, wire_len, retry_after_ms);
    return http_outcome(e, status, n, what, wire_len, retry_after_ms);
}

OA_EXPORT enum oa_otlp_result oa_otlp_exporter_send(struct oa_otlp_exporter *e,
                                                    struct oa_span *const *spans, size_t n,
                                                    long *retry_after_ms)
{
    size_t len = 0;

    *retry_after_ms = -1;
    if (n == 0)
        return OA_OTLP_OK;
    const uint8_t *data = NULL;
    uint8_t *encoded;
    if (e->env.otlp->protocol == OA_OTLP_HTTP_JSON)
        data = encoded = oa_otlp_json_encode_traces(e->env.resource, spans, n, &len);
    else
        encoded = oa_otlp_encode_traces_at(e->env.resource, spans, n, &data, &len);
    return post(e, encoded, data, len, n, "span(s)", retry_after_ms);
}

OA_EXPORT enum oa_otlp_result oa_otlp_exporter_send_encoded(struct oa_otlp_exporter *e, const uint8_t *data,
                                                            size_t len, size_t n, long *retry_after_ms)
{
    size_t out_len = len;
    uint8_t *encoded;

    *retry_after_ms = -1;
    if (e->env.otlp->protocol == OA_OTLP_HTTP_JSON) {
        encoded = oa_otlp_json_transcode_traces(data, len, &out_len);
    } else {
        encoded = malloc(len > 0 ? len : 1);
        if (encoded)
            memcpy(encoded, data, len);
    }
    return post(e, encoded, encoded, out_len, n, "span(s)", retry_after_ms);
}

OA_EXPORT enum oa_otlp_result oa_otlp_exporter_send_metrics(struct oa_otlp_exporter *e,
                                                            const struct oa_metric_batch *batch,
                                                            long *retry_after_ms)
{
    size_t len = 0;
    size_t points = 0;

    *retry_after_ms = -1;
    for (size_t i = 0; i < batch->n_metrics; i++)
        points += batch->metrics[i].n_points;
    if (points == 0)
        return OA_OTLP_OK;
    uint8_t *encoded = e->env.otlp->protocol == OA_OTLP_HTTP_JSON
                           ? oa_otlp_json_encode_metrics(e->env.resource, batch, &len)
                           : oa_otlp_encode_metrics(e->env.resource, batch, &len);
    return post(e, encoded, encoded, len, points, "data point(s)", retry_after_ms);
}

OA_EXPORT void oa_otlp_exporter_destroy(struct oa_otlp_exporter *e)
{
    if (!e)
        return;
    if (e->said_down) {
        uint64_t mine = e->collector_hash;
        __atomic_compare_exchange_n(&outage_said_for, &mine, 0, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
    }
    oa_curl_transport_close(&e->transport);
    free(e);
}
