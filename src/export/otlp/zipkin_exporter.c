/* The Zipkin v2 JSON span exporter's transport: one JSON array per batch,
 * POSTed with libcurl to OTEL_EXPORTER_ZIPKIN_ENDPOINT.
 *
 * Like the OTLP exporter (otlp_exporter.c), it runs on the exporter thread
 * only, one request at a time, with one easy handle kept for its life (the
 * connection is reused from batch to batch), and it only says whether a
 * failure is worth retrying: backoff and giving up are the batch
 * processor's. Zipkin's collector answers 202 to a batch it takes, 4xx to
 * one it never will, 5xx while it cannot. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "base/log.h"
#include "export/otlp/curl_transport.h"
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

struct oa_zipkin_exporter {
    struct oa_otlp_env env;
    const struct oa_config_zipkin *zipkin;
    struct oa_curl_transport transport;
    /* the collector failed the last request in a way that may heal: said
     * once when that starts and once when it ends */
    bool collector_down;
};

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
    CURLcode init = oa_curl_transport_init();
    if (init != CURLE_OK) {
        oa_otlp_env_log(env, OA_LOG_ERROR, "Zipkin exporter: curl_global_init failed: %s",
                        curl_easy_strerror(init));
        return NULL;
    }
    struct oa_zipkin_exporter *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->env = *env;
    e->zipkin = &env->config->traces_zipkin;
    /* the response body is of no use: swallowed */
    const struct oa_curl_options options = {
        .endpoint = e->zipkin->endpoint,
        .user_agent = USER_AGENT,
        .timeout_ms = e->zipkin->timeout_ms,
    };
    if (!oa_curl_transport_open(&e->transport, build_headers(), &options)) {
        oa_otlp_env_log(env, OA_LOG_ERROR, "Zipkin exporter: cannot set up libcurl for %s", e->zipkin->endpoint);
        oa_zipkin_exporter_destroy(e);
        return NULL;
    }
    oa_otlp_env_log(env, OA_LOG_DEBUG, "Zipkin exporter: sending to %s", e->zipkin->endpoint);
    return e;
}

/* The first failure of an outage at warn level, the ones after it at debug
 * level: a collector down for an hour costs one line. */
static void collector_unavailable(struct oa_zipkin_exporter *e, size_t n, const char *reason)
{
    int level = e->collector_down ? OA_LOG_DEBUG : OA_LOG_WARN;

    e->collector_down = true;
    oa_otlp_env_log(&e->env, level,
                 "Zipkin exporter: %s is unavailable (%s) with %zu span(s); they are retried, then "
                 "dropped and counted",
                 e->zipkin->endpoint, reason, n);
}

static void collector_available(struct oa_zipkin_exporter *e)
{
    if (!e->collector_down)
        return;
    e->collector_down = false;
    oa_otlp_env_log(&e->env, OA_LOG_INFO, "Zipkin exporter: %s is reachable again", e->zipkin->endpoint);
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
        oa_otlp_env_log(&e->env, OA_LOG_ERROR, "Zipkin exporter: out of memory encoding %zu span(s)", n);
        return OA_OTLP_FAILED;
    }
    long status = 0;
    CURLcode rc = oa_curl_transport_post(&e->transport, json, len, &status);
    free(json);

    if (rc != CURLE_OK) {
        snprintf(reason, sizeof reason, "%s%s%s", curl_easy_strerror(rc), e->transport.curl_error[0] ? ": " : "",
                 e->transport.curl_error);
        if (oa_curl_error_is_transient(rc)) {
            collector_unavailable(e, n, reason);
            return OA_OTLP_RETRYABLE;
        }
        oa_otlp_env_log(&e->env, OA_LOG_ERROR, "Zipkin exporter: sending %zu span(s) to %s failed: %s", n,
                        e->zipkin->endpoint, reason);
        return OA_OTLP_FAILED;
    }
    if (status >= 200 && status < 300) {
        collector_available(e);
        oa_otlp_env_log(&e->env, OA_LOG_DEBUG, "Zipkin exporter: sent %zu span(s), %zu bytes, HTTP %ld", n, len,
                     status);
        return OA_OTLP_OK;
    }
    if (status == 429 || (status >= 500 && status < 600)) {
        snprintf(reason, sizeof reason, "HTTP %ld", status);
        collector_unavailable(e, n, reason);
        return OA_OTLP_RETRYABLE;
    }
    oa_otlp_env_log(&e->env, OA_LOG_ERROR, "Zipkin exporter: %s answered HTTP %ld, dropping %zu span(s)",
                 e->zipkin->endpoint, status, n);
    return OA_OTLP_FAILED;
}

OA_EXPORT void oa_zipkin_exporter_destroy(struct oa_zipkin_exporter *e)
{
    if (!e)
        return;
    oa_curl_transport_close(&e->transport);
    free(e);
}
