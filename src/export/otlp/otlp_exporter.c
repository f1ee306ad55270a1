/* The OTLP/HTTP exporter, protobuf or JSON as the signal's protocol says:
 * the only file that talks to libcurl.
 *
 * It runs on the exporter thread only, one request at a time, so it keeps a
 * single easy handle for the life of the exporter: libcurl then reuses the
 * connection to the collector (keep-alive) from one batch to the next. Retry
 * policy (backoff, giving up) belongs to the caller; this file only says
 * whether a failure is worth retrying, following the OTLP/HTTP rules. */
#include <ctype.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <zlib.h>

#include "base/log.h"
#include "export/otlp/otlp_exporter.h"
#include "export/otlp/otlp_json_encoder.h"
#include "export/otlp/otlp_json_response.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse pb_response;

/* The entry points the exporter thread finds with dlsym; their types must be
 * exactly the function-pointer types it casts the symbols to. */
OA_EXPORT struct oa_otlp_exporter *oa_otlp_exporter_create(const struct oa_otlp_env *env);
OA_EXPORT enum oa_otlp_result oa_otlp_exporter_send(struct oa_otlp_exporter *e,
                                                    struct oa_span *const *spans, size_t n,
                                                    long *retry_after_ms);
OA_EXPORT void oa_otlp_exporter_destroy(struct oa_otlp_exporter *e);
OA_EXPORT enum oa_otlp_result oa_otlp_exporter_send_metrics(struct oa_otlp_exporter *e,
                                                            const struct oa_metric_batch *batch,
                                                            long *retry_after_ms);

_Static_assert(__builtin_types_compatible_p(__typeof__(&oa_otlp_exporter_create), oa_otlp_create_fn),
               "oa_otlp_exporter_create does not match oa_otlp_create_fn");
_Static_assert(__builtin_types_compatible_p(__typeof__(&oa_otlp_exporter_send), oa_otlp_send_fn),
               "oa_otlp_exporter_send does not match oa_otlp_send_fn");
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
    CURL *curl;
    struct curl_slist *headers;
    char curl_error[CURL_ERROR_SIZE];

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

static pthread_once_t curl_init_once = PTHREAD_ONCE_INIT;

/* A certificate problem is said once per process, whichever signal (traces,
 * metrics) meets it first: both usually share the collector and its TLS
 * settings. */
static int certificate_error_reported;
static CURLcode curl_init_result = CURLE_FAILED_INIT;

/* OPENSSL_INIT_NO_ATEXIT of <openssl/crypto.h> (OpenSSL 1.1.1 and 3). */
#define OPENSSL_NO_ATEXIT_OPTION 0x00080000ull

typedef int (*openssl_init_crypto_fn)(uint64_t opts, const void *settings);

/* libcurl's own definitions of the functions the shim interposes (the
 * OA_LIBCURL entries of sys/interposed.def). Called by name, these would
 * resolve to the preloaded shim's hooks (hooks/libcurl.c), which come first
 * in the global lookup order, and reach libcurl only because this thread is
 * marked as ours. Looked up through a handle of libcurl itself, they are
 * libcurl's: a handle's lookup covers that library and its dependencies,
 * never the preloaded objects. libcurl's own socket calls still go through
 * the shim's libc hooks (libcurl is not ours to change): this thread's
 * "inside the library" flag (oa_in_library, set by the exporter thread for
 * its whole life) makes those pass straight through. */
static struct {
#define OA_LIBCURL(name, field, ret, params, args) ret(*field) params;
#define OA_LIBCURL_VARARGS(name, field, ret, params) ret(*field) params;
#include "sys/interposed.def"
} libcurl;

/* libcurl's dlopen handle: the one this object was linked against, found
 * from a libcurl function the shim does not interpose. NULL if not found. */
static void *own_libcurl(void)
{
    Dl_info info;
    if (dladdr((void *)curl_global_init, &info) == 0 || info.dli_fname == NULL)
        return NULL;
    void *curl = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
    if (curl == NULL)
        (void)dlerror();
    return curl;
}

/* Fills `libcurl`; where a function cannot be found that way, the linked
 * name (the shim's hook, which passes through on this thread) stands in. */
static void bind_libcurl(void *curl)
{
#define BIND(field, name)                                                     \
    do {                                                                      \
        void *p_ = curl != NULL ? dlsym(curl, #name) : NULL;                  \
        if (p_ == NULL)                                                       \
            (void)dlerror();                                                  \
        libcurl.field = p_ != NULL ? (__typeof__(libcurl.field))p_ : (name); \
    } while (0)
#define OA_LIBCURL(name, field, ret, params, args) BIND(field, name);
#define OA_LIBCURL_VARARGS(name, field, ret, params) BIND(field, name);
#include "sys/interposed.def"
#undef BIND
}

/* OpenSSL registers its clean-up with atexit when it is first initialised.
 * Done by libcurl on our thread, that registration races with the program's
 * exit: a main thread already running exit handlers runs OPENSSL_cleanup at
 * once, while this thread is still initialising OpenSSL (it then crashes on
 * a freed lock), or before the exit flush sends the last spans. So when
 * libcurl's TLS library is OpenSSL and nobody has initialised it yet, it is
 * initialised here without that registration (the process is ending anyway;
 * a program that initialised OpenSSL before keeps its own). Found through
 * libcurl's own dependencies: this object does not link OpenSSL. */
static void openssl_init_without_atexit(void *curl)
{
    if (curl == NULL)
        return;
    openssl_init_crypto_fn init = (openssl_init_crypto_fn)dlsym(curl, "OPENSSL_init_crypto");
    if (init != NULL)
        (void)init(OPENSSL_NO_ATEXIT_OPTION, NULL);
    else
        (void)dlerror();
}

static void curl_init(void)
{
    /* kept open: this object depends on libcurl, which stays loaded anyway */
    void *curl = own_libcurl();
    bind_libcurl(curl);
    openssl_init_without_atexit(curl);
    /* Never paired with curl_global_cleanup: the host program may use
     * libcurl itself, and the init is reference-counted anyway. */
    curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* env->log has no format attribute and is variadic, so messages are
 * formatted here (with compile-time format checking) and passed as "%s". */
static void exporter_log(const struct oa_otlp_env *env, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void exporter_log(const struct oa_otlp_env *env, int level, const char *fmt, ...)
{
    char line[512];
    va_list ap;

    if (!env->log)
        return;
    if (env->config && level > env->config->log_level)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    env->log(level, "%s", line);
}

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

static struct curl_slist *build_headers(const struct oa_otlp_env *env)
{
    const struct oa_config_otlp *c = env->otlp;
    struct curl_slist *list = NULL;
    struct curl_slist *grown;
    const char *fixed[] = {
        c->protocol == OA_OTLP_HTTP_JSON ? "Content-Type: application/json"
                                         : "Content-Type: application/x-protobuf",
        /* No "Expect: 100-continue" round trip for large batches. */
        "Expect:",
        c->compression_gzip ? "Content-Encoding: gzip" : NULL,
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
            exporter_log(env, OA_LOG_WARN, "OTLP exporter: ignoring malformed header #%d", i + 1);
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

/* Compresses in into a malloc'd gzip member (RFC 1952) */
static uint8_t *gzip_compress(const uint8_t *in, size_t in_len, size_t *out_len)
{
    z_stream zs;

    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    uLong cap = deflateBound(&zs, (uLong)in_len);
    uint8_t *out = malloc(cap);
    if (!out) {
        deflateEnd(&zs);
        return NULL;
    }
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)in_len;
    zs.next_out = out;
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

static bool set_options(struct oa_otlp_exporter *e)
{
    const struct oa_config_otlp *c = e->env.otlp;
    CURL *h = e->curl;
    bool ok = true;

    ok = ok && libcurl.easy_setopt(h, CURLOPT_URL, e->env.otlp->endpoint) == CURLE_OK;
    ok = ok && libcurl.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
    ok = ok && libcurl.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK;
    /* The exporter thread may not be the only one; libcurl must not use
     * SIGALRM for timeouts or touch SIGPIPE handling of the host program. */
    ok = ok && libcurl.easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
    ok = ok && libcurl.easy_setopt(h, CURLOPT_HTTPHEADER, e->headers) == CURLE_OK;
    ok = ok && libcurl.easy_setopt(h, CURLOPT_USERAGENT, USER_AGENT) == CURLE_OK;
    ok = ok && libcurl.easy_setopt(h, CURLOPT_POST, 1L) == CURLE_OK;
    ok = ok && libcurl.easy_setopt(h, CURLOPT_ERRORBUFFER, e->curl_error) == CURLE_OK;
    ok = ok && libcurl.easy_setopt(h, CURLOPT_HEADERFUNCTION, on_response_header) == CURLE_OK;
    ok = ok && libcurl.easy_setopt(h, CURLOPT_HEADERDATA, e) == CURLE_OK;
    ok = ok && libcurl.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_response_body) == CURLE_OK;
    ok = ok && libcurl.easy_setopt(h, CURLOPT_WRITEDATA, e) == CURLE_OK;
    /* HTTPS: the collector is verified (libcurl's default, stated here so it
     * cannot be lost), against the configured CA bundle if there is one */
    ok = ok && libcurl.easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK;
    ok = ok && libcurl.easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK;
    if (c->certificate[0])
        ok = ok && libcurl.easy_setopt(h, CURLOPT_CAINFO, c->certificate) == CURLE_OK;
    if (c->client_certificate[0])
        ok = ok && libcurl.easy_setopt(h, CURLOPT_SSLCERT, c->client_certificate) == CURLE_OK;
    if (c->client_key[0])
        ok = ok && libcurl.easy_setopt(h, CURLOPT_SSLKEY, c->client_key) == CURLE_OK;
    if (c->timeout_ms > 0) {
        ok = ok && libcurl.easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms) == CURLE_OK;
        ok = ok && libcurl.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms) == CURLE_OK;
    }
    return ok;
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
    pthread_once(&curl_init_once, curl_init);
    if (curl_init_result != CURLE_OK) {
        exporter_log(env, OA_LOG_ERROR, "OTLP exporter: curl_global_init failed: %s",
                     curl_easy_strerror(curl_init_result));
        return NULL;
    }

    struct oa_otlp_exporter *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->env = *env;
    e->collector_hash = collector_hash(env->otlp->endpoint);
    e->curl = curl_easy_init();
    e->headers = build_headers(&e->env);
    if (!e->curl || !e->headers || !set_options(e)) {
        exporter_log(env, OA_LOG_ERROR, "OTLP exporter: cannot set up libcurl for %s",
                     e->env.otlp->endpoint);
        oa_otlp_exporter_destroy(e);
        return NULL;
    }
    exporter_log(env, OA_LOG_DEBUG, "OTLP exporter: sending to %s as %s%s", e->env.otlp->endpoint,
                 e->env.otlp->protocol == OA_OTLP_HTTP_JSON ? "http/json" : "http/protobuf",
                 e->env.otlp->compression_gzip ? " (gzip)" : "");
    return e;
}

static bool curl_error_is_transient(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false;
    }
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

/* A 2xx may still carry a partial_success: some items were rejected and
 * must not be sent again, so it is only worth a warning. The metrics
 * response has the same layout (1: {1 int64 rejected, 2 string message}),
 * so the trace response's decoder reads both. */
static void report_partial_success(struct oa_otlp_exporter *e, const char *what)
{
    if (e->body_len == 0 || e->body_len == sizeof e->body)
        return;
    if (e->env.otlp->protocol == OA_OTLP_HTTP_JSON) {
        /* the response comes in the request's encoding */
        long long rejected;
        char message[256];
        if (oa_otlp_json_partial_success(e->body, e->body_len, &rejected, message, sizeof message))
            exporter_log(&e->env, OA_LOG_WARN, "OTLP exporter: collector rejected %lld %s: %s", rejected, what,
                         message);
        return;
    }
    pb_response *r = opentelemetry__proto__collector__trace__v1__export_trace_service_response__unpack(
        NULL, e->body_len, (const uint8_t *)e->body);
    if (!r)
        return;
    if (r->partial_success &&
        (r->partial_success->rejected_spans > 0 ||
         (r->partial_success->error_message && r->partial_success->error_message[0]))) {
        exporter_log(&e->env, OA_LOG_WARN, "OTLP exporter: collector rejected %lld %s: %s",
                     (long long)r->partial_success->rejected_spans, what,
                     r->partial_success->error_message ? r->partial_success->error_message : "");
    }
    opentelemetry__proto__collector__trace__v1__export_trace_service_response__free_unpacked(r, NULL);
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
        exporter_log(&e->env, OA_LOG_DEBUG, "OTLP exporter: sending %zu %s to %s failed again: %s%s%s", n,
                     what, e->env.otlp->endpoint, reason, detail[0] ? ": " : "", detail);
        return;
    }
    e->collector_down = true;
    e->said_down = true;
    exporter_log(&e->env, OA_LOG_WARN,
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
    exporter_log(&e->env, OA_LOG_INFO, "OTLP exporter: the collector at %s is reachable again",
                 e->env.otlp->endpoint);
}

/* POSTs one encoded request of len bytes at data, inside the malloc'd
 * block encoded (whose ownership it takes), holding n items ("span(s)",
 * "data point(s)"). */
static enum oa_otlp_result post(struct oa_otlp_exporter *e, uint8_t *encoded, const uint8_t *data, size_t len,
                                size_t n, const char *what, long *retry_after_ms)
{
    size_t wire_len;
    const uint8_t *wire;
    uint8_t *block;

    *retry_after_ms = -1;
    if (!encoded) {
        exporter_log(&e->env, OA_LOG_ERROR, "OTLP exporter: out of memory encoding %zu %s", n, what);
        return OA_OTLP_FAILED;
    }
    block = encoded;
    wire = data;
    wire_len = len;
    if (e->env.otlp->compression_gzip) {
        block = gzip_compress(data, len, &wire_len);
        free(encoded);
        encoded = NULL;
        wire = block;
        if (!block) {
            exporter_log(&e->env, OA_LOG_ERROR, "OTLP exporter: gzip failed for %zu %s", n, what);
            return OA_OTLP_FAILED;
        }
    }

    e->retry_after_ms = -1;
    e->body_len = 0;
    e->curl_error[0] = '\0';
    libcurl.easy_setopt(e->curl, CURLOPT_POSTFIELDS, (const char *)wire);
    libcurl.easy_setopt(e->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)wire_len);
    CURLcode rc = libcurl.easy_perform(e->curl);
    /* libcurl must not keep a pointer to the freed body. */
    libcurl.easy_setopt(e->curl, CURLOPT_POSTFIELDS, NULL);
    free(block);

    if (rc != CURLE_OK && certificate_error(rc)) {
        /* will not heal by itself: said once, then the spans just go */
        bool said = __atomic_exchange_n(&certificate_error_reported, 1, __ATOMIC_RELAXED);
        char *url = NULL;
        curl_easy_getinfo(e->curl, CURLINFO_EFFECTIVE_URL, &url);
        exporter_log(&e->env, said ? OA_LOG_DEBUG : OA_LOG_ERROR,
                     "OTLP exporter: TLS certificate problem with %s, %s are dropped: %s%s%s",
                     url ? url : "the collector", what, curl_easy_strerror(rc), e->curl_error[0] ? ": " : "",
                     e->curl_error);
        return OA_OTLP_FAILED;
    }
    if (rc != CURLE_OK) {
        if (curl_error_is_transient(rc)) {
            collector_unavailable(e, n, what, curl_easy_strerror(rc), e->curl_error);
            return OA_OTLP_RETRYABLE;
        }
        exporter_log(&e->env, OA_LOG_ERROR, "OTLP exporter: sending %zu %s to %s failed: %s%s%s", n, what,
                     e->env.otlp->endpoint, curl_easy_strerror(rc), e->curl_error[0] ? ": " : "",
                     e->curl_error);
        return OA_OTLP_FAILED;
    }

    long status = 0;
    curl_easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300) {
        collector_available(e);
        exporter_log(&e->env, OA_LOG_DEBUG, "OTLP exporter: sent %zu %s, %zu bytes, HTTP %ld", n,
                     what, wire_len, status);
        report_partial_success(e, what);
        return OA_OTLP_OK;
    }
    if (status_is_retryable(status)) {
        char reason[64];

        *retry_after_ms = e->retry_after_ms;
        snprintf(reason, sizeof reason, "HTTP %ld, Retry-After %ld ms", status, e->retry_after_ms);
        collector_unavailable(e, n, what, reason, "");
        return OA_OTLP_RETRYABLE;
    }
    exporter_log(&e->env, OA_LOG_ERROR, "OTLP exporter: collector answered HTTP %ld, dropping %zu %s",
                 status, n, what);
    return OA_OTLP_FAILED;
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
    if (e->curl)
        libcurl.easy_cleanup(e->curl);
    curl_slist_free_all(e->headers);
    free(e);
}
