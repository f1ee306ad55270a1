/* The libcurl set-up the exporters of this object share (OTLP/HTTP and
 * Zipkin): libcurl bound to its own definitions and initialised once, one
 * easy handle per exporter with the options every POST of ours wants, one
 * request at a time, on the exporter thread only.
 *
 * An exporter embeds a struct oa_curl_transport, opens it with its headers
 * and options, posts through it and closes it; what a failure or an answer
 * means (retry or not, what is said) stays the exporter's. */
#ifndef OA_CURL_TRANSPORT_H
#define OA_CURL_TRANSPORT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "export/otlp/otlp_exporter.h"

struct oa_curl_transport {
    CURL *curl;
    struct curl_slist *headers;
    bool http2;
    char curl_error[CURL_ERROR_SIZE];
};

/* What differs between the exporters' easy handles. */
struct oa_curl_options {
    const char *endpoint;
    const char *user_agent;
    long timeout_ms;                 /* 0 = no limit */
    /* HTTP/2 only (gRPC): h2c with prior knowledge for http://, ALPN for
     * https:// */
    bool http2;
    /* TLS files, NULL or "" for none */
    const char *ca_file;
    const char *client_certificate;
    const char *client_key;
    /* the response's header lines: NULL for libcurl's default */
    curl_write_callback on_header;
    void *header_data;
    /* the response's body: NULL to swallow it (libcurl's default writes it
     * to stdout) */
    curl_write_callback on_body;
    void *body_data;
};

/* libcurl bound and initialised, once per process: CURLE_OK or why not. */
CURLcode oa_curl_transport_init(void);

/* Takes headers (freed by oa_curl_transport_close even on failure) and sets
 * up t's easy handle; false if that fails (headers NULL included). */
bool oa_curl_transport_open(struct oa_curl_transport *t, struct curl_slist *headers,
                            const struct oa_curl_options *o);

/* POSTs len bytes at data (still the caller's: libcurl keeps no pointer to
 * them after) and waits for the answer. Over HTTP/2, a request that fails
 * in the framing layer on a reused connection is made once more at once on
 * a new one (see the .c). On CURLE_OK, *status is the HTTP
 * status; otherwise t->curl_error may say more. */
CURLcode oa_curl_transport_post(struct oa_curl_transport *t, const void *data, size_t len, long *status);

void oa_curl_transport_close(struct oa_curl_transport *t);

/* No connection, a time-out, a connection cut: the collector may be back
 * soon. (A certificate that does not verify will not heal.) */
bool oa_curl_error_is_transient(CURLcode rc);

/* env->log has no format attribute: messages are formatted (and checked)
 * here and passed as "%s"; nothing above the configured level. */
void oa_otlp_env_log(const struct oa_otlp_env *env, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
