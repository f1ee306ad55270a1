/* The Zipkin v2 JSON span exporter's transport: one JSON array per batch,
 * POSTed with libcurl to OTEL_EXPORTER_ZIPKIN_ENDPOINT.
 *
 * Like the OTLP exporter (otlp_exporter.c), it runs on the exporter thread
 * only, one request at a time, with one easy handle kept for its life (the
 * connection is reused from batch to batch), and it only says whether a
 * failure is worth retrying: backoff and giving up are the batch
 * processor's. Zipkin's collector answers 202 to a batch it takes, 4xx to
 * one it never will, 5xx while it cannot. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "base/log.h"
#include "export/otlp/zipkin_exporter.h"

OA_EXPORT struct oa_zipkin_exporter *oa_zipkin_exporter_create(const struct oa_otlp_env *env);
OA_EXPORT enum oa_otlp_result oa_zipkin_exporter_send(struct oa_zipkin_exporter *e,
                                                      struct oa_span *const *spans, size_t n,
                                                      long *retry_after_ms);
OA_EXPORT void oa_zipkin_exporter_destroy(struct oa_zipkin_exporter *e);

_Static_assert(__builtin_types_compatible_p(__typeof__(&oa_zipkin_exporter_create), oa_zipkin_create_fn),
               "oa_zipkin_exporter_create does not match oa_zipkin_create_fn");
_Static_assert(__builtin_types_compatible_p(__typeof__(&oa_zipkin_exporter_send), oa_zipkin_send_fn),
               "oa_zipkin_exporter_send does not match oa_zipkin_send_fn");
_Static_assert(__builtin_types_compatible_p(__typeof__(&oa_zipkin_exporter_destroy), oa_zipkin_destroy_fn),
               "oa_zipkin_exporter_destroy does not match oa_zipkin_destroy_fn");

#define USER_AGENT "otelauto-zipkin/" OA_VERSION

/* OPENSSL_INIT_NO_ATEXIT of <openssl/crypto.h> (OpenSSL 1.1.1 and 3). */
#define OPENSSL_NO_ATEXIT_OPTION 0x00080000ull

typedef int (*openssl_init_crypto_fn)(uint64_t opts, const void *settings);

struct oa_zipkin_exporter {
    struct oa_otlp_env env;
    const struct oa_config_zipkin *zipkin;
    CURL *curl;
    struct curl_slist *headers;
    char curl_error[CURL_ERROR_SIZE];
    /* the collector failed the last request in a way that may heal: said
     * once when that starts and once when it ends */
    bool collector_down;
};

/* libcurl's own definitions of the functions the shim interposes, for the
 * reason otlp_exporter.c gives: called by name they would reach the shim's
 * hooks first (which pass through on this thread, at a cost). Only the
 * three this file calls. */
static struct {
    CURLcode (*easy_setopt)(CURL *h, CURLoption option, ...);
    CURLcode (*easy_perform)(CURL *h);
    void (*easy_cleanup)(CURL *h);
} libcurl;

static pthread_once_t curl_init_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result = CURLE_FAILED_INIT;

static void *libcurl_symbol(void *handle, const char *name, void *linked)
{
    void *p = handle ? dlsym(handle, name) : NULL;
    if (!p)
        (void)dlerror();
    return p ? p : linked;
}

/* libcurl bound to its own definitions, then initialised once. OpenSSL (when
 * it is libcurl's TLS library) is initialised first without its atexit
 * clean-up, which would otherwise race with the program's exit (see
 * otlp_exporter.c's openssl_init_without_atexit); curl_global_init is
 * reference-counted, so that the OTLP exporter does it too costs nothing. */
static void curl_init(void)
{
    Dl_info info;
    void *handle = NULL;

    if (dladdr((void *)curl_global_init, &info) != 0 && info.dli_fname) {
        handle = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
        if (!handle)
            (void)dlerror();
    }
    *(void **)&libcurl.easy_setopt = libcurl_symbol(handle, "curl_easy_setopt", (void *)curl_easy_setopt);
    *(void **)&libcurl.easy_perform = libcurl_symbol(handle, "curl_easy_perform", (void *)curl_easy_perform);
    *(void **)&libcurl.easy_cleanup = libcurl_symbol(handle, "curl_easy_cleanup", (void *)curl_easy_cleanup);
    if (handle) {
        openssl_init_crypto_fn init = (openssl_init_crypto_fn)dlsym(handle, "OPENSSL_init_crypto");
        if (init)
            (void)init(OPENSSL_NO_ATEXIT_OPTION, NULL);
        else
            (void)dlerror();
    }
    /* never paired with curl_global_cleanup: the program may use libcurl */
    curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* env->log has no format attribute: messages are formatted (and checked)
 * here and passed as "%s". */
static void exporter_log(const struct oa_otlp_env *env, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void exporter_log(const struct oa_otlp_env *env, int level, const char *fmt, ...)
{
    char line[512];
    va_list ap;

    if (!env->log || (env->config && level > env->config->log_level))
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    env->log(level, "%s", line);
}

/* A response body is of no use to us, and an unread one is written to
 * stdout by libcurl's default: swallow it. */
static size_t discard_body(char *data, size_t size, size_t nmemb, void *user)
{
    (void)data;
    (void)user;
    return size * nmemb;
}

static bool set_options(struct oa_zipkin_exporter *e)
{
    CURL *h = e->curl;
    bool ok = true;

    ok = ok && libcurl.easy_setopt(h, CURLOPT_URL, e->zipkin->endpoint) == CURLE_OK;
    ok = ok && libcurl.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
    ok = ok && libcurl.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK;
    /* not SIGALRM for time-outs, nor the program's SIGPIPE handling */
    ok = ok && libcurl.easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
    ok = ok && libcurl.easy_setopt(h, CURLOPT_HTTPHEADER, e->headers) == CURLE_OK;
    ok = ok && libcurl.easy_setopt(h, CURLOPT_USERAGENT, USER_AGENT) == CURLE_OK;
    ok = ok && libcurl.easy_setopt(h, CURLOPT_POST, 1L) == CURLE_OK;
    ok = ok && libcurl.easy_setopt(h, CURLOPT_ERRORBUFFER, e->curl_error) == CURLE_OK;
    ok = ok && libcurl.easy_setopt(h, CURLOPT_WRITEFUNCTION, discard_body) == CURLE_OK;
    ok = ok && libcurl.easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK;
    ok = ok && libcurl.easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK;
    if (e->zipkin->timeout_ms > 0) {
        ok = ok && libcurl.easy_setopt(h, CURLOPT_TIMEOUT_MS, e->zipkin->timeout_ms) == CURLE_OK;
        ok = ok && libcurl.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, e->zipkin->timeout_ms) == CURLE_OK;
    }
    return ok;
}

static struct curl_slist *build_headers(void)
{
    struct curl_slist *list = curl_slist_append(NULL, "Content-Type: application/json");
    /* no "Expect: 100-continue" round trip for large batches */
    struct curl_slist *grown = list ? curl_slist_append(list, "Expect:") : NULL;

    if (!grown)
        curl_slist_free_all(list);
    return grown;
}

OA_EXPORT struct oa_zipkin_exporter *oa_zipkin_exporter_create(const struct oa_otlp_env *env)
{
    /* a mismatched environment may have its log elsewhere: say nothing */
    if (!env || env->abi_version != OA_OTLP_ABI_VERSION || !env->config)
        return NULL;
    pthread_once(&curl_init_once, curl_init);
    if (curl_init_result != CURLE_OK) {
        exporter_log(env, OA_LOG_ERROR, "Zipkin exporter: curl_global_init failed: %s",
                     curl_easy_strerror(curl_init_result));
        return NULL;
    }
    struct oa_zipkin_exporter *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->env = *env;
    e->zipkin = &env->config->traces_zipkin;
    e->curl = curl_easy_init();
    e->headers = build_headers();
    if (!e->curl || !e->headers || !set_options(e)) {
        exporter_log(env, OA_LOG_ERROR, "Zipkin exporter: cannot set up libcurl for %s", e->zipkin->endpoint);
        oa_zipkin_exporter_destroy(e);
        return NULL;
    }
    exporter_log(env, OA_LOG_DEBUG, "Zipkin exporter: sending to %s", e->zipkin->endpoint);
    return e;
}

/* No connection, a time-out, a connection cut: the collector may be back
 * soon. (A certificate that does not verify will not heal: not retried.) */
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

/* The first failure of an outage at warn level, the ones after it at debug
 * level: a collector down for an hour costs one line. */
static void collector_unavailable(struct oa_zipkin_exporter *e, size_t n, const char *reason)
{
    int level = e->collector_down ? OA_LOG_DEBUG : OA_LOG_WARN;

    e->collector_down = true;
    exporter_log(&e->env, level,
                 "Zipkin exporter: %s is unavailable (%s) with %zu span(s); they are retried, then "
                 "dropped and counted",
                 e->zipkin->endpoint, reason, n);
}

static void collector_available(struct oa_zipkin_exporter *e)
{
    if (!e->collector_down)
        return;
    e->collector_down = false;
    exporter_log(&e->env, OA_LOG_INFO, "Zipkin exporter: %s is reachable again", e->zipkin->endpoint);
}

OA_EXPORT enum oa_otlp_result oa_zipkin_exporter_send(struct oa_zipkin_exporter *e,
                                                      struct oa_span *const *spans, size_t n,
                                                      long *retry_after_ms)
{
    size_t len = 0;
    char reason[CURL_ERROR_SIZE + 64];

    *retry_after_ms = -1;
    if (n == 0)
        return OA_OTLP_OK;
    char *json = oa_zipkin_encode_spans(e->env.resource, spans, n, &len);
    if (!json) {
        exporter_log(&e->env, OA_LOG_ERROR, "Zipkin exporter: out of memory encoding %zu span(s)", n);
        return OA_OTLP_FAILED;
    }
    e->curl_error[0] = '\0';
    libcurl.easy_setopt(e->curl, CURLOPT_POSTFIELDS, json);
    libcurl.easy_setopt(e->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    CURLcode rc = libcurl.easy_perform(e->curl);
    /* libcurl must not keep a pointer to the freed body */
    libcurl.easy_setopt(e->curl, CURLOPT_POSTFIELDS, NULL);
    free(json);

    if (rc != CURLE_OK) {
        snprintf(reason, sizeof reason, "%s%s%s", curl_easy_strerror(rc), e->curl_error[0] ? ": " : "",
                 e->curl_error);
        if (curl_error_is_transient(rc)) {
            collector_unavailable(e, n, reason);
            return OA_OTLP_RETRYABLE;
        }
        exporter_log(&e->env, OA_LOG_ERROR, "Zipkin exporter: sending %zu span(s) to %s failed: %s", n,
                     e->zipkin->endpoint, reason);
        return OA_OTLP_FAILED;
    }
    long status = 0;
    curl_easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300) {
        collector_available(e);
        exporter_log(&e->env, OA_LOG_DEBUG, "Zipkin exporter: sent %zu span(s), %zu bytes, HTTP %ld", n, len,
                     status);
        return OA_OTLP_OK;
    }
    if (status == 429 || (status >= 500 && status < 600)) {
        snprintf(reason, sizeof reason, "HTTP %ld", status);
        collector_unavailable(e, n, reason);
        return OA_OTLP_RETRYABLE;
    }
    exporter_log(&e->env, OA_LOG_ERROR, "Zipkin exporter: %s answered HTTP %ld, dropping %zu span(s)",
                 e->zipkin->endpoint, status, n);
    return OA_OTLP_FAILED;
}

OA_EXPORT void oa_zipkin_exporter_destroy(struct oa_zipkin_exporter *e)
{
    if (!e)
        return;
    if (e->curl)
        libcurl.easy_cleanup(e->curl);
    curl_slist_free_all(e->headers);
    free(e);
}
