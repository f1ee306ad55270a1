/* The libcurl set-up shared by the exporters of this object: see
 * curl_transport.h. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "export/otlp/curl_transport.h"

/* OPENSSL_INIT_NO_ATEXIT of <openssl/crypto.h> (OpenSSL 1.1.1 and 3). */
#define OPENSSL_NO_ATEXIT_OPTION 0x00080000ull

typedef int (*openssl_init_crypto_fn)(uint64_t opts, const void *settings);

/* (libcurl allows 16 KiB to 2 MiB) */
#define UPLOAD_BUFFER_BYTES (512L * 1024)

static pthread_once_t curl_init_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result = CURLE_FAILED_INIT;

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

CURLcode oa_curl_transport_init(void)
{
    pthread_once(&curl_init_once, curl_init);
    return curl_init_result;
}

/* A response body nobody wants, which libcurl's default would write to
 * stdout: swallowed. */
static size_t discard_body(char *data, size_t size, size_t nmemb, void *user)
{
    (void)data;
    (void)user;
    return size * nmemb;
}

static bool set_options(struct oa_curl_transport *t, const struct oa_curl_options *o)
{
    CURL *h = t->curl;
    bool ok = true;

    ok = ok && libcurl.easy_setopt(h, CURLOPT_URL, o->endpoint) == CURLE_OK;
    ok = ok && libcurl.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
    ok = ok && libcurl.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK;
    /* The exporter thread may not be the only one; libcurl must not use
     * SIGALRM for timeouts or touch SIGPIPE handling of the host program. */
    ok = ok && libcurl.easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
    ok = ok && libcurl.easy_setopt(h, CURLOPT_HTTPHEADER, t->headers) == CURLE_OK;
    ok = ok && libcurl.easy_setopt(h, CURLOPT_USERAGENT, o->user_agent) == CURLE_OK;
    ok = ok && libcurl.easy_setopt(h, CURLOPT_POST, 1L) == CURLE_OK;
    /* libcurl copies a POST body into its upload buffer and sends it a
     * buffer at a time, each with its own poll, send and a look at the
     * connection: with the default 64 KiB, a batch of 512 spans (~200 KiB)
     * took four rounds. One buffer that holds a usual batch sends it at
     * once. Allocated at the first upload, kept with the handle, and touched
     * only as far as the largest body: bounded, not grown. */
    ok = ok && libcurl.easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, UPLOAD_BUFFER_BYTES) == CURLE_OK;
    ok = ok && libcurl.easy_setopt(h, CURLOPT_ERRORBUFFER, t->curl_error) == CURLE_OK;
    /* prior knowledge: no HTTP/1.1 Upgrade round trip on a cleartext
     * connection; HTTPS still negotiates h2 in the TLS handshake */
    if (o->http2)
        ok = ok && libcurl.easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE) == CURLE_OK;
    if (o->on_header) {
        ok = ok && libcurl.easy_setopt(h, CURLOPT_HEADERFUNCTION, o->on_header) == CURLE_OK;
        ok = ok && libcurl.easy_setopt(h, CURLOPT_HEADERDATA, o->header_data) == CURLE_OK;
    }
    if (o->on_body) {
        ok = ok && libcurl.easy_setopt(h, CURLOPT_WRITEFUNCTION, o->on_body) == CURLE_OK;
        ok = ok && libcurl.easy_setopt(h, CURLOPT_WRITEDATA, o->body_data) == CURLE_OK;
    } else {
        ok = ok && libcurl.easy_setopt(h, CURLOPT_WRITEFUNCTION, discard_body) == CURLE_OK;
    }
    /* HTTPS: the collector is verified (libcurl's default, stated here so it
     * cannot be lost), against the configured CA bundle if there is one */
    ok = ok && libcurl.easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK;
    ok = ok && libcurl.easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK;
    if (o->ca_file && o->ca_file[0])
        ok = ok && libcurl.easy_setopt(h, CURLOPT_CAINFO, o->ca_file) == CURLE_OK;
    if (o->client_certificate && o->client_certificate[0])
        ok = ok && libcurl.easy_setopt(h, CURLOPT_SSLCERT, o->client_certificate) == CURLE_OK;
    if (o->client_key && o->client_key[0])
        ok = ok && libcurl.easy_setopt(h, CURLOPT_SSLKEY, o->client_key) == CURLE_OK;
    if (o->timeout_ms > 0) {
        ok = ok && libcurl.easy_setopt(h, CURLOPT_TIMEOUT_MS, o->timeout_ms) == CURLE_OK;
        ok = ok && libcurl.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, o->timeout_ms) == CURLE_OK;
    }
    return ok;
}

bool oa_curl_transport_open(struct oa_curl_transport *t, struct curl_slist *headers,
                            const struct oa_curl_options *o)
{
    t->headers = headers;
    t->http2 = o->http2;
    t->curl = curl_easy_init();
    return t->curl && t->headers && set_options(t, o);
}

/* libcurl 7.88 fails every request on a reused HTTP/2 connection to a
 * gRPC server (grpc-core's, at least) with CURLE_HTTP2 before sending it:
 * the server never sees it. Such a request is made again on a new
 * connection; a libcurl without the fault keeps its connections. */
static bool reused_http2_connection_failed(struct oa_curl_transport *t, CURLcode rc)
{
    long connects = -1;

    if (!t->http2 || rc != CURLE_HTTP2)
        return false;
    return curl_easy_getinfo(t->curl, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK && connects == 0;
}

CURLcode oa_curl_transport_post(struct oa_curl_transport *t, const void *data, size_t len, long *status)
{
    t->curl_error[0] = '\0';
    *status = 0;
    libcurl.easy_setopt(t->curl, CURLOPT_POSTFIELDS, (const char *)data);
    libcurl.easy_setopt(t->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    CURLcode rc = libcurl.easy_perform(t->curl);
    if (reused_http2_connection_failed(t, rc)) {
        t->curl_error[0] = '\0';
        libcurl.easy_setopt(t->curl, CURLOPT_FRESH_CONNECT, 1L);
        rc = libcurl.easy_perform(t->curl);
        libcurl.easy_setopt(t->curl, CURLOPT_FRESH_CONNECT, 0L);
    }
    /* libcurl must not keep a pointer to the caller's body. */
    libcurl.easy_setopt(t->curl, CURLOPT_POSTFIELDS, NULL);
    if (rc == CURLE_OK)
        curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, status);
    return rc;
}

void oa_curl_transport_close(struct oa_curl_transport *t)
{
    if (t->curl)
        libcurl.easy_cleanup(t->curl);
    t->curl = NULL;
    curl_slist_free_all(t->headers);
    t->headers = NULL;
}

bool oa_curl_error_is_transient(CURLcode rc)
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

void oa_otlp_env_log(const struct oa_otlp_env *env, int level, const char *fmt, ...)
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
