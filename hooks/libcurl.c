/* Interposition of libcurl's easy and multi interfaces: one CLIENT span per
 * transfer, whatever the protocol version (HTTP/1.1, 2, 3) and whether or not
 * it is encrypted, with the trace headers handed to libcurl as request
 * headers, so they travel inside TLS and inside HTTP/2 frames alike.
 *
 * The program's header list (CURLOPT_HTTPHEADER) is never touched: while a
 * transfer runs, libcurl is given a private copy with the trace headers
 * appended, and the program's own list is set back when the transfer ends.
 * That needs to know the program's list, so curl_easy_setopt is interposed
 * to remember it (and curl_easy_reset, _duphandle and _cleanup to keep that
 * record right).
 *
 * While libcurl moves bytes on a thread (curl_easy_perform,
 * curl_multi_perform, curl_multi_socket_action), oa_in_traced_transfer tells
 * the TLS and socket hooks that the connections they would start tracing are
 * traced here: one request, one span.
 *
 * Nothing here runs unless the program calls libcurl, and nothing is loaded:
 * the real functions are looked up in the libcurl the program has, at the
 * first call (sys/real_libcurl.h). Our own exporter calls libcurl's functions
 * directly, never these hooks (src/export/otlp/otlp_exporter.c); should a
 * call come from one of our threads all the same (oa_in_library), it passes
 * through. */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "export/batch_processor.h"
#include "base/guard.h"
#include "protocols/http1/http_metrics.h"
#include "protocols/http1/http_span.h"
#include "config/config.h"
#include "lifecycle/library.h"
#include "trace/propagation.h"
#include "trace/traceparent.h"
#include "sys/real_library.h"
#include "sys/real_libcurl.h"
#include "trace/span.h"
#include "trace/span_start.h"
#include "trace/thread_context.h"

static pthread_once_t bind_once = PTHREAD_ONCE_INIT;

/* ---- what we know of each easy handle ---- */

/* A handle is recorded once the program sets its URL or header list, until
 * curl_easy_cleanup or curl_easy_reset. */
struct handle_record {
    CURL *handle;
    bool http;                          /* its URL is http:// or https:// */
    struct curl_slist *program_headers; /* what the program set, may be NULL */
    bool asked_http10;                  /* CURLOPT_HTTP_VERSION is 1.0: libcurl
                                           reports the response's version instead */
    bool running;                       /* a traced transfer is in progress */
    struct curl_slist *ours;            /* libcurl's copy with trace headers */
    struct oa_span *span;               /* NULL when not sampled */
    uint64_t start;                     /* unix ns the traced transfer began */
    struct handle_record *next;
};

#define BUCKETS 1024
static struct handle_record *buckets[BUCKETS];
/* Held only around the table, never across a libcurl call. */
static int table_lock;

static void lock_table(void)
{
    while (__atomic_exchange_n(&table_lock, 1, __ATOMIC_ACQUIRE) != 0)
        sched_yield();
}

static void unlock_table(void)
{
    __atomic_store_n(&table_lock, 0, __ATOMIC_RELEASE);
}

/* a fork while another thread held the table: the child's copy is consistent
 * enough (each update is a few pointer stores), only the lock must go */
static void atfork_child(void)
{
    table_lock = 0;
}

static struct handle_record **slot_of(CURL *h)
{
    uintptr_t k = (uintptr_t)h;
    k ^= k >> 17;
    k *= 0x9e3779b97f4a7c15ull;
    return &buckets[(k >> 40) % BUCKETS];
}

/* With the table locked: the record of h, created if `create`. */
static struct handle_record *find(CURL *h, bool create)
{
    struct handle_record **slot = slot_of(h);
    for (struct handle_record *r = *slot; r != NULL; r = r->next)
        if (r->handle == h)
            return r;
    if (!create)
        return NULL;
    struct handle_record *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->handle = h;
    r->next = *slot;
    *slot = r;
    return r;
}

/* With the table locked: forgets h (its record must not be running). */
static void forget(CURL *h)
{
    for (struct handle_record **p = slot_of(h); *p != NULL; p = &(*p)->next) {
        if ((*p)->handle == h) {
            struct handle_record *r = *p;
            *p = r->next;
            free(r);
            return;
        }
    }
}

static void bind_all(void)
{
    int saved = errno;
    oa_in_library++;
    oa_libcurl_bind();
    oa_library_on_fork_child(OA_FORK_CHILD_LIBCURL, atfork_child);
    oa_in_library--;
    errno = saved;
}

static inline void bind_real(void)
{
    pthread_once(&bind_once, bind_all);
}

/* Transfers of this call are ours to trace. */
static bool tracing(void)
{
    if (oa_in_library || !oa_library_ready() || oa_libcurl.easy_getinfo == NULL || oa_libcurl.slist_append == NULL ||
        oa_libcurl.slist_free_all == NULL || oa_libcurl.easy_setopt == NULL)
        return false;
    oa_library_configure(); /* the configuration is read at the first connection: this is one */
    return true;
}

/* ---- a traced transfer ---- */

static bool has_header(const struct curl_slist *l, const char *name, const char **value)
{
    size_t n = strlen(name);
    for (; l != NULL; l = l->next) {
        if (l->data != NULL && strncasecmp(l->data, name, n) == 0 && (l->data[n] == ':' || l->data[n] == ';')) {
            if (value != NULL) {
                const char *v = l->data + n + 1;
                while (*v == ' ' || *v == '\t')
                    v++;
                *value = v;
            }
            return true;
        }
    }
    return false;
}

static struct curl_slist *append_line(struct curl_slist *list, bool *ok, const char *name, const char *value)
{
    if (!*ok)
        return list;
    size_t len = strlen(name) + strlen(value) + 3;
    char *line = malloc(len);
    if (line == NULL) {
        *ok = false;
        return list;
    }
    snprintf(line, len, "%s: %s", name, value);
    struct curl_slist *grown = oa_libcurl.slist_append(list, line);
    free(line);
    if (grown == NULL)
        *ok = false;
    return grown != NULL ? grown : list;
}

/* Whether the program's list has a header whose name begins with prefix
 * (lowercase) and goes on. */
static bool has_header_prefix(const struct curl_slist *l, const char *prefix)
{
    size_t n = strlen(prefix);
    for (; l != NULL; l = l->next) {
        if (l->data != NULL && strncasecmp(l->data, prefix, n) == 0 && l->data[n] != '\0' && l->data[n] != ':' &&
            l->data[n] != ';')
            return true;
    }
    return false;
}

/* What the program's list carries of the headers the context propagators
 * read (the values' ends are the strings' ends). */
static void context_headers_of(const struct curl_slist *program, struct oa_context_headers *ch)
{
    for (int i = 0; i < OA_CH_N; i++) {
        const char *v = NULL;
        ch->count[i] = has_header(program, oa_context_header_names[i], &v) ? 1 : 0;
        ch->value[i] = v;
        ch->len[i] = v != NULL ? strlen(v) : 0;
    }
}

/* Appends the "Name: value\r\n" lines of the other configured propagators
 * (oa_propagation_other_lines), one list entry each. */
static struct curl_slist *append_other_lines(struct curl_slist *list, bool *ok, const struct oa_span_context *own,
                                             const char *jaeger_baggage)
{
    size_t n = oa_propagation_other_lines(own, jaeger_baggage, NULL);
    char *lines = *ok && n > 0 ? malloc(n + 1) : NULL;
    if (lines == NULL) {
        *ok = *ok && n == 0;
        return list;
    }
    oa_propagation_other_lines(own, jaeger_baggage, lines);
    lines[n] = '\0';
    for (char *l = lines; *ok && *l != '\0';) {
        char *crlf = strstr(l, "\r\n");
        *crlf = '\0';
        struct curl_slist *grown = oa_libcurl.slist_append(list, l);
        if (grown == NULL)
            *ok = false;
        else
            list = grown;
        l = crlf + 2;
    }
    free(lines);
    return list;
}

/* The program's list plus our header lines, or NULL. */
static struct curl_slist *with_trace_headers(const struct curl_slist *program, const struct oa_span_context *own,
                                             const char *tracestate, const char *baggage)
{
    struct curl_slist *list = NULL;
    bool ok = true;
    for (const struct curl_slist *l = program; l != NULL && ok; l = l->next) {
        struct curl_slist *grown = oa_libcurl.slist_append(list, l->data);
        if (grown == NULL)
            ok = false;
        else
            list = grown;
    }
    if (oa_config_propagates(&oa_config, OA_PROPAGATOR_TRACECONTEXT)) {
        char tp[OA_TRACEPARENT_LEN + 1];
        oa_traceparent_format(own, tp);
        list = append_line(list, &ok, "traceparent", tp);
        if (tracestate != NULL && tracestate[0] != '\0' && !has_header(program, "tracestate", NULL))
            list = append_line(list, &ok, "tracestate", tracestate);
    }
    if (oa_config_propagates(&oa_config, OA_PROPAGATOR_BAGGAGE) && baggage != NULL && baggage[0] != '\0' &&
        !has_header(program, "baggage", NULL))
        list = append_line(list, &ok, "baggage", baggage);
    if (oa_config_propagates_other_formats(&oa_config))
        list = append_other_lines(list, &ok, own, has_header_prefix(program, "uberctx-") ? NULL : baggage);
    if (!ok) {
        oa_libcurl.slist_free_all(list);
        return NULL;
    }
    return list;
}

/* A transfer of h starts: its span, and libcurl's copy of the headers.
 * Returns false when the transfer is not traced here. */
static bool transfer_begin(CURL *h)
{
    lock_table();
    struct handle_record *r = find(h, false);
    /* only HTTP: for SMTP and IMAP the header list is the mail's MIME head */
    bool already = r == NULL || r->running || !r->http;
    struct curl_slist *program = r != NULL ? r->program_headers : NULL;
    if (!already)
        r->running = true;
    unlock_table();
    if (already)
        return false;

    struct oa_span_context parent_sc;
    const struct oa_span_context *parent = NULL;
    const char *tracestate = NULL, *baggage = NULL;
    const char *own_tp = NULL;
    bool propagates = has_header(program, "traceparent", &own_tp);
    /* or by a header of another configured format */
    struct oa_context_headers own_ch;
    bool own_other = false;
    if (!propagates && oa_config_propagates_other_formats(&oa_config)) {
        context_headers_of(program, &own_ch);
        own_other = oa_propagation_other_present(&own_ch);
    }
    if (propagates) {
        /* the program propagates by itself: its headers are left alone and
         * our span joins the trace they name */
        if (oa_traceparent_parse(own_tp, strlen(own_tp), &parent_sc)) {
            parent_sc.remote = false;
            parent = &parent_sc;
        }
    } else if (own_other) {
        propagates = true;
        if (oa_propagation_extract(&own_ch, &parent_sc) >= 0) {
            parent_sc.remote = false;
            parent = &parent_sc;
        }
    } else if (oa_thread_context_parent(&parent_sc, &tracestate, &baggage)) {
        parent = &parent_sc;
    }
    struct oa_span_context own;
    bool sampled = oa_span_context_start(&own, parent);
    uint64_t start = oa_now_unix_nano();
    struct oa_span *span = sampled ? oa_span_begin(OA_SPAN_KIND_CLIENT, &own, parent, start, tracestate) : NULL;
    struct curl_slist *ours = NULL;
    if (!propagates && oa_config.propagators != 0) {
        ours = with_trace_headers(program, &own, tracestate, baggage);
        if (ours != NULL && oa_libcurl.easy_setopt(h, CURLOPT_HTTPHEADER, ours) != CURLE_OK) {
            oa_libcurl.slist_free_all(ours);
            ours = NULL;
        }
    }
    lock_table();
    r = find(h, false);
    if (r != NULL) {
        r->ours = ours;
        r->span = span;
        r->start = start;
        ours = NULL;
        span = NULL;
    }
    unlock_table();
    /* the record vanished (cleanup from another thread): nothing to keep */
    oa_span_free(span);
    if (ours != NULL)
        oa_libcurl.slist_free_all(ours);
    return true;
}

static const char *curl_error_type(CURLcode rc)
{
    switch (rc) {
    case CURLE_UNSUPPORTED_PROTOCOL: return "CURLE_UNSUPPORTED_PROTOCOL";
    case CURLE_URL_MALFORMAT: return "CURLE_URL_MALFORMAT";
    case CURLE_COULDNT_RESOLVE_PROXY: return "CURLE_COULDNT_RESOLVE_PROXY";
    case CURLE_COULDNT_RESOLVE_HOST: return "CURLE_COULDNT_RESOLVE_HOST";
    case CURLE_COULDNT_CONNECT: return "CURLE_COULDNT_CONNECT";
    case CURLE_HTTP2: return "CURLE_HTTP2";
    case CURLE_PARTIAL_FILE: return "CURLE_PARTIAL_FILE";
    case CURLE_HTTP_RETURNED_ERROR: return "CURLE_HTTP_RETURNED_ERROR";
    case CURLE_WRITE_ERROR: return "CURLE_WRITE_ERROR";
    case CURLE_OPERATION_TIMEDOUT: return "CURLE_OPERATION_TIMEDOUT";
    case CURLE_SSL_CONNECT_ERROR: return "CURLE_SSL_CONNECT_ERROR";
    case CURLE_ABORTED_BY_CALLBACK: return "CURLE_ABORTED_BY_CALLBACK";
    case CURLE_TOO_MANY_REDIRECTS: return "CURLE_TOO_MANY_REDIRECTS";
    case CURLE_GOT_NOTHING: return "CURLE_GOT_NOTHING";
    case CURLE_SEND_ERROR: return "CURLE_SEND_ERROR";
    case CURLE_RECV_ERROR: return "CURLE_RECV_ERROR";
    case CURLE_PEER_FAILED_VERIFICATION: return "CURLE_PEER_FAILED_VERIFICATION";
    case CURLE_SSL_CACERT_BADFILE: return "CURLE_SSL_CACERT_BADFILE";
    case CURLE_HTTP2_STREAM: return "CURLE_HTTP2_STREAM";
    case CURLE_HTTP3: return "CURLE_HTTP3";
    default: return "CURLE_OTHER";
    }
}

static uint8_t protocol_version(long v)
{
    switch (v) {
    case CURL_HTTP_VERSION_1_0: return OA_METRIC_HTTP_1_0;
    case CURL_HTTP_VERSION_1_1: return OA_METRIC_HTTP_1_1;
    case CURL_HTTP_VERSION_2_0: return OA_METRIC_HTTP_2;
    case CURL_HTTP_VERSION_3: return OA_METRIC_HTTP_3;
    default: return OA_METRIC_NO_VERSION;
    }
}

/* What libcurl says about a finished transfer. */
struct transfer_outcome {
    const char *method;
    const char *url;         /* NULL if libcurl does not say */
    const char *error;       /* error.type, or NULL */
    long status;             /* 0: no response */
    uint8_t protocol;        /* enum oa_metric_protocol */
};

static void read_outcome(struct transfer_outcome *o, CURL *h, const char *error)
{
    char *method = NULL, *url = NULL;
    long version = 0;
    if (oa_libcurl.easy_getinfo(h, CURLINFO_EFFECTIVE_METHOD, &method) != CURLE_OK || method == NULL)
        method = "GET";
    o->method = method;
    o->url = oa_libcurl.easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK ? url : NULL;
    o->protocol = oa_libcurl.easy_getinfo(h, CURLINFO_HTTP_VERSION, &version) == CURLE_OK ? protocol_version(version)
                                                                                    : OA_METRIC_NO_VERSION;
    if (oa_libcurl.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &o->status) != CURLE_OK)
        o->status = 0;
    if (error == NULL && o->status == 0)
        error = "CURLE_GOT_NOTHING";
    o->error = error;
}

/* The span's attributes, from the outcome and the peer libcurl used. */
static void describe(struct oa_span *s, CURL *h, const struct transfer_outcome *o)
{
    char *ip = NULL;
    long port = 0;
    oa_http_span_set_method(s, o->method, strlen(o->method));
    if (o->url != NULL)
        oa_http_span_client_url(s, o->url, strlen(o->url));
    if (oa_libcurl.easy_getinfo(h, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip != NULL && ip[0] != '\0') {
        oa_span_attr_str(s, "network.peer.address", ip, strlen(ip));
        if (oa_libcurl.easy_getinfo(h, CURLINFO_PRIMARY_PORT, &port) == CURLE_OK && port > 0)
            oa_span_attr_int(s, "network.peer.port", port);
    }
    const char *version = oa_metric_protocol_text(o->protocol);
    if (version != NULL)
        oa_span_attr_str(s, "network.protocol.version", version, strlen(version));
    oa_http_span_finish(s, (int)o->status, o->error);
}

/* A transfer of h ended with rc (or was abandoned: error "aborted"): the
 * program's header list goes back, the span is finished. */
static void transfer_end(CURL *h, const char *error)
{
    lock_table();
    struct handle_record *r = find(h, false);
    if (r == NULL || !r->running) {
        unlock_table();
        return;
    }
    struct curl_slist *program = r->program_headers;
    struct curl_slist *ours = r->ours;
    struct oa_span *span = r->span;
    uint64_t start = r->start;
    bool asked_http10 = r->asked_http10;
    r->running = false;
    r->ours = NULL;
    r->span = NULL;
    unlock_table();
    if (ours != NULL) {
        oa_libcurl.easy_setopt(h, CURLOPT_HTTPHEADER, program);
        oa_libcurl.slist_free_all(ours);
    }
    if (start == 0 && span == NULL)
        return;
    struct transfer_outcome o;
    read_outcome(&o, h, error);
    if (asked_http10 && o.protocol == OA_METRIC_HTTP_1_1)
        o.protocol = OA_METRIC_HTTP_1_0;
    /* every transfer that ran counts in the metrics, sampled or not */
    if (start != 0)
        oa_http_metrics_client_request(o.method, strlen(o.method), o.url ? o.url : "", o.url ? strlen(o.url) : 0,
                                       o.protocol, (int)o.status, o.error, start);
    if (span != NULL) {
        describe(span, h, &o);
        oa_export_submit(span);
    }
}

static const char *error_of(CURLcode rc)
{
    return rc == CURLE_OK ? NULL : curl_error_type(rc);
}


/* ---- the easy interface ---- */

/* EXPORTER_CALLS_ITS_OWN for the functions that return nothing. */
static bool exporter_calls_its_own(void **own, const char *name, CURL *h)
{
    if (__builtin_expect(!oa_in_library, 1))
        return false;
    void (*f)(CURL *) = (void (*)(CURL *))oa_exporter_symbol(own, name);
    if (f == NULL)
        return false;
    f(h);
    return true;
}

static bool is_http_url(const char *url)
{
    return url != NULL && (strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0);
}

/* Forwarding one argument of unknown type as a pointer is exact only where
 * long, pointers and curl_off_t have one size and one calling convention. */
_Static_assert(sizeof(void *) == sizeof(long) && sizeof(void *) == sizeof(curl_off_t),
               "curl_easy_setopt forwarding assumes an LP64 ABI");

OA_EXPORT CURLcode curl_easy_setopt(CURL *h, CURLoption option, ...)
{
    va_list ap;
    va_start(ap, option);
    /* every option takes one long, pointer, curl_off_t or function pointer:
     * all passed alike, as one integer-class register or stack slot */
    void *arg = va_arg(ap, void *);
    va_end(ap);
    EXPORTER_CALLS_ITS_OWN("curl_easy_setopt", CURLcode (*)(CURL *, CURLoption, ...), h, option, arg);
    bind_real();
    if (oa_libcurl.easy_setopt == NULL)
        return CURLE_FAILED_INIT;
    if ((option != CURLOPT_HTTPHEADER && option != CURLOPT_URL && option != CURLOPT_HTTP_VERSION) ||
        oa_in_library)
        return oa_libcurl.easy_setopt(h, option, arg);
    if (option == CURLOPT_HTTP_VERSION) {
        bool http10 = (long)arg == CURL_HTTP_VERSION_1_0;
        lock_table();
        struct handle_record *r = find(h, true);
        if (r != NULL)
            r->asked_http10 = http10;
        unlock_table();
        return oa_libcurl.easy_setopt(h, option, arg);
    }
    lock_table();
    struct handle_record *r = find(h, true);
    bool running = r != NULL && r->running;
    if (r != NULL && option == CURLOPT_URL)
        r->http = is_http_url(arg);
    else if (r != NULL)
        r->program_headers = arg;
    unlock_table();
    if (option == CURLOPT_URL)
        return oa_libcurl.easy_setopt(h, option, arg);
    /* set during a traced transfer, the program's list would replace ours:
     * it is recorded, and libcurl gets it back when the transfer ends */
    if (running)
        return CURLE_OK;
    return oa_libcurl.easy_setopt(h, option, arg);
}

OA_EXPORT CURLcode curl_easy_perform(CURL *h)
{
    EXPORTER_CALLS_ITS_OWN("curl_easy_perform", CURLcode (*)(CURL *), h);
    bind_real();
    if (oa_libcurl.easy_perform == NULL)
        return CURLE_FAILED_INIT;
    if (!tracing() || !transfer_begin(h))
        return oa_libcurl.easy_perform(h);
    oa_in_traced_transfer++;
    CURLcode rc = oa_libcurl.easy_perform(h);
    oa_in_traced_transfer--;
    int saved = errno;
    transfer_end(h, error_of(rc));
    errno = saved;
    return rc;
}

/* The program resets or frees h: a transfer still running on it is cut
 * short, and what we knew of the handle goes. */
static void handle_forgotten(CURL *h)
{
    if (oa_in_library)
        return;
    transfer_end(h, "aborted");
    lock_table();
    forget(h);
    unlock_table();
}

OA_EXPORT void curl_easy_reset(CURL *h)
{
    static void *own;
    if (exporter_calls_its_own(&own, "curl_easy_reset", h))
        return;
    bind_real();
    if (oa_libcurl.easy_reset == NULL)
        return;
    handle_forgotten(h);
    oa_libcurl.easy_reset(h);
}

OA_EXPORT void curl_easy_cleanup(CURL *h)
{
    static void *own;
    if (exporter_calls_its_own(&own, "curl_easy_cleanup", h))
        return;
    bind_real();
    if (oa_libcurl.easy_cleanup == NULL)
        return;
    handle_forgotten(h);
    oa_libcurl.easy_cleanup(h);
}

OA_EXPORT CURL *curl_easy_duphandle(CURL *h)
{
    EXPORTER_CALLS_ITS_OWN("curl_easy_duphandle", CURL *(*)(CURL *), h);
    bind_real();
    if (oa_libcurl.easy_duphandle == NULL)
        return NULL;
    CURL *copy = oa_libcurl.easy_duphandle(h);
    if (copy == NULL || oa_in_library)
        return copy;
    lock_table();
    struct handle_record *r = find(h, false);
    struct curl_slist *program = r != NULL ? r->program_headers : NULL;
    bool running = r != NULL && r->running;
    if (r != NULL) {
        bool http = r->http;
        bool asked_http10 = r->asked_http10;
        struct handle_record *c = find(copy, true);
        if (c != NULL) {
            c->program_headers = program;
            c->http = http;
            c->asked_http10 = asked_http10;
        }
    }
    unlock_table();
    /* duplicated mid-transfer, the copy holds our list: give it the program's */
    if (running)
        oa_libcurl.easy_setopt(copy, CURLOPT_HTTPHEADER, program);
    return copy;
}

/* ---- the multi interface ---- */

OA_EXPORT CURLMcode curl_multi_add_handle(CURLM *m, CURL *h)
{
    EXPORTER_CALLS_ITS_OWN("curl_multi_add_handle", CURLMcode (*)(CURLM *, CURL *), m, h);
    bind_real();
    if (oa_libcurl.multi_add_handle == NULL)
        return CURLM_INTERNAL_ERROR;
    if (!tracing() || h == NULL || !transfer_begin(h))
        return oa_libcurl.multi_add_handle(m, h);
    CURLMcode rc = oa_libcurl.multi_add_handle(m, h);
    if (rc != CURLM_OK) {
        int saved = errno;
        /* not added: no transfer, no span */
        lock_table();
        struct handle_record *r = find(h, false);
        struct oa_span *span = NULL;
        if (r != NULL && r->running) {
            span = r->span;
            r->span = NULL;
            r->start = 0; /* nor a duration */
        }
        unlock_table();
        oa_span_free(span);
        transfer_end(h, NULL);
        errno = saved;
    }
    return rc;
}

OA_EXPORT CURLMcode curl_multi_perform(CURLM *m, int *running)
{
    EXPORTER_CALLS_ITS_OWN("curl_multi_perform", CURLMcode (*)(CURLM *, int *), m, running);
    bind_real();
    if (oa_libcurl.multi_perform == NULL)
        return CURLM_INTERNAL_ERROR;
    oa_in_traced_transfer++;
    CURLMcode rc = oa_libcurl.multi_perform(m, running);
    oa_in_traced_transfer--;
    return rc;
}

OA_EXPORT CURLMcode curl_multi_socket_action(CURLM *m, curl_socket_t s, int ev_bitmask, int *running)
{
    EXPORTER_CALLS_ITS_OWN("curl_multi_socket_action", CURLMcode (*)(CURLM *, curl_socket_t, int, int *), m, s,
                           ev_bitmask, running);
    bind_real();
    if (oa_libcurl.multi_socket_action == NULL)
        return CURLM_INTERNAL_ERROR;
    oa_in_traced_transfer++;
    CURLMcode rc = oa_libcurl.multi_socket_action(m, s, ev_bitmask, running);
    oa_in_traced_transfer--;
    return rc;
}

OA_EXPORT CURLMsg *curl_multi_info_read(CURLM *m, int *msgs_in_queue)
{
    EXPORTER_CALLS_ITS_OWN("curl_multi_info_read", CURLMsg *(*)(CURLM *, int *), m, msgs_in_queue);
    bind_real();
    if (oa_libcurl.multi_info_read == NULL)
        return NULL;
    CURLMsg *msg = oa_libcurl.multi_info_read(m, msgs_in_queue);
    if (msg != NULL && msg->msg == CURLMSG_DONE && !oa_in_library) {
        int saved = errno;
        transfer_end(msg->easy_handle, error_of(msg->data.result));
        errno = saved;
    }
    return msg;
}

OA_EXPORT CURLMcode curl_multi_remove_handle(CURLM *m, CURL *h)
{
    EXPORTER_CALLS_ITS_OWN("curl_multi_remove_handle", CURLMcode (*)(CURLM *, CURL *), m, h);
    bind_real();
    if (oa_libcurl.multi_remove_handle == NULL)
        return CURLM_INTERNAL_ERROR;
    if (!oa_in_library) {
        int saved = errno;
        /* removed before its completion was read: finished or abandoned,
         * the span says what libcurl knows */
        transfer_end(h, NULL);
        errno = saved;
    }
    return oa_libcurl.multi_remove_handle(m, h);
}

/* Every exported function here matches its entry in the list of interposed
 * symbols (sys/interposed.def), from which the real table is made. */
#define OA_LIBCURL(name, field, ret, params, args) \
    _Static_assert(__builtin_types_compatible_p(__typeof__(&name), ret(*) params), #name " as listed");
#define OA_LIBCURL_VARARGS(name, field, ret, params) \
    _Static_assert(__builtin_types_compatible_p(__typeof__(&name), ret(*) params), #name " as listed");
#include "sys/interposed.def"
